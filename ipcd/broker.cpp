// ipcd's broker: LOOKUP, INBOUND, STATUS (DESIGN §5, §6, §8, §9).
#include "broker.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <ipc/address.hpp>
#include <ipc/adopt.hpp>
#include <ipc/broker.hpp>
#include <ipc/client.hpp>
#include <ipc/command_line.hpp>
#include <ipc/delegation.hpp>
#include <ipc/fd_async.hpp>
#include <ipc/log.hpp>
#include <ipc/text.hpp>
#include <ipc/network.hpp>
#include <ipc/rundir.hpp>

namespace ipcd {

using ipc::Error;
using ipc::ErrorCode;
namespace asio = ipc::asio;

namespace {

std::chrono::milliseconds left(std::chrono::steady_clock::time_point deadline) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (ms.count() <= 0) throw Error(ErrorCode::timeout, "the request took longer than the timeout");
  return ms;
}

ClientCredentials credentials(ipc::Connection& connection) {
  return {connection.peer().uid, connection.peer().gid, connection.peer().pid,
          ipc::peer_groups(connection.socket().native_handle())};
}

const ipc::Message ok{ipc::MessageType::data, 0, "ok"};

// The scheme's protocol daemon listens on RUNDIR/SCHEME (DESIGN §2).
const char* daemon_socket(ipc::Scheme scheme) {
  switch (scheme) {
    case ipc::Scheme::tcp: return "tcp";
    case ipc::Scheme::tls: return "tls";
    case ipc::Scheme::ws: return "ws";
    case ipc::Scheme::wss: return "wss";
    case ipc::Scheme::unix_socket: break;
  }
  return nullptr;
}

// The protocol daemon that serves the scheme (one place in --max-held's count for all of its
// schemes: tcp and tls are one tcpd's relays).
const char* daemon_program(ipc::Scheme scheme) {
  switch (scheme) {
    case ipc::Scheme::tcp:
    case ipc::Scheme::tls: return "tcpd";
    case ipc::Scheme::ws:
    case ipc::Scheme::wss: return "websocketd";
    case ipc::Scheme::unix_socket: break;
  }
  return nullptr;
}

bool is_unix_socket(int fd) {
  int domain = 0;
  socklen_t size = sizeof domain;
  return ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 && domain == AF_UNIX;
}

// Waits for the first frame of a request, within the deadline.
asio::awaitable<std::optional<ipc::Message>> first_frame(ipc::Connection& client, std::chrono::milliseconds timeout) {
  ipc::Message request;
  if (!co_await client.receive(request, timeout)) co_return std::nullopt;
  co_return request;
}

}  // namespace

Config build_config(const PolicySource& source) {
  PolicyLayer file;
  if (source.config_file) file = parse_layer(load_document(source.config_file->string()), source.config_file->string());
  const PolicyLayer& cli = source.command_line;
  return Config{Policy::from(cli, file), cli.timeout_seconds ? cli.timeout_seconds : file.timeout_seconds};
}

Broker::Broker(BrokerSettings settings, PolicySource source, Config config)
    : settings_(std::move(settings)), source_(std::move(source)), config_(std::move(config)), held_(settings_.max_held) {
  if (!settings_.timeout_from_command_line && config_.timeout_seconds)
    settings_.timeout = std::chrono::milliseconds(static_cast<long>(*config_.timeout_seconds * 1000));
}

std::optional<std::string> Broker::reload() {
  try {
    Config fresh = build_config(source_);
    config_ = std::move(fresh);
    if (!settings_.timeout_from_command_line && config_.timeout_seconds)
      settings_.timeout = std::chrono::milliseconds(static_cast<long>(*config_.timeout_seconds * 1000));
    ++reloads_;
    ipc::log_info("configuration reloaded: ", config_.policy.rules().size(), " rules");
    return std::nullopt;
  } catch (const std::exception& e) {
    ipc::log_error("reload failed, keeping the previous configuration: ", e.what());
    return std::string(e.what());
  }
}

bool Broker::trusted(const ClientCredentials& client) const noexcept {
  // INBOUND and reload are for the protocol daemons and the administrator.
  return settings_.inbound_trust.contains(client.uid);
}

namespace {

// The suite's own sockets are never services (ipc::why_reserved): neither asked for, nor reached
// through a redirection, a route or a remote peer's request.
void refuse_reserved(std::string_view name) {
  if (auto why = ipc::why_reserved(name); !why.empty()) throw Error(ErrorCode::denied, why);
}

}  // namespace

