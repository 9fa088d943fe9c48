/* dbrouter failover-lock: several dbrouters with `failover yes` on the
 * same servers (one per web host) must not fail over at once. As
 * MaxScale's cooperative_monitoring_locks=majority_of_running does it,
 * each of them takes a named lock, GET_LOCK('stackd_dbrouter_failover',
 * 0), on every server it reaches, over its monitor session: the session
 * is persistent, so the lock is held as long as the session lives and
 * the server lets go of it when the session ends (the dbrouter died, or
 * lost the server). Only the dbrouter holding the lock on more than half
 * of the running servers (those whose last check was good) fails over,
 * repairs or switches over; the others are standbys and follow the
 * writer from read_only, as with `failover no`.
 *
 * Two dbrouters that started together may split the locks so that
 * neither has a majority: one that lacks it and is refused a lock it
 * wants gives up all of its own and waits a random one to four check
 * intervals before it tries again, so one of them ends up with all.
 *
 * The monitor runs the statement dbr_lock_sql asks for as the last step
 * of a check; dbr_lock_tally, after every check, counts the locks and
 * decides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "dbr_fo.h"

#define LOCK_NAME	"stackd_dbrouter_failover"
#define LOCK_GET	"SELECT GET_LOCK('" LOCK_NAME "', 0)"
#define LOCK_RELEASE	"SELECT RELEASE_LOCK('" LOCK_NAME "')"
#define LOCK_BACKOFF_MAX 4	/* check intervals, after giving up */

static bool
lock_wanted(const struct dbr *d)
{
	return d->conf->fo.enabled && d->conf->fo.lock && d->fo != NULL;
}

const char *
dbr_lock_sql(struct dbr_server *s)
{
	struct dbr	*d = s->dbr;

	if (s->fo_lock == LOCK_HELD && (s->fo_lock_release || !lock_wanted(d))) {
		s->fo_lock_asked_get = false;
		return LOCK_RELEASE;
	}
	s->fo_lock_release = false;
	if (!lock_wanted(d) || s->fo_lock == LOCK_HELD ||
	    ev_now(dbr_loop(d)) < d->fo->lock_retry_at)
		return NULL;
	s->fo_lock_asked_get = true;
	return LOCK_GET;
}

void
dbr_lock_result(struct dbr_server *s, const char *value)
{
	bool	 one = value != NULL && strcmp(value, "1") == 0;

	if (!s->fo_lock_asked_get) {
		s->fo_lock = LOCK_NONE;		/* released (or not ours) */
		s->fo_lock_release = false;
		return;
	}
	/* GET_LOCK: 1 ours, 0 another session has it, NULL an error */
	s->fo_lock = one ? LOCK_HELD : value != NULL ? LOCK_TAKEN : LOCK_NONE;
	if (s->fo_lock == LOCK_TAKEN && s->dbr->fo != NULL)
		s->dbr->fo->lock_refused = true;
}

void
dbr_lock_dropped(struct dbr_server *s)
{
	s->fo_lock = LOCK_NONE;
	s->fo_lock_release = false;
}

/* Running: the last check was good (its session holds what it holds). */
static bool
lock_running(const struct dbr_server *s)
{
	return s->checks > 0 && s->fail_run == 0;
}

/* Without a majority while another dbrouter holds some: give ours up
 * and let it have them. */
static void
lock_give_up(struct dbr_failover *fo)
{
	struct dbr	*d = fo->d;
	uint64_t	 wait = d->conf->check_interval_ms *
			    (1 + (uint64_t)(random() % LOCK_BACKOFF_MAX));
	int		 i;

	for (i = 0; i < d->nservers; i++)
		if (d->servers[i]->fo_lock == LOCK_HELD)
			d->servers[i]->fo_lock_release = true;
	fo->lock_retry_at = ev_now(dbr_loop(d)) + wait;
	log_warnx("failover lock: held on %d of %d running servers and "
	    "another dbrouter holds the rest: giving them up, trying again "
	    "in %llums", fo->lock_held, fo->lock_running,
	    (unsigned long long)wait);
}

void
dbr_lock_tally(struct dbr_failover *fo)
{
	struct dbr	*d = fo->d;
	bool		 was = fo->lock_majority, unseen = false;
	int		 i;

	fo->lock_held = fo->lock_running = 0;
	for (i = 0; i < d->nservers; i++) {
		struct dbr_server *s = d->servers[i];

		unseen |= s->checks == 0;
		if (!lock_running(s))
			continue;
		fo->lock_running++;
		if (s->fo_lock == LOCK_HELD && !s->fo_lock_release)
			fo->lock_held++;
	}
	/* not before every server was checked once: one of one is no
	 * majority while the others' locks are unknown */
	fo->lock_majority = !lock_wanted(d) ||
	    (!unseen && fo->lock_held * 2 > fo->lock_running);
	/* on fresh evidence only: a refusal from the last check, not one
	 * from before the other dbrouter went away */
	if (!fo->lock_majority && fo->lock_held > 0 && fo->lock_refused)
		lock_give_up(fo);
	fo->lock_refused = false;
	gauge_set(metric_series0(fo->m_lock), fo->lock_majority ? 1 : 0);
	if (lock_wanted(d) && was != fo->lock_majority)
		log_warnx("failover lock: %s (held on %d of %d running servers)",
		    fo->lock_majority ? "held by this dbrouter: it fails over" :
		    "standby: another dbrouter fails over, this one follows",
		    fo->lock_held, fo->lock_running);
}

bool
dbr_lock_may_act(const struct dbr_failover *fo)
{
	return fo->lock_majority;
}

void
dbr_lock_status(struct dbr *d, struct ctl_conn *cc)
{
	struct dbr_failover *fo = d->fo;

	if (!d->conf->fo.enabled)
		return;
	if (!d->conf->fo.lock)
		ctl_printf(cc, "failover lock: off\n");
	else
		ctl_printf(cc, "failover lock: %s on %d/%d running servers\n",
		    fo->lock_majority ? "held" : "standby, held", fo->lock_held,
		    fo->lock_running);
}
