#!/usr/bin/env bash
# webd with worker processes: process model, respawn, summed metrics,
# reload under wrk load with no failed request (workers 1 and 4), log
# reopening, stop, and no process left behind. curl, wrk, openssl,
# promtool.
. "$(dirname "$0")/lib.sh"

WEBD=$BIN/webd
WEBCTL=$BIN/webctl
SOCK=$T_DIR/webd.sock
ROOT=$T_DIR/www
H=http://127.0.0.1:8080
CURL=(curl -sS --max-time 5)

mkdir -p "$ROOT" "$T_DIR/www2"
echo "first root" > "$ROOT/index.html"
echo "second root" > "$T_DIR/www2/index.html"
head -c 4096 /dev/urandom > "$ROOT/4k.bin"
cp "$ROOT/4k.bin" "$T_DIR/www2/4k.bin"

# conf WORKERS [ROOT [SHUTDOWN-TIMEOUT]]
conf() {
	cat > "$T_DIR/webd.conf" <<CONF
control "$SOCK"
listen "127.0.0.1:8080"
listen "127.0.0.1:8443" tls {
	certificate "$CERTS/server.crt" "$CERTS/server.key"
}
root "${2:-$ROOT}"
access-log "$T_DIR/access.log"
workers $1
shutdown-timeout ${3:-5s}
CONF
}

ctl() { "$WEBCTL" -s "$SOCK" "$@"; }
master() { daemon_pid webd; }
children() { pgrep -P "$(master)" | sort; }
# Pids of the running generation, from status, sorted.
worker_pids() { ctl status | sed -n 's/^worker: [0-9]* pid \([0-9]*\) requests [0-9]*$/\1/p' | sort; }
workers_are() {
	[ "$(worker_pids | wc -l)" -eq "$1" ] && [ "$(worker_pids)" = "$(children)" ]
}
none_draining() { ! ctl status | grep -q ' draining$'; }
metric() { ctl metrics | sed -n "s/^$1 //p"; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
requests() { ctl status | sed -n 's/^requests: //p'; }
requests_above() { [ "$(requests)" -gt "$1" ]; }
reloads_ok() { ctl status | sed -n 's/^reloads: \([0-9]*\) ok.*/\1/p'; }
# N fresh connections to PATH, one request each: their status codes.
codes() {
	local n=$1 path=$2 urls=() i
	for ((i = 0; i < n; i++)); do urls+=("$H$path"); done
	"${CURL[@]}" -H 'Connection: close' -o /dev/null -w '%{http_code}\n' "${urls[@]}"
}
count_200() { codes "$@" | grep -c '^200$'; }
log_count() { grep -cE "$1" "$(daemon_log webd)"; }
log_count_is() { [ "$(log_count "$1")" -ge "$2" ]; }
gone() { [ -z "$(ps -o pid= -p "$(echo $* | tr ' ' ,)")" ]; }

# ---- configuration ----

for v in 0 65 x -1; do
	printf 'listen "127.0.0.1:8080"\nroot "%s"\nworkers %s\n' "$ROOT" "$v" > "$T_DIR/bad.conf"
	out=$("$WEBD" -n -f "$T_DIR/bad.conf" 2>&1); rc=$?
	expect_eq "workers $v: webd -n exits 1" "$rc" 1
	case $v in
	0|65) want="$T_DIR/bad.conf:3: workers: $v is out of range, expected 1 to 64" ;;
	*) want="$T_DIR/bad.conf:3: workers: expected a number from 1 to 64 or auto, got \"$v\"" ;;
	esac
	expect_eq "workers $v: says where and why" "$out" "$want"
done
sed 's/^workers .*/workers auto/' "$T_DIR/bad.conf" > "$T_DIR/auto.conf"
expect_eq "workers auto is accepted" "$("$WEBD" -n -f "$T_DIR/auto.conf" 2>&1)" "configuration OK"

# ---- workers 4: processes, requests, metrics ----

conf 4
start_daemon webd "$WEBD" -f "$T_DIR/webd.conf" || exit 1
ok_wait "workers 4: four workers, children of the master, listed by status" 10 workers_are 4
expect_match "status says workers: 4" "$(ctl status)" '^workers: 4$'

