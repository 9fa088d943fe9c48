#!/usr/bin/env bash
# webd static serving over plain HTTP and TLS, driven by curl, nc, socat,
# promtool.
. "$(dirname "$0")/lib.sh"

WEBD=$BIN/webd
SOCK=$T_DIR/webd.sock
ROOT=$T_DIR/www
H=http://127.0.0.1:8080
S=https://localhost:8443
CURL=(curl -sS --max-time 5 --cacert "$CERTS/ca.crt")

mkdir -p "$ROOT/dir" "$ROOT/noindex" "$T_DIR/outside"
echo "<h1>foobar</h1>" > "$ROOT/index.html"
echo "dir index" > "$ROOT/dir/index.html"
printf '0123456789' > "$ROOT/ten.txt"
head -c 1048576 /dev/urandom > "$ROOT/big.bin"
echo "body { color: red }" > "$ROOT/style.css"
gzip -k -9 "$ROOT/style.css"
echo "secret" > "$T_DIR/outside/secret.txt"
ln -s ../outside/secret.txt "$ROOT/escape.txt"
ln -s /etc/passwd "$ROOT/passwd"
ln -s ten.txt "$ROOT/inside-link.txt"
echo "spaced" > "$ROOT/a file.txt"

cat > "$T_DIR/webd.conf" <<CONF
control "$SOCK"
listen "127.0.0.1:8080"
listen "127.0.0.1:8443" tls {
	certificate "$CERTS/server.crt" "$CERTS/server.key"
}
root "$ROOT"
index "index.html"
gzip-static on
health "/healthz"
access-log "$T_DIR/access.log"
header-timeout 1s
idle-timeout 5s
max-header-size 4k
CONF

ctl() { printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }
code() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@"; }
connections_are() { ctl status | grep -q "^connections: $1\$"; }
raw() { printf "$1" | timeout 5 nc -q 2 127.0.0.1 8080 | head -n 1 | tr -d '\r'; }

out=$("$WEBD" -n -f "$T_DIR/webd.conf" 2>&1)
expect_eq "webd -n accepts the config" "$out" "configuration OK"
printf 'listen "127.0.0.1:1" tls\nroot "relative"\n' > "$T_DIR/bad.conf"
out=$("$WEBD" -n -f "$T_DIR/bad.conf" 2>&1)
expect_match "a tls listener without certificate is an error" "$out" \
	"bad.conf:1: listen .*expected a certificate"
expect_match "a relative root is an error" "$out" \
	"bad.conf:2: root: expected a path starting with '/'"

sed 's|^root .*|root "/nonexistent/www"|' "$T_DIR/webd.conf" > "$T_DIR/noroot.conf"
out=$("$WEBD" -d -f "$T_DIR/noroot.conf" 2>&1); rc=$?
expect_eq "a missing root stops start-up with status 1" "$rc" 1
expect_eq "and says only why" "$(printf '%s\n' "$out" | grep -v 'user root\|running with' )" \
	"webd: warning: not started: root /nonexistent/www: No such file or directory"

start_daemon webd "$WEBD" -f "$T_DIR/webd.conf" || exit 1

# Static basics, plain and TLS.
expect_eq "GET / serves the index" "$("${CURL[@]}" $H/)" "<h1>foobar</h1>"
expect_eq "GET / over TLS" "$("${CURL[@]}" $S/)" "<h1>foobar</h1>"
ctype=$("${CURL[@]}" -o /dev/null -w '%{content_type}' $H/style.css)
expect_eq "MIME type from the table" "$ctype" "text/css; charset=utf-8"
expect_eq "a directory without slash is 301" "$(code $H/dir)" 301
expect_eq "a directory with slash serves its index" "$("${CURL[@]}" $H/dir/)" "dir index"
expect_eq "a directory without index is 403 (no listing)" "$(code $H/noindex/)" 403
expect_eq "a missing file is 404" "$(code $H/nope.html)" 404
expect_eq "%20 in the path" "$("${CURL[@]}" "$H/a%20file.txt")" "spaced"
"${CURL[@]}" -o "$T_DIR/big.out" $H/big.bin
ok "a 1 MiB file over plain HTTP (sendfile) is intact" cmp "$ROOT/big.bin" "$T_DIR/big.out"
"${CURL[@]}" -o "$T_DIR/big.tls" $S/big.bin
ok "a 1 MiB file over TLS is intact" cmp "$ROOT/big.bin" "$T_DIR/big.tls"
hdrs=$("${CURL[@]}" -I $H/ten.txt | tr -d '\r')
expect_match "HEAD has Content-Length" "$hdrs" "Content-Length: 10"
expect_match "HEAD has an ETag" "$hdrs" 'ETag: "'
expect_eq "POST to a static file is 405" "$(code -X POST -d x=1 $H/ten.txt)" 405

