// ShoalFs: storage classes (DESIGN §2.1, §2.2) — a class change is a copy
// in place into another tier; archived objects refuse reads until restored;
// Intelligent-Tiering tracks accesses and moves objects between its tiers;
// and the due work that completes restores, expires restored copies and
// moves tiers as the simulated clock passes.
#include <algorithm>

#include "fs/handle.h"
#include "fs/object_class.h"
#include "fs/object_content.h"
#include "fs/object_key.h"
#include "fs/shoal_fs.h"
#include "tiers/intelligent_tiering.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;
using tiers::StorageClass;

namespace {

// Intelligent-Tiering: an access this close to the last recorded one is
// not written down again (tier moves are measured in days).
constexpr TimeNs kAccessResolution = TimeNs{3600} * 1'000'000'000;
constexpr std::size_t kCopyPiece = std::size_t{1} << 20;

}  // namespace

Result<ShoalFs::LocatedObject> ShoalFs::ObjectIn(Txn& txn, Ino ino) {
  auto where = inodes_.Where(ino);
  if (!where || where->unlinked) return NoSuchKey("the object no longer exists");
  if (where->is_dir) return Status(Code::kIsADirectory, "a directory is not an object");
  auto got = txn.Get(where->parent, where->name, false);
  if (!got.ok()) return got.status();
  if (!*got || (*got)->id != ino) return NoSuchKey("the object no longer exists");
  return LocatedObject{.where = std::move(*where), .entry = std::move(**got)};
}

Result<ShoalFs::StoredObject> ShoalFs::StoredObjectOf(Ino ino) {
  std::optional<StoredObject> out;
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto found = ObjectIn(txn, ino);
    if (!found.ok()) return found.status();
    auto key = KeyIn(txn, found->where.parent, found->where.name);
    if (!key.ok()) return key.status();
    out = StoredObject{.entry = std::move(found->entry), .key = std::move(*key)};
    if (out->entry.blob_id.empty() && out->entry.size > 0) {
      auto image = txn.GetContent(out->entry.id);
      if (!image.ok()) return image.status();
      out->inline_image = std::move(*image);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*out);
}

Status ShoalFs::ArchivedError(const Entry& e) {
  return {Code::kInvalidObjectState,
          "The operation is not valid for the object's storage class " + ClassLabel(e) +
              ": restore it first (setfattr -n user.s3.restore -v 'Days=N')"};
}

Result<tiers::ArchiveOptIn> ShoalFs::OptInOf(Txn& txn, const Entry& e) {
  auto key = KeyOf(txn, e.id);
  if (!key.ok()) return key.status();
  auto doc = txn.GetConfig(key->bucket, tiers::kItConfigurationFile);
  if (!doc.ok()) return doc.status();
  if (!*doc) return tiers::ArchiveOptIn{};
  auto configs = tiers::ParseItConfigurations(**doc);
  if (!configs.ok()) return configs.status();
  return tiers::OptInFor(*configs, key->key, {});
}

Status ShoalFs::ScheduleClassWork(Txn& txn, const Entry& e, const ObjectKey* key) {
  if (auto at = tiers::NextRestoreEvent(RestoreOf(e))) {
    Status s = txn.AddDue({.at = *at, .id = e.id, .kind = std::uint8_t(DueKind::kRestoreEvent)});
    if (!s.ok()) return s;
  }
  if (ClassOf(e) != StorageClass::kIntelligentTiering ||
      e.size < tiers::kIntelligentTieringMinBytes) {
    return ScheduleLifecycleOf(txn, e, key);
  }
  auto step = NextStepOf(txn, e);
  if (!step) return ScheduleLifecycleOf(txn, e, key);
  Status s = txn.AddDue({.at = step->at, .id = e.id, .kind = std::uint8_t(DueKind::kTierStep)});
  if (!s.ok()) return s;
  return ScheduleLifecycleOf(txn, e, key);
}

std::optional<tiers::ItStep> ShoalFs::NextStepOf(Txn& txn, const Entry& e) {
  auto opt_in = OptInOf(txn, e);
  if (!opt_in.ok()) {
    // The object still tiers by access; only the archive opt-in is unknown.
    errors_.Record("(archive opt-in of entry " + std::to_string(e.id) + ")", opt_in.status());
    opt_in = tiers::ArchiveOptIn{};
  }
  return tiers::NextTierStep(TierOf(e), e.last_access, e.size, *opt_in);
}

