#pragma once
// An object's S3 identity, its bucket and full key, found from the tree's
// location records (MetaStore "locations").
//
// Thread-safety: functions of a transaction, used on its thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/meta_store.h"

namespace shoal::fs {

struct ObjectKey {
  store::EntryId bucket = 0;
  std::string key;  // "a/b.txt"; "" for the bucket itself
  // The bucket's name, as KeyOf and KeyIn fill it; empty where a caller
  // built the key from a bucket id alone.
  std::string bucket_name;
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

// The directory that holds `key` in `bucket`, following existing
// directories only (nullopt when one is missing), and the key's last part.
Result<std::optional<store::EntryId>> ExistingDirOf(store::Txn& txn, store::EntryId bucket,
                                                    std::string_view key);
std::string_view BaseNameOf(std::string_view key);

// The current version of `key`: its file entry, if it has one.
Result<std::optional<store::Entry>> CurrentObjectOf(store::Txn& txn, const ObjectKey& key);

// Every kept (noncurrent) version and delete marker of exactly `key`,
// newest first.
Result<std::vector<store::VersionRecord>> KeptVersionsOf(store::Txn& txn, const ObjectKey& key);

// The bucket and full key of the child `name` of directory (or bucket)
// `dir`, whether or not that child exists.
Result<ObjectKey> KeyIn(store::Txn& txn, store::EntryId dir, std::string_view name);

}  // namespace shoal::fs
