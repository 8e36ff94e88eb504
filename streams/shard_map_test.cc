#include "streams/shard_map.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace shoal::streams {
namespace {

constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kSecond = 1000 * kMs;
constexpr TimeNs kHour = 3600 * kSecond;
constexpr TimeNs kDay = 24 * kHour;
// 2027-01-15T08:00:00Z
constexpr TimeNs kT0 = 1'800'000'000 * kSecond;
constexpr double kMiB = 1024 * 1024;

std::string Dec(HashKey k) {
  return HashKeyToDecimal(k);
}

HashKey Key(std::string_view decimal) {
  const auto k = HashKeyFromDecimal(decimal);
  REQUIRE(k);
  return *k;
}

ShardMap MustCreate(std::int64_t count, std::string_view name = "clicks") {
  auto m = ShardMap::Create(name, count, kT0);
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  return std::move(m).value();
}

// The log's view: shard ordinal -> its last record's offset.
struct FakeLogs {
  std::map<ShardOrdinal, std::uint64_t> last;
  std::vector<ShardOrdinal> asked;
  EndingOffsetFn fn() {
    return [this](const Shard& s) {
      asked.push_back(s.ordinal);
      return last.count(s.ordinal) != 0 ? last[s.ordinal] : 0;
    };
  }
};

// (start, end) of the open shards by hash key, as decimals.
std::vector<std::pair<std::string, std::string>> OpenRanges(const ShardMap& m) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const ShardOrdinal o : m.OpenShards()) {
    const Shard* s = m.Find(o);
    out.emplace_back(Dec(s->starting_hash_key), Dec(s->ending_hash_key));
  }
  return out;
}

// Every shard with parents is a split child inside its one parent, or a
// merge child covering exactly its two adjacent parents.
void CheckLineage(const ShardMap& m) {
  for (const Shard& s : m.shards()) {
    if (!s.parent) continue;
    const Shard* p = m.Find(*s.parent);
    REQUIRE(p != nullptr);
    CHECK_FALSE(p->open());
    CHECK(*p->closed_at == s.opened_at);
    if (!s.adjacent_parent) {
      CHECK(s.starting_hash_key >= p->starting_hash_key);
      CHECK(s.ending_hash_key <= p->ending_hash_key);
    } else {
      const Shard* a = m.Find(*s.adjacent_parent);
      REQUIRE(a != nullptr);
      CHECK_FALSE(a->open());
      CHECK(p->ending_hash_key + 1 == a->starting_hash_key);
      CHECK(s.starting_hash_key == p->starting_hash_key);
      CHECK(s.ending_hash_key == a->ending_hash_key);
    }
  }
}

}  // namespace

TEST_CASE("hash keys convert to and from 128-bit decimals", "[shard_map]") {
  CHECK(Dec(0) == "0");
  CHECK(Dec(kMaxHashKey) == "340282366920938463463374607431768211455");
  CHECK(HashKeyFromDecimal("340282366920938463463374607431768211455") == kMaxHashKey);
  CHECK_FALSE(HashKeyFromDecimal("340282366920938463463374607431768211456"));
  CHECK_FALSE(HashKeyFromDecimal("999999999999999999999999999999999999999"));
  CHECK_FALSE(HashKeyFromDecimal("01"));
  CHECK_FALSE(HashKeyFromDecimal(""));
  CHECK_FALSE(HashKeyFromDecimal("1e5"));
  CHECK(HashKeyFromDecimal("170141183460469231731687303715884105728") == HashKey{1} << 127);
}

