#!/usr/bin/env python3
"""socketmap-client.py: a raw socketmap client for tests/integration/socketmap.test.

It does what Postfix's own client (postmap -q) cannot: pipelines, sends garbage, holds several
connections open, and times answers.  ADDR is written as the server's spec: unix:/path,
inet:PORT@127.0.0.1, inet6:PORT@[::1].  Every command prints `key=value` lines for the test to
compare, and exits 0 unless the setup itself failed (cannot connect).

  query ADDR REQUEST...     one connection; each request sent and its reply printed, in turn
  pipeline ADDR N           N requests in one write, replies read back; "order=ok" or the first mismatch
  split ADDR                two pipelined requests sent one byte at a time
  garbage ADDR KIND         KIND of bad input on one connection while a second stays open:
                            the reply, whether the bad connection was closed, and the second's answer
  slow ADDR                 slow.test on one connection, then example.com on another: both latencies
  cap ADDR N                N connections each answered, one more closed at once, then one again
  idle ADDR                 connect, send nothing: ms until the server closes
  stalled ADDR              half a request: ms until the server closes
  stop-during ADDR PID      slow.test, SIGTERM to PID 0.3 s later: the reply still arrives
"""
import os
import signal
import socket
import sys
import time

GARBAGE = {
    "badlen": b"12x:transport example.com,",
    "negative": b"-5:abcde,",
    "emptylen": b":transport example.com,",
    "leadingzero": b"021:transport example.com,",
    "nocomma": b"21:transport example.com;",
    "oversized": b"10001:" + b"x" * 100,
    "huge": b"99999999999999999999999:",
    "binary": b"\x1b[31m\x00\xff\r\nFAKE: x\r\n",
    "nospace": b"11:example.com,",
    "emptymap": b"12: example.com,",
    "nul": b"15:transport ab\x00cd,",
    "http": b"GET / HTTP/1.0\r\n\r\n",
}


def connect(addr, timeout=10.0):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = addr[5:]
    else:
        kind, rest = addr.split(":", 1)
        port, host = rest.split("@", 1)
        host = host.strip("[]")
        s = socket.socket(socket.AF_INET6 if kind == "inet6" else socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    s.settimeout(timeout)
    s.connect(target)
    return s


def netstring(data):
    if isinstance(data, str):
        data = data.encode()
    return str(len(data)).encode() + b":" + data + b","


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def reply(self):
        """The next netstring's data, as text."""
        while b":" not in self.buf:
            self.fill()
        head, _, rest = self.buf.partition(b":")
        n = int(head)
        while len(rest) < n + 1:
            self.fill()
            head, _, rest = self.buf.partition(b":")
        if rest[n:n + 1] != b",":
            raise ValueError("reply without comma")
        self.buf = rest[n + 1:]
        return rest[:n].decode("ascii", "backslashreplace")

    def closed(self, timeout=3.0):
        """True if the server closes (EOF or reset) within timeout with nothing more sent."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def show(key, value):
    print(f"{key}={value}")


def cmd_query(addr, *requests):
    s = connect(addr)
    r = Reader(s)
    for i, req in enumerate(requests):
        s.sendall(netstring(req))
        show(f"reply{i}", r.reply())


def cmd_pipeline(addr, n):
    n = int(n)
    s = connect(addr)
    s.sendall(b"".join(netstring(f"map{i} echo.{i}") for i in range(n)))
    r = Reader(s)
    for i in range(n):
        got = r.reply()
        if got != f"OK map=map{i} key=echo.{i}":
            show("order", f"mismatch at {i}: {got}")
            return
    show("order", "ok")


def cmd_split(addr):
    s = connect(addr)
    for byte in netstring("transport example.com") + netstring("m echo.split"):
        s.sendall(bytes([byte]))
        time.sleep(0.002)
    r = Reader(s)
    show("reply0", r.reply())
    show("reply1", r.reply())


def cmd_garbage(addr, kind):
    good = connect(addr)
    bad = connect(addr)
    bad.sendall(GARBAGE[kind])
    r = Reader(bad)
    try:
        show("reply", r.reply())
    except (EOFError, ConnectionResetError):
        show("reply", "none")
    show("closed", "yes" if r.closed() else "no")
    good.sendall(netstring("transport example.com"))
    show("other", Reader(good).reply())


def cmd_slow(addr):
    slow = connect(addr)
    fast = connect(addr)
    t0 = time.monotonic()
    slow.sendall(netstring("transport slow.test"))
    time.sleep(0.1)
    t1 = time.monotonic()
    fast.sendall(netstring("transport example.com"))
    show("fast", Reader(fast).reply())
    show("fast_ms", int((time.monotonic() - t1) * 1000))
    show("slow", Reader(slow).reply())
    show("slow_ms", int((time.monotonic() - t0) * 1000))


def cmd_cap(addr, n):
    n = int(n)
    conns = [connect(addr) for _ in range(n)]
    answered = 0
    for c in conns:
        c.sendall(netstring("transport example.com"))
        if Reader(c).reply() == "OK smtp:[127.0.0.1]:2525":
            answered += 1
    show("answered", answered)
    extra = connect(addr)
    t0 = time.monotonic()
    show("extra_closed", "yes" if Reader(extra).closed() else "no")
    show("extra_closed_ms", int((time.monotonic() - t0) * 1000))
    extra.close()
    conns.pop().close()
    time.sleep(0.3)
    again = connect(addr)
    again.sendall(netstring("transport example.com"))
    show("again", Reader(again).reply())


def cmd_idle(addr):
    s = connect(addr)
    t0 = time.monotonic()
    closed = Reader(s).closed(timeout=10)
    show("closed", "yes" if closed else "no")
    show("ms", int((time.monotonic() - t0) * 1000))


def cmd_stalled(addr):
    s = connect(addr)
    t0 = time.monotonic()
    s.sendall(b"21:transport ex")
    closed = Reader(s).closed(timeout=10)
    show("closed", "yes" if closed else "no")
    show("ms", int((time.monotonic() - t0) * 1000))


def cmd_stop_during(addr, pid):
    s = connect(addr)
    s.sendall(netstring("transport slow.test"))
    time.sleep(0.3)
    os.kill(int(pid), signal.SIGTERM)
    r = Reader(s)
    try:
        show("reply", r.reply())
    except (EOFError, ConnectionResetError):
        show("reply", "none")
    show("closed", "yes" if r.closed() else "no")


COMMANDS = {
    "query": cmd_query, "pipeline": cmd_pipeline, "split": cmd_split, "garbage": cmd_garbage,
    "slow": cmd_slow, "cap": cmd_cap, "idle": cmd_idle, "stalled": cmd_stalled,
    "stop-during": cmd_stop_during,
}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except OSError as e:
        sys.stderr.write(f"socketmap-client: {e}\n")
        sys.exit(1)
