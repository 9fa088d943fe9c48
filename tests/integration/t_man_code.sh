#!/usr/bin/env bash
# The man pages agree with the code: every configuration directive in a
# directive table, every control command in a command table and every
# command-line option in a getopt string has its entry (.It Ic/Cm/Fl) in
# the page that documents it. Names come from the C sources themselves,
# so a directive added without its documentation fails here.
. "$(dirname "$0")/lib.sh"

src=$STACKD_SRC
# Names of the rows of every `struct conf_directive NAME[] = {` or
# `struct ctl_command NAME[] = {` table (and the SERVICE_DIRECTIVES macro)
# in the given files, one per line.
table_names() {	# kind (conf_directive|ctl_command) files...
	local kind=$1; shift
	awk -v kind="$kind" '
	$0 ~ "struct " kind " [a-z_]+\\[\\] = \\{" { t = 1; next }
	kind == "conf_directive" && /^#define SERVICE_DIRECTIVES/ { t = 1; next }
	t && (/^\};/ || /^$/) { t = 0 }
	t && match($0, /^[ \t]*\{ *"[^"]+"/) {
		s = substr($0, RSTART, RLENGTH)
		sub(/^[ \t]*\{ *"/, "", s); sub(/"$/, "", s); print s
	}' "$@" | sort -u
}
# Letters of the first getopt() string in FILE.
getopt_letters() { sed -n 's/.*getopt(argc, argv, "[+:]*\([^"]*\)").*/\1/p' "$1" | head -n 1 | tr -d ':' | fold -w1; }
# PAGE has a list item (.It line) naming NAME with macro MAC (Ic, Cm,
# Fl), alone or among others: ".It Ic rate-above Ar n , Ic rate-below Ar n".
has_item() { grep -Eq "^\.It( .*)? $1 $2( |\$)" "$src/man/$3"; }

check() {	# what macro page names...
	local what=$1 mac=$2 page=$3 name missing=""; shift 3
	for name in "$@"; do
		has_item "$mac" "$name" "$page" || missing="$missing $name"
	done
	expect_eq "$page documents every $what ($#)" "${missing# }" ""
}

# daemon  conf page  ctl tool
while read -r d conf ctl; do
	# shellcheck disable=SC2046
	check "directive of $d" Ic "$conf" $(table_names conf_directive "$src/$d"/*.c)
	# shellcheck disable=SC2046
	check "control command of $d" Cm "$ctl" $(table_names ctl_command "$src/$d"/*.c)
	# shellcheck disable=SC2046
	check "option of $d" Fl "$d.8" $(getopt_letters "$src/common/daemon.c")
	# shellcheck disable=SC2046
	check "option of $ctl" Fl "$ctl" $(getopt_letters "$src/common/ctl_client.c")
done <<'TABLE'
lbd	lbd.conf.5	lbctl.8
webd	webd.conf.5	webctl.8
dbrouter	dbrouter.conf.5	dbctl.8
agentd	agentd.conf.5	agentctl.8
fwd	fwd.conf.5	fwctl.8
TABLE

# What every daemon shares: common/service.h's directives and the
# built-in control commands are in stackd.conf(5).
# shellcheck disable=SC2046
check "shared directive" Ic stackd.conf.5 $(table_names conf_directive "$src/common/service.h")
# shellcheck disable=SC2046
check "built-in control command" Ic stackd.conf.5 $(table_names ctl_command "$src/common/service.c") help
# The TLS block (common/conf_tls.c) of the daemons that use it.
for page in lbd.conf.5 dbrouter.conf.5; do
	# shellcheck disable=SC2046
	check "TLS block directive" Ic "$page" $(table_names conf_directive "$src/common/conf_tls.c")
done
# The checker itself finds names (a broken pattern would pass everything).
ok "the extraction finds lbd's directives" eval '[ "$(table_names conf_directive "$src"/lbd/*.c | wc -l)" -ge 15 ]'
ok "and fwd's commands" eval 'table_names ctl_command "$src"/fwd/*.c | grep -qx ban'
ok "and daemon options" eval 'getopt_letters "$src/common/daemon.c" | grep -qx N'