TEST_CASE("new streams split 2^128 as Kinesis does", "[shard_map]") {
  SECTION("one shard owns every key") {
    const ShardMap m = MustCreate(1);
    CHECK(OpenRanges(m) == std::vector<std::pair<std::string, std::string>>{
                               {"0", "340282366920938463463374607431768211455"}});
  }
  SECTION("two shards split at 2^127") {
    CHECK(OpenRanges(MustCreate(2)) == std::vector<std::pair<std::string, std::string>>{
                                           {"0", "170141183460469231731687303715884105727"},
                                           {"170141183460469231731687303715884105728",
                                            "340282366920938463463374607431768211455"}});
  }
  SECTION("three shards as in the AWS CLI's describe-stream example") {
    CHECK(OpenRanges(MustCreate(3)) == std::vector<std::pair<std::string, std::string>>{
                                           {"0", "113427455640312821154458202477256070484"},
                                           {"113427455640312821154458202477256070485",
                                            "226854911280625642308916404954512140969"},
                                           {"226854911280625642308916404954512140970",
                                            "340282366920938463463374607431768211455"}});
  }
  SECTION("six shards at multiples of floor(2^128 / 6), as a captured DescribeStream shows") {
    const auto r = OpenRanges(MustCreate(6));
    REQUIRE(r.size() == 6);
    CHECK(r[1].first == "56713727820156410577229101238628035242");
    CHECK(r[2].first == "113427455640312821154458202477256070484");
    CHECK(r[3].first == "170141183460469231731687303715884105726");
    CHECK(r[4].first == "226854911280625642308916404954512140968");
    CHECK(r[5].first == "283568639100782052886145506193140176210");
    CHECK(r[5].second == "340282366920938463463374607431768211455");
  }
  SECTION("shard ids count from zero, all open, all ACTIVE") {
    const ShardMap m = MustCreate(3);
    CHECK(m.status() == StreamStatus::kActive);
    CHECK(m.OpenShards() == std::vector<ShardOrdinal>{0, 1, 2});
    CHECK(m.Find(2)->id() == "shardId-000000000002");
    CHECK(m.Find(2)->StartingSequenceNumber() == FormatSequenceNumber(2, 0));
    CHECK_FALSE(m.Find(2)->EndingSequenceNumber());
    CHECK(m.Find(3) == nullptr);
  }
}

TEST_CASE("creating a stream checks its name and shard count", "[shard_map]") {
  CHECK(ShardMap::Create("a/b", 1, kT0).status().code() == Code::kInvalidArgument);
  CHECK(ShardMap::Create("s", 0, kT0).status().message() ==
        "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1");
  CHECK(ShardMap::Create("s", kMaxShardsPerStream + 1, kT0).status().code() ==
        Code::kInvalidRequest);
  CHECK(ShardMap::Create("s", kMaxShardsPerStream, kT0).ok());
}

TEST_CASE("partition keys route by the MD5 of the key as a big-endian integer", "[shard_map]") {
  // MD5("a") = 0cc175b9c0f1b6a831c399e269772661.
  CHECK(PartitionKeyHash("a").value() == Key("16955237001963240173058271559858726497"));
  CHECK(PartitionKeyHash("clicks").value() == Key("268389195559883010157699775205982305609"));
  CHECK(PartitionKeyHash("\xe2\x98\x83").value() == Key("96397256412511645622454565922501115058"));
  const ShardMap m = MustCreate(2);
  CHECK(m.RoutePartitionKey("a").value() == 0);
  CHECK(m.RoutePartitionKey("clicks").value() == 1);
  CHECK(m.RoutePartitionKey("user-42").value() == 0);
  CHECK(m.RoutePartitionKey("").status().code() == Code::kInvalidArgument);
  CHECK(m.RoutePartitionKey(std::string(257, 'k')).status().code() == Code::kInvalidArgument);
  SECTION("the boundary key belongs to the upper shard") {
    CHECK(m.Route((HashKey{1} << 127) - 1) == 0);
    CHECK(m.Route(HashKey{1} << 127) == 1);
    CHECK(m.Route(0) == 0);
    CHECK(m.Route(kMaxHashKey) == 1);
  }
}

