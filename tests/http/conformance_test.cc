// RFC 9112's requirements of a server, each sent as raw bytes over a real loopback socket to the
// real server: what must be refused is refused with 400 and the connection closed, what must be
// accepted is answered, and nothing is stored from a refused request.
#include "http/http.h"
#include "tests/test_util.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

namespace foresight::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr char kToken[] = "acme-token-0123456789";

class HttpConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = storage::Storage::Open(dir_.Sub("db"), storage::Options()).value();
    AuthOptions options;
    options.jwt_secret = "test-signing-key-0123456789abcdef";
    options.static_tokens = std::string("acme:") + kToken;
    auth_ = Auth::Open(storage_.get(), options).value();
    ingestor_ = std::make_unique<ingest::Ingestor>(storage_.get(), ingest::IngestOptions());
    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    server_ = Server::Start(so, Services{storage_.get(), ingestor_.get(), auth_.get()}).value();
  }
  void TearDown() override { server_->Stop(); }

  struct Answer {
    unsigned status = 0;  // 0: the connection closed without an answer
    std::string body;
    bool keep_alive = false;
  };
  // Sends `bytes` as they are and reads one response.
  Answer Raw(const std::string& bytes) {
    boost::asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()));
    boost::asio::write(socket, boost::asio::buffer(bytes));
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    beast::error_code ec;
    bhttp::read(socket, buffer, res, ec);
    if (ec) return {};
    return {res.result_int(), res.body(), res.keep_alive()};
  }
  std::string Write(const std::string& headers, const std::string& body) {
    return "POST /api/v2/write?bucket=b HTTP/1.1\r\nAuthorization: Token " + std::string(kToken) +
           "\r\n" + headers + "\r\n" + body;
  }
  bool NothingStored() {
    auto acme = storage_->FindTenant("acme");
    return !acme.ok() || storage_->ListSeries(*acme).empty();
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<Server> server_;
};

TEST_F(HttpConformance, AnHttp11RequestWithoutHostIsRefused) {
  Answer a = Raw("GET /health HTTP/1.1\r\n\r\n");
  EXPECT_EQ(a.status, 400u);
  EXPECT_NE(a.body.find("Host"), std::string::npos) << a.body;
  EXPECT_FALSE(a.keep_alive);
  EXPECT_EQ(Raw("GET /health HTTP/1.0\r\n\r\n").status, 200u) << "HTTP/1.0 has no Host rule";
  EXPECT_EQ(Raw("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400u);
}

TEST_F(HttpConformance, TransferEncodingWithContentLengthIsRefusedAndNothingIsStored) {
  const std::string chunked = "10\r\nm f=1 1\nm f=2 2\n\r\n0\r\n\r\n";  // 0x10 bytes
  EXPECT_EQ(
      Raw(Write("Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 16\r\n", chunked)).status,
      400u);
  EXPECT_EQ(
      Raw(Write("Host: x\r\nContent-Length: 16\r\nTransfer-Encoding: chunked\r\n", chunked)).status,
      400u);
  EXPECT_TRUE(NothingStored());
  EXPECT_EQ(Raw(Write("Host: x\r\nTransfer-Encoding: chunked\r\n", chunked)).status, 204u)
      << "chunked alone is fine";
}

TEST_F(HttpConformance, ConflictingContentLengthsAreRefused) {
  EXPECT_EQ(Raw(Write("Host: x\r\nContent-Length: 7\r\nContent-Length: 8\r\n", "m f=1 1")).status,
            400u);
  EXPECT_EQ(Raw(Write("Host: x\r\nContent-Length: 7, 8\r\n", "m f=1 1")).status, 400u);
  EXPECT_EQ(Raw(Write("Host: x\r\nContent-Length: -7\r\n", "m f=1 1")).status, 400u);
  EXPECT_TRUE(NothingStored());
}

TEST_F(HttpConformance, AnUnknownTransferCodingIsRefused) {
  EXPECT_EQ(Raw(Write("Host: x\r\nTransfer-Encoding: gzip\r\n", "m f=1 1")).status, 400u);
  EXPECT_EQ(Raw(Write("Host: x\r\nTransfer-Encoding: chunked, gzip\r\n", "m f=1 1")).status, 400u);
  EXPECT_TRUE(NothingStored());
}

TEST_F(HttpConformance, ObsoleteLineFoldingAndBadHeaderNamesAreRefused) {
  // RFC 9112 §5.2: a server MUST refuse obs-fold or replace it with a space; Beast replaces it
  // (its parser's obs-fold buffer), so the request is answered. §5.1: whitespace between a
  // field name and its colon MUST be refused.
  EXPECT_EQ(Raw("GET /health HTTP/1.1\r\nHost: x\r\nX-Note: one\r\n two\r\n\r\n").status, 200u);
  EXPECT_EQ(Raw("GET /health HTTP/1.1\r\nHost : x\r\n\r\n").status, 400u);
  EXPECT_EQ(Raw("GET /health HTTP/1.1\r\nHost: x\r\nBad(Name): 1\r\n\r\n").status, 400u);
  EXPECT_EQ(Raw("GET /health HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n").status, 400u);
}

TEST_F(HttpConformance, TheAbsoluteFormIsAcceptedAndOtherFormsOnlyWhereTheyBelong) {
  EXPECT_EQ(Raw("GET http://localhost:8080/health HTTP/1.1\r\nHost: localhost\r\n\r\n").status,
            200u);
  EXPECT_EQ(Raw("GET HTTP://LOCALHOST/ready?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n").status, 200u);
  EXPECT_EQ(Raw("GET * HTTP/1.1\r\nHost: x\r\n\r\n").status, 400u);
  EXPECT_EQ(Raw("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n").status, 400u);
  EXPECT_EQ(Raw("GET health HTTP/1.1\r\nHost: x\r\n\r\n").status, 400u);
}

}  // namespace
}  // namespace foresight::http
