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

#include <cstdint>
#include <memory>
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

}  // namespace foresight::ml
