#pragma once
// InodeTable: what the kernel knows. Inode numbers are entry ids (stable
// across remounts) or control node ids; each known inode records where it
// lives (parent id, name) so S3 keys and store records can be found.
//
// Lifetime invariant (libfuse passthrough_hp): every entry reply adds one
// lookup, forget subtracts; an inode leaves the table only when it has no
// lookups, no open handles and no known children. The root is pinned.
//
// Thread-safety: all methods may be called concurrently. Location fields are
// guarded by the table's mutex; the content state of an Inode by its own
// content_mu.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "fs/staging.h"
#include "store/entry.h"
#include "tiers/blob.h"

namespace shoal::fs {

using Ino = std::uint64_t;

struct Inode {
  explicit Inode(Ino i) : ino(i) {}
  const Ino ino;

  // Content of a file: the staging file while writers have it open, else
  // the reader of the committed blob (null until needed or when empty).
  Mutex content_mu;
  std::shared_ptr<Staging> staging GUARDED_BY(content_mu);
  std::uint32_t writers GUARDED_BY(content_mu) = 0;
  std::shared_ptr<tiers::BlobReader> reader GUARDED_BY(content_mu);
  std::string reader_blob GUARDED_BY(content_mu);  // blob id behind `reader`
  // Size and mtime of the last content commit made through this inode. An
  // entry read from a snapshot older than that commit (a reader racing the
  // writer's close) must not report the old size once the staging copy is
  // gone: the kernel would believe it and cut reads or misplace appends.
  struct Committed {
    std::uint64_t size = 0;
    TimeNs mtime = 0;
  };
  std::optional<Committed> committed GUARDED_BY(content_mu);
  // The last entry of a file unlinked (or renamed over) while the kernel
  // still knows it: open descriptors keep fstat, read and write working.
  std::optional<store::Entry> detached GUARDED_BY(content_mu);
  // Made by create() and not committed since: its first commit, or its
  // last close if nothing is ever committed, is the object's one PUT.
  bool fresh GUARDED_BY(content_mu) = false;
  // The staging copy is an upload in S3's terms: started (simulated time)
  // when the first writer opened it, and aborted by a lifecycle rule's
  // AbortIncompleteMultipartUpload if still open when the rule says.
  TimeNs upload_started GUARDED_BY(content_mu) = 0;
  bool upload_aborted GUARDED_BY(content_mu) = false;

  // Serialises commits of this object.
  Mutex commit_mu;
};

struct Location {
  Ino parent = 0;
  std::string name;
  bool is_dir = false;
  bool unlinked = false;
};

class InodeTable {
 public:
  InodeTable();
  InodeTable(const InodeTable&) = delete;
  InodeTable& operator=(const InodeTable&) = delete;

  // Records an entry reply for `ino` at (parent, name): adds one lookup and
  // returns the inode (created at that location if new; a known inode keeps
  // the location that committed renames gave it).
  std::shared_ptr<Inode> Learn(Ino ino, Ino parent, const std::string& name, bool is_dir);
  // Subtracts `n` lookups; may drop the inode.
  void Forget(Ino ino, std::uint64_t n);
  // The inode if known (nullptr otherwise).
  std::shared_ptr<Inode> Find(Ino ino) const;
  std::optional<Location> Where(Ino ino) const;

  // An open handle pins the inode.
  void Opened(Ino ino);
  // Every inode with an open handle.
  std::vector<std::shared_ptr<Inode>> OpenInodes() const;
  // True when no open handle is left.
  bool Closed(Ino ino);

  // After a committed rename / unlink.
  void Moved(Ino ino, Ino new_parent, const std::string& new_name);
  void Unlinked(Ino ino);

  // "/bucket/dir/name" for messages and key-length checks; nullopt if an
  // ancestor is unknown.
  std::optional<std::string> PathOf(Ino ino) const;

 private:
  struct Slot {
    std::shared_ptr<Inode> inode;
    Location where;
    std::uint64_t lookups = 0;
    std::uint32_t opens = 0;
    std::uint32_t children = 0;
  };
  void MaybeDropLocked(Ino ino) REQUIRES(mu_);

  mutable Mutex mu_;
  std::unordered_map<Ino, Slot> slots_ GUARDED_BY(mu_);
};

}  // namespace shoal::fs
