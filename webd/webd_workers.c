/* webd workers — `workers N` (N > 1): the master's process table (fork,
 * reap, respawn, replace on reload, stop) and the life of a worker.
 *
 * The master binds every listener N times with SO_REUSEPORT and keeps
 * those sockets open for its whole life, so a connection waiting in a
 * socket's queue outlives any worker. Worker k accepts on socket k of
 * each listener with an event loop of its own. A reload bumps the shared
 * generation (old workers then accept nothing more), forks a new
 * generation with the new configuration and sends SIGTERM to the old one,
 * which finishes what it has and exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "tls.h"
#include "webd.h"

/* Process slots per worker index: the running generation and up to three
 * still draining; a reload that would need more is refused meanwhile. */
#define PROCS_PER_WORKER	4
#define RESPAWN_MIN_MS		1000	/* per worker index */

struct webd_proc {
	pid_t		 pid;		/* 0: slot free */
	int		 index;		/* its socket of each listener */
	bool		 draining;	/* told to stop: never respawned */
	uint64_t	 started;	/* ev_now() at the fork */
};

struct webd_workers {
	int		 n;
	int		 sock[WEBD_MAX_WORKERS][WEBD_MAX_LISTEN];
	/* proc[i] counts in shared->slot[i] */
	struct webd_proc proc[WEBD_MAX_WORKERS * PROCS_PER_WORKER];
	size_t		 nproc;
	size_t		 shared_len;
	uint64_t	 not_before[WEBD_MAX_WORKERS];	/* respawn, ev_now() */
	uint64_t	 restarts;
	bool		 stopping;
	struct ev_deferred spawn;
	struct ev_timer	 respawn;
};

/* ---- the worker process ---- */

static const int worker_signals[] = { SIGTERM, SIGINT, SIGUSR1 };

void
webd_worker_retire(struct webd *w)
{
	if (w->stopping)
		return;
	log_debug("worker %d: draining %zu connections", w->worker,
	    w->nconns);
	ev_timer_start(w->loop, &w->stop_timer, w->conf->svc.shutdown_ms);
	webd_serve_stop(w);
}

static void
worker_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct webd	*w = arg;
	char		 err[512];

	if (signo != SIGUSR1)
		webd_worker_retire(w);
	else if (webd_log_reopen(w, err, sizeof(err)) == -1)
		log_warnx("worker %d: reopen logs: %s", w->worker, err);
}

static void
worker_drained(struct webd *w)
{
	ev_break(w->loop);
}

static void
worker_deadline(struct ev_loop *loop, void *arg)
{
	struct webd	*w = arg;

	log_warnx("worker %d: graceful stop not finished in %llums: closing "
	    "%zu connections", w->worker,
	    (unsigned long long)w->conf->svc.shutdown_ms, w->nconns);
	ev_break(loop);
}

/* The master's state as fork left it, made a worker's: socket index of
 * each listener, its own slot, loop and signals, a reseeded TLS RNG. */
static int
worker_setup(struct webd *w, int index, size_t slot, char *err,
    size_t errlen)
{
	struct webd_workers *wk = w->wk;
	size_t		 i;
	int		 k, l;

	w->loop = NULL;		/* the master's, gone with service_forked */
	w->worker = index;
	for (k = 0; k < wk->n; k++)
		for (l = 0; l < w->nlfd; l++) {
			if (k == index)
				w->lfd[l] = wk->sock[k][l];
			else
				close(wk->sock[k][l]);
		}
	w->stats = &w->shared->slot[slot];
	w->conns = NULL;
	w->nconns = 0;
	w->drained = worker_drained;
	ev_timer_init(&w->stop_timer, worker_deadline, w);
	/* Blocked since the master's loop took it: ignoring drops it. */
	signal(SIGHUP, SIG_IGN);
	for (l = 0; l < w->nlfd; l++)
		if (tls_config_forked(w->ltls[l], err, errlen) == -1)
			return -1;
	if ((w->loop = ev_new()) == NULL)
		return seterr(err, errlen, "event loop: %s", strerror(errno));
	alog_forked(&w->alog, w->loop);
	for (i = 0; i < sizeof(worker_signals) / sizeof(worker_signals[0]); i++)
		if (ev_signal(w->loop, worker_signals[i], worker_signal, w) == -1)
			return seterr(err, errlen, "signal %d: %s",
			    worker_signals[i], strerror(errno));
	return webd_serve(w, err, errlen);
}

