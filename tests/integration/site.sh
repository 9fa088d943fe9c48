# The www.foobar.com site on one machine, sourced after lib.sh and
# mariadb.sh by tests/integration/t_site.sh and etc/demo.sh (one setup for
# both).
#
# Network: a bridge "site0" in the namespace that sources this (the test's
# `unshare -rn` namespace: it plays the site's LAN switch and the
# collector's host, 10.0.0.1) and one network namespace per host, each held
# by a sleeping `unshare -n` child and entered with nsenter:
#
#   client 10.0.0.100   curl, the outside world
#   lb-01  10.0.0.10    lbd (www.foobar.com on :443, TLS), fwd (lb role),
#                       agentd
#   web-01 10.0.0.11    webd (:8443 TLS, static + php-fpm), php-fpm,
#                       dbrouter (failover no: it follows the writer),
#                       MariaDB primary on :3306, fwd (web+db), agentd
#   web-02 10.0.0.12    the same with the MariaDB replica and the dbrouter
#                       that has failover yes
#   (root ns) 10.0.0.1  receiver.py, the collector (agentd's output)
#
# Only one dbrouter may fail over: two would race to promote. web-02's has
# `failover yes` (it lives next to the replica and survives web-01's loss);
# web-01's has `failover no` and follows the writer from read_only.
#
# Every daemon runs inside its host's namespace through
# `nsenter --net=...`, which execs: the pid lib.sh records is the daemon's.
# Unix sockets (control, php-fpm, dbrouter's MySQL socket, mariadbd's) live
# in the shared file system under $SITE, so the ctl tools work from here.
#
#   site_setup      everything above; returns non-zero when a part fails
#   site_nsx HOST   the "nsenter --net=..." prefix for HOST
#   site_in HOST CMD...   run CMD in HOST's namespace
#   site_curl PATH [curl args]   from the client, https://www.foobar.com/PATH
#   lbctl/dbctl1/dbctl2/webctl1/webctl2/fwctl_h HOST/agentctl_h HOST
#   site_webd_start N   (re)start web-0N's webd
#
# Names of hosts in lib.sh's daemon list: lb, web1, web2 (web-01, web-02).

SITE=$T_DIR/site
SITE_RXPORT=${SITE_RXPORT:-18490}
declare -A SITE_NS SITE_ADDR
SITE_ADDR=([client]=10.0.0.100 [lb]=10.0.0.10 [web1]=10.0.0.11 [web2]=10.0.0.12)
SITE_URL=https://www.foobar.com/

site_nsx() { echo "nsenter --net=/proc/${SITE_NS[$1]}/ns/net"; }
# shellcheck disable=SC2046
site_in() { local h=$1; shift; $(site_nsx "$h") "$@"; }
site_curl() {
	local p=$1; shift
	site_in client curl -sS --max-time 10 --cacert "$CERTS/ca.crt" \
	    --resolve "www.foobar.com:443:${SITE_ADDR[lb]}" "$@" "$SITE_URL$p"
}
lbctl() { "$BIN/lbctl" -s "$SITE/lb/lbd.sock" "$@"; }
dbctl1() { "$BIN/dbctl" -s "$SITE/web1/dbrouter.sock" "$@"; }
dbctl2() { "$BIN/dbctl" -s "$SITE/web2/dbrouter.sock" "$@"; }
webctl1() { "$BIN/webctl" -s "$SITE/web1/webd.sock" "$@"; }
webctl2() { "$BIN/webctl" -s "$SITE/web2/webd.sock" "$@"; }
fwctl_h() { local h=$1; shift; "$BIN/fwctl" -s "$SITE/$h/fwd.sock" "$@"; }
agentctl_h() { local h=$1; shift; "$BIN/agentctl" -s "$SITE/$h/agentd.sock" "$@"; }

# One host: a namespace held by a sleeping child, a veth into the bridge.
site_host() {
	local h=$1 pid
	unshare -n sleep 1000000 &
	pid=$!
	T_DAEMONS="ns_$h $T_DAEMONS"
	echo "$pid" > "$T_DIR/ns_$h.pid"
	wait_for 5 test -e "/proc/$pid/ns/net" &&
	    wait_for 5 sh -c "[ \"\$(readlink /proc/$pid/ns/net)\" != \"\$(readlink /proc/$$/ns/net)\" ]" ||
	    return 1
	ip link add "b_$h" type veth peer name eth0 netns "$pid" || return 1
	ip link set "b_$h" master site0 up
	nsenter --net="/proc/$pid/ns/net" sh -c "ip link set lo up &&
	    ip addr add ${SITE_ADDR[$h]}/24 dev eth0 && ip link set eth0 up" ||
	    return 1
	SITE_NS[$h]=$pid
	mkdir -p "$SITE/$h"
}

site_network() {
	ip link add site0 type bridge || return 1
	ip addr add 10.0.0.1/24 dev site0
	ip link set site0 up
	local h
	for h in client lb web1 web2; do site_host "$h" || return 1; done
}

