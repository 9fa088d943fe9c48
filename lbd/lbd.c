/* lbd — TLS load balancer: main, service callbacks, frontends, access log,
 * metrics and the server admin commands. */
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

static const char *const admin_names[] = { "ready", "drain", "maint" };

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
	lb->m_retries = metrics_counter(m, "retries_total",
	    "Requests sent again to another server.", NULL);
	lb->m_handshakes = metrics_counter(m, "tls_handshakes_total",
	    "TLS handshakes completed with clients, by frontend and whether "
	    "the session was new or resumed.",
	    (const char *const[]){ "frontend", "session", NULL });
	if (lb->m_requests == NULL || lb->m_duration == NULL ||
	    lb->m_server_requests == NULL || lb->m_server_failures == NULL ||
	    lb->m_server_up == NULL || lb->m_retries == NULL ||
	    lb->m_handshakes == NULL)
		return seterr(err, errlen, "metrics registration failed");
	return 0;
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
	alog_init(&lb->alog, service_loop(svc), LB_LOGBUF_MAX);
	if (metrics_setup(lb, err, errlen) == -1)
		return -1;
	if (lb->conf->access_log != NULL &&
	    (lb->alog.fd = alog_open(lb->conf->access_log, err, errlen)) == -1)
		return -1;
	if (lb_pools_build(lb, lb->conf, err, errlen) == -1)
		return -1;
	return frontends_start(lb, err, errlen);
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
		tls_config_free(lb->fe[i].tls);
		lb->fe[i].tls = tls_config_ref(nc->fe[i].tls);
		lb->fe[i].conf = &nc->fe[i];
	}
	lb->conf = nc;
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
lb_status(struct service *svc, struct ctl_conn *cc)
{
	struct lb	*lb = service_arg(svc);
	int		 i, j;

	for (i = 0; i < lb->nfe; i++)
		ctl_printf(cc, "frontend %s: listen %s%s, connections %llu, "
		    "requests %llu\n", lb->fe[i].conf->name,
		    lb->fe[i].conf->addr_str, lb->fe[i].tls ? " tls" : "",
		    (unsigned long long)lb->fe[i].nconns,
		    (unsigned long long)lb->fe[i].requests);
	for (i = 0; i < lb->npool; i++) {
		struct lb_pool *p = lb->pools[i];

		ctl_printf(cc, "pool %s: balance %s, %d servers\n", p->conf->name,
		    (const char *[]){ "roundrobin", "leastconn", "source",
		    "hash-header", "p2c" }[p->conf->balance], p->nservers);
		for (j = 0; j < p->nservers; j++) {
			struct lb_server *s = p->servers[j];

			ctl_printf(cc, "server %s/%s: %s %s %s, weight %u, "
			    "active %u, idle %u, requests %llu, failures %llu, "
			    "latency %.1fms, check: %s\n", p->conf->name,
			    s->name, s->addr_str, s->t.up ? "up" : "down",
			    admin_names[s->t.admin], s->t.weight, s->t.active,
			    s->nidle, (unsigned long long)s->requests,
			    (unsigned long long)s->failures,
			    (double)s->t.ewma_latency_us / 1000.0,
			    s->check_result);
		}
	}
}

/* server drain|maint|ready POOL/NAME, server weight POOL/NAME N */
static void
cmd_server(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	struct lb	*lb = service_arg(arg);
	struct lb_server *s;
	char		*slash, *end;
	unsigned long	 w;
	int		 i;

	if ((slash = strchr(argv[2], '/')) == NULL) {
		ctl_reply_error(cc, "expected POOL/SERVER, got \"%s\"", argv[2]);
		return;
	}
	*slash = '\0';
	if ((s = lb_server_find(lb, argv[2], slash + 1)) == NULL) {
		ctl_reply_error(cc, "no server %s in pool %s", slash + 1,
		    argv[2]);
		return;
	}
	if (strcmp(argv[1], "weight") == 0) {
		errno = 0;
		w = argc == 4 ? strtoul(argv[3], &end, 10) : 0;
		if (argc != 4 || errno != 0 || *end != '\0' || w < 1 ||
		    w > LB_WEIGHT_MAX) {
			ctl_reply_error(cc, "server weight: expected 1..%d",
			    LB_WEIGHT_MAX);
			return;
		}
		s->t.weight = (unsigned)w;
		s->weight_set = true;
		(void)lb_balancer_update(&s->pool->bal);
		ctl_reply_ok(cc);
		return;
	}
	for (i = 0; i < 3; i++)
		if (strcmp(argv[1], admin_names[i]) == 0 && argc == 3) {
			s->t.admin = (enum lb_admin)i;
			log_info("server %s/%s: %s", s->pool->conf->name,
			    s->name, admin_names[i]);
			if (i != ADMIN_READY)
				lb_server_close_idle(s);
			ctl_reply_ok(cc);
			ctl_printf(cc, "active %u\n", s->t.active);
			return;
		}
	ctl_reply_error(cc, "server: expected drain, maint, ready or weight");
}

static const struct ctl_command lb_commands[] = {
	{ "server", 2, 3, "server drain|maint|ready POOL/NAME | "
	    "server weight POOL/NAME N", cmd_server },
	{ NULL, 0, 0, NULL, NULL }
};

static void
lb_cleanup(struct service *svc)
{
	struct lb	*lb = service_arg(svc);
	int		 i;

	lb->stopping = true;
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
