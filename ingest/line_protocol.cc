// The line-protocol parser. Grammar and the exact rules are in ingest/LINE_PROTOCOL.md.
//
// Shape: memchr finds the end of each line (glibc's is vectorised), then one pass over the line
// splits measurement, tags, fields and timestamp. Token scans look for the few bytes that can
// end a token (',', '=', ' ', '\\') 16 bytes at a time with SSE2 while at least 16 bytes remain,
// then byte by byte. Names without a backslash are returned as views of the input; escaped ones
// are unescaped into `scratch_`, whose capacity (max_line_bytes) is reserved up front so views
// into it stay valid for the whole line.
#include "ingest/ingest.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <emmintrin.h>

namespace foresight::ingest {

Result<Precision> ParsePrecision(std::string_view text) {
  if (text.empty() || text == "ns" || text == "n") return Precision::kNanoseconds;
  if (text == "us" || text == "u" || text == "\xC2\xB5" || text == "\xC2\xB5s") {
    return Precision::kMicroseconds;
  }
  if (text == "ms") return Precision::kMilliseconds;
  if (text == "s") return Precision::kSeconds;
  if (text == "m") return Precision::kMinutes;
  if (text == "h") return Precision::kHours;
  return Status::InvalidArgument("unknown precision '" + std::string(text) +
                                 "' (use ns, us, ms, s, m or h)");
}

bool ScaleTimestamp(int64_t units, Precision precision, int64_t* ts_ns) {
  static constexpr int64_t kPrecisionNs[] = {
      1, 1'000, 1'000'000, 1'000'000'000, 60'000'000'000, 3'600'000'000'000};
  int64_t ns;
  if (__builtin_mul_overflow(units, kPrecisionNs[static_cast<int>(precision)], &ns) ||
      ns < storage::kMinTimestampNs || ns > storage::kMaxTimestampNs) {
    return false;
  }
  *ts_ns = ns;
  return true;
}

namespace {

// Where a token of each kind ends. Measurements end at ',' or ' '; tag keys, tag values and
// field keys also at '='. A backslash always needs a closer look, and so does any byte that is
// not printable ASCII: the line then goes through storage::CheckText. Finding those bytes in the
// scans that run anyway costs one compare per 16 bytes; a separate pass over each line cost 6 to
// 11 % of the parser's throughput (bench/RESULTS.md, issue #21).
// String field values end at '"'.
enum class TokenKind { kMeasurement, kKey, kString };

inline bool IsUnusual(char c) {
  return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F;
}

inline bool IsStop(TokenKind kind, char c) {
  if (kind == TokenKind::kString) return c == '"' || c == '\\' || IsUnusual(c);
  return c == ',' || c == ' ' || c == '\\' || (kind == TokenKind::kKey && c == '=') || IsUnusual(c);
}

// The first byte in [p, end) that is a stop byte for `kind`, or end.
inline const char* FindStop(TokenKind kind, const char* p, const char* end) {
  const bool string = kind == TokenKind::kString;
  const __m128i comma = _mm_set1_epi8(string ? '"' : ',');
  const __m128i space = _mm_set1_epi8(string ? '"' : ' ');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i equals = _mm_set1_epi8(kind == TokenKind::kKey ? '=' : string ? '"' : ',');
  const __m128i printable = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7F);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed: bytes from 0x80 compare below 0x20 too, so one compare finds every byte that is
    // neither printable ASCII nor DEL.
    __m128i unusual = _mm_or_si128(_mm_cmplt_epi8(v, printable), _mm_cmpeq_epi8(v, del));
    __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, space)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, equals))),
        unusual);
    int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
  while (p < end && !IsStop(kind, *p)) ++p;
  return p;
}

// Bytes a backslash escapes in each context; before any other byte it is kept literally.
inline bool Escapable(TokenKind kind, char c) {
  return c == ',' || c == ' ' || (kind == TokenKind::kKey && c == '=');
}

struct ParseError {
  const char* at;
  const char* reason;
};

}  // namespace

