/* buf — growable byte buffers with hard caps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

#define BUF_MIN_ALLOC	256
#define BUF_READ_CHUNK	16384

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : BUF_MAX_DEFAULT;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t	 used = buf_used(b), want, ncap;
	char	*p;

	if (b->cap - b->len >= n)
		return 0;
	if (n > b->max || used > b->max - n) {
		errno = ENOBUFS;
		return -1;
	}
	want = used + n;
	/* Compact when that alone makes room and saves a reallocation. */
	if (b->off > 0 && want <= b->cap) {
		memmove(b->data, b->data + b->off, used);
		b->off = 0;
		b->len = used;
		return 0;
	}
	ncap = b->cap ? b->cap : BUF_MIN_ALLOC;
	while (ncap < want)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, used);
		b->off = 0;
		b->len = used;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= buf_used(b))
		b->off = b->len = 0;
	else
		b->off += n;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;

	/* buf_tail() of a never-allocated buffer would be NULL + 0. */
	if (b->data == NULL && buf_reserve(b, 1) == -1)
		return -1;
	va_copy(ap2, ap);
	n = vsnprintf(buf_tail(b), buf_room(b), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if ((size_t)n >= buf_room(b)) {
		/* +1 for the NUL vsnprintf insists on writing. */
		if (buf_reserve(b, (size_t)n + 1) == -1)
			return -1;
		vsnprintf(buf_tail(b), buf_room(b), fmt, ap);
	}
	b->len += n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 rv;

	va_start(ap, fmt);
	rv = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rv;
}

const char *
buf_cstr(struct buf *b)
{
	if (buf_reserve(b, 1) == -1) {
		/* Full to the cap: give up the last byte rather than overflow. */
		if (b->len == b->off)
			return "";
		b->len--;
	}
	b->data[b->len] = '\0';
	return buf_head(b);
}

ssize_t
buf_read_fd(struct buf *b, int fd)
{
	ssize_t	 n;
	size_t	 want = BUF_READ_CHUNK;

	if (buf_room(b) < want) {
		if (b->max - buf_used(b) < want)
			want = b->max - buf_used(b);
		if (want == 0 || buf_reserve(b, want) == -1) {
			errno = ENOBUFS;
			return -1;
		}
	}
	n = read(fd, buf_tail(b), buf_room(b));
	if (n > 0)
		b->len += n;
	return n;
}

ssize_t
buf_write_fd(struct buf *b, int fd)
{
	ssize_t	 n;

	if (buf_used(b) == 0)
		return 0;
	n = write(fd, buf_head(b), buf_used(b));
	if (n > 0)
		buf_consume(b, n);
	return n;
}
