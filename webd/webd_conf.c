/* webd configuration: directive tables over the shared grammar. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "tls.h"
#include "webd.h"

/* listen "ADDR" [tls] [{ certificate "crt" "key" ... }] */

struct listen_ctx {
	struct webd_listen	*l;
	int			 ncerts;
};

static int
set_certificate(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct listen_ctx *lc = obj;
	char		 err[512];

	if (lc->l->tls == NULL)
		return conf_error(ctx, st, "certificate: only in a 'listen ... "
		    "tls' block");
	if (tls_server_add_cert(lc->l->tls, st->argv[1], st->argv[2], err,
	    sizeof(err)) == -1)
		return conf_error(ctx, st, "certificate: %s", err);
	lc->ncerts++;
	return 0;
}

static const struct conf_directive listen_directives[] = {
	{ "certificate", 2, 2, CONF_BLOCK_NONE, 0, set_certificate, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
set_listen(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct webd_conf *conf = obj;
	struct webd_listen *l;
	struct listen_ctx lc;
	char		 err[512];
	bool		 tls = false;

	if (conf->nlisten == WEBD_MAX_LISTEN)
		return conf_error(ctx, st, "listen: at most %d", WEBD_MAX_LISTEN);
	if (st->argc == 3) {
		if (strcmp(st->argv[2], "tls") != 0)
			return conf_error(ctx, st, "listen: expected 'tls' after "
			    "the address, got \"%s\"", st->argv[2]);
		tls = true;
	}
	l = &conf->listen[conf->nlisten];
	if (net_addr_parse(st->argv[1], tls ? 443 : 80, &l->addr, err,
	    sizeof(err)) == -1)
		return conf_error(ctx, st, "listen: %s", err);
	if ((l->addr_str = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	conf->nlisten++;
	if (tls && (l->tls = tls_server_new(NULL, err, sizeof(err))) == NULL)
		return conf_error(ctx, st, "listen: %s", err);
	if (st->has_block && !tls)
		return conf_error(ctx, st, "listen: a block is only for 'tls' "
		    "listeners");
	lc = (struct listen_ctx){ l, 0 };
	if (st->has_block &&
	    conf_apply(ctx, st->block, listen_directives, &lc) == -1)
		return -1;
	if (tls && lc.ncerts == 0)
		return conf_error(ctx, st, "listen %s tls: expected a "
		    "certificate in its block", st->argv[1]);
	return 0;
}

static int
set_index(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct webd_conf *conf = obj;
	int		 i;

	if (st->argc - 1 > WEBD_MAX_INDEX)
		return conf_error(ctx, st, "index: at most %d names",
		    WEBD_MAX_INDEX);
	for (i = 1; i < st->argc; i++) {
		if (strchr(st->argv[i], '/') != NULL || st->argv[i][0] == '\0')
			return conf_error(ctx, st, "index: expected a file name "
			    "without '/', got \"%s\"", st->argv[i]);
		if ((conf->index[conf->nindex++] = strdup(st->argv[i])) == NULL)
			return conf_error(ctx, st, "out of memory");
	}
	return 0;
}

static int
set_path_prefix(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	if (st->argv[1][0] != '/')
		return conf_error(ctx, st, "%s: expected a path starting with "
		    "'/', got \"%s\"", st->argv[0], st->argv[1]);
	return conf_set_string(ctx, st, d, obj);
}

static int
set_access_log(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	static const char *const formats[] = { "combined", "json", NULL };
	struct webd_conf *conf = obj;
	int		 fmt = LOG_COMBINED;

	if (st->argc == 3 && conf_arg_enum(ctx, st, 2, formats, &fmt) == -1)
		return -1;
	conf->log_format = fmt;
	return conf_set_string(ctx, st, d, obj);
}

/* location "*.php" | "/prefix/" | "=/exact" { fastcgi ADDR [script P] |
 * proxy ADDR | static } */

struct location_ctx {
	struct webd_location	*l;
	int			 nhandlers;
};

static int
set_upstream(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct location_ctx *lx = obj;
	char		 err[512];

	lx->nhandlers++;
	lx->l->handler = (enum webd_handler)d->min;
	if (lx->l->handler == H_STATIC)
		return 0;
	if (net_addr_parse(st->argv[1], 0, &lx->l->upstream, err,
	    sizeof(err)) == -1)
		return conf_error(ctx, st, "%s: %s", st->argv[0], err);
	if ((lx->l->upstream_str = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	return 0;
}

static int
set_script(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct location_ctx *lx = obj;

	if (st->argv[1][0] != '/' || strstr(st->argv[1], "/../") != NULL)
		return conf_error(ctx, st, "script: expected a path beneath "
		    "the root starting with '/', got \"%s\"", st->argv[1]);
	if ((lx->l->script = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	return 0;
}

/* The handler kind rides in the directive's min field. */
static const struct conf_directive location_directives[] = {
	{ "fastcgi", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_upstream, 0,
	    H_FASTCGI, 0 },
	{ "proxy", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_upstream, 0,
	    H_PROXY, 0 },
	{ "static", 0, 0, CONF_BLOCK_NONE, CONF_ONCE, set_upstream, 0,
	    H_STATIC, 0 },
	{ "script", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_script, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
set_location(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct webd_conf *conf = obj;
	struct location_ctx lx;
	struct webd_location *l;
	const char	*pat = st->argv[1];

	if (conf->nloc == WEBD_MAX_LOCATIONS)
		return conf_error(ctx, st, "location: at most %d",
		    WEBD_MAX_LOCATIONS);
	l = &conf->loc[conf->nloc];
	if (pat[0] == '*' && pat[1] == '.' && pat[2] != '\0' &&
	    strchr(pat + 1, '/') == NULL) {
		l->match = M_SUFFIX;
		pat++;
	} else if (pat[0] == '=' && pat[1] == '/')
		l->match = M_EXACT, pat++;
	else if (pat[0] == '/')
		l->match = M_PREFIX;
	else
		return conf_error(ctx, st, "location: expected \"/prefix\", "
		    "\"=/exact/path\" or \"*.suffix\", got \"%s\"", pat);
	if ((l->pattern = strdup(pat)) == NULL)
		return conf_error(ctx, st, "out of memory");
	conf->nloc++;
	lx = (struct location_ctx){ l, 0 };
	if (conf_apply(ctx, st->block, location_directives, &lx) == -1)
		return -1;
	if (lx.nhandlers != 1)
		return conf_error(ctx, st, "location %s: expected exactly one of "
		    "fastcgi, proxy or static, got %d", st->argv[1],
		    lx.nhandlers);
	if (l->script != NULL && l->handler != H_FASTCGI)
		return conf_error(ctx, st, "location %s: script is only for "
		    "fastcgi", st->argv[1]);
	return 0;
}

/* workers N | auto (the online CPUs, within the same range) */
static int
set_workers(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct webd_conf *conf = obj;
	uint64_t	 v;
	long		 ncpu;

	if (strcmp(st->argv[1], "auto") == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		conf->workers = (uint64_t)(ncpu < d->min ? d->min :
		    ncpu > d->max ? d->max : ncpu);
		return 0;
	}
	if (conf_parse_uint(st->argv[1], &v) == -1)
		return conf_error(ctx, st, "workers: expected a number from "
		    "%lld to %lld or auto, got \"%.32s\"", (long long)d->min,
		    (long long)d->max, st->argv[1]);
	return conf_set_uint(ctx, st, d, obj);
}

static const struct conf_directive webd_directives[] = {
	SERVICE_DIRECTIVES(struct webd_conf, svc),
	{ "listen", 1, 2, CONF_BLOCK_OPTIONAL, 0, set_listen, 0, 0, 0 },
	{ "root", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_path_prefix,
	    offsetof(struct webd_conf, root), 0, 0 },
	{ "index", 1, WEBD_MAX_INDEX, CONF_BLOCK_NONE, CONF_ONCE, set_index,
	    0, 0, 0 },
	{ "gzip-static", 0, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,
	    offsetof(struct webd_conf, gzip_static), 0, 0 },
	{ "health", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_path_prefix,
	    offsetof(struct webd_conf, health), 0, 0 },
	{ "access-log", 1, 2, CONF_BLOCK_NONE, CONF_ONCE, set_access_log,
	    offsetof(struct webd_conf, access_log), 0, 0 },
	{ "workers", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_workers,
	    offsetof(struct webd_conf, workers), 1, WEBD_MAX_WORKERS },
	{ "max-connections", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_uint,
	    offsetof(struct webd_conf, max_conns), 1, 1000000 },
	{ "max-header-size", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_size,
	    offsetof(struct webd_conf, max_head), 1024, 1024 * 1024 },
	{ "max-body", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_size,
	    offsetof(struct webd_conf, max_body), 0, 1LL << 40 },
	{ "header-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct webd_conf, header_timeout_ms), 10, 3600 * 1000 },
	{ "idle-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct webd_conf, idle_timeout_ms), 10, 24 * 3600 * 1000 },
	{ "body-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct webd_conf, body_timeout_ms), 10, 3600 * 1000 },
	{ "upstream-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_duration, offsetof(struct webd_conf, upstream_timeout_ms),
	    10, 24 * 3600 * 1000 },
	{ "directory-listing", 0, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,
	    offsetof(struct webd_conf, listing), 0, 0 },
	{ "location", 1, 1, CONF_BLOCK_REQUIRED, 0, set_location, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

void
webd_conf_free(void *p)
{
	struct webd_conf *conf = p;
	int		 i;

	if (conf == NULL)
		return;
	service_conf_clear(&conf->svc);
	for (i = 0; i < conf->nlisten; i++) {
		free(conf->listen[i].addr_str);
		tls_config_free(conf->listen[i].tls);
	}
	for (i = 0; i < conf->nindex; i++)
		free(conf->index[i]);
	for (i = 0; i < conf->nloc; i++) {
		free(conf->loc[i].pattern);
		free(conf->loc[i].upstream_str);
		free(conf->loc[i].script);
	}
	free(conf->root);
	free(conf->health);
	free(conf->access_log);
	free(conf);
}

void *
webd_conf_load(const struct conf_stmt *root, struct conf_ctx *ctx)
{
	struct webd_conf *conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		conf_error(ctx, NULL, "out of memory");
		return NULL;
	}
	conf->workers = 1;
	conf->max_conns = 10000;
	conf->max_head = HTTP_MAX_HEAD_DEFAULT;
	conf->max_body = 10 * 1024 * 1024;
	conf->header_timeout_ms = 10 * 1000;
	conf->idle_timeout_ms = 60 * 1000;
	conf->body_timeout_ms = 30 * 1000;
	conf->upstream_timeout_ms = 30 * 1000;
	if (conf_apply(ctx, root, webd_directives, conf) == 0) {
		if (conf->nlisten == 0)
			conf_error(ctx, NULL, "listen: at least one needed");
		if (conf->root == NULL)
			conf_error(ctx, NULL, "root: missing");
	}
	if (conf->nindex == 0 &&
	    (conf->index[conf->nindex++] = strdup("index.html")) == NULL)
		conf_error(ctx, NULL, "out of memory");
	if (ctx->nerrors > 0) {
		webd_conf_free(conf);
		return NULL;
	}
	return conf;
}

const struct webd_location *
webd_location_find(const struct webd_conf *conf, const char *path, size_t len)
{
	const struct webd_location *l;
	size_t		 plen;
	int		 i;

	for (i = 0; i < conf->nloc; i++) {
		l = &conf->loc[i];
		plen = strlen(l->pattern);
		if (plen > len)
			continue;
		if ((l->match == M_PREFIX && memcmp(path, l->pattern, plen) == 0) ||
		    (l->match == M_SUFFIX &&
		    memcmp(path + len - plen, l->pattern, plen) == 0) ||
		    (l->match == M_EXACT && plen == len &&
		    memcmp(path, l->pattern, len) == 0))
			return l;
	}
	return NULL;
}