expect_eq "400 requests on fresh connections all answered 200" "$(count_200 400 /index.html)" 400
ok_wait "the master's metrics count exactly 400 2xx" 5 \
	metric_is 'stackd_webd_http_requests_total{class="2xx"}' 400
served_by=$(ctl status | grep -cE '^worker: [0-9]+ pid [0-9]+ requests [1-9]')
ok "the requests were spread over several workers ($served_by served)" test "$served_by" -ge 2
ctl metrics > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
m=$(cat "$T_DIR/metrics.txt")
expect_match "the duration histogram sums the workers" "$m" \
	'^stackd_webd_http_request_duration_seconds_count 400$'
expect_match "so do the body bytes (400 x 11)" "$m" \
	'^stackd_webd_http_response_body_bytes_total 4400$'
expect_match "stackd_webd_workers is 4" "$m" '^stackd_webd_workers 4$'
expect_match "no worker restarted yet" "$m" '^stackd_webd_worker_restarts_total 0$'
expect_eq "status sums the requests" "$(requests)" 400

# Each worker reseeded its TLS RNG: forked copies of one generator would
# give the same ServerHello random (after its 4 time bytes) in several.
server_random() {
	openssl s_client -connect 127.0.0.1:8443 -msg </dev/null 2>/dev/null |
	awk '/ServerHello$/ { getline; n = 0; s = "";
		do { for (i = 1; i <= NF; i++) { n++; if (n > 10 && n <= 38) s = s $i } }
		while (n < 38 && getline > 0); print s; exit }'
}
for i in $(seq 12); do server_random; done > "$T_DIR/randoms"
expect_eq "12 TLS handshakes, 12 different server randoms" \
	"$(grep -c . "$T_DIR/randoms") $(sort -u "$T_DIR/randoms" | grep -c .)" "12 12"

# ---- SIGUSR1: the master tells the workers to reopen the access log ----

ok_wait "the access log is written" 5 grep -q 'GET /index.html' "$T_DIR/access.log"
mv "$T_DIR/access.log" "$T_DIR/access.log.1"
n=$(log_count 'access log .* reopened')
kill -USR1 "$(master)"
ok_wait "SIGUSR1: the master and its 4 workers reopen the log" 5 \
	log_count_is 'access log .* reopened' $((n + 5))
expect_eq "20 more requests" "$(count_200 20 /index.html?after-usr1)" 20
ok_wait "all of them land in the new file" 5 \
	test "$(grep -c after-usr1 "$T_DIR/access.log")" -eq 20
expect_eq "none in the renamed one" "$(grep -c after-usr1 "$T_DIR/access.log.1")" 0

# ---- a killed worker is respawned; counters stay ----

before=$(worker_pids)
victim=$(echo "$before" | head -n 1)
kill -KILL "$victim"
respawned() { workers_are 4 && ! worker_pids | grep -qx "$victim"; }
ok_wait "a SIGKILLed worker is respawned with a new pid" 5 respawned
expect_eq "the others are untouched" \
	"$(comm -12 <(echo "$before") <(worker_pids) | wc -l)" 3
expect_match "the master logs the death" "$(cat "$(daemon_log webd)")" \
	"worker [0-9] \\(pid $victim\\) killed by signal 9 \\([^)]*\\): respawning"
expect_eq "stackd_webd_worker_restarts_total counts it" \
	"$(metric stackd_webd_worker_restarts_total)" 1
expect_eq "serving goes on" "$(count_200 20 /index.html)" 20
ok_wait "the dead worker's requests stay counted (400 + 20 + 20)" 5 \
	metric_is 'stackd_webd_http_requests_total{class="2xx"}' 440

# ---- reloads that are refused change nothing ----

cp "$T_DIR/webd.conf" "$T_DIR/webd.conf.good"
before=$(worker_pids)
for v in 0 65 x; do
	sed -i "s/^workers .*/workers $v/" "$T_DIR/webd.conf"
	out=$(ctl reload 2>&1); rc=$?
	expect_eq "reload with workers $v fails" "$rc" 1
	expect_match "and names the line" "$out" "webd.conf:8: workers: "
