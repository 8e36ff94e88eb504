#include "streams/stream_store.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "base/file_util.h"
#include "base/manual_clock.h"
#include "base/temp_dir.h"
#include "crypto/cse.h"

namespace shoal::streams {
namespace {

namespace fs = std::filesystem;

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kHour = 3600 * kSecond;
constexpr TimeNs kT0 = 1'800'000'000 * kSecond;  // 2027-01-15T08:00:00Z
constexpr std::size_t kAll = std::size_t{1} << 40;

struct Fixture {
  TempDir tmp;
  std::string dir = tmp.path() + "/streams";
  ManualClock sim{kT0};
  ManualClock real{5 * kSecond};
  std::unique_ptr<StreamStore> store;

  Fixture() { Reopen(); }
  void Reopen() {
    store.reset();
    Result<std::unique_ptr<StreamStore>> opened = StreamStore::Open(dir, sim, real);
    REQUIRE(opened.ok());
    store = std::move(*opened);
  }
  void Configure(std::string_view name, std::string_view json) {
    Status s = store->PutConfig(name, json, sim.Now());
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  // Puts one record per datum with the given key (or none), all accepted.
  std::vector<PutRecordOut> Put(std::string_view name, const std::vector<std::string>& data,
                                std::optional<std::string_view> key = std::nullopt) {
    std::vector<PutRecordIn> in;
    in.reserve(data.size());
    for (const std::string& d : data) in.push_back({key, d});
    PutRecordsResult r = store->PutRecords(name, in, sim.Now());
    INFO(r.status.ToString());
    REQUIRE(r.status.ok());
    REQUIRE(r.accepted.size() == data.size());
    return std::move(r.accepted);
  }
  std::vector<LogRecord> ReadAll(std::string_view name, ShardOrdinal shard) {
    std::vector<LogRecord> out;
    Result<ReadResult> r = store->ReadShard(name, ShardIdName(shard), 0, kAll, kAll, out);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return out;
  }
  // The partition keys of `shard`'s records, in order.
  std::vector<std::string> KeysOf(std::string_view name, ShardOrdinal shard = 0) {
    std::vector<std::string> keys;
    for (const LogRecord& r : ReadAll(name, shard)) keys.push_back(r.partition_key);
    return keys;
  }
  nlohmann::json Describe(std::string_view name) {
    Result<std::string> text = store->DescribeJson(name);
    REQUIRE(text.ok());
    return nlohmann::json::parse(*text);
  }
  nlohmann::json Config(std::string_view name) {
    Result<std::string> text = store->ConfigJson(name);
    REQUIRE(text.ok());
    return nlohmann::json::parse(*text);
  }
};

std::vector<std::string> Numbered(std::string_view prefix, int n) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(std::string(prefix) + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("streams are created, listed and deleted", "[stream_store]") {
  Fixture f;
  CHECK(f.store->ListStreams().empty());
  REQUIRE(f.store->CreateStream("orders", kT0).ok());
  REQUIRE(f.store->CreateStream("a.b-c_1", kT0).ok());
  REQUIRE(f.store->CreateStream("..", kT0).ok());  // a valid Kinesis name, not a path
  CHECK(f.store->ListStreams() == std::vector<std::string>{"..", "a.b-c_1", "orders"});

  const nlohmann::json config = f.Config("orders");
  CHECK(config["StreamMode"] == "PROVISIONED");
  CHECK(config["ShardCount"] == 1);
  CHECK(config["RetentionPeriodHours"] == 24);
  CHECK(config["Throttle"] == "block");
  const nlohmann::json d = f.Describe("orders");
  CHECK(d["StreamDescription"]["StreamName"] == "orders");
  CHECK(d["StreamDescription"]["Shards"].size() == 1);

  SECTION("an existing name is refused") {
    Status s = f.store->CreateStream("orders", kT0);
    CHECK(s.code() == Code::kAlreadyExists);
  }
  SECTION("bad names are refused and leave nothing behind") {
    const std::vector<std::string_view> bad_names{"", "a/b", "a b", "\xc3\xa4",
                                                  std::string_view("x\0y", 3)};
    for (std::string_view bad : bad_names) {
      CHECK(f.store->CreateStream(bad, kT0).code() == Code::kInvalidArgument);
    }
    CHECK(f.store->CreateStream(std::string(129, 'x'), kT0).code() == Code::kInvalidArgument);
    CHECK(f.store->ListStreams().size() == 3);
  }
  SECTION("deleting removes the stream and its records, and the name can be reused") {
    f.Put("orders", {"one", "two"});
    REQUIRE(f.store->DeleteStream("orders").ok());
    CHECK(f.store->ListStreams() == std::vector<std::string>{"..", "a.b-c_1"});
    CHECK(f.store->DeleteStream("orders").code() == Code::kNoSuchKey);
    CHECK(f.store->ConfigJson("orders").status().code() == Code::kNoSuchKey);
    CHECK(f.store->PutRecords("orders", std::vector<PutRecordIn>{{std::nullopt, "x"}}, kT0)
              .status.code() == Code::kNoSuchKey);
    CHECK_FALSE(fs::exists(f.dir + "/orders.stream"));
    REQUIRE(f.store->CreateStream("orders", kT0).ok());
    CHECK(f.ReadAll("orders", 0).empty());
    f.Reopen();
    CHECK(f.store->ListStreams().size() == 3);
    CHECK(f.ReadAll("orders", 0).empty());
  }
  SECTION("unknown streams and shards are kNoSuchKey") {
    std::vector<LogRecord> out;
    CHECK(f.store->ReadShard("nope", "shardId-000000000000", 0, 1, 1, out).status().code() ==
          Code::kNoSuchKey);
    CHECK(f.store->ReadShard("orders", "shardId-000000000001", 0, 1, 1, out).status().code() ==
          Code::kNoSuchKey);
    CHECK(f.store->ReadShard("orders", "shard0", 0, 1, 1, out).status().code() == Code::kNoSuchKey);
    CHECK(f.store->DescribeJson("nope").status().code() == Code::kNoSuchKey);
  }
  SECTION("leftovers of an interrupted create or delete are removed at open") {
    fs::create_directories(f.dir + "/half.creating/shardId-000000000000");
    fs::create_directories(f.dir + "/old.deleting");
    f.Reopen();
    CHECK_FALSE(fs::exists(f.dir + "/half.creating"));
    CHECK_FALSE(fs::exists(f.dir + "/old.deleting"));
    CHECK(f.store->ListStreams().size() == 3);
  }
}

TEST_CASE("records are written, routed and read back in GetRecords' shape", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  f.Configure("s", R"({"ShardCount":2})");
  const std::vector<PutRecordOut> out = f.Put("s", {"hello", "world"}, "user-1");
  CHECK(out[0].shard == out[1].shard);
  CHECK(out[1].offset == out[0].offset + 1);
  CHECK(out[0].SequenceNumber() == FormatSequenceNumber(out[0].shard, out[0].offset));

  // The shard of "user-1" is the open shard whose range holds its MD5.
  const nlohmann::json d = f.Describe("s");
  const HashKey h = *PartitionKeyHash("user-1");
  bool found = false;
  for (const auto& shard : d["StreamDescription"]["Shards"]) {
    if (shard.contains("SequenceNumberRange") &&
        shard["SequenceNumberRange"].contains("EndingSequenceNumber")) {
      continue;
    }
    const HashKey lo =
        *HashKeyFromDecimal(shard["HashKeyRange"]["StartingHashKey"].get<std::string>());
    const HashKey hi =
        *HashKeyFromDecimal(shard["HashKeyRange"]["EndingHashKey"].get<std::string>());
    if (h >= lo && h <= hi) {
      CHECK(shard["ShardId"] == ShardIdName(out[0].shard));
      found = true;
    }
  }
  CHECK(found);

  std::vector<LogRecord> records = f.ReadAll("s", out[0].shard);
  REQUIRE(records.size() == 2);
  CHECK(records[0].data == "hello");
  CHECK(records[1].partition_key == "user-1");
  const std::string line = GetRecordsLine(records[0].view(), out[0].shard);
  CHECK(line.back() == '\n');
  const nlohmann::json j = nlohmann::json::parse(line);
  CHECK(j["SequenceNumber"] == out[0].SequenceNumber());
  CHECK(j["ApproximateArrivalTimestamp"] == "2027-01-15T08:00:00.000Z");
  CHECK(j["PartitionKey"] == "user-1");
  CHECK(j["Data"] == crypto::Base64Encode("hello"));
  CHECK(j.size() == 4);

  LogRecord odd{
      .offset = 3, .arrival = kT0 + 250'000'000, .partition_key = "q\"\n\xff", .data = ""};
  const nlohmann::json k = nlohmann::json::parse(GetRecordsLine(odd.view(), 0));
  CHECK(k["ApproximateArrivalTimestamp"] == "2027-01-15T08:00:00.250Z");
  CHECK(k["PartitionKey"] == "q\"\n\xEF\xBF\xBD");
  CHECK(k["Data"] == "");

  SECTION("Sync makes them durable and a reopen keeps them") {
    REQUIRE(f.store->Sync("s").ok());
    f.Reopen();
    CHECK(f.ReadAll("s", out[0].shard).size() == 2);
  }
  SECTION("metrics count what went in and out") {
    Result<StreamMetrics> m = f.store->Metrics("s");
    REQUIRE(m.ok());
    CHECK(m->incoming_records == 2);
    CHECK(m->incoming_bytes == std::uint64_t{22});  // 2 x (5 data + 6 key)
    CHECK(m->get_records_records == 2);
    CHECK(m->get_records_bytes == std::uint64_t{22});
    CHECK(m->write_throughput_exceeded == 0);
    Result<std::string> mj = f.store->MetricsJson("s");
    REQUIRE(mj.ok());
    const nlohmann::json mjj = nlohmann::json::parse(*mj);
    CHECK(mjj["IncomingRecords"] == 2);
    CHECK(mjj["GetRecords.Bytes"] == 22);
    Result<StreamBilling> b = f.store->Billing("s", kT0 + 2 * kHour);
    REQUIRE(b.ok());
    // Shard 0 was open from kT0 and closed at kT0 by the resharding; 1 and 2
    // have been open two hours each.
    CHECK(b->shard_hours == Approx(4.0));
    CHECK(b->put_payload_units == 2);
  }
}

TEST_CASE("the partition key comes from the record's JSON, else is random", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  SECTION("no path: random keys, all different") {
    f.Put("s", Numbered("r", 50));
    std::set<std::string> keys;
    for (const std::string& key : f.KeysOf("s")) {
      CHECK(key.size() == 32);
      CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
      keys.insert(key);
    }
    CHECK(keys.size() == 50);
  }
  SECTION("a path: strings and numbers, nested; anything else falls back to random") {
    f.Configure("s", R"({"PartitionKey":"$.user.id"})");
    CHECK(f.Config("s")["PartitionKey"] == "$.user.id");
    f.Put("s", {R"({"user":{"id":"alice"},"n":1})", R"({"user":{"id":42}})",
                R"({"user":{"id":1.5}})", R"({"user":{"name":"x"}})", "not json",
                R"({"user":{"id":""}})", R"({"user":{"id":{"deep":1}}})", R"({"user":"alice"})",
                R"({"user":{"id":"bob"}} trailing)"});
    const std::vector<std::string> keys = f.KeysOf("s");
    REQUIRE(keys.size() == 9);
    CHECK(keys[0] == "alice");
    CHECK(keys[1] == "42");
    CHECK(keys[2] == "1.5");
    for (std::size_t i = 3; i < keys.size(); ++i) {
      INFO(i);
      CHECK(keys[i].size() == 32);
    }
    // An explicit key wins over the path.
    std::vector<PutRecordIn> in{{"explicit", R"({"user":{"id":"alice"}})"}};
    PutRecordsResult r = f.store->PutRecords("s", in, kT0);
    REQUIRE(r.status.ok());
    CHECK(f.KeysOf("s").back() == "explicit");
    // Deep nesting is not parsed (and does not crash).
    std::string deep(100000, '[');
    f.Put("s", {deep});
    CHECK(f.KeysOf("s").back().size() == 32);
  }
}

TEST_CASE("a bad record stops the batch and the records before it are kept", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  const std::string big(std::size_t{1024} * 1024, 'x');  // with its key, over 1024 KiB
  const std::string fits(std::size_t{1024} * 1024 - 1, 'y');
  std::vector<PutRecordIn> in{{"a", "first"}, {"b", fits}, {std::nullopt, big}, {"c", "never"}};
  PutRecordsResult r = f.store->PutRecords("s", in, kT0);
  CHECK(r.status.code() == Code::kRecordTooLarge);
  REQUIRE(r.accepted.size() == 2);
  std::vector<LogRecord> records = f.ReadAll("s", 0);
  REQUIRE(records.size() == 2);
  CHECK(records[0].data == "first");
  CHECK(records[1].data == fits);

  SECTION("a larger MaxRecordSizeKiB admits it") {
    f.Configure("s", R"({"MaxRecordSizeKiB":2048})");
    CHECK(f.Put("s", {big}).size() == 1);
  }
  SECTION("an invalid explicit partition key stops the batch too") {
    std::vector<PutRecordIn> bad{{"ok", "1"}, {"", "2"}, {"ok", "3"}};
    PutRecordsResult b = f.store->PutRecords("s", bad, kT0);
    CHECK(b.status.code() == Code::kInvalidArgument);
    CHECK(b.status.code() != Code::kRecordTooLarge);
    CHECK(b.accepted.size() == 1);
    CHECK(f.ReadAll("s", 0).size() == 3);
  }
}

TEST_CASE("resharding seals the parents and routes new records to the children", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  std::vector<PutRecordOut> before;
  for (int i = 0; i < 40; ++i) {
    auto o = f.Put("s", {"before" + std::to_string(i)}, "key" + std::to_string(i));
    before.push_back(o[0]);
  }
  f.sim.Advance(kHour);
  f.Configure("s", R"({"ShardCount":2,"RetentionPeriodHours":48})");
  CHECK(f.Config("s")["ShardCount"] == 2);
  CHECK(f.Config("s")["RetentionPeriodHours"] == 48);

  nlohmann::json shards = f.Describe("s")["StreamDescription"]["Shards"];
  REQUIRE(shards.size() == 3);
  CHECK(shards[0]["SequenceNumberRange"]["EndingSequenceNumber"] == FormatSequenceNumber(0, 39));
  CHECK(shards[1]["ParentShardId"] == "shardId-000000000000");
  CHECK(shards[2]["ParentShardId"] == "shardId-000000000000");

  std::map<ShardOrdinal, std::vector<std::string>> expected;
  for (int i = 0; i < 40; ++i) expected[0].push_back("before" + std::to_string(i));
  for (int i = 0; i < 40; ++i) {
    auto o = f.Put("s", {"after" + std::to_string(i)}, "key" + std::to_string(i));
    CHECK(o[0].shard != 0);
    expected[o[0].shard].push_back("after" + std::to_string(i));
    // Every child record sorts after every parent record.
    CHECK(o[0].SequenceNumber() > before.back().SequenceNumber());
  }
  CHECK(expected.size() == 3);  // both children got records

  auto check_all = [&] {
    for (const auto& [shard, data] : expected) {
      std::vector<LogRecord> records = f.ReadAll("s", shard);
      REQUIRE(records.size() == data.size());
      for (std::size_t i = 0; i < data.size(); ++i) {
        CHECK(records[i].data == data[i]);
        if (i > 0) {
          CHECK(FormatSequenceNumber(shard, records[i].offset) >
                FormatSequenceNumber(shard, records[i - 1].offset));
        }
      }
    }
  };
  check_all();
  // The parent is sealed: waiting on it returns at once.
  Result<WaitResult> w = f.store->WaitForAppend(
      "s", "shardId-000000000000", 40, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  REQUIRE(w.ok());
  CHECK(*w == WaitResult::kSealed);

  SECTION("everything persists across a reopen and sequence numbers continue") {
    Result<std::string> on_disk = ReadFile(f.dir + "/s.stream/config.json");
    REQUIRE(on_disk.ok());
    Result<StreamConfig> stored = DecodeStreamConfig(*on_disk);
    REQUIRE(stored.ok());
    CHECK(stored->shard_count == 2);
    CHECK(stored->retention_hours == 48);
    f.Reopen();
    check_all();
    CHECK(f.Config("s")["ShardCount"] == 2);
    CHECK(f.Config("s")["RetentionPeriodHours"] == 48);
    auto o = f.Put("s", {"later"}, "key0");
    CHECK(o[0].shard != 0);
    CHECK(o[0].offset == expected[o[0].shard].size());
  }
  SECTION("scaling back down merges the children into a new shard") {
    f.Configure("s", R"({"ShardCount":1})");
    nlohmann::json after = f.Describe("s")["StreamDescription"]["Shards"];
    REQUIRE(after.size() == 4);
    CHECK(after[3]["ParentShardId"] == "shardId-000000000001");
    CHECK(after[3]["AdjacentParentShardId"] == "shardId-000000000002");
    CHECK(f.Put("s", {"merged"}, "k")[0].shard == 3);
    check_all();
  }
  SECTION("invalid changes change nothing") {
    CHECK(f.store->PutConfig("s", R"({"ShardCount":5})", f.sim.Now()).code() ==
          Code::kInvalidRequest);  // more than double
    CHECK(f.store->PutConfig("s", R"({"RetentionPeriodHours":12})", f.sim.Now()).code() ==
          Code::kInvalidArgument);
    CHECK(f.store->PutConfig("s", R"({"Bogus":1})", f.sim.Now()).code() == Code::kMalformedJson);
    CHECK(f.store->PutConfig("s", "{", f.sim.Now()).code() == Code::kMalformedJson);
    f.Configure("s", R"({"StreamMode":"ON_DEMAND"})");
    CHECK(f.store->PutConfig("s", R"({"ShardCount":3})", f.sim.Now()).code() ==
          Code::kInvalidArgument);
    f.Configure("s", R"({"StreamMode":"PROVISIONED"})");
    CHECK(f.Config("s")["ShardCount"] == 2);
    CHECK(f.Describe("s")["StreamDescription"]["Shards"].size() == 3);
  }
}

TEST_CASE("iterators start where their type says", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  std::vector<PutRecordOut> out;
  for (int i = 0; i < 5; ++i) {
    out.push_back(f.Put("s", {"r" + std::to_string(i)}, "k")[0]);
    f.sim.Advance(10 * kSecond);
  }
  const std::string shard = "shardId-000000000000";
  CHECK(*f.store->StartOffset("s", shard, IteratorType::kTrimHorizon) == 0);
  CHECK(*f.store->StartOffset("s", shard, IteratorType::kLatest) == 5);
  CHECK(*f.store->StartOffset("s", shard, IteratorType::kAtSequenceNumber,
                              out[2].SequenceNumber()) == 2);
  CHECK(*f.store->StartOffset("s", shard, IteratorType::kAfterSequenceNumber,
                              out[2].SequenceNumber()) == 3);
  CHECK(*f.store->StartOffset("s", shard, IteratorType::kAtTimestamp, {}, kT0 + 15 * kSecond) == 2);
  CHECK(*f.store->StartOffset("s", shard, IteratorType::kAtTimestamp, {}, kT0 + kHour) == 5);
  CHECK(f.store->StartOffset("s", shard, IteratorType::kAtSequenceNumber, "123").status().code() ==
        Code::kInvalidArgument);
  CHECK(
      f.store->StartOffset("s", shard, IteratorType::kAtSequenceNumber, FormatSequenceNumber(0, 99))
          .status()
          .code() == Code::kInvalidArgument);
  CHECK(
      f.store->StartOffset("s", shard, IteratorType::kAtSequenceNumber, FormatSequenceNumber(1, 0))
          .status()
          .code() == Code::kInvalidArgument);
  std::vector<LogRecord> records;
  Result<ReadResult> r = f.store->ReadShard("s", shard, 3, 10, kAll, records);
  REQUIRE(r.ok());
  CHECK(records.size() == 2);
  CHECK(r->next == 5);
}

TEST_CASE("reject mode accepts what fits and reports throttling", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  f.Configure("s", R"({"Throttle":"reject"})");
  std::vector<std::string> data(1500, "x");
  std::vector<PutRecordIn> in;
  in.reserve(data.size());
  for (const auto& d : data) in.push_back({"k", d});
  PutRecordsResult r = f.store->PutRecords("s", in, kT0);
  CHECK(r.status.code() == Code::kThroughputExceeded);
  CHECK(r.status.message() ==
        "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.");
  CHECK(r.accepted.size() == 1000);
  CHECK(f.ReadAll("s", 0).size() == 1000);
  CHECK(f.store->Metrics("s")->write_throughput_exceeded == 500);

  // Real time, not simulated time, refills the shard.
  f.sim.Advance(kHour);
  PutRecordsResult again = f.store->PutRecords("s", std::span(in).first(10), f.sim.Now());
  CHECK(again.status.code() == Code::kThroughputExceeded);
  CHECK(again.accepted.empty());
  f.real.Advance(kSecond / 2);
  PutRecordsResult later = f.store->PutRecords("s", in, f.sim.Now());
  CHECK(later.accepted.size() == 500);

  SECTION("off removes the limits") {
    f.Configure("s", R"({"Throttle":"off"})");
    PutRecordsResult off = f.store->PutRecords("s", in, f.sim.Now());
    CHECK(off.status.ok());
    CHECK(off.accepted.size() == 1500);
  }
  SECTION("block waits in real time and accepts everything") {
    f.Configure("s", R"({"Throttle":"block"})");
    f.real.Advance(10 * kSecond);  // full again
    // A full bucket admits one write of 1000 records; 50 more owe 50 ms.
    std::vector<PutRecordIn> first(in.begin(), in.begin() + 1000);
    std::vector<PutRecordIn> more(in.begin(), in.begin() + 50);
    CHECK(f.store->PutRecords("s", first, f.sim.Now()).status.ok());
    const auto start = std::chrono::steady_clock::now();
    PutRecordsResult blocked = f.store->PutRecords("s", more, f.sim.Now());
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(blocked.status.ok());
    CHECK(blocked.accepted.size() == 50);
    CHECK(waited >= std::chrono::milliseconds(45));
    CHECK(f.store->Metrics("s")->write_throughput_exceeded == 500 + 10 + 1000 + 50);
  }
}

TEST_CASE("retention drops old records and expired closed shards as time passes",
          "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  f.Put("s", Numbered("old", 10), "k");
  f.sim.Advance(2 * kHour);  // past the log's one-hour segment age: a new segment
  f.Put("s", Numbered("new", 10), "k");
  REQUIRE(f.store->Tick(kT0 + 25 * kHour).ok());
  std::vector<LogRecord> records = f.ReadAll("s", 0);
  REQUIRE(records.size() == 10);
  CHECK(records[0].data == "new0");
  CHECK(*f.store->StartOffset("s", "shardId-000000000000", IteratorType::kTrimHorizon) == 10);

  // Reshard: shard 0 closes at +3h; after 24 more hours it leaves the map.
  f.sim.Set(kT0 + 3 * kHour);
  f.Configure("s", R"({"ShardCount":2})");
  f.Put("s", {"child"}, "k");
  REQUIRE(f.store->Tick(kT0 + 26 * kHour).ok());
  CHECK(f.Describe("s")["StreamDescription"]["Shards"].size() == 3);
  REQUIRE(f.store->Tick(kT0 + 27 * kHour).ok());
  nlohmann::json shards = f.Describe("s")["StreamDescription"]["Shards"];
  REQUIRE(shards.size() == 2);
  CHECK(shards[0]["ShardId"] == "shardId-000000000001");
  CHECK(shards[0]["ParentShardId"] == "shardId-000000000000");
  CHECK_FALSE(fs::exists(f.dir + "/s.stream/shardId-000000000000"));
  std::vector<LogRecord> out;
  CHECK(f.store->ReadShard("s", "shardId-000000000000", 0, 1, 1, out).status().code() ==
        Code::kNoSuchKey);
  Result<StreamBilling> b = f.store->Billing("s", kT0 + 27 * kHour);
  REQUIRE(b.ok());
  CHECK(b->shard_hours == Approx(3.0 + 2 * 24.0));

  SECTION("Open applies retention at the clock's time") {
    f.sim.Set(kT0 + 100 * kHour);
    f.Reopen();
    for (ShardOrdinal shard : {1u, 2u}) CHECK(f.ReadAll("s", shard).empty());
  }
}

TEST_CASE("a stream with damaged metadata is isolated and reported", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("good", kT0).ok());
  REQUIRE(f.store->CreateStream("bad", kT0).ok());
  f.Put("good", {"g"}, "k");
  f.Put("bad", {"b"}, "k");
  REQUIRE(f.store->Sync("good").ok());
  REQUIRE(f.store->Sync("bad").ok());
  f.store.reset();
  Result<StreamStore::CheckResult> clean = StreamStore::Check(f.dir);
  REQUIRE(clean.ok());
  CHECK(clean->problems.empty());

  std::string victim;
  SECTION("a damaged shard map") {
    victim = f.dir + "/bad.stream/shards.map";
    Result<std::string> bytes = ReadFile(victim);
    REQUIRE(bytes.ok());
    std::string damaged = *bytes;
    damaged[damaged.size() / 2] ^= 0x40;
    REQUIRE(WriteFileDurably(victim, damaged, 0644).ok());
  }
  SECTION("a damaged config") {
    victim = f.dir + "/bad.stream/config.json";
    REQUIRE(WriteFileDurably(victim, "{\"StreamMode\":", 0644).ok());
  }
  SECTION("a missing shard log") {
    victim = f.dir + "/bad.stream/shardId-000000000000";
    fs::remove_all(victim);
  }
  Result<StreamStore::CheckResult> report = StreamStore::Check(f.dir);
  REQUIRE(report.ok());
  REQUIRE(report->problems.size() == 1);
  CHECK(report->problems[0].starts_with("bad: "));

  f.Reopen();
  CHECK(f.store->ListStreams() == std::vector<std::string>{"bad", "good"});
  CHECK(f.ReadAll("good", 0).size() == 1);
  CHECK(f.store->ConfigJson("bad").status().code() == Code::kCorrupt);
  CHECK(f.store->PutRecords("bad", std::vector<PutRecordIn>{{"k", "x"}}, kT0).status.code() ==
        Code::kCorrupt);
  std::vector<LogRecord> out;
  CHECK(f.store->ReadShard("bad", "shardId-000000000000", 0, 1, 1, out).status().code() ==
        Code::kCorrupt);
  CHECK(f.store->Tick(kT0 + kHour).ok());
  // It can still be deleted, and recreated.
  REQUIRE(f.store->DeleteStream("bad").ok());
  REQUIRE(f.store->CreateStream("bad", kT0).ok());
  CHECK(f.ReadAll("bad", 0).empty());
}

TEST_CASE("concurrent writers lose no record and keep each key's order", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  f.Configure("s", R"({"ShardCount":2,"Throttle":"off"})");
  REQUIRE(f.store->CreateStream("other", kT0).ok());
  constexpr int kThreads = 6;
  constexpr int kBatches = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "writer" + std::to_string(t);
      for (int b = 0; b < kBatches; ++b) {
        std::vector<std::string> data;
        data.reserve(4);
        for (int i = 0; i < 4; ++i) data.push_back(key + ":" + std::to_string(b * 4 + i));
        std::vector<PutRecordIn> in;
        in.reserve(data.size() + 1);
        for (const auto& d : data) in.push_back({key, d});
        // A second, random-keyed record spreads writes over both shards.
        in.push_back({std::nullopt, "random"});
        if (!f.store->PutRecords(t % 3 == 0 ? "other" : "s", in, kT0).status.ok()) ++failures;
      }
    });
  }
  // A reader follows meanwhile.
  std::thread reader([&] {
    for (int i = 0; i < 50; ++i) {
      std::vector<LogRecord> out;
      (void)f.store->ReadShard("s", "shardId-000000000001", 0, kAll, kAll, out);
    }
  });
  for (auto& th : threads) th.join();
  reader.join();
  CHECK(failures == 0);

