// The write routes over real loopback sockets: InfluxDB 1.x and 2.x writes, /ping, gzip, limits,
// partial writes and JSON readings, answered by the real server on a real storage engine.
#include "http/http.h"
#include "tests/http_request.h"
#include "tests/test_util.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <numeric>
#include <zlib.h>

namespace foresight::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

constexpr char kToken[] = "acme-token-0123456789";
constexpr char kOtherToken[] = "other-token-0123456789";

AuthOptions StaticTokens(std::string spec) {
  AuthOptions options;
  options.jwt_secret = "test-signing-key-0123456789abcdef";
  options.static_tokens = std::move(spec);
  return options;
}

std::string Gzip(std::string_view text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, text.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class WriteRoutes : public ::testing::Test {
 protected:
  void SetUp() override { Start(ingest::IngestOptions()); }

  void Start(const ingest::IngestOptions& options) {
    server_.reset();
    ingestor_.reset();
    tokens_.reset();
    storage_.reset();
    storage_ = storage::Storage::Open(dir_.Sub("db"), storage::Options()).value();
    tokens_ = Auth::Open(storage_.get(),
                         StaticTokens(std::string("acme:") + kToken + ",other:" + kOtherToken))
                  .value();
    acme_ = *storage_->FindTenant("acme");
    ingestor_ = std::make_unique<ingest::Ingestor>(storage_.get(), options);
    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    server_ = Server::Start(so, Services{storage_.get(), ingestor_.get(), tokens_.get()}).value();
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  bhttp::response<bhttp::string_body> Send(bhttp::request<bhttp::string_body> req) {
    return testing::SendRequest(server_->port(), std::move(req));
  }

  bhttp::response<bhttp::string_body> Post(const std::string& target, std::string body,
                                           const std::string& authorization = "",
                                           const std::string& encoding = "") {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
    if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
    if (!encoding.empty()) req.set(bhttp::field::content_encoding, encoding);
    req.body() = std::move(body);
    return Send(std::move(req));
  }

  // Values of field `field` of measurement `m` (any tags) for tenant acme, in time order.
  std::vector<double> Values(const std::string& m, const std::string& field) {
    std::vector<double> out;
    for (const auto& s : storage_->ListSeries(acme_)) {
      if (s.key.measurement != m || s.key.field != field) continue;
      auto points =
          storage_->ReadRaw(acme_, s.id, storage::kMinTimestampNs, storage::kMaxTimestampNs);
      for (size_t i = 0; i < points->size(); ++i) out.push_back(points->AsDouble(i));
    }
    return out;
  }

  foresight::testing::TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Auth> tokens_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<Server> server_;
  storage::TenantId acme_ = 0;
};

TEST_F(WriteRoutes, PingAnswersNoContentToGetAndHead) {
  for (auto verb : {bhttp::verb::get, bhttp::verb::head}) {
    auto res = Send(bhttp::request<bhttp::string_body>{verb, "/ping", 11});
    EXPECT_EQ(res.result(), bhttp::status::no_content);
    EXPECT_FALSE(res["X-Influxdb-Version"].empty());
  }
}

TEST_F(WriteRoutes, V1WriteAcceptsTokenBasicAndQueryCredentials) {
  EXPECT_EQ(Post("/write?db=x", "m f=1 1", std::string("Token ") + kToken).result(),
            bhttp::status::no_content);
  // Basic base64("user:acme-token-0123456789")
  std::string basic = "Basic dXNlcjphY21lLXRva2VuLTAxMjM0NTY3ODk=";
  EXPECT_EQ(Post("/write?db=x", "m f=2 2", basic).result(), bhttp::status::no_content);
  EXPECT_EQ(Post(std::string("/write?db=x&u=any&p=") + kToken, "m f=3 3").result(),
            bhttp::status::no_content);
  EXPECT_EQ(Values("m", "f"), (std::vector<double>{1, 2, 3}));
}

TEST_F(WriteRoutes, V2WriteStoresIntoTheTokensTenantWithPrecision) {
  auto res =
      Post("/api/v2/write?org=o&bucket=b&precision=s", "m f=1 5\n", std::string("Token ") + kToken);
  EXPECT_EQ(res.result(), bhttp::status::no_content) << res.body();
  auto series = storage_->ListSeries(acme_);
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(storage_->ReadLatest(acme_, series[0].id)->ts_ns[0], 5'000'000'000);
  EXPECT_TRUE(storage_->ListSeries(*storage_->FindTenant("other")).empty());
}

TEST_F(WriteRoutes, RefusesMissingOrUnknownCredentials) {
  for (const std::string& auth : {std::string(), std::string("Token wrong-token-0123456789"),
                                  std::string("Basic !!!"), std::string("Bearer")}) {
    auto v1 = Post("/write", "m f=1 1", auth);
    EXPECT_EQ(v1.result(), bhttp::status::unauthorized) << auth;
    EXPECT_TRUE(json::parse(v1.body()).as_object().contains("error"));
    auto v2 = Post("/api/v2/write?bucket=b", "m f=1 1", auth);
    EXPECT_EQ(v2.result(), bhttp::status::unauthorized);
    EXPECT_EQ(json::parse(v2.body()).at("code"), "unauthorized");
  }
  EXPECT_TRUE(storage_->ListSeries(acme_).empty());
}

TEST_F(WriteRoutes, PartialWriteStoresGoodLinesAndNamesEveryBadOne) {
  auto v1 = Post("/write", "m f=1 1\nm f= 2\nm f=3 3\nbad\n", std::string("Token ") + kToken);
  ASSERT_EQ(v1.result(), bhttp::status::bad_request);
  json::value body = json::parse(v1.body());
  EXPECT_EQ(body.at("error"), "partial write: line 2, column 5: missing field value dropped=2");
  ASSERT_EQ(body.at("rejected").as_array().size(), 2u);
  EXPECT_EQ(body.at("rejected").at(1).at("line"), 4);
  EXPECT_EQ(body.at("rejected").at(1).at("reason"), "missing fields");
  EXPECT_EQ(Values("m", "f"), (std::vector<double>{1, 3}));

  auto v2 = Post("/api/v2/write?bucket=b", "m f=\"text\" 9\n", std::string("Token ") + kToken);
  ASSERT_EQ(v2.result(), bhttp::status::bad_request);
  body = json::parse(v2.body());
  EXPECT_EQ(body.at("code"), "invalid");
  EXPECT_EQ(body.at("line"), 1);
  EXPECT_EQ(body.at("message"),
            "partial write: line 1: field 'f' of 'm' holds float values, not string dropped=1");
}

TEST_F(WriteRoutes, BigAndSmallBodiesAreAnsweredInOrderOnOneKeptAliveConnection) {
  auto lines = [](int from, int n, bool bad_first) {
    std::string body = bad_first ? "m f=oops 0\n" : "";
    for (int i = from; i < from + n; ++i)
      body += "m f=" + std::to_string(i) + " " + std::to_string(i) + "\n";
    return body;
  };
  const std::string big = lines(1, 10000, false);
  ASSERT_GT(big.size(), 64u << 10);
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()));
  auto exchange = [&](std::string body) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/write?db=x", 11};
    req.set(bhttp::field::host, "localhost");
    req.set(bhttp::field::authorization, std::string("Token ") + kToken);
    req.body() = std::move(body);
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    return res;
  };
  EXPECT_EQ(exchange(big).result(), bhttp::status::no_content);
  EXPECT_EQ(exchange("m f=10001 10001").result(), bhttp::status::no_content);
  auto partial = exchange(lines(10002, 9999, true));
  ASSERT_EQ(partial.result(), bhttp::status::bad_request);
  EXPECT_EQ(json::parse(partial.body()).at("rejected").as_array().size(), 1u);
  auto last = exchange("m f=20001 20001");
  EXPECT_EQ(last.result(), bhttp::status::no_content);
  EXPECT_TRUE(last.keep_alive());

  std::vector<double> want(20001);
  std::iota(want.begin(), want.end(), 1.0);
  EXPECT_EQ(Values("m", "f"), want);
}

