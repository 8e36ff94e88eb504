#pragma once
// MetaStore: the LMDB environment holding the tree of entries.
//
// Schema (one environment per store, in STORE/meta/):
//   "entries": key = u64 big-endian parent id | name | ("/" if directory)
//              value = EncodeEntry(entry)
//   "info":    "next_id" -> u64, "format" -> u32, "state.<name>" -> the
//              daemon's saved state (clock, billing, prices)
//   "locations": key = u64 big-endian entry id, value = its "entries" key:
//              finds an entry by id (due work, which knows only the id).
//              Kept by Put and Remove.
//   "due":     key = time (u64 big-endian, sign bit flipped) | u64
//              big-endian entry id | u8 kind, value empty: work that falls
//              due at a simulated time, earliest first (DESIGN §3 "Time").
//   "configs": key = u64 big-endian bucket id | document name, value = the
//              bucket's configuration document (intelligent-tiering.json ...)
//   "contents": key = u64 big-endian entry id, value = an inline blob image:
//              the encoded content of a small object (no blob file). Keyed
//              by id, so renames leave it alone; whoever removes the entry
//              removes it.
//   "versions": key = u64 big-endian bucket id | object key | 0x00 | u64
//              big-endian (~record id), value = EncodeEntry(version): the
//              kept versions and delete markers of a versioned bucket (the
//              current version of a key lives in "entries"). Object keys
//              never hold NUL, so a key's versions are contiguous, newest
//              first (record ids only grow), and keys sort as S3 sorts them.
//   "version_ids": key = u64 big-endian record id, value = its "versions"
//              key: finds a version by id (due work). Kept by PutVersion
//              and RemoveVersion.
// Directories are keyed by their id, so a directory's children are one
// contiguous range, and the trailing "/" on directory names makes that range
// sort exactly as S3 sorts full keys ("a/b.txt" < "a/b/c"). Renaming a
// directory rewrites one key, whatever lies below it (fs/ then re-seals the
// key envelopes of the objects below: their values, not their keys).
//
// Thread-safety: MetaStore is safe from many threads. A Txn belongs to the
// thread that runs its callback and must not escape it. Write transactions
// are serialised; read transactions run concurrently with them (MVCC).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/entry.h"

namespace shoal::store {

// A child as listed: its name (without the directory "/") and its entry.
// A child whose stored value is damaged is still listed, with `damaged` set
// and only the entry's kind (from its key) filled in: one bad value must not
// hide its siblings.
// Where an entry lives.
struct Location {
  EntryId parent = 0;
  std::string name;
  bool is_dir = false;
};

// A piece of work due at a simulated time for an entry. The item names
// only the kind of work; whoever runs it reads the entry to see whether
// the work is still wanted (items are never updated, only added and
// consumed, so a stale item is a harmless no-op).
struct DueItem {
  TimeNs at = 0;
  EntryId id = 0;
  std::uint8_t kind = 0;
  bool operator==(const DueItem&) const = default;
};

// A kept version: the object key it belongs to, and its record (whose id
// is the record's own, never an entry's).
struct VersionRecord {
  std::string key;
  Entry entry;
};

// Where a kept version lives.
struct VersionLocation {
  EntryId bucket = 0;
  std::string key;
};

struct Child {
  std::string name;
  Entry entry;
  bool damaged = false;
};

class Txn {
 public:
  virtual ~Txn() = default;

  // The entry named `name` in directory `parent`; a directory of that name
  // wins over a file of the same name (S3 allows both "a" and "a/").
  // nullopt when neither exists.
  virtual Result<std::optional<Entry>> Lookup(EntryId parent, std::string_view name) = 0;
  // The entry with exactly this name and directory-ness.
  virtual Result<std::optional<Entry>> Get(EntryId parent, std::string_view name, bool is_dir) = 0;
  // Up to `limit` children of `dir` in S3 key order, starting strictly after
  // the child whose name and directory-ness are `after` (nullopt: from the
  // start).
  struct Cursor {
    std::string name;
    bool is_dir = false;
  };
  virtual Result<std::vector<Child>> List(EntryId dir, const std::optional<Cursor>& after,
                                          std::size_t limit) = 0;
  virtual Result<bool> IsEmpty(EntryId dir) = 0;

  // Writes (a read-only Txn answers kInternal).
  // Inserts or replaces the entry `name` under `parent` (directory-ness from
  // entry.kind).
  virtual Status Put(EntryId parent, std::string_view name, const Entry& entry) = 0;
  // Removes it; NoSuchKey if absent.
  virtual Status Remove(EntryId parent, std::string_view name, bool is_dir) = 0;
  // The inline content of entry `id` (see "contents"): put, get (nullopt
  // when absent), remove (ok when absent).
  virtual Status PutContent(EntryId id, std::string_view bytes) = 0;
  virtual Result<std::optional<std::string>> GetContent(EntryId id) = 0;
  virtual Status RemoveContent(EntryId id) = 0;
  // Where entry `id` lives; nullopt when no entry has that id.
  virtual Result<std::optional<Location>> Locate(EntryId id) = 0;

