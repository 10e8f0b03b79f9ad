// The compiled forest: XGBoost JSON → padded complete trees in flat arrays → block evaluation.
#include "ml/ml.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <immintrin.h>
#include <thread>

namespace foresight::ml {
namespace {

constexpr uint32_t kDefaultLeft = 0x80000000u;

// One tree as XGBoost stores it.
struct JsonTree {
  std::vector<int64_t> left, right, split_index;
  std::vector<double> split_condition, sum_hessian;
  std::vector<bool> default_left;
};

template <typename T>
Status ReadArray(simdjson::dom::element tree, const char* key, std::vector<T>* out) {
  simdjson::dom::array array;
  if (tree[key].get(array) != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string("tree without '") + key + "'");
  }
  for (simdjson::dom::element e : array) {
    if constexpr (std::is_same_v<T, double>) {
      double v;
      if (e.get(v) != simdjson::SUCCESS) return Status::InvalidArgument(key);
      out->push_back(v);
    } else if constexpr (std::is_same_v<T, bool>) {
      bool b;
      int64_t i;
      if (e.get(b) == simdjson::SUCCESS) {
        out->push_back(b);
      } else if (e.get(i) == simdjson::SUCCESS) {
        out->push_back(i != 0);
      } else {
        return Status::InvalidArgument(key);
      }
    } else {
      int64_t v;
      if (e.get(v) != simdjson::SUCCESS) return Status::InvalidArgument(key);
      out->push_back(v);
    }
  }
  return Status::OK();
}

// XGBoost keeps model parameters as strings ("5E-1").
Result<double> NumberText(simdjson::dom::element e, const char* what) {
  std::string_view text;
  double v;
  if (e.get(text) == simdjson::SUCCESS) {
    std::string s(text);
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    if (end == s.c_str()) return Status::InvalidArgument(std::string(what) + " is not a number");
    return v;
  }
  if (e.get(v) == simdjson::SUCCESS) return v;
  return Status::InvalidArgument(std::string(what) + " missing");
}

int Depth(const JsonTree& t, int64_t node) {
  if (t.left[node] < 0) return 0;
  return 1 + std::max(Depth(t, t.left[node]), Depth(t, t.right[node]));
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(std::min(-x, 88.7f))); }

}  // namespace

