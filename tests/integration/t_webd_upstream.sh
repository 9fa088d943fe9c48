#!/usr/bin/env bash
# webd dynamic pages: FastCGI to Debian's real php-fpm (unix socket and TCP)
# and an HTTP upstream (a Python app server, unix socket and TCP), driven by
# curl, nc and wrk.
. "$(dirname "$0")/lib.sh"

WEBD=$BIN/webd
SOCK=$T_DIR/webd.sock
ROOT=$T_DIR/www
H=http://127.0.0.1:8080
S=https://localhost:8443
CURL=(curl -sS --max-time 10 --cacert "$CERTS/ca.crt")
FPM=$(ls /usr/sbin/php-fpm* 2>/dev/null | head -n 1)
APP="python3 $STACKD_SRC/tests/integration/app_server.py"

mkdir -p "$ROOT/app" "$ROOT/sub" "$T_DIR/outside"
cat > "$ROOT/hello.php" <<'PHP'
<?php header("X-Php: yes"); echo "hello from php ", $_GET["name"] ?? "nobody", "\n";
PHP
cat > "$ROOT/env.php" <<'PHP'
<?php foreach (["REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING", "SCRIPT_NAME",
    "SCRIPT_FILENAME", "DOCUMENT_ROOT", "REMOTE_ADDR", "SERVER_PORT",
    "SERVER_NAME", "SERVER_PROTOCOL", "HTTPS", "HTTP_X_TEST", "HTTP_PROXY",
    "PATH_INFO", "GATEWAY_INTERFACE"] as $k)
	echo $k, "=", $_SERVER[$k] ?? "", "\n";
PHP
cat > "$ROOT/echo.php" <<'PHP'
<?php $b = file_get_contents("php://input");
echo strlen($b), " ", hash("sha256", $b), " ", $_SERVER["CONTENT_TYPE"] ?? "-",
    " ", $_POST["field"] ?? "-", "\n";
PHP
cat > "$ROOT/status.php" <<'PHP'
<?php http_response_code(404); echo "not here\n";
PHP
cat > "$ROOT/redirect.php" <<'PHP'
<?php header("Location: /hello.php");
PHP
cat > "$ROOT/big.php" <<'PHP'
<?php echo str_repeat("y", 2 * 1024 * 1024);
PHP
cat > "$ROOT/slow.php" <<'PHP'
<?php sleep(3); echo "slow\n";
PHP
cat > "$ROOT/stderr.php" <<'PHP'
<?php error_log("stderr-marker-4711"); echo "logged\n";
PHP
cat > "$ROOT/app/index.php" <<'PHP'
<?php echo "front ", $_SERVER["SCRIPT_NAME"], " ", $_SERVER["PATH_INFO"] ?? "-", "\n";
PHP
echo '<?php echo "outside\n";' > "$T_DIR/outside/x.php"
ln -s ../outside/x.php "$ROOT/escape.php"
echo "static text" > "$ROOT/static.txt"
head -c 1048576 /dev/urandom > "$T_DIR/mib.bin"
MIB_SHA=$(sha256sum "$T_DIR/mib.bin" | cut -d' ' -f1)
head -c 3000000 /dev/urandom > "$T_DIR/big.bin"

cat > "$T_DIR/fpm.conf" <<CONF
[global]
error_log = $T_DIR/fpm-error.log
daemonize = no
[unix]
listen = $T_DIR/fpm.sock
pm = static
pm.max_children = 4
[tcp]
listen = 127.0.0.1:9000
pm = static
pm.max_children = 2
CONF

cat > "$T_DIR/webd.conf" <<CONF
control "$SOCK"
listen "127.0.0.1:8080"
listen "127.0.0.1:8443" tls {
	certificate "$CERTS/server.crt" "$CERTS/server.key"
}
root "$ROOT"
max-body 2m
upstream-timeout 1500ms
body-timeout 1s
location "/app/" {
	fastcgi "unix:$T_DIR/fpm.sock"
	script "/app/index.php"
}
location "/tcp/" {
	fastcgi "127.0.0.1:9000"
	script "/hello.php"
}
location "*.php" {
	fastcgi "unix:$T_DIR/fpm.sock"
}
location "/api/" {
	proxy "127.0.0.1:3000"
}
location "/uapi/" {
	proxy "unix:$T_DIR/app.sock"
}
location "/down/" {
	proxy "127.0.0.1:3999"
}
CONF

ctl() { printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }
code() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@"; }
metric() { ctl metrics | awk -v m="$1" '$1 == m { print $2 }'; }

