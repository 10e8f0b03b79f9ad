// ml/ml.h — models in-process: gradient-boosted trees trained through XGBoost's C API, and the
// compiled forest that scores them.
//
// Purpose: `Train` fits an XGBoost model (binary logistic or squared-error regression) on a dense
// feature matrix and returns it as XGBoost's JSON model. `Forest::Compile` turns such a model
// into flat arrays (every tree padded to a complete binary tree of the forest's depth, nodes in
// breadth-first order) and `Forest::Predict` evaluates blocks of rows tree by tree, branch-free,
// with AVX-512 or AVX2 gathers where the CPU has them (checked at run time), giving XGBoost's
// own numbers: margins are summed in float in tree order from the base score,
// as XGBoost's CPU predictor does. `XGBoostPredictor` wraps XGBoost's own in-place predictor
// for comparison (tests, benchmarks).
//
// Threading: a Forest is immutable after Compile; Predict is const and may run on any number
// of threads at once. Train and XGBoostPredictor calls are thread-safe (XGBoost keeps its last
// error per thread).
//
// Errors: XGBoost's `-1 + XGBGetLastError()` becomes a Status naming the call. Compile refuses
// what it cannot evaluate exactly (categorical splits, multi-class, deeper than
// Forest::kMaxDepth) with InvalidArgument naming it.
//
// Performance: Predict touches 2^depth - 1 nodes of 9 bytes and 2^depth leaves per tree
// (300 trees of depth 6: 300 KB, resident in L2), and reads each row's features from its own
// cache lines; blocks of kBlockRows rows amortise each tree's nodes over many rows. Measured
// against XGBoost in bench/forest_bench.cc.
#pragma once

#include "storage/storage.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::ml {

enum class Objective { kBinaryLogistic, kRegression };

// A dense row-major matrix of features, borrowed; NaN is a missing value.
struct Matrix {
  const float* data = nullptr;
  size_t rows = 0;
  size_t cols = 0;
  const float* row(size_t r) const { return data + r * cols; }
};

struct TrainOptions {
  Objective objective = Objective::kBinaryLogistic;
  int rounds = 100;
  int max_depth = 6;
  double eta = 0.1;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double colsample_bynode = 1.0;
  // Trees grown per round on the same gradients, each on its own sample: a boosted random
  // forest, which averages away part of the variance of subsampled trees.
  int num_parallel_tree = 1;
  double min_child_weight = 1.0;
  double lambda = 1.0;
  // Binary: weight of the positive class (negatives / positives balances them); 1 = none.
  double scale_pos_weight = 1.0;
  int threads = 1;
  uint64_t seed = 0;
};

// Trains on `x` with one label per row; returns the model as XGBoost JSON.
Result<std::string> Train(Matrix x, std::span<const float> labels, const TrainOptions& options);

// XGBoost's own predictor over a JSON model (the reference the Forest is checked against).
class XGBoostPredictor {
 public:
  static Result<std::unique_ptr<XGBoostPredictor>> Load(std::string_view model_json,
                                                        int threads = 1);
  ~XGBoostPredictor();
  XGBoostPredictor(const XGBoostPredictor&) = delete;
  XGBoostPredictor& operator=(const XGBoostPredictor&) = delete;

  // XGBoosterPredictFromDense: probabilities (logistic) or values (regression), or margins.
  Result<std::vector<float>> Predict(Matrix x, bool margin = false) const;
  // pred_contribs: per row, cols + 1 values (the bias last).
  Result<std::vector<float>> Contributions(Matrix x) const;

 private:
  explicit XGBoostPredictor(void* handle) : handle_(handle) {}
  void* handle_;  // BoosterHandle
};

class Forest {
 public:
  static constexpr int kMaxDepth = 12;
  static constexpr size_t kBlockRows = 32;

  static Result<Forest> Compile(std::string_view model_json);

  Objective objective() const { return objective_; }
  size_t trees() const { return trees_; }
  int depth() const { return depth_; }
  size_t features() const { return features_; }

