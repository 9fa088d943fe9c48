/* dbrouter failover: the writer, automatic failover, planned switchover,
 * fencing and rejoining an old primary, semi-synchronous replication.
 *
 * One job runs at a time, a short chain of phases; each phase runs a list
 * of statements on one server over a one-shot non-blocking session
 * (dbr_sql.c) and its done function picks the next phase. The phases are
 * a table; nothing here blocks the loop. The rejoin and semi-sync phases
 * are in dbr_repair.c, the shared state in dbr_fo.h. Jobs name servers,
 * they never hold pointers to them across phases: a reload may drop a
 * server.
 *
 *   failover    the writer went down (fall failed checks): survey the
 *               up replicas of it, choose the one that received most
 *               (Gtid_IO_Pos, then @@gtid_current_pos), wait (bounded)
 *               until its relay log is applied, promote it, repoint the
 *               other replicas to it
 *   switchover  dbctl switchover NAME: fence the writer (read_only=1),
 *               wait until NAME applied its @@gtid_binlog_pos
 *               (MASTER_GTID_WAIT), promote NAME, repoint the others and
 *               the old primary; any failure before the promotion is
 *               complete rolls back to the old primary
 *   rejoin      a server that is not the writer but is writable (fenced
 *               at once), or not replicating, or replicating from
 *               elsewhere: checked for errant transactions, then pointed
 *               at the writer
 *   semi-sync   with `semi-sync yes`: rpl_semi_sync_master_enabled on the
 *               writer, rpl_semi_sync_slave_enabled on the replicas
 *
 * Replicas are pointed with MASTER_USE_GTID=slave_pos: a replica's
 * gtid_slave_pos is exactly what it applied from its primary, and a local
 * write made on it by mistake (an errant transaction, counted in
 * gtid_current_pos) must not become a position the new primary is asked
 * for. An old primary has applied nothing by replication since it was
 * promoted, so its gtid_slave_pos is stale: it first gets
 * gtid_slave_pos=@@gtid_binlog_pos (what current_pos would mean for it,
 * made explicit once), after the errant check. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "dbr_fo.h"
#include "dbr_gtid.h"

static const struct fo_phase_ops phases[PH_COUNT];
static void	fo_evaluate(struct dbr_failover *);

const char *const fo_job_names[] = { "idle", "failover", "switchover",
	"rejoin", "semi-sync" };

/* ---- configuration ---- */

/* Names and passwords go into CHANGE MASTER TO between quotes. */
static int
sql_safe(const char *s)
{
	return strpbrk(s, "'\\\"") == NULL;
}

