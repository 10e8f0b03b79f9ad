// Private to storage/: the engine behind storage.h, split by seam (LevelDB's db_impl / log /
// version_set split is the model). The files, each named for what it owns:
//   engine.cc     opening and closing RocksDB, the background thread, operations
//   data_dir.cc   the checks a data directory must pass before RocksDB opens it
//   upgrade.cc    the on-disk format version: refusing newer ones, upgrading older ones
//   wal.cc        the WAL record codec, group commit (Append) and replay after a crash
//   catalog.cc    tenants, assets, records and series resolution
//   flush.cc      sealing heads into blocks and rollups
//   reads.cc      raw, downsampled and latest reads over heads, blocks and rollups
//   retention.cc  retention policies, their compaction filter and enforcement
//   points.cc     sorting and merging point sets
//   time.cc       the clock and RFC 3339 text
//
// Invariants:
//  - The blocks of a series never overlap in time and hold sorted, distinct timestamps.
//  - Every acknowledged point is either in a block or in a log record (or both). A log record
//    is deleted only in or after the write that puts all its points into blocks.
//  - Heads are applied in log sequence order, so replaying the log after a crash rebuilds the
//    same heads: within a head the later of two points with one timestamp wins, and a head wins
//    over a block.
//  - A minute rollup equals the aggregate of the stored points in that minute; an hour rollup
//    the combination of its minute rollups; a day rollup of its hour rollups.
#pragma once

#include "storage/codec.h"
#include "storage/coding.h"
#include "storage/keys.h"
#include "storage/storage.h"
#include "storage/sync.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace foresight::storage {

using SteadyClock = std::chrono::steady_clock;

inline constexpr size_t kShards = 16;
// A sealed block below this many points absorbs the next seal of its series; a block never
// exceeds kMaxBlockPoints. Measured on workload (a) at 1,000 assets, where each seal brings ~500
// points a series: targets of 1,024 / 4,096 gave 0.882 bytes per value, 4,096 / 8,192 gave 0.817
// for 5% less append throughput (the growing block is rewritten at each seal).
inline constexpr size_t kTargetBlockPoints = 4096;
inline constexpr size_t kMaxBlockPoints = 8192;
// Flush writes are committed in chunks of about this size.
inline constexpr size_t kFlushChunkBytes = 4u << 20;
inline constexpr uint8_t kLogRecordVersion = 1;
inline constexpr size_t kMaxTenantName = 64;

inline constexpr const char* kCfNames[] = {"catalog", "points", "rollups", "events", "log"};
enum Cf { kCatalog = 0, kPoints, kRollups, kEvents, kLog, kCfCount };

Status FromRocks(const rocksdb::Status& s, std::string_view context);
int64_t FloorTo(int64_t ts, int64_t width);
int64_t TierWidth(Tier tier);
// Rollups of a tier are stored in pages: a minute page holds one hour, an hour page one day, a
// day page 32 days. One key per page instead of per bucket: per-bucket keys cost more than the
// raw points they summarise.
int64_t PageWidth(Tier tier);

// --- Point sets ---------------------------------------------------------------------------------
void PushPoint(Points* out, const Points& from, size_t i);
// The index of the newest point of unsorted `points` (the last written among equal timestamps),
// or npos when it is empty.
size_t NewestIndex(const Points& points);
bool IsSortedUnique(const Points& p);
// Sorts by time; of several points with one timestamp the last one (latest written) stays.
void SortUnique(Points* p);
// Merges two sorted, unique point sets; on equal timestamps `newer` wins.
Points MergeNewerWins(const Points& older, const Points& newer);
// Appends the points of `from` with lo <= ts < hi.
void AppendRange(const Points& from, int64_t lo, int64_t hi, Points* out);
size_t PointBytes(const Sample& s);

// --- Aggregates ---------------------------------------------------------------------------------

// Accumulates one bucket's aggregates. Sums are exact decimals when the values are (see
// DecimalSum), so rollup pages compress like the readings they summarise.
class Aggregate {
 public:
  void Add(double v) {
    if (b_.count == 0) {
      b_.min = b_.max = b_.first = v;
    } else {
      b_.min = std::min(b_.min, v);
      b_.max = std::max(b_.max, v);
    }
    b_.last = v;
    b_.sum = DecimalSum(b_.sum, v, &sum_digits_);
    b_.sum_squares = DecimalSum(b_.sum_squares, DecimalSquare(v, &value_digits_), &sq_digits_);
    ++b_.count;
  }
  // REQUIRES: every point of `later` is later than every point added so far.
  void Append(const Bucket& later) {
    if (later.count == 0) return;
    if (b_.count == 0) {
      int64_t start = b_.start_ns;
      b_ = later;
      b_.start_ns = start;
      return;
    }
    b_.sum = DecimalSum(b_.sum, later.sum, &sum_digits_);
    b_.sum_squares = DecimalSum(b_.sum_squares, later.sum_squares, &sq_digits_);
    b_.min = std::min(b_.min, later.min);
    b_.max = std::max(b_.max, later.max);
    b_.last = later.last;
    b_.count += later.count;
  }
  uint64_t count() const { return b_.count; }
  Bucket ToBucket(int64_t start) const {
    Bucket b = b_;
    b.start_ns = start;
    return b;
  }