TEST_F(WriteRoutes, AcceptsGzipIncludingSeveralMembers) {
  std::string auth = std::string("Token ") + kToken;
  EXPECT_EQ(Post("/write", Gzip("m f=1 1\n"), auth, "gzip").result(), bhttp::status::no_content);
  EXPECT_EQ(Post("/write", Gzip("m f=2 2\n") + Gzip("m f=3 3\n"), auth, "gzip").result(),
            bhttp::status::no_content);
  EXPECT_EQ(Values("m", "f"), (std::vector<double>{1, 2, 3}));
  std::string damaged = Gzip("m f=4 4\n");
  damaged.resize(damaged.size() - 6);
  EXPECT_EQ(Post("/write", damaged, auth, "gzip").result(), bhttp::status::bad_request);
  EXPECT_EQ(Post("/write", "not gzip at all", auth, "gzip").result(), bhttp::status::bad_request);
  EXPECT_EQ(Post("/write", "m f=5 5", auth, "br").result(), bhttp::status::unsupported_media_type);
  EXPECT_EQ(Values("m", "f"), (std::vector<double>{1, 2, 3}));
}

TEST_F(WriteRoutes, AcceptsBodiesPastAMebibyteUpToTheIngestLimit) {
  std::string body;
  for (int i = 0; i < 100000; ++i)
    body += "m f=" + std::to_string(i) + " " + std::to_string(i) + "\n";
  ASSERT_GT(body.size(), 1u << 20);  // Beast's own default for a request body
  EXPECT_EQ(
      Post("/api/v2/write?bucket=b&precision=ns", body, std::string("Token ") + kToken).result(),
      bhttp::status::no_content);
  EXPECT_EQ(Values("m", "f").size(), 100000u);
}

