/* Unit tests for common/metrics. */
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "suites.h"

#define L(...)	((const char *const[]){ __VA_ARGS__, NULL })

#define DROPPED_HEAD(p)							\
	"# HELP " p "metrics_series_dropped_total Label sets not recorded: " \
	"series limit reached, label value too long or not UTF-8.\n"	\
	"# TYPE " p "metrics_series_dropped_total counter\n"

struct captured {
	char	 last[512];
	int	 count;
};

static void
capture(enum log_level level, const char *msg, void *arg)
{
	struct captured *c = arg;

	snprintf(c->last, sizeof(c->last), "%s", msg);
	c->count++;
}

static void
quiet(enum log_level level, const char *msg, void *arg)
{
}

/* Render m into b (emptied first) and return it as a string. */
static const char *
render(const struct metrics *m, struct buf *b)
{
	buf_reset(b);
	ck_assert_int_eq(metrics_render(m, b), 0);
	return buf_cstr(b);
}

/* Byte-exact comparison naming the first line that differs (Check refuses
 * failure messages of a few kilobytes, so whole texts cannot be shown). */
static void
assert_text(const char *got, const char *want)
{
	size_t	 i = 0, line = 1, start = 0;

	for (; got[i] != '\0' && got[i] == want[i]; i++)
		if (got[i] == '\n') {
			line++;
			start = i + 1;
		}
	ck_assert_msg(got[i] == want[i], "line %zu differs:\n got: %.200s\n"
	    "want: %.200s", line, got + start, want + start);
}

static int
count_lines_with(const char *text, const char *needle)
{
	const char	*p, *nl;
	int		 n = 0;

	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (memmem(p, nl - p, needle, strlen(needle)) != NULL)
			n++;
	}
	return n;
}

