// The live feed and the alert webhooks end to end: a real server on loopback, real Beast
// WebSocket clients, real HTTP receivers for the webhooks, points written through the ingest
// path and alerts raised by the live engine.
#include "http/http.h"
#include "tests/http_request.h"
#include "tests/test_util.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

namespace foresight::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

constexpr char kSecret[] = "ws-test-signing-key-0123456789abcdef";

// A WebSocket client with a receive timeout, so a missing message fails the test, not hangs it.
class Client {
 public:
  Client(uint16_t port, const std::string& target, int receive_buffer = 0)
      : ioc_(std::make_unique<asio::io_context>()), ws_(*ioc_) {
    tcp::socket& s = ws_.next_layer();
    s.open(tcp::v4());
    if (receive_buffer) s.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    ws_.handshake("127.0.0.1", target);
  }

  void Send(const json::object& o) { ws_.write(asio::buffer(json::serialize(o))); }

  // The next message, or nullopt once the connection closed or nothing came for 5 s.
  std::optional<json::object> Next() {
    beast::flat_buffer buffer;
    std::optional<beast::error_code> result;
    ws_.async_read(buffer, [&](beast::error_code ec, size_t) { result = ec; });
    ioc_->restart();
    ioc_->run_for(std::chrono::seconds(5));
    if (!result) {  // timed out: the stream is done for
      ws_.next_layer().close();
      ioc_->restart();
      ioc_->run();
      error = asio::error::timed_out;
      return std::nullopt;
    }
    if (*result) {
      error = *result;
      return std::nullopt;
    }
    return json::parse(beast::buffers_to_string(buffer.data())).as_object();
  }

  // The next message of `type`, skipping others.
  std::optional<json::object> Next(std::string_view type) {
    for (;;) {
      auto m = Next();
      if (!m || m->at("type").as_string() == type) return m;
    }
  }

  websocket::close_reason reason() const { return ws_.reason(); }
  beast::error_code error;

 private:
  std::unique_ptr<asio::io_context> ioc_;  // movable clients
  websocket::stream<tcp::socket> ws_;
};

class LiveServer : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options so;
    so.fsync = storage::FsyncPolicy::kNever;
    storage_ = storage::Storage::Open(dir_.Sub("db"), so).value();
    AuthOptions ao;
    ao.jwt_secret = kSecret;
    auth_ = Auth::Open(storage_.get(), ao).value();
    windows_ = std::make_unique<query::Windows>(storage_.get());
    alerts_ = std::make_unique<query::Alerts>(storage_.get(), windows_.get(), "asset_id");
    HubOptions ho;
    ho.max_queue = 16;
    ho.max_rate_hz = 1000;
    ho.tick = std::chrono::milliseconds(1);
    hub_ = std::make_unique<Hub>(storage_.get(), windows_.get(), alerts_.get(), "asset_id", ho);
    alerts_->AddListener([this](const query::AlertEvent& e) { hub_->OnAlert(e); });
    NotifierOptions no;
    no.max_attempts = 3;
    no.first_backoff = std::chrono::milliseconds(10);
    no.timeout = std::chrono::milliseconds(2000);
    notifier_ = std::make_unique<Notifier>(no);
    alerts_->AddListener([this](const query::AlertEvent& e) { notifier_->OnAlert(e); });
    ingestor_ = std::make_unique<ingest::Ingestor>(
        storage_.get(), ingest::IngestOptions(),
        [this](storage::TenantId t, std::span<const storage::Sample> s) {
          ASSERT_TRUE(windows_->Apply(t, s).ok());
          ASSERT_TRUE(alerts_->Evaluate(t, s).ok());
          hub_->OnAppend(t, s);
        });
    acme_ = storage_->CreateTenant("acme").value();
    other_ = storage_->CreateTenant("other").value();
    acme_token_ = Token(acme_);
    other_token_ = Token(other_);
    admin_token_ = Token(acme_, Role::kAdmin);
    Write(acme_, "pump-1,asset_type=pump temp=20 1");
    Write(other_, "secret-1 temp=20 1");
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = Server::Start(options,
                            Services{storage_.get(), ingestor_.get(), auth_.get(), nullptr, nullptr,
                                     windows_.get(), alerts_.get(), hub_.get(), notifier_.get()})
                  .value();
  }

  void TearDown() override { server_->Stop(); }

  std::string Token(storage::TenantId tenant, Role role = Role::kViewer) {
    auto client = auth_->CreateClient(tenant, "", role).value();
    return auth_->IssueToken(client.client.id, client.secret, std::time(nullptr)).value().jwt;
  }

  // Line protocol into `tenant`, measurement and asset given as "asset,tags fields ts(s)".
  void Write(storage::TenantId tenant, const std::string& line) {
    auto report =
        ingestor_->WriteLineProtocol(tenant, "m,asset_id=" + line, ingest::Precision::kSeconds, 0);
    ASSERT_TRUE(report.status.ok());
    ASSERT_TRUE(report.rejected.empty()) << report.rejected[0].reason;
  }

  Client Connect(const std::string& query = "") { return Client(server_->port(), "/ws" + query); }

  // Connected, authenticated (by the first message) and subscribed.
  Client Subscribed(json::object subscription, int receive_buffer = 0) {
    Client c(server_->port(), "/ws", receive_buffer);
    c.Send({{"type", "auth"}, {"token", acme_token_}});
    EXPECT_EQ(c.Next()->at("type"), "authenticated");
    subscription["type"] = "subscribe";
    c.Send(subscription);
    auto reply = c.Next();
    EXPECT_EQ(reply->at("type"), "subscribed") << json::serialize(*reply);
    return c;
  }

  foresight::testing::TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<query::Windows> windows_;
  std::unique_ptr<query::Alerts> alerts_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<Server> server_;
  storage::TenantId acme_ = 0, other_ = 0;
  std::string acme_token_, other_token_, admin_token_;
};

