/* lbd client connections: TLS termination, strict request parsing, and the
 * HTTP/1.1 relay to a pool's server over a pooled (re-encrypted)
 * connection, bodies streamed both ways in bounded buffers.
 *
 * Retries: a request whose server connection fails goes to another
 * server, at most `retries` times, but only while no byte of the answer
 * came back and either nothing was written to the server or the request
 * is idempotent and bodiless (so resending cannot repeat an effect). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "proxyproto.h"
#include "tls.h"
#include "lbd.h"
#include "lbd_client.h"

static void	cl_run(struct lb_client *, unsigned events);
static bool	req_try(struct lb_client *);
static void	req_update(struct lb_client *);

struct ev_loop *
cl_loop(struct lb_client *c)
{
	return lb_loop(c->lb);
}

/* ---- the request record ---- */

/* ---- the pool's queue ---- */

static void
queue_leave(struct lb_req *r)
{
	struct lb_pool	*p = r->pool;

	if (!r->queued)
		return;
	if ((*r->qprevp = r->qnext) != NULL)
		r->qnext->qprevp = r->qprevp;
	else
		p->queue_tail = r->qprevp;
	r->queued = false;
	p->nqueued--;
}

/* Every usable server is at its cap: wait in the queue (true), unless it
 * is full or nothing in the pool could ever take the request (false). */
static bool
queue_join(struct lb_client *c)
{
	struct lb_req	*r = c->req;
	struct lb_pool	*p = r->pool;
	const struct lb_target *t;
	bool		 full = false;
	int		 i;

	for (i = 0; i < p->nservers && !full; i++) {
		t = &p->servers[i]->t;
		full = t->up && t->admin == ADMIN_READY && t->max_active > 0 &&
		    t->active >= t->max_active;
	}
	if (!full || p->nqueued >= p->conf->queue_max)
		return false;
	if (p->queue_tail == NULL)
		p->queue_tail = &p->queue;
	r->client = c;
	r->queued = true;
	r->qnext = NULL;
	r->qprevp = p->queue_tail;
	*p->queue_tail = r;
	p->queue_tail = &r->qnext;
	p->nqueued++;
	r->tries--;	/* waiting is not a try */
	ev_timer_start(cl_loop(c), &r->timer, p->conf->queue_timeout_ms);
	return true;
}

void
lb_pool_queue_run(struct lb_pool *p)
{
	struct lb_req	*r;

	/* req_try takes a server, fails the request (r is then freed), or
	 * queues it again at the tail: then none has room. */
	while ((r = p->queue) != NULL) {
		queue_leave(r);
		ev_timer_stop(cl_loop(r->client), &r->timer);
		if (req_try(r->client))
			break;
	}
}

/* The request is done with its server: its slot may go to one queued. */
static void
req_put_server(struct lb_req *r)
{
	lb_server_put(r->srv);
	r->srv = NULL;
	if (r->pool->nqueued > 0)
		lb_pool_queue_run(r->pool);
}

static void
req_free(struct lb_client *c)
{
	struct lb_req	*r = c->req;

	if (r == NULL)
		return;
	ev_timer_stop(cl_loop(c), &r->timer);
	queue_leave(r);
	if (r->b != NULL) {
		lb_bconn_cancel(r->b);
		req_put_server(r);
	}
	buf_free(&r->to_srv);
	buf_free(&r->from_srv);
	free(r->head);
	lb_pool_unref(r->pool);
	free(r);
	c->req = NULL;
}

void
cl_free(struct lb_client *c)
{
	struct lb	*lb = c->lb;

	req_free(c);
	ev_timer_stop(cl_loop(c), &c->timer);
	ev_fd_close(cl_loop(c), c->io.fd);
	tls_conn_free(c->io.tls);
	buf_free(&c->in);
	buf_free(&c->out);
	if ((*c->prevp = c->next) != NULL)
		c->next->prevp = c->prevp;
	lb->nclients--;
	c->fe->nconns--;
	free(c);
	if (lb->stopping && lb->nclients == 0)
		service_stopped(lb->svc);
}

static void
cl_timeout(struct ev_loop *loop, void *arg)
{
	struct lb_client *c = arg;

	if (c->state == CL_TUNNEL) {
		lb_tunnel_timeout(c);
		return;
	}
	if (c->state == CL_PROXYHDR)
		lb_proxy_refused(c->fe, c->peer_str, "timeout",
		    "not complete within header-timeout");
	/* A request head that does not arrive in time gets 408 (slowloris
	 * included); an idle keep-alive connection just closes. */
	if (c->state == CL_HEAD && c->in_request) {
		c->in_request = false;
		c->close_after = true;
		c->unread_body = true;
		buf_reset(&c->out);
		c->status = 408;
		snprintf(c->reqline, sizeof(c->reqline), "-");
		if (http_write_status_line(&c->out, 1, 408, NULL) == 0 &&
		    http_write_header(&c->out, "Content-Length", "0") == 0 &&
		    http_write_header(&c->out, "Connection", "close") == 0 &&
		    http_write_end_head(&c->out) == 0) {
			c->state = CL_WRITE;
			ev_timer_start(loop, &c->timer, 1000);
			cl_run(c, 0);
			return;
		}
	}
	cl_free(c);
}

