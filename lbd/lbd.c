/* lbd — TLS load balancer: main, service callbacks, frontends, access log
 * and metrics. Server commands are in lbd_admin.c, status in lbd_stats.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alog.h"
#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "tls.h"
#include "lbd.h"

#define LB_LOGBUF_MAX	(1024 * 1024)

/* ---- access log ---- */

static int
lb_reopen(struct service *svc, char *err, size_t errlen)
{
	struct lb	*lb = service_arg(svc);
	int		 fd;

	if (lb->conf->access_log == NULL)
		return 0;
	if ((fd = alog_open(lb->conf->access_log, err, errlen)) == -1)
		return -1;
	alog_use(&lb->alog, fd);
	return 0;
}

/* ---- metrics ---- */

static int
metrics_setup(struct lb *lb, char *err, size_t errlen)
{
	struct metrics	*m = service_metrics(lb->svc);
	static const char *const ps[] = { "pool", "server", NULL };

	lb->m_requests = metrics_counter(m, "http_requests_total",
	    "Requests answered, by frontend and status class.",
	    (const char *const[]){ "frontend", "class", NULL });
	lb->m_duration = metrics_histogram(m, "http_request_duration_seconds",
	    "Time from a request's first byte to its answer's last.",
	    (const char *const[]){ "frontend", NULL },
	    metrics_default_latency_bounds, METRICS_LATENCY_NBOUNDS);
	lb->m_server_requests = metrics_counter(m, "server_requests_total",
	    "Requests sent to each server.", ps);
	lb->m_server_failures = metrics_counter(m, "server_failures_total",
	    "Requests a server failed (connect, timeout, bad answer).", ps);
	lb->m_server_up = metrics_gauge(m, "server_up",
	    "1 when health checks say the server is up.", ps);
	lb->m_server_tls = metrics_counter(m, "server_tls_handshakes_total",
	    "TLS handshakes with each server (connections and checks), "
	    "full (new) or resumed.",
	    (const char *const[]){ "pool", "server", "session", NULL });
	lb->m_server_latency = metrics_histogram(m,
	    "server_response_duration_seconds",
	    "Time from sending a request to a server to the end of its "
	    "answer, for the requests it answered.", ps,
	    metrics_default_latency_bounds, METRICS_LATENCY_NBOUNDS);
	lb->m_retries = metrics_counter(m, "retries_total",
	    "Requests sent again to another server.", NULL);
	lb->m_proxy_refused = metrics_counter(m, "proxy_header_refused_total",
	    "proxy-protocol connections closed without a valid PROXY header, "
	    "by frontend and reason (invalid, closed, timeout).",
	    (const char *const[]){ "frontend", "reason", NULL });
	lb->m_handshakes = metrics_counter(m, "tls_handshakes_total",
	    "TLS handshakes completed with clients, by frontend and whether "
	    "the session was new or resumed.",
	    (const char *const[]){ "frontend", "session", NULL });
	if (lb->m_requests == NULL || lb->m_duration == NULL ||
	    lb->m_server_requests == NULL || lb->m_server_failures == NULL ||
	    lb->m_server_up == NULL || lb->m_server_tls == NULL ||
	    lb->m_server_latency == NULL || lb->m_retries == NULL ||
	    lb->m_proxy_refused == NULL || lb->m_handshakes == NULL)
		return seterr(err, errlen, "metrics registration failed");
	return 0;
}

void
lb_proxy_refused(struct lb_frontend *fe, const char *peer, const char *reason,
    const char *why)
{
	fe->proxy_refused++;
	counter_inc(metric_with(fe->lb->m_proxy_refused, (const char *const[]){
	    fe->conf->name, reason, NULL }));
	/* Debug only: anyone who can connect could flood the log. */
	log_debug("frontend %s: %s: no valid PROXY header: %s", fe->conf->name,
	    peer, why);
}

/* ---- frontends ---- */

static int
frontends_start(struct lb *lb, char *err, size_t errlen)
{
	int	 i;

	for (i = 0; i < lb->conf->nfe; i++) {
		struct lb_frontend *fe = &lb->fe[i];

		fe->lb = lb;
		fe->conf = &lb->conf->fe[i];
		if ((fe->fd = net_listen(&fe->conf->addr, 4096, NET_REUSEPORT,
		    err, errlen)) == -1)
			return -1;
		lb->nfe = i + 1;
		fe->tls = tls_config_ref(fe->conf->tls);
		if (ev_fd_add(lb_loop(lb), fe->fd, EV_READ, lb_accept, fe) == -1)
			return seterr(err, errlen, "frontend %s: %s",
			    fe->conf->name, strerror(errno));
	}
	return 0;
}