# ---- configuration errors ----
printf 'listen "127.0.0.1:1"\nroot "/"\nlocation "x.php" { fastcgi "unix:/x" }\n' > "$T_DIR/bad1.conf"
out=$("$WEBD" -n -f "$T_DIR/bad1.conf" 2>&1)
expect_match "a location pattern that is neither prefix nor suffix is refused" "$out" \
	'bad1.conf:3: location: expected "/prefix", "=/exact/path" or "\*.suffix", got "x.php"'
printf 'listen "127.0.0.1:1"\nroot "/"\nlocation "/a/" {\n\tfastcgi "unix:/x"\n\tproxy "1.2.3.4:80"\n}\n' > "$T_DIR/bad2.conf"
out=$("$WEBD" -n -f "$T_DIR/bad2.conf" 2>&1)
expect_match "a location with two handlers is refused" "$out" \
	"bad2.conf:3: location /a/: expected exactly one of fastcgi, proxy or static, got 2"
printf 'listen "127.0.0.1:1"\nroot "/"\nlocation "/a/" { proxy "nonsense:port" }\n' > "$T_DIR/bad3.conf"
out=$("$WEBD" -n -f "$T_DIR/bad3.conf" 2>&1)
expect_match "a bad upstream address is refused with its line" "$out" "bad3.conf:3: proxy: "
printf 'listen "127.0.0.1:1"\nroot "/"\nlocation "/a/" {\n\tproxy "1.2.3.4:80"\n\tscript "/x.php"\n}\n' > "$T_DIR/bad4.conf"
out=$("$WEBD" -n -f "$T_DIR/bad4.conf" 2>&1)
expect_match "script outside a fastcgi location is refused" "$out" \
	"bad4.conf:3: location /a/: script is only for fastcgi"

start_peer php-fpm "test -S '$T_DIR/fpm.sock'" "$FPM" -n -R -F -y "$T_DIR/fpm.conf" || exit 1
start_peer app "${CURL[*]} -o /dev/null http://127.0.0.1:3000/api/echo" $APP 127.0.0.1:3000 || exit 1
start_peer uapp "test -S '$T_DIR/app.sock'" $APP "unix:$T_DIR/app.sock" || exit 1
start_daemon webd "$WEBD" -f "$T_DIR/webd.conf" || exit 1

# ---- FastCGI ----
out=$("${CURL[@]}" -D "$T_DIR/h1" "$H/hello.php?name=curl")
expect_eq "php page through php-fpm over a unix socket" "$out" "hello from php curl"
expect_match "the application's own fields reach the client" "$(cat "$T_DIR/h1")" "X-Php: yes"
expect_match "and the status line is 200" "$(head -n1 "$T_DIR/h1")" "HTTP/1.1 200"
expect_eq "php-fpm over TCP, front-controller script" \
	"$("${CURL[@]}" "$H/tcp/anything")" "hello from php nobody"
out=$("${CURL[@]}" -H "X-Test: abc" -H "Proxy: http://evil:1" "$H/env.php?a=1&b=2")
expect_match "REQUEST_METHOD" "$out" "^REQUEST_METHOD=GET$"
expect_match "REQUEST_URI keeps the raw target" "$out" "REQUEST_URI=/env.php\?a=1&b=2"
expect_match "QUERY_STRING" "$out" "QUERY_STRING=a=1&b=2"
expect_match "SCRIPT_FILENAME is beneath the root" "$out" "SCRIPT_FILENAME=$ROOT/env.php"
expect_match "REMOTE_ADDR is the client" "$out" "REMOTE_ADDR=127.0.0.1"
expect_match "SERVER_PORT is the listener's" "$out" "SERVER_PORT=8080"
expect_match "SERVER_NAME from Host, without the port" "$out" "SERVER_NAME=127.0.0.1$"
expect_match "request fields become HTTP_ variables" "$out" "HTTP_X_TEST=abc"
expect_match "a Proxy field never becomes HTTP_PROXY (httpoxy)" "$out" "HTTP_PROXY=$"
expect_match "plain HTTP has no HTTPS variable" "$out" "HTTPS=$"
out=$("${CURL[@]}" "$S/env.php")
expect_match "the TLS listener sets HTTPS=on" "$out" "HTTPS=on"
out=$("${CURL[@]}" "$H/app/users/42")
expect_eq "a script location runs its script with PATH_INFO" "$out" "front /app/index.php /app/users/42"

