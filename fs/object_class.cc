#include "fs/object_class.h"

namespace shoal::fs {

using store::Entry;
using tiers::AccessTier;
using tiers::RestoreState;
using tiers::StorageClass;

StorageClass ClassOf(const Entry& e) {
  return tiers::ParseStorageClass(e.storage_class).value_or(StorageClass::kStandard);
}

AccessTier TierOf(const Entry& e) {
  return static_cast<AccessTier>(e.access_tier);  // the decoder bounds it
}

RestoreState RestoreOf(const Entry& e) {
  RestoreState s;
  if (e.restore.phase == 0) return s;  // none: the canonical empty state
  s.phase = static_cast<RestoreState::Phase>(e.restore.phase);
  s.tier = static_cast<tiers::RestoreTier>(e.restore.tier);
  s.days = e.restore.days;
  s.requested = e.restore.requested;
  s.ready_at = e.restore.ready_at;
  s.expiry = e.restore.expiry;
  return s;
}

void SetRestore(Entry& e, const RestoreState& s) {
  e.restore.phase = static_cast<std::uint8_t>(s.phase);
  e.restore.tier = static_cast<std::uint8_t>(s.tier);
  e.restore.days = s.days;
  e.restore.requested = s.requested;
  e.restore.ready_at = s.ready_at;
  e.restore.expiry = s.expiry;
}

tiers::ArchiveKind ArchiveOf(const Entry& e) {
  return tiers::ArchiveKindFor(ClassOf(e), TierOf(e));
}

RestoreState RestoreAt(const Entry& e, TimeNs now) {
  return tiers::AdvanceRestore(RestoreOf(e), now);
}

bool NeedsRestore(const Entry& e, TimeNs now) {
  if (ArchiveOf(e) == tiers::ArchiveKind::kNotArchived) return false;
  return !tiers::HasRestoredCopy(RestoreAt(e, now), now);
}

tiers::Footprint FootprintOf(const Entry& e) {
  tiers::Footprint f;
  f.cls = ClassOf(e);
  f.tier = TierOf(e);
  f.size = e.size;
  f.physical = e.stored_bytes;
  // A restored Glacier copy lives until the due work expires it; an
  // Intelligent-Tiering restore moves the object instead of copying it.
  f.restored_copy = (f.cls == StorageClass::kGlacier || f.cls == StorageClass::kDeepArchive) &&
                    RestoreOf(e).phase == RestoreState::Phase::kDone;
  return f;
}

void EnterClass(Entry& e, StorageClass cls, TimeNs now) {
  e.storage_class = std::string(tiers::StorageClassName(cls));
  e.class_since = now;
  e.access_tier = static_cast<std::uint8_t>(AccessTier::kFrequent);
  e.last_access = now;
  e.restore = {};
}

std::string ClassLabel(const Entry& e) {
  std::string out = "(" + e.storage_class;
  if (ClassOf(e) == StorageClass::kIntelligentTiering) {
    out += ", ";
    out += tiers::AccessTierName(TierOf(e));
  }
  return out + ")";
}

}  // namespace shoal::fs