using WebSocket = LiveServer;

// Critical when temp > 90.
query::Rule HotRule() {
  query::Rule rule;
  rule.id = "rule_hot";
  rule.name = "Hot";
  rule.metric = "temp";
  rule.threshold = 90;
  rule.severity = query::Severity::kCritical;
  return rule;
}
using Webhooks = LiveServer;

// An HTTP endpoint on loopback (HTTPS with a `tls` context) that records what it is sent and
// answers with the given statuses in turn (the last one from then on).
class Receiver {
 public:
  explicit Receiver(std::vector<unsigned> statuses, asio::ssl::context* tls = nullptr)
      : statuses_(std::move(statuses)), tls_(tls) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    stop_ = true;
    beast::error_code ec;
    // Wakes the accept with a connection of our own.
    tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // Waits up to 5 s for `n` requests.
  std::vector<beast::http::request<beast::http::string_body>> Wait(size_t n) {
    std::unique_lock l(mu_);
    cv_.wait_for(l, std::chrono::seconds(5), [&] { return requests_.size() >= n; });
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      if (!tls_) {
        Exchange(socket);
        continue;
      }
      asio::ssl::stream<tcp::socket&> stream(socket, *tls_);
      stream.handshake(asio::ssl::stream_base::server, ec);  // fails when the client refuses
      if (!ec) Exchange(stream);
    }
  }
  template <class Stream>
  void Exchange(Stream& stream) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    beast::http::request<beast::http::string_body> req;
    beast::http::read(stream, buffer, req, ec);
    if (ec) return;
    unsigned status;
    {
      std::lock_guard l(mu_);
      status = statuses_[std::min(requests_.size(), statuses_.size() - 1)];
      requests_.push_back(req);
    }
    cv_.notify_all();
    beast::http::response<beast::http::string_body> res{beast::http::int_to_status(status), 11};
    res.prepare_payload();
    beast::http::write(stream, res, ec);
  }
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::vector<unsigned> statuses_;
  asio::ssl::context* tls_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<beast::http::request<beast::http::string_body>> requests_;
  std::thread thread_;
};

