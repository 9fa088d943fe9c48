/* fwd — the nftables firewall manager: private header.
 *
 * Three stages, each in its own file:
 *	fwd_policy.c	configuration tree -> struct fw_policy (pure)
 *	fwd_compile.c	fw_policy -> struct fw_ruleset, and nft text (pure)
 *	fwd_batch.c	fw_ruleset -> one nfnetlink batch (libnftnl, no I/O)
 *	fwd_nl.c	netlink socket: send, generation id, counters, sets
 *	fwd_monitor.c	nftables events: drift of our table, overruns
 *	fwd_drift.c	drift repair: re-apply when others change our table
 *	fwd_state.c	the ban list and its state file format (pure)
 *	fwd_bans.c	ban, unban, list; the state file read and written
 *	fwd_guard.c	would a ruleset lock out a current SSH session?
 *	fwd_confirm.c	apply with a confirm timer, confirm, rollback
 *	fwd_diff.c	fwctl diff: the live table against the policy
 *	fwd.c		the daemon (service callbacks, ctl commands)
 */
#ifndef STACKD_FWD_H
#define STACKD_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "conf.h"
#include "ev.h"
#include "net.h"
#include "service.h"

#define FWD_TABLE		"stackd"	/* table inet stackd */
#define FWD_CHAIN		"input"
#define FWD_NAME_MAX		32		/* group, service, set names */
#define FWD_MAX_GROUPS		1024
#define FWD_MAX_SERVICES	1024
#define FWD_MAX_SETS		64
#define FWD_MAX_ALLOWS		10000
#define FWD_MAX_ITEMS		4096		/* addresses or ports per block */
#define FWD_MAX_KRULES		100000		/* kernel rules after expansion */
#define FWD_BAN4		"ban_v4"	/* built-in sets fwctl ban fills */
#define FWD_BAN6		"ban_v6"
#define FWD_RATE_TIMEOUT_MS	60000		/* per-source rate state kept */
#define FWD_BANS_MAX		100000		/* bans fwd keeps */
#define FWD_MONITOR_BUFFER	(4 * 1024 * 1024)
#define FWD_STATE_FILE_MAX	(32 * 1024 * 1024)
#define FWD_STATE_LINES_MAX	(4 * FWD_BANS_MAX)	/* journal lines read */

struct fw_group {
	char		*name;
	struct net_cidr	*cidrs;
	size_t		 n;
};

struct fw_port {
	uint8_t		 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t	 lo, hi;	/* lo == hi: one port */
};

struct fw_service {
	char		*name;
	struct fw_port	*ports;
	size_t		 n;
};

struct fw_set {
	char		*name;
	int		 family;	/* AF_INET or AF_INET6 */
	bool		 timeout;	/* elements may carry a timeout */
	uint64_t	 timeout_ms;	/* default element timeout, 0: none */
};

enum fw_from { FW_FROM_ANY, FW_FROM_GROUP, FW_FROM_SET };

struct fw_allow {
	size_t		 service;	/* index in services */
	enum fw_from	 from;
	size_t		 src;		/* group or set index */
	uint32_t	 rate;		/* packets per rate_unit per source */
	uint32_t	 rate_unit;	/* seconds; 0: no limit */
	bool		 log;
	char		*file;
	int		 line;
};

struct fw_policy {
	struct service_conf svc;
	char		*log_drops;	/* prefix, NULL: drops not logged */
	struct fw_group	*groups;
	size_t		 ngroups;
	struct fw_service *services;
	size_t		 nservices;
	struct fw_set	*sets;
	size_t		 nsets;
	struct fw_allow	*allows;
	size_t		 nallows;
	char		*state_file;	/* bans kept here, or NULL */
	uint64_t	 monitor_buffer;	/* SO_RCVBUF of the monitor, 0:
					 * FWD_MONITOR_BUFFER */
	unsigned	 refs;		/* the service's, fwd's running one */
};

/* conf_load of the service: NULL with errors in ctx. */
void		*fw_policy_load(const struct conf_stmt *root, struct conf_ctx *);
/* Drops one reference; the last frees. */
void		 fw_policy_free(void *);
struct fw_policy *fw_policy_ref(struct fw_policy *);
ssize_t		 fw_policy_set_index(const struct fw_policy *, const char *);

/* One rule of the input chain, as both the text and the batch print it. */
enum fw_krule_kind {
	KR_CT_ESTABLISHED,	/* ct state established,related */
	KR_CT_INVALID,		/* ct state invalid */
	KR_LOOPBACK,		/* iif lo */
	KR_MATCH,		/* the fields below */
};

