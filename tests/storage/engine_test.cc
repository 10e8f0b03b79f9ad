#include "storage/storage.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <map>
#include <random>
#include <thread>

namespace foresight::storage {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::nanoseconds;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kT0 = 1'700'000'000 * kSec - (1'700'000'000 * kSec) % kDay;  // a midnight

template <typename T>
T Must(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}
void Must(const Status& s) { ASSERT_TRUE(s.ok()) << s.ToString(); }

SeriesSpec Spec(const std::string& asset, const std::string& field,
                ValueType type = ValueType::kFloat) {
  return {{"machine", {{"asset_id", asset}, {"site", "plant-1"}}, field}, type};
}

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(Options options = Options()) {
    if (db_) Must(db_->Close());
    db_.reset();
    options.fsync = FsyncPolicy::kNever;  // durability has its own tests; keep these fast
    db_ = Must(Storage::Open(dir_.Sub("db"), options));
    tenant_ = Must(db_->CreateTenant("acme"));
  }

  SeriesId Series(const std::string& asset, const std::string& field,
                  ValueType type = ValueType::kFloat) {
    std::vector<SeriesSpec> specs = {Spec(asset, field, type)};
    auto ids = Must(db_->ResolveSeries(tenant_, specs));
    return Must(std::move(ids[0]));
  }

  void Write(SeriesId s, std::vector<std::pair<int64_t, double>> points) {
    std::vector<Sample> samples;
    for (auto [ts, v] : points) samples.push_back({s, ts, Value::Float(v)});
    Must(db_->Append(tenant_, samples));
  }

  std::vector<std::pair<int64_t, double>> Read(SeriesId s, int64_t from = INT64_MIN,
                                               int64_t to = INT64_MAX) {
    Points p = Must(db_->ReadRaw(tenant_, s, from, to));
    std::vector<std::pair<int64_t, double>> out;
    for (size_t i = 0; i < p.size(); ++i) out.emplace_back(p.ts_ns[i], p.AsDouble(i));
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Storage> db_;
  TenantId tenant_ = 0;
};

using Pts = std::vector<std::pair<int64_t, double>>;

TEST_F(StorageTest, AppendedPointsAreReadableAsSoonAsAcknowledged) {
  SeriesId s = Series("pump-1", "temperature");
  Write(s, {{kT0, 20.5}, {kT0 + kSec, 20.6}});
  EXPECT_EQ(Read(s), (Pts{{kT0, 20.5}, {kT0 + kSec, 20.6}}));
}

TEST_F(StorageTest, ReadsAreHalfOpenRanges) {
  SeriesId s = Series("pump-1", "temperature");
  Write(s, {{kT0, 1}, {kT0 + 1, 2}, {kT0 + 2, 3}});
  Must(db_->Flush());
  EXPECT_EQ(Read(s, kT0 + 1, kT0 + 2), (Pts{{kT0 + 1, 2}}));
}

TEST_F(StorageTest, LastWriteWinsForOneTimestampInHeadsBlocksAndAcrossThem) {
  SeriesId s = Series("pump-1", "temperature");
  Write(s, {{kT0, 1}, {kT0, 2}});  // both in the head
  EXPECT_EQ(Read(s), (Pts{{kT0, 2}}));
  Must(db_->Flush());
  EXPECT_EQ(Read(s), (Pts{{kT0, 2}}));
  Write(s, {{kT0, 3}});  // head over block
  EXPECT_EQ(Read(s), (Pts{{kT0, 3}}));
  Must(db_->Flush());  // merged into the block
  EXPECT_EQ(Read(s), (Pts{{kT0, 3}}));
  Reopen();
  EXPECT_EQ(Read(s), (Pts{{kT0, 3}}));
}

TEST_F(StorageTest, OutOfOrderPointsLandInTimeOrderWithoutDuplicates) {
  SeriesId s = Series("pump-1", "temperature");
  Pts expected;
  for (int i = 0; i < 3000; i += 2) expected.push_back({kT0 + i * kSec, i});
  Write(s, expected);
  Must(db_->Flush());
  Pts late;
  for (int i = 2999; i > 0; i -= 2) late.push_back({kT0 + i * kSec, i});
  Write(s, late);
  Must(db_->Flush());
  for (auto p : late) expected.push_back(p);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Read(s), expected);
  Reopen();
  EXPECT_EQ(Read(s), expected);
}

TEST_F(StorageTest, PointsSurviveACleanCloseAndReopen) {
  SeriesId s = Series("pump-1", "temperature");
  Write(s, {{kT0, 1}, {kT0 + kSec, 2}});
  db_.reset();  // the destructor seals the head, so reopening replays nothing
  Reopen();
  EXPECT_EQ(Read(s), (Pts{{kT0, 1}, {kT0 + kSec, 2}}));
  EXPECT_EQ(db_->GetStats().head_points, 0u);
}

