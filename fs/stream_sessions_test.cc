#include "fs/stream_sessions.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "base/manual_clock.h"
#include "base/temp_dir.h"

namespace shoal::fs {
namespace {

using streams::IteratorType;
using streams::LogRecord;

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kT0 = 1'800'000'000 * kSecond;  // 2027-01-15T08:00:00Z
constexpr std::size_t kMiB = std::size_t{1} << 20;

struct Fixture {
  TempDir tmp{"shoal-sessions"};
  ManualClock sim{kT0};
  ManualClock real{5 * kSecond};
  std::unique_ptr<streams::StreamStore> store;

  Fixture() {
    auto opened = streams::StreamStore::Open(tmp.path() + "/streams", sim, real);
    REQUIRE(opened.ok());
    store = std::move(*opened);
    REQUIRE(store->CreateStream("s", kT0).ok());
  }
  std::uint64_t billed_units = 0;
  RecordSink Sink(std::optional<std::string> key = std::nullopt) {
    return RecordSink(*store, "s", std::move(key), sim,
                      [this](std::uint64_t units, TimeNs) { billed_units += units; });
  }
  // Every record of shard 0, in order.
  std::vector<LogRecord> Records() {
    std::vector<LogRecord> out;
    auto r = store->ReadShard("s", "shardId-000000000000", 0, 1'000'000, std::size_t{1} << 40, out);
    REQUIRE(r.ok());
    return out;
  }
  std::vector<std::string> Data() {
    std::vector<std::string> out;
    for (const LogRecord& r : Records()) out.push_back(r.data);
    return out;
  }
};

using Strings = std::vector<std::string>;

TEST_CASE("a sink makes one record per line and keeps partial lines for the next write",
          "[stream_sessions]") {
  Fixture f;
  RecordSink sink = f.Sink();
  CHECK(sink.Write("one\ntw").value() == 6);
  CHECK(f.Data() == Strings{"one"});
  CHECK(sink.Write("o\n\nthr").value() == 6);
  CHECK(f.Data() == Strings{"one", "two", ""});
  CHECK(sink.Flush().ok());  // a duplicate's close does not end the line
  CHECK(f.Data().size() == 3);
  CHECK(sink.Release().ok());  // the last close does
  CHECK(f.Data() == Strings{"one", "two", "", "thr"});
  CHECK(sink.Release().ok());  // nothing pending: nothing more
  CHECK(f.Data().size() == 4);
  CHECK(f.billed_units == 4);  // one PUT payload unit per small record
}

TEST_CASE("two sinks on one stream never interleave their lines", "[stream_sessions]") {
  Fixture f;
  RecordSink a = f.Sink();
  RecordSink b = f.Sink();
  CHECK(a.Write("al").ok());
  CHECK(b.Write("be").ok());
  CHECK(a.Write("pha\n").ok());
  CHECK(b.Write("ta\n").ok());
  CHECK(f.Data() == Strings{"alpha", "beta"});
}

TEST_CASE("keys/<key> sinks give every record that partition key", "[stream_sessions]") {
  Fixture f;
  RecordSink sink = f.Sink("sensor-7");
  CHECK(sink.Write("a\nb\n").ok());
  for (const LogRecord& r : f.Records()) CHECK(r.partition_key == "sensor-7");
  CHECK(f.Records().size() == 2);
}

TEST_CASE("an oversized record ends the write after the records before it", "[stream_sessions]") {
  Fixture f;
  RecordSink sink = f.Sink();
  const std::string big(kMiB + 1, 'x');
  const std::string write = "kept\n" + big + "\nafter\n";
  SECTION("a short write for the records before it, then the error") {
    Result<std::size_t> n = sink.Write(write);
    REQUIRE(n.ok());
    CHECK(*n == 5);
    Result<std::size_t> rest = sink.Write(std::string_view(write).substr(*n));
    CHECK(rest.status().code() == Code::kRecordTooLarge);
    CHECK(f.Data() == Strings{"kept"});
    // Nothing of the failed write stays behind: the next line is a record of its own.
    CHECK(sink.Write("next\n").ok());
    CHECK(f.Data() == Strings{"kept", "next"});
    CHECK(f.billed_units == 2);
  }
  SECTION("an oversized line begun in earlier writes is dropped whole") {
    CHECK(sink.Write(std::string_view(big).substr(0, kMiB)).ok());
    CHECK(sink.Write("x\n").status().code() == Code::kRecordTooLarge);
    CHECK(sink.Write("next\n").ok());
    CHECK(sink.Release().ok());
    CHECK(f.Data() == Strings{"next"});
  }
  SECTION("at the last close, the error is returned and the line dropped") {
    CHECK(sink.Write(big).ok());
    CHECK(sink.Release().code() == Code::kRecordTooLarge);
    CHECK(f.Data().empty());
  }
  SECTION("a partial line longer than any stream accepts fails at once") {
    const std::string huge(std::size_t{streams::kMaxMaxRecordSizeKiB} * 1024 + 2, 'y');
    CHECK(sink.Write(huge).status().code() == Code::kRecordTooLarge);
    CHECK(sink.Write("ok\n").ok());
    CHECK(f.Data() == Strings{"ok"});
  }
}

TEST_CASE("reject mode: a short write for what fitted, then EAGAIN's code", "[stream_sessions]") {
  Fixture f;
  REQUIRE(f.store->PutConfig("s", R"({"Throttle":"reject"})", kT0).ok());
  RecordSink sink = f.Sink();
  std::string lines;
  for (int i = 0; i < 1500; ++i) lines += "r" + std::to_string(i) + "\n";
  CHECK(sink.Write("partial-").ok());  // an earlier write's partial line
  const std::string write = "line\n" + lines;
  Result<std::size_t> n = sink.Write(write);
  REQUIRE(n.ok());
  // The shard's burst is 1000 records: "partial-line" and 999 more.
  std::size_t expected = std::string("line\n").size();
  for (int i = 0; i < 999; ++i) expected += ("r" + std::to_string(i) + "\n").size();
  CHECK(*n == expected);
  CHECK(f.Data().size() == 1000);
  CHECK(f.Data().front() == "partial-line");
  Result<std::size_t> again = sink.Write(std::string_view(write).substr(*n));
  CHECK(again.status().code() == Code::kThroughputExceeded);
  // Refilled (real time), the retry goes on where the stream stopped.
  f.real.Advance(kSecond);
  CHECK(sink.Write(std::string_view(write).substr(*n)).ok());
  CHECK(f.Data().size() == 1501);
  CHECK(f.Data()[1000] == "r999");
}

TEST_CASE("a sink on a deleted stream fails with NoSuchKey", "[stream_sessions]") {
  Fixture f;
  RecordSink sink = f.Sink();
  REQUIRE(f.store->DeleteStream("s").ok());
  CHECK(sink.Write("x\n").status().code() == Code::kNoSuchKey);
}

TEST_CASE("iterator names", "[stream_sessions]") {
  auto parse = [](std::string_view name) {
    Result<std::optional<IteratorName>> r = ParseIteratorName(name);
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    return **r;
  };
  CHECK(ParseIteratorName("shardId-000000000000").value() == std::nullopt);
  CHECK(parse("shardId-000000000001@TRIM_HORIZON").shard_id == "shardId-000000000001");
  CHECK(parse("a@TRIM_HORIZON").type == IteratorType::kTrimHorizon);
  CHECK(parse("a@LATEST").type == IteratorType::kLatest);
  IteratorName at = parse("a@AT_SEQUENCE_NUMBER=123");
  CHECK(at.type == IteratorType::kAtSequenceNumber);
  CHECK(at.sequence_number == "123");
  CHECK(parse("a@AFTER_SEQUENCE_NUMBER=9").type == IteratorType::kAfterSequenceNumber);
  IteratorName ts = parse("a@AT_TIMESTAMP=2027-01-15T08:00:00Z");
  CHECK(ts.type == IteratorType::kAtTimestamp);
  CHECK(ts.timestamp == kT0);
  CHECK(parse("a@AT_TIMESTAMP=1800000000.25").timestamp == kT0 + kSecond / 4);
  for (std::string_view bad : {"a@NEWEST", "a@LATEST=1", "a@AT_SEQUENCE_NUMBER",
                               "a@AT_SEQUENCE_NUMBER=", "a@AT_TIMESTAMP=yesterday",
                               "a@AT_TIMESTAMP=-5", "a@AT_TIMESTAMP=1e300", "a@"}) {
    INFO(bad);
    CHECK(ParseIteratorName(bad).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("an iterator reads from its start and waits for what comes next", "[stream_sessions]") {
  Fixture f;
  RecordSink sink = f.Sink();
  REQUIRE(sink.Write("old\n").ok());
  std::atomic<int> waiting{0};
  auto start = f.store->StartOffset("s", "shardId-000000000000", IteratorType::kLatest);
  REQUIRE(start.ok());
  ShardIteratorReader reader(*f.store, "s", "shardId-000000000000", *start, waiting);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    REQUIRE(sink.Write("new\n").ok());
  });
  char buf[4096];
  Result<std::size_t> n = reader.Read(buf, sizeof buf, 0, [] { return false; });
  writer.join();
  REQUIRE(n.ok());
  const std::string line(buf, *n);
  CHECK(line.find("\"Data\":\"bmV3\"") != std::string::npos);  // base64("new")
  CHECK(line.back() == '\n');
  CHECK(waiting.load() == 0);

  SECTION("an interrupted wait ends the read with nothing") {
    Result<std::size_t> none = reader.Read(buf, sizeof buf, 0, [] { return true; });
    REQUIRE(none.ok());
    CHECK(*none == 0);
  }
  SECTION("a closed shard read to its end reads as end of file") {
    REQUIRE(f.store->PutConfig("s", R"({"ShardCount":2})", kT0).ok());
    Result<std::size_t> end = reader.Read(buf, sizeof buf, 0, [] { return false; });
    REQUIRE(end.ok());
    CHECK(*end == 0);
  }
  SECTION("small reads return a line in pieces, in order") {
    ShardIteratorReader from_start(*f.store, "s", "shardId-000000000000", 0, waiting);
    std::string all;
    while (all.size() < 2 || std::count(all.begin(), all.end(), '\n') < 2) {
      Result<std::size_t> piece = from_start.Read(buf, 7, 0, [] { return false; });
      REQUIRE(piece.ok());
      REQUIRE(*piece > 0);
      all.append(buf, *piece);
    }
    CHECK(all.find("b2xk") < all.find("bmV3"));  // "old" before "new"
  }
}

}  // namespace
}  // namespace shoal::fs
