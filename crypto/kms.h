#pragma once
// A simulated AWS KMS for symmetric keys (SSE-KMS): customer managed keys
// with aliases, the AWS managed key of a service (alias/aws/s3), data keys
// under an encryption context, enable/disable, yearly rotation, scheduled
// deletion, a request quota and a CloudTrail-like audit trail.
//
// Account and region are fixed: ARNs read
//   arn:aws:kms:us-east-1:000000000000:key/<key id>
//   arn:aws:kms:us-east-1:000000000000:alias/<name>
// and a key id is a lowercase UUID v4 (8-4-4-4-12 hex digits).
//
// Time: every call that can change or use a key takes `now` (the caller's
// clock, possibly simulated); scheduled work (rotations, deletions) happens
// only in Advance, in time order. The request quota alone runs on
// KmsOptions::steady_now_ns, the monotonic wall clock.
//
// ---- Ciphertext blob (GenerateDataKey's ciphertext_blob, Decrypt's input) ----
// 104 bytes; integers little-endian:
//   offset  0   4 bytes  "SKM1"
//   offset  4  36 bytes  key id, ASCII, lowercase 8-4-4-4-12
//   offset 40   4 bytes  u32 material version (1 = the key's first material)
//   offset 44  12 bytes  random nonce
//   offset 56  32 bytes  AES-256-GCM ciphertext of the 32-byte data key
//   offset 88  16 bytes  GCM tag
// The GCM key is that material version of the key; the additional
// authenticated data is
//   "shoal-kms-v1" || bytes 0..43 of the blob (magic, key id, version)
//                  || the encryption context, pairs in ascending byte order
//                     of their keys, each as u32 len | key | u32 len | value
// (an empty context adds nothing). So the context must be given again,
// exactly, to decrypt, and no byte of the blob can change undetected.
//
// ---- Key files (DIR/keys/<key id>, mode 0600, written durably) ----
// Integers little-endian; a "string" is a LEB128 varint length then bytes:
//   4 bytes  "SKK1"
//  36 bytes  key id (equal to the file name)
//   1 byte   flags: 1 AWS managed, 2 enabled, 4 rotation enabled (others 0)
//   8 bytes  i64 creation time, ns since the epoch
//   8 bytes  i64 next rotation time (0 when rotation was never on)
//   8 bytes  i64 deletion date (0 unless pending deletion)
//   4 bytes  u32 waiting period in days (0, or 7..30 when pending deletion)
//   string   alias ("alias/NAME", or "alias/aws/SERVICE" when AWS managed)
//   4 bytes  u32 material count N >= 1, then N times, for versions 1..N:
//     8 bytes  i64 time the material was made
//    60 bytes  RootKey::Wrap of the 32-byte material, context
//              "kms-key|<key id>|<version>" (nonce | ciphertext | tag)
//  32 bytes  SHA-256 of everything before it
// The checksum finds damage, not forgery: whoever can write DIR can change
// a key's state (but cannot make or read key material without the root key).
// A deleted key leaves DIR/deleted/<key id>, an empty file, so that blobs
// under it are told apart (NotFound) from damaged ones (Corrupt).
//
// Thread-safety: all methods may be called concurrently. Configuration
// changes, Advance and key creation are serialised with one another; data
// key calls only take a short lock to copy a key's material, and never wait
// for a configuration change's file I/O. The audit callback runs outside
// all locks, possibly on several threads at once.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/kms_config.h"
#include "crypto/root_key.h"

