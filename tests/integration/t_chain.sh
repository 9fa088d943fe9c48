#!/usr/bin/env bash
# The foundation's whole chain: stackd-hello (conf + ctl + net + tls + http +
# metrics + service) driven by real peers: openssl s_client, curl, socat,
# promtool.
. "$(dirname "$0")/lib.sh"

HELLO=$TESTBIN/stackd-hello
SOCK=$T_DIR/hello.sock
PORT=8443
URL=https://localhost:$PORT/

write_conf() {
	cat > "$T_DIR/hello.conf" <<EOF
# stackd-hello test configuration
dir = "$T_DIR"
listen "127.0.0.1:$PORT"
certificate "$CERTS/server.crt" "$CERTS/server.key"
certificate "$CERTS/static.crt" "$CERTS/static.key"
message "$1"
header-timeout 1s
control "$SOCK"
pidfile "$T_DIR/hello.pid"
EOF
}

ctl() { printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }
connections_are() { ctl status | grep -q "^connections: $1\$"; }
serves() { curl -s --max-time 2 --cacert "$CERTS/ca.crt" "$URL" | grep -q "$1"; }

# -n: a good config passes, bad ones name file:line and what was expected.
write_conf "hello from stackd"
out=$("$HELLO" -n -f "$T_DIR/hello.conf" 2>&1)
expect_eq "-n accepts a good config" "$out" "configuration OK"

printf 'listen "127.0.0.1:1"\ncertificate "%s" "%s"\nmessage "x" "y"\nlisten {\n' \
	"$CERTS/server.crt" "$CERTS/server.key" > "$T_DIR/bad.conf"
out=$("$HELLO" -n -f "$T_DIR/bad.conf" 2>&1); rc=$?
expect_eq "-n exits 1 on a bad config" "$rc" 1
expect_match "-n names file:line and the expected token" "$out" \
	"bad.conf:4: expected '}' before end of file"

printf 'listen "127.0.0.1:1"\ncertificate "%s" "%s"\nmesage "x"\nheader-timeout 5x\n' \
	"$CERTS/server.crt" "$CERTS/server.key" > "$T_DIR/bad2.conf"
out=$("$HELLO" -n -f "$T_DIR/bad2.conf" 2>&1)
expect_match "-n reports an unknown directive with a suggestion" "$out" \
	"bad2.conf:3: unknown directive .mesage.*did you mean .message"
expect_match "-n reports every error, not just the first" "$out" "bad2.conf:4: .*duration"

cp "$CERTS/server.key" "$T_DIR/open.key"; chmod 644 "$T_DIR/open.key"
printf 'listen "127.0.0.1:1"\ncertificate "%s" "%s"\n' "$CERTS/server.crt" "$T_DIR/open.key" \
	> "$T_DIR/bad3.conf"
out=$("$HELLO" -n -f "$T_DIR/bad3.conf" 2>&1)
expect_match "a key file readable by others is refused" "$out" "bad3.conf:2: .*readable by group or others"

start_daemon hello "$HELLO" -f "$T_DIR/hello.conf" || exit 1
ok "pidfile holds the daemon's pid" test "$(cat "$T_DIR/hello.pid")" = "$(daemon_pid hello)"

# TLS handshakes from real clients.
out=$(openssl s_client -tls1_2 -connect 127.0.0.1:$PORT -servername localhost \
	-CAfile "$CERTS/ca.crt" -verify_return_error -brief </dev/null 2>&1)
expect_match "openssl s_client -tls1_2 completes a verified handshake" "$out" \
	"Protocol version: TLSv1.2"
expect_match "the cipher is ECDHE with AEAD" "$out" "Ciphersuite: ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)"
fails "TLS 1.1 is refused" openssl s_client -tls1_1 -connect 127.0.0.1:$PORT </dev/null
fails "a CBC-only client is refused" openssl s_client -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA \
	-connect 127.0.0.1:$PORT </dev/null
out=$(openssl s_client -tls1_2 -connect 127.0.0.1:$PORT -servername static.foobar.com \
	-CAfile "$CERTS/ca.crt" -verify_return_error </dev/null 2>&1)
expect_match "SNI selects the second certificate" "$out" "subject=.*CN *= *static.foobar.com"

body=$(curl -sS --max-time 5 --cacert "$CERTS/ca.crt" "$URL")
expect_eq "curl gets the page over verified TLS" "$body" "hello from stackd"
out=$(curl -sS --max-time 5 --cacert "$CERTS/wrongca.crt" "$URL" 2>&1); rc=$?
expect_eq "curl with the wrong CA is refused (exit 60)" "$rc" 60
out=$(curl -sS --max-time 5 --cacert "$CERTS/ca.crt" --resolve evil.example:$PORT:127.0.0.1 \
	"https://evil.example:$PORT/" 2>&1); rc=$?
expect_eq "curl refuses a certificate for another name (exit 60)" "$rc" 60

# Keep-alive: two requests, one connection.
out=$(curl -sS -v --max-time 5 --cacert "$CERTS/ca.crt" "$URL" "$URL" 2>&1)
expect_match "keep-alive reuses the connection" "$out" "Re-using existing connection"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CERTS/ca.crt" "${URL}nope")
expect_eq "unknown path is 404" "$code" 404
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE --max-time 5 --cacert "$CERTS/ca.crt" "$URL")
expect_eq "unknown method is 405" "$code" 405

