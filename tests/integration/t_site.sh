#!/usr/bin/env bash
# The whole www.foobar.com site end to end (tests/integration/site.sh builds
# it: client, lb-01, web-01, web-02 namespaces on a bridge): client ->
# https://www.foobar.com -> lbd -> webd (static, and PHP through php-fpm)
# -> dbrouter -> MariaDB and back; then the drills, each followed by "the
# site keeps answering": the firewall drops direct access to the web and
# database ports, the collector stopped and started, web-01's webd killed,
# the database primary killed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"
. "$(dirname "$0")/site.sh"

code() { site_curl "$1" -o /dev/null -w '%{http_code}'; }
# N requests for PATH all answered 200.
all_ok() {
	local i c
	for i in $(seq "$2"); do
		c=$(code "$1") || return 1
		[ "$c" = 200 ] || { echo "request $i: $c"; return 1; }
	done
}
writer_of() { "$1" status | sed -n 's/^writer: \([^,]*\),.*/\1/p'; }
writer_is() { [ "$(writer_of "$1")" = "$2" ]; }
lb_server() { lbctl status | grep "^server web/$1:"; }
lb_state_is() { lb_server "$1" | grep -q " $2 "; }
hits() { grep -c "$2" "$(site_access_log "$1")" 2>/dev/null || echo 0; }
visit_ok() {	# token: the dynamic page answers and shows the row read back
	local out
	out=$(site_curl "visit.php?t=$1") || return 1
	printf '%s' "$out" | grep -Eq "^dynamic page from web-0[12]: row [0-9]+ written by web-0[12] with token $1\$"
}
rx_has() {	# dir text: some 2xx request body stored by the collector has it
	python3 "$STACKD_SRC/tests/integration/receiver.py" lines "$SITE/$1" 2>/dev/null | grep -q -- "$2"
}

site_setup || exit 1

# ---- the flow of the design ----
ok_wait "lbd marks web-01 up" 10 lb_state_is web-01 up
ok_wait "lbd marks web-02 up" 10 lb_state_is web-02 up
ok_wait "web-01's dbrouter sees web-01 as the writer" 10 writer_is dbctl1 web-01
ok_wait "web-02's dbrouter sees web-01 as the writer" 10 writer_is dbctl2 web-01
# Both have failover yes: the failover lock makes one of them the actor.
lock_of() { "$1" status | sed -n 's/^failover lock: \(held\|standby\).*/\1/p'; }
ok_wait "one dbrouter holds the failover lock, the other is a standby" 10 \
	eval '[ "$(lock_of dbctl1) $(lock_of dbctl2)" = "held standby" ] || [ "$(lock_of dbctl1) $(lock_of dbctl2)" = "standby held" ]'
