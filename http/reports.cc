// Reports (fleet summary, trends, cost avoidance, per asset; each also as CSV) and the tenant
// settings they read: query computes them (query/query.h, "Reports"); this file maps the query
// string in and JSON or CSV out.
#include "http/api.h"
#include "http/csv.h"

#include <fmt/format.h>

#include <algorithm>

namespace foresight::http {
namespace {

using query::kCriticalities;

query::ReportSources Sources(const Ctx& ctx) {
  return {ctx.services.storage, ctx.services.alerts, std::string(AssetTag(ctx.services))};
}

bool WantsCsv(const Ctx& ctx) { return ctx.query.Get("format") == "csv"; }

std::optional<ApiError> FormatOk(const Ctx& ctx) {
  if (ctx.query.Has("format") && ctx.query.Get("format") != "csv" &&
      ctx.query.Get("format") != "json") {
    return BadField("format", "format must be json or csv");
  }
  return std::nullopt;
}

std::optional<ApiError> Days(const Ctx& ctx, int fallback, int* days) {
  *days = fallback;
  if (!ctx.query.Has("days")) return std::nullopt;
  std::string text = ctx.query.Get("days");
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *days);
  if (ec != std::errc() || p != text.data() + text.size() || *days < 1 || *days > 3650) {
    return BadField("days", "days must be an integer from 1 to 3650");
  }
  return std::nullopt;
}

std::string Num(double v) { return fmt::format("{}", v); }

std::string Day(int64_t ns) { return storage::FormatRfc3339(ns).substr(0, 10); }

// Retention's tiers by the names of the [retention] settings.
using TierField = std::optional<std::chrono::seconds> storage::Retention::*;
constexpr std::array<std::pair<std::string_view, TierField>, 4> kTiers = {
    {{"raw", &storage::Retention::raw},
     {"minute", &storage::Retention::minute},
     {"hour", &storage::Retention::hour},
     {"day", &storage::Retention::day}}};

json::object SettingsJson(const query::ReportSettings& s, const storage::TenantRetention& r) {
  json::object costs;
  for (const auto& [c, x] : s.cost_model.unplanned_failure_cost) costs[c] = x;
  return {{"cost_model",
           {{"currency", s.cost_model.currency},
            {"unplanned_failure_cost", std::move(costs)},
            {"planned_to_unplanned_ratio", s.cost_model.planned_to_unplanned_ratio},
            {"lookback_days", s.cost_model.lookback_days}}},
          {"risk", {{"at_risk_below_health", s.at_risk_below_health}}},
          {"retention", RetentionJson(r.set, false)},
          {"retention_applied", RetentionJson(r.applied, true)}};
}

// The body's fields over `settings` and `retention`, each checked for its JSON type; the ranges
// are query::WriteSettings'. retention_applied, read-only, is ignored so that what GET answers
// can be sent back.
std::optional<ApiError> ApplySettings(const json::object& body, query::ReportSettings* settings,
                                      storage::Retention* retention) {
  for (const auto& [key, value] : body) {
    if (key != "cost_model" && key != "risk" && key != "retention" && key != "retention_applied") {
      return BadField(key, "unknown field '" + std::string(key) + "'");
    }
    if (!value.is_object()) return BadField(key, std::string(key) + " must be an object");
  }
  if (const json::value* r = body.if_contains("retention")) {
    for (const auto& [k, v] : r->as_object()) {
      std::string field = "retention." + std::string(k);
      auto tier = std::find_if(kTiers.begin(), kTiers.end(),
                               [name = std::string_view(k)](auto t) { return t.first == name; });
      if (tier == kTiers.end()) return BadField(field, "the tiers are raw, minute, hour and day");
      if (v.is_null()) continue;  // the server's default
      if (!v.is_string()) return BadField(field, "a period such as \"90d\", \"forever\" or null");
      Result<std::chrono::seconds> period = storage::ParseRetentionPeriod(v.as_string());
      if (!period.ok()) return BadField(field, std::string(period.status().message()));
      retention->*(tier->second) = *period;
    }
  }
  query::CostModel& model = settings->cost_model;
  if (const json::value* cm = body.if_contains("cost_model")) {
    for (const auto& [k, v] : cm->as_object()) {
      std::string field = "cost_model." + std::string(k);
      if (k == "currency") {
        if (!v.is_string()) return BadField(field, "currency must be a string");
        model.currency = v.as_string();
      } else if (k == "planned_to_unplanned_ratio") {
        if (!v.is_number()) return BadField(field, "planned_to_unplanned_ratio must be a number");
        model.planned_to_unplanned_ratio = v.to_number<double>();
      } else if (k == "lookback_days") {
        if (!v.is_int64()) return BadField(field, "lookback_days must be an integer");
        if (v.as_int64() < 1 || v.as_int64() > 365) {
          return BadField(field, "lookback_days must be an integer from 1 to 365");
        }
        model.lookback_days = static_cast<int>(v.as_int64());
      } else if (k == "unplanned_failure_cost") {
        if (!v.is_object()) return BadField(field, "must be an object");
        for (const auto& [c, x] : v.as_object()) {
          std::string f = field + "." + std::string(c);
          if (std::find(kCriticalities.begin(), kCriticalities.end(), c) == kCriticalities.end()) {
            return BadField(f, "criticality must be low, medium, high or critical");
          }
          if (!x.is_number()) return BadField(f, "costs must be numbers");
          model.unplanned_failure_cost[std::string(c)] = x.to_number<double>();
        }
      } else {
        return BadField(field, "unknown field '" + std::string(k) + "'");
      }
    }
  }
  if (const json::value* risk = body.if_contains("risk")) {
    for (const auto& [k, v] : risk->as_object()) {
      if (k != "at_risk_below_health") {
        return BadField("risk." + std::string(k), "unknown field");
      }
      if (!v.is_number()) return BadField("risk.at_risk_below_health", "must be a number");
      settings->at_risk_below_health = v.to_number<double>();
    }
  }
  return std::nullopt;
}

}  // namespace

