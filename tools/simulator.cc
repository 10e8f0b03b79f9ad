#include "tools/simulator.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace foresight::tools::sim {
namespace {

constexpr MetricSpec kPump[] = {
    {"vibration_rms", "mm/s", 2}, {"bearing_temp", "degC", 1}, {"discharge_pressure", "bar", 2},
    {"flow_rate", "m3/h", 1},     {"motor_current", "A", 1},   {"rpm", "1/min", 0},
};
constexpr MetricSpec kMotor[] = {
    {"vibration_rms", "mm/s", 2}, {"bearing_temp", "degC", 1}, {"winding_temp", "degC", 1},
    {"motor_current", "A", 1},    {"power_kw", "kW", 1},       {"rpm", "1/min", 0},
};
constexpr MetricSpec kCompressor[] = {
    {"vibration_rms", "mm/s", 2},  {"bearing_temp", "degC", 1}, {"discharge_pressure", "bar", 2},
    {"discharge_temp", "degC", 1}, {"oil_pressure", "bar", 2},  {"motor_current", "A", 1},
    {"power_kw", "kW", 1},
};
constexpr MetricSpec kTurbine[] = {
    {"vibration_rms", "mm/s", 2}, {"bearing_temp", "degC", 1}, {"rpm", "1/min", 0},
    {"power_kw", "kW", 0},        {"exhaust_temp", "degC", 1}, {"oil_pressure", "bar", 2},
};
constexpr MetricSpec kTransformer[] = {
    {"oil_temp", "degC", 1}, {"winding_temp", "degC", 1}, {"load_current", "A", 0},
    {"voltage_kv", "kV", 2}, {"h2_ppm", "ppm", 0},
};

// Failure modes per kind; the life's `mode` indexes these.
constexpr std::string_view kModes[5][3] = {
    {"bearing wear", "cavitation", "seal leak"},
    {"bearing wear", "winding insulation", ""},
    {"bearing wear", "valve leak", ""},
    {"bearing wear", "blade fouling", ""},
    {"insulation breakdown", "cooling fault", ""},
};
constexpr int kModeCount[5] = {3, 2, 2, 2, 2};

constexpr Fleet::KindModel kModels[5] = {
    {70, 1.6, 5, 14, 45, 12'000},   // pump
    {100, 1.8, 6, 16, 60, 18'000},  // motor
    {80, 1.6, 5, 12, 45, 26'000},   // compressor
    {150, 2.0, 7, 18, 30, 65'000},  // turbine
    {220, 2.0, 10, 25, 180, 90'000},
};

// One in ten assets of each kind, in this order.
constexpr Kind kMix[] = {Kind::kPump,       Kind::kPump,       Kind::kMotor,   Kind::kCompressor,
                         Kind::kPump,       Kind::kMotor,      Kind::kTurbine, Kind::kPump,
                         Kind::kCompressor, Kind::kTransformer};

constexpr std::string_view kMakers[5][2] = {
    {"Grundfos", "KSB"},
    {"Siemens", "ABB"},
    {"Atlas Copco", "Ingersoll Rand"},
    {"GE", "Solar"},
    {"Hitachi Energy", "Siemens Energy"},
};
constexpr std::string_view kModelNames[5][2] = {
    {"CR 64", "Etanorm 100"}, {"SIMOTICS 1LE1", "M3BP 250"},    {"GA 75", "R-Series 90"},
    {"LM2500", "Taurus 60"},  {"TXpert 2.5MVA", "GEAFOL 1600"},
};

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

double Unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

double Uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * Unit(rng()); }

size_t Index(Kind kind) { return static_cast<size_t>(kind); }

double Clamp(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

// The share of full load at t: a daily cycle (peaks mid-afternoon), quieter weekends.
double Load(int64_t t_ns, double phase_h) {
  const double hour = static_cast<double>(t_ns % kDayNs) / (3600.0 * kSecondNs) + phase_h;
  const int64_t weekday = (t_ns / kDayNs + 4) % 7;  // 1970-01-01 was a Thursday; 0 = Sunday
  double load = 0.62 + 0.22 * std::sin(2 * M_PI * (hour - 9) / 24) +
                0.06 * std::sin(4 * M_PI * (hour - 6) / 24);
  if (weekday == 0 || weekday == 6) load -= 0.12;
  return Clamp(load, 0.15, 1.0);
}

// Outdoor temperature: a season and a day.
double Ambient(int64_t t_ns) {
  const double day_of_year = std::fmod(static_cast<double>(t_ns) / kDayNs, 365.25);
  const double hour = static_cast<double>(t_ns % kDayNs) / (3600.0 * kSecondNs);
  return 12 + 9 * std::sin(2 * M_PI * (day_of_year - 110) / 365.25) +
         4 * std::sin(2 * M_PI * (hour - 9) / 24);
}

}  // namespace

std::string_view KindName(Kind kind) {
  static constexpr std::string_view kNames[] = {"pump", "motor", "compressor", "turbine",
                                                "transformer"};
  return kNames[Index(kind)];
}

std::span<const MetricSpec> Metrics(Kind kind) {
  switch (kind) {
    case Kind::kPump:
      return kPump;
    case Kind::kMotor:
      return kMotor;
    case Kind::kCompressor:
      return kCompressor;
    case Kind::kTurbine:
      return kTurbine;
    case Kind::kTransformer:
      return kTransformer;
  }
  return {};
}

const Fleet::KindModel& Fleet::Model(Kind kind) { return kModels[Index(kind)]; }

Fleet::Fleet(const FleetOptions& options) : options_(options) {
  int per_kind[5] = {};
  for (int i = 0; i < options.assets; ++i) {
    const Kind kind = kMix[i % std::size(kMix)];
    const size_t k = Index(kind);
    State s{std::mt19937_64(SplitMix(options.seed * 0x100000001B3ull + static_cast<uint64_t>(i))),
            {},
            {},
            0,
            0};
    Asset asset;
    char id[64];
    std::snprintf(id, sizeof id, "%s%s-%03d", options.id_prefix.c_str(), KindName(kind).data(),
                  ++per_kind[k]);
    asset.id = id;
    asset.kind = kind;
    asset.site = options.sites.empty() ? "main" : options.sites[i % options.sites.size()];
    static constexpr std::string_view kCriticality[] = {"low", "medium", "high", "critical"};
    // Turbines and transformers matter more: one of them down stops a site.
    const int base = (kind == Kind::kTurbine || kind == Kind::kTransformer) ? 2 : 0;
    asset.criticality = kCriticality[std::min<uint64_t>(3, base + s.rng() % 3)];
    const size_t maker = s.rng() % 2;
    asset.manufacturer = kMakers[k][maker];
    asset.model = kModelNames[k][maker];
    asset.installed_ns =
        options.epoch_ns - static_cast<int64_t>(Uniform(s.rng, 1, 12) * 365.25 * kDayNs);
    s.size = Uniform(s.rng, 0.8, 1.3);
    for (size_t m = 0; m < Metrics(kind).size(); ++m) {
      s.level.push_back(0.03 * (Unit(s.rng()) * 2 - 1));
    }
    // Lives and maintenance are placed relative to the epoch: the same seed gives the same
    // story whatever day the history begins.
    s.pm_phase_ns = options.epoch_ns +
                    static_cast<int64_t>(Unit(s.rng()) * kModels[k].pm_interval_days * kDayNs);
    assets_.push_back(std::move(asset));
    state_.push_back(std::move(s));
  }
}

void Fleet::Extend(size_t a, int64_t until_ns) {
  State& s = state_[a];
  const KindModel& model = kModels[Index(assets_[a].kind)];
  const int64_t pm_interval = static_cast<int64_t>(model.pm_interval_days * kDayNs);
  auto next_start = [](const Life& l) {
    return l.end_ns + static_cast<int64_t>(l.downtime_hours * 3600 * kSecondNs);
  };
  while (s.lives.empty() || next_start(s.lives.back()) <= until_ns) {
    // Every life draws the same number of values, so the stream stays aligned.
    const double u_start = Unit(s.rng()), u_onset = Unit(s.rng()), u_span = Unit(s.rng());
    const double u_mode = Unit(s.rng()), u_down = Unit(s.rng()), u_cost = Unit(s.rng());
    Life life;
    life.start_ns =
        s.lives.empty()
            ? options_.epoch_ns - static_cast<int64_t>(u_start * model.onset_scale_days * kDayNs)
            : next_start(s.lives.back());
    // Weibull by inversion: scale * (-ln(1-u))^(1/shape).
    const double healthy_days =
        model.onset_scale_days * std::pow(-std::log1p(-u_onset), 1 / model.onset_shape);
    life.onset_ns = life.start_ns + static_cast<int64_t>(healthy_days * kDayNs);
    const double span_days =
        model.degrade_min_days + u_span * (model.degrade_max_days - model.degrade_min_days);
    const int64_t span_ns = static_cast<int64_t>(span_days * kDayNs);
    life.failure_ns = life.onset_ns + span_ns;
    life.mode = std::min(kModeCount[Index(assets_[a].kind)] - 1,
                         static_cast<int>(u_mode * kModeCount[Index(assets_[a].kind)]));
    // Preventive work catches the fault once it is visible (past 40 % of its course).
    const int64_t visible_ns = life.onset_ns + span_ns * 2 / 5;
    const int64_t k = (visible_ns - s.pm_phase_ns + pm_interval - 1) / pm_interval;
    const int64_t pm_ns = s.pm_phase_ns + std::max<int64_t>(k, 0) * pm_interval;
    life.failed = !(pm_ns >= visible_ns && pm_ns < life.failure_ns);
    life.end_ns = life.failed ? life.failure_ns : pm_ns;
    life.downtime_hours = life.failed ? 6 + 66 * u_down : 2 + 6 * u_down;
    life.cost = model.failure_cost * (life.failed ? 0.7 + 0.8 * u_cost : 0.12 + 0.08 * u_cost);
    s.lives.push_back(life);
  }
}

const Fleet::Life* Fleet::LifeAt(size_t a, int64_t t_ns) {
  Extend(a, t_ns);
  const auto& lives = state_[a].lives;
  auto it = std::upper_bound(lives.begin(), lives.end(), t_ns,
                             [](int64_t t, const Life& l) { return t < l.start_ns; });
  if (it == lives.begin()) return nullptr;
  --it;
  return t_ns < it->end_ns ? &*it : nullptr;
}

double Fleet::WearIn(const Life& life, int64_t t_ns) {
  if (t_ns < life.onset_ns) return 0;
  const double x = static_cast<double>(t_ns - life.onset_ns) /
                   static_cast<double>(life.failure_ns - life.onset_ns);
  return std::min(1.0, x * x);
}

double Fleet::Wear(size_t a, int64_t t_ns) {
  const Life* life = LifeAt(a, t_ns);
  return life ? WearIn(*life, t_ns) : 1;
}

double Fleet::Noise(size_t a, size_t metric, int64_t t_ns) const {
  const uint64_t key = SplitMix(options_.seed ^ SplitMix((a + 1) * 0x9E3779B97F4A7C15ull ^
                                                         (metric + 1) * 0xC2B2AE3D27D4EB4Full ^
                                                         static_cast<uint64_t>(t_ns)));
  // Box-Muller from two uniforms of the same key.
  const double u1 = std::max(Unit(key), 1e-300), u2 = Unit(SplitMix(key));
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

bool Fleet::Reading(size_t a, int64_t t_ns, std::span<double> v) {
  const Life* life = LifeAt(a, t_ns);
  if (!life) return false;
  const Kind kind = assets_[a].kind;
  const State& s = state_[a];
  const double w = WearIn(*life, t_ns);
  const double L = Load(t_ns, static_cast<double>(a % 5) * 0.3);
  const double A = Ambient(t_ns);
  const double z = s.size;
  auto n = [&](size_t m) { return Noise(a, m, t_ns); };
  // Wear of this life's failure mode, zero for the others.
  auto mode = [&](int m) { return life->mode == m ? w : 0.0; };
  switch (kind) {
    case Kind::kPump: {
      const double bearing = mode(0), cavitation = mode(1), seal = mode(2);
      v[0] = (1.8 + 1.0 * L) * (1 + 3 * bearing) + 2.0 * cavitation +
             (0.08 + 0.5 * (bearing + cavitation)) * std::abs(n(0));
      v[1] = A + 18 + 14 * L + 28 * bearing + 0.3 * n(1);
      v[2] = (3.2 + 2.2 * L) * (1 - 0.22 * cavitation - 0.15 * seal) +
             (0.03 + 0.15 * cavitation) * n(2);
      v[3] = z * (60 + 90 * L) * (1 - 0.18 * cavitation - 0.12 * seal) + 0.8 * n(3);
      v[4] = z * (14 + 22 * L) * (1 + 0.08 * seal + 0.05 * bearing) + 0.2 * n(4);
      v[5] = 1485 - 12 * L + 1.5 * n(5);
      break;
    }
    case Kind::kMotor: {
      const double bearing = mode(0), insulation = mode(1);
      v[0] = (1.4 + 0.8 * L) * (1 + 3.5 * bearing) + (0.06 + 0.4 * bearing) * std::abs(n(0));
      v[1] = A + 16 + 12 * L + 30 * bearing + 0.3 * n(1);
      v[2] = A + 30 + 40 * L + 45 * insulation + 0.4 * n(2);
      v[3] = z * (18 + 40 * L) * (1 + 0.12 * insulation) + 0.25 * n(3);
      v[4] = z * (9 + 26 * L) * (1 + 0.06 * insulation) + 0.2 * n(4);
      v[5] = 1490 - 15 * L + 1.2 * n(5);
      break;
    }
    case Kind::kCompressor: {
      const double bearing = mode(0), valve = mode(1);
      v[0] = (2.4 + 1.2 * L) * (1 + 3 * bearing) + (0.08 + 0.5 * bearing) * std::abs(n(0));
      v[1] = A + 20 + 14 * L + 26 * bearing + 0.3 * n(1);
      v[2] = (6.2 + 1.6 * L) * (1 - 0.2 * valve) + 0.04 * n(2);
      v[3] = A + 55 + 35 * L + 30 * valve + 0.5 * n(3);
      v[4] = 3.1 - 0.2 * L - 0.6 * bearing + 0.03 * n(4);
      v[5] = z * (45 + 60 * L) * (1 + 0.1 * valve) + 0.4 * n(5);
      v[6] = z * (25 + 40 * L) * (1 + 0.12 * valve) + 0.3 * n(6);
      break;
    }
    case Kind::kTurbine: {
      const double bearing = mode(0), fouling = mode(1);
      v[0] = (2.0 + 0.9 * L) * (1 + 3 * bearing) + 1.2 * fouling +
             (0.07 + 0.4 * bearing) * std::abs(n(0));
      v[1] = A + 35 + 20 * L + 25 * bearing + 0.3 * n(1);
      v[2] = 3000 - 6 * L + 3 * n(2);
      v[3] = z * (800 + 3200 * L) * (1 - 0.15 * fouling) + 10 * n(3);
      v[4] = 380 + 160 * L + 0.5 * A + 45 * fouling + 1.5 * n(4);
      v[5] = 2.4 - 0.1 * L - 0.5 * bearing + 0.02 * n(5);
      break;
    }
    case Kind::kTransformer: {
      const double insulation = mode(0), cooling = mode(1);
      v[0] = A + 18 + 30 * L * L + 22 * insulation + 30 * cooling + 0.2 * n(0);
      v[1] = v[0] + 12 + 18 * L + 15 * w + 0.3 * n(1);
      v[2] = z * (120 + 380 * L) + 2 * n(2);
      v[3] = 11.0 - 0.15 * L + 0.02 * n(3);
      v[4] = std::max(0.0, 25 + 600 * std::pow(insulation, 1.5) + 1.0 * n(4));
      break;
    }
  }
  const auto metrics = Metrics(kind);
  for (size_t m = 0; m < metrics.size(); ++m) {
    v[m] *= 1 + s.level[m];
    for (const auto& shift : options_.calibration_shifts) {
      if (t_ns >= shift.from_ns && shift.metric == metrics[m].name) v[m] += shift.offset;
    }
    const double scale = std::pow(10.0, metrics[m].decimals);
    v[m] = std::round(v[m] * scale) / scale;
  }
  return true;
}

Fleet::Appended Fleet::AppendLines(int64_t t_ns, std::string* out) {
  Appended appended;
  double values[8];
  char number[48];
  for (size_t a = 0; a < assets_.size(); ++a) {
    if (!Reading(a, t_ns, values)) continue;
    const Asset& asset = assets_[a];
    const std::string_view kind = KindName(asset.kind);
    out->append(kind).append(",asset_id=").append(asset.id).append(",asset_type=").append(kind);
    out->append(",site=").append(asset.site).push_back(' ');
    const auto metrics = Metrics(asset.kind);
    for (size_t m = 0; m < metrics.size(); ++m) {
      if (m) out->push_back(',');
      out->append(metrics[m].name).push_back('=');
      auto r = std::to_chars(number, number + sizeof number, values[m], std::chars_format::fixed,
                             metrics[m].decimals);
      out->append(number, r.ptr);
    }
    out->push_back(' ');
    auto r = std::to_chars(number, number + sizeof number, t_ns);
    out->append(number, r.ptr).push_back('\n');
    ++appended.rows;
    appended.values += metrics.size();
  }
  return appended;
}

std::vector<Event> Fleet::Events(int64_t from_ns, int64_t to_ns) {
  std::vector<Event> events;
  auto make = [&](size_t a, int64_t at_ns, std::string kind, std::string_view mode, double cost,
                  double downtime_hours, std::string notes) {
    char id[96];
    std::snprintf(id, sizeof id, "sim-%s-%lld", assets_[a].id.c_str(),
                  static_cast<long long>(at_ns / kSecondNs));
    events.push_back({id, a, at_ns, std::move(kind), std::string(mode), std::round(cost),
                      std::round(downtime_hours * 10) / 10, std::move(notes)});
  };
  for (size_t a = 0; a < assets_.size(); ++a) {
    Extend(a, to_ns);
    const size_t k = Index(assets_[a].kind);
    const State& s = state_[a];
    for (const Life& life : s.lives) {
      if (life.end_ns < from_ns || life.end_ns >= to_ns) continue;
      const std::string_view mode = kModes[k][life.mode];
      if (life.failed) {
        make(a, life.end_ns, "failure", mode, life.cost, life.downtime_hours,
             std::string(mode) + ": unit tripped and was repaired");
      } else {
        make(a, life.end_ns, "preventive", mode, life.cost, life.downtime_hours,
             "preventive maintenance found " + std::string(mode) + " and corrected it");
      }
    }
    // Routine preventive work on the schedule, while the asset runs and finds nothing.
    const int64_t interval = static_cast<int64_t>(kModels[k].pm_interval_days * kDayNs);
    int64_t first =
        s.pm_phase_ns +
        std::max<int64_t>(0, (from_ns - s.pm_phase_ns + interval - 1) / interval) * interval;
    for (int64_t p = first; p < to_ns; p += interval) {
      const Life* life = LifeAt(a, p);
      if (!life || p < from_ns) continue;
      const uint64_t h = SplitMix(options_.seed ^ SplitMix(a * 31 + static_cast<uint64_t>(p)));
      make(a, p, "preventive", "", kModels[k].failure_cost * (0.03 + 0.03 * Unit(h)),
           1 + 3 * Unit(SplitMix(h)), "routine preventive maintenance");
    }
  }
  std::sort(events.begin(), events.end(), [](const Event& x, const Event& y) {
    return x.at_ns != y.at_ns ? x.at_ns < y.at_ns : x.id < y.id;
  });
  return events;
}

}  // namespace foresight::tools::sim
