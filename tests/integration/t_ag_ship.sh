#!/usr/bin/env bash
# agentd's shipper (ag_ship) against a real HTTP(S) collector: receiver.py
# stores every request; ag_ship_drive runs ag_ship on its own event loop
# (queue N log lines and M metric batches, run until the spool is empty).
# Every line exactly once, logs and metrics apart, Sumo headers, gzip,
# <= 1 MB per request; the collector down then up; 429 with Retry-After,
# 503 and 401; a small spool-max; a restart with records in the spool;
# TLS; carbon2; webhook.
. "$(dirname "$0")/lib.sh"

RX_PY=$STACKD_SRC/tests/integration/receiver.py
DRIVE=$TESTBIN/ag_ship_drive
rx() { python3 "$RX_PY" "$@"; }

# start_rx NAME PORT [serve options]: a receiver storing into $T_DIR/NAME.
start_rx() {
	local name=$1 port=$2; shift 2
	start_peer "$name" "[ -s $T_DIR/$name/port ]" \
	    python3 "$RX_PY" serve --dir "$T_DIR/$name" --port "$port" "$@"
}

# out_conf FILE URL [directives...]: one output block for the driver; the
# directives given replace the test defaults of the same name.
out_conf() {
	local file=$1 url=$2 d x given; shift 2
	{
		echo "output test {"
		echo "	url \"$url\""
		for d in 'name "drv"' 'fields "site=foobar,role=web"' \
		    "flush-interval 100ms" "backoff-min 50ms" \
		    "backoff-max 400ms" "timeout 5s"; do
			given=
			for x in "$@"; do
				[ "${x%% *}" = "${d%% *}" ] && given=1
			done
			[ -n "$given" ] || echo "	$d"
		done
		for d in "$@"; do echo "	$d"; done
		echo "}"
	} > "$file"
}

# The ids of the log lines the 2xx requests carried: one per line, sorted.
log_ids() { rx lines "$1" --type text/plain | awk '{ print $2 }' | sort; }
metric_lines() { rx lines "$1" --type application/vnd.sumologic | sort; }
# Every id from 0 to n-1 exactly once?
exactly_once() {
	local ids got
	ids=$(log_ids "$T_DIR/$1")
	got=$(printf '%s\n' "$ids" | uniq -c | awk '$1 != 1 { d++ } END { print NR, d + 0 }')
	[ "$got" = "$2 0" ] || { echo "got (lines dups) $got, want $2 0"; return 1; }
	printf '%s\n' "$ids" | awk '{ if ($1 != sprintf("line-%07d", NR - 1)) { print "missing near " $1; exit 1 } }'
}

# Checks over the index: python expressions over every request e.
idx_all() {
	python3 - "$T_DIR/$1" "$2" <<'PY'
import json, sys
d, expr = sys.argv[1], sys.argv[2]
es = [json.loads(l) for l in open(d + "/index.jsonl")]
bad = [e["n"] for e in es if not eval(expr, {}, {"e": e, "h": e["headers"]})]
if bad or not es:
    print("requests failing", expr, ":", bad[:10], "of", len(es)); sys.exit(1)
PY
}

# --- 1: everything arrives once, in the right shape ---
start_rx r1 18081
out_conf "$T_DIR/c1.conf" "http://127.0.0.1:18081/receiver/v1/http/TOKEN1" \
    'category "default/cat"'
ok "driver ships 30000 lines and 200 metric batches" \
    "$DRIVE" -c "$T_DIR/c1.conf" -s "$T_DIR/s1" -l 30000 -k 1 -L 100 -m 200 -t 60
ok "every log line arrived exactly once" exactly_once r1 30000
expect_eq "every metric line arrived exactly once" \
    "$(metric_lines "$T_DIR/r1" | uniq | wc -l) $(metric_lines "$T_DIR/r1" | wc -l)" "2000 2000"
ok "all requests are POSTs to the URL's path" idx_all r1 \
    'e["method"] == "POST" and e["path"] == "/receiver/v1/http/TOKEN1"'
