/* lbd_state — the state file's format, and reading and atomically
 * replacing the file. No lbd runtime state here: lbd_admin.c applies the
 * entries to servers and builds them from servers. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "lbd_state.h"

#define STATE_MAX_WORDS		5	/* server P/N STATE weight N */
#define STATE_QUOTE_MAX		32	/* bytes of a bad word in messages */

static const char *const admin_names[] = { "ready", "drain", "maint" };
#define NADMIN	(sizeof(admin_names) / sizeof(admin_names[0]))

const char *
lb_admin_name(enum lb_admin a)
{
	return (size_t)a < NADMIN ? admin_names[a] : "unknown";
}

bool
lb_name_valid(const char *s, size_t len)
{
	size_t	 i;
	char	 c;

	if (len == 0 || len >= LB_STATE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* A word for a message: cut, and anything unprintable shown as '?' (the
 * file may hold any bytes; the log should not). */
static const char *
quote(const char *w, char *out, size_t outlen)
{
	size_t	 i, n = strlen(w);
	size_t	 max = outlen - 4;

	for (i = 0; i < n && i < max; i++)
		out[i] = (w[i] >= 0x20 && w[i] < 0x7f) ? w[i] : '?';
	if (n > max)
		memcpy(out + i, "...", 4);
	else
		out[i] = '\0';
	return out;
}

static int
bad(const struct lb_state_cb *cb, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(const struct lb_state_cb *cb, unsigned line, const char *fmt, ...)
{
	char	 why[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (cb->bad != NULL)
		cb->bad(line, why, cb->arg);
	return -1;
}

static int
parse_weight(const char *s, unsigned *w)
{
	unsigned long	 v = 0;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) ||
	    strlen(s) > 3)
		return -1;
	v = strtoul(s, NULL, 10);
	if (v < 1 || v > LB_WEIGHT_MAX)
		return -1;
	*w = (unsigned)v;
	return 0;
}

/* One line, NUL-terminated, comments and blanks already skipped. */
static int
parse_words(char **w, int n, unsigned line, const struct lb_state_cb *cb)
{
	struct lb_state_entry e = { .weight = 0 };
	char		 q[STATE_QUOTE_MAX + 4];
	const char	*slash;
	size_t		 i;

	if (strcmp(w[0], "server") != 0)
		return bad(cb, line, "expected \"server POOL/NAME "
		    "ready|drain|maint [weight N]\", got \"%s\"",
		    quote(w[0], q, sizeof(q)));
	if (n < 2)
		return bad(cb, line, "server: expected POOL/NAME");
	slash = strchr(w[1], '/');
	if (slash == NULL || !lb_name_valid(w[1], (size_t)(slash - w[1])) ||
	    !lb_name_valid(slash + 1, strlen(slash + 1)))
		return bad(cb, line, "server: expected POOL/NAME (letters, "
		    "digits, '-', '_', '.'), got \"%s\"", quote(w[1], q,
		    sizeof(q)));
	memcpy(e.pool, w[1], (size_t)(slash - w[1]));
	snprintf(e.server, sizeof(e.server), "%s", slash + 1);
	if (n < 3)
		return bad(cb, line, "server %s: expected ready, drain or "
		    "maint", w[1]);
	for (i = 0; i < NADMIN && strcmp(w[2], admin_names[i]) != 0; i++)
		;
	if (i == NADMIN)
		return bad(cb, line, "server %s: expected ready, drain or "
		    "maint, got \"%s\"", w[1], quote(w[2], q, sizeof(q)));
	e.admin = (enum lb_admin)i;
	if (n > 3 && strcmp(w[3], "weight") != 0)
		return bad(cb, line, "server %s: expected \"weight N\" or the "
		    "end of the line, got \"%s\"", w[1], quote(w[3], q,
		    sizeof(q)));
	if (n == 4 || (n >= 5 && parse_weight(w[4], &e.weight) == -1))
		return bad(cb, line, "server %s: weight: expected 1..%d%s%s%s",
		    w[1], LB_WEIGHT_MAX, n >= 5 ? ", got \"" : "",
		    n >= 5 ? quote(w[4], q, sizeof(q)) : "",
		    n >= 5 ? "\"" : "");
	if (n > STATE_MAX_WORDS)
		return bad(cb, line, "server %s: expected the end of the line "
		    "after the weight, got \"%s\"", w[1], quote(w[5], q,
		    sizeof(q)));
	if (cb->entry != NULL)
		cb->entry(&e, line, cb->arg);
	return 0;
}

static int
parse_line(char *s, unsigned line, const struct lb_state_cb *cb)
{
	char	*w[STATE_MAX_WORDS + 2];
	int	 n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0' || (n == 0 && *s == '#'))
			break;
		/* One more than can be right: checked after the others. */
		if (n == STATE_MAX_WORDS + 1)
			break;
		w[n++] = s;
		s += strcspn(s, " \t");
		if (*s != '\0')
			*s++ = '\0';
	}
	return n == 0 ? 0 : parse_words(w, n, line, cb);
}

unsigned
lb_state_parse(const char *text, size_t len, const struct lb_state_cb *cb)
{
	char		 copy[LB_STATE_LINE_MAX + 1];
	const char	*p = text, *end = text + len, *nl;
	size_t		 n;
	unsigned	 line = 0, nbad = 0;

	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > LB_STATE_LINE_MAX) {
			nbad++;
			bad(cb, line, "line longer than %d bytes",
			    LB_STATE_LINE_MAX);
			continue;
		}
		if (memchr(p, '\0', n) != NULL) {
			nbad++;
			bad(cb, line, "NUL byte in line");
			continue;
		}
		memcpy(copy, p, n);
		copy[n] = '\0';
		if (parse_line(copy, line, cb) == -1)
			nbad++;
	}
	return nbad;
}

