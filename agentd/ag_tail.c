/* ag_tail — placeholder until the tailer lands (see ag_tail.h). */
#include <stdlib.h>

#include "conf.h"
#include "log.h"
#include "ag_tail.h"

int
ag_conf_log(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	(void)d; (void)obj;
	return conf_error(ctx, st, "log: not built yet");
}

void
ag_log_conf_free(struct ag_log_conf *l)
{
	(void)l;
}

struct ag_tail *
ag_tail_new(const char *state_path, struct ag_log_conf *logs,
    const struct ag_tail_sink *sink, void *arg, struct metrics *m, char *err,
    size_t errlen)
{
	(void)state_path; (void)logs; (void)sink; (void)arg; (void)m;
	seterr(err, errlen, "log tailing: not built yet");
	return NULL;
}

int
ag_tail_reload(struct ag_tail *t, struct ag_log_conf *logs, char *err,
    size_t errlen)
{
	(void)t; (void)logs;
	return seterr(err, errlen, "log tailing: not built yet");
}

size_t
ag_tail_poll(struct ag_tail *t)
{
	(void)t;
	return 0;
}

int
ag_tail_commit(struct ag_tail *t, char *err, size_t errlen)
{
	(void)t; (void)err; (void)errlen;
	return 0;
}

void
ag_tail_status(struct ag_tail *t, struct ctl_conn *cc)
{
	(void)t; (void)cc;
}

void
ag_tail_free(struct ag_tail *t)
{
	free(t);
}