Response FleetSummary(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  auto summary = query::SummarizeFleet(Sources(ctx), ctx.tenant);
  if (!summary.ok()) return Error(ctx, FromStatus(summary.status()));
  const query::AlertCounts& open = summary->open_alerts;
  if (WantsCsv(ctx)) {
    std::string out = CsvLine({"metric", "value"});
    out += CsvLine({"assets", std::to_string(summary->assets)});
    for (const auto& [status, n] : summary->assets_by_status)
      out += CsvLine({"assets_" + status, std::to_string(n)});
    out += CsvLine({"assets_at_risk", std::to_string(summary->assets_at_risk)});
    out += CsvLine({"open_alerts", std::to_string(open.open)});
    out += CsvLine({"open_alerts_critical", std::to_string(open.critical)});
    out += CsvLine({"open_alerts_warning", std::to_string(open.warning)});
    out += CsvLine({"open_alerts_info", std::to_string(open.info)});
    out += CsvLine({"fleet_health", summary->fleet_health ? Num(*summary->fleet_health) : ""});
    return Csv(ctx, std::move(out), "fleet-summary.csv");
  }
  json::object status_json;
  for (const auto& [status, n] : summary->assets_by_status) status_json[status] = n;
  return Json(ctx, {{"assets", summary->assets},
                    {"assets_by_status", std::move(status_json)},
                    {"assets_at_risk", summary->assets_at_risk},
                    {"open_alerts",
                     {{"total", open.open},
                      {"critical", open.critical},
                      {"warning", open.warning},
                      {"info", open.info}}},
                    {"fleet_health", summary->fleet_health ? json::value(*summary->fleet_health)
                                                           : json::value(nullptr)},
                    {"generated_at", storage::FormatRfc3339(ctx.NowNs())}});
}

Response Trends(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  std::string metric = ctx.query.Get("metric");
  if (metric.empty()) return Error(ctx, BadField("metric", "metric is required"));
  int days = 0;
  if (auto e = Days(ctx, 30, &days)) return Error(ctx, *e);
  query::TrendScope scope{ctx.query.Get("asset_id"), ctx.query.Get("asset_type")};
  const std::string& asset = scope.asset_id;
  if (!asset.empty() && !scope.asset_type.empty()) {
    return Error(ctx, BadField("asset_type", "asset_id and asset_type exclude each other"));
  }
  if (!asset.empty() && !ctx.services.storage->GetAsset(ctx.tenant, asset).ok()) {
    return Error(ctx, NotFound("no asset '" + asset + "'"));
  }
  auto trend = query::DailyTrend(Sources(ctx), ctx.tenant, metric, scope, days, ctx.NowNs());
  if (!trend.ok()) return Error(ctx, FromStatus(trend.status()));
  if (WantsCsv(ctx)) {
    std::string out = CsvLine({"date", "mean", "min", "max", "count"});
    for (const storage::Bucket& b : *trend) {
      out += CsvLine(
          {Day(b.start_ns), Num(b.mean()), Num(b.min), Num(b.max), std::to_string(b.count)});
    }
    return Csv(ctx, std::move(out), "trend-" + metric + ".csv");
  }
  json::array points;
  for (const storage::Bucket& b : *trend) {
    points.push_back({{"date", Day(b.start_ns)},
                      {"mean", b.mean()},
                      {"min", b.min},
                      {"max", b.max},
                      {"count", b.count}});
  }
  auto or_null = [](const std::string& v) { return v.empty() ? json::value() : json::value(v); };
  return Json(ctx, {{"metric", metric},
                    {"asset_id", or_null(asset)},
                    {"asset_type", or_null(scope.asset_type)},
                    {"days", days},
                    {"points", std::move(points)}});
}

