// Private to ingest/: the Ingestor's caches and per-write scratch, shared by the line-protocol
// and JSON paths.
#pragma once

#include "ingest/ingest.h"
#include "storage/sync.h"

#include <simdjson.h>

#include <array>
#include <atomic>
#include <deque>
#include <unordered_map>
#include <unordered_set>

namespace foresight::ingest {

struct FieldSlot {
  std::string name;
  storage::ValueType type;
  storage::SeriesId id;
};

// The fields seen so far for one series text.
struct SeriesEntry {
  std::vector<FieldSlot> fields;
  // Fields usually arrive in the same order every time: try position `hint` first.
  const FieldSlot* Find(std::string_view name, size_t hint) const;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// Line protocol and the structured formats (JSON readings, remote write) spell series
// differently; each spelling has its own map so that no text of one can ever be mistaken for
// the other. The structured formats' text is the measurement and then each tag key and value,
// each length-prefixed (PutLengthPrefixed).
enum class CacheKind { kLineProtocol = 0, kJson = 1 };
void PutLengthPrefixed(std::string* out, std::string_view s);

struct TenantCache {
  SharedMutex mu;
  std::array<std::unordered_map<std::string, SeriesEntry, StringHash, std::equal_to<>>, 2> map
      FORESIGHT_GUARDED_BY(mu);
  std::unordered_set<std::string, StringHash, std::equal_to<>> assets
      FORESIGHT_GUARDED_BY(mu);  // known to exist
};

// A point that named something the cache did not know, copied out of the input.
struct MissPoint {
  uint32_t line = 0;
  int64_t ts_ns = 0;
  std::string series_text;
  std::string measurement;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<std::pair<std::string, storage::Value>> fields;  // strings live in Batch::strings
};

// The samples of one write being assembled. REQUIRES: OnPoint under cache->mu (shared).
struct Batch final : PointSink {
  void Reset(TenantCache* tenant_cache, CacheKind cache_kind, std::string_view stable);
  void OnPoint(const Point& point) override;
  // `v` with its string moved into `strings` unless it already lives in `stable_text`.
  storage::Value Stable(storage::Value v);

  TenantCache* cache = nullptr;
  CacheKind kind = CacheKind::kLineProtocol;
  std::string_view stable_text;  // empty: every string the caller passes is stable
  std::vector<storage::Sample> samples;
  std::vector<uint32_t> sample_lines;  // line of each sample
  std::vector<MissPoint> misses;
  std::deque<std::string> strings;
  std::vector<Rejection> rejected;
  uint64_t lines = 0;
  // Points older than this are past the tenant's raw retention: refused, as no read would see them.
  int64_t oldest_ns = std::numeric_limits<int64_t>::min();
  std::chrono::seconds raw_retention{0};  // for the refusal's message
};

struct Scratch {
  explicit Scratch(const Limits& limits) : parser(limits) {}
  LineParser parser;
  Batch batch;
  simdjson::ondemand::parser json;
  std::vector<Tag> tags;
  std::vector<Field> fields;
  std::string series_text;
};

struct Ingestor::Impl {
  Impl(storage::Storage* s, const IngestOptions* o) : storage(s), options(o) {}

  TenantCache* Cache(storage::TenantId tenant);
  // Resets `batch` for a write of `tenant` at `now_ns`.
  void Begin(Batch& batch, storage::TenantId tenant, CacheKind kind, std::string_view stable,
             int64_t now_ns);
  std::unique_ptr<Scratch> TakeScratch();
  void ReturnScratch(std::unique_ptr<Scratch> scratch);
  // Creates what the misses name and adds their samples; bad ones become rejections.
  Status ResolveMisses(storage::TenantId tenant, Batch& batch, int64_t now_ns);
  WriteReport Commit(storage::TenantId tenant, Batch& batch, int64_t now_ns);

  storage::Storage* const storage;
  const IngestOptions* const options;
  AppendObserver observer;
  Mutex caches_mu;
  std::unordered_map<storage::TenantId, std::unique_ptr<TenantCache>> caches
      FORESIGHT_GUARDED_BY(caches_mu);
  Mutex pool_mu;
  std::vector<std::unique_ptr<Scratch>> pool FORESIGHT_GUARDED_BY(pool_mu);
  std::atomic<uint64_t> lines{0}, values{0}, rejected_lines{0}, assets_created{0};
};

}  // namespace foresight::ingest
