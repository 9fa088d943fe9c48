/* Unit tests for common/tls: handshakes, verification, SNI, certificate
 * and key files, config errors. Data transfer and resumption are in
 * test_tls_io.c, real openssl peers in test_tls_peers.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "tls_test.h"

/* ---- helpers shared with test_tls_io.c and test_tls_peers.c ----------- */

char	 tt_err[TT_ERRLEN];

uint64_t
tt_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
tt_certs_dir(void)
{
	const char	*d = getenv("STACKD_CERTS");

	return d != NULL ? d : "build/certs";
}

char *
tt_certpath(char *buf, size_t len, const char *name)
{
	int	 n = snprintf(buf, len, "%s/%s", tt_certs_dir(), name);

	ck_assert_msg(n > 0 && (size_t)n < len, "cert path too long");
	return buf;
}


struct tls_config *
tt_server_cfg(const struct tls_server_opts *opts, const char *crt,
    const char *key)
{
	struct tls_config	*cfg;

	cfg = tls_server_new(opts, tt_err, sizeof(tt_err));
	ck_assert_msg(cfg != NULL, "tls_server_new: %s", tt_err);
	ck_assert_msg(tls_server_add_cert(cfg, TT_CERT(crt), TT_CERT(key), tt_err,
	    sizeof(tt_err)) == 0, "add_cert %s: %s", crt, tt_err);
	return cfg;
}

struct tls_config *
tt_client_cfg(const char *ca, bool verify)
{
	struct tls_config	*cfg;

	cfg = tls_client_new(ca != NULL ? TT_CERT(ca) : NULL, verify, NULL, NULL,
	    tt_err, sizeof(tt_err));
	ck_assert_msg(cfg != NULL, "tls_client_new: %s", tt_err);
	return cfg;
}

void
tt_set_nonblock(int fd)
{
	int	 fl = fcntl(fd, F_GETFL);

	ck_assert_int_ne(fl, -1);
	ck_assert_int_ne(fcntl(fd, F_SETFL, fl | O_NONBLOCK), -1);
}

void
tt_pair_open(struct tt_pair *p, struct tls_config *ccfg, struct tls_config *scfg,
    const char *name)
{
	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	tt_set_nonblock(p->fd[0]);
	tt_set_nonblock(p->fd[1]);
	p->c = tls_conn_new(ccfg, p->fd[0], name, tt_err, sizeof(tt_err));
	ck_assert_msg(p->c != NULL, "client conn: %s", tt_err);
	p->s = tls_conn_new(scfg, p->fd[1], NULL, tt_err, sizeof(tt_err));
	ck_assert_msg(p->s != NULL, "server conn: %s", tt_err);
}

void
tt_pair_close(struct tt_pair *p)
{
	tls_conn_free(p->c);
	tls_conn_free(p->s);
	if (p->fd[0] != -1)
		close(p->fd[0]);
	if (p->fd[1] != -1)
		close(p->fd[1]);
}

static bool
tt_finished(int rc)
{
	return rc == 0 || rc == TLS_ERR;
}

short
tt_poll_events(int rc)
{
	unsigned ev = tls_want_events(rc);

	return (short)((ev & EV_READ ? POLLIN : 0) |
	    (ev & EV_WRITE ? POLLOUT : 0));
}

/* Step both handshakes until both end. Once one side has failed, the
 * other gets a short while to read the alert, then we stop. 0 if both
 * succeeded. */
