#include "tiers/restore.h"

#include <time.h>

#include <catch2/catch.hpp>
#include <limits>
#include <random>
#include <string>

#include "base/clock.h"

namespace shoal::tiers {
namespace {

using Phase = RestoreState::Phase;

// "2026-11-26T13:30:00Z" -> TimeNs, through the C library (independent of
// the code under test).
TimeNs T(const std::string& iso) {
  std::tm tm{};
  REQUIRE(strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
  return static_cast<TimeNs>(timegm(&tm)) * kNsPerSecond;
}

std::string Iso(TimeNs t) {
  return FormatIso8601(t);
}

RestoreRequest Req(std::optional<std::int32_t> days, RestoreTier tier) {
  RestoreRequest r;
  r.days = days;
  r.tier = tier;
  return r;
}

RestoreState Ongoing(ArchiveKind kind, std::optional<std::int32_t> days, RestoreTier tier,
                     TimeNs now) {
  Result<RestoreState> r = RequestRestore(RestoreState{}, kind, Req(days, tier), now);
  REQUIRE(r.ok());
  REQUIRE(r->phase == Phase::kOngoing);
  return *r;
}

void RequireError(const Result<RestoreState>& r, Code code, const std::string& message) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == code);
  CHECK(r.status().message() == message);
}

TEST_CASE("restore requests parse as Days=N[,Tier=...] in either order", "[tiers][restore]") {
  auto parse = [](std::string_view text) {
    Result<RestoreRequest> r = ParseRestoreRequest(text);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(parse("Days=2") == Req(2, RestoreTier::kStandard));
  CHECK(parse("Days=2,Tier=Expedited") == Req(2, RestoreTier::kExpedited));
  CHECK(parse("Tier=Bulk,Days=7") == Req(7, RestoreTier::kBulk));
  CHECK(parse("Tier=Standard") == Req(std::nullopt, RestoreTier::kStandard));
  CHECK(parse(" Days = 3 , Tier = Bulk \n") == Req(3, RestoreTier::kBulk));
  CHECK(parse("Days=1") == Req(1, RestoreTier::kStandard));
  CHECK(parse("Days=2147483647") == Req(2147483647, RestoreTier::kStandard));
  CHECK(parse("Days=007") == Req(7, RestoreTier::kStandard));
}

TEST_CASE("malformed restore requests are InvalidArgument with a reason", "[tiers][restore]") {
  auto fails = [](std::string_view text, std::string_view reason) {
    Result<RestoreRequest> r = ParseRestoreRequest(text);
    INFO("input: " << std::string(text));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find(reason) != std::string::npos);
  };
  fails("", "Empty restore request: expected Days=N[,Tier=Expedited|Standard|Bulk]");
  fails(" \n", "Empty restore request");
  fails("Days", "Invalid restore request \"Days\": expected Days=N");
  fails("2", "Invalid restore request");
  fails("Days=1,", "Invalid restore request");
  fails(",Days=1", "Invalid restore request");
  fails("Days=0", "Days must be an integer from 1 to 2147483647, not \"0\"");
  fails("Days=-1", "Days must be an integer from 1 to 2147483647, not \"-1\"");
  fails("Days=+1", "Days must be an integer");
  fails("Days=2147483648", "Days must be an integer");
  fails("Days=99999999999999999999", "Days must be an integer");
  fails("Days=", "Days must be an integer from 1 to 2147483647, not \"\"");
  fails("Days=1.5", "Days must be an integer");
  fails("Days=two", "Days must be an integer");
  fails("Days=1,Tier=Fast", "Invalid tier \"Fast\": Tier must be Expedited, Standard or Bulk");
  fails("Days=1,Tier=expedited", "Invalid tier \"expedited\"");
  fails("Days=1,Tier=", "Invalid tier \"\"");
  fails("Days=1,Days=2", "Days is given twice in restore request \"Days=1,Days=2\"");
  fails("Tier=Bulk,Days=1,Tier=Bulk", "Tier is given twice");
  fails("Days=1,Color=red", "Unknown field \"Color\" in restore request");
  fails("days=1", "Unknown field \"days\"");
  // Control characters never reach the one-line error log.
  Result<RestoreRequest> r = ParseRestoreRequest("Days=1,Tier=\x01\n\x7f");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find('\n') == std::string::npos);
  CHECK(r.status().message().find('\x01') == std::string::npos);
}

