#!/usr/bin/env bash
# bench/ag_host.sh — the CPU and memory agentd's host collectors cost per
# scrape, next to prometheus-node-exporter's on the same machine.
#
# node_exporter runs twice on a loopback port: with its default collectors
# (what NOTES measured) and with only the collectors ag_host has
# (cpu stat loadavg meminfo filesystem diskstats netdev tcpstat filefd
# processes). Each is scraped BENCH_SCRAPES times with curl after a warm-up
# scrape; its CPU per scrape is the growth of utime+stime in /proc/PID/stat
# over those scrapes, its RSS is VmRSS after them. ag_host's figures come
# from build/bench/ag_host_collect: CPU per collect, per collect + render
# (a scrape without the HTTP), and its peak RSS (the whole bench program).
#
#   BENCH_SCRAPES=100    scrapes of node_exporter
#   BENCH_ROUNDS=1000    collects by ag_host_collect
set -eu

BUILD=${STACKD_BUILD:-build}
SCRAPES=${BENCH_SCRAPES:-100}
ROUNDS=${BENCH_ROUNDS:-1000}
HZ=$(getconf CLK_TCK)
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)

# CPU ms per scrape and RSS kB of a node_exporter started with "$@".
node_exporter_cost() {
	local port pid t0 t1 i rss
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$NE" --web.listen-address=127.0.0.1:$port "$@" >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 50); do
		curl -sf -o /dev/null http://127.0.0.1:$port/metrics && break
		sleep 0.1
	done
	ticks() { awk '{ print $14 + $15 }' /proc/$pid/stat; }
	t0=$(ticks)
	for i in $(seq "$SCRAPES"); do
		curl -sf -o /dev/null http://127.0.0.1:$port/metrics
	done
	t1=$(ticks)
	rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$SCRAPES" -v rss="$rss" \
	    'BEGIN { printf "%.2f ms CPU per scrape, %d kB RSS\n", t * 1000 / hz / n, rss }'
}

echo "== ag_host_collect ($ROUNDS rounds)"
"$BUILD/bench/ag_host_collect" "$ROUNDS"
if [ -z "$NE" ]; then
	echo "prometheus-node-exporter not installed: no comparison"
	exit 0
fi
echo "== node_exporter, default collectors ($SCRAPES scrapes)"
node_exporter_cost
echo "== node_exporter, ag_host's collectors only ($SCRAPES scrapes)"
node_exporter_cost --collector.disable-defaults --collector.cpu \
    --collector.stat --collector.loadavg --collector.meminfo \
    --collector.filesystem --collector.diskstats --collector.netdev \
    --collector.tcpstat --collector.filefd --collector.processes