done
sed -i "s/^workers .*/workers 2/" "$T_DIR/webd.conf"
expect_match "changing the number of workers needs a restart" \
	"$(ctl reload 2>&1)" "workers: changing 4 to 2 needs a restart"
expect_eq "the same workers still run" "$(worker_pids)" "$before"
expect_eq "and serve" "$("${CURL[@]}" $H/)" "first root"

# ---- a good reload: a new generation with the new root ----

# Connections made before the reload but still queued are the new
# generation's, even when an old worker wakes up first: SIGSTOP holds the
# old ones back with 20 connections waiting, SIGCONT lets them race.
queued() { [ "$(ss -Hltn 'sport = :8080' | awk '{ n += $2 } END { print n + 0 }')" -eq "$1" ]; }
kill -STOP $before
curls=()
for i in $(seq 20); do
	"${CURL[@]}" -H 'Connection: close' $H/ > "$T_DIR/queued.$i" 2>&1 &
	curls+=($!)
done
ok_wait "20 connections wait in the sockets' queues" 5 queued 20
conf 4 "$T_DIR/www2"
ok "reload with a new root" ctl reload
kill -CONT $before
wait "${curls[@]}"
new=$(worker_pids)
expect_eq "four new workers" "$(comm -12 <(echo "$before") <(echo "$new") | wc -l) $(echo "$new" | wc -l)" "0 4"
expect_eq "the queued connections get the new root (20 of 20)" \
	"$(cat "$T_DIR"/queued.* | sort | uniq -c | sed 's/^ *//')" "20 second root"
expect_eq "so do new ones" "$("${CURL[@]}" $H/)" "second root"
ok_wait "the old generation drains and exits" 10 none_draining
ok_wait "so only the four new ones are left" 5 workers_are 4

# ---- reload under load ----

# reloads_under_load WORKERS: 10 SIGHUP reloads while wrk runs, each once
# the previous one took: logged, a new generation forked, at most the one
# it replaced still draining (workers exit slowly under ASan: its leak
# check), and requests answered since (the access log grew). The checks
# fork next to nothing: the test shell competes with wrk and webd for the
# CPUs, and all reloads must fit in wrk's 6 s.
log_size() { stat -c %s "$T_DIR/access.log"; }
log_grew() { [ "$(log_size)" -gt "$1" ]; }
kids_now() {
	KIDS=""
	read -r KIDS < "/proc/$MPID/task/$MPID/children" || true
}
reloaded() {	# COUNT N SIZE, with $OLD the children before the reload
	local count=$1 n=$2 size=$3 line done=0 new=0 p
	while IFS= read -r line; do
		[[ $line == *"configuration "*" reloaded" ]] && done=$((done + 1))
	done < "$(daemon_log webd)"
	[ "$done" -ge "$count" ] || return 1
	kids_now
	set -- $KIDS
	for p; do [[ " $OLD " == *" $p "* ]] || new=$((new + 1)); done
	[ "$new" -eq "$n" ] && [ $# -le $((2 * n)) ] && log_grew "$size"
}
reloads_under_load() {
	local n=$1 nkids=$1 wrk i rc=0 out total size ok0=$(reloads_ok)
	local done0=$(log_count 'configuration .* reloaded')
	[ "$n" -gt 1 ] || nkids=0
	MPID=$(master)
	# Long enough for 10 reloads on a loaded machine; stopped with
	# SIGINT (wrk then prints its summary) once they are done.
	wrk -t2 -c50 -d120s "$H/4k.bin" > "$T_DIR/wrk-$n.txt" 2>&1 &
	wrk=$!
	wait_for 5 log_grew $(( $(log_size) + 20000 )) || rc=1
	for i in $(seq 10); do
		size=$(log_size)
		kids_now
		OLD=$KIDS
		kill -HUP "$MPID"
		wait_for 5 reloaded $((done0 + i)) "$nkids" $((size + 20000)) || rc=1
	done
	ok "workers $n: wrk was still running after the last reload" kill -0 $wrk
	ok "workers $n: 10 reloads, each taking effect under load" test $rc -eq 0
	kill -INT $wrk
	ok_wait "workers $n: then every older generation exits" 10 none_draining
	wait $wrk
	out=$(cat "$T_DIR/wrk-$n.txt")
	total=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9]*\) requests in .*/\1/p')
	ok "workers $n: wrk answered requests (${total:-none})" test "${total:-0}" -gt 0
	expect_eq "workers $n: no socket errors" "$(grep 'Socket errors' "$T_DIR/wrk-$n.txt")" ""
	expect_eq "workers $n: no non-2xx answers" "$(grep 'Non-2xx or 3xx' "$T_DIR/wrk-$n.txt")" ""
	expect_eq "workers $n: all 10 reloads succeeded" "$(reloads_ok)" $((ok0 + 10))
}
reloads_under_load 4
expect_eq "no worker died but the one killed" \
	"$(grep -E 'killed by signal|while draining|Sanitizer' "$(daemon_log webd)" | grep -v "pid $victim")" ""

