/* http_parse — request and response heads (RFC 9112 sections 2-6).
 *
 * Two passes. scan_head() runs over each new byte once, remembering its
 * place as offsets, and refuses what needs no context (bare CR or LF,
 * control characters, obs-fold, size and count limits) as soon as the
 * byte arrives. When the empty line ends the head, parse_head() walks the
 * complete head once, fills the message, and derives its framing. */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* Field names that decide framing and connection handling. */
struct facts {
	int			 nhost;
	const struct http_header *host;
	int			 ncl;
	uint64_t		 cl;
	int			 te_fields;	/* Transfer-Encoding lines seen */
	int			 te_codings;	/* non-empty list members */
	int			 te_last_chunked;
	int			 te_chunked;
	int			 te_unknown;	/* not a registered coding */
	int			 te_unimplemented; /* registered, not chunked */
	int			 conn_close;
	int			 conn_keep_alive;
	int			 conn_upgrade;
	const struct http_header *upgrade;
	int			 expect_continue;
};

typedef int (*field_fn)(struct http_parser *, const struct http_header *,
    struct facts *);

static int	on_host(struct http_parser *, const struct http_header *, struct facts *);
static int	on_content_length(struct http_parser *, const struct http_header *,
		    struct facts *);
static int	on_transfer_encoding(struct http_parser *, const struct http_header *,
		    struct facts *);
static int	on_connection(struct http_parser *, const struct http_header *,
		    struct facts *);
static int	on_upgrade(struct http_parser *, const struct http_header *, struct facts *);
static int	on_expect(struct http_parser *, const struct http_header *, struct facts *);

static const struct {
	const char	*name;
	field_fn	 fn;
} field_handlers[] = {
	{ "host",		on_host },
	{ "content-length",	on_content_length },
	{ "transfer-encoding",	on_transfer_encoding },
	{ "connection",		on_connection },
	{ "upgrade",		on_upgrade },
	{ "expect",		on_expect },
};

static const char *const method_names[] = {
	[HTTP_M_GET] = "GET",
	[HTTP_M_HEAD] = "HEAD",
	[HTTP_M_POST] = "POST",
	[HTTP_M_PUT] = "PUT",
	[HTTP_M_DELETE] = "DELETE",
	[HTTP_M_OPTIONS] = "OPTIONS",
	[HTTP_M_TRACE] = "TRACE",
	[HTTP_M_CONNECT] = "CONNECT",
	[HTTP_M_PATCH] = "PATCH",
};

