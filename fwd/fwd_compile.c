/* fwd_compile — a fw_policy expanded into the rules of the input chain
 * (one kernel rule per port spec and source address), and that rule list
 * printed in nft syntax. Both the text and the netlink batch are made from
 * the same fw_ruleset, so `fwctl show --nft` is what gets applied.
 *
 * Chain order: established/related, invalid (drop), loopback, bans (drop),
 * ICMP essentials, the allow lines in file order, then the drop counter
 * (logged with the log-drops prefix) before the policy drop. Pure. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

/* ICMP the network needs to work: errors, echo, IPv6 neighbour discovery. */
static const struct icmp_type {
	int		 family;
	int		 type;
	const char	*name;
} icmp_types[] = {
	{ AF_INET, 3, "destination-unreachable" },
	{ AF_INET, 8, "echo-request" },
	{ AF_INET, 11, "time-exceeded" },
	{ AF_INET, 12, "parameter-problem" },
	{ AF_INET6, 1, "destination-unreachable" },
	{ AF_INET6, 2, "packet-too-big" },
	{ AF_INET6, 3, "time-exceeded" },
	{ AF_INET6, 4, "parameter-problem" },
	{ AF_INET6, 128, "echo-request" },
	{ AF_INET6, 133, "nd-router-solicit" },
	{ AF_INET6, 134, "nd-router-advert" },
	{ AF_INET6, 135, "nd-neighbor-solicit" },
	{ AF_INET6, 136, "nd-neighbor-advert" },
};

void
fw_ruleset_free(struct fw_ruleset *rs)
{
	size_t	 i;

	for (i = 0; i < rs->ncounters; i++)
		free(rs->counters[i]);
	for (i = 0; i < rs->nsets; i++)
		free(rs->sets[i].name);
	free(rs->counters);
	free(rs->sets);
	free(rs->rules);
	memset(rs, 0, sizeof(*rs));
}

static int
add_counter(struct fw_ruleset *rs, const char *name, size_t *idx)
{
	char	**c, *s;
	size_t	 i;

	for (i = 0; i < rs->ncounters; i++)
		if (strcmp(rs->counters[i], name) == 0)
			return -1;
	if ((c = reallocarray(rs->counters, rs->ncounters + 1, sizeof(*c))) == NULL)
		return -1;
	rs->counters = c;
	if ((s = strdup(name)) == NULL)
		return -1;
	c[rs->ncounters] = s;
	*idx = rs->ncounters++;
	return 0;
}

static struct fw_kset *
add_set(struct fw_ruleset *rs, const char *name, int family)
{
	struct fw_kset	*s;

	if ((s = reallocarray(rs->sets, rs->nsets + 1, sizeof(*s))) == NULL)
		return NULL;
	rs->sets = s;
	s = &rs->sets[rs->nsets];
	memset(s, 0, sizeof(*s));
	if ((s->name = strdup(name)) == NULL)
		return NULL;
	s->family = family;
	rs->nsets++;
	return s;
}

static struct fw_krule *
add_rule(struct fw_ruleset *rs, enum fw_krule_kind kind, size_t counter)
{
	struct fw_krule	*r;

	if (rs->nrules >= FWD_MAX_KRULES ||
	    (r = reallocarray(rs->rules, rs->nrules + 1, sizeof(*r))) == NULL)
		return NULL;
	rs->rules = r;
	r = &rs->rules[rs->nrules++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->counter = counter;
	r->icmp_type = -1;
	return r;
}

/* The fixed head of the chain. */
static int
compile_head(struct fw_ruleset *rs)
{
	static const struct {
		const char	*counter;
		enum fw_krule_kind kind;
		bool		 accept;
	} head[] = {
		{ "established", KR_CT_ESTABLISHED, true },
		{ "invalid", KR_CT_INVALID, false },
		{ "loopback", KR_LOOPBACK, true },
	};
	struct fw_krule	*r;
	struct fw_kset	*s;
	size_t		 i, c;

	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		if (add_counter(rs, head[i].counter, &c) == -1 ||
		    (r = add_rule(rs, head[i].kind, c)) == NULL)
			return -1;
		r->accept = head[i].accept;
	}
	if (add_counter(rs, "banned", &c) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if ((s = add_set(rs, i == 0 ? FWD_BAN4 : FWD_BAN6,
		    i == 0 ? AF_INET : AF_INET6)) == NULL ||
		    (r = add_rule(rs, KR_MATCH, c)) == NULL)
			return -1;
		s->timeout = true;
		r->family = s->family;
		r->set = s->name;
	}
	if (add_counter(rs, "icmp_essentials", &c) == -1)
		return -1;
	for (i = 0; i < sizeof(icmp_types) / sizeof(icmp_types[0]); i++) {
		if ((r = add_rule(rs, KR_MATCH, c)) == NULL)
			return -1;
		r->family = icmp_types[i].family;
		r->l4proto = r->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		r->icmp_type = icmp_types[i].type;
		r->accept = true;
	}
	return 0;
}

