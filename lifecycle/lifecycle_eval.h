#pragma once
// What a bucket's lifecycle rules do to one object version, and when: pure
// functions, no I/O, no clock reads. The caller (the lifecycle scheduler)
// gathers the facts of a version, asks for its next action, and applies it
// when its clock reaches `due`.
//
// When actions fall due (S3 User Guide, "Lifecycle configuration elements"):
//  - Days: "Amazon S3 calculates the time by adding the number of days
//    specified in the rule to the object creation time and rounding the
//    resulting time to the next day midnight UTC" (created 2014-01-15 10:30
//    + 3 days: due 2014-01-19 00:00). shoal rounds to the first midnight
//    strictly after the sum (tiers::NextMidnightUtc), so a sum that is
//    exactly midnight moves a whole day: created 2026-01-15 00:00 + 3 days
//    is due 2026-01-19 00:00, as MinIO computes it (AWS does not say).
//    Days 0 is due at the first midnight after creation.
//  - NoncurrentDays count the same way from when the version became
//    noncurrent (its successor's creation); DaysAfterInitiation from the
//    upload's initiation.
//  - Date: due at the Date for objects created before it. "If you specify
//    an S3 Lifecycle action with a date that is in the past, all qualified
//    objects become immediately eligible", and the rule keeps applying to
//    new objects; since S3 Lifecycle runs once a day at midnight UTC, an
//    object created at or after the Date is due at the first midnight after
//    its creation. In short: max(Date, NextMidnightUtc(created)).
// A due time may be in the past (a rule added late): the caller applies the
// action at once. S3 takes one lifecycle action per object per day; a
// caller that wants that pacing applies a follow-up action whose due time
// has already passed at the next midnight instead.
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "lifecycle/lifecycle_config.h"
#include "tiers/storage_class.h"

namespace shoal::lifecycle {

// What the evaluation needs to know about one object version. Borrowed
// pointers and views must outlive the call only.
struct VersionFacts {
  std::string_view key;  // full key within the bucket
  std::uint64_t size = 0;
  const std::vector<Tag>* tags = nullptr;  // null: no tags
  tiers::StorageClass storage_class = tiers::StorageClass::kStandard;
  TimeNs created = 0;      // LastModified of this version (of the marker, for a delete marker)
  bool is_current = true;  // false: a noncurrent version
  bool is_delete_marker = false;
  TimeNs noncurrent_since = 0;  // when it became noncurrent; only if !is_current
  // How many noncurrent versions of this key are newer than this one, not
  // counting delete markers (NewerNoncurrentVersions does not count them).
  std::int32_t newer_noncurrent = 0;
  // For a current delete marker: whether any other version of the key
  // remains. A marker with none is an "expired object delete marker".
  bool has_noncurrent_versions = false;
  // Versioning is enabled or suspended on the bucket, so an Expiration of
  // the current version adds a delete marker rather than deleting it (pass
  // false when S3 would delete permanently: never-versioned buckets, or a
  // suspended bucket whose current version is the null version). It decides
  // same-day conflicts: "Permanent deletion takes precedence over
  // transition. Transition takes precedence over creation of delete
  // markers."
  bool versioned_bucket = false;
};

enum class ActionKind : std::uint8_t {
  kTransition,                 // current version -> Action::to
  kExpire,                     // current version: delete (unversioned) or add a delete marker
  kRemoveExpiredDeleteMarker,  // current delete marker with no other versions: remove it
  kNoncurrentTransition,       // noncurrent version -> Action::to
  kNoncurrentExpire,           // noncurrent version (or delete marker): delete permanently
};

struct Action {
  ActionKind kind = ActionKind::kExpire;
  TimeNs due = 0;
  // The target class of a transition; the version's own class otherwise.
  tiers::StorageClass to = tiers::StorageClass::kStandard;
  std::string rule_id;  // the rule that asks for it

  bool operator==(const Action&) const = default;
};

// True when `f` selects the version: its key starts with the prefix, it
// carries every tag with the exact value (other tags do not matter), and
// its size is strictly inside the size bounds.
bool Matches(const Filter& f, const VersionFacts& v);

// The action the enabled rules whose filter matches `v` will take next on
// it: of all the actions that apply, the one with the earliest due time;
// nullopt when none ever applies. What applies:
//  - a current version that is not a delete marker: Expiration (Days or
//    Date) and Transitions;
//  - a current delete marker with no other versions: Expiration
//    ExpiredObjectDeleteMarker=true (due at the first midnight after the
//    marker's creation; the caller applies it once the marker becomes the
//    only version), and Expiration Days, which "automatically performs
//    ExpiredObjectDeleteMarker cleanup when the delete markers are old
//    enough"; a delete marker with versions beneath it: nothing;
//  - a noncurrent version: NoncurrentVersionExpiration and (not for delete
//    markers) NoncurrentVersionTransitions, each only when `newer_noncurrent`
//    >= its NewerNoncurrentVersions: S3 keeps that many newer noncurrent
//    versions ("how many newer noncurrent versions must exist before Amazon
//    S3 can expire a given version"), and both conditions must hold.
// A transition applies only when CanTransition(v.storage_class, to) (the
// waterfall: an object already colder, or in the target class, stays), and
// only to objects of at least kMinTransitionBytes unless the configuration
// is kVariesByStorageClass and the target is GLACIER or DEEP_ARCHIVE, or
// the rule's filter has ObjectSizeGreaterThan / ObjectSizeLessThan ("Custom
// filters always take precedence over the default transition behavior").
// Same due time (S3, "How Amazon S3 handles conflicts in lifecycle
// configurations"): permanent deletion (kNoncurrentExpire,
// kRemoveExpiredDeleteMarker, kExpire when !versioned_bucket) beats a
// transition, which beats delete-marker creation (kExpire when
// versioned_bucket); between transitions DEEP_ARCHIVE, then GLACIER, then
// INTELLIGENT_TIERING ("favored ... over any storage class, aside from the
// S3 Glacier Flexible Retrieval and S3 Glacier Deep Archive"), then the
// cheaper of GLACIER_IR, ONEZONE_IA, STANDARD_IA; otherwise the rule listed
// first.
std::optional<Action> NextAction(const LifecycleConfiguration& c, const VersionFacts& v);

// The x-amz-expiration header of a current version that is not a delete
// marker: `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="<ID>"` for
// the earliest Expiration (Days or Date) of the enabled rules that match it,
// the first listed on a tie, the ID as it is (S3 documents it URL-encoded
// but sends spaces as spaces); nullopt when none applies, and always for
// delete markers and noncurrent versions.
std::optional<std::string> ExpirationHeader(const LifecycleConfiguration& c, const VersionFacts& v);

// When an incomplete multipart upload of `key`, initiated at `initiated`,
// is aborted, and by which rule: the earliest AbortIncompleteMultipartUpload
// of the enabled rules whose prefix matches the key (such rules have no tag
// or size filter), the first listed on a tie; nullopt when none. For
// x-amz-abort-date (FormatHttpDate(at)) and x-amz-abort-rule-id.
struct Deadline {
  TimeNs at = 0;
  std::string rule_id;

  bool operator==(const Deadline&) const = default;
};
std::optional<Deadline> AbortDeadline(const LifecycleConfiguration& c, std::string_view key,
                                      TimeNs initiated);

}  // namespace shoal::lifecycle
