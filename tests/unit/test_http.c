/* Unit tests for common/http: parser strictness, body framing, writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "suites.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define S(lit)		lit, sizeof(lit) - 1	/* bytes + length, NULs kept */

struct ctx {
	struct http_parser	 p;
	struct http_msg		 m;
	struct http_header	 h[HTTP_MAX_HEADERS_DEFAULT];
};

static int
req_n(struct ctx *c, const struct http_limits *l, const char *s, size_t len)
{
	http_parser_init(&c->p, l);
	http_msg_init(&c->m, c->h, NELEM(c->h));
	return http_parse_request(&c->p, s, len, &c->m);
}

static int
req(struct ctx *c, const char *s)
{
	return req_n(c, NULL, s, strlen(s));
}

static int
resp(struct ctx *c, const char *s, enum http_method m)
{
	http_parser_init(&c->p, NULL);
	http_msg_init(&c->m, c->h, NELEM(c->h));
	return http_parse_response(&c->p, s, strlen(s), m, &c->m);
}

static int
span_eq(const char *p, size_t len, const char *want)
{
	return p != NULL && strlen(want) == len && memcmp(p, want, len) == 0;
}

/* --- rejected requests: every smuggling vector with its exact status --- */

/* Most vectors start with a valid request line and Host. */
#define G11	"GET / HTTP/1.1\r\nHost: a\r\n"
#define P11	"POST / HTTP/1.1\r\nHost: a\r\n"
#define TAIL	"\r\nHost: a\r\n\r\n"

