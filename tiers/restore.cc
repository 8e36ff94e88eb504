#include "tiers/restore.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace shoal::tiers {
namespace {

constexpr TimeNs kMaxTime = std::numeric_limits<TimeNs>::max();
constexpr TimeNs kMinTime = std::numeric_limits<TimeNs>::min();
// The last day whose midnight TimeNs can hold (2262-04-11).
constexpr TimeNs kLastDay = kMaxTime / kNsPerDay;

constexpr std::string_view kUsage = "expected Days=N[,Tier=Expedited|Standard|Bulk]";

TimeNs FloorDiv(TimeNs a, TimeNs b) {
  TimeNs q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

TimeNs SaturatingAdd(TimeNs a, TimeNs b) {
  TimeNs r = 0;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kMaxTime : kMinTime;
  return r;
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kSpace);
  return s.substr(first, last - first + 1);
}

std::optional<std::int32_t> ParseDays(std::string_view v) {
  if (v.empty() || v.size() > 10) return std::nullopt;
  std::int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > kMaxRestoreDays) return std::nullopt;
  return static_cast<std::int32_t>(n);
}

std::optional<RestoreTier> ParseTier(std::string_view v) {
  if (v == "Expedited") return RestoreTier::kExpedited;
  if (v == "Standard") return RestoreTier::kStandard;
  if (v == "Bulk") return RestoreTier::kBulk;
  return std::nullopt;
}

bool IsIntelligentTiering(ArchiveKind kind) {
  return kind == ArchiveKind::kItArchiveAccess || kind == ArchiveKind::kItDeepArchiveAccess;
}

std::string_view ArchiveName(ArchiveKind kind) {
  switch (kind) {
    case ArchiveKind::kGlacier: return "the GLACIER storage class";
    case ArchiveKind::kDeepArchive: return "the DEEP_ARCHIVE storage class";
    case ArchiveKind::kItArchiveAccess: return "the INTELLIGENT_TIERING Archive Access tier";
    case ArchiveKind::kItDeepArchiveAccess:
      return "the INTELLIGENT_TIERING Deep Archive Access tier";
    case ArchiveKind::kNotArchived: break;
  }
  return "an archive";
}

}  // namespace

ArchiveKind ArchiveKindFor(StorageClass cls, AccessTier tier) {
  switch (cls) {
    case StorageClass::kGlacier: return ArchiveKind::kGlacier;
    case StorageClass::kDeepArchive: return ArchiveKind::kDeepArchive;
    case StorageClass::kIntelligentTiering:
      if (tier == AccessTier::kArchiveAccess) return ArchiveKind::kItArchiveAccess;
      if (tier == AccessTier::kDeepArchiveAccess) return ArchiveKind::kItDeepArchiveAccess;
      return ArchiveKind::kNotArchived;
    default: return ArchiveKind::kNotArchived;
  }
}

Result<RestoreRequest> ParseRestoreRequest(std::string_view text) {
  const std::string_view all = Trim(text);
  if (all.empty()) {
    return InvalidArgument("Empty restore request: " + std::string(kUsage));
  }
  RestoreRequest req;
  bool have_days = false;
  bool have_tier = false;
  std::string_view rest = all;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view field = Trim(rest.substr(0, comma));
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("Invalid restore request " + QuoteForMessage(all) + ": " +
                             std::string(kUsage));
    }
    const std::string_view key = Trim(field.substr(0, eq));
    const std::string_view value = Trim(field.substr(eq + 1));
    if (key == "Days") {
      if (have_days)
        return InvalidArgument("Days is given twice in restore request " + QuoteForMessage(all));
      have_days = true;
      req.days = ParseDays(value);
      if (!req.days) {
        return InvalidArgument("Days must be an integer from 1 to 2147483647, not " +
                               QuoteForMessage(value));
      }
    } else if (key == "Tier") {
      if (have_tier)
        return InvalidArgument("Tier is given twice in restore request " + QuoteForMessage(all));
      have_tier = true;
      const auto tier = ParseTier(value);
      if (!tier) {
        return InvalidArgument("Invalid tier " + QuoteForMessage(value) +
                               ": Tier must be Expedited, Standard or Bulk");
      }
      req.tier = *tier;
    } else {
      return InvalidArgument("Unknown field " + QuoteForMessage(key) +
                             " in restore request: " + std::string(kUsage));
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return req;
}