TEST_CASE("explicit hash keys route directly, with Kinesis's errors", "[shard_map]") {
  const ShardMap m = MustCreate(3);
  CHECK(m.RouteExplicitHashKey("0").value() == 0);
  CHECK(m.RouteExplicitHashKey("113427455640312821154458202477256070485").value() == 1);
  CHECK(m.RouteExplicitHashKey("340282366920938463463374607431768211455").value() == 2);
  const Status range = m.RouteExplicitHashKey("340282366920938463463374607431768211456").status();
  CHECK(range.code() == Code::kInvalidArgument);
  CHECK(range.message() ==
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified "
        "value was 340282366920938463463374607431768211456");
  CHECK(m.RouteExplicitHashKey("01").status().message() ==
        "1 validation error detected: Value '01' at 'explicitHashKey' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
  CHECK(m.RouteExplicitHashKey(std::string(40, '1')).status().code() == Code::kInvalidArgument);
  CHECK(m.RouteExplicitHashKey("").status().code() == Code::kInvalidArgument);
}

TEST_CASE("doubling splits each shard once and closes the parents with the log's offsets",
          "[shard_map]") {
  ShardMap m = MustCreate(1);
  FakeLogs logs;
  logs.last[0] = 41;
  REQUIRE(m.UpdateShardCount(2, kT0 + kHour, logs.fn()).ok());
  CHECK(logs.asked == std::vector<ShardOrdinal>{0});
  const Shard* parent = m.Find(0);
  CHECK_FALSE(parent->open());
  CHECK(*parent->closed_at == kT0 + kHour);
  CHECK(parent->EndingSequenceNumber() == FormatSequenceNumber(0, 41));
  CHECK(m.OpenShards() == std::vector<ShardOrdinal>{1, 2});
  CHECK(m.Find(1)->parent == ShardOrdinal{0});
  CHECK(m.Find(2)->parent == ShardOrdinal{0});
  CHECK_FALSE(m.Find(1)->adjacent_parent);
  CHECK(OpenRanges(m) == OpenRanges(MustCreate(2)));
  CHECK(m.shards().size() == 3);
  CheckLineage(m);

  SECTION("3 -> 6 keeps the old boundaries: three splits, no slivers") {
    ShardMap three = MustCreate(3);
    REQUIRE(three.UpdateShardCount(6, kT0 + kHour, FakeLogs{}.fn()).ok());
    CHECK(three.shards().size() == 9);
    const auto r = OpenRanges(three);
    REQUIRE(r.size() == 6);
    CHECK(r[2].first == "113427455640312821154458202477256070485");  // the 3-shard boundary
    CHECK(r[4].first == "226854911280625642308916404954512140970");
    CHECK(r[1].first == "56713727820156410577229101238628035242");
    CheckLineage(three);
  }
}

TEST_CASE("halving merges adjacent pairs, naming both parents", "[shard_map]") {
  ShardMap m = MustCreate(4);
  REQUIRE(m.UpdateShardCount(2, kT0 + kHour, FakeLogs{}.fn()).ok());
  CHECK(m.shards().size() == 6);
  CHECK(m.OpenShards() == std::vector<ShardOrdinal>{4, 5});
  CHECK(m.Find(4)->parent == ShardOrdinal{0});
  CHECK(m.Find(4)->adjacent_parent == ShardOrdinal{1});
  CHECK(m.Find(5)->parent == ShardOrdinal{2});
  CHECK(m.Find(5)->adjacent_parent == ShardOrdinal{3});
  CHECK(OpenRanges(m) == OpenRanges(MustCreate(2)));
  CheckLineage(m);
}

TEST_CASE("5 -> 3 goes through short-lived shards so every shard names all its parents",
          "[shard_map]") {
  ShardMap m = MustCreate(5);
  FakeLogs logs;
  for (ShardOrdinal o = 0; o < 5; ++o) logs.last[o] = 100 + o;
  REQUIRE(m.UpdateShardCount(3, kT0 + kHour, logs.fn()).ok());
  CHECK(OpenRanges(m) == OpenRanges(MustCreate(3)));
  CHECK(m.open_shard_count() == 3);
  CHECK(m.shards().size() == 5 + 8);
  // Each original parent was asked once, for its last offset.
  CHECK(std::set<ShardOrdinal>(logs.asked.begin(), logs.asked.end()) ==
        std::set<ShardOrdinal>{0, 1, 2, 3, 4});
  CHECK(logs.asked.size() == 5);
  for (ShardOrdinal o = 0; o < 5; ++o) CHECK(m.Find(o)->ending_offset == 100 + o);
  // The short-lived shards closed at once, empty.
  for (const Shard& s : m.shards()) {
    if (s.ordinal >= 5 && !s.open()) {
      CHECK(*s.closed_at == s.opened_at);
      CHECK(s.ending_offset == 0);
    }
  }
  CheckLineage(m);
  // Following parents back from each open shard reaches exactly the old
  // shards that overlap it.
  for (const ShardOrdinal o : m.OpenShards()) {
    const Shard* open = m.Find(o);
    std::set<ShardOrdinal> roots;
    std::vector<ShardOrdinal> todo = {o};
    while (!todo.empty()) {
      const Shard* s = m.Find(todo.back());
      todo.pop_back();
      if (!s->parent) {
        roots.insert(s->ordinal);
        continue;
      }
      todo.push_back(*s->parent);
      if (s->adjacent_parent) todo.push_back(*s->adjacent_parent);
    }
    std::set<ShardOrdinal> overlapping;
    for (ShardOrdinal old = 0; old < 5; ++old) {
      const Shard* s = m.Find(old);
      if (s->starting_hash_key <= open->ending_hash_key &&
          open->starting_hash_key <= s->ending_hash_key) {
        overlapping.insert(old);
      }
    }
    CHECK(roots == overlapping);
  }
  SECTION("and back up to 5") {
    REQUIRE(m.UpdateShardCount(5, kT0 + 2 * kHour, FakeLogs{}.fn()).ok());
    CHECK(OpenRanges(m) == OpenRanges(MustCreate(5)));
    CheckLineage(m);
  }
}

TEST_CASE("any sequence of allowed scalings leaves a near-uniform partition and sound lineage",
          "[shard_map]") {
  std::uint64_t seed = 0x5eed;
  const auto next = [&seed](std::uint64_t n) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    return (seed >> 33) % n;
  };
  ShardMap m = MustCreate(7);
  TimeNs now = kT0;
  for (int step = 0; step < 40; ++step) {
    const auto open = static_cast<std::int64_t>(m.open_shard_count());
    const std::int64_t lo = (open + 1) / 2;
    const std::int64_t hi = std::min<std::int64_t>(2 * open, 300);
    const std::int64_t target =
        lo + static_cast<std::int64_t>(next(static_cast<std::uint64_t>(hi - lo + 1)));
    now += 3 * kHour;
    INFO("from " << open << " to " << target);
    REQUIRE(m.UpdateShardCount(target, now, FakeLogs{}.fn()).ok());
    REQUIRE(static_cast<std::int64_t>(m.open_shard_count()) == target);
    const std::vector<ShardOrdinal> open_shards = m.OpenShards();
    const HashKey width = UniformShardWidth(target);
    for (std::size_t k = 1; k < open_shards.size(); ++k) {
      const HashKey start = m.Find(open_shards[k])->starting_hash_key;
      const HashKey ideal = width * static_cast<HashKey>(k);
      CHECK((start > ideal ? start - ideal : ideal - start) <= (HashKey{1} << 64));
    }
  }
  CheckLineage(m);
  const auto decoded = ShardMap::Decode(m.Encode());
  REQUIRE(decoded.ok());
  CHECK(*decoded == m);
}

