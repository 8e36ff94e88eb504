#include "fs/object_key.h"

#include <vector>

namespace shoal::fs {

namespace {
// Deeper than any key of 1024 bytes can nest.
constexpr int kMaxDepth = 1024;
}  // namespace

Result<ObjectKey> KeyOf(store::Txn& txn, store::EntryId id) {
  std::vector<std::string> names;
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    auto where = txn.Locate(id);
    if (!where.ok()) return where.status();
    if (!*where) return NoSuchKey("entry " + std::to_string(id) + " has no location");
    if ((*where)->parent == store::kRootId) {
      ObjectKey out{.bucket = id, .key = {}, .bucket_name = std::move((*where)->name)};
      for (auto it = names.rbegin(); it != names.rend(); ++it) {
        if (!out.key.empty()) out.key += '/';
        out.key += *it;
      }
      return out;
    }
    names.push_back(std::move((*where)->name));
    id = (*where)->parent;
  }
  return Corrupt("entry locations form a loop");
}

Result<std::optional<LocatedFile>> FileById(store::Txn& txn, store::EntryId id) {
  auto where = txn.Locate(id);
  if (!where.ok()) return where.status();
  if (!*where || (*where)->is_dir) return std::optional<LocatedFile>();
  auto got = txn.Get((*where)->parent, (*where)->name, false);
  if (!got.ok()) return got.status();
  if (!*got || (*got)->id != id || (*got)->kind != store::EntryKind::kFile) {
    return std::optional<LocatedFile>();
  }
  return std::optional<LocatedFile>(LocatedFile{std::move(**where), std::move(**got)});
}

Result<std::optional<store::EntryId>> ExistingDirOf(store::Txn& txn, store::EntryId bucket,
                                                    std::string_view key) {
  store::EntryId dir = bucket;
  std::size_t start = 0;
  for (std::size_t slash = key.find('/'); slash != std::string_view::npos;
       slash = key.find('/', start)) {
    auto e = txn.Get(dir, key.substr(start, slash - start), true);
    if (!e.ok()) return e.status();
    if (!*e) return std::optional<store::EntryId>();
    dir = (*e)->id;
    start = slash + 1;
  }
  return std::optional<store::EntryId>(dir);
}

std::string_view BaseNameOf(std::string_view key) {
  const auto slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

Result<std::optional<store::Entry>> CurrentObjectOf(store::Txn& txn, const ObjectKey& key) {
  auto dir = ExistingDirOf(txn, key.bucket, key.key);
  if (!dir.ok()) return dir.status();
  if (!*dir) return std::optional<store::Entry>();
  auto e = txn.Get(**dir, BaseNameOf(key.key), false);
  if (!e.ok()) return e.status();
  if (*e && (*e)->kind != store::EntryKind::kFile) return std::optional<store::Entry>();
  return e;
}

Result<std::vector<store::VersionRecord>> KeptVersionsOf(store::Txn& txn, const ObjectKey& key) {
  constexpr std::size_t kBatch = 256;
  std::vector<store::VersionRecord> out;
  std::optional<store::Txn::VersionCursor> after;
  for (;;) {
    auto batch = txn.ListVersions(key.bucket, key.key, after, kBatch);
    if (!batch.ok()) return batch.status();
    const bool more = batch->size() == kBatch;
    for (auto& r : *batch) {
      if (r.key != key.key) return out;  // a longer key with this prefix
      out.push_back(std::move(r));
    }
    if (!more || out.empty()) return out;
    after = store::Txn::VersionCursor{out.back().key, out.back().entry.id};
  }
}

Result<ObjectKey> KeyIn(store::Txn& txn, store::EntryId dir, std::string_view name) {
  auto key = KeyOf(txn, dir);
  if (!key.ok()) return key.status();
  if (!key->key.empty()) key->key += '/';
  key->key.append(name);
  return key;
}

}  // namespace shoal::fs
