#!/usr/bin/env bash
# lbd in front of two real webd servers (TLS, re-encrypted) and a Python app
# server (plain HTTP, to see what lbd forwards); driven by curl, nc, wrk,
# openssl and promtool.
. "$(dirname "$0")/lib.sh"

LBD=$BIN/lbd
SOCK=$T_DIR/lbd.sock
S=https://localhost:8443
CURL=(curl -sS --max-time 10 --cacert "$CERTS/ca.crt")
APP="python3 $STACKD_SRC/tests/integration/app_server.py"

ctl() { printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }
code() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@"; }
server_line() { ctl status | grep "^server $1:"; }

for i in 1 2; do
	mkdir -p "$T_DIR/www$i"
	echo "web-0$i" > "$T_DIR/www$i/index.html"
	cat > "$T_DIR/web$i.conf" <<CONF
control "$T_DIR/web$i.sock"
listen "127.0.0.1:944$i" tls {
	certificate "$CERTS/server.crt" "$CERTS/server.key"
}
root "$T_DIR/www$i"
health "/healthz"
CONF
done

cat > "$T_DIR/lbd.conf" <<CONF
control "$SOCK"
frontend "www" {
	listen "127.0.0.1:8443" tls
	certificate "$CERTS/server.crt" "$CERTS/server.key"
	certificate "$CERTS/static.crt" "$CERTS/static.key"
	pool "web"
	hsts 365d include-subdomains
	header-timeout 1s
}
frontend "http" {
	listen "127.0.0.1:8080"
	redirect-https
}
frontend "app" {
	listen "127.0.0.1:8081"
	pool "app"
	header-timeout 1s
}
frontend "bad" {
	listen "127.0.0.1:8082"
	pool "untrusted"
}
pool "web" {
	server "web-01" "127.0.0.1:9441"
	server "web-02" "127.0.0.1:9442"
	tls {
		ca "$CERTS/ca.crt"
	}
	check http "/healthz"
	check-interval 1s
	check-timeout 900ms
	fall 2
	rise 2
}
pool "app" {
	server "app-01" "127.0.0.1:3000"
	check tcp
}
pool "untrusted" {
	server "strict-01" "127.0.0.1:9441"
	tls {
		ca "$CERTS/wrongca.crt"
	}
	check none
	retries 0
}
access-log "$T_DIR/access.log"
CONF

# ---- configuration errors ----
out=$("$LBD" -n -f "$T_DIR/lbd.conf" 2>&1)
expect_eq "lbd -n accepts the config" "$out" "configuration OK"
printf 'frontend "a" {\n\tlisten "127.0.0.1:1"\n\tpool "nope"\n}\n' > "$T_DIR/bad1.conf"
out=$("$LBD" -n -f "$T_DIR/bad1.conf" 2>&1)
expect_match "a frontend naming an unknown pool is refused" "$out" 'frontend a: no pool named "nope"'
printf 'frontend "a" {\n\tlisten "127.0.0.1:1"\n\tpool "p"\n}\npool "p" {\n\tbalance fastest\n\tserver "s" "127.0.0.1:1"\n}\n' > "$T_DIR/bad2.conf"
out=$("$LBD" -n -f "$T_DIR/bad2.conf" 2>&1)
expect_match "an unknown balance algorithm is refused with its line" "$out" "bad2.conf:6: balance"
printf 'frontend "a" {\n\tlisten "127.0.0.1:1"\n\tpool "p"\n}\npool "p" {\n\tserver "s" "127.0.0.1:1"\n\ttls {\n\t\tname "x"\n\t}\n}\n' > "$T_DIR/bad3.conf"
out=$("$LBD" -n -f "$T_DIR/bad3.conf" 2>&1)
expect_match "tls towards servers without a CA is refused" "$out" "tls: verification needs a ca"

start_daemon web1 "$BIN/webd" -f "$T_DIR/web1.conf" || exit 1
start_daemon web2 "$BIN/webd" -f "$T_DIR/web2.conf" || exit 1
start_peer app "curl -s -o /dev/null http://127.0.0.1:3000/api/echo" $APP 127.0.0.1:3000 || exit 1
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1

