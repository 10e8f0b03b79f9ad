// The write path: the compact binary WAL record of a batch (its codec), group commit into
// RocksDB, the heads it fills, and replay of unsealed records after a crash. FORMAT.md has the
// record layout.
#include "storage/engine.h"
#include "storage/log.h"

#include <algorithm>

namespace foresight::storage {

// Rebuilds the heads from the log records that no flush has sealed yet, in sequence order.
Status Engine::ReplayLog() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kLog]));
  std::vector<std::pair<uint64_t, std::pair<TenantId, std::string>>> records;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 12) return Status::Corruption("log: bad key");
    TenantId tenant = DecodeFixed32BE(it->key().data());
    uint64_t seq = DecodeFixed64BE(it->key().data() + 4);
    records.push_back({seq, {tenant, it->value().ToString()}});
  }
  if (!it->status().ok()) return FromRocks(it->status(), "log scan");
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Sample> samples;
  std::vector<std::string> strings;
  for (const auto& [seq, rec] : records) {
    Status s = DecodeRecord(rec.first, rec.second, &samples, &strings);
    if (!s.ok()) {
      // Never skip a record and go on: later records may depend on it (last write wins), and
      // silently dropping acknowledged data is the one thing this engine must not do.
      return Status::Corruption("log record " + std::to_string(seq) + ": " +
                                std::string(s.message()));
    }
    ApplyToHeads(rec.first, samples);
    MutexLock l(&write_mu_);
    next_seq_ = seq + 1;
    applied_seq_ = seq;
  }
  replayed_points_ = head_points_.load();
  if (!records.empty()) {
    log::Info("storage: replayed {} unsealed batches ({} points) from the log", records.size(),
              head_points_.load());
  }
  return Status::OK();
}

// Log record: version, count, then per sample: series (varint), type (u8), timestamp as a
// zig-zag delta from the previous one (varint), value (float: 8 bytes; integers: zig-zag
// varint; bool: 1 byte; string: length-prefixed bytes).
void Engine::EncodeRecord(std::span<const Sample> samples, std::string* out) const {
  out->clear();
  out->reserve(samples.size() * 14 + 8);
  out->push_back(static_cast<char>(kLogRecordVersion));
  PutVarint64(out, samples.size());
  int64_t prev_ts = 0;
  for (const Sample& s : samples) {
    PutVarint64(out, s.series);
    out->push_back(static_cast<char>(s.value.type));
    PutVarint64(out, ZigZag(static_cast<int64_t>(static_cast<uint64_t>(s.ts_ns) -
                                                 static_cast<uint64_t>(prev_ts))));
    prev_ts = s.ts_ns;
    switch (s.value.type) {
      case ValueType::kFloat:
        PutFixed64LE(out, s.value.bits);
        break;
      case ValueType::kInt:
      case ValueType::kUint:
        PutVarint64(out, ZigZag(static_cast<int64_t>(s.value.bits)));
        break;
      case ValueType::kBool:
        out->push_back(static_cast<char>(s.value.bits & 1));
        break;
      case ValueType::kString:
        PutVarint64(out, s.value.str.size());
        out->append(s.value.str);
        break;
    }
  }
}

