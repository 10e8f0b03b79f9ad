// Reports computed without a server, from real storage, alerts and maintenance records.
#include "query/query.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

namespace foresight::query {
namespace {

using storage::kDayNs;
using storage::Storage;

constexpr int64_t kNow = 1'780'000'000LL * 1'000'000'000;  // 2026-05-28

class Reports : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options options;
    options.fsync = storage::FsyncPolicy::kNever;
    options.clock = &clock_;
    db_ = Storage::Open(dir_.Sub("db"), options).value();
    tenant_ = db_->CreateTenant("acme").value();
    windows_ = std::make_unique<Windows>(db_.get());
    alerts_ = std::make_unique<Alerts>(db_.get(), windows_.get(), "asset_id");
    const storage::Asset assets[] = {
        {"pump-1", {{"asset_type", "pump"}, {"criticality", "high"}}, 0},
        {"pump-2", {{"asset_type", "pump"}, {"criticality", "low"}, {"status", "maintenance"}}, 0},
        {"fan-1", {{"asset_type", "fan"}}, 0},
    };
    ASSERT_TRUE(db_->EnsureAssets(tenant_, assets).ok());
  }

  // An alert raised by hand opens at the clock's now.
  void Raise(const std::string& asset, Severity severity) {
    Alert a;
    a.asset_id = asset;
    a.severity = severity;
    a.message = "by hand";
    auto raised = alerts_->Raise(tenant_, a, "ana");
    ASSERT_TRUE(raised.ok()) << raised.status().ToString();
  }

  void Maintenance(const std::string& id, const std::string& json) {
    const storage::Storage::RecordWrite write{kMaintenanceKind, id, json};
    ASSERT_TRUE(db_->WriteRecords(tenant_, std::span(&write, 1)).ok());
  }

  storage::SeriesId Series(const std::string& asset, const std::string& metric) {
    storage::SeriesSpec spec{{"readings", {{"asset_id", asset}}, metric},
                             storage::ValueType::kFloat};
    return db_->ResolveSeries(tenant_, {&spec, 1}).value()[0].value();
  }

  ReportSources Sources() const { return {db_.get(), alerts_.get(), "asset_id"}; }

  testing::TempDir dir_;
  storage::ManualClock clock_{kNow};
  std::unique_ptr<Storage> db_;
  storage::TenantId tenant_ = 0;
  std::unique_ptr<Windows> windows_;
  std::unique_ptr<Alerts> alerts_;
};

TEST_F(Reports, TheFleetSummaryCountsAssetsAlertsAndHealth) {
  Raise("pump-1", Severity::kCritical);
  Raise("pump-1", Severity::kWarning);
  Raise("fan-1", Severity::kInfo);
  auto summary = SummarizeFleet(Sources(), tenant_);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->assets, 3u);
  EXPECT_EQ(summary->assets_by_status.at("active"), 2);
  EXPECT_EQ(summary->assets_by_status.at("maintenance"), 1);
  EXPECT_EQ(summary->open_alerts.open, 3);
  EXPECT_EQ(summary->open_alerts.critical, 1);
  EXPECT_EQ(summary->assets_at_risk, 0);  // pump-1 is at 60, not below it
  // (60 + 100 + 98) / 3
  EXPECT_EQ(summary->fleet_health, 86.0);
}

TEST_F(Reports, TheAtRiskThresholdIsATenantSetting) {
  Raise("pump-1", Severity::kCritical);
  ReportSettings settings;
  settings.at_risk_below_health = 75;
  ASSERT_TRUE(WriteSettings(db_.get(), tenant_, settings).ok());
  auto summary = SummarizeFleet(Sources(), tenant_);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->assets_at_risk, 1);
}

TEST_F(Reports, SettingsReadBackAsWrittenAndDefaultWhenNoneAreStored) {
  auto defaults = ReadSettings(*db_, tenant_);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->cost_model.currency, "USD");
  EXPECT_EQ(defaults->cost_model.unplanned_failure_cost.at("critical"), 250000);
  ReportSettings s;
  s.cost_model.currency = "EUR";
  s.cost_model.lookback_days = 14;
  s.cost_model.unplanned_failure_cost["low"] = 1234.5;
  ASSERT_TRUE(WriteSettings(db_.get(), tenant_, s).ok());
  auto back = ReadSettings(*db_, tenant_);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->cost_model.currency, "EUR");
  EXPECT_EQ(back->cost_model.lookback_days, 14);
  EXPECT_EQ(back->cost_model.unplanned_failure_cost.at("low"), 1234.5);
}