/* ---- answers lbd gives itself ---- */

static int
answer(struct lb_client *c, int minor, int status, const char *location)
{
	char	 body[160], len[24];

	snprintf(body, sizeof(body), "%d %s\n", status,
	    http_status_reason(status) ? http_status_reason(status) : "");
	snprintf(len, sizeof(len), "%zu", strlen(body));
	c->status = status;
	c->bytes = strlen(body);
	if (http_write_status_line(&c->out, minor, status, NULL) == -1 ||
	    http_write_header(&c->out, "Content-Type",
	    "text/plain; charset=utf-8") == -1 ||
	    http_write_header(&c->out, "Content-Length", len) == -1 ||
	    (location != NULL &&
	    http_write_header(&c->out, "Location", location) == -1) ||
	    (c->close_after &&
	    http_write_header(&c->out, "Connection", "close") == -1) ||
	    http_write_end_head(&c->out) == -1 ||
	    buf_puts(&c->out, body) == -1)
		return -1;
	return 0;
}

/* The request cannot be served: answer status now, or cut the connection
 * when part of a server's answer already went out. */
static void
req_fail(struct lb_client *c, int status, const char *why)
{
	struct lb_req	*r = c->req;
	bool		 sent = r->head_sent;
	int		 minor = r->msg.minor;

	log_warnx("frontend %s: %s: %s", c->fe->conf->name,
	    c->server[0] ? c->server : "-", why);
	if (!r->body_done)
		c->close_after = c->unread_body = true;
	req_free(c);
	if (sent || answer(c, minor, status, NULL) == -1) {
		cl_free(c);
		return;
	}
	c->state = CL_WRITE;
	ev_timer_start(cl_loop(c), &c->timer, c->fe->conf->idle_timeout_ms);
	cl_run(c, 0);
}

/* ---- request towards the server ---- */

static const char *const request_drop[] = {
	"Expect", "Content-Length", "X-Forwarded-For", "X-Forwarded-Proto",
	"Forwarded", NULL
};

static bool
drop_field(const struct http_msg *m, const struct http_header *h,
    const char *const *drop)
{
	for (; *drop != NULL; drop++)
		if (http_header_is(h, *drop))
			return true;
	return http_header_hop_by_hop(m, h);
}

/* Client address as X-Forwarded-For wants it, and as Forwarded's for=
 * (quoted and bracketed for IPv6). */
static void
client_host(const struct lb_client *c, char *out, size_t len, bool forwarded)
{
	char	 s[NET_ADDRSTRLEN], *end;

	snprintf(s, sizeof(s), "%s", c->peer_str);
	if (s[0] == '[' && (end = strchr(s, ']')) != NULL) {
		*end = '\0';
		snprintf(out, len, forwarded ? "\"[%s]\"" : "%s", s + 1);
	} else {
		if ((end = strrchr(s, ':')) != NULL)
			*end = '\0';
		snprintf(out, len, "%s", s);
	}
}

/* A request that may become a tunnel: Connection: upgrade with Upgrade,
 * HTTP/1.1, no body (its end would be ambiguous against tunnel bytes). */
static bool
wants_upgrade(const struct http_msg *m)
{
	return m->upgrade && m->upgrade_proto != NULL && m->minor == 1 &&
	    m->body == HTTP_BODY_NONE;
}

static int
build_request(struct lb_client *c)
{
	struct lb_req	*r = c->req;
	const struct http_msg *m = &r->msg;
	const struct http_header *xff = http_header_get(m, "X-Forwarded-For");
	struct buf	*b = &r->to_srv;
	const char	*proto = c->io.tls ? "https" : "http";
	char		 host[NET_ADDRSTRLEN], fhost[NET_ADDRSTRLEN + 4], clen[24];
	size_t		 i;

	client_host(c, host, sizeof(host), false);
	client_host(c, fhost, sizeof(fhost), true);
	buf_reset(b);
	if (buf_printf(b, "%.*s %.*s HTTP/1.1\r\n", (int)m->method_len,
	    m->method_str, (int)m->target_len, m->target) == -1)
		return -1;
	for (i = 0; i < m->nheaders; i++)
		if (!drop_field(m, &m->headers[i], request_drop) &&
		    http_write_headern(b, m->headers[i].name,
		    m->headers[i].name_len, m->headers[i].value,
		    m->headers[i].value_len) == -1)
			return -1;
	/* Sent as HTTP/1.1, which requires Host: an HTTP/1.0 request
	 * without one gets the server's name, as the URL would carry. */
	if (m->host == NULL && buf_printf(b, "Host: %s\r\n",
	    r->pool->conf->tls_name != NULL ? r->pool->conf->tls_name :
	    r->srv->addr_str) == -1)
		return -1;
	/* Upgrade is hop-by-hop: asked again of the server, for a tunnel. */
	if (wants_upgrade(m) && buf_printf(b, "Connection: upgrade\r\n"
	    "Upgrade: %.*s\r\n", (int)m->upgrade_len, m->upgrade_proto) == -1)
		return -1;
	if (buf_printf(b, "X-Forwarded-For: %.*s%s%s\r\n"
	    "X-Forwarded-Proto: %s\r\nForwarded: for=%s;proto=%s\r\n",
	    xff ? (int)xff->value_len : 0, xff ? xff->value : "",
	    xff ? ", " : "", host, proto, fhost, proto) == -1)
		return -1;
	if (m->body == HTTP_BODY_CHUNKED) {
		if (http_write_header(b, "Transfer-Encoding", "chunked") == -1)
			return -1;
	} else if (m->body == HTTP_BODY_LENGTH && m->content_length > 0) {
		snprintf(clen, sizeof(clen), "%llu",
		    (unsigned long long)m->content_length);
		if (http_write_header(b, "Content-Length", clen) == -1)
			return -1;
	}
	return http_write_end_head(b);
}

