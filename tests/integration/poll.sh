# shellcheck shell=bash
# wait_for, sourced by tests/integration/lib.sh and by bench/dbrouter.sh
# (which uses tests/integration/mariadb.sh without the rest of lib.sh).
#
#   wait_for SECS CMD...   poll CMD (every 20 ms) until it succeeds or time runs out

wait_for() {
	local secs=$1; shift
	local deadline=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	until "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $deadline ] && return 1
		sleep 0.02
	done
}
