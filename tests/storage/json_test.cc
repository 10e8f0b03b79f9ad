// The project's one JSON parser and writer (storage/json.h).
#include "storage/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace foresight::storage {
namespace {

namespace json = boost::json;

TEST(Json, WritesNumbersAsPeopleWriteThem) {
  json::object o = {{"a", 99.6}, {"b", 129.0}, {"c", 0.25}, {"d", 1},
                    {"e", -7},   {"f", 1e-7},  {"g", 1e21}, {"h", uint64_t{18446744073709551615u}}};
  EXPECT_EQ(JsonText(o), R"({"a":99.6,"b":129.0,"c":0.25,"d":1,"e":-7,"f":1e-07,"g":1e+21,)"
                         R"("h":18446744073709551615})");
}

TEST(Json, WritesAFloatInItsOwnShortestForm) {
  JsonWriter w;
  w.BeginArray().Number(0.1f).Number(0.1).Number(3.0f).EndArray();
  EXPECT_EQ(w.str(), "[0.1,0.1,3.0]");
}

TEST(Json, WritesNonFiniteNumbersAsNull) {
  json::array a = {std::numeric_limits<double>::infinity(), std::nan("")};
  EXPECT_EQ(JsonText(json::value(a)), "[null,null]");
}

TEST(Json, EscapesQuotesBackslashesAndControlCharacters) {
  std::string text =
      JsonText(json::value(std::string("a\"b\\c\nd\x01\x7f"
                                       "é")));
  EXPECT_EQ(text, "\"a\\\"b\\\\c\\nd\\u0001\\u007f\xc3\xa9\"");
  auto back = ParseJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->as_string(), std::string("a\"b\\c\nd\x01\x7f"
                                           "é"));
}

TEST(Json, ReadsBackEverythingItWrites) {
  json::object o = {{"name", "pump-1"},
                    {"nested", {{"list", {1, 2.5, "x", nullptr, true}}, {"empty", json::object()}}},
                    {"big", int64_t{-9007199254740993}}};
  auto back = ParseJsonObject(JsonText(o));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, o);
}

TEST(Json, RefusesWhatIsNotOneJsonDocument) {
  for (std::string_view bad : {"", "{", "{\"a\":}", "[1,]", "nul", "{} {}", "\"\xff\"", "01"}) {
    auto v = ParseJson(bad);
    EXPECT_EQ(v.ok() ? Status::Code::kOk : v.status().code(), Status::Code::kInvalidArgument)
        << bad;
  }
}

TEST(Json, ParseJsonObjectRefusesOtherValues) {
  auto v = ParseJsonObject("[1]");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("not a JSON object"), std::string_view::npos);
}

}  // namespace
}  // namespace foresight::storage
