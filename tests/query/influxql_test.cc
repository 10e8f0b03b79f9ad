// InfluxQL over real storage: the statements Grafana and the influx CLI send, answers checked
// against values recomputed from what was written, rollups against raw points, and bad input.
#include "query/query.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace foresight::query {
namespace {

using storage::Storage;

constexpr int64_t kMinute = 60'000'000'000;
constexpr int64_t kHour = 60 * kMinute;
// 2026-06-01T00:00:00Z, a whole day: the data below starts there.
constexpr int64_t kStart = 1'780'272'000LL * 1'000'000'000;

class InfluxQl : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options options;
    options.fsync = storage::FsyncPolicy::kNever;
    options.clock = &clock_;
    db_ = Storage::Open(dir_.Sub("db"), options).value();
    tenant_ = db_->CreateTenant("acme").value();
  }

  storage::SeriesId Series(const std::string& measurement, storage::SeriesKey key,
                           storage::ValueType type = storage::ValueType::kFloat) {
    key.measurement = measurement;
    storage::SeriesSpec spec{std::move(key), type};
    return db_->ResolveSeries(tenant_, {&spec, 1}).value()[0].value();
  }

  void Append(storage::SeriesId id, int64_t ts, double v) {
    storage::Sample s{id, ts, storage::Value::Float(v)};
    ASSERT_TRUE(db_->Append(tenant_, {&s, 1}).ok());
  }

  // The statements' answers; a parse error fails the test.
  std::vector<InfluxStatement> Run(const std::string& q, InfluxQlOptions options = {}) {
    options.now_ns = clock_.NowNs();
    options.database = "acme";
    auto r = RunInfluxQl(*db_, tenant_, q, options);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status().ToString();
    return r.ok() ? *r : std::vector<InfluxStatement>{};
  }
  InfluxStatement One(const std::string& q, InfluxQlOptions options = {}) {
    auto all = Run(q, options);
    EXPECT_EQ(all.size(), 1u) << q;
    return all.empty() ? InfluxStatement{} : all[0];
  }
  std::string ErrorOf(const std::string& q, InfluxQlOptions options = {}) {
    InfluxStatement st = One(q, options);
    EXPECT_TRUE(st.series.empty()) << q;
    return st.error;
  }

  // Three pumps and a fan, a reading a minute for three hours; and a series with no asset tag.
  void WriteFleet() {
    for (int a = 0; a < 4; ++a) {
      const std::string type = a < 3 ? "pump" : "fan";
      auto temp = Series(
          "machine", {"", {{"asset_id", "m" + std::to_string(a)}, {"asset_type", type}}, "temp"});
      for (int i = 0; i < 180; ++i) Append(temp, kStart + i * kMinute, Temp(a, i));
    }
    auto humidity = Series("env", {"", {{"site", "north"}}, "humidity"});
    for (int i = 0; i < 180; ++i)
      Append(humidity, kStart + i * kMinute + 30'000'000'000, 40 + i % 5);
  }
  static double Temp(int asset, int minute) { return 20 + asset + (minute % 7) * 0.5; }

  testing::TempDir dir_;
  storage::ManualClock clock_{kStart + 3 * kHour};
  std::unique_ptr<Storage> db_;
  storage::TenantId tenant_ = 0;
};

std::vector<std::vector<InfluxCell>> Values(const InfluxStatement& st, size_t series = 0) {
  if (st.series.size() <= series) return {};
  return st.series[series].values;
}
double Num(const InfluxCell& c) {
  if (auto d = std::get_if<double>(&c)) return *d;
  if (auto i = std::get_if<int64_t>(&c)) return static_cast<double>(*i);
  ADD_FAILURE() << "not a number";
  return NAN;
}
bool IsNull(const InfluxCell& c) { return std::holds_alternative<std::monostate>(c); }
std::string Str(const InfluxCell& c) {
  auto s = std::get_if<std::string>(&c);
  return s ? *s : "<not a string>";
}

