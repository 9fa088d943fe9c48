/* http_body — message body framing (RFC 9112 6 and 7).
 *
 * Content-Length and until-close bodies are handed back as spans of the
 * input. The chunked decoder is a byte-at-a-time state machine for the
 * framing (sizes, extensions, CRLFs, trailers) that hands chunk data back
 * as spans, so it keeps no bytes of its own and input may be split
 * anywhere, down to one byte per call. */
#include <stdint.h>
#include <string.h>

#include "http.h"

enum body_state {
	BS_SIZE,		/* chunk-size digits */
	BS_SIZE_BWS,		/* whitespace after the size: ';' must follow */
	BS_EXT_NAME_START,	/* after ';' */
	BS_EXT_NAME,
	BS_EXT_AFTER_NAME,	/* BWS after a name: '=' or ';' */
	BS_EXT_VAL_START,	/* after '=' */
	BS_EXT_VAL_TOKEN,
	BS_EXT_VAL_QUOTED,
	BS_EXT_VAL_QESC,	/* after a backslash inside quotes */
	BS_EXT_AFTER_QUOTE,
	BS_EXT_AFTER_VAL,	/* BWS after a value: ';' must follow */
	BS_SIZE_LF,
	BS_DATA,		/* chunk data, or the whole body */
	BS_DATA_CR,
	BS_DATA_LF,
	BS_TR_START,		/* a trailer field line or the final CRLF */
	BS_TR_NAME,
	BS_TR_VALUE,
	BS_TR_LF,
	BS_END_LF,
	BS_DONE,
	BS_ERROR,
};

/* The largest chunk-size: 16 hex digits, kept inside off_t. */
#define CHUNK_DIGITS_MAX	16
#define CHUNK_SIZE_MAX		((uint64_t)INT64_MAX)