TEST_CASE("UpdateShardCount keeps Kinesis's limits", "[shard_map]") {
  FakeLogs logs;
  SECTION("not above double") {
    ShardMap m = MustCreate(2);
    const Status s = m.UpdateShardCount(5, kT0, logs.fn());
    CHECK(s.code() == Code::kInvalidRequest);
    CHECK(s.message() ==
          "UpdateShardCount cannot scale up over double your current open shard count. Current "
          "open shard count: 2, Target shard count: 5");
    CHECK(m.UpdateShardCount(4, kT0, logs.fn()).ok());
  }
  SECTION("not below half") {
    ShardMap m = MustCreate(5);
    const Status s = m.UpdateShardCount(2, kT0, logs.fn());
    CHECK(s.code() == Code::kInvalidRequest);
    CHECK(s.message() ==
          "UpdateShardCount cannot scale down below half your current open shard count. Current "
          "open shard count: 5, Target shard count: 2");
    CHECK(m.shards().size() == 5);  // unchanged
  }
  SECTION("not past 10000 shards") {
    ShardMap m = MustCreate(1);
    CHECK(m.UpdateShardCount(10001, kT0, logs.fn()).message() ==
          "Target shard count or number of open shards cannot be greater than 10000. Current "
          "open shard count: 1, Target shard count: 10001");
  }
  SECTION("TargetShardCount's range") {
    ShardMap m = MustCreate(1);
    CHECK(m.UpdateShardCount(0, kT0, logs.fn()).message() ==
          "1 validation error detected: Value '0' at 'targetShardCount' failed to satisfy "
          "constraint: Member must have value greater than or equal to 1");
    CHECK(m.UpdateShardCount(100001, kT0, logs.fn()).code() == Code::kInvalidArgument);
  }
  SECTION("only when ACTIVE") {
    ShardMap m = MustCreate(1);
    m.set_status(StreamStatus::kUpdating);
    CHECK(m.UpdateShardCount(2, kT0, logs.fn()).message() ==
          "Stream clicks under account 000000000000 not ACTIVE, instead in state UPDATING");
  }
  SECTION("the same count changes nothing") {
    ShardMap m = MustCreate(3);
    const ShardMap before = m;
    CHECK(m.UpdateShardCount(3, kT0, logs.fn()).ok());
    CHECK(m == before);
    CHECK(logs.asked.empty());
  }
}

