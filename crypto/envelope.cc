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

Status MovedOrDamaged() {
  return Corrupt("key envelope does not open for this object (moved, damaged or tampered)");
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

// format | mode | flags | KMS blob: the header of SSE-KMS and DSSE-KMS envelopes.
std::string KmsHeader(EnvelopeMode mode, std::string_view kms_blob, bool bucket_key) {
  std::string header{static_cast<char>(kEnvelopeFormat), static_cast<char>(mode),
                     bucket_key ? '\1' : '\0'};
  header += kms_blob;
  return header;
}

// The AAD of a DSSE-KMS envelope's outer key: the envelope's header and
// layer label, then the object.
std::string OuterLayerAad(std::string_view header, const ObjectBinding& object) {
  std::string labelled(header);
  labelled += "outer layer";
  return AssociatedData(labelled, object);
}

// `key` sealed under `kek` with a fresh nonce, appended to `envelope` whose
// bytes so far are its header: nonce | ciphertext | tag.
Status AppendWrapped(const Key& kek, const Key& key, const ObjectBinding& object,
                     std::string& envelope) {
  Nonce nonce;
  Status s = RandomBytes(nonce);
  if (!s.ok()) return s;
  const std::string aad = AssociatedData(envelope, object);
  envelope.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  return Seal(kek, nonce, aad,
              std::string_view(reinterpret_cast<const char*>(key.bytes.data()), kKeyBytes),
              envelope);
}

// The key AppendWrapped sealed after a header of `header_bytes`, within
// `sealed` (header | nonce | ciphertext | tag).
Result<Key> OpenWrapped(const Key& kek, std::string_view sealed, std::size_t header_bytes,
                        const ObjectBinding& object) {
  Nonce nonce;
  std::copy_n(reinterpret_cast<const unsigned char*>(sealed.data()) + header_bytes, kNonceBytes,
              nonce.begin());
  Key key;
  Status s = OpenInto(kek, nonce, AssociatedData(sealed.substr(0, header_bytes), object),
                      sealed.substr(header_bytes + kNonceBytes),
                      reinterpret_cast<char*>(key.bytes.data()));
  if (!s.ok() && s.code() == Code::kCorrupt) return MovedOrDamaged();
  if (!s.ok()) return s;
  return key;
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
  if (envelope.size() == kDsseKmsEnvelopeBytes &&
      static_cast<unsigned char>(envelope[0]) == kEnvelopeFormat &&
      static_cast<unsigned char>(envelope[1]) ==
          static_cast<unsigned char>(EnvelopeMode::kDsseKms) &&
      envelope[2] == '\0') {
    return EnvelopeInfo{.mode = EnvelopeMode::kDsseKms,
                        .kms_blob = std::string(envelope.substr(3, kKmsBlobInEnvelopeBytes))};
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
  s = AppendWrapped(customer_key, data_key, object, envelope);
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
  return OpenWrapped(customer_key, envelope, kSseCHeaderBytes, object);
}

Result<std::string> SealKmsEnvelope(const Key& kms_key, std::string_view kms_blob, bool bucket_key,
                                    const Key& data_key, const ObjectBinding& object) {
  if (kms_blob.size() != kKmsBlobInEnvelopeBytes) return Internal("KMS blob of the wrong size");
  std::string envelope = KmsHeader(EnvelopeMode::kSseKms, kms_blob, bucket_key);
  Status s = AppendWrapped(kms_key, data_key, object, envelope);
  if (!s.ok()) return s;
  return envelope;
}

Result<Key> OpenKmsEnvelope(const Key& kms_key, std::string_view envelope,
                            const ObjectBinding& object) {
  auto info = InspectEnvelope(envelope);
  if (!info.ok()) return info.status();
  if (info->mode != EnvelopeMode::kSseKms) return Corrupt("not an SSE-KMS key envelope");
  return OpenWrapped(kms_key, envelope, kKmsHeaderBytes, object);
}

Result<std::string> SealDsseEnvelope(const Key& kms_key, std::string_view kms_blob,
                                     const RootKey& root, const Key& inner_key,
                                     const Key& outer_key, const ObjectBinding& object) {
  if (kms_blob.size() != kKmsBlobInEnvelopeBytes) return Internal("KMS blob of the wrong size");
  std::string envelope = KmsHeader(EnvelopeMode::kDsseKms, kms_blob, /*bucket_key=*/false);
  const std::string header = envelope;
  Status s = AppendWrapped(kms_key, inner_key, object, envelope);
  if (!s.ok()) return s;
  auto outer = root.Wrap(outer_key, OuterLayerAad(header, object));
  if (!outer.ok()) return outer.status();
  envelope += *outer;
  return envelope;
}

Result<DualLayerKeys> OpenDsseEnvelope(const Key& kms_key, const RootKey& root,
                                       std::string_view envelope, const ObjectBinding& object) {
  auto info = InspectEnvelope(envelope);
  if (!info.ok()) return info.status();
  if (info->mode != EnvelopeMode::kDsseKms) return Corrupt("not a DSSE-KMS key envelope");
  const std::size_t inner_end = kSseKmsEnvelopeBytes;
  auto inner = OpenWrapped(kms_key, envelope.substr(0, inner_end), kKmsHeaderBytes, object);
  if (!inner.ok()) return inner.status();
  auto outer = root.Unwrap(envelope.substr(inner_end),
                           OuterLayerAad(envelope.substr(0, kKmsHeaderBytes), object));
  if (!outer.ok() && outer.status().code() == Code::kCorrupt) return MovedOrDamaged();
  if (!outer.ok()) return outer.status();
  return DualLayerKeys{.inner = *inner, .outer = *outer};
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
  if (!key.ok() && key.status().code() == Code::kCorrupt) return MovedOrDamaged();
  return key;
}

}  // namespace shoal::crypto
