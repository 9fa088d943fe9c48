/* ag_alert — alert rules over any metric agentd sees: a threshold over a
 * window, a rate of change, or a spike or drop against an EWMA baseline
 * (e.g. web QPS falls 70% within a minute), each with hold-down (the
 * condition must last `for` before the alert fires) and recovery (it must
 * be clear for `recover` before the alert resolves).
 *
 *	alert NAME {
 *		metric "stackd_agentd_web_requests_per_second"
 *		labels "log=web-access"		(a subset the series must have;
 *						 matching series are summed)
 *		above 100 | below 5		(mean over `window`)
 *		rate-above 10 | rate-below -10	(change per second over `window`)
 *		spike 200% | drop 70%		(against the EWMA baseline)
 *		window 1m  baseline 10m  min-baseline 1
 *		for 10s  recover 30s  severity warning
 *	}
 *
 * Defaults: window 1m, baseline 10m, min-baseline 0, for 0, recover the
 * larger of `for` and 30s, severity warning. spike/drop compare the latest
 * value with the baseline as it stood one window ago; the baseline learns
 * only while the rule is ok. No data never fires (a firing rule stays
 * firing). The full grammar and semantics are at the top of ag_alert.c.
 *
 * Pure: values come from a lookup callback at each evaluation, events go
 * to a callback; no I/O. */
#ifndef AG_ALERT_H
#define AG_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_ctx;
struct conf_stmt;
struct conf_directive;
struct buf;

enum ag_alert_kind {
	AG_ALERT_ABOVE, AG_ALERT_BELOW, AG_ALERT_RATE_ABOVE,
	AG_ALERT_RATE_BELOW, AG_ALERT_SPIKE, AG_ALERT_DROP,
};

struct ag_alert_conf {
	struct ag_alert_conf *next;
	char		*name;
	char		*metric;
	char		*labels;	/* "k=v,k=v" or NULL */
	enum ag_alert_kind kind;
	double		 threshold;	/* value, per second, or a fraction */
	uint64_t	 window_ms;
	uint64_t	 baseline_ms;	/* EWMA time constant */
	double		 min_baseline;
	uint64_t	 for_ms, recover_ms;
	char		*severity;
};

int	 ag_conf_alert(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *obj);
void	 ag_alert_conf_free(struct ag_alert_conf *);

struct ag_alert_event {
	const char	*name;
	const char	*severity;
	bool		 firing;	/* false: resolved */
	double		 value;		/* what the rule looked at */
	double		 baseline;	/* spike/drop: the EWMA; else NAN */
	const char	*summary;	/* "web QPS 12.0 is 71% below ..." */
	uint64_t	 since_ms;	/* when the condition began */
};

/* The sum of the series of metric whose labels include every pair of
 * labels (NULL: all series); false when there is none. */
typedef bool (*ag_alert_lookup)(void *arg, const char *metric,
	    const char *labels, double *value);
typedef void (*ag_alert_notify)(void *arg, const struct ag_alert_event *);

struct ag_alerts;

struct ag_alerts *ag_alerts_new(const struct ag_alert_conf *rules,
		    ag_alert_notify, void *arg);
/* Keep the state of rules whose name and definition did not change. */
int		 ag_alerts_reload(struct ag_alerts *,
		    const struct ag_alert_conf *rules);
/* Evaluate every rule at now_ms. */
void		 ag_alerts_eval(struct ag_alerts *, uint64_t now_ms,
		    ag_alert_lookup, void *arg);
/* `agentctl alerts`: one line per rule (state, value, baseline, since). */
void		 ag_alerts_format(const struct ag_alerts *, struct buf *out);
/* Rules firing now. */
size_t		 ag_alerts_firing(const struct ag_alerts *);
void		 ag_alerts_free(struct ag_alerts *);

#endif
