// The model registry: models and champions as storage records.
#include "ml/json.h"
#include "ml/ml.h"
#include "storage/sync.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>

namespace foresight::ml {
namespace {

constexpr std::string_view kModel = "ml.model";
constexpr std::string_view kModelJson = "ml.model_json";
constexpr std::string_view kReference = "ml.reference";
constexpr std::string_view kChampion = "ml.champion";

std::string_view ObjectiveName(Objective o) {
  return o == Objective::kBinaryLogistic ? "binary" : "regression";
}

void WriteEvaluation(JsonWriter& w, const Evaluation& e) {
  w.BeginObject()
      .Field("rows", e.rows)
      .Field("positives", e.positives)
      .Field("roc_auc", e.roc_auc)
      .Field("auc_pr", e.auc_pr)
      .Field("threshold", e.threshold)
      .Field("precision", e.precision)
      .Field("recall", e.recall)
      .Field("f1", e.f1)
      .Key("confusion")
      .BeginObject()
      .Field("tp", e.tp)
      .Field("fp", e.fp)
      .Field("tn", e.tn)
      .Field("fn", e.fn)
      .EndObject()
      .Field("median_lead_days", e.median_lead_days)
      .Field("rmse", e.rmse)
      .Field("mae", e.mae)
      .EndObject();
}

Evaluation ReadEvaluation(simdjson::dom::element e) {
  Evaluation out;
  out.rows = GetInt(e, "rows");
  out.positives = GetInt(e, "positives");
  out.roc_auc = GetDouble(e, "roc_auc");
  out.auc_pr = GetDouble(e, "auc_pr");
  out.threshold = GetDouble(e, "threshold");
  out.precision = GetDouble(e, "precision");
  out.recall = GetDouble(e, "recall");
  out.f1 = GetDouble(e, "f1");
  simdjson::dom::element c = e["confusion"];
  out.tp = GetInt(c, "tp");
  out.fp = GetInt(c, "fp");
  out.tn = GetInt(c, "tn");
  out.fn = GetInt(c, "fn");
  out.median_lead_days = GetDouble(e, "median_lead_days");
  out.rmse = GetDouble(e, "rmse");
  out.mae = GetDouble(e, "mae");
  return out;
}

std::string Encode(const ModelInfo& m) {
  JsonWriter w;
  w.BeginObject()
      .Field("id", m.id)
      .Field("target", m.target)
      .Field("objective", ObjectiveName(m.objective))
      .Field("created_ns", m.created_ns)
      .Field("run_id", m.run_id)
      .Key("params")
      .Raw(m.params.empty() ? "{}" : m.params)
      .Array("metrics", m.metrics)
      .Array("features", m.features)
      .Field("data_from_ns", m.data_from_ns)
      .Field("data_to_ns", m.data_to_ns)
      .Field("split_ns", m.split_ns)
      .Field("train_rows", m.train_rows)
      .Field("validation_rows", m.validation_rows)
      .Field("rounds", m.rounds)
      .Key("evaluation");
  WriteEvaluation(w, m.evaluation);
  return w.EndObject().Take();
}

Result<ModelInfo> Decode(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) {
    return Status::Corruption("a model record is not JSON");
  }
  ModelInfo m;
  m.id = GetString(e, "id");
  m.target = GetString(e, "target");
  m.objective =
      GetString(e, "objective") == "binary" ? Objective::kBinaryLogistic : Objective::kRegression;
  m.created_ns = GetInt(e, "created_ns");
  m.run_id = GetString(e, "run_id");
  simdjson::dom::element params;
  m.params = e["params"].get(params) == simdjson::SUCCESS ? simdjson::to_string(params) : "{}";
  m.metrics = GetStrings(e, "metrics");
  m.features = GetStrings(e, "features");
  m.data_from_ns = GetInt(e, "data_from_ns");
  m.data_to_ns = GetInt(e, "data_to_ns");
  m.split_ns = GetInt(e, "split_ns");
  m.train_rows = GetInt(e, "train_rows");
  m.validation_rows = GetInt(e, "validation_rows");
  m.rounds = static_cast<int>(GetInt(e, "rounds"));
  m.evaluation = ReadEvaluation(e["evaluation"]);
  return m;
}

// The champion record of a target: the current id, then the ones it replaced, newest first.
struct Champions {
  std::vector<std::string> ids;
};

Result<Champions> ReadChampions(const storage::Storage& storage, storage::TenantId tenant,
                                std::string_view target) {
  auto rec = storage.GetRecord(tenant, kChampion, target);
  if (!rec.ok()) {
    if (rec.status().code() == Status::Code::kNotFound) return Champions{};
    return rec.status();
  }
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(*rec).get(e) != simdjson::SUCCESS) {
    return Status::Corruption("the champion record of " + std::string(target) + " is not JSON");
  }
  return Champions{GetStrings(e, "ids")};
}

