// The Prometheus HTTP API end to end: Debian's promtool (a client nobody here wrote) queries
// what line protocol wrote, and the routes answer in Prometheus' shapes.
#include "tests/http/appliance.h"
#include "tests/http_request.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <ctime>

namespace foresight::http {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using testing::Reply;

class PrometheusApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new foresight::testing::TempDir();
    foresight::testing::ApplianceOptions options;
    options.auth.jwt_secret = "prometheus-test-signing-key-0123456789";
    options.server.rate_limit_per_s = 0;
    appliance_ = new foresight::testing::Appliance(dir_->Sub("db"), options);
    acme_ = appliance_->storage->CreateTenant("acme").value();
    Auth& auth = *appliance_->auth;
    auto client = auth.CreateClient(acme_, "", Role::kViewer).value();
    viewer_ = auth.IssueToken(client.client.id, client.secret, std::time(nullptr)).value().jwt;
    writer_ = auth.tokens().Create(acme_, "gateway-1").value().secret;
    // Ten minutes of a counter rising 2 per second on two pumps, sampled every 15 s, ending at
    // t_ (a whole minute in the past, so every query below names its times).
    t_ = std::time(nullptr) / 60 * 60 - 60;
    std::string lines;
    for (int64_t s = t_ - 600; s <= t_; s += 15) {
      for (int pump = 1; pump <= 2; ++pump) {
        lines += "pump,asset_id=p" + std::to_string(pump) +
                 ",site=north strokes=" + std::to_string(2 * (s - (t_ - 600)) * pump) +
                 "i,temp=" + std::to_string(40 + pump) + " " + std::to_string(s) + "\n";
      }
    }
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/write?precision=s", 11};
    req.set(bhttp::field::authorization, "Token " + writer_);
    req.body() = lines;
    ASSERT_EQ(testing::Send(appliance_->port(), std::move(req)).status, 204u);
  }
  static void TearDownTestSuite() {
    delete appliance_;
    delete dir_;
  }

  static Reply Get(const std::string& target, const std::string& authorization) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
    if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
    return testing::Send(appliance_->port(), std::move(req));
  }
  static Reply Viewer(const std::string& target) { return Get(target, "Bearer " + viewer_); }
  // promtool sends the URL's user information as Basic credentials.
  static std::string Server() {
    return "http://grafana:" + viewer_ + "@127.0.0.1:" + std::to_string(appliance_->port());
  }

  static inline foresight::testing::TempDir* dir_;
  static inline foresight::testing::Appliance* appliance_;
  static inline storage::TenantId acme_;
  static inline std::string viewer_, writer_;
  static inline int64_t t_;
};

TEST_F(PrometheusApi, PromtoolQueriesInstantAndRangeResults) {
  testing::CommandOutput ran =
      testing::RunCommand("promtool query instant --time=" + std::to_string(t_) + " '" + Server() +
                          "' 'sum by (site) (rate(pump_strokes[5m]))'");
  auto& [code, out] = ran;
  ASSERT_EQ(code, 0) << out;
  // 2 and 4 strokes a second: exactly 6, the samples reaching both edges of the window.
  EXPECT_EQ(out, "{site=\"north\"} => 6 @[" + std::to_string(t_) + "]\n");

  ran = testing::RunCommand("promtool query range --start=" + std::to_string(t_ - 120) +
                            " --end=" + std::to_string(t_) + " --step=1m '" + Server() +
                            "' 'max(pump_temp) by (asset_id)'");
  ASSERT_EQ(code, 0) << out;
  const std::string steps = std::to_string(t_ - 120) + "]\n42 @[" + std::to_string(t_ - 60) +
                            "]\n42 @[" + std::to_string(t_) + "]\n";
  EXPECT_EQ(out, "{asset_id=\"p1\"} =>\n41 @[" + std::to_string(t_ - 120) + "]\n41 @[" +
                     std::to_string(t_ - 60) + "]\n41 @[" + std::to_string(t_) +
                     "]\n{asset_id=\"p2\"} =>\n42 @[" + steps);

  ran = testing::RunCommand("promtool query labels '" + Server() + "' asset_id");
  EXPECT_EQ(out, "p1\np2\n");
}

