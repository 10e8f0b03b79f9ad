// The engine: training runs on one worker thread, scoring with compiled champions, schedules.
#include "ml/json.h"
#include "ml/ml.h"
#include "storage/log.h"
#include "storage/sync.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace foresight::ml {
namespace {

constexpr std::string_view kRun = "ml.run";
constexpr std::string_view kPrediction = "ml.prediction";
constexpr std::string_view kLatest = "ml.latest";
constexpr std::string_view kDrift = "ml.drift";
constexpr std::string_view kSchedule = "ml.schedule";
constexpr std::string_view kFleetDay = "ml.fleet_day";
// How far back the schedules look for the newest fleet run.
constexpr size_t kRunsScanned = 64;
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

std::string Hex16(int64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Prediction history ids: the asset id, a NUL (below any byte an id's next character can be, so
// one asset's ids are contiguous and never interleave with another's), the scoring time.
std::string HistoryId(std::string_view asset, int64_t scored_ns) {
  std::string id(asset);
  id += '\0';
  id += Hex16(scored_ns);
  return id;
}

std::string EncodeRun(const RunInfo& r) {
  JsonWriter w;
  w.BeginObject()
      .Field("id", r.id)
      .Field("status", r.status)
      .Field("stage", r.stage)
      .Field("progress", r.progress)
      .Field("actor", r.actor)
      .Array("targets", r.targets)
      .Field("created_ns", r.created_ns)
      .Field("started_ns", r.started_ns)
      .Field("finished_ns", r.finished_ns)
      .Field("error", r.error)
      .Array("models", r.models)
      .Array("notes", r.notes);
  return w.EndObject().Take();
}

Result<RunInfo> DecodeRun(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) {
    return Status::Corruption("a training run record is not JSON");
  }
  RunInfo r;
  r.id = GetString(e, "id");
  r.status = GetString(e, "status");
  r.stage = GetString(e, "stage");
  r.progress = GetDouble(e, "progress", 0);
  r.actor = GetString(e, "actor");
  r.targets = GetStrings(e, "targets");
  r.created_ns = GetInt(e, "created_ns");
  r.started_ns = GetInt(e, "started_ns");
  r.finished_ns = GetInt(e, "finished_ns");
  r.error = GetString(e, "error");
  r.models = GetStrings(e, "models");
  r.notes = GetStrings(e, "notes");
  return r;
}

std::string EncodePrediction(const Prediction& p) {
  JsonWriter w;
  w.BeginObject()
      .Field("asset_id", p.asset_id)
      .Field("as_of_ns", p.as_of_ns)
      .Field("scored_ns", p.scored_ns)
      .Field("fails_7d", p.fails_7d)
      .Field("fails_30d", p.fails_30d)
      .Field("rul_days", p.rul_days)
      .Field("health", p.health)
      .Field("risk", p.risk)
      .Key("factors")
      .BeginArray();
  for (const Factor& f : p.factors) {
    w.BeginObject()
        .Field("feature", f.feature)
        .Field("value", f.value)
        .Field("contribution", f.contribution)
        .EndObject();
  }
  w.EndArray().Key("models").BeginObject();
  for (const auto& [target, id] : p.models) w.Field(target, id);
  return w.EndObject().EndObject().Take();
}

Result<Prediction> DecodePrediction(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) {
    return Status::Corruption("a prediction record is not JSON");
  }
  Prediction p;
  p.asset_id = GetString(e, "asset_id");
  p.as_of_ns = GetInt(e, "as_of_ns");
  p.scored_ns = GetInt(e, "scored_ns");
  p.fails_7d = static_cast<float>(GetDouble(e, "fails_7d"));
  p.fails_30d = static_cast<float>(GetDouble(e, "fails_30d"));
  p.rul_days = static_cast<float>(GetDouble(e, "rul_days"));
  p.health = static_cast<int>(GetInt(e, "health"));
  p.risk = GetString(e, "risk");
  simdjson::dom::array factors;
  if (e["factors"].get(factors) == simdjson::SUCCESS) {
    for (simdjson::dom::element f : factors) {
      p.factors.push_back({GetString(f, "feature"), static_cast<float>(GetDouble(f, "value")),
                           static_cast<float>(GetDouble(f, "contribution"))});
    }
  }
  simdjson::dom::object models;
  if (e["models"].get(models) == simdjson::SUCCESS) {
    for (auto [key, value] : models) {
      std::string_view id;
      if (value.get(id) == simdjson::SUCCESS) p.models.emplace_back(key, id);
    }
  }
  return p;
}

// Fleet day ids: the day number, zero-padded so that ids sort by day.
std::string FleetDayId(int64_t day) { return fmt::format("{:08d}", day); }

// The fleet day of a scoring's predictions.
FleetDay SummarizeDay(int64_t day, int64_t scored_ns, std::span<const Prediction> scored,
                      bool backfilled) {
  FleetDay d{.day_ns = day * kDayNs, .scored_ns = scored_ns, .backfilled = backfilled};
  double health = 0;
  for (const Prediction& p : scored) {
    health += p.health;
    ++d.assets;
    const char* const risks[] = {"low", "medium", "high", "critical"};
    for (size_t r = 0; r < 4; ++r) d.by_risk[r] += p.risk == risks[r];
  }
  if (d.assets > 0) d.health = std::round(10 * health / d.assets) / 10;
  return d;
}

std::string EncodeFleetDay(const FleetDay& d) {
  JsonWriter w;
  w.BeginObject()
      .Field("day_ns", d.day_ns)
      .Field("scored_ns", d.scored_ns)
      .Field("assets", d.assets)
      .Field("health", d.health)
      .Key("by_risk")
      .BeginArray();
  for (int n : d.by_risk) w.Int(n);
  return w.EndArray().Field("backfilled", d.backfilled).EndObject().Take();
}

Result<FleetDay> DecodeFleetDay(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) {
    return Status::Corruption("a fleet day record is not JSON");
  }
  FleetDay d;
  d.day_ns = GetInt(e, "day_ns");
  d.scored_ns = GetInt(e, "scored_ns");
  d.assets = static_cast<int>(GetInt(e, "assets"));
  d.health = GetDouble(e, "health", 0);
  simdjson::dom::array risks;
  if (e["by_risk"].get(risks) == simdjson::SUCCESS) {
    size_t r = 0;
    for (simdjson::dom::element n : risks) {
      int64_t v = 0;
      if (r < d.by_risk.size() && n.get(v) == simdjson::SUCCESS) d.by_risk[r] = static_cast<int>(v);
      ++r;
    }
  }
  bool backfilled = false;
  if (e["backfilled"].get(backfilled) == simdjson::SUCCESS) d.backfilled = backfilled;
  return d;
}

// The day of the asset's latest reading, or -1 when it has none.
int64_t LatestDay(const storage::Storage& storage, storage::TenantId tenant, const FleetAsset& a) {
  int64_t day = -1;
  for (const auto& [name, series] : a.metrics) {
    auto latest = storage.ReadLatest(tenant, series);
    if (latest.ok() && latest->size() > 0) day = std::max(day, DayOf(latest->ts_ns[0]));
  }
  return day;
}

// The rows of `x` whose label is known and whose day is in [from_day, to_day).
struct Rows {
  std::vector<size_t> index;
  std::vector<float> values, labels;
  Matrix matrix(size_t cols) const { return {values.data(), index.size(), cols}; }
};
Rows Select(const FeatureTable& t, std::span<const float> labels, int64_t from_day,
            int64_t to_day) {
  Rows rows;
  const size_t cols = t.names.size();
  for (size_t r = 0; r < t.rows(); ++r) {
    if (std::isnan(labels[r]) || t.day[r] < from_day || t.day[r] >= to_day) continue;
    rows.index.push_back(r);
    rows.labels.push_back(labels[r]);
    rows.values.insert(rows.values.end(), t.values.begin() + r * cols,
                       t.values.begin() + (r + 1) * cols);
  }
  return rows;
}

