#include "tools/loadgen.h"

#include "storage/sync.h"
#include "tools/client.h"
#include "tools/workload.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <thread>
#include <unistd.h>
#include <vector>

namespace foresight::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kStartNs = 1'700'000'000'000'000'000;
constexpr int64_t kIntervalNs = 10'000'000'000;

// The workload as request bodies, time-major as a fleet reports.
std::vector<std::string> Generate(const LoadgenOptions& o) {
  std::vector<std::string> batches;
  IotGenerator gen(o.assets, 42);
  std::vector<std::string> keys;
  for (int x = 0; x < o.assets; ++x) keys.push_back(IotLineKey(x));
  const auto& metrics = IotMetrics();
  std::string current;
  int in_batch = 0;
  auto flush = [&] {
    if (o.mode == "json") current += ']';
    batches.push_back(std::move(current));
    current.clear();
    in_batch = 0;
  };
  for (int t = 0; t < o.steps; ++t) {
    const int64_t ts = kStartNs + int64_t{t} * kIntervalNs;
    for (int x = 0; x < o.assets; ++x) {
      if (o.mode != "json") {
        AppendIotLine(gen, x, ts, keys[x], &current);
      } else {
        // The same reading as JSON: tags from the line key, metrics as numbers.
        const std::string& key = keys[x];
        auto tag = [&](std::string_view name) {
          size_t at = key.find(name) + name.size() + 1;
          return key.substr(at, key.find_first_of(", ", at) - at);
        };
        current += in_batch ? "," : "[";
        current += "{\"asset_id\":\"" + tag("asset_id") + "\",\"timestamp\":" + std::to_string(ts) +
                   ",\"tags\":{\"asset_type\":\"" + tag("asset_type") + "\",\"site\":\"" +
                   tag("site") + "\"},\"metrics\":{";
        for (size_t m = 0; m < metrics.size(); ++m) {
          char v[48];
          std::snprintf(v, sizeof v, "%s\"%s\":%.*f", m ? "," : "", metrics[m].name,
                        metrics[m].decimals, gen.Next(x, static_cast<int>(m), ts));
          current += v;
        }
        current += "}}";
      }
      if (++in_batch == o.batch) flush();
    }
  }
  if (in_batch) flush();
  return batches;
}

// The sum of every sample of `name` on the server's /metrics.
Result<double> MetricValue(const Endpoint& endpoint, const std::string& name) {
  HttpClient client(endpoint);
  auto r = client.Send("GET", "/metrics", "");
  if (!r.ok()) return r.status();
  double sum = 0;
  std::string_view text = r->body;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(name) || line.size() <= name.size()) continue;
    if (line[name.size()] != ' ' && line[name.size()] != '{') continue;
    std::string value(line.substr(line.rfind(' ') + 1));
    sum += std::strtod(value.c_str(), nullptr);
  }
  return sum;
}

std::string Si(double v) {
  char out[32];
  if (v >= 1e6) {
    std::snprintf(out, sizeof out, "%.2fM", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(out, sizeof out, "%.1fk", v / 1e3);
  } else {
    std::snprintf(out, sizeof out, "%.0f", v);
  }
  return out;
}

}  // namespace

