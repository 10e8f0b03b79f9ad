// The fleet simulator behind `foresight simulate` and `serve --demo`: pumps, motors,
// compressors, turbines and transformers, each with the metrics of its kind, a daily load cycle,
// seasonal ambient temperature, sensor noise at the precision real sensors report, and failure
// modes that degrade an asset over days until it fails (or until preventive maintenance catches
// it), with the maintenance records that go with both.
//
// Deterministic: every reading is a pure function of (seed, asset, metric, time), and each
// asset's life (degradation onsets, failures, preventive work) is drawn from its own random
// stream in time order from `epoch_ns`. So the same seed gives the same bytes whatever the
// interval, the order of calls, or where a run resumes. Private to tools/.
//
// Threading: one thread at a time (the life schedules are extended lazily).
#pragma once

#include "storage/storage.h"

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::tools::sim {

enum class Kind { kPump, kMotor, kCompressor, kTurbine, kTransformer };
std::string_view KindName(Kind kind);

struct MetricSpec {
  std::string_view name;
  std::string_view unit;
  int decimals;  // the precision the sensor reports
};

// The metrics an asset of `kind` reports, in line order.
std::span<const MetricSpec> Metrics(Kind kind);

using storage::kDayNs;
using storage::kSecondNs;

struct FleetOptions {
  uint64_t seed = 1;
  int assets = 24;
  // Where lives are drawn from: the start of the simulated history. Assets are already in
  // service then (at a random point of their first life), so failures do not bunch up.
  int64_t epoch_ns = 0;
  std::vector<std::string> sites = {"north", "south", "east"};
  std::string id_prefix;  // prepended to asset ids ("" gives "pump-001")
  // A sensor recalibrated (or remounted) wrongly: from `from_ns` on, every asset's `metric` reads
  // `offset` higher. Nothing about the asset changes; only what the sensor reports, which is
  // what the models' drift check is there to notice.
  struct CalibrationShift {
    std::string metric;
    double offset = 0;
    int64_t from_ns = 0;
  };
  std::vector<CalibrationShift> calibration_shifts = {};
};

struct Asset {
  std::string id;
  Kind kind;
  std::string site;
  std::string criticality;  // low, medium, high, critical
  std::string manufacturer;
  std::string model;
  int64_t installed_ns;
};

// A maintenance record, as the API takes it.
struct Event {
  std::string id;  // stable: the same event always has the same id
  size_t asset;    // index into Fleet::assets()
  int64_t at_ns;
  std::string kind;  // "failure" or "preventive"
  std::string failure_mode;
  double cost;
  double downtime_hours;
  std::string notes;
};

class Fleet {
 public:
  explicit Fleet(const FleetOptions& options);

  const std::vector<Asset>& assets() const { return assets_; }

  // The readings of asset `a` at `t_ns` into `values` (Metrics(kind) order, rounded to each
  // sensor's precision). False when the asset is down (failed and under repair): no readings.
  bool Reading(size_t a, int64_t t_ns, std::span<double> values);

  // Appends one line-protocol line per asset that is up at `t_ns`. Measurement: the kind; tags
  // asset_id, asset_type, site; one float field per metric.
  struct Appended {
    size_t rows = 0;
    size_t values = 0;
  };
  Appended AppendLines(int64_t t_ns, std::string* out);

  // Maintenance events with from_ns <= at_ns < to_ns, in time order.
  std::vector<Event> Events(int64_t from_ns, int64_t to_ns);

  // How far asset `a` has degraded at `t_ns`: 0 healthy .. 1 failing (tests, the demo).
  double Wear(size_t a, int64_t t_ns);

  // The life model's constants, so tests can state what to expect.
  struct KindModel {
    double onset_scale_days;  // Weibull scale of the healthy time before degradation starts
    double onset_shape;
    double degrade_min_days, degrade_max_days;  // degradation to failure
    double pm_interval_days;                    // preventive maintenance period
    double failure_cost;                        // typical corrective cost
  };
  static const KindModel& Model(Kind kind);

 private:
  // One life: in service at start_ns, degradation from onset_ns, failure at failure_ns unless
  // preventive work at end_ns comes first (then failed is false).
  struct Life {
    int64_t start_ns, onset_ns, failure_ns, end_ns;
    bool failed;
    int mode;
    double downtime_hours, cost;
  };
  struct State {
    std::mt19937_64 rng;
    std::vector<Life> lives;
    std::vector<double> level;  // per metric: this unit's offset from the nominal
    double size;                // rating factor
    int64_t pm_phase_ns;        // a preventive visit at every pm_phase_ns + k * interval
  };

  const Life* LifeAt(size_t a, int64_t t_ns);  // nullptr while down between lives
  static double WearIn(const Life& life, int64_t t_ns);
  void Extend(size_t a, int64_t until_ns);
  double Noise(size_t a, size_t metric, int64_t t_ns) const;

  FleetOptions options_;
  std::vector<Asset> assets_;
  std::vector<State> state_;
};

}  // namespace foresight::tools::sim
