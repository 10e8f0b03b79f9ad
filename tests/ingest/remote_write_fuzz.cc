// libFuzzer target for Prometheus remote write, through the real Ingestor onto a real storage
// engine. The input is the protobuf WriteRequest; it is snappy-compressed here so the fuzzer
// spends its time on the protobuf decoding (snappy is Debian's and fuzzed upstream). Besides
// "never crashes": a request either fails whole (nothing stored) or names each refused series
// once, in order; every series it creates is named in text.
#include "ingest/ingest.h"
#include "tests/fuzz_target.h"

#include <memory>
#include <snappy.h>

namespace {

using foresight::testing::FuzzCheck;
namespace storage = foresight::storage;

void Check(bool ok, const char* what) { FuzzCheck(ok, "remote_write_fuzz", what); }

struct Target {
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<foresight::ingest::Ingestor> ingestor;
  storage::TenantId tenant = 0;
  storage::SeriesId checked_series = 0;

  Target() {
    storage::Options options;
    options.fsync = storage::FsyncPolicy::kNever;
    storage = storage::Storage::Open(foresight::testing::FuzzDataDir() + "/remote_write", options)
                  .value();
    tenant = storage->CreateTenant("fuzz").value();
    ingestor = std::make_unique<foresight::ingest::Ingestor>(storage.get(),
                                                             foresight::ingest::IngestOptions());
  }
};

}  // namespace

FORESIGHT_FUZZ_TARGET(FuzzRemoteWrite) {
  Target& t = foresight::testing::FuzzState<Target>();
  std::string body;
  snappy::Compress(reinterpret_cast<const char*>(data), size, &body);
  auto report = t.ingestor->WriteRemoteWrite(t.tenant, body, 1'767'225'600'000'000'000);
  if (!report.status.ok()) {
    Check(report.status.code() == foresight::Status::Code::kInvalidArgument,
          "a request failed with something other than InvalidArgument");
    Check(report.lines == 0 && report.rejected.empty(), "a failed request stored samples");
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
    Check(!storage::CheckText(info->key.measurement) && info->key.field == "value",
          "a series not named by its __name__ with one field, value");
    for (const auto& [k, v] : info->key.tags) {
      Check(!storage::CheckText(k) && !storage::CheckText(v), "a label not text");
    }
  }
  return 0;
}

#ifndef FORESIGHT_LIBFUZZER
TEST(FuzzCorpus, RemoteWriteKeepsItsInvariants) {
  foresight::testing::ReplayCorpus("tests/ingest/corpus/remote_write", FuzzRemoteWrite, 4);
}
#endif
