// A client nobody here wrote: the official InfluxDB JavaScript client (npm
// @influxdata/influxdb-client, installed by tools/test.sh into tests/js) writes to the real
// server over loopback, unchanged, and every point reads back as written, in storage and through
// /query with a read token.
#include "http/http.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace foresight::http {
namespace {

TEST(InfluxJsClient, WritesThroughTheV2ApiAndEveryPointReadsBackInStorageAndThroughQuery) {
  std::string js = std::string(FORESIGHT_SOURCE_DIR) + "/tests/js";
  ASSERT_TRUE(std::filesystem::exists(js + "/node_modules/@influxdata/influxdb-client"))
      << "run `npm ci` in tests/js (tools/test.sh does)";
  foresight::testing::TempDir dir;
  auto storage = storage::Storage::Open(dir.path(), storage::Options()).value();
  const std::string token = "js-client-token-0123456789";
  AuthOptions auth;
  auth.jwt_secret = "test-signing-key-0123456789abcdef";
  auth.static_tokens = "acme:" + token;
  auto tokens = Auth::Open(storage.get(), auth).value();
  const std::string read_token =
      tokens->tokens()
          .Create(*storage->FindTenant("acme"), "js-reader", ingest::ApiTokens::Scope::kRead)
          .value()
          .secret;
  ingest::Ingestor ingestor(storage.get(), ingest::IngestOptions());
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  auto server = Server::Start(options, Services{storage.get(), &ingestor, tokens.get()}).value();

  auto [status, output] = foresight::testing::RunCommand(
      "node " + js + "/influx_client.mjs http://127.0.0.1:" + std::to_string(server->port()) + " " +
      token + " " + read_token);
  server->Stop();
  ASSERT_EQ(status, 0) << output;
  // 200 points: the last temperature is 60 + 199/4, the cycles sum to 1000 * (0 + ... + 199).
  EXPECT_NE(output.find("read time count last sum: 0 200 109.75 19900000\n"), std::string::npos)
      << output;
  EXPECT_NE(output.find("the write token reading: 403\n"), std::string::npos) << output;

  storage::TenantId acme = *storage->FindTenant("acme");
  auto series = storage->ListSeries(acme);
  ASSERT_EQ(series.size(), 5u);
  for (const auto& s : series) {
    SCOPED_TRACE(s.key.field);
    EXPECT_EQ(s.key.measurement, "pump room");
    EXPECT_EQ(s.key.tags, (std::vector<std::pair<std::string, std::string>>{{"asset_id", "pump,7"},
                                                                            {"site", "north=1"}}));
    auto points = storage->ReadRaw(acme, s.id, storage::kMinTimestampNs, storage::kMaxTimestampNs);
    ASSERT_TRUE(points.ok());
    ASSERT_EQ(points->size(), 200u);
    for (size_t i = 0; i < 200; ++i) {
      EXPECT_EQ(points->ts_ns[i], 1'700'000'000'000'000'000 + int64_t(i) * 1'000'000'000);
      if (s.key.field == "temperature") {
        EXPECT_EQ(s.type, storage::ValueType::kFloat);
        EXPECT_EQ(points->AsDouble(i), 60 + i / 4.0);
      } else if (s.key.field == "cycles") {
        EXPECT_EQ(s.type, storage::ValueType::kInt);
        EXPECT_EQ(static_cast<int64_t>(points->bits[i]), int64_t(i) * 1000);
      } else if (s.key.field == "count") {
        EXPECT_EQ(s.type, storage::ValueType::kUint);
        EXPECT_EQ(points->bits[i], i);
      } else if (s.key.field == "running") {
        EXPECT_EQ(s.type, storage::ValueType::kBool);
        EXPECT_EQ(points->bits[i], i % 2 == 0 ? 1u : 0u);
      } else {
        EXPECT_EQ(s.key.field, "state");
        EXPECT_EQ(points->strings[i], "ok \"" + std::to_string(i) + "\"");
      }
    }
  }
  auto asset = storage->GetAsset(acme, "pump,7");
  ASSERT_TRUE(asset.ok());
  EXPECT_EQ(asset->attributes,
            (std::vector<std::pair<std::string, std::string>>{{"site", "north=1"}}));
}

}  // namespace
}  // namespace foresight::http
