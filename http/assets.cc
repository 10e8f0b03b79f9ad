// Assets (CRUD over storage's asset catalog) and reading queries (raw, downsampled, latest).
//
// An asset's API fields live in its catalog attributes next to the tags ingest first saw, so an
// asset created by a sensor and one created here are the same thing.
#include "http/api.h"

#include <algorithm>
#include <cmath>

namespace foresight::http {
namespace {

constexpr std::string_view kFields[] = {"name",   "asset_type",   "site",         "criticality",
                                        "status", "installed_at", "manufacturer", "model"};
using query::kCriticalities;
constexpr std::string_view kStatuses[] = {"active", "inactive", "maintenance", "retired"};
constexpr size_t kMaxText = 256;

bool IsField(std::string_view key) {
  return std::find(std::begin(kFields), std::end(kFields), key) != std::end(kFields);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Applies the fields of `body` to `asset`. `creating` requires the id.
std::optional<ApiError> ApplyAssetFields(const json::object& body, storage::Asset* asset) {
  std::map<std::string, std::string> attrs(asset->attributes.begin(), asset->attributes.end());
  for (const auto& [key, value] : body) {
    if (key == "id") continue;
    if (key == "attributes") {
      if (!value.is_object()) return BadField("attributes", "attributes must be an object");
      for (const auto& [k, v] : value.as_object()) {
        std::string name = "attributes." + std::string(k);
        if (IsField(k)) return BadField(name, std::string(k) + " is a field of its own");
        if (k.empty() || k.size() > kMaxText)
          return BadField(name, "attribute keys are 1..256 characters");
        if (v.is_null()) {
          attrs.erase(std::string(k));
          continue;
        }
        if (!v.is_string() || v.as_string().size() > kMaxText) {
          return BadField(name, "attribute values must be strings of at most 256 characters");
        }
        attrs[std::string(k)] = std::string(v.as_string());
      }
      continue;
    }
    if (!IsField(key)) return BadField(key, "unknown field '" + std::string(key) + "'");
    if (value.is_null()) {
      attrs.erase(std::string(key));
      continue;
    }
    if (!value.is_string()) return BadField(key, std::string(key) + " must be a string");
    std::string text(value.as_string());
    if (text.size() > kMaxText)
      return BadField(key, std::string(key) + " is longer than 256 characters");
    if (key == "criticality" && std::find(std::begin(kCriticalities), std::end(kCriticalities),
                                          text) == std::end(kCriticalities)) {
      return BadField(key, "criticality must be one of " + Join(kCriticalities));
    }
    if (key == "status" &&
        std::find(std::begin(kStatuses), std::end(kStatuses), text) == std::end(kStatuses)) {
      return BadField(key, "status must be one of " + Join(kStatuses));
    }
    if (key == "installed_at") {
      std::optional<int64_t> t = ParseTime(text);
      if (!t) return BadField(key, "installed_at must be an RFC 3339 time or a date (YYYY-MM-DD)");
      text = storage::FormatRfc3339(*t);
    }
    attrs[std::string(key)] = std::move(text);
  }
  asset->attributes.assign(attrs.begin(), attrs.end());
  return std::nullopt;
}

std::optional<ApiError> ValidId(std::string_view field, std::string_view id) {
  if (id.empty() || id.size() > storage::kMaxAssetIdBytes) {
    return BadField(field, std::string(field) + " must be 1..256 characters");
  }
  if (std::any_of(id.begin(), id.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return BadField(field, std::string(field) + " must not contain control characters");
  }
  return std::nullopt;
}

// "90s", "5m", "1h", "1d", "2w" or plain seconds.
std::optional<int64_t> ParseStep(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t unit = 1'000'000'000;
  char last = text.back();
  if (std::isalpha(static_cast<unsigned char>(last))) {
    text.remove_suffix(1);
    switch (last) {
      case 's':
        break;
      case 'm':
        unit *= 60;
        break;
      case 'h':
        unit *= 3600;
        break;
      case 'd':
        unit *= 86400;
        break;
      case 'w':
        unit *= 7 * 86400;
        break;
      default:
        return std::nullopt;
    }
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n <= 0 || n > 3650LL * 86400) {
    return std::nullopt;
  }
  return n * unit;
}

json::value PointValue(const storage::Points& p, size_t i) {
  switch (p.type) {
    case storage::ValueType::kString:
      return json::string(p.strings[i]);
    case storage::ValueType::kBool:
      return p.bits[i] != 0;
    case storage::ValueType::kInt:
      return static_cast<int64_t>(p.bits[i]);
    case storage::ValueType::kUint:
      return p.bits[i];
    case storage::ValueType::kFloat:
      break;
  }
  double v = p.AsDouble(i);
  return std::isfinite(v) ? json::value(v) : json::value(nullptr);
}

std::string MetricName(const storage::SeriesInfo& s) { return s.key.field; }

}  // namespace

json::object AssetJson(const storage::Asset& asset, const AlertCounts& alerts) {
  json::object o;
  o["id"] = asset.id;
  json::object attributes;
  for (const auto& [k, v] : asset.attributes) {
    if (IsField(k)) {
      o[k] = v;
    } else {
      attributes[k] = v;
    }
  }
  if (!o.contains("name")) o["name"] = asset.id;
  if (!o.contains("criticality")) o["criticality"] = "medium";
  if (!o.contains("status")) o["status"] = "active";
  o["attributes"] = std::move(attributes);
  o["created_at"] = storage::FormatRfc3339(asset.created_ns);
  o["open_alerts"] = alerts.open;
  o["health"] = HealthScore(alerts);
  return o;
}

Response ListAssets(Ctx& ctx) {
  Page page;
  if (auto e = ParsePage(ctx, &page)) return Error(ctx, *e);
  bool csv = false;
  if (auto e = ParseListFormat(ctx, &page, &csv)) return Error(ctx, *e);
  std::string sort = ctx.query.Has("sort") ? ctx.query.Get("sort") : "id";
  bool desc = sort.starts_with('-');
  if (desc) sort.erase(0, 1);
  if (sort != "id" && sort != "name" && sort != "criticality" && sort != "health" &&
      sort != "created_at" && sort != "risk" && sort != "fails_30d") {
    return Error(ctx, BadField("sort",
                               "sort must be id, name, criticality, health, created_at, "
                               "risk or fails_30d"));
  }
  const std::string risk = ctx.query.Get("risk");
  if (!risk.empty() &&
      std::find(kCriticalities.begin(), kCriticalities.end(), risk) == kCriticalities.end()) {
    return Error(ctx, BadField("risk", "risk must be one of " + Join(kCriticalities)));
  }
  auto predictions = LatestPredictionsByAsset(ctx);
  if (!predictions.ok()) return Error(ctx, FromStatus(predictions.status()));
  auto prediction_of = [&](const std::string& id) -> const ml::Prediction* {
    auto it = predictions->find(id);
    return it == predictions->end() ? nullptr : &it->second;
  };
  for (auto [field, options] :
       {std::pair{"criticality", Join(kCriticalities)}, std::pair{"status", Join(kStatuses)}}) {
    std::string v = ctx.query.Get(field);
    if (!v.empty() && options.find(v) == std::string::npos) {
      return Error(ctx, BadField(field, std::string(field) + " must be one of " + options));
    }
  }
  std::string status = ctx.query.Get("status"), type = ctx.query.Get("asset_type"),
              criticality = ctx.query.Get("criticality"), site = ctx.query.Get("site"),
              q = Lower(ctx.query.Get("q"));
  auto open_alerts = OpenAlertsByAsset(ctx);
  if (!open_alerts.ok()) return Error(ctx, FromStatus(open_alerts.status()));
  const query::AlertCountsByAsset& counts = *open_alerts;
  json::array items;
  size_t total = 0;
  ctx.services.storage->WithAssets(ctx.tenant, [&](std::span<const storage::Asset* const> all) {
    std::vector<const storage::Asset*> assets;
    assets.reserve(all.size());
    for (const storage::Asset* asset : all) {
      const storage::Asset& a = *asset;
      if (!status.empty() && AssetAttr(a, "status", "active") != status) continue;
      if (!type.empty() && AssetAttr(a, "asset_type", "") != type) continue;
      if (!criticality.empty() && AssetAttr(a, "criticality", "medium") != criticality) continue;
      if (!site.empty() && AssetAttr(a, "site", "") != site) continue;
      if (!risk.empty() && (!prediction_of(a.id) || prediction_of(a.id)->risk != risk)) continue;
      if (!q.empty() && Lower(a.id).find(q) == std::string::npos &&
          Lower(AssetAttr(a, "name", "")).find(q) == std::string::npos) {
        continue;
      }
      assets.push_back(&a);
    }
    // Storage lists assets in id order; other orders sort precomputed keys, ties broken by id.
    if (sort != "id" || desc) {
      struct Keyed {
        std::string_view text;
        int64_t number;
        const storage::Asset* asset;
      };
      std::vector<Keyed> keyed;
      keyed.reserve(assets.size());
      for (const storage::Asset* a : assets) {
        Keyed k{a->id, 0, a};
        if (sort == "name") k.text = AssetAttr(*a, "name", a->id);
        if (sort == "criticality")
          k.number = ml::CriticalityRank(AssetAttr(*a, "criticality", "medium"));
        if (sort == "health") k.number = HealthScore(CountsFor(counts, a->id));
        if (sort == "created_at") k.number = a->created_ns;
        // Without a prediction an asset sorts before every predicted one (-1).
        if (const ml::Prediction* p = prediction_of(a->id); sort == "risk") {
          k.number = p ? ml::CriticalityRank(p->risk) : -1;
        } else if (sort == "fails_30d") {
          k.number = p && !std::isnan(p->fails_30d) ? std::llround(p->fails_30d * 1e6) : -1;
        }
        keyed.push_back(k);
      }
      auto less = [](const Keyed& x, const Keyed& y) {
        return std::tie(x.number, x.text, x.asset->id) < std::tie(y.number, y.text, y.asset->id);
      };
      std::sort(keyed.begin(), keyed.end(),
                [&](const Keyed& x, const Keyed& y) { return desc ? less(y, x) : less(x, y); });
      for (size_t i = 0; i < keyed.size(); ++i) assets[i] = keyed[i].asset;
    }
    for (size_t i = page.offset; i < assets.size() && items.size() < page.limit; ++i) {
      json::object item = AssetJson(*assets[i], CountsFor(counts, assets[i]->id));
      const ml::Prediction* p = prediction_of(assets[i]->id);
      item["prediction"] = p ? json::value(PredictionSummaryJson(*p)) : json::value(nullptr);
      items.push_back(std::move(item));
    }
    total = assets.size();
  });
  if (csv) {
    static constexpr std::string_view kColumns[] = {"id",     "name",        "asset_type",
                                                    "site",   "criticality", "status",
                                                    "health", "open_alerts", "created_at"};
    return RowsCsv(ctx, items, kColumns, "assets.csv");
  }
  return Json(ctx, PageJson(std::move(items), total, page));
}

Response CreateAsset(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  const json::value* id = body->if_contains("id");
  if (!id) return Error(ctx, BadField("id", "id is required"));
  if (!id->is_string()) return Error(ctx, BadField("id", "id must be a string"));
  if (auto e = ValidId("id", id->as_string())) return Error(ctx, *e);
  storage::Asset asset{std::string(id->as_string()), {}, ctx.NowNs()};
  if (auto e = ApplyAssetFields(*body, &asset)) return Error(ctx, *e);
  if (ctx.services.storage->GetAsset(ctx.tenant, asset.id).ok()) {
    return Error(ctx, Conflict("asset '" + asset.id + "' already exists"));
  }
  if (Status s = ctx.services.storage->PutAsset(ctx.tenant, asset); !s.ok()) {
    return Error(ctx, FromStatus(s));
  }
  // Its series may already be matched (ingest saw them first): their scopes are checked again.
  if (ctx.services.alerts) ctx.services.alerts->AssetsChanged(ctx.tenant);
  return Json(ctx, AssetJson(asset, {}), bhttp::status::created);
}

Response GetAssetRoute(Ctx& ctx) {
  auto asset = ctx.services.storage->GetAsset(ctx.tenant, ctx.Param(1));
  if (!asset.ok()) return Error(ctx, NotFound("no asset '" + ctx.Param(1) + "'"));
  auto alert_docs = AlertDocs(ctx);
  auto open_alerts = OpenAlertsByAsset(ctx);
  if (!alert_docs.ok()) return Error(ctx, FromStatus(alert_docs.status()));
  if (!open_alerts.ok()) return Error(ctx, FromStatus(open_alerts.status()));
  json::array open;
  for (json::object& a : *alert_docs) {
    if (a.at("asset_id").as_string() == asset->id && a.at("status").as_string() != "resolved") {
      open.push_back(std::move(a));
    }
  }
  json::object o = AssetJson(*asset, CountsFor(*open_alerts, asset->id));
  o["alerts"] = std::move(open);
  return Json(ctx, o);
}

Response UpdateAsset(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  auto asset = ctx.services.storage->GetAsset(ctx.tenant, ctx.Param(1));
  if (!asset.ok()) return Error(ctx, NotFound("no asset '" + ctx.Param(1) + "'"));
  if (const json::value* id = body->if_contains("id");
      id && (!id->is_string() || id->as_string() != asset->id)) {
    return Error(ctx, BadField("id", "id cannot change"));
  }
  if (auto e = ApplyAssetFields(*body, &*asset)) return Error(ctx, *e);
  if (Status s = ctx.services.storage->PutAsset(ctx.tenant, *asset); !s.ok()) {
    return Error(ctx, FromStatus(s));
  }
  if (ctx.services.alerts) ctx.services.alerts->AssetsChanged(ctx.tenant);
  auto open_alerts = OpenAlertsByAsset(ctx);
  if (!open_alerts.ok()) return Error(ctx, FromStatus(open_alerts.status()));
  return Json(ctx, AssetJson(*asset, CountsFor(*open_alerts, asset->id)));
}

Response DeleteAssetRoute(Ctx& ctx) {
  Status s = ctx.services.storage->DeleteAsset(ctx.tenant, ctx.Param(1));
  if (!s.ok()) return Error(ctx, FromStatus(s));
  if (ctx.services.alerts) ctx.services.alerts->AssetsChanged(ctx.tenant);
  return NoContent(ctx);
}

Response AssetReadings(Ctx& ctx) {
  std::string asset_id = ctx.Param(1);
  if (!ctx.services.storage->GetAsset(ctx.tenant, asset_id).ok()) {
    return Error(ctx, NotFound("no asset '" + asset_id + "'"));
  }
  std::string metric = ctx.query.Get("metric");
  if (metric.empty()) return Error(ctx, BadField("metric", "metric is required"));
  int64_t now = ctx.NowNs();
  int64_t from = now - 86'400'000'000'000, to = now + 1;
  if (ctx.query.Has("from")) {
    auto t = ParseTime(ctx.query.Get("from"));
    if (!t) return Error(ctx, BadField("from", "from must be an RFC 3339 time or epoch ms"));
    from = *t;
  }
  if (ctx.query.Has("to")) {
    auto t = ParseTime(ctx.query.Get("to"));
    if (!t) return Error(ctx, BadField("to", "to must be an RFC 3339 time or epoch ms"));
    to = *t;
  }
  if (to <= from) return Error(ctx, BadField("to", "to must be after from"));
  std::optional<int64_t> step;
  if (ctx.query.Has("step")) {
    step = ParseStep(ctx.query.Get("step"));
    if (!step) return Error(ctx, BadField("step", "step must look like 60s, 5m, 1h or 1d"));
  }
  std::string aggregate = ctx.query.Has("aggregate") ? ctx.query.Get("aggregate") : "mean";
  static const std::string_view kAggregates[] = {"mean",  "min",   "max",  "sum",
                                                 "count", "first", "last", "stddev"};
  if (std::find(std::begin(kAggregates), std::end(kAggregates), aggregate) ==
      std::end(kAggregates)) {
    return Error(ctx, BadField("aggregate", "aggregate must be one of " + Join(kAggregates)));
  }
  size_t limit = 10000;
  if (ctx.query.Has("limit")) {
    std::string text = ctx.query.Get("limit");
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || p != text.data() + text.size() || limit < 1 || limit > 100000) {
      return Error(ctx, BadField("limit", "limit must be an integer from 1 to 100000"));
    }
  }
  auto by_asset = ctx.api.SeriesByAsset(ctx.tenant, AssetTag(ctx.services));
  std::vector<const storage::SeriesInfo*> matches;
  for (const storage::SeriesInfo& s : AssetSeries(*by_asset, asset_id)) {
    if (s.key.field == metric || s.key.measurement + "." + s.key.field == metric) {
      matches.push_back(&s);
    }
  }
  if (matches.empty()) {
    return Error(ctx, NotFound("asset '" + asset_id + "' has no metric '" + metric + "'"));
  }
  if (matches.size() > 1) {
    return Error(ctx, BadField("metric", "metric '" + metric +
                                             "' names several series; use measurement.field"));
  }
  const storage::SeriesInfo& series = *matches[0];
  json::object o;
  o["asset_id"] = asset_id;
  o["metric"] = metric;
  json::array points;
  if (!step) {
    auto raw = ctx.services.storage->ReadRaw(ctx.tenant, series.id, from, to);
    if (!raw.ok()) return Error(ctx, FromStatus(raw.status()));
    size_t n = std::min(raw->size(), limit);
    for (size_t i = 0; i < n; ++i) {
      points.push_back(
          {{"time", storage::FormatRfc3339(raw->ts_ns[i])}, {"value", PointValue(*raw, i)}});
    }
    o["truncated"] = raw->size() > n;
  } else {
    if (series.type == storage::ValueType::kString) {
      return Error(ctx, BadField("step", "string metrics cannot be downsampled"));
    }
    if ((to - from) / *step > 100000) {
      return Error(ctx,
                   BadField("step", "step too small for the range (more than 100000 buckets)"));
    }
    auto buckets = ctx.services.storage->ReadDownsampled(ctx.tenant, series.id, from, to,
                                                         std::chrono::nanoseconds(*step));
    if (!buckets.ok()) return Error(ctx, FromStatus(buckets.status()));
    for (const storage::Bucket& b : *buckets) {
      double v = b.mean();
      if (aggregate == "min")
        v = b.min;
      else if (aggregate == "max")
        v = b.max;
      else if (aggregate == "sum")
        v = b.sum;
      else if (aggregate == "count")
        v = static_cast<double>(b.count);
      else if (aggregate == "first")
        v = b.first;
      else if (aggregate == "last")
        v = b.last;
      else if (aggregate == "stddev") {
        double mean = b.mean();
        v = std::sqrt(std::max(0.0, b.sum_squares / static_cast<double>(b.count) - mean * mean));
      }
      points.push_back({{"time", storage::FormatRfc3339(b.start_ns)},
                        {"value", std::isfinite(v) ? json::value(v) : json::value(nullptr)},
                        {"count", b.count}});
    }
    o["step_seconds"] = *step / 1'000'000'000;
    o["aggregate"] = aggregate;
  }
  o["points"] = std::move(points);
  return Json(ctx, o);
}

Response AssetChart(Ctx& ctx) {
  const std::string asset_id = ctx.Param(1);
  if (!ctx.services.storage->GetAsset(ctx.tenant, asset_id).ok()) {
    return Error(ctx, NotFound("no asset '" + asset_id + "'"));
  }
  const int64_t now = ctx.NowNs();
  int64_t from = now - storage::kDayNs, to = now + 1;
  for (auto [name, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    if (!ctx.query.Has(name)) continue;
    auto t = ParseTime(ctx.query.Get(name));
    if (!t)
      return Error(ctx,
                   BadField(name, std::string(name) + " must be an RFC 3339 time or epoch ms"));
    *out = *t;
  }
  if (to <= from) return Error(ctx, BadField("to", "to must be after from"));
  int64_t points = 600;
  if (ctx.query.Has("points")) {
    const std::string text = ctx.query.Get("points");
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), points);
    if (ec != std::errc() || p != text.data() + text.size() || points < 10 || points > 5000) {
      return Error(ctx, BadField("points", "points must be an integer from 10 to 5000"));
    }
  }
  std::set<std::string, std::less<>> wanted;
  const std::string metrics = ctx.query.Get("metrics");
  for (std::string_view rest = metrics; !rest.empty();) {
    const size_t comma = rest.find(',');
    if (std::string_view m = rest.substr(0, comma); !m.empty()) wanted.emplace(m);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  // A whole number of seconds per bucket, at least one.
  const int64_t step =
      std::max<int64_t>(1, ((to - from) / points + storage::kSecondNs - 1) / storage::kSecondNs) *
      storage::kSecondNs;
  auto by_asset = ctx.api.SeriesByAsset(ctx.tenant, AssetTag(ctx.services));
  json::object series;
  for (const storage::SeriesInfo& s : AssetSeries(*by_asset, asset_id)) {
    if (s.type == storage::ValueType::kString || series.contains(s.key.field)) continue;
    if (!wanted.empty() && !wanted.contains(s.key.field)) continue;
    auto buckets = ctx.services.storage->ReadDownsampled(ctx.tenant, s.id, from, to,
                                                         std::chrono::nanoseconds(step));
    if (!buckets.ok()) return Error(ctx, FromStatus(buckets.status()));
    json::array time, mean, min, max;
    for (const storage::Bucket& b : *buckets) {
      time.push_back(b.start_ns / 1'000'000);
      mean.push_back(b.mean());
      min.push_back(b.min);
      max.push_back(b.max);
    }
    series[s.key.field] = {{"time", std::move(time)},
                           {"mean", std::move(mean)},
                           {"min", std::move(min)},
                           {"max", std::move(max)}};
  }
  for (const std::string& m : wanted) {
    if (!series.contains(m)) {
      return Error(ctx, NotFound("asset '" + asset_id + "' has no numeric metric '" + m + "'"));
    }
  }
  return Json(ctx, {{"asset_id", asset_id},
                    {"from", storage::FormatRfc3339(from)},
                    {"to", storage::FormatRfc3339(to)},
                    {"step_seconds", step / storage::kSecondNs},
                    {"series", std::move(series)}});
}

Response AssetWindows(Ctx& ctx) {
  if (!ctx.services.windows) {
    return Error(ctx, ApiError{bhttp::status::service_unavailable,
                               "unavailable",
                               "rolling windows are not kept by this server",
                               {}});
  }
  const std::string asset_id = ctx.Param(1), metric = ctx.query.Get("metric");
  if (!ctx.services.storage->GetAsset(ctx.tenant, asset_id).ok()) {
    return Error(ctx, NotFound("no asset '" + asset_id + "'"));
  }
  auto by_asset = ctx.api.SeriesByAsset(ctx.tenant, AssetTag(ctx.services));
  json::array items;
  for (const storage::SeriesInfo& s : AssetSeries(*by_asset, asset_id)) {
    if (!metric.empty() && MetricName(s) != metric) continue;
    const auto w = ctx.services.windows->Read(ctx.tenant, s.id);
    if (!w) continue;
    items.push_back({{"metric", MetricName(s)},
                     {"measurement", s.key.measurement},
                     {"last", w->last},
                     {"time", storage::FormatRfc3339(w->last_ts_ns)},
                     {"windows", WindowsJson(*w)}});
  }
  if (!metric.empty() && items.empty()) {
    return Error(ctx, NotFound("asset '" + asset_id + "' has no metric '" + metric + "'"));
  }
  const size_t total = items.size();
  return Json(ctx, {{"asset_id", asset_id}, {"items", std::move(items)}, {"total", total}});
}

json::object WindowsJson(const query::SeriesWindows& w) {
  json::object o;
  for (size_t i = 0; i < query::kSpans; ++i) {
    const query::Window& x = w.windows[i];
    o[query::kSpanShapes[i].name] = {{"from", storage::FormatRfc3339(x.from_ns)},
                                     {"count", x.count},
                                     {"mean", x.mean()},
                                     {"min", x.min},
                                     {"max", x.max},
                                     {"stddev", x.stddev()}};
  }
  return o;
}

Response LatestReadings(Ctx& ctx) {
  std::string asset_filter = ctx.query.Get("asset_id"), metric = ctx.query.Get("metric");
  auto by_asset = ctx.api.SeriesByAsset(ctx.tenant, AssetTag(ctx.services));
  json::array items;
  for (const auto& [asset, series] : *by_asset) {
    if (!asset_filter.empty() && asset != asset_filter) continue;
    for (const storage::SeriesInfo& s : series) {
      if (!metric.empty() && MetricName(s) != metric) continue;
      auto latest = ctx.services.storage->ReadLatest(ctx.tenant, s.id);
      if (!latest.ok() || latest->size() == 0) continue;
      items.push_back({{"asset_id", asset},
                       {"metric", MetricName(s)},
                       {"measurement", s.key.measurement},
                       {"time", storage::FormatRfc3339(latest->ts_ns[0])},
                       {"value", PointValue(*latest, 0)}});
    }
  }
  return Items(ctx, std::move(items));
}

}  // namespace foresight::http
