/* webd — web server: main, service callbacks, listeners, logs, metrics. */
#include <errno.h>
#include <fcntl.h>
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

static const double duration_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};

static const char *const limit_names[] = {
	"max_connections", "header_timeout", "idle_timeout", "send_timeout",
	"max_header_size", "max_body", "file_descriptors", "body_timeout",
	"upstream_timeout", NULL
};

void
webd_limit_hit(struct webd *w, const char *limit)
{
	counter_inc(metric_with(w->m_limits, (const char *const[]){ limit, NULL }));
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
	uint64_t	 sec = ev_now(loop) / 1000;

	w->qps_ring[sec % 10] = w->nrequests - w->qps_last_sec;
	w->qps_last_sec = w->nrequests;
	ev_timer_start(loop, &w->qps_timer, 1000);
}

static double
metric_conns(void *arg)
{
	return (double)((struct webd *)arg)->nconns;
}

static double
metric_qps(void *arg)
{
	return webd_qps(arg);
}

static int
metrics_setup(struct webd *w, char *err, size_t errlen)
{
	struct metrics	*m = service_metrics(w->svc);
	const char *const *l;

	w->m_requests = metrics_counter(m, "http_requests_total",
	    "Requests answered, by status class (2xx, 3xx, 4xx, 5xx).",
	    (const char *const[]){ "class", NULL });
	w->m_bytes = metrics_counter(m, "http_response_body_bytes_total",
	    "Response body bytes sent.", NULL);
	w->m_duration = metrics_histogram(m, "http_request_duration_seconds",
	    "Time from the first byte of a request to its last byte sent.",
	    NULL, duration_bounds,
	    sizeof(duration_bounds) / sizeof(duration_bounds[0]));
	w->m_limits = metrics_counter(m, "limit_hits_total",
	    "Times a configured limit or timeout cut a client off.",
	    (const char *const[]){ "limit", NULL });
	if (w->m_requests == NULL || w->m_bytes == NULL ||
	    w->m_duration == NULL || w->m_limits == NULL ||
	    metrics_gauge_fn(m, "connections", "Open client connections.",
	    metric_conns, w) == NULL ||
	    metrics_gauge_fn(m, "http_requests_per_second",
	    "Requests answered per second, averaged over 10 s.",
	    metric_qps, w) == NULL)
		return seterr(err, errlen, "metrics registration failed");
	/* Every class and limit shows from the start, at 0. */
	for (l = (const char *const[]){ "1xx", "2xx", "3xx", "4xx", "5xx",
	    NULL }; *l != NULL; l++)
		metric_with(w->m_requests, (const char *const[]){ *l, NULL });
	for (l = limit_names; *l != NULL; l++)
		metric_with(w->m_limits, (const char *const[]){ *l, NULL });
	return 0;
}

/* Access log */

static int
webd_reopen(struct service *svc, char *err, size_t errlen)
{
	struct webd	*w = service_arg(svc);
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

/* Service callbacks */

static int
webd_start(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct webd	*w = service_arg(svc);
	struct ev_loop	*loop = service_loop(svc);
	int		 i;

	w->svc = svc;
	w->conf = confp;
	alog_init(&w->alog, service_loop(svc), WEBD_LOGBUF_MAX);
	if (metrics_setup(w, err, errlen) == -1)
		return -1;
	if ((w->root_fd = root_open(w->conf->root, err, errlen)) == -1)
		return -1;
	static_setup(w);
	if (w->conf->access_log != NULL &&
	    (w->alog.fd = alog_open(w->conf->access_log, err, errlen)) == -1)
		return -1;
	for (i = 0; i < w->conf->nlisten; i++) {
		if ((w->lfd[i] = net_listen(&w->conf->listen[i].addr, 4096,
		    NET_REUSEPORT, err, errlen)) == -1)
			return -1;
		w->nlfd = i + 1;
		w->ltls[i] = tls_config_ref(w->conf->listen[i].tls);
		if (ev_fd_add(loop, w->lfd[i], EV_READ, webd_accept, w) == -1)
			return seterr(err, errlen, "listen: %s", strerror(errno));
	}
	ev_timer_start(loop, &w->qps_timer, 1000);
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
		tls_config_free(w->ltls[i]);
		w->ltls[i] = tls_config_ref(nc->listen[i].tls);
	}
	w->conf = nc;
	static_setup(w);
	return 0;
}

static void
webd_stop(struct service *svc)
{
	struct webd	*w = service_arg(svc);
	int		 i;

	w->stopping = true;
	for (i = 0; i < w->nlfd; i++) {
		ev_fd_del(service_loop(svc), w->lfd[i]);
		close(w->lfd[i]);
		w->lfd[i] = -1;
	}
	webd_conns_drain(w);
	if (w->nconns == 0)
		service_stopped(svc);
}

static void
webd_status(struct service *svc, struct ctl_conn *cc)
{
	struct webd	*w = service_arg(svc);
	int		 i;

	for (i = 0; i < w->conf->nlisten; i++)
		ctl_printf(cc, "listen: %s%s\n", w->conf->listen[i].addr_str,
		    w->conf->listen[i].tls ? " tls" : "");
	ctl_printf(cc, "root: %s\n", w->conf->root);
	ctl_printf(cc, "connections: %zu\n", w->nconns);
	ctl_printf(cc, "requests: %llu\n", (unsigned long long)w->nrequests);
	ctl_printf(cc, "qps: %.1f\n", webd_qps(w));
}

static void
webd_cleanup(struct service *svc)
{
	struct webd	*w = service_arg(svc);
	int		 i;

	ev_timer_stop(service_loop(svc), &w->qps_timer);
	w->stopping = false;
	webd_conns_close_all(w);
	alog_close(&w->alog);
	for (i = 0; i < w->nlfd; i++) {
		if (w->lfd[i] != -1) {
			ev_fd_del(service_loop(svc), w->lfd[i]);
			close(w->lfd[i]);
		}
		tls_config_free(w->ltls[i]);
	}
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
	struct webd w = { .root_fd = -1, .alog = ALOG_INITIALIZER };

	/* Before anything can fail: cleanup stops it whatever happened. */
	ev_timer_init(&w.qps_timer, qps_tick, &w);
	return service_main(&webd_ops, argc, argv, &w);
}
