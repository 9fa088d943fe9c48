/* conf — the configuration grammar every stackd daemon shares.
 *
 * Parsing happens in two steps. conf_parse_file/conf_parse_string turn
 * the text into a tree of statements (tokens, comments, quoted strings,
 * blocks, includes and macros are dealt with here, so the tree holds only
 * directives with their arguments). Each daemon then walks the tree with
 * conf_apply and its own directive tables: a block directive's handler
 * calls conf_apply again on st->block with the table of that block, which
 * is the recursive descent. Nothing is global: parses and walks may run
 * side by side, and unit tests feed strings.
 *
 * The grammar itself is described in stackd.conf(5). */
#ifndef STACKD_CONF_H
#define STACKD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* One directive: argv[0] is its name, argv[1..argc-1] its arguments, with
 * quotes removed, escapes decoded and macros expanded. The tree is owned
 * by its conf_doc and must not be modified. */
struct conf_stmt {
	const char		*file;		/* file it came from */
	int			 line;		/* line of its first token */
	int			 argc;
	char			**argv;		/* argv[argc] is NULL */
	bool			*quoted;	/* quoted[i]: argv[i] was "quoted" */
	bool			 has_block;	/* ended with '{' */
	struct conf_stmt	*block;		/* first statement in the block */
	struct conf_stmt	*next;
};

static inline bool
conf_quoted(const struct conf_stmt *st, int i)
{
	return i >= 0 && i < st->argc && st->quoted[i];
}

struct conf_doc;

/* Bounds on one parse; conf_limits_default() fills the values below. */
struct conf_limits {
	size_t	 max_bytes;	/* input read, all files together */
	size_t	 max_mem;	/* memory held by the tree */
	int	 max_args;	/* tokens in one statement, name included */
	int	 max_depth;	/* nesting of { } blocks, across includes */
	int	 max_include;	/* nesting of include */
	int	 max_files;	/* files read, all includes together */
	int	 max_macros;	/* distinct macro names */
};

#define CONF_MAX_BYTES		(16 * 1024 * 1024)
#define CONF_MAX_MEM		(128 * 1024 * 1024)
#define CONF_MAX_ARGS		256
#define CONF_MAX_DEPTH		32
#define CONF_MAX_INCLUDE	16
#define CONF_MAX_FILES		1024
#define CONF_MAX_MACROS		1024

void	 conf_limits_default(struct conf_limits *);

/* Parse a file, or a string named name in messages (its includes are
 * relative to the current directory). On success *out holds the tree;
 * on failure err holds one "file:line: message" and *out is NULL.
 * lim may be NULL for the defaults. */
int	 conf_parse_file(const char *path, struct conf_doc **out,
	    char *err, size_t errlen);
int	 conf_parse_string(const char *name, const char *text, size_t len,
	    struct conf_doc **out, char *err, size_t errlen);
int	 conf_parse_file_limits(const char *path, const struct conf_limits *lim,
	    struct conf_doc **out, char *err, size_t errlen);
int	 conf_parse_string_limits(const char *name, const char *text, size_t len,
	    const struct conf_limits *lim, struct conf_doc **out,
	    char *err, size_t errlen);
/* First top-level statement, or NULL for an empty configuration. */
const struct conf_stmt *conf_doc_root(const struct conf_doc *);
void	 conf_doc_free(struct conf_doc *);

/* Pure value parsers for any module: 0, or -1 on garbage or overflow.
 * Durations: digits with ms, s, m, h or d; a bare number is seconds.
 * Sizes: digits with k, m or g (either case, powers of 1024); bare bytes. */
int	 conf_parse_duration(const char *s, uint64_t *ms);
int	 conf_parse_size(const char *s, uint64_t *bytes);
int	 conf_parse_int(const char *s, int64_t *out);
int	 conf_parse_uint(const char *s, uint64_t *out);
int	 conf_parse_flag(const char *s, bool *out);

