/* lbd admin state: lbctl's server commands, and the state file that keeps
 * what they set across restarts (lbd_state.c has the format).
 *
 * The running process is the authority and the file its copy: it is
 * rewritten whenever a command changes a server, read at start, and on
 * reload applied only to servers the reload created (a kept server keeps
 * its live state, which the file already holds).
 *
 * `server drain POOL/NAME wait [TIMEOUT]` keeps its control connection
 * (ctl_stream) and answers once the server's last request has ended:
 * lb_server_put tells lb_admin_idle. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "lbd.h"

/* ---- the state file ---- */

struct load {
	struct lb	*lb;
	const char	*path;
};

static void
load_entry(const struct lb_state_entry *e, unsigned line, void *arg)
{
	struct load	*ld = arg;
	struct lb_server *s;

	if ((s = lb_server_find(ld->lb, e->pool, e->server)) == NULL) {
		log_warnx("%s:%u: no server %s in pool %s: line ignored",
		    ld->path, line, e->server, e->pool);
		return;
	}
	if (!s->fresh)
		return;
	s->t.admin = e->admin;
	if (e->weight > 0) {
		s->t.weight = e->weight;
		s->weight_set = true;
		(void)lb_balancer_update(&s->pool->bal);
	}
	log_info("%s:%u: server %s/%s: %s, weight %u%s", ld->path, line,
	    e->pool, e->server, lb_admin_name(e->admin), s->t.weight,
	    e->weight > 0 ? "" : " (configured)");
}

static void
load_bad(unsigned line, const char *why, void *arg)
{
	struct load	*ld = arg;

	log_warnx("%s:%u: %s: line ignored", ld->path, line, why);
}

void
lb_state_load(struct lb *lb)
{
	struct load	 ld = { lb, lb->conf->state_file };
	const struct lb_state_cb cb = { load_entry, load_bad, &ld };
	struct buf	 b;
	char		 err[512];
	int		 i, j;

	if (ld.path == NULL)
		goto done;
	if (lb_state_read(ld.path, &b, err, sizeof(err)) == -1) {
		/* Never fatal: the configuration's state is a safe start. */
		if (errno == ENOENT)
			log_info("state-file %s: not there yet", ld.path);
		else
			log_warnx("state-file %s; servers start as configured",
			    err);
		goto done;
	}
	(void)lb_state_parse(buf_head(&b), buf_used(&b), &cb);
	buf_free(&b);
 done:
	for (i = 0; i < lb->npool; i++)
		for (j = 0; j < lb->pools[i]->nservers; j++)
			lb->pools[i]->servers[j]->fresh = false;
}

/* Servers away from the defaults: admin state other than ready, or a
 * weight set by lbctl. 0, or -1 with err (lb->state_dirty stays set). */
static int
state_save(struct lb *lb, char *err, size_t errlen)
{
	struct lb_state_entry e;
	struct buf	 b;
	int		 i, j, rv = -1;

	if (lb->conf->state_file == NULL)
		return 0;
	lb->state_dirty = true;
	buf_init(&b, LB_STATE_FILE_MAX);
	if (lb_state_format_header(&b) == -1)
		goto toobig;
	for (i = 0; i < lb->npool; i++)
		for (j = 0; j < lb->pools[i]->nservers; j++) {
			struct lb_server *s = lb->pools[i]->servers[j];

			if (s->t.admin == ADMIN_READY && !s->weight_set)
				continue;
			memset(&e, 0, sizeof(e));
			snprintf(e.pool, sizeof(e.pool), "%s",
			    lb->pools[i]->conf->name);
			snprintf(e.server, sizeof(e.server), "%s", s->name);
			e.admin = s->t.admin;
			e.weight = s->weight_set ? s->t.weight : 0;
			if (lb_state_format(&b, &e) == -1)
				goto toobig;
		}
	if (lb_state_write(lb->conf->state_file, buf_head(&b), buf_used(&b),
	    err, errlen) == 0) {
		lb->state_dirty = false;
		rv = 0;
	}
	buf_free(&b);
	return rv;
 toobig:
	buf_free(&b);
	return seterr(err, errlen, "state over %d bytes", LB_STATE_FILE_MAX);
}

/* After a change to s: true, or false with an error reply saying the
 * change holds but would not survive a restart. */
static bool
reply_saved(struct ctl_conn *cc, struct lb_server *s, bool changed)
{
	char	 err[512];

	if ((changed || s->pool->lb->state_dirty) &&
	    state_save(s->pool->lb, err, sizeof(err)) == -1) {
		log_warnx("state-file: %s", err);
		ctl_reply_error(cc, "server %s/%s is %s, weight %u, but the "
		    "state file was not saved (a restart would lose it): %s",
		    s->pool->conf->name, s->name, lb_admin_name(s->t.admin),
		    s->t.weight, err);
		return false;
	}
	return true;
}

