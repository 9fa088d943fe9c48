/* dbr_gtid — GTID positions: parse, compare per domain, order failover
 * candidates (see dbr_gtid.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dbr_gtid.h"

/* One unsigned decimal number at *sp, at most max; advances *sp. */
static int
parse_num(const char **sp, uint64_t max, uint64_t *out)
{
	const char	*s = *sp;
	char		*end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || v > max)
		return -1;
	*out = v;
	*sp = end;
	return 0;
}

static void
skip_space(const char **sp)
{
	while (**sp == ' ' || **sp == '\t' || **sp == '\n')
		(*sp)++;
}

int
dbr_gtid_parse(const char *s, struct dbr_gtid_pos *out)
{
	uint64_t	 dom, srv, seq;
	int		 i;

	out->n = 0;
	skip_space(&s);
	if (*s == '\0')
		return 0;
	for (;;) {
		skip_space(&s);
		if (parse_num(&s, UINT32_MAX, &dom) == -1 || *s++ != '-' ||
		    parse_num(&s, UINT32_MAX, &srv) == -1 || *s++ != '-' ||
		    parse_num(&s, UINT64_MAX, &seq) == -1)
			return -1;
		for (i = 0; i < out->n; i++)
			if (out->g[i].domain == dom)
				return -1;
		if (out->n == DBR_GTID_DOMAINS)
			return -1;
		out->g[out->n].domain = (uint32_t)dom;
		out->g[out->n].server = (uint32_t)srv;
		out->g[out->n].seq = seq;
		out->n++;
		skip_space(&s);
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

uint64_t
dbr_gtid_seq(const struct dbr_gtid_pos *p, uint32_t domain)
{
	int	 i;

	for (i = 0; i < p->n; i++)
		if (p->g[i].domain == domain)
			return p->g[i].seq;
	return 0;
}

/* Does b have a domain where it is ahead of a? */
static bool
has_more(const struct dbr_gtid_pos *b, const struct dbr_gtid_pos *a)
{
	int	 i;

	for (i = 0; i < b->n; i++)
		if (b->g[i].seq > dbr_gtid_seq(a, b->g[i].domain))
			return true;
	return false;
}

enum dbr_gtid_rel
dbr_gtid_cmp(const struct dbr_gtid_pos *a, const struct dbr_gtid_pos *b)
{
	bool	 a_more = has_more(a, b), b_more = has_more(b, a);

	if (a_more && b_more)
		return GTID_DIVERGED;
	if (a_more)
		return GTID_AHEAD;
	return b_more ? GTID_BEHIND : GTID_EQUAL;
}

bool
dbr_gtid_includes(const struct dbr_gtid_pos *a, const struct dbr_gtid_pos *b)
{
	return !has_more(b, a);
}

bool
dbr_gtid_str_includes(const char *a, const char *b)
{
	struct dbr_gtid_pos pa, pb;

	if (dbr_gtid_parse(a, &pa) == -1 || dbr_gtid_parse(b, &pb) == -1)
		return false;
	return dbr_gtid_includes(&pa, &pb);
}

/* The sum of the sequence numbers, saturating. */
static uint64_t
seq_sum(const struct dbr_gtid_pos *p)
{
	uint64_t	 sum = 0;
	int		 i;

	for (i = 0; i < p->n; i++)
		sum = p->g[i].seq > UINT64_MAX - sum ? UINT64_MAX :
		    sum + p->g[i].seq;
	return sum;
}

int
dbr_gtid_order(const struct dbr_gtid_pos *a, const struct dbr_gtid_pos *b)
{
	uint64_t	 sa, sb;

	switch (dbr_gtid_cmp(a, b)) {
	case GTID_EQUAL:
		return 0;
	case GTID_AHEAD:
		return 1;
	case GTID_BEHIND:
		return -1;
	case GTID_DIVERGED:
		break;
	}
	sa = seq_sum(a);
	sb = seq_sum(b);
	return sa > sb ? 1 : sa < sb ? -1 : 0;
}

/* A candidate's two positions; -1 when either does not parse. */
static int
cand_parse(const struct dbr_cand *c, struct dbr_gtid_pos *io,
    struct dbr_gtid_pos *cur)
{
	if (c->io_pos == NULL || c->current_pos == NULL ||
	    dbr_gtid_parse(c->io_pos, io) == -1 ||
	    dbr_gtid_parse(c->current_pos, cur) == -1)
		return -1;
	return 0;
}

int
dbr_cand_cmp(const struct dbr_cand *a, const struct dbr_cand *b)
{
	struct dbr_gtid_pos aio, acur, bio, bcur;
	int		 abad, bbad, o;

	abad = cand_parse(a, &aio, &acur);
	bbad = cand_parse(b, &bio, &bcur);
	if (abad || bbad)
		return abad - bbad;	/* -1 when only a is bad */
	if ((o = dbr_gtid_order(&aio, &bio)) != 0)
		return o;
	return dbr_gtid_order(&acur, &bcur);
}

int
dbr_cand_best(const struct dbr_cand *c, int n)
{
	struct dbr_gtid_pos io, cur;
	int		 i, best = -1;

	for (i = 0; i < n; i++) {
		if (cand_parse(&c[i], &io, &cur) == -1)
			continue;
		if (best == -1 || dbr_cand_cmp(&c[i], &c[best]) > 0)
			best = i;
	}
	return best;
}