Plan Broker::plan_lookup(std::string_view payload, const ClientCredentials& client) const {
  const auto semicolon = payload.find(';');
  const std::string_view name = payload.substr(0, semicolon);
  const std::string_view routes_text = semicolon == std::string_view::npos ? "" : payload.substr(semicolon + 1);
  refuse_reserved(name);
  if (auto why = ipc::ServiceName::why_invalid(name); !why.empty()) throw Error(ErrorCode::bad_request, why);
  const ipc::ServiceName requested(name);
  const auto routes = ipc::NetworkRoutes::parse(routes_text);

  const Policy& policy = config_.policy;
  Resolved resolved = policy.resolve(requested);
  std::optional<ipc::Uri> destination;
  std::string how;
  if (resolved.uri) {
    destination = *resolved.uri;
    how = "redirect";
  } else if (const ipc::Uri* uri = routes.find(resolved.service)) {
    destination = *uri;
    how = "client IPC_NETWORK";
  } else if (const ipc::Uri* route = policy.route(resolved.service)) {
    destination = *route;
    how = "static route";
  } else {
    destination = ipc::Uri(resolved.service);
    how = resolved.hops.size() > 1 ? "redirect" : "local";
  }
  for (const auto& hop : resolved.hops) refuse_reserved(hop);
  if (destination->is_local()) refuse_reserved(destination->service().str());
  Decision decision = policy.check_out(requested, *destination, client);
  return Plan{requested, std::move(resolved.hops), std::move(*destination), how, std::move(decision)};
}

asio::awaitable<Broker::Looked> Broker::open_lookup(const std::string& payload, const ClientCredentials& client,
                                                   Clock::time_point deadline) {
  const Plan plan = plan_lookup(payload, client);
  // A decision that depends on the addresses is taken again for each of them in delegate().
  if (plan.decision.action == Action::deny && !plan.decision.depends_on_addresses)
    throw Error(ErrorCode::denied, plan.requested.str() + " -> " + plan.destination.str() + " refused by " +
                                       plan.decision.because);
  ipc::log_debug("lookup ", plan.requested.str(), " by uid ", client.uid, " pid ", client.pid, " -> ",
                 plan.destination.str(), " (", plan.route, ")");
  const bool local = plan.destination.is_local();
  const char* daemon = local ? nullptr : daemon_program(plan.destination.scheme());
  Looked looked;
  if (!trusted(client) && (local || daemon != nullptr)) {
    const std::string what = local ? "to service " + plan.destination.service().str() : std::string("relayed by ") + daemon;
    auto claim = co_await held_.claim(client.uid, what);
    if (!claim)
      throw Error(ErrorCode::unavailable, "uid " + std::to_string(client.uid) + " already holds " +
                                              std::to_string(held_.max()) + " connections " + what +
                                              " made through ipcd (--max-held)");
    looked.held = std::move(*claim);
  }
  if (local) {
    looked.fd = co_await connect_local(plan.destination.service(), deadline);
  } else {
    looked.fd = co_await delegate(plan, client, deadline);
    // A remote socket handed over (§15) occupies no daemon of this host.
    if (!is_unix_socket(looked.fd.get())) looked.held = HeldConnections::Claim();
  }
  co_return looked;
}

std::vector<std::string> Broker::allowed_addresses(const Plan& plan, const ClientCredentials& client,
                                                   const std::vector<std::string>& addresses) const {
  std::vector<std::string> allowed;
  std::optional<Decision> first_denial;
  for (const auto& address : addresses) {
    Decision decision = config_.policy.check_out(plan.requested, plan.destination, client, &address);
    if (decision.action == Action::allow) {
      allowed.push_back(address);
    } else if (!first_denial) {
      first_denial = std::move(decision);
    }
  }
  if (allowed.empty()) {
    std::string list;
    for (const auto& address : addresses) list += (list.empty() ? "" : ", ") + address;
    throw Error(ErrorCode::denied, plan.requested.str() + " -> " + plan.destination.str() + " refused by " +
                                       (first_denial ? first_denial->because : plan.decision.because) + " (" +
                                       plan.destination.host() + " is " + list + ")");
  }
  if (allowed.size() < addresses.size())
    ipc::log_info("lookup ", plan.requested.str(), " -> ", plan.destination.str(), ": ", first_denial->because,
                  " leaves ", allowed.size(), " of ", addresses.size(), " addresses of ", plan.destination.host());
  return allowed;
}

