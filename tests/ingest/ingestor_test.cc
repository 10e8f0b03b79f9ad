// Ingestor end to end against a real storage engine: line protocol and JSON readings in, series,
// assets and points out.
#include "ingest/ingest.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

namespace foresight::ingest {
namespace {

using storage::TenantId;

constexpr int64_t kNow = 1'700'000'000'000'000'000;

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = storage::Storage::Open(dir_.path(), storage::Options());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(*opened);
    tenant_ = *storage_->CreateTenant("acme");
    ingestor_ = std::make_unique<Ingestor>(storage_.get(), IngestOptions());
  }

  WriteReport Lines(std::string_view body, Precision precision = Precision::kNanoseconds) {
    return ingestor_->WriteLineProtocol(tenant_, body, precision, kNow);
  }
  WriteReport Json(std::string_view body, Precision precision = Precision::kMilliseconds) {
    return ingestor_->WriteJsonReadings(tenant_, body, precision, kNow);
  }

  // The id of the series (measurement, tags, field), or 0.
  storage::SeriesId Find(const std::string& measurement,
                         std::vector<std::pair<std::string, std::string>> tags,
                         const std::string& field) {
    std::sort(tags.begin(), tags.end());
    for (const auto& s : storage_->ListSeries(tenant_)) {
      if (s.key.measurement == measurement && s.key.tags == tags && s.key.field == field) {
        return s.id;
      }
    }
    return 0;
  }

  std::vector<std::pair<int64_t, double>> Floats(storage::SeriesId id) {
    auto points =
        storage_->ReadRaw(tenant_, id, storage::kMinTimestampNs, storage::kMaxTimestampNs);
    EXPECT_TRUE(points.ok());
    std::vector<std::pair<int64_t, double>> out;
    for (size_t i = 0; i < points->size(); ++i)
      out.emplace_back(points->ts_ns[i], points->AsDouble(i));
    return out;
  }

  foresight::testing::TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  TenantId tenant_ = 0;
  std::unique_ptr<Ingestor> ingestor_;
};

TEST_F(IngestorTest, StoresEachFieldAsOneSeries) {
  WriteReport r = Lines(
      "pump,asset_id=p1,site=north temp=71.5,rpm=1200i,on=t,mode=\"auto\" 10\n"
      "pump,asset_id=p1,site=north temp=72.5,rpm=1210i,on=f,mode=\"manual\" 20\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.lines, 2u);
  EXPECT_EQ(r.values, 8u);
  EXPECT_TRUE(r.rejected.empty());
  std::vector<std::pair<std::string, std::string>> tags = {{"asset_id", "p1"}, {"site", "north"}};
  EXPECT_EQ(Floats(Find("pump", tags, "temp")),
            (std::vector<std::pair<int64_t, double>>{{10, 71.5}, {20, 72.5}}));
  EXPECT_EQ(Floats(Find("pump", tags, "rpm")),
            (std::vector<std::pair<int64_t, double>>{{10, 1200}, {20, 1210}}));
  auto mode = storage_->ReadRaw(tenant_, Find("pump", tags, "mode"), 0, 100);
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode->strings, (std::vector<std::string>{"auto", "manual"}));
  EXPECT_EQ(storage_->ListSeries(tenant_).size(), 4u);
}

TEST(IngestorLimits, LinesPastTheTenantSeriesLimitAreRejectedAndTheRestStored) {
  foresight::testing::TempDir dir;
  storage::Options options;
  options.max_series_per_tenant = 3;
  auto storage = storage::Storage::Open(dir.path(), options).value();
  TenantId tenant = *storage->CreateTenant("acme");
  Ingestor ingestor(storage.get(), IngestOptions());
  WriteReport report = ingestor.WriteLineProtocol(
      tenant,
      "m,asset_id=a f=1 1\nm,asset_id=b f=1 1\nm,asset_id=c f=1 1\nm,asset_id=d f=1 1\n"
      "m,asset_id=a f=2 2\n",
      Precision::kNanoseconds, kNow);
  ASSERT_TRUE(report.status.ok()) << report.status.ToString();
  EXPECT_EQ(report.lines, 4u) << "three new series and a point for an existing one";
  ASSERT_EQ(report.rejected.size(), 1u);
  EXPECT_EQ(report.rejected[0].line, 4u);
  EXPECT_NE(report.rejected[0].reason.find("limit of 3 series"), std::string::npos)
      << report.rejected[0].reason;
  EXPECT_EQ(storage->ListSeries(tenant).size(), 3u);
}

