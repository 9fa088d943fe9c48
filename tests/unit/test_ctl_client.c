/* Unit tests for common/ctl, client side: ctl_request, ctl_tool_main and
 * socat in forked children against the test server, and peers of other
 * users (as root: children that become nobody). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_test.h"

struct child_res {
	int	 status;		/* exit code, or 128 + signal */
	char	 out[8192];
	char	 err[2048];
};

static void
pipe_collect(int fd, char *buf, size_t max, size_t *len, bool *eof)
{
	ssize_t	 n;

	while (!*eof) {
		ck_assert_uint_lt(*len, max - 1);
		if ((n = read(fd, buf + *len, max - 1 - *len)) == 0)
			*eof = true;
		else if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			return;
		} else {
			*len += (size_t)n;
			buf[*len] = '\0';
		}
	}
}

/* Run fn in a child with stdout and stderr captured, the loop running. */
static void
run_child(struct tctx *t, int (*fn)(void *), void *arg, struct child_res *r)
{
	int	 po[2], pe[2], ws;
	size_t	 olen = 0, elen = 0;
	bool	 oeof = false, eeof = false, done = false;
	pid_t	 pid;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pipe2(po, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pe, O_CLOEXEC), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		ws = fn(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(ws);
	}
	close(po[1]);
	close(pe[1]);
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	RUN_UNTIL(t, (pipe_collect(po[0], r->out, sizeof(r->out), &olen, &oeof),
	    pipe_collect(pe[0], r->err, sizeof(r->err), &elen, &eeof),
	    oeof && eeof &&
	    (done || (done = waitpid(pid, &ws, WNOHANG) == pid))));
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	close(po[0]);
	close(pe[0]);
}

struct req_arg {
	const char	*path;
	int		 argc;
	char		*argv[8];
	int		 timeout_ms;
	int		 ngroups;	/* >= 0: become nobody, these groups */
	gid_t		 groups[2];
};

/* Exit 10 + ctl_request's result; err on stderr. */
static int
child_request(void *arg)
{
	struct req_arg	*ra = arg;
	char		 err[512] = "";
	int		 rc;

	if (ra->ngroups >= 0 && (setgroups(ra->ngroups, ra->groups) == -1 ||
	    setgid(65534) == -1 || setuid(65534) == -1))
		return 99;
	rc = ctl_request(ra->path, ra->argc, ra->argv, stdout, ra->timeout_ms,
	    err, sizeof(err));
	fputs(err, stderr);
	return 10 + rc;
}

START_TEST(client_request_results)
{
	struct tctx	 t;
	struct child_res r;
	struct req_arg	 ra = { .argc = 3,
			    .argv = { "echo", "a b", "say \"x\"" },
			    .timeout_ms = 2000, .ngroups = -1 };
	char		 big[CTL_LINE_MAX + 1];

	ct_setup(&t, 0660);
	ra.path = t.path;
	run_child(&t, child_request, &ra, &r);
	ck_assert_msg(r.status == 10, "exit %d: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "a b\nsay \"x\"\n");
	ck_assert_str_eq(r.err, "");
	ra = (struct req_arg){ t.path, 2, { "fail", "web-2" }, 2000, -1, { 0 } };
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 11);
	ck_assert_str_eq(r.err, "no such server 'web-2'");
	ck_assert_str_eq(r.out, "");
	/* A stream the client follows to its end. */
	ra = (struct req_arg){ t.path, 2, { "count", "2" }, 2000, -1, { 0 } };
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 10);
	ck_assert_str_eq(r.out, "tick 1\ntick 2\n");
	/* No reply in time. */
	ra = (struct req_arg){ t.path, 1, { "hang" }, 200, -1, { 0 } };
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 9);
	ck_assert_str_eq(r.err, "no reply within 200 ms");
	RUN_UNTIL(&t, t.closed == 2);
	/* Refused before connecting. */
	ra = (struct req_arg){ t.path, 2, { "echo", "a\nb" }, 2000, -1, { 0 } };
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 9);
	ck_assert_str_eq(r.err, "control character in argument");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ra = (struct req_arg){ t.path, 2, { "echo", big }, 2000, -1, { 0 } };
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 9);
	ck_assert_str_eq(r.err, "request too long (max 4096 bytes)");
	ck_assert_uint_eq(ctl_server_stats(t.srv).requests, 4);
	/* Nobody listening. */
	ra = (struct req_arg){ "/nonexistent/lbd.sock", 1, { "status" }, 2000,
	    -1, { 0 } };
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 9);
	ck_assert_str_eq(r.err, "connect /nonexistent/lbd.sock: No such file "
	    "or directory (is lbd running?)");
	ct_teardown(&t);
}
END_TEST