  for (std::string_view stream : {"s", "other"}) {
    std::map<std::string, int> next;  // per key, the next number expected
    std::size_t total = 0;
    const std::vector<ShardOrdinal> shards =
        stream == "s" ? std::vector<ShardOrdinal>{1, 2} : std::vector<ShardOrdinal>{0};
    for (ShardOrdinal shard : shards) {
      for (const LogRecord& r : f.ReadAll(stream, shard)) {
        ++total;
        if (r.data == "random") continue;
        const std::size_t colon = r.data.find(':');
        const std::string key = r.data.substr(0, colon);
        CHECK(r.partition_key == key);
        CHECK(std::stoi(r.data.substr(colon + 1)) == next[key]);
        ++next[key];
      }
    }
    const int writers = stream == "s" ? 4 : 2;
    CHECK(total == static_cast<std::size_t>(writers * kBatches * 5));
    CHECK(next.size() == static_cast<std::size_t>(writers));
    for (const auto& [key, n] : next) CHECK(n == kBatches * 4);
  }
}

}  // namespace shoal::streams

namespace shoal::streams {

TEST_CASE("a reopened store continues where it stopped", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  f.Configure("s", R"({"PartitionKey":"$.id","Throttle":"reject","MaxRecordSizeKiB":2048})");
  const std::vector<PutRecordOut> first = f.Put("s", {R"({"id":"a"})", R"({"id":"b"})"});
  REQUIRE(f.store->Sync("s").ok());
  const std::string config_before = *f.store->ConfigJson("s");
  const std::string describe_before = *f.store->DescribeJson("s");
  f.Reopen();
  CHECK(*f.store->ConfigJson("s") == config_before);
  CHECK(*f.store->DescribeJson("s") == describe_before);
  const std::vector<PutRecordOut> second = f.Put("s", {R"({"id":"c"})"});
  CHECK(second[0].offset == 2);
  CHECK(second[0].SequenceNumber() > first[1].SequenceNumber());
  std::vector<LogRecord> records = f.ReadAll("s", 0);
  REQUIRE(records.size() == 3);
  CHECK(records[0].partition_key == "a");
  CHECK(records[2].partition_key == "c");
  CHECK(records[2].data == R"({"id":"c"})");
}

TEST_CASE("open finishes a resharding that a crash interrupted", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  f.Put("s", Numbered("r", 5), "k");
  f.Configure("s", R"({"ShardCount":2})");
  f.store.reset();
  const std::string sdir = f.dir + "/s.stream";
  SECTION("the map closed a shard whose log was not sealed yet") {
    REQUIRE(fs::remove(sdir + "/shardId-000000000000/SEALED"));
    f.Reopen();
    Result<WaitResult> w =
        f.store->WaitForAppend("s", "shardId-000000000000", 5, std::chrono::steady_clock::now());
    REQUIRE(w.ok());
    CHECK(*w == WaitResult::kSealed);
    CHECK(f.ReadAll("s", 0).size() == 5);
  }
  SECTION("logs of shards the map does not name are removed") {
    fs::create_directories(sdir + "/shardId-000000000007");
    fs::create_directories(sdir + "/not-a-shard");
    f.Reopen();
    CHECK_FALSE(fs::exists(sdir + "/shardId-000000000007"));
    CHECK(fs::exists(sdir + "/not-a-shard"));  // not ours: left alone
    CHECK(f.Describe("s")["StreamDescription"]["Shards"].size() == 3);
  }
  Result<StreamStore::CheckResult> report = StreamStore::Check(f.dir);
  REQUIRE(report.ok());
  CHECK(report->problems.empty());
}

TEST_CASE("check reports damaged records in a shard log", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  f.Put("s", Numbered("r", 3), "k");
  f.Put("s", Numbered("q", 3), "k");
  REQUIRE(f.store->Sync("s").ok());
  f.store.reset();
  const std::string segment = f.dir + "/s.stream/shardId-000000000000/00000000000000000000.log";
  Result<std::string> bytes = ReadFile(segment);
  REQUIRE(bytes.ok());
  std::string damaged = *bytes;
  damaged[40] ^= 0x01;  // inside the first batch, which a valid batch follows
  REQUIRE(WriteFileDurably(segment, damaged, 0644).ok());
  Result<StreamStore::CheckResult> report = StreamStore::Check(f.dir);
  REQUIRE(report.ok());
  REQUIRE_FALSE(report->problems.empty());
  CHECK(report->problems[0].starts_with("s: shardId-000000000000: "));
  // The stream still opens; reading the damage fails with kCorrupt, and
  // the other streams and calls are unaffected.
  f.Reopen();
  std::vector<LogRecord> out;
  CHECK(f.store->ReadShard("s", "shardId-000000000000", 0, kAll, kAll, out).status().code() ==
        Code::kCorrupt);
  CHECK(f.Put("s", {"after"}, "k")[0].offset == 6);
}

}  // namespace shoal::streams

