// ingest_load: the deterministic IoT workload as InfluxDB line protocol, pushed as fast as the
// server takes it over HTTP (/write, acknowledged) or raw TCP (unacknowledged; completion is
// read off a counter in the server's Prometheus /metrics). Written in C++ with plain blocking
// sockets, one thread per connection, and all data generated before the clock starts, so the
// loader is never the bottleneck. Prints one JSON object.
//
//   ingest_load --mode http --port 8080 --path '/write?db=bench' [--token T]
//   ingest_load --mode tcp --port 8094 [--token-line T] --wait-port 8080
//               --wait-metric foresight_ingest_values_total
//   common: --host 127.0.0.1 --assets 1000 --steps 1000 --batch 5000 --connections 4
#include "bench/iot_workload.h"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ingest_load: %s\n", what.c_str());
  std::exit(1);
}

int Connect(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Die("connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) Die(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads one HTTP response; returns its status code.
int ReadResponse(int fd, std::string* buf) {
  for (;;) {
    size_t end = buf->find("\r\n\r\n");
    if (end != std::string::npos) {
      int status = std::atoi(buf->c_str() + 9);
      size_t length = 0;
      for (const char* key : {"Content-Length: ", "content-length: "}) {
        size_t at = buf->find(key);
        if (at != std::string::npos && at < end)
          length = std::strtoul(buf->c_str() + at + 16, nullptr, 10);
      }
      while (buf->size() < end + 4 + length) {
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) Die("connection closed mid-response");
        buf->append(tmp, static_cast<size_t>(n));
      }
      if (status >= 300)
        std::fprintf(stderr, "ingest_load: HTTP %d: %s\n", status,
                     buf->substr(end + 4, 300).c_str());
      buf->erase(0, end + 4 + length);
      return status;
    }
    char tmp[65536];
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) Die("connection closed before a response");
    buf->append(tmp, static_cast<size_t>(n));
  }
}

double MetricValue(const std::string& host, int port, const std::string& name) {
  int fd = Connect(host, port);
  SendAll(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string text;
  char tmp[65536];
  ssize_t n;
  while ((n = recv(fd, tmp, sizeof tmp, 0)) > 0) text.append(tmp, static_cast<size_t>(n));
  close(fd);
  double sum = 0;
  size_t at = 0;
  while ((at = text.find("\n" + name, at)) != std::string::npos) {
    size_t line_end = text.find('\n', at + 1);
    std::string line = text.substr(at + 1, line_end - at - 1);
    at = line_end;
    char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a = {
      {"mode", "http"},  {"host", "127.0.0.1"}, {"port", "8080"},   {"path", "/write?db=bench"},
      {"token", ""},     {"token-line", ""},    {"assets", "1000"}, {"steps", "1000"},
      {"batch", "5000"}, {"connections", "4"},  {"wait-port", "0"}, {"wait-metric", ""},
  };
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (!key.starts_with("--") || !a.contains(key.substr(2))) Die("unknown flag " + key);
    a[key.substr(2)] = argv[i + 1];
  }
  const int assets = std::stoi(a["assets"]), steps = std::stoi(a["steps"]);
  const size_t batch = std::stoul(a["batch"]);
  const int connections = std::stoi(a["connections"]);
  const auto& metrics = foresight::bench::IotMetrics();

  // Generate: time-major, as a fleet reports; one line per asset and step, 8 fields.
  std::vector<std::string> batches;
  {
    foresight::bench::IotGenerator gen(assets, 42);
    std::vector<std::string> keys;
    for (int x = 0; x < assets; ++x) keys.push_back(foresight::bench::IotLineKey(x));
    std::string current;
    size_t in_batch = 0;
    const int64_t start_ns = 1'700'000'000'000'000'000;
    for (int t = 0; t < steps; ++t) {
      int64_t ts = start_ns + int64_t{t} * 10'000'000'000;
      for (int x = 0; x < assets; ++x) {
        foresight::bench::AppendIotLine(gen, x, ts, keys[x], &current);
        if (++in_batch == batch) {
          batches.push_back(std::move(current));
          current.clear();
          in_batch = 0;
        }
      }
    }
    if (!current.empty()) batches.push_back(std::move(current));
  }
  const uint64_t lines = uint64_t(assets) * steps, values = lines * metrics.size();
  uint64_t bytes = 0;
  for (const auto& b : batches) bytes += b.size();

  const std::string host = a["host"];
  const int port = std::stoi(a["port"]);
  const int wait_port = std::stoi(a["wait-port"]);
  double metric_before = 0;
  if (!a["wait-metric"].empty()) metric_before = MetricValue(host, wait_port, a["wait-metric"]);

  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      int fd = Connect(host, port);
      std::string buf;
      if (a["mode"] == "tcp") {
        if (!a["token-line"].empty()) SendAll(fd, "# token " + a["token-line"] + "\n");
        for (size_t i; (i = next.fetch_add(1)) < batches.size();) SendAll(fd, batches[i]);
        shutdown(fd, SHUT_WR);
        char tmp[256];
        while (recv(fd, tmp, sizeof tmp, 0) > 0) {
        }
      } else {
        std::string auth = a["token"].empty() ? "" : "Authorization: Token " + a["token"] + "\r\n";
        for (size_t i; (i = next.fetch_add(1)) < batches.size();) {
          std::string head =
              "POST " + a["path"] + " HTTP/1.1\r\nHost: bench\r\n" + auth +
              "Content-Type: text/plain\r\nContent-Length: " + std::to_string(batches[i].size()) +
              "\r\n\r\n";
          SendAll(fd, head);
          SendAll(fd, batches[i]);
          int status = ReadResponse(fd, &buf);
          if (status != 204 && status != 200) failures.fetch_add(1);
        }
      }
      close(fd);
    });
  }
  for (auto& t : threads) t.join();
  if (!a["wait-metric"].empty()) {
    // TCP has no acknowledgement: done is when the server counts every value as stored.
    auto deadline = Clock::now() + std::chrono::minutes(10);
    while (MetricValue(host, wait_port, a["wait-metric"]) - metric_before <
           static_cast<double>(values)) {
      if (Clock::now() > deadline) Die("timed out waiting for " + a["wait-metric"]);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"mode\":\"%s\",\"lines\":%llu,\"values\":%llu,\"bytes\":%llu,\"batches\":%zu,"
      "\"connections\":%d,\"seconds\":%.3f,\"lines_per_s\":%.0f,\"values_per_s\":%.0f,"
      "\"failed_requests\":%d}\n",
      a["mode"].c_str(), (unsigned long long)lines, (unsigned long long)values,
      (unsigned long long)bytes, batches.size(), connections, seconds, lines / seconds,
      values / seconds, failures.load());
  return failures.load() ? 1 : 0;
}
