#!/usr/bin/env python3
"""A WebSocket client for lbd's tunnel tests (RFC 6455 framing from
app_server.py, so both ends speak the same protocol).

  ws_client.py URL [--ca FILE] [--sizes N,N,...] [--idle SECONDS]

Opens URL (ws:// or wss://), checks the 101 and Sec-WebSocket-Accept,
expects the server's "hello" greeting, then sends one binary frame per size
(random bytes) and checks each echo, then closes. Prints "ok N" (N frames
echoed) or "error: ...". With --idle it sends nothing after the greeting
and prints "closed after S" when the peer closes the idle tunnel.
"""
import argparse
import base64
import hashlib
import os
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from app_server import ws_frame, ws_read  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--ca")
    ap.add_argument("--sizes", default="5,200,70000")
    ap.add_argument("--idle", type=float)
    a = ap.parse_args()
    u = urlsplit(a.url)
    port = u.port or (443 if u.scheme == "wss" else 80)
    sock = socket.create_connection((u.hostname, port), timeout=10)
    if u.scheme == "wss":
        ctx = ssl.create_default_context(cafile=a.ca)
        ctx.check_hostname = False
        sock = ctx.wrap_socket(sock, server_hostname=u.hostname)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n"
                  % (u.path or "/", u.netloc, key)).encode())
    f = sock.makefile("rb")
    status = f.readline().decode(errors="replace").strip()
    headers = {}
    while True:
        line = f.readline().decode(errors="replace").strip()
        if not line:
            break
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if not status.startswith("HTTP/1.1 101"):
        print("error: status %r" % status)
        return 1
    want = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    if headers.get("sec-websocket-accept") != want:
        print("error: bad accept %r" % headers.get("sec-websocket-accept"))
        return 1
    if headers.get("upgrade", "").lower() != "websocket":
        print("error: upgrade %r" % headers.get("upgrade"))
        return 1
    if ws_read(f) != (1, b"hello"):
        print("error: no greeting")
        return 1
    if a.idle is not None:
        sock.settimeout(a.idle)
        t0 = time.monotonic()
        try:
            got = f.read(1)
        except (socket.timeout, TimeoutError):
            print("error: still open after %.1f" % a.idle)
            return 1
        print("closed after %.1f" % (time.monotonic() - t0) if got == b""
              else "error: data on an idle tunnel")
        return 0
    n = 0
    for size in (int(x) for x in a.sizes.split(",")):
        data = os.urandom(size)
        sock.sendall(ws_frame(2, data, os.urandom(4)))
        if ws_read(f) != (2, data):
            print("error: frame of %d bytes not echoed" % size)
            return 1
        n += 1
    sock.sendall(ws_frame(8, b"\x03\xe8", os.urandom(4)))
    if ws_read(f) != (8, b"\x03\xe8"):
        print("error: no close frame back")
        return 1
    if f.read(1) != b"":
        print("error: not closed after the close frames")
        return 1
    print("ok %d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