asio::awaitable<Broker::Opened> Broker::open_inbound(const std::string& payload, const ClientCredentials& client,
                                                     Clock::time_point deadline) {
  if (!trusted(client))
    throw Error(ErrorCode::denied, "INBOUND is only taken from the protocol daemons' users (" +
                                       settings_.inbound_trust.describe() + "), not from uid " +
                                       std::to_string(client.uid));
  const ipc::InboundRequest request = ipc::parse_inbound_request(ipc::Message{ipc::MessageType::inbound, 0, payload});
  refuse_reserved(request.service);
  if (auto why = ipc::ServiceName::why_invalid(request.service); !why.empty()) throw Error(ErrorCode::bad_request, why);
  const ipc::ServiceName requested(request.service);

  RemotePeer peer;
  peer.scheme = request.scheme;
  peer.identity = request.identity;
  peer.certificate = request.certificate;
  const std::string& address = request.peer;
  // "1.2.3.4:5678" or "[::1]:5678": an address and a port, or the request is refused (a rule
  // for an address or a port must never meet something else).
  if (!address.empty()) {
    try {
      const ipc::HostPort split = ipc::split_host_port(address);
      const auto canonical = ipc::canonical_address(split.host);
      if (!canonical) throw std::invalid_argument("'" + split.host + "' is not an IP address");
      peer.address = *canonical;
      peer.port = split.port;
    } catch (const std::invalid_argument& e) {
      throw Error(ErrorCode::bad_request, "INBOUND: bad peer address " + ipc::printable(e.what()));
    }
  }

  const Resolved resolved = config_.policy.resolve(requested);
  for (const auto& hop : resolved.hops) refuse_reserved(hop);
  const Decision decision = config_.policy.check_in(requested, peer);
  const std::string who = std::string(ipc::to_string(peer.scheme)) + " peer " + address +
                          (peer.identity.empty() ? "" : " (" + peer.identity + ")");
  if (decision.action == Action::deny) {
    ++inbound_["denied"];
    ipc::log_info("inbound ", requested.str(), " from ", who, " denied by ", decision.because);
    throw Error(ErrorCode::denied, requested.str() + " refused to " + who + " by " + decision.because);
  }
  if (resolved.uri) {
    ++inbound_["refused"];
    throw Error(ErrorCode::not_found, requested.str() + " is redirected to " + resolved.uri->str() +
                                          "; inbound connections only reach local services");
  }
  ++inbound_["allowed"];
  ipc::log_info("inbound ", requested.str(), " from ", who, " allowed by ", decision.because);
  const std::string scheme(ipc::to_string(peer.scheme));
  auto& paths = paths_["in"][scheme];
  if (request.replaces_adoption && paths["handed_over"] > 0) --paths["handed_over"];
  Opened opened;
  if (request.adopt) {
    opened.fd = co_await connect_adoption(resolved.service, deadline);
    opened.adoption = opened.fd.valid();
  }
  std::optional<Error> failure;
  try {
    if (!opened.adoption) opened.fd = co_await connect_local(resolved.service, deadline);
  } catch (const Error& e) {
    failure = e;
  }
  if (failure) {
    // The text names this host's run directory (and where a redirection led): for the log, not
    // for a remote peer, who is told the code and the name it asked for.
    ipc::log_info("inbound ", requested.str(), " from ", who, ": ", failure->what());
    throw Error(failure->code(), requested.str());
  }
  ++paths[opened.adoption ? "handed_over" : "relayed"];
  co_return opened;
}

