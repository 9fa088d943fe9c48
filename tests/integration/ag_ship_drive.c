/* ag_ship_drive — runs agentd's shipper (ag_ship) on its own event loop
 * for the integration tests, until agentd wires it up itself.
 *
 *	ag_ship_drive -c CONF -s SPOOLDIR [-H HOST] [-l LOGS] [-k CATS]
 *	    [-L LEN] [-m BATCHES] [-a ACKS] [-q] [-t SECS] [-M FILE]
 *
 * CONF holds one `output NAME { ... }` block. Queues LOGS log lines
 * ("cat<C> line-<NNNNNNN> xxx...", about LEN bytes, category
 * "test/cat<C>", C changing every 100 lines over CATS categories) and
 * BATCHES metric batches (10 Prometheus lines each, `drv_metric{batch=
 * "B",n="N"} B TS`), then runs the loop until the spool is empty and
 * prints the status line. -q: queue, sync and exit without sending.
 * -a ACKS: exit abruptly (no cleanup, as a crash would) after ACKS
 * requests were answered 2xx. -t: give up after SECS (exit 2). SIGHUP
 * reads CONF again and hands it to ag_ship_reload. -M: write the metrics
 * registry (Prometheus text) to FILE at the end. */
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ev.h"
#include "log.h"
#include "metrics.h"
#include "ag_ship_int.h"

struct drv_conf {
	struct ag_output_conf *outputs;
};

