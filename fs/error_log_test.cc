#include "fs/error_log.h"

#include <catch2/catch.hpp>

namespace shoal::fs {

namespace {
class FixedClock final : public Clock {
 public:
  TimeNs Now() const override { return 1'795'699'800'000'000'000; }
};
}  // namespace

TEST_CASE("rejections are logged one per line with time, path and AWS code", "[fs][errors]") {
  FixedClock clock;
  ErrorLog log(clock);
  log.Record("/Bad_Bucket", Status(Code::kInvalidBucketName, "The specified bucket is not valid"));
  log.Record("/b/k", Status(Code::kKeyTooLong, "two\nlines"));
  CHECK(log.Snapshot() ==
        "2026-11-26T13:30:00Z /Bad_Bucket InvalidBucketName: The specified bucket is not valid\n"
        "2026-11-26T13:30:00Z /b/k KeyTooLongError: two lines\n");
}

TEST_CASE("the error log keeps only the newest lines", "[fs][errors]") {
  FixedClock clock;
  ErrorLog log(clock);
  for (std::size_t i = 0; i < ErrorLog::kCapacity + 5; ++i) {
    log.Record("/b/" + std::to_string(i), InvalidArgument("x"));
  }
  std::string snap = log.Snapshot();
  CHECK(snap.find("/b/4 ") == std::string::npos);
  CHECK(snap.find("/b/5 ") != std::string::npos);
  CHECK(snap.find("/b/" + std::to_string(ErrorLog::kCapacity + 4) + " ") != std::string::npos);
}

}  // namespace shoal::fs
