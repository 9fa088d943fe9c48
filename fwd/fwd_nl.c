/* fwd_nl — the netlink side: send a batch and map its errors back to the
 * policy, read the generation id, dump counters and set elements.
 *
 * Calls are synchronous. The kernel handles a batch inside sendmsg and has
 * queued every reply by the time it returns, and dumps of one table are
 * short, so the event loop is held for milliseconds at most. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fwd.h"
#include "log.h"

#ifndef ERESTART
#define ERESTART 85
#endif

struct fw_nl {
	struct mnl_socket *sock;
	uint32_t	 portid;
	uint32_t	 seq;
	uint32_t	 commit_genid;	/* NEWGEN echoed for the last batch */
};

struct fw_nl *
fw_nl_open(char *err, size_t errlen)
{
	struct fw_nl	*nl;
	int		 one = 1;

	if ((nl = calloc(1, sizeof(*nl))) == NULL) {
		snprintf(err, errlen, "netlink: out of memory");
		return NULL;
	}
	if ((nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		fw_nl_close(nl);
		return NULL;
	}
	/* Errors without a copy of the message: smaller replies. */
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return nl;
}

void
fw_nl_close(struct fw_nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	free(nl);
}

uint32_t
fw_nl_portid(const struct fw_nl *nl)
{
	return nl->portid;
}

/* Reserve n consecutive sequence numbers; returns the first. */
uint32_t
fw_nl_seq(struct fw_nl *nl, uint32_t n)
{
	uint32_t first = nl->seq;

	nl->seq += n;
	return first;
}

/* One request, replies through cb until the ACK or the end of a dump. */
static int
talk(struct fw_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg,
    const char *what, char *err, size_t errlen)
{
	char	 buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t	 n;
	int	 rc;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
		snprintf(err, errlen, "%s: send: %s", what, strerror(errno));
		return -1;
	}
	do {
		if ((n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf))) < 0) {
			snprintf(err, errlen, "%s: receive: %s", what,
			    strerror(errno));
			return -1;
		}
		rc = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, nl->portid, cb,
		    arg);
	} while (rc > MNL_CB_STOP);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

/* A request of type (one of the GETs below) for family inet, flags, a
 * fresh sequence number and o's payload, o freed; replies through cb as
 * talk() does. */
static int
get(struct fw_nl *nl, uint16_t type, uint16_t flags, void *o, mnl_cb_t cb,
    void *arg, const char *what, char *err, size_t errlen)
{
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr	*nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags,
	    fw_nl_seq(nl, 1));
	switch (type) {
	case NFT_MSG_GETOBJ:
		nftnl_obj_nlmsg_build_payload(nlh, o);
		nftnl_obj_free(o);
		break;
	case NFT_MSG_GETSETELEM:
		nftnl_set_elems_nlmsg_build_payload(nlh, o);
		nftnl_set_free(o);
		break;
	case NFT_MSG_GETSET:
		nftnl_set_nlmsg_build_payload(nlh, o);
		nftnl_set_free(o);
		break;
	case NFT_MSG_GETTABLE:
		nftnl_table_nlmsg_build_payload(nlh, o);
		nftnl_table_free(o);
		break;
	case NFT_MSG_GETRULE:
		nftnl_rule_nlmsg_build_payload(nlh, o);
		nftnl_rule_free(o);
		break;
	default:
		fatalx("%s: message type %u", __func__, type);
	}
	return talk(nl, nlh, cb, arg, what, err, errlen);
}

static int
gen_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();

	if (gen == NULL)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
		*(uint32_t *)arg = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int
fw_nl_genid(struct fw_nl *nl, uint32_t *genid, char *err, size_t errlen)
{
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr	*nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
	    fw_nl_seq(nl, 1));
	*genid = 0;
	return talk(nl, nlh, gen_cb, genid, "generation id", err, errlen);
}

/* Why the batch failed, in the policy's words. */
static void
batch_error(const struct fw_batch *b, uint32_t seq, int error, char *err,
    size_t errlen)
{
	const struct fw_seqinfo *in = fw_batch_find(b, seq);

	if (error == ERESTART || error == EINTR)
		snprintf(err, errlen, "the ruleset changed while fwd was "
		    "applying (another tool?); nothing applied, try again");
	else if (in == NULL)
		snprintf(err, errlen, "netlink: %s", strerror(error));
	else if (in->file != NULL)
		snprintf(err, errlen, "%s:%d: %s %s: %s", in->file, in->line,
		    in->what, in->name, strerror(error));
	else
		snprintf(err, errlen, "%s %s: %s", in->what, in->name,
		    strerror(error));
}

int
fw_nl_send(struct fw_nl *nl, const struct fw_batch *b, char *err,
    size_t errlen)
{
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr	*nlh;
	struct nlmsgerr	*e;
	size_t		 len = buf_used(&b->buf);
	ssize_t		 n;
	int		 sndbuf = (int)len + 4096, fd = mnl_socket_get_fd(nl->sock);
	bool		 acked = false, failed = false;

	nl->commit_genid = 0;
	/* Unprivileged, the kernel caps this at net.core.wmem_max. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (mnl_socket_sendto(nl->sock, buf_head(&b->buf), len) < 0) {
		snprintf(err, errlen, "netlink: send %zu bytes: %s%s", len,
		    strerror(errno), errno == EMSGSIZE ? " (batch larger than "
		    "the socket buffer allows: raise net.core.wmem_max)" : "");
		return -1;
	}
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, (int)n);
		    nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			if (nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) |
			    NFT_MSG_NEWGEN)) {
				gen_cb(nlh, &nl->commit_genid);
				continue;
			}
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0) {
				acked |= nlh->nlmsg_seq == b->last_seq;
				continue;
			}
			if (!failed)	/* the first error is the cause */
				batch_error(b, nlh->nlmsg_seq, -e->error, err,
				    errlen);
			failed = true;
		}
	}
	if (n < 0 && errno != EAGAIN && !failed) {
		snprintf(err, errlen, "netlink: receive: %s", strerror(errno));
		return -1;
	}
	if (!failed && !acked) {
		snprintf(err, errlen, "netlink: no acknowledgement for the batch");
		return -1;
	}
	if (failed)
		nl->commit_genid = 0;
	return failed ? -1 : 0;
}

