/* ag_spool — an output's disk spool (see ag_spool.h for the format). */
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "ag_spool.h"

struct seg {
	uint32_t	 num;
	uint64_t	 size;
};

struct queue {
	struct seg	*segs;		/* ascending */
	size_t		 nsegs, capsegs;
	struct ag_spool_pos head;	/* the cursor */
	uint64_t	 records;
	int		 wfd;		/* appends to the last segment */
	uint32_t	 wseg;
	bool		 dirty;		/* appended since the last sync */
	int		 rfd;
	uint32_t	 rseg;
};

struct ag_spool {
	char		*dir;
	uint64_t	 max_bytes;
	uint64_t	 seg_bytes;
	struct queue	 q[AG_SPOOL_NQ];
};

static const char *const queue_names[AG_SPOOL_NQ] = { "logs", "metrics" };

const char *
ag_spool_queue_name(enum ag_spool_queue q)
{
	return q < AG_SPOOL_NQ ? queue_names[q] : "?";
}

uint32_t
ag_crc32(const void *p, size_t len)
{
	static const uint32_t tab[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
		0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	const unsigned char *b = p;
	uint32_t	 crc = 0xffffffffu;

	while (len-- > 0) {
		crc ^= *b++;
		crc = (crc >> 4) ^ tab[crc & 15];
		crc = (crc >> 4) ^ tab[crc & 15];
	}
	return ~crc;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
seg_path(const struct ag_spool *s, enum ag_spool_queue q, uint32_t num,
    char *path, size_t len)
{
	int	 n = snprintf(path, len, "%s/%08" PRIu32 ".%s", s->dir, num,
	    queue_names[q]);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
cursor_path(const struct ag_spool *s, enum ag_spool_queue q, const char *sfx,
    char *path, size_t len)
{
	int	 n = snprintf(path, len, "%s/%s.acked%s", s->dir, queue_names[q],
	    sfx);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static struct seg *
seg_find(struct queue *qq, uint32_t num)
{
	size_t	 i;

	for (i = 0; i < qq->nsegs; i++)
		if (qq->segs[i].num == num)
			return &qq->segs[i];
	return NULL;
}

static int
seg_push(struct queue *qq, uint32_t num, uint64_t size)
{
	struct seg	*n;
	size_t		 cap;

	if (qq->nsegs == qq->capsegs) {
		cap = qq->capsegs ? qq->capsegs * 2 : 8;
		if ((n = reallocarray(qq->segs, cap, sizeof(*n))) == NULL)
			return -1;
		qq->segs = n;
		qq->capsegs = cap;
	}
	qq->segs[qq->nsegs].num = num;
	qq->segs[qq->nsegs].size = size;
	qq->nsegs++;
	return 0;
}

static void
close_fds(struct queue *qq, uint32_t num)
{
	if (qq->wfd != -1 && qq->wseg == num) {
		close(qq->wfd);
		qq->wfd = -1;
	}
	if (qq->rfd != -1 && qq->rseg == num) {
		close(qq->rfd);
		qq->rfd = -1;
	}
}

/* Drop the first segment from the list and the disk. */
static void
seg_delete_first(struct ag_spool *s, enum ag_spool_queue q)
{
	struct queue	*qq = &s->q[q];
	char		 path[PATH_MAX];

	close_fds(qq, qq->segs[0].num);
	if (seg_path(s, q, qq->segs[0].num, path, sizeof(path)) == 0 &&
	    unlink(path) == -1 && errno != ENOENT)
		log_warn("spool: unlink %s", path);
	memmove(&qq->segs[0], &qq->segs[1], (qq->nsegs - 1) * sizeof(*qq->segs));
	qq->nsegs--;
}

/* Move the head onto the first segment if it points below it (deleting
 * segments before it) and, once sizes are known, past segments it has
 * finished, deleting them. */
static void
head_normalize(struct ag_spool *s, enum ag_spool_queue q, bool sizes_known)
{
	struct queue	*qq = &s->q[q];

	while (qq->nsegs > 0) {
		if (qq->segs[0].num < qq->head.seg) {
			seg_delete_first(s, q);
			continue;
		}
		if (qq->segs[0].num > qq->head.seg) {
			qq->head.seg = qq->segs[0].num;
			qq->head.off = 0;
		}
		if (sizes_known && qq->nsegs > 1 &&
		    qq->head.off >= qq->segs[0].size) {
			seg_delete_first(s, q);
			qq->head.seg = qq->segs[0].num;
			qq->head.off = 0;
			continue;
		}
		break;
	}
}

static int
read_cursor(struct ag_spool *s, enum ag_spool_queue q, char *err,
    size_t errlen)
{
	struct queue	*qq = &s->q[q];
	char		 path[PATH_MAX], line[64];
	unsigned long long seg, off;
	FILE		*fp;
	int		 ok;

	qq->head.seg = 1;
	qq->head.off = 0;
	if (cursor_path(s, q, "", path, sizeof(path)) == -1)
		return seterr(err, errlen, "spool %s: path too long", s->dir);
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return seterr(err, errlen, "spool: %s: %s", path,
		    strerror(errno));
	}
	ok = fgets(line, sizeof(line), fp) != NULL &&
	    sscanf(line, "%llu %llu", &seg, &off) == 2 && seg >= 1 &&
	    seg <= UINT32_MAX;
	fclose(fp);
	if (!ok) {
		log_warnx("spool: %s: not \"SEG OFFSET\"; starting from the "
		    "oldest segment", path);
		qq->head.seg = 0;
		return 0;
	}
	qq->head.seg = (uint32_t)seg;
	qq->head.off = off;
	return 0;
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

static int
list_segments(struct ag_spool *s, char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	char		 ext[16];
	unsigned long	 num;
	char		*end;
	int		 q;

	if ((d = opendir(s->dir)) == NULL)
		return seterr(err, errlen, "spool: %s: %s", s->dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) < 10 || de->d_name[8] != '.')
			continue;
		errno = 0;
		num = strtoul(de->d_name, &end, 10);
		if (end != de->d_name + 8 || num == 0 || num > UINT32_MAX)
			continue;
		snprintf(ext, sizeof(ext), "%s", de->d_name + 9);
		for (q = 0; q < AG_SPOOL_NQ; q++)
			if (strcmp(ext, queue_names[q]) == 0 &&
			    seg_push(&s->q[q], (uint32_t)num, 0) == -1) {
				closedir(d);
				return seterr(err, errlen, "out of memory");
			}
	}
	closedir(d);
	for (q = 0; q < AG_SPOOL_NQ; q++)
		if (s->q[q].nsegs > 1)
			qsort(s->q[q].segs, s->q[q].nsegs, sizeof(struct seg),
			    seg_cmp);
	return 0;
}

/* Check the records of one segment from off; cut a torn or corrupt tail. */
static int
seg_recover(struct ag_spool *s, enum ag_spool_queue q, struct seg *sg,
    uint64_t off, char *err, size_t errlen)
{
	struct queue	*qq = &s->q[q];
	char		 path[PATH_MAX];
	unsigned char	 hdr[AG_SPOOL_HDR];
	char		*rec = NULL;
	struct stat	 st;
	uint32_t	 len;
	ssize_t		 n;
	int		 fd;
	const char	*why = NULL;

	if (seg_path(s, q, sg->num, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDWR | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		seterr(err, errlen, "spool: %s: %s", path, strerror(errno));
		return -1;
	}
	sg->size = (uint64_t)st.st_size;
	if (off > sg->size)
		off = sg->size;
	while (off < sg->size) {
		if (sg->size - off < AG_SPOOL_HDR) {
			why = "a cut header";
			break;
		}
		if ((n = pread(fd, hdr, sizeof(hdr), (off_t)off)) !=
		    (ssize_t)sizeof(hdr)) {
			why = "an unreadable header";
			break;
		}
		len = get32(hdr);
		if (len > AG_SPOOL_REC_MAX) {
			why = "a bad length";
			break;
		}
		if (sg->size - off - AG_SPOOL_HDR < len) {
			why = "a cut record";
			break;
		}
		free(rec);
		if ((rec = malloc(len ? len : 1)) == NULL) {
			close(fd);
			return seterr(err, errlen, "out of memory");
		}
		if (pread(fd, rec, len, (off_t)(off + AG_SPOOL_HDR)) !=
		    (ssize_t)len) {
			why = "an unreadable record";
			break;
		}
		if (ag_crc32(rec, len) != get32(hdr + 4)) {
			why = "a bad CRC";
			break;
		}
		off += AG_SPOOL_HDR + len;
		qq->records++;
	}
	free(rec);
	if (why != NULL) {
		log_warnx("spool: %s: %s at offset %" PRIu64 " (a write cut "
		    "short by a crash?): dropping the last %" PRIu64 " bytes",
		    path, why, off, sg->size - off);
		if (ftruncate(fd, (off_t)off) == -1) {
			seterr(err, errlen, "spool: truncate %s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		sg->size = off;
	}
	close(fd);
	return 0;
}

/* mkdir -p with mode 0700 for what it makes. */
static int
make_dirs(const char *dir)
{
	char	 p[PATH_MAX];
	size_t	 i;

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (i = 1; p[i] != '\0'; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return -1;
		p[i] = '/';
	}
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

struct ag_spool *
ag_spool_open(const char *dir, uint64_t max_bytes, uint64_t seg_bytes,
    char *err, size_t errlen)
{
	struct ag_spool	*s;
	struct queue	*qq;
	size_t		 i;
	int		 q;

	if (make_dirs(dir) == -1) {
		seterr(err, errlen, "spool: mkdir %s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->dir = strdup(dir)) == NULL) {
		free(s);
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	s->max_bytes = max_bytes;
	s->seg_bytes = seg_bytes ? seg_bytes : AG_SPOOL_SEG_DEFAULT;
	for (q = 0; q < AG_SPOOL_NQ; q++) {
		s->q[q].wfd = s->q[q].rfd = -1;
	}
	if (list_segments(s, err, errlen) == -1)
		goto fail;
	for (q = 0; q < AG_SPOOL_NQ; q++) {
		qq = &s->q[q];
		if (read_cursor(s, q, err, errlen) == -1)
			goto fail;
		head_normalize(s, q, false);
		for (i = 0; i < qq->nsegs; i++)
			if (seg_recover(s, q, &qq->segs[i], qq->segs[i].num ==
			    qq->head.seg ? qq->head.off : 0, err, errlen) == -1)
				goto fail;
		if (qq->nsegs > 0 && qq->head.off > qq->segs[0].size)
			qq->head.off = qq->segs[0].size;
		head_normalize(s, q, true);
	}
	return s;
fail:
	ag_spool_close(s);
	return NULL;
}

void
ag_spool_close(struct ag_spool *s)
{
	int	 q;

	if (s == NULL)
		return;
	for (q = 0; q < AG_SPOOL_NQ; q++) {
		if (s->q[q].wfd != -1)
			close(s->q[q].wfd);
		if (s->q[q].rfd != -1)
			close(s->q[q].rfd);
		free(s->q[q].segs);
	}
	free(s->dir);
	free(s);
}

void
ag_spool_set_max(struct ag_spool *s, uint64_t max_bytes)
{
	s->max_bytes = max_bytes;
}

uint64_t
ag_spool_max(const struct ag_spool *s)
{
	return s->max_bytes;
}

static uint64_t
queue_bytes(const struct queue *qq)
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < qq->nsegs; i++) {
		if (qq->segs[i].num < qq->head.seg)
			continue;
		n += qq->segs[i].size;
		if (qq->segs[i].num == qq->head.seg)
			n -= qq->head.off < qq->segs[i].size ? qq->head.off :
			    qq->segs[i].size;
	}
	return n;
}

uint64_t
ag_spool_bytes(const struct ag_spool *s, enum ag_spool_queue q)
{
	uint64_t	 n = 0;
	int		 i;

	if (q < AG_SPOOL_NQ)
		return queue_bytes(&s->q[q]);
	for (i = 0; i < AG_SPOOL_NQ; i++)
		n += queue_bytes(&s->q[i]);
	return n;
}

uint64_t
ag_spool_records(const struct ag_spool *s, enum ag_spool_queue q)
{
	if (q < AG_SPOOL_NQ)
		return s->q[q].records;
	return s->q[AG_SPOOL_LOGS].records + s->q[AG_SPOOL_METRICS].records;
}

size_t
ag_spool_segments(const struct ag_spool *s, enum ag_spool_queue q)
{
	return s->q[q].nsegs;
}

/* The segment appends go to, opened (and made) as needed. */
static struct seg *
write_seg(struct ag_spool *s, enum ag_spool_queue q)
{
	struct queue	*qq = &s->q[q];
	struct seg	*last = qq->nsegs ? &qq->segs[qq->nsegs - 1] : NULL;
	char		 path[PATH_MAX];
	uint32_t	 num;

	if (last != NULL && last->size < s->seg_bytes) {
		if (qq->wfd != -1 && qq->wseg == last->num)
			return last;
		num = last->num;
	} else {
		if (last != NULL)
			num = last->num + 1;
		else
			num = qq->head.off == 0 && qq->head.seg > 0 ?
			    qq->head.seg : qq->head.seg + 1;
		if (qq->wfd != -1) {
			if (qq->dirty && fdatasync(qq->wfd) == -1)
				log_warn("spool: fdatasync");
			close(qq->wfd);
			qq->wfd = -1;
			qq->dirty = false;
		}
	}
	if (seg_path(s, q, num, path, sizeof(path)) == -1 ||
	    (qq->wfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return NULL;
	qq->wseg = num;
	if (last == NULL || last->num != num) {
		if (seg_push(qq, num, 0) == -1) {
			close(qq->wfd);
			qq->wfd = -1;
			return NULL;
		}
		if (qq->nsegs == 1) {
			qq->head.seg = num;
			qq->head.off = 0;
		}
	}
	return &qq->segs[qq->nsegs - 1];
}

int
ag_spool_append(struct ag_spool *s, enum ag_spool_queue q, const void *rec,
    size_t len)
{
	struct queue	*qq = &s->q[q];
	unsigned char	 hdr[AG_SPOOL_HDR];
	struct iovec	 iov[2];
	struct seg	*sg;
	ssize_t		 n;
	int		 saved;

	if (len > AG_SPOOL_REC_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (ag_spool_bytes(s, AG_SPOOL_NQ) + AG_SPOOL_HDR + len >
	    s->max_bytes) {
		errno = ENOSPC;
		return -1;
	}
	if ((sg = write_seg(s, q)) == NULL)
		return -1;
	put32(hdr, (uint32_t)len);
	put32(hdr + 4, ag_crc32(rec, len));
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)rec;
	iov[1].iov_len = len;
	n = writev(qq->wfd, iov, 2);
	if (n != (ssize_t)(sizeof(hdr) + len)) {
		saved = n == -1 ? errno : ENOSPC;
		if (n > 0 && ftruncate(qq->wfd, (off_t)sg->size) == -1)
			log_warn("spool: cutting back a short write");
		errno = saved;
		return -1;
	}
	sg->size += (uint64_t)n;
	qq->records++;
	qq->dirty = true;
	return 0;
}

int
ag_spool_sync(struct ag_spool *s, char *err, size_t errlen)
{
	int	 q, rc = 0;

	for (q = 0; q < AG_SPOOL_NQ; q++) {
		if (s->q[q].wfd == -1 || !s->q[q].dirty)
			continue;
		if (fdatasync(s->q[q].wfd) == -1)
			rc = seterr(err, errlen, "spool %s: fdatasync: %s",
			    s->dir, strerror(errno));
		else
			s->q[q].dirty = false;
	}
	return rc;
}

struct ag_spool_pos
ag_spool_head(const struct ag_spool *s, enum ag_spool_queue q)
{
	return s->q[q].head;
}

int
ag_spool_read(struct ag_spool *s, enum ag_spool_queue q,
    struct ag_spool_pos *pos, struct buf *out)
{
	struct queue	*qq = &s->q[q];
	char		 path[PATH_MAX];
	unsigned char	 hdr[AG_SPOOL_HDR];
	struct seg	*sg;
	uint32_t	 len;
	size_t		 i;

	for (;;) {
		if ((sg = seg_find(qq, pos->seg)) == NULL) {
			/* Below the first segment (deleted): start there. */
			for (i = 0; i < qq->nsegs; i++)
				if (qq->segs[i].num > pos->seg)
					break;
			if (i == qq->nsegs)
				return 0;
			pos->seg = qq->segs[i].num;
			pos->off = 0;
			continue;
		}
		if (pos->off < sg->size)
			break;
		if (sg == &qq->segs[qq->nsegs - 1])
			return 0;
		pos->seg = sg[1].num;
		pos->off = 0;
	}
	if (qq->rfd == -1 || qq->rseg != sg->num) {
		if (qq->rfd != -1)
			close(qq->rfd);
		if (seg_path(s, q, sg->num, path, sizeof(path)) == -1 ||
		    (qq->rfd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			qq->rfd = -1;
			return -1;
		}
		qq->rseg = sg->num;
	}
	if (pread(qq->rfd, hdr, sizeof(hdr), (off_t)pos->off) !=
	    (ssize_t)sizeof(hdr)) {
		errno = EIO;
		return -1;
	}
	len = get32(hdr);
	buf_reset(out);
	if (len > AG_SPOOL_REC_MAX || buf_reserve(out, len ? len : 1) == -1) {
		errno = ENOBUFS;
		return -1;
	}
	if (pread(qq->rfd, buf_tail(out), len, (off_t)(pos->off +
	    AG_SPOOL_HDR)) != (ssize_t)len ||
	    ag_crc32(buf_tail(out), len) != get32(hdr + 4)) {
		errno = EIO;
		return -1;
	}
	buf_commit(out, len);
	pos->off += AG_SPOOL_HDR + len;
	return 1;
}

static int
write_cursor(struct ag_spool *s, enum ag_spool_queue q, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX], tmp[PATH_MAX], line[64];
	int	 fd, n;

	if (cursor_path(s, q, "", path, sizeof(path)) == -1 ||
	    cursor_path(s, q, ".tmp", tmp, sizeof(tmp)) == -1)
		return seterr(err, errlen, "spool %s: path too long", s->dir);
	n = snprintf(line, sizeof(line), "%" PRIu32 " %" PRIu64 "\n",
	    s->q[q].head.seg, s->q[q].head.off);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return seterr(err, errlen, "spool: %s: %s", tmp,
		    strerror(errno));
	if (write(fd, line, (size_t)n) != n || fdatasync(fd) == -1) {
		seterr(err, errlen, "spool: writing %s: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		seterr(err, errlen, "spool: rename %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
ag_spool_ack(struct ag_spool *s, enum ag_spool_queue q,
    struct ag_spool_pos pos, uint64_t nrec, char *err, size_t errlen)
{
	struct queue	*qq = &s->q[q];
	int		 rc;

	qq->head = pos;
	qq->records = nrec < qq->records ? qq->records - nrec : 0;
	/* The cursor first: a crash between the two leaves segments the
	 * next start deletes, never a cursor into a missing segment. */
	rc = write_cursor(s, q, err, errlen);
	head_normalize(s, q, true);
	return rc;
}