/* Client body bytes into to_srv while there is room. 0, or -1 = failed. */
static int
pump_body(struct lb_client *c)
{
	struct lb_req	*r = c->req;
	const char	*data;
	size_t		 consumed, dlen, n, room;
	int		 rv;

	while (!r->body_done && buf_used(&c->in) > 0) {
		room = buf_used(&r->to_srv) + 1024 >= SRV_OUT_MAX - 1024 ? 0 :
		    SRV_OUT_MAX - 2048 - buf_used(&r->to_srv);
		if (room == 0)
			break;
		n = buf_used(&c->in) < room ? buf_used(&c->in) : room;
		rv = http_body_read(&r->body, buf_head(&c->in), n, &consumed,
		    &data, &dlen);
		if (rv == HTTP_BODY_ERROR) {
			req_fail(c, r->body.status, r->body.error);
			return -1;
		}
		if (rv == HTTP_BODY_DATA && (r->msg.body == HTTP_BODY_CHUNKED ?
		    http_write_chunk(&r->to_srv, data, dlen) :
		    buf_append(&r->to_srv, data, dlen)) == -1) {
			req_fail(c, 500, "request body: no room");
			return -1;
		}
		buf_consume(&c->in, consumed);
		if (rv == HTTP_BODY_DONE)
			r->body_done = true;
		else if (rv == HTTP_BODY_NEED_MORE)
			break;
	}
	if (r->body_done && !r->end_queued) {
		r->end_queued = true;
		if (r->msg.body == HTTP_BODY_CHUNKED &&
		    http_write_last_chunk(&r->to_srv, NULL, 0) == -1) {
			req_fail(c, 500, "request: no room");
			return -1;
		}
	}
	return 0;
}

/* ---- the answer towards the client ---- */

static int
send_head(struct lb_client *c, const struct http_msg *rm)
{
	struct lb_req	*r = c->req;
	char		 v[80];

	c->status = rm->status;
	r->resp_keepalive = rm->keep_alive && !rm->must_close;
	http_out_plan(&r->out, r->msg.method, r->msg.minor, rm->status,
	    rm->body == HTTP_BODY_LENGTH, rm->content_length,
	    rm->body != HTTP_BODY_NONE);
	if (r->out.mode == HTTP_OUT_CLOSE || c->lb->stopping)
		c->close_after = true;
	if (http_write_status_line(&c->out, r->msg.minor, rm->status,
	    NULL) == -1 ||
	    http_out_fields(&r->out, &c->out, rm, rm->headers, rm->nheaders,
	    NULL) == -1)
		return -1;
	if (c->fe->conf->hsts_max_age > 0 && c->io.tls != NULL &&
	    http_header_get(rm, "Strict-Transport-Security") == NULL) {
		snprintf(v, sizeof(v), "max-age=%llu%s",
		    (unsigned long long)c->fe->conf->hsts_max_age,
		    c->fe->conf->hsts_subdomains ? "; includeSubDomains" : "");
		if (http_write_header(&c->out, "Strict-Transport-Security",
		    v) == -1)
			return -1;
	}
	if (c->close_after &&
	    http_write_header(&c->out, "Connection", "close") == -1)
		return -1;
	r->head_sent = true;
	return http_write_end_head(&c->out);
}

static int
emit(struct lb_client *c, const char *data, size_t len)
{
	ssize_t	 n = http_out_body(&c->req->out, &c->out, data, len);

	if (n > 0)
		c->bytes += (uint64_t)n;
	return n < 0 ? -1 : 0;
}

/* The answer is complete in c->out: release the server connection. */
static void
req_done(struct lb_client *c)
{
	struct lb_req	*r = c->req;
	bool		 reusable;

	if (http_out_end(&r->out, &c->out) == -1) {
		cl_free(c);
		return;
	}
	reusable = r->resp_keepalive && r->body_done &&
	    buf_used(&r->to_srv) == 0 && buf_used(&r->from_srv) == 0;
	lb_server_result(r->srv, true, ev_clock_us() - r->t_sent);
	lb_bconn_release(r->b, reusable);
	r->b = NULL;
	req_put_server(r);
	if (!r->body_done)
		c->close_after = c->unread_body = true;
	req_free(c);
	c->state = CL_WRITE;
	ev_timer_start(cl_loop(c), &c->timer, c->fe->conf->idle_timeout_ms);
	cl_run(c, 0);
}

