// Ingestor: parsed points -> series ids -> one storage Append per write.
//
// Series ids come from a per-tenant cache keyed by the series text exactly as the client wrote
// it ("cpu,host=a"), so the common write — every series already known — costs one hash lookup
// per line and a short scan of that series' fields, all under one shared lock taken for the
// whole body. Points naming anything new are copied aside and resolved after the parse in one
// storage call (which creates series and assets durably), then the cache is updated under the
// exclusive lock. Different spellings of one series (tags in another order) are different
// cache entries that map to the same ids: storage canonicalises.
#include "ingest/ingestor_impl.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace foresight::ingest {

using storage::Sample;
using storage::Value;
using storage::ValueType;

const FieldSlot* SeriesEntry::Find(std::string_view name, size_t hint) const {
  if (hint < fields.size() && fields[hint].name == name) return &fields[hint];
  for (const FieldSlot& slot : fields) {
    if (slot.name == name) return &slot;
  }
  return nullptr;
}

// Worded as storage words it, so a conflict reads the same whether the cache or the catalog
// caught it.
static std::string ConflictReason(const Point& point, std::string_view field, ValueType stored,
                                  ValueType got) {
  return "field '" + std::string(field) + "' of '" + std::string(point.measurement) + "' holds " +
         std::string(storage::ValueTypeName(stored)) + " values, not " +
         std::string(storage::ValueTypeName(got));
}

void PutLengthPrefixed(std::string* out, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  out->append(s);
}

void Batch::Reset(TenantCache* tenant_cache, CacheKind cache_kind, std::string_view stable) {
  cache = tenant_cache;
  kind = cache_kind;
  stable_text = stable;
  samples.clear();
  sample_lines.clear();
  misses.clear();
  strings.clear();
  rejected.clear();
  lines = 0;
  oldest_ns = std::numeric_limits<int64_t>::min();
  raw_retention = std::chrono::seconds(0);
}

Value Batch::Stable(Value v) {
  if (v.type != ValueType::kString) return v;
  bool inside = stable_text.empty() ||
                (v.str.data() >= stable_text.data() &&
                 v.str.data() + v.str.size() <= stable_text.data() + stable_text.size());
  if (!inside) v.str = strings.emplace_back(v.str);
  return v;
}

void Batch::OnPoint(const Point& point) {
  // The parser calls this through PointSink, under the ReaderLock its caller took on the cache.
  cache->mu.AssertHeldShared();
  if (point.ts_ns < oldest_ns) {
    rejected.push_back({point.line, 0,
                        "point is older than the tenant's raw retention (" +
                            storage::FormatRetentionPeriod(raw_retention) +
                            "), so no read would see it; a longer retention in the tenant's "
                            "settings keeps it"});
    return;
  }
  const auto& map = cache->map[static_cast<int>(kind)];
  auto it = map.find(point.series_text);
  if (it != map.end()) {
    size_t mark = samples.size();
    bool complete = true;
    for (size_t i = 0; i < point.fields.size(); ++i) {
      const Field& f = point.fields[i];
      const FieldSlot* slot = it->second.Find(f.key, i);
      if (!slot) {
        complete = false;
        break;
      }
      if (slot->type != f.value.type) {
        samples.resize(mark);
        sample_lines.resize(mark);
        rejected.push_back({point.line, 0, ConflictReason(point, f.key, slot->type, f.value.type)});
        return;
      }
      samples.push_back({slot->id, point.ts_ns, Stable(f.value)});
      sample_lines.push_back(point.line);
    }
    if (complete) {
      ++lines;
      return;
    }
    samples.resize(mark);
    sample_lines.resize(mark);
  }
  MissPoint& miss = misses.emplace_back();
  miss.line = point.line;
  miss.ts_ns = point.ts_ns;
  miss.series_text = std::string(point.series_text);
  miss.measurement = std::string(point.measurement);
  for (const Tag& t : point.tags) miss.tags.emplace_back(t.key, t.value);
  for (const Field& f : point.fields) {
    Value v = f.value;
    if (v.type == ValueType::kString) v.str = strings.emplace_back(v.str);
    miss.fields.emplace_back(std::string(f.key), v);
  }
}

Ingestor::Ingestor(storage::Storage* storage, IngestOptions options, AppendObserver observer)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(storage, &options_)) {
  impl_->observer = std::move(observer);
}
Ingestor::~Ingestor() = default;

const storage::Clock& Ingestor::clock() const { return impl_->storage->clock(); }

