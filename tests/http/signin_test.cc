// People signing in with a name and a password: users, sessions (a short JWT plus an HttpOnly
// refresh cookie), sign-out, and the lockouts that lift by themselves. A real server on loopback
// over real storage; the clock is a ManualClock, so lockouts and expiries pass without sleeping.
#include "http/http.h"
#include "tests/http_request.h"
#include "tests/test_util.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace foresight::http {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr int64_t kSecond = 1'000'000'000;
constexpr char kPassword[] = "correct horse battery";

using testing::Reply;

class SignIn : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options so;
    so.clock = &clock_;
    storage_ = storage::Storage::Open(dir_.Sub("db"), so).value();
    acme_ = storage_->CreateTenant("acme").value();
    other_ = storage_->CreateTenant("other").value();
    AuthOptions ao;
    ao.jwt_secret = "signin-test-signing-key-0123456789abcdef";
    ao.lockout_after = 3;
    ao.lockout_base = std::chrono::seconds(30);
    auth_ = Auth::Open(storage_.get(), ao).value();
    ASSERT_TRUE(
        auth_->CreateUser(acme_, {.username = "ana", .role = Role::kAdmin}, kPassword).ok());
    ASSERT_TRUE(
        auth_->CreateUser(acme_, {.username = "val", .role = Role::kViewer}, kPassword).ok());
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.rate_limit_per_s = 0;
    server_ = Server::Start(options, Services{storage_.get(), nullptr, auth_.get(), nullptr,
                                              nullptr, nullptr, nullptr})
                  .value();
  }
  void TearDown() override { server_->Stop(); }

  Reply Send(bhttp::verb method, const std::string& target, const std::string& body = "",
             const std::string& token = "", const std::string& cookie = "") {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    if (!cookie.empty()) req.set(bhttp::field::cookie, cookie);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = body;
    }
    return testing::Send(server_->port(), std::move(req));
  }
  Reply Login(const std::string& tenant, const std::string& user, const std::string& password) {
    return Send(bhttp::verb::post, "/auth/login",
                json::serialize(
                    json::object{{"tenant", tenant}, {"username", user}, {"password", password}}));
  }
  // "foresight_session=<value>" from a Set-Cookie header.
  static std::string CookiePair(const std::string& set_cookie) {
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  testing::TempDir dir_;
  storage::ManualClock clock_{1'780'000'000 * kSecond};
  std::unique_ptr<storage::Storage> storage_;
  storage::TenantId acme_ = 0, other_ = 0;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<Server> server_;
};

TEST_F(SignIn, AUserSignsInAndGetsAShortTokenAndAnHttpOnlyStrictCookie) {
  Reply r = Login("acme", "ana", kPassword);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body.at("user").at("username"), "ana");
  EXPECT_EQ(r.body.at("role"), "admin");
  EXPECT_EQ(r.body.at("expires_in"), 900);
  const std::string cookie = r.Cookie();
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/auth"), std::string::npos) << cookie;
  EXPECT_EQ(r.text.find(cookie.substr(18, 20)), std::string::npos)
      << "the refresh secret must not be in the body a page script reads";
  const std::string jwt(r.body.at("access_token").as_string());
  Reply me = Send(bhttp::verb::get, "/auth/session", "", jwt);
  ASSERT_EQ(me.status, 200) << me.text;
  EXPECT_EQ(me.body.at("subject"), "user:ana");
  EXPECT_NE(me.body.at("user").at("last_login_at"), nullptr);
  EXPECT_EQ(Send(bhttp::verb::get, "/api/v1/tenants/acme/users", "", jwt).status, 200);
}

TEST_F(SignIn, WrongNamesAndWrongPasswordsAnswerTheSame) {
  Reply wrong_password = Login("acme", "ana", "not the password");
  Reply wrong_user = Login("acme", "nobody", kPassword);
  Reply wrong_tenant = Login("nowhere", "ana", kPassword);
  for (const Reply* r : {&wrong_password, &wrong_user, &wrong_tenant}) {
    EXPECT_EQ(r->status, 401) << r->text;
    EXPECT_EQ(r->body, wrong_password.body);
    EXPECT_TRUE(r->Cookie().empty());
  }
}

