// storage/storage.h — the FORESIGHT storage engine.
//
// Purpose: durable, tenant-partitioned, columnar storage of time series on RocksDB, with a
// durable series catalog, rollups (1 min, 1 h, 1 day) maintained as data arrives, per-tenant
// retention, and online checkpoints. It also owns the vocabulary every other module shares:
// Status/Result, tenant and series ids, values and samples, the clock (Clock) and the text form
// of a time (RFC 3339).
//
// Data model: a tenant owns series; a series is (measurement, sorted tag set, field) with one
// value type for life. A sample is (series, timestamp in ns since the epoch, value). For each
// (series, timestamp) the last acknowledged write wins; reads never return duplicates.
//
// Threading: Storage is thread-safe. Any thread may call any method concurrently. Append()
// blocks its caller until the batch is durable under the fsync policy (group commit: concurrent
// callers share one WAL write and one fsync). Reads never block on appends for longer than a
// shard-mutex hand-off and never wait for an fsync. Storage owns two background threads:
// the flusher (seals in-memory heads into compressed blocks and rollups, syncs the WAL under the
// `interval` policy, enforces retention) and RocksDB's own pool.
//
// Ownership: Storage::Open returns the sole owner. Spans passed in are borrowed for the call.
//
// Errors: nothing throws across this header. Every fallible call returns Status or Result<T>.
// After a failed WAL write or fsync every later Append fails (the engine never retries and
// pretends); reopen the directory to recover.
//
// Cost: Append is one RocksDB write per group of concurrent batches (a compact binary record,
// not one key per point); sealing happens in the background. A raw read decodes only the blocks
// that overlap the range; a downsampled read whose step is a multiple of 1 min, 1 h or 1 day
// reads rollups and decodes raw points only for buckets that still have unsealed points.
//
// Formats are documented in storage/FORMAT.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace foresight {

// A must-check status: a code plus a message that is allocated only on error, so ok() is one
// compare. Copyable; cheap to move.
class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kInvalidArgument,
    kNotFound,
    kAlreadyExists,
    kIOError,
    kCorruption,
    kBusy,
    kResourceExhausted,
    kFailedPrecondition,
    kInternal,
  };

  Status() = default;
  Status(const Status& other) : code_(other.code_), msg_(other.CloneMessage()) {}
  Status& operator=(const Status& other) {
    code_ = other.code_;
    msg_ = other.CloneMessage();
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) {
    return {Code::kResourceExhausted, std::move(msg)};
  }
  static Status FailedPrecondition(std::string msg) {
    return {Code::kFailedPrecondition, std::move(msg)};
  }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // Empty for OK.
  std::string_view message() const { return msg_ ? std::string_view(*msg_) : std::string_view(); }
  // "OK" or "<code name>: <message>".
  std::string ToString() const;

  // Marks a status as deliberately ignored, so the drop is visible in the code.
  void PermitUncheckedError() const {}

 private:
  Status(Code code, std::string msg)
      : code_(code), msg_(std::make_unique<std::string>(std::move(msg))) {}
  std::unique_ptr<std::string> CloneMessage() const {
    return msg_ ? std::make_unique<std::string>(*msg_) : nullptr;
  }

  Code code_ = Code::kOk;
  std::unique_ptr<std::string> msg_;
};

// A value or the Status that says why there is none. REQUIRES: value() only when ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

namespace storage {

// --- Time --------------------------------------------------------------------------------------
// Every timestamp in FORESIGHT is int64 nanoseconds since the Unix epoch (UTC).
inline constexpr int64_t kSecondNs = 1'000'000'000;
inline constexpr int64_t kMinuteNs = 60 * kSecondNs;
inline constexpr int64_t kHourNs = 60 * kMinuteNs;
inline constexpr int64_t kDayNs = 24 * kHourNs;

// The wall clock. One per appliance: Options::clock gives it to the Storage, and every module
// built over a Storage reads the time from Storage::clock(), so a test that sets a ManualClock
// moves the whole appliance's "now" without sleeping. Intervals that must not jump with the
// wall clock (timeouts, schedules' pacing) use std::chrono::steady_clock instead.
// Thread-safe: NowNs may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNs() const = 0;
};
// The system's real-time clock; lives as long as the process.
const Clock& SystemClock();

