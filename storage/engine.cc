// The storage engine: RocksDB column families, the series catalog, group commit into a compact
// WAL record per batch, in-memory heads of unsealed points, and the flusher that seals heads
// into columnar blocks and rollups. The design is described in storage/FORMAT.md.
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
#include "storage/codec.h"
#include "storage/coding.h"
#include "storage/keys.h"
#include "storage/log.h"
#include "storage/storage.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <shared_mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace foresight::storage {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kMinuteNs = 60'000'000'000;
constexpr int64_t kHourNs = 60 * kMinuteNs;
constexpr int64_t kDayNs = 24 * kHourNs;
constexpr size_t kShards = 16;
// A sealed block below this many points absorbs the next seal of its series; a block never
// exceeds kMaxBlockPoints. Measured on workload (a) at 1,000 assets, where each seal brings ~500
// points a series: targets of 1,024 / 4,096 gave 0.882 bytes per value, 4,096 / 8,192 gave 0.817
// for 5% less append throughput (the growing block is rewritten at each seal).
constexpr size_t kTargetBlockPoints = 4096;
constexpr size_t kMaxBlockPoints = 8192;
// Flush writes are committed in chunks of about this size.
constexpr size_t kFlushChunkBytes = 4u << 20;
constexpr uint8_t kLogRecordVersion = 1;
constexpr size_t kMaxTenantName = 64;

const char* kCfNames[] = {"catalog", "points", "rollups", "events", "log"};
enum Cf { kCatalog = 0, kPoints, kRollups, kEvents, kLog, kCfCount };

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(context) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return Status::Busy(std::move(msg));
  return Status::IOError(std::move(msg));
}

int64_t FloorTo(int64_t ts, int64_t width) {
  int64_t q = ts / width;
  if (ts % width != 0 && ts < 0) --q;
  return q * width;
}

int64_t TierWidth(Tier tier) {
  switch (tier) {
    case Tier::kMinute:
      return kMinuteNs;
    case Tier::kHour:
      return kHourNs;
    case Tier::kDay:
      return kDayNs;
    case Tier::kRaw:
      break;
  }
  return 1;
}

// Rollups of a tier are stored in pages: a minute page holds one hour, an hour page one day, a
// day page 32 days. One key per page instead of per bucket: per-bucket keys cost more than the
// raw points they summarise.
int64_t PageWidth(Tier tier) {
  switch (tier) {
    case Tier::kMinute:
      return kHourNs;
    case Tier::kHour:
      return kDayNs;
    case Tier::kDay:
      return 32 * kDayNs;
    case Tier::kRaw:
      break;
  }
  return 1;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

// --- Point sets ---------------------------------------------------------------------------------

void PushPoint(Points* out, const Points& from, size_t i) {
  out->ts_ns.push_back(from.ts_ns[i]);
  out->bits.push_back(from.bits[i]);
  if (from.type == ValueType::kString) out->strings.push_back(from.strings[i]);
}

bool IsSortedUnique(const Points& p) {
  return std::adjacent_find(p.ts_ns.begin(), p.ts_ns.end(), std::greater_equal<int64_t>()) ==
         p.ts_ns.end();
}

// Sorts by time; of several points with one timestamp the last one (latest written) stays.
void SortUnique(Points* p) {
  if (IsSortedUnique(*p)) return;
  size_t n = p->size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [p](uint32_t a, uint32_t b) { return p->ts_ns[a] < p->ts_ns[b]; });
  Points out;
  out.type = p->type;
  for (size_t k = 0; k < n; ++k) {
    uint32_t i = order[k];
    if (k + 1 < n && p->ts_ns[order[k + 1]] == p->ts_ns[i]) continue;
    PushPoint(&out, *p, i);
  }
  *p = std::move(out);
}

// Merges two sorted, unique point sets; on equal timestamps `newer` wins.
Points MergeNewerWins(const Points& older, const Points& newer) {
  if (older.size() == 0) return newer;
  if (newer.size() == 0) return older;
  Points out;
  out.type = newer.type;
  out.ts_ns.reserve(older.size() + newer.size());
  out.bits.reserve(older.size() + newer.size());
  size_t i = 0, j = 0;
  while (i < older.size() || j < newer.size()) {
    if (j == newer.size() || (i < older.size() && older.ts_ns[i] < newer.ts_ns[j])) {
      PushPoint(&out, older, i++);
    } else {
      if (i < older.size() && older.ts_ns[i] == newer.ts_ns[j]) ++i;
      PushPoint(&out, newer, j++);
    }
  }
  return out;
}

// Appends the points of `from` with lo <= ts < hi.
void AppendRange(const Points& from, int64_t lo, int64_t hi, Points* out) {
  auto begin = std::lower_bound(from.ts_ns.begin(), from.ts_ns.end(), lo);
  auto end = std::lower_bound(begin, from.ts_ns.end(), hi);
  for (size_t i = begin - from.ts_ns.begin(); i < static_cast<size_t>(end - from.ts_ns.begin());
       ++i) {
    PushPoint(out, from, i);
  }
}

size_t PointBytes(const Sample& s) { return 16 + s.value.str.size(); }

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

std::array<int64_t, 4> ComputeCutoffs(const Retention& r, int64_t now) {
  auto cut = [now](const std::optional<std::chrono::seconds>& keep) {
    if (!keep) return std::numeric_limits<int64_t>::min();
    return now - std::chrono::duration_cast<std::chrono::nanoseconds>(*keep).count();
  };
  return {cut(r.raw), cut(r.minute), cut(r.hour), cut(r.day)};
}