int
dbr_set_repl_user(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	char	**dst = (char **)((char *)obj + d->offset);

	if (!sql_safe(st->argv[1]) || st->argv[1][0] == '\0' ||
	    strlen(st->argv[1]) > 128)
		return conf_error(ctx, st, "replication-user: 1 to 128 "
		    "characters without quotes or backslashes");
	free(*dst);
	if ((*dst = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	return 0;
}

int
dbr_set_repl_password(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	char	**dst = (char **)((char *)obj + d->offset);
	char	 err[512];

	if (dbr_read_secret(st->argv[1], dst, err, sizeof(err)) == -1)
		return conf_error(ctx, st, "replication-password-file: %s", err);
	if (!sql_safe(*dst))
		return conf_error(ctx, st, "replication-password-file: %s: "
		    "quotes and backslashes are not supported", st->argv[1]);
	return 0;
}

int
dbr_failover_conf_check(struct dbr_conf *conf, struct conf_ctx *ctx)
{
	int	 i;

	if (!conf->fo.enabled)
		return 0;
	if (conf->fo.repl_user == NULL)
		return conf_error(ctx, NULL, "failover yes: replication-user "
		    "needed to repoint the replicas");
	for (i = 0; i < conf->nservers; i++)
		if (conf->servers[i].host == NULL)
			return conf_error(ctx, NULL, "failover yes: server %s "
			    "has a unix socket address; replicas need its TCP "
			    "address", conf->servers[i].name);
	return 0;
}

void
dbr_failover_conf_free(struct dbr_failover_conf *fc)
{
	free(fc->repl_user);
	if (fc->repl_password != NULL)
		explicit_bzero(fc->repl_password, strlen(fc->repl_password));
	free(fc->repl_password);
}

/* ---- small helpers ---- */

static struct ev_loop *
loop_of(struct dbr_failover *fo)
{
	return dbr_loop(fo->d);
}

uint64_t
fo_now(struct dbr_failover *fo)
{
	ev_update_now(loop_of(fo));
	return ev_now(loop_of(fo));
}

void
fo_set_state(struct dbr_failover *fo, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(fo->state, sizeof(fo->state), fmt, ap);
	va_end(ap);
}

/* One line of what was done, logged too. */
void
fo_did(struct dbr_failover *fo, const char *fmt, ...)
{
	size_t	 len = strlen(fo->done);
	char	 line[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", fo_job_names[fo->job], line);
	if (len < sizeof(fo->done))
		snprintf(fo->done + len, sizeof(fo->done) - len, "%s\n", line);
}

static void
writer_gauges(struct dbr *d)
{
	int	 i;

	for (i = 0; i < d->nservers; i++)
		gauge_set(metric_with(d->fo->m_writer, (const char *const[]){
		    d->servers[i]->name, NULL }),
		    d->servers[i] == d->writer ? 1 : 0);
}

/* Change the writer, say why at warning level. */
void
fo_writer_set(struct dbr *d, struct dbr_server *s, const char *fmt, ...)
{
	char	 why[512];
	va_list	 ap;

	if (d->writer == s)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warnx("writer %s -> %s (generation %llu): %s",
	    d->writer != NULL ? d->writer->name : "none",
	    s != NULL ? s->name : "none",
	    (unsigned long long)d->writer_gen + 1, why);
	d->writer = s;
	d->writer_gen++;
	counter_inc(metric_series0(d->fo->m_writer_changes));
	writer_gauges(d);
	/* Statements waiting for a writer go on (or fail at once). */
	dbr_clients_writer_changed(d);
}

/* A job changed server name: what its last checks said no longer
 * counts for roles until a check that started afterwards is in. */
void
fo_touch(struct dbr_failover *fo, const char *name)
{
	struct dbr_server *s = dbr_server_find(fo->d, name);

	if (s != NULL) {
		s->fo_touched = fo_now(fo);
		s->fo_fresh = false;
	}
}

/* Does s replicate from p (by the address p is configured with)? */
bool
fo_replicates_from(const struct dbr_server *s, const struct dbr_server *p)
{
	return s->health.replicating && p->conf->host != NULL &&
	    strcmp(s->health.master_host, p->conf->host) == 0 &&
	    s->health.master_port == p->conf->port;
}

void
fo_go(struct dbr_failover *fo, enum fo_phase ph)
{
	fo->phase = ph;
	phases[ph].start(fo);
}

/* Does the phase change its server (so that checks older than its end
 * no longer tell the server's role)? */
static bool
phase_changes(enum fo_phase ph)
{
	return ph != PH_SURVEY && ph != PH_DRAIN && ph != PH_CATCHUP &&
	    ph != PH_SEMI_LOOK;
}

static void
fo_sql_done(struct dbr_sql *q, void *arg)
{
	struct dbr_failover *fo = arg;

	/* a check that began before the statements ended may have seen
	 * the server half-way */
	if (phase_changes(fo->phase))
		fo_touch(fo, dbr_sql_server(q));
	fo->q = NULL;
	phases[fo->phase].done(fo, q);
	dbr_sql_free(q);
}

struct dbr_sql *
fo_sql(struct dbr_failover *fo, const char *name, uint64_t timeout_ms)
{
	struct dbr_server *s = dbr_server_find(fo->d, name);

	if (s == NULL)
		return NULL;
	return dbr_sql_new(s, timeout_ms, fo_sql_done, fo);
}

void
fo_run(struct dbr_failover *fo, struct dbr_sql *q)
{
	if (phase_changes(fo->phase))
		fo_touch(fo, dbr_sql_server(q));
	fo->q = q;
	dbr_sql_start(q);
}

/* Statements that make q's server a replica of primary. */
void
fo_add_repoint(struct dbr_failover *fo, struct dbr_sql *q, const char *primary,
    bool ex)
{
	struct dbr_conf	*conf = fo->d->conf;
	struct dbr_server *p = dbr_server_find(fo->d, primary);

	dbr_sql_add(q, "STOP SLAVE");
	if (conf->fo.semi_sync)
		dbr_sql_add(q, "SET GLOBAL rpl_semi_sync_slave_enabled=ON");
	dbr_sql_add(q, "SET GLOBAL read_only=1");
	if (ex)
		dbr_sql_add(q, "SET GLOBAL gtid_slave_pos=@@gtid_binlog_pos");
	dbr_sql_add(q, "CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%u, "
	    "MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos",
	    p != NULL && p->conf->host != NULL ? p->conf->host : "",
	    p != NULL ? p->conf->port : 0,
	    conf->fo.repl_user != NULL ? conf->fo.repl_user : "",
	    conf->fo.repl_password != NULL ? conf->fo.repl_password : "");
	dbr_sql_add(q, "START SLAVE");
}

/* ---- the end of a job ---- */

static void
again_cb(struct ev_loop *loop, void *arg)
{
	fo_evaluate(arg);
}

static void
reply_switchover(struct dbr_failover *fo, bool ok, const char *result)
{
	if (fo->cc == NULL)
		return;
	if (ok) {
		ctl_reply_ok(fo->cc);
		ctl_printf(fo->cc, "%s", fo->done);
	} else {
		ctl_reply_error(fo->cc, "%s", result);
		ctl_printf(fo->cc, "%s", fo->done);
	}
	ctl_end(fo->cc);
	fo->cc = NULL;
}

void
fo_job_end(struct dbr_failover *fo, bool ok, const char *fmt, ...)
{
	char		 result[512];
	va_list		 ap;
	uint64_t	 ms = fo_now(fo) - fo->started;

	va_start(ap, fmt);
	vsnprintf(result, sizeof(result), fmt, ap);
	va_end(ap);
	switch (fo->job) {
	case JOB_FAILOVER:
	case JOB_SWITCHOVER:
		snprintf(fo->last, sizeof(fo->last), "%s %s in %llums: %.400s",
		    fo_job_names[fo->job], ok ? "ok" : "failed",
		    (unsigned long long)ms, result);
		counter_inc(metric_with(fo->job == JOB_FAILOVER ?
		    fo->m_failovers : fo->m_switchovers,
		    (const char *const[]){ ok ? "ok" : "failed", NULL }));
		log_warnx("%s", fo->last);
		if (fo->job == JOB_SWITCHOVER)
			reply_switchover(fo, ok, result);
		if (fo->job == JOB_FAILOVER && !ok)
			fo->next_failover = fo_now(fo) +
			    fo->d->conf->fo.timeout_ms;
		break;
	case JOB_REJOIN:
	case JOB_SEMI:
		if (!ok)
			log_warnx("%s %s: %s", fo_job_names[fo->job], fo->target,
			    result);
		break;
	case JOB_IDLE:
		break;
	}
	fo->job = JOB_IDLE;
	fo_set_state(fo, "idle");
	ev_timer_stop(loop_of(fo), &fo->poll);
	ev_defer(loop_of(fo), &fo->again);
}

void
fo_job_begin(struct dbr_failover *fo, enum fo_job job, const char *target)
{
	fo->job = job;
	fo->started = fo_now(fo);
	fo->done[0] = '\0';
	snprintf(fo->target, sizeof(fo->target), "%s", target);
}

/* ---- failover: survey, drain ---- */

static void
failover_begin(struct dbr_failover *fo, struct dbr_server *old)
{
	struct dbr	*d = fo->d;
	int		 i;

	fo_job_begin(fo, JOB_FAILOVER, "");
	snprintf(fo->old, sizeof(fo->old), "%s", old->name);
	fo->ncand = fo->cand_i = 0;
	fo->best = -1;
	for (i = 0; i < d->nservers; i++) {
		struct dbr_server *s = d->servers[i];

		if (s == old || !s->up || s->role != ROLE_REPLICA ||
		    !fo_replicates_from(s, old))
			continue;
		if (!s->health.sql_running) {
			fo_did(fo, "%s left out: its SQL thread is stopped",
			    s->name);
			continue;
		}
		snprintf(fo->cand[fo->ncand++].name, DBR_NAME_MAX, "%s",
		    s->name);
	}
	if (fo->ncand == 0) {
		fo_job_end(fo, false, "%s is down and no up replica of it can "
		    "take over", old->name);
		return;
	}
	fo_go(fo, PH_SURVEY);
}

static void
survey_start(struct dbr_failover *fo)
{
	struct dbr_sql	*q;
	struct fo_cand	*c = &fo->cand[fo->cand_i];

	fo_set_state(fo, "failover: reading %s's GTID positions", c->name);
	if ((q = fo_sql(fo, c->name, fo->d->conf->fo.timeout_ms)) == NULL) {
		c->ok = false;
		phases[PH_SURVEY].done(fo, NULL);
		return;
	}
	dbr_sql_add(q, "SHOW SLAVE STATUS");
	dbr_sql_add(q, "SELECT @@gtid_current_pos AS cur");
	fo_run(fo, q);
}

/* Take a candidate's positions from a SHOW SLAVE STATUS + current_pos
 * run; false when they are missing. */
static bool
take_positions(struct fo_cand *c, struct dbr_sql *q)
{
	const char	*io, *cur;

	if (q == NULL || dbr_sql_error(q) != NULL ||
	    (io = dbr_sql_value(q, 0, "Gtid_IO_Pos")) == NULL ||
	    (cur = dbr_sql_value(q, 1, "cur")) == NULL)
		return false;
	snprintf(c->io, sizeof(c->io), "%s", io);
	snprintf(c->cur, sizeof(c->cur), "%s", cur);
	return true;
}

static void
survey_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct dbr_cand	 dc[DBR_MAX_SERVERS];
	struct fo_cand	*c = &fo->cand[fo->cand_i];
	int		 i;

	c->ok = take_positions(c, q);
	if (!c->ok)
		fo_did(fo, "%s left out: %s", c->name, q != NULL &&
		    dbr_sql_error(q) != NULL ? dbr_sql_error(q) :
		    "no replication status");
	if (++fo->cand_i < fo->ncand) {
		fo_go(fo, PH_SURVEY);
		return;
	}
	for (i = 0; i < fo->ncand; i++) {
		dc[i].name = fo->cand[i].name;
		dc[i].io_pos = fo->cand[i].ok ? fo->cand[i].io : NULL;
		dc[i].current_pos = fo->cand[i].ok ? fo->cand[i].cur : NULL;
		if (fo->cand[i].ok)
			fo_did(fo, "candidate %s: received %s, applied %s",
			    fo->cand[i].name, fo->cand[i].io[0] ?
			    fo->cand[i].io : "-", fo->cand[i].cur[0] ?
			    fo->cand[i].cur : "-");
	}
	if ((fo->best = dbr_cand_best(dc, fo->ncand)) == -1) {
		fo_job_end(fo, false, "no candidate with readable GTID positions");
		return;
	}
	snprintf(fo->target, sizeof(fo->target), "%s", fo->cand[fo->best].name);
	fo_did(fo, "%s is the most advanced replica", fo->target);
	fo->deadline = fo_now(fo) + fo->d->conf->fo.timeout_ms;
	phases[PH_DRAIN].done(fo, NULL);	/* the survey's positions first */
}

static void
poll_cb(struct ev_loop *loop, void *arg)
{
	struct dbr_failover *fo = arg;

	phases[fo->phase].start(fo);
}

static void
drain_start(struct dbr_failover *fo)
{
	struct dbr_sql	*q;

	fo_set_state(fo, "failover: waiting for %s to apply its relay log",
	    fo->target);
	if ((q = fo_sql(fo, fo->target, fo->d->conf->fo.timeout_ms)) == NULL) {
		fo_job_end(fo, false, "%s: gone from the configuration",
		    fo->target);
		return;
	}
	dbr_sql_add(q, "SHOW SLAVE STATUS");
	dbr_sql_add(q, "SELECT @@gtid_current_pos AS cur");
	fo_run(fo, q);
}

/* q NULL: judge the survey's positions (no new query). */
static void
drain_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct fo_cand	*c = &fo->cand[fo->best];

	fo->phase = PH_DRAIN;
	if (q != NULL && !take_positions(c, q)) {
		fo_job_end(fo, false, "%s while waiting for its relay log: %s",
		    c->name, dbr_sql_error(q) != NULL ? dbr_sql_error(q) :
		    "no replication status");
		return;
	}
	if (dbr_gtid_str_includes(c->cur, c->io)) {
		fo_did(fo, "%s applied all it received (%s)", c->name,
		    c->cur[0] ? c->cur : "-");
		fo_go(fo, PH_PROMOTE);
		return;
	}
	if (fo_now(fo) >= fo->deadline) {
		fo_job_end(fo, false, "%s still has unapplied relay log events "
		    "after %llums (received %s, applied %s): not promoted",
		    c->name, (unsigned long long)fo->d->conf->fo.timeout_ms,
		    c->io, c->cur);
		return;
	}
	ev_timer_start(loop_of(fo), &fo->poll, FO_POLL_MS);
}

/* ---- promote, repoint ---- */

static void	repoint_list(struct dbr_failover *);

static void
promote_start(struct dbr_failover *fo)
{
	struct dbr_sql	*q;

	fo_set_state(fo, "%s: promoting %s", fo_job_names[fo->job], fo->target);
	fo->promoting = true;
	if ((q = fo_sql(fo, fo->target, fo->d->conf->fo.timeout_ms)) == NULL) {
		phases[PH_PROMOTE].done(fo, NULL);
		return;
	}
	dbr_sql_add(q, "STOP SLAVE");
	dbr_sql_add(q, "RESET SLAVE ALL");
	/* Semi-sync master only with a replica to acknowledge: with none up
	 * (two servers, one dead) the first commits would each wait the whole
	 * rpl_semi_sync_master_timeout for nothing. The repair turns it on
	 * once a replica follows the new primary (fo_semi_needed). */
	repoint_list(fo);
	fo->promote_semi = fo->d->conf->fo.semi_sync && fo->ntodo > 0;
	if (fo->promote_semi)
		dbr_sql_add(q, "SET GLOBAL rpl_semi_sync_master_enabled=ON");
	dbr_sql_add(q, "SET GLOBAL read_only=0");
	fo->sel = dbr_sql_add(q, "SELECT @@gtid_current_pos AS cur");
	fo_run(fo, q);
}

/* The servers that follow the new primary at once: the up replicas and,
 * in a switchover, the old primary (fenced, caught up). A failover's old
 * primary and the other servers rejoin later, errant check first. */
static void
repoint_list(struct dbr_failover *fo)
{
	struct dbr	*d = fo->d;
	int		 i;

	fo->ntodo = fo->todo_i = fo->repoint_failed = 0;
	for (i = 0; i < d->nservers; i++) {
		struct dbr_server *s = d->servers[i];
		bool	 ex = strcmp(s->name, fo->old) == 0;

		if (strcmp(s->name, fo->target) == 0)
			continue;
		if (ex ? fo->job != JOB_SWITCHOVER :
		    !s->up || s->role != ROLE_REPLICA)
			continue;
		snprintf(fo->todo[fo->ntodo].name, DBR_NAME_MAX, "%s", s->name);
		fo->todo[fo->ntodo++].ex = ex;
	}
}

static void
promote_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct dbr_server *s = dbr_server_find(fo->d, fo->target);
	const char	*cur;

	if (q == NULL || s == NULL || dbr_sql_error(q) != NULL) {
		const char *why = q != NULL && dbr_sql_error(q) != NULL ?
		    dbr_sql_error(q) : "gone from the configuration";

		if (fo->job == JOB_SWITCHOVER) {
			snprintf(fo->why, sizeof(fo->why), "promoting %s: %s",
			    fo->target, why);
			fo->rollback_i = 0;
			fo_go(fo, PH_ROLLBACK);
		} else
			fo_job_end(fo, false, "promoting %s: %s", fo->target, why);
		return;
	}
	cur = dbr_sql_value(q, fo->sel, "cur");
	snprintf(fo->promote_pos, sizeof(fo->promote_pos), "%s",
	    cur != NULL ? cur : "");
	snprintf(fo->promoted_from, sizeof(fo->promoted_from), "%s", fo->old);
	fo_did(fo, "promoted %s (STOP SLAVE, RESET SLAVE ALL,%s read_only=0) "
	    "at %s", fo->target, fo->promote_semi ?
	    " semi-sync master on," : "", fo->promote_pos[0] ?
	    fo->promote_pos : "-");
	s->fo_semi_role = fo->promote_semi ? ROLE_PRIMARY : -1;
	s->fo_note[0] = '\0';
	fo_writer_set(fo->d, s, "%s: %s promoted in place of %s",
	    fo_job_names[fo->job], s->name, fo->old);
	repoint_list(fo);
	fo_go(fo, PH_REPOINT);
}

