/* alog — buffered access log with deferred writes (see alog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "alog.h"
#include "log.h"

static void
alog_flush_cb(struct ev_loop *loop, void *arg)
{
	alog_flush(arg);
}

void
alog_init(struct alog *a, struct ev_loop *loop, size_t max_buffered)
{
	a->fd = -1;
	a->loop = loop;
	buf_init(&a->buf, max_buffered);
	ev_deferred_init(&a->flush, alog_flush_cb, a);
}

void
alog_forked(struct alog *a, struct ev_loop *loop)
{
	a->loop = loop;
	ev_deferred_init(&a->flush, alog_flush_cb, a);
}

int
alog_open(const char *path, char *err, size_t errlen)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		return seterr(err, errlen, "access-log %s: %s", path,
		    strerror(errno));
	return fd;
}

void
alog_flush(struct alog *a)
{
	ssize_t	 n;

	while (a->fd != -1 && buf_used(&a->buf) > 0) {
		if ((n = write(a->fd, buf_head(&a->buf),
		    buf_used(&a->buf))) <= 0) {
			log_warn("access log: write");
			break;
		}
		buf_consume(&a->buf, (size_t)n);
	}
	buf_reset(&a->buf);
}

void
alog_use(struct alog *a, int fd)
{
	alog_flush(a);
	if (a->fd != -1)
		close(a->fd);
	a->fd = fd;
}

int
alog_printf(struct alog *a, const char *fmt, ...)
{
	va_list	 ap;
	int	 rv;

	if (a->fd == -1)
		return 0;
	va_start(ap, fmt);
	rv = buf_vprintf(&a->buf, fmt, ap);
	va_end(ap);
	if (rv == -1) {
		alog_flush(a);
		va_start(ap, fmt);
		rv = buf_vprintf(&a->buf, fmt, ap);
		va_end(ap);
	}
	ev_defer(a->loop, &a->flush);
	return rv;
}

void
alog_close(struct alog *a)
{
	if (a->loop == NULL)
		return;
	alog_use(a, -1);
	ev_defer_cancel(a->loop, &a->flush);
	buf_free(&a->buf);
}
