#!/bin/sh
# make deps: install every Debian package that the build, the tests, the demo
# and the benchmarks need. Debian 12 (bookworm); needs root for apt-get.
set -eu

# One list, grouped by what needs it; keep it sorted within a group.
BUILD="build-essential clang libclang-rt-14-dev libmariadb-dev libmariadb-dev-compat libmbedtls-dev libmnl-dev libnftnl-dev pkg-config zlib1g-dev"
TESTS="check curl iproute2 libsubunit-dev mandoc mariadb-client mariadb-server netcat-openbsd nftables openssl php8.2-fpm php8.2-mysql procps prometheus python3 socat sysbench testssl.sh util-linux"
BENCH="haproxy nginx-light prometheus-node-exporter wrk"
PACKAGES="$BUILD $TESTS $BENCH"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all packages installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: installing needs root: run 'sudo make deps'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing$missing"
apt-get update -qq
# Recommends would pull a full Prometheus web UI and more: not needed.
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
