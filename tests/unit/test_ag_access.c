/* Unit tests for agentd/ag_access: access log lines as webd, lbd and
 * nginx write them into requests by class, bytes, durations and parse
 * errors, and the per-interval request rate.
 *
 * The webd and nginx lines were captured from the real daemons (webd
 * with `access-log FILE combined|json`, nginx 1.22 with its predefined
 * combined format and with $request_time appended); the lbd lines follow
 * cl_log() in lbd/lbd_client.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "ag_access.h"
#include "suites.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct line_case {
	enum ag_log_format fmt;
	const char	*line;
	int		 rv;
	const char	*code;		/* class counted */
	double		 bytes;
	double		 secs;		/* -1: no duration */
};

static const struct line_case lines[] = {
	/* webd combined: referer and user agent before the status. */
	{ AG_FMT_COMBINED, "127.0.0.1:56864 - - [23/Nov/2026:15:54:14 +0000] "
	    "\"GET /index.html HTTP/1.1\" \"http://x/\\\"q\\\"\" "
	    "\"Mozilla/5.0 (X11; \\\"test\\\")\" 200 6 0.016",
	    0, "2xx", 6, 0.016 },
	{ AG_FMT_COMBINED, "127.0.0.1:56872 - - [23/Nov/2026:15:54:14 +0000] "
	    "\"GET /missing HTTP/1.1\" \"-\" \"curl/7.88.1\" 404 14 0.000",
	    0, "4xx", 14, 0 },
	{ AG_FMT_COMBINED, "[::1]:41000 - - [23/Nov/2026:15:54:14 +0000] "
	    "\"-\" \"-\" \"-\" 408 0 30.000", 0, "4xx", 0, 30 },
	/* webd json. */
	{ AG_FMT_JSON, "{\"time\":\"2026-11-23T15:54:14+0000\",\"client\":"
	    "\"127.0.0.1:35318\",\"request\":\"GET /index.html HTTP/1.1\","
	    "\"referer\":\"http://x/\\\"q\\\"\",\"user_agent\":\"Mozilla/5.0 "
	    "(X11; \\\"test\\\")\",\"status\":200,\"bytes\":6,"
	    "\"duration\":0.007000}", 0, "2xx", 6, 0.007 },
	{ AG_FMT_JSON, "{\"time\":\"2026-11-23T15:54:14+0000\",\"client\":"
	    "\"127.0.0.1:35326\",\"request\":\"POST / HTTP/1.1\",\"referer\":"
	    "\"-\",\"user_agent\":\"curl/7.88.1\",\"status\":405,\"bytes\":23,"
	    "\"duration\":0.000000}", 0, "4xx", 23, 0 },
	/* nginx-style json: strings, other names, nested values. */
	{ AG_FMT_JSON, " { \"status\" : \"503\", \"body_bytes_sent\": \"99\", "
	    "\"request_time\": \"1.250\", \"x\": {\"a\": [1, \"]}\"]}, "
	    "\"ok\": true }", 0, "5xx", 99, 1.25 },
	/* lbd. */
	{ AG_FMT_COMBINED, "2026-11-23T15:54:14Z 10.0.0.7:51234 www "
	    "web/web-01 302 0 0.004 TLSv1.3 TLS_AES_128_GCM_SHA256 "
	    "\"GET /login HTTP/1.1\"", 0, "3xx", 0, 0.004 },
	{ AG_FMT_COMBINED, "2026-11-23T15:54:15Z 10.0.0.8:51235 www - 503 "
	    "19 0.000 - - \"GET / HTTP/1.1\"", 0, "5xx", 19, 0 },
	/* nginx combined: no request time. */
	{ AG_FMT_COMBINED, "127.0.0.1 - - [23/Nov/2026:15:54:25 +0000] "
	    "\"GET /index.html HTTP/1.1\" 200 6 \"-\" "
	    "\"Mozilla/5.0 (X11; \\x22test\\x22)\"", 0, "2xx", 6, -1 },
	{ AG_FMT_COMBINED, "127.0.0.1 - - [23/Nov/2026:15:54:26 +0000] "
	    "\"BAD\" 400 157 \"-\" \"-\"", 0, "4xx", 157, -1 },
	{ AG_FMT_COMBINED, "192.0.2.1 - alice [23/Nov/2026:15:54:26 +0000] "
	    "\"GET /a HTTP/1.1\" 101 - \"-\" \"-\"", 0, "1xx", 0, -1 },
	/* nginx combined with $request_time appended. */
	{ AG_FMT_COMBINED, "127.0.0.1 - - [23/Nov/2026:15:54:26 +0000] "
	    "\"GET /missing HTTP/1.1\" 404 153 \"-\" \"curl/7.88.1\" 0.120",
	    0, "4xx", 153, 0.12 },
	/* raw: whichever it looks like. */
	{ AG_FMT_RAW, "{\"status\":201,\"bytes\":5}", 0, "2xx", 5, -1 },
	/* Not access lines. */
	{ AG_FMT_COMBINED, "", -1, NULL, 0, -1 },
	{ AG_FMT_COMBINED, "Nov 23 15:54:26 host sshd[1]: Accepted", -1,
	    NULL, 0, -1 },
	{ AG_FMT_COMBINED, "127.0.0.1 - - [23/Nov/2026:15:54:26 +0000] "
	    "\"GET / HTTP/1.1\" 200 6 \"-\" \"unterminated", -1, NULL, 0, -1 },
	{ AG_FMT_COMBINED, "127.0.0.1 - - [23/Nov/2026:15:54:26 +0000] "
	    "\"GET / HTTP/1.1\" 600 6", -1, NULL, 0, -1 },
	{ AG_FMT_COMBINED, "127.0.0.1 - - [23/Nov/2026:15:54:26 +0000] "
	    "\"GET / HTTP/1.1\" 200 six", -1, NULL, 0, -1 },
	{ AG_FMT_COMBINED, "127.0.0.1 - - [23/Nov/2026:15:54:26 +0000", -1,
	    NULL, 0, -1 },
	{ AG_FMT_COMBINED, "2026-11-23T15:54:15Z 10.0.0.8:51235 www - 99 "
	    "19 0.000 - - \"GET / HTTP/1.1\"", -1, NULL, 0, -1 },
	{ AG_FMT_JSON, "{\"status\":200,", -1, NULL, 0, -1 },
	{ AG_FMT_JSON, "{\"bytes\":200}", -1, NULL, 0, -1 },
	{ AG_FMT_JSON, "{\"status\":\"2000\"}", -1, NULL, 0, -1 },
	{ AG_FMT_JSON, "[200]", -1, NULL, 0, -1 },
	{ AG_FMT_JSON, "{}", -1, NULL, 0, -1 },
};

