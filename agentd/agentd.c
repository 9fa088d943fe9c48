/* agentd — the monitoring agent: main, service callbacks, the collection
 * and log-poll timers that drive the parts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "agentd.h"

static const char *const stackd_daemons[] = {
	"lbd", "fwd", "webd", "dbrouter", "agentd", NULL
};

static void
collect_tick(struct ev_loop *loop, void *arg)
{
	struct agentd	*a = arg;
	char		 err[256];

	if (a->host != NULL && ag_host_collect(a->host, err, sizeof(err)) == -1)
		log_debug("host metrics: %s", err);
	ev_timer_start(loop, &a->collect_timer, a->conf->interval_ms);
}

static int
ag_start(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct agentd	*a = service_arg(svc);
	struct ag_host_opts ho;

	a->svc = svc;
	a->conf = confp;
	if ((a->host_reg = metrics_new("")) == NULL)
		return seterr(err, errlen, "metrics registry");
	ho.proc = a->conf->proc;
	ho.sys = a->conf->sys;
	ho.daemons = stackd_daemons;
	if ((a->host = ag_host_new(a->host_reg, &ho, err, errlen)) == NULL)
		log_warnx("host metrics: %s", err);
	ev_timer_init(&a->collect_timer, collect_tick, a);
	ev_timer_start(ag_loop(a), &a->collect_timer, 0);
	return 0;
}

static int
ag_reload(struct service *svc, void *confp, char *err, size_t errlen)
{
	struct agentd	*a = service_arg(svc);

	(void)err;
	(void)errlen;
	a->conf = confp;
	return 0;
}

static void
ag_cleanup(struct service *svc)
{
	struct agentd	*a = service_arg(svc);

	if (service_loop(svc) != NULL)
		ev_timer_stop(ag_loop(a), &a->collect_timer);
	ag_host_free(a->host);
	metrics_free(a->host_reg);
}

static const struct service_ops ag_ops = {
	.name = "agentd",
	.version = AG_VERSION,
	.default_conf = "/etc/stackd/agentd.conf",
	.service_conf_offset = offsetof(struct ag_conf, svc),
	.conf_load = ag_conf_load,
	.conf_free = ag_conf_free,
	.start = ag_start,
	.reload = ag_reload,
	.cleanup = ag_cleanup,
};

int
main(int argc, char **argv)
{
	struct agentd	 a = { 0 };

	return service_main(&ag_ops, argc, argv, &a);
}
