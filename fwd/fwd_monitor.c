/* fwd_monitor — nftables monitor events on a second netlink socket (group
 * NFNLGRP_NFTABLES) in the event loop, sorted into "our table changed by
 * someone else" (drift), "not ours" and "events lost" (overrun).
 *
 * Whose change: the kernel stamps each event with the netlink portid of the
 * socket whose batch caused it, so fwd's own applies and bans (sent from
 * the fw_nl socket, portid own) are told apart without any timing guess. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ev.h"
#include "log.h"
#include "fwd.h"

struct fw_mon {
	struct ev_loop	*loop;
	struct mnl_socket *sock;
	uint32_t	 own;		/* portid of fwd's command socket */
	uint64_t	 rcvbuf;	/* as last set */
	fw_mon_cb	 cb;
	void		*arg;
};

static const char *const msg_names[] = {
	[NFT_MSG_NEWTABLE] = "new table", [NFT_MSG_DELTABLE] = "delete table",
	[NFT_MSG_NEWCHAIN] = "new chain", [NFT_MSG_DELCHAIN] = "delete chain",
	[NFT_MSG_NEWRULE] = "new rule", [NFT_MSG_DELRULE] = "delete rule",
	[NFT_MSG_NEWSET] = "new set", [NFT_MSG_DELSET] = "delete set",
	[NFT_MSG_NEWSETELEM] = "new element",
	[NFT_MSG_DELSETELEM] = "delete element",
	[NFT_MSG_NEWOBJ] = "new object", [NFT_MSG_DELOBJ] = "delete object",
	[NFT_MSG_NEWFLOWTABLE] = "new flowtable",
	[NFT_MSG_DELFLOWTABLE] = "delete flowtable",
};

/* Attribute 1 names the table in every object message (NFTA_TABLE_NAME,
 * NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, ..._LIST_TABLE,
 * NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE all equal 1). */
static int
table_attr(const struct nlattr *a, void *arg)
{
	if (mnl_attr_get_type(a) == 1 &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*(const char **)arg = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int
event_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fw_mon	*m = arg;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char	*table = NULL, *what;
	uint16_t	 type = NFNL_MSG_TYPE(nlh->nlmsg_type);

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    type == NFT_MSG_NEWGEN || type == NFT_MSG_TRACE ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*g))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*g), table_attr, &table);
	what = type < sizeof(msg_names) / sizeof(msg_names[0]) &&
	    msg_names[type] != NULL ? msg_names[type] : "change";
	if (g->nfgen_family != NFPROTO_INET || table == NULL ||
	    strcmp(table, FWD_TABLE) != 0)
		m->cb(FW_MON_OTHER, what, nlh->nlmsg_pid, m->arg);
	else if (nlh->nlmsg_pid != m->own)
		m->cb(FW_MON_DRIFT, what, nlh->nlmsg_pid, m->arg);
	return MNL_CB_OK;
}

static void
mon_read(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct fw_mon	*m = arg;
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t		 n;
	int		 e;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n > 0) {
			mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, m);
			continue;
		}
		if ((e = errno) == EINTR)
			continue;
		if (e != ENOBUFS) {
			if (e != EAGAIN)
				log_warn("%s: netlink monitor", __func__);
			break;
		}
		/* The kernel dropped events; read on what is still queued. */
		m->cb(FW_MON_OVERRUN, "events lost", 0, m->arg);
	}
}

void
fw_mon_deaf(struct fw_mon *m, bool deaf)
{
	int	 group = NFNLGRP_NFTABLES;

	if (m == NULL)
		return;
	if (setsockopt(mnl_socket_get_fd(m->sock), SOL_NETLINK, deaf ?
	    NETLINK_DROP_MEMBERSHIP : NETLINK_ADD_MEMBERSHIP, &group,
	    sizeof(group)) == -1) {
		log_warn("%s: netlink monitor membership", __func__);
		return;
	}
	if (!deaf)
		m->cb(FW_MON_RESUMED, "events back on", 0, m->arg);
}

struct fw_mon *
fw_mon_open(struct ev_loop *loop, uint32_t own, fw_mon_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct fw_mon	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "monitor: out of memory");
		return NULL;
	}
	*m = (struct fw_mon){ loop, NULL, own, 0, cb, arg };
	if ((m->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) == NULL ||
	    mnl_socket_bind(m->sock, 1U << (NFNLGRP_NFTABLES - 1),
	    MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "monitor socket: %s", strerror(errno));
		goto fail;
	}
	/* A big apply sends an event per rule and element: room for most. */
	fw_mon_buffer(m, FWD_MONITOR_BUFFER);
	if (ev_fd_add(loop, mnl_socket_get_fd(m->sock), EV_READ, mon_read,
	    m) == -1) {
		snprintf(err, errlen, "monitor: event loop: %s", strerror(errno));
		goto fail;
	}
	return m;
fail:
	if (m->sock != NULL)
		mnl_socket_close(m->sock);
	free(m);
	return NULL;
}

void
fw_mon_buffer(struct fw_mon *m, uint64_t bytes)
{
	int	 sz = (int)bytes;

	if (m == NULL || bytes == m->rcvbuf)
		return;
	if (setsockopt(mnl_socket_get_fd(m->sock), SOL_SOCKET, SO_RCVBUF, &sz,
	    sizeof(sz)) == -1)
		log_warn("%s: monitor-buffer %llu", __func__,
		    (unsigned long long)bytes);
	m->rcvbuf = bytes;
}

void
fw_mon_close(struct fw_mon *m)
{
	if (m == NULL)
		return;
	ev_fd_del(m->loop, mnl_socket_get_fd(m->sock));
	mnl_socket_close(m->sock);
	free(m);
}
