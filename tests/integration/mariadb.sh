# MariaDB harness for integration tests, sourced after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/mariadb.sh"
#
# What it takes from lib.sh: T_DIR (a private temp dir), T_DAEMONS, pass,
# fail and wait_for (poll.sh). bench/dbrouter.sh gives it its own T_DIR,
# T_DAEMONS, pass and fail and sources poll.sh, without the rest of lib.sh.
#
# Real mariadbd servers (Debian 12: MariaDB 10.11) from fresh datadirs under
# $T_DIR/db/NAME, on 127.0.0.1 ports, as whatever user the test runs as (root
# inside `unshare -rn`, or an ordinary user). Each server is registered in
# lib.sh's T_DAEMONS as "db-NAME" with its pid in $T_DIR/db-NAME.pid, so
# t_finish SIGKILLs whatever the test left running; nothing is ever killed by
# name. Readiness is polled (mariadb-admin ping), never slept for.
#
# API (host is always 127.0.0.1; root has no password and uses the socket):
#   db_init NAME PORT        fresh datadir + my.cnf (server_id 1, 2, ... in
#                            call order; DB_SEMISYNC=1 turns semi-sync on)
#   (db_init, db_start, db_stop, db_kill, db_rebuild, db_writer_start/stop
#   track processes in shell variables and children: call them directly,
#   not inside ok/fails, which run their command in a $(...) subshell)
#   db_start NAME [ARGS..]   start mariadbd (ARGS: extra options, e.g.
#                            --read-only=1) and wait until it answers a ping;
#                            DB_EXEC, when set, prefixes the command (e.g.
#                            "nsenter --net=/proc/PID/ns/net", which execs:
#                            the pid stays mariadbd's) to run it in another
#                            network namespace; the socket is still here
#   db_stop NAME             clean shutdown (SIGTERM), reaped
#   db_kill NAME             SIGKILL, reaped: a crash for failover drills
#   db_stop_all              db_stop every running server, pass/fail each
#   db_running NAME          true while the server's process lives
#   db_port NAME / db_sock NAME / db_log NAME / db_pid NAME
#   db_sql NAME SQL          run SQL as root over the socket; tab-separated
#                            rows, no header (-N -B)
#   db_query PORT USER PASS SQL   same over TCP as USER (the app's view)
#   db_val NAME SQL          first column of the first row
#   db_users NAME            app/apppass, dbrouter/routerpass (monitor +
#                            failover), repl/replpass, databases app, sbtest;
#                            run it on the primary: it replicates
#   db_replica_of R P        make R replicate from P (GTID, slave_pos),
#                            read_only=1, wait for both threads running
#   db_slave_field NAME F    a field of SHOW SLAVE STATUS (Slave_IO_Running..)
#   db_read_only NAME 0|1    SET GLOBAL read_only and keep it across restarts
#   db_keep_read_only NAME 0|1  only the "across restarts" part (role.cnf)
#   db_change_master_sql PORT   the CHANGE MASTER TO ... for a primary on PORT
#   db_router_conf NAME..    dbrouter.conf lines: a server per NAME (TCP),
#                            the monitor as db_users' dbrouter (its password
#                            file made in $T_DIR), checks every 300ms, fall
#                            2, rise 2
#   db_slave_running NAME    both replication threads say Yes
#   db_semisync NAME         enable semi-sync master+slave at run time
#   db_gtid NAME             @@gtid_current_pos
#   db_wait_gtid NAME GTID [SECS]  MASTER_GTID_WAIT on a replica (default 10 s)
#   db_counter NAME VAR      a SHOW GLOBAL STATUS value (Com_select, ...)
#   db_user_counter NAME USER COL  information_schema.USER_STATISTICS column
#                            (SELECT_COMMANDS, UPDATE_COMMANDS, ...) for USER
#   db_relay_applied NAME    the SQL thread has applied all the IO thread read
#   db_rebuild NAME [ARGS..] stop, replace the datadir by a fresh one, start
#                            (with a new server_id)
#   db_writer_start TAG PORT one row per INSERT (ids 1, 2, ...) into
#                            app.w_TAG as app, in the background; ids whose
#                            INSERT was acknowledged go to db_writer_acked
#   db_writer_stop TAG       finish the current INSERT and stop
#   db_writer_acked TAG      file of acknowledged ids (one a line)
#   db_writer_errors TAG     file of "id message" for each failed INSERT
#   db_writer_missing NAME TAG  acknowledged ids absent on NAME (none: empty)
#   db_sysbench_prepare PORT [ARGS..]   sysbench oltp tables in sbtest as app
#   db_sysbench_run HOST PORT TEST THREADS SECS [ARGS..]   run sysbench; prints
#                            "qps=.. tps=.. p95_ms=.. errors=.. reconnects=.."
#   db_router_failover_conf FILE SOCK NAME.. [-- LINE..]   a dbrouter.conf
#                            with failover and semi-sync over servers NAME..
#                            (see the function); each LINE is appended
#
# Pitfalls met while writing this (dbrouter automates the same sequence):
# - Users. mariadb-install-db by default gives root unix_socket auth, which
#   only works when the OS user is called root: use
#   --auth-root-authentication-method=normal (root@localhost, no password).
#   10.11's install-db creates no anonymous ''@localhost user (older ones
#   did, and it wins over 'app'@'%' for localhost logins), and it has no
#   --skip-auth-anonymous-user: unknown options go on to mariadbd, which
#   aborts. mariadbd refuses to run as root unless told user=root, but
#   install-db --user=X also chowns /usr/lib/mysql/plugin/auth_pam_tool_dir
#   to X (harmless failure inside unshare -rn, a real change as host root):
#   give user= in a defaults file instead, and --user=$(id -un) to mariadbd.
# - Privileges in 10.11: SHOW SLAVE STATUS needs SLAVE MONITOR (REPLICATION
#   CLIENT, now an alias of BINLOG MONITOR, is no longer enough); SUPER no
#   longer implies READ_ONLY ADMIN, so SET GLOBAL read_only needs READ_ONLY
#   ADMIN; STOP/START/RESET SLAVE, CHANGE MASTER and SET GLOBAL gtid_slave_pos
#   need REPLICATION SLAVE ADMIN; RESET SLAVE ALL needs RELOAD too ("you
#   need (at least one of) the RELOAD privilege(s)"); SET GLOBAL
#   rpl_semi_sync_master_enabled needs REPLICATION MASTER ADMIN (the slave
#   side is REPLICATION SLAVE ADMIN's). The failover drill in t_db_harness runs as
#   the dbrouter user over TCP to prove the grant list in db_users suffices.
# - read_only does not stop users with READ_ONLY ADMIN (root, the dbrouter
#   user) nor the replication SQL thread: only app users are fenced. And a
#   SET GLOBAL read_only=1 on a server still taking writes waits for table
#   locks and pending commits (it takes the global read lock): fence with a
#   timeout (lock_wait_timeout), or kill the app connections first.
# - SET GLOBAL read_only is not persistent: a replica restarted (or an old
#   primary coming back) is writable unless my.cnf says otherwise; db_start
#   ARGS (--read-only=1) or db_read_only (role.cnf) keep it.
# - gtid_slave_pos vs gtid_current_pos: a replica created from a fresh
#   datadir starts with an empty gtid_slave_pos and, with
#   MASTER_USE_GTID=slave_pos, fetches the primary's whole binlog, users
#   included: create users on the primary only, after the replicas are
#   configured or before, never on each server. An old primary that rejoins
#   has its own transactions in gtid_binlog_pos but an EMPTY gtid_slave_pos:
#   MASTER_USE_GTID=slave_pos would make it re-apply everything from the
#   start (duplicate-key / "user exists" errors). Either
#   SET GLOBAL gtid_slave_pos=@@gtid_binlog_pos first (what the drill does),
#   or use MASTER_USE_GTID=current_pos for that one CHANGE MASTER.
# - MASTER_GTID_WAIT compares against gtid_slave_pos, so it only works on a
#   server that received the GTIDs by replication: on their origin it times
#   out (-1) even though gtid_current_pos has them.
# - Errant transactions: any write made locally on a replica (even an admin
#   CREATE USER as root, who ignores read_only) gets the replica's server_id
#   and a sequence number in domain 0; with gtid_strict_mode the next
#   replicated event in that domain then fails ("out-of-order sequence
#   number") or, after a promotion, the others fail with error 1236. Admin
#   writes on replicas need SET sql_log_bin=0. A primary killed with
#   transactions its replicas never got has errant transactions too: it
#   cannot rejoin (error 1236 / strict mode) and must be rebuilt; semi-sync
#   with rpl_semi_sync_master_wait_point=AFTER_SYNC narrows this to
#   transactions that were never acknowledged to a client.
# - A rebuilt server (fresh datadir, refilled from the new primary's whole
#   binlog) needs a new server_id: a replica skips events carrying its own
#   server_id (replicate_same_server_id=0), so everything it wrote as the
#   old primary (users, tables) would be skipped, then error 1146. And it
#   has no users until they replicate: repoint it as root.
# - log_slave_updates is required: without it the promoted replica's binlog
#   lacks what it replicated and the other replica, repointed with
#   MASTER_USE_GTID=slave_pos, gets error 1236 ("Could not find GTID state").
# - Choose the new primary by gtid_current_pos sequence number (per domain);
#   compare after the IO threads have given up or the SQL threads drained
#   (Relay log fully applied: db_wait_gtid / Slave_SQL_Running_State), else a
#   replica with more in its relay log looks behind.
# - Timing: after the primary dies the replicas' IO threads keep retrying
#   (MASTER_CONNECT_RETRY, 1 s here; the default is 60 s, too slow for a
#   drill); STOP SLAVE is instant. Semi-sync slave status only turns ON once
#   the IO thread reconnects: enabling rpl_semi_sync_slave_enabled needs
#   STOP SLAVE IO_THREAD; START SLAVE IO_THREAD. Rpl_semi_sync_master_clients
#   counts connected semi-sync replicas: poll it, it lags the START.
#   A primary with rpl_semi_sync_master_enabled=ON and no semi-sync replica
#   connected yet makes its first commit wait the whole
#   rpl_semi_sync_master_timeout (measured: 3.0 s for 3000 ms) before it
#   falls back to async (Rpl_semi_sync_master_status OFF, no_tx +1): enable
#   it (db_semisync) once the replicas are connected, or keep DB_SEMISYNC=1
#   for tests that want exactly that.
# - Counters: the global Com_* counters count what the replication SQL
#   thread applies too, even ROW events (10.11: a replicated INSERT bumps
#   Com_insert on every replica), and every monitor query (SELECT @@read_only,
#   MASTER_GTID_WAIT, this harness's own db_user_counter) bumps Com_select
#   where it runs. To tell where the application's statements ran, use
#   db_user_counter (userstat=1: information_schema.USER_STATISTICS per user;
#   SELECT_COMMANDS, UPDATE_COMMANDS): the SQL thread is not 'app'.
# - Durability is relaxed for speed (innodb_flush_log_at_trx_commit=2,
#   sync_binlog=0): SIGKILL of the process loses nothing (the OS still has
#   the pages), only a power cut would.
# - Start-up: mariadb-install-db takes ~2 s of CPU; db_init runs it once per
#   test and copies the never-started template for the next servers (each
#   still a fresh, never-used datadir; server_id comes from my.cnf).

