/* Unit tests for common/buf. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "suites.h"

START_TEST(append_and_consume)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_append(&b, "hello ", 6), 0);
	ck_assert_int_eq(buf_printf(&b, "%s %d", "world", 42), 0);
	ck_assert_str_eq(buf_cstr(&b), "hello world 42");
	buf_consume(&b, 6);
	ck_assert_uint_eq(buf_used(&b), 8);
	ck_assert_str_eq(buf_cstr(&b), "world 42");
	buf_consume(&b, 100);
	ck_assert_uint_eq(buf_used(&b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(hard_cap_refuses_and_keeps_contents)
{
	struct buf b;
	char	 big[600];

	memset(big, 'x', sizeof(big));
	buf_init(&b, 1000);
	ck_assert_int_eq(buf_append(&b, big, sizeof(big)), 0);
	errno = 0;
	ck_assert_int_eq(buf_append(&b, big, sizeof(big)), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(buf_used(&b), sizeof(big));
	ck_assert_uint_le(b.cap, 1000);
	/* After consuming, the same append fits by compaction. */
	buf_consume(&b, 500);
	ck_assert_int_eq(buf_append(&b, big, sizeof(big)), 0);
	ck_assert_uint_eq(buf_used(&b), 700);
	ck_assert_uint_le(b.cap, 1000);
	buf_free(&b);
}
END_TEST

START_TEST(printf_grows_exactly_to_cap)
{
	struct buf b;

	buf_init(&b, 16);
	ck_assert_int_eq(buf_printf(&b, "%s", "0123456789"), 0);
	ck_assert_int_eq(buf_printf(&b, "%s", "0123456789"), -1);
	ck_assert_uint_eq(buf_used(&b), 10);
	buf_free(&b);
}
END_TEST

START_TEST(fd_roundtrip)
{
	struct buf in, out;
	int	 p[2];
	ssize_t	 n;

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	buf_init(&out, 0);
	buf_init(&in, 0);
	buf_puts(&out, "ping\n");
	ck_assert_int_eq(buf_write_fd(&out, p[1]), 5);
	ck_assert_uint_eq(buf_used(&out), 0);
	ck_assert_int_eq(buf_read_fd(&in, p[0]), 5);
	ck_assert_int_eq(memcmp(buf_head(&in), "ping\n", 5), 0);
	n = buf_read_fd(&in, p[0]);
	ck_assert(n == -1 && errno == EAGAIN);
	close(p[1]);
	ck_assert_int_eq(buf_read_fd(&in, p[0]), 0);
	close(p[0]);
	buf_free(&in);
	buf_free(&out);
}
END_TEST

START_TEST(read_fd_full_buffer)
{
	struct buf in;
	int	 p[2];
	char	 data[100];

	memset(data, 'a', sizeof(data));
	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(write(p[1], data, sizeof(data)), (ssize_t)sizeof(data));
	buf_init(&in, 64);
	ck_assert_int_eq(buf_read_fd(&in, p[0]), 64);
	errno = 0;
	ck_assert_int_eq(buf_read_fd(&in, p[0]), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	close(p[0]);
	close(p[1]);
	buf_free(&in);
}
END_TEST

Suite *
buf_suite(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, append_and_consume);
	tcase_add_test(tc, hard_cap_refuses_and_keeps_contents);
	tcase_add_test(tc, printf_grows_exactly_to_cap);
	tcase_add_test(tc, fd_roundtrip);
	tcase_add_test(tc, read_fd_full_buffer);
	suite_add_tcase(s, tc);
	return s;
}
