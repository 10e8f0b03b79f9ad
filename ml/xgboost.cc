// Training and XGBoost's own predictor, through the C API.
#include "ml/ml.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>

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

Result<std::string> Train(Matrix x, std::span<const float> labels, const TrainOptions& o) {
  if (labels.size() != x.rows) {
    return Status::InvalidArgument("labels: " + std::to_string(labels.size()) + " for " +
                                   std::to_string(x.rows) + " rows");
  }
  if (x.rows == 0 || x.cols == 0) return Status::InvalidArgument("no training data");
  DMatrix d;
  if (Status s = FromRows(x, &d); !s.ok()) return s;
  if (Status s = Check(XGDMatrixSetFloatInfo(d.h, "label", labels.data(), labels.size()),
                       "XGDMatrixSetFloatInfo");
      !s.ok()) {
    return s;
  }
  Booster b;
  if (Status s = Check(XGBoosterCreate(&d.h, 1, &b.h), "XGBoosterCreate"); !s.ok()) return s;
  const std::pair<const char*, std::string> params[] = {
      {"objective",
       o.objective == Objective::kBinaryLogistic ? "binary:logistic" : "reg:squarederror"},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(o.max_depth)},
      {"eta", Number(o.eta)},
      {"subsample", Number(o.subsample)},
      {"colsample_bytree", Number(o.colsample_bytree)},
      {"min_child_weight", Number(o.min_child_weight)},
      {"lambda", Number(o.lambda)},
      {"scale_pos_weight", Number(o.scale_pos_weight)},
      {"nthread", std::to_string(o.threads)},
      {"seed", std::to_string(o.seed)},
      {"verbosity", "0"},
  };
  for (const auto& [key, value] : params) {
    if (o.objective == Objective::kRegression && std::string_view(key) == "scale_pos_weight") {
      continue;
    }
    if (Status s = Check(XGBoosterSetParam(b.h, key, value.c_str()),
                         std::string("XGBoosterSetParam ") + key);
        !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < o.rounds; ++i) {
    if (Status s = Check(XGBoosterUpdateOneIter(b.h, i, d.h), "XGBoosterUpdateOneIter"); !s.ok()) {
      return s;
    }
  }
  bst_ulong length = 0;
  const char* bytes = nullptr;
  if (Status s = Check(XGBoosterSaveModelToBuffer(b.h, R"({"format":"json"})", &length, &bytes),
                       "XGBoosterSaveModelToBuffer");
      !s.ok()) {
    return s;
  }
  return std::string(bytes, length);
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
