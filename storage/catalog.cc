// The catalog: tenants, assets, records and series, kept in memory and written through to the
// catalog column family.
#include "storage/engine.h"
#include "storage/log.h"

#include <algorithm>
#include <cctype>

namespace foresight::storage {

const Engine::TenantState* Engine::Tenant(TenantId tenant) const {
  return tenant > 0 && tenant < tenants_.size() ? tenants_[tenant].get() : nullptr;
}

Status Engine::LoadCatalog() {
  // Open runs this alone; the lock keeps the analysis (and any later caller) honest.
  WriterLock l(&catalog_mu_);
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
    } else if (!rs.IsNotFound()) {
      return FromRocks(rs, "catalog read");
    }
    retention_->Set(id, ApplyRetention(t->retention, options_.default_retention));
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
  ReaderLock l(&catalog_mu_);
  Result<const SeriesInfo*> info = SeriesLocked(tenant, series);
  if (!info.ok()) return info.status();
  return (*info)->type;
}

Result<TenantId> Engine::CreateTenant(std::string_view name) {
  if (name.empty() || name.size() > kMaxTenantName ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return Status::InvalidArgument("tenant name must be 1..64 characters of [A-Za-z0-9_.-], not '" +
                                   std::string(name) + "'");
  }
  MutexLock w(&catalog_write_mu_);
  TenantId id;
  {
    ReaderLock l(&catalog_mu_);
    auto it = tenant_by_name_.find(std::string(name));
    if (it != tenant_by_name_.end()) return it->second;
    id = static_cast<TenantId>(std::max<size_t>(tenants_.size(), 1));
  }
  std::string value;
  PutFixed32BE(&value, id);
  rocksdb::WriteBatch batch;
  Status s =
      FromRocks(batch.Put(cfs_[kCatalog], CatalogKey(kSystemTenant, kTenantTag, name), value),
                "create tenant");
  if (s.ok()) s = Write(CatalogWrite(), &batch, "create tenant");
  if (!s.ok()) return s;
  WriterLock l(&catalog_mu_);
  if (tenants_.size() <= id) tenants_.resize(id + 1);
  tenants_[id] = std::make_unique<TenantState>();
  tenants_[id]->name = std::string(name);
  tenant_by_name_[std::string(name)] = id;
  retention_->Set(id, options_.default_retention);
  return id;
}

Result<TenantId> Engine::FindTenant(std::string_view name) const {
  ReaderLock l(&catalog_mu_);
  auto it = tenant_by_name_.find(std::string(name));
  if (it == tenant_by_name_.end()) return Status::NotFound("no tenant '" + std::string(name) + "'");
  return it->second;
}

std::vector<std::pair<TenantId, std::string>> Engine::ListTenants() const {
  ReaderLock l(&catalog_mu_);
  std::vector<std::pair<TenantId, std::string>> out;
  for (TenantId id = 1; id < tenants_.size(); ++id) out.emplace_back(id, tenants_[id]->name);
  return out;
}

void Engine::WithAssets(TenantId tenant,
                        const std::function<void(std::span<const Asset* const>)>& fn) const {
  ReaderLock l(&catalog_mu_);
  const TenantState* t = Tenant(tenant);
  std::vector<const Asset*> all;
  if (t) {
    all.reserve(t->assets.size());
    for (const auto& [id, asset] : t->assets) all.push_back(&asset);
  }
  fn(all);
}

namespace {

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

}  // namespace

