// Text end to end (issue #21): every way a client can hand the server a string — line protocol,
// JSON readings, REST bodies, path segments, query strings, CSV imports — refuses what is not
// text (storage.h, "Text"), and every JSON answer is valid UTF-8 whatever the storage holds.
#include "http/http.h"
#include "tests/http/appliance.h"
#include "tests/http_request.h"
#include "tests/test_util.h"

#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <ctime>
#include <string>

namespace foresight::http {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using testing::Reply;

class TextIntegrity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new foresight::testing::TempDir();
    foresight::testing::ApplianceOptions options;
    options.auth.jwt_secret = "text-test-signing-key-0123456789abcdef";
    options.server.rate_limit_per_s = 0;
    appliance_ = new foresight::testing::Appliance(dir_->Sub("db"), options);
    storage_ = appliance_->storage.get();
    acme_ = storage_->CreateTenant("acme").value();
    Auth& auth = *appliance_->auth;
    auto client = auth.CreateClient(acme_, "", Role::kAdmin).value();
    admin_ = auth.IssueToken(client.client.id, client.secret, std::time(nullptr)).value().jwt;
    writer_ = auth.tokens().Create(acme_, "gateway-1").value().secret;
  }

  static void TearDownTestSuite() {
    delete appliance_;
    delete dir_;
  }

  static Reply Call(bhttp::verb method, const std::string& target, const std::string& authorization,
                    const std::string& body = "", const std::string& type = "application/json") {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::authorization, authorization);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, type);
      req.body() = body;
    }
    return testing::Send(appliance_->port(), std::move(req));
  }
  static Reply Admin(bhttp::verb method, const std::string& target, const std::string& body = "",
                     const std::string& type = "application/json") {
    return Call(method, target, "Bearer " + admin_, body, type);
  }
  static Reply WriteLines(const std::string& body) {
    return Call(bhttp::verb::post, "/api/v2/write?bucket=acme&precision=s", "Token " + writer_,
                body, "text/plain");
  }
  static Reply WriteReadings(const std::string& body) {
    return Call(bhttp::verb::post, "/api/v1/tenants/acme/readings", "Bearer " + writer_, body);
  }
  static bool HasSeries(std::string_view measurement) {
    for (const storage::SeriesInfo& s : storage_->ListSeries(acme_)) {
      if (s.key.measurement == measurement) return true;
    }
    return false;
  }

  static inline foresight::testing::TempDir* dir_;
  static inline foresight::testing::Appliance* appliance_;
  static inline storage::Storage* storage_;
  static inline storage::TenantId acme_;
  static inline std::string admin_, writer_;
};

TEST_F(TextIntegrity, LineProtocolRefusesEachLineThatIsNotTextByColumnAndStoresTheRest) {
  const std::string nul(1, '\0');
  auto r = WriteLines(
      "lp_good,asset_id=p1 v=1 1767225600\n"
      "lp_overlong,asset_id=p1 v=1 1767225600\n"  // stored: the bad bytes are on the lines below
      "lp_bad,asset_id=\xC0\xAF v=1 1767225600\n"
      "lp_bad,asset_id=p1 s=\"\xED\xA0\x80\" 1767225600\n"
      "lp_bad,asset_id=p" +
      nul +
      "1 v=1 1767225600\n"
      "lp_bad\x7F,asset_id=p1 v=1 1767225600\n"
      "lp_tab,asset_id=p1 s=\"a\tb\" 1767225600\n");
  ASSERT_EQ(r.status, 400) << r.text;
  const json::array& rejected = r.body.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 4u) << r.text;
  EXPECT_EQ(rejected[0].at("line"), 3);
  EXPECT_EQ(rejected[0].at("column"), 17);
  EXPECT_EQ(rejected[0].at("reason"), "invalid UTF-8: overlong encoding");
  EXPECT_EQ(rejected[1].at("column"), 23);
  EXPECT_EQ(rejected[1].at("reason"), "invalid UTF-8: UTF-16 surrogate");
  EXPECT_EQ(rejected[2].at("column"), 18);
  EXPECT_EQ(rejected[2].at("reason"), "control character U+0000");
  EXPECT_EQ(rejected[3].at("column"), 7);
  EXPECT_EQ(rejected[3].at("reason"), "control character U+007F");
  EXPECT_TRUE(HasSeries("lp_good"));
  EXPECT_TRUE(HasSeries("lp_overlong"));
  EXPECT_TRUE(HasSeries("lp_tab"));
  EXPECT_FALSE(HasSeries("lp_bad"));
  EXPECT_FALSE(HasSeries("lp_bad\x7F"));
}

