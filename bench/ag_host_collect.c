/* ag_host_collect — the CPU one ag_host_collect() costs on this machine,
 * and one collect + render (what a scrape of agentd costs), for
 * bench/ag_host.sh to set next to prometheus-node-exporter's.
 *
 *	ag_host_collect [rounds [daemon ...]]
 *	ag_host_collect -p	print one collect's exposition and exit
 *
 * Prints "collect_ms X", "scrape_ms Y", "rss_kb Z" and the duration of
 * each collector in the last round. */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "ag_host.h"

/* The bench programs link libstackd only: the collectors come in here. */
#include "../agentd/ag_host.c"
#include "../agentd/ag_host_proc.c"

static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char *argv[])
{
	static const char *const none[] = { "lbd", "fwd", "webd", "dbrouter",
	    "agentd", NULL };
	struct ag_host_opts o = { "/proc", "/sys", none };
	struct metrics	*m;
	struct ag_host	*h;
	struct rusage	 ru;
	struct buf	 b;
	char		 err[256];
	const char	*p, *q;
	double		 c0, c1, c2;
	int		 i, n = argc > 1 ? atoi(argv[1]) : 1000, dump;

	dump = argc > 1 && strcmp(argv[1], "-p") == 0;
	if (n <= 0)
		n = 1000;
	if (argc > 2 && !dump)
		o.daemons = (const char *const *)argv + 2;
	if ((m = metrics_new("")) == NULL ||
	    (h = ag_host_new(m, &o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ag_host_new: %s\n", err);
		return 1;
	}
	buf_init(&b, 64 * 1024 * 1024);
	if (ag_host_collect(h, err, sizeof(err)) == -1)
		fprintf(stderr, "%s\n", err);
	if (dump) {
		metrics_render(m, &b);
		fwrite(buf_head(&b), 1, buf_used(&b), stdout);
		return 0;
	}
	c0 = cpu_now();
	for (i = 0; i < n; i++)
		ag_host_collect(h, err, sizeof(err));
	c1 = cpu_now();
	for (i = 0; i < n; i++) {
		ag_host_collect(h, err, sizeof(err));
		buf_reset(&b);
		metrics_render(m, &b);
	}
	c2 = cpu_now();
	getrusage(RUSAGE_SELF, &ru);
	printf("collect_ms %.3f\nscrape_ms %.3f\nrss_kb %ld\nbytes %zu\n",
	    (c1 - c0) * 1000 / n, (c2 - c1) * 1000 / n, ru.ru_maxrss,
	    buf_used(&b));
	for (p = buf_cstr(&b); (p = strstr(p,
	    "\nnode_scrape_collector_duration_seconds{")) != NULL; p = q) {
		p++;
		q = strchr(p, '\n');
		printf("%.*s\n", (int)(q - p), p);
	}
	ag_host_free(h);
	metrics_free(m);
	buf_free(&b);
	return 0;
}
