// Training and XGBoost's own predictor, through the C API.
#include "ml/ml.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace foresight::ml {
namespace {

Status Check(int rc, std::string_view call) {
  if (rc == 0) return Status::OK();
  return Status::Internal("XGBoost " + std::string(call) + ": " + XGBGetLastError());
}

// Frees a handle on every path out.
struct DMatrix {
  DMatrixHandle h = nullptr;
  ~DMatrix() {
    if (h) XGDMatrixFree(h);
  }
};
struct Booster {
  BoosterHandle h = nullptr;
  ~Booster() {
    if (h) XGBoosterFree(h);
  }
};

// The rows as an XGBoost DMatrix, NaN missing.
Status FromRows(Matrix x, DMatrix* d) {
  return Check(XGDMatrixCreateFromMat(x.data, x.rows, x.cols, NAN, &d->h),
               "XGDMatrixCreateFromMat");
}

std::string Number(double v) {
  char out[32];
  std::snprintf(out, sizeof out, "%.17g", v);
  return out;
}

}  // namespace

namespace {

Status SetLabels(DMatrixHandle d, std::span<const float> labels) {
  return Check(XGDMatrixSetFloatInfo(d, "label", labels.data(), labels.size()),
               "XGDMatrixSetFloatInfo");
}

// A booster over `cache` (the matrices it will see) with the options' parameters.
Status MakeBooster(std::span<const DMatrixHandle> cache, const TrainOptions& o,
                   std::string_view eval_metric, Booster* b) {
  if (Status s = Check(XGBoosterCreate(cache.data(), cache.size(), &b->h), "XGBoosterCreate");
      !s.ok()) {
    return s;
  }
  const bool binary = o.objective == Objective::kBinaryLogistic;
  std::vector<std::pair<const char*, std::string>> params = {
      {"objective", binary ? "binary:logistic" : "reg:squarederror"},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(o.max_depth)},
      {"eta", Number(o.eta)},
      {"subsample", Number(o.subsample)},
      {"colsample_bytree", Number(o.colsample_bytree)},
      {"colsample_bynode", Number(o.colsample_bynode)},
      {"num_parallel_tree", std::to_string(o.num_parallel_tree)},
      {"min_child_weight", Number(o.min_child_weight)},
      {"lambda", Number(o.lambda)},
      {"nthread", std::to_string(o.threads)},
      {"seed", std::to_string(o.seed)},
      {"verbosity", "0"},
  };
  if (binary) params.emplace_back("scale_pos_weight", Number(o.scale_pos_weight));
  if (!eval_metric.empty()) params.emplace_back("eval_metric", std::string(eval_metric));
  for (const auto& [key, value] : params) {
    if (Status s = Check(XGBoosterSetParam(b->h, key, value.c_str()),
                         std::string("XGBoosterSetParam ") + key);
        !s.ok()) {
      return s;
    }
  }
  return Status::OK();
}

Result<std::string> SaveJson(BoosterHandle b) {
  bst_ulong length = 0;
  const char* bytes = nullptr;
  if (Status s = Check(XGBoosterSaveModelToBuffer(b, R"({"format":"json"})", &length, &bytes),
                       "XGBoosterSaveModelToBuffer");
      !s.ok()) {
    return s;
  }
  return std::string(bytes, length);
}

Status CheckShape(Matrix x, std::span<const float> labels, std::string_view what) {
  if (labels.size() != x.rows) {
    return Status::InvalidArgument(std::string(what) + " labels: " + std::to_string(labels.size()) +
                                   " for " + std::to_string(x.rows) + " rows");
  }
  if (x.rows == 0 || x.cols == 0)
    return Status::InvalidArgument("no " + std::string(what) + " rows");
  for (float l : labels) {
    if (std::isnan(l)) return Status::InvalidArgument(std::string(what) + " labels: NaN");
  }
  return Status::OK();
}

}  // namespace

Result<std::string> Train(Matrix x, std::span<const float> labels, const TrainOptions& o) {
  if (Status s = CheckShape(x, labels, "training"); !s.ok()) return s;
  DMatrix d;
  if (Status s = FromRows(x, &d); !s.ok()) return s;
  if (Status s = SetLabels(d.h, labels); !s.ok()) return s;
  Booster b;
  if (Status s = MakeBooster({&d.h, 1}, o, {}, &b); !s.ok()) return s;
  for (int i = 0; i < o.rounds; ++i) {
    if (Status s = Check(XGBoosterUpdateOneIter(b.h, i, d.h), "XGBoosterUpdateOneIter"); !s.ok()) {
      return s;
    }
  }
  return SaveJson(b.h);
}

