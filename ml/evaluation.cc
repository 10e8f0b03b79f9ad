// Evaluation metrics and drift measures.
#include "ml/ml.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

namespace foresight::ml {
namespace {

constexpr double kFloor = 1e-4;  // keeps PSI finite where a bin is empty on one side
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kQuantiles = 21;

// The q-quantile of sorted values, interpolating between neighbours.
float Quantile(const std::vector<float>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  if (i + 1 >= sorted.size()) return sorted.back();
  const double frac = pos - static_cast<double>(i);
  return static_cast<float>(sorted[i] + frac * (sorted[i + 1] - sorted[i]));
}

// How many distinct assets have a value in column `c` (0 when `asset` is empty).
size_t AssetsWithValues(Matrix x, size_t c, std::span<const uint32_t> asset) {
  if (asset.empty()) return 0;
  std::set<uint32_t> seen;
  for (size_t r = 0; r < x.rows; ++r) {
    if (!std::isnan(x.row(r)[c])) seen.insert(asset[r]);
  }
  return seen.size();
}

}  // namespace

Evaluation EvaluateBinary(std::span<const float> scores, std::span<const float> labels) {
  Evaluation e;
  e.rows = scores.size();
  e.median_lead_days = kNaN;
  e.rmse = kNaN;
  e.mae = kNaN;
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  for (float l : labels) e.positives += l > 0.5f;
  const size_t positives = e.positives, negatives = e.rows - positives;
  if (positives == 0 || negatives == 0) {
    e.roc_auc = e.auc_pr = kNaN;
    e.tn = negatives;
    e.fn = positives;
    return e;
  }
  // Walk the distinct scores from the top: each step admits a group of tied rows.
  double tp = 0, fp = 0, area = 0, ap = 0, best_f1 = -1;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    double group_tp = 0, group_fp = 0;
    for (; j < order.size() && scores[order[j]] == scores[order[i]]; ++j) {
      (labels[order[j]] > 0.5f ? group_tp : group_fp) += 1;
    }
    area += group_fp * (tp + group_tp / 2);  // pairs this group's negatives lose or tie
    tp += group_tp;
    fp += group_fp;
    const double precision = tp / (tp + fp), recall = tp / static_cast<double>(positives);
    ap += group_tp / static_cast<double>(positives) * precision;
    const double f1 = tp > 0 ? 2 * precision * recall / (precision + recall) : 0;
    if (f1 > best_f1) {
      best_f1 = f1;
      e.threshold = scores[order[i]];
      e.tp = static_cast<uint64_t>(tp);
      e.fp = static_cast<uint64_t>(fp);
      e.precision = precision;
      e.recall = recall;
      e.f1 = f1;
    }
    i = j;
  }
  e.roc_auc = area / (static_cast<double>(positives) * static_cast<double>(negatives));
  e.auc_pr = ap;
  e.fn = positives - e.tp;
  e.tn = negatives - e.fp;
  return e;
}

Evaluation EvaluateRegression(std::span<const float> predictions, std::span<const float> labels) {
  Evaluation e;
  e.rows = predictions.size();
  e.roc_auc = e.auc_pr = e.median_lead_days = kNaN;
  double squares = 0, absolute = 0;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const double d = static_cast<double>(predictions[i]) - labels[i];
    squares += d * d;
    absolute += std::abs(d);
  }
  const double n = static_cast<double>(std::max<size_t>(e.rows, 1));
  e.rmse = std::sqrt(squares / n);
  e.mae = absolute / n;
  return e;
}

