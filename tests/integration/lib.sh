# Integration-test library, sourced by every tests/integration/t_*.sh.
#
# Each test file runs in its own user + network namespace (`unshare -rn`):
# only a loopback interface, no root needed, the host's network and firewall
# untouched, and every port free. It gets a temp dir removed at exit.
#
#   ok NAME CMD...         pass when CMD exits 0
#   fails NAME CMD...      pass when CMD exits non-zero
#   expect_eq NAME GOT WANT
#   expect_match NAME TEXT ERE
#   wait_for SECS CMD...   poll CMD (every 20 ms) until it succeeds or time runs out
#   ok_wait NAME SECS CMD...  pass when CMD succeeds within SECS (CMD may be a
#                          shell function: it runs in this shell)
#   start_daemon NAME CMD...  run CMD -d -N 3 and wait for READY=1 on fd 3
#   stop_daemon NAME       SIGTERM, wait, pass only on exit status 0 (ASan
#                          leak reports make it non-zero)
#   daemon_pid NAME
#   start_peer NAME READY CMD...  run a peer server (php-fpm, an app server)
#                          in the background until the shell command READY
#                          succeeds; it is killed at exit
#   stop_peer NAME         SIGTERM it and reap it
#
# At exit the file prints "N passed, N failed" and writes the counts to
# $T_COUNTS for run.sh.

if [ -z "${STACKD_IN_NS:-}" ]; then
	if unshare -rn true 2>/dev/null; then
		STACKD_IN_NS=1 exec unshare -rn bash "$0" "$@"
	fi
	echo "# warning: unshare -rn not available; running in the host namespace" >&2
	STACKD_IN_NS=host
fi
[ "$STACKD_IN_NS" = 1 ] && ip link set lo up

: "${STACKD_BUILD:?STACKD_BUILD must point at the build dir (make check sets it)}"
: "${STACKD_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
BIN=$STACKD_BUILD/bin
TESTBIN=$STACKD_BUILD/tests
CERTS=$STACKD_BUILD/certs
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/stackd-$T_NAME.XXXXXX")
T_PASS=0
T_FAIL=0
T_DAEMONS=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

pass() { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
fail() {
	T_FAIL=$((T_FAIL + 1)); echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	return 0
}

ok() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "command: $*" "$(printf '%s' "$out" | tail -n 5)"; fi
}

fails() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then fail "$name" "expected failure: $*" "$(printf '%s' "$out" | tail -n 5)"; else pass "$name"; fi
}

expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got:  $2" "want: $3"; fi
}

expect_match() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then pass "$1"; else
		fail "$1" "no match for /$3/ in:" "$(printf '%s' "$2" | head -n 10)"; fi
}

# wait_for: shared with bench/dbrouter.sh
. "$STACKD_SRC/tests/integration/poll.sh"

ok_wait() {
	local name=$1 secs=$2; shift 2
	if wait_for "$secs" "$@"; then pass "$name"; else
		fail "$name" "not true within ${secs}s: $*"; fi
}

daemon_pid() { cat "$T_DIR/$1.pid" 2>/dev/null; }
daemon_log() { echo "$T_DIR/$1.log"; }

# The daemon writes "READY=1" on fd 3 (its -N 3) once it serves; a daemon that
# dies first closes the pipe and the read ends at once: no sleeping.
start_daemon() {
	local name=$1; shift
	local fifo=$T_DIR/$name.ready line=""
	rm -f "$fifo"; mkfifo "$fifo"
	"$@" -d -N 3 3>"$fifo" >"$T_DIR/$name.log" 2>&1 &
	echo $! > "$T_DIR/$name.pid"
	T_DAEMONS="$name $T_DAEMONS"
	if read -r -t 20 line < "$fifo" && [ "$line" = "READY=1" ]; then
		pass "$name starts and reports ready"
		return 0
	fi
	fail "$name starts and reports ready" "readiness: '${line}'" "$(tail -n 10 "$T_DIR/$name.log")"
	return 1
}

stop_daemon() {
	local name=$1 pid rc
	pid=$(daemon_pid "$name") || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"; rc=$?
	rm -f "$T_DIR/$name.pid"
	if [ "$rc" -eq 0 ]; then pass "$name stops cleanly on SIGTERM"; else
		fail "$name stops cleanly on SIGTERM" "exit status $rc" "$(tail -n 20 "$T_DIR/$name.log")"; fi
}

start_peer() {
	local name=$1 ready=$2; shift 2
	"$@" >"$T_DIR/$name.log" 2>&1 &
	echo $! > "$T_DIR/$name.pid"
	T_DAEMONS="$name $T_DAEMONS"
	if wait_for 20 eval "$ready"; then
		pass "$name is up"
		return 0
	fi
	fail "$name is up" "$(tail -n 10 "$T_DIR/$name.log")"
	return 1
}

stop_peer() {
	local pid
	pid=$(daemon_pid "$1") || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T_DIR/$1.pid"
}

t_finish() {
	local n
	for n in $T_DAEMONS; do
		[ -e "$T_DIR/$n.pid" ] && kill -KILL "$(daemon_pid "$n")" 2>/dev/null
	done
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
	[ -n "${T_COUNTS:-}" ] && echo "$T_PASS $T_FAIL" > "$T_COUNTS"
	[ -n "${STACKD_KEEP:-}" ] || rm -rf "$T_DIR"
}
trap t_finish EXIT
# run.sh's timeout sends SIGTERM: record a failure and leave through the
# EXIT trap, so daemons are killed and $T_DIR removed (a bare SIGTERM would
# skip it and the file would count as passed).
t_on_signal() {
	fail "$T_NAME killed by a signal (timeout?)"
	exit 143
}
trap t_on_signal TERM INT
