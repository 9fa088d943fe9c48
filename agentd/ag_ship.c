/* ag_ship — placeholder until the shipper lands (see ag_ship.h). */
#include <stdlib.h>

#include "conf.h"
#include "log.h"
#include "ag_ship.h"

int
ag_conf_output(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	(void)d; (void)obj;
	return conf_error(ctx, st, "output: not built yet");
}

void
ag_output_conf_free(struct ag_output_conf *o)
{
	(void)o;
}

struct ag_ship *
ag_ship_new(struct ev_loop *loop, const struct ag_output_conf *o,
    const char *dir, const char *host, struct metrics *m, char *err,
    size_t errlen)
{
	(void)loop; (void)o; (void)dir; (void)host; (void)m;
	seterr(err, errlen, "shipping: not built yet");
	return NULL;
}

int
ag_ship_reload(struct ag_ship *s, const struct ag_output_conf *o, char *err,
    size_t errlen)
{
	(void)s; (void)o;
	return seterr(err, errlen, "shipping: not built yet");
}

int
ag_ship_log(struct ag_ship *s, const char *category, const char *line,
    size_t len)
{
	(void)s; (void)category; (void)line; (void)len;
	return -1;
}

int
ag_ship_metrics(struct ag_ship *s, const char *text, size_t len)
{
	(void)s; (void)text; (void)len;
	return -1;
}

int
ag_ship_sync(struct ag_ship *s, char *err, size_t errlen)
{
	(void)s; (void)err; (void)errlen;
	return 0;
}

void
ag_ship_status(struct ag_ship *s, struct ctl_conn *cc)
{
	(void)s; (void)cc;
}

const char *
ag_ship_name(const struct ag_ship *s)
{
	(void)s;
	return "";
}

void
ag_ship_free(struct ag_ship *s)
{
	free(s);
}