/* Errors collected while walking the tree, so `-n` can print them all. */
struct conf_ctx {
	struct buf	 errors;	/* "file:line: message\n" lines */
	int		 nerrors;	/* all errors, stored or not */
	int		 nstored;	/* lines in errors */
	int		 max_errors;	/* lines stored; later ones are counted */
	bool		 summarized;	/* "N more errors" line added */
	void		*user;		/* for handlers */
};

#define CONF_MAX_ERRORS		100

/* max_errors 0 means CONF_MAX_ERRORS. */
void	 conf_ctx_init(struct conf_ctx *, int max_errors, void *user);
void	 conf_ctx_free(struct conf_ctx *);
/* All error lines, newline-terminated ("" when none). */
const char *conf_errors(struct conf_ctx *);
/* Record "file:line: message" for st (no prefix if st is NULL).
 * Always returns -1 so handlers can `return conf_error(...)`. */
int	 conf_error(struct conf_ctx *, const struct conf_stmt *st,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

enum conf_block {
	CONF_BLOCK_NONE = 0,	/* a '{' block is an error */
	CONF_BLOCK_REQUIRED,
	CONF_BLOCK_OPTIONAL,
};

#define CONF_ONCE	0x01	/* given twice is an error */

struct conf_directive;
typedef int (*conf_set_fn)(struct conf_ctx *, const struct conf_stmt *,
    const struct conf_directive *, void *obj);

/* One row of a directive table; a table ends with a row whose name is
 * NULL. min_args/max_args do not count the name; max_args -1 means no
 * limit. set NULL accepts the directive and ignores it. offset, min and
 * max are for the generic setters below (min == max == 0: no range). */
struct conf_directive {
	const char	*name;
	int		 min_args;
	int		 max_args;
	enum conf_block	 block;
	unsigned	 flags;
	conf_set_fn	 set;
	size_t		 offset;
	long long	 min;
	long long	 max;
};

/* Walk list (a statement and its next siblings) against table, calling
 * each row's set with obj. Reports unknown directives (suggesting a close
 * name), wrong argument counts, missing or unexpected blocks and repeats
 * of CONF_ONCE directives, and carries on to report every error. 0 when
 * this walk added no error to ctx, else -1. */
int	 conf_apply(struct conf_ctx *, const struct conf_stmt *list,
	    const struct conf_directive *table, void *obj);

/* Generic setters: argument 1 is stored at (char *)obj + d->offset.
 *   conf_set_string	char *		strdup'd, replaces (frees) an old value
 *   conf_set_int	int64_t		range d->min .. d->max
 *   conf_set_uint	uint64_t	range d->min .. d->max
 *   conf_set_unsigned	unsigned	range d->min .. d->max (at most UINT_MAX)
 *   conf_set_flag	bool		on/off yes/no true/false; no argument = on
 *   conf_set_duration	uint64_t	milliseconds, range in ms
 *   conf_set_size	uint64_t	bytes, range in bytes */
int	 conf_set_string(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);
int	 conf_set_int(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);
int	 conf_set_uint(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);
int	 conf_set_unsigned(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);
int	 conf_set_flag(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);
int	 conf_set_duration(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);
int	 conf_set_size(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);

/* Argument helpers for custom handlers: idx is the argv index (1 is the
 * first argument). On bad input they record an error naming the directive,
 * what was expected and what was given, and return -1. */
int	 conf_arg_int(struct conf_ctx *, const struct conf_stmt *, int idx,
	    int64_t min, int64_t max, int64_t *out);
int	 conf_arg_uint(struct conf_ctx *, const struct conf_stmt *, int idx,
	    uint64_t min, uint64_t max, uint64_t *out);
int	 conf_arg_duration(struct conf_ctx *, const struct conf_stmt *, int idx,
	    uint64_t *ms);
int	 conf_arg_size(struct conf_ctx *, const struct conf_stmt *, int idx,
	    uint64_t *bytes);
int	 conf_arg_flag(struct conf_ctx *, const struct conf_stmt *, int idx,
	    bool *out);
/* names is NULL-terminated; *out is the index of the match. */
int	 conf_arg_enum(struct conf_ctx *, const struct conf_stmt *, int idx,
	    const char *const names[], int *out);

#endif
