#!/usr/bin/env bash
# fwd in the test's network namespace (the firewalled host), three client
# namespaces on veth pairs playing lb-01, web-01 and an outsider; the site's
# role policies from etc/fwd applied in turn, connections tried with nc,
# the kernel's ruleset read back with nft.
. "$(dirname "$0")/lib.sh"

FWD=$BIN/fwd
SOCK=$T_DIR/fwd.sock
CONF=$T_DIR/fwd.conf
fwctl() { "$BIN/fwctl" -s "$SOCK" "$@"; }

. "$(dirname "$0")/netns.sh"

netns lb 198.51.100.1 198.51.100.10 28
netns web 198.51.100.17 198.51.100.21 28
netns out 203.0.113.1 203.0.113.5 24

for port in 22 80 443 3306 8443; do
	start_peer "listen$port" "ss -ltn | grep -q ':$port '" nc -lk "$port"
done
ok "clients reach the host before any firewall" conn out 203.0.113.1 22

# The role policy as shipped, with the test's control socket, and the
# site's addresses (etc/foobar/site.conf's plan) moved to this test's
# namespaces: lb-01 10.0.0.10 is ns lb, web-01 10.0.0.11 is ns web.
role() {
	{ echo "control \"$SOCK\""; echo "state-file \"$T_DIR/fwd.bans\"";
	  sed -e 's/"10\.0\.0\.10"/"198.51.100.10"/' -e 's/"10\.0\.0\.11"/"198.51.100.21"/' \
	      -e 's/"10\.0\.0\.12"/"198.51.100.22"/' "$STACKD_SRC/etc/fwd/$1.conf"; } > "$CONF"
	grep -q '10\.0\.0\.1[0-2]' "$CONF" && { fail "role $1: a site address left unmapped"; return 1; }
	return 0
}

# ---- check mode ----
for r in lb web db; do
	ok "fwd -n accepts etc/fwd/$r.conf" "$FWD" -n -f "$STACKD_SRC/etc/fwd/$r.conf"
done
printf 'service s { tcp 22 }\nallow s from nowhere\n' > "$T_DIR/bad.conf"
out=$("$FWD" -n -f "$T_DIR/bad.conf" 2>&1); rc=$?
expect_eq "fwd -n refuses a bad policy" "$rc" 1
expect_match "the error names file:line" "$out" 'bad.conf:2: allow: no group named "nowhere"'
out=$("$FWD" -n -v -f "$STACKD_SRC/etc/fwd/lb.conf" | grep -v '^configuration OK')
echo "$out" > "$T_DIR/lb.nft"
ok "fwd -n -v prints a ruleset nft accepts" nft -c -f "$T_DIR/lb.nft"

# ---- lb role ----
nft add table ip other
nft add chain ip other keep '{ type filter hook input priority 10; policy accept; }'
role lb
start_daemon fwd "$FWD" -f "$CONF"
rules=$(nft list ruleset)
expect_match "nft list ruleset shows table inet stackd" "$rules" 'table inet stackd'
expect_match "the chain drops by default" "$rules" 'hook input priority filter; policy drop;'
ok "lb: https from anywhere" conn out 203.0.113.1 443
ok "lb: http from anywhere" conn out 203.0.113.1 80
fails "lb: ssh from outside the admin group is dropped" conn out 203.0.113.1 22
fails "lb: mysql is dropped" conn out 203.0.113.1 3306
expect_match "show --nft prints what is applied" "$(fwctl show --nft)" \
	'tcp dport 443 counter name "https_from_any" accept'
m=$(fwctl metrics)
expect_match "metrics: per-rule packet counters" "$m" \
	'stackd_fwd_rule_packets_total\{rule="https_from_any"\} [1-9]'
expect_match "metrics: drops counted" "$m" \
	'stackd_fwd_rule_packets_total\{rule="dropped"\} [1-9]'
if command -v promtool >/dev/null; then
	ok "metrics pass promtool" sh -c "\"$BIN/fwctl\" -s \"$SOCK\" metrics | promtool check metrics"
fi

