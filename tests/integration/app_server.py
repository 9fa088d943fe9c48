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
  /ws            a WebSocket (RFC 6455) that greets with a text frame
                 "hello" sent with the 101, then echoes every data frame
Request bodies may be chunked; they are decoded here.
"""
import base64
import hashlib
import json
import os
import socketserver
import struct
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

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        if "upgrade" not in self.headers.get("Connection", "").lower() or \
                self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self.answer(400, b"not a websocket handshake\n", "text/plain")
            return
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        # The greeting leaves in the same write as the 101 head.
        self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\n"
                         b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n"
                         b"X-App: app_server\r\n\r\n" + ws_frame(1, b"hello"))
        self.wfile.flush()
        while True:
            frame = ws_read(self.rfile)
            if frame is None:
                break
            op, data = frame
            if op == 8:
                self.wfile.write(ws_frame(8, data))
                break
            if op in (1, 2):
                self.wfile.write(ws_frame(op, data))
            elif op == 9:
                self.wfile.write(ws_frame(10, data))
            self.wfile.flush()
        self.close_connection = True

    def handle_any(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        if url.path == "/ws":
            self.websocket()
            return
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


def ws_frame(op, data, mask=None):
    """One final frame; masked (as clients must) when mask is 4 bytes."""
    n = len(data)
    head = bytes([0x80 | op])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        head += mask
    return head + data


def ws_read(f):
    """(opcode, payload) of the next frame, unmasked; None at EOF."""
    h = f.read(2)
    if len(h) < 2:
        return None
    op, n = h[0] & 0x0F, h[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", f.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", f.read(8))[0]
    mask = f.read(4) if h[1] & 0x80 else None
    data = f.read(n)
    if len(data) < n:
        return None
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return op, data


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
