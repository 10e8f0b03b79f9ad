#include "storage/storage.h"

#include <gtest/gtest.h>

#include <random>

namespace foresight::storage {
namespace {

TEST(Rfc3339, FormatsUtcWithOnlyTheFractionDigitsItNeeds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1'763'805'600 * kSecondNs), "2025-11-22T10:00:00Z");
  EXPECT_EQ(FormatRfc3339(1'763'805'600 * kSecondNs + 250'000'000), "2025-11-22T10:00:00.25Z");
  EXPECT_EQ(FormatRfc3339(1), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatRfc3339(951'782'400 * kSecondNs), "2000-02-29T00:00:00Z");  // a leap day
}

TEST(Rfc3339, ParsesOffsetsFractionsAndTheSpaceSeparator) {
  const int64_t t = 1'763'805'600 * kSecondNs;
  EXPECT_EQ(ParseRfc3339("2025-11-22T10:00:00Z").value(), t);
  EXPECT_EQ(ParseRfc3339("2025-11-22 10:00:00z").value(), t);
  EXPECT_EQ(ParseRfc3339("2025-11-22T12:30:00+02:30").value(), t);
  EXPECT_EQ(ParseRfc3339("2025-11-22T09:00:00-01:00").value(), t);
  EXPECT_EQ(ParseRfc3339("2025-11-22T10:00:00.5Z").value(), t + 500'000'000);
  EXPECT_EQ(ParseRfc3339("2025-11-22T10:00:00.123456789Z").value(), t + 123'456'789);
}

TEST(Rfc3339, RefusesWhatIsNotATimestamp) {
  for (const char* bad :
       {"", "2025-11-22", "2025-11-22T10:00:00", "2025-02-30T10:00:00Z", "2025-11-22T24:00:00Z",
        "2025-11-22T10:00:00.Z", "2025-11-22T10:00:00.1234567890Z", "2025-11-22T10:00:00+0200",
        "2025-11-22T10:00:00Z ", "1763805600000"}) {
    Result<int64_t> t = ParseRfc3339(bad);
    EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseRfc3339("9999-12-31T23:59:59Z").status().code(),
            Status::Code::kInvalidArgument);  // past kMaxTimestampNs
}

TEST(Rfc3339, ParsingWhatWasFormattedGivesTheSameTime) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> any(-2'000'000'000 * kSecondNs, 7'000'000'000 * kSecondNs);
  for (int i = 0; i < 10'000; ++i) {
    const int64_t t = any(rng);
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)).value(), t) << FormatRfc3339(t);
  }
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(5);
  const Clock& c = clock;
  EXPECT_EQ(c.NowNs(), 5);
  clock.Advance(kDayNs);
  EXPECT_EQ(c.NowNs(), 5 + kDayNs);
  clock.Set(-3);
  EXPECT_EQ(c.NowNs(), -3);
  EXPECT_GT(SystemClock().NowNs(), 1'700'000'000 * kSecondNs);
}

}  // namespace
}  // namespace foresight::storage
