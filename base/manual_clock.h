#pragma once
// ManualClock: a Clock that moves only when told to, for tests of code that
// reads simulated or real elapsed time. Safe to read and move from any
// thread.

#include <atomic>

#include "base/clock.h"

namespace shoal {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeNs start = 0) : now_(start) {}
  TimeNs Now() const override { return now_.load(); }
  void Set(TimeNs t) { now_ = t; }
  void Advance(TimeNs d) { now_ += d; }

 private:
  std::atomic<TimeNs> now_;
};

}  // namespace shoal
