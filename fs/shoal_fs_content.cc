// ShoalFs: object content — opening, reading and writing files, and the
// commit that turns a staging copy into a new blob (the PUT).
#include <fcntl.h>

#include <algorithm>

#include "fs/handle.h"
#include "fs/object_class.h"
#include "fs/object_content.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;
using tiers::StorageClass;

namespace {
constexpr std::size_t kMaxControlWrite = 1 << 20;
}  // namespace

namespace {
// What identifies the committed content behind an entry, for reusing an open
// reader: the blob id, or for inline content its ETag (equal ETags, equal
// bytes); empty for an empty object.
std::string ContentKey(const Entry& e) {
  if (!e.blob_id.empty()) return e.blob_id;
  if (e.size == 0) return std::string();
  return "inline:" + e.md5;
}
}  // namespace

Result<std::shared_ptr<tiers::BlobReader>> ShoalFs::CommittedReader(
    const std::shared_ptr<Inode>& inode, const Entry& entry) {
  Entry current = entry;
  for (int attempt = 1;; ++attempt) {
    auto reader = ReaderOf(inode, current);
    if (reader.ok() || attempt == 3) return reader;
    // The object may have been rewritten since `current` was read, and its
    // old content be gone already, or renamed while it was being looked up
    // (NoSuchKey): try again with the entry as it is now.
    auto fresh = EntryOf(inode->ino);
    if (!fresh.ok()) return reader;
    if (ContentKey(*fresh) == ContentKey(current) && reader.status().code() != Code::kNoSuchKey) {
      return reader;
    }
    current = std::move(*fresh);
  }
}

Result<std::shared_ptr<tiers::BlobReader>> ShoalFs::ReaderOf(const std::shared_ptr<Inode>& inode,
                                                             const Entry& entry) {
  const std::string key = ContentKey(entry);
  {
    MutexLock lock(inode->content_mu);
    // Only SSE-S3 readers are shared between opens. Under SSE-KMS every
    // open asks KMS, as every GET does (and is refused once the key is
    // disabled); under SSE-C every open needs the customer's key (and is
    // refused once it is forgotten). Open handles keep their reader.
    if (inode->reader && inode->reader_blob == key && entry.sse == "AES256") {
      return inode->reader;
    }
  }
  if (key.empty()) return std::shared_ptr<tiers::BlobReader>();
  // The entry as stored now, and its key, from one snapshot: its key
  // envelope opens only for the key it has in that snapshot (a rename
  // re-seals it).
  auto stored = StoredObjectOf(inode->ino);
  if (!stored.ok()) return stored.status();
  if (ContentKey(stored->entry) != key) {
    return NoSuchKey("the object changed while it was being opened");
  }
  auto opened = OpenObjectContent(*meta_, *blobs_, *content_keys_, stored->key, stored->entry,
                                  clock_.Now(), RequestUid(), std::move(stored->inline_image));
  if (!opened.ok()) return opened.status();
  std::shared_ptr<tiers::BlobReader> reader = std::move(*opened);
  if (reader->size() != entry.size || reader->md5() != entry.md5) {
    return Corrupt("object content does not match its metadata (size or ETag)");
  }
  MutexLock lock(inode->content_mu);
  // Never replace an installed reader: a commit may have installed a newer
  // one since `entry` was read. This handle still reads what it opened.
  if (!inode->reader) {
    inode->reader = reader;
    inode->reader_blob = key;
  }
  return reader;
}