Response FleetHistory(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  int days = 0;
  if (auto e = Days(ctx, 30, &days)) return Error(ctx, *e);
  auto events = query::DailyEvents(Sources(ctx), ctx.tenant, days, ctx.NowNs());
  if (!events.ok()) return Error(ctx, FromStatus(events.status()));
  std::map<int64_t, ml::FleetDay> scored;
  if (ctx.services.ml && !events->empty()) {
    auto kept = ctx.services.ml->FleetHistory(ctx.tenant, events->front().day_ns,
                                              events->back().day_ns + storage::kDayNs);
    if (!kept.ok()) return Error(ctx, FromStatus(kept.status()));
    for (const ml::FleetDay& d : *kept) scored[d.day_ns] = d;
  }
  if (WantsCsv(ctx)) {
    std::string out =
        CsvLine({"date", "fleet_health", "assets_scored", "assets_at_risk", "alerts_critical",
                 "alerts_warning", "alerts_info", "failures", "maintenance"});
    for (const query::DayEvents& e : *events) {
      auto d = scored.find(e.day_ns);
      const bool known = d != scored.end();
      out += CsvLine({Day(e.day_ns), known ? Num(d->second.health) : "",
                      known ? std::to_string(d->second.assets) : "",
                      known ? std::to_string(d->second.at_risk()) : "",
                      std::to_string(e.alerts_opened.critical),
                      std::to_string(e.alerts_opened.warning), std::to_string(e.alerts_opened.info),
                      std::to_string(e.failures), std::to_string(e.maintenance)});
    }
    return Csv(ctx, std::move(out), "fleet-history.csv");
  }
  json::array out;
  for (const query::DayEvents& e : *events) {
    json::object day = {{"date", Day(e.day_ns)},
                        {"fleet_health", nullptr},
                        {"assets_scored", 0},
                        {"assets_at_risk", nullptr},
                        {"backfilled", false},
                        {"alerts_opened",
                         {{"total", e.alerts_opened.open},
                          {"critical", e.alerts_opened.critical},
                          {"warning", e.alerts_opened.warning},
                          {"info", e.alerts_opened.info}}},
                        {"failures", e.failures},
                        {"maintenance", e.maintenance}};
    if (auto d = scored.find(e.day_ns); d != scored.end()) {
      day["fleet_health"] = d->second.health;
      day["assets_scored"] = d->second.assets;
      day["assets_at_risk"] = d->second.at_risk();
      day["backfilled"] = d->second.backfilled;
    }
    out.push_back(std::move(day));
  }
  return Json(ctx, {{"days", std::move(out)}});
}

Response CostAvoidance(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  int days = 0;
  if (auto e = Days(ctx, 365, &days)) return Error(ctx, *e);
  auto report = query::ComputeCostAvoidance(Sources(ctx), ctx.tenant, days, ctx.NowNs());
  if (!report.ok()) return Error(ctx, FromStatus(report.status()));
  if (WantsCsv(ctx)) {
    std::string out = CsvLine({"maintenance_id", "asset_id", "criticality", "performed_at",
                               "unplanned_cost_avoided", "planned_cost", "savings"});
    for (const query::Intervention& i : report->interventions) {
      out += CsvLine({i.maintenance_id, i.asset_id, i.criticality,
                      storage::FormatRfc3339(i.performed_ns), Num(i.unplanned_cost_avoided),
                      Num(i.planned_cost), Num(i.savings())});
    }
    return Csv(ctx, std::move(out), "cost-avoidance.csv");
  }
  json::array interventions;
  for (const query::Intervention& i : report->interventions) {
    interventions.push_back({{"maintenance_id", i.maintenance_id},
                             {"asset_id", i.asset_id},
                             {"criticality", i.criticality},
                             {"performed_at", storage::FormatRfc3339(i.performed_ns)},
                             {"unplanned_cost_avoided", i.unplanned_cost_avoided},
                             {"planned_cost", i.planned_cost},
                             {"savings", i.savings()}});
  }
  return Json(ctx, {{"currency", report->currency},
                    {"days", report->days},
                    {"avoided_failures", report->interventions.size()},
                    {"unplanned_cost_avoided", report->unplanned_cost_avoided},
                    {"planned_cost", report->planned_cost},
                    {"net_savings", report->net_savings()},
                    {"failures", report->failures},
                    {"failure_cost", report->failure_cost},
                    {"interventions", std::move(interventions)}});
}

