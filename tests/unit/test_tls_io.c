/* Unit tests for common/tls: data in both directions, the tls_write retry
 * contract, tls_pending, close_notify and EOF, session resumption. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_test.h"

/* ---- data: bulk, retries, pending, close ------------------------------ */

struct xfer {
	struct tls_conn	*conn;
	int		 fd;
	const unsigned char *out;
	size_t		 outlen, sent;
	size_t		 attempt;	/* length of a write that got WANT_* */
	size_t		 chunk;		/* index into chunk sizes */
	unsigned char	*in;
	size_t		 inlen, got;
	unsigned	 wants, longer_retries;
	int		 wrc;		/* last WANT from a write */
};

/* First attempts use these sizes (all within one record); a retry passes
 * everything left, which is longer, and must get the first size back. */
static const size_t chunk_sizes[] = { 1000, 5000, 16384, 300, 12000, 7 };

static bool
xfer_step(struct xfer *x)
{
	bool	 progress = false;
	size_t	 len, left;
	ssize_t	 n;

	while (x->sent < x->outlen) {
		left = x->outlen - x->sent;
		len = chunk_sizes[x->chunk % 6];
		if (len > left)
			len = left;
		if (x->attempt > 0) {
			if (left > x->attempt)
				x->longer_retries++;
			len = left;
		}
		n = tls_write(x->conn, x->out + x->sent, len);
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
			if (x->attempt == 0)
				x->attempt = len;
			x->wants++;
			x->wrc = (int)n;
			break;
		}
		ck_assert_msg(n > 0, "write: %s", tls_conn_error(x->conn));
		if (x->attempt > 0)
			ck_assert_uint_eq((size_t)n, x->attempt);
		else
			ck_assert_uint_eq((size_t)n, len);
		x->attempt = 0;
		x->wrc = 0;
		x->chunk++;
		x->sent += (size_t)n;
		progress = true;
	}
	for (;;) {
		len = x->inlen - x->got;
		if (len == 0)
			break;
		n = tls_read(x->conn, x->in + x->got, len < 3000 ? len : 3000);
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE)
			break;
		ck_assert_msg(n > 0, "read %zd: %s", n,
		    tls_conn_error(x->conn));
		x->got += (size_t)n;
		progress = true;
	}
	return progress;
}

START_TEST(bulk_both_ways)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	const size_t	 total = 1024 * 1024;
	unsigned char	*cout, *sout, *cin, *sin;
	struct xfer	 xc, xs;
	struct pollfd	 pfd[2];
	struct tt_pair	 p;
	uint64_t	 deadline;
	int		 sndbuf = 4096, i;

	tt_pair_open(&p, c, s, "localhost");
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(setsockopt(p.fd[i], SOL_SOCKET, SO_SNDBUF,
		    &sndbuf, sizeof(sndbuf)), 0);
	tt_handshake_ok(&p);
	cout = malloc(total);
	sout = malloc(total);
	cin = malloc(total);
	sin = malloc(total);
	ck_assert(cout && sout && cin && sin);
	tt_fill_pattern(cout, total, 0x12345678);
	tt_fill_pattern(sout, total, 0x9abcdef1);
	xc = (struct xfer){ .conn = p.c, .fd = p.fd[0], .out = cout,
	    .outlen = total, .in = cin, .inlen = total };
	xs = (struct xfer){ .conn = p.s, .fd = p.fd[1], .out = sout,
	    .outlen = total, .in = sin, .inlen = total };
	deadline = tt_now_ms() + TT_DEADLINE_MS;
	while (xc.got < total || xs.got < total || xc.sent < total ||
	    xs.sent < total) {
		bool pc = xfer_step(&xc), ps = xfer_step(&xs);

		if (pc || ps)
			continue;
		pfd[0] = (struct pollfd){ p.fd[0], (short)(POLLIN |
		    tt_poll_events(xc.wrc)), 0 };
		pfd[1] = (struct pollfd){ p.fd[1], (short)(POLLIN |
		    tt_poll_events(xs.wrc)), 0 };
		ck_assert_int_ge(poll(pfd, 2, 1000), 0);
		ck_assert_msg(tt_now_ms() < deadline, "transfer stalled: c %zu/%zu "
		    "s %zu/%zu", xc.sent, xs.got, xs.sent, xc.got);
	}
	ck_assert_int_eq(memcmp(cout, sin, total), 0);
	ck_assert_int_eq(memcmp(sout, cin, total), 0);
	/* The small socket buffers did force retries, longer ones too. */
	ck_assert_uint_gt(xc.wants, 0);
	ck_assert_uint_gt(xs.wants, 0);
	ck_assert_uint_gt(xc.longer_retries + xs.longer_retries, 0);
	ck_assert(!tls_pending(p.c) && !tls_pending(p.s));
	free(cout);
	free(sout);
	free(cin);
	free(sin);
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

/* Write until the socket is full; return the length that got WANT. */
static size_t
fill_until_want(struct tt_pair *p, const unsigned char *data, size_t len)
{
	ssize_t	 n;
	int	 i;

	for (i = 0; i < 10000; i++) {
		n = tls_write(p->c, data, len);
		if (n == TLS_WANT_WRITE)
			return len;
		ck_assert_int_eq(n, (ssize_t)len);
	}
	ck_abort_msg("socket never filled");
	return 0;
}

