// The fleet simulator: deterministic, physically plausible, and degrading into failures on the
// schedule its model states.
#include "tools/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

namespace foresight::tools::sim {
namespace {

constexpr int64_t kEpoch = 1'767'225'600 * kSecondNs;  // 2026-01-01T00:00:00Z
constexpr int64_t kHour = 3600 * kSecondNs;

FleetOptions Options(uint64_t seed, int assets) {
  FleetOptions o;
  o.seed = seed;
  o.assets = assets;
  o.epoch_ns = kEpoch;
  return o;
}

std::string Lines(Fleet& fleet, int64_t from, int64_t to, int64_t step) {
  std::string out;
  for (int64_t t = from; t < to; t += step) fleet.AppendLines(t, &out);
  return out;
}

size_t MetricIndex(Kind kind, std::string_view name) {
  auto metrics = Metrics(kind);
  for (size_t m = 0; m < metrics.size(); ++m) {
    if (metrics[m].name == name) return m;
  }
  return metrics.size();
}

TEST(Fleet, GivesTheSameBytesForTheSameSeed) {
  Fleet a(Options(7, 20)), b(Options(7, 20)), c(Options(8, 20));
  const std::string lines = Lines(a, kEpoch, kEpoch + 2 * kDayNs, 600 * kSecondNs);
  EXPECT_EQ(lines, Lines(b, kEpoch, kEpoch + 2 * kDayNs, 600 * kSecondNs));
  EXPECT_NE(lines, Lines(c, kEpoch, kEpoch + 2 * kDayNs, 600 * kSecondNs));
  EXPECT_EQ(a.Events(kEpoch, kEpoch + 365 * kDayNs).size(),
            b.Events(kEpoch, kEpoch + 365 * kDayNs).size());
}

TEST(Fleet, GivesTheSameReadingWhateverWasAskedBefore) {
  // A run that resumes later, or steps at another interval, sees the same values.
  Fleet forward(Options(3, 10)), jump(Options(3, 10));
  const int64_t t = kEpoch + 200 * kDayNs + 1234 * kSecondNs;
  for (int64_t s = kEpoch; s < t; s += 7 * kHour) forward.Wear(0, s);
  double x[8], y[8];
  for (size_t a = 0; a < 10; ++a) {
    ASSERT_EQ(forward.Reading(a, t, x), jump.Reading(a, t, y));
    for (size_t m = 0; m < Metrics(forward.assets()[a].kind).size(); ++m) EXPECT_EQ(x[m], y[m]);
  }
  EXPECT_EQ(forward.Events(kEpoch, t).size(), jump.Events(kEpoch, t).size());
}

TEST(Fleet, SplitsEventsAcrossWindowsWithoutLosingOrRepeatingAny) {
  Fleet whole(Options(5, 30)), parts(Options(5, 30));
  std::vector<std::string> expected, got;
  for (const Event& e : whole.Events(kEpoch, kEpoch + 120 * kDayNs)) expected.push_back(e.id);
  for (int64_t from = kEpoch; from < kEpoch + 120 * kDayNs; from += 9 * kDayNs + 17) {
    for (const Event& e :
         parts.Events(from, std::min(from + 9 * kDayNs + 17, kEpoch + 120 * kDayNs))) {
      got.push_back(e.id);
    }
  }
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(got, expected);
}

TEST(Fleet, HasEveryKindWithItsOwnMetricsAtSensorPrecision) {
  Fleet fleet(Options(1, 10));
  std::map<std::string_view, int> kinds;
  for (const Asset& a : fleet.assets()) ++kinds[KindName(a.kind)];
  EXPECT_EQ(kinds.size(), 5u);
  EXPECT_EQ(MetricIndex(Kind::kTransformer, "h2_ppm"), 4u);
  EXPECT_EQ(MetricIndex(Kind::kTransformer, "rpm"), 5u);  // not a transformer's metric

  std::string lines;
  fleet.AppendLines(kEpoch + 13 * kHour, &lines);
  // "pump,asset_id=pump-001,asset_type=pump,site=north vibration_rms=2.41,... <ns>\n"
  size_t at = 0, count = 0;
  while (at < lines.size()) {
    const size_t end = lines.find('\n', at);
    const std::string line = lines.substr(at, end - at);
    at = end + 1;
    ++count;
    const std::string kind = line.substr(0, line.find(','));
    const std::string fields =
        line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
    Kind k = Kind::kPump;
    for (Kind c :
         {Kind::kPump, Kind::kMotor, Kind::kCompressor, Kind::kTurbine, Kind::kTransformer}) {
      if (KindName(c) == kind) k = c;
    }
    ASSERT_EQ(KindName(k), kind);
    size_t f = 0, field_count = 0;
    while (f < fields.size()) {
      size_t comma = std::min(fields.find(',', f), fields.size());
      std::string field = fields.substr(f, comma - f);
      f = comma + 1;
      const std::string name = field.substr(0, field.find('='));
      const std::string value = field.substr(field.find('=') + 1);
      const size_t m = MetricIndex(k, name);
      ASSERT_LT(m, Metrics(k).size()) << name << " in " << line;
      const size_t dot = value.find('.');
      const int decimals = dot == std::string::npos ? 0 : int(value.size() - dot - 1);
      EXPECT_EQ(decimals, Metrics(k)[m].decimals) << field;
      ++field_count;
    }
    EXPECT_EQ(field_count, Metrics(k).size()) << line;
  }
  EXPECT_EQ(count, 10u);
}

TEST(Fleet, FollowsTheDailyLoadCycle) {
  // Power drawn at mid-afternoon exceeds power drawn before dawn, on a weekday.
  Fleet fleet(Options(2, 10));
  const size_t motor = 2;
  ASSERT_EQ(fleet.assets()[motor].kind, Kind::kMotor);
  const size_t power = MetricIndex(Kind::kMotor, "power_kw");
  double night = 0, afternoon = 0, v[8];
  int days = 0;
  for (int d = 5; d < 40; ++d) {
    const int64_t day = kEpoch + d * kDayNs;
    if (fleet.Wear(motor, day) > 0 || !fleet.Reading(motor, day + 4 * kHour, v)) continue;
    night += v[power];
    ASSERT_TRUE(fleet.Reading(motor, day + 15 * kHour, v));
    afternoon += v[power];
    ++days;
  }
  ASSERT_GT(days, 10);
  EXPECT_GT(afternoon / days, 1.3 * night / days);
}

TEST(Fleet, DegradesIntoFailuresOnTheModelsSchedule) {
  // 300 assets over two years: every failure follows a degradation whose length is within the
  // kind's model, the degrading asset's key signal has clearly risen by then, the asset
  // reports nothing while under repair, and failures come at the rate the model implies.
  const int kAssets = 300;
  const int64_t span = 730 * kDayNs;
  Fleet fleet(Options(11, kAssets));
  const std::vector<Event> events = fleet.Events(kEpoch, kEpoch + span);
  std::map<Kind, int> failures, caught;
  double v[8];
  for (const Event& e : events) {
    const Asset& asset = fleet.assets()[e.asset];
    const Fleet::KindModel& model = Fleet::Model(asset.kind);
    if (e.kind == "failure") ++failures[asset.kind];
    if (e.failure_mode.empty()) continue;  // routine preventive work
    if (e.kind == "preventive") {
      ++caught[asset.kind];
      continue;
    }
    // The degradation began between degrade_min and degrade_max days before the failure.
    EXPECT_GT(fleet.Wear(e.asset, e.at_ns - kHour), 0.8) << e.id;
    int64_t onset = e.at_ns;
    while (fleet.Wear(e.asset, onset - kHour) > 0) onset -= kHour;
    const double days = static_cast<double>(e.at_ns - onset) / kDayNs;
    EXPECT_GE(days, model.degrade_min_days - 0.1) << e.id;
    EXPECT_LE(days, model.degrade_max_days + 0.1) << e.id;
    // Down while repaired, back afterwards.
    EXPECT_FALSE(fleet.Reading(e.asset, e.at_ns + kSecondNs, v)) << e.id;
    const int64_t back = e.at_ns + static_cast<int64_t>(e.downtime_hours * kHour) + kHour;
    if (back < kEpoch + span) {
      EXPECT_TRUE(fleet.Reading(e.asset, back, v)) << e.id;
    }
    if (e.failure_mode == "bearing wear" && onset - kDayNs > kEpoch) {
      // Vibration over the last 6 hours against a healthy day before the onset.
      const size_t vib = MetricIndex(asset.kind, "vibration_rms");
      double healthy = 0, late = 0;
      int n_healthy = 0, n_late = 0;
      for (int64_t t = onset - kDayNs; t < onset; t += 600 * kSecondNs) {
        if (fleet.Reading(e.asset, t, v)) {
          healthy += v[vib];
          ++n_healthy;
        }
      }
      for (int64_t t = e.at_ns - 6 * kHour; t < e.at_ns; t += 600 * kSecondNs) {
        if (fleet.Reading(e.asset, t, v)) {
          late += v[vib];
          ++n_late;
        }
      }
      ASSERT_GT(n_healthy, 0);
      ASSERT_GT(n_late, 0);
      EXPECT_GT(late / n_late, 2.5 * healthy / n_healthy) << e.id;
    }
  }
  // The rate: one degradation per mean cycle (healthy time + degradation + repair).
  std::map<Kind, int> count;
  for (const Asset& a : fleet.assets()) ++count[a.kind];
  for (const auto& [kind, n] : count) {
    const Fleet::KindModel& m = Fleet::Model(kind);
    const double cycle_days = m.onset_scale_days * std::tgamma(1 + 1 / m.onset_shape) +
                              (m.degrade_min_days + m.degrade_max_days) / 2 + 1.6;
    const double expected = n * 730 / cycle_days;
    const double seen = failures[kind] + caught[kind];
    EXPECT_GT(seen, 0.75 * expected) << KindName(kind);
    EXPECT_LT(seen, 1.25 * expected) << KindName(kind);
    // Preventive work catches some, most run to failure.
    EXPECT_GT(failures[kind], caught[kind]) << KindName(kind);
  }
  EXPECT_GT(caught[Kind::kTurbine], 0);  // the kind with the shortest preventive interval
}

TEST(Fleet, GivesEveryEventAStableIdAndARealisticCost) {
  Fleet fleet(Options(4, 20));
  std::set<std::string> ids;
  for (const Event& e : fleet.Events(kEpoch, kEpoch + 365 * kDayNs)) {
    EXPECT_TRUE(ids.insert(e.id).second) << e.id;
    EXPECT_TRUE(e.kind == "failure" || e.kind == "preventive") << e.kind;
    EXPECT_GT(e.cost, 0);
    EXPECT_GT(e.downtime_hours, 0);
    if (e.kind == "failure") {
      EXPECT_GE(e.cost, 0.69 * Fleet::Model(fleet.assets()[e.asset].kind).failure_cost);
    }
  }
}

}  // namespace
}  // namespace foresight::tools::sim