/* Parse what the server sent into client output. 0, or -1 when the
 * request ended (done or failed: c may be gone). */
static int
process_answer(struct lb_client *c)
{
	struct lb_req	*r = c->req;
	struct http_header fields[CL_FIELDS];
	struct http_msg	 rm;
	const char	*data;
	size_t		 consumed, dlen;
	int		 n;

	while (buf_used(&r->from_srv) > 0 && buf_used(&c->out) < CL_OUT_HIGH) {
		if (!r->head_sent) {
			http_msg_init(&rm, fields, CL_FIELDS);
			n = http_parse_response(&r->rparser,
			    buf_head(&r->from_srv), buf_used(&r->from_srv),
			    r->msg.method, &rm);
			if (n == 0)
				return 0;
			if (n > 0 && rm.status == 101 && rm.upgrade &&
			    wants_upgrade(&r->msg)) {
				if (lb_tunnel_start(c, &rm, (size_t)n) == -1)
					req_fail(c, 502, "101: no room");
				return -1;
			}
			if (n < 0 || rm.status == 101) {
				lb_server_result(r->srv, false, 0);
				req_fail(c, 502, n < 0 ? r->rparser.error :
				    "unexpected 101");
				return -1;
			}
			if (rm.status >= 200) {
				http_body_init(&r->rbody, &rm, NULL);
				if (send_head(c, &rm) == -1) {
					req_fail(c, 502, "answer head: no room");
					return -1;
				}
			}
			buf_consume(&r->from_srv, (size_t)n);
			if (r->head_sent && r->rbody.kind == HTTP_BODY_NONE) {
				req_done(c);
				return -1;
			}
			continue;
		}
		n = http_body_read(&r->rbody, buf_head(&r->from_srv),
		    buf_used(&r->from_srv), &consumed, &data, &dlen);
		if (n == HTTP_BODY_ERROR) {
			lb_server_result(r->srv, false, 0);
			req_fail(c, 502, r->rbody.error);
			return -1;
		}
		if (n == HTTP_BODY_DATA && emit(c, data, dlen) == -1) {
			req_fail(c, 502, "client output: no room");
			return -1;
		}
		buf_consume(&r->from_srv, consumed);
		/* The last bytes of a sized body come as DATA: done now, not
		 * when more bytes (that will not come) arrive. */
		if (n == HTTP_BODY_DONE || http_body_done(&r->rbody)) {
			req_done(c);
			return -1;
		}
		if (n == HTTP_BODY_NEED_MORE)
			break;
	}
	return 0;
}

/* The server connection failed before a byte of the answer: another
 * server if allowed, else 502. */
static void
srv_failed(struct lb_client *c, const char *why)
{
	struct lb_req	*r = c->req;
	bool		 safe;

	lb_server_result(r->srv, false, 0);
	if (r->b != NULL)
		lb_bconn_cancel(r->b);
	r->b = NULL;
	req_put_server(r);
	safe = !r->wrote || ((r->msg.method == HTTP_M_GET ||
	    r->msg.method == HTTP_M_HEAD || r->msg.method == HTTP_M_OPTIONS) &&
	    r->msg.body == HTTP_BODY_NONE);
	if (!r->head_sent && buf_used(&r->from_srv) == 0 && safe &&
	    r->tries <= r->pool->conf->retries) {
		log_info("frontend %s: %s: %s; retrying", c->fe->conf->name,
		    c->server, why);
		counter_inc(metric_series0(c->lb->m_retries));
		req_try(c);
		return;
	}
	req_fail(c, 502, why);
}

static void
srv_timeout(struct ev_loop *loop, void *arg)
{
	struct lb_client *c = arg;

	if (c->req->queued) {
		c->req->pool->queue_timeouts++;
		req_fail(c, 503, "queue-timeout: every server is full");
		return;
	}
	lb_server_result(c->req->srv, false, 0);
	req_fail(c, 504, "server timed out");
}

