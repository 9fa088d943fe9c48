#!/bin/sh
# bench/fwd.sh — fwd against `nft -f`, side by side in one run inside a
# private network namespace (unshare -rn: no root, the host untouched).
#
# The ruleset: 5,000 allow rules (1,000 services of one port each, from
# 5 groups of one network each: one kernel rule per allow line) plus a
# 100,000-element set (the IPv4 ban set, filled from fwd's state file, as
# after a restart with that many bans). fwd applies it as one netlink
# batch; nft -f gets the same table as text: `fwctl show --nft` plus an
# `add element` of the same addresses, after the same "replace the table"
# header fwd's batch has. Both are timed applying to a namespace that
# already holds the table (a reload) and fwd also from process start to
# ready (parse, compile, one batch). Then the time to ban one address:
# the fwctl round trip (a process start, the socket, the batch), and the
# kernel part alone (fwd's own clock around build + send + ack, from
# `fwctl status`).
#
# What limits a batch: the kernel takes one transaction per sendmsg (a
# batch cannot span several sends), and netlink refuses a message larger
# than the socket's send buffer (EMSGSIZE, "Message too long"). nft sizes
# the buffer to the batch with SO_SNDBUFFORCE, which needs CAP_NET_ADMIN in
# the initial user namespace: inside unshare -rn it fails, nft stays at
# net.core.wmem_default (208 KiB) and refuses anything larger (here from
# about 300 rules). fwd asks with SO_SNDBUF, which an ordinary user may
# raise up to net.core.wmem_max (the kernel doubles it): 4 MiB here, so
# batches up to about 8 MiB go through; beyond that fwd's error says to
# raise net.core.wmem_max. So at full size only fwd is timed, and the ratio
# is taken again at BENCH_SMALL_RULES + BENCH_SMALL_ELEMS, which nft takes.
#
#   BENCH_RULES=5000  BENCH_ELEMS=100000  BENCH_BANS=200  BENCH_RUNS=3
#   BENCH_SMALL_RULES=250  BENCH_SMALL_ELEMS=1000
set -eu
# As root, a plain new network namespace (unshare -n) keeps CAP_NET_ADMIN
# in the initial user namespace: nft's SO_SNDBUFFORCE works and both sides
# can be compared at full size. Otherwise a user namespace as well.
if [ -z "${STACKD_BENCH_NS:-}" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		STACKD_BENCH_NS=1 exec unshare -n sh "$0" "$@"
	fi
	STACKD_BENCH_NS=1 exec unshare -rn sh "$0" "$@"
fi
: "${STACKD_BUILD:=build}"
STACKD_BUILD=$(cd "$STACKD_BUILD" && pwd)
RULES=${BENCH_RULES:-5000}
ELEMS=${BENCH_ELEMS:-100000}
BANS=${BENCH_BANS:-200}
RUNS=${BENCH_RUNS:-3}
FWD=$STACKD_BUILD/bin/fwd
FWCTL=$STACKD_BUILD/bin/fwctl
command -v nft >/dev/null || { echo "bench: nft missing (make deps)"; exit 1; }
D=$(mktemp -d "${TMPDIR:-/tmp}/stackd-bench-fwd.XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
ip link set lo up
now_us() { echo $(( $(date +%s%N) / 1000 )); }
fwctl() { "$FWCTL" -s "$D/fwd.sock" "$@"; }

# ---- the policy and the state file for RULES rules and ELEMS bans ----
make_policy() {
	# At most 1024 services: 1000 services from 5 groups (one network each).
	awk -v n="$RULES" -v d="$D" 'BEGIN {
		printf "user root\ncontrol \"%s/fwd.sock\"\nstate-file \"%s/fwd.bans\"\n", d, d
		for (g = 0; g < 5; g++)
			printf "group g%d { address 172.16.%d.0/24 }\n", g, g
		ns = n / 5
		for (i = 0; i < ns; i++)
			printf "service s%d { tcp %d }\n", i, 1024 + i
		for (i = 0; i < n; i++)
			printf "allow s%d from g%d\n", i % ns, int(i / ns)
	}' > "$D/fwd.conf"
	awk -v n="$ELEMS" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "ban 10.%d.%d.%d\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256
	}' > "$D/fwd.bans"
}

start_fwd() {	# sets start_us: microseconds from exec to READY=1
	rm -f "$D/ready"; mkfifo "$D/ready"
	t0=$(now_us)
	"$FWD" -d -N 3 -f "$D/fwd.conf" 3>"$D/ready" >>"$D/fwd.log" 2>&1 &
	PID=$!
	line=; read -r line < "$D/ready" || true
	[ "$line" = "READY=1" ] || { echo "bench: fwd did not start"; tail "$D/fwd.log"; exit 1; }
	start_us=$(( $(now_us) - t0 ))
}
stop_fwd() { kill "$PID"; while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done; PID=; }

ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
best=
keep_best() { [ -z "$best" ] || [ "$1" -lt "$best" ] && best=$1; return 0; }

