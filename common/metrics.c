/* metrics — counters, gauges, histograms in the Prometheus text format. */
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"

#define NUMBUF		32	/* longest %.17g is 24 bytes */
#define TABLE_INITIAL	16	/* hash buckets of a new labelled family */

const double metrics_default_latency_bounds[METRICS_LATENCY_NBOUNDS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

static const char *const type_name[] = {
	[METRIC_COUNTER] = "counter",
	[METRIC_GAUGE] = "gauge",
	[METRIC_HISTOGRAM] = "histogram",
};

/* Sample suffixes of histograms and summaries: no family ends in one, so
 * no family's samples can be mistaken for another's. */
static const char *const reserved_suffix[] = { "_bucket", "_count", "_sum" };
/* Labels the format gives a meaning to (histogram and summary). */
static const char *const reserved_label[] = { "le", "quantile" };

struct metric_series {
	TAILQ_ENTRY(metric_series) entry;	/* render order */
	struct metric_series	*hnext;		/* hash chain */
	struct metric		*family;
	uint64_t		 hash;
	const char *const	*values;	/* nlabels, in this allocation */
	uint64_t		 count;		/* counter integer part; observations */
	double			 value;		/* counter fraction; gauge; sum */
	uint64_t		 buckets[];	/* per bound, not cumulative */
};
TAILQ_HEAD(series_list, metric_series);

struct metric {
	TAILQ_ENTRY(metric)	 entry;
	enum metric_type	 type;
	char			*name;		/* with the prefix */
	char			*help;
	char			**labels;
	size_t			 nlabels;
	double			*bounds;
	size_t			 nbounds;
	double			(*fn)(void *);	/* computed at render time */
	void			*fn_arg;
	struct series_list	 series;
	struct metric_series	**table;	/* power-of-two hash buckets */
	size_t			 tablesize;
	size_t			 nseries;
	size_t			 max_series;
	struct metric_series	*drop;		/* overflow, never rendered */
	uint64_t		 dropped;	/* calls answered with drop */
};

struct metrics {
	char			*prefix;
	char			 dropped_name[METRICS_NAME_MAX + 1];
	TAILQ_HEAD(, metric)	 families;
	double			 start_time;	/* process_start_time_seconds */
	struct {
		void		(*fn)(void *);
		void		*arg;
	}			 hooks[METRICS_HOOKS_MAX];
	size_t			 nhooks;
};

/* What a registration asks for; one validator and one constructor. */
struct family_spec {
	const char		*caller;
	enum metric_type	 type;
	bool			 prefixed;
	const char		*name;
	const char		*help;
	const char *const	*labels;
	const double		*bounds;
	size_t			 nbounds;
	double			(*fn)(void *);
	void			*fn_arg;
};

static bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	uint32_t	 cp, min;
	size_t		 i, more;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			more = 1, cp = *p & 0x1f, min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			more = 2, cp = *p & 0x0f, min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			more = 3, cp = *p & 0x07, min = 0x10000;
		} else
			return false;
		if ((size_t)(end - p) <= more)
			return false;
		for (i = 1; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates and beyond Unicode. */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += more + 1;
	}
	return true;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names (colon), label names without.
 * An empty string passes when empty_ok (a prefix may be ""). */
static bool
name_valid(const char *s, bool colon, bool empty_ok)
{
	const char *p;

	if (*s == '\0')
		return empty_ok;
	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '_' || (colon && *p == ':'))
			continue;
		if (*p >= '0' && *p <= '9' && p != s)
			continue;
		return false;
	}
	return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static uint64_t
values_hash(const char *const values[], size_t n)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	const char	*p;
	size_t		 i;

	for (i = 0; i < n; i++) {
		/* The NUL goes in too: ("a","bc") and ("ab","c") differ. */
		p = values[i];
		do {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
		} while (*p++ != '\0');
	}
	return h;
}

/* Number as Prometheus parses it: integral values without exponent or
 * decimals, others in the shortest form that reads back the same. */
static void
fmt_number(char dst[NUMBUF], double v)
{
	int	 prec;

	if (isnan(v))
		snprintf(dst, NUMBUF, "NaN");
	else if (isinf(v))
		snprintf(dst, NUMBUF, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == trunc(v) && fabs(v) < 0x1p63)
		snprintf(dst, NUMBUF, "%" PRId64, (int64_t)v);
	else {
		for (prec = 15; prec < 17; prec++) {
			snprintf(dst, NUMBUF, "%.*g", prec, v);
			if (strtod(dst, NULL) == v)
				return;
		}
		snprintf(dst, NUMBUF, "%.17g", v);
	}
}