  // The instruction set of the scoring kernel: the widest this CPU has, or a narrower one
  // (tests check each against XGBoost; benchmarks compare them).
  enum class Isa { kAuto, kPlain, kAvx2, kAvx512 };
  static bool Supports(Isa isa);

  struct PredictOptions {
    bool margin = false;  // raw margins instead of probabilities
    int threads = 1;      // splits the rows; 1 runs on the caller's thread
    Isa isa = Isa::kAuto;
  };
  // Scores every row of `x` into `out` (x.rows values): probabilities for a logistic model,
  // values for a regression, or raw margins. x.cols must be at least features(); an Isa the
  // CPU lacks falls back to kPlain.
  void Predict(Matrix x, std::span<float> out, const PredictOptions& options) const;
  void Predict(Matrix x, std::span<float> out) const { Predict(x, out, PredictOptions{}); }

  // Why: the TreeSHAP contribution of each feature to this row's margin, and last the bias
  // (the expected margin), features() + 1 values that sum to the margin. The same algorithm
  // and float arithmetic as XGBoost's pred_contribs (exact TreeSHAP over the trees' covers).
  void Explain(const float* row, std::span<float> contributions) const;

 private:
  Objective objective_ = Objective::kRegression;
  size_t trees_ = 0;
  int depth_ = 0;
  size_t features_ = 0;
  float base_margin_ = 0;
  // Per tree, 2^depth - 1 internal nodes then 2^depth leaves, breadth-first; node i's children
  // are 2i+1 and 2i+2. A feature index's top bit marks "missing goes left".
  std::vector<uint32_t> feature_;
  std::vector<float> threshold_;
  std::vector<float> leaf_;
  // The trees as trained, for Explain: children (-1 for a leaf), split or leaf value, cover
  // (sum of hessians) and each node's mean value under its cover.
  struct Tree {
    std::vector<int32_t> left, right;
    std::vector<uint32_t> feature;  // with the default-left bit
    std::vector<float> value, cover, mean;
    int depth = 0;
  };
  std::vector<Tree> explain_;
};

// --- Fleet history: what features and labels are computed from --------------------------------

using storage::kDayNs;
// The day (UTC, since the epoch) a time falls in.
inline int64_t DayOf(int64_t ts_ns) {
  return ts_ns >= 0 ? ts_ns / kDayNs : -((-ts_ns - 1) / kDayNs) - 1;
}

struct FleetAsset {
  std::string id;
  int criticality = 1;       // ordinal: 0 low, 1 medium, 2 high, 3 critical
  int64_t installed_ns = 0;  // age is counted from here
  // The asset's numeric series by metric name, sorted by name.
  std::vector<std::pair<std::string, storage::SeriesId>> metrics;
};
struct FleetEvent {
  uint32_t asset = 0;  // index into Fleet::assets
  int64_t ts_ns = 0;
  bool failure = false;  // maintenance: a failure or corrective record
};
// A tenant's fleet as the modules that own its parts describe it (storage the assets and
// series, query the alerts, the API's maintenance records).
struct Fleet {
  storage::TenantId tenant = 0;
  std::vector<FleetAsset> assets;
  std::vector<FleetEvent> maintenance;
  std::vector<FleetEvent> alerts;  // when each alert opened
};

// The index of an asset's "criticality" attribute in query::kCriticalities (low 0 .. critical
// 3); anything else counts as medium (1).
int CriticalityRank(std::string_view criticality);

// A tenant's fleet read from storage: its assets with their criticality and installed_at
// attributes (an asset without a valid installed_at counts from its creation), their numeric
// series by `asset_tag` (one per field name: the first created wins), the maintenance records
// (query::ReadMaintenance; failure and corrective ones are failures) and when each alert opened
// (query::ReadAlerts). Reads storage only; safe from any thread.
Result<Fleet> LoadFleet(const storage::Storage& storage, storage::TenantId tenant,
                        std::string_view asset_tag);

