// Storage behaviour that needs other processes: kill -9 at random moments, a real write failure,
// a corrupt WAL, a data directory locked by another process or not writable by its user.
//
// Children are this same binary re-executed in a role (see main): after fork() only dup2 and
// execv run, so a child never inherits the parent's threads, locks or RocksDB state. (Continuing
// after fork() in a process that has RocksDB's background threads can deadlock, and TSan
// refuses it.) A child reports acknowledgements on fd 3 and may be released through fd 4.
#include "storage/storage.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace foresight::storage {
namespace {

constexpr int kSeries = 8;
constexpr int kPointsPerSeries = 25;  // per batch
constexpr int64_t kSec = 1'000'000'000;
constexpr int kAckFd = 3, kReleaseFd = 4;

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

Options CrashOptions(FsyncPolicy policy) {
  Options options;
  options.fsync = policy;
  options.head_flush_bytes = 48 << 10;  // flushes, seals and log truncation all the time
  return options;
}

// --- Child roles (run in a fresh process by main) ---------------------------------------------

// Appends batches from `first` on; after each acknowledgement writes its number to fd 3.
int AppendAndAcknowledge(Storage* db, TenantId tenant, int64_t first) {
  std::vector<SeriesId> series = ResolveAll(db, tenant);
  for (int64_t b = first;; ++b) {
    if (!db->Append(tenant, MakeBatch(b, series)).ok()) return 12;
    if (write(kAckFd, &b, sizeof b) != sizeof b) return 13;
  }
}

int WriterRole(const std::string& path, FsyncPolicy policy, int64_t first) {
  auto db = Storage::Open(path, CrashOptions(policy));
  if (!db.ok()) return 10;
  auto tenant = (*db)->CreateTenant("crash");
  if (!tenant.ok()) return 11;
  return AppendAndAcknowledge(db->get(), *tenant, first);
}

// The writer of a crash loop: heads large enough that no size seal comes between crashes. Says
// on fd 3 how many points its start replayed, waits for the seal of those that Open starts on
// its own (so a kill now cannot land before it), then appends and acknowledges like WriterRole.
int RestartingWriterRole(const std::string& path, int64_t first) {
  Options options = CrashOptions(FsyncPolicy::kAlways);
  options.head_flush_bytes = 64u << 20;
  auto db = Storage::Open(path, options);
  if (!db.ok()) return 10;
  const Stats opened = (*db)->GetStats();
  const int64_t replayed = static_cast<int64_t>(opened.replayed_points);
  if (write(kAckFd, &replayed, sizeof replayed) != sizeof replayed) return 13;
  // Bounded, so an engine that never seals fails the test instead of hanging it.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (replayed > 0 && (*db)->GetStats().flushes == opened.flushes) {
    if (std::chrono::steady_clock::now() > give_up) _exit(14);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto tenant = (*db)->CreateTenant("crash");
  if (!tenant.ok()) return 11;
  return AppendAndAcknowledge(db->get(), *tenant, first);
}

// Appends until the WAL hits RLIMIT_FSIZE, then checks that nothing more is acknowledged.
int FileSizeLimitRole(const std::string& path) {
  signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write(2) instead of a signal
  Options options = CrashOptions(FsyncPolicy::kAlways);
  options.head_flush_bytes = 64u << 20;  // the log, not a flush, hits the limit
  auto db = Storage::Open(path, options);
  if (!db.ok()) return 10;
  TenantId tenant = *(*db)->CreateTenant("crash");
  std::vector<SeriesId> series = ResolveAll(db->get(), tenant);
  rlimit limit{4u << 20, 4u << 20};
  if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 11;
  int64_t b = 0;
  for (; b < 100000; ++b) {
    if (!(*db)->Append(tenant, MakeBatch(b, series)).ok()) break;
    if (write(kAckFd, &b, sizeof b) != sizeof b) return 12;
  }
  if (b == 100000) return 13;  // the limit never bit
  // Sticky: nothing is acknowledged any more, however small, and health says why.
  std::vector<Sample> tiny = {{series[0], 1, Value::Float(1)}};
  for (int i = 0; i < 3; ++i) {
    if ((*db)->Append(tenant, tiny).ok()) return 14;
  }
  if ((*db)->Health().ok()) return 15;
  _exit(0);  // skip the destructor: the engine must not be trusted to close cleanly
}

// Opens as an unprivileged user (root ignores permission bits) and expects a clear refusal.
int ReadOnlyRole(const std::string& path) {
  if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 2;
  auto db = Storage::Open(path, Options());
  if (db.ok()) return 3;
  std::string message(db.status().message());
  return message.find(path) != std::string::npos &&
                 message.find("not writable") != std::string::npos
             ? 0
             : 4;
}

// Opens the directory, says 'y' on fd 3, and holds it until fd 4 is closed.
int HoldLockRole(const std::string& path) {
  auto db = Storage::Open(path, Options());
  char c = db.ok() ? 'y' : 'n';
  if (write(kAckFd, &c, 1) != 1) return 3;
  while (read(kReleaseFd, &c, 1) > 0) {
  }
  return 0;
}

// --- Spawning ----------------------------------------------------------------------------------

std::string g_self;  // this binary

struct Child {
  pid_t pid = -1;
  int acks = -1;     // read end of the child's fd 3
  int release = -1;  // write end of the child's fd 4
};

Child Spawn(std::vector<std::string> args) {
  // O_CLOEXEC: only the ends dup2'ed to fds 3 and 4 survive execv, so the child holds no write
  // end of its own release pipe and sees EOF when the parent closes it.
  int acks[2], release[2];
  if (pipe2(acks, O_CLOEXEC) != 0 || pipe2(release, O_CLOEXEC) != 0) return {};
  args.insert(args.begin(), g_self);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {  // only async-signal-safe calls until execv
    dup2(acks[1], kAckFd);
    dup2(release[0], kReleaseFd);
    execv(g_self.c_str(), argv.data());
    _exit(127);
  }
  close(acks[1]);
  close(release[0]);
  return {pid, acks[0], release[1]};
}

int ExitCode(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// --- Checks ------------------------------------------------------------------------------------

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
    Child c =
        Spawn({"--role=writer", path, std::string(FsyncPolicyName(policy)), std::to_string(next)});
    ASSERT_GE(c.pid, 0);
    // Kill after a random number of acknowledgements: no sleeping, no timing assumptions.
    int64_t wait_for = 1 + static_cast<int64_t>(rng() % 250);
    int64_t b = -1;
    for (int64_t got = 0; got < wait_for && read(c.acks, &b, sizeof b) == sizeof b; ++got) {
      acked_through = b;
    }
    kill(c.pid, SIGKILL);
    // Acknowledgements already in the pipe were acknowledged before the kill.
    while (read(c.acks, &b, sizeof b) == sizeof b) acked_through = b;
    close(c.acks);
    close(c.release);
    int code = ExitCode(c.pid);
    ASSERT_EQ(code, 128 + SIGKILL) << "writer exited by itself with " << code;
    CheckEveryAcknowledgedPointOnce(path, acked_through, &next);
    if (::testing::Test::HasFatalFailure()) return;
  }
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

// A crash loop with nothing sealing between crashes but what recovery seals itself: each start
// replays what arrived since the previous start (the acknowledged batches, and at most the one
// in flight at the kill), never what earlier starts replayed, and loses nothing acknowledged.
TEST(CrashRecovery, EachStartReplaysOnlyWhatArrivedSinceThePreviousOneHoweverOftenItCrashes) {
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  constexpr int64_t kBatchPoints = kSeries * kPointsPerSeries;
  std::mt19937_64 rng(30);
  int64_t acked_through = -1, acked_before = 0;
  for (int start = 0; start <= 30; ++start) {
    Child c = Spawn({"--role=restarting-writer", path, std::to_string(acked_through + 1)});
    ASSERT_GE(c.pid, 0);
    int64_t replayed = -1;
    ASSERT_EQ(read(c.acks, &replayed, sizeof replayed), sizeof replayed) << "start " << start;
    EXPECT_GE(replayed, acked_before * kBatchPoints) << "start " << start;
    EXPECT_LE(replayed, (acked_before + 1) * kBatchPoints)
        << "start " << start << " replayed points an earlier start replayed";
    const int64_t wait_for = 1 + static_cast<int64_t>(rng() % 100);
    int64_t b = -1, acked = 0;
    for (; acked < wait_for && read(c.acks, &b, sizeof b) == sizeof b; ++acked) acked_through = b;
    kill(c.pid, SIGKILL);
    while (read(c.acks, &b, sizeof b) == sizeof b) {
      acked_through = b;
      ++acked;
    }
    close(c.acks);
    close(c.release);
    ASSERT_EQ(ExitCode(c.pid), 128 + SIGKILL)
        << "start " << start << ": the writer gave up (14: what it replayed was never sealed)";
    acked_before = acked;
  }
  int64_t next = 0;
  CheckEveryAcknowledgedPointOnce(path, acked_through, &next);
}

// A write that fails (here the WAL cannot grow past RLIMIT_FSIZE: a real I/O error, not a mock)
// stops every later acknowledgement until the directory is reopened, and loses nothing that was
// acknowledged before it.
TEST(WriteFailure, StopsEveryLaterAcknowledgementAndKeepsWhatWasAcknowledged) {
  testing::TempDir dir;
  std::string path = dir.Sub("db");
  Child c = Spawn({"--role=file-size-limit", path});
  ASSERT_GE(c.pid, 0);
  close(c.release);
  int64_t b = -1, acked_through = -1;
  while (read(c.acks, &b, sizeof b) == sizeof b) acked_through = b;
  close(c.acks);
  ASSERT_EQ(ExitCode(c.pid), 0) << "see the return codes of FileSizeLimitRole";
  ASSERT_GT(acked_through, 10) << "the limit bit before any real work";
  int64_t ignored;
  CheckEveryAcknowledgedPointOnce(path, acked_through, &ignored);
}

// A corrupt record in the middle of the WAL must stop the open with an error naming it, never
// open with the acknowledged records after it silently gone.
TEST(WalRecovery, RefusesToOpenOverACorruptRecordInsteadOfDroppingWhatFollows) {
  testing::TempDir dir;
  std::string path = dir.Sub("db");
  Child c = Spawn({"--role=writer", path, "always", "0"});
  ASSERT_GE(c.pid, 0);
  int64_t b = -1;
  for (int got = 0; got < 200 && read(c.acks, &b, sizeof b) == sizeof b; ++got) {
  }
  kill(c.pid, SIGKILL);
  ExitCode(c.pid);
  close(c.acks);
  close(c.release);

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
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(largest / 3));
    f.write(&byte, 1);
  }
  auto db = Storage::Open(path, CrashOptions(FsyncPolicy::kAlways));
  ASSERT_FALSE(db.ok()) << "opened over a corrupt WAL record; what followed it would be lost";
  EXPECT_NE(db.status().ToString().find("orrupt"), std::string::npos) << db.status().ToString();
  EXPECT_NE(db.status().ToString().find(path), std::string::npos) << db.status().ToString();
}