TEST(IngestorRetention, PointsPastTheTenantsRawRetentionAreRefusedByLineAndTheRestStored) {
  foresight::testing::TempDir dir;
  storage::ManualClock clock(kNow);
  storage::Options options;
  options.clock = &clock;
  options.default_retention.raw = std::chrono::hours(48);
  auto storage = storage::Storage::Open(dir.path(), options).value();
  TenantId tenant = *storage->CreateTenant("acme");
  Ingestor ingestor(storage.get(), IngestOptions());
  constexpr int64_t kDay = 86'400'000'000'000;
  const std::string old = std::to_string(kNow - 3 * kDay), recent = std::to_string(kNow - kDay);
  WriteReport lines = ingestor.WriteLineProtocol(
      tenant, "m,asset_id=a f=1 " + old + "\nm,asset_id=a f=2 " + recent + "\n",
      Precision::kNanoseconds, kNow);
  ASSERT_TRUE(lines.status.ok()) << lines.status.ToString();
  EXPECT_EQ(lines.lines, 1u);
  ASSERT_EQ(lines.rejected.size(), 1u);
  EXPECT_EQ(lines.rejected[0].line, 1u);
  EXPECT_NE(lines.rejected[0].reason.find("older than the tenant's raw retention (2d)"),
            std::string::npos)
      << lines.rejected[0].reason;
  WriteReport json = ingestor.WriteJsonReadings(tenant,
                                                R"([{"asset_id":"a","timestamp":)" + old +
                                                    R"(,"metrics":{"g":1}},
          {"asset_id":"a","timestamp":)" + recent + R"(,"metrics":{"g":2}}])",
                                                Precision::kNanoseconds, kNow);
  ASSERT_TRUE(json.status.ok()) << json.status.ToString();
  EXPECT_EQ(json.lines, 1u);
  ASSERT_EQ(json.rejected.size(), 1u);
  EXPECT_EQ(json.rejected[0].line, 1u);  // the first reading, counted from 1 like lines
  // The tenant's own settings keep what the default would not.
  storage::Retention forever;
  forever.raw = storage::kKeepForever;
  ASSERT_TRUE(storage->SetRetention(tenant, forever).ok());
  WriteReport kept = ingestor.WriteLineProtocol(tenant, "m,asset_id=a f=1 " + old + "\n",
                                                Precision::kNanoseconds, kNow);
  EXPECT_EQ(kept.lines, 1u);
  EXPECT_TRUE(kept.rejected.empty());
  storage.reset();  // before the clock it borrows
}

TEST_F(IngestorTest, TagOrderDoesNotMakeANewSeries) {
  ASSERT_TRUE(Lines("m,a=1,b=2 f=1 1\nm,b=2,a=1 f=2 2\n").status.ok());
  EXPECT_EQ(storage_->ListSeries(tenant_).size(), 1u);
  EXPECT_EQ(Floats(Find("m", {{"a", "1"}, {"b", "2"}}, "f")).size(), 2u);
}

TEST_F(IngestorTest, CreatesAnAssetOnFirstSightFromItsTags) {
  ASSERT_TRUE(Lines("pump,asset_id=p7,asset_type=pump,site=north temp=1 1\n").status.ok());
  ASSERT_TRUE(Lines("pump,asset_id=p7,asset_type=pump,site=south temp=1 2\n").status.ok());
  auto asset = storage_->GetAsset(tenant_, "p7");
  ASSERT_TRUE(asset.ok()) << asset.status().ToString();
  EXPECT_EQ(asset->attributes, (std::vector<std::pair<std::string, std::string>>{
                                   {"asset_type", "pump"}, {"site", "north"}}));
  EXPECT_EQ(asset->created_ns, kNow);
  EXPECT_EQ(storage_->ListAssets(tenant_).size(), 1u);
  EXPECT_EQ(ingestor_->GetStats().assets_created, 1u);
}

TEST_F(IngestorTest, UsesTheConfiguredAssetTag) {
  IngestOptions options;
  options.asset_tag = "machine";
  Ingestor ingestor(storage_.get(), options);
  ASSERT_TRUE(
      ingestor.WriteLineProtocol(tenant_, "m,machine=m1 f=1 1", Precision::kNanoseconds, kNow)
          .status.ok());
  EXPECT_TRUE(storage_->GetAsset(tenant_, "m1").ok());
}

