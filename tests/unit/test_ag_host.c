/* Unit tests for agentd/ag_host: the parsers against a fixture proc tree
 * (real files of a Debian 12 VM, trimmed, with a few lines added for the
 * cases the machine did not show), and the real /proc of this machine:
 * key series, promtool check metrics on the whole render, and the CPU one
 * collect costs. */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "ag_host.h"
#include "suites.h"
#include "testutil.h"

static char fixture[512];

static const char *
fixture_proc(void)
{
	const char *d = testdata_dir(), *slash = strrchr(d, '/');

	/* tests/data may not exist: its parent, spelt out */
	snprintf(fixture, sizeof(fixture), "%.*s/unit/fixtures/ag_host/proc",
	    slash != NULL ? (int)(slash - d) : 1, slash != NULL ? d : ".");
	return fixture;
}

static const char *
render(const struct metrics *m, struct buf *b)
{
	buf_reset(b);
	ck_assert_int_eq(metrics_render(m, b), 0);
	return buf_cstr(b);
}

/* The value of the sample whose name and labels are exactly series, or
 * NAN when the render has no such sample. */
static double
sample(const char *text, const char *series)
{
	size_t	 n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return NAN;
}

#define HAS(t, s)	ck_assert_msg(!isnan(sample(t, s)), "no %s", s)
#define HASNOT(t, s)	ck_assert_msg(isnan(sample(t, s)), "unexpected %s", s)
#define EQ(t, s, v)	ck_assert_msg(sample(t, s) == (double)(v),	\
			    "%s is %.17g, not %.17g", s, sample(t, s),	\
			    (double)(v))

struct fx {
	struct metrics	*m;
	struct ag_host	*h;
	struct buf	 b;
};

static void
fx_open(struct fx *f, const char *proc, const char *const *daemons)
{
	struct ag_host_opts o = { proc, "/sys", daemons };
	char	 err[256];

	ck_assert_ptr_nonnull(f->m = metrics_new(""));
	f->h = ag_host_new(f->m, &o, err, sizeof(err));
	ck_assert_msg(f->h != NULL, "ag_host_new: %s", err);
	buf_init(&f->b, 16 * 1024 * 1024);
}

static void
fx_close(struct fx *f)
{
	ag_host_free(f->h);
	metrics_free(f->m);
	buf_free(&f->b);
}

static const char *const fx_daemons[] = { "webd", "web d", "lbd", NULL };

