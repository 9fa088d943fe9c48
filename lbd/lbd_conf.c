/* lbd configuration: frontends and pools over the shared grammar.
 *
 *	frontend "www" {
 *		listen "*:443" tls
 *		certificate "www.crt" "www.key"		(several: SNI)
 *		pool "web"  |  redirect-https
 *		hsts 365d [include-subdomains]
 *		header-timeout 10s  idle-timeout 60s  max-connections 20000
 *		proxy-protocol
 *	}
 *	pool "web" {
 *		balance roundrobin|leastconn|source|hash-header NAME|p2c
 *		server "web-01" "10.0.1.11:8443" [weight N]
 *		tls { ca "ca.crt"  name "web.internal"  verify on }
 *		check http "/healthz" [STATUS] | tcp | tls | none
 *		check-interval 2s  check-timeout 1s  rise 2  fall 3
 *		eject-after 5  connect-timeout 3s  server-timeout 30s
 *		keepalive 60s  max-idle 32  max-connections-per-server 0
 *		retries 2  send-proxy-v2  queue 1024  queue-timeout 5s
 *	}
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "conf_tls.h"
#include "tls.h"
#include "lbd.h"

static int
dup_arg(struct conf_ctx *ctx, const struct conf_stmt *st, int i, char **out)
{
	free(*out);
	if ((*out = strdup(st->argv[i])) == NULL)
		return conf_error(ctx, st, "out of memory");
	return 0;
}

static bool
valid_name(const char *s)
{
	return lb_name_valid(s, strlen(s));
}

/* ---- frontend ---- */

static int
fe_listen(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct lb_frontend_conf *fe = obj;
	char		 err[512];
	bool		 tls = false;

	if (st->argc == 3) {
		if (strcmp(st->argv[2], "tls") != 0)
			return conf_error(ctx, st, "listen: expected 'tls' after "
			    "the address, got \"%s\"", st->argv[2]);
		tls = true;
	}
	if (net_addr_parse(st->argv[1], tls ? 443 : 80, &fe->addr, err,
	    sizeof(err)) == -1)
		return conf_error(ctx, st, "listen: %s", err);
	if (dup_arg(ctx, st, 1, &fe->addr_str) == -1)
		return -1;
	if (tls && (fe->tls = tls_server_new(NULL, err, sizeof(err))) == NULL)
		return conf_error(ctx, st, "listen: %s", err);
	return 0;
}

static int
fe_certificate(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct lb_frontend_conf *fe = obj;
	char		 err[512];

	if (fe->tls == NULL)
		return conf_error(ctx, st, "certificate: the frontend's listen "
		    "must come first and say 'tls'");
	if (tls_server_add_cert(fe->tls, st->argv[1], st->argv[2], err,
	    sizeof(err)) == -1)
		return conf_error(ctx, st, "certificate: %s", err);
	fe->ncerts++;
	return 0;
}

static int
fe_hsts(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct lb_frontend_conf *fe = obj;
	uint64_t	 ms;

	if (conf_arg_duration(ctx, st, 1, &ms) == -1)
		return -1;
	if (ms < 1000)
		return conf_error(ctx, st, "hsts: expected at least 1s");
	fe->hsts_max_age = ms / 1000;
	if (st->argc == 3) {
		if (strcmp(st->argv[2], "include-subdomains") != 0)
			return conf_error(ctx, st, "hsts: expected "
			    "'include-subdomains', got \"%s\"", st->argv[2]);
		fe->hsts_subdomains = true;
	}
	return 0;
}

static int
fe_pool(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	return dup_arg(ctx, st, 1, &((struct lb_frontend_conf *)obj)->pool_name);
}