/* "ssh_from_admin", with the line appended when the name is taken. */
static int
allow_counter(struct fw_ruleset *rs, const struct fw_policy *p,
    const struct fw_allow *a, size_t *idx)
{
	char		 name[3 * FWD_NAME_MAX + 32], *e;
	const char	*src = "any", *pre = "";

	if (a->from == FW_FROM_GROUP)
		src = p->groups[a->src].name;
	else if (a->from == FW_FROM_SET) {
		src = p->sets[a->src].name;
		pre = "set_";
	}
	snprintf(name, sizeof(name), "%s_from_%s%s",
	    p->services[a->service].name, pre, src);
	for (e = name; *e != '\0'; e++)
		if (*e == '-')
			*e = '_';	/* Prometheus-friendly rule labels */
	if (add_counter(rs, name, idx) == 0)
		return 0;
	snprintf(name + strlen(name), sizeof(name) - strlen(name), "_%d",
	    a->line);
	return add_counter(rs, name, idx);
}

/* One rule per port spec and source: family, address or set, rate. */
static int
compile_allow(struct fw_ruleset *rs, const struct fw_policy *p,
    const struct fw_allow *a, const char *log_prefix)
{
	const struct fw_service *svc = &p->services[a->service];
	const char	*rate_set[2] = { NULL, NULL };
	struct fw_kset	*s;
	struct fw_krule	 proto, *r;
	size_t		 c, i, j, nsrc;
	char		 name[64];

	if (allow_counter(rs, p, a, &c) == -1)
		return -1;
	memset(&proto, 0, sizeof(proto));
	proto.kind = KR_MATCH;
	proto.counter = c;
	proto.icmp_type = -1;
	proto.accept = true;
	proto.file = a->file;
	proto.line = a->line;
	proto.log_prefix = a->log ? log_prefix : NULL;
	if (a->rate_unit != 0) {
		proto.rate = a->rate;
		proto.rate_unit = a->rate_unit;
		for (i = 0; i < 2; i++) {
			snprintf(name, sizeof(name), "rl_%zu_%d", c,
			    i == 0 ? 4 : 6);
			if ((s = add_set(rs, name, i == 0 ? AF_INET :
			    AF_INET6)) == NULL)
				return -1;
			s->dynamic = s->timeout = true;
			s->timeout_ms = FWD_RATE_TIMEOUT_MS;
			s->file = a->file;
			s->line = a->line;
			rate_set[i] = s->name;
		}
	}
	nsrc = a->from == FW_FROM_GROUP ? p->groups[a->src].n :
	    a->from == FW_FROM_ANY && a->rate_unit != 0 ? 2 : 1;
	for (i = 0; i < svc->n; i++)
		for (j = 0; j < nsrc; j++) {
			if ((r = add_rule(rs, KR_MATCH, c)) == NULL)
				return -1;
			*r = proto;
			r->l4proto = svc->ports[i].proto;
			r->has_port = true;
			r->port_lo = svc->ports[i].lo;
			r->port_hi = svc->ports[i].hi;
			if (a->from == FW_FROM_GROUP) {
				r->has_cidr = true;
				r->cidr = p->groups[a->src].cidrs[j];
				r->family = r->cidr.family;
			} else if (a->from == FW_FROM_SET) {
				r->set = p->sets[a->src].name;
				r->family = p->sets[a->src].family;
			} else if (a->rate_unit != 0)
				r->family = j == 0 ? AF_INET : AF_INET6;
			if (a->rate_unit != 0)
				r->rate_set = rate_set[r->family == AF_INET ? 0 : 1];
		}
	return 0;
}

int
fw_compile(const struct fw_policy *p, struct fw_ruleset *rs, char *err,
    size_t errlen)
{
	struct fw_krule	*r;
	struct fw_kset	*s;
	size_t		 i, c;

	memset(rs, 0, sizeof(*rs));
	if (compile_head(rs) == -1)
		goto fail;
	for (i = 0; i < p->nsets; i++) {
		if ((s = add_set(rs, p->sets[i].name, p->sets[i].family)) == NULL)
			goto fail;
		s->timeout = p->sets[i].timeout;
		s->timeout_ms = p->sets[i].timeout_ms;
	}
	for (i = 0; i < p->nallows; i++)
		if (compile_allow(rs, p, &p->allows[i], p->log_drops != NULL ?
		    p->log_drops : "fwd ") == -1) {
			snprintf(err, errlen, "%s:%d: allow: more than %d kernel "
			    "rules, or out of memory", p->allows[i].file,
			    p->allows[i].line, FWD_MAX_KRULES);
			fw_ruleset_free(rs);
			return -1;
		}
	if (add_counter(rs, "dropped", &c) == -1 ||
	    (r = add_rule(rs, KR_MATCH, c)) == NULL)
		goto fail;
	r->log_prefix = p->log_drops;
	return 0;
fail:
	snprintf(err, errlen, "compile: out of memory");
	fw_ruleset_free(rs);
	return -1;
}

