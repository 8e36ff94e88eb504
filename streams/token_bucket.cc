#include "streams/token_bucket.h"

#include <algorithm>

#include "base/status.h"
#include "streams/stream_config.h"

namespace shoal::streams {
namespace {

constexpr TimeNs kSecond = 1'000'000'000;

// Whether a dimension whose bucket is full at `full_at` can take `cost`
// now: it is full, or what is owed plus the cost stays within the burst.
bool Fits(TimeNs full_at, TimeNs now, TimeNs cost) {
  if (full_at <= now) return true;
  return full_at - now <= kShardWriteBurst - cost;
}

TimeNs SaturatingAdd(TimeNs a, TimeNs b) {
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}

}  // namespace

TokenBucket::TokenBucket(const Clock& elapsed, WriteLimits limits)
    : elapsed_(elapsed), limits_(limits) {
  const TimeNs now = elapsed_.Now();
  MutexLock lock(mu_);
  bytes_full_at_ = now;
  records_full_at_ = now;
}

// The time `units` take at `per_second`, rounded up, saturating.
TimeNs TokenBucket::Cost(std::uint64_t units, std::uint64_t per_second) const {
  __extension__ typedef unsigned __int128 U128;
  const U128 ns = (static_cast<U128>(units) * kSecond + per_second - 1) / per_second;
  return ns > static_cast<U128>(INT64_MAX) ? INT64_MAX : static_cast<TimeNs>(ns);
}

TimeNs TokenBucket::Reserve(std::uint64_t records, std::uint64_t bytes) {
  const TimeNs now = elapsed_.Now();
  const TimeNs byte_cost = Cost(bytes, limits_.bytes_per_second);
  const TimeNs record_cost = Cost(records, limits_.records_per_second);
  MutexLock lock(mu_);
  // The write may finish once each dimension owes no more than the burst
  // after it: a batch larger than the burst waits for its excess, as the
  // same records written one at a time would. A single record larger than
  // the burst goes once the bucket is full.
  TimeNs wait = 0;
  for (const auto& [full_at, cost] :
       {std::pair{bytes_full_at_, byte_cost}, std::pair{records_full_at_, record_cost}}) {
    const TimeNs owed = std::max<TimeNs>(full_at - now, 0);
    if (records == 1 && cost > kShardWriteBurst) {
      wait = std::max(wait, owed);
    } else {
      wait = std::max(wait, SaturatingAdd(owed, cost) - kShardWriteBurst);
    }
  }
  bytes_full_at_ = SaturatingAdd(std::max(bytes_full_at_, now), byte_cost);
  records_full_at_ = SaturatingAdd(std::max(records_full_at_, now), record_cost);
  counts_.records += records;
  counts_.bytes += bytes;
  if (wait > 0) counts_.throttled_records += records;
  return std::max<TimeNs>(wait, 0);
}

std::size_t TokenBucket::TakeFitting(std::span<const std::uint64_t> record_bytes) {
  const TimeNs now = elapsed_.Now();
  const TimeNs record_cost = Cost(1, limits_.records_per_second);
  MutexLock lock(mu_);
  std::size_t taken = 0;
  for (const std::uint64_t bytes : record_bytes) {
    const TimeNs byte_cost = Cost(bytes, limits_.bytes_per_second);
    if (!Fits(bytes_full_at_, now, byte_cost) || !Fits(records_full_at_, now, record_cost)) break;
    bytes_full_at_ = SaturatingAdd(std::max(bytes_full_at_, now), byte_cost);
    records_full_at_ = SaturatingAdd(std::max(records_full_at_, now), record_cost);
    counts_.records += 1;
    counts_.bytes += bytes;
    ++taken;
  }
  counts_.throttled_records += record_bytes.size() - taken;
  return taken;
}

WriteCounts TokenBucket::counts() const {
  MutexLock lock(mu_);
  return counts_;
}

std::string ThroughputExceededMessage(std::string_view stream, ShardOrdinal shard) {
  const std::string quoted = QuoteForMessage(stream);
  return "Rate exceeded for shard " + ShardIdName(shard) + " in stream " +
         quoted.substr(1, quoted.size() - 2) + " under account " + std::string(kAccountId) + ".";
}

}  // namespace shoal::streams
