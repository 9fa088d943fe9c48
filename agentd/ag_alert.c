/* ag_alert — alert rules over the metrics agentd sees.
 *
 * Grammar (one block per rule; the lead's agentd.conf(5) follows this):
 *
 *	alert NAME {
 *		metric NAME		required; a Prometheus metric name
 *		labels "k=v,k=v"	optional; the series must carry every pair
 *					(matching series are summed by the lookup)
 *		above N			exactly one condition, see below
 *		below N
 *		rate-above N		N per second, may be negative
 *		rate-below N
 *		spike P			P as "200%" or as a fraction "2"
 *		drop P			P as "70%" or as a fraction "0.7", at most 100%
 *		window DURATION		default 1m, 1s .. 1d
 *		baseline DURATION	spike/drop only; EWMA time constant,
 *					default 10m, 1s .. 30d
 *		min-baseline N		spike/drop only; default 0
 *		for DURATION		hold-down, default 0 (0 .. 1d)
 *		recover DURATION	default: the larger of `for` and 30s (0 .. 1d)
 *		severity WORD		default warning; [a-z0-9_-], up to 32
 *	}
 *
 * NAME (the rule's) is letters, digits, '.', '-' and '_', up to 64, unique.
 * metric is [a-zA-Z_:][a-zA-Z0-9_:]*, up to 200. labels is a comma list of
 * k=v, k a label name ([a-zA-Z_][a-zA-Z0-9_]*), v non-empty without ',',
 * '"', '\' or control characters, keys not repeated, up to 512 in all.
 * A block without metric or without a condition, with two conditions, or
 * with baseline/min-baseline on a rule that is not spike/drop is refused.
 *
 * Semantics. Each evaluation (ag_alerts_eval, at now_ms, typically every
 * collection interval) looks up the rule's value and appends it to the
 * rule's ring of samples: those within the last `window` plus the newest
 * one at or before its start. The ring is bounded by AG_ALERT_MAX_SAMPLES
 * (4096) samples; a window longer than that many evaluations is cut to
 * the newest 4096 (and the oldest one then counts as the window's start).
 *
 *   above N / below N	the mean of the samples in the last `window`
 *			(now - window, now] is > N / < N.
 *   rate-above/below N	(latest - the sample at the window's start) /
 *			seconds between them is > N / < N. Needs a full
 *			window of samples first (a warm-up).
 *   spike P / drop P	the latest value >= B * (1 + P) / <= B * (1 - P),
 *			where B is the EWMA baseline as it stood at the
 *			window's start: "drop 70% within 1m" compares the
 *			value now with what was normal one minute ago, so a
 *			sudden drop fires at the first evaluation that sees
 *			it, while a slow decline (over much longer than the
 *			baseline's time constant) is followed by the baseline
 *			and never fires. The baseline is an EWMA of the
 *			samples, alpha = 1 - exp(-dt / baseline) with dt the
 *			time since the previous sample; it starts at the
 *			first sample and is updated only by samples taken
 *			while the rule is ok (not pending, firing or
 *			recovering), so a long outage never becomes the new
 *			normal: the alert stays firing until the value comes
 *			back (or the rule is changed by a reload). Needs a
 *			full window of samples first; never fires while B is
 *			<= 0 or below min-baseline.
 *
 * States: ok -> pending (the condition holds; it must hold at every
 * evaluation for `for`) -> firing (one event, firing=true) -> recovering
 * (the condition is clear; it must stay clear for `recover`) -> ok (one
 * event, firing=false). A condition back while recovering returns to
 * firing with no event; a condition gone while pending returns to ok
 * with no event. With for 0 a rule fires at the first evaluation that
 * sees its condition; with recover 0 it resolves at the first one that
 * sees it clear.
 *
 * No data (the lookup finds no series): the rule is shown as no-data and
 * never fires for it: pending returns to ok, recovering returns to firing
 * (the clear was not seen continuously), firing stays firing. The samples
 * are kept, so a missed scrape does not restart a warm-up.
 *
 * Reload: a rule whose name and every setting are unchanged keeps its
 * samples, baseline and state. A changed or new rule starts fresh. A rule
 * that was firing (or recovering) and is removed or changed first sends a
 * resolved event ("removed by reload" / "changed by reload") so receivers
 * never keep an alert nobody will resolve; a changed rule fires again
 * after its hold-down if its condition still holds.
 *
 * Event summaries and status lines name the series and the rule, e.g.
 * "stackd_agentd_web_requests_per_second{log=web-access} 12.3 is 75% below
 * its baseline 49.2 (drop 70% within 1m)"; "node_load1 is 7.5 on average
 * (above 4 over 1m)"; "c changes by 12/s (rate-above 10/s over 1m)";
 * "m has no data (...)", "m is warming up (...)". since_ms in an event is
 * when the condition began (firing) or when it cleared (resolved); a rule
 * resolved by a reload says "changed by reload" or "removed by reload".
 *
 * Status (ag_alerts_format, `agentctl alerts`), one line per rule in the
 * configuration's order:
 *	alert NAME: STATE value V baseline B since D ago severity S: SUMMARY
 * STATE is ok, pending, firing, recovering or no-data (a firing rule
 * without data stays "firing", its summary says "has no data"); V is the
 * value compared (the mean, the rate, or the latest value) or "-"; B is
 * the baseline compared (spike/drop; "-" otherwise); D is how long the
 * rule has been in STATE at its last evaluation, like 1m30s ("since -"
 * and "not evaluated yet" before the first one). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "ag_alert.h"

#define AG_ALERT_MAX_SAMPLES	4096
#define MAX_NAME		64
#define MAX_METRIC		200
#define MAX_LABELS		512
#define MAX_SEVERITY		32
#define DEFAULT_WINDOW		(60 * 1000)
#define DEFAULT_BASELINE	(10 * 60 * 1000)
#define DEFAULT_RECOVER		(30 * 1000)
#define DAY_MS			(24ULL * 3600 * 1000)
#define UNSET_MS		UINT64_MAX

static const char *const kind_names[] = {
	[AG_ALERT_ABOVE] = "above", [AG_ALERT_BELOW] = "below",
	[AG_ALERT_RATE_ABOVE] = "rate-above",
	[AG_ALERT_RATE_BELOW] = "rate-below",
	[AG_ALERT_SPIKE] = "spike", [AG_ALERT_DROP] = "drop",
};

static bool
is_ratio(enum ag_alert_kind k)
{
	return k == AG_ALERT_SPIKE || k == AG_ALERT_DROP;
}

/* Configuration. */

