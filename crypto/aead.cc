#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "base/raii.h"
#include "crypto/ssl_status.h"

namespace shoal::crypto {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;

// OpenSSL's EVP calls take int lengths; larger inputs go through in pieces.
constexpr std::size_t kMaxPiece = std::size_t{1} << 30;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Feeds `in` through EVP_{En,De}cryptUpdate; `out` must have room for in.size()
// bytes (GCM is a stream mode: output length equals input length).
template <auto Update>
bool UpdateAll(EVP_CIPHER_CTX* ctx, std::string_view in, unsigned char* out) {
  while (!in.empty()) {
    std::size_t piece = in.size() < kMaxPiece ? in.size() : kMaxPiece;
    int outl = 0;
    if (Update(ctx, out, &outl, Bytes(in), static_cast<int>(piece)) != 1) return false;
    out += outl;
    in.remove_prefix(piece);
  }
  return true;
}

template <auto Update>
bool AadAll(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  while (!aad.empty()) {
    std::size_t piece = aad.size() < kMaxPiece ? aad.size() : kMaxPiece;
    int outl = 0;
    if (Update(ctx, nullptr, &outl, Bytes(aad), static_cast<int>(piece)) != 1) return false;
    aad.remove_prefix(piece);
  }
  return true;
}

}  // namespace

Key::~Key() {
  OPENSSL_cleanse(bytes.data(), bytes.size());
}

Status RandomBytes(std::span<unsigned char> out) {
  while (!out.empty()) {
    std::size_t piece = out.size() < kMaxPiece ? out.size() : kMaxPiece;
    if (RAND_bytes(out.data(), static_cast<int>(piece)) != 1) return SslStatus("RAND_bytes");
    out = out.subspan(piece);
  }
  return Status::Ok();
}

Result<Key> RandomKey() {
  Key key;
  Status s = RandomBytes(key.bytes);
  if (!s.ok()) return s;
  return key;
}

#if defined(SHOAL_UNSEALED_BASELINE)
// --- The unsealed benchmark baseline: NO ENCRYPTION ---------------------------
// Compiled only with the CMake option SHOAL_UNSEALED_BASELINE (preset
// `unsealed`), for scripts/bench: encryption's cost is measured against the
// same pipeline without AES (chunking, zstd, files, fsync, metadata, key
// envelopes and KMS calls all stay as they are), so only Seal and OpenInto
// differ. Seal appends the plaintext and kTagBytes zero bytes as the "tag";
// OpenInto checks that tag and copies the plaintext. Data and wrapped keys are
// stored in the clear: fs/cli.cc refuses to run this build unless the
// environment says SHOAL_UNSEALED_BASELINE=1.

bool IsUnsealedBaseline() {
  return true;
}

Status Seal(const Key& /*key*/, const Nonce& /*nonce*/, std::string_view /*aad*/,
            std::string_view plaintext, std::string& out) {
  out.append(plaintext);
  out.append(kTagBytes, '\0');
  return Status::Ok();
}

Status OpenInto(const Key& /*key*/, const Nonce& /*nonce*/, std::string_view /*aad*/,
                std::string_view sealed, char* out) {
  if (sealed.size() < kTagBytes) return Corrupt("sealed data shorter than its tag");
  std::string_view plaintext = sealed.substr(0, sealed.size() - kTagBytes);
  if (sealed.substr(plaintext.size()).find_first_not_of('\0') != std::string_view::npos) {
    return Corrupt("unsealed baseline: the tag is not zero (data sealed by a real shoal?)");
  }
  std::memmove(out, plaintext.data(), plaintext.size());
  return Status::Ok();
}

#else  // AES-256-GCM through OpenSSL's EVP interface: every real build.

bool IsUnsealedBaseline() {
  return false;
}

Status Seal(const Key& key, const Nonce& nonce, std::string_view aad, std::string_view plaintext,
            std::string& out) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return SslStatus("EVP_CIPHER_CTX_new");
  // The default GCM IV length is 12 bytes, which is kNonceBytes.
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(), nonce.data()) !=
      1) {
    return SslStatus("AES-256-GCM encrypt init");
  }
  if (!AadAll<EVP_EncryptUpdate>(ctx.get(), aad)) return SslStatus("AES-256-GCM aad");
  const std::size_t start = out.size();
  out.resize(start + plaintext.size() + kTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + start);
  if (!UpdateAll<EVP_EncryptUpdate>(ctx.get(), plaintext, dst)) {
    out.resize(start);
    return SslStatus("AES-256-GCM encrypt");
  }
  int outl = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), dst + plaintext.size(), &outl) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          dst + plaintext.size()) != 1) {
    out.resize(start);
    return SslStatus("AES-256-GCM encrypt final");
  }
  return Status::Ok();
}

