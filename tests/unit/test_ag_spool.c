/* agentd's shipping spool (ag_spool) and the `output` block parser. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "buf.h"
#include "conf.h"
#include "ag_ship_int.h"
#include "ag_spool.h"
#include "suites.h"
#include "testutil.h"

static struct tmpdir td;
static char spool_dir[300];

static void
rm_dir(const char *dir)
{
	struct dirent	*de;
	char		 p[600];
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		(void)unlink(p);	/* the spool is flat */
	}
	closedir(d);
	rmdir(dir);
}

static void
setup(void)
{
	tmpdir_make(&td, "spool");
	snprintf(spool_dir, sizeof(spool_dir), "%s/out", td.dir);
}

static void
teardown(void)
{
	rm_dir(spool_dir);
	rmdir(td.dir);
}

static struct ag_spool *
open_spool(uint64_t max, uint64_t seg)
{
	struct ag_spool	*s;
	char		 err[256];

	s = ag_spool_open(spool_dir, max, seg, err, sizeof(err));
	ck_assert_msg(s != NULL, "ag_spool_open: %s", err);
	return s;
}

static void
append_n(struct ag_spool *s, enum ag_spool_queue q, int from, int n)
{
	char	 rec[64];
	int	 i, len;

	for (i = from; i < from + n; i++) {
		len = snprintf(rec, sizeof(rec), "record-%04d", i);
		ck_assert_int_eq(ag_spool_append(s, q, rec, (size_t)len), 0);
	}
}

/* Read every unacknowledged record of q and check they are from..to-1. */
static struct ag_spool_pos
expect_records(struct ag_spool *s, enum ag_spool_queue q, int from, int to)
{
	struct ag_spool_pos pos = ag_spool_head(s, q);
	struct buf	 b;
	char		 want[64];
	int		 i;

	buf_init(&b, 1 << 20);
	for (i = from; i < to; i++) {
		ck_assert_int_eq(ag_spool_read(s, q, &pos, &b), 1);
		snprintf(want, sizeof(want), "record-%04d", i);
		ck_assert_str_eq(buf_cstr(&b), want);
	}
	ck_assert_int_eq(ag_spool_read(s, q, &pos, &b), 0);
	buf_free(&b);
	return pos;
}

static const char *
seg_file(int num, const char *ext)
{
	static char	 p[400];

	snprintf(p, sizeof(p), "%s/%08d.%s", spool_dir, num, ext);
	return p;
}

START_TEST(test_crc32)
{
	ck_assert_uint_eq(ag_crc32("123456789", 9), 0xcbf43926u);
	ck_assert_uint_eq(ag_crc32("", 0), 0);
}
END_TEST

START_TEST(test_append_read_reopen)
{
	struct ag_spool	*s = open_spool(1 << 20, 0);
	struct stat	 st;
	char		 err[256];

	ck_assert_int_eq(stat(spool_dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	append_n(s, AG_SPOOL_LOGS, 0, 10);
	append_n(s, AG_SPOOL_METRICS, 100, 3);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_LOGS), 10);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_NQ), 13);
	ck_assert_uint_eq(ag_spool_bytes(s, AG_SPOOL_LOGS), 10 * (8 + 11));
	ck_assert_int_eq(ag_spool_sync(s, err, sizeof(err)), 0);
	expect_records(s, AG_SPOOL_LOGS, 0, 10);
	expect_records(s, AG_SPOOL_METRICS, 100, 103);
	ag_spool_close(s);

	s = open_spool(1 << 20, 0);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_NQ), 13);
	expect_records(s, AG_SPOOL_LOGS, 0, 10);
	append_n(s, AG_SPOOL_LOGS, 10, 2);
	expect_records(s, AG_SPOOL_LOGS, 0, 12);
	ag_spool_close(s);
}
END_TEST