Result<std::shared_ptr<Staging>> ShoalFs::AcquireStaging(const std::shared_ptr<Inode>& inode,
                                                         bool truncate) {
  TimeNs now = clock_.Now();
  bool shared = false;
  {
    MutexLock lock(inode->content_mu);
    shared = inode->staging != nullptr;
  }
  if (shared && !truncate) {
    // Joining a writer still reads the object: under SSE-KMS that needs
    // KMS's consent (a Decrypt), under SSE-C the customer's key, as opening
    // it for reading does.
    auto entry = EntryOf(inode->ino);
    if (!entry.ok()) return entry.status();
    if (entry->sse != "AES256" && entry->size > 0) {
      auto reader = CommittedReader(inode, *entry);
      if (!reader.ok()) return reader.status();
    }
  }
  {
    // Not while a last close commits (ReleaseStaging): that commit is of
    // what its writers wrote, not of this open's O_TRUNC or writes.
    MutexLock commit_lock(inode->commit_mu);
    MutexLock lock(inode->content_mu);
    if (inode->staging) {
      ++inode->writers;
      auto st = inode->staging;
      if (truncate) {
        Status s = st->Truncate(0, now);
        if (!s.ok()) {
          --inode->writers;
          return s;
        }
      }
      return st;
    }
  }
  // First writer: build the staging copy without holding the lock (I/O).
  auto entry = EntryOf(inode->ino);
  if (!entry.ok()) return entry.status();
  std::shared_ptr<tiers::BlobReader> base;
  if (entry->size > 0 && !truncate) {
    // Changing part of an object needs its content: a GET of it.
    if (NeedsRestore(*entry, clock_.Now())) return ArchivedError(*entry);
    auto reader = CommittedReader(inode, *entry);
    if (!reader.ok()) return reader.status();
    base = std::move(*reader);
  }
  auto options = EncodeOptionsOf(inode->ino);
  if (!options.ok()) return options.status();
  auto created = Staging::Create(dir_->staging_dir(), std::move(base), entry->mtime,
                                 Staging::StreamTarget{blobs_.get(), *options});
  if (!created.ok()) return created.status();
  std::shared_ptr<Staging> st = std::move(*created);
  if (entry->size > 0 && truncate) {
    Status s = st->Truncate(0, now);  // an O_TRUNC of content is a change
    if (!s.ok()) return s;
  }
  MutexLock lock(inode->content_mu);
  if (inode->staging) {  // another writer won the race; share theirs
    ++inode->writers;
    if (truncate) {
      Status s = inode->staging->Truncate(0, now);
      if (!s.ok()) {
        --inode->writers;
        return s;
      }
    }
    return inode->staging;
  }
  inode->staging = st;
  inode->writers = 1;
  inode->upload_started = now;
  inode->upload_aborted = false;
  stats_.AdjustOpenForWriting(1);
  return st;
}

Status ShoalFs::UploadAborted() {
  return {Code::kNoSuchUpload,
          "The specified upload does not exist: a lifecycle rule's AbortIncompleteMultipartUpload "
          "discarded what this descriptor wrote"};
}

Result<std::optional<ObjectKey>> ShoalFs::LinkedKeyOf(Ino ino) {
  std::optional<ObjectKey> key;
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto where = inodes_.Where(ino);
    if (!where || where->unlinked) return Status::Ok();
    auto k = KeyIn(txn, where->parent, where->name);
    if (!k.ok()) return k.status();
    key = std::move(*k);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return key;
}

Result<tiers::EncodeOptions> ShoalFs::EncodeOptionsOf(Ino ino) {
  tiers::EncodeOptions options = encode_options_;
  auto key = LinkedKeyOf(ino);
  if (!key.ok()) return key.status();
  if (!*key) return options;  // unlinked: the commit finds it gone
  auto how = EncryptionOf((*key)->bucket);
  if (!how.ok()) return how.status();
  options.dual_layer = IsDualLayer(*how);
  return options;
}

Result<std::optional<ContentKeys::Wrapping>> ShoalFs::PrepareWrapping(Ino ino, TimeNs now) {
  auto key = LinkedKeyOf(ino);
  if (!key.ok()) return key.status();
  if (!*key) return std::optional<ContentKeys::Wrapping>();  // the commit finds it gone
  auto how = EncryptionOf((*key)->bucket);
  if (!how.ok()) return how.status();
  auto w = content_keys_->Prepare(**key, *how, now, RequestUid());
  if (!w.ok()) return w.status();
  return std::optional<ContentKeys::Wrapping>(std::move(*w));
}

Status ShoalFs::Commit(const std::shared_ptr<Inode>& inode) {
  MutexLock commit_lock(inode->commit_mu);
  return CommitLocked(inode);
}

