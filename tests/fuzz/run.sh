#!/bin/sh
# make fuzz: run every libFuzzer target for SECONDS on a scratch copy of its
# seed corpus (tests/fuzz/corpus/NAME); crashes are saved under build/fuzz/.
set -eu
dir=$1
secs=$2
status=0
clean=0
failed=0
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	work=$dir/corpus-$name
	mkdir -p "$work" "$dir/crashes-$name"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
	echo "== fuzz_$name for ${secs}s"
	if "$bin" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$dir/crashes-$name/" "$work" >"$dir/fuzz_$name.log" 2>&1; then
		grep -E 'stat::number_of_executed_units|Done' "$dir/fuzz_$name.log" | tail -n 2
		echo "fuzz_$name: clean"
		clean=$((clean + 1))
	else
		tail -n 30 "$dir/fuzz_$name.log"
		echo "fuzz_$name: FAILED (artifacts in $dir/crashes-$name)"
		status=1
		failed=$((failed + 1))
	fi
done
[ -n "${STACKD_COUNTS:-}" ] && echo "$clean $failed" > "$STACKD_COUNTS"
echo "fuzz: $clean passed, $failed failed"
exit $status
