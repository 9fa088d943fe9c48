/* Unit tests for common/daemon. Anything that changes the process for good
 * (detach, dropping privileges, holding a lock against ourselves) runs in
 * a forked child that reports back through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "suites.h"
#include "testutil.h"

#define WAIT_MS		5000

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read exactly n bytes (or up to EOF) before the deadline. Returns the
 * bytes read; fewer than n means EOF or timeout. */
static size_t
read_deadline(int fd, void *p, size_t n, int ms)
{
	uint64_t	 deadline = now_ms() + (uint64_t)ms, now;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	size_t		 got = 0;
	ssize_t		 r;

	while (got < n && (now = now_ms()) < deadline) {
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		if ((r = read(fd, (char *)p + got, n - got)) == 0)
			break;
		if (r > 0)
			got += (size_t)r;
		else if (errno != EINTR && errno != EAGAIN)
			break;
	}
	return got;
}

/* One datagram, waited for until the deadline; -1 on timeout. */
static ssize_t
recv_deadline(int fd, void *p, size_t n, int ms)
{
	uint64_t	 deadline = now_ms() + (uint64_t)ms, now;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	ssize_t		 r;

	while ((now = now_ms()) < deadline) {
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		if ((r = recv(fd, p, n, MSG_DONTWAIT)) >= 0)
			return r;
		if (errno != EINTR && errno != EAGAIN)
			break;
	}
	return -1;
}

static void
wait_child(pid_t pid, int want_status)
{
	int	 status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died, status %#x", status);
	ck_assert_int_eq(WEXITSTATUS(status), want_status);
}

/* ---- command line ---- */

#define DEFCONF	"/etc/stackd/lbd.conf"

#define ARGV_MAX	8

static const struct {
	const char	*argv[ARGV_MAX];
	const char	*conf;
	bool		 foreground, check_only;
	int		 verbose;
} args_ok[] = {
	{ { "lbd" }, DEFCONF, false, false, 0 },
	{ { "lbd", "-d" }, DEFCONF, true, false, 0 },
	{ { "lbd", "-n", "-f", "/tmp/x.conf" }, "/tmp/x.conf", false, true, 0 },
	{ { "lbd", "-fx.conf" }, "x.conf", false, false, 0 },
	{ { "lbd", "-v" }, DEFCONF, false, false, 1 },
	{ { "lbd", "-vvv" }, DEFCONF, false, false, 3 },
	{ { "lbd", "-v", "-d", "-v" }, DEFCONF, true, false, 2 },
	{ { "lbd", "-dnv", "-f", "a.conf" }, "a.conf", true, true, 1 },
	{ { "lbd", "-d", "--" }, DEFCONF, true, false, 0 },
};

/* Refused command lines, or -h: rc and the expected error. */
static const struct {
	const char	*argv[ARGV_MAX];
	int		 rc;
	const char	*err;
} args_bad[] = {
	{ { "lbd", "-h" }, DAEMON_USAGE, "" },
	{ { "lbd", "-d", "-h", "-x" }, DAEMON_USAGE, "" },
	{ { "lbd", "-x" }, -1, "unknown option -x" },
	{ { "lbd", "-vx" }, -1, "unknown option -x" },
	{ { "lbd", "--conf" }, -1, "unknown option -" },
	{ { "lbd", "-f" }, -1, "option -f requires an argument" },
	{ { "lbd", "-d", "-N" }, -1, "option -N requires an argument" },
	{ { "lbd", "-f", "" }, -1, "-f: empty file name" },
	{ { "lbd", "-N", "abc" }, -1, "-N abc: not a file descriptor number" },
	{ { "lbd", "-N", "-1" }, -1, "-N -1: not a file descriptor number" },
	{ { "lbd", "-N", "" }, -1, "-N : not a file descriptor number" },
	{ { "lbd", "-N", "3x" }, -1, "-N 3x: not a file descriptor number" },
	{ { "lbd", "-N", "99999999999" }, -1, "not a file descriptor number" },
	{ { "lbd", "-N", "987654" }, -1, "-N 987654: not an open file" },
	{ { "lbd", "extra" }, -1, "unexpected argument 'extra'" },
	{ { "lbd", "-d", "extra", "-v" }, -1, "unexpected argument 'extra'" },
	{ { "lbd", "--", "-d" }, -1, "unexpected argument '-d'" },
};