TEST_F(PrometheusApi, AnswersInPrometheusShapes) {
  Reply v = Viewer("/api/v1/query?time=" + std::to_string(t_) +
                   "&query=pump_temp%7Basset_id%3D%22p2%22%7D");
  ASSERT_EQ(v.status, 200u) << v.text;
  EXPECT_EQ(v.text,
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
            "{\"__name__\":\"pump_temp\",\"asset_id\":\"p2\",\"site\":\"north\"},\"value\":[" +
                std::to_string(t_) + ",\"42\"]}]}}");
  Reply scalar = Viewer("/api/v1/query?time=1700000000.5&query=1%2B1");
  EXPECT_EQ(scalar.text,
            R"({"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"2"]}})");
  Reply series = Get("/api/v1/series?match[]={asset_id=\"p1\"}", "Bearer " + viewer_);
  ASSERT_EQ(series.status, 200u) << series.text;
  EXPECT_EQ(series.body.at("data").as_array().size(), 2u) << series.text;
  Reply labels = Viewer("/api/v1/labels");
  EXPECT_EQ(labels.text, R"({"status":"success","data":["__name__","asset_id","site"]})");
  Reply values = Viewer("/api/v1/label/__name__/values");
  EXPECT_EQ(values.text, R"({"status":"success","data":["pump_strokes","pump_temp"]})");
  Reply metadata = Viewer("/api/v1/metadata?metric=pump_temp");
  EXPECT_EQ(metadata.body.at("data").at("pump_temp").at(0).at("type"), "gauge");
  EXPECT_EQ(Viewer("/api/v1/status/buildinfo").body.at("data").at("version"), "2.40.0");

  Reply range = Viewer("/api/v1/query_range?query=pump_temp&start=" + std::to_string(t_ - 60) +
                       "&end=" + std::to_string(t_) + "&step=30s");
  ASSERT_EQ(range.status, 200u) << range.text;
  EXPECT_EQ(range.body.at("data").at("resultType"), "matrix");
  EXPECT_EQ(range.body.at("data").at("result").at(0).at("values").as_array().size(), 3u);
}

TEST_F(PrometheusApi, RefusesBadInputAndCredentialsThatMayNotRead) {
  Reply bad = Viewer("/api/v1/query?query=rate(pump_temp)");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.body.at("status"), "error");
  EXPECT_EQ(bad.body.at("errorType"), "bad_data");
  EXPECT_NE(bad.text.find("needs a range vector"), std::string::npos) << bad.text;
  EXPECT_EQ(Viewer("/api/v1/query").status, 400u);
  EXPECT_EQ(Viewer("/api/v1/query?query=up&time=yesterday").status, 400u);
  EXPECT_EQ(Viewer("/api/v1/query_range?query=up&start=1&end=2").status, 400u) << "no step";
  EXPECT_EQ(Viewer("/api/v1/query_range?query=up&start=1&end=2&step=-5").status, 400u);
  EXPECT_EQ(Viewer("/api/v1/query_range?query=up&start=0&end=100000&step=1").status, 400u)
      << "past 11,000 steps";
  EXPECT_EQ(Viewer("/api/v1/series").status, 400u) << "no match[]";
  EXPECT_EQ(Viewer("/api/v1/series?match[]=rate(x%5B5m%5D)").status, 400u);
  EXPECT_EQ(Get("/api/v1/query?query=up", "").status, 401u);
  Reply writer = Get("/api/v1/query?query=up", "Token " + writer_);
  EXPECT_EQ(writer.status, 403u);
  EXPECT_EQ(writer.body.at("status"), "error");
}

}  // namespace
}  // namespace foresight::http
