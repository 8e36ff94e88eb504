#include "tiers/storage_class.h"

#include <array>

namespace shoal::tiers {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint32_t kMiB = 1024 * 1024;

// Blob encodings per tier, chosen by measurement: colder tiers are written
// rarely and read more rarely still, so they trade encode speed for size.
// Measured through BlobStore (zstd 1.5.4, AES-GCM sealing, chunks compressed
// on both cores of the 2-core build machine, best of two runs) on two
// corpora of about 26 MiB: "csv" is /work/shared/data (febrl CSVs, NAB CSVs
// and JSON) repeated four times; "mixed" is that data once plus C++ headers
// and shared libraries. Ratio is plaintext / stored bytes; decoding runs at
// 600-1100 MiB/s for every choice.
//   class                 level chunk    ratio csv/mixed  encode MiB/s csv/mixed
//   STANDARD, INT_TIERING  1    64 KiB   3.85 / 3.84      327 / 362
//   STANDARD_IA, 1ZONE_IA  6   256 KiB   3.97 / 4.47      151 / 173
//   GLACIER_IR            15   256 KiB   4.82 / 5.10       13 /  16
//   GLACIER               16     1 MiB   5.09 / 5.93      9.6 /  13
//   DEEP_ARCHIVE          17     4 MiB   5.33 / 6.83      5.0 / 9.3
// Alternatives measured and passed over:
//   3 / 64 KiB    3.71 / 3.94  275 / 308  IA: worse than level 1 on the CSVs
//   9 / 256 KiB   3.98 / 4.57   83 / 107  GLACIER_IR: hardly beats level 6
//   12 / 1 MiB    4.26 / 5.41   53 /  78  15 / 1 MiB: 4.29 / 5.45 at 17 / 21
//   19 / 1 MiB    5.12 / 6.17  4.8 / 7.0  no better than 16 / 1 MiB on CSV
//   19 / 4 MiB    5.39 / 7.02  3.2 / 5.8  1-3% smaller than 17, too slow
//   22 / 4 MiB + long-distance matching  5.38 / 7.03  1.9 / 4.4
// Long-distance matching and a 2^27 window change nothing at these chunk
// sizes (19 / 4 MiB: 5.387 / 7.020 without, 5.387 / 7.021 with): the
// level's own window already spans the chunk. Writing a large DEEP_ARCHIVE
// blob takes about 170 MiB more memory than STANDARD (zstd's level-17
// tables, some 55 MiB per encoding thread, plus the chunks in flight).
constexpr EncodeOptions kHot{.zstd_level = 1, .chunk_size = 64 * 1024};
constexpr EncodeOptions kWarm{.zstd_level = 6, .chunk_size = 256 * 1024};
constexpr EncodeOptions kCool{.zstd_level = 15, .chunk_size = 256 * 1024};
constexpr EncodeOptions kCold{.zstd_level = 16, .chunk_size = kMiB};
constexpr EncodeOptions kFrozen{.zstd_level = 17, .chunk_size = 4 * kMiB};

// The one table. Figures are S3's (storage classes overview and pricing
// pages): minimum durations, 128 KiB minimum billable size, and the 40 KiB
// per archived object (32 KiB of index at the archive rate, 8 KiB of name and
// metadata at STANDARD's rate).
constexpr std::array<ClassInfo, kStorageClassCount> kClasses{{
    {.id = StorageClass::kStandard,
     .name = "STANDARD",
     .min_storage_days = 0,
     .min_billable_bytes = 0,
     .overhead_class_bytes = 0,
     .overhead_standard_bytes = 0,
     .needs_restore = false,
     .expedited_restore = false,
     .retrieval_fee = false,
     .availability_zones = 3,
     .encoding = kHot},
    {.id = StorageClass::kStandardIa,
     .name = "STANDARD_IA",
     .min_storage_days = 30,
     .min_billable_bytes = 128 * kKiB,
     .overhead_class_bytes = 0,
     .overhead_standard_bytes = 0,
     .needs_restore = false,
     .expedited_restore = false,
     .retrieval_fee = true,
     .availability_zones = 3,
     .encoding = kWarm},
    {.id = StorageClass::kOnezoneIa,
     .name = "ONEZONE_IA",
     .min_storage_days = 30,
     .min_billable_bytes = 128 * kKiB,
     .overhead_class_bytes = 0,
     .overhead_standard_bytes = 0,
     .needs_restore = false,
     .expedited_restore = false,
     .retrieval_fee = true,
     .availability_zones = 1,
     .encoding = kWarm},
    // Objects move between access tiers on their own, so the class keeps the
    // hot encoding: re-encoding on every tier move would cost more than it
    // saves.
    {.id = StorageClass::kIntelligentTiering,
     .name = "INTELLIGENT_TIERING",
     .min_storage_days = 0,
     .min_billable_bytes = 0,
     .overhead_class_bytes = 0,
     .overhead_standard_bytes = 0,
     .needs_restore = false,
     .expedited_restore = false,
     .retrieval_fee = false,
     .availability_zones = 3,
     .encoding = kHot},
    {.id = StorageClass::kGlacierIr,
     .name = "GLACIER_IR",
     .min_storage_days = 90,
     .min_billable_bytes = 128 * kKiB,
     .overhead_class_bytes = 0,
     .overhead_standard_bytes = 0,
     .needs_restore = false,
     .expedited_restore = false,
     .retrieval_fee = true,
     .availability_zones = 3,
     .encoding = kCool},
    {.id = StorageClass::kGlacier,
     .name = "GLACIER",
     .min_storage_days = 90,
     .min_billable_bytes = 0,
     .overhead_class_bytes = 32 * kKiB,
     .overhead_standard_bytes = 8 * kKiB,
     .needs_restore = true,
     .expedited_restore = true,
     .retrieval_fee = false,
     .availability_zones = 3,
     .encoding = kCold},
    {.id = StorageClass::kDeepArchive,
     .name = "DEEP_ARCHIVE",
     .min_storage_days = 180,
     .min_billable_bytes = 0,
     .overhead_class_bytes = 32 * kKiB,
     .overhead_standard_bytes = 8 * kKiB,
     .needs_restore = true,
     .expedited_restore = false,
     .retrieval_fee = false,
     .availability_zones = 3,
     .encoding = kFrozen},
}};

constexpr std::array<std::string_view, kAccessTierCount> kAccessTierNames{
    "FREQUENT", "INFREQUENT", "ARCHIVE_INSTANT_ACCESS", "ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"};

constexpr std::array<std::string_view, kRestoreTierCount> kRestoreTierNames{"Expedited", "Standard",
                                                                            "Bulk"};

// The table is indexed by enumerator; keep the two in step.
constexpr bool TableInOrder() {
  for (std::size_t i = 0; i < kClasses.size(); ++i) {
    if (static_cast<std::size_t>(kClasses[i].id) != i) return false;
  }
  return true;
}
static_assert(TableInOrder(), "kClasses must list the classes in enumerator order");

}  // namespace

const ClassInfo& InfoOf(StorageClass c) {
  return kClasses[static_cast<std::size_t>(c)];
}

std::optional<StorageClass> ParseStorageClass(std::string_view name) {
  for (const ClassInfo& info : kClasses) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

std::span<const ClassInfo> AllClasses() {
  return kClasses;
}

std::string_view AccessTierName(AccessTier t) {
  return kAccessTierNames[static_cast<std::size_t>(t)];
}

std::optional<AccessTier> ParseAccessTier(std::string_view name) {
  for (std::size_t i = 0; i < kAccessTierNames.size(); ++i) {
    if (kAccessTierNames[i] == name) return static_cast<AccessTier>(i);
  }
  return std::nullopt;
}

std::string_view RestoreTierName(RestoreTier t) {
  return kRestoreTierNames[static_cast<std::size_t>(t)];
}

std::optional<RestoreTier> ParseRestoreTier(std::string_view name) {
  for (std::size_t i = 0; i < kRestoreTierNames.size(); ++i) {
    if (kRestoreTierNames[i] == name) return static_cast<RestoreTier>(i);
  }
  return std::nullopt;
}

}  // namespace shoal::tiers
