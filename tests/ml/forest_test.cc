// The compiled forest against XGBoost's own predictor, on models XGBoost trains here.
#include "ml/ml.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <thread>

namespace foresight::ml {
namespace {

// Rows with `cols` features, a share of them missing (NaN), and labels that depend on a few
// features non-linearly.
struct Data {
  std::vector<float> x;
  std::vector<float> y;
  size_t rows, cols;
  Matrix matrix() const { return {x.data(), rows, cols}; }
};

Data Make(size_t rows, size_t cols, Objective objective, uint64_t seed, double missing = 0.1) {
  Data d{{}, {}, rows, cols};
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      d.x.push_back(unit(rng) < missing ? NAN : normal(rng) * (1 + c % 3));
    }
    const float* row = &d.x[r * cols];
    auto f = [&](size_t c) { return std::isnan(row[c]) ? 0.5f : row[c]; };
    const double score = 1.5 * f(0) - f(1) * f(2) + (f(3) > 1 ? 2.0 : 0.0) + 0.5 * normal(rng);
    d.y.push_back(objective == Objective::kBinaryLogistic ? (score > 1.0 ? 1.0f : 0.0f)
                                                          : static_cast<float>(60 + 20 * score));
  }
  return d;
}

double MaxDifference(const std::vector<float>& a, std::span<const float> b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

std::string TrainOn(const Data& d, TrainOptions o) {
  auto model = Train(d.matrix(), d.y, o);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? *model : std::string();
}

// Every kernel this CPU runs, named for the failure messages.
std::vector<std::pair<Forest::Isa, const char*>> Kernels() {
  std::vector<std::pair<Forest::Isa, const char*>> kernels = {{Forest::Isa::kPlain, "plain"}};
  if (Forest::Supports(Forest::Isa::kAvx2)) kernels.emplace_back(Forest::Isa::kAvx2, "AVX2");
  if (Forest::Supports(Forest::Isa::kAvx512)) {
    kernels.emplace_back(Forest::Isa::kAvx512, "AVX-512");
  }
  return kernels;
}

void ExpectSameAsXGBoost(const std::string& model, const Data& rows, bool margin) {
  auto forest = Forest::Compile(model);
  ASSERT_TRUE(forest.ok()) << forest.status().ToString();
  auto xgb = XGBoostPredictor::Load(model);
  ASSERT_TRUE(xgb.ok()) << xgb.status().ToString();
  auto expected = (*xgb)->Predict(rows.matrix(), margin);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  for (auto [isa, name] : Kernels()) {
    std::vector<float> got(rows.rows);
    forest->Predict(rows.matrix(), got, {.margin = margin, .isa = isa});
    EXPECT_LE(MaxDifference(*expected, got), 1e-6)
        << name << (margin ? " margins" : " predictions");
  }
}

TEST(Forest, GivesXGBoostsProbabilitiesForALogisticModelWithMissingValues) {
  Data train = Make(4000, 40, Objective::kBinaryLogistic, 1);
  TrainOptions o;
  o.rounds = 120;
  o.max_depth = 6;
  o.subsample = 0.8;
  o.colsample_bytree = 0.8;
  const std::string model = TrainOn(train, o);
  Data fresh = Make(5000, 40, Objective::kBinaryLogistic, 2, 0.2);
  ExpectSameAsXGBoost(model, fresh, false);
  ExpectSameAsXGBoost(model, fresh, true);
  auto forest = Forest::Compile(model);
  ASSERT_TRUE(forest.ok());
  EXPECT_EQ(forest->trees(), 120u);
  EXPECT_EQ(forest->features(), 40u);
  EXPECT_LE(forest->depth(), 6);
  EXPECT_EQ(forest->objective(), Objective::kBinaryLogistic);
}

TEST(Forest, GivesXGBoostsValuesForADeeperRegressionModel) {
  Data train = Make(3000, 12, Objective::kRegression, 3);
  TrainOptions o;
  o.objective = Objective::kRegression;
  o.rounds = 200;
  o.max_depth = 9;
  o.eta = 0.05;
  const std::string model = TrainOn(train, o);
  ExpectSameAsXGBoost(model, Make(3000, 12, Objective::kRegression, 4, 0.3), false);
}

TEST(Forest, GivesXGBoostsValuesForABoostedRandomForest) {
  Data train = Make(3000, 12, Objective::kRegression, 6);
  TrainOptions o;
  o.objective = Objective::kRegression;
  o.rounds = 30;
  o.num_parallel_tree = 4;
  o.subsample = 0.6;
  o.colsample_bynode = 0.5;
  const std::string model = TrainOn(train, o);
  ExpectSameAsXGBoost(model, Make(2000, 12, Objective::kRegression, 7, 0.2), false);
  EXPECT_EQ(Forest::Compile(model)->trees(), 120u) << "four trees a round";
}

TEST(Training, RepeatsItselfForASeedAndSamplesAnewForAnother) {
  Data train = Make(1000, 6, Objective::kRegression, 8);
  TrainOptions o;
  o.objective = Objective::kRegression;
  o.rounds = 10;
  o.subsample = 0.5;
  o.seed = 3;
  const std::string first = TrainOn(train, o);
  EXPECT_EQ(TrainOn(train, o), first);
  o.seed = 4;
  EXPECT_NE(TrainOn(train, o), first);
}

TEST(Forest, ScoresRowsWithNoMissingValuesAndAllMissingValues) {
  Data train = Make(2000, 8, Objective::kBinaryLogistic, 5);
  const std::string model = TrainOn(train, {});
  ExpectSameAsXGBoost(model, Make(500, 8, Objective::kBinaryLogistic, 6, 0.0), false);
  ExpectSameAsXGBoost(model, Make(500, 8, Objective::kBinaryLogistic, 7, 1.0), false);
}

TEST(Forest, GivesTheSameNumbersOnAnyNumberOfThreadsAndAnyRowCount) {
  Data train = Make(2000, 10, Objective::kBinaryLogistic, 8);
  auto forest = Forest::Compile(TrainOn(train, {}));
  ASSERT_TRUE(forest.ok());
  for (size_t rows : {1u, 63u, 64u, 65u, 1000u}) {
    Data d = Make(rows, 10, Objective::kBinaryLogistic, rows);
    std::vector<float> one(rows), three(rows);
    forest->Predict(d.matrix(), one, {.threads = 1});
    forest->Predict(d.matrix(), three, {.threads = 3});
    EXPECT_EQ(one, three) << rows << " rows";
  }
}

TEST(Forest, ScoresAModelWhoseTreesAreSingleLeaves) {
  // Constant labels: nothing to split on; every tree is one leaf.
  Data train = Make(200, 4, Objective::kRegression, 9);
  std::fill(train.y.begin(), train.y.end(), 42.0f);
  TrainOptions o;
  o.objective = Objective::kRegression;
  o.rounds = 10;
  const std::string model = TrainOn(train, o);
  auto forest = Forest::Compile(model);
  ASSERT_TRUE(forest.ok()) << forest.status().ToString();
  EXPECT_EQ(forest->depth(), 0);
  ExpectSameAsXGBoost(model, Make(100, 4, Objective::kRegression, 10), false);
}

TEST(Forest, RefusesWhatItCannotEvaluateExactly) {
  const std::string model = TrainOn(Make(500, 6, Objective::kBinaryLogistic, 11), {});
  auto refused = [](const std::string& json, std::string_view why) {
    auto f = Forest::Compile(json);
    ASSERT_FALSE(f.ok()) << why;
    EXPECT_EQ(f.status().code(), Status::Code::kInvalidArgument) << why;
    EXPECT_NE(f.status().message().find(why), std::string::npos) << f.status().ToString();
  };
  refused("", "not JSON");
  refused(model.substr(0, model.size() / 2), "not JSON");
  refused("{\"version\":[1,7,4]}", "no 'learner'");
  auto replace = [&](std::string from, std::string to) {
    std::string m = model;
    size_t at = m.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) m.replace(at, from.size(), to);
    return m;
  };
  refused(replace("\"binary:logistic\"", "\"multi:softprob\""), "multi:softprob");
  refused(replace("\"name\":\"gbtree\"", "\"name\":\"dart\""), "dart");
  refused(replace("\"split_type\":[0", "\"split_type\":[1"), "categorical");
  refused(replace("\"left_children\":[1", "\"left_children\":[0"), "bad node 0");
  refused(replace("\"split_indices\":[", "\"split_indices\":[99,"), "different lengths");
}

