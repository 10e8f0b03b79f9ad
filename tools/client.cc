#include "tools/client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <charconv>

namespace foresight::tools {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

Result<Endpoint> ParseEndpoint(std::string_view text, uint16_t default_port) {
  std::string_view rest = text;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  if (rest.starts_with("https://")) {
    return Status::InvalidArgument("'" + std::string(text) + "': https is not supported");
  }
  rest = rest.substr(0, rest.find('/'));
  Endpoint e;
  std::string_view port;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("'" + std::string(text) + "': unclosed [");
    }
    e.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    e.host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (e.host.empty()) return Status::InvalidArgument("'" + std::string(text) + "': no host");
  e.port = default_port;
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Status::InvalidArgument("'" + std::string(text) + "': bad port");
    }
    e.port = static_cast<uint16_t>(value);
  }
  return e;
}

namespace {

Status ConnectSocket(const Endpoint& endpoint, tcp::socket* socket) {
  boost::system::error_code ec;
  tcp::resolver resolver(socket->get_executor());
  auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
  if (!ec) asio::connect(*socket, results, ec);
  if (ec) {
    return Status::IOError("cannot connect to " + endpoint.host + ":" +
                           std::to_string(endpoint.port) + ": " + ec.message());
  }
  socket->set_option(tcp::no_delay(true), ec);
  return Status::OK();
}

}  // namespace

struct HttpClient::Impl {
  Endpoint endpoint;
  asio::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(Endpoint endpoint) : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = std::move(endpoint);
}

HttpClient::~HttpClient() = default;

Result<HttpClient::Response> HttpClient::Send(std::string_view method, std::string_view target,
                                              std::string_view body, std::string_view content_type,
                                              std::string_view authorization) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, impl_->endpoint.host);
  req.set(bhttp::field::user_agent, "foresight-client");
  if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
  if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
  req.body() = body;
  req.prepare_payload();
  std::string last_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->socket.is_open()) {
      impl_->buffer.clear();
      if (Status s = ConnectSocket(impl_->endpoint, &impl_->socket); !s.ok()) return s;
    }
    boost::system::error_code ec;
    bhttp::write(impl_->socket, req, ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    if (!ec) bhttp::read(impl_->socket, impl_->buffer, parser, ec);
    if (!ec) {
      auto res = parser.release();
      if (!res.keep_alive()) impl_->socket.close(ec);
      return Response{static_cast<int>(res.result_int()), std::move(res.body())};
    }
    // A kept-alive connection the server closed meanwhile: try once on a new one.
    last_error = ec.message();
    impl_->socket.close(ec);
  }
  return Status::IOError(std::string(method) + " " + std::string(target) + ": " + last_error);
}

struct TcpSender::Impl {
  asio::io_context ioc;
  tcp::socket socket{ioc};
};

TcpSender::TcpSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TcpSender::~TcpSender() = default;

Result<std::unique_ptr<TcpSender>> TcpSender::Connect(const Endpoint& endpoint,
                                                      std::string_view token) {
  auto impl = std::make_unique<Impl>();
  if (Status s = ConnectSocket(endpoint, &impl->socket); !s.ok()) return s;
  std::unique_ptr<TcpSender> sender(new TcpSender(std::move(impl)));
  if (!token.empty()) {
    if (Status s = sender->Send("# token " + std::string(token) + "\n"); !s.ok()) return s;
  }
  return sender;
}

Status TcpSender::Send(std::string_view bytes) {
  boost::system::error_code ec;
  asio::write(impl_->socket, asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec) return Status::IOError("TCP send: " + ec.message());
  return Status::OK();
}

Status TcpSender::Finish() {
  boost::system::error_code ec;
  impl_->socket.shutdown(tcp::socket::shutdown_send, ec);
  char scratch[256];
  while (!ec) impl_->socket.read_some(asio::buffer(scratch), ec);
  if (ec != asio::error::eof && ec != asio::error::connection_reset) {
    return Status::IOError("TCP close: " + ec.message());
  }
  return Status::OK();
}

Status Refused(std::string_view what, const HttpClient::Response& r) {
  return Status::IOError(std::string(what) + ": HTTP " + std::to_string(r.status) + " " +
                         r.body.substr(0, 300));
}

Status ApiSession::SignIn() {
  json::object body{{"client_id", client_id_}, {"client_secret", secret_}};
  auto r = http_->Send("POST", "/auth/token", storage::JsonText(body), "application/json");
  if (!r.ok()) return r.status();
  if (r->status != 200) return Refused("sign-in as " + client_id_, *r);
  auto v = storage::ParseJsonObject(r->body);
  const json::value* token = v.ok() ? v->if_contains("access_token") : nullptr;
  if (!token || !token->is_string()) return Refused("sign-in answer", *r);
  bearer_ = "Bearer " + std::string(token->as_string());
  return Status::OK();
}

Result<HttpClient::Response> ApiSession::Call(std::string_view method, std::string_view path,
                                              std::string_view body,
                                              std::string_view content_type) {
  if (bearer_.empty()) {
    if (Status s = SignIn(); !s.ok()) return s;
  }
  const std::string target = "/api/v1/tenants/" + tenant_ + std::string(path);
  const std::string_view type = body.empty() ? std::string_view() : content_type;
  auto r = http_->Send(method, target, body, type, bearer_);
  if (r.ok() && r->status == 401) {
    if (Status s = SignIn(); !s.ok()) return s;
    r = http_->Send(method, target, body, type, bearer_);
  }
  return r;
}

}  // namespace foresight::tools
