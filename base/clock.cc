#include "base/clock.h"

#include <ctime>

namespace shoal {

TimeNs SystemClock::Now() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<TimeNs>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string FormatIso8601(TimeNs t) {
  std::time_t secs = static_cast<std::time_t>(t / 1'000'000'000);
  if (t < 0 && t % 1'000'000'000 != 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace shoal
