/* dbr_gtid — MariaDB GTID positions and the order of failover candidates.
 * Pure (no server, no event loop): the unit suite tests it directly.
 *
 * A position is what @@gtid_current_pos, @@gtid_slave_pos,
 * @@gtid_binlog_pos and SHOW SLAVE STATUS's Gtid_IO_Pos say: a comma list
 * of domain-server-seqno, at most one entry per replication domain
 * ("0-1-42,1-3-7"; "" is the empty position). Positions are compared per
 * domain by sequence number; a domain a position lacks counts as 0. */
#ifndef DBR_GTID_H
#define DBR_GTID_H

#include <stdbool.h>
#include <stdint.h>

#define DBR_GTID_DOMAINS	32

struct dbr_gtid {
	uint32_t	 domain;
	uint32_t	 server;
	uint64_t	 seq;
};

struct dbr_gtid_pos {
	int		 n;
	struct dbr_gtid	 g[DBR_GTID_DOMAINS];
};

/* How position a stands to position b. */
enum dbr_gtid_rel {
	GTID_EQUAL,	/* the same sequence number in every domain */
	GTID_BEHIND,	/* a lacks something b has, and has nothing b lacks */
	GTID_AHEAD,	/* a has everything b has, and more */
	GTID_DIVERGED	/* each has something the other lacks */
};

/* 0, or -1 when s is not a position (bad syntax, a domain twice, more
 * than DBR_GTID_DOMAINS domains). Spaces around entries are allowed. */
int		 dbr_gtid_parse(const char *s, struct dbr_gtid_pos *out);
/* The sequence number of domain in p, 0 when p lacks it. */
uint64_t	 dbr_gtid_seq(const struct dbr_gtid_pos *p, uint32_t domain);
enum dbr_gtid_rel dbr_gtid_cmp(const struct dbr_gtid_pos *a,
		    const struct dbr_gtid_pos *b);
/* a has every transaction b has (EQUAL or AHEAD). */
bool		 dbr_gtid_includes(const struct dbr_gtid_pos *a,
		    const struct dbr_gtid_pos *b);
/* A total order for choosing: the sign of (a - b) where a position that
 * includes the other is greater, and diverged ones are ordered by their
 * sum of sequence numbers (the one with more transactions first). */
int		 dbr_gtid_order(const struct dbr_gtid_pos *a,
		    const struct dbr_gtid_pos *b);
/* The text strings form: dbr_gtid_includes on parsed positions, false
 * when either does not parse. */
bool		 dbr_gtid_str_includes(const char *a, const char *b);

/* A failover candidate as its survey saw it. */
struct dbr_cand {
	const char	*name;
	const char	*io_pos;	/* Gtid_IO_Pos: what it received */
	const char	*current_pos;	/* @@gtid_current_pos: applied */
};

/* MaxScale's order: the candidate that received more (Gtid_IO_Pos) is
 * better; on a tie, the one that applied more (@@gtid_current_pos).
 * > 0 when a is better than b, < 0 when worse, 0 when as good. A
 * candidate whose positions do not parse is worse than any other. */
int		 dbr_cand_cmp(const struct dbr_cand *a, const struct dbr_cand *b);
/* The index of the best of n candidates (the first of equals: config
 * order decides ties), or -1 when none has positions that parse. */
int		 dbr_cand_best(const struct dbr_cand *c, int n);

#endif
