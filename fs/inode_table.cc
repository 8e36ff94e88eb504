#include "fs/inode_table.h"

#include <vector>

namespace shoal::fs {

InodeTable::InodeTable() {
  MutexLock lock(mu_);
  Slot root;
  root.inode = std::make_shared<Inode>(store::kRootId);
  root.where = {.parent = store::kRootId, .name = "", .is_dir = true};
  root.lookups = 1;  // pinned: never forgotten
  slots_.emplace(store::kRootId, std::move(root));
}

std::shared_ptr<Inode> InodeTable::Learn(Ino ino, Ino parent, const std::string& name,
                                         bool is_dir) {
  MutexLock lock(mu_);
  auto [it, inserted] = slots_.try_emplace(ino);
  Slot& slot = it->second;
  if (inserted) {
    slot.inode = std::make_shared<Inode>(ino);
    slot.where = {.parent = parent, .name = name, .is_dir = is_dir};
    auto p = slots_.find(parent);
    if (p != slots_.end() && ino != parent) ++p->second.children;
  }
  // A known inode keeps its location: it changes only through Moved and
  // Unlinked, which follow committed renames and unlinks. A lookup or a
  // listing may carry an older name (it raced a rename), never a newer one.
  ++slot.lookups;
  return slot.inode;
}

void InodeTable::MaybeDropLocked(Ino ino) {
  // Dropping a child may free its parent in turn: walk up iteratively.
  while (ino != store::kRootId) {
    auto it = slots_.find(ino);
    if (it == slots_.end()) return;
    const Slot& s = it->second;
    if (s.lookups > 0 || s.opens > 0 || s.children > 0) return;
    Ino parent = s.where.parent;
    slots_.erase(it);
    auto p = slots_.find(parent);
    if (p == slots_.end() || p->second.children == 0) return;
    --p->second.children;
    ino = parent;
  }
}

void InodeTable::Forget(Ino ino, std::uint64_t n) {
  MutexLock lock(mu_);
  auto it = slots_.find(ino);
  if (it == slots_.end() || ino == store::kRootId) return;
  it->second.lookups = it->second.lookups > n ? it->second.lookups - n : 0;
  MaybeDropLocked(ino);
}

std::shared_ptr<Inode> InodeTable::Find(Ino ino) const {
  MutexLock lock(mu_);
  auto it = slots_.find(ino);
  return it == slots_.end() ? nullptr : it->second.inode;
}

std::optional<Location> InodeTable::Where(Ino ino) const {
  MutexLock lock(mu_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return std::nullopt;
  return it->second.where;
}

void InodeTable::Opened(Ino ino) {
  MutexLock lock(mu_);
  auto it = slots_.find(ino);
  if (it != slots_.end()) ++it->second.opens;
}

std::vector<std::shared_ptr<Inode>> InodeTable::OpenInodes() const {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<Inode>> out;
  out.reserve(slots_.size());
  for (const auto& [ino, slot] : slots_) {
    if (slot.opens > 0) out.push_back(slot.inode);
  }
  return out;
}

bool InodeTable::Closed(Ino ino) {
  MutexLock lock(mu_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return true;
  if (it->second.opens > 0) --it->second.opens;
  const bool none_open = it->second.opens == 0;
  MaybeDropLocked(ino);
  return none_open;
}

void InodeTable::Moved(Ino ino, Ino new_parent, const std::string& new_name) {
  MutexLock lock(mu_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return;
  Slot& slot = it->second;
  if (slot.where.parent != new_parent) {
    auto old_parent = slots_.find(slot.where.parent);
    if (old_parent != slots_.end() && old_parent->second.children > 0) {
      --old_parent->second.children;
    }
    auto p = slots_.find(new_parent);
    if (p != slots_.end()) ++p->second.children;
  }
  slot.where.parent = new_parent;
  slot.where.name = new_name;
}

void InodeTable::Unlinked(Ino ino) {
  MutexLock lock(mu_);
  auto it = slots_.find(ino);
  if (it != slots_.end()) it->second.where.unlinked = true;
}

std::optional<std::string> InodeTable::PathOf(Ino ino) const {
  MutexLock lock(mu_);
  std::vector<const std::string*> parts;
  while (ino != store::kRootId) {
    auto it = slots_.find(ino);
    if (it == slots_.end()) return std::nullopt;
    parts.push_back(&it->second.where.name);
    ino = it->second.where.parent;
  }
  std::string path;
  for (auto p = parts.rbegin(); p != parts.rend(); ++p) {
    path += '/';
    path += **p;
  }
  return path.empty() ? "/" : path;
}

}  // namespace shoal::fs
