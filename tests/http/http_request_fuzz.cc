// libFuzzer target for the HTTP request path up to and through the handlers: the input is the
// byte stream of one connection (request line, headers, target and query string, body framing
// with Content-Length or chunked, gzip bodies, several pipelined requests), sent over loopback to
// a real server in this process with every service behind it. Besides "never crashes": the
// server answers each stream with well-formed HTTP responses (or none, for a stream that never
// completes a request) and closes the connection once the client has finished sending.
#include "tests/fuzz_target.h"
#include "tests/http/appliance.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <sys/time.h>

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

void Check(bool ok, const char* what) {
  foresight::testing::FuzzCheck(ok, "http_request_fuzz", what);
}

// The seeds carry JWTs signed with this key for client "fuzz-admin" of tenant "acme" (expiring in
// 2100), and the write token below.
constexpr char kKey[] = "fuzz-signing-key-0123456789abcdef";
constexpr char kWriteToken[] = "acme:fuzz-write-token-0123456789";

struct Target {
  foresight::testing::Appliance appliance;

  Target() : appliance(foresight::testing::FuzzDataDir() + "/http", Options()) {
    // The static write token made the tenant.
    foresight::storage::TenantId acme = appliance.storage->FindTenant("acme").value();
    Check(appliance.auth->CreateClient(acme, "fuzz-admin", foresight::http::Role::kAdmin).ok(),
          "client");
  }

  static foresight::testing::ApplianceOptions Options() {
    foresight::testing::ApplianceOptions o;
    o.storage.fsync = foresight::storage::FsyncPolicy::kNever;  // speed; durability is not fuzzed
    o.auth.jwt_secret = kKey;
    o.auth.static_tokens = kWriteToken;
    // Small limits keep a gzip bomb or a long body cheap; the limits themselves are what is hit.
    o.ingest.limits.max_body_bytes = 1 << 20;
    o.ingest.limits.max_decompressed_bytes = 4 << 20;
    o.server.rate_limit_per_s = 0;
    return o;
  }
};

}  // namespace

FORESIGHT_FUZZ_TARGET(FuzzHttpRequest) {
  Target& t = foresight::testing::FuzzState<Target>();
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), t.appliance.port()}, ec);
  Check(!ec, "the server stopped accepting connections");
  // A server that neither answers nor closes within 20 s is a finding, not a hang.
  timeval timeout{20, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  asio::write(socket, asio::buffer(data, size), ec);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::string answer;
  char buf[16 << 10];
  for (;;) {
    size_t n = socket.read_some(asio::buffer(buf), ec);
    answer.append(buf, n);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      Check(false, "the server neither answered nor closed the connection");
    }
    if (ec) break;  // EOF, or a reset after the server refused the stream
  }
  if (answer.empty()) return 0;
  if (!answer.starts_with("HTTP/1.1 ") && !answer.starts_with("HTTP/1.0 ")) {
    std::fprintf(stderr, "answer: %.200s\n", answer.c_str());
    Check(false, "an answer that is not an HTTP/1.x response");
  }
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.skip(true);  // a HEAD answer has no body; only the first header is read
  parser.put(asio::buffer(answer), ec);
  Check(!ec || ec == bhttp::error::need_more, "a malformed response header");
  return 0;
}

#ifndef FORESIGHT_LIBFUZZER
TEST(FuzzCorpus, HttpRequestStreamsAreAnsweredInWellFormedHttp) {
  foresight::testing::ReplayCorpus("tests/http/corpus/http_request", FuzzHttpRequest, 8);
}
#endif