static void
repoint_start(struct dbr_failover *fo)
{
	struct fo_todo	*t;
	struct dbr_sql	*q;

	if (fo->todo_i == fo->ntodo) {
		if (fo->repoint_failed > 0)
			fo_job_end(fo, true, "%s is the primary; %d server(s) "
			    "could not be repointed (see the log)", fo->target,
			    fo->repoint_failed);
		else
			fo_job_end(fo, true, "%s is the primary", fo->target);
		return;
	}
	t = &fo->todo[fo->todo_i];
	fo_set_state(fo, "%s: repointing %s to %s", fo_job_names[fo->job],
	    t->name, fo->target);
	if ((q = fo_sql(fo, t->name, fo->d->conf->fo.timeout_ms)) == NULL) {
		phases[PH_REPOINT].done(fo, NULL);
		return;
	}
	fo_add_repoint(fo, q, fo->target, t->ex);
	fo_run(fo, q);
}

static void
repoint_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct fo_todo	*t = &fo->todo[fo->todo_i];
	struct dbr_server *s = dbr_server_find(fo->d, t->name);

	if (q == NULL || dbr_sql_error(q) != NULL) {
		fo->repoint_failed++;
		fo_did(fo, "could not repoint %s: %s", t->name, q != NULL ?
		    dbr_sql_error(q) : "gone from the configuration");
	} else {
		fo_did(fo, "%s %s as a replica of %s "
		    "(MASTER_USE_GTID=slave_pos%s)",
		    t->ex ? "rejoined" : "repointed", t->name, fo->target,
		    t->ex ? ", gtid_slave_pos from its binlog" : "");
		if (s != NULL)
			s->fo_semi_role = fo->d->conf->fo.semi_sync ?
			    ROLE_REPLICA : -1;
	}
	fo->todo_i++;
	fo_go(fo, PH_REPOINT);
}

