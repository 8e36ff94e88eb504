#pragma once
// SimClock: the simulated clock of DESIGN §2.2. Simulated time runs at
// `rate` simulated seconds per real second (0 = frozen) from an anchor, and
// moves forward on request; it never goes backwards.
//
// Thread-safety: all methods may be called concurrently.

#include <optional>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace shoal {

// A clock whose differences measure real elapsed time (CLOCK_MONOTONIC),
// so the simulated clock never jumps when the wall clock is stepped.
class MonotonicClock final : public Clock {
 public:
  TimeNs Now() const override;
};

class SimClock final : public Clock {
 public:
  // Highest accepted rate: a simulated year in about 30 real seconds.
  static constexpr double kMaxRate = 1'000'000;

  // Starts at `start`, running at `rate`; `elapsed` measures real time and
  // must outlive the clock. REQUIRES: 0 <= rate <= kMaxRate.
  SimClock(TimeNs start, double rate, const Clock& elapsed);

  TimeNs Now() const override;
  double rate() const;

  // Moves the clock to `t`; InvalidArgument if `t` is before Now() (the
  // clock never goes backwards). Moving to Now() is a no-op.
  Status AdvanceTo(TimeNs t);
  // Moves the clock to `t` if it is not there yet; a running clock that
  // has already passed `t` stays where it is.
  void CatchUpTo(TimeNs t);
  // Changes the speed from now on; InvalidArgument outside [0, kMaxRate].
  Status SetRate(double rate);

 private:
  TimeNs NowLocked() const REQUIRES(mu_);

  const Clock& elapsed_;
  mutable Mutex mu_;
  TimeNs anchor_sim_ GUARDED_BY(mu_);
  TimeNs anchor_real_ GUARDED_BY(mu_);
  double rate_ GUARDED_BY(mu_);
  // The last value handed out: Now() never returns less, even if the
  // elapsed clock or floating point would make it wobble.
  mutable TimeNs last_ GUARDED_BY(mu_);
};

// "2026-11-26T13:30:00Z", "2026-11-26T13:30:00.250Z", "2026-11-26T15:30:00+02:00"
// or a date "2026-11-26" (midnight UTC), from 1970 to 2261 (TimeNs ends in
// 2262). InvalidArgument otherwise.
Result<TimeNs> ParseIso8601(std::string_view text);

// A command written to MNT/.shoal/clock: "+30d", "+12h", "+15m", "+10s"
// (a whole number of units), an ISO-8601 time, or "rate R".
struct ClockCommand {
  std::optional<TimeNs> advance_by;
  std::optional<TimeNs> move_to;
  std::optional<double> rate;
};
Result<ClockCommand> ParseClockCommand(std::string_view text);

// A rate as given on the command line or in a clock command: a decimal
// number in [0, SimClock::kMaxRate].
Result<double> ParseClockRate(std::string_view text);

}  // namespace shoal
