// storage_bench: the storage engine's macro benchmark, in the style of LevelDB's db_bench.
// Named workloads, fixed seeds, one JSON object per result on stdout (human notes on stderr).
//
//   storage_bench --workload=append --threads=2 --fsync=always
//   storage_bench --workload=iot_bytes --days=1
//   storage_bench --workload=cmapss_bytes --cmapss=../shared/datasets/cmapss/train_FD001.txt
//   storage_bench --workload=read_latency
//   storage_bench --workload=iot_lines --days=1 > iot.lp   (the same data as line protocol)
#include "storage/storage.h"
#include "tools/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <sys/utsname.h>
#include <thread>
#include <vector>

namespace foresight::bench {
namespace {
using namespace foresight::tools;  // the IoT workload

using Clock = std::chrono::steady_clock;
using storage::Sample;
using storage::SeriesId;
using storage::Storage;
using storage::Value;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kStart = 1'767'225'600 * kSec;  // 2026-01-01T00:00:00Z

std::map<std::string, std::string> g_flags;

std::string Flag(const std::string& name, const std::string& def) {
  auto it = g_flags.find(name);
  return it == g_flags.end() ? def : it->second;
}
int64_t IntFlag(const std::string& name, int64_t def) {
  return std::stoll(Flag(name, std::to_string(def)));
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "storage_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}
template <typename T>
T Check(Result<T> r, const char* what) {
  Check(r.status(), what);
  return std::move(r).value();
}

std::string MachineJson() {
  utsname u{};
  uname(&u);
  std::string cpu = "unknown";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
#ifdef NDEBUG
  const char* build = "release (NDEBUG)";
#else
  const char* build = "debug (assertions on)";
#endif
  std::ostringstream out;
  out << "{\"kernel\":\"" << u.release << "\",\"cpu\":\"" << cpu
      << "\",\"cores\":" << std::thread::hardware_concurrency() << ",\"build\":\"" << build
      << "\"}";
  return out.str();
}

struct TempDb {
  std::string path;
  TempDb() {
    path = Flag("dir", (std::filesystem::temp_directory_path() / "foresight-bench").string());
    std::filesystem::remove_all(path);
  }
  ~TempDb() { std::filesystem::remove_all(path); }
};

std::vector<SeriesId> IotSeries(Storage* db, storage::TenantId tenant, int assets) {
  std::vector<storage::SeriesSpec> specs;
  static const char* kTypes[] = {"pump", "motor", "compressor", "turbine", "transformer"};
  for (int a = 0; a < assets; ++a) {
    for (const Metric& m : IotMetrics()) {
      specs.push_back({{"machine",
                        {{"asset_id", fmt::format("asset-{}", a)},
                         {"asset_type", kTypes[a % 5]},
                         {"site", fmt::format("site-{}", a % 10)}},
                        m.name},
                       storage::ValueType::kFloat});
    }
  }
  std::vector<SeriesId> ids;
  for (auto& r : Check(db->ResolveSeries(tenant, specs), "resolve series")) {
    ids.push_back(Check(std::move(r), "series"));
  }
  return ids;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Appends IoT batches from `threads` threads, each owning a slice of the assets (one writer per
// series, as the ingest path will), for `points` points in all.
void Append() {
  int threads = static_cast<int>(IntFlag("threads", 1));
  int assets = static_cast<int>(IntFlag("assets", 1000));
  int64_t total = IntFlag("points", 20'000'000);
  int batch_assets = static_cast<int>(IntFlag("batch_assets", 125));  // x 8 points
  storage::Options options;
  options.fsync = Check(storage::ParseFsyncPolicy(Flag("fsync", "always")), "fsync");
  TempDb dir;
  auto db = Check(Storage::Open(dir.path, options), "open");
  auto tenant = Check(db->CreateTenant("bench"), "tenant");
  std::vector<SeriesId> series = IotSeries(db.get(), tenant, assets);
  int metrics = static_cast<int>(IotMetrics().size());

  // Values come from a table generated before the clock starts (the generator's normal samples
  // and sines would otherwise cost as much as storing); timestamps keep advancing.
  constexpr int64_t kTableSteps = 256;
  std::vector<double> table(static_cast<size_t>(kTableSteps) * assets * metrics);
  {
    IotGenerator gen(assets, 1000);
    for (int64_t step = 0; step < kTableSteps; ++step) {
      for (int a = 0; a < assets; ++a) {
        for (int m = 0; m < metrics; ++m) {
          table[(step * assets + a) * metrics + m] = gen.Next(a, m, kStart + step * 10 * kSec);
        }
      }
    }
  }
  std::atomic<int64_t> written{0};
  auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      int lo = assets * t / threads, hi = assets * (t + 1) / threads;
      std::vector<Sample> batch;
      for (int64_t step = 0; written.load() < total; ++step) {
        int64_t ts = kStart + step * 10 * kSec;
        for (int a0 = lo; a0 < hi && written.load() < total; a0 += batch_assets) {
          batch.clear();
          for (int a = a0; a < std::min(hi, a0 + batch_assets); ++a) {
            for (int m = 0; m < metrics; ++m) {
              double v = table[((step % kTableSteps) * assets + a) * metrics + m];
              batch.push_back({series[a * metrics + m], ts, Value::Float(v)});
            }
          }
          Check(db->Append(tenant, batch), "append");
          written += static_cast<int64_t>(batch.size());
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  storage::Stats stats = db->GetStats();
  std::printf(
      "{\"workload\":\"append\",\"threads\":%d,\"fsync\":\"%s\",\"batch_points\":%d,"
      "\"points\":%lld,\"seconds\":%.3f,\"points_per_s\":%.0f,\"batches\":%llu,"
      "\"wal_writes\":%llu,\"flushes\":%llu,\"machine\":%s}\n",
      threads, Flag("fsync", "always").c_str(), batch_assets * metrics,
      static_cast<long long>(written.load()), secs, static_cast<double>(written.load()) / secs,
      static_cast<unsigned long long>(stats.batches_appended),
      static_cast<unsigned long long>(stats.wal_writes),
      static_cast<unsigned long long>(stats.flushes), MachineJson().c_str());
}

void PrintBytes(const char* workload, Storage* db, uint64_t values, const std::string& extra) {
  Check(db->Flush(), "flush");
  Check(db->CompactAll(), "compact");
  storage::DiskUsage u = db->GetDiskUsage();
  auto per = [values](uint64_t b) { return static_cast<double>(b) / static_cast<double>(values); };
  std::printf(
      "{\"workload\":\"%s\",%s\"values\":%llu,\"bytes_per_value_points\":%.3f,"
      "\"bytes_per_value_points_and_catalog\":%.3f,\"bytes_per_value_rollups\":%.3f,"
      "\"bytes_per_value_total\":%.3f,\"bytes_points\":%llu,\"bytes_rollups\":%llu,"
      "\"bytes_catalog\":%llu,\"bytes_other\":%llu,\"machine\":%s}\n",
      workload, extra.c_str(), static_cast<unsigned long long>(values), per(u.points),
      per(u.points + u.catalog), per(u.rollups), per(u.total()),
      static_cast<unsigned long long>(u.points), static_cast<unsigned long long>(u.rollups),
      static_cast<unsigned long long>(u.catalog), static_cast<unsigned long long>(u.other),
      MachineJson().c_str());
}

// Workload (a): the IoT fleet at a 10 s interval, written in time order as a fleet reports.
void IotBytes() {
  int assets = static_cast<int>(IntFlag("assets", 1000));
  int64_t steps = IntFlag("days", 1) * 8640;
  storage::Options options;
  options.fsync = storage::FsyncPolicy::kNever;  // bytes on disk do not depend on it
  TempDb dir;
  auto db = Check(Storage::Open(dir.path, options), "open");
  auto tenant = Check(db->CreateTenant("bench"), "tenant");
  std::vector<SeriesId> series = IotSeries(db.get(), tenant, assets);
  int metrics = static_cast<int>(IotMetrics().size());
  IotGenerator gen(assets, 42);
  std::vector<Sample> batch;
  for (int64_t step = 0; step < steps; ++step) {
    int64_t ts = kStart + step * 10 * kSec;
    batch.clear();
    for (int a = 0; a < assets; ++a) {
      for (int m = 0; m < metrics; ++m) {
        batch.push_back({series[a * metrics + m], ts, Value::Float(gen.Next(a, m, ts))});
      }
    }
    Check(db->Append(tenant, batch), "append");
  }
  PrintBytes("iot_bytes", db.get(), static_cast<uint64_t>(steps) * assets * metrics,
             fmt::format("\"assets\":{},\"days\":{},", assets, Flag("days", "1")));
}

// The same readings as workload (a), as InfluxDB line protocol (for the peers).
void IotLines() {
  int assets = static_cast<int>(IntFlag("assets", 1000));
  int64_t steps = IntFlag("days", 1) * 8640;
  static const char* kTypes[] = {"pump", "motor", "compressor", "turbine", "transformer"};
  IotGenerator gen(assets, 42);
  std::string line;
  for (int64_t step = 0; step < steps; ++step) {
    int64_t ts = kStart + step * 10 * kSec;
    for (int a = 0; a < assets; ++a) {
      line = fmt::format("machine,asset_id=asset-{},asset_type={},site=site-{} ", a, kTypes[a % 5],
                         a % 10);
      for (size_t m = 0; m < IotMetrics().size(); ++m) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s%s=%.*f", m ? "," : "", IotMetrics()[m].name,
                      IotMetrics()[m].decimals, gen.Next(a, static_cast<int>(m), ts));
        line += buf;
      }
      fmt::format_to(std::back_inserter(line), " {}\n", ts);
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  }
}

// Calls row(unit, cycle, columns) for each row of a C-MAPSS file (26 numbers a row).
template <typename Row>
void ReadCmapss(const std::string& path, Row row) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "storage_bench: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> cols;
    for (std::string c; fields >> c;) cols.push_back(c);
    if (cols.size() == 26) row(std::stoi(cols[0]), std::stoll(cols[1]), cols);
  }
}

// Workload (b) as line protocol, the sensor texts exactly as in the file (for the peers).
void CmapssLines() {
  ReadCmapss(Flag("cmapss", "../shared/datasets/cmapss/train_FD001.txt"),
             [](int unit, int64_t cycle, const std::vector<std::string>& cols) {
               std::string line = fmt::format("engine,asset_id=fd001-{} ", unit);
               for (int s = 0; s < 21; ++s) {
                 fmt::format_to(std::back_inserter(line), "{}s{}={}", s ? "," : "", s + 1,
                                cols[5 + s]);
               }
               fmt::format_to(std::back_inserter(line), " {}\n", kStart + cycle * kSec);
               std::fwrite(line.data(), 1, line.size(), stdout);
             });
}

// Workload (b): the 21 sensors of NASA C-MAPSS FD001, one asset per engine, one cycle = 1 s.
void CmapssBytes() {
  std::string path = Flag("cmapss", "../shared/datasets/cmapss/train_FD001.txt");
  storage::Options options;
  options.fsync = storage::FsyncPolicy::kNever;
  TempDb dir;
  auto db = Check(Storage::Open(dir.path, options), "open");
  auto tenant = Check(db->CreateTenant("cmapss"), "tenant");
  std::map<int, std::vector<SeriesId>> units;
  std::vector<Sample> batch;
  uint64_t values = 0;
  ReadCmapss(path, [&](int unit, int64_t cycle, const std::vector<std::string>& cols) {
    auto& ids = units[unit];
    if (ids.empty()) {
      std::vector<storage::SeriesSpec> specs;
      for (int s = 1; s <= 21; ++s) {
        specs.push_back(
            {{"engine", {{"asset_id", fmt::format("fd001-{}", unit)}}, fmt::format("s{}", s)},
             storage::ValueType::kFloat});
      }
      for (auto& r : Check(db->ResolveSeries(tenant, specs), "resolve")) {
        ids.push_back(Check(std::move(r), "series"));
      }
    }
    for (int s = 0; s < 21; ++s) {
      // strtod, as a line-protocol parser would read the text
      batch.push_back(
          {ids[s], kStart + cycle * kSec, Value::Float(std::strtod(cols[5 + s].c_str(), nullptr))});
    }
    values += 21;
    if (batch.size() >= 10'000) {
      Check(db->Append(tenant, batch), "append");
      batch.clear();
    }
  });
  Check(db->Append(tenant, batch), "append");
  PrintBytes("cmapss_bytes", db.get(), values, fmt::format("\"file\":\"{}\",", path));
}

// Downsampled reads of one series holding 30 days at a 10 s interval.
void ReadLatency() {
  int64_t queries = IntFlag("queries", 5000);
  storage::Options options;
  options.fsync = storage::FsyncPolicy::kNever;
  TempDb dir;
  auto db = Check(Storage::Open(dir.path, options), "open");
  auto tenant = Check(db->CreateTenant("bench"), "tenant");
  std::vector<SeriesId> series = IotSeries(db.get(), tenant, 1);
  IotGenerator gen(1, 7);
  constexpr int64_t kDays = 30;
  std::vector<Sample> batch;
  for (int64_t step = 0; step < kDays * 8640; ++step) {
    int64_t ts = kStart + step * 10 * kSec;
    batch.push_back({series[0], ts, Value::Float(gen.Next(0, 0, ts))});
    if (batch.size() == 8640) {
      Check(db->Append(tenant, batch), "append");
      batch.clear();
    }
  }
  Check(db->Flush(), "flush");
  Check(db->CompactAll(), "compact");

  std::mt19937_64 rng(1);
  struct Case {
    const char* name;
    int64_t span;
    std::chrono::nanoseconds step;
  };
  for (Case c : {Case{"24h_at_1m", 86'400 * kSec, std::chrono::minutes(1)},
                 Case{"30d_at_1h", kDays * 86'400 * kSec, std::chrono::hours(1)}}) {
    std::vector<double> us;
    size_t buckets = 0;
    for (int64_t q = 0; q < queries; ++q) {
      int64_t room = kDays * 86'400 * kSec - c.span;
      int64_t from = kStart + (room > 0 ? static_cast<int64_t>(rng() % room) : 0);
      auto t0 = Clock::now();
      auto result =
          Check(db->ReadDownsampled(tenant, series[0], from, from + c.span, c.step), "read");
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      buckets = result.size();
    }
    std::printf(
        "{\"workload\":\"read_latency\",\"query\":\"%s\",\"queries\":%lld,\"buckets\":%zu,"
        "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"machine\":%s}\n",
        c.name, static_cast<long long>(queries), buckets, Percentile(us, 0.5), Percentile(us, 0.99),
        Percentile(us, 0.999), MachineJson().c_str());
  }
}

}  // namespace
}  // namespace foresight::bench

int main(int argc, char** argv) {
  using namespace foresight::bench;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h" || a.rfind("--", 0) != 0 || a.find('=') == std::string::npos) {
      std::fprintf(stderr,
                   "usage: storage_bench --workload=NAME [--flag=value ...]\n"
                   "  append        --threads=1 --fsync=always|interval|never --points=20000000\n"
                   "                --assets=1000 --batch_assets=125 (x 8 metrics per batch)\n"
                   "  iot_bytes     --assets=1000 --days=1\n"
                   "  iot_lines     --assets=1000 --days=1  (line protocol on stdout)\n"
                   "  cmapss_bytes  --cmapss=PATH/train_FD001.txt\n"
                   "  cmapss_lines  --cmapss=PATH/train_FD001.txt  (line protocol on stdout)\n"
                   "  read_latency  --queries=5000\n"
                   "  every workload: --dir=PATH (scratch database, removed afterwards)\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
    g_flags[a.substr(2, a.find('=') - 2)] = a.substr(a.find('=') + 1);
  }
  std::string w = Flag("workload", "");
  if (w == "append")
    Append();
  else if (w == "iot_bytes")
    IotBytes();
  else if (w == "iot_lines")
    IotLines();
  else if (w == "cmapss_bytes")
    CmapssBytes();
  else if (w == "cmapss_lines")
    CmapssLines();
  else if (w == "read_latency")
    ReadLatency();
  else {
    std::fprintf(stderr, "storage_bench: unknown --workload '%s' (try --help)\n", w.c_str());
    return 2;
  }
  return 0;
}
