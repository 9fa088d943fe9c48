#!/usr/bin/env bash
# dbrouter between the mariadb client / sysbench and a real MariaDB primary
# with two replicas (fresh datadirs, loopback): login against the users
# file, reads on the replicas and writes on the primary (each server's
# own per-user counters say where statements ran), transactions and
# session state kept on the primary, prepared statements across backends,
# sysbench through the router with prepared statements on and off, and
# bad input — configs, logins, malformed packets — that closes only the
# client that sent it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"

DBR=$BIN/dbrouter
SOCK=$T_DIR/dbrouter.sock
ctl() { "$BIN/dbctl" -s "$SOCK" "$@"; }
line_has() { ctl status | grep "^server $1: " | grep -Eq "$2"; }

db_init db1 13406
db_init db2 13407
db_init db3 13408
db_start db1
db_start db2
db_start db3
db_users db1
db_replica_of db2 db1
db_replica_of db3 db1
db_sql db1 "CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64)); INSERT INTO app.t (v) VALUES ('one')"
db_wait_gtid db2 "$(db_gtid db1)" && db_wait_gtid db3 "$(db_gtid db1)"

printf 'routerpass\n' > "$T_DIR/monitor.pw"
chmod 600 "$T_DIR/monitor.pw"
{
	echo "# the application's accounts"
	echo "app $(db_val db1 "SELECT PASSWORD('apppass')")"
} > "$T_DIR/users"
chmod 600 "$T_DIR/users"
PORT=13409
cat > "$T_DIR/dbrouter.conf" <<CONF
control "$SOCK"
listen "127.0.0.1:$PORT"
listen "unix:$T_DIR/mysql.sock"
users-file "$T_DIR/users"
server "db1" "127.0.0.1:$(db_port db1)"
server "db2" "127.0.0.1:$(db_port db2)"
server "db3" "unix:$(db_sock db3)"
monitor-user "dbrouter"
monitor-password-file "$T_DIR/monitor.pw"
check-interval 300ms
check-timeout 250ms
fall 2
rise 1
max-lag 5s
writer-wait 3s
CONF

# ---- bad configuration ----
expect_eq "dbrouter -n accepts the config" "$("$DBR" -n -f "$T_DIR/dbrouter.conf" 2>&1)" "configuration OK"
cp "$T_DIR/users" "$T_DIR/users.open"; chmod 644 "$T_DIR/users.open"
sed "s|$T_DIR/users\"|$T_DIR/users.open\"|" "$T_DIR/dbrouter.conf" > "$T_DIR/bad1.conf"
expect_match "a users file others may read is refused" \
	"$("$DBR" -n -f "$T_DIR/bad1.conf" 2>&1)" "bad1.conf:4: users-file: .*users.open: readable by others"
printf 'app *123\n' > "$T_DIR/users.bad"; chmod 600 "$T_DIR/users.bad"
sed "s|$T_DIR/users\"|$T_DIR/users.bad\"|" "$T_DIR/dbrouter.conf" > "$T_DIR/bad2.conf"
expect_match "a bad hash is refused with its line" \
	"$("$DBR" -n -f "$T_DIR/bad2.conf" 2>&1)" "users.bad:1: the hash is not"
grep -v users-file "$T_DIR/dbrouter.conf" > "$T_DIR/bad3.conf"
expect_match "listen without users-file is refused" \
	"$("$DBR" -n -f "$T_DIR/bad3.conf" 2>&1)" "users-file: needed"

start_daemon dbrouter "$DBR" -f "$T_DIR/dbrouter.conf" || exit 1
ok_wait "db1 is the writer" 10 eval 'ctl status | grep -q "^writer: db1,"'
ok_wait "db2 and db3 are up replicas" 10 eval 'line_has db2 " up replica" && line_has db3 " up replica"'

q() { mariadb --comments -h 127.0.0.1 -P $PORT -u app -papppass -N -B app -e "$1"; }
qs() { mariadb -S "$T_DIR/mysql.sock" -u app -papppass -N -B app -e "$1"; }
sel() { db_user_counter "$1" app SELECT_COMMANDS; }
upd() { db_user_counter "$1" app UPDATE_COMMANDS; }

# ---- login ----
expect_eq "a query through the router answers" "$(q 'SELECT v FROM t WHERE id = 1')" "one"
expect_eq "and over the unix socket" "$(qs 'SELECT COUNT(*) FROM t')" "1"
expect_match "a wrong password is refused as MariaDB does" \
	"$(mariadb -h 127.0.0.1 -P $PORT -u app -pwrong -e 'SELECT 1' 2>&1)" \
	"ERROR 1045 \(28000\).*Access denied for user 'app'@'127.0.0.1' \(using password: YES\)"
