/* daemon — command line, detach, pidfile, privileges, readiness. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define PIDFILE_TRIES	8	/* reopen when the locked file was replaced */
#define PWBUF_MAX	(1024 * 1024)

struct pidfile {
	int	 fd;
	char	*path;
};

/* Readiness targets: the one process-global state of this module. It
 * mirrors the environment it is read from (NOTIFY_SOCKET) and the -N fd,
 * both process-wide by nature, and is set once at start-up. */
static struct {
	int			 fd;		/* -N pipe, -1: none or done */
	bool			 have_sock;
	struct sockaddr_un	 sun;		/* NOTIFY_SOCKET */
	socklen_t		 sunlen;
} notify = { .fd = -1 };

/* -N: a decimal fd that is open in this process. */
static int
parse_notify_fd(const char *s, int *out, char *err, size_t errlen)
{
	long	 v = 0;
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || v > INT_MAX / 10) {
			v = -1;
			break;
		}
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v < 0 || v > INT_MAX)
		return seterr(err, errlen, "-N %s: not a file descriptor "
		    "number", s);
	if (fcntl((int)v, F_GETFD) == -1)
		return seterr(err, errlen, "-N %s: not an open file "
		    "descriptor", s);
	*out = (int)v;
	return 0;
}

int
daemon_parse_args(int argc, char **argv, const char *default_conf,
    struct daemon_opts *o, char *err, size_t errlen)
{
	int	 ch;

	o->conf_path = default_conf;
	o->foreground = false;
	o->check_only = false;
	o->verbose = 0;
	o->notify_fd = -1;

	/* glibc: optind 0 re-initialises getopt fully, so repeated calls
	 * (tests) start afresh. "+": stop at the first operand, never
	 * permute argv. ":": report a missing argument as ':'. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt(argc, argv, "+:df:hnvN:")) != -1) {
		switch (ch) {
		case 'd':
			o->foreground = true;
			break;
		case 'f':
			if (*optarg == '\0')
				return seterr(err, errlen,
				    "-f: empty file name");
			o->conf_path = optarg;
			break;
		case 'h':
			return DAEMON_USAGE;
		case 'n':
			o->check_only = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'N':
			if (parse_notify_fd(optarg, &o->notify_fd, err,
			    errlen) == -1)
				return -1;
			break;
		case ':':
			seterr(err, errlen, "option -%c requires an argument",
			    optopt);
			return -1;
		default:
			if (isprint((unsigned char)optopt))
				return seterr(err, errlen,
				    "unknown option -%c", optopt);
			return seterr(err, errlen, "unknown option (byte %d)",
			    (unsigned char)optopt);
		}
	}
	if (optind < argc)
		return seterr(err, errlen, "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

void
daemon_usage(FILE *fp, const char *progname)
{
	fprintf(fp, "usage: %s [-dhnv] [-f file] [-N fd]\n"
	    "\t-d\trun in the foreground, log to stderr\n"
	    "\t-f file\tconfiguration file\n"
	    "\t-h\tshow this help\n"
	    "\t-n\tcheck the configuration and exit\n"
	    "\t-v\tmore verbose logging (repeatable)\n"
	    "\t-N fd\twrite READY=1 to fd when ready, then close it\n",
	    progname);
}

/* Exit codes of daemon_detach's intermediate process. */
static const char *const detach_failure[] = {
	[1] = "setsid failed",
	[2] = "second fork failed",
};

int
daemon_detach(char *err, size_t errlen)
{
	pid_t	 pid;
	int	 status, fd, code;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return seterr(err, errlen, "daemon_detach: fork: %s",
		    strerror(errno));
	if (pid > 0) {
		/* Leave only once the daemon exists, so failures are still
		 * reported in the foreground. */
		while (waitpid(pid, &status, 0) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)	/* SIGCHLD ignored: no status */
				_exit(0);
			return seterr(err, errlen, "daemon_detach: waitpid: %s",
			    strerror(errno));
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			_exit(0);
		code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
		seterr(err, errlen, "daemon_detach: %s", code > 0 &&
		    code < (int)(sizeof(detach_failure) /
		    sizeof(detach_failure[0])) ? detach_failure[code] :
		    "intermediate process died");
		return -1;
	}

	if (setsid() == -1)
		_exit(1);
	if ((pid = fork()) == -1)
		_exit(2);
	if (pid > 0)
		_exit(0);

	/* The daemon: not a session leader, so no controlling tty ever. */
	umask(027);
	if (chdir("/") == -1)
		return seterr(err, errlen, "daemon_detach: chdir /: %s",
		    strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return seterr(err, errlen, "daemon_detach: /dev/null: %s",
		    strerror(errno));
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1) {
		seterr(err, errlen, "daemon_detach: dup2: %s", strerror(errno));
		if (fd > STDERR_FILENO)
			close(fd);
		return -1;
	}
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/* The pid written in a pidfile, or 0 if there is none (yet). */
static pid_t
pidfile_read(int fd)
{
	char	 buf[32];
	ssize_t	 n;
	long	 v = 0;
	ssize_t	 i;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	for (i = 0; i < n && buf[i] != '\n'; i++) {
		if (!isdigit((unsigned char)buf[i]) || v > INT32_MAX / 10)
			return 0;
		v = v * 10 + (buf[i] - '0');
	}
	return v <= INT32_MAX ? (pid_t)v : 0;
}

struct pidfile *
pidfile_open(const char *path, pid_t *other, char *err, size_t errlen)
{
	struct pidfile	*pf;
	struct stat	 fst, pst;
	pid_t		 pid;
	int		 fd, tries;

	if (other != NULL)
		*other = 0;
	for (tries = 0; tries < PIDFILE_TRIES; tries++) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0644)) == -1) {
			seterr(err, errlen, "pidfile %s: %s", path,
			    strerror(errno));
			return NULL;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno != EWOULDBLOCK) {
				seterr(err, errlen, "pidfile %s: flock: %s",
				    path, strerror(errno));
				close(fd);
				return NULL;
			}
			pid = pidfile_read(fd);
			close(fd);
			if (other != NULL)
				*other = pid;
			if (pid > 0)
				seterr(err, errlen, "already running (pid %ld)",
				    (long)pid);
			else
				seterr(err, errlen, "already running (pidfile "
				    "%s is locked)", path);
			return NULL;
		}
		/* The previous owner may have unlinked the file between our
		 * open and flock: then the lock is on a dead file, retry. */
		if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			break;
		close(fd);
	}
	if (tries == PIDFILE_TRIES) {
		seterr(err, errlen, "pidfile %s: replaced while locking it",
		    path);
		return NULL;
	}
	if ((pf = calloc(1, sizeof(*pf))) == NULL ||
	    (pf->path = strdup(path)) == NULL) {
		seterr(err, errlen, "pidfile %s: %s", path, strerror(errno));
		free(pf);
		close(fd);
		return NULL;
	}
	pf->fd = fd;
	return pf;
}

