// ShoalFs: how objects are encrypted at rest (DESIGN §2.1, §2.3, §2.4).
//   MNT/.s3/<bucket>/encryption.json   the bucket's default encryption, the
//       JSON of put-bucket-encryption (SSE-S3 when absent); it applies to
//       every PUT (commit) from then on.
//   setfattr -n user.s3.sse -v aws:kms F          re-encrypts F in place under
//       the bucket's default KMS key (or alias/aws/s3); AES256 goes back
//       to SSE-S3.
//   setfattr -n user.s3.sse -v aws:kms:dsse F     ... in two layers (DSSE-KMS).
//   setfattr -n user.s3.sse_kms_key_id -v alias/k F   ... under that KMS key
//       (DSSE-KMS objects stay DSSE-KMS).
// Re-encryption in place re-wraps the object's data key (the blob stays);
// like a copy onto itself it is billed as a COPY request. Into or out of
// DSSE-KMS the content gains or loses a layer: the object is copied onto
// itself (a new blob and a new LastModified, as S3's copy gives).

#include "crypto/bucket_encryption.h"
#include "crypto/cse.h"
#include "fs/object_class.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;
namespace {

constexpr std::size_t kBucketBatch = 1000;

Result<store::EntryId> BucketIdOf(Txn& txn, const std::string& bucket) {
  auto b = txn.Get(store::kRootId, bucket, true);
  if (!b.ok()) return b.status();
  if (!*b) return Status(Code::kNoSuchBucket, "The specified bucket does not exist");
  return (*b)->id;
}

// The choice a bucket document makes. BucketKeyEnabled is accepted with
// aws:kms:dsse but, as on S3, has no effect there.
Result<EncryptionChoice> ChoiceOf(const crypto::BucketEncryption& e) {
  const bool dual = e.algorithm == kDsseKms;
  return EncryptionChoice{
      .sse = e.algorithm, .kms_key = e.kms_key_id, .bucket_key = e.bucket_key_enabled && !dual};
}

}  // namespace

Status ShoalFs::LoadEncryptions() {
  std::map<store::EntryId, EncryptionChoice> loaded;
  std::map<store::EntryId, Status> damaged;
  Status s = meta_->View([&](Txn& txn) -> Status {
    std::optional<Txn::Cursor> after;
    for (;;) {
      auto buckets = txn.List(store::kRootId, after, kBucketBatch);
      if (!buckets.ok()) return buckets.status();
      for (const auto& b : *buckets) {
        if (b.damaged) continue;
        auto doc = txn.GetConfig(b.entry.id, crypto::kBucketEncryptionFile);
        if (!doc.ok()) return doc.status();
        if (!*doc) continue;
        auto parsed = crypto::ParseBucketEncryption(**doc);
        Result<EncryptionChoice> choice =
            parsed.ok() ? ChoiceOf(*parsed) : Result<EncryptionChoice>(parsed.status());
        if (!choice.ok()) {
          // Stored only after validation: damage. PUTs are refused until
          // the document is written again.
          const std::string path =
              ".s3/" + b.name + "/" + std::string(crypto::kBucketEncryptionFile);
          errors_.Record(path, choice.status());
          damaged.emplace(b.entry.id, Corrupt(path + " is damaged (" + choice.status().message() +
                                              "); write it again to store objects here"));
          continue;
        }
        loaded.emplace(b.entry.id, std::move(*choice));
      }
      if (buckets->size() < kBucketBatch) return Status::Ok();
      after = Txn::Cursor{buckets->back().name, true};
    }
  });
  if (!s.ok()) return s;
  MutexLock lock(encryption_mu_);
  encryptions_ = std::move(loaded);
  damaged_encryptions_ = std::move(damaged);
  return Status::Ok();
}

