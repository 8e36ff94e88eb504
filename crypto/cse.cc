#include "crypto/cse.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "base/raii.h"
#include "crypto/ssl_status.h"

namespace shoal::crypto {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;

// Streams move through memory in pieces of this size (also well under
// OpenSSL's int length limit).
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
// A key file is tiny; more than this is certainly not one.
constexpr std::size_t kMaxKeyFileBytes = 1024;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int SixBits(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Reads up to `n` bytes from the current offset; fewer only at end of input.
Result<std::size_t> ReadUpTo(int fd, char* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t got = ::read(fd, buf + done, n - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      return PosixError("read", errno);
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("write", errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status Wiped(std::string& s, Status status) {
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
  return status;
}

}  // namespace

void AppendBase64(std::string_view bytes, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + (bytes.size() + 2) / 3 * 4);
  WriteBase64(bytes, out.data() + start);
}

char* WriteBase64(std::string_view bytes, char* p) {
  std::size_t i = 0;
  // Two characters per lookup: 12 bits at a time (Kinesis shard files
  // encode every record's data).
  constexpr std::size_t kPairCount = 4096;
  static constexpr std::array<char, 2 * kPairCount> kPairs = [] {
    std::array<char, 2 * kPairCount> t{};
    for (std::size_t v = 0; v < kPairCount; ++v) {
      t[2 * v] = kAlphabet[v >> 6];
      t[2 * v + 1] = kAlphabet[v & 63];
    }
    return t;
  }();
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    std::memcpy(p, &kPairs[std::size_t{2} * (v >> 12)], 2);
    std::memcpy(p + 2, &kPairs[std::size_t{2} * (v & 0xfff)], 2);
    p += 4;
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    *p++ = kAlphabet[(v >> 18) & 63];
    *p++ = kAlphabet[(v >> 12) & 63];
    *p++ = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    *p++ = '=';
  }
  return p;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  AppendBase64(bytes, out);
  return out;
}

bool Base64Decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 != 0) return false;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      if (j >= 4 - static_cast<std::size_t>(pad)) {
        v <<= 6;
        continue;
      }
      const int d = SixBits(text[i + j]);
      if (d < 0) return false;
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    out += static_cast<char>((v >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(v & 0xff);
    // Non-canonical encodings (stray bits under the padding) are refused, so
    // one value has one spelling.
    if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) return false;
  }
  return true;
}

std::map<std::string, std::string> CseEnvelope::ToMap() const {
  std::map<std::string, std::string> m;
  m.emplace(kCseKeyV2, Base64Encode(wrapped_key));
  m.emplace(kCseIv,
            Base64Encode(std::string_view(reinterpret_cast<const char*>(iv.data()), iv.size())));
  m.emplace(kCseCekAlg, kCseAesGcmNoPadding);
  m.emplace(kCseWrapAlg, kCseWrapAesGcm);
  m.emplace(kCseTagLen, kCseTagBits);
  m.emplace(kCseMatDesc, mat_desc);
  if (unencrypted_length) m.emplace(kCseUnencryptedLength, std::to_string(*unencrypted_length));
  return m;
}

Result<CseEnvelope> CseEnvelope::FromMap(const std::map<std::string, std::string>& meta) {
  auto find = [&](std::string_view name) -> const std::string* {
    auto it = meta.find(std::string(name));
    return it == meta.end() ? nullptr : &it->second;
  };
  const std::string* key = find(kCseKeyV2);
  if (key == nullptr) {
    if (find(kCseKeyV1) != nullptr) {
      return Status(Code::kNotSupported,
                    "the object uses the S3 Encryption Client's V1 format (x-amz-key), which "
                    "shoal does not read; only V2 (x-amz-key-v2) with AES/GCM");
    }
    return InvalidArgument("missing " + std::string(kCseKeyV2));
  }
  for (std::string_view name : {kCseIv, kCseCekAlg, kCseWrapAlg}) {
    if (find(name) == nullptr) return InvalidArgument("missing " + std::string(name));
  }
  if (*find(kCseCekAlg) != kCseAesGcmNoPadding) {
    return Status(Code::kNotSupported, std::string(kCseCekAlg) + " is '" + *find(kCseCekAlg) +
                                           "'; shoal reads only " +
                                           std::string(kCseAesGcmNoPadding));
  }
  if (*find(kCseWrapAlg) != kCseWrapAesGcm) {
    return Status(Code::kNotSupported,
                  std::string(kCseWrapAlg) + " is '" + *find(kCseWrapAlg) +
                      "'; shoal unwraps only AES/GCM (a raw AES-256 key), not KMS or RSA");
  }
  if (const std::string* tag = find(kCseTagLen); tag != nullptr && *tag != kCseTagBits) {
    return Status(Code::kNotSupported,
                  std::string(kCseTagLen) + " is '" + *tag + "'; only 128 is valid");
  }

  CseEnvelope env;
  if (!Base64Decode(*key, env.wrapped_key) || env.wrapped_key.size() != kCseWrappedKeyBytes) {
    return InvalidArgument(std::string(kCseKeyV2) + " is not the base64 of " +
                           std::to_string(kCseWrappedKeyBytes) + " bytes");
  }
  std::string iv;
  if (!Base64Decode(*find(kCseIv), iv) || iv.size() != kNonceBytes) {
    return InvalidArgument(std::string(kCseIv) + " is not the base64 of " +
                           std::to_string(kNonceBytes) + " bytes");
  }
  std::copy_n(Bytes(iv), kNonceBytes, env.iv.begin());
  if (const std::string* desc = find(kCseMatDesc)) env.mat_desc = *desc;
  if (const std::string* len = find(kCseUnencryptedLength)) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(len->data(), len->data() + len->size(), n);
    if (len->empty() || ec != std::errc() || end != len->data() + len->size()) {
      return InvalidArgument(std::string(kCseUnencryptedLength) + " is not a byte count: '" + *len +
                             "'");
    }
    env.unencrypted_length = n;
  }
  return env;
}

