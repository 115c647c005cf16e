// How many bytes the peer of a TCP socket has acknowledged so far (TCP_INFO's tcpi_bytes_acked):
// the progress of a write that only the kernel sees, for a write timeout on an operation that
// hides its partial writes (a Beast WebSocket write of a large message).
#pragma once

#include <cstdint>
#include <optional>

namespace ipc {

// nullopt when `fd` is not a TCP socket (or the kernel does not say).
[[nodiscard]] std::optional<std::uint64_t> tcp_bytes_acked(int fd) noexcept;

}  // namespace ipc