static int
to_argv(const char *const *in, char **av)
{
	int	 ac;

	for (ac = 0; ac < ARGV_MAX - 1 && in[ac] != NULL; ac++)
		av[ac] = (char *)in[ac];
	av[ac] = NULL;
	return ac;
}

START_TEST(parse_args_table)
{
	struct daemon_opts o;
	char		*av[ARGV_MAX], err[256];
	size_t		 i;
	int		 ac, rc;

	/* Good and bad lines alternate: getopt must be reset each time. */
	for (i = 0; i < sizeof(args_bad) / sizeof(args_bad[0]); i++) {
		ac = to_argv(args_bad[i].argv, av);
		err[0] = '\0';
		rc = daemon_parse_args(ac, av, DEFCONF, &o, err, sizeof(err));
		ck_assert_msg(rc == args_bad[i].rc, "bad %zu: rc %d", i, rc);
		ck_assert_msg(strstr(err, args_bad[i].err) != NULL,
		    "bad %zu: error '%s', want '%s'", i, err, args_bad[i].err);

		ac = to_argv(args_ok[i % (sizeof(args_ok) /
		    sizeof(args_ok[0]))].argv, av);
		ck_assert_int_eq(daemon_parse_args(ac, av, DEFCONF, &o, err,
		    sizeof(err)), 0);
	}
	for (i = 0; i < sizeof(args_ok) / sizeof(args_ok[0]); i++) {
		ac = to_argv(args_ok[i].argv, av);
		err[0] = '\0';
		rc = daemon_parse_args(ac, av, DEFCONF, &o, err, sizeof(err));
		ck_assert_msg(rc == 0, "ok %zu: rc %d (%s)", i, rc, err);
		ck_assert_str_eq(o.conf_path, args_ok[i].conf);
		ck_assert_msg(o.foreground == args_ok[i].foreground &&
		    o.check_only == args_ok[i].check_only &&
		    o.verbose == args_ok[i].verbose && o.notify_fd == -1,
		    "ok %zu: -d %d -n %d -v %d -N %d", i, o.foreground,
		    o.check_only, o.verbose, o.notify_fd);
		/* argv is left in order (no GNU permutation). */
		for (ac = 0; args_ok[i].argv[ac] != NULL; ac++)
			ck_assert_ptr_eq(av[ac], args_ok[i].argv[ac]);
	}
}
END_TEST

START_TEST(parse_args_notify_fd)
{
	struct daemon_opts o;
	char		 fdstr[16], err[256];
	char		*av[] = { "agentd", "-d", "-N", fdstr, "-v", NULL };
	int		 p[2];

	ck_assert_int_eq(pipe(p), 0);
	snprintf(fdstr, sizeof(fdstr), "%d", p[1]);
	ck_assert_int_eq(daemon_parse_args(5, av, "/x", &o, err, sizeof(err)),
	    0);
	ck_assert_int_eq(o.notify_fd, p[1]);
	ck_assert(o.foreground);
	ck_assert_int_eq(o.verbose, 1);
	/* Closed: the same number is now refused. */
	close(p[1]);
	ck_assert_int_eq(daemon_parse_args(5, av, "/x", &o, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "not an open file descriptor"));
	close(p[0]);
}
END_TEST

START_TEST(usage_text)
{
	const char *want = "usage: webd [-dhnv] [-f file] [-N fd]\n";
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = open_memstream(&text, &len));
	daemon_usage(fp, "webd");
	fclose(fp);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(strncmp(text, want, strlen(want)), 0);
	ck_assert_ptr_nonnull(strstr(text, "-n\tcheck the configuration"));
	free(text);
}
END_TEST

/* ---- pidfile ---- */

struct lock_report {
	bool	 got_null;
	pid_t	 other;
	char	 err[200];
};

/* A second process tries to take the pidfile; what did it get? */
static void
open_in_child(const char *path, struct lock_report *rep)
{
	struct pidfile	*pf;
	pid_t		 pid;
	int		 p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		memset(rep, 0, sizeof(*rep));
		rep->other = -1;
		pf = pidfile_open(path, &rep->other, rep->err,
		    sizeof(rep->err));
		rep->got_null = pf == NULL;
		(void)write(p[1], rep, sizeof(*rep));
		_exit(0);
	}
	close(p[1]);
	ck_assert_uint_eq(read_deadline(p[0], rep, sizeof(*rep), WAIT_MS),
	    sizeof(*rep));
	close(p[0]);
	wait_child(pid, 0);
}

