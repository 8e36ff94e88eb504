#pragma once
// ControlTree: the in-memory tree of control files (MNT/.shoal, and later
// .s3, .kinesis, .firehose, .kms ...), one reusable mechanism for the
// patterns of DESIGN §2:
//   - snapshot files: read-only content produced when the file is opened;
//   - documents: read, and replaced whole; the new content is validated and
//     applied when the file is closed (a rejected document changes nothing
//     and fails close() with the validator's status);
//   - sinks: write-only; each write() call is applied as it arrives (verbs,
//     record streams);
//   - resource directories: mkdir/rmdir inside them call the owner's hooks,
//     which add or remove nodes.
// Node ids live in their own range (kControlBit set) so they never collide
// with entry ids. Nothing here knows FUSE.
//
// Thread-safety: all methods may be called concurrently; hooks are called
// without the tree's lock held, so they may call back into the tree.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace shoal::fs {

using NodeId = std::uint64_t;
inline constexpr NodeId kControlBit = NodeId{1} << 62;
inline bool IsControlId(NodeId id) {
  return (id & kControlBit) != 0;
}

class ControlTree;
struct ControlNode;

// One open() of a control file that serves its reads or writes itself
// rather than as a whole document: a record sink keeps a partial line per
// open, a log view reads byte offsets of content that keeps growing. Made by
// ControlFile::open_reader / open_writer for each open, freed at release;
// calls on one session may overlap (the kernel serialises nothing).
class ControlSession {
 public:
  ControlSession() = default;
  ControlSession(const ControlSession&) = delete;
  ControlSession& operator=(const ControlSession&) = delete;
  virtual ~ControlSession() = default;
  // read(2) at `offset` (0 bytes: end of file). A read that waits for data
  // polls `interrupted` and returns once it says the caller gave up.
  virtual Result<std::size_t> Read(char* buf, std::size_t size, std::uint64_t offset,
                                   const std::function<bool()>& interrupted);
  // write(2): the bytes taken; fewer than data.size() when a limit stopped
  // the write part way (the writer retries the rest and meets the error).
  virtual Result<std::size_t> Write(std::string_view data);
  // close(2) of one of the open's descriptors (each duplicate's close is
  // one); fsync(2); the last close of the open, whose failure close() can
  // no longer report (it is logged).
  virtual Status Flush();
  virtual Status Fsync();
  virtual Status Release();
};

using SessionFactory = std::function<Result<std::unique_ptr<ControlSession>>()>;

struct ControlFile {
  // Content for readers, produced at open; empty function: not readable.
  std::function<Result<std::string>()> read;
  // Whole-content replacement applied at close; empty: not replaceable.
  std::function<Status(std::string_view content)> replace;
  // Applied on every write call; empty: not appendable.
  std::function<Status(std::string_view data)> append;
  // Per-open sessions, instead of the three above: for opens that read /
  // that write. Empty: not readable / not writable that way.
  SessionFactory open_reader;
  SessionFactory open_writer;
  // unlink(): removes what the file stands for; on success the node goes
  // too. Empty: EPERM.
  std::function<Status()> unlink;
  // What stat shows: the size and modification time of what the file
  // stands for (0: size unknown until read; the mount's time).
  // `current_size`, when set, is asked at each stat instead of `size`
  // (content that grows).
  std::uint64_t size = 0;
  std::function<std::uint64_t()> current_size;
  TimeNs mtime = 0;
  // Extended attributes, as `getfattr` shows them.
  std::vector<std::pair<std::string, std::string>> xattrs;
  // Each lookup gets an inode of its own (ControlTree::LookupForKernel):
  // the kernel takes an inode's lock for every O_APPEND write, so writers
  // that opened a shared sink separately would otherwise wait on each other.
  bool inode_per_lookup = false;
};

