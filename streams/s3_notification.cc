#include "streams/s3_notification.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/json_text.h"
#include "streams/stream_config.h"

namespace shoal::streams {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// S3's event types a notification can name.
constexpr std::array<std::string_view, 20> kEventTypes = {
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:LifecycleTransition",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:IntelligentTiering",
};
constexpr std::size_t kMaxNotificationBytes = std::size_t{64} * 1024;

Status Malformed(std::string_view what) {
  return Status(
      Code::kMalformedJson,
      "notification.json: " + std::string(what) +
          ": expected {\"Kinesis\":[{\"Stream\":\"s\",\"Events\":[\"s3:ObjectCreated:*\"],"
          "\"Filter\":{\"Prefix\":\"p/\"}}], \"Firehose\":[{\"DeliveryStream\":\"f\", ...}]}");
}

Status ReadFilter(const Json& filter, NotificationTarget& t) {
  if (!filter.is_object()) return Malformed("Filter is not an object");
  for (const auto& item : filter.items()) {
    if ((item.key() == "Prefix" || item.key() == "Suffix") && item.value().is_string()) {
      (item.key() == "Prefix" ? t.prefix : t.suffix) = item.value().get<std::string>();
    } else if (item.key() == "Key" && item.value().is_object() &&
               item.value().contains("FilterRules") && item.value()["FilterRules"].is_array()) {
      for (const Json& rule : item.value()["FilterRules"]) {
        if (!rule.is_object() || !rule.contains("Name") || !rule["Name"].is_string() ||
            !rule.contains("Value") || !rule["Value"].is_string()) {
          return Malformed("a FilterRule without a string Name and Value");
        }
        std::string name = rule["Name"].get<std::string>();
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name != "prefix" && name != "suffix") {
          return InvalidArgument("Invalid filter name: FilterRule names must be prefix or suffix");
        }
        (name == "prefix" ? t.prefix : t.suffix) = rule["Value"].get<std::string>();
      }
    } else {
      return Malformed("Filter member " + item.key());
    }
  }
  return Status::Ok();
}

Status ReadTarget(const Json& j, NotificationTarget::Kind kind, std::size_t index,
                  NotificationTarget& t) {
  const char* stream_member =
      kind == NotificationTarget::Kind::kKinesis ? "Stream" : "DeliveryStream";
  if (!j.is_object()) return Malformed("a configuration is not an object");
  t.kind = kind;
  for (const auto& item : j.items()) {
    const std::string& k = item.key();
    const Json& v = item.value();
    if (k == stream_member && v.is_string() && !v.get<std::string>().empty()) {
      t.stream = v.get<std::string>();
    } else if (k == "Id" && v.is_string()) {
      t.id = v.get<std::string>();
    } else if (k == "Events" && v.is_array() && !v.empty()) {
      for (const Json& e : v) {
        if (!e.is_string()) return Malformed("Events holds a non-string");
        const std::string name = e.get<std::string>();
        bool known = false;
        for (std::string_view type : kEventTypes) known = known || type == name;
        if (!known) return InvalidArgument("The event is not supported for notifications: " + name);
        t.events.push_back(name);
      }
    } else if (k == "Filter") {
      Status s = ReadFilter(v, t);
      if (!s.ok()) return s;
    } else {
      return Malformed("member " + k);
    }
  }
  if (t.stream.empty()) return Malformed(std::string("a configuration without ") + stream_member);
  if (t.events.empty()) return Malformed("a configuration without Events");
  if (t.id.empty()) {
    t.id = std::string(kind == NotificationTarget::Kind::kKinesis ? "Kinesis-" : "Firehose-") +
           std::to_string(index + 1);
  }
  return Status::Ok();
}

// "2027-01-01T10:00:00.000Z", as S3's eventTime.
std::string FormatIso8601Millis(TimeNs t) {
  std::string out = FormatIso8601(t);
  TimeNs ms = (t % 1'000'000'000) / 1'000'000;
  if (ms < 0) ms += 1000;
  char buf[8];
  std::snprintf(buf, sizeof buf, ".%03lldZ", static_cast<long long>(ms));
  out.pop_back();  // the "Z"
  return out + buf;
}

}  // namespace

