// ShoalFs: directory listings (readdir and readdirplus) and statfs.
#include <sys/statvfs.h>

#include <cerrno>

#include "fs/handle.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;

namespace {
constexpr std::size_t kListBatch = 512;
// The inode number readdir shows for an entry whose metadata is damaged.
constexpr ino_t kDamagedEntryIno = 0xffffffff;
}  // namespace

Result<Handle*> ShoalFs::OpenDir(Ino ino) {
  if (IsControlId(ino)) {
    auto node = control_.Find(ino);
    if (!node) return Status(NoSuchKey("no such control directory"));
    if (!node->is_dir) return Status(Code::kNotADirectory, "not a directory");
  } else if (ino != store::kRootId) {
    auto e = EntryOf(ino);
    if (!e.ok()) return e.status();
    if (!e->is_dir()) return Status(Code::kNotADirectory, "not a directory");
    inodes_.Opened(ino);
  }
  auto h = std::make_unique<Handle>();
  h->ino = ino;
  h->is_dir = true;
  return h.release();
}

Status ShoalFs::ReadDir(Handle* h, std::uint64_t offset, bool plus,
                        const std::function<bool(const ReadDirEntry&, std::uint64_t next)>& fits) {
  MutexLock lock(h->mu);
  if (offset == 0 || h->listing.empty()) {  // (re)start: rewinddir sees changes
    h->listing.clear();
    h->cursor.reset();
    h->listed_all = false;
    struct stat dot = RootAttr();
    dot.st_ino = h->ino;
    h->listing.push_back({.name = ".", .attr = dot, .counts_lookup = false});
    h->listing.push_back({.name = "..", .attr = dot, .counts_lookup = false});
    if (IsControlId(h->ino) || h->ino == store::kRootId) {
      control_.Refresh(h->ino);
      for (const auto& node : control_.List(h->ino)) {
        h->listing.push_back(
            {.name = node->name, .attr = ControlAttr(*node), .counts_lookup = false});
      }
      if (IsControlId(h->ino)) h->listed_all = true;
    }
  }
  std::size_t index = static_cast<std::size_t>(offset);
  for (;;) {
    if (index >= h->listing.size()) {
      if (h->listed_all) return Status::Ok();
      std::vector<store::Child> batch;
      const std::optional<Txn::Cursor> cursor = h->cursor;
      Status s = meta_->View([&](Txn& txn) {
        auto got = txn.List(h->ino, cursor, kListBatch);
        if (!got.ok()) return got.status();
        batch = std::move(*got);
        return Status::Ok();
      });
      if (!s.ok()) return s;
      if (batch.size() < kListBatch) h->listed_all = true;
      if (batch.empty()) return Status::Ok();
      h->cursor = Txn::Cursor{batch.back().name, batch.back().entry.is_dir()};
      for (auto& child : batch) {
        // A damaged entry is listed by name alone: looking it up fails (EIO).
        // Its id is unknown; a placeholder keeps readdir from skipping it
        // (glibc drops entries with d_ino 0).
        struct stat attr = AttrOf(child.entry, nullptr);
        if (child.damaged) attr.st_ino = kDamagedEntryIno;
        h->listing.push_back(
            {.name = std::move(child.name), .attr = attr, .counts_lookup = !child.damaged});
      }
      continue;
    }
    ReadDirEntry item = h->listing[index];
    std::shared_ptr<Inode> learned;
    if (plus && item.counts_lookup) {
      // The kernel takes these attributes as current, but the listing may
      // predate a write, commit or rename (a stale size would make the
      // kernel cut reads short and put O_APPEND writes at the wrong offset).
      // Read the name again; if it no longer names this entry, send the
      // name alone.
      std::optional<Entry> fresh;
      Status s = meta_->View([&](Txn& txn) {
        auto got = txn.Get(h->ino, item.name, S_ISDIR(item.attr.st_mode));
        if (!got.ok()) return got.status();
        fresh = std::move(*got);
        return Status::Ok();
      });
      if (s.ok() && fresh && fresh->id == item.attr.st_ino) {
        learned = inodes_.Learn(fresh->id, h->ino, item.name, fresh->is_dir());
        item.attr = AttrOf(*fresh, learned.get());
      } else {
        item.counts_lookup = false;
      }
    }
    if (!fits(item, index + 1)) {
      if (learned) inodes_.Forget(learned->ino, 1);
      return Status::Ok();
    }
    ++index;
  }
}

void ShoalFs::ReleaseDir(Handle* h) {
  std::unique_ptr<Handle> owned(h);
  if (!IsControlId(h->ino) && h->ino != store::kRootId) inodes_.Closed(h->ino);
}

Result<struct statvfs> ShoalFs::StatFs() {
  struct statvfs st {};
  if (::statvfs(dir_->path().c_str(), &st) != 0) return PosixError("statvfs", errno);
  st.f_namemax = 255;
  return st;
}

}  // namespace shoal::fs
