/* ev — epoll loop, timer heap, signalfd, deferred work. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"

#define EV_BATCH	256

struct ev_watch {
	ev_fd_cb	 cb;
	void		*arg;
	unsigned	 events;
	bool		 active;
	uint64_t	 gen;		/* bumped on every add/del: stale-event guard */
};

struct ev_sig {
	ev_signal_cb	 cb;
	void		*arg;
};

struct ev_loop {
	int		 epfd;
	bool		 stop;
	uint64_t	 now;
	struct ev_watch	*watch;		/* indexed by fd */
	size_t		 nwatch;
	uint64_t	 gen;
	struct ev_timer	**heap;
	size_t		 nheap, heapcap;
	struct ev_deferred *defer_head, **defer_tail;
	struct ev_deferred *run_head;	/* the batch run_deferred is running */
	int		 sigfd;
	sigset_t	 sigmask;
	struct ev_sig	 sig[_NSIG];
};

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
ev_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct ev_loop *
ev_new(void)
{
	struct ev_loop *loop;

	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return NULL;
	if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(loop);
		return NULL;
	}
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	loop->defer_tail = &loop->defer_head;
	loop->now = monotonic_ms();
	return loop;
}

static void
loop_release(struct ev_loop *loop, bool unblock)
{
	if (loop == NULL)
		return;
	if (loop->sigfd != -1) {
		close(loop->sigfd);
		if (unblock)
			sigprocmask(SIG_UNBLOCK, &loop->sigmask, NULL);
	}
	close(loop->epfd);
	free(loop->watch);
	free(loop->heap);
	free(loop);
}

void
ev_free(struct ev_loop *loop)
{
	loop_release(loop, true);
}

void
ev_abandon(struct ev_loop *loop)
{
	/* A signal unblocked here would take its default action (SIGTERM
	 * kills) before the child's own loop takes it over. */
	loop_release(loop, false);
}

uint64_t
ev_now(struct ev_loop *loop)
{
	return loop->now;
}

void
ev_update_now(struct ev_loop *loop)
{
	loop->now = monotonic_ms();
}

void
ev_break(struct ev_loop *loop)
{
	loop->stop = true;
}

/* fd events */

static uint32_t
to_epoll(unsigned events)
{
	return (events & EV_READ ? EPOLLIN | EPOLLRDHUP : 0) |
	    (events & EV_WRITE ? EPOLLOUT : 0);
}

static int
watch_grow(struct ev_loop *loop, int fd)
{
	struct ev_watch	*w;
	size_t		 n;

	if ((size_t)fd < loop->nwatch)
		return 0;
	n = loop->nwatch ? loop->nwatch : 64;
	while (n <= (size_t)fd)
		n *= 2;
	if ((w = reallocarray(loop->watch, n, sizeof(*w))) == NULL)
		return -1;
	memset(w + loop->nwatch, 0, (n - loop->nwatch) * sizeof(*w));
	loop->watch = w;
	loop->nwatch = n;
	return 0;
}

int
ev_fd_add(struct ev_loop *loop, int fd, unsigned events, ev_fd_cb cb, void *arg)
{
	struct epoll_event ee = { 0 };
	struct ev_watch	*w;

	if (fd < 0 || watch_grow(loop, fd) == -1)
		return -1;
	w = &loop->watch[fd];
	if (w->active) {
		errno = EEXIST;
		return -1;
	}
	ee.events = to_epoll(events);
	ee.data.u64 = (uint64_t)fd | (++loop->gen << 32);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ee) == -1)
		return -1;
	w->cb = cb;
	w->arg = arg;
	w->events = events;
	w->active = true;
	w->gen = loop->gen;
	return 0;
}

int
ev_fd_mod(struct ev_loop *loop, int fd, unsigned events)
{
	struct epoll_event ee = { 0 };
	struct ev_watch	*w;

	if (fd < 0 || (size_t)fd >= loop->nwatch || !loop->watch[fd].active) {
		errno = ENOENT;
		return -1;
	}
	w = &loop->watch[fd];
	if (w->events == events)
		return 0;
	ee.events = to_epoll(events);
	ee.data.u64 = (uint64_t)fd | (w->gen << 32);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ee) == -1)
		return -1;
	w->events = events;
	return 0;
}