TEST_F(WebSocket, RefusesClientsWithoutAValidTokenWithAPolicyClose) {
  Client bogus = Connect("?token=not-a-jwt");
  auto error = bogus.Next();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->at("code"), "unauthorized");
  EXPECT_FALSE(bogus.Next().has_value());
  EXPECT_EQ(bogus.error, websocket::error::closed);
  EXPECT_EQ(bogus.reason().code, websocket::close_code::policy_error);

  Client eager = Connect();
  eager.Send({{"type", "subscribe"}, {"sub", "s1"}, {"topic", "alerts"}});
  EXPECT_EQ(eager.Next()->at("code"), "unauthorized");
  EXPECT_FALSE(eager.Next().has_value());
  EXPECT_EQ(eager.reason().code, websocket::close_code::policy_error);

  Client by_query = Connect("?token=" + acme_token_);
  auto hello = by_query.Next();
  EXPECT_EQ(hello->at("type"), "authenticated");
  EXPECT_EQ(hello->at("tenant"), "acme");

  auto plain = foresight::testing::SendRequest(
      server_->port(),
      beast::http::request<beast::http::string_body>(beast::http::verb::get, "/ws", 11));
  EXPECT_EQ(plain.result_int(), 426);
}

TEST_F(WebSocket, RefusesSubscriptionsOutsideTheTokensTenantAndMalformedOnes) {
  Client c = Connect("?token=" + acme_token_);
  ASSERT_EQ(c.Next()->at("type"), "authenticated");
  auto reply = [&](json::object sub) {
    sub["type"] = "subscribe";
    c.Send(sub);
    return *c.Next();
  };
  EXPECT_EQ(
      reply({{"sub", "a"}, {"topic", "readings"}, {"tenant", "other"}, {"asset_id", "secret-1"}})
          .at("code"),
      "forbidden");
  EXPECT_EQ(reply({{"sub", "b"}, {"topic", "readings"}, {"asset_id", "secret-1"}}).at("code"),
            "not_found")
      << "another tenant's asset does not exist in this one";
  EXPECT_EQ(reply({{"sub", "c"}, {"topic", "readings"}}).at("code"), "bad_request");
  EXPECT_EQ(reply({{"sub", "d"}, {"topic", "gossip"}}).at("code"), "bad_request");
  EXPECT_EQ(
      reply({{"sub", "e"}, {"topic", "readings"}, {"asset_id", "pump-1"}, {"max_rate_hz", 5000}})
          .at("code"),
      "bad_request");
  EXPECT_EQ(reply({{"topic", "alerts"}}).at("code"), "bad_request");
  c.Send({{"type", 42}});
  EXPECT_EQ(c.Next()->at("code"), "bad_request");
  EXPECT_EQ(reply({{"sub", "f"}, {"topic", "readings"}, {"tenant", "acme"}, {"asset_id", "pump-1"}})
                .at("type"),
            "subscribed");
  EXPECT_EQ(reply({{"sub", "f"}, {"topic", "alerts"}}).at("code"), "bad_request")
      << "sub ids are unique per connection";
  EXPECT_EQ(hub_->GetStats().subscriptions, 1u);
}

TEST_F(WebSocket, ClosesAConnectionWhenItsTokenExpiresAndRenewsItOnlyWithinTheTenant) {
  Client c = Connect("?token=" + acme_token_);
  ASSERT_EQ(c.Next()->at("type"), "authenticated");
  c.Send({{"type", "auth"}, {"token", other_token_}});
  EXPECT_EQ(c.Next()->at("code"), "unauthorized") << "a renewal may not change the tenant";
  c.Send({{"type", "auth"}, {"token", "not-a-jwt"}});
  EXPECT_EQ(c.Next()->at("code"), "unauthorized");

  // A renewal with a token about to expire: the connection lives until then, and no longer.
  // Two seconds: whenever the current second ends, the token is still valid a whole second
  // later, when the server checks it (one second failed when the boundary fell in between).
  auto client = auth_->CreateClient(acme_, "", Role::kViewer).value();
  const int64_t now = std::time(nullptr);
  const time_t expiry = now + 2;
  Principal soon{acme_, "acme", Role::kViewer, client.client.id};
  c.Send({{"type", "auth"}, {"token", auth_->SignJwt(soon, now, expiry)}});
  auto renewed = c.Next();
  ASSERT_EQ(renewed->at("type"), "authenticated") << json::serialize(*renewed);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&expiry));
  EXPECT_EQ(renewed->at("expires_at"), when);
  auto expired = c.Next();
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->at("code"), "token_expired");
  EXPECT_FALSE(c.Next().has_value());
  EXPECT_EQ(c.reason().code, websocket::close_code::policy_error);
}