DB_ROOT=$T_DIR/db
DB_NEXT_ID=1
DB_SEMISYNC=${DB_SEMISYNC:-0}
# Native AIO (io_uring/libaio) takes per-user locked memory and system-wide
# AIO contexts: several test files running at once, each with servers,
# exhaust them and a bootstrap fails. Tests do without; bench/ turns it on.
DB_NATIVE_AIO=${DB_NATIVE_AIO:-0}
DB_SEMISYNC_TIMEOUT=${DB_SEMISYNC_TIMEOUT:-5000}
DB_SB_TABLES=${DB_SB_TABLES:-2}
DB_SB_SIZE=${DB_SB_SIZE:-1000}
mkdir -p "$DB_ROOT"
# (A SIGTERM from run.sh's timeout is lib.sh's: it fails the test and kills
# the servers through t_finish.)

# The directory of server NAME.
db_dir() { echo "$DB_ROOT/$1"; }
# TCP port of server NAME.
db_port() { cat "$DB_ROOT/$1/port"; }
# Unix socket of server NAME.
db_sock() { echo "$DB_ROOT/$1/mysqld.sock"; }
# Error log of server NAME.
db_log() { echo "$DB_ROOT/$1/error.log"; }
# Pid of server NAME (empty when it is not running).
db_pid() { cat "$T_DIR/db-$1.pid" 2>/dev/null; }

