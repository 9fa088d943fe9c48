/* statefile — a daemon's state file read whole and replaced atomically. */
#ifndef STACKD_STATEFILE_H
#define STACKD_STATEFILE_H

#include <stddef.h>

#include "buf.h"

/* The whole file into out, which the call initializes (at most max bytes):
 * 0, the caller frees out; or -1 with err and errno (ENOENT: no file yet),
 * out left empty. */
int	 state_file_read(const char *path, size_t max, struct buf *out,
	    char *err, size_t errlen);
/* Replace path with data (mode 0644): a temporary file beside it, fsync,
 * rename over path, fsync of the directory. 0, or -1 with err (the old
 * file stays unless only the directory's fsync failed). */
int	 state_file_write(const char *path, const void *data, size_t len,
	    char *err, size_t errlen);

/* Append data to path (created mode 0644 if missing), then fdatasync: 0, or
 * -1 with err (part of data may have been written). */
int	 state_file_append(const char *path, const void *data, size_t len,
	    char *err, size_t errlen);

#endif