TEST_F(StorageTest, KeepsIntegerBooleanAndStringSeries) {
  SeriesId i = Series("pump-1", "starts", ValueType::kInt);
  SeriesId b = Series("pump-1", "running", ValueType::kBool);
  SeriesId str = Series("pump-1", "state", ValueType::kString);
  std::vector<Sample> samples = {{i, kT0, Value::Int(-42)},
                                 {b, kT0, Value::Bool(true)},
                                 {str, kT0, Value::String("fault: bearing")},
                                 {str, kT0 + 1, Value::String("ok")}};
  Must(db_->Append(tenant_, samples));
  Must(db_->Flush());
  Reopen();
  EXPECT_EQ(static_cast<int64_t>(Must(db_->ReadRaw(tenant_, i, 0, INT64_MAX)).bits[0]), -42);
  EXPECT_EQ(Must(db_->ReadRaw(tenant_, b, 0, INT64_MAX)).bits[0], 1u);
  EXPECT_EQ(Must(db_->ReadRaw(tenant_, str, 0, INT64_MAX)).strings,
            (std::vector<std::string>{"fault: bearing", "ok"}));
}

TEST_F(StorageTest, RejectsABatchWithAnUnknownSeriesOrAWrongTypeAndStoresNoneOfIt) {
  SeriesId s = Series("pump-1", "temperature");
  std::vector<Sample> unknown = {{s, kT0, Value::Float(1)}, {999, kT0, Value::Float(1)}};
  EXPECT_EQ(db_->Append(tenant_, unknown).code(), Status::Code::kInvalidArgument);
  std::vector<Sample> wrong = {{s, kT0, Value::Float(1)}, {s, kT0 + 1, Value::Int(1)}};
  Status st = db_->Append(tenant_, wrong);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("holds float values"), std::string_view::npos) << st.ToString();
  EXPECT_TRUE(Read(s).empty());
}

TEST_F(StorageTest, ResolvesTheSameSeriesWhateverTheTagOrder) {
  SeriesSpec a{{"m", {{"a", "1"}, {"b", "2"}}, "f"}, ValueType::kFloat};
  SeriesSpec b{{"m", {{"b", "2"}, {"a", "1"}}, "f"}, ValueType::kFloat};
  std::vector<SeriesSpec> specs = {a, b};
  auto ids = Must(db_->ResolveSeries(tenant_, specs));
  EXPECT_EQ(Must(std::move(ids[0])), Must(std::move(ids[1])));
  Reopen();
  auto again = Must(db_->ResolveSeries(tenant_, specs));
  EXPECT_EQ(Must(std::move(again[0])), 1u);
  EXPECT_EQ(Must(db_->GetSeries(tenant_, 1)).key.tags[0].first, "a");
}

TEST_F(StorageTest, ReportsAFieldTypeConflictPerSpecAndCreatesTheRest) {
  Series("pump-1", "temperature");
  std::vector<SeriesSpec> specs = {Spec("pump-1", "temperature", ValueType::kInt),
                                   Spec("pump-1", "pressure")};
  auto ids = Must(db_->ResolveSeries(tenant_, specs));
  ASSERT_FALSE(ids[0].ok());
  EXPECT_NE(ids[0].status().message().find("holds float values, not integer"),
            std::string_view::npos);
  EXPECT_TRUE(ids[1].ok());
}