START_TEST(pidfile_lock_held)
{
	struct tmpdir	 t;
	struct lock_report rep;
	struct pidfile	*pf;
	char		 want[64], buf[64];
	const char	*path;
	pid_t		 other = -1;
	int		 fd;
	ssize_t		 n;

	tmpdir_make(&t, "daemon");
	path = tmpdir_file(&t, "lbd.pid");
	pf = pidfile_open(path, &other, rep.err, sizeof(rep.err));
	ck_assert_msg(pf != NULL, "%s", rep.err);
	ck_assert_int_eq(other, 0);

	/* Locked but no pid written yet. */
	open_in_child(path, &rep);
	ck_assert(rep.got_null);
	ck_assert_int_eq(rep.other, 0);
	ck_assert_msg(strstr(rep.err, "already running") != NULL, "%s",
	    rep.err);

	ck_assert_int_eq(pidfile_write(pf), 0);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);

	open_in_child(path, &rep);
	ck_assert(rep.got_null);
	ck_assert_int_eq(rep.other, getpid());
	snprintf(want, sizeof(want), "already running (pid %ld)",
	    (long)getpid());
	ck_assert_msg(strstr(rep.err, want) != NULL, "%s", rep.err);

	/* Removed: the file is gone and the next daemon gets it. */
	pidfile_remove(pf);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	open_in_child(path, &rep);
	ck_assert_msg(!rep.got_null, "%s", rep.err);
	pidfile_remove(NULL);
	unlink(path);
	ck_assert_int_eq(rmdir(t.dir), 0);
}
END_TEST

START_TEST(pidfile_stale_and_errors)
{
	struct tmpdir	 t;
	struct pidfile	*pf;
	char		 err[256], want[32], buf[64];
	const char	*path;
	pid_t		 other = -1;
	int		 fd;
	ssize_t		 n;

	tmpdir_make(&t, "daemon");
	/* Left by a crash, with a longer pid: taken over and truncated. */
	path = tmpdir_file(&t, "stale.pid");
	ck_assert_int_ge(fd = open(path, O_CREAT | O_WRONLY, 0644), 0);
	ck_assert_int_eq(write(fd, "999999999\n", 10), 10);
	close(fd);
	pf = pidfile_open(path, &other, err, sizeof(err));
	ck_assert_msg(pf != NULL, "%s", err);
	ck_assert_int_eq(pidfile_write(pf), 0);
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	ck_assert_str_eq(buf, want);
	pidfile_remove(pf);

	/* No directory. */
	path = tmpdir_file(&t, "nodir/x.pid");
	ck_assert_ptr_null(pidfile_open(path, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, path));

	/* A symlink planted at the pidfile path is not followed. */
	path = tmpdir_file(&t, "link.pid");
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_ptr_null(pidfile_open(path, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(t.dir), 0);
}
END_TEST

/* ---- readiness ---- */

START_TEST(notify_pipe_ready_then_eof)
{
	char	 buf[32];
	int	 p[2];
	struct pollfd pfd;

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(pipe(p), 0);
	daemon_notify_init(p[1]);
	ck_assert_int_ne(fcntl(p[1], F_GETFD) & FD_CLOEXEC, 0);

	/* Other states are not for the pipe. */
	ck_assert_int_eq(daemon_notify("STATUS=loading"), 0);
	ck_assert_int_eq(daemon_notify("READY=10"), 0);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);

	ck_assert_int_eq(daemon_notify("STATUS=up\nREADY=1"), 0);
	ck_assert_uint_eq(read_deadline(p[0], buf, sizeof(buf), WAIT_MS), 8);
	ck_assert_int_eq(memcmp(buf, "READY=1\n", 8), 0);
	/* ... then EOF: the write end was closed. */
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 0);
	/* Done with the pipe: further notifications are no-ops. */
	ck_assert_int_eq(daemon_notify("READY=1"), 0);
	close(p[0]);
}
END_TEST

struct captured {
	char	 msg[512];
	int	 count;
};

