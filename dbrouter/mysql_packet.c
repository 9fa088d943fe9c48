/* mysql_packet — framing and field codecs of the MySQL protocol. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mysql_packet.h"

#define DEFAULT_MAX_LEN	(16u * 1024 * 1024)

static uint32_t
le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

int
mysql_frame_peek(const void *data, size_t avail, struct mysql_frame *f)
{
	const uint8_t *p = data;
	size_t	 len;

	if (avail < MYSQL_HDR_LEN)
		return MYSQL_NEED_MORE;
	len = le24(p);
	if (avail - MYSQL_HDR_LEN < len)
		return MYSQL_NEED_MORE;
	f->payload = p + MYSQL_HDR_LEN;
	f->len = len;
	f->seq = p[3];
	f->continued = len == MYSQL_MAX_FRAME;
	return MYSQL_PACKET;
}

void
mysql_reader_init(struct mysql_reader *r, size_t max_len)
{
	memset(r, 0, sizeof(*r));
	r->max_len = max_len ? max_len : DEFAULT_MAX_LEN;
	r->check_seq = true;
	buf_init(&r->gather, r->max_len);
}

void
mysql_reader_set_max(struct mysql_reader *r, size_t max_len)
{
	r->max_len = max_len ? max_len : DEFAULT_MAX_LEN;
	r->gather.max = r->max_len;
}

void
mysql_reader_free(struct mysql_reader *r)
{
	buf_free(&r->gather);
}

void
mysql_reader_expect(struct mysql_reader *r, uint8_t seq)
{
	r->next_seq = seq;
}

/* Checks a frame header can fail before its payload has arrived. */
static int
check_header(struct mysql_reader *r, const uint8_t *hdr)
{
	size_t	 len = le24(hdr), so_far = buf_used(&r->gather);

	if (r->check_seq && hdr[3] != r->next_seq) {
		snprintf(r->error, sizeof(r->error),
		    "packet sequence id %u, expected %u", hdr[3], r->next_seq);
		return -1;
	}
	if (len > r->max_len || so_far > r->max_len - len) {
		snprintf(r->error, sizeof(r->error),
		    "packet of %zu+ bytes exceeds the limit of %zu",
		    so_far + len, r->max_len);
		return -1;
	}
	return 0;
}

/* Move what has arrived of the current long frame into r->gather. */
static int
gather_frame(struct mysql_reader *r, struct buf *in)
{
	size_t	 n = buf_used(in);

	if (n > r->frame_left)
		n = r->frame_left;

	if (buf_append(&r->gather, buf_head(in), n) == -1) {
		snprintf(r->error, sizeof(r->error),
		    "no memory for a packet of %zu+ bytes",
		    buf_used(&r->gather) + n);
		return -1;
	}
	buf_consume(in, n);
	r->frame_left -= n;
	return 0;
}

int
mysql_read(struct mysql_reader *r, struct buf *in, struct mysql_packet *p)
{
	struct mysql_frame f;
	const uint8_t *hdr;
	size_t	 len;

	for (;;) {
		if (r->frame_left > 0) {
			if (gather_frame(r, in) == -1)
				return MYSQL_ERROR;
			if (r->frame_left > 0)
				return MYSQL_NEED_MORE;
		}
		if (r->gathering && !r->frame_continued) {
			p->data = (const uint8_t *)buf_head(&r->gather);
			p->len = buf_used(&r->gather);
			p->seq = r->last_seq;
			p->frames = r->frames;
			r->pending = 0;
			return MYSQL_PACKET;
		}
		if (buf_used(in) < MYSQL_HDR_LEN)
			return MYSQL_NEED_MORE;
		hdr = (const uint8_t *)buf_head(in);
		if (check_header(r, hdr) == -1)
			return MYSQL_ERROR;
		len = le24(hdr);
		/* The common case: one frame, read in place once in holds
		 * it; one too big for in is gathered like a long packet. */
		if (!r->gathering && len < MYSQL_MAX_FRAME &&
		    buf_used(in) - MYSQL_HDR_LEN < len &&
		    in->max >= MYSQL_HDR_LEN && len <= in->max - MYSQL_HDR_LEN)
			return MYSQL_NEED_MORE;
		if (!r->gathering && len < MYSQL_MAX_FRAME &&
		    buf_used(in) - MYSQL_HDR_LEN >= len) {
			mysql_frame_peek(hdr, buf_used(in), &f);
			r->next_seq = f.seq + 1;
			p->data = f.payload;
			p->len = f.len;
			p->seq = f.seq;
			p->frames = 1;
			r->pending = MYSQL_HDR_LEN + f.len;
			return MYSQL_PACKET;
		}
		if (!r->gathering) {
			r->gathering = true;
			r->frames = 0;
		}
		r->frames++;
		r->last_seq = hdr[3];
		r->next_seq = hdr[3] + 1;
		r->frame_left = len;
		r->frame_continued = len == MYSQL_MAX_FRAME;
		buf_consume(in, MYSQL_HDR_LEN);
	}
}

