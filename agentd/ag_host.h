/* ag_host — host metrics from /proc and /sys, named as node_exporter names
 * them where it has the metric (node_cpu_seconds_total{cpu,mode},
 * node_load1, node_memory_MemAvailable_bytes, node_filesystem_avail_bytes,
 * node_disk_read_bytes_total, node_network_receive_bytes_total, ...), and
 * per-process CPU and memory of the stackd daemons
 * (stackd_process_cpu_seconds_total{daemon}, ...).
 *
 * Each collector reads its files at ag_host_collect() and loads the values
 * into series of the registry given at creation (its prefix is ""). A
 * collector that fails leaves its series as they were, says so in
 * node_scrape_collector_success{collector}, and the others go on. */
#ifndef AG_HOST_H
#define AG_HOST_H

#include <stddef.h>

struct metrics;
struct ag_host;

struct ag_host_opts {
	const char	*proc;		/* "/proc" */
	const char	*sys;		/* "/sys" */
	/* comm names of the processes to report ("lbd", "webd", ...),
	 * NULL-terminated */
	const char *const *daemons;
};

struct ag_host	*ag_host_new(struct metrics *, const struct ag_host_opts *,
		    char *err, size_t errlen);
/* Read everything now. 0, or -1 with err naming the collectors that
 * failed (the rest were updated). */
int		 ag_host_collect(struct ag_host *, char *err, size_t errlen);
void		 ag_host_free(struct ag_host *);

#endif
