/* agentd — the monitoring agent: main, service callbacks, and the two
 * timers that drive the parts.
 *
 * Every `interval`: host metrics are read (ag_host), the web access
 * figures close their interval (ag_access), and the stackd daemons are
 * asked for their metrics (ag_scrape, asynchronous). When they have
 * answered, the whole exposition — host, agentd's own, the daemons' — is
 * kept for /metrics and alerts, the alert rules are evaluated over it
 * (ag_alert), and it is queued with a timestamp on every Sumo output
 * (ag_ship).
 *
 * Every `log-poll-interval`: the log files are read (ag_tail); new lines
 * go to every Sumo output's spool and, for access logs, to ag_access;
 * once the spools are synced to disk, the tail positions are saved — so a
 * line is either in a spool or still ahead of the saved position. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "agentd.h"
#include "ag_prom.h"

static const char *const stackd_daemons[] = {
	"lbd", "fwd", "webd", "dbrouter", "agentd", NULL
};

static uint64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
is_sumo(const struct ag_output_conf *o)
{
	return o->kind == AG_SHIP_SUMO;
}

static const struct ag_output_conf *
ship_conf(struct agentd *a, int i)
{
	const struct ag_output_conf *o = a->conf->outputs;
	const char	*name = ag_ship_name(a->ships[i]);

	for (; o != NULL; o = o->next)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static void
sync_ships(struct agentd *a)
{
	char	 err[256];
	int	 i;

	for (i = 0; i < a->nships; i++)
		if (ag_ship_sync(a->ships[i], err, sizeof(err)) == -1)
			log_warnx("output %s: %s", ag_ship_name(a->ships[i]),
			    err);
}

/* ---- the exposition ---- */

static int
render_live(struct agentd *a, struct buf *out)
{
	if (metrics_render(a->host_reg, out) == -1 ||
	    metrics_render(service_metrics(a->svc), out) == -1)
		return -1;
	return a->scrape != NULL ? ag_scrape_render(a->scrape, out) : 0;
}

/* GET /metrics: host metrics read now, as node_exporter does, the
 * daemons' from the last collection. */
static int
http_render(void *arg, struct buf *out)
{
	struct agentd	*a = arg;
	char		 err[256];

	if (a->host != NULL) {
		if (ag_host_collect(a->host, err, sizeof(err)) == -1)
			log_debug("host metrics: %s", err);
		a->host_at_ms = ev_now(ag_loop(a));
	}
	return render_live(a, out);
}

static bool
lookup(void *arg, const char *metric, const char *labels, double *value)
{
	struct agentd	*a = arg;

	return ag_prom_sum(buf_head(&a->expo), buf_used(&a->expo), metric,
	    labels, value);
}

/* The daemons have answered: keep, evaluate, ship. */
static void
collect_finish(void *arg)
{
	struct agentd	*a = arg;
	struct buf	 stamped;
	uint64_t	 ts = wall_ms();
	int		 i;

	buf_reset(&a->expo);
	if (render_live(a, &a->expo) == -1)
		log_warnx("collection: the exposition is over %zu bytes",
		    a->expo.max);
	ag_top_update(a);
	if (a->alerts != NULL) {
		ag_alerts_eval(a->alerts, ev_now(ag_loop(a)), lookup, a);
		gauge_set(metric_series0(a->m_alerts_firing),
		    (double)ag_alerts_firing(a->alerts));
	}
	buf_init(&stamped, 0);
	if (ag_prom_relabel(buf_head(&a->expo), buf_used(&a->expo), NULL, NULL,
	    ts, false, NULL, &stamped) == 0)
		for (i = 0; i < a->nships; i++) {
			const struct ag_output_conf *o = ship_conf(a, i);

			if (o != NULL && is_sumo(o))
				(void)ag_ship_metrics(a->ships[i],
				    buf_head(&stamped), buf_used(&stamped));
		}
	buf_free(&stamped);
	sync_ships(a);
	gauge_set(metric_series0(a->m_collect_seconds),
	    (double)(ev_clock_us() - a->collect_started_us) / 1e6);
}

