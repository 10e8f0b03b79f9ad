// Opening a bad data directory fails fast with a message naming the path and the reason.
#include "storage/storage.h"
#include "tests/storage/test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace foresight::storage {
namespace {

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
  // Root ignores permission bits, so check as an unprivileged user in a child process.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(2);
    Status s = OpenStatus(path);
    bool right = !s.ok() && s.message().find(path) != std::string_view::npos &&
                 s.message().find("not writable") != std::string_view::npos;
    _exit(right ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "a read-only directory opened, or the error was unclear";
}

TEST(DataDirectory, LockedByAnotherProcessFails) {
  testing::TempDir dir;
  std::string path = dir.Sub("data");
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto db = Storage::Open(path, Options());
    char c = db.ok() ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(3);
    if (read(release[0], &c, 1) < 0) _exit(4);  // hold the lock until told
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  Status s = OpenStatus(path);
  ExpectMentions(s, path, "locked by another process");
  EXPECT_EQ(s.code(), Status::Code::kBusy);
  ASSERT_EQ(write(release[1], "x", 1), 1);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(OpenStatus(path).ok()) << "the lock must go with its process";
}

}  // namespace
}  // namespace foresight::storage