TEST_F(InfluxQl, ShowStatementsListWhatIsStoredWhetherOrNotItNamesAnAsset) {
  WriteFleet();
  auto m = One("SHOW MEASUREMENTS");
  ASSERT_EQ(m.series.size(), 1u);
  EXPECT_EQ(m.series[0].name, "measurements");
  ASSERT_EQ(Values(m).size(), 2u);
  EXPECT_EQ(Str(Values(m)[0][0]), "env");
  EXPECT_EQ(Str(Values(m)[1][0]), "machine");
  // Grafana's measurement search, verbatim.
  auto search = One("SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)MACH/ LIMIT 100");
  ASSERT_EQ(Values(search).size(), 1u);
  EXPECT_EQ(Str(Values(search)[0][0]), "machine");
  EXPECT_EQ(Values(One("SHOW MEASUREMENTS LIMIT 1")).size(), 1u);

  auto keys = One("SHOW TAG KEYS FROM \"machine\"");
  ASSERT_EQ(Values(keys).size(), 2u);
  EXPECT_EQ(Str(Values(keys)[0][0]), "asset_id");
  EXPECT_EQ(Str(Values(keys)[1][0]), "asset_type");
  EXPECT_EQ(One("SHOW TAG KEYS").series.size(), 2u) << "one series per measurement";

  auto values =
      One("SHOW TAG VALUES FROM \"machine\" WITH KEY = \"asset_id\" WHERE \"asset_type\" = 'pump'");
  ASSERT_EQ(Values(values).size(), 3u);
  EXPECT_EQ(Str(Values(values)[0][0]), "asset_id");
  EXPECT_EQ(Str(Values(values)[2][1]), "m2");
  EXPECT_EQ(
      Values(One("SHOW TAG VALUES FROM machine WITH KEY IN (\"asset_id\", \"asset_type\")")).size(),
      6u);
  EXPECT_EQ(Values(One("SHOW TAG VALUES WITH KEY =~ /type/")).size(), 2u);

  auto fields = One("SHOW FIELD KEYS FROM \"machine\"");
  ASSERT_EQ(Values(fields).size(), 1u);
  EXPECT_EQ(Str(Values(fields)[0][0]), "temp");
  EXPECT_EQ(Str(Values(fields)[0][1]), "float");

  auto series = One("SHOW SERIES");
  ASSERT_EQ(Values(series).size(), 5u);
  EXPECT_EQ(Str(Values(series)[0][0]), "env,site=north");
  EXPECT_EQ(Str(Values(series)[1][0]), "machine,asset_id=m0,asset_type=pump");

  EXPECT_EQ(Str(Values(One("SHOW DATABASES"))[0][0]), "acme");
  EXPECT_EQ(Str(Values(One("SHOW RETENTION POLICIES ON \"acme\""))[0][0]), "autogen");
  EXPECT_TRUE(One("SHOW MEASUREMENTS WITH MEASUREMENT = nothing").series.empty());
}