std::optional<TimeNs> RestoreDuration(ArchiveKind kind, RestoreTier tier) {
  switch (kind) {
    case ArchiveKind::kGlacier:
    case ArchiveKind::kItArchiveAccess:
      switch (tier) {
        case RestoreTier::kExpedited: return 5 * kNsPerMinute;
        case RestoreTier::kStandard: return 5 * kNsPerHour;
        case RestoreTier::kBulk: return 12 * kNsPerHour;
      }
      return std::nullopt;
    case ArchiveKind::kDeepArchive:
    case ArchiveKind::kItDeepArchiveAccess:
      switch (tier) {
        case RestoreTier::kExpedited: return std::nullopt;
        case RestoreTier::kStandard: return 12 * kNsPerHour;
        case RestoreTier::kBulk: return 48 * kNsPerHour;
      }
      return std::nullopt;
    case ArchiveKind::kNotArchived: return std::nullopt;
  }
  return std::nullopt;
}

Result<RestoreState> RequestRestore(const RestoreState& current, ArchiveKind kind,
                                    const RestoreRequest& req, TimeNs now) {
  if (kind == ArchiveKind::kNotArchived) {
    return Status(Code::kRestoreNotAllowed,
                  "Restore is not allowed for the object's current storage class");
  }
  const bool it = IsIntelligentTiering(kind);
  if (it && req.days) {
    return InvalidArgument(
        "INTELLIGENT_TIERING objects are not subject to restore expiry. Do not specify Days when "
        "restoring this object");
  }
  if (!it && !req.days) {
    return InvalidArgument("Days is required to restore an object from " +
                           std::string(ArchiveName(kind)) + ": " + std::string(kUsage));
  }
  const std::optional<TimeNs> duration = RestoreDuration(kind, req.tier);
  if (!duration) {
    return InvalidArgument("Expedited retrievals are not available for objects in " +
                           std::string(ArchiveName(kind)));
  }
  const std::int32_t days = req.days.value_or(0);

  switch (current.phase) {
    case RestoreState::Phase::kOngoing: {
      // RestoreTier is ordered fastest first: only a strictly faster tier
      // is an upgrade.
      if (req.tier >= current.tier) {
        return Status(Code::kRestoreAlreadyInProgress, "Object restore is already in progress");
      }
      if (days != current.days) {
        return InvalidArgument(
            "A restore speed upgrade must not change Days: the restore in progress has Days=" +
            std::to_string(current.days));
      }
      RestoreState next = current;
      next.tier = req.tier;
      next.ready_at = std::min(current.ready_at, SaturatingAdd(now, *duration));
      return next;
    }
    case RestoreState::Phase::kDone:
      // A live temporary copy gets a new lifetime counted from now. An IT
      // object that is in an archive tier again, or a copy whose expiry has
      // passed but was not yet applied, starts over.
      if (!it && current.days > 0 && now < current.expiry) {
        RestoreState next = current;
        next.days = days;
        next.expiry = NextMidnightUtc(AddDays(now, days));
        return next;
      }
      break;
    case RestoreState::Phase::kNone: break;
  }
  RestoreState next;
  next.phase = RestoreState::Phase::kOngoing;
  next.tier = req.tier;
  next.days = days;
  next.requested = now;
  next.ready_at = SaturatingAdd(now, *duration);
  return next;
}

