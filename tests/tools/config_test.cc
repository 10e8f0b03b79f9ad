#include "tools/config.h"

#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

namespace foresight::tools {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  const char* operator()(const char* name) const {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  }
};

Result<Config> LoadWith(std::vector<std::string> args, const Env& env = {}) {
  CLI::App app;
  ConfigLoader loader;
  loader.AddFlags(&app);
  args.insert(args.begin(), "foresight");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  return loader.Load(std::cref(env));
}

TEST(Config, HasSensibleDefaults) {
  Result<Config> c = LoadWith({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->http.port, 8080);
  EXPECT_EQ(c->storage.fsync, storage::FsyncPolicy::kAlways);
}

TEST(Config, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  testing::TempDir dir;
  std::string file = dir.Sub("foresight.toml");
  std::ofstream(file) << "data_dir = \"/from/file\"\n"
                         "[storage]\nfsync = \"never\"\nfsync_interval_ms = 250\n"
                         "[log]\nlevel = \"warn\"\n";
  Env env{{{"FORESIGHT_STORAGE_FSYNC", "interval"}, {"FORESIGHT_LOG_LEVEL", "error"}}};
  Result<Config> c = LoadWith({"--config", file, "--log-level", "debug"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/from/file");                                  // file over default
  EXPECT_EQ(c->storage.fsync, storage::FsyncPolicy::kInterval);          // env over file
  EXPECT_EQ(c->storage.fsync_interval, std::chrono::milliseconds(250));  // file
  EXPECT_EQ(c->log_level, log::Level::kDebug);                           // flag over env
}

TEST(Config, NamesTheSettingAndValueThatIsWrong) {
  Result<Config> c = LoadWith({"--fsync", "sometimes"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("sometimes"), std::string_view::npos);
  c = LoadWith({"--listen", "localhost"});
  EXPECT_NE(c.status().message().find("host:port"), std::string_view::npos);
  c = LoadWith({"--listen", "127.0.0.1:99999"});
  EXPECT_NE(c.status().message().find("65535"), std::string_view::npos);
  c = LoadWith({}, Env{{{"FORESIGHT_STORAGE_HEAD_FLUSH_MB", "lots"}}});
  EXPECT_NE(c.status().message().find("storage.head_flush_mb"), std::string_view::npos);
  c = LoadWith({"--webhook-ca-file", "/no/such/ca.pem"});
  EXPECT_NE(c.status().message().find("webhooks.ca_file: cannot read '/no/such/ca.pem'"),
            std::string_view::npos)
      << c.status().ToString();
}

TEST(Config, RejectsAMalformedOrUnknownFileWithItsLocation) {
  testing::TempDir dir;
  std::string bad = dir.Sub("bad.toml");
  std::ofstream(bad) << "data_dir = \n";
  Result<Config> c = LoadWith({"--config", bad});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bad.toml:1"), std::string_view::npos)
      << c.status().ToString();
  std::string unknown = dir.Sub("unknown.toml");
  std::ofstream(unknown) << "[storage]\nfsnyc = \"never\"\n";
  c = LoadWith({"--config", unknown});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("storage.fsnyc"), std::string_view::npos);
}

TEST(Config, TheShippedExampleFileLoads) {
  // The operator token file it names exists once the package is installed.
  Result<Config> c = LoadWith(
      {"--config", FORESIGHT_SOURCE_DIR "/deploy/foresight.toml", "--operator-token-file", ""});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/var/lib/foresight");
  EXPECT_EQ(c->log_format, log::Format::kJson);
}

TEST(Config, TheShippedExampleFileNamesEverySetting) {
  std::ifstream in(FORESIGHT_SOURCE_DIR "/deploy/foresight.toml");
  std::string line, section;
  std::set<std::string> keys;
  while (std::getline(in, line)) {
    if (line.starts_with('[')) {
      section = line.substr(1, line.find(']') - 1) + ".";
    } else if (size_t eq = line.find(" = "); eq != std::string::npos && !line.starts_with('#')) {
      keys.insert(section + line.substr(0, eq));
    }
  }
  for (const Setting& s : Settings()) EXPECT_TRUE(keys.contains(s.key)) << s.key;
}

TEST(Config, RetentionDefaultsKeepRawPointsAYearAndDailyRollupsForEver) {
  Result<Config> c = LoadWith({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.default_retention.raw, std::chrono::hours(24 * 365));
  EXPECT_EQ(c->storage.default_retention.minute, std::chrono::hours(24 * 730));
  EXPECT_EQ(c->storage.default_retention.day, std::nullopt);
  c = LoadWith({"--retention-raw", "2w", "--retention-hour", "forever"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.default_retention.raw, std::chrono::hours(24 * 14));
  EXPECT_EQ(c->storage.default_retention.hour, std::nullopt);
  for (const char* bad : {"", "0d", "-3d", "90", "3y", "1.5d", "d", "forever!", "99999999w"}) {
    c = LoadWith({"--retention-raw", bad});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("retention.raw: a retention period is"),
              std::string_view::npos)
        << c.status().message();
  }
}

TEST(Config, TakesCorsOriginsAndRefusesWhatIsNotAnOrigin) {
  Result<Config> c = LoadWith({"--cors-origins", "https://ops.example.com, http://10.0.0.5:3000"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http.cors_origins,
            (std::vector<std::string>{"https://ops.example.com", "http://10.0.0.5:3000"}));
  EXPECT_TRUE(LoadWith({})->http.cors_origins.empty()) << "CORS is off by default";
  for (const char* bad :
       {"ops.example.com", "https://ops.example.com/app", "ftp://x", "https://x:"}) {
    c = LoadWith({"--cors-origins", bad});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("api.cors_origins"), std::string_view::npos);
  }
}

TEST(Config, SessionAndLockoutSettingsReachTheSignIn) {
  Result<Config> c =
      LoadWith({"--session-ttl-s", "3600", "--session-token-ttl-s", "300", "--lockout-after", "3"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->auth.session_ttl, std::chrono::seconds(3600));
  EXPECT_EQ(c->auth.session_token_ttl, std::chrono::seconds(300));
  EXPECT_EQ(c->auth.lockout_after, 3);
  c = LoadWith({"--session-ttl-s", "600", "--session-token-ttl-s", "900"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("auth.session_token_ttl_s"), std::string_view::npos);
}

TEST(Config, QueryBoundsReachTheInfluxQlEngine) {
  Result<Config> c = LoadWith(
      {"--query-max-series", "500", "--query-max-points", "1000000", "--query-timeout-ms", "2500"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->influxql.max_series, 500u);
  EXPECT_EQ(c->influxql.max_points, 1'000'000u);
  EXPECT_EQ(c->influxql.timeout, std::chrono::milliseconds(2500));
  c = LoadWith({"--query-timeout-ms", "0"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("query.timeout_ms"), std::string_view::npos);
}

TEST(Config, EnvironmentNamesFollowTheKeys) {
  for (const Setting& s : Settings()) {
    EXPECT_EQ(s.EnvName().rfind("FORESIGHT_", 0), 0u);
  }
  EXPECT_EQ(Settings()[0].EnvName(), "FORESIGHT_DATA_DIR");
}

}  // namespace
}  // namespace foresight::tools