// Retention policies shared with compaction filters, which run on RocksDB's threads.
class RetentionRegistry {
 public:
  void Set(TenantId tenant, const Retention& r) {
    std::lock_guard l(mu_);
    policies_[tenant] = r;
  }
  Cutoffs Snapshot(int64_t now) const {
    std::lock_guard l(mu_);
    Cutoffs c;
    for (const auto& [tenant, r] : policies_) c.by_tenant[tenant] = ComputeCutoffs(r, now);
    return c;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<TenantId, Retention> policies_;
};

// Drops blocks and rollups older than their tenant's retention while RocksDB compacts, so
// retention never costs the write path a scan.
class RetentionFilter final : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(bool rollups, Cutoffs cutoffs)
      : rollups_(rollups), cutoffs_(std::move(cutoffs)) {}

  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    if (key.size() < 4) return false;
    TenantId tenant = DecodeFixed32BE(key.data());
    if (rollups_) {
      if (key.size() != kRollupKeySize) return false;
      Tier tier = static_cast<Tier>(key[4]);
      if (tier < Tier::kMinute || tier > Tier::kDay) return false;
      int64_t page = DecodeTimestampKey(key.data() + 9);
      return static_cast<__int128>(page) + PageWidth(tier) <= cutoffs_.Get(tenant, tier);
    }
    if (key.size() != kPointKeySize) return false;
    Result<BlockHeader> header = DecodeBlockHeader(std::string_view(value.data(), value.size()));
    return header.ok() && header->last_ts < cutoffs_.Get(tenant, Tier::kRaw);
  }
  const char* Name() const override { return "foresight.RetentionFilter"; }

 private:
  bool rollups_;
  Cutoffs cutoffs_;
};

class RetentionFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  RetentionFilterFactory(std::shared_ptr<RetentionRegistry> registry, bool rollups)
      : registry_(std::move(registry)), rollups_(rollups) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context&) override {
    return std::make_unique<RetentionFilter>(rollups_, registry_->Snapshot(NowNs()));
  }
  const char* Name() const override { return "foresight.RetentionFilterFactory"; }

 private:
  std::shared_ptr<RetentionRegistry> registry_;
  bool rollups_;
};

std::string EncodeRetention(const Retention& r) {
  std::string out;
  for (const auto& keep : {r.raw, r.minute, r.hour, r.day}) {
    out.push_back(keep ? 1 : 0);
    PutFixed64LE(&out, keep ? static_cast<uint64_t>(keep->count()) : 0);
  }
  return out;
}

bool DecodeRetention(std::string_view data, Retention* r) {
  ByteReader reader(data);
  for (auto* keep : {&r->raw, &r->minute, &r->hour, &r->day}) {
    uint8_t present;
    uint64_t seconds;
    if (!reader.ReadByte(&present) || !reader.ReadFixed64LE(&seconds)) return false;
    if (present) *keep = std::chrono::seconds(static_cast<int64_t>(seconds));
  }
  return reader.empty();
}

// --- The data directory -------------------------------------------------------------------------

Status CheckDataDirectory(const std::string& path, bool create_if_missing) {
  auto fail = [&path](const std::string& reason) {
    return Status::IOError("cannot open data directory '" + path + "': " + reason);
  };
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail(std::strerror(errno));
    if (!create_if_missing) return fail("it does not exist");
    fs::path parent = fs::absolute(path).parent_path();
    std::error_code ec;
    if (!fs::is_directory(parent, ec)) {
      return fail("it does not exist and its parent '" + parent.string() + "' is not a directory");
    }
    if (::mkdir(path.c_str(), 0755) != 0)
      return fail(std::string("mkdir: ") + std::strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    return fail("it is not a directory");
  }
  // access(2) is not enough: it ignores read-only mounts for root and ACL subtleties. Try it.
  std::string probe = path + "/.write-probe";
  int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(std::string("it is not writable: ") + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
  return Status::OK();
}

// --- The engine ---------------------------------------------------------------------------------

uint64_t HeadKey(TenantId tenant, SeriesId series) { return (uint64_t{tenant} << 32) | series; }

class Engine final : public Storage {
 public:
  Engine(std::string path, const Options& options)
      : path_(std::move(path)),
        options_(options),
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
  Result<Retention> GetRetention(TenantId tenant) const override;

  Result<std::vector<Result<SeriesId>>> ResolveSeries(TenantId tenant,
                                                      std::span<const SeriesSpec> specs,
                                                      Resolve mode) override;
  Result<SeriesInfo> GetSeries(TenantId tenant, SeriesId series) const override;
  std::vector<SeriesInfo> ListSeries(TenantId tenant) const override;

  Status Append(TenantId tenant, std::span<const Sample> samples) override;

  Result<Points> ReadRaw(TenantId tenant, SeriesId series, int64_t from_ns,
                         int64_t to_ns) const override;
  Result<std::vector<Bucket>> ReadDownsampled(TenantId tenant, SeriesId series, int64_t from_ns,
                                              int64_t to_ns,
                                              std::chrono::nanoseconds step) const override;
  Result<Points> ReadLatest(TenantId tenant, SeriesId series) const override;

  Status Flush() override;
  Status EnforceRetention() override;
  Status Checkpoint(const std::string& dir) override;
  DiskUsage GetDiskUsage() const override;
  Status CompactAll() override;
  Stats GetStats() const override;
  Status Health() const override;

 private:
  struct TenantState {
    std::string name;
    Retention retention;
    std::unordered_map<std::string, SeriesId> by_key;  // encoded series key -> id
    std::vector<SeriesInfo> series;                    // index id - 1
    std::map<std::string, Asset, std::less<>> assets;  // by id
  };

  struct Shard {
    mutable std::mutex mu;
    // Unsealed points by HeadKey, in arrival order. `frozen` holds heads being sealed by a
    // flush: still visible to reads, older than `active`.
    std::unordered_map<uint64_t, Points> active;
    std::unordered_map<uint64_t, Points> frozen;
  };

  // One caller of Append waiting in the group-commit queue.
  struct Writer {
    TenantId tenant;
    std::span<const Sample> samples;
    std::string record;
    Status status;
    bool done = false;
    std::condition_variable cv;
  };

  Result<ValueType> SeriesType(TenantId tenant, SeriesId series) const;
  // REQUIRES: catalog_mu_ held. The pointer lives until the lock is released.
  Result<const SeriesInfo*> SeriesLocked(TenantId tenant, SeriesId series) const;
  const TenantState* Tenant(TenantId tenant) const;  // REQUIRES: catalog_mu_ held
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
  Status FlushLocked();
  Status SealSeries(TenantId tenant, SeriesId series, const Points& unsorted_head,
                    rocksdb::WriteBatch* batch);
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
  std::shared_ptr<RetentionRegistry> retention_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  std::atomic<bool> closed_{false};

  // The catalog: read under a shared lock on every read and append; written rarely.
  mutable std::shared_mutex catalog_mu_;
  std::vector<std::unique_ptr<TenantState>> tenants_;  // index: tenant id; [0] unused
  std::unordered_map<std::string, TenantId> tenant_by_name_;
  std::mutex catalog_write_mu_;  // serializes catalog creations (held across their write)

  Shard shards_[kShards];
  std::atomic<uint64_t> head_bytes_{0};
  std::atomic<uint64_t> head_points_{0};
  std::atomic<int64_t> oldest_head_ns_{0};  // steady clock; 0 when heads are empty

  // Group commit (LevelDB's writer queue): the front writer leads, writes the records of the
  // writers behind it in one RocksDB write, applies them to the heads in order, wakes them.
  mutable std::mutex write_mu_;
  std::deque<Writer*> writers_;       // guarded by write_mu_
  uint64_t next_seq_ = 1;             // guarded by write_mu_
  uint64_t applied_seq_ = 0;          // guarded by write_mu_: every record <= this is in heads
  Status bg_error_;                   // guarded by write_mu_; sticky
  std::atomic<bool> failed_{false};   // mirrors !bg_error_.ok() for lock-free checks
  std::condition_variable stall_cv_;  // appends waiting for a flush to drain the heads

  std::mutex rocks_write_mu_;   // held across each db_->Write (see Write)
  std::mutex flush_mu_;         // one flush at a time
  uint64_t truncated_seq_ = 0;  // guarded by flush_mu_: log records <= this are deleted
  // The newest block of each series that has been sealed or looked up (by HeadKey); only the
  // flusher uses it. A block deleted by retention meanwhile is tolerated (see SealSeries).
  struct BlockMeta {
    int64_t first_ts = 0, last_ts = 0;
    uint32_t count = 0;  // 0: the series has no block
  };
  std::unordered_map<uint64_t, BlockMeta> newest_block_;  // guarded by flush_mu_

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;          // guarded by bg_mu_
  bool flush_wanted_ = false;  // guarded by bg_mu_
  std::thread bg_;

  std::atomic<uint64_t> points_appended_{0}, batches_appended_{0}, wal_writes_{0}, flushes_{0},
      blocks_written_{0};
};

Status Engine::Open() {
  Status s = CheckDataDirectory(path_, options_.create_if_missing);
  if (!s.ok()) return s;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;  // the machine has 2 cores; never oversubscribe
  db_options.keep_log_file_num = 5;
  db_options.max_total_wal_size = 256u << 20;
  // A torn last record (a crash mid-write: never acknowledged) is tolerated; corruption anywhere
  // else fails the open. RocksDB's default, point-in-time recovery, would open and silently drop
  // every record after the corrupt one, acknowledged or not (WalRecovery test).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;

  auto supported = rocksdb::GetSupportedCompressions();
  bool have_zstd = std::find(supported.begin(), supported.end(), rocksdb::kZSTD) != supported.end();

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  table.block_size = 16 << 10;
  auto table_factory =
      std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(table));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kCfCount; ++i) {
    rocksdb::ColumnFamilyOptions cf;
    cf.table_factory = table_factory;
    // Point blocks are compressed by our codec; the rest is small, repetitive records.
    cf.compression =
        (i == kPoints || i == kLog || !have_zstd) ? rocksdb::kNoCompression : rocksdb::kZSTD;
    if (i == kPoints) {
      cf.compaction_filter_factory = std::make_shared<RetentionFilterFactory>(retention_, false);
      cf.write_buffer_size = 64u << 20;
    }
    if (i == kRollups) {
      cf.compaction_filter_factory = std::make_shared<RetentionFilterFactory>(retention_, true);
    }
    descriptors.emplace_back(kCfNames[i], cf);
  }
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(db_options, path_, descriptors, &handles, &raw);
  if (!rs.ok()) {
    std::string text = rs.ToString();
    if (text.find("lock") != std::string::npos || text.find("LOCK") != std::string::npos) {
      return Status::Busy("cannot open data directory '" + path_ +
                          "': it is locked by another process (" + text + ")");
    }
    return FromRocks(rs, "cannot open data directory '" + path_ + "'");
  }
  db_.reset(raw);
  cfs_ = std::move(handles);

  s = LoadCatalog();
  if (s.ok()) s = ReplayLog();
  if (!s.ok()) {
    failed_ = true;  // write nothing on the way out of a failed open
    return s;
  }
  bg_ = std::thread([this] { BackgroundLoop(); });
  return Status::OK();
}