int
tt_pump_handshake(struct tt_pair *p)
{
	struct pollfd	 pfd[2];
	uint64_t	 deadline = tt_now_ms() + TT_DEADLINE_MS;
	int		 n, r;

	p->rc_c = p->rc_s = TLS_WANT_READ;
	for (;;) {
		if (!tt_finished(p->rc_c))
			p->rc_c = tls_handshake(p->c);
		if (!tt_finished(p->rc_s))
			p->rc_s = tls_handshake(p->s);
		if (tt_finished(p->rc_c) && tt_finished(p->rc_s))
			break;
		n = 0;
		if (!tt_finished(p->rc_c))
			pfd[n++] = (struct pollfd){ p->fd[0],
			    tt_poll_events(p->rc_c), 0 };
		if (!tt_finished(p->rc_s))
			pfd[n++] = (struct pollfd){ p->fd[1],
			    tt_poll_events(p->rc_s), 0 };
		r = poll(pfd, n, p->rc_c == TLS_ERR || p->rc_s == TLS_ERR ?
		    200 : 1000);
		ck_assert_int_ge(r, 0);
		if (r == 0 && (p->rc_c == TLS_ERR || p->rc_s == TLS_ERR))
			break;
		ck_assert_msg(tt_now_ms() < deadline, "handshake stalled");
	}
	return p->rc_c == 0 && p->rc_s == 0 ? 0 : -1;
}

void
tt_handshake_ok(struct tt_pair *p)
{
	ck_assert_msg(tt_pump_handshake(p) == 0, "handshake: client \"%s\", "
	    "server \"%s\"", tls_conn_error(p->c), tls_conn_error(p->s));
}

/* Write all of buf, polling on WANT_*. */
void
tt_write_all(struct tls_conn *c, int fd, const void *buf, size_t len)
{
	uint64_t	 deadline = tt_now_ms() + TT_DEADLINE_MS;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len) {
		n = tls_write(c, (const char *)buf + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		ck_assert_msg(n == TLS_WANT_READ || n == TLS_WANT_WRITE,
		    "write: %zd %s", n, tls_conn_error(c));
		poll(&(struct pollfd){ fd, tt_poll_events((int)n), 0 }, 1, 1000);
		ck_assert_msg(tt_now_ms() < deadline, "write stalled");
	}
}

/* Read exactly len bytes. */
void
tt_read_exact(struct tls_conn *c, int fd, void *buf, size_t len)
{
	uint64_t	 deadline = tt_now_ms() + TT_DEADLINE_MS;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len) {
		n = tls_read(c, (char *)buf + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		ck_assert_msg(n == TLS_WANT_READ || n == TLS_WANT_WRITE,
		    "read: %zd %s", n, tls_conn_error(c));
		poll(&(struct pollfd){ fd, tt_poll_events((int)n), 0 }, 1, 1000);
		ck_assert_msg(tt_now_ms() < deadline, "read stalled");
	}
}

/* One round trip in each direction over an established pair. */
void
tt_ping_pong(struct tt_pair *p)
{
	char	 buf[5];

	tt_write_all(p->c, p->fd[0], "ping", 4);
	tt_read_exact(p->s, p->fd[1], buf, 4);
	ck_assert_int_eq(memcmp(buf, "ping", 4), 0);
	tt_write_all(p->s, p->fd[1], "pong!", 5);
	tt_read_exact(p->c, p->fd[0], buf, 5);
	ck_assert_int_eq(memcmp(buf, "pong!", 5), 0);
}

void
tt_peer_subject(struct tls_conn *c, char *buf, size_t len)
{
	ck_assert_int_eq(tls_conn_peer_subject(c, buf, len), 0);
}


void
tt_fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		buf[i] = (unsigned char)seed;
	}
}


/* ---- handshakes and verification ------------------------------------- */