/* Registered transfer codings (RFC 9112 7) other than chunked. */
static const char *const other_codings[] = {
	"gzip", "x-gzip", "deflate", "compress", "x-compress",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

int
http_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Case-insensitive compare of a counted string with a C string. */
static int
token_eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static int
fail(struct http_parser *p, int status, const char *why)
{
	/* A gateway answers any malformed upstream response with 502. */
	p->status = p->is_response ? 502 : status;
	p->error = why;
	return -1;
}

void
http_limits_default(struct http_limits *l)
{
	l->max_head = HTTP_MAX_HEAD_DEFAULT;
	l->max_headers = HTTP_MAX_HEADERS_DEFAULT;
	l->max_chunk_ext = HTTP_MAX_CHUNK_EXT_DEFAULT;
	l->max_trailers = HTTP_MAX_TRAILERS_DEFAULT;
	l->max_body = 0;
}

void
http_parser_init(struct http_parser *p, const struct http_limits *l)
{
	memset(p, 0, sizeof(*p));
	if (l != NULL)
		p->limits = *l;
	else
		http_limits_default(&p->limits);
	/* The head length is returned as an int. */
	if (p->limits.max_head == 0 || p->limits.max_head > INT_MAX)
		p->limits.max_head = INT_MAX;
}

void
http_parser_reset(struct http_parser *p)
{
	p->scanned = p->line_start = p->msg_start = p->nfields = 0;
	p->have_start_line = 0;
	p->status = 0;
	p->error = NULL;
}

void
http_msg_init(struct http_msg *msg, struct http_header *storage, size_t cap)
{
	memset(msg, 0, sizeof(*msg));
	msg->headers = storage;
	msg->headers_cap = storage != NULL ? cap : 0;
}

/* Find the end of the head: its length, 0 if incomplete, or -1. */
static int
scan_head(struct http_parser *p, const char *data, size_t len, size_t max_fields)
{
	size_t		 i;
	unsigned char	 c;

	if (len < p->scanned)		/* caller shrank the data: start over */
		http_parser_reset(p);
	for (i = p->scanned; i < len; i++) {
		if (i >= p->limits.max_head) {
			if (!p->have_start_line)
				return fail(p, 414, "request line too long");
			return fail(p, 431, "head too large");
		}
		c = data[i];
		if (c == '\r') {
			if (i + 1 == len)	/* decide when the next byte comes */
				break;
			if (data[i + 1] != '\n')
				return fail(p, 400, "bare CR in head");
			continue;
		}
		if (c == '\n') {
			if (i == p->line_start || data[i - 1] != '\r')
				return fail(p, 400, "bare LF in head");
			if (i - 1 > p->line_start)
				p->have_start_line = 1;
			else if (p->have_start_line)
				return (int)(i + 1);	/* max_head <= INT_MAX */
			else if (p->is_response)
				return fail(p, 502, "empty status line");
			else	/* RFC 9112 2.2: skip empty lines before it */
				p->msg_start = i + 1;
			p->line_start = i + 1;
			continue;
		}
		/* HTAB is the only control character any head part allows. */
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, 400, "control character in head");
		if (i == p->line_start && p->have_start_line) {
			if (is_ows(c))
				return fail(p, 400, p->nfields == 0 ?
				    "whitespace before first field" :
				    "obs-fold in field");
			if (++p->nfields > max_fields)
				return fail(p, 431, "too many header fields");
		}
	}
	p->scanned = i;
	return 0;
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. */
static int
parse_version(struct http_parser *p, const char *s, size_t len, int *minor)
{
	if (len != 8 || memcmp(s, "HTTP/", 5) != 0 || !is_digit(s[5]) ||
	    s[6] != '.' || !is_digit(s[7]))
		return fail(p, 400, "malformed HTTP version");
	if (s[5] != '1')
		return fail(p, 505, "HTTP version not supported");
	/* RFC 9110 2.5: a higher minor version is handled as ours. */
	*minor = s[7] == '0' ? 0 : 1;
	return 0;
}

/* uri-host [ ":" port ] characters; no '/', '@' or whitespace. */
static int
valid_host(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) &&
		    strchr("-._~!$&'()*+,;=%:[]", s[i]) == NULL)
			return 0;
	return 1;
}