# ---- proxying ----
out=$(for i in 1 2 3 4; do "${CURL[@]}" "$S/"; done | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')
expect_eq "round robin over both re-encrypted servers" "$out" "2 web-01 2 web-02 "
out=$("${CURL[@]}" -D - -o /dev/null "$S/" | tr -d '\r')
expect_match "HSTS is added on the TLS frontend" "$out" "Strict-Transport-Security: max-age=31536000; includeSubDomains"
out=$(curl -sS -D - -o /dev/null "http://127.0.0.1:8080/a/b?c=d" | tr -d '\r')
expect_match "the plain frontend redirects with 301" "$out" "^HTTP/1.1 301"
expect_match "to the same host and path over https, without port 80" "$out" "Location: https://127.0.0.1/a/b\?c=d"
out=$(curl -sS -H "X-Forwarded-For: 10.1.1.1" -H "Connection: X-Drop" -H "X-Drop: 1" http://127.0.0.1:8081/api/echo)
expect_match "X-Forwarded-For gets the client appended" "$out" '"X-Forwarded-For": "10.1.1.1, 127.0.0.1"'
expect_match "X-Forwarded-Proto and Forwarded are added" "$out" '"Forwarded": "for=127.0.0.1;proto=http"'
fails "fields named in Connection are not forwarded" grep -q X-Drop <<<"$out"
out=$(printf 'GET /api/echo HTTP/1.0\r\n\r\n' | timeout 5 nc -q 5 127.0.0.1 8081 | tail -n 1)
expect_match "an HTTP/1.0 request without Host reaches the server with one (its address)" "$out" '"Host": "127.0.0.1:3000"'
out=$(head -c 300000 /dev/urandom > "$T_DIR/body.bin"; curl -sS --data-binary @"$T_DIR/body.bin" http://127.0.0.1:8081/api/echo)
expect_match "a request body streams to the server intact" "$out" "\"sha256\": \"$(sha256sum < "$T_DIR/body.bin" | cut -d' ' -f1)\""
out=$(curl -sS -H "Transfer-Encoding: chunked" --data-binary @"$T_DIR/body.bin" http://127.0.0.1:8081/api/echo)
expect_match "a chunked body stays chunked" "$out" '"framing": "chunked", "headers"'
expect_eq "a close-delimited answer arrives whole" "$(curl -sS http://127.0.0.1:8081/api/big?n=200000 | wc -c)" 200000
out=$("${CURL[@]}" -v "$S/" "$S/" 2>&1)
expect_match "client keep-alive" "$out" "Re-using existing connection"
ok_wait "server connections are pooled for reuse" 3 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q 'web-0[12]: .*idle [1-9]'"

# ---- strict parsing ----
out=$(printf 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' |
	timeout 5 nc -q 2 127.0.0.1 8081 | head -n 1 | tr -d '\r')
expect_eq "Content-Length with Transfer-Encoding is 400 (smuggling)" "$out" "HTTP/1.1 400 Bad Request"
out=$(printf 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' | timeout 5 nc -q 2 127.0.0.1 8081 | head -n 1 | tr -d '\r')
expect_eq "a duplicate Host is 400" "$out" "HTTP/1.1 400 Bad Request"

# ---- certificates by SNI ----
subject() { openssl s_client -connect 127.0.0.1:8443 "$@" </dev/null 2>/dev/null | openssl x509 -noout -subject; }
expect_match "SNI static.foobar.com gets the static certificate" \
	"$(subject -servername static.foobar.com)" "CN = static.foobar.com"
expect_match "so does a name under its wildcard" \
	"$(subject -servername img.static.foobar.com)" "CN = static.foobar.com"
expect_match "www.foobar.com gets the first (default) certificate" \
	"$(subject -servername www.foobar.com)" "CN = localhost"
expect_match "and so does a client without SNI" "$(subject -noservername)" "CN = localhost"
expect_match "curl verifies the SNI-chosen certificate end to end" \
	"$("${CURL[@]}" --resolve img.static.foobar.com:8443:127.0.0.1 https://img.static.foobar.com:8443/)" "^web-0[12]$"

# ---- untrusted server certificate ----
expect_eq "a server whose certificate the pool's CA did not sign is refused" \
	"$(curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:8082/)" 502
ok_wait "and the reason is logged" 3 grep -q "TLS handshake" "$(daemon_log lbd)"

# ---- slowloris ----
exec 5<> /dev/tcp/127.0.0.1/8081
printf 'GET / HTTP/1.1\r\nHost: x\r\n' >&5
expect_eq "a client is served while a half-sent request waits" \
	"$(curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:8081/api/echo)" 200
out=$(timeout 5 cat <&5 | head -n 1 | tr -d '\r')
expect_eq "the half-sent request gets 408 at header-timeout" "$out" "HTTP/1.1 408 Request Timeout"
exec 5<&-

# ---- admin ----
expect_eq "drain a server" "$(ctl server drain web/web-01 | head -n 1)" "ok"
out=$(for i in 1 2 3 4; do "${CURL[@]}" "$S/"; done | sort -u | tr '\n' ' ')
expect_eq "a drained server gets no new request" "$out" "web-02 "
expect_match "status shows it drained" "$(server_line web/web-01)" "up drain"
expect_eq "ready again" "$(ctl server ready web/web-01 | head -n 1)" "ok"
expect_match "a bad server name is refused" "$(ctl server drain web/nope)" "^error: no server nope in pool web"
expect_match "a bad weight is refused" "$(ctl server weight web/web-01 0)" "^error: server weight: expected 1..256"
expect_eq "weight 3" "$(ctl server weight web/web-01 3 | head -n 1)" "ok"
out=$(for i in 1 2 3 4 5 6 7 8; do "${CURL[@]}" "$S/"; done | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')
expect_eq "weights 3:1 share 8 requests 6:2" "$out" "6 web-01 2 web-02 "

# ---- a server dies ----
kill -KILL "$(daemon_pid web1)"; rm -f "$T_DIR/web1.pid"
out=$(for i in $(seq 1 20); do "${CURL[@]}" -o /dev/null -w '%{http_code}\n' "$S/"; done | sort -u | tr '\n' ' ')
expect_eq "with web-01 killed every request still succeeds (retry)" "$out" "200 "
ok_wait "web-01 is marked down by its checks" 5 bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q '^server web/web-01: .* down '"
out=$(wrk -t2 -c20 -d2s --timeout 10s "$S/" 2>&1)
expect_match "wrk through lbd: requests made" "$out" "[1-9][0-9]* requests in"
expect_eq "and none failed" "$(grep -E 'Socket errors|Non-2xx' <<<"$out")" ""

# ---- reload ----
cp "$T_DIR/lbd.conf" "$T_DIR/lbd.conf.good"
sed -i 's/balance\|server "web-02".*/&/; s/^\tserver "web-02" "127.0.0.1:9442"$/\tserver "web-02" "127.0.0.1:9442" weight x/' "$T_DIR/lbd.conf"
expect_match "a bad reload is refused" "$(ctl reload)" "^error"
expect_eq "and the old config serves on" "$("${CURL[@]}" "$S/")" "web-02"
cp "$T_DIR/lbd.conf.good" "$T_DIR/lbd.conf"
sed -i 's/^\tserver "web-01" "127.0.0.1:9441"$//' "$T_DIR/lbd.conf"
openssl s_client -connect 127.0.0.1:8443 -servername localhost -sess_out "$T_DIR/tls.sess" </dev/null >/dev/null 2>&1
expect_eq "a reload removing web-01" "$(ctl reload)" "ok"
expect_match "a TLS session from before the reload is resumed after it" \
	"$(openssl s_client -connect 127.0.0.1:8443 -servername localhost -sess_in "$T_DIR/tls.sess" </dev/null 2>/dev/null)" '^Reused, TLSv1.2'
fails "web-01 is gone from status" bash -c "printf 'status\n' | socat - UNIX-CONNECT:$SOCK | grep -q 'web/web-01'"

ctl metrics | tail -n +2 > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
expect_match "metrics count requests per server" "$(cat "$T_DIR/metrics.txt")" 'stackd_lbd_server_requests_total\{pool="web",server="web-02"\} [1-9]'
expect_match "health checks and connections to web-02 resume their TLS session" \
	"$(cat "$T_DIR/metrics.txt")" 'stackd_lbd_server_tls_handshakes_total\{pool="web",server="web-02",session="resumed"\} [1-9]'
expect_match "the access log has server, status, TLS" "$(cat "$T_DIR/access.log")" \
	' www web/web-02 200 7 [0-9.]+ TLSv1.2 [A-Z0-9-]+ "GET / HTTP/1.1"'
stop_daemon lbd
stop_daemon web2
stop_peer app
