/* ctl_words — request lines to words and back (see the grammar in ctl.h).
 * Pure functions: the server, the client and the fuzzer share them. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "ctl.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0. Overlong forms,
 * surrogates and code points past U+10FFFF are invalid. A NUL ends the
 * input, so this never reads past a terminated string. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range is narrower for a few lead bytes. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t';
}

int
ctl_split(char *line, char **argv, int max, const char **error)
{
	unsigned char	*r = (unsigned char *)line;
	char		*w = line;	/* decoded bytes, never ahead of r */
	int		 argc = 0;
	bool		 quoted;
	size_t		 n;

	for (;;) {
		while (is_space(*r))
			r++;
		if (*r == '\0')
			break;
		if (argc >= max) {
			*error = "too many words";
			return -1;
		}
		argv[argc++] = w;
		quoted = false;
		while (*r != '\0' && (quoted || !is_space(*r))) {
			if (*r == '"') {
				quoted = !quoted;
				r++;
				continue;
			}
			if (quoted && *r == '\\') {
				if (r[1] != '"' && r[1] != '\\') {
					*error = "bad escape in quoted string "
					    "(only \\\" and \\\\)";
					return -1;
				}
				*w++ = (char)r[1];
				r += 2;
				continue;
			}
			/* A tab is a separator outside quotes, text inside. */
			if (is_control(*r) && !(quoted && *r == '\t')) {
				*error = "control character in request";
				return -1;
			}
			if ((n = utf8_len(r)) == 0) {
				*error = "request is not valid UTF-8";
				return -1;
			}
			memmove(w, r, n);
			w += n;
			r += n;
		}
		if (quoted) {
			*error = "unterminated quoted string";
			return -1;
		}
		/* Step over the separator before w may overwrite it. */
		if (*r != '\0')
			r++;
		*w++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* -1 if word cannot be sent; *needq tells whether it must be quoted. */
static int
word_check(const char *word, bool *needq, const char **error)
{
	const unsigned char *p = (const unsigned char *)word;
	size_t		 n;

	*needq = *p == '\0';
	while (*p != '\0') {
		if (*p == '\t' || *p == ' ' || *p == '"' || *p == '\\')
			*needq = true;
		else if (is_control(*p)) {
			*error = "control character in argument";
			return -1;
		}
		if ((n = utf8_len(p)) == 0) {
			*error = "argument is not valid UTF-8";
			return -1;
		}
		p += n;
	}
	return 0;
}

int
ctl_join(struct buf *b, int argc, char *const argv[], const char **error)
{
	size_t		 used = buf_used(b);
	const char	*p;
	bool		 needq;
	int		 i, rc = 0;

	for (i = 0; i < argc && rc == 0; i++) {
		if (word_check(argv[i], &needq, error) == -1) {
			b->len = b->off + used;
			errno = EINVAL;
			return -1;
		}
		if (i > 0)
			rc |= buf_append(b, " ", 1);
		if (!needq) {
			rc |= buf_puts(b, argv[i]);
			continue;
		}
		rc |= buf_append(b, "\"", 1);
		for (p = argv[i]; *p != '\0' && rc == 0; p++) {
			if (*p == '"' || *p == '\\')
				rc |= buf_append(b, "\\", 1);
			rc |= buf_append(b, p, 1);
		}
		rc |= buf_append(b, "\"", 1);
	}
	if (rc != 0) {
		/* Leave the buffer as it was: no half request. */
		b->len = b->off + used;
		*error = "request too long";
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}
