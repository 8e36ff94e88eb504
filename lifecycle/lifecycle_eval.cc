#include "lifecycle/lifecycle_eval.h"

#include <algorithm>
#include <utility>

#include "tiers/restore.h"

namespace shoal::lifecycle {
namespace {

using tiers::StorageClass;

TimeNs DueAfterDays(TimeNs from, std::int64_t days) {
  return tiers::NextMidnightUtc(tiers::AddDays(from, days));
}

// A Date is a midnight; an object created on or after it waits for the next
// daily run (see the header).
TimeNs DueOnDate(TimeNs created, TimeNs date) {
  return std::max(date, tiers::NextMidnightUtc(created));
}

bool HasTag(const std::vector<Tag>* tags, const Tag& want) {
  return tags != nullptr && std::find(tags->begin(), tags->end(), want) != tags->end();
}

// The 128 KiB default minimum, or the rule's own size filter in its stead.
bool SizeAllows(const LifecycleConfiguration& c, const Rule& r, std::uint64_t size,
                StorageClass to) {
  if (r.filter.size_greater_than || r.filter.size_less_than) return true;  // Matches decided
  if (size >= kMinTransitionBytes) return true;
  return c.minimum_size == MinimumSizePolicy::kVariesByStorageClass &&
         (to == StorageClass::kGlacier || to == StorageClass::kDeepArchive);
}

// Same-day precedence, lower first: permanent deletion, transition,
// delete-marker creation.
int KindRank(ActionKind kind, bool versioned_bucket) {
  switch (kind) {
    case ActionKind::kNoncurrentExpire:
    case ActionKind::kRemoveExpiredDeleteMarker: return 0;
    case ActionKind::kExpire: return versioned_bucket ? 2 : 0;
    case ActionKind::kTransition:
    case ActionKind::kNoncurrentTransition: return 1;
  }
  return 2;
}

// Between same-day transitions: the archive classes, then
// INTELLIGENT_TIERING, then by price.
int ClassRank(StorageClass to) {
  switch (to) {
    case StorageClass::kDeepArchive: return 0;
    case StorageClass::kGlacier: return 1;
    case StorageClass::kIntelligentTiering: return 2;
    case StorageClass::kGlacierIr: return 3;
    case StorageClass::kOnezoneIa: return 4;
    case StorageClass::kStandardIa: return 5;
    case StorageClass::kStandard: return 6;
  }
  return 6;
}

// Keeps the preferred of the actions offered; on a full tie the first
// offered, i.e. the rule listed first.
class Chooser {
 public:
  explicit Chooser(bool versioned_bucket) : versioned_bucket_(versioned_bucket) {}

  void Offer(ActionKind kind, TimeNs due, StorageClass to, const std::string& rule_id) {
    if (best_ && !Better(kind, due, to)) return;
    best_ = Action{.kind = kind, .due = due, .to = to, .rule_id = rule_id};
  }
  std::optional<Action>& best() { return best_; }

 private:
  bool Better(ActionKind kind, TimeNs due, StorageClass to) const {
    if (due != best_->due) return due < best_->due;
    const int rank = KindRank(kind, versioned_bucket_);
    const int best_rank = KindRank(best_->kind, versioned_bucket_);
    if (rank != best_rank) return rank < best_rank;
    return rank == 1 && ClassRank(to) < ClassRank(best_->to);
  }