expect_match "an unknown user is refused" \
	"$(mariadb -h 127.0.0.1 -P $PORT -u nobody -e 'SELECT 1' 2>&1)" \
	"ERROR 1045.*'nobody'@'127.0.0.1' \(using password: NO\)"

# ---- where statements run ----
s1=$(sel db1); s2=$(sel db2); s3=$(sel db3)
for i in 1 2 3 4 5 6; do q "SELECT COUNT(*) FROM t" >/dev/null; done
r2=$(( $(sel db2) - s2 )); r3=$(( $(sel db3) - s3 )); r1=$(( $(sel db1) - s1 ))
expect_eq "6 reads ran on the replicas ($r2 on db2, $r3 on db3)" "$((r2 + r3))" 6
expect_eq "and none on the primary" "$r1" 0
ok "reads are spread over both replicas" test "$r2" -gt 0 -a "$r3" -gt 0
u1=$(upd db1); u2=$(upd db2)
q "INSERT INTO t (v) VALUES ('two')"
expect_eq "a write ran on the primary" "$(( $(upd db1) - u1 ))" 1
expect_eq "not on a replica" "$(( $(upd db2) - u2 ))" 0
s1=$(sel db1)
expect_eq "SELECT ... FOR UPDATE reads on the primary" \
	"$(q "SELECT v FROM t WHERE id = 2 FOR UPDATE")" "two"
expect_eq "(the primary counted it)" "$(( $(sel db1) - s1 ))" 1
s1=$(sel db1); s2=$(sel db2); s3=$(sel db3)
out=$(q "BEGIN; INSERT INTO t (v) VALUES ('three'); SELECT COUNT(*) FROM t; SELECT v FROM t WHERE id = 3; COMMIT")
expect_eq "a transaction sees its own write" "$(echo $out)" "3 three"
expect_eq "its reads ran on the primary" "$(( $(sel db1) - s1 ))" 2
expect_eq "none on the replicas" "$(( $(sel db2) - s2 + $(sel db3) - s3 ))" 0
s1=$(sel db1)
out=$(q "SET autocommit=0; SELECT COUNT(*) FROM t; ROLLBACK; SET autocommit=1")
expect_eq "autocommit=0 makes reads a transaction on the primary" "$(( $(sel db1) - s1 ))" 1
s1=$(sel db1)
expect_eq "a route=primary hint sends a read to the primary" \
	"$(q "SELECT COUNT(*) FROM t /* route=primary */")" 3
expect_eq "(counted there)" "$(( $(sel db1) - s1 ))" 1

# ---- session state ----
out=$(q "SET @x = 42; SET SESSION sql_mode = 'ANSI_QUOTES'; SELECT @x, @@sql_mode")
expect_eq "user and session variables reach the replica that reads them" "$out" "$(printf '42\tANSI_QUOTES')"
out=$(q "USE sbtest; SELECT DATABASE(); INSERT INTO app.t (v) VALUES ('x'); SELECT DATABASE(); USE app; SELECT COUNT(*) FROM t")
expect_eq "USE follows the session to every backend" "$(echo $out)" "sbtest sbtest 4"
out=$(q "CREATE TEMPORARY TABLE tmp (a INT); INSERT INTO tmp VALUES (7); SELECT a FROM tmp")
expect_eq "a temporary table pins the session to the primary" "$out" 7
out=$(q "INSERT INTO t (v) VALUES ('five'); SELECT LAST_INSERT_ID()")
expect_eq "LAST_INSERT_ID() is read where the insert ran" "$out" 5

# ---- drain and maint ----
expect_eq "dbctl server drain answers" "$(ctl server drain db2)" "server db2: drain"
s2=$(sel db2); s3=$(sel db3)
for i in 1 2 3 4; do q "SELECT 1 FROM t LIMIT 1" >/dev/null; done
expect_eq "a drained replica gets no reads" "$(( $(sel db2) - s2 ))" 0
expect_eq "the other replica gets them" "$(( $(sel db3) - s3 ))" 4
ctl server maint db3 >/dev/null
s1=$(sel db1)
q "SELECT 1 FROM t LIMIT 1" >/dev/null
expect_eq "with no replica in service, reads go to the primary" "$(( $(sel db1) - s1 ))" 1
expect_match "status shows the admin state" "$(ctl status | grep '^server db3')" "admin maint"
fails "an unknown server is refused" ctl server drain nosuch
expect_match "with a clear error" "$(ctl server drain nosuch 2>&1)" "no such server"
fails "an unknown state is refused" ctl server sleep db2
ctl server ready db2 >/dev/null; ctl server ready db3 >/dev/null
s2=$(sel db2); s3=$(sel db3)
for i in 1 2 3 4; do q "SELECT 1 FROM t LIMIT 1" >/dev/null; done
expect_eq "ready puts them back" "$(( $(sel db2) - s2 + $(sel db3) - s3 ))" 4

