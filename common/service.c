/* service — start-up, reload, control socket and stop, shared by daemons. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "ev.h"
#include "log.h"
#include "metrics.h"
#include "service.h"

#define SERVICE_MAX_COMMANDS	64

struct service {
	const struct service_ops *ops;
	void			*arg;
	void			*conf;
	struct daemon_opts	 opts;
	struct ev_loop		*loop;
	struct metrics		*metrics;
	struct metric		*reloads;
	struct ctl_server	*ctl;
	struct pidfile		*pidfile;
	struct ctl_command	 commands[SERVICE_MAX_COMMANDS + 1];
	struct ev_timer		 shutdown_timer;
	bool			 stopping;
	bool			 ops_started;	/* ops->start ran: cleanup owed */
	time_t			 started;
	uint64_t		 reloads_ok, reloads_failed;
};

static struct service_conf *
svc_conf(const struct service *svc, void *conf)
{
	return (struct service_conf *)((char *)conf +
	    svc->ops->service_conf_offset);
}

void
service_conf_clear(struct service_conf *sc)
{
	free(sc->control);
	free(sc->control_group);
	free(sc->user);
	free(sc->pidfile);
	memset(sc, 0, sizeof(*sc));
}

/* Fill what the configuration left out; -1 only when memory runs out. */
static int
conf_defaults(const struct service *svc, struct service_conf *sc)
{
	if (sc->control == NULL &&
	    asprintf(&sc->control, "%s/%s.sock", SERVICE_RUNDIR,
	    svc->ops->name) == -1) {
		sc->control = NULL;
		return -1;
	}
	if (sc->user == NULL && (sc->user = strdup(svc->ops->default_user ?
	    svc->ops->default_user : SERVICE_USER_DEFAULT)) == NULL)
		return -1;
	if (sc->shutdown_ms == 0)
		sc->shutdown_ms = SERVICE_SHUTDOWN_DEFAULT_MS;
	return 0;
}

/* Parse and build a configuration; NULL with one error per line in errors. */
static void *
conf_load(struct service *svc, const char *path, struct buf *errors)
{
	struct conf_ctx	 ctx;
	struct conf_doc	*doc;
	char		 err[1024];
	void		*conf = NULL;

	if (conf_parse_file(path, &doc, err, sizeof(err)) == -1) {
		buf_printf(errors, "%s\n", err);
		return NULL;
	}
	conf_ctx_init(&ctx, 0, svc);
	conf = svc->ops->conf_load(conf_doc_root(doc), &ctx);
	if (conf != NULL && ctx.nerrors > 0) {
		/* A loader must not return a config it reported errors in. */
		svc->ops->conf_free(conf);
		conf = NULL;
	}
	if (conf == NULL) {
		if (ctx.nerrors > 0)
			buf_puts(errors, conf_errors(&ctx));
		else
			buf_printf(errors, "%s: configuration refused\n", path);
	} else if (conf_defaults(svc, svc_conf(svc, conf)) == -1) {
		buf_printf(errors, "%s: out of memory\n", path);
		svc->ops->conf_free(conf);
		conf = NULL;
	}
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
	return conf;
}

static void
log_errors(struct buf *errors)
{
	const char	*p = buf_cstr(errors);
	const char	*nl;

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		log_warnx("%.*s", (int)(nl - p), p);
		if (*nl == '\0')
			break;
	}
}

int
service_reload(struct service *svc, char *err, size_t errlen,
    struct buf *errors)
{
	struct buf	 local;
	struct buf	*eb = errors;
	struct service_conf *old_sc, *new_sc;
	void		*newconf;
	const char	*result = "failed";
	int		 rv = -1;

