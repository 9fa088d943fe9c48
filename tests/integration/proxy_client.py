#!/usr/bin/env python3
"""A client that starts its connection with a PROXY protocol header, the way
a TCP proxy in front of lbd would, then sends one HTTP request and prints
the whole answer (nothing if the connection was closed without one).

  proxy_client.py PORT v1|v2 SRC DST [PATH]   SRC, DST: 1.2.3.4:5, [2001:db8::1]:5
  proxy_client.py PORT v2local - - [PATH]     a v2 LOCAL header
  proxy_client.py PORT raw 'BYTES' - [PATH]   BYTES with Python escapes (\\r\\n, \\x00)
  proxy_client.py PORT none - - [PATH]        no header at all
  PATH "-" sends no request: print what comes back (EOF within 5 s: nothing)
  --tls CAFILE (first)  after the header, TLS to "localhost" verified by CAFILE
  --split N (first)     send the header's first N bytes, then the rest once
                        the server has read them (its socket's Recv-Q is
                        empty, per ss): it must take a header in two reads
"""
import codecs
import ipaddress
import socket
import ssl
import struct
import subprocess
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def split(hp):
    host, port = hp.rsplit(":", 1)
    return ipaddress.ip_address(host.strip("[]")), int(port)


def header(kind, src, dst):
    if kind == "none":
        return b""
    if kind == "raw":
        return codecs.decode(src, "unicode_escape").encode("latin-1")
    if kind == "v2local":
        return SIG + b"\x20\x00\x00\x00"
    (sip, sport), (dip, dport) = split(src), split(dst)
    if kind == "v1":
        proto = "TCP4" if sip.version == 4 else "TCP6"
        return f"PROXY {proto} {sip} {dip} {sport} {dport}\r\n".encode()
    fam = 0x11 if sip.version == 4 else 0x21
    block = sip.packed + dip.packed + struct.pack(">HH", sport, dport)
    return SIG + bytes([0x21, fam]) + struct.pack(">H", len(block)) + block


def wait_read(s):
    """Until the server has read all we sent: Recv-Q of its end of this
    connection, as ss shows it, is 0."""
    lport = s.getsockname()[1]
    rport = s.getpeername()[1]
    flt = f"sport = :{rport} and dport = :{lport}"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        out = subprocess.run(["ss", "-Htn", flt], capture_output=True,
                             text=True).stdout.split()
        if len(out) >= 2 and out[1] == "0":
            return
        time.sleep(0.01)
    raise SystemExit("the server did not read the first part")


def main():
    args = sys.argv[1:]
    cafile, split = None, 0
    while args[0] in ("--tls", "--split"):
        if args[0] == "--tls":
            cafile = args[1]
        else:
            split = int(args[1])
        args = args[2:]
    port, kind, src, dst = int(args[0]), args[1], args[2], args[3]
    path = args[4] if len(args) > 4 else "/api/echo"
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = header(kind, src, dst)
    if split:
        s.sendall(data[:split])
        wait_read(s)
        data = data[split:]
    s.sendall(data)
    out = b""
    try:
        if cafile:
            # The PROXY header went first, in clear; the ClientHello follows.
            s = ssl.create_default_context(cafile=cafile).wrap_socket(
                s, server_hostname="localhost")
        if path != "-":
            s.sendall((f"GET {path} HTTP/1.1\r\nHost: test\r\n"
                       "Connection: close\r\n\r\n").encode())
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except ConnectionResetError:
        pass    # closed with our unread bytes in its socket: no answer
    except ssl.SSLError as e:
        out += f"TLS ERROR {e}".encode()
    except socket.timeout:
        out += b"TIMEOUT"
    sys.stdout.write(out.decode("latin-1"))


if __name__ == "__main__":
    main()