struct fw_krule {
	enum fw_krule_kind kind;
	size_t		 counter;	/* index in fw_ruleset.counters */
	int		 family;	/* 0, AF_INET or AF_INET6 */
	bool		 has_cidr;
	struct net_cidr	 cidr;
	const char	*set;		/* ip saddr @set, or NULL */
	uint8_t		 l4proto;	/* 0: any */
	bool		 has_port;
	uint16_t	 port_lo, port_hi;
	int		 icmp_type;	/* -1: none */
	const char	*rate_set;	/* per-source meter set, or NULL */
	uint32_t	 rate, rate_unit;
	const char	*log_prefix;	/* NULL: no log */
	bool		 accept;	/* else drop */
	const char	*file;		/* policy line it came from */
	int		 line;
};

/* A named set the table holds (user sets, ban sets, rate meters). */
struct fw_kset {
	char		*name;
	int		 family;
	bool		 timeout;
	uint64_t	 timeout_ms;
	bool		 dynamic;	/* a meter filled by the rules */
	const char	*file;
	int		 line;
};

struct fw_ruleset {
	char		**counters;	/* named counter objects, rule names */
	size_t		 ncounters;
	struct fw_kset	*sets;
	size_t		 nsets;
	struct fw_krule	*rules;
	size_t		 nrules;
};

/* Expand the policy; -1 with err (too many rules, out of memory). */
int		 fw_compile(const struct fw_policy *, struct fw_ruleset *,
		    char *err, size_t errlen);
void		 fw_ruleset_free(struct fw_ruleset *);
/* The table in nft syntax, as `nft -f` takes it. -1 when out is full. */
int		 fw_ruleset_nft(const struct fw_ruleset *, struct buf *out);

/* fwd_guard.c: does rs accept a new TCP connection from addr to port?
 * in_set says whether addr is in a named set. */
typedef bool	 (*fw_in_set_cb)(const char *set, int family,
		    const uint8_t *addr, void *arg);
bool		 fw_ruleset_admits(const struct fw_ruleset *, int family,
		    const uint8_t *addr, uint16_t port, fw_in_set_cb, void *arg);
/* The remote address of each established TCP connection to a local port
 * from lo to hi (text of /proc/net/tcp or tcp6; fw_ssh_peers reads both,
 * for each range of ports). */
typedef void	 (*fw_peer_cb)(int family, const uint8_t *addr,
		    uint16_t local_port, void *arg);
void		 fw_proc_tcp_parse(const char *text, int family,
		    uint16_t port_lo, uint16_t port_hi, fw_peer_cb, void *arg);
int		 fw_ssh_peers(const struct fw_port *, size_t nports, fw_peer_cb,
		    void *arg);
/* The tcp ports of p's service named ssh appended to out[n..max). */
size_t		 fw_ssh_ports(const struct fw_policy *p, struct fw_port *out,
		    size_t n, size_t max);

/* A set element the apply restores (a ban still running). */
struct fw_elem {
	int		 family;
	uint8_t		 addr[16];
	uint64_t	 timeout_ms;	/* 0: none */
};

/* A ban fwd keeps (fwd_state.c): until_ms is wall-clock, 0 never. */
struct fw_ban {
	struct fw_elem	 e;		/* e.timeout_ms unused */
	uint64_t	 until_ms;
};

struct fw_bans {
	struct fw_ban	*v;
	size_t		 n, vcap;
	uint32_t	*idx;		/* hash index of v (fwd_state.c) */
	size_t		 cap;		/* slots in idx, a power of two */
};

int		 fw_parse_addr(const char *, struct fw_elem *);
ssize_t		 fw_bans_find(const struct fw_bans *, const struct fw_elem *);
/* Add, or replace the ban of the same address; -1 when full. */
int		 fw_bans_put(struct fw_bans *, const struct fw_ban *);
bool		 fw_bans_del(struct fw_bans *, const struct fw_elem *);
/* Drops the bans expired by now_ms; returns how many. */
size_t		 fw_bans_prune(struct fw_bans *, uint64_t now_ms);
void		 fw_bans_free(struct fw_bans *);
/* State file text into out (bans expired by now_ms dropped); returns the
 * number of bad lines, each reported to bad (may be NULL). */
typedef void	 (*fw_state_bad_cb)(unsigned line, const char *why, void *arg);
unsigned	 fw_state_parse(const char *text, size_t len, uint64_t now_ms,
		    struct fw_bans *out, fw_state_bad_cb bad, void *arg);
