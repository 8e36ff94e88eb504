#include "streams/firehose_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
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

TimeNs Now() {
  return 1'800'000'000'000'000'000;
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
    CHECK(store
              ->PutConfig("orders", R"({"Prefix":"!{partitionKeyFromLambda:k}/",
                                         "ErrorOutputPrefix":"e/!{firehose:error-output-type}/"})")
              .code() == Code::kNotSupported);
    // A Kinesis source that cannot be attached changes nothing.
    CHECK(store
              ->PutConfig("orders", R"({"Source":{"KinesisStream":"iot"}})",
                          [](std::string_view) -> Result<SourcePositions> {
                            return InvalidArgument("no such Kinesis stream");
                          })
              .code() == Code::kInvalidArgument);
    CHECK(store->Config("orders")->source_stream.empty());
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
  CHECK(store->TakeDue(t0 + 59 * kSecond).empty());
  auto due_batches = store->TakeDue(t0 + 60 * kSecond);
  REQUIRE(due_batches.size() == 1);
  auto due = FirehoseStore::Encode(due_batches[0], Now, Uuid, Random).deliveries;
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
  auto all_batches = store->TakeAll("orders");
  REQUIRE(all_batches.size() == 1);
  auto all = FirehoseStore::Encode(all_batches[0], Now, Uuid, Random).deliveries;
  REQUIRE(all.size() == 1);
  CHECK(all[0].key.rfind("p/2027/01/01/10/orders-3-2027-01-01-10-01-01-", 0) == 0);
  CHECK(all[0].key.substr(all[0].key.size() - 3) == ".gz");
  CHECK(store->TakeAllStreams().empty());
  // A prefix that renders past 512 characters cannot name an object: the
  // records come back as a failure to report, not as an object.
  REQUIRE(store->PutConfig("orders", "{\"Prefix\":\"" + std::string(600, 'p') + "\"}").ok());
  REQUIRE(store->Put("orders", "d", t0).ok());
  auto failed_batches = store->TakeAll("orders");
  REQUIRE(failed_batches.size() == 1);
  auto failed = FirehoseStore::Encode(failed_batches[0], Now, Uuid, Random).deliveries;
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].failure.code() == Code::kInvalidArgument);
  CHECK(failed[0].records == 1);
  CHECK(failed[0].key.empty());
}

TEST_CASE("a transform's records go to the object, its failures to the error output",
          "[firehose_store]") {
  TempDir dir;
  auto store = MustOpen(dir.path() + "/firehose");
  REQUIRE(store->Create("t").ok());
  // The command answers from its input: record 0 Ok (upper-cased), 1
  // Dropped, 2 ProcessingFailed, 3 Ok.
  const std::string script =
      R"(jq -c '{records: [.records | to_entries[] | .value as $r | )"
      R"({recordId: $r.recordId, data: ($r.data | @base64d | ascii_upcase | @base64), )"
      R"(result: (["Ok", "Dropped", "ProcessingFailed"][.key % 3])}]}')";
  const Status configured =
      store->PutConfig("t", R"({"Bucket":"lake","AppendDelimiterToRecord":true,"Prefix":"ok/",)"
                            R"("ErrorOutputPrefix":"err/","Transform":{"Command":["sh","-c",)" +
                                nlohmann::json(script).dump() + "]}}");
  INFO(configured.ToString());
  REQUIRE(configured.ok());
  const TimeNs t0 = At("2027-01-01T10:00:00Z");
  for (const char* r : {"a", "b", "c", "d"}) REQUIRE(store->Put("t", r, t0).ok());
  auto batches = store->TakeAll("t");
  REQUIRE(batches.size() == 1);
  auto encoded = FirehoseStore::Encode(batches[0], Now, Uuid, Random);
  REQUIRE(encoded.deliveries.size() == 2);
  CHECK(encoded.deliveries[0].key.rfind("ok/2027/01/01/10/t-2-", 0) == 0);
  CHECK(encoded.deliveries[0].bytes == "A\nD\n");
  CHECK(encoded.deliveries[0].records == 2);
  CHECK(encoded.deliveries[1].key.rfind("err/t-2-2027-01-01-10-00-00-", 0) == 0);
  const auto error = nlohmann::json::parse(encoded.deliveries[1].bytes);
  CHECK(error["errorCode"] == "Lambda.ProcessingFailedStatus");
  CHECK(error["rawData"] == "Yw==");
  CHECK(error["attemptsMade"] == 1);
  CHECK(error["arrivalTimestamp"] == t0 / 1'000'000);
  CHECK(error["lambdaArn"] == "arn:aws:lambda:us-east-1:000000000000:function:sh");
  store->Transformed("t", encoded.transform);
  auto m = store->Metrics("t");
  REQUIRE(m.ok());
  CHECK(m->transform_invocations == 1);
  CHECK(m->transform_ok_records == 2);
  CHECK(m->transform_dropped_records == 1);
  CHECK(m->transform_failed_records == 1);
}

