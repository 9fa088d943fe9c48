/* ag_host — host metrics from /proc, named as prometheus-node-exporter 1.5
 * names them (see ag_host.h). This file holds the driver (the collector
 * table, node_scrape_collector_*), the file reader and the parsers of the
 * one-file collectors: cpu (/proc/stat), loadavg, meminfo, diskstats,
 * netdev and filefd. ag_host_proc.c has the rest.
 *
 * Cost: every file is opened once and read again at offset 0 with one
 * pread() into a buffer reused by every collector; numbers are parsed by
 * hand; series are created on first sight and only updated after that. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "ag_host.h"
#include "ag_host_int.h"

#define AG_BUF_INIT	(64 * 1024)
#define AG_BUF_MAX	(64 * 1024 * 1024)

static const char *const lbl_device[] = { "device", NULL };
static const char *const lbl_cpu_mode[] = { "cpu", "mode", NULL };
static const char *const lbl_collector[] = { "collector", NULL };

/* Reading and parsing helpers. */

int
ag_buf_grow(char **bufp, size_t *capp, size_t min)
{
	size_t	 cap = *capp != 0 ? *capp : AG_BUF_INIT;
	char	*nb;

	while (cap < min)
		cap *= 2;
	if (cap > AG_BUF_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (cap == *capp)
		return 0;
	if ((nb = realloc(*bufp, cap)) == NULL)
		return -1;
	*bufp = nb;
	*capp = cap;
	return 0;
}

/* The whole file into h->buf, NUL-terminated, reading on to EOF: a
 * seq_file read returns one page of records at a time (single_open files
 * such as stat and meminfo give everything at once; net/tcp, mounts,
 * diskstats do not). The next pread at the offset reached continues the
 * iteration where it stopped, and one at offset 0 starts afresh. */
int
ag_read(struct ag_host *h, struct ag_file *f, size_t *lenp)
{
	size_t	 len = 0;
	ssize_t	 n;

	if (f->fd == -1 &&
	    (f->fd = openat(h->procfd, f->rel, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if (len == h->cap - 1 &&
		    ag_buf_grow(&h->buf, &h->cap, h->cap * 2) == -1)
			return -1;
		n = pread(f->fd, h->buf + len, h->cap - 1 - len, (off_t)len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* Reopen next time (a file that came back). */
			close(f->fd);
			f->fd = -1;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	h->buf[len] = '\0';
	*lenp = len;
	return 0;
}

/* Skips blanks, parses a decimal number; NULL if there is none. */
const char *
ag_u64(const char *p, uint64_t *v)
{
	uint64_t n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		n = n * 10 + (uint64_t)(*p++ - '0');
	*v = n;
	return p;
}

/* The next blank-separated word of a line; NULL at the end of the line. */
const char *
ag_word(const char *p, const char **start, size_t *len)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n')
		return NULL;
	*start = p;
	while (*p != '\0' && *p != '\n' && *p != ' ' && *p != '\t')
		p++;
	*len = (size_t)(p - *start);
	return p;
}

static const char *
next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl != NULL ? nl + 1 : p + strlen(p);
}

/* A counter set to v/den (ticks to seconds, milliseconds to seconds):
 * the integer part exact, the fraction such that the sum rendered is the
 * double nearest v/den (target - whole is exact for whole >= 1). */
void
ag_load_ratio(struct metric_series *s, uint64_t v, uint64_t den)
{
	uint64_t whole = v / den;

	counter_load(s, whole);
	if (v % den != 0)
		counter_add(s, (double)v / (double)den - (double)whole);
}

/* Label sets seen at the last collect (see ag_host_int.h). */

int
ag_keyset_init(struct ag_keyset *ks, size_t nlabels, struct metric **fams,
    size_t nfams)
{
	memset(ks, 0, sizeof(*ks));
	ks->nlabels = nlabels;
	ks->fams = fams;
	ks->nfams = nfams;
	return 0;
}

void
ag_keyset_mark(struct ag_keyset *ks, const char *const v[])
{
	struct ag_key	*k;
	size_t		 i, j, len, off;
	char		*p;

	for (i = 0; i < ks->n; i++) {
		for (j = 0; j < ks->nlabels; j++)
			if (strcmp(ks->keys[i].v[j], v[j]) != 0)
				break;
		if (j == ks->nlabels) {
			ks->keys[i].seen = 1;
			return;
		}
	}
	if (ks->n == ks->cap) {
		size_t ncap = ks->cap != 0 ? ks->cap * 2 : 8;
		struct ag_key *nk = reallocarray(ks->keys, ncap, sizeof(*nk));

		if (nk == NULL)
			return;		/* not swept: stays as it is */
		ks->keys = nk;
		ks->cap = ncap;
	}
	for (len = 0, j = 0; j < ks->nlabels; j++)
		len += strlen(v[j]) + 1;
	if ((p = malloc(len)) == NULL)
		return;
	k = &ks->keys[ks->n++];
	memset(k, 0, sizeof(*k));
	for (off = 0, j = 0; j < ks->nlabels; j++) {
		k->v[j] = p + off;
		memcpy(p + off, v[j], strlen(v[j]) + 1);
		off += strlen(v[j]) + 1;
	}
	k->seen = 1;
}

/* Removes the series of the keys not marked since the last sweep. */
void
ag_keyset_sweep(struct ag_keyset *ks)
{
	size_t	 i = 0, f;

	while (i < ks->n) {
		struct ag_key *k = &ks->keys[i];

		if (k->seen) {
			k->seen = 0;
			i++;
			continue;
		}
		for (f = 0; f < ks->nfams; f++)
			if (ks->fams[f] != NULL)
				(void)metric_remove(ks->fams[f],
				    (const char *const *)k->v);
		free(k->v[0]);
		ks->keys[i] = ks->keys[--ks->n];
	}
}

void
ag_keyset_free(struct ag_keyset *ks)
{
	size_t	 i;

	for (i = 0; i < ks->n; i++)
		free(ks->keys[i].v[0]);
	free(ks->keys);
	memset(ks, 0, sizeof(*ks));
}

/* cpu: /proc/stat. The cpuN lines give node_cpu_seconds_total (and the
 * guest columns node_cpu_guest_seconds_total) in USER_HZ ticks; the other
 * lines the stat collector's series. */

static const char *const cpu_cols[AG_CPU_COLS] = {
	"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
	"user", "nice"		/* guest, guest_nice */
};

static const struct stat_row {
	const char	*key;
	const char	*name;
	const char	*help;
	int		 counter;
} stat_rows[] = {
	{ "ctxt", "node_context_switches_total",
	    "Total number of context switches.", 1 },
	{ "intr", "node_intr_total", "Total number of interrupts serviced.", 1 },
	{ "processes", "node_forks_total", "Total number of forks.", 1 },
	{ "procs_running", "node_procs_running",
	    "Number of processes in runnable state.", 0 },
	{ "procs_blocked", "node_procs_blocked",
	    "Number of processes blocked waiting for I/O to complete.", 0 },
	{ "btime", "node_boot_time_seconds", "Node boot time, in unixtime.", 0 },
};

static int
cpu_init(struct ag_host *h)
{
	struct metric	*f;
	size_t		 i;

	h->cpu = metrics_counter(h->m, "node_cpu_seconds_total",
	    "Seconds the CPUs spent in each mode.", lbl_cpu_mode);
	h->cpu_guest = metrics_counter(h->m, "node_cpu_guest_seconds_total",
	    "Seconds the CPUs spent in guests (VMs) for each mode.",
	    lbl_cpu_mode);
	if (h->cpu == NULL || h->cpu_guest == NULL)
		return -1;
	for (i = 0; i < sizeof(stat_rows) / sizeof(stat_rows[0]); i++) {
		const struct stat_row *r = &stat_rows[i];

		f = r->counter ? metrics_counter(h->m, r->name, r->help, NULL) :
		    metrics_gauge(h->m, r->name, r->help, NULL);
		if (f == NULL)
			return -1;
		h->stat_s[i] = metric_series0(f);
	}
	return 0;
}

static struct metric_series **
cpu_series(struct ag_host *h, size_t cpu)
{
	struct metric_series **ns;
	char	 num[24];
	size_t	 c, n;

	if (cpu >= 4096)
		return NULL;
	if (cpu >= h->ncpu) {
		n = cpu + 1;
		if ((ns = reallocarray(h->cpu_s, n * AG_CPU_COLS,
		    sizeof(*ns))) == NULL)
			return NULL;
		memset(ns + h->ncpu * AG_CPU_COLS, 0,
		    (n - h->ncpu) * AG_CPU_COLS * sizeof(*ns));
		h->cpu_s = ns;
		h->ncpu = n;
	}
	ns = h->cpu_s + cpu * AG_CPU_COLS;
	if (ns[0] == NULL) {
		snprintf(num, sizeof(num), "%zu", cpu);
		for (c = 0; c < AG_CPU_COLS; c++) {
			const char *v[] = { num, cpu_cols[c], NULL };

			ns[c] = metric_with(c < 8 ? h->cpu : h->cpu_guest, v);
		}
	}
	return ns;
}

static int
collect_cpu(struct ag_host *h)
{
	struct metric_series **s;
	const char *p, *q;
	uint64_t v, cpu;
	size_t	 len, i, c, klen;
	int	 ncpu = 0;

	if (ag_read(h, &h->f_stat, &len) == -1)
		return -1;
	for (p = h->buf; *p != '\0'; p = next_line(p)) {
		if (strncmp(p, "cpu", 3) == 0) {
			if (p[3] == ' ' ||
			    (q = ag_u64(p + 3, &cpu)) == NULL || *q != ' ' ||
			    (s = cpu_series(h, cpu)) == NULL)
				continue;	/* the "cpu" total line */
			for (c = 0; c < AG_CPU_COLS; c++) {
				if ((q = ag_u64(q, &v)) == NULL)
					break;
				ag_load_ratio(s[c], v, (uint64_t)h->hz);
			}
			ncpu++;
			continue;
		}
		if ((q = strchr(p, ' ')) == NULL)
			break;
		klen = (size_t)(q - p);
		for (i = 0; i < sizeof(stat_rows) / sizeof(stat_rows[0]); i++) {
			if (strlen(stat_rows[i].key) != klen ||
			    memcmp(stat_rows[i].key, p, klen) != 0 ||
			    ag_u64(q, &v) == NULL)
				continue;
			if (stat_rows[i].counter)
				counter_load(h->stat_s[i], v);
			else
				gauge_set(h->stat_s[i], (double)v);
		}
	}
	return ncpu > 0 ? 0 : -1;
}

/* loadavg */

static const char *const load_names[3] = {
	"node_load1", "node_load5", "node_load15"
};
static const char *const load_help[3] = {
	"1m load average.", "5m load average.", "15m load average."
};

static int
load_init(struct ag_host *h)
{
	struct metric	*f;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		if ((f = metrics_gauge(h->m, load_names[i], load_help[i],
		    NULL)) == NULL)
			return -1;
		h->load_s[i] = metric_series0(f);
	}
	return 0;
}

static int
collect_loadavg(struct ag_host *h)
{
	double	 v[3];
	char	*p, *e;
	size_t	 len, i;

	if (ag_read(h, &h->f_loadavg, &len) == -1)
		return -1;
	for (p = h->buf, i = 0; i < 3; i++, p = e) {
		v[i] = strtod(p, &e);
		if (e == p)
			return -1;
	}
	for (i = 0; i < 3; i++)
		gauge_set(h->load_s[i], v[i]);
	return 0;
}

/* filefd: /proc/sys/fs/file-nr is "allocated unused maximum". */

static const struct {
	const char	*name, *help;
} filefd_rows[2] = {
	{ "node_filefd_allocated", "File descriptor statistics: allocated." },
	{ "node_filefd_maximum", "File descriptor statistics: maximum." },
};

static int
filefd_init(struct ag_host *h)
{
	struct metric	*f;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		if ((f = metrics_gauge(h->m, filefd_rows[i].name,
		    filefd_rows[i].help, NULL)) == NULL)
			return -1;
		h->filefd_s[i] = metric_series0(f);
	}
	return 0;
}

static int
collect_filefd(struct ag_host *h)
{
	uint64_t v[3];
	const char *p;
	size_t	 len, i;

	if (ag_read(h, &h->f_filenr, &len) == -1)
		return -1;
	for (p = h->buf, i = 0; i < 3; i++)
		if ((p = ag_u64(p, &v[i])) == NULL)
			return -1;
	gauge_set(h->filefd_s[0], (double)v[0]);
	gauge_set(h->filefd_s[1], (double)v[2]);
	return 0;
}

/* meminfo: every "Key: value [kB]" line is node_memory_<Key>[_bytes], with
 * "(" turned into "_" and ")" dropped (Active(anon) -> Active_anon), kB
 * times 1024, as node_exporter does. The families are registered when a
 * key is first seen; after that each line finds its family at the same
 * index as last time. */

static struct metric_series *
mem_series(struct ag_host *h, size_t idx, const char *key, size_t klen,
    int kb)
{
	struct ag_mem	*nm, *e;
	struct metric	*f;
	char		 name[128], field[64], help[128];
	size_t		 i, j;

	if (idx < h->nmem && strlen(h->mem[idx].key) == klen &&
	    memcmp(h->mem[idx].key, key, klen) == 0)
		return h->mem[idx].s;
	for (i = 0; i < h->nmem; i++)
		if (strlen(h->mem[i].key) == klen &&
		    memcmp(h->mem[i].key, key, klen) == 0)
			return h->mem[i].s;
	if (klen >= sizeof(h->mem[0].key) || klen == 0)
		return NULL;
	for (i = j = 0; i < klen; i++) {
		if (key[i] == '(')
			field[j++] = '_';
		else if (key[i] != ')')
			field[j++] = key[i];
	}
	field[j] = '\0';
	if (kb)
		strcat(field, "_bytes");
	snprintf(name, sizeof(name), "node_memory_%s", field);
	snprintf(help, sizeof(help), "Memory information field %s.", field);
	if ((nm = reallocarray(h->mem, h->nmem + 1, sizeof(*nm))) == NULL)
		return NULL;
	h->mem = nm;
	e = &h->mem[h->nmem];
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->kb = kb;
	/* A name the registry refuses (a key with odd characters) is
	 * remembered as NULL so it is not tried again. */
	f = metrics_gauge(h->m, name, help, NULL);
	e->s = f != NULL ? metric_series0(f) : NULL;
	h->nmem++;
	return e->s;
}

static int
collect_meminfo(struct ag_host *h)
{
	struct metric_series *s;
	const char *p, *q, *colon, *u;
	uint64_t v;
	size_t	 len, idx, ulen;
	int	 n = 0;

	if (ag_read(h, &h->f_meminfo, &len) == -1)
		return -1;
	for (p = h->buf, idx = 0; *p != '\0'; p = next_line(p), idx++) {
		if ((colon = strchr(p, ':')) == NULL ||
		    (q = ag_u64(colon + 1, &v)) == NULL)
			continue;
		u = NULL;
		ulen = 0;
		(void)ag_word(q, &u, &ulen);
		s = mem_series(h, idx, p, (size_t)(colon - p),
		    ulen == 2 && memcmp(u, "kB", 2) == 0);
		if (s == NULL)
			continue;
		gauge_set(s, ulen == 2 ? (double)v * 1024 : (double)v);
		n++;
	}
	return n > 0 ? 0 : -1;
}

/* diskstats: one row per field of /proc/diskstats after the name, in
 * node_exporter's names; sectors are 512 bytes whatever the device. */

enum { U_COUNT, U_SECTORS, U_MS, U_GAUGE };

static const struct disk_row {
	const char	*name;
	const char	*help;
	int		 unit;
} disk_rows[17] = {
	{ "node_disk_reads_completed_total",
	    "The total number of reads completed successfully.", U_COUNT },
	{ "node_disk_reads_merged_total",
	    "The total number of reads merged.", U_COUNT },
	{ "node_disk_read_bytes_total",
	    "The total number of bytes read successfully.", U_SECTORS },
	{ "node_disk_read_time_seconds_total",
	    "The total number of seconds spent by all reads.", U_MS },
	{ "node_disk_writes_completed_total",
	    "The total number of writes completed successfully.", U_COUNT },
	{ "node_disk_writes_merged_total",
	    "The number of writes merged.", U_COUNT },
	{ "node_disk_written_bytes_total",
	    "The total number of bytes written successfully.", U_SECTORS },
	{ "node_disk_write_time_seconds_total",
	    "This is the total number of seconds spent by all writes.", U_MS },
	{ "node_disk_io_now",
	    "The number of I/Os currently in progress.", U_GAUGE },
	{ "node_disk_io_time_seconds_total",
	    "Total seconds spent doing I/Os.", U_MS },
	{ "node_disk_io_time_weighted_seconds_total",
	    "The weighted # of seconds spent doing I/Os.", U_MS },
	{ "node_disk_discards_completed_total",
	    "The total number of discards completed successfully.", U_COUNT },
	{ "node_disk_discards_merged_total",
	    "The total number of discards merged.", U_COUNT },
	{ "node_disk_discarded_sectors_total",
	    "The total number of sectors discarded successfully.", U_COUNT },
	{ "node_disk_discard_time_seconds_total",
	    "This is the total number of seconds spent by all discards.", U_MS },
	{ "node_disk_flush_requests_total",
	    "The total number of flush requests completed successfully",
	    U_COUNT },
	{ "node_disk_flush_requests_time_seconds_total",
	    "This is the total number of seconds spent by all flush requests.",
	    U_MS },
};

static int
all_digits(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return n > 0;
}

static size_t
digits(const char *p, size_t n)
{
	size_t	 i = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return i;
}

/* node_exporter's default --collector.diskstats.device-exclude,
 * ^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$: RAM disks, loop and
 * floppy devices, and partitions (sda1, nvme0n1p1). */
static int
disk_excluded(const char *d, size_t n)
{
	static const char *const pre[] = { "ram", "loop", "fd", "hd", "sd",
	    "vd", "xvd" };
	size_t	 i, l, k;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		l = strlen(pre[i]);
		if (n <= l || memcmp(d, pre[i], l) != 0)
			continue;
		if (pre[i][l - 1] == 'd') {	/* (h|s|v|xv)d[a-z] */
			if (d[l] < 'a' || d[l] > 'z')
				continue;
			l++;
		}
		if (all_digits(d + l, n - l))
			return 1;
	}
	if (n > 4 && memcmp(d, "nvme", 4) == 0) {
		l = 4;
		if ((k = digits(d + l, n - l)) == 0 || l + k >= n ||
		    d[l + k] != 'n')
			return 0;
		l += k + 1;
		if ((k = digits(d + l, n - l)) == 0 || l + k >= n ||
		    d[l + k] != 'p')
			return 0;
		l += k + 1;
		return all_digits(d + l, n - l);
	}
	return 0;
}

