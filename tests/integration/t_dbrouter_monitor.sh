#!/usr/bin/env bash
# dbrouter's monitor against a real MariaDB primary and replica (fresh
# datadirs, loopback): roles, read_only, replication threads, lag and GTID
# positions as the servers report them; a server killed is marked down
# after `fall` failed checks and up again after `rise`; a replica that
# stops replicating shows it; bad configs and a world-readable password
# file are refused; reload keeps the servers' state.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"

DBR=$BIN/dbrouter
SOCK=$T_DIR/dbrouter.sock
ctl() { "$BIN/dbctl" -s "$SOCK" "$@"; }
line() { ctl status | grep "^server $1: "; }
line_has() { line "$1" | grep -Eq "$2"; }

db_init db1 13306
db_init db2 13307
db_start db1
db_start db2
db_users db1
db_replica_of db2 db1

printf 'routerpass\n' > "$T_DIR/monitor.pw"
chmod 600 "$T_DIR/monitor.pw"
cat > "$T_DIR/dbrouter.conf" <<CONF
control "$SOCK"
server "db1" "127.0.0.1:$(db_port db1)"
server "db2" "unix:$(db_sock db2)"
monitor-user "dbrouter"
monitor-password-file "$T_DIR/monitor.pw"
check-interval 300ms
check-timeout 250ms
fall 2
rise 2
CONF

# ---- configuration errors ----
expect_eq "dbrouter -n accepts the config" "$("$DBR" -n -f "$T_DIR/dbrouter.conf" 2>&1)" "configuration OK"
cp "$T_DIR/monitor.pw" "$T_DIR/open.pw"; chmod 644 "$T_DIR/open.pw"
sed "s|monitor.pw|open.pw|" "$T_DIR/dbrouter.conf" > "$T_DIR/bad1.conf"
expect_match "a password file others may read is refused" \
	"$("$DBR" -n -f "$T_DIR/bad1.conf" 2>&1)" "bad1.conf:5: monitor-password-file: .*open.pw: readable by others"
printf 'server "a" "127.0.0.1:1"\nserver "a" "127.0.0.1:2"\nmonitor-user "x"\n' > "$T_DIR/bad2.conf"
expect_match "a server named twice is refused with its line" \
	"$("$DBR" -n -f "$T_DIR/bad2.conf" 2>&1)" 'bad2.conf:2: server a: defined twice'
printf 'server "a" "nowhere:x"\nmonitor-user "x"\n' > "$T_DIR/bad3.conf"
expect_match "a bad address is refused" "$("$DBR" -n -f "$T_DIR/bad3.conf" 2>&1)" 'bad3.conf:1: server a: '
printf 'server "a" "127.0.0.1:1"\n' > "$T_DIR/bad4.conf"
expect_match "no monitor-user is refused" "$("$DBR" -n -f "$T_DIR/bad4.conf" 2>&1)" 'monitor-user: needed'

start_daemon dbrouter "$DBR" -f "$T_DIR/dbrouter.conf" || exit 1

# ---- what the servers say ----
ok_wait "db1 is up as the primary" 10 line_has db1 ' up primary, read_only 0, replicating no'
ok_wait "db2 (over its unix socket) is up as a replica, both threads running" 10 \
	line_has db2 ' up replica, read_only 1, replicating yes, io yes, sql yes, lag 0s'
db_sql db1 "CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1)"
gtid=$(db_gtid db1)
ok_wait "the primary's GTID position is reported ($gtid)" 5 line_has db1 "gtid_current $gtid,"
ok_wait "and the replica's once it applied it" 10 line_has db2 "gtid_slave $gtid,"
ctl metrics > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
expect_match "server_up per server" "$(cat "$T_DIR/metrics.txt")" 'stackd_dbrouter_server_up\{server="db2"\} 1'
expect_match "read_only per server" "$(cat "$T_DIR/metrics.txt")" 'stackd_dbrouter_server_read_only\{server="db2"\} 1'
expect_match "lag per server" "$(cat "$T_DIR/metrics.txt")" 'stackd_dbrouter_server_replication_lag_seconds\{server="db2"\} 0'

# ---- a replica that stops replicating ----
db_sql db2 "STOP SLAVE SQL_THREAD"
ok_wait "db2's stopped SQL thread shows" 5 line_has db2 'io yes, sql no, lag -,'
db_sql db2 "START SLAVE SQL_THREAD"
ok_wait "and its restart" 5 line_has db2 'io yes, sql yes, lag 0s'

# ---- a server killed, then back ----
db_kill db1
ok_wait "db1 killed: marked down after fall (2) failed checks" 5 line_has db1 ' down '
expect_match "the reason is in status" "$(line db1)" 'check: connect: |check: variables: |check: result: '
ok_wait "db2 sees its primary gone (io thread retrying)" 10 line_has db2 'replicating yes, io no'
ok "dbrouter logged it" grep -q 'server db1 is down' "$(daemon_log dbrouter)"
db_start db1
ok_wait "db1 back: up after rise (2) good checks" 10 line_has db1 ' up primary'

# ---- reload ----
checks_before=$(line db2 | sed 's/.*checks \([0-9]*\),.*/\1/')
sed -i 's/^check-interval .*/check-interval 200ms/; s/^check-timeout .*/check-timeout 150ms/' "$T_DIR/dbrouter.conf"
ok "reload" ctl reload
expect_match "db2 keeps its state and counters across it" "$(line db2)" " up replica,.* checks ([0-9]+),"
ok "(checks went on from $checks_before)" test "$(line db2 | sed 's/.*checks \([0-9]*\),.*/\1/')" -ge "$checks_before"
printf 'server "x" "127.0.0.1:1"\n' >> "$T_DIR/dbrouter.conf"
sed -i 's/^monitor-user .*//' "$T_DIR/dbrouter.conf"
fails "a bad reload is refused" ctl reload
expect_match "saying why" "$(ctl reload 2>&1)" "monitor-user: needed"
expect_eq "and the servers are unchanged" "$(ctl status | grep -c '^server ')" 2

stop_daemon dbrouter
db_stop_all
