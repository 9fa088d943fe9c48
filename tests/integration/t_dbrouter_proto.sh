#!/usr/bin/env bash
# dbrouter's protocol corners against a real MariaDB primary and replica:
# commands and results over 16 MiB (split into frames both ways), LOAD DATA
# LOCAL INFILE, multiple result sets (CALL), COM_CHANGE_USER and
# COM_RESET_CONNECTION (from a raw client, as connectors send them), and
# a pipelined client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"

DBR=$BIN/dbrouter
SOCK=$T_DIR/dbrouter.sock
ctl() { "$BIN/dbctl" -s "$SOCK" "$@"; }

db_init db1 13416
db_init db2 13417
db_start db1 --max-allowed-packet=64M
db_start db2 --max-allowed-packet=64M
db_users db1
db_replica_of db2 db1
db_sql db1 "CREATE USER 'app2'@'%' IDENTIFIED BY 'app2pass'; GRANT ALL ON app.* TO 'app2'@'%';
	CREATE TABLE app.l (a INT, b VARCHAR(20))"
db_wait_gtid db2 "$(db_gtid db1)"

printf 'routerpass\n' > "$T_DIR/monitor.pw"
chmod 600 "$T_DIR/monitor.pw"
{
	echo "app $(db_val db1 "SELECT PASSWORD('apppass')")"
	echo "app2 $(db_val db1 "SELECT PASSWORD('app2pass')")"
} > "$T_DIR/users"
chmod 600 "$T_DIR/users"
PORT=13418
cat > "$T_DIR/dbrouter.conf" <<CONF
control "$SOCK"
listen "127.0.0.1:$PORT"
users-file "$T_DIR/users"
max-packet 64M
server "db1" "127.0.0.1:$(db_port db1)"
server "db2" "127.0.0.1:$(db_port db2)"
monitor-user "dbrouter"
monitor-password-file "$T_DIR/monitor.pw"
check-interval 300ms
check-timeout 250ms
CONF
start_daemon dbrouter "$DBR" -f "$T_DIR/dbrouter.conf" || exit 1
ok_wait "db1 is the writer and db2 an up replica" 10 \
	eval 'ctl status | grep -q "^writer: db1," && ctl status | grep -q "^server db2: .* up replica"'
q() { mariadb --max-allowed-packet=64M -h 127.0.0.1 -P $PORT -u app -papppass -N -B app "$@"; }

# ---- over 16 MiB ----
expect_eq "a 17 MB result row crosses the router whole" \
	"$(q -e "SELECT REPEAT('a', 17000000)" | tr -d '\n' | wc -c)" 17000000
python3 -c "print(\"SELECT LENGTH('\" + 'b' * 17000000 + \"')\")" > "$T_DIR/big.sql"
expect_eq "a 17 MB query crosses it too (sent as two frames)" "$(q < "$T_DIR/big.sql")" 17000000
printf 'SELECT 1;\n' > "$T_DIR/small.sql"
expect_eq "the router goes on after them" "$(q < "$T_DIR/small.sql")" 1
sed "s/max-packet 64M/max-packet 1M/" "$T_DIR/dbrouter.conf" > "$T_DIR/small.conf"
cp "$T_DIR/dbrouter.conf" "$T_DIR/big.conf"; cp "$T_DIR/small.conf" "$T_DIR/dbrouter.conf"
ok "reload with max-packet 1M" ctl reload
expect_match "a query over max-packet is refused with 1153" "$(q < "$T_DIR/big.sql" 2>&1)" "1153|Lost connection|gone away"
cp "$T_DIR/big.conf" "$T_DIR/dbrouter.conf"; ctl reload >/dev/null

# ---- LOAD DATA LOCAL ----
seq 1 5000 | awk '{ print $1 "\trow" $1 }' > "$T_DIR/rows.tsv"
q --local-infile=1 -e "LOAD DATA LOCAL INFILE '$T_DIR/rows.tsv' INTO TABLE l" 2>&1
expect_eq "LOAD DATA LOCAL INFILE loads 5000 rows through the router" "$(db_val db1 'SELECT COUNT(*) FROM app.l')" 5000
expect_eq "and the session goes on" "$(q -e 'SELECT 7')" 7

# ---- several result sets ----
q --delimiter='//' -e "CREATE PROCEDURE two() BEGIN SELECT 1 AS one; SELECT 2 AS two; END"
expect_eq "a procedure made through the router exists on the primary" \
	"$(db_val db1 "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_NAME = 'two'")" 1
expect_eq "CALL with two result sets relays both" "$(q -e 'CALL two()' | tr '\n' ' ')" "1 2 "
expect_eq "so does a multi-statement query" "$(q -e 'SELECT 3; SELECT 4' | tr '\n' ' ')" "3 4 "

# ---- COM_CHANGE_USER, COM_RESET_CONNECTION, pipelining ----
cat > "$T_DIR/raw.py" <<'PY'
import hashlib, socket, sys
port = int(sys.argv[1])
def frame(seq, payload):
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload
class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
    def read(self):
        while len(self.buf) < 4 or len(self.buf) < 4 + int.from_bytes(self.buf[:3], "little"):
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        n = int.from_bytes(self.buf[:3], "little")
        p, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return p
