// Online backups: whole checkpoints taken while writes go on, named by time, pruned to `keep`,
// on a schedule, and restored into a directory that holds every series, point and record; and
// one tenant exported from a data directory and imported into another.
#include "storage/backup.h"

#include "storage/storage.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace foresight::storage {
namespace {

namespace fs = std::filesystem;
using foresight::testing::Eventually;
using foresight::testing::TempDir;

constexpr int64_t kSecond = 1'000'000'000;

struct Fleet {
  TenantId tenant = 0;
  std::vector<SeriesId> series;
};

Fleet MakeFleet(Storage* db, const std::string& name, int assets) {
  Fleet fleet;
  fleet.tenant = db->CreateTenant(name).value();
  std::vector<SeriesSpec> specs;
  for (int a = 0; a < assets; ++a) {
    specs.push_back({{"machine", {{"asset_id", "m" + std::to_string(a)}}, "temp"}});
  }
  std::vector<Result<SeriesId>> ids = db->ResolveSeries(fleet.tenant, specs).value();
  for (const Result<SeriesId>& id : ids) fleet.series.push_back(id.value());
  return fleet;
}

Status Write(Storage* db, const Fleet& fleet, int64_t ts_ns) {
  std::vector<Sample> batch;
  for (size_t i = 0; i < fleet.series.size(); ++i) {
    batch.push_back({fleet.series[i], ts_ns, Value::Float(20.0 + static_cast<double>(i) / 8)});
  }
  return db->Append(fleet.tenant, batch);
}

// Everything a tenant holds that reads can see: its series with their points, its assets and
// the records of `kinds`, as text to compare.
std::string Contents(const Storage& db, const std::string& name,
                     const std::vector<std::string>& kinds) {
  TenantId tenant = db.FindTenant(name).value();
  std::string out;
  for (const SeriesInfo& s : db.ListSeries(tenant)) {
    Points p = db.ReadRaw(tenant, s.id, kMinTimestampNs, kMaxTimestampNs).value();
    out += s.key.measurement + "/" + s.key.field + "/" + s.key.tags.at(0).second + ":";
    for (size_t i = 0; i < p.size(); ++i) {
      out += " " + std::to_string(p.ts_ns[i]) + "=" + std::to_string(p.AsDouble(i));
    }
    out += "\n";
  }
  for (const Asset& a : db.ListAssets(tenant)) out += "asset " + a.id + "\n";
  for (const std::string& kind : kinds) {
    std::vector<std::pair<std::string, std::string>> records =
        db.ScanRecords(tenant, kind, {}).value();
    for (const auto& [id, value] : records) out += kind + "/" + id + " " + value + "\n";
  }
  return out;
}

std::vector<std::string> Names(const std::vector<BackupInfo>& backups) {
  std::vector<std::string> out;
  for (const BackupInfo& b : backups) out.push_back(fs::path(b.path).filename().string());
  return out;
}

TEST(Backups, ACopyTakenWhileWritesGoOnRestoresEverySeriesPointAndRecord) {
  TempDir dir;
  auto db = Storage::Open(dir.Sub("data"), Options());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Fleet acme = MakeFleet(db->get(), "acme", 16);
  Fleet beta = MakeFleet(db->get(), "beta", 4);
  const int64_t start = SystemClock().NowNs() - 3600 * kSecond;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Write(db->get(), acme, start + i * kSecond).ok());
  ASSERT_TRUE((*db)->Flush().ok());  // some points sealed into blocks, some still unsealed
  for (int i = 200; i < 300; ++i) ASSERT_TRUE(Write(db->get(), acme, start + i * kSecond).ok());
  ASSERT_TRUE(Write(db->get(), beta, start).ok());
  ASSERT_TRUE(
      (*db)->EnsureAssets(acme.tenant, std::vector<Asset>{{.id = "m0", .attributes = {}}}).ok());
  const std::vector<Storage::RecordWrite> records = {{"rule", "r1", "{\"max\":90}"},
                                                     {"model", "m-1", "forest bytes"}};
  ASSERT_TRUE((*db)->WriteRecords(acme.tenant, records).ok());
  std::ofstream(dir.Sub("data/jwt.key")) << "the signing key";

