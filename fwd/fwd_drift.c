/* fwd_drift — drift repair: when a monitor event shows that another
 * process changed or deleted table inet stackd, log it and re-apply the
 * running policy; when events were lost (ENOBUFS), compare the kernel's
 * generation with the one fwd's last commit produced and, if it moved,
 * the live table with the policy, and re-apply if they differ. The re-apply runs from a short timer so that the burst of events
 * one foreign transaction sends (a delete table sends one per rule, set
 * and chain) costs one apply. */
#include <stdio.h>

#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "fwd.h"

#define RESYNC_DELAY_MS	10	/* coalesce one transaction's events */
#define RESYNC_RETRY_MS	250	/* after a failed re-apply */

/* After lost events (or the deaf window of fwd's own apply): if no one
 * committed since fwd's last commit, nothing can differ. Otherwise a full
 * resync: the live table against the ruleset fwd applied (rules, sets,
 * fwd's bans), and a re-apply only when they differ. 1: re-apply, 0: no,
 * -1: the compare failed (re-apply to be sure). */
static int
overrun_check(struct fwd *fw, char *err, size_t errlen)
{
	uint32_t	 gen;
	int		 rc;

	if (fw_nl_genid(fw->nl, &gen, err, errlen) == 0 && gen == fw->own_genid) {
		if (fw->lost)
			log_info("full resync: no commit since fwd's last "
			    "(generation %u), nothing to compare", gen);
		return 0;
	}
	if ((rc = fwd_table_matches(fw, err, errlen)) == 1) {
		log_info("full resync: table inet %s matches the policy "
		    "(generation %u, fwd's last %u)", FWD_TABLE, gen,
		    fw->own_genid);
		fw->own_genid = gen;	/* the dump saw gen or later */
		return 0;
	}
	if (rc == 0)
		log_warnx("full resync: table inet %s differs from the policy "
		    "(%s): re-applying", FWD_TABLE, err);
	else
		log_warnx("full resync: cannot compare (%s): re-applying", err);
	return 1;
}

static void
resync(struct ev_loop *loop, void *arg)
{
	struct fwd	*fw = arg;
	char		 err[512];

	if (fw->overrun && !fw->drifted) {
		fw->overrun = false;
		if (overrun_check(fw, err, sizeof(err)) == 0) {
			fw->lost = false;
			return;
		}
	}
	fw->overrun = fw->drifted = fw->lost = false;
	if (fwd_apply(fw, fw->policy, err, sizeof(err)) == -1) {
		fw->drift_failures++;
		log_warnx("drift repair failed, retrying: %s", err);
		fw->drifted = true;
		ev_timer_start(loop, &fw->resync, RESYNC_RETRY_MS);
		return;
	}
	fw->drift_repairs++;
	log_info("drift repaired: table inet %s re-applied", FWD_TABLE);
}

static void
on_event(enum fw_mon_event ev, const char *what, uint32_t portid, void *arg)
{
	struct fwd	*fw = arg;

	switch (ev) {
	case FW_MON_OTHER:
		fw->other_events++;
		return;
	case FW_MON_DRIFT:
		if (!ev_timer_pending(&fw->resync))
			log_warnx("table inet %s changed by another process "
			    "(%s, netlink portid %u): re-applying the policy",
			    FWD_TABLE, what, portid);
		fw->drift_events++;
		fw->drifted = true;
		fw->elems_unknown = true;
		break;
	case FW_MON_OVERRUN:
		if (!fw->lost)
			log_warnx("netlink monitor overrun: the kernel dropped "
			    "nftables events (ENOBUFS; monitor-buffer too "
			    "small?): full resync");
		fw->overruns++;
		fw->overrun = fw->lost = true;
		break;
	case FW_MON_RESUMED:
		fw->overrun = true;	/* a commit may have come meanwhile */
		break;
	}
	if (!ev_timer_pending(&fw->resync))
		ev_timer_start(service_loop(fw->svc), &fw->resync,
		    RESYNC_DELAY_MS);
}

static double
get_repairs(void *arg)
{
	return (double)((struct fwd *)arg)->drift_repairs;
}

static double
get_events(void *arg)
{
	return (double)((struct fwd *)arg)->drift_events;
}

static double
get_overruns(void *arg)
{
	return (double)((struct fwd *)arg)->overruns;
}

int
fwd_drift_start(struct fwd *fw, char *err, size_t errlen)
{
	struct metrics	*m = service_metrics(fw->svc);

	ev_timer_init(&fw->resync, resync, fw);
	if (metrics_counter_fn(m, "drift_repairs_total", "Re-applies of the "
	    "policy after another process changed table inet stackd.",
	    get_repairs, fw) == NULL ||
	    metrics_counter_fn(m, "drift_events_total", "Monitor events on "
	    "table inet stackd not caused by fwd.", get_events, fw) == NULL ||
	    metrics_counter_fn(m, "monitor_overruns_total", "Times the kernel "
	    "dropped nftables monitor events (ENOBUFS).", get_overruns,
	    fw) == NULL)
		fatalx("%s: metrics registration", __func__);
	fw->mon = fw_mon_open(service_loop(fw->svc), fw_nl_portid(fw->nl),
	    on_event, fw, err, errlen);
	return fw->mon == NULL ? -1 : 0;
}

void
fwd_drift_stop(struct fwd *fw)
{
	if (fw->svc != NULL && service_loop(fw->svc) != NULL)
		ev_timer_stop(service_loop(fw->svc), &fw->resync);
	fw_mon_close(fw->mon);
	fw->mon = NULL;
}

void
fwd_drift_status(struct fwd *fw, struct ctl_conn *c)
{
	ctl_printf(c, "drift events %llu\ndrift repairs %llu\n"
	    "drift repair failures %llu\nother-table events %llu\n"
	    "monitor overruns %llu\n", (unsigned long long)fw->drift_events,
	    (unsigned long long)fw->drift_repairs,
	    (unsigned long long)fw->drift_failures,
	    (unsigned long long)fw->other_events,
	    (unsigned long long)fw->overruns);
}
