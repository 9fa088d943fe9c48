#!/bin/sh
# make demo, foundation stage: run stackd-hello (the common/ chain: config,
# control socket, HTTPS with mbedTLS, strict HTTP/1.1, metrics) in a temp
# dir, print how to talk to it, and stop cleanly on Ctrl-C. The whole-site
# demo (lbd, webd, dbrouter, fwd, agentd in network namespaces) replaces
# this as the daemons land.
set -eu
: "${STACKD_BUILD:=build}"
PORT=${DEMO_PORT:-8443}
HELLO=$STACKD_BUILD/tests/stackd-hello
dir=$(mktemp -d "${TMPDIR:-/tmp}/stackd-demo.XXXXXX")
pid=""

cleanup() {
	trap - INT TERM EXIT
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" || true
	fi
	rm -rf "$dir"
	echo "demo: stopped, $dir removed"
}
trap cleanup INT TERM EXIT

sh "$(dirname "$0")/../mkcerts.sh" "$dir"
cat > "$dir/hello.conf" <<CONF
# stackd-hello demo configuration (grammar: man man/stackd.conf.5)
listen "127.0.0.1:$PORT"
certificate "$dir/server.crt" "$dir/server.key"
message "hello from www.foobar.com, served by stackd's common library"
control "$dir/hello.sock"
user "$(id -un)"
CONF
"$HELLO" -n -f "$dir/hello.conf"

exec 3>"$dir/ready.log"
"$HELLO" -d -f "$dir/hello.conf" -N 3 2>"$dir/hello.log" &
pid=$!
exec 3>&-
# Readiness: READY=1 arrives on fd 3 once the daemon serves.
n=0
until grep -q READY=1 "$dir/ready.log" 2>/dev/null; do
	kill -0 "$pid" 2>/dev/null || { cat "$dir/hello.log"; exit 1; }
	n=$((n + 1)); [ $n -lt 500 ] || { echo "demo: no readiness"; exit 1; }
	sleep 0.01
done

cat <<MSG

  stackd demo (foundation stage) is running: pid $pid

  URL:       https://localhost:$PORT/
  try:       curl --cacert $dir/ca.crt https://localhost:$PORT/
             openssl s_client -tls1_2 -connect 127.0.0.1:$PORT -CAfile $dir/ca.crt -brief </dev/null
  control:   echo status  | socat - UNIX:$dir/hello.sock
             echo metrics | socat - UNIX:$dir/hello.sock
  reload:    edit $dir/hello.conf, then: kill -HUP $pid
  logs:      $dir/hello.log

  Ctrl-C stops it.
MSG
wait "$pid"