# Run SQL as root over server NAME's socket: rows tab-separated, no header.
db_sql() {
	mariadb --no-defaults -S "$(db_sock "$1")" -uroot -N -B -e "$2"
}

# Run SQL over TCP on 127.0.0.1:PORT as USER/PASS (as the application would).
db_query() {
	mariadb --no-defaults -h 127.0.0.1 -P "$1" -u "$2" -p"$3" -N -B -e "$4"
}

# First column of the first row of SQL's result on server NAME.
db_val() { db_sql "$1" "$2" | head -n 1 | cut -f 1; }

# Create server NAME's fresh datadir and my.cnf listening on 127.0.0.1:PORT.
db_init() {
	local name=$1 port=$2 dir id semi=OFF
	dir=$(db_dir "$name")
	id=$DB_NEXT_ID
	DB_NEXT_ID=$((DB_NEXT_ID + 1))
	[ "$DB_SEMISYNC" = 1 ] && semi=ON
	mkdir -p "$dir"
	echo "$port" > "$dir/port"
	: > "$dir/role.cnf"
	cat > "$dir/my.cnf" <<EOF
[mariadbd]
datadir = $dir/data
socket = $dir/mysqld.sock
pid-file = $dir/mariadbd.pid
log-error = $dir/error.log
port = $port
bind-address = 127.0.0.1
skip-name-resolve
server-id = $id
log-bin = binlog
relay-log = relay
binlog_format = ROW
log_slave_updates = ON
gtid_strict_mode = ON
master_retry_count = 100000
slave_net_timeout = 5
userstat = ON
# semi-sync is built into 10.11 (no plugin to load)
rpl_semi_sync_master_enabled = $semi
rpl_semi_sync_slave_enabled = $semi
rpl_semi_sync_master_timeout = $DB_SEMISYNC_TIMEOUT
rpl_semi_sync_master_wait_point = AFTER_SYNC
# small and quick: shared CI cores, throwaway data
innodb_buffer_pool_size = 16M
innodb_log_file_size = 16M
innodb_log_buffer_size = 1M
innodb_flush_log_at_trx_commit = 2
sync_binlog = 0
innodb_doublewrite = 0
innodb_use_native_aio = $DB_NATIVE_AIO
key_buffer_size = 1M
max_connections = 200
thread_cache_size = 16
table_open_cache = 200
performance_schema = OFF
!include $dir/role.cnf
EOF
	if [ ! -d "$DB_ROOT/.template" ]; then
		# user= in a defaults file, not --user: see the pitfalls above
		printf '[mariadbd]\nuser = %s\ninnodb_use_native_aio = %s\n' \
		    "$(id -un)" "$DB_NATIVE_AIO" > "$DB_ROOT/install.cnf"
		if ! mariadb-install-db --defaults-file="$DB_ROOT/install.cnf" \
		    --datadir="$DB_ROOT/.template" \
		    --auth-root-authentication-method=normal \
		    --skip-test-db --skip-name-resolve \
		    >"$DB_ROOT/install.log" 2>&1; then
			rm -rf "$DB_ROOT/.template"
			fail "db $name: mariadb-install-db" "$(tail -n 10 "$DB_ROOT/install.log")"
			return 1
		fi
	fi
	cp -a "$DB_ROOT/.template" "$dir/data"
}