	if (eb == NULL) {
		buf_init(&local, 0);
		eb = &local;
	}
	daemon_notify("RELOADING=1");
	if ((newconf = conf_load(svc, svc->opts.conf_path, eb)) == NULL) {
		snprintf(err, errlen, "%s: configuration has errors, "
		    "keeping the running one", svc->opts.conf_path);
		goto done;
	}
	old_sc = svc_conf(svc, svc->conf);
	new_sc = svc_conf(svc, newconf);
	if (strcmp(old_sc->control, new_sc->control) != 0)
		log_warnx("reload: control socket stays %s until restart",
		    old_sc->control);
	if (svc->ops->reload(svc, newconf, err, errlen) == -1) {
		svc->ops->conf_free(newconf);
		goto done;
	}
	svc->ops->conf_free(svc->conf);
	svc->conf = newconf;
	result = "ok";
	rv = 0;
 done:
	counter_inc(metric_with(svc->reloads, (const char *const[]){ result, NULL }));
	if (rv == 0) {
		svc->reloads_ok++;
		log_info("configuration %s reloaded", svc->opts.conf_path);
	} else {
		svc->reloads_failed++;
		log_errors(eb);
		log_warnx("reload failed: %s", err);
	}
	if (eb == &local)
		buf_free(&local);
	daemon_notify("READY=1");
	return rv;
}

/* Control commands every daemon answers. */

static void
cmd_version(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service *svc = arg;

	ctl_reply_ok(c);
	ctl_printf(c, "%s %s\n", svc->ops->name, svc->ops->version);
}

static void
cmd_status(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service	*svc = arg;

	ctl_reply_ok(c);
	ctl_printf(c, "daemon: %s %s\n", svc->ops->name, svc->ops->version);
	ctl_printf(c, "pid: %ld\n", (long)getpid());
	ctl_printf(c, "uptime: %lds\n", (long)(time(NULL) - svc->started));
	ctl_printf(c, "config: %s\n", svc->opts.conf_path);
	ctl_printf(c, "reloads: %llu ok, %llu failed\n",
	    (unsigned long long)svc->reloads_ok,
	    (unsigned long long)svc->reloads_failed);
	ctl_printf(c, "state: %s\n", svc->stopping ? "stopping" : "running");
	if (svc->ops->status != NULL)
		svc->ops->status(svc, c);
}

static void
cmd_metrics(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service	*svc = arg;
	struct buf	 out;

	buf_init(&out, CTL_OUTPUT_MAX);
	if (metrics_render(svc->metrics, &out) == -1) {
		ctl_reply_error(c, "metrics: output over %d bytes",
		    CTL_OUTPUT_MAX);
	} else {
		ctl_reply_ok(c);
		ctl_write(c, buf_head(&out), buf_used(&out));
	}
	buf_free(&out);
}

static void
cmd_reload(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service	*svc = arg;
	struct buf	 errors;
	char		 err[512];

	buf_init(&errors, 64 * 1024);
	if (service_reload(svc, err, sizeof(err), &errors) == 0)
		ctl_reply_ok(c);
	else {
		ctl_reply_error(c, "%s", err);
		ctl_write(c, buf_head(&errors), buf_used(&errors));
	}
	buf_free(&errors);
}

static void
cmd_reopen(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service	*svc = arg;
	char		 err[512];

	if (svc->ops->reopen == NULL)
		ctl_reply_ok(c);
	else if (svc->ops->reopen(svc, err, sizeof(err)) == -1)
		ctl_reply_error(c, "%s", err);
	else
		ctl_reply_ok(c);
}

static const struct ctl_command builtin_commands[] = {
	{ "status", 0, 0, "status", cmd_status },
	{ "metrics", 0, 0, "metrics", cmd_metrics },
	{ "reload", 0, 0, "reload", cmd_reload },
	{ "reopen-logs", 0, 0, "reopen-logs", cmd_reopen },
	{ "version", 0, 0, "version", cmd_version },
	{ NULL, 0, 0, NULL, NULL }
};

static bool
command_listed(const struct ctl_command *table, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return true;
	return false;
}

