// The remote handshake (DESIGN §7), the first frame a remote peer sends tcpd: what parses,
// encoded again, parses to the same; refusals are bad-request.
#include <cstddef>
#include <cstdint>
#include <string>

#include <ipc/error.hpp>

#include "check.hpp"
#include "handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
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
