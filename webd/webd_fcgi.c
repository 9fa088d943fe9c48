/* webd_fcgi — FastCGI 1.0 codec: request records out, response records
 * in, and the CGI response head (RFC 3875 6.3) inside STDOUT. Pure: no
 * I/O, no allocation beyond the caller's buf.
 *
 * Decisions:
 * - Records carry up to FCGI_MAX_CONTENT (65535) content bytes and are
 *   padded to a multiple of 8 as the spec recommends (a full record gets
 *   one padding byte). Padding bytes are zero.
 * - Name and value lengths above 0x7fffffff cannot be encoded: EINVAL.
 * - fcgi_parse_record fails on a bad version as soon as the first byte is
 *   in, and on a bad END_REQUEST length as soon as the header is in.
 * - cgi_parse_head is stateless: call it again from the start with more
 *   bytes. The head may not exceed max_head (capped at INT_MAX) bytes,
 *   empty line included. A duplicate Status or Content-Length is refused
 *   (-1); Content-Length must also fit in 64 bits. Status has an optional
 *   reason. Any Location without Status gives 302, even a local path,
 *   where RFC 3875 6.2.2 would have the server redirect internally. A head
 *   with no field at all is accepted as 200.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "webd.h"

#define FCGI_HEADER_LEN		8
#define FCGI_KEEP_CONN		1
#define FCGI_END_BODY_LEN	8
#define FCGI_LEN_MAX		0x7fffffffU	/* 4-byte name/value length */

/* Padding that brings n content bytes to a multiple of 8. */
static size_t
fcgi_pad(size_t n)
{
	return (8 - n % 8) % 8;
}

static void
put_header(char *p, uint8_t type, uint16_t id, size_t clen)
{
	p[0] = FCGI_VERSION_1;
	p[1] = type;
	p[2] = id >> 8;
	p[3] = id & 0xff;
	p[4] = clen >> 8;
	p[5] = clen & 0xff;
	p[6] = fcgi_pad(clen);
	p[7] = 0;
}

/* Bytes taken by n content bytes as a run of records (none for n == 0),
 * or -1 on overflow. */
static int
stream_size(size_t n, size_t *out)
{
	size_t	 full = n / FCGI_MAX_CONTENT, rem = n % FCGI_MAX_CONTENT;
	size_t	 per = FCGI_HEADER_LEN + FCGI_MAX_CONTENT +
		    fcgi_pad(FCGI_MAX_CONTENT);
	size_t	 tail = rem ? FCGI_HEADER_LEN + rem + fcgi_pad(rem) : 0;

	if (__builtin_mul_overflow(full, per, out) ||
	    __builtin_add_overflow(*out, tail, out))
		return -1;
	return 0;
}

/* Writes a byte stream into room already reserved, opening a record
 * whenever the open one is full. */
struct fcgi_stream {
	char		*p;		/* next byte */
	char		*hdr;		/* header of the open record, or NULL */
	size_t		 clen;		/* content in the open record */
	uint8_t		 type;
	uint16_t	 id;
};

static void
stream_close(struct fcgi_stream *s)
{
	size_t	 pad;

	if (s->hdr == NULL)
		return;
	put_header(s->hdr, s->type, s->id, s->clen);
	pad = fcgi_pad(s->clen);
	memset(s->p, 0, pad);
	s->p += pad;
	s->hdr = NULL;
}

static void
stream_put(struct fcgi_stream *s, const void *data, size_t n)
{
	const char *d = data;
	size_t	 k;

	while (n > 0) {
		if (s->hdr != NULL && s->clen == FCGI_MAX_CONTENT)
			stream_close(s);
		if (s->hdr == NULL) {
			s->hdr = s->p;
			s->p += FCGI_HEADER_LEN;
			s->clen = 0;
		}
		k = FCGI_MAX_CONTENT - s->clen;
		if (k > n)
			k = n;
		memcpy(s->p, d, k);
		s->p += k;
		s->clen += k;
		d += k;
		n -= k;
	}
}

/* Append an empty record of type. */
static void
stream_end(struct fcgi_stream *s)
{
	stream_close(s);
	put_header(s->p, s->type, s->id, 0);
	s->p += FCGI_HEADER_LEN;
}

static void
stream_start(struct fcgi_stream *s, struct buf *out, uint8_t type, uint16_t id)
{
	s->p = buf_tail(out);
	s->hdr = NULL;
	s->clen = 0;
	s->type = type;
	s->id = id;
}

