#pragma once
// S3 Lifecycle configuration: the document of PutBucketLifecycleConfiguration
// (MNT/.s3/<bucket>/lifecycle.json), parsed, validated as S3 validates it,
// and written back as GetBucketLifecycleConfiguration returns it. What the
// rules do to an object lives in lifecycle/lifecycle_eval.h.
//
// The JSON is that of `aws s3api put-bucket-lifecycle-configuration
// --lifecycle-configuration`: {"Rules": [...]}, plus an optional top-level
// "TransitionDefaultMinimumObjectSize" (S3 takes it as the
// x-amz-transition-default-minimum-object-size header; the CLI prints it
// beside "Rules").
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "tiers/storage_class.h"

namespace shoal::lifecycle {

// The bucket configuration document (MNT/.s3/<bucket>/lifecycle.json).
inline constexpr std::string_view kLifecycleFile = "lifecycle.json";

// "An S3 Lifecycle configuration can have up to 1,000 rules. This limit is
// not adjustable. ... ID length is limited to 255 characters."
inline constexpr std::size_t kMaxRules = 1000;
inline constexpr std::size_t kMaxRuleIdChars = 255;
// Object tag limits (characters).
inline constexpr std::size_t kMaxTagKeyChars = 128;
inline constexpr std::size_t kMaxTagValueChars = 256;
// ObjectSizeGreaterThan / ObjectSizeLessThan range, as S3 states it in its
// error ("should be between 1 and 1099511627776000").
inline constexpr std::uint64_t kMaxFilterObjectSize = 1'099'511'627'776'000;
// NewerNoncurrentVersions: "You can specify up to 100 noncurrent versions
// to retain."
inline constexpr std::int32_t kMaxNewerNoncurrentVersions = 100;
// Transitions to STANDARD_IA / ONEZONE_IA need Days (NoncurrentDays) >= 30.
inline constexpr std::int32_t kInfrequentAccessMinDays = 30;
// Objects smaller than this do not transition by default (see
// MinimumSizePolicy).
inline constexpr std::uint64_t kMinTransitionBytes = std::uint64_t{128} * 1024;

struct Tag {
  std::string key;
  std::string value;

  bool operator==(const Tag&) const = default;
};

// Which objects a rule applies to. A filter with no predicate matches every
// object; otherwise an object must meet all of them.
struct Filter {
  // nullopt: the document had no Prefix element. "" matches every key; it
  // is kept apart from nullopt because S3 returns the document as written
  // ({"Prefix": ""} is not {}) and names the filter differently in errors.
  std::optional<std::string> prefix;
  std::vector<Tag> tags;  // each must be on the object with this exact value
  std::optional<std::uint64_t> size_greater_than;  // size > this (strict)
  std::optional<std::uint64_t> size_less_than;     // size < this (strict)

  bool operator==(const Filter&) const = default;
};

// A Transition: Days after creation, or on a Date (midnight UTC), exactly
// one of them.
struct Transition {
  std::optional<std::int32_t> days;
  std::optional<TimeNs> date;
  tiers::StorageClass storage_class = tiers::StorageClass::kGlacier;

  bool operator==(const Transition&) const = default;
};

// An Expiration: exactly one of Days, Date or ExpiredObjectDeleteMarker.
// With neither days nor date, `expired_object_delete_marker` is the
// element's value (false is a valid element that takes no action).
struct Expiration {
  std::optional<std::int32_t> days;
  std::optional<TimeNs> date;
  bool expired_object_delete_marker = false;

  bool operator==(const Expiration&) const = default;
};

struct NoncurrentTransition {
  std::int32_t noncurrent_days = 0;
  std::optional<std::int32_t> newer_noncurrent_versions;
  tiers::StorageClass storage_class = tiers::StorageClass::kGlacier;

  bool operator==(const NoncurrentTransition&) const = default;
};

struct NoncurrentExpiration {
  std::int32_t noncurrent_days = 1;
  std::optional<std::int32_t> newer_noncurrent_versions;

  bool operator==(const NoncurrentExpiration&) const = default;
};

struct Rule {
  // Given, or made by the parser when the rule has none (or ""), as S3
  // makes one: 48 characters of base64 holding a version-4-style UUID. Ours
  // is derived from the rule's position and content, so parsing the same
  // document twice gives the same IDs.
  std::string id;
  bool enabled = true;  // "Status": "Enabled" | "Disabled"
  Filter filter;
  // The rule used the deprecated rule-level "Prefix" (filter.prefix holds
  // it) instead of a "Filter" element ("Lifecycle V1").
  bool legacy_prefix = false;
  std::vector<Transition> transitions;
  std::optional<Expiration> expiration;
  std::vector<NoncurrentTransition> noncurrent_transitions;
  std::optional<NoncurrentExpiration> noncurrent_expiration;
  std::optional<std::int32_t> abort_incomplete_multipart_days;  // DaysAfterInitiation