ok "all requests are gzip and at most 1 MB before compression" idx_all r1 \
    'e["encoding"] == "gzip" and e["body_len"] <= 1048576 and e["raw_len"] < e["body_len"]'
ok "Sumo headers on every request" idx_all r1 \
    'h.get("x-sumo-host") == "drive-host" and h.get("x-sumo-name") == "drv" and h.get("x-sumo-fields") == "site=foobar,role=web"'
ok "logs and metrics never share a request" python3 - "$T_DIR/r1" <<'PY'
import json, sys
d = sys.argv[1]
for l in open(d + "/index.jsonl"):
    e = json.loads(l)
    body = open(d + "/" + e["body_file"], "rb").read().decode()
    ct = e["headers"]["content-type"]
    if ct == "text/plain":
        assert "drv_metric" not in body and e["headers"]["x-sumo-category"] == "test/cat0", e
    else:
        assert ct == "application/vnd.sumologic.prometheus", ct
        assert all(x.startswith("drv_metric{") for x in body.splitlines()), e
        assert e["headers"]["x-sumo-category"] == "default/cat", e
PY
expect_match "3.8 MB of logs took several requests" \
    "$(rx index "$T_DIR/r1" | grep -c text/plain)" '^([4-9]|[1-9][0-9]+)$'
ok "the spool is empty and its cursor files are there" \
    test -s "$T_DIR/s1/logs.acked" -a -s "$T_DIR/s1/metrics.acked"
stop_peer r1

# --- 2: the collector is down for a while, then up ---
out_conf "$T_DIR/c2.conf" "http://127.0.0.1:18082/x"
"$DRIVE" -c "$T_DIR/c2.conf" -s "$T_DIR/s2" -l 3000 -m 20 -t 60 \
    > "$T_DIR/d2.log" 2>&1 &
d2=$!
ok_wait "driver retries while nothing listens" 10 \
    grep -q "connect to 127.0.0.1:18082.*retrying" "$T_DIR/d2.log"
ok_wait "it keeps retrying (several attempts)" 10 \
    eval '[ "$(grep -c "connect to 127.0.0.1:18082" "$T_DIR/d2.log")" -ge 3 ]'
start_rx r2 18082
wait "$d2"
expect_eq "driver finishes once the collector is up" "$?" 0
ok "every line arrived exactly once after the outage" exactly_once r2 3000
expect_eq "metrics too" "$(metric_lines "$T_DIR/r2" | uniq | wc -l)" 200
stop_peer r2

# --- 2b: a reload points the output elsewhere (re-resolved, retried now) ---
start_rx r2b 18090
out_conf "$T_DIR/c2b.conf" "http://localhost:18091/x" "backoff-min 5s" "backoff-max 10s"
"$DRIVE" -c "$T_DIR/c2b.conf" -s "$T_DIR/s2b/deeper" -l 300 -t 60 \
    > "$T_DIR/d2b.log" 2>&1 &
d2b=$!
ok_wait "driver backs off from a port nobody listens on" 10 \
    grep -q "connect to .*:18091.*retrying" "$T_DIR/d2b.log"
out_conf "$T_DIR/c2b.conf" "http://localhost:18090/x" "backoff-min 5s" "backoff-max 10s"
kill -HUP "$d2b"
ok_wait "the reload is taken" 10 grep -q "reloaded" "$T_DIR/d2b.log"
wait "$d2b"
expect_eq "driver delivers to the new URL without waiting out its backoff" "$?" 0
ok "every line exactly once at the new URL" exactly_once r2b 300
ok "the spool directory was made with its parents, 0700" \
    test "$(stat -c %a "$T_DIR/s2b" "$T_DIR/s2b/deeper" | tr '\n' ' ')" = "700 700 "
stop_peer r2b

