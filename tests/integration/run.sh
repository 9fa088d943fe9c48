#!/usr/bin/env bash
# Run integration tests: every tests/integration/t_*.sh, or those named.
# Prints each file's results (whole, when it ends, with how long it took),
# then "N passed, N failed" over all of them.
#
# STACKD_TEST_JOBS=N runs N files at once (default 2). Each file runs in its
# own network namespace (lib.sh: unshare -rn) and temporary directory, so
# their ports and files cannot clash; the longest ones start first.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${STACKD_BUILD:?STACKD_BUILD must point at the build dir}"
export STACKD_BUILD STACKD_SRC=${STACKD_SRC:-$(cd "$here/../.." && pwd)}
jobs=${STACKD_TEST_JOBS:-2}
# Files that take minutes (waits, not CPU): started first.
slow="t_agentd t_lbd_testssl t_webd_workers t_lbd_load t_dbrouter_failover"

files=()
for t in "$@"; do
	t=${t#t_}
	files+=("$here/t_${t%.sh}.sh")
done
if [ $# -eq 0 ]; then
	for s in $slow; do [ -e "$here/$s.sh" ] && files+=("$here/$s.sh"); done
	for f in "$here"/t_*.sh; do
		case " $slow " in *" $(basename "$f" .sh) "*) continue ;; esac
		files+=("$f")
	done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
total_pass=0
total_fail=0

# One file, its output and counts kept in $work/N.*.
run_one() {
	local f=$1 n=$2 start rc
	start=$(date +%s)
	{
		echo "# $(basename "$f")"
		T_COUNTS="$work/$n.counts" timeout 600 bash "$f"
		rc=$?
		echo "# $(basename "$f"): $(( $(date +%s) - start )) s"
		echo "$rc" > "$work/$n.rc"
	} > "$work/$n.out" 2>&1
}

# Print a finished file and add up its counts.
collect() {
	local f=$1 n=$2 p fl rc
	cat "$work/$n.out"
	rc=$(cat "$work/$n.rc" 2>/dev/null || echo 1)
	if read -r p fl < "$work/$n.counts" 2>/dev/null && [ -n "$p" ]; then
		total_pass=$((total_pass + p)); total_fail=$((total_fail + fl))
		# A file that died after some checks still counts as a failure.
		if [ "$rc" -ne 0 ] && [ "$fl" -eq 0 ]; then
			echo "not ok - $(basename "$f") exited with status $rc"
			total_fail=$((total_fail + 1))
		fi
	else
		echo "not ok - $(basename "$f") reported no results (status $rc)"
		total_fail=$((total_fail + 1))
	fi
}

declare -A running=()	# pid -> index in files
for i in "${!files[@]}"; do
	f=${files[$i]}
	if [ ! -e "$f" ]; then
		echo "not ok - $(basename "$f"): no such test"
		total_fail=$((total_fail + 1))
		continue
	fi
	while [ "${#running[@]}" -ge "$jobs" ]; do
		wait -n -p done_pid "${!running[@]}"
		n=${running[$done_pid]}
		unset "running[$done_pid]"
		collect "${files[$n]}" "$n"
	done
	run_one "$f" "$i" &
	running[$!]=$i
done
while [ "${#running[@]}" -gt 0 ]; do
	wait -n -p done_pid "${!running[@]}"
	n=${running[$done_pid]}
	unset "running[$done_pid]"
	collect "${files[$n]}" "$n"
done
[ -n "${STACKD_COUNTS:-}" ] && echo "$total_pass $total_fail" > "$STACKD_COUNTS"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