TEST_CASE("at most ten scalings in any 24 simulated hours", "[shard_map]") {
  ShardMap m = MustCreate(1);
  FakeLogs logs;
  for (int i = 0; i < kMaxScalingsPerDay; ++i) {
    REQUIRE(m.UpdateShardCount(i % 2 == 0 ? 2 : 1, kT0 + i * kHour, logs.fn()).ok());
  }
  CHECK(m.open_shard_count() == 1);
  const TimeNs now = kT0 + 12 * kHour;
  CHECK(m.NextScalingAllowedAt(now) == kT0 + kDay);
  const Status s = m.UpdateShardCount(2, now, logs.fn());
  CHECK(s.code() == Code::kInvalidRequest);
  CHECK(s.message() ==
        "UpdateShardCount cannot run more than 10 times in a rolling 24-hour period on stream "
        "clicks under account 000000000000; the next one is allowed at 2027-01-16T08:00:00Z");
  CHECK_FALSE(m.UpdateShardCount(2, kT0 + kDay - 1, logs.fn()).ok());
  CHECK(m.UpdateShardCount(2, kT0 + kDay, logs.fn()).ok());
  CHECK_FALSE(m.UpdateShardCount(1, kT0 + kDay + 1, logs.fn()).ok());  // the 2nd hour's is in
  CHECK(m.UpdateShardCount(1, kT0 + kDay + kHour, logs.fn()).ok());
  SECTION("the history survives a restart") {
    auto decoded = ShardMap::Decode(m.Encode());
    REQUIRE(decoded.ok());
    CHECK_FALSE(decoded->UpdateShardCount(2, kT0 + kDay + kHour + 1, logs.fn()).ok());
  }
}

