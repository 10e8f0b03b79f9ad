// The deterministic IoT workload of the storage and ingest benchmarks and `foresight loadgen`:
// assets x 8 float metrics at a fixed interval, with a daily load cycle, slow drift and sensor
// noise, rounded to the precision a real sensor reports (1-3 decimals). Same seed, same numbers, on
// every machine.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace foresight::tools {

struct Metric {
  const char* name;
  double base;   // typical level
  double daily;  // amplitude of the daily load cycle
  double drift;  // random-walk step per reading
  double noise;  // sensor noise (standard deviation)
  int decimals;  // reported precision
};

inline const std::vector<Metric>& IotMetrics() {
  static const std::vector<Metric> kMetrics = {
      {"temperature", 65.0, 6.0, 0.002, 0.05, 2}, {"vibration_rms", 3.2, 0.6, 0.0005, 0.02, 3},
      {"pressure", 5.5, 0.3, 0.0002, 0.01, 2},    {"motor_current", 22.0, 4.0, 0.002, 0.08, 2},
      {"rpm", 1480.0, 15.0, 0.01, 1.5, 1},        {"power_kw", 48.0, 9.0, 0.005, 0.3, 2},
      {"flow_rate", 120.0, 12.0, 0.01, 0.4, 2},   {"bearing_temp", 58.0, 4.0, 0.002, 0.04, 2},
  };
  return kMetrics;
}

// Generates readings asset by asset, in time order.
class IotGenerator {
 public:
  IotGenerator(int assets, uint64_t seed) : rng_(seed), noise_(0, 1) {
    for (int a = 0; a < assets; ++a) {
      for (const Metric& m : IotMetrics()) {
        levels_.push_back(m.base * (0.85 + 0.3 * Uniform()));
        phases_.push_back(Uniform() * 2 * M_PI);
      }
    }
  }

  // The value of metric m of asset a at step t (call in increasing t for each (a, m)).
  double Next(int asset, int metric, int64_t ts_ns) {
    const Metric& m = IotMetrics()[metric];
    size_t i = static_cast<size_t>(asset) * IotMetrics().size() + metric;
    levels_[i] += m.drift * noise_(rng_);
    double day = static_cast<double>(ts_ns % 86'400'000'000'000) / 86'400'000'000'000.0;
    double v =
        levels_[i] + m.daily * std::sin(2 * M_PI * day + phases_[i]) + m.noise * noise_(rng_);
    double scale = std::pow(10.0, m.decimals);
    return std::round(v * scale) / scale;
  }

 private:
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  std::mt19937_64 rng_;
  std::normal_distribution<double> noise_;
  std::vector<double> levels_, phases_;
};

// The line-protocol series key of asset `x`: "sensor,asset_id=a00042,asset_type=pump,site=s02 ".
inline std::string IotLineKey(int x) {
  static const char* kTypes[] = {"pump", "motor", "compressor", "fan"};
  char key[96];
  std::snprintf(key, sizeof key, "sensor,asset_id=a%05d,asset_type=%s,site=s%02d ", x,
                kTypes[x % 4], x % 20);
  return key;
}

// Appends asset `x`'s line at `ts_ns` (all eight metrics as fields) to `out`.
inline void AppendIotLine(IotGenerator& gen, int x, int64_t ts_ns, const std::string& key,
                          std::string* out) {
  const auto& metrics = IotMetrics();
  *out += key;
  for (size_t m = 0; m < metrics.size(); ++m) {
    char v[48];
    std::snprintf(v, sizeof v, "%s%s=%.*f", m ? "," : "", metrics[m].name, metrics[m].decimals,
                  gen.Next(x, static_cast<int>(m), ts_ns));
    *out += v;
  }
  *out += ' ' + std::to_string(ts_ns) + '\n';
}

}  // namespace foresight::tools
