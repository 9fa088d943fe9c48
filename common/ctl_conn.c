/* ctl_conn — one control connection: read the request line, hand it to
 * the dispatcher, write the reply or the stream, close.
 *
 * A connection is freed only from its own deferred callback (or by
 * ctl_server_free), never inside a callback that may still use it: every
 * way of ending one marks it dead and queues that callback. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "ctl_int.h"
#include "ev.h"
#include "log.h"

#define CTL_DRAIN_MAX		65536	/* unread input discarded at close */

static void	conn_io(struct ev_loop *, int, unsigned, void *);
static void	conn_timeout(struct ev_loop *, void *);
static void	conn_service(struct ev_loop *, void *);

/* Read what the client sent and close: closing a Unix socket with unread
 * input makes the client's read fail with ECONNRESET after our reply. */
static void
drain_close(int fd)
{
	char	 scratch[4096];
	size_t	 total = 0;
	ssize_t	 n;

	while (total < CTL_DRAIN_MAX &&
	    (n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	close(fd);
}

/* Turn a client away before it gets a connection: a fresh socket's send
 * buffer is empty, so the line goes out at once. */
void
ctl_reject(int fd, const char *msg)
{
	char	 line[128];
	int	 n;

	n = snprintf(line, sizeof(line), "error: %s\n", msg);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	drain_close(fd);
}

/* Take fd, a peer already let in, as a new connection. */
void
ctl_conn_open(struct ctl_server *srv, int fd, const struct ucred *cred)
{
	struct ctl_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: %s", __func__, srv->path);
		ctl_reject(fd, "out of memory");
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->state = CONN_READING;
	c->uid = cred->uid;
	c->gid = cred->gid;
	c->pid = cred->pid;
	/* Room for the longest line with its CR LF. */
	buf_init(&c->in, CTL_LINE_MAX + 2);
	buf_init(&c->out, srv->limits.output_max);
	ev_timer_init(&c->timer, conn_timeout, c);
	ev_deferred_init(&c->service, conn_service, c);
	if (ev_fd_add(srv->loop, fd, EV_READ, conn_io, c) == -1 ||
	    ev_timer_start(srv->loop, &c->timer,
	    srv->limits.timeout_ms) == -1) {
		log_warn("%s: %s: watch connection", __func__, srv->path);
		ev_fd_del(srv->loop, fd);
		free(c);
		ctl_reject(fd, "out of memory");
		return;
	}
	LIST_INSERT_HEAD(&srv->conns, c, entry);
	srv->stats.active++;
}

void
ctl_conn_free(struct ctl_conn *c)
{
	struct ctl_server *srv = c->srv;

	ev_timer_stop(srv->loop, &c->timer);
	ev_defer_cancel(srv->loop, &c->service);
	ev_fd_del(srv->loop, c->fd);
	drain_close(c->fd);
	c->fd = -1;
	c->state = CONN_DEAD;
	LIST_REMOVE(c, entry);
	srv->stats.active--;
	buf_free(&c->in);
	buf_free(&c->out);
	/* Output calls the callback makes on c fail harmlessly: it is dead. */
	if (c->on_close != NULL)
		c->on_close(c, c->cbarg);
	free(c);
}

static void
conn_kill(struct ctl_conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_DEAD;
	ev_timer_stop(c->srv->loop, &c->timer);
	ev_defer(c->srv->loop, &c->service);
}

static void
conn_interest(struct ctl_conn *c)
{
	unsigned want;

	want = (c->rd_eof ? 0 : EV_READ) |
	    (buf_used(&c->out) > 0 ? EV_WRITE : 0);
	if (ev_fd_mod(c->srv->loop, c->fd, want) == -1) {
		log_warn("%s: %s", __func__, c->srv->path);
		conn_kill(c);
	}
}

static void
conn_flush(struct ctl_conn *c)
{
	struct ctl_server *srv = c->srv;
	bool		 progress = false;
	ssize_t		 n;

	while (buf_used(&c->out) > 0) {
		n = send(c->fd, buf_head(&c->out), buf_used(&c->out),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			c->flushed = progress = true;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		log_debug("%s: %s: uid %u pid %d: send: %s", __func__,
		    srv->path, (unsigned)c->uid, (int)c->pid, strerror(errno));
		conn_kill(c);
		return;
	}
	if (c->state == CONN_ENDING) {
		if (buf_used(&c->out) == 0) {
			conn_kill(c);
			return;
		}
		if (progress)
			ev_timer_start(srv->loop, &c->timer,
			    srv->limits.stall_ms);
	}
	conn_interest(c);
}

static void
conn_service(struct ev_loop *loop, void *arg)
{
	struct ctl_conn *c = arg;

	if (c->state == CONN_DEAD)
		ctl_conn_free(c);
	else if (c->state == CONN_STREAMING || c->state == CONN_ENDING)
		conn_flush(c);
}

static void
conn_timeout(struct ev_loop *loop, void *arg)
{
	struct ctl_conn	*c = arg;

	c->srv->stats.timeouts++;
	if (c->state == CONN_READING) {
		log_debug("%s: %s: uid %u pid %d: no request in %u ms",
		    __func__, c->srv->path, (unsigned)c->uid, (int)c->pid,
		    c->srv->limits.timeout_ms);
		ctl_conn_fail(c, "timeout");
	} else {
		log_debug("%s: %s: uid %u pid %d: reply stalled, %zu bytes "
		    "unread", __func__, c->srv->path, (unsigned)c->uid,
		    (int)c->pid, buf_used(&c->out));
		conn_kill(c);
	}
}

/* Output is refused once the reply is ending, or after an overflow. */
static int
conn_writable(struct ctl_conn *c)
{
	if (c->state != CONN_HANDLING && c->state != CONN_STREAMING) {
		errno = EPIPE;
		return -1;
	}
	if (c->overflow) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

/* After output was added: a stream sends it on the next deferred run. */
static void
conn_wrote(struct ctl_conn *c)
{
	if (c->state == CONN_STREAMING)
		ev_defer(c->srv->loop, &c->service);
}

/* A reply over the cap: a stream has fallen behind and is dropped; a
 * plain reply becomes an error at ctl_end. */
static int
conn_overflow(struct ctl_conn *c)
{
	/* Gone while making room: not an overflow. */
	if (c->state == CONN_DEAD) {
		errno = EPIPE;
		return -1;
	}
	c->srv->stats.overflows++;
	if (c->state == CONN_STREAMING) {
		log_warnx("%s: %s: uid %u pid %d: dropped, %zu bytes of output "
		    "not read", __func__, c->srv->path, (unsigned)c->uid,
		    (int)c->pid, buf_used(&c->out));
		conn_kill(c);
	} else
		c->overflow = true;
	errno = ENOBUFS;
	return -1;
}

static int
conn_status_ok(struct ctl_conn *c)
{
	if (c->status_sent)
		return 0;
	c->status_sent = true;
	if (buf_append(&c->out, "ok\n", 3) == -1)
		return conn_overflow(c);
	return 0;
}

/* One line, at most CTL_ERROR_MAX bytes (a cut is marked with "..."),
 * control characters turned into spaces. */
static void
conn_verror(struct ctl_conn *c, const char *fmt, va_list ap)
{
	char	 msg[CTL_ERROR_MAX + 1];
	size_t	 cut, i;
	int	 n;

	if (c->state == CONN_ENDING || c->state == CONN_DEAD)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unprintable error message)");
	else if ((size_t)n >= sizeof(msg)) {
		/* Cut on a UTF-8 character boundary. */
		cut = sizeof(msg) - 4;
		while (cut > 0 && ((unsigned char)msg[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(msg + cut, "...", 4);
	}
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = ' ';
	c->srv->stats.errors++;
	if (!c->flushed) {
		buf_reset(&c->out);
		c->overflow = false;
	}
	c->status_sent = true;
	/* Appends, not buf_printf: out may not be allocated yet. */
	if (buf_puts(&c->out, "error: ") == -1 ||
	    buf_puts(&c->out, msg) == -1 || buf_append(&c->out, "\n", 1) == -1)
		(void)conn_overflow(c);
	else
		conn_wrote(c);
}

void
ctl_conn_fail(struct ctl_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conn_verror(c, fmt, ap);
	va_end(ap);
	ctl_end(c);
}

static void
conn_read_request(struct ctl_conn *c)
{
	char	*head, *nl;
	ssize_t	 n;

	for (;;) {
		n = buf_read_fd(&c->in, c->fd);
		if (n > 0) {
			head = buf_head(&c->in);
			nl = memchr(head, '\n', buf_used(&c->in));
			if (nl != NULL) {
				ctl_dispatch(c, (size_t)(nl - head));
				return;
			}
			if (buf_used(&c->in) > CTL_LINE_MAX + 1) {
				ctl_conn_fail(c, "request too long (max %d "
				    "bytes)", CTL_LINE_MAX);
				return;
			}
			continue;
		}
		if (n == 0) {
			c->rd_eof = true;
			/* Connected and left without a word: nothing to say. */
			if (buf_used(&c->in) == 0)
				conn_kill(c);
			else
				ctl_conn_fail(c, "request not terminated by a "
				    "newline");
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if (errno == ENOBUFS) {
			ctl_conn_fail(c, "request too long (max %d bytes)",
			    CTL_LINE_MAX);
			return;
		}
		log_debug("%s: %s: uid %u pid %d: read: %s", __func__,
		    c->srv->path, (unsigned)c->uid, (int)c->pid,
		    strerror(errno));
		conn_kill(c);
		return;
	}
}

/* After the request, input only tells when the client goes away. A shut
 * write side (echo watch | socat) is not the end of a stream: EPOLLHUP,
 * when the client closes for good, is. */
static void
conn_read_discard(struct ctl_conn *c)
{
	char	 scratch[4096];
	ssize_t	 n;
	int	 i;

	for (i = 0; i < 16; i++) {
		if ((n = recv(c->fd, scratch, sizeof(scratch),
		    MSG_DONTWAIT)) > 0)
			continue;
		if (n == 0) {
			c->rd_eof = true;
			conn_interest(c);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			conn_kill(c);
		return;
	}
}

static void
conn_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct ctl_conn	*c = arg;

	switch (c->state) {
	case CONN_READING:
		/* Read even on EPOLLHUP: the request may be waiting. */
		conn_read_request(c);
		return;
	case CONN_STREAMING:
	case CONN_ENDING:
		if (events & EV_ERROR) {
			conn_kill(c);
			return;
		}
		if (events & EV_READ)
			conn_read_discard(c);
		if ((events & EV_WRITE) && c->state != CONN_DEAD)
			conn_flush(c);
		return;
	case CONN_HANDLING:
	case CONN_DEAD:
		return;
	}
}

void
ctl_reply_ok(struct ctl_conn *c)
{
	if (conn_writable(c) == 0 && conn_status_ok(c) == 0)
		conn_wrote(c);
}

void
ctl_reply_error(struct ctl_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conn_verror(c, fmt, ap);
	va_end(ap);
}

/* A full buffer on a stream: hand the socket what it takes now, so that
 * only a client that really falls behind is dropped, not a burst. */
static bool
conn_make_room(struct ctl_conn *c)
{
	size_t	 before = buf_used(&c->out);

	if (c->state != CONN_STREAMING)
		return false;
	conn_flush(c);
	return c->state == CONN_STREAMING && buf_used(&c->out) < before;
}

int
ctl_printf(struct ctl_conn *c, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	if (conn_writable(c) == -1 || conn_status_ok(c) == -1)
		return -1;
	va_start(ap, fmt);
	rc = buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (rc == -1 && conn_make_room(c)) {
		va_start(ap, fmt);
		rc = buf_vprintf(&c->out, fmt, ap);
		va_end(ap);
	}
	if (rc == -1)
		return conn_overflow(c);
	conn_wrote(c);
	return 0;
}

int
ctl_write(struct ctl_conn *c, const void *data, size_t len)
{
	if (conn_writable(c) == -1 || conn_status_ok(c) == -1)
		return -1;
	if (buf_append(&c->out, data, len) == -1 &&
	    (!conn_make_room(c) || buf_append(&c->out, data, len) == -1))
		return conn_overflow(c);
	conn_wrote(c);
	return 0;
}

void
ctl_end(struct ctl_conn *c)
{
	struct ctl_server *srv = c->srv;

	if (c->state == CONN_ENDING || c->state == CONN_DEAD)
		return;
	if (c->overflow)
		ctl_reply_error(c, "reply too large (over %zu bytes)",
		    srv->limits.output_max);
	/* Fails only with output_max below a status line. */
	if (conn_status_ok(c) == -1) {
		conn_kill(c);
		return;
	}
	c->state = CONN_ENDING;
	ev_timer_start(srv->loop, &c->timer, srv->limits.stall_ms);
	ev_defer(srv->loop, &c->service);
}

void
ctl_stream(struct ctl_conn *c, ctl_close_cb on_close, void *arg)
{
	if (c->state != CONN_HANDLING)
		fatalx("%s: only a running handler may stream", __func__);
	c->state = CONN_STREAMING;
	c->on_close = on_close;
	c->cbarg = arg;
	/* Already over the cap (counted then): nothing good to send. */
	if (c->overflow)
		conn_kill(c);
	else
		ev_defer(c->srv->loop, &c->service);
}

uid_t
ctl_conn_uid(const struct ctl_conn *c)
{
	return c->uid;
}

gid_t
ctl_conn_gid(const struct ctl_conn *c)
{
	return c->gid;
}

pid_t
ctl_conn_pid(const struct ctl_conn *c)
{
	return c->pid;
}
