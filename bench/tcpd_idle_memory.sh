#!/usr/bin/env bash
# Memory per idle relayed connection: opens N connections (default 1000) from host A to pongd on
# host B through ipcd + tcpd on both sides (two run directories on loopback), one round trip
# each, leaves them idle and prints how much each tcpd's RSS grew per connection.
#   bench/tcpd_idle_memory.sh [BUILD] [N]   (a Release build; default build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build}/bin
n=${2:-1000}
source "$root/bench/common.sh"
a=$tmp/a b=$tmp/b
mkdir -p "$a" "$b"
port=$(free_port)
ulimit -n "$(ulimit -Hn)"
"$bin/ipcd" --rundir "$b" --log-level warn --allow in pong tcp:127.0.0.1 & pids+=($!)
"$bin/pongd" --rundir "$b" --log-level warn & pids+=($!)
"$bin/tcpd" --rundir "$b" --log-level warn --listen "127.0.0.1:$port" & pids+=($!)
tcpd_b=$!
"$bin/ipcd" --rundir "$a" --log-level warn & pids+=($!)
"$bin/tcpd" --rundir "$a" --log-level warn --no-listen & pids+=($!)
tcpd_a=$!
for f in "$b/ipc" "$b/pong" "$b/tcp" "$a/ipc" "$a/tcp"; do wait_for "$f"; done
/usr/bin/python3 - "$a" "$port" "$n" "$tcpd_a" "$tcpd_b" <<'PY'
# LOOKUP on A/ipc (fd back by SCM_RIGHTS), one round trip, keep the fd; RSS from /proc.
import socket, struct, sys, time, array
rundir, port, n, pid_a, pid_b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"): return int(l.split()[1])
def frame(t, payload, ut=0): return struct.pack(">BIB", t, len(payload), ut) + payload
def lookup():
    s = socket.socket(socket.AF_UNIX); s.connect(rundir + "/ipc")
    s.sendall(frame(3, f"pong;pong tcp://127.0.0.1:{port}/pong".encode()))
    msg, fds, flags, addr = socket.recv_fds(s, 4096, 1)
    s.close()
    assert fds, msg
    c = socket.socket(fileno=fds[0]); c.setblocking(True); return c
def roundtrip(c):
    c.sendall(frame(2, b"hello"))
    want = 6 + 5; got = b""
    while len(got) < want: got += c.recv(want - len(got))
# warm-up
conns = [lookup() for _ in range(20)]
for c in conns: roundtrip(c)
time.sleep(0.5)
a0, b0 = rss(pid_a), rss(pid_b)
for i in range(n):
    c = lookup(); roundtrip(c); conns.append(c)
time.sleep(1)
a1, b1 = rss(pid_a), rss(pid_b)
print(f"{n} idle relayed connections: tcpd A +{a1-a0} KiB ({(a1-a0)/n:.2f} KiB/conn), tcpd B +{b1-b0} KiB ({(b1-b0)/n:.2f} KiB/conn)")
PY