struct LineParser::Impl {
  LineParser& self;
  const char* line_begin;
  const char* end;  // end of the line's content (before CR LF)
  ParseError error{nullptr, nullptr};
  bool unusual = false;  // the line holds a byte that is not printable ASCII

  bool Fail(const char* at, const char* reason) {
    error = {at, reason};
    return false;
  }

  // Scans one token of `kind` starting at *p. On success *out is the unescaped token and *p
  // points at the byte that ended it (a stop byte other than backslash, or end).
  bool Token(TokenKind kind, const char** p, std::string_view* out) {
    const char* begin = *p;
    const char* q = begin;
    bool escaped = false;
    for (;;) {
      q = FindStop(kind, q, end);
      if (q == end) break;
      if (IsUnusual(*q)) {
        unusual = true;
        ++q;
        continue;
      }
      if (*q != '\\') break;
      if (q + 1 == end) return Fail(q, "invalid escape: backslash at end of line");
      unusual |= IsUnusual(q[1]);
      escaped = true;
      q += 2;
    }
    *p = q;
    if (!escaped) {
      *out = std::string_view(begin, static_cast<size_t>(q - begin));
      return true;
    }
    *out = Unescape(begin, q, [kind](char c) { return Escapable(kind, c); });
    return true;
  }

  // Copies [begin, end) into scratch with each escape resolved. Mirrors the scans: a backslash
  // always takes the next byte with it, and stands for it only when `escapable` says so.
  template <typename Escapable>
  std::string_view Unescape(const char* begin, const char* end, Escapable escapable) {
    size_t start = self.scratch_.size();
    for (const char* r = begin; r < end; ++r) {
      if (*r == '\\') {
        if (!escapable(r[1])) self.scratch_.push_back('\\');
        ++r;
      }
      self.scratch_.push_back(*r);
    }
    return std::string_view(self.scratch_.data() + start, self.scratch_.size() - start);
  }

  // A double-quoted string field; *p is at the opening quote and ends past the closing one.
  bool StringValue(const char** p, std::string_view* out) {
    const char* begin = *p + 1;
    const char* q = begin;
    bool escaped = false;
    for (;;) {
      q = FindStop(TokenKind::kString, q, end);
      if (q == end) return Fail(*p, "unterminated string field value");
      if (IsUnusual(*q)) {
        unusual = true;
        ++q;
        continue;
      }
      if (*q == '"') break;
      if (q + 1 == end) return Fail(*p, "unterminated string field value");
      unusual |= IsUnusual(q[1]);
      escaped = true;
      q += 2;
    }
    *p = q + 1;
    if (!escaped) {
      *out = std::string_view(begin, static_cast<size_t>(q - begin));
      return true;
    }
    *out = Unescape(begin, q, [](char c) { return c == '"' || c == '\\'; });
    return true;
  }

  bool BoolValue(const char** p, storage::Value* value) {
    const char* begin = *p;
    const char* q = begin;
    while (q < end && *q != ',' && *q != ' ') ++q;
    std::string_view word(begin, static_cast<size_t>(q - begin));
    *p = q;
    if (word == "t" || word == "T" || word == "true" || word == "True" || word == "TRUE") {
      *value = storage::Value::Bool(true);
      return true;
    }
    if (word == "f" || word == "F" || word == "false" || word == "False" || word == "FALSE") {
      *value = storage::Value::Bool(false);
      return true;
    }
    return Fail(begin, "invalid boolean field value");
  }