# ---- SIGTERM: everything stops, nothing is left ----

procs="$(master) $(children | tr '\n' ' ')"
expect_eq "five processes before the stop" "$(echo $procs | wc -w)" 5
stop_daemon webd
ok "no webd process is left" gone $procs
fails "and nothing had to be killed" grep -q 'killing' "$(daemon_log webd)"

# ---- workers 1: the service process serves itself ----

conf 1
start_daemon webd "$WEBD" -f "$T_DIR/webd.conf" || exit 1
expect_eq "workers 1: no child process" "$(children | wc -l)" 0
expect_match "status says workers: 1" "$(ctl status)" '^workers: 1$'
expect_eq "and serves" "$("${CURL[@]}" $H/)" "first root"
reloads_under_load 1
stop_daemon webd

# ---- a worker stuck past shutdown-timeout is killed, then reaped ----

conf 2 "$ROOT" 1s
start_daemon webd "$WEBD" -f "$T_DIR/webd.conf" || exit 1
ok_wait "workers 2: two workers" 10 workers_are 2
procs="$(master) $(children | tr '\n' ' ')"
kill -STOP $(children | head -n 1)
stop_daemon webd
ok "the master killed the stopped worker at the deadline" \
	grep -q 'killing 1 workers still running' "$(daemon_log webd)"
ok "no webd process is left" gone $procs

# ---- workers reach upstreams from their own loops ----

start_peer app "${CURL[*]} -o /dev/null http://127.0.0.1:3000/api/echo" \
	python3 "$STACKD_SRC/tests/integration/app_server.py" 127.0.0.1:3000 || exit 1
conf 2
cat >> "$T_DIR/webd.conf" <<CONF
location "/api/" {
	proxy "127.0.0.1:3000"
}
CONF
start_daemon webd "$WEBD" -f "$T_DIR/webd.conf" || exit 1
ok_wait "workers 2: two workers" 10 workers_are 2
expect_eq "60 proxied requests on fresh connections all answered 200" \
	"$(count_200 60 /api/echo)" 60
served_by=$(ctl status | grep -c '^worker: [0-9]* pid [0-9]* requests [1-9]')
ok "by both workers ($served_by served)" test "$served_by" -eq 2
expect_match "the app saw webd's X-Forwarded-For" \
	"$("${CURL[@]}" $H/api/echo)" '"X-Forwarded-For": "127.0.0.1"'
stop_daemon webd
stop_peer app

# ---- a master killed outright takes its workers with it ----

conf 2
start_daemon webd "$WEBD" -f "$T_DIR/webd.conf" || exit 1
ok_wait "workers 2: two workers" 10 workers_are 2
procs=$(children | tr '\n' ' ')
kill -KILL "$(master)"
wait "$(master)" 2>/dev/null
rm -f "$T_DIR/webd.pid"
ok_wait "after SIGKILL of the master its workers exit too" 10 gone $procs
