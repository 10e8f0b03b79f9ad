// `serve --demo`, `simulate` and `loadgen`: the real binary against a real server on loopback.
#include "tests/test_util.h"
#include "tests/tools/process.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace foresight {
namespace {
using namespace foresight::testing;
namespace json = boost::json;

// Reads the child's stdout line by line until a line contains `marker`; returns all it read.
std::string ReadUntil(const Child& c, const std::string& marker) {
  std::string all;
  char line[1024];
  while (fgets(line, sizeof line, c.out)) {
    all += line;
    if (std::string(line).find(marker) != std::string::npos) return all;
  }
  ADD_FAILURE() << "no '" << marker << "' in:\n" << all << "\nstderr:\n" << ReadAll(c.err);
  return all;
}

json::value Parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << text.substr(0, 300);
  return v;
}

std::string SignIn(uint16_t port, const std::string& id, const std::string& secret) {
  auto r = Request(port, bhttp::verb::post, "/auth/token",
                   json::serialize(json::object{{"client_id", id}, {"client_secret", secret}}));
  EXPECT_EQ(r.result_int(), 200) << r.body();
  json::value v = Parse(r.body());
  if (!v.is_object() || !v.as_object().contains("access_token")) return {};
  return "Bearer " + std::string(v.at("access_token").as_string());
}

// GET of a tenant resource as JSON.
json::value ApiGet(uint16_t port, const std::string& bearer, const std::string& tenant,
                   const std::string& path) {
  auto r = Request(port, bhttp::verb::get, "/api/v1/tenants/" + tenant + path, {}, bearer);
  EXPECT_EQ(r.result_int(), 200) << path << ": " << r.body();
  return Parse(r.body());
}

// The length of a list answer: "items", or "points" for readings.
size_t Items(const json::value& v) {
  if (!v.is_object()) return 0;
  for (const char* key : {"items", "points"}) {
    if (v.as_object().contains(key)) return v.at(key).as_array().size();
  }
  return 0;
}