/* ---- waiting for a drained server to go idle ---- */

struct lb_wait {
	struct lb_wait	*next;
	struct lb	*lb;
	struct lb_server *srv;
	struct ctl_conn	*cc;
	struct ev_timer	 timer;
	uint64_t	 timeout_ms;	/* 0: none */
	bool		 done;		/* answered; freed by on_close */
};

static void
wait_unlink(struct lb_wait *w)
{
	struct lb_wait	**pp;

	for (pp = &w->lb->waits; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	ev_timer_stop(lb_loop(w->lb), &w->timer);
	w->done = true;
}

/* The client went away, or its answer was sent. */
static void
wait_closed(struct ctl_conn *cc, void *arg)
{
	struct lb_wait	*w = arg;

	if (!w->done)
		wait_unlink(w);
	free(w);
}

static void
wait_fail(struct lb_wait *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
wait_fail(struct lb_wait *w, const char *fmt, ...)
{
	char	 msg[CTL_ERROR_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wait_unlink(w);
	ctl_reply_error(w->cc, "%s", msg);
	ctl_end(w->cc);
}

static void
wait_expired(struct ev_loop *loop, void *arg)
{
	struct lb_wait	*w = arg;
	struct lb_server *s = w->srv;

	wait_fail(w, "server %s/%s: %u request%s still active after %.1fs "
	    "(it stays %s)", s->pool->conf->name, s->name, s->t.active,
	    s->t.active == 1 ? "" : "s", (double)w->timeout_ms / 1000.0,
	    lb_admin_name(s->t.admin));
}

/* Answer the waits on s (all, or only those of one admin state change). */
static void
waits_answer(struct lb *lb, struct lb_server *s, bool idle)
{
	struct lb_wait	*w, *next;

	for (w = lb->waits; w != NULL; w = next) {
		next = w->next;
		if (w->srv != s)
			continue;
		if (!idle) {
			wait_fail(w, "server %s/%s is ready again: wait "
			    "cancelled with %u active", s->pool->conf->name,
			    s->name, s->t.active);
			continue;
		}
		wait_unlink(w);
		ctl_reply_ok(w->cc);
		ctl_printf(w->cc, "active 0\n");
		ctl_end(w->cc);
	}
}

void
lb_admin_idle(struct lb_server *s)
{
	/* A server out of rotation needs no pooled connections: with them
	 * gone it can stop cleanly. A retired one closes its own. */
	if (s->t.admin != ADMIN_READY && !s->retired)
		lb_server_close_idle(s);
	waits_answer(s->pool->lb, s, true);
}

void
lb_admin_stop(struct lb *lb)
{
	while (lb->waits != NULL)
		wait_fail(lb->waits, "lbd is stopping");
}

/* "wait [TIMEOUT]" after the server: 0, or -1 with the reply made. */
static int
wait_args(struct ctl_conn *cc, enum lb_admin admin, int argc, char **argv,
    uint64_t *timeout_ms)
{
	if (argc == 3)
		return 0;
	if (admin == ADMIN_READY || strcmp(argv[3], "wait") != 0) {
		ctl_reply_error(cc, "server %s: expected POOL/NAME%s, got "
		    "\"%s\"", lb_admin_name(admin), admin == ADMIN_READY ? "" :
		    " [wait [TIMEOUT]]", argv[3]);
		return -1;
	}
	*timeout_ms = LB_DRAIN_WAIT_DEFAULT_MS;
	if (argc == 5 && (conf_parse_duration(argv[4], timeout_ms) == -1 ||
	    *timeout_ms > LB_DRAIN_WAIT_MAX_MS)) {
		ctl_reply_error(cc, "server %s: wait: expected a duration "
		    "such as 30s or 500ms (0: no limit, at most 1d), got "
		    "\"%s\"", lb_admin_name(admin), argv[4]);
		return -1;
	}
	return 1;
}

/* Keep cc until s is idle or timeout_ms (0: none) passes. */
static void
wait_start(struct lb *lb, struct ctl_conn *cc, struct lb_server *s,
    uint64_t timeout_ms)
{
	struct lb_wait	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		ctl_reply_error(cc, "server %s/%s: out of memory to wait "
		    "(it is %s, %u active)", s->pool->conf->name, s->name,
		    lb_admin_name(s->t.admin), s->t.active);
		return;
	}
	w->lb = lb;
	w->srv = s;
	w->cc = cc;
	w->timeout_ms = timeout_ms;
	ev_timer_init(&w->timer, wait_expired, w);
	if (timeout_ms > 0)
		ev_timer_start(lb_loop(lb), &w->timer, timeout_ms);
	w->next = lb->waits;
	lb->waits = w;
	ctl_stream(cc, wait_closed, w);
	if (timeout_ms > 0)
		log_info("server %s/%s: waiting for %u active request%s (at "
		    "most %.1fs)", s->pool->conf->name, s->name, s->t.active,
		    s->t.active == 1 ? "" : "s", (double)timeout_ms / 1000.0);
	else
		log_info("server %s/%s: waiting for %u active request%s",
		    s->pool->conf->name, s->name, s->t.active,
		    s->t.active == 1 ? "" : "s");
}

/* ---- commands ---- */

static struct lb_server *
server_arg(struct lb *lb, struct ctl_conn *cc, const char *arg)
{
	char		 pool[LBD_NAME_MAX];
	const char	*slash = strchr(arg, '/');
	struct lb_server *s;

	if (slash == NULL || (size_t)(slash - arg) >= sizeof(pool)) {
		ctl_reply_error(cc, "expected POOL/SERVER, got \"%s\"", arg);
		return NULL;
	}
	memcpy(pool, arg, (size_t)(slash - arg));
	pool[slash - arg] = '\0';
	if ((s = lb_server_find(lb, pool, slash + 1)) == NULL)
		ctl_reply_error(cc, "no server %s in pool %s", slash + 1, pool);
	return s;
}

/* server weight POOL/NAME N */
static void
cmd_weight(struct lb *lb, struct ctl_conn *cc, int argc, char **argv)
{
	struct lb_server *s;
	char		*end;
	unsigned long	 w;
	bool		 changed;

	errno = 0;
	w = argc == 4 ? strtoul(argv[3], &end, 10) : 0;
	if (argc != 4 || errno != 0 || *end != '\0' || argv[3][0] == '-' ||
	    w < 1 || w > LB_WEIGHT_MAX) {
		ctl_reply_error(cc, "server weight: expected 1..%d",
		    LB_WEIGHT_MAX);
		return;
	}
	if ((s = server_arg(lb, cc, argv[2])) == NULL)
		return;
	changed = !s->weight_set || s->t.weight != w;
	s->t.weight = (unsigned)w;
	s->weight_set = true;
	(void)lb_balancer_update(&s->pool->bal);
	if (changed)
		log_info("server %s/%s: weight %lu", s->pool->conf->name,
		    s->name, w);
	lb_pool_queue_run(s->pool);
	if (reply_saved(cc, s, changed))
		ctl_reply_ok(cc);
}

/* server ready|drain|maint POOL/NAME, server drain|maint POOL/NAME wait
 * [TIMEOUT] */
static void
cmd_admin(struct lb *lb, struct ctl_conn *cc, enum lb_admin admin, int argc,
    char **argv)
{
	struct lb_server *s;
	uint64_t	 timeout_ms = 0;
	bool		 changed;
	int		 wait;

	if ((wait = wait_args(cc, admin, argc, argv, &timeout_ms)) == -1 ||
	    (s = server_arg(lb, cc, argv[2])) == NULL)
		return;
	changed = s->t.admin != admin;
	s->t.admin = admin;
	if (changed)
		log_info("server %s/%s: %s", s->pool->conf->name, s->name,
		    lb_admin_name(admin));
	if (admin != ADMIN_READY)
		lb_server_close_idle(s);
	else {
		waits_answer(lb, s, false);
		lb_pool_queue_run(s->pool);	/* it may take queued ones */
	}
	if (!reply_saved(cc, s, changed))
		return;
	if (wait == 1 && s->t.active > 0) {
		wait_start(lb, cc, s, timeout_ms);
		return;
	}
	ctl_reply_ok(cc);
	ctl_printf(cc, "active %u\n", s->t.active);
}

/* server drain|maint|ready POOL/NAME, server weight POOL/NAME N */
static void
cmd_server(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	struct lb	*lb = service_arg(arg);
	int		 i;

	if (strcmp(argv[1], "weight") == 0) {
		cmd_weight(lb, cc, argc, argv);
		return;
	}
	for (i = ADMIN_READY; i <= ADMIN_MAINT; i++)
		if (strcmp(argv[1], lb_admin_name((enum lb_admin)i)) == 0) {
			cmd_admin(lb, cc, (enum lb_admin)i, argc, argv);
			return;
		}
	ctl_reply_error(cc, "server: expected drain, maint, ready or weight");
}

const struct ctl_command lb_commands[] = {
	{ "server", 2, 4, "server drain|maint|ready POOL/NAME | "
	    "server drain|maint POOL/NAME wait [TIMEOUT] | "
	    "server weight POOL/NAME N", cmd_server },
	{ NULL, 0, 0, NULL, NULL }
};