TEST_CASE("archive kinds follow class and Intelligent-Tiering tier", "[tiers][restore]") {
  CHECK(ArchiveKindFor(StorageClass::kGlacier, AccessTier::kFrequent) == ArchiveKind::kGlacier);
  CHECK(ArchiveKindFor(StorageClass::kDeepArchive, AccessTier::kFrequent) ==
        ArchiveKind::kDeepArchive);
  CHECK(ArchiveKindFor(StorageClass::kIntelligentTiering, AccessTier::kArchiveAccess) ==
        ArchiveKind::kItArchiveAccess);
  CHECK(ArchiveKindFor(StorageClass::kIntelligentTiering, AccessTier::kDeepArchiveAccess) ==
        ArchiveKind::kItDeepArchiveAccess);
  for (AccessTier t :
       {AccessTier::kFrequent, AccessTier::kInfrequent, AccessTier::kArchiveInstant}) {
    CHECK(ArchiveKindFor(StorageClass::kIntelligentTiering, t) == ArchiveKind::kNotArchived);
  }
  for (StorageClass c : {StorageClass::kStandard, StorageClass::kStandardIa,
                         StorageClass::kOnezoneIa, StorageClass::kGlacierIr}) {
    CHECK(ArchiveKindFor(c, AccessTier::kArchiveAccess) == ArchiveKind::kNotArchived);
  }
}

TEST_CASE("restore durations are fixed points inside AWS's ranges", "[tiers][restore]") {
  for (ArchiveKind k : {ArchiveKind::kGlacier, ArchiveKind::kItArchiveAccess}) {
    CHECK(RestoreDuration(k, RestoreTier::kExpedited) == 5 * kNsPerMinute);
    CHECK(RestoreDuration(k, RestoreTier::kStandard) == 5 * kNsPerHour);
    CHECK(RestoreDuration(k, RestoreTier::kBulk) == 12 * kNsPerHour);
  }
  for (ArchiveKind k : {ArchiveKind::kDeepArchive, ArchiveKind::kItDeepArchiveAccess}) {
    CHECK_FALSE(RestoreDuration(k, RestoreTier::kExpedited));
    CHECK(RestoreDuration(k, RestoreTier::kStandard) == 12 * kNsPerHour);
    CHECK(RestoreDuration(k, RestoreTier::kBulk) == 48 * kNsPerHour);
  }
  CHECK_FALSE(RestoreDuration(ArchiveKind::kNotArchived, RestoreTier::kStandard));
}

TEST_CASE("a GLACIER Expedited restore is ready in 5 minutes and lasts to midnight after Days",
          "[tiers][restore]") {
  const TimeNs now = T("2026-11-26T13:30:00Z");
  RestoreState s = Ongoing(ArchiveKind::kGlacier, 2, RestoreTier::kExpedited, now);
  CHECK(s.tier == RestoreTier::kExpedited);
  CHECK(s.days == 2);
  CHECK(s.requested == now);
  CHECK(Iso(s.ready_at) == "2026-11-26T13:35:00Z");
  CHECK(s.expiry == 0);
  CHECK(RestoreHeader(s) == "ongoing-request=\"true\"");
  CHECK(InventoryRestoreStatus(s) == "IN_PROGRESS");
  CHECK(NextRestoreEvent(s) == s.ready_at);
  CHECK_FALSE(HasRestoredCopy(s, s.ready_at - 1));

  s = CompleteRestore(s);
  CHECK(s.phase == Phase::kDone);
  CHECK(Iso(s.expiry) == "2026-11-29T00:00:00Z");
  CHECK(RestoreHeader(s) ==
        "ongoing-request=\"false\", expiry-date=\"Sun, 29 Nov 2026 00:00:00 GMT\"");
  CHECK(InventoryRestoreStatus(s) == "RESTORED");
  CHECK(NextRestoreEvent(s) == s.expiry);
  CHECK(HasRestoredCopy(s, s.ready_at));
  CHECK(HasRestoredCopy(s, s.expiry - 1));
  CHECK_FALSE(HasRestoredCopy(s, s.expiry));

  s = ExpireRestore(s);
  CHECK(s == RestoreState{});
  CHECK(RestoreHeader(s).empty());
  CHECK(InventoryRestoreStatus(s).empty());
  CHECK_FALSE(NextRestoreEvent(s));
}