# MariaDB: primary in web-01, replica in web-02, both on :3306 of their host.
site_db() {
	local h
	for h in web1 web2; do
		db_init "$h" 3306 || return 1
		sed -i 's/^bind-address = .*/bind-address = 0.0.0.0/' "$(db_dir "$h")/my.cnf"
		DB_EXEC=$(site_nsx "$h") db_start "$h" || return 1
	done
	db_users web1 || return 1
	db_read_only web2 1 || return 1
	db_sql web2 "STOP SLAVE; CHANGE MASTER TO MASTER_HOST='${SITE_ADDR[web1]}',
	    MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='replpass',
	    MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos; START SLAVE" || return 1
	wait_for 20 db_slave_running web2 || {
		echo "web2 does not replicate: $(db_slave_field web2 Last_IO_Error)" >&2; return 1; }
	db_sql web1 "CREATE TABLE app.visits (id INT AUTO_INCREMENT PRIMARY KEY,
	    host VARCHAR(16) NOT NULL, token VARCHAR(64) NOT NULL)" || return 1
	printf 'routerpass\n' > "$SITE/monitor.pw"
	printf 'replpass\n' > "$SITE/repl.pw"
	echo "app $(db_val web1 "SELECT PASSWORD('apppass')")" > "$SITE/dbrouter.users"
	chmod 600 "$SITE/monitor.pw" "$SITE/repl.pw" "$SITE/dbrouter.users"
}

# dbrouter on web-0N: the application's MySQL socket $SITE/webN/mysql.sock.
site_dbrouter() {
	local h=$1 failover=$2 d=$SITE/$1
	{
		cat <<CONF
control "$d/dbrouter.sock"
listen "unix:$d/mysql.sock"
users-file "$SITE/dbrouter.users"
server "web-01" "${SITE_ADDR[web1]}:3306"
server "web-02" "${SITE_ADDR[web2]}:3306"
monitor-user "dbrouter"
monitor-password-file "$SITE/monitor.pw"
check-interval 300ms
check-timeout 250ms
fall 2
rise 2
max-lag 5s
writer-wait 10s
read-your-writes yes
CONF
		if [ "$failover" = yes ]; then
			cat <<CONF
failover yes
semi-sync yes
replication-user "repl"
replication-password-file "$SITE/repl.pw"
failover-timeout 5s
CONF
		fi
	} > "$d/dbrouter.conf"
	# shellcheck disable=SC2046
	start_daemon "dbrouter-$h" $(site_nsx "$h") "$BIN/dbrouter" -f "$d/dbrouter.conf"
}

# php-fpm + webd on web-0N.
site_web() {
	local h=$1 n=${1#web} d=$SITE/$1 fpm
	fpm=$(ls /usr/sbin/php-fpm* 2>/dev/null | head -n 1)
	mkdir -p "$d/www"
	echo "<h1>www.foobar.com</h1><p>static page from web-0$n</p>" > "$d/www/index.html"
	cat > "$d/www/visit.php" <<'PHP'
<?php
// Writes a row through dbrouter's Unix socket and reads it back.
header("Content-Type: text/plain");
$host = getenv("SITE_HOST");
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
try {
	$db = new mysqli("localhost", "app", "apppass", "app", 0, getenv("DB_SOCK"));
	$tok = $db->real_escape_string($_GET["t"] ?? "none");
	$db->query("INSERT INTO visits (host, token) VALUES ('$host', '$tok')");
	$id = $db->insert_id;
	$r = $db->query("SELECT id, host, token FROM visits WHERE id = $id")->fetch_row();
	if (!$r) { http_response_code(500); echo "row $id not read back\n"; exit; }
	echo "dynamic page from $host: row $r[0] written by $r[1] with token $r[2]\n";
} catch (Throwable $e) {
	http_response_code(503);
	echo "database error on $host: ", $e->getMessage(), "\n";
}
PHP
	cat > "$d/fpm.conf" <<CONF
[global]
error_log = $d/fpm-error.log
daemonize = no
[www]
listen = $d/fpm.sock
pm = static
pm.max_children = 2
clear_env = yes
env[SITE_HOST] = web-0$n
env[DB_SOCK] = $d/mysql.sock
CONF
	# shellcheck disable=SC2046
	start_peer "fpm-$h" "[ -S $d/fpm.sock ]" $(site_nsx "$h") "$fpm" -n -d extension=mysqlnd -d extension=mysqli -y "$d/fpm.conf" -F -R ||
		return 1
	cat > "$d/webd.conf" <<CONF
control "$d/webd.sock"
listen "${SITE_ADDR[$h]}:8443" tls {
	certificate "$CERTS/server.crt" "$CERTS/server.key"
}
root "$d/www"
index "index.html"
health "/healthz"
access-log "$d/access.log" combined
location "*.php" {
	fastcgi "unix:$d/fpm.sock"
}
CONF
	site_webd_start "$n"
}

site_webd_start() {
	local h=web$1
	# shellcheck disable=SC2046
	start_daemon "webd-$h" $(site_nsx "$h") "$BIN/webd" -f "$SITE/$h/webd.conf"
}

site_lb() {
	local d=$SITE/lb
	cat > "$d/lbd.conf" <<CONF
control "$d/lbd.sock"
access-log "$d/access.log"
frontend "www" {
	listen "${SITE_ADDR[lb]}:443" tls
	certificate "$CERTS/server.crt" "$CERTS/server.key"
	pool "web"
}
pool "web" {
	balance roundrobin
	server "web-01" "${SITE_ADDR[web1]}:8443"
	server "web-02" "${SITE_ADDR[web2]}:8443"
	tls {
		ca "$CERTS/ca.crt"
		name "localhost"
	}
	check http "/healthz"
	check-interval 500ms
	check-timeout 400ms
	fall 2
	rise 2
}
CONF
	# shellcheck disable=SC2046
	start_daemon lbd $(site_nsx lb) "$BIN/lbd" -f "$d/lbd.conf"
}

# fwd with the host's role policy (etc/fwd's shape, the site's addresses).
site_fwd() {
	local h=$1 d=$SITE/$1
	{
		echo "control \"$d/fwd.sock\""
		echo "state-file \"$d/fwd.bans\""
		case $h in
		lb) cat <<CONF
service https { tcp 443 }
allow https from any
log-drops "fwd lb drop: "
CONF
		;;
		web*) cat <<CONF
group lb { address ${SITE_ADDR[lb]} }
group web { address ${SITE_ADDR[web1]} ${SITE_ADDR[web2]} }
service web-tls { tcp 8443 }
service mysql { tcp 3306 }
allow web-tls from lb
allow mysql from web
log-drops "fwd web drop: "
CONF
		;;
		esac
	} > "$d/fwd.conf"
	# shellcheck disable=SC2046
	start_daemon "fwd-$h" $(site_nsx "$h") "$BIN/fwd" -f "$d/fwd.conf"
}