TEST_F(TextIntegrity, JsonReadingsRefuseEscapedControlCharactersAndDocumentsThatAreNotUtf8) {
  auto r = WriteReadings(R"([{"asset_id":"jr-1","metrics":{"v":1}},)"
                         R"({"asset_id":"jr-\u0001","metrics":{"v":1}},)"
                         R"({"asset_id":"jr-2","tags":{"site":"a\u0000b"},"metrics":{"v":1}},)"
                         R"({"asset_id":"jr-3","metrics":{"note":"two\nlines"}}])");
  ASSERT_EQ(r.status, 400) << r.text;
  const json::array& rejected = r.body.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 2u) << r.text;
  EXPECT_EQ(rejected[0].at("index"), 2);
  EXPECT_EQ(rejected[0].at("reason"), "asset_id: control character U+0001");
  EXPECT_EQ(rejected[1].at("index"), 3);
  EXPECT_EQ(rejected[1].at("reason"), "tags.site: control character U+0000");
  EXPECT_TRUE(storage_->GetAsset(acme_, "jr-1").ok());
  EXPECT_TRUE(storage_->GetAsset(acme_, "jr-3").ok());

  for (std::string bad : {std::string(R"([{"asset_id":"jr-)") + "\xFF" + R"(","metrics":{"v":1}}])",
                          std::string(R"([{"asset_id":"jr-\ud800","metrics":{"v":1}}])")}) {
    auto refused = WriteReadings(bad);
    EXPECT_EQ(refused.status, 400) << refused.text;
    EXPECT_EQ(refused.body.at("error").at("code"), "malformed_json") << refused.text;
  }
}

TEST_F(TextIntegrity, ApiBodiesPathSegmentsAndQueryStringsThatAreNotTextAreRefused) {
  auto control = Admin(bhttp::verb::post, "/api/v1/tenants/acme/assets",
                       R"({"id":"api-1","name":"bell\u0007"})");
  EXPECT_EQ(control.status, 400) << control.text;
  EXPECT_EQ(control.body.at("error").at("code"), "invalid_argument");
  EXPECT_EQ(control.body.at("error").at("message"), "name: control character U+0007 at byte 5");
  auto key =
      Admin(bhttp::verb::post, "/api/v1/tenants/acme/assets", R"({"id":"api-1","lo\u001bc":"x"})");
  EXPECT_EQ(key.status, 400) << key.text;
  EXPECT_EQ(key.body.at("error").at("message"),
            "a member name: control character U+001B at byte 3");
  auto raw = Admin(bhttp::verb::post, "/api/v1/tenants/acme/assets", "{\"id\":\"api-\xE2\x82\"}");
  EXPECT_EQ(raw.status, 400) << raw.text;
  EXPECT_EQ(raw.body.at("error").at("code"), "malformed_json");
  auto surrogate =
      Admin(bhttp::verb::post, "/api/v1/tenants/acme/assets", R"({"id":"api-\udfff"})");
  EXPECT_EQ(surrogate.status, 400) << surrogate.text;
  EXPECT_FALSE(storage_->GetAsset(acme_, "api-1").ok());

  auto path = Admin(bhttp::verb::get, "/api/v1/tenants/acme/assets/api-%C3%28");
  EXPECT_EQ(path.status, 400) << path.text;
  EXPECT_EQ(path.body.at("error").at("message"),
            "a path segment: invalid UTF-8: bad continuation byte");
  auto query = Admin(bhttp::verb::get, "/api/v1/tenants/acme/assets?q=%00");
  EXPECT_EQ(query.status, 400) << query.text;

  // Multi-line text stays multi-line, and text in every script is text.
  auto ok = Admin(bhttp::verb::post, "/api/v1/tenants/acme/assets",
                  R"({"id":"api-2","name":"Pumpe Süd – 泵 🚰","model":"line 1\nline 2"})");
  ASSERT_EQ(ok.status, 201) << ok.text;
  EXPECT_EQ(ok.body.at("name"), "Pumpe Süd – 泵 🚰");
}

TEST_F(TextIntegrity, CsvImportsRefuseTheRowsThatAreNotText) {
  ASSERT_EQ(Admin(bhttp::verb::post, "/api/v1/tenants/acme/assets", R"({"id":"csv-1"})").status,
            201);
  auto r = Admin(bhttp::verb::post, "/api/v1/tenants/acme/maintenance/import",
                 "asset_id,kind,performed_at,notes\n"
                 "csv-1,inspection,2026-03-01T00:00:00Z,fine\n"
                 "csv-1,inspection,2026-03-02T00:00:00Z,bad \xF5 byte\n"
                 "csv-1,inspection,2026-03-03T00:00:00Z,\"two\nlines\"\n",
                 "text/csv");
  ASSERT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body.at("imported"), 2);
  const json::array& rejected = r.body.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].at("row"), 3);
  EXPECT_EQ(rejected[0].at("reason"),
            "column notes: invalid UTF-8: byte that never appears in UTF-8");
}

