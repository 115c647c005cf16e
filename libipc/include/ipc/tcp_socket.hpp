// What the daemons do to the TCP sockets they carry: the options every remote connection gets
// (no delay, keepalive with the suite's timing), and the progress of a write that only the
// kernel sees.
//
// Keepalive matters most where no daemon relays (DESIGN §15): a client or service holding a
// handed-over socket learns of a vanished peer only from its own kernel. With `idle` set, the
// kernel probes a connection silent for `idle`, every idle/4 (at least 1 s), and gives up after
// 4 probes unanswered; TCP_USER_TIMEOUT ends one whose sent data goes unacknowledged that long
// too, so the peer is declared gone after about 2 × idle either way.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace ipc {

// TCP_NODELAY (frames are small and latency matters) and keepalive as above; `idle` 0 leaves
// keepalive on with the kernel's timing (net.ipv4.tcp_keepalive_*). Best effort: an option the
// kernel refuses is left as it was.
void tune_tcp(int fd, std::chrono::seconds idle) noexcept;

// How many bytes the peer of a TCP socket has acknowledged so far (TCP_INFO's tcpi_bytes_acked):
// the progress of a write that hides its partial writes (a Beast WebSocket write of a large
// message). nullopt when `fd` is not a TCP socket (or the kernel does not say).
[[nodiscard]] std::optional<std::uint64_t> tcp_bytes_acked(int fd) noexcept;

}  // namespace ipc