 private:
  Bucket b_;
  int sum_digits_ = 0, sq_digits_ = 0, value_digits_ = 0;
};

// --- Retention ----------------------------------------------------------------------------------

// Per-tenant cutoffs (ns since the epoch; data strictly older is expired), one per tier.
struct Cutoffs {
  std::unordered_map<TenantId, std::array<int64_t, 4>> by_tenant;

  int64_t Get(TenantId tenant, Tier tier) const {
    auto it = by_tenant.find(tenant);
    return it == by_tenant.end() ? std::numeric_limits<int64_t>::min()
                                 : it->second[static_cast<size_t>(tier)];
  }
};

std::array<int64_t, 4> ComputeCutoffs(const Retention& r, int64_t now);

// Retention policies shared with compaction filters, which run on RocksDB's threads.
class RetentionRegistry {
 public:
  void Set(TenantId tenant, const Retention& r) {
    MutexLock l(&mu_);
    policies_[tenant] = r;
  }
  Cutoffs Snapshot(int64_t now) const {
    MutexLock l(&mu_);
    Cutoffs c;
    for (const auto& [tenant, r] : policies_) c.by_tenant[tenant] = ComputeCutoffs(r, now);
    return c;
  }

 private:
  mutable Mutex mu_;
  std::unordered_map<TenantId, Retention> policies_ FORESIGHT_GUARDED_BY(mu_);
};

// The compaction filters of the points (rollups false) and rollups column families, which drop
// what `registry`'s policies have expired as of `clock`. `clock` must outlive the factory.
std::shared_ptr<rocksdb::CompactionFilterFactory> NewRetentionFilterFactory(
    std::shared_ptr<RetentionRegistry> registry, bool rollups, const Clock* clock);
std::string EncodeRetention(const Retention& r);
bool DecodeRetention(std::string_view data, Retention* r);

Status CheckDataDirectory(const std::string& path, bool create_if_missing);

// --- The engine ---------------------------------------------------------------------------------

inline uint64_t HeadKey(TenantId tenant, SeriesId series) {
  return (uint64_t{tenant} << 32) | series;
}

class Engine final : public Storage {
 public:
  Engine(std::string path, const Options& options)
      : path_(std::move(path)),
        options_(options),
        clock_(options.clock ? *options.clock : SystemClock()),
        retention_(std::make_shared<RetentionRegistry>()) {}

  ~Engine() override { Close().PermitUncheckedError(); }

  Status Open();
  Status Close() override;

  Result<TenantId> CreateTenant(std::string_view name) override;
  Result<size_t> EnsureAssets(TenantId tenant, std::span<const Asset> assets) override;
  Result<Asset> GetAsset(TenantId tenant, std::string_view id) const override;
  std::vector<Asset> ListAssets(TenantId tenant) const override;
  void WithAssets(TenantId tenant,
                  const std::function<void(std::span<const Asset* const>)>& fn) const override;
  Status PutAsset(TenantId tenant, const Asset& asset) override;
  Status DeleteAsset(TenantId tenant, std::string_view id) override;
  Status WriteRecords(TenantId tenant, std::span<const RecordWrite> writes) override;
  Result<std::string> GetRecord(TenantId tenant, std::string_view kind,
                                std::string_view id) const override;
  Result<std::vector<std::pair<std::string, std::string>>> ScanRecords(
      TenantId tenant, std::string_view kind, const ScanOptions& options) const override;
  Result<TenantId> FindTenant(std::string_view name) const override;
  std::vector<std::pair<TenantId, std::string>> ListTenants() const override;
  Status SetRetention(TenantId tenant, const Retention& retention) override;
  Result<TenantRetention> GetRetention(TenantId tenant) const override;

  Result<std::vector<Result<SeriesId>>> ResolveSeries(TenantId tenant,
                                                      std::span<const SeriesSpec> specs,
                                                      Resolve mode) override;
  Result<SeriesInfo> GetSeries(TenantId tenant, SeriesId series) const override;
  std::shared_ptr<const std::vector<SeriesInfo>> SeriesSnapshot(TenantId tenant) const override;