START_TEST(one_line)
{
	const struct line_case *lc = &lines[_i];
	static const char *const codes[] = { "1xx", "2xx", "3xx", "4xx",
	    "5xx" };
	struct metrics *m = metrics_new("stackd_agentd_");
	struct ag_access *a = ag_access_new(m);
	char	 needle[256];
	size_t	 i;

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(ag_access_line(a, "web", lc->fmt, lc->line,
	    strlen(lc->line)), lc->rv);
	for (i = 0; i < NELEM(codes); i++) {
		snprintf(needle, sizeof(needle), "stackd_agentd_web_requests_"
		    "total{log=\"web\",code=\"%s\"} ", codes[i]);
		ck_assert_msg(mvalue(m, needle) == (lc->code != NULL &&
		    strcmp(lc->code, codes[i]) == 0), "[%s] %s", lc->line,
		    codes[i]);
	}
	ck_assert(mvalue(m, "stackd_agentd_web_parse_errors_total"
	    "{log=\"web\"} ") == (lc->rv == -1));
	ck_assert(mvalue(m, "stackd_agentd_web_response_bytes_total"
	    "{log=\"web\"} ") == lc->bytes);
	ck_assert_msg(mvalue(m, "stackd_agentd_web_request_duration_seconds_"
	    "count{log=\"web\"} ") == (lc->secs >= 0), "[%s]", lc->line);
	if (lc->secs >= 0)
		ck_assert(fabs(mvalue(m, "stackd_agentd_web_request_duration_"
		    "seconds_sum{log=\"web\"} ") - lc->secs) < 1e-9);
	ag_access_free(a);
	metrics_free(m);
}
END_TEST

