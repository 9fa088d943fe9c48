/* mysql_packet — MySQL/MariaDB client/server protocol framing and field
 * codecs. Pure: no I/O, works over bytes and common/buf.
 *
 * Framing: each physical packet ("frame") is a 3-byte little-endian
 * payload length, a 1-byte sequence id, then the payload. A logical packet
 * of 0xFFFFFF bytes or more is sent as frames of exactly 0xFFFFFF bytes
 * followed by a shorter one, which is empty when the length is an exact
 * multiple of 0xFFFFFF. Sequence ids count up by one per frame (mod 256)
 * within one command exchange and restart at 0 with the next command.
 *
 * Fields: fixed little-endian integers, length-encoded integers (< 0xFB:
 * one byte; 0xFC + 2 bytes; 0xFD + 3; 0xFE + 8; 0xFB is NULL in rows and
 * 0xFF starts an ERR packet, neither is an integer), length-encoded
 * strings, NUL-terminated strings. A cursor reads them with bounds
 * checks; every failed read leaves the cursor where it was. */
#ifndef STACKD_MYSQL_PACKET_H
#define STACKD_MYSQL_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MYSQL_HDR_LEN		4
#define MYSQL_MAX_FRAME		0xFFFFFFu	/* largest frame payload */

/* Results of mysql_frame_peek and mysql_read. */
#define MYSQL_NEED_MORE		0
#define MYSQL_PACKET		1
#define MYSQL_ERROR		(-1)

/* One physical frame at the head of some bytes. */
struct mysql_frame {
	const uint8_t	*payload;
	size_t		 len;		/* payload length */
	uint8_t		 seq;
	bool		 continued;	/* len == MYSQL_MAX_FRAME: more */
};

/* Look at data[0..avail): MYSQL_PACKET with f filled when a whole frame
 * is there (it spans MYSQL_HDR_LEN + f->len bytes), else MYSQL_NEED_MORE.
 * For relaying frames as they are. */
int	 mysql_frame_peek(const void *data, size_t avail,
	    struct mysql_frame *f);

/* Incremental reader of logical packets from a stream buffer. */
struct mysql_reader {
	size_t		 max_len;	/* cap on a logical payload */
	bool		 check_seq;	/* refuse unexpected sequence ids */
	uint8_t		 next_seq;	/* id the next frame must carry */
	struct buf	 gather;	/* payload of a multi-frame packet */
	bool		 gathering;
	size_t		 frame_left;	/* payload bytes of a gathered frame */
	bool		 frame_continued;
	uint8_t		 last_seq;
	unsigned	 frames;
	size_t		 pending;	/* bytes of in to drop when done */
	char		 error[96];
};

struct mysql_packet {
	const uint8_t	*data;		/* logical payload */
	size_t		 len;
	uint8_t		 seq;		/* id of its last frame */
	unsigned	 frames;
};

/* max_len 0: 16 MiB. check_seq starts true with next_seq 0. */
void	 mysql_reader_init(struct mysql_reader *, size_t max_len);
/* A new cap (a server raises it once the client has logged in). */
void	 mysql_reader_set_max(struct mysql_reader *, size_t max_len);
void	 mysql_reader_free(struct mysql_reader *);
/* A new command exchange: the next frame must carry seq. */
void	 mysql_reader_expect(struct mysql_reader *, uint8_t seq);
/*
 * Take the next logical packet from in. MYSQL_NEED_MORE: read more into
 * in and call again. A one-frame packet that fits in in (in->max) is read
 * in place; the bytes of longer ones are moved out of in as they arrive,
 * so in never needs to hold a whole 16 MiB packet. MYSQL_PACKET: p is
 * valid until mysql_reader_done(r, in), which must come before the next
 * call. MYSQL_ERROR: r->error says why (length over max_len, sequence id);
 * close the connection.
 */
int	 mysql_read(struct mysql_reader *, struct buf *in,
	    struct mysql_packet *p);
void	 mysql_reader_done(struct mysql_reader *, struct buf *in);

/* Frame payload[0..len) into out, splitting at 0xFFFFFF, first frame
 * carrying *seq; *seq ends as the id for the next frame. All or nothing:
 * -1 (ENOBUFS) leaves out and *seq unchanged. */
int	 mysql_write(struct buf *out, uint8_t *seq, const void *payload,
	    size_t len);
/* Bytes mysql_write adds for a payload of len. */
size_t	 mysql_wire_len(size_t len);

/* Bounds-checked reading of fields. */
struct mysql_cur {
	const uint8_t	*p;
	size_t		 len;
	size_t		 pos;
};

/* A string that points into a packet; not NUL-terminated. */
struct mysql_str {
	const char	*p;
	size_t		 len;
};

static inline void
mysql_cur_init(struct mysql_cur *c, const void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->pos = 0;
}
static inline size_t mysql_cur_left(const struct mysql_cur *c)
{ return c->len - c->pos; }

/* Each returns 0, or -1 without moving the cursor. */
int	 mysql_get_u8(struct mysql_cur *, uint8_t *);
int	 mysql_get_u16(struct mysql_cur *, uint16_t *);
int	 mysql_get_u24(struct mysql_cur *, uint32_t *);
int	 mysql_get_u32(struct mysql_cur *, uint32_t *);
int	 mysql_get_u64(struct mysql_cur *, uint64_t *);
int	 mysql_get_bytes(struct mysql_cur *, size_t n, const uint8_t **);
int	 mysql_skip(struct mysql_cur *, size_t n);
int	 mysql_get_lenenc(struct mysql_cur *, uint64_t *);
int	 mysql_get_lenenc_str(struct mysql_cur *, struct mysql_str *);
/* Up to the next NUL, which is consumed but not counted. */
int	 mysql_get_nulstr(struct mysql_cur *, struct mysql_str *);
/* Everything left (string<EOF>). Never fails. */
void	 mysql_get_rest(struct mysql_cur *, struct mysql_str *);

/* Writing fields; 0 or -1 from buf (ENOBUFS). */
int	 mysql_put_u8(struct buf *, uint8_t);
int	 mysql_put_u16(struct buf *, uint16_t);
int	 mysql_put_u24(struct buf *, uint32_t);
int	 mysql_put_u32(struct buf *, uint32_t);
int	 mysql_put_u64(struct buf *, uint64_t);
int	 mysql_put_lenenc(struct buf *, uint64_t);
int	 mysql_put_lenenc_str(struct buf *, const void *, size_t);
/* s plus a NUL; s must not contain one. */
int	 mysql_put_nulstr(struct buf *, const char *s);
/* Bytes mysql_put_lenenc writes for v. */
size_t	 mysql_lenenc_size(uint64_t v);

/* Cut b back to used bytes (what buf_used said before a failed build;
 * a saved b->len would be wrong after buf_reserve compacted). */
void	 mysql_buf_truncate(struct buf *b, size_t used);

/* Exactly equal to the C string c. */
bool	 mysql_str_eq(const struct mysql_str *, const char *);

#endif