  bool NumberValue(const char** p, storage::Value* value) {
    const char* begin = *p;
    const char* q = begin;
    while (q < end && *q != ',' && *q != ' ') ++q;
    *p = q;
    const char* last = q - 1;
    if (*last == 'i' || *last == 'u') {
      bool is_signed = *last == 'i';
      const char* digits = begin + (*begin == '-' ? 1 : 0);
      if (digits == last ||
          !std::all_of(digits, last, [](char c) { return c >= '0' && c <= '9'; })) {
        return Fail(begin,
                    is_signed ? "invalid integer field value" : "invalid unsigned field value");
      }
      if (is_signed) {
        int64_t v;
        auto r = std::from_chars(begin, last, v);
        if (r.ec != std::errc() || r.ptr != last)
          return Fail(begin, "integer field value out of range");
        *value = storage::Value::Int(v);
      } else {
        if (*begin == '-') return Fail(begin, "unsigned field value must not be negative");
        uint64_t v;
        auto r = std::from_chars(begin, last, v);
        if (r.ec != std::errc() || r.ptr != last)
          return Fail(begin, "unsigned field value out of range");
        *value = storage::Value::Uint(v);
      }
      return true;
    }
    // [-] digits [. digits] [(e|E) [+|-] digits], with at least one mantissa digit.
    const char* r = begin + (*begin == '-' ? 1 : 0);
    int mantissa_digits = 0;
    while (r < q && *r >= '0' && *r <= '9') ++r, ++mantissa_digits;
    if (r < q && *r == '.') {
      ++r;
      while (r < q && *r >= '0' && *r <= '9') ++r, ++mantissa_digits;
    }
    if (mantissa_digits == 0) return Fail(begin, "invalid number field value");
    if (r < q && (*r == 'e' || *r == 'E')) {
      ++r;
      if (r < q && (*r == '+' || *r == '-')) ++r;
      const char* exp = r;
      while (r < q && *r >= '0' && *r <= '9') ++r;
      if (r == exp) return Fail(begin, "invalid number field value");
    }
    if (r != q) return Fail(begin, "invalid number field value");
    double v;
    auto res = std::from_chars(begin, q, v);
    if (res.ec != std::errc() || res.ptr != q) return Fail(begin, "float field value out of range");
    *value = storage::Value::Float(v);
    return true;
  }

  bool Timestamp(const char** p, Precision precision, int64_t* ts_ns) {
    const char* begin = *p;
    const char* q = begin + (*begin == '-' ? 1 : 0);
    const char* digits = q;
    while (q < end && *q >= '0' && *q <= '9') ++q;
    if (q == digits) return Fail(begin, "invalid timestamp");
    const char* tail = q;
    while (tail < end && (*tail == ' ' || *tail == '\t')) ++tail;
    if (tail != end) return Fail(q, "unexpected text after the timestamp");
    int64_t v;
    auto r = std::from_chars(begin, q, v);
    if (r.ec != std::errc() || r.ptr != q) return Fail(begin, "timestamp out of range");
    if (!ScaleTimestamp(v, precision, ts_ns)) return Fail(begin, "timestamp out of range");
    *p = tail;
    return true;
  }

