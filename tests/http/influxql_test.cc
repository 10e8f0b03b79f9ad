// /query end to end: clients nobody here wrote (Debian's influx CLI and python3-influxdb) read
// back what was written, and the route takes credentials as Influx clients send them.
#include "tests/http/appliance.h"
#include "tests/http/forge.h"
#include "tests/http_request.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <map>

namespace foresight::http {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using testing::Reply;

constexpr int64_t kMinuteS = 60;

class InfluxQuery : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new foresight::testing::TempDir();
    foresight::testing::ApplianceOptions options;
    options.auth.jwt_secret = "influxql-test-signing-key-0123456789";
    options.server.rate_limit_per_s = 0;
    appliance_ = new foresight::testing::Appliance(dir_->Sub("db"), options);
    acme_ = appliance_->storage->CreateTenant("acme").value();
    Auth& auth = *appliance_->auth;
    auto client = auth.CreateClient(acme_, "", Role::kViewer).value();
    viewer_ = auth.IssueToken(client.client.id, client.secret, std::time(nullptr)).value().jwt;
    auto admin = auth.CreateClient(acme_, "", Role::kAdmin).value();
    admin_ = auth.IssueToken(admin.client.id, admin.secret, std::time(nullptr)).value().jwt;
    writer_ = auth.tokens().Create(acme_, "gateway-1").value().secret;
    // An hour of readings a minute apart, ending a minute before now: two pumps and a fan,
    // and a line with no asset tag at all.
    now_s_ = std::time(nullptr) / kMinuteS * kMinuteS;
    std::string lines;
    for (int i = 0; i < 60; ++i) {
      const int64_t t = now_s_ - (60 - i) * kMinuteS;
      for (int a = 0; a < 3; ++a) {
        lines += "machine,asset_id=m" + std::to_string(a) +
                 ",asset_type=" + (a < 2 ? "pump" : "fan") + " temp=" + std::to_string(Temp(a, i)) +
                 " " + std::to_string(t) + "\n";
      }
      lines += "hall humidity=" + std::to_string(40 + i % 3) + "i " + std::to_string(t) + "\n";
    }
    Reply w = Call(bhttp::verb::post, "/write?db=acme&precision=s", "Token " + writer_, lines,
                   "text/plain");
    ASSERT_EQ(w.status, 204u) << w.text;
  }
  static void TearDownTestSuite() {
    delete appliance_;
    delete dir_;
  }
  static double Temp(int asset, int minute) { return 20 + asset * 5 + minute % 4; }

  static Reply Call(bhttp::verb method, const std::string& target, const std::string& authorization,
                    const std::string& body = "", const std::string& type = "") {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
    if (!type.empty()) req.set(bhttp::field::content_type, type);
    req.body() = body;
    return testing::Send(appliance_->port(), std::move(req));
  }
  static std::string Url(const std::string& q) {
    std::string out;
    for (unsigned char c : q) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(hex);
    }
    return out;
  }
  static std::string Influx(const std::string& statement, const std::string& format = "column") {
    const std::string command = "influx -host 127.0.0.1 -port " +
                                std::to_string(appliance_->port()) + " -username grafana " +
                                "-password '" + viewer_ + "' -database acme -format " + format +
                                " -precision s -execute '" + statement + "'";
    testing::CommandOutput r = testing::RunCommand(command);
    EXPECT_EQ(r.code, 0) << command << "\n" << r.out;
    return r.out;
  }

  static inline foresight::testing::TempDir* dir_;
  static inline foresight::testing::Appliance* appliance_;
  static inline storage::TenantId acme_;
  static inline std::string viewer_, admin_, writer_;
  static inline int64_t now_s_;
};

