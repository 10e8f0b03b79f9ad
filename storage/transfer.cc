// Moving one tenant between data directories: ExportTenant writes its key range as of one
// snapshot into SST files, ImportTenant writes those keys back under the id the tenant gets in
// the target. Every key starts with the tenant id (FORMAT.md), so a move rewrites that prefix
// and, for the unsealed-point log, gives the records sequence numbers after the target's own.
#include "storage/engine.h"
#include "storage/json.h"
#include "storage/log.h"

#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>

#include <filesystem>
#include <fstream>

namespace foresight::storage {
namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = "tenant.json";
constexpr size_t kImportChunkBytes = 16u << 20;

std::string SstName(int cf) { return std::string(kCfNames[cf]) + ".sst"; }

}  // namespace

Status Engine::ExportTenant(TenantId tenant, const std::string& dir) {
  std::string name;
  {
    ReaderLock l(&catalog_mu_);
    if (tenant == kSystemTenant || tenant >= tenants_.size() || !tenants_[tenant]) {
      return Status::NotFound("unknown tenant " + std::to_string(tenant));
    }
    name = tenants_[tenant]->name;
  }
  std::error_code ec;
  if (fs::exists(dir, ec)) return Status::AlreadyExists("export target '" + dir + "' exists");
  const std::string partial = dir + ".partial";
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) return Status::IOError("cannot create '" + partial + "': " + ec.message());
  auto fail = [&](Status s) {
    fs::remove_all(partial, ec);
    return s;
  };

  // One snapshot for every column family: a flush seals points and truncates the log in one
  // write, so the copy holds each point exactly once, sealed or not.
  std::shared_ptr<const rocksdb::Snapshot> snapshot(
      db_->GetSnapshot(), [this](const rocksdb::Snapshot* s) { db_->ReleaseSnapshot(s); });
  const std::string lower = TenantPrefix(tenant), upper = TenantPrefix(tenant + 1);
  const rocksdb::Slice upper_slice(upper);
  boost::json::object keys;
  for (int cf = 0; cf < kCfCount; ++cf) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot.get();
    ro.iterate_upper_bound = &upper_slice;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[cf]));
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions{}, rocksdb::Options{});
    uint64_t count = 0;
    for (it->Seek(lower); it->Valid(); it->Next()) {
      if (count == 0) {
        Status s = FromRocks(writer.Open((fs::path(partial) / SstName(cf)).string()), "export");
        if (!s.ok()) return fail(s);
      }
      Status s = FromRocks(writer.Put(it->key(), it->value()), "export");
      if (!s.ok()) return fail(s);
      ++count;
    }
    if (Status s = FromRocks(it->status(), "export scan"); !s.ok()) return fail(s);
    if (count > 0) {
      if (Status s = FromRocks(writer.Finish(), "export"); !s.ok()) return fail(s);
    }
    keys[kCfNames[cf]] = count;
  }
  {
    std::ofstream manifest(fs::path(partial) / kManifest);
    manifest << JsonText(boost::json::object{{"tenant", name},
                                             {"format_version", kFormatVersion},
                                             {"exported_at", FormatRfc3339(clock_.NowNs())},
                                             {"keys", keys}})
             << "\n";
    if (!manifest.flush()) return fail(Status::IOError("cannot write " + partial + "/tenant.json"));
  }
  fs::rename(partial, dir, ec);
  if (ec) return fail(Status::IOError("cannot rename '" + partial + "': " + ec.message()));
  log::Info("storage: exported tenant {} into {}", name, dir);
  return Status::OK();
}