static void
capture_log(enum log_level level, const char *msg, void *arg)
{
	struct captured *c = arg;

	if (level == LOG_LVL_WARN) {
		snprintf(c->msg, sizeof(c->msg), "%s", msg);
		c->count++;
	}
}

START_TEST(notify_pipe_reader_gone)
{
	struct captured	 c = { "", 0 };
	sigset_t	 pending;
	int		 p[2];

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	daemon_notify_init(p[1]);
	/* EPIPE is reported; SIGPIPE neither kills us nor stays pending. */
	log_set_sink(capture_log, &c);
	ck_assert_int_eq(daemon_notify("READY=1"), -1);
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(c.count, 1);
	ck_assert_ptr_nonnull(strstr(c.msg, "Broken pipe"));
	ck_assert_int_eq(sigpending(&pending), 0);
	ck_assert(!sigismember(&pending, SIGPIPE));
	ck_assert_int_eq(daemon_notify("READY=1"), 0);
}
END_TEST

START_TEST(notify_nothing_set)
{
	unsetenv("NOTIFY_SOCKET");
	daemon_notify_init(-1);
	ck_assert_int_eq(daemon_notify("READY=1"), 0);
	ck_assert_int_eq(daemon_notify("STOPPING=1"), 0);
}
END_TEST

/* Bind a datagram socket at name ("@..." for abstract), set NOTIFY_SOCKET,
 * and check every state arrives as one datagram. */
static void
notify_socket_roundtrip(const char *name)
{
	static const char *const states[] = {
		"READY=1", "STATUS=serving 3 backends", "RELOADING=1",
		"STOPPING=1",
	};
	struct captured	 c = { "", 0 };
	struct sockaddr_un sun;
	socklen_t	 len;
	char		 buf[128];
	size_t		 i;
	ssize_t		 n;
	int		 s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(name), sizeof(sun.sun_path));
	memcpy(sun.sun_path, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	ck_assert_int_ge(s = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0), 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sun, len), 0);

	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	daemon_notify_init(-1);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		ck_assert_int_eq(daemon_notify(states[i]), 0);
		n = recv_deadline(s, buf, sizeof(buf), WAIT_MS);
		ck_assert_int_eq(n, (ssize_t)strlen(states[i]));
		ck_assert_int_eq(memcmp(buf, states[i], (size_t)n), 0);
	}
	close(s);
	/* Nobody listening any more: the failure is reported. */
	log_set_sink(capture_log, &c);
	ck_assert_int_eq(daemon_notify("READY=1"), -1);
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(c.count, 1);
	ck_assert_msg(strstr(c.msg, name) != NULL &&
	    strstr(c.msg, "send READY=1") != NULL, "%s", c.msg);
	unsetenv("NOTIFY_SOCKET");
	daemon_notify_init(-1);
}

START_TEST(notify_socket_path)
{
	struct tmpdir	 t;
	const char	*path;

	tmpdir_make(&t, "daemon");
	path = tmpdir_file(&t, "notify");
	notify_socket_roundtrip(path);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(t.dir), 0);
}
END_TEST

START_TEST(notify_socket_abstract)
{
	char	 name[64];

	snprintf(name, sizeof(name), "@stackd-test-notify-%ld-%ld",
	    (long)getpid(), (long)now_ms());
	notify_socket_roundtrip(name);
}
END_TEST

START_TEST(notify_socket_bad_env)
{
	struct captured	 c = { "", 0 };
	char		 longpath[300];

	log_set_sink(capture_log, &c);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", "relative/sock", 1), 0);
	daemon_notify_init(-1);
	ck_assert_int_eq(c.count, 1);
	ck_assert_ptr_nonnull(strstr(c.msg, "NOTIFY_SOCKET relative/sock"));
	ck_assert_int_eq(daemon_notify("READY=1"), 0);

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", longpath, 1), 0);
	daemon_notify_init(-1);
	ck_assert_int_eq(c.count, 2);
	ck_assert_ptr_nonnull(strstr(c.msg, "too long"));
	ck_assert_int_eq(daemon_notify("READY=1"), 0);
	unsetenv("NOTIFY_SOCKET");
	log_set_sink(NULL, NULL);
}
END_TEST

/* ---- privileges ---- */

struct priv_report {
	int	 rc;
	char	 err[200];
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;
	int	 setuid_rc, setuid_errno;
	int	 ngroups;
	bool	 has_gid0;
	int	 again_rc;
};

