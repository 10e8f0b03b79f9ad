#include "http/api.h"
#include "storage/log.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace foresight::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = 16 << 10;

}  // namespace

std::string ErrorJson(std::string_view code, std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  boost::json::object o;
  o["error"] = std::move(error);
  return JsonText(o);
}

Response MakeResponse(const Request& req, bhttp::status status, std::string body,
                      std::string_view content_type) {
  Response res{status, req.version()};
  res.set(bhttp::field::server, "foresight");
  if (!body.empty()) res.set(bhttp::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::vector<RouteInfo> ListRoutes() {
  std::vector<RouteInfo> out;
  for (const Route& r : RouteTable()) {
    out.push_back({std::string(bhttp::to_string(r.method)), std::string(r.pattern),
                   std::string(AccessName(r.access))});
  }
  return out;
}

// RFC 9112's requirements on a request's framing and target that Beast leaves to the server.
// Rewrites an absolute-form target ("http://host/path") to its origin form, which a server
// MUST accept (§3.2.2); answers the rest with an error, or nullopt when the request may go on.
std::optional<std::string> CheckFraming(Request& req) {
  if (req.version() >= 11 && req.count(bhttp::field::host) == 0) {
    return "an HTTP/1.1 request needs a Host header (RFC 9112 §3.2)";
  }
  if (req.count(bhttp::field::host) > 1) return "more than one Host header (RFC 9112 §3.2)";
  if (req.count(bhttp::field::transfer_encoding) > 0) {
    // Both framings at once is how requests are smuggled past a proxy (§6.1).
    if (req.count(bhttp::field::content_length) > 0) {
      return "Transfer-Encoding and Content-Length together (RFC 9112 §6.1)";
    }
    if (req.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)";
    if (!req.chunked()) return "a Transfer-Encoding that does not end in chunked (RFC 9112 §6.3)";
  }
  std::string_view target(req.target().data(), req.target().size());
  if (target == "*") {
    if (req.method() != bhttp::verb::options) return "the target * is for OPTIONS only (§3.2.4)";
    return std::nullopt;
  }
  if (req.method() == bhttp::verb::connect) return "CONNECT is not served here";
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() < scheme.size() ||
        !std::equal(scheme.begin(), scheme.end(), target.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      continue;
    }
    const size_t path = target.find_first_of("/?", scheme.size());
    std::string origin = path == std::string_view::npos ? "/" : std::string(target.substr(path));
    if (origin.front() == '?') origin.insert(0, "/");
    req.target(origin);
    return std::nullopt;
  }
  if (!target.starts_with('/')) return "the request target must start with / (RFC 9112 §3.2)";
  return std::nullopt;
}

Response BadRequest(unsigned version, std::string_view message) {
  Response res{bhttp::status::bad_request, version};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = ErrorJson("bad_request", message);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

Response TooLarge(const Request& req, size_t limit) {
  std::string_view target(req.target().data(), req.target().size());
  std::string message =
      "the body is larger than this route's limit of " + std::to_string(limit) + " bytes";
  Response res =
      MakeResponse(req, bhttp::status::payload_too_large,
                   target.starts_with("/write") ? "{\"error\":\"" + message + "\"}"
                   : target.starts_with("/api/v2/write")
                       ? "{\"code\":\"request too large\",\"message\":\"" + message + "\"}"
                       : ErrorJson("too_large", message));
  res.keep_alive(false);  // the unread body is still on the wire
  return res;
}

namespace {

class Session;

// What every session shares with its server.
struct Shared {
  Services services;
  ServerOptions options;
  Api api;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<bool> draining{false};
  std::atomic<uint64_t> request_counter{0};
  uint64_t request_seed = 0;
  Mutex sessions_mu;
  std::set<Session*> sessions FORESIGHT_GUARDED_BY(sessions_mu);
  ConnectionSet websockets;

  Shared(const Services& s, const ServerOptions& o)
      : services(s),
        options(o),
        api(s.storage,
            ApiOptions{o.rate_limit_per_s, o.rate_limit_burst, o.cors_origins, o.operator_token}),
        request_seed(std::chrono::steady_clock::now().time_since_epoch().count()) {}

  // The client's X-Request-Id when it is a sane token, else a fresh one.
  std::string RequestId(const Request& req) {
    auto it = req.find("X-Request-Id");
    std::string_view given = it == req.end()
                                 ? std::string_view()
                                 : std::string_view(it->value().data(), it->value().size());
    if (!given.empty() && given.size() <= 64 && std::all_of(given.begin(), given.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        })) {
      return std::string(given);
    }
    uint64_t n = request_counter.fetch_add(1) + 1;
    uint64_t x = (request_seed ^ (n * 0x9E3779B97F4A7C15ull));
    x ^= x >> 31;
    return fmt::format("{:016x}", x * 0xBF58476D1CE4E5B9ull);
  }
};

// One connection: read a request, answer it, repeat while keep-alive. Runs on its own strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared* shared)
      : peer_(PeerAddress(socket)), stream_(std::move(socket)), shared_(shared) {
    shared_->connections.fetch_add(1);
    MutexLock l(&shared_->sessions_mu);
    shared_->sessions.insert(this);
  }
  ~Session() {
    shared_->connections.fetch_sub(1);
    MutexLock l(&shared_->sessions_mu);
    shared_->sessions.erase(this);
  }

  // REQUIRES: no pool thread is running (Stop, after the join).
  void CloseNow() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Answers 503 and closes: the server is at its connection cap.
  void Refuse() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      auto res = std::make_shared<Response>(bhttp::status::service_unavailable, 11);
      res->set(bhttp::field::content_type, "application/json");
      res->set(bhttp::field::retry_after, "1");
      res->body() = ErrorJson("too_many_connections", "the server is at its connection limit");
      res->keep_alive(false);
      res->prepare_payload();
      self->Write(std::move(res), false);
    });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // Beast would hold a Content-Length to its default 1 MiB while reading the header; the
    // route's own limit is applied once the header names the route (OnHeader).
    parser_->body_limit(boost::none);
    // The first request's header must come promptly; later ones may wait out the idle timeout.
    stream_.expires_after(std::chrono::seconds(first_ ? shared_->options.header_timeout_s
                                                      : shared_->options.idle_timeout_s));
    first_ = false;
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // The route's body limit is decided from the header, before any of the body is buffered.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    if (std::optional<std::string> bad = CheckFraming(parser_->get())) {
      return Write(std::make_shared<Response>(BadRequest(parser_->get().version(), *bad)), false);
    }
    const Request& req = parser_->get();
    std::string_view target(req.target().data(), req.target().size());
    match_ = MatchRoute(req.method(), target);
    body_limit_ = BodyLimit(match_, shared_->services);
    if (auto length = parser_->content_length(); length && *length > body_limit_) {
      return Write(std::make_shared<Response>(TooLarge(req, body_limit_)), false);
    }
    parser_->body_limit(body_limit_);
    stream_.expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    if (req[bhttp::field::expect] == "100-continue") {
      auto go_on = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                        req.version());
      return bhttp::async_write(stream_, *go_on,
                                [self = shared_from_this(), go_on](beast::error_code ec, size_t) {
                                  if (ec) return self->Close();
                                  self->ReadBody();
                                });
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return Write(std::make_shared<Response>(TooLarge(parser_->get(), body_limit_)), false);
    }
    if (ec) {
      // A malformed request gets a 400 before the connection closes, never a crash.
      return Write(std::make_shared<Response>(BadRequest(11, ec.message())), false);
    }
    if (beast::websocket::is_upgrade(parser_->get()) &&
        parser_->get().target().substr(0, parser_->get().target().find('?')) == "/ws") {
      // The connection becomes a WebSocket session of its own; this one ends here.
      stream_.expires_never();
      return ServeWebSocket(stream_.release_socket(), parser_->release(), shared_->services,
                            &shared_->websockets);
    }
    shared_->in_flight.fetch_add(1);
    Write(Answer(parser_->release()), true);
  }

  std::shared_ptr<Response> Answer(const Request& req) {
    std::string request_id = shared_->RequestId(req);
    std::shared_ptr<Response> res;
    try {
      res = std::make_shared<Response>(
          Dispatch(req, std::move(match_), shared_->services, shared_->api, request_id, peer_));
    } catch (const std::exception& e) {
      log::Error("request {}: {} {}: {}", request_id, std::string(req.method_string()),
                 std::string(req.target()), e.what());
      res = std::make_shared<Response>(MakeResponse(req, bhttp::status::internal_server_error,
                                                    ErrorJson("internal", "internal error")));
    }
    res->set("X-Request-Id", request_id);
    if (shared_->draining.load()) res->keep_alive(false);
    return res;
  }

  void Write(std::shared_ptr<Response> res, bool counted) {
    bool keep_alive = res->keep_alive();
    bhttp::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive, counted](beast::error_code ec, size_t) {
          if (counted) self->shared_->in_flight.fetch_sub(1);
          if (ec || !keep_alive || self->shared_->draining.load()) {
            return self->Close();
          }
          self->Read();
        });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  static std::string PeerAddress(const tcp::socket& socket) {
    boost::system::error_code ec;
    tcp::endpoint peer = socket.remote_endpoint(ec);
    return ec ? std::string() : peer.address().to_string();
  }

  const std::string peer_;
  beast::tcp_stream stream_;
  Shared* const shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  RouteMatch match_;  // of the request being read
  size_t body_limit_ = kDefaultBodyLimit;
  bool first_ = true;
};