TEST_F(InfluxQuery, TheInfluxCliListsAndAggregatesWhatWasWritten) {
  ASSERT_EQ(testing::RunCommand("influx -version").code, 0)
      << "Debian's influxdb-client (tools/test.sh installs it)";
  const std::string measurements = Influx("SHOW MEASUREMENTS");
  EXPECT_NE(measurements.find("hall"), std::string::npos) << measurements;
  EXPECT_NE(measurements.find("machine"), std::string::npos) << measurements;
  const std::string values =
      Influx("SHOW TAG VALUES FROM machine WITH KEY = \"asset_type\"", "csv");
  EXPECT_EQ(values, "name,key,value\nmachine,asset_type,fan\nmachine,asset_type,pump\n");

  // A minute's mean per asset type over the last half hour of data (an absolute range, as
  // Grafana's $timeFilter sends it): recomputed from what was written.
  const std::string csv = Influx(
      "SELECT mean(temp) FROM machine WHERE time >= " + std::to_string(now_s_ - 1800) +
          "s AND time < " + std::to_string(now_s_) + "s GROUP BY time(1m), asset_type fill(null)",
      "csv");
  std::map<std::pair<std::string, int64_t>, std::string> got;
  size_t rows = 0;
  for (size_t at = 0; at < csv.size();) {
    size_t end = csv.find('\n', at);
    std::string line = csv.substr(at, end - at);
    at = end + 1;
    if (line.starts_with("name,")) continue;  // the CLI repeats the header for each series
    // machine,asset_type=pump,<time>,<mean>
    size_t c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
    got[{line.substr(c1 + 1, c2 - c1 - 1), std::stoll(line.substr(c2 + 1, c3 - c2 - 1))}] =
        line.substr(c3 + 1);
    ++rows;
  }
  EXPECT_EQ(rows, 2u * 30) << csv;
  for (int i = 30; i < 60; ++i) {
    const int64_t t = now_s_ - (60 - i) * kMinuteS;
    const double pump = (Temp(0, i) + Temp(1, i)) / 2;
    ASSERT_TRUE(got.contains({"asset_type=pump", t})) << t << "\n" << csv;
    EXPECT_DOUBLE_EQ(std::stod(got[{"asset_type=pump", t}]), pump) << t;
    EXPECT_DOUBLE_EQ(std::stod(got[{"asset_type=fan", t}]), Temp(2, i)) << t;
  }
}

TEST_F(InfluxQuery, ThePythonClientReadsPointsByMeasurementAndTags) {
  const std::string script =
      "from influxdb import InfluxDBClient\n"
      "import sys\n"
      "c = InfluxDBClient('127.0.0.1', " +
      std::to_string(appliance_->port()) +
      ", 'grafana', sys.argv[1], 'acme')\n"
      "print([d['name'] for d in c.get_list_database()])\n"
      "r = c.query('SELECT last(humidity), count(humidity) FROM hall')\n"
      "p = list(r.get_points())[0]\n"
      "print(p['last'], p['count'])\n"
      "r = c.query('SELECT max(temp) FROM machine GROUP BY asset_id')\n"
      "print(sorted((k[1]['asset_id'], list(v)[0]['max']) for k, v in r.items()))\n";
  const std::string path = dir_->Sub("client.py");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(script.c_str(), f);
  std::fclose(f);
  testing::CommandOutput r = testing::RunCommand("/usr/bin/python3 " + path + " '" + viewer_ + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  // 59 % 3 = 2: the last humidity is 42; each asset's maximum is its Temp(a, 3).
  EXPECT_EQ(r.out, "['acme']\n42 60\n[('m0', 23.0), ('m1', 28.0), ('m2', 33.0)]\n") << r.out;
}

TEST_F(InfluxQuery, TakesCredentialsAsInfluxClientsSendThemAndRefusesWriteTokens) {
  const std::string target = "/query?db=acme&q=" + Url("SHOW DATABASES");
  for (const std::string& authorization : {"Bearer " + viewer_, "Token " + viewer_,
                                           "Basic " + testing::Base64("grafana:" + viewer_)}) {
    Reply r = Call(bhttp::verb::get, target, authorization);
    EXPECT_EQ(r.status, 200u) << authorization << ": " << r.text;
    EXPECT_EQ(
        r.text,
        R"({"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["acme"]]}]}]})");
  }
  EXPECT_EQ(Call(bhttp::verb::get, target + "&u=grafana&p=" + viewer_, "").status, 200u);
  // Grafana's POST mode: the parameters in a form body.
  Reply form = Call(bhttp::verb::post, "/query", "Bearer " + viewer_,
                    "db=acme&epoch=s&q=" + Url("SELECT count(humidity) FROM hall"),
                    "application/x-www-form-urlencoded");
  ASSERT_EQ(form.status, 200u) << form.text;
  EXPECT_EQ(form.body.at("results").at(0).at("series").at(0).at("values").at(0).at(1), 60);

  Reply none = Call(bhttp::verb::get, target, "");
  EXPECT_EQ(none.status, 401u);
  EXPECT_TRUE(none.body.at("error").is_string()) << none.text;
  Reply writer = Call(bhttp::verb::get, target, "Token " + writer_);
  EXPECT_EQ(writer.status, 403u);
  EXPECT_NE(writer.text.find("a write token may not read"), std::string::npos) << writer.text;
  EXPECT_EQ(Call(bhttp::verb::get, target, "Bearer not-a-token").status, 401u);
}

