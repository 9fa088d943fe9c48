/* conf_apply — directive tables over a parsed tree, value parsers, and
 * the error list a daemon prints for `-n`. */
#include <limits.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "conf_lex.h"

/* Bytes of error text kept, on top of the count of lines. */
#define ERRORS_BUF_MAX	(256 * 1024)
/* Suggest a known directive at most this many edits away. */
#define SUGGEST_DIST	2
#define SUGGEST_MAXLEN	64

static const char duration_what[] = "a duration like 500ms, 30s, 5m, 1h or 1d";
static const char size_what[] = "a size like 512, 16k, 4m or 1g";

struct unit {
	const char	*suffix;
	uint64_t	 mult;
};

static const struct unit duration_units[] = {
	{ "",	1000 },			/* bare number: seconds */
	{ "ms",	1 },
	{ "s",	1000 },
	{ "m",	60 * 1000 },
	{ "h",	60 * 60 * 1000 },
	{ "d",	24 * 60 * 60 * 1000 },
	{ NULL, 0 }
};

static const struct unit size_units[] = {
	{ "",	1 },
	{ "k",	1ULL << 10 },
	{ "K",	1ULL << 10 },
	{ "m",	1ULL << 20 },
	{ "M",	1ULL << 20 },
	{ "g",	1ULL << 30 },
	{ "G",	1ULL << 30 },
	{ NULL, 0 }
};

static const struct {
	const char	*word;
	bool		 value;
} flag_words[] = {
	{ "on", true }, { "off", false },
	{ "yes", true }, { "no", false },
	{ "true", true }, { "false", false },
};

/* Digits only, overflow-checked; *end gets the first non-digit. */
static int
parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	unsigned d;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = *s - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	*end = s;
	return 0;
}