static void
fmt_counter(char dst[NUMBUF], const struct metric_series *s)
{
	if (s->value == 0)
		snprintf(dst, NUMBUF, "%" PRIu64, s->count);
	else
		fmt_number(dst, (double)s->count + s->value);
}

/* ---- registration ---- */

static int
labels_check(const struct family_spec *sp, const char *full, size_t *nlabels,
    char *err, size_t errlen)
{
	const char	*l;
	size_t		 i, j, n;

	for (n = 0; sp->labels != NULL && sp->labels[n] != NULL; n++) {
		if (n == METRICS_LABELS_MAX) {
			snprintf(err, errlen, "%s: more than %d labels", full,
			    METRICS_LABELS_MAX);
			return -1;
		}
		l = sp->labels[n];
		if (!name_valid(l, false, false) || strncmp(l, "__", 2) == 0 ||
		    strlen(l) > METRICS_NAME_MAX) {
			snprintf(err, errlen, "%s: invalid label name \"%.*s\"",
			    full, METRICS_NAME_MAX, l);
			return -1;
		}
		for (j = 0; j < sizeof(reserved_label) / sizeof(*reserved_label); j++)
			if (strcmp(l, reserved_label[j]) == 0) {
				snprintf(err, errlen, "%s: label name \"%s\" "
				    "is reserved", full, l);
				return -1;
			}
		for (i = 0; i < n; i++)
			if (strcmp(l, sp->labels[i]) == 0) {
				snprintf(err, errlen, "%s: label \"%s\" given "
				    "twice", full, l);
				return -1;
			}
	}
	*nlabels = n;
	return 0;
}

static int
bounds_check(const struct family_spec *sp, const char *full, char *err,
    size_t errlen)
{
	size_t	 i;

	if (sp->bounds == NULL || sp->nbounds == 0 ||
	    sp->nbounds > METRICS_BUCKETS_MAX) {
		snprintf(err, errlen, "%s: histogram needs 1 to %d bounds, "
		    "got %zu", full, METRICS_BUCKETS_MAX,
		    sp->bounds == NULL ? 0 : sp->nbounds);
		return -1;
	}
	for (i = 0; i < sp->nbounds; i++) {
		if (!isfinite(sp->bounds[i])) {
			snprintf(err, errlen, "%s: bound %zu is not finite "
			    "(+Inf is implicit)", full, i);
			return -1;
		}
		if (i > 0 && sp->bounds[i] <= sp->bounds[i - 1]) {
			snprintf(err, errlen, "%s: bounds not strictly "
			    "increasing at %zu (%g after %g)", full, i,
			    sp->bounds[i], sp->bounds[i - 1]);
			return -1;
		}
	}
	return 0;
}

/* Everything wrong with a registration, before anything is allocated. */
static int
family_check(const struct metrics *m, const struct family_spec *sp,
    const char *full, size_t *nlabels, char *err, size_t errlen)
{
	const struct metric *f;
	size_t		 i;

	if (!name_valid(full, true, false)) {
		snprintf(err, errlen, "invalid metric name \"%s\"", full);
		return -1;
	}
	if (ends_with(full, "_total") != (sp->type == METRIC_COUNTER)) {
		snprintf(err, errlen, "%s: %s", full, sp->type == METRIC_COUNTER ?
		    "counter names end in _total" :
		    "only counter names end in _total");
		return -1;
	}
	for (i = 0; i < sizeof(reserved_suffix) / sizeof(*reserved_suffix); i++)
		if (ends_with(full, reserved_suffix[i])) {
			snprintf(err, errlen, "%s: suffix %s is reserved", full,
			    reserved_suffix[i]);
			return -1;
		}
	if (sp->help == NULL || *sp->help == '\0' ||
	    strnlen(sp->help, METRICS_HELP_MAX + 1) > METRICS_HELP_MAX ||
	    !utf8_valid(sp->help, strlen(sp->help))) {
		snprintf(err, errlen, "%s: help must be 1 to %d bytes of UTF-8",
		    full, METRICS_HELP_MAX);
		return -1;
	}
	if (labels_check(sp, full, nlabels, err, errlen) == -1 ||
	    (sp->type == METRIC_HISTOGRAM &&
	    bounds_check(sp, full, err, errlen) == -1))
		return -1;
	if (strcmp(full, m->dropped_name) == 0) {
		snprintf(err, errlen, "%s: name used by the registry", full);
		return -1;
	}
	TAILQ_FOREACH(f, &m->families, entry)
		if (strcmp(f->name, full) == 0) {
			snprintf(err, errlen, "%s: already registered", full);
			return -1;
		}
	return 0;
}

