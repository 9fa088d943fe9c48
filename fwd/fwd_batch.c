/* fwd_batch — a fw_ruleset as ONE nfnetlink batch that replaces table
 * inet stackd atomically: add the table (so the delete cannot fail), delete
 * it, add it again with its counters, sets, chain and rules. Other tables
 * are never named. Every message's sequence number is recorded with the
 * policy line it came from, to map kernel errors back. Builds in memory
 * only: fwd_nl.c sends.
 *
 * Only the last message asks for an ACK: the kernel reports every error
 * anyway, so "no error and the last ACK seen" means applied, and the reply
 * stays small for batches of thousands of rules. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "fwd.h"

#define MSG_ROOM	(64 * 1024)	/* bound on one message */
#define BATCH_MAX	(256 * 1024 * 1024)
#define ELEMS_PER_MSG	256
#define NFT_TYPE_IPADDR	7		/* nft's datatypes, for `nft list` */
#define NFT_TYPE_IP6ADDR 8

void
fw_batch_free(struct fw_batch *b)
{
	buf_free(&b->buf);
	free(b->info);
	memset(b, 0, sizeof(*b));
}

const struct fw_seqinfo *
fw_batch_find(const struct fw_batch *b, uint32_t seq)
{
	size_t	 i;

	for (i = 0; i < b->ninfo; i++)
		if (b->info[i].seq == seq)
			return &b->info[i];
	return NULL;
}

/* Room for one message at the tail of the batch. */
static char *
msg_room(struct fw_batch *b)
{
	/* libmnl clears the headers it puts; attributes are written whole. */
	if (buf_reserve(&b->buf, MSG_ROOM) == -1)
		return NULL;
	return buf_tail(&b->buf);
}

static int
msg_done(struct fw_batch *b, struct nlmsghdr *nlh, const char *what,
    const char *name, const char *file, int line)
{
	struct fw_seqinfo *in;

	if ((in = reallocarray(b->info, b->ninfo + 1, sizeof(*in))) == NULL)
		return -1;
	b->info = in;
	in[b->ninfo++] = (struct fw_seqinfo){ nlh->nlmsg_seq, what, name, file,
	    line };
	b->last_seq = nlh->nlmsg_seq;
	buf_commit(&b->buf, MNL_ALIGN(nlh->nlmsg_len));
	return 0;
}

static int
batch_begin(struct fw_batch *b, uint32_t seq, uint32_t genid)
{
	struct nlmsghdr	*nlh;
	char		*p;

	buf_init(&b->buf, BATCH_MAX);
	if ((p = msg_room(b)) == NULL)
		return -1;
	nlh = nftnl_batch_begin(p, seq);
	/* The kernel refuses the whole batch (ERESTART) if the ruleset
	 * changed since we read genid. */
	if (genid != 0)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	buf_commit(&b->buf, MNL_ALIGN(nlh->nlmsg_len));
	return 0;
}

static int
batch_end(struct fw_batch *b, uint32_t seq)
{
	struct nlmsghdr	*nlh;
	char		*p;
	size_t		 i;

	/* Ask for the ACK of the last real message only (see above). The
	 * first real message asks for an echo: the kernel then sends the
	 * NEWGEN of the commit (the generation fwd's change produced) to
	 * the sender too, so no GETGEN round trip follows a ban. */
	for (i = 0, p = b->buf.data + b->buf.off; p < buf_tail(&b->buf);
	    p += MNL_ALIGN(nlh->nlmsg_len), i++) {
		nlh = (struct nlmsghdr *)p;
		if (i == 1)
			nlh->nlmsg_flags |= NLM_F_ECHO;
		if (nlh->nlmsg_seq == b->last_seq && i > 0)
			nlh->nlmsg_flags |= NLM_F_ACK;
	}
	if ((p = msg_room(b)) == NULL)
		return -1;
	nlh = nftnl_batch_end(p, seq);
	buf_commit(&b->buf, MNL_ALIGN(nlh->nlmsg_len));
	return 0;
}

static int
put_table(struct fw_batch *b, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nftnl_table *t;
	struct nlmsghdr	*nlh;
	char		*p;

	if ((p = msg_room(b)) == NULL || (t = nftnl_table_alloc()) == NULL)
		return -1;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, FWD_TABLE);
	nlh = nftnl_table_nlmsg_build_hdr(p, type, NFPROTO_INET, flags, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return msg_done(b, nlh, "table", FWD_TABLE, NULL, 0);
}