TEST_F(WebSocket, StreamsEveryReadingIntoRateLimitedMinMaxUpdates) {
  Client c = Subscribed({{"sub", "r"},
                         {"topic", "readings"},
                         {"asset_id", "pump-1"},
                         {"metrics", json::array{"temp"}},
                         {"max_rate_hz", 10},
                         {"mode", "minmax"}});
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    Write(acme_, "pump-1 temp=" + std::to_string(i % 7 == 3 ? -5 : 30 + i) + ",rpm=1 " +
                     std::to_string(100 + i));
  }
  uint64_t seen = 0;
  int messages = 0;
  double lo = 1e9, hi = -1e9, last = 0;
  while (seen < 100) {
    auto m = c.Next("readings");
    ASSERT_TRUE(m.has_value()) << "after " << seen << " points";
    ++messages;
    const json::object& metrics = m->at("metrics").as_object();
    EXPECT_FALSE(metrics.contains("rpm")) << "only the metrics asked for";
    const json::value& temp = metrics.at("temp");
    seen += temp.at("count").to_number<uint64_t>();
    lo = std::min(lo, temp.at("min").to_number<double>());
    hi = std::max(hi, temp.at("max").to_number<double>());
    last = temp.at("last").to_number<double>();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(seen, 100u) << "every point is in exactly one update";
  EXPECT_EQ(lo, -5);
  EXPECT_EQ(hi, 129);
  EXPECT_EQ(last, 129);
  EXPECT_LE(messages, 1 + static_cast<int>(seconds * 10) + 1) << "at most 10 a second";
}

TEST_F(WebSocket, PushesAlertTransitionsAndHealthChangesAsTheyHappen) {
  alerts_->SetRules(acme_, {HotRule()});
  Client alerts = Subscribed({{"sub", "a"}, {"topic", "alerts"}});
  Client health = Subscribed({{"sub", "h"}, {"topic", "health"}, {"asset_id", "pump-1"}});

  Write(acme_, "pump-1 temp=95 200");
  auto opened = alerts.Next("alert");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->at("event"), "opened");
  EXPECT_EQ(opened->at("sub"), "a");
  const json::object& alert = opened->at("alert").as_object();
  EXPECT_EQ(alert.at("asset_id"), "pump-1");
  EXPECT_EQ(alert.at("severity"), "critical");
  auto hurt = health.Next("health");
  ASSERT_TRUE(hurt.has_value());
  EXPECT_EQ(hurt->at("health"), 70);

  const std::string id(alert.at("id").as_string());
  ASSERT_TRUE(alerts_->Update(acme_, id, query::AlertStatus::kAcknowledged, "ana", "").ok());
  EXPECT_EQ(alerts.Next("alert")->at("event"), "acknowledged");
  Write(acme_, "pump-1 temp=20 210");
  auto resolved = alerts.Next("alert");
  EXPECT_EQ(resolved->at("event"), "resolved");
  EXPECT_EQ(resolved->at("alert").at("resolved_by"), "rule");
  EXPECT_EQ(health.Next("health")->at("health"), 100);
}

