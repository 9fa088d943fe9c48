/* stream — plain or TLS socket I/O and the fill/flush loops over it. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ev.h"
#include "stream.h"
#include "tls.h"

#define STREAM_READ_CHUNK	16384

ssize_t
stream_read(struct stream *s, void *p, size_t len, unsigned *want)
{
	ssize_t	 n;

	if (s->tls != NULL) {
		n = tls_read(s->tls, p, len);
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
			*want = tls_want_events((int)n);
			return STREAM_BLOCKED;
		}
		return n < 0 ? STREAM_ERROR : n;
	}
	n = read(s->fd, p, len);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR)) {
		*want = EV_READ;
		return STREAM_BLOCKED;
	}
	return n < 0 ? STREAM_ERROR : n;
}

ssize_t
stream_write(struct stream *s, const void *p, size_t len, unsigned *want)
{
	ssize_t	 n;

	if (s->tls != NULL) {
		n = tls_write(s->tls, p, len);
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
			*want = tls_want_events((int)n);
			return STREAM_BLOCKED;
		}
		return n < 0 ? STREAM_ERROR : n;
	}
	n = send(s->fd, p, len, MSG_NOSIGNAL | (s->more ? MSG_MORE : 0));
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR)) {
		*want = EV_WRITE;
		return STREAM_BLOCKED;
	}
	return n < 0 ? STREAM_ERROR : n;
}

bool
stream_pending(const struct stream *s)
{
	return s->tls != NULL && tls_pending(s->tls);
}

/* One read per call, more only while TLS holds decrypted bytes: epoll is
 * level-triggered, so reading on to EAGAIN would cost a wasted syscall
 * per request. */
int
stream_fill(struct stream *s, struct buf *b, unsigned *want)
{
	size_t	 room;
	ssize_t	 n;

	*want = EV_READ;
	do {
		room = b->max - buf_used(b);
		if (room == 0)
			return 1;
		if (buf_reserve(b, room < STREAM_READ_CHUNK ? room :
		    STREAM_READ_CHUNK) == -1)
			return STREAM_ERROR;
		n = stream_read(s, buf_tail(b), buf_room(b) < room ?
		    buf_room(b) : room, want);
		if (n == STREAM_BLOCKED)
			return 1;
		if (n <= 0)
			return (int)n;
		buf_commit(b, (size_t)n);
	} while (stream_pending(s));
	return 1;
}

int
stream_flush(struct stream *s, struct buf *b, unsigned *want)
{
	ssize_t	 n;

	while (buf_used(b) > 0) {
		n = stream_write(s, buf_head(b), buf_used(b), want);
		if (n < 0)
			return (int)n;
		buf_consume(b, (size_t)n);
	}
	return 1;
}