TEST_F(StorageTest, RejectsMalformedSeriesKeysAndTenantNames) {
  std::vector<SeriesSpec> specs = {{{"", {}, "f"}, ValueType::kFloat},
                                   {{"m", {}, ""}, ValueType::kFloat},
                                   {{"m", {{"a", "1"}, {"a", "2"}}, "f"}, ValueType::kFloat}};
  auto ids = Must(db_->ResolveSeries(tenant_, specs));
  for (auto& id : ids) EXPECT_EQ(id.status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(db_->CreateTenant("").ok());
  EXPECT_FALSE(db_->CreateTenant("a/b").ok());
  EXPECT_FALSE(db_->CreateTenant(std::string(65, 'a')).ok());
  EXPECT_EQ(db_->ReadRaw(99, 1, 0, 1).status().code(), Status::Code::kNotFound);
}

TEST_F(StorageTest, TenantsWithPrefixNamesAndIdsNeverSeeEachOthersData) {
  TenantId t1 = Must(db_->CreateTenant("t1"));
  // Create enough tenants that an id shares a decimal prefix with t1's id too.
  TenantId t10 = 0;
  for (int i = 2; i <= 10; ++i) t10 = Must(db_->CreateTenant("t" + std::to_string(i)));
  std::vector<SeriesSpec> specs = {Spec("a", "f")};
  SeriesId s1 = Must(std::move(Must(db_->ResolveSeries(t1, specs))[0]));
  SeriesId s10 = Must(std::move(Must(db_->ResolveSeries(t10, specs))[0]));
  EXPECT_EQ(s1, s10);  // same series id in each tenant
  std::vector<Sample> a = {{s1, kT0, Value::Float(1)}};
  std::vector<Sample> b = {{s10, kT0 + 1, Value::Float(10)}};
  Must(db_->Append(t1, a));
  Must(db_->Append(t10, b));
  Must(db_->Flush());
  Points p1 = Must(db_->ReadRaw(t1, s1, INT64_MIN, INT64_MAX));
  Points p10 = Must(db_->ReadRaw(t10, s10, INT64_MIN, INT64_MAX));
  ASSERT_EQ(p1.size(), 1u);
  ASSERT_EQ(p10.size(), 1u);
  EXPECT_EQ(p1.AsDouble(0), 1);
  EXPECT_EQ(p10.AsDouble(0), 10);
  EXPECT_EQ(db_->ListSeries(t1).size(), 1u);
  EXPECT_EQ(Must(db_->FindTenant("t10")), t10);
}

// Aggregates recomputed from raw points, the reference the rollups must equal.
std::map<int64_t, Bucket> Reference(const Points& p, int64_t step) {
  std::map<int64_t, Bucket> out;
  for (size_t i = 0; i < p.size(); ++i) {
    int64_t b = p.ts_ns[i] - (((p.ts_ns[i] % step) + step) % step);
    double v = p.AsDouble(i);
    auto [it, fresh] = out.try_emplace(b, Bucket{b, 0, 0, v, v, v, v, 0});
    Bucket& k = it->second;
    k.count++;
    k.sum += v;
    k.sum_squares += v * v;
    k.min = std::min(k.min, v);
    k.max = std::max(k.max, v);
    k.last = v;
  }
  return out;
}

void ExpectBucketsMatch(const std::vector<Bucket>& got, const std::map<int64_t, Bucket>& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (const Bucket& g : got) {
    auto it = want.find(g.start_ns);
    ASSERT_NE(it, want.end()) << what << " bucket " << g.start_ns;
    const Bucket& w = it->second;
    EXPECT_EQ(g.count, w.count) << what;
    EXPECT_EQ(g.min, w.min) << what;
    EXPECT_EQ(g.max, w.max) << what;
    EXPECT_EQ(g.first, w.first) << what;
    EXPECT_EQ(g.last, w.last) << what;
    EXPECT_NEAR(g.sum, w.sum, 1e-9 * std::max(1.0, std::fabs(w.sum))) << what;
    EXPECT_NEAR(g.sum_squares, w.sum_squares, 1e-9 * std::max(1.0, w.sum_squares)) << what;
  }
}

TEST_F(StorageTest, RollupsEqualAggregatesRecomputedFromRawPoints) {
  SeriesId s = Series("pump-1", "vibration");
  std::mt19937_64 rng(42);
  // Three days at ~7 s with jitter, written in shuffled chunks with duplicates, and flushed
  // between chunks, so rollups are rebuilt over partial minutes, hours and days.
  std::vector<std::pair<int64_t, double>> all;
  for (int64_t t = kT0 - kHour; t < kT0 + 3 * kDay;
       t += 7 * kSec + static_cast<int64_t>(rng() % kSec)) {
    all.push_back({t, static_cast<double>(rng() % 10000) / 100});
  }
  std::shuffle(all.begin(), all.end(), rng);
  for (size_t i = 0; i < all.size(); i += 4000) {
    Pts chunk(all.begin() + i, all.begin() + std::min(all.size(), i + 4000));
    chunk.push_back({chunk.front().first, -1.0});  // a rewrite of one timestamp
    Write(s, chunk);
    if (rng() % 2) Must(db_->Flush());
  }
  Must(db_->Flush());
  Write(s, {{kT0 + 2 * kDay + 5 * kMin, 1234.5}});  // one unsealed point

  Points raw = Must(db_->ReadRaw(tenant_, s, INT64_MIN, INT64_MAX));
  for (int64_t step : {kMin, 5 * kMin, kHour, 3 * kHour, kDay, 7 * kSec}) {
    auto got =
        Must(db_->ReadDownsampled(tenant_, s, kT0 - kDay, kT0 + 4 * kDay, nanoseconds(step)));
    ExpectBucketsMatch(got, Reference(raw, step), "step " + std::to_string(step / kSec) + " s");
  }
  Reopen();
  auto got = Must(db_->ReadDownsampled(tenant_, s, kT0 - kDay, kT0 + 4 * kDay, nanoseconds(kHour)));
  ExpectBucketsMatch(got, Reference(raw, kHour), "after reopen");
}

TEST_F(StorageTest, RollupsStayExactWhenAppendsArriveInOrderAcrossManyFlushes) {
  SeriesId s = Series("pump-1", "vibration");
  std::mt19937_64 rng(8);
  // In-order chunks whose boundaries cut minutes, hours and days, then one late point that
  // rewrites a sealed timestamp, then more in-order data.
  int64_t t = kT0 - 2 * kHour;
  for (int chunk = 0; chunk < 40; ++chunk) {
    Pts points;
    for (int i = 0; i < 173; ++i) {
      points.push_back({t, static_cast<double>(rng() % 5000) / 100});
      t += 13 * kSec;
    }
    Write(s, points);
    Must(db_->Flush());
    if (chunk == 20) {
      Write(s, {{kT0 + 17 * kMin + 13 * kSec, 999.5}, {kT0 + 17 * kMin + 14 * kSec, -1}});
      Must(db_->Flush());
    }
  }
  Points raw = Must(db_->ReadRaw(tenant_, s, INT64_MIN, INT64_MAX));
  for (int64_t step : {kMin, kHour, kDay, 2 * kMin}) {
    auto got =
        Must(db_->ReadDownsampled(tenant_, s, kT0 - kDay, kT0 + 2 * kDay, nanoseconds(step)));
    ExpectBucketsMatch(got, Reference(raw, step), "step " + std::to_string(step / kSec) + " s");
  }
}

TEST_F(StorageTest, RejectsTimestampsOutsideTheSupportedRange) {
  SeriesId s = Series("pump-1", "temperature");
  for (int64_t ts : {INT64_MAX, INT64_MIN, kMaxTimestampNs + 1}) {
    std::vector<Sample> samples = {{s, kT0, Value::Float(1)}, {s, ts, Value::Float(2)}};
    Status st = db_->Append(tenant_, samples);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(st.message().find("sample 1"), std::string_view::npos) << st.ToString();
  }
  Write(s, {{kMaxTimestampNs, 1}, {kMinTimestampNs, 2}});  // the edges themselves are fine
  Must(db_->Flush());
  EXPECT_EQ(Read(s), (Pts{{kMinTimestampNs, 2}, {kMaxTimestampNs, 1}}));
  for (auto step : {nanoseconds(kMin), nanoseconds(kHour), nanoseconds(kDay)}) {
    auto buckets = Must(db_->ReadDownsampled(tenant_, s, INT64_MIN, INT64_MAX, step * 1000));
    ASSERT_EQ(buckets.size(), 2u);
    EXPECT_EQ(buckets[0].first, 2);
    EXPECT_EQ(buckets[1].first, 1);
  }
  EXPECT_EQ(db_->ReadDownsampled(tenant_, s, INT64_MIN, INT64_MAX, minutes(1)).status().code(),
            Status::Code::kInvalidArgument);  // too many buckets, said so instead of wrapping
}

TEST_F(StorageTest, DownsamplingManySeriesAnswersAsEachAloneInTheOrderAsked) {
  std::vector<SeriesId> series;
  for (int i = 0; i < 5; ++i) series.push_back(Series("pump-" + std::to_string(i), "rpm"));
  std::mt19937_64 rng(5);
  for (int k = 0; k < 600; ++k) {
    for (size_t i = 0; i < series.size(); ++i) {
      if (i == 3 && k > 100) continue;  // one series stops early, one has a hole
      if (i == 1 && k > 200 && k < 400) continue;
      Write(series[i], {{kT0 + k * 10 * kSec, static_cast<double>(rng() % 1000)}});
    }
    if (k == 300) Must(db_->Flush());  // sealed rollups and unsealed heads both
  }
  const std::vector<SeriesId> asked = {series[4], series[0], series[3],
                                       series[1], series[0], series[2]};
  for (nanoseconds step : {nanoseconds(minutes(1)), nanoseconds(minutes(5)), nanoseconds(hours(1)),
                           nanoseconds(30 * kSec)}) {
    auto many =
        Must(db_->ReadDownsampledMany(tenant_, asked, kT0 + 7 * kSec, kT0 + 90 * kMin, step));
    ASSERT_EQ(many.size(), asked.size());
    for (size_t i = 0; i < asked.size(); ++i) {
      auto alone =
          Must(db_->ReadDownsampled(tenant_, asked[i], kT0 + 7 * kSec, kT0 + 90 * kMin, step));
      ASSERT_EQ(many[i].size(), alone.size()) << i;
      for (size_t b = 0; b < alone.size(); ++b) {
        EXPECT_EQ(many[i][b].start_ns, alone[b].start_ns);
        EXPECT_EQ(many[i][b].count, alone[b].count);
        EXPECT_EQ(many[i][b].sum, alone[b].sum);
        EXPECT_EQ(many[i][b].min, alone[b].min);
        EXPECT_EQ(many[i][b].max, alone[b].max);
      }
    }
  }
  EXPECT_TRUE(Must(db_->ReadDownsampledMany(tenant_, {}, kT0, kT0 + kHour, minutes(1))).empty());
  const std::vector<SeriesId> unknown = {series[0], 999};
  EXPECT_FALSE(db_->ReadDownsampledMany(tenant_, unknown, kT0, kT0 + kHour, minutes(1)).ok());
}

TEST_F(StorageTest, DownsampledBucketsAreAlignedToTheStep) {
  SeriesId s = Series("pump-1", "vibration");
  Write(s, {{kT0 + 30 * kSec, 1}, {kT0 + 90 * kSec, 3}});
  auto got = Must(db_->ReadDownsampled(tenant_, s, kT0 + 45 * kSec, kT0 + kHour, minutes(1)));
  ASSERT_EQ(got.size(), 2u);  // the bucket holding `from` is whole
  EXPECT_EQ(got[0].start_ns, kT0);
  EXPECT_EQ(got[1].start_ns, kT0 + kMin);
  EXPECT_EQ(got[1].mean(), 3);
  EXPECT_FALSE(db_->ReadDownsampled(tenant_, s, 0, 1, nanoseconds(0)).ok());
}

TEST_F(StorageTest, LatestPointComesFromTheHeadOrTheNewestBlock) {
  SeriesId s = Series("pump-1", "temperature");
  EXPECT_EQ(db_->ReadLatest(tenant_, s).status().code(), Status::Code::kNotFound);
  Write(s, {{kT0 + 5, 5}, {kT0 + 9, 9}, {kT0 + 7, 7}});
  EXPECT_EQ(Must(db_->ReadLatest(tenant_, s)).ts_ns[0], kT0 + 9);
  Must(db_->Flush());
  Write(s, {{kT0 + 1, 1}});
  Points latest = Must(db_->ReadLatest(tenant_, s));
  EXPECT_EQ(latest.ts_ns[0], kT0 + 9);
  EXPECT_EQ(latest.AsDouble(0), 9);
}

TEST_F(StorageTest, ASeriesSnapshotIsSharedUntilASeriesIsCreated) {
  SeriesId first = Series("pump-1", "temperature");
  auto before = db_->SeriesSnapshot(tenant_);
  EXPECT_EQ(db_->SeriesSnapshot(tenant_), before);
  Series("pump-1", "temperature");  // resolving an existing series creates nothing
  EXPECT_EQ(db_->SeriesSnapshot(tenant_), before);
  SeriesId second = Series("pump-2", "temperature");
  auto after = db_->SeriesSnapshot(tenant_);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].id, first);
  EXPECT_EQ((*after)[1].id, second);
  EXPECT_EQ(before->size(), 1u) << "a snapshot taken earlier does not change";
  EXPECT_TRUE(db_->SeriesSnapshot(Must(db_->CreateTenant("other")))->empty());
}

