#include "query/query.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace foresight::query {
namespace {

using storage::Sample;
using storage::SeriesId;
using storage::Storage;
using storage::TenantId;
using storage::Value;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = 1'700'000'000 * kSecond;

// A tenant with pumps and fans on real storage, written the way the ingest path writes: append,
// windows, then rules.
class AlertRules : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    storage::Options options;
    options.fsync = storage::FsyncPolicy::kNever;
    db_ = Storage::Open(dir_.Sub("db"), options).value();
    tenant_ = db_->CreateTenant("acme").value();
    windows_ = std::make_unique<Windows>(db_.get());
    ASSERT_TRUE(windows_->Rebuild(tenant_).ok());
    alerts_ = std::make_unique<Alerts>(db_.get(), windows_.get(), "asset_id");
    alerts_->AddListener([this](const AlertEvent& e) {
      events_.push_back(e.alert->id + " " +
                        std::string(kAlertStatusNames[static_cast<size_t>(e.alert->status)]));
    });
    const storage::Asset assets[] = {
        {"pump-1", {{"asset_type", "pump"}, {"site", "north"}}, 0},
        {"pump-2", {{"asset_type", "pump"}, {"site", "south"}}, 0},
        {"fan-1", {{"asset_type", "fan"}, {"site", "north"}}, 0},
    };
    ASSERT_TRUE(db_->EnsureAssets(tenant_, assets).ok());
  }

  // Closes everything without a clean shutdown of the alerts (they keep nothing unwritten).
  void Restart() {
    alerts_.reset();
    windows_.reset();
    db_.reset();
    events_.clear();
    Open();
  }

  SeriesId Series(const std::string& asset, const std::string& metric) {
    storage::SeriesSpec spec{{"readings", {{"asset_id", asset}}, metric},
                             storage::ValueType::kFloat};
    return db_->ResolveSeries(tenant_, {&spec, 1}).value()[0].value();
  }

  // One point per value, `step_s` apart from `at_s` seconds after kStart.
  void Write(SeriesId series, int64_t at_s, std::initializer_list<double> values,
             int64_t step_s = 10) {
    std::vector<Sample> batch;
    for (double v : values) {
      batch.push_back({series, kStart + at_s * kSecond, Value::Float(v)});
      at_s += step_s;
    }
    ASSERT_TRUE(db_->Append(tenant_, batch).ok());
    ASSERT_TRUE(windows_->Apply(tenant_, batch).ok());
    // One batch per point, as a sensor sending readings one by one.
    for (const Sample& s : batch) ASSERT_TRUE(alerts_->Evaluate(tenant_, {&s, 1}).ok());
  }

  std::vector<Alert> All() {
    std::vector<Alert> out;
    EXPECT_TRUE(alerts_
                    ->Read(tenant_,
                           [&](std::span<const Alert* const> all) {
                             for (const Alert* a : all) out.push_back(*a);
                           })
                    .ok());
    return out;
  }

  static Rule HotBearing() {
    Rule r;
    r.id = "rule_hot";
    r.name = "Hot bearing";
    r.metric = "bearing_temp";
    r.op = Op::kGt;
    r.threshold = 90;
    r.severity = Severity::kCritical;
    return r;
  }

  testing::TempDir dir_;
  std::unique_ptr<Storage> db_;
  TenantId tenant_ = 0;
  std::unique_ptr<Windows> windows_;
  std::unique_ptr<Alerts> alerts_;
  std::vector<std::string> events_;
};