Result<EncryptionChoice> ShoalFs::EncryptionOf(store::EntryId bucket) {
  // A customer key given for the bucket wins: PUTs with SSE-C headers.
  if (content_keys_->HasCustomerKey(bucket)) return EncryptionChoice{.sse = "SSE-C"};
  MutexLock lock(encryption_mu_);
  if (auto bad = damaged_encryptions_.find(bucket); bad != damaged_encryptions_.end()) {
    return bad->second;
  }
  auto it = encryptions_.find(bucket);
  return it == encryptions_.end() ? EncryptionChoice{} : it->second;
}

Result<std::string> ShoalFs::ReadEncryption(const std::string& bucket) {
  std::optional<std::string> doc;
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto id = BucketIdOf(txn, bucket);
    if (!id.ok()) return id.status();
    auto got = txn.GetConfig(*id, crypto::kBucketEncryptionFile);
    if (!got.ok()) return got.status();
    doc = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  // Absent: what GetBucketEncryption reports for every bucket since 2023.
  return doc ? *doc : crypto::BucketEncryptionJson({});
}

Status ShoalFs::ReplaceEncryption(const std::string& bucket, std::string_view json) {
  // An empty document deletes the configuration (DeleteBucketEncryption):
  // SSE-S3 again.
  const bool remove = json.find_first_not_of(" \t\r\n") == std::string_view::npos;
  std::string canonical;
  EncryptionChoice choice;
  if (!remove) {
    auto parsed = crypto::ParseBucketEncryption(json);
    if (!parsed.ok()) return parsed.status();
    auto chosen = ChoiceOf(*parsed);
    if (!chosen.ok()) return chosen.status();
    choice = std::move(*chosen);
    canonical = crypto::BucketEncryptionJson(*parsed);
  }
  store::EntryId bucket_id = 0;
  return meta_->Update(
      [&](Txn& txn) -> Status {
        auto id = BucketIdOf(txn, bucket);
        if (!id.ok()) return id.status();
        bucket_id = *id;
        return remove ? txn.RemoveConfig(*id, crypto::kBucketEncryptionFile)
                      : txn.PutConfig(*id, crypto::kBucketEncryptionFile, canonical);
      },
      // Before the next write transaction begins, so every commit after
      // this one uses the new default.
      [&] {
        MutexLock lock(encryption_mu_);
        damaged_encryptions_.erase(bucket_id);
        if (remove) {
          encryptions_.erase(bucket_id);
        } else {
          encryptions_[bucket_id] = choice;
        }
      });
}

Status ShoalFs::SetSseCKey(const std::string& bucket, std::string_view key) {
  std::optional<store::EntryId> id;
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto found = BucketIdOf(txn, bucket);
    if (!found.ok()) return found.status();
    id = *found;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (key.empty()) {
    content_keys_->SetCustomerKey(*id, std::nullopt);
    return Status::Ok();
  }
  auto parsed = crypto::ParseKeyFile(key);
  if (!parsed.ok()) {
    return InvalidArgument("sse-c-key: " + parsed.status().message() +
                           " (S3: The secret key was invalid for the specified algorithm)");
  }
  content_keys_->SetCustomerKey(*id, *parsed);
  return Status::Ok();
}

