#!/usr/bin/env bash
# bench/dbrouter.sh — dbrouter vs HAProxy vs no proxy at all, side by side
# in one run. sysbench oltp_read_only, then oltp_read_write, each run three
# ways against the same servers: (a) direct to the MariaDB primary,
# (b) through HAProxy in `mode tcp` to the primary (`nbthread 1`: dbrouter
# is one process), (c) through dbrouter, configured with the primary and
# its replica (so it may send reads to the replica: that is its job).
# oltp_read_only runs with --skip_trx=on in all three columns: inside
# BEGIN ... COMMIT every statement belongs on the primary (a transaction
# must see one server), so only statements outside a transaction can be
# split; oltp_read_write keeps its transactions.
# Prints for each: queries/s (all of sysbench's statements, BEGIN/COMMIT
# included) and the 95th percentile latency of a transaction (ms), then the
# ratios dbrouter/haproxy and dbrouter/direct (qps: higher is better; p95:
# lower is better), and the CPU time each proxy spent per query (lower is
# better: on a small machine the proxy takes its CPU from MariaDB and
# sysbench, so this is the figure that carries over to other machines).
#
# The servers: a MariaDB primary and one replica (GTID replication), from
# fresh datadirs, started here as whatever user runs this, on loopback
# ports, by tests/integration/mariadb.sh (the integration tests' harness;
# its buffer pool is raised to 64 MiB here so the tables stay in memory).
# The sysbench tables are made once on the primary (prepare); the replica
# catches up before each figure, so none of the runs pays for another's
# writes. sysbench logs in as `app`; dbrouter checks the same password
# from its users file and monitors as `dbrouter`.
#
# Until dbrouter routes (listen, users-file, max-lag), its `-n` refuses the
# config: the dbrouter column then says why and the direct and HAProxy
# figures are still printed. A sysbench run through dbrouter that fails
# (say, prepared statements not handled) is reported the same way.
#
# Where it runs: in a private network namespace (unshare -rn) when it can,
# so its ports cannot clash with anything else on the machine.
#
#   BENCH_TIME=10        seconds per sysbench run
#   BENCH_THREADS=8      sysbench threads (client connections)
#   BENCH_TABLES=4       sysbench tables ...
#   BENCH_TABLE_SIZE=10000  ... of this many rows each
#   BENCH_PS=auto        sysbench --db-ps-mode: auto (server-side prepared
#                        statements) or disable (plain text queries)
#   BENCH_SMOKE=1        a quick check that it all runs (CI): 2 s runs,
#                        1 thread, 1 table x 1000 rows, unless set above
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
: "${STACKD_BUILD:=build}"
STACKD_BUILD=$(cd "$STACKD_BUILD" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
	T=${BENCH_TIME:-2} THREADS=${BENCH_THREADS:-1}
	TABLES=${BENCH_TABLES:-1} ROWS=${BENCH_TABLE_SIZE:-1000}
else
	T=${BENCH_TIME:-10} THREADS=${BENCH_THREADS:-8}
	TABLES=${BENCH_TABLES:-4} ROWS=${BENCH_TABLE_SIZE:-10000}
fi
PS=${BENCH_PS:-auto}
case $PS in auto|disable) ;; *) echo "bench: BENCH_PS is auto or disable, not $PS"; exit 1 ;; esac
DBR=$STACKD_BUILD/bin/dbrouter
for tool in haproxy sysbench mariadbd mariadb-install-db mariadb mariadb-admin; do
	command -v $tool >/dev/null || { echo "bench: $tool missing (make deps)"; exit 1; }
done
[ -x "$DBR" ] || { echo "bench: $DBR missing (make all)"; exit 1; }
if [ -z "${STACKD_BENCH_NS:-}" ]; then
	if unshare -rn true 2>/dev/null; then
		STACKD_BENCH_NS=1 STACKD_BUILD=$STACKD_BUILD exec unshare -rn bash "$0" "$@"
	fi
	echo "bench: unshare -rn not available; using the host's loopback"
fi
[ "${STACKD_BENCH_NS:-}" = 1 ] && ip link set lo up

