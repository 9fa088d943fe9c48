/* Unit tests for common/service: a real service_main() in a forked child,
 * driven through its control socket and signals. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "ev.h"
#include "service.h"
#include "suites.h"

struct svc_conf {
	struct service_conf	 svc;
	char			*greeting;
	uint64_t		 linger_ms;	/* graceful stop takes this long */
};

struct svc_state {
	struct ev_timer		 linger;
	char			*greeting;
};

static const struct conf_directive svc_directives[] = {
	SERVICE_DIRECTIVES(struct svc_conf, svc),
	{ "greeting", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct svc_conf, greeting), 0, 0 },
	{ "linger", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct svc_conf, linger_ms), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static void
svc_conf_free(void *p)
{
	struct svc_conf *c = p;

	service_conf_clear(&c->svc);
	free(c->greeting);
	free(c);
}

static void *
svc_conf_load(const struct conf_stmt *root, struct conf_ctx *ctx)
{
	struct svc_conf *c = calloc(1, sizeof(*c));

	if (conf_apply(ctx, root, svc_directives, c) == -1 ||
	    c->greeting == NULL) {
		if (c->greeting == NULL)
			conf_error(ctx, NULL, "greeting: missing");
		svc_conf_free(c);
		return NULL;
	}
	return c;
}

static int
svc_start(struct service *svc, void *conf, char *err, size_t errlen)
{
	struct svc_state *st = service_arg(svc);

	st->greeting = ((struct svc_conf *)conf)->greeting;
	return 0;
}

static int
svc_reload(struct service *svc, void *conf, char *err, size_t errlen)
{
	struct svc_state *st = service_arg(svc);
	struct svc_conf	*c = conf;

	if (strcmp(c->greeting, "refuse") == 0) {
		snprintf(err, errlen, "greeting refuse: refused by the daemon");
		return -1;
	}
	st->greeting = c->greeting;
	return 0;
}

static void
linger_done(struct ev_loop *loop, void *arg)
{
	service_stopped(arg);
}

static void
svc_stop(struct service *svc)
{
	struct svc_state *st = service_arg(svc);
	struct svc_conf	*c = service_conf(svc);

	ev_timer_init(&st->linger, linger_done, svc);
	ev_timer_start(service_loop(svc), &st->linger, c->linger_ms);
}

static void
svc_cleanup(struct service *svc)
{
	struct svc_state *st = service_arg(svc);

	ev_timer_stop(service_loop(svc), &st->linger);
}

static void
svc_status(struct service *svc, struct ctl_conn *c)
{
	struct svc_state *st = service_arg(svc);

	ctl_printf(c, "greeting: %s\n", st->greeting);
}

static void
cmd_greet(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct svc_state *st = service_arg(arg);

	ctl_reply_ok(c);
	ctl_printf(c, "%s, %s\n", st->greeting, argv[1]);
}

/* A worker-like child: service_forked, then wait to be looked at and
 * killed (SIGALRM ends it if the test does not: its other signals are
 * blocked, as they were for the parent's loop). */
static void
cmd_fork(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service	*svc = arg;
	pid_t		 pid;

	if ((pid = fork()) == 0) {
		service_forked(svc);
		if (service_loop(svc) != NULL)
			_exit(2);
		alarm(30);
		for (;;)
			pause();
	}
	ctl_reply_ok(c);
	ctl_printf(c, "%ld\n", (long)pid);
}

static const struct ctl_command svc_commands[] = {
	{ "greet", 1, 1, "greet NAME", cmd_greet },
	{ "fork", 0, 0, "fork", cmd_fork },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct service_ops svc_ops = {
	.name = "svc",
	.version = "1.2",
	.default_conf = "/nonexistent/svc.conf",
	.service_conf_offset = offsetof(struct svc_conf, svc),
	.conf_load = svc_conf_load,
	.conf_free = svc_conf_free,
	.start = svc_start,
	.reload = svc_reload,
	.stop = svc_stop,
	.status = svc_status,
	.cleanup = svc_cleanup,
	.commands = svc_commands,
};

/* A temp dir with svc.conf; the socket lives beside it. */
static char	 dir[64];
static char	 conf_path[128];
static char	 sock_path[128];
static char	 pid_path[128];

static void
write_conf(const char *extra)
{
	FILE *fp = fopen(conf_path, "w");

	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "control \"%s\"\nuser root\n%s", sock_path, extra);
	fclose(fp);
}

