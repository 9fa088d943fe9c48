# pki.sh — the openssl steps of a small PKI, sourced (POSIX sh) by
# mkcerts.sh beside it (the site's PKI) and by tests/mkcerts.sh (the test
# PKI), so both make keys and certificates the same way. Every file is made
# in a scratch directory and moved into place with pki_put, so a failure
# never leaves half a key pair behind. Quiet unless openssl fails.
#
#   pki_begin DIR DAYS      umask 077; the scratch directory, in DIR (same
#                           file system, so pki_put renames), removed at exit
#   pki_key NAME [ec|rsa]   a key: ECDSA P-256 (default) or RSA 2048
#   pki_ca NAME SUBJECT [BASIC]  a self-signed CA (BASIC: its
#                           basicConstraints, default critical,CA:TRUE)
#   pki_leaf NAME ec|rsa ISSUER SUBJECT EKU [SAN]  a certificate signed by
#                           ISSUER.crt/ISSUER.key (a path without the
#                           suffix), checked against ISSUER.crt
#   pki_put DIR NAME        NAME.key (mode 0600) then NAME.crt (0644) into
#                           DIR: a reader never sees a new certificate with
#                           an old key
#
# NAME.key/NAME.crt of the scratch directory are "$pki_tmp/NAME.key" etc.

pki_begin() {
	umask 077
	pki_days=$2
	pki_tmp=$(mktemp -d "$1/.mkcerts.XXXXXX")
	trap 'rm -rf "$pki_tmp"' EXIT
	trap 'exit 1' HUP INT TERM
}

# Run openssl quietly; show its output only when it fails.
pki_ossl() {
	if ! openssl "$@" >"$pki_tmp/log" 2>&1; then
		echo "mkcerts.sh: openssl $1 failed:" >&2
		cat "$pki_tmp/log" >&2
		exit 1
	fi
}

pki_key() {
	case ${2:-ec} in
	ec)	pki_ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out "$pki_tmp/$1.key" ;;
	rsa)	pki_ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		    -out "$pki_tmp/$1.key" ;;
	esac
}

pki_ca() {
	pki_key "$1" ec
	pki_ossl req -x509 -new -key "$pki_tmp/$1.key" -out "$pki_tmp/$1.crt" \
	    -days 3650 -sha256 -subj "$2" \
	    -addext "basicConstraints=${3:-critical,CA:TRUE}" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -addext "subjectKeyIdentifier=hash"
}

pki_leaf() {
	pki_key "$1" "$2"
	if [ "$2" = rsa ]; then
		pki_ku="digitalSignature,keyEncipherment"
	else
		pki_ku="digitalSignature"
	fi
	cat >"$pki_tmp/$1.ext" <<-EXT
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,$pki_ku
	extendedKeyUsage = $5
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	${6:+subjectAltName = $6}
	EXT
	pki_ossl req -new -key "$pki_tmp/$1.key" -out "$pki_tmp/$1.csr" \
	    -subj "$4"
	pki_ossl x509 -req -in "$pki_tmp/$1.csr" -CA "$3.crt" -CAkey "$3.key" \
	    -CAserial "$pki_tmp/$1.srl" -CAcreateserial -days "$pki_days" \
	    -sha256 -extfile "$pki_tmp/$1.ext" -out "$pki_tmp/$1.crt"
	pki_ossl verify -CAfile "$3.crt" "$pki_tmp/$1.crt"
}

pki_put() {
	chmod 600 "$pki_tmp/$2.key"
	chmod 644 "$pki_tmp/$2.crt"
	mv -f "$pki_tmp/$2.key" "$1/$2.key"
	mv -f "$pki_tmp/$2.crt" "$1/$2.crt"
}
