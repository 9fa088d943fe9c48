#!/usr/bin/env python3
"""receiver.py - a small HTTP(S) collector for shipped data (agentd tests).

Stands in for a Sumo Logic HTTP source or a webhook: every request is
stored, its body gunzipped, and answered with a status the test chooses.

  receiver.py serve --dir DIR [--port P] [--bind ADDR] [--cert C --key K]
                    [--control FILE] [-v]
      Listen (port 0: any free one) and write the port to DIR/port once
      listening (tests wait for that file). Each request N (from 1) is
      stored as DIR/req-NNNNNN.body (the decoded body) and one JSON line
      in DIR/index.jsonl:
        {"n", "time", "method", "path", "headers": {name: value},
         "encoding", "raw_len", "body_len", "status", "body_file"}
      ("headers" keys are lower-case). With --cert/--key it speaks TLS.
      --control FILE (default DIR/control), read at every request: lines
        STATUS COUNT [RETRY_AFTER]
      answer STATUS (with a Retry-After header if given) to the next COUNT
      requests, then go on with the next line; no line left: 200.
      STATUS 0 hangs: the request is read and stored, no answer comes and
      the connection is closed after 30 s (client timeouts).
      A body that does not gunzip is answered 400 and noted as such.
      SIGTERM stops it.

  receiver.py lines DIR [--type PREFIX] [--all]
      Print the body lines of the requests answered 2xx (--all: every
      request), only those whose Content-Type starts with PREFIX.

  receiver.py index DIR
      One line per request: N STATUS CONTENT-TYPE CATEGORY ENCODING
      RAW_LEN BODY_LEN TIME ("-" for a missing header).
"""
import argparse
import gzip
import http.server
import json
import os
import signal
import ssl
import sys
import threading
import time


class State:
    def __init__(self, d, control):
        self.dir = d
        self.control = control
        self.lock = threading.Lock()
        self.n = 0

    def next_status(self):
        """Consume one answer from the control file: (status, retry_after)."""
        try:
            with open(self.control) as f:
                lines = [l.split() for l in f if l.strip()]
        except FileNotFoundError:
            return 200, None
        if not lines:
            return 200, None
        first = lines[0]
        status, count = int(first[0]), int(first[1])
        retry = first[2] if len(first) > 2 else None
        count -= 1
        rest = lines[1:]
        if count > 0:
            rest = [[str(status), str(count)] + ([retry] if retry else [])] + rest
        tmp = self.control + ".tmp"
        with open(tmp, "w") as f:
            for l in rest:
                f.write(" ".join(l) + "\n")
        os.replace(tmp, self.control)
        return status, retry


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("receiver: " + (fmt % args) + "\n")

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        enc = self.headers.get("Content-Encoding") or ""
        body, bad = raw, False
        if enc.lower() == "gzip":
            try:
                body = gzip.decompress(raw)
            except Exception:
                bad = True
        with st.lock:
            st.n += 1
            n = st.n
            status, retry = st.next_status()
            if bad:
                status, retry = 400, None
            name = "req-%06d.body" % n
            with open(os.path.join(st.dir, name), "wb") as f:
                f.write(body)
            rec = {
                "n": n, "time": time.time(), "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "encoding": enc, "raw_len": len(raw), "body_len": len(body),
                "status": status, "body_file": name,
            }
            with open(os.path.join(st.dir, "index.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")
        if status == 0:
            time.sleep(30)
            self.close_connection = True
            return
        reply = (b"bad gzip\n" if bad else
                 b"ok\n" if status < 300 else b"refused by the test\n")
        self.send_response(status)
        if retry:
            self.send_header("Retry-After", retry)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_PUT = do_POST


def serve(a):
    os.makedirs(a.dir, exist_ok=True)
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.verbose = a.verbose
    srv.state = State(a.dir, a.control or os.path.join(a.dir, "control"))
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    tmp = os.path.join(a.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, os.path.join(a.dir, "port"))
    srv.serve_forever()


def entries(d):
    try:
        with open(os.path.join(d, "index.jsonl")) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def lines(a):
    out = sys.stdout.buffer
    for e in entries(a.dir):
        if not a.all and not 200 <= e["status"] < 300:
            continue
        if not e["headers"].get("content-type", "").startswith(a.type):
            continue
        with open(os.path.join(a.dir, e["body_file"]), "rb") as f:
            for l in f.read().splitlines():
                out.write(l + b"\n")


def index(a):
    for e in entries(a.dir):
        h = e["headers"]
        print(e["n"], e["status"], h.get("content-type", "-"),
              h.get("x-sumo-category", "-"), e["encoding"] or "-",
              e["raw_len"], e["body_len"], "%.3f" % e["time"])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--bind", default="127.0.0.1")
    s.add_argument("--cert")
    s.add_argument("--key")
    s.add_argument("--control")
    s.add_argument("-v", "--verbose", action="store_true")
    s = sub.add_parser("lines")
    s.add_argument("dir")
    s.add_argument("--type", default="")
    s.add_argument("--all", action="store_true")
    s = sub.add_parser("index")
    s.add_argument("dir")
    a = p.parse_args()
    if a.cmd != "serve":
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # | head
    {"serve": serve, "lines": lines, "index": index}[a.cmd](a)


if __name__ == "__main__":
    main()