  // Kept versions (see "versions"). PutVersion inserts or replaces the
  // record `v` (REQUIRES: v.id != 0, from NewId) of `key` in `bucket`;
  // RemoveVersion removes it (NoSuchVersion if absent); GetVersion reads it
  // (nullopt when absent); LocateVersion finds it by id.
  virtual Status PutVersion(EntryId bucket, std::string_view key, const Entry& v) = 0;
  virtual Status RemoveVersion(EntryId bucket, std::string_view key, EntryId id) = 0;
  virtual Result<std::optional<Entry>> GetVersion(EntryId bucket, std::string_view key,
                                                  EntryId id) = 0;
  virtual Result<std::optional<VersionLocation>> LocateVersion(EntryId id) = 0;
  // Up to `limit` kept versions of `bucket` whose keys start with `prefix`,
  // in key order and newest first within a key, starting strictly after the
  // version (after->key, after->id); {k, UINT64_MAX} starts at key k's
  // first version, so it also seeks past every key before k.
  struct VersionCursor {
    std::string key;
    EntryId id = 0;
  };
  virtual Result<std::vector<VersionRecord>> ListVersions(EntryId bucket, std::string_view prefix,
                                                          const std::optional<VersionCursor>& after,
                                                          std::size_t limit) = 0;

  // Calls fn for every kept version of every bucket (key order); stops
  // early and returns fn's status if fn fails. For billing and fsck.
  virtual Status ScanAllVersions(
      const std::function<Status(const VersionLocation& where, Result<Entry> v)>& fn) = 0;

  // Due work: add (idempotent), remove (ok when absent), and the earliest
  // item (nullopt when none).
  virtual Status AddDue(const DueItem& item) = 0;
  virtual Status RemoveDue(const DueItem& item) = 0;
  virtual Result<std::optional<DueItem>> FirstDue() = 0;

  // Bucket configuration documents: put, get (nullopt when absent), remove
  // one (ok when absent) or all of a bucket's.
  virtual Status PutConfig(EntryId bucket, std::string_view name, std::string_view value) = 0;
  virtual Result<std::optional<std::string>> GetConfig(EntryId bucket, std::string_view name) = 0;
  virtual Status RemoveConfig(EntryId bucket, std::string_view name) = 0;
  virtual Status RemoveConfigs(EntryId bucket) = 0;

  // The daemon's saved state, by name (nullopt when absent).
  virtual Status PutState(std::string_view name, std::string_view value) = 0;
  virtual Result<std::optional<std::string>> GetState(std::string_view name) = 0;

  // A fresh id, never returned before.
  virtual Result<EntryId> NewId() = 0;

  // Calls fn for every entry in the table (any order), with its parent and
  // name; stops early and returns fn's status if fn fails. For fsck.
  virtual Status ScanAll(const std::function<Status(EntryId parent, std::string_view name,
                                                    bool is_dir, Result<Entry> entry)>& fn) = 0;
};

class MetaStore {
 public:
  // Opens or creates the environment in `dir` (created if missing).
  static Result<std::unique_ptr<MetaStore>> Open(const std::string& dir);
  // As above with the initial map size given (Open uses 1 GiB); the map
  // grows on demand either way. For tests of map growth.
  static Result<std::unique_ptr<MetaStore>> Open(const std::string& dir,
                                                 std::uint64_t initial_map_bytes);
  virtual ~MetaStore() = default;

  // Runs fn in a read-only snapshot. fn must not call Update: a writer
  // growing the map waits for open snapshots, so that nesting can deadlock.
  // (View inside an Update callback is fine.)
  virtual Status View(const std::function<Status(Txn&)>& fn) = 0;
  // Runs fn in a write transaction and commits if it returns OK (atomic, and
  // safe from a daemon crash at once; safe from a system crash after the
  // next commit or Sync, as a closed file on ext4 is after the next flush);
  // otherwise aborts and returns its status. When the map is full the map
  // is grown and fn is run again from scratch, so fn must keep its effects
  // inside the transaction. `after_commit`, if given, runs after a
  // successful commit before the next write transaction can start.
  virtual Status Update(const std::function<Status(Txn&)>& fn,
                        const std::function<void()>& after_commit = {}) = 0;

  // Makes every committed transaction durable (fsync, fsyncdir, unmount).
  virtual Status Sync() = 0;

  // Bytes in use by the map (for stats).
  virtual std::uint64_t MapSize() const = 0;
};

}  // namespace shoal::store
