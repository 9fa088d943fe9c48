#!/usr/bin/env bash
# testssl.sh (Debian's testssl) against lbd's TLS frontend, with an ECDSA
# and an RSA certificate (SNI "localhost" picks both), proxying to a webd.
# Its JSON findings are checked with python3, by id and severity: no
# protocol below TLS 1.2, no weak cipher category, forward secrecy and
# AEAD for every cipher offered under any protocol, only strong curves,
# and no vulnerability finding.
#
# Kept short (a full testssl run takes minutes): only the sections
# asserted on (-p protocols, -s cipher categories, -f forward secrecy,
# -E ciphers per protocol, -U vulnerabilities), split over two testssl
# runs at once; no DNS lookups (--nodns none, --ip), no certificate checks
# (-S would only say the test CA is not trusted), and timeouts so nothing
# can hang. Most of testssl's time is its own start-up (hundreds of forks
# in bash): measured here at 60-100 s for both runs, depending on how busy
# the machine was; one run with all five sections took 50-90 s.
. "$(dirname "$0")/lib.sh"

LBD=$BIN/lbd
SOCK=$T_DIR/lbd.sock
ctl() { printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }

if ! command -v testssl >/dev/null; then
	fail "testssl is installed (make deps)"
	exit 1
fi

mkdir -p "$T_DIR/www"
echo "web-01" > "$T_DIR/www/index.html"
cat > "$T_DIR/web.conf" <<CONF
control "$T_DIR/web.sock"
listen "127.0.0.1:9441"
root "$T_DIR/www"
CONF
cat > "$T_DIR/lbd.conf" <<CONF
control "$SOCK"
frontend "www" {
	listen "127.0.0.1:8443" tls
	certificate "$CERTS/server.crt" "$CERTS/server.key"
	certificate "$CERTS/server-rsa.crt" "$CERTS/server-rsa.key"
	pool "web"
}
pool "web" {
	server "web-01" "127.0.0.1:9441"
}
CONF

start_daemon web "$BIN/webd" -f "$T_DIR/web.conf" || exit 1
start_daemon lbd "$LBD" -f "$T_DIR/lbd.conf" || exit 1
expect_eq "lbd serves over TLS" \
	"$(curl -sS --max-time 10 --cacert "$CERTS/ca.crt" https://localhost:8443/)" "web-01"

# Resumption: openssl reconnects five times with the first session.
out=$(openssl s_client -connect 127.0.0.1:8443 -servername localhost -reconnect \
	</dev/null 2>/dev/null | grep -E '^(New|Reused),')
expect_match "a full handshake first" "$(head -n 1 <<<"$out")" '^New, TLSv1\.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256$'
expect_eq "then five resumed sessions" "$(grep -c '^Reused, TLSv1\.2' <<<"$out")" 5
m=$(ctl metrics)
expect_match "lbd counts the resumed handshakes" "$m" \
	'stackd_lbd_tls_handshakes_total\{frontend="www",session="resumed"\} 5$'

# ---- testssl ----
# Two runs at once, each with half of the sections (about the same time
# each): testssl is a bash program that keeps one core busy, mostly on
# its own start-up, so two halves in parallel take a little more than
# half the time of one run.
O=(--quiet --color 0 --warnings off --nodns none --ip 127.0.0.1
   --connect-timeout 5 --openssl-timeout 5)
t0=$(date +%s)
timeout 240 testssl "${O[@]}" -p -f -E --jsonfile "$T_DIR/testssl-1.json" \
	localhost:8443 > "$T_DIR/testssl-1.txt" 2>&1 &
p1=$!
timeout 240 testssl "${O[@]}" -s -U --jsonfile "$T_DIR/testssl-2.json" \
	localhost:8443 > "$T_DIR/testssl-2.txt" 2>&1 &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
echo "# testssl took $(( $(date +%s) - t0 )) s (exit status $rc1 and $rc2)"
# testssl's exit status counts findings, so only a timeout (124) or
# missing output is a failure of the run itself.
for i in 1 2; do
	eval "rc=\$rc$i"
	if [ "$rc" = 124 ] || [ ! -s "$T_DIR/testssl-$i.json" ]; then
		fail "testssl run $i finished and wrote its JSON findings" \
			"exit status $rc" "$(tail -n 20 "$T_DIR/testssl-$i.txt")"
		exit 1
	fi
	pass "testssl run $i finished and wrote its JSON findings"
done

# One line per check: "PASS<TAB>name" or "FAIL<TAB>name<TAB>detail", and
# "END" once all ran: a checker that died on the way is a failure too.
end=""
while IFS=$'\t' read -r verdict name detail; do
	case $verdict in
	PASS)	pass "$name" ;;
	END)	end=1 ;;
	*)	fail "$name" "$detail" ;;
	esac
