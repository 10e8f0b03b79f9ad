#include "storage/backup.h"

#include "storage/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace foresight::storage {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "foresight-";
constexpr std::string_view kPartialPrefix = ".partial-foresight-";
constexpr std::string_view kTenantInfix = "-tenant-";

// foresight-YYYYMMDDTHHMMSS.mmmZ: fixed width, so names sort in time order.
std::string BackupName(int64_t ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{}{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z", kPrefix, tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (ns / 1'000'000) % 1000);
}

// The time in a backup's name, or nullopt for a name that is not one; `tenant` gets the tenant
// of an export.
std::optional<int64_t> BackupTime(std::string_view name, std::string* tenant) {
  constexpr size_t kTimeChars = 20;  // YYYYMMDDTHHMMSS.mmmZ
  if (!name.starts_with(kPrefix) || name.size() < kPrefix.size() + kTimeChars) return std::nullopt;
  std::string_view rest_of_name = name.substr(kPrefix.size() + kTimeChars);
  if (!rest_of_name.empty()) {
    if (!rest_of_name.starts_with(kTenantInfix) || rest_of_name.size() == kTenantInfix.size()) {
      return std::nullopt;
    }
    *tenant = std::string(rest_of_name.substr(kTenantInfix.size()));
  }
  std::tm tm{};
  int ms = 0;
  char z = 0;
  const std::string rest(name.substr(kPrefix.size(), kTimeChars));
  if (std::sscanf(rest.c_str(), "%4d%2d%2dT%2d%2d%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 ||
      z != 'Z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000 + int64_t{ms} * 1'000'000;
}

uint64_t TreeBytes(const fs::path& dir) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += it->file_size(ec);
  }
  return bytes;
}

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Backups::Backups(Storage* storage, BackupOptions options)
    : storage_(storage), options_(std::move(options)) {
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(kPartialPrefix)) {
      log::Warn("backup: removing {}, left by an interrupted backup", it->path().string());
      fs::remove_all(it->path(), ec);
    }
  }
  size_t whole = 0;
  for (const BackupInfo& b : List()) whole += b.tenant.empty();
  {
    MutexLock l(&mu_);
    stats_.kept = whole;
  }
  if (options_.every.count() > 0) scheduler_ = std::thread([this] { Schedule(); });
}

Backups::~Backups() {
  {
    MutexLock l(&mu_);
    stopping_ = true;
  }
  wake_.NotifyAll();
  if (scheduler_.joinable()) scheduler_.join();
}

std::vector<BackupInfo> Backups::List() const {
  std::vector<BackupInfo> out;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::string tenant;
    std::optional<int64_t> time = BackupTime(name, &tenant);
    if (!time || !it->is_directory(ec)) continue;
    out.push_back({it->path().string(), std::move(tenant), *time, TreeBytes(it->path())});
  }
  std::sort(out.begin(), out.end(),
            [](const BackupInfo& a, const BackupInfo& b) { return a.path > b.path; });
  return out;
}

BackupStats Backups::stats() const {
  MutexLock l(&mu_);
  return stats_;
}

Result<BackupInfo> Backups::Take() {
  return TakeInto({}, [this](const std::string& partial) {
    Status s = storage_->Checkpoint(partial);
    for (const std::string& file : options_.extra_files) {
      std::error_code ec;
      if (!s.ok() || !fs::exists(file, ec)) continue;
      fs::copy_file(file, fs::path(partial) / fs::path(file).filename(), ec);
      if (ec) s = Status::IOError("cannot copy '" + file + "': " + ec.message());
    }
    return s;
  });
}

Result<BackupInfo> Backups::TakeTenant(std::string_view tenant) {
  Result<TenantId> id = storage_->FindTenant(tenant);
  if (!id.ok()) return id.status();
  return TakeInto(tenant, [this, id = *id](const std::string& partial) {
    return storage_->ExportTenant(id, partial);
  });
}

Result<BackupInfo> Backups::TakeInto(
    std::string_view tenant, const std::function<Status(const std::string& partial)>& write) {
  MutexLock one_at_a_time(&take_mu_);
  const auto started = std::chrono::steady_clock::now();
  // Names have millisecond precision, and a second backup within the same one takes the next.
  int64_t now = WallNs() / 1'000'000 * 1'000'000;
  if (std::vector<BackupInfo> newest = List(); !newest.empty() && now <= newest.front().time_ns) {
    now = newest.front().time_ns + 1'000'000;
  }
  std::string name = BackupName(now);
  if (!tenant.empty()) name += std::string(kTenantInfix) + std::string(tenant);
  const fs::path dir(options_.dir);
  const fs::path partial = dir / (std::string(kPartialPrefix) + name.substr(kPrefix.size()));
  const fs::path final_path = dir / name;
  auto fail = [&](Status s) -> Result<BackupInfo> {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    log::Warn("backup into {} failed: {}", final_path.string(), s.ToString());
    MutexLock l(&mu_);
    ++stats_.failed;
    stats_.last_error = s.ToString();
    return s;
  };
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Status::IOError("cannot create '" + dir.string() + "': " + ec.message()));
  if (Status s = write(partial.string()); !s.ok()) return fail(s);
  fs::rename(partial, final_path, ec);
  if (ec) return fail(Status::IOError("cannot rename the backup: " + ec.message()));

  BackupInfo info{final_path.string(), std::string(tenant), now, TreeBytes(final_path)};
  const size_t keep = static_cast<size_t>(std::max(options_.keep, 1));
  size_t whole = 0;
  for (const BackupInfo& b : List()) {
    if (!b.tenant.empty() || ++whole <= keep) continue;
    fs::remove_all(b.path, ec);
    if (ec) log::Warn("backup: cannot delete the old backup {}: {}", b.path, ec.message());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  log::Info("backup: {} ({:.1f} MiB) in {:.2f} s", info.path,
            static_cast<double>(info.bytes) / (1 << 20), seconds);
  MutexLock l(&mu_);
  ++stats_.taken;
  stats_.last_success_ns = now;
  stats_.last_seconds = seconds;
  stats_.last_bytes = info.bytes;
  stats_.last_error.clear();
  stats_.kept = std::min(whole, keep);
  return info;
}

// Due `every` after the newest backup, so restarts neither skip nor repeat one; after a failure,
// again within a minute (or `every`, when shorter), not only a whole period later.
void Backups::Schedule() {
  const std::vector<BackupInfo> existing = List();
  int64_t due = (existing.empty() ? WallNs() : existing.front().time_ns) +
                std::chrono::nanoseconds(options_.every).count();
  MutexLock l(&mu_);
  while (!stopping_) {
    const int64_t wait = due - WallNs();
    if (wait > 0) {
      wake_.WaitFor(&mu_, std::chrono::nanoseconds(wait));
      continue;
    }
    l.Unlock();
    const bool ok = Take().ok();
    const auto retry = std::min<std::chrono::nanoseconds>(options_.every, std::chrono::minutes(1));
    due = WallNs() + (ok ? std::chrono::nanoseconds(options_.every) : retry).count();
    l.Lock();
  }
}

}  // namespace foresight::storage
