/* Unit tests for common/log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alog.h"
#include "ev.h"
#include "log.h"
#include "suites.h"
#include "testutil.h"

struct captured {
	enum log_level	level;
	char		msg[256];
	int		count;
};

static void
capture(enum log_level level, const char *msg, void *arg)
{
	struct captured *c = arg;

	c->level = level;
	strncpy(c->msg, msg, sizeof(c->msg) - 1);
	c->count++;
}

START_TEST(warn_appends_errno_and_keeps_it)
{
	struct captured c = { 0 };

	log_init("test", 1, 0);
	log_set_sink(capture, &c);
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(c.msg, "open /nonexistent: No such file or directory");
	ck_assert_int_eq(c.level, LOG_LVL_WARN);
	log_warnx("plain %d", 7);
	ck_assert_str_eq(c.msg, "plain 7");
	log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(debug_only_when_verbose)
{
	struct captured c = { 0 };

	log_init("test", 1, 0);
	log_set_sink(capture, &c);
	log_debug("hidden");
	ck_assert_int_eq(c.count, 0);
	log_setverbose(1);
	log_debug("shown");
	ck_assert_int_eq(c.count, 1);
	ck_assert_str_eq(c.msg, "shown");
	log_setverbose(0);
	log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(long_message_truncated_safely)
{
	struct captured c = { 0 };
	char	 big[5000];

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_init("test", 1, 0);
	log_set_sink(capture, &c);
	errno = EINVAL;
	log_warn("%s", big);
	ck_assert_int_eq(c.count, 1);
	log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(fatalx_exits_1)
{
	log_init("test", 1, 0);
	fatalx("broken invariant %d", 1);
}
END_TEST

/* The whole file, NUL-terminated, in out. */
static void
slurp(const char *path, char *out, size_t len)
{
	FILE	*fp = fopen(path, "r");
	size_t	 n;

	ck_assert_ptr_nonnull(fp);
	n = fread(out, 1, len - 1, fp);
	out[n] = '\0';
	fclose(fp);
}

START_TEST(alog_writes_once_per_loop_pass)
{
	struct alog	 a = ALOG_INITIALIZER;
	struct tmpdir	 t;
	struct ev_loop	*loop = ev_new();
	char		 err[256], got[256];

	tmpdir_make(&t, "alog");
	alog_init(&a, loop, 4096);
	ck_assert_int_eq(alog_printf(&a, "dropped %d\n", 0), 0);	/* no log */
	alog_use(&a, alog_open(tmpdir_file(&t, "a.log"), err, sizeof(err)));
	ck_assert(alog_enabled(&a));
	alog_printf(&a, "one %d\n", 1);
	alog_printf(&a, "two\n");
	slurp(t.path, got, sizeof(got));
	ck_assert_str_eq(got, "");		/* not before the loop runs */
	ev_run_once(loop, 0);
	slurp(t.path, got, sizeof(got));
	ck_assert_str_eq(got, "one 1\ntwo\n");
	/* Reopen (logrotate): the next line goes to the new file. */
	char	 old[256];

	snprintf(old, sizeof(old), "%s", tmpdir_file(&t, "a.log"));
	ck_assert_int_eq(rename(old, tmpdir_file(&t, "a.log.1")), 0);
	alog_use(&a, alog_open(tmpdir_file(&t, "a.log"), err, sizeof(err)));
	alog_printf(&a, "three\n");
	alog_close(&a);
	slurp(tmpdir_file(&t, "a.log"), got, sizeof(got));
	ck_assert_str_eq(got, "three\n");
	ev_free(loop);
}
END_TEST

START_TEST(alog_full_buffer_is_written_first)
{
	struct alog	 a = ALOG_INITIALIZER;
	struct tmpdir	 t;
	struct ev_loop	*loop = ev_new();
	char		 err[256], got[256];

	tmpdir_make(&t, "alog");
	alog_init(&a, loop, 16);
	alog_use(&a, alog_open(tmpdir_file(&t, "b.log"), err, sizeof(err)));
	alog_printf(&a, "0123456789\n");
	alog_printf(&a, "abcdefghij\n");	/* does not fit: first one out */
	slurp(t.path, got, sizeof(got));
	ck_assert_str_eq(got, "0123456789\n");
	alog_close(&a);
	slurp(t.path, got, sizeof(got));
	ck_assert_str_eq(got, "0123456789\nabcdefghij\n");
	ev_free(loop);
}
END_TEST

START_TEST(alog_open_error_names_the_path)
{
	char	 err[256];

	ck_assert_int_eq(alog_open("/nonexistent/dir/x.log", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "access-log /nonexistent/dir/x.log: No such file or directory");
}
END_TEST

Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, warn_appends_errno_and_keeps_it);
	tcase_add_test(tc, debug_only_when_verbose);
	tcase_add_test(tc, long_message_truncated_safely);
	tcase_add_exit_test(tc, fatalx_exits_1, 1);
	tcase_add_test(tc, alog_writes_once_per_loop_pass);
	tcase_add_test(tc, alog_full_buffer_is_written_first);
	tcase_add_test(tc, alog_open_error_names_the_path);
	suite_add_tcase(s, tc);
	return s;
}
