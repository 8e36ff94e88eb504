#pragma once
// ShoalFs: the file-system operations of the mount, in terms of entries,
// blobs and control nodes. The FUSE adapter (fuse_adapter.cc) turns kernel
// requests into these calls and their Results into replies; nothing here
// includes FUSE.
//
// Thread-safety: every method may be called concurrently from the FUSE
// worker threads. Locks are never held across a store commit, blob encode
// or reply except an object's own commit_mu during its commit.

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/sim_clock.h"
#include "base/status.h"
#include "crypto/root_key.h"
#include "fs/control_tree.h"
#include "fs/error_log.h"
#include "fs/inode_table.h"
#include "fs/stats.h"
#include "store/meta_store.h"
#include "store/store_dir.h"
#include "tiers/billing.h"
#include "tiers/blob.h"
#include "tiers/intelligent_tiering.h"
#include "tiers/storage_class.h"

namespace shoal::fs {

// Who is asking.
struct Caller {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

// An open file or directory; owned by the adapter via fuse_file_info::fh.
struct Handle;

struct ReadDirEntry {
  std::string name;
  struct stat attr {};
  bool counts_lookup = true;  // false for "." and ".."
};

class ShoalFs {
 public:
  // The mount options that shape the simulation (DESIGN §1).
  struct Options {
    // Where the simulated clock starts. nullopt: where the store's clock
    // stopped (a new store: real time). A time before the store's saved
    // clock is refused: the clock never goes backwards.
    std::optional<TimeNs> clock_start;
    double clock_rate = 1;
    // The class of new objects (PUTs without x-amz-storage-class).
    tiers::StorageClass default_class = tiers::StorageClass::kStandard;
  };

  // Opens the store's parts and runs the work that fell due while it was
  // not mounted.
  static Result<std::unique_ptr<ShoalFs>> Open(std::unique_ptr<store::StoreDir> dir,
                                               const Options& options);
  ~ShoalFs();
  ShoalFs(const ShoalFs&) = delete;
  ShoalFs& operator=(const ShoalFs&) = delete;

  // Entry replies: the returned stat's st_ino is the inode, and the lookup
  // has been counted.
  Result<struct stat> Lookup(Ino parent, std::string_view name);
  void Forget(Ino ino, std::uint64_t n);
  Result<struct stat> GetAttr(Ino ino);
  // Applies the requested changes; a size change on a file that is not open
  // for writing is committed at once (a truncate is a PUT).
  struct SetAttrRequest {
    bool mode = false, uid = false, gid = false, size = false;
    bool atime = false, mtime = false, atime_now = false, mtime_now = false;
    struct stat values {};
  };
  Result<struct stat> SetAttr(Ino ino, const SetAttrRequest& req);
  Result<std::string> ReadLink(Ino ino);

  Result<struct stat> Mkdir(const Caller& who, Ino parent, std::string_view name, mode_t mode);
  Result<struct stat> Symlink(const Caller& who, std::string_view target, Ino parent,
                              std::string_view name);
  Status Unlink(Ino parent, std::string_view name);
  Status Rmdir(Ino parent, std::string_view name);
  Status Rename(Ino parent, std::string_view name, Ino new_parent, std::string_view new_name,
                unsigned int flags);
  Status Link(Ino ino, Ino new_parent, std::string_view new_name);

  struct Opened {
    Handle* handle;
    bool direct_io = false;
  };
  Result<Opened> Open(Ino ino, int flags);
  struct Created {
    struct stat attr;
    Handle* handle;
  };
  Result<Created> Create(const Caller& who, Ino parent, std::string_view name, mode_t mode,
                         int flags);
  Result<std::size_t> Read(Handle* h, char* buf, std::size_t size, std::uint64_t offset);
  Result<std::size_t> Write(Handle* h, std::string_view data, std::uint64_t offset);
  Status Flush(Handle* h);
  // Commits like Flush, then makes every commit so far durable.
  Status Fsync(Handle* h);
  // Makes every metadata commit so far durable (fsyncdir, unmount).
  Status SyncMetadata();
  // Frees the handle.
  Status Release(Handle* h);