START_TEST(counter_with_labels_exact)
{
	struct metrics	*m = metrics_new("stackd_test_");
	struct metric	*c;
	struct metric_series *s;
	struct buf	 b;

	buf_init(&b, 0);
	c = metrics_counter(m, "requests_total", "Requests handled.",
	    L("method", "code"));
	ck_assert_ptr_nonnull(c);
	s = metric_with(c, L("GET", "200"));
	counter_inc(s);
	counter_add_u64(metric_with(c, L("POST", "500")), 3);
	/* Same values find the same series. */
	ck_assert_ptr_eq(metric_with(c, L("GET", "200")), s);
	counter_add(s, 2);
	counter_add(s, -5);	/* ignored: counters never go down */
	counter_add(s, NAN);	/* ignored */
	ck_assert_double_eq(metric_value(s), 3);
	ck_assert_uint_eq(metric_nseries(c), 2);
	assert_text(render(m, &b),
	    "# HELP stackd_test_requests_total Requests handled.\n"
	    "# TYPE stackd_test_requests_total counter\n"
	    "stackd_test_requests_total{method=\"GET\",code=\"200\"} 3\n"
	    "stackd_test_requests_total{method=\"POST\",code=\"500\"} 3\n"
	    DROPPED_HEAD("stackd_test_")
	    "stackd_test_metrics_series_dropped_total"
	    "{family=\"stackd_test_requests_total\"} 0\n");
	counter_add(s, 0.5);
	ck_assert_ptr_nonnull(strstr(render(m, &b),
	    "{method=\"GET\",code=\"200\"} 3.5\n"));
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(counter_integer_part_exact)
{
	struct metrics	*m = metrics_new("");
	struct metric	*c = metrics_counter(m, "bytes_total", "Bytes.", NULL);
	struct buf	 b;

	buf_init(&b, 0);
	/* 2^53 + 1 is not a double: kept exactly in the integer part. */
	counter_add_u64(metric_series0(c), 9007199254740992ULL);
	counter_inc(metric_series0(c));
	assert_text(render(m, &b),
	    "# HELP bytes_total Bytes.\n# TYPE bytes_total counter\n"
	    "bytes_total 9007199254740993\n");
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(gauge_exact)
{
	struct metrics	*m = metrics_new("stackd_test_");
	struct metric	*g, *gl;
	struct buf	 b;

	buf_init(&b, 0);
	g = metrics_gauge(m, "active_connections", "Open connections.", NULL);
	gl = metrics_gauge(m, "backend_up", "1 if the backend is up.",
	    L("backend"));
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(gl);
	/* An unlabelled gauge exists, at 0, from registration. */
	assert_text(render(m, &b),
	    "# HELP stackd_test_active_connections Open connections.\n"
	    "# TYPE stackd_test_active_connections gauge\n"
	    "stackd_test_active_connections 0\n"
	    "# HELP stackd_test_backend_up 1 if the backend is up.\n"
	    "# TYPE stackd_test_backend_up gauge\n"
	    DROPPED_HEAD("stackd_test_")
	    "stackd_test_metrics_series_dropped_total"
	    "{family=\"stackd_test_backend_up\"} 0\n");
	gauge_set(metric_series0(g), 10);
	gauge_add(metric_series0(g), -12.5);
	ck_assert_ptr_eq(metric_with(g, NULL), metric_series0(g));
	gauge_set(metric_with(gl, L("web-01")), 1);
	gauge_set(metric_with(gl, L("web-02")), 0);
	assert_text(render(m, &b),
	    "# HELP stackd_test_active_connections Open connections.\n"
	    "# TYPE stackd_test_active_connections gauge\n"
	    "stackd_test_active_connections -2.5\n"
	    "# HELP stackd_test_backend_up 1 if the backend is up.\n"
	    "# TYPE stackd_test_backend_up gauge\n"
	    "stackd_test_backend_up{backend=\"web-01\"} 1\n"
	    "stackd_test_backend_up{backend=\"web-02\"} 0\n"
	    DROPPED_HEAD("stackd_test_")
	    "stackd_test_metrics_series_dropped_total"
	    "{family=\"stackd_test_backend_up\"} 0\n");
	metrics_free(m);
	buf_free(&b);
}
END_TEST

static const struct {
	double		 value;
	const char	*text;
} number_cases[] = {
	{ 0, "0" },
	{ -0.0, "0" },
	{ 42, "42" },
	{ -7, "-7" },
	{ 123456789012, "123456789012" },
	{ 1e18, "1000000000000000000" },
	{ 1e21, "1e+21" },
	{ 0.1, "0.1" },
	{ 0.005, "0.005" },
	{ -2.5, "-2.5" },
	{ 1e-9, "1e-09" },
	{ 1.0 / 3, "0.3333333333333333" },
	{ 0.1 + 0.2, "0.30000000000000004" },
	{ 2.5e-300, "2.5e-300" },
	{ INFINITY, "+Inf" },
	{ -INFINITY, "-Inf" },
	{ NAN, "NaN" },
};

START_TEST(number_format)
{
	struct metrics	*m = metrics_new("");
	struct metric	*g = metrics_gauge(m, "value", "A value.", NULL);
	struct buf	 b;
	char		 want[128];
	const char	*head = "# HELP value A value.\n# TYPE value gauge\n";

	buf_init(&b, 0);
	gauge_set(metric_series0(g), number_cases[_i].value);
	snprintf(want, sizeof(want), "%svalue %s\n", head,
	    number_cases[_i].text);
	assert_text(render(m, &b), want);
	/* Whatever we print reads back as the same number. */
	if (!isnan(number_cases[_i].value))
		ck_assert(strtod(number_cases[_i].text, NULL) ==
		    number_cases[_i].value || number_cases[_i].text[0] == '+');
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(histogram_exact)
{
	static const double bounds[] = { 0.25, 1, 4 };
	static const double obs[] = { 0.125, 0.25, 0.5, 1, 3, 8, NAN };
	struct metrics	*m = metrics_new("stackd_test_");
	struct metric	*h;
	struct metric_series *s;
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	h = metrics_histogram(m, "request_duration_seconds", "Latency.",
	    L("path"), bounds, 3);
	ck_assert_ptr_nonnull(h);
	s = metric_with(h, L("/"));
	for (i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		histogram_observe(s, obs[i]);	/* NaN is ignored */
	ck_assert_double_eq(metric_value(s), 6);
	histogram_observe(metric_with(h, L("/api")), 0.5);
	/* Bounds are "less or equal": 0.25 and 1 fall in their own bucket;
	 * cumulative counts; +Inf equals _count; sum 12.875. */
	assert_text(render(m, &b),
	    "# HELP stackd_test_request_duration_seconds Latency.\n"
	    "# TYPE stackd_test_request_duration_seconds histogram\n"
	    "stackd_test_request_duration_seconds_bucket{path=\"/\",le=\"0.25\"} 2\n"
	    "stackd_test_request_duration_seconds_bucket{path=\"/\",le=\"1\"} 4\n"
	    "stackd_test_request_duration_seconds_bucket{path=\"/\",le=\"4\"} 5\n"
	    "stackd_test_request_duration_seconds_bucket{path=\"/\",le=\"+Inf\"} 6\n"
	    "stackd_test_request_duration_seconds_sum{path=\"/\"} 12.875\n"
	    "stackd_test_request_duration_seconds_count{path=\"/\"} 6\n"
	    "stackd_test_request_duration_seconds_bucket{path=\"/api\",le=\"0.25\"} 0\n"
	    "stackd_test_request_duration_seconds_bucket{path=\"/api\",le=\"1\"} 1\n"
	    "stackd_test_request_duration_seconds_bucket{path=\"/api\",le=\"4\"} 1\n"
	    "stackd_test_request_duration_seconds_bucket{path=\"/api\",le=\"+Inf\"} 1\n"
	    "stackd_test_request_duration_seconds_sum{path=\"/api\"} 0.5\n"
	    "stackd_test_request_duration_seconds_count{path=\"/api\"} 1\n"
	    DROPPED_HEAD("stackd_test_")
	    "stackd_test_metrics_series_dropped_total"
	    "{family=\"stackd_test_request_duration_seconds\"} 0\n");
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(histogram_default_bounds_unlabelled)
{
	struct metrics	*m = metrics_new("");
	struct metric	*h;
	struct buf	 b;
	const char	*out;

	buf_init(&b, 0);
	h = metrics_histogram(m, "query_seconds", "Query time.", NULL,
	    metrics_default_latency_bounds, METRICS_LATENCY_NBOUNDS);
	ck_assert_ptr_nonnull(h);
	histogram_observe(metric_series0(h), 0.003);
	histogram_observe(metric_series0(h), 60);
	out = render(m, &b);
	ck_assert_ptr_nonnull(strstr(out,
	    "query_seconds_bucket{le=\"0.001\"} 0\n"
	    "query_seconds_bucket{le=\"0.0025\"} 0\n"
	    "query_seconds_bucket{le=\"0.005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "query_seconds_bucket{le=\"10\"} 1\n"
	    "query_seconds_bucket{le=\"+Inf\"} 2\n"
	    "query_seconds_sum 60.003\n"
	    "query_seconds_count 2\n"));
	ck_assert_int_eq(count_lines_with(out, "_bucket{"),
	    METRICS_LATENCY_NBOUNDS + 1);
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(escaping)
{
	struct metrics	*m = metrics_new("");
	struct metric	*g;
	struct buf	 b;

	buf_init(&b, 0);
	g = metrics_gauge(m, "esc", "Say \"hi\" \\ to\nthe next line.",
	    L("a", "b", "c"));
	ck_assert_ptr_nonnull(g);
	gauge_set(metric_with(g, L("q\"uote", "back\\slash", "new\nline")), 1);
	gauge_set(metric_with(g, L("\\\"\n", "", "plain")), 2);
	assert_text(render(m, &b),
	    /* Help escapes \\ and \n but not quotes. */
	    "# HELP esc Say \"hi\" \\\\ to\\nthe next line.\n"
	    "# TYPE esc gauge\n"
	    "esc{a=\"q\\\"uote\",b=\"back\\\\slash\",c=\"new\\nline\"} 1\n"
	    "esc{a=\"\\\\\\\"\\n\",b=\"\",c=\"plain\"} 2\n"
	    DROPPED_HEAD("")
	    "metrics_series_dropped_total{family=\"esc\"} 0\n");
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(value_identity)
{
	struct metrics	*m = metrics_new("");
	struct metric	*c = metrics_counter(m, "x_total", "X.", L("a", "b"));
	struct metric_series *s1, *s2;

	/* Same concatenation, different split: two series. */
	s1 = metric_with(c, L("a", "bc"));
	s2 = metric_with(c, L("ab", "c"));
	ck_assert_ptr_ne(s1, s2);
	ck_assert_ptr_ne(metric_with(c, L("bc", "a")), s1);
	ck_assert_ptr_eq(metric_with(c, L("a", "bc")), s1);
	ck_assert_uint_eq(metric_nseries(c), 3);
	metrics_free(m);
}
END_TEST

START_TEST(overflow_drop_series)
{
	struct metrics	*m = metrics_new("stackd_test_");
	struct metric	*c;
	struct metric_series *s, *drop = NULL, *first;
	struct buf	 b;
	char		 id[16];
	const char	*out;
	int		 i;

	buf_init(&b, 0);
	c = metrics_counter(m, "conns_total", "Connections.", L("id"));
	metric_set_max_series(c, 100);
	first = metric_with(c, L("x0"));
	for (i = 0; i < 150; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		s = metric_with(c, L(id));
		ck_assert_ptr_nonnull(s);
		counter_inc(s);
		if (i >= 100) {
			/* One shared overflow series, never a real one. */
			if (drop == NULL)
				drop = s;
			ck_assert_ptr_eq(s, drop);
		}
	}
	ck_assert_ptr_ne(drop, first);
	ck_assert_uint_eq(metric_nseries(c), 100);
	/* Existing series are still found at the limit, and not counted. */
	ck_assert_ptr_eq(metric_with(c, L("x0")), first);
	ck_assert_double_eq(metric_value(first), 1);
	out = render(m, &b);
	ck_assert_int_eq(count_lines_with(out, "stackd_test_conns_total{"), 100);
	ck_assert_ptr_null(strstr(out, "id=\"x100\""));
	ck_assert_ptr_nonnull(strstr(out, "stackd_test_metrics_series_dropped_total"
	    "{family=\"stackd_test_conns_total\"} 50\n"));
	/* Removing one makes room for a new one. */
	ck_assert_int_eq(metric_remove(c, L("x7")), 0);
	ck_assert_ptr_ne(metric_with(c, L("x120")), drop);
	ck_assert_ptr_eq(metric_with(c, L("x121")), drop);
	ck_assert_ptr_nonnull(strstr(render(m, &b), "{family=\"stackd_test_"
	    "conns_total\"} 51\n"));
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(default_limit_and_growth)
{
	struct metrics	*m = metrics_new("");
	struct metric	*g = metrics_gauge(m, "load", "Load.", L("k"));
	struct metric_series *s;
	char		 k[16];
	int		 i;

	for (i = 0; i < METRICS_SERIES_DEFAULT; i++) {
		snprintf(k, sizeof(k), "%d", i);
		gauge_set(metric_with(g, L(k)), i);
	}
	ck_assert_uint_eq(metric_nseries(g), METRICS_SERIES_DEFAULT);
	/* Every one is still found (through many table growths). */
	for (i = 0; i < METRICS_SERIES_DEFAULT; i += 997) {
		snprintf(k, sizeof(k), "%d", i);
		ck_assert_double_eq(metric_value(metric_with(g, L(k))), i);
	}
	s = metric_with(g, L("one too many"));
	gauge_set(s, 123);
	ck_assert_uint_eq(metric_nseries(g), METRICS_SERIES_DEFAULT);
	ck_assert_ptr_eq(metric_with(g, L("another")), s);
	metrics_free(m);
}
END_TEST

START_TEST(bad_label_values_dropped)
{
	static const char *const bad[] = {
		"\xff", "ok\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe2\x28\xa1",
	};
	struct metrics	*m = metrics_new("");
	struct metric	*c = metrics_counter(m, "v_total", "V.", L("v"));
	struct metric_series *drop;
	struct buf	 b;
	char		 big[METRICS_VALUE_MAX + 2];
	size_t		 i;

	buf_init(&b, 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	drop = metric_with(c, L(big));		/* one byte too long */
	ck_assert_ptr_nonnull(drop);
	ck_assert_uint_eq(metric_nseries(c), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_ptr_eq(metric_with(c, L(bad[i])), drop);
	ck_assert_uint_eq(metric_nseries(c), 0);
	ck_assert_int_eq(metric_remove(c, L("\xff")), -1);
	/* At the limit, and valid multibyte UTF-8, are fine. */
	big[METRICS_VALUE_MAX] = '\0';
	ck_assert_ptr_ne(metric_with(c, L(big)), drop);
	counter_inc(metric_with(c, L("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82")));
	ck_assert_uint_eq(metric_nseries(c), 2);
	ck_assert_ptr_nonnull(strstr(render(m, &b),
	    "v_total{v=\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82\"} 1\n"
	    DROPPED_HEAD("")
	    "metrics_series_dropped_total{family=\"v_total\"} 7\n"));
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(remove_and_clear)
{
	struct metrics	*m = metrics_new("");
	struct metric	*g = metrics_gauge(m, "up", "Up.", L("server"));
	struct metric	*u = metrics_gauge(m, "solo", "Solo.", NULL);
	struct buf	 b;
	const char	*head = "# HELP up Up.\n# TYPE up gauge\n";
	const char	*tail = "# HELP solo Solo.\n# TYPE solo gauge\nsolo 0\n"
	    DROPPED_HEAD("") "metrics_series_dropped_total{family=\"up\"} 0\n";
	char		 want[1024];

	buf_init(&b, 0);
	gauge_set(metric_with(g, L("a")), 1);
	gauge_set(metric_with(g, L("b")), 2);
	gauge_set(metric_with(g, L("c")), 3);
	ck_assert_int_eq(metric_remove(g, L("b")), 0);
	ck_assert_int_eq(metric_remove(g, L("b")), -1);
	ck_assert_int_eq(metric_remove(g, L("nope")), -1);
	ck_assert_int_eq(metric_remove(u, NULL), -1);	/* unlabelled */
	ck_assert_uint_eq(metric_nseries(g), 2);
	/* A re-created series starts from zero, at the end. */
	ck_assert_double_eq(metric_value(metric_with(g, L("b"))), 0);
	snprintf(want, sizeof(want), "%sup{server=\"a\"} 1\nup{server=\"c\"} 3\n"
	    "up{server=\"b\"} 0\n%s", head, tail);
	assert_text(render(m, &b), want);
	metric_clear(g);
	ck_assert_uint_eq(metric_nseries(g), 0);
	snprintf(want, sizeof(want), "%s%s", head, tail);
	assert_text(render(m, &b), want);
	gauge_set(metric_with(g, L("a")), 5);
	ck_assert_uint_eq(metric_nseries(g), 1);
	ck_assert_ptr_nonnull(strstr(render(m, &b), "up{server=\"a\"} 5\n"));
	metrics_free(m);
	buf_free(&b);
}
END_TEST

static double
read_int(void *arg)
{
	return *(int *)arg;
}

START_TEST(callback_families)
{
	struct metrics	*m = metrics_new("stackd_test_");
	struct buf	 b;
	int		 active = 3, served = 10;

	buf_init(&b, 0);
	ck_assert_ptr_nonnull(metrics_gauge_fn(m, "active", "Active now.",
	    read_int, &active));
	ck_assert_ptr_nonnull(metrics_counter_fn(m, "served_total", "Served.",
	    read_int, &served));
	log_set_sink(quiet, NULL);
	ck_assert_ptr_null(metrics_gauge_fn(m, "nofn", "No callback.", NULL,
	    NULL));
	log_set_sink(NULL, NULL);
	assert_text(render(m, &b),
	    "# HELP stackd_test_active Active now.\n"
	    "# TYPE stackd_test_active gauge\n"
	    "stackd_test_active 3\n"
	    "# HELP stackd_test_served_total Served.\n"
	    "# TYPE stackd_test_served_total counter\n"
	    "stackd_test_served_total 10\n");
	/* Computed at render time. */
	active = 0;
	served = 11;
	assert_text(render(m, &b),
	    "# HELP stackd_test_active Active now.\n"
	    "# TYPE stackd_test_active gauge\n"
	    "stackd_test_active 0\n"
	    "# HELP stackd_test_served_total Served.\n"
	    "# TYPE stackd_test_served_total counter\n"
	    "stackd_test_served_total 11\n");
	metrics_free(m);
	buf_free(&b);
}
END_TEST

/* Numbers counted outside the registry (as webd's workers count in shared
 * memory) and copied in by a render hook. */
struct mirror {
	uint64_t	 requests[2];	/* GET, POST */
	uint64_t	 buckets[3];	/* per bound of { 0.25, 1, 4 } */
	uint64_t	 count;
	double		 sum;
	struct metric_series *s_get, *s_post, *s_hist;
	char		 trace[32];
};

static void
mirror_load(void *arg)
{
	struct mirror	*mi = arg;

	counter_load(mi->s_get, mi->requests[0]);
	counter_load(mi->s_post, mi->requests[1]);
	histogram_load(mi->s_hist, mi->buckets, mi->count, mi->sum);
	strcat(mi->trace, "a");
}

static void
mirror_trace(void *arg)
{
	strcat(((struct mirror *)arg)->trace, "b");
}

START_TEST(mirrored_values_loaded_at_render)
{
	static const double bounds[] = { 0.25, 1, 4 };
	struct metrics	*m = metrics_new("stackd_test_");
	struct metric	*c, *h;
	struct mirror	 mi = { .requests = { 5, 1 } };
	struct buf	 b;
	int		 i;

	buf_init(&b, 0);
	c = metrics_counter(m, "requests_total", "Requests.", L("method"));
	h = metrics_histogram(m, "seconds", "Time.", NULL, bounds, 3);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(h);
	mi.s_get = metric_with(c, L("GET"));
	mi.s_post = metric_with(c, L("POST"));
	mi.s_hist = metric_series0(h);
	ck_assert_int_eq(metrics_on_render(m, mirror_load, &mi), 0);
	ck_assert_int_eq(metrics_on_render(m, mirror_trace, &mi), 0);
	/* A value counted here is replaced by the mirrored one. */
	counter_add_u64(mi.s_get, 100);
	mi.buckets[0] = 2, mi.buckets[2] = 1, mi.count = 4, mi.sum = 12.5;
	assert_text(render(m, &b),
	    "# HELP stackd_test_requests_total Requests.\n"
	    "# TYPE stackd_test_requests_total counter\n"
	    "stackd_test_requests_total{method=\"GET\"} 5\n"
	    "stackd_test_requests_total{method=\"POST\"} 1\n"
	    "# HELP stackd_test_seconds Time.\n"
	    "# TYPE stackd_test_seconds histogram\n"
	    "stackd_test_seconds_bucket{le=\"0.25\"} 2\n"
	    "stackd_test_seconds_bucket{le=\"1\"} 2\n"
	    "stackd_test_seconds_bucket{le=\"4\"} 3\n"
	    "stackd_test_seconds_bucket{le=\"+Inf\"} 4\n"
	    "stackd_test_seconds_sum 12.5\n"
	    "stackd_test_seconds_count 4\n"
	    DROPPED_HEAD("stackd_test_")
	    "stackd_test_metrics_series_dropped_total"
	    "{family=\"stackd_test_requests_total\"} 0\n");
	/* Hooks run once per rendering, in the order added. */
	ck_assert_str_eq(mi.trace, "ab");
	mi.requests[0] = 7;
	ck_assert_ptr_nonnull(strstr(render(m, &b),
	    "stackd_test_requests_total{method=\"GET\"} 7\n"));
	ck_assert_str_eq(mi.trace, "abab");
	ck_assert_double_eq(metric_value(mi.s_get), 7);
	/* The hook table is bounded. */
	for (i = 2; i < METRICS_HOOKS_MAX; i++)
		ck_assert_int_eq(metrics_on_render(m, mirror_trace, &mi), 0);
	log_set_sink(quiet, NULL);
	ck_assert_int_eq(metrics_on_render(m, mirror_trace, &mi), -1);
	log_set_sink(NULL, NULL);
	metrics_free(m);
	buf_free(&b);
}
END_TEST

/* Counting with metrics_bucket and loading renders exactly what observing
 * the same values renders. */
START_TEST(histogram_load_matches_observe)
{
	static const double bounds[] = { 0.25, 1, 4 };
	static const double obs[] = { -1, 0.125, 0.25, 0.3, 1, 3, 4, 4.5, 1e9 };
	struct metrics	*mo = metrics_new("t_"), *ml = metrics_new("t_");
	struct metric	*ho, *hl;
	uint64_t	 buckets[4] = { 0 };
	double		 sum = 0;
	struct buf	 bo, bl;
	size_t		 i;

	buf_init(&bo, 0);
	buf_init(&bl, 0);
	ho = metrics_histogram(mo, "x", "X.", NULL, bounds, 3);
	hl = metrics_histogram(ml, "x", "X.", NULL, bounds, 3);
	for (i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
		histogram_observe(metric_series0(ho), obs[i]);
		buckets[metrics_bucket(bounds, 3, obs[i])]++;
		sum += obs[i];
	}
	ck_assert_uint_eq(metrics_bucket(bounds, 3, INFINITY), 3);
	ck_assert_uint_eq(metrics_bucket(bounds, 3, -INFINITY), 0);
	ck_assert_uint_eq(buckets[0], 3);	/* -1, 0.125, 0.25 */
	ck_assert_uint_eq(buckets[3], 2);	/* 4.5, 1e9 */
	histogram_load(metric_series0(hl), buckets, i, sum);
	assert_text(render(ml, &bl), render(mo, &bo));
	metrics_free(mo);
	metrics_free(ml);
	buf_free(&bo);
	buf_free(&bl);
}
END_TEST

enum reg_kind { REG_COUNTER, REG_GAUGE, REG_HISTOGRAM };

static const double one_one[] = { 1, 1 };
static const double down[] = { 2, 1 };
static const double nan_bound[] = { NAN };
static const double inf_bound[] = { 1, INFINITY };
static const double many_bounds[METRICS_BUCKETS_MAX + 1];
static const double ok_bounds[] = { 1 };

static const struct {
	enum reg_kind	 kind;
	const char	*name;
	const char	*help;
	const char *const *labels;
	const double	*bounds;
	size_t		 nbounds;
	const char	*why;		/* in the log message */
} bad_regs[] = {
	{ REG_COUNTER, NULL, "h", NULL, NULL, 0, "no metric name" },
	{ REG_COUNTER, "", "h", NULL, NULL, 0, "invalid metric name" },
	{ REG_COUNTER, "bad-name_total", "h", NULL, NULL, 0, "invalid metric name" },
	{ REG_COUNTER, "1abc_total", "h", NULL, NULL, 0, "invalid metric name" },
	{ REG_COUNTER, "sp ace_total", "h", NULL, NULL, 0, "invalid metric name" },
	{ REG_COUNTER, "requests", "h", NULL, NULL, 0, "end in _total" },
	{ REG_GAUGE, "open_total", "h", NULL, NULL, 0, "only counter" },
	{ REG_HISTOGRAM, "lat_total", "h", NULL, ok_bounds, 1, "only counter" },
	{ REG_GAUGE, "x_count", "h", NULL, NULL, 0, "_count is reserved" },
	{ REG_GAUGE, "x_sum", "h", NULL, NULL, 0, "_sum is reserved" },
	{ REG_HISTOGRAM, "y_bucket", "h", NULL, ok_bounds, 1, "_bucket is reserved" },
	{ REG_GAUGE, "g", NULL, NULL, NULL, 0, "help" },
	{ REG_GAUGE, "g", "", NULL, NULL, 0, "help" },
	{ REG_GAUGE, "g", "bad \xff utf-8", NULL, NULL, 0, "help" },
	{ REG_GAUGE, "g", "h", L("1a"), NULL, 0, "invalid label name" },
	{ REG_GAUGE, "g", "h", L("__x"), NULL, 0, "invalid label name" },
	{ REG_GAUGE, "g", "h", L("a-b"), NULL, 0, "invalid label name" },
	{ REG_GAUGE, "g", "h", L("a:b"), NULL, 0, "invalid label name" },
	{ REG_GAUGE, "g", "h", L(""), NULL, 0, "invalid label name" },
	{ REG_GAUGE, "g", "h", L("le"), NULL, 0, "reserved" },
	{ REG_HISTOGRAM, "g", "h", L("le"), ok_bounds, 1, "reserved" },
	{ REG_GAUGE, "g", "h", L("quantile"), NULL, 0, "reserved" },
	{ REG_GAUGE, "g", "h", L("a", "b", "a"), NULL, 0, "given twice" },
	{ REG_GAUGE, "g", "h", L("a", "b", "c", "d", "e", "f", "g", "h", "i",
	    "j", "k", "l", "m", "n", "o", "p", "q"), NULL, 0, "more than 16" },
	{ REG_HISTOGRAM, "h", "h", NULL, NULL, 3, "needs 1 to 64 bounds" },
	{ REG_HISTOGRAM, "h", "h", NULL, ok_bounds, 0, "needs 1 to 64 bounds" },
	{ REG_HISTOGRAM, "h", "h", NULL, many_bounds, METRICS_BUCKETS_MAX + 1,
	    "needs 1 to 64 bounds" },
	{ REG_HISTOGRAM, "h", "h", NULL, one_one, 2, "strictly increasing" },
	{ REG_HISTOGRAM, "h", "h", NULL, down, 2, "strictly increasing" },
	{ REG_HISTOGRAM, "h", "h", NULL, nan_bound, 1, "not finite" },
	{ REG_HISTOGRAM, "h", "h", NULL, inf_bound, 2, "not finite" },
	{ REG_COUNTER, "metrics_series_dropped_total", "h", NULL, NULL, 0,
	    "used by the registry" },
};

static struct metric *
register_kind(struct metrics *m, enum reg_kind kind, const char *name,
    const char *help, const char *const *labels, const double *bounds,
    size_t nbounds)
{
	switch (kind) {
	case REG_COUNTER:
		return metrics_counter(m, name, help, labels);
	case REG_GAUGE:
		return metrics_gauge(m, name, help, labels);
	default:
		return metrics_histogram(m, name, help, labels, bounds, nbounds);
	}
}

START_TEST(invalid_registration_rejected)
{
	struct metrics	*m = metrics_new("");
	struct captured	 c = { .count = 0 };
	struct buf	 b;

	buf_init(&b, 0);
	log_set_sink(capture, &c);
	ck_assert_ptr_null(register_kind(m, bad_regs[_i].kind,
	    bad_regs[_i].name, bad_regs[_i].help, bad_regs[_i].labels,
	    bad_regs[_i].bounds, bad_regs[_i].nbounds));
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(c.count, 1);
	ck_assert_msg(strstr(c.last, bad_regs[_i].why) != NULL,
	    "case %d: log \"%s\" lacks \"%s\"", _i, c.last, bad_regs[_i].why);
	/* Nothing was registered. */
	assert_text(render(m, &b), "");
	metrics_free(m);
	buf_free(&b);
}
END_TEST

START_TEST(duplicates_and_prefixes)
{
	struct metrics	*m;
	struct captured	 c = { .count = 0 };
	char		 longname[METRICS_NAME_MAX + 2];
	size_t		 n;

	log_set_sink(capture, &c);
	ck_assert_ptr_null(metrics_new(NULL));
	ck_assert_ptr_null(metrics_new("bad-prefix_"));
	ck_assert_ptr_null(metrics_new("9x_"));
	ck_assert_int_eq(c.count, 3);
	ck_assert_ptr_nonnull(strstr(c.last, "invalid prefix"));

	m = metrics_new("stackd_t_");
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(metrics_gauge(m, "dup", "Dup.", NULL));
	ck_assert_ptr_null(metrics_histogram(m, "dup", "Dup.", NULL,
	    metrics_default_latency_bounds, METRICS_LATENCY_NBOUNDS));
	ck_assert_ptr_nonnull(strstr(c.last, "stackd_t_dup: already registered"));
	ck_assert_ptr_null(metrics_gauge_fn(m, "dup", "Dup.", read_int, NULL));
	ck_assert_ptr_null(metrics_counter(m, "metrics_series_dropped_total",
	    "Mine.", NULL));
	/* The prefix counts towards the name length: no silent truncation. */
	n = METRICS_NAME_MAX - strlen("stackd_t_");
	memset(longname, 'a', n);
	longname[n] = '\0';
	ck_assert_ptr_nonnull(metrics_gauge(m, longname, "Long.", NULL));
	longname[n] = 'b';
	longname[n + 1] = '\0';
	ck_assert_ptr_null(metrics_gauge(m, longname, "Long.", NULL));
	ck_assert_ptr_nonnull(strstr(c.last, "longer than"));
	log_set_sink(NULL, NULL);
	metrics_free(m);
	metrics_free(NULL);
}
END_TEST

START_TEST(render_respects_buffer_cap)
{
	struct metrics	*m = metrics_new("stackd_test_");
	struct metric	*c = metrics_counter(m, "a_total", "A.", L("x"));
	struct buf	 b;

	counter_inc(metric_with(c, L("1")));
	buf_init(&b, 64);
	ck_assert_int_eq(buf_puts(&b, "..keep"), 0);
	buf_consume(&b, 2);
	errno = 0;
	ck_assert_int_eq(metrics_render(m, &b), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	/* Nothing half-written is left behind. */
	ck_assert_str_eq(buf_cstr(&b), "keep");
	buf_free(&b);
	/* And with room it fits after what was there. */
	buf_init(&b, 0);
	buf_puts(&b, "keep\n");
	ck_assert_int_eq(metrics_render(m, &b), 0);
	ck_assert_int_eq(strncmp(buf_cstr(&b), "keep\n# HELP stackd_test_a_total",
	    31), 0);
	metrics_free(m);
	buf_free(&b);
}
END_TEST

static double
sample_value(const char *text, const char *name)
{
	char	 key[128];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", name);
	p = strstr(text, key);
	ck_assert_msg(p != NULL, "no sample %s", name);
	return strtod(p + strlen(key), NULL);
}

START_TEST(process_metrics_and_two_registries)
{
	struct metrics	*a = metrics_new("stackd_a_"), *p = metrics_new("stackd_p_");
	struct buf	 b;
	const char	*out;
	double		 now = (double)time(NULL), start;

	buf_init(&b, 0);
	counter_inc(metric_series0(metrics_counter(a, "x_total", "X.", NULL)));
	ck_assert_int_eq(metrics_add_process(p), 0);
	log_set_sink(quiet, NULL);
	ck_assert_int_eq(metrics_add_process(p), -1);	/* already there */
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(metrics_render(a, &b), 0);
	ck_assert_int_eq(metrics_render(p, &b), 0);
	out = buf_cstr(&b);
	ck_assert_int_eq(strncmp(out, "# HELP stackd_a_x_total X.\n", 27), 0);
	ck_assert_int_eq(count_lines_with(out, "# TYPE process_open_fds "), 1);
	ck_assert_double_ge(sample_value(out, "process_open_fds"), 3);
	ck_assert_double_ge(sample_value(out, "process_max_fds"),
	    sample_value(out, "process_open_fds"));
	ck_assert_double_gt(sample_value(out, "process_resident_memory_bytes"),
	    4096);
	ck_assert_double_ge(sample_value(out, "process_virtual_memory_bytes"),
	    sample_value(out, "process_resident_memory_bytes"));
	ck_assert_double_ge(sample_value(out, "process_cpu_seconds_total"), 0);
	start = sample_value(out, "process_start_time_seconds");
	ck_assert_double_le(start, now + 1);
	ck_assert_double_gt(start, now - 3600);
	metrics_free(a);
	metrics_free(p);
	buf_free(&b);
}
END_TEST

/* Run promtool check metrics on text; its stdout+stderr go to out. */
static int
promtool_check(const char *text, char *out, size_t outlen)
{
	const char	*promtool = getenv("PROMTOOL");
	size_t		 len = 0, tlen = strlen(text);
	ssize_t		 n;
	pid_t		 pid;
	int		 in, pfd[2], status;
	char		 sink[512];

	if (promtool == NULL)
		promtool = "/usr/bin/promtool";
	ck_assert_msg(access(promtool, X_OK) == 0, "promtool not found at %s: "
	    "install Debian's prometheus package (make deps) or set PROMTOOL",
	    promtool);
	ck_assert_int_ne(in = memfd_create("metrics", MFD_CLOEXEC), -1);
	ck_assert_int_eq(write(in, text, tlen), (ssize_t)tlen);
	ck_assert_int_eq(lseek(in, 0, SEEK_SET), 0);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		dup2(in, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execl(promtool, "promtool", "check", "metrics", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	close(in);
	while ((n = read(pfd[0], len < outlen - 1 ? out + len : sink,
	    len < outlen - 1 ? outlen - 1 - len : sizeof(sink))) > 0)
		if (len < outlen - 1)
			len += n;
	out[len] = '\0';
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(promtool_accepts_rendering)
{
	static const double bounds[] = { 0.005, 0.1, 1 };
	struct metrics	*m = metrics_new("stackd_test_");
	struct metrics	*m2 = metrics_new("stackd_other_");
	struct metric	*c, *g, *h, *hs, *small;
	struct buf	 b;
	char		 out[4096], id[16];
	int		 active = 7, i, rc;

	buf_init(&b, 0);
	c = metrics_counter(m, "requests_total", "Requests by \"method\"\\code.\n"
	    "Second line.", L("method", "code"));
	g = metrics_gauge(m, "temperature_celsius", "Odd values.", L("where"));
	h = metrics_histogram(m, "request_duration_seconds", "Latency.",
	    L("backend"), bounds, 3);
	hs = metrics_histogram(m, "query_duration_seconds", "Query latency.",
	    NULL, metrics_default_latency_bounds, METRICS_LATENCY_NBOUNDS);
	small = metrics_gauge(m, "limited", "Tiny limit.", L("id"));
	ck_assert(c && g && h && hs && small);
	metric_set_max_series(small, 2);
	ck_assert_ptr_nonnull(metrics_gauge_fn(m, "active_connections",
	    "Open now.", read_int, &active));
	ck_assert_ptr_nonnull(metrics_counter_fn(m, "served_total", "Served.",
	    read_int, &active));
	counter_inc(metric_with(c, L("GET", "200")));
	counter_add(metric_with(c, L("a\"b\\c\nd", "")), 2.5);
	gauge_set(metric_with(g, L("in")), NAN);
	gauge_set(metric_with(g, L("out")), -INFINITY);
	gauge_set(metric_with(g, L("sun")), INFINITY);
	gauge_set(metric_with(g, L("room")), 21.3);
	gauge_set(metric_with(g, L("\xe6\x97\xa5")), 1e-300);
	for (i = 0; i < 10; i++) {
		histogram_observe(metric_with(h, L("web-01")), i * 0.05);
		histogram_observe(metric_series0(hs), i * 0.3);
		snprintf(id, sizeof(id), "%d", i);
		gauge_set(metric_with(small, L(id)), i);
	}
	metric_with(h, L("web-02"));
	ck_assert_int_eq(metrics_add_process(m), 0);
	counter_inc(metric_series0(metrics_counter(m2, "other_total",
	    "Other registry.", NULL)));
	ck_assert_int_eq(metrics_render(m, &b), 0);
	ck_assert_int_eq(metrics_render(m2, &b), 0);
	rc = promtool_check(buf_cstr(&b), out, sizeof(out));
	ck_assert_msg(rc == 0 && out[0] == '\0', "promtool exit %d: %.2000s",
	    rc, out);
	metrics_free(m);
	metrics_free(m2);
	buf_free(&b);
}
END_TEST

/* The check above can fail: promtool does reject what it should. */
START_TEST(promtool_rejects_bad_text)
{
	char	 out[4096];
	int	 rc;

	rc = promtool_check("# HELP fooSeconds x\n# TYPE fooSeconds gauge\n"
	    "fooSeconds{le=\"1\"} 1\n", out, sizeof(out));
	ck_assert_int_ne(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, "fooSeconds"));
	rc = promtool_check("# HELP x x\n# TYPE x gauge\nx{a=\"\xff\"} 1\n",
	    out, sizeof(out));
	ck_assert_int_ne(rc, 0);
}
END_TEST

/* Programmer errors on the update path are fatal (exit 1). The registry
 * stays reachable from here so LeakSanitizer does not report it at exit. */
static struct metrics *volatile fatal_reg;

START_TEST(wrong_label_count_fatal)
{
	struct metrics	*m = fatal_reg = metrics_new("");
	struct metric	*c = metrics_counter(m, "x_total", "X.", L("a", "b"));

	log_set_sink(quiet, NULL);
	metric_with(c, L("only one"));
}
END_TEST

START_TEST(too_many_label_values_fatal)
{
	struct metrics	*m = fatal_reg = metrics_new("");
	struct metric	*c = metrics_counter(m, "x_total", "X.", L("a"));

	log_set_sink(quiet, NULL);
	metric_with(c, L("one", "two"));
}
END_TEST

/* Updating a series with the function of another type. */
START_TEST(type_mismatch_fatal)
{
	struct metrics	*m = fatal_reg = metrics_new("");
	struct metric_series *c, *g;
	uint64_t	 buckets[1] = { 0 };

	c = metric_series0(metrics_counter(m, "x_total", "X.", NULL));
	g = metric_series0(metrics_gauge(m, "g", "G.", NULL));
	log_set_sink(quiet, NULL);
	switch (_i) {
	case 0:
		gauge_set(c, 1);
		break;
	case 1:
		counter_load(g, 1);
		break;
	default:
		histogram_load(c, buckets, 0, 0);
		break;
	}
}
END_TEST

START_TEST(series0_on_labelled_fatal)
{
	struct metrics	*m = fatal_reg = metrics_new("");
	struct metric	*g = metrics_gauge(m, "g", "G.", L("a"));

	log_set_sink(quiet, NULL);
	metric_series0(g);
}
END_TEST

START_TEST(find_by_name)
{
	struct metrics	*m = metrics_new("stackd_x_");
	struct metric	*c, *g;

	c = metrics_counter(m, "a_total", "A.", NULL);
	g = metrics_gauge(m, "b", "B.", NULL);
	ck_assert_ptr_eq(metrics_find(m, "a_total"), c);
	ck_assert_ptr_eq(metrics_find(m, "b"), g);
	ck_assert_ptr_null(metrics_find(m, "stackd_x_b"));
	ck_assert_ptr_null(metrics_find(m, "c"));
	metrics_free(m);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("core");
	TCase	*tf = tcase_create("fatal");
	TCase	*tp = tcase_create("promtool");

	tcase_add_test(tc, counter_with_labels_exact);
	tcase_add_test(tc, find_by_name);
	tcase_add_test(tc, counter_integer_part_exact);
	tcase_add_test(tc, gauge_exact);
	tcase_add_loop_test(tc, number_format, 0,
	    sizeof(number_cases) / sizeof(number_cases[0]));
	tcase_add_test(tc, histogram_exact);
	tcase_add_test(tc, histogram_default_bounds_unlabelled);
	tcase_add_test(tc, escaping);
	tcase_add_test(tc, value_identity);
	tcase_add_test(tc, overflow_drop_series);
	tcase_add_test(tc, default_limit_and_growth);
	tcase_add_test(tc, bad_label_values_dropped);
	tcase_add_test(tc, remove_and_clear);
	tcase_add_test(tc, callback_families);
	tcase_add_test(tc, mirrored_values_loaded_at_render);
	tcase_add_test(tc, histogram_load_matches_observe);
	tcase_add_loop_test(tc, invalid_registration_rejected, 0,
	    sizeof(bad_regs) / sizeof(bad_regs[0]));
	tcase_add_test(tc, duplicates_and_prefixes);
	tcase_add_test(tc, render_respects_buffer_cap);
	tcase_add_test(tc, process_metrics_and_two_registries);
	suite_add_tcase(s, tc);

	tcase_add_exit_test(tf, wrong_label_count_fatal, 1);
	tcase_add_exit_test(tf, too_many_label_values_fatal, 1);
	tcase_add_loop_exit_test(tf, type_mismatch_fatal, 1, 0, 3);
	tcase_add_exit_test(tf, series0_on_labelled_fatal, 1);
	suite_add_tcase(s, tf);

	tcase_set_timeout(tp, 30);
	tcase_add_test(tp, promtool_accepts_rendering);
	tcase_add_test(tp, promtool_rejects_bad_text);
	suite_add_tcase(s, tp);
	return s;
}
