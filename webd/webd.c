/* webd — web server: main, service callbacks, listeners, logs, metrics. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alog.h"
#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "tls.h"
#include "webd.h"

#define WEBD_LOGBUF_MAX		(1024 * 1024)
#define WEBD_LOGBUF_FLUSH	(64 * 1024)

_Static_assert(sizeof(struct webd_stats) % sizeof(uint64_t) == 0,
    "webd_stats is summed as an array of uint64_t");

static const double duration_bounds[WEBD_NBOUNDS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};

static const char *const class_names[WEBD_NCLASSES] = {
	"1xx", "2xx", "3xx", "4xx", "5xx",
};

static const char *const limit_names[WEBD_NLIMITS] = {
	"max_connections", "header_timeout", "idle_timeout", "send_timeout",
	"max_header_size", "max_body", "file_descriptors", "body_timeout",
	"upstream_timeout",
};

/* Statistics */

void
webd_limit_hit(struct webd *w, const char *limit)
{
	size_t	 i;

	for (i = 0; i < WEBD_NLIMITS; i++)
		if (strcmp(limit_names[i], limit) == 0) {
			webd_stat_add(&w->stats->limits[i], 1);
			return;
		}
	log_warnx("%s: no limit named %s", __func__, limit);
}

void
webd_count_response(struct webd *w, int status, uint64_t body_bytes,
    uint64_t ms)
{
	struct webd_stats *st = w->stats;

	if (status >= 100 && status < 600)
		webd_stat_add(&st->requests[status / 100 - 1], 1);
	webd_stat_add(&st->body_bytes, body_bytes);
	webd_stat_add(&st->duration[metrics_bucket(duration_bounds,
	    WEBD_NBOUNDS, (double)ms / 1000)], 1);
	webd_stat_add(&st->duration_us, ms * 1000);
}