# True while process PID exists and is not a zombie (an unreaped child).
_db_alive() {
	local _pid _comm st
	read -r _pid _comm st _ < "/proc/$1/stat" 2>/dev/null || return 1
	[ "$st" != Z ]
}

# True while server NAME's process lives.
db_running() {
	local pid
	pid=$(db_pid "$1")
	[ -n "$pid" ] && _db_alive "$pid"
}

# Start server NAME (extra mariadbd options in ARGS) and wait until it pings.
db_start() {
	local name=$1 dir pid deadline
	shift
	dir=$(db_dir "$name")
	rm -f "$dir/mysqld.sock"
	# shellcheck disable=SC2086
	${DB_EXEC:-} mariadbd --defaults-file="$dir/my.cnf" --user="$(id -un)" "$@" \
		>>"$dir/stdout.log" 2>&1 &
	pid=$!
	echo "$pid" > "$T_DIR/db-$name.pid"
	case " $T_DAEMONS " in *" db-$name "*) ;; *) T_DAEMONS="db-$name $T_DAEMONS" ;; esac
	deadline=$(( $(date +%s) + 60 ))
	# poll the ping; stop at once if mariadbd died instead
	while _db_alive "$pid"; do
		if mariadb-admin --no-defaults -S "$dir/mysqld.sock" -uroot \
		    --connect-timeout=1 ping >/dev/null 2>&1; then
			return 0
		fi
		[ "$(date +%s)" -ge "$deadline" ] && break
		sleep 0.05
	done
	fail "db $name starts" "$(tail -n 10 "$dir/error.log" 2>/dev/null)"
	return 1
}

