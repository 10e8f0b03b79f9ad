// Reports (fleet summary, trends, cost avoidance, per asset; each also as CSV) and the tenant
// settings they read. The arithmetic is written out in http/README.md.
#include "http/api.h"
#include "http/csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace foresight::http {
namespace {

using ml::kCriticalities;
using storage::kDayNs;

json::object DefaultSettings() {
  return {{"cost_model",
           {{"currency", "USD"},
            {"unplanned_failure_cost",
             {{"low", 5000}, {"medium", 20000}, {"high", 75000}, {"critical", 250000}}},
            {"planned_to_unplanned_ratio", 0.25},
            {"lookback_days", 30}}},
          {"risk", {{"at_risk_below_health", 60}}}};
}

json::object Settings(Ctx& ctx) {
  auto docs = ctx.api.Docs(ctx.tenant, "settings");
  if (docs.ok()) {
    if (auto s = (*docs)->Get("tenant")) return *s;
  }
  return DefaultSettings();
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

std::vector<json::object> AllDocs(Ctx& ctx, std::string_view kind) {
  std::vector<json::object> out;
  auto docs = ctx.api.Docs(ctx.tenant, kind);
  if (docs.ok()) {
    (*docs)->Read([&](std::span<const json::object* const> all) {
      for (const json::object* d : all) out.push_back(*d);
    });
  }
  return out;
}

std::optional<int64_t> TimeOf(const json::object& d, std::string_view key) {
  const json::value* v = d.if_contains(key);
  return v && v->is_string() ? ParseTime(v->as_string()) : std::nullopt;
}

double Number(const json::object& d, std::string_view key, double fallback) {
  const json::value* v = d.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : fallback;
}

}  // namespace

Response FleetSummary(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  json::object settings = Settings(ctx);
  int at_risk_below = static_cast<int>(
      settings.at("risk").as_object().at("at_risk_below_health").to_number<double>());
  auto open_alerts = OpenAlertsByAsset(ctx);
  if (!open_alerts.ok()) return Error(ctx, FromStatus(open_alerts.status()));
  const std::map<std::string, AlertCounts>& counts = *open_alerts;
  std::map<std::string, int64_t> by_status;
  int64_t at_risk = 0;
  size_t asset_count = 0;
  double health_sum = 0;
  ctx.services.storage->WithAssets(ctx.tenant, [&](std::span<const storage::Asset* const> all) {
    asset_count = all.size();
    for (const storage::Asset* a : all) {
      ++by_status[std::string(AssetAttr(*a, "status", "active"))];
      int health = HealthScore(CountsFor(counts, a->id));
      health_sum += health;
      if (health < at_risk_below) ++at_risk;
    }
  });
  AlertCounts open;
  for (const auto& [id, c] : counts) {
    open.open += c.open;
    open.critical += c.critical;
    open.warning += c.warning;
    open.info += c.info;
  }
  json::value fleet_health = asset_count == 0
                                 ? json::value(nullptr)
                                 : json::value(std::round(10 * health_sum / asset_count) / 10);
  if (WantsCsv(ctx)) {
    std::string out = CsvLine({"metric", "value"});
    out += CsvLine({"assets", std::to_string(asset_count)});
    for (const auto& [status, n] : by_status)
      out += CsvLine({"assets_" + status, std::to_string(n)});
    out += CsvLine({"assets_at_risk", std::to_string(at_risk)});
    out += CsvLine({"open_alerts", std::to_string(open.open)});
    out += CsvLine({"open_alerts_critical", std::to_string(open.critical)});
    out += CsvLine({"open_alerts_warning", std::to_string(open.warning)});
    out += CsvLine({"open_alerts_info", std::to_string(open.info)});
    out += CsvLine({"fleet_health", fleet_health.is_null() ? "" : Num(fleet_health.as_double())});
    return Csv(ctx, std::move(out), "fleet-summary.csv");
  }
  json::object status_json;
  for (const auto& [status, n] : by_status) status_json[status] = n;
  return Json(ctx, {{"assets", asset_count},
                    {"assets_by_status", std::move(status_json)},
                    {"assets_at_risk", at_risk},
                    {"open_alerts",
                     {{"total", open.open},
                      {"critical", open.critical},
                      {"warning", open.warning},
                      {"info", open.info}}},
                    {"fleet_health", fleet_health},
                    {"generated_at", storage::FormatRfc3339(ctx.NowNs())}});
}

Response Trends(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  std::string metric = ctx.query.Get("metric");
  if (metric.empty()) return Error(ctx, BadField("metric", "metric is required"));
  int days = 0;
  if (auto e = Days(ctx, 30, &days)) return Error(ctx, *e);
  std::string asset = ctx.query.Get("asset_id");
  if (!asset.empty() && !ctx.services.storage->GetAsset(ctx.tenant, asset).ok()) {
    return Error(ctx, NotFound("no asset '" + asset + "'"));
  }
  int64_t now = ctx.NowNs();
  int64_t to = (now / kDayNs + 1) * kDayNs, from = to - days * kDayNs;
  std::map<int64_t, storage::Bucket> by_day;
  auto by_asset = ctx.api.SeriesByAsset(ctx.tenant, AssetTag(ctx.services));
  for (const auto& [id, series] : *by_asset) {
    if (!asset.empty() && id != asset) continue;
    for (const storage::SeriesInfo& s : series) {
      if (s.key.field != metric || s.type == storage::ValueType::kString) continue;
      auto buckets = ctx.services.storage->ReadDownsampled(ctx.tenant, s.id, from, to,
                                                           std::chrono::nanoseconds(kDayNs));
      if (!buckets.ok()) return Error(ctx, FromStatus(buckets.status()));
      for (const storage::Bucket& b : *buckets) {
        auto [it, fresh] = by_day.try_emplace(b.start_ns, b);
        if (fresh) continue;
        storage::Bucket& d = it->second;
        d.count += b.count;
        d.sum += b.sum;
        d.min = std::min(d.min, b.min);
        d.max = std::max(d.max, b.max);
      }
    }
  }
  if (WantsCsv(ctx)) {
    std::string out = CsvLine({"date", "mean", "min", "max", "count"});
    for (const auto& [day, b] : by_day) {
      out += CsvLine({storage::FormatRfc3339(day).substr(0, 10), Num(b.mean()), Num(b.min),
                      Num(b.max), std::to_string(b.count)});
    }
    return Csv(ctx, std::move(out), "trend-" + metric + ".csv");
  }
  json::array points;
  for (const auto& [day, b] : by_day) {
    points.push_back({{"date", storage::FormatRfc3339(day).substr(0, 10)},
                      {"mean", b.mean()},
                      {"min", b.min},
                      {"max", b.max},
                      {"count", b.count}});
  }
  return Json(ctx, {{"metric", metric},
                    {"asset_id", asset.empty() ? json::value(nullptr) : json::value(asset)},
                    {"days", days},
                    {"points", std::move(points)}});
}

Response CostAvoidance(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  int days = 0;
  if (auto e = Days(ctx, 365, &days)) return Error(ctx, *e);
  json::object model = Settings(ctx).at("cost_model").as_object();
  const json::object& unplanned = model.at("unplanned_failure_cost").as_object();
  double ratio = model.at("planned_to_unplanned_ratio").to_number<double>();
  int64_t lookback = static_cast<int64_t>(model.at("lookback_days").to_number<double>()) * kDayNs;
  int64_t now = ctx.NowNs(), from = now - days * kDayNs;

  std::map<std::string, std::string> criticality;
  for (const storage::Asset& a : ctx.services.storage->ListAssets(ctx.tenant)) {
    criticality[a.id] = AssetAttr(a, "criticality", "medium");
  }
  std::map<std::string, std::vector<int64_t>> alerts_by_asset;
  auto alert_docs = AlertDocs(ctx);
  if (!alert_docs.ok()) return Error(ctx, FromStatus(alert_docs.status()));
  for (const json::object& a : *alert_docs) {
    if (auto t = TimeOf(a, "opened_at")) {
      alerts_by_asset[std::string(a.at("asset_id").as_string())].push_back(*t);
    }
  }
  int64_t avoided = 0, failures = 0;
  double gross = 0, planned = 0, failure_cost = 0;
  std::vector<std::vector<std::string>> lines;
  for (const json::object& m : AllDocs(ctx, "maintenance")) {
    std::optional<int64_t> at = TimeOf(m, "performed_at");
    if (!at || *at < from || *at > now) continue;
    std::string asset(m.at("asset_id").as_string()), kind(m.at("kind").as_string());
    auto crit_it = criticality.find(asset);
    std::string crit = crit_it == criticality.end() ? "medium" : crit_it->second;
    double unplanned_cost = unplanned.contains(crit) ? unplanned.at(crit).to_number<double>() : 0;
    if (kind == "failure") {
      ++failures;
      failure_cost += Number(m, "cost", unplanned_cost);
      continue;
    }
    if (kind != "preventive" && kind != "corrective") continue;
    const auto& opened = alerts_by_asset[asset];
    bool warned = std::any_of(opened.begin(), opened.end(),
                              [&](int64_t t) { return t <= *at && t >= *at - lookback; });
    if (!warned) continue;
    double cost = Number(m, "cost", ratio * unplanned_cost);
    ++avoided;
    gross += unplanned_cost;
    planned += cost;
    lines.push_back({std::string(m.at("id").as_string()), asset, crit, storage::FormatRfc3339(*at),
                     Num(unplanned_cost), Num(cost), Num(unplanned_cost - cost)});
  }
  std::string currency(model.at("currency").as_string());
  if (WantsCsv(ctx)) {
    std::string out = CsvLine({"maintenance_id", "asset_id", "criticality", "performed_at",
                               "unplanned_cost_avoided", "planned_cost", "savings"});
    for (const auto& l : lines) out += CsvLine(l);
    return Csv(ctx, std::move(out), "cost-avoidance.csv");
  }
  json::array interventions;
  for (const auto& l : lines) {
    interventions.push_back({{"maintenance_id", l[0]},
                             {"asset_id", l[1]},
                             {"criticality", l[2]},
                             {"performed_at", l[3]},
                             {"unplanned_cost_avoided", std::stod(l[4])},
                             {"planned_cost", std::stod(l[5])},
                             {"savings", std::stod(l[6])}});
  }
  return Json(ctx, {{"currency", currency},
                    {"days", days},
                    {"avoided_failures", avoided},
                    {"unplanned_cost_avoided", gross},
                    {"planned_cost", planned},
                    {"net_savings", gross - planned},
                    {"failures", failures},
                    {"failure_cost", failure_cost},
                    {"interventions", std::move(interventions)}});
}

Response AssetReport(Ctx& ctx) {
  if (auto e = FormatOk(ctx)) return Error(ctx, *e);
  auto asset = ctx.services.storage->GetAsset(ctx.tenant, ctx.Param(1));
  if (!asset.ok()) return Error(ctx, NotFound("no asset '" + ctx.Param(1) + "'"));
  auto open_alerts = OpenAlertsByAsset(ctx);
  if (!open_alerts.ok()) return Error(ctx, FromStatus(open_alerts.status()));
  const std::map<std::string, AlertCounts>& counts = *open_alerts;
  AlertCounts open = CountsFor(counts, asset->id);
  int64_t now = ctx.NowNs();
  int64_t alerts_30d = 0;
  auto alert_docs = AlertDocs(ctx);
  if (!alert_docs.ok()) return Error(ctx, FromStatus(alert_docs.status()));
  for (const json::object& a : *alert_docs) {
    if (a.at("asset_id").as_string() != asset->id) continue;
    if (auto t = TimeOf(a, "opened_at"); t && *t >= now - 30 * kDayNs) ++alerts_30d;
  }
  std::map<std::string, int64_t> by_kind;
  double cost = 0, downtime = 0;
  std::optional<int64_t> last;
  for (const json::object& m : AllDocs(ctx, "maintenance")) {
    if (m.at("asset_id").as_string() != asset->id) continue;
    ++by_kind[std::string(m.at("kind").as_string())];
    cost += Number(m, "cost", 0);
    downtime += Number(m, "downtime_hours", 0);
    if (auto t = TimeOf(m, "performed_at"); t && (!last || *t > *last)) last = t;
  }
  json::object latest;
  auto by_asset = ctx.api.SeriesByAsset(ctx.tenant, AssetTag(ctx.services));
  for (const storage::SeriesInfo& s : AssetSeries(*by_asset, asset->id)) {
    auto p = ctx.services.storage->ReadLatest(ctx.tenant, s.id);
    if (!p.ok() || p->size() == 0 || p->type == storage::ValueType::kString) continue;
    latest[s.key.field] = {{"time", storage::FormatRfc3339(p->ts_ns[0])},
                           {"value", p->AsDouble(0)}};
  }
  json::object asset_json = AssetJson(*asset, open);
  if (WantsCsv(ctx)) {
    std::string out = CsvLine({"section", "key", "value"});
    for (const auto& [k, v] : asset_json) {
      if (v.is_string()) out += CsvLine({"asset", k, std::string(v.as_string())});
      if (v.is_number()) out += CsvLine({"asset", k, Num(v.to_number<double>())});
    }
    out += CsvLine({"alerts", "open", std::to_string(open.open)});
    out += CsvLine({"alerts", "opened_last_30_days", std::to_string(alerts_30d)});
    for (const auto& [k, n] : by_kind) out += CsvLine({"maintenance", k, std::to_string(n)});
    out += CsvLine({"maintenance", "total_cost", Num(cost)});
    out += CsvLine({"maintenance", "downtime_hours", Num(downtime)});
    out += CsvLine({"maintenance", "last_performed_at", last ? storage::FormatRfc3339(*last) : ""});
    for (const auto& [k, v] : latest) {
      out += CsvLine({"latest", k, Num(v.as_object().at("value").as_double())});
    }
    return Csv(ctx, std::move(out), "asset-" + asset->id + ".csv");
  }
  json::object kinds;
  for (const auto& [k, n] : by_kind) kinds[k] = n;
  json::object maintenance = {
      {"by_kind", std::move(kinds)},
      {"total_cost", cost},
      {"downtime_hours", downtime},
      {"last_performed_at", last ? json::value(storage::FormatRfc3339(*last)) : nullptr},
      {"days_since_last", last ? json::value((now - *last) / kDayNs) : json::value(nullptr)}};
  return Json(ctx, {{"asset", std::move(asset_json)},
                    {"alerts", {{"open", open.open}, {"opened_last_30_days", alerts_30d}}},
                    {"maintenance", std::move(maintenance)},
                    {"latest", std::move(latest)},
                    {"generated_at", storage::FormatRfc3339(now)}});
}

Response GetSettings(Ctx& ctx) { return Json(ctx, Settings(ctx)); }

Response PutSettings(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  json::object settings = DefaultSettings();
  for (const auto& [key, value] : *body) {
    if (key != "cost_model" && key != "risk") {
      return Error(ctx, BadField(key, "unknown field '" + std::string(key) + "'"));
    }
    if (!value.is_object())
      return Error(ctx, BadField(key, std::string(key) + " must be an object"));
  }
  if (const json::value* cm = body->if_contains("cost_model")) {
    json::object& model = settings["cost_model"].as_object();
    for (const auto& [k, v] : cm->as_object()) {
      std::string field = "cost_model." + std::string(k);
      if (k == "currency") {
        if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 8) {
          return Error(ctx, BadField(field, "currency must be a code of 1..8 characters"));
        }
      } else if (k == "planned_to_unplanned_ratio") {
        if (!v.is_number() || v.to_number<double>() < 0 || v.to_number<double>() > 1) {
          return Error(ctx, BadField(field, "planned_to_unplanned_ratio must be from 0 to 1"));
        }
      } else if (k == "lookback_days") {
        if (!v.is_int64() || v.as_int64() < 1 || v.as_int64() > 365) {
          return Error(ctx, BadField(field, "lookback_days must be an integer from 1 to 365"));
        }
      } else if (k == "unplanned_failure_cost") {
        if (!v.is_object()) return Error(ctx, BadField(field, "must be an object"));
        json::object& costs = model["unplanned_failure_cost"].as_object();
        for (const auto& [c, x] : v.as_object()) {
          std::string f = field + "." + std::string(c);
          if (std::find(std::begin(kCriticalities), std::end(kCriticalities), c) ==
              std::end(kCriticalities)) {
            return Error(ctx, BadField(f, "criticality must be low, medium, high or critical"));
          }
          if (!x.is_number() || x.to_number<double>() < 0) {
            return Error(ctx, BadField(f, "costs must be non-negative numbers"));
          }
          costs[c] = x;
        }
        continue;
      } else {
        return Error(ctx, BadField(field, "unknown field '" + std::string(k) + "'"));
      }
      model[k] = v;
    }
  }
  if (const json::value* risk = body->if_contains("risk")) {
    for (const auto& [k, v] : risk->as_object()) {
      if (k != "at_risk_below_health") {
        return Error(ctx, BadField("risk." + std::string(k), "unknown field"));
      }
      if (!v.is_number() || v.to_number<double>() < 0 || v.to_number<double>() > 100) {
        return Error(ctx, BadField("risk.at_risk_below_health", "must be from 0 to 100"));
      }
      settings["risk"].as_object()[k] = v;
    }
  }
  auto docs = ctx.api.Docs(ctx.tenant, "settings");
  if (!docs.ok()) return Error(ctx, FromStatus(docs.status()));
  if (Status s = (*docs)->Put("tenant", settings); !s.ok()) return Error(ctx, FromStatus(s));
  return Json(ctx, settings);
}

}  // namespace foresight::http
