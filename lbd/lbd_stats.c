/* lbd numbers for lbctl status: a once-a-second snapshot of each
 * frontend's and server's counters, so that status can show rates and
 * means over the last LB_WINDOW_SECS seconds, and the status lines. */
#include <string.h>

#include "ctl.h"
#include "lbd.h"

#define LB_STATS_TICK_MS	1000

static const char *const balance_names[] = { "roundrobin", "leastconn",
	"source", "hash-header", "p2c" };

/* ---- windows ---- */

void
lb_window_push(struct lb_window *w, uint64_t now,
    const uint64_t v[LB_WINDOW_VALUES])
{
	struct lb_snap	*sn = &w->snap[w->head];

	sn->t = now;
	memcpy(sn->v, v, sizeof(sn->v));
	w->head = (w->head + 1) % LB_WINDOW_SLOTS;
	if (w->len < LB_WINDOW_SLOTS)
		w->len++;
}

/* The oldest snapshot, or NULL before the first. */
static const struct lb_snap *
window_oldest(const struct lb_window *w)
{
	if (w->len == 0)
		return NULL;
	return &w->snap[w->len < LB_WINDOW_SLOTS ? 0 : w->head];
}

/* Value i per second since the oldest snapshot. */
static double
window_rate(const struct lb_window *w, uint64_t now,
    const uint64_t v[LB_WINDOW_VALUES], int i)
{
	const struct lb_snap *o = window_oldest(w);

	if (o == NULL || now <= o->t)
		return 0;
	return (double)(v[i] - o->v[i]) * 1000.0 / (double)(now - o->t);
}

/* Growth of value sum over growth of value count since the oldest
 * snapshot; 0 when count did not grow. */
static double
window_mean(const struct lb_window *w, const uint64_t v[LB_WINDOW_VALUES],
    int sum, int count)
{
	const struct lb_snap *o = window_oldest(w);

	if (o == NULL || v[count] == o->v[count])
		return 0;
	return (double)(v[sum] - o->v[sum]) / (double)(v[count] - o->v[count]);
}

/* What a server's window follows. */
enum { SV_REQUESTS, SV_ANSWERED, SV_LATENCY_US };

static void
server_values(const struct lb_server *s, uint64_t v[LB_WINDOW_VALUES])
{
	memset(v, 0, LB_WINDOW_VALUES * sizeof(v[0]));
	v[SV_REQUESTS] = s->requests;
	v[SV_ANSWERED] = s->answered;
	v[SV_LATENCY_US] = s->latency_sum_us;
}

static void
frontend_values(const struct lb_frontend *fe, uint64_t v[LB_WINDOW_VALUES])
{
	memset(v, 0, LB_WINDOW_VALUES * sizeof(v[0]));
	v[0] = fe->requests;
}

void
lb_stats_server_new(struct lb_server *s, uint64_t now)
{
	uint64_t	 v[LB_WINDOW_VALUES];

	server_values(s, v);
	lb_window_push(&s->win, now, v);
}

static void
stats_tick(struct ev_loop *loop, void *arg)
{
	struct lb	*lb = arg;
	uint64_t	 now = ev_now(loop), v[LB_WINDOW_VALUES];
	int		 i, j;

	for (i = 0; i < lb->nfe; i++) {
		frontend_values(&lb->fe[i], v);
		lb_window_push(&lb->fe[i].win, now, v);
	}
	for (i = 0; i < lb->npool; i++)
		for (j = 0; j < lb->pools[i]->nservers; j++) {
			struct lb_server *s = lb->pools[i]->servers[j];

			server_values(s, v);
			lb_window_push(&s->win, now, v);
		}
	ev_timer_start(loop, &lb->stats_timer, LB_STATS_TICK_MS);
}

void
lb_stats_init(struct lb *lb)
{
	ev_timer_init(&lb->stats_timer, stats_tick, lb);
}

void
lb_stats_start(struct lb *lb)
{
	stats_tick(lb_loop(lb), lb);
}

void
lb_stats_stop(struct lb *lb)
{
	ev_timer_stop(lb_loop(lb), &lb->stats_timer);
}

/* ---- status lines ---- */

static void
status_frontend(struct lb_frontend *fe, struct ctl_conn *cc, uint64_t now)
{
	uint64_t	 v[LB_WINDOW_VALUES];

	frontend_values(fe, v);
	ctl_printf(cc, "frontend %s: listen %s%s%s, connections %llu, "
	    "requests %llu, proxy headers refused %llu, req/s %.1f, "
	    "refused at max-connections %llu\n",
	    fe->conf->name, fe->conf->addr_str, fe->tls ? " tls" : "",
	    fe->conf->proxy_protocol ? " proxy-protocol" : "",
	    (unsigned long long)fe->nconns, (unsigned long long)fe->requests,
	    (unsigned long long)fe->proxy_refused,
	    window_rate(&fe->win, now, v, 0),
	    (unsigned long long)fe->refused);
}

/* The check result is free text: it stays last on the line. */
static void
status_server(struct lb_server *s, struct ctl_conn *cc, uint64_t now)
{
	uint64_t	 v[LB_WINDOW_VALUES];

	server_values(s, v);
	ctl_printf(cc, "server %s/%s: %s %s %s, weight %u, active %u, "
	    "idle %u, requests %llu, failures %llu, latency %.1fms, "
	    "req/s %.1f, mean %.1fms, check: %s\n", s->pool->conf->name,
	    s->name, s->addr_str, s->t.up ? "up" : "down",
	    lb_admin_name(s->t.admin), s->t.weight, s->t.active, s->nidle,
	    (unsigned long long)s->requests, (unsigned long long)s->failures,
	    (double)s->t.ewma_latency_us / 1000.0,
	    window_rate(&s->win, now, v, SV_REQUESTS),
	    window_mean(&s->win, v, SV_LATENCY_US, SV_ANSWERED) / 1000.0,
	    s->check_result);
}

static void
status_pool(struct lb_pool *p, struct ctl_conn *cc, uint64_t now)
{
	uint64_t	 v[LB_WINDOW_VALUES], requests = 0, failures = 0;
	unsigned	 up = 0, ready = 0, active = 0;
	double		 rate = 0;
	int		 i;

	for (i = 0; i < p->nservers; i++) {
		struct lb_server *s = p->servers[i];

		server_values(s, v);
		up += s->t.up;
		ready += s->t.up && s->t.admin == ADMIN_READY;
		active += s->t.active;
		requests += s->requests;
		failures += s->failures;
		rate += window_rate(&s->win, now, v, SV_REQUESTS);
	}
	ctl_printf(cc, "pool %s: balance %s, %d servers, up %u, usable %u, "
	    "active %u, requests %llu, failures %llu, req/s %.1f, queued %u, "
	    "queue timeouts %llu\n",
	    p->conf->name, balance_names[p->conf->balance], p->nservers, up,
	    ready, active, (unsigned long long)requests,
	    (unsigned long long)failures, rate, p->nqueued,
	    (unsigned long long)p->queue_timeouts);
	for (i = 0; i < p->nservers; i++)
		status_server(p->servers[i], cc, now);
}

void
lb_status(struct service *svc, struct ctl_conn *cc)
{
	struct lb	*lb = service_arg(svc);
	uint64_t	 now = ev_now(lb_loop(lb));
	int		 i;

	for (i = 0; i < lb->nfe; i++)
		status_frontend(&lb->fe[i], cc, now);
	for (i = 0; i < lb->npool; i++)
		status_pool(lb->pools[i], cc, now);
}