Status OpenInto(const Key& key, const Nonce& nonce, std::string_view aad, std::string_view sealed,
                char* out) {
  if (sealed.size() < kTagBytes) return Corrupt("sealed data shorter than its tag");
  std::string_view ciphertext = sealed.substr(0, sealed.size() - kTagBytes);
  // OpenSSL wants a non-const tag pointer; copy it out.
  unsigned char tag[kTagBytes];
  std::copy_n(Bytes(sealed.substr(ciphertext.size())), kTagBytes, tag);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return SslStatus("EVP_CIPHER_CTX_new");
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(), nonce.data()) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag) != 1) {
    return SslStatus("AES-256-GCM decrypt init");
  }
  if (!AadAll<EVP_DecryptUpdate>(ctx.get(), aad)) return SslStatus("AES-256-GCM aad");
  auto* dst = reinterpret_cast<unsigned char*>(out);
  if (!UpdateAll<EVP_DecryptUpdate>(ctx.get(), ciphertext, dst)) {
    OPENSSL_cleanse(out, ciphertext.size());
    return SslStatus("AES-256-GCM decrypt");
  }
  int outl = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), dst + ciphertext.size(), &outl) != 1) {
    // Unverified plaintext must not escape.
    OPENSSL_cleanse(out, ciphertext.size());
    return SslStatus(Code::kCorrupt, "AES-256-GCM tag mismatch");
  }
  return Status::Ok();
}

#endif  // SHOAL_UNSEALED_BASELINE

Status Open(const Key& key, const Nonce& nonce, std::string_view aad, std::string_view sealed,
            std::string& out) {
  out.clear();
  if (sealed.size() < kTagBytes) return Corrupt("sealed data shorter than its tag");
  out.resize(sealed.size() - kTagBytes);
  Status s = OpenInto(key, nonce, aad, sealed, out.data());
  if (!s.ok()) out.clear();
  return s;
}

namespace {

// MD5 fetched once: EVP_md5() makes each init look the algorithm up in the
// provider store under a lock. Never freed (used until the process exits).
const EVP_MD* Md5Algorithm() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

}  // namespace

bool Md5Digest(std::string_view data, std::array<unsigned char, 16>& out) {
  thread_local MdCtx ctx(EVP_MD_CTX_new());
  const EVP_MD* md = Md5Algorithm();
  unsigned int len = 0;
  const bool ok = ctx && md != nullptr && data.size() <= kMaxPiece &&
                  EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
                  EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 && len == out.size();
  if (!ok) ERR_clear_error();
  return ok;
}

// A digest failure cannot be reported through Update; it is remembered and
// Finish returns an empty string (never 16 bytes), which callers can detect.
struct Md5::Impl {
  MdCtx ctx;
  bool failed = false;
};

Md5::Md5() : impl_(new Impl) {
  impl_->ctx.reset(EVP_MD_CTX_new());
  if (!impl_->ctx || Md5Algorithm() == nullptr ||
      EVP_DigestInit_ex2(impl_->ctx.get(), Md5Algorithm(), nullptr) != 1) {
    impl_->failed = true;
    ERR_clear_error();
  }
}

Md5::~Md5() {
  delete impl_;
}

void Md5::Update(std::string_view data) {
  if (impl_->failed) return;
  while (!data.empty()) {
    std::size_t piece = data.size() < kMaxPiece ? data.size() : kMaxPiece;
    if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), piece) != 1) {
      impl_->failed = true;
      ERR_clear_error();
      return;
    }
    data.remove_prefix(piece);
  }
}

std::string Md5::Finish() {
  if (impl_->failed) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), digest, &len) != 1 || len != 16) {
    impl_->failed = true;
    ERR_clear_error();
    return {};
  }
  impl_->failed = true;  // finished: further use is a no-op
  return std::string(reinterpret_cast<const char*>(digest), len);
}

}  // namespace shoal::crypto