static void
worker_cleanup(struct webd *w)
{
	int	 l;

	if (w->loop == NULL)
		return;
	ev_timer_stop(w->loop, &w->stop_timer);
	w->stopping = false;
	webd_conns_close_all(w);
	alog_close(&w->alog);
	for (l = 0; l < w->nlfd; l++)
		if (w->lfd[l] != -1) {
			ev_fd_del(w->loop, w->lfd[l]);
			close(w->lfd[l]);
		}
	/* Not ev_free: unblocking would let a SIGTERM or SIGUSR1 that came
	 * meanwhile kill us with its default action instead of exit(). */
	ev_abandon(w->loop);
}

static _Noreturn void
worker_main(struct webd *w, int index, size_t slot, pid_t master)
{
	char	 err[512];
	int	 rv = 1;

	service_forked(w->svc);
	/* A master that dies without stopping us is a SIGTERM (drain). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != master)
		exit(1);
	if (worker_setup(w, index, slot, err, sizeof(err)) == -1)
		log_warnx("worker %d: %s", index, err);
	else
		rv = ev_run(w->loop) == 0 ? 0 : 1;
	worker_cleanup(w);
	exit(rv);
}

/* ---- the master ---- */

static size_t
live_count(const struct webd_workers *wk, bool draining)
{
	size_t	 i, n = 0;

	for (i = 0; i < wk->nproc; i++)
		if (wk->proc[i].pid != 0 && wk->proc[i].draining == draining)
			n++;
	return n;
}

/* The running generation's worker for index, or NULL. */
static struct webd_proc *
current(struct webd_workers *wk, int index)
{
	size_t	 i;

	for (i = 0; i < wk->nproc; i++)
		if (wk->proc[i].pid != 0 && !wk->proc[i].draining &&
		    wk->proc[i].index == index)
			return &wk->proc[i];
	return NULL;
}

static int
spawn(struct webd *w, int index)
{
	struct webd_workers *wk = w->wk;
	pid_t		 master = getpid(), pid;
	size_t		 slot;

	for (slot = 0; slot < wk->nproc && wk->proc[slot].pid != 0; slot++)
		;
	if (slot == wk->nproc) {
		log_warnx("worker %d: all %zu process slots busy", index,
		    wk->nproc);
		return -1;
	}
	fflush(NULL);	/* or the child would write it again at exit */
	if ((pid = fork()) == -1) {
		log_warn("worker %d: fork", index);
		return -1;
	}
	if (pid == 0)
		worker_main(w, index, slot, master);
	wk->proc[slot] = (struct webd_proc){ pid, index, false,
	    ev_now(w->loop) };
	log_info("worker %d started, pid %ld", index, (long)pid);
	return 0;
}

/* Fork every worker index the running generation lacks, each at most once
 * a second; the timer retries what has to wait. */
static void
spawn_missing(struct webd *w)
{
	struct webd_workers *wk = w->wk;
	uint64_t	 now = ev_now(w->loop), wait = UINT64_MAX;
	int		 k;

	if (wk->stopping)
		return;
	for (k = 0; k < wk->n; k++) {
		if (current(wk, k) != NULL)
			continue;
		if (now >= wk->not_before[k] && spawn(w, k) == 0)
			continue;
		if (now >= wk->not_before[k])	/* fork failed */
			wk->not_before[k] = now + RESPAWN_MIN_MS;
		if (wk->not_before[k] - now < wait)
			wait = wk->not_before[k] - now;
	}
	if (wait != UINT64_MAX)
		ev_timer_start(w->loop, &wk->respawn, wait);
}

static void
spawn_cb(struct ev_loop *loop, void *arg)
{
	spawn_missing(arg);
}

static void
exit_status_str(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
}

static void
reaped(struct webd *w, struct webd_proc *p, int status)
{
	struct webd_workers *wk = w->wk;
	struct webd_stats *slot = &w->shared->slot[p - wk->proc];
	char		 how[64];

	/* Its counts stay in the totals (counters never go down); its
	 * connections are gone with it. The slot is free for another. */
	webd_stats_add(&w->retired, slot);
	w->retired.conns = 0;
	memset(slot, 0, sizeof(*slot));
	exit_status_str(status, how, sizeof(how));
	if (!p->draining && !wk->stopping) {
		wk->restarts++;
		wk->not_before[p->index] = p->started + RESPAWN_MIN_MS;
		log_warnx("worker %d (pid %ld) %s: respawning", p->index,
		    (long)p->pid, how);
	} else if (status != 0)
		log_warnx("worker %d (pid %ld) %s while draining", p->index,
		    (long)p->pid, how);
	else
		log_debug("worker %d (pid %ld) done", p->index, (long)p->pid);
	p->pid = 0;
}

static void
on_sigchld(struct ev_loop *loop, int signo, void *arg)
{
	struct webd	*w = arg;
	struct webd_workers *wk = w->wk;
	pid_t		 pid;
	size_t		 i;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < wk->nproc; i++)
			if (wk->proc[i].pid == pid)
				reaped(w, &wk->proc[i], status);
	if (!wk->stopping)
		spawn_missing(w);
	else if (live_count(wk, true) + live_count(wk, false) == 0)
		service_stopped(w->svc);
}