/* Read and discard everything the server has. */
static void
drain(struct tt_pair *p)
{
	char	 buf[16384];
	ssize_t	 n;

	while ((n = tls_read(p->s, buf, sizeof(buf))) > 0)
		;
	ck_assert_int_eq(n, TLS_WANT_READ);
}

START_TEST(write_retry_contract)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	static unsigned char data[40000];
	struct tt_pair	 p;
	size_t		 len;
	ssize_t		 n;

	tt_fill_pattern(data, sizeof(data), 7);
	tt_pair_open(&p, c, s, "localhost");
	tt_handshake_ok(&p);
	len = fill_until_want(&p, data, 1234);
	drain(&p);
	/* Retry with more than before: exactly the first length is taken. */
	n = tls_write(p.c, data, sizeof(data));
	ck_assert_int_eq(n, (ssize_t)len);
	/* The next write is new and may take a whole record. */
	n = tls_write(p.c, data, sizeof(data));
	ck_assert(n == 16384 || n == TLS_WANT_WRITE);
	tt_pair_close(&p);

	/* Retrying with fewer bytes than pending breaks the contract. */
	tt_pair_open(&p, c, s, "localhost");
	tt_handshake_ok(&p);
	len = fill_until_want(&p, data, 5000);
	drain(&p);
	ck_assert_int_eq(tls_write(p.c, data, len - 1), TLS_ERR);
	ck_assert_ptr_nonnull(strstr(tls_conn_error(p.c), "pending"));
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