/* Text */

static const char *
icmp_name(int family, int type)
{
	size_t	 i;

	for (i = 0; i < sizeof(icmp_types) / sizeof(icmp_types[0]); i++)
		if (icmp_types[i].family == family && icmp_types[i].type == type)
			return icmp_types[i].name;
	return "?";
}

static void
print_duration(FILE *out, uint64_t ms)
{
	if (ms % 1000 == 0)
		fprintf(out, "%llus", (unsigned long long)(ms / 1000));
	else
		fprintf(out, "%llums", (unsigned long long)ms);
}

static void
print_set(FILE *out, const struct fw_kset *s)
{
	fprintf(out, "\tset %s {\n\t\ttype %s\n", s->name,
	    s->family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	if (s->dynamic)
		fprintf(out, "\t\tsize 65535\n\t\tflags dynamic,timeout\n");
	else if (s->timeout)
		fprintf(out, "\t\tflags timeout\n");
	if (s->timeout_ms != 0) {
		fputs("\t\ttimeout ", out);
		print_duration(out, s->timeout_ms);
		fputs("\n", out);
	}
	fputs("\t}\n\n", out);
}

static void
print_rule(FILE *out, const struct fw_ruleset *rs, const struct fw_krule *r)
{
	const char	*ip = r->family == AF_INET6 ? "ip6" : "ip";
	char		 cidr[NET_CIDRSTRLEN];

	fputs("\t\t", out);
	switch (r->kind) {
	case KR_CT_ESTABLISHED:
		fputs("ct state established,related ", out);
		break;
	case KR_CT_INVALID:
		fputs("ct state invalid ", out);
		break;
	case KR_LOOPBACK:
		fputs("iif \"lo\" ", out);
		break;
	case KR_MATCH:
		if (r->has_cidr)
			fprintf(out, "%s saddr %s ", ip,
			    net_cidr_str(&r->cidr, cidr, sizeof(cidr)));
		else if (r->set != NULL)
			fprintf(out, "%s saddr @%s ", ip, r->set);
		else if (r->family != 0 && r->icmp_type < 0)
			fprintf(out, "meta nfproto %s ",
			    r->family == AF_INET ? "ipv4" : "ipv6");
		if (r->icmp_type >= 0)
			fprintf(out, "%s type %s ", r->family == AF_INET ?
			    "icmp" : "icmpv6", icmp_name(r->family, r->icmp_type));
		if (r->has_port) {
			fprintf(out, "%s dport %u",
			    r->l4proto == IPPROTO_TCP ? "tcp" : "udp", r->port_lo);
			if (r->port_hi != r->port_lo)
				fprintf(out, "-%u", r->port_hi);
			fputs(" ", out);
		}
		if (r->rate_set != NULL)
			fprintf(out, "add @%s { %s saddr limit rate %u/%s } ",
			    r->rate_set, ip, r->rate, r->rate_unit == 1 ? "second" :
			    r->rate_unit == 60 ? "minute" : "hour");
		break;
	}
	fprintf(out, "counter name \"%s\" ", rs->counters[r->counter]);
	if (r->log_prefix != NULL)
		fprintf(out, "log prefix \"%s\" ", r->log_prefix);
	fprintf(out, "%s comment \"%s\"\n", r->accept ? "accept" : "drop",
	    rs->counters[r->counter]);
}

/* Written to a memory stream first so that a full buffer leaves out as it
 * was instead of holding half a table. */
int
fw_ruleset_nft(const struct fw_ruleset *rs, struct buf *dst)
{
	FILE	*out;
	char	*text = NULL;
	size_t	 len = 0, i;
	int	 rc;

	if ((out = open_memstream(&text, &len)) == NULL)
		return -1;
	fprintf(out, "table inet %s {\n", FWD_TABLE);
	for (i = 0; i < rs->ncounters; i++)
		fprintf(out, "\tcounter %s {\n\t}\n\n", rs->counters[i]);
	for (i = 0; i < rs->nsets; i++)
		print_set(out, &rs->sets[i]);
	fprintf(out, "\tchain %s {\n\t\ttype filter hook input priority "
	    "filter; policy drop;\n", FWD_CHAIN);
	for (i = 0; i < rs->nrules; i++)
		print_rule(out, rs, &rs->rules[i]);
	fprintf(out, "\t}\n}\n");
	if (fclose(out) != 0) {
		free(text);
		return -1;
	}
	rc = buf_append(dst, text, len);
	free(text);
	return rc;
}
