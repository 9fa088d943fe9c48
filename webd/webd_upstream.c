/* webd upstreams: a request handed to a FastCGI application server
 * (php-fpm) or to an HTTP application server, its body streamed there and
 * the answer streamed back to the client, both directions bounded.
 *
 * One upstream connection per request, closed after the answer, as nginx
 * does by default: nothing to keep consistent across requests, and an
 * application server that dies costs only the requests in flight.
 *
 * Flow control: client body bytes are read only while the upstream's send
 * buffer has room; upstream bytes are read only while the client's output
 * buffer is below UP_CLIENT_HIGH. A chunked body sent to FastCGI is the one
 * thing gathered whole (up to max-body): CGI needs CONTENT_LENGTH up front. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "webd_conn.h"

#define UP_TO_MAX	(128 * 1024)	/* request bytes queued for upstream */
#define UP_FROM_MAX	(128 * 1024)	/* > one FastCGI record (64 KiB + 263) */
#define UP_CLIENT_HIGH	(64 * 1024)	/* client output buffer high water */
#define UP_BODY_SLICE	(32 * 1024)	/* body bytes moved per step */
#define UP_FIELDS	128
#define UP_PARAMS	(UP_FIELDS + 24)
#define UP_STDERR_MAX	400		/* bytes of one app error log line */
#define UP_FCGI_ID	1

enum up_req { R_BODY, R_HOLD, R_DONE };	/* request bytes still to queue */

struct webd_upstream {
	struct webd_conn	*c;
	enum webd_handler	 kind;
	int			 fd;
	bool			 connected;
	bool			 write_closed;	/* upstream stopped taking bytes */
	struct ev_timer		 timer;
	char			 name[NET_ADDRSTRLEN];
	/* the request, copied: msg's pointers lead into head */
	char			*head;
	struct http_msg		 msg;
	struct http_header	 fields[UP_FIELDS];
	char			*script_name;	/* FastCGI */
	char			*script_file;
	char			*doc_uri;
	char			*doc_root;
	/* request side */
	struct buf		 to_up;
	struct http_body_reader	 body;
	enum up_req		 req;
	bool			 gather;	/* FastCGI: a chunked body, */
	struct buf		 hold;		/* gathered here */
	bool			 params_sent;
	bool			 end_queued;	/* the body's end marker */
	/* response side */
	struct buf		 from_up;
	struct buf		 cgi;		/* FastCGI: STDOUT up to the head's end */
	struct http_parser	 rparser;
	struct http_body_reader	 rbody;
	bool			 head_sent;
	struct http_out		 out;		/* framing towards the client */
	bool			 done;
};

/* Besides the hop-by-hop fields: those webd sets itself. */
static const char *const request_drop[] = {
	"Expect", "Content-Length", "X-Forwarded-Proto", NULL
};
static const char *const response_drop[] = { "Date", "Server", NULL };

static void	up_io(struct ev_loop *, int, unsigned, void *);
static int	up_pump(struct webd_upstream *);
static void	up_update(struct webd_upstream *);

#define name_is(h, name)	http_header_is(h, name)

static bool
dropped(const struct http_msg *msg, const struct http_header *h,
    const char *const *drop)
{
	for (; *drop != NULL; drop++)
		if (http_header_is(h, *drop))
			return true;
	return http_header_hop_by_hop(msg, h);
}

void
upstream_free(struct webd_upstream *up)
{
	if (up == NULL)
		return;
	ev_timer_stop(loop_of(up->c), &up->timer);
	if (up->fd != -1) {
		ev_fd_del(loop_of(up->c), up->fd);
		close(up->fd);
	}
	buf_free(&up->to_up);
	buf_free(&up->from_up);
	buf_free(&up->hold);
	buf_free(&up->cgi);
	free(up->head);
	free(up->script_name);
	free(up->script_file);
	free(up->doc_uri);
	free(up->doc_root);
	up->c->up = NULL;
	free(up);
}

/* The answer is complete in c->out (or an error answer is): the
 * connection's own write path takes over. */
