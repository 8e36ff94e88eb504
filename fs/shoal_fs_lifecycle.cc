// ShoalFs: lifecycle rules (DESIGN §2.2, §2.3 lifecycle.json) applied as
// the simulated clock passes them. Each object version has at most one
// lifecycle due item, for its next action (lifecycle/lifecycle_eval.h);
// running it re-evaluates the rules, applies the action if it is still due,
// and schedules the next. Stale items (rules or objects changed since) are
// no-ops, so nothing ever has to find and remove them.
#include "fs/object_class.h"
#include "fs/object_key.h"
#include "fs/object_tagging.h"
#include "fs/shoal_fs.h"
#include "lifecycle/lifecycle_eval.h"

namespace shoal::fs {

using lifecycle::Action;
using lifecycle::ActionKind;
using lifecycle::LifecycleConfiguration;
using lifecycle::VersionFacts;
using store::Entry;
using store::EntryKind;
using store::Txn;

namespace {

constexpr std::size_t kBucketBatch = 256;
constexpr std::string_view kTaggingXattr = "user.s3.tagging";

std::vector<lifecycle::Tag> TagsOf(const Entry& e) {
  for (const auto& [name, value] : e.xattrs) {
    if (name != kTaggingXattr) continue;
    auto tags = ParseTagging(value);
    if (tags.ok()) return std::move(*tags);
  }
  return {};
}

// The facts of current version `e` of `key`; `versioned`: an expiration
// adds a delete marker instead of deleting.
VersionFacts CurrentFacts(std::string_view key, const Entry& e,
                          const std::vector<lifecycle::Tag>& tags, bool versioned) {
  VersionFacts f;
  f.key = key;
  f.size = e.size;
  f.tags = &tags;
  f.storage_class = ClassOf(e);
  f.created = e.created;
  f.versioned_bucket = versioned;
  return f;
}

// The facts of kept version `records[i]` of a key.
VersionFacts KeptFacts(const std::string& key, const std::vector<store::VersionRecord>& records,
                       std::size_t i, bool has_current, const std::vector<lifecycle::Tag>& tags) {
  const Entry& v = records[i].entry;
  VersionFacts f;
  f.key = key;
  f.size = v.size;
  f.tags = &tags;
  f.storage_class = ClassOf(v);
  f.created = v.created;
  f.is_delete_marker = v.delete_marker;
  f.is_current = !has_current && i == 0;
  f.noncurrent_since = v.noncurrent_since != 0 ? v.noncurrent_since : v.created;
  f.has_noncurrent_versions = records.size() > 1;
  f.versioned_bucket = true;
  for (std::size_t j = 0; j < i; ++j) {
    if (!records[j].entry.delete_marker) ++f.newer_noncurrent;
  }
  return f;
}

}  // namespace

bool ShoalFs::ExpiresToMarker(Versioning state, const Entry& current) {
  return state == Versioning::kEnabled ||
         (state == Versioning::kSuspended && current.version_id != "null");
}

std::shared_ptr<const LifecycleConfiguration> ShoalFs::LifecycleOf(store::EntryId bucket) {
  MutexLock lock(lifecycle_mu_);
  auto it = lifecycles_.find(bucket);
  return it == lifecycles_.end() ? nullptr : it->second;
}

Status ShoalFs::LoadLifecycles() {
  std::map<store::EntryId, std::shared_ptr<const LifecycleConfiguration>> loaded;
  Status s = meta_->View([&](Txn& txn) -> Status {
    std::optional<Txn::Cursor> after;
    for (;;) {
      auto buckets = txn.List(store::kRootId, after, kBucketBatch);
      if (!buckets.ok()) return buckets.status();
      for (const auto& b : *buckets) {
        if (b.damaged) continue;
        auto doc = txn.GetConfig(b.entry.id, lifecycle::kLifecycleFile);
        if (!doc.ok()) return doc.status();
        if (!*doc) continue;
        auto config = lifecycle::ParseLifecycleConfiguration(**doc);
        if (!config.ok()) {
          // Stored only after validation: damage. The rules stop applying
          // (nothing is deleted by a rule that cannot be read).
          errors_.Record(".s3/" + b.name + "/" + std::string(lifecycle::kLifecycleFile),
                         config.status());
          continue;
        }
        loaded.emplace(b.entry.id,
                       std::make_shared<const LifecycleConfiguration>(std::move(*config)));
      }
      if (buckets->size() < kBucketBatch) return Status::Ok();
      after = Txn::Cursor{buckets->back().name, buckets->back().entry.is_dir()};
    }
  });
  if (!s.ok()) return s;
  MutexLock lock(lifecycle_mu_);
  lifecycles_ = std::move(loaded);
  return Status::Ok();
}

Status ShoalFs::ScheduleLifecycleOf(Txn& txn, const Entry& e, const ObjectKey* known) {
  if (e.kind != EntryKind::kFile) return Status::Ok();
  if (known != nullptr) return ScheduleLifecycle(txn, *known, e);
  {
    MutexLock lock(lifecycle_mu_);
    if (lifecycles_.empty()) return Status::Ok();
  }
  auto key = KeyOf(txn, e.id);
  if (!key.ok()) return key.status();
  return ScheduleLifecycle(txn, *key, e);
}

Status ShoalFs::ScheduleLifecycle(Txn& txn, const ObjectKey& key, const Entry& e) {
  if (e.kind != EntryKind::kFile) return Status::Ok();
  auto config = LifecycleOf(key.bucket);
  if (!config) return Status::Ok();
  auto state = VersioningOf(txn, key.bucket);
  if (!state.ok()) return state.status();
  const std::vector<lifecycle::Tag> tags = TagsOf(e);
  auto action =
      lifecycle::NextAction(*config, CurrentFacts(key.key, e, tags, ExpiresToMarker(*state, e)));
  if (!action) return Status::Ok();
  return txn.AddDue(
      {.at = action->due, .id = e.id, .kind = static_cast<std::uint8_t>(DueKind::kLifecycle)});
}

Status ShoalFs::ScheduleKeyVersions(Txn& txn, const ObjectKey& key) {
  auto config = LifecycleOf(key.bucket);
  if (!config) return Status::Ok();
  auto records = KeptVersionsOf(txn, key);
  if (!records.ok()) return records.status();
  if (records->empty()) return Status::Ok();
  auto current = CurrentObjectOf(txn, key);
  if (!current.ok()) return current.status();
  for (std::size_t i = 0; i < records->size(); ++i) {
    const std::vector<lifecycle::Tag> tags = TagsOf((*records)[i].entry);
    auto action =
        lifecycle::NextAction(*config, KeptFacts(key.key, *records, i, current->has_value(), tags));
    if (!action) continue;
    Status s = txn.AddDue({.at = action->due,
                           .id = (*records)[i].entry.id,
                           .kind = static_cast<std::uint8_t>(DueKind::kVersionLifecycle)});
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ShoalFs::RunLifecycleIn(Txn& txn, const store::DueItem& item,
                               std::vector<DueChange>& changes) {
  Status r = txn.RemoveDue(item);
  if (!r.ok()) return r;
  auto found = FileById(txn, item.id);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Ok();  // gone since
  const store::Location where = (*found)->where;
  const Entry e = std::move((*found)->entry);
  auto key = KeyOf(txn, e.id);
  if (!key.ok()) return key.status();
  auto config = LifecycleOf(key->bucket);
  if (!config) return Status::Ok();
  auto state = VersioningOf(txn, key->bucket);
  if (!state.ok()) return state.status();
  const std::vector<lifecycle::Tag> tags = TagsOf(e);
  auto action =
      lifecycle::NextAction(*config, CurrentFacts(key->key, e, tags, ExpiresToMarker(*state, e)));
  if (!action) return Status::Ok();
  if (action->due > item.at) {  // rules or object changed since: not yet
    return txn.AddDue({.at = action->due, .id = e.id, .kind = item.kind});
  }
  switch (action->kind) {
    case ActionKind::kTransition: {
      // The class (and with it billing, minimum durations and archive
      // reads) changes; LastModified does not, as on S3.
      Entry after = e;
      EnterClass(after, action->to, item.at);
      r = txn.Put(where.parent, where.name, after);
      if (!r.ok()) return r;
      changes.push_back({.before = e, .after = after, .at = item.at, .transition = action->to});
      if (any_notifications_) SetTransitionEvent(changes.back(), *key, after, action->to);
      return ScheduleClassWork(txn, after, &*key);
    }
    case ActionKind::kExpire: {
      // Unversioned: deleted. Versioned: a delete marker goes on top and
      // the object stays as a noncurrent version.
      auto kept = KeepNoncurrent(txn, *key, e, item.at);
      if (!kept.ok()) return kept.status();
      r = txn.Remove(where.parent, where.name, false);
      if (r.ok() && !*kept) r = txn.RemoveContent(e.id);
      std::vector<Entry> dropped;
      std::string marker;
      if (r.ok()) r = AddDeleteMarker(txn, *key, item.at, dropped, &marker);
      if (!r.ok()) return r;
      changes.push_back({.before = e,
                         .after = *kept ? std::optional<Entry>(e) : std::nullopt,
                         .at = item.at,
                         .left_tree = true,
                         .parent = where.parent,
                         .name = where.name});
      if (any_notifications_) {
        DueChange& c = changes.back();
        c.event_key = *key;
        c.event_name = marker.empty() ? "LifecycleExpiration:Delete"
                                      : "LifecycleExpiration:DeleteMarkerCreated";
        if (!marker.empty()) c.event_entry = VersionOnly(marker);
      }
      for (Entry& d : dropped) {
        changes.push_back({.before = std::move(d), .after = std::nullopt, .at = item.at});
      }
      return ScheduleKeyVersions(txn, *key);
    }
    default: return Status::Ok();  // not an action on a current object
  }
}

Status ShoalFs::RunVersionLifecycleIn(Txn& txn, const store::DueItem& item,
                                      std::vector<DueChange>& changes) {
  Status r = txn.RemoveDue(item);
  if (!r.ok()) return r;
  auto where = txn.LocateVersion(item.id);
  if (!where.ok()) return where.status();
  if (!*where) return Status::Ok();  // gone since
  const ObjectKey key{.bucket = (*where)->bucket, .key = (*where)->key};
  auto config = LifecycleOf(key.bucket);
  if (!config) return Status::Ok();
  auto records = KeptVersionsOf(txn, key);
  if (!records.ok()) return records.status();
  auto current = CurrentObjectOf(txn, key);
  if (!current.ok()) return current.status();
  std::size_t i = 0;
  while (i < records->size() && (*records)[i].entry.id != item.id) ++i;
  if (i == records->size()) return Status::Ok();
  const Entry v = (*records)[i].entry;
  const std::vector<lifecycle::Tag> tags = TagsOf(v);
  auto action =
      lifecycle::NextAction(*config, KeptFacts(key.key, *records, i, current->has_value(), tags));
  if (!action) return Status::Ok();
  if (action->due > item.at) return txn.AddDue({.at = action->due, .id = v.id, .kind = item.kind});
  switch (action->kind) {
    case ActionKind::kNoncurrentTransition: {
      Entry after = v;
      EnterClass(after, action->to, item.at);
      r = txn.PutVersion(key.bucket, key.key, after);
      if (!r.ok()) return r;
      changes.push_back({.before = v, .after = after, .at = item.at, .transition = action->to});
      if (any_notifications_) SetTransitionEvent(changes.back(), key, after, action->to);
      break;
    }
    case ActionKind::kNoncurrentExpire:
    case ActionKind::kRemoveExpiredDeleteMarker: {
      r = txn.RemoveVersion(key.bucket, key.key, v.id);
      if (r.ok()) r = txn.RemoveContent(v.id);
      if (!r.ok()) return r;
      changes.push_back({.before = v, .after = std::nullopt, .at = item.at});
      if (any_notifications_) {
        changes.back().event_key = key;
        changes.back().event_name = "LifecycleExpiration:Delete";
        changes.back().event_entry = VersionOnly(v.version_id);
      }
      break;
    }
    default: return Status::Ok();  // not an action on a kept version
  }
  // The other versions' facts may have changed (fewer newer versions, a
  // delete marker now alone).
  return ScheduleKeyVersions(txn, key);
}

void ShoalFs::ScheduleUploadAbort(const std::shared_ptr<Inode>& inode) {
  TimeNs started = 0;
  {
    MutexLock lock(inode->content_mu);
    if (!inode->staging) return;
    started = inode->upload_started;
  }
  {
    MutexLock lock(lifecycle_mu_);
    if (lifecycles_.empty()) return;
  }
  // Read first: a write transaction only when a rule sets a deadline (the
  // item is the same for every writer of one upload, so adding it again
  // is harmless).
  std::optional<TimeNs> at;
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto key = KeyOf(txn, inode->ino);
    if (!key.ok()) return key.status();
    auto config = LifecycleOf(key->bucket);
    if (!config) return Status::Ok();
    if (auto deadline = lifecycle::AbortDeadline(*config, key->key, started)) at = deadline->at;
    return Status::Ok();
  });
  if (s.ok() && at) {
    s = meta_->Update([&](Txn& txn) {
      return txn.AddDue(
          {.at = *at, .id = inode->ino, .kind = static_cast<std::uint8_t>(DueKind::kAbortUpload)});
    });
  }
  if (!s.ok()) {
    errors_.Record("(scheduling the upload abort of entry " + std::to_string(inode->ino) + ")", s);
  }
}

Status ShoalFs::RunUploadAbortIn(Txn& txn, const store::DueItem& item) {
  Status r = txn.RemoveDue(item);
  if (!r.ok()) return r;
  auto inode = inodes_.Find(item.id);
  if (!inode) return Status::Ok();  // nothing open
  TimeNs started = 0;
  {
    MutexLock lock(inode->content_mu);
    if (!inode->staging || inode->upload_aborted) return Status::Ok();
    started = inode->upload_started;
  }
  auto key = KeyOf(txn, item.id);
  if (!key.ok()) return key.status().code() == Code::kNoSuchKey ? Status::Ok() : key.status();
  auto config = LifecycleOf(key->bucket);
  if (!config) return Status::Ok();
  auto deadline = lifecycle::AbortDeadline(*config, key->key, started);
  if (!deadline || deadline->at > item.at) return Status::Ok();  // a later upload, or new rules
  {
    MutexLock lock(inode->content_mu);
    if (!inode->staging || inode->upload_started != started) return Status::Ok();
    inode->upload_aborted = true;
  }
  errors_.Record("/" + key->key,
                 Status(Code::kNoSuchUpload,
                        "lifecycle rule " + QuoteForMessage(deadline->rule_id) +
                            " aborted the incomplete upload started " + FormatIso8601(started)));
  return Status::Ok();
}

Result<std::string> ShoalFs::ExpirationOf(Ino ino, const Entry& e) {
  {
    MutexLock lock(lifecycle_mu_);
    if (lifecycles_.empty()) {
      return Status(Code::kNoSuchAttribute, "no lifecycle rule expires this object");
    }
  }
  std::optional<std::string> header;
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto key = KeyOf(txn, ino);
    if (!key.ok()) return key.status();
    auto config = LifecycleOf(key->bucket);
    if (!config) return Status::Ok();
    const std::vector<lifecycle::Tag> tags = TagsOf(e);
    header = lifecycle::ExpirationHeader(*config, CurrentFacts(key->key, e, tags, false));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!header) return Status(Code::kNoSuchAttribute, "no lifecycle rule expires this object");
  return *header;
}

}  // namespace shoal::fs