Response AssetReport(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  const int64_t now = ctx.NowNs();
  auto report = query::ReportAsset(Sources(ctx), ctx.tenant, ctx.Param(1), now);
  if (!report.ok()) return Error(ctx, FromStatus(report.status()));
  const query::AlertCounts& open = report->open_alerts;
  const std::optional<int64_t>& last = report->last_maintenance_ns;
  json::object asset_json = AssetJson(report->asset, open);
  if (WantsCsv(ctx)) {
    std::string out = CsvLine({"section", "key", "value"});
    for (const auto& [k, v] : asset_json) {
      if (v.is_string()) out += CsvLine({"asset", k, std::string(v.as_string())});
      if (v.is_number()) out += CsvLine({"asset", k, Num(v.to_number<double>())});
    }
    out += CsvLine({"alerts", "open", std::to_string(open.open)});
    out += CsvLine({"alerts", "opened_last_30_days", std::to_string(report->alerts_last_30_days)});
    for (const auto& [k, n] : report->maintenance_by_kind) {
      out += CsvLine({"maintenance", k, std::to_string(n)});
    }
    out += CsvLine({"maintenance", "total_cost", Num(report->maintenance_cost)});
    out += CsvLine({"maintenance", "downtime_hours", Num(report->downtime_hours)});
    out += CsvLine({"maintenance", "last_performed_at", last ? storage::FormatRfc3339(*last) : ""});
    for (const auto& [k, v] : report->latest) out += CsvLine({"latest", k, Num(v.value)});
    return Csv(ctx, std::move(out), "asset-" + report->asset.id + ".csv");
  }
  json::object kinds;
  for (const auto& [k, n] : report->maintenance_by_kind) kinds[k] = n;
  json::object latest;
  for (const auto& [k, v] : report->latest) {
    latest[k] = {{"time", storage::FormatRfc3339(v.ts_ns)}, {"value", v.value}};
  }
  json::object maintenance = {
      {"by_kind", std::move(kinds)},
      {"total_cost", report->maintenance_cost},
      {"downtime_hours", report->downtime_hours},
      {"last_performed_at", last ? json::value(storage::FormatRfc3339(*last)) : nullptr},
      {"days_since_last", last ? json::value((now - *last) / storage::kDayNs) : nullptr}};
  return Json(
      ctx, {{"asset", std::move(asset_json)},
            {"alerts", {{"open", open.open}, {"opened_last_30_days", report->alerts_last_30_days}}},
            {"maintenance", std::move(maintenance)},
            {"latest", std::move(latest)},
            {"generated_at", storage::FormatRfc3339(now)}});
}

Response GetSettings(Ctx& ctx) {
  auto settings = query::ReadSettings(*ctx.services.storage, ctx.tenant);
  if (!settings.ok()) return Error(ctx, FromStatus(settings.status()));
  auto retention = ctx.services.storage->GetRetention(ctx.tenant);
  if (!retention.ok()) return Error(ctx, FromStatus(retention.status()));
  return Json(ctx, SettingsJson(*settings, *retention));
}

Response PutSettings(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  query::ReportSettings settings;  // what the body leaves out returns to its default
  storage::Retention retention;
  if (auto e = ApplySettings(*body, &settings, &retention)) return Error(ctx, *e);
  if (Status s = query::WriteSettings(ctx.services.storage, ctx.tenant, settings); !s.ok()) {
    return Error(ctx, FieldError(s));
  }
  if (Status s = ctx.services.storage->SetRetention(ctx.tenant, retention); !s.ok()) {
    return Error(ctx, FromStatus(s));
  }
  auto applied = ctx.services.storage->GetRetention(ctx.tenant);
  if (!applied.ok()) return Error(ctx, FromStatus(applied.status()));
  return Json(ctx, SettingsJson(settings, *applied));
}

json::object RetentionJson(const storage::Retention& retention, bool applied) {
  json::object out;
  for (auto [name, tier] : kTiers) {
    const std::optional<std::chrono::seconds>& keep = retention.*tier;
    if (keep) {
      out[name] = storage::FormatRetentionPeriod(*keep);
    } else {
      out[name] = applied ? json::value("forever") : json::value(nullptr);
    }
  }
  return out;
}

}  // namespace foresight::http
