// libFuzzer target for the block and rollup-page decoders (storage/FORMAT.md). The first input
// byte picks the decoder. Besides "never crashes": whatever a decoder accepts encodes again and
// decodes to the same points or buckets, bit for bit.
#include "storage/codec.h"
#include "tests/fuzz_target.h"

#include <bit>
#include <cstring>

namespace {

using foresight::storage::Bucket;
using foresight::storage::Points;

void Check(bool ok, const char* what) { foresight::testing::FuzzCheck(ok, "codec_fuzz", what); }

void Block(std::string_view bytes) {
  Points points;
  if (!foresight::storage::DecodeBlock(bytes, &points).ok()) return;
  auto header = foresight::storage::DecodeBlockHeader(bytes);
  Check(header.ok() && header->count == points.ts_ns.size(), "header count differs from points");
  Check(header->type == points.type, "header type differs from points");
  if (points.ts_ns.empty()) return;
  Check(points.bits.size() == points.ts_ns.size(), "columns of different lengths");
  Check(points.type != foresight::storage::ValueType::kString ||
            points.strings.size() == points.ts_ns.size(),
        "string column of another length");
  std::string again =
      foresight::storage::EncodeBlock(points.type, points.ts_ns, points.bits, points.strings);
  Points round;
  Check(foresight::storage::DecodeBlock(again, &round).ok(), "a re-encoded block fails to decode");
  Check(round.ts_ns == points.ts_ns && round.bits == points.bits && round.strings == points.strings,
        "a re-encoded block decodes to other points");
}

void Rollup(std::string_view bytes) {
  // The page's position comes from the key in storage; here from the input's next bytes.
  static constexpr int64_t kWidths[] = {60'000'000'000, 3'600'000'000'000, 86'400'000'000'000};
  if (bytes.size() < 2) return;
  const int64_t width = kWidths[static_cast<uint8_t>(bytes[0]) % 3];
  const int64_t page_start = (static_cast<int8_t>(bytes[1]) * 1024) * width;
  bytes.remove_prefix(2);
  std::vector<Bucket> buckets;
  if (!foresight::storage::DecodeRollupPage(bytes, page_start, width, &buckets).ok()) return;
  for (size_t i = 0; i < buckets.size(); ++i) {
    Check((buckets[i].start_ns - page_start) % width == 0, "a bucket off the page's grid");
    // EncodeRollupPage requires what the engine always writes: sorted starts, counts above 0.
    if (buckets[i].count == 0 || (i && buckets[i].start_ns <= buckets[i - 1].start_ns)) return;
  }
  if (buckets.empty()) return;
  std::string again = foresight::storage::EncodeRollupPage(page_start, width, buckets);
  std::vector<Bucket> round;
  Check(foresight::storage::DecodeRollupPage(again, page_start, width, &round).ok(),
        "a re-encoded page fails to decode");
  Check(round.size() == buckets.size(), "a re-encoded page has another bucket count");
  for (size_t i = 0; i < round.size(); ++i) {
    Check(std::memcmp(&round[i], &buckets[i], sizeof(Bucket)) == 0,
          "a re-encoded page decodes to other buckets");
  }
}

}  // namespace

FORESIGHT_FUZZ_TARGET(FuzzCodec) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    Rollup(bytes);
  } else {
    Block(bytes);
  }
  return 0;
}

#ifndef FORESIGHT_LIBFUZZER
TEST(FuzzCorpus, BlocksAndRollupPagesDecodeOnlyToWhatReEncodesTheSame) {
  foresight::testing::ReplayCorpus("tests/storage/corpus/codec", FuzzCodec, 8);
}
#endif
