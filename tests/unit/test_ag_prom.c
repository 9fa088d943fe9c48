/* Unit tests for agentd/ag_prom: samples out of exposition text, label
 * selectors, sums, and relabelling for daemons and shipping. */
#include <math.h>
#include <string.h>

#include "ag_prom.h"
#include "suites.h"

static const char text[] =
    "# HELP stackd_webd_requests_total Requests.\n"
    "# TYPE stackd_webd_requests_total counter\n"
    "stackd_webd_requests_total{code=\"200\",vhost=\"www\"} 10\n"
    "stackd_webd_requests_total{code=\"404\",vhost=\"www\"} 2\n"
    "stackd_webd_requests_total{code=\"200\",vhost=\"a,b=\\\"c\\\"\"} 5\n"
    "  \n"
    "node_load1 0.25\n"
    "broken{a=\"1\" 3\n"
    "node_time_seconds 1.7e9 1700000000000\n";

START_TEST(samples_in_order)
{
	struct ag_sample s;
	size_t	 pos = 0;
	int	 n = 0, bad = 0, rv;

	while ((rv = ag_prom_next(text, strlen(text), &pos, &s)) != 0) {
		if (rv == -1) {
			bad++;
			continue;
		}
		n++;
		if (n == 4) {
			ck_assert_int_eq((int)s.name_len, 10);
			ck_assert(memcmp(s.name, "node_load1", 10) == 0);
			ck_assert_int_eq((int)s.labels_len, 0);
			ck_assert(s.value == 0.25);
		}
		if (n == 5)
			ck_assert(s.value == 1.7e9);
	}
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(bad, 1);
}
END_TEST

START_TEST(sums_with_selectors)
{
	double	 v;

	ck_assert(ag_prom_sum(text, strlen(text), "stackd_webd_requests_total",
	    NULL, &v));
	ck_assert(v == 17);
	ck_assert(ag_prom_sum(text, strlen(text), "stackd_webd_requests_total",
	    "code=200", &v));
	ck_assert(v == 15);
	ck_assert(ag_prom_sum(text, strlen(text), "stackd_webd_requests_total",
	    "code=200,vhost=www", &v));
	ck_assert(v == 10);
	/* An escaped value matches unescaped. */
	ck_assert(ag_prom_sum(text, strlen(text), "stackd_webd_requests_total",
	    "vhost=a", &v) == false);
	ck_assert(!ag_prom_sum(text, strlen(text), "stackd_webd_requests",
	    NULL, &v));
	ck_assert(!ag_prom_sum(text, strlen(text), "node_load1", "x=y", &v));
}
END_TEST

START_TEST(relabel_adds_daemon_and_time)
{
	struct buf	 out;

	buf_init(&out, 0);
	ck_assert_int_eq(ag_prom_relabel(text, strlen(text), "daemon", "webd",
	    1234, false, NULL, &out), 0);
	ck_assert_str_eq(buf_cstr(&out),
	    "stackd_webd_requests_total{daemon=\"webd\",code=\"200\","
	    "vhost=\"www\"} 10 1234\n"
	    "stackd_webd_requests_total{daemon=\"webd\",code=\"404\","
	    "vhost=\"www\"} 2 1234\n"
	    "stackd_webd_requests_total{daemon=\"webd\",code=\"200\","
	    "vhost=\"a,b=\\\"c\\\"\"} 5 1234\n"
	    "node_load1{daemon=\"webd\"} 0.25 1234\n"
	    "node_time_seconds{daemon=\"webd\"} 1.7e9 1234\n");
	buf_reset(&out);
	ck_assert_int_eq(ag_prom_relabel(text, strlen(text), NULL, NULL, 0,
	    true, NULL, &out), 0);
	ck_assert(strstr(buf_cstr(&out), "# TYPE stackd_webd_requests_total "
	    "counter\nstackd_webd_requests_total{code=\"200\",vhost=\"www\"} "
	    "10\n") != NULL);
	ck_assert(strstr(buf_cstr(&out), "1.7e9 1700000000000\n") != NULL);
	ck_assert(strstr(buf_cstr(&out), "broken") == NULL);
	buf_free(&out);
}
END_TEST

START_TEST(relabel_keeps_an_existing_label)
{
	static const char t[] = "x{daemon=\"lbd\"} 1\n";
	struct buf	 out;

	buf_init(&out, 0);
	ck_assert_int_eq(ag_prom_relabel(t, strlen(t), "daemon", "webd", 0,
	    false, NULL, &out), 0);
	ck_assert_str_eq(buf_cstr(&out), "x{daemon=\"lbd\"} 1\n");
	buf_free(&out);
}
END_TEST

START_TEST(relabel_skips_families)
{
	struct buf	 out;

	buf_init(&out, 0);
	ck_assert_int_eq(ag_prom_relabel(text, strlen(text), "daemon", "webd",
	    0, true, "stackd_webd_", &out), 0);
	ck_assert(strstr(buf_cstr(&out), "stackd_webd") == NULL);
	ck_assert(strstr(buf_cstr(&out), "node_load1{daemon=\"webd\"} 0.25\n")
	    != NULL);
	buf_free(&out);
}
END_TEST

START_TEST(relabel_full_buffer_leaves_it_as_it_was)
{
	struct buf	 out;

	buf_init(&out, 64);
	buf_append(&out, "keep", 4);
	ck_assert_int_eq(ag_prom_relabel(text, strlen(text), "daemon", "webd",
	    1, false, NULL, &out), -1);
	ck_assert_int_eq((int)buf_used(&out), 4);
	buf_free(&out);
}
END_TEST

Suite *
ag_prom_suite(void)
{
	Suite	*s = suite_create("ag_prom");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, samples_in_order);
	tcase_add_test(tc, sums_with_selectors);
	tcase_add_test(tc, relabel_adds_daemon_and_time);
	tcase_add_test(tc, relabel_keeps_an_existing_label);
	tcase_add_test(tc, relabel_skips_families);
	tcase_add_test(tc, relabel_full_buffer_leaves_it_as_it_was);
	suite_add_tcase(s, tc);
	return s;
}
