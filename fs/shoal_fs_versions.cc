// ShoalFs: S3 versioning (DESIGN §2.3). `.s3/<bucket>/versioning` turns it
// on (Enabled) or pauses it (Suspended); with it, a PUT over an object keeps
// the replaced version as noncurrent, a DELETE adds a delete marker, and
// `.s3/<bucket>/versions/` shows every version to list, copy out or delete.
//
// The current version of a key stays the entry in the tree, so reads,
// listings and writes through the mount cost what they cost without
// versioning; only the versions a PUT or DELETE displaces go to the
// "versions" table.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "base/coding.h"
#include "fs/object_class.h"
#include "fs/object_content.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;

namespace {

constexpr std::string_view kVersioningFile = "versioning";
constexpr std::string_view kNullVersion = "null";
constexpr std::size_t kVersionBatch = 256;
constexpr std::size_t kVersionIdLength = 32;
// Between a name and its version id in versions/ ("a.txt@3sL4kq...").
// Version ids never contain it, so the last one splits the name.
constexpr char kVersionSeparator = '@';

// S3's version ids are opaque URL-safe strings; these are 32 characters
// from a 64-letter alphabet (192 random bits), unique in practice.
std::string NewVersionId() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(kVersionIdLength, '\0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i % 10 == 0) bits = rng();
    out[i] = kAlphabet[bits & 63];
    bits >>= 6;
  }
  return out;
}

std::string_view Trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

Status MalformedVersioning() {
  return {Code::kMalformedXml,
          "The XML you provided was not well-formed or did not validate against our published "
          "schema (versioning takes Enabled or Suspended)"};
}

// Removes the empty directories above `key` that no marker keeps
// (marker == false: implied by the keys below them), deepest first, once
// the key has no current version; `removed` gets each, with its parent.
Status PruneImpliedDirs(Txn& txn, store::EntryId bucket, std::string_view key,
                        std::vector<std::pair<store::EntryId, Entry>>& removed,
                        std::vector<std::string>& names) {
  std::vector<std::pair<store::EntryId, Entry>> chain;  // (parent, dir), outermost first
  std::vector<std::string> chain_names;
  store::EntryId dir = bucket;
  std::size_t start = 0;
  for (std::size_t slash = key.find('/'); slash != std::string_view::npos;
       slash = key.find('/', start)) {
    const std::string_view name = key.substr(start, slash - start);
    auto e = txn.Get(dir, name, true);
    if (!e.ok()) return e.status();
    if (!*e) break;
    chain.emplace_back(dir, **e);
    chain_names.emplace_back(name);
    dir = (*e)->id;
    start = slash + 1;
  }
  for (std::size_t i = chain.size(); i-- > 0;) {
    const Entry& d = chain[i].second;
    if (d.marker) return Status::Ok();
    auto empty = txn.IsEmpty(d.id);
    if (!empty.ok()) return empty.status();
    if (!*empty) return Status::Ok();
    Status r = txn.Remove(chain[i].first, chain_names[i], true);
    if (!r.ok()) return r;
    removed.push_back(chain[i]);
    names.push_back(chain_names[i]);
  }
  return Status::Ok();
}

}  // namespace

Result<ShoalFs::Versioning> ShoalFs::VersioningOf(Txn& txn, store::EntryId bucket) {
  auto doc = txn.GetConfig(bucket, kVersioningFile);
  if (!doc.ok()) return doc.status();
  if (!*doc) return Versioning::kUnversioned;
  return **doc == "Enabled" ? Versioning::kEnabled : Versioning::kSuspended;
}

Status ShoalFs::DropNullVersion(Txn& txn, const ObjectKey& key, std::vector<Entry>& dropped) {
  auto versions = KeptVersionsOf(txn, key);
  if (!versions.ok()) return versions.status();
  for (const auto& r : *versions) {
    if (r.entry.version_id != kNullVersion) continue;
    Status s = txn.RemoveVersion(key.bucket, key.key, r.entry.id);
    if (s.ok()) s = txn.RemoveContent(r.entry.id);
    if (!s.ok()) return s;
    dropped.push_back(r.entry);
    return Status::Ok();  // a key has at most one null version
  }
  return Status::Ok();
}

