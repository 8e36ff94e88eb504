#include "streams/shard_map.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/coding.h"
#include "crypto/aead.h"
#include "streams/token_bucket.h"
#include "streams/validation_error.h"

// Where the messages come from: see shard_map.h for each. The
// LimitExceededException and ResourceInUseException sentences are
// kinesalite's (actions/updateShardCount.js; its test suite runs against
// Kinesis too, though these cases may not have been); an AWS CDK comment
// quotes the scale-up one from Kinesis without the comma ("Current open
// shard count: 1 Target shard count: 4"), so the punctuation is not
// certain. Kinesis's text for the 10-per-day limit was not found; that
// sentence, the per-stream shard cap's, and those for SplitShards and
// RemoveShard are shoal's.

namespace shoal::streams {
namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr std::uint8_t kEncodingVersion = 1;
constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kHour = 3600 * kSecond;
constexpr TimeNs kDay = 24 * kHour;
constexpr std::int64_t kPeakDays = 30;
// A target boundary this close to an existing one keeps the existing one
// (uniform boundaries of different counts differ by rounding, < 2^17).
constexpr HashKey kSnapDistance = HashKey{1} << 64;
constexpr double kHotShardBytesPerSecond = 500.0 * 1024;  // "500 KB/s"
constexpr double kHotShardRecordsPerSecond = 500.0;       // shoal's extension
constexpr std::uint8_t kHasParent = 1;
constexpr std::uint8_t kHasAdjacentParent = 2;
constexpr std::uint8_t kClosed = 4;
constexpr std::uint64_t kMaxEncodedShards = 1'000'000;
constexpr std::uint64_t kMaxEncodedScalings = 1'000;
constexpr std::uint64_t kMaxEncodedPeaks = 1'000;

// LimitExceededException and ResourceInUseException: base/status.h has
// no codes of their own; both are EINVAL.
Status Refused(std::string msg) {
  return {Code::kInvalidRequest, std::move(msg)};
}

std::string CountsSuffix(std::size_t open, std::int64_t target) {
  return "Current open shard count: " + std::to_string(open) +
         ", Target shard count: " + std::to_string(target);
}

std::int64_t DayOf(TimeNs t) {
  return t >= 0 ? t / kDay : -((-t + kDay - 1) / kDay);
}

void PutHashKey(std::string& out, HashKey key) {
  PutFixed64(out, static_cast<std::uint64_t>(key >> 64));
  PutFixed64(out, static_cast<std::uint64_t>(key));
}

bool GetHashKey(Decoder& in, HashKey& key) {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  if (!in.GetFixed64(hi) || !in.GetFixed64(lo)) return false;
  key = (static_cast<HashKey>(hi) << 64) | lo;
  return true;
}

bool GetTime(Decoder& in, TimeNs& t) {
  std::uint64_t v = 0;
  if (!in.GetFixed64(v)) return false;
  t = static_cast<TimeNs>(v);
  return true;
}

bool GetRate(Decoder& in, double& rate) {
  std::uint64_t bits = 0;
  if (!in.GetFixed64(bits)) return false;
  rate = std::bit_cast<double>(bits);
  return std::isfinite(rate) && rate >= 0;
}

std::uint32_t Crc32(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const std::size_t piece = std::min<std::size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(piece));
    bytes.remove_prefix(piece);
  }
  return static_cast<std::uint32_t>(crc);
}

double SanitizeRate(double r) {
  return std::isfinite(r) && r > 0 ? r : 0;
}

// Whether `count` more shards can get ordinals (which are never reused).
bool OrdinalsLeft(ShardOrdinal next, std::uint64_t count) {
  return UINT32_MAX - next >= count;
}

HashKey Width(const Shard& s) {
  return s.ending_hash_key - s.starting_hash_key;
}

}  // namespace

