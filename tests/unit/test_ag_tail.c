/* Unit tests for agentd/ag_tail: the `log` block, and following real files
 * in a scratch directory — lines in order exactly once, partial and long
 * lines, a refusing sink, rename rotation and copytruncate while a forked
 * writer appends, a deleted file drained, restarts from the positions
 * file (no loss, no repeat), a garbage positions file, inode reuse. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "ev.h"
#include "log.h"
#include "metrics.h"
#include "ag_tail.h"
#include "suites.h"
#include "testutil.h"

/* ---- helpers ---- */

static const struct conf_directive top[] = {
	{ "log", 1, 1, CONF_BLOCK_REQUIRED, 0, ag_conf_log, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

/* The logs of text, or NULL with the errors in errs. */
static struct ag_log_conf *
parse_logs(const char *text, char *errs, size_t errlen)
{
	struct ag_log_conf *logs = NULL;
	struct conf_doc *doc;
	struct conf_ctx ctx;
	char	 err[512];
	int	 rv;

	ck_assert_msg(conf_parse_string("t.conf", text, strlen(text), &doc,
	    err, sizeof(err)) == 0, "%s", err);
	conf_ctx_init(&ctx, 0, NULL);
	rv = conf_apply(&ctx, conf_doc_root(doc), top, &logs);
	snprintf(errs, errlen, "%s", conf_errors(&ctx));
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
	if (rv == -1) {
		ag_log_conf_free(logs);
		return NULL;
	}
	return logs;
}

static struct ag_log_conf *
logs_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct ag_log_conf *
logs_ok(const char *fmt, ...)
{
	struct ag_log_conf *l;
	char	 text[2048], errs[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	l = parse_logs(text, errs, sizeof(errs));
	ck_assert_msg(l != NULL, "[%s]: %s", text, errs);
	return l;
}

/* Every line the sink got. */
struct coll {
	char	**lines;
	size_t	 n, cap;
	size_t	 refuse_at;	/* refuse once n reaches it (0: never) */
	char	 path[256];	/* of the last line */
};

static int
coll_line(void *arg, const struct ag_log_conf *l, const char *path,
    const char *line, size_t len)
{
	struct coll *c = arg;

	if (c->refuse_at != 0 && c->n >= c->refuse_at)
		return -1;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->lines = realloc(c->lines, c->cap * sizeof(*c->lines));
		ck_assert_ptr_nonnull(c->lines);
	}
	c->lines[c->n] = strndup(line, len);
	ck_assert_ptr_nonnull(c->lines[c->n]);
	c->n++;
	snprintf(c->path, sizeof(c->path), "%s", path);
	return 0;
}

static const struct ag_tail_sink coll_sink = { coll_line };

static void
coll_free(struct coll *c)
{
	size_t	 i;

	for (i = 0; i < c->n; i++)
		free(c->lines[i]);
	free(c->lines);
	memset(c, 0, sizeof(*c));
}

static void
append(const char *path, const char *text)
{
	int	 fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	size_t	 len = strlen(text);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static struct ag_tail *
tail_new(const char *state, struct ag_log_conf *logs, void *arg,
    struct metrics *m)
{
	struct ag_tail *t;
	char	 err[256] = "";

	t = ag_tail_new(state, logs, &coll_sink, arg, m, err, sizeof(err));
	ck_assert_msg(t != NULL, "ag_tail_new: %s", err);
	return t;
}

struct captured {
	char	 text[4096];
	int	 count;
};

static void
capture(enum log_level level, const char *msg, void *arg)
{
	struct captured *c = arg;
	size_t	 used = strlen(c->text);

	if (level > LOG_LVL_WARN)
		return;
	snprintf(c->text + used, sizeof(c->text) - used, "%s\n", msg);
	c->count++;
}

static void
msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- the `log` block ---- */

START_TEST(conf_block)
{
	struct ag_log_conf *l;

	l = logs_ok("log web {\n path /var/log/a.log \"/var/log/b*.log\"\n"
	    " path /x/y\n format combined\n category foobar/web\n"
	    " start-at beginning\n max-line 4k\n}\n"
	    "log sys { path /var/log/syslog }\n");
	ck_assert_str_eq(l->name, "web");
	ck_assert_uint_eq(l->npaths, 3);
	ck_assert_str_eq(l->paths[1], "/var/log/b*.log");
	ck_assert_str_eq(l->paths[2], "/x/y");
	ck_assert_int_eq(l->format, AG_FMT_COMBINED);
	ck_assert_str_eq(l->category, "foobar/web");
	ck_assert(l->from_start);
	ck_assert_uint_eq(l->max_line, 4096);
	ck_assert_ptr_nonnull(l->next);
	/* Defaults. */
	ck_assert_str_eq(l->next->name, "sys");
	ck_assert_int_eq(l->next->format, AG_FMT_RAW);
	ck_assert_str_eq(l->next->category, "sys");
	ck_assert(!l->next->from_start);
	ck_assert_uint_eq(l->next->max_line, 65536);
	ag_log_conf_free(l);
}
END_TEST

static const struct {
	const char	*text;
	const char	*want;
} bad_blocks[] = {
	{ "log a { format raw }\n", "log a: expected at least one path" },
	{ "log a { path relative.log }\n", "expected an absolute path" },
	{ "log a { path /a\n format xml }\n",
	    "format: expected one of raw, combined, json, got \"xml\"" },
	{ "log a { path /a\n start-at middle }\n", "start-at: expected one of" },
	{ "log a { path /a\n max-line 8 }\n", "max-line: 8 is out of range" },
	{ "log a { path /a\n pth /b }\n", "did you mean 'path'" },
	{ "log a { path /a\n format raw\n format json }\n",
	    "format: given more than once" },
	{ "log a { path /a }\nlog a { path /b }\n", "log a: given twice" },
	{ "log \"a b\" { path /a }\n", "a name is letters" },
};

START_TEST(conf_bad)
{
	char	 errs[1024];

	ck_assert_ptr_null(parse_logs(bad_blocks[_i].text, errs,
	    sizeof(errs)));
	ck_assert_msg(strstr(errs, bad_blocks[_i].want) != NULL,
	    "[%s]: got [%s]", bad_blocks[_i].text, errs);
}
END_TEST

/* ---- reading ---- */

START_TEST(lines_in_order)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	struct metrics *m = metrics_new("stackd_agentd_");
	char	 log[256];

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	append(log, "one\ntwo\n");
	l = logs_ok("log a { path \"%s/*.log\"\n start-at beginning }", td.dir);
	t = tail_new(NULL, l, &c, m);
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	ck_assert_uint_eq(ag_tail_poll(t), 0);
	/* A partial line waits for its newline. */
	append(log, "three\nfou");
	ck_assert_uint_eq(ag_tail_poll(t), 1);
	append(log, "r");
	ck_assert_uint_eq(ag_tail_poll(t), 0);
	append(log, "\n\nsix\n");
	ck_assert_uint_eq(ag_tail_poll(t), 3);
	ck_assert_uint_eq(c.n, 6);
	ck_assert_str_eq(c.lines[0], "one");
	ck_assert_str_eq(c.lines[1], "two");
	ck_assert_str_eq(c.lines[2], "three");
	ck_assert_str_eq(c.lines[3], "four");
	ck_assert_str_eq(c.lines[4], "");
	ck_assert_str_eq(c.lines[5], "six");
	ck_assert_str_eq(c.path, log);
	/* A file that appears while running: from its start. */
	append(tmpdir_file(&td, "b.log"), "b1\nb2\n");
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	ck_assert_str_eq(c.lines[7], "b2");
	ck_assert(mvalue(m, "stackd_agentd_log_lines_total{log=\"a\"} ") == 8);
	ck_assert(mvalue(m, "stackd_agentd_log_bytes_total{log=\"a\"} ") ==
	    4 + 4 + 6 + 5 + 1 + 4 + 3 + 3);
	ck_assert(mvalue(m, "stackd_agentd_log_files{log=\"a\"} ") == 2);
	ag_tail_free(t);
	ag_log_conf_free(l);
	metrics_free(m);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* start-at end (the default): what is there at start is skipped. */
START_TEST(start_at_end)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;

	tmpdir_make(&td, "agtail");
	/* A line being written at start is read whole. */
	append(tmpdir_file(&td, "a.log"), "old1\nold2\npart");
	l = logs_ok("log a { path \"%s/a.log\" }", td.dir);
	t = tail_new(NULL, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 0);
	append(tmpdir_file(&td, "a.log"), "ial\nnew\n");
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	ck_assert_str_eq(c.lines[0], "partial");
	ck_assert_str_eq(c.lines[1], "new");
	ag_tail_free(t);
	ag_log_conf_free(l);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

START_TEST(long_lines_cut)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	struct metrics *m = metrics_new("stackd_agentd_");
	char	 big[200], log[256];

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	l = logs_ok("log a { path %s\n start-at beginning\n max-line 16 }",
	    log);
	memset(big, 'x', 40);
	big[40] = '\0';
	/* Exactly 16 fits; 17 and 40 are cut; a long line written in
	 * pieces across polls is cut once. */
	append(log, "0123456789abcdef\n0123456789abcdefg\n");
	append(log, big);
	append(log, "\nshort\n");
	t = tail_new(NULL, l, &c, m);
	ck_assert_uint_eq(ag_tail_poll(t), 4);
	append(log, big);
	ck_assert_uint_eq(ag_tail_poll(t), 1);
	append(log, big);
	ck_assert_uint_eq(ag_tail_poll(t), 0);
	append(log, "tail-of-long\nafter\n");
	ck_assert_uint_eq(ag_tail_poll(t), 1);
	ck_assert_uint_eq(c.n, 6);
	ck_assert_str_eq(c.lines[0], "0123456789abcdef");
	ck_assert_str_eq(c.lines[1], "0123456789abcdef");
	ck_assert_str_eq(c.lines[2], "xxxxxxxxxxxxxxxx");
	ck_assert_str_eq(c.lines[3], "short");
	ck_assert_str_eq(c.lines[4], "xxxxxxxxxxxxxxxx");
	ck_assert_str_eq(c.lines[5], "after");
	ck_assert(mvalue(m, "log_truncated_lines_total{log=\"a\"} ") == 3);
	ag_tail_free(t);
	ag_log_conf_free(l);
	metrics_free(m);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* A sink that refuses (spool full): nothing skipped, nothing repeated. */
START_TEST(sink_refuses)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	char	 line[32];
	int	 i;

	tmpdir_make(&td, "agtail");
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		append(tmpdir_file(&td, "a.log"), line);
	}
	l = logs_ok("log a { path %s/a.log\n start-at beginning }", td.dir);
	t = tail_new(NULL, l, &c, NULL);
	c.refuse_at = 30;
	ck_assert_uint_eq(ag_tail_poll(t), 30);
	ck_assert_uint_eq(ag_tail_poll(t), 0);
	c.refuse_at = 0;
	ck_assert_uint_eq(ag_tail_poll(t), 70);
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "line %d", i);
		ck_assert_str_eq(c.lines[i], line);
	}
	ag_tail_free(t);
	ag_log_conf_free(l);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* ---- rotation under writes ---- */