asio::awaitable<ipc::UniqueFd> Broker::connect_adoption(const ipc::ServiceName& service, Clock::time_point deadline) {
  const auto adoption = ipc::adoption_socket_path(settings_.rundir, service);
  // RUNDIR lets anybody create a name nobody holds: an adoption socket counts only when the
  // service's own socket's owner made it, else a local user could take remote peers meant for
  // a service that adopts nothing.
  struct stat own{};
  struct stat beside{};
  if (::lstat(adoption.c_str(), &beside) != 0 || ::lstat(ipc::socket_path(settings_.rundir, service).c_str(), &own) != 0)
    co_return ipc::UniqueFd();  // no adoption socket, or no service to compare it with (it fails below)
  // (That it is a socket file, not a link, the connect checks: ipc::async_connect_unix_fd.)
  if (own.st_uid != beside.st_uid) {
    ipc::log_warn("ignoring ", adoption.string(), ": not a socket of the owner of ", service.str(),
                  "'s (uid ", own.st_uid, "; it is uid ", beside.st_uid, "'s)");
    co_return ipc::UniqueFd();
  }
  std::optional<Error> failure;
  ipc::UniqueFd fd;
  try {
    // Half of what is left at most: a service that does not answer here still gets its relay.
    fd = co_await ipc::async_connect_unix_fd(adoption, left(deadline) / 2);
  } catch (const Error& e) {
    failure = e;
  }
  if (failure) ipc::log_debug("adoption socket of ", service.str(), ": ", failure->what(), ": relaying");
  co_return fd;
}

asio::awaitable<ipc::UniqueFd> Broker::connect_local(const ipc::ServiceName& service, Clock::time_point deadline) {
  refuse_reserved(service.str());  // checked before; here so that no path can forget it
  // Not through the event loop: the fd only passes through ipcd on its way to the client.
  co_return co_await ipc::async_connect_unix_fd(ipc::socket_path(settings_.rundir, service), left(deadline));
}

asio::awaitable<ipc::UniqueFd> Broker::delegate(const Plan& plan, const ClientCredentials& client,
                                                Clock::time_point deadline) {
  const ipc::Uri& uri = plan.destination;
  const char* name = daemon_socket(uri.scheme());
  if (name == nullptr) throw Error(ErrorCode::unsupported_scheme, "no protocol daemon for " + uri.str());
  ipc::ConnectOptions options;
  options.rundir = settings_.rundir;
  options.timeout = left(deadline);
  options.direct = true;
  std::optional<ipc::UnixSocket> daemon;
  try {
    daemon.emplace(co_await ipc::async_connect(ipc::ServiceName(name), options));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
  }
  if (!daemon)
    throw Error(ErrorCode::unsupported_scheme, std::string("no protocol daemon for ") + name +
                                                   ":// (nothing answers on " +
                                                   ipc::socket_path(settings_.rundir, ipc::ServiceName(name)).string() + ")");
  ++delegations_[name];
  const bool check = plan.decision.depends_on_addresses;
  const ipc::Message request =
      ipc::encode_connect_request({uri, ucred{client.pid, client.uid, client.gid}, check});
  co_await ipc::async_send_frame_with_fd(*daemon, request, -1, left(deadline));
  if (check) {
    // The daemon resolved the host: the rules are taken again for each address (ipc/delegation.hpp).
    auto resolved = co_await ipc::async_recv_frame_with_fd(*daemon, ipc::max_request_payload, left(deadline));
    if (resolved.message.type == ipc::MessageType::error) throw Error::from_payload(resolved.message.payload);
    std::vector<std::string> addresses;
    try {
      addresses = ipc::parse_address_list("addresses", resolved.message);
    } catch (const Error& e) {
      throw Error(ErrorCode::internal, std::string("the ") + name + " daemon's addresses: " + e.text());
    }
    std::vector<std::string> allowed;
    std::optional<Error> denial;
    try {
      allowed = allowed_addresses(plan, client, addresses);
    } catch (const Error& e) {
      denial = e;
    }
    if (denial) {
      co_await ipc::async_send_frame_with_fd(*daemon, ipc::Message::error(denial->payload()), -1, left(deadline));
      throw *denial;
    }
    co_await ipc::async_send_frame_with_fd(*daemon, ipc::encode_address_list("allowed", allowed), -1, left(deadline));
  }
  // Exactly one frame: what follows it on this connection is the client's data.
  auto answer = co_await ipc::async_recv_frame_with_fd(*daemon, ipc::max_request_payload, left(deadline));
  if (answer.message.type == ipc::MessageType::error) throw Error::from_payload(answer.message.payload);
  if (answer.message.type != ipc::MessageType::data || answer.message.payload != "ok")
    throw Error(ErrorCode::internal, std::string("the ") + name + " daemon gave an unexpected answer");
  // A daemon may hand over the remote connection itself (DESIGN §15); else this connection is
  // the data path.
  ++paths_["out"][std::string(ipc::to_string(uri.scheme()))][answer.fd ? "handed_over" : "relayed"];
  ipc::UniqueFd fd = answer.fd ? std::move(answer.fd) : ipc::UniqueFd(daemon->release());
  ipc::make_blocking(fd.get());  // as a fresh socket is (DESIGN §15): the original client reads with recv()
  co_return fd;
}