// --- Features ----------------------------------------------------------------------------------
//
// One row per (asset, day), describing the asset at the end of that day, computed from the
// daily rollups only (never raw points) for the whole fleet at once. Columns, in order:
//   for each metric m: m.{mean,std,min,max,slope}_{7,30,90}d (window by window), m.last,
//   m.delta_30d and m.delta_30d_per_day;
//   alerts_30d, days_since_maintenance, age_days, criticality.
// A window covers the days (d - w, d]; mean and std weigh every raw point, slope is the
// least-squares trend of the daily means in units per day. NaN where a window has no data.
// Assets of one type start from different levels (manufacturing, initial wear) and fail near
// the same one, so how far an asset has come matters besides where it is: delta_30d is the
// 30-day mean less the asset's baseline, the mean of its first kBaselineDays days of the metric
// (of those up to d while d is within them); delta_30d_per_day divides it by the days since that
// first day, from kBaselineDays on. The baseline is read from the whole stored history.
inline constexpr int kWindowsDays[] = {7, 30, 90};
inline constexpr int kBaselineDays = 30;

struct FeatureTable {
  std::vector<std::string> metrics;  // the metric columns' metrics, in order
  std::vector<std::string> names;
  std::vector<float> values;    // rows() x names.size(), row-major
  std::vector<uint32_t> asset;  // each row's asset (index into Fleet::assets)
  std::vector<int64_t> day;     // each row's day
  size_t rows() const { return asset.size(); }
  Matrix matrix() const { return {values.data(), rows(), names.size()}; }
};

struct FeatureQuery {
  // The metric columns in this order (a model's); empty for the fleet's metrics, sorted.
  std::vector<std::string> metrics;
  // Rows for every day in [from_day, to_day] on which the asset reported...
  int64_t from_day = 0;
  int64_t to_day = 0;
  // ...or, when not empty, one row per asset at the given day, -1 for none (scoring).
  std::vector<int64_t> as_of_day;
};
Result<FeatureTable> BuildFeatures(const storage::Storage& storage, const Fleet& fleet,
                                   const FeatureQuery& query);
// Keeps the columns `names`, in that order (a model's features, which may be an older or
// smaller set than BuildFeatures makes). FailedPrecondition naming the first one not built.
Status SelectFeatures(FeatureTable* table, std::span<const std::string> names);
// The rows of `table` on days [from_day, to_day].
FeatureTable DaysOf(const FeatureTable& table, int64_t from_day, int64_t to_day);

// --- Labels ------------------------------------------------------------------------------------
//
// A failure event is a maintenance record with failure set. For a row at day d (end of day e):
// fails_7d / fails_30d = 1 when the asset's next failure after e falls within 7 / 30 days;
// rul_days = days from e to it, capped. Unknown (NaN) when the horizon reaches past what is
// known (known_until_day, or the asset's last row: an asset that stopped reporting says nothing
// of the days after), and for rows in the days right after any maintenance (the asset being
// recommissioned).
struct LabelOptions {
  // Events after this day's end are unknown, as are horizons that pass it.
  int64_t known_until_day = 0;
  // Rows within this many days after a maintenance record get no label. Default 2.
  int exclude_days_after_maintenance = 2;
  // Rows further than this from failure carry the cap (a piecewise-linear RUL target); rows
  // with no failure within the cap are labelled with it once the cap is known. Default 90.
  double rul_cap_days = 90;
};
struct Labels {
  std::vector<float> fails_7d, fails_30d, rul_days;  // one per row; NaN when unknown
};
Labels MakeLabels(const Fleet& fleet, const FeatureTable& table, const LabelOptions& options);

// --- Evaluation --------------------------------------------------------------------------------