TEST_F(InfluxQl, AnswersGrafanasGroupByTimeQueryVerbatim) {
  WriteFleet();
  // The query builder's text with $timeFilter and $__interval expanded (epoch=ms).
  const std::string from_ms = std::to_string((kStart + 10 * kMinute) / 1'000'000);
  const std::string to_ms = std::to_string((kStart + 70 * kMinute - 1) / 1'000'000);
  auto st =
      One("SELECT mean(\"temp\") FROM \"machine\" WHERE (\"asset_type\" = 'pump') AND time >= " +
          from_ms + "ms and time <= " + to_ms + "ms GROUP BY time(5m), \"asset_id\" fill(null)");
  ASSERT_EQ(st.series.size(), 3u) << st.error;
  for (int a = 0; a < 3; ++a) {
    const InfluxSeries& s = st.series[a];
    EXPECT_EQ(
        s.tags,
        (std::vector<std::pair<std::string, std::string>>{{"asset_id", "m" + std::to_string(a)}}));
    ASSERT_EQ(s.columns, (std::vector<std::string>{"time", "mean"}));
    ASSERT_EQ(s.values.size(), 12u);
    for (int b = 0; b < 12; ++b) {
      double sum = 0;
      for (int i = 10 + 5 * b; i < 15 + 5 * b; ++i) sum += Temp(a, i);
      EXPECT_EQ(std::get<int64_t>(s.values[b][0]), kStart + (10 + 5 * b) * kMinute);
      EXPECT_NEAR(Num(s.values[b][1]), sum / 5, 1e-9) << a << " " << b;
    }
  }
  // Relative time, and the asset type as the group: what a fleet panel asks.
  auto fleet =
      One("SELECT max(temp), count(temp) FROM machine WHERE time > now() - 1h GROUP BY time(30m), "
          "asset_type");
  ASSERT_EQ(fleet.series.size(), 2u);
  EXPECT_EQ(fleet.series[0].tags[0].second, "fan");
  ASSERT_EQ(Values(fleet, 1).size(), 3u) << "the bucket holding now() is answered too";
  EXPECT_TRUE(IsNull(Values(fleet, 1)[2][1]));
  EXPECT_EQ(Num(Values(fleet, 1)[0][2]), 29 * 3) << "now() - 1h excludes the point at the hour";
  EXPECT_EQ(Num(Values(fleet, 1)[0][1]), Temp(2, 6));
}

TEST_F(InfluxQl, RollupsAndRawPointsGiveTheSameAggregatesOnRandomData) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> value(-50, 150);
  std::uniform_int_distribution<int64_t> jitter(0, 59'999'999'999);
  for (int a = 0; a < 5; ++a) {
    auto id = Series(
        "m", {"", {{"asset_id", "a" + std::to_string(a)}, {"kind", a % 2 ? "odd" : "even"}}, "v"});
    for (int i = 0; i < 600; ++i) {
      if (rng() % 10 == 0) continue;  // gaps
      Append(id, kStart + i * kMinute + jitter(rng), value(rng));
    }
  }
  ASSERT_TRUE(db_->Flush().ok());  // sealed: the minute and hour rollups exist
  InfluxQlOptions raw;
  raw.use_rollups = false;
  const std::string range =
      " WHERE time >= '2026-06-01T00:17:00Z' AND time < '2026-06-01T09:45:30Z'";
  for (const std::string fn :
       {"mean", "sum", "count", "min", "max", "spread", "stddev", "first", "last"}) {
    for (const std::string group :
         {"time(1m)", "time(5m), asset_id", "time(1h), kind", "time(2h)", "time(1h, 20m), *"}) {
      const std::string q = "SELECT " + fn + "(v) FROM m" + range + " GROUP BY " + group;
      auto a = One(q), b = One(q, raw);
      ASSERT_TRUE(a.error.empty()) << q << ": " << a.error;
      ASSERT_EQ(a.series.size(), b.series.size()) << q;
      for (size_t s = 0; s < a.series.size(); ++s) {
        ASSERT_EQ(a.series[s].values.size(), b.series[s].values.size()) << q;
        for (size_t r = 0; r < a.series[s].values.size(); ++r) {
          const auto& x = a.series[s].values[r];
          const auto& y = b.series[s].values[r];
          ASSERT_EQ(x[0], y[0]) << q;
          ASSERT_EQ(IsNull(x[1]), IsNull(y[1])) << q << " row " << r;
          if (IsNull(x[1])) continue;
          EXPECT_NEAR(Num(x[1]), Num(y[1]), 1e-9 * std::max(1.0, std::abs(Num(y[1]))))
              << q << " row " << r;
        }
      }
    }
  }
}

