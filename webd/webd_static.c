/* webd_static — static files: map the path beneath the root, pick the
 * representation (NAME or NAME.gz), apply conditionals and Range, and write
 * the status line and entity headers. No socket I/O here.
 *
 * Decisions (RFC 9110 leaves the choice):
 * - Files are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 *   relative to the root: symlinks that stay inside the root are followed,
 *   ones that leave it (absolute or via "..") are refused with 403.
 * - Files are opened O_NONBLOCK (a FIFO never blocks the loop); anything
 *   but a regular file or directory is then refused with 403.
 * - A Range with more than one range-spec is answered 200 with the whole
 *   file (RFC 9110 14.2 lets a server ignore Range); so is a malformed one.
 * - NAME.gz is whole-file only: any request carrying Range gets NAME, so
 *   HEAD and GET see the same headers. Vary: Accept-Encoding is sent
 *   whenever a regular NAME.gz exists, even one too old to be served.
 * - Errors to HEAD carry the Content-Length of the text but no body.
 * - Unexpected open/fstat errors (EMFILE, EIO...) are answered 500.
 * - The directory listing (when enabled) skips dot files and lists at most
 *   STATIC_LIST_MAX entries (403 past it); a page too big for body is -1.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "webd.h"

#define STATIC_ETAG_LEN		80
#define STATIC_LIST_MAX		1024
#define STATIC_OPEN_TRIES	4	/* openat2 EAGAIN: a rename raced us */

/* The representation being answered. */
struct rep {
	int		 fd;
	struct stat	 st;
	bool		 gzip;		/* NAME.gz in place of NAME */
	char		 etag[STATIC_ETAG_LEN];
	char		 lastmod[HTTP_DATE_LEN];	/* "" if unrepresentable */
};

struct sctx {
	const struct static_conf *sc;
	const struct static_req	*rq;
	struct buf		*head, *body;
	struct static_result	*res;
	char			 path[PATH_MAX];	/* normalised, '/'... */
	size_t			 plen;
	bool			 vary;
	struct rep		 f;
};

