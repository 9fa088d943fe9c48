/* Unit tests for common/ctl: the word splitter, and a real server on an ev
 * loop in this process talking to raw sockets. Clients in forked children
 * (ctl_request, ctl_tool_main, socat, other users) are in test_ctl_client.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "ctl_test.h"
#include "ev.h"

uint64_t
ct_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* words */

struct split_case {
	const char	*in;
	int		 argc;		/* -1: error */
	const char	*words[4];	/* or the error */
};

static const struct split_case split_cases[] = {
	{ "status", 1, { "status" } },
	{ "  a\tb   c ", 3, { "a", "b", "c" } },
	{ "", 0, { NULL } },
	{ " \t ", 0, { NULL } },
	{ "say \"hello world\"", 2, { "say", "hello world" } },
	{ "\"a\\\"b\" \"c\\\\d\"", 2, { "a\"b", "c\\d" } },
	{ "\"\" x", 2, { "", "x" } },
	{ "a\"\"b x\"y z\"w", 2, { "ab", "xy zw" } },
	{ "back\\slash", 1, { "back\\slash" } },
	{ "\"tab\there\"", 1, { "tab\there" } },
	{ "caf\xc3\xa9 \xf0\x9f\x98\x80", 2,
	    { "caf\xc3\xa9", "\xf0\x9f\x98\x80" } },
	{ "\"open", -1, { "unterminated quoted string" } },
	{ "a\"b", -1, { "unterminated quoted string" } },
	{ "\"a\\nb\"", -1, { "bad escape" } },
	{ "\"a\\", -1, { "bad escape" } },
	{ "a\x01z", -1, { "control character" } },
	{ "a\x7f", -1, { "control character" } },
	{ "a\rb", -1, { "control character" } },
	{ "\xc3", -1, { "not valid UTF-8" } },
	{ "\xc0\xaf", -1, { "not valid UTF-8" } },		/* overlong / */
	{ "\xe0\x80\xaf", -1, { "not valid UTF-8" } },		/* overlong */
	{ "\xed\xa0\x80", -1, { "not valid UTF-8" } },		/* surrogate */
	{ "\xf4\x90\x80\x80", -1, { "not valid UTF-8" } },	/* > U+10FFFF */
	{ "\xff", -1, { "not valid UTF-8" } },
	{ "a b c d e", -1, { "too many words" } },		/* max 4 */
};

START_TEST(split_table)
{
	const struct split_case *sc = &split_cases[_i];
	char		 line[64], *argv[5];
	const char	*why = NULL;
	int		 argc, i;

	snprintf(line, sizeof(line), "%s", sc->in);
	argc = ctl_split(line, argv, 4, &why);
	ck_assert_msg(argc == sc->argc, "'%s': argc %d, want %d (%s)",
	    sc->in, argc, sc->argc, why ? why : "");
	if (argc == -1) {
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strstr(why, sc->words[0]) != NULL, "'%s': %s",
		    sc->in, why);
		return;
	}
	for (i = 0; i < argc; i++)
		ck_assert_str_eq(argv[i], sc->words[i]);
	ck_assert_ptr_null(argv[argc]);
}
END_TEST

START_TEST(split_word_limit)
{
	char		 line[CTL_MAX_WORDS * 2 + 8], *argv[CTL_MAX_WORDS + 1];
	const char	*why;
	size_t		 i;

	for (i = 0; i < CTL_MAX_WORDS; i++)
		memcpy(line + 2 * i, "w ", 2);
	line[2 * CTL_MAX_WORDS] = '\0';
	ck_assert_int_eq(ctl_split(line, argv, CTL_MAX_WORDS, &why),
	    CTL_MAX_WORDS);
	ck_assert_ptr_null(argv[CTL_MAX_WORDS]);
	for (i = 0; i <= CTL_MAX_WORDS; i++)
		memcpy(line + 2 * i, "w ", 2);
	line[2 * CTL_MAX_WORDS + 2] = '\0';
	ck_assert_int_eq(ctl_split(line, argv, CTL_MAX_WORDS, &why), -1);
	ck_assert_str_eq(why, "too many words");
}
END_TEST