static void
collect_tick(struct ev_loop *loop, void *arg)
{
	struct agentd	*a = arg;
	char		 err[256];
	uint64_t	 timeout;

	a->collect_started_us = ev_clock_us();
	if (a->host != NULL) {
		if (ag_host_collect(a->host, err, sizeof(err)) == -1)
			log_debug("host metrics: %s", err);
		a->host_at_ms = ev_now(loop);
	}
	if (a->access != NULL)
		ag_access_tick(a->access, ev_now(loop));
	ev_timer_start(loop, &a->collect_timer, a->conf->interval_ms);
	timeout = a->conf->interval_ms / 2 < 5000 ? a->conf->interval_ms / 2 :
	    5000;
	if (a->scrape != NULL && !ag_scrape_busy(a->scrape))
		ag_scrape_start(a->scrape, timeout);
	else if (a->scrape == NULL)
		collect_finish(a);
}

/* ---- logs ---- */

static int
sink_line(void *arg, const struct ag_log_conf *log, const char *path,
    const char *line, size_t len)
{
	struct agentd	*a = arg;
	int		 i, taken = 0, sumo = 0;

	(void)path;
	for (i = 0; i < a->nships; i++) {
		const struct ag_output_conf *o = ship_conf(a, i);

		if (o == NULL || !is_sumo(o))
			continue;
		sumo++;
		if (ag_ship_log(a->ships[i], log->category, line, len) == 0)
			taken++;
	}
	/* Every spool full: leave the line in the file for later. */
	if (sumo > 0 && taken == 0)
		return -1;
	if (log->format != AG_FMT_RAW && a->access != NULL)
		(void)ag_access_line(a->access, log->name, log->format, line,
		    len);
	return 0;
}

static const struct ag_tail_sink tail_sink = { sink_line };

static void
poll_logs(struct agentd *a)
{
	char	 err[256];

	if (a->tail == NULL || ag_tail_poll(a->tail) == 0)
		return;
	sync_ships(a);
	if (ag_tail_commit(a->tail, err, sizeof(err)) == -1)
		log_warnx("log positions: %s", err);
}

static void
poll_tick(struct ev_loop *loop, void *arg)
{
	struct agentd	*a = arg;

	poll_logs(a);
	ev_timer_start(loop, &a->poll_timer, a->conf->poll_ms);
}

/* ---- alerts ---- */

static void
json_string(struct buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			buf_printf(b, "\\u%04x", (unsigned char)*s);
		else
			buf_append(b, s, 1);
	}
	buf_puts(b, "\"");
}

static void
json_number(struct buf *b, double v)
{
	if (isfinite(v))
		buf_printf(b, "%.6g", v);
	else
		buf_puts(b, "null");
}

static void
alert_notify(void *arg, const struct ag_alert_event *ev)
{
	struct agentd	*a = arg;
	struct buf	 j;
	const char	*state = ev->firing ? "firing" : "resolved";
	int		 i;

	log_warnx("alert %s %s (%s): %s", ev->name, state, ev->severity,
	    ev->summary);
	counter_inc(metric_with(a->m_alert_events, (const char *const[]){
	    ev->name, state, NULL }));
	buf_init(&j, 64 * 1024);
	buf_printf(&j, "{\"time\":%llu,\"host\":", (unsigned long long)wall_ms());
	json_string(&j, a->conf->host);
	buf_puts(&j, ",\"alert\":");
	json_string(&j, ev->name);
	buf_printf(&j, ",\"state\":\"%s\",\"severity\":", state);
	json_string(&j, ev->severity);
	buf_puts(&j, ",\"value\":");
	json_number(&j, ev->value);
	buf_puts(&j, ",\"baseline\":");
	json_number(&j, ev->baseline);
	buf_puts(&j, ",\"summary\":");
	json_string(&j, ev->summary);
	buf_puts(&j, "}");
	for (i = 0; i < a->nships; i++) {
		const struct ag_output_conf *o = ship_conf(a, i);

		if (o != NULL)
			(void)ag_ship_log(a->ships[i], is_sumo(o) ?
			    a->conf->alert_category : NULL, buf_head(&j),
			    buf_used(&j));
	}
	buf_free(&j);
	sync_ships(a);
}

/* ---- outputs ---- */

static struct ag_ship *
ship_for(struct agentd *a, const struct ag_output_conf *o, char *err,
    size_t errlen)
{
	char	 dir[1024];

	if ((size_t)snprintf(dir, sizeof(dir), "%s/spool-%s",
	    a->conf->state_dir, o->name) >= sizeof(dir)) {
		seterr(err, errlen, "output %s: spool path too long", o->name);
		return NULL;
	}
	return ag_ship_new(ag_loop(a), o, dir, a->conf->host,
	    service_metrics(a->svc), err, errlen);
}