Status ShoalFs::CommitLocked(const std::shared_ptr<Inode>& inode) {
  std::shared_ptr<Staging> st;
  {
    MutexLock lock(inode->content_mu);
    if (inode->upload_aborted) return UploadAborted();
    st = inode->staging;
  }
  if (!st || !st->dirty()) return Status::Ok();

  auto options = EncodeOptionsOf(inode->ino);
  if (!options.ok()) return options.status();
  auto snap = st->Encode(*blobs_, *options);
  if (!snap.ok()) return snap.status();
  const tiers::BlobInfo& blob = snap->blob;
  bool inline_content = !blob.image.empty();

  TimeNs now = clock_.Now();
  std::string old_blob;
  std::string committed_key;
  bool gone = false;
  std::optional<Entry> before, after;
  std::optional<ObjectKey> event_key;  // the committed object's, for its event
  // The first commit of a created file is the PUT create() began: it keeps
  // the version id create() claimed, and replaces no version.
  bool fresh = false;
  {
    MutexLock lock(inode->content_mu);
    fresh = inode->fresh;
  }
  bool kept = false;  // the replaced version stays, as a noncurrent one
  std::vector<Entry> dropped;
  // An SSE-KMS PUT's KMS call comes first, outside the transaction (it may
  // wait for the quota, and a transaction may run twice); the transaction
  // only seals with what it made, and starts over if the object moved or
  // its bucket's encryption changed meanwhile.
  std::optional<ContentKeys::Wrapping> wrapping;
  bool stale = false;
  bool relayer = false;  // the content needs a layer more or less
  Status s;
  for (int attempt = 0;; ++attempt) {
    if (relayer) {
      // The bucket's encryption moved into or out of DSSE-KMS since the
      // content was encoded: encode it again.
      if (!inline_content) (void)blobs_->Remove(blob.id);
      options->dual_layer = !options->dual_layer;
      auto again = st->Encode(*blobs_, *options);
      if (!again.ok()) {
        s = again.status();
        break;
      }
      *snap = std::move(*again);
      inline_content = !blob.image.empty();
    }
    if (!blob.id.empty()) {
      auto w = PrepareWrapping(inode->ino, now);
      if (!w.ok()) {
        s = w.status();  // the blob goes below, as for any failed commit
        break;
      }
      wrapping = std::move(*w);
    }
    s = meta_->Update(
        [&](Txn& txn) -> Status {
          gone = false;
          stale = false;
          relayer = false;
          kept = false;
          dropped.clear();
          before.reset();
          after.reset();
          event_key.reset();
          auto where = inodes_.Where(inode->ino);
          if (!where || where->unlinked) {
            gone = true;
            return Status::Ok();
          }
          auto got = txn.Get(where->parent, where->name, false);
          if (!got.ok()) return got.status();
          if (!*got || (*got)->id != inode->ino) {
            gone = true;
            return Status::Ok();
          }
          Entry e = std::move(**got);
          before = e;
          old_blob = e.blob_id;
          auto key = KeyIn(txn, where->parent, where->name);
          if (!key.ok()) return key.status();
          if (any_notifications_) event_key = *key;
          if (!fresh) {
            auto keep = KeepNoncurrent(txn, *key, e, now);
            if (!keep.ok()) return keep.status();
            kept = *keep;
            auto vid = ClaimVersionId(txn, *key, now, dropped);
            if (!vid.ok()) return vid.status();
            e.version_id = std::move(*vid);
          }
          e.size = blob.size;
          e.stored_bytes = blob.stored_bytes;
          e.blob_id = inline_content ? std::string() : blob.id;
          e.md5 = blob.md5;
          e.key_envelope.clear();
          auto how = EncryptionOf(key->bucket);
          if (!how.ok()) return how.status();
          e.sse = how->sse;
          if (!blob.id.empty()) {
            relayer = IsDualLayer(*how) != blob.outer_key.has_value();
            if (!wrapping || wrapping->how != *how || relayer) {
              stale = true;
              return Status(Code::kInvalidRequest, "the bucket's encryption changed meanwhile");
            }
            auto envelope = content_keys_->SealWith(
                *wrapping, DataKeys{.key = blob.key, .outer = blob.outer_key}, *key, e.version_id);
            stale = envelope.status().code() == Code::kInvalidRequest;
            if (!envelope.ok()) return envelope.status();
            e.key_envelope = std::move(*envelope);
          }
          Status c = inline_content ? txn.PutContent(e.id, blob.image) : txn.RemoveContent(e.id);
          if (!c.ok()) return c;
          committed_key = ContentKey(e);
          e.mtime = snap->mtime;
          if (snap->amended.mode) e.mode = *snap->amended.mode;
          if (snap->amended.uid) e.uid = *snap->amended.uid;
          if (snap->amended.gid) e.gid = *snap->amended.gid;
          e.ctime = now;
          e.created = now;
          // A PUT without x-amz-storage-class: the mount's default class, afresh.
          EnterClass(e, default_class_, now);
          Status p = txn.Put(where->parent, where->name, e);
          if (!p.ok()) return p;
          after = e;
          Status w = ScheduleClassWork(txn, e, &*key);
          if (w.ok() && (kept || !dropped.empty())) w = ScheduleKeyVersions(txn, *key);
          return w;
        },
        [&] {
          if (gone) return;
          {
            MutexLock lock(inode->content_mu);
            inode->fresh = false;
          }
          if (kept) {
            Bill(nullptr, &*after, now);  // the replaced version is still stored
          } else {
            Bill(&*before, &*after, now, /*fills_created=*/fresh);
          }
          meter_->Request(tiers::RequestKind::kPut, default_class_, now);
        });
    if (!stale || attempt == 2) break;
  }
  if (!s.ok() || gone) {
    if (!blob.id.empty() && !inline_content) (void)blobs_->Remove(blob.id);
    if (gone) st->MarkCommitted(snap->generation);  // written to a deleted file
    return s;
  }
  std::shared_ptr<tiers::BlobReader> reader;
  if (!blob.id.empty()) {
    auto opened = inline_content
                      ? blobs_->OpenInline(snap->blob.image, &blob.key, tiers::OuterKeyOf(blob))
                      : blobs_->OpenReader(blob.id, &blob.key, tiers::OuterKeyOf(blob));
    if (opened.ok()) reader = std::move(*opened);
  }
  {
    MutexLock lock(inode->content_mu);
    inode->reader = std::move(reader);
    inode->reader_blob = inode->reader ? committed_key : std::string();
    inode->committed = Inode::Committed{.size = blob.size, .mtime = snap->mtime};
  }
  if (!kept && !old_blob.empty() && old_blob != blob.id) RemoveBlobAfterSync(old_blob);
  FreeDropped(dropped, now);
  st->MarkCommitted(snap->generation);
  stats_.AddCommit(blob.stored_bytes);
  if (event_key && after) NotifyS3(*event_key, "ObjectCreated:Put", &*after, now);
  return Status::Ok();
}