std::string Rfc3339(int64_t s) {
  std::time_t t = s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The sum of every sample of `name` on /metrics.
double Metric(uint16_t port, const std::string& name) {
  std::istringstream text(Get(port, "/metrics").body());
  double sum = 0;
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with(name + " ") || line.starts_with(name + "{")) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

TEST(DemoCommand, ComesUpWithDataForBothTenantsAndReusesItOnRestart) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  const std::vector<std::string> args = {"serve",         "--demo",      "--demo-days", "60",
                                         "--demo-assets", "10",          "--data-dir",  data,
                                         "--listen",      "127.0.0.1:0", "--fsync",     "never"};
  Child c = Spawn(args);
  std::string out = ReadUntil(c, "demo: live");
  uint16_t port = PortFrom(out);
  ASSERT_NE(port, 0) << out;
  // 60 days back from the midnight before them: 60 days and the part of today gone so far.
  const size_t at = out.find("back-filling ");
  ASSERT_NE(at, std::string::npos) << out;
  const double days = std::stod(out.substr(at + 13));
  EXPECT_GE(days, 60.0) << out;
  EXPECT_LE(days, 61.0) << out;
  EXPECT_EQ(out.compare(out.find(' ', at + 13), 6, " days "), 0) << out;

  std::ifstream state_file(data + "/demo.json");
  std::stringstream state_text;
  state_text << state_file.rdbuf();
  json::value state = Parse(state_text.str());
  ASSERT_TRUE(state.is_object());
  const json::array& tenants = state.at("tenants").as_array();
  ASSERT_EQ(tenants.size(), 2u);
  for (const json::value& t : tenants) {
    const std::string name(t.at("name").as_string());
    const std::string admin(t.at("admin_id").as_string()), secret(t.at("admin_secret").as_string());
    EXPECT_NE(out.find(admin + " / " + secret), std::string::npos) << "the sign-in is printed";
    const std::string bearer = SignIn(port, admin, secret);
    ASSERT_FALSE(bearer.empty());
    EXPECT_FALSE(SignIn(port, std::string(t.at("viewer_id").as_string()),
                        std::string(t.at("viewer_secret").as_string()))
                     .empty());

    json::value assets = ApiGet(port, bearer, name, "/assets?limit=100");
    ASSERT_EQ(Items(assets), 10u) << name;
    const json::object& first = assets.at("items").as_array()[0].as_object();
    EXPECT_TRUE(first.contains("criticality") && first.contains("manufacturer")) << first;
    EXPECT_EQ(Items(ApiGet(port, bearer, name, "/rules")), 6u) << name;
    EXPECT_GT(Items(ApiGet(port, bearer, name, "/maintenance?limit=1000")), 0u) << name;

    // Sixty days of history, read back as daily means from the rollups.
    const std::string asset(first.at("id").as_string());
    const std::string metric =
        first.at("asset_type").as_string() == "transformer" ? "oil_temp" : "bearing_temp";
    json::value days = ApiGet(port, bearer, name,
                              "/assets/" + asset + "/readings?metric=" + metric +
                                  "&step=1d&aggregate=mean&from=" + Rfc3339(NowS() - 61 * 86400) +
                                  "&to=" + Rfc3339(NowS()));
    EXPECT_GE(Items(days), 58u) << days;

    // Live: fresh readings arrive (the first live step is sent as the demo goes live).
    int64_t latest = 0;
    const int64_t deadline = NowS() + 20;
    while (latest < NowS() - 60 && NowS() < deadline) {
      json::value l = ApiGet(port, bearer, name, "/readings/latest");
      for (const json::value& item : l.at("items").as_array()) {
        std::tm tm{};
        strptime(std::string(item.at("time").as_string()).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
        latest = std::max<int64_t>(latest, timegm(&tm));
      }
      if (latest < NowS() - 60) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_GE(latest, NowS() - 60) << name;
  }
  kill(c.pid, SIGTERM);
  EXPECT_EQ(Wait(c), 0) << ReadAll(c.err);

  // Again: same sign-in, no second set-up, nothing doubled.
  Child again = Spawn(args);
  std::string out2 = ReadUntil(again, "demo: live");
  EXPECT_EQ(out2.find("back-filling 60"), std::string::npos) << out2;
  const std::string admin(tenants[0].at("admin_id").as_string()),
      secret(tenants[0].at("admin_secret").as_string());
  EXPECT_NE(out2.find(admin + " / " + secret), std::string::npos) << out2;
  uint16_t port2 = PortFrom(out2);
  const std::string bearer = SignIn(port2, admin, secret);
  const std::string name(tenants[0].at("name").as_string());
  EXPECT_EQ(Items(ApiGet(port2, bearer, name, "/assets?limit=100")), 10u);
  EXPECT_EQ(Items(ApiGet(port2, bearer, name, "/rules")), 6u);
  kill(again.pid, SIGTERM);
  EXPECT_EQ(Wait(again), 0);
  Ran listed = Foresight({"tenant", "list", "--data-dir", data});
  EXPECT_NE(listed.out.find("northwind\t10 assets\t3 clients"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("helios\t10 assets\t3 clients"), std::string::npos) << listed.out;
}

TEST(DemoCommand, RefusesADataDirectoryWhoseTenantsItDidNotMake) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  ASSERT_EQ(Foresight({"tenant", "create", "northwind", "--data-dir", data}).code, 0);
  Ran r = Foresight({"serve", "--demo", "--data-dir", data, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("empty data directory"), std::string::npos) << r.err;
}

TEST(DemoCommand, RefusesAHistoryLongerThanRawRetentionKeeps) {
  testing::TempDir dir;
  Ran r = Foresight({"serve", "--demo", "--demo-days", "30", "--retention-raw", "2w", "--data-dir",
                     dir.Sub("data"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--demo-days 30 reaches past retention.raw (14d)"), std::string::npos)
      << r.err;
}

struct Server {
  Child child;
  uint16_t port = 0;
  uint16_t tcp_port = 0;
};

Server StartServer(const std::string& data, const std::string& token) {
  Server s;
  // loadgen's workload starts in November 2023, past the default raw retention.
  s.child =
      Spawn({"serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--tcp-listen", "127.0.0.1:0",
             "--tokens", "plant:" + token, "--fsync", "never", "--retention-raw", "forever"});
  std::string out = ReadUntil(s.child, "line protocol over TCP");
  s.port = PortFrom(out);
  size_t at = out.find("line protocol over TCP: 127.0.0.1:");
  if (at != std::string::npos) s.tcp_port = static_cast<uint16_t>(std::atoi(out.c_str() + at + 34));
  return s;
}

TEST(SimulateCommand, BackFillsReadingsAssetsAndMaintenanceAndResendsWithoutDuplicates) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  Ran client = Foresight({"client", "create", "--tenant", "plant", "--role", "engineer",
                          "--client-id", "plant-eng", "--data-dir", data});
  ASSERT_EQ(client.code, 0) << client.err;
  const std::string secret = Field(client.out, "client_secret");
  const std::string token = "plant-write-token-0123456789";
  Server server = StartServer(data, token);
  ASSERT_NE(server.port, 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port);
  const std::vector<std::string> args = {"simulate",  "--url",           url,      "--token",
                                         token,       "--tenant",        "plant",  "--client-id",
                                         "plant-eng", "--client-secret", secret,   "--assets",
                                         "10",        "--backfill-days", "30",     "--no-live",
                                         "--start",   "2026-01-01",      "--seed", "3"};
  Ran first = Foresight(args);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("sent "), std::string::npos) << first.out;

  const std::string bearer = SignIn(server.port, "plant-eng", secret);
  EXPECT_EQ(Items(ApiGet(server.port, bearer, "plant", "/assets?limit=100")), 10u);
  const size_t records = Items(ApiGet(server.port, bearer, "plant", "/maintenance?limit=1000"));
  EXPECT_GT(records, 0u);
  EXPECT_NE(first.out.find(std::to_string(records) + " maintenance records"), std::string::npos)
      << first.out;
  // 30 days from --start, a reading every 300 s: the history of pump-001 is all there.
  json::value pump =
      ApiGet(server.port, bearer, "plant",
             "/assets/pump-001/readings?metric=vibration_rms&from=2026-01-01T00:00:00Z"
             "&to=2026-01-31T00:00:00Z&step=1d&aggregate=count");
  ASSERT_EQ(Items(pump), 30u) << pump;

  Ran second = Foresight(args);
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(second.out, first.out) << "deterministic for a seed";
  EXPECT_EQ(Items(ApiGet(server.port, bearer, "plant", "/maintenance?limit=1000")), records)
      << "stable ids: sending again replaces";

  Ran wrong = Foresight({"simulate", "--url", url, "--token", "not-a-token-0123456789",
                         "--backfill-days", "1", "--no-live"});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("401"), std::string::npos) << wrong.err;
  Ran nowhere = Foresight({"simulate", "--url", "http://127.0.0.1:1", "--token", token,
                           "--backfill-days", "1", "--no-live"});
  EXPECT_EQ(nowhere.code, 1);
  EXPECT_NE(nowhere.err.find("cannot connect"), std::string::npos) << nowhere.err;
  kill(server.child.pid, SIGTERM);
  EXPECT_EQ(Wait(server.child), 0);
}

TEST(SimulateCommand, ShiftsASensorsCalibrationFromTheDayItIsTold) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  Ran client = Foresight({"client", "create", "--tenant", "plant", "--role", "engineer",
                          "--client-id", "plant-eng", "--data-dir", data});
  ASSERT_EQ(client.code, 0) << client.err;
  const std::string secret = Field(client.out, "client_secret");
  const std::string token = "plant-write-token-0123456789";
  Server server = StartServer(data, token);
  ASSERT_NE(server.port, 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port);
  // Two fleets from one seed, told apart by their ids; the second's bearing_temp sensors are
  // recalibrated on the second day.
  auto simulate = [&](const std::string& prefix, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"simulate",   "--url",           url,        "--token",
                                     token,        "--tenant",        "plant",    "--client-id",
                                     "plant-eng",  "--client-secret", secret,     "--assets",
                                     "3",          "--backfill-days", "2",        "--start",
                                     "2026-01-01", "--no-live",       "--prefix", prefix};
    args.insert(args.end(), extra.begin(), extra.end());
    return Foresight(args);
  };
  Ran plain = simulate("a-", {});
  ASSERT_EQ(plain.code, 0) << plain.err;
  Ran shifted = simulate("b-", {"--shift", "bearing_temp=40@2026-01-02"});
  ASSERT_EQ(shifted.code, 0) << shifted.err;

  const std::string bearer = SignIn(server.port, "plant-eng", secret);
  auto daily_means = [&](const std::string& asset) {
    json::value answer = ApiGet(server.port, bearer, "plant",
                                "/assets/" + asset +
                                    "/readings?metric=bearing_temp&from=2026-01-01T00:00:00Z"
                                    "&to=2026-01-03T00:00:00Z&step=1d&aggregate=mean");
    std::vector<double> means;
    for (const json::value& item : answer.at("points").as_array()) {
      means.push_back(item.at("value").to_number<double>());
    }
    return means;
  };
  const std::vector<double> a = daily_means("a-pump-001"), b = daily_means("b-pump-001");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_DOUBLE_EQ(b[0], a[0]) << "before the day it is told, the sensor reads as before";
  EXPECT_NEAR(b[1] - a[1], 40, 1e-6);

  for (std::string bad : {"bearing_temp", "=40", "bearing_temp=warm", "bearing_temp=40@soon"}) {
    Ran r = simulate("c-", {"--shift", bad});
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("is not METRIC=OFFSET[@YYYY-MM-DD]"), std::string::npos) << r.err;
  }
  kill(server.child.pid, SIGTERM);
  EXPECT_EQ(Wait(server.child), 0);
}