#define SEQ_N		200000
#define SEQ_BATCH	20
#define MAX_INODES	64

/* Lines "INODE SEQ" from a writer: every SEQ once, in order per inode. */
struct seqcheck {
	unsigned char	*seen;
	unsigned long	 ino[MAX_INODES], last[MAX_INODES];
	int		 ninos;
	size_t		 total, dups, disorder, bad;
};

static int
seq_line(void *arg, const struct ag_log_conf *l, const char *path,
    const char *line, size_t len)
{
	struct seqcheck *s = arg;
	unsigned long ino, seq;
	char	 copy[64];
	int	 i;

	snprintf(copy, sizeof(copy), "%.*s", (int)(len < 63 ? len : 63), line);
	if (sscanf(copy, "%lu %lu", &ino, &seq) != 2 || seq == 0 ||
	    seq > SEQ_N) {
		s->bad++;
		return 0;
	}
	s->total++;
	if (s->seen[seq]++)
		s->dups++;
	for (i = 0; i < s->ninos && s->ino[i] != ino; i++)
		;
	if (i == s->ninos) {
		ck_assert_int_lt(s->ninos, MAX_INODES);
		s->ino[s->ninos++] = ino;
		s->last[i] = 0;
	}
	if (seq <= s->last[i])
		s->disorder++;
	s->last[i] = seq;
	return 0;
}

