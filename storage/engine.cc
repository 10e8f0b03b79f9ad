// Opening and closing the engine, its background thread, and the operations of storage.h.
#include "storage/engine.h"

#include "storage/log.h"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>

#include <algorithm>
#include <filesystem>

namespace foresight::storage {

namespace fs = std::filesystem;
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

namespace {

// Counts RocksDB's finished compactions and memtable flushes for Stats.
class BackgroundWorkCounter : public rocksdb::EventListener {
 public:
  BackgroundWorkCounter(std::shared_ptr<std::atomic<uint64_t>> compactions,
                        std::shared_ptr<std::atomic<uint64_t>> flushes)
      : compactions_(std::move(compactions)), flushes_(std::move(flushes)) {}
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo&) override {
    compactions_->fetch_add(1, std::memory_order_relaxed);
  }
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo&) override {
    flushes_->fetch_add(1, std::memory_order_relaxed);
  }

 private:
  std::shared_ptr<std::atomic<uint64_t>> compactions_, flushes_;
};

}  // namespace

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
  db_options.listeners.push_back(
      std::make_shared<BackgroundWorkCounter>(compactions_, memtable_flushes_));

  auto supported = rocksdb::GetSupportedCompressions();
  bool have_zstd = std::find(supported.begin(), supported.end(), rocksdb::kZSTD) != supported.end();

  rocksdb::BlockBasedTableOptions table;
  block_cache_ = rocksdb::NewLRUCache(options_.block_cache_bytes);
  table.block_cache = block_cache_;
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
      cf.compaction_filter_factory = NewRetentionFilterFactory(retention_, false, &clock_);
      cf.write_buffer_size = 64u << 20;
    }
    if (i == kRollups) {
      cf.compaction_filter_factory = NewRetentionFilterFactory(retention_, true, &clock_);
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

  s = CheckFormat();
  if (s.ok()) s = LoadCatalog();
  if (s.ok()) s = ReplayLog();
  if (!s.ok()) {
    failed_ = true;  // write nothing on the way out of a failed open
    return s;
  }
  if (replayed_points_ > 0) {
    MutexLock l(&bg_mu_);
    seal_replayed_ = true;
    flush_wanted_ = true;
  }
  bg_ = std::thread([this] { BackgroundLoop(); });
  return Status::OK();
}

Status Engine::Close() {
  if (closed_ || !db_) return Status::OK();
  closed_ = true;
  {
    MutexLock l(&bg_mu_);
    stop_ = true;
  }
  bg_cv_.NotifyAll();
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
  s.replayed_points = replayed_points_;
  s.compactions = compactions_->load(std::memory_order_relaxed);
  s.memtable_flushes = memtable_flushes_->load(std::memory_order_relaxed);
  if (db_) {
    db_->GetIntProperty("rocksdb.num-running-compactions", &s.compactions_running);
    for (rocksdb::ColumnFamilyHandle* cf : cfs_) {
      uint64_t v = 0;
      if (db_->GetIntProperty(cf, "rocksdb.estimate-pending-compaction-bytes", &v)) {
        s.compaction_pending_bytes += v;
      }
      if (db_->GetIntProperty(cf, "rocksdb.cur-size-all-mem-tables", &v)) s.memtable_bytes += v;
    }
  }
  if (block_cache_) {
    s.block_cache_bytes = block_cache_->GetUsage();
    s.block_cache_capacity = block_cache_->GetCapacity();
  }
  ReaderLock l(&catalog_mu_);
  for (TenantId id = 1; id < tenants_.size(); ++id) s.series += tenants_[id]->series.size();
  return s;
}

Status Engine::Health() const {
  if (!failed_) return Status::OK();
  MutexLock l(&write_mu_);
  return bg_error_;
}

void Engine::BackgroundLoop() {
  auto last_retention = SteadyClock::now();
  auto last_sync = SteadyClock::now();
  MutexLock l(&bg_mu_);
  while (!stop_) {
    auto wait = std::chrono::milliseconds(1000);
    if (options_.fsync == FsyncPolicy::kInterval) wait = std::min(wait, options_.fsync_interval);
    const auto deadline = SteadyClock::now() + wait;
    while (!stop_ && !flush_wanted_ && bg_cv_.WaitUntil(&bg_mu_, deadline)) {
    }
    if (stop_) break;
    flush_wanted_ = false;
    const bool seal_replayed = seal_replayed_;
    seal_replayed_ = false;
    l.Unlock();

    auto now = SteadyClock::now();
    if (options_.fsync == FsyncPolicy::kInterval && now - last_sync >= options_.fsync_interval) {
      last_sync = now;
      Status s = FromRocks(db_->SyncWAL(), "WAL sync");
      if (!s.ok()) {
        MutexLock w(&write_mu_);
        if (bg_error_.ok()) bg_error_ = s;
        failed_ = true;
        log::Error("storage: WAL sync failed, refusing further writes: {}", s.ToString());
      }
    }
    int64_t oldest = oldest_head_ns_.load();
    bool old_enough =
        oldest != 0 && SteadyClock::now().time_since_epoch().count() - oldest >=
                           std::chrono::nanoseconds(options_.head_flush_interval).count();
    if (!failed_ &&
        (seal_replayed || head_bytes_.load() >= options_.head_flush_bytes || old_enough)) {
      Status s = Flush();
      if (!s.ok()) log::Error("storage: background flush: {}", s.ToString());
    }
    if (!failed_ && now - last_retention >= options_.retention_interval) {
      last_retention = now;
      Status s = EnforceRetention();
      if (!s.ok()) log::Error("storage: retention: {}", s.ToString());
    }
    l.Lock();
  }
}

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
  if (fs::exists(fs::path(checkpoint_dir) / "tenant.json", ec)) {
    return Status::InvalidArgument("'" + checkpoint_dir +
                                   "' is one tenant's export, not a backup: import it with "
                                   "ImportTenant (foresight tenant import)");
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