START_TEST(fixture_values)
{
	struct fx f;
	const char *t;
	char	 err[256];
	double	 hz = (double)sysconf(_SC_CLK_TCK);
	double	 page = (double)sysconf(_SC_PAGESIZE);

	fx_open(&f, fixture_proc(), fx_daemons);
	ck_assert_msg(ag_host_collect(f.h, err, sizeof(err)) == 0, "%s", err);
	t = render(f.m, &f.b);

	/* cpu: ticks / USER_HZ, the "cpu" total line left out */
	EQ(t, "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"}", 771429 / hz);
	EQ(t, "node_cpu_seconds_total{cpu=\"1\",mode=\"idle\"}", 1193922 / hz);
	EQ(t, "node_cpu_seconds_total{cpu=\"1\",mode=\"softirq\"}",
	    30134 / hz);
	EQ(t, "node_cpu_seconds_total{cpu=\"0\",mode=\"steal\"}", 0);
	EQ(t, "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"nice\"}", 0);
	HASNOT(t, "node_cpu_seconds_total{cpu=\"2\",mode=\"user\"}");
	EQ(t, "node_context_switches_total", 62099858);
	EQ(t, "node_intr_total", 25194845);
	EQ(t, "node_forks_total", 736640);
	EQ(t, "node_procs_running", 1);
	EQ(t, "node_procs_blocked", 0);
	EQ(t, "node_boot_time_seconds", 1795424790);

	EQ(t, "node_load1", 3.16);
	EQ(t, "node_load5", 3.54);
	EQ(t, "node_load15", 3.37);

	/* meminfo: kB * 1024 with _bytes, counts as they are, () -> _ */
	EQ(t, "node_memory_MemTotal_bytes", 24683620.0 * 1024);
	EQ(t, "node_memory_MemAvailable_bytes", 24252376.0 * 1024);
	EQ(t, "node_memory_Active_anon_bytes", 1556.0 * 1024);
	EQ(t, "node_memory_Inactive_file_bytes", 346024.0 * 1024);
	EQ(t, "node_memory_HugePages_Total", 0);
	EQ(t, "node_memory_Hugepagesize_bytes", 2048.0 * 1024);
	HASNOT(t, "node_memory_HugePages_Total_bytes");

	/* diskstats: partitions, loop devices left out; 512-byte sectors,
	 * milliseconds to seconds; an 11-field line has no discards */
	EQ(t, "node_disk_reads_completed_total{device=\"vda\"}", 1590196);
	EQ(t, "node_disk_read_bytes_total{device=\"vda\"}", 54315730.0 * 512);
	EQ(t, "node_disk_written_bytes_total{device=\"vda\"}",
	    82222928.0 * 512);
	EQ(t, "node_disk_writes_completed_total{device=\"vda\"}", 2161474);
	EQ(t, "node_disk_read_time_seconds_total{device=\"vda\"}", 637.555);
	EQ(t, "node_disk_write_time_seconds_total{device=\"vda\"}", 583.362);
	EQ(t, "node_disk_io_time_seconds_total{device=\"vda\"}", 399.352);
	EQ(t, "node_disk_flush_requests_time_seconds_total{device=\"vda\"}",
	    77.747);
	EQ(t, "node_disk_io_now{device=\"sdb\"}", 1);
	EQ(t, "node_disk_io_time_weighted_seconds_total{device=\"sdb\"}",
	    3.506);
	HASNOT(t, "node_disk_discards_completed_total{device=\"sdb\"}");
	HAS(t, "node_disk_reads_completed_total{device=\"zram0\"}");
	HAS(t, "node_disk_reads_completed_total{device=\"nvme0n1\"}");
	HASNOT(t, "node_disk_reads_completed_total{device=\"nvme0n1p1\"}");
	HASNOT(t, "node_disk_reads_completed_total{device=\"vda1\"}");
	HASNOT(t, "node_disk_reads_completed_total{device=\"loop0\"}");

	/* netdev: lo left out */
	EQ(t, "node_network_receive_bytes_total{device=\"eth0\"}", 62153104);
	EQ(t, "node_network_receive_packets_total{device=\"eth0\"}", 3706);
	EQ(t, "node_network_transmit_bytes_total{device=\"eth0\"}", 245415);
	EQ(t, "node_network_transmit_packets_total{device=\"eth0\"}", 3467);
	EQ(t, "node_network_receive_drop_total{device=\"ifb0\"}", 0);
	HASNOT(t, "node_network_receive_bytes_total{device=\"lo\"}");

	/* tcp and tcp6 */
	EQ(t, "node_tcp_connection_states{state=\"listen\"}", 3);
	EQ(t, "node_tcp_connection_states{state=\"established\"}", 2);
	EQ(t, "node_tcp_connection_states{state=\"time_wait\"}", 1);
	EQ(t, "node_tcp_connection_states{state=\"close_wait\"}", 1);
	EQ(t, "node_tcp_connection_states{state=\"syn_sent\"}", 0);
	EQ(t, "node_tcp_connection_states{state=\"rx_queued_bytes\"}", 4);
	EQ(t, "node_tcp_connection_states{state=\"tx_queued_bytes\"}", 16);

	EQ(t, "node_filefd_allocated", 538);
	EQ(t, "node_filefd_maximum", 2466167);

	/* processes: 4242 4243 4244 */
	EQ(t, "node_processes_pids", 3);
	EQ(t, "node_processes_threads", 5);
	EQ(t, "node_processes_state{state=\"S\"}", 2);
	EQ(t, "node_processes_state{state=\"R\"}", 1);
	EQ(t, "node_processes_max_processes", 32768);
	EQ(t, "node_processes_max_threads", 192730);
	EQ(t, "stackd_processes{daemon=\"webd\"}", 2);
	EQ(t, "stackd_process_cpu_seconds_total{daemon=\"webd\"}",
	    (150 + 75 + 30 + 20) / hz);
	EQ(t, "stackd_process_resident_memory_bytes{daemon=\"webd\"}",
	    (409 + 91) * page);
	EQ(t, "stackd_process_open_fds{daemon=\"webd\"}", 5);
	EQ(t, "stackd_processes{daemon=\"web d\"}", 1);
	EQ(t, "stackd_process_cpu_seconds_total{daemon=\"web d\"}", 10 / hz);
	EQ(t, "stackd_processes{daemon=\"lbd\"}", 0);
	EQ(t, "stackd_process_cpu_seconds_total{daemon=\"lbd\"}", 0);

	/* filesystem: self/mounts (there is no 1/mounts), excludes */
	HAS(t, "node_filesystem_size_bytes{device=\"/dev/vda\","
	    "fstype=\"ext4\",mountpoint=\"/\"}");
	ck_assert(sample(t, "node_filesystem_size_bytes{device=\"/dev/vda\","
	    "fstype=\"ext4\",mountpoint=\"/\"}") > 0);
	EQ(t, "node_filesystem_readonly{device=\"/dev/vda\","
	    "fstype=\"ext4\",mountpoint=\"/\"}", 0);
	EQ(t, "node_filesystem_device_error{device=\"/dev/vda\","
	    "fstype=\"ext4\",mountpoint=\"/\"}", 0);
	HAS(t, "node_filesystem_avail_bytes{device=\"tmpfs\","
	    "fstype=\"tmpfs\",mountpoint=\"/tmp\"}");
	EQ(t, "node_filesystem_device_error{device=\"/dev/vdb\","
	    "fstype=\"ext4\",mountpoint=\"/srv/my data\"}", 1);
	HAS(t, "node_filesystem_device_error{device=\"/dev/vdd\","
	    "fstype=\"ext4\",mountpoint=\"/var/lib/docker\"}");
	HASNOT(t, "node_filesystem_device_error{device=\"/dev/vdc\","
	    "fstype=\"ext4\",mountpoint=\"/var/lib/docker/overlay2\"}");
	ck_assert_ptr_null(strstr(t, "mountpoint=\"/proc\""));
	ck_assert_ptr_null(strstr(t, "mountpoint=\"/run\""));
	ck_assert_ptr_null(strstr(t, "mountpoint=\"/dev/shm\""));
	ck_assert_ptr_null(strstr(t, "mountpoint=\"/sys/fs/cgroup\""));
	ck_assert_ptr_null(strstr(t, "mountpoint=\"/home\""));

	EQ(t, "node_scrape_collector_success{collector=\"cpu\"}", 1);
	EQ(t, "node_scrape_collector_success{collector=\"processes\"}", 1);
	EQ(t, "node_scrape_collector_success{collector=\"tcpstat\"}", 1);
	HAS(t, "node_scrape_collector_duration_seconds{collector=\"meminfo\"}");
	fx_close(&f);
}
END_TEST