asio::awaitable<void> Broker::serve(ipc::Connection& client) {
  const auto deadline = Clock::now() + settings_.timeout;
  auto request = co_await first_frame(client, settings_.timeout);
  if (!request) co_return;
  const auto who = credentials(client);
  switch (request->type) {
    case ipc::MessageType::lookup:
    case ipc::MessageType::inbound: {
      const bool lookup = request->type == ipc::MessageType::lookup;
      std::optional<Error> failure;
      Opened opened;
      HeldConnections::Claim held;
      try {
        // (Not a ?: with co_await in both arms: GCC 12 evaluates both.)
        if (lookup) {
          Looked looked = co_await open_lookup(request->payload, who, deadline);
          opened.fd = std::move(looked.fd);
          held = std::move(looked.held);
        } else {
          opened = co_await open_inbound(request->payload, who, deadline);
        }
      } catch (const Error& e) {
        failure = e;
      }
      if (lookup) count_lookup(failure ? ipc::to_string(failure->code()) : "ok");
      if (failure) {
        ipc::log_info(lookup ? "lookup" : "inbound", " by pid ", who.pid, ": ", failure->what());
        throw *failure;  // sent to the client as ERROR by the service
      }
      // The answer and the fd in one sendmsg (DESIGN §5.1). The fd is blocking, as a fresh socket
      // is (§15): connect_local and delegate give it so. "adopt": the fd is the service's
      // adoption socket, for the daemon's ADOPT (§15).
      const ipc::Message answer = opened.adoption ? ipc::Message::data("adopt") : ok;
      co_await ipc::async_send_frame_with_fd(client.socket(), answer, opened.fd.get(), settings_.timeout);
      held.keep(opened.fd.get());
      co_return;
    }
    case ipc::MessageType::status:
      co_await answer_command(client, *request);
      co_return;
    default:
      throw Error(ErrorCode::bad_request, "ipcd takes LOOKUP, INBOUND or STATUS, not " +
                                              std::string(ipc::to_string(request->type)));
  }
}

asio::awaitable<void> Broker::serve_legacy(ipc::Connection& client) {
  const auto deadline = Clock::now() + settings_.timeout;
  auto request = co_await first_frame(client, settings_.timeout);
  if (!request) co_return;
  if (request->type != ipc::MessageType::lookup)
    throw Error(ErrorCode::bad_request, "the network socket only takes LOOKUP");
  const auto who = credentials(client);
  std::optional<Error> failure;
  Looked looked;
  try {
    looked = co_await open_lookup(request->payload, who, deadline);
  } catch (const Error& e) {
    failure = e;
  }
  count_lookup(failure ? ipc::to_string(failure->code()) : "ok");
  if (failure) {
    ipc::log_info("legacy lookup by pid ", who.pid, ": ", failure->what());
    throw *failure;  // an ERROR payload is never exactly 2 bytes, which the old client reads as ok
  }
  // The original client reads the answer with recv() into a big buffer, then recvmsg()s one byte
  // with the fd. Were both sent at once, its recv() would swallow the fd-bearing byte and the fd
  // with it. So: "ok" first, wait until the client has read it (our socket's unsent+unread
  // output, SIOCOUTQ, drops to 0), then one byte carrying the fd. There is no event for that
  // drop, so we look again after 1 ms, doubling to 100 ms, within the deadline: a client that
  // reads at once costs one or two looks, and many clients that never read cost ipcd about ten
  // wakeups a second each, not a thousand.
  ipc::Message answer = ok;
  answer.user_type = request->user_type;
  co_await ipc::async_send_frame_with_fd(client.socket(), answer, -1, left(deadline));
  asio::steady_timer tick(client.socket().get_executor());
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int unread = 0;
    if (::ioctl(client.socket().native_handle(), SIOCOUTQ, &unread) != 0 || unread == 0) break;
    if (Clock::now() >= deadline) throw Error(ErrorCode::timeout, "the client did not read the answer");
    tick.expires_at(std::min(Clock::now() + pause, deadline));
    co_await tick.async_wait(ipc::use_nothrow);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
  // (fd is blocking, as the original client's recv() expects: see serve.)
  co_await ipc::async_send_with_fd(client.socket(), std::string_view("\0", 1), looked.fd.get(), left(deadline));
  looked.held.keep(looked.fd.get());
}