struct alert_parse {
	struct ag_alert_conf	 c;	/* first: the table's offsets are its */
	const char		*cond;	/* the condition's directive */
};

static int
parse_num(const char *s, double *out)
{
	char	*end;
	double	 v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static int
set_condition(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct alert_parse *p = obj;
	enum ag_alert_kind kind = (enum ag_alert_kind)d->min;
	const char	*arg = st->argv[1];
	char		 tmp[64];
	size_t		 len = strlen(arg);
	double		 v;

	if (p->cond != NULL)
		return conf_error(ctx, st, "%s %s: the rule already has a "
		    "condition (%s); give exactly one of above, below, "
		    "rate-above, rate-below, spike, drop", st->argv[0], arg,
		    p->cond);
	if (!is_ratio(kind)) {
		if (parse_num(arg, &v) == -1)
			return conf_error(ctx, st, "%s: expected a number, got "
			    "\"%s\"", st->argv[0], arg);
	} else {
		if (len > 0 && arg[len - 1] == '%') {
			if (len >= sizeof(tmp))
				goto bad;
			memcpy(tmp, arg, len - 1);
			tmp[len - 1] = '\0';
			if (parse_num(tmp, &v) == -1)
				goto bad;
			v /= 100;
		} else if (parse_num(arg, &v) == -1)
			goto bad;
		if (v <= 0 || (kind == AG_ALERT_DROP && v > 1) ||
		    (kind == AG_ALERT_SPIKE && v > 1000))
			return conf_error(ctx, st, "%s: expected %s, got \"%s\"",
			    st->argv[0], kind == AG_ALERT_DROP ?
			    "more than 0% and at most 100%" :
			    "more than 0% and at most 100000%", arg);
	}
	p->c.kind = kind;
	p->c.threshold = v;
	p->cond = d->name;
	return 0;
bad:
	return conf_error(ctx, st, "%s: expected a percentage like 70%% or a "
	    "fraction like 0.7, got \"%s\"", st->argv[0], arg);
}

static int
set_metric(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	const char	*s = st->argv[1];
	size_t		 len = strlen(s);
	static const char first[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_:";

	if (len == 0 || len > MAX_METRIC || strchr(first, s[0]) == NULL ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_:") != len)
		return conf_error(ctx, st, "metric: expected a metric name "
		    "([a-zA-Z_:][a-zA-Z0-9_:]*, up to %d), got \"%s\"",
		    MAX_METRIC, s);
	return conf_set_string(ctx, st, d, obj);
}

/* "k=v,k=v": 0, or -1 with why in err. */
static int
check_labels(const char *s, char *err, size_t errlen)
{
	const char	*p = s, *eq, *end, *q;
	size_t		 klen;
	static const char key[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

	if (*s == '\0' || strlen(s) > MAX_LABELS) {
		snprintf(err, errlen, "expected 1 to %d characters", MAX_LABELS);
		return -1;
	}
	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', end - p);
		if (eq == NULL || eq == p || eq + 1 == end) {
			snprintf(err, errlen, "expected k=v pairs separated by "
			    "commas, at \"%.*s\"", (int)(end - p), p);
			return -1;
		}
		klen = eq - p;
		if (strchr(key, *p) == NULL || (*p >= '0' && *p <= '9') ||
		    strspn(p, key) < klen) {
			snprintf(err, errlen, "bad label name \"%.*s\"",
			    (int)klen, p);
			return -1;
		}
		for (q = eq + 1; q < end; q++)
			if (*q == '"' || *q == '\\' || *q == '=' ||
			    iscntrl((unsigned char)*q)) {
				snprintf(err, errlen, "bad character in the value "
				    "of label %.*s", (int)klen, p);
				return -1;
			}
		/* a repeated key: search the pairs before this one */
		for (q = s; q < p; ) {
			const char *qe = strchr(q, '=');

			if ((size_t)(qe - q) == klen && memcmp(q, p, klen) == 0) {
				snprintf(err, errlen, "label %.*s given twice",
				    (int)klen, p);
				return -1;
			}
			q = strchr(q, ',') + 1;
		}
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int
set_labels(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	char	 err[160];

	if (check_labels(st->argv[1], err, sizeof(err)) == -1)
		return conf_error(ctx, st, "labels \"%s\": %s", st->argv[1],
		    err);
	return conf_set_string(ctx, st, d, obj);
}

static int
set_min_baseline(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct alert_parse *p = obj;
	double		 v;

	if (parse_num(st->argv[1], &v) == -1 || v < 0)
		return conf_error(ctx, st, "min-baseline: expected a number >= 0, "
		    "got \"%s\"", st->argv[1]);
	p->c.min_baseline = v;
	return 0;
}

static int
set_severity(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	const char	*s = st->argv[1];
	size_t		 len = strlen(s);

	if (len == 0 || len > MAX_SEVERITY || strspn(s,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != len)
		return conf_error(ctx, st, "severity: expected a word of "
		    "lower-case letters, digits, '-' and '_' (e.g. warning, "
		    "critical), got \"%s\"", s);
	return conf_set_string(ctx, st, d, obj);
}

#define OFF(f)	offsetof(struct ag_alert_conf, f)
static const struct conf_directive alert_directives[] = {
	{ "metric", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_metric, OFF(metric),
	    0, 0 },
	{ "labels", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_labels, OFF(labels),
	    0, 0 },
	{ "above", 1, 1, CONF_BLOCK_NONE, 0, set_condition, 0,
	    AG_ALERT_ABOVE, 0 },
	{ "below", 1, 1, CONF_BLOCK_NONE, 0, set_condition, 0,
	    AG_ALERT_BELOW, 0 },
	{ "rate-above", 1, 1, CONF_BLOCK_NONE, 0, set_condition, 0,
	    AG_ALERT_RATE_ABOVE, 0 },
	{ "rate-below", 1, 1, CONF_BLOCK_NONE, 0, set_condition, 0,
	    AG_ALERT_RATE_BELOW, 0 },
	{ "spike", 1, 1, CONF_BLOCK_NONE, 0, set_condition, 0,
	    AG_ALERT_SPIKE, 0 },
	{ "drop", 1, 1, CONF_BLOCK_NONE, 0, set_condition, 0,
	    AG_ALERT_DROP, 0 },
	{ "window", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    OFF(window_ms), 1000, DAY_MS },
	{ "baseline", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    OFF(baseline_ms), 1000, 30 * DAY_MS },
	{ "min-baseline", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_min_baseline,
	    0, 0, 0 },
	{ "for", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    OFF(for_ms), 0, DAY_MS },
	{ "recover", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    OFF(recover_ms), 0, DAY_MS },
	{ "severity", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_severity,
	    OFF(severity), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};
#undef OFF

static void
conf_clear(struct ag_alert_conf *c)
{
	free(c->name);
	free(c->metric);
	free(c->labels);
	free(c->severity);
}

/* alert NAME { ... }: d->offset locates the list head in obj. */
int
ag_conf_alert(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct ag_alert_conf **head = (void *)((char *)obj + d->offset), **tail;
	struct ag_alert_conf *a;
	struct alert_parse p;
	const char	*name = st->argv[1];
	size_t		 len = strlen(name);
	int		 rc = 0;

	if (len == 0 || len > MAX_NAME || strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
	    != len)
		return conf_error(ctx, st, "alert \"%s\": a name is letters, "
		    "digits, '.', '-' and '_', up to %d", name, MAX_NAME);
	for (tail = head; *tail != NULL; tail = &(*tail)->next)
		if (strcmp((*tail)->name, name) == 0)
			return conf_error(ctx, st, "alert %s: defined twice",
			    name);
	memset(&p, 0, sizeof(p));
	p.c.window_ms = DEFAULT_WINDOW;
	p.c.baseline_ms = UNSET_MS;
	p.c.min_baseline = NAN;
	p.c.recover_ms = UNSET_MS;
	if (conf_apply(ctx, st->block, alert_directives, &p) == -1)
		rc = -1;
	else if (p.c.metric == NULL)
		rc = conf_error(ctx, st, "alert %s: expected a metric", name);
	else if (p.cond == NULL)
		rc = conf_error(ctx, st, "alert %s: expected a condition: one "
		    "of above, below, rate-above, rate-below, spike, drop", name);
	else if (!is_ratio(p.c.kind) && (p.c.baseline_ms != UNSET_MS ||
	    !isnan(p.c.min_baseline)))
		rc = conf_error(ctx, st, "alert %s: %s is only for spike and "
		    "drop rules, not %s", name, p.c.baseline_ms != UNSET_MS ?
		    "baseline" : "min-baseline", p.cond);
	if (rc == -1) {
		conf_clear(&p.c);
		return -1;
	}
	if (p.c.baseline_ms == UNSET_MS)
		p.c.baseline_ms = is_ratio(p.c.kind) ? DEFAULT_BASELINE : 0;
	if (isnan(p.c.min_baseline))
		p.c.min_baseline = 0;
	if (p.c.recover_ms == UNSET_MS)
		p.c.recover_ms = p.c.for_ms > DEFAULT_RECOVER ? p.c.for_ms :
		    DEFAULT_RECOVER;
	if ((p.c.name = strdup(name)) == NULL || (p.c.severity == NULL &&
	    (p.c.severity = strdup("warning")) == NULL) ||
	    (a = malloc(sizeof(*a))) == NULL) {
		conf_clear(&p.c);
		return conf_error(ctx, st, "alert %s: out of memory", name);
	}
	*a = p.c;
	a->next = NULL;
	*tail = a;
	return 0;
}

void
ag_alert_conf_free(struct ag_alert_conf *a)
{
	struct ag_alert_conf *next;

	for (; a != NULL; a = next) {
		next = a->next;
		conf_clear(a);
		free(a);
	}
}

/* Runtime. */

enum rule_state { ST_OK, ST_PENDING, ST_FIRING, ST_RECOVERING };
static const char *const state_names[] = {
	"ok", "pending", "firing", "recovering",
};

struct sample {
	uint64_t	 t;
	double		 v;
	double		 b;	/* the baseline after this sample */
};

struct rule {
	struct rule	*next;
	struct ag_alert_conf c;		/* own copy; c.next unused */
	struct sample	*ring;
	size_t		 cap, first, n;
	bool		 have_baseline;
	double		 baseline;
	enum rule_state	 state;
	uint64_t	 state_since;	/* the current state began */
	uint64_t	 cond_since;	/* the condition began (pending, firing) */
	uint64_t	 fired_at;	/* firing began (kept while recovering) */
	bool		 evaluated, nodata;
	uint64_t	 last_eval;
	double		 value;		/* last compared value, NAN if none */
	double		 ref;		/* spike/drop: the baseline compared */
	char		 summary[1024];
};

struct ag_alerts {
	struct rule	*rules;
	ag_alert_notify	 notify;
	void		*arg;
};

static struct sample *
ring_at(const struct rule *r, size_t i)
{
	return &r->ring[(r->first + i) % r->cap];
}

static int
ring_push(struct rule *r, uint64_t t, double v, double b)
{
	struct sample	*nr;
	size_t		 ncap, i;

	if (r->n == r->cap && r->cap < AG_ALERT_MAX_SAMPLES) {
		ncap = r->cap == 0 ? 16 : r->cap * 2;
		if (ncap > AG_ALERT_MAX_SAMPLES)
			ncap = AG_ALERT_MAX_SAMPLES;
		if ((nr = malloc(ncap * sizeof(*nr))) == NULL)
			return -1;
		for (i = 0; i < r->n; i++)
			nr[i] = *ring_at(r, i);
		free(r->ring);
		r->ring = nr;
		r->cap = ncap;
		r->first = 0;
	}
	if (r->n == r->cap) {		/* full at the bound: drop the oldest */
		r->first = (r->first + 1) % r->cap;
		r->n--;
	}
	*ring_at(r, r->n) = (struct sample){ t, v, b };
	r->n++;
	return 0;
}

/* Keep the samples in (now - window, now] and the newest one before. */
static void
ring_prune(struct rule *r, uint64_t now)
{
	uint64_t start = now > r->c.window_ms ? now - r->c.window_ms : 0;

	while (r->n >= 2 && ring_at(r, 1)->t <= start) {
		r->first = (r->first + 1) % r->cap;
		r->n--;
	}
}

/* The sample at the window's start, or NULL while warming up. */
static const struct sample *
window_start(const struct rule *r, uint64_t now)
{
	const struct sample *s;

	if (r->n < 2)
		return NULL;
	s = ring_at(r, 0);
	if (now >= r->c.window_ms && s->t <= now - r->c.window_ms)
		return s;
	return r->n == AG_ALERT_MAX_SAMPLES ? s : NULL;
}

static void
fmt_num(char *dst, size_t len, double v)
{
	double	 a = fabs(v);

	if (a >= 1e15 || (a != 0 && a < 0.01))
		snprintf(dst, len, "%.3g", v);
	else if (v == floor(v))
		snprintf(dst, len, "%.0f", v);
	else if (a >= 100)
		snprintf(dst, len, "%.1f", v);
	else
		snprintf(dst, len, "%.3g", v);
}

/* 90000 -> "1m30s", 500 -> "500ms", 0 -> "0s". */
static void
fmt_dur(char *dst, size_t len, uint64_t ms)
{
	static const struct { uint64_t ms; const char *unit; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" }, { 1, "ms" },
	};
	size_t	 i, off = 0;
	int	 n;

	dst[0] = '\0';
	if (ms == 0) {
		snprintf(dst, len, "0s");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms < units[i].ms)
			continue;
		n = snprintf(dst + off, len - off, "%llu%s",
		    (unsigned long long)(ms / units[i].ms), units[i].unit);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += n;
		ms %= units[i].ms;
	}
}

/* "above 100", "rate-below -5/s over 1m", "drop 70% within 1m". */
static void
rule_text(const struct ag_alert_conf *c, char *dst, size_t len)
{
	char	 num[32], win[32];

	fmt_num(num, sizeof(num), is_ratio(c->kind) ? c->threshold * 100 :
	    c->threshold);
	fmt_dur(win, sizeof(win), c->window_ms);
	switch (c->kind) {
	case AG_ALERT_ABOVE:
	case AG_ALERT_BELOW:
		snprintf(dst, len, "%s %s over %s", kind_names[c->kind], num,
		    win);
		break;
	case AG_ALERT_RATE_ABOVE:
	case AG_ALERT_RATE_BELOW:
		snprintf(dst, len, "%s %s/s over %s", kind_names[c->kind], num,
		    win);
		break;
	case AG_ALERT_SPIKE:
	case AG_ALERT_DROP:
		snprintf(dst, len, "%s %s%% within %s", kind_names[c->kind],
		    num, win);
		break;
	}
}

static void
series_text(const struct ag_alert_conf *c, char *dst, size_t len)
{
	if (c->labels != NULL)
		snprintf(dst, len, "%s{%s}", c->metric, c->labels);
	else
		snprintf(dst, len, "%s", c->metric);
}

/* The summary of the last evaluation, into r->summary. */
static void
summarize(struct rule *r, const char *why)
{
	char	 series[MAX_METRIC + MAX_LABELS + 4], rule[96], v[32], b[32];
	double	 pct;

	series_text(&r->c, series, sizeof(series));
	rule_text(&r->c, rule, sizeof(rule));
	if (why != NULL) {
		snprintf(r->summary, sizeof(r->summary), "%s %s (%s)", series,
		    why, rule);
		return;
	}
	fmt_num(v, sizeof(v), r->value);
	switch (r->c.kind) {
	case AG_ALERT_ABOVE:
	case AG_ALERT_BELOW:
		snprintf(r->summary, sizeof(r->summary), "%s is %s on average "
		    "(%s)", series, v, rule);
		break;
	case AG_ALERT_RATE_ABOVE:
	case AG_ALERT_RATE_BELOW:
		snprintf(r->summary, sizeof(r->summary), "%s changes by %s/s "
		    "(%s)", series, v, rule);
		break;
	case AG_ALERT_SPIKE:
	case AG_ALERT_DROP:
		fmt_num(b, sizeof(b), r->ref);
		pct = r->ref > 0 ? (r->value - r->ref) / r->ref * 100 : 0;
		snprintf(r->summary, sizeof(r->summary), "%s %s is %.0f%% %s "
		    "its baseline %s (%s)", series, v, fabs(pct),
		    pct < 0 ? "below" : "above", b, rule);
		break;
	}
}

static void
rule_reset(struct rule *r)
{
	free(r->ring);
	r->ring = NULL;
	r->cap = r->first = r->n = 0;
	r->have_baseline = false;
	r->baseline = NAN;
	r->state = ST_OK;
	r->state_since = r->cond_since = r->fired_at = 0;
	r->evaluated = r->nodata = false;
	r->last_eval = 0;
	r->value = r->ref = NAN;
	r->summary[0] = '\0';
}

static void
rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	free(r->ring);
	conf_clear(&r->c);
	free(r);
}

static struct rule *
rule_new(const struct ag_alert_conf *c)
{
	struct rule	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->c = *c;
	r->c.next = NULL;
	r->c.name = strdup(c->name);
	r->c.metric = strdup(c->metric);
	r->c.labels = c->labels != NULL ? strdup(c->labels) : NULL;
	r->c.severity = strdup(c->severity != NULL ? c->severity : "warning");
	if (r->c.name == NULL || r->c.metric == NULL || r->c.severity == NULL ||
	    (c->labels != NULL && r->c.labels == NULL)) {
		rule_free(r);
		return NULL;
	}
	rule_reset(r);
	return r;
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

static bool
same_rule(const struct ag_alert_conf *a, const struct ag_alert_conf *b)
{
	return str_eq(a->name, b->name) && str_eq(a->metric, b->metric) &&
	    str_eq(a->labels, b->labels) && a->kind == b->kind &&
	    a->threshold == b->threshold && a->window_ms == b->window_ms &&
	    a->baseline_ms == b->baseline_ms &&
	    a->min_baseline == b->min_baseline && a->for_ms == b->for_ms &&
	    a->recover_ms == b->recover_ms &&
	    str_eq(a->severity, b->severity != NULL ? b->severity : "warning");
}

static void
emit(struct ag_alerts *as, struct rule *r, bool firing, uint64_t since)
{
	struct ag_alert_event ev;

	if (as->notify == NULL)
		return;
	ev.name = r->c.name;
	ev.severity = r->c.severity;
	ev.firing = firing;
	ev.value = r->value;
	ev.baseline = is_ratio(r->c.kind) ? r->ref : NAN;
	ev.summary = r->summary;
	ev.since_ms = since;
	as->notify(as->arg, &ev);
}

static void
set_state(struct rule *r, enum rule_state st, uint64_t now)
{
	r->state = st;
	r->state_since = now;
}

/* Add the sample and decide the condition: -1 not known (warming up),
 * 0 clear, 1 holds. The sample carries the baseline as it stands; the
 * caller updates it once the rule's new state is known. */
static int
condition(struct rule *r, uint64_t now, double v)
{
	const struct sample *s;
	double		 sum = 0;
	size_t		 i, n = 0;

	if (ring_push(r, now, v, r->have_baseline ? r->baseline : NAN) == -1)
		return -1;
	ring_prune(r, now);
	r->ref = NAN;
	r->value = NAN;
	switch (r->c.kind) {
	case AG_ALERT_ABOVE:
	case AG_ALERT_BELOW:
		for (i = 0; i < r->n; i++)
			if (ring_at(r, i)->t + r->c.window_ms > now) {
				sum += ring_at(r, i)->v;
				n++;
			}
		r->value = sum / (double)n;	/* n >= 1: the new sample */
		return r->c.kind == AG_ALERT_ABOVE ?
		    r->value > r->c.threshold : r->value < r->c.threshold;
	case AG_ALERT_RATE_ABOVE:
	case AG_ALERT_RATE_BELOW:
		if ((s = window_start(r, now)) == NULL)
			return -1;
		r->value = (v - s->v) / ((double)(now - s->t) / 1000);
		return r->c.kind == AG_ALERT_RATE_ABOVE ?
		    r->value > r->c.threshold : r->value < r->c.threshold;
	case AG_ALERT_SPIKE:
	case AG_ALERT_DROP:
		r->value = v;
		if ((s = window_start(r, now)) == NULL || isnan(s->b))
			return -1;
		r->ref = s->b;
		if (r->ref <= 0 || r->ref < r->c.min_baseline)
			return 0;
		if (r->c.kind == AG_ALERT_SPIKE)
			return v >= r->ref * (1 + r->c.threshold);
		return v <= r->ref * (1 - r->c.threshold);
	}
	return -1;
}

/* The EWMA, fed by a sample taken while the rule is ok; alpha from the
 * time since the previous sample. */
static void
update_baseline(struct rule *r, uint64_t now, double v)
{
	double	 alpha;
	uint64_t prev;

	if (!r->have_baseline) {
		r->baseline = v;
		r->have_baseline = true;
	} else {
		prev = r->n >= 2 ? ring_at(r, r->n - 2)->t : now;
		alpha = 1 - exp(-(double)(now - prev) / (double)r->c.baseline_ms);
		r->baseline += alpha * (v - r->baseline);
	}
	ring_at(r, r->n - 1)->b = r->baseline;
}

static void
step(struct ag_alerts *as, struct rule *r, uint64_t now, int cond)
{
	uint64_t since;

	switch (r->state) {
	case ST_OK:
		if (cond != 1)
			break;
		r->cond_since = now;
		if (r->c.for_ms > 0) {
			set_state(r, ST_PENDING, now);
			break;
		}
		/* FALLTHROUGH */
	case ST_PENDING:
		if (cond != 1)
			set_state(r, ST_OK, now);
		else if (now - r->cond_since >= r->c.for_ms) {
			set_state(r, ST_FIRING, now);
			r->fired_at = now;
			emit(as, r, true, r->cond_since);
		}
		break;
	case ST_FIRING:
		if (cond != 0)
			break;
		set_state(r, ST_RECOVERING, now);
		/* FALLTHROUGH */
	case ST_RECOVERING:
		if (cond == 1)
			set_state(r, ST_FIRING, r->fired_at);
		else if (cond == 0 && now - r->state_since >= r->c.recover_ms) {
			since = r->state_since;
			set_state(r, ST_OK, now);
			emit(as, r, false, since);
		}
		break;
	}
}

static void
rule_eval(struct ag_alerts *as, struct rule *r, uint64_t now,
    ag_alert_lookup lookup, void *arg)
{
	double	 v;
	int	 cond;

	if (r->evaluated && now <= r->last_eval)
		return;			/* the clock did not move: ignore */
	if (!r->evaluated)
		set_state(r, ST_OK, now);
	r->evaluated = true;
	r->last_eval = now;
	if (!lookup(arg, r->c.metric, r->c.labels, &v) || !isfinite(v)) {
		r->nodata = true;
		r->value = NAN;
		if (r->state == ST_PENDING)
			set_state(r, ST_OK, now);
		else if (r->state == ST_RECOVERING)
			set_state(r, ST_FIRING, r->fired_at);
		summarize(r, "has no data");
		return;
	}
	r->nodata = false;
	cond = condition(r, now, v);
	summarize(r, cond == -1 ? "is warming up" : NULL);
	step(as, r, now, cond);
	if (is_ratio(r->c.kind) && r->state == ST_OK)
		update_baseline(r, now, v);
}

static void
resolve_dropped(struct ag_alerts *as, struct rule *r, const char *why)
{
	if (r->state != ST_FIRING && r->state != ST_RECOVERING)
		return;
	summarize(r, why);
	emit(as, r, false, r->last_eval);
}

struct ag_alerts *
ag_alerts_new(const struct ag_alert_conf *rules, ag_alert_notify fn,
    void *arg)
{
	struct ag_alerts *as;

	if ((as = calloc(1, sizeof(*as))) == NULL)
		return NULL;
	as->notify = fn;
	as->arg = arg;
	if (ag_alerts_reload(as, rules) == -1) {
		ag_alerts_free(as);
		return NULL;
	}
	return as;
}

int
ag_alerts_reload(struct ag_alerts *as, const struct ag_alert_conf *rules)
{
	struct rule	*head = NULL, **tail = &head, *r, **pp;
	const struct ag_alert_conf *c;

	/* Build the new list first, so a failure leaves the old one. */
	for (c = rules; c != NULL; c = c->next) {
		for (pp = &as->rules; *pp != NULL; pp = &(*pp)->next)
			if (same_rule(&(*pp)->c, c))
				break;
		if (*pp != NULL) {
			r = *pp;
			*pp = r->next;		/* moved; kept state */
		} else if ((r = rule_new(c)) == NULL) {
			/* put the moved rules back (order aside) */
			*tail = as->rules;
			as->rules = head;
			return -1;
		}
		r->next = NULL;
		*tail = r;
		tail = &r->next;
	}
	/* What is left was removed or changed. */
	while ((r = as->rules) != NULL) {
		as->rules = r->next;
		for (c = rules; c != NULL; c = c->next)
			if (strcmp(c->name, r->c.name) == 0)
				break;
		resolve_dropped(as, r, c != NULL ? "changed by reload" :
		    "removed by reload");
		rule_free(r);
	}
	as->rules = head;
	return 0;
}

void
ag_alerts_eval(struct ag_alerts *as, uint64_t now_ms, ag_alert_lookup lookup,
    void *arg)
{
	struct rule	*r;

	for (r = as->rules; r != NULL; r = r->next)
		rule_eval(as, r, now_ms, lookup, arg);
}

void
ag_alerts_format(const struct ag_alerts *as, struct buf *out)
{
	const struct rule *r;
	const char	*state;
	char		 v[32], b[32], since[32];
	double		 base;

	for (r = as->rules; r != NULL; r = r->next) {
		state = state_names[r->state];
		if (r->nodata && r->state != ST_FIRING)
			state = "no-data";
		if (isnan(r->value))
			snprintf(v, sizeof(v), "-");
		else
			fmt_num(v, sizeof(v), r->value);
		base = !isnan(r->ref) ? r->ref : r->baseline;
		if (!is_ratio(r->c.kind) || isnan(base))
			snprintf(b, sizeof(b), "-");
		else
			fmt_num(b, sizeof(b), base);
		if (!r->evaluated)
			snprintf(since, sizeof(since), "-");
		else {
			fmt_dur(since, sizeof(since), (r->last_eval -
			    r->state_since) / 1000 * 1000);
			strncat(since, " ago", sizeof(since) - strlen(since) - 1);
		}
		buf_printf(out, "alert %s: %s value %s baseline %s since %s "
		    "severity %s: %s\n", r->c.name, state, v, b, since,
		    r->c.severity, r->evaluated ? r->summary :
		    "not evaluated yet");
	}
}

size_t
ag_alerts_firing(const struct ag_alerts *as)
{
	const struct rule *r;
	size_t		 n = 0;

	for (r = as->rules; r != NULL; r = r->next)
		if (r->state == ST_FIRING || r->state == ST_RECOVERING)
			n++;
	return n;
}

void
ag_alerts_free(struct ag_alerts *as)
{
	struct rule	*r;

	if (as == NULL)
		return;
	while ((r = as->rules) != NULL) {
		as->rules = r->next;
		rule_free(r);
	}
	free(as);
}
