#!/usr/bin/env bash
# Every man page passes mandoc's linter (warnings are failures).
. "$(dirname "$0")/lib.sh"

n=0
for page in "$STACKD_SRC"/man/*.[1-9]; do
	[ -e "$page" ] || continue
	n=$((n + 1))
	ok "$(basename "$page") passes mandoc -Tlint -Wwarning" mandoc -Tlint -Wwarning "$page"
done
ok "man pages were found" test "$n" -gt 0