class BeastServer final : public Server {
 public:
  BeastServer(const ServerOptions& options, const Services& services)
      // A strand: Stop closes the acceptor while an accept handler may be running.
      : shared_(services, options), acceptor_(asio::make_strand(ioc_)) {}
  ~BeastServer() override { Stop(); }

  Status Listen() {
    const ServerOptions& options = shared_.options;
    beast::error_code ec;
    auto address = asio::ip::make_address(options.host, ec);
    if (ec) return Status::InvalidArgument("bad listen address '" + options.host + "'");
    tcp::endpoint endpoint(address, options.port);
    std::string where = options.host + ":" + std::to_string(options.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    Accept();
    int threads = options.threads > 0
                      ? options.threads
                      : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
    for (int i = 0; i < threads; ++i) pool_.emplace_back([this] { RunPool(); });
    return Status::OK();
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    shared_.draining.store(true);
    std::promise<void> closed;
    asio::post(acceptor_.get_executor(), [this, &closed] {
      beast::error_code ec;
      acceptor_.close(ec);
      closed.set_value();
    });
    if (!pool_.empty()) closed.get_future().wait();
    // Requests in flight finish and are answered (with Connection: close); idle connections are
    // dropped when the pool stops.
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(shared_.options.shutdown_grace_s);
    while (shared_.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (shared_.in_flight.load() > 0) {
      log::Warn("http: {} requests still running after {} s; closing their connections",
                shared_.in_flight.load(), shared_.options.shutdown_grace_s);
    }
    ioc_.stop();
    for (auto& t : pool_) t.join();
    pool_.clear();
    MutexLock l(&shared_.sessions_mu);
    for (Session* s : shared_.sessions) s->CloseNow();
    shared_.websockets.CloseAll();
    if (shared_.services.hub) shared_.services.hub->Quiesce();
  }

  uint16_t port() const override { return port_; }

 private:
  void Accept() {
    // Each connection gets its own strand, so its handlers never run concurrently.
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || shared_.draining.load()) return;
      if (!ec) {
        auto session = std::make_shared<Session>(std::move(s), &shared_);
        if (shared_.connections.load() > shared_.options.max_connections) {
          session->Refuse();
        } else {
          session->Run();
        }
      }
      Accept();
    });
  }

  void RunPool() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        log::Error("http: handler escaped: {}", e.what());  // keep serving
      }
    }
  }

  Shared shared_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> pool_;
  std::atomic<bool> stopped_{false};
  uint16_t port_ = 0;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                              const Services& services) {
  auto server = std::make_unique<BeastServer>(options, services);
  Status s = server->Listen();
  if (!s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace foresight::http
