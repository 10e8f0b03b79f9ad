// One HTTP request to the server under test on a new loopback connection (the tests' client).
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>

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

}  // namespace foresight::testing