static int
disk_init(struct ag_host *h)
{
	size_t	 i;

	for (i = 0; i < 17; i++) {
		const struct disk_row *r = &disk_rows[i];

		h->disk[i] = r->unit == U_GAUGE ?
		    metrics_gauge(h->m, r->name, r->help, lbl_device) :
		    metrics_counter(h->m, r->name, r->help, lbl_device);
		if (h->disk[i] == NULL)
			return -1;
	}
	return ag_keyset_init(&h->disks, 1, h->disk, 17);
}

static int
collect_diskstats(struct ag_host *h)
{
	struct metric_series *s;
	const char *p, *q, *w;
	char	 dev[64];
	uint64_t v;
	size_t	 len, wl, i;

	if (ag_read(h, &h->f_diskstats, &len) == -1)
		return -1;
	for (p = h->buf; *p != '\0'; p = next_line(p)) {
		if ((q = ag_u64(p, &v)) == NULL || (q = ag_u64(q, &v)) == NULL ||
		    (q = ag_word(q, &w, &wl)) == NULL || wl >= sizeof(dev) ||
		    disk_excluded(w, wl))
			continue;
		memcpy(dev, w, wl);
		dev[wl] = '\0';
		{
			const char *lv[] = { dev, NULL };

			ag_keyset_mark(&h->disks, lv);
			for (i = 0; i < 17; i++) {
				if ((q = ag_u64(q, &v)) == NULL)
					break;	/* older kernels: 11 or 15 */
				s = metric_with(h->disk[i], lv);
				switch (disk_rows[i].unit) {
				case U_COUNT:
					counter_load(s, v);
					break;
				case U_SECTORS:
					counter_load(s, v * 512);
					break;
				case U_MS:
					ag_load_ratio(s, v, 1000);
					break;
				default:
					gauge_set(s, (double)v);
				}
			}
		}
	}
	ag_keyset_sweep(&h->disks);
	return 0;
}

