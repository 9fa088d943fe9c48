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
days=3650
names="ca server server-rsa static client wrongca wrong"

complete() {
	for n in $names; do
		[ -s "$dir/$n.crt" ] && [ -s "$dir/$n.key" ] || return 1
	done
	openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" \
	    "$dir/server-rsa.crt" "$dir/static.crt" "$dir/client.crt" \
	    >/dev/null 2>&1 || return 1
	openssl verify -CAfile "$dir/wrongca.crt" "$dir/wrong.crt" \
	    >/dev/null 2>&1 || return 1
}

if complete; then
	exit 0
fi

umask 077
tmp=$(mktemp -d "$dir/.mkcerts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# Run openssl quietly; show its output only when it fails.
ossl() {
	if ! openssl "$@" >"$tmp/log" 2>&1; then
		echo "mkcerts.sh: openssl $1 failed:" >&2
		cat "$tmp/log" >&2
		exit 1
	fi
}

# newkey NAME ec|rsa
newkey() {
	case $2 in
	ec)	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out "$tmp/$1.key" ;;
	rsa)	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		    -out "$tmp/$1.key" ;;
	esac
}

# ca NAME "CN"
ca() {
	newkey "$1" ec
	ossl req -x509 -new -key "$tmp/$1.key" -out "$tmp/$1.crt" \
	    -days $days -subj "/O=stackd tests/CN=$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -addext "subjectKeyIdentifier=hash"
}

# leaf NAME ec|rsa ISSUER "CN" EKU SAN
leaf() {
	newkey "$1" "$2"
	if [ "$2" = rsa ]; then
		ku="digitalSignature,keyEncipherment"
	else
		ku="digitalSignature"
	fi
	cat >"$tmp/$1.ext" <<-EOF
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,$ku
	extendedKeyUsage = $5
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	${6:+subjectAltName = $6}
	EOF
	ossl req -new -key "$tmp/$1.key" -out "$tmp/$1.csr" \
	    -subj "/O=stackd tests/CN=$4"
	ossl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$3.crt" \
	    -CAkey "$tmp/$3.key" -CAserial "$tmp/$3.srl" -CAcreateserial \
	    -days $days -sha256 -extfile "$tmp/$1.ext" -out "$tmp/$1.crt"
}

ca ca "stackd test CA"
ca wrongca "stackd wrong CA"
leaf server ec ca localhost serverAuth \
    "DNS:localhost,DNS:www.foobar.com,IP:127.0.0.1,IP:::1"
leaf server-rsa rsa ca rsa.foobar.com serverAuth \
    "DNS:rsa.foobar.com,DNS:localhost,IP:127.0.0.1"
leaf static ec ca static.foobar.com serverAuth \
    "DNS:static.foobar.com,DNS:*.static.foobar.com"
leaf client ec ca "stackd test client" clientAuth ""
leaf wrong ec wrongca localhost serverAuth "DNS:localhost,IP:127.0.0.1"

for n in $names; do
	chmod 600 "$tmp/$n.key"
	chmod 644 "$tmp/$n.crt"
done
# Keys first, so a reader never sees a new certificate with an old key
# for longer than the two renames.
for n in $names; do
	mv -f "$tmp/$n.key" "$dir/$n.key"
	mv -f "$tmp/$n.crt" "$dir/$n.crt"
done
complete || { echo "mkcerts.sh: generated set does not verify" >&2; exit 1; }
