/* stackd-hello — the foundation's whole chain in one small daemon: config
 * (conf), control socket (ctl), HTTPS listener (net + tls + http), metrics,
 * reload and graceful stop (service). Tests drive it with openssl s_client,
 * curl and socat; it is also the template the five daemons follow.
 *
 *	listen "127.0.0.1:8443"
 *	certificate "server.crt" "server.key"	# several: chosen by SNI
 *	message "hello"
 *	header-timeout 10s
 *	max-connections 1000
 *	control "/tmp/hello.sock"
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "ev.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "service.h"
#include "stream.h"
#include "tls.h"

#define HELLO_VERSION	"0.1"
#define HELLO_IN_MAX	(HTTP_MAX_HEAD_DEFAULT + 1024)
#define HELLO_OUT_MAX	(64 * 1024)
#define HELLO_HEADERS	64

struct hello_conf {
	struct service_conf	 svc;
	char			*listen;
	char			*message;
	uint64_t		 header_timeout_ms;
	uint64_t		 max_conns;
	struct tls_config	*tls;
	int			 ncerts;
};

enum conn_state { C_HANDSHAKE, C_READ, C_WRITE, C_CLOSING };

struct conn {
	struct hello		*h;
	struct stream		 io;		/* the socket and its TLS */
	enum conn_state		 state;
	struct buf		 in, out;
	struct http_parser	 parser;
	bool			 close_after;
	struct ev_timer		 timer;
	struct conn		*next, **prevp;
};

struct hello {
	struct service		*svc;
	struct hello_conf	*conf;
	int			 lfd;
	struct net_addr		 addr;
	struct conn		*conns;
	size_t			 nconns;
	bool			 stopping;
	struct metric		*requests;	/* by code */
	struct metric		*handshakes;	/* by result */
	struct metric		*refused;
};

/* Configuration */

static int
set_certificate(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct hello_conf *conf = obj;
	char		 err[512];

	if (conf->tls == NULL &&
	    (conf->tls = tls_server_new(NULL, err, sizeof(err))) == NULL)
		return conf_error(ctx, st, "certificate: %s", err);
	if (tls_server_add_cert(conf->tls, st->argv[1], st->argv[2], err,
	    sizeof(err)) == -1)
		return conf_error(ctx, st, "certificate: %s", err);
	conf->ncerts++;
	return 0;
}

static int
set_listen(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct net_addr	 addr;
	char		 err[256];

	if (net_addr_parse(st->argv[1], 443, &addr, err, sizeof(err)) == -1)
		return conf_error(ctx, st, "listen: %s", err);
	return conf_set_string(ctx, st, d, obj);
}

