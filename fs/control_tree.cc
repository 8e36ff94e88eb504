#include "fs/control_tree.h"

namespace shoal::fs {

Result<std::size_t> ControlSession::Read(char*, std::size_t, std::uint64_t,
                                         const std::function<bool()>&) {
  return Status(Code::kAccessDenied, "write-only control file");
}

Result<std::size_t> ControlSession::Write(std::string_view) {
  return Status(Code::kAccessDenied, "read-only control file");
}

Status ControlSession::Flush() {
  return Status::Ok();
}

Status ControlSession::Fsync() {
  return Status::Ok();
}

Status ControlSession::Release() {
  return Status::Ok();
}

mode_t ControlNode::mode() const {
  if (is_dir) return 0755;
  mode_t m = 0;
  if (file.read || file.open_reader) m |= 0444;
  if (file.replace || file.append || file.open_writer) m |= 0200;
  return m;
}

Result<NodeId> ControlTree::Add(NodeId parent, std::string_view name,
                                std::shared_ptr<ControlNode> node) {
  MutexLock lock(mu_);
  auto& siblings = children_[parent];
  if (siblings.find(name) != siblings.end()) {
    return Status(Code::kAlreadyExists, std::string(name) + " already exists");
  }
  node->id = next_++;
  node->parent = parent;
  node->name = std::string(name);
  siblings.emplace(node->name, node->id);
  NodeId id = node->id;
  nodes_.emplace(id, std::move(node));
  return id;
}

Result<NodeId> ControlTree::AddDir(NodeId parent, std::string_view name, ControlDir dir) {
  auto node = std::make_shared<ControlNode>();
  node->is_dir = true;
  node->dir = std::move(dir);
  return Add(parent, name, std::move(node));
}

Result<NodeId> ControlTree::AddFile(NodeId parent, std::string_view name, ControlFile file) {
  auto node = std::make_shared<ControlNode>();
  node->file = std::move(file);
  return Add(parent, name, std::move(node));
}

void ControlTree::RemoveLocked(NodeId id) {
  auto kids = children_.find(id);
  if (kids != children_.end()) {
    std::vector<NodeId> ids;
    for (const auto& [name, child] : kids->second) ids.push_back(child);
    for (NodeId child : ids) RemoveLocked(child);
    children_.erase(id);
  }
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  auto siblings = children_.find(it->second->parent);
  if (siblings != children_.end()) siblings->second.erase(it->second->name);
  nodes_.erase(it);
}

Status ControlTree::Remove(NodeId id) {
  MutexLock lock(mu_);
  if (nodes_.find(id) == nodes_.end()) return NoSuchKey("no such control node");
  RemoveLocked(id);
  return Status::Ok();
}

std::shared_ptr<const ControlNode> ControlTree::Find(NodeId id) const {
  MutexLock lock(mu_);
  if (auto it = nodes_.find(id); it != nodes_.end()) return it->second;
  auto alias = lookup_ids_.find(id);
  if (alias == lookup_ids_.end() || nodes_.count(alias->second.owner) == 0) return nullptr;
  return alias->second.node;
}

std::shared_ptr<const ControlNode> ControlTree::Lookup(NodeId parent, std::string_view name) const {
  MutexLock lock(mu_);
  auto kids = children_.find(parent);
  if (kids == children_.end()) return nullptr;
  auto it = kids->second.find(name);
  if (it == kids->second.end()) return nullptr;
  return nodes_.at(it->second);
}

std::optional<ControlTree::Found> ControlTree::LookupForKernel(NodeId parent,
                                                               std::string_view name) {
  if (auto node = Lookup(parent, name)) {
    if (!node->file.inode_per_lookup) return Found{.id = node->id, .node = node};
    MutexLock lock(mu_);
    const NodeId id = next_++;
    lookup_ids_.emplace(id, LookupId{.node = node, .owner = node->id, .lookups = 1});
    return Found{.id = id, .node = node};
  }
  auto dir = Find(parent);
  if (!dir || !dir->is_dir || !dir->dir.resolve) return std::nullopt;
  std::shared_ptr<ControlNode> made = dir->dir.resolve(parent, name);
  if (!made) return std::nullopt;
  MutexLock lock(mu_);
  made->id = next_++;
  made->parent = parent;
  made->name = std::string(name);
  lookup_ids_.emplace(made->id, LookupId{.node = made, .owner = parent, .lookups = 1});
  return Found{.id = made->id, .node = made};
}

void ControlTree::Forget(NodeId id, std::uint64_t lookups) {
  MutexLock lock(mu_);
  auto it = lookup_ids_.find(id);
  if (it == lookup_ids_.end()) return;  // a node's own id: not counted
  if (it->second.lookups > lookups) {
    it->second.lookups -= lookups;
  } else {
    lookup_ids_.erase(it);
  }
}

std::size_t ControlTree::LookupIdCount() const {
  MutexLock lock(mu_);
  return lookup_ids_.size();
}

std::vector<std::shared_ptr<const ControlNode>> ControlTree::List(NodeId parent) const {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<const ControlNode>> out;
  auto kids = children_.find(parent);
  if (kids == children_.end()) return out;
  for (const auto& [name, id] : kids->second) out.push_back(nodes_.at(id));
  return out;
}

Status ControlTree::Mkdir(NodeId dir, std::string_view name) {
  auto node = Find(dir);
  if (!node || !node->is_dir) return Status(Code::kNotADirectory, "not a control directory");
  if (!node->dir.make) {
    return Status(Code::kNotPermitted, "cannot create directories in " + node->name);
  }
  if (Lookup(dir, name)) return Status(Code::kAlreadyExists, std::string(name) + " already exists");
  return node->dir.make(*this, dir, name);
}

Status ControlTree::Rmdir(NodeId dir, std::string_view name) {
  auto node = Find(dir);
  if (!node || !node->is_dir) return Status(Code::kNotADirectory, "not a control directory");
  if (!Lookup(dir, name)) return NoSuchKey(std::string(name) + " does not exist");
  if (!node->dir.remove) {
    return Status(Code::kNotPermitted, "cannot remove directories in " + node->name);
  }
  return node->dir.remove(*this, dir, name);
}

Status ControlTree::Unlink(NodeId dir, std::string_view name) {
  auto node = Lookup(dir, name);
  if (!node) return NoSuchKey(std::string(name) + " does not exist");
  if (node->is_dir) return Status(Code::kIsADirectory, "is a directory");
  if (!node->file.unlink) return Status(Code::kNotPermitted, "cannot remove " + node->name);
  Status s = node->file.unlink();
  if (!s.ok()) return s;
  (void)Remove(node->id);  // a racing refresh may have removed it already
  return Status::Ok();
}

void ControlTree::Refresh(NodeId dir) {
  auto node = Find(dir);
  if (node && node->is_dir && node->dir.refresh) node->dir.refresh(*this, dir);
}

}  // namespace shoal::fs