TEST(LoadgenCommand, PushesTheWorkloadOverHttpTcpAndJsonAndCountsEveryValue) {
  testing::TempDir dir;
  const std::string token = "plant-write-token-0123456789";
  Server server = StartServer(dir.Sub("data"), token);
  ASSERT_NE(server.port, 0);
  ASSERT_NE(server.tcp_port, 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port);
  const std::vector<std::string> common = {
      "loadgen", "--url", url,       "--token", token,           "--assets", "20",
      "--steps", "30",    "--batch", "100",     "--connections", "2",        "--json"};
  const double before = Metric(server.port, "foresight_ingest_values_total");
  for (std::vector<std::string> mode :
       {std::vector<std::string>{"--mode", "http"},
        {"--mode", "tcp", "--tcp", "127.0.0.1:" + std::to_string(server.tcp_port)},
        {"--mode", "json", "--tenant", "plant"}}) {
    std::vector<std::string> args = common;
    args.insert(args.end(), mode.begin(), mode.end());
    Ran r = Foresight(args);
    ASSERT_EQ(r.code, 0) << mode[1] << ": " << r.err;
    json::value summary = Parse(r.out);
    ASSERT_TRUE(summary.is_object()) << r.out;
    EXPECT_EQ(summary.at("lines").to_number<int>(), 600) << mode[1];
    EXPECT_EQ(summary.at("values").to_number<int>(), 4800) << mode[1];
    EXPECT_EQ(summary.at("failed_requests").to_number<int>(), 0) << mode[1];
    if (mode[1] == "tcp") {
      EXPECT_TRUE(summary.at("latency_ms").is_null());
    } else {
      EXPECT_GT(summary.at("latency_ms").at("p99").to_number<double>(), 0) << mode[1];
    }
  }
  EXPECT_EQ(Metric(server.port, "foresight_ingest_values_total") - before, 3 * 4800);

  Ran human =
      Foresight({"loadgen", "--url", url, "--token", token, "--assets", "5", "--steps", "4"});
  EXPECT_EQ(human.code, 0) << human.err;
  EXPECT_NE(human.out.find("rows/s"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("p99"), std::string::npos) << human.out;

  Ran refused = Foresight({"loadgen", "--url", url, "--token", "wrong-token-0123456789", "--assets",
                           "5", "--steps", "2"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("HTTP 401"), std::string::npos) << refused.err;
  Ran no_tenant = Foresight({"loadgen", "--mode", "json", "--url", url});
  EXPECT_EQ(no_tenant.code, 2);
  EXPECT_NE(no_tenant.err.find("--tenant"), std::string::npos) << no_tenant.err;
  kill(server.child.pid, SIGTERM);
  EXPECT_EQ(Wait(server.child), 0);
}

}  // namespace
}  // namespace foresight
