// Backups of a running server, end to end with the real binary: on its schedule and on the
// operator's request over the API, restored with `foresight restore`; and one tenant moved to
// another instance with an export and `foresight tenant import`.
#include "tests/test_util.h"
#include "tests/tools/process.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace foresight {
namespace {
using namespace foresight::testing;
namespace fs = std::filesystem;

constexpr char kOperatorToken[] = "operator-token-0123456789abcdef0123456789";
constexpr char kWriteToken[] = "acme-write-token-0123456789";

struct Server {
  Child child;
  uint16_t port = 0;
};

Server Serve(std::vector<std::string> args) {
  args.insert(args.begin(), {"serve", "--listen", "127.0.0.1:0", "--fsync", "never"});
  Server s{Spawn(args), 0};
  char line[512] = {};
  if (fgets(line, sizeof line, s.child.out) != nullptr) s.port = PortFrom(line);
  return s;
}

int Stop(const Server& s) {
  kill(s.child.pid, SIGTERM);
  return Wait(s.child);
}

uint64_t MetricValue(const std::string& metrics, const std::string& name) {
  size_t at = metrics.find("\n" + name + " ");
  return at == std::string::npos ? 0 : std::stoull(metrics.substr(at + name.size() + 2));
}

std::string Bearer(const std::string& token) { return "Bearer " + token; }

TEST(BackupCommands, ARunningServerBacksUpOnScheduleAndOnRequestAndRestoresEveryPoint) {
  TempDir dir;
  const std::string data = dir.Sub("data"), backups = dir.Sub("backups");
  std::ofstream(dir.Sub("operator.token")) << kOperatorToken << "\n";
  Server s = Serve({"--data-dir", data, "--backup-schedule", "1s", "--backup-keep", "2",
                    "--backup-dir", backups, "--operator-token-file", dir.Sub("operator.token"),
                    "--tokens", std::string("acme:") + kWriteToken});
  ASSERT_NE(s.port, 0) << ReadAll(s.child.err);
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  std::string lines;
  for (int i = 0; i < 50; ++i) {
    lines += "machine,asset_id=m1 temp=" + std::to_string(20 + i) + " " +
             std::to_string(now_s - 100 + i) + "\n";
  }
  ASSERT_EQ(Request(s.port, bhttp::verb::post, "/write?db=acme&precision=s", lines,
                    std::string("Token ") + kWriteToken)
                .result_int(),
            204);

  // Only the operator token opens the operator routes.
  EXPECT_EQ(Get(s.port, "/api/v1/admin/backups").result_int(), 401);
  EXPECT_EQ(Request(s.port, bhttp::verb::get, "/api/v1/admin/backups", {},
                    Bearer(std::string(kOperatorToken) + "x"))
                .result_int(),
            401);
  EXPECT_EQ(Request(s.port, bhttp::verb::post, "/api/v1/admin/backups", {},
                    std::string("Token ") + kWriteToken)
                .result_int(),
            401);

  // The schedule: one a second, the newest two kept; /metrics counts them, promtool-clean.
  std::string metrics;
  ASSERT_TRUE(Eventually([&] {
    metrics = Get(s.port, "/metrics").body();
    return MetricValue(metrics, "foresight_backups_total") >= 3;
  })) << metrics;
  EXPECT_EQ(MetricValue(metrics, "foresight_backups_kept"), 2u) << metrics;
  EXPECT_EQ(MetricValue(metrics, "foresight_backup_failures_total"), 0u);
  // Beside them, the storage engine's and the models' background work.
  for (const char* name :
       {"foresight_storage_compactions_total", "foresight_storage_block_cache_capacity_bytes",
        "foresight_storage_disk_bytes{kind=\"points\"}",
        "foresight_ml_training_runs_total{result=\"failed\"}", "foresight_ml_scorings_total"}) {
    EXPECT_NE(metrics.find(std::string("\n") + name + " "), std::string::npos) << name;
  }
  EXPECT_EQ(MetricValue(metrics, "foresight_storage_block_cache_capacity_bytes"), 64u << 20);
  {
    std::ofstream(dir.Sub("metrics.txt")) << metrics;
    CommandOutput promtool = RunCommand("promtool check metrics < " + dir.Sub("metrics.txt"));
    EXPECT_EQ(promtool.code, 0) << promtool.out;
  }

  // On request: the whole directory, or one tenant; bad bodies are refused and change nothing.
  auto taken =
      Request(s.port, bhttp::verb::post, "/api/v1/admin/backups", {}, Bearer(kOperatorToken));
  ASSERT_EQ(taken.result_int(), 201) << taken.body();
  boost::json::object backup = boost::json::parse(taken.body()).as_object();
  EXPECT_TRUE(backup.at("tenant").is_null());
  const std::string full = std::string(backup.at("path").as_string());
  auto exported = Request(s.port, bhttp::verb::post, "/api/v1/admin/backups",
                          "{\"tenant\":\"acme\"}", Bearer(kOperatorToken));
  ASSERT_EQ(exported.result_int(), 201) << exported.body();
  boost::json::object tenant_export = boost::json::parse(exported.body()).as_object();
  EXPECT_EQ(tenant_export.at("tenant").as_string(), "acme");
  const std::string export_path = std::string(tenant_export.at("path").as_string());
  EXPECT_TRUE(fs::exists(export_path + "/tenant.json"));
  for (const auto& [body, code] :
       std::vector<std::pair<std::string, int>>{{"{\"tenant\":\"nobody\"}", 404},
                                                {"{\"tenant\":7}", 400},
                                                {"{\"everything\":true}", 400},
                                                {"not json", 400}}) {
    auto refused =
        Request(s.port, bhttp::verb::post, "/api/v1/admin/backups", body, Bearer(kOperatorToken));
    EXPECT_EQ(refused.result_int(), code) << body << " -> " << refused.body();
    EXPECT_NE(refused.body().find("\"error\""), std::string::npos);
  }
  auto listed =
      Request(s.port, bhttp::verb::get, "/api/v1/admin/backups", {}, Bearer(kOperatorToken));
  ASSERT_EQ(listed.result_int(), 200);
  EXPECT_NE(listed.body().find(export_path), std::string::npos) << listed.body();
  ASSERT_EQ(Stop(s), 0) << ReadAll(s.child.err);

  // The full backup restores into a server with every point; the export is not a backup.
  Ran restored = Foresight({"restore", full, "--data-dir", dir.Sub("restored")});
  ASSERT_EQ(restored.code, 0) << restored.err;
  Ran refused = Foresight({"restore", export_path, "--data-dir", dir.Sub("refused")});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("tenant import"), std::string::npos) << refused.err;
  Ran client = Foresight({"client", "create", "--tenant", "acme", "--role", "viewer", "--client-id",
                          "acme-viewer", "--data-dir", dir.Sub("restored")});
  ASSERT_EQ(client.code, 0) << client.err;
  Server r = Serve({"--data-dir", dir.Sub("restored"), "--backup-schedule", "off"});
  ASSERT_NE(r.port, 0) << ReadAll(r.child.err);
  auto signed_in = Request(r.port, bhttp::verb::post, "/auth/token",
                           "{\"client_id\":\"acme-viewer\",\"client_secret\":\"" +
                               Field(client.out, "client_secret") + "\"}");
  ASSERT_EQ(signed_in.result_int(), 200) << signed_in.body();
  const std::string jwt(
      boost::json::parse(signed_in.body()).as_object().at("access_token").as_string());
  auto counted = Request(r.port, bhttp::verb::get,
                         "/query?db=acme&q=SELECT%20count(temp)%2Csum(temp)%20FROM%20machine", {},
                         Bearer(jwt));
  ASSERT_EQ(counted.result_int(), 200) << counted.body();
  EXPECT_NE(counted.body().find(",50,2225.0]"), std::string::npos) << counted.body();
  EXPECT_EQ(Stop(r), 0);
}

