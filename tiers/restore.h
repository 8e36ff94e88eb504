#pragma once
// Restores of archived objects (S3 RestoreObject) as a pure state machine:
// no I/O and no clock reads; every time is passed in as TimeNs (UTC).
//
// An object whose class is GLACIER or DEEP_ARCHIVE, or INTELLIGENT_TIERING in
// the Archive Access or Deep Archive Access tier, cannot be read until it is
// restored. Writing `Days=N[,Tier=...]` to the `user.s3.restore` xattr is the
// request (ParseRestoreRequest, then RequestRestore); the scheduler completes
// it at `ready_at` (CompleteRestore) and, for the Glacier classes, removes the
// restored copy at `expiry` (ExpireRestore). The xattr reads back as the
// `x-amz-restore` header (RestoreHeader).
//
// Restore durations. AWS documents ranges; shoal uses one fixed value inside
// each so that tests can predict them:
//
//   | storage class or tier                    | Expedited      | Standard      | Bulk           |
//   |------------------------------------------|----------------|---------------|----------------|
//   | GLACIER, IT Archive Access               | 5 min (1-5 min)| 5 h (3-5 h)   | 12 h (5-12 h)  |
//   | DEEP_ARCHIVE, IT Deep Archive Access     | not available  | 12 h (<=12 h) | 48 h (<=48 h)  |
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "tiers/storage_class.h"

namespace shoal::tiers {

inline constexpr TimeNs kNsPerSecond = 1'000'000'000;
inline constexpr TimeNs kNsPerMinute = 60 * kNsPerSecond;
inline constexpr TimeNs kNsPerHour = 60 * kNsPerMinute;
inline constexpr TimeNs kNsPerDay = 24 * kNsPerHour;

// The largest Days S3 accepts (xs:int).
inline constexpr std::int32_t kMaxRestoreDays = 2147483647;

// What kind of archive an object is in, as far as restores care.
enum class ArchiveKind : std::uint8_t {
  kNotArchived,          // readable now: RestoreObject is refused
  kGlacier,              // GLACIER (Flexible Retrieval): temporary copy for Days
  kDeepArchive,          // DEEP_ARCHIVE: temporary copy for Days, no Expedited
  kItArchiveAccess,      // INTELLIGENT_TIERING, Archive Access tier: back to Frequent
  kItDeepArchiveAccess,  // INTELLIGENT_TIERING, Deep Archive Access tier: no Expedited
};

// The archive kind of an object of class `cls`; `tier` matters only for
// INTELLIGENT_TIERING.
ArchiveKind ArchiveKindFor(StorageClass cls, AccessTier tier);

// A parsed `user.s3.restore` write.
struct RestoreRequest {
  // Absent only for Intelligent-Tiering archive tiers, which take no Days.
  std::optional<std::int32_t> days;
  RestoreTier tier = RestoreTier::kStandard;

  bool operator==(const RestoreRequest&) const = default;
};

// Parses `Days=N[,Tier=Expedited|Standard|Bulk]`: comma-separated fields in
// any order, each at most once, surrounding whitespace (a trailing newline
// from `echo`) ignored; Tier defaults to Standard; Days is 1..2147483647 and
// may be left out (RequestRestore then decides whether that is allowed). Any
// other text, an unknown or repeated field, an empty value: InvalidArgument.
Result<RestoreRequest> ParseRestoreRequest(std::string_view text);

struct RestoreState {
  enum class Phase : std::uint8_t {
    kNone,     // no restore requested, or the restored copy has expired
    kOngoing,  // requested; the copy becomes readable at ready_at
    kDone,     // restored; readable until expiry (0: until re-archived)
  };
  Phase phase = Phase::kNone;
  RestoreTier tier = RestoreTier::kStandard;  // the tier the restore runs (ran) at
  // Days of the request; 0 for Intelligent-Tiering restores, which have no
  // expiry. `expiry` means something only when phase is kDone and days > 0.
  std::int32_t days = 0;
  TimeNs requested = 0;  // when the restore was first requested
  TimeNs ready_at = 0;   // when it completes (completed)
  TimeNs expiry = 0;     // when the restored copy goes; 0 while ongoing or for IT