// The text form of a timestamp everywhere (API answers, records, reports): RFC 3339 in UTC with
// "Z" and only as many fraction digits as it needs, "2026-11-22T10:00:00Z",
// "2026-11-22T10:00:00.25Z".
std::string FormatRfc3339(int64_t ts_ns);
// YYYY-MM-DD(T|t| )hh:mm:ss[.fraction](Z|z|+hh:mm|-hh:mm), fraction 1 to 9 digits, within
// [kMinTimestampNs, kMaxTimestampNs]; InvalidArgument naming the text otherwise.
Result<int64_t> ParseRfc3339(std::string_view text);

// --- Text --------------------------------------------------------------------------------------
// What FORESIGHT stores as text (measurement, tag and field names, tag values, string fields, the
// strings of API bodies and CSV imports): valid UTF-8 (no overlong forms, no UTF-16 surrogates,
// nothing above U+10FFFF) without control characters. Tab is allowed everywhere; LF and CR only in
// multi-line text (notes, descriptions, string field values read from JSON). DEL counts as a
// control character; every other code point is allowed.
enum class TextKind : uint8_t { kLine, kMultiline };
struct TextError {
  size_t offset = 0;   // of the first byte that is not text
  std::string reason;  // "invalid UTF-8: overlong encoding", "control character U+0000", ...
};
// Nothing when `s` is text of `kind`; where and why it is not otherwise. Printable ASCII is
// checked 16 bytes at a time and other UTF-8 by simdjson's validator, so valid text costs one
// pass; only a failure is decoded byte by byte to say where and why.
std::optional<TextError> CheckText(std::string_view s, TextKind kind = TextKind::kLine);
// The length of the UTF-8 sequence that starts `s` (1 to 4), or 0 when `s` does not start with a
// valid one (REQUIRES: !s.empty()). For writers that must emit valid UTF-8 whatever they read.
size_t Utf8SequenceLength(std::string_view s);
// A body's UTF-8 byte-order mark (EF BB BF) at its very start is skipped by every reader of
// bodies (line protocol, JSON, CSV): Windows tools write one. Elsewhere U+FEFF is a character.
std::string_view SkipByteOrderMark(std::string_view body);

