/* dbrouter — MySQL primary/replica router: main, service callbacks,
 * server state from the monitor, the writer, status and metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "tls.h"
#include "metrics.h"
#include "dbr.h"
#include "dbr_client.h"

static const char *const role_names[] = { "unknown", "primary", "replica" };
static const char *const admin_names[] = { "ready", "drain", "maint" };

struct dbr_server *
dbr_server_find(struct dbr *d, const char *name)
{
	int	 i;

	for (i = 0; i < d->nservers; i++)
		if (strcmp(d->servers[i]->name, name) == 0)
			return d->servers[i];
	return NULL;
}


static const char *const *
server_labels(struct dbr_server *s, const char *v[2])
{
	v[0] = s->name;
	v[1] = NULL;
	return v;
}

/* What the server is by its own account: a replica replicates; a
 * writable server that does not is a primary. */
static enum dbr_role
role_of(const struct dbr_health *h)
{
	if (h->replicating)
		return ROLE_REPLICA;
	return h->read_only ? ROLE_UNKNOWN : ROLE_PRIMARY;
}

/* A good check that began before a connection to s failed says nothing
 * of s now: it does not count towards rise. */
static bool
check_predates_loss(const struct dbr_server *s)
{
	return s->lost_at != 0 &&
	    ev_now(dbr_loop(s->dbr)) - s->check_ms <= s->lost_at;
}

void
dbr_server_checked(struct dbr_server *s, bool ok, const char *why)
{
	struct dbr	*d = s->dbr;
	const char	*v[2];
	bool		 was = s->up;

	s->checks++;
	snprintf(s->check_result, sizeof(s->check_result), "%s", why);
	counter_inc(metric_with(d->m_checks, (const char *const[]){ s->name,
	    ok ? "ok" : "failed", NULL }));
	if (ok) {
		s->fail_run = 0;
		if (s->health.lag >= 0 &&
		    (uint64_t)s->health.lag * 1000 <= d->conf->max_lag_ms)
			s->lag_ok_at = ev_now(dbr_loop(d));
		if (!s->up && !check_predates_loss(s) &&
		    ++s->ok_run >= d->conf->rise) {
			s->up = true;
			s->lost_at = 0;
		}
		s->role = role_of(&s->health);
	} else {
		s->check_failures++;
		s->ok_run = 0;
		/* counted while down too: the monitor's own word on a server
		 * marked down passively (dbr_server_confirmed_down) */
		if (s->fail_run < d->conf->fall)
			s->fail_run++;
		if (s->up && s->fail_run >= d->conf->fall)
			s->up = false;
	}
	if (s->up != was)
		log_warnx("server %s is %s: %s", s->name, s->up ? "up" : "down",
		    why);
	server_labels(s, v);
	gauge_set(metric_with(d->m_up, v), s->up ? 1 : 0);
	gauge_set(metric_with(d->m_read_only, v), s->health.read_only ? 1 : 0);
	gauge_set(metric_with(d->m_lag, v), (double)s->health.lag);
	dbr_failover_checked(s, ok);	/* roles, the writer, failover */
}

bool
dbr_server_confirmed_down(const struct dbr_server *s)
{
	return !s->up && s->fail_run >= s->dbr->conf->fall;
}

void
dbr_server_lost(struct dbr_server *s, const char *why)
{
	struct dbr	*d = s->dbr;
	const char	*v[2];

	s->lost_at = ev_now(dbr_loop(d));
	s->ok_run = 0;
	/* even when already down: the monitor checks again now */
	ev_defer(dbr_loop(d), &s->lost_kick);
	if (!s->up)
		return;
	s->up = false;
	s->passive_downs++;
	snprintf(s->check_result, sizeof(s->check_result), "passive: %s", why);
	log_warnx("server %s is down: a backend connection failed: %s "
	    "(passive; the monitor checks it now)", s->name, why);
	server_labels(s, v);
	counter_inc(metric_with(d->m_passive, v));
	gauge_set(metric_with(d->m_up, v), 0);
}

/* The rest of dbr_server_lost, from the loop: the caller may be deep in
 * a session's routing. */