Result<Fit> FitWithEarlyStopping(Matrix train, std::span<const float> train_labels, Matrix valid,
                                 std::span<const float> valid_labels, Objective objective,
                                 const FitOptions& options, const Progress& progress) {
  if (Status s = CheckShape(train, train_labels, "training"); !s.ok()) return s;
  if (Status s = CheckShape(valid, valid_labels, "validation"); !s.ok()) return s;
  if (valid.cols != train.cols) return Status::InvalidArgument("validation columns differ");
  const bool binary = objective == Objective::kBinaryLogistic;
  TrainOptions o = options.booster;
  o.objective = objective;
  if (binary) {
    size_t train_pos = 0, valid_pos = 0;
    for (float l : train_labels) train_pos += l > 0.5f;
    for (float l : valid_labels) valid_pos += l > 0.5f;
    if (train_pos == 0 || train_pos == train.rows) {
      return Status::FailedPrecondition("the training rows hold only one class");
    }
    if (valid_pos == 0 || valid_pos == valid.rows) {
      return Status::FailedPrecondition("the validation rows hold only one class");
    }
    if (options.balance_classes) {
      o.scale_pos_weight = static_cast<double>(train.rows - train_pos) / train_pos;
    }
  }
  DMatrix dtrain, dvalid;
  if (Status s = FromRows(train, &dtrain); !s.ok()) return s;
  if (Status s = SetLabels(dtrain.h, train_labels); !s.ok()) return s;
  if (Status s = FromRows(valid, &dvalid); !s.ok()) return s;
  if (Status s = SetLabels(dvalid.h, valid_labels); !s.ok()) return s;
  const DMatrixHandle cache[] = {dtrain.h, dvalid.h};
  const std::string metric = binary ? "aucpr" : "rmse";
  Booster b;
  if (Status s = MakeBooster(cache, o, metric, &b); !s.ok()) return s;

  // XGBoost answers "[i]\tvalid-aucpr:0.8123"; higher AUC-PR and lower RMSE are better.
  const std::string key = "valid-" + metric + ":";
  int best = -1;
  double best_score = 0;
  const char* names[] = {"valid"};
  for (int i = 0; i < o.rounds; ++i) {
    if (Status s = Check(XGBoosterUpdateOneIter(b.h, i, dtrain.h), "XGBoosterUpdateOneIter");
        !s.ok()) {
      return s;
    }
    const char* report = nullptr;
    if (Status s = Check(XGBoosterEvalOneIter(b.h, i, &dvalid.h, names, 1, &report),
                         "XGBoosterEvalOneIter");
        !s.ok()) {
      return s;
    }
    const char* at = std::strstr(report, key.c_str());
    if (at == nullptr) return Status::Internal("XGBoost evaluation without " + key + ": " + report);
    const double score = std::strtod(at + key.size(), nullptr);
    if (best < 0 || (binary ? score > best_score : score < best_score)) {
      best = i;
      best_score = score;
    } else if (i - best >= options.early_stopping_rounds) {
      break;
    }
    if (progress && !progress("training", static_cast<double>(i + 1) / o.rounds)) {
      return Status::Busy("cancelled");
    }
  }
  Booster kept;
  if (Status s = Check(XGBoosterSlice(b.h, 0, best + 1, 1, &kept.h), "XGBoosterSlice"); !s.ok()) {
    return s;
  }
  Fit fit;
  fit.rounds = best + 1;
  fit.scale_pos_weight = o.scale_pos_weight;
  auto json = SaveJson(kept.h);
  if (!json.ok()) return json.status();
  fit.model_json = std::move(json).value();
  auto forest = Forest::Compile(fit.model_json);
  if (!forest.ok()) return forest.status();
  std::vector<float> scores(valid.rows);
  forest->Predict(valid, scores);
  fit.validation =
      binary ? EvaluateBinary(scores, valid_labels) : EvaluateRegression(scores, valid_labels);
  return fit;
}

Result<std::unique_ptr<XGBoostPredictor>> XGBoostPredictor::Load(std::string_view model_json,
                                                                 int threads) {
  Booster b;
  if (Status s = Check(XGBoosterCreate(nullptr, 0, &b.h), "XGBoosterCreate"); !s.ok()) return s;
  if (Status s = Check(XGBoosterLoadModelFromBuffer(b.h, model_json.data(), model_json.size()),
                       "XGBoosterLoadModelFromBuffer");
      !s.ok()) {
    return s;
  }
  if (Status s = Check(XGBoosterSetParam(b.h, "nthread", std::to_string(threads).c_str()),
                       "XGBoosterSetParam nthread");
      !s.ok()) {
    return s;
  }
  std::unique_ptr<XGBoostPredictor> p(new XGBoostPredictor(b.h));
  b.h = nullptr;
  return p;
}

XGBoostPredictor::~XGBoostPredictor() { XGBoosterFree(handle_); }

Result<std::vector<float>> XGBoostPredictor::Predict(Matrix x, bool margin) const {
  // The __array_interface__ of the rows: address, read-only, shape, little-endian float32.
  char array[192];
  std::snprintf(
      array, sizeof array, R"({"data":[%llu,true],"shape":[%zu,%zu],"typestr":"<f4","version":3})",
      static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(x.data)), x.rows, x.cols);
  const std::string config = std::string(R"({"type":)") + (margin ? "1" : "0") +
                             R"(,"training":false,"iteration_begin":0,"iteration_end":0,)"
                             R"("strict_shape":false,"cache_id":0,"missing":NaN})";
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  if (Status s = Check(XGBoosterPredictFromDense(handle_, array, config.c_str(), nullptr, &shape,
                                                 &dims, &result),
                       "XGBoosterPredictFromDense");
      !s.ok()) {
    return s;
  }
  return std::vector<float>(result, result + x.rows);
}

Result<std::vector<float>> XGBoostPredictor::Contributions(Matrix x) const {
  DMatrix d;
  if (Status s = FromRows(x, &d); !s.ok()) return s;
  const char* config =
      R"({"type":2,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  if (Status s = Check(XGBoosterPredictFromDMatrix(handle_, d.h, config, &shape, &dims, &result),
                       "XGBoosterPredictFromDMatrix");
      !s.ok()) {
    return s;
  }
  return std::vector<float>(result, result + x.rows * (x.cols + 1));
}

}  // namespace foresight::ml