TEST_F(IngestorTest, PointsWithoutAssetTagAreStoredWithoutAnAsset) {
  ASSERT_TRUE(Lines("cpu,host=a usage=1 1\n").status.ok());
  EXPECT_EQ(storage_->ListSeries(tenant_).size(), 1u);
  EXPECT_TRUE(storage_->ListAssets(tenant_).empty());
}

TEST_F(IngestorTest, RejectsAWholeLineWhoseFieldConflictsWithTheStoredType) {
  ASSERT_TRUE(Lines("m f=1 1\n").status.ok());
  // Cached path (this ingestor saw f) and catalog path (a fresh ingestor has an empty cache).
  for (Ingestor* ingestor : {ingestor_.get(), new Ingestor(storage_.get(), IngestOptions())}) {
    WriteReport r = ingestor->WriteLineProtocol(tenant_, "m f=2 2\nm g=1,f=3i 3\nm f=4 4\n",
                                                Precision::kNanoseconds, kNow);
    ASSERT_TRUE(r.status.ok());
    ASSERT_EQ(r.rejected.size(), 1u);
    EXPECT_EQ(r.rejected[0].line, 2u);
    EXPECT_EQ(r.rejected[0].reason, "field 'f' of 'm' holds float values, not integer");
    EXPECT_EQ(r.lines, 2u);
    if (ingestor != ingestor_.get()) delete ingestor;
  }
  EXPECT_EQ(Find("m", {}, "g"), 0u) << "no part of a rejected line is stored";
  EXPECT_EQ(Floats(Find("m", {}, "f")),
            (std::vector<std::pair<int64_t, double>>{{1, 1}, {2, 2}, {4, 4}}));
}

TEST_F(IngestorTest, ReportsEveryRejectedLineInOrderAndStoresTheRest) {
  ASSERT_TRUE(Lines("m f=1 1\n").status.ok());
  WriteReport r = Lines("m f=\"s\" 1\nm,new=1 f=2 2\nbad\nm f=3 3\n");
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].line, 1u);
  EXPECT_EQ(r.rejected[1].line, 3u);
  EXPECT_EQ(r.lines, 2u);
  EXPECT_EQ(ingestor_->GetStats().rejected_lines, 2u);
}

TEST_F(IngestorTest, TheLastLineWinsEvenWhenAnEarlierLineNamedANewSeries) {
  ASSERT_TRUE(Lines("m f=0 5\n").status.ok());
  // Line 1 has a new field, so it is resolved after the parse; line 2 is all cached.
  ASSERT_TRUE(Lines("m f=1,g=1 5\nm f=2 5\n").status.ok());
  EXPECT_EQ(Floats(Find("m", {}, "f")), (std::vector<std::pair<int64_t, double>>{{5, 2}}));
}

TEST_F(IngestorTest, EscapedStringValuesSurviveUntilTheAppend) {
  ASSERT_TRUE(Lines("m s=\"a\\\"b\" 1\nm s=\"c\\\\d\" 2\nm s=\"plain\" 3\n").status.ok());
  ASSERT_TRUE(Lines("m s=\"e\\\"f\" 4\n").status.ok());
  auto points = storage_->ReadRaw(tenant_, Find("m", {}, "s"), 0, 10);
  ASSERT_TRUE(points.ok());
  EXPECT_EQ(points->strings, (std::vector<std::string>{"a\"b", "c\\d", "plain", "e\"f"}));
}

TEST_F(IngestorTest, ConcurrentWritersCreateEachSeriesOnce) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string body;
        for (int a = 0; a < 20; ++a) {
          body += "m,asset_id=a" + std::to_string(a) + " x=1,y=" + std::to_string(t) + " " +
                  std::to_string(i * 4 + t) + "\n";
        }
        WriteReport r = Lines(body);
        EXPECT_TRUE(r.status.ok());
        EXPECT_TRUE(r.rejected.empty());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(storage_->ListSeries(tenant_).size(), 40u);
  EXPECT_EQ(storage_->ListAssets(tenant_).size(), 20u);
  EXPECT_EQ(Floats(Find("m", {{"asset_id", "a3"}}, "x")).size(), 200u);
}

// --- JSON readings -------------------------------------------------------------------------------