  bool operator==(const RestoreState&) const = default;
};

// The time RestoreObject takes for `kind` at `tier`, or nullopt when S3 does
// not offer that tier there (Expedited from the deep archives) or the object
// is not archived.
std::optional<TimeNs> RestoreDuration(ArchiveKind kind, RestoreTier tier);

// Applies a RestoreObject request at `now` to an object in archive `kind`
// whose restore state is `current`. On success returns the new state:
//  - no restore (or an expired or stale one): a new restore, kOngoing, ready
//    at now + RestoreDuration;
//  - ongoing, with a faster tier: a restore speed upgrade; the tier becomes
//    the faster one and ready_at min(ready_at, now + faster duration). Days
//    must not change (AWS: "You must not change any other parameters");
//  - done (GLACIER / DEEP_ARCHIVE copy not yet expired): the copy's lifetime
//    is reset from now: expiry = NextMidnightUtc(now + Days). A shorter Days
//    shortens it, as in AWS's example.
// Errors, checked in this order:
//  - kNotArchived: kRestoreNotAllowed (S3: InvalidObjectState, "Restore is
//    not allowed for the object's current storage class");
//  - Days given for an Intelligent-Tiering tier: InvalidArgument (S3's
//    message); Days missing for GLACIER / DEEP_ARCHIVE: InvalidArgument (S3
//    answers MalformedXML to a RestoreRequest without Days);
//  - Expedited from DEEP_ARCHIVE or the Deep Archive Access tier:
//    InvalidArgument;
//  - ongoing with the same or a slower tier: kRestoreAlreadyInProgress
//    ("Object restore is already in progress"); an upgrade that changes
//    Days: InvalidArgument.
Result<RestoreState> RequestRestore(const RestoreState& current, ArchiveKind kind,
                                    const RestoreRequest& req, TimeNs now);

// The restore finishing at its ready_at. The temporary copy of a GLACIER /
// DEEP_ARCHIVE object lasts until NextMidnightUtc(ready_at + days): AWS adds
// Days to the time the restore completes and rounds up to the next midnight
// UTC. (The user guide words it as "the time you request"; counting from the
// completion keeps a 48-hour Bulk restore with Days=1 from expiring before it
// is readable, and both readings give the guide's examples.) An
// Intelligent-Tiering restore (days == 0) gets no expiry: the caller moves
// the object to the Frequent tier.
// REQUIRES: s.phase == kOngoing.
RestoreState CompleteRestore(const RestoreState& s);

// The restored copy removed at its expiry: back to kNone.
// REQUIRES: s.phase == kDone.
RestoreState ExpireRestore(const RestoreState& s);

// When `s` next changes by itself: ready_at while ongoing, expiry while done
// with an expiry; nullopt otherwise. For the due-time table.
std::optional<TimeNs> NextRestoreEvent(const RestoreState& s);

// `s` with every completion and expiry due at or before `now` applied.
RestoreState AdvanceRestore(const RestoreState& s, TimeNs now);

// True while a restored copy is readable at `now`: done, and before expiry
// (expiry is the instant the copy goes; IT restores never expire here).
bool HasRestoredCopy(const RestoreState& s, TimeNs now);

// The first midnight UTC strictly after `t`: rounding "to the next day at
// midnight" never stays on the same instant, so a time that is already
// midnight moves a whole day (as S3-compatible servers that mimic AWS do).
// Times past the last midnight TimeNs can hold (2262-04-11) saturate there.
TimeNs NextMidnightUtc(TimeNs t);

// `t` plus `days` whole days, saturating at the ends of TimeNs.
TimeNs AddDays(TimeNs t, std::int64_t days);

// RFC 7231 IMF-fixdate, as S3 writes HTTP dates: "Fri, 21 Dec 2012 00:00:00 GMT".
std::string FormatHttpDate(TimeNs t);

// The x-amz-restore header value: `ongoing-request="true"` while ongoing;
// `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"` when
// done (just `ongoing-request="false"` without an expiry); "" for kNone.
std::string RestoreHeader(const RestoreState& s);

// The ObjectRestoreStatus column of inventory.csv: "IN_PROGRESS" while
// ongoing, "RESTORED" while a restored copy exists, "" otherwise. (S3
// Inventory has no such field; these values are shoal's, after
// IsRestoreInProgress of S3's RestoreStatus.)
std::string_view InventoryRestoreStatus(const RestoreState& s);

}  // namespace shoal::tiers