/* authority-form for CONNECT: host ":" port, both present. */
static int
valid_authority(const char *s, size_t len)
{
	const char *colon;
	size_t	 i;

	if (len == 0 || !valid_host(s, len) ||
	    (colon = memrchr(s, ':', len)) == NULL || colon == s ||
	    colon == s + len - 1)
		return 0;
	for (i = colon + 1 - s; i < len; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* Classify the request-target (RFC 9112 3.2) and take the authority out
 * of an absolute-form target, which overrides Host (3.2.2). */
static int
parse_target(struct http_parser *p, struct http_msg *msg)
{
	const char *t = msg->target, *auth, *end = t + msg->target_len;
	size_t	 i;

	for (i = 0; i < msg->target_len; i++) {
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return fail(p, 400, "invalid character in request-target");
		if (t[i] == '#')
			return fail(p, 400, "fragment in request-target");
	}
	if (msg->method == HTTP_M_CONNECT) {
		if (!valid_authority(t, msg->target_len))
			return fail(p, 400, "CONNECT needs authority-form");
		msg->target_form = HTTP_TARGET_AUTHORITY;
		msg->host = t;
		msg->host_len = msg->target_len;
		return 0;
	}
	if (t[0] == '/') {
		msg->target_form = HTTP_TARGET_ORIGIN;
		return 0;
	}
	if (msg->target_len == 1 && t[0] == '*') {
		if (msg->method != HTTP_M_OPTIONS)
			return fail(p, 400, "asterisk-form needs OPTIONS");
		msg->target_form = HTTP_TARGET_ASTERISK;
		return 0;
	}
	/* scheme "://" authority path-abempty [ "?" query ] */
	if (!is_alpha(t[0]))
		return fail(p, 400, "invalid request-target");
	for (i = 1; i < msg->target_len && (is_alpha(t[i]) || is_digit(t[i]) ||
	    t[i] == '+' || t[i] == '-' || t[i] == '.'); i++)
		;
	if (msg->target_len - i < 3 || memcmp(t + i, "://", 3) != 0)
		return fail(p, 400, "invalid request-target");
	auth = t + i + 3;
	for (i = 0; auth + i < end && auth[i] != '/' && auth[i] != '?'; i++)
		;
	if (i == 0)
		return fail(p, 400, "empty authority in request-target");
	if (memchr(auth, '@', i) != NULL)
		return fail(p, 400, "userinfo in request-target");
	if (!valid_host(auth, i))
		return fail(p, 400, "invalid authority in request-target");
	msg->target_form = HTTP_TARGET_ABSOLUTE;
	msg->host = auth;
	msg->host_len = i;
	return 0;
}

/* request-line = method SP request-target SP HTTP-version */
static int
parse_request_line(struct http_parser *p, const char *line, size_t len,
    struct http_msg *msg)
{
	const char *sp1, *sp2, *end = line + len;
	size_t	 i;

	if ((sp1 = memchr(line, ' ', len)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', end - sp1 - 1)) == NULL)
		return fail(p, 400, "request line has fewer than 3 parts");
	if (memchr(sp2 + 1, ' ', end - sp2 - 1) != NULL)
		return fail(p, 400, "request line has more than 3 parts");
	msg->method_str = line;
	msg->method_len = sp1 - line;
	msg->target = sp1 + 1;
	msg->target_len = sp2 - sp1 - 1;
	if (msg->method_len == 0)
		return fail(p, 400, "empty method");
	for (i = 0; i < msg->method_len; i++)
		if (!http_is_tchar(line[i]))
			return fail(p, 400, "invalid character in method");
	if (msg->target_len == 0)
		return fail(p, 400, "empty request-target");
	msg->method = http_method_from(line, msg->method_len);
	if (parse_version(p, sp2 + 1, end - sp2 - 1, &msg->minor) == -1)
		return -1;
	return parse_target(p, msg);
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ]; the
 * second SP is tolerated missing when there is no reason. */
static int
parse_status_line(struct http_parser *p, const char *line, size_t len,
    struct http_msg *msg)
{
	if (len < 12 || line[8] != ' ')
		return fail(p, 502, "malformed status line");
	if (parse_version(p, line, 8, &msg->minor) == -1)
		return -1;
	if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
	    (len > 12 && line[12] != ' '))
		return fail(p, 502, "malformed status code");
	msg->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
	    (line[11] - '0');
	if (msg->status < 100 || msg->status > 599)
		return fail(p, 502, "status code out of range");
	/* The scanner already refused control characters other than HTAB. */
	msg->reason = len > 12 ? line + 13 : line + len;
	msg->reason_len = len > 12 ? len - 13 : 0;
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS */
static int
parse_field(struct http_parser *p, const char *line, size_t len,
    struct http_header *h)
{
	size_t	 i, vs, ve;

	for (i = 0; i < len && http_is_tchar(line[i]); i++)
		;
	if (i == len)
		return fail(p, 400, "field line without colon");
	if (line[i] != ':') {
		if (is_ows(line[i]))
			return fail(p, 400, "whitespace before colon");
		return fail(p, 400, "invalid character in field name");
	}
	if (i == 0)
		return fail(p, 400, "empty field name");
	for (vs = i + 1; vs < len && is_ows(line[vs]); vs++)
		;
	for (ve = len; ve > vs && is_ows(line[ve - 1]); ve--)
		;
	/* Value bytes were checked by the scanner: no CTL but HTAB, no DEL. */
	h->name = line;
	h->name_len = i;
	h->value = line + vs;
	h->value_len = ve - vs;
	return 0;
}

/* Next non-empty member of a comma-separated list, OWS trimmed. RFC 9110
 * 5.6.1 makes recipients accept empty members. */
static int
list_next(const char **s, const char *end, const char **el, size_t *ellen)
{
	const char *e;

	for (;;) {
		while (*s < end && (is_ows(**s) || **s == ','))
			(*s)++;
		if (*s == end)
			return 0;
		for (e = *s; e < end && *e != ','; e++)
			;
		*el = *s;
		*s = e;
		while (e > *el && is_ows(e[-1]))
			e--;
		*ellen = e - *el;
		return 1;
	}
}

static int
on_host(struct http_parser *p, const struct http_header *h, struct facts *f)
{
	if (f->nhost++ > 0)
		return fail(p, 400, "duplicate Host");
	if (!valid_host(h->value, h->value_len))
		return fail(p, 400, "invalid Host");
	f->host = h;
	return 0;
}

/* Content-Length = 1*DIGIT, possibly repeated as a list or in several
 * lines; identical repeats are accepted (RFC 9110 8.6), others refused. */
static int
on_content_length(struct http_parser *p, const struct http_header *h,
    struct facts *f)
{
	const char *s = h->value, *end = s + h->value_len;
	uint64_t v, d;
	size_t	 ndigits;

	for (;;) {
		for (v = 0, ndigits = 0; s < end && is_digit(*s); s++, ndigits++) {
			d = *s - '0';
			if (v > ((uint64_t)INT64_MAX - d) / 10)
				return fail(p, 400, "Content-Length too large");
			v = v * 10 + d;
		}
		if (ndigits == 0)
			return fail(p, 400, "invalid Content-Length");
		if (f->ncl++ > 0 && v != f->cl)
			return fail(p, 400, "conflicting Content-Length");
		f->cl = v;
		while (s < end && is_ows(*s))
			s++;
		if (s == end)
			return 0;
		if (*s++ != ',')
			return fail(p, 400, "invalid Content-Length");
		while (s < end && is_ows(*s))
			s++;
	}
}

static int
on_transfer_encoding(struct http_parser *p, const struct http_header *h,
    struct facts *f)
{
	const char *s = h->value, *end = s + h->value_len, *el;
	size_t	 len, i;

	f->te_fields++;
	while (list_next(&s, end, &el, &len)) {
		f->te_codings++;
		f->te_last_chunked = 0;
		if (token_eq(el, len, "chunked")) {
			if (f->te_chunked++ > 0)
				return fail(p, 400, "chunked applied twice");
			f->te_last_chunked = 1;
			continue;
		}
		for (i = 0; i < NELEM(other_codings); i++)
			if (token_eq(el, len, other_codings[i]))
				break;
		if (i < NELEM(other_codings))
			f->te_unimplemented = 1;
		else
			f->te_unknown = 1;
	}
	return 0;
}

static int
on_connection(struct http_parser *p, const struct http_header *h, struct facts *f)
{
	const char *s = h->value, *end = s + h->value_len, *el;
	size_t	 len;

	while (list_next(&s, end, &el, &len)) {
		if (token_eq(el, len, "close"))
			f->conn_close = 1;
		else if (token_eq(el, len, "keep-alive"))
			f->conn_keep_alive = 1;
		else if (token_eq(el, len, "upgrade"))
			f->conn_upgrade = 1;
	}
	return 0;
}

static int
on_upgrade(struct http_parser *p, const struct http_header *h, struct facts *f)
{
	if (f->upgrade == NULL)
		f->upgrade = h;
	return 0;
}

static int
on_expect(struct http_parser *p, const struct http_header *h, struct facts *f)
{
	if (token_eq(h->value, h->value_len, "100-continue"))
		f->expect_continue = 1;
	return 0;
}

static int
collect_facts(struct http_parser *p, const struct http_msg *msg, struct facts *f)
{
	const struct http_header *h;
	size_t	 i, k;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < msg->nheaders; i++) {
		h = &msg->headers[i];
		for (k = 0; k < NELEM(field_handlers); k++)
			if (token_eq(h->name, h->name_len, field_handlers[k].name))
				break;
		if (k < NELEM(field_handlers) && field_handlers[k].fn(p, h, f) == -1)
			return -1;
	}
	return 0;
}

static void
set_persistence(struct http_msg *msg, const struct facts *f)
{
	if (msg->minor >= 1)
		msg->keep_alive = !f->conn_close;
	else
		msg->keep_alive = f->conn_keep_alive && !f->conn_close;
	if (msg->must_close)
		msg->keep_alive = 0;
}

/* RFC 9112 6.1 and 6.3 for requests. */
static int
request_framing(struct http_parser *p, struct http_msg *msg, const struct facts *f)
{
	if (f->nhost == 0 && msg->minor >= 1)
		return fail(p, 400, "missing Host");
	if (f->host != NULL && msg->host == NULL) {
		msg->host = f->host->value;
		msg->host_len = f->host->value_len;
	}
	if (f->te_fields > 0) {
		if (f->ncl > 0)
			return fail(p, 400, "Content-Length with Transfer-Encoding");
		if (msg->minor == 0)
			return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
		if (f->te_unknown)
			return fail(p, 501, "unknown transfer coding");
		if (f->te_codings == 0)
			return fail(p, 400, "empty Transfer-Encoding");
		if (!f->te_last_chunked)
			return fail(p, 400, "final transfer coding is not chunked");
		if (f->te_unimplemented)
			return fail(p, 501, "transfer coding not implemented");
		msg->body = HTTP_BODY_CHUNKED;
	} else if (f->ncl > 0) {
		msg->body = HTTP_BODY_LENGTH;
		msg->content_length = f->cl;
	} else
		msg->body = HTTP_BODY_NONE;
	if (msg->minor >= 1) {
		msg->expect_continue = f->expect_continue;
		if (f->conn_upgrade && f->upgrade != NULL) {
			msg->upgrade = 1;
			msg->upgrade_proto = f->upgrade->value;
			msg->upgrade_len = f->upgrade->value_len;
		}
	}
	set_persistence(msg, f);
	return 0;
}

/* RFC 9112 6.3 for responses, in its order of precedence. */
static int
response_framing(struct http_parser *p, struct http_msg *msg,
    enum http_method req, const struct facts *f)
{
	int	 st = msg->status;

	if (f->te_fields > 0 && f->ncl > 0)
		return fail(p, 502, "Content-Length with Transfer-Encoding");
	if (req == HTTP_M_HEAD || st / 100 == 1 || st == 204 || st == 304)
		msg->body = HTTP_BODY_NONE;
	else if (req == HTTP_M_CONNECT && st / 100 == 2) {
		msg->body = HTTP_BODY_NONE;
		msg->tunnel = 1;
	} else if (f->te_fields > 0) {
		if (msg->minor == 0)
			return fail(p, 502, "Transfer-Encoding in HTTP/1.0");
		if (f->te_unknown || f->te_unimplemented || !f->te_last_chunked)
			return fail(p, 502, "unsupported transfer coding");
		msg->body = HTTP_BODY_CHUNKED;
	} else if (f->ncl > 0) {
		msg->body = HTTP_BODY_LENGTH;
		msg->content_length = f->cl;
	} else {
		msg->body = HTTP_BODY_UNTIL_CLOSE;
		msg->must_close = 1;
	}
	if (st == 101) {
		msg->upgrade = 1;
		if (f->upgrade != NULL) {
			msg->upgrade_proto = f->upgrade->value;
			msg->upgrade_len = f->upgrade->value_len;
		}
	}
	set_persistence(msg, f);
	/* After a switch the connection no longer carries HTTP/1.1. */
	if (msg->upgrade || msg->tunnel)
		msg->keep_alive = 0;
	return 0;
}

/* The head [start, end) is complete, ends in CRLF CRLF and holds no bare
 * CR or LF: split it into lines and fill msg. */
static int
parse_head(struct http_parser *p, const char *data, size_t start, size_t end,
    enum http_method req, struct http_msg *msg)
{
	struct http_header *storage = msg->headers;
	size_t	 cap = msg->headers_cap;
	const char *line = data + start, *last = data + end - 2, *eol;
	struct facts f;
	int	 rv;

	memset(msg, 0, sizeof(*msg));
	msg->headers = storage;
	msg->headers_cap = cap;
	msg->is_request = !p->is_response;

	eol = memchr(line, '\r', last - line);
	if (p->is_response)
		rv = parse_status_line(p, line, eol - line, msg);
	else
		rv = parse_request_line(p, line, eol - line, msg);
	if (rv == -1)
		return -1;
	for (line = eol + 2; line < last; line = eol + 2) {
		eol = memchr(line, '\r', last + 2 - line);
		/* The scanner counted the same lines against the same cap. */
		if (msg->nheaders >= msg->headers_cap)
			return fail(p, 431, "too many header fields");
		if (parse_field(p, line, eol - line,
		    &msg->headers[msg->nheaders]) == -1)
			return -1;
		msg->nheaders++;
	}
	if (collect_facts(p, msg, &f) == -1)
		return -1;
	if (p->is_response)
		return response_framing(p, msg, req, &f);
	return request_framing(p, msg, &f);
}

static int
parse_message(struct http_parser *p, const char *data, size_t len,
    enum http_method req, struct http_msg *msg)
{
	size_t	 max_fields, start;
	int	 head_len;

	if (p->error != NULL)		/* reused after a refusal: start afresh */
		http_parser_reset(p);
	max_fields = p->limits.max_headers;
	if (max_fields > msg->headers_cap)
		max_fields = msg->headers_cap;
	if ((head_len = scan_head(p, data, len, max_fields)) <= 0)
		return head_len;
	start = p->msg_start;
	if (parse_head(p, data, start, head_len, req, msg) == -1)
		return -1;
	http_parser_reset(p);
	return head_len;
}

int
http_parse_request(struct http_parser *p, const char *data, size_t len,
    struct http_msg *msg)
{
	p->is_response = 0;
	return parse_message(p, data, len, HTTP_M_OTHER, msg);
}

int
http_parse_response(struct http_parser *p, const char *data, size_t len,
    enum http_method request_method, struct http_msg *msg)
{
	p->is_response = 1;
	return parse_message(p, data, len, request_method, msg);
}

enum http_method
http_method_from(const char *token, size_t len)
{
	size_t	 i;

	/* Methods are case-sensitive (RFC 9110 9.1). */
	for (i = 0; i < NELEM(method_names); i++)
		if (method_names[i] != NULL && strlen(method_names[i]) == len &&
		    memcmp(method_names[i], token, len) == 0)
			return (enum http_method)i;
	return HTTP_M_OTHER;
}

const char *
http_method_name(enum http_method m)
{
	if ((size_t)m >= NELEM(method_names))
		return NULL;
	return method_names[m];
}

const struct http_header *
http_header_next(const struct http_msg *msg, const char *name,
    const struct http_header *prev)
{
	size_t	 i;

	i = prev == NULL ? 0 : (size_t)(prev - msg->headers) + 1;
	for (; i < msg->nheaders; i++)
		if (token_eq(msg->headers[i].name, msg->headers[i].name_len, name))
			return &msg->headers[i];
	return NULL;
}

const struct http_header *
http_header_get(const struct http_msg *msg, const char *name)
{
	return http_header_next(msg, name, NULL);
}

int
http_header_has_token(const char *value, size_t len, const char *token)
{
	const char *s = value, *el;
	size_t	 ellen;

	while (list_next(&s, value + len, &el, &ellen))
		if (token_eq(el, ellen, token))
			return 1;
	return 0;
}
