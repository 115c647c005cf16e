// frame_peer: one raw request on a Unix socket, for tests that must ask as another uid (run
// under setpriv). Sends one frame, prints the answer as "TYPE PAYLOAD" (and " +fd" when an fd
// came with it), exits 0 when an answer came, 1 otherwise.
//   frame_peer SOCKET_PATH connect|inbound|lookup|status PAYLOAD
#include <cstdio>
#include <cstring>
#include <ipc/fd.hpp>
#include <ipc/message.hpp>
#include <string>

#include "support/harness.hpp"

int main(int argc, char* argv[]) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: frame_peer SOCKET_PATH connect|inbound|lookup|status PAYLOAD\n");
    return 2;
  }
  const std::string kind = argv[2];
  ipc::MessageType type = ipc::MessageType::data;
  if (kind == "connect") type = ipc::MessageType::connect;
  else if (kind == "inbound") type = ipc::MessageType::inbound;
  else if (kind == "lookup") type = ipc::MessageType::lookup;
  else if (kind == "status") type = ipc::MessageType::status;
  try {
    auto fd = ipc::test::connect_raw(argv[1]);
    try {
      ipc::send_frame_with_fd(fd.get(), ipc::Message{type, 0, argv[3]}, -1);
    } catch (const std::exception&) {
      // A daemon that refuses the peer answers and closes before reading a byte: the send may
      // then fail (EPIPE) while its ERROR waits to be read.
    }
    const auto answer = ipc::recv_frame_with_fd(fd.get(), ipc::default_max_payload, 20000);
    std::printf("%s %s%s\n", std::string(ipc::to_string(answer.message.type)).c_str(), answer.message.payload.c_str(),
                answer.fd.valid() ? " +fd" : "");
    return 0;
  } catch (const std::exception& e) {
    std::printf("failed %s\n", e.what());
    return 1;
  }
}
