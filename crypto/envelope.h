#pragma once
// Key envelopes: an object's data key, wrapped for that object alone.
//
// Every blob is sealed under its own random data key (tiers/blob.h). The
// object's metadata entry keeps that key in an envelope whose associated
// data binds the object's bucket, key and version id, so a blob moved under
// another object's metadata, or an envelope copied to another object, fails
// to open (Corrupt): the content is never decrypted for the wrong object.
// crypto/FORMAT.md gives the byte layout.
//
// Thread-safety: free functions; safe from any thread.

#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/root_key.h"

namespace shoal::crypto {

// The object an envelope belongs to: S3's (bucket, key, versionId).
struct ObjectBinding {
  std::string_view bucket;
  std::string_view key;
  std::string_view version_id;  // "null" when the object has no version id
};

// Who holds the key that wraps the data key.
enum class EnvelopeMode : unsigned char {
  kSseS3 = 1,   // the store's root key
  kSseKms = 2,  // a KMS data key, whose KMS ciphertext blob the envelope carries
  kSseC = 3,    // the customer's key, of which the envelope keeps only a salted HMAC
  // DSSE-KMS: two data keys, one per layer of a dual-layer blob; the inner
  // one wrapped as SSE-KMS's, the outer one by the store's root key.
  kDsseKms = 4,
};

inline constexpr std::size_t kSseS3EnvelopeBytes = 2 + RootKey::kWrappedBytes;
// format | mode | flags | KMS blob | nonce | wrapped data key | tag
inline constexpr std::size_t kKmsBlobInEnvelopeBytes = 104;  // crypto/kms.h kKmsBlobBytes
inline constexpr std::size_t kSseKmsEnvelopeBytes =
    3 + kKmsBlobInEnvelopeBytes + kNonceBytes + kKeyBytes + kTagBytes;

// format | mode | flags | KMS blob | nonce | wrapped inner key | tag | root-wrapped outer key
inline constexpr std::size_t kDsseKmsEnvelopeBytes = kSseKmsEnvelopeBytes + RootKey::kWrappedBytes;

// format | mode | salt | HMAC-SHA256(salt, customer key) | nonce | wrapped data key | tag
inline constexpr std::size_t kSseCSaltBytes = 16;
inline constexpr std::size_t kSseCHmacBytes = 32;
inline constexpr std::size_t kSseCEnvelopeBytes =
    2 + kSseCSaltBytes + kSseCHmacBytes + kNonceBytes + kKeyBytes + kTagBytes;

// What an envelope says about itself before it is opened.
struct EnvelopeInfo {
  EnvelopeMode mode = EnvelopeMode::kSseS3;
  // SSE-KMS, DSSE-KMS: the KMS key's ciphertext blob, and whether it is an S3 Bucket
  // Key (made for the bucket's ARN) rather than one made for this object.
  std::string kms_blob;
  bool bucket_key = false;
  // SSE-C: the salt of the key's HMAC (for an ETag that is not the MD5).
  std::string sse_c_salt;
};
// Corrupt when the envelope's size or header is not one of the above.
Result<EnvelopeInfo> InspectEnvelope(std::string_view envelope);

// Wraps `data_key` under the root key for `object` (SSE-S3).
Result<std::string> SealEnvelope(const RootKey& root, const Key& data_key,
                                 const ObjectBinding& object);
// The data key in `envelope`. Corrupt when the envelope is damaged, belongs
// to another object, or was sealed by another root key.
Result<Key> OpenEnvelope(const RootKey& root, std::string_view envelope,
                         const ObjectBinding& object);

// SSE-KMS: wraps `data_key` for `object` under `kms_key`, the plaintext of
// the KMS ciphertext blob `kms_blob` (which the envelope carries, and its
// associated data covers, so the blob cannot be swapped either).
Result<std::string> SealKmsEnvelope(const Key& kms_key, std::string_view kms_blob, bool bucket_key,
                                    const Key& data_key, const ObjectBinding& object);
// SSE-C: wraps `data_key` for `object` under the customer's key, and keeps
// only a salted HMAC of that key to recognise it.
Result<std::string> SealSseCEnvelope(const Key& customer_key, const Key& data_key,
                                     const ObjectBinding& object);
// The data key of an SSE-C envelope. AccessDenied when `customer_key` is
// not the key it was sealed with; Corrupt as OpenEnvelope.
Result<Key> OpenSseCEnvelope(const Key& customer_key, std::string_view envelope,
                             const ObjectBinding& object);

// The data key of an SSE-KMS envelope, given the plaintext of its KMS blob.
// Corrupt as OpenEnvelope.
Result<Key> OpenKmsEnvelope(const Key& kms_key, std::string_view envelope,
                            const ObjectBinding& object);

// DSSE-KMS: the two keys of a dual-layer blob, for `object`: `inner_key`
// under `kms_key` (the plaintext of `kms_blob`), as SealKmsEnvelope does,
// and `outer_key` under the root key. Either layer's key alone opens
// nothing, and each is bound to the object and to this envelope's header.
Result<std::string> SealDsseEnvelope(const Key& kms_key, std::string_view kms_blob,
                                     const RootKey& root, const Key& inner_key,
                                     const Key& outer_key, const ObjectBinding& object);
struct DualLayerKeys {
  Key inner;
  Key outer;
};
// Both keys of a DSSE-KMS envelope. Corrupt as OpenEnvelope.
Result<DualLayerKeys> OpenDsseEnvelope(const Key& kms_key, const RootKey& root,
                                       std::string_view envelope, const ObjectBinding& object);

}  // namespace shoal::crypto
