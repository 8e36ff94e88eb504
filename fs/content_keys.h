#pragma once
// ContentKeys: who may open an object's data key (DESIGN §2.4). Every
// blob's data key is kept in a key envelope (crypto/envelope.h) wrapped by
//   - the store's root key (SSE-S3, "AES256"), or
//   - a KMS data key (SSE-KMS, "aws:kms"): GenerateDataKey under the chosen
//     KMS key with the object's ARN as encryption context, whose ciphertext
//     blob the envelope carries; opening the object calls Decrypt. With an
//     S3 Bucket Key the KMS data key is made for the bucket's ARN instead
//     and reused, for writes and reads, for kBucketKeyLifetime of simulated
//     time, which is what cuts the KMS calls;
//   - for DSSE-KMS ("aws:kms:dsse"), whose blobs are dual-layer
//     (tiers/blob.h), one envelope holds both layers' keys: the inner one
//     wrapped as SSE-KMS's (never under a Bucket Key: S3 has none for
//     DSSE-KMS), the outer one by the root key;
//   - the customer's key (SSE-C).
// KMS errors (disabled, pending deletion, deleted key, throttling) come back
// as their Status codes; a damaged or misplaced envelope is Corrupt.
//
// Thread-safety: all methods may be called from many threads.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/envelope.h"
#include "crypto/kms.h"
#include "crypto/root_key.h"
#include "fs/object_key.h"
#include "store/entry.h"

namespace shoal::fs {

// How new content is encrypted: the bucket's default (encryption.json) or
// what a write of user.s3.sse / user.s3.sse_kms_key_id asks for.
struct EncryptionChoice {
  std::string sse = "AES256";  // "AES256", "aws:kms", "aws:kms:dsse" or "SSE-C"
  std::string kms_key;         // aws:kms(:dsse): any key reference; empty: alias/aws/s3
  bool bucket_key = false;     // aws:kms only
  bool operator==(const EncryptionChoice&) const = default;
};

inline constexpr std::string_view kDsseKms = "aws:kms:dsse";
// Whether content under `how` goes into dual-layer blobs (DSSE-KMS).
inline bool IsDualLayer(const EncryptionChoice& how) {
  return how.sse == kDsseKms;
}

// The keys an object's blob is sealed under: its data key and, for a
// dual-layer blob, the outer layer's key.
struct DataKeys {
  crypto::Key key;
  std::optional<crypto::Key> outer;
  const crypto::Key* outer_or_null() const { return outer ? &*outer : nullptr; }
};

// What an envelope says, for xattrs and inventory.
struct EnvelopeSummary {
  std::string sse = "AES256";  // "AES256", "aws:kms", "aws:kms:dsse" or "SSE-C"
  std::string kms_key_arn;     // aws:kms(:dsse) only
  bool bucket_key = false;
  std::string sse_c_salt;  // SSE-C only
};
Result<EnvelopeSummary> SummarizeEnvelope(std::string_view envelope);

// The hex ETag of object `e`: the MD5 of its content, except under SSE-C,
// where S3's ETag is not the MD5 (here: the MD5 of the key HMAC's salt and
// the content's MD5).
std::string EtagHexOf(const store::Entry& e);

inline constexpr TimeNs kBucketKeyLifetime = TimeNs{3600} * 1'000'000'000;  // one hour

class ContentKeys {
 public:
  // `root` and `kms` must outlive this.
  ContentKeys(const crypto::RootKey& root, crypto::Kms& kms) : root_(root), kms_(kms) {}
  ContentKeys(const ContentKeys&) = delete;
  ContentKeys& operator=(const ContentKeys&) = delete;

