// The compiled forest against XGBoost's own predictor (XGBoosterPredictFromDense) on the same
// model and rows: 300 trees of depth 6 over 40 features, 1 M rows, 1 and 2 threads. Reported as
// rows/s (Google Benchmark's items_per_second). See bench/RESULTS.md.
//
//   build-release/bench/forest_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include "ml/ml.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

namespace foresight::bench {
namespace {

constexpr size_t kFeatures = 40, kRows = 1'000'000, kTrainRows = 50'000;

std::vector<float> Rows(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<float> x(rows * kFeatures);
  for (float& v : x) v = unit(rng) < 0.05f ? NAN : normal(rng);
  return x;
}

struct Fixture {
  std::vector<float> rows = Rows(kRows, 2);
  std::string model;
  Fixture() {
    std::vector<float> x = Rows(kTrainRows, 1), y;
    std::mt19937_64 rng(3);
    std::normal_distribution<float> noise(0, 1);
    for (size_t r = 0; r < kTrainRows; ++r) {
      const float* f = &x[r * kFeatures];
      double s = 0;
      for (size_t c = 0; c < kFeatures; c += 4) s += (std::isnan(f[c]) ? 0 : f[c]) * (c % 3 - 1);
      y.push_back(s + noise(rng) > 0 ? 1.0f : 0.0f);
    }
    ml::TrainOptions o;
    o.rounds = 300;
    o.max_depth = 6;
    o.threads = 2;
    o.subsample = 0.8;
    auto trained = ml::Train({x.data(), kTrainRows, kFeatures}, y, o);
    if (!trained.ok()) std::abort();
    model = *trained;
  }
};

const Fixture& Get() {
  static const Fixture fixture;
  return fixture;
}

void Forest(benchmark::State& state) {
  const Fixture& f = Get();
  auto forest = ml::Forest::Compile(f.model);
  if (!forest.ok()) return state.SkipWithError(forest.status().ToString().c_str());
  std::vector<float> out(kRows);
  for (auto _ : state) {
    forest->Predict({f.rows.data(), kRows, kFeatures}, out,
                    {.threads = static_cast<int>(state.range(0)),
                     .isa = static_cast<ml::Forest::Isa>(state.range(1))});
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetLabel(std::to_string(forest->trees()) + " trees, depth " +
                 std::to_string(forest->depth()));
}

void XGBoost(benchmark::State& state) {
  const Fixture& f = Get();
  auto xgb = ml::XGBoostPredictor::Load(f.model, static_cast<int>(state.range(0)));
  if (!xgb.ok()) return state.SkipWithError(xgb.status().ToString().c_str());
  for (auto _ : state) {
    auto out = (*xgb)->Predict({f.rows.data(), kRows, kFeatures});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

// Args: threads, kernel (0 the widest the CPU has, 1 plain, 2 AVX2, 3 AVX-512).
BENCHMARK(Forest)
    ->ArgsProduct({{1, 2}, {0}})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(XGBoost)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace foresight::bench

BENCHMARK_MAIN();
