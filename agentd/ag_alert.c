/* ag_alert — placeholder until the rules land (see ag_alert.h). */
#include <stdlib.h>

#include "buf.h"
#include "conf.h"
#include "ag_alert.h"

int
ag_conf_alert(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	(void)d; (void)obj;
	return conf_error(ctx, st, "alert: not built yet");
}

void
ag_alert_conf_free(struct ag_alert_conf *a)
{
	(void)a;
}

struct ag_alerts *
ag_alerts_new(const struct ag_alert_conf *rules, ag_alert_notify fn, void *arg)
{
	(void)rules; (void)fn; (void)arg;
	return calloc(1, 1);
}

int
ag_alerts_reload(struct ag_alerts *a, const struct ag_alert_conf *rules)
{
	(void)a; (void)rules;
	return 0;
}

void
ag_alerts_eval(struct ag_alerts *a, uint64_t now_ms, ag_alert_lookup fn,
    void *arg)
{
	(void)a; (void)now_ms; (void)fn; (void)arg;
}

void
ag_alerts_format(const struct ag_alerts *a, struct buf *out)
{
	(void)a; (void)out;
}

size_t
ag_alerts_firing(const struct ag_alerts *a)
{
	(void)a;
	return 0;
}

void
ag_alerts_free(struct ag_alerts *a)
{
	free(a);
}