std::string HashKeyToDecimal(HashKey key) {
  if (key == 0) return "0";
  std::string out;
  while (key != 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(key % 10)));
    key /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<HashKey> HashKeyFromDecimal(std::string_view text) {
  if (text.empty() || text.size() > 39 || (text.size() > 1 && text.front() == '0')) {
    return std::nullopt;
  }
  HashKey v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<unsigned>(c - '0');
    if (v > (kMaxHashKey - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

Result<HashKey> ParseExplicitHashKey(std::string_view text) {
  const bool digits =
      !text.empty() && text.size() <= 39 && !(text.size() > 1 && text.front() == '0') &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    return ValidationError(text, "explicitHashKey",
                           "satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
  }
  const auto key = HashKeyFromDecimal(text);
  if (!key) {
    return InvalidArgument(
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified "
        "value was " +
        std::string(text));
  }
  return *key;
}

namespace {

Result<HashKey> HashOfValidKey(std::string_view partition_key) {
  std::array<unsigned char, 16> digest{};
  if (!crypto::Md5Digest(partition_key, digest)) return Internal("MD5 of a partition key failed");
  HashKey key = 0;
  for (const unsigned char c : digest) key = (key << 8) | c;
  return key;
}

}  // namespace

Result<HashKey> PartitionKeyHash(std::string_view partition_key) {
  Status s = ValidatePartitionKey(partition_key);
  if (!s.ok()) return s;
  return HashOfValidKey(partition_key);
}

HashKey UniformShardWidth(std::int64_t count) {
  // 2^128 does not fit: floor(2^128 / n) is floor((2^128 - 1) / n), plus one
  // when n divides 2^128.
  const auto n = static_cast<HashKey>(count);
  const HashKey q = kMaxHashKey / n;
  return kMaxHashKey % n == n - 1 ? q + 1 : q;
}

std::string_view StreamStatusName(StreamStatus status) {
  switch (status) {
    case StreamStatus::kCreating: return "CREATING";
    case StreamStatus::kDeleting: return "DELETING";
    case StreamStatus::kActive: return "ACTIVE";
    case StreamStatus::kUpdating: return "UPDATING";
  }
  return "ACTIVE";
}

std::string Shard::StartingSequenceNumber() const {
  return FormatSequenceNumber(ordinal, 0);
}

std::optional<std::string> Shard::EndingSequenceNumber() const {
  if (open()) return std::nullopt;
  return FormatSequenceNumber(ordinal, ending_offset);
}

Result<ShardMap> ShardMap::Create(std::string_view stream_name, std::int64_t shard_count,
                                  TimeNs now) {
  Status s = ValidateStreamName(stream_name);
  if (!s.ok()) return s;
  if (shard_count < 1) {
    return ValidationError(std::to_string(shard_count), "shardCount",
                           "have value greater than or equal to 1");
  }
  if (shard_count > kMaxShardsPerStream) {
    return Refused("a stream in shoal has at most " + std::to_string(kMaxShardsPerStream) +
                   " shards; ShardCount " + std::to_string(shard_count) + " is over it");
  }
  ShardMap map;
  map.stream_name_ = std::string(stream_name);
  map.created_at_ = now;
  const HashKey width = UniformShardWidth(shard_count);
  for (std::int64_t i = 0; i < shard_count; ++i) {
    const HashKey start = width * static_cast<HashKey>(i);
    const HashKey end =
        i + 1 == shard_count ? kMaxHashKey : width * static_cast<HashKey>(i + 1) - 1;
    map.AddShard(std::nullopt, std::nullopt, start, end, now);
  }
  map.IndexOpenShards();
  return map;
}

const Shard* ShardMap::Find(ShardOrdinal ordinal) const {
  const auto it = std::lower_bound(shards_.begin(), shards_.end(), ordinal,
                                   [](const Shard& s, ShardOrdinal o) { return s.ordinal < o; });
  return it != shards_.end() && it->ordinal == ordinal ? &*it : nullptr;
}

Shard* ShardMap::FindMutable(ShardOrdinal ordinal) {
  return const_cast<Shard*>(std::as_const(*this).Find(ordinal));
}

std::vector<ShardOrdinal> ShardMap::OpenShards() const {
  std::vector<ShardOrdinal> out;
  out.reserve(open_.size());
  for (const auto& [start, ordinal] : open_) out.push_back(ordinal);
  return out;
}

ShardOrdinal ShardMap::Route(HashKey key) const {
  // open_ starts at 0 and has no gaps, so the last start <= key owns it.
  auto it = std::upper_bound(
      open_.begin(), open_.end(), key,
      [](HashKey k, const std::pair<HashKey, ShardOrdinal>& e) { return k < e.first; });
  return std::prev(it)->second;
}

Result<ShardOrdinal> ShardMap::RoutePartitionKey(std::string_view partition_key) const {
  auto key = PartitionKeyHash(partition_key);
  if (!key.ok()) return key.status();
  return Route(*key);
}

Result<ShardOrdinal> ShardMap::RouteValidPartitionKey(std::string_view partition_key) const {
  if (open_.size() == 1) return open_.front().second;
  auto key = HashOfValidKey(partition_key);
  if (!key.ok()) return key.status();
  return Route(*key);
}

Result<ShardOrdinal> ShardMap::RouteExplicitHashKey(std::string_view explicit_hash_key) const {
  auto key = ParseExplicitHashKey(explicit_hash_key);
  if (!key.ok()) return key.status();
  return Route(*key);
}

ShardOrdinal ShardMap::AddShard(std::optional<ShardOrdinal> parent,
                                std::optional<ShardOrdinal> adjacent_parent, HashKey start,
                                HashKey end, TimeNs now) {
  Shard shard;
  shard.ordinal = next_ordinal_++;
  shard.parent = parent;
  shard.adjacent_parent = adjacent_parent;
  shard.starting_hash_key = start;
  shard.ending_hash_key = end;
  shard.opened_at = now;
  shards_.push_back(shard);
  return shard.ordinal;
}

void ShardMap::IndexOpenShards() {
  open_.clear();
  for (const Shard& s : shards_) {
    if (s.open()) open_.emplace_back(s.starting_hash_key, s.ordinal);
  }
  std::sort(open_.begin(), open_.end());
}

TimeNs ShardMap::NextScalingAllowedAt(TimeNs now) const {
  std::vector<TimeNs> recent;
  for (const TimeNs t : scalings_) {
    if (t > now - kDay) recent.push_back(t);
  }
  if (recent.size() < static_cast<std::size_t>(kMaxScalingsPerDay)) return now;
  // The oldest of the last ten must leave the window.
  return recent[recent.size() - static_cast<std::size_t>(kMaxScalingsPerDay)] + kDay;
}

Status ShardMap::UpdateShardCount(std::int64_t target, TimeNs now,
                                  const EndingOffsetFn& ending_offset) {
  if (status_ != StreamStatus::kActive) {
    return Refused("Stream " + stream_name_ + " under account " + std::string(kAccountId) +
                   " not ACTIVE, instead in state " + std::string(StreamStatusName(status_)));
  }
  if (target < 1 || target > kMaxTargetShardCount) {
    return ValidationError(
        std::to_string(target), "targetShardCount",
        target < 1 ? "have value greater than or equal to 1"
                   : "have value less than or equal to " + std::to_string(kMaxTargetShardCount));
  }
  const std::size_t open = open_.size();
  const auto open_count = static_cast<std::int64_t>(open);
  if (target > kMaxShardsPerStream) {
    return Refused("Target shard count or number of open shards cannot be greater than " +
                   std::to_string(kMaxShardsPerStream) + ". " + CountsSuffix(open, target));
  }
  if (target > 2 * open_count) {
    return Refused("UpdateShardCount cannot scale up over double your current open shard count. " +
                   CountsSuffix(open, target));
  }
  if (2 * target < open_count) {
    return Refused("UpdateShardCount cannot scale down below half your current open shard count. " +
                   CountsSuffix(open, target));
  }
  if (target == open_count) return Status::Ok();
  if (!OrdinalsLeft(next_ordinal_, 2 * static_cast<std::uint64_t>(target + open_count))) {
    return Refused("stream " + stream_name_ + " has used up its shard ids");
  }
  const TimeNs allowed_at = NextScalingAllowedAt(now);
  if (allowed_at > now) {
    return Refused("UpdateShardCount cannot run more than " + std::to_string(kMaxScalingsPerDay) +
                   " times in a rolling 24-hour period on stream " + stream_name_ +
                   " under account " + std::string(kAccountId) + "; the next one is allowed at " +
                   FormatIso8601(allowed_at));
  }

  // The boundaries between open shards now, and the ones wanted.
  std::vector<HashKey> current;
  for (std::size_t i = 1; i < open; ++i) current.push_back(open_[i].first);
  const HashKey width = UniformShardWidth(target);
  std::vector<HashKey> wanted;
  for (std::int64_t k = 1; k < target; ++k) {
    HashKey t = width * static_cast<HashKey>(k);
    const auto it = std::lower_bound(current.begin(), current.end(), t);
    if (it != current.end() && *it - t <= kSnapDistance) {
      t = *it;
    } else if (it != current.begin() && t - *std::prev(it) <= kSnapDistance) {
      t = *std::prev(it);
    }
    wanted.push_back(t);
  }
  const std::set<HashKey> current_set(current.begin(), current.end());
  const std::set<HashKey> wanted_set(wanted.begin(), wanted.end());

  ShardMap next = *this;
  // The shards open before this call close with the log's ending offset;
  // those made and replaced within it are empty.
  std::set<ShardOrdinal> original;
  for (const auto& [start, ordinal] : open_) original.insert(ordinal);
  std::map<HashKey, ShardOrdinal> working(open_.begin(), open_.end());
  const auto close = [&](ShardOrdinal ordinal) {
    Shard* s = next.FindMutable(ordinal);
    s->closed_at = now;
    s->ending_offset = original.count(ordinal) != 0 ? ending_offset(*s) : 0;
  };
  for (const HashKey t : wanted) {
    if (current_set.count(t) != 0) continue;
    auto it = std::prev(working.upper_bound(t));
    const ShardOrdinal parent = it->second;
    const HashKey start = it->first;
    const HashKey end = next.Find(parent)->ending_hash_key;
    close(parent);
    working.erase(it);
    working[start] = next.AddShard(parent, std::nullopt, start, t - 1, now);
    working[t] = next.AddShard(parent, std::nullopt, t, end, now);
  }
  for (const HashKey c : current) {
    if (wanted_set.count(c) != 0) continue;
    const auto right = working.find(c);
    const auto left = std::prev(right);
    const ShardOrdinal lower = left->second;
    const ShardOrdinal upper = right->second;
    const HashKey start = left->first;
    const HashKey end = next.Find(upper)->ending_hash_key;
    close(lower);
    close(upper);
    working.erase(right);
    working[start] = next.AddShard(lower, upper, start, end, now);
  }
  next.IndexOpenShards();
  std::erase_if(next.scalings_, [&](TimeNs t) { return t <= now - kDay; });
  next.scalings_.push_back(now);
  *this = std::move(next);
  return Status::Ok();
}

Status ShardMap::SplitShards(std::span<const ShardOrdinal> shards, TimeNs now,
                             const EndingOffsetFn& ending_offset) {
  std::set<ShardOrdinal> seen;
  for (const ShardOrdinal o : shards) {
    const Shard* s = Find(o);
    if (s == nullptr || !s->open()) {
      return InvalidArgument("cannot split " + ShardIdName(o) + " of stream " + stream_name_ +
                             ": it is not an open shard");
    }
    if (!seen.insert(o).second) {
      return InvalidArgument("cannot split " + ShardIdName(o) + " twice at once");
    }
    if (s->starting_hash_key == s->ending_hash_key) {
      return InvalidArgument("cannot split " + ShardIdName(o) + ": it holds a single hash key");
    }
  }
  if (static_cast<std::int64_t>(open_.size() + shards.size()) > kMaxShardsPerStream) {
    return Refused("splitting " + std::to_string(shards.size()) + " shards of stream " +
                   stream_name_ + " would take it over " + std::to_string(kMaxShardsPerStream) +
                   " open shards");
  }
  if (!OrdinalsLeft(next_ordinal_, 2 * static_cast<std::uint64_t>(shards.size()))) {
    return Refused("stream " + stream_name_ + " has used up its shard ids");
  }
  for (const ShardOrdinal o : shards) {
    Shard* s = FindMutable(o);
    const HashKey start = s->starting_hash_key;
    const HashKey end = s->ending_hash_key;
    HashKey mid = start + (end - start) / 2;
    if (mid == start) ++mid;
    s->closed_at = now;
    s->ending_offset = ending_offset(*s);
    AddShard(o, std::nullopt, start, mid - 1, now);  // invalidates s
    AddShard(o, std::nullopt, mid, end, now);
  }
  IndexOpenShards();
  return Status::Ok();
}

std::vector<ShardOrdinal> ShardMap::ExpiredShards(TimeNs now, std::int64_t retention_hours) const {
  std::vector<ShardOrdinal> out;
  for (const Shard& s : shards_) {
    if (!s.open() && *s.closed_at <= now - retention_hours * kHour) out.push_back(s.ordinal);
  }
  return out;
}

Status ShardMap::RemoveShard(ShardOrdinal ordinal) {
  const Shard* s = Find(ordinal);
  if (s == nullptr || s->open()) {
    return InvalidArgument("cannot remove " + ShardIdName(ordinal) + " from stream " +
                           stream_name_ + ": it is not a closed shard of it");
  }
  shards_.erase(shards_.begin() + (s - shards_.data()));
  return Status::Ok();
}

void ShardMap::RecordThroughput(TimeNs now, ThroughputRate rate) {
  const std::int64_t day = DayOf(now);
  rate.bytes_per_second = SanitizeRate(rate.bytes_per_second);
  rate.records_per_second = SanitizeRate(rate.records_per_second);
  auto it = std::lower_bound(daily_peaks_.begin(), daily_peaks_.end(), day,
                             [](const auto& e, std::int64_t d) { return e.first < d; });
  if (it == daily_peaks_.end() || it->first != day) it = daily_peaks_.insert(it, {day, {}});
  it->second.bytes_per_second = std::max(it->second.bytes_per_second, rate.bytes_per_second);
  it->second.records_per_second = std::max(it->second.records_per_second, rate.records_per_second);
  std::erase_if(daily_peaks_, [&](const auto& e) { return e.first <= day - kPeakDays; });
}

ThroughputRate ShardMap::PeakThroughput(TimeNs now) const {
  const std::int64_t day = DayOf(now);
  ThroughputRate peak;
  for (const auto& [d, rate] : daily_peaks_) {
    if (d <= day - kPeakDays || d > day) continue;
    peak.bytes_per_second = std::max(peak.bytes_per_second, rate.bytes_per_second);
    peak.records_per_second = std::max(peak.records_per_second, rate.records_per_second);
  }
  return peak;
}

std::string ShardMap::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kEncodingVersion));
  PutBytes(out, stream_name_);
  PutFixed64(out, static_cast<std::uint64_t>(created_at_));
  out.push_back(static_cast<char>(status_));
  PutVarint(out, next_ordinal_);
  PutVarint(out, shards_.size());
  for (const Shard& s : shards_) {
    PutVarint(out, s.ordinal);
    std::uint8_t flags = 0;
    if (s.parent) flags |= kHasParent;
    if (s.adjacent_parent) flags |= kHasAdjacentParent;
    if (!s.open()) flags |= kClosed;
    out.push_back(static_cast<char>(flags));
    if (s.parent) PutVarint(out, *s.parent);
    if (s.adjacent_parent) PutVarint(out, *s.adjacent_parent);
    PutHashKey(out, s.starting_hash_key);
    PutHashKey(out, s.ending_hash_key);
    PutFixed64(out, static_cast<std::uint64_t>(s.opened_at));
    if (!s.open()) {
      PutFixed64(out, static_cast<std::uint64_t>(*s.closed_at));
      PutVarint(out, s.ending_offset);
    }
  }
  PutVarint(out, scalings_.size());
  for (const TimeNs t : scalings_) PutFixed64(out, static_cast<std::uint64_t>(t));
  PutVarint(out, daily_peaks_.size());
  for (const auto& [day, rate] : daily_peaks_) {
    PutFixed64(out, static_cast<std::uint64_t>(day));
    PutFixed64(out, std::bit_cast<std::uint64_t>(rate.bytes_per_second));
    PutFixed64(out, std::bit_cast<std::uint64_t>(rate.records_per_second));
  }
  PutFixed32(out, Crc32(out));
  return out;
}