std::vector<FeatureReference> DescribeFeatures(Matrix x, std::span<const uint32_t> asset) {
  std::vector<FeatureReference> out(x.cols);
  std::vector<float> column;
  for (size_t c = 0; c < x.cols; ++c) {
    column.clear();
    for (size_t r = 0; r < x.rows; ++r) {
      if (float v = x.row(r)[c]; !std::isnan(v)) column.push_back(v);
    }
    FeatureReference& ref = out[c];
    ref.assets = AssetsWithValues(x, c, asset);
    ref.missing = x.rows ? 1.0 - static_cast<double>(column.size()) / x.rows : 0;
    if (column.empty()) continue;
    std::sort(column.begin(), column.end());
    for (int q = 0; q < kQuantiles; ++q) ref.quantiles.push_back(Quantile(column, q / 20.0));
    // Deciles: PSI's customary bins, and few enough that a month of a small fleet fills them.
    for (int q = 2; q + 1 < kQuantiles; q += 2) {
      const float edge = ref.quantiles[q];
      if (edge > column.front() && (ref.edges.empty() || edge > ref.edges.back())) {
        ref.edges.push_back(edge);
      }
    }
    ref.shares.assign(ref.edges.size() + 1, 0);
    for (float v : column) {
      ref.shares[std::upper_bound(ref.edges.begin(), ref.edges.end(), v) - ref.edges.begin()] += 1;
    }
    for (double& s : ref.shares) s /= static_cast<double>(column.size());
  }
  return out;
}

std::vector<FeatureDrift> MeasureDrift(std::span<const FeatureReference> reference,
                                       std::span<const std::string> names, Matrix current,
                                       std::span<const uint32_t> asset) {
  auto psi_term = [](double expected, double actual) {
    expected = std::max(expected, kFloor);
    actual = std::max(actual, kFloor);
    return (actual - expected) * std::log(actual / expected);
  };
  std::vector<FeatureDrift> out;
  std::vector<float> column;
  for (size_t c = 0; c < reference.size() && c < current.cols; ++c) {
    const FeatureReference& ref = reference[c];
    FeatureDrift d;
    d.feature = c < names.size() ? names[c] : std::to_string(c);
    if (const size_t n = ref.assets, m = AssetsWithValues(current, c, asset); n && m) {
      // Two-sample KS at alpha = 0.001: c(alpha) = sqrt(-ln(alpha / 2) / 2) = 1.949.
      d.ks_critical = 1.949 * std::sqrt(static_cast<double>(n + m) / static_cast<double>(n * m));
    }
    column.clear();
    for (size_t r = 0; r < current.rows; ++r) {
      if (float v = current.row(r)[c]; !std::isnan(v)) column.push_back(v);
    }
    const double rows = static_cast<double>(std::max<size_t>(current.rows, 1));
    const double missing = 1.0 - static_cast<double>(column.size()) / rows;
    d.psi = psi_term(ref.missing, missing);
    if (!ref.quantiles.empty() && !column.empty()) {
      std::vector<double> counts(ref.shares.size(), 0);
      for (float v : column) {
        counts[std::upper_bound(ref.edges.begin(), ref.edges.end(), v) - ref.edges.begin()] += 1;
      }
      for (size_t b = 0; b < counts.size(); ++b) {
        d.psi += psi_term(ref.shares[b] * (1 - ref.missing), counts[b] / rows);
      }
      // The reference CDF, linear between its quantiles.
      auto cdf = [&](float v) {
        const auto& q = ref.quantiles;
        if (v < q.front()) return 0.0;
        if (v >= q.back()) return 1.0;
        const size_t k = std::upper_bound(q.begin(), q.end(), v) - q.begin();  // q[k-1] <= v < q[k]
        const double lo = (k - 1) / 20.0, span = q[k] - q[k - 1];
        return lo + (span > 0 ? (v - q[k - 1]) / span / 20.0 : 0.0);
      };
      std::sort(column.begin(), column.end());
      const double n = static_cast<double>(column.size());
      for (size_t i = 0; i < column.size(); ++i) {
        const double f = cdf(column[i]);
        d.ks = std::max({d.ks, std::abs((i + 1) / n - f), std::abs(i / n - f)});
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace foresight::ml
