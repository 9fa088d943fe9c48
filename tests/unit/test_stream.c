/* Unit tests for common/stream: plain sockets and TLS behind one face. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ev.h"
#include "stream.h"
#include "tls_test.h"

static void
plain_pair(int fd[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
}

START_TEST(fill_reads_what_is_there_then_eof)
{
	struct stream	 s;
	struct buf	 b;
	unsigned	 want = 0;
	int		 fd[2];

	plain_pair(fd);
	s = (struct stream){ .fd = fd[0], .tls = NULL };
	buf_init(&b, 1024);
	ck_assert_int_eq(stream_fill(&s, &b, &want), 1);	/* nothing yet */
	ck_assert_uint_eq(want, EV_READ);
	ck_assert_uint_eq(buf_used(&b), 0);
	ck_assert_int_eq(write(fd[1], "hello", 5), 5);
	ck_assert_int_eq(stream_fill(&s, &b, &want), 1);
	ck_assert_uint_eq(buf_used(&b), 5);
	ck_assert_int_eq(memcmp(buf_head(&b), "hello", 5), 0);
	close(fd[1]);
	ck_assert_int_eq(stream_fill(&s, &b, &want), 0);
	close(fd[0]);
	buf_free(&b);
}
END_TEST

/* Reads stop exactly at the cap, never short of it: a parser with a
 * lower limit always gets to see the byte that breaks it. */
START_TEST(fill_stops_exactly_at_the_cap)
{
	struct stream	 s;
	struct buf	 b;
	unsigned	 want;
	int		 fd[2];
	char		 data[100];

	plain_pair(fd);
	s = (struct stream){ .fd = fd[0], .tls = NULL };
	memset(data, 'x', sizeof(data));
	ck_assert_int_eq(write(fd[1], data, sizeof(data)), (ssize_t)sizeof(data));
	buf_init(&b, 30);
	ck_assert_int_eq(stream_fill(&s, &b, &want), 1);
	ck_assert_uint_eq(buf_used(&b), 30);
	/* Full: returns at once without reading or failing. */
	ck_assert_int_eq(stream_fill(&s, &b, &want), 1);
	ck_assert_uint_eq(buf_used(&b), 30);
	buf_consume(&b, 10);
	ck_assert_int_eq(stream_fill(&s, &b, &want), 1);
	ck_assert_uint_eq(buf_used(&b), 30);
	close(fd[0]);
	close(fd[1]);
	buf_free(&b);
}
END_TEST

START_TEST(flush_blocks_keeps_the_rest_and_resumes)
{
	struct stream	 s;
	struct buf	 out, in;
	unsigned	 want = 0;
	int		 fd[2], rc, sndbuf = 4096;
	size_t		 total = 512 * 1024, got = 0, i;
	char		 sink[65536];
	ssize_t		 n;

	plain_pair(fd);
	setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	s = (struct stream){ .fd = fd[0], .tls = NULL };
	buf_init(&out, total);
	buf_init(&in, 0);
	while (buf_used(&out) < total)
		buf_append(&out, "0123456789abcdef", 16);
	rc = stream_flush(&s, &out, &want);
	ck_assert_int_eq(rc, STREAM_BLOCKED);
	ck_assert_uint_eq(want, EV_WRITE);
	ck_assert_uint_gt(buf_used(&out), 0);
	ck_assert_uint_lt(buf_used(&out), total);
	/* Drain the peer and resume until everything went through, in order. */
	while (rc != 1) {
		while ((n = read(fd[1], sink, sizeof(sink))) > 0) {
			for (i = 0; i < (size_t)n; i++)
				ck_assert_int_eq(sink[i],
				    "0123456789abcdef"[(got + i) % 16]);
			got += (size_t)n;
		}
		rc = stream_flush(&s, &out, &want);
		ck_assert_int_ne(rc, STREAM_ERROR);
	}
	while ((n = read(fd[1], sink, sizeof(sink))) > 0)
		got += (size_t)n;
	ck_assert_uint_eq(got, total);
	close(fd[1]);
	buf_puts(&out, "late");
	ck_assert_int_eq(stream_flush(&s, &out, &want), STREAM_ERROR);
	close(fd[0]);
	buf_free(&out);
	buf_free(&in);
}
END_TEST

/* Over TLS: a 10 KiB record read into a 100-byte cap leaves the rest
 * decrypted inside TLS (stream_pending), and later fills get it all. */
START_TEST(tls_fill_respects_cap_and_pending)
{
	struct tls_config *scfg = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *ccfg = tt_client_cfg("ca.crt", true);
	struct tt_pair	 p;
	struct stream	 cs, ss;
	struct buf	 out, in;
	unsigned	 want;
	unsigned char	 data[10240];
	uint64_t	 deadline = tt_now_ms() + TT_DEADLINE_MS;
	struct pollfd	 pfd;

	tt_pair_open(&p, ccfg, scfg, "localhost");
	tt_handshake_ok(&p);
	cs = (struct stream){ .fd = p.fd[0], .tls = p.c };
	ss = (struct stream){ .fd = p.fd[1], .tls = p.s };
	tt_fill_pattern(data, sizeof(data), 7);
	buf_init(&out, 0);
	buf_append(&out, data, sizeof(data));
	while (stream_flush(&ss, &out, &want) != 1) {
		pfd = (struct pollfd){ p.fd[1], POLLOUT, 0 };
		poll(&pfd, 1, 100);
		ck_assert(tt_now_ms() < deadline);
	}
	buf_init(&in, 100);
	do {
		pfd = (struct pollfd){ p.fd[0], POLLIN, 0 };
		poll(&pfd, 1, 100);
		ck_assert_int_eq(stream_fill(&cs, &in, &want), 1);
		ck_assert(tt_now_ms() < deadline);
	} while (buf_used(&in) == 0);
	ck_assert_uint_eq(buf_used(&in), 100);
	ck_assert(stream_pending(&cs));
	/* Consume and refill without waiting on the fd: it would not wake. */
	in.max = sizeof(data);
	ck_assert_int_eq(stream_fill(&cs, &in, &want), 1);
	ck_assert_uint_eq(buf_used(&in), sizeof(data));
	ck_assert_int_eq(memcmp(buf_head(&in), data, sizeof(data)), 0);
	ck_assert(!stream_pending(&cs));
	buf_free(&in);
	buf_free(&out);
	tt_pair_close(&p);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}
END_TEST

Suite *
stream_suite(void)
{
	Suite	*s = suite_create("stream");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, fill_reads_what_is_there_then_eof);
	tcase_add_test(tc, fill_stops_exactly_at_the_cap);
	tcase_add_test(tc, flush_blocks_keeps_the_rest_and_resumes);
	tcase_add_test(tc, tls_fill_respects_cap_and_pending);
	suite_add_tcase(s, tc);
	return s;
}
