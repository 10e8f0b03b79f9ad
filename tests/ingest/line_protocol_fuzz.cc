// libFuzzer target for the line-protocol parser. Besides "never crashes", it checks that every
// point the parser accepts, written back out as canonical line protocol, parses to the same
// point, and that every rejection names a real line and column.
//
// Build with clang and -DFORESIGHT_FUZZ=ON; the test at the end replays the committed corpus
// through this same function in every build.
#include "ingest/ingest.h"
#include "tests/fuzz_target.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using foresight::ingest::Field;
using foresight::ingest::LineParser;
using foresight::ingest::Point;
using foresight::ingest::PointSink;
using foresight::ingest::Precision;
using foresight::ingest::Rejection;
using foresight::storage::ValueType;

void Check(bool ok, const char* what) {
  foresight::testing::FuzzCheck(ok, "line_protocol_fuzz", what);
}

bool IsText(std::string_view s) { return !foresight::storage::CheckText(s); }

void Escape(std::string* out, std::string_view s, std::string_view specials) {
  for (char c : s) {
    if (specials.find(c) != std::string_view::npos) out->push_back('\\');
    out->push_back(c);
  }
}

// Canonical text of a point, or "" when line protocol cannot spell it (a name with a backslash
// is ambiguous before an escapable byte; a measurement starting with '#' or a tab is a comment
// or skipped whitespace).
std::string Canonical(const Point& p) {
  auto plain = [](std::string_view s) { return s.find('\\') == std::string_view::npos; };
  if (!plain(p.measurement) || p.measurement[0] == '#' || p.measurement[0] == '\t') return "";
  std::string out;
  Escape(&out, p.measurement, ", ");
  for (const auto& t : p.tags) {
    if (!plain(t.key) || !plain(t.value)) return "";
    out.push_back(',');
    Escape(&out, t.key, ",= ");
    out.push_back('=');
    Escape(&out, t.value, ",= ");
  }
  out.push_back(' ');
  for (size_t i = 0; i < p.fields.size(); ++i) {
    const Field& f = p.fields[i];
    if (!plain(f.key)) return "";
    if (i) out.push_back(',');
    Escape(&out, f.key, ",= ");
    out.push_back('=');
    switch (f.value.type) {
      case ValueType::kFloat: {
        double d;
        std::memcpy(&d, &f.value.bits, sizeof d);
        out += fmt::format("{}", d);
        if (out.find_first_of(".e", out.rfind('=')) == std::string::npos) out += ".0";
        break;
      }
      case ValueType::kInt:
        out += fmt::format("{}i", static_cast<int64_t>(f.value.bits));
        break;
      case ValueType::kUint:
        out += fmt::format("{}u", f.value.bits);
        break;
      case ValueType::kBool:
        out += f.value.bits ? "true" : "false";
        break;
      case ValueType::kString:
        out.push_back('"');
        Escape(&out, f.value.str, "\"\\");
        out.push_back('"');
        break;
    }
  }
  out += fmt::format(" {}", p.ts_ns);
  return out;
}

struct Collect : PointSink {
  std::vector<std::string> canonical;
  void OnPoint(const Point& p) override {
    Check(!p.measurement.empty(), "empty measurement");
    Check(!p.fields.empty(), "a point without fields");
    Check(IsText(p.measurement), "a measurement that is not text");
    for (const auto& t : p.tags) Check(IsText(t.key) && IsText(t.value), "a tag that is not text");
    for (const Field& f : p.fields) {
      Check(IsText(f.key), "a field key that is not text");
      Check(f.value.type != ValueType::kString || IsText(f.value.str),
            "a string field that is not text");
    }
    Check(p.ts_ns >= foresight::storage::kMinTimestampNs &&
              p.ts_ns <= foresight::storage::kMaxTimestampNs,
          "timestamp out of range");
    canonical.push_back(Canonical(p));
  }
};

}  // namespace

FORESIGHT_FUZZ_TARGET(FuzzLineProtocol) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  LineParser parser;
  Collect first;
  std::vector<Rejection> rejections;
  size_t points = parser.Parse(text, Precision::kNanoseconds, 0, first, &rejections);
  Check(points == first.canonical.size(), "point count");
  size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const Rejection& r : rejections) {
    Check(r.line >= 1 && r.line <= lines, "rejection names a line that does not exist");
    Check(r.column >= 1 && r.column <= size + 1, "rejection column outside the input");
    Check(!r.reason.empty(), "rejection without a reason");
  }
  for (const std::string& line : first.canonical) {
    if (line.empty()) continue;
    Collect again;
    std::vector<Rejection> none;
    LineParser reparser;
    reparser.Parse(line, Precision::kNanoseconds, 0, again, &none);
    Check(none.empty() && again.canonical.size() == 1 && again.canonical[0] == line,
          "canonical line protocol does not parse back to the same point");
  }
  return 0;
}

#ifndef FORESIGHT_LIBFUZZER
TEST(FuzzCorpus, LineProtocolInputsKeepTheParserInvariants) {
  foresight::testing::ReplayCorpus("tests/ingest/corpus/line_protocol", FuzzLineProtocol, 8);
}
#endif