TEST_F(SignIn, MalformedSignInsAreRefusedNamingTheField) {
  EXPECT_EQ(Send(bhttp::verb::post, "/auth/login", "{").status, 400);
  Reply missing = Send(bhttp::verb::post, "/auth/login", R"({"tenant":"acme","username":"ana"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body.at("error").at("field"), "password");
  Reply typed =
      Send(bhttp::verb::post, "/auth/login", R"({"tenant":"acme","username":"ana","password":7})");
  EXPECT_EQ(typed.body.at("error").at("field"), "password");
  Reply extra = Send(bhttp::verb::post, "/auth/login",
                     R"({"tenant":"acme","username":"ana","password":"x","admin":true})");
  EXPECT_EQ(extra.body.at("error").at("field"), "admin");
}

TEST_F(SignIn, RepeatedFailuresLockTheUserOutUntilTheLockoutLifts) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Login("acme", "ana", "wrong password").status, 401);
  Reply locked = Login("acme", "ana", kPassword);  // even the right password waits
  EXPECT_EQ(locked.status, 429) << locked.text;
  EXPECT_EQ(locked.raw[bhttp::field::retry_after], "30");
  EXPECT_EQ(Login("acme", "val", kPassword).status, 200) << "another user is not locked out";
  clock_.Advance(31 * kSecond);
  EXPECT_EQ(Login("acme", "ana", kPassword).status, 200);
  // A success clears the count: one more failure does not lock again.
  EXPECT_EQ(Login("acme", "ana", "wrong password").status, 401);
  EXPECT_EQ(Login("acme", "ana", kPassword).status, 200);
}

TEST_F(SignIn, AnAddressThatSpraysNamesIsLockedOutToo) {
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(Login("acme", "guess" + std::to_string(i), "wrong password").status, 401);
  }
  EXPECT_EQ(Login("acme", "val", kPassword).status, 429);
  clock_.Advance(31 * kSecond);
  EXPECT_EQ(Login("acme", "val", kPassword).status, 200);
}

TEST_F(SignIn, TheCookieRenewsTheTokenAndSignOutEndsBoth) {
  Reply r = Login("acme", "ana", kPassword);
  ASSERT_EQ(r.status, 200);
  const std::string cookie = CookiePair(r.Cookie());
  const std::string jwt(r.body.at("access_token").as_string());
  clock_.Advance(600 * kSecond);
  Reply renewed = Send(bhttp::verb::post, "/auth/refresh", "", "", cookie);
  ASSERT_EQ(renewed.status, 200) << renewed.text;
  const std::string fresh(renewed.body.at("access_token").as_string());
  EXPECT_NE(fresh, jwt);
  clock_.Advance(400 * kSecond);  // the first token has expired, the renewed one has not
  EXPECT_EQ(Send(bhttp::verb::get, "/auth/session", "", jwt).status, 401);
  EXPECT_EQ(Send(bhttp::verb::get, "/auth/session", "", fresh).status, 200);

  Reply out = Send(bhttp::verb::post, "/auth/logout", "", fresh, cookie);
  EXPECT_EQ(out.status, 204) << out.text;
  EXPECT_NE(out.Cookie().find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Send(bhttp::verb::get, "/auth/session", "", fresh).status, 401);
  EXPECT_EQ(Send(bhttp::verb::post, "/auth/refresh", "", "", cookie).status, 401);
}

TEST_F(SignIn, ARefreshFromAnotherOriginIsRefused) {
  Reply r = Login("acme", "ana", kPassword);
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/auth/refresh", 11};
  req.set(bhttp::field::cookie, CookiePair(r.Cookie()));
  req.set(bhttp::field::origin, "https://evil.example");
  EXPECT_EQ(testing::SendRequest(server_->port(), std::move(req)).result_int(), 403u);
}