Status Engine::Close() {
  if (closed_ || !db_) return Status::OK();
  closed_ = true;
  {
    std::lock_guard l(bg_mu_);
    stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  Status s = failed_ ? Status::OK() : Flush();
  if (s.ok() && !failed_) {
    // Memtables to SST files, so RocksDB drops its WAL files: a stopped appliance's directory
    // holds only sorted, compressed data, and the next open replays nothing.
    rocksdb::FlushOptions fo;
    fo.wait = true;
    s = FromRocks(db_->Flush(fo, cfs_), "flush memtables at close");
    // The batch log's records are all deleted once sealed; compacting its few files now drops
    // them and their tombstones instead of leaving both on disk until some later compaction.
    if (s.ok()) {
      rocksdb::CompactRangeOptions co;
      co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      s = FromRocks(db_->CompactRange(co, cfs_[kLog], nullptr, nullptr),
                    "compact the log at close");
    }
  }
  for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf).PermitUncheckedError();
  cfs_.clear();
  rocksdb::Status rs = db_->Close();
  db_.reset();
  if (s.ok()) s = FromRocks(rs, "close");
  return s;
}

const Engine::TenantState* Engine::Tenant(TenantId tenant) const {
  return tenant > 0 && tenant < tenants_.size() ? tenants_[tenant].get() : nullptr;
}