# Conditional and range requests.
etag=$(printf '%s\n' "$hdrs" | sed -n 's/^ETag: //p')
lm=$(printf '%s\n' "$hdrs" | sed -n 's/^Last-Modified: //p')
expect_eq "If-None-Match with the ETag is 304" "$(code -H "If-None-Match: $etag" $H/ten.txt)" 304
expect_eq "If-Modified-Since equal is 304" "$(code -H "If-Modified-Since: $lm" $H/ten.txt)" 304
expect_eq "a stale If-None-Match is 200" "$(code -H 'If-None-Match: "nope"' $H/ten.txt)" 200
expect_eq "Range bytes=2-5 gives the bytes" "$("${CURL[@]}" -r 2-5 $H/ten.txt)" "2345"
expect_eq "Range is 206" "$(code -r 2-5 $H/ten.txt)" 206
expect_eq "a suffix range" "$("${CURL[@]}" -r -3 $H/ten.txt)" "789"
expect_eq "a range past the end is 416" "$(code -r 10-20 $H/ten.txt)" 416
expect_eq "Range over TLS" "$("${CURL[@]}" -r 0-3 $S/ten.txt)" "0123"

# Precompressed sibling.
enc=$("${CURL[@]}" -H 'Accept-Encoding: gzip' -D - -o "$T_DIR/style.gz" $H/style.css | tr -d '\r')
expect_match "a gzip-accepting client gets the .gz sibling" "$enc" "Content-Encoding: gzip"
ok "the .gz body is the sibling's" cmp "$ROOT/style.css.gz" "$T_DIR/style.gz"
enc=$("${CURL[@]}" -D - -o /dev/null $H/style.css | tr -d '\r')
expect_match "others get identity with Vary" "$enc" "Vary: Accept-Encoding"

