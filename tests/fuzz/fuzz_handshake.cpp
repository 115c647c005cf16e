// The remote handshake (DESIGN §7), the first frame a remote peer sends tcpd: what parses,
// encoded again, parses to the same; refusals are bad-request. The same bytes as the first of an
// answer (tcpd::foreign_protocol): what is not told apart as another protocol starts like a
// frame of a known type, and a frame header of a known type is never taken for another protocol
// unless it begins like TLS, SSH or HTTP.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <ipc/error.hpp>

#include "check.hpp"
#include "handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> first(data, std::min<std::size_t>(size, ipc::header_size));
  const auto other = tcpd::foreign_protocol(first);
  if (!other && !first.empty()) FUZZ_CHECK(ipc::is_known_type(first[0]));
  if (other && *other == "not the ipc protocol") FUZZ_CHECK(!ipc::is_known_type(first[0]));
  const std::string payload(reinterpret_cast<const char*>(data), size);
  try {
    const tcpd::Handshake got = tcpd::parse_handshake(ipc::Message{ipc::MessageType::connect, 0, payload});
    const tcpd::Handshake again = tcpd::parse_handshake(tcpd::encode_handshake(got));
    FUZZ_CHECK(again.service.str() == got.service.str());
    FUZZ_CHECK(again.user == got.user && again.password == got.password);
  } catch (const ipc::Error& e) {
    FUZZ_CHECK(e.code() == ipc::ErrorCode::bad_request);
  }
  return 0;
}