namespace shoal::streams {

TEST_CASE("writers keep going while the stream reshards under them", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("s", kT0).ok());
  f.Configure("s", R"({"Throttle":"off"})");
  constexpr int kThreads = 4;
  constexpr int kBatches = 200;
  std::atomic<int> failures{0};
  std::atomic<int> progress{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "w" + std::to_string(t);
      for (int b = 0; b < kBatches; ++b) {
        const std::string d0 = key + ":" + std::to_string(2 * b);
        const std::string d1 = key + ":" + std::to_string(2 * b + 1);
        const std::vector<PutRecordIn> in{{key, d0}, {key, d1}};
        if (!f.store->PutRecords("s", in, kT0).status.ok()) ++failures;
        ++progress;
      }
    });
  }
  while (progress < kThreads * kBatches / 4) std::this_thread::yield();
  REQUIRE(f.store->PutConfig("s", R"({"ShardCount":2})", kT0).ok());
  while (progress < kThreads * kBatches / 2) std::this_thread::yield();
  REQUIRE(f.store->PutConfig("s", R"({"ShardCount":4})", kT0).ok());
  for (auto& th : threads) th.join();
  CHECK(failures == 0);

  // Children have higher ordinals than their parents, so reading shards by
  // ordinal gives each key's records in the order they were written.
  const nlohmann::json shards = f.Describe("s")["StreamDescription"]["Shards"];
  std::map<std::string, int> next;
  std::size_t total = 0;
  for (const auto& shard : shards) {
    const ShardOrdinal ordinal = *ParseShardId(shard["ShardId"].get<std::string>());
    for (const LogRecord& r : f.ReadAll("s", ordinal)) {
      ++total;
      const std::size_t colon = r.data.find(':');
      const std::string key = r.data.substr(0, colon);
      CHECK(std::stoi(r.data.substr(colon + 1)) == next[key]);
      ++next[key];
    }
    // Every closed shard is sealed at its EndingSequenceNumber.
    if (shard["SequenceNumberRange"].contains("EndingSequenceNumber")) {
      Result<WaitResult> w = f.store->WaitForAppend("s", shard["ShardId"].get<std::string>(),
                                                    1'000'000, std::chrono::steady_clock::now());
      REQUIRE(w.ok());
      CHECK(*w == WaitResult::kSealed);
    }
  }
  CHECK(total == static_cast<std::size_t>(kThreads * kBatches * 2));
  for (const auto& [key, n] : next) CHECK(n == kBatches * 2);
}

}  // namespace shoal::streams

