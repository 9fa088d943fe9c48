/* buf — growable byte buffer with a hard cap.
 *
 * Bytes live in data[off .. len); free room is data[len .. cap). A buffer
 * never grows past max: an append that would returns -1 with ENOBUFS and
 * leaves the contents unchanged, so callers count the overflow and close. */
#ifndef STACKD_BUF_H
#define STACKD_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

struct buf {
	char	*data;
	size_t	 off;	/* first unread byte */
	size_t	 len;	/* end of stored bytes */
	size_t	 cap;	/* allocated */
	size_t	 max;	/* hard cap on cap; 0 means BUF_MAX_DEFAULT */
};

#define BUF_MAX_DEFAULT	(1024 * 1024)

void	 buf_init(struct buf *, size_t max);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);

static inline size_t buf_used(const struct buf *b) { return b->len - b->off; }
static inline char *buf_head(const struct buf *b) { return b->data + b->off; }
static inline char *buf_tail(const struct buf *b) { return b->data + b->len; }
static inline size_t buf_room(const struct buf *b) { return b->cap - b->len; }

/* Make room for n more bytes (compacting before growing). 0 or -1/ENOBUFS. */
int	 buf_reserve(struct buf *, size_t n);
/* After writing n bytes at buf_tail(). */
void	 buf_commit(struct buf *, size_t n);
/* Drop n bytes from the head. */
void	 buf_consume(struct buf *, size_t n);

int	 buf_append(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *fmt, va_list)
	    __attribute__((format(printf, 2, 0)));
/* NUL-terminate the contents without counting the NUL (for string use). */
const char *buf_cstr(struct buf *);

/* Read once from fd into free room, growing up to limit bytes of room.
 * Returns bytes read, 0 on EOF, -1 with errno (EAGAIN, ENOBUFS when full). */
ssize_t	 buf_read_fd(struct buf *, int fd);
/* Write as much of the contents as the fd takes and consume it. */
ssize_t	 buf_write_fd(struct buf *, int fd);

#endif