// --- Bad data directories: opening fails fast, naming the path and the reason ------------------

Status OpenStatus(const std::string& path, bool create_if_missing = true) {
  Options options;
  options.create_if_missing = create_if_missing;
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<Storage>> db = Storage::Open(path, options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  return db.ok() ? Status::OK() : db.status();
}

void ExpectMentions(const Status& s, const std::string& path, const std::string& reason) {
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find(reason), std::string_view::npos) << s.ToString();
}

TEST(DataDirectory, IsCreatedWhenMissingAndItsParentExists) {
  testing::TempDir dir;
  EXPECT_TRUE(OpenStatus(dir.Sub("data")).ok());
}

TEST(DataDirectory, MissingFailsWhenCreationIsOff) {
  testing::TempDir dir;
  ExpectMentions(OpenStatus(dir.Sub("data"), false), dir.Sub("data"), "does not exist");
}

TEST(DataDirectory, MissingParentFails) {
  testing::TempDir dir;
  ExpectMentions(OpenStatus(dir.Sub("no/such/data")), dir.Sub("no/such/data"), "parent");
}

TEST(DataDirectory, RegularFileFails) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("file")) << "not a database";
  ExpectMentions(OpenStatus(dir.Sub("file")), dir.Sub("file"), "not a directory");
}

