/* lbd connections to servers: connect, PROXY header (send-proxy-v2) and
 * TLS handshake without blocking, then owned by a client request or a
 * health check; reusable ones wait in their server's idle pool until
 * keepalive runs out or the server closes them.
 *
 * A connection that began with a PROXY header speaks for one client
 * address for its whole life: it is reused only when the header a new
 * request would send is byte for byte the same (same client address and
 * port, same destination), in practice the next requests of the same
 * client connection. Other pools reuse any idle connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "proxyproto.h"
#include "tls.h"
#include "lbd.h"

enum { B_CONNECTING, B_PROXYHDR, B_HANDSHAKE, B_READY, B_IDLE, B_FAILED };

/* What a connection in each setting-up state is waiting for. */
static const char *const setup_names[] = {
	[B_CONNECTING] = "connect", [B_PROXYHDR] = "PROXY header",
	[B_HANDSHAKE] = "TLS handshake",
};

struct bconn_priv {
	struct lb_bconn		 b;
	struct ev_deferred	 later;	/* ready/failed, never re-entrant */
	char			 why[160];
	uint8_t			 pp[PROXYPROTO_V2_BUILD_MAX];	/* header */
	size_t			 pp_len, pp_sent;
};

#define PRIV(b)	((struct bconn_priv *)(b))

static struct ev_loop *
loop_of(struct lb_bconn *b)
{
	return lb_loop(b->srv->pool->lb);
}

static void
bconn_free(struct lb_bconn *b)
{
	struct ev_loop *loop = loop_of(b);

	ev_timer_stop(loop, &b->timer);
	ev_defer_cancel(loop, &PRIV(b)->later);
	if (b->io.fd != -1)
		ev_fd_close(loop, b->io.fd);
	tls_conn_free(b->io.tls);
	lb_server_conn_closed(b->srv);
	free(PRIV(b));
}

/* Report the outcome from the loop, not from the caller's stack. */
static void
bconn_later(struct ev_loop *loop, void *arg)
{
	struct lb_bconn	*b = arg;

	if (b->state == B_FAILED) {
		b->ops->failed(b, b->arg, PRIV(b)->why);
		bconn_free(b);
	} else
		b->ops->ready(b, b->arg);
}

static void
bconn_fail(struct lb_bconn *b, const char *fmt, const char *detail)
{
	snprintf(PRIV(b)->why, sizeof(PRIV(b)->why), fmt, detail);
	b->state = B_FAILED;
	ev_timer_stop(loop_of(b), &b->timer);
	if (b->io.fd != -1)
		ev_fd_mod(loop_of(b), b->io.fd, 0);
	ev_defer(loop_of(b), &PRIV(b)->later);
}

static void
bconn_timeout(struct ev_loop *loop, void *arg)
{
	struct lb_bconn	*b = arg;

	if (b->state == B_IDLE) {	/* keepalive ran out */
		lb_bconn_release(b, false);
		return;
	}
	bconn_fail(b, "%s timed out", setup_names[b->state]);
}

/* The PROXY header goes first, in clear, before TLS. 0 when sent (or
 * there is none), 1 to wait until writable, -1 with errno. */
static int
bconn_send_header(struct lb_bconn *b)
{
	struct bconn_priv *p = PRIV(b);
	ssize_t		 n;

	while (p->pp_sent < p->pp_len) {
		n = send(b->io.fd, p->pp + p->pp_sent, p->pp_len - p->pp_sent,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
		p->pp_sent += (size_t)n;
	}
	return 0;
}

/* The header a connection for origin o would start with, into pp: none
 * unless the pool has send-proxy-v2; LOCAL without an origin. */
static size_t
header_for(struct lb_server *s, const struct lb_origin *o, uint8_t *pp)
{
	if (!s->pool->conf->send_proxy_v2)
		return 0;
	return proxyproto_build_v2(o ? &o->src : NULL, o ? &o->dst : NULL, pp);
}

static void
bconn_unlink_idle(struct lb_bconn *b)
{
	struct lb_bconn	**pp;

	for (pp = &b->srv->idle; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			b->srv->nidle--;
			return;
		}
}

/* After a full handshake: its session is the one to resume next. */
static void
bconn_keep_session(struct lb_bconn *b)
{
	struct lb_server *s = b->srv;
	struct tls_session *ts;
	char		 err[128];
	bool		 resumed = tls_conn_resumed(b->io.tls);

	counter_inc(metric_with(s->pool->lb->m_server_tls,
	    (const char *const[]){ s->pool->conf->name, s->name,
	    resumed ? "resumed" : "new", NULL }));
	if (resumed ||
	    (ts = tls_conn_get_session(b->io.tls, err, sizeof(err))) == NULL)
		return;
	tls_session_free(b->srv->tls_session);
	b->srv->tls_session = ts;
}

static void
bconn_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct lb_bconn	*b = arg;
	struct lb_pool_conf *pc = b->srv->pool->conf;
	char		 host[NET_ADDRSTRLEN], err[256];
	int		 rc;

	switch (b->state) {
	case B_CONNECTING:
		if (net_connect_finish(fd) == -1) {
			bconn_fail(b, "connect: %s", strerror(errno));
			return;
		}
		b->state = B_PROXYHDR;
		/* FALLTHROUGH */
	case B_PROXYHDR:
		if ((rc = bconn_send_header(b)) == -1) {
			bconn_fail(b, "PROXY header: %s", strerror(errno));
			return;
		}
		if (rc == 1)	/* still watching EV_WRITE */
			return;
		if (pc->tls == NULL)
			break;
		/* The name checked is tls name, else the address's host. */
		net_addr_host(&b->srv->addr, host, sizeof(host));
		if ((b->io.tls = tls_conn_new(pc->tls, fd, pc->tls_name ?
		    pc->tls_name : host, err, sizeof(err))) == NULL) {
			bconn_fail(b, "TLS: %s", err);
			return;
		}
		/* Resuming saves the server (and us) a full handshake; a
		 * session it forgot just means a full one. */
		if (b->srv->tls_session != NULL)
			(void)tls_conn_set_session(b->io.tls,
			    b->srv->tls_session, err, sizeof(err));
		b->state = B_HANDSHAKE;
		/* FALLTHROUGH */
	case B_HANDSHAKE:
		if (b->io.tls != NULL) {
			rc = tls_handshake(b->io.tls);
			if (rc == TLS_ERR) {
				bconn_fail(b, "TLS handshake: %s",
				    tls_conn_error(b->io.tls));
				return;
			}
			if (rc != 0) {
				ev_fd_mod(loop, fd, tls_want_events(rc));
				return;
			}
			bconn_keep_session(b);
		}
		break;
	case B_READY:
		b->ops->io(b, b->arg, events);
		return;
	case B_IDLE:
		/* An idle connection has nothing to say: this is its close
		 * (or garbage). Either way it cannot be reused. */
		lb_bconn_release(b, false);
		return;
	default:
		return;
	}
	b->state = B_READY;
	ev_timer_stop(loop, &b->timer);
	ev_fd_mod(loop, fd, 0);
	b->ops->ready(b, b->arg);
}