int		 fw_state_format(const struct fw_bans *, struct buf *out);
/* One journal line: "ban ..." (add) or "unban ADDRESS". -1 when full. */
int		 fw_state_line(const struct fw_ban *, bool add, struct buf *out);

/* What each message of a batch is about, by sequence number. */
struct fw_seqinfo {
	uint32_t	 seq;
	const char	*what;		/* "rule", "set", "counter", "table" */
	const char	*name;		/* set or counter name, or NULL */
	const char	*file;
	int		 line;
};

struct fw_batch {
	struct buf	 buf;		/* the whole batch, begin to end */
	struct fw_seqinfo *info;
	size_t		 ninfo;
	uint32_t	 last_seq;	/* the one message asked to ack */
};

/* Build the replace-the-table batch; genid 0 skips the generation check.
 * elems go into the ban sets. -1 with err. */
int		 fw_batch_build(const struct fw_ruleset *, uint32_t seq0,
		    uint32_t genid, const struct fw_elem *elems, size_t nelems,
		    struct fw_batch *, char *err, size_t errlen);
/* One set element added or deleted, in a batch of its own. */
int		 fw_batch_elem(const char *set, const struct fw_elem *, bool add,
		    uint32_t seq0, struct fw_batch *, char *err, size_t errlen);
void		 fw_batch_free(struct fw_batch *);
/* One rule as the batch sends it (fwd_diff compares with the kernel's). */
struct nftnl_rule;
struct nftnl_rule *fw_rule_build(const struct fw_ruleset *,
		    const struct fw_krule *);
const struct fw_seqinfo *fw_batch_find(const struct fw_batch *, uint32_t seq);

/* Netlink (fwd_nl.c). */
struct fw_nl;
struct fw_nl	*fw_nl_open(char *err, size_t errlen);
void		 fw_nl_close(struct fw_nl *);
uint32_t	 fw_nl_seq(struct fw_nl *, uint32_t n);
int		 fw_nl_genid(struct fw_nl *, uint32_t *genid, char *err,
		    size_t errlen);
/* Send a batch; -1 with err naming the policy line of the first error. */
int		 fw_nl_send(struct fw_nl *, const struct fw_batch *, char *err,
		    size_t errlen);
/* The generation the last batch's commit produced (the kernel echoes it),
 * 0 if none came. */
uint32_t	 fw_nl_commit_genid(const struct fw_nl *);
typedef void	 (*fw_counter_cb)(const char *name, uint64_t pkts,
		    uint64_t bytes, void *arg);
int		 fw_nl_counters(struct fw_nl *, fw_counter_cb, void *arg,
		    char *err, size_t errlen);
typedef void	 (*fw_elem_cb)(const char *set, const struct fw_elem *,
		    uint64_t expires_ms, void *arg);
int		 fw_nl_elems(struct fw_nl *, const char *set, fw_elem_cb,
		    void *arg, char *err, size_t errlen);
/* Does table inet stackd exist? 1 yes, 0 no, -1 error. */
int		 fw_nl_table_exists(struct fw_nl *, char *err, size_t errlen);
/* The live rules of chain input (rule set) and sets of the table (set
 * set), each once to cb; the objects are freed after the call. */
struct nftnl_set;
typedef void	 (*fw_obj_cb)(struct nftnl_rule *, struct nftnl_set *,
		    void *arg);
int		 fw_nl_dump(struct fw_nl *, fw_obj_cb, void *arg, char *err,
		    size_t errlen);
/* The socket's netlink portid: the kernel stamps events with it. */
uint32_t	 fw_nl_portid(const struct fw_nl *);

/* Monitor (fwd_monitor.c): events on table inet stackd not caused by the
 * socket of portid own are drift; events on other tables are OTHER (fwd
 * leaves them alone); OVERRUN when the kernel dropped events. */
/* FW_MON_RESUMED: events were off while fwd applied (fw_mon_deaf):
 * compare generations as after an overrun. */
enum fw_mon_event { FW_MON_DRIFT, FW_MON_OTHER, FW_MON_OVERRUN,
	FW_MON_RESUMED };
typedef void	 (*fw_mon_cb)(enum fw_mon_event, const char *what,
		    uint32_t portid, void *arg);
struct ev_loop;
struct fw_mon;
struct fw_mon	*fw_mon_open(struct ev_loop *, uint32_t own, fw_mon_cb,
		    void *arg, char *err, size_t errlen);
void		 fw_mon_close(struct fw_mon *);
/* The receive buffer (monitor-buffer); the kernel caps it at
 * net.core.rmem_max and doubles it. */
