/* ag_ship_conf — the `output NAME { ... }` block (grammar at the top of
 * ag_ship.c) and the collector URL. Pure: no I/O, no DNS. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"
#include "ag_ship_int.h"

/* The block's object: the conf and what the handlers must remember. */
struct output_parse {
	struct ag_output_conf o;
	bool		 gzip_set;
};

static const char *const kind_names[] = { "sumo", "webhook", NULL };
static const char *const format_names[] = { "prometheus", "carbon2", NULL };

static int
set_kind(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct output_parse *p = obj;
	int		 i;

	if (conf_arg_enum(ctx, st, 1, kind_names, &i) == -1)
		return -1;
	p->o.kind = (enum ag_ship_kind)i;
	return 0;
}

static int
set_format(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct output_parse *p = obj;
	int		 i;

	if (conf_arg_enum(ctx, st, 1, format_names, &i) == -1)
		return -1;
	p->o.metrics_format = (enum ag_metrics_format)i;
	return 0;
}

static int
set_gzip(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct output_parse *p = obj;

	p->gzip_set = true;
	return conf_set_flag(ctx, st, d, obj);
}

/* A header value: printable, no CR/LF (they would end the header). */
static int
set_header_value(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	const unsigned char *c;

	for (c = (const unsigned char *)st->argv[1]; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return conf_error(ctx, st, "%s: control characters are "
			    "not allowed (it is sent as an HTTP header)",
			    st->argv[0]);
	return conf_set_string(ctx, st, d, obj);
}

#define OUT(f)	offsetof(struct output_parse, o.f)
static const struct conf_directive output_directives[] = {
	{ "url", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    OUT(url), 0, 0 },
	{ "kind", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_kind, 0, 0, 0 },
	{ "ca", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    OUT(ca), 0, 0 },
	{ "verify", 0, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,
	    OUT(verify), 0, 0 },
	{ "category", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_header_value,
	    OUT(category), 0, 0 },
	{ "name", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_header_value,
	    OUT(source_name), 0, 0 },
	{ "fields", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_header_value,
	    OUT(fields), 0, 0 },
	{ "metrics-format", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_format,
	    0, 0, 0 },
	{ "gzip", 0, 1, CONF_BLOCK_NONE, CONF_ONCE, set_gzip, OUT(gzip), 0, 0 },
	{ "max-request", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_size,
	    OUT(max_request), 1024, AG_SHIP_MAX_REQUEST },
	{ "flush-interval", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_duration, OUT(flush_ms), 10, 3600 * 1000 },
	{ "spool-max", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_size,
	    OUT(spool_max), 4096, 1LL << 40 },
	{ "backoff-min", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    OUT(backoff_min_ms), 10, 3600 * 1000 },
	{ "backoff-max", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    OUT(backoff_max_ms), 10, 24 * 3600 * 1000 },
	{ "timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    OUT(timeout_ms), 100, 600 * 1000 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};
#undef OUT

static void conf_strings_free(struct ag_output_conf *);

static bool
name_ok(const char *s)
{
	return s[0] != '\0' && strlen(s) <= 64 && strspn(s,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(s);
}

int
ag_conf_output(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct ag_output_conf **list = (void *)((char *)obj + d->offset);
	struct ag_output_conf **tail, *o;
	struct output_parse p;
	struct ag_url	 u;
	char		 err[256];
	int		 bad;

	for (tail = list; *tail != NULL; tail = &(*tail)->next)
		if (strcmp((*tail)->name, st->argv[1]) == 0)
			return conf_error(ctx, st, "output %s: given twice",
			    st->argv[1]);
	if (!name_ok(st->argv[1]))
		return conf_error(ctx, st, "output %s: a name is lower-case "
		    "letters, digits, '-' and '_' (at most 64)", st->argv[1]);
	memset(&p, 0, sizeof(p));
	p.o.kind = AG_SHIP_SUMO;
	p.o.verify = true;
	p.o.gzip = true;
	p.o.metrics_format = AG_METRICS_PROMETHEUS;
	p.o.max_request = AG_SHIP_MAX_REQUEST;
	p.o.flush_ms = 5000;
	p.o.spool_max = 256ULL * 1024 * 1024;
	p.o.backoff_min_ms = 1000;
	p.o.backoff_max_ms = 5 * 60 * 1000;
	p.o.timeout_ms = 30 * 1000;
	bad = conf_apply(ctx, st->block, output_directives, &p);
	if (!p.gzip_set && p.o.kind == AG_SHIP_WEBHOOK)
		p.o.gzip = false;
	if ((p.o.name = strdup(st->argv[1])) == NULL)
		bad = conf_error(ctx, st, "out of memory");
	else if (bad == 0) {
		if (p.o.url == NULL)
			bad = conf_error(ctx, st, "output %s: url is required",
			    p.o.name);
		else if (ag_url_parse(p.o.url, &u, err, sizeof(err)) == -1)
			bad = conf_error(ctx, st, "output %s: url: %s",
			    p.o.name, err);
		else {
			if (u.tls && p.o.verify && p.o.ca == NULL &&
			    (p.o.ca = strdup(AG_SHIP_DEFAULT_CA)) == NULL)
				bad = conf_error(ctx, st, "out of memory");
			ag_url_clear(&u);
		}
	}
	if (bad == 0 && p.o.backoff_min_ms > p.o.backoff_max_ms)
		bad = conf_error(ctx, st, "output %s: backoff-min is above "
		    "backoff-max", p.o.name);
	if ((o = malloc(sizeof(*o))) == NULL)
		bad = conf_error(ctx, st, "out of memory");
	else {
		*o = p.o;
		o->next = NULL;
		*tail = o;	/* kept on errors too, so it is freed */
		return bad ? -1 : 0;
	}
	conf_strings_free(&p.o);
	return -1;
}

static void
conf_strings_free(struct ag_output_conf *o)
{
	free(o->name);
	free(o->url);
	free(o->ca);
	free(o->category);
	free(o->source_name);
	free(o->fields);
}

void
ag_output_conf_free(struct ag_output_conf *o)
{
	struct ag_output_conf *next;

	for (; o != NULL; o = next) {
		next = o->next;
		conf_strings_free(o);
		free(o);
	}
}

static int
dup_str(char **dst, const char *src)
{
	*dst = NULL;
	return src != NULL && (*dst = strdup(src)) == NULL ? -1 : 0;
}

struct ag_output_conf *
ag_output_conf_dup(const struct ag_output_conf *src)
{
	struct ag_output_conf *o;

	if ((o = malloc(sizeof(*o))) == NULL)
		return NULL;
	*o = *src;
	o->next = NULL;
	if (dup_str(&o->name, src->name) | dup_str(&o->url, src->url) |
	    dup_str(&o->ca, src->ca) | dup_str(&o->category, src->category) |
	    dup_str(&o->source_name, src->source_name) |
	    dup_str(&o->fields, src->fields)) {
		ag_output_conf_free(o);
		return NULL;
	}
	return o;
}

void
ag_url_clear(struct ag_url *u)
{
	free(u->host);
	free(u->authority);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

int
ag_url_parse(const char *s, struct ag_url *u, char *err, size_t errlen)
{
	const char	*auth, *slash, *hend, *c;
	unsigned long	 port;
	char		*end;
	size_t		 alen;

	memset(u, 0, sizeof(*u));
	for (c = s; *c != '\0'; c++)
		if (!isgraph((unsigned char)*c))
			return seterr(err, errlen, "spaces and control "
			    "characters are not allowed");
	if (strncasecmp(s, "http://", 7) == 0) {
		auth = s + 7;
		u->port = 80;
	} else if (strncasecmp(s, "https://", 8) == 0) {
		auth = s + 8;
		u->tls = true;
		u->port = 443;
	} else
		return seterr(err, errlen, "only http:// and https:// URLs "
		    "are supported");
	slash = auth + strcspn(auth, "/?#");
	if (*slash == '#' || strchr(slash, '#') != NULL)
		return seterr(err, errlen, "a fragment (#) has no place in a "
		    "collector URL");
	alen = (size_t)(slash - auth);
	if (alen == 0)
		return seterr(err, errlen, "no host");
	if (memchr(auth, '@', alen) != NULL)
		return seterr(err, errlen, "user:password@ is not supported "
		    "(Sumo Logic puts the token in the path)");
	if (auth[0] == '[') {
		if ((hend = memchr(auth, ']', alen)) == NULL)
			return seterr(err, errlen, "unclosed [ in the host");
		if ((u->host = strndup(auth + 1, (size_t)(hend - auth - 1)))
		    == NULL)
			goto nomem;
		hend++;
	} else {
		hend = memchr(auth, ':', alen);
		if (hend == NULL)
			hend = slash;
		if ((u->host = strndup(auth, (size_t)(hend - auth))) == NULL)
			goto nomem;
	}
	if (u->host[0] == '\0' || strspn(u->host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:%_") != strlen(u->host)) {
		ag_url_clear(u);
		return seterr(err, errlen, "not a host name or address");
	}
	if (hend < slash) {
		if (*hend != ':' || hend + 1 == slash) {
			ag_url_clear(u);
			return seterr(err, errlen, "expected :PORT after the "
			    "host");
		}
		port = strtoul(hend + 1, &end, 10);
		if (end != slash || port == 0 || port > 65535 ||
		    !isdigit((unsigned char)hend[1])) {
			ag_url_clear(u);
			return seterr(err, errlen, "the port is not 1-65535");
		}
		u->port = (uint16_t)port;
	}
	if ((u->authority = strndup(auth, alen)) == NULL)
		goto nomem;
	if (*slash == '\0')
		u->path = strdup("/");
	else if (*slash == '?') {
		if (asprintf(&u->path, "/%s", slash) == -1)
			u->path = NULL;
	} else
		u->path = strdup(slash);
	if (u->path == NULL)
		goto nomem;
	return 0;
nomem:
	ag_url_clear(u);
	return seterr(err, errlen, "out of memory");
}

void
ag_url_redacted(const struct ag_url *u, char *buf, size_t len)
{
	snprintf(buf, len, "%s://%s%s", u->tls ? "https" : "http",
	    u->authority ? u->authority : "?",
	    u->path != NULL && strcmp(u->path, "/") != 0 ? "/..." : "/");
}
