#include "base/status.h"

#include <catch2/catch.hpp>
#include <cerrno>

#include "base/clock.h"

namespace shoal {

TEST_CASE("statuses carry AWS-style names", "[base][status]") {
  CHECK(Status::Ok().ok());
  CHECK(Status::Ok().ToString() == "OK");
  Status s(Code::kNoSuchKey, "no such key a/b");
  CHECK_FALSE(s.ok());
  CHECK(s.ToString() == "NoSuchKey: no such key a/b");
  CHECK(CodeName(Code::kKeyTooLong) == "KeyTooLongError");
}

TEST_CASE("OS errors translate in one place", "[base][status]") {
  CHECK(PosixError("write", ENOSPC).code() == Code::kStoreFull);
  CHECK(PosixError("write", EDQUOT).code() == Code::kStoreFull);
  CHECK(PosixError("open", ENOENT).code() == Code::kNoSuchKey);
  CHECK(PosixError("read", EIO).code() == Code::kIOError);
  CHECK(PosixError("open x", ENOENT).message().rfind("open x: ", 0) == 0);
}

TEST_CASE("a result holds either a value or a status", "[base][status]") {
  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  Result<int> bad = InvalidArgument("nope");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kInvalidArgument);
}

TEST_CASE("times format as ISO-8601 UTC", "[base][clock]") {
  CHECK(FormatIso8601(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatIso8601(1'795'699'800'000'000'000) == "2026-11-26T13:30:00Z");
}

}  // namespace shoal
