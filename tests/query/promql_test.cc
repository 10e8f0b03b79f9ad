// PromQL over real storage: the series mapping, Prometheus' definitions of the functions,
// aggregation, arithmetic, lookback and steps, and what is refused.
#include "query/query.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <cmath>

namespace foresight::query {
namespace {

using storage::Storage;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kT0 = 1'780'272'000LL * kSecond;  // 2026-06-01T00:00:00Z

class PromQl : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options options;
    options.fsync = storage::FsyncPolicy::kNever;
    db_ = Storage::Open(dir_.Sub("db"), options).value();
    tenant_ = db_->CreateTenant("acme").value();
  }

  storage::SeriesId Series(const std::string& measurement, const std::string& field,
                           std::vector<std::pair<std::string, std::string>> tags,
                           storage::ValueType type = storage::ValueType::kFloat) {
    storage::SeriesSpec spec{{measurement, std::move(tags), field}, type};
    return db_->ResolveSeries(tenant_, {&spec, 1}).value()[0].value();
  }
  void Append(storage::SeriesId id, int64_t ts, double v) {
    storage::Sample s{id, ts, storage::Value::Float(v)};
    ASSERT_TRUE(db_->Append(tenant_, {&s, 1}).ok());
  }

  PromResult Instant(const std::string& expr, int64_t t, PromOptions options = {}) {
    auto r = PromInstantQuery(*db_, tenant_, expr, t, options);
    EXPECT_TRUE(r.ok()) << expr << ": " << r.status().ToString();
    return r.ok() ? *r : PromResult{};
  }
  // The single value of an instant vector with one element.
  double Value(const std::string& expr, int64_t t) {
    PromResult r = Instant(expr, t);
    EXPECT_EQ(r.series.size(), 1u) << expr;
    return r.series.empty() ? NAN : r.series[0].samples.at(0).value;
  }
  std::string Error(const std::string& expr, PromOptions options = {}) {
    auto r = PromInstantQuery(*db_, tenant_, expr, kT0, options);
    EXPECT_FALSE(r.ok()) << expr;
    return r.ok() ? "" : std::string(r.status().message());
  }

  // A counter rising 1 per second, sampled every 10 s from kT0 + 10 s to kT0 + 300 s.
  storage::SeriesId Counter(const std::string& job) {
    auto id = Series("http", "requests_total", {{"job", job}});
    for (int s = 10; s <= 300; s += 10) Append(id, kT0 + s * kSecond, s);
    return id;
  }

  testing::TempDir dir_;
  std::unique_ptr<Storage> db_;
  storage::TenantId tenant_ = 0;
};

TEST_F(PromQl, NamesSeriesAfterMeasurementAndFieldWithTheTagsAsLabels) {
  Append(Series("machine room", "temp-c", {{"asset.id", "m1"}}), kT0, 21.5);
  Append(Series("up", "value", {{"job", "node"}}), kT0, 1);
  Series("log", "line", {}, storage::ValueType::kString);
  auto all = PromSeriesMatching(*db_, tenant_, {});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u) << "strings are not series";
  EXPECT_EQ((*all)[0], (PromLabels{{"__name__", "machine_room_temp_c"}, {"asset_id", "m1"}}));
  EXPECT_EQ((*all)[1], (PromLabels{{"__name__", "up"}, {"job", "node"}}))
      << "a field named value is the measurement alone, as remote write stores it";
  EXPECT_EQ(Value("machine_room_temp_c", kT0), 21.5);
  const std::vector<std::string> selectors = {"{job=~\"no.*\"}"};
  EXPECT_EQ(PromSeriesMatching(*db_, tenant_, selectors)->size(), 1u);
}

TEST_F(PromQl, SelectsWithAllFourMatchersAndLooksBackFiveMinutes) {
  for (const std::string& job : std::vector<std::string>{"api", "web", "db"}) {
    Append(Series("up", "value", {{"job", job}}), kT0, job == "db" ? 0 : 1);
  }
  EXPECT_EQ(Instant("up{job=\"api\"}", kT0).series.size(), 1u);
  EXPECT_EQ(Instant("up{job!=\"api\"}", kT0).series.size(), 2u);
  EXPECT_EQ(Instant("up{job=~\"a.*|w.*\"}", kT0).series.size(), 2u);
  EXPECT_EQ(Instant("up{job=~\"a\"}", kT0).series.size(), 0u) << "regexes are anchored";
  EXPECT_EQ(Instant("up{job!~\"api|web\"}", kT0).series.size(), 1u);
  EXPECT_EQ(Instant("{__name__=\"up\", job=\"db\"}", kT0).series.size(), 1u);
  EXPECT_EQ(Instant("up", kT0 + 299 * kSecond).series.size(), 3u);
  EXPECT_EQ(Instant("up", kT0 + 300 * kSecond).series.size(), 0u)
      << "stale once the lookback (t - 5m, t] no longer holds the sample";
  EXPECT_EQ(Instant("up", kT0 - 1).series.size(), 0u) << "nothing from the future";
  EXPECT_EQ(Instant("up offset 1m", kT0 + 60 * kSecond).series.size(), 3u);
}