Result<ShardMap> ShardMap::Decode(std::string_view bytes) {
  if (bytes.size() < 5) return Corrupt("shard map: too short");
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (Crc32(body) !=
      LoadFixed32(reinterpret_cast<const unsigned char*>(body.data() + body.size()))) {
    return Corrupt("shard map: checksum mismatch");
  }
  Decoder in(body);
  std::uint8_t version = 0;
  if (!in.GetFixed8(version)) return Corrupt("shard map: too short");
  if (version != kEncodingVersion) {
    return Corrupt("shard map: unknown format version " + std::to_string(version));
  }
  ShardMap map;
  std::uint8_t status = 0;
  std::uint64_t next_ordinal = 0;
  std::uint64_t count = 0;
  bool ok = in.GetBytes(map.stream_name_) && GetTime(in, map.created_at_) && in.GetFixed8(status) &&
            status <= static_cast<std::uint8_t>(StreamStatus::kUpdating) &&
            in.GetVarintBounded(UINT32_MAX, next_ordinal) &&
            in.GetVarintBounded(kMaxEncodedShards, count);
  if (!ok) return Corrupt("shard map: damaged header");
  map.status_ = static_cast<StreamStatus>(status);
  map.next_ordinal_ = static_cast<ShardOrdinal>(next_ordinal);
  map.shards_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, in.remaining())));
  for (std::uint64_t i = 0; i < count && ok; ++i) {
    Shard s;
    std::uint64_t v = 0;
    std::uint8_t flags = 0;
    ok = in.GetVarintBounded(UINT32_MAX, v) && in.GetFixed8(flags) &&
         (flags & ~(kHasParent | kHasAdjacentParent | kClosed)) == 0;
    s.ordinal = static_cast<ShardOrdinal>(v);
    if (ok && (flags & kHasParent) != 0) {
      ok = in.GetVarintBounded(UINT32_MAX, v);
      s.parent = static_cast<ShardOrdinal>(v);
    }
    if (ok && (flags & kHasAdjacentParent) != 0) {
      ok = in.GetVarintBounded(UINT32_MAX, v);
      s.adjacent_parent = static_cast<ShardOrdinal>(v);
    }
    ok = ok && GetHashKey(in, s.starting_hash_key) && GetHashKey(in, s.ending_hash_key) &&
         GetTime(in, s.opened_at);
    if (ok && (flags & kClosed) != 0) {
      TimeNs closed = 0;
      ok = GetTime(in, closed) && in.GetVarint(s.ending_offset);
      s.closed_at = closed;
    }
    map.shards_.push_back(s);
  }
  std::uint64_t n = 0;
  ok = ok && in.GetVarintBounded(kMaxEncodedScalings, n);
  for (std::uint64_t i = 0; i < n && ok; ++i) {
    TimeNs t = 0;
    ok = GetTime(in, t);
    map.scalings_.push_back(t);
  }
  ok = ok && in.GetVarintBounded(kMaxEncodedPeaks, n);
  for (std::uint64_t i = 0; i < n && ok; ++i) {
    TimeNs day = 0;
    ThroughputRate rate;
    ok = GetTime(in, day) && GetRate(in, rate.bytes_per_second) &&
         GetRate(in, rate.records_per_second);
    map.daily_peaks_.emplace_back(day, rate);
  }
  if (!ok || !in.done()) return Corrupt("shard map: damaged or truncated");
  map.IndexOpenShards();
  Status s = map.CheckInvariants();
  if (!s.ok()) return Corrupt("shard map: " + s.message());
  return map;
}

