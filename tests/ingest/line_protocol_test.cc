// The line-protocol conformance suite: each case is an input and either the points it must
// produce (rendered canonically) or the rejection it must get (line:column reason).
#include "ingest/ingest.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace foresight::ingest {
namespace {

using storage::ValueType;

// Renders a point as `measurement[,k=v...] key=type:value[,...] ts`.
std::string Render(const Point& p) {
  std::string out(p.measurement);
  for (const Tag& t : p.tags) out += fmt::format(",{}={}", t.key, t.value);
  out += ' ';
  for (size_t i = 0; i < p.fields.size(); ++i) {
    const Field& f = p.fields[i];
    if (i) out += ',';
    out += std::string(f.key) + '=';
    switch (f.value.type) {
      case ValueType::kFloat: {
        double d;
        std::memcpy(&d, &f.value.bits, sizeof d);
        out += fmt::format("float:{}", d);
        break;
      }
      case ValueType::kInt:
        out += fmt::format("int:{}", static_cast<int64_t>(f.value.bits));
        break;
      case ValueType::kUint:
        out += fmt::format("uint:{}", f.value.bits);
        break;
      case ValueType::kBool:
        out += f.value.bits ? "bool:true" : "bool:false";
        break;
      case ValueType::kString:
        out += fmt::format("string:[{}]", f.value.str);
        break;
    }
  }
  out += fmt::format(" {}", p.ts_ns);
  return out;
}

struct Collect : PointSink {
  std::vector<std::string> points;
  std::vector<std::string> series_texts;
  void OnPoint(const Point& p) override {
    points.push_back(Render(p));
    series_texts.emplace_back(p.series_text);
  }
};

struct Parsed {
  std::vector<std::string> points;
  std::vector<std::string> errors;  // "line:column reason"
};

constexpr int64_t kNow = 1'700'000'000'000'000'000;

Parsed Parse(std::string_view text, Precision precision = Precision::kNanoseconds,
             Limits limits = {}) {
  LineParser parser(limits);
  Collect sink;
  std::vector<Rejection> rejections;
  size_t n = parser.Parse(text, precision, kNow, sink, &rejections);
  EXPECT_EQ(n, sink.points.size());
  Parsed out;
  out.points = sink.points;
  for (const Rejection& r : rejections) {
    out.errors.push_back(fmt::format("{}:{} {}", r.line, r.column, r.reason));
  }
  return out;
}

struct Case {
  const char* name;
  const char* input;
  std::vector<std::string> points;
  std::vector<std::string> errors;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // --- valid -------------------------------------------------------------------------------
      {"minimal", "m f=1 10", {"m f=float:1 10"}, {}},
      {"tags and fields",
       "cpu,host=a,region=eu usage=0.5,idle=99.5 1700000000000000000",
       {"cpu,host=a,region=eu usage=float:0.5,idle=float:99.5 1700000000000000000"},
       {}},
      {"no timestamp takes now", "m f=1", {"m f=float:1 1700000000000000000"}, {}},
      {"negative timestamp", "m f=1 -5", {"m f=float:1 -5"}, {}},
      {"integer", "m f=-42i 1", {"m f=int:-42 1"}, {}},
      {"integer extremes",
       "m a=9223372036854775807i,b=-9223372036854775808i 1",
       {"m a=int:9223372036854775807,b=int:-9223372036854775808 1"},
       {}},
      {"unsigned", "m f=18446744073709551615u 1", {"m f=uint:18446744073709551615 1"}, {}},
      {"float forms",
       "m a=1,b=-1.5,c=.5,d=1.,e=1e3,f=1.5E-3,g=-2e+2,h=0 1",
       {"m a=float:1,b=float:-1.5,c=float:0.5,d=float:1,e=float:1000,f=float:0.0015,"
        "g=float:-200,h=float:0 1"},
       {}},
      {"booleans",
       "m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE 1",
       {"m a=bool:true,b=bool:true,c=bool:true,d=bool:true,e=bool:true,f=bool:false,"
        "g=bool:false,h=bool:false,i=bool:false,j=bool:false 1"},
       {}},
      {"string field", R"(m s="hello world" 1)", {"m s=string:[hello world] 1"}, {}},
      {"string escapes", R"(m s="a \"q\" b\\c \n" 1)", {R"(m s=string:[a "q" b\c \n] 1)"}, {}},
      {"string with separators", R"(m s="a,b=c d" 1)", {"m s=string:[a,b=c d] 1"}, {}},
      {"empty string", R"(m s="" 1)", {"m s=string:[] 1"}, {}},
      {"escaped measurement", R"(my\ meas\,x f=1 1)", {"my meas,x f=float:1 1"}, {}},
      {"equals in measurement", "a=b f=1 1", {"a=b f=float:1 1"}, {}},
      {"escaped tag key and value",
       R"(m,k\ 1\=x=v\,1\ 2 f=1 1)",
       {"m,k 1=x=v,1 2 f=float:1 1"},
       {}},
      {"escaped field key", R"(m f\,1\=\ x=1 1)", {"m f,1= x=float:1 1"}, {}},
      {"other backslashes kept", R"(m,t=a\b f=1 1)", {R"(m,t=a\b f=float:1 1)"}, {}},
      {"backslash escapes the next byte only once",
       R"(m,t=a\\,u=b f=1 1)",
       {R"(m,t=a\\,u=b f=float:1 1)"},
       {}},
      {"escaped backslash before separator in string",
       R"(m s="a\\" 1)",
       {R"(m s=string:[a\] 1)"},
       {}},
      {"unicode",
       "m\xC3\xA9,t=\xE2\x9C\x93 f=\"\xF0\x9F\x98\x80\" 1",
       {"m\xC3\xA9,t=\xE2\x9C\x93 f=string:[\xF0\x9F\x98\x80] 1"},
       {}},
      {"comments and blank lines",
       "# a comment\n\n   \nm f=1 1\n  # indented comment\n",
       {"m f=float:1 1"},
       {}},
      {"crlf", "m f=1 1\r\nm f=2 2\r\n", {"m f=float:1 1", "m f=float:2 2"}, {}},
      {"last line without newline", "m f=1 1\nm f=2 2", {"m f=float:1 1", "m f=float:2 2"}, {}},
      {"leading whitespace", "  \tm f=1 1", {"m f=float:1 1"}, {}},
      {"several spaces between sections", "m,t=1   f=1   7  ", {"m,t=1 f=float:1 7"}, {}},
      {"trailing space without timestamp", "m f=1 ", {"m f=float:1 1700000000000000000"}, {}},
      {"duplicate field keys kept in order", "m f=1,f=2 1", {"m f=float:1,f=float:2 1"}, {}},
      // --- invalid -----------------------------------------------------------------------------
      {"field without equals", "m 1", {}, {"1:4 missing field value"}},
      {"only measurement", "m", {}, {"1:2 missing fields"}},
      {"measurement and tags only", "m,t=1", {}, {"1:6 missing fields"}},
      {"missing measurement", ",t=1 f=1", {}, {"1:1 missing measurement"}},
      {"missing tag value", "m,t= f=1", {}, {"1:5 missing tag value"}},
      {"missing tag equals", "m,t f=1", {}, {"1:4 missing tag value"}},
      {"missing tag key", "m,=v f=1", {}, {"1:3 missing tag key"}},
      {"unescaped equals in tag value",
       "m,t=a=b f=1",
       {},
       {"1:6 invalid tag value: unescaped '='"}},
      {"duplicate tag", "m,t=1,t=2 f=1", {}, {"1:7 duplicate tag key"}},
      {"missing field key", "m =1", {}, {"1:3 missing field key"}},
      {"missing field value", "m f= 1", {}, {"1:5 missing field value"}},
      {"missing field after comma", "m f=1, 1", {}, {"1:7 missing field key"}},
      {"unquoted string",
       "m f=abc 1",
       {},
       {"1:5 invalid field value (strings must be double-quoted)"}},
      {"bad boolean", "m f=tru 1", {}, {"1:5 invalid boolean field value"}},
      {"integer overflow",
       "m f=9223372036854775808i 1",
       {},
       {"1:5 integer field value out of range"}},
      {"integer underflow",
       "m f=-9223372036854775809i 1",
       {},
       {"1:5 integer field value out of range"}},
      {"unsigned overflow",
       "m f=18446744073709551616u 1",
       {},
       {"1:5 unsigned field value out of range"}},
      {"negative unsigned", "m f=-1u 1", {}, {"1:5 unsigned field value must not be negative"}},
      {"float integer suffix with dot", "m f=1.5i 1", {}, {"1:5 invalid integer field value"}},
      {"bare minus", "m f=- 1", {}, {"1:5 invalid number field value"}},
      {"bare dot", "m f=. 1", {}, {"1:5 invalid number field value"}},
      {"two dots", "m f=1.2.3 1", {}, {"1:5 invalid number field value"}},
      {"empty exponent", "m f=1e 1", {}, {"1:5 invalid number field value"}},
      {"plus sign", "m f=+1 1", {}, {"1:5 invalid field value (strings must be double-quoted)"}},
      {"float overflow", "m f=1e400 1", {}, {"1:5 float field value out of range"}},
      {"nan is not a number",
       "m f=NaN 1",
       {},
       {"1:5 invalid field value (strings must be double-quoted)"}},
      {"unterminated string", "m f=\"abc 1", {}, {"1:5 unterminated string field value"}},
      {"string ending in backslash", R"(m f="abc\)", {}, {"1:5 unterminated string field value"}},
      {"backslash at end of measurement",
       R"(m\)",
       {},
       {"1:2 invalid escape: backslash at end of line"}},
      {"backslash at end of tag",
       R"(m,t=a\)",
       {},
       {"1:6 invalid escape: backslash at end of line"}},
      {"bad timestamp", "m f=1 12a", {}, {"1:9 unexpected text after the timestamp"}},
      {"timestamp not a number", "m f=1 abc", {}, {"1:7 invalid timestamp"}},
      {"two timestamps", "m f=1 1 2", {}, {"1:8 unexpected text after the timestamp"}},
      {"timestamp overflow", "m f=1 9223372036854775808", {}, {"1:7 timestamp out of range"}},
      {"timestamp beyond storage range",
       "m f=1 9223372036854775807",
       {},
       {"1:7 timestamp out of range"}},
      {"field named time", "m time=1 1", {}, {"1:3 invalid field key 'time'"}},
      {"garbage after string", "m f=\"a\"x 1", {}, {"1:8 invalid field value"}},
      {"space after tag comma", "m, t=1 f=1", {}, {"1:3 missing tag key"}},
      // --- partial ------------------------------------------------------------------------------
      {"bad lines do not stop good ones",
       "m f=1 1\nm f= 2\nm f=3 3\nbad\nm f=5 5",
       {"m f=float:1 1", "m f=float:3 3", "m f=float:5 5"},
       {"2:5 missing field value", "4:4 missing fields"}},
  };
  return cases;
}