TEST_F(PromQl, AnInstantSelectorBeforeTheNewestPointReadsTheSampleThenNotTheNewest) {
  auto id = Series("pump", "temperature", {{"asset_id", "p1"}});
  Append(id, kT0, 1);
  Append(id, kT0 + 60 * kSecond, 2);
  Append(id, kT0 + 600 * kSecond, 3);
  EXPECT_EQ(Value("pump_temperature", kT0 + 90 * kSecond), 2);
  EXPECT_EQ(Value("pump_temperature", kT0 + 600 * kSecond), 3);
  EXPECT_EQ(Value("pump_temperature", kT0 + 700 * kSecond), 3);
  EXPECT_TRUE(Instant("pump_temperature", kT0 + 1000 * kSecond).series.empty());  // past 5 min
  EXPECT_TRUE(Instant("pump_temperature", kT0 - kSecond).series.empty());
}

TEST_F(PromQl, RateIncreaseAndDeltaExtrapolateAsPrometheusDoes) {
  Counter("api");
  const int64_t t = kT0 + 300 * kSecond;
  // Samples 10..300 s in (0, 300]: 290 over 290 s, extrapolated 10 s to the window's start
  // (less than 1.1 sample intervals away, and where the counter would have been zero).
  EXPECT_NEAR(Value("rate(http_requests_total[5m])", t), 1.0, 1e-12);
  EXPECT_NEAR(Value("increase(http_requests_total[5m])", t), 300, 1e-9);
  EXPECT_NEAR(Value("delta(http_requests_total[5m])", t), 300, 1e-9);
  EXPECT_NEAR(Value("irate(http_requests_total[1m])", t), 1.0, 1e-12);
  // 25 samples 60..300 s in (55, 300]: the edges are 5 s and 0 s away.
  EXPECT_NEAR(Value("increase(http_requests_total[245s])", t), 240 * 245.0 / 240, 1e-9);
  EXPECT_EQ(Instant("rate(http_requests_total[5s])", t).series.size(), 0u) << "one sample";
  PromResult named = Instant("rate(http_requests_total[5m])", t);
  EXPECT_EQ(named.series[0].labels, (PromLabels{{"job", "api"}})) << "functions drop the name";
}

TEST_F(PromQl, ACounterThatDropsHasReset) {
  auto id = Series("c", "total", {});
  const double values[] = {10, 20, 30, 5, 15};  // restarted between 30 and 5
  for (int i = 0; i < 5; ++i) Append(id, kT0 + (i + 1) * 10 * kSecond, values[i]);
  const int64_t t = kT0 + 50 * kSecond;
  // 15 - 10 + 30 = 35 over 40 s of samples. The window starts 20 s before the first sample,
  // where the counter would have been zero 11.4 s before it: more than 1.1 sample intervals
  // either way, so half an interval (5 s) is added; the end is a sample. 35 * 45 / 40.
  EXPECT_NEAR(Value("increase(c_total[1m])", t), 35 * 45.0 / 40, 1e-9);
  EXPECT_NEAR(Value("irate(c_total[1m])", t), 10.0 / 10, 1e-12);
  EXPECT_NEAR(Value("delta(c_total[1m])", t), 5 * 45.0 / 40, 1e-9) << "delta is not a counter";
}

TEST_F(PromQl, OverTimeFunctionsAggregateTheWindow) {
  auto id = Series("g", "v", {});
  const double values[] = {4, 1, 3, 2, 5};
  for (int i = 0; i < 5; ++i) Append(id, kT0 + i * 10 * kSecond, values[i]);
  const int64_t t = kT0 + 40 * kSecond;
  EXPECT_EQ(Value("avg_over_time(g_v[1m])", t), 3);
  EXPECT_EQ(Value("sum_over_time(g_v[1m])", t), 15);
  EXPECT_EQ(Value("min_over_time(g_v[1m])", t), 1);
  EXPECT_EQ(Value("max_over_time(g_v[1m])", t), 5);
  EXPECT_EQ(Value("count_over_time(g_v[1m])", t), 5);
  EXPECT_EQ(Value("last_over_time(g_v[1m])", t), 5);
  EXPECT_EQ(Value("quantile_over_time(0.5, g_v[1m])", t), 3);
  EXPECT_NEAR(Value("quantile_over_time(0.9, g_v[1m])", t), 4.6, 1e-12);
  EXPECT_EQ(Value("count_over_time(g_v[20s])", t), 2) << "the window is (t - 20 s, t]";
  PromResult raw = Instant("g_v[1m]", t);
  ASSERT_EQ(raw.type, PromResult::Type::kMatrix);
  EXPECT_EQ(raw.series.at(0).samples.size(), 5u);
}

