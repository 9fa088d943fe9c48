/* agentd — the monitoring agent on every host of www.foobar.com: host and
 * daemon metrics, log tailing, web QPS, alerts, shipping to a collector
 * with a disk spool, and a Prometheus /metrics endpoint. The private
 * header: configuration and runtime state; each part has its own header
 * (ag_host.h, ag_tail.h, ag_access.h, ag_ship.h, ag_alert.h). */
#ifndef AGENTD_H
#define AGENTD_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "ev.h"
#include "net.h"
#include "service.h"
#include "ag_access.h"
#include "ag_alert.h"
#include "ag_host.h"
#include "ag_ship.h"
#include "ag_tail.h"
#include "ag_http.h"
#include "ag_scrape.h"

#define AG_VERSION		"0.1"
#define AG_MAX_DAEMONS		16
#define AG_MAX_OUTPUTS		8
#define AG_TOP_HISTORY		60	/* samples kept for sparklines */
#define AG_TOP_SERIES		8	/* access logs shown by top */

/* daemon NAME SOCKET: a stackd daemon whose `metrics` are scraped. */
struct ag_daemon_conf {
	char		*name;
	char		*socket;
};

struct ag_conf {
	struct service_conf	 svc;
	char			*state_dir;
	char			*host;		/* default: gethostname() */
	uint64_t		 interval_ms;	/* collection */
	uint64_t		 poll_ms;	/* log files */
	char			*listen_str;	/* metrics-listen, or NULL */
	struct net_addr		 listen;
	char			*proc, *sys;
	struct ag_daemon_conf	 daemons[AG_MAX_DAEMONS];
	int			 ndaemons;
	char			*alert_category;
	struct ag_log_conf	*logs;
	struct ag_alert_conf	*alerts;
	struct ag_output_conf	*outputs;
};

void	*ag_conf_load(const struct conf_stmt *, struct conf_ctx *);
void	 ag_conf_free(void *);

/* What `agentctl top` shows, updated every collection. */
struct ag_top {
	double		 cpu_busy;	/* 0..1 since the last collection */
	double		 cpu_total_prev, cpu_idle_prev;
	double		 rx_prev, tx_prev, rx_rate, tx_rate;
	uint64_t	 at_ms;
	struct {
		char	 name[64];
		double	 hist[AG_TOP_HISTORY];
		unsigned n;	/* samples in hist, newest last */
	}		 qps[AG_TOP_SERIES];
	unsigned	 nqps;
};

struct agentd {
	struct service		*svc;
	struct ag_conf		*conf;
	struct metrics		*host_reg;	/* node_*: prefix "" */
	struct ag_host		*host;
	struct ag_access	*access;
	struct ag_tail		*tail;
	struct ag_alerts	*alerts;
	struct ag_ship		*ships[AG_MAX_OUTPUTS];
	int			 nships;
	struct ag_scrape	*scrape;
	struct ag_http		*http;
	struct ev_timer		 collect_timer, poll_timer;
	bool			 stopping;
	struct buf		 expo;		/* the last collection */
	uint64_t		 collect_started_us;
	uint64_t		 host_at_ms;	/* last host collection */
	struct ag_top		 top;
	struct metric		*m_collect_seconds;
	struct metric		*m_alerts_firing;
	struct metric		*m_alert_events;	/* {alert,state} */
};

/* agentd_top.c */
void	 ag_top_update(struct agentd *);
void	 ag_top_format(struct agentd *, struct buf *out);
extern const struct ctl_command ag_commands[];

static inline struct ev_loop *
ag_loop(struct agentd *a)
{
	return service_loop(a->svc);
}

#endif