TEST(BackupCommands, ATenantExportedFromOneInstanceIsImportedIntoAnother) {
  TempDir dir;
  const std::string a = dir.Sub("a"), b = dir.Sub("b");
  ASSERT_EQ(Foresight({"tenant", "create", "acme", "--data-dir", a}).code, 0);
  ASSERT_EQ(Foresight({"tenant", "create", "other", "--data-dir", a}).code, 0);
  Ran client = Foresight(
      {"client", "create", "--tenant", "acme", "--client-id", "acme-admin", "--data-dir", a});
  ASSERT_EQ(client.code, 0) << client.err;
  ASSERT_EQ(Foresight({"tenant", "create", "zeta", "--data-dir", b}).code, 0);

  Ran exported =
      Foresight({"tenant", "export", "--tenant", "acme", dir.Sub("acme"), "--data-dir", a});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.out.find("tenant import"), std::string::npos) << exported.out;
  EXPECT_EQ(
      Foresight({"tenant", "export", "--tenant", "nobody", dir.Sub("x"), "--data-dir", a}).code, 1);
  Ran imported = Foresight({"tenant", "import", dir.Sub("acme"), "--data-dir", b});
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_NE(imported.out.find("imported tenant acme"), std::string::npos) << imported.out;
  Ran again = Foresight({"tenant", "import", dir.Sub("acme"), "--data-dir", b});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;

  Ran tenants = Foresight({"tenant", "list", "--data-dir", b});
  EXPECT_NE(tenants.out.find("zeta\t"), std::string::npos) << tenants.out;
  EXPECT_NE(tenants.out.find("acme\t0 assets\t1 clients"), std::string::npos) << tenants.out;
  EXPECT_EQ(tenants.out.find("other"), std::string::npos) << "only the one tenant moves";
  EXPECT_NE(Foresight({"client", "list", "--tenant", "acme", "--data-dir", b})
                .out.find("acme-admin\tadmin"),
            std::string::npos);
}

}  // namespace
}  // namespace foresight