TEST_CASE("on-demand splits cut a shard's range in the middle", "[shard_map]") {
  ShardMap m = MustCreate(2);
  FakeLogs logs;
  logs.last[0] = 7;
  const std::vector<ShardOrdinal> split = {0};
  REQUIRE(m.SplitShards(split, kT0 + kHour, logs.fn()).ok());
  // As a captured DescribeStream splits [0, 2^127 - 1].
  CHECK(
      OpenRanges(m) ==
      std::vector<std::pair<std::string, std::string>>{
          {"0", "85070591730234615865843651857942052862"},
          {"85070591730234615865843651857942052863", "170141183460469231731687303715884105727"},
          {"170141183460469231731687303715884105728", "340282366920938463463374607431768211455"}});
  CHECK(m.Find(0)->ending_offset == 7);
  CHECK(m.Find(2)->parent == ShardOrdinal{0});
  CHECK(m.Find(3)->parent == ShardOrdinal{0});
  CheckLineage(m);
  SECTION("refusals change nothing") {
    const ShardMap before = m;
    const std::vector<ShardOrdinal> closed = {0};
    const std::vector<ShardOrdinal> twice = {2, 2};
    const std::vector<ShardOrdinal> absent = {1, 99};
    CHECK(m.SplitShards(closed, kT0, logs.fn()).code() == Code::kInvalidArgument);
    CHECK(m.SplitShards(twice, kT0, logs.fn()).code() == Code::kInvalidArgument);
    CHECK(m.SplitShards(absent, kT0, logs.fn()).code() == Code::kInvalidArgument);
    CHECK(m == before);
  }
}

TEST_CASE("the on-demand plan splits hot shards and keeps twice the peak", "[shard_map]") {
  ShardMap m = MustCreate(kOnDemandInitialShards);
  SECTION("an idle new stream has its four shards") {
    CHECK(PlanOnDemandSplits(m, {}, {}).empty());
  }
  SECTION("a shard over 500 KB/s is split, even when the stream has capacity") {
    const std::vector<ShardThroughput> seen = {{1, {600 * 1024, 10}}, {2, {100 * 1024, 10}}};
    CHECK(PlanOnDemandSplits(m, seen, {}) == std::vector<ShardOrdinal>{1});
  }
  SECTION("over 500 records/s is hot too") {
    const std::vector<ShardThroughput> seen = {{3, {1000, 600}}};
    CHECK(PlanOnDemandSplits(m, seen, {}) == std::vector<ShardOrdinal>{3});
  }
  SECTION("a new peak of 3 MiB/s asks for 6 MiB/s: every busy shard splits") {
    std::vector<ShardThroughput> seen;
    for (ShardOrdinal o = 0; o < 4; ++o) seen.push_back({o, {0.75 * kMiB, 100}});
    CHECK(PlanOnDemandSplits(m, seen, {}) == std::vector<ShardOrdinal>{0, 1, 2, 3});
  }
  SECTION("a remembered peak keeps capacity for twice it, busiest shards first") {
    const std::vector<ShardThroughput> seen = {{2, {300 * 1024, 10}}, {0, {200 * 1024, 10}}};
    // 3 MiB/s seen before: 6 shards wanted, 4 open: the two busiest split.
    CHECK(PlanOnDemandSplits(m, seen, {3 * kMiB, 0}) == std::vector<ShardOrdinal>{0, 2});
  }
  SECTION("records count toward the peak as well") {
    CHECK(PlanOnDemandSplits(m, {}, {0, 2400}).size() == 1);  // 4800/s: 5 shards
  }
  SECTION("a stream switched from one provisioned shard climbs to four, one level a time") {
    ShardMap one = MustCreate(1);
    FakeLogs logs;
    for (int round = 0; round < 5; ++round) {
      const auto plan = PlanOnDemandSplits(one, {}, {});
      if (plan.empty()) break;
      REQUIRE(one.SplitShards(plan, kT0 + round * kHour, logs.fn()).ok());
    }
    CHECK(one.open_shard_count() == 4);
    CheckLineage(one);
  }
  SECTION("shards not open are ignored") {
    const std::vector<ShardThroughput> seen = {{42, {10 * kMiB, 10}}};
    CHECK(PlanOnDemandSplits(m, seen, {}).empty());
  }
}

