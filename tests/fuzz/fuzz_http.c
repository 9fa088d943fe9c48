/* libFuzzer target for common/http.
 *
 * Input: byte 0 picks request or response, the request method for a
 * response, and default or tiny limits; byte 1 picks a split point. The
 * rest is parsed in one shot and again in two pieces (each from its own
 * exact-size heap copy, so reads past the end and pointers kept across
 * calls both show up); the outcomes must agree. On success the body is
 * read in one shot, split and byte by byte, which must also agree, then
 * pipelined messages after it are parsed the same way. Parsed fields are
 * written back with the writer and must parse to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"

#define MAX_FIELDS	100
#define MAX_MESSAGES	8

struct outcome {
	int		 rv;
	int		 status;
	struct http_msg	 msg;
	struct http_header h[MAX_FIELDS];
};

struct body_outcome {
	int		 result;
	int		 status;
	size_t		 consumed;
	size_t		 len;
	char		*data;		/* body bytes, up to the input size */
};

static void
check(int cond)
{
	if (!cond)
		abort();
}

static int
parse(struct http_parser *p, int response, enum http_method m, const char *d,
    size_t len, struct outcome *o)
{
	if (response)
		return http_parse_response(p, d, len, m, &o->msg);
	return http_parse_request(p, d, len, &o->msg);
}

/* Field-by-field equality; spans compared by offset from each base. */
static void
same_msg(const struct http_msg *a, const char *abase, const struct http_msg *b,
    const char *bbase)
{
	size_t	 i;

	check(a->method == b->method && a->minor == b->minor &&
	    a->status == b->status && a->body == b->body &&
	    a->content_length == b->content_length &&
	    a->keep_alive == b->keep_alive && a->must_close == b->must_close &&
	    a->upgrade == b->upgrade && a->tunnel == b->tunnel &&
	    a->expect_continue == b->expect_continue &&
	    a->target_len == b->target_len && a->host_len == b->host_len &&
	    a->nheaders == b->nheaders);
	check((a->host == NULL) == (b->host == NULL));
	if (a->host != NULL)
		check(a->host - abase == b->host - bbase);
	for (i = 0; i < a->nheaders; i++)
		check(a->headers[i].name - abase == b->headers[i].name - bbase &&
		    a->headers[i].value - abase == b->headers[i].value - bbase &&
		    a->headers[i].value_len == b->headers[i].value_len);
}

static void
read_body(const struct http_msg *m, const struct http_limits *l, const char *in,
    size_t len, size_t step, struct body_outcome *o)
{
	struct http_body_reader r;
	const char *d;
	size_t	 off = 0, avail, used, dlen;
	int	 rv;

	o->len = 0;
	http_body_init(&r, m, l);
	for (;;) {
		avail = len - off;
		if (step != 0 && avail > step)
			avail = step;
		rv = http_body_read(&r, in + off, avail, &used, &d, &dlen);
		check(used <= avail);
		off += used;
		if (rv == HTTP_BODY_DATA) {
			check(dlen > 0 && d >= in && d + dlen <= in + off);
			memcpy(o->data + o->len, d, dlen);
			o->len += dlen;
			continue;
		}
		if (rv == HTTP_BODY_NEED_MORE) {
			check(used == avail);
			if (off < len)
				continue;
			/* Until-close would swallow the rest: stop at the data. */
			if (m->body != HTTP_BODY_UNTIL_CLOSE)
				rv = http_body_eof(&r);
		}
		break;
	}
	o->result = rv;
	o->status = rv == HTTP_BODY_ERROR ? r.status : 0;
	o->consumed = off;
}

static void
same_body(const struct body_outcome *a, const struct body_outcome *b)
{
	check(a->result == b->result && a->status == b->status &&
	    a->consumed == b->consumed && a->len == b->len &&
	    memcmp(a->data, b->data, a->len) == 0);
}

