// Micro benchmarks of the block codec on the IoT workload's values (Google Benchmark).
//   build/bench/codec_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "storage/codec.h"
#include "tools/workload.h"

#include <benchmark/benchmark.h>

#include <bit>
#include <random>

namespace foresight::bench {
namespace {
using namespace foresight::tools;  // the IoT workload

struct Block {
  std::vector<int64_t> ts;
  std::vector<uint64_t> bits;
};

Block IotBlock(int metric, size_t n) {
  IotGenerator gen(1, 42);
  Block b;
  for (size_t i = 0; i < n; ++i) {
    int64_t ts = 1'767'225'600'000'000'000 + static_cast<int64_t>(i) * 10'000'000'000;
    b.ts.push_back(ts);
    b.bits.push_back(std::bit_cast<uint64_t>(gen.Next(0, metric, ts)));
  }
  return b;
}

void BM_EncodeFloatBlock(benchmark::State& state) {
  Block b = IotBlock(static_cast<int>(state.range(0)), 1024);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string block = storage::EncodeBlock(storage::ValueType::kFloat, b.ts, b.bits, {});
    bytes = block.size();
    benchmark::DoNotOptimize(block);
  }
  state.SetItemsProcessed(state.iterations() * 1024);
  state.counters["bytes_per_value"] = static_cast<double>(bytes) / 1024;
  state.SetLabel(IotMetrics()[state.range(0)].name);
}
BENCHMARK(BM_EncodeFloatBlock)->DenseRange(0, 7);

void BM_DecodeFloatBlock(benchmark::State& state) {
  Block b = IotBlock(static_cast<int>(state.range(0)), 1024);
  std::string block = storage::EncodeBlock(storage::ValueType::kFloat, b.ts, b.bits, {});
  for (auto _ : state) {
    storage::Points p;
    benchmark::DoNotOptimize(storage::DecodeBlock(block, &p).ok());
  }
  state.SetItemsProcessed(state.iterations() * 1024);
  state.SetLabel(IotMetrics()[state.range(0)].name);
}
BENCHMARK(BM_DecodeFloatBlock)->DenseRange(0, 7, 7);

void BM_GorillaFloats(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> bits(1024);
  for (auto& b : bits) b = std::bit_cast<uint64_t>(std::normal_distribution<double>(50, 5)(rng));
  for (auto _ : state) {
    std::string out;
    storage::EncodeFloats(bits, &out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_GorillaFloats);

}  // namespace
}  // namespace foresight::bench

BENCHMARK_MAIN();
