#!/usr/bin/env bash
# fwctl apply: the SSH guard (a policy that would lock out a current SSH
# session is refused unless --force), --confirm-within rolls back unless
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
policy 'service ssh { tcp 22 }' 'allow ssh from 10.0.0.0/8'
fails "a policy allowing ssh only from elsewhere is refused too" fwctl apply
policy 'group admin { address 192.0.2.10 }' 'service ssh { tcp 22 }' 'allow ssh from admin'
ok "a policy that keeps the session's address applies" fwctl apply
policy "${SSH_OK[@]}"
ok "back to the first policy" fwctl apply
ok "the chain is the first again" same_chain "$A"

# ---- --confirm-within rolls back ----
policy
ok "apply --force --confirm-within 1s" fwctl apply --force --confirm-within 1s
expect_match "status shows the pending timer" "$(fwctl status)" \
	'confirm pending: rollback in [0-9]+ ms'
fails "the new ruleset is in force: no ssh rule" sh -c 'nft list chain inet stackd input | grep -q "dport 22"'
fails "reload waits while a confirm is pending" fwctl reload
fails "so does another apply" fwctl apply --force
t0=$(date +%s%N)
ok_wait "without confirm the previous ruleset comes back" 4 same_chain "$A"
echo "# rolled back after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
expect_match "status counts the rollback" "$(fwctl status)" 'rollbacks 1'
expect_match "and nothing is pending" "$(fwctl status)" 'confirm pending: no'
ok "a new ssh connection gets in after the rollback" conn adm 192.0.2.1 22
expect_match "the rollback is logged" "$(cat "$(daemon_log fwd)")" \
	'not confirmed in time: previous ruleset restored'

# ---- confirm keeps the new policy ----
policy "${SSH_OK[@]}" 'service https { tcp 443 }' 'allow https'
ok "apply --confirm-within 1s" fwctl apply --confirm-within 1s
ok "confirm" fwctl confirm
fails "a second confirm has nothing to confirm" fwctl confirm
B=$(chain)
fails "after confirm nothing rolls back" wait_for 2 same_chain "$A"
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
