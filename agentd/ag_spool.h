/* ag_spool — an output's disk spool: pure file operations, no event loop.
 *
 * One directory per output (made 0700, with any missing parents) holds AG_SPOOL_NQ queues of
 * records ("logs" and "metrics"). Each queue is a run of segment files
 * NNNNNNNN.<queue> (appended to, a new one past seg_bytes) and a cursor
 * file <queue>.acked ("SEG OFFSET\n", written to a temporary file, synced
 * and renamed over the old one) that says where the unacknowledged
 * records start. A record on disk is a header of 8 bytes — its payload
 * length and the CRC-32 of the payload, both little-endian 32-bit — and
 * the payload.
 *
 * Opening recovers: the records after each cursor are read back and
 * checked; the first one that is cut short or fails its CRC (a crash in
 * the middle of an append) ends its segment, which is truncated there,
 * with a log line saying how many bytes went. Segments before the
 * cursor's are deleted.
 *
 * The bound counts the bytes of unacknowledged records (headers
 * included) over all queues: an append past it is refused. A segment
 * is deleted only once the cursor has moved past its end (ack). */
#ifndef AG_SPOOL_H
#define AG_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

enum ag_spool_queue { AG_SPOOL_LOGS, AG_SPOOL_METRICS, AG_SPOOL_NQ };

#define AG_SPOOL_HDR		8
#define AG_SPOOL_REC_MAX	(16u * 1024 * 1024)	/* payload bytes */
#define AG_SPOOL_SEG_DEFAULT	(4u * 1024 * 1024)

/* A place in a queue: segment number and byte offset in it. */
struct ag_spool_pos {
	uint32_t	 seg;
	uint64_t	 off;
};

struct ag_spool;

/* seg_bytes 0: AG_SPOOL_SEG_DEFAULT. NULL and err on failure. */
struct ag_spool	*ag_spool_open(const char *dir, uint64_t max_bytes,
		    uint64_t seg_bytes, char *err, size_t errlen);
void		 ag_spool_close(struct ag_spool *);
void		 ag_spool_set_max(struct ag_spool *, uint64_t max_bytes);
const char	*ag_spool_queue_name(enum ag_spool_queue);

/* 0; -1 with errno ENOSPC when the bound would be passed, EMSGSIZE for a
 * payload over AG_SPOOL_REC_MAX, or the error of the write (the segment
 * is cut back to where it was). */
int		 ag_spool_append(struct ag_spool *, enum ag_spool_queue,
		    const void *rec, size_t len);
/* fdatasync every segment appended to since the last sync. 0 or -1. */
int		 ag_spool_sync(struct ag_spool *, char *err, size_t errlen);

/* Where a queue's unacknowledged records start. */
struct ag_spool_pos ag_spool_head(const struct ag_spool *, enum ag_spool_queue);
/* Read the record at *pos into out (replacing its contents, up to its
 * cap) and move *pos past it. 1, 0 at the end of the queue, -1 on a read
 * error or a record out grows past its cap (errno). */
int		 ag_spool_read(struct ag_spool *, enum ag_spool_queue,
		    struct ag_spool_pos *pos, struct buf *out);
/* The records of q up to pos (as ag_spool_read left it after the last
 * one sent), nrec of them, are delivered: write the cursor, delete the
 * segments wholly before it. 0, or -1 and err (the cursor on disk is
 * then the old one; the counts move anyway). */
int		 ag_spool_ack(struct ag_spool *, enum ag_spool_queue,
		    struct ag_spool_pos pos, uint64_t nrec, char *err,
		    size_t errlen);

/* Unacknowledged records and their bytes (headers included): one queue,
 * or all with q == AG_SPOOL_NQ. */
uint64_t	 ag_spool_records(const struct ag_spool *, enum ag_spool_queue);
uint64_t	 ag_spool_bytes(const struct ag_spool *, enum ag_spool_queue);
uint64_t	 ag_spool_max(const struct ag_spool *);
/* Segment files present (tests). */
size_t		 ag_spool_segments(const struct ag_spool *, enum ag_spool_queue);

uint32_t	 ag_crc32(const void *, size_t);

#endif