static const struct {
	int		 err;
	int		 status;
	const char	*reason;
} open_errors[] = {
	{ ENOENT,	404,	"not found" },
	{ ENOTDIR,	404,	"not found" },
	{ ENAMETOOLONG,	404,	"name too long" },
	{ EXDEV,	403,	"symlink escapes root" },
	{ ELOOP,	403,	"symlink loop or magic link" },
	{ EACCES,	403,	"permission denied" },
	{ EPERM,	403,	"permission denied" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

int
static_errno_status(int err)
{
	size_t	 i;

	for (i = 0; i < NELEM(open_errors); i++)
		if (open_errors[i].err == err)
			return open_errors[i].status;
	return 500;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
skip_ows(const char *s, const char *end)
{
	while (s < end && is_ows(*s))
		s++;
	return s;
}

static int
hexval(char c)
{
	if (!isxdigit((unsigned char)c))
		return -1;
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* ---- path ---- */

/* Decode one raw segment (no '/' in it) into dst, or only check and count
 * when dst is NULL. Decoded length, or -1 for a bad escape, NUL or %2F. */
static ssize_t
seg_decode(const char *s, size_t len, char *dst)
{
	size_t	 i, n = 0;
	int	 hi, lo;
	char	 c;

	for (i = 0; i < len; i++, n++) {
		c = s[i];
		if (c == '%') {
			if (len - i < 3 || (hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || c == '/')
			return -1;
		if (dst != NULL)
			dst[n] = c;
	}
	return n;
}

ssize_t
static_path_normalize(const char *raw, size_t len, char *out, size_t outlen)
{
	const char	*seg, *slash, *end = raw + len;
	char		 d[2];
	size_t		 o = 1, need;
	ssize_t		 n;

	if (len == 0 || raw[0] != '/' || outlen < 2) {
		errno = EINVAL;
		return -1;
	}
	/* out[0 .. o) always ends with '/' before a segment is added. */
	out[0] = '/';
	for (seg = raw + 1;; seg = slash + 1) {
		if ((slash = memchr(seg, '/', end - seg)) == NULL)
			slash = end;
		if ((n = seg_decode(seg, slash - seg, NULL)) == -1) {
			errno = EINVAL;
			return -1;
		}
		if (n <= 2)
			seg_decode(seg, slash - seg, d);
		if (n == 0 || (n == 1 && d[0] == '.')) {
			/* "" and "." name the directory itself */
		} else if (n == 2 && d[0] == '.' && d[1] == '.') {
			if (o == 1)
				return -2;
			for (o--; out[o - 1] != '/'; o--)
				;
		} else {
			need = n + (slash < end);
			if (need >= outlen - o) {
				errno = ENAMETOOLONG;
				return -1;
			}
			seg_decode(seg, slash - seg, out + o);
			o += n;
			if (slash < end)
				out[o++] = '/';
		}
		if (slash == end)
			break;
	}
	out[o] = '\0';
	return o;
}

/* path is normalised ("/..."); opened beneath root_fd, never above it. */
int
static_open_beneath(int root_fd, const char *path)
{
	struct open_how	 how;
	const char	*rel = path[1] != '\0' ? path + 1 : ".";
	int		 fd = -1, i;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	for (i = 0; i < STATIC_OPEN_TRIES; i++) {
		fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
		if (fd != -1 || errno != EAGAIN)
			break;
	}
	return fd;
}

/* Append s, percent-encoding all but unreserved bytes and those in keep. */
static int
pct_encode(struct buf *b, const char *s, size_t len, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char	 c;
	size_t		 i;
	int		 rv = 0;

	for (i = 0; i < len && rv == 0; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL ||
		    (c != '\0' && strchr(keep, c) != NULL))
			rv = buf_append(b, s + i, 1);
		else
			rv = buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return rv;
}

static int
html_escape(struct buf *b, const char *s)
{
	static const struct {
		char		 c;
		const char	*ent;
	} ents[] = {
		{ '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" },
		{ '"', "&quot;" }, { '\'', "&#39;" },
	};
	size_t	 i;
	int	 rv = 0;

	for (; *s != '\0' && rv == 0; s++) {
		for (i = 0; i < NELEM(ents) && ents[i].c != *s; i++)
			;
		rv = i < NELEM(ents) ? buf_puts(b, ents[i].ent) :
		    buf_append(b, s, 1);
	}
	return rv;
}

/* ---- answers ---- */

/* Status line, optional extra field, Content-Type and Content-Length of
 * a body already in x->body past body_start. HEAD gets no body bytes. */
static int
answer_body(struct sctx *x, int status, const char *reason, const char *type,
    size_t body_start, const char *name, const char *value)
{
	char	 clen[24];
	size_t	 n = buf_used(x->body) - body_start;

	snprintf(clen, sizeof(clen), "%zu", n);
	if (http_write_status_line(x->head, x->rq->minor == 0 ? 0 : 1, status,
	    NULL) == -1 ||
	    (name != NULL && http_write_header(x->head, name, value) == -1) ||
	    http_write_header(x->head, "Content-Type", type) == -1 ||
	    http_write_header(x->head, "Content-Length", clen) == -1)
		return -1;
	if (x->rq->method == HTTP_M_HEAD)
		x->body->len -= n;
	if (x->f.fd != -1) {
		close(x->f.fd);
		x->f.fd = -1;
	}
	x->res->status = status;
	x->res->reason = reason;
	return 0;
}

/* A short text/plain answer: "404 Not Found\n". */
static int
answer_text(struct sctx *x, int status, const char *reason, const char *name,
    const char *value)
{
	const char	*phrase = http_status_reason(status);
	size_t		 start = buf_used(x->body);

	if (buf_printf(x->body, "%d %s\n", status, phrase ? phrase : "") == -1)
		return -1;
	return answer_body(x, status, reason, "text/plain; charset=utf-8",
	    start, name, value);
}

static int
answer_errno(struct sctx *x, int err, const char *fallback)
{
	size_t	 i;

	for (i = 0; i < NELEM(open_errors); i++)
		if (open_errors[i].err == err)
			return answer_text(x, open_errors[i].status,
			    open_errors[i].reason, NULL, NULL);
	return answer_text(x, 500, fallback, NULL, NULL);
}

/* 301 to the normalised path plus '/', re-encoded: never "//host". */
static int
answer_redirect(struct sctx *x)
{
	struct buf	 loc;
	int		 rv = -1;

	buf_init(&loc, 3 * sizeof(x->path) + 2);
	if (pct_encode(&loc, x->path, x->plen, "/!$&'()*+,;=:@") == 0 &&
	    buf_puts(&loc, "/") == 0)
		rv = answer_text(x, 301, "directory redirect", "Location",
		    buf_cstr(&loc));
	buf_free(&loc);
	return rv;
}

/* Status line and entity headers for 200, 206 and 304, then hand the file
 * over (GET) or close it (HEAD, 304). */
static int
answer_file(struct sctx *x, int status, off_t first, off_t last)
{
	struct rep	*f = &x->f;
	char		 clen[24], crange[80];
	off_t		 len = status == 206 ? last - first + 1 : f->st.st_size;
	bool		 full = status != 304;	/* 304: validators only */
	size_t		 i;
	const struct {
		const char	*name;
		const char	*value;	/* NULL or "": not sent */
	} fields[] = {
		{ "Content-Type",	full ? mime_type(x->path, x->plen) : NULL },
		{ "Content-Length",	full ? clen : NULL },
		{ "Last-Modified",	f->lastmod },
		{ "ETag",		f->etag },
		{ "Accept-Ranges",	full ? "bytes" : NULL },
		{ "Content-Range",	status == 206 ? crange : NULL },
		{ "Content-Encoding",	full && f->gzip ? "gzip" : NULL },
		{ "Vary",		x->vary ? "Accept-Encoding" : NULL },
	};

	snprintf(clen, sizeof(clen), "%jd", (intmax_t)len);
	snprintf(crange, sizeof(crange), "bytes %jd-%jd/%jd", (intmax_t)first,
	    (intmax_t)last, (intmax_t)f->st.st_size);
	if (http_write_status_line(x->head, x->rq->minor == 0 ? 0 : 1, status,
	    NULL) == -1)
		return -1;
	for (i = 0; i < NELEM(fields); i++)
		if (fields[i].value != NULL && fields[i].value[0] != '\0' &&
		    http_write_header(x->head, fields[i].name,
		    fields[i].value) == -1)
			return -1;
	x->res->status = status;
	x->res->reason = status == 304 ? "not modified" : status == 206 ?
	    "range" : f->gzip ? "gzip sibling" : "file";
	if (status == 304 || x->rq->method == HTTP_M_HEAD) {
		close(f->fd);
		f->fd = -1;
		return 0;
	}
	x->res->fd = f->fd;
	x->res->offset = first;
	x->res->length = len;
	f->fd = -1;
	return 0;
}

/* ---- request headers ---- */

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths; -1 if malformed. */
static int
parse_q(const char **sp, const char *end)
{
	const char	*s = *sp;
	int		 q, scale;

	if (s == end || (*s != '0' && *s != '1'))
		return -1;
	q = (*s++ - '0') * 1000;
	if (s < end && *s == '.')
		for (s++, scale = 100; scale > 0 && s < end &&
		    *s >= '0' && *s <= '9'; s++, scale /= 10)
			q += (*s - '0') * scale;
	*sp = s;
	return q > 1000 ? -1 : q;
}

/* The q of one Accept-Encoding member from its parameters on; -1 when
 * malformed (the member is then not acceptable). */
static int
member_q(const char *s, const char *end)
{
	int	 q = 1000;

	while ((s = skip_ows(s, end)) < end) {
		if (*s++ != ';')
			return -1;
		s = skip_ows(s, end);
		if (end - s >= 2 && (s[0] == 'q' || s[0] == 'Q') && s[1] == '=') {
			s += 2;
			if ((q = parse_q(&s, end)) == -1)
				return -1;
		} else
			while (s < end && *s != ';')
				s++;
	}
	return q;
}

/* RFC 9110 12.5.3: gzip (or x-gzip) with q > 0, or failing an explicit
 * gzip member, "*" with q > 0. */
static bool
accepts_gzip(const char *v, size_t len)
{
	const char	*s = v, *end = v + len, *m, *t;
	int		 gz = -1, star = -1, q;

	while (s < end) {
		while (s < end && (is_ows(*s) || *s == ','))
			s++;
		for (m = s; s < end && *s != ','; s++)
			;
		for (t = m; t < s && http_is_tchar(*t); t++)
			;
		if (t == m)
			continue;
		q = member_q(t, s);
		if (((t - m == 4 && strncasecmp(m, "gzip", 4) == 0) ||
		    (t - m == 6 && strncasecmp(m, "x-gzip", 6) == 0)) && q > gz)
			gz = q;
		else if (t - m == 1 && *m == '*' && q > star)
			star = q;
	}
	return gz != -1 ? gz > 0 : star > 0;
}

/* Next entity-tag of a list: 1 (tag with its quotes), 0 at the end, -1
 * when malformed. */
static int
etag_next(const char **sp, const char *end, const char **tag, size_t *taglen,
    bool *weak)
{
	const char	*s = *sp, *q;

	while (s < end && (is_ows(*s) || *s == ','))
		s++;
	if (s == end)
		return 0;
	*weak = end - s >= 2 && s[0] == 'W' && s[1] == '/';
	if (*weak)
		s += 2;
	if (s == end || *s != '"' ||
	    (q = memchr(s + 1, '"', end - s - 1)) == NULL)
		return -1;
	*tag = s;
	*taglen = q + 1 - s;
	s = skip_ows(q + 1, end);
	if (s < end && *s != ',')
		return -1;
	*sp = s;
	return 1;
}

/* If-None-Match: "*" or a tag weakly equal to ours. Malformed: no match. */
static bool
none_match_hit(const char *v, size_t len, const char *etag)
{
	const char	*s = v, *end = v + len, *tag;
	size_t		 taglen;
	bool		 weak, hit = false;
	int		 r;

	if (len == 1 && *v == '*')
		return true;
	while ((r = etag_next(&s, end, &tag, &taglen, &weak)) == 1)
		if (taglen == strlen(etag) && memcmp(tag, etag, taglen) == 0)
			hit = true;
	return r == 0 && hit;
}

/* If-Range: a strong match of the ETag or the exact Last-Modified date. */
static bool
if_range_hit(const char *v, size_t len, const struct rep *f)
{
	const char	*s = v, *end = v + len, *tag;
	size_t		 taglen;
	bool		 weak;
	time_t		 t;

	/* The parser trimmed the value's OWS. */
	if (s < end && (*s == '"' || (end - s >= 2 && s[0] == 'W' &&
	    s[1] == '/')))
		return etag_next(&s, end, &tag, &taglen, &weak) == 1 &&
		    s == end && !weak && taglen == strlen(f->etag) &&
		    memcmp(tag, f->etag, taglen) == 0;
	return f->lastmod[0] != '\0' && http_date_parse(s, end - s, &t) == 0 &&
	    t == f->st.st_mtim.tv_sec;
}

enum range_kind { RANGE_IGNORE, RANGE_UNSAT, RANGE_OK };

/* Digits at *sp into *v, saturating at the largest off_t; false if none. */
static bool
range_num(const char **sp, const char *end, off_t *v)
{
	const char	*s = *sp;
	intmax_t	 n = 0, max = (intmax_t)((1ULL << (8 * sizeof(off_t) - 1)) - 1);

	for (; s < end && *s >= '0' && *s <= '9'; s++)
		n = n > (max - (*s - '0')) / 10 ? max : n * 10 + (*s - '0');
	if (s == *sp)
		return false;
	*v = (off_t)n;
	*sp = s;
	return true;
}

/* A single "bytes=" range over size bytes: first-last, first-, -suffix. */
static enum range_kind
range_parse(const char *v, size_t len, off_t size, off_t *first, off_t *last)
{
	const char	*s = v, *end = v + len;
	off_t		 a = 0, b = 0;
	bool		 hasa, hasb;

	if (len < 6 || strncasecmp(s, "bytes=", 6) != 0)
		return RANGE_IGNORE;
	s = skip_ows(s + 6, end);
	hasa = range_num(&s, end, &a);
	if (s == end || *s++ != '-')
		return RANGE_IGNORE;
	hasb = range_num(&s, end, &b);
	/* A second range-spec: answer the whole file; junk: ignore Range. */
	while (s < end && (is_ows(*s) || *s == ','))
		s++;
	if (s != end || (!hasa && !hasb) || (hasa && hasb && b < a))
		return RANGE_IGNORE;
	if (!hasa) {
		if (b == 0 || size == 0)
			return RANGE_UNSAT;
		*first = size - (b < size ? b : size);
		*last = size - 1;
		return RANGE_OK;
	}
	if (a >= size)
		return RANGE_UNSAT;
	*first = a;
	*last = hasb && b < size - 1 ? b : size - 1;
	return RANGE_OK;
}

/* ---- files ---- */

/* Swap in NAME.gz when it is a regular file beneath the root, no older
 * than NAME, the client takes gzip and sent no Range. */
static void
try_gzip(struct sctx *x)
{
	struct stat	 st;
	int		 fd;

	if ((x->plen >= 3 && strcmp(x->path + x->plen - 3, ".gz") == 0) ||
	    x->plen + 4 > sizeof(x->path))
		return;
	memcpy(x->path + x->plen, ".gz", 4);
	fd = static_open_beneath(x->sc->root_fd, x->path);
	x->path[x->plen] = '\0';
	if (fd == -1)
		return;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	x->vary = true;
	if (st.st_mtim.tv_sec < x->f.st.st_mtim.tv_sec ||
	    (st.st_mtim.tv_sec == x->f.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec < x->f.st.st_mtim.tv_nsec) ||
	    x->rq->range_len > 0 || x->rq->accept_encoding == NULL ||
	    !accepts_gzip(x->rq->accept_encoding, x->rq->accept_encoding_len)) {
		close(fd);
		return;
	}
	close(x->f.fd);
	x->f.fd = fd;
	x->f.st = st;
	x->f.gzip = true;
}

/* A regular file in x->f: representation, conditionals, range. */
static int
serve_file(struct sctx *x)
{
	const struct static_req *rq = x->rq;
	struct rep	*f = &x->f;
	off_t		 first = 0, last = 0;
	time_t		 t;

	if (!S_ISREG(f->st.st_mode))
		return answer_text(x, 403, "not a regular file", NULL, NULL);
	if (x->sc->gzip_static)
		try_gzip(x);
	snprintf(f->etag, sizeof(f->etag), "\"%jx.%lx-%jx-%jx\"",
	    (uintmax_t)f->st.st_mtim.tv_sec, (unsigned long)f->st.st_mtim.tv_nsec,
	    (uintmax_t)f->st.st_size, (uintmax_t)f->st.st_ino);
	if (http_date(f->st.st_mtim.tv_sec, f->lastmod) == NULL)
		f->lastmod[0] = '\0';

	/* RFC 9110 13.2.2: If-None-Match, else If-Modified-Since, then Range. */
	if (rq->if_none_match != NULL) {
		if (none_match_hit(rq->if_none_match, rq->if_none_match_len,
		    f->etag))
			return answer_file(x, 304, 0, 0);
	} else if (rq->if_modified_since != NULL &&
	    http_date_parse(rq->if_modified_since, rq->if_modified_since_len,
	    &t) == 0 && f->st.st_mtim.tv_sec <= t)
		return answer_file(x, 304, 0, 0);

	if (rq->method != HTTP_M_GET || rq->range == NULL ||
	    (rq->if_range != NULL &&
	    !if_range_hit(rq->if_range, rq->if_range_len, f)))
		return answer_file(x, 200, 0, 0);
	switch (range_parse(rq->range, rq->range_len, f->st.st_size, &first,
	    &last)) {
	case RANGE_OK:
		return answer_file(x, 206, first, last);
	case RANGE_UNSAT: {
		char	 cr[40];

		snprintf(cr, sizeof(cr), "bytes */%jd", (intmax_t)f->st.st_size);
		return answer_text(x, 416, "range not satisfiable",
		    "Content-Range", cr);
	}
	case RANGE_IGNORE:
		break;
	}
	return answer_file(x, 200, 0, 0);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An HTML page of the directory's entries, sorted, dot files skipped;
 * directories get a trailing '/'. Takes dfd. */
static int
dir_listing(struct sctx *x, int dfd)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		**names = NULL;
	size_t		 n = 0, i, start = buf_used(x->body);
	int		 rv = -1;
	bool		 dir;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return answer_errno(x, errno, "opendir failed");
	}
	if ((names = calloc(STATIC_LIST_MAX, sizeof(*names))) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == STATIC_LIST_MAX) {
			rv = answer_text(x, 403, "directory too large to list",
			    NULL, NULL);
			goto out;
		}
		dir = de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN &&
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode));
		if (asprintf(&names[n], "%s%s", de->d_name, dir ? "/" : "") == -1)
			goto out;
		n++;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	if (buf_puts(x->body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>Index of ") == -1 || html_escape(x->body, x->path) == -1 ||
	    buf_puts(x->body, "</title></head>\n<body><h1>Index of ") == -1 ||
	    html_escape(x->body, x->path) == -1 ||
	    buf_puts(x->body, "</h1>\n<ul>\n") == -1 ||
	    (x->plen > 1 &&
	    buf_puts(x->body, "<li><a href=\"../\">../</a></li>\n") == -1))
		goto out;
	/* href: "./" + fully percent-encoded name, so "x:y" is no scheme. */
	for (i = 0; i < n; i++)
		if (buf_puts(x->body, "<li><a href=\"./") == -1 ||
		    pct_encode(x->body, names[i], strlen(names[i]), "/") == -1 ||
		    buf_puts(x->body, "\">") == -1 ||
		    html_escape(x->body, names[i]) == -1 ||
		    buf_puts(x->body, "</a></li>\n") == -1)
			goto out;
	if (buf_puts(x->body, "</ul>\n</body></html>\n") == 0)
		rv = answer_body(x, 200, "listing", "text/html; charset=utf-8",
		    start, NULL, NULL);
out:
	if (rv == -1)
		x->body->len = x->body->off + start;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rv;
}

/* x->path names a directory and ends in '/': index names in order, then
 * the listing or 403. Takes dfd. */
static int
serve_dir(struct sctx *x, int dfd)
{
	const struct static_conf *sc = x->sc;
	size_t		 len;
	int		 i, fd, err;

	for (i = 0; i < sc->nindex; i++) {
		len = strlen(sc->index[i]);
		if (len >= sizeof(x->path) - x->plen)
			continue;
		memcpy(x->path + x->plen, sc->index[i], len + 1);
		if ((fd = static_open_beneath(sc->root_fd, x->path)) == -1) {
			x->path[x->plen] = '\0';
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			err = errno;
			close(dfd);
			return answer_errno(x, err, "open failed");
		}
		if (fstat(fd, &x->f.st) == -1 || !S_ISREG(x->f.st.st_mode)) {
			x->path[x->plen] = '\0';
			close(fd);
			continue;
		}
		close(dfd);
		x->plen += len;
		x->f.fd = fd;
		return serve_file(x);
	}
	if (sc->listing)
		return dir_listing(x, dfd);
	close(dfd);
	return answer_text(x, 403, "no index", NULL, NULL);
}

static int
serve(struct sctx *x)
{
	const struct static_req *rq = x->rq;
	ssize_t		 n;
	int		 fd, err;

	if (rq->method != HTTP_M_GET && rq->method != HTTP_M_HEAD)
		return answer_text(x, 405, "method not allowed", "Allow",
		    "GET, HEAD");
	n = static_path_normalize(rq->path, rq->path_len, x->path,
	    sizeof(x->path));
	if (n == -2)
		return answer_text(x, 403, "traversal", NULL, NULL);
	if (n == -1)
		return answer_text(x, 400, errno == ENAMETOOLONG ?
		    "path too long" : "bad path", NULL, NULL);
	x->plen = n;
	if ((fd = static_open_beneath(x->sc->root_fd, x->path)) == -1)
		return answer_errno(x, errno, "open failed");
	if (fstat(fd, &x->f.st) == -1) {
		err = errno;
		close(fd);
		return answer_errno(x, err, "fstat failed");
	}
	if (S_ISDIR(x->f.st.st_mode)) {
		if (x->path[x->plen - 1] != '/') {
			close(fd);
			return answer_redirect(x);
		}
		return serve_dir(x, fd);
	}
	x->f.fd = fd;
	return serve_file(x);
}

int
static_serve(const struct static_conf *sc, const struct static_req *rq,
    struct buf *head, struct buf *body, struct static_result *res)
{
	struct sctx	 x = { .sc = sc, .rq = rq, .head = head, .body = body,
			    .res = res, .f.fd = -1 };
	size_t		 head_used = buf_used(head), body_used = buf_used(body);
	int		 err;

	memset(res, 0, sizeof(*res));
	res->fd = -1;
	if (serve(&x) == 0)
		return 0;
	/* Out of room: leave head and body as they were. */
	err = errno;
	if (x.f.fd != -1)
		close(x.f.fd);
	head->len = head->off + head_used;
	body->len = body->off + body_used;
	res->status = 0;
	errno = err;
	return -1;
}
