/* lbd pools and servers at run time. A reload keeps a pool's object when
 * its name stays and a server's when its pool, name and address stay, so
 * health, admin state, counters and pooled connections carry over; the
 * others retire and are freed once nothing uses them any more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "tls.h"
#include "lbd.h"

static void	server_check_free(struct lb_server *);

static const char *const *
server_labels(struct lb_server *s, const char *v[3])
{
	v[0] = s->pool->conf->name;
	v[1] = s->name;
	v[2] = NULL;
	return v;
}

static void
server_retire(struct lb_server *s)
{
	lb_check_stop(s);
	lb_server_close_idle(s);
	s->retired = true;
	server_check_free(s);
}

/* Free a retired server once no connection or request holds it. */
static void
server_check_free(struct lb_server *s)
{
	if (s->retired && s->nconns == 0 && s->t.active == 0) {
		tls_session_free(s->tls_session);
		free(s);
	}
}

void
lb_server_put(struct lb_server *s)
{
	/* Before it may be freed: waits hold it. */
	if (--s->t.active == 0)
		lb_admin_idle(s);
	server_check_free(s);
}

void
lb_server_conn_closed(struct lb_server *s)
{
	s->nconns--;
	server_check_free(s);
}

static struct lb_server *
server_new(struct lb_pool *p, const struct lb_server_conf *sc)
{
	struct lb_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->pool = p;
	snprintf(s->name, sizeof(s->name), "%s", sc->name);
	s->addr = sc->addr;
	net_addr_str(&sc->addr, s->addr_str, sizeof(s->addr_str));
	s->t.id_hash = lb_hash32(s->name, strlen(s->name));
	s->fresh = true;
	lb_check_init(s);
	/* Servers start up: a new balancer must not refuse everything for
	 * rise x interval; a failing one goes down at its first checks. */
	s->t.up = true;
	s->health.up = true;
	snprintf(s->check_result, sizeof(s->check_result), "not checked yet");
	lb_stats_server_new(s, ev_now(lb_loop(p->lb)));
	return s;
}

static struct lb_server *
find_server(struct lb_pool *p, const struct lb_server_conf *sc)
{
	int	 i;

	for (i = 0; i < p->nservers; i++)
		if (strcmp(p->servers[i]->name, sc->name) == 0 &&
		    net_addr_equal(&p->servers[i]->addr, &sc->addr))
			return p->servers[i];
	return NULL;
}

static void
pool_apply(struct lb_pool *p, struct lb_pool_conf *pc,
    struct lb_server **servers, int n)
{
	int	 i, j;

	/* Servers leaving the pool retire. */
	for (i = 0; i < p->nservers; i++) {
		for (j = 0; j < n && servers[j] != p->servers[i]; j++)
			;
		if (j == n)
			server_retire(p->servers[i]);
	}
	p->conf = pc;
	p->nservers = n;
	for (i = 0; i < n; i++) {
		struct lb_server *s = servers[i];

		p->servers[i] = s;
		p->targets[i] = &s->t;
		s->conf_weight = pc->servers[i].weight;
		if (!s->weight_set)
			s->t.weight = s->conf_weight;
		s->t.max_active = pc->max_conns;
		s->health.rise = pc->rise;
		s->health.fall = pc->fall;
		tls_session_free(s->tls_session);
		s->tls_session = NULL;
	}
}

static struct lb_pool *
pool_find(struct lb *lb, const char *name)
{
	int	 i;

	for (i = 0; i < lb->npool; i++)
		if (strcmp(lb->pools[i]->conf->name, name) == 0)
			return lb->pools[i];
	return NULL;
}

void
lb_pool_unref(struct lb_pool *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	lb_balancer_free(&p->bal);
	free(p);
}