static int
body_fail(struct http_body_reader *r, int status, const char *why)
{
	r->state = BS_ERROR;
	r->status = r->is_request ? status : 502;
	r->error = why;
	return HTTP_BODY_ERROR;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* field-vchar / SP / HTAB: what a field value may hold. */
static int
is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
static int
is_qdtext(unsigned char c)
{
	return is_field_char(c) && c != '"' && c != '\\';
}

void
http_body_init(struct http_body_reader *r, const struct http_msg *msg,
    const struct http_limits *limits)
{
	struct http_limits def;

	if (limits == NULL) {
		http_limits_default(&def);
		limits = &def;
	}
	memset(r, 0, sizeof(*r));
	r->kind = msg->body;
	r->is_request = msg->is_request;
	r->max_body = limits->max_body;
	r->max_chunk_ext = limits->max_chunk_ext;
	r->max_trailers = limits->max_trailers;
	r->max_trailer_bytes = limits->max_head;
	switch (r->kind) {
	case HTTP_BODY_NONE:
		r->state = BS_DONE;
		break;
	case HTTP_BODY_LENGTH:
		r->remaining = msg->content_length;
		r->state = r->remaining == 0 ? BS_DONE : BS_DATA;
		if (r->max_body != 0 && r->remaining > r->max_body)
			body_fail(r, 413, "body too large");
		break;
	case HTTP_BODY_CHUNKED:
		r->state = BS_SIZE;
		break;
	case HTTP_BODY_UNTIL_CLOSE:
		r->state = BS_DATA;
		break;
	}
}

/* chunk = chunk-size [ chunk-ext ] CRLF, with
 * chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ) */
static int
size_line_step(struct http_body_reader *r, unsigned char c)
{
	int	 d;

	if (r->state >= BS_EXT_NAME_START && r->state <= BS_EXT_AFTER_VAL &&
	    ++r->ext_len > r->max_chunk_ext)
		return body_fail(r, 400, "chunk extension too long");
	switch (r->state) {
	case BS_SIZE:
		if ((d = hex_value(c)) != -1) {
			if (++r->ndigits > CHUNK_DIGITS_MAX ||
			    r->remaining > (CHUNK_SIZE_MAX - d) / 16)
				return body_fail(r, 400, "chunk size too large");
			r->remaining = r->remaining * 16 + d;
		} else if (r->ndigits == 0)
			return body_fail(r, 400, "invalid chunk size");
		else if (c == ';')
			r->state = BS_EXT_NAME_START;
		else if (is_ws(c))
			r->state = BS_SIZE_BWS;
		else if (c == '\r')
			r->state = BS_SIZE_LF;
		else
			return body_fail(r, 400, "invalid chunk size");
		break;
	case BS_SIZE_BWS:
		if (c == ';')
			r->state = BS_EXT_NAME_START;
		else if (!is_ws(c))
			return body_fail(r, 400, "invalid chunk size");
		break;
	case BS_EXT_NAME_START:
		if (http_is_tchar(c))
			r->state = BS_EXT_NAME;
		else if (!is_ws(c))
			return body_fail(r, 400, "invalid chunk extension");
		break;
	case BS_EXT_NAME:
	case BS_EXT_VAL_TOKEN:
		if (http_is_tchar(c))
			break;
		/* FALLTHROUGH */
	case BS_EXT_AFTER_QUOTE:
		if (c == ';')
			r->state = BS_EXT_NAME_START;
		else if (c == '\r')
			r->state = BS_SIZE_LF;
		else if (c == '=' && r->state == BS_EXT_NAME)
			r->state = BS_EXT_VAL_START;
		else if (is_ws(c))
			r->state = r->state == BS_EXT_NAME ?
			    BS_EXT_AFTER_NAME : BS_EXT_AFTER_VAL;
		else
			return body_fail(r, 400, "invalid chunk extension");
		break;
	case BS_EXT_AFTER_NAME:
	case BS_EXT_AFTER_VAL:
		if (c == ';')
			r->state = BS_EXT_NAME_START;
		else if (c == '=' && r->state == BS_EXT_AFTER_NAME)
			r->state = BS_EXT_VAL_START;
		else if (!is_ws(c))
			return body_fail(r, 400, "invalid chunk extension");
		break;
	case BS_EXT_VAL_START:
		if (c == '"')
			r->state = BS_EXT_VAL_QUOTED;
		else if (http_is_tchar(c))
			r->state = BS_EXT_VAL_TOKEN;
		else if (!is_ws(c))
			return body_fail(r, 400, "invalid chunk extension");
		break;
	case BS_EXT_VAL_QUOTED:
		if (c == '"')
			r->state = BS_EXT_AFTER_QUOTE;
		else if (c == '\\')
			r->state = BS_EXT_VAL_QESC;
		else if (!is_qdtext(c))
			return body_fail(r, 400, "invalid chunk extension");
		break;
	case BS_EXT_VAL_QESC:
		/* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
		if (!is_field_char(c))
			return body_fail(r, 400, "invalid chunk extension");
		r->state = BS_EXT_VAL_QUOTED;
		break;
	case BS_SIZE_LF:
		if (c != '\n')
			return body_fail(r, 400, "bare CR in chunk line");
		if (r->remaining == 0) {
			r->state = BS_TR_START;
			break;
		}
		if (r->max_body != 0 && r->remaining > r->max_body - r->total)
			return body_fail(r, 413, "body too large");
		r->state = BS_DATA;
		break;
	default:
		return body_fail(r, 400, "chunk decoder state");
	}
	return 0;
}

/* CRLF after chunk data, then trailer-section = *( field-line CRLF ) CRLF.
 * Trailer fields are validated like header fields and discarded. */
static int
after_data_step(struct http_body_reader *r, unsigned char c)
{
	if (r->state >= BS_TR_START && ++r->trailer_bytes > r->max_trailer_bytes)
		return body_fail(r, 431, "trailer section too large");
	switch (r->state) {
	case BS_DATA_CR:
		if (c != '\r')
			return body_fail(r, 400, "chunk data not followed by CRLF");
		r->state = BS_DATA_LF;
		break;
	case BS_DATA_LF:
		if (c != '\n')
			return body_fail(r, 400, "chunk data not followed by CRLF");
		r->state = BS_SIZE;
		r->ndigits = 0;
		r->ext_len = 0;
		break;
	case BS_TR_START:
		if (c == '\r')
			r->state = BS_END_LF;
		else if (is_ws(c))
			return body_fail(r, 400, "obs-fold in trailer");
		else if (!http_is_tchar(c))
			return body_fail(r, 400, "invalid trailer field name");
		else if (++r->ntrailers > r->max_trailers)
			return body_fail(r, 431, "too many trailer fields");
		else
			r->state = BS_TR_NAME;
		break;
	case BS_TR_NAME:
		if (c == ':')
			r->state = BS_TR_VALUE;
		else if (is_ws(c))
			return body_fail(r, 400, "whitespace before colon in trailer");
		else if (!http_is_tchar(c))
			return body_fail(r, 400, "invalid trailer field name");
		break;
	case BS_TR_VALUE:
		if (c == '\r')
			r->state = BS_TR_LF;
		else if (!is_field_char(c))
			return body_fail(r, 400, "invalid trailer field value");
		break;
	case BS_TR_LF:
	case BS_END_LF:
		if (c != '\n')
			return body_fail(r, 400, "bare CR in trailer section");
		r->state = r->state == BS_TR_LF ? BS_TR_START : BS_DONE;
		break;
	default:
		return body_fail(r, 400, "chunk decoder state");
	}
	return 0;
}

static int
chunked_read(struct http_body_reader *r, const char *in, size_t len,
    size_t *consumed, const char **data, size_t *data_len)
{
	size_t	 i, n;
	int	 rv;

	for (i = 0; i < len; i++) {
		if (r->state == BS_DATA) {
			n = len - i < r->remaining ? len - i : r->remaining;
			*data = in + i;
			*data_len = n;
			*consumed = i + n;
			r->remaining -= n;
			r->total += n;
			if (r->remaining == 0)
				r->state = BS_DATA_CR;
			return HTTP_BODY_DATA;
		}
		if (r->state <= BS_SIZE_LF)
			rv = size_line_step(r, in[i]);
		else
			rv = after_data_step(r, in[i]);
		if (rv == HTTP_BODY_ERROR) {
			*consumed = i;
			return HTTP_BODY_ERROR;
		}
		if (r->state == BS_DONE) {
			*consumed = i + 1;
			return HTTP_BODY_DONE;
		}
	}
	*consumed = len;
	return HTTP_BODY_NEED_MORE;
}

int
http_body_read(struct http_body_reader *r, const char *in, size_t len,
    size_t *consumed, const char **data, size_t *data_len)
{
	size_t	 n;

	*consumed = 0;
	*data = NULL;
	*data_len = 0;
	if (r->state == BS_ERROR)
		return HTTP_BODY_ERROR;
	if (r->state == BS_DONE)
		return HTTP_BODY_DONE;
	if (r->kind == HTTP_BODY_CHUNKED)
		return chunked_read(r, in, len, consumed, data, data_len);
	if (len == 0)
		return HTTP_BODY_NEED_MORE;
	if (r->kind == HTTP_BODY_UNTIL_CLOSE) {
		/* Hand out up to the cap, then refuse: the same bytes come
		 * out however the input was split. */
		n = len;
		if (r->max_body != 0) {
			if (r->total == r->max_body)
				return body_fail(r, 413, "body too large");
			if (n > r->max_body - r->total)
				n = r->max_body - r->total;
		}
	} else {
		n = len < r->remaining ? len : r->remaining;
		r->remaining -= n;
		if (r->remaining == 0)
			r->state = BS_DONE;
	}
	r->total += n;
	*data = in;
	*data_len = n;
	*consumed = n;
	return HTTP_BODY_DATA;
}

int
http_body_eof(struct http_body_reader *r)
{
	if (r->state == BS_ERROR)
		return HTTP_BODY_ERROR;
	if (r->kind == HTTP_BODY_UNTIL_CLOSE)
		r->state = BS_DONE;
	if (r->state == BS_DONE)
		return HTTP_BODY_DONE;
	return body_fail(r, 400, "connection closed inside the body");
}

int
http_body_done(const struct http_body_reader *r)
{
	return r->state == BS_DONE;
}