namespace shoal::crypto {

// An encryption context; std::map keeps it in its canonical (sorted) order.
using EncryptionContext = std::map<std::string, std::string>;

inline constexpr std::string_view kKmsArnPrefix = "arn:aws:kms:us-east-1:000000000000:";
inline constexpr std::size_t kKmsKeyIdBytes = 36;
inline constexpr std::size_t kKmsBlobBytes =
    4 + kKmsKeyIdBytes + 4 + kNonceBytes + kKeyBytes + kTagBytes;
// Rotation period, for customer managed keys with rotation on and for AWS
// managed keys: 365 days.
inline constexpr TimeNs kKmsRotationPeriod = TimeNs{365} * 86'400 * 1'000'000'000;

// A snapshot of one key, by value.
struct KmsKey {
  std::string id;     // lowercase UUID v4
  std::string arn;    // kKmsArnPrefix + "key/" + id
  std::string alias;  // "alias/NAME"; "alias/aws/s3" for S3's AWS managed key
  bool aws_managed = false;
  TimeNs created = 0;
  // False while disabled or pending deletion (as DescribeKey's Enabled).
  bool enabled = true;
  // The rotation setting. Always true for AWS managed keys. Kept while the
  // key is disabled or pending deletion, though no rotation happens then; a
  // rotation that fell due meanwhile happens once the key is enabled again.
  bool rotation_enabled = false;
  TimeNs next_rotation = 0;              // 0 when rotation is off
  TimeNs deletion_date = 0;              // 0 unless pending deletion
  std::int32_t pending_window_days = 0;  // 0 unless pending deletion
  std::uint32_t material_versions = 1;   // rotations + 1

  // "Enabled", "Disabled" or "PendingDeletion".
  std::string KeyState() const;
};

struct DataKey {
  Key plaintext;                // a fresh AES-256 key
  std::string ciphertext_blob;  // kKmsBlobBytes, see above
  std::string key_arn;
};

// One call, as CloudTrail would log it.
struct KmsAuditRecord {
  TimeNs event_time = 0;
  // "GenerateDataKey", "Decrypt", "CreateKey", "EnableKey", "DisableKey",
  // "EnableKeyRotation", "DisableKeyRotation", "ScheduleKeyDeletion",
  // "CancelKeyDeletion", and, done by KMS itself in Advance, "RotateKey"
  // and "DeleteKey".
  std::string event_name;
  std::string key_arn;  // empty when the call names no key (a garbled blob, a refused name)
  EncryptionContext context;
  std::uint32_t uid = 0;
  // Empty on success, else KMS's exception name ("DisabledException",
  // "NotFoundException", "KMSInvalidStateException", "ThrottlingException",
  // "InvalidCiphertextException", "AlreadyExistsException",
  // "ValidationException", "NotAuthorizedException",
  // "UnsupportedOperationException", "KMSInternalException").
  std::string error_code;
  // A GenerateDataKey or Decrypt request that KMS would charge for: every
  // one, failed ones included, except those refused as throttled.
  bool billable = false;
  // RotateKey and DeleteKey: done by KMS on its schedule, not by a user.
  bool by_service = false;
};

// `r` as one line of JSON (no newline), shaped like a CloudTrail event:
// eventTime ("2026-11-26T13:30:00Z"), eventSource "kms.amazonaws.com",
// eventName, userIdentity ({"type":"LocalUser","uid":N}, or
// {"type":"AWSService","invokedBy":"kms.amazonaws.com"} when by_service),
// requestParameters ({"keyId": ARN} when there is one, "keySpec":"AES_256"
// for GenerateDataKey, "encryptionContext" when not empty), errorCode when
// set, readOnly (true for GenerateDataKey and Decrypt) and, when there is an
// ARN, resources [{"ARN":..., "type":"AWS::KMS::Key"}]. Invalid UTF-8 in a
// context is replaced by U+FFFD.
std::string AuditJsonLine(const KmsAuditRecord& r);

struct KmsOptions {
  // The shared quota of GenerateDataKey and Decrypt requests, a token
  // bucket that holds one second's worth (at least one). <= 0: no quota.
  double requests_per_second = 50000;
  // kPace: a request over the quota waits for its turn (never holding a
  // lock while it sleeps). kReject: it fails with kKmsThrottling.
  enum class QuotaMode { kPace, kReject } quota_mode = QuotaMode::kPace;
  // Monotonic time for the quota; default std::chrono::steady_clock.
  std::function<std::int64_t()> steady_now_ns;
  // Default std::this_thread::sleep_for.
  std::function<void(std::int64_t ns)> sleep_ns;
  // Called once for each audited call after it is decided (and for each
  // change of a Configure, each rotation and deletion of Advance), outside
  // all locks, possibly concurrently. May be empty.
  std::function<void(const KmsAuditRecord&)> audit;
};

class Kms {
 public:
  // Opens the key store in `dir` (creating `dir`, `dir`/keys and
  // `dir`/deleted, mode 0700, when absent) and loads every key.
  // Corrupt when a key file is damaged, does not unwrap under `root`, holds
  // an impossible state, or a file in keys/ or deleted/ is not named by a
  // key id. A leftover "<id>.tmp" from an interrupted write is removed, and
  // a deletion interrupted between its two steps is finished.
  // `root` must outlive the Kms.
  static Result<std::unique_ptr<Kms>> Open(const std::string& dir, const RootKey& root,
                                           KmsOptions options);