struct tool_arg {
	int		 argc;
	char		*argv[8];
	const char	*sock;
};

static int
child_tool(void *arg)
{
	struct tool_arg	*ta = arg;

	return ctl_tool_main(ta->argc, ta->argv, "testctl", ta->sock);
}

START_TEST(tool_main_exit_codes)
{
	struct tctx	 t;
	struct child_res r;
	static const struct {
		int		 argc;
		char		*argv[6];
		bool		 default_sock;
		int		 status;
		const char	*out;
		const char	*err;	/* in stderr; "": stderr empty */
	} cases[] = {
		{ 2, { "testctl", "status" }, true, 0, "state running\n", "" },
		{ 3, { "testctl", "echo", "-1" }, true, 0, "-1\n", "" },
		{ 3, { "testctl", "fail", "x" }, true, 1, "",
		    "testctl: no such server 'x'\n" },
		{ 4, { "testctl", "-t", "0.5", "status" }, true, 0,
		    "state running\n", "" },
		{ 2, { "testctl", "status" }, false, 2, "",
		    "testctl: connect /nonexistent/x.sock: No such file or "
		    "directory (is x running?)\n" },
		{ 2, { "testctl", "-h" }, true, 0, "usage: testctl [-h] "
		    "[-s socket] [-t seconds] command [argument ...]\n", "" },
		{ 1, { "testctl" }, true, 2, "", "testctl: no command given" },
		{ 3, { "testctl", "-x", "status" }, true, 2, "",
		    "testctl: unknown option -x\nusage: testctl " },
		{ 4, { "testctl", "-t", "soon", "status" }, true, 2, "",
		    "testctl: bad timeout 'soon'" },
		{ 2, { "testctl", "-s" }, true, 2, "",
		    "testctl: option -s needs an argument" },
	};
	struct tool_arg	 ta;
	size_t		 i;

	ct_setup(&t, 0660);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ta.argc = cases[i].argc;
		memcpy(ta.argv, cases[i].argv, sizeof(cases[i].argv));
		ta.sock = cases[i].default_sock ? t.path : "/nonexistent/x.sock";
		run_child(&t, child_tool, &ta, &r);
		ck_assert_msg(r.status == cases[i].status, "case %zu: exit %d",
		    i, r.status);
		ck_assert_str_eq(r.out, cases[i].out);
		if (cases[i].err[0] == '\0')
			ck_assert_str_eq(r.err, "");
		else
			ck_assert_msg(strstr(r.err, cases[i].err) != NULL,
			    "case %zu: stderr '%s'", i, r.err);
	}
	/* -s overrides the default socket. */
	ta = (struct tool_arg){ 4, { "testctl", "-s", t.path, "status" },
	    "/nonexistent/x.sock" };
	run_child(&t, child_tool, &ta, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "state running\n");
	ct_teardown(&t);
}
END_TEST

/* hang: a 200th of the default (50 ms); late: no limit; else the default. */
static int
hook_timeout(int argc, char *const argv[], int default_ms)
{
	if (strcmp(argv[0], "hang") == 0)
		return default_ms / 200;
	if (strcmp(argv[0], "late") == 0 && argc == 2)
		return 0;
	return -1;
}

