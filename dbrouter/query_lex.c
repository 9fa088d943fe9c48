/* query_lex — SQL tokenizer for routing decisions. */
#include <string.h>
#include <strings.h>

#include "query_lex.h"

/* The routing hints, searched for in comment text (query_class.h). */
static const struct {
	const char	*text;
	enum ql_hint	 hint;
} hints[] = {
	{ "route=primary", QL_HINT_PRIMARY },
	{ "route=replica", QL_HINT_REPLICA },
};

void
ql_init(struct ql_lexer *l, const char *p, size_t len, bool no_backslash)
{
	memset(l, 0, sizeof(*l));
	l->p = p;
	l->len = len;
	l->no_backslash = no_backslash;
}

static bool
is_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

static bool
at(const struct ql_lexer *l, size_t off, char c)
{
	return l->pos + off < l->len && l->p[l->pos + off] == c;
}

static void
scan_hint(struct ql_lexer *l, const char *s, size_t n)
{
	size_t	 i, j, hl;

	if (l->hint != QL_HINT_NONE)
		return;		/* the first hint wins */
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		hl = strlen(hints[i].text);
		for (j = 0; j + hl <= n; j++) {
			if (strncasecmp(s + j, hints[i].text, hl) == 0 &&
			    (j + hl == n || !is_word_char(s[j + hl]))) {
				l->hint = hints[i].hint;
				return;
			}
		}
	}
}

/* A comment starting at pos; false if this is not one. */
static bool
skip_comment(struct ql_lexer *l)
{
	size_t	 start, end;
	const char *close;

	if (at(l, 0, '#') || (at(l, 0, '-') && at(l, 1, '-') &&
	    (l->pos + 2 == l->len ||
	    (unsigned char)l->p[l->pos + 2] <= ' '))) {
		start = l->pos;
		while (l->pos < l->len && l->p[l->pos] != '\n')
			l->pos++;
		scan_hint(l, l->p + start, l->pos - start);
		return true;
	}
	if (!at(l, 0, '/') || !at(l, 1, '*'))
		return false;
	/* Executable comments: their content is SQL. */
	if (!l->in_exec &&
	    (at(l, 2, '!') || (at(l, 2, 'M') && at(l, 3, '!')))) {
		l->pos += at(l, 2, '!') ? 3 : 4;
		while (l->pos < l->len && l->p[l->pos] >= '0' &&
		    l->p[l->pos] <= '9')
			l->pos++;
		l->in_exec = true;
		return true;
	}
	start = l->pos + 2;
	close = memmem(l->p + start, l->len - start, "*/", 2);
	if (close == NULL) {
		l->unterminated = true;
		end = l->len;
		l->pos = l->len;
	} else {
		end = (size_t)(close - l->p);
		l->pos = end + 2;
	}
	scan_hint(l, l->p + start, end - start);
	return true;
}

/* A quoted string or identifier; the quote is at pos. */
static void
skip_quoted(struct ql_lexer *l)
{
	char	 q = l->p[l->pos];
	bool	 escapes = q != '`' && !l->no_backslash;

	l->pos++;
	while (l->pos < l->len) {
		char	 c = l->p[l->pos++];

		if (c == '\\' && escapes) {
			if (l->pos < l->len)
				l->pos++;
		} else if (c == q) {
			if (l->pos < l->len && l->p[l->pos] == q)
				l->pos++;	/* doubled: a literal quote */
			else
				return;
		}
	}
	l->unterminated = true;
}

static void
skip_word(struct ql_lexer *l)
{
	while (l->pos < l->len && is_word_char(l->p[l->pos]))
		l->pos++;
}

void
ql_next(struct ql_lexer *l, struct ql_token *t)
{
	unsigned char c;
	size_t	 start;

	for (;;) {
		while (l->pos < l->len && is_space(l->p[l->pos]))
			l->pos++;
		if (l->in_exec && at(l, 0, '*') && at(l, 1, '/')) {
			l->pos += 2;
			l->in_exec = false;
			continue;
		}
		if (l->pos >= l->len || !skip_comment(l))
			break;
	}
	start = l->pos;
	t->p = l->p + start;
	if (l->pos >= l->len) {
		if (l->in_exec)
			l->unterminated = true;
		t->type = QL_END;
		t->len = 0;
		return;
	}
	c = l->p[l->pos];
	if (c == '\'' || c == '"' || c == '`') {
		skip_quoted(l);
		t->type = c == '`' ? QL_IDENT : QL_STRING;
	} else if (c == '@' && at(l, 1, '@')) {
		l->pos += 2;
		/* @@session.name: words joined by dots. */
		while (l->pos < l->len && (is_word_char(l->p[l->pos]) ||
		    l->p[l->pos] == '.'))
			l->pos++;
		t->type = QL_SYSVAR;
	} else if (c == '@') {
		l->pos++;
		if (l->pos < l->len && (l->p[l->pos] == '\'' ||
		    l->p[l->pos] == '"' || l->p[l->pos] == '`'))
			skip_quoted(l);
		else
			skip_word(l);
		t->type = QL_VAR;
	} else if (c >= '0' && c <= '9') {
		while (l->pos < l->len && (is_word_char(l->p[l->pos]) ||
		    l->p[l->pos] == '.'))
			l->pos++;
		t->type = QL_NUMBER;
	} else if (is_word_char(c)) {
		skip_word(l);
		t->type = QL_WORD;
	} else {
		l->pos += c == ':' && at(l, 1, '=') ? 2 : 1;
		t->type = QL_PUNCT;
	}
	t->len = l->pos - start;
}

bool
ql_is(const struct ql_token *t, const char *kw)
{
	return t->type == QL_WORD && strlen(kw) == t->len &&
	    strncasecmp(t->p, kw, t->len) == 0;
}

bool
ql_punct(const struct ql_token *t, char c)
{
	return t->type == QL_PUNCT && t->len == 1 && t->p[0] == c;
}
