/* fwd_state — the ban list fwd keeps beside the kernel's sets, and its
 * state file format (state-file in fwd.conf(5)), one ban a line:
 *
 *	# comment
 *	ban ADDRESS [until UNIX-MILLISECONDS]
 *
 * Expiry is wall-clock so that it means the same after a restart or a
 * reboot. Pure: common/statefile.c reads and replaces the file. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

#define STATE_LINE_MAX	256

static bool
same_addr(const struct fw_elem *a, const struct fw_elem *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr,
	    a->family == AF_INET ? 4 : 16) == 0;
}

ssize_t
fw_bans_find(const struct fw_bans *l, const struct fw_elem *e)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (same_addr(&l->v[i].e, e))
			return (ssize_t)i;
	return -1;
}

static int
append(struct fw_bans *l, const struct fw_ban *b)
{
	struct fw_ban	*v;

	if (l->n >= FWD_BANS_MAX ||
	    (v = reallocarray(l->v, l->n + 1, sizeof(*v))) == NULL)
		return -1;
	l->v = v;
	v[l->n++] = *b;
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

bool
fw_bans_del(struct fw_bans *l, const struct fw_elem *e)
{
	ssize_t	 i = fw_bans_find(l, e);

	if (i == -1)
		return false;
	l->v[i] = l->v[--l->n];
	return true;
}

void
fw_bans_prune(struct fw_bans *l, uint64_t now_ms)
{
	size_t	 i = 0;

	while (i < l->n)
		if (l->v[i].until_ms != 0 && l->v[i].until_ms <= now_ms)
			l->v[i] = l->v[--l->n];
		else
			i++;
}

void
fw_bans_free(struct fw_bans *l)
{
	free(l->v);
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

	while (n < 4 && (w[n] = strtok_r(n == 0 ? s : NULL, " \t", &save)))
		n++;
	memset(b, 0, sizeof(*b));
	*why = "expected \"ban ADDRESS [until UNIX-MILLISECONDS]\"";
	if ((n != 2 && n != 4) || strcmp(w[0], "ban") != 0 ||
	    (n == 4 && strcmp(w[2], "until") != 0))
		return -1;
	if (fw_parse_addr(w[1], &b->e) == -1) {
		*why = "expected an IPv4 or IPv6 address";
		return -1;
	}
	if (n == 4) {
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
			if (parse_line(s, &b, &why) == 0) {
				if (b.until_ms != 0 && b.until_ms <= now_ms)
					continue;	/* expired while down */
				if (append(out, &b) == 0)
					continue;
				why = "too many bans";
			}
		} else if (n <= STATE_LINE_MAX)
			why = "NUL byte";
		nbad++;
		if (bad != NULL)
			bad(lineno, why, arg);
	}
	dedupe(out);
	return nbad;
}

int
fw_state_format(const struct fw_bans *l, struct buf *out)
{
	char	 a[INET6_ADDRSTRLEN];
	size_t	 i;

	if (buf_puts(out, "# fwd bans (see state-file in fwd.conf(5)); "
	    "written by fwd\n") == -1)
		return -1;
	for (i = 0; i < l->n; i++) {
		inet_ntop(l->v[i].e.family, l->v[i].e.addr, a, sizeof(a));
		if ((l->v[i].until_ms != 0 ? buf_printf(out, "ban %s until "
		    "%llu\n", a, (unsigned long long)l->v[i].until_ms) :
		    buf_printf(out, "ban %s\n", a)) == -1)
			return -1;
	}
	return 0;
}
