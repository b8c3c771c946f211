#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wmproxy — a fault-injecting TCP proxy for the link tests.

It stands between a station and its town and makes the link thin: one-way
latency with jitter, a rate cap per direction (a slow drip, with a bounded
modem buffer so that the sender feels backpressure, as behind a real
bottleneck), stalls, resets (RST, not FIN), a half-open blackhole (flows
stay open but nothing passes, no FIN or RST ever), a NAT-like silent drop of
flows idle longer than N seconds, and the link going down (connections
refused). It counts the payload bytes it carried each way.

A proxy terminates TCP, so it cannot test TCP keepalive (the kernel's
keepalive probes are answered by the proxy's own socket, never reach the
far side): the network-namespace harness (linkemu.sh) does that with
nftables.

    wmproxy.py --listen 127.0.0.1:0 --to 127.0.0.1:7450 --port-file F \
               --control SOCK [--delay-ms N] [--jitter-ms N] [--rate B/S] \
               [--buffer BYTES] [--idle-drop S]
    wmproxy.py --ctl SOCK COMMAND...     # one command, prints the answer

Commands (on the control socket, one line each):
    set delay_ms=N jitter_ms=N rate=B/S buffer=BYTES idle_drop=S
    blackhole on|off   nothing passes either way, no FIN or RST: data waits, as
                       TCP retransmits it, and passes when the blackhole
                       ends (unless a side gave up: its reset then passes)
    reset              every open flow is reset (RST both ways)
    down | up          down: reset every flow and refuse new connections
    stall S            nothing passes for S seconds (queued, then delivered)
    stats              one JSON line: bytes each way, flows, drops
