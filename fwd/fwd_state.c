/* fwd_state — the ban list fwd keeps beside the kernel's sets (indexed by
 * address: a ban is O(1) with 100,000 held), and its state file format
 * (state-file in fwd.conf(5)), one change a line:
 *
 *	# comment
 *	ban ADDRESS [until UNIX-MILLISECONDS]
 *	unban ADDRESS
 *
 * The file is a journal: fwd appends a line per ban and unban and writes
 * it whole (compacted) at start and when it grows too long; the last line
 * for an address wins. Expiry is wall-clock so that it means the same
 * after a restart or a reboot. Pure: common/statefile.c reads, appends to
 * and replaces the file. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

#define STATE_LINE_MAX	256
#define UNBANNED	1	/* until_ms of an unban line: long expired */

static bool
same_addr(const struct fw_elem *a, const struct fw_elem *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr,
	    a->family == AF_INET ? 4 : 16) == 0;
}

/* The index: open addressing with linear probing over a power-of-two
 * table of positions in v (plus one; 0 is an empty slot), at most half
 * full. Lookup, insert and delete are O(1) whatever the number of bans. */
static size_t
addr_hash(const struct fw_elem *e)
{
	uint64_t	 a, b, h;

	memcpy(&a, e->addr, 8);
	memcpy(&b, e->addr + 8, 8);
	h = (a ^ (b * 0x9e3779b97f4a7c15ULL)) + (uint64_t)e->family;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (size_t)h;
}

/* The slot of e, or of the empty slot where it would go. */
static size_t
slot_of(const struct fw_bans *l, const struct fw_elem *e)
{
	size_t	 mask = l->cap - 1, i = addr_hash(e) & mask;

	while (l->idx[i] != 0 && !same_addr(&l->v[l->idx[i] - 1].e, e))
		i = (i + 1) & mask;
	return i;
}

/* Rebuild the index for n entries (after a sort, a prune, a growth). */
static int
reindex(struct fw_bans *l, size_t n)
{
	uint32_t	*idx;
	size_t		 cap = 16, i;

	while (cap < 2 * n)
		cap *= 2;
	if (cap != l->cap) {
		if ((idx = calloc(cap, sizeof(*idx))) == NULL)
			return -1;
		free(l->idx);
		l->idx = idx;
		l->cap = cap;
	} else
		memset(l->idx, 0, cap * sizeof(*l->idx));
	for (i = 0; i < l->n; i++)
		l->idx[slot_of(l, &l->v[i].e)] = (uint32_t)i + 1;
	return 0;
}

ssize_t
fw_bans_find(const struct fw_bans *l, const struct fw_elem *e)
{
	size_t	 i;

	if (l->cap == 0)
		return -1;
	i = slot_of(l, e);
	return l->idx[i] == 0 ? -1 : (ssize_t)l->idx[i] - 1;
}

/* Unindexed, for the state file's lines (sorted and indexed after). */
static int
append_raw(struct fw_bans *l, const struct fw_ban *b, size_t max)
{
	struct fw_ban	*v;
	size_t		 cap;

	if (l->n >= max)
		return -1;
	if (l->n == l->vcap) {
		cap = l->vcap < 64 ? 64 : l->vcap * 2;
		if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL)
			return -1;
		l->v = v;
		l->vcap = cap;
	}
	l->v[l->n++] = *b;
	return 0;
}

static int
append(struct fw_bans *l, const struct fw_ban *b)
{
	if (2 * (l->n + 1) > l->cap && reindex(l, l->n + 1) == -1)
		return -1;
	if (append_raw(l, b, FWD_BANS_MAX) == -1)
		return -1;
	l->idx[slot_of(l, &b->e)] = (uint32_t)l->n;
	return 0;
}

int
fw_bans_put(struct fw_bans *l, const struct fw_ban *b)
{
	ssize_t		 i = fw_bans_find(l, &b->e);

	if (i != -1) {
		l->v[i] = *b;
		return 0;
	}
	return append(l, b);
}

