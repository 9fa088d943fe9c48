/* Unit tests for common/tls against real peers: openssl s_server and
 * s_client, spawned by the test and killed in the fixture teardown (and
 * by PR_SET_PDEATHSIG if an assertion ends the test process first). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tls_test.h"

/* ---- real peers: openssl s_server and s_client ------------------------ */

#define MAX_CHILDREN	4
static pid_t	 children[MAX_CHILDREN];

/* Start argv with stdin/stdout on pipes (NULL: /dev/null). The child dies
 * with the test process even if an assertion ends it early. */
static pid_t
spawn(char *const argv[], int *to_child, int *from_child)
{
	int	 in[2], out[2], devnull, i;
	pid_t	 pid, parent = getpid();

	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		devnull = open("/dev/null", O_RDWR);
		dup2(to_child ? in[0] : devnull, 0);
		dup2(from_child ? out[1] : devnull, 1);
		dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (to_child)
		*to_child = in[1];
	else
		close(in[1]);
	if (from_child)
		*from_child = out[0];
	else
		close(out[0]);
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == 0) {
			children[i] = pid;
			return pid;
		}
	ck_abort_msg("too many children");
	return -1;
}

static void
peers_setup(void)
{
	memset(children, 0, sizeof(children));
	signal(SIGPIPE, SIG_IGN);
}

static void
peers_teardown(void)
{
	int	 i;

	for (i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] <= 0)
			continue;
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
		children[i] = 0;
	}
}

/* A port that was free a moment ago (the child binds it). */
static int
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t	 len = sizeof(sin);
	int		 fd, port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Connect to 127.0.0.1:port, retrying until the server listens. -1 if
 * the server process died (port taken) or the deadline passed. */
static int
connect_retry(int port, pid_t server)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	uint64_t	 deadline = tt_now_ms() + 10000;
	int		 fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	while (tt_now_ms() < deadline) {
		ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			tt_set_nonblock(fd);
			return fd;
		}
		close(fd);
		if (waitpid(server, NULL, WNOHANG) == server)
			return -1;
		usleep(20000);
	}
	return -1;
}

static void
handshake_fd(struct tls_conn *c, int fd)
{
	uint64_t	 deadline = tt_now_ms() + TT_DEADLINE_MS;
	int		 rc;

	while ((rc = tls_handshake(c)) != 0) {
		ck_assert_msg(rc != TLS_ERR, "handshake: %s", tls_conn_error(c));
		poll(&(struct pollfd){ fd, tt_poll_events(rc), 0 }, 1, 1000);
		ck_assert_msg(tt_now_ms() < deadline, "handshake stalled");
	}
}

/* Read until EOF into buf (NUL-terminated). */
static size_t
read_to_eof(struct tls_conn *c, int fd, char *buf, size_t len)
{
	uint64_t	 deadline = tt_now_ms() + TT_DEADLINE_MS;
	size_t		 off = 0;
	ssize_t		 n;

	for (;;) {
		ck_assert_uint_lt(off, len - 1);
		n = tls_read(c, buf + off, len - 1 - off);
		if (n == 0)
			break;
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		ck_assert_msg(n != TLS_ERR, "read: %s", tls_conn_error(c));
		poll(&(struct pollfd){ fd, tt_poll_events((int)n), 0 }, 1, 1000);
		ck_assert_msg(tt_now_ms() < deadline, "read stalled");
	}
	buf[off] = '\0';
	return off;
}