void ShoalFs::Bill(const Entry* before, const Entry* after, TimeNs now, bool fills_created) {
  // Directories, symlinks and delete markers are not billed as stored.
  if (before != nullptr && (before->kind != EntryKind::kFile || before->delete_marker)) {
    before = nullptr;
  }
  if (after != nullptr && (after->kind != EntryKind::kFile || after->delete_marker)) {
    after = nullptr;
  }
  // No early deletion for a change within the class (a restore, a tier
  // move), nor for the placeholder a create() made: create, write and close
  // are one PUT in S3's terms, whatever the clock did meanwhile.
  const bool in_class = before != nullptr && after != nullptr &&
                        before->class_since == after->class_since &&
                        ClassOf(*before) == ClassOf(*after);
  if (in_class || (before != nullptr && after != nullptr && fills_created)) {
    meter_->Replace(FootprintOf(*before), FootprintOf(*after), now);
    return;
  }
  if (before != nullptr) meter_->Remove(FootprintOf(*before), now, before->class_since);
  if (after != nullptr) meter_->Add(FootprintOf(*after), now);
}

Status ShoalFs::ChangeStorageClass(Ino ino, StorageClass to) {
  auto inode = inodes_.Find(ino);
  if (!inode) return NoSuchKey("the object no longer exists");
  // Serialises with commits of this object: the copy is of what is
  // committed, and nothing replaces it meanwhile.
  MutexLock commit_lock(inode->commit_mu);
  auto stored = StoredObjectOf(ino);
  if (!stored.ok() && stored.status().code() == Code::kIsADirectory) {
    return {Code::kNotSupported, "only objects have a storage class"};
  }
  if (!stored.ok()) return stored.status();
  const Entry* entry = &stored->entry;
  if (entry->kind != EntryKind::kFile) {
    return {Code::kNotSupported, "only objects have a storage class"};
  }
  if (ClassOf(*entry) == to) return Status::Ok();
  if (NeedsRestore(*entry, clock_.Now())) {
    return {Code::kInvalidObjectState,
            "The source object of the COPY action is not in the active tier and is only stored "
            "in Amazon Glacier " +
                ClassLabel(*entry) + ": restore it first"};
  }

  // The copy keeps the object's encryption.
  auto summary = SummarizeEnvelope(entry->key_envelope);
  if (!summary.ok()) return summary.status();
  EncryptionChoice same{
      .sse = summary->sse, .kms_key = summary->kms_key_arn, .bucket_key = summary->bucket_key};
  if (entry->key_envelope.empty()) same.sse = entry->sse;  // empty: no key, only the label
  return CopyInPlace(*inode, *stored, to, same);
}

Status ShoalFs::CopyInPlace(Inode& inode, const StoredObject& stored, StorageClass to,
                            const EncryptionChoice& how) {
  const Entry* entry = &stored.entry;
  // Re-encode the committed content into the new tier's encoding, in one
  // layer or two as `how` has it.
  tiers::EncodeOptions options = tiers::InfoOf(to).encoding;
  options.dual_layer = IsDualLayer(how);
  tiers::BlobInfo blob{};
  if (entry->size > 0) {
    auto reader = OpenObjectContent(*meta_, *blobs_, *content_keys_, stored.key, *entry,
                                    clock_.Now(), RequestUid(), stored.inline_image);
    if (!reader.ok()) return reader.status();
    auto writer = entry->size <= kInlineMaxBytes ? blobs_->NewInlineWriter(options)
                                                 : blobs_->NewWriter(options);
    if (!writer.ok()) return writer.status();
    std::string piece(kCopyPiece, '\0');
    for (std::uint64_t off = 0; off < entry->size;) {
      auto n = (*reader)->Read(off, piece.data(), piece.size());
      if (!n.ok()) return n.status();
      if (*n == 0) return Corrupt("object content is shorter than its metadata says");
      Status s = (*writer)->Append(std::string_view(piece.data(), *n));
      if (!s.ok()) return s;
      off += *n;
    }
    auto finished = (*writer)->Finish();
    if (!finished.ok()) return finished.status();
    blob = std::move(*finished);
    if (blob.md5 != entry->md5) {
      if (blob.image.empty()) (void)blobs_->Remove(blob.id);
      return Corrupt("object content does not match its ETag");
    }
  }
  const bool inline_content = !blob.image.empty();
  // Any KMS call before the transaction; inside it only the seal.
  std::optional<ContentKeys::Wrapping> wrapping;
  if (!blob.id.empty()) {
    auto w = content_keys_->Prepare(stored.key, how, clock_.Now(), RequestUid());
    if (!w.ok()) {
      if (!inline_content) (void)blobs_->Remove(blob.id);
      return w.status();
    }
    wrapping = std::move(*w);
  }

  TimeNs now = clock_.Now();
  std::optional<Entry> before, after;
  Status s = meta_->Update(
      [&](Txn& txn) -> Status {
        before.reset();
        after.reset();
        auto found = ObjectIn(txn, inode.ino);
        if (!found.ok()) return found.status();
        Entry e = std::move(found->entry);
        const Location& where = found->where;
        if (e.blob_id != entry->blob_id || e.md5 != entry->md5 || e.size != entry->size ||
            e.key_envelope != entry->key_envelope) {
          return {Code::kInvalidRequest, "the object changed during the copy; try again"};
        }
        before = e;
        e.key_envelope.clear();
        if (!blob.id.empty()) {
          auto key = KeyIn(txn, where.parent, where.name);
          if (!key.ok()) return key.status();
          auto envelope = content_keys_->SealWith(
              *wrapping, DataKeys{.key = blob.key, .outer = blob.outer_key}, *key, e.version_id);
          if (!envelope.ok()) return envelope.status();
          e.key_envelope = std::move(*envelope);
        }
        e.sse = how.sse;
        e.blob_id = inline_content ? std::string() : blob.id;
        e.stored_bytes = blob.stored_bytes;
        Status c = inline_content ? txn.PutContent(e.id, blob.image) : txn.RemoveContent(e.id);
        if (!c.ok()) return c;
        EnterClass(e, to, now);
        e.created = now;  // a copy is a new PUT: a new LastModified
        e.ctime = now;
        c = txn.Put(where.parent, where.name, e);
        if (!c.ok()) return c;
        after = e;
        return ScheduleClassWork(txn, e);
      },
      [&] {
        Bill(&*before, &*after, now);
        meter_->Request(tiers::RequestKind::kCopy, to, now);
        meter_->Retrieval(ClassOf(*before), before->size);
      });
  if (!s.ok()) {
    if (!blob.id.empty() && !inline_content) (void)blobs_->Remove(blob.id);
    return s;
  }
  {
    // Later opens read the new blob; open handles keep the one they have.
    MutexLock lock(inode.content_mu);
    inode.reader.reset();
    inode.reader_blob.clear();
  }
  if (!before->blob_id.empty()) RemoveBlobAfterSync(before->blob_id);
  return Status::Ok();
}

