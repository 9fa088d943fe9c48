/* ag_access — placeholder until the parser lands (see ag_access.h). */
#include <stdlib.h>

#include "ag_access.h"

struct ag_access *
ag_access_new(struct metrics *m)
{
	(void)m;
	return NULL;
}

int
ag_access_line(struct ag_access *a, const char *log, enum ag_log_format fmt,
    const char *line, size_t len)
{
	(void)a; (void)log; (void)fmt; (void)line; (void)len;
	return -1;
}

void
ag_access_tick(struct ag_access *a, uint64_t now_ms)
{
	(void)a; (void)now_ms;
}

void
ag_access_free(struct ag_access *a)
{
	free(a);
}