int
ev_fd_del(struct ev_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nwatch || !loop->watch[fd].active) {
		errno = ENOENT;
		return -1;
	}
	loop->watch[fd].active = false;
	/* The fd may already be closed by the caller: ignore EBADF. */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) == -1 &&
	    errno != EBADF && errno != ENOENT)
		return -1;
	return 0;
}

int
ev_fd_close(struct ev_loop *loop, int fd)
{
	if (fd >= 0 && (size_t)fd < loop->nwatch)
		loop->watch[fd].active = false;
	return close(fd);
}

unsigned
ev_fd_events(struct ev_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nwatch || !loop->watch[fd].active)
		return 0;
	return loop->watch[fd].events;
}

/* timers: a binary min-heap of pointers; each timer knows its slot. */

static bool
timer_before(const struct ev_timer *a, const struct ev_timer *b)
{
	return a->when < b->when;
}

static void
heap_set(struct ev_loop *loop, size_t i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->slot = i;
}

static void
heap_up(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];

	while (i > 0 && timer_before(t, loop->heap[(i - 1) / 2])) {
		heap_set(loop, i, loop->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(loop, i, t);
}

static void
heap_down(struct ev_loop *loop, size_t i)
{
	struct ev_timer	*t = loop->heap[i];
	size_t		 child;

	while ((child = 2 * i + 1) < loop->nheap) {
		if (child + 1 < loop->nheap &&
		    timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timer_before(loop->heap[child], t))
			break;
		heap_set(loop, i, loop->heap[child]);
		i = child;
	}
	heap_set(loop, i, t);
}

void
ev_timer_init(struct ev_timer *t, ev_cb cb, void *arg)
{
	t->when = 0;
	t->slot = SIZE_MAX;
	t->cb = cb;
	t->arg = arg;
}

int
ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t ms)
{
	struct ev_timer	**h;
	size_t		 ncap;

	if (ev_timer_pending(t))
		ev_timer_stop(loop, t);
	if (loop->nheap == loop->heapcap) {
		ncap = loop->heapcap ? loop->heapcap * 2 : 64;
		if ((h = reallocarray(loop->heap, ncap, sizeof(*h))) == NULL)
			return -1;
		loop->heap = h;
		loop->heapcap = ncap;
	}
	t->when = loop->now + ms;
	heap_set(loop, loop->nheap++, t);
	heap_up(loop, t->slot);
	return 0;
}

void
ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	size_t		 i = t->slot;
	struct ev_timer	*last;

	if (i == SIZE_MAX)
		return;
	if (i >= loop->nheap || loop->heap[i] != t)
		fatalx("%s: timer not in this loop's heap", __func__);
	t->slot = SIZE_MAX;
	last = loop->heap[--loop->nheap];
	if (last == t)
		return;
	heap_set(loop, i, last);
	if (i > 0 && timer_before(last, loop->heap[(i - 1) / 2]))
		heap_up(loop, i);
	else
		heap_down(loop, i);
}

static void
run_timers(struct ev_loop *loop)
{
	struct ev_timer *t;

	while (loop->nheap > 0 && loop->heap[0]->when <= loop->now) {
		t = loop->heap[0];
		ev_timer_stop(loop, t);
		t->cb(loop, t->arg);
	}
}

static int
next_timeout(struct ev_loop *loop, int cap_ms)
{
	uint64_t diff;

	if (loop->defer_head != NULL)
		return 0;
	if (loop->nheap == 0)
		return cap_ms;
	if (loop->heap[0]->when <= loop->now)
		return 0;
	diff = loop->heap[0]->when - loop->now;
	if (cap_ms >= 0 && diff > (uint64_t)cap_ms)
		return cap_ms;
	return diff > INT32_MAX ? INT32_MAX : (int)diff;
}

/* deferred work */

void
ev_deferred_init(struct ev_deferred *d, ev_cb cb, void *arg)
{
	d->next = NULL;
	d->queued = false;
	d->cb = cb;
	d->arg = arg;
}

void
ev_defer(struct ev_loop *loop, struct ev_deferred *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	*loop->defer_tail = d;
	loop->defer_tail = &d->next;
}