struct Evaluation {
  size_t rows = 0;
  size_t positives = 0;
  // Binary: ranking metrics, then the confusion at the operating threshold (the one that
  // maximises F1 on these rows).
  double roc_auc = 0;
  double auc_pr = 0;  // average precision
  double threshold = 0.5;
  double precision = 0, recall = 0, f1 = 0;
  uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
  // Fleet models: the median, over failures caught, of the days between the first true
  // positive and the failure. NaN when none was caught.
  double median_lead_days = 0;
  // Regression.
  double rmse = 0;
  double mae = 0;
};
// REQUIRES: scores.size() == labels.size(); labels are 0 or 1.
Evaluation EvaluateBinary(std::span<const float> scores, std::span<const float> labels);
Evaluation EvaluateRegression(std::span<const float> predictions, std::span<const float> labels);

// --- Training with early stopping --------------------------------------------------------------

struct FitOptions {
  TrainOptions booster = {
      .rounds = 500, .max_depth = 6, .eta = 0.05, .subsample = 0.8, .colsample_bytree = 0.8};
  // Stop when the validation AUC-PR (binary) or RMSE (regression) has not improved for this
  // many rounds, and keep the best round's trees.
  int early_stopping_rounds = 30;
  // Binary: weigh positives by negatives / positives of the training rows.
  bool balance_classes = true;
};
struct Fit {
  std::string model_json;
  int rounds = 0;         // trees kept
  Evaluation validation;  // of the kept model on the validation rows
  double scale_pos_weight = 1;
};
// Called as work advances; answering false cancels it (the call then fails with kBusy).
using Progress = std::function<bool(std::string_view stage, double fraction)>;
Result<Fit> FitWithEarlyStopping(Matrix train, std::span<const float> train_labels, Matrix valid,
                                 std::span<const float> valid_labels, Objective objective,
                                 const FitOptions& options, const Progress& progress = {});

// --- Drift -------------------------------------------------------------------------------------

// A feature's training distribution, kept with the model: 21 quantiles (0, 5, ..., 100 %) for
// KS, the bins PSI counts in (split at the distinct inner deciles) with their shares of the
// present values, and the share of missing values.
struct FeatureReference {
  std::vector<float> quantiles;  // empty when every value was missing
  std::vector<float> edges;      // bin i holds values < edges[i] (and >= edges[i - 1])
  std::vector<double> shares;    // edges.size() + 1
  double missing = 0;
  size_t assets = 0;  // distinct assets with a value (0: not known)
};
// Per column of `x`; `asset` (each row's asset, or empty) counts the assets behind the rows.
std::vector<FeatureReference> DescribeFeatures(Matrix x, std::span<const uint32_t> asset = {});
struct FeatureDrift {
  std::string feature;
  double psi = 0;  // population stability index over the reference's bins and missing
  double ks = 0;   // Kolmogorov-Smirnov distance against the reference's quantile CDF
  // The KS distance a change must pass to be significant at 0.1 %, counting assets rather than
  // rows on each side (an asset's rows on consecutive days are far from independent); 0 when
  // the assets are not known. A small fleet's month moves PSI by chance; this does not.
  double ks_critical = 0;
};
// Per column of `current` against `reference` (same columns); `asset` as for DescribeFeatures.
std::vector<FeatureDrift> MeasureDrift(std::span<const FeatureReference> reference,
                                       std::span<const std::string> names, Matrix current,
                                       std::span<const uint32_t> asset = {});

// --- Model registry ----------------------------------------------------------------------------
//
// Every trained model, kept in storage records per tenant: its description (ModelInfo, kind
// "ml.model"), XGBoost JSON ("ml.model_json") and training distribution ("ml.reference"); and
// per target the champion with the champions it replaced ("ml.champion"). Promote makes any
// model the champion and remembers the one it replaced; Rollback restores that one. Models are
// never rewritten, so a restored champion scores exactly as it did.
//
// Targets: "fails_7d", "fails_30d" and "rul_days" are the fleet's; any other name
// ([a-z0-9_-], 1..64) is a model trained on given features.
inline constexpr std::string_view kFleetTargets[] = {"fails_7d", "fails_30d", "rul_days"};
bool IsFleetTarget(std::string_view target);
bool ValidTargetName(std::string_view target);

