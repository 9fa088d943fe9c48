#!/usr/bin/env bash
# lbd under load and abuse: the pool queue at max-connections-per-server, a
# server killed under wrk, 10 reloads under wrk, 2,000 slowloris
# connections. Two plain webd servers and the Python app server behind it.
. "$(dirname "$0")/lib.sh"

LBD=$BIN/lbd
SOCK=$T_DIR/lbd.sock
H=http://127.0.0.1:8080
APP="python3 $STACKD_SRC/tests/integration/app_server.py"
CURL=(curl -sS --max-time 10)

ctl() { printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
server_is() { ctl status | grep -q "^server $1: [^ ]* $2 "; }
# wrk's failures: socket errors and non-2xx answers, "" when none.
wrk_failures() { grep -E 'Socket errors|Non-2xx' "$1"; }

for i in 1 2; do
	mkdir -p "$T_DIR/www$i"
	echo "web-0$i" > "$T_DIR/www$i/index.html"
	cat > "$T_DIR/web$i.conf" <<CONF
control "$T_DIR/web$i.sock"
listen "127.0.0.1:944$i"
root "$T_DIR/www$i"
health "/healthz"
CONF
done

# lbd.conf [WEIGHT-OF-WEB-02]
conf() {
	cat > "$T_DIR/lbd.conf" <<CONF
control "$SOCK"
frontend "www" {
	listen "127.0.0.1:8080"
	pool "web"
	header-timeout 10s
}
frontend "one" {
	listen "127.0.0.1:8081"
	pool "one"
}
pool "web" {
	server "web-01" "127.0.0.1:9441"
	server "web-02" "127.0.0.1:9442" weight ${1:-1}
	check http "/healthz"
	check-interval 500ms
	check-timeout 450ms
	fall 2
	rise 2
}
pool "one" {
	server "app-01" "127.0.0.1:3000"
	check tcp
	max-connections-per-server 1
	queue 2
	queue-timeout 3s
}
CONF
}
conf

start_daemon web1 "$BIN/webd" -f "$T_DIR/web1.conf" || exit 1
start_daemon web2 "$BIN/webd" -f "$T_DIR/web2.conf" || exit 1
start_peer app "curl -s -o /dev/null http://127.0.0.1:3000/api/echo" $APP 127.0.0.1:3000 || exit 1
# Started with the soft open-files limit at 1024, as init often leaves it:
# lbd raises it to the hard limit (2,000 slowloris connections need that).
hard=$(ulimit -Hn)
ulimit -Sn 1024
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1
ulimit -Sn "$hard"
expect_match "lbd raised its open files limit to the hard one" \
	"$(grep '^Max open files' /proc/"$(daemon_pid lbd)"/limits)" "^Max open files +$hard +$hard "
ok_wait "both web servers up" 5 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -c '^server web/web-0[12]: [^ ]* up ' | grep -qx 2"

# ---- the queue: 1 request per server, 2 may wait ----
# Five requests of 0.4 s at once: one runs, two wait their turn, two find
# the queue full and get 503 at once.
pids=()
for i in 1 2 3 4 5; do
	"${CURL[@]}" -o /dev/null -w '%{http_code} %{time_total}\n' \
		"http://127.0.0.1:8081/api/slow?s=0.4" > "$T_DIR/q$i.out" &
	pids+=($!)
done
wait "${pids[@]}"
expect_eq "1 served + 2 queued then served, 2 refused with 503" \
	"$(cut -d' ' -f1 "$T_DIR"/q*.out | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" "3 200 2 503 "
slowest=$(awk '$1 == 200 { if ($2 > m) m = $2 } END { print m }' "$T_DIR"/q*.out)
ok "the last queued one waited for both before it (${slowest}s >= 1.2s)" \
	awk -v t="$slowest" 'BEGIN { exit !(t >= 1.2) }'
refused=$(awk '$1 == 503 { if ($2 > m) m = $2 } END { print m }' "$T_DIR"/q*.out)
ok "the refused ones were answered at once (${refused}s)" awk -v t="$refused" 'BEGIN { exit !(t < 0.3) }'
# queue-timeout: a 4 s request holds the server past the 3 s a queued one may wait.
"${CURL[@]}" -o /dev/null "http://127.0.0.1:8081/api/slow?s=4" & long=$!
ok_wait "the long request holds the server" 5 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q '^server one/app-01: .* active 1,'"
t0=$(now_ms)
out=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:8081/api/echo")
t1=$(now_ms)
expect_eq "a queued request gets 503 at queue-timeout" "$out" 503
ok "after about 3 s ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 2900 -a $((t1 - t0)) -lt 3900
wait $long

# ---- a server killed under wrk ----
wrk -t2 -c20 -d5s --timeout 10s "$H/" > "$T_DIR/wrk-kill.out" 2>&1 & wrk=$!
ok_wait "wrk is running through lbd" 5 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q '^server web/web-01: .* requests [1-9]'"
t0=$(now_ms)
kill -KILL "$(daemon_pid web1)"; rm -f "$T_DIR/web1.pid"
ok_wait "web-01 is marked down" 5 server_is web/web-01 down
t1=$(now_ms)
# fall 2 x interval 500ms, plus the phase of the check cycle at the kill.
ok "within fall x interval of the kill ($((t1 - t0)) ms <= 1500)" test $((t1 - t0)) -le 1500
wait $wrk
expect_match "wrk made requests" "$(cat "$T_DIR/wrk-kill.out")" "[1-9][0-9]* requests in"
expect_eq "none failed: in-flight requests were retried on web-02" "$(wrk_failures "$T_DIR/wrk-kill.out")" ""
start_daemon web1 "$BIN/webd" -f "$T_DIR/web1.conf" || exit 1
ok_wait "web-01 comes back up" 5 server_is web/web-01 up

# ---- 10 reloads under wrk ----
reloads_ok() { ctl status | sed -n 's/^reloads: \([0-9]*\) ok.*/\1/p'; }
base=$(reloads_ok)
wrk -t2 -c20 -d8s --timeout 10s "$H/" > "$T_DIR/wrk-reload.out" 2>&1 & wrk=$!
ok_wait "wrk is running through lbd" 5 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q '^server web/web-02: .* active [1-9]'"
done_reloads=0
for i in $(seq 10); do
	conf $(( i % 3 + 1 ))
	[ "$(ctl reload)" = ok ] && done_reloads=$((done_reloads + 1))
	kill -0 $wrk 2>/dev/null || break
done
after=$(reloads_ok)
kill -0 $wrk 2>/dev/null; running=$?
wait $wrk
expect_eq "10 reloads accepted while wrk ran" "$done_reloads $((after - base)) $running" "10 10 0"
expect_match "wrk made requests" "$(cat "$T_DIR/wrk-reload.out")" "[1-9][0-9]* requests in"
expect_eq "none failed across the reloads" "$(wrk_failures "$T_DIR/wrk-reload.out")" ""
expect_match "the last weight is in effect" "$(ctl status)" "server web/web-02: [^ ]* up ready, weight 2,"

# ---- 2,000 slowloris connections ----
cat > "$T_DIR/slowloris.py" <<'PY'
import socket, sys
n = int(sys.argv[1])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", 8080))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")   # never finished
    socks.append(s)
