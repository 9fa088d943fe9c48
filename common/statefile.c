/* statefile — reading a daemon's state file whole, and replacing it
 * atomically (temporary file, fsync, rename, fsync of the directory), so a
 * crash leaves the old file or the new one, never half of either; or
 * appending to it (a journal: fdatasync before returning, so only a torn
 * last line can be lost, which the reader then reports and skips). The
 * formats belong to the daemons (lbd_state.c, fwd_state.c). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "statefile.h"

/* 1048576 -> "1m", 65536 -> "64k", for messages. */
static const char *
size_name(size_t n, char *out, size_t outlen)
{
	if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
		snprintf(out, outlen, "%zum", n / (1024 * 1024));
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(out, outlen, "%zuk", n / 1024);
	else
		snprintf(out, outlen, "%zu bytes", n);
	return out;
}

int
state_file_read(const char *path, size_t max, struct buf *out, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 size[32];
	ssize_t		 n;
	int		 fd, saved;

	buf_init(out, max + 1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		saved = errno;
		seterr(err, errlen, "%s: %s", path, strerror(saved));
		goto fail;
	}
	saved = EINVAL;
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	while ((n = buf_read_fd(out, fd)) != 0) {
		if (n > 0 || errno == EINTR)
			continue;
		saved = errno;
		if (saved == ENOBUFS)
			seterr(err, errlen, "%s: larger than %s (not a state "
			    "file?)", path, size_name(max, size, sizeof(size)));
		else
			seterr(err, errlen, "%s: %s", path, strerror(saved));
		goto fail;
	}
	close(fd);
	return 0;
 fail:
	if (fd != -1)
		close(fd);
	buf_free(out);
	errno = saved;
	return -1;
}

/* fsync the directory holding path: the rename itself must be durable. */
/* All of p to fd; -1 with errno on failure. */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
sync_dir(const char *path, char *err, size_t errlen)
{
	char	*copy, *dir;
	int	 fd, rv = 0;

	if ((copy = strdup(path)) == NULL)
		return seterr(err, errlen, "%s: out of memory", path);
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		rv = seterr(err, errlen, "fsync directory %s: %s", dir,
		    strerror(errno));
	if (fd != -1)
		close(fd);
	free(copy);
	return rv;
}

int
state_file_write(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	const char	*p = data, *what = "write";
	char		*tmp;
	int		 fd;

	if (asprintf(&tmp, "%s.XXXXXX", path) == -1)
		return seterr(err, errlen, "%s: out of memory", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		seterr(err, errlen, "create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	/* Not secret: operators read it. */
	if (fchmod(fd, 0644) == -1)
		goto fail;
	if (write_all(fd, p, len) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return sync_dir(path, err, errlen);
 fail:
	seterr(err, errlen, "%s %s: %s", what, tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int
state_file_append(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	const char	*p = data;
	int		 fd, created = 0;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1 &&
	    errno == ENOENT) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		created = 1;
	}
	if (fd == -1)
		return seterr(err, errlen, "open %s: %s", path, strerror(errno));
	if (write_all(fd, p, len) == -1 || fdatasync(fd) == -1)
		goto fail;
	if (close(fd) == -1)
		return seterr(err, errlen, "close %s: %s", path,
		    strerror(errno));
	return created ? sync_dir(path, err, errlen) : 0;
 fail:
	seterr(err, errlen, "append to %s: %s", path, strerror(errno));
	close(fd);
	return -1;
}