/* netdev: /proc/net/dev, the 16 columns after "name:" in this order.
 * lo is left out as by Debian's node_exporter default
 * (--collector.netdev.device-exclude=^lo$). */

static const char *const net_cols[16] = {
	"receive_bytes", "receive_packets", "receive_errs", "receive_drop",
	"receive_fifo", "receive_frame", "receive_compressed",
	"receive_multicast",
	"transmit_bytes", "transmit_packets", "transmit_errs", "transmit_drop",
	"transmit_fifo", "transmit_colls", "transmit_carrier",
	"transmit_compressed",
};

static int
net_init(struct ag_host *h)
{
	char	 name[96], help[96];
	size_t	 i;

	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "node_network_%s_total",
		    net_cols[i]);
		snprintf(help, sizeof(help), "Network device statistic %s.",
		    net_cols[i]);
		if ((h->net[i] = metrics_counter(h->m, name, help,
		    lbl_device)) == NULL)
			return -1;
	}
	return ag_keyset_init(&h->nets, 1, h->net, 16);
}

static int
collect_netdev(struct ag_host *h)
{
	const char *p, *q, *w, *colon;
	char	 dev[64];
	uint64_t v;
	size_t	 len, wl, i;

	if (ag_read(h, &h->f_netdev, &len) == -1)
		return -1;
	for (p = h->buf; *p != '\0'; p = next_line(p)) {
		if ((colon = strchr(p, ':')) == NULL ||
		    colon > next_line(p) || ag_word(p, &w, &wl) == NULL)
			continue;	/* the two header lines */
		wl = (size_t)(colon - w);
		if (wl == 0 || wl >= sizeof(dev) ||
		    (wl == 2 && memcmp(w, "lo", 2) == 0))
			continue;
		memcpy(dev, w, wl);
		dev[wl] = '\0';
		{
			const char *lv[] = { dev, NULL };

			ag_keyset_mark(&h->nets, lv);
			for (q = colon + 1, i = 0; i < 16; i++) {
				if ((q = ag_u64(q, &v)) == NULL)
					break;
				counter_load(metric_with(h->net[i], lv), v);
			}
		}
	}
	ag_keyset_sweep(&h->nets);
	return 0;
}

