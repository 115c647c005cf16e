// CONNECT and the address check between ipcd and a protocol daemon (see delegation.hpp).
#include "ipc/delegation.hpp"

#include "ipc/deadline.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <nlohmann/json.hpp>

#include "ipc/address.hpp"
#include "ipc/deadline.hpp"
#include "ipc/error.hpp"
#include "ipc/json_frame.hpp"
#include "ipc/text.hpp"

namespace ipc {
namespace {

using tcp = asio::ip::tcp;

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::bad_request, what); }

}  // namespace

Message encode_connect_request(const ConnectRequest& request) {
  // With the check, the URI goes under "resolve", not "uri": a daemon that does not know the
  // check refuses the request (no "uri") instead of connecting unchecked.
  nlohmann::json body{{request.check_addresses ? "resolve" : "uri", request.uri.str_with_secrets()},
                      {"service", request.uri.service().str()},
                      {"client", {{"uid", request.client.uid}, {"gid", request.client.gid}, {"pid", request.client.pid}}}};
  return {MessageType::connect, 0, body.dump()};
}

ConnectRequest parse_connect_request(const Message& frame) {
  const auto body = parse_json_object(frame, MessageType::connect, "CONNECT");
  for (const auto& [key, value] : body.items()) {
    if (key != "uri" && key != "resolve" && key != "service" && key != "client")
      bad("CONNECT: unknown key '" + key + "'");
  }
  const bool check = body.contains("resolve");
  if (check == body.contains("uri")) bad("CONNECT: takes one of 'uri' and 'resolve'");
  const auto uri_field = body.find(check ? "resolve" : "uri");
  if (!uri_field->is_string()) bad(std::string("CONNECT: '") + (check ? "resolve" : "uri") + "' must be a string");
  ConnectRequest request{Uri::parse(uri_field->get<std::string>()), {}, check};
  if (request.uri.is_local()) bad("CONNECT: '" + request.uri.str() + "' is a local service, not a remote URI");
  if (const auto service = body.find("service"); service != body.end()) {
    if (!service->is_string() || service->get<std::string>() != request.uri.service().str())
      bad("CONNECT: 'service' must be the URI's service");
  }
  if (const auto client = body.find("client"); client != body.end()) {
    if (!client->is_object()) bad("CONNECT: 'client' must be an object");
    const auto number = [&](const char* key, auto& out) {
      const auto it = client->find(key);
      if (it == client->end()) return;
      if (!it->is_number_integer()) bad(std::string("CONNECT: 'client.") + key + "' must be an integer");
      out = it->get<std::remove_reference_t<decltype(out)>>();
    };
    number("uid", request.client.uid);
    number("gid", request.client.gid);
    number("pid", request.client.pid);
  }
  return request;
}

Message encode_address_list(const char* key, const std::vector<std::string>& addresses) {
  return Message::data(nlohmann::json{{key, addresses}}.dump());
}

std::vector<std::string> parse_address_list(const char* key, const Message& frame) {
  const auto body = parse_json_object(frame, MessageType::data, key);
  if (body.size() != 1 || !body.contains(key) || !body[key].is_array())
    bad(std::string(key) + ": expected {\"" + key + "\": [addresses]}");
  const auto& list = body[key];
  if (list.size() > max_checked_addresses)
    bad(std::string(key) + ": more than " + std::to_string(max_checked_addresses) + " addresses");
  std::vector<std::string> out;
  for (const auto& entry : list) {
    if (!entry.is_string()) bad(std::string(key) + ": every address must be a string");
    const auto text = entry.get<std::string>();
    if (canonical_address(text) != text)
      bad(std::string(key) + ": '" + printable(text) + "' is not an address in canonical form");
    out.push_back(text);
  }
  return out;
}

asio::awaitable<tcp::socket> open_tcp(Connection& ipcd, const ConnectRequest& request,
                                      std::chrono::milliseconds timeout) {
  const Uri& uri = request.uri;
  const auto executor = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  tcp::resolver resolver(executor);
  tcp::socket socket(executor);
  // One deadline for the resolution, ipcd's check and the connect. The resolver runs on a
  // thread of its own and takes no per-operation cancellation: it is cancelled as a whole.
  const Deadline expiry(executor, timeout, [&resolver, &socket] {
    resolver.cancel();
    boost::system::error_code ignored;
    socket.cancel(ignored);
  });
  auto [resolve_error, results] = co_await resolver.async_resolve(uri.host(), std::to_string(uri.port()), use_nothrow);
  if (expiry.expired()) throw Error(ErrorCode::timeout, "could not resolve " + uri.host() + " within " + seconds_text(timeout));
  if (resolve_error) throw Error(ErrorCode::unreachable, "cannot resolve " + uri.host() + ": " + resolve_error.message());

  // Each address once, in the resolver's order, without the unspecified ones.
  std::vector<tcp::endpoint> endpoints;
  std::vector<std::string> addresses;
  for (const auto& entry : results) {
    const auto address = entry.endpoint().address();
    if (unmapped(address).is_unspecified()) continue;  // (::ffff:0.0.0.0 is 0.0.0.0)
    const std::string text = canonical_address(address);
    if (std::find(addresses.begin(), addresses.end(), text) != addresses.end()) continue;
    if (addresses.size() == max_checked_addresses) break;
    addresses.push_back(text);
    endpoints.push_back(entry.endpoint());
  }
  if (endpoints.empty())
    throw Error(ErrorCode::unreachable, uri.host() + " resolves to no address to connect to (0.0.0.0 and :: are this host)");

  if (request.check_addresses) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw Error(ErrorCode::timeout, "no time left to ask ipcd about " + uri.host());
    if (!co_await ipcd.send(encode_address_list("addresses", addresses)))
      throw Error(ErrorCode::unavailable, "ipcd went away before the address check");
    Message answer;
    if (!co_await ipcd.receive(answer, left)) throw Error(ErrorCode::unavailable, "ipcd went away during the address check");
    if (answer.type == MessageType::error) throw Error::from_payload(answer.payload);
    const auto allowed = parse_address_list("allowed", answer);
    std::vector<tcp::endpoint> kept;
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      if (std::find(allowed.begin(), allowed.end(), addresses[i]) != allowed.end()) kept.push_back(endpoints[i]);
    }
    if (kept.empty()) throw Error(ErrorCode::denied, "ipcd allowed none of the addresses of " + uri.host());
    endpoints = std::move(kept);
  }

  if (expiry.expired()) throw Error(ErrorCode::timeout, "no time left to connect to " + uri.authority());
  auto [ec, endpoint] = co_await asio::async_connect(socket, endpoints, use_nothrow);
  if (expiry.expired()) throw Error(ErrorCode::timeout, "no TCP connection to " + uri.authority() + " within " + seconds_text(timeout));
  if (ec) {
    if (ec == asio::error::connection_refused) throw Error(ErrorCode::refused, uri.authority() + " refused the connection");
    // ENETUNREACH, EHOSTUNREACH and the like: no way there.
    throw Error(ErrorCode::unreachable, uri.authority() + ": " + ec.message());
  }
  co_return socket;
}

}  // namespace ipc
