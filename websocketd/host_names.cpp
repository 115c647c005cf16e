// Host header checks (see host_names.hpp).
#include "host_names.hpp"
#include <ipc/text.hpp>

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <ipc/address.hpp>
#include <ipc/glob.hpp>

namespace websocketd {
namespace {


// RFC 3986 allows an empty port ("host:"); more than five digits is no port.
bool is_port(std::string_view text) {
  return text.size() <= 5 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Letters, digits, '-', '.', '_' (what a host name in a Host header may hold; IPv6 is bracketed).
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::string host_of(std::string_view header) {
  std::string host;
  if (!header.empty() && header.front() == '[') {
    const auto close = header.find(']');
    if (close == std::string_view::npos) return "";
    const auto rest = header.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !is_port(rest.substr(1)))) return "";
    host = std::string(header.substr(1, close - 1));
    for (char& c : host) c = ipc::ascii_lower(c);
    const auto canonical = ipc::canonical_address(host);
    // Only an IPv6 address goes in brackets.
    return canonical && host.find(':') != std::string::npos ? *canonical : "";
  }
  const auto colon = header.find(':');
  if (colon != std::string_view::npos && !is_port(header.substr(colon + 1))) return "";
  for (char c : header.substr(0, colon)) host += ipc::ascii_lower(c);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), is_name_char)) return "";
  // No empty label: "a..", ".a" and "a..b" name nothing (found by fuzzing: "a.." came out as "a.").
  if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string::npos) return "";
  return host;
}

HostPolicy::HostPolicy(std::vector<std::string> patterns, std::string machine_name)
    : patterns_(std::move(patterns)), machine_name_(std::move(machine_name)) {}

std::string HostPolicy::current_machine_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  std::string out(name);
  for (char& c : out) c = ipc::ascii_lower(c);
  return out;
}

bool HostPolicy::allows(std::string_view header, const boost::asio::ip::address& local) const {
  if (std::find(patterns_.begin(), patterns_.end(), "*") != patterns_.end()) return true;
  const std::string host = host_of(header);
  if (host.empty()) return false;
  if (const auto address = ipc::canonical_address(host)) return *address == ipc::canonical_address(local);
  const bool loopback = ipc::unmapped(local).is_loopback();
  if (loopback && (host == "localhost" || (host.size() > 10 && host.ends_with(".localhost")))) return true;
  if (!machine_name_.empty() && host == machine_name_) return true;
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const std::string& pattern) {
    return ipc::glob_match(pattern, host, ipc::Case::insensitive);
  });
}

}  // namespace websocketd