TEST_F(StorageTest, TheLatestPointIsTheNewestWriteAmongEqualTimestampsWhereverItIs) {
  SeriesId s = Series("pump-1", "temperature");
  Write(s, {{kT0 + 20, 1}, {kT0 + 20, 2}, {kT0 + 10, 3}});
  EXPECT_EQ(Must(db_->ReadLatest(tenant_, s)).AsDouble(0), 2);
  Must(db_->Flush());
  EXPECT_EQ(Must(db_->ReadLatest(tenant_, s)).AsDouble(0), 2);  // from the block
  Write(s, {{kT0 + 20, 4}});
  EXPECT_EQ(Must(db_->ReadLatest(tenant_, s)).AsDouble(0), 4);  // the head's, newer, wins
  Write(s, {{kT0 + 30, 5}});
  Must(db_->Flush());
  Write(s, {{kT0 + 25, 6}});  // older than the newest block's last point
  Points latest = Must(db_->ReadLatest(tenant_, s));
  EXPECT_EQ(latest.ts_ns[0], kT0 + 30);
  EXPECT_EQ(latest.AsDouble(0), 5);
}

TEST_F(StorageTest, ALatestPointRetentionHasExpiredIsNotRead) {
  SeriesId s = Series("pump-1", "temperature");
  const int64_t now =
      std::chrono::duration_cast<nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  Write(s, {{now - 10 * kDay, 1}});
  Retention r;
  r.raw = std::chrono::hours(24 * 2);
  Must(db_->SetRetention(tenant_, r));
  EXPECT_EQ(db_->ReadLatest(tenant_, s).status().code(), Status::Code::kNotFound);
  Must(db_->Flush());
  EXPECT_EQ(db_->ReadLatest(tenant_, s).status().code(), Status::Code::kNotFound);
}