static void
lost_kick(struct ev_loop *loop, void *arg)
{
	struct dbr_server *s = arg;

	(void)loop;
	dbr_mon_check_now(s->mon);
	if (s->up)
		return;
	dbr_bconns_close_idle(s);
	while (s->waiters != NULL)
		dbr_server_slot_free(s);	/* they choose again */
	dbr_failover_lost(s);
}

/* Each second: queries per second per server, for status. */
static void
rate_tick(struct ev_loop *loop, void *arg)
{
	struct dbr	*d = arg;
	int		 i;

	for (i = 0; i < d->nservers; i++) {
		struct dbr_server *s = d->servers[i];

		s->qps = (double)(s->queries - s->queries_prev);
		s->queries_prev = s->queries;
	}
	ev_timer_start(loop, &d->rate_timer, 1000);
}

/* Backend connections by state, counted when metrics are rendered. */
static void
render_backends(void *arg)
{
	struct dbr	*d = arg;
	int		 i;

	metric_clear(d->m_backends);
	for (i = 0; i < d->nservers; i++) {
		struct dbr_server *s = d->servers[i];

		gauge_set(metric_with(d->m_backends, (const char *const[]){
		    s->name, "busy", NULL }), dbr_bconns_busy(s));
		gauge_set(metric_with(d->m_backends, (const char *const[]){
		    s->name, "idle", NULL }), s->nidle);
	}
}

static int
metrics_setup(struct dbr *d, char *err, size_t errlen)
{
	struct metrics	*m = service_metrics(d->svc);
	static const char *const sl[] = { "server", NULL };

	d->m_up = metrics_gauge(m, "server_up",
	    "1 when the monitor's checks say the server is up.", sl);
	d->m_read_only = metrics_gauge(m, "server_read_only",
	    "The server's @@read_only at the last good check.", sl);
	d->m_lag = metrics_gauge(m, "server_replication_lag_seconds",
	    "Seconds_Behind_Master at the last good check; -1 when the "
	    "server does not replicate or the lag is unknown.", sl);
	d->m_passive = metrics_counter(m, "passive_downs_total",
	    "Servers marked down because a backend connection to them "
	    "failed (refused, reset, timed out, lost mid-command).", sl);
	d->m_checks = metrics_counter(m, "checks_total",
	    "Monitor checks by server and result (ok, failed).",
	    (const char *const[]){ "server", "result", NULL });
	d->m_queries = metrics_counter(m, "queries_total",
	    "Commands routed, by server and slot (primary, replica).",
	    (const char *const[]){ "server", "route", NULL });
	d->m_clients = metrics_gauge(m, "clients",
	    "Client connections open.", NULL);
	d->m_backends = metrics_gauge(m, "backend_connections",
	    "Backend connections by server and state (busy, idle).",
	    (const char *const[]){ "server", "state", NULL });
	d->m_client_errors = metrics_counter(m, "client_errors_total",
	    "Clients refused or closed, by reason.",
	    (const char *const[]){ "reason", NULL });
	d->m_ryw = metrics_counter(m, "read_your_writes_total",
	    "Reads after a write: on a replica that had applied it, or on "
	    "the primary when none had within read-your-writes-timeout.",
	    (const char *const[]){ "result", NULL });
	if (d->m_up == NULL || d->m_read_only == NULL || d->m_lag == NULL ||
	    d->m_checks == NULL || d->m_queries == NULL || d->m_ryw == NULL ||
	    d->m_clients == NULL || d->m_backends == NULL ||
	    d->m_client_errors == NULL || d->m_passive == NULL ||
	    metrics_on_render(m, render_backends, d) == -1)
		return seterr(err, errlen, "metrics registration failed");
	return 0;
}

static struct dbr_server *
server_new(struct dbr *d, struct dbr_server_conf *sc)
{
	struct dbr_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->dbr = d;
	s->conf = sc;
	snprintf(s->name, sizeof(s->name), "%s", sc->name);
	s->health.lag = -1;
	s->fo_semi_role = -1;	/* ---- failover ---- */
	snprintf(s->check_result, sizeof(s->check_result), "not checked yet");
	ev_deferred_init(&s->lost_kick, lost_kick, s);
	return s;
}

