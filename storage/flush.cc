// Flushes: heads sealed into columnar blocks and rollup pages, in chunks of kFlushChunkBytes.
#include "storage/engine.h"
#include "storage/log.h"

#include <algorithm>

namespace foresight::storage {

Status Engine::Flush() {
  MutexLock f(&flush_mu_);
  return FlushLocked();
}

Status Engine::FlushLocked() {
  uint64_t cut_seq;
  {
    MutexLock l(&write_mu_);
    if (!bg_error_.ok()) return bg_error_;
    cut_seq = applied_seq_;
  }
  // Freeze: every record <= cut_seq is in the heads now; later points go to fresh heads.
  // Only this thread (holding flush_mu_) changes `frozen`, so it reads them without the shard
  // locks below; readers copy them under the locks.
  std::vector<std::pair<uint64_t, const Points*>> frozen;
  uint64_t frozen_bytes = 0, frozen_points = 0;
  oldest_head_ns_ = 0;
  for (Shard& shard : shards_) {
    MutexLock l(&shard.mu);
    shard.frozen = std::move(shard.active);
    shard.active.clear();
    for (const auto& [key, head] : shard.frozen) {
      if (head.size() == 0) continue;
      frozen_points += head.size();
      frozen_bytes += head.size() * 16;
      for (const std::string& str : head.strings) frozen_bytes += str.size();
      frozen.emplace_back(key, &head);
      // A series' next head usually gets as many points as this one. Sized for them up front,
      // it grows without reallocating and without doubling's slack, which held up to half of
      // the heads' memory. A series that stops reporting keeps its empty head one flush longer.
      Points& next = shard.active[key];
      next.type = head.type;
      next.ts_ns.reserve(head.size());
      next.bits.reserve(head.size());
    }
  }
  if (frozen.empty() && cut_seq == truncated_seq_) return Status::OK();
  std::sort(frozen.begin(), frozen.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  rocksdb::WriteBatch batch;
  Status s;
  for (auto& [key, head] : frozen) {
    s = SealSeries(static_cast<TenantId>(key >> 32), static_cast<SeriesId>(key), *head, &batch);
    if (!s.ok()) break;
    if (batch.GetDataSize() >= kFlushChunkBytes) {
      s = Write(SyncedWrite(), &batch, "flush write");
      batch.Clear();
      if (!s.ok()) break;
    }
  }
  if (s.ok() && cut_seq > truncated_seq_) {
    std::vector<std::pair<TenantId, std::string>> tenants = ListTenants();
    for (const auto& [tenant, name] : tenants) {
      s = FromRocks(batch.DeleteRange(cfs_[kLog], LogKey(tenant, 0), LogKey(tenant, cut_seq + 1)),
                    "log truncation");
      if (!s.ok()) break;
    }
  }
  if (s.ok()) s = Write(SyncedWrite(), &batch, "flush write");
  if (!s.ok()) {
    MutexLock l(&write_mu_);
    if (bg_error_.ok()) bg_error_ = s;
    failed_ = true;
    log::Error("storage: flush failed, refusing further writes until reopened: {}", s.ToString());
    return s;
  }
  truncated_seq_ = cut_seq;
  for (Shard& shard : shards_) {
    MutexLock l(&shard.mu);
    for (const auto& [key, head] : shard.frozen) {
      auto cached = shard.sealed_latest.find(key);
      const size_t newest = NewestIndex(head);
      if (cached == shard.sealed_latest.end() || newest == std::string::npos) continue;
      // The head's point is the newer write when the timestamps tie.
      if (cached->second.size() == 0 || head.ts_ns[newest] >= cached->second.ts_ns[0]) {
        Points point;
        point.type = head.type;
        PushPoint(&point, head, newest);
        cached->second = std::move(point);
      }
    }
    shard.frozen.clear();
    ++shard.flushes;
  }
  head_bytes_ -= std::min(head_bytes_.load(), frozen_bytes);
  head_points_ -= std::min(head_points_.load(), frozen_points);
  flushes_++;
  { MutexLock l(&write_mu_); }  // pairs with the stall wait in Append: no lost wake-up
  stall_cv_.NotifyAll();
  return Status::OK();
}

Engine::BlockIterator Engine::SeriesBlocks(TenantId tenant, SeriesId series) const {
  return BlockIterator(db_.get(), cfs_[kPoints], tenant, series);
}

Status Engine::SealSeries(TenantId tenant, SeriesId series, const Points& unsorted_head,
                          rocksdb::WriteBatch* batch) {
  Points sorted_copy;
  const Points* sorted = &unsorted_head;
  if (!IsSortedUnique(unsorted_head)) {  // heads usually arrive in order: no copy then
    sorted_copy = unsorted_head;
    SortUnique(&sorted_copy);
    sorted = &sorted_copy;
  }
  const Points& head = *sorted;
  if (head.size() == 0) return Status::OK();
  const uint64_t key = HeadKey(tenant, series);
  std::vector<std::string> old_keys;
  Points merged;
  merged.type = head.type;
  auto take = [&](std::string block_key, std::string_view value) -> Status {
    old_keys.push_back(std::move(block_key));
    return DecodeBlock(value, &merged);
  };

  // The newest block of the series, from memory or (once per series) from RocksDB.
  auto meta = newest_block_.find(key);
  if (meta == newest_block_.end()) {
    BlockMeta found;
    BlockIterator blocks = SeriesBlocks(tenant, series);
    blocks->SeekToLast();
    if (blocks->Valid()) {
      Result<BlockHeader> h = DecodeBlockHeader({blocks->value().data(), blocks->value().size()});
      if (!h.ok()) return h.status();
      found = {h->first_ts, h->last_ts, h->count};
    }
    if (!blocks->status().ok()) return FromRocks(blocks->status(), "block scan");
    meta = newest_block_.emplace(key, found).first;
  }

  // Appending after everything stored (the common case) needs no scan: at most the newest block
  // is merged when small, and stored minute rollups are extended, since no new point can
  // overwrite a stored one. Otherwise every block overlapping the head's minutes is merged and
  // those minutes are recomputed from all their points.
  const bool append_only = meta->second.count == 0 || head.ts_ns.front() > meta->second.last_ts;
  if (append_only) {
    const BlockMeta& newest = meta->second;
    if (newest.count > 0 && newest.count < kTargetBlockPoints &&
        FloorTo(newest.first_ts, kDayNs) == FloorTo(head.ts_ns.front(), kDayNs)) {
      std::string block_key = PointKey(tenant, series, newest.first_ts);
      std::string value;
      rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), cfs_[kPoints], block_key, &value);
      if (rs.ok()) {
        Status s = take(std::move(block_key), value);
        if (!s.ok()) return s;
      } else if (!rs.IsNotFound()) {  // NotFound: retention dropped it meanwhile
        return FromRocks(rs, "block read");
      }
    }
  } else {
    int64_t lo = FloorTo(head.ts_ns.front(), kMinuteNs);
    int64_t hi = FloorTo(head.ts_ns.back(), kMinuteNs) + kMinuteNs - 1;
    BlockIterator blocks = SeriesBlocks(tenant, series);
    blocks->SeekForPrev(PointKey(tenant, series, lo));
    if (blocks->Valid()) {
      Result<BlockHeader> h = DecodeBlockHeader({blocks->value().data(), blocks->value().size()});
      if (!h.ok()) return h.status();
      if (h->last_ts >= lo) {
        Status s = take(blocks->key().ToString(), {blocks->value().data(), blocks->value().size()});
        if (!s.ok()) return s;
      }
      blocks->Next();
    } else {
      blocks->Seek(PointKey(tenant, series, lo));
    }
    for (; blocks->Valid() && DecodeTimestampKey(blocks->key().data() + kSeriesPrefixSize) <= hi;
         blocks->Next()) {
      Status s = take(blocks->key().ToString(), {blocks->value().data(), blocks->value().size()});
      if (!s.ok()) return s;
    }
    if (!blocks->status().ok()) return FromRocks(blocks->status(), "block scan");
  }
  merged = MergeNewerWins(merged, head);