# Send signal SIG to server NAME and reap it; status is mariadbd's.
_db_signal() {
	local name=$1 sig=$2 pid rc
	pid=$(db_pid "$name")
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	if [ "$rc" -eq 127 ]; then
		# not our child (started from a subshell): poll until gone
		wait_for 60 _db_gone "$pid"
		rc=$?
	fi
	rm -f "$T_DIR/db-$name.pid"
	return "$rc"
}

# True once process PID no longer exists.
_db_gone() { ! _db_alive "$1"; }

# Stop server NAME cleanly (SIGTERM) and reap it; 0 when it exited 0.
db_stop() { _db_signal "$1" TERM; }

# Crash server NAME (SIGKILL) and reap it.
db_kill() { _db_signal "$1" KILL; [ -z "$(db_pid "$1")" ]; }

# Stop every server still running, cleanly; one pass/fail line each.
db_stop_all() {
	local n name
	for n in $T_DAEMONS; do
		case $n in db-*) ;; *) continue ;; esac
		name=${n#db-}
		[ -n "$(db_pid "$name")" ] || continue
		if db_stop "$name"; then pass "db $name stops cleanly"; else
			fail "db $name stops cleanly" "$(tail -n 5 "$(db_log "$name")")"; fi
	done
}

# Create the application, router and replication users on server NAME.
db_users() {
	db_sql "$1" "
CREATE DATABASE IF NOT EXISTS app;
CREATE DATABASE IF NOT EXISTS sbtest;
CREATE USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('apppass');
GRANT ALL ON app.* TO 'app'@'%';
GRANT ALL ON sbtest.* TO 'app'@'%';
CREATE USER 'dbrouter'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('routerpass');
GRANT PROCESS, RELOAD, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE ADMIN,
	READ_ONLY ADMIN, CONNECTION ADMIN, BINLOG ADMIN, REPLICATION MASTER ADMIN
	ON *.* TO 'dbrouter'@'%';
CREATE USER 'repl'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('replpass');
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';"
}

