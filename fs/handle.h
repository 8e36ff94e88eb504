#pragma once
// Handle: one open file or directory of the mount, owned by the kernel's
// file description (fuse_file_info::fh) from open to release. Internal to
// ShoalFs.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "fs/control_tree.h"
#include "fs/inode_table.h"
#include "fs/shoal_fs.h"
#include "store/meta_store.h"
#include "tiers/storage_class.h"

namespace shoal::fs {

struct Handle {
  Ino ino = 0;
  std::shared_ptr<Inode> inode;  // files only
  // The committed content as of open (read-only opens): reads use the
  // inode's current reader, and this one once the inode let its go.
  std::shared_ptr<tiers::BlobReader> reader;
  bool writable = false;
  // Reads through this handle pay the retrieval fee of this class.
  std::optional<tiers::StorageClass> retrieval_class;
  std::atomic<bool> wrote{false};  // write() was called through this handle
  // Control files: the snapshot read at open, or the document being written.
  std::shared_ptr<const ControlNode> control;
  // Control files that serve each open themselves (ControlFile::open_reader
  // and open_writer).
  std::unique_ptr<ControlSession> session;
  Mutex mu;
  std::string content GUARDED_BY(mu);
  bool written GUARDED_BY(mu) = false;
  bool truncated GUARDED_BY(mu) = false;  // opened with O_TRUNC
  // Directories: entries fetched so far; offsets index into it.
  bool is_dir = false;
  std::vector<ReadDirEntry> listing GUARDED_BY(mu);
  std::optional<store::Txn::Cursor> cursor GUARDED_BY(mu);
  bool listed_all GUARDED_BY(mu) = false;
};

}  // namespace shoal::fs
