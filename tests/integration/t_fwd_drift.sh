#!/usr/bin/env bash
# fwd's drift repair: another tool deletes or changes table inet stackd and
# fwd puts the policy back within a second; changes to other tables are
# left alone. Runs in the test's own network namespace (loopback only).
. "$(dirname "$0")/lib.sh"

SOCK=$T_DIR/fwd.sock
fwctl() { "$BIN/fwctl" -s "$SOCK" "$@"; }
stat_of() { fwctl status | sed -n "s/^$1 //p"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

cat > "$T_DIR/fwd.conf" <<CONF
control "$SOCK"
service ssh { tcp 22 }
allow ssh
CONF
start_daemon fwd "$BIN/fwd" -f "$T_DIR/fwd.conf"
want=$(nft list chain inet stackd input)
expect_eq "no drift at start" "$(stat_of 'drift repairs')" 0

# ---- the table deleted ----
t0=$(now_ms)
nft delete table inet stackd
wait_for 5 nft list table inet stackd
ms=$(( $(now_ms) - t0 ))
echo "# table back after ${ms} ms"
ok "a deleted table is back within 1000 ms (${ms} ms)" test "$ms" -le 1000
ok_wait "the chain is the policy's again" 2 sh -c '[ "$(nft list chain inet stackd input)" = "$1" ]' - "$want"
ok_wait "status counts the repair" 2 sh -c '[ "$("$1" -s "$2" status | sed -n "s/^drift repairs //p")" -ge 1 ]' - "$BIN/fwctl" "$SOCK"
expect_match "the log names the change" "$(cat "$(daemon_log fwd)")" \
	'table inet stackd changed by another process \(delete'

# ---- a rule added ----
n=$(stat_of 'drift repairs')
nft add rule inet stackd input accept
ok_wait "an added rule is removed again" 2 sh -c '[ "$(nft list chain inet stackd input)" = "$1" ]' - "$want"
ok_wait "and counted" 2 sh -c '[ "$("$1" -s "$2" status | sed -n "s/^drift repairs //p")" -gt "$3" ]' - "$BIN/fwctl" "$SOCK" "$n"
expect_match "metrics count repairs" "$(fwctl metrics)" \
	'^stackd_fwd_drift_repairs_total [2-9]'

# ---- fwd's own changes and other tables are not drift ----
n=$(stat_of 'drift repairs')
e=$(stat_of 'drift events')
o=$(stat_of 'other-table events')
ok "ban" fwctl ban 192.0.2.7
ok "reload" fwctl reload
nft add table ip other
nft add chain ip other keep '{ type filter hook input priority 10; policy accept; }'
ok_wait "the other table's events are seen" 2 sh -c '[ "$("$1" -s "$2" status | sed -n "s/^other-table events //p")" -gt "$3" ]' - "$BIN/fwctl" "$SOCK" "$o"
expect_eq "neither is repaired" "$(stat_of 'drift repairs')" "$n"
expect_eq "nor counted as drift events" "$(stat_of 'drift events')" "$e"
expect_match "the other table is untouched" "$(nft list table ip other)" 'chain keep'
ok "the ban survived" sh -c '"$1" -s "$2" list | grep -qx 192.0.2.7' - "$BIN/fwctl" "$SOCK"

# ---- bans come back with a deleted table ----
nft delete table inet stackd
ok_wait "the table is back after a second delete" 2 nft list table inet stackd
ok_wait "with the ban in it" 2 sh -c '"$1" -s "$2" list | grep -qx 192.0.2.7' - "$BIN/fwctl" "$SOCK"

# ---- fwctl diff: the live table against the policy file ----
expect_eq "diff: none after an apply" "$(fwctl diff)" "no differences"
printf 'service web { tcp 80 }\nallow web\n' >> "$T_DIR/fwd.conf"
d=$(fwctl diff)
expect_match "diff shows the rule an edit of the file adds" "$d" \
	'^\+ rule web_from_any: .*dport|^\+ rule web_from_any: .*0x00005000'
expect_match "and counts the differences" "$d" '^1 difference$'
ok "reload" fwctl reload
expect_eq "diff: none after the reload" "$(fwctl diff)" "no differences"
echo 'allow nothing' >> "$T_DIR/fwd.conf"
out=$(fwctl diff 2>&1)
expect_match "diff reports a bad policy file with its line" "$out" 'fwd.conf:[0-9]+: allow'

stop_daemon fwd