static void
up_detach(struct webd_upstream *up)
{
	struct webd_conn *c = up->c;

	if (up->req == R_BODY)	/* the client may still be sending it */
		c->close_after = c->unread_body = true;
	upstream_free(up);
	c->state = C_WRITE;
	ev_timer_start(loop_of(c), &c->timer, c->w->conf->idle_timeout_ms);
}

/* Nothing reached the client yet: answer status instead. Once the head
 * went out there is no honest answer left: cut the connection. */
static void
up_fail(struct webd_upstream *up, int status, const char *why)
{
	struct webd_conn *c = up->c;
	int	 minor = up->msg.minor;
	char	 text[64];

	log_warnx("%s %s: %s", up->kind == H_FASTCGI ? "fastcgi" : "proxy",
	    up->name, why);
	if (up->head_sent) {
		conn_free(c);
		return;
	}
	snprintf(text, sizeof(text), "%d %s\n", status,
	    http_status_reason(status));
	c->close_after |= up->req == R_BODY;
	up_detach(up);
	if (conn_respond_text(c, minor, status, text) == -1)
		conn_free(c);
	else
		conn_kick(c);
}

/* ---- the request towards the upstream ---- */

/* "1.2.3.4:80" / "[::1]:80" into host and port; unix sockets give "". */
static void
addr_split(const struct net_addr *a, char *host, size_t hostlen, char *port)
{
	char	 s[NET_ADDRSTRLEN], *colon;

	net_addr_str(a, s, sizeof(s));
	host[0] = port[0] = '\0';
	if (strncmp(s, "unix:", 5) == 0 || (colon = strrchr(s, ':')) == NULL)
		return;
	*colon = '\0';
	snprintf(port, 8, "%s", colon + 1);
	if (s[0] == '[') {
		s[strlen(s) - 1] = '\0';
		snprintf(host, hostlen, "%s", s + 1);
	} else
		snprintf(host, hostlen, "%s", s);
}

/* "HTTP_" + name upper-cased with '-' as '_'; false for names that would
 * collide with another after that mapping (an '_' in them) or that must
 * not reach CGI (Proxy: httpoxy). */
static bool
cgi_name(const struct http_header *h, char *out, size_t outlen)
{
	size_t	 i;

	if (h->name_len + 6 > outlen || name_is(h, "Proxy") ||
	    name_is(h, "Content-Length") || name_is(h, "Content-Type"))
		return false;
	memcpy(out, "HTTP_", 5);
	for (i = 0; i < h->name_len; i++) {
		if (h->name[i] == '_')
			return false;
		out[5 + i] = h->name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)h->name[i]);
	}
	out[5 + h->name_len] = '\0';
	return true;
}

#define PARAM(n, v, vl)	do {						\
	p[np].name = (n); p[np].name_len = strlen(n);			\
	p[np].value = (v); p[np].value_len = (vl); np++;		\
} while (0)
#define PARAMS(n, v)	PARAM(n, v, strlen(v))