Status Engine::LoadCatalog() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kCatalog]));
  std::string tenant_prefix = CatalogKey(kSystemTenant, kTenantTag);
  for (it->Seek(tenant_prefix); it->Valid() && it->key().starts_with(tenant_prefix); it->Next()) {
    if (it->value().size() != 4) return Status::Corruption("catalog: bad tenant record");
    TenantId id = DecodeFixed32BE(it->value().data());
    std::string name = it->key().ToString().substr(tenant_prefix.size());
    if (id == kSystemTenant || id > (1u << 24)) return Status::Corruption("catalog: bad tenant id");
    if (tenants_.size() <= id) tenants_.resize(id + 1);
    tenants_[id] = std::make_unique<TenantState>();
    tenants_[id]->name = name;
    tenant_by_name_[name] = id;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "catalog scan");

  for (TenantId id = 1; id < tenants_.size(); ++id) {
    TenantState* t = tenants_[id].get();
    if (!t) return Status::Corruption("catalog: tenant ids are not dense");
    std::string value;
    rocksdb::Status rs =
        db_->Get(rocksdb::ReadOptions(), cfs_[kCatalog], CatalogKey(id, kRetentionTag), &value);
    if (rs.ok()) {
      if (!DecodeRetention(value, &t->retention)) return Status::Corruption("catalog: retention");
      retention_->Set(id, t->retention);
    } else if (!rs.IsNotFound()) {
      return FromRocks(rs, "catalog read");
    }
    std::string prefix = CatalogKey(id, kSeriesTag);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      rocksdb::Slice v = it->value();
      if (v.size() != 5) return Status::Corruption("catalog: bad series record");
      SeriesInfo info;
      info.id = DecodeFixed32BE(v.data());
      info.type = static_cast<ValueType>(v[4]);
      std::string encoded = it->key().ToString().substr(prefix.size());
      if (!DecodeSeriesKey(encoded, &info.key) || info.id == kInvalidSeriesId) {
        return Status::Corruption("catalog: bad series key");
      }
      if (t->series.size() < info.id) t->series.resize(info.id);
      t->series[info.id - 1] = std::move(info);
      t->by_key.emplace(std::move(encoded), t->series[info.id - 1].id);
    }
    for (const SeriesInfo& info : t->series) {
      if (info.id == kInvalidSeriesId) return Status::Corruption("catalog: series ids not dense");
    }
    prefix = CatalogKey(id, kAssetTag);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      Asset asset;
      asset.id = it->key().ToString().substr(prefix.size());
      if (!DecodeAssetValue(std::string_view(it->value().data(), it->value().size()), &asset)) {
        return Status::Corruption("catalog: bad asset record");
      }
      t->assets.emplace(asset.id, std::move(asset));
    }
  }
  return FromRocks(it->status(), "catalog scan");
}

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
    next_seq_ = seq + 1;
    applied_seq_ = seq;
  }
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
  std::shared_lock l(catalog_mu_);
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
        uint64_t zz;
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
    std::lock_guard l(shards_[s].mu);
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
  oldest_head_ns_.compare_exchange_strong(expected, Clock::now().time_since_epoch().count());
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
  std::lock_guard l(rocks_write_mu_);
  return FromRocks(db_->Write(options, batch), what);
}

Result<const SeriesInfo*> Engine::SeriesLocked(TenantId tenant, SeriesId series) const {
  const TenantState* t = Tenant(tenant);
  if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  if (series == kInvalidSeriesId || series > t->series.size()) {
    return Status::NotFound("unknown series " + std::to_string(series) + " in tenant '" + t->name +
                            "'");
  }
  return &t->series[series - 1];
}

Result<ValueType> Engine::SeriesType(TenantId tenant, SeriesId series) const {
  std::shared_lock l(catalog_mu_);
  Result<const SeriesInfo*> info = SeriesLocked(tenant, series);
  if (!info.ok()) return info.status();
  return (*info)->type;
}

Status Engine::Append(TenantId tenant, std::span<const Sample> samples) {
  if (samples.empty()) return Status::OK();
  {
    std::shared_lock l(catalog_mu_);
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

  std::unique_lock l(write_mu_);
  // Backpressure: when flushing falls behind, writers wait rather than grow memory unbounded.
  stall_cv_.wait(l, [this] {
    return failed_ || head_bytes_.load() < 2 * options_.head_flush_bytes || closed_;
  });
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(l);
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
  l.unlock();

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

  l.lock();
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
      x->cv.notify_one();
    }
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  l.unlock();

  if (head_bytes_.load() >= options_.head_flush_bytes) {
    std::lock_guard bl(bg_mu_);
    flush_wanted_ = true;
    bg_cv_.notify_one();
  }
  return status;
}

// --- Tenants and series -------------------------------------------------------------------------

Result<TenantId> Engine::CreateTenant(std::string_view name) {
  if (name.empty() || name.size() > kMaxTenantName ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return Status::InvalidArgument("tenant name must be 1..64 characters of [A-Za-z0-9_.-], not '" +
                                   std::string(name) + "'");
  }
  std::lock_guard w(catalog_write_mu_);
  {
    std::shared_lock l(catalog_mu_);
    auto it = tenant_by_name_.find(std::string(name));
    if (it != tenant_by_name_.end()) return it->second;
  }
  TenantId id = static_cast<TenantId>(std::max<size_t>(tenants_.size(), 1));
  std::string value;
  PutFixed32BE(&value, id);
  rocksdb::WriteBatch batch;
  Status s =
      FromRocks(batch.Put(cfs_[kCatalog], CatalogKey(kSystemTenant, kTenantTag, name), value),
                "create tenant");
  if (s.ok()) s = Write(CatalogWrite(), &batch, "create tenant");
  if (!s.ok()) return s;
  std::unique_lock l(catalog_mu_);
  if (tenants_.size() <= id) tenants_.resize(id + 1);
  tenants_[id] = std::make_unique<TenantState>();
  tenants_[id]->name = std::string(name);
  tenant_by_name_[std::string(name)] = id;
  return id;
}

Result<TenantId> Engine::FindTenant(std::string_view name) const {
  std::shared_lock l(catalog_mu_);
  auto it = tenant_by_name_.find(std::string(name));
  if (it == tenant_by_name_.end()) return Status::NotFound("no tenant '" + std::string(name) + "'");
  return it->second;
}

std::vector<std::pair<TenantId, std::string>> Engine::ListTenants() const {
  std::shared_lock l(catalog_mu_);
  std::vector<std::pair<TenantId, std::string>> out;
  for (TenantId id = 1; id < tenants_.size(); ++id) out.emplace_back(id, tenants_[id]->name);
  return out;
}

Status Engine::SetRetention(TenantId tenant, const Retention& retention) {
  for (const auto& keep : {retention.raw, retention.minute, retention.hour, retention.day}) {
    if (keep && keep->count() <= 0) return Status::InvalidArgument("retention must be positive");
  }
  std::lock_guard w(catalog_write_mu_);
  {
    std::shared_lock l(catalog_mu_);
    if (!Tenant(tenant)) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  }
  rocksdb::WriteBatch batch;
  Status s = FromRocks(
      batch.Put(cfs_[kCatalog], CatalogKey(tenant, kRetentionTag), EncodeRetention(retention)),
      "set retention");
  if (s.ok()) s = Write(CatalogWrite(), &batch, "set retention");
  if (!s.ok()) return s;
  std::unique_lock l(catalog_mu_);
  tenants_[tenant]->retention = retention;
  retention_->Set(tenant, retention);
  return Status::OK();
}