START_TEST(interop_openssl_s_server)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	static const char *const names[] = { "127.0.0.1", "localhost",
	    "localhost" };
	struct tls_config *c = tt_client_cfg("ca.crt", true);
	struct tls_session *sess = NULL;
	struct tls_conn	*conn;
	char		 port_s[16], crt[PATH_MAX], key[PATH_MAX];
	static char	 page[65536];
	char		*argv[] = { "openssl", "s_server", "-tls1_2", "-www",
	    "-cert", tt_certpath(crt, sizeof(crt), "server.crt"),
	    "-key", tt_certpath(key, sizeof(key), "server.key"),
	    "-accept", NULL, NULL };
	pid_t		 pid;
	int		 fd = -1, tries, i;

	for (tries = 0; tries < 3 && fd == -1; tries++) {
		snprintf(port_s, sizeof(port_s), "127.0.0.1:%d", free_port());
		argv[9] = port_s;
		pid = spawn(argv, NULL, NULL);
		fd = connect_retry(atoi(strchr(port_s, ':') + 1), pid);
	}
	ck_assert_msg(fd != -1, "openssl s_server did not start");

	/* Third connection resumes the second's session with a real peer. */
	for (i = 0; i < 3; i++) {
		if (i > 0)
			ck_assert_int_ne(fd = connect_retry(
			    atoi(strchr(port_s, ':') + 1), pid), -1);
		conn = tls_conn_new(c, fd, names[i], tt_err, sizeof(tt_err));
		ck_assert_msg(conn != NULL, "%s", tt_err);
		if (sess != NULL) {
			ck_assert_int_eq(tls_conn_set_session(conn, sess, tt_err,
			    sizeof(tt_err)), 0);
			tls_session_free(sess);
			sess = NULL;
		}
		handshake_fd(conn, fd);
		ck_assert_str_eq(tls_conn_version(conn), "TLSv1.2");
		ck_assert_int_eq(tls_conn_resumed(conn), i == 2);
		tt_write_all(conn, fd, req, sizeof(req) - 1);
		read_to_eof(conn, fd, page, sizeof(page));
		ck_assert_msg(strncmp(page, "HTTP/1.0 200 ok", 15) == 0,
		    "page: %.80s", page);
		/* s_server reports what was negotiated. */
		ck_assert_ptr_nonnull(strstr(page, "TLSv1.2"));
		ck_assert_ptr_nonnull(strstr(page, "ECDHE-ECDSA"));
		ck_assert(tls_conn_eof_clean(conn));
		if (i == 1) {
			sess = tls_conn_get_session(conn, tt_err, sizeof(tt_err));
			ck_assert_msg(sess != NULL, "%s", tt_err);
		}
		tls_conn_free(conn);
		close(fd);
	}
	tls_config_free(c);
}
END_TEST

START_TEST(interop_openssl_s_client)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t	 slen = sizeof(sin);
	struct tls_config *s = tt_server_cfg(NULL, "server.crt", "server.key");
	struct tls_conn	*conn;
	char		 connect_to[32], ca[PATH_MAX], line[64], out[4096];
	char		*argv[] = { "openssl", "s_client", "-connect", NULL,
	    "-CAfile", tt_certpath(ca, sizeof(ca), "ca.crt"),
	    "-verify_return_error", "-verify_hostname", "localhost",
	    "-servername", "localhost", "-quiet", "-nocommands", NULL };
	static const char hello[] = "hello from s_client\n";
	static const char reply[] = "hello from stackd\n";
	size_t		 off = 0;
	ssize_t		 n;
	uint64_t	 deadline;
	int		 lfd, fd, to_child, from_child, rc;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(lfd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(connect_to, sizeof(connect_to), "127.0.0.1:%d",
	    ntohs(sin.sin_port));
	argv[3] = connect_to;
	spawn(argv, &to_child, &from_child);
	ck_assert_int_eq(write(to_child, hello, sizeof(hello) - 1),
	    (ssize_t)sizeof(hello) - 1);

	ck_assert_msg(poll(&(struct pollfd){ lfd, POLLIN, 0 }, 1,
	    TT_DEADLINE_MS) == 1, "s_client did not connect");
	ck_assert_int_ne(fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK), -1);
	conn = tls_conn_new(s, fd, NULL, tt_err, sizeof(tt_err));
	ck_assert_msg(conn != NULL, "%s", tt_err);
	handshake_fd(conn, fd);
	ck_assert_str_eq(tls_conn_sni(conn), "localhost");
	tt_read_exact(conn, fd, line, sizeof(hello) - 1);
	ck_assert_int_eq(memcmp(line, hello, sizeof(hello) - 1), 0);
	tt_write_all(conn, fd, reply, sizeof(reply) - 1);

	/* s_client prints what it received on its stdout. */
	deadline = tt_now_ms() + TT_DEADLINE_MS;
	while (off < sizeof(out) - 1) {
		out[off] = '\0';
		if (strstr(out, reply) != NULL)
			break;
		ck_assert_msg(poll(&(struct pollfd){ from_child, POLLIN, 0 },
		    1, 1000) >= 0 && tt_now_ms() < deadline, "no reply seen");
		n = read(from_child, out + off, sizeof(out) - 1 - off);
		ck_assert_msg(n != 0, "s_client exited, output: %s", out);
		if (n > 0)
			off += (size_t)n;
	}
	ck_assert_ptr_nonnull(strstr(out, reply));
	while ((rc = tls_close(conn)) == TLS_WANT_WRITE)
		poll(&(struct pollfd){ fd, POLLOUT, 0 }, 1, 1000);
	ck_assert_int_eq(rc, 0);
	tls_conn_free(conn);
	close(fd);
	close(lfd);
	close(to_child);
	close(from_child);
	tls_config_free(s);
}
END_TEST