static const struct ag_tail_sink seq_sink = { seq_line };

/* Append SEQ_N numbered lines to path in small writes. reopen: like a
 * daemon told to reopen, notice a rotation a few batches late and open
 * the path again (else keep the fd, as under copytruncate). */
static void
writer(const char *path, int reopen)
{
	struct stat st, cur;
	char	 buf[SEQ_BATCH * 32];
	size_t	 len;
	unsigned long i, j;
	int	 fd = -1;

	for (i = 1; i <= SEQ_N; i += SEQ_BATCH) {
		if (fd == -1 || (reopen && (i / SEQ_BATCH) % 8 == 0 &&
		    (stat(path, &cur) == -1 || cur.st_ino != st.st_ino))) {
			if (fd != -1)
				close(fd);
			if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT,
			    0644)) == -1 || fstat(fd, &st) == -1)
				_exit(2);
		}
		len = 0;
		for (j = i; j < i + SEQ_BATCH && j <= SEQ_N; j++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "%lu %lu\n", (unsigned long)st.st_ino, j);
		if (write(fd, buf, len) != (ssize_t)len)
			_exit(3);
		/* Paced (~0.1 s at least) so that the parent rotates while
		 * it writes, sanitizers or not. */
		if ((i / SEQ_BATCH) % 100 == 0)
			usleep(1000);
	}
	_exit(0);
}