  Kms(const Kms&) = delete;
  Kms& operator=(const Kms&) = delete;
  ~Kms();

  // A new customer managed key named "alias/" + `name`: enabled, rotation
  // off, one material version. Audited as CreateKey.
  // `name`: 1 to 250 characters of [a-zA-Z0-9/_-], not starting "aws/"
  // (that prefix is AWS's). Errors: kInvalidArgument, with KMS's
  // ValidationException wording or "NotAuthorizedException: ..." for
  // "aws/"; kAlreadyExists "AlreadyExistsException: An alias with the name
  // arn:aws:kms:us-east-1:000000000000:alias/NAME already exists"; an I/O
  // error when the key file cannot be written.
  Result<KmsKey> CreateKey(std::string_view name, TimeNs now, std::uint32_t uid);

  // The AWS managed key of `service` ("s3" -> alias/aws/s3), created on first
  // use (audited as CreateKey): enabled, rotation on. `service`: 1 to 64 of
  // [a-z0-9-], else kInvalidArgument.
  Result<KmsKey> AwsManagedKey(std::string_view service, TimeNs now, std::uint32_t uid);

  // The key that `key_ref` names: a key id, a key ARN, "alias/NAME" or an
  // alias ARN. kKmsNotFound otherwise (deleted keys included), with KMS's
  // wording: "Key 'arn:...:key/ID' does not exist", "Alias arn:...:alias/NAME
  // is not found." or "Invalid keyId "..."" for a reference of no such form.
  Result<KmsKey> Describe(std::string_view key_ref) const;
  // Every key, sorted by alias.
  std::vector<KmsKey> List() const;

  // Brings the key to the `wanted` configuration, one KMS call per change,
  // each audited: CancelKeyDeletion (PendingDeletionDays 0 on a key pending
  // deletion; the key comes back Disabled, its rotation setting kept), then
  // EnableKey, Enable/DisableKeyRotation, DisableKey in the order that keeps
  // the key enabled while its rotation changes, then ScheduleKeyDeletion
  // (deletion_date = now + days; it takes an enabled key as well). While
  // `wanted` has a waiting period, its `enabled` is ignored: a key pending
  // deletion is never enabled. Nothing changes when `wanted` is the current
  // configuration. All or nothing: every change is checked before
  // any is made, and on a refusal one record with the refused change's
  // error is audited. Errors:
  //  - kKmsNotFound: no such key (nothing audited);
  //  - kInvalidArgument: a waiting period out of 0, 7..30; or any change to
  //    an AWS managed key ("UnsupportedOperationException: ...");
  //  - kKmsInvalidState "ARN is pending deletion.": a change other than
  //    cancelling to a key pending deletion (a new waiting period included);
  //  - kKmsDisabled "ARN is disabled.": a rotation change to a key that stays
  //    disabled;
  //  - an I/O error when the key file cannot be written.
  Status Configure(std::string_view key_ref, const KmsKeyConfig& wanted, TimeNs now,
                   std::uint32_t uid);

  // Runs, in time order, what fell due at or before `now`: rotations of
  // enabled keys with rotation on (a new material version, then
  // next_rotation += 365 days, so a long step rotates once per year passed)
  // and deletions of keys whose deletion_date came (the key file is
  // removed; later lookups are NotFound and its alias is free). Audited as
  // RotateKey and DeleteKey (by_service). Returns the earliest due time
  // still ahead, or 0 when nothing is scheduled. On an I/O error the work
  // done before it stays done.
  Result<TimeNs> Advance(TimeNs now);
  // Replaces the request quota of KmsOptions from now on: the bucket keeps
  // its tokens, up to the new burst, or starts full if there was no quota.
  void SetQuota(double requests_per_second, KmsOptions::QuotaMode mode) EXCLUDES(quota_mu_);

