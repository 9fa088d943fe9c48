#!/usr/bin/env python3
"""A backend behind lbd's send-proxy-v2: every connection must start with a
PROXY protocol v2 header; HTTP/1.1 requests after it (keep-alive) are
answered with what the header said, so a test can check what lbd sent.

  proxy_echo.py HOST:PORT NAME

Answer body, one line:
  NAME conn=N cmd=PROXY src=1.2.3.4:5 dst=6.7.8.9:10
  NAME conn=N cmd=LOCAL                                (health checks)
N counts connections from 1, so two answers with the same N came over one
reused connection. Each connection also logs one line on stdout:
"conn N: PROXY SRC DST", "conn N: LOCAL" or "conn N: refused: WHY" (the
connection is then closed without an answer).
"""
import ipaddress
import itertools
import socketserver
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
FAMILIES = {0x11: (4, 12), 0x21: (16, 36)}  # TCP4, TCP6: address size, block
counter = itertools.count(1)
lock = threading.Lock()


def fmt(raw, port):
    ip = ipaddress.ip_address(raw)
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def read_header(rfile):
    """(cmd, src, dst) or raise ValueError with the reason."""
    fixed = rfile.read(16)
    if len(fixed) < 16:
        raise ValueError("closed before a 16-byte header")
    if fixed[:12] != SIG:
        raise ValueError("no v2 signature")
    ver_cmd, fam, length = fixed[12], fixed[13], struct.unpack(">H", fixed[14:])[0]
    if ver_cmd >> 4 != 2 or ver_cmd & 0xF > 1:
        raise ValueError(f"bad version/command 0x{ver_cmd:02x}")
    block = rfile.read(length)
    if len(block) < length:
        raise ValueError("truncated address block")
    if ver_cmd & 0xF == 0:
        return "LOCAL", None, None
    if fam not in FAMILIES:
        raise ValueError(f"unexpected family 0x{fam:02x}")
    size, need = FAMILIES[fam]
    if length < need:
        raise ValueError("address block too short")
    sport, dport = struct.unpack(">HH", block[2 * size:2 * size + 4])
    return "PROXY", fmt(block[:size], sport), fmt(block[size:2 * size], dport)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt_, *args):
        pass

    def handle(self):
        with lock:
            self.conn_no = next(counter)
        try:
            self.cmd, self.src, self.dst = read_header(self.rfile)
        except ValueError as e:
            print(f"conn {self.conn_no}: refused: {e}", flush=True)
            return
        if self.cmd == "LOCAL":
            print(f"conn {self.conn_no}: LOCAL", flush=True)
        else:
            print(f"conn {self.conn_no}: PROXY {self.src} {self.dst}", flush=True)
        super().handle()

    def do_GET(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n:
            self.rfile.read(n)
        line = f"{self.server.name} conn={self.conn_no} cmd={self.cmd}"
        if self.cmd == "PROXY":
            line += f" src={self.src} dst={self.dst}"
        body = (line + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_POST = do_GET


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    srv = Server((host, int(port)), Handler)
    srv.name = sys.argv[2]
    srv.serve_forever()


if __name__ == "__main__":
    main()