TEST_CASE("each archive and tier completes after its own duration", "[tiers][restore]") {
  const TimeNs now = T("2026-11-26T13:30:00Z");
  struct Case {
    ArchiveKind kind;
    RestoreTier tier;
    const char* ready;
    const char* expiry;  // Days=1
  };
  const Case cases[] = {
      {ArchiveKind::kGlacier, RestoreTier::kStandard, "2026-11-26T18:30:00Z",
       "2026-11-28T00:00:00Z"},
      {ArchiveKind::kGlacier, RestoreTier::kBulk, "2026-11-27T01:30:00Z", "2026-11-29T00:00:00Z"},
      {ArchiveKind::kDeepArchive, RestoreTier::kStandard, "2026-11-27T01:30:00Z",
       "2026-11-29T00:00:00Z"},
      // 48 hours: a count from the request time would expire on the 28th,
      // before the copy is ready.
      {ArchiveKind::kDeepArchive, RestoreTier::kBulk, "2026-11-28T13:30:00Z",
       "2026-11-30T00:00:00Z"},
  };
  for (const Case& c : cases) {
    RestoreState s = Ongoing(c.kind, 1, c.tier, now);
    CHECK(Iso(s.ready_at) == c.ready);
    CHECK(Iso(CompleteRestore(s).expiry) == c.expiry);
  }
}

TEST_CASE("restores of objects that are not archived are refused", "[tiers][restore]") {
  RequireError(RequestRestore(RestoreState{}, ArchiveKind::kNotArchived,
                              Req(1, RestoreTier::kStandard), T("2026-11-26T13:30:00Z")),
               Code::kRestoreNotAllowed,
               "Restore is not allowed for the object's current storage class");
  // Whatever the request says.
  RequireError(RequestRestore(RestoreState{}, ArchiveKind::kNotArchived,
                              Req(std::nullopt, RestoreTier::kExpedited), 0),
               Code::kRestoreNotAllowed,
               "Restore is not allowed for the object's current storage class");
}

TEST_CASE("Days is required for GLACIER and DEEP_ARCHIVE", "[tiers][restore]") {
  RequireError(RequestRestore(RestoreState{}, ArchiveKind::kGlacier,
                              Req(std::nullopt, RestoreTier::kStandard), 0),
               Code::kInvalidArgument,
               "Days is required to restore an object from the GLACIER storage class: expected "
               "Days=N[,Tier=Expedited|Standard|Bulk]");
  RequireError(RequestRestore(RestoreState{}, ArchiveKind::kDeepArchive,
                              Req(std::nullopt, RestoreTier::kBulk), 0),
               Code::kInvalidArgument,
               "Days is required to restore an object from the DEEP_ARCHIVE storage class: "
               "expected Days=N[,Tier=Expedited|Standard|Bulk]");
}

TEST_CASE("Expedited is not offered from the deep archives", "[tiers][restore]") {
  RequireError(
      RequestRestore(RestoreState{}, ArchiveKind::kDeepArchive, Req(1, RestoreTier::kExpedited), 0),
      Code::kInvalidArgument,
      "Expedited retrievals are not available for objects in the DEEP_ARCHIVE storage "
      "class");
  RequireError(RequestRestore(RestoreState{}, ArchiveKind::kItDeepArchiveAccess,
                              Req(std::nullopt, RestoreTier::kExpedited), 0),
               Code::kInvalidArgument,
               "Expedited retrievals are not available for objects in the INTELLIGENT_TIERING "
               "Deep Archive Access tier");
}

