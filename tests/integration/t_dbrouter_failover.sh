#!/usr/bin/env bash
# dbrouter's failover against a real MariaDB primary and two replicas from
# fresh datadirs: semi-sync set up by dbrouter; the primary killed under a
# writer: the replica that received most is promoted (though it applied
# less, and only once its relay log is applied), the other is repointed,
# no acknowledged insert is lost; the old primary restarted is fenced and
# rejoins; dbctl switchover back to it; bad switchovers are refused and
# change nothing, a failed one rolls back; an old primary with an errant
# transaction is fenced and left alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"

DBR=$BIN/dbrouter
SOCK=$T_DIR/dbrouter.sock
ctl() { "$BIN/dbctl" -s "$SOCK" "$@"; }
st() { ctl status; }
st_has() { st | grep -Eq "$1"; }
writer_is() { st_has "^writer: $1, "; }
gen() { st | sed -n 's/^writer: .*, generation \([0-9]*\)$/\1/p'; }
idle() { st_has '^failover: on, semi-sync on, idle$'; }
status_is() { [ "$(db_counter "$1" "$2")" = "$3" ]; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
app() { db_query "$(db_port "$1")" app apppass "$2"; }
acked_at_least() { [ "$(wc -l < "$(db_writer_acked w)")" -ge "$1" ]; }
acked() { wc -l < "$(db_writer_acked w)"; }
master_port_is() { [ "$(db_slave_field "$1" Master_Port)" = "$(db_port "$2")" ]; }
replicates() { db_slave_running "$1" && master_port_is "$1" "$2"; }
read_only_is() { [ "$(db_val "$1" 'SELECT @@read_only')" = "$2" ]; }
metric() { ctl metrics | grep -F "stackd_dbrouter_$1 " | awk '{ print $2 }'; }

# Hold FLUSH TABLES WITH READ LOCK on NAME from a background session: its
# replication SQL thread stops applying while the IO thread still receives
# (and acknowledges). unlock() kills that session.
lock() {
	mariadb --no-defaults -S "$(db_sock "$1")" -uroot -e \
		"FLUSH TABLES WITH READ LOCK; DO SLEEP(120)" >/dev/null 2>&1 &
	LOCK_PID=$!
	wait_for 10 lock_id "$1"
}
lock_id() {
	LOCK_ID=$(db_val "$1" "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'DO SLEEP(120)'")
	[ -n "$LOCK_ID" ]
}
unlock() {
	db_sql "$1" "KILL $LOCK_ID"
	wait "$LOCK_PID" 2>/dev/null
}

t_start=$(now_ms)
db_init db1 13321
db_init db2 13322
db_init db3 13323
for s in db1 db2 db3; do db_start "$s" || exit 1; done
db_users db1
db_replica_of db2 db1 || exit 1
db_replica_of db3 db1 || exit 1
pass "a primary and two replicas from fresh datadirs"

db_router_failover_conf "$T_DIR/dbrouter.conf" "$SOCK" db1 db2 db3 -- \
	"switchover-timeout 5s"

# ---- configuration errors ----
expect_eq "dbrouter -n accepts the config" "$("$DBR" -n -f "$T_DIR/dbrouter.conf" 2>&1)" "configuration OK"
grep -v '^replication-user' "$T_DIR/dbrouter.conf" > "$T_DIR/bad1.conf"
expect_match "failover without a replication-user is refused" \
	"$("$DBR" -n -f "$T_DIR/bad1.conf" 2>&1)" "failover yes: replication-user needed"
cp "$T_DIR/repl.pw" "$T_DIR/open.pw"; chmod 644 "$T_DIR/open.pw"
sed "s|repl.pw|open.pw|" "$T_DIR/dbrouter.conf" > "$T_DIR/bad2.conf"
expect_match "a replication password file others may read is refused" \
	"$("$DBR" -n -f "$T_DIR/bad2.conf" 2>&1)" "bad2.conf:14: replication-password-file: .*open.pw: readable by others"
sed 's|^failover yes|failover maybe|' "$T_DIR/dbrouter.conf" > "$T_DIR/bad3.conf"
expect_match "failover takes yes or no" "$("$DBR" -n -f "$T_DIR/bad3.conf" 2>&1)" "bad3.conf:11: failover: expected on or off"
sed "s|\"127.0.0.1:$(db_port db3)\"|\"unix:$(db_sock db3)\"|" "$T_DIR/dbrouter.conf" > "$T_DIR/bad4.conf"
expect_match "failover with a unix-socket server is refused" \
	"$("$DBR" -n -f "$T_DIR/bad4.conf" 2>&1)" "server db3 has a unix socket address"

start_daemon dbrouter "$DBR" -f "$T_DIR/dbrouter.conf" || exit 1

# ---- the writer and semi-sync from the monitor's view ----
ok_wait "db1, the only up primary, is the writer" 10 writer_is db1
ok_wait "dbrouter turned semi-sync on: db1 has 2 semi-sync replicas" 15 \
	status_is db1 Rpl_semi_sync_master_clients 2
expect_eq "semi-sync master on db1, slave on db2 and db3" \
	"$(db_val db1 'SELECT @@rpl_semi_sync_master_enabled')$(db_val db2 'SELECT @@rpl_semi_sync_slave_enabled')$(db_val db3 'SELECT @@rpl_semi_sync_slave_enabled')" 111
ok_wait "failover state idle in status" 5 idle
expect_match "no failover yet" "$(st)" '^last failover: none'
ctl metrics > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
expect_match "writer gauge" "$(cat "$T_DIR/metrics.txt")" 'stackd_dbrouter_writer\{server="db1"\} 1'
expect_match "failovers_total at 0" "$(cat "$T_DIR/metrics.txt")" 'stackd_dbrouter_failovers_total\{result="ok"\} 0'
gen0=$(gen)

# ---- (1) kill the primary under a writer ----
# db3 will have received most but applied least: its SQL thread is held
# back, then db2 stops receiving; MaxScale's order picks db3 all the same.
db_writer_start w "$(db_port db1)" || exit 1
ok_wait "writer: 10 acknowledged inserts on db1" 20 acked_at_least 10
# (lock and unlock set shell variables: not inside ok, a subshell)
if lock db3; then pass "db3's SQL thread held back (FLUSH TABLES WITH READ LOCK)"; else fail "db3 locked"; fi
n=$(acked); ok_wait "writer: 10 more" 20 acked_at_least $((n + 10))
db_sql db2 "STOP SLAVE IO_THREAD"
n=$(acked); ok_wait "db2 stopped receiving; 10 more, acknowledged by db3" 20 acked_at_least $((n + 10))
expect_eq "semi-sync still on (no commit fell back to async)" "$(db_counter db1 Rpl_semi_sync_master_no_tx)" 0
db_kill db1
t0=$(now_ms)
pass "db1 killed (SIGKILL) under the writer"
ok_wait "writer none while db1 is down" 5 writer_is none
ok_wait "dbrouter waits for db3's relay log before promoting it" 5 \
	st_has '^failover: on, semi-sync on, failover: waiting for db3 to apply its relay log'
t_wait=$(( $(now_ms) - t0 ))
expect_match "a switchover meanwhile is refused: busy" "$(ctl switchover db2 2>&1)" \
	'switchover: busy, failover is running \(failover: waiting for db3 to apply its relay log\)'
unlock db3
ok_wait "db3 is promoted" 5 writer_is db3
t1=$(( $(now_ms) - t0 ))
echo "# failover: db1 killed -> db3 the writer in $t1 ms (dbrouter seen waiting on db3's relay log at $t_wait ms, then released)"
ok "promoted within 5 s ($t1 ms)" test "$t1" -lt 5000
db_writer_stop w
echo "# writer: $(acked) inserts acknowledged before the crash"
expect_eq "db3 is writable (read_only 0)" "$(db_val db3 'SELECT @@read_only')" 0
expect_eq "db3 replicates from nobody" "$(db_slave_field db3 Slave_IO_Running)" ""
ok_wait "db2 is repointed to db3, both threads running" 10 replicates db2 db3
expect_eq "db2 uses GTID slave_pos" "$(db_slave_field db2 Using_Gtid)" Slave_Pos
expect_eq "db2 is read-only" "$(db_val db2 'SELECT @@read_only')" 1
# (2) semi-sync: nothing acknowledged is lost
expect_eq "every acknowledged insert is on db3" "$(db_writer_missing db3 w | tr '\n' ' ')" ""
ok "the app writes on db3" app db3 "INSERT INTO app.w_w VALUES (1000000)"
ok "db2 catches up from db3" db_wait_gtid db2 "$(db_gtid db3)"
expect_eq "every acknowledged insert is on db2 too" "$(db_writer_missing db2 w | tr '\n' ' ')" ""
ok_wait "db3 is a semi-sync primary with db2 as its client" 10 status_is db3 Rpl_semi_sync_master_clients 1
expect_match "status: the failover" "$(st)" '^last failover: failover ok in [0-9]+ms: db3 is the primary'
log=$(cat "$(daemon_log dbrouter)")
expect_match "log: the writer lost, with why" "$log" 'writer db1 -> none \(generation [0-9]+\): db1 is down: '
expect_match "log: candidates with their positions" "$log" 'candidate db3: received 0-1-[0-9]+, applied 0-1-[0-9]+'
expect_match "log: the new writer, with why" "$log" 'writer none -> db3 \(generation [0-9]+\): failover: db3 promoted in place of db1'
expect_eq "writer generation +2 (none, then db3)" "$(gen)" $((gen0 + 2))
ctl metrics > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
expect_match "failovers_total{ok} 1" "$(cat "$T_DIR/metrics.txt")" 'stackd_dbrouter_failovers_total\{result="ok"\} 1'
expect_match "writer gauge on db3" "$(cat "$T_DIR/metrics.txt")" 'stackd_dbrouter_writer\{server="db3"\} 1'
expect_match "and off on db1" "$(cat "$T_DIR/metrics.txt")" 'stackd_dbrouter_writer\{server="db1"\} 0'

# ---- (3) the old primary comes back: fenced, rejoins ----
db_start db1 || exit 1	# writable, as a crashed primary restarts
t2=$(now_ms)
ok_wait "db1 is fenced: read_only=1" 5 read_only_is db1 1
echo "# fence: db1 answering -> read_only=1 in $(( $(now_ms) - t2 )) ms"
if wait_for 10 replicates db1 db3; then
	pass "db1 rejoins as a replica of db3, both threads running"
elif st_has '^failover note db1: errant'; then
	# killed between its binlog write and the replicas' read: a
	# transaction nobody acknowledged; dbrouter refuses it, as it must
	echo "# $(st | grep '^failover note db1')"
	pass "db1 has an errant transaction: left fenced (rebuilt by hand)"
	db_rebuild db1 --read-only=1 || exit 1
	db_replica_of db1 db3 || exit 1
else
	fail "db1 rejoins as a replica of db3, both threads running" "$(st)" \
		"$(db_slave_field db1 Last_IO_Error) $(db_slave_field db1 Last_SQL_Error)"
fi
expect_eq "db1 stays read-only" "$(db_val db1 'SELECT @@read_only')" 1
ok "db1 catches up with db3" db_wait_gtid db1 "$(db_gtid db3)"
expect_eq "db1 has every acknowledged insert" "$(db_writer_missing db1 w | tr '\n' ' ')" ""
expect_eq "the writer stayed db3" "$(st | grep '^writer:')" "writer: db3, generation $((gen0 + 2))"
ok_wait "dbrouter idle again" 10 idle

# ---- (4) switchover back to db1 ----
t3=$(now_ms)
out=$(ctl switchover db1 5 2>&1)
rc=$?
echo "# switchover to db1 in $(( $(now_ms) - t3 )) ms"
expect_eq "dbctl switchover db1 answers ok" "$rc" 0
expect_match "it says what it did" "$out" 'fenced db3 \(read_only=1\) at '
expect_match "  ... the catch-up" "$out" 'db1 applied 0-[0-9]+-[0-9]+'
expect_match "  ... the promotion" "$out" 'promoted db1 \(STOP SLAVE, RESET SLAVE ALL, semi-sync master on, read_only=0\)'
expect_match "  ... the old primary's rejoin" "$out" 'rejoined db3 as a replica of db1'
expect_match "  ... the other replica" "$out" 'repointed db2 as a replica of db1'
ok "writer is db1" writer_is db1
expect_eq "db1 writable, db3 read-only" "$(db_val db1 'SELECT @@read_only')$(db_val db3 'SELECT @@read_only')" 01
ok_wait "db3 replicates from db1" 10 replicates db3 db1
ok_wait "db2 replicates from db1" 10 replicates db2 db1
ok "the app writes on db1" app db1 "INSERT INTO app.w_w VALUES (1000001)"
ok "db3 has it" db_wait_gtid db3 "$(db_gtid db1)"
ok "db2 has it" db_wait_gtid db2 "$(db_gtid db1)"
expect_match "status: the switchover" "$(st)" '^last failover: switchover ok in [0-9]+ms'
ok_wait "dbrouter idle again" 10 idle

# bad targets: refused at once, nothing changes
g=$(gen)
expect_match "an unknown server is refused" "$(ctl switchover nosuch 2>&1)" 'switchover: no server nosuch'
expect_match "the primary itself is refused" "$(ctl switchover db1 2>&1)" 'switchover: db1 is the primary already'
expect_match "a bad timeout is refused" "$(ctl switchover db2 soon 2>&1)" 'switchover: bad TIMEOUT soon'
db_sql db2 "STOP SLAVE"
ok_wait "db2's stopped replication shows" 5 st_has '^server db2: .* io no, sql no'
expect_match "a replica that does not replicate is refused" "$(ctl switchover db2 2>&1)" \
	'switchover: db2 is not a healthy replica of db1: replication thread stopped \(io no, sql no\)'
db_sql db2 "START SLAVE"
expect_eq "the writer and its generation are unchanged" "$(gen) $(db_val db1 'SELECT @@read_only')" "$g 0"
ok "writer is still db1" writer_is db1
# a switchover whose target cannot catch up rolls back
if lock db3; then pass "db3's SQL thread held back"; else fail "db3 locked"; fi
ok "a write db3 cannot apply" app db1 "INSERT INTO app.w_w VALUES (1000002)"
out=$(ctl switchover db3 1 2>&1)
rc=$?
expect_eq "a switchover that cannot finish fails" "$rc" 1
expect_match "saying why" "$out" 'db3 did not apply 0-[0-9]+-[0-9]+ within 1000ms; rolled back, nothing changed'
expect_match "and what it undid" "$out" 'rolled back: db1 writable again'
unlock db3
expect_eq "db1 is writable again" "$(db_val db1 'SELECT @@read_only')" 0
ok "writer is db1 again" writer_is db1
ok "the app writes on db1" app db1 "INSERT INTO app.w_w VALUES (1000003)"
ok "db3 still replicates db1 and catches up" db_wait_gtid db3 "$(db_gtid db1)"
expect_match "switchovers_total{failed} 1" "$(ctl metrics)" 'stackd_dbrouter_switchovers_total\{result="failed"\} 1'
expect_match "switchovers_total{ok} 1" "$(ctl metrics)" 'stackd_dbrouter_switchovers_total\{result="ok"\} 1'

# ---- an old primary with an errant transaction is left fenced ----
# a write only db1 has: both replicas (level) stop receiving, semi-sync
# off on it
ok "db2 has all db1 wrote" db_wait_gtid db2 "$(db_gtid db1)"
ok "db3 too" db_wait_gtid db3 "$(db_gtid db1)"
db_sql db2 "STOP SLAVE IO_THREAD"
db_sql db3 "STOP SLAVE IO_THREAD"
db_sql db1 "SET GLOBAL rpl_semi_sync_master_enabled=OFF"
ok "a write that reaches no replica" app db1 "INSERT INTO app.w_w VALUES (2000000)"
g=$(gen)
db_kill db1
t4=$(now_ms)
pass "db1 killed again"
ok_wait "equal candidates: db2, first in the configuration, is promoted" 5 writer_is db2
echo "# failover without a relay log to wait for: db1 killed -> db2 the writer in $(( $(now_ms) - t4 )) ms"
ok_wait "db3 replicates from db2" 10 replicates db3 db2
db_start db1 || exit 1
ok_wait "db1 is fenced" 5 read_only_is db1 1
ok_wait "and left alone: errant transaction" 5 st_has '^failover note db1: errant transactions: its binlog is at 0-[0-9]+-[0-9]+, db2 had 0-[0-9]+-[0-9]+; rebuild it'
expect_eq "db1 does not replicate" "$(db_slave_field db1 Slave_IO_Running)" ""
expect_eq "db1 is still read-only" "$(db_val db1 'SELECT @@read_only')" 1
expect_eq "writer db2, generation +2" "$(st | grep '^writer:')" "writer: db2, generation $((g + 2))"
expect_match "failovers_total{ok} 2" "$(ctl metrics)" 'stackd_dbrouter_failovers_total\{result="ok"\} 2'

# ---- reload ----
sed -i 's/^failover yes/failover no/' "$T_DIR/dbrouter.conf"
ok "reload with failover no" ctl reload
expect_match "status says failover off, the writer stays" "$(st)" 'writer: db2, generation [0-9]+
failover: off, semi-sync on, idle'

stop_daemon dbrouter
db_stop_all
echo "# whole test: $(( $(now_ms) - t_start )) ms"