static int
put_counter(struct fw_batch *b, const char *name, uint32_t seq)
{
	struct nftnl_obj *o;
	struct nlmsghdr	*nlh;
	char		*p;

	if ((p = msg_room(b)) == NULL || (o = nftnl_obj_alloc()) == NULL)
		return -1;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, FWD_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWOBJ, NFPROTO_INET,
	    NLM_F_CREATE, seq);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	return msg_done(b, nlh, "counter", name, NULL, 0);
}

static int
put_set(struct fw_batch *b, const struct fw_kset *s, uint32_t id, uint32_t seq)
{
	struct nftnl_set *set;
	struct nlmsghdr	*nlh;
	char		*p;
	uint32_t	 flags = 0;

	if ((p = msg_room(b)) == NULL || (set = nftnl_set_alloc()) == NULL)
		return -1;
	nftnl_set_set_str(set, NFTNL_SET_TABLE, FWD_TABLE);
	nftnl_set_set_str(set, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(set, NFTNL_SET_ID, id);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, s->family == AF_INET ?
	    NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, s->family == AF_INET ? 4 : 16);
	if (s->timeout)
		flags |= NFT_SET_TIMEOUT;
	if (s->dynamic) {
		flags |= NFT_SET_EVAL;
		nftnl_set_set_u32(set, NFTNL_SET_DESC_SIZE, 65535);
	}
	nftnl_set_set_u32(set, NFTNL_SET_FLAGS, flags);
	if (s->timeout_ms != 0)
		nftnl_set_set_u64(set, NFTNL_SET_TIMEOUT, s->timeout_ms);
	nlh = nftnl_set_nlmsg_build_hdr(p, NFT_MSG_NEWSET, NFPROTO_INET,
	    NLM_F_CREATE, seq);
	nftnl_set_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	return msg_done(b, nlh, "set", s->name, s->file, s->line);
}

/* Elements of one set, at most ELEMS_PER_MSG per message. */
static int
put_elems(struct fw_batch *b, const char *name, uint16_t type,
    const struct fw_elem *e, size_t n, uint32_t seq)
{
	struct nftnl_set *set;
	struct nftnl_set_elem *se;
	struct nlmsghdr	*nlh;
	char		*p;
	size_t		 i;

	if ((p = msg_room(b)) == NULL || (set = nftnl_set_alloc()) == NULL)
		return -1;
	nftnl_set_set_str(set, NFTNL_SET_TABLE, FWD_TABLE);
	nftnl_set_set_str(set, NFTNL_SET_NAME, name);
	for (i = 0; i < n; i++) {
		if ((se = nftnl_set_elem_alloc()) == NULL) {
			nftnl_set_free(set);
			return -1;
		}
		nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY, e[i].addr,
		    e[i].family == AF_INET ? 4 : 16);
		if (e[i].timeout_ms != 0 && type == NFT_MSG_NEWSETELEM)
			nftnl_set_elem_set_u64(se, NFTNL_SET_ELEM_TIMEOUT,
			    e[i].timeout_ms);
		nftnl_set_elem_add(set, se);
	}
	nlh = nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET,
	    type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	return msg_done(b, nlh, "element", name, NULL, 0);
}

static int
put_chain(struct fw_batch *b, uint32_t seq)
{
	struct nftnl_chain *c;
	struct nlmsghdr	*nlh;
	char		*p;

	if ((p = msg_room(b)) == NULL || (c = nftnl_chain_alloc()) == NULL)
		return -1;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, FWD_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, FWD_CHAIN);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_DROP);
	nlh = nftnl_chain_nlmsg_build_hdr(p, NFT_MSG_NEWCHAIN, NFPROTO_INET,
	    NLM_F_CREATE, seq);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return msg_done(b, nlh, "chain", FWD_CHAIN, NULL, 0);
}

/* Expressions */

static struct nftnl_expr *
expr(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e != NULL)
		nftnl_rule_add_expr(r, e);
	return e;
}

