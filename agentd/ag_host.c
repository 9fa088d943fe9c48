/* ag_host — placeholder until the collectors land (see ag_host.h). */
#include <stdlib.h>

#include "log.h"
#include "ag_host.h"

struct ag_host *
ag_host_new(struct metrics *m, const struct ag_host_opts *o, char *err,
    size_t errlen)
{
	(void)m; (void)o;
	seterr(err, errlen, "host collectors: not built yet");
	return NULL;
}

int
ag_host_collect(struct ag_host *h, char *err, size_t errlen)
{
	(void)h;
	return seterr(err, errlen, "host collectors: not built yet");
}

void
ag_host_free(struct ag_host *h)
{
	free(h);
}