Result<std::string> ShoalFs::ClaimVersionId(Txn& txn, const ObjectKey& key, TimeNs now,
                                            std::vector<Entry>& dropped) {
  auto state = VersioningOf(txn, key.bucket);
  if (!state.ok()) return state.status();
  if (*state == Versioning::kUnversioned) return std::string(kNullVersion);
  // A delete marker that was the latest version is noncurrent from now.
  auto newest = txn.ListVersions(key.bucket, key.key, std::nullopt, 1);
  if (!newest.ok()) return newest.status();
  if (!newest->empty() && newest->front().key == key.key) {
    Entry& latest = newest->front().entry;
    if (latest.delete_marker && latest.noncurrent_since == 0) {
      latest.noncurrent_since = now;
      Status s = txn.PutVersion(key.bucket, key.key, latest);
      if (!s.ok()) return s;
    }
  }
  if (*state == Versioning::kEnabled) return NewVersionId();
  Status s = DropNullVersion(txn, key, dropped);
  if (!s.ok()) return s;
  return std::string(kNullVersion);
}

Result<bool> ShoalFs::KeepNoncurrent(Txn& txn, const ObjectKey& key, const Entry& current,
                                     TimeNs now) {
  if (current.kind != EntryKind::kFile) return false;
  auto state = VersioningOf(txn, key.bucket);
  if (!state.ok()) return state.status();
  if (*state == Versioning::kUnversioned) return false;
  if (*state == Versioning::kSuspended && current.version_id == kNullVersion) return false;
  auto id = txn.NewId();
  if (!id.ok()) return id.status();
  Entry kept = current;
  kept.id = *id;
  kept.noncurrent_since = now;
  auto content = txn.GetContent(current.id);
  if (!content.ok()) return content.status();
  if (*content) {
    Status s = txn.PutContent(kept.id, **content);
    if (s.ok()) s = txn.RemoveContent(current.id);
    if (!s.ok()) return s;
  }
  Status s = txn.PutVersion(key.bucket, key.key, kept);
  if (!s.ok()) return s;
  return true;
}

Status ShoalFs::AddDeleteMarker(Txn& txn, const ObjectKey& key, TimeNs now,
                                std::vector<Entry>& dropped, std::string* marker_version) {
  auto state = VersioningOf(txn, key.bucket);
  if (!state.ok()) return state.status();
  if (*state == Versioning::kUnversioned) return Status::Ok();
  if (*state == Versioning::kSuspended) {
    Status s = DropNullVersion(txn, key, dropped);
    if (!s.ok()) return s;
  }
  auto id = txn.NewId();
  if (!id.ok()) return id.status();
  Entry marker;
  marker.id = *id;
  marker.kind = EntryKind::kFile;
  marker.delete_marker = true;
  marker.uid = owner_uid_;
  marker.gid = owner_gid_;
  marker.mtime = marker.ctime = marker.created = marker.class_since = now;
  marker.version_id = *state == Versioning::kEnabled ? NewVersionId() : std::string(kNullVersion);
  if (marker_version != nullptr) *marker_version = marker.version_id;
  return txn.PutVersion(key.bucket, key.key, marker);
}

void ShoalFs::FreeDropped(const std::vector<Entry>& dropped, TimeNs now) {
  for (const Entry& e : dropped) {
    if (e.delete_marker) continue;
    Bill(&e, nullptr, now);
    if (!e.blob_id.empty()) RemoveBlobAfterSync(e.blob_id);
  }
}

