#!/usr/bin/env bash
# dbrouter with TLS on both legs, against real MariaDB servers and the
# mariadb client: a listener that offers TLS (the client's SSLRequest starts
# it, the login goes on inside), one that requires it (a plain client is
# refused with an error), the backend leg to a server that serves TLS and
# whose app account says REQUIRE SSL (the server's own Ssl_cipher, read
# through the router, proves the leg is encrypted), a server whose
# certificate the CA did not sign (refused, with a log line), and configs
# that get TLS wrong (file:line). The PKI is tests/mkcerts.sh's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"

DBR=$BIN/dbrouter
SOCK=$T_DIR/dbrouter.sock
ctl() { "$BIN/dbctl" -s "$SOCK" "$@"; }

db_init db1 13416
db_init db2 13417
db_start db1 --ssl-cert="$CERTS/server.crt" --ssl-key="$CERTS/server.key" \
	--ssl-ca="$CERTS/ca.crt"
# db2 presents a certificate of another CA.
db_start db2 --ssl-cert="$CERTS/wrong.crt" --ssl-key="$CERTS/wrong.key"
db_users db1
db_users db2
db_sql db1 "ALTER USER 'app'@'%' REQUIRE SSL; CREATE TABLE app.t (v VARCHAR(16)); INSERT INTO app.t VALUES ('secret')"

printf 'routerpass\n' > "$T_DIR/monitor.pw"
chmod 600 "$T_DIR/monitor.pw"
echo "app $(db_val db1 "SELECT PASSWORD('apppass')")" > "$T_DIR/users"
chmod 600 "$T_DIR/users"
PORT=13419		# tls offered
RPORT=13420		# tls required
PPORT=13421		# plain
BPORT=13422		# the router to db2
cat > "$T_DIR/dbrouter.conf" <<CONF
control "$SOCK"
listen "127.0.0.1:$PORT" tls
listen "127.0.0.1:$RPORT" tls required
listen "127.0.0.1:$PPORT"
certificate "$CERTS/server.crt" "$CERTS/server.key"
users-file "$T_DIR/users"
server "db1" "127.0.0.1:$(db_port db1)" tls
backend-tls {
	ca "$CERTS/ca.crt"
	name "localhost"
}
monitor-user "dbrouter"
monitor-password-file "$T_DIR/monitor.pw"
check-interval 300ms
check-timeout 250ms
CONF

# ---- bad configuration ----
expect_eq "dbrouter -n accepts the TLS config" "$("$DBR" -n -f "$T_DIR/dbrouter.conf" 2>&1)" "configuration OK"
sed "s|\"$CERTS/server.key\"|\"$T_DIR/missing.key\"|" "$T_DIR/dbrouter.conf" > "$T_DIR/bad1.conf"
expect_match "a missing key file is refused with file:line" \
	"$("$DBR" -n -f "$T_DIR/bad1.conf" 2>&1)" "bad1.conf:5: certificate: .*missing.key"
grep -v '^certificate' "$T_DIR/dbrouter.conf" > "$T_DIR/bad2.conf"
expect_match "a tls listener without a certificate is refused with file:line" \
	"$("$DBR" -n -f "$T_DIR/bad2.conf" 2>&1)" "bad2.conf:2: listen 127.0.0.1:$PORT: tls needs a certificate"
sed '/^backend-tls/,/^}/d' "$T_DIR/dbrouter.conf" > "$T_DIR/bad3.conf"
expect_match "a tls server without backend-tls is refused with file:line" \
	"$("$DBR" -n -f "$T_DIR/bad3.conf" 2>&1)" "bad3.conf:7: server db1: tls needs a backend-tls block"
sed 's|^\tca .*|\tverify on|' "$T_DIR/dbrouter.conf" > "$T_DIR/bad4.conf"
expect_match "backend-tls verifying without a ca is refused" \
	"$("$DBR" -n -f "$T_DIR/bad4.conf" 2>&1)" "bad4.conf:8: backend-tls: verification needs a ca"
sed "s|^listen \"127.0.0.1:$PPORT\"|listen \"127.0.0.1:$PPORT\" tsl|" "$T_DIR/dbrouter.conf" > "$T_DIR/bad5.conf"
expect_match "a listen option other than tls is refused" \
	"$("$DBR" -n -f "$T_DIR/bad5.conf" 2>&1)" "bad5.conf:4: listen: expected 'tls'"

start_daemon dbrouter "$DBR" -f "$T_DIR/dbrouter.conf" || exit 1
ok_wait "db1 is the writer" 10 eval 'ctl status | grep -q "^writer: db1,"'

M=(mariadb --no-defaults -h 127.0.0.1 -u app -papppass -N -B app)
TLS=(--ssl --ssl-ca="$CERTS/ca.crt" --ssl-verify-server-cert)

# ---- the client leg ----
expect_eq "a TLS client (CA checked) gets answers through the router" \
	"$("${M[@]}" -P $PORT "${TLS[@]}" -e 'SELECT v FROM t' 2>&1)" "secret"
expect_match "the client's own view: its connection to the router is TLS" \
	"$("${M[@]}" -P $PORT "${TLS[@]}" -e 'status' 2>&1)" "SSL:.*Cipher in use is"
expect_match "the router presents its certificate after -starttls mysql, and it verifies" \
	"$(openssl s_client -starttls mysql -connect 127.0.0.1:$PORT -CAfile "$CERTS/ca.crt" \
		-verify_return_error -verify_hostname localhost </dev/null 2>&1)" \
	"Verify return code: 0 \(ok\)"