START_TEST(join_roundtrip_and_errors)
{
	char *const	 words[] = { "server", "drain", "web 1", "",
			    "say \"hi\"",
			    "c:\\dir", "tab\tin", "caf\xc3\xa9", "-x" };
	const int	 n = sizeof(words) / sizeof(words[0]);
	char		*argv[CTL_MAX_WORDS + 1], *bad[] = { "a", "b\nc" };
	char		*badutf[] = { "\xc3" };
	const char	*why;
	struct buf	 b;
	int		 i;

	buf_init(&b, 0);
	ck_assert_int_eq(ctl_join(&b, n, words, &why), 0);
	ck_assert_str_eq(buf_cstr(&b), "server drain \"web 1\" \"\" "
	    "\"say \\\"hi\\\"\" \"c:\\\\dir\" \"tab\tin\" caf\xc3\xa9 -x");
	ck_assert_int_eq(ctl_split((char *)buf_cstr(&b), argv, CTL_MAX_WORDS,
	    &why), n);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(argv[i], words[i]);
	/* Refused words leave the buffer as it was. */
	buf_reset(&b);
	buf_puts(&b, "keep");
	ck_assert_int_eq(ctl_join(&b, 2, bad, &why), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(why, "control character in argument");
	ck_assert_int_eq(ctl_join(&b, 1, badutf, &why), -1);
	ck_assert_str_eq(why, "argument is not valid UTF-8");
	ck_assert_str_eq(buf_cstr(&b), "keep");
	buf_free(&b);
	buf_init(&b, 16);
	buf_puts(&b, "keep");
	ck_assert_int_eq(ctl_join(&b, n, words, &why), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_str_eq(buf_cstr(&b), "keep");
	buf_free(&b);
}
END_TEST

/* a test server */


static void
on_stream_close(struct ctl_conn *c, void *arg)
{
	struct tctx	*t = arg;
	int		 i;

	for (i = 0; i < CT_NSTREAMS; i++)
		if (t->streams[i].conn == c)
			t->streams[i].conn = NULL;
	t->closed++;
	/* Output on a closing connection fails instead of crashing. */
	ck_assert_int_eq(ctl_printf(c, "late\n"), -1);
}

static void
stream_start(struct ctl_conn *c, struct tctx *t, enum stream_mode mode,
    int left)
{
	int	 i;

	for (i = 0; i < CT_NSTREAMS && t->streams[i].conn != NULL; i++)
		;
	ck_assert_int_lt(i, CT_NSTREAMS);
	t->streams[i] = (struct stream){ c, mode, 0, left };
	ctl_stream(c, on_stream_close, t);
}

static void
on_tick(struct ev_loop *loop, void *arg)
{
	struct tctx	*t = arg;
	struct stream	*s;
	char		 line[1024];
	int		 i, k;

	memset(line, 'f', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (i = 0; i < CT_NSTREAMS; i++) {
		s = &t->streams[i];
		if (s->conn == NULL || s->mode == S_SILENT)
			continue;
		if (s->mode == S_LATE_ERROR) {
			/* The status line is decided only now. */
			if (++s->n == s->left) {
				ctl_reply_error(s->conn, "gave up after %d "
				    "ticks", s->n);
				ctl_end(s->conn);
				s->mode = S_SILENT;
			}
			continue;
		}
		if (s->mode == S_TICK) {
			ctl_printf(s->conn, "tick %d\n", ++s->n);
			if (s->left > 0 && --s->left == 0) {
				ctl_end(s->conn);
				s->mode = S_SILENT;
			}
			continue;
		}
		for (k = 0; k < 64 && s->mode == S_FLOOD; k++)
			if (ctl_printf(s->conn, "%s\n", line) == -1) {
				t->dropped++;
				s->mode = S_SILENT;
			}
	}
	ev_timer_start(loop, &t->tick, 5);
}

static void
h_status(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ctl_reply_ok(c);
	ctl_printf(c, "state running\n");
	ctl_end(c);
}

static void
h_echo(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	int	 i;

	for (i = 1; i < argc; i++)
		ctl_printf(c, "%s\n", argv[i]);
}

static void
h_fail(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ctl_printf(c, "partial payload, discarded\n");
	ctl_reply_error(c, "no such server '%s'", argv[1]);
}

static void
h_quiet(struct ctl_conn *c, int argc, char **argv, void *arg)
{
}

static void
h_big(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	int	 i, n = atoi(argv[1]);

	for (i = 0; i < n; i++)
		if (ctl_printf(c, "%099d\n", i) == -1)
			break;
}

static void
h_watch(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ctl_reply_ok(c);
	stream_start(c, arg, S_TICK, -1);
}

/* Answers later, from the timer: the status comes with the first line. */
static void
h_count(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	stream_start(c, arg, S_TICK, atoi(argv[1]));
}

static void
h_flood(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	stream_start(c, arg, S_FLOOD, -1);
}

static void
h_hang(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	stream_start(c, arg, S_SILENT, -1);
}

static void
h_late(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	stream_start(c, arg, S_LATE_ERROR, atoi(argv[1]));
}

static const struct ctl_command commands[] = {
	{ "status", 0, 0, NULL, h_status },
	{ "echo", 1, -1, "echo WORD...", h_echo },
	{ "fail", 1, 1, "fail NAME", h_fail },
	{ "quiet", 0, 0, NULL, h_quiet },
	{ "big", 1, 1, "big LINES", h_big },
	{ "watch", 0, 0, NULL, h_watch },
	{ "count", 1, 1, "count N", h_count },
	{ "flood", 0, 0, NULL, h_flood },
	{ "hang", 0, 0, NULL, h_hang },
	{ "late", 1, 1, "late N", h_late },
	{ NULL, 0, 0, NULL, NULL }
};

void
ct_setup(struct tctx *t, mode_t mode)
{
	struct ctl_limits lim = { .output_max = CT_OUTPUT_MAX };
	char		 err[256];

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/ctltest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	ck_assert_int_eq(chmod(t->dir, 0711), 0);
	snprintf(t->path, sizeof(t->path), "%s/t.sock", t->dir);
	ck_assert_ptr_nonnull(t->loop = ev_new());
	t->srv = ctl_server_new(t->loop, t->path, mode, commands, t, err,
	    sizeof(err));
	ck_assert_msg(t->srv != NULL, "ctl_server_new: %s", err);
	ctl_server_set_limits(t->srv, &lim);
	ev_timer_init(&t->tick, on_tick, t);
	ev_timer_start(t->loop, &t->tick, 5);
}

void
ct_teardown(struct tctx *t)
{
	ctl_server_free(t->srv);
	ck_assert_int_eq(access(t->path, F_OK), -1);
	ev_timer_stop(t->loop, &t->tick);
	ev_free(t->loop);
	rmdir(t->dir);
}

/* raw clients */

static int
cl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int	 fd;

	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void
cl_send(int fd, const void *p, size_t len)
{
	ck_assert_int_eq(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Collect what fd receives until EOF, running the loop meanwhile. */
static size_t
cl_read_all(struct tctx *t, int fd, char *out, size_t max)
{
	uint64_t dl = ct_now_ms() + CT_DEADLINE_MS;
	size_t	 len = 0;
	ssize_t	 n;

	for (;;) {
		n = recv(fd, out + len, max - 1 - len, MSG_DONTWAIT);
		if (n > 0) {
			len += (size_t)n;
			ck_assert_uint_lt(len, max - 1);
			continue;
		}
		if (n == 0)
			break;
		/* A reset would mean the server closed with input unread. */
		ck_assert_msg(errno == EAGAIN, "recv: %s", strerror(errno));
		ck_assert_msg(ct_now_ms() < dl, "no EOF; got '%.*s'", (int)len,
		    out);
		ev_run_once(t->loop, 10);
	}
	out[len] = '\0';
	return len;
}

static void
exchange(struct tctx *t, const char *req, size_t len, char *out, size_t max)
{
	int	 fd = cl_connect(t->path);

	cl_send(fd, req, len);
	cl_read_all(t, fd, out, max);
	close(fd);
}

struct xcase {
	const char	*req;
	size_t		 len;		/* 0: strlen */
	const char	*want;
};

static const struct xcase xcases[] = {
	{ "status\n", 0, "ok\nstate running\n" },
	{ "status\r\n", 0, "ok\nstate running\n" },
	{ " \tstatus  \n", 0, "ok\nstate running\n" },
	{ "echo a \"b c\" \"say \\\"hi\\\"\" \"back\\\\slash\" \"\" "
	    "caf\xc3\xa9\n",
	    0, "ok\na\nb c\nsay \"hi\"\nback\\slash\n\ncaf\xc3\xa9\n" },
	{ "fail web-1\n", 0, "error: no such server 'web-1'\n" },
	{ "bogus arg\n", 0, "error: unknown command 'bogus' (try help)\n" },
	{ "echo\n", 0, "error: usage: echo WORD...\n" },
	{ "fail a b\n", 0, "error: usage: fail NAME\n" },
	{ "status now\n", 0, "error: usage: status\n" },
	{ "\n", 0, "error: empty request (try help)\n" },
	{ " \t \r\n", 0, "error: empty request (try help)\n" },
	{ "quiet\n", 0, "ok\n" },
	{ "echo \"open\n", 0, "error: unterminated quoted string\n" },
	{ "echo \"a\\nb\"\n", 0, "error: bad escape in quoted string "
	    "(only \\\" and \\\\)\n" },
	{ "echo a\x01z\n", 0, "error: control character in request\n" },
	{ "echo a\0b\n", 9, "error: control character in request\n" },
	{ "echo \xff\n", 0, "error: request is not valid UTF-8\n" },
	{ "status\nbogus\nmore", 0, "ok\nstate running\n" },
	{ "big 100\n", 0, "error: reply too large (over 8192 bytes)\n" },
	{ "help\n", 0, "ok\nstatus\necho WORD...\nfail NAME\nquiet\nbig LINES\n"
	    "watch\ncount N\nflood\nhang\nlate N\nhelp\n" },
};

START_TEST(request_reply_table)
{
	struct tctx	 t;
	struct ctl_stats st;
	char		 out[4096];
	size_t		 i, n = sizeof(xcases) / sizeof(xcases[0]), nerr = 0;

	ct_setup(&t, 0660);
	for (i = 0; i < n; i++) {
		exchange(&t, xcases[i].req, xcases[i].len ? xcases[i].len :
		    strlen(xcases[i].req), out, sizeof(out));
		ck_assert_msg(strcmp(out, xcases[i].want) == 0,
		    "case %zu: got '%s', want '%s'", i, out, xcases[i].want);
		nerr += strncmp(xcases[i].want, "error:", 6) == 0;
	}
	RUN_UNTIL(&t, ctl_server_stats(t.srv).active == 0);
	st = ctl_server_stats(t.srv);
	ck_assert_uint_eq(st.requests, n);
	ck_assert_uint_eq(st.errors, nerr);
	ck_assert_uint_eq(st.overflows, 1);
	ck_assert_uint_eq(st.refused + st.busy + st.timeouts, 0);
	ct_teardown(&t);
}
END_TEST

START_TEST(line_and_word_limits)
{
	struct tctx	 t;
	char		 req[CTL_LINE_MAX + 64], out[CTL_LINE_MAX + 64];
	char		 want[CTL_LINE_MAX + 64];
	size_t		 w = CTL_LINE_MAX - 5, i;

	ct_setup(&t, 0660);
	/* Exactly CTL_LINE_MAX bytes, with CR LF: accepted. */
	memcpy(req, "echo ", 5);
	memset(req + 5, 'a', w);
	memcpy(req + 5 + w, "\r\n", 2);
	exchange(&t, req, CTL_LINE_MAX + 2, out, sizeof(out));
	snprintf(want, sizeof(want), "ok\n%.*s\n", (int)w, req + 5);
	ck_assert_str_eq(out, want);
	/* One more byte: refused, with or without the LF yet. */
	memset(req + 5, 'a', w + 1);
	req[CTL_LINE_MAX + 1] = '\n';
	exchange(&t, req, CTL_LINE_MAX + 2, out, sizeof(out));
	ck_assert_str_eq(out, "error: request too long (max 4096 bytes)\n");
	memset(req, 'a', sizeof(req));
	exchange(&t, req, sizeof(req), out, sizeof(out));
	ck_assert_str_eq(out, "error: request too long (max 4096 bytes)\n");
	/* CTL_MAX_WORDS words pass, one more does not. */
	strcpy(req, "echo");
	for (i = 1; i < CTL_MAX_WORDS; i++)
		strcat(req, " x");
	strcat(req, "\n");
	exchange(&t, req, strlen(req), out, sizeof(out));
	ck_assert_uint_eq(strlen(out), 3 + 2 * (CTL_MAX_WORDS - 1));
	strcpy(req + strlen(req) - 1, " x\n");
	exchange(&t, req, strlen(req), out, sizeof(out));
	ck_assert_str_eq(out, "error: too many words\n");
	ct_teardown(&t);
}
END_TEST

START_TEST(timeout_and_unterminated)
{
	struct tctx	 t;
	char		 out[256];
	uint64_t	 start;
	int		 fd;

	ct_setup(&t, 0660);
	ctl_server_set_timeout(t.srv, 100);
	/* Nothing sent, then a partial line: both time out. */
	start = ct_now_ms();
	fd = cl_connect(t.path);
	cl_read_all(&t, fd, out, sizeof(out));
	close(fd);
	ck_assert_str_eq(out, "error: timeout\n");
	ck_assert_uint_ge(ct_now_ms() - start, 100);
	fd = cl_connect(t.path);
	cl_send(fd, "sta", 3);
	cl_read_all(&t, fd, out, sizeof(out));
	close(fd);
	ck_assert_str_eq(out, "error: timeout\n");
	/* EOF before the LF: refused, not run. */
	fd = cl_connect(t.path);
	cl_send(fd, "status", 6);
	shutdown(fd, SHUT_WR);
	cl_read_all(&t, fd, out, sizeof(out));
	close(fd);
	ck_assert_str_eq(out, "error: request not terminated by a newline\n");
	/* Connect and leave: closed quietly. */
	close(cl_connect(t.path));
	RUN_UNTIL(&t, ctl_server_stats(t.srv).active == 0);
	ck_assert_uint_eq(ctl_server_stats(t.srv).timeouts, 2);
	ck_assert_uint_eq(ctl_server_stats(t.srv).errors, 3);
	ck_assert_uint_eq(ctl_server_stats(t.srv).requests, 0);
	ct_teardown(&t);
}
END_TEST

START_TEST(too_many_connections)
{
	struct tctx	 t;
	struct ctl_limits lim = { .max_conns = 2 };
	char		 out[256];
	int		 a, b;

	ct_setup(&t, 0660);
	ctl_server_set_limits(t.srv, &lim);
	a = cl_connect(t.path);
	b = cl_connect(t.path);
	RUN_UNTIL(&t, ctl_server_stats(t.srv).active == 2);
	exchange(&t, "status\n", 7, out, sizeof(out));
	ck_assert_str_eq(out, "error: too many connections\n");
	ck_assert_uint_eq(ctl_server_stats(t.srv).busy, 1);
	close(a);
	RUN_UNTIL(&t, ctl_server_stats(t.srv).active == 1);
	exchange(&t, "status\n", 7, out, sizeof(out));
	ck_assert_str_eq(out, "ok\nstate running\n");
	close(b);
	ct_teardown(&t);
}
END_TEST

/* Read, running the loop, until want appears in what fd sent. */
static void
cl_read_until(struct tctx *t, int fd, const char *want, char *out, size_t max)
{
	uint64_t dl = ct_now_ms() + CT_DEADLINE_MS;
	size_t	 len = 0;
	ssize_t	 n;

	out[0] = '\0';
	while (strstr(out, want) == NULL) {
		ck_assert_msg(ct_now_ms() < dl, "no '%s' in '%s'", want, out);
		ev_run_once(t->loop, 10);
		while ((n = recv(fd, out + len, max - 1 - len,
		    MSG_DONTWAIT)) > 0) {
			len += (size_t)n;
			out[len] = '\0';
		}
		ck_assert_uint_lt(len, max - 1);
	}
}

START_TEST(stream_until_client_leaves)
{
	struct tctx	 t;
	char		 out[4096];
	int		 fd;

	ct_setup(&t, 0660);
	fd = cl_connect(t.path);
	cl_send(fd, "watch\n", 6);
	/* Shutting the write side (echo watch | socat) keeps the stream. */
	shutdown(fd, SHUT_WR);
	cl_read_until(&t, fd, "tick 3\n", out, sizeof(out));
	ck_assert_int_eq(strncmp(out, "ok\ntick 1\ntick 2\ntick 3\n", 24), 0);
	ck_assert_int_eq(t.closed, 0);
	close(fd);
	RUN_UNTIL(&t, t.closed == 1);
	ck_assert_uint_eq(ctl_server_stats(t.srv).active, 0);
	ct_teardown(&t);
}
END_TEST

START_TEST(stream_ended_by_server)
{
	struct tctx	 t;
	char		 out[256];

	ct_setup(&t, 0660);
	exchange(&t, "count 3\n", 8, out, sizeof(out));
	ck_assert_str_eq(out, "ok\ntick 1\ntick 2\ntick 3\n");
	RUN_UNTIL(&t, t.closed == 1);
	ct_teardown(&t);
	ck_assert_int_eq(t.closed, 1);
}
END_TEST

/* A handler that keeps the connection and decides later that it failed:
 * the client gets the error line alone, then EOF. */
START_TEST(deferred_error_reply)
{
	struct tctx	 t;
	char		 out[256];

	ct_setup(&t, 0660);
	exchange(&t, "late 3\n", 7, out, sizeof(out));
	ck_assert_str_eq(out, "error: gave up after 3 ticks\n");
	RUN_UNTIL(&t, t.closed == 1);
	ck_assert_uint_eq(ctl_server_stats(t.srv).errors, 1);
	ct_teardown(&t);
}
END_TEST

START_TEST(slow_stream_dropped)
{
	struct tctx	 t;
	static char	 out[4 * 1024 * 1024];
	size_t		 len;
	int		 fd;

	ct_setup(&t, 0660);
	fd = cl_connect(t.path);
	cl_send(fd, "flood\n", 6);
	/* The client reads nothing: socket buffers fill, then CT_OUTPUT_MAX. */
	RUN_UNTIL(&t, t.closed == 1);
	ck_assert_int_eq(t.dropped, 1);
	ck_assert_uint_eq(ctl_server_stats(t.srv).overflows, 1);
	ck_assert_uint_eq(ctl_server_stats(t.srv).active, 0);
	/* What was sent before the drop is there, then EOF. */
	len = cl_read_all(&t, fd, out, sizeof(out));
	ck_assert_uint_gt(len, CT_OUTPUT_MAX);
	ck_assert_int_eq(strncmp(out, "ok\nfff", 6), 0);
	close(fd);
	ct_teardown(&t);
}
END_TEST

START_TEST(free_ends_streams)
{
	struct tctx	 t;
	char		 out[256];
	int		 fd;

	ct_setup(&t, 0660);
	fd = cl_connect(t.path);
	cl_send(fd, "watch\n", 6);
	cl_read_until(&t, fd, "tick 1\n", out, sizeof(out));
	ck_assert_int_eq(t.closed, 0);
	ct_teardown(&t);		/* checks the socket file is gone */
	ck_assert_int_eq(t.closed, 1);
	/* The client sees EOF once it has read what was sent. */
	while (recv(fd, out, sizeof(out), MSG_DONTWAIT) > 0)
		;
	ck_assert_int_eq(recv(fd, out, sizeof(out), MSG_DONTWAIT), 0);
	close(fd);
}
END_TEST

static void
bind_stale(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int	 fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
}

START_TEST(socket_file_lifecycle)
{
	struct tctx	 t;
	struct ctl_server *srv;
	struct stat	 st;
	static const struct ctl_command bad[] = {
		{ "x", 2, 1, NULL, h_quiet }, { NULL, 0, 0, NULL, NULL }
	};
	char		 err[256], longpath[200];
	int		 fd;

	ct_setup(&t, 0640);
	ck_assert_int_eq(stat(t.path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	/* A live socket is refused. */
	ck_assert_ptr_null(ctl_server_new(t.loop, t.path, 0660, commands, NULL,
	    err, sizeof(err)));
	ck_assert_msg(strstr(err, "in use") != NULL, "%s", err);
	/* Replaced behind our back: free leaves the new file alone. */
	ck_assert_int_eq(unlink(t.path), 0);
	bind_stale(t.path);
	ctl_server_free(t.srv);
	ck_assert_int_eq(access(t.path, F_OK), 0);
	/* That stale socket is replaced by a new server. */
	srv = ctl_server_new(t.loop, t.path, 0660, commands, NULL, err,
	    sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	ctl_server_free(srv);
	ck_assert_int_eq(access(t.path, F_OK), -1);
	/* Not a socket, too long a path, a bad table. */
	ck_assert_int_ge(fd = open(t.path, O_CREAT | O_WRONLY, 0600), 0);
	close(fd);
	ck_assert_ptr_null(ctl_server_new(t.loop, t.path, 0660, commands, NULL,
	    err, sizeof(err)));
	ck_assert_msg(strstr(err, "not a socket") != NULL, "%s", err);
	unlink(t.path);
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_ptr_null(ctl_server_new(t.loop, longpath, 0660, commands,
	    NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "too long") != NULL, "%s", err);
	ck_assert_ptr_null(ctl_server_new(t.loop, t.path, 0660, bad, NULL,
	    err, sizeof(err)));
	ck_assert_msg(strstr(err, "bad entry 'x'") != NULL, "%s", err);
	ck_assert_int_eq(access(t.path, F_OK), -1);
	ev_timer_stop(t.loop, &t.tick);
	ev_free(t.loop);
	rmdir(t.dir);
}
END_TEST

Suite *
ctl_suite(void)
{
	Suite	*s = suite_create("ctl");
	TCase	*tc = tcase_create("words");

	tcase_add_loop_test(tc, split_table, 0,
	    sizeof(split_cases) / sizeof(split_cases[0]));
	tcase_add_test(tc, split_word_limit);
	tcase_add_test(tc, join_roundtrip_and_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_add_test(tc, request_reply_table);
	tcase_add_test(tc, line_and_word_limits);
	tcase_add_test(tc, timeout_and_unterminated);
	tcase_add_test(tc, too_many_connections);
	tcase_add_test(tc, stream_until_client_leaves);
	tcase_add_test(tc, stream_ended_by_server);
	tcase_add_test(tc, deferred_error_reply);
	tcase_add_test(tc, slow_stream_dropped);
	tcase_add_test(tc, free_ends_streams);
	tcase_add_test(tc, socket_file_lifecycle);
	suite_add_tcase(s, tc);

	suite_add_tcase(s, ctl_client_tcase());
	return s;
}