TEST_F(PromQl, AggregatesByAndWithoutLabelsAndDoesArithmeticWithScalars) {
  const char* sites[] = {"north", "north", "south"};
  for (int i = 0; i < 3; ++i) {
    Append(Series("temp", "c", {{"site", sites[i]}, {"asset", "a" + std::to_string(i)}}), kT0,
           10.0 * (i + 1));
  }
  PromResult by = Instant("sum by (site) (temp_c)", kT0);
  ASSERT_EQ(by.series.size(), 2u);
  EXPECT_EQ(by.series[0].labels, (PromLabels{{"site", "north"}}));
  EXPECT_EQ(by.series[0].samples[0].value, 30);
  EXPECT_EQ(by.series[1].samples[0].value, 30);
  PromResult without = Instant("max without (asset) (temp_c)", kT0);
  ASSERT_EQ(without.series.size(), 2u);
  EXPECT_EQ(without.series[0].labels, (PromLabels{{"site", "north"}}));
  EXPECT_EQ(without.series[0].samples[0].value, 20);
  EXPECT_EQ(Value("avg(temp_c)", kT0), 20);
  EXPECT_EQ(Value("min(temp_c)", kT0), 10);
  EXPECT_EQ(Value("count(temp_c)", kT0), 3);
  EXPECT_EQ(Value("avg(temp_c) * 9 / 5 + 32", kT0), 68);
  EXPECT_EQ(Value("100 - avg(temp_c)", kT0), 80);
  EXPECT_EQ(Value("2 ^ 3 ^ 2 - avg(temp_c) * 0", kT0), 512) << "^ is right-associative";
  PromResult scalar = Instant("1 + 2 * 3", kT0);
  EXPECT_EQ(scalar.type, PromResult::Type::kScalar);
  EXPECT_EQ(scalar.series.at(0).samples.at(0).value, 7);
  EXPECT_EQ(Instant("-temp_c", kT0).series.at(0).samples.at(0).value, -10);
}

// Found by query_language_fuzz (corpus: finding_promql_deep_parentheses): deep parentheses
// overflowed the parser's stack.
TEST_F(PromQl, RefusesExpressionsNestedDeeperThanItCanWalk) {
  EXPECT_NE(Error(std::string(100'000, '(') + "1" + std::string(100'000, ')'))
                .find("nested more than 128 deep"),
            std::string::npos);
  EXPECT_NE(Error(std::string(100'000, '-') + "1").find("nested more than 128 deep"),
            std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 100'000; ++i) chain += "+1";
  EXPECT_NE(Error(chain).find("nested more than 128 deep"), std::string::npos)
      << "a long chain of operators is a deep tree too";
  EXPECT_EQ(Instant("((((1))))", kT0).series.at(0).samples.at(0).value, 1)
      << "shallow nesting still parses";
}

TEST_F(PromQl, RangeQueriesEvaluateEveryStep) {
  Counter("api");
  auto r = PromRangeQuery(*db_, tenant_, "rate(http_requests_total[1m])", kT0 + 60 * kSecond,
                          kT0 + 300 * kSecond, 60 * kSecond, PromOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->type, PromResult::Type::kMatrix);
  ASSERT_EQ(r->series.size(), 1u);
  ASSERT_EQ(r->series[0].samples.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r->series[0].samples[i].ts_ns, kT0 + static_cast<int64_t>(60 + 60 * i) * kSecond);
    EXPECT_NEAR(r->series[0].samples[i].value, 1.0, 1e-12);
  }
  auto steps = PromRangeQuery(*db_, tenant_, "http_requests_total", kT0, kT0 + 3600 * kSecond,
                              kSecond / 10, PromOptions{});
  ASSERT_FALSE(steps.ok());
  EXPECT_NE(steps.status().message().find("maximum resolution"), std::string_view::npos);
}

TEST_F(PromQl, RefusesWhatItDoesNotSupportAndBadInputWithAClearError) {
  Counter("api");
  EXPECT_NE(Error("topk(3, http_requests_total)").find("aggregation topk is not supported"),
            std::string::npos);
  EXPECT_NE(
      Error("histogram_quantile(0.9, x)").find("function histogram_quantile() is not supported"),
      std::string::npos);
  EXPECT_NE(Error("http_requests_total / http_requests_total").find("two vectors"),
            std::string::npos);
  EXPECT_NE(Error("rate(http_requests_total)").find("needs a range vector"), std::string::npos);
  EXPECT_NE(Error("rate(http_requests_total[5m:1m])").find("subqueries"), std::string::npos);
  PromOptions tight;
  tight.max_series = 0;
  EXPECT_NE(Error("http_requests_total", tight).find("more than 0 series"), std::string::npos);
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "(",
                                                         "up{",
                                                         "up{job}",
                                                         "up{job=}",
                                                         "up{job=\"x}",
                                                         "up[5]",
                                                         "up[",
                                                         "rate(up[5m]",
                                                         "sum by (",
                                                         "1 +",
                                                         "up{job=~\"(\"}",
                                                         "up @ 1",
                                                         "up[99999999999999999999y]",
                                                         "\x01",
                                                         std::string("up\0", 3),
                                                         "{}",
                                                         "sum(",
                                                         "- -",
                                                         "up offset"}) {
    auto r = PromInstantQuery(*db_, tenant_, bad, kT0, PromOptions{});
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace foresight::query
