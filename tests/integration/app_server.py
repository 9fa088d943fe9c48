#!/usr/bin/env python3
"""A small HTTP application server for webd's proxy tests, standing in for
Node/Python/Ruby app servers: it answers what it saw so the test can check
what webd forwarded.

  app_server.py ADDR      ADDR is host:port or unix:/path

Paths:
  /api/echo      JSON: method, path, headers, body length and sha256
  /api/big?n=N   N bytes of 'x' without Content-Length (close-delimited)
  /api/slow?s=S  answers after S seconds
  /api/status?c=C answers status C
Request bodies may be chunked; they are decoded here.
"""
import hashlib
import json
import os
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body, "chunked"
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n), "length"

    def answer(self, code, body, ctype="application/json", length=True):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("X-App", "app_server")
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        body, framing = self.read_body()
        if url.path == "/api/big":
            self.answer(200, b"x" * int(q["n"][0]), "text/plain", length=False)
        elif url.path == "/api/slow":
            time.sleep(float(q["s"][0]))
            self.answer(200, b"slow\n", "text/plain")
        elif url.path == "/api/status":
            self.answer(int(q["c"][0]), b"status\n", "text/plain")
        else:
            out = {
                "method": self.command,
                "path": self.path,
                "headers": {k: v for k, v in self.headers.items()},
                "framing": framing,
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
            self.answer(200, (json.dumps(out, sort_keys=True) + "\n").encode())

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        sock, _ = super().get_request()
        return sock, ("unix", 0)


def main():
    addr = sys.argv[1]
    if addr.startswith("unix:"):
        path = addr[5:]
        if os.path.exists(path):
            os.unlink(path)
        server = UnixServer(path, Handler)
    else:
        host, port = addr.rsplit(":", 1)
        server = TCPServer((host, int(port)), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