TEST_F(AlertRules, OpenOneAlertWhenAPointCrossesAndResolveItWhenTheValueComesBack) {
  alerts_->SetRules(tenant_, {HotBearing()});
  const SeriesId temp = Series("pump-1", "bearing_temp");
  Write(temp, 0, {80, 85, 95, 97, 99, 80});
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  const Alert& a = all[0];
  EXPECT_EQ(a.rule_id, "rule_hot");
  EXPECT_EQ(a.asset_id, "pump-1");
  EXPECT_EQ(a.severity, Severity::kCritical);
  EXPECT_EQ(a.value, 95);
  EXPECT_EQ(a.opened_ns, kStart + 20 * kSecond) << "the time of the point that crossed";
  EXPECT_EQ(a.status, AlertStatus::kResolved);
  EXPECT_EQ(a.closed_ns, kStart + 50 * kSecond);
  ASSERT_EQ(a.history.size(), 2u);
  EXPECT_EQ(a.history[1].by, "rule");
  EXPECT_EQ(events_, (std::vector<std::string>{a.id + " open", a.id + " resolved"}));
  EXPECT_EQ(alerts_->GetStats().opened, 1u);
}

TEST_F(AlertRules, RaiseOneAlertForASignalFlappingAroundTheThresholdWhenAClearThresholdIsSet) {
  Rule r = HotBearing();
  r.clear_threshold = 85;
  alerts_->SetRules(tenant_, {r});
  const SeriesId temp = Series("pump-1", "bearing_temp");
  Write(temp, 0, {89, 91, 89, 92, 88, 93, 87, 91, 86});
  auto all = All();
  ASSERT_EQ(all.size(), 1u) << "one alert, not one per crossing";
  EXPECT_EQ(all[0].status, AlertStatus::kOpen);
  Write(temp, 90, {84});
  EXPECT_EQ(All()[0].status, AlertStatus::kResolved) << "below the clear threshold";
}

TEST_F(AlertRules, RaiseOneAlertPerCrossingWithoutHysteresisButOnlyAfterTheCooldown) {
  Rule r = HotBearing();
  alerts_->SetRules(tenant_, {r});
  const SeriesId temp = Series("pump-1", "bearing_temp");
  Write(temp, 0, {91, 89, 91, 89});
  EXPECT_EQ(All().size(), 2u) << "without hysteresis or cooldown every crossing opens one";

  r.cooldown_ns = 60 * kSecond;
  alerts_->SetRules(tenant_, {r});
  // The second alert cleared at t=30 s: crossings until t=90 s are held back.
  Write(temp, 40, {91, 89, 91, 89, 91, 92});
  auto all = All();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].opened_ns, kStart + 90 * kSecond) << "the first breach after the cooldown";
  EXPECT_GT(alerts_->GetStats().held_by_cooldown, 0u);
}

TEST_F(AlertRules, OpenOnlyWhenTheConditionHoldsForTheWholeForDuration) {
  Rule r = HotBearing();
  r.for_ns = 30 * kSecond;
  alerts_->SetRules(tenant_, {r});
  const SeriesId temp = Series("pump-1", "bearing_temp");
  Write(temp, 0, {95, 95, 95, 80, 95, 95, 95});
  EXPECT_TRUE(All().empty()) << "broken at t=30 s, then held only 20 s";
  Write(temp, 70, {95});
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].opened_ns, kStart + 70 * kSecond) << "30 s after the breach began at 40 s";
}

TEST_F(AlertRules, WatchAWindowAggregateAndHonourTheScope) {
  Rule r = HotBearing();
  r.window = Span::k5m;
  r.aggregate = Aggregate::kMean;
  r.asset_type = "pump";
  r.site = "north";
  alerts_->SetRules(tenant_, {r});
  const SeriesId pump1 = Series("pump-1", "bearing_temp");
  const SeriesId pump2 = Series("pump-2", "bearing_temp");
  const SeriesId fan = Series("fan-1", "bearing_temp");
  Write(pump2, 0, {120, 120});
  Write(fan, 0, {120, 120});
  EXPECT_TRUE(All().empty()) << "pump-2 is in the south, fan-1 is not a pump";
  Write(pump1, 0, {80, 100});
  EXPECT_TRUE(All().empty()) << "the 5 min mean is 90, not above";
  Write(pump1, 20, {110});
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].value, (80.0 + 100 + 110) / 3);
  EXPECT_NE(all[0].message.find("5m mean"), std::string::npos) << all[0].message;
}

