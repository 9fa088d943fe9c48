#!/bin/sh
# bench/webd.sh — webd vs nginx, side by side in one run: same files, the
# same number of worker processes (webd `workers`, nginx
# `worker_processes`), no access logs, wrk on the same machine. Prints each
# figure and the ratio webd/nginx (higher is better, except RSS where lower
# is better).
#
#   BENCH_TIME=10   seconds per wrk run (1 for a smoke run)
#   BENCH_IDLE=10000  idle keep-alive connections for the RSS figure
#   BENCH_WORKERS=1   worker processes of each server
set -eu
: "${STACKD_BUILD:=build}"
T=${BENCH_TIME:-10}
IDLE=${BENCH_IDLE:-10000}
WORKERS=${BENCH_WORKERS:-1}
WEBD=$STACKD_BUILD/bin/webd
for tool in nginx wrk python3; do
	command -v $tool >/dev/null || { echo "bench: $tool missing (make deps)"; exit 1; }
done
ulimit -n 65536 2>/dev/null || true
dir=$(mktemp -d "${TMPDIR:-/tmp}/stackd-bench-webd.XXXXXX")
chmod 755 "$dir"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

mkdir -p "$dir/www"
head -c 1024 /dev/urandom > "$dir/www/1k.bin"
head -c 1048576 /dev/urandom > "$dir/www/1m.bin"

cat > "$dir/webd.conf" <<CONF
user root
control "$dir/webd.sock"
listen "127.0.0.1:18080"
root "$dir/www"
max-connections 60000
idle-timeout 120s
header-timeout 120s
workers $WORKERS
CONF
cat > "$dir/nginx.conf" <<CONF
user root;
worker_processes $WORKERS;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 60000; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000000;
	keepalive_timeout 120s;
	client_header_timeout 120s;
	types { application/octet-stream bin; }
	server { listen 127.0.0.1:18081; root $dir/www; }
}
CONF

"$WEBD" -d -f "$dir/webd.conf" 2>"$dir/webd.log" &
pids="$pids $!"
nginx -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' &
pids="$pids $!"
# Ready when both answer; a server that could not bind (port taken) exits,
# and must not be benchmarked against whatever else answers there.
n=0
until curl -sf -o /dev/null http://127.0.0.1:18080/1k.bin &&
    curl -sf -o /dev/null http://127.0.0.1:18081/1k.bin; do
	for p in $pids; do
		kill -0 "$p" 2>/dev/null || { echo "bench: a server failed to start"; cat "$dir"/*.log; exit 1; }
	done
	n=$((n + 1)); [ $n -lt 500 ] || { echo "bench: servers did not start"; cat "$dir"/*.log; exit 1; }
	sleep 0.01
done
# The port check above cannot tell our nginx from a stray one: ours holds it.
kill -0 $(echo $pids | awk '{ print $2 }') 2>/dev/null || { echo "bench: nginx failed"; exit 1; }

# wrk's Requests/sec for: PORT PATH CONNECTIONS [extra wrk args]
rps() {
	port=$1 path=$2 conns=$3; shift 3
	wrk -t2 -c"$conns" -d"${T}s" "$@" "http://127.0.0.1:$port$path" |
	    awk '/^Requests\/sec:/ { print $2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { printf '%-34s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }

printf '%-34s %12s %12s %8s\n' "figure" "webd" "nginx" "ratio"
w=$(rps 18080 /1k.bin 100); g=$(rps 18081 /1k.bin 100)
row "1 KiB keep-alive req/s" "$w" "$g"
w=$(rps 18080 /1m.bin 20); g=$(rps 18081 /1m.bin 20)
row "1 MiB throughput MiB/s" "$w" "$g"
w=$(rps 18080 /1k.bin 50 -H "Connection: close"); g=$(rps 18081 /1k.bin 50 -H "Connection: close")
row "1 KiB Connection: close req/s" "$w" "$g"

# RSS holding IDLE keep-alive connections (each made one request first).
rss_kib() { ps -o rss= -p "$1" | awk '{ s += $1 } END { print s }'; }
cat > "$dir/idle.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
req = b"GET /1k.bin HTTP/1.1\r\nHost: b\r\n\r\n"
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got or len(got) < 1024:
        got += s.recv(4096)
    socks.append(s)
print("ready", flush=True)
sys.stdin.readline()    # hold them until the bench has read the RSS
PY
idle() { python3 "$dir/idle.py" "$1" "$IDLE"; }
webd_pid=$(echo $pids | awk '{ print $1 }')
nginx_workers=$(pgrep -f "nginx: worker process" | tr '\n' ',' | sed 's/,$//')
nginx_master=$(pgrep -f "nginx: master process" | head -n 1)
for target in webd nginx; do
	port=18080; [ $target = nginx ] && port=18081
	mkfifo "$dir/$target.in"
	idle $port < "$dir/$target.in" > "$dir/$target.out" &
	client=$!
	exec 7>"$dir/$target.in"
	until grep -q ready "$dir/$target.out" 2>/dev/null; do
		kill -0 $client 2>/dev/null || { echo "bench: idle client failed"; exit 1; }
		sleep 0.1
	done
	if [ $target = webd ]; then
		w=$(rss_kib "$webd_pid$(pgrep -P "$webd_pid" | sed 's/^/,/' | tr -d '\n')"); else
		g=$(rss_kib "$nginx_master,$nginx_workers"); fi
	echo >&7; exec 7>&-
	wait $client || true
done
row "RSS KiB, $IDLE idle conns (lower)" "$w" "$g"
echo "(RSS ratio below 1.00 means webd uses less; each is all its processes)"
echo "(workers: $WORKERS each)"