/* ---- switchover: fence, catch up, roll back ---- */

static void
fence_start(struct dbr_failover *fo)
{
	struct dbr_sql	*q;

	fo_set_state(fo, "switchover: fencing %s", fo->old);
	if ((q = fo_sql(fo, fo->old, fo->wait_ms + 5000)) == NULL) {
		phases[PH_FENCE].done(fo, NULL);
		return;
	}
	/* read_only waits for the global read lock: bounded */
	dbr_sql_add(q, "SET SESSION lock_wait_timeout=%llu",
	    (unsigned long long)(fo->wait_ms + 999) / 1000);
	dbr_sql_add(q, "SET GLOBAL read_only=1");
	dbr_sql_add(q, "SELECT @@gtid_binlog_pos AS pos");
	fo_run(fo, q);
}

static void
fence_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	const char	*pos;
	struct dbr_gtid_pos p;

	if (q == NULL || dbr_sql_error(q) != NULL ||
	    (pos = dbr_sql_value(q, 2, "pos")) == NULL ||
	    dbr_gtid_parse(pos, &p) == -1) {
		snprintf(fo->why, sizeof(fo->why), "fencing %s: %s", fo->old,
		    q != NULL && dbr_sql_error(q) != NULL ? dbr_sql_error(q) :
		    "no readable @@gtid_binlog_pos");
		fo_go(fo, PH_ROLLBACK);
		return;
	}
	snprintf(fo->fence_pos, sizeof(fo->fence_pos), "%s", pos);
	fo_did(fo, "fenced %s (read_only=1) at %s", fo->old, pos[0] ? pos : "-");
	fo_go(fo, PH_CATCHUP);
}

