/* ag_host_proc — the ag_host collectors that walk more than one file:
 * processes (one scan of /proc, which also finds the stackd daemons),
 * tcpstat (/proc/net/tcp{,6}) and filesystem (mounts + statvfs). */
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "ag_host_int.h"

static const char *const lbl_daemon[] = { "daemon", NULL };
static const char *const lbl_state[] = { "state", NULL };
static const char *const lbl_fs[] = { "device", "fstype", "mountpoint",
    NULL };

/* processes and daemons */

static const struct {
	const char	*name, *help;
} procs_rows[4] = {
	{ "node_processes_pids", "Number of PIDs" },
	{ "node_processes_threads", "Allocated threads in system" },
	{ "node_processes_max_processes", "Number of max PIDs limit" },
	{ "node_processes_max_threads", "Limit of threads in the system" },
};

enum { D_CPU, D_RSS, D_FDS, D_COUNT, D_NFAMS };

static const struct {
	const char	*name, *help;
	int		 counter;
} dmn_rows[D_NFAMS] = {
	{ "stackd_process_cpu_seconds_total",
	    "User and system CPU time of the daemon's processes (one that "
	    "exited keeps what it had spent when last seen).", 1 },
	{ "stackd_process_resident_memory_bytes",
	    "Resident memory of the daemon's processes.", 0 },
	{ "stackd_process_open_fds",
	    "Open file descriptors of the daemon's processes.", 0 },
	/* not stackd_process_count: _count is a histogram's suffix */
	{ "stackd_processes", "Processes running the daemon.", 0 },
};

/* The stat line fields after "(comm) ", counted from the state. rss is
 * the resident pages statm gives too: one file read per process. */
enum { PS_STATE = 0, PS_UTIME = 11, PS_STIME = 12, PS_THREADS = 17,
	PS_START = 19, PS_RSS = 21, PS_NFIELDS = 22 };

/* Entries of an open directory, by getdents64 into buf (opendir would
 * allocate its own buffer each time). fn returns nonzero to stop. The
 * /proc scan uses h->dbuf; a dir_each called from its fn (count_fds) must
 * pass a buffer of its own, or it overwrites the records being walked (a
 * zero d_reclen there made agentd spin forever). */
static int
dir_each(struct ag_host *h, int fd, char *buf, size_t cap,
    int (*fn)(struct ag_host *, const char *, void *), void *arg)
{
	struct dirent64	*d;
	ssize_t		 n, off;

	for (;;) {
		if ((n = getdents64(fd, buf, cap)) == -1)
			return -1;
		if (n == 0)
			return 0;
		for (off = 0; off < n; off += d->d_reclen) {
			d = (struct dirent64 *)(void *)(buf + off);
			if (d->d_name[0] == '.')
				continue;
			if (fn(h, d->d_name, arg) != 0)
				return 0;
		}
	}
}

static int
count_one(struct ag_host *h, const char *name, void *arg)
{
	(void)h; (void)name;
	(*(uint64_t *)arg)++;
	return 0;
}

/* Open fds of a process, or -1 when its fd directory is not readable
 * (another user's daemon without CAP_DAC_READ_SEARCH). */
