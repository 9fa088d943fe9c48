/* fwd_diff — fwctl diff: the rules and sets of table inet stackd as the
 * kernel holds them, read back over netlink, against what the policy file
 * (read again, as reload would) would apply.
 *
 * Both sides are put in the same words: a rule is its comment (the
 * counter name fwd gives it) and libnftnl's text of each expression, built
 * for the policy by the very code that builds the batch (fw_rule_build),
 * so any difference is a real one. A set is its name, key length and
 * timeout flag (elements are run-time data: bans, meters). Lines only in
 * the kernel print "- ", lines only in the policy "+ "; the same lines in
 * another order print "order differs".
 *
 * fwd_table_matches makes the same comparison for the full resync after
 * lost monitor events, against the ruleset fwd applied, and also checks
 * that every ban fwd keeps is still in the kernel's ban sets. */
#include <stdio.h>		/* before libnftnl: its headers use FILE */
#include <stdlib.h>
#include <string.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>

#include "ctl.h"
#include "fwd.h"

#define DIFF_LINE_MAX	4096

struct lines {
	char	**v;
	size_t	 n;
	bool	 failed;
};

static void
add_line(struct lines *l, const char *s)
{
	char	**v;

	if (l->failed || (v = reallocarray(l->v, l->n + 1, sizeof(*v))) == NULL ||
	    (v[l->n] = strdup(s)) == NULL) {
		l->failed = true;
		return;
	}
	l->v = v;
	l->n++;
}

static void
free_lines(struct lines *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int
comment_cb(const struct nftnl_udata *a, void *arg)
{
	if (nftnl_udata_type(a) == NFTNL_UDATA_RULE_COMMENT)
		*(const char **)arg = nftnl_udata_get(a);
	return 0;
}

static void
rule_line(struct nftnl_rule *r, struct lines *l)
{
	char		 line[DIFF_LINE_MAX];
	const char	*comment = "(no comment)";
	const void	*ud;
	uint32_t	 udlen = 0;
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	size_t		 off;
	int		 n;

	if ((ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &udlen)) != NULL)
		nftnl_udata_parse(ud, udlen, comment_cb, &comment);
	off = (size_t)snprintf(line, sizeof(line), "rule %s:", comment);
	if ((it = nftnl_expr_iter_create(r)) == NULL) {
		l->failed = true;
		return;
	}
	while ((e = nftnl_expr_iter_next(it)) != NULL && off < sizeof(line) - 2) {
		line[off++] = ' ';
		n = nftnl_expr_snprintf(line + off, sizeof(line) - off, e,
		    NFTNL_OUTPUT_DEFAULT, 0);
		if (n > 0)
			off += (size_t)n < sizeof(line) - off ? (size_t)n :
			    sizeof(line) - off - 1;
	}
	nftnl_expr_iter_destroy(it);
	add_line(l, line);
}

static void
set_line(const char *name, uint32_t keylen, bool timeout, struct lines *l)
{
	char	 line[256];

	snprintf(line, sizeof(line), "set %s: key %u bytes%s", name, keylen,
	    timeout ? ", timeout" : "");
	add_line(l, line);
}

static void
live_cb(struct nftnl_rule *r, struct nftnl_set *s, void *arg)
{
	struct lines	*l = arg;

	if (r != NULL)
		rule_line(r, l);
	else
		set_line(nftnl_set_get_str(s, NFTNL_SET_NAME),
		    nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
		    (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_TIMEOUT) != 0,
		    l);
}

