/* ag_tail — following log files (see ag_tail.h).
 *
 * The `log` block of agentd.conf:
 *
 *	log NAME {
 *		path GLOB ...			repeatable; at least one
 *		format raw | combined | json	default raw
 *		category STRING			default NAME
 *		start-at end | beginning	default end
 *		max-line SIZE			default 64k (16 .. 16m)
 *	}
 *
 * NAME is letters, digits, '-', '_' and '.', unique among the log blocks.
 * path: one or more absolute paths or glob(3) patterns, matched again at
 * every poll (log-poll-interval), so files that appear later are followed
 * from their first line. format says how the lines are read for the web
 * figures: raw lines are only shipped; combined (webd, lbd, nginx) and
 * json (webd's json access log) lines are also counted by ag_access.
 * category is the X-Sumo-Category the lines are shipped under. start-at
 * says where a file found at agentd's first start begins (a file already
 * in the positions file resumes where it was; a file that appears while
 * agentd runs, such as the new file after a rotation, is read from its
 * beginning). max-line: a longer line is cut to this many bytes and the
 * rest of it skipped (counted in log_truncated_lines_total).
 *
 * Rotation: a file is known by its device and inode plus a fingerprint
 * (a hash of its first bytes, up to 1 KiB). When a path names another
 * file (rename rotation) or disappears, the old file is read to its end
 * through the descriptor kept open before the new file is read, and is
 * closed once it has been idle for TAIL_ORPHAN_GRACE_MS (a writer that
 * has not reopened yet still reaches it). A file that shrinks below the
 * position read, or whose first bytes change, was truncated in place
 * (copytruncate): it is read again from its start. copytruncate itself
 * loses the lines written between its copy and its truncation; prefer
 * rename rotation with a reopen signal. A glob that also matches the
 * rotated names is fine for rename rotation (a renamed file is
 * recognised by its inode and not read twice) but with copytruncate the
 * copies would be read as new files: match only the live names then.
 *
 * Positions: a state file in state-dir, one line per file followed,
 *	DEV INODE FPLEN FPHEX POS PATH
 * replaced atomically by ag_tail_commit(). At start a file resumes at its
 * position when device, inode and fingerprint all match; a path known
 * with another inode was rotated while agentd was stopped and is read
 * from its start (the unread tail of the old file is lost unless the
 * globs match its new name). Lines that do not parse are reported and
 * ignored; an unreadable file is reported and treated as none. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "statefile.h"
#include "ag_tail.h"

#define TAIL_FP_MAX		1024		/* fingerprint: first bytes */
#define TAIL_POLL_BYTES		(16u << 20)	/* per file per poll */
#define TAIL_MAX_FILES		512		/* per log */
#define TAIL_ORPHAN_GRACE_MS	2000
#define TAIL_STATE_MAX		(8u << 20)
#define TAIL_MAX_LINE_DEFAULT	(64u * 1024)

/* ---- the `log` block ---- */

static const char *const fmt_names[] = { "raw", "combined", "json", NULL };
static const char *const start_names[] = { "end", "beginning", NULL };

static int
set_path(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct ag_log_conf *l = obj;
	char	**p;
	int	 i;

	for (i = 1; i < st->argc; i++) {
		if (st->argv[i][0] != '/')
			return conf_error(ctx, st, "path: expected an absolute "
			    "path or glob, got \"%s\"", st->argv[i]);
		if ((p = reallocarray(l->paths, l->npaths + 1,
		    sizeof(*p))) == NULL)
			return conf_error(ctx, st, "out of memory");
		l->paths = p;
		if ((p[l->npaths] = strdup(st->argv[i])) == NULL)
			return conf_error(ctx, st, "out of memory");
		l->npaths++;
	}
	return 0;
}

static int
set_format(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct ag_log_conf *l = obj;
	int	 v;

	if (conf_arg_enum(ctx, st, 1, fmt_names, &v) == -1)
		return -1;
	l->format = (enum ag_log_format)v;
	return 0;
}