Result<Forest> Forest::Compile(std::string_view model_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(model_json.data(), model_json.size()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the model is not JSON");
  }
  simdjson::dom::element learner;
  if (root["learner"].get(learner) != simdjson::SUCCESS) {
    return Status::InvalidArgument("not an XGBoost model: no 'learner'");
  }
  Forest f;
  std::string_view objective, booster;
  if (learner["objective"]["name"].get(objective) != simdjson::SUCCESS) {
    return Status::InvalidArgument("model without an objective");
  }
  if (objective == "binary:logistic") {
    f.objective_ = Objective::kBinaryLogistic;
  } else if (objective == "reg:squarederror") {
    f.objective_ = Objective::kRegression;
  } else {
    return Status::InvalidArgument("objective '" + std::string(objective) +
                                   "' is not supported (binary:logistic, reg:squarederror)");
  }
  if (learner["gradient_booster"]["name"].get(booster) != simdjson::SUCCESS ||
      booster != "gbtree") {
    return Status::InvalidArgument("booster '" + std::string(booster) +
                                   "' is not supported (gbtree)");
  }
  simdjson::dom::element params = learner["learner_model_param"];
  Result<double> base_score = NumberText(params["base_score"], "base_score");
  Result<double> num_class = NumberText(params["num_class"], "num_class");
  Result<double> num_feature = NumberText(params["num_feature"], "num_feature");
  if (!base_score.ok()) return base_score.status();
  if (!num_feature.ok()) return num_feature.status();
  if (num_class.ok() && *num_class > 1) {
    return Status::InvalidArgument("multi-class models are not supported");
  }
  f.features_ = static_cast<size_t>(*num_feature);
  // XGBoost's base margin, in float as it computes it.
  const float base = static_cast<float>(*base_score);
  f.base_margin_ =
      f.objective_ == Objective::kBinaryLogistic ? -std::log(1.0f / base - 1.0f) : base;

  simdjson::dom::array trees;
  if (learner["gradient_booster"]["model"]["trees"].get(trees) != simdjson::SUCCESS) {
    return Status::InvalidArgument("model without trees");
  }
  std::vector<JsonTree> parsed;
  std::vector<int> depths;
  for (simdjson::dom::element tree : trees) {
    JsonTree t;
    std::vector<int64_t> split_type;
    for (Status s :
         {ReadArray(tree, "left_children", &t.left), ReadArray(tree, "right_children", &t.right),
          ReadArray(tree, "split_indices", &t.split_index),
          ReadArray(tree, "split_conditions", &t.split_condition),
          ReadArray(tree, "default_left", &t.default_left),
          ReadArray(tree, "sum_hessian", &t.sum_hessian)}) {
      if (!s.ok())
        return Status::InvalidArgument("tree " + std::to_string(parsed.size()) + ": " +
                                       std::string(s.message()));
    }
    if (ReadArray(tree, "split_type", &split_type).ok() &&
        std::any_of(split_type.begin(), split_type.end(), [](int64_t v) { return v != 0; })) {
      return Status::InvalidArgument("categorical splits are not supported");
    }
    const size_t n = t.left.size();
    if (n == 0 || t.right.size() != n || t.split_index.size() != n ||
        t.split_condition.size() != n || t.default_left.size() != n || t.sum_hessian.size() != n) {
      return Status::InvalidArgument("tree " + std::to_string(parsed.size()) +
                                     ": arrays of different lengths");
    }
    for (size_t i = 0; i < n; ++i) {
      const bool leaf = t.left[i] < 0;
      if (!leaf &&
          (t.left[i] <= static_cast<int64_t>(i) || t.right[i] <= static_cast<int64_t>(i) ||
           t.left[i] >= static_cast<int64_t>(n) || t.right[i] >= static_cast<int64_t>(n) ||
           t.split_index[i] < 0 || t.split_index[i] >= static_cast<int64_t>(f.features_))) {
        return Status::InvalidArgument("tree " + std::to_string(parsed.size()) + ": bad node " +
                                       std::to_string(i));
      }
    }
    depths.push_back(Depth(t, 0));
    f.depth_ = std::max(f.depth_, depths.back());
    parsed.push_back(std::move(t));
  }
  if (f.depth_ > kMaxDepth) {
    return Status::InvalidArgument("trees of depth " + std::to_string(f.depth_) + " (at most " +
                                   std::to_string(kMaxDepth) + ")");
  }
  f.trees_ = parsed.size();
  const size_t internal = (size_t{1} << f.depth_) - 1, leaves = internal + 1;
  f.feature_.assign(f.trees_ * internal, 0);
  f.threshold_.assign(f.trees_ * internal, 0.0f);
  f.leaf_.assign(f.trees_ * leaves, 0.0f);
  for (size_t ti = 0; ti < f.trees_; ++ti) {
    const JsonTree& t = parsed[ti];
    uint32_t* feature = f.feature_.data() + ti * internal;
    float* threshold = f.threshold_.data() + ti * internal;
    float* leaf = f.leaf_.data() + ti * leaves;
    // Places XGBoost node `node` at position `pos` of the complete tree. A leaf above the last
    // level becomes a split whose both sides lead to copies of it.
    auto place = [&](auto&& self, int64_t node, size_t pos, int level) -> void {
      if (level == f.depth_) {
        leaf[pos - internal] = static_cast<float>(t.split_condition[node]);
        return;
      }
      if (t.left[node] < 0) {
        self(self, node, 2 * pos + 1, level + 1);
        self(self, node, 2 * pos + 2, level + 1);
        return;
      }
      feature[pos] =
          static_cast<uint32_t>(t.split_index[node]) | (t.default_left[node] ? kDefaultLeft : 0);
      threshold[pos] = static_cast<float>(t.split_condition[node]);
      self(self, t.left[node], 2 * pos + 1, level + 1);
      self(self, t.right[node], 2 * pos + 2, level + 1);
    };
    place(place, 0, 0, 0);

    Tree& e = f.explain_.emplace_back();
    const size_t n = t.left.size();
    e.depth = depths[ti];
    e.mean.resize(n);
    for (size_t i = 0; i < n; ++i) {
      e.left.push_back(static_cast<int32_t>(t.left[i]));
      e.right.push_back(static_cast<int32_t>(t.right[i]));
      e.feature.push_back(static_cast<uint32_t>(std::max<int64_t>(t.split_index[i], 0)) |
                          (t.default_left[i] ? kDefaultLeft : 0));
      e.value.push_back(static_cast<float>(t.split_condition[i]));
      e.cover.push_back(static_cast<float>(t.sum_hessian[i]));
    }
    // XGBoost's FillNodeMeanValue: a node's mean is its children's, weighted by cover.
    auto mean = [&](auto&& self, int32_t node) -> float {
      float m = e.value[node];
      if (e.left[node] >= 0) {
        m = self(self, e.left[node]) * e.cover[e.left[node]];
        m += self(self, e.right[node]) * e.cover[e.right[node]];
        m /= e.cover[node];
      }
      e.mean[node] = m;
      return m;
    };
    mean(mean, 0);
  }
  return f;
}