void
webd_stats_add(struct webd_stats *dst, const struct webd_stats *src)
{
	uint64_t	*d = (uint64_t *)dst;
	const uint64_t	*s = (const uint64_t *)src;
	size_t		 i;

	for (i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* What reaped workers counted, and every slot as it is now. */
void
webd_stats_total(const struct webd *w, struct webd_stats *t)
{
	size_t	 k;

	*t = w->retired;
	for (k = 0; k < w->nslots; k++)
		webd_stats_add(t, &w->slots[k]);
}

uint64_t
webd_stats_requests(const struct webd_stats *t)
{
	uint64_t sum = 0;
	size_t	 i;

	for (i = 0; i < WEBD_NCLASSES; i++)
		sum += t->requests[i];
	return sum;
}

/* Requests per second over the last ten whole seconds. */
double
webd_qps(struct webd *w)
{
	uint64_t sum = 0;
	size_t	 i;

	for (i = 0; i < 10; i++)
		sum += w->qps_ring[i];
	return (double)sum / 10.0;
}

static void
qps_tick(struct ev_loop *loop, void *arg)
{
	struct webd	*w = arg;
	struct webd_stats t;
	uint64_t	 sec = ev_now(loop) / 1000, n;

	webd_stats_total(w, &t);
	n = webd_stats_requests(&t);
	w->qps_ring[sec % 10] = n - w->qps_last_sec;
	w->qps_last_sec = n;
	ev_timer_start(loop, &w->qps_timer, 1000);
}

/* Metrics: the totals are copied into the series when rendered. */

static void
metrics_mirror(void *arg)
{
	struct webd	*w = arg;
	struct webd_stats t;
	uint64_t	 count = 0;
	size_t		 i;

	webd_stats_total(w, &t);
	for (i = 0; i < WEBD_NCLASSES; i++)
		counter_load(w->s_requests[i], t.requests[i]);
	for (i = 0; i < WEBD_NLIMITS; i++)
		counter_load(w->s_limits[i], t.limits[i]);
	counter_load(w->s_bytes, t.body_bytes);
	for (i = 0; i <= WEBD_NBOUNDS; i++)
		count += t.duration[i];
	histogram_load(w->s_duration, t.duration, count,
	    (double)t.duration_us / 1e6);
}

static double
metric_conns(void *arg)
{
	struct webd_stats t;

	webd_stats_total(arg, &t);
	return (double)t.conns;
}

static double
metric_qps(void *arg)
{
	return webd_qps(arg);
}

static double
metric_workers(void *arg)
{
	return (double)webd_workers_running(arg);
}

static double
metric_restarts(void *arg)
{
	return (double)webd_workers_restarts(arg);
}

static const struct {
	const char	*name;
	const char	*help;
	bool		 counter;
	double		(*fn)(void *);
} computed_metrics[] = {
	{ "connections", "Open client connections.", false, metric_conns },
	{ "http_requests_per_second",
	  "Requests answered per second, averaged over 10 s.", false,
	  metric_qps },
	{ "workers", "Processes serving requests: the workers of the running "
	  "generation, or 1 (the service process) with workers 1.", false,
	  metric_workers },
	{ "worker_restarts_total",
	  "Worker processes respawned after an unexpected exit.", true,
	  metric_restarts },
};

/* One labelled family, every label value shown from the start at 0. */
static struct metric *
labelled_counter(struct metrics *m, const char *name, const char *help,
    const char *label, const char *const values[], size_t n,
    struct metric_series **series)
{
	struct metric	*f;
	size_t		 i;

	if ((f = metrics_counter(m, name, help,
	    (const char *const[]){ label, NULL })) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		series[i] = metric_with(f, (const char *const[]){ values[i],
		    NULL });
	return f;
}

static int
metrics_setup(struct webd *w, char *err, size_t errlen)
{
	struct metrics	*m = service_metrics(w->svc);
	struct metric	*bytes, *duration;
	size_t		 i;

	bytes = metrics_counter(m, "http_response_body_bytes_total",
	    "Response body bytes sent.", NULL);
	duration = metrics_histogram(m, "http_request_duration_seconds",
	    "Time from the first byte of a request to its last byte sent.",
	    NULL, duration_bounds, WEBD_NBOUNDS);
	if (labelled_counter(m, "http_requests_total", "Requests answered, "
	    "by status class (2xx, 3xx, 4xx, 5xx).", "class", class_names,
	    WEBD_NCLASSES, w->s_requests) == NULL || bytes == NULL ||
	    duration == NULL ||
	    labelled_counter(m, "limit_hits_total", "Times a configured limit "
	    "or timeout cut a client off.", "limit", limit_names,
	    WEBD_NLIMITS, w->s_limits) == NULL ||
	    metrics_on_render(m, metrics_mirror, w) == -1)
		return seterr(err, errlen, "metrics registration failed");
	w->s_bytes = metric_series0(bytes);
	w->s_duration = metric_series0(duration);
	for (i = 0; i < sizeof(computed_metrics) / sizeof(computed_metrics[0]);
	    i++)
		if ((computed_metrics[i].counter ? metrics_counter_fn :
		    metrics_gauge_fn)(m, computed_metrics[i].name,
		    computed_metrics[i].help, computed_metrics[i].fn, w) == NULL)
			return seterr(err, errlen, "metrics registration failed");
	return 0;
}

/* Access log */

int
webd_log_reopen(struct webd *w, char *err, size_t errlen)
{
	int		 fd;

	if (w->conf->access_log == NULL)
		return 0;
	if ((fd = alog_open(w->conf->access_log, err, errlen)) == -1)
		return -1;
	alog_use(&w->alog, fd);
	log_info("access log %s reopened", w->conf->access_log);
	return 0;
}

/* Root and static settings */

static int
root_open(const char *root, char *err, size_t errlen)
{
	int fd;

	if ((fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return seterr(err, errlen, "root %s: %s", root, strerror(errno));
	return fd;
}

static void
static_setup(struct webd *w)
{
	w->sconf.root_fd = w->root_fd;
	w->sconf.index = w->conf->index;
	w->sconf.nindex = w->conf->nindex;
	w->sconf.gzip_static = w->conf->gzip_static;
	w->sconf.listing = w->conf->listing;
}

/* Listeners */

int
webd_bind(struct webd *w, int *fds, char *err, size_t errlen)
{
	int	 i;

	for (i = 0; i < w->conf->nlisten; i++)
		fds[i] = -1;
	for (i = 0; i < w->conf->nlisten; i++)
		if ((fds[i] = net_listen(&w->conf->listen[i].addr, 4096,
		    NET_REUSEPORT, err, errlen)) == -1)
			return -1;
	return 0;
}

int
webd_serve(struct webd *w, char *err, size_t errlen)
{
	int	 i;

	for (i = 0; i < w->nlfd; i++)
		if (ev_fd_add(w->loop, w->lfd[i], EV_READ, webd_accept, w) == -1)
			return seterr(err, errlen, "listen: %s", strerror(errno));
	return 0;
}

static void
listeners_close(struct webd *w)
{
	int	 i;

	for (i = 0; i < w->nlfd; i++) {
		if (w->lfd[i] == -1)
			continue;
		/* Not ev_fd_close: forked processes share the socket. */
		ev_fd_del(w->loop, w->lfd[i]);
		close(w->lfd[i]);
		w->lfd[i] = -1;
	}
}

void
webd_serve_stop(struct webd *w)
{
	w->stopping = true;
	listeners_close(w);
	webd_conns_drain(w);
	if (w->nconns == 0)
		w->drained(w);
}

bool
webd_daemon_stopping(struct webd *w)
{
	if (w->shared != NULL)
		return __atomic_load_n(&w->shared->gen, __ATOMIC_RELAXED) ==
		    WEBD_GEN_STOP;
	return w->stopping;
}

static void
service_drained(struct webd *w)
{
	service_stopped(w->svc);
}

/* Service callbacks */

static int
webd_start(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct webd	*w = service_arg(svc);
	int		 i;

	w->svc = svc;
	w->conf = confp;
	w->loop = service_loop(svc);
	alog_init(&w->alog, w->loop, WEBD_LOGBUF_MAX);
	w->stats = w->slots = &w->own;
	w->nslots = 1;
	w->drained = service_drained;
	w->nlfd = w->conf->nlisten;
	for (i = 0; i < w->nlfd; i++) {
		w->lfd[i] = -1;
		w->ltls[i] = tls_config_ref(w->conf->listen[i].tls);
	}
	if (metrics_setup(w, err, errlen) == -1)
		return -1;
	if ((w->root_fd = root_open(w->conf->root, err, errlen)) == -1)
		return -1;
	static_setup(w);
	if (w->conf->access_log != NULL &&
	    (w->alog.fd = alog_open(w->conf->access_log, err, errlen)) == -1)
		return -1;
	if (w->conf->workers > 1) {
		if (webd_workers_start(w, err, errlen) == -1)
			return -1;
	} else if (webd_bind(w, w->lfd, err, errlen) == -1 ||
	    webd_serve(w, err, errlen) == -1)
		return -1;
	ev_timer_start(w->loop, &w->qps_timer, 1000);
	return 0;
}

static int
webd_reload(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct webd	*w = service_arg(svc);
	struct webd_conf *nc = confp;
	int		 i, root_fd, log_fd = -1;

	if (nc->nlisten != w->conf->nlisten)
		return seterr(err, errlen, "the number of listeners changed: "
		    "needs a restart");
	for (i = 0; i < nc->nlisten; i++)
		if (!net_addr_equal(&nc->listen[i].addr, &w->conf->listen[i].addr) ||
		    (nc->listen[i].tls == NULL) != (w->conf->listen[i].tls == NULL))
			return seterr(err, errlen, "listen %s: changing a "
			    "listener needs a restart", nc->listen[i].addr_str);
	/* The master bound each listener once per worker at start. */
	if (nc->workers != w->conf->workers)
		return seterr(err, errlen, "workers: changing %llu to %llu "
		    "needs a restart", (unsigned long long)w->conf->workers,
		    (unsigned long long)nc->workers);
	if (w->wk != NULL && webd_workers_reload_check(w, err, errlen) == -1)
		return -1;
	if ((root_fd = root_open(nc->root, err, errlen)) == -1)
		return -1;
	if (nc->access_log != NULL &&
	    (log_fd = alog_open(nc->access_log, err, errlen)) == -1) {
		close(root_fd);
		return -1;
	}
	/* Nothing can fail from here: switch. Open connections keep their
	 * TLS config (referenced) and finish with the new settings. */
	alog_use(&w->alog, log_fd);
	close(w->root_fd);
	w->root_fd = root_fd;
	for (i = 0; i < nc->nlisten; i++) {
		tls_config_inherit_sessions(nc->listen[i].tls, w->ltls[i]);
		tls_config_free(w->ltls[i]);
		w->ltls[i] = tls_config_ref(nc->listen[i].tls);
	}
	w->conf = nc;
	static_setup(w);
	if (w->wk != NULL)
		webd_workers_reload(w);
	return 0;
}

static void
webd_stop(struct service *svc)
{
	struct webd	*w = service_arg(svc);

	if (w->wk != NULL)
		webd_workers_stop(w);
	else
		webd_serve_stop(w);
}

static int
webd_reopen(struct service *svc, char *err, size_t errlen)
{
	struct webd	*w = service_arg(svc);

	/* Workers reopen their own; the master's is what new ones get. */
	webd_workers_signal(w, SIGUSR1);
	return webd_log_reopen(w, err, errlen);
}

static void
webd_status(struct service *svc, struct ctl_conn *cc)
{
	struct webd	*w = service_arg(svc);
	struct webd_stats t;
	int		 i;

	for (i = 0; i < w->conf->nlisten; i++)
		ctl_printf(cc, "listen: %s%s\n", w->conf->listen[i].addr_str,
		    w->conf->listen[i].tls ? " tls" : "");
	ctl_printf(cc, "root: %s\n", w->conf->root);
	ctl_printf(cc, "workers: %llu\n",
	    (unsigned long long)w->conf->workers);
	webd_workers_status(w, cc);
	webd_stats_total(w, &t);
	ctl_printf(cc, "connections: %llu\n", (unsigned long long)t.conns);
	ctl_printf(cc, "requests: %llu\n", (unsigned long long)webd_stats_requests(&t));
	ctl_printf(cc, "qps: %.1f\n", webd_qps(w));
}

static void
webd_cleanup(struct service *svc)
{
	struct webd	*w = service_arg(svc);
	int		 i;

	ev_timer_stop(w->loop, &w->qps_timer);
	webd_workers_cleanup(w);
	w->stopping = false;
	webd_conns_close_all(w);
	alog_close(&w->alog);
	listeners_close(w);
	for (i = 0; i < w->nlfd; i++)
		tls_config_free(w->ltls[i]);
	if (w->root_fd != -1)
		close(w->root_fd);
}

static const struct service_ops webd_ops = {
	.name = "webd",
	.version = WEBD_VERSION,
	.default_conf = "/etc/stackd/webd.conf",
	.service_conf_offset = offsetof(struct webd_conf, svc),
	.conf_load = webd_conf_load,
	.conf_free = webd_conf_free,
	.start = webd_start,
	.reload = webd_reload,
	.stop = webd_stop,
	.status = webd_status,
	.reopen = webd_reopen,
	.cleanup = webd_cleanup,
};

int
main(int argc, char **argv)
{
	struct webd w = { .root_fd = -1, .alog = ALOG_INITIALIZER,
	    .worker = -1 };

	/* Before anything can fail: cleanup stops it whatever happened. */
	ev_timer_init(&w.qps_timer, qps_tick, &w);
	return service_main(&webd_ops, argc, argv, &w);
}
