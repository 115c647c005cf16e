// Pre-shared keys and the users file (see credentials.hpp).
#include "credentials.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <ipc/log.hpp>
#include <ipc/file.hpp>
#include <ipc/tls.hpp>
#include <sstream>
#include <optional>
#include <stdexcept>

namespace tcpd {
namespace {

std::optional<Key> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  Key out;
  out.reserve(text.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = nibble(text[i]), low = nibble(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<unsigned char>(high << 4 | low));
  }
  return out;
}

std::string to_hex(const Key& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

Key pbkdf2(const std::string& password, const Key& salt) {
  Key out(Users::hash_bytes);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                        Users::iterations, EVP_sha256(), static_cast<int>(out.size()), out.data()) != 1)
    throw std::runtime_error("PBKDF2 failed: " + ipc::tls::take_errors());
  return out;
}

// Per connection, owned by the SSL object (freed with it): the PSK a calling connection offers,
// or what an answering one accepted or refused.
struct PskState {
  std::string identity;
  Key key;
  std::string rejected;
};

int psk_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* state, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<PskState*>(state);
      });
  return index;
}

PskState* state_of(const SSL* ssl) { return static_cast<PskState*>(SSL_get_ex_data(ssl, psk_index())); }

PskState& make_state(SSL* ssl) {
  if (PskState* existing = state_of(ssl)) return *existing;
  auto* state = new PskState;
  if (SSL_set_ex_data(ssl, psk_index(), state) != 1) {
    delete state;
    throw std::runtime_error("cannot attach PSK state to a TLS connection");
  }
  return *state;
}

// A TLS 1.3 session standing for an external PSK: the key with TLS_AES_128_GCM_SHA256, as
// OpenSSL's s_client and s_server make them.
SSL_SESSION* psk_session(SSL* ssl, const Key& key) {
  static constexpr unsigned char aes128gcm_sha256[] = {0x13, 0x01};
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, aes128gcm_sha256);
  SSL_SESSION* session = SSL_SESSION_new();
  if (cipher == nullptr || session == nullptr || SSL_SESSION_set1_master_key(session, key.data(), key.size()) != 1 ||
      SSL_SESSION_set_cipher(session, cipher) != 1 || SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(session);
    return nullptr;
  }
  return session;
}

// The --psk keys of an answering context, in ex_data of our own: asio::ssl::context keeps its
// verify callback in the context's app_data and deletes whatever it finds there.
int keys_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int find_psk(SSL* ssl, const unsigned char* identity, std::size_t length, SSL_SESSION** session) {
  const auto* keys = static_cast<const PskKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keys_index()));
  const std::string id(reinterpret_cast<const char*>(identity), length);
  const Key* key = keys ? keys->find(id) : nullptr;
  try {
    PskState& state = make_state(ssl);
    if (key == nullptr) {
      // Returning 0 aborts the handshake: an unknown identity must not fall back to anything.
      state.rejected = valid_identity(id) ? id : "(unprintable)";
      return 0;
    }
    *session = psk_session(ssl, *key);
    if (*session == nullptr) return 0;
    state.identity = id;
    return 1;
  } catch (const std::exception& e) {
    // (Out of memory in OpenSSL's callback: the handshake fails, and the log says why.)
    ipc::log_error("TLS pre-shared key lookup: ", e.what());
    return 0;
  }
}

int offer(SSL* ssl, const EVP_MD* digest, const unsigned char** identity, std::size_t* length,
          SSL_SESSION** session) {
  *identity = nullptr;
  *length = 0;
  *session = nullptr;
  const PskState* state = state_of(ssl);
  if (state == nullptr || state->identity.empty()) return 1;  // no PSK for this connection
  SSL_SESSION* made = psk_session(ssl, state->key);
  if (made == nullptr) return 0;
  // After a HelloRetryRequest OpenSSL asks again with the digest chosen: ours is SHA-256.
  if (digest != nullptr && digest != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(made))) {
    SSL_SESSION_free(made);
    return 1;
  }
  *session = made;
  *identity = reinterpret_cast<const unsigned char*>(state->identity.data());
  *length = state->identity.size();
  return 1;
}

}  // namespace

bool valid_identity(std::string_view name) noexcept {
  if (name.empty() || name.size() > 128) return false;
  for (const char c : name)
    if (c <= ' ' || c > '~' || c == ':') return false;
  return true;
}

