// TLS contexts, server name checks and certificate names (see tls.hpp).
#include "ipc/tls.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <memory>
#include <stdexcept>

namespace ipc::tls {
namespace ssl = boost::asio::ssl;
namespace {

// Mozilla's "intermediate" TLS 1.2 list: forward secrecy and AEAD only.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3's suites, all modern; the SHA-256 ones first because a server picks the suite before it
// looks at a client's pre-shared key, and an external PSK is bound to SHA-256 (tcpd's --psk).
constexpr const char* tls13_suites = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";

[[noreturn]] void fail(const std::string& what) {
  const std::string why = take_errors();
  throw std::runtime_error(what + (why.empty() ? "" : ": " + why));
}

ssl::context base_context(ssl::context::method method) {
  ssl::context context(method);
  SSL_CTX* ctx = context.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) fail("cannot require TLS 1.2");
  if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) fail("cannot set the TLS 1.2 cipher suites");
  if (SSL_CTX_set_ciphersuites(ctx, tls13_suites) != 1) fail("cannot set the TLS 1.3 cipher suites");
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle connection gives its read and write buffers (about 34 KiB) back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return context;
}

void load_trust(SSL_CTX* ctx, const Files& files) {
  if (files.ca) {
    if (SSL_CTX_load_verify_locations(ctx, files.ca->c_str(), nullptr) != 1)
      fail("cannot load the CA file " + files.ca->string());
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    fail("cannot load the system's trusted certificates");
  }
}

void load_identity(SSL_CTX* ctx, const Files& files) {
  if (files.cert.has_value() != files.key.has_value())
    throw std::runtime_error("a certificate and its key go together (--tls-cert and --tls-key)");
  if (!files.cert) return;
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert->c_str()) != 1)
    fail("cannot load the certificate " + files.cert->string());
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key->c_str(), SSL_FILETYPE_PEM) != 1)
    fail("cannot load the private key " + files.key->string());
  if (SSL_CTX_check_private_key(ctx) != 1)
    fail("the key " + files.key->string() + " does not belong to the certificate " + files.cert->string());
}

}  // namespace

ssl::context server_context(const Files& files) {
  ssl::context context = base_context(ssl::context::tls_server);
  SSL_CTX* ctx = context.native_handle();
  load_identity(ctx, files);
  load_trust(ctx, files);
  // Ask for a client certificate, but do not require one: a password or a pre-shared key may
  // authenticate the client instead. One that is presented must verify.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Without a session id context OpenSSL refuses resumption of client-verified sessions.
  static constexpr unsigned char id[] = "ipc";
  SSL_CTX_set_session_id_context(ctx, id, sizeof id - 1);
  return context;
}

ssl::context client_context(const Files& files) {
  ssl::context context = base_context(ssl::context::tls_client);
  SSL_CTX* ctx = context.native_handle();
  load_identity(ctx, files);
  load_trust(ctx, files);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return context;
}

bool expect_host(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (!ec) {
    // An address is checked against the certificate's IP subjectAltNames; no SNI for it (RFC 6066).
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    return X509_VERIFY_PARAM_set1_ip_asc(param, address.to_string().c_str()) == 1;
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host(ssl, host.c_str()) == 1 && SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
}

std::string peer_name(const SSL* ssl) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return {};
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  if (!cert) return {};
  std::string name;
  using Names = std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)>;
  Names names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)),
              [](GENERAL_NAMES* n) { GENERAL_NAMES_free(n); });
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()) && name.empty(); ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(names.get(), i);
    if (entry->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = entry->d.dNSName;
    name.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)), ASN1_STRING_length(dns));
  }
  if (name.empty()) {
    const X509_NAME* subject = X509_get_subject_name(cert.get());
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index >= 0) {
      const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
      unsigned char* utf8 = nullptr;
      const int length = ASN1_STRING_to_UTF8(&utf8, cn);
      if (length > 0) name.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
      OPENSSL_free(utf8);
    }
  }
  // A name with a NUL or a control character in it is no name anybody can write a rule for.
  for (const char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return {};
  return name;
}

std::string failure_reason(const SSL* ssl, std::string_view otherwise) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
  }
  std::string why = take_errors();
  return why.empty() ? std::string(otherwise) : why;
}

std::string take_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    // "error:0A000086:SSL routines::certificate verify failed" -> the reason after the last ':'.
    std::string line(text);
    if (const auto colon = line.rfind(':'); colon != std::string::npos) line = line.substr(colon + 1);
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

}  // namespace ipc::tls