static void
policy_lines(const struct fw_ruleset *rs, struct lines *l)
{
	struct nftnl_rule *r;
	size_t		 i;

	for (i = 0; i < rs->nrules; i++) {
		if ((r = fw_rule_build(rs, &rs->rules[i])) == NULL) {
			l->failed = true;
			return;
		}
		rule_line(r, l);
		nftnl_rule_free(r);
	}
	for (i = 0; i < rs->nsets; i++)
		set_line(rs->sets[i].name, rs->sets[i].family == AF_INET ? 4 : 16,
		    rs->sets[i].timeout, l);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Multiset difference of the sorted lists; returns how many lines. */
static size_t
print_diff(struct ctl_conn *c, struct lines *live, struct lines *want)
{
	size_t	 i = 0, j = 0, n = 0;
	int	 d;

	if (live->n > 1)
		qsort(live->v, live->n, sizeof(char *), str_cmp);
	if (want->n > 1)
		qsort(want->v, want->n, sizeof(char *), str_cmp);
	while (i < live->n || j < want->n) {
		d = i == live->n ? 1 : j == want->n ? -1 :
		    strcmp(live->v[i], want->v[j]);
		if (d == 0) {
			i++, j++;
			continue;
		}
		ctl_printf(c, "%c %s\n", d < 0 ? '-' : '+',
		    d < 0 ? live->v[i++] : want->v[j++]);
		n++;
	}
	return n;
}

static bool
same_order(const struct lines *a, const struct lines *b)
{
	size_t	 i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

/* The policy file as it is now (reload would apply it). */
static struct fw_policy *
read_policy(struct service *svc, char *err, size_t errlen)
{
	struct conf_doc	*doc;
	struct conf_ctx	 ctx;
	struct fw_policy *p;

	if (conf_parse_file(service_conf_path(svc), &doc, err, errlen) == -1)
		return NULL;
	conf_ctx_init(&ctx, 1, NULL);
	if ((p = fw_policy_load(conf_doc_root(doc), &ctx)) == NULL ||
	    conf_errors(&ctx)[0] != '\0') {
		snprintf(err, errlen, "%s", conf_errors(&ctx));
		fw_policy_free(p);
		p = NULL;
	}
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
	return p;
}

void
fwd_cmd_diff(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service	*svc = arg;
	struct fwd	*fw = service_arg(svc);
	struct lines	 live = { NULL, 0, false }, want = { NULL, 0, false };
	struct fw_ruleset rs;
	struct fw_policy *p;
	char		 err[512];
	size_t		 n;
	int		 present, rc;

	if ((p = read_policy(svc, err, sizeof(err))) == NULL) {
		ctl_reply_error(c, "diff: %s", err);
		return;
	}
	/* The rules point into the policy (log prefixes): free it last. */
	if ((rc = fw_compile(p, &rs, err, sizeof(err))) == 0) {
		policy_lines(&rs, &want);
		fw_ruleset_free(&rs);
	}
	fw_policy_free(p);
	if (rc == -1) {
		ctl_reply_error(c, "diff: %s", err);
		return;
	}
	if ((present = fw_nl_table_exists(fw->nl, err, sizeof(err))) == -1 ||
	    (present == 1 && fw_nl_dump(fw->nl, live_cb, &live, err,
	    sizeof(err)) == -1)) {
		ctl_reply_error(c, "diff: %s", err);
		goto out;
	}
	if (live.failed || want.failed) {
		ctl_reply_error(c, "diff: out of memory");
		goto out;
	}
	ctl_reply_ok(c);
	if (present == 0)
		ctl_printf(c, "table inet %s: missing\n", FWD_TABLE);
	if (same_order(&live, &want)) {
		ctl_printf(c, "no differences\n");
		goto out;
	}
	if ((n = print_diff(c, &live, &want)) == 0)
		ctl_printf(c, "order differs\n");
	else
		ctl_printf(c, "%zu difference%s\n", n, n == 1 ? "" : "s");
out:
	free_lines(&live);
	free_lines(&want);
}

int
fwd_table_matches(struct fwd *fw, char *why, size_t whylen)
{
	struct lines	 live = { NULL, 0, false }, want = { NULL, 0, false };
	struct fw_elem	*elems = NULL;
	size_t		 nelems = 0, missing = 0;
	int		 present, rc = -1;

	fw->elems_unknown = true;	/* read the ban sets back */
	if ((present = fw_nl_table_exists(fw->nl, why, whylen)) == -1 ||
	    (present == 1 && fw_nl_dump(fw->nl, live_cb, &live, why,
	    whylen) == -1))
		goto out;
	policy_lines(&fw->rs, &want);
	if (live.failed || want.failed) {
		snprintf(why, whylen, "compare: out of memory");
		goto out;
	}
	rc = 0;
	if (present == 0)
		snprintf(why, whylen, "table inet %s missing", FWD_TABLE);
	else if (!same_order(&live, &want))
		snprintf(why, whylen, "%zu rules and sets in the kernel, %zu "
		    "in the policy, or not the same", live.n, want.n);
	else if (fwd_bans_elems(fw, &elems, &nelems, &missing, why,
	    whylen) == -1)
		rc = -1;
	else if (missing > 0)
		snprintf(why, whylen, "%zu of fwd's bans missing from the "
		    "ban sets", missing);
	else
		rc = 1;
out:
	free(elems);
	free_lines(&live);
	free_lines(&want);
	return rc;
}
