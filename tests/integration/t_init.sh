#!/usr/bin/env bash
# make install and the init scripts it makes: the installed tree under
# DESTDIR (programs, man pages, sysvinit scripts, systemd units, tmpfiles.d,
# sysusers.d, roles, example configurations that are never replaced); the
# units through systemd-analyze verify and the scripts through shellcheck
# when they are installed; then, from an install whose PREFIX and
# SYSCONFDIR are in the test directory, the sysvinit scripts of webd and
# agentd run for real (start, status, reload good and bad, restart, stop,
# status 3), webd with /lib/lsb/init-functions and its settings in
# SYSCONFDIR/default, agentd with the plain fallbacks and its settings in
# the environment; last, stackd-role starts and stops both as one role.
. "$(dirname "$0")/lib.sh"

# The install rule without `all`: the test's BUILD is already built.
inst() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$STACKD_SRC" \
	    install-files BUILD="$STACKD_BUILD" "$@"
}
DAEMONS="fwd lbd webd dbrouter agentd"
export SYSTEMCTL_SKIP_REDIRECT=1	# Debian's LSB hook: never systemctl

# ---- make install DESTDIR=... PREFIX=/usr ----
R=$T_DIR/root
ok "make install DESTDIR=\$T_DIR/root PREFIX=/usr" inst DESTDIR="$R" PREFIX=/usr
expect_eq "nothing outside /etc and /usr" "$(cd "$R" && ls | tr '\n' ' ')" "etc usr "
for p in fwd lbd webd dbrouter agentd stackd-role; do
	ok "sbin/$p installed, executable" test -x "$R/usr/sbin/$p"
done
for p in fwctl lbctl webctl dbctl agentctl; do
	ok "bin/$p installed, executable" test -x "$R/usr/bin/$p"
done
ok "stackd.7 and stackd.conf.5 installed" test -f "$R/usr/share/man/man7/stackd.7" -a \
    -f "$R/usr/share/man/man5/stackd.conf.5"
for d in $DAEMONS; do
	s=$R/etc/init.d/stackd-$d
	u=$R/usr/lib/systemd/system/stackd-$d.service
	ok "init script stackd-$d installed, executable" test -x "$s"
	ok "stackd-$d: LSB header with its name" grep -q "^# Provides: *stackd-$d\$" "$s"
	ok "stackd-$d runs /usr/sbin/$d" grep -q "^DAEMON=/usr/sbin/$d\$" "$s"
	ok "stackd-$d.service installed" test -f "$u"
	ok "stackd-$d.service: ExecStart with -d -f /etc/stackd/$d.conf" \
	    grep -qx "ExecStart=/usr/sbin/$d -d -f /etc/stackd/$d.conf" "$u"
	ok "stackd-$d.service: ExecStartPre checks with -n" \
	    grep -qx "ExecStartPre=/usr/sbin/$d -n -f /etc/stackd/$d.conf" "$u"
	ok "stackd-$d.service: Type=notify, HUP reload" \
	    eval "grep -qx Type=notify '$u' && grep -qx 'ExecReload=/bin/kill -HUP \$MAINPID' '$u'"
done
ok "fwd's unit keeps CAP_NET_ADMIN and netlink only" eval \
    "grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_CHOWN' '$R/usr/lib/systemd/system/stackd-fwd.service' &&
     grep -qx 'RestrictAddressFamilies=AF_UNIX AF_NETLINK' '$R/usr/lib/systemd/system/stackd-fwd.service'"
fails "no @VARIABLE@ left in scripts or units" grep -rl '@[A-Z]*@' "$R/etc/init.d" \
    "$R/usr/lib/systemd" "$R/usr/sbin/stackd-role"
ok "tmpfiles.d and sysusers.d snippets installed" test -f "$R/usr/lib/tmpfiles.d/stackd.conf" -a \
    -f "$R/usr/lib/sysusers.d/stackd.conf"
ok "/run/stackd comes from tmpfiles.d, group _stackd" \
    grep -Eq '^d /run/stackd[[:space:]]+0775[[:space:]]+root[[:space:]]+_stackd' "$R/usr/lib/tmpfiles.d/stackd.conf"
for f in roles/lb.role roles/web.role roles/db.role lbd.conf webd.conf dbrouter.conf \
    agentd.conf fwd/lb.conf fwd/web.conf fwd/db.conf; do
	ok "/etc/stackd/$f installed" test -f "$R/etc/stackd/$f"
done
ok "the example site under /usr/share/stackd/foobar" test -x "$R/usr/share/stackd/foobar/mkcerts.sh" -a \
    -f "$R/usr/share/stackd/foobar/web/webd.conf" -a -f "$R/usr/share/stackd/foobar/lb-01/lbd.conf"
