/* query_class — routing classes of SQL statements, driven by tables of
 * leading verbs, functions and system variables. */
#include <string.h>
#include <strings.h>

#include "query_class.h"

#define MAX_TOKENS	64	/* kept per statement for the verb handlers */
#define MAX_DEPTH	4	/* EXPLAIN ANALYZE / SET STATEMENT ... FOR */
/* Internal feature: what makes a read need the primary but means nothing
 * in other statements: locking reads, INTO, "@v := expr" (in a SELECT a
 * session change that cannot be replayed; in a SET a plain assignment). */
#define F_READ_ON_PRIMARY 0x10000u

struct stmt {
	struct ql_token	 tok[MAX_TOKENS];
	size_t		 ntok;
	bool		 truncated;	/* more tokens than kept */
	const char	*end;		/* where the statement's text ends */
	unsigned	 features;	/* QC_PRIMARY, QC_PIN, ... */
	const struct ql_token *main_verb; /* first DML verb at depth 0 */
	struct ql_token	 main_verb_tok;
	struct ql_token	 prev[2];	/* the two tokens before this one */
	int		 depth;		/* parentheses */
	bool		 body;		/* ';' does not end it (CREATE ...) */
	unsigned	 opts;
	int		 level;		/* recursion depth */
};

/* Functions whose result depends on the connection they run in. */
static const struct {
	const char	*name;
	unsigned	 flags;
} functions[] = {
	{ "GET_LOCK", QC_PRIMARY | QC_PIN },
	{ "RELEASE_LOCK", QC_PRIMARY | QC_PIN },
	{ "RELEASE_ALL_LOCKS", QC_PRIMARY | QC_PIN },
	{ "IS_FREE_LOCK", QC_PRIMARY },
	{ "IS_USED_LOCK", QC_PRIMARY },
	{ "LAST_INSERT_ID", QC_PRIMARY },
	{ "FOUND_ROWS", QC_PRIMARY | QC_PREV_BACKEND },
	{ "ROW_COUNT", QC_PRIMARY | QC_PREV_BACKEND },
	{ "NEXTVAL", QC_PRIMARY },
	{ "LASTVAL", QC_PRIMARY },
	{ "SETVAL", QC_PRIMARY },
};

/* System variables, after any "session."/"global."/"local." prefix. */
static const struct {
	const char	*name;
	unsigned	 flags;
} sysvars[] = {
	{ "IDENTITY", QC_PRIMARY },
	{ "LAST_INSERT_ID", QC_PRIMARY },
	{ "INSERT_ID", QC_PRIMARY },
	{ "WARNING_COUNT", QC_PREV_BACKEND },
	{ "ERROR_COUNT", QC_PREV_BACKEND },
};

/* Verbs that can be the statement under WITH. */
static const char *const dml_verbs[] = {
	"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "VALUES", "TABLE",
};

static void	 classify_text(const char *, size_t, unsigned, int,
		    struct qc_result *);

static bool
word_eq(const char *p, size_t len, const char *kw)
{
	return strlen(kw) == len && strncasecmp(p, kw, len) == 0;
}

static const struct ql_token *
tok_at(const struct stmt *s, size_t i)
{
	static const struct ql_token end = { QL_END, "", 0 };

	return i < s->ntok ? &s->tok[i] : &end;
}

static bool
is_at(const struct stmt *s, size_t i, const char *kw)
{
	return ql_is(tok_at(s, i), kw);
}

static unsigned
sysvar_flags(const struct ql_token *t)
{
	const char *name = t->p + 2, *dot;
	size_t	 len = t->len - 2, i;

	if ((dot = memchr(name, '.', len)) != NULL) {
		len -= (size_t)(dot + 1 - name);
		name = dot + 1;
	}
	for (i = 0; i < sizeof(sysvars) / sizeof(sysvars[0]); i++)
		if (word_eq(name, len, sysvars[i].name))
			return sysvars[i].flags;
	return 0;
}