# ---- web role, by reload ----
role web
ok "reload applies the web policy" fwctl reload
ok "web: 8443 from lb" conn lb 198.51.100.1 8443
ok "web: 80 from lb" conn lb 198.51.100.1 80
fails "web: 3306 from lb is dropped" conn lb 198.51.100.1 3306
ok "web: 3306 from a web host" conn web 198.51.100.17 3306
fails "web: 8443 from a web host is dropped" conn web 198.51.100.17 8443
fails "web: 80 from outside is dropped" conn out 203.0.113.1 80
expect_match "a table fwd does not own is untouched" "$(nft list table ip other)" \
	'chain keep'

# ---- a bad policy changes nothing ----
before=$(nft list chain inet stackd input)
printf 'control "%s"\nservice s { tcp 99999 }\n' "$SOCK" > "$CONF"
fails "reload refuses a bad policy" fwctl reload
expect_eq "the applied ruleset is unchanged" "$(nft list chain inet stackd input)" "$before"
ok "web policy still in force" conn lb 198.51.100.1 8443

# ---- db role ----
role db
ok "reload applies the db policy" fwctl reload
ok "db: 3306 from a web host" conn web 198.51.100.17 3306
fails "db: 3306 from lb is dropped" conn lb 198.51.100.1 3306

# ---- bans ----
ok "ban with a timeout" fwctl ban 198.51.100.21 for 2s
expect_match "list shows the ban and its expiry" "$(fwctl list)" '^198\.51\.100\.21 expires [12]s'
fails "a banned address is dropped" conn web 198.51.100.17 3306
ok_wait "the ban expires" 6 conn web 198.51.100.17 3306
ok "ban without a timeout" fwctl ban 198.51.100.21
ok "a ban survives a reload" sh -c "\"$BIN/fwctl\" -s \"$SOCK\" reload && \"$BIN/fwctl\" -s \"$SOCK\" list | grep -qx 198.51.100.21"
ok "unban" fwctl unban 198.51.100.21
ok "unbanned address gets through" conn web 198.51.100.17 3306
fails "unban of an address not banned fails" fwctl unban 198.51.100.21
fails "ban refuses a bad address" fwctl ban 300.1.2.3
fails "ban refuses a bad duration" fwctl ban 198.51.100.21 for ever

# ---- bans survive a restart: the state file ----
ok "ban for 1h" fwctl ban 198.51.100.21 for 1h
ok_wait "the state file holds it" 2 grep -Eqx \
	'ban 198\.51\.100\.21 until [0-9]{13}' "$T_DIR/fwd.bans"
stop_daemon fwd
nft delete table inet stackd	# as after a reboot: the kernel forgot it
start_daemon fwd "$FWD" -f "$CONF"
fails "after a restart the ban still blocks" conn web 198.51.100.17 3306
ok_wait "list shows it with a reduced timeout" 3 sh -c '"$1" -s "$2" list |
	grep -Eqx "198\.51\.100\.21 expires (3[0-5][0-9][0-9]|[12]?[0-9]{1,3})s"' - "$BIN/fwctl" "$SOCK"
ok "unban after the restart" fwctl unban 198.51.100.21
ok_wait "the state file (a journal) records the unban" 2 sh -c \
	'[ "$(tail -n 1 "$1")" = "unban 198.51.100.21" ]' - "$T_DIR/fwd.bans"
ok "unbanned address gets through again" conn web 198.51.100.17 3306
ok "ban another" fwctl ban 198.51.100.22
ok_wait "appended after it" 2 sh -c \
	'[ "$(tail -n 1 "$1")" = "ban 198.51.100.22" ]' - "$T_DIR/fwd.bans"
stop_daemon fwd
start_daemon fwd "$FWD" -f "$CONF"
ok_wait "a restart compacts the state file: the unbanned address is gone" 2 \
	sh -c '! grep -q 198.51.100.21 "$1" && grep -qx "ban 198.51.100.22" "$1"' \
	- "$T_DIR/fwd.bans"
ok "and stays unbanned" conn web 198.51.100.17 3306
expect_eq "the other ban is back" "$(fwctl list)" "198.51.100.22"

stop_daemon fwd
expect_match "the table stays after fwd stops" "$(nft list tables)" 'inet stackd'

for p in 22 80 443 3306 8443; do stop_peer "listen$p"; done
for n in lb web out; do stop_peer "ns_$n"; done