  Result<Handle*> OpenDir(Ino ino);
  // Entries from `offset` (0 = start); each entry's offset is its index + 1.
  // `fits` is called per entry and returns false when the reply is full;
  // entries it accepted with counts_lookup are counted as lookups.
  Status ReadDir(Handle* h, std::uint64_t offset, bool plus,
                 const std::function<bool(const ReadDirEntry&, std::uint64_t next)>& fits);
  void ReleaseDir(Handle* h);

  Result<struct statvfs> StatFs();

  // Extended attributes. GetXattr returns the value; ListXattr the
  // NUL-separated names.
  Result<std::string> GetXattr(Ino ino, std::string_view name);
  Result<std::string> ListXattr(Ino ino);
  Status SetXattr(Ino ino, std::string_view name, std::string_view value, int flags);
  Status RemoveXattr(Ino ino, std::string_view name);

  // For the adapter: record a rejected request in .shoal/errors.
  void RecordError(Ino ino, std::string_view name, const Status& status);
  Stats& stats() { return stats_; }

  // The simulated clock. AdvanceClockTo runs every piece of work due up to
  // `t` in time order, then sets the clock to `t` (InvalidArgument if `t`
  // is in the past).
  const Clock& clock() const { return clock_; }
  Status AdvanceClockTo(TimeNs t);

 private:
  ShoalFs(std::unique_ptr<store::StoreDir> dir, const Options& options);
  Status Init(const Options& options);

  // The simulated clock (shoal_fs_time.cc).
  Status StartClock(const Options& options);
  Status ApplyClockCommand(std::string_view text);
  // Runs due items up to `limit`, earliest first, moving the clock to each
  // item's time before running it; many items share one transaction.
  Status RunDueUpTo(TimeNs limit) REQUIRES(advance_mu_);
  // Saves the clock and the bill.
  Status SaveSimulation() REQUIRES(advance_mu_);
  // Stores `t` as the saved clock in `txn` unless a later time is stored.
  Status SaveClockIn(store::Txn& txn, TimeNs t);
  // How long the ticker may sleep: until the next due item at the current
  // rate, between 1 ms and 1 s.
  std::chrono::nanoseconds NextTickWait();
  void Tick();
  void StopTicker();

  // Storage classes (shoal_fs_classes.cc).
  // An object's change made by due work, for the meter once it commits.
  struct DueChange {
    store::Entry before;
    store::Entry after;
    TimeNs at = 0;
  };
  // Runs one due item in `txn` and consumes it; a change it makes is
  // appended to `changes`.
  Status RunDueItemIn(store::Txn& txn, const store::DueItem& item, std::vector<DueChange>& changes);
  // Copies the object in place into class `to` (a re-encode into that
  // tier); InvalidObjectState if it is archived and not restored.
  Status ChangeStorageClass(Ino ino, tiers::StorageClass to);
  // A write of user.s3.restore: `Days=N[,Tier=...]`.
  Status RequestRestore(Ino ino, std::string_view value);
  // An open of `seen` for reading or writing: Intelligent-Tiering's access.
  void RecordAccess(Ino ino, const store::Entry& seen);
  // The committed entry of object `ino` where the inode table places it;
  // NoSuchKey if it has been removed or replaced meanwhile.
  struct LocatedObject {
    Location where;
    store::Entry entry;
  };
  Result<LocatedObject> ObjectIn(store::Txn& txn, Ino ino);
  // The error for reading an archived object.
  static Status ArchivedError(const store::Entry& e);
  // Adds the due items `e` needs (restore events, its next tier step).
  Status ScheduleClassWork(store::Txn& txn, const store::Entry& e);
  // The next tier move of Intelligent-Tiering object `e` (an unreadable
  // opt-in is reported and taken as none: the object still tiers by access).
  std::optional<tiers::ItStep> NextStepOf(store::Txn& txn, const store::Entry& e);
  // The archive tiers an Intelligent-Tiering object of this bucket opted into.
  Result<tiers::ArchiveOptIn> OptInOf(store::Txn& txn, const store::Entry& e);
  // Tells the meter that an object changed from `before` to `after` at
  // `now` (either may be null: created, removed; non-files are ignored).
  // `fills_created`: the first commit of a file create() made, which with
  // the create is one PUT (no early deletion of the empty placeholder).
  void Bill(const store::Entry* before, const store::Entry* after, TimeNs now,
            bool fills_created = false);
  // Loads prices and the saved bill, and counts every stored object from
  // where that bill ends; `newest` gets the latest time the daemon stamped
  // on any entry.
  Status StartBilling(TimeNs* newest);

