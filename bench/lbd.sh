#!/bin/sh
# bench/lbd.sh — lbd vs HAProxy, side by side in one run. Both proxy to
# the same single webd (plain HTTP, one worker, a 1 KiB file), each with
# one worker (lbd is one process; HAProxy `nbthread 1`), no logs, server
# connections kept for reuse, TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256
# and the same ECDSA P-256 certificate (made here with openssl). wrk and
# openssl s_time run on the same machine. Prints each figure, the ratio
# lbd/haproxy (higher is better), each server's CPU time per request and
# the TLS handshakes each counted (new/resumed: lbd's metrics, HAProxy's
# stats), then the ceiling that mbedTLS's own crypto puts on full
# handshakes (build/bench/tls_handshake: in-memory handshakes through
# common/tls, no network, no proxy).
#
# The figures: HTTPS keep-alive (wrk); a full handshake per request
# (openssl s_time -new); a resumed session per request (s_time -reuse,
# and wrk -H "Connection: close", which resumes: see the note it prints);
# plain HTTP keep-alive.
#
# Where it runs: in a private network namespace (unshare -rn) when it can,
# so its ports cannot clash with anything else on the machine.
#
#   BENCH_TIME=10     seconds per measured run (3 for a short run)
#   BENCH_CONNS=64    wrk connections for the keep-alive figures
#   BENCH_SCLIENTS=4  openssl s_time clients run at once
#   BENCH_HS=1000     in-memory handshakes for the crypto ceiling
set -eu
: "${STACKD_BUILD:=build}"
STACKD_BUILD=$(cd "$STACKD_BUILD" && pwd)
T=${BENCH_TIME:-10}
CONNS=${BENCH_CONNS:-64}
HS=${BENCH_HS:-1000}
SCLIENTS=${BENCH_SCLIENTS:-4}
WEBD=$STACKD_BUILD/bin/webd
LBD=$STACKD_BUILD/bin/lbd
HSBENCH=$STACKD_BUILD/bench/tls_handshake
LBCTL=$STACKD_BUILD/bin/lbctl
for tool in haproxy wrk openssl curl socat; do
	command -v $tool >/dev/null || { echo "bench: $tool missing (make deps)"; exit 1; }
done
for b in "$WEBD" "$LBD" "$LBCTL" "$HSBENCH"; do
	[ -x "$b" ] || { echo "bench: $b missing (make all bench-build)"; exit 1; }
done
if [ -z "${STACKD_BENCH_NS:-}" ]; then
	# Raise the limit out here: inside, the hard limit cannot grow.
	ulimit -n 65536 2>/dev/null || true
	if unshare -rn true 2>/dev/null; then
		STACKD_BENCH_NS=1 STACKD_BUILD=$STACKD_BUILD exec unshare -rn sh "$0" "$@"
	fi
	echo "bench: unshare -rn not available; using the host's loopback"
fi
[ "${STACKD_BENCH_NS:-}" = 1 ] && ip link set lo up

dir=$(mktemp -d "${TMPDIR:-/tmp}/stackd-bench-lbd.XXXXXX")
chmod 755 "$dir"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# Ports: webd 18090; lbd TLS 18443, plain 18091; HAProxy 18444, 18092.
WEB=18090 LT=18443 LP=18091 HT=18444 HP=18092
CIPHER=ECDHE-ECDSA-AES128-GCM-SHA256

