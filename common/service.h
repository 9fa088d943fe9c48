/* service — the life of a stackd daemon, the same for all five: standard
 * command line, configuration check and load, SIGHUP reload that keeps the
 * old configuration when the new one is bad, the control socket with the
 * commands every daemon answers (status, metrics, reload, version, help),
 * SIGTERM graceful stop, pidfile, privilege drop and readiness.
 *
 * A daemon fills a struct service_ops and calls service_main() from main().
 * Its configuration struct embeds a struct service_conf and its top-level
 * directive table lists SERVICE_DIRECTIVES() for the shared directives:
 *
 *	control "/run/stackd/lbd.sock"	ctl socket (default /run/stackd/NAME.sock)
 *	control-group "adm"		group also allowed on the socket
 *	user "_stackd"			drop to it after binding (default _stackd)
 *	pidfile "/run/stackd/lbd.pid"	none by default
 *	shutdown-timeout 10s		graceful stop deadline (default 10s)
 */
#ifndef STACKD_SERVICE_H
#define STACKD_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct ctl_conn;
struct ctl_command;
struct ev_loop;
struct metrics;
struct service;

#define SERVICE_USER_DEFAULT		"_stackd"
#define SERVICE_RUNDIR			"/run/stackd"
#define SERVICE_SHUTDOWN_DEFAULT_MS	10000

struct service_conf {
	char		*control;
	char		*control_group;
	char		*user;
	char		*pidfile;
	uint64_t	 shutdown_ms;
};

#define SERVICE_DIRECTIVES(type, member)				\
	{ "control", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,	\
	    offsetof(type, member.control), 0, 0 },			\
	{ "control-group", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,		\
	    conf_set_string, offsetof(type, member.control_group), 0, 0 }, \
	{ "user", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,	\
	    offsetof(type, member.user), 0, 0 },			\
	{ "pidfile", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,	\
	    offsetof(type, member.pidfile), 0, 0 },			\
	{ "shutdown-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,		\
	    conf_set_duration, offsetof(type, member.shutdown_ms),	\
	    1, 3600 * 1000 }

/* Frees the strings of a service_conf (not the struct). */
void	 service_conf_clear(struct service_conf *);

struct service_ops {
	const char	*name;		/* "lbd": logs, metrics prefix, socket */
	const char	*version;
	const char	*default_conf;	/* "/etc/stackd/lbd.conf" */
	/* The user when the configuration names none: NULL for _stackd.
	 * "root" for a daemon whose job needs it all along (fwd). */
	const char	*default_user;
	/* Where the daemon's config struct holds its service_conf. */
	size_t		 service_conf_offset;

	/* Build a new configuration from the parsed file (its top-level
	 * statements); NULL, or errors recorded in ctx, refuse it. Must not
	 * touch running state: it also serves -n and reload. Strings must be
	 * copied: the statement tree is freed after the call. */
	void	*(*conf_load)(const struct conf_stmt *root, struct conf_ctx *);
	void	 (*conf_free)(void *conf);
	/* Take the first configuration: bind, start serving. -1 with err
	 * aborts start-up (exit 1). */
	int	 (*start)(struct service *, void *conf, char *err, size_t errlen);
	/* Switch to newconf. 0: the service frees the old configuration after
	 * the call. -1 with err: nothing changed, newconf is freed. */
	int	 (*reload)(struct service *, void *newconf, char *err, size_t errlen);
	/* Begin a graceful stop; call service_stopped() once idle (may be
	 * at once). NULL: stop at once. */
	void	 (*stop)(struct service *);
	/* Payload lines of `status` after the common ones. May be NULL. */
	void	 (*status)(struct service *, struct ctl_conn *);
	/* SIGUSR1 and `reopen-logs` when set. */
	int	 (*reopen)(struct service *, char *err, size_t errlen);
	/* Free runtime state after the loop ended, or after start failed
	 * part-way (so it must cope with a half-built state). Not called when
	 * start never ran. May be NULL. */
	void	 (*cleanup)(struct service *);
	/* The daemon's own ctl commands (handler arg is the service);
	 * NULL-terminated, may be NULL. They win over the built-ins. */
	const struct ctl_command *commands;
};

/* The whole life of the daemon; returns the process exit status. arg is
 * the daemon's runtime state, available as service_arg(). */
int		 service_main(const struct service_ops *, int argc, char **argv,
		    void *arg);

struct ev_loop	*service_loop(struct service *);
struct metrics	*service_metrics(struct service *);
void		*service_arg(struct service *);
void		*service_conf(struct service *);
const char	*service_conf_path(struct service *);
const char	*service_name(struct service *);
/* Graceful stop finished: leave the loop. */
void		 service_stopped(struct service *);
/* Ask for a stop as SIGTERM does (from a ctl command, say). */
void		 service_stop(struct service *);
/* In a child the daemon forked (a worker process) that will never return
 * into the service's loop: close the inherited control socket (listener
 * and connections) and pidfile without removing either, and forget the
 * parent's event loop without touching it (see ev_abandon: signals stay
 * blocked for the child's own loop). Afterwards service_loop() is NULL and
 * no service_* call that needs the loop, the socket or the pidfile may be
 * made; the child ends with exit(), not by returning to the service. */
void		 service_forked(struct service *);
/* Reload now as SIGHUP does; 0, or -1 with err (the old config runs on).
 * Configuration errors, one per line, go to errors if not NULL. */
int		 service_reload(struct service *, char *err, size_t errlen,
		    struct buf *errors);

#endif
