// The columnar block codec: one block holds the points of one series, timestamps and values in
// separate sections. Format in storage/FORMAT.md. Private to storage/.
//
// Threading: pure functions, safe from any thread.
#pragma once

#include "storage/storage.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace foresight::storage {

inline constexpr uint8_t kBlockFormatVersion = 1;

struct BlockHeader {
  ValueType type = ValueType::kFloat;
  uint32_t count = 0;
  int64_t first_ts = 0;
  int64_t last_ts = 0;
};

// Encodes `n` points. `bits` holds values as in Value::bits; for kString, `strings` holds the
// values instead. Timestamps need not be sorted or distinct (the engine always passes sorted,
// distinct ones). REQUIRES: 1 <= n < 2^31, spans of equal length (strings empty unless kString).
std::string EncodeBlock(ValueType type, std::span<const int64_t> ts, std::span<const uint64_t> bits,
                        std::span<const std::string> strings);

// Reads only the header (cheap: no decompression).
Result<BlockHeader> DecodeBlockHeader(std::string_view block);

// Appends every point of `block` to `out` (whose type must match or `out` be empty).
Status DecodeBlock(std::string_view block, Points* out);

// Exposed for tests and benchmarks: the section encoders behind EncodeBlock.
void EncodeTimestamps(std::span<const int64_t> ts, std::string* out);
bool DecodeTimestamps(std::string_view in, size_t n, int64_t* out);
void EncodeIntegers(std::span<const uint64_t> values, std::string* out);
bool DecodeIntegers(std::string_view in, size_t n, uint64_t* out);
void EncodeFloats(std::span<const uint64_t> bits, std::string* out);
bool DecodeFloats(std::string_view in, size_t n, uint64_t* out);

}  // namespace foresight::storage