namespace {

// One block's trees, as the kernels see them: `xt` holds the block's rows feature-major
// (feature c of lane r at xt[c * kBlockRows + r]); `acc` starts at the base margin.
struct Kernel {
  const uint32_t* feature;
  const float* threshold;
  const float* leaf;
  size_t trees;
  int depth;
};
constexpr size_t B = Forest::kBlockRows;
constexpr int kLog2B = 5;
static_assert(size_t{1} << kLog2B == B);

// The reference: one lane at a time. Every level of every tree is the same steps: the node's
// feature and threshold, the lane's value, a compare, a step to a child.
void EvaluatePlain(const Kernel& k, const float* xt, float* acc) {
  const size_t internal = (size_t{1} << k.depth) - 1, leaves = internal + 1;
  for (size_t t = 0; t < k.trees; ++t) {
    const uint32_t* feature = k.feature + t * internal;
    const float* threshold = k.threshold + t * internal;
    const float* leaf = k.leaf + t * leaves;
    for (size_t r = 0; r < B; ++r) {
      uint32_t i = 0;
      for (int d = 0; d < k.depth; ++d) {
        const uint32_t fe = feature[i];
        const float v = xt[(fe & ~kDefaultLeft) * B + r];
        // XGBoost: missing follows the default; otherwise left when v < threshold.
        const uint32_t left =
            static_cast<uint32_t>(v < threshold[i]) | (static_cast<uint32_t>(v != v) & (fe >> 31));
        i = 2 * i + 2 - left;
      }
      // The same float additions in the same order as XGBoost's predictor.
      acc[r] += leaf[i - internal];
    }
  }
}

// The same with AVX2: 8 lanes per gather, four groups in flight.
__attribute__((target("avx2"))) void EvaluateAvx2(const Kernel& k, const float* xt, float* acc) {
  constexpr size_t G = B / 8;
  const size_t internal = (size_t{1} << k.depth) - 1, leaves = internal + 1;
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i column = _mm256_set1_epi32(~kDefaultLeft), two = _mm256_set1_epi32(2);
  const __m256i dl_bit = _mm256_set1_epi32(static_cast<int>(kDefaultLeft));
  const __m256i first_leaf = _mm256_set1_epi32(static_cast<int>(internal));
  __m256 sum[G];
  for (size_t g = 0; g < G; ++g) sum[g] = _mm256_loadu_ps(acc + 8 * g);
  for (size_t t = 0; t < k.trees; ++t) {
    const int* feature = reinterpret_cast<const int*>(k.feature + t * internal);
    const float* threshold = k.threshold + t * internal;
    const float* leaf = k.leaf + t * leaves;
    __m256i idx[G];
    for (size_t g = 0; g < G; ++g) idx[g] = _mm256_setzero_si256();
    for (int d = 0; d < k.depth; ++d) {
      for (size_t g = 0; g < G; ++g) {
        const __m256i fe = _mm256_i32gather_epi32(feature, idx[g], 4);
        const __m256 th = _mm256_i32gather_ps(threshold, idx[g], 4);
        const __m256i at =
            _mm256_add_epi32(_mm256_slli_epi32(_mm256_and_si256(fe, column), kLog2B), lanes);
        const __m256 v = _mm256_i32gather_ps(xt + 8 * g, at, 4);
        const __m256 lt = _mm256_cmp_ps(v, th, _CMP_LT_OQ);
        const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
        const __m256i dl = _mm256_cmpeq_epi32(_mm256_and_si256(fe, dl_bit), dl_bit);
        const __m256i left = _mm256_or_si256(_mm256_castps_si256(lt),
                                             _mm256_and_si256(_mm256_castps_si256(nan), dl));
        // 2i + 2 - left, where left is all ones (-1) for the lanes that go left.
        idx[g] = _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(idx[g], 1), two), left);
      }
    }
    for (size_t g = 0; g < G; ++g) {
      sum[g] =
          _mm256_add_ps(sum[g], _mm256_i32gather_ps(leaf, _mm256_sub_epi32(idx[g], first_leaf), 4));
    }
  }
  for (size_t g = 0; g < G; ++g) _mm256_storeu_ps(acc + 8 * g, sum[g]);
}