/* Rotate a live file past this size (the writer writes ~2.6 MB). */
#define ROTATE_SIZE	(256 * 1024)

static off_t
live_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Reap the writer if it is done: true once it has exited cleanly. */
static bool
writer_done(pid_t *pid, bool wait)
{
	int	 status;

	if (*pid == -1)
		return true;
	if (waitpid(*pid, &status, wait ? 0 : WNOHANG) != *pid)
		return false;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "writer status %d", status);
	*pid = -1;
	return true;
}

/* The writer gone: poll until every line is in (rotated files drain
 * through their kept fds), then check them. */
static void
seq_finish(struct ag_tail *t, struct seqcheck *s, pid_t *pid)
{
	time_t	 deadline = time(NULL) + 30;
	int	 i;

	writer_done(pid, true);
	while (s->total < SEQ_N && time(NULL) < deadline)
		if (ag_tail_poll(t) == 0)
			msleep(5);
	ck_assert_uint_eq(s->bad, 0);
	ck_assert_uint_eq(s->dups, 0);
	ck_assert_uint_eq(s->disorder, 0);
	ck_assert_uint_eq(s->total, SEQ_N);
	for (i = 1; i <= SEQ_N; i++)
		ck_assert_msg(s->seen[i] == 1, "line %d seen %d times", i,
		    s->seen[i]);
}

/* One rotation-under-writes run: a writer forked on dir/app.log, tailed
 * from its end by log "a" into a seqcheck, rotated by a rotate() step
 * as the file grows. */
struct rot {
	struct tmpdir	 td;
	struct seqcheck	 s;
	struct ag_log_conf *l;
	struct ag_tail	*t;
	struct metrics	*m;
	char		 log[256];
	size_t		 rotations;
	pid_t		 pid;
};

/* One rotation of r->log, once it is past ROTATE_SIZE: false when the
 * writer turned out to be gone (the run ends). */
typedef bool rotate_fn(struct rot *);

/* The tailer has read a line of the file at path (lines carry their
 * file's inode). */
static bool
tailer_reached(const struct seqcheck *s, const char *path)
{
	struct stat	 st;
	int		 i;

	if (stat(path, &st) == -1)
		return false;
	for (i = 0; i < s->ninos; i++)
		if (s->ino[i] == (unsigned long)st.st_ino)
			return true;
	return false;
}

/* Renamed to a name the glob does not match: agentd(8) documents that a
 * file rotated away before the tailer has opened it is not seen (on a
 * loaded machine the writer can fill a whole file between two polls), so
 * the live file is rotated only once the tailer has read from it. */