def lenenc(p, i):
    c = p[i]
    if c < 0xfb: return c, i + 1
    if c == 0xfb: return None, i + 1
    w = {0xfc: 2, 0xfd: 3, 0xfe: 8}[c]
    return int.from_bytes(p[i + 1:i + 1 + w], "little"), i + 1 + w
def auth(scramble, pw):
    if not pw: return b""
    s1 = hashlib.sha1(pw.encode()).digest()
    m = hashlib.sha1(scramble + hashlib.sha1(s1).digest()).digest()
    return bytes(a ^ b for a, b in zip(s1, m))
CAPS = (1 << 9) | (1 << 15) | (1 << 19) | 1 | (1 << 3) | (1 << 16) | (1 << 17)
def login(c, user, pw, db):
    hs = c.read()
    rest = hs[hs.index(b"\0", 1) + 1 + 4:]
    c.scramble = rest[:8] + rest[8 + 1 + 2 + 1 + 2 + 2 + 1 + 10:][:12]
    a = auth(c.scramble, pw)
    p = CAPS.to_bytes(4, "little") + (1 << 24).to_bytes(4, "little") + bytes([45]) + \
        bytes(23) + user.encode() + b"\0" + bytes([len(a)]) + a + db.encode() + b"\0" + \
        b"mysql_native_password\0"
    c.s.sendall(frame(1, p))
    r = c.read()
    assert r[0] == 0, r
def result(c):
    """Rows of a text result (no DEPRECATE_EOF), or 'ok'/'err ...'."""
    p = c.read()
    if p[0] == 0: return "ok"
    if p[0] == 0xff: return "err %d" % int.from_bytes(p[1:3], "little")
    n, _ = lenenc(p, 0)
    for _ in range(n): c.read()
    c.read()                            # EOF after the definitions
    rows = []
    while True:
        p = c.read()
        if p[0] == 0xfe and len(p) < 9: break
        i, row = 0, []
        while i < len(p):
            v, i = lenenc(p, i)
            if v is None: row.append("NULL")
            else: row.append(p[i:i + v].decode()); i += v
        rows.append("\t".join(row))
    return "|".join(rows)
def query(c, sql):
    c.s.sendall(frame(0, b"\x03" + sql.encode()))
    return result(c)
c = Conn(); login(c, "app", "apppass", "app")
print("start", query(c, "SELECT CURRENT_USER(), DATABASE()"))
query(c, "SET @x = 5")
print("var", query(c, "SELECT @x"))
c.s.sendall(frame(0, b"\x1f"))                       # COM_RESET_CONNECTION
print("reset", result(c))
print("after-reset", query(c, "SELECT @x, DATABASE()"))
query(c, "SET @y = 6")
a = auth(c.scramble, "app2pass")
c.s.sendall(frame(0, b"\x11" + b"app2\0" + bytes([len(a)]) + a + b"app\0" +
                  (45).to_bytes(2, "little") + b"mysql_native_password\0"))
print("change-user", result(c))
print("as-app2", query(c, "SELECT CURRENT_USER(), @y"))
a = auth(c.scramble, "wrong")
c.s.sendall(frame(0, b"\x11" + b"app\0" + bytes([len(a)]) + a + b"app\0"))
print("bad-change-user", result(c))
try:
    print("after-bad", query(c, "SELECT 1"))
except (EOFError, OSError):
    print("after-bad closed")
# Pipelining: three queries in one write, three answers in order.
c = Conn(); login(c, "app", "apppass", "app")
c.s.sendall(frame(0, b"\x03SELECT 11") + frame(0, b"\x03SELECT 12") + frame(0, b"\x03SELECT 13"))
print("pipelined", result(c), result(c), result(c))
PY
python3 "$T_DIR/raw.py" $PORT > "$T_DIR/raw.out" 2>&1
raw() { grep "^$1 " "$T_DIR/raw.out"; }
expect_eq "a raw client logs in with a database" "$(raw start)" "start app@%	app"
expect_eq "user variables work" "$(raw var)" "var 5"
expect_eq "COM_RESET_CONNECTION answers OK" "$(raw reset)" "reset ok"
expect_eq "it forgets variables and keeps the database" "$(raw after-reset)" "after-reset NULL	app"
expect_eq "COM_CHANGE_USER to another account answers OK" "$(raw change-user)" "change-user ok"
expect_eq "the session is now app2's, without the old variables" "$(raw as-app2)" "as-app2 app2@%	NULL"
expect_eq "COM_CHANGE_USER with a wrong password is refused" "$(raw bad-change-user)" "bad-change-user err 1045"
expect_eq "and closes the connection" "$(raw after-bad)" "after-bad closed"
expect_eq "pipelined queries are answered in order" "$(raw pipelined)" "pipelined 11 12 13"
ok "dbrouter logged no warning about bad answers" eval '! grep -q "bad answer\|bytes after" "$(daemon_log dbrouter)"'

stop_daemon dbrouter
db_stop_all
t_finish