static int
parse_with_unit(const char *s, const struct unit *units, uint64_t *out)
{
	const char *end;
	uint64_t v;
	size_t	 i;

	if (parse_digits(s, &v, &end) == -1)
		return -1;
	for (i = 0; units[i].suffix != NULL; i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

int
conf_parse_duration(const char *s, uint64_t *ms)
{
	return parse_with_unit(s, duration_units, ms);
}

int
conf_parse_size(const char *s, uint64_t *bytes)
{
	return parse_with_unit(s, size_units, bytes);
}

int
conf_parse_uint(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (parse_digits(s, &v, &end) == -1 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
conf_parse_int(const char *s, int64_t *out)
{
	uint64_t v;
	bool	 neg = s[0] == '-';

	if (conf_parse_uint(s + neg, &v) == -1)
		return -1;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		/* -(INT64_MIN) does not fit: go through v - 1. */
		*out = v == 0 ? 0 : -(int64_t)(v - 1) - 1;
	} else {
		if (v > INT64_MAX)
			return -1;
		*out = (int64_t)v;
	}
	return 0;
}

int
conf_parse_flag(const char *s, bool *out)
{
	size_t	 i;

	for (i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++)
		if (strcmp(s, flag_words[i].word) == 0) {
			*out = flag_words[i].value;
			return 0;
		}
	return -1;
}

/* "90s" shown as "1m30s" would be harder to read than "90s": pick the
 * largest unit that divides the value exactly. */
static void
fmt_with_unit(uint64_t v, const struct unit *units, char *out, size_t outlen)
{
	const struct unit *best = NULL;
	size_t	 i;

	for (i = 1; units[i].suffix != NULL; i++)
		if (v % units[i].mult == 0 &&
		    (best == NULL || units[i].mult > best->mult))
			best = &units[i];
	if (v == 0 || best == NULL)
		best = &units[0];
	snprintf(out, outlen, "%llu%s", (unsigned long long)(v / best->mult),
	    best->suffix);
}

void
conf_ctx_init(struct conf_ctx *ctx, int max_errors, void *user)
{
	memset(ctx, 0, sizeof(*ctx));
	buf_init(&ctx->errors, ERRORS_BUF_MAX);
	ctx->max_errors = max_errors > 0 ? max_errors : CONF_MAX_ERRORS;
	ctx->user = user;
}

void
conf_ctx_free(struct conf_ctx *ctx)
{
	buf_free(&ctx->errors);
	ctx->nerrors = ctx->nstored = 0;
}

const char *
conf_errors(struct conf_ctx *ctx)
{
	if (ctx->nerrors > ctx->nstored && !ctx->summarized) {
		/* Last line; later errors are only counted. */
		ctx->summarized = true;
		if (buf_reserve(&ctx->errors, 64) == 0)
			buf_printf(&ctx->errors, "%d more error%s not shown\n",
			    ctx->nerrors - ctx->nstored,
			    ctx->nerrors - ctx->nstored == 1 ? "" : "s");
	}
	return buf_cstr(&ctx->errors);
}

int
conf_error(struct conf_ctx *ctx, const struct conf_stmt *st,
    const char *fmt, ...)
{
	size_t	 saved = ctx->errors.len;
	va_list	 ap;
	int	 rv = 0;

	ctx->nerrors++;
	if (ctx->nstored >= ctx->max_errors || ctx->summarized)
		return -1;
	/* Room first: buf_printf on a never-used buf would do arithmetic on
	 * its NULL data pointer. */
	rv = buf_reserve(&ctx->errors, 128);
	if (rv == 0 && st != NULL)
		rv = buf_printf(&ctx->errors, "%s:%d: ", st->file, st->line);
	if (rv == 0) {
		va_start(ap, fmt);
		rv = buf_vprintf(&ctx->errors, fmt, ap);
		va_end(ap);
	}
	if (rv == 0)
		rv = buf_puts(&ctx->errors, "\n");
	if (rv == -1)
		ctx->errors.len = saved;	/* no half lines */
	else
		ctx->nstored++;
	return -1;
}

/* Levenshtein distance, or SIZE_MAX when clearly over limit. */
static size_t
edit_distance(const char *a, const char *b, size_t limit)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, diag, up, best;
	size_t	 row[SUGGEST_MAXLEN + 1];

	if (lb > SUGGEST_MAXLEN || (la > lb ? la - lb : lb - la) > limit)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void
unknown_directive(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *table)
{
	const char *best = NULL;
	size_t	 d, bestd = SUGGEST_DIST + 1;
	char	 name[64];

	for (; table->name != NULL; table++) {
		d = edit_distance(st->argv[0], table->name, SUGGEST_DIST);
		if (d < bestd) {
			bestd = d;
			best = table->name;
		}
	}
	conf_quote_for_msg(st->argv[0], name, sizeof(name));
	if (best != NULL)
		conf_error(ctx, st, "unknown directive %s (did you mean "
		    "'%s'?)", name, best);
	else
		conf_error(ctx, st, "unknown directive %s", name);
}

static int
check_args(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d)
{
	int	 n = st->argc - 1;

	if (n >= d->min_args && (d->max_args < 0 || n <= d->max_args))
		return 0;
	if (d->max_args == 0)
		return conf_error(ctx, st, "%s: expected no arguments, got %d",
		    d->name, n);
	if (d->min_args == d->max_args)
		return conf_error(ctx, st, "%s: expected %d argument%s, got %d",
		    d->name, d->min_args, d->min_args == 1 ? "" : "s", n);
	if (d->max_args < 0)
		return conf_error(ctx, st, "%s: expected at least %d "
		    "argument%s, got %d", d->name, d->min_args,
		    d->min_args == 1 ? "" : "s", n);
	return conf_error(ctx, st, "%s: expected %d to %d arguments, got %d",
	    d->name, d->min_args, d->max_args, n);
}

int
conf_apply(struct conf_ctx *ctx, const struct conf_stmt *list,
    const struct conf_directive *table, void *obj)
{
	const struct conf_directive *d;
	const struct conf_stmt *st, **seen;
	size_t	 n, i;
	int	 before = ctx->nerrors, at;

	for (n = 0; table[n].name != NULL; n++)
		;
	/* First statement seen per row, for CONF_ONCE. */
	if ((seen = calloc(n + 1, sizeof(*seen))) == NULL)
		return conf_error(ctx, list, "out of memory");
	for (st = list; st != NULL; st = st->next) {
		for (i = 0; i < n; i++)
			if (strcmp(st->argv[0], table[i].name) == 0)
				break;
		if (i == n) {
			unknown_directive(ctx, st, table);
			continue;
		}
		d = &table[i];
		if (check_args(ctx, st, d) == -1)
			continue;
		if (d->block == CONF_BLOCK_REQUIRED && !st->has_block) {
			conf_error(ctx, st, "%s: expected a '{' block",
			    d->name);
			continue;
		}
		if (d->block == CONF_BLOCK_NONE && st->has_block) {
			conf_error(ctx, st, "%s: does not take a '{' block",
			    d->name);
			continue;
		}
		if ((d->flags & CONF_ONCE) && seen[i] != NULL) {
			conf_error(ctx, st, "%s: given more than once (first "
			    "at %s:%d)", d->name, seen[i]->file, seen[i]->line);
			continue;
		}
		if (seen[i] == NULL)
			seen[i] = st;
		at = ctx->nerrors;
		/* A handler that fails without saying why still counts. */
		if (d->set != NULL && d->set(ctx, st, d, obj) == -1 &&
		    ctx->nerrors == at)
			conf_error(ctx, st, "%s: invalid", d->name);
	}
	free(seen);
	return ctx->nerrors > before ? -1 : 0;
}

static int
arg_present(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    const char *what)
{
	if (idx >= 1 && idx < st->argc)
		return 0;
	return conf_error(ctx, st, "%s: expected %s as argument %d",
	    st->argv[0], what, idx);
}

static int
arg_bad(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    const char *what)
{
	char	 got[64];

	conf_quote_for_msg(st->argv[idx], got, sizeof(got));
	return conf_error(ctx, st, "%s: expected %s, got %s", st->argv[0],
	    what, got);
}

int
conf_arg_int(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    int64_t min, int64_t max, int64_t *out)
{
	int64_t	 v;

	if (arg_present(ctx, st, idx, "an integer") == -1)
		return -1;
	if (conf_parse_int(st->argv[idx], &v) == -1)
		return arg_bad(ctx, st, idx, "an integer");
	if (v < min || v > max)
		return conf_error(ctx, st, "%s: %lld is out of range, expected "
		    "%lld to %lld", st->argv[0], (long long)v, (long long)min,
		    (long long)max);
	*out = v;
	return 0;
}

int
conf_arg_uint(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (arg_present(ctx, st, idx, "a number") == -1)
		return -1;
	if (conf_parse_uint(st->argv[idx], &v) == -1)
		return arg_bad(ctx, st, idx, "a non-negative integer");
	if (v < min || v > max)
		return conf_error(ctx, st, "%s: %llu is out of range, expected "
		    "%llu to %llu", st->argv[0], (unsigned long long)v,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

static int
arg_unit(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    const struct unit *units, const char *what, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v;
	char	 lo[32], hi[32];

	if (arg_present(ctx, st, idx, what) == -1)
		return -1;
	if (parse_with_unit(st->argv[idx], units, &v) == -1)
		return arg_bad(ctx, st, idx, what);
	if (v < min || v > max) {
		fmt_with_unit(min, units, lo, sizeof(lo));
		fmt_with_unit(max, units, hi, sizeof(hi));
		return conf_error(ctx, st, "%s: %s is out of range, expected "
		    "%s to %s", st->argv[0], st->argv[idx], lo, hi);
	}
	*out = v;
	return 0;
}

int
conf_arg_duration(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    uint64_t *ms)
{
	return arg_unit(ctx, st, idx, duration_units,
	    duration_what, 0, UINT64_MAX, ms);
}

int
conf_arg_size(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    uint64_t *bytes)
{
	return arg_unit(ctx, st, idx, size_units, size_what, 0, UINT64_MAX,
	    bytes);
}

int
conf_arg_flag(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    bool *out)
{
	if (arg_present(ctx, st, idx, "on or off") == -1)
		return -1;
	if (conf_parse_flag(st->argv[idx], out) == -1)
		return arg_bad(ctx, st, idx, "on or off (or yes/no, true/false)");
	return 0;
}

int
conf_arg_enum(struct conf_ctx *ctx, const struct conf_stmt *st, int idx,
    const char *const names[], int *out)
{
	struct buf list;
	int	 i;

	if (arg_present(ctx, st, idx, "a keyword") == -1)
		return -1;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(st->argv[idx], names[i]) == 0) {
			*out = i;
			return 0;
		}
	buf_init(&list, 4096);
	buf_puts(&list, "one of ");
	for (i = 0; names[i] != NULL; i++)
		if (buf_printf(&list, "%s%s", i > 0 ? ", " : "",
		    names[i]) == -1) {
			buf_reset(&list);
			buf_puts(&list, "a known keyword");
			break;
		}
	arg_bad(ctx, st, idx, buf_cstr(&list));
	buf_free(&list);
	return -1;
}

/* Where a generic setter writes. */
#define FIELD(obj, d, type)	((type *)((char *)(obj) + (d)->offset))

static bool
has_range(const struct conf_directive *d)
{
	return d->min != 0 || d->max != 0;
}

int
conf_set_string(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	char	**field = FIELD(obj, d, char *), *s;

	if (arg_present(ctx, st, 1, "a value") == -1)
		return -1;
	if ((s = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "%s: out of memory", d->name);
	free(*field);
	*field = s;
	return 0;
}

int
conf_set_int(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	int64_t	 v;

	if (conf_arg_int(ctx, st, 1, has_range(d) ? d->min : INT64_MIN,
	    has_range(d) ? d->max : INT64_MAX, &v) == -1)
		return -1;
	*FIELD(obj, d, int64_t) = v;
	return 0;
}

/* Table ranges are signed; a negative bound clamps to zero. */
static void
unsigned_range(const struct conf_directive *d, uint64_t *min, uint64_t *max)
{
	*min = 0;
	*max = UINT64_MAX;
	if (!has_range(d))
		return;
	*min = d->min > 0 ? (uint64_t)d->min : 0;
	*max = d->max > 0 ? (uint64_t)d->max : 0;
}

int
conf_set_uint(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	uint64_t v, min, max;

	unsigned_range(d, &min, &max);
	if (conf_arg_uint(ctx, st, 1, min, max, &v) == -1)
		return -1;
	*FIELD(obj, d, uint64_t) = v;
	return 0;
}

int
conf_set_unsigned(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	uint64_t v, min, max;

	unsigned_range(d, &min, &max);
	if (max > UINT_MAX)
		max = UINT_MAX;
	if (conf_arg_uint(ctx, st, 1, min, max, &v) == -1)
		return -1;
	*FIELD(obj, d, unsigned) = (unsigned)v;
	return 0;
}

int
conf_set_flag(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	bool	 v = true;

	/* A bare `tls` reads as `tls on` when the table allows 0 args. */
	if (st->argc > 1 && conf_arg_flag(ctx, st, 1, &v) == -1)
		return -1;
	*FIELD(obj, d, bool) = v;
	return 0;
}

int
conf_set_duration(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	uint64_t v, min, max;

	unsigned_range(d, &min, &max);
	if (arg_unit(ctx, st, 1, duration_units, duration_what, min, max,
	    &v) == -1)
		return -1;
	*FIELD(obj, d, uint64_t) = v;
	return 0;
}

int
conf_set_size(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	uint64_t v, min, max;

	unsigned_range(d, &min, &max);
	if (arg_unit(ctx, st, 1, size_units, size_what, min, max, &v) == -1)
		return -1;
	*FIELD(obj, d, uint64_t) = v;
	return 0;
}
