/* ag_ship_body — what goes into a request body: spool records split,
 * Prometheus text turned into carbon2, gzip. Pure, no I/O. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "buf.h"
#include "log.h"
#include "ag_ship_int.h"

int
ag_rec_split(const char *rec, size_t len, const char **cat, size_t *catlen,
    const char **line, size_t *linelen)
{
	const char	*nl = memchr(rec, '\n', len);

	if (nl == NULL)
		return -1;
	*cat = rec;
	*catlen = (size_t)(nl - rec);
	*line = nl + 1;
	*linelen = len - *catlen - 1;
	return 0;
}

/* Label values in carbon2 end at a space: spaces become '_', Prometheus
 * escapes are undone. */
static int
put_label_value(struct buf *out, const char **pp, const char *end)
{
	const char	*p = *pp;
	char		 c;

	for (; p < end && *p != '"'; p++) {
		c = *p;
		if (c == '\\' && p + 1 < end) {
			c = *++p;
			if (c == 'n')
				c = '_';
		}
		if (c == ' ' || c == '=')
			c = '_';
		if (buf_append(out, &c, 1) == -1)
			return -1;
	}
	if (p == end)
		return 1;	/* unterminated */
	*pp = p + 1;
	return 0;
}

/* One line; 1 when it is not Prometheus text we can read. */
static int
carbon2_line(struct buf *out, const char *p, const char *end)
{
	const char	*name = p, *v, *ts;
	size_t		 mark = out->len, nlen, vlen, tslen;
	unsigned long long ms;
	char		 tbuf[32];
	int		 rc;

	while (p < end && *p != '{' && *p != ' ')
		p++;
	nlen = (size_t)(p - name);
	if (nlen == 0 || buf_puts(out, "metric=") == -1 ||
	    buf_append(out, name, nlen) == -1)
		goto fail;
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			const char *k = p;

			while (p < end && *p != '=')
				p++;
			if (p + 1 >= end || p[1] != '"')
				goto bad;
			if (buf_puts(out, " ") == -1 ||
			    buf_append(out, k, (size_t)(p - k)) == -1 ||
			    buf_puts(out, "=") == -1)
				goto fail;
			p += 2;
			if ((rc = put_label_value(out, &p, end)) != 0) {
				if (rc == -1)
					goto fail;
				goto bad;
			}
			if (p < end && *p == ',')
				p++;
		}
		if (p == end)
			goto bad;
		p++;
	}
	while (p < end && *p == ' ')
		p++;
	v = p;
	while (p < end && *p != ' ')
		p++;
	if ((vlen = (size_t)(p - v)) == 0)
		goto bad;
	while (p < end && *p == ' ')
		p++;
	ts = p;
	tslen = (size_t)(end - ts);
	for (p = ts; p < end && *p >= '0' && *p <= '9'; p++)
		;
	if (tslen > 0 && tslen < 20 && p == end) {
		memcpy(tbuf, ts, tslen);
		tbuf[tslen] = '\0';
		ms = strtoull(tbuf, NULL, 10);
	} else
		ms = (unsigned long long)time(NULL) * 1000;
	if (buf_puts(out, "  ") == -1 || buf_append(out, v, vlen) == -1 ||
	    buf_printf(out, " %llu\n", ms / 1000) == -1)
		goto fail;
	return 0;
bad:
	out->len = mark;
	return 1;
fail:
	out->len = mark;
	return -1;
}

int
ag_carbon2(struct buf *out, const char *text, size_t len)
{
	const char	*p = text, *end = text + len, *eol;
	int		 rc;

	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (eol > p && *p != '#') {
			rc = carbon2_line(out, p, eol);
			if (rc == -1)
				return -1;
			if (rc == 1 && (buf_append(out, p, (size_t)(eol - p))
			    == -1 || buf_puts(out, "\n") == -1))
				return -1;
		}
		p = eol + 1;
	}
	return 0;
}

int
ag_gzip(struct buf *out, const void *in, size_t len, char *err, size_t errlen)
{
	z_stream	 z;
	uLong		 bound;
	int		 rc;

	memset(&z, 0, sizeof(z));
	if ((rc = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16,
	    8, Z_DEFAULT_STRATEGY)) != Z_OK)
		return seterr(err, errlen, "gzip: deflateInit2: %d", rc);
	bound = deflateBound(&z, (uLong)len) + 32;
	buf_reset(out);
	if (buf_reserve(out, bound) == -1) {
		deflateEnd(&z);
		return seterr(err, errlen, "gzip: %lu bytes: %s", bound,
		    strerror(ENOBUFS));
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)buf_tail(out);
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END) {
		deflateEnd(&z);
		return seterr(err, errlen, "gzip: deflate: %d", rc);
	}
	buf_commit(out, bound - z.avail_out);
	deflateEnd(&z);
	return 0;
}