namespace shoal::streams {
namespace {

TEST_CASE("on-demand streams split as traffic grows, at most doubling per measurement",
          "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("od", kT0).ok());
  f.Configure("od", R"({"StreamMode":"ON_DEMAND","Throttle":"off"})");
  auto open = [&] {
    auto described = nlohmann::json::parse(*f.store->DescribeJson("od"));
    int n = 0;
    for (const auto& s : described["StreamDescription"]["Shards"]) {
      if (!s["SequenceNumberRange"].contains("EndingSequenceNumber")) ++n;
    }
    return n;
  };
  // 2000 records/s spread over random keys: twice that wants 4 shards.
  auto second_of_traffic = [&] {
    std::vector<std::string> data(2000, "x");
    CHECK(f.Put("od", data).size() == 2000);
    f.real.Advance(kSecond);
  };
  REQUIRE(f.store->ScaleOnDemand(kT0).value() == 0);  // the first call only measures
  second_of_traffic();
  CHECK(f.store->ScaleOnDemand(kT0).value() == 1);  // 1 -> 2: one decision at most doubles
  CHECK(open() == 2);
  second_of_traffic();
  CHECK(f.store->ScaleOnDemand(kT0).value() == 2);  // 2 -> 4
  CHECK(open() == 4);
  second_of_traffic();
  CHECK(f.store->ScaleOnDemand(kT0).value() == 0);  // 4 shards carry twice 2000/s
  CHECK(open() == 4);

  SECTION("a provisioned stream is never scaled") {
    REQUIRE(f.store->CreateStream("p", kT0).ok());
    std::vector<std::string> data(5000, "x");
    CHECK(f.Put("p", data).size() == 5000);
    f.real.Advance(kSecond);
    CHECK(f.store->ScaleOnDemand(kT0).value() == 0);
    CHECK(f.store->OpenShardCount() == 5);  // od's 4 and p's 1
  }
  SECTION("the splits survive a restart") {
    f.Reopen();
    CHECK(open() == 4);
  }
}

}  // namespace
}  // namespace shoal::streams

