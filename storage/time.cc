// The clock and the one text form of a timestamp (RFC 3339) every module reads and writes.
#include "storage/storage.h"

#include <fmt/format.h>

#include <chrono>

namespace foresight::storage {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

const Clock& SystemClock() {
  class System final : public Clock {
   public:
    int64_t NowNs() const override {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    }
  };
  static const System clock;
  return clock;
}

std::string FormatRfc3339(int64_t ts_ns) {
  // Floor division, so times before 1970 keep a fraction in [0, 1 s).
  int64_t secs = ts_ns / kSecondNs;
  if (ts_ns % kSecondNs < 0) --secs;
  const int64_t frac = ts_ns - secs * kSecondNs;
  int64_t days = secs / 86400;
  if (secs % 86400 < 0) --days;
  const int64_t in_day = secs - days * 86400;
  const std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(days))};
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", int(ymd.year()),
                                unsigned(ymd.month()), unsigned(ymd.day()), in_day / 3600,
                                in_day / 60 % 60, in_day % 60);
  if (frac != 0) {
    std::string digits = fmt::format("{:09d}", frac);
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out + "Z";
}

Result<int64_t> ParseRfc3339(std::string_view s) {
  auto bad = [&] {
    return Status::InvalidArgument("timestamp '" + std::string(s.substr(0, 64)) +
                                   "' is not RFC 3339 (2026-11-22T10:00:00Z)");
  };
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &se)) {
    return bad();
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                  std::chrono::day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad();
  size_t pos = 19;
  int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    size_t n = pos - start;
    if (n == 0 || n > 9) return bad();
    for (size_t i = start; i < pos; ++i) frac_ns = frac_ns * 10 + (s[i] - '0');
    for (size_t i = n; i < 9; ++i) frac_ns *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
  // Years 0000..9999 keep this far inside int64 nanoseconds' range only up to 2262.
  int64_t ns;
  if (__builtin_mul_overflow(secs, kSecondNs, &ns) || __builtin_add_overflow(ns, frac_ns, &ns) ||
      ns < kMinTimestampNs || ns > kMaxTimestampNs) {
    return Status::InvalidArgument("timestamp '" + std::string(s) + "' is out of range");
  }
  return ns;
}

}  // namespace foresight::storage