Status WriteChampions(storage::Storage* storage, storage::TenantId tenant, std::string_view target,
                      const Champions& c, std::string_view actor) {
  JsonWriter w;
  const std::string value = w.BeginObject()
                                .Array("ids", c.ids)
                                .Field("changed_ns", storage->clock().NowNs())
                                .Field("changed_by", actor)
                                .EndObject()
                                .Take();
  const storage::Storage::RecordWrite write{kChampion, target, value};
  return storage->WriteRecords(tenant, {&write, 1});
}

}  // namespace

bool IsFleetTarget(std::string_view target) {
  return std::find(std::begin(kFleetTargets), std::end(kFleetTargets), target) !=
         std::end(kFleetTargets);
}

bool ValidTargetName(std::string_view target) {
  if (target.empty() || target.size() > 64) return false;
  return std::all_of(target.begin(), target.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

struct Registry::State {
  Mutex mu;  // serialises champion changes (the records it guards are in storage)
  std::atomic<uint32_t> counter{0};
};

Registry::Registry(storage::Storage* storage)
    : storage_(storage), state_(std::make_unique<State>()) {}
Registry::~Registry() = default;

Result<ModelInfo> Registry::Add(storage::TenantId tenant, ModelInfo info,
                                std::string_view model_json,
                                std::span<const FeatureReference> reference) {
  info.created_ns = storage_->clock().NowNs();
  char id[40];
  std::snprintf(id, sizeof id, "mdl_%016llx%04x", static_cast<unsigned long long>(info.created_ns),
                state_->counter.fetch_add(1) & 0xffffu);
  info.id = id;
  info.status = "challenger";
  JsonWriter w;
  w.BeginObject().Key("features").BeginArray();
  for (const FeatureReference& r : reference) {
    w.BeginObject()
        .Array("quantiles", r.quantiles)
        .Array("edges", r.edges)
        .Array("shares", r.shares)
        .Field("missing", r.missing)
        .Field("assets", r.assets)
        .EndObject();
  }
  const std::string ref = w.EndArray().EndObject().Take();
  const std::string meta = Encode(info);
  const storage::Storage::RecordWrite writes[] = {
      {kModel, info.id, meta}, {kModelJson, info.id, model_json}, {kReference, info.id, ref}};
  if (Status s = storage_->WriteRecords(tenant, writes); !s.ok()) return s;
  return info;
}

Result<std::vector<ModelInfo>> Registry::List(storage::TenantId tenant,
                                              std::string_view target) const {
  storage::Storage::ScanOptions scan;
  scan.reverse = true;
  auto records = storage_->ScanRecords(tenant, kModel, scan);
  if (!records.ok()) return records.status();
  std::vector<ModelInfo> out;
  std::map<std::string, Champions, std::less<>> champions;
  for (const auto& [id, json] : *records) {
    auto m = Decode(json);
    if (!m.ok()) return m.status();
    if (!target.empty() && m->target != target) continue;
    auto it = champions.find(m->target);
    if (it == champions.end()) {
      auto c = ReadChampions(*storage_, tenant, m->target);
      if (!c.ok()) return c.status();
      it = champions.emplace(m->target, std::move(c).value()).first;
    }
    const auto& ids = it->second.ids;
    auto at = std::find(ids.begin(), ids.end(), m->id);
    m->status = at == ids.end() ? "challenger" : at == ids.begin() ? "champion" : "previous";
    out.push_back(std::move(m).value());
  }
  return out;
}

Result<ModelInfo> Registry::Get(storage::TenantId tenant, std::string_view id) const {
  auto json = storage_->GetRecord(tenant, kModel, id);
  if (!json.ok()) {
    if (json.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("no model '" + std::string(id) + "'");
    }
    return json.status();
  }
  auto m = Decode(*json);
  if (!m.ok()) return m;
  auto c = ReadChampions(*storage_, tenant, m->target);
  if (!c.ok()) return c.status();
  auto at = std::find(c->ids.begin(), c->ids.end(), m->id);
  m->status = at == c->ids.end() ? "challenger" : at == c->ids.begin() ? "champion" : "previous";
  return m;
}

Result<std::string> Registry::ModelJson(storage::TenantId tenant, std::string_view id) const {
  auto json = storage_->GetRecord(tenant, kModelJson, id);
  if (!json.ok() && json.status().code() == Status::Code::kNotFound) {
    return Status::NotFound("no model '" + std::string(id) + "'");
  }
  return json;
}

Result<std::vector<FeatureReference>> Registry::Reference(storage::TenantId tenant,
                                                          std::string_view id) const {
  auto json = storage_->GetRecord(tenant, kReference, id);
  if (!json.ok()) return json.status();
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  simdjson::dom::array features;
  if (parser.parse(*json).get(e) != simdjson::SUCCESS ||
      e["features"].get(features) != simdjson::SUCCESS) {
    return Status::Corruption("the reference of model " + std::string(id) + " is not JSON");
  }
  std::vector<FeatureReference> out;
  for (simdjson::dom::element f : features) {
    FeatureReference r;
    r.quantiles = GetNumbers<float>(f, "quantiles");
    r.edges = GetNumbers<float>(f, "edges");
    r.shares = GetNumbers<double>(f, "shares");
    r.missing = GetDouble(f, "missing", 0);
    r.assets = static_cast<size_t>(GetDouble(f, "assets", 0));  // 0 in models before #21
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::string> Registry::Champion(storage::TenantId tenant, std::string_view target) const {
  auto c = ReadChampions(*storage_, tenant, target);
  if (!c.ok()) return c.status();
  if (c->ids.empty()) return Status::NotFound("no champion for " + std::string(target));
  return c->ids.front();
}

Status Registry::Promote(storage::TenantId tenant, std::string_view id, std::string_view actor) {
  auto m = Get(tenant, id);
  if (!m.ok()) return m.status();
  MutexLock lock(&state_->mu);
  auto c = ReadChampions(*storage_, tenant, m->target);
  if (!c.ok()) return c.status();
  if (!c->ids.empty() && c->ids.front() == id) return Status::OK();
  std::erase(c->ids, std::string(id));
  c->ids.insert(c->ids.begin(), std::string(id));
  return WriteChampions(storage_, tenant, m->target, *c, actor);
}

Result<std::string> Registry::Rollback(storage::TenantId tenant, std::string_view target,
                                       std::string_view actor) {
  MutexLock lock(&state_->mu);
  auto c = ReadChampions(*storage_, tenant, target);
  if (!c.ok()) return c.status();
  if (c->ids.size() < 2) {
    return Status::FailedPrecondition("no earlier champion of " + std::string(target) +
                                      " to roll back to");
  }
  c->ids.erase(c->ids.begin());
  if (Status s = WriteChampions(storage_, tenant, target, *c, actor); !s.ok()) return s;
  return c->ids.front();
}

}  // namespace foresight::ml