/* By address, then by line (numbered in e.timeout_ms, which the list
 * does not otherwise use): the last of equal addresses wins. */
static int
ban_cmp(const void *a, const void *b)
{
	const struct fw_ban *x = a, *y = b;
	int	 d;

	if (x->e.family != y->e.family)
		return x->e.family < y->e.family ? -1 : 1;
	if ((d = memcmp(x->e.addr, y->e.addr, sizeof(x->e.addr))) != 0)
		return d;
	return x->e.timeout_ms < y->e.timeout_ms ? -1 :
	    x->e.timeout_ms > y->e.timeout_ms;
}

/* A file of n lines is read in n log n, not n^2 (100,000 bans). */
static void
dedupe(struct fw_bans *l)
{
	size_t	 i, k = 0;

	if (l->n < 2)
		return;
	/* qsort is not stable: number the entries first. */
	for (i = 0; i < l->n; i++)
		l->v[i].e.timeout_ms = i;
	qsort(l->v, l->n, sizeof(*l->v), ban_cmp);
	for (i = 0; i < l->n; i++) {
		if (i + 1 < l->n && same_addr(&l->v[i].e, &l->v[i + 1].e))
			continue;	/* a later line for the address follows */
		l->v[k] = l->v[i];
		l->v[k++].e.timeout_ms = 0;
	}
	l->n = k;
}

/* After dedupe: drop what expired and what was unbanned, index the rest. */
static size_t
settle(struct fw_bans *l, uint64_t now_ms)
{
	size_t	 i, k = 0, over = 0;

	for (i = 0; i < l->n; i++)
		if (l->v[i].until_ms == 0 || l->v[i].until_ms > now_ms)
			l->v[k++] = l->v[i];
	if (k > FWD_BANS_MAX) {
		over = k - FWD_BANS_MAX;
		k = FWD_BANS_MAX;
	}
	l->n = k;
	if (reindex(l, l->n) == -1)
		l->n = 0;
	return over;
}

/* Linear probing's deletion: later entries of the probe run move back
 * into the hole, so no lookup stops early at it. */
static void
unindex(struct fw_bans *l, size_t hole)
{
	size_t	 mask = l->cap - 1, j = hole, home;

	l->idx[hole] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (l->idx[j] == 0)
			return;
		home = addr_hash(&l->v[l->idx[j] - 1].e) & mask;
		/* Stays if its home lies cyclically in (hole, j]. */
		if (hole <= j ? (hole < home && home <= j) :
		    (hole < home || home <= j))
			continue;
		l->idx[hole] = l->idx[j];
		l->idx[j] = 0;
		hole = j;
	}
}

/* Remove entry i: the last entry takes its place in v. */
static void
remove_at(struct fw_bans *l, size_t i)
{
	unindex(l, slot_of(l, &l->v[i].e));
	if (i != --l->n) {
		l->v[i] = l->v[l->n];
		l->idx[slot_of(l, &l->v[i].e)] = (uint32_t)i + 1;
	}
}

bool
fw_bans_del(struct fw_bans *l, const struct fw_elem *e)
{
	ssize_t	 i = fw_bans_find(l, e);

	if (i == -1)
		return false;
	remove_at(l, (size_t)i);
	return true;
}

size_t
fw_bans_prune(struct fw_bans *l, uint64_t now_ms)
{
	size_t	 i = 0, n = 0;

	while (i < l->n)
		if (l->v[i].until_ms != 0 && l->v[i].until_ms <= now_ms) {
			remove_at(l, i);
			n++;
		} else
			i++;
	return n;
}

void
fw_bans_free(struct fw_bans *l)
{
	free(l->v);
	free(l->idx);
	memset(l, 0, sizeof(*l));
}

