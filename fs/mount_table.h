#pragma once
// Reading /proc/self/mountinfo: is a path a mount point, and which store
// does a shoal mount serve.

#include <optional>
#include <string>

namespace shoal::fs {

struct MountRecord {
  std::string mountpoint;
  std::string fstype;  // "fuse.shoal" for ours
  std::string source;  // the store path for ours
};

// The mount whose mount point is exactly `path` (already resolved), if any.
std::optional<MountRecord> FindMount(const std::string& path);

}  // namespace shoal::fs