TEST_CASE("Intelligent-Tiering restores take no Days and do not expire", "[tiers][restore]") {
  const TimeNs now = T("2026-11-26T13:30:00Z");
  for (ArchiveKind k : {ArchiveKind::kItArchiveAccess, ArchiveKind::kItDeepArchiveAccess}) {
    RequireError(RequestRestore(RestoreState{}, k, Req(3, RestoreTier::kStandard), now),
                 Code::kInvalidArgument,
                 "INTELLIGENT_TIERING objects are not subject to restore expiry. Do not specify "
                 "Days when restoring this object");
  }
  RestoreState s =
      Ongoing(ArchiveKind::kItArchiveAccess, std::nullopt, RestoreTier::kExpedited, now);
  CHECK(s.days == 0);
  CHECK(Iso(s.ready_at) == "2026-11-26T13:35:00Z");
  s = CompleteRestore(s);
  CHECK(s.phase == Phase::kDone);
  CHECK(s.expiry == 0);
  CHECK(RestoreHeader(s) == "ongoing-request=\"false\"");
  CHECK(InventoryRestoreStatus(s) == "RESTORED");
  CHECK_FALSE(NextRestoreEvent(s));
  CHECK(HasRestoredCopy(s, T("2099-01-01T00:00:00Z")));
  CHECK(AdvanceRestore(s, T("2099-01-01T00:00:00Z")) == s);

  RestoreState deep =
      Ongoing(ArchiveKind::kItDeepArchiveAccess, std::nullopt, RestoreTier::kBulk, now);
  CHECK(Iso(deep.ready_at) == "2026-11-28T13:30:00Z");

  // Back in an archive tier later: the old kDone is stale, a new restore starts.
  Result<RestoreState> again =
      RequestRestore(s, ArchiveKind::kItDeepArchiveAccess,
                     Req(std::nullopt, RestoreTier::kStandard), T("2027-06-01T00:00:00Z"));
  REQUIRE(again.ok());
  CHECK(again->phase == Phase::kOngoing);
  CHECK(Iso(again->ready_at) == "2027-06-01T12:00:00Z");
}

TEST_CASE("a second request at the same or a slower tier is already in progress",
          "[tiers][restore]") {
  const TimeNs t0 = T("2026-11-26T10:00:00Z");
  const RestoreState s = Ongoing(ArchiveKind::kGlacier, 3, RestoreTier::kStandard, t0);
  for (RestoreTier tier : {RestoreTier::kStandard, RestoreTier::kBulk}) {
    for (std::int32_t days : {3, 5}) {
      RequireError(RequestRestore(s, ArchiveKind::kGlacier, Req(days, tier), t0 + kNsPerHour),
                   Code::kRestoreAlreadyInProgress, "Object restore is already in progress");
    }
  }
  const RestoreState it =
      Ongoing(ArchiveKind::kItArchiveAccess, std::nullopt, RestoreTier::kBulk, t0);
  RequireError(
      RequestRestore(it, ArchiveKind::kItArchiveAccess, Req(std::nullopt, RestoreTier::kBulk), t0),
      Code::kRestoreAlreadyInProgress, "Object restore is already in progress");
}

TEST_CASE("a faster tier upgrades an ongoing restore", "[tiers][restore]") {
  const TimeNs t0 = T("2026-11-26T10:00:00Z");
  const RestoreState bulk = Ongoing(ArchiveKind::kGlacier, 3, RestoreTier::kBulk, t0);
  REQUIRE(Iso(bulk.ready_at) == "2026-11-26T22:00:00Z");

  SECTION("to Standard") {
    Result<RestoreState> r = RequestRestore(
        bulk, ArchiveKind::kGlacier, Req(3, RestoreTier::kStandard), T("2026-11-26T11:00:00Z"));
    REQUIRE(r.ok());
    CHECK(r->phase == Phase::kOngoing);
    CHECK(r->tier == RestoreTier::kStandard);
    CHECK(Iso(r->ready_at) == "2026-11-26T16:00:00Z");
    CHECK(r->requested == t0);
    CHECK(r->days == 3);
    // Then Expedited.
    Result<RestoreState> e = RequestRestore(
        *r, ArchiveKind::kGlacier, Req(3, RestoreTier::kExpedited), T("2026-11-26T12:00:00Z"));
    REQUIRE(e.ok());
    CHECK(e->tier == RestoreTier::kExpedited);
    CHECK(Iso(e->ready_at) == "2026-11-26T12:05:00Z");
    CHECK(Iso(CompleteRestore(*e).expiry) == "2026-11-30T00:00:00Z");
  }
  SECTION("never later than the restore already running") {
    const RestoreState standard = Ongoing(ArchiveKind::kGlacier, 3, RestoreTier::kStandard, t0);
    Result<RestoreState> r =
        RequestRestore(standard, ArchiveKind::kGlacier, Req(3, RestoreTier::kExpedited),
                       T("2026-11-26T14:58:00Z"));
    REQUIRE(r.ok());
    CHECK(r->tier == RestoreTier::kExpedited);
    CHECK(Iso(r->ready_at) == "2026-11-26T15:00:00Z");
  }
  SECTION("but not one that changes Days") {
    RequireError(RequestRestore(bulk, ArchiveKind::kGlacier, Req(4, RestoreTier::kStandard),
                                T("2026-11-26T11:00:00Z")),
                 Code::kInvalidArgument,
                 "A restore speed upgrade must not change Days: the restore in progress has "
                 "Days=3");
  }
  SECTION("and not to a tier the archive does not offer") {
    const RestoreState deep = Ongoing(ArchiveKind::kDeepArchive, 3, RestoreTier::kBulk, t0);
    RequireError(
        RequestRestore(deep, ArchiveKind::kDeepArchive, Req(3, RestoreTier::kExpedited), t0),
        Code::kInvalidArgument,
        "Expedited retrievals are not available for objects in the DEEP_ARCHIVE storage "
        "class");
    Result<RestoreState> r = RequestRestore(deep, ArchiveKind::kDeepArchive,
                                            Req(3, RestoreTier::kStandard), t0 + kNsPerHour);
    REQUIRE(r.ok());
    CHECK(Iso(r->ready_at) == "2026-11-26T23:00:00Z");
  }
}