TEST(DataDirectory, ReadOnlyDirectoryFails) {
  testing::TempDir dir;
  std::string path = dir.Sub("ro");
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);  // let the unprivileged child reach it
  ASSERT_EQ(mkdir(path.c_str(), 0555), 0);
  Child c = Spawn({"--role=read-only", path});
  ASSERT_GE(c.pid, 0);
  close(c.acks);
  close(c.release);
  EXPECT_EQ(ExitCode(c.pid), 0) << "a read-only directory opened, or the error was unclear";
}

TEST(DataDirectory, LockedByAnotherProcessFails) {
  testing::TempDir dir;
  std::string path = dir.Sub("data");
  Child c = Spawn({"--role=hold-lock", path});
  ASSERT_GE(c.pid, 0);
  char ready = 0;
  ASSERT_EQ(read(c.acks, &ready, 1), 1);
  ASSERT_EQ(ready, 'y');
  Status s = OpenStatus(path);
  ExpectMentions(s, path, "locked by another process");
  EXPECT_EQ(s.code(), Status::Code::kBusy);
  close(c.release);
  close(c.acks);
  EXPECT_EQ(ExitCode(c.pid), 0);
  EXPECT_TRUE(OpenStatus(path).ok()) << "the lock must go with its process";
}

}  // namespace

// Runs a child role when re-executed by Spawn; returns -1 when argv names none.
int RunRole(int argc, char** argv) {
  if (argc < 3) return -1;
  std::string role = argv[1], path = argv[2];
  if (role == "--role=writer" && argc == 5) {
    Result<FsyncPolicy> policy = ParseFsyncPolicy(argv[3]);
    return policy.ok() ? WriterRole(path, *policy, std::stoll(argv[4])) : 2;
  }
  if (role == "--role=restarting-writer" && argc == 4) {
    return RestartingWriterRole(path, std::stoll(argv[3]));
  }
  if (role == "--role=file-size-limit") return FileSizeLimitRole(path);
  if (role == "--role=read-only") return ReadOnlyRole(path);
  if (role == "--role=hold-lock") return HoldLockRole(path);
  return -1;
}

}  // namespace foresight::storage

int main(int argc, char** argv) {
  int role = foresight::storage::RunRole(argc, argv);
  if (role >= 0) _exit(role);
  foresight::storage::g_self = std::filesystem::canonical("/proc/self/exe").string();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
