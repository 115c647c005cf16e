#!/usr/bin/python3
"""The measurements of scripts/bench: the suite next to the physical limit and to its peers.

Starts the real programs of a Release build in a temporary directory (two run directories for
two simulated hosts, ephemeral loopback ports), waits for each socket file, and measures, each
figure the median of --rounds rounds (in each, the contenders run in palindrome order, A B B A,
and a ratio is the median of the rounds' ratios):

  local      pong <-> pongd against a raw socketpair ping-pong of the same frame
  lookup     a connection through ipcd against a raw broker (connect, SCM_RIGHTS back, one ping)
  remote     pong through ipcd + tcpd on both hosts against a socat chain
             (UNIX-LISTEN -> TCP -> socat -> UNIX-CONNECT) carrying the same pong and pongd
  websocket  websocketc -> our websocketd -> pongd against websocketc -> Debian's websocketd + cat
  idle       10,000 idle relayed connections, or as many as RLIMIT_NOFILE allows (RSS per
             connection of tcpd, websocketd and pongd)
  (scale)    round trips per second with 1, 16 and 256 clients at once, in local and remote
  cpu        CPU time per round trip in pongd and in each tcpd

Prints a table and writes a JSON list of {name, unit, value, reference, reference_value, ratio,
target, holds, samples}. Every load is bounded in count and time and targets 127.0.0.1 only.
"""
import argparse
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def log_tails(directory, lines=5):
    """The last lines of every program's log in `directory`, on stderr."""
    for name in sorted(os.listdir(directory)):
        if name.endswith(".log"):
            with open(os.path.join(directory, name), errors="replace") as f:
                tail = f.readlines()[-lines:]
            if tail:
                log(f"--- {name}:\n" + "".join(tail).rstrip())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, timeout=20.0):
    """Polls `check` until it is true (readiness: a socket file, a port), else fails."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready within {timeout:.0f} s: {what}")
        time.sleep(0.02)


def answers(path):
    """True when something accepts connections on the Unix socket `path`."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            return True
    except OSError:
        return False


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_ns(pid):
    """CPU time of every thread of `pid` so far, in ns: schedstat (nanosecond resolution) where
    the kernel keeps it, else utime + stime from /proc/PID/stat (clock ticks)."""
    if os.path.exists(f"/proc/{pid}/schedstat"):
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                pass  # a thread that ended meanwhile
        return total
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class Processes:
    """The programs started for a measurement; all stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.started = []

    def start(self, name, argv, env=None, ready=None, ours=True):
        """`ours`: one of the suite's programs, which must exit 0 on SIGTERM (a crash at exit is a
        failure of the run, not noise)."""
        logfile = open(os.path.join(self.tmp, f"{name}.log"), "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                             env=env, start_new_session=True)
        p.ours = ours
        self.started.append((name, p))
        if ready is not None:
            wait_until(f"{name} ({' '.join(argv)})", lambda: p.poll() is None and ready())
        return p

    def stop(self):
        for _, p in reversed(self.started):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        failed = []
        for name, p in reversed(self.started):
            try:
                status = p.wait(timeout=15)
                if p.ours and status != 0:
                    failed.append(f"{name} exited with status {status}")
            except subprocess.TimeoutExpired:
                failed.append(f"{name} did not stop on SIGTERM within 15 s; killed")
                p.kill()
                p.wait()
        self.started.clear()
        if failed:
            raise RuntimeError("; ".join(failed))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        try:
            self.stop()
        except RuntimeError:
            if exc_type is None:
                raise  # else the first failure is the one worth reporting


def run(argv, env=None, timeout=300):
    """Runs a measuring program to its end; its stdout and stderr (it must succeed)."""
    r = subprocess.run(argv, env=env, timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    return r.stdout + r.stderr


def median_us(text):
    m = re.search(r"median ([0-9.]+) us", text)
    if not m:
        raise RuntimeError(f"no median in: {text.strip()}")
    return float(m.group(1))


class Bench:
    def __init__(self, args):
        self.bin = args.bin
        self.rounds = args.rounds
        self.quick = args.quick
        self.results = []
        self.tmp = tempfile.mkdtemp(prefix="ipc-bench-")

    def env(self, rundir, network=None):
        e = dict(os.environ)
        e["IPC_RUNDIR"] = rundir
        e.pop("IPC_NETWORK", None)
        if network:
            e["IPC_NETWORK"] = network
        return e

    def b(self, name):
        return os.path.join(self.bin, name)

    def record(self, name, unit, samples, reference=None, reference_samples=None, target=None, lower_is_better=True):
        value = statistics.median(samples)
        entry = {"name": name, "unit": unit, "value": round(value, 3), "reference": reference,
                 "reference_value": None, "ratio": None, "target": target, "holds": None,
                 "lower_is_better": lower_is_better, "samples": [round(s, 3) for s in samples]}
        if reference_samples:
            ref = statistics.median(reference_samples)
            entry["reference_value"] = round(ref, 3)
            entry["reference_samples"] = [round(s, 3) for s in reference_samples]
            # Paired: the samples of a round were measured side by side (see palindrome()), so the
            # ratio is the median of the rounds' ratios, not a ratio of two unrelated medians.
            if len(samples) == len(reference_samples) and all(reference_samples):
                entry["ratio"] = round(statistics.median(o / r for o, r in zip(samples, reference_samples)), 3)
            else:
                entry["ratio"] = round(value / ref, 3) if ref else None
            if target is not None and entry["ratio"] is not None:
                entry["holds"] = entry["ratio"] <= target if lower_is_better else entry["ratio"] >= target
        elif target is not None:
            entry["holds"] = value <= target if lower_is_better else value >= target
        self.results.append(entry)
        log(f"  {name}: {value:.3f} {unit}" + (f"  vs {reference}: {entry['reference_value']} ({entry['ratio']}x)"
                                                  if reference_samples else ""))

    def n(self, full, quick):
        return quick if self.quick else full

    def raw_tcp(self, count, size):
        """The median round trip of raw_pingpong -t: two processes over loopback TCP, no daemon."""
        return median_us(run([self.b("raw_pingpong"), "-n", str(count), "-s", str(size), "-t"]))

    def raw(self, count, size, relays=0):
        """The median round trip of raw_pingpong: the physical limit, or with `relays` plain relay
        processes in the middle, the floor for a path with that many daemons between."""
        return median_us(run([self.b("raw_pingpong"), "-n", str(count), "-s", str(size), "-r", str(relays)]))

    @staticmethod
    def palindrome(*measures):
        """One round of a comparison: each measure (a callable returning a figure) runs, then each
        again in reverse order (A B C C B A), so whatever the machine does during the round
        (another process, where the scheduler put each program) weighs on all alike. Returns each
        measure's mean of its two runs."""
        first = [m() for m in measures]
        second = [m() for m in reversed(measures)][::-1]
        return [(a + b) / 2 for a, b in zip(first, second)]

    # -- 1. local ----------------------------------------------------------------------------
    def local(self):
        log("local: pong <-> pongd against a raw socketpair")
        host = os.path.join(self.tmp, "local")
        os.makedirs(host)
        with Processes(self.tmp) as procs:
            pongd = procs.start("pongd-local", [self.b("pongd"), "--rundir", host, "--log-level", "warn"],
                                ready=lambda: answers(f"{host}/pong"))
            n, nb = self.n(10000, 1000), self.n(250, 25)
            ours, raw, ours_big, raw_big, cpu = [], [], [], [], []
            env = self.env(host)

            def pong(count, size):
                c0 = cpu_ns(pongd.pid)
                us = median_us(run([self.b("pong"), "--rundir", host, "-n", str(count), "-s", str(size)], env=env))
                if size == 64:
                    cpu.append((cpu_ns(pongd.pid) - c0) / count / 1000)
                return us

            for _ in range(self.rounds):
                o, r = self.palindrome(lambda: pong(n, 64), lambda: self.raw(n, 64))
                ours.append(o)
                raw.append(r)
                o, r = self.palindrome(lambda: pong(nb, 1048576), lambda: self.raw(nb, 1048576))
                ours_big.append(o)
                raw_big.append(r)
            self.record("local round trip, 64 B: pong <-> pongd", "us", ours,
                        "raw socketpair ping-pong, same frame", raw, target=1.5)
            self.record("local round trip, 1 MiB: pong <-> pongd", "us", ours_big,
                        "raw socketpair ping-pong, same frame", raw_big)
            self.record("CPU per round trip in pongd, 64 B, local", "us", cpu)
            self.scale_rtt("local", host, None)

    # -- 2. lookup ---------------------------------------------------------------------------
    def lookup(self):
        log("lookup: a connection through ipcd against a raw broker")
        host = os.path.join(self.tmp, "lookup")
        os.makedirs(host)
        with Processes(self.tmp) as procs:
            procs.start("ipcd-lookup", [self.b("ipcd"), "--rundir", host, "--log-level", "warn"],
                        ready=lambda: answers(f"{host}/ipc"))
            procs.start("pongd-lookup", [self.b("pongd"), "--rundir", host, "--log-level", "warn"],
                        ready=lambda: answers(f"{host}/pong"))
            direct, raw, ipcd = [], [], []
            for _ in range(self.rounds):
                out = run([self.b("lookup_cost"), "-n", str(self.n(2000, 200))], env=self.env(host))
                r = json.loads(out.strip().splitlines()[0])
                direct.append(r["direct_us"])
                raw.append(r["raw_broker_us"])
                ipcd.append(r["ipcd_us"])
            self.record("new connection through ipcd + 1 round trip", "us", ipcd,
                        "raw broker (connect, SCM_RIGHTS back, 1 round trip)", raw, target=1.5)
            self.record("new connection through ipcd + 1 round trip (vs direct)", "us", ipcd,
                        "direct connect + 1 round trip", direct)

    # -- two hosts on loopback ---------------------------------------------------------------
    def two_hosts(self, procs, max_connections=4096, handoff=True):
        a, b, s = (os.path.join(self.tmp, d) for d in ("a", "b", "socat"))
        for d in (a, b, s):
            os.makedirs(d, exist_ok=True)
        port, socat_port, ws_port = free_port(), free_port(), free_port()
        common = ["--log-level", "warn"]
        mc = str(max_connections)
        relay = [] if handoff else ["--no-handoff"]
        hosts = {"a": a, "b": b, "socat": s, "port": port, "ws_port": ws_port}
        hosts["ipcd_b"] = procs.start("ipcd-b", [self.b("ipcd"), "--rundir", b, *common, "--allow", "in", "pong",
                                                 "tcp:127.0.0.1", "--allow", "in", "pong", "ws:127.0.0.1"],
                                      ready=lambda: answers(f"{b}/ipc"))
        hosts["pongd_b"] = procs.start("pongd-b", [self.b("pongd"), "--rundir", b, *common, "--max-connections",
                                                   str(2 * max_connections + 16)],
                                       ready=lambda: answers(f"{b}/pong"))
        hosts["tcpd_b"] = procs.start("tcpd-b", [self.b("tcpd"), "--rundir", b, *common, "--listen",
                                                 f"127.0.0.1:{port}", "--max-connections", mc, *relay],
                                      ready=lambda: answers(f"{b}/tcp") and listening(port))
        hosts["websocketd_b"] = procs.start(
            "websocketd-b", [self.b("websocketd"), "--rundir", b, *common, "--listen", f"127.0.0.1:{ws_port}",
                             "--max-connections", mc, *relay], ready=lambda: answers(f"{b}/ws") and listening(ws_port))
        hosts["ipcd_a"] = procs.start("ipcd-a", [self.b("ipcd"), "--rundir", a, *common],
                                      ready=lambda: answers(f"{a}/ipc"))
        hosts["tcpd_a"] = procs.start("tcpd-a", [self.b("tcpd"), "--rundir", a, *common, "--no-listen",
                                                 "--max-connections", mc, *relay], ready=lambda: answers(f"{a}/tcp"))
        procs.start("socat-b", ["socat", f"TCP-LISTEN:{socat_port},bind=127.0.0.1,fork,reuseaddr,backlog=1024",
                                f"UNIX-CONNECT:{b}/pong"], ready=lambda: listening(socat_port), ours=False)
        procs.start("socat-a", ["socat", f"UNIX-LISTEN:{s}/pong,fork,backlog=1024",
                                f"TCP:127.0.0.1:{socat_port},nodelay"], ready=lambda: os.path.exists(f"{s}/pong"),
                    ours=False)
        hosts["route"] = f"pong tcp://127.0.0.1:{port}/pong"
        return hosts

    # -- 3. remote ---------------------------------------------------------------------------
    def remote(self):
        log("remote: pong through ipcd + tcpd on two hosts (handed over, then relayed) against a socat chain")
        for handoff in (True, False):
            self.remote_path(handoff)

    def remote_path(self, handoff):
        path = "handed over" if handoff else "relayed (--no-handoff)"
        with Processes(self.tmp) as procs:
            h = self.two_hosts(procs, handoff=handoff)
            ours_env = self.env(h["a"], h["route"])
            socat_env = self.env(h["socat"])
            n, nb = self.n(5000, 500), self.n(100, 10)
            small, small_socat, big, big_socat, floor, big_floor = [], [], [], [], [], []
            cpu = {"tcpd_a": [], "tcpd_b": [], "pongd_b": []}

            def pong(env, count, size, watch=False):
                c0 = {k: cpu_ns(h[k].pid) for k in cpu}
                us = median_us(run([self.b("pong"), "-n", str(count), "-s", str(size)], env=env))
                if watch:
                    for k in cpu:
                        cpu[k].append((cpu_ns(h[k].pid) - c0[k]) / count / 1000)
                return us

            # The floor: for the handoff, two processes over loopback TCP; for the relay, two
            # plain relays between them.
            def raw_floor(count, size):
                return self.raw_tcp(count, size) if handoff else self.raw(count, size, relays=2)

            for _ in range(self.rounds):
                o, r, f = self.palindrome(lambda: pong(ours_env, n, 64, watch=True), lambda: pong(socat_env, n, 64),
                                          lambda: raw_floor(n, 64))
                small.append(o)
                small_socat.append(r)
                floor.append(f)
                if handoff:
                    o, r, f = self.palindrome(lambda: pong(ours_env, nb, 1048576) / 1000,
                                              lambda: pong(socat_env, nb, 1048576) / 1000,
                                              lambda: raw_floor(nb, 1048576) / 1000)
                    big_floor.append(f)
                else:
                    o, r = self.palindrome(lambda: pong(ours_env, nb, 1048576) / 1000,
                                           lambda: pong(socat_env, nb, 1048576) / 1000)
                big.append(o)
                big_socat.append(r)
            cpu_a, cpu_b, cpu_pongd = cpu["tcpd_a"], cpu["tcpd_b"], cpu["pongd_b"]
            self.record(f"remote round trip, 64 B: ipcd + tcpd on both hosts, {path}", "us", small,
                        "socat chain, same pong and pongd", small_socat, target=0.5 if handoff else 1.0)
            if handoff:
                self.record(f"remote round trip, 64 B, {path} (vs raw TCP)", "us", small,
                            "raw TCP ping-pong between two processes", floor, target=1.3)
            else:
                self.record(f"remote round trip, 64 B, {path} (vs the floor)", "us", small,
                            "raw chain of 2 relays over socketpairs (the floor for 2 daemons between)", floor)
            self.record(f"remote round trip, 1 MiB frames, {path}", "ms", big,
                        "socat chain, same pong and pongd", big_socat, target=0.7)
            self.record(f"remote throughput, 1 MiB frames, {path}", "MiB/s",
                        [2 / (t / 1000) for t in big], "socat chain", [2 / (t / 1000) for t in big_socat],
                        lower_is_better=False)
            if handoff:
                self.record(f"remote throughput, 1 MiB frames, {path} (vs raw TCP)", "MiB/s",
                            [2 / (t / 1000) for t in big], "raw TCP ping-pong, 1 MiB",
                            [2 / (t / 1000) for t in big_floor], target=0.85, lower_is_better=False)
            self.record(f"CPU per round trip in the calling tcpd, 64 B, {path}", "us", cpu_a)
            self.record(f"CPU per round trip in the answering tcpd, 64 B, {path}", "us", cpu_b)
            self.record(f"CPU per round trip in pongd, 64 B, remote, {path}", "us", cpu_pongd)
            if handoff:
                self.scale_rtt("remote through ipcd + tcpd, handed over", h["a"], h["route"], socat=h["socat"])

    # -- 5b. round trips per second with 1, 16 and 256 clients -------------------------------
    def scale_rtt(self, label, rundir, network, socat=None):
        for clients in (1, 16, 256):
            # 20,000 round trips a round in all: split over two runs when compared with socat.
            count = max(self.n(20000, 2000) // (2 if socat else 1) // clients, 20)
            argv = [self.b("loadgen"), "rtt", "--clients", str(clients), "--count", str(count), "--seconds", "20",
                    "--size", "64"]

            def per_second(env):
                return json.loads(run(argv, env=env).splitlines()[0])["per_second"]

            ours, ref = [], []
            for _ in range(self.rounds):
                if socat:
                    o, r = self.palindrome(lambda: per_second(self.env(rundir, network)),
                                           lambda: per_second(self.env(socat)))
                    ours.append(o)
                    ref.append(r)
                else:
                    ours.append(per_second(self.env(rundir, network)))
            self.record(f"round trips per second, {label}, {clients} client{'s' if clients > 1 else ''}, 64 B",
                        "1/s", ours, "socat chain" if socat else None, ref or None, lower_is_better=False)

    # -- 4. websocket ------------------------------------------------------------------------
    def websocket(self):
        log("websocket: websocketc -> websocketd -> pongd (handed over, then relayed) against Debian's websocketd "
            "running cat")
        debian = shutil.which("websocketd", path="/usr/bin")
        if not debian:
            raise RuntimeError("Debian's websocketd is missing (scripts/install-deps --bench installs it)")
        n = self.n(5000, 500)
        for handoff in (True, False):
            path = "handed over" if handoff else "relayed (--no-handoff)"
            with Processes(self.tmp) as procs:
                h = self.two_hosts(procs, handoff=handoff)
                go_port = free_port()
                procs.start("debian-websocketd", [debian, "--address=127.0.0.1", f"--port={go_port}",
                                                  "--loglevel=error", "cat"], ready=lambda: listening(go_port),
                            ours=False)
                text, frame, go, floor = [], [], [], []
                url = f"ws://127.0.0.1:{h['ws_port']}/pong"

                def websocketc(target, subprotocol):
                    return median_us(run([self.b("websocketc"), target, "-n", str(n), "-s", "64", "--subprotocol",
                                          subprotocol]))

                for _ in range(self.rounds):
                    t, f, g, r = self.palindrome(
                        lambda: websocketc(url, "ipc.text"), lambda: websocketc(url, "ipc.frame"),
                        lambda: websocketc(f"ws://127.0.0.1:{go_port}/", "none"),
                        lambda: self.raw_tcp(n, 64) if handoff else self.raw(n, 64, relays=1))
                    text.append(t)
                    frame.append(f)
                    go.append(g)
                    floor.append(r)
                # Debian's websocketd forks `cat` per connection: one process between, as our relay.
                target = 0.5 if handoff else None
                self.record(f"WebSocket round trip, 64 B, {path}: websocketc -> pongd, ipc.text", "us", text,
                            "Debian's websocketd running cat", go, target=target)
                self.record(f"WebSocket round trip, 64 B, {path}: websocketc -> pongd, ipc.frame", "us", frame,
                            "Debian's websocketd running cat", go, target=target)
                floor_name = ("raw_pingpong -t: two processes over loopback TCP (the floor with no daemon between)"
                              if handoff else
                              "raw chain of 1 relay over socketpairs (the floor for 1 daemon between)")
                self.record(f"WebSocket round trip, 64 B, {path}, ipc.text (vs the floor)", "us", text, floor_name,
                            floor)
                if not handoff:
                    self.record("Debian's websocketd running cat (vs the floor)", "us", go, floor_name, floor)

    # -- 5a. idle connections ----------------------------------------------------------------
    def idle(self):
        # A relayed connection takes two descriptors in each tcpd (and in websocketd): 10,000 of
        # them need more than a hard RLIMIT_NOFILE of 20,000 allows, and raising the hard limit
        # needs CAP_SYS_RESOURCE, which a container may not give even to root.
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        n = min(self.n(10000, 500), (limit - 300) // 2)
        for handoff in (True, False):
            self.idle_path(n, limit, handoff)

    def idle_path(self, n, limit, handoff):
        path = "handed-over" if handoff else "relayed (--no-handoff)"
        log(f"scale: {n} idle connections, tcp:// {path} (RLIMIT_NOFILE {limit})")
        with Processes(self.tmp) as procs:
            h = self.two_hosts(procs, max_connections=n + 100, handoff=handoff)
            # Warm the daemons up (a few connections, one round trip each) before the baseline.
            run([self.b("loadgen"), "rtt", "--clients", "16", "--count", "10"], env=self.env(h["a"], h["route"]))
            watched = ("tcpd_a", "tcpd_b", "websocketd_b", "pongd_b")
            before = {k: rss_kib(h[k].pid) for k in watched}
            grown = {}
            # A handed-over WebSocket takes three descriptors in pongd (the TCP socket and the
            # socket pair to its session), a relayed one one.
            n_ws = min(n, (limit - 300) // 3)
            kinds = [("tcp", n, [self.b("loadgen"), "hold", "--connections", str(n), "--seconds", "120"],
                      self.env(h["a"], h["route"])),
                     ("ws", n_ws, [self.b("loadgen"), "ws-hold", "--connections", str(n_ws), "--seconds", "120",
                                   f"ws://127.0.0.1:{h['ws_port']}/pong"], self.env(h["b"]))]
            for kind, count, argv, env in kinds:
                holder = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True)
                # Bounded: loadgen ends itself after --seconds (an alarm), and this waits no longer.
                ready, _, _ = select.select([holder.stdout], [], [], 150)
                line = holder.stdout.readline() if ready else ""
                if not line.startswith('{"held"'):
                    holder.kill()
                    holder.wait()
                    raise RuntimeError(f"loadgen {kind}: {'no answer in 150 s' if not ready else ''}"
                                       f"{holder.stderr.read().strip()}")
                # The relays are idle now; give the kernel's accounting a moment to settle by
                # reading until two readings agree (bounded).
                deadline = time.monotonic() + 5
                prev = None
                while time.monotonic() < deadline:
                    now = {k: rss_kib(h[k].pid) for k in watched}
                    if now == prev:
                        break
                    prev = now
                    time.sleep(0.2)
                grown[kind] = {k: (now[k] - before[k]) / count for k in watched}
                holder.stdin.close()
                holder.wait(timeout=60)
                before = {k: rss_kib(h[k].pid) for k in watched}
                log(f"  {kind}: " + ", ".join(f"{k} {v:.2f} KiB/conn" for k, v in grown[kind].items()))
            target = 0.1 if handoff else 8
            self.record(f"RSS per idle {path} connection, calling tcpd ({n} connections)", "KiB",
                        [grown["tcp"]["tcpd_a"]], target=target)
            self.record(f"RSS per idle {path} connection, answering tcpd ({n} connections)", "KiB",
                        [grown["tcp"]["tcpd_b"]], target=target)
            self.record(f"RSS per idle {path} WebSocket, websocketd ({n_ws} connections)", "KiB",
                        [grown["ws"]["websocketd_b"]], target=target)
            self.record(f"RSS per idle {path} WebSocket, pongd ({n_ws} connections)", "KiB",
                        [grown["ws"]["pongd_b"]])
            self.record(f"RSS per idle connection, pongd ({n} {path} connections through tcpd)", "KiB",
                        [grown["tcp"]["pongd_b"]])

    def table(self):
        rows = [("figure", "value", "reference", "reference value", "ratio", "target", "holds")]
        for r in self.results:
            rows.append((r["name"], f"{r['value']:g} {r['unit']}", r["reference"] or "",
                         "" if r["reference_value"] is None else f"{r['reference_value']:g} {r['unit']}",
                         "" if r["ratio"] is None else f"{r['ratio']:.2f}",
                         "" if r["target"] is None else (("≤ " if r.get("lower_is_better", True) else "≥ ") + f"{r['target']:g}" + ("×" if r["reference"] else f" {r['unit']}")),
                         {True: "yes", False: "NO", None: ""}[r["holds"]]))
        return "\n".join("| " + " | ".join(row) + " |" + ("\n|" + "---|" * len(row) if i == 0 else "")
                         for i, row in enumerate(rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the Release build's bin/ directory")
    parser.add_argument("--out", required=True, help="where to write the JSON results")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds per figure (each runs every contender twice, in palindrome order); "
                             "each figure is the median of the rounds")
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run, not a measurement)")
    parser.add_argument("--only", action="append", choices=["local", "lookup", "remote", "websocket", "idle"],
                        help="run only these parts (repeatable)")
    args = parser.parse_args()
    if args.rounds < 1 or args.rounds > 20:
        parser.error("--rounds: from 1 to 20")
    # 10,000 relayed connections need ~20,300 descriptors in the busiest process.
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    bench = Bench(args)
    try:
        for part in ("local", "lookup", "remote", "websocket", "idle"):
            if not args.only or part in args.only:
                getattr(bench, part)()
    except Exception:
        log_tails(bench.tmp)  # what the programs logged says more than the traceback
        raise
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump(bench.results, f, indent=1)
        f.write("\n")
    print(bench.table())
    held = [r for r in bench.results if r["holds"] is not None]
    print(f"\n{sum(r['holds'] for r in held)} of {len(held)} targets hold; results in {args.out}")


if __name__ == "__main__":
    main()