# --- 3: 429 with Retry-After, then 503: backs off, then delivers ---
mkdir -p "$T_DIR/r3"
printf '429 2 1\n503 1\n0 1\n' > "$T_DIR/r3/control"
start_rx r3 18083
out_conf "$T_DIR/c3.conf" "http://127.0.0.1:18083/x" "backoff-max 3s" "timeout 500ms"
ok "driver gets through 429, 503 and a collector that does not answer" \
    "$DRIVE" -c "$T_DIR/c3.conf" -s "$T_DIR/s3" -l 500 -m 5 -t 30 -M "$T_DIR/m3.txt"
expect_eq "answers seen: 429 429 503 (none) then 200s" \
    "$(rx index "$T_DIR/r3" | awk '{ print $2 }' | head -n 5 | tr '\n' ' ')" "429 429 503 0 200 "
ok "Retry-After: 1 was honoured (>= 0.9 s between the attempts)" \
    python3 -c 'import json, sys
es = [json.loads(l) for l in open(sys.argv[1])]
gaps = [es[i + 1]["time"] - es[i]["time"] for i in (0, 1)]
sys.exit(0 if min(gaps) >= 0.9 else "gaps %s" % gaps)' "$T_DIR/r3/index.jsonl"
ok "the same records were retried: every line exactly once" exactly_once r3 500
ok "metrics pass promtool check metrics" promtool check metrics < "$T_DIR/m3.txt"
m3=$(cat "$T_DIR/m3.txt")
expect_match "requests counted by outcome" "$m3" 'stackd_agentd_ship_requests_total\{output="test",code="429"\} 2'
expect_match "a 503 counts as 5xx" "$m3" 'stackd_agentd_ship_requests_total\{output="test",code="5xx"\} 1'
expect_match "no answer counts as a timeout" "$m3" 'stackd_agentd_ship_requests_total\{output="test",code="timeout"\} 1'
expect_match "sent records counted by kind" "$m3" 'stackd_agentd_ship_sent_records_total\{output="test",kind="logs"\} 500'
expect_match "the spool gauges are back to 0" "$m3" 'stackd_agentd_ship_spool_records\{output="test"\} 0'
stop_peer r3

# --- 4: 401 is logged loudly, retried, and shown in the status ---
mkdir -p "$T_DIR/r4"
printf '401 2\n' > "$T_DIR/r4/control"
start_rx r4 18084
out_conf "$T_DIR/c4.conf" "http://127.0.0.1:18084/receiver/v1/http/SECRET"
ok "driver gets through two 401s" sh -c \
    "'$DRIVE' -c '$T_DIR/c4.conf' -s '$T_DIR/s4' -l 100 -t 30 > '$T_DIR/d4.log' 2>&1"
ok "the refusal is logged as such" grep -q "REFUSES the logs: 401 Unauthorized" "$T_DIR/d4.log"
fails "the URL's token is never logged" grep -q SECRET "$T_DIR/d4.log"
ok "every line exactly once after the 401s" exactly_once r4 100
stop_peer r4

# --- 5: spool-max: drops are counted, the rest is delivered ---
start_rx r5 18085
out_conf "$T_DIR/c5.conf" "http://127.0.0.1:18085/x" "spool-max 64k"
"$DRIVE" -c "$T_DIR/c5.conf" -s "$T_DIR/s5" -l 2000 -L 60 -t 30 > "$T_DIR/d5.log" 2>&1
expect_eq "driver with a small spool" "$?" 0
dropped=$(sed -n 's/^queued: dropped \([0-9]*\)$/\1/p' "$T_DIR/d5.log")
got=$(log_ids "$T_DIR/r5" | wc -l)
expect_match "some records were dropped" "$dropped" '^[1-9][0-9]*$'
expect_eq "delivered + dropped = queued" "$((got + dropped))" 2000
expect_eq "what was delivered arrived once" "$(log_ids "$T_DIR/r5" | uniq | wc -l)" "$got"
expect_match "the status counts the drops" "$(tail -n 1 "$T_DIR/d5.log")" \
    "^output test: url http://127.0.0.1:18085/\\.\\.\\., spool 0 records 0 bytes \\(of 65536\\), sent $got, dropped $dropped, last: 200 OK [0-9]+ms, backoff -$"