struct ModelInfo {
  std::string id;  // "mdl_" + 16 hex digits of creation time + 4 of a counter
  std::string target;
  Objective objective = Objective::kBinaryLogistic;
  std::string status;  // "champion", "previous" (what rollback restores), or "challenger"
  int64_t created_ns = 0;
  std::string run_id;
  std::string params;                // training parameters, a JSON object
  std::vector<std::string> metrics;  // fleet models: their metric columns
  std::vector<std::string> features;
  int64_t data_from_ns = 0, data_to_ns = 0, split_ns = 0;  // validation from split_ns
  uint64_t train_rows = 0, validation_rows = 0;
  int rounds = 0;
  Evaluation evaluation;  // on the validation rows
};

// Thread-safe. `storage` is borrowed and must outlive the registry.
class Registry {
 public:
  explicit Registry(storage::Storage* storage);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  // Stores a new model; `info.id` and `info.created_ns` are assigned.
  Result<ModelInfo> Add(storage::TenantId tenant, ModelInfo info, std::string_view model_json,
                        std::span<const FeatureReference> reference);
  // Newest first; only `target`'s when given.
  Result<std::vector<ModelInfo>> List(storage::TenantId tenant, std::string_view target = {}) const;
  Result<ModelInfo> Get(storage::TenantId tenant, std::string_view id) const;
  Result<std::string> ModelJson(storage::TenantId tenant, std::string_view id) const;
  Result<std::vector<FeatureReference>> Reference(storage::TenantId tenant,
                                                  std::string_view id) const;
  // The champion's id; NotFound when the target has none.
  Result<std::string> Champion(storage::TenantId tenant, std::string_view target) const;
  Status Promote(storage::TenantId tenant, std::string_view id, std::string_view actor);
  // Restores the champion the current one replaced and returns its id; FailedPrecondition
  // when there is none.
  Result<std::string> Rollback(storage::TenantId tenant, std::string_view target,
                               std::string_view actor);

 private:
  storage::Storage* const storage_;
  struct State;  // the champion lock and the id counter
  std::unique_ptr<State> state_;
};

// --- The engine: training runs, scoring, schedules ----------------------------------------------

struct RiskThresholds {
  double critical_7d = 0.5;  // P(fails within 7 d) at or above: critical
  double high_7d = 0.25;     // ... or P(7 d) at or above, or P(30 d) at or above high_30d: high
  double high_30d = 0.5;
  double medium_30d = 0.2;  // P(30 d) at or above: medium; otherwise low
};

// A champion whose inputs moved away from its training data: raised by the daily drift check
// (once the model has scored EngineOptions::drift_after_days past its data) for the features
// whose PSI passes EngineOptions::drift_psi_alert and whose KS distance is significant with the
// assets counted as samples (FeatureDrift::ks_critical); an asset's age and trend features
// (slopes, 30-day deltas) follow the calendar and are measured, never alerted. A lasting drift is
// raised once: a check raises only when a feature passes that did not in the model's previous
// check.
struct DriftAlert {
  storage::TenantId tenant = 0;
  std::string tenant_name, model_id, target;
  double threshold = 0;
  std::vector<FeatureDrift> features;  // every feature past the threshold, largest PSI first
  int64_t measured_ns = 0;
};

