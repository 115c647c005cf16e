# Sourced by the bench scripts: a temporary directory ($tmp) and the processes started into it
# ($pids, appended to by the script) are gone when the script exits, however it exits; waiting
# for a socket file with a deadline; a free loopback port.
tmp=$(mktemp -d /tmp/ipc-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
wait_for() { local deadline=$((SECONDS + 20)); until [ -e "$1" ]; do [ $SECONDS -lt $deadline ] || exit 1; sleep 0.05; done; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
