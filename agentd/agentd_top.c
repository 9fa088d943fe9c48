/* agentd's own ctl commands and the `top` view:
 *
 *	alerts		one line per rule (ag_alerts_format)
 *	spool		one line per output (ag_ship_status)
 *	top		a screenful: CPU, memory, load, network, the stackd
 *			daemons, and the web request rate of each access log
 *			with a sparkline of the last 60 collections
 *
 * agentctl top asks for `top` again every second and redraws it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "agentd.h"
#include "ag_prom.h"

static double
sum(struct agentd *a, const char *metric, const char *labels)
{
	double	 v;

	if (!ag_prom_sum(buf_head(&a->expo), buf_used(&a->expo), metric, labels,
	    &v))
		return NAN;
	return v;
}

/* For display: what is not there shows as 0. */
static double
sum0(struct agentd *a, const char *metric, const char *labels)
{
	double	 v = sum(a, metric, labels);

	return isnan(v) ? 0 : v;
}

/* The access logs' request rates, as sparkline history. */
static void
update_qps(struct agentd *a)
{
	struct ag_top	*t = &a->top;
	const struct ag_log_conf *l;
	char		 sel[96];
	unsigned	 i;
	double		 v;

	for (l = a->conf->logs; l != NULL; l = l->next) {
		if (l->format == AG_FMT_RAW)
			continue;
		for (i = 0; i < t->nqps; i++)
			if (strcmp(t->qps[i].name, l->name) == 0)
				break;
		if (i == t->nqps) {
			if (t->nqps == AG_TOP_SERIES)
				continue;
			snprintf(t->qps[t->nqps].name,
			    sizeof(t->qps[t->nqps].name), "%s", l->name);
			t->qps[t->nqps++].n = 0;
		}
		snprintf(sel, sizeof(sel), "log=%s", l->name);
		v = sum(a, "stackd_agentd_web_requests_per_second", sel);
		if (t->qps[i].n == AG_TOP_HISTORY) {
			memmove(t->qps[i].hist, t->qps[i].hist + 1,
			    (AG_TOP_HISTORY - 1) * sizeof(double));
			t->qps[i].n--;
		}
		t->qps[i].hist[t->qps[i].n++] = isnan(v) ? 0 : v;
	}
}

void
ag_top_update(struct agentd *a)
{
	struct ag_top	*t = &a->top;
	double		 total, idle, rx, tx, dt;
	uint64_t	 now = ev_now(ag_loop(a));

	total = sum0(a, "node_cpu_seconds_total", NULL);
	idle = sum0(a, "node_cpu_seconds_total", "mode=idle") +
	    sum0(a, "node_cpu_seconds_total", "mode=iowait");
	rx = sum0(a, "node_network_receive_bytes_total", NULL);
	tx = sum0(a, "node_network_transmit_bytes_total", NULL);
	if (t->at_ms != 0 && total > t->cpu_total_prev) {
		t->cpu_busy = 1 - (idle - t->cpu_idle_prev) /
		    (total - t->cpu_total_prev);
		dt = (double)(now - t->at_ms) / 1000;
		if (dt > 0) {
			t->rx_rate = (rx - t->rx_prev) / dt;
			t->tx_rate = (tx - t->tx_prev) / dt;
		}
	}
	t->cpu_total_prev = total;
	t->cpu_idle_prev = idle;
	t->rx_prev = rx;
	t->tx_prev = tx;
	t->at_ms = now;
	update_qps(a);
}

