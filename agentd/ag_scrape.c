/* agentd's daemon scraper: every interval, each configured stackd daemon
 * is asked for `metrics` over its control socket, without blocking the
 * loop (a non-blocking connect to the Unix socket, the request line, the
 * reply read to its end under a deadline). The last good reply is kept,
 * with a daemon="NAME" label on every sample; a daemon that does not
 * answer shows as stackd_agentd_daemon_up{daemon} 0 and keeps nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "stream.h"
#include "agentd.h"
#include "ag_prom.h"
#include "ag_scrape.h"

#define SCRAPE_MAX	(8 * 1024 * 1024)	/* one daemon's reply */

struct ag_target {
	struct ag_scrape *sc;
	char		*name;
	char		*socket;
	int		 fd;
	struct buf	 in, out;
	struct buf	 last;		/* relabelled, the last good reply */
	bool		 up;
	uint64_t	 started_us;
	double		 duration;
	char		 error[128];
};

struct ag_scrape {
	struct ev_loop	*loop;
	struct ag_target *t;
	int		 n;
	int		 pending;
	struct ev_timer	 deadline;
	void		(*done)(void *);
	void		*arg;
	struct metric	*m_up, *m_duration;
};

static void
target_end(struct ag_target *t, bool ok, const char *why)
{
	struct ag_scrape *sc = t->sc;
	const char	*payload;
	size_t		 n;

	if (t->fd == -1)
		return;
	ev_fd_close(sc->loop, t->fd);
	t->fd = -1;
	t->duration = (double)(ev_clock_us() - t->started_us) / 1e6;
	buf_reset(&t->last);
	t->up = false;
	if (ok) {
		/* "ok\n" then the exposition; an error line is a failure. */
		payload = buf_head(&t->in);
		n = buf_used(&t->in);
		if (n >= 3 && memcmp(payload, "ok\n", 3) == 0) {
			/* process_*: agentd has them per daemon
			 * (stackd_process_*), and its own would clash. */
			if (ag_prom_relabel(payload + 3, n - 3, "daemon",
			    t->name, 0, true, "process_", &t->last) == 0)
				t->up = true;
			else
				why = "reply too large";
		} else
			why = "error reply";
	}
	snprintf(t->error, sizeof(t->error), "%s", t->up ? "" : why);
	if (!t->up)
		log_debug("scrape %s (%s): %s", t->name, t->socket, why);
	buf_reset(&t->in);
	gauge_set(metric_with(sc->m_up, (const char *const[]){ t->name, NULL }),
	    t->up);
	gauge_set(metric_with(sc->m_duration, (const char *const[]){ t->name,
	    NULL }), t->duration);
	if (--sc->pending == 0) {
		ev_timer_stop(sc->loop, &sc->deadline);
		sc->done(sc->arg);
	}
}

static void
target_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct ag_target *t = arg;
	struct stream	 st = { .fd = fd };
	unsigned	 want;
	int		 rv;

	(void)loop;
	if (buf_used(&t->out) > 0) {
		if (stream_flush(&st, &t->out, &want) == STREAM_ERROR) {
			target_end(t, false, strerror(errno));
			return;
		}
		if (buf_used(&t->out) > 0)
			return;
		ev_fd_mod(t->sc->loop, fd, EV_READ);
		shutdown(fd, SHUT_WR);
		if ((events & EV_READ) == 0)
			return;
	}
	rv = stream_fill(&st, &t->in, &want);
	if (rv == STREAM_ERROR)
		target_end(t, false, strerror(errno));
	else if (rv == 0)
		target_end(t, true, NULL);
	else if (buf_used(&t->in) >= SCRAPE_MAX)
		target_end(t, false, "reply too large");
}