int
lb_state_format_header(struct buf *b)
{
	return buf_puts(b, "# lbd admin state (see state-file in lbd.conf(5)); "
	    "rewritten by lbd at each change\n");
}

int
lb_state_format(struct buf *b, const struct lb_state_entry *e)
{
	if (e->weight > 0)
		return buf_printf(b, "server %s/%s %s weight %u\n", e->pool,
		    e->server, lb_admin_name(e->admin), e->weight);
	return buf_printf(b, "server %s/%s %s\n", e->pool, e->server,
	    lb_admin_name(e->admin));
}

int
lb_state_read(const char *path, struct buf *out, char *err, size_t errlen)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd, saved;

	buf_init(out, LB_STATE_FILE_MAX + 1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		saved = errno;
		seterr(err, errlen, "%s: %s", path, strerror(saved));
		goto fail;
	}
	saved = EINVAL;
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	while ((n = buf_read_fd(out, fd)) != 0) {
		if (n > 0 || errno == EINTR)
			continue;
		saved = errno;
		seterr(err, errlen, "%s: %s", path, saved == ENOBUFS ?
		    "larger than 1m (not a state file?)" : strerror(saved));
		goto fail;
	}
	close(fd);
	return 0;
 fail:
	if (fd != -1)
		close(fd);
	buf_free(out);
	errno = saved;
	return -1;
}

/* fsync the directory holding path: the rename itself must be durable. */
static int
sync_dir(const char *path, char *err, size_t errlen)
{
	char	*copy, *dir;
	int	 fd, rv = 0;

	if ((copy = strdup(path)) == NULL)
		return seterr(err, errlen, "%s: out of memory", path);
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		rv = seterr(err, errlen, "fsync directory %s: %s", dir,
		    strerror(errno));
	if (fd != -1)
		close(fd);
	free(copy);
	return rv;
}

int
lb_state_write(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	const char	*p = data, *what = "write";
	char		*tmp;
	ssize_t		 n;
	int		 fd;

	if (asprintf(&tmp, "%s.XXXXXX", path) == -1)
		return seterr(err, errlen, "%s: out of memory", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		seterr(err, errlen, "create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	/* Not secret: operators read it. */
	if (fchmod(fd, 0644) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return sync_dir(path, err, errlen);
 fail:
	seterr(err, errlen, "%s %s: %s", what, tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}
