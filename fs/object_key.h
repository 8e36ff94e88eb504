#pragma once
// An object's S3 identity, its bucket and full key, found from the tree's
// location records (MetaStore "locations").
//
// Thread-safety: functions of a transaction, used on its thread.

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/meta_store.h"

namespace shoal::fs {

struct ObjectKey {
  store::EntryId bucket = 0;
  std::string key;  // "a/b.txt"; "" for the bucket itself
};

// The bucket and full key of entry `id`. NoSuchKey if it has no location;
// Corrupt if the locations form a loop.
Result<ObjectKey> KeyOf(store::Txn& txn, store::EntryId id);

// The file entry with id `id` and where it is (nullopt when no file has
// that id any more: due work for an object removed since).
struct LocatedFile {
  store::Location where;
  store::Entry entry;
};
Result<std::optional<LocatedFile>> FileById(store::Txn& txn, store::EntryId id);

// The bucket and full key of the child `name` of directory (or bucket)
// `dir`, whether or not that child exists.
Result<ObjectKey> KeyIn(store::Txn& txn, store::EntryId dir, std::string_view name);

}  // namespace shoal::fs
