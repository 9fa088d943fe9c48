/* conf — statements, blocks, includes and macros into a tree.
 *
 * The parser is recursive descent over the tokens of conf_lex.c: a list
 * of statements, each a run of words ended by a newline, ';', '}' or a
 * '{' that opens a nested list. `include` and `name = value` are handled
 * here and never reach the tree. All state lives in struct parser on the
 * caller's stack and all memory in the document's arena. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_lex.h"

struct conf_doc {
	struct conf_arena	 arena;
	struct conf_stmt	*root;
};

struct macro {
	struct macro	*next;
	const char	*name;
	const char	*value;
	bool		 quoted;
};

/* One file (or string) being read, linked to the one that included it. */
struct src {
	const struct src *parent;
	const char	*name;		/* as shown in messages */
	const char	*dir;		/* base of relative includes; NULL: cwd */
	int		 level;		/* 0 for the top file */
	bool		 has_id;
	dev_t		 dev;
	ino_t		 ino;
};

struct parser {
	struct conf_doc		*doc;
	struct conf_limits	 lim;
	struct macro		*macros;
	int			 nmacros;
	size_t			 nbytes;	/* input read so far */
	int			 nfiles;
	struct conf_tok		*toks;		/* one statement, max_args */
	char			*err;
	size_t			 errlen;
};

typedef struct conf_stmt **tail_t;	/* where the next statement goes */

static int	parse_list(struct parser *, struct conf_lex *,
		    const struct src *, tail_t *, int, const struct conf_stmt *);

void
conf_limits_default(struct conf_limits *lim)
{
	lim->max_bytes = CONF_MAX_BYTES;
	lim->max_mem = CONF_MAX_MEM;
	lim->max_args = CONF_MAX_ARGS;
	lim->max_depth = CONF_MAX_DEPTH;
	lim->max_include = CONF_MAX_INCLUDE;
	lim->max_files = CONF_MAX_FILES;
	lim->max_macros = CONF_MAX_MACROS;
}