# ---- read-your-writes ----
# The replicas apply 2 s late (MASTER_DELAY), so a read right after a
# write does not see it there.
for r in db2 db3; do db_sql $r "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=2; START SLAVE"; done
expect_eq "without read-your-writes a read after a write misses it on a delayed replica" \
	"$(q "INSERT INTO t (v) VALUES ('ryw1'); SELECT COUNT(*) FROM t WHERE v = 'ryw1'")" 0
reload_with() {
	cp "$T_DIR/dbrouter.conf" "$T_DIR/dbrouter.conf.base"
	printf '%s\n' "$@" >> "$T_DIR/dbrouter.conf"
	ctl reload >/dev/null
	local rv=$?
	cp "$T_DIR/dbrouter.conf.base" "$T_DIR/dbrouter.conf"
	return $rv
}
ryw_count() { ctl metrics | awk -v r="result=\"$1\"" 'index($0, "read_your_writes_total{" r "}") { print $2 }'; }
ok "reload with read-your-writes and a 300ms timeout" reload_with "read-your-writes yes" "read-your-writes-timeout 300ms"
expect_eq "with it, the read sees the write" \
	"$(q "INSERT INTO t (v) VALUES ('ryw2'); SELECT COUNT(*) FROM t WHERE v = 'ryw2'")" 1
expect_eq "(the replica had not caught up: the read went to the primary)" "$(ryw_count primary)" 1
ok "reload with a 5s timeout" reload_with "read-your-writes yes" "read-your-writes-timeout 5s"
s2=$(sel db2); s3=$(sel db3)
expect_eq "a read waits for the replica to apply the write" \
	"$(q "INSERT INTO t (v) VALUES ('ryw3'); SELECT COUNT(*) FROM t WHERE v = 'ryw3'")" 1
expect_eq "and runs there" "$(ryw_count replica)" 1
ok "(the replica counted the wait and the read)" test $(( $(sel db2) - s2 + $(sel db3) - s3 )) -ge 2
for r in db2 db3; do db_sql $r "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE"; done
ok "reload back to the plain config" ctl reload

# ---- prepared statements ----
s2=$(sel db2); s3=$(sel db3); s1=$(sel db1)
out=$(q "PREPARE p FROM 'SELECT v FROM t WHERE id = ?'; SET @i = 2; EXECUTE p USING @i")
expect_eq "SQL PREPARE/EXECUTE works (pinned to the primary)" "$out" "two"
DB_SB_TABLES=2 DB_SB_SIZE=500
ok "sysbench prepares its tables through the router" db_sysbench_prepare $PORT
for mode in auto disable; do
	s1=$(sel db1); s2=$(sel db2); s3=$(sel db3); u1=$(upd db1)
	res=$(db_sysbench_run 127.0.0.1 $PORT oltp_read_only 4 3 --db-ps-mode=$mode --skip_trx=on)
	expect_match "sysbench oltp_read_only through the router, ps-mode=$mode: $res" "$res" "errors=0 reconnects=0"
	rr=$(( $(sel db2) - s2 + $(sel db3) - s3 )); rp=$(( $(sel db1) - s1 ))
	ok "its reads ran on the replicas ($rr there, $rp on the primary)" test "$rr" -gt 100 -a "$rp" -lt 5
	s1=$(sel db1); s2=$(sel db2); s3=$(sel db3); u1=$(upd db1)
	res=$(db_sysbench_run 127.0.0.1 $PORT oltp_read_write 4 3 --db-ps-mode=$mode)
	# Deadlocks between sysbench's own threads are "ignored errors"
	# there as they are direct; a lost connection is a reconnect.
	expect_match "sysbench oltp_read_write, ps-mode=$mode: $res" "$res" "reconnects=0"
	ok "its transactions stayed on the primary ($(( $(sel db1) - s1 )) reads there)" \
		test $(( $(sel db2) - s2 + $(sel db3) - s3 )) -eq 0
	ok "its writes ran on the primary" test $(( $(upd db1) - u1 )) -gt 100
done

# ---- malformed input ----
# A raw client (python): logs in with mysql_native_password, then sends
# what it is told to; each case on its own connection, next to a session
# that must not notice.
cat > "$T_DIR/raw.py" <<'PY'
import hashlib, socket, sys
port, case = int(sys.argv[1]), sys.argv[2]
def frame(seq, payload):
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload
def recv(s, n):
    try:
        return s.recv(n)
    except ConnectionResetError:    # closed with our bytes unread: RST
        return b""