Status Engine::Import(const std::string& export_dir, const std::string& name,
                      const std::array<uint64_t, kCfCount>& keys) {
  MutexLock w(&catalog_write_mu_);
  TenantId id;
  {
    ReaderLock l(&catalog_mu_);
    if (tenant_by_name_.count(name)) {
      return Status::AlreadyExists("tenant '" + name + "' already exists in '" + path_ + "'");
    }
    id = static_cast<TenantId>(std::max<size_t>(tenants_.size(), 1));
  }
  // Keys under the new id without a name are what an import that failed part way left: they
  // belong to no tenant yet, so they go before anything is written.
  rocksdb::WriteBatch batch;
  for (int cf = 0; cf < kCfCount; ++cf) {
    Status s = FromRocks(batch.DeleteRange(cfs_[cf], TenantPrefix(id), TenantPrefix(id + 1)),
                         "import cleanup");
    if (!s.ok()) return s;
  }
  uint64_t seq;
  {
    MutexLock l(&write_mu_);
    seq = next_seq_;
  }
  std::optional<TenantId> source;
  for (int cf = 0; cf < kCfCount; ++cf) {
    const fs::path file = fs::path(export_dir) / SstName(cf);
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      if (keys[cf] == 0) continue;
      return Status::Corruption("export '" + export_dir + "' lacks " + file.filename().string());
    }
    rocksdb::SstFileReader reader(rocksdb::Options{});
    if (Status s = FromRocks(reader.Open(file.string()), "import " + file.string()); !s.ok()) {
      return s;
    }
    rocksdb::ReadOptions ro;
    ro.verify_checksums = true;
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(ro));
    uint64_t count = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++count) {
      const rocksdb::Slice key = it->key();
      if (key.size() < 4 || (cf == kLog && key.size() != 12)) {
        return Status::Corruption(file.string() + ": a key of " + std::to_string(key.size()) +
                                  " bytes");
      }
      const TenantId owner = DecodeFixed32BE(key.data());
      if (!source) source = owner;
      if (owner != *source) {
        return Status::Corruption(file.string() + ": keys of two tenants");
      }
      std::string moved = cf == kLog
                              ? LogKey(id, seq++)
                              : TenantPrefix(id) + std::string(key.data() + 4, key.size() - 4);
      Status s = FromRocks(batch.Put(cfs_[cf], moved, it->value()), "import");
      if (s.ok() && batch.GetDataSize() >= kImportChunkBytes) {
        s = Write(SyncedWrite(), &batch, "import write");
        batch.Clear();
      }
      if (!s.ok()) return s;
    }
    if (Status s = FromRocks(it->status(), "import " + file.string()); !s.ok()) return s;
    if (count != keys[cf]) {
      return Status::Corruption(file.string() + " holds " + std::to_string(count) +
                                " keys; tenant.json says " + std::to_string(keys[cf]));
    }
  }
  if (Status s = Write(SyncedWrite(), &batch, "import write"); !s.ok()) return s;
  {
    MutexLock l(&write_mu_);
    next_seq_ = seq;
  }
  // The name last: until it is written, the keys belong to no tenant.
  std::string value;
  PutFixed32BE(&value, id);
  batch.Clear();
  Status s = FromRocks(
      batch.Put(cfs_[kCatalog], CatalogKey(kSystemTenant, kTenantTag, name), value), "import");
  if (s.ok()) s = Write(SyncedWrite(), &batch, "import name");
  return s;
}

Result<std::string> Storage::ImportTenant(const std::string& export_dir,
                                          const std::string& data_dir, const Options& options) {
  std::ifstream in(fs::path(export_dir) / kManifest);
  if (!in) {
    return Status::NotFound("'" + export_dir + "' is not a tenant export (no " + kManifest + ")");
  }
  std::stringstream text;
  text << in.rdbuf();
  Result<boost::json::object> manifest = ParseJsonObject(text.str());
  if (!manifest.ok())
    return Status::Corruption(export_dir + "/tenant.json: " + manifest.status().ToString());
  const boost::json::value* name = manifest->if_contains("tenant");
  const boost::json::value* version = manifest->if_contains("format_version");
  const boost::json::value* counts = manifest->if_contains("keys");
  if (!name || !name->is_string() || !version || !version->is_int64() || !counts ||
      !counts->is_object()) {
    return Status::Corruption(export_dir + "/tenant.json lacks tenant, format_version or keys");
  }
  if (version->as_int64() != kFormatVersion) {
    return Status::FailedPrecondition(
        "the export has format version " + std::to_string(version->as_int64()) +
        "; this binary imports format " + std::to_string(kFormatVersion) +
        ": import it with the release that exported it, then upgrade");
  }
  std::array<uint64_t, kCfCount> keys{};
  for (int cf = 0; cf < kCfCount; ++cf) {
    const boost::json::value* n = counts->as_object().if_contains(kCfNames[cf]);
    if (!n || !n->is_int64() || n->as_int64() < 0) {
      return Status::Corruption(export_dir + "/tenant.json: no key count for " + kCfNames[cf]);
    }
    keys[cf] = static_cast<uint64_t>(n->as_int64());
  }
  const std::string tenant(name->as_string());
  {
    Engine engine(data_dir, options);
    Status s = engine.Open();
    if (s.ok()) s = engine.Import(export_dir, tenant, keys);
    Status closed = engine.Close();
    if (!s.ok()) return s;
    if (!closed.ok()) return closed;
  }
  // Reopened, the catalog loads the tenant and the log replays its unsealed points.
  Engine check(data_dir, options);
  Status s = check.Open();
  if (s.ok() && !check.FindTenant(tenant).ok()) {
    s = Status::Corruption("the imported tenant '" + tenant + "' does not open");
  }
  Status closed = check.Close();
  if (!s.ok()) return s;
  if (!closed.ok()) return closed;
  log::Info("storage: imported tenant {} from {} into {}", tenant, export_dir, data_dir);
  return tenant;
}

}  // namespace foresight::storage