static int
perr(struct parser *P, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "file:line: message" into the caller's buffer; line 0 leaves it out. */
static int
perr(struct parser *P, const char *file, int line, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (P->errlen == 0)
		return -1;
	if (line > 0)
		snprintf(P->err, P->errlen, "%s:%d: %s", file, line, msg);
	else
		snprintf(P->err, P->errlen, "%s: %s", file, msg);
	return -1;
}

static int
perr_nomem(struct parser *P, const char *file, int line)
{
	if (errno == E2BIG)
		return perr(P, file, line, "configuration too large: more than "
		    "%zu bytes of memory needed", P->lim.max_mem);
	return perr(P, file, line, "out of memory");
}

static bool
is_bare(const struct conf_tok *tok, const char *word)
{
	return tok->type == CONF_TOK_WORD && strcmp(tok->text, word) == 0;
}

static bool
is_macro_name(const char *s)
{
	size_t	 i;

	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static struct macro *
macro_find(const struct parser *P, const char *name)
{
	struct macro *m;

	for (m = P->macros; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

/* The value a token stands for: $name replaced by the macro's value. */
static int
expand(struct parser *P, const struct src *src, const struct conf_tok *tok,
    char **val, bool *quoted)
{
	const struct macro *m;
	char	 what[64];

	if (tok->type == CONF_TOK_STRING || tok->text[0] != '$') {
		*val = tok->text;
		*quoted = tok->type == CONF_TOK_STRING;
		return 0;
	}
	if (!is_macro_name(tok->text + 1)) {
		conf_tok_describe(tok, what, sizeof(what));
		return perr(P, src->name, tok->line, "expected a macro name "
		    "after '$', got %s (quote a literal '$')", what);
	}
	if ((m = macro_find(P, tok->text + 1)) == NULL) {
		conf_quote_for_msg(tok->text, what, sizeof(what));
		return perr(P, src->name, tok->line, "undefined macro %s", what);
	}
	/* Values are immutable, so statements share the macro's copy. */
	*val = (char *)m->value;
	*quoted = m->quoted;
	return 0;
}

/* name = value, at top level only. */
static int
define_macro(struct parser *P, const struct src *src, int ntok,
    bool has_block, int depth)
{
	const struct conf_tok *toks = P->toks;
	struct macro *m;
	char	 what[64], *value;
	bool	 quoted;

	if (depth > 0)
		return perr(P, src->name, toks[0].line,
		    "macros can only be defined at top level, not in a block");
	if (toks[0].type != CONF_TOK_WORD || !is_macro_name(toks[0].text)) {
		conf_tok_describe(&toks[0], what, sizeof(what));
		return perr(P, src->name, toks[0].line, "expected a macro name "
		    "(letters, digits, '_') before '=', got %s", what);
	}
	if (ntok == 2 || has_block)
		return perr(P, src->name, toks[0].line,
		    "macro %s: expected a value after '='", toks[0].text);
	if (ntok > 3)
		return perr(P, src->name, toks[0].line, "macro %s: expected "
		    "one value after '=', got %d (quote a value with spaces)",
		    toks[0].text, ntok - 2);
	if (expand(P, src, &toks[2], &value, &quoted) == -1)
		return -1;
	if ((m = macro_find(P, toks[0].text)) == NULL) {
		if (P->nmacros >= P->lim.max_macros)
			return perr(P, src->name, toks[0].line,
			    "too many macros (limit %d)", P->lim.max_macros);
		if ((m = conf_arena_alloc(&P->doc->arena, sizeof(*m))) == NULL)
			return perr_nomem(P, src->name, toks[0].line);
		m->name = toks[0].text;
		m->next = P->macros;
		P->macros = m;
		P->nmacros++;
	}
	/* A later definition wins, as in pf.conf. */
	m->value = value;
	m->quoted = quoted;
	return 0;
}

/* Read fd whole, refusing to go past the bytes left in the budget. */
static int
read_all(struct parser *P, int fd, struct buf *b, const char *name, int line,
    const char *incname)
{
	size_t	 left = P->lim.max_bytes - P->nbytes;
	ssize_t	 n;

	/* One byte over the budget tells "too large" from "just fits". */
	buf_init(b, left < SIZE_MAX ? left + 1 : left);
	for (;;) {
		n = buf_read_fd(b, fd);
		if (n == 0)
			break;
		if (n > 0) {
			if (buf_used(b) > left)
				break;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS)
			break;
		if (incname != NULL)
			return perr(P, name, line, "include %s: %s", incname,
			    strerror(errno));
		return perr(P, name, line, "read: %s", strerror(errno));
	}
	if (buf_used(b) > left)
		return perr(P, name, line, "configuration too large: more "
		    "than %zu bytes in all", P->lim.max_bytes);
	P->nbytes += buf_used(b);
	return 0;
}

static char *
dir_of(struct parser *P, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return NULL;
	/* "" for the root, so joining with "/" gives "/name". */
	return conf_arena_strndup(&P->doc->arena, path, slash - path);
}

static int
parse_text(struct parser *P, const struct src *src, const char *text,
    size_t len, tail_t *tailp, int depth)
{
	struct conf_lex lx;

	conf_lex_init(&lx, src->name, text, len, &P->doc->arena, P->err,
	    P->errlen);
	return parse_list(P, &lx, src, tailp, depth, NULL);
}

/* Open and parse one file. from is NULL for the top-level file, else
 * the source whose `include` at line names it. */
static int
parse_file(struct parser *P, const struct src *from, int line,
    const char *path, tail_t *tailp, int depth)
{
	const struct src *s;
	struct src src;
	struct stat sb;
	struct buf text;
	const char *who = from != NULL ? from->name : path, *msg;
	char	 qpath[256];
	int	 fd, rv = -1;

	conf_quote_for_msg(path, qpath, sizeof(qpath));
	if (P->nfiles >= P->lim.max_files)
		return perr(P, who, line, "include %s: too many files "
		    "(limit %d)", qpath, P->lim.max_files);
	/* O_NONBLOCK so a FIFO cannot hang the open. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (from != NULL)
			return perr(P, who, line, "include %s: %s", qpath,
			    strerror(errno));
		return perr(P, path, 0, "%s", strerror(errno));
	}
	msg = NULL;
	if (fstat(fd, &sb) == -1)
		msg = strerror(errno);
	else if (S_ISDIR(sb.st_mode))
		msg = "is a directory";
	else if (from != NULL && !S_ISREG(sb.st_mode))
		msg = "not a regular file";
	/* Only the top file may be a pipe (-f /dev/stdin): block on it. */
	else if (fcntl(fd, F_SETFL, 0) == -1)
		msg = strerror(errno);
	if (msg != NULL) {
		if (from != NULL)
			perr(P, who, line, "include %s: %s", qpath, msg);
		else
			perr(P, path, 0, "%s", msg);
		goto done;
	}
	for (s = from; s != NULL; s = s->parent)
		if (s->has_id && s->dev == sb.st_dev && s->ino == sb.st_ino) {
			perr(P, who, line, "include %s: include loop, the file "
			    "is already being read", qpath);
			goto done;
		}
	if (read_all(P, fd, &text, who, line, from != NULL ? qpath : NULL) ==
	    -1)
		goto out_text;
	P->nfiles++;
	memset(&src, 0, sizeof(src));
	src.parent = from;
	src.level = from != NULL ? from->level + 1 : 0;
	src.has_id = true;
	src.dev = sb.st_dev;
	src.ino = sb.st_ino;
	if ((src.name = conf_arena_strndup(&P->doc->arena, path,
	    strlen(path))) == NULL) {
		perr_nomem(P, who, line);
		goto out_text;
	}
	errno = 0;
	if ((src.dir = dir_of(P, path)) == NULL && errno != 0) {
		perr_nomem(P, who, line);
		goto out_text;
	}
	rv = parse_text(P, &src, buf_head(&text), buf_used(&text), tailp,
	    depth);
 out_text:
	buf_free(&text);
 done:
	close(fd);
	return rv;
}

static bool
has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* include "file", or a glob(3) pattern such as *.conf in conf.d:
 * relative to the including file's directory, matches read in byte
 * order. A pattern that matches nothing is fine (an empty conf.d); a
 * plain name that is missing is not. */
static int
do_include(struct parser *P, const struct src *src, int line, const char *arg,
    tail_t *tailp, int depth)
{
	struct buf path;
	glob_t	 g;
	const char *p;
	char	 qarg[256];
	size_t	 i;
	int	 rv = -1, grv;
	bool	 pattern = has_glob(arg);

	conf_quote_for_msg(arg, qarg, sizeof(qarg));
	if (arg[0] == '\0')
		return perr(P, src->name, line,
		    "include: expected a file name, got \"\"");
	/* Before any pattern is expanded: a loop stops here too. */
	if (src->level + 1 > P->lim.max_include)
		return perr(P, src->name, line, "include %s: includes nested "
		    "too deeply (limit %d)", qarg, P->lim.max_include);
	/* Room for an escaped directory (2x) plus the name. */
	buf_init(&path, 3 * PATH_MAX);
	if (arg[0] != '/' && src->dir != NULL) {
		for (p = src->dir; *p != '\0'; p++) {
			/* The directory is literal even in a pattern. */
			if (pattern && strchr("*?[\\", *p) != NULL &&
			    buf_append(&path, "\\", 1) == -1)
				break;
			if (buf_append(&path, p, 1) == -1)
				break;
		}
		if (*p != '\0' || buf_puts(&path, "/") == -1)
			goto toolong;
	}
	if (buf_puts(&path, arg) == -1 || buf_used(&path) >= PATH_MAX)
		goto toolong;
	if (!pattern) {
		rv = parse_file(P, src, line, buf_cstr(&path), tailp, depth);
		buf_free(&path);
		return rv;
	}

	grv = glob(buf_cstr(&path), GLOB_NOSORT | GLOB_ERR, NULL, &g);
	buf_free(&path);
	if (grv == GLOB_NOMATCH)
		return 0;
	if (grv == GLOB_NOSPACE) {
		globfree(&g);
		return perr(P, src->name, line, "include %s: out of memory",
		    qarg);
	}
	if (grv != 0) {
		globfree(&g);
		return perr(P, src->name, line, "include %s: cannot read a "
		    "directory in the pattern", qarg);
	}
	qsort(g.gl_pathv, g.gl_pathc, sizeof(g.gl_pathv[0]), cmp_path);
	rv = 0;
	for (i = 0; i < g.gl_pathc && rv == 0; i++)
		rv = parse_file(P, src, line, g.gl_pathv[i], tailp, depth);
	globfree(&g);
	return rv;
 toolong:
	buf_free(&path);
	return perr(P, src->name, line, "include %s: path too long "
	    "(limit %d bytes)", qarg, PATH_MAX - 1);
}

static int
build_stmt(struct parser *P, const struct src *src, int ntok,
    struct conf_stmt **out)
{
	struct conf_arena *a = &P->doc->arena;
	struct conf_stmt *st;
	int	 i;

	/* One allocation: the statement, then argv, then the quoted flags. */
	if ((st = conf_arena_alloc(a, sizeof(*st) + (ntok + 1) *
	    sizeof(st->argv[0]) + ntok * sizeof(st->quoted[0]))) == NULL)
		return perr_nomem(P, src->name, P->toks[0].line);
	st->argv = (char **)(st + 1);
	st->quoted = (bool *)(st->argv + ntok + 1);
	st->file = src->name;
	st->line = P->toks[0].line;
	st->argc = ntok;
	for (i = 0; i < ntok; i++)
		if (expand(P, src, &P->toks[i], &st->argv[i],
		    &st->quoted[i]) == -1)
			return -1;
	st->argv[ntok] = NULL;
	st->has_block = false;
	st->block = NULL;
	st->next = NULL;
	*out = st;
	return 0;
}

/* After a block's '}': the statement must end there. */
static int
after_block(struct parser *P, struct conf_lex *lx, const struct src *src)
{
	struct conf_tok tok;
	char	 what[64];

	if (conf_lex_next(lx, &tok) == -1)
		return -1;
	switch (tok.type) {
	case CONF_TOK_EOL:
		return 0;
	case CONF_TOK_EOF:
	case CONF_TOK_RBRACE:
		conf_lex_unget(lx, &tok);
		return 0;
	default:
		conf_tok_describe(&tok, what, sizeof(what));
		return perr(P, src->name, tok.line,
		    "expected end of line after '}', got %s", what);
	}
}

static int
parse_stmt(struct parser *P, struct conf_lex *lx, const struct src *src,
    const struct conf_tok *first, tail_t *tailp, int depth)
{
	struct conf_tok tok = *first;
	struct conf_stmt *st = NULL;
	tail_t	 child;
	char	*arg, what[64];
	int	 ntok = 0;
	bool	 has_block = false, quoted;

	for (;;) {
		if (tok.type == CONF_TOK_WORD || tok.type == CONF_TOK_STRING) {
			if (ntok == P->lim.max_args)
				return perr(P, src->name, tok.line, "too many "
				    "words in one statement (limit %d)",
				    P->lim.max_args);
			P->toks[ntok++] = tok;
		} else if (tok.type == CONF_TOK_LBRACE) {
			has_block = true;
			break;
		} else {
			/* '}' and end of file also end the statement. */
			if (tok.type != CONF_TOK_EOL)
				conf_lex_unget(lx, &tok);
			break;
		}
		if (conf_lex_next(lx, &tok) == -1)
			return -1;
	}

	if (ntok >= 2 && is_bare(&P->toks[1], "="))
		return define_macro(P, src, ntok, has_block, depth);
	if (is_bare(&P->toks[0], "include")) {
		if (ntok == 1) {
			return perr(P, src->name, P->toks[0].line, "include: "
			    "expected a file name, got %s", has_block ? "'{'" :
			    "end of line");
		}
		if (ntok > 2 || has_block) {
			if (ntok > 2)
				conf_tok_describe(&P->toks[2], what,
				    sizeof(what));
			else
				snprintf(what, sizeof(what), "'{'");
			return perr(P, src->name, P->toks[0].line, "include: "
			    "expected end of line after the file name, got %s",
			    what);
		}
		if (expand(P, src, &P->toks[1], &arg, &quoted) == -1)
			return -1;
		return do_include(P, src, P->toks[0].line, arg, tailp, depth);
	}

	if (build_stmt(P, src, ntok, &st) == -1)
		return -1;
	**tailp = st;
	*tailp = &st->next;
	if (!has_block)
		return 0;
	st->has_block = true;
	if (depth + 1 > P->lim.max_depth)
		return perr(P, src->name, st->line,
		    "blocks nested too deeply (limit %d)", P->lim.max_depth);
	child = &st->block;
	if (parse_list(P, lx, src, &child, depth + 1, st) == -1)
		return -1;
	return after_block(P, lx, src);
}

/* Statements up to end of file, or up to the '}' closing owner's block. */
static int
parse_list(struct parser *P, struct conf_lex *lx, const struct src *src,
    tail_t *tailp, int depth, const struct conf_stmt *owner)
{
	struct conf_tok tok;
	char	 what[64];

	for (;;) {
		if (conf_lex_next(lx, &tok) == -1)
			return -1;
		switch (tok.type) {
		case CONF_TOK_EOL:
			break;
		case CONF_TOK_EOF:
			if (owner == NULL)
				return 0;
			conf_quote_for_msg(owner->argv[0], what, sizeof(what));
			return perr(P, src->name, tok.line, "expected '}' "
			    "before end of file (block %s opened at line %d)",
			    what, owner->line);
		case CONF_TOK_RBRACE:
			if (owner != NULL)
				return 0;
			return perr(P, src->name, tok.line,
			    "unexpected '}' (no block is open)");
		case CONF_TOK_LBRACE:
			return perr(P, src->name, tok.line,
			    "expected a directive name before '{'");
		default:
			if (parse_stmt(P, lx, src, &tok, tailp, depth) == -1)
				return -1;
			break;
		}
	}
}

/* Shared set-up and tear-down of both entry points. */
static int
parse_begin(struct parser *P, const struct conf_limits *lim, char *err,
    size_t errlen)
{
	memset(P, 0, sizeof(*P));
	if (lim != NULL)
		P->lim = *lim;
	else
		conf_limits_default(&P->lim);
	P->err = err;
	P->errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if (P->lim.max_args < 1)
		P->lim.max_args = 1;
	if (P->lim.max_files < 1)
		P->lim.max_files = 1;
	if ((P->doc = calloc(1, sizeof(*P->doc))) == NULL ||
	    (P->toks = calloc(P->lim.max_args, sizeof(P->toks[0]))) == NULL) {
		free(P->doc);
		if (errlen > 0)
			snprintf(err, errlen, "conf: out of memory");
		return -1;
	}
	conf_arena_init(&P->doc->arena, P->lim.max_mem);
	return 0;
}

static int
parse_end(struct parser *P, int rv, struct conf_doc **out)
{
	free(P->toks);
	if (rv == -1) {
		conf_doc_free(P->doc);
		*out = NULL;
		return -1;
	}
	*out = P->doc;
	return 0;
}

int
conf_parse_file_limits(const char *path, const struct conf_limits *lim,
    struct conf_doc **out, char *err, size_t errlen)
{
	struct parser P;
	tail_t	 tail;

	*out = NULL;
	if (parse_begin(&P, lim, err, errlen) == -1)
		return -1;
	tail = &P.doc->root;
	return parse_end(&P, parse_file(&P, NULL, 0, path, &tail, 0), out);
}

int
conf_parse_file(const char *path, struct conf_doc **out, char *err,
    size_t errlen)
{
	return conf_parse_file_limits(path, NULL, out, err, errlen);
}

int
conf_parse_string_limits(const char *name, const char *text, size_t len,
    const struct conf_limits *lim, struct conf_doc **out, char *err,
    size_t errlen)
{
	struct parser P;
	struct src src;
	tail_t	 tail;
	int	 rv;

	*out = NULL;
	if (parse_begin(&P, lim, err, errlen) == -1)
		return -1;
	memset(&src, 0, sizeof(src));
	tail = &P.doc->root;
	if ((src.name = conf_arena_strndup(&P.doc->arena, name,
	    strlen(name))) == NULL)
		rv = perr_nomem(&P, name, 0);
	else if (len > P.lim.max_bytes)
		rv = perr(&P, name, 0, "configuration too large: more than "
		    "%zu bytes in all", P.lim.max_bytes);
	else {
		P.nbytes = len;
		P.nfiles = 1;
		rv = parse_text(&P, &src, text, len, &tail, 0);
	}
	return parse_end(&P, rv, out);
}

int
conf_parse_string(const char *name, const char *text, size_t len,
    struct conf_doc **out, char *err, size_t errlen)
{
	return conf_parse_string_limits(name, text, len, NULL, out, err,
	    errlen);
}

const struct conf_stmt *
conf_doc_root(const struct conf_doc *doc)
{
	return doc != NULL ? doc->root : NULL;
}

void
conf_doc_free(struct conf_doc *doc)
{
	if (doc == NULL)
		return;
	conf_arena_free(&doc->arena);
	free(doc);
}