/* Whether id is mapped in this user namespace (file is uid_map/gid_map):
 * under `unshare -r` only root is, and no switch is possible. */
static bool
id_mapped(const char *file, unsigned long id)
{
	unsigned long	 inside, outside, count;
	bool		 found = false;
	FILE		*fp;

	if ((fp = fopen(file, "r")) == NULL)
		return true;	/* no user namespaces: everything is */
	while (fscanf(fp, "%lu %lu %lu", &inside, &outside, &count) == 3)
		if (id >= inside && id - inside < count)
			found = true;
	fclose(fp);
	return found;
}

static bool
setgroups_allowed(void)
{
	char	 buf[16] = "";
	FILE	*fp;

	if ((fp = fopen("/proc/self/setgroups", "r")) == NULL)
		return true;
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	return strncmp(buf, "deny", 4) != 0;
}

START_TEST(drop_privileges_to_nobody)
{
	struct priv_report rep;
	struct passwd	*pw;
	gid_t		 groups[64];
	pid_t		 pid;
	int		 p[2], i;

	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		memset(&rep, 0, sizeof(rep));
		rep.rc = daemon_drop_privileges("nobody", rep.err,
		    sizeof(rep.err));
		getresuid(&rep.ruid, &rep.euid, &rep.suid);
		getresgid(&rep.rgid, &rep.egid, &rep.sgid);
		rep.ngroups = getgroups(64, groups);
		for (i = 0; i < rep.ngroups; i++)
			if (groups[i] == 0)
				rep.has_gid0 = true;
		errno = 0;
		rep.setuid_rc = setuid(0);
		rep.setuid_errno = errno;
		/* Now not root: a second call is a no-op. */
		rep.again_rc = daemon_drop_privileges("nobody", NULL, 0);
		(void)write(p[1], &rep, sizeof(rep));
		_exit(0);
	}
	close(p[1]);
	ck_assert_uint_eq(read_deadline(p[0], &rep, sizeof(rep), WAIT_MS),
	    sizeof(rep));
	close(p[0]);
	wait_child(pid, 0);

	if (getuid() == 0 && (!id_mapped("/proc/self/uid_map", pw->pw_uid) ||
	    !id_mapped("/proc/self/gid_map", pw->pw_gid) ||
	    !setgroups_allowed())) {
		/* Root of a user namespace that cannot switch: it must say
		 * so, and the real switch is not tested here. */
		ck_assert_int_eq(rep.rc, -1);
		ck_assert_ptr_nonnull(strstr(rep.err, "user nobody"));
		fprintf(stderr, "daemon: user namespace without nobody, "
		    "switch not tested: %s\n", rep.err);
		return;
	}
	ck_assert_msg(rep.rc == 0, "%s", rep.err);
	ck_assert_int_eq(rep.again_rc, 0);
	if (getuid() != 0) {
		/* Ordinary user: nothing changed. */
		ck_assert_uint_eq(rep.euid, geteuid());
		return;
	}
	ck_assert_uint_eq(rep.ruid, pw->pw_uid);
	ck_assert_uint_eq(rep.euid, pw->pw_uid);
	ck_assert_uint_eq(rep.suid, pw->pw_uid);
	ck_assert_uint_eq(rep.rgid, pw->pw_gid);
	ck_assert_uint_eq(rep.egid, pw->pw_gid);
	ck_assert_uint_eq(rep.sgid, pw->pw_gid);
	ck_assert_int_ge(rep.ngroups, 0);
	ck_assert(!rep.has_gid0);
	ck_assert_int_eq(rep.setuid_rc, -1);
	ck_assert_int_eq(rep.setuid_errno, EPERM);
}
END_TEST