TEST_F(InfluxQuery, AReadTokenMadeByAnAdminReadsEverywhereUntilRevokedAndNeverWrites) {
  Reply made = Call(bhttp::verb::post, "/api/v1/tenants/acme/tokens", "Bearer " + admin_,
                    R"({"name":"grafana","scope":"read"})", "application/json");
  ASSERT_EQ(made.status, 201u) << made.text;
  EXPECT_EQ(made.body.at("scope"), "read");
  const std::string read = std::string(made.body.at("token").as_string());
  const std::string id = std::string(made.body.at("id").as_string());

  const std::string query = "/query?db=acme&q=" + Url("SELECT count(humidity) FROM hall");
  Reply influxql = Call(bhttp::verb::get, query, "Token " + read);
  ASSERT_EQ(influxql.status, 200u) << influxql.text;
  EXPECT_EQ(influxql.body.at("results").at(0).at("series").at(0).at("values").at(0).at(1), 60);
  Reply promql = Call(bhttp::verb::get, "/api/v1/query?query=" + Url("count(hall_humidity)"),
                      "Basic " + testing::Base64("grafana:" + read));
  ASSERT_EQ(promql.status, 200u) << promql.text;
  EXPECT_EQ(promql.body.at("data").at("result").at(0).at("value").at(1), "1");
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/tenants/acme/assets", "Bearer " + read).status, 200u);

  for (const std::string& target :
       {std::string("/write?db=acme"), std::string("/api/v2/write?bucket=acme")}) {
    Reply w = Call(bhttp::verb::post, target, "Token " + read, "hall humidity=1i", "text/plain");
    EXPECT_EQ(w.status, 403u) << target << ": " << w.text;
    EXPECT_NE(w.text.find("a read token may not write"), std::string::npos) << w.text;
  }
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/write", "Bearer " + read, "", "").status, 403u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/tenants/acme/assets", "Bearer " + read,
                 R"({"id":"p9","asset_type":"pump"})", "application/json")
                .status,
            403u);

  Reply listed = Call(bhttp::verb::get, "/api/v1/tenants/acme/tokens", "Bearer " + admin_);
  bool shown = false;
  for (const json::value& t : listed.body.at("items").as_array()) {
    if (t.at("id").as_string() == id) shown = t.at("scope") == "read";
  }
  EXPECT_TRUE(shown) << listed.text;
  EXPECT_EQ(
      Call(bhttp::verb::delete_, "/api/v1/tenants/acme/tokens/" + id, "Bearer " + admin_).status,
      204u);
  EXPECT_EQ(Call(bhttp::verb::get, query, "Token " + read).status, 401u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/tenants/acme/tokens", "Bearer " + admin_,
                 R"({"name":"grafana","scope":"admin"})", "application/json")
                .status,
            400u);
}

TEST_F(InfluxQuery, AnswersInInfluxDbsShapesForTimesCsvAndErrors) {
  const std::string q = Url("SELECT first(humidity) FROM hall");
  Reply rfc = Call(bhttp::verb::get, "/query?q=" + q, "Bearer " + viewer_);
  ASSERT_EQ(rfc.status, 200u) << rfc.text;
  const json::value& row = rfc.body.at("results").at(0).at("series").at(0).at("values").at(0);
  EXPECT_EQ(row.at(0).as_string(), storage::FormatRfc3339((now_s_ - 3600) * 1'000'000'000));
  EXPECT_EQ(row.at(1), 40);
  Reply ms = Call(bhttp::verb::get, "/query?epoch=ms&q=" + q, "Bearer " + viewer_);
  EXPECT_EQ(ms.body.at("results").at(0).at("series").at(0).at("values").at(0).at(0),
            (now_s_ - 3600) * 1000);

  bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/query?epoch=s&q=" + q, 11};
  req.set(bhttp::field::authorization, "Bearer " + viewer_);
  req.set(bhttp::field::accept, "application/csv");
  Reply csv = testing::Send(appliance_->port(), std::move(req));
  EXPECT_EQ(csv.text, "name,tags,time,first\nhall,," + std::to_string(now_s_ - 3600) + ",40\n");

  Reply bad = Call(bhttp::verb::get, "/query?q=" + Url("SELEKT 1"), "Bearer " + viewer_);
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.text,
            R"({"error":"error parsing query: found SELEKT, expected SELECT, SHOW at char 1"})");
  Reply unsupported =
      Call(bhttp::verb::get,
           "/query?q=" + Url("SHOW DATABASES; SELECT mean(temp) FROM machine WHERE temp > 1"),
           "Bearer " + viewer_);
  EXPECT_EQ(unsupported.status, 200u);
  EXPECT_EQ(unsupported.body.at("results").at(1).at("error"),
            "conditions on field values (temp) are not supported");
  EXPECT_EQ(Call(bhttp::verb::get, "/query", "Bearer " + viewer_).status, 400u);
  EXPECT_EQ(Call(bhttp::verb::get, "/query?epoch=fortnight&q=" + q, "Bearer " + viewer_).status,
            400u);
  EXPECT_EQ(Call(bhttp::verb::get, "/query?q=%FF%FE", "Bearer " + viewer_).status, 400u);
}

}  // namespace
}  // namespace foresight::http
