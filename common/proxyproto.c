/* proxyproto — PROXY protocol headers: parse v1 and v2, build v2, take one
 * off a socket. See proxyproto.h; the wire format is HAProxy's
 * doc/proxy-protocol.txt. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "proxyproto.h"

#define V1_SIG		"PROXY "
#define V1_SIGLEN	(sizeof(V1_SIG) - 1)
#define V2_SIGLEN	12
#define V2_VERSION	0x20	/* high nibble of byte 13 */
#define V2_LOCAL	0x0
#define V2_PROXY	0x1

static const uint8_t v2_sig[V2_SIGLEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

_Static_assert(PROXYPROTO_MAX == 2048, "update the v2 length message");
_Static_assert(PROXYPROTO_MAX >= PROXYPROTO_V1_MAX &&
    PROXYPROTO_MAX <= 65535 + PROXYPROTO_V2_FIXED, "PROXYPROTO_MAX range");

static int
fail(struct proxyproto_hdr *h, const char *why)
{
	h->error = why;
	return PROXYPROTO_ERROR;
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static void
set_in4(struct net_addr *a, const void *addr, uint16_t port_be)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

	memset(a, 0, sizeof(*a));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, addr, 4);
	sin->sin_port = port_be;
	a->len = sizeof(*sin);
}

static void
set_in6(struct net_addr *a, const void *addr, uint16_t port_be)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, addr, 16);
	sin6->sin6_port = port_be;
	a->len = sizeof(*sin6);
}

/* ---- version 1 ---- */

/* All of s[0 .. len) as a decimal number up to max, without a leading
 * zero (the spec forbids them: they could be read as octal). */
static bool
v1_number(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned	 v = 0;
	size_t		 i;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Exactly four dot-separated numbers 0..255. */
static bool
v1_ipv4(const char *s, size_t len, uint8_t out[4])
{
	size_t		 i, start = 0, part = 0;
	unsigned	 v;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (part == 4 || !v1_number(s + start, i - start, 255, &v))
			return false;
		out[part++] = (uint8_t)v;
		start = i + 1;
	}
	return part == 4;
}

/* Hex groups and colons only (no embedded dotted quad), 128 bits. */
static bool
v1_ipv6(const char *s, size_t len, uint8_t out[16])
{
	char	 tmp[40];
	size_t	 i;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	for (i = 0; i < len; i++)
		if (s[i] != ':' && !isxdigit((unsigned char)s[i]))
			return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1;
}

/* The complete line s[0 .. n), CRLF included. */
static int
v1_line(const char *s, size_t n, struct proxyproto_hdr *h)
{
	const char	*p = s + V1_SIGLEN, *end = s + n - 2, *sp;
	const char	*f[5];
	size_t		 fl[5], nf = 0;
	uint8_t		 src[16], dst[16];
	unsigned	 sport, dport;
	bool		 v6;

	/* UNKNOWN: whatever follows up to the CRLF is to be ignored. */
	if (end - p >= 7 && memcmp(p, "UNKNOWN", 7) == 0 &&
	    (end - p == 7 || p[7] == ' ')) {
		h->local = true;
		return (int)n;
	}
	if (p == end)
		return fail(h, "v1: expected TCP4, TCP6 or UNKNOWN");
	for (;;) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == p || p == end)
			return fail(h, "v1: expected exactly one space between "
			    "fields");
		if (nf == 5)
			return fail(h, "v1: expected PROTO SRC DST SRCPORT DSTPORT, "
			    "got more fields");
		f[nf] = p;
		fl[nf++] = (size_t)((sp ? sp : end) - p);
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	if (fl[0] != 4 || (memcmp(f[0], "TCP4", 4) != 0 &&
	    memcmp(f[0], "TCP6", 4) != 0))
		return fail(h, "v1: expected TCP4, TCP6 or UNKNOWN");
	if (nf != 5)
		return fail(h, "v1: expected PROTO SRC DST SRCPORT DSTPORT");
	v6 = f[0][3] == '6';
	if (!(v6 ? v1_ipv6(f[1], fl[1], src) : v1_ipv4(f[1], fl[1], src)))
		return fail(h, v6 ? "v1: bad TCP6 source address" :
		    "v1: bad TCP4 source address");
	if (!(v6 ? v1_ipv6(f[2], fl[2], dst) : v1_ipv4(f[2], fl[2], dst)))
		return fail(h, v6 ? "v1: bad TCP6 destination address" :
		    "v1: bad TCP4 destination address");
	if (!v1_number(f[3], fl[3], 65535, &sport) ||
	    !v1_number(f[4], fl[4], 65535, &dport))
		return fail(h, "v1: expected ports 0..65535 without leading "
		    "zeros");
	if (v6) {
		set_in6(&h->src, src, htons((uint16_t)sport));
		set_in6(&h->dst, dst, htons((uint16_t)dport));
	} else {
		set_in4(&h->src, src, htons((uint16_t)sport));
		set_in4(&h->dst, dst, htons((uint16_t)dport));
	}
	return (int)n;
}

