#pragma once
// Whole-call file I/O that retries short reads/writes and EINTR, reporting
// failures through PosixError.

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace shoal {

// Writes all of `data` at `offset`.
Status PwriteAll(int fd, std::string_view data, off_t offset, std::string_view what);
// Reads up to `n` bytes at `offset`; fewer only at end of file.
Result<std::size_t> PreadFull(int fd, char* buf, std::size_t n, off_t offset,
                              std::string_view what);
// Reads a whole small file.
Result<std::string> ReadFile(const std::string& path);
// Writes `data` to `path` durably: temp file, fsync, rename, fsync directory.
Status WriteFileDurably(const std::string& path, std::string_view data, mode_t mode);
// fsyncs a directory so a rename or create inside it is durable.
Status SyncDirectory(const std::string& dir);

}  // namespace shoal