/* Write each parsed field back and parse the result: same name and value. */
static void
roundtrip_fields(const struct http_msg *m)
{
	struct http_parser p;
	struct http_msg back;
	struct http_header h[MAX_FIELDS + 2];
	struct buf b;
	size_t	 i;

	buf_init(&b, 0);
	check(http_write_response_head(&b, 1, 200, m->headers, m->nheaders) == 0);
	http_parser_init(&p, NULL);
	http_msg_init(&back, h, MAX_FIELDS + 2);
	/* Framing fields may be refused in combination; only compare OK ones. */
	if (http_parse_response(&p, buf_head(&b), buf_used(&b), HTTP_M_GET,
	    &back) > 0) {
		check(back.nheaders == m->nheaders);
		for (i = 0; i < m->nheaders; i++)
			check(back.headers[i].name_len == m->headers[i].name_len &&
			    back.headers[i].value_len == m->headers[i].value_len &&
			    memcmp(back.headers[i].name, m->headers[i].name,
			    m->headers[i].name_len) == 0 &&
			    memcmp(back.headers[i].value, m->headers[i].value,
			    m->headers[i].value_len) == 0);
	}
	buf_free(&b);
}

static void
date_roundtrip(const char *s, size_t len)
{
	char	 out[HTTP_DATE_LEN];
	time_t	 t, t2;

	if (len > 40 || http_date_parse(s, len, &t) == -1)
		return;
	if (http_date(t, out) == NULL)
		return;
	check(http_date_parse(out, strlen(out), &t2) == 0 && t2 == t);
}

/* Parse one message at in[0..len) one-shot and split; returns the bytes
 * it used (head + body) or 0 to stop. */
static size_t
one_message(const char *in, size_t len, int response, enum http_method m,
    const struct http_limits *l, size_t split)
{
	static struct outcome one, two;
	struct body_outcome b1, b2;
	struct http_parser p1, p2;
	char	*c1, *c2, *base;
	size_t	 rest, used = 0;
	int	 rv;

	http_parser_init(&p1, l);
	http_msg_init(&one.msg, one.h, MAX_FIELDS);
	one.rv = parse(&p1, response, m, in, len, &one);
	one.status = p1.status;
	check(one.rv >= -1 && (size_t)(one.rv > 0 ? one.rv : 0) <= len);

	/* The same bytes in two calls, each from a fresh exact-size copy. */
	http_parser_init(&p2, l);
	http_msg_init(&two.msg, two.h, MAX_FIELDS);
	c1 = malloc(split > 0 ? split : 1);
	if (split > 0)
		memcpy(c1, in, split);
	base = c1;
	rv = parse(&p2, response, m, c1, split, &two);
	c2 = malloc(len);
	memcpy(c2, in, len);
	if (rv == 0) {
		base = c2;
		rv = parse(&p2, response, m, c2, len, &two);
	}
	check(rv == one.rv);
	if (rv == -1)
		check(p2.status == one.status && p2.error != NULL);
	if (rv > 0)
		same_msg(&one.msg, in, &two.msg, base);
	free(c1);
	free(c2);
	if (one.rv <= 0)
		return 0;
	if (response && one.msg.status / 100 == 1)
		return one.rv;
	roundtrip_fields(&one.msg);

	rest = len - one.rv;
	b1.data = malloc(rest + 1);
	b2.data = malloc(rest + 1);
	read_body(&one.msg, l, in + one.rv, rest, 0, &b1);
	read_body(&one.msg, l, in + one.rv, rest, split % 7 + 1, &b2);
	same_body(&b1, &b2);
	if (rest < 512) {
		read_body(&one.msg, l, in + one.rv, rest, 1, &b2);
		same_body(&b1, &b2);
	}
	if (b1.result == HTTP_BODY_DONE && one.msg.keep_alive)
		used = one.rv + b1.consumed;
	free(b1.data);
	free(b2.data);
	return used;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum http_method methods[] = {
		HTTP_M_GET, HTTP_M_HEAD, HTTP_M_CONNECT, HTTP_M_POST,
	};
	struct http_limits l;
	const char *in;
	size_t	 len, split, used, i;
	int	 response;

	if (size < 2)
		return 0;
	response = data[0] & 1;
	http_limits_default(&l);
	if (data[0] & 2) {
		/* Tiny limits reach every limit path with short inputs. */
		l.max_head = 128;
		l.max_headers = 4;
		l.max_chunk_ext = 8;
		l.max_trailers = 2;
		l.max_body = 64;
	}
	in = (const char *)data + 2;
	len = size - 2;
	split = len == 0 ? 0 : data[1] % (len + 1);
	date_roundtrip(in, len);
	for (i = 0; i < MAX_MESSAGES && len > 0; i++) {
		used = one_message(in, len, response,
		    methods[(data[0] >> 2) % 4], &l, split < len ? split : len);
		if (used == 0)
			break;
		in += used;
		len -= used;
	}
	return 0;
}