  Status Append(TenantId tenant, std::span<const Sample> samples) override;

  Result<Points> ReadRaw(TenantId tenant, SeriesId series, int64_t from_ns,
                         int64_t to_ns) const override;
  Result<std::vector<std::vector<Bucket>>> ReadDownsampledMany(
      TenantId tenant, std::span<const SeriesId> series, int64_t from_ns, int64_t to_ns,
      std::chrono::nanoseconds step) const override;
  Result<Points> ReadLatest(TenantId tenant, SeriesId series) const override;

  Status Flush() override;
  Status EnforceRetention() override;
  Status Checkpoint(const std::string& dir) override;
  Status ExportTenant(TenantId tenant, const std::string& dir) override;
  // ImportTenant's work inside an open engine: writes the export's keys under a new tenant id,
  // the tenant's name last. `keys` are the counts per column family from tenant.json.
  Status Import(const std::string& export_dir, const std::string& name,
                const std::array<uint64_t, kCfCount>& keys);
  DiskUsage GetDiskUsage() const override;
  Status CompactAll() override;
  Stats GetStats() const override;
  Status Health() const override;
  const Clock& clock() const override { return clock_; }

 private:
  struct TenantState {
    std::string name;
    Retention retention;  // as set; RetentionRegistry holds what applies
    std::unordered_map<std::string, SeriesId> by_key;  // encoded series key -> id
    std::vector<SeriesInfo> series;                    // index id - 1
    std::map<std::string, Asset, std::less<>> assets;  // by id
    // SeriesSnapshot's copy of `series`, made on demand; reset when a series is created.
    mutable Mutex listed_mu;
    mutable std::shared_ptr<const std::vector<SeriesInfo>> listed FORESIGHT_GUARDED_BY(listed_mu);
  };

  struct Shard {
    mutable Mutex mu;
    // Unsealed points by HeadKey, in arrival order. `frozen` holds heads being sealed by a
    // flush: still visible to reads, older than `active`.
    std::unordered_map<uint64_t, Points> active FORESIGHT_GUARDED_BY(mu);
    std::unordered_map<uint64_t, Points> frozen FORESIGHT_GUARDED_BY(mu);
    // The newest sealed point of each series ReadLatest has looked up (empty Points: no block),
    // so that a latest read is the heads and this, not a block decode. Kept up to date by each
    // flush as it drops its frozen heads, which it counts in `flushes`: a read that missed here
    // fills its entry only if no flush finished while it read the blocks.
    mutable std::unordered_map<uint64_t, Points> sealed_latest FORESIGHT_GUARDED_BY(mu);
    uint64_t flushes FORESIGHT_GUARDED_BY(mu) = 0;
  };

  // One caller of Append waiting in the group-commit queue. `status` and `done` are written
  // under write_mu_ by the leader that commits this writer's record.
  struct Writer {
    TenantId tenant;
    std::span<const Sample> samples;
    std::string record;
    Status status;
    bool done = false;
    CondVar cv;
  };

  Result<ValueType> SeriesType(TenantId tenant, SeriesId series) const;
  // The pointer lives until the lock is released.
  Result<const SeriesInfo*> SeriesLocked(TenantId tenant, SeriesId series) const
      FORESIGHT_REQUIRES_SHARED(catalog_mu_);
  const TenantState* Tenant(TenantId tenant) const FORESIGHT_REQUIRES_SHARED(catalog_mu_);
  // Refuses a directory of a newer format; upgrades an older one after a checkpoint of it.
  Status CheckFormat();
  Status LoadCatalog();
  Status ReplayLog();
  void EncodeRecord(std::span<const Sample> samples, std::string* out) const;
  Status DecodeRecord(TenantId tenant, std::string_view record, std::vector<Sample>* samples,
                      std::vector<std::string>* strings) const;
  void ApplyToHeads(TenantId tenant, std::span<const Sample> samples);
  rocksdb::WriteOptions SyncedWrite() const;
  rocksdb::WriteOptions CatalogWrite() const;
  Status Write(const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch,
               std::string_view what);
  Status FlushLocked() FORESIGHT_REQUIRES(flush_mu_);
  Status SealSeries(TenantId tenant, SeriesId series, const Points& unsorted_head,
                    rocksdb::WriteBatch* batch) FORESIGHT_REQUIRES(flush_mu_);
  // Rewrites the rollup pages of `tier` holding `changed` buckets, replacing stored entries (or
  // extending them with later points when `extend`); reports each page's total.
  Status UpdatePages(TenantId tenant, SeriesId series, Tier tier,
                     const std::map<int64_t, Bucket>& changed, bool extend,
                     rocksdb::WriteBatch* batch, std::map<int64_t, Bucket>* page_totals);
  Points HeadPoints(TenantId tenant, SeriesId series, int64_t from, int64_t to) const;
  // An iterator over the blocks of one series, bounded to its key range so that seeking never
  // walks into other series' keys (or, in a flush, over keys written after it began).
  class BlockIterator;
  BlockIterator SeriesBlocks(TenantId tenant, SeriesId series) const;
  Status ReadBlocks(TenantId tenant, SeriesId series, int64_t from, int64_t to, Points* out) const;
  int64_t Cutoff(TenantId tenant, Tier tier) const;
  void BackgroundLoop();