int
pidfile_write(struct pidfile *pf)
{
	char	 buf[32];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pf->fd, 0) == -1 ||
	    pwrite(pf->fd, buf, (size_t)n, 0) != n) {
		log_warn("pidfile %s: write", pf->path);
		return -1;
	}
	return 0;
}

void
pidfile_remove(struct pidfile *pf)
{
	if (pf == NULL)
		return;
	/* Unlink while still holding the lock: nobody can lock it between. */
	if (unlink(pf->path) == -1 && errno != ENOENT)
		log_warn("pidfile %s: unlink", pf->path);
	pidfile_close(pf);
}

void
pidfile_close(struct pidfile *pf)
{
	if (pf == NULL)
		return;
	/* No LOCK_UN: the lock belongs to the open file, which the parent
	 * shares; dropping it here would drop it for the parent too. */
	close(pf->fd);
	free(pf->path);
	free(pf);
}

/* getpwnam_r into a buffer grown as needed; *bufp to free by the caller. */
static int
lookup_user(const char *user, struct passwd *pw, char **bufp,
    char *err, size_t errlen)
{
	struct passwd	*res = NULL;
	long		 hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t		 size = hint > 0 ? (size_t)hint : 4096;
	char		*buf = NULL, *nbuf;
	int		 rc;

	for (;;) {
		if ((nbuf = realloc(buf, size)) == NULL) {
			seterr(err, errlen, "user %s: %s", user,
			    strerror(errno));
			free(buf);
			return -1;
		}
		buf = nbuf;
		rc = getpwnam_r(user, pw, buf, size, &res);
		if (rc != ERANGE || size >= PWBUF_MAX)
			break;
		size *= 2;
	}
	if (res == NULL) {
		if (rc == 0 || rc == ENOENT || rc == ESRCH)
			seterr(err, errlen, "user %s does not exist", user);
		else
			seterr(err, errlen, "user %s: %s", user, strerror(rc));
		free(buf);
		return -1;
	}
	*bufp = buf;
	return 0;
}

