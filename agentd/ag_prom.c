/* ag_prom — reading Prometheus text exposition (format 0.0.4). Lines are
 *	# HELP name text | # TYPE name type | other comments
 *	name[{label="value",...}] value [timestamp]
 * Label values escape \\ \" and \n. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ag_prom.h"

static bool
name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':' || (!first && c >= '0' && c <= '9');
}

/* The end of the label set starting after '{' at p (the '}'), honouring
 * quotes and escapes; NULL when it does not close on this line. */
static const char *
labels_end(const char *p, const char *end)
{
	bool	 quoted = false;

	for (; p < end; p++) {
		if (quoted) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"')
			quoted = true;
		else if (*p == '}')
			return p;
	}
	return NULL;
}

static int
parse_line(const char *p, const char *end, struct ag_sample *s)
{
	const char	*q = p, *close;
	char		 num[64], *ep;
	size_t		 n;

	/* A malformed line still leaves a valid, empty sample. */
	s->name = s->labels = p;
	s->name_len = s->labels_len = 0;
	s->value = NAN;
	if (q == end || !name_char(*q, true))
		return -1;
	while (q < end && name_char(*q, false))
		q++;
	s->name = p;
	s->name_len = (size_t)(q - p);
	s->labels = q;
	s->labels_len = 0;
	if (q < end && *q == '{') {
		if ((close = labels_end(q + 1, end)) == NULL)
			return -1;
		s->labels = q + 1;
		s->labels_len = (size_t)(close - q - 1);
		q = close + 1;
	}
	if (q == end || (*q != ' ' && *q != '\t'))
		return -1;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	for (n = 0; q + n < end && q[n] != ' ' && q[n] != '\t'; n++)
		;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, q, n);
	num[n] = '\0';
	s->value = strtod(num, &ep);
	if (*ep != '\0')
		return -1;
	return 0;
}

int
ag_prom_next(const char *text, size_t len, size_t *pos, struct ag_sample *s)
{
	const char	*p, *end, *nl;

	while (*pos < len) {
		p = text + *pos;
		nl = memchr(p, '\n', len - *pos);
		end = nl != NULL ? nl : text + len;
		*pos = (size_t)(end - text) + (nl != NULL);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p == '#')
			continue;
		s->line = p;
		s->line_len = (size_t)(end - p);
		return parse_line(p, end, s) == 0 ? 1 : -1;
	}
	return 0;
}

/* Find label k in the sample's set; its value, unescaped, into v (cut to
 * vsize - 1 bytes, *vlen the full length). */
static bool
label_find(const struct ag_sample *s, const char *k, size_t klen, char *v,
    size_t vsize, size_t *vlen)
{
	const char	*p = s->labels, *end = s->labels + s->labels_len;
	const char	*name;
	size_t		 nlen, i;
	bool		 want;
	char		 c;

	while (p < end) {
		while (p < end && (*p == ',' || *p == ' '))
			p++;
		if (p == end)
			break;
		name = p;
		while (p < end && *p != '=')
			p++;
		nlen = (size_t)(p - name);
		if (p + 1 >= end || p[1] != '"')
			return false;
		p += 2;
		want = nlen == klen && memcmp(name, k, klen) == 0;
		for (i = 0; p < end && *p != '"'; p++, i++) {
			c = *p;
			if (c == '\\' && p + 1 < end) {
				p++;
				c = *p == 'n' ? '\n' : *p;
			}
			if (want && i + 1 < vsize)
				v[i] = c;
		}
		if (want) {
			if (vsize > 0)
				v[i < vsize ? i : vsize - 1] = '\0';
			*vlen = i;
			return true;
		}
		p++;	/* the closing quote */
	}
	return false;
}

static bool
has_label(const struct ag_sample *s, const char *k, size_t klen,
    const char *v, size_t vlen)
{
	char	 got[256];
	size_t	 glen;

	if (!label_find(s, k, klen, got, sizeof(got), &glen))
		return false;
	return glen == vlen && vlen < sizeof(got) && memcmp(got, v, vlen) == 0;
}

bool
ag_prom_match(const struct ag_sample *s, const char *sel)
{
	const char	*p = sel, *eq, *comma;

	if (sel == NULL)
		return true;
	while (*p != '\0') {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		if ((eq = memchr(p, '=', (size_t)(comma - p))) == NULL)
			return false;
		if (!has_label(s, p, (size_t)(eq - p), eq + 1,
		    (size_t)(comma - eq - 1)))
			return false;
		p = *comma == ',' ? comma + 1 : comma;
	}
	return true;
}

