// Retention: per-tenant policies, the compaction filter that drops expired blocks and
// rollups while RocksDB compacts, and enforcement on demand.
#include "storage/engine.h"

#include <algorithm>
#include <charconv>

namespace foresight::storage {

namespace {

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
  // `clock` must outlive the factory.
  RetentionFilterFactory(std::shared_ptr<RetentionRegistry> registry, bool rollups,
                         const Clock* clock)
      : registry_(std::move(registry)), rollups_(rollups), clock_(*clock) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context&) override {
    return std::make_unique<RetentionFilter>(rollups_, registry_->Snapshot(clock_.NowNs()));
  }
  const char* Name() const override { return "foresight.RetentionFilterFactory"; }

 private:
  std::shared_ptr<RetentionRegistry> registry_;
  bool rollups_;
  const Clock& clock_;
};

}  // namespace

std::shared_ptr<rocksdb::CompactionFilterFactory> NewRetentionFilterFactory(
    std::shared_ptr<RetentionRegistry> registry, bool rollups, const Clock* clock) {
  return std::make_shared<RetentionFilterFactory>(std::move(registry), rollups, clock);
}

std::array<int64_t, 4> ComputeCutoffs(const Retention& r, int64_t now) {
  auto cut = [now](const std::optional<std::chrono::seconds>& keep) {
    if (!keep) return std::numeric_limits<int64_t>::min();
    return now - std::chrono::duration_cast<std::chrono::nanoseconds>(*keep).count();
  };
  return {cut(r.raw), cut(r.minute), cut(r.hour), cut(r.day)};
}

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

Result<std::chrono::seconds> ParseRetentionPeriod(std::string_view text) {
  if (text == "forever") return kKeepForever;
  auto refuse = [&] {
    return Status::InvalidArgument(
        "a retention period is \"forever\" or a whole number of s, m, h, d or w, as in \"90d\", "
        "not '" +
        std::string(text) + "'");
  };
  if (text.size() < 2) return refuse();
  constexpr std::string_view kUnits = "smhdw";
  constexpr int64_t kUnitSeconds[] = {1, 60, 3'600, 86'400, 7 * 86'400};
  const size_t u = kUnits.find(text.back());
  if (u == std::string_view::npos) return refuse();
  const int64_t unit = kUnitSeconds[u];
  int64_t n = 0;
  std::string_view digits = text.substr(0, text.size() - 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  // SetRetention's bound.
  constexpr int64_t kMaxSeconds = int64_t{10'000} * 366 * 86'400;
  if (ec != std::errc() || end != digits.data() + digits.size() || n <= 0 ||
      n > kMaxSeconds / unit) {
    return refuse();
  }
  return std::chrono::seconds(n * unit);
}

std::string FormatRetentionPeriod(std::chrono::seconds period) {
  if (period == kKeepForever) return "forever";
  const int64_t s = period.count();
  for (auto [unit, suffix] : {std::pair<int64_t, char>{86'400, 'd'}, {3'600, 'h'}, {60, 'm'}}) {
    if (s % unit == 0) return std::to_string(s / unit) + suffix;
  }
  return std::to_string(s) + "s";
}

Retention ApplyRetention(const Retention& set, const Retention& defaults) {
  auto apply = [](const std::optional<std::chrono::seconds>& own,
                  const std::optional<std::chrono::seconds>& fallback) {
    if (!own) return fallback;
    return *own == kKeepForever ? std::nullopt : own;
  };
  return {.raw = apply(set.raw, defaults.raw),
          .minute = apply(set.minute, defaults.minute),
          .hour = apply(set.hour, defaults.hour),
          .day = apply(set.day, defaults.day)};
}

Status Engine::SetRetention(TenantId tenant, const Retention& retention) {
  // Nanoseconds since the epoch reach 292 years; a longer period but for ever would overflow.
  constexpr auto kLongest = std::chrono::hours(24 * 366 * 10'000);
  for (const auto& keep : {retention.raw, retention.minute, retention.hour, retention.day}) {
    if (keep && (keep->count() <= 0 || (*keep > kLongest && *keep != kKeepForever))) {
      return Status::InvalidArgument("retention must be positive and at most 10,000 years");
    }
  }
  MutexLock w(&catalog_write_mu_);
  {
    ReaderLock l(&catalog_mu_);
    if (!Tenant(tenant)) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  }
  rocksdb::WriteBatch batch;
  Status s = FromRocks(
      batch.Put(cfs_[kCatalog], CatalogKey(tenant, kRetentionTag), EncodeRetention(retention)),
      "set retention");
  if (s.ok()) s = Write(CatalogWrite(), &batch, "set retention");
  if (!s.ok()) return s;
  WriterLock l(&catalog_mu_);
  tenants_[tenant]->retention = retention;
  retention_->Set(tenant, ApplyRetention(retention, options_.default_retention));
  return Status::OK();
}

Result<TenantRetention> Engine::GetRetention(TenantId tenant) const {
  ReaderLock l(&catalog_mu_);
  const TenantState* t = Tenant(tenant);
  if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  return TenantRetention{.set = t->retention,
                         .applied = ApplyRetention(t->retention, options_.default_retention)};
}

int64_t Engine::Cutoff(TenantId tenant, Tier tier) const {
  ReaderLock l(&catalog_mu_);
  const TenantState* t = Tenant(tenant);
  return t ? ComputeCutoffs(ApplyRetention(t->retention, options_.default_retention),
                            clock_.NowNs())[static_cast<size_t>(tier)]
           : std::numeric_limits<int64_t>::min();
}

Status Engine::EnforceRetention() {
  std::vector<TenantId> with_policy;
  {
    ReaderLock l(&catalog_mu_);
    for (TenantId id = 1; id < tenants_.size(); ++id) {
      if (!(ApplyRetention(tenants_[id]->retention, options_.default_retention) == Retention())) {
        with_policy.push_back(id);
      }
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

}  // namespace foresight::storage