START_TEST(drop_privileges_bad_user)
{
	char	 err[256];

	if (geteuid() != 0) {
		ck_assert_int_eq(daemon_drop_privileges("stackd-no-such-user",
		    err, sizeof(err)), 0);
		return;
	}
	/* These fail before changing anything, so no fork is needed. */
	ck_assert_int_eq(daemon_drop_privileges("stackd-no-such-user", err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "user stackd-no-such-user does not exist");
	ck_assert_int_eq(daemon_drop_privileges("root", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "uid 0"));
	ck_assert_uint_eq(geteuid(), 0);
}
END_TEST

/* ---- detach ---- */

struct detach_report {
	int	 rc;
	char	 err[200];
	pid_t	 pid, sid, pgid;
	mode_t	 umask;
	char	 cwd[64];
	bool	 stdio_null[3];
};

START_TEST(detach_in_child)
{
	struct detach_report rep;
	struct stat	 devnull, st;
	pid_t		 pid;
	int		 p[2], i;

	ck_assert_int_eq(stat("/dev/null", &devnull), 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(p[0]);
		memset(&rep, 0, sizeof(rep));
		rep.rc = daemon_detach(rep.err, sizeof(rep.err));
		/* Only the daemon gets here; its parent has exited 0. */
		rep.pid = getpid();
		rep.sid = getsid(0);
		rep.pgid = getpgid(0);
		rep.umask = umask(0);
		if (getcwd(rep.cwd, sizeof(rep.cwd)) == NULL)
			rep.cwd[0] = '\0';
		for (i = 0; i < 3; i++)
			rep.stdio_null[i] = fstat(i, &st) == 0 &&
			    S_ISCHR(st.st_mode) &&
			    st.st_rdev == devnull.st_rdev;
		(void)write(p[1], &rep, sizeof(rep));
		_exit(0);
	}
	close(p[1]);
	wait_child(pid, 0);
	ck_assert_uint_eq(read_deadline(p[0], &rep, sizeof(rep), WAIT_MS),
	    sizeof(rep));
	close(p[0]);

	ck_assert_msg(rep.rc == 0, "%s", rep.err);
	ck_assert_int_ne(rep.pid, pid);
	ck_assert_int_ne(rep.pid, getpid());
	/* A new session, made by the intermediate process (neither our
	 * child nor us), and the daemon is not its leader. */
	ck_assert_int_ne(rep.sid, getsid(0));
	ck_assert_int_ne(rep.sid, pid);
	ck_assert_int_ne(rep.sid, getpid());
	ck_assert_int_ne(rep.pid, rep.sid);
	ck_assert_int_eq(rep.pgid, rep.sid);
	ck_assert_uint_eq(rep.umask, 027);
	ck_assert_str_eq(rep.cwd, "/");
	ck_assert(rep.stdio_null[0] && rep.stdio_null[1] && rep.stdio_null[2]);
}
END_TEST

/* A soft open-files limit below the hard one is raised to it; one at the
 * hard limit stays. */
START_TEST(raise_nofile)
{
	struct rlimit	 saved, rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	if (saved.rlim_max == RLIM_INFINITY || saved.rlim_max < 64)
		return;	/* nothing to show on this machine */
	rl = saved;
	rl.rlim_cur = 32;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(daemon_raise_nofile(), saved.rlim_max);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, saved.rlim_max);
	ck_assert_uint_eq(daemon_raise_nofile(), saved.rlim_max);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
}
END_TEST

Suite *
daemon_suite(void)
{
	Suite	*s = suite_create("daemon");
	TCase	*tc_args = tcase_create("args");
	TCase	*tc_pid = tcase_create("pidfile");
	TCase	*tc_notify = tcase_create("notify");
	TCase	*tc_proc = tcase_create("process");

	tcase_add_test(tc_args, parse_args_table);
	tcase_add_test(tc_args, parse_args_notify_fd);
	tcase_add_test(tc_args, usage_text);
	suite_add_tcase(s, tc_args);

	tcase_add_test(tc_pid, pidfile_lock_held);
	tcase_add_test(tc_pid, pidfile_stale_and_errors);
	suite_add_tcase(s, tc_pid);

	tcase_add_test(tc_notify, notify_pipe_ready_then_eof);
	tcase_add_test(tc_notify, notify_pipe_reader_gone);
	tcase_add_test(tc_notify, notify_nothing_set);
	tcase_add_test(tc_notify, notify_socket_path);
	tcase_add_test(tc_notify, notify_socket_abstract);
	tcase_add_test(tc_notify, notify_socket_bad_env);
	suite_add_tcase(s, tc_notify);

	tcase_add_test(tc_proc, drop_privileges_to_nobody);
	tcase_add_test(tc_proc, drop_privileges_bad_user);
	tcase_add_test(tc_proc, detach_in_child);
	tcase_add_test(tc_proc, raise_nofile);
	suite_add_tcase(s, tc_proc);
	return s;
}