Result<Key> ParseKeyFile(std::string_view contents) {
  Key key;
  if (contents.size() == kKeyBytes) {
    std::copy_n(Bytes(contents), kKeyBytes, key.bytes.begin());
    return key;
  }
  std::string_view text = contents;
  if (text.size() >= 2 && text.substr(text.size() - 2) == "\r\n") {
    text.remove_suffix(2);
  } else if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  std::string raw;
  if (text.size() == 44 && Base64Decode(text, raw) && raw.size() == kKeyBytes) {
    std::copy_n(Bytes(raw), kKeyBytes, key.bytes.begin());
    OPENSSL_cleanse(raw.data(), raw.size());
    return key;
  }
  OPENSSL_cleanse(raw.data(), raw.size());
  return InvalidArgument("a key file holds 32 raw bytes or their base64 (44 characters), found " +
                         std::to_string(contents.size()) +
                         " bytes of something else; make one with "
                         "'head -c 32 /dev/urandom | base64 > K && chmod 600 K'");
}

Result<Key> LoadKeyFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("key file " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return PosixError("key file " + path, errno);
  if (S_ISDIR(st.st_mode)) return InvalidArgument("key file " + path + " is a directory");
  if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status(Code::kAccessDenied, "key file " + path + " is open to group or others (mode " +
                                           mode + "); chmod 600 " + path);
  }
  std::string contents(kMaxKeyFileBytes + 1, '\0');
  auto n = ReadUpTo(fd.get(), contents.data(), contents.size());
  if (!n.ok())
    return Wiped(contents,
                 Status(n.status().code(), "key file " + path + ": " + n.status().message()));
  contents.resize(*n);
  auto key = ParseKeyFile(contents);
  Status s =
      key.ok() ? Status::Ok() : InvalidArgument("key file " + path + ": " + key.status().message());
  OPENSSL_cleanse(contents.data(), contents.size());
  if (!s.ok()) return s;
  return key;
}

