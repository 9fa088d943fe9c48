/* ag_prom — reading the Prometheus text exposition that agentd renders
 * and scrapes: samples one by one, label matching, relabelling (a daemon
 * label on every sample of a scraped daemon, a timestamp for shipping),
 * and the sum of a metric's matching series (what alert rules look at).
 * Pure: no I/O. */
#ifndef AG_PROM_H
#define AG_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ag_sample {
	const char	*name;
	size_t		 name_len;
	const char	*labels;	/* between the braces, as written */
	size_t		 labels_len;
	double		 value;
	const char	*line;		/* the whole line, without '\n' */
	size_t		 line_len;
};

/* The next sample of text[*pos..len), skipping comments and blank lines.
 * 1 with s filled, 0 at the end, -1 for a malformed line (*pos moves past
 * it, so the caller may go on). */
int	 ag_prom_next(const char *text, size_t len, size_t *pos,
	    struct ag_sample *s);
/* Every pair of selector ("k=v,k=v"; NULL or "" matches all) is among
 * the sample's labels. */
bool	 ag_prom_match(const struct ag_sample *, const char *selector);
/* The sum of the values of name's samples that match selector; false
 * when there is none. */
bool	 ag_prom_sum(const char *text, size_t len, const char *name,
	    const char *selector, double *sum);
/* Copy text's samples to out with label key="value" added first (key NULL:
 * none) and " ts_ms" appended (0: none); comments are kept only when
 * keep_comments. A sample that already has the label keeps its own.
 * Families whose name starts with skip (NULL: none) are left out, their
 * comments too. 0, or -1 when out is full (out as it was). */
int	 ag_prom_relabel(const char *text, size_t len, const char *key,
	    const char *value, uint64_t ts_ms, bool keep_comments,
	    const char *skip, struct buf *out);

#endif