out=$(site_curl "")
expect_match "client -> https://www.foobar.com/: the static page" "$out" "static page from web-0[12]"
hdr=$(site_curl "" -o /dev/null -D - -w 'verify=%{ssl_verify_result}')
expect_match "over TLS, the certificate verified for www.foobar.com" "$hdr" "verify=0"
hdr=$(site_in client curl -sS --max-time 10 -o /dev/null -D - --resolve "www.foobar.com:80:${SITE_ADDR[lb]}" http://www.foobar.com/)
expect_match "http://www.foobar.com/ redirects to https" "$hdr" "^HTTP/1.1 30[178] "
expect_match "to https://www.foobar.com/" "$hdr" "^[Ll]ocation: https://www.foobar.com/"
out=$(site_curl "visit.php?t=first")
expect_match "the dynamic page writes a row through dbrouter and reads it back" \
	"$out" "^dynamic page from web-0[12]: row [0-9]+ written by web-0[12] with token first$"
ok "the row is on the primary" test "$(db_val web1 "SELECT COUNT(*) FROM app.visits WHERE token='first'")" = 1
ok_wait "and replicated to web-02" 10 eval '[ "$(db_val web2 "SELECT COUNT(*) FROM app.visits WHERE token=\"first\"")" = 1 ]'
ok "20 static and 20 dynamic requests all answered" eval 'all_ok "" 20 && all_ok "visit.php?t=spread" 20'
s1=$(hits web1 'GET /visit.php?t=spread') s2=$(hits web2 'GET /visit.php?t=spread')
echo "# dynamic requests: web-01 $s1, web-02 $s2"
ok "requests spread over both web hosts (web-01 $s1, web-02 $s2)" test "$s1" -gt 0 -a "$s2" -gt 0
expect_eq "both hosts wrote their rows" \
	"$(db_sql web1 "SELECT host, COUNT(*) FROM app.visits WHERE token='spread' GROUP BY host ORDER BY host" | cut -f1 | tr '\n' ' ')" "web-01 web-02 "

# ---- the firewall: only lb-01 reaches the web hosts, only they the db ----
cconn() { site_in client nc -z -w 1 "$1" "$2"; }
fails "client -> web-01:8443 directly is dropped" cconn "${SITE_ADDR[web1]}" 8443
fails "client -> web-02:8443 directly is dropped" cconn "${SITE_ADDR[web2]}" 8443
fails "client -> web-01:3306 (the database) is dropped" cconn "${SITE_ADDR[web1]}" 3306
fails "client -> web-02:3306 is dropped" cconn "${SITE_ADDR[web2]}" 3306
ok "lb-01 -> web-01:8443 is allowed" site_in lb nc -z -w 1 "${SITE_ADDR[web1]}" 8443
fails "lb-01 -> web-01:3306 is dropped" site_in lb nc -z -w 1 "${SITE_ADDR[web1]}" 3306
ok "web-02 -> web-01:3306 is allowed (replication, dbrouter)" site_in web2 nc -z -w 1 "${SITE_ADDR[web1]}" 3306
expect_match "web-01's fwd counted the drops" "$(fwctl_h web1 metrics)" \
	'stackd_fwd_rule_packets_total\{rule="dropped"\} [1-9]'
ok "through lb-01 the site answers" eval 'all_ok "" 5 && visit_ok fw'

# ---- monitoring: every host ships to the collector ----
ok_wait "lb-01's access log reaches the collector" 15 rx_has rx 'GET /visit.php?t=fw'
ok_wait "web-01's access log reaches the collector" 15 rx_has rx 'GET /visit.php?t=spread'
rx_metrics_from() {	# dir host: a Prometheus batch with X-Sumo-Host: host arrived
	python3 - "$SITE/$1/index.jsonl" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    h = json.loads(l)["headers"]
    if "prometheus" in h.get("content-type", "") and h.get("x-sumo-host") == sys.argv[2]:
        sys.exit(0)
sys.exit(1)
PY
}
for h in lb-01 web-01 web-02; do
	ok_wait "$h's metrics reach the collector" 15 rx_metrics_from rx "$h"
done
ok "agentd on web-01 scrapes webd and dbrouter" eval 'agentctl_h web1 status | grep -q "^daemon webd: .* up" && agentctl_h web1 status | grep -q "^daemon dbrouter: .* up"'
stop_peer rx
ok "the collector down: the site keeps answering" eval 'all_ok "" 5 && visit_ok collector-down'
site_rx_start rx2 || exit 1
ok_wait "the collector back: what was logged meanwhile arrives" 20 rx_has rx2 'GET /visit.php?t=collector-down'
# every access-log line of those visits (lb-01's and the web host's) arrives once
rx_count() { python3 "$STACKD_SRC/tests/integration/receiver.py" lines "$SITE/$1" | grep -c -- "$2"; }
logged=$(cat "$(site_access_log lb)" "$(site_access_log web1)" "$(site_access_log web2)" | grep -c 'GET /visit.php?t=collector-down')
ok_wait "all $logged of them, none twice" 20 eval '[ "$(( $(rx_count rx "t=collector-down") + $(rx_count rx2 "t=collector-down") ))" = "$logged" ]'
ok "the site still answers" visit_ok collector-back

# ---- drill: web-01's webd dies ----
kill -KILL "$(daemon_pid webd-web1)"; wait "$(daemon_pid webd-web1)" 2>/dev/null; rm -f "$T_DIR/webd-web1.pid"
ok_wait "lbd marks web-01 down" 10 lb_state_is web-01 down
ok "the site keeps answering from web-02 (static)" all_ok "" 10
ok "and dynamic" eval 'for i in 1 2 3 4 5; do visit_ok webdown || exit 1; done'
site_webd_start 1 || exit 1
ok_wait "web-01's webd restarted: lbd marks it up again" 10 lb_state_is web-01 up

# ---- drill: the database primary (web-01's MariaDB) dies ----
# A client keeps visiting the dynamic page through the kill; the tokens of
# the visits answered "row N written" are the acknowledged writes.
_visitor() {
	local i=0 out
	while [ ! -e "$T_DIR/visitor.stop" ]; do
		i=$((i + 1))
		out=$(site_curl "visit.php?t=load-$i" 2>&1)
		if printf '%s' "$out" | grep -q "with token load-$i\$"; then echo "load-$i" >> "$T_DIR/visitor.acked"
		else echo "load-$i $(date +%s.%N) $out" | tr '\n' ' ' >> "$T_DIR/visitor.failed"; echo >> "$T_DIR/visitor.failed"; fi
	done
}
acked() { wc -l < "$T_DIR/visitor.acked"; }
: > "$T_DIR/visitor.acked"; : > "$T_DIR/visitor.failed"
_visitor </dev/null >/dev/null 2>&1 &
visitor_pid=$!
T_DAEMONS="visitor $T_DAEMONS"; echo "$visitor_pid" > "$T_DIR/visitor.pid"
ok_wait "a client visits the dynamic page in a loop" 10 eval '[ "$(acked)" -ge 5 ]'
db_sql web1 "SELECT id FROM app.visits" | sort > "$T_DIR/ids.before"
db_kill web1
t0=$(date +%s%N)
ok_wait "web-02 is promoted" 15 eval 'writer_is dbctl1 web-02 || writer_is dbctl2 web-02'
ok_wait "both dbrouters have web-02 as the writer" 10 eval 'writer_is dbctl1 web-02 && writer_is dbctl2 web-02'
expect_eq "one promotion, by the lock holder" \
	"$(cat "$(daemon_log dbrouter-web1)" "$(daemon_log dbrouter-web2)" | grep -c 'failover ok in')" 1
ok_wait "the dynamic page works again" 10 visit_ok after-failover
back_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# (web-02, promoted alone, must not turn semi-sync on with no replica to
# acknowledge: its first commits would wait rpl_semi_sync_master_timeout)
ok "the dynamic page is back ${back_ms} ms after the primary was killed (< 5000)" test "$back_ms" -lt 5000
n=$(acked)
ok_wait "the looping client's visits are acknowledged again" 10 eval '[ "$(acked)" -ge $((n + 5)) ]'
touch "$T_DIR/visitor.stop"; wait "$visitor_pid"; rm -f "$T_DIR/visitor.pid"
echo "# kill at $t0"; sed 's/^/# failed: /' "$T_DIR/visitor.failed"
echo "# visits during the drill: $(acked) acknowledged, $(wc -l < "$T_DIR/visitor.failed") not acknowledged (an error page or a timeout while there was no writer)"
db_sql web2 "SELECT token FROM app.visits WHERE token LIKE 'load-%'" | sort > "$T_DIR/tokens.web2"
expect_eq "every acknowledged visit's row is on the new primary" \
	"$(sort "$T_DIR/visitor.acked" | comm -23 - "$T_DIR/tokens.web2" | tr '\n' ' ')" ""
ok "through both web hosts" eval 'all_ok "visit.php?t=both" 10'
db_sql web2 "SELECT id FROM app.visits" | sort > "$T_DIR/ids.after"
expect_eq "no row written before the kill was lost ($(wc -l < "$T_DIR/ids.before") rows)" \
	"$(comm -23 "$T_DIR/ids.before" "$T_DIR/ids.after" | tr '\n' ' ')" ""
expect_eq "web-02 is writable" "$(db_val web2 'SELECT @@read_only')" 0
ok "the static page never stopped" all_ok "" 5

# ---- the old primary returns: fenced, then a replica of web-02 ----
# (a crashed semi-sync primary restarts with --init-rpl-role=SLAVE, as
# dbrouter(8) says, so it drops what no replica acknowledged)
DB_EXEC=$(site_nsx web1) db_start web1 --init-rpl-role=SLAVE --rpl-semi-sync-slave-enabled=ON || exit 1
ok_wait "web-01's MariaDB back: fenced, read_only 1" 10 eval '[ "$(db_val web1 "SELECT @@read_only")" = 1 ]'
ok_wait "and replicating from web-02" 20 eval '[ "$(db_slave_field web1 Master_Host)" = "${SITE_ADDR[web2]}" ] && db_slave_running web1'
ok_wait "semi-sync again: web-02's master side on, web-01 its acknowledging client" 20 \
	eval '[ "$(db_val web2 "SELECT @@rpl_semi_sync_master_enabled")" = 1 ] && [ "$(db_val web2 "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME=\"Rpl_semi_sync_master_clients\"")" = 1 ]'
ok "web-02 stays the writer for both dbrouters" eval 'writer_is dbctl1 web-02 && writer_is dbctl2 web-02'
ok "the site answers" visit_ok rejoined
ok_wait "web-01 has every row web-02 has" 10 eval '[ "$(db_val web1 "SELECT COUNT(*) FROM app.visits")" = "$(db_val web2 "SELECT COUNT(*) FROM app.visits")" ]'

# CPU seconds each daemon used (a daemon spinning shows here)
cpu_s() { awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null; }
line="# CPU seconds:"
for n in agentd-lb agentd-web1 agentd-web2 lbd webd-web1 webd-web2 dbrouter-web1 dbrouter-web2 fwd-lb fwd-web1 fwd-web2; do
	line="$line $n $(cpu_s "$(daemon_pid "$n")")"
done
echo "$line"
# stop_daemon waits without a bound: give each 10 s to exit, else fail and kill it
gone() { local st; read -r _ _ st _ < "/proc/$1/stat" 2>/dev/null || return 0; [ "$st" = Z ]; }
site_stop() {
	local pid
	pid=$(daemon_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid"
	if wait_for 10 gone "$pid"; then stop_daemon "$1"; return; fi
	fail "$1 stops on SIGTERM within 10 s" "still running, $(cpu_s "$pid") CPU s" "$(tail -n 5 "$(daemon_log "$1")")"
	kill -KILL "$pid"; wait "$pid" 2>/dev/null; rm -f "$T_DIR/$1.pid"
}
for n in agentd-lb agentd-web1 agentd-web2 lbd webd-web1 webd-web2 dbrouter-web1 dbrouter-web2 fwd-lb fwd-web1 fwd-web2; do
	site_stop "$n"
done
db_stop_all