stop_peer r5

# --- 6: a restart with records in the spool: the cursor ---
start_rx r6 18086
out_conf "$T_DIR/c6.conf" "http://127.0.0.1:18086/x" "max-request 16k"
ok "first run stops abruptly after 3 acknowledged requests" \
    "$DRIVE" -c "$T_DIR/c6.conf" -s "$T_DIR/s6" -l 5000 -a 3 -t 30
n1=$(log_ids "$T_DIR/r6" | wc -l)
expect_match "only part was sent" "$n1" '^[1-9][0-9]{2,3}$'
"$DRIVE" -c "$T_DIR/c6.conf" -s "$T_DIR/s6" -t 30 > "$T_DIR/d6.log" 2>&1
expect_eq "second run sends the rest" "$?" 0
ok "the second run found the spooled records" grep -q "left in the spool from before" "$T_DIR/d6.log"
ok "every line exactly once across the restart" exactly_once r6 5000
ok "requests stayed within max-request" idx_all r6 'e["body_len"] <= 16384'
stop_peer r6

# --- 7: TLS, verified against the test CA; a wrong CA fails ---
start_rx r7 18087 --cert "$CERTS/server.crt" --key "$CERTS/server.key"
out_conf "$T_DIR/c7.conf" "https://localhost:18087/x" "ca \"$CERTS/ca.crt\""
ok "driver ships over TLS" "$DRIVE" -c "$T_DIR/c7.conf" -s "$T_DIR/s7" -l 1000 -m 10 -t 30
ok "every line exactly once over TLS" exactly_once r7 1000
out_conf "$T_DIR/c7b.conf" "https://localhost:18087/x" "ca \"$CERTS/wrongca.crt\""
"$DRIVE" -c "$T_DIR/c7b.conf" -s "$T_DIR/s7b" -l 10 -t 2 > "$T_DIR/d7b.log" 2>&1
expect_eq "a collector the CA does not vouch for gets nothing" "$?" 2
ok "the failure says why" grep -q "TLS handshake with localhost.*verif" "$T_DIR/d7b.log"
stop_peer r7

# --- 8: carbon2 and webhook ---
start_rx r8 18088
out_conf "$T_DIR/c8.conf" "http://127.0.0.1:18088/x" "metrics-format carbon2" "gzip off"
ok "driver ships carbon2" "$DRIVE" -c "$T_DIR/c8.conf" -s "$T_DIR/s8" -m 3 -t 30
ok "carbon2 content type, not compressed" idx_all r8 \
    'h["content-type"] == "application/vnd.sumologic.carbon2" and e["encoding"] == ""'
expect_match "carbon2 lines" "$(rx lines "$T_DIR/r8" | head -n 1)" \
    '^metric=drv_metric batch=0 n=0  0 [0-9]{10}$'
stop_peer r8
start_rx r9 18089
out_conf "$T_DIR/c9.conf" "http://127.0.0.1:18089/hook" "kind webhook"
ok "driver posts alerts to a webhook" "$DRIVE" -c "$T_DIR/c9.conf" -s "$T_DIR/s9" -l 5 -t 30
ok "one JSON request per record, no Sumo headers" idx_all r9 \
    'h["content-type"] == "application/json" and "x-sumo-host" not in h and e["encoding"] == ""'
expect_eq "five requests for five records, one each" \
    "$(rx index "$T_DIR/r9" | wc -l) $(rx lines "$T_DIR/r9" | wc -l)" "5 5"
stop_peer r9

# --- configuration errors ---
out_conf "$T_DIR/bad.conf" "ftp://127.0.0.1/x"
fails "an ftp:// url is refused" "$DRIVE" -c "$T_DIR/bad.conf" -s "$T_DIR/sbad"