int
lb_pools_build(struct lb *lb, struct lb_conf *conf, char *err, size_t errlen)
{
	struct lb_pool	*pools[LBD_MAX_POOLS] = { 0 };
	struct lb_server *servers[LBD_MAX_POOLS][LBD_MAX_SERVERS];
	bool		 made[LBD_MAX_POOLS][LBD_MAX_SERVERS];
	bool		 fresh[LBD_MAX_POOLS] = { 0 };
	struct lb_balancer bal[LBD_MAX_POOLS];
	int		 i, j, k;

	/* Allocate everything first: a failure leaves the running set. */
	memset(servers, 0, sizeof(servers));
	memset(made, 0, sizeof(made));
	for (i = 0; i < conf->npool; i++) {
		struct lb_pool_conf *pc = &conf->pool[i];

		if ((pools[i] = pool_find(lb, pc->name)) == NULL) {
			if ((pools[i] = calloc(1, sizeof(*pools[i]))) == NULL)
				goto nomem;
			pools[i]->lb = lb;
			pools[i]->refs = 1;
			pools[i]->conf = pc;
			fresh[i] = true;
		}
		for (j = 0; j < pc->nservers; j++) {
			if (!fresh[i] &&
			    (servers[i][j] = find_server(pools[i],
			    &pc->servers[j])) != NULL)
				continue;
			if ((servers[i][j] = server_new(pools[i],
			    &pc->servers[j])) == NULL)
				goto nomem;
			made[i][j] = true;
		}
	}
	for (i = 0; i < conf->npool; i++) {
		struct lb_target *targets[LBD_MAX_SERVERS];

		/* Built over a copy; pointed at the pool's array below. */
		for (j = 0; j < conf->pool[i].nservers; j++)
			targets[j] = &servers[i][j]->t;
		if (lb_balancer_init(&bal[i], conf->pool[i].balance, targets,
		    (size_t)conf->pool[i].nservers,
		    (uint64_t)ev_now(lb_loop(lb)) ^ (uint64_t)i) == -1) {
			for (k = 0; k < i; k++)
				lb_balancer_free(&bal[k]);
			goto nomem;
		}
		bal[i].targets = NULL;
	}
	/* Nothing can fail from here: switch. */
	for (i = 0; i < lb->npool; i++) {
		for (j = 0; j < conf->npool && pools[j] != lb->pools[i]; j++)
			;
		if (j == conf->npool) {
			struct lb_pool *old = lb->pools[i];

			for (k = 0; k < old->nservers; k++)
				server_retire(old->servers[k]);
			old->nservers = 0;
			lb_pool_unref(old);
		}
	}
	for (i = 0; i < conf->npool; i++) {
		pool_apply(pools[i], &conf->pool[i], servers[i],
		    conf->pool[i].nservers);
		if (!fresh[i])
			lb_balancer_free(&pools[i]->bal);
		pools[i]->bal = bal[i];
		pools[i]->bal.targets = pools[i]->targets;
		(void)lb_balancer_update(&pools[i]->bal);
		lb->pools[i] = pools[i];
	}
	lb->npool = conf->npool;
	for (i = 0; i < lb->npool; i++)
		lb_checks_start(lb->pools[i]);
	return 0;
 nomem:
	for (i = 0; i < conf->npool; i++) {
		for (j = 0; j < LBD_MAX_SERVERS; j++)
			if (made[i][j])
				free(servers[i][j]);
		if (fresh[i])
			free(pools[i]);
	}
	return seterr(err, errlen, "out of memory building pools");
}

void
lb_pools_free(struct lb *lb)
{
	int	 i, j;

	for (i = 0; i < lb->npool; i++) {
		for (j = 0; j < lb->pools[i]->nservers; j++)
			server_retire(lb->pools[i]->servers[j]);
		lb->pools[i]->nservers = 0;
		lb_pool_unref(lb->pools[i]);
	}
	lb->npool = 0;
}

struct lb_server *
lb_server_find(struct lb *lb, const char *pool, const char *name)
{
	struct lb_pool	*p = pool_find(lb, pool);
	int		 i;

	for (i = 0; p != NULL && i < p->nservers; i++)
		if (strcmp(p->servers[i]->name, name) == 0)
			return p->servers[i];
	return NULL;
}

void
lb_server_set_up(struct lb_server *s, bool up, const char *why)
{
	const char	*v[3];

	if (s->t.up != up)
		log_warnx("server %s/%s is %s: %s", s->pool->conf->name, s->name,
		    up ? "up" : "down", why);
	s->t.up = up;
	s->health.up = up;
	s->health.ok_run = s->health.fail_run = 0;
	gauge_set(metric_with(s->pool->lb->m_server_up, server_labels(s, v)),
	    up ? 1 : 0);
	if (up && s->pool->nqueued > 0)
		lb_pool_queue_run(s->pool);
}

void
lb_server_result(struct lb_server *s, bool ok, uint64_t latency_us)
{
	const char	*v[3];

	s->requests++;
	counter_inc(metric_with(s->pool->lb->m_server_requests,
	    server_labels(s, v)));
	if (ok) {
		s->fail_run = 0;
		s->answered++;
		s->latency_sum_us += latency_us;
		lb_latency_sample(&s->t, latency_us);
		histogram_observe(metric_with(s->pool->lb->m_server_latency,
		    server_labels(s, v)), (double)latency_us / 1e6);
		return;
	}
	s->failures++;
	counter_inc(metric_with(s->pool->lb->m_server_failures,
	    server_labels(s, v)));
	/* Passive ejection: the checks bring it back after rise successes. */
	if (s->pool->conf->eject_after > 0 &&
	    ++s->fail_run >= s->pool->conf->eject_after && s->t.up) {
		snprintf(s->check_result, sizeof(s->check_result),
		    "ejected after %u failed requests", s->fail_run);
		lb_server_set_up(s, false, s->check_result);
		s->fail_run = 0;
	}
}