  bool versioned_bucket_;
  std::optional<Action> best_;
};

// NewerNoncurrentVersions: the action waits until that many newer
// noncurrent versions exist.
bool BeyondRetained(const std::optional<std::int32_t>& newer, const VersionFacts& v) {
  return !newer || v.newer_noncurrent >= *newer;
}

void OfferCurrent(const LifecycleConfiguration& c, const Rule& r, const VersionFacts& v,
                  Chooser* chooser) {
  if (r.expiration) {
    if (r.expiration->days) {
      chooser->Offer(ActionKind::kExpire, DueAfterDays(v.created, *r.expiration->days),
                     v.storage_class, r.id);
    } else if (r.expiration->date) {
      chooser->Offer(ActionKind::kExpire, DueOnDate(v.created, *r.expiration->date),
                     v.storage_class, r.id);
    }
  }
  for (const Transition& t : r.transitions) {
    if (!CanTransition(v.storage_class, t.storage_class) ||
        !SizeAllows(c, r, v.size, t.storage_class)) {
      continue;
    }
    const TimeNs due =
        t.days ? DueAfterDays(v.created, *t.days) : DueOnDate(v.created, t.date.value_or(0));
    chooser->Offer(ActionKind::kTransition, due, t.storage_class, r.id);
  }
}

void OfferDeleteMarker(const Rule& r, const VersionFacts& v, Chooser* chooser) {
  // "Amazon S3 doesn't take any action if there are one or more object
  // versions and the delete marker is the current version."
  if (v.has_noncurrent_versions || !r.expiration) return;
  if (r.expiration->days) {
    chooser->Offer(ActionKind::kRemoveExpiredDeleteMarker,
                   DueAfterDays(v.created, *r.expiration->days), v.storage_class, r.id);
  } else if (!r.expiration->date && r.expiration->expired_object_delete_marker) {
    chooser->Offer(ActionKind::kRemoveExpiredDeleteMarker, tiers::NextMidnightUtc(v.created),
                   v.storage_class, r.id);
  }
}

void OfferNoncurrent(const LifecycleConfiguration& c, const Rule& r, const VersionFacts& v,
                     Chooser* chooser) {
  if (r.noncurrent_expiration &&
      BeyondRetained(r.noncurrent_expiration->newer_noncurrent_versions, v)) {
    chooser->Offer(ActionKind::kNoncurrentExpire,
                   DueAfterDays(v.noncurrent_since, r.noncurrent_expiration->noncurrent_days),
                   v.storage_class, r.id);
  }
  if (v.is_delete_marker) return;
  for (const NoncurrentTransition& t : r.noncurrent_transitions) {
    if (!BeyondRetained(t.newer_noncurrent_versions, v) ||
        !CanTransition(v.storage_class, t.storage_class) ||
        !SizeAllows(c, r, v.size, t.storage_class)) {
      continue;
    }
    chooser->Offer(ActionKind::kNoncurrentTransition,
                   DueAfterDays(v.noncurrent_since, t.noncurrent_days), t.storage_class, r.id);
  }
}

}  // namespace

bool Matches(const Filter& f, const VersionFacts& v) {
  if (f.prefix && !v.key.starts_with(*f.prefix)) return false;
  for (const Tag& t : f.tags) {
    if (!HasTag(v.tags, t)) return false;
  }
  if (f.size_greater_than && !(v.size > *f.size_greater_than)) return false;
  if (f.size_less_than && !(v.size < *f.size_less_than)) return false;
  return true;
}

std::optional<Action> NextAction(const LifecycleConfiguration& c, const VersionFacts& v) {
  Chooser chooser(v.versioned_bucket);
  for (const Rule& r : c.rules) {
    if (!r.enabled || !Matches(r.filter, v)) continue;
    if (!v.is_current) {
      OfferNoncurrent(c, r, v, &chooser);
    } else if (v.is_delete_marker) {
      OfferDeleteMarker(r, v, &chooser);
    } else {
      OfferCurrent(c, r, v, &chooser);
    }
  }
  return std::move(chooser.best());
}

std::optional<std::string> ExpirationHeader(const LifecycleConfiguration& c,
                                            const VersionFacts& v) {
  if (!v.is_current || v.is_delete_marker) return std::nullopt;
  std::optional<TimeNs> best;
  const Rule* best_rule = nullptr;
  for (const Rule& r : c.rules) {
    if (!r.enabled || !r.expiration || !Matches(r.filter, v)) continue;
    std::optional<TimeNs> due;
    if (r.expiration->days) due = DueAfterDays(v.created, *r.expiration->days);
    if (r.expiration->date) due = DueOnDate(v.created, *r.expiration->date);
    if (due && (!best || *due < *best)) {
      best = due;
      best_rule = &r;
    }
  }
  if (!best) return std::nullopt;
  return "expiry-date=\"" + tiers::FormatHttpDate(*best) + "\", rule-id=\"" + best_rule->id + "\"";
}

std::optional<Deadline> AbortDeadline(const LifecycleConfiguration& c, std::string_view key,
                                      TimeNs initiated) {
  std::optional<Deadline> best;
  for (const Rule& r : c.rules) {
    if (!r.enabled || !r.abort_incomplete_multipart_days) continue;
    // An upload has no tags nor size yet; S3 refuses this action beside
    // such filters anyway.
    const Filter& f = r.filter;
    if (!f.tags.empty() || f.size_greater_than || f.size_less_than) continue;
    if (f.prefix && !key.starts_with(*f.prefix)) continue;
    const TimeNs at = DueAfterDays(initiated, *r.abort_incomplete_multipart_days);
    if (!best || at < best->at) best = Deadline{.at = at, .rule_id = r.id};
  }
  return best;
}

}  // namespace shoal::lifecycle
