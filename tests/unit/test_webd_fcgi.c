/* Unit tests for webd/webd_fcgi: record writers byte by byte, params
 * encoding decoded back, the record parser, and the CGI response head. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "suites.h"
#include "webd.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define S(lit)		lit, sizeof(lit) - 1	/* bytes + length, NULs kept */

static void
assert_bytes(const struct buf *b, const char *want, size_t len)
{
	ck_assert_uint_eq(buf_used(b), len);
	ck_assert_int_eq(memcmp(buf_head(b), want, len), 0);
}

/* --- writers: exact bytes --- */

START_TEST(begin_bytes)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(fcgi_write_begin(&b, 0x1234, true), 0);
	assert_bytes(&b, S("\x01\x01\x12\x34\x00\x08\x00\x00"
	    "\x00\x01\x01\x00\x00\x00\x00\x00"));
	buf_reset(&b);
	ck_assert_int_eq(fcgi_write_begin(&b, 1, false), 0);
	assert_bytes(&b, S("\x01\x01\x00\x01\x00\x08\x00\x00"
	    "\x00\x01\x00\x00\x00\x00\x00\x00"));
	buf_free(&b);
}
END_TEST

START_TEST(abort_bytes)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(fcgi_write_abort(&b, 0xbeef), 0);
	assert_bytes(&b, S("\x01\x02\xbe\xef\x00\x00\x00\x00"));
	buf_free(&b);
}
END_TEST

START_TEST(stdin_bytes)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(fcgi_write_stdin(&b, 1, "hello", 5), 0);
	assert_bytes(&b, S("\x01\x05\x00\x01\x00\x05\x03\x00" "hello\0\0\0"));
	buf_reset(&b);
	ck_assert_int_eq(fcgi_write_stdin(&b, 1, "12345678", 8), 0);
	assert_bytes(&b, S("\x01\x05\x00\x01\x00\x08\x00\x00" "12345678"));
	buf_reset(&b);
	ck_assert_int_eq(fcgi_write_stdin(&b, 7, NULL, 0), 0);
	assert_bytes(&b, S("\x01\x05\x00\x07\x00\x00\x00\x00"));
	buf_free(&b);
}
END_TEST

START_TEST(params_bytes)
{
	static const struct fcgi_param pv[] = {
		{ "A", 1, "bc", 2 },
		{ "E", 1, "", 0 },
	};
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(fcgi_write_params(&b, 3, pv, NELEM(pv)), 0);
	assert_bytes(&b, S("\x01\x04\x00\x03\x00\x08\x00\x00"
	    "\x01\x02" "Abc" "\x01\x00" "E"
	    "\x01\x04\x00\x03\x00\x00\x00\x00"));
	/* No params at all: just the empty record. */
	buf_reset(&b);
	ck_assert_int_eq(fcgi_write_params(&b, 3, NULL, 0), 0);
	assert_bytes(&b, S("\x01\x04\x00\x03\x00\x00\x00\x00"));
	buf_free(&b);
}
END_TEST

/* 127 fits one length byte, 128 takes four with the top bit set. */
START_TEST(params_length_encoding)
{
	char	*name = malloc(128), *val = malloc(70000);
	struct fcgi_param p = { name, 127, val, 128 };
	struct buf b;
	const char *c;

	memset(name, 'n', 128);
	memset(val, 'v', 70000);
	buf_init(&b, 0);
	ck_assert_int_eq(fcgi_write_params(&b, 1, &p, 1), 0);
	c = buf_head(&b) + 8;
	ck_assert_int_eq(memcmp(c, "\x7f\x80\x00\x00\x80", 5), 0);
	buf_reset(&b);
	p.name_len = 128;
	p.value_len = 70000;
	ck_assert_int_eq(fcgi_write_params(&b, 1, &p, 1), 0);
	c = buf_head(&b) + 8;
	ck_assert_int_eq(memcmp(c, "\x80\x00\x00\x80\x80\x01\x11\x70", 8), 0);
	buf_free(&b);
	free(name);
	free(val);
}
END_TEST

