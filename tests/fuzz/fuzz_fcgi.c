/* libFuzzer target for webd/webd_fcgi (built in: the fuzz rule links only
 * common/).
 *
 * Input: byte 0 picks max_head for the CGI head, a cap for the output buf
 * and the length of one long param value; byte 1 a split point. The rest
 * is (1) walked as a stream of FastCGI records, each record's prefix
 * re-parsed from an exact-size copy (must say NEED_MORE), STDOUT content
 * gathered and parsed as a CGI head; (2) parsed as a CGI head itself, whole
 * and split, the outcomes agreeing; (3) cut at '\n' into name/value pairs
 * (plus one long value) written with fcgi_write_params, then decoded back
 * to the same pairs; and written as STDIN records, read back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../webd/webd_fcgi.c"

#define MAX_PAIRS	64
#define HEAD_FIELDS	4

static void
check(int cond)
{
	if (!cond)
		abort();
}

static int
valid_value(const char *v, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
			return 0;
	return 1;
}

static int
head(const char *in, size_t len, size_t max_head, struct http_header *h,
    struct cgi_head *ch)
{
	int	 rv;
	size_t	 i;

	ch->headers = h;
	ch->cap = HEAD_FIELDS;
	rv = cgi_parse_head(in, len, max_head, ch);
	check(rv >= -1 && (rv <= 0 || ((size_t)rv <= len &&
	    (size_t)rv <= max_head && in[rv - 1] == '\n')));
	if (rv <= 0)
		return rv;
	check(ch->status >= 100 && ch->status <= 599);
	check(ch->nheaders <= ch->cap);
	for (i = 0; i < ch->nheaders; i++) {
		check(h[i].name >= in && h[i].name + h[i].name_len <= in + rv);
		check(h[i].value >= in && h[i].value + h[i].value_len <= in + rv);
		check(h[i].name_len > 0 && valid_value(h[i].value, h[i].value_len));
		check(strncasecmp(h[i].name, "Status", h[i].name_len) != 0 ||
		    h[i].name_len != 6);
	}
	return rv;
}

/* Whole and from an exact-size copy of a prefix: consistent outcomes. */
static void
head_split(const char *in, size_t len, size_t max_head, size_t split)
{
	struct http_header h[HEAD_FIELDS], h2[HEAD_FIELDS];
	struct cgi_head ch, ch2;
	char	*c;
	int	 rv, rv2;

	rv = head(in, len, max_head, h, &ch);
	c = malloc(split ? split : 1);
	memcpy(c, in, split);
	rv2 = head(c, split, max_head, h2, &ch2);
	if (rv > 0 && split >= (size_t)rv)
		check(rv2 == rv && ch2.status == ch.status &&
		    ch2.nheaders == ch.nheaders &&
		    ch2.has_length == ch.has_length);
	else if (rv >= 0)
		check(rv2 == 0);
	else
		check(rv2 <= 0);
	free(c);
}

/* Records of one type and id back to their content; 1 if an empty record
 * ended them. */
static int
gather(const struct buf *b, uint8_t type, uint16_t id, struct buf *out)
{
	struct fcgi_record r;
	const char *p = buf_head(b);
	size_t	 left = buf_used(b), used;
	int	 ended = 0;

	while (left > 0) {
		check(!ended);
		check(fcgi_parse_record(p, left, &used, &r) == FCGI_RECORD);
		check(r.type == type && r.id == id && used % 8 == 0);
		if (r.content_len == 0)
			ended = 1;
		check(buf_append(out, r.content, r.content_len) == 0);
		p += used;
		left -= used;
	}
	return ended;
}

static size_t
nv_len(const unsigned char **p, const unsigned char *end)
{
	size_t	 n;

	check(*p < end);
	if (**p < 0x80)
		return *(*p)++;
	check(end - *p >= 4);
	n = ((size_t)((*p)[0] & 0x7f) << 24) | ((size_t)(*p)[1] << 16) |
	    ((size_t)(*p)[2] << 8) | (*p)[3];
	*p += 4;
	return n;
}