START_TEST(handshake_ecdsa)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	struct tt_pair	 p;
	char		 subj[256];

	tt_pair_open(&p, c, s, "localhost");
	ck_assert_ptr_null(tls_conn_version(p.c));
	ck_assert(!tls_conn_handshake_done(p.c));
	tt_handshake_ok(&p);
	ck_assert(tls_conn_handshake_done(p.c));
	ck_assert_str_eq(tls_conn_version(p.c), "TLSv1.2");
	ck_assert_str_eq(tls_conn_version(p.s), "TLSv1.2");
	ck_assert_str_eq(tls_conn_cipher(p.c),
	    "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
	ck_assert_str_eq(tls_conn_cipher(p.s), tls_conn_cipher(p.c));
	ck_assert_str_eq(tls_conn_sni(p.s), "localhost");
	ck_assert_ptr_null(tls_conn_sni(p.c));
	ck_assert(!tls_conn_resumed(p.c) && !tls_conn_resumed(p.s));
	ck_assert_str_eq(tls_conn_error(p.c), "");
	tt_peer_subject(p.c, subj, sizeof(subj));
	ck_assert_ptr_nonnull(strstr(subj, "CN=localhost"));
	/* No client certificate was asked for. */
	ck_assert_int_eq(tls_conn_peer_subject(p.s, subj, sizeof(subj)), -1);
	/* A buffer too small for the subject is an error, not a cut. */
	ck_assert_int_eq(tls_conn_peer_subject(p.c, subj, 8), -1);
	tt_ping_pong(&p);
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

START_TEST(handshake_rsa)
{
	struct tls_config *s = tt_server_cfg(NULL, "server-rsa.crt",
	    "server-rsa.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	struct tt_pair	 p;

	tt_pair_open(&p, c, s, "rsa.foobar.com");
	tt_handshake_ok(&p);
	ck_assert_str_eq(tls_conn_cipher(p.c),
	    "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256");
	tt_ping_pong(&p);
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

/* Name, cert, whether a verifying client accepts it. */
static const struct {
	const char	*name;
	const char	*crt;
	bool		 ok;
} verify_cases[] = {
	{ "localhost",		"server",	true },
	{ "www.foobar.com",	"server",	true },
	{ "WWW.FOOBAR.COM",	"server",	true },
	{ "127.0.0.1",		"server",	true },
	{ "::1",		"server",	true },
	{ "evil.example",	"server",	false },
	{ "foobar.com",		"server",	false },
	{ "10.0.0.1",		"server",	false },
	{ "::2",		"server",	false },
	{ "127.0.0.1",		"server-rsa",	true },
	{ "::1",		"server-rsa",	false },
	{ "a.static.foobar.com", "static",	true },
	{ "a.b.static.foobar.com", "static",	false },
	{ "localhost",		"wrong",	false },	/* untrusted CA */
	{ "127.0.0.1",		"wrong",	false },
};

START_TEST(verify_names)
{
	struct tls_config *s, *c = tt_client_cfg("ca.crt", true);
	char		 crt[64], key[64];
	struct tt_pair	 p;
	size_t		 i = (size_t)_i;

	snprintf(crt, sizeof(crt), "%s.crt", verify_cases[i].crt);
	snprintf(key, sizeof(key), "%s.key", verify_cases[i].crt);
	s = tt_server_cfg(NULL, crt, key);
	tt_pair_open(&p, c, s, verify_cases[i].name);
	if (verify_cases[i].ok) {
		tt_handshake_ok(&p);
	} else {
		ck_assert_msg(tt_pump_handshake(&p) == -1, "%s accepted for %s",
		    crt, verify_cases[i].name);
		ck_assert_int_eq(p.rc_c, TLS_ERR);
		ck_assert_msg(strstr(tls_conn_error(p.c),
		    "certificate verify failed") != NULL, "error: %s",
		    tls_conn_error(p.c));
		/* The client told the server why it hung up. */
		ck_assert_int_eq(p.rc_s, TLS_ERR);
		ck_assert_str_ne(tls_conn_error(p.s), "");
		/* Failure is sticky. */
		ck_assert_int_eq(tls_handshake(p.c), TLS_ERR);
		ck_assert_int_eq(tls_write(p.c, "x", 1), TLS_ERR);
	}
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

START_TEST(wrong_ca_refused)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("wrongca.crt", true);
	struct tt_pair	 p;

	tt_pair_open(&p, c, s, "localhost");
	ck_assert_int_eq(tt_pump_handshake(&p), -1);
	ck_assert_int_eq(p.rc_c, TLS_ERR);
	ck_assert_msg(strstr(tls_conn_error(p.c), "verify failed") != NULL &&
	    strstr(tls_conn_error(p.c), "trusted CA") != NULL, "error: %s",
	    tls_conn_error(p.c));
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

START_TEST(no_verify_accepts_any)
{
	struct tls_config *s = tt_server_cfg(NULL, "wrong.crt", "wrong.key");
	struct tls_config *c = tt_client_cfg(NULL, false);
	struct tt_pair	 p;

	tt_pair_open(&p, c, s, NULL);
	tt_handshake_ok(&p);
	ck_assert_ptr_null(tls_conn_sni(p.s));
	tt_ping_pong(&p);
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

/* ---- SNI ------------------------------------------------------------- */

static const struct {
	const char	*name;		/* SNI sent, NULL for none */
	const char	*cn;		/* subject CN the client gets */
	const char	*sni;		/* what the server reports */
	const char	*kex;		/* in the ciphersuite name */
} sni_cases[] = {
	{ "static.foobar.com",	"CN=static.foobar.com", "static.foobar.com", "ECDSA" },
	{ "STATIC.FOOBAR.com",	"CN=static.foobar.com", "static.foobar.com", "ECDSA" },
	{ "x.static.foobar.com", "CN=static.foobar.com", "x.static.foobar.com", "ECDSA" },
	{ "x.y.static.foobar.com", "CN=localhost",	"x.y.static.foobar.com", "ECDSA" },
	{ "rsa.foobar.com",	"CN=rsa.foobar.com",	"rsa.foobar.com", "RSA" },
	{ "unknown.example",	"CN=localhost",		"unknown.example", "ECDSA" },
	{ "localhost",		"CN=localhost",		"localhost", "ECDSA" },
	{ NULL,			"CN=localhost",		NULL, "ECDSA" },
};

START_TEST(sni_selects_cert)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg(NULL, false);
	struct tt_pair	 p;
	char		 subj[256];
	size_t		 i = (size_t)_i;

	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("static.crt"),
	    TT_CERT("static.key"), tt_err, sizeof(tt_err)), 0);
	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("server-rsa.crt"),
	    TT_CERT("server-rsa.key"), tt_err, sizeof(tt_err)), 0);
	tt_pair_open(&p, c, s, sni_cases[i].name);
	tt_handshake_ok(&p);
	tt_peer_subject(p.c, subj, sizeof(subj));
	ck_assert_msg(strstr(subj, sni_cases[i].cn) != NULL,
	    "%s: got %s", sni_cases[i].name, subj);
	if (sni_cases[i].sni == NULL)
		ck_assert_ptr_null(tls_conn_sni(p.s));
	else
		ck_assert_str_eq(tls_conn_sni(p.s), sni_cases[i].sni);
	ck_assert_ptr_nonnull(strstr(tls_conn_cipher(p.c), sni_cases[i].kex));
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

/* A verifying client accepts the SNI-selected certificate. */
START_TEST(sni_verified)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	struct tt_pair	 p;

	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("static.crt"),
	    TT_CERT("static.key"), tt_err, sizeof(tt_err)), 0);
	tt_pair_open(&p, c, s, "static.foobar.com");
	tt_handshake_ok(&p);
	tt_pair_close(&p);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