TEST_F(WebSocket, ClosesAClientTooSlowForAlertEventsAndOnlyCoalescesReadings) {
  // Neither client reads while the server pushes; small receive buffers make that felt soon.
  Client slow_alerts = Subscribed({{"sub", "a"}, {"topic", "alerts"}}, 4096);
  Client slow_readings = Subscribed(
      {{"sub", "r"}, {"topic", "readings"}, {"asset_id", "pump-1"}, {"max_rate_hz", 1000}}, 4096);
  query::Alert big;
  big.asset_id = "pump-1";
  big.message = std::string(4000, 'x');
  for (int i = 0; i < 5000 && hub_->GetStats().closed_slow == 0; ++i) {
    ASSERT_TRUE(alerts_->Raise(acme_, big, "load").ok());
  }
  ASSERT_EQ(hub_->GetStats().closed_slow, 1u) << "alert events are never dropped";
  std::optional<json::object> m;
  while ((m = slow_alerts.Next())) EXPECT_EQ(m->at("type"), "alert");
  EXPECT_EQ(slow_alerts.error, websocket::error::closed);
  EXPECT_EQ(slow_alerts.reason().code, websocket::close_code::policy_error);

  // Wide rows of readings, faster than the readings client takes them.
  std::string fields;
  for (int f = 0; f < 50; ++f) fields += ",field_" + std::to_string(f) + "=1";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int64_t ts = 1000;
  for (int i = 0; hub_->GetStats().updates_dropped == 0; ++i, ++ts) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "the readings client never fell behind";
    Write(acme_, "pump-1 temp=" + std::to_string(i) + fields + " " + std::to_string(ts));
  }
  EXPECT_EQ(hub_->GetStats().closed_slow, 1u) << "a slow readings client is not closed";
  // Newer than every point above, however many it took.
  Write(acme_, "pump-1 temp=-1 " + std::to_string(ts));
  for (;;) {
    auto r = slow_readings.Next("readings");
    ASSERT_TRUE(r.has_value()) << slow_readings.error.message();
    if (r->at("metrics").at("temp").at("value") == -1.0) break;
  }
}

// An API call to the server under test as the acme admin.
json::value CallApi(uint16_t port, beast::http::verb verb, const std::string& target,
                    const std::string& token, const json::object& body, unsigned* status) {
  beast::http::request<beast::http::string_body> req{verb, target, 11};
  req.set(beast::http::field::authorization, "Bearer " + token);
  req.set(beast::http::field::content_type, "application/json");
  if (!body.empty()) req.body() = json::serialize(body);
  auto res = foresight::testing::SendRequest(port, std::move(req));
  *status = res.result_int();
  return res.body().empty() ? json::value() : json::parse(res.body());
}

// A webhook's delivery status once `done` holds for it, or as it is after 5 s.
json::value StatusOnce(uint16_t port, const std::string& token, const std::string& id,
                       const std::function<bool(const json::value&)>& done) {
  unsigned status = 0;
  json::value st;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    st = CallApi(port, beast::http::verb::get, "/api/v1/tenants/acme/webhooks/" + id, token, {},
                 &status)
             .at("status");
  } while (!done(st) && std::chrono::steady_clock::now() < deadline);
  return st;
}

TEST_F(Webhooks, DeliverSignedJsonAndSlackPayloadsForTheAlertsTheyAskFor) {
  Receiver json_hook({200}), slack_hook({200});
  unsigned status = 0;
  const std::string base = "/api/v1/tenants/acme/webhooks";
  auto created =
      CallApi(server_->port(), beast::http::verb::post, base, admin_token_,
              {{"name", "ops"}, {"url", json_hook.url()}, {"secret", "s3cret-key"}}, &status);
  ASSERT_EQ(status, 201u) << json::serialize(created);
  EXPECT_FALSE(created.as_object().contains("secret")) << "the secret never leaves";
  EXPECT_EQ(created.at("has_secret"), true);
  const std::string id(created.at("id").as_string());
  CallApi(server_->port(), beast::http::verb::post, base, admin_token_,
          {{"name", "chat"},
           {"url", slack_hook.url()},
           {"format", "slack"},
           {"events", "opened"},
           {"min_severity", "critical"}},
          &status);
  ASSERT_EQ(status, 201u);

  alerts_->SetRules(acme_, {HotRule()});
  Write(acme_, "pump-1 temp=95 300");
  Write(acme_, "pump-1 temp=20 310");

  auto got = json_hook.Wait(2);
  ASSERT_EQ(got.size(), 2u) << "opened and resolved";
  EXPECT_EQ(got[0][beast::http::field::content_type], "application/json");
  EXPECT_EQ(got[0]["X-Foresight-Event"], "alert.opened");
  EXPECT_EQ(got[1]["X-Foresight-Event"], "alert.resolved");
  const std::string& body = got[0].body();
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  const std::string key = "s3cret-key";
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  EXPECT_EQ(got[0]["X-Foresight-Signature"], "sha256=" + std::string(hex));
  const json::value payload = json::parse(body);
  EXPECT_EQ(payload.at("event"), "alert.opened");
  EXPECT_EQ(payload.at("alert").at("asset_id"), "pump-1");
  EXPECT_EQ(payload.at("alert").at("value"), 95.0);

  auto slack = slack_hook.Wait(1);
  ASSERT_EQ(slack.size(), 1u) << "opened only";
  const std::string text(json::parse(slack[0].body()).at("text").as_string());
  EXPECT_NE(text.find("[critical] pump-1 opened: Hot"), std::string::npos) << text;

  // The receiver has the request before the notifier has its answer: wait for the count.
  auto shown = StatusOnce(server_->port(), admin_token_, id,
                          [](const json::value& st) { return st.at("delivered") == 2; });
  EXPECT_EQ(shown.at("delivered"), 2);
  EXPECT_EQ(shown.at("last_http_status"), 200);
}

