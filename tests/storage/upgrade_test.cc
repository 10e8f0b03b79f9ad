// The on-disk format version: a directory written before it existed (format 1, kept as a
// fixture in tests/storage/fixtures/format-1) is upgraded after a checkpoint and loses nothing;
// a directory of a newer format is refused before anything is written to it.
#include "storage/storage.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>

namespace foresight::storage {
namespace {

namespace fs = std::filesystem;

// Directories named pre-upgrade-format-* inside `data`.
std::vector<fs::path> Checkpoints(const std::string& data) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(data)) {
    if (e.path().filename().string().starts_with("pre-upgrade-format-")) out.push_back(e.path());
  }
  return out;
}

std::string CopyOfFormat1(const foresight::testing::TempDir& dir) {
  const std::string data = dir.Sub("data");
  fs::copy(FORESIGHT_SOURCE_DIR "/tests/storage/fixtures/format-1", data,
           fs::copy_options::recursive);
  return data;
}

SeriesId Find(const Storage& db, TenantId tenant, const std::string& asset,
              const std::string& field) {
  for (const SeriesInfo& s : db.ListSeries(tenant)) {
    if (s.key.field == field &&
        s.key.tags == std::vector<std::pair<std::string, std::string>>{{"asset_id", asset}})
      return s.id;
  }
  return kInvalidSeriesId;
}

TEST(FormatUpgrade, AFormat1DirectoryIsCheckpointedThenUpgradedAndExpiresNothing) {
  foresight::testing::TempDir dir;
  const std::string data = CopyOfFormat1(dir);
  Options options;
  options.default_retention.raw = std::chrono::hours(24);  // would expire all of it, if applied
  auto db = Storage::Open(data, options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_EQ(Checkpoints(data).size(), 1u);
  EXPECT_TRUE(fs::exists(Checkpoints(data)[0] / "CURRENT"));

  // acme had no retention of its own: in format 1 that kept everything, and still does.
  TenantId acme = (*db)->FindTenant("acme").value();
  TenantRetention acme_retention = (*db)->GetRetention(acme).value();
  EXPECT_EQ(acme_retention.set.raw, kKeepForever);
  EXPECT_EQ(acme_retention.set.day, kKeepForever);
  EXPECT_EQ(acme_retention.applied, Retention());
  SeriesId temp = Find(**db, acme, "p1", "temp");
  ASSERT_NE(temp, kInvalidSeriesId);
  auto points = (*db)->ReadRaw(acme, temp, kMinTimestampNs, kMaxTimestampNs).value();
  ASSERT_EQ(points.size(), 2u);  // written in June 2024
  EXPECT_EQ(points.AsDouble(1), 21.5);
  auto state =
      (*db)->ReadRaw(acme, Find(**db, acme, "p2", "state"), kMinTimestampNs, kMaxTimestampNs);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->strings, std::vector<std::string>{"ok"});
  EXPECT_EQ((*db)->ListAssets(acme).size(), 2u);

  // kept had set 30 days for raw points: that stays, its rollups are kept for ever as before.
  TenantId kept = (*db)->FindTenant("kept").value();
  TenantRetention kept_retention = (*db)->GetRetention(kept).value();
  EXPECT_EQ(kept_retention.set.raw, std::chrono::hours(24 * 30));
  EXPECT_EQ(kept_retention.set.minute, kKeepForever);
  ASSERT_TRUE((*db)->Close().ok());

  db = Storage::Open(data, options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(Checkpoints(data).size(), 1u) << "upgraded once";
  ASSERT_TRUE((*db)->Close().ok());
}

TEST(FormatUpgrade, ANewDirectoryIsNeverUpgradedAndANewerOneIsRefusedNamingBothVersions) {
  foresight::testing::TempDir dir;
  const std::string data = dir.Sub("data");
  {
    auto db = Storage::Open(data, Options()).value();
    ASSERT_TRUE(db->CreateTenant("acme").ok());
    ASSERT_TRUE(db->Close().ok());
    db = Storage::Open(data, Options()).value();
    ASSERT_TRUE(db->Close().ok());
  }
  EXPECT_TRUE(Checkpoints(data).empty());

  // What a later release would write: its version in the catalog's format record.
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), data, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), data, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> rocks(raw);
    const size_t catalog = std::find(names.begin(), names.end(), "catalog") - names.begin();
    ASSERT_LT(catalog, names.size());
    const std::string key("\0\0\0\0V", 5);
    const uint32_t newer = kFormatVersion + 1;
    const std::string value{static_cast<char>(newer >> 24), static_cast<char>(newer >> 16),
                            static_cast<char>(newer >> 8), static_cast<char>(newer)};
    ASSERT_TRUE(rocks->Put(rocksdb::WriteOptions(), handles[catalog], key, value).ok());
    for (auto* h : handles) ASSERT_TRUE(rocks->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(rocks->Close().ok());
  }
  auto refused = Storage::Open(data, Options());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(
                "has format version " + std::to_string(kFormatVersion + 1) +
                ", newer than this binary's " + std::to_string(kFormatVersion)),
            std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(Checkpoints(data).empty());
}

}  // namespace
}  // namespace foresight::storage