  // Parses the line [line_begin, end) into `point`. The caller has skipped leading blanks and
  // comments.
  bool Line(const char* p, Precision precision, Point* point) {
    const Limits& limits = self.limits_;
    self.tags_.clear();
    self.fields_.clear();
    self.scratch_.clear();

    if (!Token(TokenKind::kMeasurement, &p, &point->measurement)) return false;
    if (point->measurement.empty()) return Fail(p, "missing measurement");
    while (p < end && *p == ',') {
      ++p;
      Tag tag;
      const char* key_at = p;
      if (!Token(TokenKind::kKey, &p, &tag.key)) return false;
      if (tag.key.empty()) return Fail(key_at, "missing tag key");
      if (p == end || *p != '=') return Fail(p, "missing tag value");
      ++p;
      const char* value_at = p;
      if (!Token(TokenKind::kKey, &p, &tag.value)) return false;
      if (tag.value.empty()) return Fail(value_at, "missing tag value");
      if (p < end && *p == '=') return Fail(p, "invalid tag value: unescaped '='");
      if (self.tags_.size() == limits.max_tags) return Fail(key_at, "too many tags");
      for (const Tag& t : self.tags_) {
        if (t.key == tag.key) return Fail(key_at, "duplicate tag key");
      }
      self.tags_.push_back(tag);
    }
    point->series_text = std::string_view(point->series_text.data(),
                                          static_cast<size_t>(p - point->series_text.data()));
    if (p == end) return Fail(p, "missing fields");
    if (*p != ' ') return Fail(p, "invalid measurement or tag set");
    while (p < end && *p == ' ') ++p;
    if (p == end) return Fail(p, "missing fields");

    for (;;) {
      Field field;
      const char* key_at = p;
      if (!Token(TokenKind::kKey, &p, &field.key)) return false;
      if (field.key.empty()) return Fail(key_at, "missing field key");
      if (p == end || *p != '=') return Fail(p, "missing field value");
      if (field.key == "time") return Fail(key_at, "invalid field key 'time'");
      ++p;
      if (p == end || *p == ',' || *p == ' ') return Fail(p, "missing field value");
      char c = *p;
      bool ok;
      if (c == '"') {
        std::string_view text;
        ok = StringValue(&p, &text);
        field.value = storage::Value::String(text);
      } else if (c == 't' || c == 'T' || c == 'f' || c == 'F') {
        ok = BoolValue(&p, &field.value);
      } else if (c == '-' || c == '.' || (c >= '0' && c <= '9')) {
        ok = NumberValue(&p, &field.value);
      } else {
        ok = Fail(p, "invalid field value (strings must be double-quoted)");
      }
      if (!ok) return false;
      if (self.fields_.size() == limits.max_fields) return Fail(key_at, "too many fields");
      self.fields_.push_back(field);
      if (p == end || *p == ' ') break;
      if (*p != ',') return Fail(p, "invalid field value");
      ++p;
    }
    while (p < end && *p == ' ') ++p;
    point->has_timestamp = p < end;
    if (point->has_timestamp && !Timestamp(&p, precision, &point->ts_ns)) return false;
    point->tags = self.tags_;
    point->fields = self.fields_;
    return true;
  }
};

LineParser::LineParser(const Limits& limits) : limits_(limits) {
  tags_.reserve(limits_.max_tags);
  fields_.reserve(limits_.max_fields);
  scratch_.reserve(limits_.max_line_bytes);
}

size_t LineParser::Parse(std::string_view text, Precision precision, int64_t now_ns,
                         PointSink& sink, std::vector<Rejection>* rejections, uint32_t first_line) {
  size_t points = 0;
  uint32_t line_no = first_line;
  const char* p = text.data();
  const char* const text_end = p + text.size();
  Impl impl{*this, nullptr, nullptr};
  for (; p < text_end; ++line_no) {
    const char* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(text_end - p)));
    const char* next = nl ? nl + 1 : text_end;
    const char* end = nl ? nl : text_end;
    if (end > p && end[-1] == '\r') --end;
    const char* begin = p;
    p = next;
    if (static_cast<size_t>(end - begin) > limits_.max_line_bytes) {
      rejections->push_back(
          {line_no, static_cast<uint32_t>(limits_.max_line_bytes + 1),
           "line longer than " + std::to_string(limits_.max_line_bytes) + " bytes"});
      continue;
    }
    const char* q = begin;
    while (q < end && (*q == ' ' || *q == '\t')) ++q;
    if (q == end || *q == '#') continue;
    impl.line_begin = begin;
    impl.end = end;
    Point point;
    point.series_text = std::string_view(q, 0);
    point.line = line_no;
    point.ts_ns = now_ns;
    impl.unusual = false;
    bool parsed = impl.Line(q, precision, &point);
    if (impl.unusual) {
      if (auto bad =
              storage::CheckText(std::string_view(begin, static_cast<size_t>(end - begin)))) {
        rejections->push_back(
            {line_no, static_cast<uint32_t>(bad->offset + 1), std::move(bad->reason)});
        continue;
      }
    }
    if (!parsed) {
      rejections->push_back(
          {line_no, static_cast<uint32_t>(impl.error.at - begin + 1), impl.error.reason});
      continue;
    }
    sink.OnPoint(point);
    ++points;
  }
  return points;
}

}  // namespace foresight::ingest