Result<NotificationConfig> ParseNotificationConfig(std::string_view json) {
  if (json.size() > kMaxNotificationBytes)
    return InvalidArgument("notification.json is over 64 KiB");
  if (!DepthWithin(json, 8)) return Malformed("nested too deep");
  auto doc = ParseJsonDocument(json);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) return Malformed("not an object");
  for (const auto& item : doc->items()) {
    if ((item.key() != "Kinesis" && item.key() != "Firehose") || !item.value().is_array()) {
      return Malformed("member " + item.key());
    }
  }
  NotificationConfig out;
  for (const bool kinesis : {true, false}) {  // the canonical order
    const auto list = doc->find(kinesis ? "Kinesis" : "Firehose");
    if (list == doc->end()) continue;
    std::size_t index = 0;
    for (const Json& j : *list) {
      NotificationTarget t;
      Status s = ReadTarget(
          j, kinesis ? NotificationTarget::Kind::kKinesis : NotificationTarget::Kind::kFirehose,
          index++, t);
      if (!s.ok()) return s;
      out.targets.push_back(std::move(t));
    }
  }
  return out;
}

std::string NotificationConfigJson(const NotificationConfig& config) {
  OrderedJson doc = {{"Kinesis", OrderedJson::array()}, {"Firehose", OrderedJson::array()}};
  for (const NotificationTarget& t : config.targets) {
    const bool kinesis = t.kind == NotificationTarget::Kind::kKinesis;
    OrderedJson j = {
        {"Id", t.id}, {kinesis ? "Stream" : "DeliveryStream", t.stream}, {"Events", t.events}};
    if (!t.prefix.empty() || !t.suffix.empty()) {
      j["Filter"] = {{"Prefix", t.prefix}, {"Suffix", t.suffix}};
    }
    doc[kinesis ? "Kinesis" : "Firehose"].push_back(std::move(j));
  }
  return doc.dump(2) + "\n";
}

bool Wants(const NotificationTarget& target, std::string_view event_name, std::string_view key) {
  if (key.substr(0, target.prefix.size()) != target.prefix) return false;
  if (key.size() < target.suffix.size() ||
      key.substr(key.size() - target.suffix.size()) != target.suffix) {
    return false;
  }
  for (const std::string& pattern : target.events) {
    std::string_view p = pattern;
    p.remove_prefix(3);  // "s3:"
    if (p == event_name) return true;
    if (!p.empty() && p.back() == '*' &&
        event_name.substr(0, p.size() - 1) == p.substr(0, p.size() - 1)) {
      return true;
    }
  }
  return false;
}

std::string EventKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '*' || c == '/') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

std::string S3EventJson(const S3Event& e) {
  OrderedJson object = {{"key", EventKey(e.key)}};
  if (e.size) object["size"] = *e.size;
  if (!e.etag.empty()) object["eTag"] = e.etag;
  if (!e.version_id.empty() && e.version_id != "null") object["versionId"] = e.version_id;
  object["sequencer"] = e.sequencer;
  const std::string principal = "AWS:" + std::string(kAccountId);
  OrderedJson record = {
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", kRegion},
      {"eventTime", FormatIso8601Millis(e.time)},
      {"eventName", e.name},
      {"userIdentity", {{"principalId", principal}}},
      {"requestParameters", {{"sourceIPAddress", "127.0.0.1"}}},
      {"responseElements", {{"x-amz-request-id", e.sequencer}, {"x-amz-id-2", "shoal"}}},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", e.configuration_id},
        {"bucket",
         {{"name", e.bucket},
          {"ownerIdentity", {{"principalId", std::string(kAccountId)}}},
          {"arn", "arn:aws:s3:::" + e.bucket}}},
        {"object", object}}}};
  if (!e.transition_class.empty()) {
    record["lifecycleEventData"] = {
        {"transitionEventData", {{"destinationStorageClass", e.transition_class}}}};
  }
  if (e.restore_expiry) {
    record["glacierEventData"] = {
        {"restoreEventData",
         {{"lifecycleRestorationExpiryTime", FormatIso8601Millis(*e.restore_expiry)},
          {"lifecycleRestoreStorageClass", e.restore_class}}}};
  }
  OrderedJson doc = {{"Records", OrderedJson::array({record})}};
  return doc.dump();
}

}  // namespace shoal::streams
