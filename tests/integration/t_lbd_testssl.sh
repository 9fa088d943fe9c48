#!/usr/bin/env bash
# testssl.sh (Debian's testssl) against lbd's TLS frontend, with an ECDSA
# and an RSA certificate (SNI "localhost" picks both), proxying to a webd.
# Its JSON findings are checked with python3, by id and severity: no
# protocol below TLS 1.2, no weak cipher category, forward secrecy and
# AEAD for every cipher offered under any protocol, and no vulnerability
# finding.
#
# Kept short (a full testssl run takes minutes): only the sections the
# checks need, -p protocols, -s cipher categories, -E every cipher per
# protocol (which also shows the key exchange, so -f's forward secrecy
# section, 20 s more, is left out) and -U vulnerabilities; no DNS lookups
# (--nodns none, --ip), no certificate checks (-S would only say the test
# CA is not trusted), and timeouts so nothing can hang. Most of the time
# is testssl's own start-up in bash (hundreds of forks): 55-75 s here on
# a busy 2-core machine. Two testssl runs in parallel, each with half the
# sections, were slower here, not faster.
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
json=$T_DIR/testssl.json
t0=$(date +%s)
timeout 240 testssl --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 \
	--connect-timeout 5 --openssl-timeout 5 -p -s -E -U \
	--jsonfile "$json" localhost:8443 > "$T_DIR/testssl.txt" 2>&1
rc=$?
echo "# testssl took $(( $(date +%s) - t0 )) s (exit status $rc)"
# testssl's exit status counts findings, so only a timeout (124) or
# missing output is a failure of the run itself.
if [ "$rc" = 124 ] || [ ! -s "$json" ]; then
	fail "testssl finished and wrote its JSON findings" "exit status $rc" \
		"$(tail -n 20 "$T_DIR/testssl.txt")"
	exit 1
fi
pass "testssl finished and wrote its JSON findings"

# One line per check: "PASS<TAB>name" or "FAIL<TAB>name<TAB>detail", and
# "END" once all ran: a checker that died on the way is a failure too.
end=""
while IFS=$'\t' read -r verdict name detail; do
	case $verdict in
	PASS)	pass "$name" ;;
	END)	end=1 ;;
	*)	fail "$name" "$detail" ;;
	esac
done < <(python3 - "$json" <<'PY'
import json, re, sys

findings = json.load(open(sys.argv[1]))
by_id = {}
for f in findings:
    by_id.setdefault(f["id"], []).append(f)

def check(name, good, detail=""):
    print("PASS\t%s" % name if good else "FAIL\t%s\t%s" % (name, detail))

def finding(i):
    return by_id[i][0]["finding"] if i in by_id else "<missing>"

check("testssl finished its scan", "scanTime" in by_id and
      not any(f["severity"] == "FATAL" for f in findings),
      "; ".join(f["finding"] for f in findings if f["severity"] == "FATAL"))

for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    check("testssl: %s not offered" % p,
          finding(p).startswith("not offered"), finding(p))
check("testssl: TLS 1.2 offered", finding("TLS1_2") == "offered",
      finding("TLS1_2"))

# NULL, anonymous, export, LOW (DES, RC2, RC4), 3DES/IDEA and AVERAGE,
# testssl's "obsolete CBC ciphers". (RC4 is also among the vulnerabilities.)
for c in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
    i = "cipherlist_" + c
    check("testssl: no %s ciphers" % c, finding(i) == "not offered",
          finding(i))

# -E lists what each protocol accepts: "TLS 1.2   xc02b   NAME   ECDH 253
# AESGCM   128   IANA-NAME", the key exchange with its group size when it
# is ephemeral.
offered = {}
for f in findings:
    if f["id"].startswith("cipher-"):
        m = re.match(r"(TLS 1(?:\.[0-3])?|SSLv[23])\s+x\S+\s+(\S+)\s.*\s(\S+)$",
                     f["finding"].strip())
        if m:
            offered.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
        else:
            offered.setdefault("unparsed", {})[f["finding"]] = ""
check("testssl: ciphers offered under TLS 1.2 only",
      list(offered) == ["TLS 1.2"], repr(sorted(offered)))
suites = {}
for p in offered.values():
    suites.update(p)
policy = {"ECDHE-%s-%s" % (k, e) for k in ("ECDSA", "RSA")
          for e in ("AES128-GCM-SHA256", "AES256-GCM-SHA384",
                    "CHACHA20-POLY1305")}
check("testssl: the ciphers are the policy's six (ECDSA and RSA)",
      set(suites) == policy, "got " + " ".join(sorted(suites)))
no_fs = [n for n, iana in suites.items()
         if not re.match(r"TLS_(EC)?DHE_", iana)]
check("testssl: every cipher offered has forward secrecy (ECDHE)",
      suites and not no_fs, "not forward secret: " + " ".join(sorted(no_fs)))
no_aead = [n for n, iana in suites.items()
           if not re.search(r"_WITH_(AES_(128|256)_GCM_SHA(256|384)|"
                            r"CHACHA20_POLY1305_SHA256)$", iana)]
check("testssl: every cipher offered is AEAD", suites and not no_aead,
      "not AEAD: " + " ".join(sorted(no_aead)))

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