static void
meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = expr(r, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void
cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr(r, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void
payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = expr(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
}

static void
bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = expr(r, "bitwise");
	static const uint8_t zero[16];

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

static void
ct_state(struct nftnl_rule *r, uint32_t bits)
{
	struct nftnl_expr *e = expr(r, "ct");
	uint32_t	 zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	bitwise(r, &bits, sizeof(bits));
	cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero));
}

static void
saddr(struct nftnl_rule *r, int family)
{
	payload(r, NFT_PAYLOAD_NETWORK_HEADER, family == AF_INET ? 12 : 8,
	    family == AF_INET ? 4 : 16);
}

static void
match_cidr(struct nftnl_rule *r, const struct net_cidr *c)
{
	uint32_t	 len = c->family == AF_INET ? 4 : 16, i;
	uint8_t		 mask[16];

	if (c->prefix == 0)
		return;		/* the whole family: nfproto did it */
	saddr(r, c->family);
	if (c->prefix < len * 8) {
		for (i = 0; i < len; i++)
			mask[i] = c->prefix >= (i + 1) * 8 ? 0xff :
			    c->prefix <= i * 8 ? 0 :
			    (uint8_t)(0xff << (8 - (c->prefix - i * 8)));
		bitwise(r, mask, len);
	}
	cmp(r, NFT_CMP_EQ, c->addr, len);
}

static void
match_port(struct nftnl_rule *r, uint16_t lo, uint16_t hi)
{
	struct nftnl_expr *e;
	uint16_t	 nlo = htons(lo), nhi = htons(hi);

	payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	if (lo == hi) {
		cmp(r, NFT_CMP_EQ, &nlo, 2);
		return;
	}
	e = expr(r, "range");
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &nlo, 2);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &nhi, 2);
}

static uint32_t
set_id(const struct fw_ruleset *rs, const char *name)
{
	size_t	 i;

	for (i = 0; i < rs->nsets; i++)
		if (strcmp(rs->sets[i].name, name) == 0)
			return (uint32_t)i + 1;
	return 0;
}

/* add @set { saddr limit rate N/unit }: over the rate, the rule stops. */
static void
rate_limit(struct nftnl_rule *r, const struct fw_ruleset *rs,
    const struct fw_krule *k)
{
	struct nftnl_expr *e, *lim;

	saddr(r, k->family);
	e = expr(r, "dynset");
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, k->rate_set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id(rs, k->rate_set));
	/* The kernel's defaults, explicit so that a read-back (fwctl diff)
	 * compares equal; the same for lookup flags and log level below. */
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, 0);
	if ((lim = nftnl_expr_alloc("limit")) == NULL)
		return;
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_RATE, k->rate);
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_UNIT, k->rate_unit);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_BURST, 5);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_FLAGS, 0);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, lim, 0);
}

static void
match_rule(struct nftnl_rule *r, const struct fw_ruleset *rs,
    const struct fw_krule *k)
{
	struct nftnl_expr *e;
	uint8_t		 b;

	if (k->family != 0) {
		b = k->family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
		meta(r, NFT_META_NFPROTO);
		cmp(r, NFT_CMP_EQ, &b, 1);
	}
	if (k->has_cidr)
		match_cidr(r, &k->cidr);
	if (k->set != NULL) {
		saddr(r, k->family);
		e = expr(r, "lookup");
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, k->set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id(rs, k->set));
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, 0);
	}
	if (k->l4proto != 0) {
		meta(r, NFT_META_L4PROTO);
		cmp(r, NFT_CMP_EQ, &k->l4proto, 1);
	}
	if (k->icmp_type >= 0) {
		b = (uint8_t)k->icmp_type;
		payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		cmp(r, NFT_CMP_EQ, &b, 1);
	}
	if (k->has_port)
		match_port(r, k->port_lo, k->port_hi);
	if (k->rate_set != NULL)
		rate_limit(r, rs, k);
}