ml::DriftAlert TemperatureDrift(storage::TenantId tenant) {
  ml::DriftAlert drift;
  drift.tenant = tenant;
  drift.tenant_name = "acme";
  drift.model_id = "mdl_7";
  drift.target = "fails_7d";
  drift.threshold = 0.25;
  drift.features = {{"temp.mean_7d", 1.5, 0.8}, {"temp.last", 0.4, 0.3}};
  drift.measured_ns = 86'400'000'000'000;
  return drift;
}

TEST_F(Webhooks, DeliverAModelsDriftAlertAsAWarningThatOpensAProblem) {
  Receiver json_hook({200}), slack_hook({200}), critical_hook({200});
  unsigned status = 0;
  const std::string base = "/api/v1/tenants/acme/webhooks";
  std::vector<std::string> ids;
  for (const json::object& hook :
       {json::object{{"name", "ops"}, {"url", json_hook.url()}, {"secret", "k"}},
        json::object{{"name", "chat"},
                     {"url", slack_hook.url()},
                     {"format", "slack"},
                     {"events", "opened"},
                     {"min_severity", "warning"}},
        json::object{
            {"name", "pager"}, {"url", critical_hook.url()}, {"min_severity", "critical"}}}) {
    auto created =
        CallApi(server_->port(), beast::http::verb::post, base, admin_token_, hook, &status);
    ASSERT_EQ(status, 201u);
    ids.emplace_back(created.at("id").as_string());
  }
  notifier_->OnDrift(TemperatureDrift(acme_));
  // Queued on the call: what is not queued now is never sent.
  auto queued = [&](const std::string& id) {
    auto st = notifier_->Status(acme_, id);
    return st ? st->pending + st->delivered : 0;
  };
  EXPECT_EQ(queued(ids[0]), 1u);
  EXPECT_EQ(queued(ids[1]), 1u);
  EXPECT_EQ(queued(ids[2]), 0u) << "a warning, below the pager's minimum";

  auto got = json_hook.Wait(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["X-Foresight-Event"], "model.drift");
  EXPECT_TRUE(got[0]["X-Foresight-Signature"].starts_with("sha256="));
  const json::value payload = json::parse(got[0].body());
  EXPECT_EQ(payload.at("event"), "model.drift");
  EXPECT_EQ(payload.at("tenant_id"), acme_);
  EXPECT_EQ(payload.at("model").at("id"), "mdl_7");
  EXPECT_EQ(payload.at("model").at("target"), "fails_7d");
  EXPECT_EQ(payload.at("psi_threshold"), 0.25);
  EXPECT_EQ(payload.at("measured_at"), "1970-01-02T00:00:00Z");
  const auto& features = payload.at("features").as_array();
  ASSERT_EQ(features.size(), 2u);
  EXPECT_EQ(features[0].at("feature"), "temp.mean_7d");
  EXPECT_EQ(features[0].at("psi"), 1.5);
  EXPECT_EQ(features[0].at("ks"), 0.8);

  auto slack = slack_hook.Wait(1);
  ASSERT_EQ(slack.size(), 1u) << "a drift alert opens a problem";
  const std::string text(json::parse(slack[0].body()).at("text").as_string());
  EXPECT_NE(text.find("[warning] model mdl_7 (fails_7d) drifted: 2 features with PSI above 0.25: "
                      "temp.mean_7d, temp.last"),
            std::string::npos)
      << text;
}