# Pipelining and smuggling vectors over raw TLS.
raw() {
	printf "$1" | timeout 5 openssl s_client -quiet -tls1_2 -connect 127.0.0.1:$PORT \
		-CAfile "$CERTS/ca.crt" 2>/dev/null
}
out=$(raw 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
expect_eq "two pipelined requests get two answers in order" \
	"$(printf '%s' "$out" | grep -o '^HTTP/1.1 [0-9]*' | tr '\n' ' ')" "HTTP/1.1 200 HTTP/1.1 404 "
out=$(raw 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
expect_match "CL+TE is 400" "$out" "^HTTP/1.1 400"
out=$(raw 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')
expect_match "duplicate Host is 400" "$out" "^HTTP/1.1 400"
out=$(raw 'GET / HTTP/1.1\r\nHost : a\r\n\r\n')
expect_match "space before colon is 400" "$out" "^HTTP/1.1 400"
out=$(raw 'GET / HTTP/2.0\r\nHost: a\r\n\r\n')
expect_match "HTTP/2.0 request line is 505" "$out" "^HTTP/1.1 505"

# Slowloris: a half-sent head is closed at header-timeout (1s) while a
# normal client is served meanwhile.
start_ms=$(( $(date +%s%N) / 1000000 ))
( printf 'GET / HTTP/1.1\r\nHost: a\r\n'; sleep 4 ) | timeout 10 openssl s_client -quiet \
	-connect 127.0.0.1:$PORT -CAfile "$CERTS/ca.crt" >/dev/null 2>&1 &
slow=$!
body=$(curl -sS --max-time 5 --cacert "$CERTS/ca.crt" "$URL")
expect_eq "a normal client is served while a slow one waits" "$body" "hello from stackd"
wait_for 5 connections_are 0
elapsed=$(( $(date +%s%N) / 1000000 - start_ms ))
ok "the half-sent request is closed at the header timeout (${elapsed}ms)" \
	test "$elapsed" -ge 900 -a "$elapsed" -lt 3500
kill "$slow" 2>/dev/null; wait "$slow" 2>/dev/null

# The control socket.
out=$(ctl status)
expect_match "status answers ok" "$out" "^ok"
expect_match "status shows the daemon and its listener" "$out" "listen: 127.0.0.1:$PORT"
out=$(ctl version)
expect_eq "version" "$out" "$(printf 'ok\nhello 0.1')"
out=$(ctl frobnicate)
expect_match "an unknown command is an error" "$out" "^error: unknown command 'frobnicate'"
out=$(ctl status extra words)
expect_match "extra arguments get the usage" "$out" "^error: usage: status"
ctl metrics | tail -n +2 > "$T_DIR/metrics.txt"
ok "metrics pass promtool check metrics" promtool check metrics < "$T_DIR/metrics.txt"
expect_match "metrics count requests by code" "$(cat "$T_DIR/metrics.txt")" \
	'stackd_hello_http_requests_total\{code="200"\} [1-9]'
expect_match "metrics count handshakes" "$(cat "$T_DIR/metrics.txt")" \
	'stackd_hello_tls_handshakes_total\{result="ok"\} [1-9]'
out=$("$HELLO" -h 2>&1)
expect_match "-h prints the usage" "$out" "usage: hello .*-f file"

# Reload: a bad config is refused and the old one keeps serving; a good one
# takes effect; SIGHUP does the same.
cp "$T_DIR/hello.conf" "$T_DIR/good.conf"
printf 'bogus directive\n' >> "$T_DIR/hello.conf"
out=$(ctl reload)
expect_match "reload of a bad config is refused" "$out" "^error: .*keeping the running one"
expect_match "the refusal lists file:line" "$out" "hello.conf:[0-9]+: unknown directive .bogus."
body=$(curl -sS --max-time 5 --cacert "$CERTS/ca.crt" "$URL")
expect_eq "the old config still serves" "$body" "hello from stackd"
write_conf "hello again"
expect_eq "reload of a good config" "$(ctl reload)" "ok"
body=$(curl -sS --max-time 5 --cacert "$CERTS/ca.crt" "$URL")
expect_eq "the new message is served" "$body" "hello again"
write_conf "hello by signal"
kill -HUP "$(daemon_pid hello)"
ok_wait "SIGHUP reloads" 5 serves "hello by signal"
sed -i "s/127.0.0.1:$PORT/127.0.0.1:9443/" "$T_DIR/hello.conf"
out=$(ctl reload)
expect_match "changing the listen address needs a restart" "$out" "^error: .*needs a restart"
expect_match "status counts reloads" "$(ctl status)" "reloads: 2 ok, 2 failed"

# A second instance is refused by the pidfile lock.
write_conf "hello by signal"
sed -i "s|$SOCK|$T_DIR/second.sock|" "$T_DIR/hello.conf"
out=$("$HELLO" -d -f "$T_DIR/hello.conf" 2>&1); rc=$?
expect_match "a second instance is refused by the pidfile lock" "$out" "already running"

stop_daemon hello
ok "the control socket is removed at exit" test ! -e "$SOCK"
ok "the pidfile is removed at exit" test ! -e "$T_DIR/hello.pid"
