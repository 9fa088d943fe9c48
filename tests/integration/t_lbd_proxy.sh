#!/usr/bin/env bash
# lbd and the PROXY protocol: proxy-protocol frontends (v1 from curl, v1 and
# v2 from a small Python client, plain and TLS) put the header's client in
# X-Forwarded-For, Forwarded, the access log and the source hash, and close
# connections without a valid header (counted); send-proxy-v2 pools start
# each server connection with a v2 header (LOCAL for health checks) seen by
# a Python backend that answers with what it read.
. "$(dirname "$0")/lib.sh"

LBD=$BIN/lbd
SOCK=$T_DIR/lbd.sock
HERE=$STACKD_SRC/tests/integration
APP="python3 $HERE/app_server.py"
ECHO="python3 $HERE/proxy_echo.py"
PC="python3 $HERE/proxy_client.py"
CURL=(curl -sS --max-time 10)

ctl() { printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }
metric() { ctl metrics | grep -F "$1" | awk '{print $2}'; }

cat > "$T_DIR/lbd.conf" <<CONF
control "$SOCK"
frontend "pp" {
	listen "127.0.0.1:8083"
	pool "app"
	proxy-protocol
	header-timeout 1s
}
frontend "pps" {
	listen "127.0.0.1:8443" tls
	certificate "$CERTS/server.crt" "$CERTS/server.key"
	pool "app"
	proxy-protocol
	header-timeout 1s
}
frontend "plain" {
	listen "127.0.0.1:8081"
	pool "app"
}
frontend "sp" {
	listen "127.0.0.1:8084"
	pool "echo"
}
frontend "ppsp" {
	listen "127.0.0.1:8085"
	pool "echo"
	proxy-protocol
}
frontend "hash" {
	listen "127.0.0.1:8086"
	pool "echo-src"
	proxy-protocol
}
pool "app" {
	server "app-01" "127.0.0.1:3000"
	check tcp
}
pool "echo" {
	server "echo-01" "127.0.0.1:3001"
	send-proxy-v2
	check http "/healthz"
	check-interval 300ms
	check-timeout 250ms
}
pool "echo-src" {
	balance source
	server "echo-01" "127.0.0.1:3001"
	server "echo-02" "127.0.0.1:3002"
	send-proxy-v2
	check http "/healthz"
}
access-log "$T_DIR/access.log"
CONF

# ---- configuration ----
out=$("$LBD" -n -f "$T_DIR/lbd.conf" 2>&1)
expect_eq "lbd -n accepts proxy-protocol and send-proxy-v2" "$out" "configuration OK"
printf 'frontend "a" {\n\tlisten "127.0.0.1:1"\n\tpool "p"\n\tproxy-protocol maybe\n}\npool "p" {\n\tserver "s" "127.0.0.1:1"\n}\n' > "$T_DIR/bad1.conf"
out=$("$LBD" -n -f "$T_DIR/bad1.conf" 2>&1)
expect_match "proxy-protocol with a bad value is refused with its line" "$out" "bad1.conf:4: proxy-protocol"
printf 'frontend "a" {\n\tlisten "127.0.0.1:1"\n\tpool "p"\n}\npool "p" {\n\tserver "s" "127.0.0.1:1"\n\tsend-proxy-v2\n\tsend-proxy-v2\n}\n' > "$T_DIR/bad2.conf"
out=$("$LBD" -n -f "$T_DIR/bad2.conf" 2>&1)
expect_match "send-proxy-v2 twice is refused with its line" "$out" "bad2.conf:8: send-proxy-v2"

echo_ok() { $PC "$1" v2local - - /healthz | grep -q "cmd=LOCAL"; }
start_peer app "curl -s -o /dev/null http://127.0.0.1:3000/api/echo" $APP 127.0.0.1:3000 || exit 1
start_peer echo1 "echo_ok 3001" $ECHO 127.0.0.1:3001 echo-01 || exit 1
start_peer echo2 "echo_ok 3002" $ECHO 127.0.0.1:3002 echo-02 || exit 1
# A TCP proxy in front of lbd: clients reach lbd from 127.0.0.9, so an
# address from the header is told apart from the connection's.
start_peer relay "bash -c 'exec 3<>/dev/tcp/127.0.0.1/9083'" \
	socat TCP-LISTEN:9083,bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:8083,bind=127.0.0.9 || exit 1