TEST_F(Webhooks, DeliverOverHttpsOnlyToACertificateTrustedForTheirHost) {
  // A self-signed certificate for "localhost" only, made for this test.
  const std::string cert = dir_.Sub("cert.pem"), key = dir_.Sub("key.pem");
  const std::string make =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(make.c_str()), 0) << make;
  asio::ssl::context server(asio::ssl::context::tls_server);
  server.use_certificate_chain_file(cert);
  server.use_private_key_file(key, asio::ssl::context::pem);
  Receiver https({200}, &server);

  // One delivery to `host` by a notifier that trusts `ca_file` besides the system's CAs.
  auto deliver = [&](const std::string& ca_file, const std::string& host) {
    NotifierOptions options;
    options.max_attempts = 1;
    options.ca_file = ca_file;
    Notifier notifier(options);
    WebhookConfig hook;
    hook.id = "tls";
    hook.url = "https://" + host + ":" + std::to_string(https.port());
    notifier.SetWebhooks(acme_, {hook});
    notifier.OnDrift(TemperatureDrift(acme_));
    WebhookStatus st;
    EXPECT_TRUE(foresight::testing::Eventually([&] {
      st = *notifier.Status(acme_, "tls");
      return st.pending == 0;
    }));
    return st;
  };
  const WebhookStatus trusted = deliver(cert, "localhost");
  EXPECT_EQ(trusted.delivered, 1u) << trusted.last_error;
  const WebhookStatus unknown_ca = deliver("", "localhost");
  EXPECT_EQ(unknown_ca.failed, 1u);
  EXPECT_NE(unknown_ca.last_error.find("certificate verify failed"), std::string::npos)
      << unknown_ca.last_error;
  const WebhookStatus other_name = deliver(cert, "127.0.0.1");
  EXPECT_EQ(other_name.failed, 1u);
  EXPECT_NE(other_name.last_error.find("certificate verify failed"), std::string::npos)
      << other_name.last_error;
  const auto got = https.Wait(1);
  ASSERT_EQ(got.size(), 1u) << "only the trusted delivery got through";
  EXPECT_EQ(got[0]["X-Foresight-Event"], "model.drift");
  EXPECT_EQ(got[0].target(), "/");
}

TEST_F(Webhooks, RetryWithBackoffThenReportFailuresInStatusAndMetrics) {
  Receiver flaky({500, 503, 200});
  unsigned status = 0;
  const std::string base = "/api/v1/tenants/acme/webhooks";
  auto hook = CallApi(server_->port(), beast::http::verb::post, base, admin_token_,
                      {{"name", "flaky"}, {"url", flaky.url()}}, &status);
  ASSERT_EQ(status, 201u);
  // Nothing listens on port 9 of loopback.
  auto dead = CallApi(server_->port(), beast::http::verb::post, base, admin_token_,
                      {{"name", "dead"}, {"url", "http://127.0.0.1:9/hook"}}, &status);
  ASSERT_EQ(status, 201u);
  query::Alert manual;
  manual.asset_id = "pump-1";
  manual.message = "by hand";
  ASSERT_TRUE(alerts_->Raise(acme_, manual, "ana").ok());

  ASSERT_EQ(flaky.Wait(3).size(), 3u) << "two failures, then delivered";
  auto dead_status =
      StatusOnce(server_->port(), admin_token_, std::string(dead.at("id").as_string()),
                 [](const json::value& st) { return st.at("failed") == 1; });
  EXPECT_EQ(dead_status.at("failed"), 1);
  EXPECT_EQ(dead_status.at("attempts"), 3);
  EXPECT_NE(std::string(dead_status.at("last_error").as_string()).find("connect"),
            std::string::npos);
  auto flaky_status =
      StatusOnce(server_->port(), admin_token_, std::string(hook.at("id").as_string()),
                 [](const json::value& st) { return st.at("delivered") == 1; });
  EXPECT_EQ(flaky_status.at("delivered"), 1);
  EXPECT_EQ(flaky_status.at("attempts"), 3);
  EXPECT_FALSE(flaky_status.as_object().contains("last_error")) << "cleared by the success";
  auto metrics = foresight::testing::SendRequest(
      server_->port(),
      beast::http::request<beast::http::string_body>(beast::http::verb::get, "/metrics", 11));
  EXPECT_NE(metrics.body().find("foresight_webhook_failures_total 1"), std::string::npos);
  EXPECT_NE(metrics.body().find("foresight_webhook_retries_total 4"), std::string::npos);
}

