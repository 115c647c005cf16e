#!/usr/bin/env bash
# Packaging test: installs the build to a temporary prefix, checks every systemd unit
# (systemd-analyze verify, exposure at most 2.0), builds the pongd template out of tree
# against the installed libipc, and runs the built template against the built pong.
#   packaging.sh BUILD_DIR SOURCE_DIR "EXTRA_CXX_FLAGS"
set -euo pipefail
build=$1 src=$2 flags=${3:-}
tmp=$(mktemp -d /tmp/ipc-packaging-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "packaging: $*" >&2; exit 1; }

prefix=$tmp/usr
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in lib/libipc.so lib/libipc.a lib/pkgconfig/ipc.pc lib/cmake/ipc/ipcConfig.cmake include/ipc/service.hpp \
         lib/sysusers.d/ipc.conf lib/tmpfiles.d/ipc.conf; do
  [ -e "$prefix/$f" ] || fail "$f was not installed"
done
# Every program of the suite (tests and benchmarks in BUILD/bin are not installed).
for name in ipcd ipcctl pongd pong tcpd websocketd websocketc; do
  [ -x "$build/bin/$name" ] || fail "$name was not built"
  [ -x "$prefix/bin/$name" ] || fail "bin/$name was not installed"
  [ -e "$prefix/share/man/man1/$name.1" ] || fail "no man page for $name"
done
echo "installed tree:"
(cd "$prefix" && find . -type f | sort | grep -v '^./include/' | sed 's/^/  /')

units=("$prefix"/lib/systemd/system/*)
[ ${#units[@]} -ge 2 ] || fail "no systemd units installed"
if command -v systemd-analyze >/dev/null; then
  for unit in "${units[@]}"; do
    grep -q "ExecStart=$prefix/bin/" "$unit" || [[ $unit == *.socket ]] || fail "$(basename "$unit"): ExecStart not under $prefix"
    MANPATH=$prefix/share/man systemd-analyze verify "$unit" || fail "systemd-analyze verify $(basename "$unit")"
  done
  for unit in "$prefix"/lib/systemd/system/*.service; do
    exposure=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
               sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    [ -n "$exposure" ] || fail "no exposure figure for $(basename "$unit")"
    echo "exposure $(basename "$unit"): $exposure"
    awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "$(basename "$unit") exposure $exposure > 2.0"
  done
else
  echo "packaging: systemd-analyze is missing: units not verified"
fi

# The template: pongd/ on its own against the installed libipc.
cmake -S "$src/pongd" -B "$tmp/template" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$tmp/template" -j2 >/dev/null
rundir=$tmp/run
"$tmp/template/pongd" --rundir "$rundir" --name template --log-level warn &
pid=$!
deadline=$((SECONDS + 30))
until [ -S "$rundir/template" ]; do
  [ $SECONDS -lt $deadline ] || fail "the template pongd did not come up"
  kill -0 "$pid" 2>/dev/null || fail "the template pongd died"
  sleep 0.05
done
"$build/bin/pong" --rundir "$rundir" template "from the installed template" -n 100 || fail "pong against the template failed"
kill "$pid"
wait "$pid" || fail "the template pongd did not exit cleanly on SIGTERM"
pid=""
[ ! -e "$rundir/template" ] || fail "the template pongd left its socket file"
echo "packaging: ok"
