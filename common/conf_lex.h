/* conf_lex — private to common/conf*.c: the memory arena that holds a
 * parsed tree and the tokenizer. Not for daemons; use conf.h. */
#ifndef STACKD_CONF_LEX_H
#define STACKD_CONF_LEX_H

#include <stdbool.h>
#include <stddef.h>

/* Bump allocator: everything a conf_doc holds is freed in one go. Refuses
 * (NULL, errno E2BIG) once max bytes are in use; NULL/ENOMEM on malloc. */
struct conf_arena {
	struct conf_chunk *chunks;
	size_t		 used;
	size_t		 max;
};

void	 conf_arena_init(struct conf_arena *, size_t max);
void	 conf_arena_free(struct conf_arena *);
void	*conf_arena_alloc(struct conf_arena *, size_t n);
char	*conf_arena_chars(struct conf_arena *, size_t n);
char	*conf_arena_strndup(struct conf_arena *, const char *, size_t);

enum conf_tok_type {
	CONF_TOK_EOF,
	CONF_TOK_EOL,		/* newline or ';' */
	CONF_TOK_LBRACE,
	CONF_TOK_RBRACE,
	CONF_TOK_WORD,		/* unquoted */
	CONF_TOK_STRING,	/* "quoted", escapes decoded */
};

struct conf_tok {
	enum conf_tok_type type;
	int		 line;
	char		*text;		/* WORD and STRING, in the arena */
	size_t		 len;
};

struct conf_lex {
	const char	*name;		/* for messages */
	const char	*p;
	const char	*end;
	int		 line;
	bool		 ends_with_newline;
	bool		 have_pushback;
	struct conf_tok	 pushback;
	struct conf_arena *arena;
	char		*err;
	size_t		 errlen;
};

void	 conf_lex_init(struct conf_lex *, const char *name, const char *text,
	    size_t len, struct conf_arena *, char *err, size_t errlen);
/* Next token, or -1 with "name:line: message" in err. */
int	 conf_lex_next(struct conf_lex *, struct conf_tok *);
/* Give one token back; the next conf_lex_next returns it again. */
void	 conf_lex_unget(struct conf_lex *, const struct conf_tok *);
/* Human form for messages: "foo" (shortened when long), '{', end of line. */
void	 conf_tok_describe(const struct conf_tok *, char *out, size_t outlen);
/* Quote s for a message, escaping control characters and shortening it
 * with "..." to fit outlen (so the caller picks how much to show). */
void	 conf_quote_for_msg(const char *s, char *out, size_t outlen);

#endif