START_TEST(test_torn_record)
{
	struct ag_spool	*s = open_spool(1 << 20, 0);
	const char	*f = seg_file(1, "logs");
	struct stat	 st;
	int		 fd;

	append_n(s, AG_SPOOL_LOGS, 0, 5);
	ag_spool_close(s);
	/* A crash in the middle of the last append. */
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(truncate(f, st.st_size - 3), 0);
	s = open_spool(1 << 20, 0);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_LOGS), 4);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(st.st_size, 4 * (8 + 11));
	expect_records(s, AG_SPOOL_LOGS, 0, 4);
	/* Appends go on after the cut. */
	append_n(s, AG_SPOOL_LOGS, 4, 1);
	expect_records(s, AG_SPOOL_LOGS, 0, 5);
	ag_spool_close(s);

	/* A header whose bytes never made it (zeros with a length): bad CRC. */
	fd = open(f, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "\x05\0\0\0\0\0\0\0hello", 13), 13);
	close(fd);
	s = open_spool(1 << 20, 0);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_LOGS), 5);
	expect_records(s, AG_SPOOL_LOGS, 0, 5);
	ag_spool_close(s);
}
END_TEST

START_TEST(test_bound)
{
	struct ag_spool	*s = open_spool(5 * (8 + 11), 0);
	struct ag_spool_pos pos;
	char		 err[256];

	append_n(s, AG_SPOOL_LOGS, 0, 3);
	append_n(s, AG_SPOOL_METRICS, 3, 2);
	/* The bound is over both queues. */
	errno = 0;
	ck_assert_int_eq(ag_spool_append(s, AG_SPOOL_LOGS, "record-0005", 11),
	    -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_NQ), 5);
	/* Acknowledged records make room. */
	pos = expect_records(s, AG_SPOOL_LOGS, 0, 3);
	ck_assert_int_eq(ag_spool_ack(s, AG_SPOOL_LOGS, pos, 3, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(ag_spool_bytes(s, AG_SPOOL_NQ), 2 * (8 + 11));
	append_n(s, AG_SPOOL_LOGS, 5, 3);
	ck_assert_int_eq(ag_spool_append(s, AG_SPOOL_LOGS, "x", 1), -1);
	ag_spool_set_max(s, 1 << 20);
	ck_assert_int_eq(ag_spool_append(s, AG_SPOOL_LOGS, "x", 1), 0);
	errno = 0;
	ck_assert_int_eq(ag_spool_append(s, AG_SPOOL_LOGS, "x",
	    AG_SPOOL_REC_MAX + 1), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ag_spool_close(s);
}
END_TEST

START_TEST(test_ack_deletes_segments)
{
	/* 3 records (57 bytes) fill a segment of 50. */
	struct ag_spool	*s = open_spool(1 << 20, 50);
	struct ag_spool_pos pos;
	struct buf	 b;
	char		 err[256];
	int		 i;

	append_n(s, AG_SPOOL_LOGS, 0, 10);
	ck_assert_uint_eq(ag_spool_segments(s, AG_SPOOL_LOGS), 4);
	ck_assert_int_eq(access(seg_file(1, "logs"), F_OK), 0);
	/* Send 4 records (into the second segment): the first goes. */
	buf_init(&b, 1024);
	pos = ag_spool_head(s, AG_SPOOL_LOGS);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(ag_spool_read(s, AG_SPOOL_LOGS, &pos, &b), 1);
	/* Nothing is removed before the ack. */
	ck_assert_int_eq(access(seg_file(1, "logs"), F_OK), 0);
	ck_assert_int_eq(ag_spool_ack(s, AG_SPOOL_LOGS, pos, 4, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(access(seg_file(1, "logs"), F_OK), -1);
	ck_assert_int_eq(access(seg_file(2, "logs"), F_OK), 0);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_LOGS), 6);
	expect_records(s, AG_SPOOL_LOGS, 4, 10);
	ag_spool_close(s);

	/* The cursor survives a restart. */
	s = open_spool(1 << 20, 50);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_LOGS), 6);
	pos = expect_records(s, AG_SPOOL_LOGS, 4, 10);
	ck_assert_int_eq(ag_spool_ack(s, AG_SPOOL_LOGS, pos, 6, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_LOGS), 0);
	ck_assert_uint_eq(ag_spool_bytes(s, AG_SPOOL_LOGS), 0);
	ck_assert_uint_eq(ag_spool_segments(s, AG_SPOOL_LOGS), 1);
	ag_spool_close(s);

	s = open_spool(1 << 20, 50);
	ck_assert_uint_eq(ag_spool_records(s, AG_SPOOL_LOGS), 0);
	append_n(s, AG_SPOOL_LOGS, 10, 2);
	expect_records(s, AG_SPOOL_LOGS, 10, 12);
	ag_spool_close(s);
	buf_free(&b);
}
END_TEST

