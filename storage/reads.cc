// Reads: raw points, downsampled buckets and the latest point, over heads, blocks and rollups.
#include "storage/engine.h"

#include <algorithm>
#include <cmath>

namespace foresight::storage {

// Unsealed points of a series in [from, to), sorted and unique, the newest write winning.
Points Engine::HeadPoints(TenantId tenant, SeriesId series, int64_t from, int64_t to) const {
  uint64_t key = HeadKey(tenant, series);
  const Shard& shard = shards_[std::hash<uint64_t>()(key) % kShards];
  Points frozen, active;
  {
    MutexLock l(&shard.mu);
    auto copy = [&](const std::unordered_map<uint64_t, Points>& heads, Points* out) {
      auto it = heads.find(key);
      if (it == heads.end()) return;
      const Points& p = it->second;
      out->type = p.type;
      for (size_t i = 0; i < p.size(); ++i) {
        if (p.ts_ns[i] >= from && p.ts_ns[i] < to) PushPoint(out, p, i);
      }
    };
    copy(shard.frozen, &frozen);
    copy(shard.active, &active);
  }
  SortUnique(&frozen);
  SortUnique(&active);
  return MergeNewerWins(frozen, active);
}

Status Engine::ReadBlocks(TenantId tenant, SeriesId series, int64_t from, int64_t to,
                          Points* out) const {
  BlockIterator it = SeriesBlocks(tenant, series);
  it->SeekForPrev(PointKey(tenant, series, from));
  if (!it->Valid()) it->Seek(PointKey(tenant, series, from));
  Points block;
  for (; it->Valid() && DecodeTimestampKey(it->key().data() + kSeriesPrefixSize) < to; it->Next()) {
    block.ts_ns.clear();
    block.bits.clear();
    block.strings.clear();
    Status s = DecodeBlock({it->value().data(), it->value().size()}, &block);
    if (!s.ok()) return s;
    out->type = block.type;
    AppendRange(block, from, to, out);
  }
  return FromRocks(it->status(), "block scan");
}

Result<Points> Engine::ReadRaw(TenantId tenant, SeriesId series, int64_t from_ns,
                               int64_t to_ns) const {
  Result<ValueType> type = SeriesType(tenant, series);
  if (!type.ok()) return type.status();
  from_ns = std::max({from_ns, Cutoff(tenant, Tier::kRaw), kMinTimestampNs});
  to_ns = std::min(to_ns, kMaxTimestampNs + 1);
  Points out;
  out.type = *type;
  if (from_ns >= to_ns) return out;
  // Heads first, blocks second: a flush that completes in between moves points from heads to
  // blocks, which this order sees at least once; the reverse order could miss them.
  Points head = HeadPoints(tenant, series, from_ns, to_ns);
  Status s = ReadBlocks(tenant, series, from_ns, to_ns, &out);
  if (!s.ok()) return s;
  head.type = *type;
  return MergeNewerWins(out, head);
}

Result<std::vector<std::vector<Bucket>>> Engine::ReadDownsampledMany(
    TenantId tenant, std::span<const SeriesId> series, int64_t from_ns, int64_t to_ns,
    std::chrono::nanoseconds step) const {
  for (SeriesId id : series) {
    Result<ValueType> type = SeriesType(tenant, id);
    if (!type.ok()) return type.status();
    if (*type == ValueType::kString) {
      return Status::InvalidArgument("string series cannot be downsampled");
    }
  }
  int64_t step_ns = step.count();
  if (step_ns <= 0) return Status::InvalidArgument("step must be positive");
  std::vector<std::vector<Bucket>> out(series.size());
  if (step_ns > kDayNs * 366 * 100) return Status::InvalidArgument("step exceeds 100 years");
  from_ns = std::max(from_ns, kMinTimestampNs);
  to_ns = std::min(to_ns, kMaxTimestampNs + 1);
  int64_t start = FloorTo(from_ns, step_ns);
  if (start >= to_ns || series.empty()) return out;
  if ((static_cast<__int128>(to_ns) - start) / step_ns > 10'000'000) {
    return Status::InvalidArgument("range / step exceeds 10,000,000 buckets");
  }

  Tier tier = Tier::kRaw;
  for (Tier t : {Tier::kDay, Tier::kHour, Tier::kMinute}) {
    if (step_ns % TierWidth(t) == 0) {
      tier = t;
      break;
    }
  }
  // Aggregates raw points of `id` in [lo, to_ns) into buckets; only into `only` when given.
  auto aggregate_raw = [&](SeriesId id, int64_t lo, const std::vector<int64_t>* only,
                           std::map<int64_t, Aggregate>* buckets) {
    Result<Points> raw = ReadRaw(tenant, id, lo, to_ns);
    if (!raw.ok()) return raw.status();
    for (size_t i = 0; i < raw->size(); ++i) {
      int64_t b = FloorTo(raw->ts_ns[i], step_ns);
      if (only && !std::binary_search(only->begin(), only->end(), b)) continue;
      (*buckets)[b].Add(raw->AsDouble(i));
    }
    return Status::OK();
  };
  // The series in key order, for one forward pass of the rollup iterator.
  std::vector<size_t> order(series.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return series[a] < series[b]; });
  std::unique_ptr<rocksdb::Iterator> it;
  std::string upper;
  rocksdb::Slice upper_slice;
  rocksdb::ReadOptions ro;
  if (tier != Tier::kRaw) {
    // Nothing past the last series' pages before to_ns is read.
    upper = RollupKey(tenant, tier, series[order.back()], to_ns);
    upper_slice = rocksdb::Slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    it.reset(db_->NewIterator(ro, cfs_[kRollups]));
  }
  const int64_t cutoff = tier == Tier::kRaw ? 0 : Cutoff(tenant, tier);
  const int64_t width = tier == Tier::kRaw ? 0 : TierWidth(tier);
  std::vector<Bucket> entries;
  for (size_t k : order) {
    const SeriesId id = series[k];
    std::map<int64_t, Aggregate> buckets;
    if (tier == Tier::kRaw) {
      Status s = aggregate_raw(id, start, nullptr, &buckets);
      if (!s.ok()) return s;
    } else {
      // Buckets holding unsealed points are computed from raw points; the rest from rollups.
      // HeadPoints are sorted, so raw_buckets comes out sorted and distinct.
      Points head = HeadPoints(tenant, id, start, to_ns);
      std::vector<int64_t> raw_buckets;
      for (int64_t ts : head.ts_ns) {
        int64_t b = FloorTo(ts, step_ns);
        if (raw_buckets.empty() || raw_buckets.back() != b) raw_buckets.push_back(b);
      }
      const std::string prefix = RollupKey(tenant, tier, id, 0).substr(0, 9);
      for (it->Seek(RollupKey(tenant, tier, id, FloorTo(start, PageWidth(tier))));
           it->Valid() && it->key().starts_with(prefix); it->Next()) {
        int64_t page = DecodeTimestampKey(it->key().data() + 9);
        if (page >= to_ns) break;  // pages starting at or after to_ns hold nothing in range
        entries.clear();
        Status s =
            DecodeRollupPage({it->value().data(), it->value().size()}, page, width, &entries);
        if (!s.ok()) return s;
        for (const Bucket& e : entries) {
          if (e.start_ns < start || e.start_ns >= to_ns) continue;
          if (static_cast<__int128>(e.start_ns) + width <= cutoff) continue;  // expired
          int64_t b = FloorTo(e.start_ns, step_ns);
          if (std::binary_search(raw_buckets.begin(), raw_buckets.end(), b)) continue;
          buckets[b].Append(e);
        }
      }
      if (!it->status().ok()) return FromRocks(it->status(), "rollup scan");
      if (!raw_buckets.empty()) {  // one raw read for all of them
        Status s = aggregate_raw(id, raw_buckets.front(), &raw_buckets, &buckets);
        if (!s.ok()) return s;
      }
    }
    out[k].reserve(buckets.size());
    for (const auto& [b, agg] : buckets) {
      if (agg.count() > 0) out[k].push_back(agg.ToBucket(b));
    }
  }
  return out;
}

