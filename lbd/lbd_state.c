/* lbd_state — the state file's format (reading and atomically replacing
 * the file: common/statefile.c). No lbd runtime state here: lbd_admin.c
 * applies the entries to servers and builds them from servers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "statefile.h"
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
	return state_file_read(path, LB_STATE_FILE_MAX, out, err, errlen);
}

int
lb_state_write(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	return state_file_write(path, data, len, err, errlen);
}
