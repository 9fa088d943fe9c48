/* fwd_policy — the policy file, in the shared grammar, into a fw_policy.
 *
 *	group NAME { address CIDR... }
 *	service NAME { tcp PORT|LO-HI...  udp PORT|LO-HI... }
 *	set NAME ipv4|ipv6 [timeout [DURATION]]
 *	allow SERVICE [from GROUP|@SET|any] [rate N/second|minute per-source] [log]
 *	log-drops PREFIX
 *	state-file PATH
 *	monitor-buffer SIZE
 *
 * allow lines may name groups, services and sets defined further down:
 * they are resolved once the whole file has been read. Pure: no I/O. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

/* While loading: allow statements wait until every name is known. */
struct loader {
	const struct conf_stmt	**allows;
	size_t			  nallows;
};

static bool
valid_name(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > FWD_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Grow *arr (of n elements of size sz) by one zeroed element, bounded. */
static void *
grow(void *arrp, size_t *n, size_t sz, size_t max)
{
	void	**arr = arrp;
	char	 *p;

	if (*n >= max || (p = reallocarray(*arr, *n + 1, sz)) == NULL)
		return NULL;
	*arr = p;
	memset(p + *n * sz, 0, sz);
	return p + (*n)++ * sz;
}

static int
check_name(struct conf_ctx *ctx, const struct conf_stmt *st, const char *kind)
{
	if (!valid_name(st->argv[1]))
		return conf_error(ctx, st, "%s: expected a name of at most %d "
		    "letters, digits, '-' or '_', got \"%s\"", kind,
		    FWD_NAME_MAX, st->argv[1]);
	return 0;
}

static ssize_t
group_index(const struct fw_policy *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->ngroups; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
service_index(const struct fw_policy *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->nservices; i++)
		if (strcmp(p->services[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

struct fw_policy *
fw_policy_ref(struct fw_policy *p)
{
	p->refs++;
	return p;
}

ssize_t
fw_policy_set_index(const struct fw_policy *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->nsets; i++)
		if (strcmp(p->sets[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* group NAME { address CIDR... } */

static int
set_address(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct fw_group	*g = obj;
	struct net_cidr	*c;
	char		 err[128];
	int		 i, rc = 0;

	for (i = 1; i < st->argc; i++) {
		if ((c = grow(&g->cidrs, &g->n, sizeof(*c), FWD_MAX_ITEMS)) == NULL)
			return conf_error(ctx, st, "group %s: at most %d addresses",
			    g->name, FWD_MAX_ITEMS);
		if (net_cidr_parse(st->argv[i], c, err, sizeof(err)) == -1) {
			g->n--;
			rc = conf_error(ctx, st, "address: %s", err);
		}
	}
	return rc;
}

static const struct conf_directive group_directives[] = {
	{ "address", 1, -1, CONF_BLOCK_NONE, 0, set_address, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
set_group(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct fw_policy *p = obj;
	struct fw_group	*g;

	if (check_name(ctx, st, "group") == -1)
		return -1;
	if (group_index(p, st->argv[1]) != -1 || strcmp(st->argv[1], "any") == 0)
		return conf_error(ctx, st, "group %s: defined twice%s",
		    st->argv[1], strcmp(st->argv[1], "any") == 0 ?
		    " (\"any\" is built in)" : "");
	if ((g = grow(&p->groups, &p->ngroups, sizeof(*g), FWD_MAX_GROUPS)) == NULL)
		return conf_error(ctx, st, "group: at most %d", FWD_MAX_GROUPS);
	if ((g->name = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	if (conf_apply(ctx, st->block, group_directives, g) == -1)
		return -1;
	if (g->n == 0)
		return conf_error(ctx, st, "group %s: expected at least one "
		    "address", g->name);
	return 0;
}

/* service NAME { tcp PORT|LO-HI... udp ... } */

static int
parse_port(const char *s, uint16_t *out)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char		 tmp[16];
	const char	*dash = strchr(s, '-');

	if (dash == NULL)
		return parse_port(s, lo) == -1 ? -1 : (*hi = *lo, 0);
	if ((size_t)(dash - s) >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, dash - s);
	tmp[dash - s] = '\0';
	if (parse_port(tmp, lo) == -1 || parse_port(dash + 1, hi) == -1 ||
	    *hi < *lo)
		return -1;
	return 0;
}

static int
set_ports(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct fw_service *s = obj;
	struct fw_port	*pt;
	int		 i, rc = 0;

	for (i = 1; i < st->argc; i++) {
		if ((pt = grow(&s->ports, &s->n, sizeof(*pt), FWD_MAX_ITEMS)) == NULL)
			return conf_error(ctx, st, "service %s: at most %d ports",
			    s->name, FWD_MAX_ITEMS);
		pt->proto = (uint8_t)d->min;
		if (parse_range(st->argv[i], &pt->lo, &pt->hi) == -1) {
			s->n--;
			rc = conf_error(ctx, st, "%s: expected a port 1-65535 or "
			    "a range LOW-HIGH, got \"%s\"", st->argv[0],
			    st->argv[i]);
		}
	}
	return rc;
}

static const struct conf_directive service_directives[] = {
	{ "tcp", 1, -1, CONF_BLOCK_NONE, 0, set_ports, 0, IPPROTO_TCP, 0 },
	{ "udp", 1, -1, CONF_BLOCK_NONE, 0, set_ports, 0, IPPROTO_UDP, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
set_service(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct fw_policy *p = obj;
	struct fw_service *s;

	if (check_name(ctx, st, "service") == -1)
		return -1;
	if (service_index(p, st->argv[1]) != -1)
		return conf_error(ctx, st, "service %s: defined twice",
		    st->argv[1]);
	if ((s = grow(&p->services, &p->nservices, sizeof(*s),
	    FWD_MAX_SERVICES)) == NULL)
		return conf_error(ctx, st, "service: at most %d",
		    FWD_MAX_SERVICES);
	if ((s->name = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	if (conf_apply(ctx, st->block, service_directives, s) == -1)
		return -1;
	if (s->n == 0)
		return conf_error(ctx, st, "service %s: expected at least one "
		    "tcp or udp port", s->name);
	return 0;
}

/* set NAME ipv4|ipv6 [timeout [DURATION]] */

static int
set_set(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	static const char *const families[] = { "ipv4", "ipv6", NULL };
	struct fw_policy *p = obj;
	struct fw_set	*s;
	int		 fam;

	if (check_name(ctx, st, "set") == -1)
		return -1;
	if (strcmp(st->argv[1], FWD_BAN4) == 0 ||
	    strcmp(st->argv[1], FWD_BAN6) == 0 || strncmp(st->argv[1], "rl_", 3) == 0)
		return conf_error(ctx, st, "set %s: name reserved for fwd's own "
		    "sets", st->argv[1]);
	if (fw_policy_set_index(p, st->argv[1]) != -1)
		return conf_error(ctx, st, "set %s: defined twice", st->argv[1]);
	if (conf_arg_enum(ctx, st, 2, families, &fam) == -1)
		return -1;
	if (st->argc >= 4 && strcmp(st->argv[3], "timeout") != 0)
		return conf_error(ctx, st, "set %s: expected \"timeout\", got "
		    "\"%s\"", st->argv[1], st->argv[3]);
	if ((s = grow(&p->sets, &p->nsets, sizeof(*s), FWD_MAX_SETS)) == NULL)
		return conf_error(ctx, st, "set: at most %d", FWD_MAX_SETS);
	if ((s->name = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	s->family = fam == 0 ? AF_INET : AF_INET6;
	s->timeout = st->argc >= 4;
	if (st->argc == 5 && conf_arg_duration(ctx, st, 4, &s->timeout_ms) == -1)
		return -1;
	return 0;
}

static int
set_allow(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct loader	*ld = ctx->user;

	if (grow(&ld->allows, &ld->nallows, sizeof(*ld->allows),
	    FWD_MAX_ALLOWS) == NULL)
		return conf_error(ctx, st, "allow: at most %d", FWD_MAX_ALLOWS);
	ld->allows[ld->nallows - 1] = st;
	return 0;
}

static const struct conf_directive policy_directives[] = {
	SERVICE_DIRECTIVES(struct fw_policy, svc),
	{ "group", 1, 1, CONF_BLOCK_REQUIRED, 0, set_group, 0, 0, 0 },
	{ "service", 1, 1, CONF_BLOCK_REQUIRED, 0, set_service, 0, 0, 0 },
	{ "set", 2, 4, CONF_BLOCK_NONE, 0, set_set, 0, 0, 0 },
	{ "allow", 1, 7, CONF_BLOCK_NONE, 0, set_allow, 0, 0, 0 },
	{ "log-drops", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct fw_policy, log_drops), 0, 0 },
	{ "state-file", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct fw_policy, state_file), 0, 0 },
	{ "monitor-buffer", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_size,
	    offsetof(struct fw_policy, monitor_buffer), 4096,
	    256 * 1024 * 1024 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

/* "10/second": rate and unit in seconds. */
static int
parse_rate(const char *s, uint32_t *rate, uint32_t *unit)
{
	static const struct { const char *name; uint32_t sec; } units[] = {
		{ "second", 1 }, { "minute", 60 }, { "hour", 3600 },
	};
	const char	*slash = strchr(s, '/');
	char		 num[16];
	uint64_t	 v;
	size_t		 i;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(num))
		return -1;
	memcpy(num, s, slash - s);
	num[slash - s] = '\0';
	if (conf_parse_uint(num, &v) == -1 || v == 0 || v > 1000000)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(slash + 1, units[i].name) == 0) {
			*rate = (uint32_t)v;
			*unit = units[i].sec;
			return 0;
		}
	return -1;
}

/* allow SERVICE [from GROUP|@SET|any] [rate N/UNIT per-source] [log] */
static int
parse_allow(struct conf_ctx *ctx, const struct conf_stmt *st,
    struct fw_policy *p)
{
	struct fw_allow	 a;
	const char	*src;
	ssize_t		 k;
	int		 i = 2;

	memset(&a, 0, sizeof(a));
	if ((k = service_index(p, st->argv[1])) == -1)
		return conf_error(ctx, st, "allow: no service named \"%s\"",
		    st->argv[1]);
	a.service = (size_t)k;
	if (i < st->argc && strcmp(st->argv[i], "from") == 0) {
		if (i + 1 >= st->argc)
			return conf_error(ctx, st, "allow: expected a group, "
			    "@set or any after \"from\"");
		src = st->argv[i + 1];
		if (strcmp(src, "any") == 0)
			a.from = FW_FROM_ANY;
		else if (src[0] == '@') {
			if ((k = fw_policy_set_index(p, src + 1)) == -1)
				return conf_error(ctx, st, "allow: no set named "
				    "\"%s\"", src + 1);
			a.from = FW_FROM_SET;
			a.src = (size_t)k;
		} else {
			if ((k = group_index(p, src)) == -1)
				return conf_error(ctx, st, "allow: no group "
				    "named \"%s\"", src);
			a.from = FW_FROM_GROUP;
			a.src = (size_t)k;
		}
		i += 2;
	}
	if (i < st->argc && strcmp(st->argv[i], "rate") == 0) {
		if (i + 2 >= st->argc || strcmp(st->argv[i + 2], "per-source") != 0 ||
		    parse_rate(st->argv[i + 1], &a.rate, &a.rate_unit) == -1)
			return conf_error(ctx, st, "allow: expected \"rate "
			    "N/second|minute|hour per-source\"");
		i += 3;
	}
	if (i < st->argc && strcmp(st->argv[i], "log") == 0) {
		a.log = true;
		i++;
	}
	if (i < st->argc)
		return conf_error(ctx, st, "allow: unexpected \"%s\" (expected "
		    "from, rate or log)", st->argv[i]);
	if ((a.file = strdup(st->file)) == NULL)
		return conf_error(ctx, st, "out of memory");
	a.line = st->line;
	if (grow(&p->allows, &p->nallows, sizeof(a), FWD_MAX_ALLOWS) == NULL) {
		free(a.file);
		return conf_error(ctx, st, "allow: at most %d", FWD_MAX_ALLOWS);
	}
	p->allows[p->nallows - 1] = a;
	return 0;
}

void
fw_policy_free(void *arg)
{
	struct fw_policy *p = arg;
	size_t		 i;

	if (p == NULL || --p->refs > 0)
		return;
	service_conf_clear(&p->svc);
	for (i = 0; i < p->ngroups; i++) {
		free(p->groups[i].name);
		free(p->groups[i].cidrs);
	}
	for (i = 0; i < p->nservices; i++) {
		free(p->services[i].name);
		free(p->services[i].ports);
	}
	for (i = 0; i < p->nsets; i++)
		free(p->sets[i].name);
	for (i = 0; i < p->nallows; i++)
		free(p->allows[i].file);
	free(p->groups);
	free(p->services);
	free(p->sets);
	free(p->allows);
	free(p->log_drops);
	free(p->state_file);
	free(p);
}

void *
fw_policy_load(const struct conf_stmt *root, struct conf_ctx *ctx)
{
	struct fw_policy *p;
	struct loader	 ld = { NULL, 0 };
	void		*saved = ctx->user;
	int		 nerr = ctx->nerrors;
	size_t		 i;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		conf_error(ctx, NULL, "out of memory");
		return NULL;
	}
	p->refs = 1;
	ctx->user = &ld;
	conf_apply(ctx, root, policy_directives, p);
	ctx->user = saved;
	for (i = 0; i < ld.nallows; i++)
		parse_allow(ctx, ld.allows[i], p);
	free(ld.allows);
	if (p->log_drops != NULL && strlen(p->log_drops) > 127)
		conf_error(ctx, NULL, "log-drops: prefix longer than 127 bytes");
	if (ctx->nerrors != nerr) {
		fw_policy_free(p);
		return NULL;
	}
	return p;
}
