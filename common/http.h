/* http — HTTP/1.1 message parsing and writing, strict per RFC 9112.
 *
 * Zero-copy: a parsed message points into the caller's buffer, so the
 * buffer must stay put (no compaction, no realloc) while the message is in
 * use. The parser keeps only offsets between calls, never pointers, so the
 * caller may move the bytes between two calls on an incomplete head.
 *
 * Flow on a connection:
 *
 *	n = http_parse_request(&p, data, len, &msg);
 *	0: need more bytes, call again with the same data plus more;
 *	-1: reply p.status (400, 414, 431, 501, 505) and close;
 *	>0: the head is data[0 .. n); http_body_init(&br, &msg, &limits) and
 *	    feed data + n onwards to http_body_read() until HTTP_BODY_DONE;
 *	    whatever follows is the next pipelined request.
 *
 * Decisions where RFC 9112/9110 leave a choice (documented for callers):
 * - Repeated identical Content-Length values ("5, 5", or two headers both
 *   "5") are accepted as 5; differing values are rejected.
 * - Content-Length together with Transfer-Encoding is rejected, not
 *   resolved by dropping Content-Length.
 * - The only transfer coding implemented is chunked: a request with any
 *   other registered coding gets 501, an unregistered one 501, and one whose
 *   final coding is not chunked 400.
 * - obs-fold is rejected in requests and responses alike.
 * - Bare LF as a line terminator is rejected like bare CR.
 * - HTTP/1.x with x > 1 is processed as HTTP/1.1 (RFC 9110 2.5).
 * - Trailer fields are validated and counted, then discarded.
 * - Response errors set status 502: the answer a gateway gives its client.
 */
#ifndef STACKD_HTTP_H
#define STACKD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct buf;

enum http_method {
	HTTP_M_OTHER = 0,	/* a valid token we have no name for */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_CONNECT,
	HTTP_M_PATCH,
};

enum http_target_form {
	HTTP_TARGET_ORIGIN,	/* /path?query */
	HTTP_TARGET_ABSOLUTE,	/* http://host/path (proxies) */
	HTTP_TARGET_AUTHORITY,	/* host:port, CONNECT only */
	HTTP_TARGET_ASTERISK,	/* *, OPTIONS only */
};

enum http_body_kind {
	HTTP_BODY_NONE,
	HTTP_BODY_LENGTH,	/* content_length bytes (may be 0) */
	HTTP_BODY_CHUNKED,
	HTTP_BODY_UNTIL_CLOSE,	/* responses only: the body ends at EOF */
};

/* Results of http_body_read(). */
enum http_body_result {
	HTTP_BODY_ERROR = -1,
	HTTP_BODY_NEED_MORE = 0,
	HTTP_BODY_DATA,
	HTTP_BODY_DONE,
};

struct http_limits {
	size_t		 max_head;	/* start-line + fields + CRLFs; 431/414 */
	size_t		 max_headers;	/* field lines; 431 */
	size_t		 max_chunk_ext;	/* bytes of extensions on one chunk line */
	size_t		 max_trailers;	/* trailer field lines */
	uint64_t	 max_body;	/* body bytes, 413 past it; 0 = no cap */
};

#define HTTP_MAX_HEAD_DEFAULT		(16 * 1024)
#define HTTP_MAX_HEADERS_DEFAULT	100
#define HTTP_MAX_CHUNK_EXT_DEFAULT	1024
#define HTTP_MAX_TRAILERS_DEFAULT	32

struct http_header {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* surrounding OWS trimmed */
	size_t		 value_len;
};

struct http_msg {
	int		 is_request;
	/* Request line. */
	enum http_method method;
	const char	*method_str;	/* the token as received */
	size_t		 method_len;
	const char	*target;
	size_t		 target_len;
	enum http_target_form target_form;
	/* Status line. */
	int		 status;
	const char	*reason;
	size_t		 reason_len;
	int		 minor;		/* HTTP/1.minor: 0 or 1 */

	/* Field lines in order, in storage the caller lends (http_msg_init). */
	struct http_header *headers;
	size_t		 nheaders;
	size_t		 headers_cap;