/* Write to and read from the server as far as both sides allow. */
static void
srv_io(struct lb_bconn *b, void *arg, unsigned events)
{
	struct lb_client *c = arg;
	struct lb_req	*r = c->req;
	unsigned	 want;
	ssize_t		 n;
	bool		 progress = false;

	if (c->state == CL_TUNNEL) {
		lb_tunnel_io(c);
		return;
	}
	for (;;) {
		if (pump_body(c) == -1)
			return;
		if (buf_used(&r->to_srv) == 0)
			break;
		n = stream_write(&b->io, buf_head(&r->to_srv),
		    buf_used(&r->to_srv), &want);
		if (n == STREAM_BLOCKED)
			break;
		if (n < 0) {
			srv_failed(c, "write failed");
			return;
		}
		r->wrote = progress = true;
		buf_consume(&r->to_srv, (size_t)n);
	}
	while (buf_used(&c->out) < CL_OUT_HIGH) {
		if (buf_reserve(&r->from_srv, 4096) == -1)
			break;
		n = stream_read(&b->io, buf_tail(&r->from_srv),
		    buf_room(&r->from_srv), &want);
		if (n == STREAM_BLOCKED)
			break;
		if (n == 0 || n == STREAM_ERROR) {
			/* An answer ending at close is complete; else the
			 * server went away. */
			if (n == 0 && r->head_sent &&
			    http_body_eof(&r->rbody) == HTTP_BODY_DONE) {
				if (process_answer(c) == 0) {
					r->resp_keepalive = false;
					req_done(c);
				}
				return;
			}
			if (!r->head_sent && buf_used(&r->from_srv) == 0)
				srv_failed(c, n == 0 ? "closed before answering" :
				    "read failed");
			else {
				lb_server_result(r->srv, false, 0);
				req_fail(c, 502, "closed in the middle of the "
				    "answer");
			}
			return;
		}
		buf_commit(&r->from_srv, (size_t)n);
		progress = true;
		if (process_answer(c) == -1)
			return;
	}
	if (progress)
		ev_timer_start(cl_loop(c), &r->timer,
		    r->pool->conf->server_timeout_ms);
	cl_run(c, 0);
}

static void
srv_ready(struct lb_bconn *b, void *arg)
{
	struct lb_client *c = arg;

	c->req->t_sent = ev_clock_us();
	srv_io(b, arg, EV_WRITE);
}

static void
srv_connect_failed(struct lb_bconn *b, void *arg, const char *why)
{
	struct lb_client *c = arg;

	c->req->b = NULL;	/* freed by bconn after this call */
	srv_failed(c, why);
}

static const struct lb_bconn_ops srv_ops = {
	.ready = srv_ready,
	.failed = srv_connect_failed,
	.io = srv_io,
};

/* Whom the server connection is for when the pool sends PROXY headers:
 * the client (from its own PROXY header, if any) and where it connected. */
static const struct lb_origin *
cl_origin(struct lb_client *c, struct lb_origin *o)
{
	if (!c->req->pool->conf->send_proxy_v2)
		return NULL;
	if (!c->local_known && net_local_addr(c->io.fd, &c->local) == 0)
		c->local_known = true;
	if (!c->local_known)
		return NULL;
	o->src = c->peer;
	o->dst = c->local;
	return o;
}

/* Pick a server (not the one that just failed) and send the request.
 * True when it went to the pool's queue instead. */
static bool
req_try(struct lb_client *c)
{
	struct lb_req	*r = c->req;
	struct lb_key	 key = { 0 };
	struct lb_origin origin;
	const struct http_header *h;
	int		 i;

	if (r->pool->conf->balance == BAL_SOURCE) {
		const struct sockaddr *sa = (const struct sockaddr *)&c->peer.ss;

		if (sa->sa_family == AF_INET) {
			key.client_addr = &((const struct sockaddr_in *)sa)->sin_addr;
			key.client_addr_len = 4;
		} else if (sa->sa_family == AF_INET6) {
			key.client_addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
			key.client_addr_len = 16;
		}
	} else if (r->pool->conf->balance == BAL_HASH_HEADER &&
	    (h = http_header_get(&r->msg, r->pool->conf->hash_header)) != NULL) {
		key.header_value = h->value;
		key.header_len = h->value_len;
	}
	r->tries++;
	if ((i = lb_pick(&r->pool->bal, &key, r->srv_idx)) == -1) {
		if (queue_join(c))
			return true;
		req_fail(c, 503, "no server available");
		return false;
	}
	r->srv_idx = i;
	r->srv = r->pool->servers[i];
	r->srv->t.active++;
	r->wrote = false;
	snprintf(c->server, sizeof(c->server), "%s/%s", r->pool->conf->name,
	    r->srv->name);
	if (build_request(c) == -1) {
		req_fail(c, 500, "request head: no room");
		return false;
	}
	/* Bytes of a body already pumped cannot be sent twice. */
	if (r->end_queued && r->msg.body != HTTP_BODY_NONE && r->tries > 1) {
		req_fail(c, 502, "cannot resend the request body");
		return false;
	}
	http_parser_init(&r->rparser, NULL);
	buf_reset(&r->from_srv);
	if ((r->b = lb_bconn_get(r->srv, cl_origin(c, &origin), &srv_ops,
	    c)) == NULL) {
		srv_failed(c, "out of memory");
		return false;
	}
	ev_timer_start(cl_loop(c), &r->timer, r->pool->conf->server_timeout_ms +
	    r->pool->conf->connect_timeout_ms);
	return false;
}

/* ---- the client side ---- */

