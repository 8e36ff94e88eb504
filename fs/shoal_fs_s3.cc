// ShoalFs: bucket configuration under MNT/.s3/<bucket>/ (DESIGN §2.3):
// inventory.csv and intelligent-tiering.json.
#include <cstdio>
#include <functional>

#include "base/coding.h"
#include "crypto/bucket_encryption.h"
#include "fs/object_class.h"
#include "fs/shoal_fs.h"
#include "lifecycle/lifecycle_config.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;

namespace {

constexpr std::size_t kListBatch = 1000;

// RFC 4180: a field with a comma, quote or line break is quoted, with
// quotes doubled.
void AppendCsvField(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// S3 Inventory's LastModifiedDate: "2026-11-26T13:30:00.000Z".
std::string InventoryDate(TimeNs t) {
  std::string out = FormatIso8601(t);
  TimeNs ms = (t % 1'000'000'000 + 1'000'000'000) % 1'000'000'000 / 1'000'000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lldZ", static_cast<long long>(ms));
  out.pop_back();  // 'Z'
  return out + frac;
}

std::string_view EncryptionStatus(const Entry& e) {
  if (e.sse == "aws:kms") return "SSE-KMS";
  if (e.sse == "aws:kms:dsse") return "DSSE-KMS";
  if (e.sse == "SSE-C") return "SSE-C";
  return "SSE-S3";
}

// The KMS key ARN of an SSE-KMS or DSSE-KMS object (SSEKMSKeyId), else empty.
std::string KmsKeyIdOf(const Entry& e) {
  if (e.sse != "aws:kms" && e.sse != kDsseKms) return {};
  auto summary = SummarizeEnvelope(e.key_envelope);
  return summary.ok() ? summary->kms_key_arn : std::string();
}

void AppendInventoryRow(std::string& out, std::string_view bucket, std::string_view key,
                        const Entry& e, bool latest, TimeNs now) {
  const bool is_file = e.kind == EntryKind::kFile && !e.delete_marker;
  const std::string etag = e.delete_marker ? std::string()
                           : is_file       ? EtagHexOf(e)
                                           : "d41d8cd98f00b204e9800998ecf8427e";
  const std::string tier = is_file && ClassOf(e) == tiers::StorageClass::kIntelligentTiering
                               ? std::string(tiers::AccessTierName(TierOf(e)))
                               : std::string();
  const std::string fields[] = {
      std::string(bucket),
      std::string(key),
      e.version_id == "null" ? std::string() : e.version_id,
      latest ? "true" : "false",
      e.delete_marker ? "true" : "false",
      e.delete_marker ? std::string() : std::to_string(is_file ? e.size : 0),
      InventoryDate(e.created),
      etag,
      e.delete_marker ? std::string()
      : is_file       ? e.storage_class
                      : std::string("STANDARD"),
      tier,
      e.delete_marker ? std::string() : std::string(EncryptionStatus(e)),
      KmsKeyIdOf(e),
      is_file ? std::string(tiers::InventoryRestoreStatus(RestoreAt(e, now))) : std::string()};
  bool first = true;
  for (const auto& f : fields) {
    if (!first) out.push_back(',');
    first = false;
    AppendCsvField(out, f);
  }
  out += "\r\n";
}

// Calls fn(key, entry) for every object of `bucket` (files and directory
// markers) in S3 key order: depth first, each directory listed in batches.
Status ForEachObject(Txn& txn, store::EntryId bucket,
                     const std::function<Status(const std::string&, const Entry&)>& fn) {
  struct Frame {
    store::EntryId dir;
    std::string prefix;
    std::vector<store::Child> batch;
    std::size_t next = 0;
    std::optional<Txn::Cursor> after;
  };
  std::vector<Frame> stack;
  stack.push_back({.dir = bucket, .prefix = "", .batch = {}, .next = 0, .after = std::nullopt});
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.batch.size()) {
      auto batch = txn.List(top.dir, top.after, kListBatch);
      if (!batch.ok()) return batch.status();
      if (batch->empty()) {
        stack.pop_back();
        continue;
      }
      top.batch = std::move(*batch);
      top.next = 0;
      top.after = Txn::Cursor{top.batch.back().name, top.batch.back().entry.is_dir()};
    }
    const store::Child& c = top.batch[top.next++];
    if (c.damaged) continue;  // fsck names it; the listing goes on
    std::string key = top.prefix + c.name;
    if (c.entry.is_dir()) {
      key += '/';
      if (c.entry.marker) {
        Status s = fn(key, c.entry);
        if (!s.ok()) return s;
      }
      // `top` is invalidated by the push; nothing below uses it.
      stack.push_back(
          {.dir = c.entry.id, .prefix = key, .batch = {}, .next = 0, .after = std::nullopt});
    } else if (c.entry.kind == EntryKind::kFile) {
      Status s = fn(key, c.entry);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

// The kept versions of a bucket as a stream in key order, consumed
// alongside the current versions.
class KeptVersions {
 public:
  using Emit = std::function<void(const std::string& key, const Entry& v, bool latest)>;
  KeptVersions(Txn& txn, store::EntryId bucket) : txn_(txn), bucket_(bucket) {}

  // Emits the versions of every key before `key` (nullopt: all that are
  // left); the first version of each such key is its latest (the key has
  // no current version).
  Status EmitBefore(const std::optional<std::string>& key, const Emit& emit) {
    for (;;) {
      auto next = Peek();
      if (!next.ok()) return next.status();
      if (*next == nullptr || (key && (*next)->key >= *key)) return Status::Ok();
      const bool latest = (*next)->key != last_key_;
      last_key_ = (*next)->key;
      emit((*next)->key, (*next)->entry, latest);
      ++pos_;
    }
  }
  // Emits the versions of exactly `key`.
  Status EmitKey(const std::string& key, const Emit& emit) {
    for (;;) {
      auto next = Peek();
      if (!next.ok()) return next.status();
      if (*next == nullptr || (*next)->key != key) return Status::Ok();
      last_key_ = key;
      emit((*next)->key, (*next)->entry, false);
      ++pos_;
    }
  }

 private:
  Result<const store::VersionRecord*> Peek() {
    if (pos_ == batch_.size()) {
      if (done_) return static_cast<const store::VersionRecord*>(nullptr);
      auto got = txn_.ListVersions(bucket_, "", after_, kListBatch);
      if (!got.ok()) return got.status();
      batch_ = std::move(*got);
      pos_ = 0;
      if (batch_.size() < kListBatch) done_ = true;
      if (batch_.empty()) return static_cast<const store::VersionRecord*>(nullptr);
      after_ = Txn::VersionCursor{batch_.back().key, batch_.back().entry.id};
    }
    return &batch_[pos_];
  }

  Txn& txn_;
  const store::EntryId bucket_;
  std::vector<store::VersionRecord> batch_;
  std::size_t pos_ = 0;
  bool done_ = false;
  std::optional<Txn::VersionCursor> after_;
  std::string last_key_;
};

Result<store::EntryId> BucketId(Txn& txn, const std::string& bucket) {
  auto e = txn.Get(store::kRootId, bucket, true);
  if (!e.ok()) return e.status();
  if (!*e) return Status(Code::kNoSuchBucket, "The specified bucket does not exist");
  return (*e)->id;
}

}  // namespace

void ShoalFs::AddBucketConfigDir(const std::string& bucket) {
  if (s3_dir_ == 0) return;
  auto dir = control_.AddDir(s3_dir_, bucket, {});
  if (!dir.ok()) return;
  (void)control_.AddFile(*dir, "inventory.csv",
                         {.read = [this, bucket] { return InventoryCsv(bucket); }});
  (void)control_.AddFile(
      *dir, std::string(lifecycle::kLifecycleFile),
      {.read = [this, bucket] { return ReadLifecycle(bucket); },
       .replace = [this,
                   bucket](std::string_view json) { return ReplaceLifecycle(bucket, json); }});
  (void)control_.AddFile(
      *dir, std::string(crypto::kBucketEncryptionFile),
      {.read = [this, bucket] { return ReadEncryption(bucket); },
       .replace = [this,
                   bucket](std::string_view json) { return ReplaceEncryption(bucket, json); }});
  (void)control_.AddFile(*dir, "sse-c-key", {.replace = [this, bucket](std::string_view key) {
    return SetSseCKey(bucket, key);
  }});
  (void)control_.AddFile(
      *dir, "versioning",
      {.read = [this, bucket] { return ReadVersioning(bucket); },
       .replace = [this,
                   bucket](std::string_view text) { return ReplaceVersioning(bucket, text); }});
  (void)control_.AddDir(*dir, "versions", {.refresh = [this, bucket](ControlTree& tree, NodeId d) {
    RefreshVersionsDir(tree, d, bucket, "");
  }});
  (void)control_.AddFile(
      *dir, "notification.json",
      {.read = [this, bucket] { return ReadNotification(bucket); },
       .replace = [this,
                   bucket](std::string_view json) { return ReplaceNotification(bucket, json); }});
  (void)control_.AddFile(
      *dir, std::string(tiers::kItConfigurationFile),
      {.read = [this, bucket] { return ReadItConfiguration(bucket); },
       .replace =
           [this, bucket](std::string_view json) { return ReplaceItConfiguration(bucket, json); }});
}

void ShoalFs::RemoveBucketConfigDir(const std::string& bucket) {
  if (auto node = control_.Lookup(s3_dir_, bucket)) (void)control_.Remove(node->id);
}

Result<std::string> ShoalFs::InventoryCsv(const std::string& bucket) {
  std::string out =
      "Bucket,Key,VersionId,IsLatest,IsDeleteMarker,Size,LastModifiedDate,ETag,StorageClass,"
      "IntelligentTieringAccessTier,EncryptionStatus,SSEKMSKeyId,ObjectRestoreStatus\r\n";
  const TimeNs now = clock_.Now();
  Status s = meta_->View([&](Txn& txn) {
    auto id = BucketId(txn, bucket);
    if (!id.ok()) return id.status();
    // Two ordered streams merged by key: the current versions (the tree)
    // and the kept ones (newest first within a key).
    KeptVersions kept(txn, *id);
    Status k = ForEachObject(txn, *id, [&](const std::string& key, const Entry& e) {
      Status v = kept.EmitBefore(key, [&](const std::string& k2, const Entry& v2, bool latest) {
        AppendInventoryRow(out, bucket, k2, v2, latest, now);
      });
      if (!v.ok()) return v;
      AppendInventoryRow(out, bucket, key, e, /*latest=*/true, now);
      return kept.EmitKey(key, [&](const std::string& k2, const Entry& v2, bool) {
        AppendInventoryRow(out, bucket, k2, v2, /*latest=*/false, now);
      });
    });
    if (!k.ok()) return k;
    return kept.EmitBefore(std::nullopt, [&](const std::string& k2, const Entry& v2, bool latest) {
      AppendInventoryRow(out, bucket, k2, v2, latest, now);
    });
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::string> ShoalFs::ReadItConfiguration(const std::string& bucket) {
  std::optional<std::string> doc;
  Status s = meta_->View([&](Txn& txn) {
    auto id = BucketId(txn, bucket);
    if (!id.ok()) return id.status();
    auto got = txn.GetConfig(*id, tiers::kItConfigurationFile);
    if (!got.ok()) return got.status();
    doc = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return doc.value_or(std::string());
}

Status ShoalFs::ReplaceItConfiguration(const std::string& bucket, std::string_view json) {
  const bool remove = json.find_first_not_of(" \t\r\n") == std::string_view::npos;
  std::string canonical;
  if (!remove) {
    auto configs = tiers::ParseItConfigurations(json);
    if (!configs.ok()) return configs.status();
    canonical = tiers::ItConfigurationsToJson(*configs) + "\n";
  }
  return meta_->Update([&](Txn& txn) -> Status {
    auto id = BucketId(txn, bucket);
    if (!id.ok()) return id.status();
    Status s = remove ? txn.RemoveConfig(*id, tiers::kItConfigurationFile)
                      : txn.PutConfig(*id, tiers::kItConfigurationFile, canonical);
    if (!s.ok()) return s;
    // Objects whose next tier step the new opt-in changes get a due item
    // for it (stale ones are no-ops).
    return ForEachObject(txn, *id, [&](const std::string&, const Entry& e) {
      return e.kind == EntryKind::kFile ? ScheduleClassWork(txn, e) : Status::Ok();
    });
  });
}

Result<std::string> ShoalFs::ReadLifecycle(const std::string& bucket) {
  std::optional<std::string> doc;
  Status s = meta_->View([&](Txn& txn) {
    auto id = BucketId(txn, bucket);
    if (!id.ok()) return id.status();
    auto got = txn.GetConfig(*id, lifecycle::kLifecycleFile);
    if (!got.ok()) return got.status();
    doc = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return doc.value_or(std::string());
}

Status ShoalFs::ReplaceLifecycle(const std::string& bucket, std::string_view json) {
  // An empty document deletes the configuration (DeleteBucketLifecycle).
  auto parsed = lifecycle::ParseLifecycleConfiguration(json);
  if (!parsed.ok()) return parsed.status();
  std::shared_ptr<const lifecycle::LifecycleConfiguration> config;
  std::string canonical;
  if (!parsed->rules.empty()) {
    canonical = lifecycle::LifecycleConfigurationToJson(*parsed);
    config = std::make_shared<const lifecycle::LifecycleConfiguration>(std::move(*parsed));
  }
  store::EntryId bucket_id = 0;
  std::shared_ptr<const lifecycle::LifecycleConfiguration> previous;
  bool swapped = false;
  Status s = meta_->Update([&](Txn& txn) -> Status {
    auto id = BucketId(txn, bucket);
    if (!id.ok()) return id.status();
    bucket_id = *id;
    Status p = config ? txn.PutConfig(*id, lifecycle::kLifecycleFile, canonical)
                      : txn.RemoveConfig(*id, lifecycle::kLifecycleFile);
    if (!p.ok()) return p;
    // The schedule below reads the new rules. Writers are serialised, so
    // no other commit sees them before this one is decided.
    {
      MutexLock lock(lifecycle_mu_);
      if (!swapped) previous = lifecycles_.count(*id) ? lifecycles_[*id] : nullptr;
      swapped = true;
      if (config) {
        lifecycles_[*id] = config;
      } else {
        lifecycles_.erase(*id);
      }
    }
    if (!config) return Status::Ok();  // stale due items are no-ops
    // Every version gets a due item for its next action under the new rules.
    Status v = ForEachObject(txn, *id, [&](const std::string& key, const Entry& e) {
      if (e.kind != EntryKind::kFile) return Status::Ok();
      return ScheduleLifecycle(txn, ObjectKey{.bucket = *id, .key = key}, e);
    });
    if (!v.ok()) return v;
    std::optional<Txn::VersionCursor> after;
    std::string last;
    for (;;) {
      auto batch = txn.ListVersions(*id, "", after, kListBatch);
      if (!batch.ok()) return batch.status();
      for (const auto& r : *batch) {
        if (r.key == last) continue;
        last = r.key;
        Status k = ScheduleKeyVersions(txn, ObjectKey{.bucket = *id, .key = r.key});
        if (!k.ok()) return k;
      }
      if (batch->size() < kListBatch) return Status::Ok();
      after = Txn::VersionCursor{batch->back().key, batch->back().entry.id};
    }
  });
  if (!s.ok() && swapped) {
    MutexLock lock(lifecycle_mu_);
    if (previous) {
      lifecycles_[bucket_id] = previous;
    } else {
      lifecycles_.erase(bucket_id);
    }
  }
  if (s.ok() && config) {
    // Uploads already open (files being written) fall under the new rules'
    // AbortIncompleteMultipartUpload too.
    for (const auto& inode : inodes_.OpenInodes()) ScheduleUploadAbort(inode);
  }
  return s;
}

}  // namespace shoal::fs
