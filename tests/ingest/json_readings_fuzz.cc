// libFuzzer target for JSON readings, through the real Ingestor onto a real storage engine.
// Besides "never crashes": a document either fails whole (nothing stored) or names each refused
// reading once, in order; every series and asset it creates is named in text (storage.h).
#include "ingest/ingest.h"
#include "tests/fuzz_target.h"

#include <algorithm>
#include <memory>

namespace {

using foresight::ingest::Ingestor;
using foresight::ingest::Precision;
using foresight::testing::FuzzCheck;

void Check(bool ok, const char* what) { FuzzCheck(ok, "json_readings_fuzz", what); }

bool IsText(std::string_view s) { return !foresight::storage::CheckText(s); }

struct Target {
  std::unique_ptr<foresight::storage::Storage> storage;
  std::unique_ptr<Ingestor> ingestor;
  foresight::storage::TenantId tenant = 0;
  foresight::storage::SeriesId checked_series = 0;  // series up to this id have been checked

  Target() {
    foresight::storage::Options options;
    options.fsync = foresight::storage::FsyncPolicy::kNever;  // speed; durability is not fuzzed
    storage =
        foresight::storage::Storage::Open(foresight::testing::FuzzDataDir() + "/readings", options)
            .value();
    tenant = storage->CreateTenant("fuzz").value();
    ingestor = std::make_unique<Ingestor>(storage.get(), foresight::ingest::IngestOptions());
  }
};

}  // namespace

FORESIGHT_FUZZ_TARGET(FuzzJsonReadings) {
  Target& t = foresight::testing::FuzzState<Target>();
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto report = t.ingestor->WriteJsonReadings(t.tenant, body, Precision::kMilliseconds,
                                              1'767'225'600'000'000'000);
  if (!report.status.ok()) {
    Check(report.status.code() == foresight::Status::Code::kInvalidArgument,
          "a document failed with something other than InvalidArgument");
    Check(report.lines == 0 && report.rejected.empty(), "a failed document stored readings");
  }
  uint32_t previous = 0;
  for (const auto& r : report.rejected) {
    Check(r.line > previous, "rejections out of order or repeated");
    Check(!r.reason.empty(), "a rejection without a reason");
    previous = r.line;
  }
  for (;;) {
    auto info = t.storage->GetSeries(t.tenant, t.checked_series + 1);
    if (!info.ok()) break;
    ++t.checked_series;
    Check(IsText(info->key.measurement) && IsText(info->key.field), "a series name not text");
    for (const auto& [k, v] : info->key.tags) Check(IsText(k) && IsText(v), "a tag not text");
    auto asset = std::find_if(info->key.tags.begin(), info->key.tags.end(),
                              [](const auto& tag) { return tag.first == "asset_id"; });
    Check(asset != info->key.tags.end() && t.storage->GetAsset(t.tenant, asset->second).ok(),
          "a reading's series without its asset");
  }
  return 0;
}

#ifndef FORESIGHT_LIBFUZZER
TEST(FuzzCorpus, JsonReadingsKeepTheirInvariants) {
  foresight::testing::ReplayCorpus("tests/ingest/corpus/json_readings", FuzzJsonReadings, 8);
}
#endif
