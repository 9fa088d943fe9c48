#!/bin/sh
# Add the counts of a make check's stages (unit, integration, fuzz smoke)
# into one line. Unit and integration must have run.
set -u
dir=${1:-build/san}/results
p=0; f=0
for c in "$dir/unit.counts" "$dir/integration.counts"; do
	if [ ! -r "$c" ]; then
		echo "summary: $c missing: a test stage did not run" >&2
		f=$((f + 1))
	fi
done
for c in "$dir"/*.counts; do
	[ -r "$c" ] || continue
	read -r cp cf < "$c"
	p=$((p + cp)); f=$((f + cf))
done
echo "total: $p passed, $f failed"
[ "$f" -eq 0 ]
