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
#                       dbrouter, MariaDB primary on :3306, fwd (web+db),
#                       agentd
#   web-02 10.0.0.12    the same with the MariaDB replica
#   (root ns) 10.0.0.1  receiver.py, the collector (agentd's output), the
#                       ops host of site.conf: HTTPS on :8443
#
# The daemons run the shipped configuration of the site, etc/foobar (its
# site.conf, lb-01/ and web/), copied into $SITE/<host>/ by site_conf with
# only what one machine needs changed: paths under $SITE, no `user`
# (unprivileged, in a user namespace), shorter intervals. The certificates
# are etc/foobar/mkcerts.sh's (the site's internal CA) in $SITE/etc/tls.
#
# Both dbrouters have the shipped `failover yes` with `failover-lock yes`:
# the one holding the lock on a majority of the running servers acts, the
# other follows the writer (dbrouter(8), Cooperative failover).
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
#   site_access_log HOST   lbd's or webd's access log on HOST
#
# Names of hosts in lib.sh's daemon list: lb, web1, web2 (web-01, web-02).

SITE=$T_DIR/site
SITE_ETC=$STACKD_SRC/etc/foobar
SITE_TLS=$SITE/etc/tls
declare -A SITE_NS SITE_ADDR
SITE_ADDR=([client]=10.0.0.100 [lb]=10.0.0.10 [web1]=10.0.0.11 [web2]=10.0.0.12)
SITE_URL=https://www.foobar.com/

site_nsx() { echo "nsenter --net=/proc/${SITE_NS[$1]}/ns/net"; }
# shellcheck disable=SC2046
site_in() { local h=$1; shift; $(site_nsx "$h") "$@"; }
site_curl() {
	local p=$1; shift
	site_in client curl -sS --max-time 10 --cacert "$SITE_TLS/ca.crt" \
	    --resolve "www.foobar.com:443:${SITE_ADDR[lb]}" "$@" "$SITE_URL$p"
}
site_access_log() { case $1 in lb) echo "$SITE/lb/lbd-access.log" ;; *) echo "$SITE/$1/webd-access.log" ;; esac; }
lbctl() { "$BIN/lbctl" -s "$SITE/lb/lbd.sock" "$@"; }
dbctl1() { "$BIN/dbctl" -s "$SITE/web1/dbrouter.sock" "$@"; }
dbctl2() { "$BIN/dbctl" -s "$SITE/web2/dbrouter.sock" "$@"; }
webctl1() { "$BIN/webctl" -s "$SITE/web1/webd.sock" "$@"; }
webctl2() { "$BIN/webctl" -s "$SITE/web2/webd.sock" "$@"; }
fwctl_h() { local h=$1; shift; "$BIN/fwctl" -s "$SITE/$h/fwd.sock" "$@"; }
agentctl_h() { local h=$1; shift; "$BIN/agentctl" -s "$SITE/$h/agentd.sock" "$@"; }

# ---- the shipped configuration, moved onto this machine ----
# Host -> its etc/foobar directory and its name.
declare -A SITE_DIR=([lb]=lb-01 [web1]=web [web2]=web)
declare -A SITE_NAME=([lb]=lb-01 [web1]=web-01 [web2]=web-02)
# What each daemon's file changes besides the paths (sed -E, @D@ the
# host's directory, @NAME@ its name): shorter intervals, and what a test
# needs that a deployment does not (agentd reads its logs from the start,
# flushes at once and names the host, as every host here has the same
# system name).
declare -A SITE_EDIT=(
	[lbd]='s/^(\tcheck-interval) .*/\1 500ms/; s/^(\tcheck-timeout) .*/\1 400ms/; s/^(\tfall) .*/\1 2/'
	[webd]='s|unix:/run/php/[^"]*|unix:@D@/fpm.sock|; s|/srv/www/foobar|@D@/www|; s|tls/web\.|tls/@NAME@.|g'
	[dbrouter]='s/^(check-interval) .*/\1 300ms/; s/^(check-timeout) .*/\1 250ms/; s/^(fall) .*/\1 2/'
	[fwd]='/^control-group /d'
	[agentd]='s/^interval .*/interval 1s\nlog-poll-interval 100ms\nhost-name "@NAME@"/; s/^(\tpath .*)/\1\n\tstart-at beginning/; s/^(\turl .*)/\1\n\tflush-interval 200ms\n\tbackoff-min 100ms\n\tbackoff-max 1s\n\ttimeout 3s/'
)
# The deployed paths -> $SITE: /etc/stackd (secrets, tls/) is shared,
# /run/stackd, /var/lib/stackd, /var/log/stackd are the host's directory
# (the ctl tools reach the sockets from here); no `user` to drop to.
site_paths() {
	local d=$1
	printf '%s\n' '/^user /d' "s|/etc/stackd/|$SITE/etc/|g" "s|/run/stackd/|$d/|g" \
	    "s|/var/lib/stackd/|$d/lib/|g" "s|/var/log/stackd/|$d/|g" "s|/var/log/syslog|$d/syslog|g"
}