print("open", len(socks), flush=True)
sys.stdin.readline()
PY
mkfifo "$T_DIR/slow.in"
python3 "$T_DIR/slowloris.py" 2000 < "$T_DIR/slow.in" > "$T_DIR/slow.out" 2>&1 & slow=$!
exec 7>"$T_DIR/slow.in"
ok_wait "2000 half-sent requests are open" 30 grep -q 'open 2000' "$T_DIR/slow.out"
ok_wait "lbd holds them" 10 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -Eq '^frontend www: .*connections 2[0-9]{3},'"
t0=$(now_ms)
expect_eq "a normal client is served meanwhile" "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$H/")" 200
t1=$(now_ms)
ok "promptly ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 1000
ok_wait "header-timeout closes them all (10 s)" 20 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -Eq '^frontend www: .*connections 0,'"
expect_match "each was counted as a 408" "$(ctl metrics)" 'stackd_lbd_http_requests_total\{frontend="www",class="4xx"\} (2[0-9]{3})'
exec 7>&-
wait $slow

# ---- the global max-connections ----
sed -i "1i max-connections 3" "$T_DIR/lbd.conf"
expect_eq "reload with a global max-connections 3" "$(ctl reload)" "ok"
for i in 1 2 3; do exec {fd}<>/dev/tcp/127.0.0.1/8081; held+=($fd); done
ok_wait "three connections are held" 5 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q '^frontend one: .*connections 3,'"
fails "a fourth, on another frontend, is closed at once" "${CURL[@]}" -o /dev/null "$H/"
for fd in "${held[@]}"; do exec {fd}<&-; done
ok_wait "served again once they are gone" 5 "${CURL[@]}" -o /dev/null "$H/"

stop_daemon lbd
stop_daemon web1
stop_daemon web2
stop_peer app
