#include "fs/shoal_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <unordered_set>
#include <utility>

#include "base/file_util.h"
#include "fs/object_class.h"
#include "fs/object_content.h"
#include "store/bucket_name.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;

namespace {

constexpr std::size_t kMaxSymlinkTarget = 4095;
constexpr std::size_t kMaxNameBytes = 255;  // NAME_MAX: one path component
// The I/O size the kernel and tools see; cp and stdio size buffers by it.
constexpr blksize_t kBlockSize = blksize_t{128} << 10;
// Files that grow as records arrive (shard views): cat and cp read this much
// per call, one FUSE request each, the largest the kernel sends.
constexpr blksize_t kStreamBlockSize = blksize_t{1} << 20;

timespec ToTimespec(TimeNs t) {
  return {static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
}

TimeNs FromTimespec(const timespec& ts) {
  return static_cast<TimeNs>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Status CheckNameLength(std::string_view name) {
  if (name.size() > kMaxNameBytes) {
    return {Code::kKeyTooLong, "a path component is longer than 255 bytes"};
  }
  return Status::Ok();
}

}  // namespace

ShoalFs::ShoalFs(std::unique_ptr<store::StoreDir> dir, const Options& options)
    : dir_(std::move(dir)),
      // Moved to where it starts by StartClock, once the saved clock is read.
      clock_(options.clock_start.value_or(0), options.clock_rate, elapsed_),
      default_class_(options.default_class),
      encode_options_(tiers::InfoOf(options.default_class).encoding),
      errors_(clock_),
      mount_time_(0),
      owner_uid_(::getuid()),
      owner_gid_(::getgid()) {}

ShoalFs::~ShoalFs() {
  StopTicker();
  DeliverAllFirehose();  // unmount delivers what is buffered
  if (clock_started_) {
    MutexLock lock(advance_mu_);
    (void)SaveSimulation();
  }
  // A clean shutdown: everything committed is durable, and the next mount
  // need not look for orphaned blobs.
  if (meta_ && !meta_->Sync().ok()) return;  // keep RUNNING: sweep next time
  if (dir_) ::unlink((dir_->path() + "/RUNNING").c_str());
}

Result<std::unique_ptr<ShoalFs>> ShoalFs::Open(std::unique_ptr<store::StoreDir> dir,
                                               const Options& options) {
  std::unique_ptr<ShoalFs> fs(new ShoalFs(std::move(dir), options));
  Status s = fs->Init(options);
  if (!s.ok()) return s;
  return fs;
}

Status ShoalFs::Init(const Options& options) {
  auto key = crypto::RootKey::LoadOrCreate(dir_->root_key_path());
  if (!key.ok()) return key.status();
  root_key_ = std::move(*key);
  auto meta = store::MetaStore::Open(dir_->meta_dir());
  if (!meta.ok()) return meta.status();
  meta_ = std::move(*meta);
  auto blobs = tiers::BlobStore::Open(dir_->blobs_dir(), *root_key_);
  if (!blobs.ok()) return blobs.status();
  blobs_ = std::move(*blobs);
  Status opened = OpenKms();
  if (!opened.ok()) return opened;
  opened = OpenStreams();
  if (!opened.ok()) return opened;
  opened = OpenFirehose();
  if (!opened.ok()) return opened;

  auto swept = blobs_->SweepTemporaries();
  if (!swept.ok()) return swept.status();
  // A RUNNING marker left behind means the last daemon died: blobs written
  // for commits that never reached the metadata are orphans; remove them.
  const std::string running = dir_->path() + "/RUNNING";
  if (::access(running.c_str(), F_OK) == 0) {
    std::unordered_set<std::string> referenced;
    bool damaged = false;  // an entry that does not decode may name any blob
    Status s = meta_->View([&](Txn& txn) {
      Status scan = txn.ScanAll([&](store::EntryId, std::string_view, bool, Result<Entry> e) {
        if (!e.ok()) damaged = true;
        if (e.ok() && !e->blob_id.empty()) referenced.insert(e->blob_id);
        return Status::Ok();
      });
      if (!scan.ok()) return scan;
      return txn.ScanAllVersions([&](const store::VersionLocation&, Result<Entry> v) {
        if (!v.ok()) damaged = true;
        if (v.ok() && !v->blob_id.empty()) referenced.insert(v->blob_id);
        return Status::Ok();
      });
    });
    if (!s.ok()) return s;
    auto on_disk = blobs_->List();
    if (!on_disk.ok()) return on_disk.status();
    for (const auto& id : *on_disk) {
      if (!damaged && referenced.count(id) == 0) (void)blobs_->Remove(id);
    }
  }
  Status s = WriteFileDurably(running, "", 0600);
  if (!s.ok()) return s;
  BuildControlTree();
  s = LoadLifecycles();
  if (!s.ok()) return s;
  s = LoadEncryptions();
  if (s.ok()) s = LoadNotifications();
  if (!s.ok()) return s;
  return StartClock(options);
}

void ShoalFs::BuildControlTree() {
  auto shoal = control_.AddDir(store::kRootId, ".shoal", {});
  if (!shoal.ok()) return;
  (void)control_.AddFile(*shoal, "errors",
                         {.read = [this] { return Result<std::string>(errors_.Snapshot()); }});
  (void)control_.AddFile(*shoal, "stats.json", {.read = [this] {
    return Result<std::string>(stats_.ToJson(meta_->MapSize(), control_.LookupIdCount()));
  }});
  (void)control_.AddFile(
      *shoal, "clock",
      {.read = [this] { return Result<std::string>(FormatIso8601(clock_.Now()) + "\n"); },
       .append = [this](std::string_view data) { return ApplyClockCommand(data); }});
  (void)control_.AddFile(*shoal, "billing.json", {.read = [this] {
    return Result<std::string>(meter_->ToJson(clock_.Now()));
  }});
  (void)control_.AddFile(
      *shoal, "prices.json",
      {.read = [this] { return ReadPrices(); },
       .replace = [this](std::string_view json) { return ReplacePrices(json); }});

  (void)control_.AddFile(*shoal, "audit.log", {.read = [this] { return audit_log_.Snapshot(); }});
  if (auto kms = control_.AddDir(store::kRootId, ".kms", {}); kms.ok()) BuildKmsTree(*kms);
  if (auto kinesis = control_.AddDir(store::kRootId, ".kinesis", KinesisDir()); kinesis.ok()) {
    BuildKinesisTree(*kinesis);
  }
  if (auto firehose = control_.AddDir(store::kRootId, ".firehose", FirehoseDir()); firehose.ok()) {
    BuildFirehoseTree(*firehose);
  }

  auto s3 = control_.AddDir(store::kRootId, ".s3", {});
  if (!s3.ok()) return;
  s3_dir_ = *s3;
  std::vector<std::string> buckets;
  Status listed = meta_->View([&](Txn& txn) {
    std::optional<Txn::Cursor> after;
    for (;;) {
      auto batch = txn.List(store::kRootId, after, 1000);
      if (!batch.ok()) return batch.status();
      if (batch->empty()) return Status::Ok();
      for (const auto& c : *batch) buckets.push_back(c.name);
      after = Txn::Cursor{batch->back().name, true};
    }
  });
  if (!listed.ok()) errors_.Record(".s3", listed);
  for (const auto& b : buckets) AddBucketConfigDir(b);
}

// ---------------------------------------------------------------------------
// Attributes and entries

struct stat ShoalFs::RootAttr() const {
  struct stat st {};
  st.st_ino = store::kRootId;
  st.st_mode = S_IFDIR | 0755;
  st.st_nlink = 1;
  st.st_uid = owner_uid_;
  st.st_gid = owner_gid_;
  st.st_atim = st.st_mtim = st.st_ctim = ToTimespec(mount_time_);
  st.st_blksize = kBlockSize;
  return st;
}

void ShoalFs::SetEntryInvalidator(EntryInvalidator fn) {
  MutexLock lock(invalidator_mu_);
  invalidator_ = std::move(fn);
}

void ShoalFs::InvalidateEntry(Ino parent, std::string_view name) {
  MutexLock lock(invalidator_mu_);
  if (invalidator_) invalidator_(parent, name);
}

struct stat ShoalFs::ControlAttr(const ControlNode& node) const {
  struct stat st = RootAttr();
  st.st_ino = node.id;
  st.st_mode = (node.is_dir ? S_IFDIR : S_IFREG) | node.mode();
  if (!node.is_dir) {
    st.st_size =
        static_cast<off_t>(node.file.current_size ? node.file.current_size() : node.file.size);
    if (node.file.current_size) st.st_blksize = kStreamBlockSize;
    if (node.file.mtime != 0) {
      st.st_mtim = ToTimespec(node.file.mtime);
      st.st_ctim = st.st_mtim;
    }
  }
  return st;
}

struct stat ShoalFs::AttrOf(const Entry& e, Inode* inode) {
  struct stat st {};
  st.st_ino = e.id;
  st.st_nlink = 1;  // 1 for directories too: "unknown", so find does not guess
  st.st_uid = e.uid;
  st.st_gid = e.gid;
  st.st_blksize = kBlockSize;
  TimeNs mtime = e.mtime;
  std::uint64_t size = e.size;
  std::uint32_t mode = e.mode;
  if (inode != nullptr && e.kind == EntryKind::kFile) {
    std::shared_ptr<Staging> staging;
    {
      MutexLock lock(inode->content_mu);
      if (inode->detached) st.st_nlink = 0;
      staging = inode->staging;
      if (!staging && inode->committed) {
        size = inode->committed->size;
        mtime = inode->committed->mtime;
      }
    }
    if (staging) {
      size = staging->size();
      mtime = staging->mtime();
      Staging::Amendment amended = staging->amended();
      if (amended.mode) mode = *amended.mode;
      if (amended.uid) st.st_uid = *amended.uid;
      if (amended.gid) st.st_gid = *amended.gid;
    }
  }
  switch (e.kind) {
    case EntryKind::kBucket:
    case EntryKind::kDirectory: st.st_mode = S_IFDIR | mode; break;
    case EntryKind::kSymlink:
      st.st_mode = S_IFLNK | 0777;
      st.st_size = static_cast<off_t>(e.symlink_target.size());
      break;
    case EntryKind::kFile:
      st.st_mode = S_IFREG | mode;
      st.st_size = static_cast<off_t>(size);
      st.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
      break;
  }
  st.st_atim = st.st_mtim = ToTimespec(mtime);
  st.st_ctim = ToTimespec(std::max(e.ctime, mtime));
  return st;
}

Result<Entry> ShoalFs::EntryAt(Txn& txn, Ino ino) {
  auto where = inodes_.Where(ino);
  if (!where || where->unlinked) return NoSuchKey("the object no longer exists");
  auto got = txn.Get(where->parent, where->name, where->is_dir);
  if (!got.ok()) return got.status();
  if (!*got || (*got)->id != ino) return NoSuchKey("the object no longer exists");
  return std::move(**got);
}

Result<Entry> ShoalFs::EntryOf(Ino ino) {
  std::optional<Entry> out;
  Status s = meta_->View([&](Txn& txn) {
    auto e = EntryAt(txn, ino);
    if (!e.ok()) return e.status();
    out = std::move(*e);
    return Status::Ok();
  });
  if (s.code() == Code::kNoSuchKey) {
    if (auto inode = inodes_.Find(ino)) {
      MutexLock lock(inode->content_mu);
      if (inode->detached) return *inode->detached;
    }
  }
  if (!s.ok()) return s;
  return std::move(*out);
}

void ShoalFs::RemoveBlobAfterSync(const std::string& blob_id) {
  // A commit is durable against a machine crash only after the next sync;
  // until then a crash may bring back the entry that names this blob.
  if (meta_->Sync().ok()) (void)blobs_->Remove(blob_id);
}

void ShoalFs::Detach(const Entry& e) {
  inodes_.Unlinked(e.id);
  if (auto inode = inodes_.Find(e.id)) {
    MutexLock lock(inode->content_mu);
    inode->detached = e;
  }
}

Status ShoalFs::TouchDir(Txn& txn, Ino dir, TimeNs now) {
  if (dir == store::kRootId) return Status::Ok();
  auto where = inodes_.Where(dir);
  auto e = EntryAt(txn, dir);
  if (!e.ok()) return e.status();
  e->mtime = e->ctime = now;
  return txn.Put(where->parent, where->name, *e);
}

Status ShoalFs::CheckKeyLength(Ino parent, std::string_view name, bool is_dir) {
  Status s = CheckNameLength(name);
  if (!s.ok()) return s;
  if (parent == store::kRootId) return Status::Ok();
  auto path = inodes_.PathOf(parent);
  if (!path) return NoSuchKey("the directory no longer exists");
  // path is "/bucket[/dirs]"; the key is what follows "/bucket/".
  std::size_t slash = path->find('/', 1);
  std::size_t key_bytes = slash == std::string::npos ? 0 : path->size() - slash;
  key_bytes += name.size() + (is_dir ? 1 : 0);
  if (key_bytes > store::kMaxKeyBytes) {
    return {Code::kKeyTooLong,
            "Your key is too long (" + std::to_string(key_bytes) + " bytes; the maximum is 1024)"};
  }
  return Status::Ok();
}

Result<struct stat> ShoalFs::Lookup(Ino parent, std::string_view name) {
  Status named = CheckNameLength(name);
  if (!named.ok()) return named;
  if (IsControlId(parent) || parent == store::kRootId) {
    control_.Refresh(parent);
    if (auto found = control_.LookupForKernel(parent, name)) {
      struct stat st = ControlAttr(*found->node);
      st.st_ino = found->id;
      return st;
    }
    if (IsControlId(parent)) return NoSuchKey("no such control file");
  }
  std::optional<Entry> found;
  Status s = meta_->View([&](Txn& txn) {
    auto e = txn.Lookup(parent, name);
    if (!e.ok()) return e.status();
    found = std::move(*e);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!found) {
    return Status(parent == store::kRootId ? Code::kNoSuchBucket : Code::kNoSuchKey,
                  "The specified key does not exist.");
  }
  auto inode = inodes_.Learn(found->id, parent, std::string(name), found->is_dir());
  return AttrOf(*found, inode.get());
}

void ShoalFs::Forget(Ino ino, std::uint64_t n) {
  if (IsControlId(ino)) {
    control_.Forget(ino, n);
  } else {
    inodes_.Forget(ino, n);
  }
}

Result<struct stat> ShoalFs::GetAttr(Ino ino) {
  if (ino == store::kRootId) return RootAttr();
  if (IsControlId(ino)) {
    auto node = control_.Find(ino);
    if (!node) return NoSuchKey("no such control file");
    struct stat st = ControlAttr(*node);
    st.st_ino = ino;  // a lookup id of the node (ControlTree::LookupForKernel)
    return st;
  }
  auto e = EntryOf(ino);
  if (!e.ok()) return e.status();
  return AttrOf(*e, inodes_.Find(ino).get());
}

Result<std::string> ShoalFs::ReadLink(Ino ino) {
  auto e = EntryOf(ino);
  if (!e.ok()) return e.status();
  if (e->kind != EntryKind::kSymlink) return InvalidArgument("not a symbolic link");
  return e->symlink_target;
}

Result<struct stat> ShoalFs::AddEntry(const Caller& who, Ino parent, std::string_view name,
                                      Entry entry) {
  TimeNs now = clock_.Now();
  std::vector<Entry> dropped;
  entry.uid = who.uid;
  entry.gid = who.gid;
  entry.mtime = entry.ctime = entry.created = now;
  if (entry.kind == EntryKind::kFile) {
    crypto::Md5 md5;
    entry.md5 = md5.Finish();
    EnterClass(entry, default_class_, now);
  }
  Status s = meta_->Update(
      [&](Txn& txn) -> Status {
        auto existing = txn.Lookup(parent, name);
        if (!existing.ok()) return existing.status();
        if (*existing) {
          if (entry.kind == EntryKind::kBucket) {
            return {Code::kBucketAlreadyExists,
                    "BucketAlreadyOwnedByYou: Your previous request to create the named bucket "
                    "succeeded and you already own it."};
          }
          return {Code::kAlreadyExists, "an object or directory of that name exists"};
        }
        Status t = TouchDir(txn, parent, now);
        if (!t.ok()) return t;
        auto id = txn.NewId();
        if (!id.ok()) return id.status();
        entry.id = *id;
        dropped.clear();
        std::optional<ObjectKey> key;
        if (entry.kind == EntryKind::kFile) {
          auto k = KeyIn(txn, parent, name);
          if (!k.ok()) return k.status();
          auto vid = ClaimVersionId(txn, *k, now, dropped);
          if (!vid.ok()) return vid.status();
          entry.version_id = std::move(*vid);
          key = std::move(*k);
        }
        t = txn.Put(parent, name, entry);
        if (t.ok() && key) t = ScheduleClassWork(txn, entry, &*key);
        if (t.ok() && key) t = ScheduleKeyVersions(txn, *key);
        return t;
      },
      [&] {
        Bill(nullptr, &entry, now);
        FreeDropped(dropped, now);
      });
  if (!s.ok()) return s;
  if (entry.kind == EntryKind::kBucket) AddBucketConfigDir(std::string(name));
  auto inode = inodes_.Learn(entry.id, parent, std::string(name), entry.is_dir());
  return AttrOf(entry, inode.get());
}

Result<struct stat> ShoalFs::Mkdir(const Caller& who, Ino parent, std::string_view name,
                                   mode_t mode) {
  if (IsControlId(parent)) {
    Status s = control_.Mkdir(parent, name);
    if (!s.ok()) return s;
    return Lookup(parent, name);
  }
  Entry e;
  e.mode = mode & 07777;
  if (parent == store::kRootId) {
    if (control_.Lookup(parent, name)) return Status(Code::kAlreadyExists, "reserved name");
    Status s = store::ValidateBucketName(name);
    if (!s.ok()) return s;
    e.kind = EntryKind::kBucket;
  } else {
    Status s = CheckKeyLength(parent, name, true);
    if (!s.ok()) return s;
    e.kind = EntryKind::kDirectory;
    e.marker = true;
  }
  return AddEntry(who, parent, name, std::move(e));
}

Result<struct stat> ShoalFs::Symlink(const Caller& who, std::string_view target, Ino parent,
                                     std::string_view name) {
  if (IsControlId(parent) || parent == store::kRootId) {
    return Status(Code::kNotPermitted, "symbolic links belong inside a bucket");
  }
  if (target.size() > kMaxSymlinkTarget) {
    return Status(Code::kKeyTooLong, "symbolic link target is too long");
  }
  Status s = CheckKeyLength(parent, name, false);
  if (!s.ok()) return s;
  Entry e;
  e.kind = EntryKind::kSymlink;
  e.mode = 0777;
  e.symlink_target = std::string(target);
  return AddEntry(who, parent, name, std::move(e));
}

Status ShoalFs::Unlink(Ino parent, std::string_view name) {
  Status named = CheckNameLength(name);
  if (!named.ok()) return named;
  if (IsControlId(parent)) return control_.Unlink(parent, name);
  if (parent == store::kRootId) return {Code::kNotPermitted, "cannot remove this entry"};
  std::optional<Entry> removed;
  bool kept = false;
  std::vector<Entry> dropped;
  std::optional<ObjectKey> removed_key;
  std::string marker_version;
  TimeNs now = clock_.Now();
  Status s = meta_->Update(
      [&](Txn& txn) -> Status {
        removed.reset();
        removed_key.reset();
        marker_version.clear();
        auto e = txn.Get(parent, name, false);
        if (!e.ok()) return e.status();
        if (!*e) {
          auto dir = txn.Get(parent, name, true);
          if (dir.ok() && *dir) return {Code::kIsADirectory, "is a directory"};
          return NoSuchKey("The specified key does not exist.");
        }
        // In a versioned bucket the object stays as a noncurrent version
        // under a new delete marker.
        auto key = KeyIn(txn, parent, name);
        if (!key.ok()) return key.status();
        auto keep = KeepNoncurrent(txn, *key, **e, now);
        if (!keep.ok()) return keep.status();
        kept = *keep;
        dropped.clear();
        Status r = txn.Remove(parent, name, false);
        if (r.ok() && !kept) r = txn.RemoveContent((*e)->id);
        if (r.ok() && (*e)->kind == EntryKind::kFile) {
          r = AddDeleteMarker(txn, *key, now, dropped, &marker_version);
        }
        if (r.ok()) r = ScheduleKeyVersions(txn, *key);
        if (!r.ok()) return r;
        if ((*e)->kind == EntryKind::kFile) removed_key = std::move(*key);
        removed = std::move(**e);
        return TouchDir(txn, parent, now);
      },
      [&] {
        Detach(*removed);
        if (!kept) Bill(&*removed, nullptr, now);
      });
  if (!s.ok()) return s;
  // Open readers keep their file descriptor (or inline image); the blob
  // file may go once the removal is durable.
  if (!kept && !removed->blob_id.empty()) RemoveBlobAfterSync(removed->blob_id);
  FreeDropped(dropped, now);
  if (removed_key) NotifyRemoval(*removed_key, "ObjectRemoved", marker_version, now);
  return Status::Ok();
}

Status ShoalFs::Rmdir(Ino parent, std::string_view name) {
  Status named = CheckNameLength(name);
  if (!named.ok()) return named;
  if (IsControlId(parent)) return control_.Rmdir(parent, name);
  if (parent == store::kRootId && control_.Lookup(parent, name)) {
    return {Code::kNotPermitted, "control directories cannot be removed"};
  }
  std::optional<Entry> removed;
  TimeNs now = clock_.Now();
  Status s = meta_->Update(
      [&](Txn& txn) -> Status {
        auto e = txn.Get(parent, name, true);
        if (!e.ok()) return e.status();
        if (!*e) {
          auto file = txn.Get(parent, name, false);
          if (file.ok() && *file) return {Code::kNotADirectory, "not a directory"};
          return NoSuchKey("The specified key does not exist.");
        }
        auto empty = txn.IsEmpty((*e)->id);
        if (!empty.ok()) return empty.status();
        if (*empty && (*e)->kind == EntryKind::kBucket) {
          // S3 deletes a bucket only once every version is gone too.
          auto versions = txn.ListVersions((*e)->id, "", std::nullopt, 1);
          if (!versions.ok()) return versions.status();
          *empty = versions->empty();
        }
        if (!*empty) {
          if ((*e)->kind == EntryKind::kBucket) {
            return {Code::kBucketNotEmpty, "The bucket you tried to delete is not empty"};
          }
          return {Code::kNotEmpty, "The directory is not empty"};
        }
        Status r = txn.Remove(parent, name, true);
        if (r.ok() && (*e)->kind == EntryKind::kBucket) r = txn.RemoveConfigs((*e)->id);
        if (!r.ok()) return r;
        removed = std::move(**e);
        return TouchDir(txn, parent, now);
      },
      [&] {
        Detach(*removed);
        if (removed->kind == EntryKind::kBucket) {
          {
            MutexLock lock(lifecycle_mu_);
            lifecycles_.erase(removed->id);
          }
          MutexLock lock(notify_mu_);
          notifications_.erase(removed->id);
        }
      });
  if (s.ok() && removed->kind == EntryKind::kBucket) RemoveBucketConfigDir(std::string(name));
  return s;
}

Status ShoalFs::Rename(Ino parent, std::string_view name, Ino new_parent, std::string_view new_name,
                       unsigned int flags) {
  if (IsControlId(parent) || IsControlId(new_parent)) {
    return {Code::kNotPermitted, "control files cannot be renamed"};
  }
  if (parent == store::kRootId || new_parent == store::kRootId) {
    return {Code::kNotPermitted, "buckets cannot be renamed; copy the objects instead"};
  }
  if ((flags & ~static_cast<unsigned>(RENAME_NOREPLACE)) != 0) {
    return InvalidArgument("only RENAME_NOREPLACE is supported among rename flags");
  }
  std::optional<Entry> moved;
  std::optional<Entry> replaced;
  bool replaced_kept = false;
  std::vector<Entry> dropped;
  // A moved object's old and new key, for its events; the old key's marker.
  std::optional<std::pair<ObjectKey, ObjectKey>> moved_keys;
  std::string moved_marker;
  TimeNs now = clock_.Now();
  // The KMS calls of re-wrapping moved objects' keys come first, outside
  // the transaction; inside it only the seals.
  auto moves = PrepareMoves(parent, name, new_parent, new_name, now);
  if (!moves.ok()) return moves.status();
  Status s = meta_->Update(
      [&](Txn& txn) -> Status {
        moved.reset();
        moved_keys.reset();
        moved_marker.clear();
        replaced.reset();
        replaced_kept = false;
        dropped.clear();
        auto src = txn.Lookup(parent, name);
        if (!src.ok()) return src.status();
        if (!*src) return NoSuchKey("The specified key does not exist.");
        Status k = CheckKeyLength(new_parent, new_name, (*src)->is_dir());
        if (!k.ok()) return k;
        auto dst = txn.Lookup(new_parent, new_name);
        if (!dst.ok()) return dst.status();
        if (*dst) {
          if ((*dst)->id == (*src)->id) return Status::Ok();
          if ((flags & RENAME_NOREPLACE) != 0) {
            return {Code::kAlreadyExists, "the destination exists"};
          }
          if ((*src)->is_dir()) {
            if (!(*dst)->is_dir()) return {Code::kNotADirectory, "destination is not a directory"};
            auto empty = txn.IsEmpty((*dst)->id);
            if (!empty.ok()) return empty.status();
            if (!*empty) return {Code::kNotEmpty, "destination directory is not empty"};
          } else if ((*dst)->is_dir()) {
            return {Code::kIsADirectory, "destination is a directory"};
          }
          if (!(*dst)->is_dir()) {
            auto dst_key = KeyIn(txn, new_parent, new_name);
            if (!dst_key.ok()) return dst_key.status();
            auto keep = KeepNoncurrent(txn, *dst_key, **dst, now);
            if (!keep.ok()) return keep.status();
            replaced_kept = *keep;
          }
          Status r = txn.Remove(new_parent, new_name, (*dst)->is_dir());
          if (r.ok() && !replaced_kept) r = txn.RemoveContent((*dst)->id);
          if (!r.ok()) return r;
          replaced = std::move(**dst);
        }
        Status r = txn.Remove(parent, name, (*src)->is_dir());
        if (!r.ok()) return r;
        Entry e = std::move(**src);
        e.ctime = now;
        if (e.kind == EntryKind::kFile) {
          // S3 has no rename: a copy to the new key (a new version there)
          // and a delete of the old one (a delete marker there).
          auto src_key = KeyIn(txn, parent, name);
          auto dst_key = KeyIn(txn, new_parent, new_name);
          if (!src_key.ok()) return src_key.status();
          if (!dst_key.ok()) return dst_key.status();
          r = AddDeleteMarker(txn, *src_key, now, dropped, &moved_marker);
          if (r.ok()) r = ScheduleKeyVersions(txn, *src_key);
          if (!r.ok()) return r;
          auto vid = ClaimVersionId(txn, *dst_key, now, dropped);
          if (!vid.ok()) return vid.status();
          const std::string old_version = std::exchange(e.version_id, std::move(*vid));
          if (!e.key_envelope.empty()) {
            auto envelope =
                MovedEnvelope(*moves, e, *src_key, old_version, *dst_key, e.version_id, now);
            if (!envelope.ok()) return envelope.status();
            e.key_envelope = std::move(*envelope);
          }
          r = txn.Put(new_parent, new_name, e);
          if (r.ok()) r = ScheduleClassWork(txn, e, &*dst_key);
          if (r.ok()) r = ScheduleKeyVersions(txn, *dst_key);
          moved_keys.emplace(std::move(*src_key), std::move(*dst_key));
        } else {
          r = txn.Put(new_parent, new_name, e);
          if (r.ok() && e.kind != EntryKind::kSymlink) {
            // Every object below now has a new key: its key envelope follows.
            auto src_key = KeyIn(txn, parent, name);
            auto dst_key = KeyIn(txn, new_parent, new_name);
            if (!src_key.ok()) return src_key.status();
            if (!dst_key.ok()) return dst_key.status();
            r = MoveContentKeysBelow(txn, *moves, e.id, *src_key, *dst_key, now);
          }
        }
        if (!r.ok()) return r;
        moved = std::move(e);
        r = TouchDir(txn, parent, now);
        if (!r.ok()) return r;
        return new_parent == parent ? Status::Ok() : TouchDir(txn, new_parent, now);
      },
      [&] {
        if (moved) inodes_.Moved(moved->id, new_parent, std::string(new_name));
        if (replaced) {
          Detach(*replaced);
          if (!replaced_kept) Bill(&*replaced, nullptr, now);
        }
      });
  if (!s.ok()) return s;
  if (replaced && !replaced_kept && !replaced->blob_id.empty()) {
    RemoveBlobAfterSync(replaced->blob_id);
  }
  FreeDropped(dropped, now);
  if (moved_keys) {  // a CopyObject to the new key, a DeleteObject of the old
    NotifyS3(moved_keys->second, "ObjectCreated:Copy", &*moved, now);
    NotifyRemoval(moved_keys->first, "ObjectRemoved", moved_marker, now);
  }
  return Status::Ok();
}

Status ShoalFs::Link(Ino, Ino, std::string_view) {
  return {Code::kNotPermitted, "hard links are not supported: every S3 key names its own object"};
}

// ---------------------------------------------------------------------------
// setattr

Result<struct stat> ShoalFs::SetAttr(Ino ino, const SetAttrRequest& req) {
  if (ino == store::kRootId || IsControlId(ino)) {
    if (req.mode || req.uid || req.gid) {
      return Status(Code::kNotPermitted, "control files keep their attributes");
    }
    return GetAttr(ino);  // truncation and times of control files: no-op
  }
  auto inode = inodes_.Find(ino);
  if (!inode) return Status(NoSuchKey("the object no longer exists"));
  TimeNs now = clock_.Now();
  if (req.size) {
    auto e = EntryOf(ino);
    if (!e.ok()) return e.status();
    if (e->is_dir()) return Status(Code::kIsADirectory, "is a directory");
    auto size = static_cast<std::uint64_t>(req.values.st_size);
    auto st = AcquireStaging(inode, size == 0);
    if (!st.ok()) return st.status();
    Status s = (*st)->Truncate(size, now);
    Status r = ReleaseStaging(inode);
    if (!s.ok()) return s;
    if (!r.ok()) return r;
  }
  if (req.mode || req.uid || req.gid || req.atime || req.mtime) {
    std::optional<TimeNs> new_mtime;
    if (req.mtime) new_mtime = req.mtime_now ? now : FromTimespec(req.values.st_mtim);
    Staging::Amendment change;
    if (req.mode) change.mode = req.values.st_mode & 07777;
    if (req.uid) change.uid = req.values.st_uid;
    if (req.gid) change.gid = req.values.st_gid;
    change.mtime = new_mtime;
    auto apply = [&](Entry& e) {
      if (change.mode) e.mode = *change.mode;
      if (change.uid) e.uid = *change.uid;
      if (change.gid) e.gid = *change.gid;
      if (change.mtime) e.mtime = *change.mtime;
      e.ctime = now;
    };
    bool done_in_memory = false;
    {
      MutexLock lock(inode->content_mu);
      if (inode->staging && inode->staging->AmendIfDirty(change)) {
        // An object with uncommitted writes (cp -a sets owner, mode and
        // times before its close): the coming commit records the change.
        done_in_memory = true;
      } else if (inode->detached) {
        // Unlinked but still open (fchmod, futimens): the attributes live
        // on with the detached entry only.
        apply(*inode->detached);
        done_in_memory = true;
      }
    }
    if (done_in_memory) return GetAttr(ino);
    Status s = meta_->Update([&](Txn& txn) -> Status {
      auto e = EntryAt(txn, ino);
      if (!e.ok()) return e.status();
      apply(*e);
      auto where = inodes_.Where(ino);
      return txn.Put(where->parent, where->name, *e);
    });
    if (!s.ok()) return s;
    if (new_mtime) {
      MutexLock lock(inode->content_mu);
      if (inode->staging) inode->staging->SetMtime(*new_mtime);
      if (inode->committed) inode->committed->mtime = *new_mtime;
    }
  }
  return GetAttr(ino);
}

void ShoalFs::RecordError(Ino ino, std::string_view name, const Status& status) {
  std::string path;
  if (IsControlId(ino)) {
    path = "/?";
    auto node = control_.Find(ino);
    if (node) path.clear();
    for (int depth = 0; node && depth < 16; ++depth) {
      path = "/" + node->name + path;
      node = node->parent == store::kRootId ? nullptr : control_.Find(node->parent);
    }
  } else {
    path = inodes_.PathOf(ino).value_or("/?");
  }
  if (!name.empty()) {
    if (path.back() != '/') path += '/';
    path += name;
  }
  errors_.Record(path, status);
}

}  // namespace shoal::fs
