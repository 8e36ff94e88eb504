#include "streams/firehose_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/sim_clock.h"
#include "base/temp_dir.h"

namespace shoal::streams {
namespace {

constexpr TimeNs kSecond = 1'000'000'000;

std::string Uuid() {
  return "00000000-0000-4000-8000-000000000000";
}
std::string Random() {
  return "r0r0r0r0r0r";
}

std::unique_ptr<FirehoseStore> MustOpen(const std::string& dir) {
  auto store = FirehoseStore::Open(dir);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(*store);
}

TimeNs At(std::string_view iso) {
  auto t = ParseIso8601(iso);
  REQUIRE(t.ok());
  return *t;
}

}  // namespace

TEST_CASE("delivery streams keep their configuration and version across a reopen",
          "[firehose_store]") {
  TempDir dir;
  const std::string path = dir.path() + "/firehose";
  {
    auto store = MustOpen(path);
    REQUIRE(store->Create("orders").ok());
    CHECK(store->Create("orders").code() == Code::kAlreadyExists);
    CHECK(store->Create("bad name").code() == Code::kInvalidArgument);
    CHECK(store->Version("orders").value() == 1);
    REQUIRE(store->PutConfig("orders", R"({"Bucket":"lake"})").ok());
    CHECK(store->Version("orders").value() == 2);
    // The same configuration again is no change.
    REQUIRE(store->PutConfig("orders", R"({"Bucket":"lake"})").ok());
    CHECK(store->Version("orders").value() == 2);
    // A refused one changes nothing.
    CHECK(store->PutConfig("orders", R"({"CompressionFormat":"ZIP"})").code() ==
          Code::kInvalidArgument);
    CHECK(store->Version("orders").value() == 2);
    // What the store cannot deliver yet is refused, not ignored.
    CHECK(store->PutConfig("orders", R"({"Transform":{"Command":["cat"]}})").code() ==
          Code::kNotSupported);
    CHECK(store->PutConfig("orders", R"({"Source":{"KinesisStream":"iot"}})").code() ==
          Code::kNotSupported);
    CHECK(store->Config("orders")->transform_command.empty());
  }
  auto store = MustOpen(path);
  CHECK(store->Names() == std::vector<std::string>{"orders"});
  CHECK(store->Config("orders")->bucket == "lake");
  CHECK(store->Version("orders").value() == 2);
  REQUIRE(store->Delete("orders").ok());
  CHECK(store->Delete("orders").code() == Code::kNoSuchKey);
  CHECK(MustOpen(path)->Names().empty());
}

TEST_CASE("a damaged delivery stream is skipped and named", "[firehose_store]") {
  TempDir dir;
  const std::string path = dir.path() + "/firehose";
  {
    auto store = MustOpen(path);
    REQUIRE(store->Create("good").ok());
    REQUIRE(store->Create("bad").ok());
  }
  std::ofstream(path + "/bad/version") << "zero\n";
  auto store = MustOpen(path);
  CHECK(store->Names() == std::vector<std::string>{"good"});
  REQUIRE(store->problems().size() == 1);
  CHECK(store->problems()[0].rfind("bad: ", 0) == 0);
}

TEST_CASE("records become objects named as Firehose names them", "[firehose_store]") {
  TempDir dir;
  auto store = MustOpen(dir.path() + "/firehose");
  REQUIRE(store->Create("orders").ok());
  const TimeNs t0 = At("2027-01-01T10:00:00Z");
  CHECK(store->Put("orders", "x", t0).code() == Code::kInvalidArgument);  // no bucket yet
  REQUIRE(store
              ->PutConfig("orders",
                          R"({"Bucket":"lake","AppendDelimiterToRecord":true,
                              "BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60}})")
              .ok());
  REQUIRE(store->Put("orders", "a", t0).ok());
  REQUIRE(store->Put("orders", "b", t0 + 30 * kSecond).ok());
  CHECK(store->Put("orders", std::string(kMaxFirehoseRecordBytes + 1, 'x'), t0).code() ==
        Code::kRecordTooLarge);
  CHECK(store->NextDeadline() == t0 + 60 * kSecond);
  CHECK(store->TakeDue(t0 + 59 * kSecond, Uuid, Random).empty());
  auto due = store->TakeDue(t0 + 60 * kSecond, Uuid, Random);
  REQUIRE(due.size() == 1);
  CHECK(due[0].bucket == "lake");
  CHECK(due[0].key ==
        "2027/01/01/10/orders-2-2027-01-01-10-00-00-00000000-0000-4000-8000-000000000000");
  CHECK(due[0].bytes == "a\nb\n");
  CHECK(due[0].records == 2);
  store->Delivered(due[0]);
  auto m = store->Metrics("orders");
  REQUIRE(m.ok());
  CHECK(m->incoming_records == 2);
  CHECK(m->delivery_records == 2);
  CHECK(m->delivery_objects == 1);
  // A configuration change keeps what is buffered; it goes out under the
  // new version and compression.
  REQUIRE(store->Put("orders", "c", t0 + 61 * kSecond).ok());
  REQUIRE(store->PutConfig("orders", R"({"CompressionFormat":"GZIP","Prefix":"p/"})").ok());
  auto all = store->TakeAll("orders", Uuid, Random);
  REQUIRE(all.size() == 1);
  CHECK(all[0].key.rfind("p/2027/01/01/10/orders-3-2027-01-01-10-01-01-", 0) == 0);
  CHECK(all[0].key.substr(all[0].key.size() - 3) == ".gz");
  CHECK(store->TakeAllStreams(Uuid, Random).empty());
  // A prefix that renders past 512 characters cannot name an object: the
  // records come back as a failure to report, not as an object.
  REQUIRE(store->PutConfig("orders", "{\"Prefix\":\"" + std::string(600, 'p') + "\"}").ok());
  REQUIRE(store->Put("orders", "d", t0).ok());
  auto failed = store->TakeAll("orders", Uuid, Random);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].failure.code() == Code::kInvalidArgument);
  CHECK(failed[0].records == 1);
  CHECK(failed[0].key.empty());
}

}  // namespace shoal::streams