TEST_CASE("re-requesting a restored object resets the expiry from now", "[tiers][restore]") {
  // AWS's example: restored on Oct 15, 2012 10:30 UTC for 3 days -> until
  // Oct 19 00:00 UTC; on Oct 16 11:00 UTC changed to 1 day -> Oct 18 00:00.
  RestoreState s =
      Ongoing(ArchiveKind::kGlacier, 3, RestoreTier::kStandard, T("2012-10-15T05:30:00Z"));
  REQUIRE(Iso(s.ready_at) == "2012-10-15T10:30:00Z");
  s = CompleteRestore(s);
  REQUIRE(Iso(s.expiry) == "2012-10-19T00:00:00Z");

  Result<RestoreState> shorter = RequestRestore(
      s, ArchiveKind::kGlacier, Req(1, RestoreTier::kBulk), T("2012-10-16T11:00:00Z"));
  REQUIRE(shorter.ok());
  CHECK(shorter->phase == Phase::kDone);
  CHECK(shorter->days == 1);
  CHECK(Iso(shorter->expiry) == "2012-10-18T00:00:00Z");
  CHECK(shorter->ready_at == s.ready_at);
  CHECK(RestoreHeader(*shorter) ==
        "ongoing-request=\"false\", expiry-date=\"Thu, 18 Oct 2012 00:00:00 GMT\"");

  Result<RestoreState> longer = RequestRestore(
      s, ArchiveKind::kGlacier, Req(10, RestoreTier::kStandard), T("2012-10-18T23:59:59Z"));
  REQUIRE(longer.ok());
  CHECK(Iso(longer->expiry) == "2012-10-29T00:00:00Z");

  SECTION("Expedited is still refused for a restored DEEP_ARCHIVE copy") {
    RestoreState deep = CompleteRestore(
        Ongoing(ArchiveKind::kDeepArchive, 3, RestoreTier::kStandard, T("2012-10-15T00:00:00Z")));
    RequireError(RequestRestore(deep, ArchiveKind::kDeepArchive, Req(3, RestoreTier::kExpedited),
                                T("2012-10-16T00:00:00Z")),
                 Code::kInvalidArgument,
                 "Expedited retrievals are not available for objects in the DEEP_ARCHIVE storage "
                 "class");
  }
  SECTION("after the expiry a new restore starts") {
    Result<RestoreState> fresh =
        RequestRestore(s, ArchiveKind::kGlacier, Req(2, RestoreTier::kExpedited), s.expiry);
    REQUIRE(fresh.ok());
    CHECK(fresh->phase == Phase::kOngoing);
    CHECK(fresh->requested == s.expiry);
    CHECK(Iso(fresh->ready_at) == "2012-10-19T00:05:00Z");
  }
}

TEST_CASE("AdvanceRestore applies completion and expiry at their instants", "[tiers][restore]") {
  const RestoreState s =
      Ongoing(ArchiveKind::kGlacier, 1, RestoreTier::kStandard, T("2026-11-26T20:00:00Z"));
  const TimeNs ready = T("2026-11-27T01:00:00Z");
  const TimeNs expiry = T("2026-11-29T00:00:00Z");
  REQUIRE(s.ready_at == ready);
  CHECK(AdvanceRestore(s, ready - 1) == s);
  const RestoreState done = AdvanceRestore(s, ready);
  CHECK(done.phase == Phase::kDone);
  CHECK(done.expiry == expiry);
  CHECK(AdvanceRestore(done, expiry - 1) == done);
  CHECK(AdvanceRestore(done, expiry) == RestoreState{});
  // One jump over both.
  CHECK(AdvanceRestore(s, T("2027-01-01T00:00:00Z")) == RestoreState{});
  CHECK(AdvanceRestore(RestoreState{}, expiry) == RestoreState{});
}

