#!/usr/bin/env bash
# Measures tls:// next to tcp:// across two simulated hosts on loopback, in one run: pong's round
# trips (64 bytes and 1 MiB) and the cost of opening a connection (connect_cost: LOOKUP, CONNECT,
# TCP, the TLS handshake, the remote handshake, INBOUND, the fd back, one round trip), for
# tcp://, tls:// verifying a certificate, and tls:// with a pre-shared key.
#   bench/tls_vs_tcp.sh [BUILD]   (a Release build; default build/)
# Bounded: a fixed number of round trips and connections per figure, loopback only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build}/bin
tmp=$(mktemp -d /tmp/ipc-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
wait_for() { local deadline=$((SECONDS + 20)); until [ -e "$1" ]; do [ $SECONDS -lt $deadline ] || exit 1; sleep 0.05; done; }
wait_log() { local deadline=$((SECONDS + 20)); until grep -q "$2" "$1"; do [ $SECONDS -lt $deadline ] || exit 1; sleep 0.05; done; }

"$root/tests/tls_certs.sh" "$tmp/certs" >/dev/null
key=00112233445566778899aabbccddeeff
a=$tmp/a b=$tmp/b
mkdir -p "$a" "$b"
"$bin/ipcd" --rundir "$b" --log-level warn --allow in pong tcp:127.0.0.1 --allow in pong tls:127.0.0.1 & pids+=($!)
"$bin/pongd" --rundir "$b" --log-level warn & pids+=($!)
"$bin/tcpd" --rundir "$b" --listen 127.0.0.1:0 --listen-tls 127.0.0.1:0 --tls-cert "$tmp/certs/server.pem" \
  --tls-key "$tmp/certs/server.key" --psk "bench:$key" 2>"$tmp/b-tcpd.log" & pids+=($!)
"$bin/ipcd" --rundir "$a" --log-level warn & pids+=($!)
"$bin/tcpd" --rundir "$a" --log-level warn --no-listen --tls-ca "$tmp/certs/ca.pem" --psk "bench:$key" & pids+=($!)
for f in "$b/ipc" "$b/pong" "$a/ipc" "$a/tcp" "$a/tls"; do wait_for "$f"; done
wait_log "$tmp/b-tcpd.log" "listening for TLS on"
tcp_port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$tmp/b-tcpd.log" | head -1 | sed 's/.*://')
tls_port=$(grep -o 'listening for TLS on 127.0.0.1:[0-9]*' "$tmp/b-tcpd.log" | head -1 | sed 's/.*://')
tcp="tcp://127.0.0.1:$tcp_port/pong" tls="tls://127.0.0.1:$tls_port/pong" psk="tls://bench@127.0.0.1:$tls_port/pong"

for run in 1 2 3; do
  echo "-- run $run"
  for uri in "$tcp" "$tls" "$psk"; do
    IPC_NETWORK="pong $uri" "$bin/pong" --rundir "$a" -n 5000 -s 64 | sed "s|^|$uri  |"
    IPC_NETWORK="pong $uri" "$bin/pong" --rundir "$a" -n 100 -s 1048576 | sed "s|^|$uri  |"
  done
  IPC_RUNDIR=$a "$bin/connect_cost" -n 300 "$tcp" "$tls" "$psk"
done
