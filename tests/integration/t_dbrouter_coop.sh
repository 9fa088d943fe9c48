#!/usr/bin/env bash
# Cooperative failover: two dbrouters, both `failover yes` (as on the two
# web hosts), on one MariaDB primary and two replicas. Only the one that
# holds the failover lock (GET_LOCK over its monitor sessions) on a
# majority of the running servers fails over; the other is a standby that
# follows the writer. The primary killed: exactly one promotion, both end
# with the same writer, no errant transaction. The lock holder killed: the
# standby takes the lock over and can switch over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"

DBR=$BIN/dbrouter
ctl() { local r=$1; shift; "$BIN/dbctl" -s "$T_DIR/$r.sock" "$@"; }
st_has() { ctl "$1" status | grep -Eq "$2"; }
writer_of() { ctl "$1" status | sed -n 's/^writer: \([^,]*\),.*/\1/p'; }
writer_is() { [ "$(writer_of "$1")" = "$2" ]; }
writer_not() { local w; w=$(writer_of "$1"); [ -n "$w" ] && [ "$w" != none ] && [ "$w" != "$2" ]; }
holds() { st_has "$1" "^failover lock: held on $2 running servers"; }
standby() { st_has "$1" '^failover lock: standby, held on 0/'; }
failovers() { ctl "$1" metrics | sed -n 's/^stackd_dbrouter_failovers_total{result="ok"} //p'; }
replicates() { db_slave_running "$1" && [ "$(db_slave_field "$1" Master_Port)" = "$(db_port "$2")" ]; }

db_init db1 13521
db_init db2 13522
db_init db3 13523
for s in db1 db2 db3; do db_start "$s" || exit 1; done
db_users db1
db_replica_of db2 db1 || exit 1
db_replica_of db3 db1 || exit 1
pass "a primary and two replicas"

printf 'replpass\n' > "$T_DIR/repl.pw"
chmod 600 "$T_DIR/repl.pw"
# r1 and r2: the same servers, both failover yes, failover-lock by default
for r in r1 r2; do
	{
		echo "control \"$T_DIR/$r.sock\""
		db_router_conf db1 db2 db3
		cat <<CONF
failover yes
replication-user "repl"
replication-password-file "$T_DIR/repl.pw"
failover-timeout 5s
CONF
	} > "$T_DIR/$r.conf"
done
expect_eq "failover-lock no is accepted" \
	"$(printf 'failover-lock no\n' | cat "$T_DIR/r1.conf" - > "$T_DIR/nolock.conf"; "$DBR" -n -f "$T_DIR/nolock.conf" 2>&1)" "configuration OK"

start_daemon r1 "$DBR" -f "$T_DIR/r1.conf" || exit 1
ok_wait "r1 holds the failover lock on all 3 servers" 10 holds r1 3/3
start_daemon r2 "$DBR" -f "$T_DIR/r2.conf" || exit 1
ok_wait "r2 is a standby (the lock is r1's)" 10 standby r2
ok_wait "both see db1 as the writer" 10 eval 'writer_is r1 db1 && writer_is r2 db1'
expect_match "a switchover on the standby is refused" "$(ctl r2 switchover db2 2>&1)" \
	'switchover: standby: another dbrouter holds the failover lock'
expect_match "metrics: r1 may fail over, r2 not" \
	"$(ctl r1 metrics | grep '^stackd_dbrouter_failover_lock '; ctl r2 metrics | grep '^stackd_dbrouter_failover_lock ')" \
	'^stackd_dbrouter_failover_lock 1
stackd_dbrouter_failover_lock 0$'
ctl r2 metrics > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"

# ---- the primary dies: one promotion ----
ok "a write on db1" db_query "$(db_port db1)" app apppass "CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1)"
ok "db2 has it" db_wait_gtid db2 "$(db_gtid db1)"
ok "db3 has it" db_wait_gtid db3 "$(db_gtid db1)"
db_kill db1
pass "db1 killed (SIGKILL)"
ok_wait "r1 promotes a replica" 10 writer_not r1 db1
new=$(writer_of r1)
other=db2; [ "$new" = db2 ] && other=db3
ok_wait "r2 follows: the same writer ($new)" 10 writer_is r2 "$new"
ok_wait "$other replicates from $new" 10 replicates "$other" "$new"
expect_eq "r1 failed over once, r2 never" "$(failovers r1) $(failovers r2)" "1 0"
expect_eq "one promotion in r1's log" "$(grep -c 'failover ok in' "$(daemon_log r1)")" 1
expect_eq "none in r2's log" "$(grep -c 'promoted' "$(daemon_log r2)")" 0
expect_eq "$new writable, $other read-only" "$(db_val "$new" 'SELECT @@read_only')$(db_val "$other" 'SELECT @@read_only')" 01
ok "a write on $new" db_query "$(db_port "$new")" app apppass "INSERT INTO app.t VALUES (2)"
ok "$other has it" db_wait_gtid "$other" "$(db_gtid "$new")"
expect_eq "no errant transaction: $other's positions are $new's" \
	"$(db_val "$other" 'SELECT @@gtid_current_pos')" "$(db_val "$new" 'SELECT @@gtid_current_pos')"
ok_wait "r1 still holds the lock, on 2/2 running servers" 10 holds r1 2/2

# ---- the lock holder dies: the standby takes over ----
kill -KILL "$(daemon_pid r1)"
wait "$(daemon_pid r1)" 2>/dev/null
rm -f "$T_DIR/r1.pid"
pass "r1 killed (SIGKILL): the servers release its locks"
ok_wait "r2 takes the lock over on 2/2" 10 holds r2 2/2
expect_match "r2's log says so" "$(cat "$(daemon_log r2)")" 'failover lock: held by this dbrouter'
out=$(ctl r2 switchover "$other" 5 2>&1)
expect_match "r2 switches over to $other" "$out" "promoted $other"
ok "writer is $other" writer_is r2 "$other"
ok_wait "$new replicates from $other" 10 replicates "$new" "$other"

stop_daemon r2
db_stop_all