Status ShardMap::CheckInvariants() const {
  if (!ValidateStreamName(stream_name_).ok()) return Internal("invalid stream name");
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const Shard& s = shards_[i];
    if (i > 0 && shards_[i - 1].ordinal >= s.ordinal) return Internal("shards out of order");
    if (s.ordinal >= next_ordinal_) return Internal("a shard ordinal not yet handed out");
    if (s.starting_hash_key > s.ending_hash_key) return Internal("an empty hash key range");
    if (s.closed_at && *s.closed_at < s.opened_at) return Internal("a shard closed before opened");
    if ((s.parent && *s.parent >= s.ordinal) ||
        (s.adjacent_parent && (!s.parent || *s.adjacent_parent >= s.ordinal))) {
      return Internal("a shard's parents are not older than it");
    }
  }
  if (open_.empty() || open_.front().first != 0) return Internal("no open shard owns hash key 0");
  for (std::size_t i = 0; i < open_.size(); ++i) {
    const HashKey end = Find(open_[i].second)->ending_hash_key;
    const bool last = i + 1 == open_.size();
    if (last ? end != kMaxHashKey : (end == kMaxHashKey || end + 1 != open_[i + 1].first)) {
      return Internal("open shards do not partition the hash keys");
    }
  }
  if (!std::is_sorted(scalings_.begin(), scalings_.end())) return Internal("scalings out of order");
  for (std::size_t i = 1; i < daily_peaks_.size(); ++i) {
    if (daily_peaks_[i - 1].first >= daily_peaks_[i].first) return Internal("peaks out of order");
  }
  return Status::Ok();
}