TEST_F(WriteRoutes, RefusesBodiesPastTheLimits) {
  ingest::IngestOptions options;
  options.limits.max_body_bytes = 1000;
  options.limits.max_decompressed_bytes = 5000;
  Start(options);
  std::string auth = std::string("Token ") + kToken;
  std::string big(2000, '#');
  EXPECT_EQ(Post("/write", big, auth).result(), bhttp::status::payload_too_large);
  // A small gzip body that inflates past the limit (a zip bomb in miniature).
  EXPECT_EQ(Post("/write", Gzip(std::string(100000, '\n')), auth, "gzip").result(),
            bhttp::status::payload_too_large);

  // Decided from the header alone: the server answers before the body is sent.
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()));
  std::string head = "POST /api/v2/write?bucket=b HTTP/1.1\r\nHost: x\r\nAuthorization: Token " +
                     std::string(kToken) + "\r\nContent-Length: 100000000\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(head));
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  EXPECT_EQ(res.result(), bhttp::status::payload_too_large);
  EXPECT_EQ(json::parse(res.body()).at("code"), "request too large");

  // A chunked body has no length up front: the limit stops it while it is read.
  bhttp::request<bhttp::string_body> chunked{bhttp::verb::post, "/write", 11};
  chunked.set(bhttp::field::authorization, auth);
  chunked.chunked(true);
  chunked.body() = std::string(3000, '#');
  EXPECT_EQ(Send(chunked).result(), bhttp::status::payload_too_large);
  EXPECT_TRUE(storage_->ListSeries(acme_).empty());
}

TEST_F(WriteRoutes, RejectsAnUnknownPrecisionAndOtherMethods) {
  EXPECT_EQ(Post("/write?precision=d", "m f=1 1", std::string("Token ") + kToken).result(),
            bhttp::status::bad_request);
  EXPECT_EQ(Send(bhttp::request<bhttp::string_body>{bhttp::verb::get, "/write", 11}).result(),
            bhttp::status::method_not_allowed);
}

TEST_F(WriteRoutes, JsonReadingsAreStoredForTheTokensOwnTenantOnly) {
  std::string auth = std::string("Bearer ") + kToken;
  auto ok = Post("/api/v1/tenants/acme/readings",
                 R"([{"asset_id":"p1","timestamp":1000,"metrics":{"temp":70.5,"on":true}}])", auth);
  ASSERT_EQ(ok.result(), bhttp::status::ok) << ok.body();
  EXPECT_EQ(json::parse(ok.body()), json::parse(R"({"readings":1,"values":2})"));
  EXPECT_EQ(Values("readings", "temp"), std::vector<double>{70.5});

  EXPECT_EQ(Post("/api/v1/tenants/other/readings", R"({"asset_id":"p","metrics":{"a":1}})", auth)
                .result(),
            bhttp::status::forbidden);
  EXPECT_EQ(Post("/api/v1/tenants/nobody/readings", R"({"asset_id":"p","metrics":{"a":1}})", auth)
                .result(),
            bhttp::status::forbidden);
  EXPECT_EQ(Post("/api/v1/tenants/acme/readings", R"({"asset_id":"p","metrics":{"a":1}})").result(),
            bhttp::status::unauthorized);

  auto malformed = Post("/api/v1/tenants/acme/readings", R"([{"asset_id":)", auth);
  EXPECT_EQ(malformed.result(), bhttp::status::bad_request);
  EXPECT_EQ(json::parse(malformed.body()).at("error").at("code"), "malformed_json");

  auto partial = Post("/api/v1/tenants/acme/readings",
                      R"([{"asset_id":"p2","metrics":{"temp":1}},{"metrics":{"temp":2}}])", auth);
  ASSERT_EQ(partial.result(), bhttp::status::bad_request);
  json::value body = json::parse(partial.body());
  EXPECT_EQ(body.at("readings"), 1);
  EXPECT_EQ(body.at("error").at("message"), "reading 2: asset_id is required");
  EXPECT_EQ(body.at("rejected").at(0).at("index"), 2);
}

TEST(StaticTokens, RefusesShortTokensAndMalformedEntries) {
  foresight::testing::TempDir dir;
  auto storage = storage::Storage::Open(dir.path(), storage::Options()).value();
  EXPECT_FALSE(Auth::Open(storage.get(), StaticTokens("acme:short")).ok());
  EXPECT_FALSE(Auth::Open(storage.get(), StaticTokens("no-colon-here-0123456789")).ok());
  EXPECT_FALSE(
      Auth::Open(storage.get(), StaticTokens("a:same-token-0123456789,b:same-token-0123456789"))
          .ok());
  auto table =
      Auth::Open(storage.get(), StaticTokens("a:token-for-a-0123456789,,b:token-for-b-0123456789"));
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(*(*table)->tokens().Verify("token-for-b-0123456789"), *storage->FindTenant("b"));
  EXPECT_FALSE((*table)->tokens().Verify("token-for-b-012345678").ok());
}

}  // namespace
}  // namespace foresight::http
