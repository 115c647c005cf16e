#!/usr/bin/env bash
# scripts/bench must not rot: its measuring script runs end to end on this build's programs with
# small counts (--quick, one round), and every figure it promises is there and plausible. No
# speed is asserted: the sanitizer build is slow on purpose, and speed is scripts/bench's job.
#   tests/bench_smoke.sh BUILD_BIN
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$1
out=$(mktemp -d /tmp/ipc-bench-smoke-XXXXXX)
trap 'rm -rf "$out"' EXIT

# Bad flags: exit status 2 and a line saying why, before anything is contacted.
expect_bad_flags() {
  local status=0 err
  err=$("$@" 2>&1 >/dev/null) || status=$?
  if [ "$status" -ne 2 ] || [ -z "$err" ]; then
    echo "bench smoke: '$*' exited $status (expected 2 and a reason): $err" >&2
    exit 1
  fi
}
expect_bad_flags "$bin/loadgen" nonsense
expect_bad_flags "$bin/loadgen" rtt --clients 0
expect_bad_flags "$bin/loadgen" hold ../x
expect_bad_flags "$bin/loadgen" rtt --seconds -1
expect_bad_flags "$bin/raw_pingpong" -r 99
expect_bad_flags "$bin/raw_pingpong" -x 1
expect_bad_flags "$bin/raw_pingpong" -t -r 2
expect_bad_flags "$bin/lookup_cost" -x
expect_bad_flags /usr/bin/python3 "$root/bench/run.py" --bin "$bin" --out "$out/x.json" --rounds 0
# Debian's websocketd, the WebSocket peer, comes only with scripts/install-deps --bench.
parts=(--only local --only lookup --only remote --only idle)
if [ -x /usr/bin/websocketd ] && dpkg-query -W -f='${db:Status-Status}' websocketd 2>/dev/null | grep -q installed; then
  parts+=(--only websocket)
  websocket=1
else
  echo "bench smoke: Debian's websocketd is not installed; the WebSocket comparison is left out"
  websocket=0
fi
/usr/bin/python3 "$root/bench/run.py" --bin "$bin" --out "$out/results.json" --quick --rounds 1 "${parts[@]}" \
  > "$out/table.txt"
/usr/bin/python3 - "$out/results.json" "$websocket" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))
websocket = sys.argv[2] == "1"
keys = {"name", "unit", "value", "reference", "reference_value", "ratio"}
for r in results:
    missing = keys - r.keys()
    assert not missing, f"{r['name']}: missing {missing}"
    # CPU time may round to 0 where the kernel counts it only in 10 ms ticks (no schedstat).
    # A daemon that keeps nothing of a handed-over connection may even shrink a little.
    assert r["value"] > 0 or (r["name"].startswith("CPU") and r["value"] == 0) or \
        r["name"].startswith("RSS per idle"), f"{r['name']}: value {r['value']}"
    if r["reference"]:
        assert r["reference_value"] > 0 and r["ratio"] > 0, r
names = " | ".join(r["name"] for r in results)
parts = ["local round trip", "new connection through ipcd", "remote round trip", "remote throughput",
         "round trips per second", "RSS per idle handed-over connection, calling tcpd",
         "RSS per idle relayed (--no-handoff) connection, calling tcpd", "(vs raw TCP)",
         "RSS per idle handed-over WebSocket, websocketd", "RSS per idle relayed (--no-handoff) WebSocket, websocketd",
         "CPU per round trip in pongd",
         "CPU per round trip in the calling tcpd"]
if websocket:
    parts += ["WebSocket round trip, 64 B, handed over", "WebSocket round trip, 64 B, relayed"]
for part in parts:
    assert part in names, f"no figure for {part!r} in {names}"
targets = [r for r in results if r.get("target") is not None]
assert len(targets) >= (9 if websocket else 7), f"{len(targets)} targets"
print(f"bench smoke: {len(results)} figures, {len(targets)} with targets")
PY
grep -q "targets hold" "$out/table.txt"