TEST_F(AlertRules, ApplyARuleChangeFromTheNextPoint) {
  Rule r = HotBearing();
  alerts_->SetRules(tenant_, {r});
  const SeriesId temp = Series("pump-1", "bearing_temp");
  Write(temp, 0, {85});
  r.threshold = 80;
  alerts_->SetRules(tenant_, {r});
  Write(temp, 10, {85});
  ASSERT_EQ(All().size(), 1u);
  r.enabled = false;
  r.threshold = 0;
  alerts_->SetRules(tenant_, {r});
  Write(temp, 20, {10});
  EXPECT_EQ(All()[0].status, AlertStatus::kOpen) << "a disabled rule neither opens nor clears";
}

TEST_F(AlertRules, MoveAnAlertThroughItsLifecycleWithWhoWhenAndNotes) {
  alerts_->SetRules(tenant_, {HotBearing()});
  const SeriesId temp = Series("pump-1", "bearing_temp");
  Write(temp, 0, {95});
  const std::string id = All()[0].id;
  auto acked = alerts_->Update(tenant_, id, AlertStatus::kAcknowledged, "ana", "on it");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->history.back().by, "ana");
  EXPECT_EQ(acked->history.back().notes, "on it");
  EXPECT_GT(acked->history.back().at_ns, 0);
  EXPECT_EQ(alerts_->Update(tenant_, id, AlertStatus::kAcknowledged, "ana", "").status().code(),
            Status::Code::kAlreadyExists);
  Write(temp, 10, {96});
  EXPECT_EQ(All().size(), 1u) << "an acknowledged alert still holds its (rule, asset)";
  auto resolved = alerts_->Update(tenant_, id, AlertStatus::kResolved, "ben", "bearing swapped");
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->history.size(), 3u);
  EXPECT_EQ(alerts_->Update(tenant_, id, AlertStatus::kResolved, "ben", "").status().code(),
            Status::Code::kAlreadyExists);
  EXPECT_EQ(
      alerts_->Update(tenant_, "alert_nope", AlertStatus::kResolved, "ben", "").status().code(),
      Status::Code::kNotFound);
  Write(temp, 20, {97});
  EXPECT_EQ(All().size(), 2u) << "still hot after a user resolved it: a new alert";

  Alert manual;
  manual.asset_id = "pump-1";
  manual.rule_id = "rule_hot";
  manual.message = "by hand";
  EXPECT_EQ(alerts_->Raise(tenant_, manual, "ana").status().code(), Status::Code::kAlreadyExists)
      << "the rule's alert for pump-1 is open";
  manual.rule_id.clear();
  auto raised = alerts_->Raise(tenant_, manual, "ana");
  ASSERT_TRUE(raised.ok());
  EXPECT_EQ(raised->history[0].by, "ana");
}

TEST_F(AlertRules, KeepAlertsAndTheirIdsAcrossARestart) {
  Rule r = HotBearing();
  r.cooldown_ns = 600 * kSecond;
  const SeriesId temp = Series("pump-1", "bearing_temp");
  const SeriesId other = Series("pump-2", "bearing_temp");
  alerts_->SetRules(tenant_, {r});
  Write(temp, 0, {95});
  Write(other, 0, {95, 80});
  auto before = All();
  ASSERT_EQ(before.size(), 2u);
  ASSERT_TRUE(alerts_->Update(tenant_, before[0].id, AlertStatus::kAcknowledged, "ana", "").ok());

  Restart();
  alerts_->SetRules(tenant_, {r});
  auto after = All();
  ASSERT_EQ(after.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].asset_id, before[i].asset_id);
  }
  EXPECT_EQ(after[0].status, AlertStatus::kAcknowledged);
  EXPECT_EQ(after[0].history.back().by, "ana");
  Write(temp, 10, {99});
  Write(other, 20, {99});
  EXPECT_EQ(All().size(), 2u) << "pump-1's alert is still open; pump-2's cooldown still runs";
  Write(temp, 20, {80});
  EXPECT_EQ(All()[0].status, AlertStatus::kResolved) << "the reloaded alert clears by itself";
}