measure() {
	# ---- fwd: start (first apply), then reloads ----
	nft delete table inet stackd 2>/dev/null || true
	start_fwd
	n=$(nft list set inet stackd ban_v4 | grep -o '10\.[0-9.]*' | wc -l)
	rules=$(nft -a list chain inet stackd input | grep -c 'handle')
	applied="$rules rules in chain input, $n elements in ban_v4, $(sed -n \
	    's/.*one batch of \([0-9]*\) bytes.*/\1/p' "$D/fwd.log" | tail -n 1) bytes in fwd's batch"
	best=
	for i in $(seq "$RUNS"); do
		t0=$(now_us); fwctl reload >/dev/null; keep_best $(( $(now_us) - t0 ))
	done
	fwd_us=$best

	# ---- the same as nft text ----
	{ echo "table inet stackd"; echo "delete table inet stackd"
	  fwctl show --nft
	  awk '/^ban / { printf "%s%s", sep ? sep : \
			"add element inet stackd ban_v4 { ", $2; sep = ", " }
		END { if (sep) print " }" }' "$D/fwd.bans"; } > "$D/ruleset.nft"

	# ---- ban one address ----
	# Each call timed alone; an untimed status between lets fwd finish
	# writing the state file (after the reply) before the next one.
	sum=0 base=0 i=0
	while [ $i -lt "$BANS" ]; do
		a="192.0.2.$(( i % 250 + 1 ))"
		t0=$(now_us); fwctl ban "$a" for 1h >/dev/null; t1=$(now_us)
		fwctl status >/dev/null
		t2=$(now_us); fwctl unban "$a" >/dev/null; t3=$(now_us)
		fwctl status >/dev/null
		t4=$(now_us); fwctl version >/dev/null; t5=$(now_us)
		sum=$((sum + t1 - t0 + t3 - t2)) base=$((base + t5 - t4))
		i=$((i + 1))
	done
	ban_us=$((sum / (2 * BANS))) base_us=$((base / BANS))
	# The same over the control socket from one long-lived client: what a
	# caller that keeps running (lbd, agentd) waits, without a process start.
	sock_us=$(python3 - "$D/fwd.sock" "$BANS" <<'PY'
import socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
def ask(line):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(line.encode() + b"\n")
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    s.close()
    if not out.startswith(b"ok"):
        sys.exit("fwd: " + out.decode(errors="replace"))
total = 0.0
for i in range(n):
    a = "192.0.2.%d" % (i % 250 + 1)
    for req in ("ban %s for 1h" % a, "unban %s" % a):
        t = time.perf_counter(); ask(req); total += time.perf_counter() - t
        ask("status")   # untimed: lets fwd write its state file
print(int(total / (2 * n) * 1e6))
PY
)
	fwctl ban 198.51.100.7 >/dev/null
	kern_us=$(fwctl status | sed -n 's/^last ban\/unban kernel time \([0-9]*\) us/\1/p')
	stop_fwd

	best= nft_fail=
	for i in $(seq "$RUNS"); do
		t0=$(now_us)
		if ! nft -f "$D/ruleset.nft" 2>"$D/nft.err"; then
			nft_fail=$(grep -m1 Error "$D/nft.err"); break
		fi
		keep_best $(( $(now_us) - t0 ))
	done
	nft_us=${best:-0}
}

report() {
	echo "== $RULES allow rules + a $ELEMS-element set (best of $RUNS) =="
	echo "applied: $applied"
	echo "fwd start to ready (first apply):  $(ms "$start_us") ms"
	echo "fwd reload (fwctl round trip):     $(ms "$fwd_us") ms"
	if [ -z "$nft_fail" ]; then
		echo "nft -f of the same ruleset:        $(ms "$nft_us") ms"
		echo "ratio fwd/nft (lower is better):   $(awk -v a="$fwd_us" -v b="$nft_us" 'BEGIN { printf "%.2f", a / b }')"
	else
		echo "nft -f of the same ruleset:        fails: $nft_fail"
	fi
	echo "ban one address, fwctl round trip: $(ms "$ban_us") ms (mean of $((2 * BANS)) ban/unban;"
	echo "                                   fwctl version alone: $(ms "$base_us") ms)"
	echo "ban one address, control socket:   ${sock_us} us (mean, one long-lived client)"
	echo "ban one address, kernel part:      ${kern_us} us (batch build + send + ack)"
}

make_policy; measure; report
# nft cannot raise its socket buffer here (see the header): compare again
# at the largest size both take.
if [ -n "$nft_fail" ]; then
	RULES=${BENCH_SMALL_RULES:-250} ELEMS=${BENCH_SMALL_ELEMS:-1000}
	make_policy; measure; report
fi