static bool
defer_unlink(struct ev_deferred **pp, struct ev_deferred ***tailp,
    struct ev_deferred *d)
{
	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp != d)
			continue;
		*pp = d->next;
		if (tailp != NULL && *tailp == &d->next)
			*tailp = pp;
		return true;
	}
	return false;
}

void
ev_defer_cancel(struct ev_loop *loop, struct ev_deferred *d)
{
	if (!d->queued)
		return;
	if (!defer_unlink(&loop->defer_head, &loop->defer_tail, d))
		defer_unlink(&loop->run_head, NULL, d);
	d->queued = false;
	d->next = NULL;
}

/* Run what was queued before this call; work queued by callbacks waits for
 * the next iteration so a callback that re-queues itself cannot starve I/O. */
static void
run_deferred(struct ev_loop *loop)
{
	struct ev_deferred *d;

	loop->run_head = loop->defer_head;
	loop->defer_head = NULL;
	loop->defer_tail = &loop->defer_head;
	while ((d = loop->run_head) != NULL) {
		loop->run_head = d->next;
		d->queued = false;
		d->next = NULL;
		d->cb(loop, d->arg);
	}
}

/* signals */

static void
signal_read(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(fd, &si, sizeof(si))) == sizeof(si)) {
		if (si.ssi_signo < _NSIG && loop->sig[si.ssi_signo].cb != NULL)
			loop->sig[si.ssi_signo].cb(loop, (int)si.ssi_signo,
			    loop->sig[si.ssi_signo].arg);
	}
}

int
ev_signal(struct ev_loop *loop, int signo, ev_signal_cb cb, void *arg)
{
	int	 fd;

	if (signo <= 0 || signo >= _NSIG) {
		errno = EINVAL;
		return -1;
	}
	sigaddset(&loop->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) == -1)
		return -1;
	fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -1;
	if (loop->sigfd == -1) {
		loop->sigfd = fd;
		if (ev_fd_add(loop, fd, EV_READ, signal_read, NULL) == -1)
			return -1;
	}
	loop->sig[signo].cb = cb;
	loop->sig[signo].arg = arg;
	return 0;
}

/* signalfd wakes epoll through the wait queue of the process that added it
 * (EPOLL_CTL_ADD polls it as that process): after a fork the child's own
 * signals would never make the shared epoll instance ready. */
int
ev_signal_forked(struct ev_loop *loop)
{
	if (loop->sigfd == -1)
		return 0;
	if (ev_fd_del(loop, loop->sigfd) == -1)
		return -1;
	return ev_fd_add(loop, loop->sigfd, EV_READ, signal_read, NULL);
}

/* the loop */

int
ev_run_once(struct ev_loop *loop, int timeout_ms)
{
	struct epoll_event ee[EV_BATCH];
	struct ev_watch	*w;
	unsigned	 events;
	int		 i, n, fd;
	uint64_t	 gen;

	n = epoll_wait(loop->epfd, ee, EV_BATCH, next_timeout(loop, timeout_ms));
	if (n == -1 && errno != EINTR)
		return -1;
	ev_update_now(loop);
	for (i = 0; i < n; i++) {
		fd = (int)(ee[i].data.u64 & 0xffffffff);
		gen = ee[i].data.u64 >> 32;
		w = &loop->watch[fd];
		/* Deleted, or deleted and re-added, by an earlier callback. */
		if (!w->active || (w->gen & 0xffffffff) != gen)
			continue;
		events = 0;
		if (ee[i].events & (EPOLLIN | EPOLLRDHUP))
			events |= EV_READ;
		if (ee[i].events & EPOLLOUT)
			events |= EV_WRITE;
		if (ee[i].events & (EPOLLERR | EPOLLHUP))
			events |= EV_ERROR | (w->events & (EV_READ | EV_WRITE));
		w->cb(loop, fd, events, w->arg);
	}
	run_timers(loop);
	run_deferred(loop);
	return n < 0 ? 0 : n;
}

int
ev_run(struct ev_loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		if (ev_run_once(loop, -1) == -1) {
			log_warn("%s: epoll_wait", __func__);
			return -1;
		}
	}
	return 0;
}