uint32_t
fw_nl_commit_genid(const struct fw_nl *nl)
{
	return nl->commit_genid;
}

struct counter_ctx {
	fw_counter_cb	 cb;
	void		*arg;
};

static int
obj_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct counter_ctx *c = arg;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (o == NULL)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER &&
	    strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), FWD_TABLE) == 0)
		c->cb(nftnl_obj_get_str(o, NFTNL_OBJ_NAME),
		    nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS),
		    nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES), c->arg);
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

int
fw_nl_counters(struct fw_nl *nl, fw_counter_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct counter_ctx c = { cb, arg };
	struct nftnl_obj *o;

	if ((o = nftnl_obj_alloc()) == NULL) {
		snprintf(err, errlen, "counters: out of memory");
		return -1;
	}
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, FWD_TABLE);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	return get(nl, NFT_MSG_GETOBJ, NLM_F_DUMP, o, obj_cb, &c, "counters",
	    err, errlen);
}

struct elem_ctx {
	const char	*set;
	fw_elem_cb	 cb;
	void		*arg;
};

static int
elem_one(struct nftnl_set_elem *se, void *arg)
{
	struct elem_ctx	*c = arg;
	struct fw_elem	 e;
	const void	*key;
	uint32_t	 len = 0;

	memset(&e, 0, sizeof(e));
	key = nftnl_set_elem_get(se, NFTNL_SET_ELEM_KEY, &len);
	if (key == NULL || (len != 4 && len != 16))
		return 0;
	e.family = len == 4 ? AF_INET : AF_INET6;
	memcpy(e.addr, key, len);
	if (nftnl_set_elem_is_set(se, NFTNL_SET_ELEM_TIMEOUT))
		e.timeout_ms = nftnl_set_elem_get_u64(se, NFTNL_SET_ELEM_TIMEOUT);
	c->cb(c->set, &e, nftnl_set_elem_is_set(se, NFTNL_SET_ELEM_EXPIRATION) ?
	    nftnl_set_elem_get_u64(se, NFTNL_SET_ELEM_EXPIRATION) : 0, c->arg);
	return 0;
}

static int
elems_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		nftnl_set_elem_foreach(s, elem_one, arg);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

int
fw_nl_elems(struct fw_nl *nl, const char *set, fw_elem_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct elem_ctx	 c = { set, cb, arg };
	struct nftnl_set *s;

	if ((s = nftnl_set_alloc()) == NULL) {
		snprintf(err, errlen, "set %s: out of memory", set);
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FWD_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	return get(nl, NFT_MSG_GETSETELEM, NLM_F_DUMP, s, elems_cb, &c, set,
	    err, errlen);
}

static int
table_cb(const struct nlmsghdr *nlh, void *arg)
{
	*(int *)arg = 1;
	return MNL_CB_OK;
}

int
fw_nl_table_exists(struct fw_nl *nl, char *err, size_t errlen)
{
	struct nftnl_table *t;
	int		 found = 0;

	if ((t = nftnl_table_alloc()) == NULL) {
		snprintf(err, errlen, "table: out of memory");
		return -1;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, FWD_TABLE);
	if (get(nl, NFT_MSG_GETTABLE, NLM_F_ACK, t, table_cb, &found, "table",
	    err, errlen) == -1)
		return errno == ENOENT ? 0 : -1;
	return found;
}

struct obj_ctx {
	fw_obj_cb	 cb;
	void		*arg;
	bool		 set;		/* else rule */
};

static int
dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct obj_ctx	*c = arg;
	struct nftnl_rule *r;
	struct nftnl_set *s;

	if (c->set) {
		if ((s = nftnl_set_alloc()) == NULL)
			return MNL_CB_ERROR;
		if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
		    strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), FWD_TABLE) == 0)
			c->cb(NULL, s, c->arg);
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	if ((r = nftnl_rule_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), FWD_TABLE) == 0 &&
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), FWD_CHAIN) == 0)
		c->cb(r, NULL, c->arg);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* Rules of chain inet stackd input, then the sets of the table. */
int
fw_nl_dump(struct fw_nl *nl, fw_obj_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct obj_ctx	 c = { cb, arg, false };
	struct nftnl_rule *r;
	struct nftnl_set *s;

	if ((r = nftnl_rule_alloc()) == NULL)
		goto nomem;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FWD_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, FWD_CHAIN);
	if (get(nl, NFT_MSG_GETRULE, NLM_F_DUMP, r, dump_cb, &c, "rules", err,
	    errlen) == -1)
		return -1;
	if ((s = nftnl_set_alloc()) == NULL)
		goto nomem;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FWD_TABLE);
	c.set = true;
	return get(nl, NFT_MSG_GETSET, NLM_F_DUMP, s, dump_cb, &c, "sets", err,
	    errlen);
nomem:
	snprintf(err, errlen, "dump: out of memory");
	return -1;
}