expect_match "... it is server.crt's subject" \
	"$(openssl s_client -starttls mysql -connect 127.0.0.1:$PORT </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>&1)" "$(openssl x509 -in "$CERTS/server.crt" -noout -subject | sed 's/^subject=//')"
expect_eq "a plain client is still served where TLS is only offered" \
	"$("${M[@]}" -P $PORT --skip-ssl -e 'SELECT v FROM t' 2>&1)" "secret"
expect_eq "a TLS client is served where TLS is required" \
	"$("${M[@]}" -P $RPORT "${TLS[@]}" -e 'SELECT v FROM t' 2>&1)" "secret"
expect_match "a plain client is refused where TLS is required" \
	"$("${M[@]}" -P $RPORT --skip-ssl -e 'SELECT 1' 2>&1)" "ERROR 1045.*connections to this listener must use TLS"
expect_match "an SSLRequest on a plain listener is refused" \
	"$(openssl s_client -starttls mysql -connect 127.0.0.1:$PPORT </dev/null 2>&1)" \
	"(Didn't find STARTTLS|MySQL server does not support SSL|error|errno)"
expect_eq "a plain client on the plain listener" \
	"$("${M[@]}" -P $PPORT --skip-ssl -e 'SELECT v FROM t' 2>&1)" "secret"

# ---- the backend leg ----
cipher=$("${M[@]}" -P $PPORT --skip-ssl -e "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'" 2>&1)
expect_match "the server sees the router's connection encrypted (Ssl_cipher)" "$cipher" "^ECDHE-ECDSA-(AES|CHACHA)"
expect_eq "the server sees TLSv1.2" \
	"$("${M[@]}" -P $PORT "${TLS[@]}" -e "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'" 2>&1)" "TLSv1.2"
# Many short TLS sessions: the pool hands logged-in TLS connections on.
n=0
for i in 1 2 3 4 5 6 7 8; do
	out=$("${M[@]}" -P $PORT "${TLS[@]}" -e "SELECT $i" 2>&1); [ "$out" = "$i" ] && n=$((n + 1)) || echo "# session $i: $out"
done
expect_eq "eight TLS sessions in a row over pooled TLS backends" "$n" 8
big=$("${M[@]}" -P $PORT "${TLS[@]}" -e "SELECT LENGTH(REPEAT('x', 300000)), MD5(REPEAT('x', 300000))" 2>&1)
expect_eq "an answer bigger than a TLS record crosses both legs" \
	"$big" "300000	$(head -c 300000 /dev/zero | tr '\0' x | md5sum | cut -d' ' -f1)"
long=$("${M[@]}" -P $PORT "${TLS[@]}" -e "SELECT REPEAT('y', 100000) AS r" 2>&1 | wc -c)
expect_eq "a 100 kB value comes back whole" "$long" 100001

# ---- reload ----
# The plain listener now requires TLS: the flag may change, the address not.
sed -i "s|^listen \"127.0.0.1:$PPORT\"\$|listen \"127.0.0.1:$PPORT\" tls required|" "$T_DIR/dbrouter.conf"
ok "reload with new TLS settings" ctl reload
expect_match "the formerly plain listener now refuses plain clients" \
	"$("${M[@]}" -P $PPORT --skip-ssl -e 'SELECT 1' 2>&1)" "ERROR 1045.*must use TLS"
expect_eq "... and serves TLS ones, over TLS backends" \
	"$("${M[@]}" -P $PPORT "${TLS[@]}" -e 'SELECT v FROM t' 2>&1)" "secret"

# ---- a backend whose certificate the CA did not sign ----
sed -e "s|^control .*|control \"$T_DIR/bad.sock\"|" \
	-e "/^listen/d" -e "/^certificate/d" \
	-e "s|^server .*|server \"db2\" \"127.0.0.1:$(db_port db2)\" tls|" \
	"$T_DIR/dbrouter.conf" > "$T_DIR/dbrouter-bad.conf"
echo "listen \"127.0.0.1:$BPORT\"" >> "$T_DIR/dbrouter-bad.conf"
start_daemon dbrouter-bad "$DBR" -f "$T_DIR/dbrouter-bad.conf" || exit 1
ok_wait "db2 is the second router's writer" 10 eval '"$BIN/dbctl" -s "$T_DIR/bad.sock" status | grep -q "^writer: db2,"'
expect_match "a client through it gets error 9001 saying why" \
	"$("${M[@]}" -P $BPORT --skip-ssl -e 'SELECT 1' 2>&1)" "ERROR 9001 .*dbrouter: .*TLS"
ok_wait "the router logs why: the certificate does not verify" 5 \
	grep -q "server db2: backend connection for app: TLS: .*certificate verify failed" "$T_DIR/dbrouter-bad.log"
stop_daemon dbrouter-bad

# ---- a backend that does not offer TLS at all ----
db_stop db2
db_start db2		# no ssl_cert: no CLIENT_SSL in its greeting
start_daemon dbrouter-bad2 "$DBR" -f "$T_DIR/dbrouter-bad.conf" || exit 1
ok_wait "db2 is the writer again" 10 eval '"$BIN/dbctl" -s "$T_DIR/bad.sock" status | grep -q "^writer: db2,"'
expect_match "a client gets an error when the server cannot do TLS" \
	"$("${M[@]}" -P $BPORT --skip-ssl -e 'SELECT 1' 2>&1)" "ERROR"
ok_wait "the router logs that the server does not offer TLS" 5 \
	grep -q "server db2: backend connection for app: tls is configured but the server does not offer TLS" "$T_DIR/dbrouter-bad2.log"
stop_daemon dbrouter-bad2

stop_daemon dbrouter
db_stop_all
