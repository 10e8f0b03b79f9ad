// Helpers shared by the tests: a fresh directory per test, removed afterwards; a bounded wait for
// what another thread makes true; a command of another program run to its end.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdlib.h>
#include <string>
#include <thread>

namespace foresight::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "foresight-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A shell command's exit status (as pclose gives it; 0 on success, -1 when it could not start)
// and what it wrote to stdout and stderr.
struct CommandOutput {
  int code = -1;
  std::string out;
};
inline CommandOutput RunCommand(const std::string& command) {
  CommandOutput r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) r.out.append(buf, n);
  r.code = pclose(pipe);
  return r;
}

// Polls `condition` until it holds (true) or 10 s pass (false).
inline bool Eventually(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace foresight::testing
