#include "tiers/storage_class.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "crypto/root_key.h"

namespace shoal::tiers {
namespace {

constexpr std::uint64_t kKiB = 1024;

const std::vector<StorageClass> kAll{StorageClass::kStandard,   StorageClass::kStandardIa,
                                     StorageClass::kOnezoneIa,  StorageClass::kIntelligentTiering,
                                     StorageClass::kGlacierIr,  StorageClass::kGlacier,
                                     StorageClass::kDeepArchive};

TEST_CASE("the class table lists the seven S3 classes in enumerator order under S3's names",
          "[tiers][storage_class]") {
  const std::vector<std::string> names{
      "STANDARD",   "STANDARD_IA", "ONEZONE_IA",  "INTELLIGENT_TIERING",
      "GLACIER_IR", "GLACIER",     "DEEP_ARCHIVE"};
  REQUIRE(AllClasses().size() == kStorageClassCount);
  REQUIRE(kAll.size() == kStorageClassCount);
  for (std::size_t i = 0; i < kAll.size(); ++i) {
    CHECK(AllClasses()[i].id == kAll[i]);
    CHECK(&InfoOf(kAll[i]) == &AllClasses()[i]);
    CHECK(InfoOf(kAll[i]).name == names[i]);
    CHECK(StorageClassName(kAll[i]) == names[i]);
  }
}

TEST_CASE("storage class names parse exactly and case-sensitively, as S3 compares them",
          "[tiers][storage_class]") {
  for (const ClassInfo& info : AllClasses()) {
    auto parsed = ParseStorageClass(info.name);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == info.id);
  }
  CHECK_FALSE(ParseStorageClass("standard").has_value());
  CHECK_FALSE(ParseStorageClass("Standard").has_value());
  CHECK_FALSE(ParseStorageClass("STANDARD ").has_value());
  CHECK_FALSE(ParseStorageClass(" GLACIER").has_value());
  CHECK_FALSE(ParseStorageClass("").has_value());
  CHECK_FALSE(ParseStorageClass("REDUCED_REDUNDANCY").has_value());
  CHECK_FALSE(ParseStorageClass("EXPRESS_ONEZONE").has_value());
  CHECK_FALSE(ParseStorageClass(std::string_view("GLACIER\0", 8)).has_value());
}

TEST_CASE("minimum storage durations are 0, 30, 30, 0, 90, 90 and 180 days",
          "[tiers][storage_class]") {
  CHECK(InfoOf(StorageClass::kStandard).min_storage_days == 0);
  CHECK(InfoOf(StorageClass::kStandardIa).min_storage_days == 30);
  CHECK(InfoOf(StorageClass::kOnezoneIa).min_storage_days == 30);
  CHECK(InfoOf(StorageClass::kIntelligentTiering).min_storage_days == 0);
  CHECK(InfoOf(StorageClass::kGlacierIr).min_storage_days == 90);
  CHECK(InfoOf(StorageClass::kGlacier).min_storage_days == 90);
  CHECK(InfoOf(StorageClass::kDeepArchive).min_storage_days == 180);
}

TEST_CASE("the infrequent-access classes bill at least 128 KiB per object",
          "[tiers][storage_class]") {
  CHECK(InfoOf(StorageClass::kStandard).min_billable_bytes == 0);
  CHECK(InfoOf(StorageClass::kStandardIa).min_billable_bytes == 128 * kKiB);
  CHECK(InfoOf(StorageClass::kOnezoneIa).min_billable_bytes == 128 * kKiB);
  CHECK(InfoOf(StorageClass::kIntelligentTiering).min_billable_bytes == 0);
  CHECK(InfoOf(StorageClass::kGlacierIr).min_billable_bytes == 128 * kKiB);
  CHECK(InfoOf(StorageClass::kGlacier).min_billable_bytes == 0);
  CHECK(InfoOf(StorageClass::kDeepArchive).min_billable_bytes == 0);
  CHECK(kIntelligentTieringMinBytes == 128 * kKiB);
}

TEST_CASE("archived objects carry 32 KiB at the class's rate and 8 KiB at STANDARD's",
          "[tiers][storage_class]") {
  for (const ClassInfo& info : AllClasses()) {
    const bool archive = info.id == StorageClass::kGlacier || info.id == StorageClass::kDeepArchive;
    CAPTURE(info.name);
    CHECK(info.overhead_class_bytes == (archive ? 32 * kKiB : 0));
    CHECK(info.overhead_standard_bytes == (archive ? 8 * kKiB : 0));
  }
  CHECK(kIntelligentTieringArchiveOverheadBytes == 8 * kKiB);
}

TEST_CASE("only GLACIER and DEEP_ARCHIVE need a restore, and only GLACIER offers Expedited",
          "[tiers][storage_class]") {
  for (const ClassInfo& info : AllClasses()) {
    CAPTURE(info.name);
    CHECK(info.needs_restore ==
          (info.id == StorageClass::kGlacier || info.id == StorageClass::kDeepArchive));
    CHECK(info.expedited_restore == (info.id == StorageClass::kGlacier));
  }
}

TEST_CASE("reads pay a retrieval fee in STANDARD_IA, ONEZONE_IA and GLACIER_IR only",
          "[tiers][storage_class]") {
  for (const ClassInfo& info : AllClasses()) {
    CAPTURE(info.name);
    CHECK(info.retrieval_fee ==
          (info.id == StorageClass::kStandardIa || info.id == StorageClass::kOnezoneIa ||
           info.id == StorageClass::kGlacierIr));
  }
}

TEST_CASE("ONEZONE_IA lives in one availability zone, every other class in at least three",
          "[tiers][storage_class]") {
  for (const ClassInfo& info : AllClasses()) {
    CAPTURE(info.name);
    if (info.id == StorageClass::kOnezoneIa) {
      CHECK(info.availability_zones == 1);
    } else {
      CHECK(info.availability_zones >= 3);
    }
  }
}

TEST_CASE("colder classes compress harder; STANDARD keeps the fast default encoding",
          "[tiers][storage_class]") {
  const EncodeOptions standard = InfoOf(StorageClass::kStandard).encoding;
  const EncodeOptions defaults;
  CHECK(standard.zstd_level == defaults.zstd_level);
  CHECK(standard.chunk_size == defaults.chunk_size);
  CHECK(standard.zstd_level == 1);
  CHECK(standard.chunk_size == 64 * kKiB);

  // Intelligent-Tiering moves objects on its own, so it stays hot.
  const EncodeOptions it = InfoOf(StorageClass::kIntelligentTiering).encoding;
  CHECK(it.zstd_level == standard.zstd_level);
  CHECK(it.chunk_size == standard.chunk_size);

  CHECK(InfoOf(StorageClass::kStandardIa).encoding.zstd_level ==
        InfoOf(StorageClass::kOnezoneIa).encoding.zstd_level);
  const std::vector<StorageClass> hot_to_cold{StorageClass::kStandard, StorageClass::kStandardIa,
                                              StorageClass::kGlacierIr, StorageClass::kGlacier,
                                              StorageClass::kDeepArchive};
  for (std::size_t i = 1; i < hot_to_cold.size(); ++i) {
    const EncodeOptions& warmer = InfoOf(hot_to_cold[i - 1]).encoding;
    const EncodeOptions& colder = InfoOf(hot_to_cold[i]).encoding;
    CAPTURE(StorageClassName(hot_to_cold[i]));
    CHECK(colder.zstd_level > warmer.zstd_level);
    CHECK(colder.chunk_size >= warmer.chunk_size);
  }
  // Readers refuse chunks above 64 MiB; the archive tiers stay far below.
  const EncodeOptions deep = InfoOf(StorageClass::kDeepArchive).encoding;
  CHECK(deep.chunk_size > InfoOf(StorageClass::kGlacier).encoding.chunk_size);
  CHECK(deep.chunk_size <= 64 * kKiB * kKiB);
}

TEST_CASE("access tiers carry S3 Inventory's names and parse back", "[tiers][storage_class]") {
  const std::vector<std::pair<AccessTier, std::string>> tiers{
      {AccessTier::kFrequent, "FREQUENT"},
      {AccessTier::kInfrequent, "INFREQUENT"},
      {AccessTier::kArchiveInstant, "ARCHIVE_INSTANT_ACCESS"},
      {AccessTier::kArchiveAccess, "ARCHIVE_ACCESS"},
      {AccessTier::kDeepArchiveAccess, "DEEP_ARCHIVE_ACCESS"}};
  REQUIRE(tiers.size() == kAccessTierCount);
  for (const auto& [tier, name] : tiers) {
    CHECK(AccessTierName(tier) == name);
    auto parsed = ParseAccessTier(name);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == tier);
  }
  CHECK_FALSE(ParseAccessTier("frequent").has_value());
  CHECK_FALSE(ParseAccessTier("ARCHIVE_INSTANT").has_value());
  CHECK_FALSE(AccessTierNeedsRestore(AccessTier::kFrequent));
  CHECK_FALSE(AccessTierNeedsRestore(AccessTier::kInfrequent));
  CHECK_FALSE(AccessTierNeedsRestore(AccessTier::kArchiveInstant));
  CHECK(AccessTierNeedsRestore(AccessTier::kArchiveAccess));
  CHECK(AccessTierNeedsRestore(AccessTier::kDeepArchiveAccess));
}

