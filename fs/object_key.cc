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
      ObjectKey out{.bucket = id, .key = {}};
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

Result<ObjectKey> KeyIn(store::Txn& txn, store::EntryId dir, std::string_view name) {
  auto key = KeyOf(txn, dir);
  if (!key.ok()) return key.status();
  if (!key->key.empty()) key->key += '/';
  key->key.append(name);
  return key;
}

}  // namespace shoal::fs
