/* Unit tests for common/proxyproto: v1 and v2 vectors, good and bad, every
 * split of the good ones, the v2 builder through the parser, and taking a
 * header off a socket without touching what follows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxyproto.h"
#include "suites.h"

#define SIG	"\r\n\r\n\0\r\nQUIT\n"

struct vec {
	const char	*name;
	const char	*data;
	size_t		 len;		/* 0: strlen(data) */
	int		 want;		/* header length, or PROXYPROTO_* */
	const char	*src, *dst;	/* net_addr_str; NULL: local */
	const char	*error;		/* a piece of h.error */
};

#define V(d)	d, sizeof(d) - 1

static const struct vec good[] = {
	{ "v1 tcp4", V("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
	    47, "192.168.0.1:56324", "192.168.0.11:443", NULL },
	{ "v1 tcp4 extremes", V("PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n"),
	    44, "255.255.255.255:65535", "0.0.0.0:0", NULL },
	{ "v1 tcp6", V("PROXY TCP6 2001:db8::1 ::1 8080 443\r\n"), 37,
	    "[2001:db8::1]:8080", "[::1]:443", NULL },
	{ "v1 tcp6 longest",
	    V("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF 65535 65535\r\n"), 104,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", NULL },
	{ "v1 unknown short", V("PROXY UNKNOWN\r\n"), 15, NULL, NULL, NULL },
	{ "v1 unknown longest, 107 bytes",
	    V("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"), 107,
	    NULL, NULL, NULL },
	{ "v2 proxy tcp4", V(SIG "\x21\x11\x00\x0c" "\xac\x13\x00\x01"
	    "\xac\x13\x00\x03" "\xa6\x52\x00\x50"), 28, "172.19.0.1:42578",
	    "172.19.0.3:80", NULL },
	{ "v2 proxy tcp6", V(SIG "\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01" "\x01\xbb\x00\x50"), 52,
	    "[2001:db8::1]:443", "[::1]:80", NULL },
	{ "v2 local", V(SIG "\x20\x00\x00\x00"), 16, NULL, NULL, NULL },
	{ "v2 local with an ignored address block", V(SIG "\x20\x11\x00\x0c"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02"), 28, NULL, NULL,
	    NULL },
	{ "v2 proxy unspec", V(SIG "\x21\x00\x00\x00"), 16, NULL, NULL, NULL },
	{ "v2 proxy with TLVs (noop, authority, empty)",
	    V(SIG "\x21\x11\x00\x1c" "\x0a\x00\x00\x01" "\x0a\x00\x00\x02"
	    "\x04\xd2\x00\x50" "\x04\x00\x02\xff\xff"
	    "\x02\x00\x05" "a.com" "\xe0\x00\x00"), 44, "10.0.0.1:1234",
	    "10.0.0.2:80", NULL },
};

static const struct vec bad[] = {
	{ "http request", V("GET / HTTP/1.1\r\n"), PROXYPROTO_ERROR, NULL, NULL,
	    "not a PROXY" },
	{ "TLS ClientHello", V("\x16\x03\x01\x02\x00\x01"), PROXYPROTO_ERROR,
	    NULL, NULL, "not a PROXY" },
	{ "v1 lower case", V("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "not a PROXY" },
	{ "v1 no space after PROXY", V("PROXYTCP4"), PROXYPROTO_ERROR, NULL,
	    NULL, "expected \"PROXY \"" },
	{ "v1 two spaces", V("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "one space" },
	{ "v1 trailing space", V("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "one space" },
	{ "v1 too many fields", V("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "more fields" },
	{ "v1 tab", V("PROXY TCP4\t1.2.3.4"), PROXYPROTO_ERROR, NULL, NULL,
	    "printable" },
	{ "v1 empty", V("PROXY \r\n"), PROXYPROTO_ERROR, NULL, NULL, "TCP4, TCP6" },
	{ "v1 unknown protocol", V("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "TCP4, TCP6 or UNKNOWN" },
	{ "v1 UNKNOWNX", V("PROXY UNKNOWNX\r\n"), PROXYPROTO_ERROR, NULL, NULL,
	    "TCP4, TCP6 or UNKNOWN" },
	{ "v1 too few fields", V("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "PROTO SRC DST" },
	{ "v1 leading zero in an address", V("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "source address" },
	{ "v1 octet over 255", V("PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "destination address" },
	{ "v1 three octets", V("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "source address" },
	{ "v1 five octets", V("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "source address" },
	{ "v1 empty octet", V("PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "source address" },
	{ "v1 TCP4 with IPv6", V("PROXY TCP4 ::1 ::1 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "TCP4 source" },
	{ "v1 TCP6 with IPv4", V("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "TCP6 source" },
	{ "v1 TCP6 with a dotted quad", V("PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "TCP6 source" },
	{ "v1 TCP6 with two ::", V("PROXY TCP6 1::2::3 ::1 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "TCP6 source" },
	{ "v1 TCP6 group of five digits", V("PROXY TCP6 ::1 1:00001:: 1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "TCP6 destination" },
	{ "v1 port with a leading zero", V("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "ports" },
	{ "v1 port over 65535", V("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "ports" },
	{ "v1 negative port", V("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "ports" },
	{ "v1 LF alone", V("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "LF without CR" },
	{ "v1 CR alone", V("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"),
	    PROXYPROTO_ERROR, NULL, NULL, "CR without LF" },
	{ "v1 108 bytes",
	    V("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655355\r\n"),
	    PROXYPROTO_ERROR, NULL, NULL, "107" },
	{ "v2 bad signature", V("\r\n\r\n\0\r\nQUIZ\n\x21\x11\x00\x00"),
	    PROXYPROTO_ERROR, NULL, NULL, "signature" },
	{ "v2 version 1", V(SIG "\x11\x11\x00\x0c"), PROXYPROTO_ERROR, NULL,
	    NULL, "version" },
	{ "v2 version 3", V(SIG "\x31\x11\x00\x0c"), PROXYPROTO_ERROR, NULL,
	    NULL, "version" },
	{ "v2 command 2", V(SIG "\x22\x11\x00\x0c"), PROXYPROTO_ERROR, NULL,
	    NULL, "command" },
	{ "v2 family 4", V(SIG "\x21\x41\x00\x00"), PROXYPROTO_ERROR, NULL,
	    NULL, "unassigned" },
	{ "v2 protocol 3", V(SIG "\x21\x13\x00\x00"), PROXYPROTO_ERROR, NULL,
	    NULL, "unassigned" },
	{ "v2 proxy over UDP", V(SIG "\x21\x12\x00\x0c" "\x01\x02\x03\x04"
	    "\x05\x06\x07\x08\x00\x01\x00\x02"), PROXYPROTO_ERROR, NULL, NULL,
	    "other than TCP" },
	{ "v2 tcp4 block too short", V(SIG "\x21\x11\x00\x0b" "\x01\x02\x03\x04"
	    "\x05\x06\x07\x08\x00\x01\x00"), PROXYPROTO_ERROR, NULL, NULL,
	    "shorter" },
	{ "v2 truncated TLV", V(SIG "\x21\x11\x00\x0e" "\x01\x02\x03\x04"
	    "\x05\x06\x07\x08\x00\x01\x00\x02" "\x04\x00"), PROXYPROTO_ERROR,
	    NULL, NULL, "truncated TLV" },
	{ "v2 TLV past the end", V(SIG "\x21\x11\x00\x10" "\x01\x02\x03\x04"
	    "\x05\x06\x07\x08\x00\x01\x00\x02" "\x04\x00\x02\xff"),
	    PROXYPROTO_ERROR, NULL, NULL, "TLV longer" },
	{ "v2 longer than the bound", V(SIG "\x21\x11\x07\xf1"),
	    PROXYPROTO_ERROR, NULL, NULL, "longer than 2048" },
};

static size_t
vec_len(const struct vec *v)
{
	return v->len ? v->len : strlen(v->data);
}

static void
expect_addr(const struct net_addr *a, const char *want)
{
	char	 s[NET_ADDRSTRLEN];

	ck_assert_ptr_nonnull(net_addr_str(a, s, sizeof(s)));
	ck_assert_str_eq(s, want);
}

static void
expect(const struct vec *v, const char *data, size_t len)
{
	struct proxyproto_hdr h;
	int	 rv = proxyproto_parse(data, len, &h);

	ck_assert_msg(rv == v->want, "%s: got %d (%s), want %d", v->name, rv,
	    h.error ? h.error : "", v->want);
	if (rv == PROXYPROTO_ERROR) {
		ck_assert_ptr_nonnull(h.error);
		ck_assert_msg(strstr(h.error, v->error) != NULL,
		    "%s: error \"%s\" lacks \"%s\"", v->name, h.error, v->error);
		return;
	}
	if (rv == PROXYPROTO_NEED_MORE)
		return;
	ck_assert_int_eq(h.version, v->data[0] == 'P' ? 1 : 2);
	ck_assert_msg(h.local == (v->src == NULL), "%s: local %d", v->name,
	    h.local);
	if (v->src != NULL) {
		expect_addr(&h.src, v->src);
		expect_addr(&h.dst, v->dst);
	}
}

/* Each piece from its own exact-size copy: a read past it shows in ASan. */
static void
expect_copy(const struct vec *v, const char *data, size_t len)
{
	char	*copy = malloc(len ? len : 1);

	memcpy(copy, data, len);
	expect(v, copy, len);
	free(copy);
}

START_TEST(good_vectors)
{
	const struct vec *v = &good[_i];
	char	 more[PROXYPROTO_MAX + 64];
	size_t	 len = vec_len(v);

	expect_copy(v, v->data, len);
	/* What follows the header is not the header's business. */
	memcpy(more, v->data, len);
	memcpy(more + len, "\x16\x03\x01GET / HTTP/1.1\r\n", 19);
	expect_copy(v, more, len + 19);
}
END_TEST

START_TEST(good_vectors_split)
{
	const struct vec *v = &good[_i];
	struct vec	 partial = *v;
	size_t		 len = vec_len(v), i;

	/* Every beginning is a valid start: need more, never an error. */
	partial.want = PROXYPROTO_NEED_MORE;
	for (i = 0; i < len; i++)
		expect_copy(&partial, v->data, i);
	expect_copy(v, v->data, len);
}
END_TEST

START_TEST(bad_vectors)
{
	const struct vec *v = &bad[_i];

	expect_copy(v, v->data, vec_len(v));
}
END_TEST

/* Bad starts fail as soon as they show, without waiting for more. */
START_TEST(fails_early)
{
	static const struct { const char *data; size_t len; } early[] = {
		{ "G", 1 }, { "\x16", 1 }, { "PROXX", 5 }, { "\r\n\r\n\x01", 5 },
		{ SIG "\x31", 13 }, { SIG "\x21\x51", 14 },
		{ SIG "\x21\x11\xff\xff", 16 },
	};
	struct proxyproto_hdr h;
	size_t	 i;

	for (i = 0; i < sizeof(early) / sizeof(early[0]); i++)
		ck_assert_msg(proxyproto_parse(early[i].data, early[i].len, &h) ==
		    PROXYPROTO_ERROR, "case %zu", i);
	/* A v1 line without CR must give up once a CRLF could not end it
	 * within 107 bytes. */
	char	 line[PROXYPROTO_V1_MAX + 1];
	memset(line, 'a', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxyproto_parse(line, 105, &h), PROXYPROTO_NEED_MORE);
	ck_assert_int_eq(proxyproto_parse(line, 106, &h), PROXYPROTO_ERROR);
	line[105] = '\r';
	ck_assert_int_eq(proxyproto_parse(line, 106, &h), PROXYPROTO_NEED_MORE);
	line[106] = '\n';
	ck_assert_int_eq(proxyproto_parse(line, 107, &h), 107);
}
END_TEST

static void
addr(const char *s, struct net_addr *a)
{
	char	 err[128];

	ck_assert_msg(net_addr_parse(s, 0, a, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(build_known_bytes)
{
	struct net_addr	 src, dst;
	uint8_t		 out[PROXYPROTO_V2_BUILD_MAX];
	static const char want[] = SIG "\x21\x11\x00\x0c" "\xac\x13\x00\x01"
	    "\xac\x13\x00\x03" "\xa6\x52\x00\x50";

	addr("172.19.0.1:42578", &src);
	addr("172.19.0.3:80", &dst);
	ck_assert_uint_eq(proxyproto_build_v2(&src, &dst, out), 28);
	ck_assert_mem_eq(out, want, 28);
	ck_assert_uint_eq(proxyproto_build_v2(NULL, &dst, out), 16);
	ck_assert_mem_eq(out, SIG "\x20\x00\x00\x00", 16);
}
END_TEST

START_TEST(build_roundtrip)
{
	static const struct {
		const char	*src, *dst;	/* NULL: no address */
		size_t		 len;
		const char	*psrc, *pdst;	/* parsed back; NULL: local */
	} rt[] = {
		{ "10.1.2.3:40000", "192.0.2.1:443", 28, "10.1.2.3:40000",
		    "192.0.2.1:443" },
		{ "[2001:db8::7]:1", "[2001:db8::1]:65535", 52, "[2001:db8::7]:1",
		    "[2001:db8::1]:65535" },
		{ "10.1.2.3:5", "[::1]:443", 52, "[::ffff:10.1.2.3]:5",
		    "[::1]:443" },
		{ "[::1]:5", "127.0.0.1:80", 52, "[::1]:5",
		    "[::ffff:127.0.0.1]:80" },
		{ NULL, "127.0.0.1:80", 16, NULL, NULL },
		{ "127.0.0.1:80", NULL, 16, NULL, NULL },
		{ "unix:/tmp/x.sock", "127.0.0.1:80", 16, NULL, NULL },
	};
	struct proxyproto_hdr h;
	struct net_addr	 src, dst;
	uint8_t		 out[PROXYPROTO_V2_BUILD_MAX];
	size_t		 i, n;

	for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		if (rt[i].src)
			addr(rt[i].src, &src);
		if (rt[i].dst)
			addr(rt[i].dst, &dst);
		n = proxyproto_build_v2(rt[i].src ? &src : NULL,
		    rt[i].dst ? &dst : NULL, out);
		ck_assert_uint_eq(n, rt[i].len);
		ck_assert_int_eq(proxyproto_parse(out, n, &h), (int)n);
		ck_assert_int_eq(h.version, 2);
		ck_assert_int_eq(h.local, rt[i].psrc == NULL);
		if (rt[i].psrc != NULL) {
			expect_addr(&h.src, rt[i].psrc);
			expect_addr(&h.dst, rt[i].pdst);
		}
	}
}
END_TEST

/* ---- off a socket ---- */

static void
pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
}

static void
send_all(int fd, const void *p, size_t n)
{
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
}

START_TEST(recv_leaves_what_follows)
{
	static const char hdr[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1000 443\r\n";
	struct proxyproto_hdr h;
	struct buf	 acc;
	char		 rest[64];
	int		 sv[2];
	size_t		 n = strlen(hdr);

	pair(sv);
	buf_init(&acc, PROXYPROTO_MAX);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), PROXYPROTO_NEED_MORE);
	/* In three pieces, the last with the next protocol's bytes. */
	send_all(sv[1], hdr, 3);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), PROXYPROTO_NEED_MORE);
	ck_assert_uint_eq(buf_used(&acc), 3);
	send_all(sv[1], hdr + 3, 20);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), PROXYPROTO_NEED_MORE);
	ck_assert_uint_eq(buf_used(&acc), 23);
	send_all(sv[1], hdr + 23, n - 23);
	send_all(sv[1], "\x16\x03\x01 hello", 9);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), (int)n);
	ck_assert_uint_eq(buf_used(&acc), 0);
	expect_addr(&h.src, "1.2.3.4:1000");
	expect_addr(&h.dst, "5.6.7.8:443");
	ck_assert_int_eq(read(sv[0], rest, sizeof(rest)), 9);
	ck_assert_mem_eq(rest, "\x16\x03\x01 hello", 9);
	buf_free(&acc);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(recv_v2_at_once)
{
	uint8_t		 out[PROXYPROTO_V2_BUILD_MAX + 4];
	struct proxyproto_hdr h;
	struct net_addr	 src, dst;
	struct buf	 acc;
	char		 rest[8];
	int		 sv[2];
	size_t		 n;

	pair(sv);
	buf_init(&acc, PROXYPROTO_MAX);
	addr("[2001:db8::5]:3333", &src);
	addr("[2001:db8::1]:443", &dst);
	n = proxyproto_build_v2(&src, &dst, out);
	memcpy(out + n, "GET ", 4);
	send_all(sv[1], out, n + 4);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), (int)n);
	expect_addr(&h.src, "[2001:db8::5]:3333");
	ck_assert_int_eq(read(sv[0], rest, sizeof(rest)), 4);
	buf_free(&acc);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(recv_errors)
{
	struct proxyproto_hdr h;
	struct buf	 acc;
	int		 sv[2];

	/* Garbage: refused with the parser's reason. */
	pair(sv);
	buf_init(&acc, PROXYPROTO_MAX);
	send_all(sv[1], "GET / HTTP/1.1\r\n", 16);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), PROXYPROTO_ERROR);
	ck_assert_str_eq(h.error, "not a PROXY protocol header");
	close(sv[0]);
	close(sv[1]);
	/* Closed half way. */
	pair(sv);
	buf_reset(&acc);
	send_all(sv[1], "PROXY TCP4 ", 11);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), PROXYPROTO_NEED_MORE);
	close(sv[1]);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), PROXYPROTO_CLOSED);
	ck_assert_int_eq(errno, 0);
	ck_assert_ptr_nonnull(strstr(h.error, "closed"));
	close(sv[0]);
	/* A buffer too small for the bound is refused, not overrun. */
	pair(sv);
	buf_free(&acc);
	buf_init(&acc, 64);
	send_all(sv[1], "PROXY UNKNOWN\r\n", 15);
	ck_assert_int_eq(proxyproto_recv(sv[0], &acc, &h), PROXYPROTO_ERROR);
	ck_assert_ptr_nonnull(strstr(h.error, "no room"));
	buf_free(&acc);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

Suite *
proxyproto_suite(void)
{
	Suite	*s = suite_create("proxyproto");
	TCase	*tc = tcase_create("parse");
	TCase	*tb = tcase_create("build");
	TCase	*tr = tcase_create("recv");

	tcase_add_loop_test(tc, good_vectors, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, good_vectors_split, 0,
	    sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, bad_vectors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, fails_early);
	suite_add_tcase(s, tc);
	tcase_add_test(tb, build_known_bytes);
	tcase_add_test(tb, build_roundtrip);
	suite_add_tcase(s, tb);
	tcase_add_test(tr, recv_leaves_what_follows);
	tcase_add_test(tr, recv_v2_at_once);
	tcase_add_test(tr, recv_errors);
	suite_add_tcase(s, tr);
	return s;
}