TEST(LineParser, ConformanceSuite) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    Parsed got = Parse(c.input);
    EXPECT_EQ(got.points, c.points) << c.input;
    EXPECT_EQ(got.errors, c.errors) << c.input;
  }
}

TEST(LineParser, ScalesTimestampsByPrecision) {
  EXPECT_EQ(Parse("m f=1 5", Precision::kMicroseconds).points[0], "m f=float:1 5000");
  EXPECT_EQ(Parse("m f=1 5", Precision::kMilliseconds).points[0], "m f=float:1 5000000");
  EXPECT_EQ(Parse("m f=1 5", Precision::kSeconds).points[0], "m f=float:1 5000000000");
  EXPECT_EQ(Parse("m f=1 5", Precision::kMinutes).points[0], "m f=float:1 300000000000");
  EXPECT_EQ(Parse("m f=1 5", Precision::kHours).points[0], "m f=float:1 18000000000000");
  EXPECT_EQ(Parse("m f=1 9223372036854", Precision::kSeconds).errors,
            std::vector<std::string>{"1:7 timestamp out of range"});
}

TEST(LineParser, ParsesPrecisionNames) {
  EXPECT_EQ(*ParsePrecision("ns"), Precision::kNanoseconds);
  EXPECT_EQ(*ParsePrecision("n"), Precision::kNanoseconds);
  EXPECT_EQ(*ParsePrecision(""), Precision::kNanoseconds);
  EXPECT_EQ(*ParsePrecision("us"), Precision::kMicroseconds);
  EXPECT_EQ(*ParsePrecision("u"), Precision::kMicroseconds);
  EXPECT_EQ(*ParsePrecision("ms"), Precision::kMilliseconds);
  EXPECT_EQ(*ParsePrecision("s"), Precision::kSeconds);
  EXPECT_EQ(*ParsePrecision("m"), Precision::kMinutes);
  EXPECT_EQ(*ParsePrecision("h"), Precision::kHours);
  EXPECT_FALSE(ParsePrecision("d").ok());
}