/* The CGI/1.1 meta-variables (RFC 3875 4.1) plus what PHP expects. */
static int
write_params(struct webd_upstream *up, uint64_t content_length)
{
	struct webd_conn *c = up->c;
	const struct http_msg *m = &up->msg;
	const struct http_header *ctype = http_header_get(m, "Content-Type");
	struct fcgi_param p[UP_PARAMS];
	struct net_addr	 local;
	socklen_t	 sl = sizeof(local.ss);
	char		 names[UP_FIELDS][64], clen[24], rhost[64], rport[8];
	char		 lhost[64], lport[8], proto[16];
	const char	*q, *hostend;
	size_t		 np = 0, i, qlen;
	int		 rv;

	q = memchr(m->target, '?', m->target_len);
	qlen = q ? m->target_len - (size_t)(q - m->target) - 1 : 0;
	snprintf(clen, sizeof(clen), "%llu", (unsigned long long)content_length);
	snprintf(proto, sizeof(proto), "HTTP/1.%d", m->minor);
	addr_split(&c->peer, rhost, sizeof(rhost), rport);
	memset(&local, 0, sizeof(local));
	if (getsockname(c->io.fd, (struct sockaddr *)&local.ss, &sl) == 0)
		local.len = sl;
	addr_split(&local, lhost, sizeof(lhost), lport);

	PARAMS("GATEWAY_INTERFACE", "CGI/1.1");
	PARAMS("SERVER_SOFTWARE", "webd/" WEBD_VERSION);
	PARAMS("SERVER_PROTOCOL", proto);
	PARAM("REQUEST_METHOD", m->method_str, m->method_len);
	PARAM("REQUEST_URI", m->target, m->target_len);
	PARAM("QUERY_STRING", q ? q + 1 : "", qlen);
	PARAMS("SCRIPT_NAME", up->script_name);
	PARAMS("SCRIPT_FILENAME", up->script_file);
	PARAMS("DOCUMENT_URI", up->doc_uri);
	PARAMS("DOCUMENT_ROOT", up->doc_root);
	if (strcmp(up->script_name, up->doc_uri) != 0)
		PARAMS("PATH_INFO", up->doc_uri);
	if (m->body != HTTP_BODY_NONE)
		PARAMS("CONTENT_LENGTH", clen);
	if (ctype != NULL)
		PARAM("CONTENT_TYPE", ctype->value, ctype->value_len);
	PARAMS("REMOTE_ADDR", rhost);
	PARAMS("REMOTE_PORT", rport);
	PARAMS("SERVER_ADDR", lhost);
	PARAMS("SERVER_PORT", lport);
	if (m->host != NULL) {
		/* Host without its port; "[v6]:port" keeps the brackets. */
		hostend = memrchr(m->host, ':', m->host_len);
		if (hostend != NULL && memchr(hostend, ']', (size_t)(m->host +
		    m->host_len - hostend)) != NULL)
			hostend = NULL;
		PARAM("SERVER_NAME", m->host, hostend ? (size_t)(hostend -
		    m->host) : m->host_len);
	}
	if (c->io.tls != NULL)
		PARAMS("HTTPS", "on");
	PARAMS("REDIRECT_STATUS", "200");	/* php's cgi.force_redirect */
	for (i = 0; i < m->nheaders && np < UP_PARAMS; i++) {
		if (!cgi_name(&m->headers[i], names[i], sizeof(names[i])))
			continue;
		PARAM(names[i], m->headers[i].value, m->headers[i].value_len);
	}
	rv = fcgi_write_params(&up->to_up, UP_FCGI_ID, p, np);
	return rv;
}
#undef PARAM
#undef PARAMS

static int
write_http_head(struct webd_upstream *up)
{
	struct webd_conn *c = up->c;
	const struct http_msg *m = &up->msg;
	const struct http_header *xff = http_header_get(m, "X-Forwarded-For");
	struct buf	*b = &up->to_up;
	char		 addr[NET_ADDRSTRLEN], port[8], clen[24];
	size_t		 i;

	addr_split(&c->peer, addr, sizeof(addr), port);
	if (buf_printf(b, "%.*s %.*s HTTP/1.1\r\n", (int)m->method_len,
	    m->method_str, (int)m->target_len, m->target) == -1)
		return -1;
	for (i = 0; i < m->nheaders; i++) {
		if (dropped(m, &m->headers[i], request_drop) ||
		    name_is(&m->headers[i], "X-Forwarded-For"))
			continue;
		if (http_write_headern(b, m->headers[i].name,
		    m->headers[i].name_len, m->headers[i].value,
		    m->headers[i].value_len) == -1)
			return -1;
	}
	/* One X-Forwarded-For: what came in, then this client. */
	if (buf_printf(b, "X-Forwarded-For: %.*s%s%s\r\n",
	    xff ? (int)xff->value_len : 0, xff ? xff->value : "",
	    xff ? ", " : "", addr[0] ? addr : "unix") == -1 ||
	    http_write_header(b, "X-Forwarded-Proto",
	    c->io.tls ? "https" : "http") == -1 ||
	    http_write_header(b, "Connection", "close") == -1)
		return -1;
	if (m->body == HTTP_BODY_CHUNKED) {
		if (http_write_header(b, "Transfer-Encoding", "chunked") == -1)
			return -1;
	} else if (m->body == HTTP_BODY_LENGTH) {
		snprintf(clen, sizeof(clen), "%llu",
		    (unsigned long long)m->content_length);
		if (http_write_header(b, "Content-Length", clen) == -1)
			return -1;
	}
	return http_write_end_head(b);
}

