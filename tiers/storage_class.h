#pragma once
// Storage classes: one table of S3's seven classes and what each implies
// (minimum duration and size, archive overheads, restore, retrieval fee,
// availability zones) and how shoal encodes the blobs of each tier.
// Intelligent-Tiering's access tiers and the restore tiers live here too, so
// every folder names them the same way.
//
// Thread-safety: immutable data and pure functions; callable from any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "tiers/blob.h"

namespace shoal::tiers {

enum class StorageClass : std::uint8_t {
  kStandard = 0,
  kStandardIa,
  kOnezoneIa,
  kIntelligentTiering,
  kGlacierIr,
  kGlacier,
  kDeepArchive,
};
inline constexpr std::size_t kStorageClassCount = 7;

// Intelligent-Tiering access tiers.
enum class AccessTier : std::uint8_t {
  kFrequent = 0,
  kInfrequent,
  kArchiveInstant,
  kArchiveAccess,      // optional asynchronous tier: reads need a restore
  kDeepArchiveAccess,  // optional asynchronous tier: reads need a restore
};
inline constexpr std::size_t kAccessTierCount = 5;

// Restore (retrieval) tiers of RestoreObject, as in `Days=N,Tier=Bulk`.
enum class RestoreTier : std::uint8_t { kExpedited = 0, kStandard, kBulk };
inline constexpr std::size_t kRestoreTierCount = 3;

struct ClassInfo {
  StorageClass id;
  std::string_view name;                  // S3's name: "STANDARD", "STANDARD_IA", ...
  int min_storage_days;                   // deleting or moving out earlier bills the rest
  std::uint64_t min_billable_bytes;       // smaller objects are billed as this size
  std::uint64_t overhead_class_bytes;     // per object, billed at this class's rate
  std::uint64_t overhead_standard_bytes;  // per object, billed at STANDARD's rate
  bool needs_restore;                     // reads fail (InvalidObjectState) until restored
  bool expedited_restore;                 // RestoreTier::kExpedited is offered
  bool retrieval_fee;                     // reads pay a per-GB retrieval fee
  int availability_zones;
  EncodeOptions encoding;  // how blobs of this class are compressed (storage_class.cc)
};

// REQUIRES: `c` is one of the enumerators.
const ClassInfo& InfoOf(StorageClass c);
// S3's name of `c` ("GLACIER_IR").
inline std::string_view StorageClassName(StorageClass c) {
  return InfoOf(c).name;
}
// The class S3 calls `name`: exact and case-sensitive, as S3 compares it.
std::optional<StorageClass> ParseStorageClass(std::string_view name);
// Every class, in enumerator order (AllClasses()[i].id == StorageClass(i)).
std::span<const ClassInfo> AllClasses();

// S3 Inventory's IntelligentTieringAccessTier value: "FREQUENT",
// "INFREQUENT", "ARCHIVE_INSTANT_ACCESS", "ARCHIVE_ACCESS",
// "DEEP_ARCHIVE_ACCESS". REQUIRES: `t` is one of the enumerators.
std::string_view AccessTierName(AccessTier t);
std::optional<AccessTier> ParseAccessTier(std::string_view name);
// Whether objects in `t` must be restored before they can be read.
inline bool AccessTierNeedsRestore(AccessTier t) {
  return t == AccessTier::kArchiveAccess || t == AccessTier::kDeepArchiveAccess;
}

// "Expedited", "Standard", "Bulk": the spelling of RestoreRequest's Tier.
// REQUIRES: `t` is one of the enumerators.
std::string_view RestoreTierName(RestoreTier t);
std::optional<RestoreTier> ParseRestoreTier(std::string_view name);

// Smaller Intelligent-Tiering objects are never monitored nor tiered: they
// stay in the Frequent tier and pay no monitoring fee.
inline constexpr std::uint64_t kIntelligentTieringMinBytes = 128 * 1024;
// An Intelligent-Tiering object in the Archive Access or Deep Archive Access
// tier keeps this much metadata billed at STANDARD's rate (AWS's pricing
// page; these tiers have no class-rate overhead).
inline constexpr std::uint64_t kIntelligentTieringArchiveOverheadBytes = 8 * 1024;

}  // namespace shoal::tiers
