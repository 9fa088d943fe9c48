#!/usr/bin/env bash
# fwd's full resync when the kernel drops monitor events (ENOBUFS): the
# monitor socket's buffer is shrunk (monitor-buffer 4k) and fwd is stopped
# (SIGSTOP) while one nft transaction adds a burst of rules to another
# table and then changes fwd's own table, so the events of that change are
# really lost. After SIGCONT fwd must log the overrun, compare the live
# table with the policy and re-apply only when they differ.
. "$(dirname "$0")/lib.sh"

SOCK=$T_DIR/fwd.sock
CONF=$T_DIR/fwd.conf
fwctl() { "$BIN/fwctl" -s "$SOCK" "$@"; }
stat_of() { fwctl status | sed -n "s/^$1 //p"; }
chain() { nft list chain inet stackd input; }
same_chain() { [ "$(chain)" = "$1" ]; }
log_has() { grep -Eq -- "$1" "$(daemon_log fwd)"; }
stat_gt() { [ "$(stat_of "$1")" -gt "$2" ]; }

# ---- the directive ----
printf 'control "%s"\nmonitor-buffer 1\n' "$SOCK" > "$CONF"
out=$("$BIN/fwd" -n -f "$CONF" 2>&1); rc=$?
expect_eq "fwd -n refuses a monitor-buffer below 4k" "$rc" 1
expect_match "naming the line" "$out" 'fwd.conf:2: .*monitor-buffer'

cat > "$CONF" <<CONF
control "$SOCK"
monitor-buffer 4k
service ssh { tcp 22 }
allow ssh
CONF
start_daemon fwd "$BIN/fwd" -f "$CONF"
want=$(chain)
ok "ban" fwctl ban 192.0.2.7

# One transaction (nft inside unshare -rn takes about 300 rules at most):
# N rules in table ip other (each an event), then CMD on
# table inet stackd last, so its events are among those dropped.
burst() {	# n nft-command-on-stackd-or-empty
	{ echo "add table ip other"
	  echo "add chain ip other c"
	  for i in $(seq "$1"); do echo "add rule ip other c tcp dport $((1000 + i)) counter accept"; done
	  [ -n "$2" ] && echo "$2"; } > "$T_DIR/burst.nft"
	kill -STOP "$(daemon_pid fwd)"
	nft -f "$T_DIR/burst.nft"; local rc=$?
	kill -CONT "$(daemon_pid fwd)"
	return $rc
}

# ---- lost events, fwd's table unchanged: compared, not re-applied ----
o=$(stat_of 'monitor overruns')
r=$(stat_of 'drift repairs')
ok "a burst of 200 rules in another table" burst 200 ""
ok_wait "the overrun is counted" 5 stat_gt 'monitor overruns' "$o"
ok_wait "and logged" 5 log_has 'netlink monitor overrun: the kernel dropped nftables events \(ENOBUFS'
ok_wait "the generation moved: the table is compared and found to match" 5 \
	log_has 'full resync: table inet stackd matches the policy'
expect_eq "so it is not re-applied" "$(stat_of 'drift repairs')" "$r"
ok "the chain is the policy's" same_chain "$want"
nft delete table ip other

# ---- lost events that hid a change to fwd's table: repaired ----
o=$(stat_of 'monitor overruns')
ok "a burst, then a rule added to inet stackd" \
	burst 200 "add rule inet stackd input tcp dport 4444 accept"
ok_wait "the overrun is counted" 5 stat_gt 'monitor overruns' "$o"
ok_wait "the difference is found" 5 \
	log_has 'full resync: table inet stackd differs from the policy \(.*\): re-applying'
ok_wait "and repaired" 5 same_chain "$want"
ok_wait "status counts the repair" 5 stat_gt 'drift repairs' "$r"
nft delete table ip other

# ---- lost events that hid a deleted ban: put back ----
r=$(stat_of 'drift repairs')
ok "a burst, then fwd's ban deleted" \
	burst 200 "delete element inet stackd ban_v4 { 192.0.2.7 }"
ok_wait "the missing ban is found" 5 \
	log_has "1 of fwd's bans missing from the ban sets"
ok_wait "and put back" 5 sh -c '"$1" -s "$2" list | grep -qx 192.0.2.7' - "$BIN/fwctl" "$SOCK"
ok_wait "status counts the repair" 5 stat_gt 'drift repairs' "$r"
nft delete table ip other

# ---- a reload with a bigger buffer: a burst loses nothing ----
sed -i 's/^monitor-buffer 4k$/monitor-buffer 16m/' "$CONF"
ok "reload with monitor-buffer 16m" fwctl reload
o=$(stat_of 'monitor overruns')
e=$(stat_of 'other-table events')
ok "a burst of 200" burst 200 ""
ok_wait "is seen event by event" 5 stat_gt 'other-table events' $((e + 200))
expect_eq "without an overrun" "$(stat_of 'monitor overruns')" "$o"

stop_daemon fwd