static void
catchup_start(struct dbr_failover *fo)
{
	struct dbr_sql	*q;

	fo_set_state(fo, "switchover: waiting for %s to apply %s", fo->target,
	    fo->fence_pos);
	if ((q = fo_sql(fo, fo->target, fo->wait_ms + 5000)) == NULL) {
		phases[PH_CATCHUP].done(fo, NULL);
		return;
	}
	dbr_sql_add(q, "SELECT MASTER_GTID_WAIT('%s', %.3f) AS w",
	    fo->fence_pos, (double)fo->wait_ms / 1000.0);
	fo_run(fo, q);
}

static void
catchup_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	const char	*w = q != NULL ? dbr_sql_value(q, 0, "w") : NULL;

	if (w == NULL || strcmp(w, "0") != 0) {
		if (w != NULL)
			snprintf(fo->why, sizeof(fo->why), "%s did not apply "
			    "%.300s within %llums", fo->target, fo->fence_pos,
			    (unsigned long long)fo->wait_ms);
		else
			snprintf(fo->why, sizeof(fo->why), "waiting for %s: %s",
			    fo->target, q != NULL && dbr_sql_error(q) != NULL ?
			    dbr_sql_error(q) : "no answer");
		fo_go(fo, PH_ROLLBACK);
		return;
	}
	fo_did(fo, "%s applied %s in %llums", fo->target, fo->fence_pos,
	    (unsigned long long)(fo_now(fo) - fo->started));
	fo_go(fo, PH_PROMOTE);
}