namespace shoal::streams {
namespace {

TEST_CASE("metrics.json shows each shard's readers' lag", "[stream_store]") {
  Fixture f;
  REQUIRE(f.store->CreateStream("lag", kT0).ok());
  f.Put("lag", {"a", "b", "c"}, "k");
  auto lag = [&] {
    return nlohmann::json::parse(*f.store->MetricsJson("lag"))["Shards"]["shardId-000000000000"];
  };
  CHECK(lag()["RecordsBehind"] == 3);
  CHECK(lag()["IteratorAgeMilliseconds"].is_null());  // nothing read yet
  std::vector<LogRecord> out;
  REQUIRE(f.store->ReadShard("lag", "shardId-000000000000", 0, 2, kAll, out).ok());
  f.sim.Advance(5 * kSecond);
  CHECK(lag()["RecordsBehind"] == 1);
  CHECK(lag()["IteratorAgeMilliseconds"] == 5000);  // the last record read arrived 5 s ago
  // Reading the shard file counts as reading too.
  char buf[4096];
  REQUIRE(f.store->ReadShardText("lag", "shardId-000000000000", 0, buf, sizeof buf).ok());
  CHECK(lag()["RecordsBehind"] == 0);
  CHECK(lag()["IteratorAgeMilliseconds"] == 0);
}

}  // namespace
}  // namespace shoal::streams
