#pragma once
// MetaStore: the LMDB environment holding the tree of entries.
//
// Schema (one environment per store, in STORE/meta/):
//   "entries": key = u64 big-endian parent id | name | ("/" if directory)
//              value = EncodeEntry(entry)
//   "info":    "next_id" -> u64, "format" -> u32
//   "contents": key = u64 big-endian entry id, value = an inline blob image:
//              the encoded content of a small object (no blob file). Keyed
//              by id, so renames leave it alone; whoever removes the entry
//              removes it.
// Directories are keyed by their id, so a directory's children are one
// contiguous range, and the trailing "/" on directory names makes that range
// sort exactly as S3 sorts full keys ("a/b.txt" < "a/b/c"). Renaming a
// directory rewrites one key, whatever lies below it.
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