/* Many daemon processes: counting a daemon's fds lists its fd directory
 * from inside the /proc walk, which must not clobber the walk's own
 * getdents records (it did: agentd then spun forever in the walk). */
START_TEST(many_daemons)
{
	struct tmpdir td;
	struct fx f;
	const char *t;
	char	 cmd[2048], proc[300], err[256];

	tmpdir_make(&td, "ag_host");
	snprintf(proc, sizeof(proc), "%s", tmpdir_file(&td, "proc"));
	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s' && cd '%s' && "
	    "for i in $(seq 5000 5299); do cp -r 4242 $i; done",
	    fixture_proc(), proc, proc);
	ck_assert_int_eq(system(cmd), 0);
	fx_open(&f, proc, fx_daemons);
	ck_assert_msg(ag_host_collect(f.h, err, sizeof(err)) == 0, "%s", err);
	t = render(f.m, &f.b);
	EQ(t, "stackd_processes{daemon=\"webd\"}", 302);
	fx_close(&f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", td.dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A copy of the fixture whose files change between two collects: gone
 * devices lose their series, a daemon process that exits keeps its CPU
 * in the counter, a missing file fails only its collector. */
START_TEST(fixture_changes)
{
	struct tmpdir td;
	struct fx f;
	const char *t;
	char	 cmd[1024], proc[300], err[256];
	double	 hz = (double)sysconf(_SC_CLK_TCK);
	FILE	*fp;

	tmpdir_make(&td, "ag_host");
	snprintf(proc, sizeof(proc), "%s", tmpdir_file(&td, "proc"));
	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s'", fixture_proc(), proc);
	ck_assert_int_eq(system(cmd), 0);
	fx_open(&f, proc, fx_daemons);
	ck_assert_msg(ag_host_collect(f.h, err, sizeof(err)) == 0, "%s", err);

	ck_assert_ptr_nonnull(fp = fopen(tmpdir_file(&td, "proc/net/dev"),
	    "w"));
	fputs("Inter-|   Receive\n face |bytes\n"
	    "  eth0: 70000000 4000 0 0 0 0 0 0 300000 3500 0 0 0 0 0 0\n", fp);
	fclose(fp);
	/* 4244 exits, 4242 spends 100 more ticks, loadavg is emptied in
	 * place (the collector keeps it open) */
	snprintf(cmd, sizeof(cmd), "rm -r '%s/4244' && sed -i "
	    "'s/ 150 75 / 250 75 /' '%s/4242/stat' && : > '%s/loadavg'",
	    proc, proc, proc);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(ag_host_collect(f.h, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "loadavg") != NULL, "%s", err);
	t = render(f.m, &f.b);
	EQ(t, "node_network_receive_bytes_total{device=\"eth0\"}", 70000000);
	HASNOT(t, "node_network_receive_bytes_total{device=\"ifb0\"}");
	HASNOT(t, "node_network_transmit_colls_total{device=\"ifb1\"}");
	EQ(t, "stackd_processes{daemon=\"webd\"}", 1);
	EQ(t, "stackd_process_cpu_seconds_total{daemon=\"webd\"}",
	    (250 + 75 + 30 + 20) / hz);
	EQ(t, "node_load1", 3.16);	/* as it was */
	EQ(t, "node_scrape_collector_success{collector=\"loadavg\"}", 0);
	EQ(t, "node_scrape_collector_success{collector=\"netdev\"}", 1);
	fx_close(&f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", td.dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static void
self_comm(char *comm, size_t len)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen("/proc/self/comm", "r"));
	ck_assert_ptr_nonnull(fgets(comm, (int)len, fp));
	fclose(fp);
	comm[strcspn(comm, "\n")] = '\0';
}

static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

#define NLISTEN	64

START_TEST(real_proc)
{
	struct tmpdir td;
	struct fx f;
	const char *t;
	char	 comm[64], series[128], cmd[600], err[256];
	const char *daemons[] = { comm, NULL };
	double	 c0, c1, c2;
	FILE	*fp;
	int	 i, n = 200, ls[NLISTEN];

	self_comm(comm, sizeof(comm));
	/* 64 listeners: /proc/net/tcp past one page (~27 lines), so its
	 * seq_file needs several reads. */
	for (i = 0; i < NLISTEN; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		ck_assert_int_ne(ls[i] = socket(AF_INET, SOCK_STREAM, 0), -1);
		ck_assert_int_eq(bind(ls[i], (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		ck_assert_int_eq(listen(ls[i], 1), 0);
	}
	fx_open(&f, "/proc", daemons);
	ck_assert_msg(ag_host_collect(f.h, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(ag_host_collect(f.h, err, sizeof(err)) == 0, "%s", err);
	t = render(f.m, &f.b);
	ck_assert(sample(t, "node_memory_MemTotal_bytes") > 0);
	ck_assert(sample(t, "node_memory_MemAvailable_bytes") > 0);
	ck_assert(sample(t,
	    "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"}") > 0);
	ck_assert(sample(t, "node_load1") >= 0);
	ck_assert(sample(t, "node_boot_time_seconds") > 1e9);
	ck_assert(sample(t, "node_filefd_maximum") > 0);
	ck_assert(sample(t, "node_processes_pids") > 1);
	ck_assert(sample(t, "node_processes_threads") >=
	    sample(t, "node_processes_pids"));
	HAS(t, "node_tcp_connection_states{state=\"established\"}");
	ck_assert(sample(t, "node_tcp_connection_states{state=\"listen\"}") >=
	    NLISTEN);
	for (i = 0; i < NLISTEN; i++)
		close(ls[i]);
	ck_assert(strstr(t, "node_filesystem_size_bytes{") != NULL);
	snprintf(series, sizeof(series),
	    "stackd_processes{daemon=\"%s\"}", comm);
	ck_assert(sample(t, series) >= 1);
	snprintf(series, sizeof(series),
	    "stackd_process_resident_memory_bytes{daemon=\"%s\"}", comm);
	ck_assert(sample(t, series) > 0);
	snprintf(series, sizeof(series),
	    "stackd_process_open_fds{daemon=\"%s\"}", comm);
	ck_assert(sample(t, series) >= 3);
	ck_assert(strstr(t, "node_scrape_collector_success{collector=\"") !=
	    NULL);
	ck_assert_ptr_null(strstr(t, "node_scrape_collector_success{"
	    "collector=\"cpu\"} 0"));

	/* The whole exposition through promtool when it is installed. */
	tmpdir_make(&td, "ag_host_real");
	ck_assert_ptr_nonnull(fp = fopen(tmpdir_file(&td, "metrics.txt"),
	    "w"));
	fputs(t, fp);
	fclose(fp);
	if (system("command -v promtool >/dev/null 2>&1") == 0) {
		/* Exit 3 is lint only; the one lint allowed is the one
		 * node_exporter's own output has: its meminfo field names
		 * (node_memory_MemTotal_bytes) are not snake_case. */
		snprintf(cmd, sizeof(cmd), "cd '%s' && "
		    "promtool check metrics < metrics.txt > lint.txt 2>&1; "
		    "rc=$?; [ $rc = 0 ] || { [ $rc = 3 ] && ! grep -v "
		    "\"^node_memory_[A-Za-z0-9_]* metric names should be "
		    "written in 'snake_case' not 'camelCase'$\" lint.txt; }",
		    td.dir);
		ck_assert_msg(system(cmd) == 0, "promtool check metrics "
		    "refuses %s/metrics.txt", td.dir);
	} else
		fprintf(stderr, "ag_host: promtool not found, not run\n");

	/* CPU per collect, and per collect + render (a scrape). */
	c0 = cpu_now();
	for (i = 0; i < n; i++)
		ag_host_collect(f.h, err, sizeof(err));
	c1 = cpu_now();
	for (i = 0; i < n; i++) {
		ag_host_collect(f.h, err, sizeof(err));
		render(f.m, &f.b);
	}
	c2 = cpu_now();
	fprintf(stderr, "ag_host: %.3f ms CPU per collect, %.3f ms per "
	    "collect + render (%zu bytes), %d rounds\n",
	    (c1 - c0) * 1000 / n, (c2 - c1) * 1000 / n, strlen(t), n);
	fx_close(&f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", td.dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(bad_proc)
{
	struct metrics *m = metrics_new("");
	struct ag_host_opts o = { "/nonexistent/proc", "/sys", NULL };
	char	 err[256];

	ck_assert_ptr_null(ag_host_new(m, &o, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/proc"));
	metrics_free(m);
}
END_TEST

Suite *
ag_host_suite(void)
{
	Suite	*s = suite_create("ag_host");
	TCase	*tc = tcase_create("ag_host");

	tcase_add_test(tc, fixture_values);
	tcase_add_test(tc, fixture_changes);
	tcase_add_test(tc, many_daemons);
	tcase_add_test(tc, real_proc);
	tcase_add_test(tc, bad_proc);
	suite_add_tcase(s, tc);
	return s;
}