TEST_F(Reports, SettingsOutOfRangeAreRefusedNamingTheField) {
  ReportSettings s;
  s.cost_model.planned_to_unplanned_ratio = 1.5;
  Status refused = WriteSettings(db_.get(), tenant_, s);
  EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(refused.message().starts_with("cost_model.planned_to_unplanned_ratio: "))
      << refused.ToString();
  s = {};
  s.cost_model.unplanned_failure_cost["enormous"] = 1;
  EXPECT_TRUE(WriteSettings(db_.get(), tenant_, s)
                  .message()
                  .starts_with("cost_model.unplanned_failure_cost.enormous: "));
  EXPECT_EQ(ReadSettings(*db_, tenant_)->cost_model.planned_to_unplanned_ratio, 0.25);
}

TEST_F(Reports, CostAvoidanceCreditsOnlyJobsAnAlertWarnedOf) {
  Raise("pump-1", Severity::kWarning);
  const int64_t opened = kNow;
  const std::string after = storage::FormatRfc3339(opened + kDayNs);
  const std::string before = storage::FormatRfc3339(opened - kDayNs);
  Maintenance("wo_1",
              R"({"asset_id":"pump-1","kind":"preventive","performed_at":")" + after + R"("})");
  Maintenance("wo_2", R"({"asset_id":"pump-1","kind":"corrective","performed_at":")" + before +
                          R"(","cost":100})");
  Maintenance("wo_3",
              R"({"asset_id":"pump-2","kind":"failure","performed_at":")" + after + R"("})");
  Maintenance("wo_4", R"({"asset_id":"pump-1","kind":"preventive","performed_at":")" + after +
                          R"(","deleted_at":")" + after + R"("})");
  Maintenance("wo_5", R"({"asset_id":"pump-1","kind":"preventive"})");  // damaged: no time
  auto report = ComputeCostAvoidance(Sources(), tenant_, 365, opened + 2 * kDayNs);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->interventions.size(), 1u);  // wo_2 came before the warning
  const Intervention& i = report->interventions[0];
  EXPECT_EQ(i.maintenance_id, "wo_1");
  EXPECT_EQ(i.criticality, "high");
  EXPECT_EQ(i.unplanned_cost_avoided, 75000);
  EXPECT_EQ(i.planned_cost, 0.25 * 75000);
  EXPECT_EQ(report->net_savings(), 0.75 * 75000);
  EXPECT_EQ(report->failures, 1);
  EXPECT_EQ(report->failure_cost, 5000);  // pump-2 is low
}

TEST_F(Reports, DailyTrendsAggregateEverySeriesOfTheMetricPerDay) {
  const int64_t day = (kNow / kDayNs) * kDayNs;
  std::vector<storage::Sample> batch = {
      {Series("pump-1", "temp"), day - kDayNs + 1, storage::Value::Float(10)},
      {Series("pump-2", "temp"), day - kDayNs + 2, storage::Value::Float(30)},
      {Series("pump-1", "temp"), day + 5, storage::Value::Float(50)},
      {Series("pump-1", "rpm"), day + 5, storage::Value::Float(1500)},
  };
  ASSERT_TRUE(db_->Append(tenant_, batch).ok());
  auto fleet = DailyTrend(Sources(), tenant_, "temp", {}, 7, kNow);
  ASSERT_TRUE(fleet.ok()) << fleet.status().ToString();
  ASSERT_EQ(fleet->size(), 2u);
  EXPECT_EQ((*fleet)[0].start_ns, day - kDayNs);
  EXPECT_EQ((*fleet)[0].count, 2u);
  EXPECT_EQ((*fleet)[0].mean(), 20);
  EXPECT_EQ((*fleet)[0].max, 30);
  EXPECT_EQ((*fleet)[1].mean(), 50);
  auto one = DailyTrend(Sources(), tenant_, "temp", {.asset_id = "pump-2"}, 7, kNow);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].mean(), 30);
}

