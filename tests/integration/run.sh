#!/usr/bin/env bash
# Run integration tests: every tests/integration/t_*.sh, or those named.
# Prints each file's results, then "N passed, N failed" over all of them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${STACKD_BUILD:?STACKD_BUILD must point at the build dir}"
export STACKD_BUILD STACKD_SRC=${STACKD_SRC:-$(cd "$here/../.." && pwd)}

files=()
for t in "$@"; do
	t=${t#t_}
	files+=("$here/t_${t%.sh}.sh")
done
[ $# -gt 0 ] || files=("$here"/t_*.sh)

total_pass=0
total_fail=0
for f in "${files[@]}"; do
	[ -e "$f" ] || { echo "not ok - $(basename "$f"): no such test"; total_fail=$((total_fail + 1)); continue; }
	counts=$(mktemp)
	echo "# $(basename "$f")"
	T_COUNTS=$counts timeout 600 bash "$f"
	rc=$?
	if read -r p fl < "$counts" 2>/dev/null && [ -n "$p" ]; then
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
	rm -f "$counts"
done
[ -n "${STACKD_COUNTS:-}" ] && echo "$total_pass $total_fail" > "$STACKD_COUNTS"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