int
fw_parse_addr(const char *s, struct fw_elem *e)
{
	memset(e, 0, sizeof(*e));
	if (inet_pton(AF_INET, s, e->addr) == 1)
		e->family = AF_INET;
	else if (inet_pton(AF_INET6, s, e->addr) == 1)
		e->family = AF_INET6;
	else
		return -1;
	return 0;
}

static int
parse_line(char *s, struct fw_ban *b, const char **why)
{
	char		*w[4], *end, *save = NULL;
	int		 n = 0;
	bool		 unban;

	while (n < 4 && (w[n] = strtok_r(n == 0 ? s : NULL, " \t", &save)))
		n++;
	memset(b, 0, sizeof(*b));
	*why = "expected \"ban ADDRESS [until UNIX-MILLISECONDS]\" or "
	    "\"unban ADDRESS\"";
	if (n < 2)
		return -1;
	unban = strcmp(w[0], "unban") == 0;
	if (unban ? n != 2 : strcmp(w[0], "ban") != 0 || (n != 2 && n != 4) ||
	    (n == 4 && strcmp(w[2], "until") != 0))
		return -1;
	if (fw_parse_addr(w[1], &b->e) == -1) {
		*why = "expected an IPv4 or IPv6 address";
		return -1;
	}
	if (unban)
		b->until_ms = UNBANNED;
	else if (n == 4) {
		errno = 0;
		b->until_ms = strtoull(w[3], &end, 10);
		if (errno != 0 || *end != '\0' || w[3][0] < '0' ||
		    w[3][0] > '9' || b->until_ms == 0) {
			*why = "expected a time in milliseconds after until";
			return -1;
		}
	}
	return 0;
}

unsigned
fw_state_parse(const char *text, size_t len, uint64_t now_ms,
    struct fw_bans *out, fw_state_bad_cb bad, void *arg)
{
	char		 line[STATE_LINE_MAX + 1], *s;
	const char	*p = text, *end = text + len, *nl, *why;
	struct fw_ban	 b;
	unsigned	 lineno = 0, nbad = 0;
	size_t		 n;

	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		why = "line too long";
		if (n <= STATE_LINE_MAX && memchr(p, '\0', n) == NULL) {
			memcpy(line, p, n);
			line[n] = '\0';
			for (s = line; *s == ' ' || *s == '\t'; s++)
				;
			if (*s == '\0' || *s == '#')
				continue;
			/* Expired and unbanned lines too: a later line for
			 * the same address must override an earlier one. */
			if (parse_line(s, &b, &why) == 0) {
				if (append_raw(out, &b, FWD_STATE_LINES_MAX) == 0)
					continue;
				why = "too many lines";
			}
		} else if (n <= STATE_LINE_MAX)
			why = "NUL byte";
		nbad++;
		if (bad != NULL)
			bad(lineno, why, arg);
	}
	dedupe(out);
	if (settle(out, now_ms) > 0) {
		nbad++;
		if (bad != NULL)
			bad(lineno, "more bans than fwd keeps (100000); "
			    "the rest ignored", arg);
	}
	return nbad;
}

static int
put_line(const struct fw_ban *b, bool add, struct buf *out)
{
	char	 a[INET6_ADDRSTRLEN];

	inet_ntop(b->e.family, b->e.addr, a, sizeof(a));
	if (!add)
		return buf_printf(out, "unban %s\n", a);
	if (b->until_ms != 0)
		return buf_printf(out, "ban %s until %llu\n", a,
		    (unsigned long long)b->until_ms);
	return buf_printf(out, "ban %s\n", a);
}

int
fw_state_format(const struct fw_bans *l, struct buf *out)
{
	size_t	 i;

	if (buf_puts(out, "# fwd bans (see state-file in fwd.conf(5)); "
	    "written by fwd\n") == -1)
		return -1;
	for (i = 0; i < l->n; i++)
		if (put_line(&l->v[i], true, out) == -1)
			return -1;
	return 0;
}

int
fw_state_line(const struct fw_ban *b, bool add, struct buf *out)
{
	return put_line(b, add, out);
}
