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

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/sim_clock.h"
#include "base/status.h"
#include "crypto/kms.h"
#include "crypto/root_key.h"
#include "fs/audit_log.h"
#include "fs/content_keys.h"
#include "fs/control_tree.h"
#include "fs/error_log.h"
#include "fs/firehose_queue.h"
#include "fs/inode_table.h"
#include "fs/object_key.h"
#include "fs/stats.h"
#include "lifecycle/lifecycle_config.h"
#include "store/meta_store.h"
#include "store/store_dir.h"
#include "streams/firehose_store.h"
#include "streams/s3_notification.h"
#include "streams/stream_store.h"
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

// The uid of the request the calling thread serves, for audit records: set
// by the FUSE adapter for each request; the daemon's own uid on threads
// that serve none (background work).
void SetRequestUid(std::uint32_t uid);
std::uint32_t RequestUid();

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
  // `interrupted`: whether the caller gave up (a signal, unmount), polled
  // by reads that wait for data (shard iterators).
  Result<std::size_t> Read(Handle* h, char* buf, std::size_t size, std::uint64_t offset,
                           const std::function<bool()>& interrupted = {});
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

  // Tells the kernel to forget a name it may have cached: set by the
  // adapter while mounted (empty: nothing to tell). Work that removes or
  // adds names behind the kernel's back (lifecycle, version deletes)
  // calls it with no lock held and never from an operation on `parent`.
  using EntryInvalidator = std::function<void(Ino parent, std::string_view name)>;
  void SetEntryInvalidator(EntryInvalidator fn);

 private:
  ShoalFs(std::unique_ptr<store::StoreDir> dir, const Options& options);
  Status Init(const Options& options);

  // The simulated clock (shoal_fs_time.cc).
  Status StartClock(const Options& options);
  Status ApplyClockCommand(std::string_view text);
  // AdvanceClockTo without telling the kernel what changed.
  Status RunClockTo(TimeNs t);
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
  // An object's change made by due work, for the meter (and the kernel)
  // once it commits.
  struct DueChange {
    store::Entry before;
    // nullopt: no longer stored (its bill ends, its blob goes).
    std::optional<store::Entry> after;
    TimeNs at = 0;
    // A lifecycle transition into this class: a transition request.
    std::optional<tiers::StorageClass> transition;
    // A name that left the tree: open descriptors keep the entry, and the
    // kernel forgets the name.
    bool left_tree = false;
    Ino parent = 0;
    std::string name;
    // The S3 event it makes, set only while a bucket has notifications:
    // the object's key (event_name empty: none), and what NotifyS3 takes.
    std::optional<ObjectKey> event_key;
    std::string event_name;
    std::optional<store::Entry> event_entry;
    streams::S3Event event_extra;
  };
  // Due work's S3 events, sent once it committed and advance_mu_ is free.
  struct PendingEvent {
    ObjectKey key;
    std::string name;
    std::optional<store::Entry> entry;
    TimeNs at = 0;
    streams::S3Event extra;
  };
  // Sends the events due work queued (NotifyS3). Not under advance_mu_.
  void FlushDueEvents() EXCLUDES(advance_mu_, due_events_send_mu_);
  // Makes `c` a LifecycleTransition event of `key` into class `to`.
  static void SetTransitionEvent(DueChange& c, const ObjectKey& key, const store::Entry& after,
                                 tiers::StorageClass to);
  // An entry that gives an event only its version id (a removal's).
  static store::Entry VersionOnly(const std::string& version_id);
  // Applies the changes of committed due work (bill, blobs, descriptors);
  // the names to forget go to pending_invalidations_.
  void ApplyDueChanges(const std::vector<DueChange>& changes);
  // Tells the kernel the names due work removed. REQUIRES: advance_mu_ is
  // not held (the kernel may need a lock an operation waiting on it holds).
  void FlushInvalidations() EXCLUDES(advance_mu_);
  // Runs one due item in `txn` and consumes it; a change it makes is
  // appended to `changes`.
  Status RunDueItemIn(store::Txn& txn, const store::DueItem& item, std::vector<DueChange>& changes);
  // Copies the object in place into class `to` (a re-encode into that
  // tier); InvalidObjectState if it is archived and not restored.
  Status ChangeStorageClass(Ino ino, tiers::StorageClass to);
  // A write of user.s3.tagging: `k1=v1&k2=v2` (empty: no tags).
  Status SetTagging(Ino ino, std::string_view value);
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
  // The committed entry of object `ino` and its bucket and key, from one
  // snapshot (what its key envelope is sealed for). Fails as ObjectIn.
  struct StoredObject {
    store::Entry entry;
    ObjectKey key;
    // Inline content, read in the same snapshot (an object rewritten since
    // may have another image, sealed under another data key).
    std::optional<std::string> inline_image;
  };
  Result<StoredObject> StoredObjectOf(Ino ino);
  // Copies `stored`, the committed object of `inode`, onto itself: its
  // content re-encoded into class `to` and sealed as `how` says (a new
  // blob, a new LastModified, billed as a COPY).
  // REQUIRES: inode.commit_mu is held; stored is not archived.
  Status CopyInPlace(Inode& inode, const StoredObject& stored, tiers::StorageClass to,
                     const EncryptionChoice& how);
  // For a commit of `ino`: the wrapping its new envelope is sealed with,
  // made before the commit's transaction (nullopt when it is unlinked).
  Result<std::optional<ContentKeys::Wrapping>> PrepareWrapping(Ino ino, TimeNs now);
  // The key object `ino` is linked at; nullopt when it is unlinked.
  Result<std::optional<ObjectKey>> LinkedKeyOf(Ino ino);
  // How content of `ino` is encoded: the mount's class encoding, in two
  // layers if its bucket's encryption is DSSE-KMS.
  Result<tiers::EncodeOptions> EncodeOptionsOf(Ino ino);
  // What a rename of `name` in `parent` to `new_name` in `new_parent` needs
  // from KMS, asked before its transaction (fs/shoal_fs_moves.cc): the
  // opened keys and new wrappings of the moved objects under SSE-KMS and
  // DSSE-KMS, by entry id with the envelope they were made from.
  struct PreparedMoves {
    std::map<store::EntryId, std::pair<std::string, ContentKeys::PreparedMove>> ready;
    // Objects of a moved directory that no KMS call can re-wrap (a deleted
    // key, a damaged envelope): they move as they are.
    std::set<store::EntryId> unmovable;
  };
  Result<PreparedMoves> PrepareMoves(Ino parent, std::string_view name, Ino new_parent,
                                     std::string_view new_name, TimeNs now);
  // The envelope of `e` (version `from_version` of `from`) re-sealed for
  // version `to_version` of `to`: from `moves` when it was prepared for
  // this envelope, else (an object written since) re-wrapped here.
  Result<std::string> MovedEnvelope(const PreparedMoves& moves, const store::Entry& e,
                                    const ObjectKey& from, std::string_view from_version,
                                    const ObjectKey& to, std::string_view to_version, TimeNs now);
  // After directory `dir` moved from key `from` to `to`: re-seals the key
  // envelope of every object below it for its new key.
  Status MoveContentKeysBelow(store::Txn& txn, const PreparedMoves& moves, store::EntryId dir,
                              const ObjectKey& from, const ObjectKey& to, TimeNs now);
  // How new content in bucket `bucket` is encrypted: its encryption.json.
  // Corrupt while a stored encryption.json cannot be read: new content is
  // refused rather than sealed in a way the bucket did not ask for.
  Result<EncryptionChoice> EncryptionOf(store::EntryId bucket) EXCLUDES(encryption_mu_);
  // The error for reading an archived object.
  static Status ArchivedError(const store::Entry& e);
  // Adds the due items `e` needs (restore events, its next tier step, its
  // next lifecycle action). `key`: e's bucket and key, when the caller
  // knows them (else they are looked up if a lifecycle needs them).
  Status ScheduleClassWork(store::Txn& txn, const store::Entry& e, const ObjectKey* key = nullptr);
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

  // Versioning (DESIGN §2.3 `versioning`, `versions/`; shoal_fs_versions.cc).
  // The current version of a key is its entry in the tree; the versions it
  // replaced and its delete markers are kept in MetaStore's "versions".
  enum class Versioning : std::uint8_t { kUnversioned, kEnabled, kSuspended };
  Result<Versioning> VersioningOf(store::Txn& txn, store::EntryId bucket);
  // Whether deleting `current` under `state` leaves it as a noncurrent
  // version below a delete marker (else it is deleted for good).
  static bool ExpiresToMarker(Versioning state, const store::Entry& current);
  // The version id of a new PUT of `key` at `now`. A delete marker that
  // was the key's latest version becomes noncurrent; under Suspended, the
  // kept null version of the key is removed for good (into `dropped`).
  Result<std::string> ClaimVersionId(store::Txn& txn, const ObjectKey& key, TimeNs now,
                                     std::vector<store::Entry>& dropped);
  // `current`, the current version of `key`, is being replaced or deleted
  // at `now`: keeps it as a noncurrent version (moving its inline content
  // to the kept record) and returns true; returns false when the bucket
  // keeps no such version (unversioned, or the null version under
  // Suspended, or not an object): the caller removes it.
  Result<bool> KeepNoncurrent(store::Txn& txn, const ObjectKey& key, const store::Entry& current,
                              TimeNs now);
  // A DELETE of `key` in a versioned bucket: adds a delete marker as its
  // latest version (nothing in an unversioned bucket); its version id goes
  // to `marker_version` when given.
  Status AddDeleteMarker(store::Txn& txn, const ObjectKey& key, TimeNs now,
                         std::vector<store::Entry>& dropped, std::string* marker_version = nullptr);
  // After the commit that dropped them: their bill ends, their blobs go.
  void FreeDropped(const std::vector<store::Entry>& dropped, TimeNs now);
  // The kept null version of `key`, removed for good (Suspended writes).
  Status DropNullVersion(store::Txn& txn, const ObjectKey& key, std::vector<store::Entry>& dropped);
  Result<std::string> ReadVersioning(const std::string& bucket);
  Status ReplaceVersioning(const std::string& bucket, std::string_view text);
  // The versions/ tree: one directory per key prefix, one read-only file
  // `<name>@<versionId>` per version and delete marker.
  void RefreshVersionsDir(ControlTree& tree, NodeId dir, const std::string& bucket,
                          const std::string& prefix);
  Result<std::string> ReadVersion(const std::string& bucket, const std::string& key,
                                  const std::string& version_id);
  // Deletes one version for good (DeleteObject with a versionId). Deleting
  // the current version or the latest delete marker makes the next newest
  // version current again.
  Status DeleteVersion(const std::string& bucket, const std::string& key,
                       const std::string& version_id);

  // Lifecycle (DESIGN §2.3 lifecycle.json; shoal_fs_lifecycle.cc). Each
  // object's next action is one due item, added when the object is written
  // or its bucket's rules change, so an advance costs O(actions due).
  // The parsed configuration of `bucket` (null: none). Kept in step with
  // the store: loaded at start, replaced after the commit that stores it.
  std::shared_ptr<const lifecycle::LifecycleConfiguration> LifecycleOf(store::EntryId bucket);
  Status LoadLifecycles();
  // Default encryption (fs/shoal_fs_encryption.cc): encryption.json, and
  // writes of user.s3.sse and user.s3.sse_kms_key_id (re-encryption).
  Status LoadEncryptions();
  // S3 event notifications (DESIGN §2.3 notification.json;
  // fs/shoal_fs_notifications.cc).
  Status LoadNotifications();
  Result<std::string> ReadNotification(const std::string& bucket);
  Status ReplaceNotification(const std::string& bucket, std::string_view json);
  // Sends event `name` of object `key` (its version `e`, when there is
  // one; size and eTag unless it is a delete marker) to the targets of its bucket's
  // notification.json that want it. Never fails the operation: a target that cannot take it is
  // reported in .shoal/errors. Call after the commit, holding no store lock and not advance_mu_ (a
  // Kinesis target may throttle in real time).
  void NotifyS3(const ObjectKey& key, std::string_view name, const store::Entry* e, TimeNs now,
                streams::S3Event extra = {});
  // The removal event of `key`: DeleteMarkerCreated when a marker was
  // added (`marker_version`), else Delete; `prefix` "ObjectRemoved" or
  // "LifecycleExpiration".
  void NotifyRemoval(const ObjectKey& key, std::string_view prefix,
                     const std::string& marker_version, TimeNs now);
  Result<std::string> ReadEncryption(const std::string& bucket);
  Status ReplaceEncryption(const std::string& bucket, std::string_view json);
  Status ChangeEncryption(Ino ino, std::string_view name, std::string_view value);
  // A write of .s3/<bucket>/sse-c-key: the customer's key (32 raw bytes or
  // base64), held in memory only; empty forgets it.
  Status SetSseCKey(const std::string& bucket, std::string_view key);
  Result<std::string> ReadLifecycle(const std::string& bucket);
  Status ReplaceLifecycle(const std::string& bucket, std::string_view json);
  // The due item of the next action on current object `e` of `key`.
  Status ScheduleLifecycle(store::Txn& txn, const ObjectKey& key, const store::Entry& e);
  // The same, finding the key from the entry's location (nothing to do,
  // and no lookup, while no bucket has a configuration).
  Status ScheduleLifecycleOf(store::Txn& txn, const store::Entry& e, const ObjectKey* key);
  // The due items of every kept version of `key` (their facts depend on
  // each other: how many newer versions there are, whether a delete marker
  // is the last one left).
  Status ScheduleKeyVersions(store::Txn& txn, const ObjectKey& key);
  // Runs a lifecycle item for a current object / a kept version.
  Status RunLifecycleIn(store::Txn& txn, const store::DueItem& item,
                        std::vector<DueChange>& changes);
  Status RunVersionLifecycleIn(store::Txn& txn, const store::DueItem& item,
                               std::vector<DueChange>& changes);
  // The x-amz-expiration value of object `e` (NoSuchAttribute: none).
  Result<std::string> ExpirationOf(Ino ino, const store::Entry& e);

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
  Status CommitLocked(const std::shared_ptr<Inode>& inode) REQUIRES(inode->commit_mu);
  // What writes and closes of an aborted upload return.
  static Status UploadAborted();
  // If a lifecycle rule aborts incomplete uploads of this object, a due
  // item for its staging copy's deadline (once per upload).
  void ScheduleUploadAbort(const std::shared_ptr<Inode>& inode);
  // The due item: aborts the upload if it is still open and its deadline
  // under the current rules has passed.
  Status RunUploadAbortIn(store::Txn& txn, const store::DueItem& item);
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

  // Calls the entry invalidator, if any, for `name` in `parent`.
  void InvalidateEntry(Ino parent, std::string_view name);

  // Control files.
  void BuildControlTree();
  // MNT/.kms (fs/shoal_fs_kms.cc): keys/NAME directories with config.json,
  // and quota.json.
  Status OpenKms();
  void BuildKmsTree(NodeId kms_dir);
  void RefreshKmsKeys(ControlTree& tree, NodeId keys_dir);
  Status ReplaceKmsKeyConfig(const std::string& key_id, std::string_view json);
  Result<std::string> ReadKmsQuota();
  Status ReplaceKmsQuota(std::string_view json);
  // KMS rotations and deletions due by `t` (the clock's advance).
  Status AdvanceKms(TimeNs t);
  // Kinesis data streams (DESIGN §2.5; fs/shoal_fs_kinesis.cc): MNT/.kinesis.
  Status OpenStreams();
  // The .kinesis directory's hooks (mkdir creates a stream, rmdir deletes
  // one), and its stream directories for the streams that exist.
  ControlDir KinesisDir();
  void BuildKinesisTree(NodeId kinesis_dir);
  void AddStreamDir(ControlTree& tree, NodeId kinesis_dir, const std::string& stream);
  // shards/: one file per shard in the stream's map.
  void RefreshShardFiles(ControlTree& tree, NodeId shards_dir, const std::string& stream);
  // shards/<id>@<iterator>: made when looked up (not listed); nullptr when
  // the name is not one.
  std::shared_ptr<ControlNode> ResolveShardIterator(NodeId shards_dir, const std::string& stream,
                                                    std::string_view name);
  // Retention up to `t` (the clock's advance).
  Status AdvanceStreams(TimeNs t);
  // Tells the bill how many shards are open from `now` on.
  void CountOpenShards(TimeNs now);
  // On-demand scaling (StreamStore::ScaleOnDemand), at most once a real
  // second. Called by the ticker only.
  void ScaleStreams();
  // Firehose delivery streams (DESIGN §2.6; fs/shoal_fs_firehose.cc):
  // MNT/.firehose.
  Status OpenFirehose();
  ControlDir FirehoseDir();
  void BuildFirehoseTree(NodeId firehose_dir);
  void AddDeliveryStreamDir(ControlTree& tree, NodeId firehose_dir, const std::string& name);
  Result<std::string> FirehoseMetricsJson(const std::string& name);
  // Buffers whose interval the clock passed by `t` (the clock's advance).
  Status AdvanceFirehose(TimeNs t);
  // Encodes and writes `batch` (firehose_queue_'s work).
  void DeliverFirehose(const streams::FirehoseBatch& batch) EXCLUDES(advance_mu_);
  // Writes `deliveries`, then those that failed before; what fails again
  // waits for the next delivery or flush. Flushes the invalidations: never
  // call it holding advance_mu_.
  void WriteFirehose(std::vector<streams::FirehoseDelivery> deliveries) EXCLUDES(advance_mu_);
  // Everything every delivery stream buffers (unmount), delivered before
  // the queue's worker stops.
  void DeliverAllFirehose();
  // Kinesis sources: reads what the delivery streams' Kinesis streams hold
  // beyond their positions into their buffers (at most kPumpBytes a shard
  // per call). Never waits for deliveries.
  void PumpFirehoseSources() EXCLUDES(firehose_pump_mu_);
  // Reports a problem reading `c`'s source once, until it changes or goes
  // away (OK).
  void ReportPumpProblem(const streams::SourceCursor& c, const Status& s)
      REQUIRES(firehose_pump_mu_);
  // The pump's thread: pumps when woken (a Kinesis write) or each second,
  // and queues what that fills.
  void RunFirehosePump();
  void WakeFirehosePump();
  void StopFirehosePump();
  // Where each shard of `kinesis_stream` ends now (a new source's start).
  Result<streams::SourcePositions> LatestPositions(std::string_view kinesis_stream);
  // A batch of `stream` is all written (or reported lost): the store may
  // move its Kinesis source's checkpoint.
  void FinishBatch(const std::string& stream);
  // One delivery written or reported lost; the last of its batch finishes it.
  void FinishDelivery(const streams::FirehoseDelivery& d);
  // A PUT of the daemon's own (Firehose): `key` in `bucket`, its prefix's
  // directories made as needed, owned by the mount's owner.
  Status PutServiceObject(const std::string& bucket, const std::string& key,
                          std::string_view bytes);
  // What record sinks bill their PUT payload units with.
  std::function<void(std::uint64_t, TimeNs)> BillPutUnits();
  // One KMS audit record: to .shoal/audit.log, and to the bill.
  void OnKmsCall(const crypto::KmsAuditRecord& r);
  // Tells the bill how many customer managed keys exist (not pending
  // deletion: those are not charged) from `now` on.
  void CountKmsKeys(TimeNs now);
  // Replaces a control document with what was written through `h` (at
  // `last_close`, also with nothing, after an O_TRUNC open).
  Status ApplyControlWrite(Handle* h, bool last_close);
  // Open of a control file that serves each open itself (a session).
  Result<Opened> OpenSession(const std::shared_ptr<const ControlNode>& node, Ino ino, int flags);

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
  Mutex lifecycle_mu_;
  std::map<store::EntryId, std::shared_ptr<const lifecycle::LifecycleConfiguration>> lifecycles_
      GUARDED_BY(lifecycle_mu_);
  Mutex pending_mu_;
  std::vector<std::pair<Ino, std::string>> pending_invalidations_ GUARDED_BY(pending_mu_);
  Mutex invalidator_mu_;
  EntryInvalidator invalidator_ GUARDED_BY(invalidator_mu_);
  std::unique_ptr<crypto::RootKey> root_key_;
  std::unique_ptr<store::MetaStore> meta_;
  std::unique_ptr<tiers::BlobStore> blobs_;
  const tiers::StorageClass default_class_;
  tiers::EncodeOptions encode_options_;  // the default class's tier
  std::unique_ptr<tiers::BillingMeter> meter_;
  AuditLog audit_log_;
  std::unique_ptr<crypto::Kms> kms_;
  std::unique_ptr<ContentKeys> content_keys_;  // over root_key_ and kms_
  std::unique_ptr<streams::StreamStore> streams_;
  std::unique_ptr<streams::FirehoseStore> firehose_;
  std::unique_ptr<FirehoseQueue> firehose_queue_;
  Mutex firehose_retry_mu_;
  std::vector<streams::FirehoseDelivery> firehose_retry_ GUARDED_BY(firehose_retry_mu_);
  // Kinesis sources (fs/shoal_fs_firehose_source.cc): one pump at a time
  // reads them; the last problem reported per delivery stream.
  Mutex firehose_pump_mu_;
  std::map<std::string, std::string, std::less<>> firehose_pump_problems_
      GUARDED_BY(firehose_pump_mu_);
  std::mutex pump_wake_mu_;
  std::condition_variable pump_wake_cv_;
  bool pump_woken_ = false;  // guarded by pump_wake_mu_
  bool pump_stop_ = false;   // guarded by pump_wake_mu_
  std::thread firehose_pump_;
  // Reads of shard iterators waiting for records now (kMaxWaitingIteratorReads).
  std::atomic<int> waiting_iterator_reads_{0};
  std::chrono::steady_clock::time_point streams_scaled_at_;  // the ticker's own
  std::string streams_scale_failure_;  // the ticker's own: last logged, "" after a success
  // notification.json of the buckets that have one, by bucket id.
  struct BucketNotifications {
    std::string bucket;
    streams::NotificationConfig config;
  };
  Mutex notify_mu_;
  std::map<store::EntryId, BucketNotifications> notifications_ GUARDED_BY(notify_mu_);
  std::vector<PendingEvent> pending_events_ GUARDED_BY(notify_mu_);
  Mutex due_events_send_mu_;  // held while FlushDueEvents sends
  std::atomic<bool> any_notifications_{false};
  std::atomic<std::uint64_t> last_sequencer_{0};
  Mutex encryption_mu_;
  // Buckets' default encryption (encryption.json), by bucket id; absent: SSE-S3.
  std::map<store::EntryId, EncryptionChoice> encryptions_ GUARDED_BY(encryption_mu_);
  // Buckets whose stored encryption.json is damaged, and why.
  std::map<store::EntryId, Status> damaged_encryptions_ GUARDED_BY(encryption_mu_);
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