# The collector: receiver.py on 10.0.0.1 in this namespace, storing into DIR.
site_rx_start() {
	local name=$1 dir=$SITE/$1
	mkdir -p "$dir"
	rm -f "$dir/port"
	start_peer "$name" "[ -s $dir/port ]" python3 "$STACKD_SRC/tests/integration/receiver.py" \
	    serve --dir "$dir" --bind 10.0.0.1 --port "$SITE_RXPORT"
}

site_agentd() {
	local h=$1 d=$SITE/$1 name
	case $h in lb) name=lb-01 ;; *) name=web-0${h#web} ;; esac
	{
		cat <<CONF
control "$d/agentd.sock"
state-dir "$d/agentd-state"
host-name "$name"
interval 1s
log-poll-interval 100ms
daemon "fwd" "$d/fwd.sock"
CONF
		case $h in
		lb) cat <<CONF
daemon "lbd" "$d/lbd.sock"
log "lb-access" {
	path "$d/access.log"
	category "foobar/lb/access"
	start-at beginning
}
CONF
		;;
		web*) cat <<CONF
daemon "webd" "$d/webd.sock"
daemon "dbrouter" "$d/dbrouter.sock"
log "web-access" {
	path "$d/access.log"
	format combined
	category "foobar/web/access"
	start-at beginning
}
CONF
		;;
		esac
		cat <<CONF
output "collector" {
	url "http://10.0.0.1:$SITE_RXPORT/receiver/v1/http/TOKEN"
	category "foobar/metrics"
	name "agentd"
	fields "site=foobar,host=$name"
	flush-interval 200ms
	backoff-min 100ms
	backoff-max 1s
	timeout 3s
}
CONF
	} > "$d/agentd.conf"
	# shellcheck disable=SC2046
	start_daemon "agentd-$h" $(site_nsx "$h") "$BIN/agentd" -f "$d/agentd.conf"
}

site_setup() {
	mkdir -p "$SITE"
	site_network || { fail "site network"; return 1; }
	pass "site network: client, lb-01, web-01, web-02 on bridge site0"
	site_db || { fail "site databases"; return 1; }
	pass "MariaDB primary on web-01, replica on web-02"
	site_dbrouter web1 no || return 1
	site_dbrouter web2 yes || return 1
	site_web web1 || return 1
	site_web web2 || return 1
	site_lb || return 1
	local h
	for h in lb web1 web2; do site_fwd "$h" || return 1; done
	site_rx_start rx || return 1
	for h in lb web1 web2; do site_agentd "$h" || return 1; done
}

# php-fpm's master SIGKILLed (lib.sh's t_finish) would orphan its workers:
# stop the masters with SIGTERM first, which takes the workers with them.
site_fpm_stop() {
	local n
	for n in fpm-web1 fpm-web2; do
		[ -e "$T_DIR/$n.pid" ] && stop_peer "$n"
	done
}
trap 'site_fpm_stop; t_finish' EXIT