TEST_CASE("NextMidnightUtc rounds strictly up to the next midnight", "[tiers][restore]") {
  CHECK(Iso(NextMidnightUtc(T("2026-11-26T13:30:00Z"))) == "2026-11-27T00:00:00Z");
  CHECK(Iso(NextMidnightUtc(T("2026-11-26T23:59:59Z"))) == "2026-11-27T00:00:00Z");
  CHECK(Iso(NextMidnightUtc(T("2026-11-27T00:00:00Z") - 1)) == "2026-11-27T00:00:00Z");
  // Already midnight: a whole day later.
  CHECK(Iso(NextMidnightUtc(T("2026-11-27T00:00:00Z"))) == "2026-11-28T00:00:00Z");
  CHECK(Iso(NextMidnightUtc(T("2024-02-28T12:00:00Z"))) == "2024-02-29T00:00:00Z");
  CHECK(Iso(NextMidnightUtc(T("2026-12-31T12:00:00Z"))) == "2027-01-01T00:00:00Z");
  CHECK(NextMidnightUtc(0) == kNsPerDay);
  CHECK(NextMidnightUtc(-1) == 0);
  CHECK(Iso(NextMidnightUtc(T("1969-12-31T12:00:00Z"))) == "1970-01-01T00:00:00Z");
  CHECK(Iso(NextMidnightUtc(T("1969-12-30T00:00:00Z"))) == "1969-12-31T00:00:00Z");
  // Saturates on the last midnight TimeNs holds.
  const TimeNs last = T("2262-04-11T00:00:00Z");
  CHECK(NextMidnightUtc(last - 1) == last);
  CHECK(NextMidnightUtc(last) == last);
  CHECK(NextMidnightUtc(std::numeric_limits<TimeNs>::max()) == last);
}

TEST_CASE("AddDays saturates instead of overflowing", "[tiers][restore]") {
  CHECK(AddDays(0, 1) == kNsPerDay);
  CHECK(AddDays(kNsPerDay, -1) == 0);
  CHECK(AddDays(0, kMaxRestoreDays) == std::numeric_limits<TimeNs>::max());
  CHECK(AddDays(std::numeric_limits<TimeNs>::max() - 1, 1) == std::numeric_limits<TimeNs>::max());
  CHECK(AddDays(0, -std::int64_t{kMaxRestoreDays}) == std::numeric_limits<TimeNs>::min());
}

TEST_CASE("the largest Days gives the last representable expiry", "[tiers][restore]") {
  RestoreState s = CompleteRestore(Ongoing(ArchiveKind::kGlacier, kMaxRestoreDays,
                                           RestoreTier::kBulk, T("2026-11-26T13:30:00Z")));
  CHECK(Iso(s.expiry) == "2262-04-11T00:00:00Z");
  CHECK(RestoreHeader(s) ==
        "ongoing-request=\"false\", expiry-date=\"Fri, 11 Apr 2262 00:00:00 GMT\"");
}

TEST_CASE("HTTP dates are RFC 7231 IMF-fixdate", "[tiers][restore]") {
  CHECK(FormatHttpDate(T("2012-12-21T00:00:00Z")) == "Fri, 21 Dec 2012 00:00:00 GMT");
  CHECK(FormatHttpDate(T("2024-02-29T23:59:59Z")) == "Thu, 29 Feb 2024 23:59:59 GMT");
  CHECK(FormatHttpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(FormatHttpDate(-1) == "Wed, 31 Dec 1969 23:59:59 GMT");
  CHECK(FormatHttpDate(T("1900-03-01T07:08:09Z")) == "Thu, 01 Mar 1900 07:08:09 GMT");
  CHECK(FormatHttpDate(T("2026-11-26T13:30:00Z") + 999'999'999) == "Thu, 26 Nov 2026 13:30:00 GMT");
  CHECK(FormatHttpDate(std::numeric_limits<TimeNs>::max()) == "Fri, 11 Apr 2262 23:47:16 GMT");
  CHECK(FormatHttpDate(std::numeric_limits<TimeNs>::min()) == "Tue, 21 Sep 1677 00:12:43 GMT");
}

}  // namespace
}  // namespace shoal::tiers
