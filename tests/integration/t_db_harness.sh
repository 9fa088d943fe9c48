#!/usr/bin/env bash
# The MariaDB harness itself (tests/integration/mariadb.sh), before dbrouter
# uses it: a primary and two replicas from fresh datadirs, GTID replication,
# per-server counters, read_only, semi-sync, sysbench with prepared
# statements on and off, and by hand the failover dbrouter will automate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"
set -u

P1=3311
P2=3312
P3=3313

# Milliseconds since the epoch.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Run SQL over TCP as the application user on PORT.
app() { db_query "$1" app apppass "$2"; }
# Run SQL over TCP as the router's monitor/failover user on PORT.
router() { db_query "$1" dbrouter routerpass "$2"; }
# A status value of NAME equals WANT.
status_is() { [ "$(db_counter "$1" "$2")" = "$3" ]; }
# The sequence number of a single-domain GTID position (0-1-42 -> 42).
gtid_seq() { echo "${1##*-}"; }

# --- three servers from fresh datadirs --------------------------------------
t0=$(now_ms)
for s in "db1 $P1" "db2 $P2" "db3 $P3"; do
	# shellcheck disable=SC2086
	db_init $s || exit 1
done
t1=$(now_ms)
for s in db1 db2 db3; do
	db_start "$s" || exit 1
done
t2=$(now_ms)
pass "3 servers initialised and started"
echo "# startup: datadirs $((t1 - t0)) ms, 3 servers up $((t2 - t1)) ms"

ok "users created on the primary" db_users db1
ok "db2 replicates db1" db_replica_of db2 db1
ok "db3 replicates db1" db_replica_of db3 db1
t3=$(now_ms)
echo "# startup: replication running $((t3 - t0)) ms after the first mariadb-install-db"
expect_eq "server ids" "$(db_val db1 'SELECT @@server_id') $(db_val db2 'SELECT @@server_id') $(db_val db3 'SELECT @@server_id')" "1 2 3"
ok "app user logs in over TCP" app "$P1" "SELECT 1"
ok "users reached db3 by replication" router "$P3" "SELECT 1"

# --- a write on the primary reaches both replicas --------------------------
ok "app writes on the primary" app "$P1" \
	"CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32));
	 INSERT INTO app.t (v) VALUES ('one')"
g=$(db_gtid db1)
expect_match "primary GTID" "$g" '^0-1-[0-9]+$'
ok "db2 reaches $g" db_wait_gtid db2 "$g"
ok "db3 reaches $g" db_wait_gtid db3 "$g"
expect_eq "row on db2" "$(app "$P2" "SELECT v FROM app.t WHERE id=1")" one
expect_eq "row on db3" "$(app "$P3" "SELECT v FROM app.t WHERE id=1")" one
expect_eq "db2 gtid_slave_pos" "$(db_val db2 'SELECT @@gtid_slave_pos')" "$g"

# --- counters tell which server ran a statement -----------------------------
# Com_* count replicated events too; per-user statistics do not
i1=$(db_counter db1 Com_insert)
i2=$(db_counter db2 Com_insert)
u1=$(db_user_counter db1 app UPDATE_COMMANDS)
u2=$(db_user_counter db2 app UPDATE_COMMANDS)
ok "app inserts on the primary" app "$P1" "INSERT INTO app.t (v) VALUES ('two')"
ok "db2 has it" db_wait_gtid db2 "$(db_gtid db1)"
expect_eq "Com_insert +1 on db1" "$(db_counter db1 Com_insert)" $((i1 + 1))
expect_eq "Com_insert +1 on db2 too (the replicated row)" "$(db_counter db2 Com_insert)" $((i2 + 1))
expect_eq "app's UPDATE_COMMANDS +1 on db1" "$(db_user_counter db1 app UPDATE_COMMANDS)" $((u1 + 1))
expect_eq "app's UPDATE_COMMANDS unchanged on db2" "$(db_user_counter db2 app UPDATE_COMMANDS)" "$u2"
c2=$(db_counter db2 Com_select)
s1=$(db_user_counter db1 app SELECT_COMMANDS)
s2=$(db_user_counter db2 app SELECT_COMMANDS)
s3=$(db_user_counter db3 app SELECT_COMMANDS)
app "$P2" "SELECT COUNT(*) FROM app.t" >/dev/null
app "$P2" "SELECT COUNT(*) FROM app.t" >/dev/null
expect_eq "app SELECTs counted on db2" "$(db_user_counter db2 app SELECT_COMMANDS)" $((s2 + 2))
expect_eq "none on db1" "$(db_user_counter db1 app SELECT_COMMANDS)" "$s1"
expect_eq "none on db3" "$(db_user_counter db3 app SELECT_COMMANDS)" "$s3"
expect_eq "Com_select on db2: 2 app + 2 db_user_counter" "$(db_counter db2 Com_select)" $((c2 + 4))

