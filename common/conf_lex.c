/* conf_lex — arena and tokenizer for the shared configuration grammar.
 *
 * Tokens: words (anything up to whitespace or one of ; { } # "),
 * "quoted strings" with \" \\ \n \t escapes, '{', '}', and end of
 * statement (newline or ';'). '#' starts a comment anywhere outside
 * quotes; a backslash right before a newline joins the two lines. */
#include <errno.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_lex.h"

#define CHUNK_SIZE	(16 * 1024)
#define ALIGN		alignof(max_align_t)

struct conf_chunk {
	struct conf_chunk *next;
	size_t		 size;
	size_t		 used;
	alignas(max_align_t) unsigned char data[];
};

void
conf_arena_init(struct conf_arena *a, size_t max)
{
	a->chunks = NULL;
	a->used = 0;
	a->max = max;
}

void
conf_arena_free(struct conf_arena *a)
{
	struct conf_chunk *c, *next;

	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->chunks = NULL;
	a->used = 0;
}

static struct conf_chunk *
arena_chunk(struct conf_arena *a, size_t size)
{
	struct conf_chunk *c;
	size_t	 total;

	if (size > SIZE_MAX - sizeof(*c)) {
		errno = E2BIG;
		return NULL;
	}
	total = sizeof(*c) + size;
	if (total > a->max || a->used > a->max - total) {
		errno = E2BIG;
		return NULL;
	}
	if ((c = malloc(total)) == NULL)
		return NULL;
	c->size = size;
	c->used = 0;
	a->used += total;
	return c;
}

/* n bytes aligned to align (a power of two, at most ALIGN). */
static void *
arena_alloc(struct conf_arena *a, size_t n, size_t align)
{
	struct conf_chunk *c = a->chunks;
	size_t	 at = 0;
	void	*p;

	if (n == 0)
		n = 1;
	if (c != NULL)
		at = (c->used + align - 1) & ~(align - 1);
	if (c == NULL || at > c->size || c->size - at < n) {
		/* Big items get a chunk of their own behind the current one,
		 * so the current chunk's free tail stays in use. */
		if (n > CHUNK_SIZE / 4) {
			if ((c = arena_chunk(a, n)) == NULL)
				return NULL;
			if (a->chunks != NULL) {
				c->next = a->chunks->next;
				a->chunks->next = c;
			} else {
				c->next = NULL;
				a->chunks = c;
			}
		} else {
			if ((c = arena_chunk(a, CHUNK_SIZE)) == NULL)
				return NULL;
			c->next = a->chunks;
			a->chunks = c;
		}
		at = 0;
	}
	p = c->data + at;
	c->used = at + n;
	return p;
}

void *
conf_arena_alloc(struct conf_arena *a, size_t n)
{
	return arena_alloc(a, n, ALIGN);
}

/* Bytes with no alignment: token text, most of what a tree holds. */
char *
conf_arena_chars(struct conf_arena *a, size_t n)
{
	return arena_alloc(a, n, 1);
}

