#!/usr/bin/env bash
# The whole www.foobar.com site end to end (tests/integration/site.sh builds
# it: client, lb-01, web-01, web-02 namespaces on a bridge): client ->
# https://www.foobar.com -> lbd -> webd (static, and PHP through php-fpm)
# -> dbrouter -> MariaDB and back; then the drills, each followed by "the
# site keeps answering": the firewall drops direct access to the web and
# database ports, the collector stopped and started, web-01's webd killed,
# the database primary killed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"
. "$(dirname "$0")/site.sh"

code() { site_curl "$1" -o /dev/null -w '%{http_code}'; }
# N requests for PATH all answered 200.
all_ok() {
	local i c
	for i in $(seq "$2"); do
		c=$(code "$1") || return 1
		[ "$c" = 200 ] || { echo "request $i: $c"; return 1; }
	done
}
writer_of() { "$1" status | sed -n 's/^writer: \([^,]*\),.*/\1/p'; }
writer_is() { [ "$(writer_of "$1")" = "$2" ]; }
lb_server() { lbctl status | grep "^server web/$1:"; }
lb_state_is() { lb_server "$1" | grep -q " $2 "; }
hits() { grep -c "$2" "$SITE/$1/access.log" 2>/dev/null || echo 0; }
visit_ok() {	# token: the dynamic page answers and shows the row read back
	local out
	out=$(site_curl "visit.php?t=$1") || return 1
	printf '%s' "$out" | grep -Eq "^dynamic page from web-0[12]: row [0-9]+ written by web-0[12] with token $1\$"
}
rx_has() {	# dir text: some 2xx request body stored by the collector has it
	python3 "$STACKD_SRC/tests/integration/receiver.py" lines "$SITE/$1" 2>/dev/null | grep -q -- "$2"
}

site_setup || exit 1

# ---- the flow of the design ----
ok_wait "lbd marks web-01 up" 10 lb_state_is web-01 up
ok_wait "lbd marks web-02 up" 10 lb_state_is web-02 up
ok_wait "web-01's dbrouter sees web-01 as the writer" 10 writer_is dbctl1 web-01
ok_wait "web-02's dbrouter sees web-01 as the writer" 10 writer_is dbctl2 web-01
out=$(site_curl "")
expect_match "client -> https://www.foobar.com/: the static page" "$out" "static page from web-0[12]"
hdr=$(site_curl "" -o /dev/null -D - -w 'verify=%{ssl_verify_result}')
expect_match "over TLS, the certificate verified for www.foobar.com" "$hdr" "verify=0"
out=$(site_curl "visit.php?t=first")
expect_match "the dynamic page writes a row through dbrouter and reads it back" \
	"$out" "^dynamic page from web-0[12]: row [0-9]+ written by web-0[12] with token first$"
ok "the row is on the primary" test "$(db_val web1 "SELECT COUNT(*) FROM app.visits WHERE token='first'")" = 1
ok_wait "and replicated to web-02" 10 eval '[ "$(db_val web2 "SELECT COUNT(*) FROM app.visits WHERE token=\"first\"")" = 1 ]'
ok "20 static and 20 dynamic requests all answered" eval 'all_ok "" 20 && all_ok "visit.php?t=spread" 20'
s1=$(hits web1 'GET /visit.php?t=spread') s2=$(hits web2 'GET /visit.php?t=spread')
echo "# dynamic requests: web-01 $s1, web-02 $s2"
ok "requests spread over both web hosts (web-01 $s1, web-02 $s2)" test "$s1" -gt 0 -a "$s2" -gt 0
expect_eq "both hosts wrote their rows" \
	"$(db_sql web1 "SELECT host, COUNT(*) FROM app.visits WHERE token='spread' GROUP BY host ORDER BY host" | cut -f1 | tr '\n' ' ')" "web-01 web-02 "