Result<std::string> WrapKey(const Key& kek, const Key& cek) {
  Nonce nonce{};
  Status s = RandomBytes(nonce);
  if (!s.ok()) return s;
  std::string out(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  s = Seal(kek, nonce, kCseAesGcmNoPadding,
           std::string_view(reinterpret_cast<const char*>(cek.bytes.data()), cek.bytes.size()),
           out);
  if (!s.ok()) return s;
  return out;
}

Result<Key> UnwrapKey(const Key& kek, std::string_view wrapped, std::string_view cek_alg) {
  if (wrapped.size() != kCseWrappedKeyBytes) {
    return InvalidArgument("a wrapped key is " + std::to_string(kCseWrappedKeyBytes) +
                           " bytes, not " + std::to_string(wrapped.size()));
  }
  Nonce nonce{};
  std::copy_n(Bytes(wrapped), kNonceBytes, nonce.begin());
  Key cek;
  Status s = OpenInto(kek, nonce, cek_alg, wrapped.substr(kNonceBytes),
                      reinterpret_cast<char*>(cek.bytes.data()));
  if (s.code() == Code::kCorrupt) {
    return Status(Code::kAccessDenied,
                  "the key does not unwrap this object's data key (wrong key, or tampered "
                  "x-amz-key-v2 or x-amz-cek-alg)");
  }
  if (!s.ok()) return s;
  return cek;
}

// ---- streaming GCM ----

struct GcmEncryptor::Impl {
  CipherCtx ctx;
  std::uint64_t fed = 0;
  bool finished = false;
};

GcmEncryptor::GcmEncryptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GcmEncryptor::~GcmEncryptor() = default;

Result<std::unique_ptr<GcmEncryptor>> GcmEncryptor::Create(const Key& key, const Nonce& iv) {
  auto impl = std::make_unique<Impl>();
  impl->ctx.reset(EVP_CIPHER_CTX_new());
  if (!impl->ctx) return SslStatus("EVP_CIPHER_CTX_new");
  // The default GCM IV length is 12 bytes, which is kNonceBytes.
  if (EVP_EncryptInit_ex(impl->ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                         iv.data()) != 1) {
    return SslStatus("AES-256-GCM encrypt init");
  }
  return std::unique_ptr<GcmEncryptor>(new GcmEncryptor(std::move(impl)));
}

Status GcmEncryptor::Update(std::string_view plaintext, std::string& out) {
  if (impl_->finished) return Internal("GcmEncryptor used after Finish");
  if (plaintext.size() > kCseMaxPlaintextBytes - impl_->fed) {
    return InvalidArgument("AES-GCM encrypts at most 64 GiB - 32 bytes in one object");
  }
  impl_->fed += plaintext.size();
  const std::size_t start = out.size();
  out.resize(start + plaintext.size());
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + start);
  while (!plaintext.empty()) {
    const std::size_t piece = std::min(plaintext.size(), kChunkBytes);
    int outl = 0;
    if (EVP_EncryptUpdate(impl_->ctx.get(), dst, &outl, Bytes(plaintext),
                          static_cast<int>(piece)) != 1) {
      out.resize(start);
      return SslStatus("AES-256-GCM encrypt");
    }
    dst += outl;
    plaintext.remove_prefix(piece);
  }
  return Status::Ok();
}

Status GcmEncryptor::Finish(std::string& out) {
  if (impl_->finished) return Internal("GcmEncryptor finished twice");
  impl_->finished = true;
  unsigned char tag[kTagBytes];
  int outl = 0;
  if (EVP_EncryptFinal_ex(impl_->ctx.get(), tag, &outl) != 1 ||
      EVP_CIPHER_CTX_ctrl(impl_->ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          tag) != 1) {
    return SslStatus("AES-256-GCM encrypt final");
  }
  out.append(reinterpret_cast<const char*>(tag), kTagBytes);
  return Status::Ok();
}

struct GcmDecryptor::Impl {
  CipherCtx ctx;
  // The last (up to) 16 bytes fed: the tag, if no more input follows.
  std::string held;
  std::uint64_t plaintext_bytes = 0;
  bool finished = false;
};

GcmDecryptor::GcmDecryptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GcmDecryptor::~GcmDecryptor() = default;

Result<std::unique_ptr<GcmDecryptor>> GcmDecryptor::Create(const Key& key, const Nonce& iv) {
  auto impl = std::make_unique<Impl>();
  impl->ctx.reset(EVP_CIPHER_CTX_new());
  if (!impl->ctx) return SslStatus("EVP_CIPHER_CTX_new");
  if (EVP_DecryptInit_ex(impl->ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                         iv.data()) != 1) {
    return SslStatus("AES-256-GCM decrypt init");
  }
  impl->held.reserve(kTagBytes);
  return std::unique_ptr<GcmDecryptor>(new GcmDecryptor(std::move(impl)));
}

Status GcmDecryptor::Update(std::string_view sealed, std::string& out) {
  if (impl_->finished) return Internal("GcmDecryptor used after Finish");
  auto feed = [&](std::string_view ct) -> bool {
    const std::size_t start = out.size();
    out.resize(start + ct.size());
    auto* dst = reinterpret_cast<unsigned char*>(out.data() + start);
    while (!ct.empty()) {
      const std::size_t piece = std::min(ct.size(), kChunkBytes);
      int outl = 0;
      if (EVP_DecryptUpdate(impl_->ctx.get(), dst, &outl, Bytes(ct), static_cast<int>(piece)) !=
          1) {
        out.resize(start);
        return false;
      }
      dst += outl;
      ct.remove_prefix(piece);
    }
    return true;
  };
  // Everything but the newest 16 bytes is ciphertext: first whatever of the
  // held bytes that the new input pushes out, then the new input's head.
  const std::size_t total = impl_->held.size() + sealed.size();
  if (total <= kTagBytes) {
    impl_->held.append(sealed);
    return Status::Ok();
  }
  const std::size_t release = total - kTagBytes;
  const std::size_t from_held = std::min(release, impl_->held.size());
  const std::size_t from_new = release - from_held;
  if (!feed(std::string_view(impl_->held).substr(0, from_held)) ||
      !feed(sealed.substr(0, from_new))) {
    return SslStatus("AES-256-GCM decrypt");
  }
  impl_->held.erase(0, from_held);
  impl_->held.append(sealed.substr(from_new));
  impl_->plaintext_bytes += release;
  return Status::Ok();
}