/* signo to every worker; with retire only to those not told to stop yet,
 * which are then draining. */
static void
signal_all(struct webd_workers *wk, int signo, bool retire)
{
	struct webd_proc *p;

	for (p = wk->proc; p < wk->proc + wk->nproc; p++) {
		if (p->pid == 0 || (retire && p->draining))
			continue;
		p->draining |= retire;
		if (kill(p->pid, signo) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)p->pid);
	}
}

static void
set_generation(struct webd *w, uint64_t gen)
{
	__atomic_store_n(&w->shared->gen, gen, __ATOMIC_RELAXED);
}

int
webd_workers_start(struct webd *w, char *err, size_t errlen)
{
	struct webd_workers *wk;
	void		*shared;
	int		 k, l;

	if ((wk = calloc(1, sizeof(*wk))) == NULL)
		return seterr(err, errlen, "workers: %s", strerror(errno));
	w->wk = wk;
	for (k = 0; k < WEBD_MAX_WORKERS; k++)
		for (l = 0; l < WEBD_MAX_LISTEN; l++)
			wk->sock[k][l] = -1;
	wk->n = (int)w->conf->workers;
	wk->nproc = (size_t)wk->n * PROCS_PER_WORKER;
	ev_deferred_init(&wk->spawn, spawn_cb, w);
	ev_timer_init(&wk->respawn, spawn_cb, w);
	/* Made before any fork, so every worker shares it. */
	wk->shared_len = sizeof(struct webd_shared) +
	    wk->nproc * sizeof(struct webd_stats);
	shared = mmap(NULL, wk->shared_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return seterr(err, errlen, "workers: mmap: %s", strerror(errno));
	w->shared = shared;
	w->slots = w->shared->slot;
	w->nslots = wk->nproc;
	w->stats = &w->retired;		/* the master serves nothing */
	for (k = 0; k < wk->n; k++)
		if (webd_bind(w, wk->sock[k], err, errlen) == -1)
			return -1;
	if (ev_signal(w->loop, SIGCHLD, on_sigchld, w) == -1)
		return seterr(err, errlen, "signal SIGCHLD: %s", strerror(errno));
	/* Forked from the loop: after the service detached and dropped
	 * privileges, so workers are the daemon's children. Connections
	 * wait in the sockets' queues until then. */
	ev_defer(w->loop, &wk->spawn);
	return 0;
}

int
webd_workers_reload_check(struct webd *w, char *err, size_t errlen)
{
	struct webd_workers *wk = w->wk;
	size_t		 busy = live_count(wk, true) + live_count(wk, false);

	if (wk->nproc - busy < (size_t)wk->n)
		return seterr(err, errlen, "workers: %zu processes of earlier "
		    "generations still draining: try again when they are done",
		    live_count(wk, true));
	return 0;
}

void
webd_workers_reload(struct webd *w)
{
	struct webd_workers *wk = w->wk;

	if (wk->stopping)
		return;
	/* Old workers accept nothing from now on, SIGTERM or not. */
	set_generation(w, ++w->gen);
	signal_all(wk, SIGTERM, true);
	memset(wk->not_before, 0, sizeof(wk->not_before));
	ev_defer(w->loop, &wk->spawn);
	log_info("reload: starting %d workers, %zu draining", wk->n,
	    live_count(wk, true));
}

void
webd_workers_stop(struct webd *w)
{
	struct webd_workers *wk = w->wk;

	wk->stopping = true;
	set_generation(w, WEBD_GEN_STOP);
	ev_defer_cancel(w->loop, &wk->spawn);
	ev_timer_stop(w->loop, &wk->respawn);
	signal_all(wk, SIGTERM, true);
	if (live_count(wk, true) == 0)
		service_stopped(w->svc);
}

void
webd_workers_signal(struct webd *w, int signo)
{
	if (w->wk != NULL)
		signal_all(w->wk, signo, false);
}

static void
status_line(struct webd *w, struct ctl_conn *cc, const struct webd_proc *p)
{
	struct webd_stats t = { 0 };

	webd_stats_add(&t, &w->shared->slot[p - w->wk->proc]);
	ctl_printf(cc, "worker: %d pid %ld requests %llu%s\n", p->index,
	    (long)p->pid, (unsigned long long)webd_stats_requests(&t),
	    p->draining ? " draining" : "");
}

/* The running generation by index, then those still draining. */
void
webd_workers_status(struct webd *w, struct ctl_conn *cc)
{
	struct webd_workers *wk = w->wk;
	struct webd_proc *p;
	size_t		 i;
	int		 k;

	if (wk == NULL)
		return;
	for (k = 0; k < wk->n; k++) {
		if ((p = current(wk, k)) != NULL)
			status_line(w, cc, p);
		else
			ctl_printf(cc, "worker: %d starting\n", k);
	}
	for (i = 0; i < wk->nproc; i++)
		if (wk->proc[i].pid != 0 && wk->proc[i].draining)
			status_line(w, cc, &wk->proc[i]);
}

size_t
webd_workers_running(const struct webd *w)
{
	return w->wk != NULL ? live_count(w->wk, false) : 1;
}

uint64_t
webd_workers_restarts(const struct webd *w)
{
	return w->wk != NULL ? w->wk->restarts : 0;
}

void
webd_workers_cleanup(struct webd *w)
{
	struct webd_workers *wk = w->wk;
	size_t		 i, left;
	int		 k, l;

	if (wk == NULL)
		return;
	ev_defer_cancel(w->loop, &wk->spawn);
	ev_timer_stop(w->loop, &wk->respawn);
	/* The stop deadline passed (or start failed): none may outlive us. */
	if ((left = live_count(wk, true) + live_count(wk, false)) > 0)
		log_warnx("killing %zu workers still running", left);
	signal_all(wk, SIGKILL, false);
	for (i = 0; i < wk->nproc; i++)
		while (wk->proc[i].pid != 0 &&
		    waitpid(wk->proc[i].pid, NULL, 0) == -1 && errno == EINTR)
			;
	for (k = 0; k < WEBD_MAX_WORKERS; k++)
		for (l = 0; l < WEBD_MAX_LISTEN; l++)
			if (wk->sock[k][l] != -1)
				close(wk->sock[k][l]);
	if (w->shared != NULL)
		munmap(w->shared, wk->shared_len);
	w->shared = NULL;
	w->stats = w->slots = &w->own;
	w->nslots = 1;
	free(wk);
	w->wk = NULL;
}
