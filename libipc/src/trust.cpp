// Trusted users and the handler that checks them (see trust.hpp).
#include "ipc/trust.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>

#include "ipc/error.hpp"
#include "ipc/log.hpp"

namespace ipc {
namespace {

std::optional<uid_t> lookup_user(const std::string& name) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
    return std::nullopt;
  return found->pw_uid;
}

std::string user_name(uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) return "";
  return found->pw_name;
}

}  // namespace

void TrustedUsers::add(uid_t uid) {
  if (!contains(uid)) uids_.push_back(uid);
}

TrustedUsers TrustedUsers::of(const std::vector<std::string>& users) {
  TrustedUsers out;
  out.add(0);
  for (const auto& user : users) {
    if (!user.empty() && user.size() <= 10 && user.find_first_not_of("0123456789") == std::string::npos) {
      const unsigned long uid = std::stoul(user);
      if (uid >= static_cast<uid_t>(-1)) throw std::invalid_argument("'" + user + "' is not a valid uid");
      out.add(static_cast<uid_t>(uid));
    } else if (const auto uid = lookup_user(user)) {
      out.add(*uid);
    } else {
      throw std::invalid_argument("'" + user + "' is not a user on this system");
    }
  }
  return out;
}

TrustedUsers TrustedUsers::defaults(std::initializer_list<const char*> system_users) {
  TrustedUsers out;
  out.add(0);
  out.add(::geteuid());
  for (const char* name : system_users) {
    if (const auto uid = lookup_user(name)) out.add(*uid);
  }
  return out;
}

TrustedUsers trusted_users_flag(const CommandLine& command_line, const po::variables_map& flags, const char* flag,
                                std::initializer_list<const char*> system_users) {
  if (!flags.count(flag)) return TrustedUsers::defaults(system_users);
  try {
    return TrustedUsers::of(flags[flag].as<std::vector<std::string>>());
  } catch (const std::exception& e) {
    command_line.fail(std::string("--") + flag + ": " + e.what());
  }
}

bool TrustedUsers::contains(uid_t uid) const noexcept {
  return std::find(uids_.begin(), uids_.end(), uid) != uids_.end();
}

std::string TrustedUsers::describe() const {
  std::string out;
  for (const uid_t uid : uids_) {
    if (!out.empty()) out += ", ";
    const std::string name = user_name(uid);
    out += name.empty() ? "uid " + std::to_string(uid) : name + " (uid " + std::to_string(uid) + ")";
  }
  return out;
}

namespace {

struct Gate {
  TrustedUsers trusted;
  std::string what;
  std::string who;
  Service::Handler handler;
};

// A coroutine of its own that holds the gate by value: a lambda's captures would live in the
// std::function, not in the coroutine's frame.
asio::awaitable<void> through_gate(std::shared_ptr<const Gate> gate, Connection& connection) {
  const ucred& peer = connection.peer();
  if (!gate->trusted.contains(peer.uid)) {
    log_warn(gate->what, " refused to uid ", peer.uid, " (pid ", peer.pid, "): only ", gate->who, " may send it (",
             gate->trusted.describe(), ")");
    throw Error(ErrorCode::denied, gate->what + " is only taken from " + gate->who + " (" + gate->trusted.describe() +
                                       "), not from uid " + std::to_string(peer.uid));
  }
  co_await gate->handler(connection);
}

}  // namespace

Service::Handler only_from(TrustedUsers trusted, std::string what, std::string who, Service::Handler handler) {
  auto gate = std::make_shared<const Gate>(Gate{std::move(trusted), std::move(what), std::move(who), std::move(handler)});
  return [gate](Connection& connection) { return through_gate(gate, connection); };
}

}  // namespace ipc