Result<Retention> Engine::GetRetention(TenantId tenant) const {
  std::shared_lock l(catalog_mu_);
  const TenantState* t = Tenant(tenant);
  if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  return t->retention;
}

void Engine::WithAssets(TenantId tenant,
                        const std::function<void(std::span<const Asset* const>)>& fn) const {
  std::shared_lock l(catalog_mu_);
  const TenantState* t = Tenant(tenant);
  std::vector<const Asset*> all;
  if (t) {
    all.reserve(t->assets.size());
    for (const auto& [id, asset] : t->assets) all.push_back(&asset);
  }
  fn(all);
}

Status ValidateAsset(const Asset& asset) {
  if (asset.id.empty() || asset.id.size() > kMaxAssetIdBytes) {
    return Status::InvalidArgument("asset id must be 1..256 bytes, not '" + asset.id + "'");
  }
  for (size_t i = 0; i < asset.attributes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (asset.attributes[i].first == asset.attributes[j].first) {
        return Status::InvalidArgument("asset '" + asset.id + "': duplicate attribute '" +
                                       asset.attributes[i].first + "'");
      }
    }
  }
  return Status::OK();
}

Result<size_t> Engine::EnsureAssets(TenantId tenant, std::span<const Asset> assets) {
  for (const Asset& asset : assets) {
    if (Status s = ValidateAsset(asset); !s.ok()) return s;
  }
  auto all_known = [&](const TenantState* t) {
    return std::all_of(assets.begin(), assets.end(),
                       [t](const Asset& a) { return t->assets.contains(a.id); });
  };
  {
    std::shared_lock l(catalog_mu_);
    const TenantState* t = Tenant(tenant);
    if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
    if (all_known(t)) return size_t{0};
  }
  std::lock_guard w(catalog_write_mu_);
  std::vector<Asset> created;
  rocksdb::WriteBatch batch;
  {
    std::shared_lock l(catalog_mu_);
    const TenantState* t = Tenant(tenant);
    for (const Asset& asset : assets) {
      if (t->assets.contains(asset.id) ||
          std::any_of(created.begin(), created.end(),
                      [&](const Asset& c) { return c.id == asset.id; })) {
        continue;
      }
      Asset a = asset;
      std::sort(a.attributes.begin(), a.attributes.end());
      Status s = FromRocks(
          batch.Put(cfs_[kCatalog], CatalogKey(tenant, kAssetTag, a.id), EncodeAssetValue(a)),
          "asset batch");
      if (!s.ok()) return s;
      created.push_back(std::move(a));
    }
  }
  if (created.empty()) return size_t{0};
  Status s = Write(CatalogWrite(), &batch, "create assets");
  if (!s.ok()) return s;
  std::unique_lock l(catalog_mu_);
  TenantState* t = tenants_[tenant].get();
  for (Asset& a : created) t->assets.emplace(a.id, std::move(a));
  return created.size();
}

Result<Asset> Engine::GetAsset(TenantId tenant, std::string_view id) const {
  std::shared_lock l(catalog_mu_);
  const TenantState* t = Tenant(tenant);
  if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  auto it = t->assets.find(id);
  if (it == t->assets.end()) return Status::NotFound("no asset '" + std::string(id) + "'");
  return it->second;
}

std::vector<Asset> Engine::ListAssets(TenantId tenant) const {
  std::shared_lock l(catalog_mu_);
  const TenantState* t = Tenant(tenant);
  std::vector<Asset> out;
  if (t) {
    for (const auto& [id, asset] : t->assets) out.push_back(asset);
  }
  return out;
}

Status Engine::PutAsset(TenantId tenant, const Asset& asset) {
  if (Status s = ValidateAsset(asset); !s.ok()) return s;
  Asset a = asset;
  std::sort(a.attributes.begin(), a.attributes.end());
  std::lock_guard w(catalog_write_mu_);
  {
    std::shared_lock l(catalog_mu_);
    if (!Tenant(tenant)) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  }
  rocksdb::WriteBatch batch;
  Status s =
      FromRocks(batch.Put(cfs_[kCatalog], CatalogKey(tenant, kAssetTag, a.id), EncodeAssetValue(a)),
                "asset batch");
  if (s.ok()) s = Write(CatalogWrite(), &batch, "put asset");
  if (!s.ok()) return s;
  std::unique_lock l(catalog_mu_);
  tenants_[tenant]->assets.insert_or_assign(a.id, std::move(a));
  return Status::OK();
}

Status Engine::DeleteAsset(TenantId tenant, std::string_view id) {
  std::lock_guard w(catalog_write_mu_);
  {
    std::shared_lock l(catalog_mu_);
    const TenantState* t = Tenant(tenant);
    if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
    if (!t->assets.contains(id)) return Status::NotFound("no asset '" + std::string(id) + "'");
  }
  rocksdb::WriteBatch batch;
  Status s =
      FromRocks(batch.Delete(cfs_[kCatalog], CatalogKey(tenant, kAssetTag, id)), "asset batch");
  if (s.ok()) s = Write(CatalogWrite(), &batch, "delete asset");
  if (!s.ok()) return s;
  std::unique_lock l(catalog_mu_);
  auto& assets = tenants_[tenant]->assets;
  assets.erase(assets.find(id));
  return Status::OK();
}

Status ValidateRecordName(std::string_view kind, std::string_view id) {
  if (kind.empty() || kind.size() > 64)
    return Status::InvalidArgument("record kind must be 1..64 bytes");
  if (id.empty() || id.size() > 1024)
    return Status::InvalidArgument("record id must be 1..1024 bytes");
  return Status::OK();
}

Status Engine::WriteRecords(TenantId tenant, std::span<const RecordWrite> writes) {
  rocksdb::WriteBatch batch;
  for (const RecordWrite& w : writes) {
    if (Status s = ValidateRecordName(w.kind, w.id); !s.ok()) return s;
    rocksdb::Status rs = w.value ? batch.Put(cfs_[kEvents], RecordKey(tenant, w.kind, w.id),
                                             rocksdb::Slice(w.value->data(), w.value->size()))
                                 : batch.Delete(cfs_[kEvents], RecordKey(tenant, w.kind, w.id));
    if (Status s = FromRocks(rs, "record batch"); !s.ok()) return s;
  }
  if (batch.Count() == 0) return Status::OK();
  return Write(CatalogWrite(), &batch, "write records");
}

