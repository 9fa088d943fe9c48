/* sha1 — SHA-1 (FIPS 180-4), for protocols that require it.
 *
 * Not for new security designs: SHA-1 is here because MySQL's
 * mysql_native_password is defined with it. mbedTLS stays inside
 * common/tls*, so this small implementation serves the rest. */
#ifndef STACKD_SHA1_H
#define STACKD_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN	20

struct sha1_ctx {
	uint32_t	 h[5];
	uint64_t	 total;		/* bytes hashed so far */
	uint8_t		 block[64];	/* pending partial block */
	size_t		 used;		/* bytes in block */
};

void	 sha1_init(struct sha1_ctx *);
void	 sha1_update(struct sha1_ctx *, const void *, size_t);
void	 sha1_final(struct sha1_ctx *, uint8_t out[SHA1_LEN]);
/* One call: out = SHA1(data). */
void	 sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

#endif