static const struct conf_directive hello_directives[] = {
	SERVICE_DIRECTIVES(struct hello_conf, svc),
	{ "listen", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_listen,
	    offsetof(struct hello_conf, listen), 0, 0 },
	{ "certificate", 2, 2, CONF_BLOCK_NONE, 0, set_certificate, 0, 0, 0 },
	{ "message", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct hello_conf, message), 0, 0 },
	{ "header-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct hello_conf, header_timeout_ms), 1, 3600 * 1000 },
	{ "max-connections", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_uint,
	    offsetof(struct hello_conf, max_conns), 1, 1000000 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static void
hello_conf_free(void *p)
{
	struct hello_conf *conf = p;

	service_conf_clear(&conf->svc);
	free(conf->listen);
	free(conf->message);
	tls_config_free(conf->tls);
	free(conf);
}

static void *
hello_conf_load(const struct conf_stmt *root, struct conf_ctx *ctx)
{
	struct hello_conf *conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		conf_error(ctx, NULL, "out of memory");
		return NULL;
	}
	conf->header_timeout_ms = 10000;
	conf->max_conns = 1000;
	if (conf_apply(ctx, root, hello_directives, conf) == 0) {
		if (conf->listen == NULL)
			conf_error(ctx, NULL, "listen: missing");
		if (conf->ncerts == 0)
			conf_error(ctx, NULL, "certificate: at least one needed");
	}
	if (conf->message == NULL && (conf->message = strdup("hello")) == NULL)
		conf_error(ctx, NULL, "out of memory");
	if (ctx->nerrors > 0) {
		hello_conf_free(conf);
		return NULL;
	}
	return conf;
}

/* Connections */

static void	conn_io(struct ev_loop *, int, unsigned, void *);
static void	maybe_stopped(struct hello *);

static void
conn_free(struct conn *c)
{
	struct hello *h = c->h;

	ev_timer_stop(service_loop(h->svc), &c->timer);
	ev_fd_close(service_loop(h->svc), c->io.fd);
	tls_conn_free(c->io.tls);
	buf_free(&c->in);
	buf_free(&c->out);
	if ((*c->prevp = c->next) != NULL)
		c->next->prevp = c->prevp;
	h->nconns--;
	free(c);
	maybe_stopped(h);
}

static void
conn_timeout(struct ev_loop *loop, void *arg)
{
	struct conn *c = arg;

	log_debug("connection fd %d: header timeout", c->io.fd);
	conn_free(c);
}

static void
count_request(struct hello *h, int status)
{
	char code[8];

	snprintf(code, sizeof(code), "%d", status);
	counter_inc(metric_with(h->requests, (const char *const[]){ code, NULL }));
}

static int
respond(struct conn *c, int status, bool head_only, const char *body)
{
	char	 len[24];
	struct http_header hdr[] = {
		{ "Content-Type", 12, "text/plain", 10 },
		{ "Content-Length", 14, len, 0 },
		{ "Connection", 10, "close", 5 },
	};

	snprintf(len, sizeof(len), "%zu", strlen(body));
	hdr[1].value_len = strlen(len);
	count_request(c->h, status);
	if (http_write_response_head(&c->out, 1, status, hdr,
	    c->close_after ? 3 : 2) == -1 ||
	    (!head_only && buf_puts(&c->out, body) == -1))
		return -1;
	return 0;
}

/* One complete request head at the start of c->in: answer it. */
static int
handle_request(struct conn *c, const struct http_msg *msg, size_t headlen)
{
	struct hello	*h = c->h;
	char		 body[1024];

	buf_consume(&c->in, headlen);
	c->close_after = !msg->keep_alive || h->stopping;
	/* This example takes no request bodies: answer, then close. */
	if (msg->body != HTTP_BODY_NONE &&
	    !(msg->body == HTTP_BODY_LENGTH && msg->content_length == 0)) {
		c->close_after = true;
		return respond(c, 413, false, "no request bodies here\n");
	}
	if (msg->method != HTTP_M_GET && msg->method != HTTP_M_HEAD)
		return respond(c, 405, false, "method not allowed\n");
	if (msg->target_len != 1 || msg->target[0] != '/')
		return respond(c, 404, false, "not found\n");
	snprintf(body, sizeof(body), "%s\n", h->conf->message);
	return respond(c, 200, msg->method == HTTP_M_HEAD, body);
}

/* Parse what is buffered; switch to writing when there is an answer. */
static void
conn_process(struct conn *c)
{
	struct http_header storage[HELLO_HEADERS];
	struct http_msg	 msg;
	int		 n;

	http_msg_init(&msg, storage, HELLO_HEADERS);
	n = http_parse_request(&c->parser, buf_head(&c->in), buf_used(&c->in),
	    &msg);
	if (n == 0)
		return;
	ev_timer_stop(service_loop(c->h->svc), &c->timer);
	if (n < 0) {
		log_debug("fd %d: bad request: %s", c->io.fd, c->parser.error);
		c->close_after = true;
		buf_reset(&c->in);
		if (respond(c, c->parser.status, false, "bad request\n") == -1)
			c->state = C_CLOSING;
	} else if (handle_request(c, &msg, (size_t)n) == -1)
		c->state = C_CLOSING;
	http_parser_reset(&c->parser);
	if (c->state != C_CLOSING)
		c->state = C_WRITE;
}

/* Step results: the connection was freed, waits for the fd, or moved on. */
enum step { STEP_FREED = -1, STEP_BLOCKED, STEP_NEXT };

static enum step
conn_read(struct conn *c)
{
	unsigned want;

	if (stream_fill(&c->io, &c->in, &want) <= 0) {
		log_debug("fd %d: closed %s", c->io.fd, tls_conn_error(c->io.tls));
		conn_free(c);
		return STEP_FREED;
	}
	ev_fd_mod(service_loop(c->h->svc), c->io.fd, want);
	conn_process(c);
	return c->state == C_READ ? STEP_BLOCKED : STEP_NEXT;
}

static enum step
conn_write(struct conn *c)
{
	unsigned want;
	int	 rc;

	if ((rc = stream_flush(&c->io, &c->out, &want)) == STREAM_BLOCKED) {
		ev_fd_mod(service_loop(c->h->svc), c->io.fd, want);
		return STEP_BLOCKED;
	}
	if (rc == STREAM_ERROR) {
		conn_free(c);
		return STEP_FREED;
	}
	if (c->close_after) {
		(void)tls_close(c->io.tls);
		conn_free(c);
		return STEP_FREED;
	}
	/* A pipelined request may already be buffered. */
	c->state = C_READ;
	ev_fd_mod(service_loop(c->h->svc), c->io.fd, EV_READ);
	ev_timer_start(service_loop(c->h->svc), &c->timer,
	    c->h->conf->header_timeout_ms);
	if (buf_used(&c->in) > 0)
		conn_process(c);
	return c->state == C_READ ? STEP_BLOCKED : STEP_NEXT;
}

static void
conn_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct conn	*c = arg;
	struct hello	*h = c->h;
	int		 rc;

	for (;;) {
		switch (c->state) {
		case C_HANDSHAKE:
			rc = tls_handshake(c->io.tls);
			if (rc == 0) {
				counter_inc(metric_with(h->handshakes,
				    (const char *const[]){ "ok", NULL }));
				c->state = C_READ;
				continue;
			}
			if (rc == TLS_ERR) {
				counter_inc(metric_with(h->handshakes,
				    (const char *const[]){ "failed", NULL }));
				log_debug("fd %d: handshake: %s", fd,
				    tls_conn_error(c->io.tls));
				conn_free(c);
				return;
			}
			ev_fd_mod(loop, fd, tls_want_events(rc));
			return;
		case C_READ:
			if (conn_read(c) != STEP_NEXT)
				return;
			continue;
		case C_WRITE:
			if (conn_write(c) != STEP_NEXT)
				return;
			continue;
		case C_CLOSING:
			conn_free(c);
			return;
		}
	}
}