TEST_F(IngestorTest, StoresOneJsonReading) {
  WriteReport r = Json(R"({"asset_id":"p1","timestamp":1700000000000,
                           "metrics":{"temp":71.5,"running":true,"mode":"auto"}})");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.lines, 1u);
  EXPECT_EQ(r.values, 3u);
  EXPECT_EQ(Floats(Find("readings", {{"asset_id", "p1"}}, "temp")),
            (std::vector<std::pair<int64_t, double>>{{1'700'000'000'000'000'000, 71.5}}));
  EXPECT_TRUE(storage_->GetAsset(tenant_, "p1").ok());
}

TEST_F(IngestorTest, StoresAnArrayOfJsonReadingsWithTagsAndMeasurement) {
  WriteReport r = Json(R"([
    {"asset_id":"p1","measurement":"vib","tags":{"site":"north"},"timestamp":"2023-11-14T22:13:20Z","metrics":{"rms":1.5}},
    {"asset_id":"p1","measurement":"vib","tags":{"site":"north"},"timestamp":"2023-11-14T23:13:20.5+01:00","metrics":{"rms":2.5}}
  ])");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_EQ(Floats(Find("vib", {{"asset_id", "p1"}, {"site", "north"}}, "rms")),
            (std::vector<std::pair<int64_t, double>>{{1'700'000'000'000'000'000, 1.5},
                                                     {1'700'000'000'500'000'000, 2.5}}));
  EXPECT_EQ(storage_->GetAsset(tenant_, "p1")->attributes,
            (std::vector<std::pair<std::string, std::string>>{{"site", "north"}}));
}

TEST_F(IngestorTest, JsonTimestampDefaultsToNowAndFollowsPrecision) {
  ASSERT_TRUE(Json(R"({"asset_id":"p","metrics":{"a":1}})").status.ok());
  ASSERT_TRUE(
      Json(R"({"asset_id":"p","timestamp":5,"metrics":{"a":2}})", Precision::kSeconds).status.ok());
  EXPECT_EQ(Floats(Find("readings", {{"asset_id", "p"}}, "a")),
            (std::vector<std::pair<int64_t, double>>{{5'000'000'000, 2}, {kNow, 1}}));
}

TEST_F(IngestorTest, RejectsBadJsonReadingsByIndexAndStoresTheRest) {
  WriteReport r = Json(R"([
    {"asset_id":"ok","metrics":{"a":1}},
    {"metrics":{"a":1}},
    {"asset_id":7,"metrics":{"a":1}},
    {"asset_id":"x","metrics":{"a":{"nested":1}}},
    {"asset_id":"x","metrics":{"a":[1,2]}},
    {"asset_id":"x","metrics":{}},
    {"asset_id":"x","timestamp":"yesterday","metrics":{"a":1}},
    {"asset_id":"x","timestamp":1.5,"metrics":{"a":1}},
    {"asset_id":"x","tags":{"site":3},"metrics":{"a":1}},
    {"asset_id":"x","colour":"red","metrics":{"a":1}},
    "not an object",
    {"asset_id":"x","metrics":{"a":null}},
    {"asset_id":"ok2","metrics":{"b":2}}
  ])");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.lines, 2u);
  std::vector<std::pair<uint32_t, std::string>> got;
  for (const auto& rej : r.rejected) got.emplace_back(rej.line, rej.reason);
  EXPECT_EQ(got, (std::vector<std::pair<uint32_t, std::string>>{
                     {2, "asset_id is required"},
                     {3, "asset_id must be a string, not a number"},
                     {4, "metrics.a must be a number, boolean or string, not an object"},
                     {5, "metrics.a must be a number, boolean or string, not an array"},
                     {6, "metrics must name at least one metric"},
                     {7, "timestamp 'yesterday' is not RFC 3339 (2026-11-22T10:00:00Z)"},
                     {8, "timestamp must be an integer or an RFC 3339 string"},
                     {9, "tags.site must be a string, not a number"},
                     {10,
                      "unknown member 'colour' (expected asset_id, timestamp, measurement, "
                      "tags, metrics)"},
                     {11, "a reading must be an object, not a string"},
                     {12, "metrics.a must be a number, boolean or string, not null"},
                 }));
  EXPECT_EQ(storage_->ListAssets(tenant_).size(), 2u);
}

TEST_F(IngestorTest, RejectsAJsonTypeConflictLikeLineProtocol) {
  ASSERT_TRUE(Json(R"({"asset_id":"p","metrics":{"a":1}})").status.ok());
  WriteReport r =
      Json(R"([{"asset_id":"p","metrics":{"a":"text"}},{"asset_id":"p","metrics":{"a":2}}])");
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].line, 1u);
  EXPECT_EQ(r.rejected[0].reason, "field 'a' of 'readings' holds float values, not string");
}

TEST_F(IngestorTest, MalformedJsonFailsWholeAndStoresNothing) {
  for (std::string body :
       {std::string(R"([{"asset_id":"p","metrics":{"a":1}},)"),
        std::string(R"({"asset_id":"p","metrics":{"a":1}} trailing)"),
        std::string(R"([{"asset_id":"p","metrics":{"a":1}}] [])"),
        std::string("{\"asset_id\":\"p\xff\",\"metrics\":{\"a\":1}}"), std::string(""),
        std::string("nul\0l", 5), std::string(R"({"asset_id":"p","metrics":{"a":1})")}) {
    WriteReport r = Json(body);
    EXPECT_EQ(r.status.code(), Status::Code::kInvalidArgument) << body.substr(0, 60);
  }
  EXPECT_TRUE(storage_->ListSeries(tenant_).empty());
}

TEST_F(IngestorTest, RejectsAJsonNumberOutsideDoubleRange) {
  WriteReport r = Json(R"({"asset_id":"p","metrics":{"a":1e999}})");
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "metrics.a is not a representable number");
}