Status ShoalFs::RequestRestore(Ino ino, std::string_view value) {
  auto req = tiers::ParseRestoreRequest(value);
  if (!req.ok()) return req.status();
  TimeNs now = clock_.Now();
  std::optional<Entry> before, after;
  std::optional<ObjectKey> key;
  bool extends = false;
  Status s = meta_->Update(
      [&](Txn& txn) -> Status {
        before.reset();
        after.reset();
        key.reset();
        auto found = ObjectIn(txn, ino);
        if (!found.ok()) {
          if (found.status().code() != Code::kIsADirectory) return found.status();
          return {Code::kRestoreNotAllowed, "only objects can be restored"};
        }
        Entry e = std::move(found->entry);
        const Location& where = found->where;
        const tiers::RestoreState current = RestoreAt(e, now);
        // Extending a restored copy's days retrieves nothing: the request only.
        extends = current.phase == tiers::RestoreState::Phase::kDone;
        auto next = tiers::RequestRestore(current, ArchiveOf(e), *req, now);
        if (!next.ok()) return next.status();
        before = e;
        SetRestore(e, *next);
        e.ctime = now;
        Status c = txn.Put(where.parent, where.name, e);
        if (!c.ok()) return c;
        after = e;
        if (any_notifications_) {
          auto k = KeyIn(txn, where.parent, where.name);
          if (!k.ok()) return k.status();
          key = std::move(*k);
        }
        return ScheduleClassWork(txn, e);
      },
      [&] {
        Bill(&*before, &*after, now);
        meter_->Restore(ClassOf(*after), req->tier, extends ? 0 : after->size);
      });
  if (s.ok() && key) NotifyS3(*key, "ObjectRestore:Post", &*after, now);
  return s;
}