bool
ag_prom_sum(const char *text, size_t len, const char *name,
    const char *selector, double *sum)
{
	struct ag_sample s;
	size_t		 pos = 0, nlen = strlen(name);
	bool		 found = false;
	int		 rv;

	*sum = 0;
	while ((rv = ag_prom_next(text, len, &pos, &s)) != 0) {
		if (rv == -1 || s.name_len != nlen ||
		    memcmp(s.name, name, nlen) != 0 ||
		    !ag_prom_match(&s, selector) || isnan(s.value))
			continue;
		*sum += s.value;
		found = true;
	}
	return found;
}

static int
relabel_one(const struct ag_sample *s, const char *key, const char *value,
    uint64_t ts_ms, struct buf *out)
{
	const char	*rest = s->labels + s->labels_len;
	const char	*end = s->line + s->line_len;
	char		 tmp[1];
	size_t		 tlen;
	bool		 add = key != NULL &&
			    !label_find(s, key, strlen(key), tmp, sizeof(tmp),
			    &tlen);

	if (buf_append(out, s->name, s->name_len) == -1)
		return -1;
	if (add || s->labels_len > 0) {
		if (buf_append(out, "{", 1) == -1)
			return -1;
		if (add && buf_printf(out, "%s=\"%s\"%s", key, value,
		    s->labels_len > 0 ? "," : "") == -1)
			return -1;
		if (buf_append(out, s->labels, s->labels_len) == -1 ||
		    buf_append(out, "}", 1) == -1)
			return -1;
		if (s->labels_len > 0)
			rest++;		/* past the '}' */
	}
	/* The value (and any timestamp the line had, which ts replaces). */
	{
		const char *v = rest, *ve;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		for (ve = v; ve < end && *ve != ' ' && *ve != '\t'; ve++)
			;
		if (buf_append(out, " ", 1) == -1 ||
		    buf_append(out, v, (size_t)(ve - v)) == -1)
			return -1;
		if (ts_ms != 0) {
			if (buf_printf(out, " %llu",
			    (unsigned long long)ts_ms) == -1)
				return -1;
		} else if (ve < end && buf_append(out, ve,
		    (size_t)(end - ve)) == -1)
			return -1;
	}
	return buf_append(out, "\n", 1);
}

/* A "# HELP name" or "# TYPE name" comment of a family to skip. */
static bool
skipped_comment(const char *p, const char *end, const char *skip)
{
	size_t	 n = strlen(skip);

	if (end - p < 7 || (memcmp(p, "# HELP ", 7) != 0 &&
	    memcmp(p, "# TYPE ", 7) != 0))
		return false;
	return (size_t)(end - p - 7) >= n && memcmp(p + 7, skip, n) == 0;
}

int
ag_prom_relabel(const char *text, size_t len, const char *key,
    const char *value, uint64_t ts_ms, bool keep_comments, const char *skip,
    struct buf *out)
{
	struct ag_sample s;
	size_t		 before = buf_used(out), pos = 0, at;
	const char	*p, *nl;
	int		 rv;

	for (;;) {
		at = pos;
		if ((rv = ag_prom_next(text, len, &pos, &s)) == 0)
			break;
		/* Comments between the previous sample and this one. */
		if (keep_comments) {
			for (p = text + at; p < text + pos; p = nl + 1) {
				if ((nl = memchr(p, '\n', (size_t)(text + len -
				    p))) == NULL)
					nl = text + len;
				while (p < nl && (*p == ' ' || *p == '\t'))
					p++;
				if (p < nl && *p == '#' && (skip == NULL ||
				    !skipped_comment(p, nl, skip)) &&
				    (buf_append(out, p,
				    (size_t)(nl - p)) == -1 ||
				    buf_append(out, "\n", 1) == -1))
					goto full;
				if (nl == text + len)
					break;
			}
		}
		if (rv == -1 || (skip != NULL && s.name_len >= strlen(skip) &&
		    memcmp(s.name, skip, strlen(skip)) == 0))
			continue;
		if (relabel_one(&s, key, value, ts_ms, out) == -1)
			goto full;
	}
	return 0;
 full:
	out->len = out->off + before;
	return -1;
}
