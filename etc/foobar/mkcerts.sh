#!/bin/sh
# mkcerts.sh DIR — the internal PKI of www.foobar.com, ECDSA P-256:
#
#   ca.crt/key              "foobar internal CA": lbd and agentd trust it
#   www.foobar.com.crt/key  lbd's site certificate (www.foobar.com,
#                           foobar.com); a real site uses a public CA's
#   web-01.crt/key          webd on web-01 (lb-01 -> web TLS leg; also fit
#   web-02.crt/key          for MariaDB's ssl_cert), IP SAN 10.0.0.11/.12
#   collector.crt/key       the collector on the ops host, 10.0.0.1
#
# Files that exist are kept (a CA is never replaced, so certificates made
# earlier stay valid); missing ones are made. Keys are mode 0600 (the
# daemons refuse keys others can read). The openssl steps are pki.sh's,
# beside this file (tests/mkcerts.sh uses them too). See stackd(7).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: mkcerts.sh DIR" >&2
	exit 2
fi
dir=$1
umask 077
mkdir -p "$dir"
# shellcheck source=pki.sh source-path=SCRIPTDIR
. "$(dirname "$0")/pki.sh"
pki_begin "$dir" "${MKCERTS_DAYS:-825}"

if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/ca.key" ]; then
	pki_ca ca "/O=foobar/CN=foobar internal CA" "critical,CA:TRUE,pathlen:0"
	pki_put "$dir" ca
	echo "mkcerts.sh: made $dir/ca.crt"
fi

# leaf NAME "CN" SAN: a server certificate, unless one exists
leaf() {
	[ -s "$dir/$1.crt" ] && [ -s "$dir/$1.key" ] && return 0
	pki_leaf "$1" ec "$dir/ca" "/O=foobar/CN=$2" serverAuth "$3"
	pki_put "$dir" "$1"
	echo "mkcerts.sh: made $dir/$1.crt"
}

leaf www.foobar.com www.foobar.com "DNS:www.foobar.com,DNS:foobar.com"
leaf web-01 web-01.foobar.internal "DNS:web-01.foobar.internal,IP:10.0.0.11"
leaf web-02 web-02.foobar.internal "DNS:web-02.foobar.internal,IP:10.0.0.12"
leaf collector collector.foobar.internal \
    "DNS:collector.foobar.internal,IP:10.0.0.1"
