// ADOPT: the adoption socket's name and the daemon's side of the hand-over (see adopt.hpp; the
// frame's JSON is broker.cpp's, shared with INBOUND).
#include "ipc/adopt.hpp"

#include <fcntl.h>

#include "ipc/error.hpp"
#include "ipc/fd.hpp"
#include "ipc/fd_async.hpp"
#include "ipc/log.hpp"
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

asio::awaitable<std::optional<UnixSocket>> async_adopt_or_relay(TcpSocket& socket, UnixSocket& adopter,
                                                                const Adoption& adoption,
                                                                const std::filesystem::path& rundir,
                                                                std::chrono::milliseconds timeout, Session* session,
                                                                const std::string& label) {
  // Nothing past what the daemon had to read has been read: the socket holds only what the peer
  // sends from now on. Blocking, as a fresh socket is (DESIGN §15).
  const int fd = socket.native_handle();
  make_blocking(fd);
  // From now on the service may hold the connection: ending the session (a stop) must never
  // shut the socket down under it, only stop waiting for the answer.
  if (session != nullptr) {
    session->close = [&adopter](const Error*) {
      boost::system::error_code ignored;
      adopter.close(ignored);
    };
  }
  const HandOverResult result = co_await async_hand_over(adopter, adoption, fd, timeout);
  if (session != nullptr) session->close = nullptr;  // (the hook refers to this frame)
  if (result.outcome != HandOver::refused) {
    // Out of this process's epoll set before it is closed (see release_for_handoff).
    const UniqueFd gone = release_for_handoff(socket);
    if (result.outcome == HandOver::taken)
      log_debug(label, ": handed over to ", adoption.peer.service);
    else
      log_info(label, ": ", result.why, ": closed");
    co_return std::nullopt;
  }
  // Refused: the socket is still ours alone, so the relay can take over without losing a byte.
  log_info(label, ": ", result.why, "; relaying instead");
  (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);  // Asio's socket expects it
  InboundRequest again = adoption.peer;
  again.adopt = false;
  again.replaces_adoption = true;
  std::optional<UnixSocket> local;
  try {
    local.emplace(co_await async_inbound(rundir, again, timeout));
  } catch (const Error& e) {
    log_info(label, ": ", e.what(), ": closed");
  }
  co_return local;
}

}  // namespace ipc
