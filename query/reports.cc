// Reports: the fleet summary, daily trends, cost avoidance and the per-asset report, and the two
// kinds of records they read besides assets and alerts (maintenance, settings). The arithmetic
// is written out in query/README.md.
#include "query/query.h"
#include "storage/json.h"
#include "storage/log.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace foresight::query {
namespace {

namespace json = boost::json;
using storage::kDayNs;

constexpr std::string_view kSettingsId = "tenant";

std::string_view Attribute(const storage::Asset& asset, std::string_view key,
                           std::string_view fallback) {
  for (const auto& [k, v] : asset.attributes) {
    if (k == key) return v;
  }
  return fallback;
}

const json::value* Field(const json::object& o, std::string_view key, json::kind kind) {
  const json::value* v = o.if_contains(key);
  if (!v) return nullptr;
  if (kind == json::kind::double_) return v->is_number() ? v : nullptr;
  return v->kind() == kind ? v : nullptr;
}

// Every alert of the tenant, from the Alerts when there is one and from storage otherwise.
Result<std::vector<Alert>> AllAlerts(const ReportSources& sources, storage::TenantId tenant) {
  if (!sources.alerts) return ReadAlerts(*sources.storage, tenant);
  std::vector<Alert> out;
  Status s = sources.alerts->Read(tenant, [&](std::span<const Alert* const> all) {
    out.reserve(all.size());
    for (const Alert* a : all) out.push_back(*a);
  });
  if (!s.ok()) return s;
  return out;
}

// The asset a series names (its asset tag's value), empty for none.
std::string_view SeriesAsset(const ReportSources& sources, const storage::SeriesInfo& s) {
  auto tag = std::find_if(s.key.tags.begin(), s.key.tags.end(),
                          [&](const auto& t) { return t.first == sources.asset_tag; });
  return tag == s.key.tags.end() ? std::string_view() : std::string_view(tag->second);
}

// The numeric series that name an asset: of `metric` (empty: every metric) and of the asset
// `asset_id` (empty: every asset), in creation order.
std::vector<storage::SeriesInfo> AssetSeries(const ReportSources& sources, storage::TenantId tenant,
                                             std::string_view metric, std::string_view asset_id) {
  std::vector<storage::SeriesInfo> out;
  for (storage::SeriesInfo& s : sources.storage->ListSeries(tenant)) {
    if (s.type == storage::ValueType::kString) continue;
    if (!metric.empty() && s.key.field != metric) continue;
    std::string_view asset = SeriesAsset(sources, s);
    if (asset.empty() || (!asset_id.empty() && asset != asset_id)) continue;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<std::vector<MaintenanceRecord>> ReadMaintenance(const storage::Storage& storage,
                                                       storage::TenantId tenant) {
  auto records = storage.ScanRecords(tenant, kMaintenanceKind, {});
  if (!records.ok()) return records.status();
  std::vector<MaintenanceRecord> out;
  out.reserve(records->size());
  for (const auto& [id, text] : *records) {
    auto doc = storage::ParseJsonObject(text);
    if (doc.ok() && doc->contains("deleted_at")) continue;
    const json::value* asset = doc.ok() ? Field(*doc, "asset_id", json::kind::string) : nullptr;
    const json::value* kind = doc.ok() ? Field(*doc, "kind", json::kind::string) : nullptr;
    const json::value* at = doc.ok() ? Field(*doc, "performed_at", json::kind::string) : nullptr;
    Result<int64_t> performed = at ? storage::ParseRfc3339(at->as_string())
                                   : Result<int64_t>(Status::InvalidArgument("none"));
    if (!asset || !kind || !performed.ok()) {
      log::Warn("maintenance record '{}' of tenant {} does not decode; it is left out", id, tenant);
      continue;
    }
    MaintenanceRecord m;
    m.id = id;
    m.asset_id = asset->as_string();
    m.kind = kind->as_string();
    m.performed_ns = *performed;
    if (const json::value* c = Field(*doc, "cost", json::kind::double_)) {
      m.cost = c->to_number<double>();
    }
    if (const json::value* d = Field(*doc, "downtime_hours", json::kind::double_)) {
      m.downtime_hours = d->to_number<double>();
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<ReportSettings> ReadSettings(const storage::Storage& storage, storage::TenantId tenant) {
  ReportSettings settings;
  auto record = storage.GetRecord(tenant, kSettingsKind, kSettingsId);
  if (!record.ok()) {
    if (record.status().code() == Status::Code::kNotFound) return settings;
    return record.status();
  }
  auto doc = storage::ParseJsonObject(*record);
  if (!doc.ok())
    return Status::Corruption("the settings record of tenant " + std::to_string(tenant) +
                              " does not parse");
  if (const json::value* cm = Field(*doc, "cost_model", json::kind::object)) {
    const json::object& m = cm->as_object();
    CostModel& model = settings.cost_model;
    if (const json::value* v = Field(m, "currency", json::kind::string)) {
      model.currency = v->as_string();
    }
    if (const json::value* v = Field(m, "planned_to_unplanned_ratio", json::kind::double_)) {
      model.planned_to_unplanned_ratio = v->to_number<double>();
    }
    if (const json::value* v = Field(m, "lookback_days", json::kind::double_)) {
      model.lookback_days = static_cast<int>(v->to_number<double>());
    }
    if (const json::value* v = Field(m, "unplanned_failure_cost", json::kind::object)) {
      for (const auto& [c, x] : v->as_object()) {
        if (x.is_number()) model.unplanned_failure_cost[std::string(c)] = x.to_number<double>();
      }
    }
  }
  if (const json::value* risk = Field(*doc, "risk", json::kind::object)) {
    if (const json::value* v =
            Field(risk->as_object(), "at_risk_below_health", json::kind::double_)) {
      settings.at_risk_below_health = v->to_number<double>();
    }
  }
  return settings;
}

Status WriteSettings(storage::Storage* storage, storage::TenantId tenant,
                     const ReportSettings& settings) {
  const CostModel& m = settings.cost_model;
  if (m.currency.empty() || m.currency.size() > 8) {
    return Status::InvalidArgument(
        "cost_model.currency: currency must be a code of 1..8 characters");
  }
  if (!(m.planned_to_unplanned_ratio >= 0 && m.planned_to_unplanned_ratio <= 1)) {
    return Status::InvalidArgument(
        "cost_model.planned_to_unplanned_ratio: planned_to_unplanned_ratio must be from 0 to 1");
  }
  if (m.lookback_days < 1 || m.lookback_days > 365) {
    return Status::InvalidArgument(
        "cost_model.lookback_days: lookback_days must be an integer from 1 to 365");
  }
  json::object costs;
  for (const auto& [c, x] : m.unplanned_failure_cost) {
    if (std::find(kCriticalities.begin(), kCriticalities.end(), c) == kCriticalities.end()) {
      return Status::InvalidArgument("cost_model.unplanned_failure_cost." + c +
                                     ": criticality must be low, medium, high or critical");
    }
    if (!(x >= 0) || !std::isfinite(x)) {
      return Status::InvalidArgument("cost_model.unplanned_failure_cost." + c +
                                     ": costs must be non-negative numbers");
    }
    costs[c] = x;
  }
  if (!(settings.at_risk_below_health >= 0 && settings.at_risk_below_health <= 100)) {
    return Status::InvalidArgument("risk.at_risk_below_health: must be from 0 to 100");
  }
  json::object doc = {{"cost_model",
                       {{"currency", m.currency},
                        {"unplanned_failure_cost", std::move(costs)},
                        {"planned_to_unplanned_ratio", m.planned_to_unplanned_ratio},
                        {"lookback_days", m.lookback_days}}},
                      {"risk", {{"at_risk_below_health", settings.at_risk_below_health}}}};
  const std::string text = storage::JsonText(doc);
  const storage::Storage::RecordWrite write{kSettingsKind, kSettingsId, text};
  return storage->WriteRecords(tenant, std::span(&write, 1));
}

void AlertCounts::Add(Severity severity) {
  ++open;
  ++(severity == Severity::kCritical ? critical : severity == Severity::kWarning ? warning : info);
}

Result<AlertCountsByAsset> OpenAlertsByAsset(const Alerts* alerts, storage::TenantId tenant) {
  AlertCountsByAsset out;
  if (!alerts) return out;
  Status s = alerts->Read(tenant, [&](std::span<const Alert* const> all) {
    for (const Alert* a : all) {
      if (a->status != AlertStatus::kResolved) out[a->asset_id].Add(a->severity);
    }
  });
  if (!s.ok()) return s;
  return out;
}

AlertCounts CountsFor(const AlertCountsByAsset& counts, std::string_view id) {
  auto it = counts.find(id);
  return it == counts.end() ? AlertCounts{} : it->second;
}

int HealthScore(const AlertCounts& counts) {
  return std::max(0, 100 - 30 * counts.critical - 10 * counts.warning - 2 * counts.info);
}

Result<FleetSummary> SummarizeFleet(const ReportSources& sources, storage::TenantId tenant) {
  auto settings = ReadSettings(*sources.storage, tenant);
  if (!settings.ok()) return settings.status();
  auto counts = OpenAlertsByAsset(sources.alerts, tenant);
  if (!counts.ok()) return counts.status();
  FleetSummary summary;
  double health_sum = 0;
  sources.storage->WithAssets(tenant, [&](std::span<const storage::Asset* const> all) {
    summary.assets = all.size();
    for (const storage::Asset* a : all) {
      ++summary.assets_by_status[std::string(Attribute(*a, "status", "active"))];
      const int health = HealthScore(CountsFor(*counts, a->id));
      health_sum += health;
      if (health < settings->at_risk_below_health) ++summary.assets_at_risk;
    }
  });
  for (const auto& [id, c] : *counts) {
    summary.open_alerts.open += c.open;
    summary.open_alerts.critical += c.critical;
    summary.open_alerts.warning += c.warning;
    summary.open_alerts.info += c.info;
  }
  if (summary.assets > 0) {
    summary.fleet_health = std::round(10 * health_sum / static_cast<double>(summary.assets)) / 10;
  }
  return summary;
}

Result<std::vector<storage::Bucket>> DailyTrend(const ReportSources& sources,
                                                storage::TenantId tenant, std::string_view metric,
                                                const TrendScope& scope, int days, int64_t now_ns) {
  const int64_t to = (now_ns / kDayNs + 1) * kDayNs, from = to - days * kDayNs;
  std::set<std::string, std::less<>> of_type;
  if (!scope.asset_type.empty()) {
    sources.storage->WithAssets(tenant, [&](std::span<const storage::Asset* const> all) {
      for (const storage::Asset* a : all) {
        if (Attribute(*a, "asset_type", "") == scope.asset_type) of_type.insert(a->id);
      }
    });
  }
  std::map<int64_t, storage::Bucket> by_day;
  for (const storage::SeriesInfo& s : AssetSeries(sources, tenant, metric, scope.asset_id)) {
    if (!scope.asset_type.empty() && !of_type.contains(SeriesAsset(sources, s))) continue;
    auto buckets =
        sources.storage->ReadDownsampled(tenant, s.id, from, to, std::chrono::nanoseconds(kDayNs));
    if (!buckets.ok()) return buckets.status();
    for (const storage::Bucket& b : *buckets) {
      auto [it, fresh] = by_day.try_emplace(b.start_ns, b);
      if (fresh) continue;
      storage::Bucket& d = it->second;
      d.count += b.count;
      d.sum += b.sum;
      d.sum_squares += b.sum_squares;
      d.min = std::min(d.min, b.min);
      d.max = std::max(d.max, b.max);
    }
  }
  std::vector<storage::Bucket> out;
  out.reserve(by_day.size());
  for (auto& [day, b] : by_day) out.push_back(b);
  return out;
}

Result<std::vector<DayEvents>> DailyEvents(const ReportSources& sources, storage::TenantId tenant,
                                           int days, int64_t now_ns) {
  const int64_t to = (now_ns / kDayNs + 1) * kDayNs, from = to - days * kDayNs;
  std::vector<DayEvents> out(static_cast<size_t>(days));
  for (int d = 0; d < days; ++d) out[static_cast<size_t>(d)].day_ns = from + d * kDayNs;
  auto day = [&](int64_t ns) -> DayEvents* {
    return ns >= from && ns < to ? &out[static_cast<size_t>((ns - from) / kDayNs)] : nullptr;
  };
  auto alerts = AllAlerts(sources, tenant);
  if (!alerts.ok()) return alerts.status();
  for (const Alert& a : *alerts) {
    if (DayEvents* d = day(a.opened_ns)) d->alerts_opened.Add(a.severity);
  }
  auto maintenance = ReadMaintenance(*sources.storage, tenant);
  if (!maintenance.ok()) return maintenance.status();
  for (const MaintenanceRecord& m : *maintenance) {
    if (DayEvents* d = day(m.performed_ns)) ++(m.kind == "failure" ? d->failures : d->maintenance);
  }
  return out;
}

Result<CostAvoidance> ComputeCostAvoidance(const ReportSources& sources, storage::TenantId tenant,
                                           int days, int64_t now_ns) {
  auto settings = ReadSettings(*sources.storage, tenant);
  if (!settings.ok()) return settings.status();
  auto alerts = AllAlerts(sources, tenant);
  if (!alerts.ok()) return alerts.status();
  auto maintenance = ReadMaintenance(*sources.storage, tenant);
  if (!maintenance.ok()) return maintenance.status();
  const CostModel& model = settings->cost_model;
  const int64_t lookback = model.lookback_days * kDayNs, from = now_ns - days * kDayNs;

  std::map<std::string, std::string, std::less<>> criticality;
  for (const storage::Asset& a : sources.storage->ListAssets(tenant)) {
    criticality[a.id] = Attribute(a, "criticality", "medium");
  }
  std::map<std::string, std::vector<int64_t>, std::less<>> opened_by_asset;
  for (const Alert& a : *alerts) opened_by_asset[a.asset_id].push_back(a.opened_ns);

  CostAvoidance report;
  report.currency = model.currency;
  report.days = days;
  for (const MaintenanceRecord& m : *maintenance) {
    if (m.performed_ns < from || m.performed_ns > now_ns) continue;
    auto crit_it = criticality.find(m.asset_id);
    const std::string crit = crit_it == criticality.end() ? "medium" : crit_it->second;
    auto cost_it = model.unplanned_failure_cost.find(crit);
    const double unplanned = cost_it == model.unplanned_failure_cost.end() ? 0 : cost_it->second;
    if (m.kind == "failure") {
      ++report.failures;
      report.failure_cost += m.cost.value_or(unplanned);
      continue;
    }
    if (m.kind != "preventive" && m.kind != "corrective") continue;
    auto opened = opened_by_asset.find(m.asset_id);
    const bool warned = opened != opened_by_asset.end() &&
                        std::any_of(opened->second.begin(), opened->second.end(), [&](int64_t t) {
                          return t <= m.performed_ns && t >= m.performed_ns - lookback;
                        });
    if (!warned) continue;
    Intervention i{m.id,      m.asset_id,
                   crit,      m.performed_ns,
                   unplanned, m.cost.value_or(model.planned_to_unplanned_ratio * unplanned)};
    report.unplanned_cost_avoided += i.unplanned_cost_avoided;
    report.planned_cost += i.planned_cost;
    report.interventions.push_back(std::move(i));
  }
  return report;
}

Result<AssetReport> ReportAsset(const ReportSources& sources, storage::TenantId tenant,
                                std::string_view asset_id, int64_t now_ns) {
  auto asset = sources.storage->GetAsset(tenant, asset_id);
  if (!asset.ok()) return Status::NotFound("no asset '" + std::string(asset_id) + "'");
  auto counts = OpenAlertsByAsset(sources.alerts, tenant);
  if (!counts.ok()) return counts.status();
  auto alerts = AllAlerts(sources, tenant);
  if (!alerts.ok()) return alerts.status();
  auto maintenance = ReadMaintenance(*sources.storage, tenant);
  if (!maintenance.ok()) return maintenance.status();

  AssetReport report;
  report.asset = std::move(*asset);
  report.open_alerts = CountsFor(*counts, asset_id);
  for (const Alert& a : *alerts) {
    if (a.asset_id == asset_id && a.opened_ns >= now_ns - 30 * kDayNs) {
      ++report.alerts_last_30_days;
    }
  }
  for (const MaintenanceRecord& m : *maintenance) {
    if (m.asset_id != asset_id) continue;
    ++report.maintenance_by_kind[m.kind];
    report.maintenance_cost += m.cost.value_or(0);
    report.downtime_hours += m.downtime_hours;
    if (!report.last_maintenance_ns || m.performed_ns > *report.last_maintenance_ns) {
      report.last_maintenance_ns = m.performed_ns;
    }
  }
  for (const storage::SeriesInfo& s : AssetSeries(sources, tenant, {}, asset_id)) {
    auto p = sources.storage->ReadLatest(tenant, s.id);
    if (!p.ok() || p->size() == 0) continue;
    // One series per metric name: the first created wins, as for the models.
    report.latest.try_emplace(s.key.field, LatestValue{p->ts_ns[0], p->AsDouble(0)});
  }
  return report;
}

}  // namespace foresight::query