static int
ships_build(struct agentd *a, struct ag_conf *conf, char *err, size_t errlen)
{
	struct ag_ship	*next[AG_MAX_OUTPUTS] = { NULL };
	bool		 kept[AG_MAX_OUTPUTS] = { false };
	bool		 made[AG_MAX_OUTPUTS] = { false };
	const struct ag_output_conf *o;
	int		 n = 0, i, j;

	for (o = conf->outputs; o != NULL; o = o->next, n++) {
		for (j = 0; j < a->nships; j++)
			if (!kept[j] && strcmp(ag_ship_name(a->ships[j]),
			    o->name) == 0)
				break;
		if (j < a->nships) {
			if (ag_ship_reload(a->ships[j], o, err, errlen) == -1)
				goto fail;
			next[n] = a->ships[j];
			kept[j] = true;
			continue;
		}
		if ((next[n] = ship_for(a, o, err, errlen)) == NULL)
			goto fail;
		made[n] = true;
	}
	for (j = 0; j < a->nships; j++)
		if (!kept[j])
			ag_ship_free(a->ships[j]);
	for (i = 0; i < n; i++)
		a->ships[i] = next[i];
	a->nships = n;
	return 0;
 fail:
	for (i = 0; i < n; i++)
		if (made[i])
			ag_ship_free(next[i]);
	return -1;
}

/* ---- service ---- */

static int
state_dir(const char *path, char *err, size_t errlen)
{
	struct stat	 st;

	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return seterr(err, errlen, "state-dir %s: %s", path,
		    strerror(errno));
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
		return seterr(err, errlen, "state-dir %s: not a directory",
		    path);
	return 0;
}

static int
metrics_setup(struct agentd *a, char *err, size_t errlen)
{
	struct metrics	*m = service_metrics(a->svc);

	a->m_collect_seconds = metrics_gauge(m, "collect_duration_seconds",
	    "How long the last collection took, daemons included.", NULL);
	a->m_alerts_firing = metrics_gauge(m, "alerts_firing",
	    "Alert rules firing now.", NULL);
	a->m_alert_events = metrics_counter(m, "alert_events_total",
	    "Alerts fired and resolved, by rule.",
	    (const char *const[]){ "alert", "state", NULL });
	if (a->m_collect_seconds == NULL || a->m_alerts_firing == NULL ||
	    a->m_alert_events == NULL)
		return seterr(err, errlen, "metrics registration failed");
	return 0;
}

