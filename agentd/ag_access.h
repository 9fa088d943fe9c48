/* ag_access — web access log lines (webd, lbd, nginx: combined with an
 * optional request time, or JSON) into the web tier's figures: requests by
 * status class, bytes, request durations, parse failures, and the request
 * rate over the last interval (the QPS alerts watch).
 *
 * Metrics (prefix of the registry given, "stackd_agentd_"):
 *	web_requests_total{log,code}		code: 1xx .. 5xx
 *	web_response_bytes_total{log}
 *	web_request_duration_seconds{log}	histogram, when logged
 *	web_requests_per_second{log}		gauge, set by ag_access_tick
 *	web_parse_errors_total{log} */
#ifndef AG_ACCESS_H
#define AG_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "ag_tail.h"

struct metrics;
struct ag_access;

struct ag_access *ag_access_new(struct metrics *);
/* One line of log `log` in format fmt: 0 counted, -1 not an access line
 * (counted as a parse error). */
int		 ag_access_line(struct ag_access *, const char *log,
		    enum ag_log_format fmt, const char *line, size_t len);
/* End of an interval at now_ms: web_requests_per_second of every log is
 * what was counted since the previous tick divided by the time between. */
void		 ag_access_tick(struct ag_access *, uint64_t now_ms);
void		 ag_access_free(struct ag_access *);

#endif