static const struct conf_directive drv_directives[] = {
	{ "output", 1, 1, CONF_BLOCK_REQUIRED, 0, ag_conf_output,
	    offsetof(struct drv_conf, outputs), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

/* Parse the output block of path; NULL and the errors logged. */
static struct ag_output_conf *
load(const char *path)
{
	struct conf_doc	*doc;
	struct conf_ctx	 ctx;
	struct drv_conf	 dc = { 0 };
	char		 err[512];
	int		 rc;

	if (conf_parse_file(path, &doc, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return NULL;
	}
	conf_ctx_init(&ctx, 0, NULL);
	rc = conf_apply(&ctx, conf_doc_root(doc), drv_directives, &dc);
	if (rc == -1 || dc.outputs == NULL) {
		log_warnx("configuration refused: %s", conf_errors(&ctx));
		ag_output_conf_free(dc.outputs);
		dc.outputs = NULL;
	}
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
	return dc.outputs;
}

struct hup {
	const char	*path;
	struct ag_ship	*ship;
};

static void
on_hup(struct ev_loop *loop, int signo, void *arg)
{
	struct hup	*h = arg;
	struct ag_output_conf *o;
	char		 err[512];

	if ((o = load(h->path)) == NULL)
		return;
	if (ag_ship_reload(h->ship, o, err, sizeof(err)) == -1)
		log_warnx("reload: %s", err);
	else
		log_info("reloaded %s", h->path);
	ag_output_conf_free(o);
}

static double
acks(struct metrics *reg, const char *name)
{
	struct metric	*f = metrics_find(reg, "ship_requests_total");
	const char	*v[] = { name, "2xx", NULL };

	return f ? metric_value(metric_with(f, v)) : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ag_ship_drive -c conf -s spooldir [-H host] "
	    "[-l logs] [-k cats] [-L len] [-m batches] [-a acks] [-q] "
	    "[-t secs]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*conf_path = NULL, *spool = NULL, *host = "drive-host";
	const char	*metrics_out = NULL;
	FILE		*fp;
	long		 nlogs = 0, ncats = 1, len = 60, nmetrics = 0, nacks = 0;
	long		 secs = 60, i, j;
	bool		 queue_only = false;
	struct ag_output_conf *outputs;
	struct hup	 hup;
	struct ev_loop	*loop;
	struct metrics	*reg;
	struct ag_ship	*s;
	struct buf	 b;
	struct timeval	 tv;
	char		 err[512], line[8192];
	uint64_t	 deadline, ts;
	long		 dropped = 0;
	int		 c, rc = 0, n;

	while ((c = getopt(argc, argv, "c:s:H:l:k:L:m:a:qt:M:")) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 's': spool = optarg; break;
		case 'H': host = optarg; break;
		case 'l': nlogs = atol(optarg); break;
		case 'k': ncats = atol(optarg); break;
		case 'L': len = atol(optarg); break;
		case 'm': nmetrics = atol(optarg); break;
		case 'a': nacks = atol(optarg); break;
		case 'q': queue_only = true; break;
		case 't': secs = atol(optarg); break;
		case 'M': metrics_out = optarg; break;
		default: usage();
		}
	}
	if (conf_path == NULL || spool == NULL || ncats < 1 || len < 30 ||
	    len > 4000)
		usage();
	log_init("ag_ship_drive", 1, 0);
	signal(SIGPIPE, SIG_IGN);	/* as service_main does */
	if ((outputs = load(conf_path)) == NULL)
		exit(1);
	if ((loop = ev_new()) == NULL || (reg = metrics_new("stackd_agentd_"))
	    == NULL)
		fatalx("ev_new/metrics_new");
	if ((s = ag_ship_new(loop, outputs, spool, host, reg, err,
	    sizeof(err))) == NULL)
		fatalx("ag_ship_new: %s", err);
	hup.path = conf_path;
	hup.ship = s;
	if (ev_signal(loop, SIGHUP, on_hup, &hup) == -1)
		fatal("ev_signal");

	for (i = 0; i < nlogs; i++) {
		long cat = (i / 100) % ncats, want = len + i % 50;

		n = snprintf(line, sizeof(line), "cat%ld line-%07ld ", cat, i);
		while (n < want && n < (int)sizeof(line) - 1)
			line[n++] = 'x';
		snprintf(err, sizeof(err), "test/cat%ld", cat);
		if (ag_ship_log(s, err, line, (size_t)n) == -1)
			dropped++;
	}
	buf_init(&b, 1 << 20);
	gettimeofday(&tv, NULL);
	ts = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	for (i = 0; i < nmetrics; i++) {
		buf_reset(&b);
		for (j = 0; j < 10; j++)
			buf_printf(&b, "drv_metric{batch=\"%ld\",n=\"%ld\"} "
			    "%ld %" PRIu64 "\n", i, j, i, ts);
		if (ag_ship_metrics(s, buf_head(&b), buf_used(&b)) == -1)
			dropped++;
	}
	buf_free(&b);
	if (ag_ship_sync(s, err, sizeof(err)) == -1)
		fatalx("sync: %s", err);
	printf("queued: dropped %ld\n", dropped);
	fflush(stdout);
	if (!queue_only) {
		deadline = ev_now(loop) + (uint64_t)secs * 1000;
		while (ag_ship_pending(s) > 0) {
			if (ev_now(loop) >= deadline) {
				rc = 2;
				break;
			}
			if (ev_run_once(loop, 100) == -1)
				fatal("ev_run_once");
			if (nacks > 0 && acks(reg, ag_ship_name(s)) >= nacks) {
				printf("exiting after %ld acks\n", nacks);
				fflush(stdout);
				_exit(0);
			}
		}
	}
	buf_init(&b, 1 << 20);
	ag_ship_status_buf(s, &b);
	printf("%s", buf_cstr(&b));
	if (metrics_out != NULL) {
		buf_reset(&b);
		if (metrics_render(reg, &b) == -1 ||
		    (fp = fopen(metrics_out, "w")) == NULL)
			fatal("metrics to %s", metrics_out);
		fputs(buf_cstr(&b), fp);
		fclose(fp);
	}
	buf_free(&b);
	ag_ship_free(s);
	ag_output_conf_free(outputs);
	metrics_free(reg);
	ev_free(loop);
	return rc;
}
