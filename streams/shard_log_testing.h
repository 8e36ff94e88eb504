#pragma once
// Helpers shared by the unit tests of ShardLog and what is built on it
// (test code only: uses Catch2).

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "base/temp_dir.h"
#include "streams/shard_log.h"

namespace shoal::streams::testing {

// A TempDir with a shard log's directory in it.
class ShardDir : public TempDir {
 public:
  explicit ShardDir(std::string_view prefix = "shoal-shardlog") : TempDir(prefix) {}
  std::string shard() const { return path() + "/shard"; }
};

// Small segments and a dense index, so that tests have segments to roll,
// drop and index without writing much.
inline ShardLog::Options SmallSegments() {
  ShardLog::Options o;
  o.segment_bytes = 4096;
  o.index_interval_bytes = 256;
  o.segment_max_age = 0;
  return o;
}

// Opens (or creates) the log in `dir`; fails the test if it cannot.
inline std::unique_ptr<ShardLog> OpenLog(const std::string& dir,
                                         const ShardLog::Options& options = SmallSegments()) {
  auto log = ShardLog::Open(dir, options);
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  return std::move(*log);
}

}  // namespace shoal::streams::testing
