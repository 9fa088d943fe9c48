/* Unit tests for agentd/ag_alert: the alert block parser accepts the
 * documented grammar with its defaults and refuses bad blocks with the
 * directive and value named; rules driven with synthetic time and values
 * fire and resolve at the right evaluations (hold-down, recovery, no
 * flapping) for every kind; drop/spike against the EWMA baseline (a 70%
 * drop fires at once, a 50% one and a slow decline never do, a long
 * outage stays firing, min-baseline); no data; reload keeps state; the
 * sample ring stays bounded; the status lines. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "ag_alert.h"
#include "suites.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SEC		1000ULL
#define MIN		(60 * SEC)

/* Parsing: a top-level table with only `alert`, as agentd's has. */

struct holder {
	struct ag_alert_conf *alerts;
};

static const struct conf_directive top[] = {
	{ "alert", 1, 1, CONF_BLOCK_REQUIRED, 0, ag_conf_alert,
	    offsetof(struct holder, alerts), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

/* 0 and h->alerts, or -1 and the errors. */
static int
parse(const char *text, struct holder *h, char *errors, size_t errlen)
{
	struct conf_doc	*doc;
	struct conf_ctx	 ctx;
	char		 err[512];
	int		 rc;

	h->alerts = NULL;
	errors[0] = '\0';
	if (conf_parse_string("alert.conf", text, strlen(text), &doc, err,
	    sizeof(err)) == -1) {
		snprintf(errors, errlen, "%s", err);
		return -1;
	}
	conf_ctx_init(&ctx, 0, NULL);
	rc = conf_apply(&ctx, conf_doc_root(doc), top, h);
	snprintf(errors, errlen, "%s", conf_errors(&ctx));
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
	return rc;
}

static struct ag_alert_conf *
parse_ok(const char *text)
{
	struct holder	 h;
	char		 errors[1024];

	ck_assert_msg(parse(text, &h, errors, sizeof(errors)) == 0,
	    "errors: %s", errors);
	ck_assert_ptr_nonnull(h.alerts);
	return h.alerts;
}

START_TEST(test_conf_good)
{
	struct ag_alert_conf *l, *a;

	l = parse_ok(
	    "alert web-qps-drop {\n"
	    "	metric stackd_agentd_web_requests_per_second\n"
	    "	labels \"log=web-access,host=web-01\"\n"
	    "	drop 70%\n"
	    "	window 1m  # as the header shows\n"
	    "	baseline 15m\n"
	    "	min-baseline 1.5\n"
	    "	for 10s\n"
	    "	recover 1m\n"
	    "	severity critical\n"
	    "}\n"
	    "alert load { metric node_load1\n above 4 }\n"
	    "alert slow { metric m\n below -2.5\n for 45s }\n"
	    "alert r1 { metric m\n rate-above 10 }\n"
	    "alert r2 { metric m\n rate-below -0.5\n window 5m }\n"
	    "alert s { metric m\n spike 2 }\n"
	    "alert d { metric m\n drop 0.5\n min-baseline 0 }\n"
	    "alert d100 { metric m\n drop 100% }\n");
	a = l;
	ck_assert_str_eq(a->name, "web-qps-drop");
	ck_assert_str_eq(a->metric, "stackd_agentd_web_requests_per_second");
	ck_assert_str_eq(a->labels, "log=web-access,host=web-01");
	ck_assert_int_eq(a->kind, AG_ALERT_DROP);
	ck_assert_double_eq_tol(a->threshold, 0.7, 1e-12);
	ck_assert_uint_eq(a->window_ms, 60000);
	ck_assert_uint_eq(a->baseline_ms, 15 * 60000);
	ck_assert_double_eq(a->min_baseline, 1.5);
	ck_assert_uint_eq(a->for_ms, 10000);
	ck_assert_uint_eq(a->recover_ms, 60000);
	ck_assert_str_eq(a->severity, "critical");
	a = a->next;		/* load: the defaults */
	ck_assert_str_eq(a->name, "load");
	ck_assert_ptr_null(a->labels);
	ck_assert_int_eq(a->kind, AG_ALERT_ABOVE);
	ck_assert_double_eq(a->threshold, 4);
	ck_assert_uint_eq(a->window_ms, 60000);
	ck_assert_uint_eq(a->baseline_ms, 0);
	ck_assert_double_eq(a->min_baseline, 0);
	ck_assert_uint_eq(a->for_ms, 0);
	ck_assert_uint_eq(a->recover_ms, 30000);
	ck_assert_str_eq(a->severity, "warning");
	a = a->next;		/* recover follows a longer for */
	ck_assert_int_eq(a->kind, AG_ALERT_BELOW);
	ck_assert_double_eq(a->threshold, -2.5);
	ck_assert_uint_eq(a->recover_ms, 45000);
	a = a->next;
	ck_assert_int_eq(a->kind, AG_ALERT_RATE_ABOVE);
	a = a->next;
	ck_assert_int_eq(a->kind, AG_ALERT_RATE_BELOW);
	ck_assert_double_eq(a->threshold, -0.5);
	ck_assert_uint_eq(a->window_ms, 300000);
	a = a->next;
	ck_assert_int_eq(a->kind, AG_ALERT_SPIKE);
	ck_assert_double_eq(a->threshold, 2);
	ck_assert_uint_eq(a->baseline_ms, 600000);
	a = a->next;
	ck_assert_int_eq(a->kind, AG_ALERT_DROP);
	ck_assert_double_eq(a->threshold, 0.5);
	a = a->next;
	ck_assert_double_eq(a->threshold, 1);
	ck_assert_ptr_null(a->next);
	ag_alert_conf_free(l);
}
END_TEST

static const struct {
	const char	*text;
	const char	*want;
} bad[] = {
	{ "alert a { above 1 }", "alert.conf:1: alert a: expected a metric" },
	{ "alert a {\n metric m\n}", "alert.conf:1: alert a: expected a "
	    "condition: one of above, below, rate-above, rate-below, spike, "
	    "drop" },
	{ "alert a { metric m\n above 1\n drop 50% }", "alert.conf:3: drop "
	    "50%: the rule already has a condition (above)" },
	{ "alert a { metric m\n above 1\n above 2 }", "already has a "
	    "condition (above)" },
	{ "alert a { metric m\n above ten }", "above: expected a number, "
	    "got \"ten\"" },
	{ "alert a { metric m\n below 1e999 }", "below: expected a number, "
	    "got \"1e999\"" },
	{ "alert a { metric m\n rate-above nan }", "rate-above: expected a "
	    "number, got \"nan\"" },
	{ "alert a { metric m\n drop 170% }", "drop: expected more than 0% "
	    "and at most 100%, got \"170%\"" },
	{ "alert a { metric m\n drop 70 }", "drop: expected more than 0% "
	    "and at most 100%, got \"70\"" },
	{ "alert a { metric m\n drop 0% }", "got \"0%\"" },
	{ "alert a { metric m\n drop seventy% }", "drop: expected a "
	    "percentage like 70% or a fraction like 0.7, got \"seventy%\"" },
	{ "alert a { metric m\n spike -10% }", "spike: expected more than "
	    "0% and at most 100000%, got \"-10%\"" },
	{ "alert a { metric m\n spike % }", "spike: expected a percentage" },
	{ "alert a { metric 9m\n above 1 }", "metric: expected a metric name "
	    "([a-zA-Z_:][a-zA-Z0-9_:]*, up to 200), got \"9m\"" },
	{ "alert a { metric \"m{x=1}\"\n above 1 }", "got \"m{x=1}\"" },
	{ "alert a { metric m\n metric n\n above 1 }", "metric" },
	{ "alert a { metric m\n labels \"log\"\n above 1 }", "labels \"log\": "
	    "expected k=v pairs separated by commas, at \"log\"" },
	{ "alert a { metric m\n labels \"a=1,,b=2\"\n above 1 }",
	    "expected k=v pairs separated by commas, at \"\"" },
	{ "alert a { metric m\n labels \"a=\"\n above 1 }", "expected k=v" },
	{ "alert a { metric m\n labels \"1a=b\"\n above 1 }", "labels "
	    "\"1a=b\": bad label name \"1a\"" },
	{ "alert a { metric m\n labels \"a=1,b=2,a=3\"\n above 1 }",
	    "labels \"a=1,b=2,a=3\": label a given twice" },
	{ "alert a { metric m\n labels \"a=x\\\"y\"\n above 1 }",
	    "bad character in the value of label a" },
	{ "alert a { metric m\n above 1\n window 0 }", "window" },
	{ "alert a { metric m\n above 1\n window 2d }", "window" },
	{ "alert a { metric m\n above 1\n for soon }", "for" },
	{ "alert a { metric m\n above 1\n recover -1s }", "recover" },
	{ "alert a { metric m\n above 1\n baseline 10m }", "alert a: baseline "
	    "is only for spike and drop rules, not above" },
	{ "alert a { metric m\n rate-above 1\n min-baseline 3 }", "alert a: "
	    "min-baseline is only for spike and drop rules, not rate-above" },
	{ "alert a { metric m\n drop 50%\n min-baseline -1 }", "min-baseline: "
	    "expected a number >= 0, got \"-1\"" },
	{ "alert a { metric m\n above 1\n severity Page! }", "severity: "
	    "expected a word of lower-case letters, digits, '-' and '_' "
	    "(e.g. warning, critical), got \"Page!\"" },
	{ "alert a { metric m\n above 1\n treshold 4 }", "treshold" },
	{ "alert \"a b\" { metric m\n above 1 }", "alert \"a b\": a name is "
	    "letters, digits, '.', '-' and '_', up to 64" },
	{ "alert a { metric m\n above 1 }\nalert a { metric n\n below 1 }",
	    "alert.conf:3: alert a: defined twice" },
	{ "alert a", "alert" },
};

START_TEST(test_conf_bad)
{
	struct holder	 h;
	char		 errors[1024];

	ck_assert_msg(parse(bad[_i].text, &h, errors, sizeof(errors)) == -1,
	    "accepted: %s", bad[_i].text);
	ck_assert_msg(strstr(errors, bad[_i].want) != NULL,
	    "%s\nwant: %s\ngot: %s", bad[_i].text, bad[_i].want, errors);
	ag_alert_conf_free(h.alerts);
}
END_TEST

/* A bad block among good ones: every error reported, the good ones kept
 * for the caller to free. */
START_TEST(test_conf_all_errors)
{
	struct holder	 h;
	char		 errors[1024];

	ck_assert_int_eq(parse("alert ok { metric m\n above 1 }\n"
	    "alert b1 { metric m }\n"
	    "alert b2 { above 1 }\n", &h, errors, sizeof(errors)), -1);
	ck_assert_ptr_nonnull(strstr(errors, "alert b1: expected a condition"));
	ck_assert_ptr_nonnull(strstr(errors, "alert b2: expected a metric"));
	ck_assert_ptr_nonnull(h.alerts);
	ck_assert_str_eq(h.alerts->name, "ok");
	ck_assert_ptr_null(h.alerts->next);
	ag_alert_conf_free(h.alerts);
}
END_TEST

/* Evaluation: a value source and an event log. */

struct feed {
	bool		 present;
	double		 v;
	const char	*metric;	/* what the lookup must be asked */
	const char	*labels;
	int		 lookups;
};

static bool
lookup(void *arg, const char *metric, const char *labels, double *value)
{
	struct feed	*f = arg;

	f->lookups++;
	if (f->metric != NULL)
		ck_assert_str_eq(metric, f->metric);
	if (f->labels != NULL)
		ck_assert_str_eq(labels, f->labels);
	if (!f->present)
		return false;
	*value = f->v;
	return true;
}

struct event {
	char		 name[64];
	bool		 firing;
	double		 value, baseline;
	uint64_t	 since, at;
	char		 summary[512];
};

struct events {
	struct event	 ev[64];
	size_t		 n;
	uint64_t	 now;		/* set by the driver */
};

static void
notify(void *arg, const struct ag_alert_event *e)
{
	struct events	*l = arg;
	struct event	*ev;

	ck_assert_uint_lt(l->n, NELEM(l->ev));
	ev = &l->ev[l->n++];
	snprintf(ev->name, sizeof(ev->name), "%s", e->name);
	ev->firing = e->firing;
	ev->value = e->value;
	ev->baseline = e->baseline;
	ev->since = e->since_ms;
	ev->at = l->now;
	snprintf(ev->summary, sizeof(ev->summary), "%s", e->summary);
}

struct bench {
	struct ag_alert_conf *conf;
	struct ag_alerts *as;
	struct events	 events;
	struct feed	 feed;
};

static void
bench_init(struct bench *b, const char *text)
{
	memset(b, 0, sizeof(*b));
	b->conf = parse_ok(text);
	b->as = ag_alerts_new(b->conf, notify, &b->events);
	ck_assert_ptr_nonnull(b->as);
	b->feed.present = true;
}

static void
bench_free(struct bench *b)
{
	ag_alerts_free(b->as);
	ag_alert_conf_free(b->conf);
}

/* Evaluate at t with value v (NAN: no data). */
static void
at(struct bench *b, uint64_t t, double v)
{
	b->feed.present = !isnan(v);
	b->feed.v = v;
	b->events.now = t;
	ag_alerts_eval(b->as, t, lookup, &b->feed);
}

/* Evaluate every step from t0 to t1 inclusive with a constant value. */
static void
run(struct bench *b, uint64_t t0, uint64_t t1, uint64_t step, double v)
{
	uint64_t t;

	for (t = t0; t <= t1; t += step)
		at(b, t, v);
}

static const char *
status(struct bench *b)
{
	static char	 line[1024];
	struct buf	 out;

	buf_init(&out, 0);
	ag_alerts_format(b->as, &out);
	snprintf(line, sizeof(line), "%s", buf_cstr(&out));
	buf_free(&out);
	return line;
}

#define ck_status(b, s) do {						\
	const char *st_ = status(b);					\
	ck_assert_msg(strstr(st_, (s)) != NULL, "want \"%s\" in: %s",	\
	    (s), st_);							\
} while (0)

START_TEST(test_above_hold_and_recover)
{
	struct bench	 b;

	bench_init(&b, "alert load { metric node_load1\n labels \"cpu=all\"\n"
	    " above 100\n window 30s\n for 20s\n recover 30s\n"
	    " severity critical }");
	b.feed.metric = "node_load1";
	b.feed.labels = "cpu=all";
	run(&b, 0, 100 * SEC, 10 * SEC, 50);
	ck_status(&b, "alert load: ok value 50 baseline - since 1m40s ago "
	    "severity critical: node_load1{cpu=all} is 50 on average (above "
	    "100 over 30s)\n");
	/* The mean over 30s passes 100 at 120 s: pending 120, 130; fires
	 * at 140 (20 s held). */
	at(&b, 110 * SEC, 200);		/* mean 100: not above */
	ck_status(&b, ": ok value 100 ");
	at(&b, 120 * SEC, 200);
	ck_status(&b, ": pending value 150 ");
	at(&b, 130 * SEC, 200);
	ck_assert_uint_eq(b.events.n, 0);
	at(&b, 140 * SEC, 200);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert(b.events.ev[0].firing);
	ck_assert_str_eq(b.events.ev[0].name, "load");
	ck_assert_uint_eq(b.events.ev[0].since, 120 * SEC);
	ck_assert_double_eq(b.events.ev[0].value, 200);
	ck_assert(isnan(b.events.ev[0].baseline));
	ck_assert_str_eq(b.events.ev[0].summary, "node_load1{cpu=all} is 200 "
	    "on average (above 100 over 30s)");
	ck_assert_uint_eq(ag_alerts_firing(b.as), 1);
	run(&b, 150 * SEC, 200 * SEC, 10 * SEC, 200);
	ck_status(&b, "alert load: firing value 200 baseline - since 1m ago");
	/* Back to 50 at 210: the mean is 100 at 220 (clear); resolved 30 s
	 * later at 250. */
	at(&b, 210 * SEC, 50);
	ck_status(&b, ": firing value 150 ");
	at(&b, 220 * SEC, 50);
	ck_status(&b, ": recovering value 100 ");
	run(&b, 230 * SEC, 240 * SEC, 10 * SEC, 50);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert_uint_eq(ag_alerts_firing(b.as), 1);
	at(&b, 250 * SEC, 50);
	ck_assert_uint_eq(b.events.n, 2);
	ck_assert(!b.events.ev[1].firing);
	ck_assert_uint_eq(b.events.ev[1].since, 220 * SEC);
	ck_assert_uint_eq(ag_alerts_firing(b.as), 0);
	run(&b, 260 * SEC, 600 * SEC, 10 * SEC, 50);
	ck_assert_uint_eq(b.events.n, 2);
	ck_status(&b, "alert load: ok value 50 ");
	bench_free(&b);
}
END_TEST

/* A condition that comes and goes faster than `for` never fires; a firing
 * alert whose condition clears for less than `recover` never resolves. */
START_TEST(test_no_flapping)
{
	struct bench	 b;
	uint64_t	 t;
	int		 i;

	bench_init(&b, "alert a { metric m\n above 10\n window 1s\n for 30s\n"
	    " recover 30s }");
	for (i = 0, t = 0; i < 100; i++, t += 10 * SEC)
		at(&b, t, i % 3 == 2 ? 0 : 20);	/* 20 s on, 10 s off */
	ck_assert_uint_eq(b.events.n, 0);
	run(&b, t, t + 30 * SEC, 10 * SEC, 20);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert(b.events.ev[0].firing);
	t += 40 * SEC;
	for (i = 0; i < 100; i++, t += 10 * SEC)
		at(&b, t, i % 3 == 2 ? 20 : 0);	/* 20 s off, 10 s on */
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert_uint_eq(ag_alerts_firing(b.as), 1);
	run(&b, t, t + 30 * SEC, 10 * SEC, 0);
	ck_assert_uint_eq(b.events.n, 2);
	ck_assert(!b.events.ev[1].firing);
	bench_free(&b);
}
END_TEST

/* for 0 fires at the first evaluation that sees the condition; the
 * default recover is 30 s. */
START_TEST(test_below_defaults)
{
	struct bench	 b;

	bench_init(&b, "alert free { metric node_memory_MemAvailable_bytes\n"
	    " below 1000\n window 1s }");
	run(&b, 0, 60 * SEC, 10 * SEC, 5000);
	at(&b, 70 * SEC, 10);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert(b.events.ev[0].firing);
	ck_assert_uint_eq(b.events.ev[0].since, 70 * SEC);
	ck_status(&b, "alert free: firing value 10 baseline - since 0s ago "
	    "severity warning: node_memory_MemAvailable_bytes is 10 on "
	    "average (below 1000 over 1s)");
	run(&b, 80 * SEC, 100 * SEC, 10 * SEC, 5000);
	ck_assert_uint_eq(b.events.n, 1);
	at(&b, 110 * SEC, 5000);
	ck_assert_uint_eq(b.events.n, 2);
	ck_assert(!b.events.ev[1].firing);
	ck_assert_uint_eq(b.events.ev[1].at, 110 * SEC);
	bench_free(&b);
}
END_TEST

/* rate-above: a counter going 10/s, then 100/s from 300 s; the rate over
 * 1m passes 50/s at 330 s. Nothing before a full window (warm-up). */
START_TEST(test_rate)
{
	struct bench	 b;
	uint64_t	 t;

	bench_init(&b, "alert fast { metric c\n rate-above 50 }\n"
	    "alert early { metric c\n rate-above 5\n recover 0 }");
	for (t = 0; t <= 300 * SEC; t += 10 * SEC) {
		at(&b, t, (double)t / 100);
		if (t == 50 * SEC) {
			ck_assert_uint_eq(b.events.n, 0);
			ck_status(&b, "alert early: ok value - baseline - since "
			    "50s ago severity warning: c is warming up");
		}
		if (t == 60 * SEC) {	/* 10/s > 5/s once warm */
			ck_assert_uint_eq(b.events.n, 1);
			ck_assert_str_eq(b.events.ev[0].name, "early");
			ck_assert_str_eq(b.events.ev[0].summary, "c changes by "
			    "10/s (rate-above 5/s over 1m)");
		}
	}
	ck_assert_uint_eq(b.events.n, 1);
	for (t = 310 * SEC; t <= 320 * SEC; t += 10 * SEC)
		at(&b, t, 3000 + (double)(t - 300 * SEC) / 10);
	ck_assert_uint_eq(b.events.n, 1);
	at(&b, 330 * SEC, 6000);
	ck_assert_uint_eq(b.events.n, 2);
	ck_assert_str_eq(b.events.ev[1].name, "fast");
	ck_assert_double_eq(b.events.ev[1].value, 55);
	/* The counter stops: both resolve (early at once, fast after 30 s). */
	at(&b, 340 * SEC, 6000);
	at(&b, 400 * SEC, 6000);
	ck_assert_uint_eq(b.events.n, 3);
	ck_assert_str_eq(b.events.ev[2].name, "early");
	ck_assert(!b.events.ev[2].firing);
	at(&b, 430 * SEC, 6000);
	ck_assert_uint_eq(b.events.n, 4);
	ck_assert_str_eq(b.events.ev[3].name, "fast");
	ck_assert(!b.events.ev[3].firing);
	ck_assert_uint_eq(b.events.ev[3].since, 400 * SEC);
	bench_free(&b);
}
END_TEST

START_TEST(test_rate_below)
{
	struct bench	 b;

	bench_init(&b, "alert leak { metric free\n rate-below -1\n"
	    " window 30s\n recover 0 }");
	run(&b, 0, 100 * SEC, 10 * SEC, 1000);
	at(&b, 110 * SEC, 990);
	at(&b, 120 * SEC, 980);
	at(&b, 130 * SEC, 970);		/* -30 over 30 s: -1/s, not below */
	ck_assert_uint_eq(b.events.n, 0);
	at(&b, 140 * SEC, 950);		/* -40 over 30 s */
	ck_assert_uint_eq(b.events.n, 1);
	ck_status(&b, "alert leak: firing value -1.33 ");
	bench_free(&b);
}
END_TEST

#define QPS	"alert qps { metric stackd_agentd_web_requests_per_second\n" \
		" labels \"log=web-access\"\n drop 70%\n window 1m }"

/* A sudden 75% drop fires at the first evaluation that sees it; the
 * baseline stays where it was for the whole outage; recovery resolves. */
START_TEST(test_drop_fires)
{
	struct bench	 b;
	uint64_t	 t0 = 30 * MIN;

	bench_init(&b, QPS);
	run(&b, 0, t0 - 10 * SEC, 10 * SEC, 49.2);
	ck_assert_uint_eq(b.events.n, 0);
	at(&b, t0, 12.3);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert(b.events.ev[0].firing);
	ck_assert_uint_eq(b.events.ev[0].since, t0);
	ck_assert_double_eq(b.events.ev[0].value, 12.3);
	ck_assert_double_eq_tol(b.events.ev[0].baseline, 49.2, 1e-9);
	ck_assert_str_eq(b.events.ev[0].summary,
	    "stackd_agentd_web_requests_per_second{log=web-access} 12.3 is "
	    "75% below its baseline 49.2 (drop 70% within 1m)");
	/* An hour of outage: still firing, the baseline has not learnt it. */
	run(&b, t0 + 10 * SEC, t0 + 60 * MIN, 10 * SEC, 12.3);
	ck_assert_uint_eq(b.events.n, 1);
	ck_status(&b, "alert qps: firing value 12.3 baseline 49.2 since 1h ago");
	/* Back to normal: resolved after the default 30 s. */
	run(&b, t0 + 61 * MIN, t0 + 61 * MIN + 20 * SEC, 10 * SEC, 48);
	ck_assert_uint_eq(b.events.n, 1);
	ck_status(&b, ": recovering value 48 baseline 49.2 ");
	at(&b, t0 + 61 * MIN + 30 * SEC, 48);
	ck_assert_uint_eq(b.events.n, 2);
	ck_assert(!b.events.ev[1].firing);
	ck_assert_str_eq(b.events.ev[1].summary,
	    "stackd_agentd_web_requests_per_second{log=web-access} 48 is "
	    "2% below its baseline 49.2 (drop 70% within 1m)");
	bench_free(&b);
}
END_TEST

/* A 70% drop spread over 50 s (within the window) fires; a 50% drop does
 * not, and the baseline then follows it. */
START_TEST(test_drop_ramp_and_half)
{
	struct bench	 b;
	uint64_t	 t0 = 20 * MIN, t;

	bench_init(&b, QPS);
	run(&b, 0, t0, 10 * SEC, 100);
	for (t = t0 + 10 * SEC; t <= t0 + 50 * SEC; t += 10 * SEC)
		at(&b, t, 100 - (double)(t - t0) / (50 * SEC) * 70);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert_uint_eq(b.events.ev[0].at, t0 + 50 * SEC);
	bench_free(&b);

	bench_init(&b, QPS);
	run(&b, 0, t0, 10 * SEC, 100);
	run(&b, t0 + 10 * SEC, t0 + 90 * MIN, 10 * SEC, 50);
	ck_assert_uint_eq(b.events.n, 0);
	ck_status(&b, "alert qps: ok value 50 baseline 50 ");
	/* Now 50 is normal: a fall to 14 is a 72% drop and fires. */
	at(&b, t0 + 91 * MIN, 14);
	ck_assert_uint_eq(b.events.n, 1);
	bench_free(&b);
}
END_TEST

/* 100 -> 25 over an hour: the baseline follows, nothing fires. */
START_TEST(test_drop_slow_decline)
{
	struct bench	 b;
	uint64_t	 t0 = 20 * MIN, t;

	bench_init(&b, QPS);
	run(&b, 0, t0, 10 * SEC, 100);
	for (t = t0; t <= t0 + 60 * MIN; t += 10 * SEC)
		at(&b, t, 100 - (double)(t - t0) / (60 * MIN) * 75);
	run(&b, t0 + 61 * MIN, t0 + 120 * MIN, 10 * SEC, 25);
	ck_assert_uint_eq(b.events.n, 0);
	ck_status(&b, ": ok value 25 baseline 25 ");
	bench_free(&b);
}
END_TEST

/* No alert before a window of samples; none while the baseline is below
 * min-baseline (or zero). */
START_TEST(test_drop_warmup_min_baseline)
{
	struct bench	 b;

	bench_init(&b, QPS);
	run(&b, 0, 50 * SEC, 10 * SEC, 100);
	at(&b, 55 * SEC, 0);
	ck_assert_uint_eq(b.events.n, 0);
	/* (the baseline learns during the warm-up) */
	ck_status(&b, "alert qps: ok value 0 baseline 99.2 since 55s ago "
	    "severity warning: stackd_agentd_web_requests_per_second"
	    "{log=web-access} is warming up (drop 70% within 1m)\n");
	bench_free(&b);

	bench_init(&b, "alert q { metric m\n drop 70%\n min-baseline 50 }\n"
	    "alert z { metric m\n drop 100% }");
	run(&b, 0, 30 * MIN, 10 * SEC, 20);
	run(&b, 30 * MIN + 10 * SEC, 40 * MIN, 10 * SEC, 0);
	ck_assert_uint_eq(b.events.n, 1);	/* only z: 20 -> 0 */
	ck_assert_str_eq(b.events.ev[0].name, "z");
	ck_assert_str_eq(b.events.ev[0].summary, "m 0 is 100% below its "
	    "baseline 20 (drop 100% within 1m)");
	run(&b, 40 * MIN + 10 * SEC, 60 * MIN, 10 * SEC, 100);
	ck_assert_uint_eq(b.events.n, 2);
	/* q's baseline (20) was below 50 at the drop; now it is ~100 */
	run(&b, 60 * MIN + 10 * SEC, 90 * MIN, 10 * SEC, 100);
	at(&b, 90 * MIN + 10 * SEC, 10);
	ck_assert_uint_eq(b.events.n, 3);
	ck_assert_str_eq(b.events.ev[2].name, "q");
	bench_free(&b);
}
END_TEST

START_TEST(test_spike)
{
	struct bench	 b;

	bench_init(&b, "alert errs { metric e\n spike 200%\n for 20s\n"
	    " recover 0 }");
	run(&b, 0, 20 * MIN, 10 * SEC, 10);
	run(&b, 20 * MIN + 10 * SEC, 25 * MIN, 10 * SEC, 25);	/* +150% */
	ck_assert_uint_eq(b.events.n, 0);
	/* not an alert, so the baseline learnt some of it (~11.4 at 40m) */
	run(&b, 25 * MIN + 10 * SEC, 40 * MIN, 10 * SEC, 10);
	at(&b, 40 * MIN + 10 * SEC, 40);			/* +300% */
	at(&b, 40 * MIN + 20 * SEC, 40);
	ck_assert_uint_eq(b.events.n, 0);			/* pending */
	at(&b, 40 * MIN + 30 * SEC, 40);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert_uint_eq(b.events.ev[0].since, 40 * MIN + 10 * SEC);
	ck_assert_msg(strstr(b.events.ev[0].summary, "e 40 is 25") != NULL &&
	    strstr(b.events.ev[0].summary, "% above its baseline 11.") != NULL &&
	    strstr(b.events.ev[0].summary, "(spike 200% within 1m)") != NULL,
	    "%s", b.events.ev[0].summary);
	at(&b, 40 * MIN + 40 * SEC, 10);
	ck_assert_uint_eq(b.events.n, 2);
	ck_assert(!b.events.ev[1].firing);
	bench_free(&b);
}
END_TEST

/* No data never fires; a pending rule goes back to ok; a firing one stays
 * firing (shown as having no data) and a recovering one goes back to
 * firing. */
START_TEST(test_no_data)
{
	struct bench	 b;

	bench_init(&b, "alert a { metric m\n above 10\n window 1s\n for 20s\n"
	    " recover 20s }");
	run(&b, 0, 100 * SEC, 10 * SEC, NAN);
	ck_status(&b, "alert a: no-data value - baseline - since 1m40s ago "
	    "severity warning: m has no data (above 10 over 1s)");
	at(&b, 110 * SEC, 50);
	at(&b, 120 * SEC, 50);
	ck_status(&b, ": pending ");
	at(&b, 130 * SEC, NAN);
	at(&b, 140 * SEC, 50);		/* pending starts again */
	at(&b, 150 * SEC, 50);
	ck_assert_uint_eq(b.events.n, 0);
	at(&b, 160 * SEC, 50);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert_uint_eq(b.events.ev[0].since, 140 * SEC);
	run(&b, 170 * SEC, 10 * MIN, 10 * SEC, NAN);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert_uint_eq(ag_alerts_firing(b.as), 1);
	ck_status(&b, "alert a: firing value - baseline - since 7m20s ago "
	    "severity warning: m has no data");
	at(&b, 10 * MIN + 10 * SEC, 0);
	ck_status(&b, ": recovering value 0 ");
	at(&b, 10 * MIN + 20 * SEC, NAN);
	ck_status(&b, ": firing value - ");
	at(&b, 10 * MIN + 30 * SEC, 0);
	at(&b, 10 * MIN + 40 * SEC, 0);
	ck_assert_uint_eq(b.events.n, 1);
	at(&b, 10 * MIN + 50 * SEC, 0);
	ck_assert_uint_eq(b.events.n, 2);
	ck_assert(!b.events.ev[1].firing);
	bench_free(&b);
}
END_TEST

/* Reload: unchanged rules keep samples, baseline and state; a changed or
 * removed rule that was firing is resolved; new rules start fresh. */
START_TEST(test_reload)
{
	static const char before[] = QPS "\n"
	    "alert load { metric m\n above 10\n window 1s }\n"
	    "alert gone { metric m\n above 10\n window 1s }\n"
	    "alert warm { metric m\n drop 80%\n window 1m }";
	static const char after[] = QPS "\n"
	    "alert load { metric m\n above 20\n window 1s }\n"
	    "alert warm { metric m\n drop 80%\n window 1m }\n"
	    "alert new { metric m\n drop 50%\n window 1m }";
	struct bench	 b;
	struct ag_alert_conf *c2;
	size_t		 i;

	bench_init(&b, before);
	run(&b, 0, 20 * MIN, 10 * SEC, 40);
	at(&b, 20 * MIN + 10 * SEC, 11);	/* qps drops 72%, m > 10 */
	ck_assert_uint_eq(b.events.n, 3);	/* qps, load, gone */
	ck_assert_uint_eq(ag_alerts_firing(b.as), 3);

	/* The same text again: nothing changes. */
	c2 = parse_ok(before);
	ck_assert_int_eq(ag_alerts_reload(b.as, c2), 0);
	ag_alert_conf_free(b.conf);
	b.conf = c2;
	ck_assert_uint_eq(b.events.n, 3);
	ck_assert_uint_eq(ag_alerts_firing(b.as), 3);

	c2 = parse_ok(after);
	ck_assert_int_eq(ag_alerts_reload(b.as, c2), 0);
	ag_alert_conf_free(b.conf);
	b.conf = c2;
	ck_assert_uint_eq(b.events.n, 5);
	ck_assert_uint_eq(ag_alerts_firing(b.as), 1);	/* qps */
	for (i = 3; i < 5; i++) {
		ck_assert(!b.events.ev[i].firing);
		if (strcmp(b.events.ev[i].name, "load") == 0)
			ck_assert_str_eq(b.events.ev[i].summary, "m changed by "
			    "reload (above 10 over 1s)");
		else {
			ck_assert_str_eq(b.events.ev[i].name, "gone");
			ck_assert_str_eq(b.events.ev[i].summary, "m removed by "
			    "reload (above 10 over 1s)");
		}
	}
	/* warm kept its baseline: an 87% drop fires at once; new is warming
	 * up; the changed load starts fresh and sees 5 as fine. */
	at(&b, 20 * MIN + 20 * SEC, 5);
	ck_assert_uint_eq(b.events.n, 6);
	ck_assert_str_eq(b.events.ev[5].name, "warm");
	ck_status(&b, "alert new: ok value 5 baseline 5 since 0s ago "
	    "severity warning: m is warming up");
	ck_status(&b, "alert qps: firing value 5 baseline 40 since 10s ago");
	ck_status(&b, "alert load: ok value 5 ");
	/* Order of the status lines follows the new configuration. */
	ck_assert_ptr_eq(strstr(status(&b), "alert qps:"), status(&b));
	bench_free(&b);
}
END_TEST

/* The ring is bounded: a 1d window at 1 s evaluations keeps at most 4096
 * samples, and then its oldest sample counts as the window's start. */
START_TEST(test_ring_bound)
{
	struct bench	 b;
	uint64_t	 t;

	bench_init(&b, "alert r { metric c\n rate-above 5\n window 1d }");
	for (t = 0; t < 4095 * SEC; t += SEC)
		at(&b, t, (double)t / 100);
	ck_assert_uint_eq(b.events.n, 0);
	at(&b, 4095 * SEC, 40950);
	ck_assert_uint_eq(b.events.n, 1);
	ck_assert_double_eq(b.events.ev[0].value, 10);
	for (t = 4096 * SEC; t < 10000 * SEC; t += SEC)
		at(&b, t, (double)t / 100);
	ck_assert_uint_eq(b.events.n, 1);
	bench_free(&b);
}
END_TEST

/* A clock that does not move is ignored; no rules is fine. */
START_TEST(test_misc)
{
	struct bench	 b;
	struct ag_alerts *as;
	struct buf	 out;

	bench_init(&b, "alert a { metric m\n above 1\n window 1s }");
	ck_status(&b, "alert a: ok value - baseline - since - severity "
	    "warning: not evaluated yet\n");
	at(&b, 10 * SEC, 0);
	at(&b, 10 * SEC, 5);
	at(&b, 5 * SEC, 5);
	ck_assert_int_eq(b.feed.lookups, 1);
	ck_assert_uint_eq(b.events.n, 0);
	bench_free(&b);

	as = ag_alerts_new(NULL, NULL, NULL);
	ck_assert_ptr_nonnull(as);
	ag_alerts_eval(as, 1000, lookup, NULL);
	buf_init(&out, 0);
	ag_alerts_format(as, &out);
	ck_assert_str_eq(buf_cstr(&out), "");
	buf_free(&out);
	ck_assert_uint_eq(ag_alerts_firing(as), 0);
	ag_alerts_free(as);
	ag_alerts_free(NULL);
	ag_alert_conf_free(NULL);
}
END_TEST

Suite *
ag_alert_suite(void)
{
	Suite	*s = suite_create("ag_alert");
	TCase	*tc = tcase_create("conf");

	tcase_add_test(tc, test_conf_good);
	tcase_add_loop_test(tc, test_conf_bad, 0, NELEM(bad));
	tcase_add_test(tc, test_conf_all_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("eval");
	tcase_add_test(tc, test_above_hold_and_recover);
	tcase_add_test(tc, test_no_flapping);
	tcase_add_test(tc, test_below_defaults);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_rate_below);
	tcase_add_test(tc, test_drop_fires);
	tcase_add_test(tc, test_drop_ramp_and_half);
	tcase_add_test(tc, test_drop_slow_decline);
	tcase_add_test(tc, test_drop_warmup_min_baseline);
	tcase_add_test(tc, test_spike);
	tcase_add_test(tc, test_no_data);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_ring_bound);
	tcase_add_test(tc, test_misc);
	suite_add_tcase(s, tc);
	return s;
}
