#include "base/sim_clock.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <string>

namespace shoal {

namespace {

constexpr TimeNs kNsPerSec = 1'000'000'000;

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool IsLeap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

Status BadTime(std::string_view text) {
  return InvalidArgument("'" + std::string(text) +
                         "' is not a time: use ISO-8601 such as 2026-11-26T13:30:00Z");
}

}  // namespace

TimeNs MonotonicClock::Now() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<TimeNs>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

SimClock::SimClock(TimeNs start, double rate, const Clock& elapsed)
    : elapsed_(elapsed),
      anchor_sim_(start),
      anchor_real_(elapsed.Now()),
      rate_(rate),
      last_(start) {}

TimeNs SimClock::NowLocked() const {
  TimeNs t = anchor_sim_;
  if (rate_ > 0) {
    const double run = static_cast<double>(elapsed_.Now() - anchor_real_) * rate_;
    // Saturates at the end of TimeNs (2262) instead of overflowing.
    const double room = static_cast<double>(std::numeric_limits<TimeNs>::max() - anchor_sim_);
    t = run >= room ? std::numeric_limits<TimeNs>::max() : t + static_cast<TimeNs>(run);
  }
  if (t < last_) t = last_;
  last_ = t;
  return t;
}

TimeNs SimClock::Now() const {
  MutexLock lock(mu_);
  return NowLocked();
}

double SimClock::rate() const {
  MutexLock lock(mu_);
  return rate_;
}

Status SimClock::AdvanceTo(TimeNs t) {
  MutexLock lock(mu_);
  TimeNs now = NowLocked();
  if (t < now) {
    return InvalidArgument("the clock never goes backwards: it is " + FormatIso8601(now) +
                           ", later than " + FormatIso8601(t));
  }
  anchor_sim_ = t;
  anchor_real_ = elapsed_.Now();
  last_ = t;
  return Status::Ok();
}

void SimClock::CatchUpTo(TimeNs t) {
  MutexLock lock(mu_);
  if (t <= NowLocked()) return;
  anchor_sim_ = t;
  anchor_real_ = elapsed_.Now();
  last_ = t;
}

Status SimClock::SetRate(double rate) {
  if (!(rate >= 0 && rate <= kMaxRate)) {
    return InvalidArgument("the clock rate must be between 0 and 1000000");
  }
  MutexLock lock(mu_);
  anchor_sim_ = NowLocked();
  anchor_real_ = elapsed_.Now();
  rate_ = rate;
  return Status::Ok();
}

Result<TimeNs> ParseIso8601(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!Digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !Digits(text, 5, 2, mo) ||
      text[7] != '-' || !Digits(text, 8, 2, d)) {
    return BadTime(text);
  }
  // TimeNs ends in April 2262; whole years keep the check simple.
  if (y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo)) {
    return BadTime(text);
  }
  std::size_t pos = 10;
  TimeNs frac = 0;
  TimeNs offset = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' || !Digits(text, 11, 2, h) || text.size() < 19 || text[13] != ':' ||
        !Digits(text, 14, 2, mi) || text[16] != ':' || !Digits(text, 17, 2, s)) {
      return BadTime(text);
    }
    if (h > 23 || mi > 59 || s > 59) return BadTime(text);
    pos = 19;
    if (pos < text.size() && text[pos] == '.') {
      TimeNs scale = kNsPerSec / 10;
      ++pos;
      std::size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        frac += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return BadTime(text);
    }
    if (pos == text.size()) return BadTime(text);  // a time needs its zone
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      // UTC
    } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() &&
               text[pos + 3] == ':') {
      int oh = 0, om = 0;
      if (!Digits(text, pos + 1, 2, oh) || !Digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
        return BadTime(text);
      }
      offset = (TimeNs{oh} * 3600 + TimeNs{om} * 60) * kNsPerSec;
      if (text[pos] == '+') offset = -offset;  // 15:30+02:00 is 13:30Z
    } else {
      return BadTime(text);
    }
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t secs = timegm(&tm);
  return static_cast<TimeNs>(secs) * kNsPerSec + frac + offset;
}

Result<double> ParseClockRate(std::string_view text) {
  double rate = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rate);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(rate) || rate < 0 ||
      rate > SimClock::kMaxRate) {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a clock rate: use a number from 0 (frozen) to 1000000");
  }
  return rate;
}

Result<ClockCommand> ParseClockCommand(std::string_view text) {
  ClockCommand cmd;
  if (text.substr(0, 5) == "rate ") {
    auto rate = ParseClockRate(text.substr(5));
    if (!rate.ok()) return rate.status();
    cmd.rate = *rate;
    return cmd;
  }
  if (!text.empty() && text[0] == '+') {
    std::string_view num = text.substr(1, text.size() < 2 ? 0 : text.size() - 2);
    const char unit = text.size() < 2 ? '\0' : text.back();
    TimeNs per = 0;
    switch (unit) {
      case 'd': per = 86400 * kNsPerSec; break;
      case 'h': per = 3600 * kNsPerSec; break;
      case 'm': per = 60 * kNsPerSec; break;
      case 's': per = kNsPerSec; break;
      default: break;
    }
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    // A bound that keeps the sum far from overflow: about 100 years.
    constexpr TimeNs kMaxAdvance = TimeNs{36525} * 86400 * kNsPerSec;
    if (per == 0 || num.empty() || ec != std::errc() || end != num.data() + num.size() ||
        n > static_cast<std::uint64_t>(kMaxAdvance / per)) {
      return InvalidArgument("'" + std::string(text) +
                             "' is not a clock advance: use +30d, +12h, +15m or +10s (at most "
                             "100 years)");
    }
    cmd.advance_by = static_cast<TimeNs>(n) * per;
    return cmd;
  }
  auto t = ParseIso8601(text);
  if (!t.ok()) {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a clock command: write +30d, +12h, +15m, +10s, an ISO-8601 "
                           "time such as 2027-01-01T00:00:00Z, or 'rate R'");
  }
  cmd.move_to = *t;
  return cmd;
}

}  // namespace shoal