	/* Framing and connection facts derived by the parser. */
	enum http_body_kind body;
	uint64_t	 content_length;	/* HTTP_BODY_LENGTH */
	int		 keep_alive;	/* connection may carry another message */
	int		 must_close;	/* framing forbids reuse (until-close) */
	int		 upgrade;	/* Connection: upgrade + Upgrade, or 101 */
	int		 tunnel;	/* 2xx answer to CONNECT */
	int		 expect_continue;	/* HTTP/1.1 Expect: 100-continue */
	const char	*host;		/* Host, or absolute-form authority */
	size_t		 host_len;
	const char	*upgrade_proto;	/* Upgrade field value */
	size_t		 upgrade_len;
};

struct http_parser {
	struct http_limits limits;
	/* Scan progress over the current head, as offsets (see top). */
	size_t		 scanned;
	size_t		 line_start;
	size_t		 msg_start;	/* after skipped leading empty lines */
	size_t		 nfields;
	int		 have_start_line;
	int		 is_response;
	/* After -1: the status to answer with and a constant reason. */
	int		 status;
	const char	*error;
};

struct http_body_reader {
	enum http_body_kind kind;
	int		 state;		/* chunked decoder state */
	uint64_t	 remaining;	/* of the body (length) or chunk */
	uint64_t	 total;		/* body bytes delivered so far */
	uint64_t	 max_body;
	unsigned	 ndigits;	/* chunk-size digits on this line */
	size_t		 ext_len;	/* chunk-ext bytes on this line */
	size_t		 max_chunk_ext;
	size_t		 ntrailers;
	size_t		 max_trailers;
	size_t		 trailer_bytes;
	size_t		 max_trailer_bytes;
	int		 is_request;
	int		 status;	/* after HTTP_BODY_ERROR: 400/413/502 */
	const char	*error;
};

/* --- http_parse.c --- */
void	 http_limits_default(struct http_limits *);
/* limits NULL means the defaults. */
void	 http_parser_init(struct http_parser *, const struct http_limits *);
/* Forget scan progress; done automatically after every complete head. */
void	 http_parser_reset(struct http_parser *);
/* Lend storage for cap fields; a head with more than min(cap,
 * limits.max_headers) field lines is refused with 431. */
void	 http_msg_init(struct http_msg *, struct http_header *storage, size_t cap);

/* >0 head length, 0 incomplete, -1 error (p->status, p->error). */
int	 http_parse_request(struct http_parser *, const char *data, size_t len,
	    struct http_msg *);
/* request_method decides HEAD and CONNECT framing. 1xx heads are complete
 * messages of their own: parse again for the final response. */
int	 http_parse_response(struct http_parser *, const char *data, size_t len,
	    enum http_method request_method, struct http_msg *);

enum http_method http_method_from(const char *token, size_t len);
const char *http_method_name(enum http_method);	/* NULL for OTHER */

/* First field named name (case-insensitive), then the ones after prev. */
const struct http_header *http_header_get(const struct http_msg *, const char *name);
const struct http_header *http_header_next(const struct http_msg *, const char *name,
	    const struct http_header *prev);
/* 1 if the comma-separated list holds token (case-insensitive), else 0. */
int	 http_header_has_token(const char *value, size_t len, const char *token);
int	 http_is_tchar(unsigned char);

/* --- http_copy.c --- */
/* Copy the len bytes at base that src points into to a new allocation
 * (*copy, the caller frees it) and make dst the same message over the
 * copy, its fields in the caller's storage (at most cap). 0, or -1 when
 * out of memory. */
int	 http_msg_copy(const struct http_msg *src, const char *base, size_t len,
	    char **copy, struct http_msg *dst, struct http_header *fields,
	    size_t cap);

/* --- http_out.c: framing an answer a proxy relays --- */
enum http_out_mode {
	HTTP_OUT_NONE,		/* no body: HEAD, 1xx, 204, 304 */
	HTTP_OUT_LENGTH,	/* Content-Length: left */
	HTTP_OUT_CHUNKED,	/* HTTP/1.1 client, origin gave no length */
	HTTP_OUT_CLOSE,		/* HTTP/1.0 client: the body ends at close */
};
struct http_out {
	enum http_out_mode mode;
	uint64_t	 left;		/* HTTP_OUT_LENGTH: bytes still due */
};
/* Choose the framing from the request (method, client's minor) and the
 * origin's answer (status, its length if it gave one, whether it has a
 * body). HTTP_OUT_CLOSE means the caller closes after the answer. */