static const struct {
	const char	*data;
	size_t		 len;
	int		 status;
	const char	*error;		/* which check fired */
} bad_requests[] = {
	/* framing */
	{ S(P11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400,
	    "Content-Length with Transfer-Encoding" },
	{ S(P11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400,
	    "Content-Length with Transfer-Encoding" },
	{ S(P11 "Transfer-Encoding: chunked, gzip\r\n\r\n"), 400,
	    "final transfer coding is not chunked" },
	{ S(P11 "Transfer-Encoding: gzip\r\n\r\n"), 400,
	    "final transfer coding is not chunked" },
	{ S(P11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"), 400,
	    "final transfer coding is not chunked" },
	{ S(P11 "Transfer-Encoding: chunked, chunked\r\n\r\n"), 400,
	    "chunked applied twice" },
	{ S(P11 "Transfer-Encoding:\r\n\r\n"), 400, "empty Transfer-Encoding" },
	{ S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400,
	    "Transfer-Encoding in HTTP/1.0" },
	{ S(P11 "Transfer-Encoding: foo\r\n\r\n"), 501,
	    "unknown transfer coding" },
	{ S(P11 "Transfer-Encoding: foo, chunked\r\n\r\n"), 501,
	    "unknown transfer coding" },
	{ S(P11 "Transfer-Encoding: xchunked\r\n\r\n"), 501,
	    "unknown transfer coding" },
	{ S(P11 "Transfer-Encoding: chunked;q=1\r\n\r\n"), 501,
	    "unknown transfer coding" },
	{ S(P11 "Transfer-Encoding: gzip, chunked\r\n\r\n"), 501,
	    "transfer coding not implemented" },
	{ S(P11 "Content-Length:\r\n\r\n"), 400, "invalid Content-Length" },
	{ S(P11 "Content-Length: +5\r\n\r\n"), 400, "invalid Content-Length" },
	{ S(P11 "Content-Length: -5\r\n\r\n"), 400, "invalid Content-Length" },
	{ S(P11 "Content-Length: 5 5\r\n\r\n"), 400, "invalid Content-Length" },
	{ S(P11 "Content-Length: 0x5\r\n\r\n"), 400, "invalid Content-Length" },
	{ S(P11 "Content-Length: 5a\r\n\r\n"), 400, "invalid Content-Length" },
	{ S(P11 "Content-Length: 9223372036854775808\r\n\r\n"), 400,
	    "Content-Length too large" },
	{ S(P11 "Content-Length: 99999999999999999999999\r\n\r\n"), 400,
	    "Content-Length too large" },
	{ S(P11 "Content-Length: 5, 6\r\n\r\n"), 400,
	    "conflicting Content-Length" },
	{ S(P11 "Content-Length: 5,\r\n\r\n"), 400, "invalid Content-Length" },
	{ S(P11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400,
	    "conflicting Content-Length" },
	/* field syntax */
	{ S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400,
	    "whitespace before colon" },
	{ S(P11 "Content-Length\t: 5\r\n\r\n"), 400,
	    "whitespace before colon" },
	{ S(G11 ": empty\r\n\r\n"), 400, "empty field name" },
	{ S(G11 "NoColon\r\n\r\n"), 400, "field line without colon" },
	{ S(G11 "X@Y: 1\r\n\r\n"), 400, "invalid character in field name" },
	{ S(G11 "X\"Y: 1\r\n\r\n"), 400, "invalid character in field name" },
	{ S("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400, "bare CR in head" },
	{ S("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 400,
	    "bare CR in head" },
	{ S(G11 "\r\r\n"), 400, "bare CR in head" },
	{ S("GET / HTTP/1.1\nHost: a\n\n"), 400, "bare LF in head" },
	{ S("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"), 400,
	    "bare LF in head" },
	{ S(G11 "X: a\0b\r\n\r\n"), 400, "control character in head" },
	{ S(G11 "X: a\x01\r\n\r\n"), 400, "control character in head" },
	{ S(G11 "X: \x1b[0m\r\n\r\n"), 400, "control character in head" },
	{ S(G11 "X: a\x7f\r\n\r\n"), 400, "control character in head" },
	{ S(G11 "X: a\r\n b\r\n\r\n"), 400, "obs-fold in field" },
	{ S(G11 "X: a\r\n\tb\r\n\r\n"), 400, "obs-fold in field" },
	{ S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400,
	    "whitespace before first field" },
	/* Host */
	{ S("GET / HTTP/1.1\r\n\r\n"), 400, "missing Host" },
	{ S(G11 "Host: a\r\n\r\n"), 400, "duplicate Host" },
	{ S(G11 "host: b\r\n\r\n"), 400, "duplicate Host" },
	{ S("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400, "invalid Host" },
	{ S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400, "invalid Host" },
	/* method and request-target */
	{ S("G(ET / HTTP/1.1" TAIL), 400, "invalid character in method" },
	{ S("GE\x80T / HTTP/1.1" TAIL), 400, "invalid character in method" },
	{ S("GET\t/ HTTP/1.1" TAIL), 400,
	    "request line has fewer than 3 parts" },
	{ S("GET /a b HTTP/1.1" TAIL), 400,
	    "request line has more than 3 parts" },
	{ S("GET /a\tb HTTP/1.1" TAIL), 400,
	    "invalid character in request-target" },
	{ S("GET /a\x01 HTTP/1.1" TAIL), 400, "control character in head" },
	{ S("GET /\xc3\xa9 HTTP/1.1" TAIL), 400,
	    "invalid character in request-target" },
	{ S("GET /a#frag HTTP/1.1" TAIL), 400, "fragment in request-target" },
	{ S("GET * HTTP/1.1" TAIL), 400, "asterisk-form needs OPTIONS" },
	{ S("GET a/b HTTP/1.1" TAIL), 400, "invalid request-target" },
	{ S("GET http:///x HTTP/1.1" TAIL), 400,
	    "empty authority in request-target" },
	{ S("GET http://u@h/x HTTP/1.1" TAIL), 400,
	    "userinfo in request-target" },
	{ S("CONNECT /x HTTP/1.1" TAIL), 400, "CONNECT needs authority-form" },
	{ S("CONNECT h HTTP/1.1" TAIL), 400, "CONNECT needs authority-form" },
	{ S("CONNECT h:x HTTP/1.1" TAIL), 400, "CONNECT needs authority-form" },
	/* request line shape and version */
	{ S("GET /" TAIL), 400, "request line has fewer than 3 parts" },
	{ S("GET" TAIL), 400, "request line has fewer than 3 parts" },
	{ S("GET / HTTP/1.1 x" TAIL), 400,
	    "request line has more than 3 parts" },
	{ S("GET / HTTP/1.1 " TAIL), 400,
	    "request line has more than 3 parts" },
	{ S("GET  / HTTP/1.1" TAIL), 400,
	    "request line has more than 3 parts" },
	{ S(" GET / HTTP/1.1" TAIL), 400,
	    "request line has more than 3 parts" },
	{ S("GET / http/1.1" TAIL), 400, "malformed HTTP version" },
	{ S("GET / HTTP/1.10" TAIL), 400, "malformed HTTP version" },
	{ S("GET / HTTP/1" TAIL), 400, "malformed HTTP version" },
	{ S("GET / HTTP/11" TAIL), 400, "malformed HTTP version" },
	{ S("GET / HTTP/1.x" TAIL), 400, "malformed HTTP version" },
	{ S("GET / HTTP/10.0" TAIL), 400, "malformed HTTP version" },
	{ S("GET / HTTP/2.0" TAIL), 505, "HTTP version not supported" },
	{ S("GET / HTTP/0.9" TAIL), 505, "HTTP version not supported" },
	{ S("GET / HTTP/3.0" TAIL), 505, "HTTP version not supported" },
	/* early refusal before the head is complete */
	{ S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 400,
	    "control character in head" },
	{ S(G11 "X: \0"), 400, "control character in head" },
};

START_TEST(request_rejected)
{
	struct ctx c;
	int	 rv;

	rv = req_n(&c, NULL, bad_requests[_i].data, bad_requests[_i].len);
	ck_assert_msg(rv == -1 && c.p.status == bad_requests[_i].status,
	    "vector %d: rv %d status %d (%s), want status %d", _i, rv,
	    c.p.status, c.p.error ? c.p.error : "-", bad_requests[_i].status);
	ck_assert_str_eq(c.p.error, bad_requests[_i].error);
}
END_TEST

START_TEST(limits_count_and_size)
{
	struct http_limits l;
	struct ctx c;
	char	 big[20000], *s;
	int	 i, n;

	http_limits_default(&l);
	/* 100 fields are fine, 101 are 431 (Host is one of them). */
	s = big;
	s += sprintf(s, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < 100; i++)
		s += sprintf(s, "X-%d: v\r\n", i);
	n = sprintf(s, "\r\n");
	ck_assert_int_eq(req(&c, big), (int)(s + n - big));
	ck_assert_uint_eq(c.m.nheaders, 100);
	sprintf(s, "X-100: v\r\n\r\n");
	ck_assert_int_eq(req(&c, big), -1);
	ck_assert_int_eq(c.p.status, 431);

	/* A lower configured count and smaller lent storage both bound it. */
	l.max_headers = 2;
	ck_assert_int_eq(req_n(&c, &l, S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\r\n")), 33);
	ck_assert_int_eq(req_n(&c, &l, S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n")), -1);
	ck_assert_int_eq(c.p.status, 431);
	http_parser_init(&c.p, NULL);
	http_msg_init(&c.m, c.h, 1);
	ck_assert_int_eq(http_parse_request(&c.p, S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\r\n"),
	    &c.m), -1);
	ck_assert_int_eq(c.p.status, 431);

	/* A head of exactly max_head bytes passes; one more byte is 431. */
	l.max_headers = 100;
	l.max_head = 64;
	memset(big, 0, sizeof(big));
	n = sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX: %.*s\r\n\r\n", 64 - 32,
	    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	ck_assert_int_eq(n, 64);
	ck_assert_int_eq(req_n(&c, &l, big, n), 64);
	n = sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX: %.*s\r\n\r\n", 64 - 31,
	    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	ck_assert_int_eq(req_n(&c, &l, big, n), -1);
	ck_assert_int_eq(c.p.status, 431);
	/* Over the limit while still in the request line: 414, even unended. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	ck_assert_int_eq(req_n(&c, &l, big, 200), -1);
	ck_assert_int_eq(c.p.status, 414);
	ck_assert_int_eq(req_n(&c, NULL, big, 16 * 1024 + 1), -1);
	ck_assert_int_eq(c.p.status, 414);
	/* Below the limit and unended: just incomplete. */
	ck_assert_int_eq(req_n(&c, NULL, big, 16 * 1024), 0);
}
END_TEST

/* --- accepted requests --- */

START_TEST(request_simple)
{
	struct ctx c;
	const char *r = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n"
	    "User-Agent: t\r\nAccept: */*\r\n\r\nNEXT";

	ck_assert_int_eq(req(&c, r), (int)strlen(r) - 4);
	ck_assert(c.m.is_request);
	ck_assert_int_eq(c.m.method, HTTP_M_GET);
	ck_assert(span_eq(c.m.method_str, c.m.method_len, "GET"));
	ck_assert(span_eq(c.m.target, c.m.target_len, "/index.html?q=1"));
	ck_assert_int_eq(c.m.target_form, HTTP_TARGET_ORIGIN);
	ck_assert_int_eq(c.m.minor, 1);
	ck_assert_uint_eq(c.m.nheaders, 3);
	ck_assert(span_eq(c.m.headers[1].name, c.m.headers[1].name_len, "User-Agent"));
	ck_assert(span_eq(c.m.host, c.m.host_len, "example.com:8080"));
	ck_assert_int_eq(c.m.body, HTTP_BODY_NONE);
	ck_assert(c.m.keep_alive && !c.m.must_close && !c.m.upgrade);
	ck_assert(!c.m.expect_continue);
}
END_TEST

START_TEST(request_shapes)
{
	struct ctx c;
	const struct http_header *h;

	/* Leading empty lines are skipped but counted in the head length. */
	ck_assert_int_eq(req(&c, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 31);
	ck_assert_int_eq(c.m.method, HTTP_M_GET);

	ck_assert_int_gt(req(&c, "GET http://Example.org:81/p?x HTTP/1.1\r\nHost: other\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.target_form, HTTP_TARGET_ABSOLUTE);
	ck_assert(span_eq(c.m.host, c.m.host_len, "Example.org:81"));
	ck_assert_int_gt(req(&c, "GET https://h?q HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	ck_assert(span_eq(c.m.host, c.m.host_len, "h"));

	ck_assert_int_gt(req(&c, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.method, HTTP_M_OPTIONS);
	ck_assert_int_eq(c.m.target_form, HTTP_TARGET_ASTERISK);

	ck_assert_int_gt(req(&c, "CONNECT db.example:443 HTTP/1.1\r\nHost: db.example:443\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.target_form, HTTP_TARGET_AUTHORITY);
	ck_assert(span_eq(c.m.host, c.m.host_len, "db.example:443"));

	/* Methods are case-sensitive tokens; unknown ones are not errors. */
	ck_assert_int_gt(req(&c, "get / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.method, HTTP_M_OTHER);
	ck_assert_int_gt(req(&c, "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	ck_assert(span_eq(c.m.method_str, c.m.method_len, "PROPFIND"));

	/* OWS trimmed, empty values kept, HTAB and obs-text allowed. */
	ck_assert_int_gt(req(&c, "GET / HTTP/1.1\r\nHost:a\r\nX-E:\r\nX-S:   \r\n"
	    "X-T:\t a \tb \t\r\nX-O: caf\xc3\xa9\r\n\r\n"), 0);
	ck_assert(span_eq(c.m.host, c.m.host_len, "a"));
	h = http_header_get(&c.m, "x-e");
	ck_assert(h != NULL && h->value_len == 0);
	ck_assert_uint_eq(http_header_get(&c.m, "X-s")->value_len, 0);
	h = http_header_get(&c.m, "X-T");
	ck_assert(span_eq(h->value, h->value_len, "a \tb"));
	h = http_header_get(&c.m, "x-o");
	ck_assert(span_eq(h->value, h->value_len, "caf\xc3\xa9"));
	ck_assert_ptr_null(http_header_get(&c.m, "X"));

	/* Empty Host is valid (RFC 9112 3.2); HTTP/1.0 needs none. */
	ck_assert_int_gt(req(&c, "GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);
	ck_assert_uint_eq(c.m.host_len, 0);
	ck_assert_int_gt(req(&c, "GET / HTTP/1.0\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.minor, 0);
	ck_assert_ptr_null(c.m.host);
	/* HTTP/1.2 is handled as 1.1. */
	ck_assert_int_gt(req(&c, "GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.minor, 1);
	ck_assert_int_gt(req(&c, "GET /[x]{y}|z HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), 0);

	/* A parser used again after a refusal starts a fresh head. */
	ck_assert_int_eq(req(&c, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), -1);
	ck_assert_int_eq(http_parse_request(&c.p, S("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
	    &c.m), 28);
	ck_assert(span_eq(c.m.target, c.m.target_len, "/x"));
	ck_assert_int_eq(c.p.status, 0);
}
END_TEST

START_TEST(request_framing_and_connection)
{
	struct ctx c;
	const struct http_header *h;

	ck_assert_int_gt(req(&c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(c.m.content_length, 5);
	ck_assert_int_gt(req(&c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n"
	    "Content-Length: 7\r\n\r\n"), 0);
	ck_assert_uint_eq(c.m.content_length, 7);
	ck_assert_int_gt(req(&c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
	    "9223372036854775807\r\n\r\n"), 0);
	ck_assert_uint_eq(c.m.content_length, INT64_MAX);
	ck_assert_int_gt(req(&c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(c.m.content_length, 0);
	ck_assert_int_gt(req(&c, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,CHUNKED\r\n\r\n"), 0);
	ck_assert_int_eq(c.m.body, HTTP_BODY_CHUNKED);

	ck_assert_int_gt(req(&c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), 0);
	ck_assert(!c.m.keep_alive);
	ck_assert_int_gt(req(&c, "GET / HTTP/1.0\r\n\r\n"), 0);
	ck_assert(!c.m.keep_alive);
	ck_assert_int_gt(req(&c, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0);
	ck_assert(c.m.keep_alive);
	ck_assert_int_gt(req(&c, "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), 0);
	ck_assert(!c.m.keep_alive);
	ck_assert_int_gt(req(&c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\n"
	    "Connection: CLOSE\r\n\r\n"), 0);
	ck_assert(!c.m.keep_alive);

	ck_assert_int_gt(req(&c, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n"), 0);
	ck_assert(c.m.upgrade && c.m.keep_alive);
	ck_assert(span_eq(c.m.upgrade_proto, c.m.upgrade_len, "websocket"));
	ck_assert_int_gt(req(&c, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"), 0);
	ck_assert(!c.m.upgrade);

	ck_assert_int_gt(req(&c, "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
	    "Content-Length: 1\r\n\r\n"), 0);
	ck_assert(c.m.expect_continue);
	ck_assert_int_gt(req(&c, "PUT / HTTP/1.0\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n\r\n"), 0);
	ck_assert(!c.m.expect_continue);

	ck_assert_int_gt(req(&c, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\na: 3\r\n\r\n"), 0);
	h = http_header_get(&c.m, "A");
	ck_assert(span_eq(h->value, h->value_len, "1"));
	h = http_header_next(&c.m, "A", h);
	ck_assert(span_eq(h->value, h->value_len, "3"));
	ck_assert_ptr_null(http_header_next(&c.m, "A", h));
}
END_TEST

START_TEST(header_tokens)
{
	ck_assert(http_header_has_token(S("keep-alive, Close"), "close"));
	ck_assert(http_header_has_token(S(" , ,close ,"), "close"));
	ck_assert(http_header_has_token(S("a,\tUPGRADE\t"), "upgrade"));
	ck_assert(!http_header_has_token(S("closed, xclose"), "close"));
	ck_assert(!http_header_has_token(S(""), "close"));
	ck_assert(!http_header_has_token(S("clo se"), "close"));
	ck_assert_int_eq(http_method_from(S("PATCH")), HTTP_M_PATCH);
	ck_assert_int_eq(http_method_from(S("GETX")), HTTP_M_OTHER);
	ck_assert_str_eq(http_method_name(HTTP_M_DELETE), "DELETE");
	ck_assert_ptr_null(http_method_name(HTTP_M_OTHER));
}
END_TEST

/* Feed prefixes of growing length, each from a fresh copy so the parser
 * cannot keep pointers into an old one, and compare with one-shot. */
START_TEST(request_byte_by_byte)
{
	const char r[] = "\r\nPOST /up?x=1 HTTP/1.1\r\nHost: h\r\nX-A:  one \r\n"
	    "Content-Length: 3\r\nConnection: close\r\n\r\nabc";
	size_t	 headlen = sizeof(r) - 1 - 3, n, i;
	struct ctx c, one;
	char	*copy;
	int	 rv = 0;

	ck_assert_int_eq(req(&one, r), (int)headlen);
	http_parser_init(&c.p, NULL);
	http_msg_init(&c.m, c.h, NELEM(c.h));
	for (n = 1; n <= headlen; n++) {
		copy = malloc(n);
		memcpy(copy, r, n);
		rv = http_parse_request(&c.p, copy, n, &c.m);
		if (n < headlen) {
			ck_assert_int_eq(rv, 0);
			/* Progress is remembered: nothing is scanned twice. */
			ck_assert_uint_ge(c.p.scanned + 1, n);
		}
		if (rv != 0)
			break;
		free(copy);
	}
	ck_assert_int_eq(rv, (int)headlen);
	ck_assert_int_eq(c.m.method, one.m.method);
	ck_assert_uint_eq(c.m.target_len, one.m.target_len);
	ck_assert_int_eq(memcmp(c.m.target - copy + r, one.m.target, one.m.target_len), 0);
	ck_assert_uint_eq(c.m.nheaders, one.m.nheaders);
	for (i = 0; i < c.m.nheaders; i++) {
		ck_assert_uint_eq(c.m.headers[i].name - copy, one.m.headers[i].name - r);
		ck_assert_uint_eq(c.m.headers[i].value - copy, one.m.headers[i].value - r);
		ck_assert_uint_eq(c.m.headers[i].value_len, one.m.headers[i].value_len);
	}
	ck_assert_int_eq(c.m.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(c.m.content_length, 3);
	ck_assert(!c.m.keep_alive);
	free(copy);
	/* The parser reset itself for the next message. */
	ck_assert_uint_eq(c.p.scanned, 0);
}
END_TEST

/* --- bodies --- */

struct body_out {
	char	 data[4096];
	size_t	 len;
	size_t	 consumed;	/* bytes of input used up to DONE/ERROR */
	int	 result;
	int	 status;
	const char *error;
};

/* Drive a body reader over in, step bytes at a time (0 = all at once). */
static void
read_body(const struct http_msg *m, const struct http_limits *l, const char *in,
    size_t len, size_t step, struct body_out *o)
{
	struct http_body_reader r;
	const char *d;
	size_t	 off = 0, avail, used, dlen;
	int	 rv;

	memset(o, 0, sizeof(*o));
	http_body_init(&r, m, l);
	for (;;) {
		avail = len - off;
		if (step != 0 && avail > step)
			avail = step;
		rv = http_body_read(&r, in + off, avail, &used, &d, &dlen);
		ck_assert_uint_le(used, avail);
		off += used;
		if (rv == HTTP_BODY_DATA) {
			ck_assert(dlen > 0 && d >= in && d + dlen <= in + off);
			ck_assert_uint_le(o->len + dlen, sizeof(o->data));
			memcpy(o->data + o->len, d, dlen);
			o->len += dlen;
			continue;
		}
		if (rv == HTTP_BODY_NEED_MORE) {
			ck_assert_uint_eq(used, avail);
			if (off < len)
				continue;
			rv = http_body_eof(&r);
		}
		break;
	}
	o->result = rv;
	o->consumed = off;
	o->status = r.status;
	o->error = r.error;
}

static void
chunked_msg(struct http_msg *m, int is_request)
{
	memset(m, 0, sizeof(*m));
	m->is_request = is_request;
	m->body = HTTP_BODY_CHUNKED;
}

START_TEST(body_chunked)
{
	const char in[] = "5 \t;x\r\nhello\r\n6;ext=1 ; q = \"a\\\"b\" ;n\r\n world\r\n"
	    "A\r\n0123456789\r\n000\r\nX-Trailer: v\r\nY:\r\n\r\nGET";
	struct http_msg m;
	struct body_out one, bytes;
	size_t	 step;

	chunked_msg(&m, 1);
	read_body(&m, NULL, in, sizeof(in) - 1, 0, &one);
	ck_assert_int_eq(one.result, HTTP_BODY_DONE);
	ck_assert_uint_eq(one.consumed, sizeof(in) - 1 - 3);
	ck_assert(span_eq(one.data, one.len, "hello world0123456789"));
	for (step = 1; step < 8; step++) {
		read_body(&m, NULL, in, sizeof(in) - 1, step, &bytes);
		ck_assert_int_eq(bytes.result, HTTP_BODY_DONE);
		ck_assert_uint_eq(bytes.consumed, one.consumed);
		ck_assert(bytes.len == one.len && memcmp(bytes.data, one.data, one.len) == 0);
	}
}
END_TEST

static const struct {
	const char	*data;
	size_t		 len;
	int		 status;
	size_t		 at;		/* bytes consumed before the error */
	const char	*error;
} bad_chunked[] = {
	{ S("-5\r\nhello\r\n0\r\n\r\n"), 400, 0, "invalid chunk size" },
	{ S("+5\r\nhello\r\n0\r\n\r\n"), 400, 0, "invalid chunk size" },
	{ S("0x5\r\nhello\r\n0\r\n\r\n"), 400, 1, "invalid chunk size" },
	{ S(" 5\r\nhello\r\n0\r\n\r\n"), 400, 0, "invalid chunk size" },
	{ S("5 \r\nhello\r\n0\r\n\r\n"), 400, 2, "invalid chunk size" },
	{ S("\r\nhello\r\n0\r\n\r\n"), 400, 0, "invalid chunk size" },
	{ S("5\nhello\r\n0\r\n\r\n"), 400, 1, "invalid chunk size" },
	{ S("5\r\rhello\r\n0\r\n\r\n"), 400, 2, "bare CR in chunk line" },
	{ S("5\r\nhelloX\r\n0\r\n\r\n"), 400, 8,
	    "chunk data not followed by CRLF" },
	{ S("5\r\nhello\n0\r\n\r\n"), 400, 8,
	    "chunk data not followed by CRLF" },
	{ S("5\r\nhelloX\n0\r\n\r\n"), 400, 8,
	    "chunk data not followed by CRLF" },
	{ S("5\r\nhello\rX0\r\n\r\n"), 400, 9,
	    "chunk data not followed by CRLF" },
	{ S("5\r\nhello0\r\n\r\n"), 400, 8, "chunk data not followed by CRLF" },
	{ S("12345678901234567\r\n"), 400, 16, "chunk size too large" },
	{ S("8000000000000000\r\n"), 400, 15, "chunk size too large" },
	{ S("ffffffffffffffff\r\n"), 400, 15, "chunk size too large" },
	{ S("00000000000000000\r\n\r\n"), 400, 16, "chunk size too large" },
	{ S("5;\r\nhello\r\n0\r\n\r\n"), 400, 2, "invalid chunk extension" },
	{ S("5;a=\r\nhello\r\n0\r\n\r\n"), 400, 4, "invalid chunk extension" },
	{ S("5;a b\r\nhello\r\n0\r\n\r\n"), 400, 4, "invalid chunk extension" },
	{ S("5;a \r\nhello\r\n0\r\n\r\n"), 400, 4, "invalid chunk extension" },
	{ S("5;a=\"x\r\nhello\r\n0\r\n\r\n"), 400, 6,
	    "invalid chunk extension" },
	{ S("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"), 400, 7,
	    "invalid chunk extension" },
	{ S("5;a=b\nhello\r\n0\r\n\r\n"), 400, 5, "invalid chunk extension" },
	{ S("5;a=b\x01\r\nhello\r\n0\r\n\r\n"), 400, 5,
	    "invalid chunk extension" },
	{ S("5;a=\"\0\"\r\nhello\r\n0\r\n\r\n"), 400, 5,
	    "invalid chunk extension" },
	{ S("5;@\r\nhello\r\n0\r\n\r\n"), 400, 2, "invalid chunk extension" },
	{ S("0\r\nBad Name: x\r\n\r\n"), 400, 6,
	    "whitespace before colon in trailer" },
	{ S("0\r\nBad : x\r\n\r\n"), 400, 6,
	    "whitespace before colon in trailer" },
	{ S("0\r\n: x\r\n\r\n"), 400, 3, "invalid trailer field name" },
	{ S("0\r\nX: a\r\n b\r\n\r\n"), 400, 9, "obs-fold in trailer" },
	{ S("0\r\nX: a\x01\r\n\r\n"), 400, 7, "invalid trailer field value" },
	{ S("0\r\nX: a\0\r\n\r\n"), 400, 7, "invalid trailer field value" },
	{ S("0\r\nX: a\n\r\n"), 400, 7, "invalid trailer field value" },
	{ S("0\r\nX: a\r\n\n"), 400, 9, "invalid trailer field name" },
	{ S("0\r\n\rX"), 400, 4, "bare CR in trailer section" },
	/* truncated: the peer closed inside the body */
	{ S("5\r\nhel"), 400, 6, "connection closed inside the body" },
	{ S("5\r\nhello\r\n0\r\n"), 400, 13,
	    "connection closed inside the body" },
};

START_TEST(body_chunked_rejected)
{
	struct http_msg m;
	struct body_out one, bytes;

	chunked_msg(&m, 1);
	read_body(&m, NULL, bad_chunked[_i].data, bad_chunked[_i].len, 0, &one);
	ck_assert_msg(one.result == HTTP_BODY_ERROR && one.status == bad_chunked[_i].status,
	    "vector %d: result %d status %d", _i, one.result, one.status);
	ck_assert_uint_eq(one.consumed, bad_chunked[_i].at);
	ck_assert_str_eq(one.error, bad_chunked[_i].error);
	/* One byte at a time must fail the same way at the same byte. */
	read_body(&m, NULL, bad_chunked[_i].data, bad_chunked[_i].len, 1, &bytes);
	ck_assert_int_eq(bytes.result, HTTP_BODY_ERROR);
	ck_assert_uint_eq(bytes.consumed, one.consumed);
	/* A response body error is the gateway's 502. */
	chunked_msg(&m, 0);
	read_body(&m, NULL, bad_chunked[_i].data, bad_chunked[_i].len, 0, &one);
	ck_assert_int_eq(one.status, 502);
}
END_TEST

START_TEST(body_limits)
{
	struct http_limits l;
	struct http_msg m;
	struct body_out o;

	http_limits_default(&l);
	l.max_chunk_ext = 8;
	chunked_msg(&m, 1);
	read_body(&m, &l, S("1;abcdefg\r\nx\r\n0\r\n\r\n"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_DONE);
	read_body(&m, &l, S("1;abcdefgh\r\nx\r\n0\r\n\r\n"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_ERROR);
	ck_assert_int_eq(o.status, 400);

	l.max_trailers = 2;
	read_body(&m, &l, S("0\r\nA: 1\r\nB: 2\r\n\r\n"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_DONE);
	read_body(&m, &l, S("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_ERROR);
	ck_assert_int_eq(o.status, 431);
	l.max_head = 10;
	read_body(&m, &l, S("0\r\nA: 123456789\r\n\r\n"), 0, &o);
	ck_assert_int_eq(o.status, 431);

	/* max_body: 413 for requests in every framing. */
	http_limits_default(&l);
	l.max_body = 10;
	read_body(&m, &l, S("a\r\n0123456789\r\n0\r\n\r\n"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_DONE);
	read_body(&m, &l, S("5\r\n01234\r\n6\r\n012345\r\n0\r\n\r\n"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_ERROR);
	ck_assert_int_eq(o.status, 413);
	ck_assert_uint_eq(o.len, 5);
	memset(&m, 0, sizeof(m));
	m.is_request = 1;
	m.body = HTTP_BODY_LENGTH;
	m.content_length = 11;
	read_body(&m, &l, S("01234567890"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_ERROR);
	ck_assert_int_eq(o.status, 413);
	ck_assert_uint_eq(o.len, 0);
	m.is_request = 0;
	m.body = HTTP_BODY_UNTIL_CLOSE;
	read_body(&m, &l, S("0123456789"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_DONE);
	read_body(&m, &l, S("0123456789x"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_ERROR);
	ck_assert_int_eq(o.status, 502);
	ck_assert_uint_eq(o.consumed, 10);	/* up to the cap, split or not */
	read_body(&m, &l, S("0123456789x"), 3, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_ERROR);
	ck_assert_uint_eq(o.consumed, 10);

	/* The largest chunk size is accepted, then waits for its data. */
	chunked_msg(&m, 1);
	read_body(&m, NULL, S("7fffffffffffffff\r\nabc"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_ERROR);	/* truncated at EOF */
	ck_assert(span_eq(o.data, o.len, "abc"));
}
END_TEST

START_TEST(body_length_and_eof)
{
	struct http_body_reader r;
	struct http_msg m;
	struct body_out o;
	const char *d;
	size_t	 used, dlen;

	memset(&m, 0, sizeof(m));
	m.is_request = 1;
	m.body = HTTP_BODY_LENGTH;
	m.content_length = 5;
	read_body(&m, NULL, S("helloGET /"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_DONE);
	ck_assert_uint_eq(o.consumed, 5);
	ck_assert(span_eq(o.data, o.len, "hello"));
	read_body(&m, NULL, S("helloGET /"), 1, &o);
	ck_assert_uint_eq(o.consumed, 5);
	read_body(&m, NULL, S("hel"), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_ERROR);
	ck_assert_int_eq(o.status, 400);

	m.content_length = 0;
	http_body_init(&r, &m, NULL);
	ck_assert(http_body_done(&r));
	ck_assert_int_eq(http_body_read(&r, S("x"), &used, &d, &dlen), HTTP_BODY_DONE);
	ck_assert_uint_eq(used, 0);
	m.body = HTTP_BODY_NONE;
	http_body_init(&r, &m, NULL);
	ck_assert_int_eq(http_body_read(&r, S("x"), &used, &d, &dlen), HTTP_BODY_DONE);
	ck_assert_int_eq(http_body_eof(&r), HTTP_BODY_DONE);

	m.is_request = 0;
	m.body = HTTP_BODY_UNTIL_CLOSE;
	read_body(&m, NULL, S("all of it"), 3, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_DONE);
	ck_assert(span_eq(o.data, o.len, "all of it"));
}
END_TEST

/* Three pipelined requests in one buffer: GET, POST with a body (length
 * or chunked), GET, walked with head lengths and consumed counts. */
static void
pipeline(const char *in, const char *const *targets, const char *const *bodies,
    size_t n)
{
	struct ctx c;
	struct body_out o;
	size_t	 off = 0, len = strlen(in), i;
	int	 head;

	http_parser_init(&c.p, NULL);
	http_msg_init(&c.m, c.h, NELEM(c.h));
	for (i = 0; i < n; i++) {
		head = http_parse_request(&c.p, in + off, len - off, &c.m);
		ck_assert_int_gt(head, 0);
		ck_assert(span_eq(c.m.target, c.m.target_len, targets[i]));
		ck_assert(c.m.keep_alive);
		off += head;
		read_body(&c.m, NULL, in + off, len - off, 0, &o);
		ck_assert_int_eq(o.result, HTTP_BODY_DONE);
		ck_assert(span_eq(o.data, o.len, bodies[i]));
		off += o.consumed;
	}
	ck_assert_uint_eq(off, len);
	ck_assert_int_eq(http_parse_request(&c.p, in + off, 0, &c.m), 0);
}

START_TEST(pipelined_requests)
{
	static const char *const targets[] = { "/a", "/b", "/c" };
	static const char *const bodies[] = { "", "hello", "" };

	pipeline("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", targets,
	    bodies, 2);
	pipeline("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	    "GET /c HTTP/1.1\r\nHost: x\r\n\r\n", targets, bodies, 3);
	pipeline("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nhe\r\n3\r\nllo\r\n0\r\nT: 1\r\n\r\n"
	    "GET /c HTTP/1.1\r\nHost: x\r\n\r\n", targets, bodies, 3);
}
END_TEST

/* --- responses --- */

START_TEST(responses)
{
	struct ctx c;
	struct body_out o;
	const char *r;
	int	 n;

	ck_assert_int_eq(resp(&c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
	    HTTP_M_GET), 38);
	ck_assert(!c.m.is_request);
	ck_assert_int_eq(c.m.status, 200);
	ck_assert(span_eq(c.m.reason, c.m.reason_len, "OK"));
	ck_assert_int_eq(c.m.body, HTTP_BODY_LENGTH);
	ck_assert(c.m.keep_alive);

	/* No body: HEAD, 1xx, 204, 304, whatever the fields say. */
	ck_assert_int_gt(resp(&c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", HTTP_M_HEAD), 0);
	ck_assert_int_eq(c.m.body, HTTP_BODY_NONE);
	ck_assert_int_gt(resp(&c, "HTTP/1.1 204 No Content\r\n\r\n", HTTP_M_GET), 0);
	ck_assert_int_eq(c.m.body, HTTP_BODY_NONE);
	ck_assert(c.m.keep_alive);
	ck_assert_int_gt(resp(&c, "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
	    HTTP_M_GET), 0);
	ck_assert_int_eq(c.m.body, HTTP_BODY_NONE);

	/* A 100 is a message of its own, followed by the final response. */
	r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
	n = resp(&c, r, HTTP_M_PUT);
	ck_assert_int_eq(n, 25);
	ck_assert_int_eq(c.m.status, 100);
	ck_assert_int_eq(c.m.body, HTTP_BODY_NONE);
	ck_assert_int_eq(http_parse_response(&c.p, r + n, strlen(r + n), HTTP_M_PUT, &c.m),
	    (int)strlen(r + n));
	ck_assert_int_eq(c.m.status, 201);

	/* Neither length nor chunked: until close. */
	ck_assert_int_gt(resp(&c, "HTTP/1.1 200 OK\r\n\r\n", HTTP_M_GET), 0);
	ck_assert_int_eq(c.m.body, HTTP_BODY_UNTIL_CLOSE);
	ck_assert(c.m.must_close && !c.m.keep_alive);

	r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X\r\n\r\n"
	    "4\r\nWiki\r\n0\r\nX: done\r\n\r\n";
	n = resp(&c, r, HTTP_M_GET);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(c.m.body, HTTP_BODY_CHUNKED);
	read_body(&c.m, NULL, r + n, strlen(r + n), 1, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_DONE);
	ck_assert(span_eq(o.data, o.len, "Wiki"));

	ck_assert_int_gt(resp(&c, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n", HTTP_M_GET), 0);
	ck_assert(c.m.upgrade && !c.m.keep_alive);
	ck_assert(span_eq(c.m.upgrade_proto, c.m.upgrade_len, "websocket"));
	ck_assert_int_gt(resp(&c, "HTTP/1.1 200 Connection established\r\n\r\n",
	    HTTP_M_CONNECT), 0);
	ck_assert(c.m.tunnel && c.m.body == HTTP_BODY_NONE);

	/* HTTP/1.0 persistence; empty and missing reason. */
	ck_assert_int_gt(resp(&c, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", HTTP_M_GET), 0);
	ck_assert(!c.m.keep_alive);
	ck_assert_int_gt(resp(&c, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 0\r\n\r\n", HTTP_M_GET), 0);
	ck_assert(c.m.keep_alive);
	ck_assert_int_gt(resp(&c, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", HTTP_M_GET), 0);
	ck_assert_uint_eq(c.m.reason_len, 0);
	ck_assert_int_gt(resp(&c, "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", HTTP_M_GET), 0);
	ck_assert_int_eq(c.m.status, 404);
}
END_TEST

static const char *const bad_responses[] = {
	"HTTP/1.1 20 OK\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 600 X\r\n\r\n",
	"HTTP/1.1 099 X\r\n\r\n",
	"HTTP/1.1  200 OK\r\n\r\n",
	"HTTP/2.0 200 OK\r\n\r\n",
	"http/1.1 200 OK\r\n\r\n",
	"\r\nHTTP/1.1 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
	"HTTP/1.1 200 O\x01K\r\n\r\n",
};

START_TEST(response_rejected)
{
	struct ctx c;

	ck_assert_msg(resp(&c, bad_responses[_i], HTTP_M_GET) == -1 && c.p.status == 502,
	    "vector %d: status %d", _i, c.p.status);
}
END_TEST

/* --- writer --- */

START_TEST(write_heads)
{
	static const struct http_header extra[] = {
		{ S("Content-Length"), S("5") },
		{ S("Connection"), S("close") },
	};
	struct http_header bad = { S("X"), S("a\r\nInjected: 1") };
	struct ctx c;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(http_write_response_head(&b, 1, 200, extra, 2), 0);
	ck_assert_str_eq(buf_cstr(&b), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Connection: close\r\n\r\n");
	/* What we write, we parse back. */
	ck_assert_int_eq(resp(&c, buf_cstr(&b), HTTP_M_GET), (int)buf_used(&b));
	ck_assert_uint_eq(c.m.content_length, 5);
	ck_assert(!c.m.keep_alive);

	buf_reset(&b);
	ck_assert_int_eq(http_write_status_line(&b, 0, 299, NULL), 0);
	ck_assert_int_eq(http_write_header(&b, "Date", "x"), 0);
	ck_assert_int_eq(http_write_headern(&b, S("X-Empty"), "", 0), 0);
	ck_assert_int_eq(http_write_end_head(&b), 0);
	ck_assert_str_eq(buf_cstr(&b), "HTTP/1.0 299 \r\nDate: x\r\nX-Empty: \r\n\r\n");

	buf_reset(&b);
	ck_assert_int_eq(http_write_status_line(&b, 1, 404, "Nope"), 0);
	ck_assert_str_eq(buf_cstr(&b), "HTTP/1.1 404 Nope\r\n");

	buf_reset(&b);
	ck_assert_int_eq(http_write_request_head(&b, "GET", "/x?y", 1, extra + 1, 1), 0);
	ck_assert_str_eq(buf_cstr(&b), "GET /x?y HTTP/1.1\r\nConnection: close\r\n\r\n");
	buf_reset(&b);
	ck_assert_int_eq(http_write_request_line(&b, "OPTIONS", "*", 0), 0);
	ck_assert_str_eq(buf_cstr(&b), "OPTIONS * HTTP/1.0\r\n");

	/* Refusals leave the buffer as it was. */
	buf_reset(&b);
	buf_puts(&b, "keep");
	ck_assert_int_eq(http_write_response_head(&b, 1, 200, &bad, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(http_write_header(&b, "Bad Name", "v"), -1);
	ck_assert_int_eq(http_write_header(&b, "", "v"), -1);
	ck_assert_int_eq(http_write_header(&b, "X", "a\nb"), -1);
	ck_assert_int_eq(http_write_headern(&b, S("X"), S("a\0b")), -1);
	ck_assert_int_eq(http_write_status_line(&b, 1, 600, NULL), -1);
	ck_assert_int_eq(http_write_status_line(&b, 2, 200, NULL), -1);
	ck_assert_int_eq(http_write_status_line(&b, 1, 200, "O\r\nK"), -1);
	ck_assert_int_eq(http_write_request_line(&b, "GET", "/a b", 1), -1);
	ck_assert_int_eq(http_write_request_line(&b, "GET", "", 1), -1);
	ck_assert_int_eq(http_write_request_line(&b, "G T", "/", 1), -1);
	ck_assert_str_eq(buf_cstr(&b), "keep");
	buf_free(&b);

	/* Full: all or nothing, ENOBUFS. */
	buf_init(&b, 40);
	buf_puts(&b, "0123456789");
	errno = 0;
	ck_assert_int_eq(http_write_response_head(&b, 1, 200, extra, 2), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(buf_used(&b), 10);
	ck_assert_int_eq(http_write_chunk(&b, "0123456789012345678901234567", 28), -1);
	ck_assert_uint_eq(buf_used(&b), 10);
	buf_free(&b);
}
END_TEST

START_TEST(write_chunks)
{
	static const struct http_header tr[] = { { S("X-Sum"), S("abc") } };
	struct http_msg m;
	struct body_out o;
	char	 big[300];
	struct buf b;

	memset(big, 'z', sizeof(big));
	buf_init(&b, 0);
	ck_assert_int_eq(http_write_chunk(&b, "hello", 5), 0);
	ck_assert_int_eq(http_write_chunk(&b, "", 0), 0);
	ck_assert_str_eq(buf_cstr(&b), "5\r\nhello\r\n");
	ck_assert_int_eq(http_write_chunk(&b, big, sizeof(big)), 0);
	ck_assert_int_eq(memcmp(buf_head(&b) + 10, "12c\r\nzzz", 8), 0);
	ck_assert_int_eq(http_write_last_chunk(&b, NULL, 0), 0);
	ck_assert_int_eq(memcmp(buf_tail(&b) - 7, "\r\n0\r\n\r\n", 7), 0);
	/* The decoder reads the encoder's output back. */
	chunked_msg(&m, 1);
	read_body(&m, NULL, buf_head(&b), buf_used(&b), 0, &o);
	ck_assert_int_eq(o.result, HTTP_BODY_DONE);
	ck_assert_uint_eq(o.len, 305);
	buf_reset(&b);
	ck_assert_int_eq(http_write_last_chunk(&b, tr, 1), 0);
	ck_assert_str_eq(buf_cstr(&b), "0\r\nX-Sum: abc\r\n\r\n");
	buf_free(&b);
}
END_TEST

START_TEST(status_reasons)
{
	ck_assert_str_eq(http_status_reason(200), "OK");
	ck_assert_str_eq(http_status_reason(404), "Not Found");
	ck_assert_str_eq(http_status_reason(431), "Request Header Fields Too Large");
	ck_assert_str_eq(http_status_reason(505), "HTTP Version Not Supported");
	ck_assert_ptr_null(http_status_reason(299));
	ck_assert_ptr_null(http_status_reason(-1));
}
END_TEST

/* --- dates --- */

START_TEST(dates)
{
	static const time_t samples[] = {
		0, 784111777, 951782400 /* 2000-02-29 */, 1709164800 /* 2024-02-29 */,
		2147483647, 4102444799 /* 2099-12-31 23:59:59 */,
	};
	char	 out[HTTP_DATE_LEN];
	time_t	 t;
	size_t	 i;

	ck_assert_str_eq(http_date(784111777, out), "Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert_str_eq(http_date(0, out), "Thu, 01 Jan 1970 00:00:00 GMT");
	ck_assert_ptr_null(http_date((time_t)253402300800LL, out));	/* year 10000 */
	for (i = 0; i < NELEM(samples); i++) {
		ck_assert_ptr_nonnull(http_date(samples[i], out));
		ck_assert_uint_eq(strlen(out), HTTP_DATE_LEN - 1);
		ck_assert_int_eq(http_date_parse(out, strlen(out), &t), 0);
		ck_assert_int_eq(t, samples[i]);
	}
	/* The two obsolete formats recipients must still accept. */
	ck_assert_int_eq(http_date_parse(S("Sunday, 06-Nov-94 08:49:37 GMT"), &t), 0);
	ck_assert_int_eq(t, 784111777);
	ck_assert_int_eq(http_date_parse(S("Sun Nov  6 08:49:37 1994"), &t), 0);
	ck_assert_int_eq(t, 784111777);
	ck_assert_int_eq(http_date_parse(S("Thu Dec 31 23:59:59 2099"), &t), 0);
	ck_assert_int_eq(t, 4102444799);
}
END_TEST

static const char *const bad_dates[] = {
	"",
	"Sun, 06 Nov 1994 08:49:37 UTC",
	"sun, 06 Nov 1994 08:49:37 GMT",
	"Sun, 06 nov 1994 08:49:37 GMT",
	"Sun, 6 Nov 1994 08:49:37 GMT",
	"Sun, 06 Nov 94 08:49:37 GMT",
	"Sun, 06 Nov 1994 08:49:37 GMT ",
	" Sun, 06 Nov 1994 08:49:37 GMT",
	"Sun, 06 Nov 1994 08:49:37",
	"Sun, 06 Nov 1994 8:49:37 GMT",
	"Sun, 06 Nov 1994 24:00:00 GMT",
	"Sun, 06 Nov 1994 23:60:00 GMT",
	"Sun, 06 Nov 1994 23:59:61 GMT",
	"Sun, 00 Nov 1994 08:49:37 GMT",
	"Sun, 31 Nov 1994 08:49:37 GMT",
	"Sun, 29 Feb 1900 08:49:37 GMT",
	"Sun, 30 Feb 2000 08:49:37 GMT",
	"Xyz, 06 Nov 1994 08:49:37 GMT",
	"Sun, 06 Nov 1994 08:49:37 GMT\r\n",
	"Sun,  6 Nov 1994 08:49:37 GMT",
	"Sunday, 06-Nov-1994 08:49:37 GMT",
	"Sun Nov 6 08:49:37 1994",
	"Sun Nov  6 08:49:37 94",
};

START_TEST(date_rejected)
{
	time_t	 t = 42;

	ck_assert_msg(http_date_parse(bad_dates[_i], strlen(bad_dates[_i]), &t) == -1,
	    "accepted \"%s\"", bad_dates[_i]);
	ck_assert_int_eq(t, 42);
}
END_TEST

START_TEST(msg_copy_outlives_its_buffer)
{
	char		 in[] = "POST /a?b HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\nX-A: 1\r\n\r\nabc";
	struct http_header storage[8], fields[8];
	struct http_parser p;
	struct http_msg	 msg, copy;
	char		*head = NULL;
	int		 n;

	http_parser_init(&p, NULL);
	http_msg_init(&msg, storage, 8);
	n = http_parse_request(&p, in, sizeof(in) - 1, &msg);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(http_msg_copy(&msg, in, (size_t)n, &head, &copy,
	    fields, 8), 0);
	memset(in, '#', sizeof(in) - 1);	/* the input is gone */
	ck_assert_int_eq(copy.method, HTTP_M_POST);
	ck_assert_int_eq((int)copy.target_len, 4);
	ck_assert(memcmp(copy.target, "/a?b", 4) == 0);
	ck_assert(memcmp(copy.host, "x", copy.host_len) == 0);
	ck_assert_uint_eq(copy.nheaders, 3);
	ck_assert_ptr_eq(copy.headers, fields);
	ck_assert_ptr_nonnull(http_header_get(&copy, "X-A"));
	ck_assert_int_eq(http_header_get(&copy, "X-A")->value[0], '1');
	ck_assert_uint_eq(copy.content_length, 3);
	free(head);
}
END_TEST

/* The framing a relayed answer gets, by request and origin answer. */
static const struct {
	enum http_method method;
	int		 minor, status, has_length;
	uint64_t	 length;
	int		 has_body;
	enum http_out_mode want;
} out_plans[] = {
	{ HTTP_M_GET, 1, 200, 1, 5, 1, HTTP_OUT_LENGTH },
	{ HTTP_M_GET, 1, 200, 0, 0, 1, HTTP_OUT_CHUNKED },
	{ HTTP_M_GET, 0, 200, 0, 0, 1, HTTP_OUT_CLOSE },
	{ HTTP_M_GET, 1, 200, 0, 0, 0, HTTP_OUT_LENGTH },
	{ HTTP_M_HEAD, 1, 200, 1, 5, 1, HTTP_OUT_NONE },
	{ HTTP_M_GET, 1, 204, 0, 0, 0, HTTP_OUT_NONE },
	{ HTTP_M_GET, 1, 304, 1, 9, 0, HTTP_OUT_NONE },
};

START_TEST(out_plan)
{
	struct http_out	 o;

	http_out_plan(&o, out_plans[_i].method, out_plans[_i].minor,
	    out_plans[_i].status, out_plans[_i].has_length,
	    out_plans[_i].length, out_plans[_i].has_body);
	ck_assert_int_eq(o.mode, out_plans[_i].want);
}
END_TEST

START_TEST(out_fields_and_body)
{
	struct http_header f[] = {
		{ "Content-Length", 14, "99", 2 },
		{ "Connection", 10, "X-Hop", 5 },
		{ "X-Hop", 5, "1", 1 },
		{ "Server", 6, "origin", 6 },
		{ "X-App", 5, "yes", 3 },
	};
	struct http_msg	 m = { .headers = f, .nheaders = 5, .headers_cap = 5 };
	const char *const drop[] = { "Server", NULL };
	struct http_out	 o;
	struct buf	 b;

	buf_init(&b, 1024);
	http_out_plan(&o, HTTP_M_GET, 1, 200, 1, 4, 1);
	ck_assert_int_eq(http_out_fields(&o, &b, &m, f, 5, drop), 0);
	ck_assert_str_eq(buf_cstr(&b), "X-App: yes\r\nContent-Length: 4\r\n");
	buf_reset(&b);
	ck_assert_int_eq(http_out_body(&o, &b, "abcdef", 6), 4);	/* cut */
	ck_assert_int_eq(http_out_body(&o, &b, "gh", 2), 0);
	ck_assert_str_eq(buf_cstr(&b), "abcd");
	buf_reset(&b);
	http_out_plan(&o, HTTP_M_GET, 1, 200, 0, 0, 1);
	ck_assert_int_eq(http_out_body(&o, &b, "abc", 3), 3);
	ck_assert_int_eq(http_out_end(&o, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "3\r\nabc\r\n0\r\n\r\n");
	buf_reset(&b);
	http_out_plan(&o, HTTP_M_HEAD, 1, 200, 1, 99, 1);
	ck_assert_int_eq(http_out_fields(&o, &b, &m, f, 5, drop), 0);
	ck_assert_str_eq(buf_cstr(&b), "Content-Length: 99\r\nX-App: yes\r\n");
	buf_free(&b);
}
END_TEST

Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("request");
	tcase_add_loop_test(tc, request_rejected, 0, NELEM(bad_requests));
	tcase_add_test(tc, limits_count_and_size);
	tcase_add_test(tc, request_simple);
	tcase_add_test(tc, request_shapes);
	tcase_add_test(tc, request_framing_and_connection);
	tcase_add_test(tc, header_tokens);
	tcase_add_test(tc, request_byte_by_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_test(tc, body_chunked);
	tcase_add_loop_test(tc, body_chunked_rejected, 0, NELEM(bad_chunked));
	tcase_add_test(tc, body_limits);
	tcase_add_test(tc, body_length_and_eof);
	tcase_add_test(tc, pipelined_requests);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, responses);
	tcase_add_loop_test(tc, response_rejected, 0, NELEM(bad_responses));
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_test(tc, write_heads);
	tcase_add_test(tc, write_chunks);
	tcase_add_test(tc, status_reasons);
	tcase_add_test(tc, dates);
	tcase_add_loop_test(tc, date_rejected, 0, NELEM(bad_dates));
	tcase_add_test(tc, msg_copy_outlives_its_buffer);
	tcase_add_loop_test(tc, out_plan, 0, NELEM(out_plans));
	tcase_add_test(tc, out_fields_and_body);
	suite_add_tcase(s, tc);
	return s;
}