/* --- the output block --- */

struct top {
	struct ag_output_conf *outputs;
};

static const struct conf_directive top_directives[] = {
	{ "output", 1, 1, CONF_BLOCK_REQUIRED, 0, ag_conf_output,
	    offsetof(struct top, outputs), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

/* Parse text; returns the conf (caller frees) and the errors in errs. */
static struct ag_output_conf *
parse_outputs(const char *text, char *errs, size_t errlen)
{
	struct conf_doc	*doc;
	struct conf_ctx	 ctx;
	struct top	 t = { NULL };
	char		 err[256];

	ck_assert_msg(conf_parse_string("t.conf", text, strlen(text), &doc,
	    err, sizeof(err)) == 0, "%s", err);
	conf_ctx_init(&ctx, 0, NULL);
	(void)conf_apply(&ctx, conf_doc_root(doc), top_directives, &t);
	snprintf(errs, errlen, "%s", conf_errors(&ctx));
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
	return t.outputs;
}

START_TEST(test_output_conf)
{
	struct ag_output_conf *o;
	char		 errs[1024];

	o = parse_outputs("output sumo {\n"
	    "  url \"https://collectors.sumologic.com/receiver/v1/http/T0K\"\n"
	    "  category \"foobar/web\"\n  name agentd\n"
	    "  fields \"site=foobar,role=web\"\n  metrics-format carbon2\n"
	    "  max-request 512k\n  flush-interval 2s\n  spool-max 64m\n"
	    "  backoff-min 500ms\n  backoff-max 1m\n  timeout 10s\n}\n"
	    "output hook {\n  url \"http://[::1]:8080/alerts\"\n"
	    "  kind webhook\n}\n", errs, sizeof(errs));
	ck_assert_msg(errs[0] == '\0', "%s", errs);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->name, "sumo");
	ck_assert_str_eq(o->category, "foobar/web");
	ck_assert_str_eq(o->source_name, "agentd");
	ck_assert_int_eq(o->metrics_format, AG_METRICS_CARBON2);
	ck_assert_uint_eq(o->max_request, 512 * 1024);
	ck_assert_uint_eq(o->flush_ms, 2000);
	ck_assert_uint_eq(o->spool_max, 64 << 20);
	ck_assert_uint_eq(o->backoff_min_ms, 500);
	ck_assert_uint_eq(o->backoff_max_ms, 60000);
	ck_assert_uint_eq(o->timeout_ms, 10000);
	ck_assert(o->gzip && o->verify);
	ck_assert_str_eq(o->ca, AG_SHIP_DEFAULT_CA);
	ck_assert_ptr_nonnull(o->next);
	ck_assert_str_eq(o->next->name, "hook");
	ck_assert_int_eq(o->next->kind, AG_SHIP_WEBHOOK);
	ck_assert(!o->next->gzip);			/* webhook default */
	ck_assert_uint_eq(o->next->max_request, 1024 * 1024);
	ck_assert_uint_eq(o->next->flush_ms, 5000);
	ck_assert_uint_eq(o->next->spool_max, 256ULL << 20);
	ck_assert_uint_eq(o->next->backoff_min_ms, 1000);
	ck_assert_uint_eq(o->next->backoff_max_ms, 300000);
	ck_assert_uint_eq(o->next->timeout_ms, 30000);
	ag_output_conf_free(o);
}
END_TEST

static const struct {
	const char	*body;
	const char	*error;
} bad_outputs[] = {
	{ "url \"ftp://h/x\"", "only http:// and https://" },
	{ "url \"collector/x\"", "only http:// and https://" },
	{ "url \"http:///x\"", "no host" },
	{ "url \"http://h:0/x\"", "port is not 1-65535" },
	{ "url \"http://h:99999/x\"", "port is not 1-65535" },
	{ "url \"http://h:/x\"", "expected :PORT" },
	{ "url \"http://u:p@h/x\"", "user:password@" },
	{ "url \"http://h/x#frag\"", "fragment" },
	{ "url \"http://h/a b\"", "spaces" },
	{ "url \"http://[::1/x\"", "unclosed" },
	{ "category x", "url is required" },
	{ "url \"http://h/\"\n max-request 2m", "max-request" },
	{ "url \"http://h/\"\n kind kafka", "kind" },
	{ "url \"http://h/\"\n backoff-min 10s\n backoff-max 1s",
	    "backoff-min is above" },
	{ "url \"http://h/\"\n category \"a\\nb\"", "control characters" },
	{ "url \"http://h/\"\n bogus 1", "bogus" },
};

START_TEST(test_output_conf_errors)
{
	struct ag_output_conf *o;
	char		 text[512], errs[1024];

	snprintf(text, sizeof(text), "output x {\n %s\n}\n",
	    bad_outputs[_i].body);
	o = parse_outputs(text, errs, sizeof(errs));
	ck_assert_msg(strstr(errs, bad_outputs[_i].error) != NULL &&
	    strstr(errs, "t.conf:") != NULL,
	    "%s: want \"%s\" in \"%s\"", bad_outputs[_i].body,
	    bad_outputs[_i].error, errs);
	ag_output_conf_free(o);
}
END_TEST

START_TEST(test_output_names)
{
	struct ag_output_conf *o;
	char		 errs[1024];

	o = parse_outputs("output a { url \"http://h/\" }\n"
	    "output a { url \"http://h/\" }\n"
	    "output \"Bad/Name\" { url \"http://h/\" }\n", errs, sizeof(errs));
	ck_assert_ptr_nonnull(strstr(errs, "given twice"));
	ck_assert_ptr_nonnull(strstr(errs, "lower-case"));
	ag_output_conf_free(o);
}
END_TEST

START_TEST(test_url_parse)
{
	struct ag_url	 u;
	char		 err[256], shown[256];

	ck_assert_int_eq(ag_url_parse("https://Collector.example:8443/r/v1/"
	    "http/TOKEN?x=1", &u, err, sizeof(err)), 0);
	ck_assert(u.tls);
	ck_assert_str_eq(u.host, "Collector.example");
	ck_assert_uint_eq(u.port, 8443);
	ck_assert_str_eq(u.authority, "Collector.example:8443");
	ck_assert_str_eq(u.path, "/r/v1/http/TOKEN?x=1");
	ag_url_redacted(&u, shown, sizeof(shown));
	ck_assert_str_eq(shown, "https://Collector.example:8443/...");
	ag_url_clear(&u);
	ck_assert_int_eq(ag_url_parse("http://[::1]", &u, err, sizeof(err)), 0);
	ck_assert(!u.tls);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_uint_eq(u.port, 80);
	ck_assert_str_eq(u.path, "/");
	ag_url_clear(&u);
}
END_TEST

START_TEST(test_carbon2)
{
	struct buf	 b;
	const char	*in = "# HELP x y\nnode_load1 0.5 1700000000123\n"
	    "http_requests_total{code=\"200\",path=\"/a b\"} 7 1700000000999\n";

	buf_init(&b, 4096);
	ck_assert_int_eq(ag_carbon2(&b, in, strlen(in)), 0);
	ck_assert_str_eq(buf_cstr(&b),
	    "metric=node_load1  0.5 1700000000\n"
	    "metric=http_requests_total code=200 path=/a_b  7 1700000000\n");
	buf_free(&b);
}
END_TEST

Suite *
ag_spool_suite(void)
{
	Suite	*s = suite_create("ag_spool");
	TCase	*tc = tcase_create("spool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_crc32);
	tcase_add_test(tc, test_append_read_reopen);
	tcase_add_test(tc, test_torn_record);
	tcase_add_test(tc, test_bound);
	tcase_add_test(tc, test_ack_deletes_segments);
	suite_add_tcase(s, tc);
	tc = tcase_create("output_conf");
	tcase_add_test(tc, test_output_conf);
	tcase_add_loop_test(tc, test_output_conf_errors, 0,
	    sizeof(bad_outputs) / sizeof(bad_outputs[0]));
	tcase_add_test(tc, test_output_names);
	tcase_add_test(tc, test_url_parse);
	tcase_add_test(tc, test_carbon2);
	suite_add_tcase(s, tc);
	return s;
}
