/* Unit tests for dbrouter/mysql_packet: frames at every split, sequence
 * ids, the length cap, 16 MiB logical packets (including the exact
 * multiple that ends with an empty frame), the splitting writer, and the
 * field codecs at their boundaries and when truncated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_packet.h"
#include "suites.h"

#define V(d)	d, sizeof(d) - 1

START_TEST(peek_needs_whole_frame)
{
	static const uint8_t wire[] = { 3, 0, 0, 7, 'a', 'b', 'c', 'X' };
	struct mysql_frame f;
	size_t	 n;

	for (n = 0; n < 7; n++)
		ck_assert_int_eq(mysql_frame_peek(wire, n, &f),
		    MYSQL_NEED_MORE);
	ck_assert_int_eq(mysql_frame_peek(wire, sizeof(wire), &f),
	    MYSQL_PACKET);
	ck_assert_uint_eq(f.len, 3);
	ck_assert_uint_eq(f.seq, 7);
	ck_assert(!f.continued);
	ck_assert_mem_eq(f.payload, "abc", 3);
}
END_TEST

/* Two packets fed one byte at a time come out whole and in order. */
START_TEST(read_byte_by_byte)
{
	static const char wire[] = "\x05\x00\x00\x00" "\x03SELE"
	    "\x00\x00\x00\x01";
	struct mysql_reader r;
	struct mysql_packet p;
	struct buf in;
	size_t	 i, got = 0;
	int	 rc;

	mysql_reader_init(&r, 0);
	buf_init(&in, 0);
	for (i = 0; i < sizeof(wire) - 1; i++) {
		ck_assert_int_eq(buf_append(&in, wire + i, 1), 0);
		while ((rc = mysql_read(&r, &in, &p)) == MYSQL_PACKET) {
			if (got == 0) {
				ck_assert_uint_eq(p.len, 5);
				ck_assert_mem_eq(p.data, "\x03SELE", 5);
				ck_assert_uint_eq(p.seq, 0);
			} else {
				ck_assert_uint_eq(p.len, 0);
				ck_assert_uint_eq(p.seq, 1);
			}
			ck_assert_uint_eq(p.frames, 1);
			got++;
			mysql_reader_done(&r, &in);
		}
		ck_assert_int_eq(rc, MYSQL_NEED_MORE);
	}
	ck_assert_uint_eq(got, 2);
	ck_assert_uint_eq(buf_used(&in), 0);
	buf_free(&in);
	mysql_reader_free(&r);
}
END_TEST

START_TEST(sequence_checked)
{
	struct mysql_reader r;
	struct mysql_packet p;
	struct buf in;

	mysql_reader_init(&r, 0);
	buf_init(&in, 0);
	buf_append(&in, V("\x01\x00\x00\x02" "\x0e"));
	ck_assert_int_eq(mysql_read(&r, &in, &p), MYSQL_ERROR);
	ck_assert_ptr_nonnull(strstr(r.error, "sequence id 2, expected 0"));
	mysql_reader_expect(&r, 2);
	ck_assert_int_eq(mysql_read(&r, &in, &p), MYSQL_PACKET);
	mysql_reader_done(&r, &in);
	ck_assert_uint_eq(r.next_seq, 3);
	/* Unchecked, any id goes. */
	r.check_seq = false;
	buf_append(&in, V("\x00\x00\x00\x09"));
	ck_assert_int_eq(mysql_read(&r, &in, &p), MYSQL_PACKET);
	mysql_reader_done(&r, &in);
	buf_free(&in);
	mysql_reader_free(&r);
}
END_TEST

/* The cap fails on the header alone, before any payload is buffered. */
START_TEST(length_cap_fails_early)
{
	struct mysql_reader r;
	struct mysql_packet p;
	struct buf in;

	mysql_reader_init(&r, 100);
	buf_init(&in, 0);
	buf_append(&in, V("\x65\x00\x00\x00"));
	ck_assert_int_eq(mysql_read(&r, &in, &p), MYSQL_ERROR);
	ck_assert_ptr_nonnull(strstr(r.error, "exceeds the limit of 100"));
	buf_reset(&in);
	mysql_reader_init(&r, 100);
	buf_append(&in, V("\x64\x00\x00\x00"));
	ck_assert_int_eq(mysql_read(&r, &in, &p), MYSQL_NEED_MORE);
	buf_free(&in);
	mysql_reader_free(&r);
}
END_TEST