Status GcmDecryptor::Finish() {
  if (impl_->finished) return Internal("GcmDecryptor finished twice");
  impl_->finished = true;
  if (impl_->held.size() < kTagBytes) return Corrupt("encrypted content shorter than its tag");
  unsigned char tag[kTagBytes];
  std::copy_n(Bytes(impl_->held), kTagBytes, tag);
  if (EVP_CIPHER_CTX_ctrl(impl_->ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          tag) != 1) {
    return SslStatus("AES-256-GCM set tag");
  }
  unsigned char none[1];
  int outl = 0;
  if (EVP_DecryptFinal_ex(impl_->ctx.get(), none, &outl) != 1) {
    ERR_clear_error();
    return Corrupt(
        "the content failed authentication (tampered or damaged content or tag, or a "
        "wrong x-amz-iv)");
  }
  return Status::Ok();
}

std::uint64_t GcmDecryptor::plaintext_bytes() const {
  return impl_->plaintext_bytes;
}

// ---- files ----

Result<CseEnvelope> EncryptStream(const Key& kek, int in_fd, int out_fd) {
  auto cek = RandomKey();
  if (!cek.ok()) return cek.status();
  CseEnvelope env;
  Status s = RandomBytes(env.iv);
  if (!s.ok()) return s;
  auto wrapped = WrapKey(kek, *cek);
  if (!wrapped.ok()) return wrapped.status();
  env.wrapped_key = std::move(*wrapped);
  auto enc = GcmEncryptor::Create(*cek, env.iv);
  if (!enc.ok()) return enc.status();

  std::string in(kChunkBytes, '\0');
  std::string out;
  out.reserve(kChunkBytes + kTagBytes);
  std::uint64_t length = 0;
  for (;;) {
    auto n = ReadUpTo(in_fd, in.data(), in.size());
    if (!n.ok()) return Wiped(in, n.status());
    if (*n == 0) break;
    length += *n;
    out.clear();
    s = (*enc)->Update(std::string_view(in).substr(0, *n), out);
    if (!s.ok()) return Wiped(in, s);
    s = WriteAll(out_fd, out);
    if (!s.ok()) return Wiped(in, s);
  }
  out.clear();
  s = (*enc)->Finish(out);
  if (!s.ok()) return Wiped(in, s);
  s = WriteAll(out_fd, out);
  if (!s.ok()) return Wiped(in, s);
  OPENSSL_cleanse(in.data(), in.size());
  env.unencrypted_length = length;
  return env;
}

Status DecryptStream(const Key& kek, const CseEnvelope& envelope, int in_fd, int out_fd) {
  auto cek = UnwrapKey(kek, envelope.wrapped_key, kCseAesGcmNoPadding);
  if (!cek.ok()) return cek.status();
  auto dec = GcmDecryptor::Create(*cek, envelope.iv);
  if (!dec.ok()) return dec.status();
  std::string in(kChunkBytes, '\0');
  std::string out;
  out.reserve(kChunkBytes + kTagBytes);
  for (;;) {
    auto n = ReadUpTo(in_fd, in.data(), in.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.clear();
    Status s = (*dec)->Update(std::string_view(in).substr(0, *n), out);
    if (s.ok()) s = WriteAll(out_fd, out);
    if (!s.ok()) return Wiped(out, s);
  }
  OPENSSL_cleanse(out.data(), out.size());
  Status s = (*dec)->Finish();
  if (!s.ok()) return s;
  if (envelope.unencrypted_length && *envelope.unencrypted_length != (*dec)->plaintext_bytes()) {
    return Corrupt(std::string(kCseUnencryptedLength) + " says " +
                   std::to_string(*envelope.unencrypted_length) + " bytes but the content holds " +
                   std::to_string((*dec)->plaintext_bytes()));
  }
  return Status::Ok();
}

}  // namespace shoal::crypto