  // A writer keeps appending while the backup is taken; what the backup holds is a prefix.
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    for (int i = 300; !stop; ++i) {
      if (!Write(db->get(), beta, start + i * kSecond).ok()) break;
    }
  });
  Backups backups(db->get(), {.dir = dir.Sub("backups"), .extra_files = {dir.Sub("data/jwt.key")}});
  Result<BackupInfo> taken = backups.Take();
  stop = true;
  writer.join();
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_TRUE(fs::exists(fs::path(taken->path) / "jwt.key"));
  EXPECT_GT(taken->bytes, 0u);
  const std::vector<std::string> kinds = {"rule", "model"};
  const std::string acme_before = Contents(**db, "acme", kinds);

  ASSERT_TRUE(Storage::Restore(taken->path, dir.Sub("restored")).ok());
  auto restored = Storage::Open(dir.Sub("restored"), Options());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(Contents(**restored, "acme", kinds), acme_before);
  EXPECT_NE(acme_before.find("rule/r1 {\"max\":90}"), std::string::npos);
  EXPECT_NE(acme_before.find("asset m0"), std::string::npos);
  // beta's points in the copy are the first ones the writer wrote, without a gap.
  TenantId beta_restored = (*restored)->FindTenant("beta").value();
  Points copied =
      (*restored)->ReadRaw(beta_restored, beta.series[0], kMinTimestampNs, kMaxTimestampNs).value();
  ASSERT_GE(copied.size(), 1u);
  for (size_t i = 1; i < copied.size(); ++i) {
    EXPECT_EQ(copied.ts_ns[i], start + static_cast<int64_t>(i + 299) * kSecond) << i;
  }
}

TEST(Backups, KeepTheNewestAndDeleteOnlyWhatTheyMade) {
  TempDir dir;
  auto db = Storage::Open(dir.Sub("data"), Options());
  ASSERT_TRUE(db.ok());
  Fleet acme = MakeFleet(db->get(), "acme", 2);
  fs::create_directories(dir.Sub("backups/notes"));
  fs::create_directories(dir.Sub("backups/.partial-foresight-20260101T000000.000Z"));
  Backups backups(db->get(), {.dir = dir.Sub("backups"), .keep = 2});
  EXPECT_FALSE(fs::exists(dir.Sub("backups/.partial-foresight-20260101T000000.000Z")))
      << "what an interrupted backup left is removed";
  std::vector<std::string> taken;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Write(db->get(), acme, SystemClock().NowNs()).ok());
    Result<BackupInfo> b = backups.Take();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    taken.push_back(fs::path(b->path).filename().string());
  }
  EXPECT_LT(taken[0], taken[1]) << "names sort in time order";
  EXPECT_LT(taken[1], taken[2]);
  EXPECT_EQ(Names(backups.List()), (std::vector<std::string>{taken[2], taken[1]}));
  EXPECT_TRUE(fs::exists(dir.Sub("backups/notes")));
  BackupStats stats = backups.stats();
  EXPECT_EQ(stats.taken, 3u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.kept, 2u);
  EXPECT_EQ(stats.last_success_ns, backups.List().front().time_ns);

  // A tenant's export sits beside them and is never pruned.
  Result<BackupInfo> exported = backups.TakeTenant("acme");
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->tenant, "acme");
  EXPECT_TRUE(fs::path(exported->path).filename().string().ends_with("Z-tenant-acme"));
  EXPECT_TRUE(fs::exists(fs::path(exported->path) / "tenant.json"));
  EXPECT_EQ(backups.TakeTenant("nobody").status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(backups.Take().ok());
  ASSERT_TRUE(backups.Take().ok());
  std::vector<BackupInfo> listed = backups.List();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_TRUE(listed[0].tenant.empty());
  EXPECT_TRUE(listed[1].tenant.empty());
  EXPECT_EQ(listed[2].path, exported->path);
  EXPECT_EQ(backups.stats().kept, 2u);
}