TEST_F(AlertRules, OpenOneAlertPerRuleAndAssetWhenSendersRaceWhileReadersList) {
  alerts_->SetRules(tenant_, {HotBearing()});
  const SeriesId a = Series("pump-1", "bearing_temp");
  const SeriesId b = Series("pump-1", "bearing_temp_2");
  Rule second = HotBearing();
  second.id = "rule_hot_2";
  second.metric = "bearing_temp_2";
  alerts_->SetRules(tenant_, {HotBearing(), second});
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      (void)alerts_->Read(tenant_, [](std::span<const Alert* const> all) {
        for (const Alert* x : all) EXPECT_FALSE(x->id.empty());
      });
    }
  });
  auto sender = [&](int offset) {
    for (int i = 0; i < 200; ++i) {
      const std::vector<Sample> batch = {
          {a, kStart + (2 * i + offset) * kSecond, Value::Float(95)},
          {b, kStart + (2 * i + offset) * kSecond, Value::Float(95)}};
      ASSERT_TRUE(db_->Append(tenant_, batch).ok());
      ASSERT_TRUE(windows_->Apply(tenant_, batch).ok());
      ASSERT_TRUE(alerts_->Evaluate(tenant_, batch).ok());
    }
  };
  std::thread first(sender, 0), other(sender, 1);
  first.join();
  other.join();
  done = true;
  reader.join();
  auto all = All();
  ASSERT_EQ(all.size(), 2u) << "one per rule for pump-1, however the two senders interleave";
  EXPECT_NE(all[0].rule_id, all[1].rule_id);
  EXPECT_EQ(events_.size(), 2u);
}

TEST_F(AlertRules, LoadRulesRunsTheStoredRecordsAndSkipsDeletedAndDamagedOnes) {
  const std::string hot =
      R"({"id":"rule_hot","name":"Hot","metric":"temp","operator":"gt","threshold":80,)"
      R"("source":"raw","scope":{"asset_type":"pump"},"severity":"critical","enabled":true})";
  const std::string deleted =
      R"({"id":"rule_old","name":"Old","metric":"temp","operator":"gt","threshold":10,)"
      R"("deleted_at":"2026-01-01T00:00:00Z"})";
  const std::string damaged = R"({"id":"rule_bad","metric":"temp")";
  const storage::Storage::RecordWrite writes[] = {{kRuleKind, "rule_hot", hot},
                                                  {kRuleKind, "rule_old", deleted},
                                                  {kRuleKind, "rule_bad", damaged}};
  ASSERT_TRUE(db_->WriteRecords(tenant_, writes).ok());
  ASSERT_TRUE(alerts_->LoadRules(tenant_).ok());

  Write(Series("pump-1", "temp"), 0, {50, 85});
  Write(Series("fan-1", "temp"), 0, {85});
  std::vector<Alert> all = All();
  ASSERT_EQ(all.size(), 1u);  // the deleted rule opened nothing, the fan is out of scope
  EXPECT_EQ(all[0].rule_id, "rule_hot");
  EXPECT_EQ(all[0].asset_id, "pump-1");
  EXPECT_EQ(all[0].severity, Severity::kCritical);
}

TEST(RuleRecords, ANewRuleTakesTheDefaultsAndNeedsItsRequiredFields) {
  namespace json = boost::json;
  json::object rule;
  Status missing = ApplyRuleChange({{"name", "Hot"}, {"metric", "temp"}}, true, &rule);
  EXPECT_EQ(missing.message(), "operator: operator is required");
  ASSERT_TRUE(
      ApplyRuleChange({{"name", "Hot"}, {"metric", "temp"}, {"operator", "gt"}, {"threshold", 80}},
                      true, &rule)
          .ok());
  EXPECT_EQ(rule.at("source"), "raw");
  EXPECT_EQ(rule.at("severity"), "warning");
  EXPECT_EQ(rule.at("enabled"), true);
  auto decoded = DecodeRule(storage::JsonText(rule));
  ASSERT_TRUE(decoded.ok() && decoded->has_value());
  EXPECT_EQ((*decoded)->threshold, 80);
}