/* A server leaves: its connections close (their sessions are told) and
 * sessions waiting for it look again. */
static void
server_free(struct dbr *d, struct dbr_server *s)
{
	struct dbr_client *c;

	for (c = d->clients; c != NULL; c = c->next)
		if (c->ryw_reached == s)
			c->ryw_reached = NULL;
	dbr_bconns_close_all(s);
	while ((c = s->waiters) != NULL) {
		s->waiters = c->wnext;
		c->waiting_on = NULL;
		route_resume(c);
	}
	dbr_mon_free(s->mon);
	ev_defer_cancel(dbr_loop(d), &s->lost_kick);
	free(s);
}

static void
servers_free(struct dbr *d)
{
	int		 i, n = d->nservers;
	struct dbr_server *gone[DBR_MAX_SERVERS];

	memcpy(gone, d->servers, sizeof(gone));
	d->nservers = 0;
	for (i = 0; i < n; i++)
		server_free(d, gone[i]);
}

/* Servers for conf: kept by name and address (their state and session
 * carry over), new ones made, the others dropped. */
static int
servers_build(struct dbr *d, struct dbr_conf *conf, char *err,
    size_t errlen)
{
	struct dbr_server *next[DBR_MAX_SERVERS] = { NULL };
	bool		 kept[DBR_MAX_SERVERS] = { false };
	bool		 made[DBR_MAX_SERVERS] = { false };
	int		 i, j;

	for (i = 0; i < conf->nservers; i++) {
		for (j = 0; j < d->nservers && next[i] == NULL; j++)
			if (!kept[j] && strcmp(d->servers[j]->name,
			    conf->servers[i].name) == 0 &&
			    strcmp(d->servers[j]->conf->addr_str,
			    conf->servers[i].addr_str) == 0) {
				next[i] = d->servers[j];
				kept[j] = true;
			}
		if (next[i] == NULL) {
			if ((next[i] = server_new(d, &conf->servers[i])) == NULL)
				goto nomem;
			made[i] = true;
			if ((next[i]->mon = dbr_mon_new(next[i])) == NULL)
				goto nomem;
		}
	}
	/* Nothing can fail from here. The new set is in place before the
	 * dropped servers go, so sessions they wake choose among it. */
	{
		struct dbr_server *gone[DBR_MAX_SERVERS];
		int		 ngone = 0;

		for (j = 0; j < d->nservers; j++)
			if (!kept[j])
				gone[ngone++] = d->servers[j];
		for (i = 0; i < conf->nservers; i++) {
			next[i]->conf = &conf->servers[i];
			d->servers[i] = next[i];
		}
		d->nservers = conf->nservers;
		for (j = 0; j < ngone; j++)
			server_free(d, gone[j]);
	}
	return 0;
 nomem:
	/* Only what this call made: the running servers stay as they were. */
	for (i = 0; i < conf->nservers; i++)
		if (made[i]) {
			dbr_mon_free(next[i]->mon);
			free(next[i]);
		}
	return seterr(err, errlen, "out of memory building servers");
}

static int
dbr_start(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct dbr	*d = service_arg(svc);

	d->svc = svc;
	d->conf = confp;
	if (metrics_setup(d, err, errlen) == -1)
		return -1;
	if (dbr_failover_start(d, err, errlen) == -1 ||
	    servers_build(d, d->conf, err, errlen) == -1)
		return -1;
	ev_timer_init(&d->rate_timer, rate_tick, d);
	ev_timer_start(dbr_loop(d), &d->rate_timer, 1000);
	return dbr_listen_start(d, err, errlen);
}

static bool
same_listeners(const struct dbr_conf *a, const struct dbr_conf *b)
{
	int	 i;

	if (a->nlisten != b->nlisten)
		return false;
	for (i = 0; i < a->nlisten; i++)
		if (!net_addr_equal(&a->listen[i].addr, &b->listen[i].addr))
			return false;
	return true;
}

