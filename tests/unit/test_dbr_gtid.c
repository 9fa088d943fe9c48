/* Unit tests for dbrouter/dbr_gtid: parsing GTID positions, comparing
 * them per domain, and the order of failover candidates (received, then
 * applied; config order on ties; unparseable ones last). */
#include <stdio.h>
#include <string.h>

#include "dbr_gtid.h"
#include "suites.h"

static const struct {
	const char	*text;
	int		 rv;
	int		 n;
} parse_cases[] = {
	{ "", 0, 0 },
	{ "  ", 0, 0 },
	{ "0-1-42", 0, 1 },
	{ "0-1-42,1-3-7", 0, 2 },
	{ "0-1-42, 1-3-7\n", 0, 2 },
	{ "0-1-18446744073709551615", 0, 1 },
	{ "0-1-18446744073709551616", -1, 0 },
	{ "4294967296-1-1", -1, 0 },
	{ "0-1", -1, 0 },
	{ "0-1-", -1, 0 },
	{ "0-1-2,", -1, 0 },
	{ ",0-1-2", -1, 0 },
	{ "0-1-2,0-2-3", -1, 0 },	/* a domain twice */
	{ "a-1-2", -1, 0 },
	{ "0--1-2", -1, 0 },
	{ "0-1-2x", -1, 0 },
	{ "0-1-+2", -1, 0 },
};

START_TEST(test_parse)
{
	const char	*t = parse_cases[_i].text;
	struct dbr_gtid_pos p;

	ck_assert_msg(dbr_gtid_parse(t, &p) == parse_cases[_i].rv,
	    "parse \"%s\"", t);
	if (parse_cases[_i].rv == 0)
		ck_assert_int_eq(p.n, parse_cases[_i].n);
}
END_TEST

START_TEST(test_parse_fields)
{
	struct dbr_gtid_pos p;

	ck_assert_int_eq(dbr_gtid_parse("0-1-42,7-3-9", &p), 0);
	ck_assert_uint_eq(p.g[1].domain, 7);
	ck_assert_uint_eq(p.g[1].server, 3);
	ck_assert_uint_eq(p.g[1].seq, 9);
	ck_assert_uint_eq(dbr_gtid_seq(&p, 0), 42);
	ck_assert_uint_eq(dbr_gtid_seq(&p, 7), 9);
	ck_assert_uint_eq(dbr_gtid_seq(&p, 1), 0);
}
END_TEST

START_TEST(test_too_many_domains)
{
	char		 buf[2048];
	size_t		 off = 0;
	struct dbr_gtid_pos p;
	int		 i;

	for (i = 0; i <= DBR_GTID_DOMAINS; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%d-1-1",
		    i ? "," : "", i);
	ck_assert_int_eq(dbr_gtid_parse(buf, &p), -1);
	*strrchr(buf, ',') = '\0';
	ck_assert_int_eq(dbr_gtid_parse(buf, &p), 0);
	ck_assert_int_eq(p.n, DBR_GTID_DOMAINS);
}
END_TEST

static const struct {
	const char	*a, *b;
	enum dbr_gtid_rel rel;
	int		 order;
} cmp_cases[] = {
	{ "", "", GTID_EQUAL, 0 },
	{ "0-1-5", "0-1-5", GTID_EQUAL, 0 },
	/* the server id does not count, only the sequence number */
	{ "0-1-5", "0-2-5", GTID_EQUAL, 0 },
	{ "0-1-5", "0-1-6", GTID_BEHIND, -1 },
	{ "0-1-60", "0-1-7", GTID_AHEAD, 1 },	/* numbers, not text */
	{ "", "0-1-1", GTID_BEHIND, -1 },
	{ "0-1-1", "", GTID_AHEAD, 1 },
	/* per domain; order in the list does not matter */
	{ "0-1-5,1-2-3", "1-2-3,0-1-5", GTID_EQUAL, 0 },
	{ "0-1-5,1-2-3", "0-1-5", GTID_AHEAD, 1 },
	{ "0-1-5", "0-1-5,1-2-3", GTID_BEHIND, -1 },
	{ "0-1-5,1-2-4", "0-1-6,1-2-3", GTID_DIVERGED, 0 },
	{ "0-1-5,1-2-9", "0-1-6,1-2-3", GTID_DIVERGED, 1 },
	{ "0-1-9", "1-2-3", GTID_DIVERGED, 1 },
	{ "0-1-0", "", GTID_EQUAL, 0 },
};