struct ControlDir {
  // mkdir NAME inside this directory; empty function: EPERM.
  std::function<Status(ControlTree& tree, NodeId dir, std::string_view name)> make;
  // rmdir NAME inside this directory; empty function: EPERM.
  std::function<Status(ControlTree& tree, NodeId dir, std::string_view name)> remove;
  // Brings the directory's children up to date with what they mirror,
  // before they are looked up or listed; empty: the children are static.
  std::function<void(ControlTree& tree, NodeId dir)> refresh;
  // A name looked up that is not a child: may make a node of that name
  // (names that exist on demand, such as keys/<partition-key>); nullptr: no
  // such name. The node lives while the kernel remembers that lookup, and
  // is never listed.
  std::function<std::shared_ptr<ControlNode>(NodeId dir, std::string_view name)> resolve;
};

// One node as seen by callers; shared so an open file outlives removal.
struct ControlNode {
  NodeId id = 0;
  NodeId parent = 0;
  std::string name;
  bool is_dir = false;
  ControlFile file;
  ControlDir dir;
  // Permission bits derived from the capabilities (dirs 0755; files r/w).
  mode_t mode() const;
};

class ControlTree {
 public:
  ControlTree() = default;
  ControlTree(const ControlTree&) = delete;
  ControlTree& operator=(const ControlTree&) = delete;

  // Adds a node under `parent` (any id: the FUSE root or a control dir).
  // AlreadyExists if the name is taken.
  Result<NodeId> AddDir(NodeId parent, std::string_view name, ControlDir dir);
  Result<NodeId> AddFile(NodeId parent, std::string_view name, ControlFile file);
  // Removes a node and everything below it.
  Status Remove(NodeId id);

  // A node by its id or by a lookup id (below).
  std::shared_ptr<const ControlNode> Find(NodeId id) const;
  std::shared_ptr<const ControlNode> Lookup(NodeId parent, std::string_view name) const;

  // A lookup on the kernel's behalf: the node named `name` in `parent` (a
  // child, else what the parent's resolve hook makes) and the id the kernel
  // is to know it by. That is the child's own id, or a fresh lookup id for a
  // file with inode_per_lookup and for a resolved name. A lookup id names
  // its node until Forget drops the kernel's lookup of it, and only while
  // what it came from (the file; the resolved name's directory) is in the
  // tree.
  struct Found {
    NodeId id = 0;
    std::shared_ptr<const ControlNode> node;
  };
  std::optional<Found> LookupForKernel(NodeId parent, std::string_view name);
  // The kernel forgot `lookups` lookups of `id`; a lookup id goes with them.
  void Forget(NodeId id, std::uint64_t lookups);
  // Lookup ids the kernel still remembers.
  std::size_t LookupIdCount() const;
  // Children in name order.
  std::vector<std::shared_ptr<const ControlNode>> List(NodeId parent) const;

  // mkdir/rmdir NAME in control dir `dir`, through its hooks.
  Status Mkdir(NodeId dir, std::string_view name);
  Status Rmdir(NodeId dir, std::string_view name);
  // unlink NAME in control dir `dir`, through the file's hook.
  Status Unlink(NodeId dir, std::string_view name);
  // Runs `dir`'s refresh hook, if it has one (any other id: nothing).
  void Refresh(NodeId dir);

 private:
  Result<NodeId> Add(NodeId parent, std::string_view name, std::shared_ptr<ControlNode> node);
  void RemoveLocked(NodeId id) REQUIRES(mu_);

  mutable Mutex mu_;
  NodeId next_ GUARDED_BY(mu_) = kControlBit | 1;
  std::map<NodeId, std::shared_ptr<ControlNode>> nodes_ GUARDED_BY(mu_);
  // parent -> name -> id
  std::map<NodeId, std::map<std::string, NodeId, std::less<>>> children_ GUARDED_BY(mu_);
  struct LookupId {
    std::shared_ptr<const ControlNode> node;
    NodeId owner = 0;  // the node in nodes_ that keeps this id valid
    std::uint64_t lookups = 0;
  };
  std::map<NodeId, LookupId> lookup_ids_ GUARDED_BY(mu_);
};

}  // namespace shoal::fs