std::vector<ShardOrdinal> PlanOnDemandSplits(const ShardMap& map,
                                             std::span<const ShardThroughput> observed,
                                             ThroughputRate previous_peak) {
  std::map<ShardOrdinal, ThroughputRate> rates;
  ThroughputRate total;
  for (const ShardThroughput& o : observed) {
    const Shard* s = map.Find(o.shard);
    if (s == nullptr || !s->open()) continue;
    ThroughputRate& r = rates[o.shard];
    r.bytes_per_second += SanitizeRate(o.rate.bytes_per_second);
    r.records_per_second += SanitizeRate(o.rate.records_per_second);
    total.bytes_per_second += SanitizeRate(o.rate.bytes_per_second);
    total.records_per_second += SanitizeRate(o.rate.records_per_second);
  }
  const double peak_bytes =
      std::max(SanitizeRate(previous_peak.bytes_per_second), total.bytes_per_second);
  const double peak_records =
      std::max(SanitizeRate(previous_peak.records_per_second), total.records_per_second);
  // Shards for twice the peak, at least the initial four, at most the cap.
  const double wanted =
      std::max({static_cast<double>(kOnDemandInitialShards),
                std::ceil(2 * peak_bytes / static_cast<double>(kShardWriteBytesPerSecond)),
                std::ceil(2 * peak_records / static_cast<double>(kShardWriteRecordsPerSecond))});
  const auto required =
      static_cast<std::size_t>(std::min(wanted, static_cast<double>(kMaxShardsPerStream)));

  struct Candidate {
    ShardOrdinal ordinal;
    bool hot;
    ThroughputRate rate;
    HashKey width;
  };
  std::vector<Candidate> candidates;
  for (const ShardOrdinal o : map.OpenShards()) {
    const Shard& s = *map.Find(o);
    if (s.starting_hash_key == s.ending_hash_key) continue;
    const ThroughputRate r = rates.count(o) != 0 ? rates[o] : ThroughputRate{};
    const bool hot = r.bytes_per_second > kHotShardBytesPerSecond ||
                     r.records_per_second > kHotShardRecordsPerSecond;
    candidates.push_back({o, hot, r, Width(s)});
  }
  // Hot shards first, then the busiest, then the widest.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.hot != b.hot) return a.hot;
    if (a.rate.bytes_per_second != b.rate.bytes_per_second) {
      return a.rate.bytes_per_second > b.rate.bytes_per_second;
    }
    if (a.rate.records_per_second != b.rate.records_per_second) {
      return a.rate.records_per_second > b.rate.records_per_second;
    }
    if (a.width != b.width) return a.width > b.width;
    return a.ordinal < b.ordinal;
  });
  const std::size_t open = map.open_shard_count();
  const std::size_t room = static_cast<std::size_t>(kMaxShardsPerStream) -
                           std::min(open, static_cast<std::size_t>(kMaxShardsPerStream));
  std::vector<ShardOrdinal> out;
  for (const Candidate& c : candidates) {
    if (out.size() >= room) break;
    if (!c.hot && open + out.size() >= required) break;
    out.push_back(c.ordinal);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string DescribeStreamJson(const ShardMap& map, const StreamConfig& config) {
  OrderedJson shards = OrderedJson::array();
  for (const Shard& s : map.shards()) {
    OrderedJson j;
    j["ShardId"] = s.id();
    if (s.parent) j["ParentShardId"] = ShardIdName(*s.parent);
    if (s.adjacent_parent) j["AdjacentParentShardId"] = ShardIdName(*s.adjacent_parent);
    j["HashKeyRange"]["StartingHashKey"] = HashKeyToDecimal(s.starting_hash_key);
    j["HashKeyRange"]["EndingHashKey"] = HashKeyToDecimal(s.ending_hash_key);
    j["SequenceNumberRange"]["StartingSequenceNumber"] = s.StartingSequenceNumber();
    if (const auto ending = s.EndingSequenceNumber()) {
      j["SequenceNumberRange"]["EndingSequenceNumber"] = *ending;
    }
    shards.push_back(std::move(j));
  }
  OrderedJson d;
  d["StreamName"] = map.stream_name();
  d["StreamARN"] = StreamArn(map.stream_name());
  d["StreamStatus"] = StreamStatusName(map.status());
  d["StreamModeDetails"]["StreamMode"] = StreamModeName(config.mode);
  d["Shards"] = std::move(shards);
  d["HasMoreShards"] = false;
  d["RetentionPeriodHours"] = config.retention_hours;
  // Seconds with milliseconds, as the API gives them.
  const TimeNs created_ms = map.created_at() / 1'000'000;
  d["StreamCreationTimestamp"] = static_cast<double>(created_ms) / 1000.0;
  OrderedJson monitoring;
  monitoring["ShardLevelMetrics"] = OrderedJson::array();
  d["EnhancedMonitoring"] = OrderedJson::array({monitoring});
  d["EncryptionType"] = "NONE";
  OrderedJson out;
  out["StreamDescription"] = std::move(d);
  std::string text = out.dump(2, ' ', false, OrderedJson::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace shoal::streams
