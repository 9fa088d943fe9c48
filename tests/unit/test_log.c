/* Unit tests for common/log. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "suites.h"

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

Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, warn_appends_errno_and_keeps_it);
	tcase_add_test(tc, debug_only_when_verbose);
	tcase_add_test(tc, long_message_truncated_safely);
	tcase_add_exit_test(tc, fatalx_exits_1, 1);
	suite_add_tcase(s, tc);
	return s;
}