/* ---- files and config errors ----------------------------------------- */

/* Copy a certs file to a fresh temporary file with the given mode. */
static void
copy_with_mode(const char *name, char *tmpl, mode_t mode)
{
	char	 buf[8192];
	ssize_t	 n;
	int	 in, out;

	ck_assert_int_ne(in = open(TT_CERT(name), O_RDONLY), -1);
	ck_assert_int_ne(out = mkstemp(tmpl), -1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(fchmod(out, mode), 0);
	close(in);
	close(out);
}

START_TEST(key_mode_refused)
{
	static const mode_t modes[] = { 0640, 0604, 0660, 0644, 0601 };
	struct tls_config *s;
	char		 tmp[] = "/tmp/stackd-tls-key.XXXXXX", want[64];
	size_t		 i;

	copy_with_mode("server.key", tmp, 0600);
	s = tls_server_new(NULL, tt_err, sizeof(tt_err));
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ck_assert_int_eq(chmod(tmp, modes[i]), 0);
		tt_err[0] = '\0';
		ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("server.crt"),
		    tmp, tt_err, sizeof(tt_err)), -1);
		ck_assert_msg(strstr(tt_err, tmp) != NULL &&
		    strstr(tt_err, "chmod 600") != NULL, "error: %s", tt_err);
		snprintf(want, sizeof(want), "mode %04o", (unsigned)modes[i]);
		ck_assert_msg(strstr(tt_err, want) != NULL, "error: %s", tt_err);
	}
	/* Same file, private again: accepted. */
	ck_assert_int_eq(chmod(tmp, 0400), 0);
	ck_assert_msg(tls_server_add_cert(s, TT_CERT("server.crt"), tmp, tt_err,
	    sizeof(tt_err)) == 0, "error: %s", tt_err);
	unlink(tmp);
	tls_config_free(s);
}
END_TEST