static void
params_roundtrip(const char *in, size_t len, size_t longlen, size_t cap)
{
	struct fcgi_param pv[MAX_PAIRS + 1];
	struct buf b, blob;
	const unsigned char *p, *end;
	const char *s = in, *nl, *f[2];
	char	*longv;
	size_t	 n = 0, i, fl[2], k = 0, before;

	while (n < MAX_PAIRS && s <= in + len) {
		nl = memchr(s, '\n', in + len - s);
		f[k] = s;
		fl[k] = nl ? (size_t)(nl - s) : (size_t)(in + len - s);
		if (k++ == 1) {
			pv[n++] = (struct fcgi_param){ f[0], fl[0], f[1], fl[1] };
			k = 0;
		}
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	/* One long value that crosses a record boundary. */
	longv = malloc(longlen + 1);
	for (i = 0; i < longlen; i++)
		longv[i] = len ? in[i % len] : 'x';
	pv[n++] = (struct fcgi_param){ "LONG", 4, longv, longlen };

	buf_init(&b, cap);
	buf_init(&blob, 0);
	check(buf_append(&b, "XYZ", 3) == 0);
	before = buf_used(&b);
	if (fcgi_write_params(&b, 77, pv, n) == -1) {
		/* All or nothing. */
		check(buf_used(&b) == before && memcmp(buf_head(&b), "XYZ", 3) == 0);
		goto out;
	}
	buf_consume(&b, 3);
	check(gather(&b, FCGI_PARAMS, 77, &blob) == 1);
	p = (const unsigned char *)buf_head(&blob);
	end = p + buf_used(&blob);
	for (i = 0; i < n; i++) {
		check(nv_len(&p, end) == pv[i].name_len);
		check(nv_len(&p, end) == pv[i].value_len);
		check((size_t)(end - p) >= pv[i].name_len + pv[i].value_len);
		check(memcmp(p, pv[i].name, pv[i].name_len) == 0);
		p += pv[i].name_len;
		check(memcmp(p, pv[i].value, pv[i].value_len) == 0);
		p += pv[i].value_len;
	}
	check(p == end);

	/* The same bytes as a request body. */
	buf_reset(&b);
	buf_reset(&blob);
	if (fcgi_write_stdin(&b, 3, longv, longlen) == -1) {
		check(buf_used(&b) == 0);
		goto out;
	}
	/* Only the empty write ends the stream. */
	check(gather(&b, FCGI_STDIN, 3, &blob) == (longlen == 0));
	check(buf_used(&blob) == longlen &&
	    memcmp(buf_head(&blob), longv, longlen) == 0);
out:
	buf_free(&b);
	buf_free(&blob);
	free(longv);
}

/* Walk in as records; STDOUT content goes to out. */
static void
walk_records(const char *in, size_t len, struct buf *out)
{
	struct fcgi_record r;
	size_t	 used, cut, unused;
	char	*c;
	int	 rv;

	while (len > 0) {
		rv = fcgi_parse_record(in, len, &used, &r);
		check(rv == FCGI_RECORD || rv == FCGI_NEED_MORE ||
		    rv == FCGI_ERROR);
		if (rv != FCGI_RECORD)
			return;
		check(used >= 8 && used <= len);
		check(r.content == in + 8 && 8 + r.content_len <= used);
		check(r.type != FCGI_END_REQUEST || r.content_len == 8);
		/* Any proper prefix of a good record is incomplete. */
		cut = (used * 7 + len) % used;
		c = malloc(cut ? cut : 1);
		memcpy(c, in, cut);
		check(fcgi_parse_record(c, cut, &unused, &r) == FCGI_NEED_MORE);
		free(c);
		check(fcgi_parse_record(in, len, &unused, &r) == FCGI_RECORD);
		if (r.type == FCGI_STDOUT)
			(void)buf_append(out, r.content, r.content_len);
		in += used;
		len -= used;
	}
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t max_heads[] = { 16, 64, 1024, 65536 };
	static const size_t caps[] = { 0, 64, 4096, 70000 };
	struct http_header h[HEAD_FIELDS];
	struct cgi_head ch;
	struct buf out;
	const char *in;
	size_t	 len, split, max_head;

	if (size < 2)
		return 0;
	in = (const char *)data + 2;
	len = size - 2;
	split = len == 0 ? 0 : data[1] % (len + 1);
	max_head = max_heads[data[0] & 3];

	buf_init(&out, 0);
	walk_records(in, len, &out);
	if (buf_used(&out) > 0)
		(void)head(buf_head(&out), buf_used(&out), max_head, h, &ch);
	buf_free(&out);

	head_split(in, len, max_head, split);
	params_roundtrip(in, len, (data[0] >> 4) * 5000, caps[(data[0] >> 2) & 3]);
	return 0;
}