static int64_t
count_fds(struct ag_host *h, const char *pid)
{
	char	 path[300];
	char	 dbuf[4096] __attribute__((aligned(8)));	/* not h->dbuf: see dir_each */
	uint64_t n = 0;
	int	 fd, rc;

	snprintf(path, sizeof(path), "%s/fd", pid);
	if ((fd = openat(h->procfd, path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	rc = dir_each(h, fd, dbuf, sizeof(dbuf), count_one, &n);
	close(fd);
	return rc == 0 ? (int64_t)n : -1;
}

struct scan {
	uint64_t	 pids, threads;
	uint64_t	 states[128];
	uint64_t	*rss, *fds, *count;	/* per daemon */
};

/* CPU ticks a daemon process spent since it was last seen. */
static uint64_t
pid_ticks(struct ag_host *h, pid_t pid, uint64_t start, uint64_t ticks)
{
	struct ag_pidcpu *e, *ne;
	uint64_t	 d;
	size_t		 i, ncap;

	for (i = 0; i < h->npidcpu; i++) {
		e = &h->pidcpu[i];
		if (e->pid != pid || e->start != start)
			continue;
		d = ticks >= e->ticks ? ticks - e->ticks : 0;
		e->ticks = ticks;
		e->seen = 1;
		return d;
	}
	if (h->npidcpu == h->pidcpucap) {
		if (h->pidcpucap >= AG_PIDCPU_MAX)
			return 0;	/* not counted rather than twice */
		ncap = h->pidcpucap != 0 ? h->pidcpucap * 2 : 16;
		if ((ne = reallocarray(h->pidcpu, ncap, sizeof(*ne))) == NULL)
			return 0;
		h->pidcpu = ne;
		h->pidcpucap = ncap;
	}
	e = &h->pidcpu[h->npidcpu++];
	e->pid = pid;
	e->start = start;
	e->ticks = ticks;
	e->seen = 1;
	return ticks;
}

static int
scan_pid(struct ag_host *h, const char *name, void *arg)
{
	struct scan	*sc = arg;
	const char	*f[PS_NFIELDS], *p, *w, *comm, *rp;
	char		 line[1024], path[300];
	uint64_t	 utime, stime, threads, start, rss;
	ssize_t		 n;
	size_t		 i, wl, clen;
	int		 fd;

	if (name[0] < '0' || name[0] > '9')
		return 0;
	snprintf(path, sizeof(path), "%s/stat", name);
	if ((fd = openat(h->procfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;		/* gone since the readdir */
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	line[n] = '\0';
	/* "pid (comm) S ...": comm may hold spaces and parentheses. */
	if ((comm = strchr(line, '(')) == NULL ||
	    (rp = strrchr(line, ')')) == NULL || rp < comm)
		return 0;
	comm++;
	clen = (size_t)(rp - comm);
	for (p = rp + 1, i = 0; i < PS_NFIELDS; i++) {
		if ((p = ag_word(p, &w, &wl)) == NULL)
			return 0;
		f[i] = w;
	}
	if (ag_u64(f[PS_UTIME], &utime) == NULL ||
	    ag_u64(f[PS_STIME], &stime) == NULL ||
	    ag_u64(f[PS_THREADS], &threads) == NULL ||
	    ag_u64(f[PS_START], &start) == NULL ||
	    ag_u64(f[PS_RSS], &rss) == NULL)
		return 0;
	sc->pids++;
	sc->threads += threads;
	sc->states[(unsigned char)f[PS_STATE][0] & 127]++;
	for (i = 0; i < h->ndaemons; i++) {
		int64_t nfd;

		if (strlen(h->daemons[i]) != clen ||
		    memcmp(h->daemons[i], comm, clen) != 0)
			continue;
		sc->count[i]++;
		sc->rss[i] += rss * (uint64_t)h->pagesize;
		h->dmn_ticks[i] += pid_ticks(h, (pid_t)atoi(name), start,
		    utime + stime);
		if ((nfd = count_fds(h, name)) >= 0)
			sc->fds[i] += (uint64_t)nfd;
		break;
	}
	return 0;
}

static int
read_u64_file(struct ag_host *h, struct ag_file *f, uint64_t *v)
{
	size_t	 len;

	if (ag_read(h, f, &len) == -1 || ag_u64(h->buf, v) == NULL)
		return -1;
	return 0;
}

int
ag_collect_processes(struct ag_host *h)
{
	struct scan	 sc;
	uint64_t	 v, per[3 * 64], *pd = per;
	size_t		 i;
	char		 st[2];

	memset(&sc, 0, sizeof(sc));
	if (h->ndaemons > 64 &&
	    (pd = calloc(3 * h->ndaemons, sizeof(*pd))) == NULL)
		return -1;
	memset(pd, 0, 3 * h->ndaemons * sizeof(*pd));
	sc.rss = pd;
	sc.fds = pd + h->ndaemons;
	sc.count = pd + 2 * h->ndaemons;
	for (i = 0; i < h->npidcpu; i++)
		h->pidcpu[i].seen = 0;
	if (h->scanfd == -1 && (h->scanfd = openat(h->procfd, ".",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	if (lseek(h->scanfd, 0, SEEK_SET) == -1 ||
	    dir_each(h, h->scanfd, h->dbuf, h->dcap, scan_pid, &sc) == -1 ||
	    sc.pids == 0)
		goto fail;
	/* Forget the daemon processes that exited. */
	for (i = 0; i < h->npidcpu; )
		if (!h->pidcpu[i].seen)
			h->pidcpu[i] = h->pidcpu[--h->npidcpu];
		else
			i++;
	gauge_set(h->procs_s[0], (double)sc.pids);
	gauge_set(h->procs_s[1], (double)sc.threads);
	if (read_u64_file(h, &h->f_pidmax, &v) == 0)
		gauge_set(h->procs_s[2], (double)v);
	if (read_u64_file(h, &h->f_threadsmax, &v) == 0)
		gauge_set(h->procs_s[3], (double)v);
	for (i = '!'; i <= '~'; i++) {	/* R S D Z T t I ... as they are */
		if (sc.states[i] == 0 && h->pstate_s[i] == NULL)
			continue;
		if (h->pstate_s[i] == NULL) {
			const char *lv[] = { st, NULL };

			st[0] = (char)i;
			st[1] = '\0';
			h->pstate_s[i] = metric_with(h->pstate, lv);
		}
		gauge_set(h->pstate_s[i], (double)sc.states[i]);
	}
	for (i = 0; i < h->ndaemons; i++) {
		struct metric_series **s = h->dmn_s + i * D_NFAMS;

		ag_load_ratio(s[D_CPU], h->dmn_ticks[i], (uint64_t)h->hz);
		gauge_set(s[D_RSS], (double)sc.rss[i]);
		gauge_set(s[D_FDS], (double)sc.fds[i]);
		gauge_set(s[D_COUNT], (double)sc.count[i]);
	}
	if (pd != per)
		free(pd);
	return 0;
fail:
	if (pd != per)
		free(pd);
	return -1;
}

/* tcpstat: sockets per TCP state (net/tcp_states.h numbering, 1..11) and
 * the bytes queued, as node_exporter's tcpstat collector, from
 * /proc/net/tcp and tcp6. node_exporter 1.5 asks sock_diag netlink
 * instead; measured here (kernel 6.18, ~320 sockets, most in TIME_WAIT)
 * two sock_diag dumps cost 3-6 ms against 0.5-0.9 ms for reading and
 * parsing both files, and the files follow opts->proc into a container's
 * view. */

static const char *const tcp_states[AG_TCP_NSTATES + 2] = {
	"established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2",
	"time_wait", "close", "close_wait", "last_ack", "listen", "closing",
	"rx_queued_bytes", "tx_queued_bytes",
};

struct tcp_count {
	uint64_t	 n[AG_TCP_NSTATES + 2];
};

static void
tcp_add(struct tcp_count *tc, unsigned state, uint64_t rq, uint64_t wq)
{
	if (state < 1 || state > AG_TCP_NSTATES)
		return;
	tc->n[state - 1]++;
	if (state != 10) {	/* a listener's queue counts connections */
		tc->n[AG_TCP_NSTATES] += rq;
		tc->n[AG_TCP_NSTATES + 1] += wq;
	}
}

static uint64_t
hex(const char *p, const char **end)
{
	uint64_t v = 0;
	int	 d;

	for (;; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			break;
		v = v * 16 + (uint64_t)d;
	}
	*end = p;
	return v;
}

/* "  sl  local_address rem_address   st tx_queue rx_queue ..." lines:
 * "0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 ..." */
static int
tcp_file(struct ag_host *h, struct ag_file *f, struct tcp_count *tc)
{
	const char *p, *w, *e;
	uint64_t st = 0, tx, rx;
	size_t	 len, wl, i;

	if (ag_read(h, f, &len) == -1)
		return errno == ENOENT ? 0 : -1;	/* no IPv6 */
	for (p = h->buf; *p != '\0'; ) {
		const char *nl = strchr(p, '\n');

		for (i = 0; i < 5 && (p = ag_word(p, &w, &wl)) != NULL; i++)
			if (i == 3) {
				st = hex(w, &e);
				if (e != w + wl)
					break;
			} else if (i == 4) {
				tx = hex(w, &e);
				if (*e != ':')
					break;
				rx = hex(e + 1, &e);
				tcp_add(tc, (unsigned)st, rx, tx);
			}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

int
ag_collect_tcpstat(struct ag_host *h)
{
	struct tcp_count tc;
	size_t	 i;

	memset(&tc, 0, sizeof(tc));
	if (tcp_file(h, &h->f_tcp, &tc) == -1 ||
	    tcp_file(h, &h->f_tcp6, &tc) == -1)
		return -1;
	for (i = 0; i < AG_TCP_NSTATES + 2; i++)
		gauge_set(h->tcp_s[i], (double)tc.n[i]);
	return 0;
}

/* filesystem */

static const char *const fs_names[7][2] = {
	{ "node_filesystem_size_bytes", "Filesystem size in bytes." },
	{ "node_filesystem_free_bytes", "Filesystem free space in bytes." },
	{ "node_filesystem_avail_bytes",
	    "Filesystem space available to non-root users in bytes." },
	{ "node_filesystem_files", "Filesystem total file nodes." },
	{ "node_filesystem_files_free", "Filesystem total free file nodes." },
	{ "node_filesystem_readonly", "Filesystem read-only status." },
	{ "node_filesystem_device_error",
	    "Whether an error occurred while getting statistics for the "
	    "given device." },
};

/* node_exporter's default --collector.filesystem.fs-types-exclude, and
 * the network filesystems: statvfs on a dead NFS server blocks in the
 * kernel for as long as the mount's timeouts say (forever with "hard"),
 * and this collector runs on agentd's event loop. node_exporter runs
 * statfs in goroutines with a timeout and marks stuck mounts; a thread
 * pool for that is more than the monitoring of these hosts needs, so
 * network filesystems are left out. */
static const char *const fs_skip_types[] = {
	"autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs",
	"debugfs", "devpts", "devtmpfs", "fusectl", "hugetlbfs", "iso9660",
	"mqueue", "nsfs", "overlay", "proc", "procfs", "pstore", "rpc_pipefs",
	"securityfs", "selinuxfs", "squashfs", "sysfs", "tracefs",
	/* network */
	"nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs",
	"fuse.glusterfs", "fuse.sshfs", "lustre", "afs",
};

/* --collector.filesystem.mount-points-exclude, ^/(dev|proc|run|sys|mnt|
 * media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/): "tree"
 * rows exclude the directory and below, the others only below. */
static const struct {
	const char	*dir;
	int		 tree;
} fs_skip_mounts[] = {
	{ "/dev", 1 }, { "/proc", 1 }, { "/run", 1 }, { "/sys", 1 },
	{ "/mnt", 1 }, { "/media", 1 }, { "/var/lib/docker", 0 },
	{ "/var/lib/containers/storage", 0 },
};

static int
fs_skipped(const char *type, const char *mp)
{
	size_t	 i, l;

	for (i = 0; i < sizeof(fs_skip_types) / sizeof(fs_skip_types[0]); i++)
		if (strcmp(type, fs_skip_types[i]) == 0)
			return 1;
	for (i = 0; i < sizeof(fs_skip_mounts) / sizeof(fs_skip_mounts[0]);
	    i++) {
		l = strlen(fs_skip_mounts[i].dir);
		if (strncmp(mp, fs_skip_mounts[i].dir, l) != 0)
			continue;
		if (mp[l] == '/' && (fs_skip_mounts[i].tree || mp[l + 1] != '\0'))
			return 1;
		if (mp[l] == '\0' && fs_skip_mounts[i].tree)
			return 1;
	}
	return 0;
}

/* A mounts field with its \ooo escapes (space, tab, newline, backslash)
 * decoded; 0, or -1 if it does not fit. */
static int
unescape(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t	 i, j;

	for (i = j = 0; i < len; i++) {
		if (j + 1 >= dstlen)
			return -1;
		if (src[i] == '\\' && i + 3 < len &&
		    src[i + 1] >= '0' && src[i + 1] <= '3' &&
		    src[i + 2] >= '0' && src[i + 2] <= '7' &&
		    src[i + 3] >= '0' && src[i + 3] <= '7') {
			dst[j++] = (char)((src[i + 1] - '0') * 64 +
			    (src[i + 2] - '0') * 8 + (src[i + 3] - '0'));
			i += 3;
		} else
			dst[j++] = src[i];
	}
	dst[j] = '\0';
	return 0;
}

static int
has_option(const char *opts, size_t len, const char *opt)
{
	size_t	 l = strlen(opt), i = 0, s;

	while (i < len) {
		s = i;
		while (i < len && opts[i] != ',')
			i++;
		if (i - s == l && memcmp(opts + s, opt, l) == 0)
			return 1;
		i++;
	}
	return 0;
}

int
ag_collect_filesystem(struct ag_host *h)
{
	struct statvfs	 sv;
	const char	*p, *w[4];
	char		 dev[256], mp[1024], type[64];
	size_t		 len, wl[4], i;
	double		 v[6];

	if (ag_read(h, &h->f_mounts, &len) == -1) {
		/* node_exporter reads /proc/1/mounts, then its own. */
		if (strcmp(h->f_mounts.rel, "1/mounts") != 0)
			return -1;
		h->f_mounts.rel = "self/mounts";
		if (ag_read(h, &h->f_mounts, &len) == -1)
			return -1;
	}
	/* statvfs below does not touch h->buf: the lines stay valid. */
	for (p = h->buf; *p != '\0'; ) {
		const char *nl = strchr(p, '\n');

		for (i = 0; i < 4; i++)
			if ((p = ag_word(p, &w[i], &wl[i])) == NULL)
				break;
		p = nl != NULL ? nl + 1 : h->buf + len;
		if (i < 4 ||
		    unescape(dev, sizeof(dev), w[0], wl[0]) == -1 ||
		    unescape(mp, sizeof(mp), w[1], wl[1]) == -1 ||
		    unescape(type, sizeof(type), w[2], wl[2]) == -1 ||
		    fs_skipped(type, mp))
			continue;
		{
			const char *lv[] = { dev, type, mp, NULL };
			int ro = has_option(w[3], wl[3], "ro");

			ag_keyset_mark(&h->mounts, lv);
			if (statvfs(mp, &sv) == -1) {
				gauge_set(metric_with(h->fs[6], lv), 1);
				continue;
			}
			v[0] = (double)sv.f_blocks * (double)sv.f_bsize;
			v[1] = (double)sv.f_bfree * (double)sv.f_bsize;
			v[2] = (double)sv.f_bavail * (double)sv.f_bsize;
			v[3] = (double)sv.f_files;
			v[4] = (double)sv.f_ffree;
			v[5] = ro;
			for (i = 0; i < 6; i++)
				gauge_set(metric_with(h->fs[i], lv), v[i]);
			gauge_set(metric_with(h->fs[6], lv), 0);
		}
	}
	ag_keyset_sweep(&h->mounts);
	return 0;
}

/* Set-up */

int
ag_proc_init(struct ag_host *h, const char *const *daemons)
{
	struct metric	*f;
	size_t		 i, j;

	for (i = 0; i < 7; i++) {
		if ((h->fs[i] = metrics_gauge(h->m, fs_names[i][0],
		    fs_names[i][1], lbl_fs)) == NULL)
			return -1;
	}
	ag_keyset_init(&h->mounts, 3, h->fs, 7);
	if ((f = metrics_gauge(h->m, "node_tcp_connection_states",
	    "Number of connection states.", lbl_state)) == NULL)
		return -1;
	for (i = 0; i < AG_TCP_NSTATES + 2; i++) {
		const char *lv[] = { tcp_states[i], NULL };

		h->tcp_s[i] = metric_with(f, lv);
	}
	for (i = 0; i < 4; i++) {
		if ((f = metrics_gauge(h->m, procs_rows[i].name,
		    procs_rows[i].help, NULL)) == NULL)
			return -1;
		h->procs_s[i] = metric_series0(f);
	}
	if ((h->pstate = metrics_gauge(h->m, "node_processes_state",
	    "Number of processes in each state.", lbl_state)) == NULL)
		return -1;

	for (h->ndaemons = 0; daemons != NULL && daemons[h->ndaemons] != NULL;)
		h->ndaemons++;
	if (h->ndaemons == 0)
		return 0;
	h->daemons = calloc(h->ndaemons, sizeof(*h->daemons));
	h->dmn_s = calloc(h->ndaemons * D_NFAMS, sizeof(*h->dmn_s));
	h->dmn_ticks = calloc(h->ndaemons, sizeof(*h->dmn_ticks));
	if (h->daemons == NULL || h->dmn_s == NULL || h->dmn_ticks == NULL)
		return -1;
	for (i = 0; i < h->ndaemons; i++)
		if ((h->daemons[i] = strdup(daemons[i])) == NULL)
			return -1;
	for (j = 0; j < D_NFAMS; j++) {
		f = dmn_rows[j].counter ?
		    metrics_counter(h->m, dmn_rows[j].name, dmn_rows[j].help,
		    lbl_daemon) :
		    metrics_gauge(h->m, dmn_rows[j].name, dmn_rows[j].help,
		    lbl_daemon);
		if (f == NULL)
			return -1;
		for (i = 0; i < h->ndaemons; i++) {
			const char *lv[] = { h->daemons[i], NULL };

			h->dmn_s[i * D_NFAMS + j] = metric_with(f, lv);
		}
	}
	return 0;
}

void
ag_proc_free(struct ag_host *h)
{
	size_t	 i;

	if (h->scanfd != -1)
		close(h->scanfd);
	for (i = 0; h->daemons != NULL && i < h->ndaemons; i++)
		free((char *)h->daemons[i]);
	free(h->daemons);
	free(h->dmn_s);
	free(h->dmn_ticks);
	free(h->pidcpu);
}
