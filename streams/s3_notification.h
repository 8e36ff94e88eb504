#pragma once
// S3 event notifications (DESIGN §2.3, MNT/.s3/<bucket>/notification.json):
// which object events a bucket sends to which Kinesis streams and Firehose
// delivery streams, and the event record S3 sends.
//
//   {"Kinesis":[{"Id":"new-csv","Stream":"s","Events":["s3:ObjectCreated:*"],
//                "Filter":{"Prefix":"in/","Suffix":".csv"}}],
//    "Firehose":[{"DeliveryStream":"f","Events":["s3:ObjectRemoved:*"]}]}
//
// Filter also takes S3's own form, {"Key":{"FilterRules":[{"Name":"prefix",
// "Value":"in/"}, ...]}}. Events are S3's event types (s3:ObjectCreated:*,
// s3:ObjectCreated:Put, s3:ObjectRemoved:Delete, s3:LifecycleTransition,
// ...). Errors: kMalformedJson for another shape, kInvalidArgument (S3's
// words where it has them) for an unknown event type or filter rule name.
//
// Thread-safety: plain functions over values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace shoal::streams {

struct NotificationTarget {
  enum class Kind : std::uint8_t { kKinesis, kFirehose };
  Kind kind = Kind::kKinesis;
  std::string id;                   // the event's configurationId
  std::string stream;               // the Kinesis stream or delivery stream
  std::vector<std::string> events;  // "s3:ObjectCreated:*", ...
  std::string prefix;
  std::string suffix;

  friend bool operator==(const NotificationTarget&, const NotificationTarget&) = default;
};

struct NotificationConfig {
  std::vector<NotificationTarget> targets;
};

Result<NotificationConfig> ParseNotificationConfig(std::string_view json);
// The canonical document (every target with its Id, Filter as Prefix/Suffix).
std::string NotificationConfigJson(const NotificationConfig& config);

// Whether `target` wants event `event_name` ("ObjectCreated:Put", without
// "s3:") of object `key`.
bool Wants(const NotificationTarget& target, std::string_view event_name, std::string_view key);

// One object event, as S3 reports it.
struct S3Event {
  std::string name;  // "ObjectCreated:Put", "LifecycleTransition", ...
  TimeNs time = 0;
  std::string bucket;
  std::string key;
  std::optional<std::uint64_t> size;  // absent for removals
  std::string etag;                   // hex, unquoted; empty: absent
  std::string version_id;             // empty or "null": absent
  std::string sequencer;
  std::string configuration_id;
  std::string transition_class;          // LifecycleTransition: the destination
  std::optional<TimeNs> restore_expiry;  // ObjectRestore:Completed
  std::string restore_class;             // ObjectRestore:Completed
};

// The notification message: {"Records":[<the event record>]}, one line.
std::string S3EventJson(const S3Event& event);

// A key as S3 writes it into event records: URL-encoded, a space as '+'.
std::string EventKey(std::string_view key);

}  // namespace shoal::streams