void
mysql_reader_done(struct mysql_reader *r, struct buf *in)
{
	buf_consume(in, r->pending);
	r->pending = 0;
	if (r->gathering) {
		/* Long packets are rare: do not keep their memory. */
		buf_free(&r->gather);
		r->gathering = false;
	}
}

size_t
mysql_wire_len(size_t len)
{
	return len + MYSQL_HDR_LEN * (len / MYSQL_MAX_FRAME + 1);
}

int
mysql_write(struct buf *out, uint8_t *seq, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	uint8_t	 hdr[MYSQL_HDR_LEN], id = *seq;
	size_t	 n;

	if (buf_reserve(out, mysql_wire_len(len)) == -1)
		return -1;
	/* Room is reserved: the appends below cannot fail. */
	for (;;) {
		n = len < MYSQL_MAX_FRAME ? len : MYSQL_MAX_FRAME;
		hdr[0] = (uint8_t)n;
		hdr[1] = (uint8_t)(n >> 8);
		hdr[2] = (uint8_t)(n >> 16);
		hdr[3] = id++;
		memcpy(buf_tail(out), hdr, sizeof(hdr));
		buf_commit(out, sizeof(hdr));
		if (n > 0) {
			memcpy(buf_tail(out), p, n);
			buf_commit(out, n);
		}
		p += n;
		len -= n;
		if (n < MYSQL_MAX_FRAME)
			break;
	}
	*seq = id;
	return 0;
}

/* Reading. */

static int
get_le(struct mysql_cur *c, unsigned n, uint64_t *v)
{
	unsigned i;

	if (mysql_cur_left(c) < n)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)c->p[c->pos + i] << (8 * i);
	c->pos += n;
	return 0;
}

int
mysql_get_u8(struct mysql_cur *c, uint8_t *v)
{
	uint64_t x;

	if (get_le(c, 1, &x) == -1)
		return -1;
	*v = (uint8_t)x;
	return 0;
}

