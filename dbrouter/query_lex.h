/* query_lex — a tokenizer for MySQL/MariaDB SQL text, just enough for
 * query_class: words, quoted strings and identifiers skipped whole (with
 * backslash escapes unless NO_BACKSLASH_ESCAPES, and doubled quotes),
 * numbers, variables (@x, @@x), punctuation, statement separators.
 *
 * Comments produce no token, but their text is searched for a routing
 * hint (query_class.h): block comments from '/' '*' to '*' '/', and "-- "
 * or "#" to the end of the line. Executable comments, '/' '*' '!' and
 * '/' '*' 'M' '!' with an optional version number, are SQL to MySQL and
 * MariaDB: their content is tokenized like any text, and their closing
 * '*' '/' is skipped. */
#ifndef STACKD_QUERY_LEX_H
#define STACKD_QUERY_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum ql_type {
	QL_END,		/* end of text */
	QL_WORD,	/* keyword or bare identifier */
	QL_IDENT,	/* `quoted identifier` */
	QL_STRING,	/* '...' or "..." */
	QL_NUMBER,
	QL_VAR,		/* @name, @'name', @`name` */
	QL_SYSVAR,	/* @@name, @@session.name, ... */
	QL_PUNCT,	/* one character, or ":=" */
};

struct ql_token {
	enum ql_type	 type;
	const char	*p;
	size_t		 len;
};

enum ql_hint {
	QL_HINT_NONE,
	QL_HINT_PRIMARY,
	QL_HINT_REPLICA,
};

struct ql_lexer {
	const char	*p;
	size_t		 len;
	size_t		 pos;
	bool		 no_backslash;	/* sql_mode NO_BACKSLASH_ESCAPES */
	bool		 in_exec;	/* inside an executable comment */
	bool		 unterminated;	/* a string or comment ran off */
	enum ql_hint	 hint;		/* the first hint seen */
};

void	 ql_init(struct ql_lexer *, const char *, size_t, bool no_backslash);
/* The next token; QL_END at the end (and then forever). */
void	 ql_next(struct ql_lexer *, struct ql_token *);

/* A word equal to kw, which is upper case, ignoring case. */
bool	 ql_is(const struct ql_token *, const char *kw);
/* One punctuation character. */
bool	 ql_punct(const struct ql_token *, char c);

#endif