void
cl_log(struct lb_client *c)
{
	char	 when[32];
	time_t	 now = time(NULL);
	struct tm tm;
	double	 secs = (double)(ev_now(cl_loop(c)) - c->t_start) / 1000.0;
	char	 class[4] = "0xx";

	class[0] = (char)('0' + c->status / 100);
	counter_inc(metric_with(c->lb->m_requests, (const char *const[]){
	    c->fe->conf->name, class, NULL }));
	histogram_observe(metric_with(c->lb->m_duration, (const char *const[]){
	    c->fe->conf->name, NULL }), secs);
	c->fe->requests++;
	if (!alog_enabled(&c->lb->alog))
		return;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	alog_printf(&c->lb->alog, "%s %s %s %s %d %llu %.3f %s %s \"%s\"\n",
	    when, c->peer_str, c->fe->conf->name,
	    c->server[0] ? c->server : "-", c->status,
	    (unsigned long long)c->bytes, secs,
	    c->io.tls ? tls_conn_version(c->io.tls) : "-",
	    c->io.tls ? tls_conn_cipher(c->io.tls) : "-", c->reqline);
}

/* Host without its port ("[v6]:port" keeps the brackets): the https URL
 * of a redirect must not carry port 80. */
static size_t
host_len(const char *host, size_t len)
{
	const char *colon;

	if (host == NULL || (colon = memrchr(host, ':', len)) == NULL ||
	    memchr(colon, ']', len - (size_t)(colon - host)) != NULL)
		return host ? len : 0;
	return (size_t)(colon - host);
}

/* One complete request head at the start of c->in. */
static void
dispatch(struct lb_client *c, const struct http_msg *msg, size_t headlen)
{
	struct lb	*lb = c->lb;
	struct lb_frontend_conf *fc = c->fe->conf;
	struct lb_req	*r;
	struct http_limits lim;
	const char	*eol = memchr(buf_head(&c->in), '\r', headlen);
	char		 loc[2048];

	snprintf(c->reqline, sizeof(c->reqline), "%.*s",
	    eol ? (int)(eol - buf_head(&c->in)) : 0, buf_head(&c->in));
	for (char *p = c->reqline; *p; p++)
		if (*p == '"' || (unsigned char)*p < 0x20)
			*p = '?';
	c->server[0] = '\0';
	c->close_after = !msg->keep_alive || lb->stopping;
	c->state = CL_WRITE;
	if (fc->redirect_https || msg->target_form != HTTP_TARGET_ORIGIN ||
	    (lb->conf->max_body > 0 && msg->body == HTTP_BODY_LENGTH &&
	    msg->content_length > lb->conf->max_body)) {
		int status = fc->redirect_https ? 301 :
		    msg->target_form != HTTP_TARGET_ORIGIN ? 400 : 413;

		if (msg->body != HTTP_BODY_NONE)
			c->close_after = c->unread_body = true;
		snprintf(loc, sizeof(loc), "https://%.*s%.*s",
		    (int)host_len(msg->host, msg->host_len),
		    msg->host ? msg->host : "", (int)msg->target_len,
		    msg->target);
		buf_consume(&c->in, headlen);
		if (answer(c, msg->minor, status, status == 301 ? loc : NULL) == -1)
			c->close_after = true;
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    http_msg_copy(msg, buf_head(&c->in), headlen, &r->head, &r->msg,
	    r->fields, CL_FIELDS) == -1) {
		free(r);
		buf_consume(&c->in, headlen);
		c->close_after = true;
		answer(c, msg->minor, 500, NULL);
		return;
	}
	buf_consume(&c->in, headlen);
	c->req = r;
	r->pool = lb->pools[fc->pool];
	r->pool->refs++;
	r->srv_idx = -1;
	buf_init(&r->to_srv, SRV_OUT_MAX);
	buf_init(&r->from_srv, SRV_IN_MAX);
	ev_timer_init(&r->timer, srv_timeout, c);
	http_limits_default(&lim);
	lim.max_body = lb->conf->max_body;
	http_body_init(&r->body, msg, &lim);
	r->body_done = http_body_done(&r->body);
	if (msg->expect_continue && !r->body_done &&
	    buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n") == -1) {
		req_fail(c, 500, "no room");
		return;
	}
	c->state = CL_PROXY;
	c->out_want = 0;
	req_try(c);
}

static void
cl_process(struct lb_client *c)
{
	struct http_header storage[CL_FIELDS];
	struct http_msg	 msg;
	int		 n;

	if (buf_used(&c->in) == 0)
		return;
	if (!c->in_request) {
		c->in_request = true;
		c->t_start = ev_now(cl_loop(c));
		ev_timer_start(cl_loop(c), &c->timer, c->fe->conf->header_timeout_ms);
	}
	http_msg_init(&msg, storage, CL_FIELDS);
	n = http_parse_request(&c->parser, buf_head(&c->in), buf_used(&c->in),
	    &msg);
	if (n == 0)
		return;
	ev_timer_stop(cl_loop(c), &c->timer);
	c->in_request = false;
	c->bytes = 0;
	if (n < 0) {
		/* Smuggling vectors and other bad heads: answer and close. */
		log_debug("frontend %s: %s: bad request: %s", c->fe->conf->name,
		    c->peer_str, c->parser.error);
		snprintf(c->reqline, sizeof(c->reqline), "-");
		c->close_after = c->unread_body = true;
		buf_reset(&c->in);
		c->state = CL_WRITE;
		if (answer(c, 1, c->parser.status, NULL) == -1)
			buf_reset(&c->out);
	} else
		dispatch(c, &msg, (size_t)n);
	http_parser_reset(&c->parser);
	if (c->state == CL_WRITE)
		ev_timer_start(cl_loop(c), &c->timer, c->fe->conf->idle_timeout_ms);
}

