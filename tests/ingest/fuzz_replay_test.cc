// Replays the parser fuzz target's seed corpus (and anything libFuzzer found and we kept), so
// the invariants of line_protocol_fuzz.cc run in every build, GCC included.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(LineParserFuzzCorpus, EveryInputKeepsTheParserInvariants) {
  std::filesystem::path dir =
      std::filesystem::path(FORESIGHT_SOURCE_DIR) / "tests/ingest/corpus/line_protocol";
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().filename().string());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++files;
  }
  EXPECT_GE(files, 8u);
}

}  // namespace