ok "the installed mkcerts.sh runs (its pki.sh beside it)" eval \
    "sh '$R/usr/share/stackd/foobar/mkcerts.sh' '$T_DIR/site-tls' >/dev/null && test -s '$T_DIR/site-tls/www.foobar.com.crt'"
echo "# mine" > "$R/etc/stackd/webd.conf"
out=$(inst DESTDIR="$R" PREFIX=/usr 2>&1)
expect_match "a second install says it keeps an existing config" "$out" "webd.conf exists: not replaced"
expect_eq "and keeps it" "$(cat "$R/etc/stackd/webd.conf")" "# mine"

# ---- an install that runs here ----
P=$T_DIR/p
ok "make install PREFIX=\$T_DIR/p SYSCONFDIR=\$T_DIR/p/etc" inst PREFIX="$P" SYSCONFDIR="$P/etc"
INIT=$P/etc/init.d

if command -v systemd-analyze >/dev/null 2>&1; then
	for d in $DAEMONS; do
		# --man=no: the man pages are not where man looks.
		out=$(systemd-analyze verify --man=no "$P/lib/systemd/system/stackd-$d.service" 2>&1); st=$?
		expect_eq "systemd-analyze verify stackd-$d.service: no complaint" "$st:$out" "0:"
	done
else
	echo "# systemd-analyze not installed: units not verified"
fi
if command -v shellcheck >/dev/null 2>&1; then
	ok "shellcheck: init script, stackd-role, both mkcerts.sh (and pki.sh)" shellcheck -x -s sh \
	    "$INIT/stackd-webd" "$P/sbin/stackd-role" "$STACKD_SRC/etc/foobar/mkcerts.sh" "$STACKD_SRC/tests/mkcerts.sh"
fi