// Found by csv_fuzz (tests/http/corpus/csv_import/finding_order_id_across_lines): a quoted order
// number with a line break in it became a maintenance record's id.
TEST_F(TextIntegrity, CsvImportsRefuseRowIdsThatSpanLines) {
  ASSERT_EQ(Admin(bhttp::verb::post, "/api/v1/tenants/acme/assets", R"({"id":"10004712"})").status,
            201);
  auto r = Admin(bhttp::verb::post, "/api/v1/tenants/acme/maintenance/import",
                 "Order;Order Type;Equipment;Description;Actual Finish Date\n"
                 "4000200;PM02;10004712;Lube;05.03.2026\n"
                 "\"40002\n01\";PM02;10004712;Lube;06.03.2026\n",
                 "text/csv");
  ASSERT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body.at("imported"), 1);
  const json::array& rejected = r.body.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].at("row"), 3);
  EXPECT_EQ(rejected[0].at("reason"),
            "the row's id is not one line of text: control character U+000A");
}

TEST_F(TextIntegrity, AByteOrderMarkAtTheStartOfABodyIsSkipped) {
  EXPECT_EQ(WriteLines("\xEF\xBB\xBF"
                       "bom_lines,asset_id=b1 v=1 1767225600\n")
                .status,
            204);
  EXPECT_TRUE(HasSeries("bom_lines"));
  EXPECT_EQ(WriteReadings("\xEF\xBB\xBF"
                          R"({"asset_id":"bom-2","metrics":{"v":1}})")
                .status,
            200);
  EXPECT_TRUE(storage_->GetAsset(acme_, "bom-2").ok());
  EXPECT_EQ(Admin(bhttp::verb::post, "/api/v1/tenants/acme/assets",
                  "\xEF\xBB\xBF"
                  R"({"id":"bom-3"})")
                .status,
            201);
}

// Storage takes any bytes, so what an older version or a damaged record left behind is written
// straight into it here; the answers must still parse as strict UTF-8 JSON.
TEST_F(TextIntegrity, EveryJsonAnswerIsValidUtf8WhateverIsStored) {
  const std::string bad_id = "old-\xFF\xC0\xAF-\xED\xA0\x80";
  storage::Asset asset;
  asset.id = bad_id;
  asset.attributes = {{"site", "s\xE2\x82"}};
  ASSERT_TRUE(storage_->PutAsset(acme_, asset).ok());
  auto series = storage_->ResolveSeries(
      acme_,
      std::vector<storage::SeriesSpec>{
          {.key = {.measurement = "old\xF8", .tags = {{"asset_id", bad_id}}, .field = "v"}}});
  ASSERT_TRUE(series.ok());
  ASSERT_TRUE((*series)[0].ok());
  storage::Sample sample{.series = *(*series)[0],
                         .ts_ns = 1'767'225'600'000'000'000,
                         .value = storage::Value::Float(1)};
  ASSERT_TRUE(storage_->Append(acme_, std::span(&sample, 1)).ok());

  auto strict = [](const Reply& r, const std::string& target) {
    boost::system::error_code ec;
    json::parse(r.text, ec);  // Boost.JSON refuses invalid UTF-8 unless told otherwise
    EXPECT_FALSE(ec) << target << " answered " << r.status << ": " << ec.message();
  };
  auto openapi = Admin(bhttp::verb::get, "/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  size_t swept = 0;
  for (const auto& [path, item] : openapi.body.at("paths").as_object()) {
    std::string target(path);
    if (!item.as_object().contains("get") || target.find("{tenant}") == std::string::npos) continue;
    target.replace(target.find("{tenant}"), 8, "acme");
    if (target.find('{') != std::string::npos) continue;
    Reply r = Admin(bhttp::verb::get, target);
    if (r.raw[bhttp::field::content_type].starts_with("application/json")) {
      strict(r, target);
      ++swept;
    }
  }
  EXPECT_GE(swept, 15u);
  // The routes that name the asset and its series.
  const std::string escaped_id = "old-%FF%C0%AF-%ED%A0%80";
  const std::string target = "/api/v1/tenants/acme/assets?q=old";
  Reply list = Admin(bhttp::verb::get, target);
  EXPECT_EQ(list.status, 200) << list.text;
  strict(list, target);
  EXPECT_EQ(list.body.at("items").at(0).at("id"), "old-\uFFFD\uFFFD\uFFFD-\uFFFD\uFFFD\uFFFD")
      << list.text;
  // A path segment that is not text is refused rather than looked up.
  EXPECT_EQ(Admin(bhttp::verb::get, "/api/v1/tenants/acme/assets/" + escaped_id).status, 400);
}

}  // namespace
}  // namespace foresight::http
