// Predictions, models and training runs: the REST face of ml::Engine, and the fleet it reads.
#include "http/api.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <type_traits>
#include <variant>

namespace foresight::http {
namespace {

// A number for JSON: NaN (no such model) becomes null.
json::value Num(double v) { return std::isfinite(v) ? json::value(v) : json::value(nullptr); }
// A float as the double its shortest text names (0.8967647, not 0.8967646956443787), so the
// answer prints it as people would write it.
json::value Num(float v) {
  if (!std::isfinite(v)) return nullptr;
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  double d = v;
  std::from_chars(buf, end, d);
  return d;
}

json::array Factors(const std::vector<ml::Factor>& factors) {
  json::array out;
  for (const ml::Factor& f : factors) {
    out.push_back(json::object{
        {"feature", f.feature}, {"value", Num(f.value)}, {"contribution", Num(f.contribution)}});
  }
  return out;
}

json::object PredictionJson(const ml::Prediction& p) {
  json::object models;
  for (const auto& [target, id] : p.models) models[target] = id;
  return {{"asset_id", p.asset_id},
          {"as_of", storage::FormatRfc3339(p.as_of_ns)},
          {"scored_at", storage::FormatRfc3339(p.scored_ns)},
          {"fails_7d", Num(p.fails_7d)},
          {"fails_30d", Num(p.fails_30d)},
          {"rul_days", Num(p.rul_days)},
          {"health", p.health},
          {"risk", p.risk},
          {"factors", Factors(p.factors)},
          {"models", std::move(models)}};
}

json::object EvaluationJson(const ml::Evaluation& e, ml::Objective objective) {
  json::object o{{"rows", e.rows}};
  if (objective == ml::Objective::kBinaryLogistic) {
    o["positives"] = e.positives;
    o["roc_auc"] = Num(e.roc_auc);
    o["auc_pr"] = Num(e.auc_pr);
    o["threshold"] = Num(e.threshold);
    o["precision"] = Num(e.precision);
    o["recall"] = Num(e.recall);
    o["f1"] = Num(e.f1);
    o["confusion"] = json::object{{"tp", e.tp}, {"fp", e.fp}, {"tn", e.tn}, {"fn", e.fn}};
    o["median_lead_days"] = Num(e.median_lead_days);
  } else {
    o["rmse"] = Num(e.rmse);
    o["mae"] = Num(e.mae);
  }
  return o;
}

json::object ModelJson(const ml::ModelInfo& m, bool full) {
  json::object o{
      {"id", m.id},
      {"target", m.target},
      {"objective", m.objective == ml::Objective::kBinaryLogistic ? "binary" : "regression"},
      {"status", m.status},
      {"created_at", storage::FormatRfc3339(m.created_ns)},
      {"run_id", m.run_id},
      {"rounds", m.rounds},
      {"train_rows", m.train_rows},
      {"validation_rows", m.validation_rows},
      {"metrics", EvaluationJson(m.evaluation, m.objective)}};
  if (m.data_to_ns > m.data_from_ns) {
    o["data"] = json::object{{"from", storage::FormatRfc3339(m.data_from_ns)},
                             {"to", storage::FormatRfc3339(m.data_to_ns)},
                             {"validation_from", storage::FormatRfc3339(m.split_ns)}};
  }
  if (full) {
    // The registry writes params; an entry that does not parse shows as null.
    auto params = storage::ParseJson(m.params);
    o["params"] = params.ok() ? std::move(*params) : json::value(nullptr);
    json::array features;
    for (const std::string& f : m.features) features.push_back(json::value(f));
    o["features"] = std::move(features);
  }
  return o;
}

json::object RunJson(const ml::RunInfo& r) {
  json::array targets, models, notes;
  for (const auto& t : r.targets) targets.push_back(json::value(t));
  for (const auto& m : r.models) models.push_back(json::value(m));
  for (const auto& n : r.notes) notes.push_back(json::value(n));
  json::object o{{"id", r.id},
                 {"status", r.status},
                 {"stage", r.stage},
                 {"progress", r.progress},
                 {"actor", r.actor},
                 {"targets", std::move(targets)},
                 {"created_at", storage::FormatRfc3339(r.created_ns)},
                 {"models", std::move(models)},
                 {"notes", std::move(notes)}};
  if (r.started_ns) o["started_at"] = storage::FormatRfc3339(r.started_ns);
  if (r.finished_ns) o["finished_at"] = storage::FormatRfc3339(r.finished_ns);
  if (!r.error.empty()) o["error"] = r.error;
  return o;
}

ApiError EngineError(const Status& s, std::string_view field = {}) {
  switch (s.code()) {
    case Status::Code::kFailedPrecondition:
      return {bhttp::status::conflict, "failed_precondition", std::string(s.message()), {}};
    case Status::Code::kResourceExhausted:
      return {bhttp::status::service_unavailable, "busy", std::string(s.message()), {}};
    default:
      return FromStatus(s, field);
  }
}

std::optional<ApiError> NeedEngine(const Ctx& ctx) {
  if (ctx.services.ml) return std::nullopt;
  return ApiError{bhttp::status::service_unavailable,
                  "unavailable",
                  "the ML engine is not running in this server",
                  {}};
}

// {"features": [names], "rows": [[number|null, ...], ...]}: the given-features shape.
std::optional<ApiError> ReadDataset(const json::object& body, bool labelled, ml::Dataset* d) {
  const json::value* features = body.if_contains("features");
  if (!features || !features->is_array() || features->as_array().empty()) {
    return BadField("features", "features must be a non-empty array of names");
  }
  for (const json::value& f : features->as_array()) {
    if (!f.is_string() || f.as_string().empty()) {
      return BadField("features", "every feature name must be a non-empty string");
    }
    d->features.emplace_back(f.as_string());
  }
  const json::value* rows = body.if_contains("rows");
  if (!rows || !rows->is_array() || rows->as_array().empty()) {
    return BadField("rows", "rows must be a non-empty array of arrays");
  }
  const size_t cols = d->features.size();
  size_t r = 0;
  for (const json::value& row : rows->as_array()) {
    if (!row.is_array() || row.as_array().size() != cols) {
      return BadField("rows", "row " + std::to_string(r) + " must be an array of " +
                                  std::to_string(cols) + " values");
    }
    for (const json::value& v : row.as_array()) {
      if (v.is_null()) {
        d->values.push_back(NAN);
      } else if (v.is_number()) {
        d->values.push_back(static_cast<float>(v.to_number<double>()));
      } else {
        return BadField("rows", "row " + std::to_string(r) +
                                    " holds a value that is not a "
                                    "number or null");
      }
    }
    ++r;
  }
  if (!labelled) return std::nullopt;
  const json::value* labels = body.if_contains("labels");
  if (!labels || !labels->is_array() || labels->as_array().size() != r) {
    return BadField("labels", "labels must be an array with one number per row");
  }
  for (const json::value& l : labels->as_array()) {
    if (!l.is_number()) return BadField("labels", "every label must be a number");
    d->labels.push_back(static_cast<float>(l.to_number<double>()));
  }
  return std::nullopt;
}

}  // namespace

Result<std::map<std::string, ml::Prediction, std::less<>>> LatestPredictionsByAsset(
    const Ctx& ctx) {
  std::map<std::string, ml::Prediction, std::less<>> out;
  if (!ctx.services.ml) return out;
  auto latest = ctx.services.ml->LatestPredictions(ctx.tenant);
  if (!latest.ok()) return latest.status();
  for (ml::Prediction& p : *latest) {
    std::string id = p.asset_id;
    out.emplace(std::move(id), std::move(p));
  }
  return out;
}

json::object PredictionSummaryJson(const ml::Prediction& p) {
  return {{"fails_7d", Num(p.fails_7d)}, {"fails_30d", Num(p.fails_30d)},
          {"rul_days", Num(p.rul_days)}, {"risk", p.risk},
          {"health", p.health},          {"scored_at", storage::FormatRfc3339(p.scored_ns)}};
}

Response LatestPredictionsRoute(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  const std::string risk = ctx.query.Get("risk");
  if (!risk.empty() && std::find(query::kCriticalities.begin(), query::kCriticalities.end(),
                                 risk) == query::kCriticalities.end()) {
    return Error(ctx, BadField("risk", "risk must be one of low, medium, high, critical"));
  }
  auto latest = ctx.services.ml->LatestPredictions(ctx.tenant);
  if (!latest.ok()) return Error(ctx, FromStatus(latest.status()));
  // The likeliest failures first; an asset without a 30-day model last.
  std::stable_sort(latest->begin(), latest->end(),
                   [](const ml::Prediction& a, const ml::Prediction& b) {
                     const float x = std::isnan(a.fails_30d) ? -1 : a.fails_30d;
                     const float y = std::isnan(b.fails_30d) ? -1 : b.fails_30d;
                     return x > y;
                   });
  json::array items;
  for (const ml::Prediction& p : *latest) {
    if (risk.empty() || p.risk == risk) items.push_back(PredictionJson(p));
  }
  return Items(ctx, std::move(items));
}

Response Predict(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  if (body->contains("features") || body->contains("rows")) {
    ml::Dataset rows;
    if (auto e = ReadDataset(*body, false, &rows)) return Error(ctx, *e);
    std::string target, model_id;
    if (const json::value* t = body->if_contains("target"); t && t->is_string()) {
      target = t->as_string();
    }
    if (const json::value* m = body->if_contains("model_id"); m && m->is_string()) {
      model_id = m->as_string();
    }
    if (target.empty() && model_id.empty()) {
      return Error(ctx, BadField("target", "given features need a target or a model_id"));
    }
    auto predictions = ctx.services.ml->PredictGiven(ctx.tenant, target, model_id, rows);
    if (!predictions.ok()) return Error(ctx, EngineError(predictions.status(), "features"));
    json::array items;
    for (const auto& p : *predictions) {
      items.push_back(json::object{{"value", Num(p.value)}, {"factors", Factors(p.factors)}});
    }
    return Json(ctx, json::object{{"predictions", std::move(items)}});
  }
  std::vector<std::string> assets;
  if (const json::value* id = body->if_contains("asset_id")) {
    if (!id->is_string()) return Error(ctx, BadField("asset_id", "asset_id must be a string"));
    assets.emplace_back(id->as_string());
  }
  if (const json::value* ids = body->if_contains("asset_ids")) {
    if (!ids->is_array()) {
      return Error(ctx, BadField("asset_ids", "asset_ids must be an array of strings"));
    }
    for (const json::value& id : ids->as_array()) {
      if (!id.is_string()) {
        return Error(ctx, BadField("asset_ids", "asset_ids must be an array of strings"));
      }
      assets.emplace_back(id.as_string());
    }
  }
  std::optional<int64_t> as_of;
  if (const json::value* t = body->if_contains("as_of")) {
    as_of = ParseTimeValue(*t);
    if (!as_of) return Error(ctx, BadField("as_of", "as_of must be an RFC 3339 time"));
  }
  auto predictions = ctx.services.ml->Score(ctx.tenant, assets, as_of, false);
  if (!predictions.ok()) return Error(ctx, EngineError(predictions.status(), "asset_id"));
  json::array items;
  for (const ml::Prediction& p : *predictions) items.push_back(PredictionJson(p));
  return Json(ctx, json::object{{"predictions", std::move(items)}});
}

Response PredictionHistory(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  int64_t from = INT64_MIN, to = storage::kMaxTimestampNs;
  for (auto [name, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    if (!ctx.query.Has(name)) continue;
    auto t = ParseTime(ctx.query.Get(name));
    if (!t) return Error(ctx, BadField(name, std::string(name) + " must be an RFC 3339 time"));
    *out = *t;
  }
  Page page;
  if (auto e = ParsePage(ctx, &page)) return Error(ctx, *e);
  auto asset = ctx.services.storage->GetAsset(ctx.tenant, ctx.Param(1));
  if (!asset.ok()) return Error(ctx, FromStatus(asset.status()));
  auto history =
      ctx.services.ml->History(ctx.tenant, ctx.Param(1), from, to, page.offset + page.limit);
  if (!history.ok()) return Error(ctx, FromStatus(history.status()));
  json::array items;
  for (size_t i = page.offset; i < history->size(); ++i)
    items.push_back(PredictionJson((*history)[i]));
  return Items(ctx, std::move(items));
}

Response ListModels(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  const std::string target = ctx.query.Get("target");
  auto models = ctx.services.ml->registry().List(ctx.tenant, target);
  if (!models.ok()) return Error(ctx, FromStatus(models.status()));
  json::array items;
  for (const ml::ModelInfo& m : *models) items.push_back(ModelJson(m, false));
  return Items(ctx, std::move(items));
}

Response GetModel(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  auto m = ctx.services.ml->registry().Get(ctx.tenant, ctx.Param(1));
  if (!m.ok()) return Error(ctx, FromStatus(m.status()));
  json::object o = ModelJson(*m, true);
  auto drift = ctx.services.ml->LatestDrift(ctx.tenant, m->id);
  if (drift.ok()) {
    json::array features;
    for (const ml::FeatureDrift& d : *drift) {
      features.push_back(json::object{{"feature", d.feature},
                                      {"psi", Num(d.psi)},
                                      {"ks", Num(d.ks)},
                                      {"ks_critical", Num(d.ks_critical)}});
    }
    o["drift"] = std::move(features);
  }
  return Json(ctx, o);
}

Response PromoteModel(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  if (Status s = ctx.services.ml->registry().Promote(ctx.tenant, ctx.Param(1), ctx.Actor());
      !s.ok()) {
    return Error(ctx, EngineError(s));
  }
  auto m = ctx.services.ml->registry().Get(ctx.tenant, ctx.Param(1));
  if (!m.ok()) return Error(ctx, FromStatus(m.status()));
  return Json(ctx, ModelJson(*m, false));
}

Response RollbackModel(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  const json::value* target = body->if_contains("target");
  if (!target || !target->is_string()) {
    return Error(ctx, BadField("target", "target must name the model's target"));
  }
  auto restored = ctx.services.ml->registry().Rollback(ctx.tenant, std::string(target->as_string()),
                                                       ctx.Actor());
  if (!restored.ok()) return Error(ctx, EngineError(restored.status()));
  auto m = ctx.services.ml->registry().Get(ctx.tenant, *restored);
  if (!m.ok()) return Error(ctx, FromStatus(m.status()));
  return Json(ctx, ModelJson(*m, false));
}

// Hyper-parameters over the engine's defaults, each checked against its range.
std::optional<ApiError> ReadParams(const json::value& v, ml::FitOptions* fit) {
  if (!v.is_object()) return BadField("params", "params must be an object");
  struct Knob {
    std::string_view name;
    double min, max;
    std::variant<double*, int*, uint64_t*> target;
  };
  const Knob knobs[] = {
      {"max_rounds", 1, 5000, &fit->booster.rounds},
      {"early_stopping_rounds", 1, 1000, &fit->early_stopping_rounds},
      {"max_depth", 1, 16, &fit->booster.max_depth},
      {"eta", 0.001, 1, &fit->booster.eta},
      {"subsample", 0.05, 1, &fit->booster.subsample},
      {"colsample_bytree", 0.05, 1, &fit->booster.colsample_bytree},
      {"colsample_bynode", 0.05, 1, &fit->booster.colsample_bynode},
      {"num_parallel_tree", 1, 100, &fit->booster.num_parallel_tree},
      {"min_child_weight", 0, 1000, &fit->booster.min_child_weight},
      {"lambda", 0, 1000, &fit->booster.lambda},
      {"seed", 0, 2147483647, &fit->booster.seed},
  };
  for (const json::key_value_pair& param : v.as_object()) {
    const std::string_view key = param.key();
    const json::value& value = param.value();
    const Knob* knob = std::find_if(std::begin(knobs), std::end(knobs),
                                    [&](const Knob& k) { return k.name == key; });
    if (knob == std::end(knobs)) {
      std::string known;
      for (const Knob& k : knobs) known += (known.empty() ? "" : ", ") + std::string(k.name);
      return BadField("params",
                      "params: unknown '" + std::string(key) + "' (known: " + known + ")");
    }
    const bool whole = !std::holds_alternative<double*>(knob->target);
    const double x = value.is_number() ? value.to_number<double>() : NAN;
    if (!(x >= knob->min && x <= knob->max) || (whole && x != std::floor(x))) {
      return BadField("params",
                      fmt::format("params.{} must be {} from {} to {}", knob->name,
                                  whole ? "an integer" : "a number", knob->min, knob->max));
    }
    std::visit([x](auto* to) { *to = static_cast<std::remove_pointer_t<decltype(to)>>(x); },
               knob->target);
  }
  return std::nullopt;
}

Response StartTraining(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  ml::TrainingRequest request;
  request.actor = ctx.Actor();
  if (const json::value* t = body->if_contains("targets")) {
    if (!t->is_array()) return Error(ctx, BadField("targets", "targets must be an array"));
    for (const json::value& v : t->as_array()) {
      if (!v.is_string()) return Error(ctx, BadField("targets", "targets must be strings"));
      request.targets.emplace_back(v.as_string());
    }
  }
  if (const json::value* c = body->if_contains("rul_cap_days")) {
    if (!c->is_number())
      return Error(ctx, BadField("rul_cap_days", "rul_cap_days must be a number"));
    request.rul_cap_days = c->to_number<double>();
  }
  if (const json::value* s = body->if_contains("seed")) {
    if (!s->is_int64() || s->as_int64() < 0) {
      return Error(ctx, BadField("seed", "seed must be a non-negative integer"));
    }
    request.seed = static_cast<uint64_t>(s->as_int64());
  }
  if (const json::value* p = body->if_contains("params")) {
    ml::FitOptions fit = ctx.services.ml->options().fit;
    if (auto e = ReadParams(*p, &fit)) return Error(ctx, *e);
    request.fit = fit;
  }
  if (body->contains("rows") || body->contains("features")) {
    ml::Dataset dataset;
    if (auto e = ReadDataset(*body, true, &dataset)) return Error(ctx, *e);
    const json::value* target = body->if_contains("target");
    if (!target || !target->is_string()) {
      return Error(ctx, BadField("target", "a dataset needs a target: the model's name"));
    }
    request.dataset_target = target->as_string();
    std::string objective = "binary";
    if (const json::value* o = body->if_contains("objective"); o && o->is_string()) {
      objective = o->as_string();
    }
    if (objective != "binary" && objective != "regression") {
      return Error(ctx, BadField("objective", "objective must be binary or regression"));
    }
    request.dataset_objective =
        objective == "binary" ? ml::Objective::kBinaryLogistic : ml::Objective::kRegression;
    request.dataset = std::move(dataset);
  }
  auto run = ctx.services.ml->Submit(ctx.tenant, std::move(request));
  if (!run.ok()) return Error(ctx, EngineError(run.status(), "target"));
  return Json(ctx, RunJson(*run), bhttp::status::accepted);
}

Response ListTrainingRuns(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  Page page;
  if (auto e = ParsePage(ctx, &page)) return Error(ctx, *e);
  auto runs = ctx.services.ml->ListRuns(ctx.tenant, page.limit);
  if (!runs.ok()) return Error(ctx, FromStatus(runs.status()));
  json::array items;
  for (const ml::RunInfo& r : *runs) items.push_back(RunJson(r));
  return Items(ctx, std::move(items));
}

Response GetTrainingRun(Ctx& ctx) {
  if (auto e = NeedEngine(ctx)) return Error(ctx, *e);
  auto run = ctx.services.ml->GetRun(ctx.tenant, ctx.Param(1));
  if (!run.ok()) return Error(ctx, FromStatus(run.status()));
  return Json(ctx, RunJson(*run));
}

}  // namespace foresight::http