std::string Params(const FitOptions& f, double scale_pos_weight, const LabelOptions& l) {
  JsonWriter w;
  return w.BeginObject()
      .Field("max_rounds", f.booster.rounds)
      .Field("max_depth", f.booster.max_depth)
      .Field("eta", f.booster.eta)
      .Field("subsample", f.booster.subsample)
      .Field("colsample_bytree", f.booster.colsample_bytree)
      .Field("colsample_bynode", f.booster.colsample_bynode)
      .Field("num_parallel_tree", f.booster.num_parallel_tree)
      .Field("min_child_weight", f.booster.min_child_weight)
      .Field("lambda", f.booster.lambda)
      .Field("seed", f.booster.seed)
      .Field("early_stopping_rounds", f.early_stopping_rounds)
      .Field("scale_pos_weight", scale_pos_weight)
      .Field("exclude_days_after_maintenance", l.exclude_days_after_maintenance)
      .Field("rul_cap_days", l.rul_cap_days)
      .EndObject()
      .Take();
}

// The top `n` contributions by magnitude, the bias left out.
std::vector<Factor> TopFactors(const Forest& forest, const std::vector<std::string>& names,
                               const float* row, size_t n) {
  std::vector<float> contributions(forest.features() + 1);
  forest.Explain(row, contributions);
  std::vector<size_t> order(forest.features());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  n = std::min(n, order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(), [&](size_t a, size_t b) {
    return std::abs(contributions[a]) > std::abs(contributions[b]);
  });
  std::vector<Factor> out;
  for (size_t i = 0; i < n; ++i) {
    const size_t f = order[i];
    if (contributions[f] == 0) break;
    out.push_back({f < names.size() ? names[f] : std::to_string(f), row[f], contributions[f]});
  }
  return out;
}

}  // namespace

struct Engine::Impl {
  struct State {
    mutable Mutex mu;
    CondVar wake;
    mutable CondVar done;
    bool stop FORESIGHT_GUARDED_BY(mu) = false;
    struct Job {
      storage::TenantId tenant;
      std::string id;
      TrainingRequest request;
    };
    std::deque<Job> queue FORESIGHT_GUARDED_BY(mu);
    // Runs queued or running, by (tenant, id); finished ones live only in storage.
    std::map<std::pair<storage::TenantId, std::string>, RunInfo> active FORESIGHT_GUARDED_BY(mu);
    std::atomic<uint32_t> counter{0};
    Stats stats FORESIGHT_GUARDED_BY(mu);
    // Compiled models by (tenant, model id); models never change, so entries never go stale.
    Mutex forests_mu;
    std::map<std::pair<storage::TenantId, std::string>, std::shared_ptr<const Forest>> forests
        FORESIGHT_GUARDED_BY(forests_mu);
    std::thread worker;
  };

  Impl(storage::Storage* storage, FleetSource fleet, const EngineOptions& options)
      : storage_(storage),
        fleet_(std::move(fleet)),
        options_(options),
        registry_(storage),
        state_(std::make_unique<State>()) {}
  // Cancels a run in progress and joins the worker.
  ~Impl();

  // The public methods, as Engine's header documents them.
  Result<RunInfo> Submit(storage::TenantId tenant, TrainingRequest request);
  Result<RunInfo> GetRun(storage::TenantId tenant, std::string_view id) const;
  Result<std::vector<RunInfo>> ListRuns(storage::TenantId tenant, size_t limit) const;
  Result<RunInfo> Wait(storage::TenantId tenant, std::string_view id) const;
  Result<std::vector<Prediction>> Score(storage::TenantId tenant,
                                        std::span<const std::string> asset_ids,
                                        std::optional<int64_t> as_of_ns, bool record);
  Result<std::vector<GivenPrediction>> PredictGiven(storage::TenantId tenant,
                                                    std::string_view target,
                                                    std::string_view model_id, const Dataset& rows);
  Result<std::vector<Prediction>> History(storage::TenantId tenant, std::string_view asset_id,
                                          int64_t from_ns, int64_t to_ns, size_t limit) const;
  Result<std::vector<FeatureDrift>> LatestDrift(storage::TenantId tenant,
                                                std::string_view model_id) const;
  Result<std::vector<FleetDay>> FleetHistory(storage::TenantId tenant, int64_t from_ns,
                                             int64_t to_ns) const;
  Status RunSchedules(int64_t now_ns);

  // The worker thread: runs queued jobs one at a time and, when enabled, the schedules.
  void Work();
  // One training run, in steps: a dataset's model, or the fleet's models and then a scoring.
  class RunProgress;
  Status Execute(storage::TenantId tenant, const std::string& run_id, const TrainingRequest& r);
  Status TrainOnDataset(storage::TenantId tenant, const std::string& run_id,
                        const TrainingRequest& request, const FitOptions& fit_options,
                        const LabelOptions& label_options, RunProgress& progress);
  Status TrainOnFleet(storage::TenantId tenant, const std::string& run_id,
                      const TrainingRequest& request, const FitOptions& fit_options,
                      LabelOptions label_options, RunProgress& progress);
  Result<std::pair<int64_t, int64_t>> FleetDays(storage::TenantId tenant, const Fleet& fleet) const;
  // Adds a model with the distribution of `reference_rows` as its drift reference.
  Status RegisterModel(storage::TenantId tenant, ModelInfo info, const std::string& json,
                       Matrix reference_rows, std::span<const uint32_t> reference_assets,
                       RunProgress& progress);
  // The tenant's champions, compiled once per model; FailedPrecondition when there are none.
  struct Champion {
    std::string target;
    ModelInfo info;
    std::shared_ptr<const Forest> forest;
  };
  Result<std::vector<Champion>> Champions(storage::TenantId tenant);
  // The rows `query` asks for (its metrics are each champion's), scored by every champion: one
  // prediction per (asset, day), in asset then day order.
  Result<std::vector<Prediction>> ScoreRows(const Fleet& fleet, std::span<const Champion> champions,
                                            FeatureQuery query, int64_t scored_ns);
  Result<std::vector<Prediction>> ScoreFleet(const Fleet& fleet,
                                             std::span<const std::string> asset_ids,
                                             std::optional<int64_t> as_of_ns, bool record);
  // Drift of each champion's features: its training rows against the fleet's 30 days to
  // `last_day`, recorded and logged.
  Status RecordDrift(const Fleet& fleet, std::string_view tenant_name, int64_t last_day,
                     int64_t now_ns);
  // The days before `today` (backfill_days back, none before the fleet's first data) that have no
  // fleet record: each scored as of its end and kept as a backfilled FleetDay.
  Status BackfillFleetDays(const Fleet& fleet, int64_t today);
  // A model compiled once and kept (models never change, so the cache never goes stale).
  Result<std::shared_ptr<const Forest>> Compiled(storage::TenantId tenant, const std::string& id);

