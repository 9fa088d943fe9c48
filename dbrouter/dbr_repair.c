/* dbrouter failover, the repairs: a server that is not the writer but
 * is writable is fenced at once (read_only=1); one that is not
 * replicating, or replicates from elsewhere, is checked for errant
 * transactions and pointed at the writer; with semi-sync yes, the writer
 * gets rpl_semi_sync_master_enabled and the replicas
 * rpl_semi_sync_slave_enabled. Phases of dbr_failover.c's job engine. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "dbr_fo.h"
#include "dbr_gtid.h"

/* Does s, not the writer, need rejoining? Writable: at once (its last
 * check was good); otherwise once it is up. */
bool
fo_needs_rejoin(struct dbr *d, struct dbr_server *s)
{
	if (s == d->writer || s->ok_run == 0 || !s->fo_fresh)
		return false;
	if (s->role == ROLE_PRIMARY)
		return true;
	if (!s->up)
		return false;
	return !s->health.replicating || !fo_replicates_from(s, d->writer);
}

/* Some up server replicates from the writer w. */
static bool
writer_followed(struct dbr *d, struct dbr_server *w)
{
	int	 i;

	for (i = 0; i < d->nservers; i++) {
		struct dbr_server *s = d->servers[i];

		if (s != w && s->up && s->health.replicating &&
		    fo_replicates_from(s, w))
			return true;
	}
	return false;
}

/* The role semi-sync must be set up for on s, or -1. The writer's
 * master side waits for a replica that follows it: without one, every
 * first commit would wait rpl_semi_sync_master_timeout for nothing. */
int
fo_semi_needed(struct dbr *d, struct dbr_server *s)
{
	if (!s->up || s->ok_run == 0 || !s->fo_fresh)
		return -1;
	if (s == d->writer && s->fo_semi_role != ROLE_PRIMARY &&
	    writer_followed(d, s))
		return ROLE_PRIMARY;
	if (s != d->writer && s->role == ROLE_REPLICA &&
	    fo_replicates_from(s, d->writer) && s->fo_semi_role != ROLE_REPLICA)
		return ROLE_REPLICA;
	return -1;
}

/* ---- rejoin ---- */

void
fo_rejoin_begin(struct dbr_failover *fo, struct dbr_server *s)
{
	fo_job_begin(fo, JOB_REJOIN, s->name);
	s->fo_next_try = fo_now(fo) + FO_REJOIN_BACKOFF_MS;
	fo_go(fo, PH_REJOIN_LOOK);
}

void
fo_rejoin_look_start(struct dbr_failover *fo)
{
	struct dbr_server *s = dbr_server_find(fo->d, fo->target);
	struct dbr_sql	*q;

	fo_set_state(fo, "rejoin: fencing and checking %s", fo->target);
	if (s == NULL || (q = fo_sql(fo, s->name,
	    fo->d->conf->fo.timeout_ms)) == NULL) {
		fo_job_end(fo, false, "gone or out of memory");
		return;
	}
	/* a writable server that is not the writer: fenced first thing */
	dbr_sql_add(q, "SET SESSION lock_wait_timeout=%llu",
	    (unsigned long long)(fo->d->conf->fo.timeout_ms + 999) / 1000);
	dbr_sql_add(q, "SET GLOBAL read_only=1");
	dbr_sql_add(q, "SELECT @@gtid_binlog_pos AS pos");
	fo_run(fo, q);
}

void
fo_rejoin_look_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct dbr	*d = fo->d;
	struct dbr_server *s = dbr_server_find(d, fo->target);
	const char	*pos, *ref;
	bool		 was_writable;

	if (dbr_sql_error(q) != NULL || s == NULL || d->writer == NULL ||
	    (pos = dbr_sql_value(q, 2, "pos")) == NULL) {
		fo_job_end(fo, false, "%s", dbr_sql_error(q) != NULL ?
		    dbr_sql_error(q) : "no position, or no writer any more");
		return;
	}
	was_writable = s->role == ROLE_PRIMARY;
	if (was_writable) {
		s->health.read_only = true;
		s->role = ROLE_UNKNOWN;
		fo_did(fo, "fenced %s (read_only=1): %s is the writer", s->name,
		    d->writer->name);
	}
	/* the old primary of the last promotion is compared with where the
	 * new one stood then; others with the writer's last position */
	ref = strcmp(s->name, fo->promoted_from) == 0 && fo->promote_pos[0] ?
	    fo->promote_pos : d->writer->health.gtid_current;
	if (!dbr_gtid_str_includes(ref, pos)) {
		snprintf(s->fo_note, sizeof(s->fo_note), "errant transactions: "
		    "its binlog is at %.60s, %s had %.60s; rebuild it", pos,
		    d->writer->name, ref);
		s->fo_next_try = fo_now(fo) + FO_ERRANT_BACKOFF_MS;
		fo_job_end(fo, false, "left fenced, not rejoined: %s",
		    s->fo_note);
		return;
	}
	fo_go(fo, PH_REJOIN);
}

