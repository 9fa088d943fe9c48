/* Unit tests for common/ev. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ev.h"
#include "suites.h"

struct fdstate {
	int	 calls;
	unsigned last;
	int	 del_self;
	int	 other_fd;	/* deleted by this callback when >= 0 */
};

static void
on_fd(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct fdstate *st = arg;
	char	 c;

	st->calls++;
	st->last = events;
	if (events & EV_READ)
		(void)read(fd, &c, 1);
	if (st->del_self)
		ev_fd_del(loop, fd);
	if (st->other_fd >= 0)
		ev_fd_del(loop, st->other_fd);
}

START_TEST(fd_read_and_write_events)
{
	struct ev_loop	*loop = ev_new();
	struct fdstate	 st = { .other_fd = -1 };
	int		 p[2];

	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	ck_assert_int_eq(ev_fd_add(loop, p[0], EV_READ, on_fd, &st), 0);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(st.calls, 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(ev_run_once(loop, 1000), 1);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_uint_eq(st.last & EV_READ, EV_READ);
	/* Adding the same fd twice is refused. */
	ck_assert_int_eq(ev_fd_add(loop, p[0], EV_READ, on_fd, &st), -1);
	/* Write interest on the write end fires at once. */
	ck_assert_int_eq(ev_fd_add(loop, p[1], 0, on_fd, &st), 0);
	ck_assert_int_eq(ev_fd_mod(loop, p[1], EV_WRITE), 0);
	ck_assert_uint_eq(ev_fd_events(loop, p[1]), EV_WRITE);
	ck_assert_int_eq(ev_run_once(loop, 1000), 1);
	ck_assert_uint_eq(st.last, EV_WRITE);
	ck_assert_int_eq(ev_fd_del(loop, p[1]), 0);
	ck_assert_int_eq(ev_fd_del(loop, p[1]), -1);
	close(p[0]);
	close(p[1]);
	ev_free(loop);
}
END_TEST

/* A callback deleting another fd whose event is in the same batch: the
 * deleted watcher must not be called. */
START_TEST(fd_deleted_in_same_batch_not_called)
{
	struct ev_loop	*loop = ev_new();
	struct fdstate	 a = { .other_fd = -1 }, b = { .other_fd = -1 };
	int		 p[2], q[2];

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(pipe2(q, O_NONBLOCK), 0);
	a.other_fd = q[0];
	b.other_fd = p[0];
	ck_assert_int_eq(ev_fd_add(loop, p[0], EV_READ, on_fd, &a), 0);
	ck_assert_int_eq(ev_fd_add(loop, q[0], EV_READ, on_fd, &b), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	ck_assert_int_eq(ev_run_once(loop, 1000), 2);
	/* Whichever ran first deleted the other. */
	ck_assert_int_eq(a.calls + b.calls, 1);
	close(p[0]); close(p[1]); close(q[0]); close(q[1]);
	ev_free(loop);
}
END_TEST

START_TEST(fd_close_without_del)
{
	struct ev_loop	*loop = ev_new();
	struct fdstate	 st = { .other_fd = -1 }, st2 = { .other_fd = -1 };
	int		 p[2], q[2], fd;

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	fd = p[0];
	ck_assert_int_eq(ev_fd_add(loop, fd, EV_READ, on_fd, &st), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(ev_fd_close(loop, fd), 0);
	ck_assert_uint_eq(ev_fd_events(loop, fd), 0);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(st.calls, 0);
	/* The number comes back with the next fd: watching it again works,
	 * so the kernel did drop the old registration. */
	ck_assert_int_eq(pipe2(q, O_NONBLOCK), 0);
	ck_assert_int_eq(q[0], fd);
	ck_assert_int_eq(ev_fd_add(loop, q[0], EV_READ, on_fd, &st2), 0);
	ck_assert_int_eq(write(q[1], "y", 1), 1);
	ck_assert_int_eq(ev_run_once(loop, 1000), 1);
	ck_assert_int_eq(st2.calls, 1);
	close(p[1]); close(q[0]); close(q[1]);
	ev_free(loop);
}
END_TEST

struct tick {
	struct ev_timer	 t;
	int		 id;
	int		*order;
	int		*n;
	uint64_t	 fired_at;
};

static void
on_tick(struct ev_loop *loop, void *arg)
{
	struct tick *k = arg;

	k->order[(*k->n)++] = k->id;
	k->fired_at = ev_now(loop);
}

START_TEST(timers_fire_in_order_and_stop)
{
	struct ev_loop	*loop = ev_new();
	struct tick	 k[4];
	int		 order[4] = { 0 }, n = 0, i;
	const uint64_t	 ms[] = { 30, 10, 20, 15 };
	uint64_t	 start = ev_now(loop);

	for (i = 0; i < 4; i++) {
		k[i] = (struct tick){ .id = i, .order = order, .n = &n };
		ev_timer_init(&k[i].t, on_tick, &k[i]);
		ck_assert(!ev_timer_pending(&k[i].t));
		ck_assert_int_eq(ev_timer_start(loop, &k[i].t, ms[i]), 0);
		ck_assert(ev_timer_pending(&k[i].t));
	}
	ev_timer_stop(loop, &k[3].t);	/* 15 ms one never fires */
	ck_assert(!ev_timer_pending(&k[3].t));
	while (n < 3)
		ck_assert_int_ge(ev_run_once(loop, 1000), 0);
	ck_assert_int_eq(order[0], 1);
	ck_assert_int_eq(order[1], 2);
	ck_assert_int_eq(order[2], 0);
	ck_assert_uint_ge(k[0].fired_at - start, 30);
	ck_assert_uint_ge(k[1].fired_at - start, 10);
	ck_assert(!ev_timer_pending(&k[0].t));
	ev_free(loop);
}
END_TEST

/* The heap keeps order under many inserts and removals. */
#define NHEAP 2000
static uint64_t heap_last;
static int heap_bad, heap_fired;

static void
on_heap(struct ev_loop *loop, void *arg)
{
	struct ev_timer *t = arg;

	if (t->when < heap_last)
		heap_bad++;
	heap_last = t->when;
	heap_fired++;
}

START_TEST(timer_heap_order_many)
{
	struct ev_loop	*loop = ev_new();
	struct ev_timer	*t = calloc(NHEAP, sizeof(*t));
	int		 i, stopped = 0;

	srand(42);
	for (i = 0; i < NHEAP; i++) {
		ev_timer_init(&t[i], on_heap, &t[i]);
		ev_timer_start(loop, &t[i], rand() % 40);
	}
	for (i = 0; i < NHEAP; i += 3) {
		ev_timer_stop(loop, &t[i]);
		stopped++;
	}
	/* Re-arming moves a timer instead of duplicating it. */
	for (i = 1; i < NHEAP; i += 7)
		if (i % 3 != 0)
			ev_timer_start(loop, &t[i], rand() % 40);
	heap_last = 0;
	heap_bad = heap_fired = 0;
	while (heap_fired < NHEAP - stopped)
		ck_assert_int_ge(ev_run_once(loop, 1000), 0);
	ck_assert_int_eq(heap_bad, 0);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(heap_fired, NHEAP - stopped);
	free(t);
	ev_free(loop);
}
END_TEST

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	*(int *)arg = signo;
	ev_break(loop);
}

START_TEST(signal_through_signalfd)
{
	struct ev_loop	*loop = ev_new();
	int		 got = 0, got2 = 0;

	ck_assert_int_eq(ev_signal(loop, SIGUSR1, on_signal, &got), 0);
	ck_assert_int_eq(ev_signal(loop, SIGUSR2, on_signal, &got2), 0);
	ck_assert_int_eq(ev_signal(loop, 0, on_signal, &got), -1);
	raise(SIGUSR2);
	ck_assert_int_eq(ev_run(loop), 0);
	ck_assert_int_eq(got2, SIGUSR2);
	ck_assert_int_eq(got, 0);
	raise(SIGUSR1);
	ck_assert_int_eq(ev_run(loop), 0);
	ck_assert_int_eq(got, SIGUSR1);
	ev_free(loop);
}
END_TEST

/* A forked process keeping the loop (a daemon detaching) gets its own
 * signals once it has called ev_signal_forked. */
START_TEST(signal_after_fork)
{
	struct ev_loop	*loop = ev_new();
	int		 got = 0, status = -1;
	pid_t		 pid;

	ck_assert_int_eq(ev_signal(loop, SIGUSR1, on_signal, &got), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (ev_signal_forked(loop) == -1)
			_exit(2);
		raise(SIGUSR1);
		(void)ev_run_once(loop, 2000);
		_exit(got == SIGUSR1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ev_free(loop);
}
END_TEST

struct dstate {
	struct ev_deferred d;
	struct ev_deferred *victim;
	int	 runs;
	int	 requeue;
};

static void
on_defer(struct ev_loop *loop, void *arg)
{
	struct dstate *s = arg;

	s->runs++;
	if (s->victim != NULL)
		ev_defer_cancel(loop, s->victim);
	if (s->requeue-- > 0)
		ev_defer(loop, &s->d);
}

START_TEST(deferred_once_cancel_requeue)
{
	struct ev_loop	*loop = ev_new();
	struct dstate	 a = { 0 }, b = { 0 }, c = { 0 };

	ev_deferred_init(&a.d, on_defer, &a);
	ev_deferred_init(&b.d, on_defer, &b);
	ev_deferred_init(&c.d, on_defer, &c);
	ev_defer(loop, &a.d);
	ev_defer(loop, &a.d);		/* twice: runs once */
	ev_defer(loop, &b.d);
	ev_defer(loop, &c.d);
	a.victim = &b.d;		/* a cancels b, queued later in the batch */
	c.requeue = 1;			/* c runs again next iteration */
	ev_run_once(loop, 0);
	ck_assert_int_eq(a.runs, 1);
	ck_assert_int_eq(b.runs, 0);
	ck_assert_int_eq(c.runs, 1);
	ev_run_once(loop, 0);
	ck_assert_int_eq(c.runs, 2);
	ck_assert_int_eq(a.runs, 1);
	/* Cancel before the loop runs. */
	ev_defer(loop, &b.d);
	ev_defer_cancel(loop, &b.d);
	ev_defer(loop, &a.d);
	a.victim = NULL;
	ev_run_once(loop, 0);
	ck_assert_int_eq(b.runs, 0);
	ck_assert_int_eq(a.runs, 2);
	ev_free(loop);
}
END_TEST

static void
on_break(struct ev_loop *loop, void *arg)
{
	ev_break(loop);
}

START_TEST(run_until_break)
{
	struct ev_loop	*loop = ev_new();
	struct ev_timer	 t;
	uint64_t	 start = ev_now(loop);

	ev_timer_init(&t, on_break, NULL);
	ev_timer_start(loop, &t, 20);
	ck_assert_int_eq(ev_run(loop), 0);
	ck_assert_uint_ge(ev_now(loop) - start, 20);
	ev_free(loop);
}
END_TEST

/* ev_clock_us reads the clock in microseconds: 2 ms of sleep show as
 * 2000 us or more, and it agrees with the loop's millisecond time. */
START_TEST(clock_us)
{
	struct ev_loop	*loop = ev_new();
	uint64_t	 a, b;

	ck_assert_ptr_nonnull(loop);
	a = ev_clock_us();
	usleep(2000);
	b = ev_clock_us();
	ck_assert_uint_ge(b - a, 2000);
	ck_assert_uint_lt(b - a, 1000000);
	ev_update_now(loop);
	a = ev_clock_us() / 1000;
	ck_assert_uint_ge(a, ev_now(loop));
	ck_assert_uint_lt(a - ev_now(loop), 100);
	ev_free(loop);
}
END_TEST

Suite *
ev_suite(void)
{
	Suite	*s = suite_create("ev");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, clock_us);
	tcase_add_test(tc, fd_read_and_write_events);
	tcase_add_test(tc, fd_deleted_in_same_batch_not_called);
	tcase_add_test(tc, fd_close_without_del);
	tcase_add_test(tc, timers_fire_in_order_and_stop);
	tcase_add_test(tc, timer_heap_order_many);
	tcase_add_test(tc, signal_through_signalfd);
	tcase_add_test(tc, signal_after_fork);
	tcase_add_test(tc, deferred_once_cancel_requeue);
	tcase_add_test(tc, run_until_break);
	suite_add_tcase(s, tc);
	return s;
}