TEST_F(StorageTest, ASeriesThatStopsReportingReadsTheSameAcrossFlushes) {
  SeriesId quiet = Series("pump-1", "temperature");
  SeriesId busy = Series("pump-2", "temperature");
  Write(quiet, {{kT0 + 1, 1}, {kT0 + 2, 2}});
  Write(busy, {{kT0 + 1, 10}});
  Must(db_->Flush());  // each series' next head is sized after this one
  Write(busy, {{kT0 + 2, 20}});
  Must(db_->Flush());  // quiet's next head stayed empty
  Must(db_->Flush());
  EXPECT_EQ(Read(quiet), (Pts{{kT0 + 1, 1}, {kT0 + 2, 2}}));
  EXPECT_EQ(Read(busy), (Pts{{kT0 + 1, 10}, {kT0 + 2, 20}}));
  EXPECT_EQ(Must(db_->ReadLatest(tenant_, quiet)).ts_ns[0], kT0 + 2);
  EXPECT_EQ(db_->GetStats().head_points, 0u);
  EXPECT_EQ(db_->GetStats().blocks_written, 3u);  // no block for an empty head
  Write(quiet, {{kT0 + 3, 3}});
  Reopen();
  EXPECT_EQ(Read(quiet), (Pts{{kT0 + 1, 1}, {kT0 + 2, 2}, {kT0 + 3, 3}}));
}

TEST_F(StorageTest, RetentionDeletesExpiredRawDataAndRollups) {
  SeriesId s = Series("pump-1", "temperature");
  int64_t now =
      std::chrono::duration_cast<nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  Write(s, {{now - 10 * kDay, 1}, {now - 3 * kDay, 2}, {now - kHour, 3}});
  Must(db_->Flush());
  Retention r;
  r.raw = std::chrono::hours(24 * 2);
  r.minute = std::chrono::hours(24 * 5);
  Must(db_->SetRetention(tenant_, r));
  EXPECT_EQ(Read(s), (Pts{{now - kHour, 3}}));
  Must(db_->EnforceRetention());
  Reopen();
  EXPECT_EQ(Must(db_->GetRetention(tenant_)).set, r);
  // Lift the policy: what was enforced must be gone from disk, not just hidden.
  Must(db_->SetRetention(tenant_, Retention()));
  EXPECT_EQ(Read(s), (Pts{{now - kHour, 3}}));  // older blocks are deleted, not hidden
  auto minutes_left = Must(db_->ReadDownsampled(tenant_, s, now - 20 * kDay, now, minutes(1)));
  ASSERT_EQ(minutes_left.size(), 2u);  // the 10-day-old minute is gone, 3 days is within 5
  EXPECT_EQ(minutes_left[0].first, 2);
  auto days = Must(db_->ReadDownsampled(tenant_, s, now - 20 * kDay, now, hours(24)));
  uint64_t total = 0;
  for (const Bucket& b : days) total += b.count;
  EXPECT_EQ(total, 3u);  // day rollups are kept forever
}