void	 http_out_plan(struct http_out *, enum http_method, int minor,
	    int status, int has_length, uint64_t length, int has_body);
/* The origin's fields minus hop-by-hop ones (by msg's Connection), those
 * in drop (NULL-terminated, may be NULL) and its Content-Length (kept
 * only when there is no body), then the framing field. */
int	 http_out_fields(const struct http_out *, struct buf *,
	    const struct http_msg *msg, const struct http_header *fields,
	    size_t n, const char *const *drop);
/* Body bytes in the chosen framing; a sized body is cut at its length.
 * Returns the body bytes taken (0 for HTTP_OUT_NONE), or -1 (ENOBUFS). */
ssize_t	 http_out_body(struct http_out *, struct buf *, const char *, size_t);
/* The end of the body: the last chunk when chunked. */
int	 http_out_end(const struct http_out *, struct buf *);

/* --- http_hop.c --- */
/* 1 if h is named name (case-insensitive). */
int	 http_header_is(const struct http_header *, const char *name);
/* 1 if a proxy must drop h: a hop-by-hop field (Connection, Keep-Alive,
 * Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade) or one that
 * a Connection field of msg names. */
int	 http_header_hop_by_hop(const struct http_msg *, const struct http_header *);

/* --- http_body.c --- */
/* limits NULL means the defaults. */
void	 http_body_init(struct http_body_reader *, const struct http_msg *,
	    const struct http_limits *);
/* Consume framing and body from in[0 .. len). *consumed is always set.
 * HTTP_BODY_DATA: (*data, *data_len) is a span of body bytes inside in.
 * HTTP_BODY_NEED_MORE: all of in was consumed; call again with more.
 * HTTP_BODY_DONE: the body ended; in + *consumed starts the next message.
 * HTTP_BODY_ERROR: r->status and r->error say why; close. */
int	 http_body_read(struct http_body_reader *, const char *in, size_t len,
	    size_t *consumed, const char **data, size_t *data_len);
/* The peer closed: HTTP_BODY_DONE for until-close or a finished body,
 * HTTP_BODY_ERROR (truncated) otherwise. */
int	 http_body_eof(struct http_body_reader *);
int	 http_body_done(const struct http_body_reader *);

/* --- http_write.c --- */
/* Each writer appends all or nothing: -1 with ENOBUFS leaves buf as it
 * was, -1 with EINVAL refuses bytes that would break the framing. */
int	 http_write_status_line(struct buf *, int minor, int status, const char *reason);
int	 http_write_request_line(struct buf *, const char *method, const char *target,
	    int minor);
int	 http_write_header(struct buf *, const char *name, const char *value);
int	 http_write_headern(struct buf *, const char *name, size_t name_len,
	    const char *value, size_t value_len);
/* Status line, the extra fields, and the empty line that ends the head. */
int	 http_write_response_head(struct buf *, int minor, int status,
	    const struct http_header *extra, size_t n);
int	 http_write_request_head(struct buf *, const char *method, const char *target,
	    int minor, const struct http_header *extra, size_t n);
int	 http_write_end_head(struct buf *);
/* len 0 writes nothing: an empty chunk would end the body. */
int	 http_write_chunk(struct buf *, const void *data, size_t len);
int	 http_write_last_chunk(struct buf *, const struct http_header *trailers, size_t n);

/* Reason phrase, NULL for a code outside the table. */
const char *http_status_reason(int status);

#define HTTP_DATE_LEN	30	/* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL */
/* IMF-fixdate; NULL if the year does not fit in 4 digits. */
char	*http_date(time_t, char out[HTTP_DATE_LEN]);
/* Any of the three HTTP-date formats (RFC 9110 5.6.7). 0 or -1. */
int	 http_date_parse(const char *s, size_t len, time_t *out);

#endif