// A clock that moves only when told (tests). Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ns) : now_ns_(now_ns) {}
  int64_t NowNs() const override { return now_ns_.load(std::memory_order_relaxed); }
  void Set(int64_t now_ns) { now_ns_.store(now_ns, std::memory_order_relaxed); }
  void Advance(int64_t delta_ns) { now_ns_.fetch_add(delta_ns, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_ns_;
};

// Dense per-process tenant id. Fixed width on disk (4 bytes, big-endian) and the first bytes of
// every key, so one tenant's data is one contiguous key range. 0 is reserved for the system.
using TenantId = uint32_t;
// Dense per-tenant series id, assigned in creation order from 1.
using SeriesId = uint32_t;
inline constexpr SeriesId kInvalidSeriesId = 0;

// The timestamps a sample may carry: +-(2^63 - 2^56) ns since the epoch, about the years 1679
// to 2260. The margin keeps day, page and bucket arithmetic free of overflow.
inline constexpr int64_t kMaxTimestampNs = INT64_MAX - (int64_t{1} << 56);
inline constexpr int64_t kMinTimestampNs = -kMaxTimestampNs;

enum class ValueType : uint8_t { kFloat = 1, kInt = 2, kUint = 3, kBool = 4, kString = 5 };
std::string_view ValueTypeName(ValueType type);

// One value as it travels in a write. Strings are borrowed (string_view) for the duration of
// the call that takes them, so building a Sample never allocates.
struct Value {
  ValueType type = ValueType::kFloat;
  uint64_t bits = 0;  // the double's bits, the integer, or 0/1
  std::string_view str;

  static Value Float(double v);
  static Value Int(int64_t v) { return {ValueType::kInt, static_cast<uint64_t>(v), {}}; }
  static Value Uint(uint64_t v) { return {ValueType::kUint, v, {}}; }
  static Value Bool(bool v) { return {ValueType::kBool, v ? 1u : 0u, {}}; }
  static Value String(std::string_view v) { return {ValueType::kString, 0, v}; }

  // As a double (integers converted, booleans 0/1). REQUIRES: type != kString.
  double AsDouble() const;
};

struct Sample {
  SeriesId series = kInvalidSeriesId;
  int64_t ts_ns = 0;
  Value value;
};

// The identity of a series. Tag order does not matter: the catalog sorts tags by key.
// REQUIRES: tag keys are unique within a series.
struct SeriesKey {
  std::string measurement;
  std::vector<std::pair<std::string, std::string>> tags;
  std::string field;
};

struct SeriesSpec {
  SeriesKey key;
  ValueType type = ValueType::kFloat;
};

struct SeriesInfo {
  SeriesId id = kInvalidSeriesId;
  ValueType type = ValueType::kFloat;
  SeriesKey key;  // tags sorted by key
};

// An asset (a pump, a motor, a line) as ingest first saw it: its id and descriptive attributes
// (asset_type, site, ...), taken from the tags of the first point that named it. The API
// platform layers its own fields (criticality, status, ...) on top.
inline constexpr size_t kMaxAssetIdBytes = 256;
struct Asset {
  std::string id;
  std::vector<std::pair<std::string, std::string>> attributes;  // sorted by key
  int64_t created_ns = 0;
  bool operator==(const Asset&) const = default;
};

// Points of one series in time order, column by column. `bits` holds each value as in
// Value::bits; for string series `strings` holds the values and `bits` is all zero.
struct Points {
  ValueType type = ValueType::kFloat;
  std::vector<int64_t> ts_ns;
  std::vector<uint64_t> bits;
  std::vector<std::string> strings;

  size_t size() const { return ts_ns.size(); }
  // The value as a double (integers converted, booleans 0/1). REQUIRES: type != kString.
  double AsDouble(size_t i) const;
};

// Aggregates of one downsampling bucket [start_ns, start_ns + step). Only non-empty buckets are
// returned.
struct Bucket {
  int64_t start_ns = 0;
  uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  double first = 0;  // value of the earliest point in the bucket
  double last = 0;   // value of the latest point in the bucket
  double sum_squares = 0;
  double mean() const { return count ? sum / static_cast<double>(count) : 0; }
};

// The rollup tiers, also used to name retention tiers.
enum class Tier : uint8_t { kRaw = 0, kMinute = 1, kHour = 2, kDay = 3 };
std::string_view TierName(Tier tier);

// How long each tier is kept. In what applies (Options::default_retention,
// TenantRetention::applied) nullopt keeps the tier for ever; in what is set for a tenant
// (SetRetention) nullopt follows the default and kKeepForever keeps the tier for ever.
struct Retention {
  std::optional<std::chrono::seconds> raw;
  std::optional<std::chrono::seconds> minute;
  std::optional<std::chrono::seconds> hour;
  std::optional<std::chrono::seconds> day;
  bool operator==(const Retention&) const = default;
};
inline constexpr std::chrono::seconds kKeepForever = std::chrono::seconds::max();
// What a tenant's settings make of the defaults: each tier set overrides the default's.
Retention ApplyRetention(const Retention& set, const Retention& defaults);

// A retention period as an operator writes it: "forever" (kKeepForever) or a positive whole
// number of s, m, h, d or w, as in "90d". InvalidArgument names what it accepts otherwise.
Result<std::chrono::seconds> ParseRetentionPeriod(std::string_view text);
// The inverse: "forever", or the period in the largest unit that divides it ("36h", "400d").
std::string FormatRetentionPeriod(std::chrono::seconds period);

// The on-disk format this binary writes. 1: directories made before the format carried a
// version; 2: a tenant's unset retention follows Options::default_retention (in 1, for ever).
inline constexpr uint32_t kFormatVersion = 2;

struct TenantRetention {
  Retention set;      // the tenant's own settings
  Retention applied;  // what retention enforces: `set` over Options::default_retention
};

enum class FsyncPolicy : uint8_t {
  kAlways,    // fsync before every acknowledgement: power loss loses nothing acknowledged.
  kInterval,  // fsync every `fsync_interval`: kill -9 loses nothing, power loss up to one interval.
  kNever,     // leave it to the OS: kill -9 loses nothing, power loss may lose anything unsynced.
};
// Parses "always", "never" or "interval".
Result<FsyncPolicy> ParseFsyncPolicy(std::string_view text);
std::string_view FsyncPolicyName(FsyncPolicy policy);

struct Options {
  // Create the data directory (but not its parent) when it is missing. Default: true.
  bool create_if_missing = true;
  // Default: kAlways, the only policy that survives power loss. Not hot-reloadable.
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  // WAL sync period under FsyncPolicy::kInterval. Default 100 ms. Not hot-reloadable.
  std::chrono::milliseconds fsync_interval{100};
  // Unsealed points are sealed into blocks when their memory passes this many bytes or when
  // the oldest is older than `head_flush_interval`. Larger heads give larger blocks (better
  // compression) and a longer WAL replay after a crash. While a flush runs, new points fill
  // fresh heads; appends wait once the two together reach twice this, so heads take up to about
  // 2x this much memory. Default 64 MiB and 10 min.
  size_t head_flush_bytes = 64u << 20;
  std::chrono::milliseconds head_flush_interval{std::chrono::minutes(10)};
  // How often the background thread forces a retention compaction of each tenant with a
  // policy (RocksDB's own compactions drop expired data in between). Default 24 h.
  std::chrono::milliseconds retention_interval{std::chrono::hours(24)};
  // Retention of every tenant's tiers that its own settings leave unset (nullopt: for ever).
  // Default: every tier kept for ever.
  Retention default_retention;
  // RocksDB block cache for index and data blocks. Default 64 MiB.
  size_t block_cache_bytes = 64u << 20;
  // Series a tenant may have; ResolveSeries refuses new ones past it (an inner
  // ResourceExhausted), so one tenant's runaway tags cannot exhaust the catalog. Default 1 M.
  size_t max_series_per_tenant = 1'000'000;
  // The wall clock retention measures ages against, shared with every module built over this
  // Storage (Storage::clock()). Must outlive the Storage. Default: SystemClock().
  const Clock* clock = nullptr;
};

// Counters for /metrics and benchmarks. Monotonic since Open unless noted.
struct Stats {
  uint64_t points_appended = 0;
  uint64_t batches_appended = 0;
  uint64_t wal_writes = 0;  // RocksDB writes made by group commit (<= batches_appended)
  uint64_t flushes = 0;
  uint64_t blocks_written = 0;
  uint64_t head_points = 0;  // unsealed points now in memory (gauge)
  uint64_t head_bytes = 0;   // their approximate memory (gauge)
  uint64_t series = 0;       // series in the catalog (gauge)
  // Unsealed points Open replayed from the log: what arrived since the last seal before a crash
  // (the background thread seals them right after Open, so no later start replays them again).
  uint64_t replayed_points = 0;
  // RocksDB underneath: background work done and waiting, and the memory it holds.
  uint64_t compactions = 0;               // finished since open
  uint64_t compactions_running = 0;       // gauge
  uint64_t compaction_pending_bytes = 0;  // estimated bytes compaction still has to rewrite
  uint64_t memtable_flushes = 0;          // memtables written to SST files since open
  uint64_t memtable_bytes = 0;            // gauge, every column family
  uint64_t block_cache_bytes = 0;         // gauge
  uint64_t block_cache_capacity = 0;      // Options::block_cache_bytes
};

struct DiskUsage {
  uint64_t points = 0;   // point blocks
  uint64_t rollups = 0;  // 1 min, 1 h and 1 day aggregates
  uint64_t catalog = 0;  // tenants, series, retention
  uint64_t other = 0;    // events, unsealed-point log records, RocksDB's WAL files
  uint64_t total() const { return points + rollups + catalog + other; }
};

class Storage {
 public:
  // Opens (or creates) the data directory at `path`. Fails within seconds, naming the path and
  // the reason, when the directory is missing (and may not be created), is a regular file, is
  // not writable, or is locked by another process. Replays unsealed points from the WAL, and
  // seals them in the background right after, so time to open depends on what arrived since
  // the last seal, not on how many crashes came before. A directory of a newer format
  // (kFormatVersion) is refused with FailedPrecondition naming both versions; an older one is
  // checkpointed into <path>/pre-upgrade-format-<n>-<time> (logged), then upgraded.
  static Result<std::unique_ptr<Storage>> Open(const std::string& path, const Options& options);

  // Copies a checkpoint made by Checkpoint() into `data_dir`, which must not exist or be empty,
  // and checks that it opens. REQUIRES: no process has `data_dir` open.
  static Status Restore(const std::string& checkpoint_dir, const std::string& data_dir);
  // Recreates a tenant written by ExportTenant in `data_dir` under its name, which must not exist
  // there; returns the name. The other tenants are untouched, and a failure part way leaves no
  // tenant behind. REQUIRES: no process has `data_dir` open.
  static Result<std::string> ImportTenant(const std::string& export_dir,
                                          const std::string& data_dir, const Options& options);

  // Seals every head and closes RocksDB; the destructor does the same if Close was not called.
  virtual ~Storage() = default;
  virtual Status Close() = 0;

  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // --- Tenants ---------------------------------------------------------------------------------
  // Creates the tenant if it is new (durably) and returns its id. Names are 1..64 bytes of
  // [A-Za-z0-9_.-].
  virtual Result<TenantId> CreateTenant(std::string_view name) = 0;
  virtual Result<TenantId> FindTenant(std::string_view name) const = 0;
  // All tenants, ordered by id.
  virtual std::vector<std::pair<TenantId, std::string>> ListTenants() const = 0;
  virtual Status SetRetention(TenantId tenant, const Retention& retention) = 0;
  virtual Result<TenantRetention> GetRetention(TenantId tenant) const = 0;

  // --- Series catalog --------------------------------------------------------------------------
  // Resolves each spec to its series id. With kCreate, unknown series are created durably in one
  // write before returning; with kLookup an unknown series is an inner NotFound. The outer Result
  // fails only on I/O errors or an unknown tenant; an inner Result fails when the spec is invalid
  // or names an existing series with another value type.
  enum class Resolve : uint8_t { kCreate, kLookup };
  virtual Result<std::vector<Result<SeriesId>>> ResolveSeries(TenantId tenant,
                                                              std::span<const SeriesSpec> specs,
                                                              Resolve mode = Resolve::kCreate) = 0;
  virtual Result<SeriesInfo> GetSeries(TenantId tenant, SeriesId series) const = 0;
  // Every series of the tenant, ordered by id, as one shared snapshot: the same until a series
  // is created, so callers that list on every query (the query languages) copy nothing.
  virtual std::shared_ptr<const std::vector<SeriesInfo>> SeriesSnapshot(TenantId tenant) const = 0;
  // A copy of SeriesSnapshot, for callers that rearrange it.
  std::vector<SeriesInfo> ListSeries(TenantId tenant) const { return *SeriesSnapshot(tenant); }

  // --- Assets ----------------------------------------------------------------------------------
  // Creates every asset whose id is new, durably in one write; an existing asset is left as it
  // is (first sight wins). Ids are 1..kMaxAssetIdBytes bytes; attribute keys must be unique.
  // Returns how many assets were created. Cost: one hash lookup per asset under a shared lock when
  // none is new.
  virtual Result<size_t> EnsureAssets(TenantId tenant, std::span<const Asset> assets) = 0;
  virtual Result<Asset> GetAsset(TenantId tenant, std::string_view id) const = 0;
  // Every asset of the tenant, ordered by id.
  virtual std::vector<Asset> ListAssets(TenantId tenant) const = 0;
  // Calls `fn` once with every asset of the tenant in id order, without copying them: for hot
  // read paths (API lists). `fn` runs under the catalog's shared lock, so it must be short and
  // must not call back into Storage; the pointers die when it returns.
  virtual void WithAssets(TenantId tenant,
                          const std::function<void(std::span<const Asset* const>)>& fn) const = 0;
  // Creates or replaces one asset, durably (the API's create and update).
  virtual Status PutAsset(TenantId tenant, const Asset& asset) = 0;
  // Deletes an asset's record (its series and points stay); NotFound when there is none.
  virtual Status DeleteAsset(TenantId tenant, std::string_view id) = 0;

  // --- Records ---------------------------------------------------------------------------------
  // Small documents other modules own (users, rules, alerts, maintenance records, audit entries),
  // kept by (tenant, kind, id) and ordered by id within a kind. The bytes are the caller's.
  // Kinds are 1..64 bytes, ids 1..1024 bytes.
  struct RecordWrite {
    std::string_view kind;
    std::string_view id;
    std::optional<std::string_view> value;  // nullopt deletes
  };
  // Applies every write in one atomic, durable (catalog fsync policy) RocksDB write.
  virtual Status WriteRecords(TenantId tenant, std::span<const RecordWrite> writes) = 0;
  // NotFound when absent.
  virtual Result<std::string> GetRecord(TenantId tenant, std::string_view kind,
                                        std::string_view id) const = 0;
  // Records of a kind with id > `after` (all when empty), in id order, at most `limit`;
  // in reverse id order (id < `after` when given) when `reverse`.
  struct ScanOptions {
    std::string_view after;
    size_t limit = SIZE_MAX;
    bool reverse = false;
  };
  virtual Result<std::vector<std::pair<std::string, std::string>>> ScanRecords(
      TenantId tenant, std::string_view kind, const ScanOptions& options) const = 0;

  // --- Writes ----------------------------------------------------------------------------------
  // Appends a batch; returns once it is durable under the fsync policy, after which every
  // sample is visible to reads. All or nothing: a sample naming an unknown series, carrying a
  // value of the wrong type or a timestamp outside [kMinTimestampNs, kMaxTimestampNs] fails the
  // whole batch (InvalidArgument naming the sample) before anything is written.
  virtual Status Append(TenantId tenant, std::span<const Sample> samples) = 0;

  // --- Reads -----------------------------------------------------------------------------------
  // Points with from_ns <= ts < to_ns, in time order, within the raw retention.
  virtual Result<Points> ReadRaw(TenantId tenant, SeriesId series, int64_t from_ns,
                                 int64_t to_ns) const = 0;
  // Buckets of width `step` aligned to multiples of `step` since the epoch, covering
  // [floor(from_ns / step) * step, to_ns). Numeric series only. Answered from the coarsest
  // rollup tier that divides `step`, decoding raw points only where needed.
  Result<std::vector<Bucket>> ReadDownsampled(TenantId tenant, SeriesId series, int64_t from_ns,
                                              int64_t to_ns, std::chrono::nanoseconds step) const {
    auto many = ReadDownsampledMany(tenant, std::span(&series, 1), from_ns, to_ns, step);
    if (!many.ok()) return many.status();
    return std::move(many->front());
  }
  // ReadDownsampled of several series at once, answers in the order of `series`: the rollups
  // are read with one iterator sought in key order, much cheaper than one read per series
  // (what a fleet query asks). Fails as a whole when one series would.
  virtual Result<std::vector<std::vector<Bucket>>> ReadDownsampledMany(
      TenantId tenant, std::span<const SeriesId> series, int64_t from_ns, int64_t to_ns,
      std::chrono::nanoseconds step) const = 0;
  // The point with the greatest timestamp (the newest write among equal ones), or NotFound for
  // a series that is empty or whose points retention has expired.
  virtual Result<Points> ReadLatest(TenantId tenant, SeriesId series) const = 0;

  // --- Operations ------------------------------------------------------------------------------
  // Seals every unsealed point into blocks and rollups now (normally done in the background).
  virtual Status Flush() = 0;
  // Deletes data older than each tenant's retention now (normally done in the background).
  virtual Status EnforceRetention() = 0;
  // Writes a consistent, self-contained copy of the database to `dir` (must not exist) while
  // writes continue. Restore() turns it back into a data directory.
  virtual Status Checkpoint(const std::string& dir) = 0;
  // Writes one tenant as of one moment (series, sealed and unsealed points, rollups, assets,
  // records, retention) to `dir` (must not exist) while writes continue, for ImportTenant to
  // move it into another data directory: an SST file per column family, then tenant.json
  // (name, format version, key counts), then the directory is renamed into place.
  virtual Status ExportTenant(TenantId tenant, const std::string& dir) = 0;
  // Bytes on disk: live SST files per column family, and WAL files.
  virtual DiskUsage GetDiskUsage() const = 0;
  // Compacts every column family fully (benchmarks; operators after bulk deletes).
  virtual Status CompactAll() = 0;
  virtual Stats GetStats() const = 0;
  // OK while the engine accepts writes; the sticky error after a failed write otherwise.
  virtual Status Health() const = 0;
  // Options::clock (or SystemClock()): the appliance's "now".
  virtual const Clock& clock() const = 0;

 protected:
  Storage() = default;
};

}  // namespace storage
}  // namespace foresight