TEST_CASE("the 30-day peak is kept per simulated day", "[shard_map]") {
  ShardMap m = MustCreate(4);
  m.RecordThroughput(kT0, {2 * kMiB, 100});
  m.RecordThroughput(kT0 + kHour, {kMiB, 3000});
  CHECK(m.PeakThroughput(kT0 + kHour) == ThroughputRate{2 * kMiB, 3000});
  m.RecordThroughput(kT0 + 10 * kDay, {kMiB, 10});
  CHECK(m.PeakThroughput(kT0 + 29 * kDay) == ThroughputRate{2 * kMiB, 3000});
  CHECK(m.PeakThroughput(kT0 + 31 * kDay) == ThroughputRate{kMiB, 10});
  CHECK(m.PeakThroughput(kT0 + 41 * kDay) == ThroughputRate{});
  m.RecordThroughput(kT0 + 35 * kDay, {-5, std::nan("")});  // ignored, not a peak
  CHECK(m.PeakThroughput(kT0 + 35 * kDay) == ThroughputRate{kMiB, 10});
}

TEST_CASE("closed shards stay until retention expires them and the caller removes them",
          "[shard_map]") {
  ShardMap m = MustCreate(1);
  const TimeNs closed = kT0 + kHour;
  REQUIRE(m.UpdateShardCount(2, closed, FakeLogs{}.fn()).ok());
  CHECK(m.ExpiredShards(closed + 24 * kHour - 1, 24).empty());
  CHECK(m.ExpiredShards(closed + 24 * kHour, 24) == std::vector<ShardOrdinal>{0});
  CHECK(m.ExpiredShards(closed + 24 * kHour, 48).empty());
  CHECK(m.RemoveShard(1).code() == Code::kInvalidArgument);  // open
  CHECK(m.RemoveShard(9).code() == Code::kInvalidArgument);  // absent
  REQUIRE(m.RemoveShard(0).ok());
  CHECK(m.Find(0) == nullptr);
  CHECK(m.Find(1)->parent == ShardOrdinal{0});
  CHECK(m.RemoveShard(0).code() == Code::kInvalidArgument);
  // Ordinals are never reused.
  REQUIRE(m.UpdateShardCount(1, closed + kDay, FakeLogs{}.fn()).ok());
  CHECK(m.OpenShards() == std::vector<ShardOrdinal>{3});
  const auto decoded = ShardMap::Decode(m.Encode());
  REQUIRE(decoded.ok());
  CHECK(*decoded == m);
}

TEST_CASE("description.json has DescribeStream's shape", "[shard_map]") {
  ShardMap m = MustCreate(1);
  StreamConfig config;
  CHECK(DescribeStreamJson(m, config) == R"({
  "StreamDescription": {
    "StreamName": "clicks",
    "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/clicks",
    "StreamStatus": "ACTIVE",
    "StreamModeDetails": {
      "StreamMode": "PROVISIONED"
    },
    "Shards": [
      {
        "ShardId": "shardId-000000000000",
        "HashKeyRange": {
          "StartingHashKey": "0",
          "EndingHashKey": "340282366920938463463374607431768211455"
        },
        "SequenceNumberRange": {
          "StartingSequenceNumber": "49039857307708443467467104869025055626350826396345301074"
        }
      }
    ],
    "HasMoreShards": false,
    "RetentionPeriodHours": 24,
    "StreamCreationTimestamp": 1800000000.0,
    "EnhancedMonitoring": [
      {
        "ShardLevelMetrics": []
      }
    ],
    "EncryptionType": "NONE"
  }
}
)");
  SECTION("after a merge, with lineage and ending sequence numbers") {
    ShardMap two = MustCreate(2);
    FakeLogs logs;
    logs.last[1] = 9;
    REQUIRE(two.UpdateShardCount(1, kT0 + 1500 * kMs, logs.fn()).ok());
    config.mode = StreamMode::kOnDemand;
    config.retention_hours = 48;
    const auto j = nlohmann::json::parse(DescribeStreamJson(two, config));
    const auto& d = j["StreamDescription"];
    CHECK(d["StreamModeDetails"]["StreamMode"] == "ON_DEMAND");
    CHECK(d["RetentionPeriodHours"] == 48);
    CHECK(d["StreamCreationTimestamp"].get<double>() == 1800000000.0);
    REQUIRE(d["Shards"].size() == 3);
    const auto& merged = d["Shards"][2];
    CHECK(merged["ShardId"] == "shardId-000000000002");
    CHECK(merged["ParentShardId"] == "shardId-000000000000");
    CHECK(merged["AdjacentParentShardId"] == "shardId-000000000001");
    CHECK_FALSE(merged["SequenceNumberRange"].contains("EndingSequenceNumber"));
    CHECK(d["Shards"][1]["SequenceNumberRange"]["EndingSequenceNumber"] ==
          FormatSequenceNumber(1, 9));
    CHECK_FALSE(d["Shards"][0].contains("ParentShardId"));
  }
}