static int
set_start(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct ag_log_conf *l = obj;
	int	 v;

	if (conf_arg_enum(ctx, st, 1, start_names, &v) == -1)
		return -1;
	l->from_start = v == 1;
	return 0;
}

static const struct conf_directive log_directives[] = {
	{ "path", 1, -1, CONF_BLOCK_NONE, 0, set_path, 0, 0, 0 },
	{ "format", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_format, 0, 0, 0 },
	{ "category", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct ag_log_conf, category), 0, 0 },
	{ "start-at", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_start, 0, 0, 0 },
	{ "max-line", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_size,
	    offsetof(struct ag_log_conf, max_line), 16, 16 << 20 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

int
ag_conf_log(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct ag_log_conf **head = (struct ag_log_conf **)((char *)obj +
	    d->offset), *l, **tail;
	const char *name = st->argv[1];

	for (tail = head; *tail != NULL; tail = &(*tail)->next)
		if (strcmp((*tail)->name, name) == 0)
			return conf_error(ctx, st, "log %s: given twice", name);
	if (name[0] == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(name))
		return conf_error(ctx, st, "log \"%s\": a name is letters, "
		    "digits, '-', '_' and '.'", name);
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->name = strdup(name)) == NULL) {
		free(l);
		return conf_error(ctx, st, "out of memory");
	}
	l->format = AG_FMT_RAW;
	l->max_line = TAIL_MAX_LINE_DEFAULT;
	if (conf_apply(ctx, st->block, log_directives, l) == -1)
		goto fail;
	if (l->npaths == 0) {
		conf_error(ctx, st, "log %s: expected at least one path", name);
		goto fail;
	}
	if (l->category == NULL && (l->category = strdup(name)) == NULL) {
		conf_error(ctx, st, "out of memory");
		goto fail;
	}
	*tail = l;
	return 0;
 fail:
	ag_log_conf_free(l);
	return -1;
}

void
ag_log_conf_free(struct ag_log_conf *l)
{
	struct ag_log_conf *next;
	size_t	 i;

	for (; l != NULL; l = next) {
		next = l->next;
		for (i = 0; i < l->npaths; i++)
			free(l->paths[i]);
		free(l->paths);
		free(l->name);
		free(l->category);
		free(l);
	}
}

/* ---- runtime ---- */

/* One file followed. data[0..len) holds the file's bytes [done, rpos):
 * a line not finished yet. */
struct tfile {
	struct tfile	*next;
	char		*path;
	int		 fd;
	dev_t		 dev;
	ino_t		 ino;
	uint32_t	 fplen;
	uint64_t	 fp;
	uint64_t	 done;		/* after the last line handed on */
	uint64_t	 rpos;		/* next byte to read */
	uint64_t	 size;		/* last seen, for status */
	char		*data;
	size_t		 len, cap;
	bool		 skipping;	/* the rest of a cut line */
	bool		 orphan;	/* rotated away or deleted: drain */
	bool		 seen;		/* matched by this poll's globs */
	uint64_t	 idle_since;	/* ms: orphaned or last data */
};

enum { ROT_RENAME, ROT_TRUNCATE, ROT_N };
static const char *const rot_names[ROT_N] = { "rename", "truncate" };

struct tlog {
	struct tlog		*next;
	const struct ag_log_conf *conf;
	struct tfile		*files;
	size_t			 nfiles;
	bool			 polled;	/* first poll done */
	bool			 warned_max;
	struct metric_series	*s_lines, *s_bytes, *s_trunc, *s_files;
	struct metric_series	*s_rot[ROT_N];
};

/* A position read from the state file. */
struct tstate {
	struct tstate	*next;
	dev_t		 dev;
	ino_t		 ino;
	uint32_t	 fplen;
	uint64_t	 fp;
	uint64_t	 pos;
	bool		 used;
	char		 path[];
};