TEST(LineParser, EnforcesLimits) {
  Limits limits;
  limits.max_line_bytes = 20;
  limits.max_tags = 2;
  limits.max_fields = 2;
  Parsed got = Parse(
      "m,a=1,b=2 f=1 1\n"
      "m,a=1,b=2,c=3 f=1\n"
      "m f=1,g=2,h=3\n"
      "m f=1,g=2 123456789012\n",
      Precision::kNanoseconds, limits);
  EXPECT_EQ(got.points, std::vector<std::string>{"m,a=1,b=2 f=float:1 1"});
  EXPECT_EQ(got.errors, (std::vector<std::string>{"2:11 too many tags", "3:11 too many fields",
                                                  "4:21 line longer than 20 bytes"}));
}

TEST(LineParser, AcceptsByDefaultWhatInfluxDbStores) {
  // InfluxDB has no tag count per point and caps string fields at 64 KiB.
  std::string line = "m";
  for (int i = 0; i < 100; ++i) line += fmt::format(",tag{:03}=v", i);
  line += " s=\"" + std::string(64 << 10, 'x') + "\" 1";
  Parsed got = Parse(line);
  EXPECT_EQ(got.errors, std::vector<std::string>{});
  EXPECT_EQ(got.points.size(), 1u);
}

TEST(LineParser, RefusesLinesThatAreNotTextAtTheFirstBadByte) {
  std::string nul(1, '\0');
  Parsed got = Parse(
      "caf\xC3\xA9,t=\xE2\x9C\x93 s=\"\xF0\x9F\x98\x80\tok\" 1\n"  // UTF-8 and tab: stored
      "m,t=\xC3 f=1 1\n"                                           // a lead byte alone
      "m,t=\xC0\x80 f=1 1\n"                                       // overlong NUL
      "m s=\"\xED\xB2\x80\" 1\n"                                   // a low surrogate
      "m\\\xF4\x90\x80\x80 f=1 1\n"                                // escaped, past U+10FFFF
      "m,t=a" +
      nul +
      "b f=1 1\n"
      "m s=\"bell\x07\" 1\n"
      "m f=1 1\x80\n");  // refused by the grammar before any text check
  EXPECT_EQ(got.points.size(), 1u);
  EXPECT_EQ(got.errors,
            (std::vector<std::string>{
                "2:5 invalid UTF-8: bad continuation byte", "3:5 invalid UTF-8: overlong encoding",
                "4:6 invalid UTF-8: UTF-16 surrogate",
                "5:3 invalid UTF-8: code point above U+10FFFF", "6:6 control character U+0000",
                "7:10 control character U+0007", "8:8 unexpected text after the timestamp"}));
}