/* Interest on both sockets while relaying. */
static void
req_update(struct lb_client *c)
{
	struct lb_req	*r = c->req;
	unsigned	 cev = 0, sev = 0;
	bool		 reading = !r->body_done &&
	    buf_used(&r->to_srv) + 4096 < SRV_OUT_MAX &&
	    buf_used(&c->in) < c->in.max;

	if (buf_used(&c->out) > 0)
		cev |= c->out_want ? c->out_want : EV_WRITE;
	if (reading)
		cev |= EV_READ;
	ev_fd_mod(cl_loop(c), c->io.fd, cev);
	if (r->b != NULL && r->t_sent != 0) {
		if (buf_used(&r->to_srv) > 0)
			sev |= EV_WRITE;
		if (buf_used(&c->out) < CL_OUT_HIGH)
			sev |= EV_READ;
		/* TLS may need the other direction: ask for both. */
		if (r->b->io.tls != NULL && sev != 0)
			sev = EV_READ | EV_WRITE * (buf_used(&r->to_srv) > 0);
		lb_bconn_watch(r->b, sev);
	}
	if (buf_used(&c->out) > 0 || reading) {
		ev_timer_start(cl_loop(c), &c->timer, c->fe->conf->idle_timeout_ms);
		/* Waiting on the client is not the server's delay (a
		 * queued request's timer is its queue-timeout). */
		if (!r->queued)
			ev_timer_start(cl_loop(c), &r->timer,
			    r->pool->conf->server_timeout_ms);
	} else
		ev_timer_stop(cl_loop(c), &c->timer);
}

static void
cl_linger(struct lb_client *c)
{
	c->state = CL_LINGER;
	if (c->io.tls != NULL)
		(void)tls_close(c->io.tls);
	shutdown(c->io.fd, SHUT_WR);
	ev_fd_mod(cl_loop(c), c->io.fd, EV_READ);
	ev_timer_start(cl_loop(c), &c->timer, CL_LINGER_MS);
}

/* proxy-protocol: the PROXY header comes before TLS or the request; its
 * client address then stands for the peer's everywhere (forwarded fields,
 * log, source hash). false: wait for more, or c is gone. */
static bool
cl_proxy_header(struct lb_client *c)
{
	struct proxyproto_hdr h;
	int		 rv = proxyproto_recv(c->io.fd, &c->in, &h);

	if (rv == PROXYPROTO_NEED_MORE)
		return false;
	if (rv < 0) {
		lb_proxy_refused(c->fe, c->peer_str, rv == PROXYPROTO_ERROR ?
		    "invalid" : "closed", h.error);
		cl_free(c);
		return false;
	}
	if (!h.local) {
		c->peer = h.src;
		c->local = h.dst;
		c->local_known = true;
		net_addr_str(&c->peer, c->peer_str, sizeof(c->peer_str));
	}
	c->state = c->io.tls ? CL_HANDSHAKE : CL_HEAD;
	/* TLS: the handshake and first request share what is left of
	 * header-timeout; plain: wait for a request as after accept. */
	if (c->io.tls == NULL)
		ev_timer_start(cl_loop(c), &c->timer,
		    c->fe->conf->idle_timeout_ms);
	return true;
}

