/* alog — an access log: lines gathered in a buffer and written once per
 * event-loop pass (deferred), reopened for logrotate, swapped on reload.
 * Shared by webd and lbd. */
#ifndef STACKD_ALOG_H
#define STACKD_ALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "ev.h"

struct alog {
	int			 fd;	/* -1: no access log */
	struct buf		 buf;	/* lines waiting for one write */
	struct ev_deferred	 flush;
	struct ev_loop		*loop;
};

/* fd -1 without touching the loop: alog_close is then safe at once. */
#define ALOG_INITIALIZER	{ .fd = -1 }

void	 alog_init(struct alog *, struct ev_loop *, size_t max_buffered);
/* In a forked child running its own loop: the deferred write moves to
 * that loop; the fd and buffered lines stay. */
void	 alog_forked(struct alog *, struct ev_loop *);
/* Open path for appending (0640): the fd, or -1 with
 * "access-log PATH: reason" in err. Nothing changes in any alog. */
int	 alog_open(const char *path, char *err, size_t errlen);
/* Flush what is buffered to the old fd, close it, write to fd from now
 * on (-1: no log). */
void	 alog_use(struct alog *, int fd);
static inline bool alog_enabled(const struct alog *a) { return a->fd != -1; }
/* Append a line (with its "\n") and schedule the write. A full buffer is
 * written out first. No-op without a log. */
int	 alog_printf(struct alog *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 alog_flush(struct alog *);
/* Flush, cancel, close, free. */
void	 alog_close(struct alog *);

#endif
