/* ag_http — the /metrics endpoint. Small on purpose: GET and HEAD of
 * /metrics (and / for a pointer to it), keep-alive, a bounded number of
 * connections, each closed after 30 s of silence; anything else gets
 * 404, 405 or 400 and, for a malformed request, the connection closes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "stream.h"
#include "ag_http.h"

#define HTTP_MAX_CONNS		64
#define HTTP_IDLE_MS		30000
#define HTTP_HEAD_MAX		16384

struct hconn {
	struct ag_http	*h;
	struct hconn	*next, *prev;
	int		 fd;
	struct buf	 in, out;
	struct http_parser parser;
	struct ev_timer	 timer;
	bool		 closing;
};

struct ag_http {
	struct ev_loop	*loop;
	int		 lfd;
	int		(*render)(void *, struct buf *);
	void		*arg;
	struct hconn	*conns;
	unsigned	 nconns;
	struct buf	 body;		/* reused */
};

static void
hconn_free(struct hconn *c)
{
	struct ag_http	*h = c->h;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	h->nconns--;
	ev_timer_stop(h->loop, &c->timer);
	ev_fd_close(h->loop, c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static void
hconn_flush(struct hconn *c)
{
	struct stream	 st = { .fd = c->fd };
	unsigned	 want;

	if (stream_flush(&st, &c->out, &want) == STREAM_ERROR ||
	    (c->closing && buf_used(&c->out) == 0)) {
		hconn_free(c);
		return;
	}
	ev_fd_mod(c->h->loop, c->fd, buf_used(&c->out) > 0 ? EV_WRITE :
	    EV_READ);
}

static int
reply(struct hconn *c, int status, const char *type, const char *body,
    size_t len, bool head_only)
{
	if (buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%s\r\n", status, http_status_reason(status),
	    type, len, c->closing ? "Connection: close\r\n" : "") == -1)
		return -1;
	if (!head_only && buf_append(&c->out, body, len) == -1)
		return -1;
	return 0;
}

static void
handle(struct hconn *c, const struct http_msg *m)
{
	struct ag_http	*h = c->h;
	bool		 head = m->method == HTTP_M_HEAD;
	static const char index[] = "agentd: see /metrics\n";
	static const char *const text = "text/plain; charset=utf-8";
	int		 rv;

	if (!m->keep_alive)
		c->closing = true;
	if (m->method != HTTP_M_GET && !head) {
		rv = reply(c, 405, text, "only GET and HEAD\n", 18, false);
	} else if (m->target_len == 8 && memcmp(m->target, "/metrics", 8) == 0) {
		buf_reset(&h->body);
		if (h->render(h->arg, &h->body) == -1)
			rv = reply(c, 500, text, "metrics too large\n", 18,
			    head);
		else
			rv = reply(c, 200, METRICS_CONTENT_TYPE,
			    buf_head(&h->body), buf_used(&h->body), head);
	} else if (m->target_len == 1 && m->target[0] == '/')
		rv = reply(c, 200, text, index, sizeof(index) - 1, head);
	else
		rv = reply(c, 404, text, "not found\n", 10, head);
	if (rv == -1)
		c->closing = true;
}

static void
hconn_read(struct hconn *c)
{
	struct http_header hdrs[64];
	struct http_msg	 m;
	int		 n;

	while (!c->closing && buf_used(&c->in) > 0) {
		http_msg_init(&m, hdrs, 64);
		n = http_parse_request(&c->parser, buf_head(&c->in),
		    buf_used(&c->in), &m);
		if (n == 0)
			break;
		if (n < 0 || m.body != HTTP_BODY_NONE) {
			c->closing = true;
			reply(c, n < 0 ? c->parser.status : 400, "text/plain",
			    "bad request\n", 12, false);
			break;
		}
		handle(c, &m);
		buf_consume(&c->in, (size_t)n);
	}
	hconn_flush(c);
}

static void
hconn_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct hconn	*c = arg;
	struct stream	 st = { .fd = fd };
	unsigned	 want;
	int		 rv;

	(void)loop;
	if (events & EV_WRITE) {
		hconn_flush(c);
		return;
	}
	if ((rv = stream_fill(&st, &c->in, &want)) <= 0) {
		hconn_free(c);
		return;
	}
	if (buf_used(&c->in) >= HTTP_HEAD_MAX && !c->closing) {
		c->closing = true;
		reply(c, 431, "text/plain", "too large\n", 10, false);
		hconn_flush(c);
		return;
	}
	ev_timer_start(c->h->loop, &c->timer, HTTP_IDLE_MS);
	hconn_read(c);
}

static void
hconn_idle(struct ev_loop *loop, void *arg)
{
	(void)loop;
	hconn_free(arg);
}

static void
http_accept(struct ev_loop *loop, int lfd, unsigned events, void *arg)
{
	struct ag_http	*h = arg;
	struct hconn	*c;
	int		 fd;

	(void)loop;
	(void)events;
	while ((fd = net_accept(lfd, NULL)) != -1) {
		if (h->nconns >= HTTP_MAX_CONNS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->h = h;
		c->fd = fd;
		buf_init(&c->in, HTTP_HEAD_MAX);
		buf_init(&c->out, 0);
		http_parser_init(&c->parser, NULL);
		ev_timer_init(&c->timer, hconn_idle, c);
		if (ev_fd_add(h->loop, fd, EV_READ, hconn_io, c) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->next = h->conns;
		if (h->conns != NULL)
			h->conns->prev = c;
		h->conns = c;
		h->nconns++;
		ev_timer_start(h->loop, &c->timer, HTTP_IDLE_MS);
	}
}

struct ag_http *
ag_http_new(struct ev_loop *loop, const struct net_addr *addr,
    int (*render)(void *, struct buf *), void *arg, char *err, size_t errlen)
{
	struct ag_http	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	h->loop = loop;
	h->render = render;
	h->arg = arg;
	buf_init(&h->body, 64 * 1024 * 1024);
	if ((h->lfd = net_listen(addr, 128, 0, err, errlen)) == -1) {
		free(h);
		return NULL;
	}
	if (ev_fd_add(loop, h->lfd, EV_READ, http_accept, h) == -1) {
		close(h->lfd);
		free(h);
		return seterr(err, errlen, "event loop: %s", strerror(errno)),
		    NULL;
	}
	return h;
}

void
ag_http_free(struct ag_http *h)
{
	if (h == NULL)
		return;
	while (h->conns != NULL)
		hconn_free(h->conns);
	ev_fd_close(h->loop, h->lfd);
	buf_free(&h->body);
	free(h);
}
