#!/usr/bin/env bash
# lbd admin state: drain/maint/weight set with lbctl survive restarts and
# reloads through the state file; a state file with bad and unknown lines
# or one that cannot be read or written; `server drain ... wait` against a
# slow request in flight; the numbers lbctl status and metrics show. Three
# Python app servers behind a plain frontend, driven by curl and lbctl.
. "$(dirname "$0")/lib.sh"

LBD=$BIN/lbd
SOCK=$T_DIR/lbd.sock
STATE=$T_DIR/lbd.state
APP="python3 $STACKD_SRC/tests/integration/app_server.py"
URL=http://127.0.0.1:8081

lbctl() { "$BIN/lbctl" -s "$SOCK" "$@"; }
server_line() { lbctl status | grep "^server $1:"; }
# Requests a server has answered, from its status line.
served() { server_line "$1" | sed -n 's/.*, requests \([0-9]*\),.*/\1/p'; }
get() { curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' "$URL$1"; }

write_conf() {
	cat > "$T_DIR/lbd.conf" <<CONF
control "$SOCK"
state-file "$STATE"
frontend "app" {
	listen "127.0.0.1:8081"
	pool "web"
}
pool "web" {
	server "web-01" "127.0.0.1:${1:-3001}"
	server "web-02" "127.0.0.1:3002"
	server "web-03" "127.0.0.1:3003"
	check tcp
	check-interval 500ms
	check-timeout 400ms
}
CONF
}
write_conf

for i in 1 2 3; do
	start_peer app$i "curl -s -o /dev/null http://127.0.0.1:300$i/api/echo" \
		$APP 127.0.0.1:300$i || exit 1
done
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1
expect_match "no state file yet is no problem" "$(cat "$(daemon_log lbd)")" \
	"state-file $STATE: not there yet"

# ---- set with lbctl, kept in the file ----
ok "drain web-01" lbctl server drain web/web-01
ok "maint web-02" lbctl server maint web/web-02
ok "weight 3 on web-03" lbctl server weight web/web-03 3
expect_eq "the state file holds the three" "$(grep -v '^#' "$STATE")" \
"server web/web-01 drain
server web/web-02 maint
server web/web-03 ready weight 3"
before=$(cat "$STATE")
expect_match "a bad wait timeout is refused" \
	"$(lbctl server drain web/web-01 wait soon 2>&1)" "wait: expected a duration such as 30s"
expect_match "wait is refused after ready" \
	"$(lbctl server ready web/web-01 wait 2>&1)" 'server ready: expected POOL/NAME, got "wait"'
fails "an unknown server is refused" lbctl server maint web/nope
expect_eq "and refusals change nothing" "$(cat "$STATE")" "$before"
expect_match "web-01 is still drained" "$(server_line web/web-01)" " up drain, weight 1,"

# ---- restart ----
stop_daemon lbd
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1
expect_match "after a restart web-01 is drained" "$(server_line web/web-01)" " up drain, weight 1,"
expect_match "web-02 in maintenance" "$(server_line web/web-02)" " maint, weight 1,"
expect_match "web-03 has weight 3" "$(server_line web/web-03)" " ready, weight 3,"
expect_match "the log says what was applied, by line" "$(cat "$(daemon_log lbd)")" \
	"lbd.state:2: server web/web-01: drain, weight 1 \(configured\)"
ok_wait "all three are up" 5 bash -c "! $BIN/lbctl -s $SOCK status | grep -q '^server .* down '"
out=$(for i in 1 2 3 4 5 6; do get /api/echo; done | sort | uniq -c | awk '{print $1, $2}')
expect_eq "requests succeed" "$out" "6 200"
expect_eq "the drained server got none" "$(served web/web-01)" 0
expect_eq "nor the one in maintenance" "$(served web/web-02)" 0
expect_eq "web-03 all" "$(served web/web-03)" 6

# ---- reload ----
ok "reload" lbctl reload
expect_match "a reload keeps the drain" "$(server_line web/web-01)" " up drain, weight 1,"
expect_match "and the weight" "$(server_line web/web-03)" " ready, weight 3,"
# A new address makes web-01 a new server: it takes its line from the file.
write_conf 3004
start_peer app4 "curl -s -o /dev/null http://127.0.0.1:3004/api/echo" $APP 127.0.0.1:3004 || exit 1
ok "reload moving web-01 to another address" lbctl reload
expect_match "the new web-01 is drained from the file" "$(server_line web/web-01)" "127.0.0.1:3004 up drain"
write_conf
ok "and back" lbctl reload

# ---- a damaged state file ----
stop_daemon lbd
cat > "$STATE" <<STATE
# edited by hand
this is not a state line
server web/nope maint
server other/web-01 drain
server web/web-02 drain weight 300
server web/web-03 maint weight 2
STATE
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1
log=$(cat "$(daemon_log lbd)")
expect_match "a garbage line is logged with file:line" "$log" \
	"lbd.state:2: expected \"server POOL/NAME ready\|drain\|maint \[weight N\]\", got \"this\": line ignored"
expect_match "an unknown server is logged with file:line" "$log" \
	"lbd.state:3: no server nope in pool web: line ignored"
expect_match "so is an unknown pool" "$log" "lbd.state:4: no server web-01 in pool other: line ignored"
expect_match "and a bad weight" "$log" "lbd.state:5: server web/web-02: weight: expected 1..256, got \"300\""
expect_match "the good line applies" "$(server_line web/web-03)" " maint, weight 2,"
expect_match "the bad ones change nothing" "$(server_line web/web-02)" " ready, weight 1,"
expect_match "web-01 is ready (no line for it)" "$(server_line web/web-01)" " ready, weight 1,"
ok "lbd serves" test "$(get /api/echo)" = 200

# ---- a state file that is not a file ----
stop_daemon lbd
rm -f "$STATE"; mkdir "$STATE"
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1
expect_match "an unreadable state file is logged, lbd starts" "$(cat "$(daemon_log lbd)")" \
	"state-file $STATE: not a regular file; servers start as configured"
out=$(lbctl server drain web/web-02 2>&1); rc=$?
expect_eq "a change that cannot be saved fails" "$rc" 1
expect_match "saying it holds but was not saved" "$out" \
	"server web/web-02 is drain, weight 1, but the state file was not saved \(a restart would lose it\): rename "
expect_match "it holds" "$(server_line web/web-02)" " drain,"
rmdir "$STATE"
ok "the next command saves it" lbctl server weight web/web-03 2
expect_eq "with both changes" "$(grep -v '^#' "$STATE")" \
"server web/web-02 drain
server web/web-03 ready weight 2"

# ---- drain ... wait ----
ok "web-02 ready" lbctl server ready web/web-02
ok "web-03 maint" lbctl server maint web/web-03
ok_wait "web-01 and web-02 up" 5 bash -c "! $BIN/lbctl -s $SOCK status | grep -q '^server web/web-0[12]: .* down '"
ok "web-02 maint: web-01 takes everything" lbctl server maint web/web-02
n0=$(served web/web-01)
t0=$(date +%s%N)
curl -sS --max-time 10 "$URL/api/slow?s=2" > "$T_DIR/slow1.out" 2>&1 &
slow=$!
ok_wait "a slow request is in flight on web-01" 5 bash -c "$BIN/lbctl -s $SOCK status | grep -q '^server web/web-01: .*, active 1,'"
out=$(lbctl server drain web/web-01 wait 2>&1); rc=$?
t1=$(date +%s%N)
expect_eq "drain wait succeeds" "$rc" 0
expect_eq "and says nothing is active" "$out" "active 0"
ok "it returned only after the 2 s request" test $(( (t1 - t0) / 1000000 )) -ge 2000
expect_eq "which web-01 had answered by then" "$(served web/web-01)" $((n0 + 1))
wait "$slow"
expect_eq "the client got the answer" "$(cat "$T_DIR/slow1.out")" "slow"
expect_eq "an idle drained server answers at once" "$(lbctl server drain web/web-01 wait)" "active 0"

ok "web-01 ready again" lbctl server ready web/web-01
curl -sS --max-time 10 "$URL/api/slow?s=3" > "$T_DIR/slow2.out" 2>&1 &
slow=$!
ok_wait "another slow request is in flight" 5 bash -c "$BIN/lbctl -s $SOCK status | grep -q '^server web/web-01: .*, active 1,'"
out=$(lbctl server drain web/web-01 wait 300ms 2>&1); rc=$?
expect_eq "a short wait times out with an error" "$rc" 1
expect_match "saying how many remain" "$out" \
	"lbctl: server web/web-01: 1 request still active after 0.3s \(it stays drain\)"
expect_match "the request is still running" "$(server_line web/web-01)" " drain, .*, active 1,"
wait "$slow"
expect_eq "and is answered" "$(cat "$T_DIR/slow2.out")" "slow"
ok_wait "web-01 has nothing in flight" 5 bash -c "$BIN/lbctl -s $SOCK status | grep -q '^server web/web-01: .*, active 0,'"

ok "web-01 ready" lbctl server ready web/web-01
curl -sS --max-time 10 "$URL/api/slow?s=2" > /dev/null 2>&1 &
slow=$!
ok_wait "a third slow request is in flight" 5 bash -c "$BIN/lbctl -s $SOCK status | grep -q '^server web/web-01: .*, active 1,'"
# The first wait logged the same line: wait for one more.
waiting() { grep -c "server web/web-01: waiting for 1 active request (at most 60.0s)" "$(daemon_log lbd)"; }
n0=$(waiting)
one_more_wait() { [ "$(waiting)" -gt "$n0" ]; }
lbctl server drain web/web-01 wait > "$T_DIR/wait3.out" 2>&1 &
waiter=$!
ok_wait "lbd logs the wait" 5 one_more_wait
ok "web-01 ready while one waits" lbctl server ready web/web-01
wait "$waiter"; rc=$?
expect_eq "the wait ends with an error" "$rc" 1
expect_match "saying why" "$(cat "$T_DIR/wait3.out")" "server web/web-01 is ready again: wait cancelled with 1 active"
wait "$slow"

# ---- status and metrics numbers ----
ok "web-01 maint" lbctl server maint web/web-01
ok "web-03 ready: it takes everything" lbctl server ready web/web-03
ok_wait "web-03 is up" 5 bash -c "$BIN/lbctl -s $SOCK status | grep -q '^server web/web-03: .* up ready,'"
out=$(for i in $(seq 10); do get "/api/slow?s=0.05"; done | sort | uniq -c | awk '{print $1, $2}')
expect_eq "10 requests of 50 ms each" "$out" "10 200"
status=$(lbctl status)
expect_match "the frontend shows its request rate" "$(grep '^frontend app:' <<<"$status")" \
	'^frontend app: listen 127\.0\.0\.1:8081, connections [0-9]+, requests [0-9]+, proxy headers refused 0, req/s ([1-9][0-9]*|0\.[1-9])\.?[0-9]*, refused at max-connections 0$'
expect_match "the pool its servers' state and numbers" "$(grep '^pool web:' <<<"$status")" \
	'^pool web: balance roundrobin, 3 servers, up 3, usable 1, active 0, requests [0-9]+, failures 0, req/s ([1-9][0-9]*|0\.[1-9])'
line=$(grep '^server web/web-03:' <<<"$status")
expect_match "the server its request rate and 10 s mean latency, the check last" "$line" \
	', failures 0, latency [0-9.]+ms, req/s ([1-9][0-9]*|0\.[1-9])[0-9.]*, mean [0-9.]+ms, check: '
mean=$(sed -n 's/.*, mean \([0-9]*\)\.[0-9]ms,.*/\1/p' <<<"$line")
ok "the mean is about 50 ms ($mean)" test "${mean:-0}" -ge 45 -a "${mean:-0}" -lt 1000
expect_match "an idle server shows 0" "$(grep '^server web/web-02:' <<<"$status")" ', req/s 0\.0, mean 0\.0ms, '
lbctl metrics > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
expect_match "metrics have a latency histogram per server" "$(cat "$T_DIR/metrics.txt")" \
	'stackd_lbd_server_response_duration_seconds_bucket\{pool="web",server="web-03",le="0\.1"\} [1-9]'
expect_match "with its count" "$(cat "$T_DIR/metrics.txt")" \
	'stackd_lbd_server_response_duration_seconds_count\{pool="web",server="web-03"\} [1-9]'

stop_daemon lbd
for i in 1 2 3 4; do stop_peer app$i; done
