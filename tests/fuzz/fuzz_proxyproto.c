/* fuzz_proxyproto: arbitrary bytes as the start of a PROXY-protocol
 * connection.
 *
 * 1. Parsed in one shot from an exact-size heap copy: a header length
 *    never exceeds the input or PROXYPROTO_MAX, an error always has a
 *    reason, a version 1 header is at most 107 bytes.
 * 2. Every shorter prefix agrees: before a header's end it is "need more",
 *    past it the same header; after an error the longer prefixes fail too
 *    (a verdict never changes with more bytes).
 * 3. A header with addresses, built again as version 2 and parsed, gives
 *    the same addresses back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static int
parse_copy(const uint8_t *data, size_t len, struct proxyproto_hdr *h)
{
	uint8_t	*copy = malloc(len ? len : 1);
	int	 rv;

	memcpy(copy, data, len);
	rv = proxyproto_parse(copy, len, h);
	free(copy);
	return rv;
}

static void
same_header(const struct proxyproto_hdr *a, const struct proxyproto_hdr *b)
{
	check(a->version == b->version && a->local == b->local);
	if (!a->local)
		check(net_addr_equal(&a->src, &b->src) &&
		    net_addr_equal(&a->dst, &b->dst));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto_hdr whole, part, back;
	uint8_t		 out[PROXYPROTO_V2_BUILD_MAX];
	size_t		 len = size < PROXYPROTO_MAX + 64 ? size :
	    PROXYPROTO_MAX + 64, i, n;
	int		 rv, prv;

	rv = parse_copy(data, len, &whole);
	check(rv >= PROXYPROTO_ERROR && (size_t)(rv > 0 ? rv : 0) <= len &&
	    rv <= PROXYPROTO_MAX);
	if (rv == PROXYPROTO_ERROR)
		check(whole.error != NULL && whole.error[0] != '\0');
	if (rv > 0 && whole.version == 1)
		check(rv <= PROXYPROTO_V1_MAX);

	for (i = 0; i < len; i++) {
		prv = parse_copy(data, i, &part);
		if (rv > 0 && i < (size_t)rv)
			check(prv == PROXYPROTO_NEED_MORE);
		else if (rv > 0) {
			check(prv == rv);
			same_header(&whole, &part);
		} else if (rv == PROXYPROTO_NEED_MORE)
			check(prv == PROXYPROTO_NEED_MORE);
		else if (prv == PROXYPROTO_ERROR)
			/* Once wrong, wrong for good: compare with i + 1. */
			check(parse_copy(data, i + 1, &part) ==
			    PROXYPROTO_ERROR);
	}

	if (rv > 0 && !whole.local) {
		n = proxyproto_build_v2(&whole.src, &whole.dst, out);
		check(proxyproto_parse(out, n, &back) == (int)n);
		check(back.version == 2);
		back.version = whole.version;
		same_header(&whole, &back);
	}
	return 0;
}