  bool operator==(const Rule&) const = default;
};

// TransitionDefaultMinimumObjectSize.
enum class MinimumSizePolicy : std::uint8_t {
  // "all_storage_classes_128K" (S3's default since September 2024): objects
  // smaller than 128 KiB transition to no class.
  kAll128K,
  // "varies_by_storage_class": objects smaller than 128 KiB transition to
  // GLACIER and DEEP_ARCHIVE only.
  kVariesByStorageClass,
};
// "all_storage_classes_128K" / "varies_by_storage_class".
std::string_view MinimumSizePolicyName(MinimumSizePolicy p);

struct LifecycleConfiguration {
  std::vector<Rule> rules;  // empty: the bucket has no lifecycle configuration
  MinimumSizePolicy minimum_size = MinimumSizePolicy::kAll128K;

  bool operator==(const LifecycleConfiguration&) const = default;
};

// S3's transition waterfall: whether S3 Lifecycle moves an object from
// `from` to `to`. STANDARD -> any other class; STANDARD_IA ->
// INTELLIGENT_TIERING, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE;
// INTELLIGENT_TIERING -> ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE;
// ONEZONE_IA -> GLACIER, DEEP_ARCHIVE; GLACIER_IR -> GLACIER, DEEP_ARCHIVE;
// GLACIER -> DEEP_ARCHIVE; nothing moves to STANDARD, nor out of
// DEEP_ARCHIVE, nor to its own class.
bool CanTransition(tiers::StorageClass from, tiers::StorageClass to);

// Parses and validates lifecycle.json. Empty (or all-whitespace) text means
// no configuration: a LifecycleConfiguration with no rules. Rules without
// an ID get one (see Rule::id).
//
// On failure the Status carries S3's code and message where S3 has one:
//  - kMalformedJson: not JSON ("The JSON you provided was not well-formed:
//    ..."; the AWS CLI refuses such text before S3 sees it).
//  - kMalformedXml (S3's MalformedXML): every schema fault, checked over
//    the whole document before any value, in S3's words plus a detail: "The
//    XML you provided was not well-formed or did not validate against our
//    published schema (<where and what>)": a wrong JSON type, an unknown or
//    missing member, Status other than Enabled|Disabled, a rule with
//    neither or both of Filter and Prefix, a Filter with more than one of
//    Prefix / Tag / ObjectSizeGreaterThan / ObjectSizeLessThan / And, an
//    And of fewer than two predicates, an Expiration without exactly one of Days / Date /
//    ExpiredObjectDeleteMarker, a Transition without exactly one of Days /
//    Date, an unknown StorageClass, a Date that is not ISO 8601, an integer
//    outside xs:int, nesting deeper than 64.
//  - kInvalidRequest: no rules, more than 1000, an unknown
//    TransitionDefaultMinimumObjectSize, Filter and rule-level Prefix mixed
//    across rules, duplicate tag keys, object sizes out of range or not
//    ordered, a rule with no action, ExpiredObjectDeleteMarker or
//    AbortIncompleteMultipartUpload with a tag or size filter,
//    NewerNoncurrentVersions with a rule-level Prefix, two transitions to
//    one class, Date and Days mixed in a rule, rule-level prefixes that are
//    equal or overlap for the same action.
//  - kInvalidArgument: ID over 255 characters, duplicate IDs, tag key /
//    value length, Days / NoncurrentDays / DaysAfterInitiation /
//    NewerNoncurrentVersions out of range, a Date not at midnight UTC, a
//    transition to STANDARD, STANDARD_IA / ONEZONE_IA before 30 days, a
//    rule's transitions out of waterfall order or closer together than the
//    earlier class's minimum storage duration, an expiration not after the
//    rule's transitions.
// lifecycle_config.cc lists each message and where its wording comes from.
Result<LifecycleConfiguration> ParseLifecycleConfiguration(std::string_view json);

// The document as `aws s3api get-bucket-lifecycle-configuration` prints it:
// 2-space indent, a trailing newline, each rule's members in the order ID,
// Filter (or Prefix), Status, Expiration, Transitions,
// NoncurrentVersionExpiration, NoncurrentVersionTransitions,
// AbortIncompleteMultipartUpload, Dates as "2026-01-01T00:00:00.000Z", and
// "TransitionDefaultMinimumObjectSize" after "Rules". "" for a configuration
// with no rules. For every c that ParseLifecycleConfiguration returned,
// ParseLifecycleConfiguration(LifecycleConfigurationToJson(c)) == c.
std::string LifecycleConfigurationToJson(const LifecycleConfiguration& c);

}  // namespace shoal::lifecycle
