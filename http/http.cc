#include "http/handlers.h"
#include "storage/log.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <thread>
#include <vector>

namespace foresight::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = 16 << 10;

bool IsWrite(std::string_view path) {
  return path == "/write" || path == "/api/v2/write" ||
         (path.starts_with("/api/v1/tenants/") && path.ends_with("/readings"));
}

// The {tenant} of /api/v1/tenants/{tenant}/readings, or empty.
std::string_view ReadingsTenant(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/v1/tenants/", kSuffix = "/readings";
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return {};
  std::string_view tenant =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  return tenant.find('/') == std::string_view::npos ? tenant : std::string_view();
}

Response Handle(const Request& req, const Services& services) {
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/health" || path == "/ready") {
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      return MakeResponse(req, bhttp::status::method_not_allowed,
                          ErrorJson("method_not_allowed", "use GET"));
    }
    if (path == "/health") return MakeResponse(req, bhttp::status::ok, "{\"status\":\"ok\"}");
    Status health = services.storage->Health();
    if (!health.ok()) {
      return MakeResponse(
          req, bhttp::status::service_unavailable,
          ErrorJson("storage_unavailable", "storage refuses writes after an error"));
    }
    return MakeResponse(req, bhttp::status::ok, "{\"status\":\"ready\"}");
  }
  if (path == "/ping") {
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      return MakeResponse(req, bhttp::status::method_not_allowed,
                          ErrorJson("method_not_allowed", "use GET or HEAD"));
    }
    return HandlePing(req);
  }
  if (path == "/metrics") {
    if (req.method() != bhttp::verb::get) {
      return MakeResponse(req, bhttp::status::method_not_allowed,
                          ErrorJson("method_not_allowed", "use GET"));
    }
    return HandleMetrics(req, services);
  }
  if (path == "/write") return HandleInfluxWrite(req, services, InfluxApi::kV1);
  if (path == "/api/v2/write") return HandleInfluxWrite(req, services, InfluxApi::kV2);
  if (std::string_view tenant = ReadingsTenant(path); !tenant.empty()) {
    return HandleReadings(req, services, tenant);
  }
  return MakeResponse(req, bhttp::status::not_found, ErrorJson("not_found", "no such route"));
}

}  // namespace

std::string ErrorJson(std::string_view code, std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  boost::json::object o;
  o["error"] = std::move(error);
  return boost::json::serialize(o);
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

size_t BodyLimit(std::string_view path, const Services& services) {
  return IsWrite(path) && services.ingestor ? services.ingestor->options().limits.max_body_bytes
                                            : kDefaultBodyLimit;
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

// One connection: read a request, answer it, repeat while keep-alive. Runs on its own strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Services& services, int idle_timeout_s)
      : stream_(std::move(socket)), services_(services), idle_timeout_s_(idle_timeout_s) {}

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(std::chrono::seconds(idle_timeout_s_));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // The route's body limit is decided from the header, before any of the body is buffered.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const Request& req = parser_->get();
    std::string_view target(req.target().data(), req.target().size());
    body_limit_ = BodyLimit(target.substr(0, target.find('?')), services_);
    if (auto length = parser_->content_length(); length && *length > body_limit_) {
      return Write(std::make_shared<Response>(TooLarge(req, body_limit_)));
    }
    parser_->body_limit(body_limit_);
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
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout) return Close();
    if (ec == bhttp::error::body_limit) {
      return Write(std::make_shared<Response>(TooLarge(parser_->get(), body_limit_)));
    }
    if (ec) {
      // A malformed request gets a 400 before the connection closes, never a crash.
      auto res = std::make_shared<Response>(bhttp::status::bad_request, 11);
      res->set(bhttp::field::content_type, "application/json");
      res->body() = ErrorJson("bad_request", ec.message());
      res->keep_alive(false);
      res->prepare_payload();
      return Write(std::move(res));
    }
    Request req = parser_->release();
    std::shared_ptr<Response> res;
    try {
      res = std::make_shared<Response>(Handle(req, services_));
    } catch (const std::exception& e) {
      log::Error("http: {} {}: {}", std::string(req.method_string()), std::string(req.target()),
                 e.what());
      res = std::make_shared<Response>(MakeResponse(req, bhttp::status::internal_server_error,
                                                    ErrorJson("internal", "internal error")));
    }
    Write(std::move(res));
  }

  void Write(std::shared_ptr<Response> res) {
    bool keep_alive = res->keep_alive();
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) return self->Close();
                         self->Read();
                       });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const Services services_;
  int idle_timeout_s_;
  size_t body_limit_ = kDefaultBodyLimit;
};

class BeastServer final : public Server {
 public:
  BeastServer(const ServerOptions& options, const Services& services)
      : options_(options), services_(services), acceptor_(ioc_) {}
  ~BeastServer() override { Stop(); }

  Status Listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return Status::InvalidArgument("bad listen address '" + options_.host + "'");
    tcp::endpoint endpoint(address, options_.port);
    std::string where = options_.host + ":" + std::to_string(options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    Accept();
    int threads = options_.threads > 0
                      ? options_.threads
                      : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
    for (int i = 0; i < threads; ++i) pool_.emplace_back([this] { RunPool(); });
    return Status::OK();
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    ioc_.stop();
    for (auto& t : pool_) t.join();
    pool_.clear();
  }

  uint16_t port() const override { return port_; }

 private:
  void Accept() {
    // Each connection gets its own strand, so its handlers never run concurrently.
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(std::move(s), services_, options_.idle_timeout_s)->Run();
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

  ServerOptions options_;
  Services services_;
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
