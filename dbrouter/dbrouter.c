/* dbrouter — MySQL primary/replica router: main, service callbacks,
 * server state from the monitor, status and metrics. This first part
 * monitors the servers; routing clients comes with the protocol layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "dbr.h"

static const char *const role_names[] = { "unknown", "primary", "replica" };

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
		if (!s->up && ++s->ok_run >= d->conf->rise)
			s->up = true;
		s->role = role_of(&s->health);
	} else {
		s->check_failures++;
		s->ok_run = 0;
		if (s->up && ++s->fail_run >= d->conf->fall)
			s->up = false;
	}
	if (s->up != was)
		log_warnx("server %s is %s: %s", s->name, s->up ? "up" : "down",
		    why);
	server_labels(s, v);
	gauge_set(metric_with(d->m_up, v), s->up ? 1 : 0);
	gauge_set(metric_with(d->m_read_only, v), s->health.read_only ? 1 : 0);
	gauge_set(metric_with(d->m_lag, v), (double)s->health.lag);
	/* ---- failover ---- */
	dbr_failover_checked(s, ok);
}

/* ---- failover ---- */
struct dbr_server *
dbr_server_find(struct dbr *d, const char *name)
{
	int	 i;

	for (i = 0; i < d->nservers; i++)
		if (strcmp(d->servers[i]->name, name) == 0)
			return d->servers[i];
	return NULL;
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
	d->m_checks = metrics_counter(m, "checks_total",
	    "Monitor checks by server and result (ok, failed).",
	    (const char *const[]){ "server", "result", NULL });
	if (d->m_up == NULL || d->m_read_only == NULL || d->m_lag == NULL ||
	    d->m_checks == NULL)
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
	return s;
}

static void
servers_free(struct dbr *d)
{
	int	 i;

	for (i = 0; i < d->nservers; i++) {
		dbr_mon_free(d->servers[i]->mon);
		free(d->servers[i]);
	}
	d->nservers = 0;
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
	/* Nothing can fail from here. */
	for (j = 0; j < d->nservers; j++)
		if (!kept[j]) {
			dbr_mon_free(d->servers[j]->mon);
			free(d->servers[j]);
		}
	for (i = 0; i < conf->nservers; i++) {
		next[i]->conf = &conf->servers[i];
		d->servers[i] = next[i];
	}
	d->nservers = conf->nservers;
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
	/* ---- failover ---- */
	if (dbr_failover_start(d, err, errlen) == -1)
		return -1;
	return servers_build(d, d->conf, err, errlen);
}

static int
dbr_reload(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct dbr	*d = service_arg(svc);

	dbr_failover_reload(d, confp);	/* ---- failover ---- */
	if (servers_build(d, confp, err, errlen) == -1)
		return -1;
	d->conf = confp;
	return 0;
}

static void
dbr_status(struct service *svc, struct ctl_conn *cc)
{
	struct dbr	*d = service_arg(svc);
	int		 i;

	dbr_failover_status(d, cc);	/* ---- failover ---- */
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
		    "check: %s\n", s->name, s->conf->addr_str,
		    s->up ? "up" : "down", role_names[s->role], h->read_only,
		    h->replicating ? "yes" : "no",
		    h->io_running ? "yes" : "no", h->sql_running ? "yes" : "no",
		    lag, h->gtid_current[0] ? h->gtid_current : "-",
		    h->gtid_slave[0] ? h->gtid_slave : "-",
		    (unsigned long long)s->checks,
		    (unsigned long long)s->check_failures,
		    (unsigned long long)s->check_ms, s->check_result);
	}
}

static void
dbr_cleanup(struct service *svc)
{
	dbr_failover_free(service_arg(svc));	/* ---- failover ---- */
	servers_free(service_arg(svc));
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
	.status = dbr_status,
	.cleanup = dbr_cleanup,
	.commands = dbr_failover_commands,	/* ---- failover ---- */
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