# webd: settings in SYSCONFDIR/default/stackd-webd, LSB functions.
mkdir -p "$P/etc/default" "$T_DIR/www" "$T_DIR/agentd"
echo hello > "$T_DIR/www/index.html"
WCONF=$T_DIR/webd.conf
cat > "$WCONF" <<CONF
control "$T_DIR/webd.sock"
pidfile "$T_DIR/webd.pid"
listen "127.0.0.1:18080"
root "$T_DIR/www"
CONF
cat > "$P/etc/default/stackd-webd" <<DEF
CONF=$WCONF
PIDFILE=$T_DIR/webd.pid
SOCKET=$T_DIR/webd.sock
DEF
# agentd: settings in the environment, no LSB functions.
ACONF=$T_DIR/agentd.conf
cat > "$ACONF" <<CONF
control "$T_DIR/agentd.sock"
pidfile "$T_DIR/agentd.pid"
state-dir "$T_DIR/agentd"
metrics-listen "127.0.0.1:19101"
daemon "webd" "$T_DIR/webd.sock"
CONF
agentd_init() {
	STACKD_CONF=$ACONF STACKD_PIDFILE=$T_DIR/agentd.pid STACKD_SOCKET=${STACKD_SOCKET:-$T_DIR/agentd.sock} \
	    STACKD_LSB_FUNCTIONS=/nonexistent "$INIT/stackd-agentd" "$@"
}
webd_init() { "$INIT/stackd-webd" "$@"; }
# Alive and not a zombie: a detached daemon's parent is the host's init,
# which may be slow to reap it.
pid_alive() {
	local stat
	[ -n "$1" ] && read -r stat < "/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

for d in webd agentd; do
	fn=${d}_init
	conf=$T_DIR/$d.conf
	sock=$T_DIR/$d.sock
	ctl=$P/bin/${d%d}ctl
	[ "$d" = webd ] && ctl=$P/bin/webctl
	st=0; $fn status > /dev/null 2>&1 || st=$?
	expect_eq "$d: status before start is 3" "$st" 3
	ok "$d: init script start" $fn start
	pid=$(cat "$T_DIR/$d.pid" 2>/dev/null)
	ok "$d: its pidfile names a live process" pid_alive "$pid"
	ok "$d: it answers on its control socket" "$ctl" -s "$sock" status
	out=$($fn status 2>&1); st=$?
	expect_eq "$d: status is 0" "$st" 0
	expect_match "$d: status says running with the pid" "$out" "running \\(pid $pid\\)"
	out=$($fn start 2>&1)
	expect_match "$d: start again: already running" "$out" "already running"
	echo "# comment" >> "$conf"
	ok "$d: reload with a good config" $fn reload
	expect_match "$d: the daemon reloaded" "$("$ctl" -s "$sock" status)" "reloads: 1 ok"
	cp "$conf" "$conf.good"
	echo "no-such-directive 1" >> "$conf"
	out=$($fn reload 2>&1); st=$?
	fails "$d: reload with a bad config fails" test "$st" -eq 0
	expect_match "$d: and says where" "$out" "$d.conf:[0-9]+:"
	ok "$d: the daemon still runs, same pid" eval "[ \"\$(cat '$T_DIR/$d.pid')\" = $pid ] && pid_alive $pid"
	out=$($fn restart 2>&1); st=$?
	fails "$d: restart with a bad config fails" test "$st" -eq 0
	ok "$d: and leaves the daemon running" pid_alive "$pid"
	cp "$conf.good" "$conf"
	# Without the ctl socket the script sends SIGHUP.
	ok "$d: reload by SIGHUP (no ctl socket)" eval "STACKD_SOCKET=/nonexistent $fn reload"
	ok_wait "$d: the daemon reloaded on SIGHUP" 10 eval "'$ctl' -s '$sock' status | grep -q 'reloads: 2 ok'"
	ok "$d: restart" $fn restart
	npid=$(cat "$T_DIR/$d.pid" 2>/dev/null)
	ok "$d: a new process after restart" eval "pid_alive '$npid' && [ '$npid' != '$pid' ] && ! pid_alive $pid"
	out=$($fn stop 2>&1); st=$?
	expect_eq "$d: stop" "$st" 0
	fails "$d: it stopped on SIGTERM, no SIGKILL needed" grep -q SIGKILL <<<"$out"
	fails "$d: the process is gone" pid_alive "$npid"
	fails "$d: its pidfile is removed" test -e "$T_DIR/$d.pid"
	st=0; $fn status > /dev/null 2>&1 || st=$?
	expect_eq "$d: status after stop is 3" "$st" 3
	ok "$d: stop when stopped succeeds" $fn stop
	# A pidfile left by a dead process: LSB status 1.
	(exit 0) & dead=$!
	wait "$dead"
	echo "$dead" > "$T_DIR/$d.pid"
	st=0; $fn status > /dev/null 2>&1 || st=$?
	expect_eq "$d: stale pidfile: status 1" "$st" 1
	rm -f "$T_DIR/$d.pid"
done

cp "$WCONF" "$WCONF.good"
echo "listen" >> "$WCONF"
out=$(webd_init start 2>&1); st=$?
expect_eq "start with a bad config: LSB status 6 (not configured)" "$st" 6
expect_match "and the error names file:line" "$out" "webd.conf:[0-9]+:"
fails "and no daemon runs" test -e "$T_DIR/webd.pid"
cp "$WCONF.good" "$WCONF"
st=0; webd_init frobnicate 2>/dev/null || st=$?
expect_eq "an unknown action: usage, exit 2" "$st" 2
ok "check runs -n" eval "webd_init check | grep -q 'configuration OK'"

# ---- stackd-role: both daemons as one role, through the init scripts ----
mkdir -p "$T_DIR/roles"
printf '# test role\nagentd %s\nwebd %s\n' "$ACONF" "$WCONF" > "$T_DIR/roles/t.role"
printf 'webd %s\n' "$T_DIR/other.conf" > "$T_DIR/roles/clash.role"
printf 'CONF=%s\nPIDFILE=%s\nSOCKET=%s\n' "$ACONF" "$T_DIR/agentd.pid" "$T_DIR/agentd.sock" \
    > "$P/etc/default/stackd-agentd"
ROLE="$P/sbin/stackd-role -r $T_DIR/roles"
expect_eq "stackd-role list: start order, one line a daemon" "$($ROLE list t)" \
    "$(printf 'webd %s\nagentd %s' "$WCONF" "$ACONF")"
fails "two roles with two configs for one daemon are refused" $ROLE list t clash
fails "an unknown role is refused" $ROLE list nosuch
expect_eq "the installed roles: web+db host" "$("$P/sbin/stackd-role" list web db | tr '\n' ' ')" \
    "fwd $P/etc/stackd/fwd.conf dbrouter $P/etc/stackd/dbrouter.conf webd $P/etc/stackd/webd.conf agentd $P/etc/stackd/agentd.conf "
ok "stackd-role start t" $ROLE start t
ok "stackd-role status t: both running" $ROLE status t
ok_wait "agentd scrapes webd" 15 eval "'$P/bin/agentctl' -s '$T_DIR/agentd.sock' metrics | grep -q 'stackd_agentd_daemon_up{daemon=\"webd\"} 1'"
ok "stackd-role stop t" $ROLE stop t
st=0; $ROLE status t > /dev/null 2>&1 || st=$?
expect_eq "stackd-role status t after stop: 3" "$st" 3