/* Step 0: the old primary writable again; step 1 (only if the promotion
 * began): the target back to replicating from it. */
static void
rollback_start(struct dbr_failover *fo)
{
	struct dbr_sql	*q;
	const char	*on = fo->rollback_i == 0 ? fo->old : fo->target;

	if (fo->rollback_i == 1 && !fo->promoting) {
		phases[PH_ROLLBACK].done(fo, NULL);
		return;
	}
	fo_set_state(fo, "switchover: rolling back on %s", on);
	if ((q = fo_sql(fo, on, fo->d->conf->fo.timeout_ms)) == NULL) {
		phases[PH_ROLLBACK].done(fo, NULL);
		return;
	}
	if (fo->rollback_i == 0)
		dbr_sql_add(q, "SET GLOBAL read_only=0");
	else
		fo_add_repoint(fo, q, fo->old, false);
	fo_run(fo, q);
}

static void
rollback_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct dbr_server *old = dbr_server_find(fo->d, fo->old);
	bool		 ok = q != NULL && dbr_sql_error(q) == NULL;

	if (fo->rollback_i == 0) {
		fo->rollback_ok = ok && old != NULL;
		if (fo->rollback_ok) {
			fo_did(fo, "rolled back: %s writable again (read_only=0)",
			    fo->old);
			fo_writer_set(fo->d, old, "switchover to %s failed, %s "
			    "is the primary again", fo->target, fo->old);
		} else
			fo_did(fo, "could not make %s writable again: %s",
			    fo->old, q != NULL && dbr_sql_error(q) != NULL ?
			    dbr_sql_error(q) : "gone from the configuration");
	} else if (q != NULL) {
		if (ok)
			fo_did(fo, "%s replicates from %s again", fo->target,
			    fo->old);
		else
			fo_did(fo, "could not repoint %s back to %s: %s",
			    fo->target, fo->old, dbr_sql_error(q));
	}
	if (++fo->rollback_i < 2) {
		fo_go(fo, PH_ROLLBACK);
		return;
	}
	fo_job_end(fo, false, "%s; %s", fo->why, fo->rollback_ok ?
	    "rolled back, nothing changed" : "AND THE ROLLBACK FAILED: "
	    "no writer");
}

static const struct fo_phase_ops phases[PH_COUNT] = {
	[PH_SURVEY] = { "survey", survey_start, survey_done },
	[PH_DRAIN] = { "drain", drain_start, drain_done },
	[PH_FENCE] = { "fence", fence_start, fence_done },
	[PH_CATCHUP] = { "catch-up", catchup_start, catchup_done },
	[PH_PROMOTE] = { "promote", promote_start, promote_done },
	[PH_REPOINT] = { "repoint", repoint_start, repoint_done },
	[PH_ROLLBACK] = { "rollback", rollback_start, rollback_done },
	[PH_REJOIN_LOOK] = { "rejoin-check", fo_rejoin_look_start,
	    fo_rejoin_look_done },
	[PH_REJOIN] = { "rejoin", fo_rejoin_start, fo_rejoin_done },
	[PH_SEMI_LOOK] = { "semi-sync-check", fo_semi_look_start,
	    fo_semi_look_done },
	[PH_SEMI_SET] = { "semi-sync-set", fo_semi_set_start, fo_semi_set_done },
};

/* ---- what to do next ---- */

/* The writer from the monitor's view: the single up primary. */
static void
writer_pick(struct dbr_failover *fo)
{
	struct dbr	*d = fo->d;
	struct dbr_server *only = NULL;
	int		 i, n = 0;

	for (i = 0; i < d->nservers; i++)
		if (d->servers[i]->up && d->servers[i]->fo_fresh &&
		    d->servers[i]->role == ROLE_PRIMARY) {
			only = d->servers[i];
			n++;
		}
	if (n == 1) {
		fo_writer_set(d, only, "%s is the only up primary", only->name);
		fo->lost[0] = '\0';
		fo->warned_many = false;
	} else if (n > 1 && !fo->warned_many) {
		log_warnx("writer: %d servers are writable primaries: none is "
		    "chosen until only one is", n);
		fo->warned_many = true;
	}
}