Status ShoalFs::ReleaseStaging(const std::shared_ptr<Inode>& inode) {
  // Held from seeing that this is the last writer to the end of its
  // commit, so that no writer joins in between (AcquireStaging joins under
  // it) and has its O_TRUNC or first writes committed as a PUT of their own.
  MutexLock commit_lock(inode->commit_mu);
  bool last = false;
  bool aborted = false;
  {
    MutexLock lock(inode->content_mu);
    last = inode->writers == 1;
    aborted = inode->upload_aborted;
  }
  if (aborted) {
    // Nothing of an aborted upload is committed; the last writer's close
    // lets its staging copy go.
    MutexLock lock(inode->content_mu);
    if (inode->writers > 0) --inode->writers;
    if (inode->writers == 0 && inode->staging) {
      inode->staging.reset();
      inode->upload_aborted = false;
      inode->fresh = false;
      stats_.AdjustOpenForWriting(-1);
    }
    return UploadAborted();
  }
  // Commit before dropping the staging copy so readers never see a gap.
  // Again while a change raced the commit (an attribute amendment made
  // during the encode), so that nothing reported done is dropped.
  Status s = last ? CommitLocked(inode) : Status::Ok();
  for (int again = 0; last && s.ok() && again < 3; ++again) {
    std::shared_ptr<Staging> st;
    {
      MutexLock lock(inode->content_mu);
      st = inode->staging;
    }
    if (!st || !st->dirty()) break;
    s = CommitLocked(inode);
  }
  bool empty_put = false;
  {
    MutexLock lock(inode->content_mu);
    if (inode->writers > 0) --inode->writers;
    if (inode->writers == 0 && inode->staging) {
      inode->staging.reset();
      stats_.AdjustOpenForWriting(-1);
      // A created file that nothing committed (touch) was still one PUT.
      empty_put = s.ok() && inode->fresh;
      inode->fresh = false;
    }
  }
  if (empty_put) {
    const TimeNs now = clock_.Now();
    meter_->Request(tiers::RequestKind::kPut, default_class_, now);
    if (any_notifications_.load(std::memory_order_relaxed)) {
      auto stored = StoredObjectOf(inode->ino);
      if (stored.ok()) NotifyS3(stored->key, "ObjectCreated:Put", &stored->entry, now);
    }
  }
  return s;
}