TEST_F(InfluxQl, FillsEmptyBucketsAsAsked) {
  auto id = Series("m", {"", {}, "v"});
  Append(id, kStart + 0 * kMinute, 1);
  Append(id, kStart + 3 * kMinute, 4);
  const std::string base =
      "SELECT mean(v) FROM m WHERE time >= '2026-06-01T00:00:00Z' AND time < "
      "'2026-06-01T00:05:00Z' GROUP BY time(1m)";
  auto nulls = Values(One(base));
  ASSERT_EQ(nulls.size(), 5u);
  EXPECT_TRUE(IsNull(nulls[1][1]));
  EXPECT_EQ(Values(One(base + " fill(none)")).size(), 2u);
  auto previous = Values(One(base + " fill(previous)"));
  EXPECT_EQ(Num(previous[2][1]), 1);
  EXPECT_EQ(Num(previous[4][1]), 4);
  auto linear = Values(One(base + " fill(linear)"));
  EXPECT_EQ(Num(linear[1][1]), 2);
  EXPECT_EQ(Num(linear[2][1]), 3);
  EXPECT_TRUE(IsNull(linear[4][1])) << "nothing after it to interpolate to";
  auto number = Values(One(base + " fill(-1)"));
  EXPECT_EQ(Num(number[1][1]), -1);
  auto counts =
      Values(One("SELECT count(v) FROM m WHERE time >= '2026-06-01T00:00:00Z' AND time < "
                 "'2026-06-01T00:05:00Z' GROUP BY time(1m) fill(0)"));
  EXPECT_EQ(Num(counts[1][1]), 0);
  EXPECT_EQ(Num(counts[3][1]), 1);
}

TEST_F(InfluxQl, TransformsOrdersAndLimits) {
  auto id = Series("m", {"", {}, "v"});
  for (int i = 0; i < 6; ++i) Append(id, kStart + i * kMinute, i * i);  // 0 1 4 9 16 25
  auto derivative = Values(One("SELECT derivative(v, 1m) FROM m"));
  ASSERT_EQ(derivative.size(), 5u);
  EXPECT_EQ(Num(derivative[0][1]), 1);
  EXPECT_EQ(Num(derivative[4][1]), 9);
  auto per_second = Values(One("SELECT derivative(v) FROM m"));
  EXPECT_NEAR(Num(per_second[0][1]), 1.0 / 60, 1e-12);
  auto difference = Values(One("SELECT difference(v) FROM m ORDER BY time DESC LIMIT 2"));
  ASSERT_EQ(difference.size(), 2u);
  EXPECT_EQ(Num(difference[0][1]), 9);
  EXPECT_EQ(std::get<int64_t>(difference[0][0]), kStart + 5 * kMinute);
  auto average = Values(One("SELECT moving_average(v, 3) FROM m"));
  ASSERT_EQ(average.size(), 4u);
  EXPECT_NEAR(Num(average[0][1]), 5.0 / 3, 1e-12);
  auto over_buckets =
      Values(One("SELECT non_negative_derivative(max(v), 2m) FROM m WHERE time >= "
                 "'2026-06-01T00:00:00Z' AND time < '2026-06-01T00:06:00Z' GROUP BY time(2m)"));
  ASSERT_EQ(over_buckets.size(), 2u);
  EXPECT_EQ(Num(over_buckets[0][1]), 9 - 1);
  auto selectors = One("SELECT last(v) FROM m");
  EXPECT_EQ(std::get<int64_t>(Values(selectors)[0][0]), kStart + 5 * kMinute)
      << "a selector's own time";
  auto stats = Values(One("SELECT median(v), percentile(v, 50), spread(v), stddev(v) FROM m"));
  EXPECT_EQ(Num(stats[0][1]), 6.5);
  EXPECT_EQ(Num(stats[0][2]), 4);
  EXPECT_EQ(Num(stats[0][3]), 25);
  EXPECT_NEAR(Num(stats[0][4]), 9.7450842308656, 1e-9);  // sample standard deviation
}