TEST(Backups, AFailedBackupNamesTheCauseAndLeavesStorageWriting) {
  TempDir dir;
  auto db = Storage::Open(dir.Sub("data"), Options());
  ASSERT_TRUE(db.ok());
  Fleet acme = MakeFleet(db->get(), "acme", 2);
  std::ofstream(dir.Sub("not-a-dir")) << "a file where the backups should go";
  Backups backups(db->get(), {.dir = dir.Sub("not-a-dir")});
  Result<BackupInfo> b = backups.Take();
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().ToString().find("not-a-dir"), std::string::npos) << b.status().ToString();
  EXPECT_EQ(backups.stats().failed, 1u);
  EXPECT_EQ(backups.stats().last_error, b.status().ToString());
  EXPECT_TRUE(Write(db->get(), acme, SystemClock().NowNs()).ok());
  EXPECT_TRUE((*db)->Health().ok());
}

TEST(Backups, RunOnTheirScheduleAndKeepTheNewest) {
  TempDir dir;
  auto db = Storage::Open(dir.Sub("data"), Options());
  ASSERT_TRUE(db.ok());
  Backups backups(db->get(),
                  {.dir = dir.Sub("backups"), .every = std::chrono::seconds(1), .keep = 1});
  EXPECT_EQ(backups.stats().taken, 0u) << "the first one is due a period after start";
  ASSERT_TRUE(Eventually([&] { return backups.stats().taken >= 2; }));
  EXPECT_EQ(backups.List().size(), 1u);
  EXPECT_EQ(backups.stats().failed, 0u);
}

TEST(TenantExport, MovesOneTenantWithEverySeriesPointAndRecordIntoAnotherDataDirectory) {
  TempDir dir;
  const int64_t start = SystemClock().NowNs() - 3600 * kSecond;
  const std::vector<std::string> kinds = {"rule", "user"};
  std::string acme_before, gamma_before;
  {
    auto source = Storage::Open(dir.Sub("source"), Options());
    ASSERT_TRUE(source.ok());
    Fleet beta = MakeFleet(source->get(), "beta", 3);  // acme gets another id here than there
    Fleet acme = MakeFleet(source->get(), "acme", 8);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(Write(source->get(), acme, start + i * kSecond).ok());
    ASSERT_TRUE((*source)->Flush().ok());
    for (int i = 100; i < 150; ++i)
      ASSERT_TRUE(Write(source->get(), acme, start + i * kSecond).ok());
    ASSERT_TRUE((*source)
                    ->EnsureAssets(acme.tenant, std::vector<Asset>{{.id = "m3", .attributes = {}}})
                    .ok());
    const std::vector<Storage::RecordWrite> records = {{"rule", "r1", "{\"max\":90}"},
                                                       {"user", "ana", "{\"role\":\"admin\"}"}};
    ASSERT_TRUE((*source)->WriteRecords(acme.tenant, records).ok());
    ASSERT_TRUE(
        (*source)
            ->SetRetention(
                acme.tenant,
                Retention{.raw = std::chrono::hours(24 * 30), .minute = {}, .hour = {}, .day = {}})
            .ok());
    std::atomic<bool> stop = false;
    std::thread writer([&] {
      for (int i = 0; !stop; ++i) {
        if (!Write(source->get(), beta, start + i * kSecond).ok()) break;
      }
    });
    Status exported = (*source)->ExportTenant(acme.tenant, dir.Sub("acme-export"));
    stop = true;
    writer.join();
    ASSERT_TRUE(exported.ok()) << exported.ToString();
    EXPECT_TRUE(fs::exists(dir.Sub("acme-export/tenant.json")));
    EXPECT_EQ((*source)->ExportTenant(acme.tenant, dir.Sub("acme-export")).code(),
              Status::Code::kAlreadyExists);
    acme_before = Contents(**source, "acme", kinds);
  }
  {
    // The target has a tenant of its own, with unsealed points in its log.
    auto target = Storage::Open(dir.Sub("target"), Options());
    ASSERT_TRUE(target.ok());
    Fleet gamma = MakeFleet(target->get(), "gamma", 2);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(Write(target->get(), gamma, start + i * kSecond).ok());
    gamma_before = Contents(**target, "gamma", kinds);
  }
  Result<std::string> imported =
      Storage::ImportTenant(dir.Sub("acme-export"), dir.Sub("target"), Options());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(*imported, "acme");

  auto target = Storage::Open(dir.Sub("target"), Options());
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(Contents(**target, "acme", kinds), acme_before);
  EXPECT_NE(acme_before.find("user/ana"), std::string::npos);
  EXPECT_NE(acme_before.find("asset m3"), std::string::npos);
  EXPECT_EQ(Contents(**target, "gamma", kinds), gamma_before);
  TenantId acme = (*target)->FindTenant("acme").value();
  EXPECT_EQ((*target)->GetRetention(acme).value().set.raw, std::chrono::hours(24 * 30));
  // The moved tenant takes writes in its new home, and a restart keeps old and new points.
  SeriesId m0 = (*target)->ListSeries(acme).front().id;
  ASSERT_TRUE((*target)
                  ->Append(acme, std::vector<Sample>{{m0, start + 200 * kSecond, Value::Float(99)}})
                  .ok());
  ASSERT_TRUE((*target)->Close().ok());
  target = Storage::Open(dir.Sub("target"), Options());
  ASSERT_TRUE(target.ok());
  Points points = (*target)->ReadRaw(acme, m0, kMinTimestampNs, kMaxTimestampNs).value();
  EXPECT_EQ(points.size(), 151u);
  EXPECT_EQ(points.AsDouble(150), 99);
}

