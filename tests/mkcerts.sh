#!/bin/sh
# mkcerts.sh DIR — test PKI for the TLS unit and integration tests.
#
#   ca.crt/key          ECDSA P-256 CA "stackd test CA"
#   server.crt/key      ECDSA P-256, localhost www.foobar.com 127.0.0.1 ::1
#   server-rsa.crt/key  RSA 2048, rsa.foobar.com localhost 127.0.0.1
#   static.crt/key      ECDSA, static.foobar.com *.static.foobar.com (SNI)
#   client.crt/key      ECDSA, client authentication
#   wrongca.crt/key     an unrelated CA
#   wrong.crt/key       localhost 127.0.0.1 signed by wrongca (untrusted)
#
# Idempotent: a complete, verifying set is left alone. Otherwise the whole
# set is made in a scratch directory and moved into DIR, so a failure never
# leaves a half-made PKI behind. Keys are mode 0600. Quiet unless it fails.
set -eu

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: mkcerts.sh DIR (DIR must exist)" >&2
	exit 2
fi
dir=$1
names="ca server server-rsa static client wrongca wrong"

set_verifies() {
	for n in $names; do
		[ -s "$dir/$n.crt" ] && [ -s "$dir/$n.key" ] || return 1
	done
	openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" \
	    "$dir/server-rsa.crt" "$dir/static.crt" "$dir/client.crt" \
	    >/dev/null 2>&1 || return 1
	openssl verify -CAfile "$dir/wrongca.crt" "$dir/wrong.crt" \
	    >/dev/null 2>&1 || return 1
}

if set_verifies; then
	exit 0
fi

# shellcheck source=../etc/foobar/pki.sh source-path=SCRIPTDIR
. "$(dirname "$0")/../etc/foobar/pki.sh"
pki_begin "$dir" 3650
pki_ca ca "/O=stackd tests/CN=stackd test CA"
pki_ca wrongca "/O=stackd tests/CN=stackd wrong CA"
# leaf NAME ec|rsa ISSUER "CN" EKU SAN
leaf() {
	pki_leaf "$1" "$2" "$pki_tmp/$3" "/O=stackd tests/CN=$4" "$5" "$6"
}
leaf server ec ca localhost serverAuth \
    "DNS:localhost,DNS:www.foobar.com,IP:127.0.0.1,IP:::1"
leaf server-rsa rsa ca rsa.foobar.com serverAuth \
    "DNS:rsa.foobar.com,DNS:localhost,IP:127.0.0.1"
leaf static ec ca static.foobar.com serverAuth \
    "DNS:static.foobar.com,DNS:*.static.foobar.com"
leaf client ec ca "stackd test client" clientAuth ""
leaf wrong ec wrongca localhost serverAuth "DNS:localhost,IP:127.0.0.1"

for n in $names; do
	pki_put "$dir" "$n"
done
set_verifies || { echo "mkcerts.sh: generated set does not verify" >&2; exit 1; }