char *
conf_arena_strndup(struct conf_arena *a, const char *s, size_t len)
{
	char	*p;

	if (len == SIZE_MAX) {
		errno = E2BIG;
		return NULL;
	}
	if ((p = conf_arena_chars(a, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
conf_lex_init(struct conf_lex *lx, const char *name, const char *text,
    size_t len, struct conf_arena *arena, char *err, size_t errlen)
{
	memset(lx, 0, sizeof(*lx));
	lx->name = name;
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
	lx->ends_with_newline = len > 0 && text[len - 1] == '\n';
	lx->arena = arena;
	lx->err = err;
	lx->errlen = errlen;
}

static int
lex_error(struct conf_lex *lx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
lex_error(struct conf_lex *lx, int line, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lx->errlen > 0)
		snprintf(lx->err, lx->errlen, "%s:%d: %s", lx->name, line, msg);
	return -1;
}

static int
lex_nomem(struct conf_lex *lx)
{
	if (errno == E2BIG)
		return lex_error(lx, lx->line, "configuration too large: more "
		    "than %zu bytes of memory needed", lx->arena->max);
	return lex_error(lx, lx->line, "out of memory");
}

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Ends an unquoted word. */
static bool
is_delim(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	    c == '{' || c == '}' || c == '#' || c == '"' || is_control(c);
}

/* Length of a backslash-newline at p (2 or 3 with a CR), else 0. */
static size_t
continuation(const char *p, const char *end)
{
	if (p < end && *p == '\\') {
		if (end - p >= 2 && p[1] == '\n')
			return 2;
		if (end - p >= 3 && p[1] == '\r' && p[2] == '\n')
			return 3;
	}
	return 0;
}

/* Only control characters are ever refused, so show them in hex. */
static void
bad_char_desc(unsigned char c, char *out, size_t outlen)
{
	snprintf(out, outlen, "byte 0x%02x", c);
}

/* Validate a quoted string starting after its opening quote; find where
 * it ends and how long it is decoded. */
static int
string_scan(struct conf_lex *lx, const char **endp, size_t *outlen)
{
	const char *p = lx->p;
	int	 line = lx->line, start = lx->line;
	size_t	 n = 0, k;
	char	 what[16];

	for (;;) {
		if (p == lx->end)
			return lex_error(lx, start, "unterminated quoted string");
		if (*p == '"')
			break;
		if (*p == '\n')
			return lex_error(lx, start, "unterminated quoted string "
			    "(write \\n for a newline inside quotes)");
		if (*p == '\\') {
			if ((k = continuation(p, lx->end)) > 0) {
				p += k;
				line++;
				continue;
			}
			if (p + 1 == lx->end)
				return lex_error(lx, start,
				    "unterminated quoted string");
			switch (p[1]) {
			case '"':
			case '\\':
			case 'n':
			case 't':
				break;
			default:
				if (is_control((unsigned char)p[1]) ||
				    (unsigned char)p[1] >= 0x80)
					snprintf(what, sizeof(what), "\\x%02x",
					    (unsigned char)p[1]);
				else
					snprintf(what, sizeof(what), "\\%c",
					    p[1]);
				return lex_error(lx, line, "unknown escape '%s' "
				    "in quoted string (write \\\\ for a "
				    "backslash)", what);
			}
			p += 2;
			n++;
			continue;
		}
		if (is_control((unsigned char)*p) && *p != '\t') {
			bad_char_desc((unsigned char)*p, what, sizeof(what));
			return lex_error(lx, line,
			    "unexpected %s in quoted string", what);
		}
		p++;
		n++;
	}
	*endp = p;
	*outlen = n;
	return 0;
}

static int
lex_string(struct conf_lex *lx, struct conf_tok *tok)
{
	const char *end = NULL, *p;
	size_t	 n = 0, k;
	char	*out;

	tok->type = CONF_TOK_STRING;
	tok->line = lx->line;
	lx->p++;			/* opening quote */
	if (string_scan(lx, &end, &n) == -1)
		return -1;
	if ((out = conf_arena_chars(lx->arena, n + 1)) == NULL)
		return lex_nomem(lx);
	tok->text = out;
	tok->len = n;
	for (p = lx->p; p < end; ) {
		if ((k = continuation(p, end)) > 0) {
			p += k;
			lx->line++;
		} else if (*p == '\\') {
			switch (p[1]) {
			case 'n':
				*out++ = '\n';
				break;
			case 't':
				*out++ = '\t';
				break;
			default:
				*out++ = p[1];
				break;
			}
			p += 2;
		} else
			*out++ = *p++;
	}
	*out = '\0';
	lx->p = end + 1;
	/* "a"b would read as two tokens; ask for the space instead. */
	if (lx->p < lx->end && !is_delim((unsigned char)*lx->p) &&
	    continuation(lx->p, lx->end) == 0)
		return lex_error(lx, lx->line,
		    "expected a space after the closing '\"'");
	return 0;
}

static int
lex_word(struct conf_lex *lx, struct conf_tok *tok)
{
	const char *p = lx->p;

	while (p < lx->end && !is_delim((unsigned char)*p) &&
	    continuation(p, lx->end) == 0)
		p++;
	if (p < lx->end && *p == '"')
		return lex_error(lx, lx->line, "unexpected '\"' inside a word "
		    "(quote the whole word)");
	tok->type = CONF_TOK_WORD;
	tok->line = lx->line;
	tok->len = p - lx->p;
	if ((tok->text = conf_arena_strndup(lx->arena, lx->p, tok->len)) ==
	    NULL)
		return lex_nomem(lx);
	lx->p = p;
	return 0;
}

int
conf_lex_next(struct conf_lex *lx, struct conf_tok *tok)
{
	size_t	 k;
	char	 what[16];
	unsigned char c;

	if (lx->have_pushback) {
		*tok = lx->pushback;
		lx->have_pushback = false;
		return 0;
	}
	memset(tok, 0, sizeof(*tok));
	for (;;) {
		if (lx->p == lx->end) {
			tok->type = CONF_TOK_EOF;
			/* Report the last line, not the empty one after it. */
			tok->line = lx->line;
			if (lx->ends_with_newline && tok->line > 1)
				tok->line--;
			return 0;
		}
		c = (unsigned char)*lx->p;
		if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
			continue;
		}
		if ((k = continuation(lx->p, lx->end)) > 0) {
			lx->p += k;
			lx->line++;
			continue;
		}
		if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		break;
	}
	tok->line = lx->line;
	switch (c) {
	case '\n':
		tok->type = CONF_TOK_EOL;
		lx->p++;
		lx->line++;
		return 0;
	case ';':
		tok->type = CONF_TOK_EOL;
		lx->p++;
		return 0;
	case '{':
		tok->type = CONF_TOK_LBRACE;
		lx->p++;
		return 0;
	case '}':
		tok->type = CONF_TOK_RBRACE;
		lx->p++;
		return 0;
	case '"':
		return lex_string(lx, tok);
	default:
		if (is_control(c)) {
			bad_char_desc(c, what, sizeof(what));
			return lex_error(lx, lx->line, "unexpected %s", what);
		}
		return lex_word(lx, tok);
	}
}

void
conf_lex_unget(struct conf_lex *lx, const struct conf_tok *tok)
{
	lx->pushback = *tok;
	lx->have_pushback = true;
}

void
conf_quote_for_msg(const char *s, char *out, size_t outlen)
{
	size_t	 o = 0, i;
	const char *esc;
	char	 hex[8];
	bool	 cut = false;

	if (outlen < 8) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	/* Room kept for the closing `..."` and the NUL. */
	outlen -= 5;
	out[o++] = '"';
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		esc = NULL;
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\t')
			esc = "\\t";
		else if (is_control(c)) {
			snprintf(hex, sizeof(hex), "\\x%02x", c);
			esc = hex;
		}
		if (o + (esc != NULL ? strlen(esc) : 1) > outlen) {
			cut = true;
			break;
		}
		if (esc != NULL) {
			memcpy(out + o, esc, strlen(esc));
			o += strlen(esc);
		} else
			out[o++] = c;
	}
	if (cut) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
}

void
conf_tok_describe(const struct conf_tok *tok, char *out, size_t outlen)
{
	static const char *const names[] = {
		[CONF_TOK_EOF] = "end of file",
		[CONF_TOK_EOL] = "end of line",
		[CONF_TOK_LBRACE] = "'{'",
		[CONF_TOK_RBRACE] = "'}'",
	};

	if (tok->type == CONF_TOK_WORD || tok->type == CONF_TOK_STRING)
		conf_quote_for_msg(tok->text, out, outlen);
	else
		snprintf(out, outlen, "%s", names[tok->type]);
}