# dbrouter.conf lines for servers NAME.. and a quick monitor.
db_router_conf() {
	local s
	printf 'routerpass\n' > "$T_DIR/monitor.pw"
	chmod 600 "$T_DIR/monitor.pw"
	for s in "$@"; do
		echo "server \"$s\" \"127.0.0.1:$(db_port "$s")\""
	done
	printf 'monitor-user "dbrouter"\nmonitor-password-file "%s"\n' "$T_DIR/monitor.pw"
	printf 'check-interval 300ms\ncheck-timeout 250ms\nfall 2\nrise 2\n'
}

# SQL that points a server at the primary on 127.0.0.1:PORT by GTID.
db_change_master_sql() {
	echo "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$1,
	MASTER_USER='repl', MASTER_PASSWORD='replpass', MASTER_CONNECT_RETRY=1,
	MASTER_USE_GTID=slave_pos"
}

# One field (Slave_IO_Running, Last_IO_Error, ...) of SHOW SLAVE STATUS on NAME.
db_slave_field() {
	mariadb --no-defaults -S "$(db_sock "$1")" -uroot -E -e "SHOW SLAVE STATUS" |
		sed -n "s/^ *$2: //p"
}

# True when both replication threads of NAME run.
db_slave_running() {
	[ "$(db_slave_field "$1" Slave_IO_Running)" = Yes ] &&
		[ "$(db_slave_field "$1" Slave_SQL_Running)" = Yes ]
}

# Make REPLICA a read-only replica of PRIMARY and wait until it replicates.
db_replica_of() {
	local r=$1 p=$2
	db_read_only "$r" 1 || return 1
	db_sql "$r" "STOP SLAVE; $(db_change_master_sql "$(db_port "$p")"); START SLAVE" ||
		return 1
	if ! wait_for 20 db_slave_running "$r"; then
		echo "db $r: replication from $p not running:" \
			"$(db_slave_field "$r" Last_IO_Error) $(db_slave_field "$r" Last_SQL_Error)" >&2
		return 1
	fi
}

# SET GLOBAL read_only=V (0|1) on NAME and keep it in role.cnf for restarts.
db_read_only() {
	db_sql "$1" "SET GLOBAL read_only=$2" && db_keep_read_only "$1" "$2"
}

# Write read_only=V (0|1) into NAME's role.cnf, read at its next start.
db_keep_read_only() {
	if [ "$2" = 1 ]; then
		printf '[mariadbd]\nread_only = ON\n' > "$(db_dir "$1")/role.cnf"
	else
		: > "$(db_dir "$1")/role.cnf"
	fi
}

# Turn semi-sync on (master and slave side) on NAME at run time.
db_semisync() {
	db_sql "$1" "SET GLOBAL rpl_semi_sync_master_enabled=ON;
		SET GLOBAL rpl_semi_sync_slave_enabled=ON;
		SET GLOBAL rpl_semi_sync_master_timeout=$DB_SEMISYNC_TIMEOUT;
		SET GLOBAL rpl_semi_sync_master_wait_point=AFTER_SYNC" || return 1
	# the slave side only negotiates semi-sync when the IO thread connects
	if [ -n "$(db_slave_field "$1" Slave_IO_Running)" ]; then
		db_sql "$1" "STOP SLAVE IO_THREAD; START SLAVE IO_THREAD"
	fi
}