/* One allocation: the series, its buckets, its value pointers, then the
 * value strings. values NULL gives empty strings (the overflow series). */
static struct metric_series *
series_new(struct metric *f, const char *const values[], uint64_t hash)
{
	struct metric_series *s;
	const char	**vp;
	char		*p;
	size_t		 size, i, len;

	size = sizeof(*s) + f->nbounds * sizeof(uint64_t) +
	    f->nlabels * sizeof(char *);
	for (i = 0; values != NULL && i < f->nlabels; i++)
		size += strlen(values[i]) + 1;
	size += values == NULL ? f->nlabels : 0;
	if ((s = calloc(1, size)) == NULL)
		return NULL;
	vp = (const char **)(s->buckets + f->nbounds);
	p = (char *)(vp + f->nlabels);
	for (i = 0; i < f->nlabels; i++) {
		len = values != NULL ? strlen(values[i]) : 0;
		if (len > 0)
			memcpy(p, values[i], len);
		p[len] = '\0';
		vp[i] = p;
		p += len + 1;
	}
	s->values = vp;
	s->family = f;
	s->hash = hash;
	return s;
}

static void
family_free(struct metric *f)
{
	struct metric_series *s;
	size_t		 i;

	while ((s = TAILQ_FIRST(&f->series)) != NULL) {
		TAILQ_REMOVE(&f->series, s, entry);
		free(s);
	}
	for (i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->labels);
	free(f->bounds);
	free(f->table);
	free(f->drop);
	free(f->help);
	free(f->name);
	free(f);
}

static struct metric *
family_register(struct metrics *m, const struct family_spec *sp)
{
	struct metric	*f;
	char		 full[METRICS_NAME_MAX + 1], err[512];
	size_t		 nlabels = 0;
	int		 n;

	if (sp->name == NULL) {
		log_warnx("%s: no metric name", sp->caller);
		return NULL;
	}
	n = snprintf(full, sizeof(full), "%s%s", sp->prefixed ? m->prefix : "",
	    sp->name);
	if (n < 0 || (size_t)n >= sizeof(full)) {
		log_warnx("%s: metric name %s%.40s... longer than %d bytes",
		    sp->caller, sp->prefixed ? m->prefix : "", sp->name,
		    METRICS_NAME_MAX);
		return NULL;
	}
	if (family_check(m, sp, full, &nlabels, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", sp->caller, err);
		return NULL;
	}

	if ((f = calloc(1, sizeof(*f))) == NULL)
		goto nomem;
	TAILQ_INIT(&f->series);
	f->type = sp->type;
	f->fn = sp->fn;
	f->fn_arg = sp->fn_arg;
	f->max_series = METRICS_SERIES_DEFAULT;
	if ((f->name = strdup(full)) == NULL ||
	    (f->help = strdup(sp->help)) == NULL)
		goto fail;
	if (nlabels > 0) {
		if ((f->labels = calloc(nlabels, sizeof(char *))) == NULL)
			goto fail;
		for (; f->nlabels < nlabels; f->nlabels++)
			if ((f->labels[f->nlabels] =
			    strdup(sp->labels[f->nlabels])) == NULL)
				goto fail;
	}
	if (sp->type == METRIC_HISTOGRAM) {
		if ((f->bounds = calloc(sp->nbounds, sizeof(double))) == NULL)
			goto fail;
		memcpy(f->bounds, sp->bounds, sp->nbounds * sizeof(double));
		f->nbounds = sp->nbounds;
	}
	if (f->fn == NULL && nlabels == 0) {
		/* Unlabelled: the one series exists (and renders 0) now. */
		struct metric_series *s0;

		if ((s0 = series_new(f, NULL, 0)) == NULL)
			goto fail;
		TAILQ_INSERT_TAIL(&f->series, s0, entry);
		f->nseries = 1;
	} else if (f->fn == NULL) {
		f->table = calloc(TABLE_INITIAL, sizeof(*f->table));
		if (f->table == NULL || (f->drop = series_new(f, NULL, 0)) == NULL)
			goto fail;
		f->tablesize = TABLE_INITIAL;
	}
	TAILQ_INSERT_TAIL(&m->families, f, entry);
	return f;
 fail:
	family_free(f);
 nomem:
	log_warn("%s: %s", sp->caller, full);
	return NULL;
}

struct metrics *
metrics_new(const char *prefix)
{
	struct metrics	*m;
	int		 n;

	if (prefix == NULL || !name_valid(prefix, true, true) ||
	    strlen(prefix) > METRICS_NAME_MAX / 2) {
		log_warnx("metrics_new: invalid prefix \"%.*s\"",
		    METRICS_NAME_MAX, prefix != NULL ? prefix : "(null)");
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->prefix = strdup(prefix)) == NULL) {
		log_warn("metrics_new");
		free(m);
		return NULL;
	}
	/* Fits: the prefix is at most half of METRICS_NAME_MAX. */
	n = snprintf(m->dropped_name, sizeof(m->dropped_name),
	    "%smetrics_series_dropped_total", prefix);
	if (n < 0 || (size_t)n >= sizeof(m->dropped_name))
		fatalx("metrics_new: dropped counter name overflow");
	TAILQ_INIT(&m->families);
	return m;
}

