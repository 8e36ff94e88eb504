#include "streams/token_bucket.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "base/manual_clock.h"

namespace shoal::streams {
namespace {

constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kSecond = 1000 * kMs;
constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;

}  // namespace

TEST_CASE("a fresh shard takes one second's worth of writes at once", "[token_bucket]") {
  ManualClock clock{5 * kSecond};  // real elapsed time, moved by hand
  TokenBucket bucket(clock);
  SECTION("1000 records") {
    for (int i = 0; i < 1000; ++i) REQUIRE(bucket.Reserve(1, 10) == 0);
    CHECK(bucket.Reserve(1, 10) == kMs);  // the 1001st waits a thousandth of a second
    CHECK(bucket.counts().throttled_records == 1);
  }
  SECTION("1 MiB") {
    CHECK(bucket.Reserve(1, kMiB / 2) == 0);
    CHECK(bucket.Reserve(1, kMiB / 2) == 0);
    // Another 256 KiB owes a quarter of a second.
    CHECK(bucket.Reserve(1, kMiB / 4) == kSecond / 4);
  }
}

TEST_CASE("a batch larger than the burst waits for what exceeds it", "[token_bucket]") {
  ManualClock clock{5 * kSecond};  // real elapsed time, moved by hand
  TokenBucket bucket(clock);
  // 3000 records at 1000/s with a burst of 1000: the last fits after 2 s.
  CHECK(bucket.Reserve(3000, 3000) == 2 * kSecond);
  CHECK(bucket.counts().throttled_records == 3000);
  clock.Advance(2 * kSecond);
  // The bucket is back to the burst's limit: one more record waits 1 ms.
  CHECK(bucket.Reserve(1, 1) == kMs);
  SECTION("by bytes too") {
    clock.Advance(10 * kSecond);
    CHECK(bucket.Reserve(4, 3 * kMiB) == 2 * kSecond);
  }
}

TEST_CASE("the bucket refills with real elapsed time", "[token_bucket]") {
  ManualClock clock{5 * kSecond};  // real elapsed time, moved by hand
  TokenBucket bucket(clock);
  std::vector<std::uint64_t> thousand(1000, 100);
  CHECK(bucket.TakeFitting(thousand) == 1000);
  CHECK(bucket.TakeFitting(thousand) == 0);
  clock.Advance(250 * kMs);
  CHECK(bucket.TakeFitting(thousand) == 250);
  clock.Advance(10 * kSecond);  // an idle shard keeps no more than one second's worth
  CHECK(bucket.TakeFitting(thousand) == 1000);
  CHECK(bucket.TakeFitting(thousand) == 0);
  const WriteCounts counts = bucket.counts();
  CHECK(counts.records == 2250);
  CHECK(counts.bytes == 225000);
  CHECK(counts.throttled_records == 1000 + 750 + 1000);
}

TEST_CASE("reject mode accepts the leading records that fit and stops at the first that does not",
          "[token_bucket]") {
  ManualClock clock{5 * kSecond};  // real elapsed time, moved by hand
  TokenBucket bucket(clock);
  const std::vector<std::uint64_t> batch = {400 * kKiB, 400 * kKiB, 400 * kKiB, 10};
  CHECK(bucket.TakeFitting(batch) == 2);  // the third would pass 1 MiB; the small fourth waits too
  CHECK(bucket.counts().throttled_records == 2);
  clock.Advance(kSecond);
  CHECK(bucket.TakeFitting(std::vector<std::uint64_t>{}) == 0);
}

TEST_CASE("block mode paces writers at the shard's rate, first come first served",
          "[token_bucket]") {
  ManualClock clock{5 * kSecond};  // real elapsed time, moved by hand
  TokenBucket bucket(clock);
  // Two seconds' worth of 100 KiB writes: the first second's go at once,
  // the rest are spaced by a tenth of a second (100 KiB at 1 MiB/s, about).
  TimeNs last = 0;
  int immediate = 0;
  for (int i = 0; i < 20; ++i) {
    const TimeNs wait = bucket.Reserve(1, 100 * kKiB);
    if (wait == 0) ++immediate;
    CHECK(wait >= last);
    last = wait;
  }
  CHECK(immediate == 10);
  // 20 x 100 KiB = 2000 KiB: the last may start once 976 KiB are left to
  // owe, 1 s after the start and 24 KiB later.
  const auto expected = static_cast<TimeNs>((2000 * kKiB - kMiB) * kSecond / kMiB);
  CHECK(last >= expected - 2);
  CHECK(last <= expected + 2);
  CHECK(bucket.counts().throttled_records == 10);
}

TEST_CASE("a record bigger than the burst goes through a full bucket and delays what follows",
          "[token_bucket]") {
  ManualClock clock{5 * kSecond};  // real elapsed time, moved by hand
  TokenBucket bucket(clock);
  SECTION("reject mode") {
    const std::vector<std::uint64_t> big = {kMiB + 256};  // 1 MiB of data and its key
    CHECK(bucket.TakeFitting(big) == 1);
    CHECK(bucket.TakeFitting(std::vector<std::uint64_t>{1}) == 0);
    clock.Advance(kSecond);
    CHECK(bucket.TakeFitting(std::vector<std::uint64_t>{1}) == 1);
  }
  SECTION("block mode, a 10 MiB record") {
    CHECK(bucket.Reserve(1, 10 * kMiB) == 0);
    // The bucket now owes ten seconds; a small write waits for nine of them.
    const TimeNs wait = bucket.Reserve(1, 1);
    CHECK(wait > 9 * kSecond - kMs);
    CHECK(wait < 9 * kSecond + kMs);
  }
  SECTION("a big record on a bucket that is not full waits until it is") {
    CHECK(bucket.Reserve(1, kMiB / 2) == 0);
    CHECK(bucket.Reserve(1, 2 * kMiB) == kSecond / 2);
  }
}

TEST_CASE("the record limit binds for small records", "[token_bucket]") {
  ManualClock clock{5 * kSecond};  // real elapsed time, moved by hand
  TokenBucket bucket(clock, WriteLimits{.bytes_per_second = kMiB, .records_per_second = 1000});
  std::vector<std::uint64_t> tiny(5000, 1);
  CHECK(bucket.TakeFitting(tiny) == 1000);
  clock.Advance(kSecond / 2);
  CHECK(bucket.TakeFitting(tiny) == 500);
}

TEST_CASE("concurrent writers never take more than the limits allow", "[token_bucket]") {
  ManualClock clock{5 * kSecond};  // real elapsed time, moved by hand
  TokenBucket bucket(clock);
  std::atomic<std::size_t> taken{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::uint64_t> batch(10, 1000);
      for (int i = 0; i < 100; ++i) taken += bucket.TakeFitting(batch);
    });
  }
  for (auto& th : threads) th.join();
  CHECK(taken.load() == 1000);
  CHECK(bucket.counts().throttled_records == 4000 - 1000);
}

TEST_CASE("the throttling message is Kinesis's", "[token_bucket]") {
  CHECK(ThroughputExceededMessage("clicks", 3) ==
        "Rate exceeded for shard shardId-000000000003 in stream clicks under account "
        "000000000000.");
}

}  // namespace shoal::streams
