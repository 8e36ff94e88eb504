#pragma once
// Clock: the source of "now" for everything that stamps or schedules.
// A seam: the simulated clock of the storage-class work and tests' fixed
// clocks implement it. Thread-safety: Now() may be called from any thread.

#include <cstdint>
#include <string>

namespace shoal {

// Nanoseconds since the Unix epoch, UTC.
using TimeNs = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeNs Now() const = 0;
};

// Real time (CLOCK_REALTIME).
class SystemClock final : public Clock {
 public:
  TimeNs Now() const override;
};

// "2026-11-26T13:30:00Z" (seconds precision, UTC).
std::string FormatIso8601(TimeNs t);

}  // namespace shoal