"""
import argparse
import asyncio
import json
import os
import random
import socket
import struct
import sys
import time

CHUNK = 1024          # bytes per scheduled slice: a rate cap spreads these out


class Dir:
    """One direction of the link (up: child to town), shared by all flows:
    the rate cap is the link's, not a flow's."""

    def __init__(self):
        self.free_at = 0.0      # when the bottleneck has sent all it holds
        self.last_deliver = 0.0
        self.bytes = 0


class Proxy:
    def __init__(self, a):
        self.to_host, self.to_port = a.to
        self.delay = a.delay_ms / 1000.0
        self.jitter = a.jitter_ms / 1000.0
        self.rate = float(a.rate)
        self.buffer = a.buffer
        self.idle_drop = a.idle_drop
        self.blackhole = False
        self.down = False
        self.stall_until = 0.0
        self.up, self.dn = Dir(), Dir()
        self.flows = set()
        self.accepted = 0
        self.dropped_idle = 0
        self.server = None
        self.listen = a.listen

    # ---- scheduling one slice through the emulated link ----
    def schedule(self, d, n):
        """When a slice of n bytes read now comes out at the far end."""
        now = time.monotonic()
        start = max(now, d.free_at)
        d.free_at = start + (n / self.rate if self.rate > 0 else 0.0)
        j = random.uniform(0, self.jitter) if self.jitter > 0 else 0.0
        t = d.free_at + self.delay + j
        t = max(t, d.last_deliver)  # TCP is a stream: no reordering
        d.last_deliver = t
        return t

    def backlog(self, d):
        """Bytes waiting at the bottleneck (the modem buffer)."""
        if self.rate <= 0:
            return 0
        return max(0.0, d.free_at - time.monotonic()) * self.rate


class Flow:
    def __init__(self, px, cr, cw):
        self.px = px
        self.cr, self.cw = cr, cw
        self.sr = self.sw = None
        self.last = time.monotonic()
        self.dead = False       # blackholed for good (idle drop)
        self.tasks = []
        self.queued = [0, 0]    # bytes read and not yet delivered, per direction

    def silenced(self):
        return self.dead

    def held(self):
        return self.px.blackhole or self.px.stall_until > time.monotonic()

    async def pump(self, r, w, d, q, k):
        """Reads r, schedules each slice through direction d into q."""
        try:
            while True:
                while (self.px.buffer and self.px.backlog(d) > self.px.buffer) or \
                        self.queued[k] > max(self.px.buffer, 65536):
                    await asyncio.sleep(0.01)
                data = await r.read(CHUNK)
                if not data:
                    break
                if self.silenced():
                    continue    # swallowed: the far end never hears of it
                self.last = time.monotonic()
                self.queued[k] += len(data)
                await q.put((self.px.schedule(d, len(data)), data))
        except (ConnectionError, OSError):
            pass
        await q.put(None)

    async def deliver(self, w, d, q, k):
        try:
            while True:
                item = await q.get()
                if item is None:
                    break
                t, data = item
                wait = t - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                while self.held():
                    await asyncio.sleep(0.05)
                self.queued[k] -= len(data)
                if self.silenced():
                    continue
                w.write(data)
                d.bytes += len(data)
                self.last = time.monotonic()
                await w.drain()
        except (ConnectionError, OSError):
            pass
        # the sender closed: pass the FIN on, once the link lets it
        while self.held():
            await asyncio.sleep(0.05)
        if not self.silenced():
            try:
                w.write_eof()
            except (OSError, RuntimeError):
                pass

    async def run(self):
        px = self.px
        try:
            self.sr, self.sw = await asyncio.open_connection(px.to_host, px.to_port)
        except OSError:
            self.reset()
            return
        qu, qd = asyncio.Queue(), asyncio.Queue()
        self.tasks = [asyncio.ensure_future(x) for x in (
            self.pump(self.cr, self.sw, px.up, qu, 0), self.deliver(self.sw, px.up, qu, 0),
            self.pump(self.sr, self.cw, px.dn, qd, 1), self.deliver(self.cw, px.dn, qd, 1))]
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.close()

    def close(self):
        for w in (self.cw, self.sw):
            if w:
                try:
                    w.close()
                except OSError:
                    pass

    def reset(self):
        """RST both ways: SO_LINGER 0, then close."""
        for w in (self.cw, self.sw):
            if not w:
                continue
            s = w.get_extra_info("socket")
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except (OSError, AttributeError):
                pass
            w.transport.abort()
        for t in self.tasks:
            t.cancel()


async def on_client(px, r, w):
    px.accepted += 1
    if px.down:
        f = Flow(px, r, w)
        f.reset()
        return
    f = Flow(px, r, w)
    px.flows.add(f)
    try:
        await f.run()
    finally:
        px.flows.discard(f)


async def idle_reaper(px):
    """NAT-like: a flow idle longer than idle_drop seconds is forgotten
    silently: nothing of it passes any more, no FIN, no RST."""
    while True:
        await asyncio.sleep(0.2)
        if px.idle_drop <= 0:
            continue
        now = time.monotonic()
        for f in list(px.flows):
            if not f.dead and now - f.last > px.idle_drop:
                f.dead = True
                px.dropped_idle += 1


async def start_listener(px):
    host, port = px.listen
    px.server = await asyncio.start_server(lambda r, w: on_client(px, r, w), host, port,
                                           reuse_address=True)
    return px.server.sockets[0].getsockname()[1]


async def command(px, line):
    words = line.split()
    if not words:
        return "error: empty command"
    op, args = words[0], words[1:]
    if op == "set":
        for kv in args:
            k, _, v = kv.partition("=")
            if k == "delay_ms":
                px.delay = float(v) / 1000
            elif k == "jitter_ms":
                px.jitter = float(v) / 1000
            elif k == "rate":
                px.rate = float(v)
            elif k == "buffer":
                px.buffer = int(v)
            elif k == "idle_drop":
                px.idle_drop = float(v)
            else:
                return "error: unknown setting %s" % k
        return "ok"
    if op == "blackhole":
        px.blackhole = args[:1] == ["on"]
        return "ok"
    if op == "reset":
        for f in list(px.flows):
            f.reset()
        return "ok"
    if op == "down":
        # the far host is gone: open flows are reset, new ones refused
        # (the listening socket closes: a connect gets RST)
        px.down = True
        for f in list(px.flows):
            f.reset()
        if px.server:
            px.server.close()
            await px.server.wait_closed()
            px.server = None
        return "ok"
    if op == "up":
        px.down = False
        if not px.server:
            px.listen = (px.listen[0], px.port)
            await start_listener(px)
        return "ok"
    if op == "stall":
        px.stall_until = time.monotonic() + float(args[0])
        return "ok"
    if op == "stats":
        return json.dumps({"up_bytes": px.up.bytes, "down_bytes": px.dn.bytes,
                           "flows": len(px.flows), "accepted": px.accepted,
                           "idle_dropped": px.dropped_idle})
    return "error: unknown command %s" % op


async def on_control(px, r, w):
    line = (await r.readline()).decode(errors="replace")
    try:
        ans = await command(px, line)
    except (ValueError, IndexError) as e:
        ans = "error: %s" % e
    w.write((ans + "\n").encode())
    await w.drain()
    w.close()


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


async def main_async(a):
    px = Proxy(a)
    port = px.port = await start_listener(px)
    if a.control:
        try:
            os.unlink(a.control)
        except FileNotFoundError:
            pass
        await asyncio.start_unix_server(lambda r, w: on_control(px, r, w), a.control)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    await idle_reaper(px)


def ctl(path, words):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall((" ".join(words) + "\n").encode())
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    ans = out.decode().strip()
    print(ans)
    return 1 if ans.startswith("error") else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ctl", metavar="SOCK", help="send one command to a running proxy")
    p.add_argument("--listen", type=hostport, default=("127.0.0.1", 0))
    p.add_argument("--to", type=hostport)
    p.add_argument("--port-file")
    p.add_argument("--control")
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--jitter-ms", type=float, default=0)
    p.add_argument("--rate", type=float, default=0, help="bytes per second each way, 0: no cap")
    p.add_argument("--buffer", type=int, default=16384,
                   help="bytes the bottleneck holds before the sender is held back")
    p.add_argument("--idle-drop", type=float, default=0)
    a, rest = p.parse_known_args()
    if a.ctl:
        return ctl(a.ctl, rest)
    if rest or not a.to:
        p.error("--to is required (unknown: %s)" % " ".join(rest))
    try:
        asyncio.run(main_async(a))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