static int
ag_start(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct agentd	*a = service_arg(svc);
	struct ag_host_opts ho;
	char		 path[1024];

	a->svc = svc;
	a->conf = confp;
	buf_init(&a->expo, 64 * 1024 * 1024);
	if (state_dir(a->conf->state_dir, err, errlen) == -1 ||
	    metrics_setup(a, err, errlen) == -1)
		return -1;
	if ((a->host_reg = metrics_new("")) == NULL)
		return seterr(err, errlen, "metrics registry");
	ho.proc = a->conf->proc;
	ho.sys = a->conf->sys;
	ho.daemons = stackd_daemons;
	if ((a->host = ag_host_new(a->host_reg, &ho, err, errlen)) == NULL)
		return -1;
	if ((a->access = ag_access_new(service_metrics(svc))) == NULL)
		return seterr(err, errlen, "access log metrics");
	if (ships_build(a, a->conf, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/positions", a->conf->state_dir);
	if ((a->tail = ag_tail_new(path, a->conf->logs, &tail_sink, a,
	    service_metrics(svc), err, errlen)) == NULL)
		return -1;
	if ((a->alerts = ag_alerts_new(a->conf->alerts, alert_notify, a)) ==
	    NULL)
		return seterr(err, errlen, "alert rules");
	if ((a->scrape = ag_scrape_new(ag_loop(a), service_metrics(svc),
	    a->conf->daemons, a->conf->ndaemons, collect_finish, a)) == NULL)
		return seterr(err, errlen, "daemon scraping");
	if (a->conf->listen_str != NULL && (a->http = ag_http_new(ag_loop(a),
	    &a->conf->listen, http_render, a, err, errlen)) == NULL)
		return -1;
	ev_timer_init(&a->collect_timer, collect_tick, a);
	ev_timer_init(&a->poll_timer, poll_tick, a);
	ev_timer_start(ag_loop(a), &a->collect_timer, 0);
	ev_timer_start(ag_loop(a), &a->poll_timer, 0);
	return 0;
}

static int
ag_reload(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct agentd	*a = service_arg(svc);
	struct ag_conf	*nc = confp, *oc = a->conf;
	struct ag_scrape *sc;
	char		 tmp[256];

	if (strcmp(nc->state_dir, oc->state_dir) != 0)
		return seterr(err, errlen, "state-dir changed: that needs a "
		    "restart");
	if ((nc->listen_str == NULL) != (oc->listen_str == NULL) ||
	    (nc->listen_str != NULL &&
	    !net_addr_equal(&nc->listen, &oc->listen)))
		return seterr(err, errlen, "metrics-listen changed: that "
		    "needs a restart");
	if (a->scrape != NULL && ag_scrape_busy(a->scrape))
		return seterr(err, errlen, "a collection is running: try "
		    "again");
	if ((sc = ag_scrape_new(ag_loop(a), service_metrics(svc), nc->daemons,
	    nc->ndaemons, collect_finish, a)) == NULL)
		return seterr(err, errlen, "daemon scraping");
	/* From here on the parts take the new configuration one by one;
	 * each refuses before changing anything. */
	if (ships_build(a, nc, err, errlen) == -1)
		goto fail;
	if (ag_tail_reload(a->tail, nc->logs, err, errlen) == -1)
		goto undo_ships;
	if (ag_alerts_reload(a->alerts, nc->alerts) == -1) {
		seterr(err, errlen, "alert rules: out of memory");
		goto undo_tail;
	}
	ag_scrape_free(a->scrape);
	a->scrape = sc;
	a->conf = nc;
	ev_timer_start(ag_loop(a), &a->collect_timer, 0);
	return 0;
	/* The parts that took the new configuration go back to the old one,
	 * which stays: nothing may point into the refused one. */
 undo_tail:
	if (ag_tail_reload(a->tail, oc->logs, tmp, sizeof(tmp)) == -1)
		log_warnx("reload: restoring the logs: %s", tmp);
 undo_ships:
	if (ships_build(a, oc, tmp, sizeof(tmp)) == -1)
		log_warnx("reload: restoring the outputs: %s", tmp);
 fail:
	ag_scrape_free(sc);
	return -1;
}

static void
ag_status(struct service *svc, struct ctl_conn *cc)
{
	struct agentd	*a = service_arg(svc);
	int		 i;

	ctl_printf(cc, "host: %s, interval %llums, state-dir %s\n",
	    a->conf->host, (unsigned long long)a->conf->interval_ms,
	    a->conf->state_dir);
	if (a->scrape != NULL)
		ag_scrape_status(a->scrape, cc);
	if (a->tail != NULL)
		ag_tail_status(a->tail, cc);
	for (i = 0; i < a->nships; i++)
		ag_ship_status(a->ships[i], cc);
	if (a->alerts != NULL)
		ctl_printf(cc, "alerts firing: %zu\n",
		    ag_alerts_firing(a->alerts));
}

/* A graceful stop reads what the logs hold and saves where it got to. */
static void
ag_stop(struct service *svc)
{
	struct agentd	*a = service_arg(svc);

	a->stopping = true;
	poll_logs(a);
	sync_ships(a);
	service_stopped(svc);
}

static void
ag_cleanup(struct service *svc)
{
	struct agentd	*a = service_arg(svc);
	int		 i;

	if (service_loop(svc) != NULL) {
		ev_timer_stop(ag_loop(a), &a->collect_timer);
		ev_timer_stop(ag_loop(a), &a->poll_timer);
	}
	ag_http_free(a->http);
	ag_scrape_free(a->scrape);
	ag_tail_free(a->tail);
	ag_alerts_free(a->alerts);
	for (i = 0; i < a->nships; i++)
		ag_ship_free(a->ships[i]);
	a->nships = 0;
	ag_access_free(a->access);
	ag_host_free(a->host);
	metrics_free(a->host_reg);
	buf_free(&a->expo);
}

static const struct service_ops ag_ops = {
	.name = "agentd",
	.version = AG_VERSION,
	.default_conf = "/etc/stackd/agentd.conf",
	.service_conf_offset = offsetof(struct ag_conf, svc),
	.conf_load = ag_conf_load,
	.conf_free = ag_conf_free,
	.start = ag_start,
	.reload = ag_reload,
	.stop = ag_stop,
	.status = ag_status,
	.cleanup = ag_cleanup,
	.commands = ag_commands,
};

int
main(int argc, char **argv)
{
	struct agentd	 a = { 0 };

	return service_main(&ag_ops, argc, argv, &a);
}
