#pragma once
// S3 Intelligent-Tiering: the bucket's archive opt-in configurations
// (`.s3/<bucket>/intelligent-tiering.json`) and the access-tier schedule of
// one object, as pure functions. No I/O, no clock reads.
//
// Schedule (AWS): an INTELLIGENT_TIERING object of at least 128 KiB that is
// not accessed moves Frequent -> Infrequent after 30 days and -> Archive
// Instant after 90 days. If a configuration that matches it opts in, it
// moves on to Archive Access after that configuration's ARCHIVE_ACCESS Days
// (90..730) and to Deep Archive Access after its DEEP_ARCHIVE_ACCESS Days
// (180..730). A read of an instant tier brings the object back to Frequent;
// the archive tiers need a restore (tiers/restore.h), which also brings it
// back to Frequent. Smaller objects stay in Frequent.
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "tiers/storage_class.h"

namespace shoal::tiers {

// The bucket configuration document that holds the configurations
// (MNT/.s3/<bucket>/intelligent-tiering.json).
inline constexpr std::string_view kItConfigurationFile = "intelligent-tiering.json";

inline constexpr int kItInfrequentDays = 30;
inline constexpr int kItArchiveInstantDays = 90;
inline constexpr int kItArchiveAccessMinDays = 90;
inline constexpr int kItDeepArchiveAccessMinDays = 180;
inline constexpr int kItMaxDays = 730;
// S3 allows up to 1,000 Intelligent-Tiering configurations per bucket.
inline constexpr std::size_t kItMaxConfigurations = 1000;

using ObjectTag = std::pair<std::string, std::string>;  // key, value

// Which objects a configuration applies to. Exactly one of the S3 shapes:
// no Filter or `{}` (the whole bucket), {"Prefix"}, {"Tag"}, or
// {"And":{"Prefix","Tags"}}.
struct ItFilter {
  enum class Kind : std::uint8_t { kAll, kPrefix, kTag, kAnd };
  Kind kind = Kind::kAll;
  std::string prefix;           // kPrefix; kAnd when has_prefix
  bool has_prefix = false;      // kAnd only: And.Prefix given
  std::vector<ObjectTag> tags;  // kTag: one; kAnd: the And.Tags

  bool operator==(const ItFilter&) const = default;
};

// One PutBucketIntelligentTieringConfiguration body.
struct ItConfiguration {
  std::string id;
  ItFilter filter;
  bool enabled = true;                          // "Status": "Enabled"
  std::optional<int> archive_access_days;       // Tiering ARCHIVE_ACCESS
  std::optional<int> deep_archive_access_days;  // Tiering DEEP_ARCHIVE_ACCESS

  bool operator==(const ItConfiguration&) const = default;
};

// Parses intelligent-tiering.json: one configuration object, or a JSON array
// of them; empty (or all-whitespace) text means no configuration. Validation
// follows S3 (messages in S3's wording where S3 has one):
//  - not JSON, nesting deeper than 64, a value of the wrong JSON type, a
//    missing Id / Status / Tierings, an empty Tierings, an unknown field,
//    Status other than Enabled|Disabled, AccessTier other than
//    ARCHIVE_ACCESS|DEEP_ARCHIVE_ACCESS, a Filter with more than one of
//    Prefix / Tag / And: kMalformedJson (S3 answers MalformedXML for a body
//    that breaks its schema);
//  - Id empty, over 64 characters or outside [A-Za-z0-9-_.]; an AccessTier
//    twice; Days out of range; DEEP_ARCHIVE_ACCESS Days not above
//    ARCHIVE_ACCESS Days; an empty Prefix; a tag key empty or over 128
//    characters, a value over 256; And with fewer than two predicates or a
//    tag key twice; two configurations with one Id; more than 1,000
//    configurations: kInvalidArgument.
Result<std::vector<ItConfiguration>> ParseItConfigurations(std::string_view json);

// The file's content for `configs`: "" for none, one pretty-printed object
// for one, an array otherwise; fields in S3's order (Id, Filter, Status,
// Tierings). ParseItConfigurations(ItConfigurationsToJson(c)) == c.
std::string ItConfigurationsToJson(const std::vector<ItConfiguration>& configs);

// True when `filter` selects the object `key` with `tags`.
bool ItFilterMatches(const ItFilter& filter, std::string_view key,
                     const std::vector<ObjectTag>& tags);

// The archive tiers an object is opted into.
struct ArchiveOptIn {
  std::optional<int> archive_access_days;
  std::optional<int> deep_archive_access_days;

  bool operator==(const ArchiveOptIn&) const = default;
};

// The opt-in of the object `key` with `tags`: the union of the enabled
// configurations whose filter matches it. When several match, each tier
// takes the smallest Days any of them gives (AWS does not document overlaps;
// the earliest archiving wins, as the most specific intent to archive).
ArchiveOptIn OptInFor(const std::vector<ItConfiguration>& configs, std::string_view key,
                      const std::vector<ObjectTag>& tags);

// The next automatic move of an object in tier `current`, last accessed at
// `last_access` (its creation, last read, or restore completion): the
// deeper tier whose threshold (30, 90, archive Days, deep archive Days after
// last_access) comes first; on a tie the deepest (Archive Access at 90 days
// skips Archive Instant, as AWS says it does). nullopt when the object is
// smaller than kIntelligentTieringMinBytes (storage_class.h) or no deeper
// tier applies. `at` may be in the past (an opt-in added late): the caller
// moves the object at once.
struct ItStep {
  AccessTier next;
  TimeNs at;

  bool operator==(const ItStep&) const = default;
};
std::optional<ItStep> NextTierStep(AccessTier current, TimeNs last_access, std::uint64_t size,
                                   const ArchiveOptIn& opt_in);

// The tier of an object last accessed at `last_access` and not accessed
// since, at `now`: the steps from Frequent whose time is at or before now.
AccessTier TierAfter(TimeNs last_access, TimeNs now, std::uint64_t size,
                     const ArchiveOptIn& opt_in);

// (Whether a tier needs a restore: AccessTierNeedsRestore in storage_class.h.)

// The tier after a read: Frequent from the instant tiers; the archive tiers
// stay where they are (the read fails; a restore moves them).
AccessTier TierOnAccess(AccessTier tier);

}  // namespace shoal::tiers
