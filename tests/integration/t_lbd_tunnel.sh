#!/usr/bin/env bash
# lbd Upgrade tunnels: WebSocket sessions through TLS and plain frontends
# to a real RFC 6455 endpoint (app_server.py /ws), tunnel-timeout, a 101
# that nobody asked for, Upgrade headers on an ordinary answer. Driven by
# ws_client.py, curl and nc.
. "$(dirname "$0")/lib.sh"

LBD=$BIN/lbd
SOCK=$T_DIR/lbd.sock
APP="python3 $STACKD_SRC/tests/integration/app_server.py"
WS="python3 $STACKD_SRC/tests/integration/ws_client.py"

ctl() { printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }

cat > "$T_DIR/lbd.conf" <<CONF
control "$SOCK"
frontend "wss" {
	listen "127.0.0.1:8443" tls
	certificate "$CERTS/server.crt" "$CERTS/server.key"
	pool "app"
}
frontend "ws" {
	listen "127.0.0.1:8080"
	pool "app"
}
frontend "short" {
	listen "127.0.0.1:8081"
	pool "short"
}
pool "app" {
	server "app-01" "127.0.0.1:3000"
	check tcp
}
pool "short" {
	server "app-01" "127.0.0.1:3000"
	check none
	tunnel-timeout 1s
}
access-log "$T_DIR/access.log"
CONF

printf 'pool "p" {\n\tserver "s" "127.0.0.1:1"\n\ttunnel-timeout forever\n}\n' > "$T_DIR/bad.conf"
expect_match "a bad tunnel-timeout is refused with its line" \
	"$("$LBD" -n -f "$T_DIR/bad.conf" 2>&1)" "bad.conf:3: tunnel-timeout"

start_peer app "curl -s -o /dev/null http://127.0.0.1:3000/api/echo" $APP 127.0.0.1:3000 || exit 1
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1

# ---- WebSocket sessions ----
expect_eq "wss through the TLS frontend: greeting and 3 frames echoed (one of 70 kB)" \
	"$($WS --ca "$CERTS/ca.crt" wss://localhost:8443/ws)" "ok 3"
expect_eq "ws through the plain frontend" "$($WS ws://127.0.0.1:8080/ws)" "ok 3"
expect_eq "a 1 MB frame crosses the bounded buffers both ways" \
	"$($WS --sizes 1048576 ws://127.0.0.1:8080/ws)" "ok 1"
pids=()
for i in $(seq 10); do
	timeout 20 $WS --sizes 100,20000 ws://127.0.0.1:8080/ws > "$T_DIR/par$i.out" &
	pids+=($!)
done
wait "${pids[@]}"	# not a bare wait: the app and lbd are children too
expect_eq "10 sessions at once, all echoed" "$(cat "$T_DIR"/par*.out | sort | uniq -c | awk '{print $1, $2, $3}')" "10 ok 2"
ok_wait "tunnels are logged with status 101 when they end" 5 \
	grep -q '^[^ ]* 127\.0\.0\.1:[0-9]* ws app/app-01 101 ' "$T_DIR/access.log"
m=$(ctl metrics)
expect_match "counted as 1xx requests" "$m" 'stackd_lbd_http_requests_total\{frontend="ws",class="1xx"\} 1[0-9]'

# ---- tunnel-timeout ----
out=$($WS --idle 10 ws://127.0.0.1:8081/ws)
expect_match "an idle tunnel closes at tunnel-timeout (1s)" "$out" '^closed after (0\.9|1\.[0-9])$'

# ---- answers that are not a switch ----
out=$(curl -sS -H 'Connection: Upgrade' -H 'Upgrade: websocket' http://127.0.0.1:8080/api/echo)
expect_match "an Upgrade the server declines is an ordinary answer" "$out" '"method": "GET"'
expect_match "the server saw the Upgrade asked of it" "$out" '"Upgrade": "websocket"'
expect_eq "a 101 nobody asked for is a 502" \
	"$(curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/api/status?c=101)" 502
out=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
	--data-binary 'body' http://127.0.0.1:8080/api/status?c=101)
expect_eq "a request with a body cannot become a tunnel: its 101 is a 502" "$out" 502
expect_eq "lbd still serves" "$($WS ws://127.0.0.1:8080/ws)" "ok 3"

stop_daemon lbd
stop_peer app
