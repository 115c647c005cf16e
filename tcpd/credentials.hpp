// What tcpd authenticates tls:// peers with besides certificates (DESIGN §14):
//   PskKeys   --psk ID:HEXKEY and --psk-file FILE (one a line): TLS 1.3 external pre-shared keys.
//             The calling side uses ID's key for
//             tls://ID@HOST/SERVICE; the answering side accepts only identities it holds a key for
//             (an unknown identity aborts the handshake) and the identity is ID.
//   Users     --users FILE: lines "user:salt:hash", salted PBKDF2-SHA256 (OpenSSL), compared in
//             constant time, for tls://USER:PASSWORD@HOST/SERVICE.
// Both are parsed once at start; a malformed flag or file stops tcpd with the reason.
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tcpd {

using Key = std::vector<unsigned char>;

class PskKeys {
 public:
  // Smallest and largest key, in bytes.
  static constexpr std::size_t min_key = 16;
  static constexpr std::size_t max_key = 64;

  // "ID:HEXKEY". Throws std::invalid_argument saying why (no colon, bad identity, odd or non-hex
  // key, key too short or too long, identity given twice).
  void add(std::string_view flag);
  // The text of a --psk-file named `name`: one ID:HEXKEY a line; blank lines and lines whose
  // first non-blank character is '#' are ignored. Throws std::invalid_argument "NAME:LINE: why"
  // (never quoting a key).
  void add_lines(std::string_view text, const std::string& name);
  // FILE's keys (add_lines), read with ipc::read_secret_file: a file its group or others have any
  // permission on is refused. Throws std::runtime_error "FILE: why" or "FILE:LINE: why".
  void load(const std::filesystem::path& file);
  [[nodiscard]] const Key* find(std::string_view identity) const;
  [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }

 private:
  std::map<std::string, Key, std::less<>> keys_;
};

// Answering side: the context takes PSK identities from `keys` (which must outlive it); an
// identity it holds no key for aborts the handshake (remembered for the log: rejected_psk()).
void accept_psk(SSL_CTX* context, const PskKeys* keys);
// Calling side: the context offers a connection's PSK when use_psk() gave it one.
void offer_psk(SSL_CTX* context);
// This (calling) connection authenticates with `identity` and `key`.
void use_psk(SSL* ssl, const std::string& identity, const Key& key);
// After the handshake: the PSK identity the connection was authenticated with ("" when none).
[[nodiscard]] std::string psk_identity(const SSL* ssl);
// The identity a peer offered that this side holds no key for ("" when none).
[[nodiscard]] std::string rejected_psk(const SSL* ssl);

class Users {
 public:
  static constexpr int iterations = 100'000;
  static constexpr std::size_t salt_bytes = 16;
  static constexpr std::size_t hash_bytes = 32;

  // Reads FILE: one "user:salt:hash" per line (hex salt and hash), blank lines and lines starting
  // with '#' ignored. Throws std::runtime_error "FILE:LINE: why".
  static Users load(const std::filesystem::path& file);
  // Parses one line; throws std::invalid_argument saying why.
  void add_line(std::string_view line);

  // Whether `password` is USER's. Runs PBKDF2 even for an unknown user, so the time taken does
  // not tell which user names exist; compares in constant time. Slow on purpose (PBKDF2): call it
  // off the I/O thread.
  [[nodiscard]] bool check(const std::string& user, const std::string& password) const;
  [[nodiscard]] bool empty() const noexcept { return users_.empty(); }

 private:
  struct Entry {
    Key salt;
    Key hash;
  };
  std::map<std::string, Entry, std::less<>> users_;
};

// A users-file line for USER and PASSWORD with a fresh random salt (tcpd --hash-password).
[[nodiscard]] std::string hash_password_line(const std::string& user, const std::string& password);

// Whether a name can be a PSK identity or a user name: 1 to 128 printable ASCII characters
// without ':' or white space (it ends up in logs and in ipcd's id: rules).
[[nodiscard]] bool valid_identity(std::string_view name) noexcept;

}  // namespace tcpd