IngestStats Ingestor::GetStats() const {
  IngestStats s;
  s.lines = impl_->lines.load(std::memory_order_relaxed);
  s.values = impl_->values.load(std::memory_order_relaxed);
  s.rejected_lines = impl_->rejected_lines.load(std::memory_order_relaxed);
  s.assets_created = impl_->assets_created.load(std::memory_order_relaxed);
  return s;
}

TenantCache* Ingestor::Impl::Cache(storage::TenantId tenant) {
  MutexLock l(&caches_mu);
  auto& slot = caches[tenant];
  if (!slot) slot = std::make_unique<TenantCache>();
  return slot.get();
}

void Ingestor::Impl::Begin(Batch& batch, storage::TenantId tenant, CacheKind kind,
                           std::string_view stable, int64_t now_ns) {
  batch.Reset(Cache(tenant), kind, stable);
  Result<storage::TenantRetention> retention = storage->GetRetention(tenant);
  if (retention.ok() && retention->applied.raw) {
    batch.raw_retention = *retention->applied.raw;
    batch.oldest_ns =
        now_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(batch.raw_retention).count();
  }
}

std::unique_ptr<Scratch> Ingestor::Impl::TakeScratch() {
  MutexLock l(&pool_mu);
  if (pool.empty()) return std::make_unique<Scratch>(options->limits);
  std::unique_ptr<Scratch> s = std::move(pool.back());
  pool.pop_back();
  return s;
}

void Ingestor::Impl::ReturnScratch(std::unique_ptr<Scratch> scratch) {
  MutexLock l(&pool_mu);
  pool.push_back(std::move(scratch));
}

Status Ingestor::Impl::ResolveMisses(storage::TenantId tenant, Batch& batch, int64_t now_ns) {
  if (batch.misses.empty()) return Status::OK();
  std::vector<storage::SeriesSpec> specs;
  std::vector<storage::Asset> assets;
  for (const MissPoint& m : batch.misses) {
    for (const auto& [name, value] : m.fields) {
      storage::SeriesSpec& spec = specs.emplace_back();
      spec.key.measurement = m.measurement;
      spec.key.tags = m.tags;
      spec.key.field = name;
      spec.type = value.type;
    }
    auto asset_tag = std::find_if(m.tags.begin(), m.tags.end(),
                                  [&](const auto& t) { return t.first == options->asset_tag; });
    if (asset_tag == m.tags.end()) continue;
    {
      ReaderLock l(&batch.cache->mu);
      if (batch.cache->assets.contains(asset_tag->second)) continue;
    }
    if (std::any_of(assets.begin(), assets.end(),
                    [&](const storage::Asset& a) { return a.id == asset_tag->second; })) {
      continue;
    }
    storage::Asset& asset = assets.emplace_back();
    asset.id = asset_tag->second;
    asset.created_ns = now_ns;
    for (const auto& t : m.tags) {
      if (&t != &*asset_tag) asset.attributes.push_back(t);
    }
  }

  // Look up first, so that a line rejected for a type conflict creates none of its series.
  auto looked_up = storage->ResolveSeries(tenant, specs, storage::Storage::Resolve::kLookup);
  if (!looked_up.ok()) return looked_up.status();
  std::vector<bool> bad(batch.misses.size());
  size_t at = 0;
  for (size_t i = 0; i < batch.misses.size(); ++i) {
    for (size_t j = 0; j < batch.misses[i].fields.size(); ++j, ++at) {
      const Status& s = (*looked_up)[at].status();
      if (!s.ok() && s.code() != Status::Code::kNotFound && !bad[i]) {
        bad[i] = true;
        batch.rejected.push_back({batch.misses[i].line, 0, std::string(s.message())});
      }
    }
    for (const auto& [key, value] : batch.misses[i].tags) {
      if (key == options->asset_tag && value.size() > storage::kMaxAssetIdBytes && !bad[i]) {
        bad[i] = true;
        batch.rejected.push_back(
            {batch.misses[i].line, 0,
             fmt::format("{} is longer than {} bytes", key, storage::kMaxAssetIdBytes)});
      }
    }
  }
  std::vector<storage::SeriesSpec> wanted;
  at = 0;
  for (size_t i = 0; i < batch.misses.size(); ++i) {
    for (size_t j = 0; j < batch.misses[i].fields.size(); ++j, ++at) {
      if (!bad[i]) wanted.push_back(std::move(specs[at]));
    }
  }
  auto resolved = storage->ResolveSeries(tenant, wanted);
  if (!resolved.ok()) return resolved.status();

  at = 0;
  std::vector<size_t> good;  // indexes into misses whose every field resolved
  for (size_t i = 0; i < batch.misses.size(); ++i) {
    if (bad[i]) continue;
    const MissPoint& m = batch.misses[i];
    std::string reason;
    for (size_t j = 0; j < m.fields.size(); ++j) {
      const Result<storage::SeriesId>& id = (*resolved)[at + j];
      if (!id.ok() && reason.empty()) reason = std::string(id.status().message());
    }
    if (reason.empty()) {
      for (size_t j = 0; j < m.fields.size(); ++j) {
        batch.samples.push_back({*(*resolved)[at + j], m.ts_ns, m.fields[j].second});
        batch.sample_lines.push_back(m.line);
      }
      ++batch.lines;
      good.push_back(i);
    } else {
      batch.rejected.push_back({m.line, 0, reason});
    }
    at += m.fields.size();
  }

  if (!assets.empty()) {
    // Only assets of points that will be stored.
    std::erase_if(assets, [&](const storage::Asset& a) {
      return std::none_of(good.begin(), good.end(), [&](size_t i) {
        const auto& tags = batch.misses[i].tags;
        return std::any_of(tags.begin(), tags.end(), [&](const auto& t) {
          return t.first == options->asset_tag && t.second == a.id;
        });
      });
    });
    auto created = storage->EnsureAssets(tenant, assets);
    if (!created.ok()) return created.status();
    assets_created.fetch_add(*created, std::memory_order_relaxed);
  }

  WriterLock l(&batch.cache->mu);
  auto& map = batch.cache->map[static_cast<int>(batch.kind)];
  if (map.size() >= options->max_cached_series) map.clear();
  at = 0;
  size_t next_good = 0;
  for (size_t i = 0; i < batch.misses.size(); ++i) {
    const MissPoint& m = batch.misses[i];
    if (bad[i]) continue;
    if (next_good < good.size() && good[next_good] == i) {
      ++next_good;
      SeriesEntry& entry = map[m.series_text];
      for (size_t j = 0; j < m.fields.size(); ++j) {
        const auto& [name, value] = m.fields[j];
        if (!entry.Find(name, j)) entry.fields.push_back({name, value.type, *(*resolved)[at + j]});
      }
    }
    at += m.fields.size();
  }
  for (const storage::Asset& a : assets) batch.cache->assets.insert(a.id);
  return Status::OK();
}