/* Lines are not NUL-terminated where the tailer hands them on. */
START_TEST(exact_length)
{
	struct metrics *m = metrics_new("stackd_agentd_");
	struct ag_access *a = ag_access_new(m);
	const char *l = "{\"status\":200,\"bytes\":6}garbage";

	ck_assert_int_eq(ag_access_line(a, "w", AG_FMT_JSON, l, 24), 0);
	ck_assert_int_eq(ag_access_line(a, "w", AG_FMT_JSON, l, 23), -1);
	l = "2026-11-23T15:54:15Z p f - 200 19 0.5 - - \"-\"\r\n";
	ck_assert_int_eq(ag_access_line(a, "w", AG_FMT_COMBINED, l,
	    strlen(l)), 0);
	ck_assert(mvalue(m, "web_requests_total{log=\"w\",code=\"2xx\"} ") ==
	    2);
	ag_access_free(a);
	metrics_free(m);
}
END_TEST

/* Counts add up per log, and the histogram puts durations in buckets. */
START_TEST(counts_per_log)
{
	struct metrics *m = metrics_new("stackd_agentd_");
	struct ag_access *a = ag_access_new(m);
	size_t	 i, n2 = 0, n4 = 0, errs = 0;

	for (i = 0; i < NELEM(lines); i++) {
		ag_access_line(a, "web", lines[i].fmt, lines[i].line,
		    strlen(lines[i].line));
		ag_access_line(a, "lb", lines[i].fmt, lines[i].line,
		    strlen(lines[i].line));
		if (lines[i].rv == -1)
			errs++;
		else if (strcmp(lines[i].code, "2xx") == 0)
			n2++;
		else if (strcmp(lines[i].code, "4xx") == 0)
			n4++;
	}
	ck_assert(mvalue(m, "web_requests_total{log=\"web\",code=\"2xx\"} ") ==
	    n2);
	ck_assert(mvalue(m, "web_requests_total{log=\"lb\",code=\"4xx\"} ") ==
	    n4);
	ck_assert(mvalue(m, "web_parse_errors_total{log=\"lb\"} ") == errs);
	/* 0.016 and 30: not in the 10 ms bucket, 30 only in +Inf. */
	ck_assert(mvalue(m, "web_request_duration_seconds_bucket{log=\"web\","
	    "le=\"10\"} ") == mvalue(m, "web_request_duration_seconds_count"
	    "{log=\"web\"} ") - 1);
	ag_access_free(a);
	metrics_free(m);
}
END_TEST

START_TEST(tick_rate)
{
	struct metrics *m = metrics_new("stackd_agentd_");
	struct ag_access *a = ag_access_new(m);
	const char *l = lines[0].line;
	int	 i;

	for (i = 0; i < 30; i++)
		ag_access_line(a, "web", AG_FMT_COMBINED, l, strlen(l));
	/* The first tick only starts the interval. */
	ag_access_tick(a, 1000);
	ck_assert(mvalue(m, "web_requests_per_second{log=\"web\"} ") == 0);
	for (i = 0; i < 50; i++)
		ag_access_line(a, "web", AG_FMT_COMBINED, l, strlen(l));
	/* Parse errors are not requests. */
	ag_access_line(a, "web", AG_FMT_COMBINED, "junk", 4);
	ag_access_line(a, "api", AG_FMT_COMBINED, l, strlen(l));
	ag_access_tick(a, 3500);
	ck_assert(mvalue(m, "web_requests_per_second{log=\"web\"} ") == 20);
	ck_assert(mvalue(m, "web_requests_per_second{log=\"api\"} ") == 0.4);
	/* No time passed: nothing changes, counting goes on. */
	ag_access_line(a, "web", AG_FMT_COMBINED, l, strlen(l));
	ag_access_tick(a, 3500);
	ck_assert(mvalue(m, "web_requests_per_second{log=\"web\"} ") == 20);
	ag_access_tick(a, 3750);
	ck_assert(mvalue(m, "web_requests_per_second{log=\"web\"} ") == 4);
	ag_access_tick(a, 4750);
	ck_assert(mvalue(m, "web_requests_per_second{log=\"web\"} ") == 0);
	ag_access_free(a);
	metrics_free(m);
}
END_TEST

Suite *
ag_access_suite(void)
{
	Suite	*s = suite_create("ag_access");
	TCase	*tc = tcase_create("lines");

	tcase_add_loop_test(tc, one_line, 0, NELEM(lines));
	tcase_add_test(tc, exact_length);
	tcase_add_test(tc, counts_per_log);
	suite_add_tcase(s, tc);
	tc = tcase_create("tick");
	tcase_add_test(tc, tick_rate);
	suite_add_tcase(s, tc);
	return s;
}