  // A fresh 256-bit data key and its ciphertext blob under the key's newest
  // material, bound to `ctx`.
  // Errors (also for Decrypt): kKmsThrottling "Rate exceeded" (kReject, over
  // the quota); kKmsNotFound (unknown or deleted key); kKmsDisabled "ARN is
  // disabled."; kKmsInvalidState "ARN is pending deletion.".
  Result<DataKey> GenerateDataKey(std::string_view key_ref, const EncryptionContext& ctx,
                                  TimeNs now, std::uint32_t uid);
  // The data key in `ciphertext_blob`; the key is the one the blob names,
  // any of its material versions. kCorrupt, message starting
  // "InvalidCiphertextException", when `ctx` is not the one the blob was
  // made with or the blob is damaged in any byte (a key id that never
  // existed, or a material version the key lacks, included); kKmsNotFound
  // when the blob's key was deleted.
  Result<Key> Decrypt(std::string_view ciphertext_blob, const EncryptionContext& ctx, TimeNs now,
                      std::uint32_t uid);

 private:
  struct Material {
    TimeNs created = 0;
    Key key;
    std::string wrapped;  // RootKey::kWrappedBytes
  };
  struct KeyRecord {
    KmsKey meta;
    std::vector<Material> materials;  // version v at index v - 1
  };

  Kms(std::string dir, const RootKey& root, KmsOptions options);

  Status Load() EXCLUDES(mu_);
  Result<KeyRecord> ReadKeyFile(const std::string& path, std::string_view id) const;
  Status WriteKeyFile(const KeyRecord& rec) const;
  // Leaves deleted/<id>, then removes keys/<id>.
  Status DeleteKeyFile(const std::string& id) const;
  Result<KeyRecord> NewKey(std::string alias, bool aws_managed, TimeNs now) const;
  // Appends a fresh material version made at `now`.
  Status AddMaterial(KeyRecord& rec, TimeNs now) const;

  // The id of the existing key that `key_ref` names, or kKmsNotFound.
  Result<std::string> Resolve(std::string_view key_ref) const REQUIRES(mu_);
  // Takes one request from the quota, sleeping first in kPace when it must;
  // false when kReject refuses it.
  bool AcquireQuota() EXCLUDES(quota_mu_);

  // The bodies of the changes: they append their audit records to `audit`,
  // which the caller emits once it holds no lock.
  Result<KmsKey> CreateLocked(std::string alias, bool aws_managed, TimeNs now, std::uint32_t uid,
                              std::vector<KmsAuditRecord>& audit) REQUIRES(admin_mu_) EXCLUDES(mu_);
  Status ConfigureLocked(std::string_view key_ref, const KmsKeyConfig& wanted, TimeNs now,
                         std::uint32_t uid, std::vector<KmsAuditRecord>& audit) REQUIRES(admin_mu_)
      EXCLUDES(mu_);
  Result<TimeNs> AdvanceLocked(TimeNs now, std::vector<KmsAuditRecord>& audit) REQUIRES(admin_mu_)
      EXCLUDES(mu_);
  void Emit(const std::vector<KmsAuditRecord>& records) const;

  const std::string dir_;
  const RootKey& root_;
  const KmsOptions options_;

  // Held by every change (CreateKey, AwsManagedKey, Configure, Advance)
  // across its file I/O, so that changes apply one at a time and in the
  // order of their files; taken before mu_, never while holding it.
  Mutex admin_mu_;
  // Guards the keys in memory; held only to read or install them.
  mutable Mutex mu_;
  std::map<std::string, KeyRecord, std::less<>> keys_ GUARDED_BY(mu_);       // by id
  std::map<std::string, std::string, std::less<>> aliases_ GUARDED_BY(mu_);  // alias -> id
  std::set<std::string, std::less<>> deleted_ GUARDED_BY(mu_);               // ids of deleted keys

  Mutex quota_mu_;
  double rate_ GUARDED_BY(quota_mu_) = 0;  // requests per second; <= 0: none
  KmsOptions::QuotaMode mode_ GUARDED_BY(quota_mu_) = KmsOptions::QuotaMode::kPace;
  double tokens_ GUARDED_BY(quota_mu_) = 0;
  std::int64_t refilled_at_ns_ GUARDED_BY(quota_mu_) = 0;
};

}  // namespace shoal::crypto