TEST_F(Reports, ATrendOfOneAssetTypeLeavesOtherTypesOut) {
  const int64_t day = (kNow / kDayNs) * kDayNs;
  std::vector<storage::Sample> batch = {
      {Series("pump-1", "temp"), day + 1, storage::Value::Float(10)},
      {Series("pump-2", "temp"), day + 2, storage::Value::Float(30)},
      {Series("fan-1", "temp"), day + 3, storage::Value::Float(500)},
  };
  ASSERT_TRUE(db_->Append(tenant_, batch).ok());
  auto pumps = DailyTrend(Sources(), tenant_, "temp", {.asset_type = "pump"}, 1, kNow);
  ASSERT_TRUE(pumps.ok()) << pumps.status().ToString();
  ASSERT_EQ(pumps->size(), 1u);
  EXPECT_EQ((*pumps)[0].count, 2u);
  EXPECT_EQ((*pumps)[0].max, 30);
  auto none = DailyTrend(Sources(), tenant_, "temp", {.asset_type = "valve"}, 1, kNow);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(Reports, DailyEventsCountAlertsBySeverityFailuresAndMaintenanceOnEveryDay) {
  Raise("pump-1", Severity::kCritical);
  Raise("fan-1", Severity::kInfo);
  const std::string today = storage::FormatRfc3339(kNow - 1);
  const std::string two_days_ago = storage::FormatRfc3339(kNow - 2 * kDayNs);
  const std::string long_ago = storage::FormatRfc3339(kNow - 40 * kDayNs);
  Maintenance("wo_1", R"({"asset_id":"pump-1","kind":"failure","performed_at":")" + today + "\"}");
  Maintenance("wo_2", R"({"asset_id":"pump-2","kind":"preventive","performed_at":")" +
                          two_days_ago + "\"}");
  Maintenance("wo_3",
              R"({"asset_id":"pump-2","kind":"failure","performed_at":")" + long_ago + "\"}");
  auto days = DailyEvents(Sources(), tenant_, 7, kNow);
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  ASSERT_EQ(days->size(), 7u);
  const DayEvents& last = days->back();
  EXPECT_EQ(last.day_ns, kNow / kDayNs * kDayNs);
  EXPECT_EQ(last.alerts_opened.open, 2);
  EXPECT_EQ(last.alerts_opened.critical, 1);
  EXPECT_EQ(last.alerts_opened.info, 1);
  EXPECT_EQ(last.failures, 1);
  EXPECT_EQ((*days)[4].maintenance, 1);
  EXPECT_EQ((*days)[4].alerts_opened.open, 0);
  int failures = 0;
  for (const DayEvents& d : *days) failures += d.failures;
  EXPECT_EQ(failures, 1);  // wo_3 is older than the week
}

TEST_F(Reports, TheAssetReportGathersAlertsMaintenanceAndLatestValues) {
  Raise("pump-1", Severity::kCritical);
  const std::string at = storage::FormatRfc3339(kNow - 3 * kDayNs);
  Maintenance("wo_1", R"({"asset_id":"pump-1","kind":"inspection","performed_at":")" + at +
                          R"(","cost":250,"downtime_hours":1.5})");
  std::vector<storage::Sample> batch = {
      {Series("pump-1", "temp"), kNow - 10, storage::Value::Float(71.5)}};
  ASSERT_TRUE(db_->Append(tenant_, batch).ok());
  auto report = ReportAsset(Sources(), tenant_, "pump-1", kNow);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->asset.id, "pump-1");
  EXPECT_EQ(report->open_alerts.critical, 1);
  EXPECT_EQ(report->maintenance_by_kind.at("inspection"), 1);
  EXPECT_EQ(report->maintenance_cost, 250);
  EXPECT_EQ(report->downtime_hours, 1.5);
  EXPECT_EQ(report->last_maintenance_ns, kNow - 3 * kDayNs);
  EXPECT_EQ(report->latest.at("temp").value, 71.5);
  EXPECT_EQ(ReportAsset(Sources(), tenant_, "pump-9", kNow).status().code(),
            Status::Code::kNotFound);
}

TEST_F(Reports, WithoutTheLiveEngineCostAvoidanceStillReadsTheStoredAlerts) {
  Raise("pump-1", Severity::kWarning);
  Maintenance("wo_1", R"({"asset_id":"pump-1","kind":"preventive","performed_at":")" +
                          storage::FormatRfc3339(kNow + kDayNs) + R"("})");
  ReportSources sources{db_.get(), nullptr, "asset_id"};
  auto report = ComputeCostAvoidance(sources, tenant_, 30, kNow + 2 * kDayNs);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->interventions.size(), 1u);
  auto summary = SummarizeFleet(sources, tenant_);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->open_alerts.open, 0);  // open counts are the live engine's
}

}  // namespace
}  // namespace foresight::query
