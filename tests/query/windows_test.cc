#include "query/query.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cmath>
#include <random>
#include <thread>

namespace foresight::query {
namespace {

using storage::Sample;
using storage::SeriesId;
using storage::Storage;
using storage::TenantId;
using storage::Value;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = 1'700'000'000 * kSecond;

std::unique_ptr<Storage> OpenStorage(const std::string& dir) {
  storage::Options options;
  options.fsync = storage::FsyncPolicy::kNever;
  return Storage::Open(dir, options).value();
}

std::vector<SeriesId> MakeSeries(Storage& db, TenantId tenant, int n,
                                 storage::ValueType type = storage::ValueType::kFloat) {
  std::vector<storage::SeriesSpec> specs;
  for (int i = 0; i < n; ++i) {
    specs.push_back({{"m", {{"asset_id", "a" + std::to_string(i)}}, "v"}, type});
  }
  std::vector<SeriesId> ids;
  auto resolved = db.ResolveSeries(tenant, specs);
  for (auto& r : *resolved) ids.push_back(r.value());
  return ids;
}

// A fresh store with tenant "acme", and windows over it.
struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<Storage> db = OpenStorage(dir.Sub("db"));
  TenantId tenant = db->CreateTenant("acme").value();
  Windows windows{db.get()};
};

// Appends, then folds in, as the ingest path does.
void Write(Storage& db, Windows& windows, TenantId tenant, const std::vector<Sample>& batch) {
  ASSERT_TRUE(db.Append(tenant, batch).ok());
  ASSERT_TRUE(windows.Apply(tenant, batch).ok());
}

// Each window against the same aggregate over the stored raw points in its range.
void ExpectMatchesStorage(const Storage& db, const Windows& windows, TenantId tenant,
                          SeriesId series) {
  auto w = windows.Read(tenant, series);
  ASSERT_TRUE(w.has_value());
  auto latest = db.ReadLatest(tenant, series).value();
  EXPECT_EQ(w->last_ts_ns, latest.ts_ns[0]);
  EXPECT_EQ(w->last, latest.AsDouble(0));
  for (size_t i = 0; i < kSpans; ++i) {
    const Window& got = w->windows[i];
    const SpanShape& shape = kSpanShapes[i];
    const int64_t head = w->last_ts_ns / shape.width_ns;  // timestamps here are positive
    EXPECT_EQ(got.from_ns, (head - shape.slots + 1) * shape.width_ns);
    auto raw = db.ReadRaw(tenant, series, got.from_ns, w->last_ts_ns + 1).value();
    double sum = 0, squares = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t p = 0; p < raw.size(); ++p) {
      const double v = raw.AsDouble(p);
      sum += v;
      squares += v * v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    ASSERT_EQ(got.count, raw.size()) << shape.name;
    if (raw.size() == 0) continue;
    EXPECT_EQ(got.min, lo) << shape.name;
    EXPECT_EQ(got.max, hi) << shape.name;
    EXPECT_NEAR(got.sum, sum, 1e-9 * std::max(1.0, std::abs(sum))) << shape.name;
    EXPECT_NEAR(got.sum_squares, squares, 1e-9 * std::max(1.0, squares)) << shape.name;
  }
}

// Writes `batches` batches of `size` readings of mixed series, 10 s apart with gaps now and
// then; some points late (within and beyond every window), some rewriting a timestamp already
// stored. Every `check_every` batches each window is compared with storage. Returns the rewrites.
uint64_t WriteMixedStream(Storage& db, Windows& windows, TenantId tenant,
                          const std::vector<SeriesId>& series, int batches, int size,
                          int check_every) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(50, 10);
  std::uniform_real_distribution<double> coin(0, 1);
  std::vector<int64_t> now(series.size(), kStart);
  uint64_t rewrites = 0;
  for (int batch = 0; batch < batches; ++batch) {
    std::vector<Sample> samples;
    for (int k = 0; k < size; ++k) {
      const size_t s = rng() % series.size();
      const double roll = coin(rng);
      int64_t ts;
      if (roll < 0.08) {
        ts = now[s] - static_cast<int64_t>(coin(rng) * 26 * 3600) * kSecond;  // late
      } else if (roll < 0.12) {
        ts = now[s];  // rewrites the newest point
        ++rewrites;
      } else if (roll < 0.15) {
        ts = now[s] - static_cast<int64_t>(rng() % 360) * 10 * kSecond;  // an earlier one
        ++rewrites;
      } else {
        now[s] += (roll < 0.18 ? 600 : 10) * kSecond;  // a gap now and then
        ts = now[s];
      }
      samples.push_back({series[s], ts, Value::Float(std::round(noise(rng) * 100) / 100)});
    }
    Write(db, windows, tenant, samples);
    if (batch % check_every == check_every - 1) {
      for (SeriesId id : series) ExpectMatchesStorage(db, windows, tenant, id);
    }
  }
  return rewrites;
}