# True when replica NAME's SQL thread has applied all its IO thread read.
db_relay_applied() {
	local st
	st=$(mariadb --no-defaults -S "$(db_sock "$1")" -uroot -E -e "SHOW SLAVE STATUS") ||
		return 1
	[ "$(printf '%s\n' "$st" | sed -n 's/^ *Master_Log_File: //p')" = \
	  "$(printf '%s\n' "$st" | sed -n 's/^ *Relay_Master_Log_File: //p')" ] &&
	[ "$(printf '%s\n' "$st" | sed -n 's/^ *Read_Master_Log_Pos: //p')" = \
	  "$(printf '%s\n' "$st" | sed -n 's/^ *Exec_Master_Log_Pos: //p')" ]
}

# Replace NAME's datadir by a fresh one and start it (ARGS as db_start),
# under a new server_id: see the pitfalls.
db_rebuild() {
	local name=$1 dir
	shift
	dir=$(db_dir "$name")
	db_stop "$name"
	rm -rf "$dir/data"
	sed -i "s/^server-id = .*/server-id = $DB_NEXT_ID/" "$dir/my.cnf"
	DB_NEXT_ID=$((DB_NEXT_ID + 1))
	cp -a "$DB_ROOT/.template" "$dir/data" && db_start "$name" "$@"
}

# Background loop: INSERT ids 1, 2, ... into app.w_TAG on PORT, log the acked.
_db_writer() {
	local tag=$1 port=$2 i=0 w=$T_DIR/writer-$1 err
	while [ ! -e "$w.stop" ]; do
		i=$((i + 1))
		if err=$(mariadb --no-defaults -h 127.0.0.1 -P "$port" -u app -papppass \
		    --connect-timeout=2 -e "INSERT INTO app.w_$tag VALUES ($i)" 2>&1); then
			echo "$i" >> "$w.acked"
		else
			echo "$i" >> "$w.failed"
			echo "$i $(printf '%s' "$err" | grep -v '^-*$' | tr '\n' ' ')" >> "$w.errors"
		fi
	done
}

# Start writer TAG against 127.0.0.1:PORT (creates app.w_TAG).
db_writer_start() {
	local tag=$1 port=$2 w=$T_DIR/writer-$1
	db_query "$port" app apppass "CREATE TABLE IF NOT EXISTS app.w_$tag (id INT PRIMARY KEY)" ||
		return 1
	rm -f "$w.stop"
	: > "$w.acked"
	: > "$w.failed"
	: > "$w.errors"
	# no inherited stdout: a caller's $(...) would wait for the loop's end
	_db_writer "$tag" "$port" </dev/null >/dev/null 2>&1 &
	echo "$!" > "$w.pid"
	T_DAEMONS="writer-$tag $T_DAEMONS"
}

# Stop writer TAG after its current INSERT and reap it.
db_writer_stop() {
	local w=$T_DIR/writer-$1 pid
	pid=$(cat "$w.pid" 2>/dev/null) || return 0
	touch "$w.stop"
	wait "$pid" 2>/dev/null
	[ $? -eq 127 ] && wait_for 30 _db_gone "$pid"
	rm -f "$w.pid"
}

# File listing writer TAG's acknowledged ids.
db_writer_acked() { echo "$T_DIR/writer-$1.acked"; }

# File of "id message" lines, one per INSERT of writer TAG that failed.
db_writer_errors() { echo "$T_DIR/writer-$1.errors"; }

# Ids writer TAG got acknowledged that server NAME does not have.
db_writer_missing() {
	db_sql "$1" "SELECT id FROM app.w_$2" | sort > "$T_DIR/writer-$2.on-$1"
	sort "$(db_writer_acked "$2")" | comm -23 - "$T_DIR/writer-$2.on-$1"
}

# @@gtid_current_pos of NAME.
db_gtid() { db_val "$1" "SELECT @@GLOBAL.gtid_current_pos"; }