/* Body bytes towards the upstream, in its framing. */
static int
queue_body(struct webd_upstream *up, const char *data, size_t len)
{
	if (up->kind == H_FASTCGI)
		return up->gather ? buf_append(&up->hold, data, len) :
		    fcgi_write_stdin(&up->to_up, UP_FCGI_ID, data, len);
	if (up->msg.body == HTTP_BODY_CHUNKED)
		return http_write_chunk(&up->to_up, data, len);
	return buf_append(&up->to_up, data, len);
}

/* The body's end, in the upstream's framing. */
static int
queue_body_end(struct webd_upstream *up)
{
	if (up->kind == H_FASTCGI)
		return fcgi_write_stdin(&up->to_up, UP_FCGI_ID, NULL, 0);
	if (up->msg.body == HTTP_BODY_CHUNKED)
		return http_write_last_chunk(&up->to_up, NULL, 0);
	return 0;
}

/* Room left in to_up for one more slice of body and its framing. */
static size_t
to_up_room(const struct webd_upstream *up)
{
	size_t used = buf_used(&up->to_up);

	return used + 1024 >= UP_TO_MAX ? 0 : UP_TO_MAX - 1024 - used;
}

/* A gathered chunked body: its length is known now; then its bytes. */
static int
pump_hold(struct webd_upstream *up)
{
	size_t	 n;

	if (!up->params_sent) {
		if (write_params(up, buf_used(&up->hold)) == -1)
			return -1;
		up->params_sent = true;
	}
	while (buf_used(&up->hold) > 0 && (n = to_up_room(up)) > 0) {
		if (n > buf_used(&up->hold))
			n = buf_used(&up->hold);
		if (fcgi_write_stdin(&up->to_up, UP_FCGI_ID, buf_head(&up->hold),
		    n) == -1)
			return -1;
		buf_consume(&up->hold, n);
	}
	if (buf_used(&up->hold) == 0)
		up->req = R_DONE;
	return 0;
}

/* Move request body bytes from the client's input towards the upstream
 * as far as room allows. 0, or -1 when c (and up) were freed. */
static int
up_pump(struct webd_upstream *up)
{
	struct webd_conn *c = up->c;
	const char	*data;
	size_t		 consumed, dlen, room, n;
	int		 r;

	while (up->req == R_BODY && buf_used(&c->in) > 0 && !up->write_closed) {
		if ((room = up->gather ? UP_BODY_SLICE : to_up_room(up)) == 0)
			return 0;
		n = buf_used(&c->in) < room ? buf_used(&c->in) : room;
		r = http_body_read(&up->body, buf_head(&c->in), n, &consumed,
		    &data, &dlen);
		if (r == HTTP_BODY_ERROR) {
			if (up->body.status == 413)
				webd_limit_hit(c->w, "max_body");
			up_fail(up, up->body.status, up->body.error);
			return -1;
		}
		if (r == HTTP_BODY_DATA && queue_body(up, data, dlen) == -1) {
			up_fail(up, 500, "request body: no room");
			return -1;
		}
		buf_consume(&c->in, consumed);
		if (r == HTTP_BODY_DONE)
			up->req = up->gather ? R_HOLD : R_DONE;
		else if (r == HTTP_BODY_NEED_MORE)
			break;
	}
	if (up->req == R_HOLD && pump_hold(up) == -1) {
		up_fail(up, 500, "request: no room");
		return -1;
	}
	if (up->req == R_DONE && !up->end_queued) {
		if (queue_body_end(up) == -1) {
			up_fail(up, 500, "request: no room");
			return -1;
		}
		up->end_queued = true;
	}
	return 0;
}

/* Pump and write until the upstream's socket is full or nothing is left.
 * 1 if bytes went out, 0 if not, -1 when c (and up) were freed. */