struct ag_tail {
	char			*state_path;
	struct ag_tail_sink	 sink;
	void			*arg;
	struct metrics		*m;
	struct metric		*m_lines, *m_bytes, *m_trunc, *m_rot, *m_files;
	struct tlog		*logs;
	struct tstate		*state;		/* until the first poll ends */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
c_add(struct metric_series *s, uint64_t n)
{
	if (s != NULL)
		counter_add_u64(s, n);
}

/* FNV-1a over the first len bytes; -1 if fewer can be read. */
static int
fingerprint(int fd, uint32_t len, uint64_t *out)
{
	unsigned char b[TAIL_FP_MAX];
	uint64_t h = 14695981039346656037ULL;
	ssize_t	 n;
	uint32_t i;

	if (len > 0) {
		n = pread(fd, b, len, 0);
		if (n < 0 || (uint32_t)n != len)
			return -1;
	}
	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	*out = h;
	return 0;
}

static uint32_t
fp_len(uint64_t size)
{
	return size < TAIL_FP_MAX ? (uint32_t)size : TAIL_FP_MAX;
}

static void
tfile_free(struct tfile *f)
{
	if (f->fd != -1)
		close(f->fd);
	free(f->data);
	free(f->path);
	free(f);
}

static void
files_gauge(struct tlog *lg)
{
	if (lg->s_files != NULL)
		gauge_set(lg->s_files, (double)lg->nfiles);
}

/* ---- the state file ---- */

static void
state_free(struct tstate *s)
{
	struct tstate *next;

	for (; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
}

/* One "DEV INODE FPLEN FPHEX POS PATH" line, or NULL. */
static struct tstate *
state_line(const char *line, size_t len)
{
	struct tstate *s;
	uintmax_t dev, ino, fplen, fp, pos;
	char	 copy[96];
	int	 off = 0;
	size_t	 plen;

	/* The numbers fit in 96 bytes; the path follows them. */
	snprintf(copy, sizeof(copy), "%.*s", (int)(len < 95 ? len : 95), line);
	if (sscanf(copy, "%ju %ju %ju %jx %ju %n", &dev, &ino, &fplen, &fp,
	    &pos, &off) != 5 || off == 0 ||
	    strspn(copy, "0123456789abcdefABCDEF ") != (size_t)off ||
	    fplen > TAIL_FP_MAX || (size_t)off >= len || line[off] != '/')
		return NULL;
	plen = len - (size_t)off;
	if (memchr(line + off, '\0', plen) != NULL ||
	    (s = calloc(1, sizeof(*s) + plen + 1)) == NULL)
		return NULL;
	s->dev = (dev_t)dev;
	s->ino = (ino_t)ino;
	s->fplen = (uint32_t)fplen;
	s->fp = fp;
	s->pos = pos;
	memcpy(s->path, line + off, plen);
	return s;
}

static int
state_load(struct ag_tail *t, char *err, size_t errlen)
{
	struct buf b;
	struct tstate *s;
	const char *p, *end, *nl;
	unsigned lineno = 0, bad = 0;

	if (state_file_read(t->state_path, TAIL_STATE_MAX, &b, err,
	    errlen) == -1) {
		/* Positions lost are not worth not starting: say so. */
		if (errno != ENOENT)
			log_warnx("%s; positions ignored", err);
		return 0;
	}
	p = buf_head(&b);
	end = p + buf_used(&b);
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		lineno++;
		if (nl == p || *p == '#')
			continue;
		if ((s = state_line(p, (size_t)(nl - p))) == NULL) {
			if (bad++ < 10)
				log_warnx("%s:%u: not a position line, "
				    "ignored", t->state_path, lineno);
			continue;
		}
		s->next = t->state;
		t->state = s;
	}
	if (bad > 0)
		log_warnx("%s: %u bad line%s ignored", t->state_path, bad,
		    bad == 1 ? "" : "s");
	buf_free(&b);
	return 0;
}

static struct tstate *
state_find(struct ag_tail *t, dev_t dev, ino_t ino, const char *path)
{
	struct tstate *s;

	for (s = t->state; s != NULL; s = s->next)
		if (!s->used && ((path == NULL && s->dev == dev &&
		    s->ino == ino) || (path != NULL &&
		    strcmp(s->path, path) == 0)))
			return s;
	return NULL;
}

int
ag_tail_commit(struct ag_tail *t, char *err, size_t errlen)
{
	struct tlog *lg;
	struct tfile *f;
	struct buf b;
	int	 rv = 0;

	if (t->state_path == NULL)
		return 0;
	buf_init(&b, TAIL_STATE_MAX);
	if (buf_puts(&b, "# agentd log positions: dev inode fplen fp pos "
	    "path\n") == -1)
		rv = -1;
	for (lg = t->logs; lg != NULL && rv == 0; lg = lg->next)
		for (f = lg->files; f != NULL && rv == 0; f = f->next) {
			/* A path with a newline cannot be a line. */
			if (strchr(f->path, '\n') != NULL)
				continue;
			rv = buf_printf(&b, "%ju %ju %u %016" PRIx64 " %"
			    PRIu64 " %s\n", (uintmax_t)f->dev,
			    (uintmax_t)f->ino, f->fplen, f->fp, f->done,
			    f->path);
		}
	if (rv == -1)
		rv = seterr(err, errlen, "%s: more than %u bytes of positions",
		    t->state_path, TAIL_STATE_MAX);
	else
		rv = state_file_write(t->state_path, buf_head(&b),
		    buf_used(&b), err, errlen);
	buf_free(&b);
	return rv;
}

/* ---- files ---- */

static struct tfile *
find_ino(struct tlog *lg, dev_t dev, ino_t ino)
{
	struct tfile *f;

	for (f = lg->files; f != NULL; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

static struct tfile *
find_active(struct tlog *lg, const char *path)
{
	struct tfile *f;

	for (f = lg->files; f != NULL; f = f->next)
		if (!f->orphan && strcmp(f->path, path) == 0)
			return f;
	return NULL;
}

static void
rewind_file(struct tfile *f)
{
	f->done = f->rpos = 0;
	f->len = 0;
	f->skipping = false;
	f->fplen = 0;
	fingerprint(f->fd, 0, &f->fp);
}

/* The path no longer leads to f: read it to its end through its fd. */
static void
orphan(struct tlog *lg, struct tfile *f)
{
	struct stat st;
	bool	 deleted = fstat(f->fd, &st) == 0 && st.st_nlink == 0;

	f->orphan = true;
	f->idle_since = now_ms();
	if (!deleted)
		c_add(lg->s_rot[ROT_RENAME], 1);
	log_info("log %s: %s (inode %ju) %s, reading it to its end",
	    lg->conf->name, f->path, (uintmax_t)f->ino,
	    deleted ? "deleted" : "rotated");
}

/* start-at end: after the last newline (a line being written when
 * agentd starts is read whole), or at size if none is near the end. */
static uint64_t
line_end(int fd, uint64_t size)
{
	char	 b[4096], *nl;
	size_t	 n = size < sizeof(b) ? (size_t)size : sizeof(b);
	ssize_t	 got;

	if (n == 0 || (got = pread(fd, b, n, (off_t)(size - n))) != (ssize_t)n ||
	    (nl = memrchr(b, '\n', n)) == NULL)
		return size;
	return size - n + (uint64_t)(nl - b) + 1;
}

/* Where a file first found in this log starts. */
static uint64_t
start_pos(struct ag_tail *t, struct tlog *lg, struct tfile *f,
    uint64_t size)
{
	struct tstate *s;
	uint64_t fp;

	if (lg->polled)
		return 0;	/* appeared while running */
	if ((s = state_find(t, f->dev, f->ino, NULL)) != NULL) {
		s->used = true;
		if (fingerprint(f->fd, s->fplen, &fp) == -1 || fp != s->fp) {
			log_info("log %s: %s: inode %ju reused by another "
			    "file, reading it from its start", lg->conf->name,
			    f->path, (uintmax_t)f->ino);
			return 0;
		}
		if (s->pos > size) {
			log_info("log %s: %s truncated while stopped, reading "
			    "it from its start", lg->conf->name, f->path);
			c_add(lg->s_rot[ROT_TRUNCATE], 1);
			return 0;
		}
		return s->pos;
	}
	if ((s = state_find(t, 0, 0, f->path)) != NULL) {
		/* Known path, other file: rotated while stopped. */
		s->used = true;
		return 0;
	}
	return lg->conf->from_start ? 0 : line_end(f->fd, size);
}

static struct tfile *
add_file(struct ag_tail *t, struct tlog *lg, const char *path,
    const struct stat *sb)
{
	struct tfile *f, **tail;
	struct stat st;

	if (lg->nfiles >= TAIL_MAX_FILES) {
		if (!lg->warned_max)
			log_warnx("log %s: more than %d files match, %s and "
			    "others not followed", lg->conf->name,
			    TAIL_MAX_FILES, path);
		lg->warned_max = true;
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		free(f);
		log_warnx("log %s: %s: out of memory", lg->conf->name, path);
		return NULL;
	}
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1 || fstat(f->fd, &st) == -1 ||
	    st.st_dev != sb->st_dev || st.st_ino != sb->st_ino) {
		/* Unreadable, or replaced between stat and open: next poll. */
		if (f->fd == -1 && errno != ENOENT)
			log_warn("log %s: open %s", lg->conf->name, path);
		if (f->fd != -1)
			close(f->fd);
		free(f->path);
		free(f);
		return NULL;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = (uint64_t)st.st_size;
	f->done = f->rpos = start_pos(t, lg, f, f->size);
	f->fplen = fp_len(f->size);
	if (fingerprint(f->fd, f->fplen, &f->fp) == -1)
		f->fplen = 0, fingerprint(f->fd, 0, &f->fp);
	/* In the order found: an older file is read before a newer one. */
	for (tail = &lg->files; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = f;
	lg->nfiles++;
	log_debug("log %s: following %s (inode %ju) from %" PRIu64,
	    lg->conf->name, path, (uintmax_t)f->ino, f->done);
	return f;
}

/* Truncated in place (copytruncate), or its first bytes rewritten? */
static void
check_truncate(struct tlog *lg, struct tfile *f, const struct stat *st)
{
	uint64_t fp, size = (uint64_t)st->st_size;
	bool	 trunc = size < f->rpos;

	if (!trunc && f->fplen > 0 && (fingerprint(f->fd, f->fplen, &fp) ==
	    -1 || fp != f->fp))
		trunc = true;
	f->size = size;
	if (trunc) {
		log_info("log %s: %s truncated (size %" PRIu64 ", position %"
		    PRIu64 "), reading it from its start", lg->conf->name,
		    f->path, size, f->rpos);
		c_add(lg->s_rot[ROT_TRUNCATE], 1);
		rewind_file(f);
	}
	if (f->fplen < TAIL_FP_MAX && size > f->fplen &&
	    fingerprint(f->fd, fp_len(size), &fp) == 0) {
		f->fplen = fp_len(size);
		f->fp = fp;
	}
}

static void
match_path(struct ag_tail *t, struct tlog *lg, const char *path)
{
	struct tfile *f, *g;
	struct stat st;
	char	*np;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return;
	if ((f = find_ino(lg, st.st_dev, st.st_ino)) != NULL) {
		if (f->seen)
			return;		/* another name of a file seen */
		if (strcmp(f->path, path) != 0) {
			/* Renamed to a name the globs match too. */
			if ((g = find_active(lg, path)) != NULL && g != f)
				orphan(lg, g);
			if (!f->orphan)
				c_add(lg->s_rot[ROT_RENAME], 1);
			if ((np = strdup(path)) != NULL) {
				free(f->path);
				f->path = np;
			}
		}
		f->orphan = false;
		f->seen = true;
		check_truncate(lg, f, &st);
		return;
	}
	if ((g = find_active(lg, path)) != NULL)
		orphan(lg, g);	/* the path has a new file */
	if ((f = add_file(t, lg, path, &st)) != NULL)
		f->seen = true;
}

static void
scan_log(struct ag_tail *t, struct tlog *lg)
{
	struct tfile *f;
	glob_t	 g;
	size_t	 i, j;
	int	 rc;

	for (f = lg->files; f != NULL; f = f->next)
		f->seen = false;
	for (i = 0; i < lg->conf->npaths; i++) {
		memset(&g, 0, sizeof(g));
		rc = glob(lg->conf->paths[i], GLOB_NOESCAPE, NULL, &g);
		if (rc == 0)
			for (j = 0; j < g.gl_pathc; j++)
				match_path(t, lg, g.gl_pathv[j]);
		else if (rc != GLOB_NOMATCH)
			log_debug("log %s: glob %s failed", lg->conf->name,
			    lg->conf->paths[i]);
		globfree(&g);
	}
	for (f = lg->files; f != NULL; f = f->next)
		if (!f->seen && !f->orphan)
			orphan(lg, f);
}

/* Hand one line on: 0, or -1 when the sink refuses it. */
static int
emit(struct ag_tail *t, struct tlog *lg, struct tfile *f, const char *p,
    size_t n, size_t *lines)
{
	if (t->sink.line(t->arg, lg->conf, f->path, p, n) == -1)
		return -1;
	c_add(lg->s_lines, 1);
	c_add(lg->s_bytes, n + 1);
	(*lines)++;
	return 0;
}

/* Drop n bytes from the front of the buffer (they are done). */
static void
consume(struct tfile *f, size_t n)
{
	if (n == 0)
		return;
	memmove(f->data, f->data + n, f->len - n);
	f->len -= n;
	f->done += n;
}

/* Complete lines from the buffer to the sink: 0, or -1 refused. */
static int
drain_buffer(struct ag_tail *t, struct tlog *lg, struct tfile *f,
    size_t *lines)
{
	const char *nl;
	size_t	 off = 0, maxl = (size_t)lg->conf->max_line;

	while (off < f->len && (nl = memchr(f->data + off, '\n',
	    f->len - off)) != NULL) {
		if (emit(t, lg, f, f->data + off,
		    (size_t)(nl - (f->data + off)), lines) == -1) {
			consume(f, off);
			return -1;
		}
		off = (size_t)(nl - f->data) + 1;
	}
	consume(f, off);
	if (f->len >= maxl + 1) {
		/* No newline in max-line + 1 bytes: cut it. */
		if (emit(t, lg, f, f->data, maxl, lines) == -1)
			return -1;
		c_add(lg->s_trunc, 1);
		consume(f, f->len);
		f->skipping = true;
	}
	return 0;
}

/* Read f as far as it goes now: -1 when the sink refused a line. */
static int
read_file(struct ag_tail *t, struct tlog *lg, struct tfile *f,
    size_t *lines)
{
	size_t	 want = (size_t)lg->conf->max_line + 1, budget = TAIL_POLL_BYTES;
	char	*nl, *p;
	ssize_t	 n;

	if (f->cap < want && f->len <= want) {
		if ((p = realloc(f->data, want)) == NULL) {
			log_warnx("log %s: %s: out of memory", lg->conf->name,
			    f->path);
			return 0;
		}
		f->data = p;
		f->cap = want;
	}
	for (;;) {
		if (drain_buffer(t, lg, f, lines) == -1)
			return -1;
		if (budget == 0 || f->len == f->cap)
			break;
		n = pread(f->fd, f->data + f->len, f->cap - f->len,
		    (off_t)f->rpos);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == -1)
				log_warn("log %s: read %s", lg->conf->name,
				    f->path);
			break;
		}
		f->rpos += (uint64_t)n;
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
		f->idle_since = now_ms();
		if (!f->skipping) {
			f->len += (size_t)n;
			continue;
		}
		/* The rest of a cut line: skip to its newline. */
		if ((nl = memchr(f->data + f->len, '\n', (size_t)n)) == NULL) {
			f->done += (uint64_t)n;
			continue;
		}
		f->skipping = false;
		f->done += (uint64_t)(nl - (f->data + f->len)) + 1;
		f->len = (size_t)(f->data + f->len + n - (nl + 1));
		memmove(f->data, nl + 1, f->len);
	}
	if (f->rpos > f->size)
		f->size = f->rpos;
	return 0;
}

/* A rotated file read to its end and idle: its last line, if it has
 * no newline, is handed on now. true when it may be closed. */
static bool
orphan_done(struct ag_tail *t, struct tlog *lg, struct tfile *f,
    size_t *lines)
{
	struct stat st;

	if (fstat(f->fd, &st) == -1 || (uint64_t)st.st_size > f->rpos)
		return false;
	if (f->len > 0 && !f->skipping) {
		if (emit(t, lg, f, f->data, f->len, lines) == -1)
			return false;
		consume(f, f->len);
	}
	return true;
}

static void
poll_log(struct ag_tail *t, struct tlog *lg, size_t *lines)
{
	struct tfile *f, **fp;
	uint64_t now;
	int	 pass;

	scan_log(t, lg);
	lg->polled = true;
	/* Rotated files first: their tail comes before the new file. */
	for (pass = 0; pass < 2; pass++)
		for (f = lg->files; f != NULL; f = f->next)
			if (f->orphan == (pass == 0) &&
			    read_file(t, lg, f, lines) == -1)
				goto out;
 out:
	now = now_ms();
	for (fp = &lg->files; (f = *fp) != NULL;) {
		if (f->orphan && now - f->idle_since >= TAIL_ORPHAN_GRACE_MS &&
		    orphan_done(t, lg, f, lines)) {
			log_debug("log %s: closing %s (inode %ju)",
			    lg->conf->name, f->path, (uintmax_t)f->ino);
			*fp = f->next;
			tfile_free(f);
			lg->nfiles--;
			continue;
		}
		fp = &f->next;
	}
	files_gauge(lg);
}

size_t
ag_tail_poll(struct ag_tail *t)
{
	struct tlog *lg;
	size_t	 lines = 0;

	for (lg = t->logs; lg != NULL; lg = lg->next)
		poll_log(t, lg, &lines);
	/* Saved positions only count for files found at start. */
	state_free(t->state);
	t->state = NULL;
	return lines;
}

/* ---- set-up ---- */

static void
tlog_free(struct tlog *lg)
{
	struct tfile *f, *next;

	for (f = lg->files; f != NULL; f = next) {
		next = f->next;
		tfile_free(f);
	}
	free(lg);
}

static struct tlog *
tlog_new(struct ag_tail *t, const struct ag_log_conf *c)
{
	const char *const name[] = { c->name, NULL };
	struct tlog *lg;
	int	 i;

	if ((lg = calloc(1, sizeof(*lg))) == NULL)
		return NULL;
	lg->conf = c;
	if (t->m == NULL)
		return lg;
	lg->s_lines = metric_with(t->m_lines, name);
	lg->s_bytes = metric_with(t->m_bytes, name);
	lg->s_trunc = metric_with(t->m_trunc, name);
	lg->s_files = metric_with(t->m_files, name);
	for (i = 0; i < ROT_N; i++)
		lg->s_rot[i] = metric_with(t->m_rot, (const char *const[]){
		    c->name, rot_names[i], NULL });
	return lg;
}

/* The logs of conf: those of the same name keep their files. */
static int
set_logs(struct ag_tail *t, struct ag_log_conf *logs, char *err,
    size_t errlen)
{
	struct tlog *head = NULL, **tail = &head, *lg, **op;
	struct ag_log_conf *c;

	for (c = logs; c != NULL; c = c->next) {
		for (op = &t->logs; *op != NULL; op = &(*op)->next)
			if (strcmp((*op)->conf->name, c->name) == 0)
				break;
		if ((lg = *op) != NULL) {
			*op = lg->next;
			lg->conf = c;
			lg->next = NULL;
		} else if ((lg = tlog_new(t, c)) == NULL) {
			while ((lg = head) != NULL) {
				head = lg->next;
				lg->next = t->logs;	/* back, unchanged */
				t->logs = lg;
			}
			return seterr(err, errlen, "log %s: out of memory",
			    c->name);
		}
		*tail = lg;
		tail = &lg->next;
	}
	while ((lg = t->logs) != NULL) {
		t->logs = lg->next;
		if (lg->s_files != NULL)
			gauge_set(lg->s_files, 0);
		tlog_free(lg);
	}
	t->logs = head;
	return 0;
}

struct ag_tail *
ag_tail_new(const char *state_path, struct ag_log_conf *logs,
    const struct ag_tail_sink *sink, void *arg, struct metrics *m, char *err,
    size_t errlen)
{
	static const char *const l_log[] = { "log", NULL };
	static const char *const l_rot[] = { "log", "kind", NULL };
	struct ag_tail *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		seterr(err, errlen, "log tailing: out of memory");
		return NULL;
	}
	t->sink = *sink;
	t->arg = arg;
	t->m = m;
	if (state_path != NULL && (t->state_path = strdup(state_path)) == NULL) {
		seterr(err, errlen, "log tailing: out of memory");
		goto fail;
	}
	if (m != NULL && ((t->m_lines = metrics_counter(m, "log_lines_total",
	    "Lines read from the log's files.", l_log)) == NULL ||
	    (t->m_bytes = metrics_counter(m, "log_bytes_total",
	    "Bytes of the lines read, newlines included.", l_log)) == NULL ||
	    (t->m_trunc = metrics_counter(m, "log_truncated_lines_total",
	    "Lines longer than max-line, cut.", l_log)) == NULL ||
	    (t->m_rot = metrics_counter(m, "log_rotations_total",
	    "Rotations seen: rename (the path has a new file) or truncate "
	    "(copytruncate).", l_rot)) == NULL ||
	    (t->m_files = metrics_gauge(m, "log_files",
	    "Files open: followed, and rotated ones still being read.",
	    l_log)) == NULL)) {
		seterr(err, errlen, "log tailing: metrics registration");
		goto fail;
	}
	if (t->state_path != NULL && state_load(t, err, errlen) == -1)
		goto fail;
	if (set_logs(t, logs, err, errlen) == -1)
		goto fail;
	return t;
 fail:
	ag_tail_free(t);
	return NULL;
}

int
ag_tail_reload(struct ag_tail *t, struct ag_log_conf *logs, char *err,
    size_t errlen)
{
	return set_logs(t, logs, err, errlen);
}

void
ag_tail_status(struct ag_tail *t, struct ctl_conn *cc)
{
	struct tlog *lg;
	struct tfile *f;

	for (lg = t->logs; lg != NULL; lg = lg->next)
		for (f = lg->files; f != NULL; f = f->next)
			ctl_printf(cc, "log %s: %s inode %ju pos %" PRIu64
			    " size %" PRIu64 "%s\n", lg->conf->name, f->path,
			    (uintmax_t)f->ino, f->done, f->size,
			    f->orphan ? " (rotated, draining)" : "");
}

void
ag_tail_free(struct ag_tail *t)
{
	struct tlog *lg;

	if (t == NULL)
		return;
	while ((lg = t->logs) != NULL) {
		t->logs = lg->next;
		tlog_free(lg);
	}
	state_free(t->state);
	free(t->state_path);
	free(t);
}
