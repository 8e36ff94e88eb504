#pragma once
// The metadata record of one name in the tree: a bucket, a directory, an
// object (file) or a symlink, and its compact binary encoding.
//
// Encoding: u8 format version (5), then fields in a fixed order with varints
// and length-prefixed strings (base/coding.h). DecodeEntry never trusts its
// input: anything truncated, overlong or out of range is Corrupt.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace shoal::store {

// Every entry has a store-wide unique, never reused id; fs/ uses it as the
// inode number. The root (parent of buckets) is kRootId.
using EntryId = std::uint64_t;
inline constexpr EntryId kRootId = 1;

enum class EntryKind : std::uint8_t { kBucket = 1, kDirectory = 2, kFile = 3, kSymlink = 4 };

inline bool IsDirectoryKind(EntryKind k) {
  return k == EntryKind::kBucket || k == EntryKind::kDirectory;
}

// Where an archived object's restore stands (tiers/restore.h gives the
// meaning; stored here as plain fields so the codec needs no tiers types).
struct RestoreFields {
  std::uint8_t phase = 0;  // 0 none, 1 ongoing, 2 done
  std::uint8_t tier = 0;   // tiers::RestoreTier
  std::int32_t days = 0;
  TimeNs requested = 0;
  TimeNs ready_at = 0;
  TimeNs expiry = 0;
  bool operator==(const RestoreFields&) const = default;
};

struct Entry {
  EntryId id = 0;
  EntryKind kind = EntryKind::kFile;
  std::uint32_t mode = 0644;  // permission bits (07777) only
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  TimeNs mtime = 0;
  TimeNs ctime = 0;
  TimeNs created = 0;  // for objects: LastModified, the time of the PUT
  // Directories: true when a "dir/" marker key exists (made by mkdir);
  // false for a directory implied by the keys below it.
  bool marker = true;
  // Files (objects).
  std::uint64_t size = 0;
  std::string blob_id;  // raw blob id; empty when size == 0
  std::string md5;      // 16 raw bytes, MD5 of the content
  std::string storage_class = "STANDARD";
  std::string sse = "AES256";
  std::string version_id = "null";
  // When the object entered its storage class (minimum-duration charges),
  // and the bytes its content takes on disk (billing's physical bytes).
  TimeNs class_since = 0;
  std::uint64_t stored_bytes = 0;
  // Intelligent-Tiering: the access tier (tiers::AccessTier) and the last
  // access that counts (a read or a write).
  std::uint8_t access_tier = 0;
  TimeNs last_access = 0;
  RestoreFields restore;
  // Versions kept in a versioned bucket (MetaStore's "versions" table): a
  // delete marker (no content), and when the version stopped being the
  // current one (lifecycle's noncurrent days count from here).
  bool delete_marker = false;
  TimeNs noncurrent_since = 0;
  // Files with content: the blob's data key, wrapped for this object's
  // bucket, key and version id (crypto/envelope.h). Empty for empty files
  // and for blobs of format 1, which carry their own key.
  std::string key_envelope;
  // Symlinks.
  std::string symlink_target;
  // User xattrs (full names such as "user.s3.meta.color"), sorted by name.
  std::vector<std::pair<std::string, std::string>> xattrs;

  bool is_dir() const { return IsDirectoryKind(kind); }
};

std::string EncodeEntry(const Entry& e);
Result<Entry> DecodeEntry(std::string_view bytes);

}  // namespace shoal::store