static int
up_send(struct webd_upstream *up)
{
	ssize_t	 n;
	int	 sent = 0;

	for (;;) {
		if (up_pump(up) == -1)
			return -1;
		if (!up->connected || up->write_closed ||
		    buf_used(&up->to_up) == 0)
			return sent;
		if ((n = buf_write_fd(&up->to_up, up->fd)) > 0) {
			sent = 1;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return sent;
		/* It stopped reading (answered early, or died): what it
		 * says next decides; the rest of the body is not wanted. */
		up->write_closed = true;
		buf_reset(&up->to_up);
		return sent;
	}
}

/* ---- the answer towards the client ---- */

static int
emit(struct webd_upstream *up, const char *data, size_t len)
{
	ssize_t	 n = http_out_body(&up->out, &up->c->out, data, len);

	if (n > 0)
		up->c->body_bytes += (uint64_t)n;
	return n < 0 ? -1 : 0;
}

/* Status line, the application's fields minus hop-by-hop ones, framing. */
static int
send_head(struct webd_upstream *up, int status, const struct http_msg *from,
    const struct http_header *fields, size_t n, bool has_length,
    uint64_t length, bool has_body)
{
	struct webd_conn *c = up->c;

	c->status = status;
	http_out_plan(&up->out, up->msg.method, up->msg.minor, status,
	    has_length, length, has_body);
	if (up->out.mode == HTTP_OUT_CLOSE)
		c->close_after = true;
	if (http_write_status_line(&c->out, up->msg.minor, status, NULL) == -1 ||
	    http_out_fields(&up->out, &c->out, from, fields, n,
	    response_drop) == -1)
		return -1;
	up->head_sent = true;
	return conn_finish_head(c);
}

static void
up_finish(struct webd_upstream *up)
{
	struct webd_conn *c = up->c;

	if (http_out_end(&up->out, &c->out) == -1) {
		conn_free(c);
		return;
	}
	if (up->out.mode == HTTP_OUT_LENGTH && up->out.left > 0) {
		/* Fewer bytes than announced: the client must see a cut. */
		log_warnx("%s: answer ended %llu bytes short of its length",
		    up->name, (unsigned long long)up->out.left);
		conn_free(c);
		return;
	}
	up_detach(up);
	conn_kick(c);
}

/* The application's error output: to the error log, line by line. */
static void
log_stderr(struct webd_upstream *up, const char *s, size_t len)
{
	const char *nl;
	size_t	 n;

	while (len > 0) {
		nl = memchr(s, '\n', len);
		n = nl ? (size_t)(nl - s) : len;
		if (n > 0)
			log_warnx("fastcgi %s: %.*s", up->name,
			    (int)(n > UP_STDERR_MAX ? UP_STDERR_MAX : n), s);
		n += nl != NULL;
		s += n;
		len -= n;
	}
}

/* FastCGI STDOUT: the CGI head first, then body. 0, or -1 = 502. */
static int
fcgi_stdout(struct webd_upstream *up, const char *data, size_t len)
{
	struct http_header fields[UP_FIELDS];
	struct cgi_head	 h = { .headers = fields, .cap = UP_FIELDS };
	int		 n;

	if (up->head_sent)
		return emit(up, data, len);
	if (buf_append(&up->cgi, data, len) == -1)
		return -1;
	n = cgi_parse_head(buf_head(&up->cgi), buf_used(&up->cgi),
	    up->c->w->conf->max_head, &h);
	if (n <= 0)
		return n;
	if (send_head(up, h.status, &up->msg, h.headers, h.nheaders,
	    h.has_length, h.length, true) == -1 ||
	    emit(up, buf_head(&up->cgi) + n, buf_used(&up->cgi) - (size_t)n) == -1)
		return -1;
	buf_free(&up->cgi);
	return 0;
}

/* One step over from_up. 1: progress; 0: need more; -1: up_fail'ed or
 * finished (c may be gone). */
static int
fcgi_step(struct webd_upstream *up)
{
	struct fcgi_record rec;
	size_t	 consumed;
	int	 r;

	r = fcgi_parse_record(buf_head(&up->from_up), buf_used(&up->from_up),
	    &consumed, &rec);
	if (r == FCGI_NEED_MORE)
		return 0;
	if (r == FCGI_ERROR) {
		up_fail(up, 502, "malformed FastCGI record");
		return -1;
	}
	if (rec.id == UP_FCGI_ID) {
		switch (rec.type) {
		case FCGI_STDOUT:
			if (fcgi_stdout(up, rec.content, rec.content_len) == -1) {
				up_fail(up, 502, "bad CGI response head");
				return -1;
			}
			break;
		case FCGI_STDERR:
			log_stderr(up, rec.content, rec.content_len);
			break;
		case FCGI_END_REQUEST:
			if (!up->head_sent) {
				up_fail(up, rec.protocol_status != 0 ? 503 : 502,
				    rec.protocol_status != 0 ? "request refused "
				    "(overloaded)" : "no response head");
				return -1;
			}
			up->done = true;
			up_finish(up);
			return -1;
		default:
			break;
		}
	}
	buf_consume(&up->from_up, consumed);
	return 1;
}

static int
http_step(struct webd_upstream *up)
{
	struct http_header fields[UP_FIELDS];
	struct http_msg	 rm;
	const char	*data;
	size_t		 consumed, dlen;
	int		 n, r;

	if (!up->head_sent) {
		http_msg_init(&rm, fields, UP_FIELDS);
		n = http_parse_response(&up->rparser, buf_head(&up->from_up),
		    buf_used(&up->from_up), up->msg.method, &rm);
		if (n == 0)
			return 0;
		if (n < 0 || rm.status == 101) {
			up_fail(up, 502, n < 0 ? up->rparser.error :
			    "unexpected 101 Switching Protocols");
			return -1;
		}
		if (rm.status >= 200) {
			http_body_init(&up->rbody, &rm, NULL);
			if (send_head(up, rm.status, &rm, rm.headers, rm.nheaders,
			    rm.body == HTTP_BODY_LENGTH, rm.content_length,
			    rm.body != HTTP_BODY_NONE) == -1) {
				up_fail(up, 502, "response head: no room");
				return -1;
			}
		}
		buf_consume(&up->from_up, (size_t)n);
		return 1;
	}
	r = http_body_read(&up->rbody, buf_head(&up->from_up),
	    buf_used(&up->from_up), &consumed, &data, &dlen);
	if (r == HTTP_BODY_ERROR) {
		up_fail(up, 502, up->rbody.error);
		return -1;
	}
	if (r == HTTP_BODY_DATA && emit(up, data, dlen) == -1) {
		up_fail(up, 502, "client output: no room");
		return -1;
	}
	buf_consume(&up->from_up, consumed);
	if (r == HTTP_BODY_DONE || http_body_done(&up->rbody)) {
		up->done = true;
		up_finish(up);
		return -1;
	}
	return r == HTTP_BODY_NEED_MORE ? 0 : 1;
}

/* Turn buffered upstream bytes into client output while the client keeps
 * up. 0, or -1 when up is gone. */
static int
up_process(struct webd_upstream *up)
{
	int	 r;

	while (buf_used(&up->from_up) > 0 &&
	    buf_used(&up->c->out) < UP_CLIENT_HIGH) {
		r = up->kind == H_FASTCGI ? fcgi_step(up) : http_step(up);
		if (r <= 0)
			return r;
	}
	return 0;
}

/* The upstream closed its side. 0, or -1 when up is gone. */
static int
up_eof(struct webd_upstream *up)
{
	if (up->kind == H_PROXY && up->head_sent &&
	    buf_used(&up->from_up) == 0 &&
	    http_body_eof(&up->rbody) == HTTP_BODY_DONE) {
		up->done = true;
		up_finish(up);
		return -1;
	}
	up_fail(up, 502, up->head_sent ? "closed in the middle of the answer" :
	    "closed before answering");
	return -1;
}

/* ---- events ---- */

static void
up_update(struct webd_upstream *up)
{
	struct webd_conn *c = up->c;
	unsigned cev = 0, uev = 0;
	bool	 reading_body;

	reading_body = up->req == R_BODY && !up->write_closed &&
	    to_up_room(up) > 0 && buf_used(&c->in) < c->in.max;
	if (buf_used(&c->out) > 0)
		cev |= c->out_want ? c->out_want : EV_WRITE;
	if (reading_body)
		cev |= EV_READ;
	ev_fd_mod(loop_of(c), c->io.fd, cev);
	if (!up->connected)
		uev = EV_WRITE;
	else {
		if (buf_used(&up->to_up) > 0 && !up->write_closed)
			uev |= EV_WRITE;
		if (buf_used(&c->out) < UP_CLIENT_HIGH &&
		    buf_used(&up->from_up) < up->from_up.max)
			uev |= EV_READ;
	}
	ev_fd_mod(loop_of(c), up->fd, uev);
	/* The client timer runs while webd waits on the client: its answer
	 * not being read, or its body not arriving. */
	if (buf_used(&c->out) > 0)
		ev_timer_start(loop_of(c), &c->timer, c->w->conf->idle_timeout_ms);
	else if (reading_body && buf_used(&up->to_up) == 0)
		ev_timer_start(loop_of(c), &c->timer, c->w->conf->body_timeout_ms);
	else
		ev_timer_stop(loop_of(c), &c->timer);
	/* upstream-timeout counts only time spent waiting on the upstream,
	 * not on a slow client (its own timers above cover that). */
	if (reading_body || buf_used(&c->out) > 0)
		ev_timer_start(loop_of(c), &up->timer,
		    c->w->conf->upstream_timeout_ms);
}

static void
up_timeout(struct ev_loop *loop, void *arg)
{
	struct webd_upstream *up = arg;

	webd_limit_hit(up->c->w, "upstream_timeout");
	up_fail(up, 504, "timed out");
}

static void
up_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct webd_upstream *up = arg;
	struct webd_conn *c = up->c;
	bool	 progress = false;
	ssize_t	 n;

	if (!up->connected) {
		if (net_connect_finish(fd) == -1) {
			up_fail(up, 502, strerror(errno));
			return;
		}
		up->connected = true;
		progress = true;
	}
	switch (up_send(up)) {
	case -1:
		return;
	case 1:
		progress = true;
		break;
	}
	while (buf_used(&c->out) < UP_CLIENT_HIGH) {
		n = buf_read_fd(&up->from_up, fd);
		if (n > 0) {
			progress = true;
			if (up_process(up) == -1)
				return;
			continue;
		}
		if (n == 0) {
			if (up_process(up) == 0)
				up_eof(up);
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == ENOBUFS)
			break;		/* from_up full: the client is slow */
		up_fail(up, 502, strerror(errno));
		return;
	}
	if (progress)
		ev_timer_start(loop, &up->timer, c->w->conf->upstream_timeout_ms);
	/* Client output may have grown: send it now rather than wait. */
	conn_kick(c);
}

