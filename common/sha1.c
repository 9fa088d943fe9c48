/* sha1 — SHA-1 as specified in FIPS 180-4, section 6.1. */
#include <string.h>

#include "sha1.h"

static uint32_t
rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Round function and constant of each 20-round stage. */
static uint32_t
stage_f(unsigned t, uint32_t b, uint32_t c, uint32_t d)
{
	if (t < 20)
		return (b & c) | (~b & d);
	if (t < 40 || t >= 60)
		return b ^ c ^ d;
	return (b & c) | (b & d) | (c & d);
}

static const uint32_t stage_k[4] = {
	0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6
};

static void
sha1_block(struct sha1_ctx *c, const uint8_t *blk)
{
	uint32_t w[80], a, b, cc, d, e, tmp;
	unsigned t;

	for (t = 0; t < 16; t++)
		w[t] = load_be32(blk + 4 * t);
	for (; t < 80; t++)
		w[t] = rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3]; e = c->h[4];
	for (t = 0; t < 80; t++) {
		tmp = rol32(a, 5) + stage_f(t, b, cc, d) + e + w[t] +
		    stage_k[t / 20];
		e = d;
		d = cc;
		cc = rol32(b, 30);
		b = a;
		a = tmp;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d; c->h[4] += e;
}

void
sha1_init(struct sha1_ctx *c)
{
	static const uint32_t iv[5] = {
		0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0
	};

	memcpy(c->h, iv, sizeof(iv));
	c->total = 0;
	c->used = 0;
}

void
sha1_update(struct sha1_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t	 n;

	c->total += len;
	while (len > 0) {
		n = sizeof(c->block) - c->used;
		if (n > len)
			n = len;
		memcpy(c->block + c->used, p, n);
		c->used += n;
		p += n;
		len -= n;
		if (c->used == sizeof(c->block)) {
			sha1_block(c, c->block);
			c->used = 0;
		}
	}
}

void
sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_LEN])
{
	uint64_t bits = c->total * 8;
	uint8_t	 pad = 0x80, zero = 0, len_be[8];
	int	 i;

	for (i = 0; i < 8; i++)
		len_be[i] = (uint8_t)(bits >> (56 - 8 * i));
	/* 0x80, zeros up to 56 mod 64, then the 64-bit length. */
	sha1_update(c, &pad, 1);
	while (c->used != 56)
		sha1_update(c, &zero, 1);
	sha1_update(c, len_be, sizeof(len_be));
	for (i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
	memset(c, 0, sizeof(*c));
}

void
sha1(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
	struct sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, data, len);
	sha1_final(&c, out);
}