WriteReport Ingestor::Impl::Commit(storage::TenantId tenant, Batch& batch, int64_t now_ns) {
  WriteReport report;
  report.status = ResolveMisses(tenant, batch, now_ns);
  if (report.status.ok() && !batch.misses.empty()) {
    // Points resolved after the parse were appended out of line order; restore it so the last
    // line wins for a repeated (series, timestamp).
    std::vector<uint32_t> order(batch.samples.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return batch.sample_lines[a] < batch.sample_lines[b];
    });
    std::vector<Sample> sorted(order.size());
    for (size_t i = 0; i < order.size(); ++i) sorted[i] = batch.samples[order[i]];
    batch.samples.swap(sorted);
  }
  if (report.status.ok() && !batch.samples.empty()) {
    report.status = storage->Append(tenant, batch.samples);
    if (report.status.ok() && observer) observer(tenant, batch.samples);
  }
  std::stable_sort(batch.rejected.begin(), batch.rejected.end(),
                   [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
  report.rejected = std::move(batch.rejected);
  batch.rejected = {};
  rejected_lines.fetch_add(report.rejected.size(), std::memory_order_relaxed);
  if (report.status.ok()) {
    report.lines = batch.lines;
    report.values = batch.samples.size();
    lines.fetch_add(report.lines, std::memory_order_relaxed);
    values.fetch_add(report.values, std::memory_order_relaxed);
  }
  return report;
}

WriteReport Ingestor::WriteLineProtocol(storage::TenantId tenant, std::string_view body,
                                        Precision precision, int64_t now_ns) {
  std::unique_ptr<Scratch> scratch = impl_->TakeScratch();
  Batch& batch = scratch->batch;
  impl_->Begin(batch, tenant, CacheKind::kLineProtocol, body, now_ns);
  {
    ReaderLock l(&batch.cache->mu);
    scratch->parser.Parse(body, precision, now_ns, batch, &batch.rejected);
  }
  WriteReport report = impl_->Commit(tenant, batch, now_ns);
  impl_->ReturnScratch(std::move(scratch));
  return report;
}

}  // namespace foresight::ingest