static void
target_start(struct ag_target *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ag_scrape *sc = t->sc;

	t->started_us = ev_clock_us();
	buf_reset(&t->in);
	buf_reset(&t->out);
	sc->pending++;
	if (strlen(t->socket) >= sizeof(sun.sun_path)) {
		sc->pending--;
		snprintf(t->error, sizeof(t->error), "socket path too long");
		return;
	}
	memcpy(sun.sun_path, t->socket, strlen(t->socket));
	if ((t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		sc->pending--;
		snprintf(t->error, sizeof(t->error), "socket: %s",
		    strerror(errno));
		return;
	}
	if (connect(t->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		char	 why[128];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		/* Registered first so target_end can close it. */
		if (ev_fd_add(sc->loop, t->fd, 0, target_io, t) == -1) {
			close(t->fd);
			t->fd = -1;
			sc->pending--;
			return;
		}
		target_end(t, false, why);
		return;
	}
	if (buf_puts(&t->out, "metrics\n") == -1 ||
	    ev_fd_add(sc->loop, t->fd, EV_WRITE, target_io, t) == -1) {
		close(t->fd);
		t->fd = -1;
		sc->pending--;
	}
}

static void
deadline_hit(struct ev_loop *loop, void *arg)
{
	struct ag_scrape *sc = arg;
	int		 i;

	(void)loop;
	for (i = 0; i < sc->n && sc->pending > 0; i++)
		if (sc->t[i].fd != -1)
			target_end(&sc->t[i], false, "no answer in time");
}

/* A gauge labelled by daemon, registered by the first scraper: a reload
 * builds a new scraper on the same registry. */
static struct metric *
daemon_gauge(struct metrics *m, const char *name, const char *help)
{
	struct metric	*f;

	if ((f = metrics_find(m, name)) != NULL)
		return f;
	return metrics_gauge(m, name, help,
	    (const char *const[]){ "daemon", NULL });
}

struct ag_scrape *
ag_scrape_new(struct ev_loop *loop, struct metrics *m,
    const struct ag_daemon_conf *daemons, int n, void (*done)(void *),
    void *arg)
{
	struct ag_scrape *sc;
	int		 i;

	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->t = calloc((size_t)(n > 0 ? n : 1), sizeof(*sc->t))) == NULL) {
		free(sc);
		return NULL;
	}
	sc->loop = loop;
	sc->done = done;
	sc->arg = arg;
	sc->n = n;
	ev_timer_init(&sc->deadline, deadline_hit, sc);
	sc->m_up = daemon_gauge(m, "daemon_up", "1 when the daemon's metrics "
	    "were read at the last collection.");
	sc->m_duration = daemon_gauge(m, "daemon_scrape_duration_seconds",
	    "How long reading the daemon's metrics took.");
	for (i = 0; i < n; i++) {
		struct ag_target *t = &sc->t[i];

		t->sc = sc;
		t->fd = -1;
		buf_init(&t->in, SCRAPE_MAX);
		buf_init(&t->out, 0);
		buf_init(&t->last, 2 * SCRAPE_MAX);
		if ((t->name = strdup(daemons[i].name)) == NULL ||
		    (t->socket = strdup(daemons[i].socket)) == NULL) {
			ag_scrape_free(sc);
			return NULL;
		}
	}
	if (sc->m_up == NULL || sc->m_duration == NULL) {
		ag_scrape_free(sc);
		return NULL;
	}
	return sc;
}

void
ag_scrape_start(struct ag_scrape *sc, uint64_t timeout_ms)
{
	int	 i;

	if (sc->pending > 0)
		return;		/* the last round is still running */
	for (i = 0; i < sc->n; i++)
		target_start(&sc->t[i]);
	if (sc->pending == 0) {
		sc->done(sc->arg);
		return;
	}
	ev_timer_start(sc->loop, &sc->deadline, timeout_ms);
}

bool
ag_scrape_busy(const struct ag_scrape *sc)
{
	return sc->pending > 0;
}

int
ag_scrape_render(const struct ag_scrape *sc, struct buf *out)
{
	int	 i;

	for (i = 0; i < sc->n; i++)
		if (sc->t[i].up && buf_append(out, buf_head(&sc->t[i].last),
		    buf_used(&sc->t[i].last)) == -1)
			return -1;
	return 0;
}

void
ag_scrape_status(const struct ag_scrape *sc, struct ctl_conn *cc)
{
	int	 i;

	for (i = 0; i < sc->n; i++)
		ctl_printf(cc, "daemon %s: %s %s, %.1f ms%s%s\n", sc->t[i].name,
		    sc->t[i].socket, sc->t[i].up ? "up" : "down",
		    sc->t[i].duration * 1000, sc->t[i].up ? "" : ": ",
		    sc->t[i].error);
}

void
ag_scrape_free(struct ag_scrape *sc)
{
	int	 i;

	if (sc == NULL)
		return;
	ev_timer_stop(sc->loop, &sc->deadline);
	for (i = 0; i < sc->n; i++) {
		struct ag_target *t = &sc->t[i];

		if (t->fd >= 0)
			ev_fd_close(sc->loop, t->fd);
		buf_free(&t->in);
		buf_free(&t->out);
		buf_free(&t->last);
		free(t->name);
		free(t->socket);
	}
	free(sc->t);
	free(sc);
}
