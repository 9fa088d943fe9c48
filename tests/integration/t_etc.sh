#!/usr/bin/env bash
# Every shipped configuration passes its daemon's -n: the example site
# (etc/foobar: lb-01 and the web hosts) and the single-daemon examples in
# etc/. Paths that do not exist on a test machine (/etc/stackd/tls, /run,
# /var, /srv) are moved into the test directory with sed, and the
# certificates come from etc/foobar/mkcerts.sh, so everything the files
# name is really read. Also: mkcerts.sh's keys and chains, the role files.
. "$(dirname "$0")/lib.sh"

SITE=$STACKD_SRC/etc/foobar
E=$T_DIR/etc
mkdir -p "$E" "$T_DIR/run" "$T_DIR/lib/agentd" "$T_DIR/log" "$T_DIR/www" "$T_DIR/php"
touch "$T_DIR/log/syslog"

# ---- the site's certificates ----
ok "mkcerts.sh makes the site's PKI" sh "$SITE/mkcerts.sh" "$T_DIR/tls"
for n in ca www.foobar.com web-01 web-02 collector; do
	expect_eq "$n.key is mode 0600" "$(stat -c %a "$T_DIR/tls/$n.key" 2>&1)" 600
done
for n in www.foobar.com web-01 web-02 collector; do
	ok "$n.crt verifies against ca.crt" openssl verify -CAfile "$T_DIR/tls/ca.crt" "$T_DIR/tls/$n.crt"
	expect_match "$n: ECDSA P-256" "$(openssl x509 -in "$T_DIR/tls/$n.crt" -noout -text)" "(prime256v1|P-256)"
done
expect_match "web-01's certificate names 10.0.0.11" \
    "$(openssl x509 -in "$T_DIR/tls/web-01.crt" -noout -ext subjectAltName)" "IP Address:10.0.0.11"
expect_match "lbd's names www.foobar.com" \
    "$(openssl x509 -in "$T_DIR/tls/www.foobar.com.crt" -noout -ext subjectAltName)" "DNS:www.foobar.com"
sum=$(md5sum "$T_DIR/tls/ca.crt")
ok "a second run keeps what exists" sh "$SITE/mkcerts.sh" "$T_DIR/tls"
expect_eq "the CA is not replaced" "$(md5sum "$T_DIR/tls/ca.crt")" "$sum"
# What each web host installs as web.crt.
cp "$T_DIR/tls/web-01.crt" "$T_DIR/tls/web.crt"
cp -p "$T_DIR/tls/web-01.key" "$T_DIR/tls/web.key"

# dbrouter's secrets, mode 0600 as it wants them.
printf 'app *%s\n' "$(printf 'secret' | sha1sum | cut -c1-40 | tr a-f A-F)" > "$E/dbrouter.users"
echo monitorpw > "$E/dbrouter.monitor"
echo replpw > "$E/dbrouter.repl"
chmod 600 "$E"/dbrouter.*

# Deployed paths -> test paths.
localize() {
	sed -e "s|/etc/stackd/tls/|$T_DIR/tls/|g" -e "s|/etc/stackd/|$E/|g" \
	    -e "s|/run/stackd/|$T_DIR/run/|g" -e "s|/var/lib/stackd/|$T_DIR/lib/|g" \
	    -e "s|/var/log/stackd/|$T_DIR/log/|g" -e "s|/var/log/syslog|$T_DIR/log/syslog|g" \
	    -e "s|/srv/www/foobar|$T_DIR/www|g" -e "s|/run/php/|$T_DIR/php/|g" "$1"
}

# check DAEMON FILE LABEL
check() {
	local out
	out=$("$BIN/$1" -n -f "$2" 2>&1)
	expect_eq "$3: $1 -n says configuration OK" "$out" "configuration OK"
}

# ---- etc/foobar: every host's files, as deployed in /etc/stackd ----
n=0
for h in lb-01 web; do
	mkdir -p "$E/$h"
	localize "$SITE/site.conf" > "$E/$h/site.conf"
	for f in "$SITE/$h"/*.conf; do
		d=$(basename "$f" .conf)
		localize "$f" > "$E/$h/$d.conf"
		ok "foobar/$h/$d.conf: no deployed path left" \
		    eval "! grep -E '\"/(etc|run|var|srv)/' '$E/$h/$d.conf'"
		check "$d" "$E/$h/$d.conf" "foobar/$h/$d.conf"
		n=$((n + 1))
	done
done
expect_eq "seven files: lb-01 fwd lbd agentd, web fwd webd dbrouter agentd" "$n" 7
# The hosts file and the roles agree with the directories.
while read -r host addr roles; do
	case $host in ''|'#'*) continue ;; esac
	dir=${roles##* }
	roles=${roles% *}
	list=$(STACKD_ROLEDIR=$STACKD_SRC/etc/roles sh "$STACKD_SRC/etc/roles/stackd-role.in" list $roles 2>&1)
	for d in $(echo "$list" | awk '{ print $1 }'); do
		ok "$host ($roles): $dir/$d.conf exists for its role" test -f "$SITE/$dir/$d.conf"
	done
	ok "$host: $addr is in site.conf" grep -q "\"$addr\"" "$SITE/site.conf"
done < <(sed 's/\t\+/ /g' "$SITE/hosts")
expect_eq "roles lb: fwd lbd agentd" \
    "$(STACKD_ROLEDIR=$STACKD_SRC/etc/roles sh "$STACKD_SRC/etc/roles/stackd-role.in" list lb | awk '{ printf "%s ", $1 }')" \
    "fwd lbd agentd "
expect_eq "roles web db: fwd dbrouter webd agentd" \
    "$(STACKD_ROLEDIR=$STACKD_SRC/etc/roles sh "$STACKD_SRC/etc/roles/stackd-role.in" list web db | awk '{ printf "%s ", $1 }')" \
    "fwd dbrouter webd agentd "

# A broken file is caught by the same check (the test is not vacuous).
sed 's|www.foobar.com.key|missing.key|' "$E/lb-01/lbd.conf" > "$E/lb-01/bad.conf"
fails "lbd -n refuses a missing key" "$BIN/lbd" -n -f "$E/lb-01/bad.conf"

# ---- etc/*.conf, installed as /etc/stackd examples ----
for f in "$STACKD_SRC"/etc/*.conf; do
	d=$(basename "$f" .conf)
	# No DNS in the test's namespace: the Sumo Logic host is not resolved.
	localize "$f" | sed -e 's|https://endpoint1.collection.sumologic.com/|https://127.0.0.1/|' > "$E/$d.conf"
	check "$d" "$E/$d.conf" "etc/$d.conf"
done
for f in "$STACKD_SRC"/etc/fwd/*.conf; do
	localize "$f" > "$E/fwd-$(basename "$f")"
	check fwd "$E/fwd-$(basename "$f")" "etc/fwd/$(basename "$f")"
done