  for (const std::string& key : old_keys) {
    Status s = FromRocks(batch->Delete(cfs_[kPoints], key), "flush batch");
    if (!s.ok()) return s;
  }
  // Blocks never cross a UTC day boundary, so retention (which drops whole blocks) is exact to
  // the day however sparse a series is; within a day they are cut into even chunks.
  size_t n = merged.size();
  for (size_t day_begin = 0; day_begin < n;) {
    int64_t day_end_ts = FloorTo(merged.ts_ns[day_begin], kDayNs) + kDayNs;  // in range: see
                                                                             // kMaxTimestampNs
    size_t day_end =
        std::lower_bound(merged.ts_ns.begin() + day_begin, merged.ts_ns.end(), day_end_ts) -
        merged.ts_ns.begin();
    size_t len = day_end - day_begin;
    size_t chunks = (len + kMaxBlockPoints - 1) / kMaxBlockPoints;
    for (size_t c = 0, begin = day_begin; c < chunks; ++c) {
      size_t end = day_begin + len * (c + 1) / chunks;
      std::span<const std::string> strings;
      if (merged.type == ValueType::kString) {
        strings = std::span<const std::string>(merged.strings).subspan(begin, end - begin);
      }
      std::string block = EncodeBlock(
          merged.type, std::span<const int64_t>(merged.ts_ns).subspan(begin, end - begin),
          std::span<const uint64_t>(merged.bits).subspan(begin, end - begin), strings);
      Status s =
          FromRocks(batch->Put(cfs_[kPoints], PointKey(tenant, series, merged.ts_ns[begin]), block),
                    "flush batch");
      if (!s.ok()) return s;
      blocks_written_++;
      if (end == n && (meta->second.count == 0 || merged.ts_ns.back() >= meta->second.last_ts)) {
        meta->second = {merged.ts_ns[begin], merged.ts_ns.back(),
                        static_cast<uint32_t>(end - begin)};
      }
      begin = end;
    }
    day_begin = day_end;
  }

