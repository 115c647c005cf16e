#!/usr/bin/python3
"""The soak: two simulated hosts under mixed traffic while faults are injected on a schedule.

Host A runs ipcd, tcpd (outbound only), websocketd (outbound only) and pongd; host B runs ipcd
(its `in` rule from a config file), tcpd (plain and TLS, with a certificate and a pre-shared
key), websocketd and pongd. As root (--net netns, the default when root) each host is a network
namespace of its own, joined by a veth pair (192.0.2.1 on A, 192.0.2.2 on B: TEST-NET-1, inside
the two namespaces only), and the soak itself runs in A's; otherwise (--net loopback) the two
are run directories on loopback. Ports are ephemeral. Clients on A then, all at once and all
the time:

  local      pong on A through A's ipcd
  tcp        pong on B through tcp:// (the socket handed over)
  tls-cert   pong on B through tls:// with B's certificate checked against the test CA
  tls-psk    pong on B through tls:// with a pre-shared key
  ws         pong on B through ws:// (A's websocketd calling B's)
  ws-stock   python3-websockets straight to B's websocketd (ipc.text)
  pong       the pong program itself, through tcp://

Every frame carries its client, its sequence number and a pattern derived from them, so that
an echo is checked by content and order; sizes go from 16 bytes to 1 MiB; connections are
opened and closed all the time, and idle ones are held open and checked now and then. The
faults, in turn: kill -9 and restart of each daemon of both hosts, SIGHUP of B's ipcd with a
valid and with a broken config, a reader that stalls (it must be dropped at the write timeout),
a burst of hostile bytes at every entry point, descriptor exhaustion (Release builds), and in
netns mode a peer that vanishes without FIN: B's link goes down for VANISH seconds, longer
than the daemons' keepalive (--keepalive KEEPALIVE) takes to notice, so every connection that
crosses it must end with an error (not hang), and traffic must come back with the link.

Per kind of traffic it counts frames sent, echoed intact, lost on a connection that was told
(an ERROR, a close or a reset, in the window of a fault that explains it), lost otherwise,
corrupted, misordered, and clients hung past their deadline; per daemon: restarts, RSS and
descriptors at the start and the end, and sanitizer reports in its log. Exit status 0 when
nothing was corrupted, misordered, hung or lost without a fault to explain it, no sanitizer
spoke, every daemon answered at the end and exited 0 on SIGTERM, and descriptors stayed bounded.
Loopback only; every loop is bounded by the run's duration.
"""
import argparse
import asyncio
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from run import answers, free_port, log, log_tails, rss_kib, wait_until  # noqa: E402

import websockets  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HEADER = struct.Struct(">BIB")  # type, payload length (big-endian), user_type: DESIGN §3
DATA, ERROR, LOOKUP = 2, 1, 3
DEADLINE = 20.0      # a round trip that takes longer is a hung client
WINDOW = 4.0         # after a daemon is back, losses it caused may still surface this long
WRITE_TIMEOUT = "3"  # every daemon's --write-timeout: the stalled reader's deadline
KEEPALIVE = "2"      # tcpd's and websocketd's --keepalive: a vanished peer is noticed in 6 s
VANISH = 9.0         # how long B's link is down (longer than KEEPALIVE's 6 s)
A_ADDR, B_ADDR = "192.0.2.1", "192.0.2.2"  # netns mode: the veth pair's ends
CLONE_NEWNET = 0x40000000
PSK = "alice:00112233445566778899aabbccddeeff"
SIZES = [16, 64, 1000, 4096, 65536, 1048576]
WEIGHTS = [30, 30, 20, 10, 8, 2]
SANITIZER_WORDS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "SUMMARY: UndefinedBehavior")