TEST(Windows, EqualTheStoredPointsAfterAStreamWithLateAndRewrittenPoints) {
  Fixture f;
  const auto series = MakeSeries(*f.db, f.tenant, 3);

  // 30 hours of readings in batches of 30.
  EXPECT_GT(WriteMixedStream(*f.db, f.windows, f.tenant, series, 400, 30, 40), 500u);
  EXPECT_EQ(f.windows.tracked(), series.size());
}

TEST(Windows, EqualTheStoredPointsAfterLargeBatchesOfManySeries) {
  Fixture f;
  const auto series = MakeSeries(*f.db, f.tenant, 600);

  // Batches the size of a loader's request, each bringing most series several times over, some
  // of them rewritten within the batch.
  EXPECT_GT(WriteMixedStream(*f.db, f.windows, f.tenant, series, 30, 5000, 10), 10'000u);
  EXPECT_EQ(f.windows.tracked(), series.size());
}

TEST(Windows, SpanAJumpLongerThanEveryWindow) {
  Fixture f;
  const SeriesId id = MakeSeries(*f.db, f.tenant, 1)[0];
  Write(*f.db, f.windows, f.tenant,
        {{id, kStart, Value::Float(1)}, {id, kStart + kSecond, Value::Float(9)}});
  Write(*f.db, f.windows, f.tenant, {{id, kStart + 3 * 86400 * kSecond, Value::Float(4)}});
  const SeriesWindows w = f.windows.Read(f.tenant, id).value();
  for (const Window& window : w.windows) {
    EXPECT_EQ(window.count, 1u);
    EXPECT_EQ(window.min, 4);
    EXPECT_EQ(window.max, 4);
    EXPECT_EQ(window.mean(), 4);
    EXPECT_EQ(window.stddev(), 0);
  }
  ExpectMatchesStorage(*f.db, f.windows, f.tenant, id);
}

TEST(Windows, CountIntegersAndBooleansAndSkipStrings) {
  Fixture f;
  const SeriesId ints = MakeSeries(*f.db, f.tenant, 1, storage::ValueType::kInt)[0];
  std::vector<storage::SeriesSpec> specs = {
      {{"m", {{"asset_id", "b"}}, "on"}, storage::ValueType::kBool},
      {{"m", {{"asset_id", "c"}}, "state"}, storage::ValueType::kString}};
  auto resolved = f.db->ResolveSeries(f.tenant, specs);
  const SeriesId bools = (*resolved)[0].value(), strings = (*resolved)[1].value();
  Write(*f.db, f.windows, f.tenant,
        {{ints, kStart, Value::Int(-3)},
         {ints, kStart + kSecond, Value::Int(5)},
         {bools, kStart, Value::Bool(true)},
         {bools, kStart + kSecond, Value::Bool(false)},
         {strings, kStart, Value::String("running")}});
  EXPECT_EQ(f.windows.Read(f.tenant, ints)->windows[0].mean(), 1);
  EXPECT_EQ(f.windows.Read(f.tenant, bools)->windows[0].mean(), 0.5);
  EXPECT_FALSE(f.windows.Read(f.tenant, strings).has_value());
  EXPECT_FALSE(f.windows.Read(f.tenant, 999).has_value());
  EXPECT_FALSE(f.windows.Read(f.tenant + 1, ints).has_value());
}

TEST(Windows, AreRebuiltFromStorageAfterARestart) {
  testing::TempDir dir;
  std::vector<SeriesId> series;
  TenantId tenant;
  std::vector<SeriesWindows> before;
  {
    auto db = OpenStorage(dir.Sub("db"));
    tenant = db->CreateTenant("acme").value();
    series = MakeSeries(*db, tenant, 2);
    Windows windows(db.get());
    std::vector<Sample> samples;
    for (int i = 0; i < 8640 * 2; ++i) {  // two days of 10 s readings, then a late point
      samples.push_back({series[i % 2], kStart + (i / 2) * 10 * kSecond,
                         Value::Float(std::sin(i * 0.001) * 40 + (i % 7))});
    }
    samples.push_back({series[0], kStart + 100 * 10 * kSecond, Value::Float(1000)});
    for (size_t at = 0; at < samples.size(); at += 1000) {
      Write(*db, windows, tenant,
            {samples.begin() + at, samples.begin() + std::min(samples.size(), at + 1000)});
    }
    ASSERT_TRUE(db->Flush().ok());  // sealed: the rebuild reads rollups
    for (SeriesId id : series) before.push_back(windows.Read(tenant, id).value());
  }
  auto db = OpenStorage(dir.Sub("db"));
  Windows windows(db.get());
  ASSERT_TRUE(windows.Rebuild(tenant).ok());
  for (size_t i = 0; i < series.size(); ++i) {
    const SeriesWindows after = windows.Read(tenant, series[i]).value();
    EXPECT_EQ(after.last_ts_ns, before[i].last_ts_ns);
    EXPECT_EQ(after.last, before[i].last);
    for (size_t s = 0; s < kSpans; ++s) {
      EXPECT_EQ(after.windows[s].from_ns, before[i].windows[s].from_ns);
      EXPECT_EQ(after.windows[s].count, before[i].windows[s].count);
      EXPECT_EQ(after.windows[s].min, before[i].windows[s].min);
      EXPECT_EQ(after.windows[s].max, before[i].windows[s].max);
      EXPECT_NEAR(after.windows[s].mean(), before[i].windows[s].mean(), 1e-9);
    }
    ExpectMatchesStorage(*db, windows, tenant, series[i]);
  }
}

// Readers never see a half-written window: every value is 1, so a torn copy would show a sum
// or a sum of squares unequal to its count.
TEST(Windows, StayExactWhileWritersShareSeries) {
  Fixture f;
  const auto series = MakeSeries(*f.db, f.tenant, 64);
  std::vector<Sample> first;
  for (SeriesId id : series) first.push_back({id, kStart - kSecond, Value::Float(0)});
  Write(*f.db, f.windows, f.tenant, first);
  // Two writers, each storing then folding in batches of every series at five timestamps of its
  // own (even or odd seconds), a batch apart at most, so that each one's points land just
  // before and after the other's: late points that are new, not the same-instant re-read that
  // query.h names as the one gap.
  std::barrier step(2);
  auto writer = [&](int64_t offset) {
    for (int i = 0; i < 200; ++i) {
      std::vector<Sample> batch;
      for (SeriesId id : series) {
        for (int64_t k = 0; k < 5; ++k) {
          batch.push_back({id, kStart + ((i * 5 + k) * 2 + offset) * kSecond,
                           Value::Float(static_cast<double>(i % 7 + offset))});
        }
      }
      Write(*f.db, f.windows, f.tenant, batch);
      step.arrive_and_wait();
    }
  };
  std::thread writers[] = {std::thread(writer, 0), std::thread(writer, 1)};
  for (auto& t : writers) t.join();
  for (SeriesId id : series) ExpectMatchesStorage(*f.db, f.windows, f.tenant, id);
}

TEST(Windows, ReadersSeeWholeSnapshotsWhileWritersApply) {
  Fixture f;
  const auto series = MakeSeries(*f.db, f.tenant, 4);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0};
  auto writer = [&](size_t first) {
    for (int i = 0; i < 3000; ++i) {
      std::vector<Sample> batch;
      for (size_t s = first; s < series.size(); s += 2) {
        batch.push_back({series[s], kStart + i * kSecond, Value::Float(1)});
      }
      ASSERT_TRUE(f.windows.Apply(f.tenant, batch).ok());  // in order: no storage read needed
    }
  };
  auto reader = [&] {
    while (!done.load()) {
      for (SeriesId id : series) {
        auto w = f.windows.Read(f.tenant, id);
        if (!w) continue;
        for (const Window& window : w->windows) {
          ASSERT_EQ(window.sum, static_cast<double>(window.count));
          ASSERT_EQ(window.sum_squares, static_cast<double>(window.count));
          ASSERT_LE(window.from_ns, w->last_ts_ns);
        }
        reads.fetch_add(1);
      }
    }
  };
  std::thread readers[] = {std::thread(reader), std::thread(reader)};
  std::thread writers[] = {std::thread(writer, 0), std::thread(writer, 1)};
  for (auto& t : writers) t.join();
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0u);
  for (SeriesId id : series) {
    const SeriesWindows w = f.windows.Read(f.tenant, id).value();
    EXPECT_EQ(w.windows[0].count, 300u);  // 10 s slots x 30 at one point a second
    EXPECT_EQ(w.windows[1].count, 3000u);
  }
}

}  // namespace
}  // namespace foresight::query