  // What wraps new data keys: the root key, or a KMS data key (with its
  // ciphertext blob) made for one object's ARN or for its bucket's.
  struct Wrapping {
    EncryptionChoice how;
    ObjectKey made_for;    // the object whose envelopes it may seal
    crypto::Key kek;       // SSE-KMS: the KMS data key; SSE-C: the customer's key
    std::string kms_blob;  // SSE-KMS only
  };
  // Gets the wrapping for new envelopes of `key` under `how`: the KMS call,
  // if any (which may wait for the quota), so that callers make it before a
  // metadata transaction rather than inside one.
  // REQUIRES: key.bucket_name is set (also below).
  Result<Wrapping> Prepare(const ObjectKey& key, const EncryptionChoice& how, TimeNs now,
                           std::uint32_t uid);
  // An envelope of `keys` for version `version_id` of `key`, sealed with
  // `w`; computation only. kInvalidRequest when `w` was made for another
  // object's ARN (it moved meanwhile): prepare again. Internal when the
  // keys' layers do not match `w`'s mode (an outer key iff DSSE-KMS).
  Result<std::string> SealWith(const Wrapping& w, const DataKeys& keys, const ObjectKey& key,
                               std::string_view version_id) const;
  // Prepare and SealWith in one.
  Result<std::string> Seal(const DataKeys& keys, const ObjectKey& key, std::string_view version_id,
                           const EncryptionChoice& how, TimeNs now, std::uint32_t uid);
  // The keys in `envelope`, for version `version_id` of `key`.
  Result<DataKeys> Open(std::string_view envelope, const ObjectKey& key,
                        std::string_view version_id, TimeNs now, std::uint32_t uid);
  // The same data key in an envelope for its new place (a rename): SSE-S3
  // and Bucket Key envelopes are re-wrapped locally; an SSE-KMS one costs a
  // Decrypt and a GenerateDataKey for the new ARN, as S3's copy does.
  Result<std::string> Move(std::string_view envelope, const ObjectKey& from,
                           std::string_view from_version, const ObjectKey& to,
                           std::string_view to_version, TimeNs now, std::uint32_t uid);
  // Move in two halves, so that its KMS calls come before a metadata
  // transaction: PrepareMove opens the envelope and makes the wrapping for
  // `to` (the KMS calls), then SealWith(prepared.wrapping, prepared.keys,
  // to, to_version) seals inside the transaction.
  struct PreparedMove {
    DataKeys keys;
    Wrapping wrapping;
  };
  Result<PreparedMove> PrepareMove(std::string_view envelope, const ObjectKey& from,
                                   std::string_view from_version, const ObjectKey& to, TimeNs now,
                                   std::uint32_t uid);
  // Whether moving `envelope` may call KMS (SSE-KMS, DSSE-KMS).
  static bool MoveAsksKms(std::string_view envelope);
  // Drops the cached Bucket Keys, so that the next use asks KMS again (a
  // KMS key was disabled, scheduled for deletion or rotated).
  void ForgetBucketKeys() EXCLUDES(mu_);
  // SSE-C: the customer's key for `bucket` (DESIGN §2.4), held in memory
  // only; nullopt forgets it. While one is set, new objects there are SSE-C.
  void SetCustomerKey(store::EntryId bucket, const std::optional<crypto::Key>& key) EXCLUDES(mu_);
  bool HasCustomerKey(store::EntryId bucket) EXCLUDES(mu_);

 private:
  struct CachedKey {
    crypto::Key key;
    std::string blob;
    TimeNs made = 0;
  };
  // A KMS data key for the bucket and KMS key `arn`, cached (writes).
  Result<CachedKey> BucketKeyFor(const std::string& bucket, const std::string& arn, TimeNs now,
                                 std::uint32_t uid) EXCLUDES(mu_);
  // The plaintext of Bucket Key blob `blob` of `bucket`, cached (reads).
  Result<crypto::Key> OpenBucketKey(const std::string& bucket, const std::string& blob, TimeNs now,
                                    std::uint32_t uid) EXCLUDES(mu_);
  // The ARN of the KMS key `how` names (alias/aws/s3, made on first use,
  // when it names none).
  Result<std::string> KeyArnFor(const EncryptionChoice& how, TimeNs now, std::uint32_t uid);

  // Caches a key KMS handed out when `generation` (read before the KMS
  // call) is still current: a ForgetBucketKeys meanwhile wins.
  void Remember(std::map<std::pair<std::string, std::string>, CachedKey>& cache,
                std::pair<std::string, std::string> id, const CachedKey& key,
                std::uint64_t generation) REQUIRES(mu_);

  const crypto::RootKey& root_;
  crypto::Kms& kms_;
  // The customer's key of `bucket`; AccessDenied when none was given.
  Result<crypto::Key> CustomerKey(const ObjectKey& key) EXCLUDES(mu_);

  Mutex mu_;
  std::map<store::EntryId, crypto::Key> customer_keys_ GUARDED_BY(mu_);
  std::uint64_t generation_ GUARDED_BY(mu_) = 0;  // bumped by ForgetBucketKeys
  // (bucket, KMS key ARN) -> the Bucket Key new objects are sealed under.
  std::map<std::pair<std::string, std::string>, CachedKey> write_keys_ GUARDED_BY(mu_);
  // (bucket, KMS blob) -> its plaintext, for reads.
  std::map<std::pair<std::string, std::string>, CachedKey> read_keys_ GUARDED_BY(mu_);
};

// The KMS encryption context S3 uses: the object's (or bucket's) ARN.
crypto::EncryptionContext ObjectContext(const ObjectKey& key);
crypto::EncryptionContext BucketContext(std::string_view bucket);

}  // namespace shoal::fs
