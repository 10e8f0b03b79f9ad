#include "storage/codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace foresight::storage {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

Points RoundTrip(ValueType type, const std::vector<int64_t>& ts, const std::vector<uint64_t>& bits,
                 const std::vector<std::string>& strings = {}) {
  std::string block = EncodeBlock(type, ts, bits, strings);
  Points out;
  Status s = DecodeBlock(block, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

void ExpectSameBits(ValueType type, const std::vector<int64_t>& ts,
                    const std::vector<uint64_t>& bits) {
  Points p = RoundTrip(type, ts, bits);
  ASSERT_EQ(p.type, type);
  ASSERT_EQ(p.ts_ns, ts);
  ASSERT_EQ(p.bits.size(), bits.size());
  for (size_t i = 0; i < bits.size(); ++i) {
    ASSERT_EQ(p.bits[i], bits[i]) << "value " << i << " of " << bits.size();
  }
}

// Timestamps a sensor fleet produces, plus the shapes a codec gets wrong.
std::vector<int64_t> TrickyTimestamps(std::mt19937_64& rng, size_t n) {
  std::vector<int64_t> ts(n);
  int64_t t = static_cast<int64_t>(rng() % (int64_t{1} << 61)) - (int64_t{1} << 60);
  switch (rng() % 7) {
    case 0:  // exact 10 s interval
      for (auto& x : ts) x = (t += 10'000'000'000);
      break;
    case 1:  // millisecond jitter around 10 s
      for (auto& x : ts)
        x = (t += 10'000'000'000 + (static_cast<int64_t>(rng() % 200) - 100) * 1'000'000);
      break;
    case 2:  // nanosecond noise, non-monotonic
      for (auto& x : ts) x = t + static_cast<int64_t>(rng() % 1'000'000'000) - 500'000'000;
      break;
    case 3:  // equal timestamps
      for (auto& x : ts) x = t;
      break;
    case 4:  // the extremes of int64
      for (auto& x : ts) {
        x = rng() % 2 ? std::numeric_limits<int64_t>::max() - static_cast<int64_t>(rng() % 3)
                      : std::numeric_limits<int64_t>::min() + static_cast<int64_t>(rng() % 3);
      }
      break;
    case 5:  // whole seconds
      for (auto& x : ts) x = (t = (t / 1'000'000'000 + 1 + rng() % 5) * 1'000'000'000);
      break;
    default:  // random
      for (auto& x : ts) x = static_cast<int64_t>(rng());
  }
  return ts;
}

std::vector<uint64_t> TrickyFloats(std::mt19937_64& rng, size_t n) {
  static const double kSpecial[] = {0.0,
                                    -0.0,
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::denorm_min(),
                                    -std::numeric_limits<double>::denorm_min(),
                                    std::numeric_limits<double>::min(),
                                    std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::lowest(),
                                    std::numeric_limits<double>::epsilon(),
                                    1e-300,
                                    1e300,
                                    0.1,
                                    9007199254740993.0};
  std::vector<uint64_t> v(n);
  double level = static_cast<double>(rng() % 100000) / 100.0;
  switch (rng() % 7) {
    case 0:  // a sensor at two decimals: drift plus noise
      for (auto& x : v) {
        level += static_cast<double>(static_cast<int>(rng() % 21) - 10) / 100.0;
        x = Bits(std::round(level * 100) / 100);
      }
      break;
    case 1:  // constant
      for (auto& x : v) x = Bits(level);
      break;
    case 2:  // alternating
      for (size_t i = 0; i < n; ++i) v[i] = Bits(i % 2 ? level : -level);
      break;
    case 3:  // NaNs with payloads and signs
      for (auto& x : v) x = 0x7ff0000000000001ull | (rng() & 0x800fffffffffffffull);
      break;
    case 4:  // special values
      for (auto& x : v) x = Bits(kSpecial[rng() % std::size(kSpecial)]);
      break;
    case 5:  // any bit pattern
      for (auto& x : v) x = rng();
      break;
    default:  // mixed decimal and special
      for (auto& x : v) {
        x = rng() % 10 ? Bits(static_cast<double>(static_cast<int64_t>(rng() % 100000)) / 1000)
                       : Bits(kSpecial[rng() % std::size(kSpecial)]);
      }
  }
  return v;
}

std::vector<uint64_t> TrickyIntegers(std::mt19937_64& rng, size_t n) {
  std::vector<uint64_t> v(n);
  int64_t level = static_cast<int64_t>(rng() % 1000000);
  switch (rng() % 5) {
    case 0:
      for (auto& x : v) x = static_cast<uint64_t>(level += static_cast<int64_t>(rng() % 7) - 3);
      break;
    case 4: {  // a steep trend with noise: linear frames
      int64_t slope = static_cast<int64_t>(rng() % 2001) - 1000;
      for (size_t i = 0; i < n; ++i) {
        v[i] = static_cast<uint64_t>(level + slope * static_cast<int64_t>(i) +
                                     static_cast<int64_t>(rng() % 41) - 20);
      }
      break;
    }
    case 1:
      for (auto& x : v) {
        x = rng() % 2 ? static_cast<uint64_t>(std::numeric_limits<int64_t>::min())
                      : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      }
      break;
    case 2:
      for (auto& x : v) x = rng() % 2 ? 0 : ~uint64_t{0};
      break;
    default:
      for (auto& x : v) x = rng();
  }
  return v;
}

size_t RandomSize(std::mt19937_64& rng) {
  static const size_t kSizes[] = {1, 2, 3, 127, 128, 129, 130, 257, 1000, 4096};
  return kSizes[rng() % std::size(kSizes)];
}

TEST(BlockCodec, RoundTripsTrickyFloatsBitForBit) {
  std::mt19937_64 rng(20261122);
  for (int iter = 0; iter < 400; ++iter) {
    size_t n = RandomSize(rng);
    ExpectSameBits(ValueType::kFloat, TrickyTimestamps(rng, n), TrickyFloats(rng, n));
  }
}

TEST(BlockCodec, RoundTripsTrickyIntegers) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    size_t n = RandomSize(rng);
    ExpectSameBits(iter % 2 ? ValueType::kInt : ValueType::kUint, TrickyTimestamps(rng, n),
                   TrickyIntegers(rng, n));
  }
}

TEST(BlockCodec, RoundTripsBooleans) {
  std::mt19937_64 rng(11);
  for (int iter = 0; iter < 50; ++iter) {
    size_t n = RandomSize(rng);
    std::vector<uint64_t> bits(n);
    for (auto& b : bits) b = rng() % 2;
    ExpectSameBits(ValueType::kBool, TrickyTimestamps(rng, n), bits);
  }
}

TEST(BlockCodec, RoundTripsStringsThroughTheDictionary) {
  std::vector<std::string> strings = {
      "running", "", "stopped", "running", std::string(300, 'x'), std::string("nul\0byte", 8),
      "running"};
  std::vector<int64_t> ts = {1, 2, 3, 4, 5, 6, 7};
  Points p = RoundTrip(ValueType::kString, ts, std::vector<uint64_t>(ts.size()), strings);
  EXPECT_EQ(p.strings, strings);
  EXPECT_EQ(p.ts_ns, ts);
}

TEST(BlockCodec, HeaderGivesCountAndTimeRangeWithoutDecoding) {
  std::vector<int64_t> ts = {30, 10, 20};
  std::string block = EncodeBlock(ValueType::kInt, ts, std::vector<uint64_t>{1, 2, 3}, {});
  Result<BlockHeader> h = DecodeBlockHeader(block);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->count, 3u);
  EXPECT_EQ(h->first_ts, 10);
  EXPECT_EQ(h->last_ts, 30);
  EXPECT_EQ(h->type, ValueType::kInt);
}

TEST(BlockCodec, StoresTwoDecimalSensorReadingsInAboutOneByteEach) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 0.05);
  std::vector<int64_t> ts;
  std::vector<uint64_t> bits;
  double level = 71.3;
  for (int i = 0; i < 1024; ++i) {
    ts.push_back(int64_t{1700000000} * 1'000'000'000 + int64_t{i} * 10'000'000'000);
    level += 0.001;
    bits.push_back(Bits(std::round((level + noise(rng)) * 100) / 100));
  }
  std::string block = EncodeBlock(ValueType::kFloat, ts, bits, {});
  // Noise of sd 0.05 at 2 decimals has ~5.2 bits of entropy per value; timestamps are free.
  EXPECT_LT(block.size(), 1024u * 1);
  Points p;
  ASSERT_TRUE(DecodeBlock(block, &p).ok());
  EXPECT_EQ(p.bits, bits);
}

// Golden bytes pin the on-disk format: a change here is a format change and needs a new
// version byte and a migration, not a new golden string.
TEST(BlockCodec, GoldenBytesOfAFloatBlockWithDecimals) {
  std::vector<int64_t> ts = {1'700'000'000'000'000'000, 1'700'000'010'000'000'000,
                             1'700'000'020'000'000'000, 1'700'000'030'000'000'000};
  std::vector<uint64_t> bits = {Bits(21.5), Bits(21.52), Bits(21.49), Bits(21.49)};
  EXPECT_EQ(Hex(EncodeBlock(ValueType::kFloat, ts, bits, {})),
            "0101000400002a36fe9c971780d88ee16f0b0a00002a36fe9c971709000102cc21032c00");
}

TEST(BlockCodec, GoldenBytesOfAGorillaFloatBlock) {
  std::vector<int64_t> ts = {0, 1, 3};
  std::vector<uint64_t> bits = {Bits(-0.0), Bits(1.0 / 3), 0x7ff8000000000001ull};
  EXPECT_EQ(Hex(EncodeBlock(ValueType::kFloat, ts, bits, {})),
            "010100030000000000000000030c00000000000000000009120000000000000000008083bfaaaaaaaaaaaa"
            "fa37aaaaaaaaaaaa1620");
}

TEST(BlockCodec, GoldenBytesOfAnIntegerBlock) {
  std::vector<int64_t> ts = {-5, 0, 5, 10};
  std::vector<uint64_t> bits = {100, 101, 99, static_cast<uint64_t>(-7)};
  EXPECT_EQ(Hex(EncodeBlock(ValueType::kInt, ts, bits, {})),
            "01020004fbffffffffffffff0f0b00fbffffffffffffff2900c801080203d3");
}

TEST(BlockCodec, GoldenBytesOfALinearFrame) {
  // A ramp of +37 per step with a little noise: offsets from the fitted line need 3 bits.
  std::vector<uint64_t> values;
  for (int i = 0; i < 20; ++i) values.push_back(static_cast<uint64_t>(1000 + 37 * i + (i * 7) % 5));
  std::string out;
  EncodeIntegers(values, &out);
  EXPECT_EQ(static_cast<uint8_t>(out[2]), 0xff) << "expected a linear frame";
  EXPECT_EQ(Hex(out), "d00fff034a809401620631839841cc00");
  std::vector<uint64_t> back(values.size());
  ASSERT_TRUE(DecodeIntegers(out, values.size(), back.data()));
  EXPECT_EQ(back, values);
}

TEST(BlockCodec, GoldenBytesOfBooleanAndStringBlocks) {
  std::vector<int64_t> ts = {1'000'000'000, 2'000'000'000, 3'000'000'000};
  EXPECT_EQ(Hex(EncodeBlock(ValueType::kBool, ts, std::vector<uint64_t>{1, 0, 1}, {})),
            "0104000300ca9a3b0000000080a8d6b9070b0900ca9a3b00000000090005");
  std::vector<std::string> strings = {"ok", "fault", "ok"};
  EXPECT_EQ(Hex(EncodeBlock(ValueType::kString, ts, std::vector<uint64_t>(3), strings)),
            "0105000300ca9a3b0000000080a8d6b9070b0900ca9a3b00000000090002026f6b056661756c740102");
}

TEST(BlockCodec, GoldenBytesOfAZstdCompressedBlock) {
  std::vector<int64_t> ts;
  std::vector<uint64_t> bits;
  for (int i = 0; i < 200; ++i) {
    ts.push_back(int64_t{i} * 1'000'000'000);
    bits.push_back(static_cast<uint64_t>(i % 3 == 0 ? 1000000 : 7));
  }
  std::string block = EncodeBlock(ValueType::kInt, ts, bits, {});
  EXPECT_EQ(block[2], 1) << "expected the zstd flag";
  EXPECT_EQ(Hex(block),
            "010201c8010000000000000000808cccaae50528b52ffd601f014d01009823090080897a94f1887a003942"
            "0f9023f400940800b09845498a4c0560c9ca0eb03298c1a2410686");
}

TEST(RollupPage, RoundTripsEntriesBitForBit) {
  std::mt19937_64 rng(13);
  const int64_t page = 1'767'225'600'000'000'000, width = 60'000'000'000;
  for (int iter = 0; iter < 100; ++iter) {
    std::vector<Bucket> entries;
    for (int64_t i = 0; i < 60; ++i) {
      if (rng() % 3 == 0) continue;
      std::vector<uint64_t> v = TrickyFloats(rng, 6);
      entries.push_back({page + i * width, 1 + rng() % 1000, std::bit_cast<double>(v[0]),
                         std::bit_cast<double>(v[1]), std::bit_cast<double>(v[2]),
                         std::bit_cast<double>(v[3]), std::bit_cast<double>(v[4]),
                         std::bit_cast<double>(v[5])});
    }
    std::string encoded = EncodeRollupPage(page, width, entries);
    std::vector<Bucket> back;
    ASSERT_TRUE(DecodeRollupPage(encoded, page, width, &back).ok());
    ASSERT_EQ(back.size(), entries.size());
    for (size_t i = 0; i < back.size(); ++i) {
      EXPECT_EQ(back[i].start_ns, entries[i].start_ns);
      EXPECT_EQ(back[i].count, entries[i].count);
      EXPECT_EQ(Bits(back[i].sum), Bits(entries[i].sum));
      EXPECT_EQ(Bits(back[i].sum_squares), Bits(entries[i].sum_squares));
      EXPECT_EQ(Bits(back[i].first), Bits(entries[i].first));
    }
    for (size_t len = 0; iter < 10 && len < encoded.size(); ++len) {
      std::vector<Bucket> cut;
      EXPECT_FALSE(
          DecodeRollupPage(std::string_view(encoded).substr(0, len), page, width, &cut).ok());
    }
  }
}

TEST(RollupPage, GoldenBytes) {
  const int64_t page = 0, width = 60'000'000'000;
  std::vector<Bucket> entries = {{0, 6, 131.4, 21.88, 21.92, 21.9, 21.88, 2877.9},
                                 {2 * width, 5, 109.5, 21.9, 21.9, 21.9, 21.9, 2398.05}};
  EXPECT_EQ(Hex(EncodeRollupPage(page, width, entries)),
            "01000203000304030c0101070101c41409b50106010298220304060102a0220203050101b6030006010298"
            "220304090102dc902311e17601");
}

TEST(DecimalArithmetic, SumsAndSquaresOfDecimalsStayExactDecimals) {
  int hint = 0;
  EXPECT_EQ(DecimalSum(0.1, 0.2, &hint), 0.3);  // plain addition gives 0.30000000000000004
  EXPECT_EQ(hint, 1);
  int square_hint = 0;
  EXPECT_EQ(DecimalSquare(21.93, &square_hint), 480.9249);  // 21.93 * 21.93 is not
  EXPECT_EQ(square_hint, 2);
  int other = 0;
  double third = 1.0 / 3;
  EXPECT_EQ(DecimalSum(third, 1.0, &other), third + 1.0);  // not decimal: ordinary addition
  EXPECT_TRUE(std::isnan(DecimalSum(std::nan(""), 1.0, &other)));
}

TEST(BlockCodec, RejectsEveryTruncationOfABlock) {
  std::mt19937_64 rng(5);
  for (ValueType type : {ValueType::kFloat, ValueType::kInt, ValueType::kBool}) {
    size_t n = 300;
    std::vector<int64_t> ts = TrickyTimestamps(rng, n);
    std::vector<uint64_t> bits =
        type == ValueType::kFloat ? TrickyFloats(rng, n) : TrickyIntegers(rng, n);
    if (type == ValueType::kBool) {
      for (auto& b : bits) b &= 1;
    }
    std::string block = EncodeBlock(type, ts, bits, {});
    for (size_t len = 0; len < block.size(); ++len) {
      Points p;
      EXPECT_FALSE(DecodeBlock(std::string_view(block).substr(0, len), &p).ok())
          << "accepted a block cut to " << len << " of " << block.size() << " bytes";
    }
  }
}

TEST(BlockCodec, SurvivesRandomByteCorruptionWithoutCrashing) {
  std::mt19937_64 rng(9);
  std::vector<int64_t> ts = TrickyTimestamps(rng, 500);
  std::string block = EncodeBlock(ValueType::kFloat, ts, TrickyFloats(rng, 500), {});
  for (int iter = 0; iter < 2000; ++iter) {
    std::string bad = block;
    for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    Points p;
    Status s = DecodeBlock(bad, &p);  // either error or some points; never UB (ASan checks)
    if (s.ok()) {
      EXPECT_EQ(p.ts_ns.size(), p.bits.size());
    }
  }
}

TEST(BlockCodec, RejectsAnUnknownFormatVersion) {
  std::string block =
      EncodeBlock(ValueType::kInt, std::vector<int64_t>{1}, std::vector<uint64_t>{1}, {});
  block[0] = 2;
  Points p;
  Status s = DecodeBlock(block, &p);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("version"), std::string_view::npos);
}

}  // namespace
}  // namespace foresight::storage