START_TEST(params_too_long_einval)
{
	struct fcgi_param p = { "x", 0x80000000UL, "", 0 };
	struct buf b;

	buf_init(&b, 0);
	errno = 0;
	ck_assert_int_eq(fcgi_write_params(&b, 1, &p, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(buf_used(&b), 0);
	buf_free(&b);
}
END_TEST

/* --- decoding what the writers made --- */

/* Walk the records in b (all of one type and id, padded, each at most
 * FCGI_MAX_CONTENT) and gather their content into out. Returns the
 * number of records; *ended says an empty record closed the stream. */
static size_t
gather(const struct buf *b, uint8_t type, uint16_t id, struct buf *out,
    bool *ended)
{
	struct fcgi_record r;
	const char *p = buf_head(b);
	size_t	 left = buf_used(b), used, n = 0;

	*ended = false;
	while (left > 0) {
		ck_assert(!*ended);
		ck_assert_int_eq(fcgi_parse_record(p, left, &used, &r),
		    FCGI_RECORD);
		ck_assert_uint_eq(r.type, type);
		ck_assert_uint_eq(r.id, id);
		ck_assert_uint_le(r.content_len, FCGI_MAX_CONTENT);
		ck_assert_uint_eq(used % 8, 0);
		ck_assert_ptr_eq(r.content, p + 8);
		if (r.content_len == 0)
			*ended = true;
		ck_assert_int_eq(buf_append(out, r.content, r.content_len), 0);
		p += used;
		left -= used;
		n++;
	}
	return n;
}

static size_t
nv_len(const unsigned char **p, const unsigned char *end)
{
	size_t	 n;

	ck_assert(*p < end);
	if (**p < 0x80)
		return *(*p)++;
	ck_assert(end - *p >= 4);
	n = ((size_t)((*p)[0] & 0x7f) << 24) | ((size_t)(*p)[1] << 16) |
	    ((size_t)(*p)[2] << 8) | (*p)[3];
	ck_assert_uint_gt(n, 127);	/* shortest form */
	*p += 4;
	return n;
}

/* Decode a params blob into pv (pointers into blob); returns the count. */
static size_t
params_decode(const char *blob, size_t len, struct fcgi_param *pv, size_t cap)
{
	const unsigned char *p = (const unsigned char *)blob, *end = p + len;
	size_t	 n = 0;

	while (p < end) {
		ck_assert_uint_lt(n, cap);
		pv[n].name_len = nv_len(&p, end);
		pv[n].value_len = nv_len(&p, end);
		ck_assert_uint_ge((size_t)(end - p),
		    pv[n].name_len + pv[n].value_len);
		pv[n].name = (const char *)p;
		pv[n].value = (const char *)p + pv[n].name_len;
		p += pv[n].name_len + pv[n].value_len;
		n++;
	}
	return n;
}

static const size_t sizes[] = { 0, 1, 127, 128, 65535, 70000 };

/* Every name length with every value length, as one params stream. */
START_TEST(params_roundtrip_sizes)
{
	struct fcgi_param pv[NELEM(sizes) * NELEM(sizes)];
	struct fcgi_param back[NELEM(pv)];
	struct buf b, blob;
	char	*pool;
	size_t	 i, j, n = 0, nrec, enc = 0;
	bool	 ended;

	/* Names and values start at different offsets of one pool. */
	pool = malloc(70000 + NELEM(sizes));
	for (i = 0; i < 70000 + NELEM(sizes); i++)
		pool[i] = 'a' + i % 26;
	for (i = 0; i < NELEM(sizes); i++)
		for (j = 0; j < NELEM(sizes); j++, n++) {
			pv[n].name = pool + i;
			pv[n].name_len = sizes[i];
			pv[n].value = pool + j;
			pv[n].value_len = sizes[j];
			enc += (sizes[i] > 127 ? 4 : 1) + (sizes[j] > 127 ? 4 : 1) +
			    sizes[i] + sizes[j];
		}
	buf_init(&b, 4 * 1024 * 1024);
	buf_init(&blob, 4 * 1024 * 1024);
	ck_assert_int_eq(fcgi_write_params(&b, 9, pv, n), 0);
	nrec = gather(&b, FCGI_PARAMS, 9, &blob, &ended);
	ck_assert(ended);
	ck_assert_uint_eq(buf_used(&blob), enc);
	/* Full records, then the remainder, then the empty one. */
	ck_assert_uint_eq(nrec, (enc + FCGI_MAX_CONTENT - 1) / FCGI_MAX_CONTENT + 1);
	ck_assert_uint_eq(params_decode(buf_head(&blob), buf_used(&blob), back,
	    NELEM(back)), n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(back[i].name_len, pv[i].name_len);
		ck_assert_uint_eq(back[i].value_len, pv[i].value_len);
		ck_assert_int_eq(memcmp(back[i].name, pv[i].name,
		    pv[i].name_len), 0);
		ck_assert_int_eq(memcmp(back[i].value, pv[i].value,
		    pv[i].value_len), 0);
	}
	buf_free(&b);
	buf_free(&blob);
	free(pool);
}
END_TEST

/* A pair whose length prefix itself straddles two records. */
START_TEST(params_prefix_split)
{
	struct fcgi_param pv[2], back[2];
	struct buf b, blob;
	char	*v = calloc(1, 70000);
	bool	 ended;

	/* Pair 0 encodes to 1 + 4 + 1 + 65527 = 65533 bytes, so the first
	 * record ends inside the 4-byte value length of pair 1. */
	pv[0] = (struct fcgi_param){ "a", 1, v, 65527 };
	pv[1] = (struct fcgi_param){ "b", 1, v, 300 };
	buf_init(&b, 0);
	buf_init(&blob, 0);
	ck_assert_int_eq(fcgi_write_params(&b, 1, pv, 2), 0);
	/* Record 1 is full: pair 0 (65533 bytes) plus two bytes of pair 1. */
	ck_assert_int_eq(memcmp(buf_head(&b), "\x01\x04\x00\x01\xff\xff\x01\x00",
	    8), 0);
	ck_assert_uint_eq(gather(&b, FCGI_PARAMS, 1, &blob, &ended), 3);
	ck_assert(ended);
	ck_assert_uint_eq(params_decode(buf_head(&blob), buf_used(&blob), back,
	    2), 2);
	ck_assert_uint_eq(back[1].value_len, 300);
	ck_assert_int_eq(back[1].name[0], 'b');
	buf_free(&b);
	buf_free(&blob);
	free(v);
}
END_TEST

START_TEST(stdin_split)
{
	static const size_t lens[] = { 65534, 65535, 65536, 2 * 65535 + 10 };
	struct fcgi_record r;
	struct buf b, back;
	char	*data = malloc(2 * 65535 + 10);
	size_t	 i, k, nrec, used;
	bool	 ended;

	for (i = 0; i < 2 * 65535 + 10; i++)
		data[i] = i * 7;
	buf_init(&b, 0);
	buf_init(&back, 0);
	for (k = 0; k < NELEM(lens); k++) {
		buf_reset(&b);
		buf_reset(&back);
		ck_assert_int_eq(fcgi_write_stdin(&b, 2, data, lens[k]), 0);
		nrec = gather(&b, FCGI_STDIN, 2, &back, &ended);
		ck_assert(!ended);	/* only len 0 ends the stream */
		ck_assert_uint_eq(nrec, (lens[k] + 65534) / 65535);
		ck_assert_uint_eq(buf_used(&back), lens[k]);
		ck_assert_int_eq(memcmp(buf_head(&back), data, lens[k]), 0);
		/* The first record is full whenever the body is. */
		ck_assert_int_eq(fcgi_parse_record(buf_head(&b), buf_used(&b),
		    &used, &r), FCGI_RECORD);
		ck_assert_uint_eq(r.content_len, lens[k] < 65535 ? lens[k] : 65535);
	}
	buf_free(&b);
	buf_free(&back);
	free(data);
}
END_TEST

/* Every writer on a buffer too small: -1/ENOBUFS, contents untouched. */
START_TEST(all_or_nothing)
{
	struct fcgi_param p = { "NAME", 4, NULL, 100 };
	struct buf b;
	char	 val[100], before[64], fill[60];
	size_t	 used;

	memset(val, 'x', sizeof(val));
	p.value = val;
	memset(fill, 'f', sizeof(fill));
	fill[0] = 's';
	buf_init(&b, 64);
	ck_assert_int_eq(buf_append(&b, fill, sizeof(fill)), 0);
	buf_consume(&b, 3);	/* 57 used, 7 free after compaction */
	used = buf_used(&b);
	memcpy(before, buf_head(&b), used);

	errno = 0;
	ck_assert_int_eq(fcgi_write_begin(&b, 1, true), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	errno = 0;
	ck_assert_int_eq(fcgi_write_abort(&b, 1), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	errno = 0;
	ck_assert_int_eq(fcgi_write_stdin(&b, 1, val, 4), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	errno = 0;
	ck_assert_int_eq(fcgi_write_stdin(&b, 1, NULL, 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	errno = 0;
	ck_assert_int_eq(fcgi_write_params(&b, 1, &p, 1), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(buf_used(&b), used);
	ck_assert_int_eq(memcmp(buf_head(&b), before, used), 0);

	/* An exact fit works: 8 free after consuming one more. */
	buf_consume(&b, 1);
	ck_assert_int_eq(fcgi_write_abort(&b, 1), 0);
	ck_assert_uint_eq(buf_used(&b), 64);
	buf_free(&b);
}
END_TEST

/* --- record parser --- */

START_TEST(parse_every_prefix)
{
	/* STDOUT "hi" with 6 padding bytes, then END_REQUEST. */
	static const char rec[] = "\x01\x06\x00\x05\x00\x02\x06\x00" "hi"
	    "\0\0\0\0\0\0"
	    "\x01\x03\x00\x05\x00\x08\x00\x00" "\x01\x02\x03\x04\x02\0\0\0";
	struct fcgi_record r;
	size_t	 i, used = 99;
	char	*copy;

	for (i = 0; i < 16; i++) {
		/* Exact-size copies: ASan sees any read past the prefix. */
		copy = malloc(i ? i : 1);
		memcpy(copy, rec, i);
		ck_assert_int_eq(fcgi_parse_record(copy, i, &used, &r),
		    FCGI_NEED_MORE);
		free(copy);
	}
	ck_assert_uint_eq(used, 99);
	ck_assert_int_eq(fcgi_parse_record(rec, sizeof(rec) - 1, &used, &r),
	    FCGI_RECORD);
	ck_assert_uint_eq(used, 16);
	ck_assert_uint_eq(r.type, FCGI_STDOUT);
	ck_assert_uint_eq(r.id, 5);
	ck_assert_ptr_eq(r.content, rec + 8);
	ck_assert_uint_eq(r.content_len, 2);

	for (i = 0; i < 16; i++)
		ck_assert_int_eq(fcgi_parse_record(rec + 16, i, &used, &r),
		    FCGI_NEED_MORE);
	ck_assert_int_eq(fcgi_parse_record(rec + 16, 16, &used, &r),
	    FCGI_RECORD);
	ck_assert_uint_eq(used, 16);
	ck_assert_uint_eq(r.type, FCGI_END_REQUEST);
	ck_assert_uint_eq(r.app_status, 0x01020304);
	ck_assert_uint_eq(r.protocol_status, 2);
}
END_TEST

START_TEST(parse_padding_and_unknown_type)
{
	/* Type 11 (GET_VALUES_RESULT) on id 0, no content, 255 padding. */
	char	 in[8 + 255 + 3];
	struct fcgi_record r;
	size_t	 used;

	memset(in, 0, sizeof(in));
	memcpy(in, "\x01\x0b\x00\x00\x00\x00\xff\x00", 8);
	ck_assert_int_eq(fcgi_parse_record(in, 8 + 254, &used, &r),
	    FCGI_NEED_MORE);
	ck_assert_int_eq(fcgi_parse_record(in, sizeof(in), &used, &r),
	    FCGI_RECORD);
	ck_assert_uint_eq(used, 8 + 255);
	ck_assert_uint_eq(r.type, 11);
	ck_assert_uint_eq(r.id, 0);
	ck_assert_uint_eq(r.content_len, 0);
}
END_TEST

START_TEST(parse_errors)
{
	static const struct {
		const char	*in;
		size_t		 len;
	} bad[] = {
		{ S("\x00") },				/* version 0 at once */
		{ S("\x02\x06\x00\x01\x00\x00\x00\x00") },
		{ S("HTTP/1.1 400 Bad Request\r\n") },	/* not FastCGI */
		{ S("\x01\x03\x00\x01\x00\x07\x00\x00") },	/* END short */
		{ S("\x01\x03\x00\x01\x00\x09\x00\x00") },	/* END long */
		{ S("\x01\x03\x00\x01\x00\x00\x00\x00") },
	};
	struct fcgi_record r;
	size_t	 i, used;

	for (i = 0; i < NELEM(bad); i++)
		ck_assert_msg(fcgi_parse_record(bad[i].in, bad[i].len, &used,
		    &r) == FCGI_ERROR, "case %zu", i);
}
END_TEST

/* Writer output parses back as the same records. */
START_TEST(parse_writer_output)
{
	struct fcgi_record r;
	struct buf b;
	size_t	 used;

	buf_init(&b, 0);
	ck_assert_int_eq(fcgi_write_begin(&b, 42, true), 0);
	ck_assert_int_eq(fcgi_write_abort(&b, 42), 0);
	ck_assert_int_eq(fcgi_parse_record(buf_head(&b), buf_used(&b), &used,
	    &r), FCGI_RECORD);
	ck_assert_uint_eq(r.type, FCGI_BEGIN_REQUEST);
	ck_assert_uint_eq(r.content_len, 8);
	ck_assert_int_eq(memcmp(r.content, "\x00\x01\x01", 3), 0);
	buf_consume(&b, used);
	ck_assert_int_eq(fcgi_parse_record(buf_head(&b), buf_used(&b), &used,
	    &r), FCGI_RECORD);
	ck_assert_uint_eq(r.type, FCGI_ABORT_REQUEST);
	ck_assert_uint_eq(r.id, 42);
	ck_assert_uint_eq(used, buf_used(&b));
	buf_free(&b);
}
END_TEST

/* --- CGI response head --- */

#define OK	1	/* rv is the length of head */

static const struct {
	const char	*head;
	const char	*body;	/* follows the head, must stay untouched */
	int		 rv;	/* OK, 0 or -1 */
	int		 status;
	size_t		 nheaders;
	bool		 has_length;
	size_t		 max;	/* max_head, 0: 1024 */
	size_t		 cap;	/* header storage, 0: 8 */
} heads[] = {
	{ "Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\n", "<p>",
	    OK, 404, 1, false, 0, 0 },
	{ "Status: 204\r\n\r\n", "", OK, 204, 0, false, 0, 0 },
	{ "status: 500 Oops\r\n\r\n", "", OK, 500, 0, false, 0, 0 },
	{ "Status: 599\r\n\r\n", "", OK, 599, 0, false, 0, 0 },
	{ "Status: 100 \r\n\r\n", "", OK, 100, 0, false, 0, 0 },
	{ "Location: http://example.com/\r\n\r\n", "", OK, 302, 1, false, 0, 0 },
	{ "Location: /local\n\n", "", OK, 302, 1, false, 0, 0 },
	{ "Status: 301 Moved\r\nLocation: /a\r\n\r\n", "", OK, 301, 1, false,
	    0, 0 },
	{ "Location: /a\r\nStatus: 303\r\n\r\n", "", OK, 303, 1, false, 0, 0 },
	{ "Content-Type: text/plain\n\n", "hello\n\n", OK, 200, 1, false, 0, 0 },
	{ "A: 1\r\nB: 2\n\r\n", "x", OK, 200, 2, false, 0, 0 },
	{ "\r\n", "body", OK, 200, 0, false, 0, 0 },
	{ "\n", "", OK, 200, 0, false, 0, 0 },
	{ "X-Obs: caf\xc3\xa9\r\nX-Tab: a\tb\r\nX-Empty:\r\n\r\n", "",
	    OK, 200, 3, false, 0, 0 },
	{ "Content-Length: 12\r\n\r\n", "hello world\n", OK, 200, 1, true, 0, 0 },
	{ "Content-Length: 0\r\n\r\n", "", OK, 200, 1, true, 0, 0 },
	{ "Content-Length: 18446744073709551615\r\n\r\n", "", OK, 200, 1, true,
	    0, 0 },
	/* exactly max_head, and exactly cap fields */
	{ "A: 1\r\nB: 2\r\n\r\n", "", OK, 200, 2, false, 14, 2 },
	/* incomplete */
	{ "", "", 0, 0, 0, false, 0, 0 },
	{ "Content-Ty", "", 0, 0, 0, false, 0, 0 },
	{ "Content-Type: text/plain\r\n", "", 0, 0, 0, false, 0, 0 },
	{ "Content-Type: text/plain\r\n\r", "", 0, 0, 0, false, 0, 0 },
	/* too long: no empty line within max_head */
	{ "A: 1\r\nB: 2\r\n\r\n", "", -1, 0, 0, false, 13, 0 },
	{ "X-Long: 0123456789012345678901234567890123456789", "", -1, 0, 0,
	    false, 32, 0 },
	/* field names */
	{ "Cont(ent: x\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Content Type: x\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Content-Type : x\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "A: 1\r\n folded\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "NoColon\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ ": empty name\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	/* Status */
	{ "Status: 4040\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Status: 404Not Found\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Status: 99\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Status: 099 X\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Status: 600 X\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Status: abc\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Status:\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Status: 200\r\nStatus: 404\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Status: 200 OK\x01\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	/* too many fields */
	{ "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", "", -1, 0, 0, false, 0, 2 },
	/* Content-Length */
	{ "Content-Length: 1x\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Content-Length:\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Content-Length: -1\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Content-Length: 1 2\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "Content-Length: 18446744073709551616\r\n\r\n", "", -1, 0, 0, false,
	    0, 0 },
	{ "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", "", -1, 0, 0,
	    false, 0, 0 },
	/* controls and response splitting */
	{ "X: a\x01b\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "X: a\x7f\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "X: a\rb\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "X: a\r\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "X: a\r\nSet-Cookie\r: x\r\n\r\n", "", -1, 0, 0, false, 0, 0 },
	{ "\r\r\n", "", -1, 0, 0, false, 0, 0 },
};

START_TEST(head_table)
{
	struct http_header h[8];
	struct cgi_head ch;
	char	*in;
	size_t	 hl = strlen(heads[_i].head), bl = strlen(heads[_i].body);
	int	 rv;

	/* Exact-size copy so a read past the input shows under ASan. */
	in = malloc(hl + bl + 1);
	memcpy(in, heads[_i].head, hl);
	memcpy(in + hl, heads[_i].body, bl);
	ch.headers = h;
	ch.cap = heads[_i].cap ? heads[_i].cap : NELEM(h);
	rv = cgi_parse_head(in, hl + bl, heads[_i].max ? heads[_i].max : 1024,
	    &ch);
	if (heads[_i].rv != OK) {
		ck_assert_msg(rv == heads[_i].rv, "case %d: rv %d", _i, rv);
		free(in);
		return;
	}
	ck_assert_msg(rv == (int)hl, "case %d: rv %d", _i, rv);
	ck_assert_int_eq(ch.status, heads[_i].status);
	ck_assert_uint_eq(ch.nheaders, heads[_i].nheaders);
	ck_assert(ch.has_length == heads[_i].has_length);
	ck_assert_int_eq(memcmp(in + rv, heads[_i].body, bl), 0);
	free(in);
}
END_TEST

static int
span_eq(const char *p, size_t len, const char *want)
{
	return p != NULL && strlen(want) == len && memcmp(p, want, len) == 0;
}

START_TEST(head_fields_point_into_input)
{
	static const char in[] = "X-Powered-By: PHP/8.2\r\n"
	    "Content-type:   text/html; charset=UTF-8 \t\r\n"
	    "Status: 201 Created\r\n"
	    "Location:/items/7\n"
	    "\r\n"
	    "Status: 500\r\n\r\n";	/* body, not head */
	struct http_header h[4];
	struct cgi_head ch = { .headers = h, .cap = NELEM(h) };
	int	 rv;

	rv = cgi_parse_head(in, sizeof(in) - 1, 4096, &ch);
	ck_assert_int_eq(rv, strstr(in, "\r\nStatus: 500") + 2 - in);
	ck_assert_int_eq(ch.status, 201);
	ck_assert_uint_eq(ch.nheaders, 3);
	ck_assert(span_eq(h[0].name, h[0].name_len, "X-Powered-By"));
	ck_assert(span_eq(h[0].value, h[0].value_len, "PHP/8.2"));
	ck_assert(span_eq(h[1].name, h[1].name_len, "Content-type"));
	ck_assert(span_eq(h[1].value, h[1].value_len,
	    "text/html; charset=UTF-8"));
	ck_assert(span_eq(h[2].name, h[2].name_len, "Location"));
	ck_assert(span_eq(h[2].value, h[2].value_len, "/items/7"));
	ck_assert(h[0].name >= in && h[2].value < in + rv);
	ck_assert(!ch.has_length);
}
END_TEST

START_TEST(head_nul_in_value)
{
	static const char in[] = "X: a\0b\r\n\r\n";
	struct http_header h[2];
	struct cgi_head ch = { .headers = h, .cap = NELEM(h) };

	ck_assert_int_eq(cgi_parse_head(in, sizeof(in) - 1, 1024, &ch), -1);
}
END_TEST

/* Every proper prefix of a good head is incomplete, never an error. */
START_TEST(head_every_prefix)
{
	static const char in[] = "Status: 404 Not Found\r\n"
	    "Content-Type: text/html\nContent-Length: 3\r\n\r\n";
	struct http_header h[4];
	struct cgi_head ch = { .headers = h, .cap = NELEM(h) };
	size_t	 i;
	char	*copy;

	for (i = 0; i < sizeof(in) - 1; i++) {
		copy = malloc(i ? i : 1);
		memcpy(copy, in, i);
		ck_assert_msg(cgi_parse_head(copy, i, 1024, &ch) == 0,
		    "prefix %zu", i);
		free(copy);
	}
	ck_assert_int_eq(cgi_parse_head(in, sizeof(in) - 1, 1024, &ch),
	    (int)sizeof(in) - 1);
	ck_assert_int_eq(ch.status, 404);
	ck_assert_uint_eq(ch.nheaders, 2);
	ck_assert(ch.has_length);
}
END_TEST

Suite *
webd_fcgi_suite(void)
{
	Suite	*s = suite_create("webd_fcgi");
	TCase	*tc;

	tc = tcase_create("write");
	tcase_add_test(tc, begin_bytes);
	tcase_add_test(tc, abort_bytes);
	tcase_add_test(tc, stdin_bytes);
	tcase_add_test(tc, params_bytes);
	tcase_add_test(tc, params_length_encoding);
	tcase_add_test(tc, params_too_long_einval);
	tcase_add_test(tc, params_roundtrip_sizes);
	tcase_add_test(tc, params_prefix_split);
	tcase_add_test(tc, stdin_split);
	tcase_add_test(tc, all_or_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_every_prefix);
	tcase_add_test(tc, parse_padding_and_unknown_type);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, parse_writer_output);
	suite_add_tcase(s, tc);

	tc = tcase_create("cgi_head");
	tcase_add_loop_test(tc, head_table, 0, NELEM(heads));
	tcase_add_test(tc, head_fields_point_into_input);
	tcase_add_test(tc, head_nul_in_value);
	tcase_add_test(tc, head_every_prefix);
	suite_add_tcase(s, tc);
	return s;
}