RestoreState CompleteRestore(const RestoreState& s) {
  RestoreState next = s;
  next.phase = RestoreState::Phase::kDone;
  next.expiry = s.days > 0 ? NextMidnightUtc(AddDays(s.ready_at, s.days)) : 0;
  return next;
}

RestoreState ExpireRestore(const RestoreState& /*s*/) {
  return RestoreState{};
}

std::optional<TimeNs> NextRestoreEvent(const RestoreState& s) {
  switch (s.phase) {
    case RestoreState::Phase::kOngoing: return s.ready_at;
    case RestoreState::Phase::kDone:
      if (s.days > 0) return s.expiry;
      return std::nullopt;
    case RestoreState::Phase::kNone: return std::nullopt;
  }
  return std::nullopt;
}

RestoreState AdvanceRestore(const RestoreState& s, TimeNs now) {
  RestoreState cur = s;
  if (cur.phase == RestoreState::Phase::kOngoing && cur.ready_at <= now) {
    cur = CompleteRestore(cur);
  }
  if (cur.phase == RestoreState::Phase::kDone && cur.days > 0 && cur.expiry <= now) {
    cur = ExpireRestore(cur);
  }
  return cur;
}

bool HasRestoredCopy(const RestoreState& s, TimeNs now) {
  return s.phase == RestoreState::Phase::kDone && (s.days == 0 || now < s.expiry);
}

TimeNs NextMidnightUtc(TimeNs t) {
  const TimeNs day = FloorDiv(t, kNsPerDay);
  if (day >= kLastDay) return kLastDay * kNsPerDay;
  return (day + 1) * kNsPerDay;
}

TimeNs AddDays(TimeNs t, std::int64_t days) {
  TimeNs delta = 0;
  if (__builtin_mul_overflow(days, kNsPerDay, &delta)) return days > 0 ? kMaxTime : kMinTime;
  return SaturatingAdd(t, delta);
}

std::string FormatHttpDate(TimeNs t) {
  static constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const TimeNs days = FloorDiv(t, kNsPerDay);
  TimeNs in_day = t % kNsPerDay;  // not t - days * kNsPerDay: that overflows near the ends
  if (in_day < 0) in_day += kNsPerDay;
  const TimeNs secs = in_day / kNsPerSecond;
  // 1970-01-01 was a Thursday.
  const TimeNs weekday = ((days % 7) + 7 + 4) % 7;
  // Civil date from days since the epoch (H. Hinnant's days_from_civil inverse).
  const TimeNs z = days + 719468;
  const TimeNs era = FloorDiv(z, 146097);
  const TimeNs doe = z - era * 146097;
  const TimeNs yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const TimeNs doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const TimeNs mp = (5 * doy + 2) / 153;
  const TimeNs day_of_month = doy - (153 * mp + 2) / 5 + 1;
  const TimeNs month = mp < 10 ? mp + 3 : mp - 9;
  const TimeNs year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02lld %s %04lld %02lld:%02lld:%02lld GMT",
                kWeekdays[weekday], static_cast<long long>(day_of_month), kMonths[month - 1],
                static_cast<long long>(year), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

std::string RestoreHeader(const RestoreState& s) {
  switch (s.phase) {
    case RestoreState::Phase::kOngoing: return "ongoing-request=\"true\"";
    case RestoreState::Phase::kDone:
      if (s.days == 0) return "ongoing-request=\"false\"";
      return "ongoing-request=\"false\", expiry-date=\"" + FormatHttpDate(s.expiry) + "\"";
    case RestoreState::Phase::kNone: return "";
  }
  return "";
}

std::string_view InventoryRestoreStatus(const RestoreState& s) {
  switch (s.phase) {
    case RestoreState::Phase::kOngoing: return "IN_PROGRESS";
    case RestoreState::Phase::kDone: return "RESTORED";
    case RestoreState::Phase::kNone: return "";
  }
  return "";
}

}  // namespace shoal::tiers
