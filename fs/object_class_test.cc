#include "fs/object_class.h"

#include <catch2/catch.hpp>

namespace shoal::fs {
namespace {

using store::Entry;
using tiers::AccessTier;
using tiers::RestoreState;
using tiers::StorageClass;

Entry Object(StorageClass cls) {
  Entry e;
  e.kind = store::EntryKind::kFile;
  e.size = 300000;
  e.stored_bytes = 100000;
  EnterClass(e, cls, 1000);
  return e;
}

TEST_CASE("an object enters a class afresh", "[fs][classes]") {
  Entry e = Object(StorageClass::kGlacier);
  e.access_tier = static_cast<std::uint8_t>(AccessTier::kArchiveAccess);
  e.restore.phase = 1;
  EnterClass(e, StorageClass::kIntelligentTiering, 5000);
  CHECK(e.storage_class == "INTELLIGENT_TIERING");
  CHECK(ClassOf(e) == StorageClass::kIntelligentTiering);
  CHECK(e.class_since == 5000);
  CHECK(e.last_access == 5000);
  CHECK(TierOf(e) == AccessTier::kFrequent);
  CHECK(RestoreOf(e) == RestoreState{});
}

TEST_CASE("archived objects need a restore until it is done", "[fs][classes]") {
  CHECK_FALSE(NeedsRestore(Object(StorageClass::kStandard), 2000));
  CHECK_FALSE(NeedsRestore(Object(StorageClass::kGlacierIr), 2000));
  Entry glacier = Object(StorageClass::kGlacier);
  CHECK(NeedsRestore(glacier, 2000));
  CHECK(NeedsRestore(Object(StorageClass::kDeepArchive), 2000));
  RestoreState s;
  s.phase = RestoreState::Phase::kOngoing;
  s.days = 1;
  s.ready_at = 3000;
  SetRestore(glacier, s);
  CHECK(NeedsRestore(glacier, 2000));
  // Judged by the time: readable from ready_at even before the due work
  // records the completion, until the expiry it computes.
  CHECK_FALSE(NeedsRestore(glacier, 3000));
  const TimeNs expiry = tiers::CompleteRestore(s).expiry;
  CHECK_FALSE(NeedsRestore(glacier, expiry - 1));
  CHECK(NeedsRestore(glacier, expiry));
  SetRestore(glacier, tiers::CompleteRestore(s));
  CHECK_FALSE(NeedsRestore(glacier, 3000));
  CHECK(NeedsRestore(glacier, expiry));

  Entry it = Object(StorageClass::kIntelligentTiering);
  CHECK_FALSE(NeedsRestore(it, 2000));
  it.access_tier = static_cast<std::uint8_t>(AccessTier::kArchiveInstant);
  CHECK_FALSE(NeedsRestore(it, 2000));
  it.access_tier = static_cast<std::uint8_t>(AccessTier::kDeepArchiveAccess);
  CHECK(NeedsRestore(it, 2000));
  CHECK(ClassLabel(it) == "(INTELLIGENT_TIERING, DEEP_ARCHIVE_ACCESS)");
  CHECK(ClassLabel(glacier) == "(GLACIER)");
}

TEST_CASE("restore fields survive the round trip through the entry", "[fs][classes]") {
  RestoreState s;
  s.phase = RestoreState::Phase::kDone;
  s.tier = tiers::RestoreTier::kBulk;
  s.days = 7;
  s.requested = 1;
  s.ready_at = 2;
  s.expiry = 3;
  Entry e = Object(StorageClass::kDeepArchive);
  SetRestore(e, s);
  CHECK(RestoreOf(e) == s);
}

TEST_CASE("a footprint is a function of the entry; a Glacier restore adds a copy",
          "[fs][classes]") {
  Entry e = Object(StorageClass::kGlacier);
  tiers::Footprint f = FootprintOf(e);
  CHECK(f.cls == StorageClass::kGlacier);
  CHECK(f.size == 300000);
  CHECK(f.physical == 100000);
  CHECK_FALSE(f.restored_copy);
  RestoreState s;
  s.phase = RestoreState::Phase::kDone;
  SetRestore(e, s);
  CHECK(FootprintOf(e).restored_copy);
  // An Intelligent-Tiering restore moves the object; it makes no copy.
  Entry it = Object(StorageClass::kIntelligentTiering);
  SetRestore(it, s);
  CHECK_FALSE(FootprintOf(it).restored_copy);
  it.access_tier = static_cast<std::uint8_t>(AccessTier::kInfrequent);
  CHECK(FootprintOf(it).tier == AccessTier::kInfrequent);
}

TEST_CASE("an unknown stored class reads as STANDARD", "[fs][classes]") {
  Entry e = Object(StorageClass::kStandard);
  e.storage_class = "REDUCED_REDUNDANCY";
  CHECK(ClassOf(e) == StorageClass::kStandard);
}

}  // namespace
}  // namespace shoal::fs