# ---- the certificate: ECDSA P-256, self-signed, key mode 0600 ----
(umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$dir/ec.key" 2>/dev/null)
openssl req -x509 -new -key "$dir/ec.key" -out "$dir/ec.crt" -days 2 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    2>/dev/null
(umask 077; cat "$dir/ec.crt" "$dir/ec.key" > "$dir/ec.pem")

mkdir -p "$dir/www"
head -c 1024 /dev/urandom > "$dir/www/1k.bin"

cat > "$dir/webd.conf" <<CONF
user root
control "$dir/webd.sock"
listen "127.0.0.1:$WEB"
root "$dir/www"
max-connections 60000
idle-timeout 120s
header-timeout 120s
workers 1
CONF
# Server connections: up to 1,000 idle ones kept, so a request never
# waits on a new one (HAProxy's pool is unbounded by default).
cat > "$dir/lbd.conf" <<CONF
user root
control "$dir/lbd.sock"
frontend "tls" {
	listen "127.0.0.1:$LT" tls
	certificate "$dir/ec.crt" "$dir/ec.key"
	pool "web"
	max-connections 60000
	idle-timeout 120s
	header-timeout 120s
}
frontend "plain" {
	listen "127.0.0.1:$LP"
	pool "web"
	max-connections 60000
	idle-timeout 120s
	header-timeout 120s
}
pool "web" {
	server "web-01" "127.0.0.1:$WEB"
	check none
	max-idle 1000
	keepalive 120s
}
CONF
# X-Forwarded-For and -Proto, as lbd adds them; tickets and the session
# cache are on by default, as in lbd.
cat > "$dir/haproxy.cfg" <<CONF
global
	nbthread 1
	maxconn 4000
	stats socket $dir/haproxy.sock level admin
	ssl-default-bind-ciphers $CIPHER
	ssl-default-bind-options ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2
defaults
	mode http
	option forwardfor
	timeout connect 5s
	timeout client 120s
	timeout server 120s
	timeout http-keep-alive 120s
frontend tls
	bind 127.0.0.1:$HT ssl crt $dir/ec.pem
	http-request set-header X-Forwarded-Proto https
	default_backend web
frontend plain
	bind 127.0.0.1:$HP
	http-request set-header X-Forwarded-Proto http
	default_backend web
backend web
	http-reuse always
	server web-01 127.0.0.1:$WEB
CONF

"$WEBD" -d -f "$dir/webd.conf" 2>"$dir/webd.log" &
pids="$pids $!"
# Without -W, HAProxy is one process: the one whose CPU time we read.
haproxy -db -f "$dir/haproxy.cfg" 2>"$dir/haproxy.log" &
hap_pid=$!
"$LBD" -d -f "$dir/lbd.conf" 2>"$dir/lbd.log" &
lbd_pid=$!
pids="$pids $hap_pid $lbd_pid"
# Ready when every listener answers; a server that failed exits.
n=0
until curl -sf -o /dev/null http://127.0.0.1:$LP/1k.bin &&
    curl -sf -o /dev/null http://127.0.0.1:$HP/1k.bin &&
    curl -sfk -o /dev/null https://127.0.0.1:$LT/1k.bin &&
    curl -sfk -o /dev/null https://127.0.0.1:$HT/1k.bin; do
	for p in $pids; do
		kill -0 "$p" 2>/dev/null || { echo "bench: a server failed to start"; cat "$dir"/*.log; exit 1; }
	done
	n=$((n + 1)); [ $n -lt 500 ] || { echo "bench: servers did not start"; cat "$dir"/*.log; exit 1; }
	sleep 0.01
done

# Both must negotiate the same thing: TLS 1.2, the cipher, the same group.
tls_params() {
	openssl s_client -connect 127.0.0.1:$1 -tls1_2 </dev/null 2>/dev/null |
	    awk '/^Server Temp Key:/ { sub(/^Server Temp Key: /, ""); k = $0 }
		/Cipher is/ { c = $NF } END { print c ", " k }'
}
pl=$(tls_params $LT); ph=$(tls_params $HT)
echo "negotiated: lbd $pl; haproxy $ph"
case "$pl" in "$CIPHER, "*) ;; *) echo "bench: lbd did not negotiate $CIPHER"; exit 1 ;; esac
[ "$pl" = "$ph" ] || { echo "bench: lbd and haproxy negotiate differently"; exit 1; }

# wrk's Requests/sec for: URL CONNECTIONS [extra wrk args]. One wrk
# thread: the proxies and webd need the other core more.
rps() {
	url=$1 conns=$2; shift 2
	wrk -t1 -c"$conns" -d"${T}s" "$@" "$url" | awk '
		/Non-2xx|Socket errors/ { bad = 1 }
		/^Requests\/sec:/ { r = $2 }
		END { if (bad) r = r "!"; print r }'
}
# openssl s_time, SCLIENTS of them at once, for PORT -new|-reuse: prints
# connections (each a request for the 1 KiB file) per second of wall time.
# s_time sends "GET page HTTP/1.0" without Host, which lbd forwards as
# HTTP/1.1 without Host and webd refuses (400); HAProxy would talk
# HTTP/1.0 to webd, a new server connection each time. So the page makes
# it an HTTP/1.1 request with Host and Connection: close (the "HTTP/1.0"
# s_time appends lands in a dummy field), and the bytes read per
# connection are checked.
PAGE=$(printf '/1k.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Pad:')
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
stime() {
	s0=$(now_ms) i=0 spids=""
	while [ $i -lt "$SCLIENTS" ]; do
		openssl s_time -connect 127.0.0.1:$1 $2 -time "$T" -www "$PAGE" \
		    -cipher $CIPHER > "$dir/stime.$i" 2>&1 &
		spids="$spids $!"; i=$((i + 1))
	done
	for p in $spids; do wait "$p" || true; done
	s1=$(now_ms)
	cat "$dir"/stime.[0-9]* | awk -v ms=$((s1 - s0)) '
		/connections in [0-9]+ real seconds/ {
			n += $1; if ($7 < 1024) short = 1 }
		END { r = sprintf("%.0f", n * 1000 / ms); if (short || n == 0) r = r "!"; print r }'
	rm -f "$dir"/stime.[0-9]*
}
# TLS handshakes each side counted: "new resumed" totals so far.
lbd_hs() {
	"$LBCTL" -s "$dir/lbd.sock" metrics | awk '
		/^stackd_lbd_tls_handshakes_total\{frontend="tls",session="new"\}/ { n = $2 }
		/^stackd_lbd_tls_handshakes_total\{frontend="tls",session="resumed"\}/ { r = $2 }
		END { print n + 0, r + 0 }'
}
hap_hs() {
	echo "show stat" | socat -t 5 - "UNIX-CONNECT:$dir/haproxy.sock" | awk -F, '
		NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "ssl_sess") a = i
			if ($i == "ssl_reused_sess") b = i } }
		$1 == "tls" && $2 == "FRONTEND" { print $a, $b }'
}
# "new/resumed" handshakes between two "new resumed" readings.
hs_delta() { echo "$1 $2" | awk '{ printf "%d/%d", $3 - $1, $4 - $2 }'; }
# CPU time (user + system) of a process so far, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# Microseconds of CPU per request: ticks before, after, requests/s, and
# the wall milliseconds the measuring command took.
cpu_us() {
	awk -v a="$1" -v b="$2" -v r="$3" -v ms="$4" -v hz="$HZ" 'BEGIN {
		r += 0; if (r <= 0 || ms <= 0) { print "-"; exit }
		printf "%.0f", (b - a) * 1e6 / hz / (r * ms / 1000) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { a += 0; b += 0; printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { printf '%-38s %9s %9s %5s %7s %7s  %s\n' "$@"; }
# One figure for both: LABEL then the command that prints requests/s for
# a port. Also shows each server's CPU per request, and the handshakes
# (new/resumed) each counted meanwhile, so what was measured is visible.
figure() {
	label=$1 tls=$2; shift 2
	if [ "$tls" = tls ]; then lp=$LT hp=$HT; else lp=$LP hp=$HP; fi
	[ "$tls" = tls ] && a=$(lbd_hs)
	c=$(cpu_ticks "$lbd_pid") t0=$(now_ms); l=$("$@" $lp)
	lc=$(cpu_us "$c" "$(cpu_ticks "$lbd_pid")" "$l" $(($(now_ms) - t0)))
	[ "$tls" = tls ] && la=$(hs_delta "$a" "$(lbd_hs)") && a=$(hap_hs)
	c=$(cpu_ticks "$hap_pid") t0=$(now_ms); h=$("$@" $hp)
	hc=$(cpu_us "$c" "$(cpu_ticks "$hap_pid")" "$h" $(($(now_ms) - t0)))
	[ "$tls" = tls ] && ha=$(hs_delta "$a" "$(hap_hs)")
	[ "$tls" = tls ] || { la="" ha=""; }
	row "$label" "$l" "$h" "$(ratio "$l" "$h")" "$lc" "$hc" "$la $ha"
	last_lbd=$l last_lbd_cpu=$lc
}
wrk_ka() { rps https://127.0.0.1:$1/1k.bin "$CONNS"; }
wrk_close() { rps https://127.0.0.1:$1/1k.bin 16 -H "Connection: close"; }
wrk_plain() { rps http://127.0.0.1:$1/1k.bin "$CONNS"; }
stime_new() { stime $1 -new; }
stime_reuse() { stime $1 -reuse; }

row "figure (requests/s)" lbd haproxy ratio "CPU us/request" "" \
    "handshakes new/resumed"
row "" "" "" "" lbd haproxy "lbd haproxy"
figure "HTTPS keep-alive (wrk -c$CONNS)" tls wrk_ka
figure "HTTPS full handshake each (s_time -new)" tls stime_new
lbd_full=$last_lbd lbd_full_cpu=$last_lbd_cpu
figure "HTTPS resumed each (s_time -reuse)" tls stime_reuse
figure "HTTPS conn. per request (wrk close)" tls wrk_close
figure "plain HTTP keep-alive (wrk -c$CONNS)" plain wrk_plain
echo "(ratio: lbd/haproxy, higher is better; a trailing ! marks a run with"
echo " socket errors, non-2xx answers or short reads; s_time: $SCLIENTS clients at once)"
echo "(wrk -H 'Connection: close' resumes: it reuses its SSL objects with"
echo " SSL_clear, which keeps the session, so that row is mostly resumptions)"

echo
echo "mbedTLS's own per-handshake crypto cost (the limit; common/tls in memory, no proxy):"
"$HSBENCH" -n "$HS" "$dir/ec.crt" "$dir/ec.key" | tee "$dir/hs.out"
awk -v got="$lbd_full" -v cpu="$lbd_full_cpu" '/^full handshakes:/ {
	for (i = 1; i < NF; i++) if ($i == "side:" && $(i - 1) == "server") {
		c = $(i + 1); sub(/\/s/, "", c); ms = $(i + 2); sub(/^\(/, "", ms) } }
	END { if (c <= 0) exit
		printf "lbd served %s full-handshake requests/s, %.0f%% of that server-side ceiling of %s/s;\n", got, got * 100 / c, c
		if (cpu > 0) printf "it spent %s us of CPU on each, %.0f%% of them the handshake'"'"'s %s ms (%.0f/s on a whole core)\n", cpu, ms * 1000 * 100 / cpu, ms, 1e6 / cpu }' "$dir/hs.out"
