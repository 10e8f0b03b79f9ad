// libFuzzer target for the query languages, over a real storage engine holding a small fleet.
// The first byte picks the language ('P': PromQL, an instant and a range query; otherwise
// InfluxQL), the rest is the query. Besides "never crashes": a query fails only with
// InvalidArgument, and every answer stays within the bounds it was given.
#include "query/query.h"
#include "tests/fuzz_target.h"

#include <memory>

namespace {

using foresight::testing::FuzzCheck;
namespace query = foresight::query;
namespace storage = foresight::storage;

void Check(bool ok, const char* what) { FuzzCheck(ok, "query_language_fuzz", what); }

constexpr int64_t kMinute = 60'000'000'000;
constexpr int64_t kStart = 1'780'272'000LL * 1'000'000'000;  // 2026-06-01T00:00:00Z

struct Target {
  std::unique_ptr<storage::Storage> storage;
  storage::TenantId tenant = 0;

  // Three machines and a string series, a reading a minute for two hours.
  Target() {
    storage::Options options;
    options.fsync = storage::FsyncPolicy::kNever;
    storage = storage::Storage::Open(foresight::testing::FuzzDataDir() + "/query", options).value();
    tenant = storage->CreateTenant("acme").value();
    std::vector<storage::Sample> samples;
    for (int a = 0; a < 3; ++a) {
      storage::SeriesSpec spec{
          {"machine", {{"asset_id", "m" + std::to_string(a)}, {"site", "s"}}, "temp"},
          storage::ValueType::kFloat};
      const storage::SeriesId id = storage->ResolveSeries(tenant, {&spec, 1}).value()[0].value();
      for (int i = 0; i < 120; ++i) {
        samples.push_back({id, kStart + i * kMinute, storage::Value::Float(20 + a + i % 5)});
      }
    }
    storage::SeriesSpec text{{"log", {}, "line"}, storage::ValueType::kString};
    const storage::SeriesId id = storage->ResolveSeries(tenant, {&text, 1}).value()[0].value();
    samples.push_back({id, kStart, storage::Value::String("started")});
    if (!storage->Append(tenant, samples).ok()) std::abort();
  }
};

void CheckFailure(const foresight::Status& s) {
  Check(s.code() == foresight::Status::Code::kInvalidArgument,
        "a query failed with something other than InvalidArgument");
  Check(!s.message().empty(), "a failure without a message");
}

}  // namespace

FORESIGHT_FUZZ_TARGET(FuzzQueryLanguage) {
  Target& t = foresight::testing::FuzzState<Target>();
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int64_t now = kStart + 2 * 60 * kMinute;
  if (data[0] == 'P') {
    query::PromOptions options;
    options.max_points = 100'000;
    options.timeout = std::chrono::milliseconds(2'000);
    auto instant = query::PromInstantQuery(*t.storage, t.tenant, text, now, options);
    if (!instant.ok()) CheckFailure(instant.status());
    auto range = query::PromRangeQuery(*t.storage, t.tenant, text, kStart, now, kMinute, options);
    if (!range.ok()) CheckFailure(range.status());
    return 0;
  }
  query::InfluxQlOptions options;
  options.now_ns = now;
  options.database = "acme";
  options.max_points = 100'000;
  options.max_buckets = 100'000;
  options.timeout = std::chrono::milliseconds(2'000);
  auto answer = query::RunInfluxQl(*t.storage, t.tenant, text, options);
  if (!answer.ok()) {
    CheckFailure(answer.status());
    Check(answer.status().message().starts_with("error parsing query: "),
          "a failed query that does not say it did not parse");
    return 0;
  }
  for (const query::InfluxStatement& st : *answer) {
    Check(st.error.empty() || st.series.empty(), "a statement with both an error and series");
    for (const query::InfluxSeries& s : st.series) {
      for (const auto& row : s.values) Check(row.size() == s.columns.size(), "a ragged row");
    }
  }
  return 0;
}

#ifndef FORESIGHT_LIBFUZZER
TEST(FuzzCorpus, QueryLanguagesFailOnlyWithAClearError) {
  foresight::testing::ReplayCorpus("tests/query/corpus/query_language", FuzzQueryLanguage, 8);
}
#endif