// The same with AVX-512: 16 lanes per gather, two groups in flight, masks for the compares.
// GCC 12's gather intrinsics start from _mm512_undefined_*, which -Wmaybe-uninitialized flags.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f"))) void EvaluateAvx512(const Kernel& k, const float* xt,
                                                       float* acc) {
  constexpr size_t G = B / 16;
  const size_t internal = (size_t{1} << k.depth) - 1, leaves = internal + 1;
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i column = _mm512_set1_epi32(~kDefaultLeft), two = _mm512_set1_epi32(2);
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i dl_bit = _mm512_set1_epi32(static_cast<int>(kDefaultLeft));
  const __m512i first_leaf = _mm512_set1_epi32(static_cast<int>(internal));
  __m512 sum[G];
  for (size_t g = 0; g < G; ++g) sum[g] = _mm512_loadu_ps(acc + 16 * g);
  for (size_t t = 0; t < k.trees; ++t) {
    const int* feature = reinterpret_cast<const int*>(k.feature + t * internal);
    const float* threshold = k.threshold + t * internal;
    const float* leaf = k.leaf + t * leaves;
    __m512i idx[G];
    for (size_t g = 0; g < G; ++g) idx[g] = _mm512_setzero_si512();
    for (int d = 0; d < k.depth; ++d) {
      for (size_t g = 0; g < G; ++g) {
        const __m512i fe = _mm512_i32gather_epi32(idx[g], feature, 4);
        const __m512 th = _mm512_i32gather_ps(idx[g], threshold, 4);
        const __m512i at =
            _mm512_add_epi32(_mm512_slli_epi32(_mm512_and_si512(fe, column), kLog2B), lanes);
        const __m512 v = _mm512_i32gather_ps(at, xt + 16 * g, 4);
        const __mmask16 left =
            _mm512_cmp_ps_mask(v, th, _CMP_LT_OQ) |
            (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_test_epi32_mask(fe, dl_bit));
        const __m512i next = _mm512_add_epi32(_mm512_slli_epi32(idx[g], 1), two);
        idx[g] = _mm512_mask_sub_epi32(next, left, next, one);
      }
    }
    for (size_t g = 0; g < G; ++g) {
      sum[g] =
          _mm512_add_ps(sum[g], _mm512_i32gather_ps(_mm512_sub_epi32(idx[g], first_leaf), leaf, 4));
    }
  }
  for (size_t g = 0; g < G; ++g) _mm512_storeu_ps(acc + 16 * g, sum[g]);
}
#pragma GCC diagnostic pop

