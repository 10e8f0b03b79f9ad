// What counts as text (storage.h, "Text"). The common case — printable ASCII — is checked 16
// bytes at a time with SSE2; once a byte at or past 0x80 shows up, simdjson's validator (the
// Keiser–Lemire lookup, vectorised for the CPU it runs on) checks the rest of a long string in one
// pass and the SSE2 scan looks only for control characters. Short strings and every failure are
// decoded byte by byte, which is what names the offset and the reason.
#include "storage/storage.h"

#include <simdjson.h>

#include <emmintrin.h>

namespace foresight::storage {
namespace {

// Below this many bytes past the first non-ASCII one, decoding beats a call into simdjson.
constexpr size_t kValidatorMinBytes = 64;

bool AllowedControl(unsigned char c, TextKind kind) {
  return c == '\t' || (kind == TextKind::kMultiline && (c == '\n' || c == '\r'));
}

bool IsControl(unsigned char c, TextKind kind) {
  return (c < 0x20 && !AllowedControl(c, kind)) || c == 0x7F;
}

// The offset of the first byte in [0, s.size()) that is a control character of `kind` or, when
// `stop_at_non_ascii`, at or past 0x80; s.size() when there is none.
size_t FindFlagged(std::string_view s, TextKind kind, bool stop_at_non_ascii) {
  const char* const begin = s.data();
  const char* p = begin;
  const char* const end = p + s.size();
  const __m128i k1f = _mm_set1_epi8(0x1F);
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i lf = _mm_set1_epi8(kind == TextKind::kMultiline ? '\n' : '\t');
  const __m128i cr = _mm_set1_epi8(kind == TextKind::kMultiline ? '\r' : '\t');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, k1f), v);
    __m128i allowed = _mm_or_si128(_mm_cmpeq_epi8(v, tab),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
    __m128i bad = _mm_or_si128(_mm_andnot_si128(allowed, low), _mm_cmpeq_epi8(v, del));
    int mask = _mm_movemask_epi8(bad) | (stop_at_non_ascii ? _mm_movemask_epi8(v) : 0);
    if (mask != 0)
      return static_cast<size_t>(p - begin) + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
  for (; p < end; ++p) {
    auto c = static_cast<unsigned char>(*p);
    if (IsControl(c, kind) || (stop_at_non_ascii && c >= 0x80)) break;
  }
  return static_cast<size_t>(p - begin);
}

// The length of the sequence at s[0] (1 to 4), or 0 and why it is not UTF-8.
size_t Decode(std::string_view s, const char** reason) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  if (c < 0x80) return 1;
  if (c < 0xC0) return *reason = "invalid UTF-8: unexpected continuation byte", 0;
  if (c < 0xC2) return *reason = "invalid UTF-8: overlong encoding", 0;
  if (c > 0xF4) return *reason = "invalid UTF-8: byte that never appears in UTF-8", 0;
  size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  // The second byte's range depends on the first: it is where overlong forms, surrogates and
  // code points past U+10FFFF are excluded.
  unsigned char lo = 0x80, hi = 0xBF;
  const char* narrow = nullptr;
  if (c == 0xE0) lo = 0xA0, narrow = "invalid UTF-8: overlong encoding";
  if (c == 0xED) hi = 0x9F, narrow = "invalid UTF-8: UTF-16 surrogate";
  if (c == 0xF0) lo = 0x90, narrow = "invalid UTF-8: overlong encoding";
  if (c == 0xF4) hi = 0x8F, narrow = "invalid UTF-8: code point above U+10FFFF";
  for (size_t i = 1; i < n; ++i) {
    if (i == s.size()) return *reason = "invalid UTF-8: truncated sequence", 0;
    unsigned char b = byte(i);
    if (b < 0x80 || b > 0xBF) return *reason = "invalid UTF-8: bad continuation byte", 0;
    if (i == 1 && (b < lo || b > hi)) return *reason = narrow, 0;
  }
  return n;
}

TextError ControlError(size_t offset, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string reason = "control character U+00";
  reason += kHex[c >> 4];
  reason += kHex[c & 15];
  return {offset, std::move(reason)};
}

}  // namespace

std::optional<TextError> CheckText(std::string_view s, TextKind kind) {
  size_t i = FindFlagged(s, kind, /*stop_at_non_ascii=*/true);
  if (i == s.size()) return std::nullopt;
  if (s.size() - i >= kValidatorMinBytes && simdjson::validate_utf8(s.data() + i, s.size() - i)) {
    size_t at = i + FindFlagged(s.substr(i), kind, /*stop_at_non_ascii=*/false);
    if (at == s.size()) return std::nullopt;
    return ControlError(at, static_cast<unsigned char>(s[at]));
  }
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (IsControl(c, kind)) return ControlError(i, c);
    const char* reason = nullptr;
    size_t n = Decode(s.substr(i), &reason);
    if (n == 0) return TextError{i, reason};
    i += n;
  }
  return std::nullopt;
}

size_t Utf8SequenceLength(std::string_view s) {
  const char* reason = nullptr;
  return Decode(s, &reason);
}

std::string_view SkipByteOrderMark(std::string_view body) {
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  return body;
}

}  // namespace foresight::storage