TEST(Forest, ExplainsEachPredictionWithXGBoostsContributions) {
  Data train = Make(3000, 12, Objective::kBinaryLogistic, 15);
  TrainOptions o;
  o.rounds = 80;
  o.subsample = 0.8;
  const std::string model = TrainOn(train, o);
  auto forest = Forest::Compile(model);
  ASSERT_TRUE(forest.ok()) << forest.status().ToString();
  auto xgb = XGBoostPredictor::Load(model);
  ASSERT_TRUE(xgb.ok());
  Data rows = Make(300, 12, Objective::kBinaryLogistic, 16, 0.2);
  auto expected = (*xgb)->Contributions(rows.matrix());
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  std::vector<float> margins(rows.rows);
  forest->Predict(rows.matrix(), margins, {.margin = true});
  double worst = 0, worst_sum = 0;
  std::vector<float> phi(13);
  for (size_t r = 0; r < rows.rows; ++r) {
    forest->Explain(rows.matrix().row(r), phi);
    double sum = 0;
    for (size_t c = 0; c < 13; ++c) {
      worst = std::max(worst, std::abs(double(phi[c]) - (*expected)[r * 13 + c]));
      sum += phi[c];
    }
    worst_sum = std::max(worst_sum, std::abs(sum - margins[r]));
  }
  EXPECT_LE(worst, 1e-5) << "against XGBoost's pred_contribs";
  EXPECT_LE(worst_sum, 1e-4) << "contributions add up to the margin";
}