TEST_F(InfluxQl, LastIsTheNewestPointInRangeWhetherOrNotARangeEndsBeforeIt) {
  auto a = Series("m", {"", {{"asset_id", "a"}}, "v"});
  auto b = Series("m", {"", {{"asset_id", "b"}}, "v"});
  for (int i = 0; i < 6; ++i) Append(a, kStart + i * kMinute, i);
  Append(b, kStart + 2 * kMinute + 1, 20);
  auto all = Values(One("SELECT last(v) FROM m"));
  EXPECT_EQ(std::get<int64_t>(all[0][0]), kStart + 5 * kMinute);
  EXPECT_EQ(Num(all[0][1]), 5);
  auto before = Values(One("SELECT last(v) FROM m WHERE time < '2026-06-01T00:03:00Z'"));
  EXPECT_EQ(std::get<int64_t>(before[0][0]), kStart + 2 * kMinute + 1);  // b's, across series
  EXPECT_EQ(Num(before[0][1]), 20);
  auto per_asset =
      One("SELECT last(v) FROM m WHERE time < '2026-06-01T00:03:00Z' GROUP BY asset_id");
  ASSERT_EQ(per_asset.series.size(), 2u);
  EXPECT_EQ(Num(per_asset.series[0].values[0][1]), 2);
  EXPECT_TRUE(Values(One("SELECT last(v) FROM m WHERE time > '2026-06-01T00:10:00Z'")).empty());
}