void
metrics_free(struct metrics *m)
{
	struct metric	*f;

	if (m == NULL)
		return;
	while ((f = TAILQ_FIRST(&m->families)) != NULL) {
		TAILQ_REMOVE(&m->families, f, entry);
		family_free(f);
	}
	free(m->prefix);
	free(m);
}

/* A family registered under name (without the prefix), or NULL. */
struct metric *
metrics_find(const struct metrics *m, const char *name)
{
	struct metric	*f;
	size_t		 pl = strlen(m->prefix);

	TAILQ_FOREACH(f, &m->families, entry)
		if (strncmp(f->name, m->prefix, pl) == 0 &&
		    strcmp(f->name + pl, name) == 0)
			return f;
	return NULL;
}

struct metric *
metrics_counter(struct metrics *m, const char *name, const char *help,
    const char *const labels[])
{
	struct family_spec sp = { .caller = __func__, .type = METRIC_COUNTER,
	    .prefixed = true, .name = name, .help = help, .labels = labels };

	return family_register(m, &sp);
}

struct metric *
metrics_gauge(struct metrics *m, const char *name, const char *help,
    const char *const labels[])
{
	struct family_spec sp = { .caller = __func__, .type = METRIC_GAUGE,
	    .prefixed = true, .name = name, .help = help, .labels = labels };

	return family_register(m, &sp);
}

struct metric *
metrics_histogram(struct metrics *m, const char *name, const char *help,
    const char *const labels[], const double *bounds, size_t nbounds)
{
	struct family_spec sp = { .caller = __func__, .type = METRIC_HISTOGRAM,
	    .prefixed = true, .name = name, .help = help, .labels = labels,
	    .bounds = bounds, .nbounds = nbounds };

	return family_register(m, &sp);
}

static struct metric *
register_fn(struct metrics *m, const struct family_spec *sp)
{
	if (sp->fn == NULL) {
		log_warnx("%s: %s: no callback", sp->caller,
		    sp->name != NULL ? sp->name : "(null)");
		return NULL;
	}
	return family_register(m, sp);
}

struct metric *
metrics_counter_fn(struct metrics *m, const char *name, const char *help,
    double (*fn)(void *), void *arg)
{
	struct family_spec sp = { .caller = __func__, .type = METRIC_COUNTER,
	    .prefixed = true, .name = name, .help = help, .fn = fn,
	    .fn_arg = arg };

	return register_fn(m, &sp);
}

struct metric *
metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
    double (*fn)(void *), void *arg)
{
	struct family_spec sp = { .caller = __func__, .type = METRIC_GAUGE,
	    .prefixed = true, .name = name, .help = help, .fn = fn,
	    .fn_arg = arg };

	return register_fn(m, &sp);
}

/* ---- series ---- */

void
metric_set_max_series(struct metric *f, size_t max)
{
	f->max_series = max > 0 ? max : METRICS_SERIES_DEFAULT;
}

