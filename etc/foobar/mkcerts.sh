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
# daemons refuse keys others can read). See stackd(7).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: mkcerts.sh DIR" >&2
	exit 2
fi
dir=$1
days=${MKCERTS_DAYS:-825}
umask 077
mkdir -p "$dir"
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

newkey() {
	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$tmp/$1.key"
}

# Key first, so a reader never sees a new certificate with an old key.
put() {
	chmod 600 "$tmp/$1.key"
	chmod 644 "$tmp/$1.crt"
	mv -f "$tmp/$1.key" "$dir/$1.key"
	mv -f "$tmp/$1.crt" "$dir/$1.crt"
	echo "mkcerts.sh: made $dir/$1.crt"
}

if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/ca.key" ]; then
	newkey ca
	ossl req -x509 -new -key "$tmp/ca.key" -out "$tmp/ca.crt" \
	    -days 3650 -sha256 -subj "/O=foobar/CN=foobar internal CA" \
	    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -addext "subjectKeyIdentifier=hash"
	put ca
fi

# leaf NAME "CN" SAN
leaf() {
	[ -s "$dir/$1.crt" ] && [ -s "$dir/$1.key" ] && return 0
	newkey "$1"
	cat >"$tmp/$1.ext" <<-EXT
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = serverAuth
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	subjectAltName = $3
	EXT
	ossl req -new -key "$tmp/$1.key" -out "$tmp/$1.csr" \
	    -subj "/O=foobar/CN=$2"
	ossl x509 -req -in "$tmp/$1.csr" -CA "$dir/ca.crt" \
	    -CAkey "$dir/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial \
	    -days "$days" -sha256 -extfile "$tmp/$1.ext" -out "$tmp/$1.crt"
	ossl verify -CAfile "$dir/ca.crt" "$tmp/$1.crt"
	put "$1"
}

leaf www.foobar.com www.foobar.com "DNS:www.foobar.com,DNS:foobar.com"
leaf web-01 web-01.foobar.internal "DNS:web-01.foobar.internal,IP:10.0.0.11"
leaf web-02 web-02.foobar.internal "DNS:web-02.foobar.internal,IP:10.0.0.12"
leaf collector collector.foobar.internal \
    "DNS:collector.foobar.internal,IP:10.0.0.1"