TEST_F(StorageTest, ATenantFollowsTheDefaultRetentionExceptWhereItsOwnSettingsSayOtherwise) {
  ManualClock clock(kT0);
  Options options;
  options.clock = &clock;
  options.default_retention.raw = std::chrono::hours(24 * 2);
  options.default_retention.day = std::chrono::hours(24 * 400);
  Reopen(options);
  SeriesId s = Series("pump-1", "temperature");
  Write(s, {{kT0 - 3 * kDay, 1}, {kT0 - kDay, 2}});
  EXPECT_EQ(Read(s), (Pts{{kT0 - kDay, 2}}));  // the default's two days
  TenantRetention unset = Must(db_->GetRetention(tenant_));
  EXPECT_EQ(unset.set, Retention());
  EXPECT_EQ(unset.applied, options.default_retention);

  Retention own;
  own.raw = kKeepForever;
  own.minute = std::chrono::hours(24 * 30);
  Must(db_->SetRetention(tenant_, own));
  EXPECT_EQ(Read(s), (Pts{{kT0 - 3 * kDay, 1}, {kT0 - kDay, 2}}));
  Reopen(options);
  TenantRetention set = Must(db_->GetRetention(tenant_));
  EXPECT_EQ(set.set, own);
  EXPECT_EQ(set.applied.raw, std::nullopt);  // for ever
  EXPECT_EQ(set.applied.minute, std::chrono::hours(24 * 30));
  EXPECT_EQ(set.applied.day, std::chrono::hours(24 * 400));  // still the default's

  TenantId later = Must(db_->CreateTenant("later"));
  EXPECT_EQ(Must(db_->GetRetention(later)).applied, options.default_retention);
  db_.reset();  // before the clock it borrows
}

TEST_F(StorageTest, RetentionMeasuresAgesAgainstTheInjectedClock) {
  ManualClock clock(kT0);
  Options options;
  options.clock = &clock;
  Reopen(options);
  EXPECT_EQ(db_->clock().NowNs(), kT0);
  SeriesId s = Series("pump-1", "temperature");
  Write(s, {{kT0 - 3 * kDay, 1}, {kT0 - kDay, 2}});
  Retention r;
  r.raw = std::chrono::hours(24 * 2);
  Must(db_->SetRetention(tenant_, r));
  EXPECT_EQ(Read(s), (Pts{{kT0 - kDay, 2}}));
  clock.Advance(2 * kDay);  // now the second point is three days old too
  EXPECT_EQ(Read(s), Pts{});
  clock.Set(kT0 - 2 * kDay);  // a clock set back shows the older point again
  EXPECT_EQ(Read(s), (Pts{{kT0 - 3 * kDay, 1}, {kT0 - kDay, 2}}));
  db_.reset();  // before the clock it borrows
}

TEST_F(StorageTest, CheckpointRestoresToAnIdenticalDataDirectory) {
  SeriesId s = Series("pump-1", "temperature");
  Write(s, {{kT0, 1}, {kT0 + 1, 2}});
  Must(db_->Flush());
  Write(s, {{kT0 + 2, 3}});  // unsealed at checkpoint time: carried by the log
  Must(db_->Checkpoint(dir_.Sub("backup")));
  Write(s, {{kT0 + 3, 4}});  // after the checkpoint: not in it
  Must(Storage::Restore(dir_.Sub("backup"), dir_.Sub("restored")));
  auto restored = Must(Storage::Open(dir_.Sub("restored"), Options()));
  TenantId t = Must(restored->FindTenant("acme"));
  Points p = Must(restored->ReadRaw(t, s, INT64_MIN, INT64_MAX));
  EXPECT_EQ(p.ts_ns, (std::vector<int64_t>{kT0, kT0 + 1, kT0 + 2}));
  EXPECT_EQ(Storage::Restore(dir_.Sub("backup"), dir_.Sub("restored")).code(),
            Status::Code::kAlreadyExists);
  EXPECT_EQ(Storage::Restore(dir_.Sub("nothing"), dir_.Sub("x")).code(), Status::Code::kNotFound);
}

TEST_F(StorageTest, ConcurrentWritersShareGroupCommitsAndLoseNothing) {
  Options options;
  options.head_flush_bytes = 64 << 10;  // force background flushes during the run
  Reopen(options);
  constexpr int kThreads = 4, kBatches = 200, kPerBatch = 50;
  std::vector<SeriesId> series;
  for (int t = 0; t < kThreads; ++t) series.push_back(Series("pump-" + std::to_string(t), "rpm"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Sample> samples;
        for (int i = 0; i < kPerBatch; ++i) {
          samples.push_back({series[t], kT0 + (b * kPerBatch + i) * kSec, Value::Float(b)});
        }
        ASSERT_TRUE(db_->Append(tenant_, samples).ok());
        ASSERT_FALSE(Read(series[t], kT0 + b * kPerBatch * kSec, INT64_MAX).empty());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (SeriesId s : series) EXPECT_EQ(Read(s).size(), size_t{kBatches * kPerBatch});
  Stats stats = db_->GetStats();
  EXPECT_EQ(stats.points_appended, uint64_t{kThreads * kBatches * kPerBatch});
  EXPECT_LE(stats.wal_writes, stats.batches_appended);
}

TEST_F(StorageTest, ReadersSeeEveryPointWhileAFlushWritesManyChunks) {
  // Random values barely compress, so sealing these heads takes more than one 4 MiB write, and
  // readers meet a flush half written.
  constexpr int kSeries = 1000, kSteps = 1000;
  std::vector<SeriesId> series;
  for (int i = 0; i < kSeries; ++i) series.push_back(Series("pump-" + std::to_string(i), "rpm"));
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> value(0, 1);
  for (int step = 0; step < kSteps; step += 100) {
    std::vector<Sample> samples;
    for (int k = step; k < step + 100; ++k) {
      for (SeriesId id : series) samples.push_back({id, kT0 + k * kSec, Value::Float(value(rng))});
    }
    Must(db_->Append(tenant_, samples));
  }
  const std::vector<SeriesId> watched = {series.front(), series[kSeries / 2], series.back()};
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      for (SeriesId id : watched) ASSERT_EQ(Read(id).size(), size_t{kSteps});
      reads.fetch_add(1);
    }
  });
  const uint64_t blocks_before = db_->GetStats().blocks_written;
  Must(db_->Flush());
  done.store(true);
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(db_->GetStats().blocks_written - blocks_before, uint64_t{kSeries});
  EXPECT_EQ(db_->GetStats().head_points, 0u);
  EXPECT_EQ(db_->GetStats().head_bytes, 0u);
  for (SeriesId id : watched) EXPECT_EQ(Read(id).size(), size_t{kSteps});
}