TEST_CASE("restore tiers are spelt as RestoreObject spells them", "[tiers][storage_class]") {
  CHECK(RestoreTierName(RestoreTier::kExpedited) == "Expedited");
  CHECK(RestoreTierName(RestoreTier::kStandard) == "Standard");
  CHECK(RestoreTierName(RestoreTier::kBulk) == "Bulk");
  CHECK(ParseRestoreTier("Expedited") == RestoreTier::kExpedited);
  CHECK(ParseRestoreTier("Standard") == RestoreTier::kStandard);
  CHECK(ParseRestoreTier("Bulk") == RestoreTier::kBulk);
  CHECK_FALSE(ParseRestoreTier("bulk").has_value());
  CHECK_FALSE(ParseRestoreTier("STANDARD").has_value());
}

// Text with repeats near and far (compressible) mixed with noise, so every
// level has something to find.
std::string TestData(std::size_t n) {
  std::mt19937 rng(42);
  std::string out;
  out.reserve(n);
  const std::string line = "2026-11-26T13:30:00Z,sensor-17,temperature,21.5,ok\n";
  while (out.size() < n) {
    if (rng() % 4 == 0) {
      for (int i = 0; i < 64; ++i) out.push_back(static_cast<char>(rng() & 0xff));
    } else {
      out += line;
      out += std::to_string(rng() % 1000);
    }
  }
  out.resize(n);
  return out;
}