# --- replicas are read-only for the application -----------------------------
expect_eq "read_only on db1/db2/db3" \
	"$(db_val db1 'SELECT @@read_only')$(db_val db2 'SELECT @@read_only')$(db_val db3 'SELECT @@read_only')" 011
out=$(app "$P2" "INSERT INTO app.t (v) VALUES ('bad')" 2>&1)
expect_match "app write on a replica is refused (1290)" "$out" 'ERROR 1290'

# --- semi-synchronous replication -------------------------------------------
ok "semi-sync on db1" db_semisync db1
ok "semi-sync on db2" db_semisync db2
ok "semi-sync on db3" db_semisync db3
ok_wait "primary sees 2 semi-sync replicas" 10 status_is db1 Rpl_semi_sync_master_clients 2
ok_wait "db2 semi-sync slave status ON" 10 status_is db2 Rpl_semi_sync_slave_status ON
expect_eq "primary semi-sync status" "$(db_counter db1 Rpl_semi_sync_master_status)" ON
yes0=$(db_counter db1 Rpl_semi_sync_master_yes_tx)
ok "a semi-sync commit" app "$P1" "INSERT INTO app.t (v) VALUES ('semi')"
expect_eq "acknowledged by a replica" "$(db_counter db1 Rpl_semi_sync_master_yes_tx)" $((yes0 + 1))
expect_eq "no commit timed out" "$(db_counter db1 Rpl_semi_sync_master_no_tx)" 0

# --- sysbench straight at the primary ---------------------------------------
ok "sysbench prepare" db_sysbench_prepare "$P1"
for mode in auto disable; do
	r=$(db_sysbench_run 127.0.0.1 "$P1" oltp_read_write 4 5 --db-ps-mode="$mode")
	echo "# sysbench oltp_read_write 4 threads 5 s ps-mode=$mode: $r"
	# oltp_read_write on 2x1000 rows deadlocks now and then: sysbench
	# retries 1213 ("ignored errors"); anything else makes it fail
	expect_match "sysbench ps-mode=$mode ran" "$r" '^qps=[0-9]+\.[0-9]+ tps=[0-9.]+ p95_ms=[0-9.]+ errors=[0-9]+ '
done
g=$(db_gtid db1)
ok "db2 caught up with sysbench" db_wait_gtid db2 "$g" 30
ok "db3 caught up with sysbench" db_wait_gtid db3 "$g" 30
expect_eq "sbtest rows on db3" "$(app "$P3" "SELECT COUNT(*) FROM sbtest.sbtest1")" \
	"$(app "$P1" "SELECT COUNT(*) FROM sbtest.sbtest1")"

# --- failover drill, by hand, as the dbrouter user over TCP -----------------
# db2 lags (replication stopped) so that db3 is the most advanced replica
ok "db2 stops replicating" db_sql db2 "STOP SLAVE"
ok "last write before the crash" app "$P1" "INSERT INTO app.t (v) VALUES ('before')"
g=$(db_gtid db1)
ok "db3 has it" db_wait_gtid db3 "$g"
# under semi-sync (only db3 connected) a writer runs while the primary dies
ok_wait "primary has 1 semi-sync replica left" 10 status_is db1 Rpl_semi_sync_master_clients 1
if db_writer_start w "$P1"; then pass "writer starts on the primary"; else fail "writer starts on the primary"; fi
writer_acked() { [ "$(wc -l < "$(db_writer_acked w)")" -ge "$1" ]; }
ok_wait "writer has 20 acknowledged rows" 20 writer_acked 20
expect_eq "semi-sync still on" "$(db_counter db1 Rpl_semi_sync_master_status)" ON
if db_kill db1; then pass "primary killed (SIGKILL) under writes"; else fail "primary killed (SIGKILL) under writes"; fi
tf=$(now_ms)
fails "primary is gone" app "$P1" "SELECT 1"
db_writer_stop w
echo "# writer: $(wc -l < "$(db_writer_acked w)") inserts acknowledged before the crash"
ok_wait "db3 applied all it received" 10 db_relay_applied db3
expect_eq "every acknowledged insert is on db3" "$(db_writer_missing db3 w | tr '\n' ' ')" ""
# the most advanced replica becomes the primary
g2=$(router "$P2" "SELECT @@gtid_current_pos")
g3=$(router "$P3" "SELECT @@gtid_current_pos")
if [ "$(gtid_seq "$g3")" -gt "$(gtid_seq "$g2")" ]; then
	new=db3 other=db2 gnew=$g3
