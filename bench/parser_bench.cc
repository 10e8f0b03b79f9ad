// Line-protocol parsing speed on one core (Google Benchmark), side by side with a plain
// tokenizer that only splits lines at '\n' and tokens at ' ', ',' and '=' (no escapes, no
// numbers): the "about 0.9 GB/s" yardstick of issue #3. Both read the same 8 MiB of the IoT
// workload of bench/ingest_load (1,000 assets, 8 float fields, tags asset_id/asset_type/site).
//
//   build-release/bench/parser_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include "ingest/ingest.h"
#include "tools/workload.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

const std::string& Workload() {
  static const std::string text = [] {
    const int assets = 1000;
    foresight::tools::IotGenerator gen(assets, 42);
    std::vector<std::string> keys;
    for (int x = 0; x < assets; ++x) keys.push_back(foresight::tools::IotLineKey(x));
    std::string out;
    const int64_t start_ns = 1'700'000'000'000'000'000;
    for (int t = 0; out.size() < (8u << 20); ++t) {
      int64_t ts = start_ns + int64_t{t} * 10'000'000'000;
      for (int x = 0; x < assets; ++x) foresight::tools::AppendIotLine(gen, x, ts, keys[x], &out);
    }
    return out;
  }();
  return text;
}

class CountingSink final : public foresight::ingest::PointSink {
 public:
  void OnPoint(const foresight::ingest::Point& point) override { fields += point.fields.size(); }
  size_t fields = 0;
};

void BM_LineParser(benchmark::State& state) {
  const std::string& text = Workload();
  foresight::ingest::LineParser parser;
  std::vector<foresight::ingest::Rejection> rejections;
  size_t fields = 0;
  for (auto _ : state) {
    CountingSink sink;
    parser.Parse(text, foresight::ingest::Precision::kNanoseconds, 0, sink, &rejections);
    fields += sink.fields;
  }
  if (!rejections.empty()) state.SkipWithError("the workload has rejected lines");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["values/s"] =
      benchmark::Counter(static_cast<double>(fields), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LineParser)->Unit(benchmark::kMillisecond);

void BM_PlainTokenizer(benchmark::State& state) {
  const std::string& text = Workload();
  for (auto _ : state) {
    size_t tokens = 0;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (!nl) nl = end;
      for (const char* c = p; c < nl; ++c) tokens += (*c == ' ') | (*c == ',') | (*c == '=');
      p = nl + 1;
    }
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_PlainTokenizer)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
