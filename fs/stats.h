#pragma once
// Daemon counters shown in MNT/.shoal/stats.json: per-operation counts,
// errors and latencies, bytes moved, commits, and objects open for writing
// (each holds a staging copy whose changes commit at close or fsync).
// Thread-safety: lock-free; every method may be called concurrently.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace shoal::fs {

enum class Op : std::uint8_t {
  kLookup,
  kGetattr,
  kSetattr,
  kReaddir,
  kMkdir,
  kRmdir,
  kCreate,
  kOpen,
  kRead,
  kWrite,
  kFlush,
  kFsync,
  kRelease,
  kUnlink,
  kRename,
  kSymlink,
  kReadlink,
  kLink,
  kXattr,
  kStatfs,
  kOpendir,
  kForget,
  kCount_  // number of ops
};

class Stats {
 public:
  void RecordOp(Op op, std::uint64_t latency_ns, bool failed);
  void AddBytesRead(std::uint64_t n) { bytes_read_.fetch_add(n, std::memory_order_relaxed); }
  void AddBytesWritten(std::uint64_t n) { bytes_written_.fetch_add(n, std::memory_order_relaxed); }
  void AddCommit(std::uint64_t stored_bytes) {
    commits_.fetch_add(1, std::memory_order_relaxed);
    committed_stored_bytes_.fetch_add(stored_bytes, std::memory_order_relaxed);
  }
  // Objects with a staging copy (open for writing), +1 / -1.
  void AdjustOpenForWriting(std::int64_t delta) {
    open_for_writing_.fetch_add(delta, std::memory_order_relaxed);
  }

  // A JSON object (pretty-printed, newline-terminated); `map_bytes` and
  // `control_lookup_ids` are gauges the caller reads at the time.
  std::string ToJson(std::uint64_t map_bytes, std::size_t control_lookup_ids) const;

 private:
  struct OpCounters {
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> total_ns{0};
    std::atomic<std::uint64_t> max_ns{0};
  };
  std::array<OpCounters, static_cast<std::size_t>(Op::kCount_)> ops_{};
  std::atomic<std::uint64_t> bytes_read_{0};
  std::atomic<std::uint64_t> bytes_written_{0};
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> committed_stored_bytes_{0};
  std::atomic<std::int64_t> open_for_writing_{0};
};

const char* OpName(Op op);

}  // namespace shoal::fs