  const std::string path_;
  const Options options_;
  const Clock& clock_;
  std::shared_ptr<RetentionRegistry> retention_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  std::atomic<bool> closed_{false};

  // The catalog: read under a shared lock on every read and append; written rarely.
  // catalog_write_mu_ serialises catalog creations (held across their write; before
  // catalog_mu_ when both are held).
  mutable SharedMutex catalog_mu_;
  // index: tenant id; [0] unused
  std::vector<std::unique_ptr<TenantState>> tenants_ FORESIGHT_GUARDED_BY(catalog_mu_);
  std::unordered_map<std::string, TenantId> tenant_by_name_ FORESIGHT_GUARDED_BY(catalog_mu_);
  Mutex catalog_write_mu_;

  Shard shards_[kShards];
  std::atomic<uint64_t> head_bytes_{0};
  std::atomic<uint64_t> head_points_{0};
  std::atomic<int64_t> oldest_head_ns_{0};  // steady clock; 0 when heads are empty

  // Group commit (LevelDB's writer queue): the front writer leads, writes the records of the
  // writers behind it in one RocksDB write, applies them to the heads in order, wakes them.
  mutable Mutex write_mu_;
  std::deque<Writer*> writers_ FORESIGHT_GUARDED_BY(write_mu_);
  uint64_t next_seq_ FORESIGHT_GUARDED_BY(write_mu_) = 1;
  // Every record <= this is in heads.
  uint64_t applied_seq_ FORESIGHT_GUARDED_BY(write_mu_) = 0;
  Status bg_error_ FORESIGHT_GUARDED_BY(write_mu_);  // sticky
  std::atomic<bool> failed_{false};                  // mirrors !bg_error_.ok(), lock-free
  CondVar stall_cv_;  // appends waiting for a flush to drain the heads

  Mutex rocks_write_mu_;  // held across each db_->Write (see Write)
  Mutex flush_mu_;        // one flush at a time
  // Log records <= this are deleted.
  uint64_t truncated_seq_ FORESIGHT_GUARDED_BY(flush_mu_) = 0;
  // The newest block of each series that has been sealed or looked up (by HeadKey); only the
  // flusher uses it. A block deleted by retention meanwhile is tolerated (see SealSeries).
  struct BlockMeta {
    int64_t first_ts = 0, last_ts = 0;
    uint32_t count = 0;  // 0: the series has no block
  };
  std::unordered_map<uint64_t, BlockMeta> newest_block_ FORESIGHT_GUARDED_BY(flush_mu_);

  Mutex bg_mu_;
  CondVar bg_cv_;
  bool stop_ FORESIGHT_GUARDED_BY(bg_mu_) = false;
  bool flush_wanted_ FORESIGHT_GUARDED_BY(bg_mu_) = false;
  // Set by Open when it replayed the log: the background thread seals those points first, so a
  // crash loop replays each point once, not once per crash until some head fills up.
  bool seal_replayed_ FORESIGHT_GUARDED_BY(bg_mu_) = false;
  std::thread bg_;

  std::atomic<uint64_t> points_appended_{0}, batches_appended_{0}, wal_writes_{0}, flushes_{0},
      blocks_written_{0}, replayed_points_{0};
  // Counted by an event listener on RocksDB's background threads.
  std::shared_ptr<std::atomic<uint64_t>> compactions_ = std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<std::atomic<uint64_t>> memtable_flushes_ =
      std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<rocksdb::Cache> block_cache_;
};

class Engine::BlockIterator {
 public:
  BlockIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, TenantId tenant, SeriesId series)
      : lower_(PointKey(tenant, series, std::numeric_limits<int64_t>::min())),
        upper_(PrefixEnd(lower_.substr(0, kSeriesPrefixSize))),
        lower_slice_(lower_),
        upper_slice_(upper_) {
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lower_slice_;
    ro.iterate_upper_bound = &upper_slice_;
    it_.reset(db->NewIterator(ro, cf));
  }
  rocksdb::Iterator* operator->() { return it_.get(); }

 private:
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace foresight::storage