start_peer relays "bash -c 'exec 3<>/dev/tcp/127.0.0.1/9443'" \
	socat TCP-LISTEN:9443,bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:8443,bind=127.0.0.9 || exit 1
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1

# ---- accepting v1 and v2 ----
out=$("${CURL[@]}" -4 --interface 127.0.0.5 --haproxy-protocol http://127.0.0.1:9083/api/echo)
expect_match "curl's v1 header: X-Forwarded-For is its address, not the relay's" "$out" \
	'"X-Forwarded-For": "127.0.0.5"'
expect_match "and Forwarded too" "$out" '"Forwarded": "for=127.0.0.5;proto=http"'
out=$($PC 8083 v2 203.0.113.7:4242 192.0.2.1:80)
expect_match "a v2 header (TCP4) from a Python client" "$out" '"X-Forwarded-For": "203.0.113.7"'
out=$($PC 8083 v2 '[2001:db8::7]:4242' '[2001:db8::1]:80')
expect_match "a v2 header (TCP6): X-Forwarded-For" "$out" '"X-Forwarded-For": "2001:db8::7"'
expect_match "a v2 header (TCP6): Forwarded quotes and brackets it" "$out" \
	'"Forwarded": "for=\\"\[2001:db8::7\]\\";proto=http"'
out=$($PC 8083 v1 198.51.100.20:5000 192.0.2.1:80)
expect_match "a v1 header from the Python client" "$out" '"X-Forwarded-For": "198.51.100.20"'
out=$($PC --split 10 8083 v1 198.51.100.21:5000 192.0.2.1:80)
expect_match "a v1 header lbd had to take in two reads" "$out" '"X-Forwarded-For": "198.51.100.21"'
out=$($PC --split 14 8083 v2 198.51.100.22:5000 192.0.2.1:80)
expect_match "a v2 header lbd had to take in two reads" "$out" '"X-Forwarded-For": "198.51.100.22"'
out=$($PC 8083 v2local - -)
expect_match "a v2 LOCAL header keeps the connection's own address" "$out" '"X-Forwarded-For": "127.0.0.1"'
out=$($PC 8083 raw 'PROXY UNKNOWN\r\n' -)
expect_match "v1 UNKNOWN keeps it as well" "$out" '"X-Forwarded-For": "127.0.0.1"'
ok_wait "the access log names the client from the header" 3 \
	grep -q '^[^ ]* 203\.0\.113\.7:4242 pp app/app-01 200 ' "$T_DIR/access.log"

# ---- refusing ----
expect_eq "no header: closed without an answer" "$($PC 8083 none - -)" ""
expect_eq "the next good one is served" \
	"$($PC 8083 v2 203.0.113.8:1 192.0.2.1:80 | head -n 1 | tr -d '\r')" "HTTP/1.1 200 OK"
expect_eq "a malformed v1 header (leading zero) is refused" \
	"$($PC 8083 raw 'PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n' -)" ""
expect_eq "a v2 header with command 2 is refused" \
	"$($PC 8083 raw '\r\n\r\n\x00\r\nQUIT\n\x22\x11\x00\x0c123456789012' -)" ""
expect_eq "invalid headers are counted" \
	"$(metric 'proxy_header_refused_total{frontend="pp",reason="invalid"}')" 3
out=$($PC 8083 none - - -)
expect_eq "a silent connection is closed at header-timeout" "$out" ""
expect_eq "and counted as a timeout" \
	"$(metric 'proxy_header_refused_total{frontend="pp",reason="timeout"}')" 1
expect_match "status shows the frontend's refusals" "$(ctl status | grep '^frontend pp:')" \
	"proxy-protocol, .*proxy headers refused 4"
out=$(printf 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n' |
	timeout 5 nc -q 2 127.0.0.1 8081 | head -n 1 | tr -d '\r')
expect_eq "a frontend without proxy-protocol does not guess: 400" "$out" "HTTP/1.1 400 Bad Request"

# ---- TLS: the header comes before the ClientHello ----
out=$("${CURL[@]}" -4 --interface 127.0.0.5 --haproxy-protocol --cacert "$CERTS/ca.crt" \
	https://localhost:9443/api/echo)
expect_match "curl --haproxy-protocol over https: header address forwarded" "$out" \
	'"X-Forwarded-For": "127.0.0.5"'
expect_match "and the request came over TLS" "$out" '"X-Forwarded-Proto": "https"'
fails "a TLS client without the header is refused" \
	"${CURL[@]}" --cacert "$CERTS/ca.crt" https://localhost:8443/api/echo
expect_eq "counted on the TLS frontend" \
	"$(metric 'proxy_header_refused_total{frontend="pps",reason="invalid"}')" 1
out=$($PC --tls "$CERTS/ca.crt" 8443 v2 192.0.2.55:6000 192.0.2.1:443)
expect_match "a v2 header, then TLS from Python's ssl" "$out" '"X-Forwarded-For": "192.0.2.55"'
out=$($PC --split 20 --tls "$CERTS/ca.crt" 8443 v2 '[2001:db8::56]:6000' '[2001:db8::1]:443')
expect_match "a v2 header in two reads, then TLS" "$out" '"X-Forwarded-For": "2001:db8::56"'

# ---- send-proxy-v2 towards a server ----
ok_wait "health checks to the send-proxy-v2 server pass (status up, http 200)" 5 \
	bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q '^server echo/echo-01: .* up .*check: http 200'"
expect_match "and they arrive with a LOCAL header" "$(cat "$(daemon_log echo1)")" "conn [0-9]+: LOCAL"
out=$("${CURL[@]}" -w ' port=%{local_port}' http://127.0.0.1:8084/)
port=${out##*port=}
expect_match "the server sees the client's address and port" "$out" \
	"^echo-01 conn=[0-9]+ cmd=PROXY src=127\.0\.0\.1:$port dst=127\.0\.0\.1:8084"
out=$($PC 8085 v2 203.0.113.7:4242 192.0.2.1:443 /)
expect_match "chained: the address from an accepted header goes on to the server" "$out" \
	"cmd=PROXY src=203\.0\.113\.7:4242 dst=192\.0\.2\.1:443"
out=$($PC 8085 v1 '[2001:db8::9]:7' '[2001:db8::1]:443' /)
expect_match "chained over IPv6" "$out" "src=\[2001:db8::9\]:7 dst=\[2001:db8::1\]:443"

# Reuse only for the same client address: one client's keep-alive requests
# share a server connection, another client gets its own.
out=$("${CURL[@]}" http://127.0.0.1:8084/a http://127.0.0.1:8084/b | grep -o 'conn=[0-9]*')
expect_eq "one client connection: its requests reuse one server connection" \
	"$(sort -u <<<"$out" | wc -l)" 1
first=$(head -n 1 <<<"$out")
ok_wait "that server connection waits idle in the pool" 3 \
	bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q '^server echo/echo-01: .*idle [1-9]'"
second=$("${CURL[@]}" http://127.0.0.1:8084/c | grep -o 'conn=[0-9]*')
fails "another client does not get it" test "$first" = "$second"

# ---- source hashing uses the header's address ----
declare -A seen
same=1
for i in 1 2 3 4 5 6 7 8; do
	a=$($PC 8086 v2 "10.9.0.$i:1000" 192.0.2.1:80 / | grep -o 'echo-0[12]')
	b=$($PC 8086 v2 "10.9.0.$i:2000" 192.0.2.1:80 / | grep -o 'echo-0[12]')
	[ -n "$a" ] && [ "$a" = "$b" ] || same=0
	seen[$a]=1
done
expect_eq "source hash: one header address, one server (any port)" "$same" 1
expect_eq "different header addresses spread over both servers" "${#seen[@]}" 2

ctl metrics | tail -n +2 > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
stop_daemon lbd
fails "the echo servers never saw a connection without a valid header" \
	grep -q refused "$(daemon_log echo1)" "$(daemon_log echo2)"
stop_peer relay
stop_peer relays
stop_peer echo1
stop_peer echo2
stop_peer app
