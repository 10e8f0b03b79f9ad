// The rolling windows' cost on the ingest path and to readers (Google Benchmark):
//   build-release/bench/windows_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
// Apply: batches of 1,000 samples (125 assets x 8 metrics, 10 s apart), the shape the HTTP
// loader sends, over 1,000 assets x 8 metrics; /0 in order, /1 with every second step arriving
// before the one it follows (concurrent requests: late points that are new). Request: what one
// of the loader's 5,000-line requests brings, 5 steps x 1,000 assets x 8 metrics (40,000 samples,
// each series 5 times), in the order of its lines. Read: one series' three windows.
#include "query/query.h"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <unistd.h>

namespace foresight::bench {
namespace {

constexpr int kAssets = 1000, kMetrics = 8, kPerBatch = 125;
constexpr int64_t kStart = 1'767'225'600'000'000'000, kStep = 10'000'000'000;

struct Fixture {
  Fixture() {
    dir = std::filesystem::temp_directory_path() / ("windows-bench-" + std::to_string(getpid()));
    db = storage::Storage::Open(dir.string(), storage::Options()).value();
    tenant = db->CreateTenant("bench").value();
  }
  ~Fixture() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  std::unique_ptr<storage::Storage> db;
  storage::TenantId tenant = 0;
};

void Apply(benchmark::State& state) {
  Fixture f;
  query::Windows windows(f.db.get());
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(50, 5);
  std::vector<storage::Sample> batch(kPerBatch * kMetrics);
  int64_t tick = 0;
  int group = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int a = 0; a < kPerBatch; ++a) {
      for (int m = 0; m < kMetrics; ++m) {
        const auto series =
            static_cast<storage::SeriesId>(1 + (group * kPerBatch + a) * kMetrics + m);
        batch[a * kMetrics + m] = {series, kStart + (state.range(0) ? tick ^ 1 : tick) * kStep,
                                   storage::Value::Float(noise(rng))};
      }
    }
    if (++group == kAssets / kPerBatch) {
      group = 0;
      ++tick;
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(windows.Apply(f.tenant, batch));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
}
BENCHMARK(Apply)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void Request(benchmark::State& state) {
  constexpr int kSteps = 5;
  Fixture f;
  query::Windows windows(f.db.get());
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(50, 5);
  const int assets = static_cast<int>(state.range(0));
  std::vector<storage::Sample> batch(kSteps * assets * kMetrics);
  int64_t tick = 0;
  for (auto _ : state) {
    state.PauseTiming();
    size_t i = 0;
    for (int step = 0; step < kSteps; ++step, ++tick) {
      for (int a = 0; a < assets; ++a) {
        for (int m = 0; m < kMetrics; ++m) {
          batch[i++] = {static_cast<storage::SeriesId>(1 + a * kMetrics + m), kStart + tick * kStep,
                        storage::Value::Float(noise(rng))};
        }
      }
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(windows.Apply(f.tenant, batch));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
}
BENCHMARK(Request)->Arg(kAssets)->Arg(100)->Unit(benchmark::kMicrosecond);

void Read(benchmark::State& state) {
  Fixture f;
  query::Windows windows(f.db.get());
  std::vector<storage::Sample> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back({1, kStart + i * kStep, storage::Value::Float(i)});
  (void)windows.Apply(f.tenant, batch);
  for (auto _ : state) benchmark::DoNotOptimize(windows.Read(f.tenant, 1));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(Read);

}  // namespace
}  // namespace foresight::bench

BENCHMARK_MAIN();
