// ADOPT: the adoption socket's name and the daemon's side of the hand-over (see adopt.hpp; the
// frame's JSON is broker.cpp's, shared with INBOUND).
#include "ipc/adopt.hpp"

#include "ipc/error.hpp"
#include "ipc/fd_async.hpp"
#include "ipc/rundir.hpp"

namespace ipc {

std::filesystem::path adoption_socket_path(const std::filesystem::path& rundir, const ServiceName& name) {
  return rundir / (name.str() + adoption_suffix);
}

asio::awaitable<HandOverResult> async_hand_over(UnixSocket& adopter, const Adoption& adoption, int fd,
                                                std::chrono::milliseconds timeout) {
  const Message request = encode_adopt(adoption);
  try {
    co_await async_send_frame_with_fd(adopter, request, fd, timeout);
  } catch (const Error& e) {
    // The fd rides on the frame's first byte: had part of the frame gone out, the service could
    // hold the connection, so a failed send is never taken for a refusal.
    co_return HandOverResult{HandOver::lost, std::string("ADOPT was not sent whole: ") + e.what()};
  }
  FrameWithFd answer;
  try {
    answer = co_await async_recv_frame_with_fd(adopter, 4096, timeout);
  } catch (const Error& e) {
    co_return HandOverResult{HandOver::lost, std::string("no answer to ADOPT: ") + e.what()};
  }
  if (answer.message.type == MessageType::data && answer.message.payload == "ok") co_return HandOverResult{HandOver::taken, ""};
  if (answer.message.type == MessageType::error)
    co_return HandOverResult{HandOver::refused, "the service refused it: " + answer.message.payload};
  co_return HandOverResult{HandOver::lost, "an answer to ADOPT that is neither ok nor ERROR"};
}

}  // namespace ipc