struct EngineOptions {
  FitOptions fit;
  LabelOptions labels;               // known_until_day is set per run
  double validation_fraction = 0.2;  // the latest share of the days (fleet), or of the rows
  int history_days = 730;            // fleet training reads at most this much history
  // A challenger replaces the champion when its AUC-PR is at least (1 + margin) x the
  // champion's (RUL: RMSE at most (1 - margin) x). Default 1 %.
  double promotion_margin = 0.01;
  RiskThresholds risk;
  // In-process schedules: score every tenant's fleet once a day, retrain weekly.
  bool schedules = true;
  std::chrono::hours retrain_interval{24 * 7};
  double drift_psi_alert = 0.25;  // a feature whose PSI passes this raises a drift alert
  // A champion's drift is judged once it has scored this many days past its training data:
  // those days (up to 30) against the last 30 days it learnt from, so like is compared with like
  // (adjacent windows, the same age range and nearly the same season) and a fresh model, whose
  // inputs are its training data, is never judged.
  int drift_after_days = 14;
  // Told each drift alert, on the thread that runs the schedules (serve: webhooks).
  std::function<void(const DriftAlert&)> on_drift;
  size_t max_queued_runs = 16;
  // After a daily scoring, the days up to this many back that have no fleet record (FleetDay)
  // are scored as of their end, from the first day with data: the Overview's trends exist from
  // the first model on.
  int backfill_days = 30;
  // The tag that names a series' asset (the ingest setting), for the fleet the engine reads.
  std::string asset_tag = "asset_id";
};

// Features given directly (models of other data than the fleet's: a test set, a benchmark).
struct Dataset {
  std::vector<std::string> features;
  std::vector<float> values;  // rows x features, row-major; NaN missing
  std::vector<float> labels;  // training only
  size_t rows() const { return features.empty() ? 0 : values.size() / features.size(); }
};

struct TrainingRequest {
  // Fleet targets to train; empty for all three. Ignored with a dataset.
  std::vector<std::string> targets;
  // Trains one model named `dataset_target` on these rows instead of the fleet's. Its
  // validation rows are a stratified random share (binary) drawn with `seed`.
  std::optional<Dataset> dataset;
  std::string dataset_target;
  Objective dataset_objective = Objective::kBinaryLogistic;
  uint64_t seed = 42;
  std::optional<double> rul_cap_days;  // overrides EngineOptions::labels
  std::optional<FitOptions> fit;       // overrides EngineOptions::fit (hyper-parameters)
  std::string actor;                   // who asked ("schedule" for the weekly run)
};

struct RunInfo {
  std::string id;      // "run_..."
  std::string status;  // "queued", "running", "succeeded", "failed"
  std::string stage;
  double progress = 0;  // 0..1
  std::string actor;
  std::vector<std::string> targets;
  int64_t created_ns = 0, started_ns = 0, finished_ns = 0;
  std::string error;
  std::vector<std::string> models;  // ids trained
  std::vector<std::string> notes;   // what happened per target (promoted, kept, skipped)
};

struct Factor {
  std::string feature;
  float value = 0;
  float contribution = 0;  // to the margin (log-odds, or days)
};
struct Prediction {
  std::string asset_id;
  int64_t as_of_ns = 0;  // the end of the day the features describe
  int64_t scored_ns = 0;
  float fails_7d = 0, fails_30d = 0, rul_days = 0;          // NaN without that target's champion
  int health = 0;                                           // 0..100
  std::string risk;                                         // low, medium, high, critical
  std::vector<Factor> factors;                              // the top 3 by |contribution|
  std::vector<std::pair<std::string, std::string>> models;  // target -> model id
};

// The fleet on one day as its scoring found it. Kept by every recorded scoring of the whole fleet
// (the daily schedule's: the last of a day wins) and by the backfill (EngineOptions).
struct FleetDay {
  int64_t day_ns = 0;  // the day's midnight (UTC)
  int64_t scored_ns = 0;
  int assets = 0;                // scored
  double health = 0;             // mean predicted health, one decimal
  std::array<int, 4> by_risk{};  // assets per risk: low, medium, high, critical
  bool backfilled = false;       // scored afterwards, by models trained since that day
  int at_risk() const { return by_risk[2] + by_risk[3]; }
};

