// Who may ask for what (DESIGN §6, §8, §12): the users a daemon takes privileged requests from,
// checked on the peer's SO_PEERCRED uid, never on anything the peer says about itself.
//
//   protocol daemons  CONNECT only from root and ipcd's user (--broker-user), so that nobody
//                     else can use RUNDIR/tcp to reach what ipcd's out rules deny;
//   ipcd              INBOUND and reload only from root and the protocol daemons' users
//                     (--trust-inbound), so that a service cannot forge a remote peer.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "ipc/command_line.hpp"
#include "ipc/service.hpp"

namespace ipc {

class TrustedUsers {
 public:
  // Root and each of `users` (a user name, or a numeric uid). Throws std::invalid_argument
  // naming a user this system does not know.
  [[nodiscard]] static TrustedUsers of(const std::vector<std::string>& users);
  // What a daemon trusts when no flag says: root, its own uid (a suite run by hand under one
  // uid: processes of one uid can already ptrace each other, so this gives nothing away) and
  // those of `system_users` that exist on this system (the users the shipped units run as).
  [[nodiscard]] static TrustedUsers defaults(std::initializer_list<const char*> system_users);

  [[nodiscard]] bool contains(uid_t uid) const noexcept;
  // "root, ipcd (uid 998)": for log lines and errors.
  [[nodiscard]] std::string describe() const;
  [[nodiscard]] const std::vector<uid_t>& uids() const noexcept { return uids_; }

 private:
  void add(uid_t uid);
  std::vector<uid_t> uids_;
};

// The users of the repeatable flag --FLAG USER (root always among them); without the flag,
// TrustedUsers::defaults(system_users). An unknown user exits with status 2 saying so.
[[nodiscard]] TrustedUsers trusted_users_flag(const CommandLine& command_line, const po::variables_map& flags,
                                              const char* flag, std::initializer_list<const char*> system_users);

// The system users the shipped units run the daemons as (systemd/ipc.sysusers).
inline constexpr const char* broker_user = "ipcd";
inline constexpr std::initializer_list<const char*> protocol_daemon_users = {"ipc-tcpd", "ipc-websocketd", "ipc-udpd"};

// `handler`, run only for peers in `trusted`. Anyone else gets ERROR "denied: ..." (saying that
// only `who` may send `what`), a log line with its uid and pid, and the connection closes
// before a byte of its request is read.
[[nodiscard]] Service::Handler only_from(TrustedUsers trusted, std::string what, std::string who,
                                         Service::Handler handler);

}  // namespace ipc