out=$("${CURL[@]}" --data-binary @"$T_DIR/mib.bin" -H "Content-Type: application/octet-stream" "$H/echo.php")
expect_eq "a 1 MiB POST body streams to php-fpm intact" "$out" "1048576 $MIB_SHA application/octet-stream -"
out=$("${CURL[@]}" -d "field=value" "$H/echo.php")
expect_match "a form POST reaches \$_POST" "$out" " application/x-www-form-urlencoded value$"
out=$("${CURL[@]}" -H "Transfer-Encoding: chunked" -H "Content-Type: application/octet-stream" \
	--data-binary @"$T_DIR/mib.bin" "$H/echo.php")
expect_match "a chunked body is gathered and sent with its CONTENT_LENGTH" "$out" "^1048576 $MIB_SHA "
out=$("${CURL[@]}" -H "Expect: 100-continue" -H "Content-Type: application/octet-stream" \
	--data-binary @"$T_DIR/mib.bin" -w '%{time_total}\n' "$H/echo.php")
expect_match "a body sent after Expect: 100-continue arrives" "$out" "^1048576 $MIB_SHA "
# curl waits 1 s for the 100 before sending anyway: faster means webd sent it.
expect_match "and the 100 Continue came at once" "$(tail -n 1 <<<"$out")" "^0\.[0-8]"
expect_eq "a body over max-body (Content-Length) gets 413" \
	"$(code --data-binary @"$T_DIR/big.bin" "$H/echo.php")" 413
expect_eq "a chunked body over max-body gets 413" \
	"$(code -H "Transfer-Encoding: chunked" --data-binary @"$T_DIR/big.bin" "$H/echo.php")" 413
expect_eq "Status from the script is the response status" "$(code "$H/status.php")" 404
out=$("${CURL[@]}" -D - -o /dev/null "$H/redirect.php" | tr -d '\r')
expect_match "Location without Status redirects with 302" "$out" "^HTTP/1.1 302"
expect_match "and keeps the Location" "$out" "Location: /hello.php"
expect_eq "a missing script is 404 from webd, not passed to php-fpm" "$(code "$H/nope.php")" 404
expect_eq "a script symlinked out of the root is refused" "$(code "$H/escape.php")" 403
expect_eq "traversal to a php file outside the root is refused" \
	"$(code --path-as-is "$H/../outside/x.php")" 403
out=$("${CURL[@]}" "$H/big.php" | sha256sum | cut -d' ' -f1)
expect_eq "2 MiB of script output streams back intact" "$out" \
	"$(head -c 2097152 /dev/zero | tr '\0' y | sha256sum | cut -d' ' -f1)"
out=$("${CURL[@]}" -D - -o /dev/null "$H/big.php" | tr -d '\r')
expect_match "output without a length goes chunked to an HTTP/1.1 client" "$out" "Transfer-Encoding: chunked"
out=$("${CURL[@]}" -0 -D - "$H/hello.php" | tr -d '\r')
expect_match "an HTTP/1.0 client gets a close-delimited answer" "$out" "Connection: close"
expect_match "with the whole body" "$out" "hello from php nobody"
out=$("${CURL[@]}" -I "$H/hello.php" | tr -d '\r')
expect_match "HEAD through FastCGI: a head, no body" "$out" "^HTTP/1.1 200"
out=$("${CURL[@]}" -v "$H/hello.php" "$H/hello.php" 2>&1)
expect_match "keep-alive holds across php requests" "$out" "Re-using existing connection"
expect_eq "static files still served beside locations" "$("${CURL[@]}" "$H/static.txt")" "static text"
"${CURL[@]}" -o /dev/null "$H/stderr.php"
ok_wait "the script's stderr lands in webd's log" 5 grep -q "fastcgi unix:.*stderr-marker-4711" "$(daemon_log webd)"

# A slow script: 504 at upstream-timeout while others are served.
"${CURL[@]}" -o "$T_DIR/slow.out" -w '%{http_code}' "$H/slow.php" > "$T_DIR/slow.code" &
slow=$!
slow_in_flight() { ctl status | grep -q "^connections: 1$"; }
ok_wait "the slow request is in flight" 5 slow_in_flight
expect_eq "a fast page is served while a slow one waits" "$("${CURL[@]}" "$H/hello.php")" "hello from php nobody"
wait $slow
expect_eq "the slow one gets 504 at upstream-timeout" "$(cat "$T_DIR/slow.code")" 504
expect_eq "counted as an upstream_timeout" \
	"$(metric 'stackd_webd_limit_hits_total{limit="upstream_timeout"}')" 1

