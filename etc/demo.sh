#!/bin/sh
# make demo: the www.foobar.com site on this one machine, in network
# namespaces inside an unprivileged user namespace (`unshare -rn`, no root
# needed; the host's network and firewall are untouched):
#
#   client 10.0.0.100 -> lb-01 10.0.0.10 (lbd, fwd, agentd)
#     -> web-01 10.0.0.11 / web-02 10.0.0.12 (webd, php-fpm, dbrouter, fwd,
#        agentd; MariaDB primary on web-01, replica on web-02)
#   collector (receiver.py) on 10.0.0.1
#
# The setup is tests/integration/site.sh, the same as the end-to-end test
# tests/integration/t_site.sh: the daemons run the site's shipped
# configuration (etc/foobar, paths moved into the demo's directory) with
# the certificates of its internal CA (etc/foobar/mkcerts.sh). The namespaces exist only inside the demo's
# user namespace: the host's shell cannot reach 10.0.0.10 directly. The
# demo prints an nsenter command that runs curl inside the client namespace,
# and, on a terminal, opens a shell there. Ctrl-C (or leaving that shell)
# stops every daemon and removes the temporary directory.
#
# Environment: STACKD_BUILD (set by make), DEMO_SECS=N to stop by itself
# after N seconds (for scripts), DEMO_SHELL=0 not to open the shell.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/integration/lib.sh"
. "$here/../tests/integration/mariadb.sh"
. "$here/../tests/integration/site.sh"

DEMO_STOPPING=
demo_stop() {
	[ -n "$DEMO_STOPPING" ] && return
	DEMO_STOPPING=1
	echo
	echo "# stopping the site"
	local n
	for n in agentd-lb agentd-web1 agentd-web2 lbd webd-web1 webd-web2 \
	    dbrouter-web1 dbrouter-web2 fwd-lb fwd-web1 fwd-web2; do
		stop_daemon "$n"
	done
	db_stop_all
	site_fpm_stop
	for n in rx ns_client ns_lb ns_web1 ns_web2; do
		stop_peer "$n"
	done
	# t_finish (lib.sh's EXIT trap) kills whatever is left and removes $T_DIR
	exit 0
}
trap demo_stop INT TERM

echo "# building the site in $T_DIR"
if ! site_setup; then
	echo "# the site did not start: see the logs above" >&2
	exit 1
fi
wait_for 10 sh -c "'$BIN/lbctl' -s '$SITE/lb/lbd.sock' status | grep -q '^server web/web-0[12]: .* up '"
wait_for 10 sh -c "'$BIN/dbctl' -s '$SITE/web2/dbrouter.sock' status | grep -q '^writer: web-01'"

cpid=${SITE_NS[client]}
outer=$(awk '$1 == 0 { print $2 }' /proc/self/uid_map)
if [ "$outer" = 0 ]; then enter="nsenter -t $cpid -n"; else
	enter="nsenter -t $cpid -U -n --preserve-credentials"; fi
curlcmd="curl --cacert $SITE_TLS/ca.crt --resolve www.foobar.com:443:${SITE_ADDR[lb]}"

cat <<EOF

================================================================
 www.foobar.com is up:  $SITE_URL
================================================================
 The site lives in network namespaces inside this demo's user
 namespace: from another shell on this machine, enter the client's
 namespace to reach it (same user as the one running the demo):

   $enter \\
     $curlcmd ${SITE_URL}
   $enter \\
     $curlcmd '${SITE_URL}visit.php?t=hello'

 (index.html is static, served by webd; visit.php is PHP on php-fpm
 writing a row through dbrouter to MariaDB and reading it back.)

 Where to look (control sockets; run from any shell of this user):
   $BIN/lbctl -s $SITE/lb/lbd.sock status
   $BIN/webctl -s $SITE/web1/webd.sock status      (web2/ for web-02)
   $BIN/dbctl -s $SITE/web2/dbrouter.sock status   (web1/ for web-01's; one holds the failover lock)
   $BIN/fwctl -s $SITE/web1/fwd.sock show
   $BIN/agentctl -s $SITE/web1/agentd.sock status
   every daemon also answers: metrics
 Logs: $T_DIR/*.log, access logs $SITE/*/*-access.log,
 configurations (etc/foobar's, moved here): $SITE/*/*.conf,
 shipped data: $SITE/rx/ (python3 tests/integration/receiver.py lines $SITE/rx)

 Try a drill: kill web-01's webd ($(daemon_pid webd-web1)) or MariaDB
 primary ($(db_pid web1)) and watch lbctl / dbctl status.
EOF

if [ -n "${DEMO_SECS:-}" ]; then
	echo " Stopping by itself in $DEMO_SECS s (DEMO_SECS)."
	deadline=$(( $(date +%s) + DEMO_SECS ))
	while [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
	demo_stop
fi
if [ -t 0 ] && [ "${DEMO_SHELL:-1}" != 0 ]; then
	cat <<EOF

 A shell in the client's namespace follows; in it, \$SITE_CURL is the
 curl command above without its URL:
   \$SITE_CURL https://www.foobar.com/
   \$SITE_CURL 'https://www.foobar.com/visit.php?t=hello'
 Leave it (exit or Ctrl-D) to stop the site.
================================================================
EOF
	SITE_CURL="$curlcmd" PS1='client@foobar-demo$ ' \
	    $(site_nsx client) bash --norc -i
	demo_stop
fi
echo " Ctrl-C stops the site."
echo "================================================================"
while :; do sleep 1; done