TEST_F(InfluxQl, CountsAStringFieldPerIntervalFromItsRawPoints) {
  auto state = Series("m", {"", {}, "state"}, storage::ValueType::kString);
  for (int i = 0; i < 6; ++i) {
    storage::Sample s{state, kStart + i * 20'000'000'000, storage::Value::String("ok")};
    ASSERT_TRUE(db_->Append(tenant_, {&s, 1}).ok());
  }
  auto counts =
      Values(One("SELECT count(state) FROM m WHERE time >= '2026-06-01T00:00:00Z' AND "
                 "time < '2026-06-01T00:02:00Z' GROUP BY time(1m)"));
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(Num(counts[0][1]), 3);
  EXPECT_EQ(Num(counts[1][1]), 3);
}

TEST_F(InfluxQl, FiltersTagsWithEveryOperatorAndParentheses) {
  WriteFleet();
  auto count = [&](const std::string& where) {
    auto st = One("SELECT count(temp) FROM machine WHERE " + where);
    EXPECT_TRUE(st.error.empty()) << where << ": " << st.error;
    return Values(st).empty() ? 0.0 : Num(Values(st)[0][1]) / 180;
  };
  EXPECT_EQ(count("asset_type = 'pump'"), 3);
  EXPECT_EQ(count("asset_type != 'pump'"), 1);
  EXPECT_EQ(count("asset_id =~ /^m[01]$/"), 2);
  EXPECT_EQ(count("asset_id !~ /^m[01]$/"), 2);
  EXPECT_EQ(count("(asset_id = 'm0' OR asset_id = 'm3') AND asset_type = 'pump'"), 1);
  EXPECT_EQ(count("asset_id = 'm0' OR asset_type = 'fan'"), 2);
  EXPECT_EQ(count("missing = ''"), 4) << "a tag a series lacks equals ''";
  EXPECT_EQ(count("asset_type = 'pump' AND time >= '2026-06-01T01:00:00Z'"), 3.0 * 120 / 180);
  auto several = Run("SELECT count(temp) FROM machine; SHOW DATABASES;");
  EXPECT_EQ(several.size(), 2u);
}

TEST_F(InfluxQl, RefusesConditionsNestedDeeperThanItCanWalkAndAnswersEmptyRangesEmpty) {
  WriteFleet();
  std::string chain = "SELECT count(temp) FROM machine WHERE asset_id = 'm0'";
  for (int i = 0; i < 100'000; ++i) chain += " OR asset_id = 'm0'";
  InfluxQlOptions options;
  options.now_ns = clock_.NowNs();
  for (const std::string& deep :
       {chain, "SELECT count(temp) FROM machine WHERE " + std::string(100'000, '(') +
                   "asset_id = 'm0'" + std::string(100'000, ')')}) {
    auto r = RunInfluxQl(*db_, tenant_, deep, options);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("nested more than 128 deep"), std::string_view::npos);
  }
  EXPECT_TRUE(One("SELECT mean(temp) FROM machine WHERE time > now() AND time < now() - 1h GROUP "
                  "BY time(1m)")
                  .series.empty());
  EXPECT_TRUE(One("SELECT temp FROM machine WHERE time > 99999999999999999999.5").series.empty());
}

TEST_F(InfluxQl, RefusesWhatItDoesNotSupportByNameAndBadInputWithAParseError) {
  WriteFleet();
  EXPECT_EQ(ErrorOf("SELECT mean(temp) FROM machine WHERE temp > 3"),
            "conditions on field values (temp) are not supported");
  EXPECT_EQ(ErrorOf("SELECT temp, mean(temp) FROM machine"),
            "mixing aggregate and non-aggregate queries is not supported");
  EXPECT_EQ(ErrorOf("SELECT integral(temp) FROM machine"), "function integral() is not supported");
  EXPECT_EQ(ErrorOf("SELECT mean(temp) FROM machine GROUP BY time(1m)"),
            "a GROUP BY time query needs a lower time bound in WHERE");
  EXPECT_EQ(ErrorOf("SELECT mean(temp) FROM machine WHERE time > now() - 1h OR asset_id = 'm0'"),
            "time conditions joined by OR are not supported");
  EXPECT_NE(ErrorOf("SELECT mean(temp) FROM machine WHERE time > now() - 1h tz('Europe/Berlin')")
                .find("only UTC"),
            std::string::npos);
  InfluxQlOptions tight;
  tight.max_points = 100;
  EXPECT_NE(ErrorOf("SELECT * FROM machine", tight).find("more than 100 points"),
            std::string::npos);
  tight = {};
  tight.max_series = 2;
  EXPECT_NE(ErrorOf("SELECT * FROM machine", tight).find("more than 2 series"), std::string::npos);
  tight = {};
  tight.max_buckets = 10;
  EXPECT_NE(
      ErrorOf("SELECT mean(temp) FROM machine WHERE time > now() - 1h GROUP BY time(1s)", tight)
          .find("GROUP BY time buckets"),
      std::string::npos);

  for (const std::string& bad :
       std::vector<std::string>{"",
                                ";",
                                "SELECT",
                                "SELECT FROM m",
                                "SELECT * FROM",
                                "SELECT * FROM m WHERE",
                                "SELECT * FROM m WHERE a = ",
                                "SHOW",
                                "SHOW TAG VALUES FROM m",
                                "SELECT mean(v FROM m",
                                "SELECT * FROM m WHERE a =~ /(/",
                                "SELECT * FROM m WHERE time > 10x",
                                "SELECT * FROM m LIMIT -1",
                                "DROP DATABASE acme",
                                "SELECT * FROM m GROUP BY time(0s)",
                                "SELECT * FROM \"m",
                                "SELECT * FROM m WHERE a = 'x",
                                "SELECT ~ FROM m",
                                std::string("SELECT * FROM m\0", 16),
                                "SELECT * FROM m WHERE time > 99999999999999999999d"}) {
    InfluxQlOptions options;
    options.now_ns = clock_.NowNs();
    auto r = RunInfluxQl(*db_, tenant_, bad, options);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().message().starts_with("error parsing query: "))
        << bad << ": " << r.status().ToString();
  }
}

}  // namespace
}  // namespace foresight::query