using Evaluate = void (*)(const Kernel&, const float*, float*);

Evaluate KernelFor(Forest::Isa isa) {
  using Isa = Forest::Isa;
  if (isa == Isa::kAuto) {
    isa = Forest::Supports(Isa::kAvx512) ? Isa::kAvx512
          : Forest::Supports(Isa::kAvx2) ? Isa::kAvx2
                                         : Isa::kPlain;
  }
  if (isa == Isa::kAvx512 && Forest::Supports(isa)) return EvaluateAvx512;
  if (isa == Isa::kAvx2 && Forest::Supports(isa)) return EvaluateAvx2;
  return EvaluatePlain;
}

}  // namespace

bool Forest::Supports(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f");
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Isa::kAuto:
    case Isa::kPlain:
      return true;
  }
  return false;
}

void Forest::Predict(Matrix x, std::span<float> out, const PredictOptions& options) const {
  const Evaluate evaluate = KernelFor(options.isa);
  const Kernel kernel{feature_.data(), threshold_.data(), leaf_.data(), trees_, depth_};
  const bool probability = !options.margin && objective_ == Objective::kBinaryLogistic;
  // Rows [from, to) in blocks: transpose a block into xt, evaluate, write its answers.
  auto run = [&](size_t from, size_t to) {
    std::vector<float> xt(features_ * B);
    alignas(64) float acc[B];
    for (size_t begin = from; begin < to; begin += B) {
      const size_t n = std::min(to - begin, B);
      for (size_t r = 0; r < B; ++r) {
        const float* row = r < n ? x.row(begin + r) : nullptr;
        for (size_t c = 0; c < features_; ++c) xt[c * B + r] = row ? row[c] : 0.0f;
      }
      std::fill(acc, acc + B, base_margin_);
      evaluate(kernel, xt.data(), acc);
      for (size_t r = 0; r < n; ++r) out[begin + r] = probability ? Sigmoid(acc[r]) : acc[r];
    }
  };
  const size_t blocks = (x.rows + B - 1) / B;
  const size_t parts = std::clamp<size_t>(options.threads, 1, std::max<size_t>(1, blocks));
  if (parts == 1) return run(0, x.rows);
  std::vector<std::thread> pool;
  const size_t per = (blocks + parts - 1) / parts * B;
  for (size_t p = 1; p < parts; ++p) {
    pool.emplace_back(run, std::min(x.rows, p * per), std::min(x.rows, (p + 1) * per));
  }
  run(0, std::min(x.rows, per));
  for (auto& t : pool) t.join();
}

// --- TreeSHAP ---------------------------------------------------------------------------------
// Lundberg et al.'s exact TreeSHAP (Algorithm 2), written as XGBoost writes it, in float, so that
// the contributions are XGBoost's pred_contribs.

namespace {

struct PathElement {
  int feature;
  float zero_fraction;
  float one_fraction;
  float pweight;
};

void ExtendPath(PathElement* path, unsigned depth, float zero_fraction, float one_fraction,
                int feature) {
  path[depth] = {feature, zero_fraction, one_fraction, depth == 0 ? 1.0f : 0.0f};
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    path[i + 1].pweight +=
        one_fraction * path[i].pweight * static_cast<float>(i + 1) / static_cast<float>(depth + 1);
    path[i].pweight = zero_fraction * path[i].pweight * static_cast<float>(depth - i) /
                      static_cast<float>(depth + 1);
  }
}

void UnwindPath(PathElement* path, unsigned depth, unsigned index) {
  const float one_fraction = path[index].one_fraction;
  const float zero_fraction = path[index].zero_fraction;
  float next_one_portion = path[depth].pweight;
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    if (one_fraction != 0) {
      const float tmp = path[i].pweight;
      path[i].pweight = next_one_portion * static_cast<float>(depth + 1) /
                        static_cast<float>((i + 1) * one_fraction);
      next_one_portion = tmp - path[i].pweight * zero_fraction * static_cast<float>(depth - i) /
                                   static_cast<float>(depth + 1);
    } else {
      path[i].pweight = (path[i].pweight * static_cast<float>(depth + 1)) /
                        static_cast<float>(zero_fraction * static_cast<float>(depth - i));
    }
  }
  for (unsigned i = index; i < depth; ++i) {
    path[i].feature = path[i + 1].feature;
    path[i].zero_fraction = path[i + 1].zero_fraction;
    path[i].one_fraction = path[i + 1].one_fraction;
  }
}