static struct lb_bconn *
bconn_open(struct lb_server *s, const uint8_t *pp, size_t pp_len,
    const struct lb_bconn_ops *ops, void *arg)
{
	struct bconn_priv *p;
	struct lb_bconn	*b;
	char		 err[256];

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	memcpy(p->pp, pp, pp_len);
	p->pp_len = pp_len;
	b = &p->b;
	b->srv = s;
	b->ops = ops;
	b->arg = arg;
	b->io.fd = -1;
	s->nconns++;
	ev_timer_init(&b->timer, bconn_timeout, b);
	ev_deferred_init(&p->later, bconn_later, b);
	b->t_connect = ev_now(loop_of(b));
	if ((b->io.fd = net_connect(&s->addr, err, sizeof(err))) == -1) {
		bconn_fail(b, "%s", err);
		return b;
	}
	net_set_nodelay(b->io.fd);
	if (ev_fd_add(loop_of(b), b->io.fd, EV_WRITE, bconn_io, b) == -1) {
		close(b->io.fd);
		b->io.fd = -1;
		bconn_fail(b, "watch: %s", strerror(errno));
		return b;
	}
	b->state = B_CONNECTING;
	ev_timer_start(loop_of(b), &b->timer, s->pool->conf->connect_timeout_ms);
	return b;
}

struct lb_bconn *
lb_bconn_new(struct lb_server *s, const struct lb_bconn_ops *ops, void *arg)
{
	uint8_t		 pp[PROXYPROTO_V2_BUILD_MAX];

	return bconn_open(s, pp, header_for(s, NULL, pp), ops, arg);
}

struct lb_bconn *
lb_bconn_get(struct lb_server *s, const struct lb_origin *o,
    const struct lb_bconn_ops *ops, void *arg)
{
	uint8_t		 pp[PROXYPROTO_V2_BUILD_MAX];
	size_t		 n = header_for(s, o, pp);
	struct lb_bconn	*b;

	for (b = s->idle; b != NULL; b = b->next)
		if (PRIV(b)->pp_len == n && memcmp(PRIV(b)->pp, pp, n) == 0)
			break;
	if (b == NULL)
		return bconn_open(s, pp, n, ops, arg);
	bconn_unlink_idle(b);
	ev_timer_stop(loop_of(b), &b->timer);
	ev_fd_mod(loop_of(b), b->io.fd, 0);
	b->ops = ops;
	b->arg = arg;
	b->reused = true;
	b->state = B_READY;
	ev_defer(loop_of(b), &PRIV(b)->later);
	return b;
}

void
lb_bconn_cancel(struct lb_bconn *b)
{
	if (b->state == B_IDLE)
		bconn_unlink_idle(b);
	bconn_free(b);
}

void
lb_bconn_release(struct lb_bconn *b, bool reusable)
{
	struct lb_server *s = b->srv;
	struct lb_pool_conf *pc = s->pool->conf;

	if (b->state == B_IDLE)
		bconn_unlink_idle(b);
	ev_defer_cancel(loop_of(b), &PRIV(b)->later);
	if (!reusable || b->state != B_READY || s->nidle >= pc->max_idle ||
	    pc->keepalive_ms == 0 || s->pool->lb->stopping ||
	    (b->io.tls != NULL && tls_pending(b->io.tls))) {
		if (b->io.tls != NULL && b->state == B_READY)
			(void)tls_close(b->io.tls);
		bconn_free(b);
		return;
	}
	b->state = B_IDLE;
	b->ops = NULL;
	b->arg = NULL;
	b->next = s->idle;
	s->idle = b;
	s->nidle++;
	ev_fd_mod(loop_of(b), b->io.fd, EV_READ);
	ev_timer_start(loop_of(b), &b->timer, pc->keepalive_ms);
}

void
lb_bconn_watch(struct lb_bconn *b, unsigned events)
{
	ev_fd_mod(loop_of(b), b->io.fd, events);
}

void
lb_server_close_idle(struct lb_server *s)
{
	while (s->idle != NULL)
		lb_bconn_release(s->idle, false);
}
