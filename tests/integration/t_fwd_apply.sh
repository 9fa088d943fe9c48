#!/usr/bin/env bash
# The SSH guard of fwctl apply, reload and SIGHUP (a policy that would lock
# out a current SSH session, on the ports of the policy's service ssh, is
# refused unless "apply --force"), --confirm-within rolls back unless
# fwctl confirm arrives, and reload waits while a confirm is pending. An
# admin namespace on a veth pair holds an SSH-like session (nc on port 22).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

SOCK=$T_DIR/fwd.sock
CONF=$T_DIR/fwd.conf
fwctl() { "$BIN/fwctl" -s "$SOCK" "$@"; }
chain() { nft list chain inet stackd input; }
same_chain() { [ "$(chain)" = "$1" ]; }

policy() {	# extra lines after the common head
	{ echo "control \"$SOCK\""; echo 'service web { tcp 80 }'
	  echo 'allow web'; printf '%s\n' "$@"; } > "$CONF"
}
SSH_OK=('group admin { address 192.0.2.0/24 }' 'service ssh { tcp 22 }'
	'allow ssh from admin')

netns adm 192.0.2.1 192.0.2.10 24
start_peer sshd "ss -ltn | grep -q ':22 '" nc -lk 22
policy "${SSH_OK[@]}"
start_daemon fwd "$BIN/fwd" -f "$CONF"
A=$(chain)
start_peer session "ss -tn state established '( sport = :22 )' | grep -q 192.0.2.10" \
	in_ns adm sh -c 'sleep 100000 | nc 192.0.2.1 22'

# ---- the guard ----
policy
out=$(fwctl apply 2>&1); rc=$?
expect_eq "apply refuses a policy without ssh for the session" "$rc" 1
expect_match "and names the session's address" "$out" \
	'lock out the SSH session from 192\.0\.2\.10.*--force'
ok "the chain is unchanged" same_chain "$A"
policy 'group far { address 10.0.0.0/8 }' 'service ssh { tcp 22 }' 'allow ssh from far'
out=$(fwctl apply 2>&1)
expect_match "a policy allowing ssh only from elsewhere is refused too" "$out" \
	'lock out the SSH session from 192\.0\.2\.10'
policy 'group admin { address 192.0.2.10 }' 'service ssh { tcp 22 }' 'allow ssh from admin'
ok "a policy that keeps the session's address applies" fwctl apply
policy "${SSH_OK[@]}"
ok "back to the first policy" fwctl apply
ok "the chain is the first again" same_chain "$A"

# ---- reload and SIGHUP are guarded too; apply --force is the way past ----
policy
out=$(fwctl reload 2>&1); rc=$?
expect_eq "reload refuses a policy without ssh for the session" "$rc" 1
expect_match "with the same message" "$out" \
	'lock out the SSH session from 192\.0\.2\.10: no rule accepts a new tcp/22 .*fwctl apply --force'
ok "the chain is unchanged" same_chain "$A"
n=$(grep -c 'lock out the SSH session' "$(daemon_log fwd)")
kill -HUP "$(daemon_pid fwd)"
ok_wait "SIGHUP refuses it as well, in the log" 5 sh -c \
	'[ "$(grep -c "lock out the SSH session" "$1")" -gt "$2" ]' - "$(daemon_log fwd)" "$n"
ok "the chain is still unchanged" same_chain "$A"
ok "apply --force applies it" fwctl apply --force
fails "no ssh rule now" sh -c 'nft list chain inet stackd input | grep -q "dport 22"'
policy "${SSH_OK[@]}"
ok "reload back to the first policy (it admits the session)" fwctl reload
ok "the chain is the first again" same_chain "$A"

# ---- the SSH ports are the policy's service ssh ----
start_peer sshd2222 "ss -ltn | grep -q ':2222 '" nc -lk 2222
SSH2222=('group admin { address 192.0.2.0/24 }' 'service ssh { tcp 2222 22 }'
	'allow ssh from admin')
policy "${SSH2222[@]}"
ok "a policy with ssh on 2222 and 22" fwctl reload
start_peer session2222 "ss -tn state established '( sport = :2222 )' | grep -q 192.0.2.10" \
	in_ns adm sh -c 'sleep 100000 | nc 192.0.2.1 2222'
policy 'group admin { address 192.0.2.0/24 }' 'service ssh { tcp 22 }' 'allow ssh from admin'
out=$(fwctl reload 2>&1); rc=$?
expect_eq "moving ssh off 2222 under a session there is refused" "$rc" 1
expect_match "naming port 2222 (from the policy in force)" "$out" 'new tcp/2222 connection'
policy 'group admin { address 192.0.2.0/24 }' 'service ssh { tcp 2222 }' \
	'group far { address 10.0.0.0/8 }' 'service other { tcp 22 }' \
	'allow other from far' 'allow ssh from admin'
out=$(fwctl reload 2>&1); rc=$?
expect_eq "dropping 22 from service ssh does not hide the session on 22" "$rc" 1
expect_match "naming port 22" "$out" 'new tcp/22 connection'
stop_peer session2222
stop_peer sshd2222
policy "${SSH_OK[@]}"
ok "reload back to the first policy" fwctl reload
ok "the chain is the first again" same_chain "$A"

# ---- --confirm-within rolls back ----
# 3 s: the checks below must all run inside the window, on a loaded
# machine too (with 1 s the rollback came first under two ASan files).
policy
ok "apply --force --confirm-within 3s" fwctl apply --force --confirm-within 3s
expect_match "status shows the pending timer" "$(fwctl status)" \
	'confirm pending: rollback in [0-9]+ ms'
fails "the new ruleset is in force: no ssh rule" sh -c 'nft list chain inet stackd input | grep -q "dport 22"'
fails "reload waits while a confirm is pending" fwctl reload
fails "so does another apply" fwctl apply --force
t0=$(date +%s%N)
ok_wait "without confirm the previous ruleset comes back" 8 same_chain "$A"
echo "# rolled back after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
expect_match "status counts the rollback" "$(fwctl status)" 'rollbacks 1'
expect_match "and nothing is pending" "$(fwctl status)" 'confirm pending: no'
ok "a new ssh connection gets in after the rollback" conn adm 192.0.2.1 22
expect_match "the rollback is logged" "$(cat "$(daemon_log fwd)")" \
	'not confirmed in time: previous ruleset restored'

# ---- confirm keeps the new policy ----
policy "${SSH_OK[@]}" 'service https { tcp 443 }' 'allow https'
ok "apply --confirm-within 2s" fwctl apply --confirm-within 2s
ok "confirm" fwctl confirm
fails "a second confirm has nothing to confirm" fwctl confirm
B=$(chain)
fails "after confirm nothing rolls back (past the 2 s window)" wait_for 3 same_chain "$A"
ok "the confirmed ruleset stays" same_chain "$B"
expect_match "status: no rollback more" "$(fwctl status)" 'rollbacks 1'

# ---- bad input changes nothing ----
fails "apply refuses a bad duration" fwctl apply --confirm-within never
fails "apply refuses an unknown option" fwctl apply --now
printf 'control "%s"\nallow nothing\n' "$SOCK" > "$CONF"
fails "apply refuses a bad policy" fwctl apply --confirm-within 1s
expect_match "nothing pending after it" "$(fwctl status)" 'confirm pending: no'
ok "the ruleset is unchanged" same_chain "$B"

stop_daemon fwd
stop_peer session
stop_peer sshd
stop_peer ns_adm