static int
dbr_reload(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct dbr	*d = service_arg(svc);
	struct dbr_conf	*nc = confp;

	if (!same_listeners(d->conf, nc))
		return seterr(err, errlen, "listen changed: that needs a "
		    "restart");
	dbr_failover_reload(d, nc);
	/* Sessions read users, limits and timeouts through d->conf. */
	if (servers_build(d, nc, err, errlen) == -1)
		return -1;
	/* TLS clients resume the sessions the old certificates made. */
	tls_config_inherit_sessions(nc->tls_server, d->conf->tls_server);
	d->conf = nc;
	return 0;
}

/* Graceful stop: no new clients; the ones there end when their command
 * is answered (see cl_command_done), or at shutdown-timeout. */
static void
dbr_stop(struct service *svc)
{
	struct dbr	*d = service_arg(svc);
	struct dbr_client *c, *next;

	d->stopping = true;
	dbr_listen_stop(d);
	for (c = d->clients; c != NULL; c = next) {
		next = c->next;
		if (c->state != CL_BUSY && c->state != CL_INFILE)
			cl_close(c, "dbrouter stops");
	}
	if (d->nclients == 0)
		service_stopped(svc);
}

static void
dbr_status(struct service *svc, struct ctl_conn *cc)
{
	struct dbr	*d = service_arg(svc);
	int		 i;

	dbr_failover_status(d, cc);
	ctl_printf(cc, "clients: %u of %u\n", d->nclients,
	    d->conf->max_clients);
	for (i = 0; i < d->nservers; i++) {
		struct dbr_server *s = d->servers[i];
		struct dbr_health *h = &s->health;
		char	 lag[24];

		if (h->lag >= 0)
			snprintf(lag, sizeof(lag), "%llds", (long long)h->lag);
		else
			snprintf(lag, sizeof(lag), "-");
		ctl_printf(cc, "server %s: %s %s %s, read_only %d, "
		    "replicating %s, io %s, sql %s, lag %s, gtid_current %s, "
		    "gtid_slave %s, checks %llu, failed %llu, check %llums, "
		    "admin %s, backends %u busy %u idle of %u, qps %.0f, "
		    "queries %llu, passive downs %llu, check: %s\n", s->name, s->conf->addr_str,
		    s->up ? "up" : "down", role_names[s->role], h->read_only,
		    h->replicating ? "yes" : "no",
		    h->io_running ? "yes" : "no", h->sql_running ? "yes" : "no",
		    lag, h->gtid_current[0] ? h->gtid_current : "-",
		    h->gtid_slave[0] ? h->gtid_slave : "-",
		    (unsigned long long)s->checks,
		    (unsigned long long)s->check_failures,
		    (unsigned long long)s->check_ms, admin_names[s->admin],
		    dbr_bconns_busy(s), s->nidle, d->conf->backend_max, s->qps,
		    (unsigned long long)s->queries,
		    (unsigned long long)s->passive_downs, s->check_result);
	}
}

static void
dbr_cleanup(struct service *svc)
{
	struct dbr	*d = service_arg(svc);

	d->stopping = true;
	dbr_clients_close_all(d);
	dbr_listen_stop(d);
	ev_timer_stop(dbr_loop(d), &d->rate_timer);
	dbr_failover_free(d);
	servers_free(d);
}

static const struct service_ops dbr_ops = {
	.name = "dbrouter",
	.version = DBR_VERSION,
	.default_conf = "/etc/stackd/dbrouter.conf",
	.service_conf_offset = offsetof(struct dbr_conf, svc),
	.conf_load = dbr_conf_load,
	.conf_free = dbr_conf_free,
	.start = dbr_start,
	.reload = dbr_reload,
	.stop = dbr_stop,
	.status = dbr_status,
	.cleanup = dbr_cleanup,
	.commands = dbr_commands,
};

int
main(int argc, char **argv)
{
	struct dbr	 d = { 0 };
	int		 rv;

	if (mysql_library_init(0, NULL, NULL) != 0) {
		fprintf(stderr, "dbrouter: the MariaDB client library would "
		    "not start\n");
		return 1;
	}
	rv = service_main(&dbr_ops, argc, argv, &d);
	mysql_library_end();
	return rv;
}