// Thread-safe. Owns one worker thread that runs training runs one at a time (a bounded queue:
// Submit refuses past max_queued_runs) and, when enabled, the schedules. Scoring runs on the
// caller's thread.
class Engine {
 public:
  // `storage` is borrowed and must outlive the engine. Runs left queued or running by a previous
  // process are marked failed. The fleet of a tenant is read fresh for each run and each
  // scoring, with LoadFleet(*storage, tenant, options.asset_tag).
  static Result<std::unique_ptr<Engine>> Start(storage::Storage* storage,
                                               const EngineOptions& options);
  // The same with the fleet from `fleet` instead (fleets that are not in storage: tests and
  // benchmarks of synthetic fleets).
  using FleetSource = std::function<Result<Fleet>(storage::TenantId tenant)>;
  static Result<std::unique_ptr<Engine>> Start(storage::Storage* storage, FleetSource fleet,
                                               const EngineOptions& options);
  // Cancels a run in progress and joins the worker.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Registry& registry();

  // Queues a training run; InvalidArgument for a bad request, ResourceExhausted when full.
  Result<RunInfo> Submit(storage::TenantId tenant, TrainingRequest request);
  Result<RunInfo> GetRun(storage::TenantId tenant, std::string_view id) const;
  Result<std::vector<RunInfo>> ListRuns(storage::TenantId tenant, size_t limit) const;
  // Blocks until the run has finished (tools and tests).
  Result<RunInfo> Wait(storage::TenantId tenant, std::string_view id) const;

  // Scores assets (all when empty) with the champions, as of `as_of_ns` or else each asset's
  // latest reading; with `record`, keeps each prediction in the asset's history.
  Result<std::vector<Prediction>> Score(storage::TenantId tenant,
                                        std::span<const std::string> asset_ids,
                                        std::optional<int64_t> as_of_ns, bool record);
  // Scores given rows with the champion of `target` (or the model `model_id`): one value and the
  // top factors per row. Unknown feature names are an error; absent ones are missing.
  struct GivenPrediction {
    float value = 0;
    std::vector<Factor> factors;
  };
  Result<std::vector<GivenPrediction>> PredictGiven(storage::TenantId tenant,
                                                    std::string_view target,
                                                    std::string_view model_id, const Dataset& rows);
  // An asset's kept predictions with scored_ns in [from_ns, to_ns), newest first.
  Result<std::vector<Prediction>> History(storage::TenantId tenant, std::string_view asset_id,
                                          int64_t from_ns, int64_t to_ns, size_t limit) const;
  // The kept latest prediction of every scored asset of the tenant, in asset id order, as the
  // last scoring wrote them (nothing is scored).
  Result<std::vector<Prediction>> LatestPredictions(storage::TenantId tenant) const;
  // The kept fleet days in [from_ns, to_ns), oldest first.
  Result<std::vector<FleetDay>> FleetHistory(storage::TenantId tenant, int64_t from_ns,
                                             int64_t to_ns) const;
  // The latest drift measurement of a model; NotFound before the first.
  Result<std::vector<FeatureDrift>> LatestDrift(storage::TenantId tenant,
                                                std::string_view model_id) const;

  // The schedules' step at `now_ns`: daily scoring for tenants not yet scored that day, with a
  // drift check of each champion (its training rows against the fleet's last 30 days), and a
  // retraining run for tenants whose last is older than retrain_interval. The worker calls it every
  // minute; tests call it directly.
  Status RunSchedules(int64_t now_ns);

  // Counters since start (/metrics): training runs by outcome, and fleet scorings (each Score
  // call: the daily schedule's, a run's, the predict API's).
  struct Stats {
    uint64_t runs_succeeded = 0;
    uint64_t runs_failed = 0;
    uint64_t runs_queued = 0;   // gauge
    uint64_t runs_running = 0;  // gauge
    double last_run_seconds = 0;
    uint64_t scorings = 0;
    uint64_t assets_scored = 0;
    double last_scoring_seconds = 0;
  };
  Stats GetStats() const;

  const EngineOptions& options() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace foresight::ml
