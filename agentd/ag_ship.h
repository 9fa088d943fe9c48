/* ag_ship — shipping logs and metrics to a collector over HTTP(S): a Sumo
 * Logic HTTP source, or any endpoint that takes the same requests.
 *
 * Everything queued goes first to a disk spool (one per output, under
 * the state directory), bounded in size; a record leaves the spool only
 * after the collector answered 2xx to the request that carried it. Logs
 * and metrics go in separate requests (Sumo: never mixed), each at most
 * max-request bytes before compression (<= 1 MB), gzip-compressed, with
 * X-Sumo-Category/Name/Host/Fields headers; metrics as Prometheus text
 * (application/vnd.sumologic.prometheus) or carbon2. Errors, timeouts and
 * 429 back off exponentially with jitter between backoff-min and
 * backoff-max. A full spool refuses new records and counts them as
 * dropped. A webhook output POSTs each record alone as application/json.
 *
 *	output NAME {
 *		url "https://collector.example/receiver/v1/http/TOKEN"
 *		kind sumo | webhook		(default sumo)
 *		ca "ca.pem"  verify on		(https)
 *		category "foobar/web"  name "agentd"  fields "site=foobar,role=web"
 *		metrics-format prometheus | carbon2
 *		gzip on  max-request 1m  flush-interval 5s
 *		spool-max 256m  backoff-min 1s  backoff-max 5m  timeout 30s
 *	}
 *
 * Metrics (registry prefix "stackd_agentd_", label output):
 *	ship_spool_bytes, ship_spool_records, ship_dropped_records_total,
 *	ship_sent_records_total{kind}, ship_requests_total{code},
 *	ship_backoff_seconds */
#ifndef AG_SHIP_H
#define AG_SHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_ctx;
struct conf_stmt;
struct conf_directive;
struct ctl_conn;
struct ev_loop;
struct metrics;

enum ag_ship_kind { AG_SHIP_SUMO, AG_SHIP_WEBHOOK };
enum ag_metrics_format { AG_METRICS_PROMETHEUS, AG_METRICS_CARBON2 };

struct ag_output_conf {
	struct ag_output_conf *next;
	char		*name;
	char		*url;
	enum ag_ship_kind kind;
	char		*ca;
	bool		 verify;
	char		*category, *source_name, *fields;
	enum ag_metrics_format metrics_format;
	bool		 gzip;
	uint64_t	 max_request;
	uint64_t	 flush_ms;
	uint64_t	 spool_max;
	uint64_t	 backoff_min_ms, backoff_max_ms;
	uint64_t	 timeout_ms;
};

/* The `output` block directive handler: appends to the list at the
 * directive's offset (struct ag_output_conf **). */
int	 ag_conf_output(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *obj);
void	 ag_output_conf_free(struct ag_output_conf *);

struct ag_ship;

/* spool_dir: this output's own directory (made if missing). host: the
 * X-Sumo-Host value. */
struct ag_ship	*ag_ship_new(struct ev_loop *, const struct ag_output_conf *,
		    const char *spool_dir, const char *host, struct metrics *,
		    char *err, size_t errlen);
/* A new configuration for the same output name; the spool stays. */
int		 ag_ship_reload(struct ag_ship *, const struct ag_output_conf *,
		    char *err, size_t errlen);
/* Queue one log line under a category (NULL: the output's), or one batch
 * of metrics in Prometheus text with timestamps. 0, or -1 when the spool
 * is full (the record is dropped and counted). */
int		 ag_ship_log(struct ag_ship *, const char *category,
		    const char *line, size_t len);
int		 ag_ship_metrics(struct ag_ship *, const char *text, size_t len);
/* Make what was queued durable (fdatasync). */
int		 ag_ship_sync(struct ag_ship *, char *err, size_t errlen);
/* `agentctl spool` lines. */
void		 ag_ship_status(struct ag_ship *, struct ctl_conn *);
const char	*ag_ship_name(const struct ag_ship *);
void		 ag_ship_free(struct ag_ship *);

#endif