Result<size_t> Engine::EnsureAssets(TenantId tenant, std::span<const Asset> assets) {
  for (const Asset& asset : assets) {
    if (Status s = ValidateAsset(asset); !s.ok()) return s;
  }
  auto all_known = [&](const TenantState* t) {
    return std::all_of(assets.begin(), assets.end(),
                       [t](const Asset& a) { return t->assets.contains(a.id); });
  };
  {
    ReaderLock l(&catalog_mu_);
    const TenantState* t = Tenant(tenant);
    if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
    if (all_known(t)) return size_t{0};
  }
  MutexLock w(&catalog_write_mu_);
  std::vector<Asset> created;
  rocksdb::WriteBatch batch;
  {
    ReaderLock l(&catalog_mu_);
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
  WriterLock l(&catalog_mu_);
  TenantState* t = tenants_[tenant].get();
  for (Asset& a : created) t->assets.emplace(a.id, std::move(a));
  return created.size();
}

Result<Asset> Engine::GetAsset(TenantId tenant, std::string_view id) const {
  ReaderLock l(&catalog_mu_);
  const TenantState* t = Tenant(tenant);
  if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  auto it = t->assets.find(id);
  if (it == t->assets.end()) return Status::NotFound("no asset '" + std::string(id) + "'");
  return it->second;
}

std::vector<Asset> Engine::ListAssets(TenantId tenant) const {
  ReaderLock l(&catalog_mu_);
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
  MutexLock w(&catalog_write_mu_);
  {
    ReaderLock l(&catalog_mu_);
    if (!Tenant(tenant)) return Status::NotFound("unknown tenant " + std::to_string(tenant));
  }
  rocksdb::WriteBatch batch;
  Status s =
      FromRocks(batch.Put(cfs_[kCatalog], CatalogKey(tenant, kAssetTag, a.id), EncodeAssetValue(a)),
                "asset batch");
  if (s.ok()) s = Write(CatalogWrite(), &batch, "put asset");
  if (!s.ok()) return s;
  WriterLock l(&catalog_mu_);
  tenants_[tenant]->assets.insert_or_assign(a.id, std::move(a));
  return Status::OK();
}

Status Engine::DeleteAsset(TenantId tenant, std::string_view id) {
  MutexLock w(&catalog_write_mu_);
  {
    ReaderLock l(&catalog_mu_);
    const TenantState* t = Tenant(tenant);
    if (!t) return Status::NotFound("unknown tenant " + std::to_string(tenant));
    if (!t->assets.contains(id)) return Status::NotFound("no asset '" + std::string(id) + "'");
  }
  rocksdb::WriteBatch batch;
  Status s =
      FromRocks(batch.Delete(cfs_[kCatalog], CatalogKey(tenant, kAssetTag, id)), "asset batch");
  if (s.ok()) s = Write(CatalogWrite(), &batch, "delete asset");
  if (!s.ok()) return s;
  WriterLock l(&catalog_mu_);
  auto& assets = tenants_[tenant]->assets;
  assets.erase(assets.find(id));
  return Status::OK();
}

namespace {

Status ValidateRecordName(std::string_view kind, std::string_view id) {
  if (kind.empty() || kind.size() > 64)
    return Status::InvalidArgument("record kind must be 1..64 bytes");
  if (id.empty() || id.size() > 1024)
    return Status::InvalidArgument("record id must be 1..1024 bytes");
  return Status::OK();
}

}  // namespace

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

namespace {

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
Status TypeConflict(const SeriesKey& key, ValueType have, ValueType want) {
  return Status::InvalidArgument("field '" + key.field + "' of '" + key.measurement + "' holds " +
                                 std::string(ValueTypeName(have)) + " values, not " +
                                 std::string(ValueTypeName(want)));
}

}  // namespace

Result<std::vector<Result<SeriesId>>> Engine::ResolveSeries(TenantId tenant,
                                                            std::span<const SeriesSpec> specs,
                                                            Resolve mode) {
  std::vector<Result<SeriesId>> out;
  out.reserve(specs.size());
  std::vector<std::string> encoded(specs.size());
  std::vector<size_t> missing;
  {
    ReaderLock l(&catalog_mu_);
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
  MutexLock w(&catalog_write_mu_);
  rocksdb::WriteBatch batch;
  std::vector<std::pair<size_t, SeriesInfo>> created;
  std::unordered_map<std::string, size_t> in_this_batch;  // encoded key -> index in created
  {
    ReaderLock l(&catalog_mu_);
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
  WriterLock l(&catalog_mu_);
  TenantState* t = tenants_[tenant].get();
  for (auto& [i, info] : created) {
    t->by_key.emplace(encoded[i], info.id);
    t->series.push_back(std::move(info));
  }
  MutexLock listed(&t->listed_mu);
  t->listed.reset();
  return out;
}

Result<SeriesInfo> Engine::GetSeries(TenantId tenant, SeriesId series) const {
  ReaderLock l(&catalog_mu_);
  Result<const SeriesInfo*> info = SeriesLocked(tenant, series);
  if (!info.ok()) return info.status();
  return **info;
}

std::shared_ptr<const std::vector<SeriesInfo>> Engine::SeriesSnapshot(TenantId tenant) const {
  ReaderLock l(&catalog_mu_);
  const TenantState* t = Tenant(tenant);
  if (!t) return std::make_shared<const std::vector<SeriesInfo>>();
  MutexLock listed(&t->listed_mu);
  if (!t->listed) t->listed = std::make_shared<const std::vector<SeriesInfo>>(t->series);
  return t->listed;
}

}  // namespace foresight::storage