TEST_CASE("dynamic partitioning: a buffer per key value, the rest to the error output",
          "[firehose_store]") {
  TempDir dir;
  auto store = MustOpen(dir.path() + "/firehose");
  REQUIRE(store->Create("p").ok());
  CHECK(store
            ->PutConfig("p", R"({"Bucket":"lake","Prefix":"c=!{partitionKeyFromQuery:c}/",
                                 "ErrorOutputPrefix":"err/!{firehose:error-output-type}/",
                                 "BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60},
                                 "DynamicPartitioning":{"Keys":{"c":".c |"}}})")
            .code() == Code::kInvalidArgument);  // jq refuses the expression
  REQUIRE(store
              ->PutConfig("p", R"({"Bucket":"lake","Prefix":"c=!{partitionKeyFromQuery:c}/",
                                   "ErrorOutputPrefix":"err/!{firehose:error-output-type}/",
                                   "AppendDelimiterToRecord":true,
                                   "BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60},
                                   "DynamicPartitioning":{"Keys":{"c":".c"}}})")
              .ok());
  const TimeNs t0 = At("2027-01-01T10:00:00Z");
  for (int i = 0; i < 6; ++i) {
    REQUIRE(store->Put("p", R"({"c":")" + std::to_string(i % 3) + R"("})", t0).ok());
  }
  REQUIRE(store->Put("p", "not json", t0).ok());  // taken, and sent to the error output
  auto m = store->Metrics("p");
  REQUIRE(m.ok());
  CHECK(m->active_partitions == 3);
  CHECK(m->partitioning_failed_records == 1);
  auto batches = store->TakeAll("p");
  REQUIRE(batches.size() == 4);
  std::map<std::string, std::string> objects;  // key prefix -> bytes
  for (const auto& b : batches) {
    auto d = FirehoseStore::Encode(b, Now, Uuid, Random).deliveries;
    REQUIRE(d.size() == 1);
    objects[d[0].key.substr(0, d[0].key.find("p-"))] = d[0].bytes;
  }
  CHECK(objects["c=0/"] == "{\"c\":\"0\"}\n{\"c\":\"0\"}\n");
  CHECK(objects["c=2/"] == "{\"c\":\"2\"}\n{\"c\":\"2\"}\n");
  const auto error = nlohmann::json::parse(objects["err/partitioning-failed/"]);
  CHECK(error["errorCode"] == "DynamicPartitioning.MetadataExtractionFailed");
  CHECK(error["errorMessage"] == "Non JSON record provided");
  CHECK(error["rawData"] == "bm90IGpzb24=");
  CHECK(!error.contains("lambdaArn"));

  SECTION("past 500 active partitions, records go to the error output") {
    for (int i = 0; i < 501; ++i) {
      REQUIRE(store->Put("p", R"({"c":")" + std::to_string(i) + R"("})", t0).ok());
    }
    auto limited = store->Metrics("p");
    REQUIRE(limited.ok());
    CHECK(limited->active_partitions == 500);
    CHECK(limited->partition_limit_records == 1);
    auto all = store->TakeAll("p");
    CHECK(all.size() == 501);  // 500 partitions and the error output
    bool found = false;
    for (const auto& b : all) {
      if (b.batch.error_output_type.empty()) continue;
      const auto e = nlohmann::json::parse(b.batch.records.at(0).data);
      CHECK(e["errorCode"] == "DynamicPartitioning.ActivePartitionsLimitExceeded");
      found = true;
    }
    CHECK(found);
  }
  SECTION("with a transform too, it is refused: not supported yet") {
    CHECK(store->PutConfig("p", R"({"Transform":{"Command":["cat"]}})").code() ==
          Code::kNotSupported);
  }
}