static int
v1_parse(const char *s, size_t len, struct proxyproto_hdr *h)
{
	size_t	 i, lim = min_size(len, PROXYPROTO_V1_MAX);

	h->version = 1;
	if (memcmp(s, V1_SIG, min_size(len, V1_SIGLEN)) != 0)
		return fail(h, "v1: expected \"PROXY \"");
	for (i = V1_SIGLEN; i < lim; i++) {
		if (s[i] == '\r') {
			if (i + 2 > PROXYPROTO_V1_MAX)
				return fail(h, "v1: no CRLF within 107 bytes");
			if (i + 1 == len)
				return PROXYPROTO_NEED_MORE;
			if (s[i + 1] != '\n')
				return fail(h, "v1: CR without LF");
			return v1_line(s, i + 2, h);
		}
		if (s[i] == '\n')
			return fail(h, "v1: LF without CR");
		if (s[i] < 0x20 || s[i] > 0x7e)
			return fail(h, "v1: not printable ASCII");
	}
	/* No CR yet: can one still come soon enough? */
	if (len + 2 <= PROXYPROTO_V1_MAX)
		return PROXYPROTO_NEED_MORE;
	return fail(h, "v1: no CRLF within 107 bytes");
}

/* ---- version 2 ---- */

/* Family and protocol byte of a PROXY command: how long its address block
 * is and what it gives. UNSPEC and UNIX stream are valid but name no TCP
 * client, so the connection's own endpoints stand (spec section 2.2).
 * Datagram families cannot describe a stream connection. */
static const struct v2_family {
	uint8_t		 byte;
	uint16_t	 addr_len;
	int		 af;		/* AF_UNSPEC: no usable address */
} v2_families[] = {
	{ 0x00, 0, AF_UNSPEC },		/* UNSPEC */
	{ 0x11, 12, AF_INET },		/* TCP over IPv4 */
	{ 0x21, 36, AF_INET6 },		/* TCP over IPv6 */
	{ 0x31, 216, AF_UNSPEC },	/* UNIX stream */
};

static int
v2_addresses(const uint8_t *s, size_t total, struct proxyproto_hdr *h)
{
	const struct v2_family *f = NULL;
	size_t		 i, off, tlv;
	uint16_t	 sport, dport;

	for (i = 0; i < sizeof(v2_families) / sizeof(v2_families[0]); i++)
		if (v2_families[i].byte == s[13])
			f = &v2_families[i];
	if (f == NULL)
		return fail(h, "v2: PROXY over a family and protocol other than "
		    "TCP over IPv4 or IPv6, UNIX stream or UNSPEC");
	if (total - PROXYPROTO_V2_FIXED < f->addr_len)
		return fail(h, "v2: address block shorter than its family needs");
	/* TLVs are skipped, but they must tile the rest exactly. */
	for (off = PROXYPROTO_V2_FIXED + f->addr_len; off < total;
	    off += 3 + tlv) {
		if (total - off < 3)
			return fail(h, "v2: truncated TLV");
		tlv = (size_t)s[off + 1] << 8 | s[off + 2];
		if (tlv > total - off - 3)
			return fail(h, "v2: TLV longer than the header");
	}
	if (f->af == AF_UNSPEC) {
		h->local = true;
		return (int)total;
	}
	s += PROXYPROTO_V2_FIXED;
	if (f->af == AF_INET) {
		memcpy(&sport, s + 8, 2);
		memcpy(&dport, s + 10, 2);
		set_in4(&h->src, s, sport);
		set_in4(&h->dst, s + 4, dport);
	} else {
		memcpy(&sport, s + 32, 2);
		memcpy(&dport, s + 34, 2);
		set_in6(&h->src, s, sport);
		set_in6(&h->dst, s + 16, dport);
	}
	return (int)total;
}

