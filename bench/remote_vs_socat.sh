#!/usr/bin/env bash
# Measures pong across two simulated hosts on loopback, through ipcd + tcpd on both sides,
# next to a socat chain carrying the same pong and pongd:
#   A/pong (socat UNIX-LISTEN) -> TCP -> socat TCP-LISTEN -> UNIX-CONNECT B/pong
# and, for scale, pong straight to pongd and the raw socketpair limit.
#   bench/remote_vs_socat.sh [BUILD]   (a Release build; default build/)
# Bounded: a fixed number of round trips per figure, loopback only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build}/bin
source "$root/bench/common.sh"

a=$tmp/a b=$tmp/b s=$tmp/socat
mkdir -p "$a" "$b" "$s"
"$bin/ipcd" --rundir "$b" --log-level warn --allow in pong tcp:127.0.0.1 & pids+=($!)
"$bin/pongd" --rundir "$b" --log-level warn & pids+=($!)
port=$(free_port)
"$bin/tcpd" --rundir "$b" --log-level warn --listen "127.0.0.1:$port" & pids+=($!)
"$bin/ipcd" --rundir "$a" --log-level warn & pids+=($!)
"$bin/tcpd" --rundir "$a" --log-level warn --no-listen & pids+=($!)
socat_port=$(free_port)
socat "TCP-LISTEN:$socat_port,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$b/pong" & pids+=($!)
socat "UNIX-LISTEN:$s/pong,fork" "TCP:127.0.0.1:$socat_port,nodelay" & pids+=($!)
for f in "$b/ipc" "$b/pong" "$b/tcp" "$a/ipc" "$a/tcp" "$s/pong"; do wait_for "$f"; done

route="pong tcp://127.0.0.1:$port/pong"
for run in 1 2 3; do
  echo "-- run $run"
  IPC_NETWORK="$route" "$bin/pong" --rundir "$a" -n 10000 | sed 's/^/ipcd+tcpd  /'
  "$bin/pong" --rundir "$s" -n 10000 | sed 's/^/socat      /'
  IPC_NETWORK="$route" "$bin/pong" --rundir "$a" -n 200 -s 1048576 | sed 's/^/ipcd+tcpd  /'
  "$bin/pong" --rundir "$s" -n 200 -s 1048576 | sed 's/^/socat      /'
  "$bin/pong" --rundir "$b" -n 10000 | sed 's/^/direct     /'
  "$bin/raw_pingpong" -n 10000 | sed 's/^/raw        /'
done