asio::awaitable<void> Broker::answer_command(ipc::Connection& client, const ipc::Message& request) {
  const auto who = credentials(client);
  std::string command = "status";
  nlohmann::json body = nlohmann::json::object();
  if (!request.payload.empty()) {
    try {
      body = nlohmann::json::parse(request.payload);
    } catch (const nlohmann::json::exception&) {
      throw Error(ErrorCode::bad_request, "STATUS payload must be empty or a JSON object");
    }
    if (!body.is_object() || !body.contains("command") || !body["command"].is_string())
      throw Error(ErrorCode::bad_request, "STATUS payload must be a JSON object with a \"command\"");
    command = body["command"].get<std::string>();
  }
  nlohmann::json reply;
  if (command == "status") {
    reply = status(who);
  } else if (command == "lookup") {
    if (!body.contains("service") || !body["service"].is_string())
      throw Error(ErrorCode::bad_request, "lookup: \"service\" (a string) is required");
    const std::string routes = body.contains("routes") && body["routes"].is_string() ? body["routes"].get<std::string>() : "";
    const Plan plan = plan_lookup(body["service"].get<std::string>() + ";" + routes, who);
    reply = {{"service", plan.requested.str()},
             {"hops", plan.hops},
             {"destination", plan.destination.str()},
             {"route", plan.route},
             {"decision", to_string(plan.decision.action)},
             {"because", plan.decision.because}};
    if (plan.decision.depends_on_addresses)
      reply["addresses"] = "taken again for each address " + plan.destination.host() +
                           " resolves to: a rule on addresses comes first";
    // Our clients ask ipcd for every service (DESIGN §4); the original C libipc 0.7 client only
    // for those its IPC_NETWORK names, and goes to RUNDIR/NAME itself for the others.
    const auto client_routes = ipc::NetworkRoutes::parse(routes);
    const std::string name = plan.requested.str();
    reply["original_client"] =
        client_routes.find(plan.requested) != nullptr
            ? "asks ipcd on " + ipc::socket_path(settings_.rundir, ipc::ServiceName(ipc::legacy_broker_socket)).string() +
                  ": the same decision"
            : "connects to " + ipc::socket_path(settings_.rundir, plan.requested).string() +
                  " itself (its IPC_NETWORK does not name " + name +
                  "): no redirection, static route or out rule applies to it";
    if (!plan.destination.is_local())
      reply["via"] = ipc::socket_path(settings_.rundir, ipc::ServiceName(daemon_socket(plan.destination.scheme()))).string();
  } else if (command == "reload") {
    if (!trusted(who))
      throw Error(ErrorCode::denied, "reload is only taken from " + settings_.inbound_trust.describe() +
                                         ", not from uid " + std::to_string(who.uid));
    if (auto why = reload()) throw Error(ErrorCode::bad_request, "reload failed, previous configuration kept: " + *why);
    reply = {{"reloaded", true}, {"rules", config_.policy.rules().size()}};
  } else {
    throw Error(ErrorCode::bad_request, "unknown command '" + command + "' (status, lookup or reload)");
  }
  const auto answer = ipc::Message::data(reply.dump());
  co_await client.send(answer);
}

nlohmann::json Broker::status(const ClientCredentials& asker) const {
  const auto uptime = std::chrono::duration<double>(Clock::now() - started_).count();
  nlohmann::json counters{{"lookups", lookups_}, {"inbound", inbound_}, {"delegations", delegations_},
                          {"paths", paths_}};
  nlohmann::json out{{"version", ipc::version()},
                     {"pid", ::getpid()},
                     {"uptime_seconds", uptime},
                     {"rundir", settings_.rundir.string()},
                     {"timeout_seconds", static_cast<double>(settings_.timeout.count()) / 1000.0},
                     {"config_file", source_.config_file ? source_.config_file->string() : ""},
                     {"reloads", reloads_},
                     {"counters", counters},
                     {"held", trusted(asker) ? held_.status() : held_.status(asker.uid)}};
  out.update(config_.policy.to_json());
  return out;
}

}  // namespace ipcd