START_TEST(key_mismatch_refused)
{
	struct tls_config *s = tls_server_new(NULL, tt_err, sizeof(tt_err));

	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("server.crt"),
	    TT_CERT("static.key"), tt_err, sizeof(tt_err)), -1);
	ck_assert_msg(strstr(tt_err, "does not match") != NULL, "error: %s", tt_err);
	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("server-rsa.crt"),
	    TT_CERT("server.key"), tt_err, sizeof(tt_err)), -1);
	ck_assert_msg(strstr(tt_err, "does not match") != NULL, "error: %s", tt_err);
	/* Nothing was added: a connection is still refused. */
	ck_assert_ptr_null(tls_conn_new(s, 0, NULL, tt_err, sizeof(tt_err)));
	ck_assert_ptr_nonnull(strstr(tt_err, "no certificate"));
	tls_config_free(s);
}
END_TEST

START_TEST(bad_files_refused)
{
	struct tls_config *s = tls_server_new(NULL, tt_err, sizeof(tt_err));
	char		 junk[] = "/tmp/stackd-tls-junk.XXXXXX";
	char		 empty[] = "/tmp/stackd-tls-empty.XXXXXX";
	static const char garbage[] = "-----BEGIN CERTIFICATE-----\n"
	    "not base64!!\n-----END CERTIFICATE-----\n";
	int		 fd;

	ck_assert_int_ne(fd = mkstemp(junk), -1);
	ck_assert_int_eq(write(fd, garbage, sizeof(garbage) - 1),
	    (ssize_t)sizeof(garbage) - 1);
	close(fd);
	ck_assert_int_ne(fd = mkstemp(empty), -1);
	close(fd);

	ck_assert_int_eq(tls_server_add_cert(s, "/nonexistent/x.crt",
	    TT_CERT("server.key"), tt_err, sizeof(tt_err)), -1);
	ck_assert_msg(strstr(tt_err, "/nonexistent/x.crt") != NULL &&
	    strstr(tt_err, "No such file") != NULL, "error: %s", tt_err);
	ck_assert_int_eq(tls_server_add_cert(s, junk, TT_CERT("server.key"), tt_err,
	    sizeof(tt_err)), -1);
	ck_assert_msg(strstr(tt_err, junk) != NULL, "error: %s", tt_err);
	ck_assert_int_eq(tls_server_add_cert(s, empty, TT_CERT("server.key"), tt_err,
	    sizeof(tt_err)), -1);
	ck_assert_msg(strstr(tt_err, empty) != NULL, "error: %s", tt_err);
	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("server.crt"), junk, tt_err,
	    sizeof(tt_err)), -1);	/* mkstemp made it 0600: parsed, refused */
	ck_assert_msg(strstr(tt_err, junk) != NULL, "error: %s", tt_err);
	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("server.crt"), "/tmp",
	    tt_err, sizeof(tt_err)), -1);
	ck_assert_msg(strstr(tt_err, "not a regular file") != NULL, "error: %s",
	    tt_err);
	/* A certificate is not a key, a key is not a certificate. */
	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("server.key"),
	    TT_CERT("server.key"), tt_err, sizeof(tt_err)), -1);
	ck_assert_ptr_null(tls_client_new(junk, true, NULL, NULL, tt_err,
	    sizeof(tt_err)));
	ck_assert_ptr_nonnull(strstr(tt_err, junk));
	unlink(junk);
	unlink(empty);
	tls_config_free(s);
}
END_TEST

