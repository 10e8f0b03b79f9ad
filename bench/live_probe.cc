// The live engine's end-to-end probe (bench/live.sh runs it against a real `foresight serve`):
//
//   live_probe --host 127.0.0.1 --port 18080 --jwt <viewer or admin JWT> --write-token <token>
//              [--seconds 5] [--interval-ms 20] [--followers 1000]
//
// - Alert latency: a WebSocket client follows the alerts of asset probe-1; a writer sends
//   `probe,asset_id=probe-1 v=<n>` over HTTP /write (a rule v > 0.5 must exist), waits for the
//   "opened" event carrying value n, then writes v=0 to clear it. Latency is from just before the
//   write is sent to the event's arrival: the ingest path (with its fsync), the rule, the hub and
//   the WebSocket, all of it.
// - Followers: `--followers` WebSocket clients, each following the readings of one asset
//   (a00000, a00001, ...) at max_rate_hz 1, counting the updates they receive.
// - The server's ingest rate over the same window, from /metrics.
// Prints one JSON object.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1", port = "18080", jwt, write_token;
  double seconds = 5;
  int interval_ms = 20;
  int followers = 1000;
};

// One WebSocket client on the shared io_context: subscribes, then hands each message to
// `on_message`.
class Follower : public std::enable_shared_from_this<Follower> {
 public:
  Follower(asio::io_context& ioc, const Options& o, json::object subscription,
           std::function<void(const json::object&)> on_message)
      : ws_(asio::make_strand(ioc)),
        options_(o),
        subscription_(std::move(subscription)),
        on_message_(std::move(on_message)) {}

  void Start(const tcp::resolver::results_type& endpoints) {
    beast::get_lowest_layer(ws_).async_connect(
        endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return self->Fail("connect", ec);
          self->ws_.async_handshake(self->options_.host, "/ws?token=" + self->options_.jwt,
                                    [self](beast::error_code ec) {
                                      if (ec) return self->Fail("handshake", ec);
                                      self->Subscribe();
                                    });
        });
  }

  void Close() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->ws_.async_close(websocket::close_code::normal, [self](beast::error_code) {});
    });
  }

  std::atomic<bool> subscribed{false};
  std::atomic<bool> failed{false};

 private:
  void Subscribe() {
    text_ = json::serialize(subscription_);
    ws_.async_write(asio::buffer(text_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail("subscribe", ec);
      self->Read();
    });
  }
  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      auto v = json::parse(beast::buffers_to_string(self->buffer_.data()));
      self->buffer_.consume(self->buffer_.size());
      const json::object& m = v.as_object();
      if (m.at("type") == "subscribed") self->subscribed = true;
      if (m.at("type") == "error") {
        std::fprintf(stderr, "live_probe: %s\n", json::serialize(m).c_str());
        self->failed = true;
      }
      self->on_message_(m);
      self->Read();
    });
  }
  void Fail(const char* what, beast::error_code ec) {
    std::fprintf(stderr, "live_probe: %s: %s\n", what, ec.message().c_str());
    failed = true;
  }

  websocket::stream<beast::tcp_stream> ws_;
  const Options& options_;
  json::object subscription_;
  std::function<void(const json::object&)> on_message_;
  std::string text_;
  beast::flat_buffer buffer_;
};

// A keep-alive HTTP connection for the probe's writes and the /metrics reads.
class HttpClient {
 public:
  HttpClient(const Options& o) : options_(o), stream_(ioc_) {
    tcp::resolver resolver(ioc_);
    stream_.connect(resolver.resolve(o.host, o.port));
  }
  http::response<http::string_body> Send(http::verb verb, const std::string& target,
                                         std::string body = {}) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, options_.host);
    if (!options_.write_token.empty()) {
      req.set(http::field::authorization, "Token " + options_.write_token);
    }
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    return res;
  }
  double IngestedValues() {
    auto res = Send(http::verb::get, "/metrics");
    const std::string& b = res.body();
    const std::string key = "\nforesight_ingest_values_total ";
    size_t at = b.find(key);
    return at == std::string::npos ? 0 : std::stod(b.substr(at + key.size()));
  }

 private:
  const Options& options_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