def read(s):
    hdr = b""
    while len(hdr) < 4:
        d = recv(s, 4 - len(hdr))
        if not d:
            return None
        hdr += d
    n, body = int.from_bytes(hdr[:3], "little"), b""
    while len(body) < n:
        d = recv(s, n - len(body))
        if not d:
            return None
        body += d
    return body
def login(s):
    hs = read(s)
    rest = hs[1 + hs.index(b"\0", 1) + 4:]
    scramble = rest[:8] + rest[8 + 1 + 2 + 1 + 2 + 2 + 1 + 10:][:12]
    s1 = hashlib.sha1(b"apppass").digest()
    mask = hashlib.sha1(scramble + hashlib.sha1(s1).digest()).digest()
    auth = bytes(a ^ b for a, b in zip(s1, mask))
    caps = (1 << 9) | (1 << 15) | (1 << 19) | (1 << 0) | (1 << 3)
    p = caps.to_bytes(4, "little") + (1 << 24).to_bytes(4, "little") + \
        bytes([45]) + bytes(23) + b"app\0" + bytes([20]) + auth + \
        b"app\0mysql_native_password\0"
    s.sendall(frame(1, p))
    return read(s)
def answer(s):
    try:
        d = read(s)
    except socket.timeout:
        return "timeout"
    if d is None:
        return "closed"
    if d[0] == 0xff:
        return "err %d %s" % (int.from_bytes(d[1:3], "little"), d[9:].decode())
    return "answered %02x" % d[0]
s = socket.create_connection(("127.0.0.1", port), timeout=3)
cases = {
    "huge-login": None, "short-login": None,
    "unknown-command": frame(0, b"\xee"),
    "bad-stmt-id": frame(0, b"\x17\x63\x00\x00\x00\x00\x01\x00\x00\x00"),
    "short-execute": frame(0, b"\x17\x01"),
    "empty-command": frame(0, b""),
    "bad-seq": frame(7, b"\x03SELECT 1"),
}
if case == "huge-login":
    read(s); s.sendall(b"\xff\xff\xff\x01" + b"x" * 64)
elif case == "short-login":
    read(s); s.sendall(frame(1, b"\x00" * 5))
else:
    ok = login(s)
    if ok is None or ok[0] != 0:
        print("login failed", ok); sys.exit(1)
    s.sendall(cases[case])
first = answer(s)
# After an error the session must go on (or be closed, for framing errors).
if first.startswith("err") and case not in ("huge-login", "short-login"):
    try:
        s.sendall(frame(0, b"\x03SELECT 1"))
        nxt = read(s)
    except OSError:
        nxt = None
    first += " then " + ("closed" if nxt is None else "answered")
print(case, first)
PY
raw() { python3 "$T_DIR/raw.py" $PORT "$1"; }
exec 7> >(mariadb -n -h 127.0.0.1 -P $PORT -u app -papppass -N -B app >"$T_DIR/held.out" 2>&1)
printf 'SELECT 1;\n' >&7
ok_wait "a held session answers" 5 grep -q '^1$' "$T_DIR/held.out"
expect_match "a login packet announced as 16 MiB is refused at once" "$(raw huge-login)" "huge-login (err 1153|closed)"
expect_match "a truncated login is refused" "$(raw short-login)" "short-login err 1043 Bad handshake"
expect_match "an unknown command is an error and the session goes on" "$(raw unknown-command)" "err 1047 .* then answered"
expect_match "an unknown statement id is an error and the session goes on" "$(raw bad-stmt-id)" "err 1243 .* then answered"
expect_match "a truncated COM_STMT_EXECUTE is an error" "$(raw short-execute)" "err 1835 .* then answered"
expect_match "an empty command packet closes that client" "$(raw empty-command)" "empty-command (closed|err 1047.* then closed)"
expect_match "a wrong sequence id closes that client" "$(raw bad-seq)" "bad-seq closed"
printf 'SELECT 2;\n' >&7
ok_wait "the held session still answers" 5 grep -q '^2$' "$T_DIR/held.out"
exec 7>&-
ok "dbrouter still runs" kill -0 "$(daemon_pid dbrouter)"
expect_match "status shows pool use and qps" "$(ctl status | grep '^server db1')" "backends [0-9]+ busy [0-9]+ idle of 200, qps"
expect_match "metrics count queries by server and route" "$(ctl metrics)" 'stackd_dbrouter_queries_total\{server="db2",route="replica"\} [1-9]'

stop_daemon dbrouter
db_stop_all
t_finish