START_TEST(cert_count_bounded)
{
	struct tls_config *s = tls_server_new(NULL, tt_err, sizeof(tt_err));
	int		 i;

	for (i = 0; i < TLS_MAX_CERTS; i++)
		ck_assert_msg(tls_server_add_cert(s, TT_CERT("static.crt"),
		    TT_CERT("static.key"), tt_err, sizeof(tt_err)) == 0, "%d: %s", i,
		    tt_err);
	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("static.crt"),
	    TT_CERT("static.key"), tt_err, sizeof(tt_err)), -1);
	ck_assert_msg(strstr(tt_err, "more than 64") != NULL, "error: %s", tt_err);
	tls_config_free(s);
}
END_TEST

START_TEST(config_misuse)
{
	struct tls_server_opts opts;
	struct tls_config *s, *c;
	struct tls_conn	*conn;
	int		 sv[2];

	ck_assert_ptr_null(tls_client_new(NULL, true, NULL, NULL, tt_err,
	    sizeof(tt_err)));
	ck_assert_ptr_nonnull(strstr(tt_err, "CA file"));
	ck_assert_ptr_null(tls_client_new(NULL, false, TT_CERT("client.crt"),
	    NULL, tt_err, sizeof(tt_err)));
	tls_server_opts_default(&opts);
	ck_assert_uint_eq(opts.cache_entries, TLS_CACHE_ENTRIES_DEFAULT);
	opts.require_client_cert = true;
	ck_assert_ptr_null(tls_server_new(&opts, tt_err, sizeof(tt_err)));
	ck_assert_ptr_nonnull(strstr(tt_err, "CA file"));
	opts.require_client_cert = false;
	opts.cache_entries = (size_t)INT_MAX + 1;
	ck_assert_ptr_null(tls_server_new(&opts, tt_err, sizeof(tt_err)));

	s = tt_server_cfg(NULL, "server.crt", "server.key");
	c = tt_client_cfg("ca.crt", true);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_ptr_null(tls_conn_new(s, sv[1], "localhost", tt_err,
	    sizeof(tt_err)));
	ck_assert_ptr_null(tls_conn_new(c, sv[0], NULL, tt_err, sizeof(tt_err)));
	ck_assert_ptr_nonnull(strstr(tt_err, "name"));
	ck_assert_ptr_null(tls_conn_new(c, sv[0], "", tt_err, sizeof(tt_err)));
	ck_assert_int_eq(tls_server_add_cert(c, TT_CERT("server.crt"),
	    TT_CERT("server.key"), tt_err, sizeof(tt_err)), -1);

	/* Certificates are fixed once a connection uses the config. */
	conn = tls_conn_new(s, sv[1], NULL, tt_err, sizeof(tt_err));
	ck_assert_ptr_nonnull(conn);
	ck_assert_int_eq(tls_server_add_cert(s, TT_CERT("static.crt"),
	    TT_CERT("static.key"), tt_err, sizeof(tt_err)), -1);
	ck_assert_ptr_nonnull(strstr(tt_err, "in use"));
	/* Sessions belong to clients after a handshake. */
	ck_assert_ptr_null(tls_conn_get_session(conn, tt_err, sizeof(tt_err)));
	/* A zero-length read is a caller bug, reported as such. */
	ck_assert_int_eq(tls_read(conn, tt_err, 0), TLS_ERR);
	ck_assert_ptr_nonnull(strstr(tls_conn_error(conn), "zero"));
	tls_conn_free(conn);
	close(sv[0]);
	close(sv[1]);
	tls_config_free(c);
	tls_config_free(s);
}
END_TEST

START_TEST(want_events)
{
	ck_assert_uint_eq(tls_want_events(TLS_WANT_READ), EV_READ);
	ck_assert_uint_eq(tls_want_events(TLS_WANT_WRITE), EV_WRITE);
	ck_assert_uint_eq(tls_want_events(TLS_ERR), 0);
	ck_assert_uint_eq(tls_want_events(0), 0);
	ck_assert_uint_eq(tls_want_events(42), 0);
}
END_TEST