static void
on_accept(struct ev_loop *loop, int lfd, unsigned events, void *arg)
{
	struct hello	*h = arg;
	struct conn	*c;
	struct net_addr	 peer;
	char		 err[256];
	int		 fd;

	while ((fd = net_accept(lfd, &peer)) != -1) {
		if (h->nconns >= h->conf->max_conns) {
			counter_inc(metric_series0(h->refused));
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->h = h;
		c->io.fd = fd;
		buf_init(&c->in, HELLO_IN_MAX);
		buf_init(&c->out, HELLO_OUT_MAX);
		http_parser_init(&c->parser, NULL);
		ev_timer_init(&c->timer, conn_timeout, c);
		if ((c->io.tls = tls_conn_new(h->conf->tls, fd, NULL, err,
		    sizeof(err))) == NULL ||
		    ev_fd_add(loop, fd, EV_READ, conn_io, c) == -1) {
			log_warnx("accept: %s", c->io.tls ? strerror(errno) : err);
			tls_conn_free(c->io.tls);
			close(fd);
			free(c);
			continue;
		}
		if ((c->next = h->conns) != NULL)
			c->next->prevp = &c->next;
		c->prevp = &h->conns;
		h->conns = c;
		h->nconns++;
		ev_timer_start(loop, &c->timer, h->conf->header_timeout_ms);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		log_warn("accept");
}

/* Service callbacks */

static double
metric_conns(void *arg)
{
	return (double)((struct hello *)arg)->nconns;
}

static int
hello_start(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct hello	*h = service_arg(svc);
	struct metrics	*m = service_metrics(svc);

	h->svc = svc;
	h->conf = confp;
	if (net_addr_parse(h->conf->listen, 443, &h->addr, err, errlen) == -1 ||
	    (h->lfd = net_listen(&h->addr, 511, 0, err, errlen)) == -1)
		return -1;
	if (ev_fd_add(service_loop(svc), h->lfd, EV_READ, on_accept, h) == -1) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		return -1;
	}
	h->requests = metrics_counter(m, "http_requests_total",
	    "HTTP requests answered, by status code.",
	    (const char *const[]){ "code", NULL });
	h->handshakes = metrics_counter(m, "tls_handshakes_total",
	    "TLS handshakes by result (ok, failed).",
	    (const char *const[]){ "result", NULL });
	h->refused = metrics_counter(m, "connections_refused_total",
	    "Connections closed at once: max-connections reached.", NULL);
	if (h->requests == NULL || h->handshakes == NULL || h->refused == NULL ||
	    metrics_gauge_fn(m, "connections", "Open client connections.",
	    metric_conns, h) == NULL) {
		snprintf(err, errlen, "metrics registration failed");
		return -1;
	}
	return 0;
}

static int
hello_reload(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct hello		*h = service_arg(svc);
	struct hello_conf	*newconf = confp;
	struct net_addr		 addr;

	if (net_addr_parse(newconf->listen, 443, &addr, err, errlen) == -1)
		return -1;
	if (!net_addr_equal(&addr, &h->addr)) {
		snprintf(err, errlen, "listen %s: changing the address needs "
		    "a restart", newconf->listen);
		return -1;
	}
	/* Open connections keep a reference to the old certificates. */
	h->conf = newconf;
	return 0;
}

static void
maybe_stopped(struct hello *h)
{
	if (h->stopping && h->nconns == 0)
		service_stopped(h->svc);
}

static void
hello_stop(struct service *svc)
{
	struct hello	*h = service_arg(svc);
	struct conn	*c, *next;

	h->stopping = true;
	ev_fd_del(service_loop(svc), h->lfd);
	close(h->lfd);
	h->lfd = -1;
	/* Idle connections go now; busy ones after their answer. */
	for (c = h->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_READ && buf_used(&c->in) == 0)
			conn_free(c);
		else
			c->close_after = true;
	}
	maybe_stopped(h);
}