void
upstream_client_io(struct webd_conn *c, unsigned events)
{
	struct webd_upstream *up = c->up;
	unsigned want = EV_WRITE;
	int	 rc;

	if (events & EV_ERROR) {	/* reset by the client: nobody to answer */
		conn_free(c);
		return;
	}
	if (buf_used(&c->out) > 0) {
		rc = stream_flush(&c->io, &c->out, &want);
		if (rc == STREAM_ERROR) {
			conn_free(c);
			return;
		}
		c->out_want = rc == STREAM_BLOCKED ? want : 0;
		/* Room again: turn what the upstream sent into output. */
		if (rc != STREAM_BLOCKED && up_process(up) == -1)
			return;
	}
	if (up->req == R_BODY && !up->write_closed && to_up_room(up) > 0) {
		rc = stream_fill(&c->io, &c->in, &want);
		if (rc <= 0) {
			/* The client went away mid-body: nobody to answer. */
			conn_free(c);
			return;
		}
		if (up_send(up) == -1)
			return;
	}
	up_update(up);
}

/* An answer webd gives itself instead of the upstream's. */
static int
start_refused(struct webd_conn *c, struct webd_upstream *up, int status)
{
	char	 text[64];
	int	 minor = up->msg.minor;

	c->close_after |= up->req == R_BODY;
	c->unread_body = up->req == R_BODY;
	upstream_free(up);
	snprintf(text, sizeof(text), "%d %s\n", status,
	    http_status_reason(status));
	return conn_respond_text(c, minor, status, text);
}