static int
v2_parse(const uint8_t *s, size_t len, struct proxyproto_hdr *h)
{
	size_t	 total;

	h->version = 2;
	if (memcmp(s, v2_sig, min_size(len, V2_SIGLEN)) != 0)
		return fail(h, "v2: bad signature");
	if (len > 12 && (s[12] & 0xf0) != V2_VERSION)
		return fail(h, "v2: version is not 2");
	if (len > 12 && (s[12] & 0x0f) != V2_LOCAL &&
	    (s[12] & 0x0f) != V2_PROXY)
		return fail(h, "v2: command is neither LOCAL nor PROXY");
	if (len > 13 && ((s[13] >> 4) > 3 || (s[13] & 0x0f) > 2))
		return fail(h, "v2: unassigned address family or protocol");
	if (len < PROXYPROTO_V2_FIXED)
		return PROXYPROTO_NEED_MORE;
	total = PROXYPROTO_V2_FIXED + ((size_t)s[14] << 8 | s[15]);
	if (total > PROXYPROTO_MAX)
		return fail(h, "v2: header longer than 2048 bytes");
	if (len < total)
		return PROXYPROTO_NEED_MORE;
	/* LOCAL: the block, family included, is to be ignored. */
	if ((s[12] & 0x0f) == V2_LOCAL) {
		h->local = true;
		return (int)total;
	}
	return v2_addresses(s, total, h);
}

int
proxyproto_parse(const void *data, size_t len, struct proxyproto_hdr *h)
{
	const uint8_t	*s = data;

	memset(h, 0, sizeof(*h));
	if (len == 0)
		return PROXYPROTO_NEED_MORE;
	if (s[0] == 'P')
		return v1_parse(data, len, h);
	if (s[0] == '\r')
		return v2_parse(s, len, h);
	return fail(h, "not a PROXY protocol header");
}

/* ---- building version 2 ---- */

static bool
is_ip(const struct net_addr *a)
{
	return a != NULL && (a->ss.ss_family == AF_INET ||
	    a->ss.ss_family == AF_INET6);
}

static uint16_t
port_be(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_port;
	return ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
}

/* 16 address bytes; IPv4 as ::ffff:a.b.c.d. */
static void
put_v6(uint8_t *out, const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		    16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4);
}

size_t
proxyproto_build_v2(const struct net_addr *src, const struct net_addr *dst,
    void *out)
{
	uint8_t		*p = out;
	uint16_t	 sp, dp;
	size_t		 alen;

	memcpy(p, v2_sig, V2_SIGLEN);
	if (!is_ip(src) || !is_ip(dst)) {
		p[12] = V2_VERSION | V2_LOCAL;
		p[13] = 0x00;
		p[14] = p[15] = 0;
		return PROXYPROTO_V2_FIXED;
	}
	p[12] = V2_VERSION | V2_PROXY;
	sp = port_be(src);
	dp = port_be(dst);
	if (src->ss.ss_family == AF_INET && dst->ss.ss_family == AF_INET) {
		p[13] = 0x11;
		memcpy(p + 16, &((const struct sockaddr_in *)&src->ss)->sin_addr, 4);
		memcpy(p + 20, &((const struct sockaddr_in *)&dst->ss)->sin_addr, 4);
		alen = 12;
	} else {
		p[13] = 0x21;
		put_v6(p + 16, src);
		put_v6(p + 32, dst);
		alen = 36;
	}
	memcpy(p + 16 + alen - 4, &sp, 2);
	memcpy(p + 16 + alen - 2, &dp, 2);
	p[14] = 0;
	p[15] = (uint8_t)alen;
	return PROXYPROTO_V2_FIXED + alen;
}

/* ---- off a socket ---- */

int
proxyproto_recv(int fd, struct buf *acc, struct proxyproto_hdr *h)
{
	size_t	 have = buf_used(acc), room, take;
	ssize_t	 n, m;
	int	 rv;

	memset(h, 0, sizeof(*h));
	if (have >= PROXYPROTO_MAX ||
	    buf_reserve(acc, PROXYPROTO_MAX - have) == -1)
		return fail(h, "no room to buffer the header");
	room = PROXYPROTO_MAX - have;
	/* Peek first: only the header's own bytes are then taken. */
	do
		n = recv(fd, buf_tail(acc), room, MSG_PEEK);
	while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return PROXYPROTO_NEED_MORE;
	if (n <= 0) {
		if (n == 0)
			errno = 0;
		h->error = n == 0 ? "closed before the end of the header" :
		    "receive failed";
		return PROXYPROTO_CLOSED;
	}
	rv = proxyproto_parse(buf_head(acc), have + (size_t)n, h);
	if (rv == PROXYPROTO_ERROR)
		return rv;
	/* Need more: every byte seen belongs to the header. */
	take = rv == PROXYPROTO_NEED_MORE ? (size_t)n : (size_t)rv - have;
	do
		m = recv(fd, buf_tail(acc), take, 0);
	while (m == -1 && errno == EINTR);
	if (m != (ssize_t)take) {	/* they were there a moment ago */
		if (m >= 0)
			errno = EIO;
		h->error = "receive failed";
		return PROXYPROTO_CLOSED;
	}
	if (rv == PROXYPROTO_NEED_MORE) {
		buf_commit(acc, take);
		return PROXYPROTO_NEED_MORE;
	}
	buf_reset(acc);
	return rv;
}