Status Engine::DecodeRecord(TenantId tenant, std::string_view record, std::vector<Sample>* samples,
                            std::vector<std::string>* strings) const {
  samples->clear();
  strings->clear();
  ByteReader r(record);
  uint8_t version;
  uint64_t count;
  if (!r.ReadByte(&version) || version != kLogRecordVersion || !r.ReadVarint64(&count) ||
      count > record.size()) {
    return Status::Corruption("bad header");
  }
  ReaderLock l(&catalog_mu_);
  const TenantState* t = Tenant(tenant);
  if (!t) return Status::Corruption("unknown tenant");
  samples->resize(count);
  std::vector<std::pair<size_t, size_t>> string_refs;  // sample index -> strings index
  int64_t prev_ts = 0;
  for (Sample& s : *samples) {
    uint64_t series, ts_delta;
    uint8_t type;
    if (!r.ReadVarint64(&series) || !r.ReadByte(&type) || !r.ReadVarint64(&ts_delta)) {
      return Status::Corruption("truncated sample");
    }
    if (series == 0 || series > t->series.size() ||
        t->series[series - 1].type != static_cast<ValueType>(type)) {
      return Status::Corruption("sample names an unknown series or the wrong type");
    }
    s.series = static_cast<SeriesId>(series);
    s.ts_ns = static_cast<int64_t>(static_cast<uint64_t>(prev_ts) +
                                   static_cast<uint64_t>(UnZigZag(ts_delta)));
    prev_ts = s.ts_ns;
    s.value.type = static_cast<ValueType>(type);
    bool ok = true;
    switch (s.value.type) {
      case ValueType::kFloat:
        ok = r.ReadFixed64LE(&s.value.bits);
        break;
      case ValueType::kInt:
      case ValueType::kUint: {
        uint64_t zz = 0;
        ok = r.ReadVarint64(&zz);
        s.value.bits = static_cast<uint64_t>(UnZigZag(zz));
        break;
      }
      case ValueType::kBool: {
        uint8_t b = 0;
        ok = r.ReadByte(&b);
        s.value.bits = b & 1;
        break;
      }
      case ValueType::kString: {
        uint64_t len;
        std::string_view bytes;
        ok = r.ReadVarint64(&len) && r.ReadBytes(len, &bytes);
        if (ok) {
          string_refs.emplace_back(&s - samples->data(), strings->size());
          strings->emplace_back(bytes);
        }
        break;
      }
    }
    if (!ok) return Status::Corruption("truncated value");
  }
  if (!r.empty()) return Status::Corruption("trailing bytes");
  for (auto [sample, str] : string_refs) (*samples)[sample].value.str = (*strings)[str];
  return Status::OK();
}

void Engine::ApplyToHeads(TenantId tenant, std::span<const Sample> samples) {
  // Bucket by shard so each shard mutex is taken once per batch, not once per point.
  thread_local std::vector<uint32_t> order;
  thread_local std::vector<uint8_t> shard_of;
  size_t counts[kShards + 1] = {};
  shard_of.resize(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    shard_of[i] =
        static_cast<uint8_t>(std::hash<uint64_t>()(HeadKey(tenant, samples[i].series)) % kShards);
    ++counts[shard_of[i] + 1];
  }
  for (size_t s = 1; s <= kShards; ++s) counts[s] += counts[s - 1];
  order.resize(samples.size());
  size_t fill[kShards];
  std::copy(counts, counts + kShards, fill);
  for (size_t i = 0; i < samples.size(); ++i) order[fill[shard_of[i]]++] = static_cast<uint32_t>(i);

  uint64_t bytes = 0;
  for (size_t s = 0; s < kShards; ++s) {
    if (counts[s] == counts[s + 1]) continue;
    MutexLock l(&shards_[s].mu);
    for (size_t k = counts[s]; k < counts[s + 1]; ++k) {
      const Sample& sample = samples[order[k]];
      Points& head = shards_[s].active[HeadKey(tenant, sample.series)];
      head.type = sample.value.type;
      head.ts_ns.push_back(sample.ts_ns);
      head.bits.push_back(sample.value.bits);
      if (sample.value.type == ValueType::kString) head.strings.emplace_back(sample.value.str);
      bytes += PointBytes(sample);
    }
  }
  int64_t expected = 0;
  oldest_head_ns_.compare_exchange_strong(expected, SteadyClock::now().time_since_epoch().count());
  head_bytes_ += bytes;
  head_points_ += samples.size();
}

rocksdb::WriteOptions Engine::SyncedWrite() const {
  rocksdb::WriteOptions wo;
  wo.sync = options_.fsync == FsyncPolicy::kAlways;
  return wo;
}

// Catalog changes are rare and everything else depends on them: synced unless fsync = never.
rocksdb::WriteOptions Engine::CatalogWrite() const {
  rocksdb::WriteOptions wo;
  wo.sync = options_.fsync != FsyncPolicy::kNever;
  return wo;
}

