// A child process appends acknowledged batches while the parent kills it with SIGKILL at
// random moments; after every kill, every acknowledged point must be present exactly once.
#include "storage/storage.h"
#include "tests/storage/test_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace foresight::storage {
namespace {

constexpr int kSeries = 8;
constexpr int kPointsPerSeries = 25;  // per batch
constexpr int64_t kSec = 1'000'000'000;

// Batch b writes, for each series, points at distinct timestamps derived from b, with value b.
std::vector<Sample> MakeBatch(int64_t b, const std::vector<SeriesId>& series) {
  std::vector<Sample> samples;
  for (SeriesId s : series) {
    for (int i = 0; i < kPointsPerSeries; ++i) {
      int64_t ts = (b * kPointsPerSeries + i) * kSec;
      // A few batches rewrite an older timestamp: last write must still win after recovery.
      if (i == 0 && b % 7 == 3) ts = (b - 3) * kPointsPerSeries * kSec;
      samples.push_back({s, ts, Value::Float(static_cast<double>(b))});
    }
  }
  return samples;
}

std::vector<SeriesId> ResolveAll(Storage* db, TenantId tenant) {
  std::vector<SeriesSpec> specs;
  for (int s = 0; s < kSeries; ++s) {
    specs.push_back({{"m", {{"asset_id", "a" + std::to_string(s)}}, "v"}, ValueType::kFloat});
  }
  std::vector<SeriesId> ids;
  auto resolved = db->ResolveSeries(tenant, specs);
  if (!resolved.ok()) return ids;
  for (auto& r : *resolved) ids.push_back(r.ok() ? *r : kInvalidSeriesId);
  return ids;
}

// Runs `child(fd)` in a forked process (it must _exit); returns its pid and the read end of a
// pipe whose write end the child got as fd.
template <typename Child>
std::pair<pid_t, int> ForkWithPipe(Child child) {
  int fds[2];
  if (pipe(fds) != 0) return {-1, -1};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    child(fds[1]);
    _exit(99);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

Options CrashOptions(FsyncPolicy policy) {
  Options options;
  options.fsync = policy;
  options.head_flush_bytes = 48 << 10;  // flushes, seals and log truncation all the time
  return options;
}

// Child: append batches from `first` on; after each acknowledgement write its number.
[[noreturn]] void RunWriter(const std::string& path, FsyncPolicy policy, int64_t first, int fd) {
  auto db = Storage::Open(path, CrashOptions(policy));
  if (!db.ok()) _exit(10);
  auto tenant = (*db)->CreateTenant("crash");
  if (!tenant.ok()) _exit(11);
  std::vector<SeriesId> series = ResolveAll(db->get(), *tenant);
  for (int64_t b = first;; ++b) {
    if (!(*db)->Append(*tenant, MakeBatch(b, series)).ok()) _exit(12);
    if (write(fd, &b, sizeof b) != sizeof b) _exit(13);
  }
}

void CheckEveryAcknowledgedPointOnce(const std::string& path, int64_t acked_through,
                                     int64_t* resume_from) {
  auto db = Storage::Open(path, CrashOptions(FsyncPolicy::kNever));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  TenantId tenant = *(*db)->CreateTenant("crash");
  std::vector<SeriesId> series = ResolveAll(db->get(), tenant);
  // Batches after acked_through may or may not be there (in flight at the kill).
  for (SeriesId s : series) {
    Points p = *(*db)->ReadRaw(tenant, s, INT64_MIN, INT64_MAX);
    std::set<int64_t> seen;
    for (size_t i = 0; i < p.size(); ++i) {
      ASSERT_TRUE(seen.insert(p.ts_ns[i]).second) << "duplicate timestamp " << p.ts_ns[i];
    }
    for (int64_t b = 0; b <= acked_through; ++b) {
      for (int i = 0; i < kPointsPerSeries; ++i) {
        if (i == 0 && b % 7 == 3) continue;
        int64_t ts = (b * kPointsPerSeries + i) * kSec;
        auto it = std::lower_bound(p.ts_ns.begin(), p.ts_ns.end(), ts);
        ASSERT_TRUE(it != p.ts_ns.end() && *it == ts)
            << "acknowledged batch " << b << " lost point " << i << " of series " << s;
        double v = p.AsDouble(it - p.ts_ns.begin());
        // Batch b + 3 rewrites point 0 of batch b when (b + 3) % 7 == 3: once that rewrite is
        // acknowledged it must win; while it may be in flight either value is right.
        bool rewritten = i == 0 && (b + 3) % 7 == 3;
        if (rewritten && b + 3 <= acked_through) {
          ASSERT_EQ(v, b + 3) << "batch " << b << ": an acknowledged rewrite was lost";
        } else if (rewritten) {
          ASSERT_TRUE(v == b || v == b + 3) << "batch " << b << " holds " << v;
        } else {
          ASSERT_EQ(v, b) << "batch " << b << " point " << i;
        }
      }
    }
  }
  // Resume after the last batch stored, so batch numbers never repeat with other contents.
  *resume_from = acked_through + 1;
  Points p = *(*db)->ReadRaw(tenant, series[0], INT64_MIN, INT64_MAX);
  if (p.size() > 0) {
    *resume_from = std::max(*resume_from, p.ts_ns.back() / kSec / kPointsPerSeries + 1);
  }
}

void RunCrashes(FsyncPolicy policy, int kills) {
  testing::TempDir dir;
  std::string path = dir.Sub("db");
  std::mt19937_64 rng(static_cast<uint64_t>(policy) * 1000 + 17);
  int64_t next = 0, acked_through = -1;
  for (int k = 0; k < kills; ++k) {
    auto [pid, fd] = ForkWithPipe([&](int out) { RunWriter(path, policy, next, out); });
    ASSERT_GE(pid, 0);
    // Kill after a random number of acknowledgements: no sleeping, no timing assumptions.
    int64_t wait_for = 1 + static_cast<int64_t>(rng() % 250);
    int64_t b = -1;
    for (int64_t got = 0; got < wait_for;) {
      ssize_t n = read(fd, &b, sizeof b);
      if (n != sizeof b) break;
      acked_through = b;
      ++got;
    }
    kill(pid, SIGKILL);
    // Acknowledgements already in the pipe were acknowledged before the kill.
    while (read(fd, &b, sizeof b) == sizeof b) acked_through = b;
    close(fd);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited by itself with " << WEXITSTATUS(status);
    CheckEveryAcknowledgedPointOnce(path, acked_through, &next);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// A write that fails (here the WAL cannot grow past RLIMIT_FSIZE: a real I/O error, not a mock)
// stops every later acknowledgement until the directory is reopened, and loses nothing that was
// acknowledged before it.
TEST(WriteFailure, StopsEveryLaterAcknowledgementAndKeepsWhatWasAcknowledged) {
  testing::TempDir dir;
  std::string path = dir.Sub("db");
  auto [pid, fd] = ForkWithPipe([&](int out) {
    signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write(2) instead of a signal
    Options options = CrashOptions(FsyncPolicy::kAlways);
    options.head_flush_bytes = 64u << 20;  // the log, not a flush, hits the limit
    auto db = Storage::Open(path, options);
    if (!db.ok()) _exit(10);
    TenantId tenant = *(*db)->CreateTenant("crash");
    std::vector<SeriesId> series = ResolveAll(db->get(), tenant);
    rlimit limit{4u << 20, 4u << 20};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(11);
    int64_t b = 0;
    for (; b < 100000; ++b) {
      if (!(*db)->Append(tenant, MakeBatch(b, series)).ok()) break;
      if (write(out, &b, sizeof b) != sizeof b) _exit(12);
    }
    if (b == 100000) _exit(13);  // the limit never bit
    // Sticky: nothing is acknowledged any more, however small, and health says why.
    std::vector<Sample> tiny = {{series[0], 1, Value::Float(1)}};
    for (int i = 0; i < 3; ++i) {
      if ((*db)->Append(tenant, tiny).ok()) _exit(14);
    }
    if ((*db)->Health().ok()) _exit(15);
    _exit(0);
  });
  ASSERT_GE(pid, 0);
  int64_t b = -1, acked_through = -1;
  while (read(fd, &b, sizeof b) == sizeof b) acked_through = b;
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "see the _exit codes in the child above";
  ASSERT_GT(acked_through, 10) << "the limit bit before any real work";
  int64_t ignored;
  CheckEveryAcknowledgedPointOnce(path, acked_through, &ignored);
}

// A corrupt record in the middle of the WAL must stop the open with an error naming it, never
// open with the acknowledged records after it silently gone.
TEST(WalRecovery, RefusesToOpenOverACorruptRecordInsteadOfDroppingWhatFollows) {
  testing::TempDir dir;
  std::string path = dir.Sub("db");
  auto [pid, fd] = ForkWithPipe([&](int out) { RunWriter(path, FsyncPolicy::kAlways, 0, out); });
  ASSERT_GE(pid, 0);
  int64_t b = -1;
  for (int got = 0; got < 200 && read(fd, &b, sizeof b) == sizeof b; ++got) {
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(fd);

  std::string wal;
  uintmax_t largest = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".log" && entry.file_size() > largest) {
      largest = entry.file_size();
      wal = entry.path().string();
    }
  }
  ASSERT_GT(largest, 64u << 10) << "expected the batches to be in a WAL file";
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(largest / 3));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(largest / 3));
    f.write(&c, 1);
  }
  auto db = Storage::Open(path, CrashOptions(FsyncPolicy::kAlways));
  ASSERT_FALSE(db.ok()) << "opened over a corrupt WAL record; what followed it would be lost";
  EXPECT_NE(db.status().ToString().find("orrupt"), std::string::npos) << db.status().ToString();
  EXPECT_NE(db.status().ToString().find(path), std::string::npos) << db.status().ToString();
}

TEST(CrashRecovery, KillNineLosesNoAcknowledgedPointWithFsyncAlways) {
  RunCrashes(FsyncPolicy::kAlways, 25);
}

TEST(CrashRecovery, KillNineLosesNoAcknowledgedPointWithFsyncNever) {
  RunCrashes(FsyncPolicy::kNever, 40);
}

TEST(CrashRecovery, KillNineLosesNoAcknowledgedPointWithFsyncInterval) {
  RunCrashes(FsyncPolicy::kInterval, 25);
}

}  // namespace
}  // namespace foresight::storage
