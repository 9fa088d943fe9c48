/* fuzz_mysql_packet: arbitrary bytes as a MySQL packet stream.
 *
 * Byte 0 picks the feeding chunk size and the kind of response scanned,
 * byte 1 the logical length cap. The rest is
 * 1. fed in chunks to mysql_read into a small buffer: every packet is at
 *    most the cap, the reader never needs the buffer to hold a long packet,
 *    an error always has a reason; each packet is written again with
 *    mysql_write and read back from that the same, with the same frames;
 * 2. walked frame by frame through the response scanner, which never
 *    reports done twice nor reads past a frame;
 * 3. read as a run of length-encoded integers, each written back to the
 *    same bytes when in its shortest form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_packet.h"
#include "mysql_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
roundtrip(const struct mysql_packet *p, uint8_t seq)
{
	struct mysql_reader r;
	struct mysql_packet back;
	struct buf out;
	uint8_t	 next = seq;

	buf_init(&out, 0);
	check(mysql_write(&out, &next, p->data, p->len) == 0);
	check(next == (uint8_t)(seq + p->frames));
	mysql_reader_init(&r, p->len + 1);
	mysql_reader_expect(&r, seq);
	check(mysql_read(&r, &out, &back) == MYSQL_PACKET);
	check(back.len == p->len && back.frames == p->frames);
	check(memcmp(back.data, p->data, p->len) == 0);
	mysql_reader_done(&r, &out);
	check(buf_used(&out) == 0);
	mysql_reader_free(&r);
	buf_free(&out);
}

static void
read_stream(const uint8_t *data, size_t len, size_t chunk, size_t cap)
{
	struct mysql_reader r;
	struct mysql_packet p;
	struct buf in;
	size_t	 off = 0, n;
	int	 rc;

	mysql_reader_init(&r, cap);
	r.check_seq = (chunk & 1) == 0;
	buf_init(&in, 256);		/* far below a long packet */
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		if (buf_append(&in, data + off, n) == -1)
			break;		/* a short frame bigger than in: fine */
		off += n;
		while ((rc = mysql_read(&r, &in, &p)) == MYSQL_PACKET) {
			check(p.len <= r.max_len && p.frames >= 1);
			roundtrip(&p, (uint8_t)(p.seq - (p.frames - 1)));
			mysql_reader_done(&r, &in);
		}
		if (rc == MYSQL_ERROR) {
			check(r.error[0] != '\0');
			break;
		}
	}
	mysql_reader_free(&r);
	buf_free(&in);
}

static void
scan_frames(const uint8_t *data, size_t len, enum mysql_reply kind,
    uint32_t caps)
{
	struct mysql_resp rs;
	struct mysql_frame f;
	size_t	 off = 0;
	int	 rc, done = 0;
	uint8_t	*copy;

	mysql_resp_start(&rs, kind, caps);
	while (mysql_frame_peek(data + off, len - off, &f) == MYSQL_PACKET) {
		/* An exact-size copy, so ASan sees any over-read. */
		copy = malloc(f.len ? f.len : 1);
		memcpy(copy, f.payload, f.len);
		rc = mysql_resp_feed(&rs, copy, f.len);
		free(copy);
		off += MYSQL_HDR_LEN + f.len;
		if (rc == MYSQL_RESP_BAD) {
			check(rs.why[0] != '\0');
			break;
		}
		if (rc == MYSQL_RESP_DONE)
			check(++done == 1);
	}
}

static void
lenenc_run(const uint8_t *data, size_t len)
{
	struct mysql_cur c;
	struct buf b;
	uint64_t v;
	size_t	 start;

	buf_init(&b, 0);
	mysql_cur_init(&c, data, len);
	for (;;) {
		start = c.pos;
		if (mysql_get_lenenc(&c, &v) == -1) {
			check(c.pos == start);
			break;
		}
		buf_reset(&b);
		check(mysql_put_lenenc(&b, v) == 0);
		if (buf_used(&b) == c.pos - start)
			check(memcmp(buf_head(&b), data + start,
			    c.pos - start) == 0);
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum mysql_reply kinds[] = {
		MYSQL_REPLY_RESULTSET, MYSQL_REPLY_PREPARE, MYSQL_REPLY_OK,
		MYSQL_REPLY_FIELD_LIST, MYSQL_REPLY_ROWS, MYSQL_REPLY_STRING,
		MYSQL_REPLY_NONE, MYSQL_REPLY_AUTH,
	};
	size_t	 chunk, cap;
	uint32_t caps;

	if (size < 2)
		return 0;
	chunk = (data[0] & 0x1f) + 1;
	cap = (size_t)data[1] * 4;
	caps = MYSQL_CLIENT_PROTOCOL_41 | ((data[0] & 0x20) ?
	    MYSQL_CLIENT_DEPRECATE_EOF : 0) | ((data[0] & 0x40) ?
	    MYSQL_CLIENT_SESSION_TRACK : 0);
	data += 2;
	size -= 2;
	read_stream(data, size, chunk, cap);
	scan_frames(data, size, kinds[(data - 2)[0] >> 5], caps);
	lenenc_run(data, size);
	return 0;
}
