#include "streams/s3_notification.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace shoal::streams {
namespace {

TEST_CASE("notification.json: targets, events and filters in either form", "[s3_notification]") {
  auto c = ParseNotificationConfig(R"({
    "Kinesis":[{"Stream":"s","Events":["s3:ObjectCreated:*"],"Filter":{"Prefix":"in/","Suffix":".csv"}}],
    "Firehose":[{"Id":"gone","DeliveryStream":"f","Events":["s3:ObjectRemoved:Delete"],
                 "Filter":{"Key":{"FilterRules":[{"Name":"Prefix","Value":"x/"}]}}}]})");
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  REQUIRE(c->targets.size() == 2);
  const NotificationTarget& k = c->targets[0];
  CHECK(k.kind == NotificationTarget::Kind::kKinesis);
  CHECK(k.id == "Kinesis-1");
  CHECK(Wants(k, "ObjectCreated:Put", "in/a.csv"));
  CHECK(Wants(k, "ObjectCreated:Copy", "in/a.csv"));
  CHECK(!Wants(k, "ObjectRemoved:Delete", "in/a.csv"));
  CHECK(!Wants(k, "ObjectCreated:Put", "out/a.csv"));
  CHECK(!Wants(k, "ObjectCreated:Put", "in/a.json"));
  const NotificationTarget& f = c->targets[1];
  CHECK(f.id == "gone");
  CHECK(f.prefix == "x/");
  CHECK(Wants(f, "ObjectRemoved:Delete", "x/1"));
  CHECK(!Wants(f, "ObjectRemoved:DeleteMarkerCreated", "x/1"));
  // The canonical document parses back to the same targets.
  auto again = ParseNotificationConfig(NotificationConfigJson(*c));
  REQUIRE(again.ok());
  CHECK(again->targets == c->targets);
}

TEST_CASE("notification.json: bad documents are refused", "[s3_notification]") {
  CHECK(ParseNotificationConfig("[]").status().code() == Code::kMalformedJson);
  CHECK(ParseNotificationConfig(R"({"Lambda":[]})").status().code() == Code::kMalformedJson);
  CHECK(ParseNotificationConfig(R"({"Kinesis":[{"Events":["s3:ObjectCreated:*"]}]})")
            .status()
            .code() == Code::kMalformedJson);
  CHECK(ParseNotificationConfig(R"({"Kinesis":[{"Stream":"s","Events":["s3:ObjectMade:*"]}]})")
            .status()
            .code() == Code::kInvalidArgument);
  CHECK(ParseNotificationConfig(
            R"({"Kinesis":[{"Stream":"s","Events":["s3:ObjectCreated:*"],
                "Filter":{"Key":{"FilterRules":[{"Name":"middle","Value":"x"}]}}}]})")
            .status()
            .code() == Code::kInvalidArgument);
  CHECK(ParseNotificationConfig("{}").ok());  // no targets: nothing is sent
}

TEST_CASE("an S3 event record has S3's fields", "[s3_notification]") {
  const S3Event e{.name = "ObjectCreated:Put",
                  .time = 1'798'797'600'123'000'000,
                  .bucket = "lake",
                  .key = "in/a b+c.csv",
                  .size = 12,
                  .etag = "0123abcd",
                  .version_id = "null",
                  .sequencer = "00000000000000000A",
                  .configuration_id = "new"};
  const auto doc = nlohmann::json::parse(S3EventJson(e));
  REQUIRE(doc["Records"].size() == 1);
  const auto& r = doc["Records"][0];
  CHECK(r["eventVersion"] == "2.1");
  CHECK(r["eventSource"] == "aws:s3");
  CHECK(r["eventTime"] == "2027-01-01T10:00:00.123Z");
  CHECK(r["eventName"] == "ObjectCreated:Put");
  CHECK(r["s3"]["configurationId"] == "new");
  CHECK(r["s3"]["bucket"]["name"] == "lake");
  CHECK(r["s3"]["bucket"]["arn"] == "arn:aws:s3:::lake");
  CHECK(r["s3"]["object"]["key"] == "in/a+b%2Bc.csv");
  CHECK(r["s3"]["object"]["size"] == 12);
  CHECK(r["s3"]["object"]["eTag"] == "0123abcd");
  CHECK(!r["s3"]["object"].contains("versionId"));  // "null": unversioned
  CHECK(r["s3"]["object"]["sequencer"] == "00000000000000000A");
  S3Event t = e;
  t.name = "LifecycleTransition";
  t.transition_class = "GLACIER";
  t.version_id = "v1";
  const auto tr = nlohmann::json::parse(S3EventJson(t))["Records"][0];
  CHECK(tr["lifecycleEventData"]["transitionEventData"]["destinationStorageClass"] == "GLACIER");
  CHECK(tr["s3"]["object"]["versionId"] == "v1");
}

}  // namespace
}  // namespace shoal::streams