void		 fw_mon_buffer(struct fw_mon *, uint64_t bytes);
/* Leave the event group while fwd's own big batch commits (the kernel
 * then builds no event per rule and element: a third of an apply's
 * time), and join again after it, reporting FW_MON_RESUMED. */
void		 fw_mon_deaf(struct fw_mon *, bool deaf);

/* The daemon's runtime state (fwd.c, fwd_drift.c). */
struct fwd {
	struct service	*svc;
	struct fw_nl	*nl;
	struct fw_mon	*mon;
	struct fw_policy *policy;	/* in force (a reference) */
	struct fw_policy *prev;		/* to restore unless confirmed */
	bool		 keep_prev;	/* next apply keeps the old in prev */
	bool		 guard;		/* next apply checks SSH sessions */
	bool		 force;		/* apply --force: next reload doesn't */
	struct ev_timer	 confirm;	/* rollback when it fires */
	uint64_t	 confirm_at;	/* ev_now of the deadline */
	uint64_t	 rollbacks;
	struct fw_ruleset rs;		/* what the kernel holds */
	uint64_t	*last_pkts;	/* per rs counter, as last read */
	uint64_t	*last_bytes;
	size_t		 counter_hint;	/* where the next counter likely is */
	struct metric	*m_pkts, *m_bytes;
	uint64_t	 applies, failures;
	uint32_t	 own_genid;	/* generation after fwd's last commit */
	struct ev_timer	 resync;	/* drift seen: re-apply soon */
	bool		 drifted;	/* foreign change seen: re-apply */
	bool		 overrun;	/* events lost: compare generations */
	bool		 lost;		/* ENOBUFS seen (logged once) */
	uint64_t	 drift_events, drift_repairs, drift_failures;
	uint64_t	 other_events, overruns;
	struct fw_bans	 bans;		/* what fwctl ban asked for */
	bool		 elems_unknown;	/* the ban sets may hold elements
					 * bans lacks: read them back */
	uint64_t	 ban_us_last;	/* build + send + ack of the last */
	struct ev_timer	 save;		/* state file written after the reply */
	bool		 save_init;
	struct buf	 journal;	/* state file lines not yet appended */
	size_t		 journal_queued;	/* lines in journal */
	size_t		 journal_lines;	/* lines in the file */
	char		*journal_path;	/* the file they go to; NULL: write
					 * it whole next */
	uint64_t	 save_failures;
};

/* Apply policy p (fwd.c), which becomes fw->policy. On failure the
 * kernel, fw->rs and fw->policy are unchanged. */
int		 fwd_apply(struct fwd *, struct fw_policy *, char *err,
		    size_t errlen);
/* Remember the generation fwd's own commit produced. */
void		 fwd_note_genid(struct fwd *);
int		 fwd_drift_start(struct fwd *, char *err, size_t errlen);
void		 fwd_drift_stop(struct fwd *);
void		 fwd_drift_status(struct fwd *, struct ctl_conn *);

/* fwd_bans.c: load the state file at start; the elements an apply puts in
 * the ban sets (the kernel's, plus fwd's own a deleted table lost; caller
 * frees *out); the ctl commands. */
void		 fwd_bans_load(struct fwd *, const struct fw_policy *);
int		 fwd_bans_elems(struct fwd *, struct fw_elem **out, size_t *n,
		    size_t *missing, char *err, size_t errlen);
void		 fwd_bans_status(struct fwd *, struct ctl_conn *);
void		 fwd_bans_stop(struct fwd *);
void		 fwd_cmd_ban(struct ctl_conn *, int, char **, void *);
void		 fwd_cmd_unban(struct ctl_conn *, int, char **, void *);
void		 fwd_cmd_list(struct ctl_conn *, int, char **, void *);

/* fwd_confirm.c: apply --confirm-within, confirm, the SSH guard. */
void		 fwd_confirm_init(struct fwd *);
void		 fwd_confirm_stop(struct fwd *);
bool		 fwd_confirm_pending(const struct fwd *);
int		 fwd_guard_check(struct fwd *, const struct fw_policy *,
		    const struct fw_ruleset *, char *err, size_t errlen);
void		 fwd_confirm_status(struct fwd *, struct ctl_conn *);
void		 fwd_cmd_apply(struct ctl_conn *, int, char **, void *);
void		 fwd_cmd_confirm(struct ctl_conn *, int, char **, void *);
void		 fwd_cmd_diff(struct ctl_conn *, int, char **, void *);
/* Does the live table hold fw->rs and every ban of fw->bans? 1 yes, 0 no
 * (why says what differs), -1 error (in why). */
int		 fwd_table_matches(struct fwd *, char *why, size_t whylen);

#endif
