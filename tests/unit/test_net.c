/* Unit tests for common/net. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "suites.h"
#include "testutil.h"

#define WAIT_MS		5000

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until fd has one of events, or the deadline passes. */
static bool
wait_fd(int fd, short events, int ms)
{
	uint64_t	 deadline = now_ms() + (uint64_t)ms, now;
	struct pollfd	 pfd = { .fd = fd, .events = events };
	int		 n;

	while ((now = now_ms()) < deadline) {
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n > 0)
			return true;
		if (n == -1 && errno != EINTR)
			return false;
	}
	return false;
}

static void
assert_nonblock_cloexec(int fd)
{
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
}

static int
sockopt_int(int fd, int level, int name)
{
	int		 v = -1;
	socklen_t	 len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

static const struct {
	const char	*in;
	uint16_t	 defport;
	const char	*want;	/* net_addr_str(), NULL when an error */
	const char	*err;	/* expected in the error */
} parse_cases[] = {
	{ "1.2.3.4:80", 0, "1.2.3.4:80", NULL },
	{ "1.2.3.4", 8080, "1.2.3.4:8080", NULL },
	{ "127.0.0.1:0", 0, "127.0.0.1:0", NULL },
	{ "1.2.3.4:65535", 0, "1.2.3.4:65535", NULL },
	{ "*:80", 0, "0.0.0.0:80", NULL },
	{ ":80", 0, "0.0.0.0:80", NULL },
	{ "*", 443, "0.0.0.0:443", NULL },
	{ "[::1]:443", 0, "[::1]:443", NULL },
	{ "[::1]", 443, "[::1]:443", NULL },
	{ "[::]:80", 0, "[::]:80", NULL },
	{ "[2001:db8::1]:8443", 0, "[2001:db8::1]:8443", NULL },
	{ "[::ffff:1.2.3.4]:80", 0, "[::ffff:1.2.3.4]:80", NULL },
	{ "[fe80::1%lo]:80", 0, "[fe80::1%lo]:80", NULL },
	{ "unix:/run/stackd/lbd.sock", 0, "unix:/run/stackd/lbd.sock", NULL },
	{ "unix:rel.sock", 0, "unix:rel.sock", NULL },
	{ "1.2.3.4", 0, NULL, "1.2.3.4: port required" },
	{ "[::1]", 0, NULL, "[::1]: port required" },
	{ "1.2.3.4:65536", 0, NULL, "1.2.3.4:65536: port 65536 out of range" },
	{ "1.2.3.4:99999", 0, NULL, "port 99999 out of range" },
	{ "1.2.3.4:123456", 0, NULL, "bad port '123456'" },
	{ "1.2.3.4:abc", 0, NULL, "1.2.3.4:abc: bad port 'abc'" },
	{ "1.2.3.4:-1", 0, NULL, "bad port '-1'" },
	{ "1.2.3.4:+80", 0, NULL, "bad port '+80'" },
	{ "1.2.3.4:8 0", 0, NULL, "bad port '8 0'" },
	{ "1.2.3.4:", 80, NULL, "missing port" },
	{ "[::1:443", 0, NULL, "[::1:443: missing ']'" },
	{ "[::1]443", 0, NULL, "expected ':port' after ']'" },
	{ "[]:80", 0, NULL, "empty address in brackets" },
	{ "::1", 80, NULL, "IPv6 addresses need brackets" },
	{ "2001:db8::1:80", 0, NULL, "IPv6 addresses need brackets" },
	{ "[1.2.3.4]:80", 0, NULL, "bad IPv6 address '1.2.3.4'" },
	{ "[fe80::1%nosuchif9]:80", 0, NULL, "unknown interface 'nosuchif9'" },
	{ "[fe80::1%]:80", 0, NULL, "empty scope" },
	{ "localhost:80", 0, NULL, "'localhost' is not a numeric" },
	{ "1.2.3.256:80", 0, NULL, "'1.2.3.256' is not a numeric" },
	{ "1.2.3:80", 0, NULL, "'1.2.3' is not a numeric" },
	{ "", 80, NULL, "empty address" },
	{ "unix:", 0, NULL, "empty unix socket path" },
};

START_TEST(addr_parse_table)
{
	struct net_addr	 a;
	char		 err[256], str[NET_ADDRSTRLEN];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		err[0] = '\0';
		rc = net_addr_parse(parse_cases[i].in, parse_cases[i].defport,
		    &a, err, sizeof(err));
		if (parse_cases[i].want == NULL) {
			ck_assert_msg(rc == -1, "%s: accepted",
			    parse_cases[i].in);
			ck_assert_msg(strstr(err, parse_cases[i].err) != NULL,
			    "%s: error '%s', want '%s'", parse_cases[i].in,
			    err, parse_cases[i].err);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: %s", parse_cases[i].in, err);
		ck_assert_ptr_nonnull(net_addr_str(&a, str, sizeof(str)));
		ck_assert_str_eq(str, parse_cases[i].want);
	}
}
END_TEST

START_TEST(addr_parse_fields)
{
	struct net_addr	 a;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;
	char		 err[256], host[NET_ADDRSTRLEN];

	ck_assert_int_eq(net_addr_parse("10.0.0.1:8080", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(a.ss.ss_family, AF_INET);
	ck_assert_uint_eq(a.len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(net_addr_port(&a), 8080);
	ck_assert_int_eq(net_addr_host(&a, host, sizeof(host)), 8);
	ck_assert_str_eq(host, "10.0.0.1");
	ck_assert_int_eq(net_addr_parse("[::1]:3306", 0, &a, err,
	    sizeof(err)), 0);
	net_addr_host(&a, host, sizeof(host));
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(net_addr_parse("unix:/run/x.sock", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(net_addr_host(&a, host, sizeof(host)), 0);
	ck_assert_str_eq(host, "");

	ck_assert_int_eq(net_addr_parse("[fe80::1%lo]:80", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(a.ss.ss_family, AF_INET6);
	ck_assert_uint_eq(sin6->sin6_scope_id, if_nametoindex("lo"));
	ck_assert_uint_ne(sin6->sin6_scope_id, 0);
	ck_assert_uint_eq(net_addr_port(&a), 80);

	/* A numeric scope is taken as the interface index. */
	ck_assert_int_eq(net_addr_parse("[fe80::1%7]:80", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(sin6->sin6_scope_id, 7);

	ck_assert_int_eq(net_addr_parse("unix:/tmp/x", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(a.ss.ss_family, AF_UNIX);
	ck_assert_uint_eq(net_addr_port(&a), 0);
}
END_TEST

START_TEST(addr_unix_path_length)
{
	struct net_addr	 a;
	char		 s[sizeof(((struct sockaddr_un *)NULL)->sun_path) + 16];
	char		 err[256], str[NET_ADDRSTRLEN];
	size_t		 max = sizeof(s) - 16 - 1;

	/* The longest path that fits, with its NUL, in sun_path. */
	strcpy(s, "unix:/");
	memset(s + 6, 'a', max - 1);
	s[5 + max] = '\0';
	ck_assert_int_eq(net_addr_parse(s, 0, &a, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(net_addr_str(&a, str, sizeof(str)));
	ck_assert_str_eq(str, s);
	/* One more byte is refused, not cut. */
	s[5 + max] = 'a';
	s[6 + max] = '\0';
	ck_assert_int_eq(net_addr_parse(s, 0, &a, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unix socket path too long"));
	ck_assert_ptr_nonnull(strstr(err, "at most 107"));
}
END_TEST

START_TEST(addr_str_roundtrip_and_equal)
{
	struct net_addr	 a, b;
	char		 err[256], str[NET_ADDRSTRLEN], tiny[8];
	size_t		 i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		if (parse_cases[i].want == NULL)
			continue;
		ck_assert_int_eq(net_addr_parse(parse_cases[i].in,
		    parse_cases[i].defport, &a, err, sizeof(err)), 0);
		ck_assert_ptr_nonnull(net_addr_str(&a, str, sizeof(str)));
		ck_assert_msg(net_addr_parse(str, 0, &b, err, sizeof(err)) == 0,
		    "%s: %s", str, err);
		ck_assert_msg(net_addr_equal(&a, &b), "%s != %s",
		    parse_cases[i].in, str);
	}

	ck_assert_int_eq(net_addr_parse("1.2.3.4:80", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(net_addr_parse("1.2.3.4:81", 0, &b, err,
	    sizeof(err)), 0);
	ck_assert(!net_addr_equal(&a, &b));
	ck_assert_int_eq(net_addr_parse("[::ffff:1.2.3.4]:80", 0, &b, err,
	    sizeof(err)), 0);
	ck_assert(!net_addr_equal(&a, &b));
	ck_assert_int_eq(net_addr_parse("unix:/a", 0, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(net_addr_parse("unix:/b", 0, &b, err, sizeof(err)), 0);
	ck_assert(!net_addr_equal(&a, &b));
	ck_assert_int_eq(net_addr_parse("[fe80::1%lo]:80", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(net_addr_parse("[fe80::1]:80", 0, &b, err,
	    sizeof(err)), 0);
	ck_assert(!net_addr_equal(&a, &b));

	/* Too small a buffer is an error, not a cut string. */
	ck_assert_int_eq(net_addr_parse("123.123.123.123:65535", 0, &a, err,
	    sizeof(err)), 0);
	errno = 0;
	ck_assert_ptr_null(net_addr_str(&a, tiny, sizeof(tiny)));
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

START_TEST(addr_resolve)
{
	struct net_addr	 out[8];
	char		 err[256], str[NET_ADDRSTRLEN];
	size_t		 n = 99, i;
	bool		 found = false;

	ck_assert_msg(net_addr_resolve("localhost:8080", 0, out, 8, &n, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_ge(n, 1);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(net_addr_port(&out[i]), 8080);
		net_addr_str(&out[i], str, sizeof(str));
		if (strcmp(str, "127.0.0.1:8080") == 0)
			found = true;
	}
	ck_assert(found);

	/* Numeric and unix addresses pass straight through. */
	ck_assert_int_eq(net_addr_resolve("[::1]", 443, out, 8, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(net_addr_str(&out[0], str, sizeof(str)), "[::1]:443");
	ck_assert_int_eq(net_addr_resolve("unix:/x.sock", 0, out, 8, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);

	/* Errors: syntax, port, no room. */
	ck_assert_int_eq(net_addr_resolve("localhost:abc", 0, out, 8, &n, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad port 'abc'"));
	ck_assert_int_eq(net_addr_resolve("localhost", 0, out, 8, &n, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "port required"));
	ck_assert_int_eq(net_addr_resolve("localhost:80", 0, out, 0, &n, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 0 addresses"));
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(net_addr_resolve("1.2.3.4:80", 0, out, 0, &n, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(net_addr_resolve("[zz::1]:80", 0, out, 8, &n, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad IPv6 address 'zz::1'"));
}
END_TEST

/* Listen, connect without blocking, accept, exchange a byte. */
static void
listen_connect_accept(const char *where)
{
	struct net_addr	 a, bound, peer, local;
	char		 err[256], buf[8];
	int		 lfd, cfd, afd;

	ck_assert_int_eq(net_addr_parse(where, 0, &a, err, sizeof(err)), 0);
	lfd = net_listen(&a, 16, 0, err, sizeof(err));
	ck_assert_msg(lfd >= 0, "%s", err);
	assert_nonblock_cloexec(lfd);
	ck_assert_int_eq(sockopt_int(lfd, SOL_SOCKET, SO_REUSEADDR), 1);
	ck_assert_int_eq(net_local_addr(lfd, &bound), 0);
	ck_assert_uint_ne(net_addr_port(&bound), 0);
	ck_assert_int_eq(bound.ss.ss_family, a.ss.ss_family);

	/* Nobody waiting yet: EAGAIN, not a block. */
	errno = 0;
	ck_assert_int_eq(net_accept(lfd, &peer), -1);
	ck_assert_int_eq(errno, EAGAIN);

	cfd = net_connect(&bound, err, sizeof(err));
	ck_assert_msg(cfd >= 0, "%s", err);
	assert_nonblock_cloexec(cfd);
	ck_assert(wait_fd(cfd, POLLOUT, WAIT_MS));
	ck_assert_int_eq(net_connect_finish(cfd), 0);

	ck_assert(wait_fd(lfd, POLLIN, WAIT_MS));
	afd = net_accept(lfd, &peer);
	ck_assert_int_ge(afd, 0);
	assert_nonblock_cloexec(afd);
	ck_assert_int_eq(net_local_addr(cfd, &local), 0);
	ck_assert(net_addr_equal(&peer, &local));

	ck_assert_int_eq(write(cfd, "ping", 4), 4);
	ck_assert(wait_fd(afd, POLLIN, WAIT_MS));
	ck_assert_int_eq(read(afd, buf, sizeof(buf)), 4);
	ck_assert_int_eq(memcmp(buf, "ping", 4), 0);
	close(afd);
	close(cfd);
	close(lfd);
}

START_TEST(tcp_v4_listen_connect_accept)
{
	listen_connect_accept("127.0.0.1:0");
}
END_TEST

START_TEST(tcp_v6_listen_connect_accept)
{
	struct net_addr	 a;
	char		 err[256];
	int		 fd;

	/* Hosts without IPv6 loopback cannot run this test. */
	ck_assert_int_eq(net_addr_parse("[::1]:0", 0, &a, err, sizeof(err)), 0);
	if ((fd = net_listen(&a, 0, 0, err, sizeof(err))) == -1 &&
	    (strstr(err, "family") != NULL || strstr(err, "assign") != NULL)) {
		fprintf(stderr, "net: no IPv6 loopback, skipped: %s\n", err);
		return;
	}
	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert_int_eq(sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	close(fd);
	listen_connect_accept("[::1]:0");
}
END_TEST

START_TEST(tcp_connect_refused)
{
	struct net_addr	 a, bound;
	char		 err[256];
	int		 lfd, cfd;

	ck_assert_int_eq(net_addr_parse("127.0.0.1:0", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_ge(lfd = net_listen(&a, 1, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(net_local_addr(lfd, &bound), 0);
	close(lfd);

	/* Refused at once or when the connect completes: both are errors. */
	err[0] = '\0';
	if ((cfd = net_connect(&bound, err, sizeof(err))) == -1) {
		ck_assert_ptr_nonnull(strstr(err, "connect 127.0.0.1:"));
		return;
	}
	ck_assert(wait_fd(cfd, POLLOUT, WAIT_MS));
	errno = 0;
	ck_assert_int_eq(net_connect_finish(cfd), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	close(cfd);
}
END_TEST

START_TEST(tcp_reuseport_two_listeners)
{
	struct net_addr	 a, bound;
	char		 err[256], want[NET_ADDRSTRLEN + 8];
	struct pollfd	 pfd[2];
	int		 l1, l2, l3, cfd, afd;

	ck_assert_int_eq(net_addr_parse("127.0.0.1:0", 0, &a, err,
	    sizeof(err)), 0);
	l1 = net_listen(&a, 16, NET_REUSEPORT, err, sizeof(err));
	ck_assert_msg(l1 >= 0, "%s", err);
	ck_assert_int_eq(sockopt_int(l1, SOL_SOCKET, SO_REUSEPORT), 1);
	ck_assert_int_eq(net_local_addr(l1, &bound), 0);
	l2 = net_listen(&bound, 16, NET_REUSEPORT, err, sizeof(err));
	ck_assert_msg(l2 >= 0, "%s", err);

	/* Without the flag the port is taken; the error names it. */
	l3 = net_listen(&bound, 16, 0, err, sizeof(err));
	ck_assert_int_eq(l3, -1);
	snprintf(want, sizeof(want), "bind ");
	net_addr_str(&bound, want + 5, sizeof(want) - 5);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "in use"));

	/* A connection lands on one of the two. */
	ck_assert_int_ge(cfd = net_connect(&bound, err, sizeof(err)), 0);
	pfd[0] = (struct pollfd){ .fd = l1, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = l2, .events = POLLIN };
	ck_assert_int_ge(poll(pfd, 2, WAIT_MS), 1);
	afd = net_accept(pfd[0].revents & POLLIN ? l1 : l2, NULL);
	ck_assert_int_ge(afd, 0);
	close(afd);
	close(cfd);
	close(l1);
	close(l2);
}
END_TEST

START_TEST(socket_options)
{
	struct net_addr	 a;
	char		 err[256];
	int		 lfd, fd, sv[2];

	ck_assert_int_eq(net_addr_parse("127.0.0.1:0", 0, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_ge(lfd = net_listen(&a, 1, 0, err, sizeof(err)), 0);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);

	ck_assert_int_eq(net_set_nonblock(fd, true), 0);
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(net_set_nonblock(fd, false), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);

	ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 0);
	ck_assert_int_eq(net_set_nodelay(fd), 0);
	ck_assert_int_ne(sockopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 0);

	ck_assert_int_eq(net_set_keepalive(fd, true, 42), 0);
	ck_assert_int_ne(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE), 42);
	ck_assert_int_eq(net_set_keepalive(fd, false, 0), 0);
	ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);

	/* Unix sockets: TCP options are a no-op, not an error. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(net_set_nodelay(sv[0]), 0);
	ck_assert_int_eq(net_set_keepalive(sv[0], true, 10), 0);
	close(sv[0]);
	close(sv[1]);

	/* Not a socket / not an fd. */
	ck_assert_int_eq(pipe(sv), 0);
	errno = 0;
	ck_assert_int_eq(net_set_nodelay(sv[0]), -1);
	ck_assert_int_eq(errno, ENOTSOCK);
	ck_assert_int_eq(net_set_keepalive(sv[0], true, 1), -1);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(net_set_nonblock(-1, true), -1);
	ck_assert_int_eq(net_connect_finish(-1), -1);
	close(fd);
	close(lfd);
}
END_TEST

static int
connect_unix(const struct net_addr *a)
{
	char	 err[256];
	int	 fd;

	fd = net_connect(a, err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert(wait_fd(fd, POLLOUT, WAIT_MS));
	ck_assert_int_eq(net_connect_finish(fd), 0);
	return fd;
}

START_TEST(unix_listen_stale_and_live)
{
	struct tmpdir	 t;
	struct net_addr	 a, peer;
	struct stat	 st;
	char		 err[256], spec[300], str[NET_ADDRSTRLEN];
	const char	*path;
	int		 lfd, lfd2, cfd, afd, fd;

	tmpdir_make(&t, "net");
	path = tmpdir_file(&t, "ctl.sock");
	snprintf(spec, sizeof(spec), "unix:%s", path);
	ck_assert_int_eq(net_addr_parse(spec, 0, &a, err, sizeof(err)), 0);

	lfd = net_listen(&a, 0, 0, err, sizeof(err));
	ck_assert_msg(lfd >= 0, "%s", err);
	assert_nonblock_cloexec(lfd);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, NET_UNIX_MODE);

	cfd = connect_unix(&a);
	ck_assert(wait_fd(lfd, POLLIN, WAIT_MS));
	ck_assert_int_ge(afd = net_accept(lfd, &peer), 0);
	ck_assert_int_eq(peer.ss.ss_family, AF_UNIX);
	ck_assert_str_eq(net_addr_str(&peer, str, sizeof(str)), "unix:");
	ck_assert_int_eq(net_local_addr(lfd, &peer), 0);
	ck_assert(net_addr_equal(&peer, &a));
	close(afd);
	close(cfd);

	/* A live listener is never replaced. */
	errno = 0;
	ck_assert_int_eq(net_listen(&a, 0, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	ck_assert_msg(strstr(err, "address in use") != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, path));

	/* Closed without unlink (a crash): the stale file is replaced. */
	close(lfd);
	ck_assert_int_eq(stat(path, &st), 0);
	lfd2 = net_listen_unix(path, 0600, 0, err, sizeof(err));
	ck_assert_msg(lfd2 >= 0, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	cfd = connect_unix(&a);
	ck_assert(wait_fd(lfd2, POLLIN, WAIT_MS));
	ck_assert_int_ge(afd = net_accept(lfd2, NULL), 0);
	close(afd);
	close(cfd);
	close(lfd2);
	ck_assert_int_eq(unlink(path), 0);

	/* Anything but a socket is left alone. */
	path = tmpdir_file(&t, "file");
	ck_assert_int_ge(fd = open(path, O_CREAT | O_WRONLY, 0644), 0);
	close(fd);
	ck_assert_int_eq(net_listen_unix(path, 0600, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "exists and is not a socket"));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(unlink(path), 0);

	path = tmpdir_file(&t, "missing/x.sock");
	ck_assert_int_eq(net_listen_unix(path, 0600, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(net_listen_unix("", 0600, 0, err, sizeof(err)), -1);

	ck_assert_int_eq(rmdir(t.dir), 0);
}
END_TEST

START_TEST(unix_listen_too_long_and_bad_connect)
{
	struct net_addr	 a;
	char		 path[300], err[256];
	int		 fd;

	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	errno = 0;
	ck_assert_int_eq(net_listen_unix(path, 0600, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_ptr_nonnull(strstr(err, "too long"));

	/* Connecting to a path nobody listens on fails at once. */
	ck_assert_int_eq(net_addr_parse("unix:/nonexistent/stackd.sock", 0, &a,
	    err, sizeof(err)), 0);
	fd = net_connect(&a, err, sizeof(err));
	ck_assert_int_eq(fd, -1);
	ck_assert_ptr_nonnull(strstr(err,
	    "connect unix:/nonexistent/stackd.sock"));
}
END_TEST

static const struct {
	const char	*in;
	const char	*want;	/* net_cidr_str(), NULL when an error */
	const char	*err;
} cidr_cases[] = {
	{ "10.0.0.0/8", "10.0.0.0/8", NULL },
	{ "192.168.1.7", "192.168.1.7/32", NULL },
	{ "192.168.1.7/32", "192.168.1.7/32", NULL },
	{ "0.0.0.0/0", "0.0.0.0/0", NULL },
	{ "172.16.0.0/12", "172.16.0.0/12", NULL },
	{ "2001:db8::/32", "2001:db8::/32", NULL },
	{ "::1", "::1/128", NULL },
	{ "::/0", "::/0", NULL },
	{ "fe80::/10", "fe80::/10", NULL },
	{ "10.1.0.0/8", NULL,
	    "10.1.0.0/8: host bits set, did you mean 10.0.0.0/8" },
	{ "192.168.1.1/31", NULL, "did you mean 192.168.1.0/31" },
	{ "1.2.3.4/0", NULL, "did you mean 0.0.0.0/0" },
	{ "2001:db8::1/32", NULL, "host bits set, did you mean 2001:db8::/32" },
	{ "10.0.0.0/33", NULL, "10.0.0.0/33: bad prefix length '33' (0-32)" },
	{ "::/129", NULL, "bad prefix length '129' (0-128)" },
	{ "10.0.0.0/99999999999", NULL, "bad prefix length '99999999999'" },
	{ "10.0.0.0/x", NULL, "bad prefix length 'x'" },
	{ "10.0.0.0/-1", NULL, "bad prefix length '-1'" },
	{ "10.0.0.0/8/8", NULL, "bad prefix length '8/8'" },
	{ "10.0.0.0/", NULL, "missing prefix length" },
	{ "/8", NULL, "missing address" },
	{ "", NULL, "missing address" },
	{ "abc/8", NULL, "bad address 'abc'" },
	{ "10.0.0/8", NULL, "bad address '10.0.0'" },
	{ "fe80::1%lo", NULL, "bad address" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/8", NULL,
	    "too long" },
};

START_TEST(cidr_parse_table)
{
	struct net_cidr	 c;
	char		 err[256], str[NET_CIDRSTRLEN];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		err[0] = '\0';
		rc = net_cidr_parse(cidr_cases[i].in, &c, err, sizeof(err));
		if (cidr_cases[i].want == NULL) {
			ck_assert_msg(rc == -1, "%s: accepted",
			    cidr_cases[i].in);
			ck_assert_msg(strstr(err, cidr_cases[i].err) != NULL,
			    "%s: error '%s', want '%s'", cidr_cases[i].in, err,
			    cidr_cases[i].err);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: %s", cidr_cases[i].in, err);
		ck_assert_ptr_nonnull(net_cidr_str(&c, str, sizeof(str)));
		ck_assert_str_eq(str, cidr_cases[i].want);
	}
	ck_assert_int_eq(net_cidr_parse("10.0.0.0/8", &c, err, sizeof(err)), 0);
	errno = 0;
	ck_assert_ptr_null(net_cidr_str(&c, str, 5));
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

static const struct {
	const char	*cidr;
	const char	*addr;
	bool		 match;
} match_cases[] = {
	{ "10.0.0.0/8", "10.1.2.3:80", true },
	{ "10.0.0.0/8", "10.255.255.255:80", true },
	{ "10.0.0.0/8", "11.0.0.0:80", false },
	{ "10.0.0.0/8", "9.255.255.255:80", false },
	{ "10.0.0.0/8", "[::ffff:10.9.9.9]:80", true },
	{ "10.0.0.0/8", "[::ffff:11.9.9.9]:80", false },
	{ "10.0.0.0/8", "[::a09:909]:80", false },	/* v4-compatible */
	{ "10.0.0.0/8", "[::1]:80", false },
	{ "10.0.0.0/8", "unix:/x", false },
	{ "0.0.0.0/0", "1.2.3.4:1", true },
	{ "0.0.0.0/0", "255.255.255.255:1", true },
	{ "0.0.0.0/0", "[::ffff:1.2.3.4]:1", true },
	{ "0.0.0.0/0", "[::1]:1", false },
	{ "192.168.1.7", "192.168.1.7:1", true },
	{ "192.168.1.7", "192.168.1.6:1", false },
	{ "192.168.1.7/32", "[::ffff:192.168.1.7]:1", true },
	{ "192.168.1.6/31", "192.168.1.7:1", true },
	{ "192.168.1.6/31", "192.168.1.8:1", false },
	{ "192.168.1.0/25", "192.168.1.127:1", true },
	{ "192.168.1.0/25", "192.168.1.128:1", false },
	{ "2001:db8::/32", "[2001:db8:ffff::1]:1", true },
	{ "2001:db8::/32", "[2001:db9::1]:1", false },
	{ "2001:db8::/32", "1.2.3.4:1", false },
	{ "2001:db8::/33", "[2001:db8:7fff::1]:1", true },
	{ "2001:db8::/33", "[2001:db8:8000::]:1", false },
	{ "::1", "[::1]:1", true },
	{ "::1", "[::2]:1", false },
	{ "::/0", "[2001:db8::1]:1", true },
	{ "::/0", "1.2.3.4:1", false },
	{ "::ffff:0:0/96", "[::ffff:1.2.3.4]:1", true },
	{ "::ffff:0:0/96", "1.2.3.4:1", false },
	{ "fe80::/10", "[fe80::1%lo]:1", true },
	{ "fe80::/10", "[fec0::1]:1", false },
};

START_TEST(cidr_match_table)
{
	struct net_cidr	 c;
	struct net_addr	 a;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		ck_assert_msg(net_cidr_parse(match_cases[i].cidr, &c, err,
		    sizeof(err)) == 0, "%s: %s", match_cases[i].cidr, err);
		ck_assert_msg(net_addr_parse(match_cases[i].addr, 0, &a, err,
		    sizeof(err)) == 0, "%s: %s", match_cases[i].addr, err);
		ck_assert_msg(net_cidr_match(&c, &a) == match_cases[i].match,
		    "%s vs %s: want %s", match_cases[i].cidr,
		    match_cases[i].addr, match_cases[i].match ? "match" :
		    "no match");
	}
}
END_TEST

Suite *
net_suite(void)
{
	Suite	*s = suite_create("net");
	TCase	*tc_addr = tcase_create("addr");
	TCase	*tc_sock = tcase_create("socket");
	TCase	*tc_cidr = tcase_create("cidr");

	tcase_add_test(tc_addr, addr_parse_table);
	tcase_add_test(tc_addr, addr_parse_fields);
	tcase_add_test(tc_addr, addr_unix_path_length);
	tcase_add_test(tc_addr, addr_str_roundtrip_and_equal);
	tcase_add_test(tc_addr, addr_resolve);
	suite_add_tcase(s, tc_addr);

	tcase_add_test(tc_sock, tcp_v4_listen_connect_accept);
	tcase_add_test(tc_sock, tcp_v6_listen_connect_accept);
	tcase_add_test(tc_sock, tcp_connect_refused);
	tcase_add_test(tc_sock, tcp_reuseport_two_listeners);
	tcase_add_test(tc_sock, socket_options);
	tcase_add_test(tc_sock, unix_listen_stale_and_live);
	tcase_add_test(tc_sock, unix_listen_too_long_and_bad_connect);
	suite_add_tcase(s, tc_sock);

	tcase_add_test(tc_cidr, cidr_parse_table);
	tcase_add_test(tc_cidr, cidr_match_table);
	suite_add_tcase(s, tc_cidr);
	return s;
}