/* FastCGI: the script must exist beneath the root (php-fpm is handed
 * nothing else), and its names are fixed now: a reload may free conf. */
static int
fcgi_setup(struct webd_upstream *up, const char *script, const char *path)
{
	struct webd	*w = up->c->w;
	int		 fd;

	if ((fd = static_open_beneath(w->root_fd, script)) == -1)
		return static_errno_status(errno);
	close(fd);
	if ((up->script_name = strdup(script)) == NULL ||
	    (up->doc_uri = strdup(path)) == NULL ||
	    (up->doc_root = strdup(w->conf->root)) == NULL ||
	    asprintf(&up->script_file, "%s%s", w->conf->root, script) == -1) {
		up->script_file = NULL;
		return 500;
	}
	if (fcgi_write_begin(&up->to_up, UP_FCGI_ID, false) == -1)
		return 500;
	if (up->msg.body == HTTP_BODY_CHUNKED) {
		up->gather = true;
		buf_init(&up->hold, w->conf->max_body + 1);
	} else {
		if (write_params(up, up->msg.content_length) == -1)
			return 500;
		up->params_sent = true;
	}
	return 0;
}

int
upstream_start(struct webd_conn *c, const struct http_msg *msg,
    size_t headlen, const struct webd_location *loc, const char *path)
{
	struct webd	*w = c->w;
	struct webd_upstream *up;
	struct http_limits lim;
	char		 err[256];
	int		 status;

	if ((up = calloc(1, sizeof(*up))) == NULL)
		return -1;
	up->c = c;
	up->kind = loc->handler;
	up->fd = -1;
	c->up = up;
	ev_timer_init(&up->timer, up_timeout, up);
	net_addr_str(&loc->upstream, up->name, sizeof(up->name));
	buf_init(&up->to_up, UP_TO_MAX + 2 * w->conf->max_head);
	buf_init(&up->from_up, UP_FROM_MAX);
	buf_init(&up->cgi, w->conf->max_head);
	/* The head is consumed once this returns, and the body streams
	 * through the same buffer: keep a copy. */
	if (http_msg_copy(msg, buf_head(&c->in), headlen, &up->head, &up->msg,
	    up->fields, UP_FIELDS) == -1) {
		upstream_free(up);
		return -1;
	}
	http_parser_init(&up->rparser, NULL);
	http_limits_default(&lim);
	lim.max_body = w->conf->max_body;
	http_body_init(&up->body, msg, &lim);
	up->req = http_body_done(&up->body) ? R_DONE : R_BODY;
	if (up->kind == H_FASTCGI)
		status = fcgi_setup(up, loc->script ? loc->script : path, path);
	else
		status = write_http_head(up) == -1 ? 500 : 0;
	if (status == 0 && msg->expect_continue && up->req == R_BODY &&
	    buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n") == -1)
		status = 500;
	if (status != 0)
		return start_refused(c, up, status);
	if ((up->fd = net_connect(&loc->upstream, err, sizeof(err))) == -1 ||
	    ev_fd_add(loop_of(c), up->fd, EV_WRITE, up_io, up) == -1) {
		log_warnx("%s %s: %s", up->kind == H_FASTCGI ? "fastcgi" :
		    "proxy", up->name, up->fd == -1 ? err : strerror(errno));
		return start_refused(c, up, 502);
	}
	ev_timer_start(loop_of(c), &up->timer, w->conf->upstream_timeout_ms);
	c->state = C_PROXY;
	c->out_want = 0;
	/* The answer leaves in pieces as the upstream sends it. */
	if (!c->nodelay && net_set_nodelay(c->io.fd) == 0)
		c->nodelay = true;
	return 0;
}