static void
setup(void)
{
	strcpy(dir, "/tmp/stackd-svc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/svc.conf", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/svc.sock", dir);
	snprintf(pid_path, sizeof(pid_path), "%s/svc.pid", dir);
}

static void
teardown(void)
{
	unlink(conf_path);
	unlink(sock_path);
	unlink(pid_path);
	rmdir(dir);
}

/* Run service_main in a child; return its pid once it reported ready. */
static pid_t
spawn(void)
{
	int	 p[2];
	char	 fdarg[16], line[32] = "";
	ssize_t	 n;
	pid_t	 pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct svc_state st = { 0 };
		char *argv[] = { "svc", "-d", "-f", conf_path, "-N", fdarg, NULL };

		close(p[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
		_exit(service_main(&svc_ops, 6, argv, &st));
	}
	close(p[1]);
	n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	ck_assert_msg(n > 0 && strcmp(line, "READY=1\n") == 0,
	    "child did not report ready (read %zd)", n);
	return pid;
}

/* One request; payload into out (NUL-terminated). 0 ok, 1 error, -1. */
static int
request(const char *line, char *out, size_t outlen, char *err, size_t errlen)
{
	char	*argv[8], copy[256];
	const char *why;
	FILE	*fp = fmemopen(out, outlen, "w");
	int	 argc, rv;

	snprintf(copy, sizeof(copy), "%s", line);
	argc = ctl_split(copy, argv, 7, &why);
	rv = ctl_request(sock_path, argc, argv, fp, 5000, err, errlen);
	fclose(fp);
	return rv;
}

static int
wait_exit(pid_t pid)
{
	int	 status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(status_commands_and_builtins)
{
	char	 out[8192], err[512];
	pid_t	 pid;

	write_conf("greeting \"hi\"\n");
	pid = spawn();
	ck_assert_int_eq(request("status", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "daemon: svc 1.2\n"));
	ck_assert_ptr_nonnull(strstr(out, "state: running\n"));
	ck_assert_ptr_nonnull(strstr(out, "greeting: hi\n"));
	ck_assert_int_eq(request("version", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "svc 1.2\n");
	ck_assert_int_eq(request("greet bob", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "hi, bob\n");
	ck_assert_int_eq(request("greet", out, sizeof(out), err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "usage: greet NAME"));
	ck_assert_int_eq(request("metrics", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "stackd_svc_build_info{version=\"1.2\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "stackd_svc_ctl_requests_total "));
	ck_assert_ptr_nonnull(strstr(out, "process_resident_memory_bytes "));
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_int_eq(access(sock_path, F_OK), -1);
}
END_TEST

START_TEST(reload_keeps_old_config_on_errors)
{
	char	 out[8192], err[512];
	pid_t	 pid;

	write_conf("greeting \"one\"\n");
	pid = spawn();
	/* A syntax error and an unknown directive: refused, both listed. */
	write_conf("greeting \"two\"\nbogus 1\nlinger 5x\n");
	ck_assert_int_eq(request("reload", out, sizeof(out), err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "keeping the running one"));
	ck_assert_ptr_nonnull(strstr(out, "svc.conf:4: unknown directive"));
	ck_assert_ptr_nonnull(strstr(out, "svc.conf:5: linger: expected a duration"));
	/* The daemon itself refusing: nothing changes either. */
	write_conf("greeting \"refuse\"\n");
	ck_assert_int_eq(request("reload", out, sizeof(out), err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "refused by the daemon"));
	ck_assert_int_eq(request("greet x", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "one, x\n");
	/* A good one by ctl, then one by SIGHUP. */
	write_conf("greeting \"two\"\n");
	ck_assert_int_eq(request("reload", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_int_eq(request("greet x", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "two, x\n");
	write_conf("greeting \"three\"\n");
	kill(pid, SIGHUP);
	/* The signal is handled before the next request on the same loop. */
	ck_assert_int_eq(request("status", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "reloads: 2 ok, 2 failed\n"));
	ck_assert_ptr_nonnull(strstr(out, "greeting: three\n"));
	ck_assert_int_eq(request("metrics", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out,
	    "stackd_svc_config_reloads_total{result=\"failed\"} 2\n"));
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_exit(pid), 0);
}
END_TEST

START_TEST(graceful_stop_waits_then_deadline)
{
	char	 out[8192], err[512];
	pid_t	 pid;
	uint64_t t0, t1;
	struct timespec ts;

	/* The stop takes 300 ms: the daemon answers "stopping" meanwhile. */
	write_conf("greeting \"x\"\nlinger 300ms\n");
	pid = spawn();
	kill(pid, SIGTERM);
	ck_assert_int_eq(request("status", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "state: stopping\n"));
	ck_assert_int_eq(wait_exit(pid), 0);

	/* A stop longer than shutdown-timeout is cut at the deadline. */
	write_conf("greeting \"x\"\nlinger 1h\nshutdown-timeout 200ms\n");
	pid = spawn();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_exit(pid), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
	ck_assert_uint_ge(t1 - t0, 200);
	ck_assert_uint_lt(t1 - t0, 5000);
}
END_TEST

/* Whether pid holds a descriptor whose target names one of what[]. */
static bool
holds_any(pid_t pid, const char *const what[])
{
	char		 fddir[64], path[320], target[256];
	struct dirent	*de;
	DIR		*d;
	ssize_t		 n;
	bool		 found = false;
	size_t		 i;

	snprintf(fddir, sizeof(fddir), "/proc/%ld/fd", (long)pid);
	ck_assert_ptr_nonnull(d = opendir(fddir));
	while (!found && (de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", fddir, de->d_name);
		if (de->d_name[0] == '.' ||
		    (n = readlink(path, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		for (i = 0; what[i] != NULL; i++)
			found |= strstr(target, what[i]) != NULL;
	}
	closedir(d);
	return found;
}

START_TEST(forked_child_leaves_the_service_alone)
{
	const char *const inherited[] = { "socket:", "eventpoll", "signalfd",
	    "svc.pid", NULL };
	char	 out[8192], err[512], extra[256];
	pid_t	 pid, child;
	int	 i;

	snprintf(extra, sizeof(extra), "greeting \"x\"\npidfile \"%s\"\n",
	    pid_path);
	write_conf(extra);
	pid = spawn();
	/* The reply ends (EOF) only once the child closed its copy of the
	 * request's connection too. */
	ck_assert_int_eq(request("fork", out, sizeof(out), err, sizeof(err)), 0);
	child = (pid_t)atol(out);
	ck_assert_int_gt(child, 0);
	/* No control socket, loop or pidfile left open in the child... */
	for (i = 0; i < 200 && holds_any(child, inherited); i++)
		usleep(10000);
	ck_assert_msg(!holds_any(child, inherited), "the child still holds "
	    "one of the parent's descriptors");
	/* ...and the parent's are whole: socket, pidfile lock, signals. */
	ck_assert_int_eq(access(sock_path, F_OK), 0);
	ck_assert_int_eq(request("version", out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_ptr_null(pidfile_open(pid_path, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "already running"));
	kill(child, SIGKILL);
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_int_eq(access(sock_path, F_OK), -1);
	ck_assert_int_eq(access(pid_path, F_OK), -1);
}
END_TEST

/* -n in a child with stdout and stderr on a pipe. */
static int
check_only(char *out, size_t outlen)
{
	int	 p[2];
	ssize_t	 n, total = 0;
	pid_t	 pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct svc_state st = { 0 };
		char *argv[] = { "svc", "-n", "-f", conf_path, NULL };

		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		_exit(service_main(&svc_ops, 4, argv, &st));
	}
	close(p[1]);
	while ((n = read(p[0], out + total, outlen - 1 - total)) > 0)
		total += n;
	out[total] = '\0';
	close(p[0]);
	return wait_exit(pid);
}

START_TEST(check_only_reports_every_error)
{
	char	 out[4096];

	write_conf("greeting \"x\"\n");
	ck_assert_int_eq(check_only(out, sizeof(out)), 0);
	ck_assert_str_eq(out, "configuration OK\n");
	write_conf("greeting \"x\"\nshutdown-timeout 0\nuser a\ncontrol {\n");
	ck_assert_int_eq(check_only(out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "svc.conf:6: expected '}' before end of file"));
	write_conf("greeting \"x\"\nshutdown-timeout 0\nuser a\n");
	ck_assert_int_eq(check_only(out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "svc.conf:4: shutdown-timeout"));
	ck_assert_ptr_nonnull(strstr(out, "svc.conf:5: "));	/* user twice */
	/* A missing file names it. */
	unlink(conf_path);
	ck_assert_int_eq(check_only(out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "svc.conf"));
}
END_TEST

START_TEST(bad_options_and_second_socket)
{
	char	 out[4096], errtext[4096];
	pid_t	 pid, pid2;
	int	 status, p[2];
	ssize_t	 n, total = 0;

	/* Unknown option: usage, exit 1. */
	if ((pid = fork()) == 0) {
		struct svc_state st = { 0 };
		char *argv[] = { "svc", "-x", NULL };

		close(2);
		_exit(service_main(&svc_ops, 2, argv, &st));
	}
	ck_assert_int_eq(wait_exit(pid), 1);
	/* A second daemon on a live control socket fails to start, saying
	 * why (and nothing else goes wrong on the way out). */
	write_conf("greeting \"x\"\n");
	pid = spawn();
	ck_assert_int_eq(pipe(p), 0);
	if ((pid2 = fork()) == 0) {
		struct svc_state st = { 0 };
		char *argv[] = { "svc", "-d", "-f", conf_path, NULL };

		dup2(p[1], 2);
		close(p[0]);
		_exit(service_main(&svc_ops, 4, argv, &st));
	}
	close(p[1]);
	while ((n = read(p[0], errtext + total, sizeof(errtext) - 1 - total)) > 0)
		total += n;
	errtext[total] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid2, &status, 0), pid2);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ck_assert_msg(strstr(errtext, "address in use") != NULL, "%s", errtext);
	ck_assert_msg(strstr(errtext, "heap") == NULL, "%s", errtext);
	/* The first one is untouched. */
	ck_assert_int_eq(request("version", out, sizeof(out), out, sizeof(out)), 0);
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_exit(pid), 0);
}
END_TEST

Suite *
service_suite(void)
{
	Suite	*s = suite_create("service");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, status_commands_and_builtins);
	tcase_add_test(tc, reload_keeps_old_config_on_errors);
	tcase_add_test(tc, graceful_stop_waits_then_deadline);
	tcase_add_test(tc, check_only_reports_every_error);
	tcase_add_test(tc, bad_options_and_second_socket);
	tcase_add_test(tc, forked_child_leaves_the_service_alone);
	suite_add_tcase(s, tc);
	return s;
}