Result<std::string> Engine::GetRecord(TenantId tenant, std::string_view kind,
                                      std::string_view id) const {
  if (Status s = ValidateRecordName(kind, id); !s.ok()) return s;
  std::string value;
  rocksdb::Status rs =
      db_->Get(rocksdb::ReadOptions(), cfs_[kEvents], RecordKey(tenant, kind, id), &value);
  if (rs.IsNotFound())
    return Status::NotFound("no " + std::string(kind) + " '" + std::string(id) + "'");
  if (Status s = FromRocks(rs, "record read"); !s.ok()) return s;
  return value;
}

Result<std::vector<std::pair<std::string, std::string>>> Engine::ScanRecords(
    TenantId tenant, std::string_view kind, const ScanOptions& options) const {
  if (kind.empty() || kind.size() > 64)
    return Status::InvalidArgument("record kind must be 1..64 bytes");
  const std::string prefix = RecordKey(tenant, kind);
  const std::string end = PrefixEnd(prefix);
  rocksdb::Slice lower(prefix), upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kEvents]));
  std::vector<std::pair<std::string, std::string>> out;
  if (!options.reverse) {
    if (options.after.empty()) {
      it->Seek(prefix);
    } else {
      it->Seek(prefix + std::string(options.after));
      if (it->Valid() && it->key().ToStringView().substr(prefix.size()) == options.after)
        it->Next();
    }
  } else if (options.after.empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(prefix + std::string(options.after));
    if (it->Valid() && it->key().ToStringView().substr(prefix.size()) == options.after) it->Prev();
  }
  for (; it->Valid() && out.size() < options.limit; options.reverse ? it->Prev() : it->Next()) {
    out.emplace_back(it->key().ToString().substr(prefix.size()), it->value().ToString());
  }
  if (Status s = FromRocks(it->status(), "record scan"); !s.ok()) return s;
  return out;
}

Status ValidateSeriesKey(const SeriesKey& key) {
  if (key.measurement.empty()) return Status::InvalidArgument("series needs a measurement");
  if (key.field.empty()) return Status::InvalidArgument("series needs a field name");
  for (size_t i = 0; i < key.tags.size(); ++i) {
    if (key.tags[i].first.empty()) return Status::InvalidArgument("tag key must not be empty");
    if (i > 0 && key.tags[i].first == key.tags[i - 1].first) {
      return Status::InvalidArgument("duplicate tag key '" + key.tags[i].first + "'");
    }
  }
  return Status::OK();
}

// The one wording of a type conflict, wherever it is found.
static Status TypeConflict(const SeriesKey& key, ValueType have, ValueType want) {
  return Status::InvalidArgument("field '" + key.field + "' of '" + key.measurement + "' holds " +
                                 std::string(ValueTypeName(have)) + " values, not " +
                                 std::string(ValueTypeName(want)));
}

Result<std::vector<Result<SeriesId>>> Engine::ResolveSeries(TenantId tenant,
                                                            std::span<const SeriesSpec> specs,
                                                            Resolve mode) {
  std::vector<Result<SeriesId>> out;
  out.reserve(specs.size());
  std::vector<std::string> encoded(specs.size());
  std::vector<size_t> missing;
  {
    std::shared_lock l(catalog_mu_);
    const TenantState* t = Tenant(tenant);
    if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
    for (size_t i = 0; i < specs.size(); ++i) {
      SeriesKey key = specs[i].key;
      std::sort(key.tags.begin(), key.tags.end());
      Status s = ValidateSeriesKey(key);
      if (!s.ok()) {
        out.emplace_back(std::move(s));
        continue;
      }
      encoded[i] = EncodeSeriesKey(key);
      auto it = t->by_key.find(encoded[i]);
      if (it == t->by_key.end()) {
        out.emplace_back(kInvalidSeriesId);
        missing.push_back(i);
        continue;
      }
      ValueType have = t->series[it->second - 1].type;
      if (have != specs[i].type) {
        out.emplace_back(TypeConflict(key, have, specs[i].type));
      } else {
        out.emplace_back(it->second);
      }
    }
  }
  if (missing.empty()) return out;
  if (mode == Resolve::kLookup) {
    for (size_t i : missing)
      out[i] = Status::NotFound("no series for field '" + specs[i].key.field + "'");
    return out;
  }

  // Create the missing series in one durable write. Re-check under the creation lock: another
  // caller may have created some of them meanwhile.
  std::lock_guard w(catalog_write_mu_);
  rocksdb::WriteBatch batch;
  std::vector<std::pair<size_t, SeriesInfo>> created;
  std::unordered_map<std::string, size_t> in_this_batch;  // encoded key -> index in created
  {
    std::shared_lock l(catalog_mu_);
    const TenantState* t = Tenant(tenant);
    SeriesId next = static_cast<SeriesId>(t->series.size() + 1);
    for (size_t i : missing) {
      const SeriesInfo* existing = nullptr;
      if (auto it = t->by_key.find(encoded[i]); it != t->by_key.end()) {
        existing = &t->series[it->second - 1];
      } else if (auto b = in_this_batch.find(encoded[i]); b != in_this_batch.end()) {
        existing = &created[b->second].second;
      }
      if (existing) {
        if (existing->type != specs[i].type) {
          out[i] = TypeConflict(specs[i].key, existing->type, specs[i].type);
        } else {
          out[i] = existing->id;
        }
        continue;
      }
      if (t->series.size() + created.size() >= options_.max_series_per_tenant) {
        out[i] = Status::ResourceExhausted("tenant '" + t->name + "' has reached its limit of " +
                                           std::to_string(options_.max_series_per_tenant) +
                                           " series (storage.max_series_per_tenant)");
        continue;
      }
      SeriesInfo info;
      info.id = next++;
      info.type = specs[i].type;
      info.key = specs[i].key;
      std::sort(info.key.tags.begin(), info.key.tags.end());
      std::string value;
      PutFixed32BE(&value, info.id);
      value.push_back(static_cast<char>(info.type));
      Status s =
          FromRocks(batch.Put(cfs_[kCatalog], CatalogKey(tenant, kSeriesTag, encoded[i]), value),
                    "catalog batch");
      if (!s.ok()) return s;
      in_this_batch[encoded[i]] = created.size();
      out[i] = info.id;
      created.emplace_back(i, std::move(info));
    }
  }
  if (created.empty()) return out;
  Status s = Write(CatalogWrite(), &batch, "create series");
  if (!s.ok()) return s;
  std::unique_lock l(catalog_mu_);
  TenantState* t = tenants_[tenant].get();
  for (auto& [i, info] : created) {
    t->by_key.emplace(encoded[i], info.id);
    t->series.push_back(std::move(info));
  }
  return out;
}