int
mysql_get_u16(struct mysql_cur *c, uint16_t *v)
{
	uint64_t x;

	if (get_le(c, 2, &x) == -1)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

int
mysql_get_u24(struct mysql_cur *c, uint32_t *v)
{
	uint64_t x;

	if (get_le(c, 3, &x) == -1)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
mysql_get_u32(struct mysql_cur *c, uint32_t *v)
{
	uint64_t x;

	if (get_le(c, 4, &x) == -1)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
mysql_get_u64(struct mysql_cur *c, uint64_t *v)
{
	return get_le(c, 8, v);
}

int
mysql_get_bytes(struct mysql_cur *c, size_t n, const uint8_t **p)
{
	if (mysql_cur_left(c) < n)
		return -1;
	*p = c->p + c->pos;
	c->pos += n;
	return 0;
}

int
mysql_skip(struct mysql_cur *c, size_t n)
{
	const uint8_t *ignored;

	return mysql_get_bytes(c, n, &ignored);
}

int
mysql_get_lenenc(struct mysql_cur *c, uint64_t *v)
{
	size_t	 start = c->pos;
	unsigned width;
	uint8_t	 first;

	if (mysql_get_u8(c, &first) == -1)
		return -1;
	switch (first) {
	case 0xfb:		/* NULL */
	case 0xff:		/* ERR header */
		c->pos = start;
		return -1;
	case 0xfc:
		width = 2;
		break;
	case 0xfd:
		width = 3;
		break;
	case 0xfe:
		width = 8;
		break;
	default:
		*v = first;
		return 0;
	}
	if (get_le(c, width, v) == -1) {
		c->pos = start;
		return -1;
	}
	return 0;
}

int
mysql_get_lenenc_str(struct mysql_cur *c, struct mysql_str *s)
{
	size_t	 start = c->pos;
	uint64_t n;

	if (mysql_get_lenenc(c, &n) == -1)
		return -1;
	if (n > mysql_cur_left(c)) {
		c->pos = start;
		return -1;
	}
	s->p = (const char *)c->p + c->pos;
	s->len = (size_t)n;
	c->pos += (size_t)n;
	return 0;
}

int
mysql_get_nulstr(struct mysql_cur *c, struct mysql_str *s)
{
	const uint8_t *nul;

	nul = memchr(c->p + c->pos, 0, mysql_cur_left(c));
	if (nul == NULL)
		return -1;
	s->p = (const char *)c->p + c->pos;
	s->len = (size_t)(nul - (c->p + c->pos));
	c->pos += s->len + 1;
	return 0;
}

void
mysql_get_rest(struct mysql_cur *c, struct mysql_str *s)
{
	s->p = (const char *)c->p + c->pos;
	s->len = mysql_cur_left(c);
	c->pos = c->len;
}

/* Writing. */

static int
put_le(struct buf *b, uint64_t v, unsigned n)
{
	uint8_t	 tmp[8];
	unsigned i;

	for (i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	return buf_append(b, tmp, n);
}

int mysql_put_u8(struct buf *b, uint8_t v) { return put_le(b, v, 1); }
int mysql_put_u16(struct buf *b, uint16_t v) { return put_le(b, v, 2); }
int mysql_put_u24(struct buf *b, uint32_t v) { return put_le(b, v, 3); }
int mysql_put_u32(struct buf *b, uint32_t v) { return put_le(b, v, 4); }
int mysql_put_u64(struct buf *b, uint64_t v) { return put_le(b, v, 8); }

size_t
mysql_lenenc_size(uint64_t v)
{
	if (v < 0xfb)
		return 1;
	if (v <= 0xffff)
		return 3;
	if (v <= 0xffffff)
		return 4;
	return 9;
}

int
mysql_put_lenenc(struct buf *b, uint64_t v)
{
	uint8_t	 tmp[9];
	size_t	 n = mysql_lenenc_size(v), i;

	if (n == 1)
		tmp[0] = (uint8_t)v;
	else
		tmp[0] = n == 3 ? 0xfc : n == 4 ? 0xfd : 0xfe;
	for (i = 1; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * (i - 1)));
	return buf_append(b, tmp, n);
}

int
mysql_put_lenenc_str(struct buf *b, const void *s, size_t len)
{
	size_t	 used = buf_used(b);

	if (mysql_put_lenenc(b, len) == -1)
		return -1;
	if (buf_append(b, s, len) == -1) {
		mysql_buf_truncate(b, used);	/* all or nothing */
		return -1;
	}
	return 0;
}

int
mysql_put_nulstr(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s) + 1);
}

void
mysql_buf_truncate(struct buf *b, size_t used)
{
	if (used < buf_used(b))
		b->len = b->off + used;
}

bool
mysql_str_eq(const struct mysql_str *s, const char *c)
{
	return strlen(c) == s->len && memcmp(s->p, c, s->len) == 0;
}