static int
child_tool_hook(void *arg)
{
	struct tool_arg	*ta = arg;
	const struct ctl_tool tool = { "testctl", ta->sock, hook_timeout };

	return ctl_tool_run(&tool, ta->argc, ta->argv);
}

START_TEST(tool_reply_timeout_hook)
{
	struct tctx	 t;
	struct child_res r;
	struct tool_arg	 ta = { 2, { "testctl", "hang" }, NULL };

	ct_setup(&t, 0660);
	ta.sock = t.path;
	run_child(&t, child_tool_hook, &ta, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "testctl: no reply within 50 ms\n");
	/* -t wins over the hook. */
	ta = (struct tool_arg){ 4, { "testctl", "-t", "0.1", "hang" }, t.path };
	run_child(&t, child_tool_hook, &ta, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "testctl: no reply within 100 ms\n");
	/* No limit: the deferred answer arrives. */
	ta = (struct tool_arg){ 3, { "testctl", "late", "20" }, t.path };
	run_child(&t, child_tool_hook, &ta, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "testctl: gave up after 20 ticks\n");
	/* Negative: the default. */
	ta = (struct tool_arg){ 2, { "testctl", "status" }, t.path };
	run_child(&t, child_tool_hook, &ta, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "state running\n");
	ct_teardown(&t);
}
END_TEST

static int
child_socat(void *arg)
{
	execlp("sh", "sh", "-c", arg, (char *)NULL);
	return 127;
}

START_TEST(socat_scripting)
{
	struct tctx	 t;
	struct child_res r;
	char		 cmd[256];

	ct_setup(&t, 0660);
	snprintf(cmd, sizeof(cmd), "echo status | socat - UNIX:%s", t.path);
	run_child(&t, child_socat, cmd, &r);
	ck_assert_msg(r.status == 0, "socat: exit %d: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "ok\nstate running\n");
	snprintf(cmd, sizeof(cmd), "printf 'echo \"a b\"\\r\\n' | "
	    "socat - UNIX:%s", t.path);
	run_child(&t, child_socat, cmd, &r);
	ck_assert_str_eq(r.out, "ok\na b\n");
	ct_teardown(&t);
}
END_TEST

/* Root only: become nobody (uid and gid 65534) in the child. */
START_TEST(peer_permission)
{
	struct tctx	 t;
	struct child_res r;
	struct req_arg	 ra = { .argc = 1, .argv = { "status" },
			    .timeout_ms = 2000, .ngroups = 0 };

	ct_setup(&t, 0666);
	ra.path = t.path;
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 11);
	ck_assert_str_eq(r.err, "permission denied");
	ck_assert_uint_eq(ctl_server_stats(t.srv).refused, 1);
	/* A supplementary group that is allowed lets it in. */
	ck_assert_int_eq(ctl_server_allow_gid(t.srv, 4242), 0);
	ra.ngroups = 2;
	ra.groups[0] = 100;
	ra.groups[1] = 4242;
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 10);
	ck_assert_str_eq(r.out, "state running\n");
	/* So does its primary group. */
	ra.ngroups = 0;
	ck_assert_int_eq(ctl_server_allow_gid(t.srv, 65534), 0);
	run_child(&t, child_request, &ra, &r);
	ck_assert_int_eq(r.status, 10);
	ck_assert_uint_eq(ctl_server_stats(t.srv).refused, 1);
	ct_teardown(&t);
}
END_TEST

TCase *
ctl_client_tcase(void)
{
	TCase	*tc = tcase_create("client");

	tcase_add_test(tc, client_request_results);
	tcase_add_test(tc, tool_main_exit_codes);
	tcase_add_test(tc, tool_reply_timeout_hook);
	tcase_add_test(tc, socat_scripting);
	/* Changing uid needs root; elsewhere the case is left out. */
	if (geteuid() == 0)
		tcase_add_test(tc, peer_permission);
	return tc;
}