static const size_t long_lens[] = {
	MYSQL_MAX_FRAME - 1,		/* one frame */
	MYSQL_MAX_FRAME,		/* full frame + empty frame */
	MYSQL_MAX_FRAME + 1,
	2 * (size_t)MYSQL_MAX_FRAME,	/* two full + empty */
};
static const unsigned long_frames[] = { 1, 2, 2, 3 };

/* Write a long payload, check the frames, read it back fed in chunks. */
START_TEST(long_packets_roundtrip)
{
	size_t	 len = long_lens[_i], off, n, chunk = 1u << 20;
	unsigned want_frames = long_frames[_i], frames = 0;
	struct mysql_reader r;
	struct mysql_packet p;
	struct mysql_frame f;
	struct buf out, in;
	uint8_t	*payload, seq = 254;
	int	 rc = MYSQL_NEED_MORE;

	ck_assert_ptr_nonnull(payload = malloc(len));
	for (off = 0; off < len; off++)
		payload[off] = (uint8_t)(off * 7 + off / 65536);
	buf_init(&out, 64u << 20);
	ck_assert_int_eq(mysql_write(&out, &seq, payload, len), 0);
	ck_assert_uint_eq(buf_used(&out), mysql_wire_len(len));
	ck_assert_uint_eq(seq, (uint8_t)(254 + want_frames));
	/* Frames: full ones, then a short (maybe empty) last one. */
	for (off = 0; off < buf_used(&out); off += MYSQL_HDR_LEN + f.len) {
		ck_assert_int_eq(mysql_frame_peek(buf_head(&out) + off,
		    buf_used(&out) - off, &f), MYSQL_PACKET);
		ck_assert_uint_eq(f.seq, (uint8_t)(254 + frames));
		frames++;
		ck_assert(f.continued == (frames < want_frames));
	}
	ck_assert_uint_eq(frames, want_frames);

	mysql_reader_init(&r, 32u << 20);
	mysql_reader_expect(&r, 254);
	buf_init(&in, 4u << 20);	/* far less than the packet */
	for (off = 0; off < buf_used(&out); off += n) {
		n = buf_used(&out) - off < chunk ? buf_used(&out) - off : chunk;
		ck_assert_int_eq(rc, MYSQL_NEED_MORE);
		ck_assert_int_eq(buf_append(&in, buf_head(&out) + off, n), 0);
		rc = mysql_read(&r, &in, &p);
	}
	ck_assert_int_eq(rc, MYSQL_PACKET);
	ck_assert_uint_eq(p.len, len);
	ck_assert_uint_eq(p.frames, want_frames);
	ck_assert(memcmp(p.data, payload, len) == 0);
	mysql_reader_done(&r, &in);
	ck_assert_uint_eq(buf_used(&in), 0);
	ck_assert_uint_eq(r.next_seq, seq);
	free(payload);
	buf_free(&in);
	buf_free(&out);
	mysql_reader_free(&r);
}
END_TEST

