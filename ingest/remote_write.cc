// Prometheus remote write 1.0: a snappy-compressed protobuf WriteRequest,
//   WriteRequest { repeated TimeSeries timeseries = 1; ... }
//   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; ... }
//   Label        { string name = 1; string value = 2; }
//   Sample       { double value = 1; int64 timestamp = 2; }   // ms since the epoch
// read with protobuf's wire-format reader: four small messages do not need generated code,
// and every field this does not know (exemplars, histograms, metadata) is skipped as protobuf
// skips unknown fields.
#include "ingest/ingest.h"
#include "ingest/ingestor_impl.h"

#include <cmath>
#include <cstring>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <snappy.h>

namespace foresight::ingest {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Prometheus marks a series that went away with this NaN; it is not a reading.
constexpr uint64_t kStaleNaN = 0x7ff0000000000002ull;

struct Series {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<int64_t, double>> samples;  // ms, value
};

bool ReadString(CodedInputStream* in, std::string* out) {
  uint32_t n = 0;
  return in->ReadVarint32(&n) && in->ReadString(out, static_cast<int>(n));
}

// Runs `field(tag)` on each field of the length-delimited message at `in`; false when the
// bytes are not a message or `field` says so.
template <typename Fn>
bool ReadMessage(CodedInputStream* in, Fn field) {
  uint32_t length = 0;
  if (!in->ReadVarint32(&length)) return false;
  const auto limit = in->PushLimit(static_cast<int>(length));
  while (uint32_t tag = in->ReadTag()) {
    if (!field(tag)) return false;
  }
  const bool whole = in->ConsumedEntireMessage() && in->BytesUntilLimit() == 0;
  in->PopLimit(limit);
  return whole;
}

bool ReadSeries(CodedInputStream* in, Series* s) {
  return ReadMessage(in, [&](uint32_t tag) {
    if (tag == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) {
      std::pair<std::string, std::string> label;
      const bool ok = ReadMessage(in, [&](uint32_t t) {
        if (t == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) {
          return ReadString(in, &label.first);
        }
        if (t == WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) {
          return ReadString(in, &label.second);
        }
        return WireFormatLite::SkipField(in, t);
      });
      s->labels.push_back(std::move(label));
      return ok;
    }
    if (tag == WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) {
      uint64_t bits = 0, ts = 0;
      const bool ok = ReadMessage(in, [&](uint32_t t) {
        if (t == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_FIXED64)) {
          return in->ReadLittleEndian64(&bits);
        }
        if (t == WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_VARINT)) {
          return in->ReadVarint64(&ts);
        }
        return WireFormatLite::SkipField(in, t);
      });
      double v;
      std::memcpy(&v, &bits, sizeof v);
      if (bits != kStaleNaN) s->samples.emplace_back(static_cast<int64_t>(ts), v);
      return ok;
    }
    return WireFormatLite::SkipField(in, tag);
  });
}

// Why a series cannot be stored, or empty. Drops labels with empty values first: Prometheus
// treats one as absent.
std::string Check(Series& s, const IngestOptions& options) {
  std::erase_if(s.labels, [](const auto& label) { return label.second.empty(); });
  std::string_view name;
  for (size_t i = 0; i < s.labels.size(); ++i) {
    const auto& [k, v] = s.labels[i];
    if (k.empty()) return "a label without a name";
    if (auto bad = storage::CheckText(k, storage::TextKind::kLine)) {
      return "label name: " + bad->reason;
    }
    if (auto bad = storage::CheckText(v, storage::TextKind::kLine)) {
      return "label " + k + ": " + bad->reason;
    }
    for (size_t j = 0; j < i; ++j) {
      if (s.labels[j].first == k) return "duplicate label '" + k + "'";
    }
    if (k == "__name__") name = v;
    if (k == options.asset_tag && v.size() > storage::kMaxAssetIdBytes) {
      return "label " + k + ": an asset id is at most " +
             std::to_string(storage::kMaxAssetIdBytes) + " bytes";
    }
  }
  if (name.empty()) return "a series without a __name__ label";
  if (s.labels.size() - 1 > options.limits.max_tags) {
    return "more than " + std::to_string(options.limits.max_tags) + " labels";
  }
  for (const auto& [ms, v] : s.samples) {
    // The storage's range, in ms: about the years 1679 to 2260.
    if (ms > storage::kMaxTimestampNs / 1'000'000 || ms < storage::kMinTimestampNs / 1'000'000) {
      return "timestamp " + std::to_string(ms) + " ms is out of range";
    }
  }
  return {};
}

}  // namespace

WriteReport Ingestor::WriteRemoteWrite(storage::TenantId tenant, std::string_view body,
                                       int64_t now_ns) {
  WriteReport report;
  size_t length = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &length)) {
    report.status = Status::InvalidArgument("the body is not snappy-compressed");
    return report;
  }
  if (length > options_.limits.max_decompressed_bytes) {
    report.status =
        Status::InvalidArgument("the body decompresses to more than " +
                                std::to_string(options_.limits.max_decompressed_bytes) + " bytes");
    return report;
  }
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) {
    report.status = Status::InvalidArgument("the snappy body is damaged or truncated");
    return report;
  }
  std::vector<Series> all;
  {
    CodedInputStream in(reinterpret_cast<const uint8_t*>(raw.data()), static_cast<int>(raw.size()));
    bool ok = raw.size() <= static_cast<size_t>(std::numeric_limits<int>::max());
    while (ok) {
      const uint32_t tag = in.ReadTag();
      if (tag == 0) {
        ok = in.ConsumedEntireMessage() && in.CurrentPosition() == static_cast<int>(raw.size());
        break;
      }
      if (tag == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) {
        ok = ReadSeries(&in, &all.emplace_back());
      } else {
        ok = WireFormatLite::SkipField(&in, tag);
      }
    }
    if (!ok) {
      report.status = Status::InvalidArgument("the body is not a protobuf WriteRequest");
      return report;
    }
  }

  std::unique_ptr<Scratch> scratch = impl_->TakeScratch();
  Batch& batch = scratch->batch;
  impl_->Begin(batch, tenant, CacheKind::kJson, {}, now_ns);
  {
    ReaderLock l(&batch.cache->mu);
    for (size_t i = 0; i < all.size(); ++i) {
      Series& s = all[i];
      const uint32_t index = static_cast<uint32_t>(i + 1);
      if (std::string why = Check(s, options_); !why.empty()) {
        batch.rejected.push_back({index, 0, std::move(why)});
        continue;
      }
      std::sort(s.labels.begin(), s.labels.end());
      std::string_view measurement;
      scratch->tags.clear();
      for (const auto& [k, v] : s.labels) {
        if (k == "__name__") {
          measurement = v;
        } else {
          scratch->tags.push_back({k, v});
        }
      }
      scratch->series_text.clear();
      PutLengthPrefixed(&scratch->series_text, measurement);
      for (const Tag& t : scratch->tags) {
        PutLengthPrefixed(&scratch->series_text, t.key);
        PutLengthPrefixed(&scratch->series_text, t.value);
      }
      for (const auto& [ms, v] : s.samples) {
        const Field field{"value", storage::Value::Float(v)};
        Point point;
        point.series_text = scratch->series_text;
        point.measurement = measurement;
        point.tags = scratch->tags;
        point.fields = {&field, 1};
        point.ts_ns = ms * 1'000'000;
        point.has_timestamp = true;
        point.line = index;
        batch.OnPoint(point);
      }
    }
  }
  report = impl_->Commit(tenant, batch, now_ns);
  impl_->ReturnScratch(std::move(scratch));
  return report;
}

}  // namespace foresight::ingest