/* The daemon's commands, then the built-ins it does not override. */
static int
merge_commands(struct service *svc)
{
	const struct ctl_command *c;
	size_t		 n = 0;

	for (c = svc->ops->commands; c != NULL && c->name != NULL; c++) {
		if (n == SERVICE_MAX_COMMANDS)
			return -1;
		svc->commands[n++] = *c;
	}
	for (c = builtin_commands; c->name != NULL; c++) {
		if (command_listed(svc->commands, n, c->name))
			continue;
		if (n == SERVICE_MAX_COMMANDS)
			return -1;
		svc->commands[n++] = *c;
	}
	memset(&svc->commands[n], 0, sizeof(svc->commands[n]));
	return 0;
}

/* Metrics every daemon exports. */

static double
metric_ctl_requests(void *arg)
{
	struct service *svc = arg;

	return svc->ctl ? (double)ctl_server_stats(svc->ctl).requests : 0;
}

static double
metric_ctl_refused(void *arg)
{
	struct service *svc = arg;

	return svc->ctl ? (double)ctl_server_stats(svc->ctl).refused : 0;
}

static double
metric_ctl_errors(void *arg)
{
	struct service *svc = arg;

	return svc->ctl ? (double)ctl_server_stats(svc->ctl).errors : 0;
}

static int
metrics_setup(struct service *svc)
{
	char		 prefix[64];
	struct metric	*info;

	snprintf(prefix, sizeof(prefix), "stackd_%s_", svc->ops->name);
	if ((svc->metrics = metrics_new(prefix)) == NULL ||
	    metrics_add_process(svc->metrics) == -1)
		return -1;
	info = metrics_gauge(svc->metrics, "build_info",
	    "Version of the daemon; always 1.",
	    (const char *const[]){ "version", NULL });
	svc->reloads = metrics_counter(svc->metrics, "config_reloads_total",
	    "Configuration reloads by result (ok, failed).",
	    (const char *const[]){ "result", NULL });
	if (info == NULL || svc->reloads == NULL ||
	    metrics_counter_fn(svc->metrics, "ctl_requests_total",
	    "Control requests received.", metric_ctl_requests, svc) == NULL ||
	    metrics_counter_fn(svc->metrics, "ctl_refused_total",
	    "Control connections refused by the peer credential check.",
	    metric_ctl_refused, svc) == NULL ||
	    metrics_counter_fn(svc->metrics, "ctl_errors_total",
	    "Control requests answered with an error.",
	    metric_ctl_errors, svc) == NULL)
		return -1;
	gauge_set(metric_with(info, (const char *const[]){ svc->ops->version, NULL }), 1);
	/* Both results exist from the start so rate() sees the first one. */
	metric_with(svc->reloads, (const char *const[]){ "ok", NULL });
	metric_with(svc->reloads, (const char *const[]){ "failed", NULL });
	return 0;
}

/* Signals and stopping. */

static void
shutdown_expired(struct ev_loop *loop, void *arg)
{
	struct service *svc = arg;

	log_warnx("graceful stop not finished in %llums: stopping now",
	    (unsigned long long)svc_conf(svc, svc->conf)->shutdown_ms);
	ev_break(loop);
}

void
service_stopped(struct service *svc)
{
	ev_timer_stop(svc->loop, &svc->shutdown_timer);
	ev_break(svc->loop);
}

void
service_forked(struct service *svc)
{
	ctl_server_forget(svc->ctl);
	svc->ctl = NULL;
	pidfile_close(svc->pidfile);
	svc->pidfile = NULL;
	ev_abandon(svc->loop);
	svc->loop = NULL;
}

void
service_stop(struct service *svc)
{
	if (svc->stopping) {
		log_info("second stop request: stopping now");
		service_stopped(svc);
		return;
	}
	svc->stopping = true;
	log_info("stopping");
	daemon_notify("STOPPING=1");
	ev_timer_start(svc->loop, &svc->shutdown_timer,
	    svc_conf(svc, svc->conf)->shutdown_ms);
	if (svc->ops->stop != NULL)
		svc->ops->stop(svc);
	else
		service_stopped(svc);
}

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct service	*svc = arg;
	char		 err[512];

	switch (signo) {
	case SIGHUP:
		log_info("SIGHUP: reloading %s", svc->opts.conf_path);
		(void)service_reload(svc, err, sizeof(err), NULL);
		break;
	case SIGUSR1:
		if (svc->ops->reopen != NULL &&
		    svc->ops->reopen(svc, err, sizeof(err)) == -1)
			log_warnx("reopen logs: %s", err);
		break;
	default:
		service_stop(svc);
		break;
	}
}