done < <(python3 - "$T_DIR"/testssl-[12].json <<'PY'
import json, re, sys

findings = []
for path in sys.argv[1:]:
    findings += json.load(open(path))
by_id = {}
for f in findings:
    by_id.setdefault(f["id"], []).append(f)

def check(name, good, detail=""):
    print("PASS\t%s" % name if good else "FAIL\t%s\t%s" % (name, detail))

def finding(i):
    return by_id[i][0]["finding"] if i in by_id else "<missing>"

check("testssl finished both scans", len(by_id.get("scanTime", [])) == 2 and
      not any(f["severity"] == "FATAL" for f in findings),
      "; ".join(f["finding"] for f in findings if f["severity"] == "FATAL"))

for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    check("testssl: %s not offered" % p,
          finding(p).startswith("not offered"), finding(p))
check("testssl: TLS 1.2 offered", finding("TLS1_2") == "offered",
      finding("TLS1_2"))

# NULL, anonymous, export, LOW (DES, RC2, RC4), 3DES/IDEA and AVERAGE,
# testssl's "obsolete CBC ciphers".
for c in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
    i = "cipherlist_" + c
    check("testssl: no %s ciphers" % c, finding(i) == "not offered",
          finding(i))
check("testssl: no RC4", by_id.get("RC4", [{}])[0].get("severity") == "OK",
      finding("RC4"))

# -E lists what each protocol accepts: "TLS 1.2   xc02b   NAME   ECDH 253
# AESGCM   128   IANA name".
offered = {}
for f in findings:
    if f["id"].startswith("cipher-"):
        m = re.match(r"(TLS 1(?:\.[0-3])?|SSLv[23])\s+x\S+\s+(\S+)",
                     f["finding"])
        if m:
            offered.setdefault(m.group(1), set()).add(m.group(2))
        else:
            offered.setdefault("unparsed", set()).add(f["finding"])
check("testssl: ciphers offered under TLS 1.2 only",
      list(offered) == ["TLS 1.2"], repr(sorted(offered)))
suites = set().union(*offered.values())
policy = {"ECDHE-%s-%s" % (k, e) for k in ("ECDSA", "RSA")
          for e in ("AES128-GCM-SHA256", "AES256-GCM-SHA384",
                    "CHACHA20-POLY1305")}
check("testssl: the ciphers are the policy's six (ECDSA and RSA)",
      suites == policy, "got " + " ".join(sorted(suites)))
pfs = set(finding("PFS_ciphers").split())
check("testssl: forward secrecy offered", finding("PFS") == "offered",
      finding("PFS"))
no_fs = {s for s in suites if s not in pfs or not s.startswith("ECDHE-")}
check("testssl: every cipher offered has forward secrecy",
      suites and not no_fs, "not forward secret: " + " ".join(sorted(no_fs)))
aead = re.compile(r"-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$")
no_aead = {s for s in suites if not aead.search(s)}
check("testssl: every cipher offered is AEAD", suites and not no_aead,
      "not AEAD: " + " ".join(sorted(no_aead)))
curves = set(finding("PFS_ECDHE_curves").split())
check("testssl: ECDHE curves are X25519 and P-256 or stronger",
      curves and curves <= {"X25519", "prime256v1", "secp384r1"},
      " ".join(sorted(curves)))

vulns = ("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego",
         "secure_client_renego", "CRIME_TLS", "BREACH", "POODLE_SSL",
         "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST",
         "LUCKY13", "RC4")
missing = [v for v in vulns if v not in by_id]
check("testssl ran every vulnerability check", not missing,
      "missing: " + " ".join(missing))
for v in vulns:
    if v in by_id:
        f = by_id[v][0]
        check("testssl: %s not vulnerable" % v,
              f["severity"] in ("OK", "INFO") and
              "VULNERABLE" not in f["finding"], "%s: %s" % (f["severity"],
                                                             f["finding"]))
# Anything else rated LOW or worse, or a warning other than the local
# openssl lacking GOST engines, is a finding too.
bad = [f for f in findings
       if f["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL") or
       (f["severity"] == "WARN" and f["id"] != "engine_problem") or
       "VULNERABLE" in f["finding"] or "NOT ok" in f["finding"]]
check("testssl: nothing rated LOW or worse, no warning",
      not bad, "; ".join("%s %s: %s" % (f["id"], f["severity"],
                                        f["finding"]) for f in bad))
print("END")
PY
)
[ -n "$end" ] || fail "the JSON checks all ran" "see the python error above"

# lbd went through all of that unharmed.
expect_eq "lbd still serves" \
	"$(curl -sS --max-time 10 --cacert "$CERTS/ca.crt" https://localhost:8443/)" "web-01"
ctl metrics | tail -n +2 > "$T_DIR/metrics.txt"
ok "metrics pass promtool" promtool check metrics < "$T_DIR/metrics.txt"
expect_match "lbd counted testssl's full handshakes" "$(cat "$T_DIR/metrics.txt")" \
	'stackd_lbd_tls_handshakes_total\{frontend="www",session="new"\} [1-9][0-9]'
stop_daemon lbd
stop_daemon web
