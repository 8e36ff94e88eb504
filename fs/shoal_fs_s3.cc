// ShoalFs: bucket configuration under MNT/.s3/<bucket>/ (DESIGN §2.3):
// inventory.csv and intelligent-tiering.json.
#include <cstdio>
#include <functional>

#include "base/coding.h"
#include "fs/object_class.h"
#include "fs/shoal_fs.h"

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

void AppendInventoryRow(std::string& out, std::string_view bucket, std::string_view key,
                        const Entry& e, TimeNs now) {
  const bool is_file = e.kind == EntryKind::kFile;
  const std::string etag = is_file ? HexEncode(e.md5) : "d41d8cd98f00b204e9800998ecf8427e";
  const std::string tier = is_file && ClassOf(e) == tiers::StorageClass::kIntelligentTiering
                               ? std::string(tiers::AccessTierName(TierOf(e)))
                               : std::string();
  const std::string fields[] = {
      std::string(bucket),
      std::string(key),
      e.version_id == "null" ? std::string() : e.version_id,
      "true",
      "false",
      std::to_string(is_file ? e.size : 0),
      InventoryDate(e.created),
      etag,
      is_file ? e.storage_class : std::string("STANDARD"),
      tier,
      std::string(EncryptionStatus(e)),
      std::string(),
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
    return ForEachObject(txn, *id, [&](const std::string& key, const Entry& e) {
      AppendInventoryRow(out, bucket, key, e, now);
      return Status::Ok();
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

}  // namespace shoal::fs