size_t
metric_nseries(const struct metric *f)
{
	return f->nseries;
}

/* The number of values is fixed by the caller's code: a mismatch is a
 * broken invariant. Their content may come from anywhere: -1 when one
 * cannot be exposed (too long, not UTF-8). */
static int
values_check(const struct metric *f, const char *const values[],
    const char *caller)
{
	size_t	 n = 0, i, len;

	if (f->fn != NULL)
		fatalx("%s: %s is computed by a callback and has no series",
		    caller, f->name);
	while (values != NULL && n <= f->nlabels && values[n] != NULL)
		n++;
	if (n != f->nlabels)
		fatalx("%s: %s takes %zu label values, got %s%zu", caller,
		    f->name, f->nlabels, n > f->nlabels ? "more than " : "",
		    n > f->nlabels ? f->nlabels : n);
	for (i = 0; i < n; i++) {
		len = strnlen(values[i], METRICS_VALUE_MAX + 1);
		if (len > METRICS_VALUE_MAX || !utf8_valid(values[i], len))
			return -1;
	}
	return 0;
}

/* The link that points at the series with these values, or NULL. */
static struct metric_series **
series_link(const struct metric *f, const char *const values[], uint64_t h)
{
	struct metric_series **sp;
	size_t		 i;

	for (sp = &f->table[h & (f->tablesize - 1)]; *sp != NULL;
	    sp = &(*sp)->hnext) {
		if ((*sp)->hash != h)
			continue;
		for (i = 0; i < f->nlabels; i++)
			if (strcmp((*sp)->values[i], values[i]) != 0)
				break;
		if (i == f->nlabels)
			return sp;
	}
	return NULL;
}

/* Double the buckets; on allocation failure the chains just get longer. */
static void
table_grow(struct metric *f)
{
	struct metric_series **nt, *s;
	size_t		 nsize = f->tablesize * 2;

	if ((nt = calloc(nsize, sizeof(*nt))) == NULL)
		return;
	TAILQ_FOREACH(s, &f->series, entry) {
		s->hnext = nt[s->hash & (nsize - 1)];
		nt[s->hash & (nsize - 1)] = s;
	}
	free(f->table);
	f->table = nt;
	f->tablesize = nsize;
}

static struct metric_series *
series_dropped(struct metric *f)
{
	f->dropped++;
	return f->drop;
}

struct metric_series *
metric_with(struct metric *f, const char *const values[])
{
	struct metric_series **sp, *s;
	uint64_t	 h;

	if (values_check(f, values, __func__) == -1)
		return series_dropped(f);
	if (f->nlabels == 0)
		return TAILQ_FIRST(&f->series);
	h = values_hash(values, f->nlabels);
	if ((sp = series_link(f, values, h)) != NULL)
		return *sp;
	if (f->nseries >= f->max_series ||
	    (s = series_new(f, values, h)) == NULL)
		return series_dropped(f);
	if (f->nseries >= f->tablesize)
		table_grow(f);
	s->hnext = f->table[h & (f->tablesize - 1)];
	f->table[h & (f->tablesize - 1)] = s;
	TAILQ_INSERT_TAIL(&f->series, s, entry);
	f->nseries++;
	return s;
}

struct metric_series *
metric_series0(struct metric *f)
{
	if (f->fn != NULL || f->nlabels != 0)
		fatalx("metric_series0: %s has %s", f->name, f->fn != NULL ?
		    "a callback" : "labels");
	return TAILQ_FIRST(&f->series);
}

static void
series_unlink(struct metric *f, struct metric_series **sp)
{
	struct metric_series *s = *sp;

	*sp = s->hnext;
	TAILQ_REMOVE(&f->series, s, entry);
	f->nseries--;
	free(s);
}

int
metric_remove(struct metric *f, const char *const values[])
{
	struct metric_series **sp;

	if (values_check(f, values, __func__) == -1 || f->nlabels == 0)
		return -1;
	sp = series_link(f, values, values_hash(values, f->nlabels));
	if (sp == NULL)
		return -1;
	series_unlink(f, sp);
	return 0;
}

void
metric_clear(struct metric *f)
{
	struct metric_series *s;

	if (f->nlabels == 0)
		return;
	while ((s = TAILQ_FIRST(&f->series)) != NULL) {
		TAILQ_REMOVE(&f->series, s, entry);
		free(s);
	}
	memset(f->table, 0, f->tablesize * sizeof(*f->table));
	f->nseries = 0;
}