START_TEST(write_small_and_all_or_nothing)
{
	struct buf out;
	uint8_t	 seq = 255;

	buf_init(&out, 16);
	ck_assert_int_eq(mysql_write(&out, &seq, "\x0e", 1), 0);
	ck_assert_uint_eq(buf_used(&out), 5);
	ck_assert_mem_eq(buf_head(&out), "\x01\x00\x00\xff\x0e", 5);
	ck_assert_uint_eq(seq, 0);
	ck_assert_int_eq(mysql_write(&out, &seq, "", 0), 0);
	ck_assert_mem_eq(buf_head(&out) + 5, "\x00\x00\x00\x00", 4);
	ck_assert_int_eq(mysql_write(&out, &seq, "12345678", 8), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(buf_used(&out), 9);
	ck_assert_uint_eq(seq, 1);
	buf_free(&out);
}
END_TEST

static const struct {
	uint64_t	 v;
	const char	*wire;
	size_t		 len;
} lenenc[] = {
	{ 0, V("\x00") },
	{ 250, V("\xfa") },
	{ 251, V("\xfc\xfb\x00") },
	{ 0xffff, V("\xfc\xff\xff") },
	{ 0x10000, V("\xfd\x00\x00\x01") },
	{ 0xffffff, V("\xfd\xff\xff\xff") },
	{ 0x1000000, V("\xfe\x00\x00\x00\x01\x00\x00\x00\x00") },
	{ UINT64_MAX, V("\xfe\xff\xff\xff\xff\xff\xff\xff\xff") },
};

START_TEST(lenenc_vectors)
{
	struct mysql_cur c;
	struct buf b;
	uint64_t v;
	size_t	 n;

	buf_init(&b, 0);
	ck_assert_int_eq(mysql_put_lenenc(&b, lenenc[_i].v), 0);
	ck_assert_uint_eq(buf_used(&b), lenenc[_i].len);
	ck_assert_uint_eq(mysql_lenenc_size(lenenc[_i].v), lenenc[_i].len);
	ck_assert_mem_eq(buf_head(&b), lenenc[_i].wire, lenenc[_i].len);
	mysql_cur_init(&c, lenenc[_i].wire, lenenc[_i].len);
	ck_assert_int_eq(mysql_get_lenenc(&c, &v), 0);
	ck_assert(v == lenenc[_i].v);
	ck_assert_uint_eq(mysql_cur_left(&c), 0);
	/* Every truncation fails and leaves the cursor alone. */
	for (n = 0; n < lenenc[_i].len; n++) {
		mysql_cur_init(&c, lenenc[_i].wire, n);
		ck_assert_int_eq(mysql_get_lenenc(&c, &v), -1);
		ck_assert_uint_eq(c.pos, 0);
	}
	buf_free(&b);
}
END_TEST

START_TEST(lenenc_refuses_null_and_err)
{
	struct mysql_cur c;
	uint64_t v;

	mysql_cur_init(&c, "\xfb", 1);
	ck_assert_int_eq(mysql_get_lenenc(&c, &v), -1);
	mysql_cur_init(&c, "\xff\x01\x02", 3);
	ck_assert_int_eq(mysql_get_lenenc(&c, &v), -1);
	ck_assert_uint_eq(c.pos, 0);
}
END_TEST

START_TEST(strings)
{
	struct mysql_cur c;
	struct mysql_str s;
	struct buf b;
	uint16_t u16;
	uint32_t u32;

	buf_init(&b, 0);
	mysql_put_lenenc_str(&b, "root", 4);
	mysql_put_nulstr(&b, "db1");
	mysql_put_u16(&b, 0x1234);
	mysql_put_u24(&b, 0xabcdef);
	buf_append(&b, "tail", 4);
	mysql_cur_init(&c, buf_head(&b), buf_used(&b));
	ck_assert_int_eq(mysql_get_lenenc_str(&c, &s), 0);
	ck_assert(mysql_str_eq(&s, "root"));
	ck_assert_int_eq(mysql_get_nulstr(&c, &s), 0);
	ck_assert(mysql_str_eq(&s, "db1"));
	ck_assert(!mysql_str_eq(&s, "db"));
	ck_assert_int_eq(mysql_get_u16(&c, &u16), 0);
	ck_assert_uint_eq(u16, 0x1234);
	ck_assert_int_eq(mysql_get_u24(&c, &u32), 0);
	ck_assert_uint_eq(u32, 0xabcdef);
	/* No NUL in "tail": fails, cursor stays; the rest is still there. */
	ck_assert_int_eq(mysql_get_nulstr(&c, &s), -1);
	ck_assert_int_eq(mysql_get_u32(&c, &u32), 0);
	ck_assert_int_eq(mysql_get_u8(&c, (uint8_t *)&u16), -1);
	mysql_get_rest(&c, &s);
	ck_assert_uint_eq(s.len, 0);
	/* A length that runs past the end. */
	mysql_cur_init(&c, "\x05" "abcd", 5);
	ck_assert_int_eq(mysql_get_lenenc_str(&c, &s), -1);
	ck_assert_uint_eq(c.pos, 0);
	ck_assert_int_eq(mysql_skip(&c, 6), -1);
	ck_assert_int_eq(mysql_skip(&c, 5), 0);
	buf_free(&b);
}
END_TEST

Suite *
mysql_packet_suite(void)
{
	Suite	*s = suite_create("mysql_packet");
	TCase	*tf = tcase_create("framing");
	TCase	*tl = tcase_create("long");
	TCase	*tc = tcase_create("fields");

	tcase_add_test(tf, peek_needs_whole_frame);
	tcase_add_test(tf, read_byte_by_byte);
	tcase_add_test(tf, sequence_checked);
	tcase_add_test(tf, length_cap_fails_early);
	tcase_add_test(tf, write_small_and_all_or_nothing);
	suite_add_tcase(s, tf);
	tcase_add_loop_test(tl, long_packets_roundtrip, 0,
	    sizeof(long_lens) / sizeof(long_lens[0]));
	suite_add_tcase(s, tl);
	tcase_add_loop_test(tc, lenenc_vectors, 0,
	    sizeof(lenenc) / sizeof(lenenc[0]));
	tcase_add_test(tc, lenenc_refuses_null_and_err);
	tcase_add_test(tc, strings);
	suite_add_tcase(s, tc);
	return s;
}