Result<SeriesInfo> Engine::GetSeries(TenantId tenant, SeriesId series) const {
  std::shared_lock l(catalog_mu_);
  Result<const SeriesInfo*> info = SeriesLocked(tenant, series);
  if (!info.ok()) return info.status();
  return **info;
}

std::vector<SeriesInfo> Engine::ListSeries(TenantId tenant) const {
  std::shared_lock l(catalog_mu_);
  const TenantState* t = Tenant(tenant);
  return t ? t->series : std::vector<SeriesInfo>();
}

// --- Flush: heads into blocks and rollups -------------------------------------------------------

Status Engine::Flush() {
  std::lock_guard f(flush_mu_);
  return FlushLocked();
}

Status Engine::FlushLocked() {
  uint64_t cut_seq;
  {
    std::lock_guard l(write_mu_);
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
    std::lock_guard l(shard.mu);
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
    std::lock_guard l(write_mu_);
    if (bg_error_.ok()) bg_error_ = s;
    failed_ = true;
    log::Error("storage: flush failed, refusing further writes until reopened: {}", s.ToString());
    return s;
  }
  truncated_seq_ = cut_seq;
  for (Shard& shard : shards_) {
    std::lock_guard l(shard.mu);
    shard.frozen.clear();
  }
  head_bytes_ -= std::min(head_bytes_.load(), frozen_bytes);
  head_points_ -= std::min(head_points_.load(), frozen_points);
  flushes_++;
  { std::lock_guard l(write_mu_); }  // pairs with the stall wait in Append: no lost wake-up
  stall_cv_.notify_all();
  return Status::OK();
}

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

// --- Reads --------------------------------------------------------------------------------------

int64_t Engine::Cutoff(TenantId tenant, Tier tier) const {
  std::shared_lock l(catalog_mu_);
  const TenantState* t = Tenant(tenant);
  return t ? ComputeCutoffs(t->retention, NowNs())[static_cast<size_t>(tier)]
           : std::numeric_limits<int64_t>::min();
}

// Unsealed points of a series in [from, to), sorted and unique, the newest write winning.
Points Engine::HeadPoints(TenantId tenant, SeriesId series, int64_t from, int64_t to) const {
  uint64_t key = HeadKey(tenant, series);
  const Shard& shard = shards_[std::hash<uint64_t>()(key) % kShards];
  Points frozen, active;
  {
    std::lock_guard l(shard.mu);
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

Result<std::vector<Bucket>> Engine::ReadDownsampled(TenantId tenant, SeriesId series,
                                                    int64_t from_ns, int64_t to_ns,
                                                    std::chrono::nanoseconds step) const {
  Result<ValueType> type = SeriesType(tenant, series);
  if (!type.ok()) return type.status();
  if (*type == ValueType::kString) {
    return Status::InvalidArgument("string series cannot be downsampled");
  }
  int64_t step_ns = step.count();
  if (step_ns <= 0) return Status::InvalidArgument("step must be positive");
  std::vector<Bucket> out;
  if (step_ns > kDayNs * 366 * 100) return Status::InvalidArgument("step exceeds 100 years");
  from_ns = std::max(from_ns, kMinTimestampNs);
  to_ns = std::min(to_ns, kMaxTimestampNs + 1);
  int64_t start = FloorTo(from_ns, step_ns);
  if (start >= to_ns) return out;
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
  // Aggregates raw points in [lo, to_ns) into buckets; only into `only` when given (sorted).
  auto aggregate_raw = [&](int64_t lo, const std::vector<int64_t>* only,
                           std::map<int64_t, Aggregate>* buckets) {
    Result<Points> raw = ReadRaw(tenant, series, lo, to_ns);
    if (!raw.ok()) return raw.status();
    for (size_t i = 0; i < raw->size(); ++i) {
      int64_t b = FloorTo(raw->ts_ns[i], step_ns);
      if (only && !std::binary_search(only->begin(), only->end(), b)) continue;
      (*buckets)[b].Add(raw->AsDouble(i));
    }
    return Status::OK();
  };
  std::map<int64_t, Aggregate> buckets;
  if (tier == Tier::kRaw) {
    Status s = aggregate_raw(start, nullptr, &buckets);
    if (!s.ok()) return s;
  } else {
    // Buckets holding unsealed points are computed from raw points; the rest from rollups.
    // HeadPoints are sorted, so raw_buckets comes out sorted and distinct.
    Points head = HeadPoints(tenant, series, start, to_ns);
    std::vector<int64_t> raw_buckets;
    for (int64_t ts : head.ts_ns) {
      int64_t b = FloorTo(ts, step_ns);
      if (raw_buckets.empty() || raw_buckets.back() != b) raw_buckets.push_back(b);
    }

    int64_t cutoff = Cutoff(tenant, tier);
    int64_t width = TierWidth(tier);
    // Pages starting at or after to_ns hold nothing in range.
    std::string upper = RollupKey(tenant, tier, series, to_ns);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kRollups]));
    std::string prefix = RollupKey(tenant, tier, series, 0).substr(0, 9);
    std::vector<Bucket> entries;
    for (it->Seek(RollupKey(tenant, tier, series, FloorTo(start, PageWidth(tier))));
         it->Valid() && it->key().starts_with(prefix); it->Next()) {
      int64_t page = DecodeTimestampKey(it->key().data() + 9);
      entries.clear();
      Status s = DecodeRollupPage({it->value().data(), it->value().size()}, page, width, &entries);
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
      Status s = aggregate_raw(raw_buckets.front(), &raw_buckets, &buckets);
      if (!s.ok()) return s;
    }
  }
  out.reserve(buckets.size());
  for (const auto& [b, agg] : buckets) {
    if (agg.count() > 0) out.push_back(agg.ToBucket(b));
  }
  return out;
}