Result<std::string> ShoalFs::ReadVersioning(const std::string& bucket) {
  std::optional<std::string> doc;
  Status s = meta_->View([&](Txn& txn) {
    auto id = txn.Get(store::kRootId, bucket, true);
    if (!id.ok()) return id.status();
    if (!*id) return Status(Code::kNoSuchBucket, "The specified bucket does not exist");
    auto got = txn.GetConfig((*id)->id, kVersioningFile);
    if (!got.ok()) return got.status();
    doc = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return doc ? *doc + "\n" : std::string();
}

Status ShoalFs::ReplaceVersioning(const std::string& bucket, std::string_view text) {
  const std::string_view status = Trimmed(text);
  if (status != "Enabled" && status != "Suspended") return MalformedVersioning();
  return meta_->Update([&](Txn& txn) -> Status {
    auto id = txn.Get(store::kRootId, bucket, true);
    if (!id.ok()) return id.status();
    if (!*id) return Status(Code::kNoSuchBucket, "The specified bucket does not exist");
    return txn.PutConfig((*id)->id, kVersioningFile, status);
  });
}

void ShoalFs::RefreshVersionsDir(ControlTree& tree, NodeId dir, const std::string& bucket,
                                 const std::string& prefix) {
  // What the directory should hold: subdirectories, and one file per
  // version (the current one first, then the kept ones, newest first).
  struct Wanted {
    bool is_dir = false;
    std::string key;
    Entry version;
    bool latest = false;
  };
  std::map<std::string, Wanted> wanted;
  auto add_version = [&](const std::string& key, const Entry& v, bool latest) {
    std::string name = std::string(BaseNameOf(key)) + kVersionSeparator + v.version_id;
    wanted.emplace(std::move(name),
                   Wanted{.is_dir = false, .key = key, .version = v, .latest = latest});
  };
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto b = txn.Get(store::kRootId, bucket, true);
    if (!b.ok()) return b.status();
    if (!*b) return Status::Ok();
    const store::EntryId bucket_id = (*b)->id;
    // Current versions: the tree's directory for `prefix`, if it exists.
    std::set<std::string> current_keys;
    auto parent = ExistingDirOf(txn, bucket_id, prefix);
    if (!parent.ok()) return parent.status();
    if (*parent) {
      std::optional<Txn::Cursor> after;
      for (;;) {
        auto batch = txn.List(**parent, after, kVersionBatch);
        if (!batch.ok()) return batch.status();
        for (const auto& c : *batch) {
          if (c.damaged) continue;
          if (c.entry.is_dir()) {
            wanted.emplace(c.name, Wanted{.is_dir = true});
          } else if (c.entry.kind == EntryKind::kFile) {
            add_version(prefix + c.name, c.entry, /*latest=*/true);
            current_keys.insert(prefix + c.name);
          }
        }
        if (batch->size() < kVersionBatch) break;
        after = Txn::Cursor{batch->back().name, batch->back().entry.is_dir()};
      }
    }
    // Kept versions: one level below `prefix`, seeking past deeper keys.
    std::optional<Txn::VersionCursor> after;
    std::string last_key;
    for (;;) {
      auto batch = txn.ListVersions(bucket_id, prefix, after, kVersionBatch);
      if (!batch.ok()) return batch.status();
      if (batch->empty()) break;
      bool seeked = false;
      for (const auto& r : *batch) {
        const std::string_view rest = std::string_view(r.key).substr(prefix.size());
        const auto slash = rest.find('/');
        if (slash != std::string_view::npos) {
          const std::string sub(rest.substr(0, slash));
          wanted.emplace(sub, Wanted{.is_dir = true});
          // '0' follows '/': the first key after every key under sub/.
          after = Txn::VersionCursor{prefix + sub + '0', UINT64_MAX};
          seeked = true;
          break;
        }
        const bool latest = r.key != last_key && current_keys.count(r.key) == 0;
        last_key = r.key;
        add_version(r.key, r.entry, latest);
      }
      if (!seeked) {
        if (batch->size() < kVersionBatch) break;
        after = Txn::VersionCursor{batch->back().key, batch->back().entry.id};
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    errors_.Record(".s3/" + bucket + "/versions/" + prefix, s);
    return;
  }
  // The file each version wanted shows as.
  auto file_of = [&](const Wanted& w) {
    const Entry& v = w.version;
    const std::string vid = v.version_id;
    const std::string key = w.key;
    ControlFile file{.read = [this, bucket, key, vid] { return ReadVersion(bucket, key, vid); },
                     .unlink = [this, bucket, key, vid] { return DeleteVersion(bucket, key, vid); },
                     .size = v.size,
                     .mtime = v.created,
                     .xattrs = {{"user.s3.version_id", vid},
                                {"user.s3.delete_marker", v.delete_marker ? "true" : "false"},
                                {"user.s3.is_latest", w.latest ? "true" : "false"}}};
    if (!v.delete_marker) {
      file.xattrs.emplace_back("user.s3.etag", "\"" + HexEncode(v.md5) + "\"");
      file.xattrs.emplace_back("user.s3.storage_class", v.storage_class);
    }
    return file;
  };
  // Nodes that still show what they should keep their ids; the rest are
  // replaced.
  std::map<std::string, ControlFile> files;
  for (auto& [name, w] : wanted) {
    if (!w.is_dir) files.emplace(name, file_of(w));
  }
  for (const auto& node : tree.List(dir)) {
    auto it = wanted.find(node->name);
    bool keep = it != wanted.end() && it->second.is_dir == node->is_dir;
    if (keep && !node->is_dir) {
      const ControlFile& want = files.at(node->name);
      keep = node->file.size == want.size && node->file.mtime == want.mtime &&
             node->file.xattrs == want.xattrs;
    }
    if (keep) {
      files.erase(node->name);
      wanted.erase(it);
    } else {
      (void)tree.Remove(node->id);
    }
  }
  for (auto& [name, w] : wanted) {
    if (!w.is_dir) {
      (void)tree.AddFile(dir, name, std::move(files.at(name)));
      continue;
    }
    const std::string sub = prefix + name + "/";
    (void)tree.AddDir(dir, name, {.refresh = [this, bucket, sub](ControlTree& t, NodeId d) {
                        RefreshVersionsDir(t, d, bucket, sub);
                      }});
  }
}

Result<std::string> ShoalFs::ReadVersion(const std::string& bucket, const std::string& key,
                                         const std::string& version_id) {
  std::optional<Entry> found;
  std::optional<std::string> image;  // inline content, from the same snapshot
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto b = txn.Get(store::kRootId, bucket, true);
    if (!b.ok()) return b.status();
    if (!*b) return Status(Code::kNoSuchBucket, "The specified bucket does not exist");
    auto parent = ExistingDirOf(txn, (*b)->id, key);
    if (!parent.ok()) return parent.status();
    if (*parent) {
      auto cur = txn.Get(**parent, BaseNameOf(key), false);
      if (!cur.ok()) return cur.status();
      if (*cur && (*cur)->version_id == version_id) found = std::move(**cur);
    }
    if (!found) {
      auto versions = KeptVersionsOf(txn, ObjectKey{.bucket = (*b)->id, .key = key});
      if (!versions.ok()) return versions.status();
      for (auto& r : *versions) {
        if (r.entry.version_id == version_id) {
          found = std::move(r.entry);
          break;
        }
      }
    }
    if (found && found->blob_id.empty() && found->size > 0) {
      auto got = txn.GetContent(found->id);
      if (!got.ok()) return got.status();
      image = std::move(*got);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!found) return Status(Code::kNoSuchVersion, "The specified version does not exist.");
  if (found->delete_marker) {
    return Status(Code::kNoSuchKey,
                  "The version is a delete marker (S3: MethodNotAllowed); it has no content");
  }
  const TimeNs now = clock_.Now();
  if (NeedsRestore(*found, now)) return ArchivedError(*found);
  std::string out;
  if (found->size > 0) {
    const ObjectKey object{.key = std::string(key), .bucket_name = std::string(bucket)};
    auto reader = OpenObjectContent(*meta_, *blobs_, *content_keys_, object, *found, now,
                                    RequestUid(), std::move(image));
    if (!reader.ok()) return reader.status();
    out.resize(static_cast<std::size_t>(found->size));
    std::size_t done = 0;
    while (done < out.size()) {
      auto n = (*reader)->Read(done, out.data() + done, out.size() - done);
      if (!n.ok()) return n.status();
      if (*n == 0) return Corrupt("a version's content is shorter than its size");
      done += *n;
    }
  }
  const tiers::StorageClass cls = ClassOf(*found);
  meter_->Request(tiers::RequestKind::kGet, cls, now);
  if (tiers::InfoOf(cls).retrieval_fee) meter_->Retrieval(cls, found->size);
  return out;
}

Status ShoalFs::DeleteVersion(const std::string& bucket, const std::string& key,
                              const std::string& version_id) {
  const TimeNs now = clock_.Now();
  std::vector<Entry> dropped;
  std::optional<Entry> removed_current;
  std::optional<Entry> promoted;
  store::EntryId parent_dir = 0;
  std::vector<std::pair<store::EntryId, Entry>> pruned;  // (parent, directory)
  std::vector<std::string> pruned_names;
  store::EntryId deleted_from = 0;  // the bucket's id
  Status s = meta_->Update(
      [&](Txn& txn) -> Status {
        dropped.clear();
        removed_current.reset();
        promoted.reset();
        pruned.clear();
        pruned_names.clear();
        auto b = txn.Get(store::kRootId, bucket, true);
        if (!b.ok()) return b.status();
        if (!*b) return Status(Code::kNoSuchBucket, "The specified bucket does not exist");
        const store::EntryId bucket_id = (*b)->id;
        deleted_from = bucket_id;
        auto parent = ExistingDirOf(txn, bucket_id, key);
        if (!parent.ok()) return parent.status();
        std::optional<Entry> current;
        if (*parent) {
          auto cur = txn.Get(**parent, BaseNameOf(key), false);
          if (!cur.ok()) return cur.status();
          if (*cur && (*cur)->kind == EntryKind::kFile) current = std::move(**cur);
        }
        auto versions = KeptVersionsOf(txn, ObjectKey{.bucket = bucket_id, .key = key});
        if (!versions.ok()) return versions.status();
        bool was_latest = false;
        if (current && current->version_id == version_id) {
          Status r = txn.Remove(**parent, BaseNameOf(key), false);
          if (r.ok()) r = txn.RemoveContent(current->id);
          if (!r.ok()) return r;
          removed_current.swap(current);  // `current` is now empty: none is left
          parent_dir = **parent;
          was_latest = true;
        } else {
          auto it = std::find_if(versions->begin(), versions->end(),
                                 [&](const auto& r) { return r.entry.version_id == version_id; });
          if (it == versions->end()) {
            return Status(Code::kNoSuchVersion, "The specified version does not exist.");
          }
          was_latest = !current && it == versions->begin();
          Status r = txn.RemoveVersion(bucket_id, key, it->entry.id);
          if (r.ok()) r = txn.RemoveContent(it->entry.id);
          if (!r.ok()) return r;
          dropped.push_back(it->entry);
          versions->erase(it);
        }
        // The latest version went: the next newest becomes current again,
        // unless it is a delete marker (then the key stays deleted). The
        // remaining versions' lifecycle facts changed either way.
        const ObjectKey object{.bucket = bucket_id, .key = key};
        if (!was_latest || versions->empty() || versions->front().entry.delete_marker) {
          if (!current) {
            // No current version is left: directories only it implied go.
            Status p = PruneImpliedDirs(txn, bucket_id, key, pruned, pruned_names);
            if (!p.ok()) return p;
          }
          return ScheduleKeyVersions(txn, object);
        }
        if (!*parent) {
          // Its directories went with the keys below them: imply them again.
          store::EntryId dir = bucket_id;
          std::size_t start = 0;
          for (std::size_t slash = key.find('/'); slash != std::string::npos;
               slash = key.find('/', start)) {
            const std::string_view name = std::string_view(key).substr(start, slash - start);
            auto e = txn.Get(dir, name, true);
            if (!e.ok()) return e.status();
            if (*e) {
              dir = (*e)->id;
            } else {
              auto id = txn.NewId();
              if (!id.ok()) return id.status();
              Entry d;
              d.id = *id;
              d.kind = EntryKind::kDirectory;
              d.marker = false;
              d.mode = 0755;
              d.uid = owner_uid_;
              d.gid = owner_gid_;
              d.mtime = d.ctime = d.created = now;
              Status p = txn.Put(dir, name, d);
              if (!p.ok()) return p;
              dir = d.id;
            }
            start = slash + 1;
          }
          parent = std::optional<store::EntryId>(dir);
        }
        Entry next = versions->front().entry;
        Status r = txn.RemoveVersion(bucket_id, key, next.id);
        if (!r.ok()) return r;
        // In the way (a file of that name appeared meanwhile): keep it.
        auto occupied = txn.Lookup(**parent, BaseNameOf(key));
        if (!occupied.ok()) return occupied.status();
        if (*occupied) return Status(Code::kAlreadyExists, "a file of that name is in the way");
        next.noncurrent_since = 0;
        r = txn.Put(**parent, BaseNameOf(key), next);
        if (!r.ok()) return r;
        promoted = next;
        parent_dir = **parent;
        r = ScheduleClassWork(txn, next, &object);
        if (!r.ok()) return r;
        return ScheduleKeyVersions(txn, object);
      },
      [&] {
        if (removed_current) {
          Detach(*removed_current);
          Bill(&*removed_current, nullptr, now);
        }
        for (const auto& [parent, d] : pruned) Detach(d);
        // A promoted version stays billed as it was while kept.
      });
  if (!s.ok()) return s;
  if (removed_current) {
    if (!removed_current->blob_id.empty()) RemoveBlobAfterSync(removed_current->blob_id);
  }
  if (removed_current || promoted) InvalidateEntry(parent_dir, BaseNameOf(key));
  for (std::size_t i = 0; i < pruned.size(); ++i) InvalidateEntry(pruned[i].first, pruned_names[i]);
  FreeDropped(dropped, now);
  // DeleteObject with a versionId: a Delete event, whatever the version was.
  const store::Entry removed = VersionOnly(version_id);
  NotifyS3({.bucket = deleted_from, .key = key}, "ObjectRemoved:Delete", &removed, now);
  return Status::Ok();
}

}  // namespace shoal::fs
