/* ag_host internals, shared by ag_host.c (the driver and the collectors
 * of single /proc files) and ag_host_proc.c (the /proc scan for the
 * processes and the daemons, TCP states, filesystems). */
#ifndef AG_HOST_INT_H
#define AG_HOST_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct metric;
struct metric_series;

/* A file under proc, opened once and read again from offset 0 (procfs
 * regenerates seq_file contents on a read at offset 0). */
struct ag_file {
	const char	*rel;		/* relative to opts->proc */
	int		 fd;		/* -1 until opened */
};

/* The series of a labelled collector seen at the last collect, so the
 * devices that are gone (an interface, a mount) lose their series. */
struct ag_key {
	char		*v[3];		/* label values, one allocation */
	int		 seen;
};
struct ag_keyset {
	struct ag_key	*keys;
	size_t		 n, cap;
	size_t		 nlabels;
	struct metric	**fams;		/* the families labelled by them */
	size_t		 nfams;
};

/* CPU time of one daemon process, so the per-daemon counter only ever
 * adds what a live process spent since it was last seen. */
struct ag_pidcpu {
	pid_t		 pid;
	uint64_t	 start;		/* starttime, against pid reuse */
	uint64_t	 ticks;		/* utime + stime last seen */
	int		 seen;
};

#define AG_TCP_NSTATES	11
#define AG_PIDCPU_MAX	4096	/* daemon processes tracked */

struct ag_host {
	struct metrics	*m;
	int		 procfd;	/* O_DIRECTORY on opts->proc */
	long		 hz, pagesize;
	char		*buf;		/* file contents, NUL-terminated */
	size_t		 cap;
	char		*dbuf;		/* getdents64 records */
	size_t		 dcap;

	struct ag_file	 f_stat, f_meminfo, f_loadavg, f_diskstats,
			 f_netdev, f_filenr, f_mounts, f_tcp, f_tcp6,
			 f_pidmax, f_threadsmax;

	/* cpu: series per cpu and column of /proc/stat */
	struct metric	*cpu, *cpu_guest;
	struct metric_series **cpu_s;	/* ncpu * AG_CPU_COLS */
	size_t		 ncpu;
	struct metric_series *stat_s[6];
	struct metric_series *load_s[3];
	struct metric_series *filefd_s[2];

	/* meminfo: families found in the file, in its order */
	struct ag_mem {
		char		 key[48];
		struct metric_series *s;
		int		 kb;
	}		*mem;
	size_t		 nmem;

	struct metric	*disk[17];
	struct ag_keyset disks;
	struct metric	*net[16];
	struct ag_keyset nets;
	struct metric	*fs[7];
	struct ag_keyset mounts;

	struct metric_series *tcp_s[AG_TCP_NSTATES + 2];

	struct metric	*pstate;
	struct metric_series *pstate_s[128];
	struct metric_series *procs_s[4];	/* pids threads max max */

	const char	**daemons;
	size_t		 ndaemons;
	struct metric_series **dmn_s;	/* ndaemons * 4 */
	uint64_t	*dmn_ticks;	/* CPU ticks counted per daemon */
	int		 scanfd;	/* opts->proc for getdents64, or -1 */
	struct ag_pidcpu *pidcpu;
	size_t		 npidcpu, pidcpucap;

	struct metric_series *ok_s[16], *dur_s[16];
};

#define AG_CPU_COLS	10

/* ag_host.c */
int	 ag_read(struct ag_host *, struct ag_file *, size_t *len);
int	 ag_buf_grow(char **, size_t *, size_t min);
const char *ag_u64(const char *, uint64_t *);
const char *ag_word(const char *, const char **start, size_t *len);
void	 ag_load_ratio(struct metric_series *, uint64_t v, uint64_t den);
int	 ag_keyset_init(struct ag_keyset *, size_t nlabels,
	    struct metric **fams, size_t nfams);
void	 ag_keyset_mark(struct ag_keyset *, const char *const v[]);
void	 ag_keyset_sweep(struct ag_keyset *);
void	 ag_keyset_free(struct ag_keyset *);

/* ag_host_proc.c */
int	 ag_proc_init(struct ag_host *, const char *const *daemons);
void	 ag_proc_free(struct ag_host *);
int	 ag_collect_processes(struct ag_host *);
int	 ag_collect_tcpstat(struct ag_host *);
int	 ag_collect_filesystem(struct ag_host *);

#endif