void ShoalFs::RecordAccess(Ino ino, const Entry& seen) {
  if (ClassOf(seen) != StorageClass::kIntelligentTiering ||
      seen.size < tiers::kIntelligentTieringMinBytes) {
    return;
  }
  const TimeNs now = clock_.Now();
  const tiers::AccessTier tier = TierOf(seen);
  if (tiers::AccessTierNeedsRestore(tier)) return;  // not readable: no access
  if (tier == tiers::AccessTier::kFrequent && now - seen.last_access < kAccessResolution) return;
  std::optional<Entry> before, after;
  Status s = meta_->Update(
      [&](Txn& txn) -> Status {
        before.reset();
        after.reset();
        auto found = ObjectIn(txn, ino);
        if (!found.ok()) {
          return found.status().code() == Code::kNoSuchKey ? Status::Ok() : found.status();
        }
        Entry e = std::move(found->entry);
        if (ClassOf(e) != StorageClass::kIntelligentTiering) return Status::Ok();
        before = e;
        e.last_access = now;
        e.access_tier = static_cast<std::uint8_t>(tiers::TierOnAccess(TierOf(e)));
        Status c = txn.Put(found->where.parent, found->where.name, e);
        if (!c.ok()) return c;
        after = e;
        // Still Frequent: the pending step finds the newer access and waits.
        return TierOf(*before) == TierOf(e) ? Status::Ok() : ScheduleClassWork(txn, e);
      },
      [&] {
        if (before && after) Bill(&*before, &*after, now);
      });
  if (!s.ok()) errors_.Record("(access tracking of entry " + std::to_string(ino) + ")", s);
}

Status ShoalFs::RunDueItemIn(Txn& txn, const store::DueItem& item,
                             std::vector<DueChange>& changes) {
  if (item.kind == static_cast<std::uint8_t>(DueKind::kLifecycle)) {
    return RunLifecycleIn(txn, item, changes);
  }
  if (item.kind == static_cast<std::uint8_t>(DueKind::kVersionLifecycle)) {
    return RunVersionLifecycleIn(txn, item, changes);
  }
  if (item.kind == static_cast<std::uint8_t>(DueKind::kAbortUpload)) {
    return RunUploadAbortIn(txn, item);
  }
  Status r = txn.RemoveDue(item);
  if (!r.ok()) return r;
  auto found = FileById(txn, item.id);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Ok();  // gone since
  const Entry before = (*found)->entry;
  Entry e = before;
  switch (static_cast<DueKind>(item.kind)) {
    case DueKind::kRestoreEvent: {
      const tiers::RestoreState was = RestoreOf(e);
      tiers::RestoreState now_state = tiers::AdvanceRestore(was, item.at);
      if (now_state == was) return Status::Ok();
      if (ArchiveOf(e) == tiers::ArchiveKind::kItArchiveAccess ||
          ArchiveOf(e) == tiers::ArchiveKind::kItDeepArchiveAccess) {
        // Intelligent-Tiering restores move the object back to Frequent.
        if (now_state.phase == tiers::RestoreState::Phase::kDone) {
          e.access_tier = static_cast<std::uint8_t>(tiers::AccessTier::kFrequent);
          e.last_access = item.at;
        }
      }
      SetRestore(e, now_state);
      break;
    }
    case DueKind::kTierStep: {
      if (ClassOf(e) != StorageClass::kIntelligentTiering) return Status::Ok();
      // A restore under way brings the object back to Frequent when it
      // completes, and the next step is scheduled from there.
      if (RestoreOf(e).phase == tiers::RestoreState::Phase::kOngoing) return Status::Ok();
      auto step = NextStepOf(txn, e);
      if (!step) return Status::Ok();
      if (step->at > item.at) {  // accessed since this was scheduled
        return txn.AddDue({.at = step->at, .id = e.id, .kind = item.kind});
      }
      e.access_tier = static_cast<std::uint8_t>(step->next);
      // A move into an archive tier ends any earlier restore.
      if (tiers::AccessTierNeedsRestore(step->next)) e.restore = {};
      break;
    }
    default: return Status::Ok();  // a kind this version does not know
  }
  r = txn.Put((*found)->where.parent, (*found)->where.name, e);
  if (!r.ok()) return r;
  changes.push_back({.before = before, .after = e, .at = item.at});
  if (any_notifications_ && static_cast<DueKind>(item.kind) == DueKind::kRestoreEvent) {
    const tiers::RestoreState was = RestoreOf(before);
    const tiers::RestoreState now_state = RestoreOf(e);
    const bool completed = now_state.phase == tiers::RestoreState::Phase::kDone;
    const bool expired = was.phase == tiers::RestoreState::Phase::kDone &&
                         now_state.phase == tiers::RestoreState::Phase::kNone;
    if (completed || expired) {
      auto key = KeyIn(txn, (*found)->where.parent, (*found)->where.name);
      if (!key.ok()) return key.status();
      DueChange& c = changes.back();
      c.event_key = std::move(*key);
      c.event_name = completed ? "ObjectRestore:Completed" : "ObjectRestore:Delete";
      c.event_entry = e;
      if (completed && now_state.expiry > 0) {
        c.event_extra.restore_expiry = now_state.expiry;
        c.event_extra.restore_class = std::string(tiers::StorageClassName(ClassOf(e)));
      }
    }
  }
  return ScheduleClassWork(txn, e);
}

}  // namespace shoal::fs
