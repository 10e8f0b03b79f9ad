// A fuzz target written once, run two ways: as a libFuzzer binary (clang, -DFORESIGHT_FUZZ=ON,
// which defines FORESIGHT_LIBFUZZER) and, in every build, by a gtest that replays its committed
// corpus (ReplayCorpus). Targets are plain functions so one test binary can hold several.
//
//   FORESIGHT_FUZZ_TARGET(FuzzCsvImport) { ... data, size ...; return 0; }
//
// A target checks its invariants with FuzzCheck, which aborts: libFuzzer keeps the input as a
// crash artifact, and the replay test dies naming the corpus file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#ifdef FORESIGHT_LIBFUZZER
#define FORESIGHT_FUZZ_TARGET(name)                                         \
  int name(const uint8_t* data, size_t size);                               \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    return name(data, size);                                                \
  }                                                                         \
  int name(const uint8_t* data, size_t size)
#else
#define FORESIGHT_FUZZ_TARGET(name) int name(const uint8_t* data, size_t size)
#endif

namespace foresight::testing {

inline void FuzzCheck(bool ok, const char* target, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s: invariant broken: %s\n", target, what);
    std::abort();
  }
}

// A directory for a target's state (a storage engine), made once per process and removed at
// exit. libFuzzer runs one process for the whole campaign, so what a target stores accumulates.
// Statics made after it (the target's engine) are destroyed before it.
inline const std::string& FuzzDataDir() {
  struct Dir {
    std::string path = (std::filesystem::temp_directory_path() / "foresight-fuzz-XXXXXX").string();
    Dir() {
      if (!mkdtemp(path.data())) std::abort();
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Dir dir;
  return dir.path;
}

}  // namespace foresight::testing

#ifndef FORESIGHT_LIBFUZZER
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <vector>

namespace foresight::testing {

// Runs `target` on every file of the committed corpus `dir` (relative to the source tree) and
// expects at least `min_files` of them.
inline void ReplayCorpus(const std::string& dir, int (*target)(const uint8_t*, size_t),
                         size_t min_files) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(FORESIGHT_SOURCE_DIR) / dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().filename().string());
    target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++files;
  }
  EXPECT_GE(files, min_files) << dir;
}

// Runs `destroy` when the tests end, before main returns.
inline void DestroyWhenTestsEnd(std::function<void()> destroy) {
  struct Teardown : ::testing::Environment {
    std::vector<std::function<void()>> destroys;
    void TearDown() override {
      for (auto it = destroys.rbegin(); it != destroys.rend(); ++it) (*it)();
      destroys.clear();
    }
  };
  static Teardown* teardown =
      static_cast<Teardown*>(::testing::AddGlobalTestEnvironment(new Teardown));
  teardown->destroys.push_back(std::move(destroy));
}

}  // namespace foresight::testing
#endif

namespace foresight::testing {

// A target's state (a storage engine), made on first use. The replay test destroys it when the
// tests end: left to exit's static destructors, an engine closes after RocksDB statics that other
// tests made later are gone, and corrupts the heap. libFuzzer keeps it to the end of the process.
// (Made again should the tests run again, as under --gtest_repeat.)
template <typename T>
T& FuzzState() {
  static T* state = nullptr;
  if (!state) {
    state = new T();
#ifndef FORESIGHT_LIBFUZZER
    DestroyWhenTestsEnd([] {
      delete state;
      state = nullptr;
    });
#endif
  }
  return *state;
}

}  // namespace foresight::testing
