// Delegation, ipcd ↔ protocol daemon (DESIGN §6): ipcd's CONNECT request, and the address
// check that makes rules with addresses hold for host names.
//
//   ipcd -> daemon   CONNECT {"uri": ..., "service": ..., "client": {"uid", "gid", "pid"}}, or
//                    with the check, "resolve" in the place of "uri" (a daemon that does not
//                    know the check then refuses the request instead of connecting unchecked)
//   daemon -> ipcd   DATA {"addresses": ["127.0.0.1", "::1"]}    what the URI's host resolved to
//   ipcd -> daemon   DATA {"allowed": ["::1"]}   or ERROR denied (and ipcd closes)
//   daemon -> ipcd   DATA "ok" (with the data path) or ERROR, as without the check
//
// ipcd has no network (its unit has PrivateNetwork=yes), so the daemon that connects resolves;
// ipcd, where every rule lives, says which of the addresses its out rules let through, and the
// daemon connects to those and no other. It never resolves twice, so what was checked is what
// is reached. Unspecified addresses (0.0.0.0, ::) reach this host: they are never connected to.
#pragma once

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "ipc/asio.hpp"
#include "ipc/connection.hpp"
#include "ipc/message.hpp"
#include "ipc/uri.hpp"

namespace ipc {

struct ConnectRequest {
  Uri uri;
  ucred client{};               // the local client ipcd acts for (logs)
  bool check_addresses = false;  // ipcd's out rules name addresses: ask before connecting
};

// Most addresses a daemon reports or ipcd allows (a host name has a handful).
inline constexpr std::size_t max_checked_addresses = 64;

[[nodiscard]] Message encode_connect_request(const ConnectRequest& request);
// Throws ipc::Error(bad_request) saying what is wrong (not CONNECT, not JSON, unknown key, bad URI).
[[nodiscard]] ConnectRequest parse_connect_request(const Message& frame);

// DATA {"KEY": ["addr", ...]}, KEY "addresses" (daemon -> ipcd) or "allowed" (ipcd -> daemon).
[[nodiscard]] Message encode_address_list(const char* key, const std::vector<std::string>& addresses);
// Each entry must be an address in canonical text (ipc::canonical_address), at most
// max_checked_addresses of them. Throws ipc::Error(bad_request).
[[nodiscard]] std::vector<std::string> parse_address_list(const char* key, const Message& frame);

// The daemon's side: resolves the URI's host, drops unspecified addresses, asks ipcd when the
// request says so, and connects to the first address that answers, all within `timeout`.
// Throws ipc::Error: timeout, unreachable (cannot resolve; no address to connect to), refused,
// or ipcd's ERROR (denied: none of the addresses is allowed; ipcd has told the client).
[[nodiscard]] asio::awaitable<asio::ip::tcp::socket> open_tcp(Connection& ipcd, const ConnectRequest& request,
                                                              std::chrono::milliseconds timeout);

}  // namespace ipc