int RunLoadgen(const LoadgenOptions& o) {
  if (o.mode != "http" && o.mode != "tcp" && o.mode != "json") {
    std::fprintf(stderr, "loadgen: --mode must be http, tcp or json\n");
    return 2;
  }
  if (o.mode == "json" && o.tenant.empty()) {
    std::fprintf(stderr, "loadgen: --mode json needs --tenant\n");
    return 2;
  }
  if (o.assets < 1 || o.steps < 1 || o.batch < 1 || o.connections < 1) {
    std::fprintf(stderr, "loadgen: --assets, --steps, --batch and --connections must be >= 1\n");
    return 2;
  }
  auto http = ParseEndpoint(o.url, 8080);
  auto tcp = ParseEndpoint(o.tcp, 8094);
  if (!http.ok() || !tcp.ok()) {
    std::fprintf(stderr, "loadgen: %s\n",
                 (http.ok() ? tcp.status() : http.status()).ToString().c_str());
    return 2;
  }
  std::string path = o.path;
  if (path.empty()) {
    path = o.mode == "json" ? "/api/v1/tenants/" + o.tenant + "/readings?precision=ns"
                            : "/api/v2/write?bucket=bench&precision=ns";
  }
  const std::string content_type = o.mode == "json" ? "application/json" : "text/plain";
  const std::string authorization = o.token.empty() ? "" : "Token " + o.token;
  const std::string wait_metric =
      o.mode == "tcp" && o.wait_metric.empty() ? "foresight_ingest_values_total" : o.wait_metric;

  const bool tty = isatty(2);
  std::fprintf(stderr, "loadgen: generating %d assets x %d steps (%zu metrics)...\n", o.assets,
               o.steps, IotMetrics().size());
  const std::vector<std::string> batches = Generate(o);
  const uint64_t rows = uint64_t(o.assets) * uint64_t(o.steps);
  const uint64_t values = rows * IotMetrics().size();
  uint64_t bytes = 0;
  for (const auto& b : batches) bytes += b.size();

  double metric_before = 0;
  if (o.mode == "tcp") {
    auto before = MetricValue(*http, wait_metric);
    if (!before.ok()) {
      std::fprintf(stderr, "loadgen: reading %s from %s: %s\n", wait_metric.c_str(), o.url.c_str(),
                   before.status().ToString().c_str());
      return 2;
    }
    metric_before = *before;
  }

  std::atomic<size_t> next{0};
  std::atomic<uint64_t> rows_sent{0};
  std::atomic<int> failures{0};
  Mutex mu;  // guards first_error and latencies_ms (locals: no annotation can name them)
  std::string first_error;
  std::vector<double> latencies_ms;
  auto fail = [&](const std::string& what) {
    failures.fetch_add(1);
    MutexLock lock(&mu);
    if (first_error.empty()) first_error = what;
  };
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      if (o.mode == "tcp") {
        auto sender = TcpSender::Connect(*tcp, o.token);
        if (!sender.ok()) return fail(sender.status().ToString());
        for (size_t i; (i = next.fetch_add(1)) < batches.size();) {
          if (Status s = (*sender)->Send(batches[i]); !s.ok()) return fail(s.ToString());
          rows_sent.fetch_add(std::min<uint64_t>(o.batch, rows - i * o.batch));
        }
        if (Status s = (*sender)->Finish(); !s.ok()) fail(s.ToString());
        return;
      }
      HttpClient client(*http);
      for (size_t i; (i = next.fetch_add(1)) < batches.size();) {
        const auto sent = Clock::now();
        auto r = client.Send("POST", path, batches[i], content_type, authorization);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        if (!r.ok()) {
          fail(r.status().ToString());
        } else if (r->status / 100 != 2) {
          fail("HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300));
        }
        rows_sent.fetch_add(std::min<uint64_t>(o.batch, rows - i * o.batch));
      }
      MutexLock lock(&mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }

  // The progress line, until every thread is done.
  std::atomic<bool> sending_done{false};
  std::thread reporter([&] {
    auto last_print = Clock::now();
    while (!sending_done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const auto now = Clock::now();
      if (now - last_print < std::chrono::seconds(tty ? 1 : 5)) continue;
      last_print = now;
      const double s = std::chrono::duration<double>(now - start).count();
      const double done = static_cast<double>(rows_sent.load());
      std::fprintf(stderr, "%sloadgen: %3.0f%%  %s rows  %s values/s  %d errors%s", tty ? "\r" : "",
                   100 * done / static_cast<double>(rows), Si(done).c_str(),
                   Si(done * static_cast<double>(IotMetrics().size()) / s).c_str(), failures.load(),
                   tty ? "   " : "\n");
    }
  });
  for (auto& t : threads) t.join();

  if (o.mode == "tcp" && failures.load() == 0) {
    // TCP has no acknowledgement: done is when the server counts every value as stored.
    const auto deadline = Clock::now() + std::chrono::minutes(10);
    for (;;) {
      auto now_value = MetricValue(*http, wait_metric);
      if (now_value.ok() && *now_value - metric_before >= static_cast<double>(values)) break;
      if (Clock::now() > deadline) {
        fail("timed out waiting for " + wait_metric + " to count every value");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sending_done = true;
  reporter.join();
  if (tty) std::fprintf(stderr, "\n");

  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    size_t i = static_cast<size_t>(p * static_cast<double>(latencies_ms.size() - 1) + 0.5);
    return latencies_ms[i];
  };
  const double rps = static_cast<double>(rows) / seconds,
               vps = static_cast<double>(values) / seconds;
  if (o.json) {
    // TCP has no responses, so no latency.
    char latency[160] = "null";
    if (!latencies_ms.empty()) {
      std::snprintf(latency, sizeof latency,
                    "{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}", pct(0.5), pct(0.9),
                    pct(0.99), pct(1.0));
    }
    std::printf(
        "{\"mode\":\"%s\",\"lines\":%llu,\"values\":%llu,\"bytes\":%llu,\"requests\":%zu,"
        "\"connections\":%d,\"seconds\":%.3f,\"lines_per_s\":%.0f,\"values_per_s\":%.0f,"
        "\"failed_requests\":%d,\"latency_ms\":%s}\n",
        o.mode.c_str(), (unsigned long long)rows, (unsigned long long)values,
        (unsigned long long)bytes, batches.size(), o.connections, seconds, rps, vps,
        failures.load(), latency);
  } else {
    std::printf("%s: %llu rows, %llu field values, %s bytes in %.2f s over %d connection(s)\n",
                o.mode.c_str(), (unsigned long long)rows, (unsigned long long)values,
                Si(static_cast<double>(bytes)).c_str(), seconds, o.connections);
    std::printf("  %s rows/s   %s field values/s   %d errors\n", Si(rps).c_str(), Si(vps).c_str(),
                failures.load());
    if (!latencies_ms.empty()) {
      std::printf("  request latency: p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms (%zu)\n",
                  pct(0.5), pct(0.9), pct(0.99), pct(1.0), latencies_ms.size());
    }
  }
  if (!first_error.empty()) std::fprintf(stderr, "loadgen: first error: %s\n", first_error.c_str());
  return failures.load() ? 1 : 0;
}

}  // namespace foresight::tools