float UnwoundPathSum(const PathElement* path, unsigned depth, unsigned index) {
  const float one_fraction = path[index].one_fraction;
  const float zero_fraction = path[index].zero_fraction;
  float next_one_portion = path[depth].pweight;
  float total = 0;
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    if (one_fraction != 0) {
      const float tmp = next_one_portion * static_cast<float>(depth + 1) /
                        static_cast<float>((i + 1) * one_fraction);
      total += tmp;
      next_one_portion =
          path[i].pweight -
          tmp * zero_fraction * (static_cast<float>(depth - i) / static_cast<float>(depth + 1));
    } else if (zero_fraction != 0) {
      total += (path[i].pweight / zero_fraction) /
               (static_cast<float>(depth - i) / static_cast<float>(depth + 1));
    }
  }
  return total;
}

}  // namespace

void Forest::Explain(const float* row, std::span<float> contributions) const {
  std::fill(contributions.begin(), contributions.end(), 0.0f);
  std::vector<float> phi(features_ + 1);
  std::vector<PathElement> paths;
  for (const Tree& tree : explain_) {
    std::fill(phi.begin(), phi.end(), 0.0f);
    phi[features_] += tree.mean[0];
    const size_t max_depth = static_cast<size_t>(tree.depth) + 2;
    paths.assign(max_depth * (max_depth + 1) / 2, {});
    auto shap = [&](auto&& self, int32_t node, unsigned depth, PathElement* parent_path,
                    float parent_zero, float parent_one, int parent_feature) -> void {
      PathElement* path = parent_path + depth + 1;
      std::copy(parent_path, parent_path + depth + 1, path);
      ExtendPath(path, depth, parent_zero, parent_one, parent_feature);
      if (tree.left[node] < 0) {
        for (unsigned i = 1; i <= depth; ++i) {
          const float w = UnwoundPathSum(path, depth, i);
          const PathElement& el = path[i];
          phi[el.feature] += w * (el.one_fraction - el.zero_fraction) * tree.value[node];
        }
        return;
      }
      const uint32_t fe = tree.feature[node];
      const unsigned split = fe & ~kDefaultLeft;
      const float v = row[split];
      const bool left = std::isnan(v) ? (fe & kDefaultLeft) != 0 : v < tree.value[node];
      const int32_t hot = left ? tree.left[node] : tree.right[node];
      const int32_t cold = left ? tree.right[node] : tree.left[node];
      const float w = tree.cover[node];
      const float hot_zero = tree.cover[hot] / w, cold_zero = tree.cover[cold] / w;
      float incoming_zero = 1, incoming_one = 1;
      unsigned index = 0;
      for (; index <= depth; ++index) {
        if (static_cast<unsigned>(path[index].feature) == split) break;
      }
      if (index != depth + 1) {
        incoming_zero = path[index].zero_fraction;
        incoming_one = path[index].one_fraction;
        UnwindPath(path, depth, index);
        depth -= 1;
      }
      self(self, hot, depth + 1, path, hot_zero * incoming_zero, incoming_one,
           static_cast<int>(split));
      self(self, cold, depth + 1, path, cold_zero * incoming_zero, 0.0f, static_cast<int>(split));
    };
    shap(shap, 0, 0, paths.data(), 1.0f, 1.0f, -1);
    // As XGBoost: each tree's contributions into the total, the base margin into the bias last.
    for (size_t c = 0; c <= features_; ++c) contributions[c] += phi[c];
  }
  contributions[features_] += base_margin_;
}

}  // namespace foresight::ml
