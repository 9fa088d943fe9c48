#!/usr/bin/env bash
# The database failure drill through dbrouter, as the applications see it:
# a primary and two replicas with semi-sync, sysbench reading and writing
# through the router and a writer counting acknowledged INSERTs through
# it; the primary is SIGKILLed. A replica must be the writer within 5 s,
# the reads must never fail, every acknowledged INSERT must be on the new
# primary, writes must resume through the router, and the old primary,
# restarted, must come back read-only as a replica.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"

DBR=$BIN/dbrouter
SOCK=$T_DIR/dbrouter.sock
ctl() { "$BIN/dbctl" -s "$SOCK" "$@"; }
writer() { ctl status | sed -n 's/^writer: \([^,]*\),.*/\1/p'; }
writer_is() { [ "$(writer)" = "$1" ]; }
writer_not() { w=$(writer); [ -n "$w" ] && [ "$w" != none ] && [ "$w" != "$1" ]; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
read_only_is() { [ "$(db_val "$1" 'SELECT @@read_only')" = "$2" ]; }
acked() { wc -l < "$(db_writer_acked w)"; }
acked_more() { [ "$(acked)" -gt "$1" ]; }

DB_SEMISYNC=1
db_init db1 13431
db_init db2 13432
db_init db3 13433
for s in db1 db2 db3; do db_start "$s" || exit 1; done
db_users db1
db_replica_of db2 db1 || exit 1
db_replica_of db3 db1 || exit 1

echo "app $(db_val db1 "SELECT PASSWORD('apppass')")" > "$T_DIR/users"
chmod 600 "$T_DIR/users"
PORT=13434
db_router_failover_conf "$T_DIR/dbrouter.conf" "$SOCK" db1 db2 db3 -- \
	"listen \"127.0.0.1:$PORT\"" \
	"users-file \"$T_DIR/users\"" \
	"max-lag 5s" \
	"writer-wait 10s"
start_daemon dbrouter "$DBR" -f "$T_DIR/dbrouter.conf" || exit 1
ok_wait "db1 is the writer" 10 writer_is db1
ok_wait "semi-sync is on with two replicas" 15 \
	eval '[ "$(db_counter db1 Rpl_semi_sync_master_clients)" = 2 ]'

DB_SB_TABLES=2 DB_SB_SIZE=1000
ok "sysbench tables made through the router" db_sysbench_prepare $PORT
db_wait_gtid db2 "$(db_gtid db1)" && db_wait_gtid db3 "$(db_gtid db1)"

# ---- load: reads, writes, and a writer that records what was acked ----
db_sysbench_run 127.0.0.1 $PORT oltp_read_only 2 14 --skip_trx=on \
	> "$T_DIR/reads.out" 2>&1 &
reads_pid=$!
db_sysbench_run 127.0.0.1 $PORT oltp_write_only 2 14 --mysql-ignore-errors=all \
	> "$T_DIR/writes.out" 2>&1 &
writes_pid=$!
db_writer_start w $PORT || exit 1
ok_wait "the writer gets INSERTs acknowledged through the router" 30 acked_more 50

# ---- the primary dies ----
db_kill db1
t0=$(now_ms)
ok_wait "a replica becomes the writer" 15 writer_not db1
elapsed=$(( $(now_ms) - t0 ))
new=$(writer)
echo "# $new is the writer ${elapsed} ms after db1 was killed"
ok "within 5 s (${elapsed} ms)" test "$elapsed" -le 5000
n=$(acked)
ok_wait "writes are acknowledged again through the router" 15 acked_more $((n + 20))
# Passive health: the first connection to db1 that fails marks it down,
# so new sessions' INSERTs wait (writer-wait) for the new primary instead
# of being refused in the ~600 ms before the monitor's own verdict.
echo "# INSERTs that failed around the kill: $(tr '\n' ';' < "$(db_writer_errors w)")"
expect_eq "no session was answered 'connect: Connection refused'" \
	"$(grep -c 'Connection refused' "$(db_writer_errors w)")" 0
ok "at most the INSERT in flight at the kill failed" \
	test "$(wc -l < "$(db_writer_errors w)")" -le 1
expect_match "log: db1 marked down by a failed backend connection" \
	"$(cat "$(daemon_log dbrouter)")" 'server db1 is down: a backend connection failed: .*\(passive'
expect_match "status counts it" "$(ctl status)" '^server db1: .* passive downs 1, check: '

wait "$reads_pid"; reads_rc=$?
wait "$writes_pid"
expect_eq "sysbench's reads ran to the end" "$reads_rc" 0
expect_match "and none of them failed: $(cat "$T_DIR/reads.out")" "$(cat "$T_DIR/reads.out")" "errors=0 reconnects=0"
db_writer_stop w
expect_eq "every INSERT acknowledged before or after the kill is on $new" "$(db_writer_missing "$new" w)" ""
other=db2; [ "$new" = db2 ] && other=db3
ok_wait "$other replicates from $new" 15 eval '[ "$(db_slave_field $other Master_Port)" = "$(db_port $new)" ] && db_slave_running $other'

# ---- the old primary returns ----
# As dbrouter(8) says: a crashed semi-sync primary restarts with
# --init-rpl-role=SLAVE, so its crash recovery cuts from the binlog what
# no replica acknowledged (AFTER_SYNC); else it has errant transactions
# and is only fenced.
db_start db1 --init-rpl-role=SLAVE --rpl-semi-sync-slave-enabled=ON || exit 1
ok_wait "db1 is fenced: read_only 1" 10 read_only_is db1 1
ok_wait "db1 rejoins as a replica of $new" 20 \
	eval '[ "$(db_slave_field db1 Master_Port)" = "$(db_port $new)" ] && db_slave_running db1'
ok "the writer stayed $new" writer_is "$new"
expect_eq "and answers through the router" \
	"$(mariadb -h 127.0.0.1 -P $PORT -u app -papppass -N -B -e 'SELECT @@read_only, COUNT(*) > 0 FROM app.w_w')" "$(printf '0\t1')"

# ---- a read in flight when its replica dies is run again ----
# SLEEP keeps the read on the replica long enough to kill the replica
# under it; nothing of its answer has reached the client, so dbrouter
# runs it again elsewhere (retry of failed reads) and the client gets
# its row, no error.
slow_sql='SELECT SLEEP(3) AS s, 42 AS answer'
slow_on() {
	local r
	for r in db1 db2 db3; do
		[ "$r" = "$new" ] && continue
		if [ "$(db_val "$r" "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = '$slow_sql'")" = 1 ]; then
			SLOW_ON=$r
			return 0
		fi
	done
	return 1
}
replica_up() { ctl status | grep -Eq "^server $1: [^ ]+ up replica,"; }
passive_downs() { ctl status | sed -n "s/^server $1: .*, passive downs \([0-9]*\), .*/\1/p"; }
mariadb -h 127.0.0.1 -P $PORT -u app -papppass -N -B -e "$slow_sql" \
	> "$T_DIR/slow.out" 2> "$T_DIR/slow.err" &
slow_pid=$!
ok_wait "the slow read runs on a replica" 10 slow_on
before=$(passive_downs "$SLOW_ON")
db_kill "$SLOW_ON"
pass "$SLOW_ON killed (SIGKILL) under the read"
wait "$slow_pid"; slow_rc=$?
expect_eq "the read is answered, no error ($(cat "$T_DIR/slow.err"))" "$slow_rc $(cat "$T_DIR/slow.out")" "$(printf '0 0\t42')"
expect_match "log: it ran again" "$(cat "$(daemon_log dbrouter)")" \
	"server $SLOW_ON failed \\(.*\\); COM_QUERY again"
ok "$SLOW_ON marked down at once (passive)" eval "ctl status | grep -q '^server $SLOW_ON: [^ ]* down ' && [ \"\$(passive_downs $SLOW_ON)\" = $((before + 1)) ]"
db_start "$SLOW_ON" --read-only=1 || exit 1
ok_wait "$SLOW_ON restarted: the monitor's checks bring it back (rise)" 10 replica_up "$SLOW_ON"

# ---- a refusal is an answer: no reason to mark a server down ----
# At a connection limit the server answers the login with an error
# (max_connections, here app's own MAX_USER_CONNECTIONS 1, which an app
# session held directly fills; set without binlog, as admin writes on a
# replica must be): it is up. The reads it refuses go to the primary, and
# it stays up. (The other replica drained: the reads are for $SLOW_ON
# once its lag is known.)
for r in db1 db2 db3; do
	[ "$r" != "$new" ] && [ "$r" != "$SLOW_ON" ] && ok "drain $r" ctl server drain "$r"
done
ok_wait "$SLOW_ON's lag is known" 10 eval "ctl status | grep -Eq '^server $SLOW_ON: .* lag [0-9]+s,'"
db_sql "$SLOW_ON" "SET sql_log_bin=0; ALTER USER 'app'@'%' WITH MAX_USER_CONNECTIONS 1"
mariadb -h 127.0.0.1 -P "$(db_port "$SLOW_ON")" -u app -papppass -e 'DO SLEEP(60)' >/dev/null 2>&1 &
hog_pid=$!
hog_id() {
	HOG_ID=$(db_val "$SLOW_ON" "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = 'DO SLEEP(60)'")
	[ -n "$HOG_ID" ]
}
ok_wait "an app session takes the only connection app may have on $SLOW_ON" 10 hog_id
answers=$(for i in 1 2 3 4; do
	mariadb -h 127.0.0.1 -P $PORT -u app -papppass -N -B -e 'SELECT 42' 2>&1
done | tr '\n' ' ')
expect_eq "reads are answered while $SLOW_ON refuses connections" "$answers" "42 42 42 42 "
expect_match "log: $SLOW_ON refused a backend connection" "$(cat "$(daemon_log dbrouter)")" \
	"server $SLOW_ON: backend connection for app: .*max_user_connections"
ok "$SLOW_ON stays up: no passive down for it" eval "ctl status | grep -q '^server $SLOW_ON: [^ ]* up ' && [ \"\$(passive_downs $SLOW_ON)\" = $((before + 1)) ]"
db_sql "$SLOW_ON" "KILL $HOG_ID; SET sql_log_bin=0; ALTER USER 'app'@'%' WITH MAX_USER_CONNECTIONS 0"
wait "$hog_pid"

stop_daemon dbrouter
db_stop_all
t_finish