/* Drive the client side until it blocks. */
static void
cl_run(struct lb_client *c, unsigned events)
{
	unsigned want;
	char	 sink[4096];
	int	 rc;

	for (;;) {
		switch (c->state) {
		case CL_PROXYHDR:
			if (!cl_proxy_header(c))
				return;
			continue;
		case CL_HANDSHAKE:
			rc = tls_handshake(c->io.tls);
			if (rc == TLS_ERR) {
				log_debug("frontend %s: %s: handshake: %s",
				    c->fe->conf->name, c->peer_str,
				    tls_conn_error(c->io.tls));
				cl_free(c);
				return;
			}
			if (rc != 0) {
				ev_fd_mod(cl_loop(c), c->io.fd,
				    tls_want_events(rc));
				return;
			}
			counter_inc(metric_with(c->lb->m_handshakes,
			    (const char *const[]){ c->fe->conf->name,
			    tls_conn_resumed(c->io.tls) ? "resumed" : "new",
			    NULL }));
			c->state = CL_HEAD;
			continue;
		case CL_HEAD:
			if ((rc = stream_fill(&c->io, &c->in, &want)) <= 0) {
				cl_free(c);
				return;
			}
			ev_fd_mod(cl_loop(c), c->io.fd, want);
			cl_process(c);
			if (c->state == CL_HEAD)
				return;
			continue;
		case CL_PROXY:
			if (events & EV_ERROR) {
				cl_free(c);
				return;
			}
			if (buf_used(&c->out) > 0) {
				rc = stream_flush(&c->io, &c->out, &want);
				if (rc == STREAM_ERROR) {
					cl_free(c);
					return;
				}
				c->out_want = rc == STREAM_BLOCKED ? want : 0;
			}
			if (!c->req->body_done && buf_used(&c->in) < c->in.max &&
			    (events & EV_READ || stream_pending(&c->io))) {
				rc = stream_fill(&c->io, &c->in, &want);
				if (rc <= 0) {
					cl_free(c);
					return;
				}
			}
			/* Let the server side move what the client side made
			 * room for or brought. */
			if (c->req->b != NULL && c->req->t_sent != 0 &&
			    (events & (EV_READ | EV_WRITE))) {
				events = 0;
				srv_io(c->req->b, c, 0);
				return;
			}
			req_update(c);
			return;
		case CL_WRITE:
			rc = stream_flush(&c->io, &c->out, &want);
			if (rc == STREAM_BLOCKED) {
				ev_fd_mod(cl_loop(c), c->io.fd, want);
				return;
			}
			if (rc == STREAM_ERROR) {
				cl_free(c);
				return;
			}
			cl_log(c);
			if (c->close_after) {
				if (c->unread_body || buf_used(&c->in) > 0) {
					cl_linger(c);
					return;
				}
				if (c->io.tls != NULL)
					(void)tls_close(c->io.tls);
				cl_free(c);
				return;
			}
			c->state = CL_HEAD;
			ev_timer_start(cl_loop(c), &c->timer,
			    c->fe->conf->idle_timeout_ms);
			if (buf_used(&c->in) > 0) {
				/* Pipelined: already here. */
				cl_process(c);
				if (c->state != CL_HEAD)
					continue;
			}
			ev_fd_mod(cl_loop(c), c->io.fd, EV_READ);
			return;
		case CL_TUNNEL:
			lb_tunnel_io(c);
			return;
		case CL_LINGER:
			while (stream_read(&c->io, sink, sizeof(sink), &want) > 0)
				;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cl_free(c);
			return;
		}
	}
}

static void
cl_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	cl_run(arg, events);
}

void
lb_accept(struct ev_loop *loop, int lfd, unsigned events, void *arg)
{
	struct lb_frontend *fe = arg;
	struct lb	*lb = fe->lb;
	struct lb_client *c;
	struct net_addr	 peer;
	char		 err[256];
	int		 fd;

	if ((fd = net_accept(lfd, &peer)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("frontend %s: accept", fe->conf->name);
		return;
	}
	if (fe->nconns >= fe->conf->max_conns ||
	    lb->nclients >= lb->conf->max_conns || lb->stopping) {
		fe->refused += !lb->stopping;
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	net_set_nodelay(fd);
	c->lb = lb;
	c->fe = fe;
	c->io.fd = fd;
	c->peer = peer;
	net_addr_str(&peer, c->peer_str, sizeof(c->peer_str));
	c->state = fe->conf->proxy_protocol ? CL_PROXYHDR :
	    fe->tls ? CL_HANDSHAKE : CL_HEAD;
	buf_init(&c->in, CL_IN_MAX);
	buf_init(&c->out, CL_OUT_MAX);
	http_parser_init(&c->parser, NULL);
	ev_timer_init(&c->timer, cl_timeout, c);
	if ((fe->tls != NULL && (c->io.tls = tls_conn_new(fe->tls, fd, NULL,
	    err, sizeof(err))) == NULL) ||
	    ev_fd_add(loop, fd, EV_READ, cl_io, c) == -1) {
		log_warnx("frontend %s: accept: %s", fe->conf->name,
		    fe->tls && c->io.tls == NULL ? err : strerror(errno));
		tls_conn_free(c->io.tls);
		buf_free(&c->in);
		buf_free(&c->out);
		close(fd);
		free(c);
		return;
	}
	if ((c->next = lb->clients) != NULL)
		c->next->prevp = &c->next;
	c->prevp = &lb->clients;
	lb->clients = c;
	lb->nclients++;
	fe->nconns++;
	/* The PROXY header, the handshake and the first request share
	 * header-timeout. */
	c->in_request = fe->tls != NULL;
	c->t_start = ev_now(loop);
	ev_timer_start(loop, &c->timer, fe->tls || fe->conf->proxy_protocol ?
	    fe->conf->header_timeout_ms : fe->conf->idle_timeout_ms);
}

void
lb_clients_drain(struct lb *lb)
{
	struct lb_client *c, *next;

	for (c = lb->clients; c != NULL; c = next) {
		next = c->next;
		if ((c->state == CL_HEAD && !c->in_request) ||
		    c->state == CL_PROXYHDR)
			cl_free(c);
		else
			c->close_after = true;
	}
}

void
lb_clients_close_all(struct lb *lb)
{
	while (lb->clients != NULL)
		cl_free(lb->clients);
}