int
fcgi_write_begin(struct buf *out, uint16_t id, bool keep_conn)
{
	char	*p;

	if (buf_reserve(out, 2 * FCGI_HEADER_LEN) == -1)
		return -1;
	p = buf_tail(out);
	put_header(p, FCGI_BEGIN_REQUEST, id, 8);
	memset(p + FCGI_HEADER_LEN, 0, 8);
	p[FCGI_HEADER_LEN + 1] = FCGI_RESPONDER;	/* role, big-endian */
	p[FCGI_HEADER_LEN + 2] = keep_conn ? FCGI_KEEP_CONN : 0;
	buf_commit(out, 2 * FCGI_HEADER_LEN);
	return 0;
}

int
fcgi_write_abort(struct buf *out, uint16_t id)
{
	if (buf_reserve(out, FCGI_HEADER_LEN) == -1)
		return -1;
	put_header(buf_tail(out), FCGI_ABORT_REQUEST, id, 0);
	buf_commit(out, FCGI_HEADER_LEN);
	return 0;
}

int
fcgi_write_stdin(struct buf *out, uint16_t id, const void *data, size_t len)
{
	struct fcgi_stream s;
	size_t	 total;

	if (len == 0)
		total = FCGI_HEADER_LEN;
	else if (stream_size(len, &total) == -1) {
		errno = ENOBUFS;
		return -1;
	}
	if (buf_reserve(out, total) == -1)
		return -1;
	stream_start(&s, out, FCGI_STDIN, id);
	if (len == 0)
		stream_end(&s);
	else {
		stream_put(&s, data, len);
		stream_close(&s);
	}
	buf_commit(out, total);
	return 0;
}

/* Name-value length prefix: 1 byte below 128, else 4 with the top bit. */
static size_t
nv_len_size(size_t n)
{
	return n > 127 ? 4 : 1;
}

static void
nv_len_put(struct fcgi_stream *s, size_t n)
{
	unsigned char b[4];

	if (n <= 127) {
		b[0] = n;
		stream_put(s, b, 1);
		return;
	}
	b[0] = ((n >> 24) & 0x7f) | 0x80;
	b[1] = (n >> 16) & 0xff;
	b[2] = (n >> 8) & 0xff;
	b[3] = n & 0xff;
	stream_put(s, b, 4);
}

int
fcgi_write_params(struct buf *out, uint16_t id, const struct fcgi_param *pv,
    size_t n)
{
	struct fcgi_stream s;
	size_t	 i, enc = 0, total;

	for (i = 0; i < n; i++) {
		if (pv[i].name_len > FCGI_LEN_MAX ||
		    pv[i].value_len > FCGI_LEN_MAX) {
			errno = EINVAL;
			return -1;
		}
		if (__builtin_add_overflow(enc, nv_len_size(pv[i].name_len) +
		    nv_len_size(pv[i].value_len), &enc) ||
		    __builtin_add_overflow(enc, pv[i].name_len, &enc) ||
		    __builtin_add_overflow(enc, pv[i].value_len, &enc))
			goto nobufs;
	}
	if (stream_size(enc, &total) == -1 ||
	    __builtin_add_overflow(total, FCGI_HEADER_LEN, &total))
		goto nobufs;
	if (buf_reserve(out, total) == -1)
		return -1;
	stream_start(&s, out, FCGI_PARAMS, id);
	for (i = 0; i < n; i++) {
		nv_len_put(&s, pv[i].name_len);
		nv_len_put(&s, pv[i].value_len);
		stream_put(&s, pv[i].name, pv[i].name_len);
		stream_put(&s, pv[i].value, pv[i].value_len);
	}
	stream_end(&s);
	buf_commit(out, total);
	return 0;
nobufs:
	errno = ENOBUFS;
	return -1;
}

int
fcgi_parse_record(const char *in, size_t len, size_t *consumed,
    struct fcgi_record *r)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t	 clen, total;

	if (len >= 1 && u[0] != FCGI_VERSION_1)
		return FCGI_ERROR;
	if (len < FCGI_HEADER_LEN)
		return FCGI_NEED_MORE;
	clen = (size_t)u[4] << 8 | u[5];
	if (u[1] == FCGI_END_REQUEST && clen != FCGI_END_BODY_LEN)
		return FCGI_ERROR;
	total = FCGI_HEADER_LEN + clen + u[6];
	if (len < total)
		return FCGI_NEED_MORE;

	memset(r, 0, sizeof(*r));
	r->type = u[1];
	r->id = (uint16_t)(u[2] << 8 | u[3]);
	r->content = in + FCGI_HEADER_LEN;
	r->content_len = clen;
	if (r->type == FCGI_END_REQUEST) {
		u += FCGI_HEADER_LEN;
		r->app_status = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
		    (uint32_t)u[2] << 8 | u[3];
		r->protocol_status = u[4];
	}
	*consumed = total;
	return FCGI_RECORD;
}