/* A connection keeps its config alive after the owner drops it (reload). */
START_TEST(config_outlives_owner)
{
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	struct tt_pair	 p;

	tt_pair_open(&p, c, s, "localhost");
	ck_assert_ptr_eq(tls_config_ref(s), s);
	tls_config_free(s);
	tls_config_free(s);
	tls_config_free(c);
	tt_handshake_ok(&p);
	tt_ping_pong(&p);
	tt_pair_close(&p);	/* frees both configs; ASan reports misuse */
	tls_config_free(NULL);
	ck_assert_ptr_null(tls_config_ref(NULL));
}
END_TEST

/* ---- client certificates --------------------------------------------- */

START_TEST(client_cert_required)
{
	struct tls_server_opts opts;
	struct tls_config *s, *anon, *good, *bad;
	struct tt_pair	 p;
	char		 subj[256];

	tls_server_opts_default(&opts);
	opts.require_client_cert = true;
	opts.client_ca = TT_CERT("ca.crt");
	s = tt_server_cfg(&opts, "server.crt", "server.key");
	anon = tt_client_cfg("ca.crt", true);
	good = tls_client_new(TT_CERT("ca.crt"), true, TT_CERT("client.crt"),
	    TT_CERT("client.key"), tt_err, sizeof(tt_err));
	ck_assert_msg(good != NULL, "%s", tt_err);
	bad = tls_client_new(TT_CERT("ca.crt"), true, TT_CERT("wrong.crt"),
	    TT_CERT("wrong.key"), tt_err, sizeof(tt_err));
	ck_assert_msg(bad != NULL, "%s", tt_err);

	tt_pair_open(&p, good, s, "localhost");
	tt_handshake_ok(&p);
	tt_peer_subject(p.s, subj, sizeof(subj));
	ck_assert_ptr_nonnull(strstr(subj, "CN=stackd test client"));
	tt_pair_close(&p);

	tt_pair_open(&p, anon, s, "localhost");
	ck_assert_int_eq(tt_pump_handshake(&p), -1);
	ck_assert_int_eq(p.rc_s, TLS_ERR);
	ck_assert_str_ne(tls_conn_error(p.s), "");
	tt_pair_close(&p);

	tt_pair_open(&p, bad, s, "localhost");
	ck_assert_int_eq(tt_pump_handshake(&p), -1);
	ck_assert_int_eq(p.rc_s, TLS_ERR);
	ck_assert_msg(strstr(tls_conn_error(p.s), "verify failed") != NULL,
	    "error: %s", tls_conn_error(p.s));
	tt_pair_close(&p);

	tls_config_free(anon);
	tls_config_free(good);
	tls_config_free(bad);
	tls_config_free(s);
}
END_TEST

Suite *
tls_suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc;

	tc = tcase_create("handshake");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, handshake_ecdsa);
	tcase_add_test(tc, handshake_rsa);
	tcase_add_loop_test(tc, verify_names, 0,
	    sizeof(verify_cases) / sizeof(verify_cases[0]));
	tcase_add_test(tc, wrong_ca_refused);
	tcase_add_test(tc, no_verify_accepts_any);
	tcase_add_loop_test(tc, sni_selects_cert, 0,
	    sizeof(sni_cases) / sizeof(sni_cases[0]));
	tcase_add_test(tc, sni_verified);
	tcase_add_test(tc, client_cert_required);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, key_mode_refused);
	tcase_add_test(tc, key_mismatch_refused);
	tcase_add_test(tc, bad_files_refused);
	tcase_add_test(tc, cert_count_bounded);
	tcase_add_test(tc, config_misuse);
	tcase_add_test(tc, want_events);
	tcase_add_test(tc, config_outlives_owner);
	suite_add_tcase(s, tc);

	suite_add_tcase(s, tls_data_tcase());
	suite_add_tcase(s, tls_peers_tcase());
	return s;
}