static bool
rotate_rename(struct rot *r)
{
	char	 old[300];

	if (!tailer_reached(&r->s, r->log))
		return true;
	snprintf(old, sizeof(old), "%s.%zu", r->log, r->rotations);
	if (rename(r->log, old) == 0)
		r->rotations++;
	/* Sometimes the new file is there at once. */
	if (r->rotations % 2 == 0)
		append(r->log, "");
	return true;
}

static void
copy_file(const char *from, const char *to)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT |
	    O_TRUNC, 0644);

	ck_assert(in != -1 && out != -1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

/* copytruncate: the writer keeps its O_APPEND fd. copytruncate itself
 * loses whatever is written between its copy and its truncation (the
 * copy has been taken, the truncation wipes it from the live file), and
 * a reader that has not read up to the copy point loses the rest to the
 * copy. No tailer can help that: here the writer is stopped around the
 * copy + truncate and the tailer reads up to it first, so the test
 * checks what the tailer owns — the shrink is noticed and every line
 * written after the truncation is read, exactly once, in order. */
static bool
rotate_copytruncate(struct rot *r)
{
	char	 copy[300];
	int	 status;

	ck_assert_int_eq(kill(r->pid, SIGSTOP), 0);
	ck_assert_int_eq(waitpid(r->pid, &status, WUNTRACED), r->pid);
	if (!WIFSTOPPED(status)) {
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		r->pid = -1;
		return false;
	}
	while (ag_tail_poll(r->t) > 0)
		;
	snprintf(copy, sizeof(copy), "%s.%zu", r->log, r->rotations);
	copy_file(r->log, copy);
	ck_assert_int_eq(truncate(r->log, 0), 0);
	r->rotations++;
	ck_assert_int_eq(kill(r->pid, SIGCONT), 0);
	return true;
}

/* Start the writer (reopen: see writer()), rotate up to max times while
 * it writes, and check that every line was read exactly once. */
static void
rot_run(struct rot *r, int reopen, size_t max, rotate_fn *rotate)
{
	char	 err[256];

	memset(r, 0, sizeof(*r));
	r->m = metrics_new("stackd_agentd_");
	r->s.seen = calloc(SEQ_N + 1, 1);
	ck_assert_ptr_nonnull(r->s.seen);
	tmpdir_make(&r->td, "agtail");
	snprintf(r->log, sizeof(r->log), "%s", tmpdir_file(&r->td, "app.log"));
	append(r->log, "");
	r->l = logs_ok("log a { path %s }", r->log);
	r->t = ag_tail_new(NULL, r->l, &seq_sink, &r->s, r->m, err,
	    sizeof(err));
	ck_assert_ptr_nonnull(r->t);
	ck_assert_uint_eq(ag_tail_poll(r->t), 0);
	if ((r->pid = fork()) == 0)
		writer(r->log, reopen);
	ck_assert_int_ne(r->pid, -1);
	while (r->s.total < SEQ_N && !writer_done(&r->pid, false)) {
		if (ag_tail_poll(r->t) == 0)
			usleep(200);
		if (r->rotations < max && live_size(r->log) > ROTATE_SIZE &&
		    !rotate(r))
			break;
	}
	seq_finish(r->t, &r->s, &r->pid);
	ck_assert_uint_ge(r->rotations, 3);
}

static void
rot_free(struct rot *r)
{
	ag_tail_free(r->t);
	ag_log_conf_free(r->l);
	metrics_free(r->m);
	free(r->s.seen);
	tmpdir_remove(&r->td);
}

/* Rotate as the file grows, while the writer writes. */
START_TEST(rename_rotation_under_writes)
{
	struct rot r;

	rot_run(&r, 1, 6, rotate_rename);
	ck_assert_int_ge(r.s.ninos, 3);
	ck_assert(mvalue(r.m, "log_rotations_total{log=\"a\",kind=\"rename\"} ")
	    >= 3);
	rot_free(&r);
}
END_TEST

START_TEST(copytruncate_under_writes)
{
	struct rot r;

	rot_run(&r, 0, 5, rotate_copytruncate);
	ck_assert(mvalue(r.m,
	    "log_rotations_total{log=\"a\",kind=\"truncate\"} ") ==
	    (double)r.rotations);
	rot_free(&r);
}
END_TEST

/* Truncated and written again past the old position before the poll:
 * the changed first bytes tell it. */
START_TEST(truncate_regrown)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	char	 log[256];

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	append(log, "first 1\nfirst 2\n");
	l = logs_ok("log a { path %s\n start-at beginning }", log);
	t = tail_new(NULL, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	ck_assert_int_eq(truncate(log, 0), 0);
	append(log, "second 1\nsecond 2\nsecond 3\n");
	ck_assert_uint_eq(ag_tail_poll(t), 3);
	ck_assert_str_eq(c.lines[2], "second 1");
	ck_assert_str_eq(c.lines[4], "second 3");
	ag_tail_free(t);
	ag_log_conf_free(l);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* A glob that matches the rotated names too: the renamed file is the
 * same file (by inode), not a new one read again. */
START_TEST(glob_matches_rotated)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	char	 log[256], old[256];

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	snprintf(old, sizeof(old), "%s", tmpdir_file(&td, "a.log.1"));
	append(log, "1\n2\n");
	l = logs_ok("log a { path \"%s*\"\n start-at beginning }", log);
	t = tail_new(NULL, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	append(log, "3\n");
	ck_assert_int_eq(rename(log, old), 0);
	append(log, "new1\n");
	append(old, "4\n");
	ck_assert_uint_eq(ag_tail_poll(t), 3);
	ck_assert_uint_eq(c.n, 5);
	ck_assert_str_eq(c.lines[2], "3");
	ck_assert_str_eq(c.lines[3], "4");
	ck_assert_str_eq(c.lines[4], "new1");
	ag_tail_free(t);
	ag_log_conf_free(l);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* A deleted file still written through an open fd is drained, then
 * closed once idle. */
START_TEST(deleted_drained_then_closed)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	struct metrics *m = metrics_new("stackd_agentd_");
	char	 log[256];
	int	 fd;

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_ne(fd, -1);
	l = logs_ok("log a { path %s }", log);
	t = tail_new(NULL, l, &c, m);
	ck_assert_uint_eq(ag_tail_poll(t), 0);
	ck_assert_int_eq(write(fd, "a\n", 2), 2);
	ck_assert_int_eq(unlink(log), 0);
	ck_assert_int_eq(write(fd, "b\nc", 3), 3);
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	ck_assert(mvalue(m, "log_files{log=\"a\"} ") == 1);
	close(fd);
	msleep(2100);
	/* The last line without its newline goes out as the file closes. */
	ck_assert_uint_eq(ag_tail_poll(t), 1);
	ck_assert_str_eq(c.lines[2], "c");
	ck_assert(mvalue(m, "log_files{log=\"a\"} ") == 0);
	ag_tail_free(t);
	ag_log_conf_free(l);
	metrics_free(m);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* ---- restarts ---- */

START_TEST(restart_resumes)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	char	 log[256], log2[256], state[256], line[32], err[256];
	int	 i;

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	snprintf(log2, sizeof(log2), "%s", tmpdir_file(&td, "b.log"));
	snprintf(state, sizeof(state), "%s", tmpdir_file(&td, "positions"));
	for (i = 1; i <= 100; i++) {
		snprintf(line, sizeof(line), "a %d\n", i);
		append(log, line);
	}
	append(log2, "b old\n");
	l = logs_ok("log a { path \"%s/*.log\"\n start-at beginning }", td.dir);
	t = tail_new(state, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 101);
	append(log, "a 101\npart");
	ck_assert_uint_eq(ag_tail_poll(t), 1);
	ck_assert_int_eq(ag_tail_commit(t, err, sizeof(err)), 0);
	/* Handed on after the commit: a crash repeats these. */
	append(log, "ial\na 103\n");
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	ag_tail_free(t);
	coll_free(&c);

	append(log, "a 104\n");
	append(log2, "b new\n");
	t = tail_new(state, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 4);
	ck_assert_str_eq(c.lines[0], "partial");
	ck_assert_str_eq(c.lines[1], "a 103");
	ck_assert_str_eq(c.lines[2], "a 104");
	ck_assert_str_eq(c.lines[3], "b new");
	ck_assert_int_eq(ag_tail_commit(t, err, sizeof(err)), 0);
	ag_tail_free(t);
	coll_free(&c);

	/* Committed and stopped: nothing repeats. A file rotated while
	 * stopped (same path, new inode) is read from its start even with
	 * start-at end. */
	ag_log_conf_free(l);
	l = logs_ok("log a { path \"%s/*.log\" }", td.dir);
	ck_assert_int_eq(rename(log2, tmpdir_file(&td, "b.log.1")), 0);
	append(log2, "b rotated\n");
	append(tmpdir_file(&td, "c.log"), "c before start\n");
	t = tail_new(state, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 1);
	ck_assert_str_eq(c.lines[0], "b rotated");
	ag_tail_free(t);
	ag_log_conf_free(l);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

START_TEST(state_garbage_ignored)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct captured cap = { "", 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	struct stat st;
	char	 log[256], state[256], text[1024];

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	snprintf(state, sizeof(state), "%s", tmpdir_file(&td, "positions"));
	append(log, "one\ntwo\nthree\n");
	ck_assert_int_eq(stat(log, &st), 0);
	/* Garbage around a real entry (fingerprint of an empty prefix). */
	snprintf(text, sizeof(text), "# comment\nthis is not it\n"
	    "1 2 3\n12 34 5000 00 1 /x\n-1 2 3 00 1 /y\n"
	    "%lu %lu 0 cbf29ce484222325 8 %s\n"
	    "\x01\x02 binary\n", (unsigned long)st.st_dev,
	    (unsigned long)st.st_ino, log);
	append(state, text);
	l = logs_ok("log a { path %s }", log);
	log_set_sink(capture, &cap);
	t = tail_new(state, l, &c, NULL);
	log_set_sink(NULL, NULL);
	ck_assert_msg(strstr(cap.text, "positions:2: not a position line") &&
	    strstr(cap.text, "positions:3:") && strstr(cap.text,
	    "positions:4:") && strstr(cap.text, "positions:5:") &&
	    strstr(cap.text, "positions:7:") &&
	    strstr(cap.text, "5 bad lines ignored"), "%s", cap.text);
	ck_assert(strstr(cap.text, "positions:6:") == NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 1);
	ck_assert_str_eq(c.lines[0], "three");
	ag_tail_free(t);
	coll_free(&c);

	/* Not a file at all: reported, and as good as none. */
	memset(&cap, 0, sizeof(cap));
	log_set_sink(capture, &cap);
	t = tail_new(td.dir, l, &c, NULL);
	log_set_sink(NULL, NULL);
	ck_assert_msg(strstr(cap.text, "not a regular file; positions "
	    "ignored") != NULL, "%s", cap.text);
	ag_tail_free(t);

	/* A state file that is all garbage is as good as none. */
	unlink(state);
	append(state, "\xff\xfe\n\n garbage");
	log_set_sink(capture, &cap);
	t = tail_new(state, l, &c, NULL);
	log_set_sink(NULL, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 0);
	ag_tail_free(t);
	ag_log_conf_free(l);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* The state names this file's device and inode but another file's
 * fingerprint (the inode was reused): from the start, not the position. */
START_TEST(inode_reuse)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	struct stat st;
	char	 log[256], state[256], text[1024];

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	snprintf(state, sizeof(state), "%s", tmpdir_file(&td, "positions"));
	append(log, "new file 1\nnew file 2\n");
	ck_assert_int_eq(stat(log, &st), 0);
	snprintf(text, sizeof(text), "%lu %lu 11 0123456789abcdef 11 %s\n",
	    (unsigned long)st.st_dev, (unsigned long)st.st_ino, log);
	append(state, text);
	l = logs_ok("log a { path %s }", log);
	t = tail_new(state, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	ck_assert_str_eq(c.lines[0], "new file 1");
	ag_tail_free(t);
	ag_log_conf_free(l);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* Reload: a log kept keeps its positions; a new one starts. */
START_TEST(reload_keeps_positions)
{
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l, *l2;
	struct ag_tail *t;
	char	 log[256], err[256];

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	append(log, "1\n2\n");
	l = logs_ok("log a { path %s\n start-at beginning }", log);
	t = tail_new(NULL, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	append(log, "3\n");
	l2 = logs_ok("log a { path %s\n start-at beginning }\n"
	    "log b { path %s\n start-at beginning }", log, log);
	ck_assert_int_eq(ag_tail_reload(t, l2, err, sizeof(err)), 0);
	ag_log_conf_free(l);
	/* a: only the new line; b: the whole file. */
	ck_assert_uint_eq(ag_tail_poll(t), 4);
	ck_assert_str_eq(c.lines[2], "3");
	ag_tail_free(t);
	ag_log_conf_free(l2);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

/* `status` over a real control socket: one line per file followed. */
static void
status_cmd(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	ctl_reply_ok(cc);
	ag_tail_status(arg, cc);
}

START_TEST(status_lines)
{
	static const struct ctl_command cmds[] = {
		{ "status", 0, 0, NULL, status_cmd },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct tmpdir td;
	struct coll c = { 0 };
	struct ag_log_conf *l;
	struct ag_tail *t;
	struct ev_loop *loop;
	struct ctl_server *srv;
	struct stat st;
	char	 log[256], sock[256], out[256], want[1024], got[1024] = "";
	char	 err[256], *argv[] = { "status", NULL };
	FILE	*fp;
	pid_t	 pid;
	int	 status;

	tmpdir_make(&td, "agtail");
	snprintf(log, sizeof(log), "%s", tmpdir_file(&td, "a.log"));
	snprintf(sock, sizeof(sock), "%s", tmpdir_file(&td, "ctl.sock"));
	snprintf(out, sizeof(out), "%s", tmpdir_file(&td, "out"));
	append(log, "one\ntwo\npar");
	l = logs_ok("log web { path %s\n start-at beginning }", log);
	t = tail_new(NULL, l, &c, NULL);
	ck_assert_uint_eq(ag_tail_poll(t), 2);
	ck_assert_ptr_nonnull(loop = ev_new());
	srv = ctl_server_new(loop, sock, 0600, cmds, t, err, sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	if ((pid = fork()) == 0) {
		fp = fopen(out, "w");
		_exit(fp == NULL || ctl_request(sock, 1, argv, fp, 3000, err,
		    sizeof(err)) != 0 || fclose(fp) != 0);
	}
	ck_assert_int_ne(pid, -1);
	while (waitpid(pid, &status, WNOHANG) == 0)
		ev_run_once(loop, 10);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_ptr_nonnull(fp = fopen(out, "r"));
	ck_assert_uint_gt(fread(got, 1, sizeof(got) - 1, fp), 0);
	fclose(fp);
	ck_assert_int_eq(stat(log, &st), 0);
	snprintf(want, sizeof(want), "log web: %s inode %lu pos 8 size 11\n",
	    log, (unsigned long)st.st_ino);
	ck_assert_str_eq(got, want);
	ctl_server_free(srv);
	ev_free(loop);
	ag_tail_free(t);
	ag_log_conf_free(l);
	coll_free(&c);
	tmpdir_remove(&td);
}
END_TEST

Suite *
ag_tail_suite(void)
{
	Suite	*s = suite_create("ag_tail");
	TCase	*tc = tcase_create("conf");

	tcase_add_test(tc, conf_block);
	tcase_add_loop_test(tc, conf_bad, 0,
	    sizeof(bad_blocks) / sizeof(bad_blocks[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("read");
	tcase_add_test(tc, lines_in_order);
	tcase_add_test(tc, start_at_end);
	tcase_add_test(tc, long_lines_cut);
	tcase_add_test(tc, sink_refuses);
	tcase_add_test(tc, truncate_regrown);
	tcase_add_test(tc, glob_matches_rotated);
	tcase_add_test(tc, deleted_drained_then_closed);
	suite_add_tcase(s, tc);
	tc = tcase_create("rotation");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rename_rotation_under_writes);
	tcase_add_test(tc, copytruncate_under_writes);
	suite_add_tcase(s, tc);
	tc = tcase_create("state");
	tcase_add_test(tc, restart_resumes);
	tcase_add_test(tc, state_garbage_ignored);
	tcase_add_test(tc, inode_reuse);
	tcase_add_test(tc, reload_keeps_positions);
	tcase_add_test(tc, status_lines);
	suite_add_tcase(s, tc);
	return s;
}