/* ---- CGI response head ---- */

enum cgi_field { CGI_OTHER, CGI_STATUS, CGI_LOCATION, CGI_LENGTH };

#define CGI_SEEN(f)	(1U << (f))

static int	cgi_status(struct cgi_head *, const char *, size_t);
static int	cgi_length(struct cgi_head *, const char *, size_t);

/* Fields the head parser looks at; unique ones may appear once. */
static const struct {
	const char	*name;
	enum cgi_field	 field;
	bool		 copy;		/* passed on to the caller */
	bool		 unique;
	int		(*check)(struct cgi_head *, const char *, size_t);
} cgi_fields[] = {
	{ "Status",		CGI_STATUS,	false,	true,	cgi_status },
	{ "Location",		CGI_LOCATION,	true,	false,	NULL },
	{ "Content-Length",	CGI_LENGTH,	true,	true,	cgi_length },
};

/* status-code [ SP reason-phrase ], 100-599. */
static int
cgi_status(struct cgi_head *h, const char *v, size_t len)
{
	int	 code = 0;
	size_t	 i;

	if (len < 3 || (len > 3 && v[3] != ' '))
		return -1;
	for (i = 0; i < 3; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		code = code * 10 + (v[i] - '0');
	}
	if (code < 100 || code > 599)
		return -1;
	h->status = code;
	return 0;
}

/* 1*DIGIT that fits in 64 bits, so the caller can convert it safely. */
static int
cgi_length(struct cgi_head *h, const char *v, size_t len)
{
	uint64_t n = 0;
	size_t	 i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9' ||
		    __builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(v[i] - '0'), &n))
			return -1;
	}
	h->has_length = true;
	h->length = n;
	return 0;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* One field line (line ending removed); *seen collects special fields. */
static int
cgi_field_line(struct cgi_head *h, const char *line, size_t len,
    unsigned *seen)
{
	const char *v;
	size_t	 nlen, vlen, i;
	unsigned char c;

	for (nlen = 0; nlen < len && line[nlen] != ':'; nlen++)
		if (!http_is_tchar((unsigned char)line[nlen]))
			return -1;	/* also space before ':' and folding */
	if (nlen == 0 || nlen == len)
		return -1;
	v = line + nlen + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && is_ows(*v)) {
		v++;
		vlen--;
	}
	while (vlen > 0 && is_ows(v[vlen - 1]))
		vlen--;
	/* A CR left in the line, NUL or other controls: refuse (splitting). */
	for (i = 0; i < vlen; i++) {
		c = v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}

	for (i = 0; i < sizeof(cgi_fields) / sizeof(cgi_fields[0]); i++) {
		if (strlen(cgi_fields[i].name) != nlen ||
		    strncasecmp(cgi_fields[i].name, line, nlen) != 0)
			continue;
		if (cgi_fields[i].unique &&
		    (*seen & CGI_SEEN(cgi_fields[i].field)))
			return -1;
		*seen |= CGI_SEEN(cgi_fields[i].field);
		if (cgi_fields[i].check != NULL &&
		    cgi_fields[i].check(h, v, vlen) == -1)
			return -1;
		if (!cgi_fields[i].copy)
			return 0;
		break;
	}
	if (h->nheaders == h->cap)
		return -1;
	h->headers[h->nheaders].name = line;
	h->headers[h->nheaders].name_len = nlen;
	h->headers[h->nheaders].value = v;
	h->headers[h->nheaders].value_len = vlen;
	h->nheaders++;
	return 0;
}

int
cgi_parse_head(const char *in, size_t len, size_t max_head, struct cgi_head *h)
{
	const char *lf;
	size_t	 pos = 0, end, limit;
	unsigned seen = 0;

	if (max_head > INT_MAX)
		max_head = INT_MAX;	/* the length must fit the return */
	limit = len < max_head ? len : max_head;
	h->status = 200;
	h->nheaders = 0;
	h->has_length = false;
	while (pos < limit) {
		if ((lf = memchr(in + pos, '\n', limit - pos)) == NULL)
			break;
		end = lf - in;
		if (end > pos && in[end - 1] == '\r')
			end--;
		if (end == pos) {
			if (!(seen & CGI_SEEN(CGI_STATUS)) &&
			    (seen & CGI_SEEN(CGI_LOCATION)))
				h->status = 302;
			return (int)(lf - in + 1);
		}
		if (cgi_field_line(h, in + pos, end - pos, &seen) == -1)
			return -1;
		pos = lf - in + 1;
	}
	/* No empty line within max_head: it will not come in time. */
	return len >= max_head ? -1 : 0;
}
