/* daemon — process life: the standard command line, detaching, the
 * pidfile lock, dropping privileges and telling a starter we are ready.
 *
 * Typical start-up of a stackd daemon:
 *
 *	daemon_parse_args(...)		-f -d -n -v -N
 *	parse the configuration		exit here for -n
 *	pidfile_open(...)		refuse a second instance
 *	bind listeners, open logs
 *	daemon_drop_privileges(user)
 *	daemon_detach() unless -d	then pidfile_write()
 *	daemon_notify_init(opts.notify_fd); ... daemon_notify("READY=1")
 */
#ifndef STACKD_DAEMON_H
#define STACKD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct daemon_opts {
	const char	*conf_path;	/* -f, else the default */
	bool		 foreground;	/* -d: no detach, logs on stderr */
	bool		 check_only;	/* -n: check the config and exit */
	int		 verbose;	/* count of -v */
	int		 notify_fd;	/* -N: readiness pipe, or -1 */
};

/* daemon_parse_args result when -h asked for the usage text. */
#define DAEMON_USAGE	1

/* Parse "[-dhnv] [-f file] [-N fd]". Returns 0, DAEMON_USAGE for -h, or -1
 * and err (unknown option, missing argument, bad or closed -N fd, extra
 * arguments). Callable again (getopt is reset); argv is not reordered. */
int	 daemon_parse_args(int argc, char **argv, const char *default_conf,
	    struct daemon_opts *, char *err, size_t errlen);
void	 daemon_usage(FILE *, const char *progname);

/* Become a daemon: double fork with setsid in between (the daemon is no
 * session leader, so it never gets a controlling terminal), chdir("/"),
 * stdin/out/err on /dev/null, umask 027. Returns 0 in the daemon only: the
 * original process _exits 0 once the daemon exists, or returns -1 and err
 * if it could not be made. Flush or close shared resources first. */
int	 daemon_detach(char *err, size_t errlen);

/* A pidfile held with flock(): the lock, not the file's existence, says
 * that a daemon runs, so a file left by a crash is no obstacle. The lock
 * is on the open file, so it survives daemon_detach's forks. */
struct pidfile;

/* Open and lock path (created 0644). If another process holds it, NULL
 * with *other set to its pid (0 if the file had none yet) and err
 * "already running (pid N)". other may be NULL. */
struct pidfile *pidfile_open(const char *path, pid_t *other,
	    char *err, size_t errlen);
/* Write the current pid (after daemon_detach), replacing the contents.
 * 0, or -1 logged. */
int	 pidfile_write(struct pidfile *);
/* Unlink the file, release the lock and free. NULL is fine. */
void	 pidfile_remove(struct pidfile *);
/* In a forked child: close the inherited descriptor and free, leaving the
 * file and the parent's lock in place. NULL is fine. */
void	 pidfile_close(struct pidfile *);

/* When running as root, switch for good to user (and its groups) and check
 * root cannot be regained; a missing user or one with uid 0 is an error.
 * Not root: nothing to do, returns 0 (logged at debug level). */
int	 daemon_drop_privileges(const char *user, char *err, size_t errlen);

/* Readiness notification. notify_fd (-N, or -1) is a pipe the starter
 * reads: "READY=1\n" is written to it once and it is closed, so the
 * starter sees the line then EOF. NOTIFY_SOCKET from the environment
 * (a path, or "@name" for an abstract socket) receives every state as a
 * datagram, as with systemd's sd_notify. Call once at start-up. */
void	 daemon_notify_init(int notify_fd);
/* Raise the soft open-files limit to the hard one (systemd and init
 * scripts often leave 1024): the new soft limit, or 0 if unknown. */
unsigned long long daemon_raise_nofile(void);
/* "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...", several separated
 * by newlines. No-op returning 0 when neither target is set; -1 (logged)
 * if sending failed. */
int	 daemon_notify(const char *state);

#endif