  if (merged.type == ValueType::kString) return Status::OK();  // no numeric rollups

  // Minute rollups of the minutes the head touched: when appending, the head's points extend
  // the stored minutes; otherwise the minutes are recomputed from every stored point in them.
  std::map<int64_t, Aggregate> minutes;
  for (int64_t ts : head.ts_ns) minutes.try_emplace(FloorTo(ts, kMinuteNs));
  {
    const Points& source = append_only ? head : merged;
    auto it = minutes.begin();
    for (size_t i = 0; i < source.size() && it != minutes.end(); ++i) {
      int64_t m = FloorTo(source.ts_ns[i], kMinuteNs);
      while (it != minutes.end() && it->first < m) ++it;
      if (it != minutes.end() && it->first == m) it->second.Add(source.AsDouble(i));
    }
  }
  // Each touched page is read, updated and rewritten; the total of a whole page is the next
  // tier's bucket (a minute page is one hour, an hour page one day).
  std::map<int64_t, Bucket> changed, totals;
  for (const auto& [start, agg] : minutes) changed[start] = agg.ToBucket(start);
  for (Tier tier : {Tier::kMinute, Tier::kHour, Tier::kDay}) {
    totals.clear();
    bool extend = append_only && tier == Tier::kMinute;
    Status s = UpdatePages(tenant, series, tier, changed, extend, batch, &totals);
    if (!s.ok()) return s;
    changed.swap(totals);
  }
  return Status::OK();
}

Status Engine::UpdatePages(TenantId tenant, SeriesId series, Tier tier,
                           const std::map<int64_t, Bucket>& changed, bool extend,
                           rocksdb::WriteBatch* batch, std::map<int64_t, Bucket>* page_totals) {
  const int64_t page_width = PageWidth(tier), width = TierWidth(tier);
  std::map<int64_t, Bucket> entries;
  std::vector<Bucket> list;
  for (auto it = changed.begin(); it != changed.end();) {
    int64_t page = FloorTo(it->first, page_width);
    std::string key = RollupKey(tenant, tier, series, page);
    entries.clear();
    list.clear();
    std::string value;
    rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), cfs_[kRollups], key, &value);
    if (rs.ok()) {
      Status s = DecodeRollupPage(value, page, width, &list);
      if (!s.ok()) return s;
      for (const Bucket& b : list) entries[b.start_ns] = b;
    } else if (!rs.IsNotFound()) {
      return FromRocks(rs, "rollup read");
    }
    for (; it != changed.end() && FloorTo(it->first, page_width) == page; ++it) {
      auto [slot, fresh] = entries.try_emplace(it->first, it->second);
      if (!fresh && extend) {
        Aggregate a;
        a.Append(slot->second);
        a.Append(it->second);
        slot->second = a.ToBucket(it->first);
      } else if (!fresh) {
        slot->second = it->second;
      }
    }
    list.clear();
    Aggregate total;
    for (const auto& [start, b] : entries) {
      list.push_back(b);
      total.Append(b);
    }
    Status s = FromRocks(batch->Put(cfs_[kRollups], key, EncodeRollupPage(page, width, list)),
                         "flush batch");
    if (!s.ok()) return s;
    (*page_totals)[page] = total.ToBucket(page);
  }
  return Status::OK();
}

}  // namespace foresight::storage