TEST_CASE("the shard map survives encoding, and damage is detected", "[shard_map]") {
  ShardMap m = MustCreate(3, "web.logs-2");
  REQUIRE(m.UpdateShardCount(5, kT0 + kHour, FakeLogs{}.fn()).ok());
  const std::vector<ShardOrdinal> split = {m.OpenShards()[0]};
  REQUIRE(m.SplitShards(split, kT0 + 2 * kHour, FakeLogs{}.fn()).ok());
  m.RecordThroughput(kT0, {kMiB, 500});
  m.set_status(StreamStatus::kUpdating);
  const std::string bytes = m.Encode();
  const auto decoded = ShardMap::Decode(bytes);
  REQUIRE(decoded.ok());
  CHECK(*decoded == m);
  CHECK(decoded->Encode() == bytes);
  CHECK(decoded->Route(kMaxHashKey) == m.Route(kMaxHashKey));

  SECTION("every flipped bit is caught") {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; bit += 3) {
        std::string damaged = bytes;
        damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
        const auto d = ShardMap::Decode(damaged);
        INFO(i);
        REQUIRE_FALSE(d.ok());
        CHECK(d.status().code() == Code::kCorrupt);
      }
    }
  }
  SECTION("every truncation is caught") {
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CHECK(ShardMap::Decode(bytes.substr(0, n)).status().code() == Code::kCorrupt);
    }
    CHECK(ShardMap::Decode(bytes + "x").status().code() == Code::kCorrupt);
  }
}

TEST_CASE("a well-sealed shard map of another version or with broken invariants is corrupt",
          "[shard_map]") {
  const ShardMap m = MustCreate(2);
  const std::string bytes = m.Encode();
  // Replaces byte `at` and seals the result again with a correct CRC-32.
  const auto reseal = [&](std::size_t at, char value) {
    std::string body = bytes.substr(0, bytes.size() - 4);
    body[at] = value;
    const auto crc = static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0),
                                                      reinterpret_cast<const Bytef*>(body.data()),
                                                      static_cast<uInt>(body.size())));
    for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    return body;
  };
  CHECK(ShardMap::Decode(reseal(0, bytes[0])).ok());
  const Status version = ShardMap::Decode(reseal(0, 2)).status();
  CHECK(version.code() == Code::kCorrupt);
  CHECK(version.message() == "shard map: unknown format version 2");
  // Byte 17 is the next ordinal (after the version, the 6-byte name with its
  // length, the creation time and the status): 0 would hand out ordinals
  // already in use.
  REQUIRE(bytes[17] == 2);
  CHECK(ShardMap::Decode(reseal(17, 0)).status().code() == Code::kCorrupt);
  CHECK(ShardMap::Decode(reseal(16, 9)).status().code() == Code::kCorrupt);   // status
  CHECK(ShardMap::Decode(reseal(2, '/')).status().code() == Code::kCorrupt);  // name
}

}  // namespace shoal::streams
