/* metrics — counters, gauges and histograms with labels, rendered in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * Each daemon owns a registry (no globals); several registries can be
 * rendered one after another into the same output as long as their family
 * names differ (use distinct prefixes, and call metrics_add_process on one
 * of them only).
 *
 * Registration (metrics_counter and friends) happens at start-up with names
 * written in the code, so a bad name, a duplicate or a bad bucket list is a
 * programmer error: the call logs what is wrong (log_warnx) and returns
 * NULL, and the caller is expected to fatalx on it. Nothing is registered
 * on failure.
 *
 * Series: metric_with() finds or creates the series for a set of label
 * values and never returns NULL. When the family already holds max_series
 * series, a label value is not valid UTF-8 or longer than
 * METRICS_VALUE_MAX, or memory runs out, it returns the family's shared
 * overflow series, whose updates are discarded, and counts the call in the
 * registry's own <prefix>metrics_series_dropped_total{family="..."}.
 * Passing the wrong number of label values, or updating a series with the
 * function of another type (gauge_set on a counter), breaks an invariant
 * of the caller's code and is fatal.
 *
 * Updates do not allocate. Not thread-safe: one registry per process,
 * used from the event loop; worker processes count elsewhere (shared
 * memory, say) and the registry's owner mirrors that into series with a
 * render hook (metrics_on_render, counter_load, histogram_load). */
#ifndef STACKD_METRICS_H
#define STACKD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

#define METRICS_NAME_MAX	200	/* bytes in a full metric name */
#define METRICS_HELP_MAX	1024	/* bytes of help text */
#define METRICS_LABELS_MAX	16	/* label names per family */
#define METRICS_VALUE_MAX	256	/* bytes in one label value */
#define METRICS_BUCKETS_MAX	64	/* histogram upper bounds */
#define METRICS_SERIES_DEFAULT	10000	/* series per family */
#define METRICS_HOOKS_MAX	8	/* render hooks per registry */

/* 1 ms .. 10 s, for request and query latencies in seconds. */
#define METRICS_LATENCY_NBOUNDS	13
extern const double metrics_default_latency_bounds[METRICS_LATENCY_NBOUNDS];

struct metrics;
struct metric;
struct metric_series;

/* prefix ("stackd_lbd_", may be "") is prepended to every name registered
 * below except the process metrics. NULL if the prefix is not valid. */
struct metrics	*metrics_new(const char *prefix);
void		 metrics_free(struct metrics *);

/* labels: NULL-terminated label names, or NULL for none. Counter names end
 * in _total, other names must not; no name ends in _bucket, _count or _sum;
 * "le" and "quantile" are not label names. */
struct metric	*metrics_counter(struct metrics *, const char *name,
		    const char *help, const char *const labels[]);
struct metric	*metrics_gauge(struct metrics *, const char *name,
		    const char *help, const char *const labels[]);
/* bounds: finite, strictly increasing upper bounds (1..METRICS_BUCKETS_MAX,
 * copied); the +Inf bucket is implicit. */
struct metric	*metrics_histogram(struct metrics *, const char *name,
		    const char *help, const char *const labels[],
		    const double *bounds, size_t nbounds);
/* The family registered as name (without the registry's prefix), or NULL:
 * for parts that share one registry and register a family once. */
struct metric	*metrics_find(const struct metrics *, const char *name);
/* Unlabelled families whose value fn(arg) computes at render time. */
struct metric	*metrics_counter_fn(struct metrics *, const char *name,
		    const char *help, double (*fn)(void *), void *arg);
struct metric	*metrics_gauge_fn(struct metrics *, const char *name,
		    const char *help, double (*fn)(void *), void *arg);
/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds and
 * process_start_time_seconds (no prefix), read when rendered. 0 or -1. */
int		 metrics_add_process(struct metrics *);

/* Bound on series in a family (0 restores the default). Lowering it below
 * the current count keeps existing series and refuses new ones. */
void		 metric_set_max_series(struct metric *, size_t max);
size_t		 metric_nseries(const struct metric *);

/* values: NULL-terminated, as many as the family has label names. */
struct metric_series *metric_with(struct metric *, const char *const values[]);
/* The only series of an unlabelled family (exists from registration). */
struct metric_series *metric_series0(struct metric *);
/* Delete a series (e.g. a server gone after reload). Pointers to it held by
 * callers become invalid. 0, or -1 if there was no such series. */
int		 metric_remove(struct metric *, const char *const values[]);
/* Delete every series of a labelled family. */
void		 metric_clear(struct metric *);

/* Counters never go down: negative and NaN amounts are ignored. Integer
 * amounts are kept exactly (byte counts past 2^53 stay exact). */
void		 counter_inc(struct metric_series *);
void		 counter_add(struct metric_series *, double);
void		 counter_add_u64(struct metric_series *, uint64_t);
void		 gauge_set(struct metric_series *, double);
void		 gauge_add(struct metric_series *, double);
/* NaN observations are ignored (they would poison _sum forever). */
void		 histogram_observe(struct metric_series *, double);
/* Counter or gauge value; a histogram's observation count. */
double		 metric_value(const struct metric_series *);

/* Mirrored values: numbers counted elsewhere (by worker processes in
 * shared memory, say) and copied into series when rendered. A render hook
 * fn(arg) runs at the start of every metrics_render, in the order added;
 * 0, or -1 past METRICS_HOOKS_MAX. The loads set a series to the mirrored
 * value: the source of a counter must itself never go down. */
int		 metrics_on_render(struct metrics *, void (*fn)(void *), void *arg);
void		 counter_load(struct metric_series *, uint64_t value);
/* buckets: one count per bound of the family (observations <= bounds[i]
 * and > bounds[i-1]: not cumulative); count: all observations, those
 * above the last bound too; sum: their sum. */
void		 histogram_load(struct metric_series *, const uint64_t *buckets,
		    uint64_t count, double sum);
/* The bucket v falls in: the first bound >= v, or nbounds (+Inf). For
 * counting elsewhere with a family's bounds. */
size_t		 metrics_bucket(const double *bounds, size_t nbounds, double v);

/* Append the exposition to out. On error (out reached its cap: ENOBUFS)
 * returns -1 and out holds what it held before. */
int		 metrics_render(const struct metrics *, struct buf *out);

#endif
