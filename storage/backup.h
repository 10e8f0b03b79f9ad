// Online backups of a data directory: consistent RocksDB checkpoints (Storage::Checkpoint) taken
// while writes continue, each in its own directory named by its UTC time, the newest `keep`
// kept, restored with Storage::Restore (`foresight restore`); and exports of a single tenant
// (Storage::ExportTenant) beside them, named by time and tenant, imported with
// Storage::ImportTenant (`foresight tenant import`) and never pruned.
//
// Thread safety: every method may be called from any thread; one backup is taken at a time.
#pragma once

#include "storage/storage.h"
#include "storage/sync.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace foresight::storage {

struct BackupOptions {
  std::string dir;  // created if missing
  // Take one this long after the newest backup in `dir` (or after start when there is none);
  // zero: only on request.
  std::chrono::seconds every{0};
  int keep = 7;  // the newest this many stay; older ones are deleted after a backup succeeds
  // Files copied into each backup beside the checkpoint (the JWT key, so signed-in clients
  // survive a restore); one that does not exist is skipped.
  std::vector<std::string> extra_files = {};
};

struct BackupInfo {
  // <dir>/foresight-YYYYMMDDTHHMMSS.mmmZ, or for one tenant's export ...Z-tenant-<name>
  std::string path;
  std::string tenant;   // empty: the whole data directory
  int64_t time_ns = 0;  // when it was taken (from the name)
  uint64_t bytes = 0;   // its files' sizes (files hard-linked from the data directory count)
};

struct BackupStats {
  uint64_t taken = 0;
  uint64_t failed = 0;
  int64_t last_success_ns = 0;  // 0: none since start
  double last_seconds = 0;      // duration of the last successful one
  uint64_t last_bytes = 0;
  std::string last_error;  // empty once a backup succeeds
  size_t kept = 0;         // backups in the directory
};

class Backups {
 public:
  // Removes what an interrupted backup left in `options.dir` and starts the schedule when
  // `options.every` is set. `storage` must outlive this object.
  Backups(Storage* storage, BackupOptions options);
  // Stops the schedule; a backup in progress finishes first.
  ~Backups();
  Backups(const Backups&) = delete;
  Backups& operator=(const Backups&) = delete;

  // Takes one now: a checkpoint into a hidden directory, the extra files beside it, then a
  // rename, so a directory named like a backup is always a whole one. Then prunes to `keep`.
  Result<BackupInfo> Take();
  // Exports one tenant now (Storage::ExportTenant) into the directory; NotFound for a tenant
  // that does not exist.
  Result<BackupInfo> TakeTenant(std::string_view tenant);
  // The backups and tenant exports in the directory, newest first. Only directories named like
  // one count.
  std::vector<BackupInfo> List() const;
  BackupStats stats() const;
  const BackupOptions& options() const { return options_; }

 private:
  void Schedule();
  // Take and TakeTenant: `write` fills the hidden directory it is given.
  Result<BackupInfo> TakeInto(std::string_view tenant,
                              const std::function<Status(const std::string& partial)>& write);

  Storage* const storage_;
  const BackupOptions options_;
  Mutex take_mu_;  // one backup at a time
  mutable Mutex mu_;
  BackupStats stats_ FORESIGHT_GUARDED_BY(mu_);
  bool stopping_ FORESIGHT_GUARDED_BY(mu_) = false;
  CondVar wake_;
  std::thread scheduler_;
};

}  // namespace foresight::storage
