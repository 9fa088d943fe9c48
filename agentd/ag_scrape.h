/* ag_scrape — the stackd daemons' `metrics`, read over their control
 * sockets every collection without blocking the loop. */
#ifndef AG_SCRAPE_H
#define AG_SCRAPE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "ctl.h"
#include "ev.h"

struct metrics;
struct ag_daemon_conf;
struct ag_scrape;

/* done(arg) runs when a round has ended (every daemon answered, failed,
 * or timed out). Registers daemon_up and daemon_scrape_duration_seconds
 * in m. */
struct ag_scrape *ag_scrape_new(struct ev_loop *, struct metrics *m,
		    const struct ag_daemon_conf *, int n, void (*done)(void *),
		    void *arg);
/* A new round, unless one is running; each daemon has timeout_ms. */
void		 ag_scrape_start(struct ag_scrape *, uint64_t timeout_ms);
bool		 ag_scrape_busy(const struct ag_scrape *);
/* The last good replies, daemon-labelled, one after another. */
int		 ag_scrape_render(const struct ag_scrape *, struct buf *out);
void		 ag_scrape_status(const struct ag_scrape *, struct ctl_conn *);
void		 ag_scrape_free(struct ag_scrape *);

#endif