dir=$(mktemp -d "${TMPDIR:-/tmp}/stackd-bench-dbrouter.XXXXXX")
pids=""
# What mariadb.sh takes from lib.sh: its directory, the servers it
# started (T_DAEMONS, pids in $T_DIR/NAME.pid), pass/fail, wait_for.
T_DIR=$dir
T_DAEMONS=""
pass() { :; }
fail() { echo "bench: $1" >&2; shift; [ $# -eq 0 ] || printf '  %s\n' "$@" >&2; }
DB_SB_TABLES=$TABLES
DB_SB_SIZE=$ROWS
. "$SRC/tests/integration/poll.sh"
# mariadb.sh's sysbench, bounded: a proxy that stalls must not hang the bench.
sysbench() { timeout $((T + 120 + TABLES * ROWS / 1000)) "$(command -v sysbench)" "$@"; }
# Native AIO as in production (the tests turn it off to run side by side).
DB_NATIVE_AIO=1
. "$SRC/tests/integration/mariadb.sh"
cleanup() {
	for n in $T_DAEMONS; do
		[ -e "$dir/$n.pid" ] && pids="$pids $(cat "$dir/$n.pid")"
	done
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# Ports: MariaDB primary 13316, replica 13317; HAProxy 13318; dbrouter 13319.
P1=13316 P2=13317 HP=13318 DP=13319

# ---- the servers ----
db_init db1 $P1 || exit 1
db_init db2 $P2 || exit 1
db_start db1 --innodb-buffer-pool-size=64M || exit 1
db_start db2 --innodb-buffer-pool-size=64M || exit 1
db_users db1 || { echo "bench: users on db1"; exit 1; }
db_replica_of db2 db1 || exit 1
if ! db_sysbench_prepare $P1; then
	echo "bench: sysbench prepare failed"; exit 1
fi
# The replica has the tables before anything is measured.
db_wait_gtid db2 "$(db_gtid db1)" 120 || { echo "bench: db2 did not catch up"; exit 1; }

cat > "$dir/haproxy.cfg" <<CONF
global
	nbthread 1
	maxconn 4000
defaults
	mode tcp
	timeout connect 5s
	timeout client 120s
	timeout server 120s
listen db
	bind 127.0.0.1:$HP
	server db1 127.0.0.1:$P1
CONF
# Without -W, HAProxy is one process.
haproxy -db -f "$dir/haproxy.cfg" 2>"$dir/haproxy.log" &
hap_pid=$!
pids="$pids $hap_pid"
if ! wait_for 20 db_query $HP app apppass "SELECT 1"; then
	echo "bench: haproxy did not start"; cat "$dir/haproxy.log"; exit 1
fi

# ---- dbrouter: primary and replica, the application user in its file ----
(umask 077
printf 'routerpass\n' > "$dir/monitor.pw"
printf 'app %s\n' "$(db_val db1 "SELECT PASSWORD('apppass')")" > "$dir/users")
cat > "$dir/dbrouter.conf" <<CONF
control "$dir/dbrouter.sock"
listen "127.0.0.1:$DP"
users-file "$dir/users"
server "db1" "127.0.0.1:$P1"
server "db2" "127.0.0.1:$P2"
monitor-user "dbrouter"
monitor-password-file "$dir/monitor.pw"
check-interval 1s
max-lag 5s
user "$(id -un)"
CONF
dbr_err="" dbr_pid=""
# One line: the messages joined, without the temp dir's name.
oneline() { sed "s|$dir/||g" | awk 'NF { printf "%s%s", (n++ ? "; " : ""), $0 }'; }
if ! out=$("$DBR" -n -f "$dir/dbrouter.conf" 2>&1); then
	dbr_err="dbrouter -n: $(printf '%s\n' "$out" | oneline)"
else
	# Ready when it answers as the application: it has found the primary.
	"$DBR" -d -f "$dir/dbrouter.conf" 2>"$dir/dbrouter.log" &
	dbr_pid=$!
	pids="$pids $dbr_pid"
	# (A process that exited stays a zombie, state Z, until reaped.)
	alive() { [ "$(sed 's/^.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ] &&
	    [ -e "/proc/$1/stat" ]; }
	answers() { db_query $DP app apppass "SELECT 1" || ! alive $dbr_pid; }
	wait_for 20 answers || true
	if ! db_query $DP app apppass "SELECT 1" >/dev/null 2>&1; then
		if alive $dbr_pid; then
			dbr_err="no answer as app within 20 s: $(db_query $DP app apppass "SELECT 1" 2>&1 | oneline)"
		else
			dbr_err="it exited: $(tail -n 3 "$dir/dbrouter.log" | oneline)"
		fi
	fi
fi

# ---- the runs ----
# CPU time (user + system) of process PID so far, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# "qps p95 errors reconnects cpu" of sysbench TEST through PORT for SECS,
# cpu being the microseconds of CPU process PID (the proxy) spent per
# query ("-" without a PID).
run() {
	local r c0=0 c1=0
	[ -n "${4:-}" ] && c0=$(cpu_ticks "$4")
	local trx=
	[ "$1" = oltp_read_only ] && trx=--skip_trx=on
	r=$(db_sysbench_run 127.0.0.1 "$2" "$1" "$THREADS" "$3" --db-ps-mode="$PS" \
	    $trx 2>"$dir/run.err") || return 1
	[ -n "${4:-}" ] && c1=$(cpu_ticks "$4")
	# The replica applies what a run wrote before the next run starts.
	db_wait_gtid db2 "$(db_gtid db1)" 120 || return 1
	printf '%s\n' "$r" | awk -v t="$3" -v ticks=$((c1 - c0)) -v hz="$HZ" -v pid="${4:-}" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		cpu = "-"
		if (pid != "" && v["qps"] > 0) cpu = sprintf("%.1f", ticks * 1e6 / hz / (v["qps"] * t))
		print v["qps"], v["p95_ms"], v["errors"] + 0, v["reconnects"] + 0, cpu }'
}
ratio() {
	case "$1$2" in *-*) echo -; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { a += 0; b += 0; printf "%.2f", (b > 0 ? a / b : 0) }'
}
row() { printf '%-24s %10s %10s %10s %8s %10s\n' "$@"; }

# Warm up both servers: the first figure must not pay for a cold start,
# and dbrouter's reads go to the replica.
for p in $P1 $P2; do
	run oltp_read_only $p $(( T < 2 ? T : 2 )) "" >/dev/null ||
		{ echo "bench: warm-up run failed"; cat "$dir/run.err"; exit 1; }
done

echo "sysbench $(sysbench --version | awk '{ print $2 }'): threads $THREADS, ${T} s per run," \
    "$TABLES tables x $ROWS rows, --db-ps-mode=$PS; $(mariadbd --version 2>/dev/null | awk '{ print $3 }')," \
    "$(haproxy -v | awk 'NR == 1 { print "HAProxy " $3 }')"
row "figure" direct haproxy dbrouter dbr/hap dbr/direct
notes=""
for test in oltp_read_only oltp_read_write; do
	r=$(run $test $P1 "$T") || { echo "bench: $test direct failed"; cat "$dir/run.err"; exit 1; }
	read -r dq dp e n _ <<< "$r"; de=$e/$n
	r=$(run $test $HP "$T" $hap_pid) ||
		{ echo "bench: $test through haproxy failed"; cat "$dir/run.err"; exit 1; }
	read -r hq hp e n hc <<< "$r"; he=$e/$n
	rq=- rp=- re=- rc=-
	if [ -z "$dbr_err" ]; then
		if r=$(run $test $DP "$T" $dbr_pid); then
			read -r rq rp e n rc <<< "$r"; re=$e/$n
		else
			dbr_err="sysbench $test: $(tail -n 3 "$dir/run.err" | oneline)"
		fi
	fi
	row "$test qps" "$dq" "$hq" "$rq" "$(ratio "$rq" "$hq")" "$(ratio "$rq" "$dq")"
	row "$test p95 ms" "$dp" "$hp" "$rp" "$(ratio "$rp" "$hp")" "$(ratio "$rp" "$dp")"
	row "  proxy CPU us/query" - "$hc" "$rc" "$(ratio "$rc" "$hc")" -
	notes="$notes$(printf '\n  %-17s direct %s, haproxy %s, dbrouter %s' "$test" "$de" "$he" "$re")"
done
echo "(qps ratios: higher is better; p95 and CPU ratios: lower is better)"
echo "(sysbench errors ignored/reconnects, errors being deadlocks it retried:$notes)"
if [ -n "$dbr_err" ]; then
	echo "dbrouter: not measured ($dbr_err)"
fi