TEST_F(StorageTest, LatestReadsKeepUpWithWritersAndFlushes) {
  Options options;
  options.head_flush_bytes = 16 << 10;  // background flushes while the reader reads
  Reopen(options);
  constexpr int kSteps = 4000;
  SeriesId s = Series("pump-1", "rpm");
  std::atomic<int64_t> written{-1};
  std::thread writer([&] {
    for (int k = 0; k < kSteps; ++k) {
      Write(s, {{kT0 + k * kSec, k}});
      written.store(k);
      if (k % 500 == 0) Must(db_->Flush());
    }
  });
  int64_t seen = -1;
  while (seen < kSteps - 1) {
    const int64_t at_least = written.load();
    auto latest = db_->ReadLatest(tenant_, s);
    if (at_least < 0) continue;
    ASSERT_TRUE(latest.ok()) << latest.status().ToString();
    const int64_t got = static_cast<int64_t>(latest->AsDouble(0));
    ASSERT_GE(got, at_least) << "a latest read missed a point written before it";
    ASSERT_GE(got, seen) << "a latest read went back in time";
    ASSERT_EQ(latest->ts_ns[0], kT0 + got * kSec);
    seen = got;
  }
  writer.join();
  Write(s, {{kT0, -1}});  // an old point, out of order, changes nothing
  Must(db_->Flush());
  EXPECT_EQ(Must(db_->ReadLatest(tenant_, s)).AsDouble(0), kSteps - 1);
  Write(s, {{kT0 + (kSteps - 1) * kSec, 7}});  // the same time again: the newer write wins
  Must(db_->Flush());
  EXPECT_EQ(Must(db_->ReadLatest(tenant_, s)).AsDouble(0), 7);
  Reopen(options);
  EXPECT_EQ(Must(db_->ReadLatest(tenant_, s)).AsDouble(0), 7);
}

TEST(FsyncPolicy, ParsesTheThreePoliciesAndRejectsOthers) {
  EXPECT_EQ(Must(ParseFsyncPolicy("always")), FsyncPolicy::kAlways);
  EXPECT_EQ(Must(ParseFsyncPolicy("interval")), FsyncPolicy::kInterval);
  EXPECT_EQ(Must(ParseFsyncPolicy("never")), FsyncPolicy::kNever);
  EXPECT_FALSE(ParseFsyncPolicy("sometimes").ok());
}

TEST(StatusTest, CarriesCodeAndMessageAndCopies) {
  Status s = Status::IOError("disk full");
  Status copy = s;
  EXPECT_EQ(copy.ToString(), "IO error: disk full");
  EXPECT_TRUE(Status::OK().ok());
  EXPECT_EQ(Status::OK().ToString(), "OK");
}

TEST_F(StorageTest, AssetsAreCreatedOnceDurablyAndFirstSightWins) {
  Asset pump{"p7", {{"site", "north"}, {"asset_type", "pump"}}, 5};
  EXPECT_EQ(Must(db_->EnsureAssets(tenant_, std::vector<Asset>{pump, pump})), 1u);
  Asset moved{"p7", {{"site", "south"}}, 9};
  EXPECT_EQ(Must(db_->EnsureAssets(tenant_, std::vector<Asset>{moved})), 0u);
  Reopen();
  Asset got = Must(db_->GetAsset(tenant_, "p7"));
  EXPECT_EQ(got.attributes, (std::vector<std::pair<std::string, std::string>>{
                                {"asset_type", "pump"}, {"site", "north"}}));
  EXPECT_EQ(got.created_ns, 5);
  EXPECT_EQ(db_->ListAssets(tenant_).size(), 1u);
  TenantId other = Must(db_->CreateTenant("other"));
  EXPECT_TRUE(db_->ListAssets(other).empty());
  EXPECT_EQ(db_->GetAsset(other, "p7").status().code(), Status::Code::kNotFound);
}