/* uid 0 inside `unshare -r` is not root on the host: there is no other
 * user to switch to, and nothing to protect by trying. */
static bool
in_user_namespace(void)
{
	FILE	*fp;
	unsigned long inside, outside, count;
	bool	 mapped_whole = false;

	if ((fp = fopen("/proc/self/uid_map", "r")) == NULL)
		return false;
	if (fscanf(fp, "%lu %lu %lu", &inside, &outside, &count) == 3)
		mapped_whole = inside == 0 && outside == 0 &&
		    count == 4294967295UL;
	fclose(fp);
	return !mapped_whole;
}

/* Group access to the socket, and ownership so the unprivileged daemon
 * can still remove it at exit. */
static int
ctl_socket_access(struct service *svc, const struct service_conf *sc,
    char *err, size_t errlen)
{
	struct group	*gr;
	struct passwd	*pw = NULL;
	uid_t		 uid = (uid_t)-1;
	gid_t		 gid = (gid_t)-1;

	if (sc->control_group != NULL) {
		if ((gr = getgrnam(sc->control_group)) == NULL) {
			snprintf(err, errlen, "control-group %s: no such group",
			    sc->control_group);
			return -1;
		}
		gid = gr->gr_gid;
		if (ctl_server_allow_gid(svc->ctl, gid) == -1) {
			snprintf(err, errlen, "control-group: too many groups");
			return -1;
		}
	}
	if (geteuid() == 0 && strcmp(sc->user, "root") != 0 &&
	    !in_user_namespace() && (pw = getpwnam(sc->user)) != NULL)
		uid = pw->pw_uid;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(sc->control, uid, gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", sc->control,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
drop_privileges(const struct service *svc, const struct service_conf *sc,
    char *err, size_t errlen)
{
	if (geteuid() != 0)
		return 0;
	if (strcmp(sc->user, "root") == 0) {
		/* Said only where root is not the daemon's own default. */
		if (svc->ops->default_user == NULL ||
		    strcmp(svc->ops->default_user, "root") != 0)
			log_warnx("user root: running with full privileges");
		return 0;
	}
	if (in_user_namespace()) {
		log_debug("user namespace: keeping uid %ld", (long)getuid());
		return 0;
	}
	return daemon_drop_privileges(sc->user, err, errlen);
}

/* The socket's directory, when it is the default one under /run. */
static void
make_rundir(const char *path)
{
	if (strncmp(path, SERVICE_RUNDIR "/", sizeof(SERVICE_RUNDIR)) == 0 &&
	    mkdir(SERVICE_RUNDIR, 0755) == -1 && errno != EEXIST)
		log_warn("mkdir %s", SERVICE_RUNDIR);
}

static int
start(struct service *svc, char *err, size_t errlen)
{
	struct service_conf *sc = svc_conf(svc, svc->conf);
	pid_t		 other;
	static const int signals[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	size_t		 i;

	if (sc->pidfile != NULL &&
	    (svc->pidfile = pidfile_open(sc->pidfile, &other, err,
	    errlen)) == NULL)
		return -1;
	if ((svc->loop = ev_new()) == NULL) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	ev_timer_init(&svc->shutdown_timer, shutdown_expired, svc);
	if (metrics_setup(svc) == -1) {
		snprintf(err, errlen, "metrics registry setup failed");
		return -1;
	}
	if (merge_commands(svc) == -1) {
		snprintf(err, errlen, "more than %d control commands",
		    SERVICE_MAX_COMMANDS);
		return -1;
	}
	make_rundir(sc->control);
	if ((svc->ctl = ctl_server_new(svc->loop, sc->control, 0660,
	    svc->commands, svc, err, errlen)) == NULL)
		return -1;
	if (ctl_socket_access(svc, sc, err, errlen) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (ev_signal(svc->loop, signals[i], on_signal, svc) == -1) {
			snprintf(err, errlen, "signal %d: %s", signals[i],
			    strerror(errno));
			return -1;
		}
	svc->ops_started = true;
	if (svc->ops->start(svc, svc->conf, err, errlen) == -1)
		return -1;
	if (drop_privileges(svc, sc, err, errlen) == -1)
		return -1;
	if (!svc->opts.foreground) {
		if (daemon_detach(err, errlen) == -1)
			return -1;
		if (ev_signal_forked(svc->loop) == -1) {
			snprintf(err, errlen, "signals after detach: %s",
			    strerror(errno));
			return -1;
		}
	}
	if (svc->pidfile != NULL)
		pidfile_write(svc->pidfile);
	return 0;
}

static void
teardown(struct service *svc)
{
	/* Only what start built needs undoing (it may have failed half-way). */
	if (svc->ops->cleanup != NULL && svc->ops_started)
		svc->ops->cleanup(svc);
	ctl_server_free(svc->ctl);
	if (svc->conf != NULL)
		svc->ops->conf_free(svc->conf);
	metrics_free(svc->metrics);
	if (svc->loop != NULL) {
		ev_timer_stop(svc->loop, &svc->shutdown_timer);
		ev_free(svc->loop);
	}
	pidfile_remove(svc->pidfile);
}

int
service_main(const struct service_ops *ops, int argc, char **argv, void *arg)
{
	struct service	 svc = { .ops = ops, .arg = arg };
	struct buf	 errors;
	char		 err[1024];
	int		 rv;

	rv = daemon_parse_args(argc, argv, ops->default_conf, &svc.opts,
	    err, sizeof(err));
	if (rv != 0) {
		if (rv == -1)
			fprintf(stderr, "%s: %s\n", ops->name, err);
		daemon_usage(stderr, ops->name);
		return rv == DAEMON_USAGE ? 0 : 1;
	}
	log_init(ops->name, svc.opts.foreground || svc.opts.check_only,
	    svc.opts.verbose);
	buf_init(&errors, 256 * 1024);
	svc.conf = conf_load(&svc, svc.opts.conf_path, &errors);
	if (svc.conf == NULL) {
		fputs(buf_cstr(&errors), stderr);
		if (!svc.opts.check_only && !svc.opts.foreground)
			log_errors(&errors);
		buf_free(&errors);
		return 1;
	}
	buf_free(&errors);
	if (svc.opts.check_only) {
		printf("configuration OK\n");
		fflush(stdout);
		ops->conf_free(svc.conf);
		return 0;
	}
	daemon_notify_init(svc.opts.notify_fd);
	log_debug("open files limit %llu", daemon_raise_nofile());
	svc.started = time(NULL);
	if (start(&svc, err, sizeof(err)) == -1) {
		log_warnx("not started: %s", err);
		teardown(&svc);
		return 1;
	}
	log_info("%s %s started", ops->name, ops->version);
	daemon_notify("READY=1");
	rv = ev_run(svc.loop) == 0 ? 0 : 1;
	log_info("stopped");
	teardown(&svc);
	return rv;
}

struct ev_loop *
service_loop(struct service *svc)
{
	return svc->loop;
}

struct metrics *
service_metrics(struct service *svc)
{
	return svc->metrics;
}

void *
service_arg(struct service *svc)
{
	return svc->arg;
}

void *
service_conf(struct service *svc)
{
	return svc->conf;
}

const char *
service_conf_path(struct service *svc)
{
	return svc->opts.conf_path;
}

const char *
service_name(struct service *svc)
{
	return svc->ops->name;
}
