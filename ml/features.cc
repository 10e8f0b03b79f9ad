// Features from the daily rollups, for the whole fleet at once, and labels from maintenance.
//
// Each metric becomes days x assets Eigen arrays of the daily aggregates (count, sum, sum of
// squares, min, max, last); a window's count, sum and least-squares sums are differences of
// prefix sums over the day axis, and its min and max a running reduction over w shifted
// blocks, so every (asset, day) row of a window costs a few vector operations across assets.
#include "ml/ml.h"

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>

namespace foresight::ml {
namespace {

using Days = Eigen::ArrayXXd;  // rows: days of the axis; columns: assets
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kLongestWindow = kWindowsDays[std::size(kWindowsDays) - 1];
static_assert(kWindowsDays[1] == 30, "delta_30d compares the 30-day window with the baseline");

// Prefix sums down the day axis: row i holds the sum of rows [0, i) of `x`.
Days Prefix(const Days& x) {
  Days p = Days::Zero(x.rows() + 1, x.cols());
  for (Eigen::Index i = 0; i < x.rows(); ++i) p.row(i + 1) = p.row(i) + x.row(i);
  return p;
}

// The sum over the window (d - w, d] for each output day d = first .. first + n - 1.
Days WindowSum(const Days& prefix, Eigen::Index first, Eigen::Index n, int w) {
  return prefix.middleRows(first + 1, n) - prefix.middleRows(first + 1 - w, n);
}

// An asset's first kBaselineDays days of one metric, from its first day with a reading.
struct Baseline {
  int64_t first_day = INT64_MAX;
  std::array<double, kBaselineDays> count{}, sum{};
};

// The daily aggregates of one metric across the fleet, and each asset's baseline.
struct Daily {
  Days count, sum, squares, min, max, last, last_day;
  std::vector<Baseline> baseline;
  Daily(Eigen::Index days, Eigen::Index assets)
      : count(Days::Zero(days, assets)),
        sum(Days::Zero(days, assets)),
        squares(Days::Zero(days, assets)),
        min(Days::Constant(days, assets, kInf)),
        max(Days::Constant(days, assets, -kInf)),
        last(Days::Constant(days, assets, kNaN)),
        last_day(Days::Constant(days, assets, -kInf)),
        baseline(static_cast<size_t>(assets)) {}
};

// The columns, in the order of ml.h: per metric its window statistics, last and deltas; then
// the asset columns.
std::vector<std::string> ColumnNames(std::span<const std::string> metrics) {
  std::vector<std::string> names;
  for (const std::string& m : metrics) {
    for (int w : kWindowsDays) {
      for (const char* stat : {"mean", "std", "min", "max", "slope"}) {
        names.push_back(m + "." + stat + "_" + std::to_string(w) + "d");
      }
    }
    names.push_back(m + ".last");
    names.push_back(m + ".delta_30d");
    names.push_back(m + ".delta_30d_per_day");
  }
  for (const char* name : {"alerts_30d", "days_since_maintenance", "age_days", "criticality"}) {
    names.push_back(name);
  }
  return names;
}

// Every metric name some asset reports, sorted.
std::vector<std::string> FleetMetrics(const Fleet& fleet) {
  std::vector<std::string> metrics;
  for (const FleetAsset& a : fleet.assets) {
    for (const auto& [name, series] : a.metrics) metrics.push_back(name);
  }
  std::sort(metrics.begin(), metrics.end());
  metrics.erase(std::unique(metrics.begin(), metrics.end()), metrics.end());
  return metrics;
}

// The output days [lo, hi] on an axis from `start` that also holds the longest window before
// lo: axis days in all, output rows [first, first + out) of it.
struct DayAxis {
  int64_t lo = 0, hi = 0, start = 0;
  Eigen::Index axis = 0, first = 0, out = 0;
};

// The days a query asks for; nullopt when it scores no asset at all.
Result<std::optional<DayAxis>> ChooseDays(const FeatureQuery& query, bool scoring) {
  DayAxis x;
  x.lo = query.from_day;
  x.hi = query.to_day;
  if (scoring) {
    x.lo = INT64_MAX;
    x.hi = INT64_MIN;
    for (int64_t d : query.as_of_day) {
      if (d < 0) continue;
      x.lo = std::min(x.lo, d);
      x.hi = std::max(x.hi, d);
    }
    if (x.lo > x.hi) return std::optional<DayAxis>();
  }
  if (x.hi < x.lo) return Status::InvalidArgument("to_day is before from_day");
  if (x.hi - x.lo > 100 * 366) return Status::InvalidArgument("more than 100 years of days");
  x.start = x.lo - (kLongestWindow - 1);
  x.axis = x.hi - x.start + 1;
  x.first = x.lo - x.start;
  x.out = x.hi - x.lo + 1;
  return std::optional<DayAxis>(x);
}

// Reads every metric's daily buckets, from the asset's installation for its baseline (at most
// 100 years back), into `daily` (one per metric of `metrics`); `reported` marks each (day,
// asset) with any reading.
Status ReadDaily(const storage::Storage& storage, const Fleet& fleet,
                 std::span<const std::string> metrics, const DayAxis& x, std::vector<Daily>* daily,
                 Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic>* reported) {
  const auto assets = static_cast<Eigen::Index>(fleet.assets.size());
  std::map<std::string, size_t, std::less<>> metric_index;
  for (size_t i = 0; i < metrics.size(); ++i) metric_index.emplace(metrics[i], i);
  daily->reserve(metrics.size());
  for (size_t i = 0; i < metrics.size(); ++i) daily->emplace_back(x.axis, assets);
  *reported = Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic>::Constant(x.axis, assets, false);
  for (Eigen::Index a = 0; a < assets; ++a) {
    for (const auto& [name, series] : fleet.assets[a].metrics) {
      auto it = metric_index.find(name);
      if (it == metric_index.end()) continue;
      const int64_t from_ns = std::clamp(fleet.assets[a].installed_ns,
                                         (x.start - 100 * 366) * kDayNs, x.start * kDayNs);
      auto buckets = storage.ReadDownsampled(fleet.tenant, series, from_ns, (x.hi + 1) * kDayNs,
                                             std::chrono::hours(24));
      if (!buckets.ok()) return buckets.status();
      Daily& m = (*daily)[it->second];
      Baseline& base = m.baseline[a];
      for (const storage::Bucket& b : *buckets) {  // oldest first
        if (b.count == 0) continue;
        const int64_t day = DayOf(b.start_ns);
        base.first_day = std::min(base.first_day, day);
        if (const int64_t i = day - base.first_day; i < kBaselineDays) {
          base.count[i] += static_cast<double>(b.count);
          base.sum[i] += b.sum;
        }
        const int64_t d = day - x.start;
        if (d < 0 || d >= x.axis) continue;
        m.count(d, a) = static_cast<double>(b.count);
        m.sum(d, a) = b.sum;
        m.squares(d, a) = b.sum_squares;
        m.min(d, a) = b.min;
        m.max(d, a) = b.max;
        m.last(d, a) = b.last;
        m.last_day(d, a) = static_cast<double>(d);
        (*reported)(d, a) = true;
      }
    }
  }
  return Status::OK();
}

// Writes one column of days x assets values into the rows `row_of` names (-1: no row).
using Scatter = std::function<void(size_t col, const Days& x)>;

// The columns of one metric, from column `*col` on: per window mean, std, min, max, slope; then
// last, delta_30d and delta_30d_per_day.
void MetricColumns(const Daily& m, const DayAxis& x, const Scatter& scatter, size_t* col) {
  const Eigen::Index first = x.first, out = x.out, assets = m.count.cols();
  // Day positions for the trend, relative to the axis start.
  Days t(x.axis, assets);
  for (Eigen::Index d = 0; d < x.axis; ++d) t.row(d).setConstant(static_cast<double>(d));
  Days mean_30d;
  const Days has = (m.count > 0).cast<double>();
  const Days mean_of_day = (m.count > 0).select(m.sum / m.count.max(1), 0.0);
  const Days p_count = Prefix(m.count), p_sum = Prefix(m.sum), p_squares = Prefix(m.squares);
  const Days p_n = Prefix(has), p_t = Prefix(t * has), p_tt = Prefix(t * t * has),
             p_y = Prefix(mean_of_day), p_ty = Prefix(t * mean_of_day);
  for (int w : kWindowsDays) {
    const Days count = WindowSum(p_count, first, out, w);
    const Days empty = (count > 0).select(Days::Zero(out, assets), kNaN);
    const Days mean = WindowSum(p_sum, first, out, w) / count.max(1) + empty;
    const Days var = (WindowSum(p_squares, first, out, w) / count.max(1) - mean.square()).max(0);
    Days lo_w = m.min.middleRows(first, out), hi_w = m.max.middleRows(first, out);
    for (int k = 1; k < w; ++k) {
      lo_w = lo_w.min(m.min.middleRows(first - k, out));
      hi_w = hi_w.max(m.max.middleRows(first - k, out));
    }
    const Days n = WindowSum(p_n, first, out, w), st = WindowSum(p_t, first, out, w),
               stt = WindowSum(p_tt, first, out, w), sy = WindowSum(p_y, first, out, w),
               sty = WindowSum(p_ty, first, out, w);
    const Days denominator = n * stt - st * st;
    const Days slope = (n >= 2 && denominator > 0).select((n * sty - st * sy) / denominator, kNaN);
    scatter((*col)++, mean);
    scatter((*col)++, var.sqrt() + empty);
    scatter((*col)++, lo_w + empty);
    scatter((*col)++, hi_w + empty);
    scatter((*col)++, slope);
    if (w == 30) mean_30d = mean;
  }
  // The latest value within the longest window: carry each day's last value forward.
  Days last = m.last, last_day = m.last_day;
  for (Eigen::Index d = 1; d < x.axis; ++d) {
    const auto keep = m.count.row(d) == 0;
    last.row(d) = keep.select(last.row(d - 1), last.row(d));
    last_day.row(d) = keep.select(last_day.row(d - 1), last_day.row(d));
  }
  const Days fresh = t.middleRows(first, out) - last_day.middleRows(first, out);
  scatter((*col)++, (fresh < kLongestWindow).select(last.middleRows(first, out), kNaN));

  Days delta = Days::Constant(out, assets, kNaN), per_day = Days::Constant(out, assets, kNaN);
  for (Eigen::Index a = 0; a < assets; ++a) {
    const Baseline& base = m.baseline[static_cast<size_t>(a)];
    if (base.first_day == INT64_MAX) continue;  // no reading
    // Over the baseline's first i days.
    std::array<double, kBaselineDays + 1> count{}, sum{};
    for (int i = 0; i < kBaselineDays; ++i) {
      count[i + 1] = count[i] + base.count[i];
      sum[i + 1] = sum[i] + base.sum[i];
    }
    for (Eigen::Index d = 0; d < out; ++d) {
      const int64_t since = x.lo + d - base.first_day;
      if (since < 0) continue;
      const int64_t days = std::min<int64_t>(since + 1, kBaselineDays);
      delta(d, a) = mean_30d(d, a) - sum[days] / count[days];
      if (since >= kBaselineDays) per_day(d, a) = delta(d, a) / static_cast<double>(since);
    }
  }
  scatter((*col)++, delta);
  scatter((*col)++, per_day);
}

// The asset columns of every row, from column `col` on: alerts_30d, days_since_maintenance,
// age_days, criticality.
void AssetColumns(const Fleet& fleet, size_t col, FeatureTable* table) {
  const size_t cols = table->names.size();
  std::vector<std::vector<int64_t>> alert_days(fleet.assets.size()),
      maintenance(fleet.assets.size());
  for (const FleetEvent& e : fleet.alerts) {
    if (e.asset < fleet.assets.size()) alert_days[e.asset].push_back(DayOf(e.ts_ns));
  }
  for (const FleetEvent& e : fleet.maintenance) {
    if (e.asset < fleet.assets.size()) maintenance[e.asset].push_back(e.ts_ns);
  }
  for (auto& v : alert_days) std::sort(v.begin(), v.end());
  for (auto& v : maintenance) std::sort(v.begin(), v.end());
  for (size_t r = 0; r < table->rows(); ++r) {
    const uint32_t a = table->asset[r];
    const int64_t d = table->day[r], end_ns = (d + 1) * kDayNs;
    float* row = table->values.data() + r * cols + col;
    const auto& alerts = alert_days[a];
    row[0] = static_cast<float>(std::upper_bound(alerts.begin(), alerts.end(), d) -
                                std::upper_bound(alerts.begin(), alerts.end(), d - 30));
    const auto& done = maintenance[a];
    auto after = std::lower_bound(done.begin(), done.end(), end_ns);
    row[1] = after == done.begin()
                 ? std::numeric_limits<float>::quiet_NaN()
                 : static_cast<float>(static_cast<double>(end_ns - *(after - 1)) / kDayNs);
    row[2] =
        static_cast<float>(static_cast<double>(end_ns - fleet.assets[a].installed_ns) / kDayNs);
    row[3] = static_cast<float>(fleet.assets[a].criticality);
  }
}

}  // namespace

Result<FeatureTable> BuildFeatures(const storage::Storage& storage, const Fleet& fleet,
                                   const FeatureQuery& query) {
  const auto assets = static_cast<Eigen::Index>(fleet.assets.size());
  const bool scoring = !query.as_of_day.empty();
  if (scoring && query.as_of_day.size() != fleet.assets.size()) {
    return Status::InvalidArgument("as_of_day: one day per asset");
  }
  FeatureTable table;
  table.metrics = query.metrics.empty() ? FleetMetrics(fleet) : query.metrics;
  table.names = ColumnNames(table.metrics);
  const size_t cols = table.names.size();
  auto days = ChooseDays(query, scoring);
  if (!days.ok()) return days.status();
  if (!*days) return table;
  const DayAxis& x = **days;

  std::vector<Daily> daily;
  Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic> reported;
  if (Status s = ReadDaily(storage, fleet, table.metrics, x, &daily, &reported); !s.ok()) return s;

  // Which (day, asset) becomes which row: assets in order, days in order; an (asset, day) with
  // any reading (training) or the day asked for (scoring).
  Eigen::ArrayXX<int64_t> row_of = Eigen::ArrayXX<int64_t>::Constant(x.out, assets, -1);
  for (Eigen::Index a = 0; a < assets; ++a) {
    for (Eigen::Index d = 0; d < x.out; ++d) {
      const bool wanted = scoring ? query.as_of_day[a] == x.lo + d : reported(x.first + d, a);
      if (!wanted) continue;
      row_of(d, a) = static_cast<int64_t>(table.asset.size());
      table.asset.push_back(static_cast<uint32_t>(a));
      table.day.push_back(x.lo + d);
    }
  }
  table.values.assign(table.rows() * cols, std::numeric_limits<float>::quiet_NaN());
  const Scatter scatter = [&](size_t col, const Days& v) {
    for (Eigen::Index a = 0; a < assets; ++a) {
      for (Eigen::Index d = 0; d < x.out; ++d) {
        if (int64_t r = row_of(d, a); r >= 0) {
          table.values[static_cast<size_t>(r) * cols + col] = static_cast<float>(v(d, a));
        }
      }
    }
  };
  size_t col = 0;
  for (const Daily& m : daily) MetricColumns(m, x, scatter, &col);
  AssetColumns(fleet, col, &table);
  return table;
}

FeatureTable DaysOf(const FeatureTable& table, int64_t from_day, int64_t to_day) {
  FeatureTable out;
  out.metrics = table.metrics;
  out.names = table.names;
  const size_t cols = table.names.size();
  for (size_t r = 0; r < table.rows(); ++r) {
    if (table.day[r] < from_day || table.day[r] > to_day) continue;
    out.asset.push_back(table.asset[r]);
    out.day.push_back(table.day[r]);
    out.values.insert(out.values.end(), table.values.begin() + r * cols,
                      table.values.begin() + (r + 1) * cols);
  }
  return out;
}

Status SelectFeatures(FeatureTable* table, std::span<const std::string> names) {
  if (std::equal(names.begin(), names.end(), table->names.begin(), table->names.end())) {
    return Status::OK();
  }
  std::vector<size_t> from;
  from.reserve(names.size());
  for (const std::string& name : names) {
    auto it = std::find(table->names.begin(), table->names.end(), name);
    if (it == table->names.end()) {
      return Status::FailedPrecondition("feature '" + name + "' is no longer built");
    }
    from.push_back(static_cast<size_t>(it - table->names.begin()));
  }
  const size_t cols = table->names.size();
  std::vector<float> values(table->rows() * names.size());
  for (size_t r = 0; r < table->rows(); ++r) {
    for (size_t c = 0; c < from.size(); ++c) {
      values[r * from.size() + c] = table->values[r * cols + from[c]];
    }
  }
  table->values = std::move(values);
  table->names.assign(names.begin(), names.end());
  return Status::OK();
}

Labels MakeLabels(const Fleet& fleet, const FeatureTable& table, const LabelOptions& options) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const int64_t known_ns = (options.known_until_day + 1) * kDayNs;
  std::vector<std::vector<int64_t>> failures(fleet.assets.size()), visits(fleet.assets.size());
  for (const FleetEvent& e : fleet.maintenance) {
    if (e.asset >= fleet.assets.size() || e.ts_ns >= known_ns) continue;
    visits[e.asset].push_back(e.ts_ns);
    if (e.failure) failures[e.asset].push_back(e.ts_ns);
  }
  for (auto& v : failures) std::sort(v.begin(), v.end());
  for (auto& v : visits) std::sort(v.begin(), v.end());
  // An asset's horizon is observed only while it reports: one that stopped (retired, or its
  // history cut short) says nothing about the days after its last row.
  std::vector<int64_t> observed_ns(fleet.assets.size(), INT64_MIN);
  for (size_t r = 0; r < table.rows(); ++r) {
    int64_t& o = observed_ns[table.asset[r]];
    o = std::max(o, std::min((table.day[r] + 1) * kDayNs, known_ns));
  }
  Labels labels;
  const size_t n = table.rows();
  labels.fails_7d.assign(n, nan);
  labels.fails_30d.assign(n, nan);
  labels.rul_days.assign(n, nan);
  for (size_t r = 0; r < n; ++r) {
    const uint32_t a = table.asset[r];
    const int64_t end_ns = (table.day[r] + 1) * kDayNs;
    if (end_ns > known_ns) continue;
    const auto& v = visits[a];
    auto after = std::lower_bound(v.begin(), v.end(), end_ns);
    if (after != v.begin() &&
        end_ns - *(after - 1) <= options.exclude_days_after_maintenance * kDayNs) {
      continue;
    }
    const auto& f = failures[a];
    auto next = std::lower_bound(f.begin(), f.end(), end_ns);
    const double until_failure = next == f.end() ? std::numeric_limits<double>::infinity()
                                                 : static_cast<double>(*next - end_ns) / kDayNs;
    const double known_days = static_cast<double>(observed_ns[a] - end_ns) / kDayNs;
    auto horizon = [&](double days) {
      if (until_failure <= days) return 1.0f;
      return known_days >= days ? 0.0f : nan;
    };
    labels.fails_7d[r] = horizon(7);
    labels.fails_30d[r] = horizon(30);
    if (until_failure <= options.rul_cap_days) {
      labels.rul_days[r] = static_cast<float>(until_failure);
    } else if (known_days >= options.rul_cap_days) {
      labels.rul_days[r] = static_cast<float>(options.rul_cap_days);
    }
  }
  return labels;
}

}  // namespace foresight::ml
