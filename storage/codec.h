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
#include <vector>

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

// A rollup page: the aggregates of the buckets of one tier within one page window, in time
// order. Bucket starts are stored as indexes (start - page_start) / width. REQUIRES: every
// entry lies in [page_start, page_start + 2^31 * width), entries sorted by start, count > 0.
std::string EncodeRollupPage(int64_t page_start, int64_t width, std::span<const Bucket> entries);
// Appends the page's entries to `out`.
Status DecodeRollupPage(std::string_view page, int64_t page_start, int64_t width,
                        std::vector<Bucket>* out);

// True when v is exactly m / 10^digits for an integer |m| < 2^53; sets *m.
bool DecimalMantissa(double v, int digits, int64_t* m);
// a + b, computed exactly in decimal when both are decimals of at most 10 digits (sensor
// readings and their sums), so rollup sums stay decimal and compress like readings; otherwise
// floating-point addition. `digits_hint` (in/out) remembers the scale found last time.
double DecimalSum(double a, double b, int* digits_hint);
// v * v, exact in decimal when v is a decimal of at most 5 digits with |m| < 2^26; otherwise
// floating-point. `digits_hint` as for DecimalSum (the digits of v).
double DecimalSquare(double v, int* digits_hint);

// Exposed for tests and benchmarks: the section encoders behind EncodeBlock.
void EncodeTimestamps(std::span<const int64_t> ts, std::string* out);
bool DecodeTimestamps(std::string_view in, size_t n, int64_t* out);
void EncodeIntegers(std::span<const uint64_t> values, std::string* out);
bool DecodeIntegers(std::string_view in, size_t n, uint64_t* out);
void EncodeFloats(std::span<const uint64_t> bits, std::string* out);
bool DecodeFloats(std::string_view in, size_t n, uint64_t* out);

}  // namespace foresight::storage
