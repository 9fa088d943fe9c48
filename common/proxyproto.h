/* proxyproto — the PROXY protocol (HAProxy's doc/proxy-protocol.txt): a
 * header a proxy sends first on a connection it opens on behalf of a
 * client, saying which addresses the client's own connection had.
 *
 * Receiving: version 1 (one text line, "PROXY TCP4|TCP6|UNKNOWN ...\r\n",
 * at most 107 bytes) and version 2 (12-byte binary signature, then version
 * and command, family and protocol, a length, addresses and TLVs), told
 * apart by their first byte. Parsing is strict: exact single spaces,
 * canonical IPv4 and ports without leading zeros, IPv6 in hex groups only,
 * assigned version/command/family/protocol values, lengths that add up.
 * A start that cannot become a header fails at once rather than waiting
 * for bytes that would not help.
 *
 * Sending: version 2 only, PROXY over TCP4/TCP6, or LOCAL (health checks,
 * no client). No TLVs. */
#ifndef STACKD_PROXYPROTO_H
#define STACKD_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "net.h"

#define PROXYPROTO_V1_MAX	107	/* longest v1 line, CRLF included */
#define PROXYPROTO_V2_FIXED	16	/* signature, ver/cmd, family, length */
/* Longest header accepted (v2 with TLVs). Larger ones are refused, so a
 * receiver never buffers more than this. */
#define PROXYPROTO_MAX		2048
/* Longest header proxyproto_build_v2 writes (TCP over IPv6). */
#define PROXYPROTO_V2_BUILD_MAX	(PROXYPROTO_V2_FIXED + 36)

#define PROXYPROTO_NEED_MORE	0
#define PROXYPROTO_ERROR	(-1)	/* not a valid header: h->error */
#define PROXYPROTO_CLOSED	(-2)	/* recv: end of stream or errno */

struct proxyproto_hdr {
	int		 version;	/* 1 or 2, once known */
	/* No client addresses to use: v2 LOCAL, v1 UNKNOWN, v2 AF_UNSPEC
	 * or AF_UNIX. The connection's own endpoints stand, per the spec. */
	bool		 local;
	struct net_addr	 src, dst;	/* the client's side, then ours */
	const char	*error;		/* after PROXYPROTO_ERROR/CLOSED */
};

/* Parse the header at the start of data[0 .. len), all bytes received so
 * far. Returns the header's length (> 0; src and dst filled unless
 * local), PROXYPROTO_NEED_MORE while the bytes are a valid beginning, or
 * PROXYPROTO_ERROR with h->error. Keeps no state: call it again with the
 * same bytes and more. Bytes after the header are not looked at. */
int	 proxyproto_parse(const void *data, size_t len,
	    struct proxyproto_hdr *h);

/* A version 2 header into out (PROXYPROTO_V2_BUILD_MAX bytes): PROXY over
 * TCP4 when src and dst are IPv4, TCP6 when they are IPv6 (an IPv4 one
 * mapped to ::ffff:a.b.c.d when the other is IPv6), LOCAL when either is
 * NULL or not an IP address. Returns its length. */
size_t	 proxyproto_build_v2(const struct net_addr *src,
	    const struct net_addr *dst, void *out);

/* Take a header off a connected non-blocking socket without reading a
 * byte past it, so what follows (a TLS ClientHello) stays in the socket
 * for whoever reads next. acc keeps the bytes of an unfinished header
 * between calls: empty at the first, its cap at least PROXYPROTO_MAX.
 * Returns the header's length (acc emptied), PROXYPROTO_NEED_MORE (wait
 * until readable), PROXYPROTO_ERROR, or PROXYPROTO_CLOSED (errno set, 0
 * for end of stream); h->error says why. */
int	 proxyproto_recv(int fd, struct buf *acc, struct proxyproto_hdr *h);

#endif
