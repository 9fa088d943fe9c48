/* lbd active health checks: every check-interval each server of a pool is
 * probed on a fresh connection (tcp: connect; tls: connect + handshake
 * with verification; http: a GET of the check path, status compared)
 * within check-timeout; rise/fall runs of results move it up or down. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lbd.h"

struct lb_check {
	struct lb_server	*srv;
	struct lb_bconn		*b;
	struct ev_timer		 timer;
	struct buf		 out, in;
	struct http_parser	 parser;
};

static struct ev_loop *
loop_of(struct lb_server *s)
{
	return lb_loop(s->pool->lb);
}

static void
check_end(struct lb_check *k, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
check_end(struct lb_check *k, bool ok, const char *fmt, ...)
{
	struct lb_server *s = k->srv;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(s->check_result, sizeof(s->check_result), fmt, ap);
	va_end(ap);
	ev_timer_stop(loop_of(s), &k->timer);
	if (k->b != NULL)
		lb_bconn_cancel(k->b);
	buf_free(&k->out);
	buf_free(&k->in);
	free(k);
	s->check = NULL;
	if (lb_health_result(&s->health, ok))
		lb_server_set_up(s, s->health.up, s->check_result);
	ev_timer_start(loop_of(s), &s->check_timer,
	    s->pool->conf->check_interval_ms);
}

static void
check_timeout(struct ev_loop *loop, void *arg)
{
	check_end(arg, false, "check timed out");
}

static void
check_io(struct lb_bconn *b, void *arg, unsigned events)
{
	struct lb_check	*k = arg;
	struct lb_pool_conf *pc = k->srv->pool->conf;
	struct http_header fields[64];
	struct http_msg	 msg;
	unsigned	 want = EV_READ;
	int		 rc, n;

	rc = stream_flush(&b->io, &k->out, &want);
	if (rc == STREAM_ERROR) {
		check_end(k, false, "check: write failed");
		return;
	}
	if (rc == 1) {
		if ((rc = stream_fill(&b->io, &k->in, &want)) <= 0) {
			check_end(k, false, "check: closed before answering");
			return;
		}
		http_msg_init(&msg, fields, 64);
		n = http_parse_response(&k->parser, buf_head(&k->in),
		    buf_used(&k->in), HTTP_M_GET, &msg);
		if (n < 0) {
			check_end(k, false, "check: bad answer: %s",
			    k->parser.error);
			return;
		}
		if (n > 0) {
			bool ok = pc->check_status != 0 ?
			    msg.status == pc->check_status :
			    msg.status >= 200 && msg.status < 400;

			check_end(k, ok, "http %d%s", msg.status,
			    ok ? "" : " (unexpected)");
			return;
		}
	}
	lb_bconn_watch(b, want);
}

static void
check_ready(struct lb_bconn *b, void *arg)
{
	struct lb_check	*k = arg;
	struct lb_pool_conf *pc = k->srv->pool->conf;

	if (pc->check != CHECK_HTTP) {
		check_end(k, true, "%s ok", pc->check == CHECK_TLS ||
		    b->io.tls != NULL ? "tls" : "tcp");
		return;
	}
	if (buf_printf(&k->out, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: lbd-check/" LBD_VERSION "\r\nConnection: close\r\n\r\n",
	    pc->check_path, pc->tls_name ? pc->tls_name : k->srv->addr_str) == -1) {
		check_end(k, false, "check: no room");
		return;
	}
	check_io(b, k, EV_WRITE);
}

static void
check_failed(struct lb_bconn *b, void *arg, const char *why)
{
	struct lb_check	*k = arg;

	k->b = NULL;	/* freed by bconn after this call */
	check_end(k, false, "%s", why);
}

static const struct lb_bconn_ops check_ops = {
	.ready = check_ready,
	.failed = check_failed,
	.io = check_io,
};

static void
check_run(struct ev_loop *loop, void *arg)
{
	struct lb_server *s = arg;
	struct lb_check	*k;

	if (s->check != NULL || s->pool->conf->check == CHECK_NONE)
		return;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		ev_timer_start(loop, &s->check_timer,
		    s->pool->conf->check_interval_ms);
		return;
	}
	k->srv = s;
	buf_init(&k->out, 4096);
	buf_init(&k->in, HTTP_MAX_HEAD_DEFAULT);
	http_parser_init(&k->parser, NULL);
	ev_timer_init(&k->timer, check_timeout, k);
	s->check = k;
	ev_timer_start(loop, &k->timer, s->pool->conf->check_timeout_ms);
	if ((k->b = lb_bconn_new(s, &check_ops, k)) == NULL)
		check_end(k, false, "check: out of memory");
}

void
lb_check_init(struct lb_server *s)
{
	ev_timer_init(&s->check_timer, check_run, s);
}

void
lb_checks_start(struct lb_pool *p)
{
	int	 i;

	for (i = 0; i < p->nservers; i++) {
		struct lb_server *s = p->servers[i];

		if (p->conf->check == CHECK_NONE) {
			lb_check_stop(s);
			snprintf(s->check_result, sizeof(s->check_result),
			    "no checks");
			if (!s->t.up)
				lb_server_set_up(s, true, "checks turned off");
			continue;
		}
		if (s->check != NULL || ev_timer_pending(&s->check_timer))
			continue;
		/* The first check at once: a dead server is found early. */
		ev_timer_start(lb_loop(p->lb), &s->check_timer, 0);
	}
}

void
lb_check_stop(struct lb_server *s)
{
	ev_timer_stop(loop_of(s), &s->check_timer);
	if (s->check != NULL) {
		struct lb_check *k = s->check;

		ev_timer_stop(loop_of(s), &k->timer);
		if (k->b != NULL)
			lb_bconn_cancel(k->b);
		buf_free(&k->out);
		buf_free(&k->in);
		free(k);
		s->check = NULL;
	}
}
