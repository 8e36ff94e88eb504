#include "crypto/envelope.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <span>

#include "base/coding.h"
#include "crypto/ssl_status.h"

namespace shoal::crypto {
namespace {

constexpr unsigned char kEnvelopeFormat = 1;
constexpr std::string_view kAadLabel = "shoal envelope";

// The two header bytes of an SSE-S3 envelope.
std::string SseS3Header() {
  return {static_cast<char>(kEnvelopeFormat), static_cast<char>(EnvelopeMode::kSseS3)};
}

void PutField(std::string& out, std::string_view field) {
  PutFixed32(out, static_cast<std::uint32_t>(field.size()));
  out += field;
}

// label | header | bucket | key | version id, each field length-prefixed.
std::string AssociatedData(std::string_view header, const ObjectBinding& object) {
  std::string aad(kAadLabel);
  aad += header;
  PutField(aad, object.bucket);
  PutField(aad, object.key);
  PutField(aad, object.version_id);
  return aad;
}

std::string KmsHeader(std::string_view kms_blob, bool bucket_key) {
  std::string header{static_cast<char>(kEnvelopeFormat), static_cast<char>(EnvelopeMode::kSseKms),
                     bucket_key ? '\1' : '\0'};
  header += kms_blob;
  return header;
}

constexpr std::size_t kKmsHeaderBytes = 3 + kKmsBlobInEnvelopeBytes;
constexpr std::size_t kSseCHeaderBytes = 2 + kSseCSaltBytes + kSseCHmacBytes;

// HMAC-SHA256 keyed by `salt` over the customer key.
Result<std::string> KeyHmac(std::string_view salt, const Key& customer_key) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()), customer_key.bytes.data(),
           customer_key.bytes.size(), out, &len) == nullptr ||
      len != kSseCHmacBytes) {
    return SslStatus("HMAC-SHA256");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

Result<EnvelopeInfo> InspectEnvelope(std::string_view envelope) {
  if (envelope.size() == kSseS3EnvelopeBytes && envelope.starts_with(SseS3Header())) {
    return EnvelopeInfo{};
  }
  if (envelope.size() == kSseKmsEnvelopeBytes &&
      static_cast<unsigned char>(envelope[0]) == kEnvelopeFormat &&
      static_cast<unsigned char>(envelope[1]) ==
          static_cast<unsigned char>(EnvelopeMode::kSseKms) &&
      static_cast<unsigned char>(envelope[2]) <= 1) {
    return EnvelopeInfo{.mode = EnvelopeMode::kSseKms,
                        .kms_blob = std::string(envelope.substr(3, kKmsBlobInEnvelopeBytes)),
                        .bucket_key = envelope[2] == '\1'};
  }
  if (envelope.size() == kSseCEnvelopeBytes &&
      static_cast<unsigned char>(envelope[0]) == kEnvelopeFormat &&
      static_cast<unsigned char>(envelope[1]) == static_cast<unsigned char>(EnvelopeMode::kSseC)) {
    return EnvelopeInfo{.mode = EnvelopeMode::kSseC,
                        .sse_c_salt = std::string(envelope.substr(2, kSseCSaltBytes))};
  }
  return Corrupt("key envelope is damaged or of an unknown kind");
}

Result<std::string> SealSseCEnvelope(const Key& customer_key, const Key& data_key,
                                     const ObjectBinding& object) {
  std::string envelope{static_cast<char>(kEnvelopeFormat), static_cast<char>(EnvelopeMode::kSseC)};
  std::string salt(kSseCSaltBytes, '\0');
  Status s = RandomBytes(std::span(reinterpret_cast<unsigned char*>(salt.data()), salt.size()));
  if (!s.ok()) return s;
  auto hmac = KeyHmac(salt, customer_key);
  if (!hmac.ok()) return hmac.status();
  envelope += salt;
  envelope += *hmac;
  Nonce nonce;
  s = RandomBytes(nonce);
  if (!s.ok()) return s;
  const std::string aad = AssociatedData(envelope, object);
  envelope.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  s = Seal(customer_key, nonce, aad,
           std::string_view(reinterpret_cast<const char*>(data_key.bytes.data()), kKeyBytes),
           envelope);
  if (!s.ok()) return s;
  return envelope;
}

Result<Key> OpenSseCEnvelope(const Key& customer_key, std::string_view envelope,
                             const ObjectBinding& object) {
  auto info = InspectEnvelope(envelope);
  if (!info.ok()) return info.status();
  if (info->mode != EnvelopeMode::kSseC) return Corrupt("not an SSE-C key envelope");
  auto hmac = KeyHmac(info->sse_c_salt, customer_key);
  if (!hmac.ok()) return hmac.status();
  const std::string_view stored = envelope.substr(2 + kSseCSaltBytes, kSseCHmacBytes);
  if (CRYPTO_memcmp(hmac->data(), stored.data(), kSseCHmacBytes) != 0) {
    return Status(Code::kAccessDenied,
                  "The calculated MD5 hash of the key did not match the hash that was provided "
                  "(SSE-C: not the key this object was written with)");
  }
  Nonce nonce;
  std::copy_n(reinterpret_cast<const unsigned char*>(envelope.data()) + kSseCHeaderBytes,
              kNonceBytes, nonce.begin());
  Key key;
  Status s = OpenInto(
      customer_key, nonce, AssociatedData(envelope.substr(0, kSseCHeaderBytes), object),
      envelope.substr(kSseCHeaderBytes + kNonceBytes), reinterpret_cast<char*>(key.bytes.data()));
  if (!s.ok() && s.code() == Code::kCorrupt) {
    return Corrupt("key envelope does not open for this object (moved, damaged or tampered)");
  }
  if (!s.ok()) return s;
  return key;
}

Result<std::string> SealKmsEnvelope(const Key& kms_key, std::string_view kms_blob, bool bucket_key,
                                    const Key& data_key, const ObjectBinding& object) {
  if (kms_blob.size() != kKmsBlobInEnvelopeBytes) return Internal("KMS blob of the wrong size");
  std::string envelope = KmsHeader(kms_blob, bucket_key);
  Nonce nonce;
  Status s = RandomBytes(nonce);
  if (!s.ok()) return s;
  const std::string aad = AssociatedData(envelope, object);
  envelope.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  s = Seal(kms_key, nonce, aad,
           std::string_view(reinterpret_cast<const char*>(data_key.bytes.data()), kKeyBytes),
           envelope);
  if (!s.ok()) return s;
  return envelope;
}

Result<Key> OpenKmsEnvelope(const Key& kms_key, std::string_view envelope,
                            const ObjectBinding& object) {
  auto info = InspectEnvelope(envelope);
  if (!info.ok()) return info.status();
  if (info->mode != EnvelopeMode::kSseKms) return Corrupt("not an SSE-KMS key envelope");
  Nonce nonce;
  std::copy_n(reinterpret_cast<const unsigned char*>(envelope.data()) + kKmsHeaderBytes,
              kNonceBytes, nonce.begin());
  Key key;
  Status s = OpenInto(kms_key, nonce, AssociatedData(envelope.substr(0, kKmsHeaderBytes), object),
                      envelope.substr(kKmsHeaderBytes + kNonceBytes),
                      reinterpret_cast<char*>(key.bytes.data()));
  if (!s.ok() && s.code() == Code::kCorrupt) {
    return Corrupt("key envelope does not open for this object (moved, damaged or tampered)");
  }
  if (!s.ok()) return s;
  return key;
}

Result<std::string> SealEnvelope(const RootKey& root, const Key& data_key,
                                 const ObjectBinding& object) {
  std::string envelope = SseS3Header();
  auto wrapped = root.Wrap(data_key, AssociatedData(envelope, object));
  if (!wrapped.ok()) return wrapped.status();
  envelope += *wrapped;
  return envelope;
}

Result<Key> OpenEnvelope(const RootKey& root, std::string_view envelope,
                         const ObjectBinding& object) {
  const std::string header = SseS3Header();
  if (envelope.size() != kSseS3EnvelopeBytes || envelope.substr(0, header.size()) != header) {
    return Corrupt("key envelope is damaged or of an unknown kind");
  }
  auto key = root.Unwrap(envelope.substr(header.size()), AssociatedData(header, object));
  if (!key.ok() && key.status().code() == Code::kCorrupt) {
    return Corrupt("key envelope does not open for this object (moved, damaged or tampered)");
  }
  return key;
}

Result<std::string> RebindEnvelope(const RootKey& root, std::string_view envelope,
                                   const ObjectBinding& from, const ObjectBinding& to) {
  auto key = OpenEnvelope(root, envelope, from);
  if (!key.ok()) return key.status();
  return SealEnvelope(root, *key, to);
}

}  // namespace shoal::crypto