Result<ShoalFs::Opened> ShoalFs::Open(Ino ino, int flags) {
  int accmode = flags & O_ACCMODE;
  bool wants_write = accmode == O_WRONLY || accmode == O_RDWR;
  if (IsControlId(ino)) {
    auto node = control_.Find(ino);
    if (!node) return Status(NoSuchKey("no such control file"));
    if (node->is_dir) return Status(Code::kIsADirectory, "is a directory");
    if (node->file.open_reader || node->file.open_writer) return OpenSession(node, ino, flags);
    bool can_write = node->file.replace || node->file.append;
    if (wants_write && !can_write) return Status(Code::kAccessDenied, "read-only control file");
    if (accmode != O_WRONLY && !node->file.read) {
      return Status(Code::kAccessDenied, "write-only control file");
    }
    auto h = std::make_unique<Handle>();
    h->ino = ino;
    h->control = node;
    h->writable = wants_write;
    if (wants_write && (flags & O_TRUNC) != 0 && node->file.replace) {
      MutexLock lock(h->mu);
      h->truncated = true;
    }
    bool load =
        node->file.read && (accmode != O_WRONLY || (node->file.replace && (flags & O_TRUNC) == 0));
    if (load) {
      auto content = node->file.read();
      if (!content.ok()) return content.status();
      MutexLock lock(h->mu);
      h->content = std::move(*content);
    }
    return Opened{.handle = h.release(), .direct_io = true};
  }
  auto entry = EntryOf(ino);
  if (!entry.ok()) return entry.status();
  if (entry->is_dir()) return Status(Code::kIsADirectory, "is a directory");
  auto inode = inodes_.Find(ino);
  if (!inode) return Status(NoSuchKey("the object no longer exists"));
  auto h = std::make_unique<Handle>();
  h->ino = ino;
  h->inode = inode;
  h->writable = wants_write;
  if (wants_write) {
    auto st = AcquireStaging(inode, (flags & O_TRUNC) != 0);
    if (!st.ok()) return st.status();
    ScheduleUploadAbort(inode);
  } else {
    if (NeedsRestore(*entry, clock_.Now())) return ArchivedError(*entry);
    auto reader = CommittedReader(inode, *entry);
    if (!reader.ok()) return reader.status();
    h->reader = std::move(*reader);
    const StorageClass cls = ClassOf(*entry);
    meter_->Request(tiers::RequestKind::kGet, cls, clock_.Now());
    if (tiers::InfoOf(cls).retrieval_fee) h->retrieval_class = cls;
  }
  RecordAccess(ino, *entry);
  inodes_.Opened(ino);
  return Opened{.handle = h.release()};
}

Result<ShoalFs::Created> ShoalFs::Create(const Caller& who, Ino parent, std::string_view name,
                                         mode_t mode, int flags) {
  if (IsControlId(parent) || parent == store::kRootId) {
    return Status(Code::kNotPermitted, "objects belong inside a bucket");
  }
  Status s = CheckKeyLength(parent, name, false);
  if (!s.ok()) return s;
  Entry e;
  e.kind = EntryKind::kFile;
  e.mode = mode & 07777;
  auto attr = AddEntry(who, parent, name, std::move(e));
  if (!attr.ok()) return attr.status();
  auto opened = Open(attr->st_ino, (flags & ~(O_TRUNC | O_ACCMODE)) | O_RDWR);
  if (!opened.ok()) {
    inodes_.Forget(attr->st_ino, 1);
    return opened.status();
  }
  {
    MutexLock lock(opened->handle->inode->content_mu);
    opened->handle->inode->fresh = true;
  }
  return Created{.attr = *attr, .handle = opened->handle};
}

Result<ShoalFs::Opened> ShoalFs::OpenSession(const std::shared_ptr<const ControlNode>& node,
                                             Ino ino, int flags) {
  const int accmode = flags & O_ACCMODE;
  if (accmode == O_RDWR) {
    return Status(Code::kAccessDenied,
                  node->file.open_reader ? "read-only control file" : "write-only control file");
  }
  const SessionFactory& factory =
      accmode == O_WRONLY ? node->file.open_writer : node->file.open_reader;
  if (!factory) {
    return Status(Code::kAccessDenied,
                  accmode == O_WRONLY ? "read-only control file" : "write-only control file");
  }
  auto session = factory();
  if (!session.ok()) return session.status();
  auto h = std::make_unique<Handle>();
  h->ino = ino;
  h->control = node;
  h->writable = accmode == O_WRONLY;
  h->session = std::move(*session);
  return Opened{.handle = h.release(), .direct_io = true};
}