# Wait (up to SECS, default 10) until replica NAME has applied GTID.
db_wait_gtid() {
	local r
	r=$(db_val "$1" "SELECT MASTER_GTID_WAIT('$2', ${3:-10})") || return 1
	[ "$r" = 0 ]
}

# A SHOW GLOBAL STATUS value of NAME (Com_select, Com_insert, ...).
db_counter() {
	db_sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" | cut -f 2
}

# Column COL of information_schema.USER_STATISTICS for USER on NAME (0 if none).
db_user_counter() {
	local v
	v=$(db_val "$1" "SELECT $3 FROM information_schema.USER_STATISTICS WHERE USER='$2'")
	echo "${v:-0}"
}

# Common sysbench options: connection, app user, small sbtest tables.
_db_sb_opts() {
	echo "--mysql-host=$1 --mysql-port=$2 --mysql-user=app --mysql-password=apppass" \
		"--mysql-db=sbtest --tables=$DB_SB_TABLES --table-size=$DB_SB_SIZE"
}

# Create the sysbench tables through 127.0.0.1:PORT (extra sysbench ARGS).
db_sysbench_prepare() {
	local port=$1
	shift
	# shellcheck disable=SC2046
	sysbench oltp_read_write $(_db_sb_opts 127.0.0.1 "$port") "$@" prepare \
		>"$T_DIR/sysbench-prepare.log" 2>&1 ||
		{ tail -n 5 "$T_DIR/sysbench-prepare.log" >&2; return 1; }
}

# Run sysbench TEST for SECS with THREADS on HOST:PORT; prints its summary.
db_sysbench_run() {
	local host=$1 port=$2 test=$3 threads=$4 secs=$5 log
	shift 5
	log=$T_DIR/sysbench-$test-$port-$$-$RANDOM.log
	# shellcheck disable=SC2046
	if ! sysbench "$test" $(_db_sb_opts "$host" "$port") --threads="$threads" \
	    --time="$secs" --report-interval=0 --percentile=95 "$@" run >"$log" 2>&1; then
		tail -n 5 "$log" >&2
		return 1
	fi
	awk '
		/^ *queries:/ { q = $3; sub(/\(/, "", q) }
		/^ *transactions:/ { t = $3; sub(/\(/, "", t) }
		/^ *ignored errors:/ { e = $3 }
		/^ *reconnects:/ { r = $2 }
		/95th percentile:/ { p = $3 }
		END { printf "qps=%s tps=%s p95_ms=%s errors=%s reconnects=%s\n", q, t, p, e, r }
	' "$log"
}

# Write FILE, the dbrouter.conf of the failover tests: control socket SOCK,
# servers NAME.. on 127.0.0.1, checked every 300ms (fall 2, rise 2) as the
# router user of db_users, failover and semi-sync on with its replication
# user, failover-timeout 5s; then each LINE after "--", one statement a
# line. The password files it names, $T_DIR/monitor.pw and $T_DIR/repl.pw,
# are written mode 0600. (t_dbrouter_failover checks error line numbers in
# this text: add to the end, not in the middle.)
db_router_failover_conf() {
	local file=$1 sock=$2 n
	shift 2
	printf 'routerpass\n' > "$T_DIR/monitor.pw"
	printf 'replpass\n' > "$T_DIR/repl.pw"
	chmod 600 "$T_DIR/monitor.pw" "$T_DIR/repl.pw"
	{
		echo "control \"$sock\""
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			echo "server \"$1\" \"127.0.0.1:$(db_port "$1")\""
			shift
		done
		[ $# -gt 0 ] && shift
		cat <<CONF
monitor-user "dbrouter"
monitor-password-file "$T_DIR/monitor.pw"
check-interval 300ms
check-timeout 250ms
fall 2
rise 2
failover yes
semi-sync yes
replication-user "repl"
replication-password-file "$T_DIR/repl.pw"
failover-timeout 5s
CONF
		if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
	} > "$file"
}