else
	new=db2 other=db3 gnew=$g2
fi
pn=$(db_port "$new")
po=$(db_port "$other")
echo "# failover: db2 at $g2, db3 at $g3: promoting $new"
ok "promote $new" router "$pn" "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=0"
db_keep_read_only "$new" 0
ok "repoint $other to $new" router "$po" \
	"STOP SLAVE; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$pn,
	 MASTER_USE_GTID=slave_pos; START SLAVE"
ok_wait "$other replicates from $new" 10 db_slave_running "$other"
expect_eq "the most advanced replica was promoted" "$new" db3
ok "app writes on the new primary" app "$pn" "INSERT INTO app.t (v) VALUES ('after')"
g=$(db_gtid "$new")
ok "$other reaches $g" db_wait_gtid "$other" "$g"
tf2=$(now_ms)
echo "# failover drill: kill to first replicated write on the new primary $((tf2 - tf)) ms"
expect_eq "rows on $other" "$(app "$po" "SELECT GROUP_CONCAT(v ORDER BY id) FROM app.t")" \
	"one,two,semi,before,after"
expect_eq "$new is writable, $other read-only" \
	"$(db_val "$new" 'SELECT @@read_only')$(db_val "$other" 'SELECT @@read_only')" 01
ok_wait "$new semi-sync has $other as client" 10 status_is "$new" Rpl_semi_sync_master_clients 1

# the old primary comes back read-only and rejoins as a replica
db_start db1 --read-only=1 || exit 1
expect_eq "old primary restarts read-only" "$(db_val db1 'SELECT @@read_only')" 1
db_keep_read_only db1 1
# anything the old primary logged beyond what $new had is errant: semi-sync
# (AFTER_SYNC) promises it was never acknowledged; such a server is rebuilt
gold=$(db_val db1 'SELECT @@gtid_binlog_pos')
rebuilt=
if [ "$(gtid_seq "$gold")" -le "$(gtid_seq "$gnew")" ]; then
	pass "old primary ($gold) has no errant transactions ($new was at $gnew)"
else
	echo "# old primary at $gold, $new was at $gnew: errant, rebuilding it"
	errant=$(db_sql db1 "SELECT id FROM app.w_w" | sort | comm -13 "$T_DIR/writer-w.on-$new" - |
		sort - "$(db_writer_acked w)" | uniq -d | tr '\n' ' ')
	expect_eq "old primary's errant rows were never acknowledged" "$errant" ""
	db_rebuild db1 --read-only=1 || exit 1
	rebuilt=1
fi
fails "app cannot write on the fenced old primary" app "$P1" "INSERT INTO app.t (v) VALUES ('fenced')"
if [ -z "$rebuilt" ]; then
	ok "old primary repointed to $new" router "$P1" \
		"SET GLOBAL gtid_slave_pos=@@gtid_binlog_pos; $(db_change_master_sql "$pn"); START SLAVE"
else
	# a fresh datadir has no dbrouter user yet: root repoints it, and
	# the users arrive with $new's whole binlog
	ok "rebuilt old primary repointed to $new" db_sql db1 \
		"$(db_change_master_sql "$pn"); START SLAVE"
fi
ok_wait "old primary replicates from $new" 10 db_slave_running db1
ok "another write on $new" app "$pn" "INSERT INTO app.t (v) VALUES ('rejoined')"
g=$(db_gtid "$new")
ok "old primary reaches $g" db_wait_gtid db1 "$g"
ok "$other reaches $g" db_wait_gtid "$other" "$g"
expect_eq "rows on the old primary" "$(app "$P1" "SELECT GROUP_CONCAT(v ORDER BY id) FROM app.t")" \
	"one,two,semi,before,after,rejoined"
expect_eq "old primary has every acknowledged insert" "$(db_writer_missing db1 w | tr '\n' ' ')" ""
expect_eq "no replication errors on db1" "$(db_slave_field db1 Last_SQL_Errno)$(db_slave_field db1 Last_IO_Errno)" 00

db_stop_all
echo "# whole test: $(( $(now_ms) - t0 )) ms"