static const struct conf_directive frontend_directives[] = {
	{ "listen", 1, 2, CONF_BLOCK_NONE, CONF_ONCE, fe_listen, 0, 0, 0 },
	{ "certificate", 2, 2, CONF_BLOCK_NONE, 0, fe_certificate, 0, 0, 0 },
	{ "pool", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, fe_pool, 0, 0, 0 },
	{ "redirect-https", 0, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,
	    offsetof(struct lb_frontend_conf, redirect_https), 0, 0 },
	{ "hsts", 1, 2, CONF_BLOCK_NONE, CONF_ONCE, fe_hsts, 0, 0, 0 },
	{ "header-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct lb_frontend_conf, header_timeout_ms), 10,
	    3600 * 1000 },
	{ "idle-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct lb_frontend_conf, idle_timeout_ms), 10,
	    24 * 3600 * 1000 },
	{ "max-connections", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_uint,
	    offsetof(struct lb_frontend_conf, max_conns), 1, 1000000 },
	{ "proxy-protocol", 0, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,
	    offsetof(struct lb_frontend_conf, proxy_protocol), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
set_frontend(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct lb_conf	*conf = obj;
	struct lb_frontend_conf *fe;
	int		 i;

	if (conf->nfe == LBD_MAX_FRONTENDS)
		return conf_error(ctx, st, "frontend: at most %d",
		    LBD_MAX_FRONTENDS);
	if (!valid_name(st->argv[1]))
		return conf_error(ctx, st, "frontend: expected a name of letters, "
		    "digits, '-', '_' or '.', got \"%s\"", st->argv[1]);
	for (i = 0; i < conf->nfe; i++)
		if (strcmp(conf->fe[i].name, st->argv[1]) == 0)
			return conf_error(ctx, st, "frontend %s: defined twice",
			    st->argv[1]);
	fe = &conf->fe[conf->nfe++];
	fe->pool = -1;
	fe->header_timeout_ms = 10 * 1000;
	fe->idle_timeout_ms = 60 * 1000;
	fe->max_conns = 20000;
	if (dup_arg(ctx, st, 1, &fe->name) == -1 ||
	    conf_apply(ctx, st->block, frontend_directives, fe) == -1)
		return -1;
	if (fe->addr_str == NULL)
		return conf_error(ctx, st, "frontend %s: expected a listen",
		    fe->name);
	if (fe->tls != NULL && fe->ncerts == 0)
		return conf_error(ctx, st, "frontend %s: a tls listener needs a "
		    "certificate", fe->name);
	if ((fe->pool_name != NULL) == fe->redirect_https)
		return conf_error(ctx, st, "frontend %s: expected either pool "
		    "or redirect-https", fe->name);
	if (fe->redirect_https && fe->tls != NULL)
		return conf_error(ctx, st, "frontend %s: redirect-https is for "
		    "plain listeners", fe->name);
	return 0;
}

/* ---- pool ---- */

static int
pool_balance(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	static const char *const kinds[] = { "roundrobin", "leastconn",
	    "source", "hash-header", "p2c", NULL };
	struct lb_pool_conf *p = obj;
	int		 kind;

	if (conf_arg_enum(ctx, st, 1, kinds, &kind) == -1)
		return -1;
	p->balance = (enum lb_balance)kind;
	if ((kind == BAL_HASH_HEADER) != (st->argc == 3))
		return conf_error(ctx, st, kind == BAL_HASH_HEADER ?
		    "balance hash-header: expected the header's name" :
		    "balance %s: takes no argument", st->argv[1]);
	if (kind == BAL_HASH_HEADER)
		return dup_arg(ctx, st, 2, &p->hash_header);
	return 0;
}

static int
pool_server(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct lb_pool_conf *p = obj;
	struct lb_server_conf *s;
	uint64_t	 w = 1;
	char		 err[512];
	int		 i;

	if (p->nservers == LBD_MAX_SERVERS)
		return conf_error(ctx, st, "server: at most %d per pool",
		    LBD_MAX_SERVERS);
	if (!valid_name(st->argv[1]))
		return conf_error(ctx, st, "server: expected a name of letters, "
		    "digits, '-', '_' or '.', got \"%s\"", st->argv[1]);
	for (i = 0; i < p->nservers; i++)
		if (strcmp(p->servers[i].name, st->argv[1]) == 0)
			return conf_error(ctx, st, "server %s: defined twice "
			    "in pool %s", st->argv[1], p->name);
	if (st->argc != 3 && st->argc != 5)
		return conf_error(ctx, st, "server: expected NAME ADDRESS "
		    "[weight N]");
	if (st->argc == 5) {
		if (strcmp(st->argv[3], "weight") != 0)
			return conf_error(ctx, st, "server: expected 'weight', "
			    "got \"%s\"", st->argv[3]);
		if (conf_arg_uint(ctx, st, 4, 1, LB_WEIGHT_MAX, &w) == -1)
			return -1;
	}
	s = &p->servers[p->nservers];
	if (net_addr_parse(st->argv[2], 0, &s->addr, err, sizeof(err)) == -1)
		return conf_error(ctx, st, "server %s: %s", st->argv[1], err);
	p->nservers++;
	s->weight = (unsigned)w;
	if (dup_arg(ctx, st, 1, &s->name) == -1 ||
	    dup_arg(ctx, st, 2, &s->addr_str) == -1)
		return -1;
	return 0;
}

/* tls { ca ...; name ...; verify on } — common/conf_tls, verification on
 * by default. */
static int
pool_tls(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct lb_pool_conf *p = obj;
	struct conf_tls_client t;

	if (conf_tls_client_block(ctx, st, &t) == -1)
		return -1;
	p->tls = t.tls;
	p->tls_name = t.name;
	p->tls_verify = t.verify;
	return 0;
}

static int
pool_check(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	static const char *const kinds[] = { "none", "tcp", "http", "tls",
	    NULL };
	struct lb_pool_conf *p = obj;
	uint64_t	 status;
	int		 kind;

	if (conf_arg_enum(ctx, st, 1, kinds, &kind) == -1)
		return -1;
	p->check = (enum lb_check_kind)kind;
	if (kind != CHECK_HTTP) {
		if (st->argc > 2)
			return conf_error(ctx, st, "check %s: takes no more "
			    "arguments", st->argv[1]);
		return 0;
	}
	if (st->argc < 3 || st->argv[2][0] != '/')
		return conf_error(ctx, st, "check http: expected a path starting "
		    "with '/'");
	if (dup_arg(ctx, st, 2, &p->check_path) == -1)
		return -1;
	if (st->argc == 4) {
		if (conf_arg_uint(ctx, st, 3, 100, 599, &status) == -1)
			return -1;
		p->check_status = (int)status;
	}
	return 0;
}

#define POOL_UINT(name, field, lo, hi)					\
	{ name, 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_unsigned,	\
	    offsetof(struct lb_pool_conf, field), lo, hi }
#define POOL_DURATION(name, field, lo, hi)				\
	{ name, 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,	\
	    offsetof(struct lb_pool_conf, field), lo, hi }

static const struct conf_directive pool_directives[] = {
	{ "balance", 1, 2, CONF_BLOCK_NONE, CONF_ONCE, pool_balance, 0, 0, 0 },
	{ "server", 2, 4, CONF_BLOCK_NONE, 0, pool_server, 0, 0, 0 },
	{ "tls", 0, 0, CONF_BLOCK_REQUIRED, CONF_ONCE, pool_tls, 0, 0, 0 },
	{ "check", 1, 3, CONF_BLOCK_NONE, CONF_ONCE, pool_check, 0, 0, 0 },
	POOL_DURATION("check-interval", check_interval_ms, 100, 3600 * 1000),
	POOL_DURATION("check-timeout", check_timeout_ms, 10, 3600 * 1000),
	POOL_UINT("rise", rise, 1, 100),
	POOL_UINT("fall", fall, 1, 100),
	POOL_UINT("eject-after", eject_after, 0, 1000),
	POOL_DURATION("connect-timeout", connect_timeout_ms, 10, 3600 * 1000),
	POOL_DURATION("server-timeout", server_timeout_ms, 10, 24 * 3600 * 1000),
	POOL_DURATION("tunnel-timeout", tunnel_timeout_ms, 10, 7 * 24 * 3600 * 1000ULL),
	POOL_DURATION("keepalive", keepalive_ms, 0, 3600 * 1000),
	POOL_UINT("max-idle", max_idle, 0, 10000),
	POOL_UINT("max-connections-per-server", max_conns, 0, 1000000),
	POOL_UINT("retries", retries, 0, 10),
	POOL_UINT("queue", queue_max, 0, 1000000),
	POOL_DURATION("queue-timeout", queue_timeout_ms, 1, 3600 * 1000),
	{ "send-proxy-v2", 0, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,
	    offsetof(struct lb_pool_conf, send_proxy_v2), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
set_pool(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct lb_conf	*conf = obj;
	struct lb_pool_conf *p;

	if (conf->npool == LBD_MAX_POOLS)
		return conf_error(ctx, st, "pool: at most %d", LBD_MAX_POOLS);
	if (!valid_name(st->argv[1]))
		return conf_error(ctx, st, "pool: expected a name of letters, "
		    "digits, '-', '_' or '.', got \"%s\"", st->argv[1]);
	if (lb_conf_pool_index(conf, st->argv[1]) != -1)
		return conf_error(ctx, st, "pool %s: defined twice", st->argv[1]);
	p = &conf->pool[conf->npool++];
	p->check = CHECK_TCP;
	p->check_interval_ms = 2000;
	p->check_timeout_ms = 1000;
	p->rise = 2;
	p->fall = 3;
	p->eject_after = 5;
	p->connect_timeout_ms = 3000;
	p->server_timeout_ms = 30 * 1000;
	p->tunnel_timeout_ms = 3600 * 1000;
	p->keepalive_ms = 60 * 1000;
	p->max_idle = 32;
	p->retries = 2;
	p->queue_max = 1024;
	p->queue_timeout_ms = 5 * 1000;
	if (dup_arg(ctx, st, 1, &p->name) == -1 ||
	    conf_apply(ctx, st->block, pool_directives, p) == -1)
		return -1;
	if (p->nservers == 0)
		return conf_error(ctx, st, "pool %s: expected at least one server",
		    p->name);
	if (p->check == CHECK_TLS && p->tls == NULL)
		return conf_error(ctx, st, "pool %s: check tls needs a tls block",
		    p->name);
	if (p->check_timeout_ms > p->check_interval_ms)
		return conf_error(ctx, st, "pool %s: check-timeout longer than "
		    "check-interval", p->name);
	return 0;
}

static const struct conf_directive lb_directives[] = {
	SERVICE_DIRECTIVES(struct lb_conf, svc),
	{ "frontend", 1, 1, CONF_BLOCK_REQUIRED, 0, set_frontend, 0, 0, 0 },
	{ "pool", 1, 1, CONF_BLOCK_REQUIRED, 0, set_pool, 0, 0, 0 },
	{ "access-log", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct lb_conf, access_log), 0, 0 },
	{ "state-file", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct lb_conf, state_file), 0, 0 },
	{ "max-body", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_size,
	    offsetof(struct lb_conf, max_body), 0, 1LL << 40 },
	{ "max-connections", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_uint,
	    offsetof(struct lb_conf, max_conns), 1, 10000000 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

int
lb_conf_pool_index(const struct lb_conf *conf, const char *name)
{
	int	 i;

	for (i = 0; i < conf->npool; i++)
		if (strcmp(conf->pool[i].name, name) == 0)
			return i;
	return -1;
}

void
lb_conf_free(void *arg)
{
	struct lb_conf	*conf = arg;
	int		 i, j;

	if (conf == NULL)
		return;
	service_conf_clear(&conf->svc);
	for (i = 0; i < conf->nfe; i++) {
		free(conf->fe[i].name);
		free(conf->fe[i].addr_str);
		free(conf->fe[i].pool_name);
		tls_config_free(conf->fe[i].tls);
	}
	for (i = 0; i < conf->npool; i++) {
		struct lb_pool_conf *p = &conf->pool[i];

		for (j = 0; j < p->nservers; j++) {
			free(p->servers[j].name);
			free(p->servers[j].addr_str);
		}
		free(p->name);
		free(p->hash_header);
		free(p->tls_name);
		free(p->check_path);
		tls_config_free(p->tls);
	}
	free(conf->access_log);
	free(conf->state_file);
	free(conf);
}

void *
lb_conf_load(const struct conf_stmt *root, struct conf_ctx *ctx)
{
	struct lb_conf	*conf;
	int		 i;

	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		conf_error(ctx, NULL, "out of memory");
		return NULL;
	}
	conf->max_conns = 100000;
	if (conf_apply(ctx, root, lb_directives, conf) == 0) {
		if (conf->nfe == 0)
			conf_error(ctx, NULL, "frontend: at least one needed");
		/* Pools may be defined after the frontends that use them. */
		for (i = 0; i < conf->nfe; i++) {
			if (conf->fe[i].pool_name == NULL)
				continue;
			conf->fe[i].pool = lb_conf_pool_index(conf,
			    conf->fe[i].pool_name);
			if (conf->fe[i].pool == -1)
				conf_error(ctx, NULL, "frontend %s: no pool named "
				    "\"%s\"", conf->fe[i].name,
				    conf->fe[i].pool_name);
		}
	}
	if (ctx->nerrors > 0) {
		lb_conf_free(conf);
		return NULL;
	}
	return conf;
}