  storage::Storage* const storage_;
  const FleetSource fleet_;
  const EngineOptions options_;
  Registry registry_;
  std::unique_ptr<State> state_;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;
Registry& Engine::registry() { return impl_->registry_; }
const EngineOptions& Engine::options() const { return impl_->options_; }

Engine::Stats Engine::GetStats() const {
  MutexLock l(&impl_->state_->mu);
  Stats s = impl_->state_->stats;
  s.runs_queued = impl_->state_->queue.size();
  s.runs_running = impl_->state_->active.size() - impl_->state_->queue.size();
  return s;
}

Result<RunInfo> Engine::Submit(storage::TenantId tenant, TrainingRequest request) {
  return impl_->Submit(tenant, std::move(request));
}
Result<RunInfo> Engine::GetRun(storage::TenantId tenant, std::string_view id) const {
  return impl_->GetRun(tenant, id);
}
Result<std::vector<RunInfo>> Engine::ListRuns(storage::TenantId tenant, size_t limit) const {
  return impl_->ListRuns(tenant, limit);
}
Result<RunInfo> Engine::Wait(storage::TenantId tenant, std::string_view id) const {
  return impl_->Wait(tenant, id);
}
Result<std::vector<Prediction>> Engine::Score(storage::TenantId tenant,
                                              std::span<const std::string> asset_ids,
                                              std::optional<int64_t> as_of_ns, bool record) {
  return impl_->Score(tenant, asset_ids, as_of_ns, record);
}
Result<std::vector<Engine::GivenPrediction>> Engine::PredictGiven(storage::TenantId tenant,
                                                                  std::string_view target,
                                                                  std::string_view model_id,
                                                                  const Dataset& rows) {
  return impl_->PredictGiven(tenant, target, model_id, rows);
}
Result<std::vector<Prediction>> Engine::History(storage::TenantId tenant, std::string_view asset_id,
                                                int64_t from_ns, int64_t to_ns,
                                                size_t limit) const {
  return impl_->History(tenant, asset_id, from_ns, to_ns, limit);
}
Result<std::vector<FeatureDrift>> Engine::LatestDrift(storage::TenantId tenant,
                                                      std::string_view model_id) const {
  return impl_->LatestDrift(tenant, model_id);
}
Result<std::vector<Prediction>> Engine::LatestPredictions(storage::TenantId tenant) const {
  auto records = impl_->storage_->ScanRecords(tenant, kLatest, {});
  if (!records.ok()) return records.status();
  std::vector<Prediction> out;
  out.reserve(records->size());
  for (const auto& [id, json] : *records) {
    auto p = DecodePrediction(json);
    if (!p.ok()) return p.status();
    out.push_back(std::move(p).value());
  }
  return out;
}
Result<std::vector<FleetDay>> Engine::FleetHistory(storage::TenantId tenant, int64_t from_ns,
                                                   int64_t to_ns) const {
  return impl_->FleetHistory(tenant, from_ns, to_ns);
}
Status Engine::RunSchedules(int64_t now_ns) { return impl_->RunSchedules(now_ns); }

Result<std::unique_ptr<Engine>> Engine::Start(storage::Storage* storage,
                                              const EngineOptions& options) {
  return Start(
      storage,
      [storage, tag = options.asset_tag](storage::TenantId t) {
        return LoadFleet(*storage, t, tag);
      },
      options);
}

Result<std::unique_ptr<Engine>> Engine::Start(storage::Storage* storage, FleetSource fleet,
                                              const EngineOptions& options) {
  auto impl = std::make_unique<Impl>(storage, std::move(fleet), options);
  for (const auto& [tenant, name] : storage->ListTenants()) {
    auto runs = storage->ScanRecords(tenant, kRun, {});
    if (!runs.ok()) return runs.status();
    for (const auto& [id, json] : *runs) {
      auto run = DecodeRun(json);
      if (!run.ok() || (run->status != "queued" && run->status != "running")) continue;
      run->status = "failed";
      run->error = "interrupted: the server stopped before the run finished";
      run->finished_ns = storage->clock().NowNs();
      const std::string value = EncodeRun(*run);
      const storage::Storage::RecordWrite write{kRun, id, value};
      if (Status s = storage->WriteRecords(tenant, {&write, 1}); !s.ok()) return s;
    }
  }
  impl->state_->worker = std::thread([i = impl.get()] { i->Work(); });
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Impl::~Impl() {
  {
    MutexLock lock(&state_->mu);
    state_->stop = true;
  }
  state_->wake.NotifyAll();
  if (state_->worker.joinable()) state_->worker.join();
}

Result<RunInfo> Engine::Impl::Submit(storage::TenantId tenant, TrainingRequest request) {
  RunInfo run;
  if (request.dataset) {
    const Dataset& d = *request.dataset;
    if (!ValidTargetName(request.dataset_target) || IsFleetTarget(request.dataset_target)) {
      return Status::InvalidArgument(
          "target: a dataset's model needs its own name of 1..64 [a-z0-9_-], not a fleet "
          "target");
    }
    if (d.features.empty() || d.values.size() % d.features.size() != 0 ||
        d.labels.size() != d.rows()) {
      return Status::InvalidArgument("dataset: every row needs one value per feature and a label");
    }
    if (d.rows() < 10) return Status::InvalidArgument("dataset: at least 10 rows are needed");
    for (float l : d.labels) {
      if (!std::isfinite(l) ||
          (request.dataset_objective == Objective::kBinaryLogistic && l != 0 && l != 1)) {
        return Status::InvalidArgument("dataset: labels must be 0 or 1 (binary) or finite");
      }
    }
    run.targets = {request.dataset_target};
  } else {
    if (request.targets.empty())
      request.targets.assign(std::begin(kFleetTargets), std::end(kFleetTargets));
    for (const std::string& t : request.targets) {
      if (!IsFleetTarget(t)) {
        return Status::InvalidArgument("targets: '" + t +
                                       "' is not one of fails_7d, fails_30d, rul_days");
      }
    }
    run.targets = request.targets;
  }
  if (request.rul_cap_days && !(*request.rul_cap_days >= 1 && *request.rul_cap_days <= 3650)) {
    return Status::InvalidArgument("rul_cap_days: between 1 and 3650");
  }
  run.created_ns = storage_->clock().NowNs();
  run.id = "run_" + Hex16(run.created_ns) + Hex16(state_->counter.fetch_add(1)).substr(12);
  run.status = "queued";
  run.stage = "queued";
  run.actor = request.actor;
  {
    MutexLock lock(&state_->mu);
    if (state_->queue.size() >= options_.max_queued_runs) {
      return Status::ResourceExhausted("training queue full (" +
                                       std::to_string(options_.max_queued_runs) + " runs)");
    }
    const std::string value = EncodeRun(run);
    const storage::Storage::RecordWrite write{kRun, run.id, value};
    if (Status s = storage_->WriteRecords(tenant, {&write, 1}); !s.ok()) return s;
    state_->active[{tenant, run.id}] = run;
    state_->queue.push_back({tenant, run.id, std::move(request)});
  }
  state_->wake.NotifyAll();
  return run;
}

Result<RunInfo> Engine::Impl::GetRun(storage::TenantId tenant, std::string_view id) const {
  {
    MutexLock lock(&state_->mu);
    auto it = state_->active.find({tenant, std::string(id)});
    if (it != state_->active.end()) return it->second;
  }
  auto json = storage_->GetRecord(tenant, kRun, id);
  if (!json.ok()) {
    if (json.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("no training run '" + std::string(id) + "'");
    }
    return json.status();
  }
  return DecodeRun(*json);
}

Result<std::vector<RunInfo>> Engine::Impl::ListRuns(storage::TenantId tenant, size_t limit) const {
  storage::Storage::ScanOptions scan;
  scan.limit = limit;
  scan.reverse = true;
  auto records = storage_->ScanRecords(tenant, kRun, scan);
  if (!records.ok()) return records.status();
  std::vector<RunInfo> out;
  for (const auto& [id, json] : *records) {
    auto run = GetRun(tenant, id);
    if (run.ok()) out.push_back(std::move(run).value());
  }
  return out;
}

Result<RunInfo> Engine::Impl::Wait(storage::TenantId tenant, std::string_view id) const {
  {
    MutexLock lock(&state_->mu);
    while (!state_->stop && state_->active.contains({tenant, std::string(id)})) {
      state_->done.Wait(&state_->mu);
    }
  }
  return GetRun(tenant, id);
}

void Engine::Impl::Work() {
  auto next_tick = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  MutexLock lock(&state_->mu);
  while (!state_->stop) {
    if (!state_->queue.empty()) {
      State::Job job = std::move(state_->queue.front());
      state_->queue.pop_front();
      RunInfo& run = state_->active[{job.tenant, job.id}];
      run.status = "running";
      run.stage = "reading";
      run.started_ns = storage_->clock().NowNs();
      lock.Unlock();
      const auto started = std::chrono::steady_clock::now();
      Status s = Execute(job.tenant, job.id, job.request);
      lock.Lock();
      ++(s.ok() ? state_->stats.runs_succeeded : state_->stats.runs_failed);
      state_->stats.last_run_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      RunInfo done = state_->active[{job.tenant, job.id}];
      done.finished_ns = storage_->clock().NowNs();
      done.status = s.ok() ? "succeeded" : "failed";
      done.error = s.ok() ? "" : std::string(s.message());
      done.stage = s.ok() ? "done" : "failed";
      if (s.ok()) done.progress = 1;
      const std::string value = EncodeRun(done);
      const storage::Storage::RecordWrite write{kRun, job.id, value};
      if (Status w = storage_->WriteRecords(job.tenant, {&write, 1}); !w.ok()) {
        log::Error("ml: cannot record training run {}: {}", job.id, w.ToString());
      }
      if (s.ok()) {
        log::Info("ml: training run {} succeeded: {}", job.id, fmt::join(done.notes, "; "));
      } else {
        log::Warn("ml: training run {} failed: {}", job.id, s.ToString());
      }
      state_->active.erase({job.tenant, job.id});
      state_->done.NotifyAll();
      continue;
    }
    if (options_.schedules && std::chrono::steady_clock::now() >= next_tick) {
      lock.Unlock();
      if (Status s = RunSchedules(storage_->clock().NowNs()); !s.ok())
        log::Warn("ml: schedules: {}", s.ToString());
      lock.Lock();
      next_tick = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      continue;
    }
    state_->wake.WaitUntil(&state_->mu, next_tick);
  }
  state_->done.NotifyAll();
}

// A run's progress, kept in memory where readers poll it (only start and end are written).
// Stages of a run report a fraction of their own share [base, base + share) of the whole.
class Engine::Impl::RunProgress {
 public:
  RunProgress(State* state, storage::TenantId tenant, std::string run_id)
      : state_(state), key_{tenant, std::move(run_id)} {}
  // The stage and its fraction done; false once the engine is stopping (the run should end).
  bool Report(std::string_view stage, double fraction) {
    MutexLock lock(&state_->mu);
    RunInfo& run = state_->active[key_];
    run.stage = std::string(stage);
    run.progress = base_ + share_ * std::clamp(fraction, 0.0, 1.0);
    return !state_->stop;
  }
  Progress AsCallback() {
    return [this](std::string_view stage, double fraction) { return Report(stage, fraction); };
  }
  void Share(double base, double share) {
    base_ = base;
    share_ = share;
  }
  void Note(std::string text) {
    MutexLock lock(&state_->mu);
    state_->active[key_].notes.push_back(std::move(text));
  }
  void Trained(std::string model_id) {
    MutexLock lock(&state_->mu);
    state_->active[key_].models.push_back(std::move(model_id));
  }

 private:
  State* const state_;
  const std::pair<storage::TenantId, std::string> key_;
  double base_ = 0, share_ = 1;
};

Status Engine::Impl::Execute(storage::TenantId tenant, const std::string& run_id,
                             const TrainingRequest& request) {
  RunProgress progress(state_.get(), tenant, run_id);
  const FitOptions& fit = request.fit ? *request.fit : options_.fit;
  LabelOptions labels = options_.labels;
  if (request.rul_cap_days) labels.rul_cap_days = *request.rul_cap_days;
  if (request.dataset) return TrainOnDataset(tenant, run_id, request, fit, labels, progress);
  if (Status s = TrainOnFleet(tenant, run_id, request, fit, labels, progress); !s.ok()) return s;
  progress.Report("scoring", 1);
  auto scored = Score(tenant, {}, std::nullopt, true);
  if (!scored.ok() && scored.status().code() != Status::Code::kFailedPrecondition) {
    return scored.status();
  }
  return Status::OK();
}

// A challenger replaces the champion only by the margin; the first model of a target wins.
Status Engine::Impl::RegisterModel(storage::TenantId tenant, ModelInfo info,
                                   const std::string& json, Matrix reference_rows,
                                   std::span<const uint32_t> reference_assets,
                                   RunProgress& progress) {
  const std::vector<FeatureReference> reference =
      DescribeFeatures(reference_rows, reference_assets);
  auto added = registry_.Add(tenant, std::move(info), json, reference);
  if (!added.ok()) return added.status();
  progress.Trained(added->id);
  auto champion_id = registry_.Champion(tenant, added->target);
  std::string verdict;
  bool promote = !champion_id.ok();
  if (champion_id.ok()) {
    auto champion = registry_.Get(tenant, *champion_id);
    if (!champion.ok()) return champion.status();
    const double margin = options_.promotion_margin;
    const Evaluation &mine = added->evaluation, &theirs = champion->evaluation;
    promote = added->objective == Objective::kBinaryLogistic
                  ? !(theirs.auc_pr >= 0) || mine.auc_pr >= theirs.auc_pr * (1 + margin)
                  : !(theirs.rmse >= 0) || mine.rmse <= theirs.rmse * (1 - margin);
    verdict = fmt::format(" (champion {}: {})", champion->id,
                          added->objective == Objective::kBinaryLogistic
                              ? fmt::format("AUC-PR {:.4f}", theirs.auc_pr)
                              : fmt::format("RMSE {:.3f}", theirs.rmse));
  }
  const std::string score = added->objective == Objective::kBinaryLogistic
                                ? fmt::format("AUC-PR {:.4f}", added->evaluation.auc_pr)
                                : fmt::format("RMSE {:.3f}", added->evaluation.rmse);
  if (promote) {
    if (Status s = registry_.Promote(tenant, added->id, "auto"); !s.ok()) return s;
  }
  progress.Note(fmt::format("{}: {} {} {}{}", added->target, added->id, score,
                            promote ? "promoted" : "kept as challenger", verdict));
  return Status::OK();
}

// A model of given rows, validated on a stratified random share: there is no time to split by.
Status Engine::Impl::TrainOnDataset(storage::TenantId tenant, const std::string& run_id,
                                    const TrainingRequest& request, const FitOptions& fit_options,
                                    const LabelOptions& label_options, RunProgress& progress) {
  const Dataset& d = *request.dataset;
  const size_t cols = d.features.size(), n = d.rows();
  std::mt19937_64 rng(request.seed);
  std::vector<size_t> groups[2];
  for (size_t r = 0; r < n; ++r) {
    groups[request.dataset_objective == Objective::kBinaryLogistic && d.labels[r] > 0.5f].push_back(
        r);
  }
  std::vector<bool> valid(n, false);
  for (auto& g : groups) {
    std::shuffle(g.begin(), g.end(), rng);
    const size_t k = static_cast<size_t>(std::llround(g.size() * options_.validation_fraction));
    for (size_t i = 0; i < k; ++i) valid[g[i]] = true;
  }
  Rows train, check;
  for (size_t r = 0; r < n; ++r) {
    Rows& into = valid[r] ? check : train;
    into.index.push_back(r);
    into.labels.push_back(d.labels[r]);
    into.values.insert(into.values.end(), d.values.begin() + r * cols,
                       d.values.begin() + (r + 1) * cols);
  }
  progress.Report("training", 0);
  progress.Share(0, 0.8);
  auto fit =
      FitWithEarlyStopping(train.matrix(cols), train.labels, check.matrix(cols), check.labels,
                           request.dataset_objective, fit_options, progress.AsCallback());
  if (!fit.ok()) return fit.status();
  progress.Report("refitting", 1);
  TrainOptions refit = fit_options.booster;
  refit.objective = request.dataset_objective;
  refit.rounds = fit->rounds;
  refit.scale_pos_weight = fit->scale_pos_weight;
  const Matrix all{d.values.data(), n, cols};
  auto json = Train(all, d.labels, refit);
  if (!json.ok()) return json.status();
  ModelInfo info;
  info.target = request.dataset_target;
  info.objective = request.dataset_objective;
  info.run_id = run_id;
  info.params = Params(fit_options, fit->scale_pos_weight, label_options);
  info.features = d.features;
  info.train_rows = train.index.size();
  info.validation_rows = check.index.size();
  info.rounds = fit->rounds;
  info.evaluation = fit->validation;
  return RegisterModel(tenant, std::move(info), *json, all, {}, progress);
}

// The days a fleet run learns from: the data's last day, and its first within history_days of
// it. FailedPrecondition when the tenant has no readings.
Result<std::pair<int64_t, int64_t>> Engine::Impl::FleetDays(storage::TenantId tenant,
                                                            const Fleet& fleet) const {
  int64_t last_day = -1;
  for (const FleetAsset& a : fleet.assets) {
    last_day = std::max(last_day, LatestDay(*storage_, tenant, a));
  }
  if (last_day < 0) return Status::FailedPrecondition("the tenant has no readings");
  int64_t first_day = last_day;
  for (const FleetAsset& a : fleet.assets) {
    if (a.metrics.empty()) continue;
    auto days = storage_->ReadDownsampled(tenant, a.metrics.front().second,
                                          (last_day - options_.history_days) * kDayNs,
                                          (last_day + 1) * kDayNs, std::chrono::hours(24));
    if (!days.ok()) return days.status();
    if (!days->empty()) first_day = std::min(first_day, DayOf(days->front().start_ns));
  }
  return std::pair{first_day, last_day};
}

namespace {

// Per failure caught, the earliest true positive before it, in days; the median over failures
// (0 when none was caught). `failures` holds each asset's failure times, sorted.
double MedianLeadDays(const FeatureTable& table, const Rows& check, std::span<const float> scores,
                      double threshold, const std::vector<std::vector<int64_t>>& failures) {
  std::map<std::pair<uint32_t, int64_t>, double> lead;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (check.labels[i] < 0.5f || scores[i] < threshold) continue;
    const size_t r = check.index[i];
    const int64_t end_ns = (table.day[r] + 1) * kDayNs;
    const auto& f = failures[table.asset[r]];
    auto next = std::lower_bound(f.begin(), f.end(), end_ns);
    if (next == f.end()) continue;
    double& l = lead[{table.asset[r], *next}];
    l = std::max(l, static_cast<double>(*next - end_ns) / kDayNs);
  }
  std::vector<double> leads;
  for (const auto& [event, days] : lead) leads.push_back(days);
  if (leads.empty()) return 0;
  std::sort(leads.begin(), leads.end());
  const size_t m = leads.size() / 2;
  return leads.size() % 2 ? leads[m] : (leads[m - 1] + leads[m]) / 2;
}

}  // namespace

// A model per fleet target: labels from maintenance records, a time-based split, early stopping
// on the later share, then a refit on every labelled row.
Status Engine::Impl::TrainOnFleet(storage::TenantId tenant, const std::string& run_id,
                                  const TrainingRequest& request, const FitOptions& fit_options,
                                  LabelOptions label_options, RunProgress& progress) {
  progress.Report("reading", 0);
  auto fleet = fleet_(tenant);
  if (!fleet.ok()) return fleet.status();
  if (fleet->assets.empty()) return Status::FailedPrecondition("the tenant has no assets");
  auto span = FleetDays(tenant, *fleet);
  if (!span.ok()) return span.status();
  const auto [first_day, last_day] = *span;
  progress.Report("features", 0.02);
  FeatureQuery query;
  query.from_day = first_day;
  query.to_day = last_day;
  auto table = BuildFeatures(*storage_, *fleet, query);
  if (!table.ok()) return table.status();
  const int64_t split_day =
      first_day + static_cast<int64_t>(
                      std::floor((last_day - first_day + 1) * (1 - options_.validation_fraction)));
  // Training labels only know what was known at the split; validation and the final refit
  // know everything.
  label_options.known_until_day = split_day - 1;
  const Labels before = MakeLabels(*fleet, *table, label_options);
  label_options.known_until_day = last_day;
  const Labels after = MakeLabels(*fleet, *table, label_options);
  const size_t cols = table->names.size();
  // The next failure after each row, for lead times.
  std::vector<std::vector<int64_t>> failures(fleet->assets.size());
  for (const FleetEvent& e : fleet->maintenance) {
    if (e.failure && e.asset < failures.size()) failures[e.asset].push_back(e.ts_ns);
  }
  for (auto& f : failures) std::sort(f.begin(), f.end());

  std::vector<std::string> skipped;
  size_t done = 0;
  for (const std::string& target : request.targets) {
    const bool binary = target != "rul_days";
    auto pick = [&](const Labels& l) -> const std::vector<float>& {
      return target == "fails_7d" ? l.fails_7d : target == "fails_30d" ? l.fails_30d : l.rul_days;
    };
    progress.Share(0.05 + 0.9 * done / request.targets.size(), 0.9 / request.targets.size());
    ++done;
    const Rows train = Select(*table, pick(before), INT64_MIN, split_day);
    const Rows check = Select(*table, pick(after), split_day, INT64_MAX);
    auto fit =
        FitWithEarlyStopping(train.matrix(cols), train.labels, check.matrix(cols), check.labels,
                             binary ? Objective::kBinaryLogistic : Objective::kRegression,
                             fit_options, progress.AsCallback());
    if (!fit.ok()) {
      if (fit.status().code() == Status::Code::kBusy) return fit.status();
      skipped.push_back(target + ": " + std::string(fit.status().message()));
      progress.Note(skipped.back());
      continue;
    }
    Evaluation evaluation = fit->validation;
    if (binary) {
      auto forest = Forest::Compile(fit->model_json);
      if (!forest.ok()) return forest.status();
      std::vector<float> scores(check.index.size());
      forest->Predict(check.matrix(cols), scores);
      const double lead = MedianLeadDays(*table, check, scores, evaluation.threshold, failures);
      if (lead > 0) evaluation.median_lead_days = lead;
    }
    // The stored model: the rounds early stopping chose, refit on every labelled row.
    progress.Report("refitting", 1);
    const Rows all = Select(*table, pick(after), INT64_MIN, INT64_MAX);
    TrainOptions refit = fit_options.booster;
    refit.objective = binary ? Objective::kBinaryLogistic : Objective::kRegression;
    refit.rounds = fit->rounds;
    refit.scale_pos_weight = fit->scale_pos_weight;
    auto json = Train(all.matrix(cols), all.labels, refit);
    if (!json.ok()) return json.status();
    ModelInfo info;
    info.target = target;
    info.objective = refit.objective;
    info.run_id = run_id;
    info.params = Params(fit_options, fit->scale_pos_weight, label_options);
    info.metrics = table->metrics;
    info.features = table->names;
    info.data_from_ns = first_day * kDayNs;
    info.data_to_ns = (last_day + 1) * kDayNs;
    info.split_ns = split_day * kDayNs;
    info.train_rows = train.index.size();
    info.validation_rows = check.index.size();
    info.rounds = fit->rounds;
    info.evaluation = evaluation;
    // The drift reference: every row of the model's last month, labelled or not
    // (EngineOptions::drift_after_days).
    const FeatureTable last_month = DaysOf(*table, last_day - 29, last_day);
    if (Status s = RegisterModel(tenant, std::move(info), *json, last_month.matrix(),
                                 last_month.asset, progress);
        !s.ok()) {
      return s;
    }
  }
  if (skipped.size() == request.targets.size()) {
    return Status::FailedPrecondition("no model trained: " +
                                      fmt::format("{}", fmt::join(skipped, "; ")));
  }
  return Status::OK();
}

Result<std::shared_ptr<const Forest>> Engine::Impl::Compiled(storage::TenantId tenant,
                                                             const std::string& id) {
  {
    MutexLock lock(&state_->forests_mu);
    auto it = state_->forests.find({tenant, id});
    if (it != state_->forests.end()) return it->second;
  }
  auto json = registry_.ModelJson(tenant, id);
  if (!json.ok()) return json.status();
  auto compiled = Forest::Compile(*json);
  if (!compiled.ok()) return compiled.status();
  auto forest = std::make_shared<const Forest>(std::move(compiled).value());
  MutexLock lock(&state_->forests_mu);
  state_->forests[{tenant, id}] = forest;
  return std::shared_ptr<const Forest>(forest);
}

Result<std::vector<Prediction>> Engine::Impl::Score(storage::TenantId tenant,
                                                    std::span<const std::string> asset_ids,
                                                    std::optional<int64_t> as_of_ns, bool record) {
  const auto started = std::chrono::steady_clock::now();
  auto fleet = fleet_(tenant);
  if (!fleet.ok()) return fleet.status();
  Result<std::vector<Prediction>> scored = ScoreFleet(*fleet, asset_ids, as_of_ns, record);
  if (scored.ok()) {
    MutexLock l(&state_->mu);
    ++state_->stats.scorings;
    state_->stats.assets_scored += scored->size();
    state_->stats.last_scoring_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return scored;
}

Result<std::vector<Engine::Impl::Champion>> Engine::Impl::Champions(storage::TenantId tenant) {
  std::vector<Champion> champions;
  for (std::string_view target : kFleetTargets) {
    auto id = registry_.Champion(tenant, target);
    if (!id.ok()) {
      if (id.status().code() == Status::Code::kNotFound) continue;
      return id.status();
    }
    auto info = registry_.Get(tenant, *id);
    if (!info.ok()) return info.status();
    auto forest = Compiled(tenant, *id);
    if (!forest.ok()) return forest.status();
    champions.push_back({std::string(target), std::move(info).value(), *forest});
  }
  if (champions.empty()) {
    return Status::FailedPrecondition("no trained model yet: start a training run first");
  }
  return champions;
}

Result<std::vector<Prediction>> Engine::Impl::ScoreRows(const Fleet& fleet,
                                                        std::span<const Champion> champions,
                                                        FeatureQuery query, int64_t scored_ns) {
  // One prediction per (asset, day) row; every champion's table has the same rows.
  std::map<std::pair<uint32_t, int64_t>, Prediction> scored;
  auto at = [&](uint32_t asset, int64_t day) -> Prediction& {
    auto [it, fresh] = scored.try_emplace({asset, day});
    if (fresh) {
      Prediction& p = it->second;
      p.asset_id = fleet.assets[asset].id;
      p.as_of_ns = (day + 1) * kDayNs;
      p.scored_ns = scored_ns;
      p.fails_7d = p.fails_30d = p.rul_days = kNaNf;
    }
    return it->second;
  };
  // Scoring as of given days: a prediction for every asset asked for, whatever its features.
  for (size_t a = 0; a < query.as_of_day.size(); ++a) {
    if (query.as_of_day[a] >= 0) at(static_cast<uint32_t>(a), query.as_of_day[a]);
  }
  // Explanations come from the 30-day model, else the 7-day one, else RUL.
  auto explainer = std::min_element(champions.begin(), champions.end(), [](auto& x, auto& y) {
    auto rank = [](std::string_view t) { return t == "fails_30d" ? 0 : t == "fails_7d" ? 1 : 2; };
    return rank(x.target) < rank(y.target);
  });
  std::map<std::vector<std::string>, FeatureTable> tables;  // by metric columns
  for (const Champion& c : champions) {
    auto it = tables.find(c.info.metrics);
    if (it == tables.end()) {
      query.metrics = c.info.metrics;
      auto table = BuildFeatures(*storage_, fleet, query);
      if (!table.ok()) return table.status();
      it = tables.emplace(c.info.metrics, std::move(table).value()).first;
    }
    // Models trained before a feature was added keep scoring on the features they know.
    FeatureTable t = it->second;
    if (Status s = SelectFeatures(&t, c.info.features); !s.ok()) {
      return Status::FailedPrecondition("model " + c.info.id + ": " + std::string(s.message()) +
                                        "; train a new one");
    }
    std::vector<float> values(t.rows());
    c.forest->Predict(t.matrix(), values);
    for (size_t r = 0; r < t.rows(); ++r) {
      Prediction& p = at(t.asset[r], t.day[r]);
      (c.target == "fails_7d"    ? p.fails_7d
       : c.target == "fails_30d" ? p.fails_30d
                                 : p.rul_days) = values[r];
      p.models.emplace_back(c.target, c.info.id);
      if (&c == &*explainer) {
        p.factors = TopFactors(*c.forest, t.names, t.values.data() + r * t.names.size(), 3);
      }
    }
  }
  const RiskThresholds& risk = options_.risk;
  std::vector<Prediction> result;
  result.reserve(scored.size());
  for (auto& [row, p] : scored) {
    const float p7 = std::isnan(p.fails_7d) ? 0 : p.fails_7d;
    const float p30 = std::isnan(p.fails_30d) ? p7 : std::max(p.fails_30d, p7);
    double health = 100 * (1 - p30);
    if (std::isnan(p.fails_7d) && std::isnan(p.fails_30d) && !std::isnan(p.rul_days)) {
      health = 100 * std::clamp(p.rul_days / options_.labels.rul_cap_days, 0.0, 1.0);
    }
    p.health = static_cast<int>(std::lround(std::clamp(health, 0.0, 100.0)));
    if (std::isnan(p.fails_7d) && std::isnan(p.fails_30d)) {
      p.risk = p.rul_days <= 7    ? "critical"
               : p.rul_days <= 30 ? "high"
               : p.rul_days <= 60 ? "medium"
                                  : "low";
    } else {
      p.risk = p7 >= risk.critical_7d                       ? "critical"
               : p7 >= risk.high_7d || p30 >= risk.high_30d ? "high"
               : p30 >= risk.medium_30d                     ? "medium"
                                                            : "low";
    }
    result.push_back(std::move(p));
  }
  return result;
}

Result<std::vector<Prediction>> Engine::Impl::ScoreFleet(const Fleet& fleet,
                                                         std::span<const std::string> asset_ids,
                                                         std::optional<int64_t> as_of_ns,
                                                         bool record) {
  const storage::TenantId tenant = fleet.tenant;
  auto champions = Champions(tenant);
  if (!champions.ok()) return champions.status();

  // Which assets, as of which day.
  std::vector<int64_t> as_of(fleet.assets.size(), -1);
  std::vector<bool> wanted(fleet.assets.size(), asset_ids.empty());
  for (const std::string& id : asset_ids) {
    auto it = std::find_if(fleet.assets.begin(), fleet.assets.end(),
                           [&](const FleetAsset& a) { return a.id == id; });
    if (it == fleet.assets.end()) return Status::NotFound("no asset '" + id + "'");
    wanted[it - fleet.assets.begin()] = true;
  }
  for (size_t a = 0; a < fleet.assets.size(); ++a) {
    if (!wanted[a]) continue;
    as_of[a] = as_of_ns ? DayOf(*as_of_ns) : LatestDay(*storage_, tenant, fleet.assets[a]);
  }
  const int64_t scored_ns = storage_->clock().NowNs();
  FeatureQuery query;
  query.as_of_day = std::move(as_of);
  auto scored = ScoreRows(fleet, *champions, std::move(query), scored_ns);
  if (!scored.ok()) return scored.status();
  std::vector<Prediction>& result = *scored;
  if (record && !result.empty()) {
    std::vector<std::string> ids, values;
    std::vector<storage::Storage::RecordWrite> writes;
    for (const Prediction& p : result) {
      ids.push_back(HistoryId(p.asset_id, p.scored_ns));
      values.push_back(EncodePrediction(p));
    }
    for (size_t i = 0; i < result.size(); ++i) {
      writes.push_back({kPrediction, ids[i], values[i]});
      writes.push_back({kLatest, result[i].asset_id, values[i]});
    }
    std::string day_id, day_value;
    if (asset_ids.empty()) {
      const int64_t today = DayOf(scored_ns);
      day_id = FleetDayId(today);
      day_value = EncodeFleetDay(SummarizeDay(today, scored_ns, result, false));
      writes.push_back({kFleetDay, day_id, day_value});
    }
    if (Status s = storage_->WriteRecords(tenant, writes); !s.ok()) return s;
  }
  return scored;
}

Result<std::vector<Engine::GivenPrediction>> Engine::Impl::PredictGiven(storage::TenantId tenant,
                                                                        std::string_view target,
                                                                        std::string_view model_id,
                                                                        const Dataset& rows) {
  std::string id(model_id);
  if (id.empty()) {
    auto champion = registry_.Champion(tenant, target);
    if (!champion.ok()) return champion.status();
    id = *champion;
  }
  auto info = registry_.Get(tenant, id);
  if (!info.ok()) return info.status();
  if (!target.empty() && info->target != target) {
    return Status::InvalidArgument("model " + id + " predicts " + info->target + ", not " +
                                   std::string(target));
  }
  // The given columns in the model's order; absent ones are missing.
  std::vector<int> column(info->features.size(), -1);
  for (size_t g = 0; g < rows.features.size(); ++g) {
    auto it = std::find(info->features.begin(), info->features.end(), rows.features[g]);
    if (it == info->features.end()) {
      return Status::InvalidArgument("features: model " + id + " has no feature '" +
                                     rows.features[g] + "'");
    }
    column[it - info->features.begin()] = static_cast<int>(g);
  }
  auto compiled = Compiled(tenant, id);
  if (!compiled.ok()) return compiled.status();
  const std::shared_ptr<const Forest> forest = *compiled;
  const size_t n = rows.rows(), cols = info->features.size(), given = rows.features.size();
  std::vector<float> x(n * cols, kNaNf);
  for (size_t r = 0; r < n; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      if (column[c] >= 0) x[r * cols + c] = rows.values[r * given + column[c]];
    }
  }
  std::vector<float> values(n);
  forest->Predict({x.data(), n, cols}, values);
  std::vector<GivenPrediction> out(n);
  for (size_t r = 0; r < n; ++r) {
    out[r].value = values[r];
    out[r].factors = TopFactors(*forest, info->features, x.data() + r * cols, 3);
  }
  return out;
}

Result<std::vector<Prediction>> Engine::Impl::History(storage::TenantId tenant,
                                                      std::string_view asset_id, int64_t from_ns,
                                                      int64_t to_ns, size_t limit) const {
  // Newest first: scan backwards from just past the asset's last id.
  std::string prefix(asset_id);
  prefix += '\0';
  std::string after = HistoryId(asset_id, std::min(to_ns, storage::kMaxTimestampNs));
  std::vector<Prediction> out;
  while (out.size() < limit) {
    storage::Storage::ScanOptions scan;
    scan.after = after;
    scan.limit = 256;
    scan.reverse = true;
    auto page = storage_->ScanRecords(tenant, kPrediction, scan);
    if (!page.ok()) return page.status();
    for (const auto& [id, json] : *page) {
      if (!id.starts_with(prefix)) return out;
      auto p = DecodePrediction(json);
      if (!p.ok()) return p.status();
      if (p->scored_ns < from_ns) return out;
      if (p->scored_ns < to_ns) out.push_back(std::move(p).value());
      if (out.size() == limit) return out;
    }
    if (page->size() < 256) break;
    after = page->back().first;
  }
  return out;
}

Result<std::vector<FeatureDrift>> Engine::Impl::LatestDrift(storage::TenantId tenant,
                                                            std::string_view model_id) const {
  auto json = storage_->GetRecord(tenant, kDrift, model_id);
  if (!json.ok()) return json.status();
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  simdjson::dom::array features;
  if (parser.parse(*json).get(e) != simdjson::SUCCESS ||
      e["features"].get(features) != simdjson::SUCCESS) {
    return Status::Corruption("a drift record is not JSON");
  }
  std::vector<FeatureDrift> out;
  for (simdjson::dom::element f : features) {
    out.push_back({GetString(f, "feature"), GetDouble(f, "psi", 0), GetDouble(f, "ks", 0),
                   GetDouble(f, "ks_critical", 0)});
  }
  return out;
}

namespace {

// Features that move with the calendar by construction, measured but never alerted on: an
// asset's age, and trends (slopes and 30-day deltas), which follow the season's own trend. Until
// there is a year of history no month of the same season exists to compare them with.
bool FollowsTheCalendar(std::string_view feature) {
  return feature == "age_days" || feature.find(".slope_") != std::string_view::npos ||
         feature.find(".delta_") != std::string_view::npos;
}

}  // namespace

Status Engine::Impl::RecordDrift(const Fleet& fleet, std::string_view tenant_name, int64_t last_day,
                                 int64_t now_ns) {
  const storage::TenantId tenant = fleet.tenant;
  for (std::string_view target : kFleetTargets) {
    auto id = registry_.Champion(tenant, target);
    if (!id.ok()) continue;
    auto info = registry_.Get(tenant, *id);
    auto reference = registry_.Reference(tenant, *id);
    if (!info.ok() || !reference.ok()) continue;
    // The days scored since the model's data ended, at most a month: one day of a small fleet
    // is too few for 10 bins, and the reference is the model's own last month.
    const int64_t trained_last_day = info->data_to_ns / kDayNs - 1;
    if (last_day - trained_last_day < options_.drift_after_days) continue;
    FeatureQuery query;
    query.metrics = info->metrics;
    query.from_day = std::max(last_day - 29, trained_last_day + 1);
    query.to_day = last_day;
    auto table = BuildFeatures(*storage_, fleet, query);
    if (!table.ok()) return table.status();
    if (Status s = SelectFeatures(&*table, info->features); !s.ok()) return s;
    auto drift = MeasureDrift(*reference, table->names, table->matrix(), table->asset);
    std::sort(drift.begin(), drift.end(),
              [](const FeatureDrift& x, const FeatureDrift& y) { return x.psi > y.psi; });
    // The features the model's previous check already raised.
    std::set<std::string, std::less<>> raised;
    if (auto previous = storage_->GetRecord(tenant, kDrift, *id); previous.ok()) {
      simdjson::dom::parser parser;
      simdjson::dom::element e;
      simdjson::dom::array alert;
      if (parser.parse(*previous).get(e) == simdjson::SUCCESS &&
          e["alert"].get(alert) == simdjson::SUCCESS) {
        for (simdjson::dom::element f : alert) {
          std::string_view name;
          if (f.get(name) == simdjson::SUCCESS) raised.emplace(name);
        }
      }
    }
    JsonWriter w;
    w.BeginObject()
        .Field("model_id", *id)
        .Field("measured_ns", now_ns)
        .Field("rows", table->rows())
        .Key("features")
        .BeginArray();
    DriftAlert alert{
        tenant, std::string(tenant_name), *id, std::string(target), options_.drift_psi_alert, {},
        now_ns};
    std::vector<std::string> drifted;
    bool news = false;
    for (const FeatureDrift& d : drift) {
      w.BeginObject()
          .Field("feature", d.feature)
          .Field("psi", d.psi)
          .Field("ks", d.ks)
          .Field("ks_critical", d.ks_critical)
          .EndObject();
      if (d.psi <= options_.drift_psi_alert || d.ks <= d.ks_critical ||
          FollowsTheCalendar(d.feature)) {
        continue;
      }
      drifted.push_back(d.feature);
      alert.features.push_back(d);
      news = news || !raised.contains(d.feature);
    }
    const std::string value = w.EndArray().Array("alert", drifted).EndObject().Take();
    const storage::Storage::RecordWrite write{kDrift, *id, value};
    if (Status s = storage_->WriteRecords(tenant, {&write, 1}); !s.ok()) return s;
    if (!news) continue;
    const size_t shown = std::min<size_t>(drifted.size(), 5);
    log::Warn(
        "ml: drift alert for {} model {} ({}): {} features with PSI above {} and a "
        "significant KS: {}{}",
        tenant_name, *id, target, drifted.size(), options_.drift_psi_alert,
        fmt::join(drifted.begin(), drifted.begin() + shown, ", "),
        drifted.size() > shown ? ", ..." : "");
    if (options_.on_drift) options_.on_drift(alert);
  }
  return Status::OK();
}

Result<std::vector<FleetDay>> Engine::Impl::FleetHistory(storage::TenantId tenant, int64_t from_ns,
                                                         int64_t to_ns) const {
  const int64_t from_day = from_ns / kDayNs;
  const std::string after = from_day > 0 ? FleetDayId(from_day - 1) : std::string();
  storage::Storage::ScanOptions scan;
  scan.after = after;
  auto records = storage_->ScanRecords(tenant, kFleetDay, scan);
  if (!records.ok()) return records.status();
  std::vector<FleetDay> out;
  for (const auto& [id, json] : *records) {
    auto d = DecodeFleetDay(json);
    if (!d.ok()) return d.status();
    if (d->day_ns >= to_ns) break;
    if (d->day_ns >= from_ns) out.push_back(*d);
  }
  return out;
}

Status Engine::Impl::BackfillFleetDays(const Fleet& fleet, int64_t today) {
  if (options_.backfill_days <= 0) return Status::OK();
  auto days = FleetDays(fleet.tenant, fleet);
  if (!days.ok()) return days.status();
  const int64_t first = std::max(today - options_.backfill_days, days->first);
  auto kept = FleetHistory(fleet.tenant, first * kDayNs, today * kDayNs);
  if (!kept.ok()) return kept.status();
  std::set<int64_t> missing;
  for (int64_t day = first; day < today; ++day) missing.insert(day);
  for (const FleetDay& d : *kept) missing.erase(d.day_ns / kDayNs);
  if (missing.empty()) return Status::OK();
  auto champions = Champions(fleet.tenant);
  if (!champions.ok()) return champions.status();
  // A month of rows at a time keeps the feature table small at fleet scale.
  constexpr int64_t kChunkDays = 30;
  const int64_t scored_ns = storage_->clock().NowNs();
  size_t filled = 0;
  for (int64_t from = *missing.begin(); from <= *missing.rbegin(); from += kChunkDays) {
    FeatureQuery query;
    query.from_day = from;
    query.to_day = std::min(from + kChunkDays - 1, *missing.rbegin());
    auto scored = ScoreRows(fleet, *champions, std::move(query), scored_ns);
    if (!scored.ok()) return scored.status();
    std::map<int64_t, std::vector<Prediction>> by_day;
    for (Prediction& p : *scored) {
      const int64_t day = DayOf(p.as_of_ns) - 1;
      if (missing.contains(day)) by_day[day].push_back(std::move(p));
    }
    std::vector<std::string> ids, values;
    for (const auto& [day, predictions] : by_day) {
      ids.push_back(FleetDayId(day));
      values.push_back(EncodeFleetDay(SummarizeDay(day, scored_ns, predictions, true)));
    }
    std::vector<storage::Storage::RecordWrite> writes;
    for (size_t i = 0; i < ids.size(); ++i) writes.push_back({kFleetDay, ids[i], values[i]});
    if (Status s = storage_->WriteRecords(fleet.tenant, writes); !s.ok()) return s;
    filled += writes.size();
  }
  log::Info("ml: back-filled {} days of fleet history", filled);
  return Status::OK();
}

Status Engine::Impl::RunSchedules(int64_t now_ns) {
  const int64_t today = DayOf(now_ns);
  const int64_t retrain_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.retrain_interval).count();
  for (const auto& [tenant, name] : storage_->ListTenants()) {
    int64_t scored_day = INT64_MIN;
    if (auto state = storage_->GetRecord(tenant, kSchedule, "state"); state.ok()) {
      simdjson::dom::parser parser;
      simdjson::dom::element e;
      if (parser.parse(*state).get(e) == simdjson::SUCCESS) {
        scored_day = GetInt(e, "scored_day", INT64_MIN);
      }
    }
    // The week counts from the newest fleet run, whoever started it and however it ended.
    auto runs = ListRuns(tenant, kRunsScanned);
    if (!runs.ok()) return runs.status();
    int64_t trained_ns = 0;
    for (const RunInfo& r : *runs) {
      if (!r.targets.empty() && IsFleetTarget(r.targets.front())) {
        trained_ns = r.created_ns;
        break;
      }
    }
    const bool score = scored_day < today, retrain = now_ns - trained_ns >= retrain_ns;
    if (!score && !retrain) continue;
    auto fleet = fleet_(tenant);
    if (!fleet.ok()) return fleet.status();
    bool scored_today = false;
    if (score) {
      auto scored = ScoreFleet(*fleet, {}, std::nullopt, true);
      if (scored.ok()) {
        log::Info("ml: daily scoring of {}: {} assets", name, scored->size());
        scored_day = today;
        scored_today = true;
        int64_t last_day = INT64_MIN;
        for (const Prediction& p : *scored) last_day = std::max(last_day, DayOf(p.as_of_ns) - 1);
        if (Status s = RecordDrift(*fleet, name, last_day, now_ns); !s.ok()) return s;
        if (Status s = BackfillFleetDays(*fleet, today); !s.ok()) return s;
      } else if (scored.status().code() != Status::Code::kFailedPrecondition) {
        return scored.status();
      }
    }
    const bool failures = std::any_of(fleet->maintenance.begin(), fleet->maintenance.end(),
                                      [](const FleetEvent& e) { return e.failure; });
    if (retrain && failures) {
      TrainingRequest weekly;
      weekly.actor = "schedule";
      auto run = Submit(tenant, std::move(weekly));
      if (!run.ok()) return run.status();
      log::Info("ml: weekly retraining of {}: run {}", name, run->id);
    }
    if (scored_today) {
      JsonWriter w;
      const std::string value = w.BeginObject().Field("scored_day", scored_day).EndObject().Take();
      const storage::Storage::RecordWrite write{kSchedule, "state", value};
      if (Status s = storage_->WriteRecords(tenant, {&write, 1}); !s.ok()) return s;
    }
  }
  return Status::OK();
}

}  // namespace foresight::ml