static void
sparkline(struct buf *out, const double *v, unsigned n)
{
	static const char *const bars[] = { "\u2581", "\u2582", "\u2583",
	    "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	double	 max = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = 0; i < n; i++)
		buf_puts(out, bars[max > 0 ? (int)(v[i] / max * 7.0 + 0.5) : 0]);
}

static void
human_bytes(char *dst, size_t len, double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int	 u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(dst, len, "%.1f %s", v, units[u]);
}

void
ag_top_format(struct agentd *a, struct buf *out)
{
	struct ag_top	*t = &a->top;
	char		 used[32], total[32], rx[32], tx[32], sel[96], rss[32];
	double		 mt, ma;
	const char *const *d;
	unsigned	 i;
	static const char *const daemons[] = { "lbd", "fwd", "webd",
	    "dbrouter", "agentd", NULL };

	mt = sum0(a, "node_memory_MemTotal_bytes", NULL);
	ma = sum0(a, "node_memory_MemAvailable_bytes", NULL);
	human_bytes(used, sizeof(used), mt - ma);
	human_bytes(total, sizeof(total), mt);
	human_bytes(rx, sizeof(rx), t->rx_rate);
	human_bytes(tx, sizeof(tx), t->tx_rate);
	buf_printf(out, "%s  cpu %5.1f%%  mem %s / %s  load %.2f %.2f %.2f\n",
	    a->conf->host, t->cpu_busy * 100, used, total,
	    sum0(a, "node_load1", NULL), sum0(a, "node_load5", NULL),
	    sum0(a, "node_load15", NULL));
	buf_printf(out, "net  rx %s/s  tx %s/s  tcp established %.0f\n", rx, tx,
	    sum0(a, "node_tcp_connection_states", "state=established"));
	buf_printf(out, "\n%-10s %6s %10s %10s\n", "daemon", "procs", "cpu s",
	    "rss");
	for (d = daemons; *d != NULL; d++) {
		snprintf(sel, sizeof(sel), "daemon=%s", *d);
		if (!(sum0(a, "stackd_processes", sel) > 0))
			continue;
		human_bytes(rss, sizeof(rss),
		    sum0(a, "stackd_process_resident_memory_bytes", sel));
		buf_printf(out, "%-10s %6.0f %10.1f %10s\n", *d,
		    sum0(a, "stackd_processes", sel),
		    sum0(a, "stackd_process_cpu_seconds_total", sel), rss);
	}
	if (t->nqps > 0)
		buf_printf(out, "\n%-16s %9s  last %u collections\n", "web",
		    "req/s", AG_TOP_HISTORY);
	for (i = 0; i < t->nqps; i++) {
		buf_printf(out, "%-16s %9.1f  ", t->qps[i].name, t->qps[i].n ?
		    t->qps[i].hist[t->qps[i].n - 1] : 0.0);
		sparkline(out, t->qps[i].hist, t->qps[i].n);
		buf_puts(out, "\n");
	}
	buf_printf(out, "\nalerts firing: %zu\n",
	    a->alerts != NULL ? ag_alerts_firing(a->alerts) : (size_t)0);
}

static void
cmd_top(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	struct agentd	*a = service_arg(arg);
	struct buf	 out;

	(void)argc;
	(void)argv;
	buf_init(&out, 0);
	ag_top_format(a, &out);
	ctl_write(cc, buf_head(&out), buf_used(&out));
	buf_free(&out);
}

static void
cmd_alerts(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	struct agentd	*a = service_arg(arg);
	struct buf	 out;

	(void)argc;
	(void)argv;
	buf_init(&out, 0);
	if (a->alerts != NULL)
		ag_alerts_format(a->alerts, &out);
	ctl_write(cc, buf_head(&out), buf_used(&out));
	buf_free(&out);
}

static void
cmd_spool(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	struct agentd	*a = service_arg(arg);
	int		 i;

	(void)argc;
	(void)argv;
	for (i = 0; i < a->nships; i++)
		ag_ship_status(a->ships[i], cc);
}

const struct ctl_command ag_commands[] = {
	{ "alerts", 0, 0, "alerts", cmd_alerts },
	{ "spool", 0, 0, "spool", cmd_spool },
	{ "top", 0, 0, "top", cmd_top },
	{ NULL, 0, 0, NULL, NULL }
};