TEST_F(SignIn, SessionsSurviveARestartAndEndWhenTheyExpire) {
  Reply r = Login("acme", "ana", kPassword);
  const std::string cookie = CookiePair(r.Cookie());
  server_->Stop();
  server_.reset();
  auth_.reset();
  AuthOptions ao;
  ao.jwt_secret = "signin-test-signing-key-0123456789abcdef";
  auth_ = Auth::Open(storage_.get(), ao).value();
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  server_ = Server::Start(options, Services{storage_.get(), nullptr, auth_.get(), nullptr, nullptr,
                                            nullptr, nullptr})
                .value();
  EXPECT_EQ(Send(bhttp::verb::post, "/auth/refresh", "", "", cookie).status, 200);
  clock_.Advance(13 * 3600 * kSecond);  // past session_ttl (12 h) since the renewal
  EXPECT_EQ(Send(bhttp::verb::post, "/auth/refresh", "", "", cookie).status, 401);
}

TEST_F(SignIn, ChangingAUsersRoleOrDisablingThemSignsThemOut) {
  Reply r = Login("acme", "val", kPassword);
  const std::string jwt(r.body.at("access_token").as_string());
  ASSERT_TRUE(auth_->UpdateUser(acme_, "val", {.role = Role::kEngineer}).ok());
  EXPECT_EQ(Send(bhttp::verb::get, "/auth/session", "", jwt).status, 401);
  ASSERT_TRUE(auth_->UpdateUser(acme_, "val", {.disabled = true}).ok());
  EXPECT_EQ(Login("acme", "val", kPassword).status, 401);
  ASSERT_TRUE(auth_->UpdateUser(acme_, "val", {.disabled = false}).ok());
  Reply back = Login("acme", "val", kPassword);
  ASSERT_EQ(back.status, 200);
  EXPECT_EQ(back.body.at("role"), "engineer");
}

TEST_F(SignIn, AdminsManageUsersOverTheApiAndViewersCannot) {
  const std::string admin(Login("acme", "ana", kPassword).body.at("access_token").as_string());
  const std::string viewer(Login("acme", "val", kPassword).body.at("access_token").as_string());
  Reply made =
      Send(bhttp::verb::post, "/api/v1/tenants/acme/users",
           R"({"username":"eve@example.com","role":"engineer","display_name":"Eve"})", admin);
  ASSERT_EQ(made.status, 201) << made.text;
  const std::string password(made.body.at("password").as_string());
  EXPECT_EQ(Login("acme", "eve@example.com", password).status, 200);
  Reply list = Send(bhttp::verb::get, "/api/v1/tenants/acme/users", "", admin);
  EXPECT_EQ(list.body.at("total"), 3);
  EXPECT_EQ(list.text.find("hash"), std::string::npos);
  EXPECT_EQ(list.text.find(password), std::string::npos);
  EXPECT_EQ(Send(bhttp::verb::get, "/api/v1/tenants/acme/users", "", viewer).status, 403);
  EXPECT_EQ(Send(bhttp::verb::post, "/api/v1/tenants/acme/users",
                 R"({"username":"x","role":"admin"})", viewer)
                .status,
            403);
  Reply bad = Send(bhttp::verb::post, "/api/v1/tenants/acme/users",
                   R"({"username":"Not Valid","role":"viewer"})", admin);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body.at("error").at("field"), "username");
  Reply short_password = Send(bhttp::verb::patch, "/api/v1/tenants/acme/users/eve@example.com",
                              R"({"password":"short"})", admin);
  EXPECT_EQ(short_password.body.at("error").at("field"), "password");
  EXPECT_EQ(Send(bhttp::verb::post, "/api/v1/tenants/acme/users",
                 R"({"username":"eve@example.com","role":"viewer"})", admin)
                .status,
            409);
  EXPECT_EQ(Send(bhttp::verb::delete_, "/api/v1/tenants/acme/users/ana", "", admin).status, 409)
      << "an admin does not delete themself";
  EXPECT_EQ(
      Send(bhttp::verb::delete_, "/api/v1/tenants/acme/users/eve@example.com", "", admin).status,
      204);
  EXPECT_EQ(Login("acme", "eve@example.com", password).status, 401);
}