TEST_F(StorageTest, RefusesAssetsWithBadIdsOrRepeatedAttributes) {
  EXPECT_FALSE(db_->EnsureAssets(tenant_, std::vector<Asset>{{"", {}, 0}}).ok());
  EXPECT_FALSE(db_->EnsureAssets(tenant_, std::vector<Asset>{{std::string(257, 'x'), {}, 0}}).ok());
  EXPECT_FALSE(
      db_->EnsureAssets(tenant_, std::vector<Asset>{{"a", {{"k", "1"}, {"k", "2"}}, 0}}).ok());
  EXPECT_TRUE(db_->ListAssets(tenant_).empty());
}

TEST_F(StorageTest, PutAssetReplacesAndDeleteAssetRemovesDurably) {
  Must(db_->PutAsset(tenant_, {"p1", {{"site", "north"}}, 1}));
  Must(db_->PutAsset(tenant_, {"p1", {{"status", "active"}, {"site", "south"}}, 1}));
  Must(db_->PutAsset(tenant_, {"p2", {}, 2}));
  Must(db_->DeleteAsset(tenant_, "p2"));
  EXPECT_EQ(db_->DeleteAsset(tenant_, "p2").code(), Status::Code::kNotFound);
  Reopen();
  EXPECT_EQ(
      Must(db_->GetAsset(tenant_, "p1")).attributes,
      (std::vector<std::pair<std::string, std::string>>{{"site", "south"}, {"status", "active"}}));
  EXPECT_EQ(db_->GetAsset(tenant_, "p2").status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(db_->PutAsset(tenant_, {"", {}, 0}).ok());
}

TEST_F(StorageTest, RecordsAreKeptPerTenantAndKindInIdOrder) {
  using RW = Storage::RecordWrite;
  std::vector<RW> writes = {
      {"rule", "b", "B"}, {"rule", "a", "A"}, {"rule", "c", "C"}, {"rules", "a", "other kind"}};
  Must(db_->WriteRecords(tenant_, writes));
  TenantId other = Must(db_->CreateTenant("other"));
  std::vector<RW> theirs = {{"rule", "a", "theirs"}};
  Must(db_->WriteRecords(other, theirs));
  std::vector<RW> drop = {{"rule", "c", std::nullopt}};
  Must(db_->WriteRecords(tenant_, drop));
  Reopen();

  EXPECT_EQ(Must(db_->GetRecord(tenant_, "rule", "a")), "A");
  EXPECT_EQ(db_->GetRecord(tenant_, "rule", "c").status().code(), Status::Code::kNotFound);
  using Rows = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Must(db_->ScanRecords(tenant_, "rule", {})), (Rows{{"a", "A"}, {"b", "B"}}));
  EXPECT_EQ(
      Must(db_->ScanRecords(tenant_, "rule", {.after = "a", .limit = SIZE_MAX, .reverse = false})),
      (Rows{{"b", "B"}}));
  EXPECT_EQ(Must(db_->ScanRecords(tenant_, "rule", {.after = {}, .limit = 1, .reverse = true})),
            (Rows{{"b", "B"}}));
  EXPECT_EQ(
      Must(db_->ScanRecords(tenant_, "rule", {.after = "b", .limit = SIZE_MAX, .reverse = true})),
      (Rows{{"a", "A"}}));
  EXPECT_EQ(Must(db_->ScanRecords(other, "rule", {})), (Rows{{"a", "theirs"}}));
  std::vector<RW> bad = {{"", "x", "v"}};
  EXPECT_FALSE(db_->WriteRecords(tenant_, bad).ok());
}

TEST_F(StorageTest, RefusesNewSeriesPastTheTenantLimitButResolvesExistingOnes) {
  Options options;
  options.max_series_per_tenant = 2;
  Reopen(options);
  std::vector<SeriesSpec> specs = {Spec("a", "f1"), Spec("a", "f2"), Spec("a", "f3")};
  auto first = Must(db_->ResolveSeries(tenant_, specs));
  EXPECT_TRUE(first[0].ok());
  EXPECT_TRUE(first[1].ok());
  ASSERT_EQ(first[2].status().code(), Status::Code::kResourceExhausted);
  EXPECT_NE(first[2].status().message().find("limit of 2 series"), std::string_view::npos);
  auto again = Must(db_->ResolveSeries(tenant_, std::span(specs).first(2)));
  EXPECT_EQ(*again[1], *first[1]) << "existing series still resolve";
  TenantId other = Must(db_->CreateTenant("other"));
  EXPECT_TRUE(Must(db_->ResolveSeries(other, specs))[1].ok()) << "the limit is per tenant";
}

TEST_F(StorageTest, LookupResolutionNeverCreatesSeries) {
  SeriesSpec spec;
  spec.key.measurement = "m";
  spec.key.field = "f";
  auto looked = Must(db_->ResolveSeries(tenant_, std::span(&spec, 1), Storage::Resolve::kLookup));
  EXPECT_EQ(looked[0].status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(db_->ListSeries(tenant_).empty());
  SeriesId id = Must(std::move(Must(db_->ResolveSeries(tenant_, std::span(&spec, 1)))[0]));
  auto again = Must(db_->ResolveSeries(tenant_, std::span(&spec, 1), Storage::Resolve::kLookup));
  EXPECT_EQ(Must(std::move(again[0])), id);
  spec.type = ValueType::kInt;
  auto conflict = Must(db_->ResolveSeries(tenant_, std::span(&spec, 1), Storage::Resolve::kLookup));
  EXPECT_EQ(conflict[0].status().message(), "field 'f' of 'm' holds float values, not integer");
}

}  // namespace
}  // namespace foresight::storage