START_TEST(pending_after_short_read)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	unsigned char	 out[10240], in[10240];
	struct tt_pair	 p;
	size_t		 got;
	ssize_t		 n;

	tt_fill_pattern(out, sizeof(out), 99);
	tt_pair_open(&p, c, s, "localhost");
	tt_handshake_ok(&p);
	ck_assert(!tls_pending(p.s));
	tt_write_all(p.c, p.fd[0], out, sizeof(out));	/* one record */
	ck_assert_int_eq(poll(&(struct pollfd){ p.fd[1], POLLIN, 0 }, 1,
	    1000), 1);
	tt_read_exact(p.s, p.fd[1], in, 100);
	/* The rest is decrypted inside the connection: the socket is empty
	 * and will not wake poll, yet data is there. */
	ck_assert(tls_pending(p.s));
	ck_assert_int_eq(poll(&(struct pollfd){ p.fd[1], POLLIN, 0 }, 1, 0),
	    0);
	got = 100;
	while (tls_pending(p.s)) {
		n = tls_read(p.s, in + got, 1000);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_uint_eq(got, sizeof(in));
	ck_assert_int_eq(memcmp(in, out, sizeof(in)), 0);
	ck_assert_int_eq(tls_read(p.s, in, sizeof(in)), TLS_WANT_READ);
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

START_TEST(close_notify_clean_eof)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	struct tt_pair	 p;
	char		 buf[64];
	int		 rc;

	tt_pair_open(&p, c, s, "localhost");
	tt_handshake_ok(&p);
	tt_write_all(p.c, p.fd[0], "bye", 3);
	while ((rc = tls_close(p.c)) == TLS_WANT_WRITE)
		poll(&(struct pollfd){ p.fd[0], POLLOUT, 0 }, 1, 1000);
	ck_assert_int_eq(rc, 0);
	tt_read_exact(p.s, p.fd[1], buf, 3);
	ck_assert(!tls_conn_eof_clean(p.s));
	ck_assert_int_eq(tls_read(p.s, buf, sizeof(buf)), 0);
	ck_assert(tls_conn_eof_clean(p.s));
	ck_assert_int_eq(tls_read(p.s, buf, sizeof(buf)), 0);
	tt_pair_close(&p);

	/* A bare EOF is still EOF, but not a clean one. */
	tt_pair_open(&p, c, s, "localhost");
	tt_handshake_ok(&p);
	close(p.fd[0]);
	p.fd[0] = -1;
	ck_assert_int_eq(tls_read(p.s, buf, sizeof(buf)), 0);
	ck_assert(!tls_conn_eof_clean(p.s));
	tt_pair_close(&p);

	/* EOF before or during the handshake is an error. */
	tt_pair_open(&p, c, s, "localhost");
	close(p.fd[0]);
	p.fd[0] = -1;
	ck_assert_int_eq(tls_handshake(p.s), TLS_ERR);
	ck_assert_msg(strstr(tls_conn_error(p.s), "closed by peer") != NULL,
	    "error: %s", tls_conn_error(p.s));
	tt_pair_close(&p);
	tt_pair_open(&p, c, s, "localhost");
	ck_assert_int_eq(tls_handshake(p.c), TLS_WANT_READ);	/* hello sent */
	close(p.fd[0]);
	p.fd[0] = -1;
	ck_assert_int_eq(tls_handshake(p.s), TLS_ERR);	/* EPIPE replying */
	ck_assert_str_ne(tls_conn_error(p.s), "");
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

/* ---- resumption ------------------------------------------------------ */

/* Full handshake, save the session, reconnect with it. */
static bool
reconnect_resumes(struct tls_config *c, struct tls_config *s1,
    struct tls_config *s2)
{
	struct tls_session *sess;
	struct tt_pair	 p;
	bool		 resumed;
	char		 subj[256];

	tt_pair_open(&p, c, s1, "localhost");
	tt_handshake_ok(&p);
	ck_assert(!tls_conn_resumed(p.c) && !tls_conn_resumed(p.s));
	sess = tls_conn_get_session(p.c, tt_err, sizeof(tt_err));
	ck_assert_msg(sess != NULL, "get_session: %s", tt_err);
	tt_pair_close(&p);

	tt_pair_open(&p, c, s2, "localhost");
	ck_assert_msg(tls_conn_set_session(p.c, sess, tt_err, sizeof(tt_err)) == 0,
	    "set_session: %s", tt_err);
	tls_session_free(sess);
	tt_handshake_ok(&p);
	resumed = tls_conn_resumed(p.c);
	ck_assert_int_eq(tls_conn_resumed(p.s), resumed);
	/* Resumed or not, the peer identity is known and data flows. */
	tt_peer_subject(p.c, subj, sizeof(subj));
	ck_assert_ptr_nonnull(strstr(subj, "CN=localhost"));
	tt_ping_pong(&p);
	/* Too late to set a session now. */
	sess = tls_conn_get_session(p.c, tt_err, sizeof(tt_err));
	ck_assert_ptr_nonnull(sess);
	ck_assert_int_eq(tls_conn_set_session(p.c, sess, tt_err, sizeof(tt_err)),
	    -1);
	tls_session_free(sess);
	tt_pair_close(&p);
	return resumed;
}

static const struct {
	const char	*what;
	unsigned	 ticket_lifetime;
	size_t		 cache_entries;
	bool		 resumes;
} resume_cases[] = {
	{ "ticket",	3600,	0,	true },
	{ "cache",	0,	100,	true },
	{ "both",	3600,	100,	true },
	{ "neither",	0,	0,	false },
};

START_TEST(resumption)
{
	struct tls_server_opts opts;
	struct tls_config *s, *c = tt_client_cfg("ca.crt", true);
	size_t		 i = (size_t)_i;

	tls_server_opts_default(&opts);
	opts.ticket_lifetime = resume_cases[i].ticket_lifetime;
	opts.cache_entries = resume_cases[i].cache_entries;
	s = tt_server_cfg(&opts, "server.crt", "server.key");
	ck_assert_msg(reconnect_resumes(c, s, s) == resume_cases[i].resumes,
	    "%s", resume_cases[i].what);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

/* A session from another server (other ticket keys, other cache) falls
 * back to a full handshake instead of failing. */
START_TEST(resumption_other_server)
{
	struct tls_config *s1 = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *s2 = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);

	ck_assert(!reconnect_resumes(c, s1, s2));
	ck_assert(reconnect_resumes(c, s2, s2));
	tls_config_free(c);
	tls_config_free(s1);
	tls_config_free(s2);
}
END_TEST

/* A reloaded config (s2, then s3) resumes what the one it replaced
 * handed out, ticket or cache, even after the old one is freed. */
START_TEST(resumption_inherited)
{
	struct tls_server_opts opts;
	struct tls_config *s1, *s2, *s3, *c = tt_client_cfg("ca.crt", true);
	size_t		 i = (size_t)_i;

	tls_server_opts_default(&opts);
	opts.ticket_lifetime = resume_cases[i].ticket_lifetime;
	opts.cache_entries = resume_cases[i].cache_entries;
	s1 = tt_server_cfg(&opts, "server.crt", "server.key");
	s2 = tt_server_cfg(&opts, "server.crt", "server.key");
	tls_config_inherit_sessions(s2, s1);
	ck_assert_msg(reconnect_resumes(c, s1, s2) == resume_cases[i].resumes,
	    "%s", resume_cases[i].what);
	s3 = tt_server_cfg(&opts, "server.crt", "server.key");
	tls_config_inherit_sessions(s3, s2);
	tls_config_free(s1);
	tls_config_free(s2);
	ck_assert_msg(reconnect_resumes(c, s3, s3) == resume_cases[i].resumes,
	    "%s, after two reloads", resume_cases[i].what);
	tls_config_free(s3);
	tls_config_free(c);
}
END_TEST

TCase *
tls_data_tcase(void)
{
	TCase	*tc = tcase_create("data");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bulk_both_ways);
	tcase_add_test(tc, write_retry_contract);
	tcase_add_test(tc, pending_after_short_read);
	tcase_add_test(tc, close_notify_clean_eof);
	tcase_add_loop_test(tc, resumption, 0,
	    sizeof(resume_cases) / sizeof(resume_cases[0]));
	tcase_add_test(tc, resumption_other_server);
	tcase_add_loop_test(tc, resumption_inherited, 0,
	    sizeof(resume_cases) / sizeof(resume_cases[0]));
	return tc;
}
