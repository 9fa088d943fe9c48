#!/usr/bin/env bash
# bench/agentd.sh — agentd vs prometheus-node-exporter, side by side in one
# run, each serving Prometheus /metrics on loopback:
#
#   RSS		VmRSS after the scrapes (agentd: the whole daemon, with its
#		collection timer, log tailer and a shipper spooling to disk)
#   CPU/scrape	utime+stime growth over BENCH_SCRAPES back-to-back curl
#		scrapes, divided by them (both read the host at each scrape)
#   latency	mean and 95th percentile of those scrapes (curl time_total)
#   CPU/minute	a 10 s interval for BENCH_MINUTE seconds: node_exporter
#		scraped every 10 s (as Prometheus would), agentd collecting
#		every 10 s on its own (and shipping) with nobody scraping it
#   tailing	lines/s agentd reads from a log of BENCH_LINES lines
#		(combined access-log lines, counted as web requests and
#		spooled for a collector that is down) until its
#		log_lines_total says all are in
#
# Ratios are agentd / node_exporter: lower is better. Targets (issue 7):
# RSS <= 0.25, CPU per scrape <= 0.5.
#
#   BENCH_SCRAPES=200  BENCH_MINUTE=60  BENCH_LINES=1000000
#   BENCH_SMOKE=1      a quick run: 20 scrapes, 10 s, 100000 lines
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
: "${STACKD_BUILD:=build}"
STACKD_BUILD=$(cd "$STACKD_BUILD" && pwd)
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
	SCRAPES=${BENCH_SCRAPES:-20} MINUTE=${BENCH_MINUTE:-10} LINES=${BENCH_LINES:-100000}
else
	SCRAPES=${BENCH_SCRAPES:-200} MINUTE=${BENCH_MINUTE:-60} LINES=${BENCH_LINES:-1000000}
fi
HZ=$(getconf CLK_TCK)
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
AGENTD=$STACKD_BUILD/bin/agentd
AGENTCTL=$STACKD_BUILD/bin/agentctl
[ -n "$NE" ] || { echo "bench: prometheus-node-exporter missing (make deps)"; exit 1; }
[ -x "$AGENTD" ] || { echo "bench: $AGENTD missing (make all)"; exit 1; }
dir=$(mktemp -d /tmp/bench-agentd.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
up() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }

# "cpu_ms_per_scrape mean_ms p95_ms" for SCRAPES scrapes of URL served by PID
scrape_cost() {
	local pid=$1 url=$2 t0 t1
	curl -sf -o /dev/null "$url"
	t0=$(ticks "$pid")
	for _ in $(seq "$SCRAPES"); do
		curl -sf -o /dev/null -w '%{time_total}\n' "$url"
	done > "$dir/lat"
	t1=$(ticks "$pid")
	sort -n "$dir/lat" | awk -v n="$SCRAPES" -v d=$((t1 - t0)) -v hz="$HZ" '
		{ s += $1; v[NR] = $1 }
		END { i = int(NR * 0.95); if (i < 1) i = 1
		    printf "%.2f %.2f %.2f\n", d * 1000 / hz / n, s * 1000 / NR,
		    v[i] * 1000 }'
}

# ---- node_exporter ----
np=$(free_port)
"$NE" --web.listen-address=127.0.0.1:$np >/dev/null 2>&1 &
ne=$!; pids="$pids $ne"
up "http://127.0.0.1:$np/metrics" || { echo "bench: node_exporter did not start"; exit 1; }
read -r ne_cpu ne_lat ne_p95 <<< "$(scrape_cost $ne "http://127.0.0.1:$np/metrics")"
ne_rss=$(rss_kb $ne)
ne_series=$(curl -s "http://127.0.0.1:$np/metrics" | grep -vc '^#')