class BlobDir {
 public:
  BlobDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shoal-class-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    REQUIRE(made != nullptr);
    path_ = made;
    crypto::Key key;
    key.bytes.fill(3);
    root_ = crypto::RootKey::FromKey(key);
    auto s = BlobStore::Open(path_ + "/blobs", *root_);
    REQUIRE(s.ok());
    store_ = std::move(*s);
  }
  ~BlobDir() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  BlobDir(const BlobDir&) = delete;
  BlobDir& operator=(const BlobDir&) = delete;
  BlobStore& store() { return *store_; }

 private:
  std::string path_;
  std::unique_ptr<crypto::RootKey> root_;
  std::unique_ptr<BlobStore> store_;
};

TEST_CASE("every class's encoding writes blobs that read back, whatever the reader knows",
          "[tiers][storage_class]") {
  BlobDir dir;
  // Several chunks even at DEEP_ARCHIVE's chunk size, plus a partial one.
  const std::string data = TestData(std::size_t{9} << 20);
  for (const ClassInfo& info : AllClasses()) {
    CAPTURE(info.name);
    auto writer = dir.store().NewWriter(info.encoding);
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Append(data).ok());
    auto blob = (*writer)->Finish();
    REQUIRE(blob.ok());
    CHECK(blob->stored_bytes < data.size());
    auto reader = dir.store().OpenReader(blob->id, &blob->key, nullptr);
    REQUIRE(reader.ok());
    std::string back(data.size(), '\0');
    auto n = (*reader)->Read(0, back.data(), back.size());
    REQUIRE(n.ok());
    CHECK(*n == data.size());
    CHECK(back == data);
    // A read in the middle decodes only the chunk it touches.
    std::string middle(100, '\0');
    n = (*reader)->Read(5000000, middle.data(), middle.size());
    REQUIRE(n.ok());
    CHECK(middle == data.substr(5000000, 100));
  }
}

TEST_CASE("encodes of different tiers on one thread do not affect each other",
          "[tiers][storage_class]") {
  BlobDir dir;
  // One chunk each, so every encode runs on this thread's zstd context.
  const std::string data = TestData(std::size_t{60} * 1024);
  auto stored = [&](const EncodeOptions& options) {
    auto writer = dir.store().NewInlineWriter(options);
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Append(data).ok());
    auto blob = (*writer)->Finish();
    REQUIRE(blob.ok());
    return blob->stored_bytes;
  };
  const EncodeOptions standard = InfoOf(StorageClass::kStandard).encoding;
  const std::uint64_t before = stored(standard);
  CHECK(stored(InfoOf(StorageClass::kDeepArchive).encoding) < before);
  CHECK(stored(standard) == before);
}

}  // namespace
}  // namespace shoal::tiers
