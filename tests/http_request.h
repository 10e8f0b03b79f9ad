// One HTTP request to the server under test on a new loopback connection (the tests' client).
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <string>

namespace foresight::testing {

// Sends `req` to 127.0.0.1:port (Host set, payload prepared) and reads the whole response.
inline boost::beast::http::response<boost::beast::http::string_body> SendRequest(
    uint16_t port, boost::beast::http::request<boost::beast::http::string_body> req) {
  namespace beast = boost::beast;
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  req.set(beast::http::field::host, "localhost");
  req.prepare_payload();
  beast::http::write(stream, req);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res);
  return res;
}

// An answer with its body parsed as JSON when it is JSON (null otherwise).
struct Reply {
  unsigned status = 0;
  boost::json::value body;
  std::string text;
  boost::beast::http::response<boost::beast::http::string_body> raw;
  // The Set-Cookie header, or empty.
  std::string Cookie() const {
    auto it = raw.find(boost::beast::http::field::set_cookie);
    return it == raw.end() ? std::string() : std::string(it->value());
  }
};

inline Reply Send(uint16_t port, boost::beast::http::request<boost::beast::http::string_body> req) {
  Reply r;
  r.raw = SendRequest(port, std::move(req));
  r.status = r.raw.result_int();
  r.text = r.raw.body();
  boost::system::error_code ec;
  r.body = boost::json::parse(r.text, ec);
  return r;
}

}  // namespace foresight::testing
