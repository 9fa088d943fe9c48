/* agentd configuration:
 *
 *	state-dir "/var/lib/stackd/agentd"	positions and spools
 *	host-name "web-01"			default: the host's name
 *	interval 10s				metrics collection
 *	log-poll-interval 250ms			log files
 *	metrics-listen "127.0.0.1:9101"		Prometheus /metrics (HTTP)
 *	proc-path "/proc"  sys-path "/sys"
 *	daemon "webd" "/run/stackd/webd.sock"	metrics scraped, up to 16
 *	alert-category "foobar/alerts"
 *	log NAME { ... }	(ag_tail.h)
 *	alert NAME { ... }	(ag_alert.h)
 *	output NAME { ... }	(ag_ship.h)
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "agentd.h"

static int
set_listen(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct ag_conf	*conf = obj;
	char		 err[256];

	if (net_addr_parse(st->argv[1], 9101, &conf->listen, err,
	    sizeof(err)) == -1)
		return conf_error(ctx, st, "metrics-listen: %s", err);
	if ((conf->listen_str = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	return 0;
}

static int
set_daemon(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct ag_conf	*conf = obj;
	struct ag_daemon_conf *dc;
	int		 i;

	if (conf->ndaemons == AG_MAX_DAEMONS)
		return conf_error(ctx, st, "daemon: at most %d", AG_MAX_DAEMONS);
	for (i = 0; i < conf->ndaemons; i++)
		if (strcmp(conf->daemons[i].name, st->argv[1]) == 0)
			return conf_error(ctx, st, "daemon %s: given twice",
			    st->argv[1]);
	if (st->argv[1][0] == '\0' || strspn(st->argv[1],
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(st->argv[1]))
		return conf_error(ctx, st, "daemon %s: a name is lower-case "
		    "letters, digits, '-' and '_'", st->argv[1]);
	dc = &conf->daemons[conf->ndaemons];
	if ((dc->name = strdup(st->argv[1])) == NULL ||
	    (dc->socket = strdup(st->argv[2])) == NULL) {
		free(dc->name);
		return conf_error(ctx, st, "out of memory");
	}
	conf->ndaemons++;
	return 0;
}

static const struct conf_directive ag_directives[] = {
	SERVICE_DIRECTIVES(struct ag_conf, svc),
	{ "state-dir", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct ag_conf, state_dir), 0, 0 },
	{ "host-name", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct ag_conf, host), 0, 0 },
	{ "interval", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct ag_conf, interval_ms), 100, 3600 * 1000 },
	{ "log-poll-interval", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_duration, offsetof(struct ag_conf, poll_ms), 10, 60000 },
	{ "metrics-listen", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_listen,
	    0, 0, 0 },
	{ "proc-path", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct ag_conf, proc), 0, 0 },
	{ "sys-path", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct ag_conf, sys), 0, 0 },
	{ "daemon", 2, 2, CONF_BLOCK_NONE, 0, set_daemon, 0, 0, 0 },
	{ "alert-category", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct ag_conf, alert_category), 0, 0 },
	{ "log", 1, 1, CONF_BLOCK_REQUIRED, 0, ag_conf_log,
	    offsetof(struct ag_conf, logs), 0, 0 },
	{ "alert", 1, 1, CONF_BLOCK_REQUIRED, 0, ag_conf_alert,
	    offsetof(struct ag_conf, alerts), 0, 0 },
	{ "output", 1, 1, CONF_BLOCK_REQUIRED, 0, ag_conf_output,
	    offsetof(struct ag_conf, outputs), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
default_string(char **field, const char *value)
{
	if (*field == NULL && (*field = strdup(value)) == NULL)
		return -1;
	return 0;
}

void *
ag_conf_load(const struct conf_stmt *root, struct conf_ctx *ctx)
{
	struct ag_conf	*conf;
	struct ag_output_conf *o;
	char		 host[256];
	int		 n = 0;

	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		conf_error(ctx, NULL, "out of memory");
		return NULL;
	}
	conf->interval_ms = 10 * 1000;
	conf->poll_ms = 250;
	if (conf_apply(ctx, root, ag_directives, conf) == -1)
		return conf;
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (default_string(&conf->state_dir, "/var/lib/stackd/agentd") == -1 ||
	    default_string(&conf->host, host) == -1 ||
	    default_string(&conf->proc, "/proc") == -1 ||
	    default_string(&conf->sys, "/sys") == -1 ||
	    default_string(&conf->alert_category, "stackd/alerts") == -1) {
		conf_error(ctx, NULL, "out of memory");
		return conf;
	}
	for (o = conf->outputs; o != NULL; o = o->next)
		n++;
	if (n > AG_MAX_OUTPUTS)
		conf_error(ctx, NULL, "output: at most %d", AG_MAX_OUTPUTS);
	return conf;
}

void
ag_conf_free(void *arg)
{
	struct ag_conf	*conf = arg;
	int		 i;

	if (conf == NULL)
		return;
	service_conf_clear(&conf->svc);
	for (i = 0; i < conf->ndaemons; i++) {
		free(conf->daemons[i].name);
		free(conf->daemons[i].socket);
	}
	free(conf->state_dir);
	free(conf->host);
	free(conf->listen_str);
	free(conf->proc);
	free(conf->sys);
	free(conf->alert_category);
	ag_log_conf_free(conf->logs);
	ag_alert_conf_free(conf->alerts);
	ag_output_conf_free(conf->outputs);
	free(conf);
}