TEST_F(Webhooks, KeepDeliveringToOthersWhileOneEndpointHangs) {
  // Listens but never accepts: a connection completes and its request is never answered (until
  // the endpoint closes, which resets it).
  asio::io_context ioc;
  tcp::acceptor hang(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string hang_url =
      "http://127.0.0.1:" + std::to_string(hang.local_endpoint().port()) + "/hook";
  Receiver ok({200});
  unsigned status = 0;
  const std::string base = "/api/v1/tenants/acme/webhooks";
  auto hanging = CallApi(server_->port(), beast::http::verb::post, base, admin_token_,
                         {{"name", "hangs"}, {"url", hang_url}}, &status);
  ASSERT_EQ(status, 201u);
  CallApi(server_->port(), beast::http::verb::post, base, admin_token_,
          {{"name", "ok"}, {"url", ok.url()}}, &status);
  ASSERT_EQ(status, 201u);
  for (const char* asset : {"pump-1", "pump-2"}) {
    query::Alert manual;
    manual.asset_id = asset;
    manual.message = "by hand";
    ASSERT_TRUE(alerts_->Raise(acme_, manual, "ana").ok());
  }

  // Both alerts reach the answering webhook, in order, while the first delivery to the hanging
  // one is still waiting for its answer (the timeout is 2 s).
  const auto got = ok.Wait(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(json::parse(got[0].body()).at("alert").at("asset_id"), "pump-1");
  EXPECT_EQ(json::parse(got[1].body()).at("alert").at("asset_id"), "pump-2");
  const auto stuck = notifier_->Status(acme_, std::string(hanging.at("id").as_string()));
  ASSERT_TRUE(stuck.has_value());
  EXPECT_EQ(stuck->attempts, 0u);
  EXPECT_EQ(stuck->pending, 2u);
}

TEST_F(Webhooks, RefuseMalformedWebhooksAndCallersWhoAreNotAdmins) {
  unsigned status = 0;
  const std::string base = "/api/v1/tenants/acme/webhooks";
  auto field = [&](const json::object& body) {
    auto r = CallApi(server_->port(), beast::http::verb::post, base, admin_token_, body, &status);
    EXPECT_EQ(status, 400u);
    return std::string(r.at("error").at("field").as_string());
  };
  EXPECT_EQ(field({{"name", "x"}, {"url", "ftp://example.com/x"}}), "url");
  EXPECT_EQ(field({{"name", "x"}, {"url", "http:///nohost"}}), "url");
  EXPECT_EQ(field({{"url", "http://127.0.0.1/x"}}), "name");
  EXPECT_EQ(field({{"name", "x"}, {"url", "http://127.0.0.1/x"}, {"format", "teams"}}), "format");
  EXPECT_EQ(field({{"name", "x"}, {"url", "http://127.0.0.1/x"}, {"colour", "red"}}), "colour");
  CallApi(server_->port(), beast::http::verb::get, base, acme_token_, {}, &status);
  EXPECT_EQ(status, 403u) << "viewers do not see webhooks";
  CallApi(server_->port(), beast::http::verb::get, "/api/v1/tenants/other/webhooks", admin_token_,
          {}, &status);
  EXPECT_EQ(status, 403u);
  CallApi(server_->port(), beast::http::verb::delete_, base + "/hook_nope", admin_token_, {},
          &status);
  EXPECT_EQ(status, 404u);
}

}  // namespace
}  // namespace foresight::http