START_TEST(test_cmp)
{
	struct dbr_gtid_pos a, b;
	int		 o;

	ck_assert_int_eq(dbr_gtid_parse(cmp_cases[_i].a, &a), 0);
	ck_assert_int_eq(dbr_gtid_parse(cmp_cases[_i].b, &b), 0);
	ck_assert_msg(dbr_gtid_cmp(&a, &b) == cmp_cases[_i].rel,
	    "cmp \"%s\" \"%s\" = %d", cmp_cases[_i].a, cmp_cases[_i].b,
	    dbr_gtid_cmp(&a, &b));
	o = dbr_gtid_order(&a, &b);
	ck_assert_msg(o == cmp_cases[_i].order, "order \"%s\" \"%s\" = %d",
	    cmp_cases[_i].a, cmp_cases[_i].b, o);
	ck_assert_int_eq(dbr_gtid_order(&b, &a), -o);
	ck_assert(dbr_gtid_includes(&a, &b) ==
	    (cmp_cases[_i].rel == GTID_EQUAL || cmp_cases[_i].rel == GTID_AHEAD));
	ck_assert(dbr_gtid_str_includes(cmp_cases[_i].a, cmp_cases[_i].b) ==
	    dbr_gtid_includes(&a, &b));
}
END_TEST

START_TEST(test_str_includes_bad)
{
	ck_assert(!dbr_gtid_str_includes("0-1-5", "x"));
	ck_assert(!dbr_gtid_str_includes("x", ""));
	ck_assert(dbr_gtid_str_includes("0-1-5", ""));
}
END_TEST

/* Each case: candidates in config order and the index that must win. */
static const struct {
	const char	*what;
	struct dbr_cand	 c[4];
	int		 n;
	int		 best;
} cand_cases[] = {
	{ "the one that received more wins though it applied less",
	    { { "a", "0-1-10", "0-1-10" }, { "b", "0-1-12", "0-1-8" } }, 2, 1 },
	{ "received ties: the one that applied more",
	    { { "a", "0-1-12", "0-1-9" }, { "b", "0-1-12", "0-1-11" } }, 2, 1 },
	{ "all equal: config order",
	    { { "a", "0-1-12", "0-1-12" }, { "b", "0-1-12", "0-1-12" } }, 2, 0 },
	{ "sequence numbers compare as numbers",
	    { { "a", "0-1-9", "0-1-9" }, { "b", "0-1-10", "0-1-10" },
	      { "c", "0-1-100", "0-1-99" } }, 3, 2 },
	{ "per domain: more domains received wins",
	    { { "a", "0-1-10", "0-1-10" }, { "b", "0-1-10,1-4-2", "0-1-10" } },
	    2, 1 },
	{ "an unparseable candidate never wins",
	    { { "a", "junk", "0-1-99" }, { "b", "0-1-1", "0-1-1" } }, 2, 1 },
	{ "a missing position never wins",
	    { { "a", NULL, "0-1-99" }, { "b", "", "" } }, 2, 1 },
	{ "none usable",
	    { { "a", "x", "0-1-1" }, { "b", "0-1-1", "y" } }, 2, -1 },
	{ "empty positions are usable (nothing received yet)",
	    { { "a", "", "" } }, 1, 0 },
};

START_TEST(test_cand)
{
	int	 best = dbr_cand_best(cand_cases[_i].c, cand_cases[_i].n);

	ck_assert_msg(best == cand_cases[_i].best, "%s: got %d, want %d",
	    cand_cases[_i].what, best, cand_cases[_i].best);
}
END_TEST

START_TEST(test_cand_cmp_sym)
{
	const struct dbr_cand a = { "a", "0-1-12", "0-1-8" };
	const struct dbr_cand b = { "b", "0-1-10", "0-1-10" };
	const struct dbr_cand bad = { "x", "?", "?" };

	ck_assert_int_gt(dbr_cand_cmp(&a, &b), 0);
	ck_assert_int_lt(dbr_cand_cmp(&b, &a), 0);
	ck_assert_int_eq(dbr_cand_cmp(&a, &a), 0);
	ck_assert_int_lt(dbr_cand_cmp(&bad, &b), 0);
	ck_assert_int_gt(dbr_cand_cmp(&b, &bad), 0);
	ck_assert_int_eq(dbr_cand_cmp(&bad, &bad), 0);
}
END_TEST

#define NCASES(a)	((int)(sizeof(a) / sizeof((a)[0])))

Suite *
dbr_gtid_suite(void)
{
	Suite	*s = suite_create("dbr_gtid");
	TCase	*tc = tcase_create("gtid");

	tcase_add_loop_test(tc, test_parse, 0, NCASES(parse_cases));
	tcase_add_test(tc, test_parse_fields);
	tcase_add_test(tc, test_too_many_domains);
	tcase_add_loop_test(tc, test_cmp, 0, NCASES(cmp_cases));
	tcase_add_test(tc, test_str_includes_bad);
	tcase_add_loop_test(tc, test_cand, 0, NCASES(cand_cases));
	tcase_add_test(tc, test_cand_cmp_sym);
	suite_add_tcase(s, tc);
	return s;
}
