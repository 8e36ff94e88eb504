#pragma once
// The FUSE low-level adapter: mounts a ShoalFs and serves kernel requests
// until unmounted or signalled. The only code that includes FUSE headers.

#include <functional>
#include <string>

#include "base/status.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {

struct ServeOptions {
  std::string mountpoint;
  std::string fsname;  // shown as the mount's source (the store path)
  bool allow_other = false;
  // Worker threads at most: reads that follow a shard (shards/<id>@...) each
  // hold one while they wait, up to ShoalFs's cap on such waits.
  unsigned max_threads = 32;
};

// Mounts, calls `on_mounted` once the mount is usable, and serves requests
// until the file system is unmounted or SIGINT/SIGTERM/SIGHUP arrives. Fails
// before calling on_mounted if the mount itself fails.
Status ServeMount(ShoalFs& fs, const ServeOptions& options,
                  const std::function<void()>& on_mounted);

}  // namespace shoal::fs
