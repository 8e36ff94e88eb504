#include "fs/stats.h"

#include <nlohmann/json.hpp>

namespace shoal::fs {

const char* OpName(Op op) {
  static constexpr const char* kNames[] = {
      "lookup",   "getattr", "setattr", "readdir", "mkdir",   "rmdir",  "create", "open",
      "read",     "write",   "flush",   "fsync",   "release", "unlink", "rename", "symlink",
      "readlink", "link",    "xattr",   "statfs",  "opendir", "forget"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<std::size_t>(Op::kCount_));
  return kNames[static_cast<std::size_t>(op)];
}

void Stats::RecordOp(Op op, std::uint64_t latency_ns, bool failed) {
  auto& c = ops_[static_cast<std::size_t>(op)];
  c.count.fetch_add(1, std::memory_order_relaxed);
  if (failed) c.errors.fetch_add(1, std::memory_order_relaxed);
  c.total_ns.fetch_add(latency_ns, std::memory_order_relaxed);
  std::uint64_t prev = c.max_ns.load(std::memory_order_relaxed);
  while (latency_ns > prev &&
         !c.max_ns.compare_exchange_weak(prev, latency_ns, std::memory_order_relaxed)) {
  }
}

std::string Stats::ToJson(std::uint64_t map_bytes, std::size_t control_lookup_ids) const {
  nlohmann::ordered_json ops = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const auto& c = ops_[i];
    std::uint64_t n = c.count.load(std::memory_order_relaxed);
    if (n == 0) continue;
    ops[OpName(static_cast<Op>(i))] = {
        {"count", n},
        {"errors", c.errors.load(std::memory_order_relaxed)},
        {"mean_us", static_cast<double>(c.total_ns.load(std::memory_order_relaxed)) /
                        static_cast<double>(n) / 1000.0},
        {"max_us", static_cast<double>(c.max_ns.load(std::memory_order_relaxed)) / 1000.0}};
  }
  nlohmann::ordered_json out = {
      {"ops", ops},
      {"bytes_read", bytes_read_.load(std::memory_order_relaxed)},
      {"bytes_written", bytes_written_.load(std::memory_order_relaxed)},
      {"commits", commits_.load(std::memory_order_relaxed)},
      {"committed_stored_bytes", committed_stored_bytes_.load(std::memory_order_relaxed)},
      {"objects_open_for_writing", open_for_writing_.load(std::memory_order_relaxed)},
      {"metadata_map_bytes", map_bytes},
      {"control_lookup_ids", control_lookup_ids}};
  return out.dump(2) + "\n";
}

}  // namespace shoal::fs