TEST(TenantExport, AnImportThatCannotBeDoneSaysWhyAndLeavesNoTenantBehind) {
  TempDir dir;
  {
    auto source = Storage::Open(dir.Sub("source"), Options());
    ASSERT_TRUE(source.ok());
    Fleet acme = MakeFleet(source->get(), "acme", 4);
    ASSERT_TRUE(Write(source->get(), acme, SystemClock().NowNs()).ok());
    ASSERT_TRUE((*source)->Flush().ok());
    ASSERT_TRUE((*source)->ExportTenant(acme.tenant, dir.Sub("export")).ok());
  }
  const std::string target = dir.Sub("target");
  auto tenants_in = [&]() {
    auto db = Storage::Open(target, Options());
    std::vector<std::string> names;
    for (const auto& [id, name] : (*db)->ListTenants()) names.push_back(name);
    return names;
  };

  // A damaged point file: refused, and the target has no half of acme.
  fs::copy(dir.Sub("export"), dir.Sub("damaged"), fs::copy_options::recursive);
  fs::resize_file(dir.Sub("damaged/points.sst"), fs::file_size(dir.Sub("damaged/points.sst")) / 2);
  Result<std::string> damaged = Storage::ImportTenant(dir.Sub("damaged"), target, Options());
  EXPECT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().ToString().find("points.sst"), std::string::npos)
      << damaged.status().ToString();
  EXPECT_TRUE(tenants_in().empty());

  // A newer format: refused naming both versions.
  fs::copy(dir.Sub("export"), dir.Sub("newer"), fs::copy_options::recursive);
  {
    std::ifstream in(dir.Sub("newer/tenant.json"));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find("\"format_version\":2"), 18, "\"format_version\":3");
    std::ofstream(dir.Sub("newer/tenant.json")) << text;
  }
  Result<std::string> newer = Storage::ImportTenant(dir.Sub("newer"), target, Options());
  EXPECT_EQ(newer.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(newer.status().ToString().find("format version 3"), std::string::npos)
      << newer.status().ToString();
  EXPECT_NE(newer.status().ToString().find("format 2"), std::string::npos);

  Result<std::string> not_an_export = Storage::ImportTenant(dir.Sub("source"), target, Options());
  EXPECT_EQ(not_an_export.status().code(), Status::Code::kNotFound);

  // The good export still imports after those failures, once; a second time is refused.
  ASSERT_TRUE(Storage::ImportTenant(dir.Sub("export"), target, Options()).ok());
  EXPECT_EQ(tenants_in(), std::vector<std::string>{"acme"});
  EXPECT_EQ(Storage::ImportTenant(dir.Sub("export"), target, Options()).status().code(),
            Status::Code::kAlreadyExists);
  auto db = Storage::Open(target, Options());
  TenantId acme = (*db)->FindTenant("acme").value();
  EXPECT_EQ((*db)->ListSeries(acme).size(), 4u);
  EXPECT_EQ((*db)->ReadRaw(acme, 1, kMinTimestampNs, kMaxTimestampNs).value().size(), 1u);
}

}  // namespace
}  // namespace foresight::storage