TEST_CASE("a Kinesis source: attached at LATEST, read on, resumed from its checkpoint",
          "[firehose_store]") {
  TempDir dir;
  const std::string path = dir.path() + "/firehose";
  const TimeNs t0 = At("2027-01-01T10:00:00Z");
  const auto latest = [](std::string_view stream) -> Result<SourcePositions> {
    CHECK(stream == "iot");
    return SourcePositions{{"shardId-000000000000", 7}};
  };
  {
    auto store = MustOpen(path);
    REQUIRE(store->Create("k").ok());
    REQUIRE(store
                ->PutConfig("k",
                            R"({"Bucket":"lake","AppendDelimiterToRecord":true,
                                "Source":{"KinesisStream":"iot"}})",
                            latest)
                .ok());
    auto cursors = store->SourceCursors();
    REQUIRE(cursors.size() == 1);
    CHECK(cursors[0].kinesis_stream == "iot");
    CHECK(cursors[0].next == SourcePositions{{"shardId-000000000000", 7}});
    CHECK(store->Put("k", "direct", t0).code() == Code::kInvalidArgument);
    const std::vector<std::string> first = {"a", "b"};
    REQUIRE(store->PutFromSource("k", "iot", "shardId-000000000000", first, 9, t0).ok());
    CHECK(store->PutFromSource("k", "other", "shardId-000000000000", first, 9, t0).code() ==
          Code::kNoSuchKey);
    CHECK(store->SourceCursors()[0].next.at("shardId-000000000000") == 9);
    auto batches = store->TakeAll("k");
    REQUIRE(batches.size() == 1);
    CHECK(batches[0].batch.records.size() == 2);
    // Read on before the batch is delivered: the buffer is not empty when
    // it finishes, so the checkpoint stays at attach time.
    const std::vector<std::string> second = {"c"};
    REQUIRE(store->PutFromSource("k", "iot", "shardId-000000000000", second, 10, t0).ok());
    REQUIRE(store->Finished("k").ok());
    {
      auto reopened = MustOpen(dir.path() + "/firehose");
      CHECK(reopened->SourceCursors()[0].next.at("shardId-000000000000") == 7);
    }
    // Two batches in flight: only the last to finish moves it, to what was
    // read (both delivered, nothing buffered).
    auto first_batch = store->TakeAll("k");
    REQUIRE(store->PutFromSource("k", "iot", "shardId-000000000000", second, 11, t0).ok());
    auto second_batch = store->TakeAll("k");
    REQUIRE(first_batch.size() == 1);
    REQUIRE(second_batch.size() == 1);
    REQUIRE(store->Finished("k").ok());
    {
      auto reopened = MustOpen(dir.path() + "/firehose");
      CHECK(reopened->SourceCursors()[0].next.at("shardId-000000000000") == 7);
    }
    REQUIRE(store->Finished("k").ok());
  }
  auto store = MustOpen(path);
  CHECK(store->problems().empty());
  auto cursors = store->SourceCursors();
  REQUIRE(cursors.size() == 1);
  CHECK(cursors[0].next == SourcePositions{{"shardId-000000000000", 11}});
  // A damaged source.json keeps the stream, read again from the start.
  {
    std::ofstream(path + "/k/source.json") << "garbage";
    auto damaged = MustOpen(path);
    CHECK(damaged->problems().size() == 1);
    REQUIRE(damaged->SourceCursors().size() == 1);
    CHECK(damaged->SourceCursors()[0].next.empty());
  }
  // Back to DirectPut: the source and its positions are gone.
  REQUIRE(store->PutConfig("k", R"({"Source":"DirectPut"})").ok());
  CHECK(store->SourceCursors().empty());
  CHECK(!std::filesystem::exists(path + "/k/source.json"));
}

}  // namespace shoal::streams