/* What our server accepts from a real client: the policy in tls.h. A
 * refusal must come from our side, for the stated reason. */
static const struct {
	const char	*what;
	const char	*cert;		/* server certificate, .crt/.key */
	const char	*args[4];	/* extra s_client arguments */
	bool		 ok;
	const char	*expect;	/* in the cipher, or in the error */
	const char	*group;		/* ECDHE group s_client reports */
} policy_cases[] = {
	{ "default", "server", { "-tls1_2" }, true,
	    "ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "X25519" },
	{ "aes256", "server", { "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384" },
	    true, "AES-256-GCM", NULL },
	{ "chacha20", "server", { "-cipher",
	    "ECDHE-ECDSA-CHACHA20-POLY1305" }, true, "CHACHA20-POLY1305", NULL },
	{ "server order", "server", { "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305:"
	    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256" },
	    true, "AES-128-GCM", NULL },
	{ "rsa", "server-rsa", { "-tls1_2" }, true,
	    "ECDHE-RSA-WITH-AES-128-GCM-SHA256", "X25519" },
	/* The groups a client lists also bound an ECDSA certificate's curve
	 * (RFC 8422 5.1): P-256 must be there for ours. Our order wins. */
	{ "p521 first", "server", { "-curves", "P-521:P-384:P-256" }, true,
	    "ECDHE-ECDSA", "ECDH, prime256v1" },
	{ "p384", "server-rsa", { "-curves", "P-521:P-384" }, true,
	    "ECDHE-RSA", "ECDH, secp384r1" },
	{ "p521", "server-rsa", { "-curves", "P-521" }, false,
	    "ciphersuites", NULL },
	{ "p521 ecdsa", "server", { "-curves", "P-521" }, false,
	    "ciphersuites", NULL },
	{ "cbc", "server", { "-cipher", "ECDHE-ECDSA-AES128-SHA256" }, false,
	    "no ciphersuites in common", NULL },
	{ "no ecdhe", "server-rsa", { "-cipher", "AES128-GCM-SHA256" }, false,
	    "no ciphersuites in common", NULL },
	{ "tls1.1", "server", { "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0" },
	    false, "protocol", NULL },
	/* 1.3 suites only: nothing a 1.2 server can pick. */
	{ "tls1.3", "server", { "-tls1_3" }, false,
	    "no ciphersuites in common", NULL },
};

START_TEST(policy_vs_openssl_s_client)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t	 slen = sizeof(sin);
	struct tls_config *s;
	struct tls_conn	*conn;
	char		 connect_to[32], crtfile[64], keyfile[64];
	char		*argv[16] = { "openssl", "s_client", "-connect", NULL,
	    "-servername", "localhost", "-ign_eof", "-nocommands" };
	char		 out[16384], *key;
	uint64_t	 deadline;
	size_t		 i = (size_t)_i, a, off = 0;
	ssize_t		 nr;
	int		 lfd, fd, to_child, from_child, rc, n = 8;

	out[0] = '\0';
	snprintf(crtfile, sizeof(crtfile), "%s.crt", policy_cases[i].cert);
	snprintf(keyfile, sizeof(keyfile), "%s.key", policy_cases[i].cert);
	s = tt_server_cfg(NULL, crtfile, keyfile);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(lfd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(connect_to, sizeof(connect_to), "127.0.0.1:%d",
	    ntohs(sin.sin_port));
	argv[3] = connect_to;
	for (a = 0; a < 4 && policy_cases[i].args[a] != NULL; a++)
		argv[n++] = (char *)policy_cases[i].args[a];
	/* stdin stays open so s_client waits after the handshake. */
	spawn(argv, &to_child, &from_child);

	ck_assert_msg(poll(&(struct pollfd){ lfd, POLLIN, 0 }, 1,
	    TT_DEADLINE_MS) == 1, "s_client did not connect");
	ck_assert_int_ne(fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK), -1);
	conn = tls_conn_new(s, fd, NULL, tt_err, sizeof(tt_err));
	ck_assert_msg(conn != NULL, "%s", tt_err);
	deadline = tt_now_ms() + TT_DEADLINE_MS;
	while ((rc = tls_handshake(conn)) == TLS_WANT_READ ||
	    rc == TLS_WANT_WRITE) {
		poll(&(struct pollfd){ fd, tt_poll_events(rc), 0 }, 1, 1000);
		ck_assert_msg(tt_now_ms() < deadline, "handshake stalled");
	}
	if (policy_cases[i].ok) {
		ck_assert_msg(rc == 0, "%s: %s", policy_cases[i].what,
		    tls_conn_error(conn));
		ck_assert_msg(strstr(tls_conn_cipher(conn),
		    policy_cases[i].expect) != NULL, "%s: cipher %s",
		    policy_cases[i].what, tls_conn_cipher(conn));
		/* s_client says which group the key exchange used. */
		while ((key = strstr(out, "Server Temp Key:")) == NULL ||
		    strchr(key, '\n') == NULL) {
			ck_assert_uint_lt(off, sizeof(out) - 1);
			poll(&(struct pollfd){ from_child, POLLIN, 0 }, 1,
			    1000);
			nr = read(from_child, out + off, sizeof(out) - 1 - off);
			ck_assert_msg(nr != 0 && tt_now_ms() < deadline,
			    "%s: no temp key in s_client output",
			    policy_cases[i].what);
			if (nr > 0)
				off += (size_t)nr;
			out[off] = '\0';
		}
		if (policy_cases[i].group != NULL)
			ck_assert_msg(strncmp(key + 17, policy_cases[i].group,
			    strlen(policy_cases[i].group)) == 0, "%s: %.40s",
			    policy_cases[i].what, key);
	} else {
		ck_assert_msg(rc == TLS_ERR, "%s accepted with %s",
		    policy_cases[i].what, tls_conn_cipher(conn));
		ck_assert_msg(strstr(tls_conn_error(conn),
		    policy_cases[i].expect) != NULL, "%s: error %s",
		    policy_cases[i].what, tls_conn_error(conn));
	}
	tls_conn_free(conn);
	close(fd);
	close(lfd);
	close(to_child);
	close(from_child);
	tls_config_free(s);
}
END_TEST

TCase *
tls_peers_tcase(void)
{
	TCase	*tc = tcase_create("interop");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, peers_setup, peers_teardown);
	tcase_add_test(tc, interop_openssl_s_server);
	tcase_add_test(tc, interop_openssl_s_client);
	tcase_add_loop_test(tc, policy_vs_openssl_s_client, 0,
	    sizeof(policy_cases) / sizeof(policy_cases[0]));
	return tc;
}