// One write at a time into RocksDB. Our group commit already batches appends; letting RocksDB
// form its own write groups as well would hand one thread's batch to another inside
// librocksdb, where (uninstrumented in Debian's build) TSan cannot see the hand-over.
Status Engine::Write(const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch,
                     std::string_view what) {
  MutexLock l(&rocks_write_mu_);
  return FromRocks(db_->Write(options, batch), what);
}

Status Engine::Append(TenantId tenant, std::span<const Sample> samples) {
  if (samples.empty()) return Status::OK();
  {
    ReaderLock l(&catalog_mu_);
    const TenantState* t = Tenant(tenant);
    if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
    for (size_t i = 0; i < samples.size(); ++i) {
      const Sample& s = samples[i];
      if (s.series == kInvalidSeriesId || s.series > t->series.size()) {
        return Status::InvalidArgument("sample " + std::to_string(i) + " names unknown series " +
                                       std::to_string(s.series));
      }
      if (s.ts_ns < kMinTimestampNs || s.ts_ns > kMaxTimestampNs) {
        return Status::InvalidArgument("sample " + std::to_string(i) + " has timestamp " +
                                       std::to_string(s.ts_ns) +
                                       " ns, outside the supported range (years 1679 to 2260)");
      }
      ValueType want = t->series[s.series - 1].type;
      if (s.value.type != want) {
        return Status::InvalidArgument("sample " + std::to_string(i) + " has a " +
                                       std::string(ValueTypeName(s.value.type)) +
                                       " value but series " + std::to_string(s.series) + " holds " +
                                       std::string(ValueTypeName(want)) + " values");
      }
    }
  }

  Writer w;
  w.tenant = tenant;
  w.samples = samples;
  EncodeRecord(samples, &w.record);  // encoded by each caller, in parallel, before queueing

  MutexLock l(&write_mu_);
  // Backpressure: when flushing falls behind, writers wait rather than grow memory unbounded.
  while (!failed_ && head_bytes_.load() >= 2 * options_.head_flush_bytes && !closed_) {
    stall_cv_.Wait(&write_mu_);
  }
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.Wait(&write_mu_);
  if (w.done) return w.status;

  // This writer leads: take a group of queued writers and commit them in one write.
  std::vector<Writer*> group;
  rocksdb::WriteBatch batch;
  size_t group_bytes = 0;
  uint64_t first_seq = next_seq_;
  for (Writer* x : writers_) {
    if (!group.empty() && group_bytes + x->record.size() > (4u << 20)) break;
    group.push_back(x);
    group_bytes += x->record.size();
  }
  Status status = bg_error_;
  l.Unlock();

  if (status.ok()) {
    uint64_t seq = first_seq;
    for (Writer* x : group) {
      status = FromRocks(batch.Put(cfs_[kLog], LogKey(x->tenant, seq++), x->record), "log batch");
      if (!status.ok()) break;
    }
  }
  if (status.ok()) {
    status = Write(SyncedWrite(), &batch, "WAL write");
    wal_writes_++;
  }
  if (status.ok()) {
    for (Writer* x : group) {
      ApplyToHeads(x->tenant, x->samples);
      points_appended_ += x->samples.size();
    }
    batches_appended_ += group.size();
  }

  l.Lock();
  if (status.ok()) {
    next_seq_ = first_seq + group.size();
    applied_seq_ = next_seq_ - 1;
  } else if (bg_error_.ok()) {
    // A failed WAL write or fsync may have left the log in any state: stop acknowledging for
    // good rather than retry and pretend (the "fsyncgate" lesson).
    bg_error_ = status;
    failed_ = true;
    log::Error("storage: write failed, refusing further writes until reopened: {}",
               status.ToString());
  }
  for (Writer* x : group) {
    writers_.pop_front();
    if (x != &w) {
      x->status = status;
      x->done = true;
      x->cv.NotifyOne();
    }
  }
  if (!writers_.empty()) writers_.front()->cv.NotifyOne();
  l.Unlock();

  if (head_bytes_.load() >= options_.head_flush_bytes) {
    MutexLock bl(&bg_mu_);
    flush_wanted_ = true;
    bg_cv_.NotifyOne();
  }
  return status;
}

}  // namespace foresight::storage
