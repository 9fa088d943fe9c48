/* ev — one epoll loop per process: fd events, a timer heap, signals through
 * signalfd, and deferred work run after the current batch of events.
 *
 * Timers and deferred items are embedded in the caller's structs (no
 * allocation, nothing dangling): initialise once, start/stop freely, and
 * stop before freeing the struct that holds them. */
#ifndef STACKD_EV_H
#define STACKD_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_READ		0x01
#define EV_WRITE	0x02
#define EV_ERROR	0x04	/* reported only: EPOLLERR or EPOLLHUP */

struct ev_loop;

typedef void (*ev_fd_cb)(struct ev_loop *, int fd, unsigned events, void *arg);
typedef void (*ev_cb)(struct ev_loop *, void *arg);
typedef void (*ev_signal_cb)(struct ev_loop *, int signo, void *arg);

struct ev_timer {
	uint64_t	 when;		/* ev_now() ms of expiry */
	size_t		 slot;		/* index in the heap, or SIZE_MAX */
	ev_cb		 cb;
	void		*arg;
};

struct ev_deferred {
	struct ev_deferred *next;
	bool		 queued;
	ev_cb		 cb;
	void		*arg;
};

struct ev_loop	*ev_new(void);
void		 ev_free(struct ev_loop *);
/* Close the loop's epoll and signalfd descriptors and free it, with no
 * epoll_ctl and the signal mask left as it is. For a child forked from
 * the loop's process (the epoll instance is the parent's too; signals stay
 * blocked until the child's own loop asks for them: timers and deferred
 * items that were on it must be initialised again before any use), and
 * for a process about to exit (unblocking would let a pending SIGTERM
 * kill it by its default action). */
void		 ev_abandon(struct ev_loop *);
/* Run until ev_break(). Returns 0, or -1 if epoll_wait fails. */
int		 ev_run(struct ev_loop *);
/* One pass: wait at most timeout_ms (-1 forever) and dispatch. Tests use it. */
int		 ev_run_once(struct ev_loop *, int timeout_ms);
void		 ev_break(struct ev_loop *);
/* Monotonic milliseconds, cached per loop iteration. */
uint64_t	 ev_now(struct ev_loop *);
void		 ev_update_now(struct ev_loop *);
/* The monotonic clock in microseconds, read now (not the loop's cached
 * millisecond time): for latencies below a millisecond. */
uint64_t	 ev_clock_us(void);

/* Watch fd for events (EV_READ|EV_WRITE, possibly 0). One watcher per fd. */
int		 ev_fd_add(struct ev_loop *, int fd, unsigned events, ev_fd_cb, void *arg);
int		 ev_fd_mod(struct ev_loop *, int fd, unsigned events);
/* Safe from inside any callback, including the fd's own. */
int		 ev_fd_del(struct ev_loop *, int fd);
/* Stop watching fd and close it, without the epoll_ctl(DEL) call: closing
 * the last reference removes it from epoll. Only for an fd this process
 * has not duplicated (dup, fork) — else use ev_fd_del and close. */
int		 ev_fd_close(struct ev_loop *, int fd);
unsigned	 ev_fd_events(struct ev_loop *, int fd);

void		 ev_timer_init(struct ev_timer *, ev_cb, void *arg);
/* (Re)arm to fire once after ms milliseconds. */
int		 ev_timer_start(struct ev_loop *, struct ev_timer *, uint64_t ms);
void		 ev_timer_stop(struct ev_loop *, struct ev_timer *);
static inline bool ev_timer_pending(const struct ev_timer *t) { return t->slot != SIZE_MAX; }

/* Deliver signo through signalfd (blocks it for the process). */
int		 ev_signal(struct ev_loop *, int signo, ev_signal_cb, void *arg);
/* In a process forked from the one that asked for signals and keeping its
 * loop (a daemon detaching): register the signalfd with epoll again, as
 * this process, else its signals never wake the loop. 0 or -1. */
int		 ev_signal_forked(struct ev_loop *);

void		 ev_deferred_init(struct ev_deferred *, ev_cb, void *arg);
/* Queue to run after the current dispatch; queuing twice runs it once. */
void		 ev_defer(struct ev_loop *, struct ev_deferred *);
void		 ev_defer_cancel(struct ev_loop *, struct ev_deferred *);

#endif
