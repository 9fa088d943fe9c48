/* stream — a non-blocking socket, plain or TLS, behind one set of calls,
 * and the two loops every server repeats over it: fill a capped input
 * buffer, flush an output buffer. Servers keep their protocol logic; the
 * difference between read(2) and tls_read() lives here once. */
#ifndef STACKD_STREAM_H
#define STACKD_STREAM_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"

struct tls_conn;

struct stream {
	int		 fd;
	struct tls_conn	*tls;	/* NULL: plain socket */
	/* Plain sockets: more bytes follow at once (a file by sendfile), so
	 * the kernel may hold a short write back to fill the segment. */
	bool		 more;
};

#define STREAM_BLOCKED	(-1)	/* would block: wait for *want */
#define STREAM_ERROR	(-2)	/* connection failed (errno or TLS error) */

/* Bytes moved (> 0), 0 at end of stream (read only), STREAM_BLOCKED with
 * *want set to EV_READ or EV_WRITE (TLS may want either way round), or
 * STREAM_ERROR. Writes follow tls_write()'s retry contract: after
 * STREAM_BLOCKED, call again with a buffer starting with the same bytes. */
ssize_t	 stream_read(struct stream *, void *, size_t, unsigned *want);
ssize_t	 stream_write(struct stream *, const void *, size_t, unsigned *want);
/* Decrypted bytes already held by TLS: the fd will not wake for them. */
bool	 stream_pending(const struct stream *);

/* Read what is there into b (one read, more while TLS holds decrypted
 * bytes), never past b's cap but up to it, so a parser whose own limit
 * lies below the cap always sees enough to refuse. Returns
 *	1	done for now; *want is what to wait for next (EV_READ, or
 *		EV_WRITE when TLS must write first)
 *	0	end of stream
 *	STREAM_ERROR */
int	 stream_fill(struct stream *, struct buf *b, unsigned *want);

/* Write out all of b, consuming what was sent. 1 when empty, STREAM_BLOCKED
 * with *want set, or STREAM_ERROR. */
int	 stream_flush(struct stream *, struct buf *b, unsigned *want);

#endif