TEST(LineParser, NumbersLinesFromFirstLine) {
  LineParser parser;
  Collect sink;
  std::vector<Rejection> rejections;
  parser.Parse("m f=1\nbad\n", Precision::kNanoseconds, kNow, sink, &rejections, 41);
  ASSERT_EQ(rejections.size(), 1u);
  EXPECT_EQ(rejections[0].line, 42u);
}

TEST(LineParser, SeriesTextIsTheRawMeasurementAndTags) {
  LineParser parser;
  Collect sink;
  std::vector<Rejection> rejections;
  parser.Parse("cpu,host=a\\ b f=1 1\n  mem f=2 2\n", Precision::kNanoseconds, kNow, sink,
               &rejections);
  EXPECT_EQ(sink.series_texts, (std::vector<std::string>{"cpu,host=a\\ b", "mem"}));
}

TEST(LineParser, KeepsLongTokensIntactAcrossVectorScans) {
  std::string key(100, 'k'), value(77, 'v');
  std::string line = "m," + key + "=" + value + "\\ x," + key + "2=" + value + " " + key + "=1 1";
  Parsed got = Parse(line);
  ASSERT_EQ(got.errors, std::vector<std::string>{});
  EXPECT_EQ(got.points[0],
            "m," + key + "=" + value + " x," + key + "2=" + value + " " + key + "=float:1 1");
}

TEST(LineParser, FloatsRoundTripBitExactly) {
  for (double d : {0.1, 1.0 / 3, 6.02214076e23, 4.9e-324, -0.0, 1.7976931348623157e308}) {
    std::string text = fmt::format("m f={} 1", d);
    LineParser parser;
    struct : PointSink {
      uint64_t bits = 0;
      void OnPoint(const Point& p) override { bits = p.fields[0].value.bits; }
    } sink;
    std::vector<Rejection> rejections;
    parser.Parse(text, Precision::kNanoseconds, kNow, sink, &rejections);
    uint64_t want;
    std::memcpy(&want, &d, sizeof d);
    EXPECT_EQ(sink.bits, want) << text;
  }
}

}  // namespace
}  // namespace foresight::ingest