/* What a token says about the statement, whatever its verb. */
static void
scan_features(struct stmt *s, const struct ql_token *t)
{
	const struct ql_token *p0 = &s->prev[0], *p1 = &s->prev[1];
	size_t	 i;

	if (ql_punct(t, '(')) {
		for (i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
			if (ql_is(p0, functions[i].name))
				s->features |= functions[i].flags;
		s->depth++;
	} else if (ql_punct(t, ')') && s->depth > 0)
		s->depth--;
	else if (t->type == QL_SYSVAR)
		s->features |= sysvar_flags(t);
	else if (t->type == QL_PUNCT && t->len == 2)	/* := */
		s->features |= F_READ_ON_PRIMARY;
	else if (ql_is(t, "INTO"))
		s->features |= F_READ_ON_PRIMARY;
	else if ((ql_is(t, "UPDATE") || ql_is(t, "SHARE")) && ql_is(p0, "FOR"))
		s->features |= F_READ_ON_PRIMARY;	/* locking read */
	else if (ql_is(t, "IN") && ql_is(p0, "LOCK"))
		s->features |= F_READ_ON_PRIMARY;	/* LOCK IN SHARE MODE */
	else if (ql_is(t, "FOR") && ql_is(p0, "VALUE") &&
	    (ql_is(p1, "NEXT") || ql_is(p1, "PREVIOUS")))
		s->features |= QC_PRIMARY;		/* sequences */
	if (s->main_verb == NULL && s->depth == 0 && s->ntok > 0 &&
	    t->type == QL_WORD) {
		for (i = 0; i < sizeof(dml_verbs) / sizeof(dml_verbs[0]); i++)
			if (ql_is(t, dml_verbs[i])) {
				s->main_verb_tok = *t;
				s->main_verb = &s->main_verb_tok;
			}
	}
	s->prev[1] = s->prev[0];
	s->prev[0] = *t;
}

/* Read one statement; false when there is none left. Empty ones (";;")
 * are skipped. */
static bool
read_stmt(struct ql_lexer *l, struct stmt *s)
{
	struct ql_token t;

	s->ntok = 0;		/* tok[] past ntok is never read */
	s->truncated = false;
	s->features = 0;
	s->main_verb = NULL;
	memset(s->prev, 0, sizeof(s->prev));
	s->depth = 0;
	s->body = false;
	for (;;) {
		ql_next(l, &t);
		if (t.type == QL_END) {
			s->end = t.p;
			return s->ntok > 0;
		}
		if (ql_punct(&t, ';') && !s->body) {
			if (s->ntok == 0)
				continue;
			s->end = t.p;
			return true;
		}
		/* Routines and compound statements contain ';'. */
		if (s->ntok == 0 && ql_is(&t, "CREATE"))
			s->body = true;
		if (s->ntok == 1 && ql_is(&s->tok[0], "BEGIN") &&
		    ql_is(&t, "NOT"))
			s->body = true;
		scan_features(s, &t);
		if (s->ntok < MAX_TOKENS)
			s->tok[s->ntok++] = t;
		else
			s->truncated = true;
	}
}

/* Classify the statement text from token i to the statement's end. */
static void
classify_inner(const struct stmt *s, size_t i, struct qc_result *r)
{
	struct qc_result in;
	const struct ql_token *t = tok_at(s, i);

	if (t->type == QL_END || s->level + 1 >= MAX_DEPTH) {
		r->cls = QC_WRITE;
		return;
	}
	classify_text(t->p, (size_t)(s->end - t->p), s->opts, s->level + 1,
	    &in);
	r->cls = in.cls;
	r->flags |= in.flags & ~QC_MULTI;
}

/* Verb handlers: set r->cls and r->flags for one statement. */

static void
h_read(const struct stmt *s, struct qc_result *r)
{
	r->cls = QC_READ;
}

static void
h_show(const struct stmt *s, struct qc_result *r)
{
	r->cls = QC_READ;
	/* SHOW WARNINGS, SHOW ERRORS, SHOW COUNT(*) WARNINGS */
	if (is_at(s, 1, "WARNINGS") || is_at(s, 1, "ERRORS") ||
	    (is_at(s, 1, "COUNT") &&
	    (is_at(s, 5, "WARNINGS") || is_at(s, 5, "ERRORS"))))
		r->flags |= QC_PREV_BACKEND;
}

static void
h_with(const struct stmt *s, struct qc_result *r)
{
	r->cls = s->main_verb != NULL && (ql_is(s->main_verb, "SELECT") ||
	    ql_is(s->main_verb, "VALUES") || ql_is(s->main_verb, "TABLE")) ?
	    QC_READ : QC_WRITE;
}

/* MySQL's EXPLAIN ANALYZE runs the statement; plain EXPLAIN does not. */
static void
h_explain(const struct stmt *s, struct qc_result *r)
{
	if (is_at(s, 1, "ANALYZE"))
		classify_inner(s, 2, r);
	else
		r->cls = QC_READ;
}

/* MariaDB's ANALYZE <statement> runs it; ANALYZE TABLE writes stats. */
static void
h_analyze(const struct stmt *s, struct qc_result *r)
{
	if (is_at(s, 1, "TABLE") || is_at(s, 1, "NO_WRITE_TO_BINLOG") ||
	    is_at(s, 1, "LOCAL"))
		r->cls = QC_WRITE;
	else
		classify_inner(s, 1, r);
}

static void
h_begin(const struct stmt *s, struct qc_result *r)
{
	if (is_at(s, 1, "NOT")) {		/* BEGIN NOT ATOMIC ... END */
		r->cls = QC_WRITE;
		return;
	}
	r->cls = QC_TRX;
	r->flags |= QC_TRX_BEGIN;
}

static void
h_start(const struct stmt *s, struct qc_result *r)
{
	size_t	 i;

	if (!is_at(s, 1, "TRANSACTION")) {	/* START SLAVE, ... */
		r->cls = QC_WRITE;
		return;
	}
	r->cls = QC_TRX;
	r->flags |= QC_TRX_BEGIN;
	for (i = 2; i + 1 < s->ntok; i++)
		if (is_at(s, i, "READ") && is_at(s, i + 1, "ONLY"))
			r->flags |= QC_TRX_READ_ONLY;
}

/* COMMIT/ROLLBACK [WORK] [AND [NO] CHAIN] [[NO] RELEASE], ROLLBACK TO. */
static void
h_end(const struct stmt *s, struct qc_result *r)
{
	size_t	 i;

	r->cls = QC_TRX;
	for (i = 1; i < s->ntok; i++)
		if (is_at(s, i, "TO"))
			return;		/* to a savepoint: still inside */
	r->flags |= QC_TRX_END;
	for (i = 1; i + 1 < s->ntok; i++)
		if (is_at(s, i, "AND") && is_at(s, i + 1, "CHAIN"))
			r->flags |= QC_TRX_BEGIN;
}

static void
h_trx_only(const struct stmt *s, struct qc_result *r)
{
	r->cls = QC_TRX;		/* SAVEPOINT, RELEASE SAVEPOINT */
}

static void
h_xa(const struct stmt *s, struct qc_result *r)
{
	r->cls = QC_TRX;
	r->flags |= QC_XA;
	if (is_at(s, 1, "START") || is_at(s, 1, "BEGIN"))
		r->flags |= QC_TRX_BEGIN;
	else if (is_at(s, 1, "COMMIT") || is_at(s, 1, "ROLLBACK"))
		r->flags |= QC_TRX_END;
}

static void
h_use(const struct stmt *s, struct qc_result *r)
{
	r->cls = QC_SESSION;
	r->flags |= QC_REPLAY | QC_USE;
}

static void
h_pin(const struct stmt *s, struct qc_result *r)
{
	r->cls = QC_SESSION;		/* PREPARE, EXECUTE, LOCK, ... */
	r->flags |= QC_PIN;
}

/* CREATE [OR REPLACE] TEMPORARY TABLE, DROP TEMPORARY TABLE,
 * DROP PREPARE. */
static void
h_create_drop(const struct stmt *s, struct qc_result *r)
{
	size_t	 i;

	r->cls = QC_WRITE;
	for (i = 1; i <= 3; i++)
		if (is_at(s, i, "TEMPORARY"))
			r->cls = QC_SESSION;
	if (is_at(s, 0, "DROP") && is_at(s, 1, "PREPARE"))
		r->cls = QC_SESSION;
	if (r->cls == QC_SESSION)
		r->flags |= QC_PIN;
}

/* The value of autocommit = <value>, alone up to ',' or the end. */
static unsigned
autocommit_flag(const struct stmt *s, size_t i)
{
	static const char *const on[] = { "1", "ON", "TRUE" };
	static const char *const off[] = { "0", "OFF", "FALSE" };
	const struct ql_token *v = tok_at(s, i), *next = tok_at(s, i + 1);
	size_t	 k;

	if (next->type == QL_END || ql_punct(next, ',')) {
		for (k = 0; k < 3; k++) {
			if (word_eq(v->p, v->len, on[k]) &&
			    v->type != QL_STRING)
				return QC_AUTOCOMMIT_ON;
			if (word_eq(v->p, v->len, off[k]) &&
			    v->type != QL_STRING)
				return QC_AUTOCOMMIT_OFF;
		}
	}
	return QC_AUTOCOMMIT_OFF;	/* unknown: assume a transaction */
}

/* One "target = value" of a SET; i at the target. Returns the index of
 * the next item's first token, or ntok. */
static size_t
set_item(const struct stmt *s, size_t i, bool *global, unsigned *flags)
{
	const struct ql_token *t = tok_at(s, i);
	const char *name;
	size_t	 len;
	int	 depth = 0;

	if (ql_is(t, "GLOBAL") || ql_is(t, "PERSIST") ||
	    ql_is(t, "PERSIST_ONLY")) {
		*global = true;
		t = tok_at(s, ++i);
	} else if (ql_is(t, "SESSION") || ql_is(t, "LOCAL"))
		t = tok_at(s, ++i);
	name = t->p;
	len = t->len;
	if (t->type == QL_SYSVAR) {
		if (len >= 9 && strncasecmp(name, "@@global.", 9) == 0)
			*global = true;
		if (memchr(name, '.', len) != NULL) {
			const char *dot = memchr(name, '.', len);

			len -= (size_t)(dot + 1 - name);
			name = dot + 1;
		} else {
			name += 2;
			len -= 2;
		}
	}
	/* "=" or ":=" */
	if ((t->type == QL_WORD || t->type == QL_SYSVAR) &&
	    word_eq(name, len, "AUTOCOMMIT") &&
	    tok_at(s, i + 1)->type == QL_PUNCT)
		*flags |= autocommit_flag(s, i + 2);
	/* Skip the value to the ',' that ends the item. */
	for (i++; i < s->ntok; i++) {
		t = tok_at(s, i);
		if (ql_punct(t, '('))
			depth++;
		else if (ql_punct(t, ')'))
			depth--;
		else if (depth == 0 && ql_punct(t, ','))
			return i + 1;
	}
	return s->ntok;
}

static void
h_set(const struct stmt *s, struct qc_result *r)
{
	bool	 global = false;
	size_t	 i;
	int	 depth = 0;

	/* MariaDB: SET STATEMENT var=value [, ...] FOR <statement>. */
	if (is_at(s, 1, "STATEMENT")) {
		for (i = 2; i < s->ntok; i++) {
			if (ql_punct(tok_at(s, i), '('))
				depth++;
			else if (ql_punct(tok_at(s, i), ')'))
				depth--;
			else if (depth == 0 && is_at(s, i, "FOR")) {
				classify_inner(s, i + 1, r);
				return;
			}
		}
		r->cls = QC_WRITE;
		return;
	}
	if (is_at(s, 1, "PASSWORD") || (is_at(s, 1, "DEFAULT") &&
	    is_at(s, 2, "ROLE"))) {
		r->cls = QC_WRITE;
		return;
	}
	/* SET TRANSACTION applies to the next transaction only. */
	if (is_at(s, 1, "TRANSACTION")) {
		r->cls = QC_TRX;
		return;
	}
	if (is_at(s, 2, "TRANSACTION") && is_at(s, 1, "GLOBAL")) {
		r->cls = QC_WRITE;
		return;
	}
	r->cls = QC_SESSION;
	r->flags |= QC_REPLAY;
	if (is_at(s, 1, "NAMES") || is_at(s, 1, "CHARACTER") ||
	    is_at(s, 1, "CHARSET") || is_at(s, 1, "ROLE") ||
	    is_at(s, 2, "TRANSACTION"))
		return;
	for (i = 1; i < s->ntok;)
		i = set_item(s, i, &global, &r->flags);
	if (s->truncated)
		r->flags |= QC_PIN;	/* items we could not look at */
	if (global)
		r->cls = QC_WRITE;
}

static const struct {
	const char	*verb;
	void		(*fn)(const struct stmt *, struct qc_result *);
} verbs[] = {
	{ "SELECT", h_read }, { "VALUES", h_read }, { "TABLE", h_read },
	{ "DESCRIBE", h_read }, { "DESC", h_read }, { "SHOW", h_show },
	{ "WITH", h_with }, { "EXPLAIN", h_explain }, { "ANALYZE", h_analyze },
	{ "BEGIN", h_begin }, { "START", h_start }, { "COMMIT", h_end },
	{ "ROLLBACK", h_end }, { "SAVEPOINT", h_trx_only },
	{ "RELEASE", h_trx_only }, { "XA", h_xa },
	{ "SET", h_set }, { "USE", h_use },
	{ "PREPARE", h_pin }, { "EXECUTE", h_pin }, { "DEALLOCATE", h_pin },
	{ "LOCK", h_pin }, { "UNLOCK", h_pin }, { "HANDLER", h_pin },
	{ "CREATE", h_create_drop }, { "DROP", h_create_drop },
};

static void
classify_stmt(const struct stmt *s, struct qc_result *r)
{
	const struct ql_token *verb = tok_at(s, 0);
	size_t	 i, skip = 0;

	r->cls = QC_WRITE;
	r->flags = 0;
	/* "(SELECT ...) UNION (SELECT ...)" */
	while (ql_punct(verb, '('))
		verb = tok_at(s, ++skip);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (ql_is(verb, verbs[i].verb)) {
			verbs[i].fn(s, r);
			break;
		}
	/* A read that needs the primary is routed as a write; state made
	 * from primary-only values cannot be replayed elsewhere. */
	if (r->cls == QC_READ &&
	    (s->features & (QC_PRIMARY | F_READ_ON_PRIMARY))) {
		r->cls = QC_WRITE;
		r->flags |= QC_PRIMARY;
	}
	if (r->cls == QC_SESSION && (s->features & (QC_PRIMARY | QC_PIN)))
		r->flags |= QC_PIN;
	r->flags |= s->features & ~F_READ_ON_PRIMARY;
}

static void
classify_text(const char *sql, size_t len, unsigned opts, int level,
    struct qc_result *r)
{
	struct ql_lexer l;
	struct qc_result one;
	struct stmt s;
	bool	 all_read = true;

	memset(r, 0, sizeof(*r));
	r->cls = QC_WRITE;
	s.opts = opts;
	s.level = level;
	ql_init(&l, sql, len, (opts & QC_OPT_NO_BACKSLASH_ESCAPES) != 0);
	while (read_stmt(&l, &s)) {
		classify_stmt(&s, &one);
		if (r->statements == 0) {
			r->cls = one.cls;
			r->verb = s.tok[0].p;
			r->verb_len = s.tok[0].len;
		}
		r->statements++;
		r->flags |= one.flags;
		if (one.cls != QC_READ)
			all_read = false;
	}
	if (r->statements > 1) {
		r->flags |= QC_MULTI;
		r->cls = all_read ? QC_READ : QC_WRITE;
	}
	if (l.unterminated) {
		r->flags |= QC_UNTERMINATED;
		r->cls = QC_WRITE;
	}
	r->hint = l.hint;
}

void
qc_classify(const char *sql, size_t len, unsigned opts, struct qc_result *r)
{
	classify_text(sql, len, opts, 0, r);
}

const char *
qc_class_name(enum qc_class c)
{
	static const char *const names[] = {
		[QC_READ] = "read", [QC_WRITE] = "write",
		[QC_TRX] = "transaction", [QC_SESSION] = "session",
	};

	return (size_t)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}