Result<Points> Engine::ReadLatest(TenantId tenant, SeriesId series) const {
  Result<ValueType> type = SeriesType(tenant, series);
  if (!type.ok()) return type.status();
  const uint64_t key = HeadKey(tenant, series);
  const Shard& shard = shards_[std::hash<uint64_t>()(key) % kShards];
  // The newer of two candidates; `b` wins a tie, being the newer write.
  auto newer = [](Points a, Points b) {
    return b.size() && (!a.size() || b.ts_ns[0] >= a.ts_ns[0]) ? b : a;
  };
  Points head, sealed;
  bool cached = false;
  uint64_t flushes = 0;
  {
    MutexLock l(&shard.mu);
    for (const auto* heads : {&shard.frozen, &shard.active}) {
      auto it = heads->find(key);
      if (it == heads->end()) continue;
      if (size_t i = NewestIndex(it->second); i != std::string::npos) {
        Points point;
        point.type = it->second.type;
        PushPoint(&point, it->second, i);
        head = newer(std::move(head), std::move(point));
      }
    }
    if (auto it = shard.sealed_latest.find(key); it != shard.sealed_latest.end()) {
      sealed = it->second;
      cached = true;
    }
    flushes = shard.flushes;
  }
  if (!cached) {
    BlockIterator it = SeriesBlocks(tenant, series);
    it->SeekToLast();
    if (it->Valid()) {
      Points block;
      Status s = DecodeBlock({it->value().data(), it->value().size()}, &block);
      if (!s.ok()) return s;
      if (block.size() > 0) {
        sealed.type = block.type;
        PushPoint(&sealed, block, block.size() - 1);
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "block scan");
    MutexLock l(&shard.mu);
    if (shard.flushes == flushes) shard.sealed_latest.emplace(key, sealed);
  }
  Points out = newer(std::move(sealed), std::move(head));
  // What retention has expired is not read, as by ReadRaw, even before compaction deletes it.
  if (out.size() == 0 || out.ts_ns[0] < Cutoff(tenant, Tier::kRaw)) {
    return Status::NotFound("series " + std::to_string(series) + " is empty");
  }
  out.type = *type;
  return out;
}

}  // namespace foresight::storage