void PskKeys::add(std::string_view flag) {
  const auto colon = flag.find(':');
  if (colon == std::string_view::npos) throw std::invalid_argument("expected ID:HEXKEY");
  const std::string_view id = flag.substr(0, colon);
  if (!valid_identity(id))
    throw std::invalid_argument("the identity must be 1 to 128 printable characters without ':' or spaces");
  const auto key = from_hex(flag.substr(colon + 1));
  if (!key) throw std::invalid_argument("the key of '" + std::string(id) + "' is not hexadecimal");
  if (key->size() < min_key || key->size() > max_key)
    throw std::invalid_argument("the key of '" + std::string(id) + "' has " + std::to_string(key->size()) +
                                " bytes; it must have " + std::to_string(min_key) + " to " + std::to_string(max_key));
  if (!keys_.emplace(std::string(id), *key).second)
    throw std::invalid_argument("the identity '" + std::string(id) + "' is given twice");
}

void PskKeys::add_lines(std::string_view text, const std::string& name) {
  int number = 0;
  while (!text.empty()) {
    ++number;
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    try {
      add(line);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(name + ":" + std::to_string(number) + ": " + e.what());
    }
  }
}

void PskKeys::load(const std::filesystem::path& file) {
  std::string text;
  try {
    text = ipc::read_secret_file(file, 1024 * 1024);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
  try {
    add_lines(text, file.string());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
}

const Key* PskKeys::find(std::string_view identity) const {
  const auto it = keys_.find(identity);
  return it == keys_.end() ? nullptr : &it->second;
}

void accept_psk(SSL_CTX* context, const PskKeys* keys) {
  if (SSL_CTX_set_ex_data(context, keys_index(), const_cast<PskKeys*>(keys)) != 1)
    throw std::runtime_error("cannot attach the pre-shared keys to the TLS context");
  SSL_CTX_set_psk_find_session_callback(context, find_psk);
}

void offer_psk(SSL_CTX* context) { SSL_CTX_set_psk_use_session_callback(context, offer); }

void use_psk(SSL* ssl, const std::string& identity, const Key& key) {
  PskState& state = make_state(ssl);
  state.identity = identity;
  state.key = key;
}

std::string psk_identity(const SSL* ssl) {
  const PskState* state = state_of(ssl);
  // A calling side's offered PSK counts only when the server took it (the session is "reused").
  if (state == nullptr || state->identity.empty()) return {};
  if (SSL_session_reused(const_cast<SSL*>(ssl)) != 1) return {};
  return state->identity;
}

std::string rejected_psk(const SSL* ssl) {
  const PskState* state = state_of(ssl);
  return state ? state->rejected : std::string();
}

void Users::add_line(std::string_view line) {
  const auto first = line.find(':');
  const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
  if (second == std::string_view::npos || line.find(':', second + 1) != std::string_view::npos)
    throw std::invalid_argument("expected user:salt:hash");
  const std::string_view user = line.substr(0, first);
  if (!valid_identity(user)) throw std::invalid_argument("the user name must be 1 to 128 printable characters");
  const auto salt = from_hex(line.substr(first + 1, second - first - 1));
  if (!salt || salt->size() < 8) throw std::invalid_argument("the salt must be at least 8 bytes in hexadecimal");
  const auto hash = from_hex(line.substr(second + 1));
  if (!hash || hash->size() != hash_bytes)
    throw std::invalid_argument("the hash must be " + std::to_string(hash_bytes) + " bytes in hexadecimal");
  if (!users_.emplace(std::string(user), Entry{*salt, *hash}).second)
    throw std::invalid_argument("the user '" + std::string(user) + "' is given twice");
}

Users Users::load(const std::filesystem::path& file) {
  std::istringstream in;
  try {
    in.str(ipc::read_regular_file(file, 64 * 1024 * 1024));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(file.string() + ": cannot be read: " + e.what());
  }
  Users users;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (number > 100'000) throw std::runtime_error(file.string() + ": more than 100000 lines");
    try {
      users.add_line(line);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(file.string() + ":" + std::to_string(number) + ": " + e.what());
    }
  }
  return users;
}

bool Users::check(const std::string& user, const std::string& password) const {
  // An unknown user costs the same PBKDF2 as a known one, against a hash nobody can match.
  static const Entry nobody{Key(salt_bytes, 0), Key(hash_bytes, 0)};
  const auto it = users_.find(user);
  const Entry& entry = it == users_.end() ? nobody : it->second;
  const Key computed = pbkdf2(password, entry.salt);
  const bool same = CRYPTO_memcmp(computed.data(), entry.hash.data(), hash_bytes) == 0;
  return same && it != users_.end();
}

std::string hash_password_line(const std::string& user, const std::string& password) {
  if (!valid_identity(user)) throw std::invalid_argument("the user name must be 1 to 128 printable characters without ':' or spaces");
  Key salt(Users::salt_bytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
    throw std::runtime_error("no random bytes: " + ipc::tls::take_errors());
  return user + ":" + to_hex(salt) + ":" + to_hex(pbkdf2(password, salt));
}

}  // namespace tcpd