// A random regression forest written straight in XGBoost's JSON format: `trees` complete trees
// of depth 4 over `features` features. No XGBoost involved, so TSan sees only our threads (its
// OpenMP runtime is not instrumented).
std::string RandomForestJson(size_t trees, size_t features, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  auto list = [](size_t n, auto&& item) {
    std::string out = "[";
    for (size_t i = 0; i < n; ++i) out += (i ? "," : "") + item(i);
    return out + "]";
  };
  std::string json = R"({"learner":{"objective":{"name":"reg:squarederror"},)"
                     R"("learner_model_param":{"base_score":"5E-1","num_class":"0",)"
                     R"("num_feature":")" +
                     std::to_string(features) +
                     R"("},"gradient_booster":{"name":"gbtree","model":{"trees":)";
  json += list(trees, [&](size_t) {
    constexpr size_t kNodes = 31, kInternal = 15;
    auto child = [&](size_t i, size_t side) {
      return i < kInternal ? std::to_string(2 * i + side) : std::string("-1");
    };
    return "{\"left_children\":" + list(kNodes, [&](size_t i) { return child(i, 1); }) +
           ",\"right_children\":" + list(kNodes, [&](size_t i) { return child(i, 2); }) +
           ",\"split_indices\":" +
           list(kNodes, [&](size_t) { return std::to_string(rng() % features); }) +
           ",\"split_conditions\":" +
           list(kNodes, [&](size_t) { return std::to_string(normal(rng)); }) +
           ",\"default_left\":" + list(kNodes, [&](size_t) { return std::to_string(rng() % 2); }) +
           // Cover: one per leaf, summed upwards (level l of depth 4 covers 2^(4-l)).
           ",\"sum_hessian\":" +
           list(kNodes, [&](size_t i) { return std::to_string(32 >> std::bit_width(i + 1)); }) +
           "}";
  });
  return json + "}}}}";
}

TEST(ForestThreads, ScoreConcurrentlyFromManyThreadsWithTheSameNumbers) {
  auto forest = Forest::Compile(RandomForestJson(50, 10, 13));
  ASSERT_TRUE(forest.ok()) << forest.status().ToString();
  EXPECT_EQ(forest->depth(), 4);
  Data d = Make(1000, 10, Objective::kRegression, 14);
  std::vector<float> expected(d.rows);
  forest->Predict(d.matrix(), expected, {.threads = 1, .isa = Forest::Isa::kPlain});
  std::vector<std::vector<float>> got(4, std::vector<float>(d.rows));
  std::vector<std::thread> callers;
  for (size_t c = 0; c < got.size(); ++c) {
    callers.emplace_back([&, c] { forest->Predict(d.matrix(), got[c], {.threads = 2}); });
  }
  for (auto& t : callers) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

TEST(Train, RefusesLabelsThatDoNotMatchTheRows) {
  Data d = Make(10, 3, Objective::kBinaryLogistic, 12);
  d.y.pop_back();
  auto model = Train(d.matrix(), d.y, {});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("9 for 10 rows"), std::string::npos);
}

}  // namespace
}  // namespace foresight::ml