Status ShoalFs::ChangeEncryption(Ino ino, std::string_view name, std::string_view value) {
  auto inode = inodes_.Find(ino);
  if (!inode) return NoSuchKey("the object no longer exists");
  EncryptionChoice to;
  auto stored = StoredObjectOf(ino);
  if (!stored.ok() && stored.status().code() == Code::kIsADirectory) {
    return {Code::kNotSupported, "only objects are encrypted"};
  }
  if (!stored.ok()) return stored.status();
  if (name == "user.s3.sse") {
    if (value != "AES256" && value != "aws:kms" && value != kDsseKms && value != "SSE-C") {
      return InvalidArgument(
          "The encryption method specified is not supported (AES256, aws:kms, aws:kms:dsse or "
          "SSE-C)");
    }
    to.sse = std::string(value);
    if (to.sse == "aws:kms" || IsDualLayer(to)) {
      // The bucket's default KMS key if it has one, else alias/aws/s3.
      auto bucket = EncryptionOf(stored->key.bucket);
      if (!bucket.ok()) return bucket.status();
      if (bucket->sse == "aws:kms" || IsDualLayer(*bucket)) {
        to.kms_key = bucket->kms_key;
        to.bucket_key = bucket->bucket_key && !IsDualLayer(to);
      }
    }
  } else {
    if (value.empty()) return InvalidArgument("user.s3.sse_kms_key_id needs a KMS key");
    auto key = kms_->Describe(value);
    if (!key.ok() && key.status().code() == Code::kKmsNotFound) {
      return InvalidArgument(key.status().message());  // a bad argument, not a refusal
    }
    if (!key.ok()) return key.status();
    const bool dual = stored->entry.sse == kDsseKms;
    to = EncryptionChoice{.sse = dual ? std::string(kDsseKms) : "aws:kms", .kms_key = key->arn};
  }
  if (stored->entry.size > 0 && stored->entry.key_envelope.empty()) {
    // Its key is inside a blob of format 1, under the root key: re-wrapping
    // cannot move it. A rewrite (or a storage-class change) gives it an
    // envelope.
    return {Code::kNotSupported,
            "the object predates key envelopes; rewrite it or change its storage class, then "
            "re-encrypt it"};
  }
  if (NeedsRestore(stored->entry, clock_.Now())) return ArchivedError(stored->entry);
  // Serialises with commits of this object: what is re-wrapped is what is
  // committed.
  MutexLock commit_lock(inode->commit_mu);
  const TimeNs now = clock_.Now();
  stored = StoredObjectOf(ino);
  if (!stored.ok()) return stored.status();
  if (IsDualLayer(to) != (stored->entry.sse == kDsseKms) && stored->entry.size > 0) {
    return CopyInPlace(*inode, *stored, ClassOf(stored->entry), to);  // a layer more or less
  }
  // The KMS calls (Decrypt of the old envelope, GenerateDataKey of the new)
  // before the transaction; inside it only the seal.
  std::optional<DataKeys> data_keys;
  std::optional<ContentKeys::Wrapping> wrapping;
  if (!stored->entry.key_envelope.empty()) {
    auto opened = content_keys_->Open(stored->entry.key_envelope, stored->key,
                                      stored->entry.version_id, now, RequestUid());
    if (!opened.ok()) return opened.status();
    data_keys = std::move(*opened);
    auto w = content_keys_->Prepare(stored->key, to, now, RequestUid());
    if (!w.ok()) return w.status();
    wrapping = std::move(*w);
  }
  std::optional<Entry> after;
  Status s = meta_->Update([&](Txn& txn) -> Status {
    after.reset();
    auto found = ObjectIn(txn, ino);
    if (!found.ok()) return found.status();
    Entry e = std::move(found->entry);
    auto key = KeyIn(txn, found->where.parent, found->where.name);
    if (!key.ok()) return key.status();
    if (e.key_envelope != stored->entry.key_envelope || key->key != stored->key.key) {
      return Status(Code::kInvalidRequest, "the object changed meanwhile; try again");
    }
    if (data_keys) {
      auto envelope = content_keys_->SealWith(*wrapping, *data_keys, *key, e.version_id);
      if (!envelope.ok()) return envelope.status();
      e.key_envelope = std::move(*envelope);
    }
    e.sse = to.sse;
    e.ctime = now;
    Status p = txn.Put(found->where.parent, found->where.name, e);
    if (!p.ok()) return p;
    after = std::move(e);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  meter_->Request(tiers::RequestKind::kCopy, ClassOf(*after), now);
  {
    // Later opens read through the new envelope.
    MutexLock lock(inode->content_mu);
    inode->reader.reset();
    inode->reader_blob.clear();
  }
  return Status::Ok();
}

}  // namespace shoal::fs