TEST_F(SignIn, AUserOfOneTenantCannotReadAnother) {
  ASSERT_TRUE(
      auth_->CreateUser(other_, {.username = "ana", .role = Role::kAdmin}, "another password")
          .ok());
  const std::string jwt(Login("acme", "ana", kPassword).body.at("access_token").as_string());
  EXPECT_EQ(Send(bhttp::verb::get, "/api/v1/tenants/other/users", "", jwt).status, 403);
  EXPECT_EQ(Login("other", "ana", kPassword).status, 401);
}

TEST_F(SignIn, TheDashboardIsServedAtTheRootWithItsCachingAndSecurityHeaders) {
  Reply index = Send(bhttp::verb::get, "/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(Send(bhttp::verb::get, "/docs").text, index.text) << "the API reference is a page";
  EXPECT_EQ(index.raw[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(index.raw[bhttp::field::cache_control], "no-cache");
  EXPECT_NE(index.raw["Content-Security-Policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(index.raw["X-Content-Type-Options"], "nosniff");
  const size_t at = index.text.find("/app-");
  ASSERT_NE(at, std::string::npos) << index.text;
  const std::string script = index.text.substr(at, index.text.find('"', at) - at);
  Reply js = Send(bhttp::verb::get, script);
  ASSERT_EQ(js.status, 200) << script;
  EXPECT_EQ(js.raw[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(js.raw[bhttp::field::cache_control], "public, max-age=31536000, immutable");

  bhttp::request<bhttp::string_body> gz{bhttp::verb::get, script, 11};
  gz.set(bhttp::field::accept_encoding, "gzip, deflate");
  auto zipped = testing::SendRequest(server_->port(), std::move(gz));
  EXPECT_EQ(zipped[bhttp::field::content_encoding], "gzip");
  EXPECT_LT(zipped.body().size(), js.text.size());

  bhttp::request<bhttp::string_body> again{bhttp::verb::get, script, 11};
  again.set(bhttp::field::if_none_match, std::string(js.raw[bhttp::field::etag]));
  EXPECT_EQ(testing::SendRequest(server_->port(), std::move(again)).result_int(), 304u);
  // HEAD: the headers of GET, no body (the parser is told not to wait for one).
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  bhttp::request<bhttp::empty_body> head{bhttp::verb::head, "/", 11};
  head.set(bhttp::field::host, "localhost");
  bhttp::write(stream, head);
  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.skip(true);
  bhttp::read_header(stream, buffer, parser);
  EXPECT_EQ(parser.get().result_int(), 200u);
  EXPECT_EQ(parser.get()[bhttp::field::content_length], std::to_string(index.text.size()));
}

TEST_F(SignIn, NoPathReachesAFileThatWasNotEmbedded) {
  for (std::string path :
       {"/../CMakeLists.txt", "/..%2fCMakeLists.txt", "/%2e%2e/CMakeLists.txt",
        "/%2e%2e%2fhttp%2fhttp.cc", "/%252e%252e%252fCMakeLists.txt", "/%c0%ae%c0%ae/etc/passwd",
        "/index.html/..", "//etc/passwd", "/dist/index.html", "/src/app.js",
        "/.%2e/.%2e/etc/passwd", "/index.html%00.js", "/INDEX.HTML"}) {
    Reply r = Send(bhttp::verb::get, path);
    EXPECT_NE(r.status, 200) << path;
    EXPECT_EQ(r.text.find("<html"), std::string::npos) << path;
    EXPECT_EQ(r.text.find("project("), std::string::npos) << path;
  }
}

TEST_F(SignIn, TheDashboardNeverShadowsTheApi) {
  EXPECT_EQ(Send(bhttp::verb::get, "/api/v1/tenants/acme/assets").status, 401);
  EXPECT_EQ(Send(bhttp::verb::get, "/health").status, 200);
  Reply unknown = Send(bhttp::verb::get, "/api/v1/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body.at("error").at("code"), "not_found");
  EXPECT_EQ(Send(bhttp::verb::post, "/").status, 404);  // only GET and HEAD reach files
}

}  // namespace
}  // namespace foresight::http