# ---- agentd: a log, an alert and an output, as on a web host ----
ap=$(free_port)
: > "$dir/access.log"
cat > "$dir/agentd.conf" <<CONF
control "$dir/agentd.sock"
state-dir "$dir/state"
user "$(id -un)"
interval 10s
metrics-listen "127.0.0.1:$ap"
log "web" {
	path "$dir/access.log"
	format combined
	start-at beginning
}
alert "web-qps-drop" {
	metric "stackd_agentd_web_requests_per_second"
	labels "log=web"
	drop 70%
}
output "sumo" {
	url "http://127.0.0.1:1/receiver/v1/http/TOKEN"
	spool-max 2g
	backoff-min 10s
	backoff-max 10s
}
CONF
"$AGENTD" -d -f "$dir/agentd.conf" > "$dir/agentd.log" 2>&1 &
ag=$!; pids="$pids $ag"
up "http://127.0.0.1:$ap/metrics" || { echo "bench: agentd did not start"; cat "$dir/agentd.log"; exit 1; }
read -r ag_cpu ag_lat ag_p95 <<< "$(scrape_cost $ag "http://127.0.0.1:$ap/metrics")"
ag_rss=$(rss_kb $ag)
ag_series=$(curl -s "http://127.0.0.1:$ap/metrics" | grep -vc '^#')

# ---- a 10 s interval for a minute ----
n0=$(ticks $ne); a0=$(ticks $ag)
end=$(( $(date +%s) + MINUTE ))
while [ "$(date +%s)" -lt "$end" ]; do
	curl -sf -o /dev/null "http://127.0.0.1:$np/metrics"
	sleep 10 & s=$!; pids="$pids $s"; wait $s
done
n1=$(ticks $ne); a1=$(ticks $ag)
ne_min=$(awk -v d=$((n1 - n0)) -v hz="$HZ" -v t="$MINUTE" 'BEGIN { printf "%.1f", d * 1000 / hz * 60 / t }')
ag_min=$(awk -v d=$((a1 - a0)) -v hz="$HZ" -v t="$MINUTE" 'BEGIN { printf "%.1f", d * 1000 / hz * 60 / t }')

# ---- tailing ----
python3 - "$dir/lines.tmp" "$LINES" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
line = '10.0.0.%d - - [23/Nov/2026:16:00:00 +0000] "GET /index.html HTTP/1.1" "-" "curl/7.88" 200 612 0.000123\n'
with open(path, "w") as f:
    for i in range(n):
        f.write(line % (i % 250))
PY
lines_in() { "$AGENTCTL" -s "$dir/agentd.sock" metrics | awk '/^stackd_agentd_log_lines_total\{log="web"\}/ { print $2 }'; }
base=$(lines_in); base=${base:-0}
t0=$(date +%s%N)
cat "$dir/lines.tmp" >> "$dir/access.log"
while [ "$(lines_in)" -lt $((base + LINES)) ]; do sleep 0.05; done
t1=$(date +%s%N)
tail_rate=$(awk -v n="$LINES" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '%-28s %14s %14s %8s\n' figure agentd node_exporter ratio
printf '%-28s %14s %14s %8s\n' "RSS (MiB)" "$(awk -v k=$ag_rss 'BEGIN { printf "%.1f", k / 1024 }')" \
    "$(awk -v k=$ne_rss 'BEGIN { printf "%.1f", k / 1024 }')" "$(ratio $ag_rss $ne_rss)"
printf '%-28s %14s %14s %8s\n' "CPU per scrape (ms)" "$ag_cpu" "$ne_cpu" "$(ratio $ag_cpu $ne_cpu)"
printf '%-28s %14s %14s %8s\n' "scrape latency mean (ms)" "$ag_lat" "$ne_lat" "$(ratio $ag_lat $ne_lat)"
printf '%-28s %14s %14s %8s\n' "scrape latency p95 (ms)" "$ag_p95" "$ne_p95" "$(ratio $ag_p95 $ne_p95)"
printf '%-28s %14s %14s %8s\n' "CPU per minute at 10 s (ms)" "$ag_min" "$ne_min" "$(ratio $ag_min $ne_min)"
printf '%-28s %14s %14s\n' "series served" "$ag_series" "$ne_series"
printf '%-28s %14s\n' "log tailing (lines/s)" "$tail_rate"
echo "($SCRAPES scrapes each; agentd's minute includes its own collection, alert"
echo " evaluation and spooling every 10 s; tailing: $LINES combined lines, parsed and spooled)"