static void
hello_status(struct service *svc, struct ctl_conn *cc)
{
	struct hello *h = service_arg(svc);
	char	 addr[NET_ADDRSTRLEN];

	ctl_printf(cc, "listen: %s\n", net_addr_str(&h->addr, addr, sizeof(addr)));
	ctl_printf(cc, "connections: %zu\n", h->nconns);
	ctl_printf(cc, "message: %s\n", h->conf->message);
}

static void
hello_cleanup(struct service *svc)
{
	struct hello *h = service_arg(svc);

	h->stopping = false;
	while (h->conns != NULL)
		conn_free(h->conns);
	if (h->lfd != -1) {
		ev_fd_del(service_loop(svc), h->lfd);
		close(h->lfd);
	}
}

static const struct service_ops hello_ops = {
	.name = "hello",
	.version = HELLO_VERSION,
	.default_conf = "/etc/stackd/hello.conf",
	.service_conf_offset = offsetof(struct hello_conf, svc),
	.conf_load = hello_conf_load,
	.conf_free = hello_conf_free,
	.start = hello_start,
	.reload = hello_reload,
	.stop = hello_stop,
	.status = hello_status,
	.cleanup = hello_cleanup,
};

int
main(int argc, char **argv)
{
	struct hello h = { .lfd = -1 };

	return service_main(&hello_ops, argc, argv, &h);
}