int Run(const Options& o) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(o.host, o.port);

  // Alert events, keyed by the probe number they carry.
  std::mutex mu;
  std::condition_variable cv;
  long opened = -1;  // newest probe number seen opened
  Clock::time_point opened_at;
  auto alerts = std::make_shared<Follower>(
      ioc, o,
      json::object{
          {"type", "subscribe"}, {"sub", "a"}, {"topic", "alerts"}, {"asset_id", "probe-1"}},
      [&](const json::object& m) {
        if (m.at("type") != "alert" || m.at("event") != "opened") return;
        const auto now = Clock::now();
        std::lock_guard l(mu);
        opened = std::lround(m.at("alert").at("value").to_number<double>());
        opened_at = now;
        cv.notify_all();
      });

  std::vector<std::shared_ptr<Follower>> followers;
  std::vector<std::unique_ptr<std::atomic<uint64_t>>> updates;
  std::atomic<bool> counting{false};
  for (int i = 0; i < o.followers; ++i) {
    char asset[16];
    std::snprintf(asset, sizeof asset, "a%05d", i);
    updates.push_back(std::make_unique<std::atomic<uint64_t>>(0));
    std::atomic<uint64_t>* count = updates.back().get();
    followers.push_back(std::make_shared<Follower>(ioc, o,
                                                   json::object{{"type", "subscribe"},
                                                                {"sub", "r"},
                                                                {"topic", "readings"},
                                                                {"asset_id", asset},
                                                                {"max_rate_hz", 1}},
                                                   [count, &counting](const json::object& m) {
                                                     if (counting && m.at("type") == "readings")
                                                       count->fetch_add(1);
                                                   }));
  }
  alerts->Start(endpoints);
  for (auto& f : followers) f->Start(endpoints);
  std::thread net([&] { ioc.run(); });
  auto all_subscribed = [&] {
    if (!alerts->subscribed) return false;
    return std::all_of(followers.begin(), followers.end(),
                       [](const auto& f) { return f->subscribed.load() || f->failed.load(); });
  };
  const auto setup_deadline = Clock::now() + std::chrono::seconds(30);
  while (!all_subscribed() && Clock::now() < setup_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const size_t connected = std::count_if(followers.begin(), followers.end(),
                                         [](const auto& f) { return f->subscribed.load(); });

  HttpClient client(o);
  std::vector<double> latencies_ms, acks_ms;
  int timeouts = 0;
  const double values_before = client.IngestedValues();
  const auto started = Clock::now();
  counting = true;
  long probe = 0;
  while (std::chrono::duration<double>(Clock::now() - started).count() < o.seconds) {
    ++probe;
    const int64_t ts = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const auto sent = Clock::now();
    auto res =
        client.Send(http::verb::post, "/write?db=bench&precision=ns",
                    "probe,asset_id=probe-1 v=" + std::to_string(probe) + " " + std::to_string(ts));
    acks_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    if (res.result_int() != 204) {
      std::fprintf(stderr, "live_probe: write answered %u: %s\n", res.result_int(),
                   res.body().c_str());
      return 1;
    }
    {
      std::unique_lock l(mu);
      if (cv.wait_for(l, std::chrono::seconds(2), [&] { return opened >= probe; })) {
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(opened_at - sent).count());
      } else {
        ++timeouts;
      }
    }
    client.Send(http::verb::post, "/write?db=bench&precision=ns",
                "probe,asset_id=probe-1 v=0 " + std::to_string(ts + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(o.interval_ms));
  }
  counting = false;
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  const double values_after = client.IngestedValues();

  uint64_t total = 0, least = UINT64_MAX;
  for (size_t i = 0; i < followers.size(); ++i) {
    if (!followers[i]->subscribed) continue;
    total += *updates[i];
    least = std::min<uint64_t>(least, *updates[i]);
  }
  alerts->Close();
  for (auto& f : followers) f->Close();
  ioc.stop();
  net.join();

  json::object out = {{"seconds", elapsed},
                      {"probes", latencies_ms.size()},
                      {"probe_timeouts", timeouts},
                      {"alert_latency_ms",
                       {{"p50", Percentile(latencies_ms, 0.5)},
                        {"p90", Percentile(latencies_ms, 0.9)},
                        {"p99", Percentile(latencies_ms, 0.99)},
                        {"max", Percentile(latencies_ms, 1.0)}}},
                      // The write's own answer (durable), a part of the alert latency.
                      {"write_ack_ms",
                       {{"p50", Percentile(acks_ms, 0.5)},
                        {"p99", Percentile(acks_ms, 0.99)},
                        {"max", Percentile(acks_ms, 1.0)}}},
                      {"ingest_values_per_s", (values_after - values_before) / elapsed},
                      {"followers", o.followers},
                      {"followers_subscribed", connected},
                      {"follower_updates_per_s", static_cast<double>(total) / elapsed},
                      {"least_updates_of_a_follower", connected ? least : 0}};
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--host") {
      o.host = v;
    } else if (k == "--port") {
      o.port = v;
    } else if (k == "--jwt") {
      o.jwt = v;
    } else if (k == "--write-token") {
      o.write_token = v;
    } else if (k == "--seconds") {
      o.seconds = std::stod(v);
    } else if (k == "--interval-ms") {
      o.interval_ms = std::stoi(v);
    } else if (k == "--followers") {
      o.followers = std::stoi(v);
    } else {
      std::fprintf(stderr, "live_probe: unknown option %s (see the comment at the top)\n",
                   k.c_str());
      return 2;
    }
  }
  if (o.jwt.empty() || o.write_token.empty()) {
    std::fprintf(stderr, "live_probe: --jwt and --write-token are required\n");
    return 2;
  }
  try {
    return Run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "live_probe: %s\n", e.what());
    return 1;
  }
}