int
daemon_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd	 pw;
	char		*pwbuf;
	uid_t		 uid, ruid, euid, suid;
	gid_t		 gid, rgid, egid, sgid;

	if (geteuid() != 0) {
		log_debug("not running as root (uid %u): not switching to "
		    "user %s", (unsigned)geteuid(), user);
		return 0;
	}
	if (lookup_user(user, &pw, &pwbuf, err, errlen) == -1)
		return -1;
	uid = pw.pw_uid;
	gid = pw.pw_gid;
	if (uid == 0) {
		seterr(err, errlen, "user %s has uid 0: refusing to run as "
		    "root", user);
		free(pwbuf);
		return -1;
	}
	if (initgroups(pw.pw_name, gid) == -1) {
		seterr(err, errlen, "user %s: initgroups: %s", user,
		    strerror(errno));
		free(pwbuf);
		return -1;
	}
	free(pwbuf);
	if (setresgid(gid, gid, gid) == -1)
		return seterr(err, errlen, "user %s: setresgid %u: %s", user,
		    (unsigned)gid, strerror(errno));
	if (setresuid(uid, uid, uid) == -1)
		return seterr(err, errlen, "user %s: setresuid %u: %s", user,
		    (unsigned)uid, strerror(errno));
	/* Past this point the process must not be able to become root
	 * again; if it can, the kernel did not do what we asked. */
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
		fatalx("daemon_drop_privileges: root regained after switching "
		    "to user %s", user);
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid)
		fatalx("daemon_drop_privileges: ids not all %u:%u after "
		    "switching to user %s", (unsigned)uid, (unsigned)gid, user);
	log_debug("switched to user %s (uid %u, gid %u)", user,
	    (unsigned)uid, (unsigned)gid);
	return 0;
}

unsigned long long
daemon_raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? 0 : (unsigned long long)rl.rlim_cur;
}

void
daemon_notify_init(int notify_fd)
{
	const char	*env;
	size_t		 len;

	notify.fd = notify_fd;
	if (notify_fd >= 0 && fcntl(notify_fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("notify fd %d", notify_fd);
		notify.fd = -1;
	}
	notify.have_sock = false;
	if ((env = getenv("NOTIFY_SOCKET")) == NULL || *env == '\0')
		return;
	len = strlen(env);
	if (env[0] != '/' && env[0] != '@') {
		log_warnx("NOTIFY_SOCKET %s: not an absolute path or @name, "
		    "ignored", env);
		return;
	}
	if (len >= sizeof(notify.sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET %s: path too long (%zu bytes, at "
		    "most %zu), ignored", env, len,
		    sizeof(notify.sun.sun_path) - 1);
		return;
	}
	memset(&notify.sun, 0, sizeof(notify.sun));
	notify.sun.sun_family = AF_UNIX;
	memcpy(notify.sun.sun_path, env, len + 1);
	notify.sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    len);
	if (env[0] == '@')
		notify.sun.sun_path[0] = '\0';	/* abstract: no NUL counted */
	else
		notify.sunlen++;
	notify.have_sock = true;
}

/* Whether one of the newline-separated assignments is READY=1. */
static bool
has_ready(const char *state)
{
	const char	*p = state, *nl;
	size_t		 n;

	for (;;) {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n == 7 && memcmp(p, "READY=1", 7) == 0)
			return true;
		if (nl == NULL)
			return false;
		p = nl + 1;
	}
}

/* write() to a pipe whose reader may be gone: EPIPE, but no SIGPIPE to
 * kill us (the signal is blocked and any we raised discarded). */
static ssize_t
write_nosigpipe(int fd, const void *p, size_t n)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t	 pipeset, old, pending;
	ssize_t		 r;
	int		 saved, was_pending;

	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipeset, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	do
		r = write(fd, p, n);
	while (r == -1 && errno == EINTR);
	saved = errno;
	if (r == -1 && saved == EPIPE && !was_pending)
		(void)sigtimedwait(&pipeset, NULL, &zero);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return r;
}

int
daemon_notify(const char *state)
{
	static const char ready[] = "READY=1\n";
	size_t	 len = strlen(state);
	ssize_t	 n;
	int	 s, rc = 0;

	if (notify.have_sock) {
		if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
		    (n = sendto(s, state, len, MSG_NOSIGNAL,
		    (struct sockaddr *)&notify.sun, notify.sunlen)) == -1 ||
		    (size_t)n != len) {
			log_warn("NOTIFY_SOCKET %s%s: send %s",
			    notify.sun.sun_path[0] == '\0' ? "@" : "",
			    notify.sun.sun_path + (notify.sun.sun_path[0] ==
			    '\0'), state);
			rc = -1;
		}
		if (s != -1)
			close(s);
	}
	if (notify.fd >= 0 && has_ready(state)) {
		if (write_nosigpipe(notify.fd, ready, sizeof(ready) - 1) !=
		    (ssize_t)(sizeof(ready) - 1)) {
			log_warn("notify fd %d: READY", notify.fd);
			rc = -1;
		}
		close(notify.fd);
		notify.fd = -1;
	}
	return rc;
}