# site_conf HOST DAEMON [SED]: $SITE/HOST/DAEMON.conf from etc/foobar's,
# with the changes above and SED (one host's own).
site_conf() {
	local h=$1 c=$2 d=$SITE/$1
	mkdir -p "$d/lib/$c"
	cp "$SITE_ETC/site.conf" "$d/site.conf"
	touch "$d/syslog"
	sed -E -e "$(site_paths "$d")" -e "${SITE_EDIT[$c]}" -e "${3:-}" \
	    -e "s|@D@|$d|g; s|@NAME@|${SITE_NAME[$h]}|g" \
	    "$SITE_ETC/${SITE_DIR[$h]}/$c.conf" > "$d/$c.conf"
}

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
	# dbrouter's secrets, where its shipped configuration reads them
	printf 'routerpass\n' > "$SITE/etc/dbrouter.monitor"
	printf 'replpass\n' > "$SITE/etc/dbrouter.repl"
	echo "app $(db_val web1 "SELECT PASSWORD('apppass')")" > "$SITE/etc/dbrouter.users"
	chmod 600 "$SITE"/etc/dbrouter.*
}

# dbrouter on web-0N: the application's MySQL socket $SITE/webN/mysql.sock.
site_dbrouter() {
	local h=$1
	site_conf "$h" dbrouter
	# shellcheck disable=SC2046
	start_daemon "dbrouter-$h" $(site_nsx "$h") "$BIN/dbrouter" -f "$SITE/$h/dbrouter.conf"
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
	site_conf "$h" webd
	site_webd_start "$n"
}

site_webd_start() {
	local h=web$1
	# shellcheck disable=SC2046
	start_daemon "webd-$h" $(site_nsx "$h") "$BIN/webd" -f "$SITE/$h/webd.conf"
}

site_lb() {
	site_conf lb lbd
	# shellcheck disable=SC2046
	start_daemon lbd $(site_nsx lb) "$BIN/lbd" -f "$SITE/lb/lbd.conf"
}

# fwd with the host's role policy (lb-01/fwd.conf, web/fwd.conf).
site_fwd() {
	local h=$1
	site_conf "$h" fwd
	# shellcheck disable=SC2046
	start_daemon "fwd-$h" $(site_nsx "$h") "$BIN/fwd" -f "$SITE/$h/fwd.conf"
}

# The collector: receiver.py on the ops host's address, 10.0.0.1 in this
# namespace, HTTPS on :8443 with collector.crt as site.conf's $collector
# says, storing into $SITE/NAME.
site_rx_start() {
	local name=$1 dir=$SITE/$1
	mkdir -p "$dir"
	rm -f "$dir/port"
	start_peer "$name" "[ -s $dir/port ]" python3 "$STACKD_SRC/tests/integration/receiver.py" \
	    serve --dir "$dir" --bind 10.0.0.1 --port 8443 \
	    --cert "$SITE_TLS/collector.crt" --key "$SITE_TLS/collector.key"
}

site_agentd() {
	local h=$1
	site_conf "$h" agentd
	# shellcheck disable=SC2046
	start_daemon "agentd-$h" $(site_nsx "$h") "$BIN/agentd" -f "$SITE/$h/agentd.conf"
}

site_setup() {
	mkdir -p "$SITE/etc"
	sh "$SITE_ETC/mkcerts.sh" "$SITE_TLS" >/dev/null || { fail "the site's certificates"; return 1; }
	site_network || { fail "site network"; return 1; }
	pass "site network: client, lb-01, web-01, web-02 on bridge site0"
	site_db || { fail "site databases"; return 1; }
	pass "MariaDB primary on web-01, replica on web-02"
	site_dbrouter web1 || return 1
	site_dbrouter web2 || return 1
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
