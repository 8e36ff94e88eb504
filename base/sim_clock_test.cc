#include "base/sim_clock.h"

#include <catch2/catch.hpp>

namespace shoal {
namespace {

constexpr TimeNs kSec = 1'000'000'000;

// Elapsed real time that a test moves by hand.
class ManualClock final : public Clock {
 public:
  TimeNs Now() const override { return now; }
  TimeNs now = 1000 * kSec;
};

TimeNs At(std::string_view iso) {
  auto t = ParseIso8601(iso);
  REQUIRE(t.ok());
  return *t;
}

TEST_CASE("ISO-8601 times parse in UTC, with fractions and offsets", "[base][clock]") {
  CHECK(At("1970-01-01T00:00:00Z") == 0);
  CHECK(At("2026-11-26T13:30:00Z") == 1'795'699'800 * kSec);
  CHECK(At("2026-11-26T13:30:00.25Z") == 1'795'699'800 * kSec + kSec / 4);
  CHECK(At("2026-11-26T15:30:00+02:00") == At("2026-11-26T13:30:00Z"));
  CHECK(At("2026-11-26T08:30:00-05:00") == At("2026-11-26T13:30:00Z"));
  CHECK(At("2026-11-26") == At("2026-11-26T00:00:00Z"));
  CHECK(At("2028-02-29") == At("2028-03-01") - 86400 * kSec);
  CHECK(At("2261-12-31T23:59:59Z") > At("2026-01-01"));
  CHECK(FormatIso8601(At("2026-11-26T13:30:00Z")) == "2026-11-26T13:30:00Z");
  for (const char* bad :
       {"", "2026", "2026-13-01", "2026-02-29", "2026-11-26T13:30:00", "2026-11-26T24:00:00Z",
        "2026-11-26 13:30:00Z", "2026-11-26T13:30:00.Z", "2026-11-26T13:30:00+2:00", "x",
        "1969-12-31T23:59:59Z", "2026-11-26T13:30:00Zjunk", "2262-12-31", "9999-01-01"}) {
    INFO(bad);
    auto t = ParseIso8601(bad);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("clock commands: advances, absolute times and rates", "[base][clock]") {
  auto cmd = ParseClockCommand("+30d");
  REQUIRE(cmd.ok());
  CHECK(cmd->advance_by == kSec * 30 * 86400);
  CHECK(ParseClockCommand("+12h")->advance_by == kSec * 12 * 3600);
  CHECK(ParseClockCommand("+15m")->advance_by == kSec * 15 * 60);
  CHECK(ParseClockCommand("+10s")->advance_by == 10 * kSec);
  CHECK(ParseClockCommand("+0s")->advance_by == 0);
  CHECK(ParseClockCommand("2027-01-01T00:00:00Z")->move_to == At("2027-01-01T00:00:00Z"));
  CHECK(ParseClockCommand("rate 0")->rate == 0.0);
  CHECK(ParseClockCommand("rate 86400")->rate == 86400.0);
  CHECK(ParseClockCommand("rate 0.5")->rate == 0.5);
  for (const char* bad : {"", "+", "+d", "+30", "+30x", "+-3d", "+3.5d", "+1000000000d", "-1d",
                          "rate", "rate -1", "rate 2000000", "rate fast", "rate nan", "tomorrow"}) {
    INFO(bad);
    auto c = ParseClockCommand(bad);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("the simulated clock runs at its rate and never goes backwards", "[base][clock]") {
  ManualClock real;
  const TimeNs start = At("2026-11-26T13:30:00Z");
  SimClock clock(start, 0, real);
  real.now += 50 * kSec;
  CHECK(clock.Now() == start);  // frozen
  REQUIRE(clock.AdvanceTo(start + 86400 * kSec).ok());
  CHECK(clock.Now() == start + 86400 * kSec);
  Status back = clock.AdvanceTo(start);
  CHECK(back.code() == Code::kInvalidArgument);
  CHECK(back.message() ==
        "the clock never goes backwards: it is 2026-11-27T13:30:00Z, later than "
        "2026-11-26T13:30:00Z");
  CHECK(clock.Now() == start + 86400 * kSec);

  REQUIRE(clock.SetRate(3600).ok());  // an hour per second
  real.now += 2 * kSec;
  CHECK(clock.Now() == start + 86400 * kSec + 7200 * kSec);
  CHECK(clock.SetRate(-1).code() == Code::kInvalidArgument);
  CHECK(clock.rate() == 3600.0);
  clock.CatchUpTo(start);  // already past: nothing
  CHECK(clock.Now() == start + 86400 * kSec + 7200 * kSec);
  clock.CatchUpTo(start + kSec * 2 * 86400);
  CHECK(clock.Now() == start + kSec * 2 * 86400);
  real.now += 2 * kSec;
  CHECK(clock.Now() == start + kSec * 2 * 86400 + 7200 * kSec);
  // An elapsed clock that steps back does not move simulated time back.
  real.now -= kSec;
  CHECK(clock.Now() == start + kSec * 2 * 86400 + 7200 * kSec);
}

}  // namespace
}  // namespace shoal