Result<std::size_t> ShoalFs::Read(Handle* h, char* buf, std::size_t size, std::uint64_t offset,
                                  const std::function<bool()>& interrupted) {
  if (h->session) {
    static const std::function<bool()> kNever = [] { return false; };
    return h->session->Read(buf, size, offset, interrupted ? interrupted : kNever);
  }
  if (h->control) {
    MutexLock lock(h->mu);
    if (offset >= h->content.size()) return std::size_t{0};
    std::size_t n = std::min<std::size_t>(size, h->content.size() - offset);
    std::copy_n(h->content.data() + offset, n, buf);
    return n;
  }
  std::shared_ptr<Staging> st;
  std::shared_ptr<tiers::BlobReader> reader;
  {
    MutexLock lock(h->inode->content_mu);
    st = h->inode->staging;
    reader = h->inode->reader ? h->inode->reader : h->reader;
  }
  Result<std::size_t> n = std::size_t{0};
  if (st) {
    n = st->Read(buf, size, offset);
  } else if (reader) {
    n = reader->Read(offset, buf, size);
  }
  if (n.ok()) {
    stats_.AddBytesRead(*n);
    if (h->retrieval_class) meter_->Retrieval(*h->retrieval_class, *n);
  }
  return n;
}

Result<std::size_t> ShoalFs::Write(Handle* h, std::string_view data, std::uint64_t offset) {
  if (!h->writable) return Status(Code::kAccessDenied, "not open for writing");
  if (h->session) return h->session->Write(data);
  if (h->control) {
    if (h->control->file.append) {
      Status s = h->control->file.append(data);
      if (!s.ok()) return s;
      return data.size();
    }
    MutexLock lock(h->mu);
    if (offset + data.size() > kMaxControlWrite) {
      return Status(Code::kEntityTooLarge, "control files hold at most 1 MiB");
    }
    if (h->content.size() < offset + data.size()) h->content.resize(offset + data.size());
    std::copy(data.begin(), data.end(), h->content.begin() + static_cast<long>(offset));
    h->written = true;
    return data.size();
  }
  std::shared_ptr<Staging> st;
  {
    MutexLock lock(h->inode->content_mu);
    if (h->inode->upload_aborted) return UploadAborted();
    st = h->inode->staging;
  }
  if (!st) return Status(Internal("writable handle without staging"));
  Status s = st->Write(data, offset, clock_.Now());
  if (!s.ok()) return s;
  h->wrote.store(true, std::memory_order_relaxed);
  stats_.AddBytesWritten(data.size());
  return data.size();
}

Status ShoalFs::ApplyControlWrite(Handle* h, bool last_close) {
  std::string content;
  {
    MutexLock lock(h->mu);
    if (!h->control->file.replace) return Status::Ok();
    // Opened with O_TRUNC and closed without a write: the empty document
    // (`: > f`, `cp /dev/null f`). Only at the last close: a shell's `> f`
    // closes a first descriptor before the command writes.
    const bool emptied = last_close && h->truncated;
    if (!h->written && !emptied) return Status::Ok();
    h->written = false;
    h->truncated = false;
    content = h->content;
  }
  return h->control->file.replace(content);
}

Status ShoalFs::Flush(Handle* h) {
  if (h->session) return h->session->Flush();
  if (h->control) return ApplyControlWrite(h, /*last_close=*/false);
  // A close() before anything was written through this open is not a PUT
  // of what O_TRUNC left: a shell's `> f` closes its first descriptor
  // right after dup2, before the command writes. The last close (release)
  // still commits whatever is uncommitted.
  if (!h->writable || !h->wrote) return Status::Ok();
  return Commit(h->inode);
}

Status ShoalFs::Fsync(Handle* h) {
  if (h->session) return h->session->Fsync();
  if (h->control) {
    Status s = ApplyControlWrite(h, /*last_close=*/false);
    if (!s.ok()) return s;
  } else if (h->writable) {
    Status s = Commit(h->inode);
    if (!s.ok()) return s;
  }
  return SyncMetadata();
}

Status ShoalFs::SyncMetadata() {
  return meta_->Sync();
}

Status ShoalFs::Release(Handle* h) {
  std::unique_ptr<Handle> owned(h);
  if (h->session) return h->session->Release();
  if (h->control) return ApplyControlWrite(h, /*last_close=*/true);
  Status s = h->writable ? ReleaseStaging(h->inode) : Status::Ok();
  if (inodes_.Closed(h->ino)) {
    // Closed everywhere: let the reader (its descriptor, index and cached
    // chunk) go, so memory and descriptors follow open files, not every
    // file the kernel remembers. The next open makes a new one.
    MutexLock lock(h->inode->content_mu);
    if (!h->inode->staging) {
      h->inode->reader.reset();
      h->inode->reader_blob.clear();
    }
  }
  return s;
}

}  // namespace shoal::fs