void
fo_rejoin_start(struct dbr_failover *fo)
{
	struct dbr_server *s = dbr_server_find(fo->d, fo->target);
	struct dbr_sql	*q;

	if (s == NULL || fo->d->writer == NULL || (q = fo_sql(fo, s->name,
	    fo->d->conf->fo.timeout_ms)) == NULL) {
		fo_job_end(fo, false, "gone, or no writer any more");
		return;
	}
	fo_set_state(fo, "rejoin: pointing %s at %s", s->name,
	    fo->d->writer->name);
	snprintf(fo->old, sizeof(fo->old), "%s", fo->d->writer->name);
	/* not replicating: an ex-primary, its slave position is stale */
	fo_add_repoint(fo, q, fo->d->writer->name, !s->health.replicating);
	fo_run(fo, q);
}

void
fo_rejoin_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct dbr_server *s = dbr_server_find(fo->d, fo->target);

	if (dbr_sql_error(q) != NULL) {
		fo_job_end(fo, false, "%s", dbr_sql_error(q));
		return;
	}
	if (s != NULL) {
		s->fo_note[0] = '\0';
		s->fo_semi_role = fo->d->conf->fo.semi_sync ? ROLE_REPLICA : -1;
	}
	fo_did(fo, "%s rejoined as a replica of %s (MASTER_USE_GTID=slave_pos)",
	    fo->target, fo->old);
	fo_job_end(fo, true, "rejoined");
}

/* ---- semi-sync ---- */

void
fo_semi_begin(struct dbr_failover *fo, struct dbr_server *s, enum dbr_role r)
{
	fo_job_begin(fo, JOB_SEMI, s->name);
	fo->semi_role = r;
	fo_go(fo, PH_SEMI_LOOK);
}

void
fo_semi_look_start(struct dbr_failover *fo)
{
	struct dbr_sql	*q;

	fo_set_state(fo, "semi-sync: checking %s", fo->target);
	if ((q = fo_sql(fo, fo->target, fo->d->conf->fo.timeout_ms)) == NULL) {
		fo_job_end(fo, false, "gone or out of memory");
		return;
	}
	dbr_sql_add(q, "SELECT @@rpl_semi_sync_master_enabled AS m, "
	    "@@rpl_semi_sync_slave_enabled AS s");
	fo_run(fo, q);
}

void
fo_semi_look_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct dbr_server *s = dbr_server_find(fo->d, fo->target);
	const char	*v = dbr_sql_value(q, 0,
	    fo->semi_role == ROLE_PRIMARY ? "m" : "s");

	if (dbr_sql_error(q) != NULL || v == NULL || s == NULL) {
		if (s != NULL)	/* not again and again */
			s->fo_semi_role = fo->semi_role;
		fo_job_end(fo, false, "%s", dbr_sql_error(q) != NULL ?
		    dbr_sql_error(q) : "no semi-sync variables (MariaDB "
		    "10.3 or later has them built in)");
		return;
	}
	if (strcmp(v, "1") == 0) {
		s->fo_semi_role = fo->semi_role;
		fo_job_end(fo, true, "already on");
		return;
	}
	fo_go(fo, PH_SEMI_SET);
}

void
fo_semi_set_start(struct dbr_failover *fo)
{
	struct dbr_sql	*q;

	fo_set_state(fo, "semi-sync: turning it on on %s", fo->target);
	if ((q = fo_sql(fo, fo->target, fo->d->conf->fo.timeout_ms)) == NULL) {
		fo_job_end(fo, false, "gone or out of memory");
		return;
	}
	if (fo->semi_role == ROLE_PRIMARY)
		dbr_sql_add(q, "SET GLOBAL rpl_semi_sync_master_enabled=ON");
	else {
		dbr_sql_add(q, "SET GLOBAL rpl_semi_sync_slave_enabled=ON");
		/* the replica side is negotiated when the IO thread connects */
		dbr_sql_add(q, "STOP SLAVE IO_THREAD");
		dbr_sql_add(q, "START SLAVE IO_THREAD");
	}
	fo_run(fo, q);
}

void
fo_semi_set_done(struct dbr_failover *fo, struct dbr_sql *q)
{
	struct dbr_server *s = dbr_server_find(fo->d, fo->target);

	if (s != NULL)
		s->fo_semi_role = fo->semi_role;
	if (dbr_sql_error(q) != NULL) {
		fo_job_end(fo, false, "%s", dbr_sql_error(q));
		return;
	}
	log_info("semi-sync: %s on on %s", fo->semi_role == ROLE_PRIMARY ?
	    "rpl_semi_sync_master_enabled" : "rpl_semi_sync_slave_enabled",
	    fo->target);
	fo_job_end(fo, true, "on");
}