# A client that stops sending its body is cut at body-timeout.
exec 5<> /dev/tcp/127.0.0.1/8080
printf 'POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc' >&5
# timeout exits 124 if webd never closes; cat ends at once when it does.
out=$(timeout 4 cat <&5); rc=$?
exec 5<&-
expect_eq "a stalled body is cut at body-timeout" "$rc" 0
expect_eq "without an answer" "$out" ""
expect_eq "counted as a body_timeout" \
	"$(metric 'stackd_webd_limit_hits_total{limit="body_timeout"}')" 1

# A bad location in a reload: refused with its line, the old config runs on.
cp "$T_DIR/webd.conf" "$T_DIR/webd.conf.good"
printf 'location "/x/" {\n\tfastcgi "unix:/x"\n\tscript "x.php"\n}\n' >> "$T_DIR/webd.conf"
expect_match "a reload with a bad script is refused with file:line" "$(ctl reload)" \
	"webd.conf:[0-9]+: script: expected a path beneath the root"
expect_eq "and php pages are still served" "$("${CURL[@]}" "$H/hello.php")" "hello from php nobody"
cp "$T_DIR/webd.conf.good" "$T_DIR/webd.conf"

# ---- HTTP upstream ----
out=$("${CURL[@]}" -H "Connection: X-Secret" -H "X-Secret: 1" -H "X-Forwarded-For: 10.9.9.9" \
	-H "Host: www.foobar.com" "$H/api/echo?q=1")
expect_match "proxied to the app server over TCP" "$out" '"path": "/api/echo\?q=1"'
expect_match "X-Forwarded-For appends the client" "$out" '"X-Forwarded-For": "10.9.9.9, 127.0.0.1"'
expect_match "X-Forwarded-Proto says http" "$out" '"X-Forwarded-Proto": "http"'
expect_match "the client's Host is kept" "$out" '"Host": "www.foobar.com"'
fails "fields named in Connection are not forwarded" grep -q X-Secret <<<"$out"
out=$("${CURL[@]}" -D "$T_DIR/h2" "$S/uapi/echo")
expect_match "proxied over a unix socket, from the TLS listener" "$out" '"X-Forwarded-Proto": "https"'
expect_match "the app's fields reach the client" "$(cat "$T_DIR/h2")" "X-App: app_server"
out=$("${CURL[@]}" --data-binary @"$T_DIR/mib.bin" "$H/api/echo")
expect_match "a 1 MiB body streams to the app" "$out" "\"length\": 1048576, .*\"sha256\": \"$MIB_SHA\""
out=$("${CURL[@]}" -H "Transfer-Encoding: chunked" --data-binary @"$T_DIR/mib.bin" "$H/api/echo")
expect_match "a chunked body stays chunked towards the app" "$out" "\"framing\": \"chunked\""
expect_match "and arrives intact" "$out" "\"sha256\": \"$MIB_SHA\""
out=$("${CURL[@]}" -D "$T_DIR/h3" "$H/api/big?n=300000" | wc -c)
expect_eq "a close-delimited answer is relayed whole" "$out" 300000
expect_match "re-framed as chunked for the client" "$(cat "$T_DIR/h3")" "Transfer-Encoding: chunked"
expect_eq "the app's status is passed on" "$(code "$H/api/status?c=418")" 418
expect_eq "an unreachable upstream gives 502" "$(code "$H/down/x")" 502
expect_eq "a slow app gives 504" "$(code "$H/api/slow?s=3")" 504
expect_eq "a body over max-body to the app gets 413" \
	"$(code --data-binary @"$T_DIR/big.bin" "$H/api/echo")" 413

# php-fpm gone: 502, and webd is fine.
stop_peer php-fpm
expect_eq "php-fpm down gives 502" "$(code "$H/hello.php")" 502
expect_eq "webd still serves static files" "$("${CURL[@]}" "$H/static.txt")" "static text"

# Under load, with the app: every request answered. The short
# upstream-timeout above is for the 504 checks; a loaded sanitizer build on
# two shared cores can keep the Python app busy past it.
sed -i 's/^upstream-timeout .*/upstream-timeout 20s/' "$T_DIR/webd.conf"
expect_eq "reload with a longer upstream-timeout" "$(ctl reload)" "ok"
out=$(wrk -t2 -c20 -d2s --timeout 10s "$H/api/echo" 2>&1)
expect_match "wrk through the HTTP upstream: requests made" "$out" "[1-9][0-9]* requests in"
expect_eq "and none failed" "$(grep -E 'Socket errors|Non-2xx' <<<"$out")" ""
ctl metrics | tail -n +2 > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
stop_daemon webd
stop_peer app
stop_peer uapp