Result<Points> Engine::ReadLatest(TenantId tenant, SeriesId series) const {
  Result<ValueType> type = SeriesType(tenant, series);
  if (!type.ok()) return type.status();
  Points head = HeadPoints(tenant, series, kMinTimestampNs, kMaxTimestampNs + 1);
  Points out;
  out.type = *type;

  BlockIterator it = SeriesBlocks(tenant, series);
  it->SeekToLast();
  Points block;
  if (it->Valid()) {
    Status s = DecodeBlock({it->value().data(), it->value().size()}, &block);
    if (!s.ok()) return s;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "block scan");
  bool head_wins =
      head.size() > 0 && (block.size() == 0 || head.ts_ns.back() >= block.ts_ns.back());
  const Points* from = head_wins ? &head : &block;
  if (from->size() == 0) return Status::NotFound("series " + std::to_string(series) + " is empty");
  PushPoint(&out, *from, from->size() - 1);
  return out;
}

// --- Operations ---------------------------------------------------------------------------------

Status Engine::EnforceRetention() {
  std::vector<TenantId> with_policy;
  {
    std::shared_lock l(catalog_mu_);
    for (TenantId id = 1; id < tenants_.size(); ++id) {
      if (!(tenants_[id]->retention == Retention())) with_policy.push_back(id);
    }
  }
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (TenantId tenant : with_policy) {
    std::string begin = TenantPrefix(tenant);
    std::string end = TenantPrefix(tenant + 1);
    rocksdb::Slice b(begin), e(end);
    for (Cf cf : {kPoints, kRollups}) {
      Status s = FromRocks(db_->CompactRange(options, cfs_[cf], &b, &e), "retention compaction");
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

Status Engine::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  Status s = FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint");
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush = 0: flush memtables first so the copy holds SST files only.
  return FromRocks(checkpoint->CreateCheckpoint(dir, 0), "checkpoint to '" + dir + "'");
}

DiskUsage Engine::GetDiskUsage() const {
  auto sst = [this](Cf cf) {
    uint64_t bytes = 0;
    db_->GetIntProperty(cfs_[cf], "rocksdb.total-sst-files-size", &bytes);
    return bytes;
  };
  DiskUsage usage;
  usage.points = sst(kPoints);
  usage.rollups = sst(kRollups);
  usage.catalog = sst(kCatalog);
  usage.other = sst(kEvents) + sst(kLog);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path_, ec)) {
    if (entry.path().extension() == ".log") usage.other += entry.file_size(ec);
  }
  return usage;
}

Status Engine::CompactAll() {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* cf : cfs_) {
    Status s = FromRocks(db_->CompactRange(options, cf, nullptr, nullptr), "compaction");
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Stats Engine::GetStats() const {
  Stats s;
  s.points_appended = points_appended_;
  s.batches_appended = batches_appended_;
  s.wal_writes = wal_writes_;
  s.flushes = flushes_;
  s.blocks_written = blocks_written_;
  s.head_points = head_points_;
  s.head_bytes = head_bytes_;
  std::shared_lock l(catalog_mu_);
  for (TenantId id = 1; id < tenants_.size(); ++id) s.series += tenants_[id]->series.size();
  return s;
}

Status Engine::Health() const {
  if (!failed_) return Status::OK();
  std::lock_guard l(write_mu_);
  return bg_error_;
}

void Engine::BackgroundLoop() {
  auto last_retention = Clock::now();
  auto last_sync = Clock::now();
  std::unique_lock l(bg_mu_);
  while (!stop_) {
    auto wait = std::chrono::milliseconds(1000);
    if (options_.fsync == FsyncPolicy::kInterval) wait = std::min(wait, options_.fsync_interval);
    bg_cv_.wait_for(l, wait, [this] { return stop_ || flush_wanted_; });
    if (stop_) break;
    flush_wanted_ = false;
    l.unlock();

    auto now = Clock::now();
    if (options_.fsync == FsyncPolicy::kInterval && now - last_sync >= options_.fsync_interval) {
      last_sync = now;
      Status s = FromRocks(db_->SyncWAL(), "WAL sync");
      if (!s.ok()) {
        std::lock_guard w(write_mu_);
        if (bg_error_.ok()) bg_error_ = s;
        failed_ = true;
        log::Error("storage: WAL sync failed, refusing further writes: {}", s.ToString());
      }
    }
    int64_t oldest = oldest_head_ns_.load();
    bool old_enough =
        oldest != 0 && Clock::now().time_since_epoch().count() - oldest >=
                           std::chrono::nanoseconds(options_.head_flush_interval).count();
    if (!failed_ && (head_bytes_.load() >= options_.head_flush_bytes || old_enough)) {
      Status s = Flush();
      if (!s.ok()) log::Error("storage: background flush: {}", s.ToString());
    }
    if (!failed_ && now - last_retention >= options_.retention_interval) {
      last_retention = now;
      Status s = EnforceRetention();
      if (!s.ok()) log::Error("storage: retention: {}", s.ToString());
    }
    l.lock();
  }
}

}  // namespace

Result<std::unique_ptr<Storage>> Storage::Open(const std::string& path, const Options& options) {
  auto engine = std::make_unique<Engine>(path, options);
  Status s = engine->Open();
  if (!s.ok()) return s;
  return std::unique_ptr<Storage>(std::move(engine));
}

Status Storage::Restore(const std::string& checkpoint_dir, const std::string& data_dir) {
  std::error_code ec;
  if (!fs::is_directory(checkpoint_dir, ec)) {
    return Status::NotFound("checkpoint '" + checkpoint_dir + "' is not a directory");
  }
  if (fs::exists(data_dir, ec) && !fs::is_empty(data_dir, ec)) {
    return Status::AlreadyExists("restore target '" + data_dir + "' exists and is not empty");
  }
  fs::create_directories(data_dir, ec);
  if (ec) return Status::IOError("cannot create '" + data_dir + "': " + ec.message());
  fs::copy(checkpoint_dir, data_dir, fs::copy_options::recursive, ec);
  if (ec) return Status::IOError("cannot copy the checkpoint: " + ec.message());
  Options options;
  options.create_if_missing = false;
  Result<std::unique_ptr<Storage>> check = Open(data_dir, options);
  if (!check.ok()) {
    return Status::Corruption("restored data does not open: " + check.status().ToString());
  }
  return (*check)->Close();
}

}  // namespace foresight::storage
