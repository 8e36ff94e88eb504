#pragma once
// The storage-class view of an object's entry: conversions between the
// fields the entry stores and tiers' types, and what they imply at a time.
//
// Thread-safety: pure functions over values.

#include <cstdint>

#include "base/clock.h"
#include "store/entry.h"
#include "store/meta_store.h"
#include "tiers/billing.h"
#include "tiers/restore.h"
#include "tiers/storage_class.h"

namespace shoal::fs {

// The kinds of due work (store::DueItem::kind). Each handler reads the
// entry and does nothing if the work is no longer wanted.
enum class DueKind : std::uint8_t {
  kRestoreEvent = 1,      // a restore completes, or its restored copy expires
  kTierStep = 2,          // an Intelligent-Tiering object may move to a colder tier
  kLifecycle = 3,         // a lifecycle action on a current object (id: its entry)
  kVersionLifecycle = 4,  // a lifecycle action on a kept version (id: its record)
  kAbortUpload = 5,       // AbortIncompleteMultipartUpload of an open writer's staging
};

// The entry's class; a name this version does not know reads as STANDARD
// (never written: class names are validated before they are stored).
tiers::StorageClass ClassOf(const store::Entry& e);
tiers::AccessTier TierOf(const store::Entry& e);
tiers::RestoreState RestoreOf(const store::Entry& e);
void SetRestore(store::Entry& e, const tiers::RestoreState& s);
tiers::ArchiveKind ArchiveOf(const store::Entry& e);

// True when the content cannot be read without a restore at `now`: the
// object is archived and has no restored copy then. Judged by the time, not
// only the stored phase, so a read never waits for the due work to run.
bool NeedsRestore(const store::Entry& e, TimeNs now);
// The entry's restore as it stands at `now` (completions and expiries due
// by then applied).
tiers::RestoreState RestoreAt(const store::Entry& e, TimeNs now);

// What the object costs per unit time. A function of the entry's fields
// alone, so what was added to the meter can be removed again exactly.
tiers::Footprint FootprintOf(const store::Entry& e);

// The object starts afresh in class `cls` at `now`, as after a PUT or a
// copy: no restore, Intelligent-Tiering's Frequent tier, accessed now.
void EnterClass(store::Entry& e, tiers::StorageClass cls, TimeNs now);

// The entry's "x-amz-storage-class" view for errors: "(GLACIER)" or, for an
// Intelligent-Tiering archive tier, "(INTELLIGENT_TIERING, ARCHIVE_ACCESS)".
std::string ClassLabel(const store::Entry& e);

}  // namespace shoal::fs