TEST(RuleRecords, AChangeIsCheckedFieldByFieldAndLeavesTheRuleAsItWasWhenRefused) {
  namespace json = boost::json;
  json::object rule;
  ASSERT_TRUE(ApplyRuleChange({{"name", "Cold"},
                               {"metric", "temp"},
                               {"operator", "lt"},
                               {"threshold", 5},
                               {"description", "winter"}},
                              true, &rule)
                  .ok());
  const json::object before = rule;
  const std::pair<json::object, std::string> refused[] = {
      {{{"colour", "red"}}, "colour: unknown field 'colour'"},
      {{{"operator", "above"}}, "operator: operator must be one of gt, gte, lt, lte, eq, ne"},
      {{{"threshold", "high"}}, "threshold: threshold must be a number"},
      {{{"for_seconds", -1}}, "for_seconds: for_seconds must not be negative"},
      {{{"enabled", "yes"}}, "enabled: enabled must be true or false"},
      {{{"scope", {{"region", "x"}}}}, "scope.region: scope may name asset_type, site, asset_id"},
      {{{"name", nullptr}}, "name: name is required"},
      {{{"name", ""}}, "name: name must not be empty"},
      {{{"clear_threshold", 1}},
       "clear_threshold: clear_threshold must not be below threshold "
       "for lt"},
  };
  for (const auto& [change, message] : refused) {
    Status s = ApplyRuleChange(change, false, &rule);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << message;
    EXPECT_EQ(s.message(), message);
    EXPECT_EQ(rule, before) << message;
  }
  ASSERT_TRUE(
      ApplyRuleChange({{"description", nullptr}, {"clear_threshold", 7}}, false, &rule).ok());
  EXPECT_FALSE(rule.contains("description"));
  EXPECT_EQ(rule.at("clear_threshold"), 7);
}

TEST(RuleRecords, DecodeEveryFieldTheApiWrites) {
  auto rule = DecodeRule(
      R"({"id":"r1","name":"Slow drift","metric":"vibration","operator":"lte","threshold":2.5,)"
      R"("clear_threshold":3,"source":"1h","aggregate":"stddev","for_seconds":60,)"
      R"("cooldown_seconds":300,"severity":"info","enabled":false,)"
      R"("scope":{"site":"north","asset_id":"p7"}})");
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();
  ASSERT_TRUE(rule->has_value());
  const Rule& r = **rule;
  EXPECT_EQ(r.id, "r1");
  EXPECT_EQ(r.op, Op::kLte);
  EXPECT_EQ(r.threshold, 2.5);
  EXPECT_EQ(r.clear_threshold, 3.0);
  EXPECT_EQ(r.window, Span::k1h);
  EXPECT_EQ(r.aggregate, Aggregate::kStddev);
  EXPECT_EQ(r.for_ns, 60 * kSecond);
  EXPECT_EQ(r.cooldown_ns, 300 * kSecond);
  EXPECT_EQ(r.severity, Severity::kInfo);
  EXPECT_FALSE(r.enabled);
  EXPECT_EQ(r.site, "north");
  EXPECT_EQ(r.asset_id, "p7");
  EXPECT_TRUE(r.asset_type.empty());
}

TEST(RuleRecords, RefuseARecordThatIsNotARule) {
  EXPECT_EQ(DecodeRule("not json").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(DecodeRule(R"({"id":"r1","threshold":"high"})").status().code(),
            Status::Code::kCorruption);
}

TEST(RuleRecords, AClearThresholdLiesOnTheClearedSide) {
  EXPECT_TRUE(CheckClearThreshold(Op::kGt, 80, 75).ok());
  EXPECT_FALSE(CheckClearThreshold(Op::kGt, 80, 85).ok());
  EXPECT_TRUE(CheckClearThreshold(Op::kLt, 10, 12).ok());
  EXPECT_FALSE(CheckClearThreshold(Op::kLte, 10, 8).ok());
  EXPECT_FALSE(CheckClearThreshold(Op::kEq, 10, 10).ok());
}

}  // namespace
}  // namespace foresight::query
