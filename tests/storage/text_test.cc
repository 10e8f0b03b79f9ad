// What counts as text (storage.h, "Text"), and the JSON writer's promise to write valid UTF-8
// whatever it is given.
#include "storage/json.h"
#include "storage/storage.h"

#include <gtest/gtest.h>

#include <string>

namespace foresight::storage {
namespace {

std::string Reason(std::string_view s, TextKind kind = TextKind::kLine) {
  auto bad = CheckText(s, kind);
  return bad ? std::to_string(bad->offset) + ": " + bad->reason : "text";
}

TEST(CheckText, AcceptsPrintableAsciiTabsAndEveryScript) {
  EXPECT_EQ(Reason(""), "text");
  EXPECT_EQ(Reason("pump-7 north\tsite"), "text");
  EXPECT_EQ(Reason("Pumpe Süd – 泵 🚰 \xF4\x8F\xBF\xBF"), "text");  // U+10FFFF is the last
  EXPECT_EQ(Reason("\xEF\xBB\xBF"), "text");  // U+FEFF inside text is a character
}

TEST(CheckText, NamesTheFirstByteThatIsNotUtf8AndWhy) {
  EXPECT_EQ(Reason("ab\x80"), "2: invalid UTF-8: unexpected continuation byte");
  EXPECT_EQ(Reason("a\xC0\xAF"), "1: invalid UTF-8: overlong encoding");
  EXPECT_EQ(Reason("a\xC1\xBF"), "1: invalid UTF-8: overlong encoding");
  EXPECT_EQ(Reason("\xE0\x80\xAF"), "0: invalid UTF-8: overlong encoding");
  EXPECT_EQ(Reason("\xF0\x8F\xBF\xBF"), "0: invalid UTF-8: overlong encoding");
  EXPECT_EQ(Reason("x\xED\xA0\x80"), "1: invalid UTF-8: UTF-16 surrogate");
  EXPECT_EQ(Reason("x\xED\xBF\xBF"), "1: invalid UTF-8: UTF-16 surrogate");
  EXPECT_EQ(Reason("\xF4\x90\x80\x80"), "0: invalid UTF-8: code point above U+10FFFF");
  EXPECT_EQ(Reason("\xF5\x80\x80\x80"), "0: invalid UTF-8: byte that never appears in UTF-8");
  EXPECT_EQ(Reason("\xFF"), "0: invalid UTF-8: byte that never appears in UTF-8");
  EXPECT_EQ(Reason("ok\xE2\x82"), "2: invalid UTF-8: truncated sequence");
  EXPECT_EQ(Reason("\xE2\x82x"), "0: invalid UTF-8: bad continuation byte");
}

TEST(CheckText, RefusesControlCharactersButLineBreaksInMultilineText) {
  EXPECT_EQ(Reason(std::string("a\0b", 3)), "1: control character U+0000");
  EXPECT_EQ(Reason("a\x1B[31m"), "1: control character U+001B");
  EXPECT_EQ(Reason("del\x7F"), "3: control character U+007F");
  EXPECT_EQ(Reason("two\nlines"), "3: control character U+000A");
  EXPECT_EQ(Reason("two\r\nlines", TextKind::kMultiline), "text");
  EXPECT_EQ(Reason("bell\x07", TextKind::kMultiline), "4: control character U+0007");
}

TEST(CheckText, FindsTheFaultAtTheSameOffsetInLongTextOfAnyScript) {
  // Long non-ASCII text takes the vectorised validator; the answer must not change with it.
  std::string prefix;
  for (int i = 0; i < 40; ++i) prefix += "Grüße 泵 ";
  EXPECT_EQ(Reason(prefix), "text");
  EXPECT_EQ(Reason(prefix + "\x01"), std::to_string(prefix.size()) + ": control character U+0001");
  EXPECT_EQ(Reason(prefix + "\xED\xA0\x80" + prefix),
            std::to_string(prefix.size()) + ": invalid UTF-8: UTF-16 surrogate");
  EXPECT_EQ(Reason(std::string(100, 'a') + "\x80"),
            "100: invalid UTF-8: unexpected continuation byte");
}

TEST(SkipByteOrderMark, SkipsOnlyALeadingMark) {
  EXPECT_EQ(SkipByteOrderMark("\xEF\xBB\xBFm v=1"), "m v=1");
  EXPECT_EQ(SkipByteOrderMark("m v=1\xEF\xBB\xBF"), "m v=1\xEF\xBB\xBF");
  EXPECT_EQ(SkipByteOrderMark("\xEF\xBB"), "\xEF\xBB");
}

TEST(JsonWriter, WritesEachByteThatIsNotUtf8AsAReplacementCharacter) {
  JsonWriter w;
  w.String("ok-\xFF-\xC0\xAF-\xE2\x82-é");
  EXPECT_EQ(w.str(), "\"ok-\uFFFD-\uFFFD\uFFFD-\uFFFD\uFFFD-é\"");
  EXPECT_TRUE(ParseJson(w.str()).ok());
}

TEST(ParseJson, SkipsALeadingByteOrderMarkAndRefusesLoneSurrogates) {
  EXPECT_TRUE(ParseJsonObject("\xEF\xBB\xBF{\"a\":1}").ok());
  EXPECT_FALSE(ParseJson(R"(["\ud800"])").ok());
  EXPECT_FALSE(ParseJson("[\"\xED\xA0\x80\"]").ok());
}

}  // namespace
}  // namespace foresight::storage