/* ---- service callbacks ---- */

static int
lb_start(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct lb	*lb = service_arg(svc);

	lb->svc = svc;
	lb->conf = confp;
	lb_stats_init(lb);
	alog_init(&lb->alog, service_loop(svc), LB_LOGBUF_MAX);
	if (metrics_setup(lb, err, errlen) == -1)
		return -1;
	if (lb->conf->access_log != NULL &&
	    (lb->alog.fd = alog_open(lb->conf->access_log, err, errlen)) == -1)
		return -1;
	if (lb_pools_build(lb, lb->conf, err, errlen) == -1)
		return -1;
	lb_state_load(lb);
	if (frontends_start(lb, err, errlen) == -1)
		return -1;
	lb_stats_start(lb);
	return 0;
}

static int
lb_reload(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct lb	*lb = service_arg(svc);
	struct lb_conf	*nc = confp;
	int		 i, log_fd = -1;

	if (nc->nfe != lb->conf->nfe)
		return seterr(err, errlen, "the number of frontends changed: "
		    "needs a restart");
	for (i = 0; i < nc->nfe; i++)
		if (strcmp(nc->fe[i].name, lb->conf->fe[i].name) != 0 ||
		    !net_addr_equal(&nc->fe[i].addr, &lb->conf->fe[i].addr) ||
		    (nc->fe[i].tls == NULL) != (lb->conf->fe[i].tls == NULL))
			return seterr(err, errlen, "frontend %s: changing its "
			    "name or listener needs a restart", nc->fe[i].name);
	if (nc->access_log != NULL &&
	    (log_fd = alog_open(nc->access_log, err, errlen)) == -1)
		return -1;
	if (lb_pools_build(lb, nc, err, errlen) == -1) {
		if (log_fd != -1)
			close(log_fd);
		return -1;
	}
	/* Open connections keep their TLS config (referenced). */
	alog_use(&lb->alog, log_fd);
	for (i = 0; i < nc->nfe; i++) {
		tls_config_inherit_sessions(nc->fe[i].tls, lb->fe[i].tls);
		tls_config_free(lb->fe[i].tls);
		lb->fe[i].tls = tls_config_ref(nc->fe[i].tls);
		lb->fe[i].conf = &nc->fe[i];
	}
	lb->conf = nc;
	lb_state_load(lb);
	return 0;
}

static void
lb_stop(struct service *svc)
{
	struct lb	*lb = service_arg(svc);
	int		 i;

	lb->stopping = true;
	for (i = 0; i < lb->nfe; i++) {
		ev_fd_del(service_loop(svc), lb->fe[i].fd);
		close(lb->fe[i].fd);
		lb->fe[i].fd = -1;
	}
	lb_clients_drain(lb);
	if (lb->nclients == 0)
		service_stopped(svc);
}

static void
lb_cleanup(struct service *svc)
{
	struct lb	*lb = service_arg(svc);
	int		 i;

	lb->stopping = true;
	lb_stats_stop(lb);
	lb_admin_stop(lb);
	lb_clients_close_all(lb);
	lb_pools_free(lb);
	alog_close(&lb->alog);
	for (i = 0; i < lb->nfe; i++) {
		if (lb->fe[i].fd != -1) {
			ev_fd_del(service_loop(svc), lb->fe[i].fd);
			close(lb->fe[i].fd);
		}
		tls_config_free(lb->fe[i].tls);
	}
}

static const struct service_ops lb_ops = {
	.name = "lbd",
	.version = LBD_VERSION,
	.default_conf = "/etc/stackd/lbd.conf",
	.service_conf_offset = offsetof(struct lb_conf, svc),
	.conf_load = lb_conf_load,
	.conf_free = lb_conf_free,
	.start = lb_start,
	.reload = lb_reload,
	.stop = lb_stop,
	.status = lb_status,
	.reopen = lb_reopen,
	.cleanup = lb_cleanup,
	.commands = lb_commands,
};

int
main(int argc, char **argv)
{
	struct lb lb = { .alog = ALOG_INITIALIZER };

	return service_main(&lb_ops, argc, argv, &lb);
}