/* ---- updates ---- */

static inline void
series_expect(const struct metric_series *s, enum metric_type type,
    const char *caller)
{
	if (s->family->type != type)
		fatalx("%s: %s is a %s", caller, s->family->name,
		    type_name[s->family->type]);
}

void
counter_inc(struct metric_series *s)
{
	series_expect(s, METRIC_COUNTER, __func__);
	s->count++;
}

void
counter_add_u64(struct metric_series *s, uint64_t v)
{
	series_expect(s, METRIC_COUNTER, __func__);
	s->count += v;
}

void
counter_add(struct metric_series *s, double v)
{
	series_expect(s, METRIC_COUNTER, __func__);
	if (!(v > 0))
		return;
	/* Whole amounts stay in the exact integer part. */
	if (v < 0x1p63 && v == trunc(v))
		s->count += (uint64_t)v;
	else
		s->value += v;
}

void
gauge_set(struct metric_series *s, double v)
{
	series_expect(s, METRIC_GAUGE, __func__);
	s->value = v;
}

void
gauge_add(struct metric_series *s, double v)
{
	series_expect(s, METRIC_GAUGE, __func__);
	s->value += v;
}

size_t
metrics_bucket(const double *bounds, size_t nbounds, double v)
{
	size_t	 lo = 0, hi = nbounds, mid;

	/* First bound >= v (buckets are "less than or equal"). */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
histogram_observe(struct metric_series *s, double v)
{
	const struct metric *f = s->family;
	size_t		 i;

	series_expect(s, METRIC_HISTOGRAM, __func__);
	if (isnan(v))
		return;
	if ((i = metrics_bucket(f->bounds, f->nbounds, v)) < f->nbounds)
		s->buckets[i]++;
	s->count++;
	s->value += v;
}

/* ---- mirrored values ---- */

int
metrics_on_render(struct metrics *m, void (*fn)(void *), void *arg)
{
	if (m->nhooks == METRICS_HOOKS_MAX) {
		log_warnx("%s: more than %d hooks", __func__, METRICS_HOOKS_MAX);
		return -1;
	}
	m->hooks[m->nhooks].fn = fn;
	m->hooks[m->nhooks].arg = arg;
	m->nhooks++;
	return 0;
}

void
counter_load(struct metric_series *s, uint64_t v)
{
	series_expect(s, METRIC_COUNTER, __func__);
	s->count = v;
	s->value = 0;
}

void
histogram_load(struct metric_series *s, const uint64_t *buckets,
    uint64_t count, double sum)
{
	series_expect(s, METRIC_HISTOGRAM, __func__);
	memcpy(s->buckets, buckets, s->family->nbounds * sizeof(uint64_t));
	s->count = count;
	s->value = sum;
}

double
metric_value(const struct metric_series *s)
{
	switch (s->family->type) {
	case METRIC_COUNTER:
		return (double)s->count + s->value;
	case METRIC_HISTOGRAM:
		return (double)s->count;
	default:
		return s->value;
	}
}

/* ---- rendering ---- */

/* \\ and \n always, \" in label values. */
static int
put_escaped(struct buf *out, const char *s, bool quote)
{
	const char	*p, *rep;

	for (p = s; *p != '\0'; p++) {
		if (*p == '\\')
			rep = "\\\\";
		else if (*p == '\n')
			rep = "\\n";
		else if (*p == '"' && quote)
			rep = "\\\"";
		else
			continue;
		if (buf_append(out, s, p - s) == -1 || buf_puts(out, rep) == -1)
			return -1;
		s = p + 1;
	}
	return buf_append(out, s, p - s);
}

/* name<suffix>{labels[,le="..."]} value */
static int
put_sample(struct buf *out, const struct metric *f, const char *suffix,
    const struct metric_series *s, const char *le, const char *value)
{
	const char	*sep = "{";
	size_t		 i;

	if (buf_puts(out, f->name) == -1 ||
	    (suffix != NULL && buf_puts(out, suffix) == -1))
		return -1;
	for (i = 0; i < f->nlabels; i++, sep = ",")
		if (buf_printf(out, "%s%s=\"", sep, f->labels[i]) == -1 ||
		    put_escaped(out, s->values[i], true) == -1 ||
		    buf_puts(out, "\"") == -1)
			return -1;
	if (le != NULL && buf_printf(out, "%sle=\"%s\"", sep, le) == -1)
		return -1;
	if ((f->nlabels > 0 || le != NULL) && buf_puts(out, "}") == -1)
		return -1;
	return buf_printf(out, " %s\n", value);
}

static int
render_counter(struct buf *out, const struct metric *f,
    const struct metric_series *s)
{
	char	 num[NUMBUF];

	fmt_counter(num, s);
	return put_sample(out, f, NULL, s, NULL, num);
}

static int
render_gauge(struct buf *out, const struct metric *f,
    const struct metric_series *s)
{
	char	 num[NUMBUF];

	fmt_number(num, s->value);
	return put_sample(out, f, NULL, s, NULL, num);
}

static int
render_histogram(struct buf *out, const struct metric *f,
    const struct metric_series *s)
{
	char		 num[NUMBUF], le[NUMBUF];
	uint64_t	 cum = 0;
	size_t		 i;

	for (i = 0; i < f->nbounds; i++) {
		cum += s->buckets[i];
		fmt_number(le, f->bounds[i]);
		snprintf(num, sizeof(num), "%" PRIu64, cum);
		if (put_sample(out, f, "_bucket", s, le, num) == -1)
			return -1;
	}
	/* +Inf counts every observation, so it equals _count by design. */
	snprintf(num, sizeof(num), "%" PRIu64, s->count);
	if (put_sample(out, f, "_bucket", s, "+Inf", num) == -1)
		return -1;
	fmt_number(num, s->value);
	if (put_sample(out, f, "_sum", s, NULL, num) == -1)
		return -1;
	snprintf(num, sizeof(num), "%" PRIu64, s->count);
	return put_sample(out, f, "_count", s, NULL, num);
}

static int (*const render_series[])(struct buf *, const struct metric *,
    const struct metric_series *) = {
	[METRIC_COUNTER] = render_counter,
	[METRIC_GAUGE] = render_gauge,
	[METRIC_HISTOGRAM] = render_histogram,
};

static int
render_family(struct buf *out, const struct metric *f)
{
	const struct metric_series *s;
	char		 num[NUMBUF];

	if (buf_printf(out, "# HELP %s ", f->name) == -1 ||
	    put_escaped(out, f->help, false) == -1 ||
	    buf_printf(out, "\n# TYPE %s %s\n", f->name,
	    type_name[f->type]) == -1)
		return -1;
	if (f->fn != NULL) {
		fmt_number(num, f->fn(f->fn_arg));
		return put_sample(out, f, NULL, NULL, NULL, num);
	}
	TAILQ_FOREACH(s, &f->series, entry)
		if (render_series[f->type](out, f, s) == -1)
			return -1;
	return 0;
}

/* The registry's own counter, one series per labelled family. */
static int
render_dropped(struct buf *out, const struct metrics *m)
{
	const struct metric *f;
	bool		 header = false;

	TAILQ_FOREACH(f, &m->families, entry) {
		if (f->drop == NULL)
			continue;
		if (!header && buf_printf(out, "# HELP %s Label sets not "
		    "recorded: series limit reached, label value too long or "
		    "not UTF-8.\n# TYPE %s counter\n", m->dropped_name,
		    m->dropped_name) == -1)
			return -1;
		header = true;
		if (buf_printf(out, "%s{family=\"%s\"} %" PRIu64 "\n",
		    m->dropped_name, f->name, f->dropped) == -1)
			return -1;
	}
	return 0;
}

int
metrics_render(const struct metrics *m, struct buf *out)
{
	const struct metric *f;
	size_t		 before = buf_used(out), i;

	for (i = 0; i < m->nhooks; i++)
		m->hooks[i].fn(m->hooks[i].arg);
	TAILQ_FOREACH(f, &m->families, entry)
		if (render_family(out, f) == -1)
			goto fail;
	if (render_dropped(out, m) == -1)
		goto fail;
	return 0;
 fail:
	/* Reserving may have compacted, which keeps the used count. */
	out->len = out->off + before;
	return -1;
}

/* ---- process metrics ---- */

/* Read a small /proc file whole into dst (NUL-terminated). -1 with errno
 * if it fails or does not fit. */
static int
read_small(const char *path, char *dst, size_t size)
{
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < size - 1 &&
	    (n = read(fd, dst + len, size - 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		len += n;
	}
	close(fd);
	if (len == size - 1) {
		errno = EFBIG;
		return -1;
	}
	dst[len] = '\0';
	return 0;
}

static double
proc_cpu_seconds(void *arg)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return NAN;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* statm field (0 size, 1 resident) in bytes. */
static double
proc_statm_bytes(int field)
{
	char		 line[256];
	unsigned long	 pages[2];

	if (read_small("/proc/self/statm", line, sizeof(line)) == -1 ||
	    sscanf(line, "%lu %lu", &pages[0], &pages[1]) != 2)
		return NAN;
	return (double)pages[field] * sysconf(_SC_PAGESIZE);
}

static double
proc_resident_bytes(void *arg)
{
	return proc_statm_bytes(1);
}

static double
proc_virtual_bytes(void *arg)
{
	return proc_statm_bytes(0);
}

static double
proc_open_fds(void *arg)
{
	DIR		*d;
	struct dirent	*de;
	double		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return NAN;
	while ((de = readdir(d)) != NULL)
		/* Not ".", "..", nor the directory being read. */
		if (de->d_name[0] != '.' &&
		    strtol(de->d_name, NULL, 10) != dirfd(d))
			n++;
	closedir(d);
	return n;
}

static double
proc_max_fds(void *arg)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return NAN;
	return rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
}

static double
proc_start_time(void *arg)
{
	const struct metrics *m = arg;

	return m->start_time;
}

/* Boot time (btime in /proc/stat) plus field 22 of /proc/self/stat. */
static int
process_start_time(double *start)
{
	char			 stat[1024], line[256], *p;
	unsigned long long	 ticks, btime = 0;
	bool			 linestart = true, found = false;
	FILE			*fp;
	int			 i;

	if (read_small("/proc/self/stat", stat, sizeof(stat)) == -1)
		return -1;
	/* comm, in parentheses, may hold spaces: count from the last ')'. */
	if ((p = strrchr(stat, ')')) == NULL)
		return -1;
	for (i = 0; i < 20 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu", &ticks) != 1)
		return -1;

	if ((fp = fopen("/proc/stat", "re")) == NULL)
		return -1;
	/* Lines can be longer than line[]: match only at a line start. */
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		if (linestart && sscanf(line, "btime %llu", &btime) == 1)
			found = true;
		linestart = strchr(line, '\n') != NULL;
	}
	fclose(fp);
	if (!found)
		return -1;
	*start = btime + (double)ticks / sysconf(_SC_CLK_TCK);
	return 0;
}

int
metrics_add_process(struct metrics *m)
{
	static const struct {
		const char	*name;
		const char	*help;
		enum metric_type type;
		double		(*fn)(void *);
	} proc[] = {
		{ "process_cpu_seconds_total",
		  "Total user and system CPU time spent in seconds.",
		  METRIC_COUNTER, proc_cpu_seconds },
		{ "process_resident_memory_bytes",
		  "Resident memory size in bytes.",
		  METRIC_GAUGE, proc_resident_bytes },
		{ "process_virtual_memory_bytes",
		  "Virtual memory size in bytes.",
		  METRIC_GAUGE, proc_virtual_bytes },
		{ "process_open_fds", "Number of open file descriptors.",
		  METRIC_GAUGE, proc_open_fds },
		{ "process_max_fds", "Maximum number of open file descriptors.",
		  METRIC_GAUGE, proc_max_fds },
		{ "process_start_time_seconds",
		  "Start time of the process since unix epoch in seconds.",
		  METRIC_GAUGE, proc_start_time },
	};
	struct family_spec sp = { .caller = __func__, .fn_arg = m };
	struct metric	*added[sizeof(proc) / sizeof(proc[0])];
	size_t		 i;

	if (process_start_time(&m->start_time) == -1) {
		log_warn("%s: start time from /proc", __func__);
		return -1;
	}
	for (i = 0; i < sizeof(proc) / sizeof(proc[0]); i++) {
		sp.name = proc[i].name;
		sp.help = proc[i].help;
		sp.type = proc[i].type;
		sp.fn = proc[i].fn;
		if ((added[i] = family_register(m, &sp)) == NULL)
			goto undo;
	}
	return 0;
 undo:
	/* All or nothing, so a second call leaves the first one whole. */
	while (i-- > 0) {
		TAILQ_REMOVE(&m->families, added[i], entry);
		family_free(added[i]);
	}
	return -1;
}
