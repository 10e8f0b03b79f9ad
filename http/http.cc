#include "http/http.h"

#include "storage/log.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

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
constexpr size_t kMaxBodyBytes = 1 << 20;

std::string JsonError(std::string_view code, std::string_view message) {
  return "{\"error\":{\"code\":\"" + std::string(code) + "\",\"message\":\"" +
         std::string(message) + "\"}}";
}

bhttp::response<bhttp::string_body> Respond(const bhttp::request<bhttp::string_body>& req,
                                            bhttp::status status, std::string body) {
  bhttp::response<bhttp::string_body> res{status, req.version()};
  res.set(bhttp::field::server, "foresight");
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bhttp::response<bhttp::string_body> Handle(const bhttp::request<bhttp::string_body>& req,
                                           storage::Storage* storage) {
  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  if (target == "/health" || target == "/ready") {
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      return Respond(req, bhttp::status::method_not_allowed,
                     JsonError("method_not_allowed", "use GET"));
    }
    if (target == "/health") return Respond(req, bhttp::status::ok, "{\"status\":\"ok\"}");
    Status health = storage->Health();
    if (!health.ok()) {
      return Respond(req, bhttp::status::service_unavailable,
                     JsonError("storage_unavailable", "storage refuses writes after an error"));
    }
    return Respond(req, bhttp::status::ok, "{\"status\":\"ready\"}");
  }
  return Respond(req, bhttp::status::not_found, JsonError("not_found", "no such route"));
}

// One connection: read a request, answer it, repeat while keep-alive. Runs on its own strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, storage::Storage* storage, int idle_timeout_s)
      : stream_(std::move(socket)), storage_(storage), idle_timeout_s_(idle_timeout_s) {}

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(std::chrono::seconds(idle_timeout_s_));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout) return Close();
    if (ec) {
      // A malformed request gets a 400 before the connection closes, never a crash.
      auto res =
          std::make_shared<bhttp::response<bhttp::string_body>>(bhttp::status::bad_request, 11);
      res->set(bhttp::field::content_type, "application/json");
      res->body() = JsonError("bad_request", ec.message());
      res->keep_alive(false);
      res->prepare_payload();
      return Write(std::move(res));
    }
    bhttp::request<bhttp::string_body> req = parser_->release();
    std::shared_ptr<bhttp::response<bhttp::string_body>> res;
    try {
      res = std::make_shared<bhttp::response<bhttp::string_body>>(Handle(req, storage_));
    } catch (const std::exception& e) {
      log::Error("http: {} {}: {}", std::string(req.method_string()), std::string(req.target()),
                 e.what());
      res = std::make_shared<bhttp::response<bhttp::string_body>>(Respond(
          req, bhttp::status::internal_server_error, JsonError("internal", "internal error")));
    }
    Write(std::move(res));
  }

  void Write(std::shared_ptr<bhttp::response<bhttp::string_body>> res) {
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
  storage::Storage* storage_;
  int idle_timeout_s_;
};

class BeastServer final : public Server {
 public:
  BeastServer(const ServerOptions& options, storage::Storage* storage)
      : options_(options), storage_(storage), acceptor_(ioc_) {}
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
      if (!ec) std::make_shared<Session>(std::move(s), storage_, options_.idle_timeout_s)->Run();
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
  storage::Storage* storage_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> pool_;
  std::atomic<bool> stopped_{false};
  uint16_t port_ = 0;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                              storage::Storage* storage) {
  auto server = std::make_unique<BeastServer>(options, storage);
  Status s = server->Listen();
  if (!s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace foresight::http