  // Bucket configuration (.s3/<bucket>/, shoal_fs_s3.cc).
  void AddBucketConfigDir(const std::string& bucket);
  void RemoveBucketConfigDir(const std::string& bucket);
  Result<std::string> InventoryCsv(const std::string& bucket);
  Result<std::string> ReadItConfiguration(const std::string& bucket);
  Status ReplaceItConfiguration(const std::string& bucket, std::string_view json);
  Result<std::string> ReadPrices();
  Status ReplacePrices(std::string_view json);

  // Reading the store.
  Result<store::Entry> EntryOf(Ino ino);
  Result<store::Entry> EntryAt(store::Txn& txn, Ino ino);
  // Marks an entry's inode unlinked, keeping the entry for open descriptors.
  void Detach(const store::Entry& e);
  struct stat AttrOf(const store::Entry& e, Inode* inode);
  struct stat ControlAttr(const ControlNode& node) const;
  struct stat RootAttr() const;
  Status CheckKeyLength(Ino parent, std::string_view name, bool is_dir);
  Status TouchDir(store::Txn& txn, Ino dir, TimeNs now);
  Result<struct stat> AddEntry(const Caller& who, Ino parent, std::string_view name,
                               store::Entry entry);

  // Object content.
  Result<std::shared_ptr<Staging>> AcquireStaging(const std::shared_ptr<Inode>& inode,
                                                  bool truncate);
  Status ReleaseStaging(const std::shared_ptr<Inode>& inode);
  Status Commit(const std::shared_ptr<Inode>& inode);
  // Removes a blob file no committed entry names any more, once that is
  // durable (kept, for the orphan sweep, if the sync fails).
  void RemoveBlobAfterSync(const std::string& blob_id);
  // A reader of the committed content of `entry` (null for an empty
  // object), shared through the inode. If that content is gone because the
  // object was rewritten meanwhile, the current content's reader.
  Result<std::shared_ptr<tiers::BlobReader>> CommittedReader(const std::shared_ptr<Inode>& inode,
                                                             const store::Entry& entry);
  // One attempt of CommittedReader, for exactly `entry`'s content.
  Result<std::shared_ptr<tiers::BlobReader>> ReaderOf(const std::shared_ptr<Inode>& inode,
                                                      const store::Entry& entry);

  // Control files.
  void BuildControlTree();
  Status ApplyControlWrite(Handle* h);

  std::unique_ptr<store::StoreDir> dir_;
  MonotonicClock elapsed_;
  SimClock clock_;
  // Serialises clock advances and due-work runs, so work runs in time order.
  Mutex advance_mu_;
  // The background ticker: runs due work as a running clock passes it.
  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;
  std::uint64_t ticker_generation_ = 0;  // bumped by clock writes
  std::thread ticker_;
  bool clock_started_ = false;  // the clock is the store's: save it on exit
  std::unique_ptr<crypto::RootKey> root_key_;
  std::unique_ptr<store::MetaStore> meta_;
  std::unique_ptr<tiers::BlobStore> blobs_;
  const tiers::StorageClass default_class_;
  tiers::EncodeOptions encode_options_;  // the default class's tier
  std::unique_ptr<tiers::BillingMeter> meter_;
  NodeId s3_dir_ = 0;  // MNT/.s3
  InodeTable inodes_;
  ControlTree control_;
  ErrorLog errors_;
  Stats stats_;
  TimeNs mount_time_;
  std::uint32_t owner_uid_;
  std::uint32_t owner_gid_;
};

}  // namespace shoal::fs