static void
fo_evaluate(struct dbr_failover *fo)
{
	struct dbr	*d = fo->d;
	struct dbr_conf	*conf = d->conf;
	struct dbr_server *w = d->writer, *lost;
	uint64_t	 now;
	int		 i, r;

	if (fo->job != JOB_IDLE || d->stopping)
		return;
	now = fo_now(fo);
	/* A writer marked down by a broken connection loses its writes at
	 * once (they wait for a writer); only the monitor's own failed
	 * checks (fall) make it a failover. */
	if (w != NULL && !w->up) {
		snprintf(fo->lost, sizeof(fo->lost), "%s", w->name);
		fo_writer_set(d, NULL, "%s is down: %s", w->name, w->check_result);
		if (conf->fo.enabled && dbr_lock_may_act(fo) &&
		    dbr_server_confirmed_down(w))
			failover_begin(fo, w);
		return;
	}
	if (w != NULL && w->fo_fresh && w->role != ROLE_PRIMARY) {
		fo_writer_set(d, NULL, "%s is no longer a primary (read_only %d, "
		    "replicating %s)", w->name, w->health.read_only,
		    w->health.replicating ? "yes" : "no");
		return;
	}
	if (w == NULL) {
		lost = fo->lost[0] ? dbr_server_find(d, fo->lost) : NULL;
		if (conf->fo.enabled && dbr_lock_may_act(fo) && lost != NULL &&
		    dbr_server_confirmed_down(lost) && now >= fo->next_failover) {
			failover_begin(fo, lost);
			return;
		}
		writer_pick(fo);
		return;
	}
	if (!dbr_lock_may_act(fo))
		return;		/* a standby repairs nothing */
	for (i = 0; conf->fo.enabled && i < d->nservers; i++)
		if (fo_needs_rejoin(d, d->servers[i]) &&
		    (d->servers[i]->role == ROLE_PRIMARY ||
		    now >= d->servers[i]->fo_next_try)) {
			fo_rejoin_begin(fo, d->servers[i]);
			return;
		}
	/* replicas first: a semi-sync primary without one waits at commit */
	for (r = ROLE_REPLICA; conf->fo.semi_sync && r >= ROLE_PRIMARY; r--)
		for (i = 0; i < d->nservers; i++)
			if (fo_semi_needed(d, d->servers[i]) == r) {
				fo_semi_begin(fo, d->servers[i], r);
				return;
			}
}

void
dbr_failover_checked(struct dbr_server *s, bool ok)
{
	struct dbr	*d = s->dbr;

	if (d->fo == NULL)
		return;
	if (!ok && !s->up)
		s->fo_semi_role = -1;	/* set up again when it is back */
	/* the check began after the last job touched s: its roles count */
	if (ok && ev_now(dbr_loop(d)) - s->check_ms > s->fo_touched)
		s->fo_fresh = true;
	gauge_set(metric_with(d->fo->m_writer, (const char *const[]){
	    s->name, NULL }), s == d->writer ? 1 : 0);
	dbr_lock_tally(d->fo);
	fo_evaluate(d->fo);
}

void
dbr_failover_lost(struct dbr_server *s)
{
	struct dbr	*d = s->dbr;

	if (d->fo != NULL && s == d->writer)
		fo_evaluate(d->fo);
}

/* ---- switchover NAME [TIMEOUT] ---- */

/* arg is the struct dbr, which outlives the control socket (the
 * failover state is freed before it). */
static void
switchover_closed(struct ctl_conn *cc, void *arg)
{
	struct dbr	*d = arg;

	if (d->fo != NULL && d->fo->cc == cc)
		d->fo->cc = NULL;
}

/* Why s cannot be promoted by a switchover from writer w, or NULL. */
static const char *
not_healthy(struct dbr_server *s, struct dbr_server *w, char *buf,
    size_t len)
{
	if (!s->up)
		snprintf(buf, len, "down (%.200s)", s->check_result);
	else if (!s->health.replicating)
		snprintf(buf, len, "not replicating");
	else if (!fo_replicates_from(s, w))
		snprintf(buf, len, "replicating from %.100s:%u, not from %s",
		    s->health.master_host, s->health.master_port, w->name);
	else if (!s->health.io_running || !s->health.sql_running)
		snprintf(buf, len, "replication thread stopped (io %s, sql %s)",
		    s->health.io_running ? "yes" : "no",
		    s->health.sql_running ? "yes" : "no");
	else
		return NULL;
	return buf;
}

static void
cmd_switchover(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	struct dbr	*d = service_arg(arg);
	struct dbr_failover *fo = d->fo;
	struct dbr_server *s, *w = d->writer;
	uint64_t	 ms = d->conf->fo.switchover_timeout_ms;
	char		 buf[256];
	const char	*why;

	if (argc == 3 && conf_parse_uint(argv[2], &ms) == 0)
		ms *= 1000;
	else if (argc == 3 && conf_parse_duration(argv[2], &ms) == -1) {
		ctl_reply_error(cc, "switchover: bad TIMEOUT %s (seconds, or "
		    "a duration such as 500ms)", argv[2]);
		return;
	}
	if (ms == 0 || ms > 3600 * 1000) {
		ctl_reply_error(cc, "switchover: TIMEOUT from 1ms to 1h");
		return;
	}
	if ((s = dbr_server_find(d, argv[1])) == NULL) {
		ctl_reply_error(cc, "switchover: no server %s", argv[1]);
		return;
	}
	if (fo->job != JOB_IDLE) {
		ctl_reply_error(cc, "switchover: busy, %s is running (%s); "
		    "try again when status says idle", fo_job_names[fo->job],
		    fo->state);
		return;
	}
	if (d->conf->fo.repl_user == NULL) {
		ctl_reply_error(cc, "switchover: no replication-user in the "
		    "configuration");
		return;
	}
	if (!dbr_lock_may_act(fo)) {
		ctl_reply_error(cc, "switchover: standby: another dbrouter "
		    "holds the failover lock (here on %d of %d running "
		    "servers); ask that one", fo->lock_held, fo->lock_running);
		return;
	}
	if (w == NULL) {
		ctl_reply_error(cc, "switchover: no writer to switch over from");
		return;
	}
	if (s == w) {
		ctl_reply_error(cc, "switchover: %s is the primary already",
		    s->name);
		return;
	}
	if (s->conf->host == NULL || w->conf->host == NULL) {
		ctl_reply_error(cc, "switchover: %s has a unix socket address; "
		    "replicas need its TCP address", s->conf->host == NULL ?
		    s->name : w->name);
		return;
	}
	if ((why = not_healthy(s, w, buf, sizeof(buf))) != NULL) {
		ctl_reply_error(cc, "switchover: %s is not a healthy replica "
		    "of %s: %s", s->name, w->name, why);
		return;
	}
	fo_job_begin(fo, JOB_SWITCHOVER, s->name);
	snprintf(fo->old, sizeof(fo->old), "%s", w->name);
	fo->wait_ms = ms;
	fo->promoting = false;
	fo->rollback_i = 0;
	fo->rollback_ok = false;
	fo->why[0] = '\0';
	fo->cc = cc;
	ctl_stream(cc, switchover_closed, d);
	log_warnx("switchover: %s to %s requested (wait at most %llums)",
	    w->name, s->name, (unsigned long long)ms);
	fo_writer_set(d, NULL, "switchover from %s to %s: fencing %s", w->name,
	    s->name, w->name);
	fo_go(fo, PH_FENCE);
}

