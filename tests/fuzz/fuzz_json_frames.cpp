// The JSON frames between the daemons (DESIGN §6, §8, §15): CONNECT, INBOUND, ADOPT and the
// address lists. The first byte picks the parser; what parses, encoded again, parses to the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include <ipc/adopt.hpp>
#include <ipc/broker.hpp>
#include <ipc/delegation.hpp>
#include <ipc/error.hpp>

#include "check.hpp"

namespace {

bool same(const ipc::InboundRequest& a, const ipc::InboundRequest& b) {
  return a.service == b.service && a.scheme == b.scheme && a.peer == b.peer && a.identity == b.identity &&
         a.certificate == b.certificate && a.adopt == b.adopt && a.replaces_adoption == b.replaces_adoption;
}

void connect(const ipc::Message& frame) {
  const ipc::ConnectRequest got = ipc::parse_connect_request(frame);
  const ipc::ConnectRequest again = ipc::parse_connect_request(ipc::encode_connect_request(got));
  FUZZ_CHECK(again.uri == got.uri);
  FUZZ_CHECK(again.check_addresses == got.check_addresses);
}

void inbound(const ipc::Message& frame) {
  const ipc::InboundRequest got = ipc::parse_inbound_request(frame);
  const ipc::Message encoded{ipc::MessageType::inbound, 0, ipc::encode_inbound_request(got)};
  FUZZ_CHECK(same(ipc::parse_inbound_request(encoded), got));
}

void adopt(const ipc::Message& frame) {
  const ipc::Adoption got = ipc::parse_adopt(frame);
  const ipc::Adoption again = ipc::parse_adopt(ipc::encode_adopt(got));
  FUZZ_CHECK(same(again.peer, got.peer));
  FUZZ_CHECK(again.max_per_peer == got.max_per_peer);
  FUZZ_CHECK(again.request == got.request && again.subprotocol == got.subprotocol);
}

void addresses(const ipc::Message& frame) {
  const auto got = ipc::parse_address_list("addresses", frame);
  FUZZ_CHECK(got.size() <= ipc::max_checked_addresses);
  FUZZ_CHECK(ipc::parse_address_list("addresses", ipc::encode_address_list("addresses", got)) == got);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: connect(ipc::Message{ipc::MessageType::connect, 0, payload}); break;
      case 1: inbound(ipc::Message{ipc::MessageType::inbound, 0, payload}); break;
      case 2: adopt(ipc::Message{ipc::MessageType::adopt, 0, payload}); break;
      default: addresses(ipc::Message::data(payload)); break;
    }
  } catch (const ipc::Error& e) {
    // Refused as DESIGN §10 says: bad-request, never anything else.
    FUZZ_CHECK(e.code() == ipc::ErrorCode::bad_request);
  }
  return 0;
}
