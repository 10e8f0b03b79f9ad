// The on-disk format version (kFormatVersion, catalog key [0]['V']): a new directory is stamped
// with it, a newer one is refused before anything is written, and an older one is upgraded in
// place after a checkpoint of it is taken, so an upgrade that goes wrong can be undone by hand.
#include "storage/engine.h"
#include "storage/log.h"

namespace foresight::storage {

namespace {

std::string VersionValue(uint32_t version) {
  std::string value;
  PutFixed32BE(&value, version);
  return value;
}

}  // namespace

Status Engine::CheckFormat() {
  const std::string key = CatalogKey(kSystemTenant, kFormatTag);
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), cfs_[kCatalog], key, &value);
  if (rs.ok()) {
    if (value.size() != 4) return Status::Corruption("catalog: bad format version record");
    const uint32_t version = DecodeFixed32BE(value.data());
    if (version > kFormatVersion) {
      return Status::FailedPrecondition(
          "data directory '" + path_ + "' has format version " + std::to_string(version) +
          ", newer than this binary's " + std::to_string(kFormatVersion) +
          ": run the release that wrote it (or a newer one), or restore a backup taken before "
          "the upgrade");
    }
    if (version == kFormatVersion) return Status::OK();
    return Status::Corruption("catalog: format version " + std::to_string(version) +
                              " is older than 2 but carries a version");
  }
  if (!rs.IsNotFound()) return FromRocks(rs, "read the format version");

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kCatalog]));
  it->SeekToFirst();
  if (!it->status().ok()) return FromRocks(it->status(), "catalog scan");
  rocksdb::WriteBatch batch;
  Status s = FromRocks(batch.Put(cfs_[kCatalog], key, VersionValue(kFormatVersion)), "version");
  if (!s.ok()) return s;
  if (!it->Valid()) return Write(CatalogWrite(), &batch, "stamp the format version");

  // Format 1. Its unset retention kept a tier for ever; from 2 it follows the defaults, so each
  // tenant's unset tiers become kKeepForever: the upgrade expires nothing.
  std::string stamp = FormatRfc3339(clock_.NowNs() / kSecondNs * kSecondNs);  // ...T13:07:19Z
  std::erase_if(stamp, [](char c) { return c == '-' || c == ':'; });
  const std::string backup = path_ + "/pre-upgrade-format-1-" + stamp;
  s = Checkpoint(backup);
  if (!s.ok()) return Status::IOError("before upgrading format 1: " + s.ToString());
  log::Warn(
      "storage: upgrading data directory '{}' from format 1 to {}; its state before is kept "
      "in '{}' (delete it once this release has proved itself)",
      path_, kFormatVersion, backup);
  const std::string tenant_prefix = CatalogKey(kSystemTenant, kTenantTag);
  size_t tenants = 0;
  for (it->Seek(tenant_prefix); it->Valid() && it->key().starts_with(tenant_prefix); it->Next()) {
    if (it->value().size() != 4) return Status::Corruption("catalog: bad tenant record");
    const std::string retention_key =
        CatalogKey(DecodeFixed32BE(it->value().data()), kRetentionTag);
    Retention retention;
    rs = db_->Get(rocksdb::ReadOptions(), cfs_[kCatalog], retention_key, &value);
    if (rs.ok() && !DecodeRetention(value, &retention)) {
      return Status::Corruption("catalog: retention");
    }
    if (!rs.ok() && !rs.IsNotFound()) return FromRocks(rs, "catalog read");
    for (auto* keep : {&retention.raw, &retention.minute, &retention.hour, &retention.day}) {
      if (!*keep) *keep = kKeepForever;
    }
    s = FromRocks(batch.Put(cfs_[kCatalog], retention_key, EncodeRetention(retention)), "upgrade");
    if (!s.ok()) return s;
    ++tenants;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "catalog scan");
  s = Write(CatalogWrite(), &batch, "upgrade to format 2");
  if (!s.ok()) return s;
  log::Warn(
      "storage: format {} now; {} tenants keep every tier for ever as before, unless their "
      "settings said otherwise (a tier set to follow the defaults takes [retention]'s)",
      kFormatVersion, tenants);
  return Status::OK();
}

}  // namespace foresight::storage
