// The byte relay between a local Unix connection (whose other end a client or a service holds)
// and the connection to the remote tcpd (TCP, or TLS over it: remote_stream.hpp). A separate piece on purpose (DESIGN §15): where both
// ends can adopt the TCP socket itself, the relay is not needed at all.
//
// Both directions run at once. Each holds at most one chunk (64 KiB) in flight: it reads, writes
// that chunk out, and only then reads again, so a slow side makes tcpd stop reading the fast one
// (backpressure) and no process buffers without bound. An idle direction holds no buffer: it
// waits for readability first, takes a chunk from a small per-thread pool while data flows and
// gives it back once its side is drained, so an idle relayed connection costs its two sockets and
// its coroutine frames, and a busy daemon does not allocate per chunk. EOF one way is passed on
// as a half-close (shutdown of the other side's sending direction; for TLS close_notify first);
// an error on either side closes both at once, and so does a side that takes nothing for the
// write timeout while a chunk waits for it (a reader that stopped; one that drains slowly is kept).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <ipc/asio.hpp>
#include <chrono>
#include <string>

#include "remote_stream.hpp"

namespace tcpd {

class Relay {
 public:
  // `write_timeout` 0: a side that stopped reading is waited for forever.
  Relay(ipc::UnixSocket unix_side, RemoteStream remote, std::chrono::milliseconds write_timeout);
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Relays until both directions are done. `to_remote_first` / `to_unix_first` are bytes already
  // read from the other side that must go out before anything else. An EOF from either side is
  // passed on as a half-close, and the other direction goes on; but once the Unix side has
  // closed entirely (not only shut down its sending), nobody is left to read what the remote
  // sends: the remote then gets --write-timeout (10 s without one) to end, and the relay ends
  // either way, so that a remote that never closes cannot hold it.
  ipc::asio::awaitable<void> run(std::string to_remote_first = {}, std::string to_unix_first = {});

  // Closes both sides now (shutdown): run() then returns promptly.
  void close() noexcept;
  // Ends it gently, for a relay whose Unix side is the client (the drain at stop): the client is
  // read no more, what it sent already goes on and is followed by EOF, and the answers still
  // come back until the remote side ends.
  void finish() noexcept;

 private:
  template <class From, class To>
  ipc::asio::awaitable<void> pump(From& from, To& to, std::string first);

  ipc::UnixSocket unix_side_;
  RemoteStream remote_;
  std::chrono::milliseconds write_timeout_;
  // While the Unix side is gone and the remote is given its last moment: close() ends the wait.
  ipc::asio::steady_timer* last_moment_ = nullptr;
  bool remote_ended_ = false;  // the remote's EOF has been passed on
};

}  // namespace tcpd