void
dbr_cmd_switchover(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	cmd_switchover(cc, argc, argv, arg);
}

/* ---- life ---- */

int
dbr_failover_start(struct dbr *d, char *err, size_t errlen)
{
	struct metrics	*m = service_metrics(d->svc);
	struct dbr_failover *fo;
	static const char *const rl[] = { "result", NULL };
	static const char *const results[] = { "ok", "failed" };
	size_t		 i;

	if ((fo = calloc(1, sizeof(*fo))) == NULL)
		return seterr(err, errlen, "out of memory");
	d->fo = fo;
	fo->d = d;
	fo_set_state(fo, "idle");
	ev_timer_init(&fo->poll, poll_cb, fo);
	ev_deferred_init(&fo->again, again_cb, fo);
	fo->m_failovers = metrics_counter(m, "failovers_total",
	    "Automatic failovers by result (ok: a replica was promoted).", rl);
	fo->m_switchovers = metrics_counter(m, "switchovers_total",
	    "Switchovers asked with dbctl, by result.", rl);
	fo->m_writer = metrics_gauge(m, "writer",
	    "1 for the server writes go to, 0 for the others.",
	    (const char *const[]){ "server", NULL });
	fo->m_writer_changes = metrics_counter(m, "writer_changes_total",
	    "Times the writer changed (none counts as a writer).", NULL);
	fo->m_lock = metrics_gauge(m, "failover_lock",
	    "1 when this dbrouter may fail over: failover-lock held on a "
	    "majority of the running servers, or not used.", NULL);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));	/* back-off */
	if (fo->m_failovers == NULL || fo->m_switchovers == NULL ||
	    fo->m_writer == NULL || fo->m_writer_changes == NULL ||
	    fo->m_lock == NULL)
		return seterr(err, errlen, "metrics registration failed");
	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		counter_add(metric_with(fo->m_failovers,
		    (const char *const[]){ results[i], NULL }), 0);
		counter_add(metric_with(fo->m_switchovers,
		    (const char *const[]){ results[i], NULL }), 0);
	}
	counter_add(metric_series0(fo->m_writer_changes), 0);
	return 0;
}

void
dbr_failover_reload(struct dbr *d, struct dbr_conf *newconf)
{
	int	 i;

	if (d->writer == NULL)
		return;
	for (i = 0; i < newconf->nservers; i++)
		if (strcmp(newconf->servers[i].name, d->writer->name) == 0 &&
		    strcmp(newconf->servers[i].addr_str,
		    d->writer->conf->addr_str) == 0)
			return;
	fo_writer_set(d, NULL, "%s is no longer in the configuration",
	    d->writer->name);
}

void
dbr_failover_status(struct dbr *d, struct ctl_conn *cc)
{
	struct dbr_failover *fo = d->fo;
	int		 i;

	if (fo == NULL)
		return;
	ctl_printf(cc, "writer: %s, generation %llu\n",
	    d->writer != NULL ? d->writer->name : "none",
	    (unsigned long long)d->writer_gen);
	ctl_printf(cc, "failover: %s, semi-sync %s, %s\n",
	    d->conf->fo.enabled ? "on" : "off",
	    d->conf->fo.semi_sync ? "on" : "off", fo->state);
	dbr_lock_status(d, cc);
	ctl_printf(cc, "last failover: %s\n", fo->last[0] ? fo->last : "none");
	for (i = 0; i < d->nservers; i++)
		if (d->servers[i]->fo_note[0])
			ctl_printf(cc, "failover note %s: %s\n",
			    d->servers[i]->name, d->servers[i]->fo_note);
}

void
dbr_failover_free(struct dbr *d)
{
	struct dbr_failover *fo = d->fo;

	if (fo == NULL)
		return;
	if (fo->cc != NULL) {
		ctl_reply_error(fo->cc, "switchover: dbrouter is stopping "
		    "(during %s)", fo->state);
		ctl_end(fo->cc);
	}
	dbr_sql_free(fo->q);
	ev_timer_stop(loop_of(fo), &fo->poll);
	ev_defer_cancel(loop_of(fo), &fo->again);
	free(fo);
	d->fo = NULL;
	d->writer = NULL;
}
