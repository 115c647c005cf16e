// TLS for the protocol daemons (DESIGN §14), on OpenSSL through asio::ssl::context: the one place
// that says which protocol versions and cipher suites the suite speaks, where trust comes from,
// how a server's name is checked, and which name a verified certificate proves. tcpd (tls://)
// and websocketd (wss://) both build their contexts here, so they verify peers the same way.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ipc::tls {

struct Files {
  std::optional<std::filesystem::path> cert;  // PEM certificate (chain) to present
  std::optional<std::filesystem::path> key;   // its PEM private key
  std::optional<std::filesystem::path> ca;    // PEM trust for verifying the other side; else the system store
};

// TLS 1.2 and newer only; for TLS 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305; no
// compression, no renegotiation; buffers released while a connection is idle.
//
// The server side presents `cert`/`key` (both or neither) and asks the client for a certificate
// without requiring one; a certificate it does present must verify against `ca` (else the
// system store). The client side verifies the server against `ca` (else the system store) and
// presents `cert`/`key` when given. Unreadable or mismatched files throw std::runtime_error
// naming the file and OpenSSL's reason.
[[nodiscard]] boost::asio::ssl::context server_context(const Files& files);
[[nodiscard]] boost::asio::ssl::context client_context(const Files& files);

// Makes `ssl` (a client) accept only a certificate for `host`: a DNS name (checked against the
// subjectAltNames, wildcards in the leftmost label only) or an IP address (checked against the
// IP subjectAltNames). A DNS name is also sent as SNI. Returns false when OpenSSL refuses it.
bool expect_host(SSL* ssl, const std::string& host);

// The name a verified peer certificate proves: its first DNS subjectAltName, else its subject's
// common name. "" when the peer presented no certificate or it did not verify.
[[nodiscard]] std::string peer_name(const SSL* ssl);

// Why the last TLS operation failed, for logs and `auth-failed` texts: the certificate check
// ("certificate verification failed: certificate has expired") when that failed, else OpenSSL's
// error queue ("tlsv1 alert unknown ca"), else `otherwise` (for callers whose error queue
// asio::ssl already turned into an error_code: its message). Clears the error queue.
[[nodiscard]] std::string failure_reason(const SSL* ssl,
                                         std::string_view otherwise = "the connection closed during the TLS handshake");

// OpenSSL's error queue as text ("" when empty), cleared.
[[nodiscard]] std::string take_errors();

}  // namespace ipc::tls