struct nftnl_rule *
fw_rule_build(const struct fw_ruleset *rs, const struct fw_krule *k)
{
	const char	*counter = rs->counters[k->counter];
	struct nftnl_udata_buf *ud;
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	uint32_t	 one = 1;

	if ((r = nftnl_rule_alloc()) == NULL)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FWD_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, FWD_CHAIN);
	switch (k->kind) {
	case KR_CT_ESTABLISHED:
		ct_state(r, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
		    NF_CT_STATE_BIT(IP_CT_RELATED));
		break;
	case KR_CT_INVALID:
		ct_state(r, NF_CT_STATE_INVALID_BIT);
		break;
	case KR_LOOPBACK:
		meta(r, NFT_META_IIF);	/* lo is ifindex 1 in every netns */
		cmp(r, NFT_CMP_EQ, &one, sizeof(one));
		break;
	case KR_MATCH:
		match_rule(r, rs, k);
		break;
	}
	e = expr(r, "objref");
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, counter);
	if (k->log_prefix != NULL) {
		e = expr(r, "log");
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, k->log_prefix);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, LOG_WARNING);
	}
	e = expr(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, k->accept ? NF_ACCEPT :
	    NF_DROP);
	/* The counter's name as the comment: `nft list` ties them together. */
	if ((ud = nftnl_udata_buf_alloc(256)) != NULL) {
		if (nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, counter))
			nftnl_rule_set_data(r, NFTNL_RULE_USERDATA,
			    nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	return r;
}

static int
put_rule(struct fw_batch *b, const struct fw_ruleset *rs,
    const struct fw_krule *k, uint32_t seq)
{
	struct nftnl_rule *r;
	struct nlmsghdr	*nlh;
	char		*p;

	if ((p = msg_room(b)) == NULL || (r = fw_rule_build(rs, k)) == NULL)
		return -1;
	nlh = nftnl_rule_nlmsg_build_hdr(p, NFT_MSG_NEWRULE, NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_APPEND, seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return msg_done(b, nlh, "rule", rs->counters[k->counter], k->file,
	    k->line);
}

/* The ban elements that belong to set name. */
static int
put_bans(struct fw_batch *b, const char *name, int family,
    const struct fw_elem *elems, size_t n, uint32_t *seq)
{
	struct fw_elem	 chunk[ELEMS_PER_MSG];
	size_t		 i, k = 0;

	for (i = 0; i <= n; i++) {
		if (k == ELEMS_PER_MSG || (i == n && k > 0)) {
			if (put_elems(b, name, NFT_MSG_NEWSETELEM, chunk, k,
			    (*seq)++) == -1)
				return -1;
			k = 0;
		}
		if (i < n && elems[i].family == family)
			chunk[k++] = elems[i];
	}
	return 0;
}

int
fw_batch_build(const struct fw_ruleset *rs, uint32_t seq, uint32_t genid,
    const struct fw_elem *elems, size_t nelems, struct fw_batch *b,
    char *err, size_t errlen)
{
	size_t	 i;

	memset(b, 0, sizeof(*b));
	if (batch_begin(b, seq++, genid) == -1 ||
	    put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, seq++) == -1 ||
	    put_table(b, NFT_MSG_DELTABLE, 0, seq++) == -1 ||
	    put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, seq++) == -1)
		goto fail;
	for (i = 0; i < rs->ncounters; i++)
		if (put_counter(b, rs->counters[i], seq++) == -1)
			goto fail;
	for (i = 0; i < rs->nsets; i++)
		if (put_set(b, &rs->sets[i], (uint32_t)i + 1, seq++) == -1)
			goto fail;
	if (put_bans(b, FWD_BAN4, AF_INET, elems, nelems, &seq) == -1 ||
	    put_bans(b, FWD_BAN6, AF_INET6, elems, nelems, &seq) == -1 ||
	    put_chain(b, seq++) == -1)
		goto fail;
	for (i = 0; i < rs->nrules; i++)
		if (put_rule(b, rs, &rs->rules[i], seq++) == -1)
			goto fail;
	if (batch_end(b, seq) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "batch: %s", errno == ENOBUFS ?
	    "larger than 256 MiB" : "out of memory");
	fw_batch_free(b);
	return -1;
}

int
fw_batch_elem(const char *set, const struct fw_elem *e, bool add,
    uint32_t seq, struct fw_batch *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	if (batch_begin(b, seq++, 0) == -1 ||
	    put_elems(b, set, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
	    e, 1, seq++) == -1 || batch_end(b, seq) == -1) {
		snprintf(err, errlen, "batch: out of memory");
		fw_batch_free(b);
		return -1;
	}
	return 0;
}