def encode(kind, payload, user_type=0):
    return HEADER.pack(kind, len(payload), user_type) + payload


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def listening(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Namespaces:
    """Two network namespaces joined by a veth pair: host A's (the soak joins it) and host B's."""

    def __init__(self):
        tag = os.getpid()
        self.a, self.b = f"ipc-soak-{tag}-a", f"ipc-soak-{tag}-b"
        self.veth_a, self.veth_b = f"isk{tag % 100000}a", f"isk{tag % 100000}b"
        self.made = []

    def ip(self, *args):
        subprocess.run(["ip", *args], check=True, capture_output=True, text=True)

    def create(self):
        for ns in (self.a, self.b):
            self.ip("netns", "add", ns)
            self.made.append(ns)
            self.ip("-n", ns, "link", "set", "lo", "up")
        self.ip("-n", self.a, "link", "add", self.veth_a, "type", "veth", "peer", "name", self.veth_b, "netns", self.b)
        self.ip("-n", self.a, "addr", "add", f"{A_ADDR}/24", "dev", self.veth_a)
        self.ip("-n", self.b, "addr", "add", f"{B_ADDR}/24", "dev", self.veth_b)
        self.ip("-n", self.a, "link", "set", self.veth_a, "up")
        self.ip("-n", self.b, "link", "set", self.veth_b, "up")
        # The soak (this thread, before any other starts, and every process it starts) joins A.
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{self.a}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into " + self.a)
        finally:
            os.close(fd)

    def in_b(self):
        return ["nsenter", f"--net=/run/netns/{self.b}", "--"]

    def link_b(self, up):
        self.ip("-n", self.b, "link", "set", self.veth_b, "up" if up else "down")

    def remove(self):
        for ns in self.made:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def netns_usable():
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("nsenter") is None:
        return False
    probe = f"ipc-soak-{os.getpid()}-probe"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return False
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return True


class Told(Exception):
    """The connection ended and said so: an ERROR, a close or a reset."""


class Hung(Exception):
    """Nothing within the deadline, and no word why."""


def recv_exact(sock, count, deadline):
    chunks, have = [], 0
    while have < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Hung("no answer within the deadline")
        sock.settimeout(left)
        try:
            chunk = sock.recv(min(count - have, 1 << 20))
        except socket.timeout:
            raise Hung("no answer within the deadline") from None
        except OSError as e:
            raise Told(f"reset: {e}") from None
        if not chunk:
            raise Told("closed")
        chunks.append(chunk)
        have += len(chunk)
    return b"".join(chunks)


def recv_frame(sock, deadline):
    kind, length, user_type = HEADER.unpack(recv_exact(sock, HEADER.size, deadline))
    return kind, user_type, recv_exact(sock, length, deadline)


def lookup(rundir, payload, timeout=10.0):
    """A connection through ipcd (DESIGN §5): LOOKUP, then the fd that comes with the answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(os.path.join(rundir, "ipc"))
        s.sendall(encode(LOOKUP, payload.encode()))
        answer, fds, _, _ = socket.recv_fds(s, 65536, 1)
    if len(answer) < HEADER.size:
        for fd in fds:
            os.close(fd)
        raise Told("ipcd closed without an answer")
    kind, length, _ = HEADER.unpack(answer[:HEADER.size])
    if kind != DATA or not fds:
        for fd in fds:
            os.close(fd)
        raise Told("ipcd: " + answer[HEADER.size:HEADER.size + length].decode(errors="replace"))
    return socket.socket(fileno=fds[0])


def payload_for(client, seq, size):
    head = f"{client}#{seq}#".encode()
    pattern = (b"%08x" % ((seq * 2654435761) & 0xFFFFFFFF))
    body = (pattern * (size // len(pattern) + 1))[:max(0, size - len(head))]
    return head + body


class Tally:
    FIELDS = ("sent", "intact", "lost_told", "lost_untold", "corrupted", "misordered", "hung",
              "connections", "connect_failed", "connect_failed_untold")

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.untold = []  # (kind, when, why): the evidence for a failure

    def add(self, kind, field, n=1):
        with self.lock:
            self.counts.setdefault(kind, dict.fromkeys(self.FIELDS, 0))[field] += n


class Host:
    """One simulated host: a run directory and its daemons, each restartable with the same flags."""

    def __init__(self, soak, name, prefix=()):
        self.soak, self.name, self.prefix = soak, name, list(prefix)
        self.rundir = os.path.join(soak.tmp, name)
        os.makedirs(self.rundir)
        self.daemons = {}  # name -> [argv, ready, process]
        self.started = {}  # name -> when its process started

    def start(self, daemon, args, ready):
        argv = [os.path.join(self.soak.bin, daemon), "--rundir", self.rundir, "--log-level", "warn", *args]
        self.daemons[daemon] = [argv, ready, None]
        self.launch(daemon)

    def launch(self, daemon, nofile=None):
        argv, ready, _ = self.daemons[daemon]
        argv = [*self.prefix, *argv]
        if nofile is not None:
            argv = ["prlimit", f"--nofile={nofile}:{nofile}", "--", *argv]
        logfile = open(self.log_path(daemon), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                             start_new_session=True)
        logfile.close()
        self.daemons[daemon][2] = p
        self.started[daemon] = time.monotonic()
        wait_until(f"{self.name}'s {daemon}", lambda: p.poll() is None and ready())
        return p

    def log_path(self, daemon):
        return os.path.join(self.soak.tmp, f"{self.name}-{daemon}.log")

    def pid(self, daemon):
        return self.daemons[daemon][2].pid


class Soak:
    def __init__(self, args):
        self.bin = args.bin
        self.net = Namespaces() if args.net == "netns" else None
        self.b_addr = B_ADDR if self.net else "127.0.0.1"
        self.seconds = args.minutes * 60
        self.tmp = tempfile.mkdtemp(prefix="ipc-soak-")
        self.tally = Tally()
        self.stop = threading.Event()
        self.faults = []      # (when, what, window_end or None)
        self.windows = []     # (start, end): a daemon was down, losses there are explained
        self.window_lock = threading.Lock()
        self.checks = []      # (what, ok, detail): the faults' own checks
        self.restarts = {}
        self.resources = {}
        self.rng = random.Random(args.seed)
        self.seed = args.seed
        linked = subprocess.run(["ldd", os.path.join(self.bin, "pongd")], capture_output=True, text=True).stdout
        self.sanitized = "libasan" in linked

    # -- the hosts ---------------------------------------------------------------------------
    def set_up(self):
        certs = os.path.join(self.tmp, "certs")
        subprocess.run([os.path.join(ROOT, "tests", "tls_certs.sh"), certs], check=True)
        cert = lambda name: os.path.join(certs, name)  # noqa: E731
        common = ["--write-timeout", WRITE_TIMEOUT]
        keep = ["--keepalive", KEEPALIVE]
        if self.net:
            self.net.create()
        self.a, self.b = Host(self, "a"), Host(self, "b", self.net.in_b() if self.net else ())
        a, b = self.a, self.b
        self.tcp_port, self.tls_port, self.ws_port = free_port(), free_port(), free_port()
        self.b_config = os.path.join(self.tmp, "ipcd-b.json")
        self.write_b_config(valid=True)
        b.start("ipcd", ["--config", self.b_config], lambda: answers(f"{b.rundir}/ipc"))
        b.start("pongd", common, lambda: answers(f"{b.rundir}/pong"))
        far = self.b_addr
        b.start("tcpd", [*common, *keep, "--listen", f"{far}:{self.tcp_port}", "--listen-tls", f"{far}:{self.tls_port}",
                         "--tls-cert", cert("server.pem"), "--tls-key", cert("server.key"), "--psk", PSK],
                lambda: listening(far, self.tcp_port) and listening(far, self.tls_port))
        b.start("websocketd", [*common, *keep, "--listen", f"{far}:{self.ws_port}"], lambda: listening(far, self.ws_port))
        a.start("ipcd", [], lambda: answers(f"{a.rundir}/ipc"))
        a.start("pongd", common, lambda: answers(f"{a.rundir}/pong"))
        a.start("tcpd", [*common, *keep, "--no-listen", "--tls-ca", cert("ca.pem"), "--psk", PSK],
                lambda: answers(f"{a.rundir}/tcp"))
        a.start("websocketd", [*common, *keep, "--no-listen"], lambda: answers(f"{a.rundir}/ws"))
        self.routes = {
            "local": "pong;",
            "tcp": f"pong;pong tcp://{far}:{self.tcp_port}/pong",
            "tls-cert": f"pong;pong tls://{far}:{self.tls_port}/pong",
            "tls-psk": f"pong;pong tls://alice@{far}:{self.tls_port}/pong",
            "ws": f"pong;pong ws://{far}:{self.ws_port}/pong",
        }
        # Each path answers once before the clocks start.
        for kind, route in self.routes.items():
            with lookup(a.rundir, route) as conn:
                conn.sendall(encode(DATA, b"hello"))
                if recv_frame(conn, time.monotonic() + DEADLINE)[2] != b"hello":
                    raise RuntimeError(f"{kind}: the first round trip did not come back")
        for host in (a, b):
            for daemon in host.daemons:
                self.resources[f"{host.name}/{daemon}"] = {"start": self.measure(host, daemon)}

    def write_b_config(self, valid):
        text = ('// host B: remote peers may reach pong\n{"rules": ["allow in pong *"]}\n' if valid
                else '{"rules": ["allow in pong *"\n')  # cut short: a syntax error
        with open(self.b_config + ".new", "w") as f:
            f.write(text)
        os.replace(self.b_config + ".new", self.b_config)

    def measure(self, host, daemon):
        pid = host.pid(daemon)
        return {"rss_kib": rss_kib(pid), "fds": fd_count(pid)}

    # -- windows: when a loss is explained ---------------------------------------------------
    def open_window(self):
        with self.window_lock:
            self.windows.append([time.monotonic(), None])
            return self.windows[-1]

    def close_window(self, window):
        with self.window_lock:
            window[1] = time.monotonic() + WINDOW

    def explained(self, since):
        """Was a daemon down (or just back) at some time between `since` and now?"""
        now = time.monotonic()
        with self.window_lock:
            return any(start <= now and (end is None or end >= since) for start, end in self.windows)

    def lost(self, kind, since, why, in_flight=True):
        if self.explained(since):
            if in_flight:
                self.tally.add(kind, "lost_told")
        else:
            self.tally.add(kind, "lost_untold" if in_flight else "connect_failed_untold")
            self.tally.untold.append((kind, round(time.monotonic() - self.t0, 1), why))

    # -- traffic -----------------------------------------------------------------------------
    def frames_client(self, kind, client):
        rng = random.Random(f"{self.seed}/{client}")
        seq = 0
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                conn = lookup(self.a.rundir, self.routes[kind])
            except (Told, OSError) as e:
                self.tally.add(kind, "connect_failed")
                self.lost(kind, began, f"lookup: {e}", in_flight=False)
                self.stop.wait(0.2)
                continue
            self.tally.add(kind, "connections")
            with conn:
                for _ in range(rng.randint(1, 60)):
                    if self.stop.is_set():
                        break
                    seq += 1
                    sent_at = time.monotonic()
                    size = rng.choices(SIZES, WEIGHTS)[0]
                    payload = payload_for(client, seq, size)
                    self.tally.add(kind, "sent")
                    try:
                        conn.settimeout(DEADLINE)
                        conn.sendall(encode(DATA, payload, seq % 256))
                        got_kind, user_type, got = recv_frame(conn, time.monotonic() + DEADLINE)
                        if got_kind == ERROR:
                            raise Told("ERROR " + got.decode(errors="replace"))
                    except socket.timeout:
                        self.tally.add(kind, "hung")
                        self.tally.untold.append((kind, round(time.monotonic() - self.t0, 1), "send blocked"))
                        break
                    except Hung as e:
                        self.tally.add(kind, "hung")
                        self.tally.untold.append((kind, round(time.monotonic() - self.t0, 1), str(e)))
                        break
                    except (Told, OSError) as e:
                        self.lost(kind, sent_at, str(e))
                        break
                    self.check(kind, client, seq, payload, got, user_type)

    def check(self, kind, client, seq, payload, got, user_type):
        if got == payload and user_type == seq % 256:
            self.tally.add(kind, "intact")
            return
        head = got.split(b"#", 2)
        if len(head) == 3 and head[0] == str(client).encode() and head[1] != str(seq).encode() and \
                head[1].isdigit() and got == payload_for(client, int(head[1]), len(got)):
            self.tally.add(kind, "misordered")
        else:
            self.tally.add(kind, "corrupted")
        self.tally.untold.append((kind, round(time.monotonic() - self.t0, 1), f"frame {seq} came back wrong"))

    def ws_stock_clients(self, count):
        async def one(client):
            rng = random.Random(f"{self.seed}/{client}")
            seq = 0
            url = f"ws://{self.b_addr}:{self.ws_port}/pong"
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    # Pings as often as the daemons' keepalive: a server that vanished is noticed.
                    ws = await asyncio.wait_for(websockets.connect(url, subprotocols=["ipc.text"], max_size=None,
                                                                   origin=f"http://{self.b_addr}:{self.ws_port}",
                                                                   ping_interval=float(KEEPALIVE),
                                                                   ping_timeout=2 * float(KEEPALIVE)), 10)
                except Exception as e:  # refused, reset, a 503 during a restart
                    self.tally.add("ws-stock", "connect_failed")
                    self.lost("ws-stock", began, f"connect: {e}", in_flight=False)
                    await asyncio.sleep(0.2)
                    continue
                self.tally.add("ws-stock", "connections")
                try:
                    for _ in range(rng.randint(1, 60)):
                        if self.stop.is_set():
                            break
                        seq += 1
                        sent_at = time.monotonic()
                        payload = payload_for(client, seq, rng.choices(SIZES[:5], WEIGHTS[:5])[0]).decode()
                        self.tally.add("ws-stock", "sent")
                        try:
                            await ws.send(payload)
                            got = await asyncio.wait_for(ws.recv(), DEADLINE)
                        except asyncio.TimeoutError:
                            self.tally.add("ws-stock", "hung")
                            self.tally.untold.append(("ws-stock", round(time.monotonic() - self.t0, 1), "no echo"))
                            break
                        except websockets.ConnectionClosed as e:
                            self.lost("ws-stock", sent_at, f"closed {e.code}")
                            break
                        got = got.encode() if isinstance(got, str) else got
                        self.check("ws-stock", client, seq, payload.encode(), got, seq % 256)
                finally:
                    await ws.close()

        async def all_of():
            await asyncio.gather(*(one(f"ws-stock{i}") for i in range(count)))

        asyncio.run(all_of())

    def pong_runs(self):
        env = dict(os.environ, IPC_RUNDIR=self.a.rundir, IPC_NETWORK=self.routes["tcp"].split(";", 1)[1])
        while not self.stop.wait(2.0):
            began = time.monotonic()
            self.tally.add("pong", "connections")
            try:
                r = subprocess.run([os.path.join(self.bin, "pong"), "-n", "20", "-s", "1000"], env=env,
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=DEADLINE * 2)
            except subprocess.TimeoutExpired:
                self.tally.add("pong", "hung")
                self.tally.untold.append(("pong", round(time.monotonic() - self.t0, 1), "pong never finished"))
                continue
            self.tally.add("pong", "sent", 20)
            if r.returncode == 0:
                self.tally.add("pong", "intact", 20)
            else:  # (how many of its 20 came back it does not say: all counted lost)
                for _ in range(20):
                    self.lost("pong", began, f"pong exited {r.returncode}: {r.stderr.strip()[-200:]}")

    def idle_holders(self):
        """Connections held open with nothing on them; each checked every half minute or so."""
        held = {}
        seq = 0
        while not self.stop.is_set():
            for kind in ("local", "tcp", "tls-psk", "ws"):
                began = time.monotonic()
                if kind not in held:
                    try:
                        held[kind] = lookup(self.a.rundir, self.routes[kind])
                        self.tally.add(f"idle {kind}", "connections")
                    except (Told, OSError) as e:
                        self.tally.add(f"idle {kind}", "connect_failed")
                        self.lost(f"idle {kind}", began, f"lookup: {e}", in_flight=False)
                        continue
                seq += 1
                payload = payload_for(f"idle-{kind}", seq, 100)
                self.tally.add(f"idle {kind}", "sent")
                try:
                    held[kind].sendall(encode(DATA, payload, seq % 256))
                    _, user_type, got = recv_frame(held[kind], time.monotonic() + DEADLINE)
                    self.check(f"idle {kind}", f"idle-{kind}", seq, payload, got, user_type)
                except Hung as e:
                    self.tally.add(f"idle {kind}", "hung")
                    self.tally.untold.append((f"idle {kind}", round(time.monotonic() - self.t0, 1), str(e)))
                    held.pop(kind).close()
                except (Told, OSError) as e:
                    # Since when it was idle: a daemon down in that time explains it.
                    self.lost(f"idle {kind}", began - 35, str(e))
                    held.pop(kind).close()
            self.stop.wait(30)
        for conn in held.values():
            conn.close()

    # -- faults ------------------------------------------------------------------------------
    def kill_and_restart(self, host, daemon):
        def fault():
            p = host.daemons[daemon][2]
            name = f"{host.name}/{daemon}"
            self.resources[name].setdefault("before_kills", []).append(
                {"uptime_s": round(time.monotonic() - host.started[daemon], 1), **self.measure(host, daemon)})
            window = self.open_window()
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            host.launch(daemon)
            self.close_window(window)
            self.restarts[f"{host.name}/{daemon}"] = self.restarts.get(f"{host.name}/{daemon}", 0) + 1
        return f"kill -9 {host.name}'s {daemon}, restart", fault

    def reload(self, valid):
        def fault():
            self.write_b_config(valid)
            before = open(self.b.log_path("ipcd"), errors="replace").read().count("reload failed")
            os.kill(self.b.pid("ipcd"), signal.SIGHUP)
            if valid:
                time.sleep(0.5)  # (nothing to wait for: a good reload logs at info, below --log-level)
                ok = self.b.daemons["ipcd"][2].poll() is None
                self.checks.append(("valid reload keeps B's ipcd serving", ok, ""))
            else:
                said = lambda: open(self.b.log_path("ipcd"), errors="replace").read().count("reload failed") > before  # noqa: E731
                try:
                    wait_until("B's ipcd to refuse the broken config", said, timeout=10)
                    ok = True
                except RuntimeError:
                    ok = False
                self.checks.append(("broken reload refused, old rules kept", ok, ""))
                self.write_b_config(True)
        return ("SIGHUP B's ipcd, valid config" if valid else "SIGHUP B's ipcd, broken config"), fault

    def stalled_reader(self):
        def fault():
            conn = lookup(self.a.rundir, self.routes["tcp"])
            conn.setblocking(False)
            chunk = encode(DATA, b"x" * 65536)
            began = time.monotonic()
            dropped = None
            # Writes without reading until B's pongd drops it (--write-timeout) or 30 s pass.
            while time.monotonic() - began < 30:
                try:
                    conn.send(chunk)
                except BlockingIOError:
                    time.sleep(0.05)
                except OSError:
                    dropped = time.monotonic() - began
                    break
                try:
                    if conn.recv(1, socket.MSG_PEEK) == b"":
                        dropped = time.monotonic() - began
                        break
                except BlockingIOError:
                    pass
                except OSError:
                    dropped = time.monotonic() - began
                    break
            conn.close()
            self.checks.append(("a reader that stalls is dropped", dropped is not None,
                                f"after {dropped:.1f} s" if dropped is not None else "still held after 30 s"))
        return "a reader that stalls", fault

    def hostile(self):
        def fault():
            rng = random.Random(self.rng.random())
            blobs = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))) for _ in range(10)]
            blobs += [encode(DATA, b"x" * 10)[:3], HEADER.pack(LOOKUP, 0xFFFFFFFF, 0), HEADER.pack(7, 5, 0) + b"{}}}}",
                      encode(LOOKUP, b"../x;"), encode(LOOKUP, b"pong;pong gopher://x/y"),
                      b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 2000]
            targets = [("unix", os.path.join(self.a.rundir, "ipc")), ("unix", os.path.join(self.a.rundir, "network")),
                       ("unix", os.path.join(self.a.rundir, "pong")), ("unix", os.path.join(self.b.rundir, "ipc")),
                       ("tcp", self.tcp_port), ("tcp", self.tls_port), ("tcp", self.ws_port)]
            for family, where in targets:
                for blob in blobs:
                    try:
                        if family == "unix":
                            s = socket.socket(socket.AF_UNIX)
                            s.settimeout(2)
                            s.connect(where)
                        else:
                            s = socket.create_connection((self.b_addr, where), timeout=2)
                        with s:
                            s.sendall(blob)
                            s.shutdown(socket.SHUT_WR)
                            try:
                                while s.recv(65536):
                                    pass
                            except OSError:
                                pass
                    except OSError:
                        pass
            alive = all(h.daemons[d][2].poll() is None for h in (self.a, self.b) for d in h.daemons)
            self.checks.append(("hostile bytes at every entry point: every daemon still up", alive, ""))
        return "hostile bytes at every entry point", fault

    def vanish(self):
        def fault():
            window = self.open_window()
            self.net.link_b(False)
            try:
                self.stop.wait(VANISH)
            finally:
                self.net.link_b(True)
            self.close_window(window)
            # Every remote path answers again once the link is back.
            back, why = [], ""
            for kind in ("tcp", "tls-cert", "ws"):
                deadline = time.monotonic() + DEADLINE
                while time.monotonic() < deadline:
                    try:
                        with lookup(self.a.rundir, self.routes[kind]) as conn:
                            conn.sendall(encode(DATA, b"back"))
                            if recv_frame(conn, time.monotonic() + DEADLINE)[2] == b"back":
                                back.append(kind)
                                break
                    except (Told, Hung, OSError) as e:
                        why = f"{kind}: {e}"
                        time.sleep(0.2)
            ok = len(back) == 3
            self.checks.append((f"a peer that vanishes without FIN for {VANISH:.0f} s: every path back after",
                                ok, "" if ok else f"not back within {DEADLINE:.0f} s: {why}"))
        return f"B's link down for {VANISH:.0f} s (a peer that vanishes without FIN)", fault

    def descriptor_exhaustion(self, host, daemon, nofile=20, seconds=8):
        def fault():
            window = self.open_window()
            p = host.daemons[daemon][2]
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            limited = host.launch(daemon, nofile=nofile)
            self.stop.wait(seconds)  # the traffic runs into the limit meanwhile
            survived = limited.poll() is None
            if survived:
                os.kill(limited.pid, signal.SIGKILL)
                limited.wait()
            host.launch(daemon)
            self.close_window(window)
            self.checks.append((f"{host.name}'s {daemon} with {nofile} descriptors keeps running", survived,
                                "" if survived else f"exited {limited.returncode}"))
        return f"descriptor exhaustion: {host.name}'s {daemon} with RLIMIT_NOFILE {nofile} for {seconds} s", fault

    def schedule(self):
        faults = [self.kill_and_restart(h, d) for d in ("pongd", "tcpd", "websocketd", "ipcd") for h in (self.b, self.a)]
        faults[4:4] = [self.reload(True), self.hostile()]
        if self.net:
            faults[6:6] = [self.vanish()]
        else:
            log("soak: loopback: no link to drop, no vanishing peer (it runs with --net netns)")
        faults += [self.reload(False), self.stalled_reader()]
        # A sanitizer build out of descriptors reports UBSan "invalid vptr" errors that are false
        # (its checks need a descriptor of their own): this fault runs on a Release build only.
        if self.sanitized:
            log("soak: sanitizer build: no descriptor exhaustion (it runs on a Release build)")
        else:
            faults += [self.descriptor_exhaustion(self.b, "pongd"), self.descriptor_exhaustion(self.a, "tcpd")]
        interval = max(5.0, min(30.0, (self.seconds - 15) / (len(faults) + 1)))
        log(f"soak: a fault every {interval:.0f} s, {len(faults)} kinds in turn")
        i = 0
        while not self.stop.wait(interval):
            what, fault = faults[i % len(faults)]
            i += 1
            when = round(time.monotonic() - self.t0, 1)
            log(f"  {when:7.1f} s  fault: {what}")
            try:
                fault()
                self.faults.append((when, what, "done"))
            except Exception as e:  # a fault that could not be injected says why in the report
                self.faults.append((when, what, f"failed: {e}"))
                self.checks.append((what, False, str(e)))

    # -- the run -----------------------------------------------------------------------------
    def run(self):
        self.set_up()
        self.t0 = time.monotonic()
        threads = [threading.Thread(target=self.frames_client, args=(kind, f"{kind}{i}"), daemon=True)
                   for kind in self.routes for i in range(2)]
        threads += [threading.Thread(target=self.ws_stock_clients, args=(2,), daemon=True),
                    threading.Thread(target=self.pong_runs, daemon=True),
                    threading.Thread(target=self.idle_holders, daemon=True)]
        faults = threading.Thread(target=self.schedule, daemon=True)
        for t in threads + [faults]:
            t.start()
        self.stop.wait(self.seconds)
        self.stop.set()
        faults.join(timeout=120)
        for t in threads:
            t.join(timeout=DEADLINE * 3)
        hung_threads = [t.name for t in threads + [faults] if t.is_alive()]
        return self.finish(hung_threads)

    def finish(self, hung_threads):
        failures = []
        if hung_threads:
            failures.append(f"clients still running after the deadline: {hung_threads}")
        # Every path answers at the end.
        for kind, route in self.routes.items():
            try:
                with lookup(self.a.rundir, route) as conn:
                    conn.sendall(encode(DATA, b"last"))
                    if recv_frame(conn, time.monotonic() + DEADLINE)[2] != b"last":
                        failures.append(f"{kind}: the last round trip came back wrong")
            except Exception as e:
                failures.append(f"{kind}: no last round trip ({e})")
        for host in (self.a, self.b):
            for daemon in host.daemons:
                name = f"{host.name}/{daemon}"
                self.resources[name]["end"] = self.measure(host, daemon)
                start, end = self.resources[name]["start"], self.resources[name]["end"]
                # Restarted daemons start afresh; a live one may hold the idle connections and a
                # few in flight, not a leak's worth.
                if end["fds"] > start["fds"] + 64:
                    failures.append(f"{name}: {start['fds']} descriptors at the start, {end['fds']} at the end")
        for host in (self.a, self.b):
            for daemon, (_, _, p) in host.daemons.items():
                p.send_signal(signal.SIGTERM)
        for host in (self.a, self.b):
            for daemon, (_, _, p) in host.daemons.items():
                try:
                    status = p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    status = "killed after 30 s"
                if status != 0:
                    failures.append(f"{host.name}/{daemon} exited {status} on SIGTERM")
        sanitizer = {}
        for host in (self.a, self.b):
            for daemon in host.daemons:
                with open(host.log_path(daemon), errors="replace") as f:
                    lines = [line.rstrip() for line in f if any(w in line for w in SANITIZER_WORDS)]
                sanitizer[f"{host.name}/{daemon}"] = len(lines)
                if lines:
                    failures.append(f"{host.name}/{daemon}: sanitizer: {lines[0]}")
        totals = dict.fromkeys(Tally.FIELDS, 0)
        for counts in self.tally.counts.values():
            for field, n in counts.items():
                totals[field] += n
        for field in ("lost_untold", "corrupted", "misordered", "hung", "connect_failed_untold"):
            if totals[field]:
                failures.append(f"{totals[field]} {field.replace('_', ' ')}: " +
                                "; ".join(f"{k} at {t} s: {w}" for k, t, w in self.tally.untold[:5]))
        for kind, c in self.tally.counts.items():
            settled = sum(c[f] for f in ("intact", "lost_told", "lost_untold", "corrupted", "misordered", "hung"))
            if settled != c["sent"]:
                failures.append(f"{kind}: {c['sent']} frames sent, {settled} accounted for")
        for what, ok, detail in self.checks:
            if not ok:
                failures.append(f"{what}: {detail or 'failed'}")
        return {"seconds": self.seconds, "seed": self.seed, "net": "netns" if self.net else "loopback", "sanitized": self.sanitized, "traffic": self.tally.counts, "totals": totals,
                "daemons": {name: {**r, "restarts": self.restarts.get(name, 0), "sanitizer_reports": sanitizer[name]}
                            for name, r in self.resources.items()},
                "faults": self.faults, "checks": self.checks, "failures": failures}


def table(report):
    lines = ["traffic      sent     intact  lost(told)  lost(untold)  corrupted  misordered  hung  connections"]
    for kind, c in sorted(report["traffic"].items()):
        lines.append(f"{kind:<12} {c['sent']:>8} {c['intact']:>8} {c['lost_told']:>10} {c['lost_untold']:>12} "
                     f"{c['corrupted']:>10} {c['misordered']:>11} {c['hung']:>5} {c['connections']:>12}")
    lines.append("")
    lines.append("daemon          restarts  RSS KiB start/end  fds start/end  sanitizer")
    for name, d in sorted(report["daemons"].items()):
        lines.append(f"{name:<16} {d['restarts']:>7}  {d['start']['rss_kib']:>8}/{d['end']['rss_kib']:<8} "
                     f"{d['start']['fds']:>6}/{d['end']['fds']:<6} {d['sanitizer_reports']:>9}")
    lines.append("")
    held = sum(ok for _, ok, _ in report["checks"])
    lines.append(f"hosts: {'two network namespaces' if report['net'] == 'netns' else 'two run directories on loopback'}; "
                 f"build: {'ASan+UBSan' if report['sanitized'] else 'Release (no sanitizer)'}; {report['seconds'] / 60:g} minutes")
    lines.append(f"{len(report['faults'])} faults injected; {held} of {len(report['checks'])} checks held")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the build's bin/ directory")
    parser.add_argument("--minutes", type=float, default=60, help="how long the traffic runs (default 60)")
    parser.add_argument("--report", help="where to write the JSON report")
    parser.add_argument("--seed", type=int, default=1, help="the seed of every random choice (default 1)")
    parser.add_argument("--net", choices=("auto", "netns", "loopback"), default="auto",
                        help="two network namespaces joined by a veth pair, or two run directories on loopback "
                             "(default auto: netns when root and `ip netns` works)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    args = parser.parse_args()
    if not 0.5 <= args.minutes <= 24 * 60:
        parser.error("--minutes: from 0.5 to 1440")
    if args.net == "auto":
        args.net = "netns" if netns_usable() else "loopback"
    elif args.net == "netns" and not netns_usable():
        parser.error("--net netns: needs root, ip and nsenter")
    log(f"soak: {'two network namespaces joined by a veth pair' if args.net == 'netns' else 'two run directories on loopback'}")
    soak = Soak(args)
    try:
        report = soak.run()
    except Exception:
        log_tails(soak.tmp)
        raise
    finally:
        for host in (getattr(soak, "a", None), getattr(soak, "b", None)):
            for entry in (host.daemons.values() if host else []):
                if entry[2] is not None and entry[2].poll() is None:
                    entry[2].kill()
                    entry[2].wait()
        if soak.net:
            soak.net.remove()
        if not args.keep:
            shutil.rmtree(soak.tmp, ignore_errors=True)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    print(table(report))
    if report["failures"]:
        print("\nFAILED:\n  " + "\n  ".join(report["failures"]))
        return 1
    print("\nsoak: nothing corrupted, misordered, hung or lost without a fault to explain it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