TEST_F(IngestorTest, DeeplyNestedOrHugeJsonReadingsAreRejectedWithoutHarm) {
  std::string deep = std::string(5000, '[') + std::string(5000, ']');
  std::string deep_metric =
      R"({"asset_id":"p","metrics":{"a":)" + std::string(5000, '[') + std::string(5000, ']') + "}}";
  std::string huge_asset =
      R"({"asset_id":")" + std::string(10 << 20, 'x') + R"(","metrics":{"a":1}})";
  std::string huge_tag =
      R"({"asset_id":"p","tags":{"t":")" + std::string(1 << 20, 'x') + R"("},"metrics":{"a":1}})";
  for (const std::string& body : {deep, deep_metric, huge_asset, huge_tag}) {
    WriteReport r = Json(body);
    EXPECT_TRUE(r.status.ok() || r.status.code() == Status::Code::kInvalidArgument)
        << r.status.ToString();
    EXPECT_EQ(r.lines, 0u);
    if (r.status.ok()) {
      EXPECT_EQ(r.rejected.size(), 1u);
    }
  }
  EXPECT_TRUE(storage_->ListSeries(tenant_).empty());
  EXPECT_TRUE(storage_->ListAssets(tenant_).empty());
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  foresight::testing::TempDir dir;
  auto storage = storage::Storage::Open(dir.path(), storage::Options()).value();
  TenantId t = *storage->CreateTenant("t");
  Ingestor ingestor(storage.get(), IngestOptions());
  for (const char* ts :
       {"1970-01-01T00:00:01Z", "1970-01-01T01:00:01+01:00", "1969-12-31T23:00:01.000-01:00",
        "1970-01-01t00:00:01z", "1970-01-01 00:00:01.000000000Z"}) {
    std::string body =
        std::string(R"({"asset_id":"a","metrics":{"v":1},"timestamp":")") + ts + "\"}";
    WriteReport r = ingestor.WriteJsonReadings(t, body, Precision::kMilliseconds, 0);
    EXPECT_TRUE(r.rejected.empty())
        << ts << ": " << (r.rejected.empty() ? "" : r.rejected[0].reason);
  }
  auto series = storage->ListSeries(t);
  ASSERT_EQ(series.size(), 1u);
  auto points =
      storage->ReadRaw(t, series[0].id, storage::kMinTimestampNs, storage::kMaxTimestampNs);
  EXPECT_EQ(points->ts_ns, std::vector<int64_t>{1'000'000'000});
  for (const char* ts :
       {"1970-13-01T00:00:00Z", "1970-02-30T00:00:00Z", "1970-01-01T00:00:00",
        "1970-01-01T24:00:00Z", "1970-01-01T00:00:00.1234567890Z", "3000-01-01T00:00:00Z"}) {
    std::string body =
        std::string(R"({"asset_id":"a","metrics":{"v":1},"timestamp":")") + ts + "\"}";
    WriteReport r = ingestor.WriteJsonReadings(t, body, Precision::kMilliseconds, 0);
    EXPECT_EQ(r.rejected.size(), 1u) << ts << r.status.ToString();
  }
}

}  // namespace
}  // namespace foresight::ingest