/* The driver. */

static const struct collector {
	const char	*name;
	int		(*init)(struct ag_host *);
	int		(*collect)(struct ag_host *);
} collectors[] = {
	{ "cpu",	cpu_init,	collect_cpu },
	{ "loadavg",	load_init,	collect_loadavg },
	{ "meminfo",	NULL,		collect_meminfo },
	{ "filesystem",	NULL,		ag_collect_filesystem },
	{ "diskstats",	disk_init,	collect_diskstats },
	{ "netdev",	net_init,	collect_netdev },
	{ "tcpstat",	NULL,		ag_collect_tcpstat },
	{ "filefd",	filefd_init,	collect_filefd },
	{ "processes",	NULL,		ag_collect_processes },
};
#define NCOLLECTORS	(sizeof(collectors) / sizeof(collectors[0]))

struct ag_host *
ag_host_new(struct metrics *m, const struct ag_host_opts *o, char *err,
    size_t errlen)
{
	struct ag_host	*h;
	struct metric	*ok, *dur;
	const char	*proc = o->proc != NULL ? o->proc : "/proc";
	size_t		 i;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		seterr(err, errlen, "ag_host_new: %s", strerror(errno));
		return NULL;
	}
	h->m = m;
	h->scanfd = -1;
	h->f_stat = (struct ag_file){ "stat", -1 };
	h->f_meminfo = (struct ag_file){ "meminfo", -1 };
	h->f_loadavg = (struct ag_file){ "loadavg", -1 };
	h->f_diskstats = (struct ag_file){ "diskstats", -1 };
	h->f_netdev = (struct ag_file){ "net/dev", -1 };
	h->f_filenr = (struct ag_file){ "sys/fs/file-nr", -1 };
	h->f_mounts = (struct ag_file){ "1/mounts", -1 };
	h->f_tcp = (struct ag_file){ "net/tcp", -1 };
	h->f_tcp6 = (struct ag_file){ "net/tcp6", -1 };
	h->f_pidmax = (struct ag_file){ "sys/kernel/pid_max", -1 };
	h->f_threadsmax = (struct ag_file){ "sys/kernel/threads-max", -1 };
	if ((h->hz = sysconf(_SC_CLK_TCK)) <= 0)
		h->hz = 100;
	if ((h->pagesize = sysconf(_SC_PAGESIZE)) <= 0)
		h->pagesize = 4096;
	/* o->sys: no collector here reads /sys yet (node_exporter's
	 * netclass, hwmon... are not part of this set). */
	if ((h->procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		seterr(err, errlen, "ag_host_new: %s: %s", proc,
		    strerror(errno));
		free(h);
		return NULL;
	}
	if (ag_buf_grow(&h->buf, &h->cap, AG_BUF_INIT) == -1 ||
	    ag_buf_grow(&h->dbuf, &h->dcap, AG_BUF_INIT) == -1) {
		seterr(err, errlen, "ag_host_new: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < NCOLLECTORS; i++)
		if (collectors[i].init != NULL && collectors[i].init(h) == -1) {
			seterr(err, errlen, "ag_host_new: %s: cannot register "
			    "its metrics", collectors[i].name);
			goto fail;
		}
	if (ag_proc_init(h, o->daemons) == -1) {
		seterr(err, errlen, "ag_host_new: processes, filesystem, "
		    "tcpstat: cannot register their metrics");
		goto fail;
	}
	ok = metrics_gauge(m, "node_scrape_collector_success",
	    "node_exporter: Whether a collector succeeded.", lbl_collector);
	dur = metrics_gauge(m, "node_scrape_collector_duration_seconds",
	    "node_exporter: Duration of a collector scrape.", lbl_collector);
	if (ok == NULL || dur == NULL) {
		seterr(err, errlen, "ag_host_new: cannot register "
		    "node_scrape_collector_*");
		goto fail;
	}
	for (i = 0; i < NCOLLECTORS; i++) {
		const char *v[] = { collectors[i].name, NULL };

		h->ok_s[i] = metric_with(ok, v);
		h->dur_s[i] = metric_with(dur, v);
	}
	return h;
fail:
	ag_host_free(h);
	return NULL;
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
ag_host_collect(struct ag_host *h, char *err, size_t errlen)
{
	char	 failed[256];
	size_t	 i, off = 0;
	double	 t0, t1;
	int	 rc;

	failed[0] = '\0';
	for (i = 0; i < NCOLLECTORS; i++) {
		t0 = now_sec();
		rc = collectors[i].collect(h);
		t1 = now_sec();
		gauge_set(h->ok_s[i], rc == 0);
		gauge_set(h->dur_s[i], t1 - t0);
		if (rc == 0 || off >= sizeof(failed) - 1)
			continue;
		rc = snprintf(failed + off, sizeof(failed) - off, "%s%s",
		    off > 0 ? ", " : "", collectors[i].name);
		if (rc > 0)
			off += (size_t)rc;
	}
	if (failed[0] != '\0')
		return seterr(err, errlen, "host collectors failed: %s",
		    failed);
	return 0;
}

void
ag_host_free(struct ag_host *h)
{
	struct ag_file *files[] = { &h->f_stat, &h->f_meminfo, &h->f_loadavg,
	    &h->f_diskstats, &h->f_netdev, &h->f_filenr, &h->f_mounts,
	    &h->f_tcp, &h->f_tcp6, &h->f_pidmax, &h->f_threadsmax };
	size_t	 i;

	if (h == NULL)
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i]->fd != -1)
			close(files[i]->fd);
	ag_proc_free(h);
	ag_keyset_free(&h->disks);
	ag_keyset_free(&h->nets);
	ag_keyset_free(&h->mounts);
	if (h->procfd != -1)
		close(h->procfd);
	free(h->cpu_s);
	free(h->mem);
	free(h->buf);
	free(h->dbuf);
	free(h);
}