# Traversal and symlink escapes, sent raw so curl does not normalise them.
for p in "/../outside/secret.txt" "/%%2e%%2e/outside/secret.txt" \
	"/dir/../../outside/secret.txt" "/.%%2e/outside/secret.txt" \
	"/%%2E%%2E/%%2E%%2E/etc/passwd"; do
	st=$(raw "GET $p HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	expect_match "traversal $p is refused" "$st" "^HTTP/1.1 (400|403)"
done
expect_match "NUL in the path is 400" \
	"$(raw 'GET /ten.txt%%00.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')" "^HTTP/1.1 400"
expect_eq "a symlink leaving the root is 403" "$(code $H/escape.txt)" 403
expect_eq "a symlink to /etc/passwd is 403" "$(code $H/passwd)" 403
expect_eq "a symlink inside the root is served" "$("${CURL[@]}" $H/inside-link.txt)" "0123456789"

# Keep-alive, pipelining, limits.
out=$("${CURL[@]}" -v $H/ten.txt $H/ten.txt 2>&1)
expect_match "keep-alive reuses the connection" "$out" "Re-using existing connection"
out=$(printf 'GET /ten.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
	timeout 5 nc -q 2 127.0.0.1 8080 | grep -ao 'HTTP/1.1 [0-9]*' | tr '\n' ' ')
expect_eq "pipelined requests answered in order" "$out" "HTTP/1.1 200 HTTP/1.1 404 "
big=$(head -c 5000 /dev/zero | tr '\0' a)
expect_eq "a head over max-header-size is 431" "$(code -H "X-Big: $big" $H/ten.txt)" 431
expect_match "CL+TE smuggling is 400" \
	"$(raw 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" "^HTTP/1.1 400"
expect_eq "the health endpoint" "$("${CURL[@]}" $H/healthz)" "ok"

# Slowloris: a half-sent head is cut at header-timeout (1s) while others
# are served meanwhile.
( printf 'GET / HTTP/1.1\r\nHost: a\r\n'; sleep 4 ) | timeout 6 nc 127.0.0.1 8080 >/dev/null &
slow=$!
start_ms=$(( $(date +%s%N) / 1000000 ))
wait_for 3 connections_are 1
expect_eq "a normal client is served meanwhile" "$("${CURL[@]}" $H/ten.txt)" "0123456789"
wait_for 4 connections_are 0
elapsed=$(( $(date +%s%N) / 1000000 - start_ms ))
ok "the half-sent request is closed at the header timeout (${elapsed}ms)" \
	test "$elapsed" -ge 900 -a "$elapsed" -lt 2500
kill $slow 2>/dev/null; wait $slow 2>/dev/null

# Control socket, metrics, access log.
expect_match "status lists the TLS listener" "$(ctl status)" "listen: 127.0.0.1:8443 tls"
ctl metrics | tail -n +2 > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
m=$(cat "$T_DIR/metrics.txt")
expect_match "requests counted by class" "$m" 'stackd_webd_http_requests_total\{class="2xx"\} [1-9]'
expect_match "the header timeout is counted" "$m" 'stackd_webd_limit_hits_total\{limit="header_timeout"\} [1-9]'
expect_match "the 431 is counted" "$m" 'stackd_webd_limit_hits_total\{limit="max_header_size"\} [1-9]'
expect_match "the duration histogram" "$m" 'stackd_webd_http_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]'
ok_wait "the access log is written" 3 grep -q 'GET /ten.txt HTTP/1.1' "$T_DIR/access.log"
line=$(grep -m1 '"GET /ten.txt HTTP/1.1" "-" "curl[^"]*" 200 10 ' "$T_DIR/access.log")
expect_match "access log line in combined format" "$line" \
	'^127\.0\.0\.1:[0-9]+ - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} [-+][0-9]{4}\] "GET /ten.txt HTTP/1.1" "-" "curl/[^"]*" 200 10 [0-9.]+$'
mv "$T_DIR/access.log" "$T_DIR/access.log.1"
expect_eq "reopen-logs" "$(ctl reopen-logs)" "ok"
"${CURL[@]}" -o /dev/null $H/ten.txt
ok_wait "after reopen, lines go to the new file" 3 test -s "$T_DIR/access.log"

# Reload: a bad config changes nothing; a good one changes the root.
cp "$T_DIR/webd.conf" "$T_DIR/webd.conf.good"
sed -i 's|^root .*|root "/nonexistent/www"|' "$T_DIR/webd.conf"
expect_match "reload with a missing root is refused" "$(ctl reload)" "^error: root /nonexistent/www"
expect_eq "the old root still serves" "$("${CURL[@]}" $H/ten.txt)" "0123456789"
mkdir -p "$T_DIR/www2"; echo "second root" > "$T_DIR/www2/index.html"
sed "s|^root .*|root \"$T_DIR/www2\"|" "$T_DIR/webd.conf.good" > "$T_DIR/webd.conf"
expect_eq "reload with a new root" "$(ctl reload)" "ok"
expect_eq "the new root serves" "$("${CURL[@]}" $H/)" "second root"

# The JSON access log, by reload: every line parses, a bad request too.
sed -i "s|^access-log .*|access-log \"$T_DIR/access.json\" json|" "$T_DIR/webd.conf"
expect_eq "reload switching the access log to JSON" "$(ctl reload)" "ok"
"${CURL[@]}" -o /dev/null -A 'quote" and \ back' $H/
expect_eq "a malformed request gets 400" "$(raw 'GET /\x01 HTTP/1.1\r\n\r\n')" "HTTP/1.1 400 Bad Request"
json_lines_ok() {
	[ "$(wc -l < "$T_DIR/access.json")" -eq 2 ] && python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows[0]["request"] == "GET / HTTP/1.1" and rows[0]["status"] == 200
assert rows[0]["user_agent"] == "quote\" and \\ back"
assert rows[1]["request"] == "-" and rows[1]["status"] == 400
' "$T_DIR/access.json"
}
ok_wait "both lines are valid JSON with the right fields" 3 json_lines_ok

# directory-listing on, by reload: the list shows names, escaped, no dotfiles.
mkdir -p "$T_DIR/www2/files"
touch "$T_DIR/www2/files/a<b>.txt" "$T_DIR/www2/files/.hidden" "$T_DIR/www2/files/plain.txt"
echo "directory-listing on" >> "$T_DIR/webd.conf"
expect_eq "reload turning directory listing on" "$(ctl reload)" "ok"
out=$("${CURL[@]}" $H/files/)
expect_match "a directory without index is listed" "$out" 'href="./plain.txt"'
expect_match "names are HTML-escaped" "$out" "a&lt;b&gt;.txt"
fails "dotfiles are not listed" grep -q hidden <<<"$out"

stop_daemon webd
