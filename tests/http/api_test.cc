// The REST API end to end: a real server on loopback over a real storage engine, driven with
// real HTTP requests. Credentials are real too: clients with Argon2id secrets, JWTs from
// POST /auth/token or signed by the server's own key, and write tokens.
#include "http/http.h"
#include "tests/http/appliance.h"
#include "tests/http/forge.h"
#include "tests/http_request.h"
#include "tests/test_util.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

namespace foresight::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

constexpr char kSecret[] = "api-test-signing-key-0123456789abcdef";

using testing::Reply;

Reply Call(uint16_t port, bhttp::verb method, const std::string& target, const std::string& token,
           const std::string& body = "", const std::string& type = "application/json") {
  bhttp::request<bhttp::string_body> req{method, target, 11};
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, type);
    req.body() = body;
  }
  return testing::Send(port, std::move(req));
}

using testing::Base64Url;
using testing::ForgeJwt;

int64_t Now() { return std::time(nullptr); }

// One server for the suite: creating Argon2id clients costs tens of milliseconds each.
class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new foresight::testing::TempDir();
    foresight::testing::ApplianceOptions options;
    options.auth.jwt_secret = kSecret;
    options.ml.fit.booster.rounds = 60;
    options.server.rate_limit_per_s = 0;
    options.server.cors_origins = {"https://ops.example.com"};
    appliance_ = new foresight::testing::Appliance(dir_->Sub("db"), options);
    storage_ = appliance_->storage.get();
    auth_ = appliance_->auth.get();
    windows_ = appliance_->windows.get();
    alerts_ = appliance_->alerts.get();
    ingestor_ = appliance_->ingestor.get();
    engine_ = appliance_->engine.get();
    server_ = appliance_->server.get();
    acme_ = storage_->CreateTenant("acme").value();
    other_ = storage_->CreateTenant("other").value();
    for (auto [tenant, role, out] :
         {std::tuple{acme_, Role::kAdmin, &admin_}, std::tuple{acme_, Role::kEngineer, &engineer_},
          std::tuple{acme_, Role::kViewer, &viewer_},
          std::tuple{other_, Role::kAdmin, &other_admin_}}) {
      auto client = auth_->CreateClient(tenant, "", role).value();
      *out = auth_->IssueToken(client.client.id, client.secret, Now()).value().jwt;
      if (role == Role::kAdmin && tenant == acme_) {
        admin_id_ = client.client.id;
        admin_secret_ = client.secret;
      }
    }
    writer_ = auth_->tokens().Create(acme_, "gateway-1").value().secret;
  }

  static void TearDownTestSuite() {
    delete appliance_;
    delete dir_;
  }

  Reply Get(const std::string& target, const std::string& token) {
    return Call(server_->port(), bhttp::verb::get, target, token);
  }
  Reply Post(const std::string& target, const std::string& token, const json::value& body) {
    return Call(server_->port(), bhttp::verb::post, target, token, json::serialize(body));
  }
  Reply Patch(const std::string& target, const std::string& token, const json::value& body) {
    return Call(server_->port(), bhttp::verb::patch, target, token, json::serialize(body));
  }
  Reply Delete(const std::string& target, const std::string& token) {
    return Call(server_->port(), bhttp::verb::delete_, target, token);
  }
  void MakeAsset(const std::string& id, json::object fields = {}) {
    fields["id"] = id;
    auto r = Post("/api/v1/tenants/acme/assets", engineer_, fields);
    ASSERT_EQ(r.status, 201) << r.text;
  }

  static std::string ErrorField(const Reply& r) {
    const json::value* f = r.body.is_object() && r.body.as_object().contains("error")
                               ? r.body.at("error").as_object().if_contains("field")
                               : nullptr;
    return f ? std::string(f->as_string()) : std::string();
  }

  static inline foresight::testing::TempDir* dir_;
  static inline foresight::testing::Appliance* appliance_;
  static inline storage::Storage* storage_;
  static inline Auth* auth_;
  static inline query::Windows* windows_;
  static inline query::Alerts* alerts_;
  static inline ingest::Ingestor* ingestor_;
  static inline Server* server_;
  static inline ml::Engine* engine_;
  static inline storage::TenantId acme_, other_;
  static inline std::string admin_, engineer_, viewer_, other_admin_, writer_;
  static inline std::string admin_id_, admin_secret_;
};

// --- Sign-in and token verification --------------------------------------------------------

TEST_F(Api, SignInExchangesClientCredentialsForAJwtAsJsonOrForm) {
  auto r = Post("/auth/token", "", {{"client_id", admin_id_}, {"client_secret", admin_secret_}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body.at("tenant_id"), "acme");
  EXPECT_EQ(r.body.at("role"), "admin");
  EXPECT_EQ(r.body.at("expires_in"), 3600);
  std::string jwt(r.body.at("access_token").as_string());
  EXPECT_EQ(Get("/api/v1/tenants/acme", jwt).status, 200);

  auto form = Call(
      server_->port(), bhttp::verb::post, "/auth/token", "",
      "grant_type=client_credentials&client_id=" + admin_id_ + "&client_secret=" + admin_secret_,
      "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 200) << form.text;
}

TEST_F(Api, SignInRefusesWrongSecretsUnknownClientsAndMissingFields) {
  auto wrong = Post("/auth/token", "", {{"client_id", admin_id_}, {"client_secret", "nope"}});
  EXPECT_EQ(wrong.status, 401);
  auto unknown = Post("/auth/token", "", {{"client_id", "ghost"}, {"client_secret", "nope"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body.at("error").at("message"), unknown.body.at("error").at("message"))
      << "the answer must not tell which of id and secret was wrong";
  auto missing = Post("/auth/token", "", {{"client_secret", "x"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(ErrorField(missing), "client_id");
  auto garbage = Call(server_->port(), bhttp::verb::post, "/auth/token", "", "{not json");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(garbage.body.at("error").at("code"), "malformed_json");
}

TEST_F(Api, VerificationRefusesNoneOtherAlgorithmsForgeriesExpiryAndMissingClaims) {
  const std::string sub = R"("sub":")" + admin_id_ + R"(")";
  const std::string good_claims = "{" + sub + R"(,"tenant_id":"acme","role":"admin","exp":)" +
                                  std::to_string(Now() + 600) + "}";
  const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";
  ASSERT_EQ(Get("/api/v1/tenants/acme", ForgeJwt(hs256, good_claims, kSecret)).status, 200);

  std::string none =
      Base64Url(R"({"alg":"none","typ":"JWT"})") + "." + Base64Url(good_claims) + ".";
  std::vector<std::pair<std::string, std::string>> refused = {
      {"alg none", none},
      {"HS512", ForgeJwt(R"({"alg":"HS512","typ":"JWT"})", good_claims, kSecret)},
      {"RS256", ForgeJwt(R"({"alg":"RS256","typ":"JWT"})", good_claims, kSecret)},
      {"no alg", ForgeJwt(R"({"typ":"JWT"})", good_claims, kSecret)},
      {"other key", ForgeJwt(hs256, good_claims, "another-key-0123456789abcdefghijkl")},
      {"expired", ForgeJwt(hs256,
                           "{" + sub + R"(,"tenant_id":"acme","role":"admin","exp":)" +
                               std::to_string(Now() - 1) + "}",
                           kSecret)},
      {"no exp", ForgeJwt(hs256, "{" + sub + R"(,"tenant_id":"acme","role":"admin"})", kSecret)},
      {"no tenant",
       ForgeJwt(hs256, "{" + sub + R"(,"role":"admin","exp":)" + std::to_string(Now() + 600) + "}",
                kSecret)},
      {"no role",
       ForgeJwt(hs256,
                "{" + sub + R"(,"tenant_id":"acme","exp":)" + std::to_string(Now() + 600) + "}",
                kSecret)},
      {"unknown role", ForgeJwt(hs256,
                                "{" + sub + R"(,"tenant_id":"acme","role":"root","exp":)" +
                                    std::to_string(Now() + 600) + "}",
                                kSecret)},
      {"garbage", "a.b.c"},
  };
  for (const auto& [why, token] : refused) {
    auto r = Get("/api/v1/tenants/acme", token);
    EXPECT_EQ(r.status, 401) << why << ": " << r.text;
    EXPECT_EQ(r.raw[bhttp::field::www_authenticate], "Bearer") << why;
  }
  // A tampered payload under the original signature.
  std::string valid = ForgeJwt(hs256, good_claims, kSecret);
  size_t dot1 = valid.find('.'), dot2 = valid.rfind('.');
  std::string escalated = valid.substr(0, dot1 + 1) +
                          Base64Url("{" + sub + R"(,"tenant_id":"other","role":"admin","exp":)" +
                                    std::to_string(Now() + 600) + "}") +
                          valid.substr(dot2);
  EXPECT_EQ(Get("/api/v1/tenants/other", escalated).status, 401);
}

// --- The matrices, built from the route table itself ---------------------------------------

std::string Fill(std::string pattern, const std::string& tenant) {
  for (size_t open = pattern.find('{'); open != std::string::npos; open = pattern.find('{')) {
    size_t close = pattern.find('}', open);
    std::string name = pattern.substr(open + 1, close - open - 1);
    pattern.replace(open, close - open + 1, name == "tenant" ? tenant : "x1");
  }
  return pattern;
}

bhttp::verb Verb(const std::string& m) { return bhttp::string_to_verb(m); }

TEST_F(Api, EveryTenantRouteRefusesAnotherTenantsTokenBeforeTouchingIt) {
  size_t checked = 0;
  size_t assets_before = storage_->ListAssets(other_).size();
  for (const RouteInfo& r : ListRoutes()) {
    if (!r.pattern.starts_with("/api/v1/tenants/{tenant}")) continue;
    for (const std::string& token : {admin_, writer_}) {
      auto reply = Call(server_->port(), Verb(r.method), Fill(r.pattern, "other"), token,
                        R"({"id":"x1","name":"n"})");
      EXPECT_EQ(reply.status, 403) << r.method << " " << r.pattern << ": " << reply.text;
    }
    auto anonymous = Call(server_->port(), Verb(r.method), Fill(r.pattern, "other"), "");
    EXPECT_EQ(anonymous.status, 401) << r.method << " " << r.pattern;
    ++checked;
  }
  EXPECT_GT(checked, 30u);
  EXPECT_EQ(storage_->ListAssets(other_).size(), assets_before);
}

TEST_F(Api, EveryRouteRefusesRolesBelowItsOwn) {
  std::map<std::string, std::vector<std::string>> below = {{"viewer", {writer_}},
                                                           {"engineer", {writer_, viewer_}},
                                                           {"admin", {writer_, viewer_, engineer_}},
                                                           {"writer", {viewer_}}};
  size_t checked = 0;
  for (const RouteInfo& r : ListRoutes()) {
    if (!r.pattern.starts_with("/api/v1/tenants/{tenant}")) continue;
    ASSERT_TRUE(below.contains(r.access)) << r.pattern << " has access " << r.access;
    for (const std::string& token : below[r.access]) {
      auto reply =
          Call(server_->port(), Verb(r.method), Fill(r.pattern, "acme"), token, R"({"id":"x1"})");
      EXPECT_EQ(reply.status, 403) << r.method << " " << r.pattern << ": " << reply.text;
      ++checked;
    }
  }
  EXPECT_GT(checked, 50u);
  // Every mutating route needs more than a viewer (predict is a POST for its body only).
  for (const RouteInfo& r : ListRoutes()) {
    if (r.pattern.starts_with("/api/v1/tenants/{tenant}") && r.method != "GET" &&
        !r.pattern.ends_with("/predict")) {
      EXPECT_NE(r.access, "viewer") << r.method << " " << r.pattern;
    }
  }
}

TEST_F(Api, MalformedBodiesOnEveryRouteGetA4xxAndTheServerKeepsServing) {
  const std::vector<std::string> bodies = {
      "",
      "{",
      "[]",
      "null",
      "\xff\xfe\x00garbage",
      R"({"id":"\ud800"})",
      std::string(5000, '[') + std::string(5000, ']'),
      R"({"id":"a","criticality":1e400})",
      R"({"id":"a","name":")" + std::string(900'000, 'x') + R"("})",
      R"({"id":{"nested":[1,2,{"deeper":true}]},"asset_id":[],"kind":{},"status":7})",
  };
  size_t checked = 0;
  for (const RouteInfo& r : ListRoutes()) {
    if (r.method == "GET" || r.method == "HEAD") continue;
    for (const std::string& body : bodies) {
      auto reply = Call(server_->port(), Verb(r.method), Fill(r.pattern, "acme"), admin_, body);
      EXPECT_LT(reply.status, 500u) << r.method << " " << r.pattern << " with " << body.size()
                                    << " bytes: " << reply.text.substr(0, 200);
      ++checked;
    }
  }
  EXPECT_GT(checked, 150u);
  EXPECT_EQ(Get("/ready", "").status, 200);
}

// --- Assets --------------------------------------------------------------------------------

TEST_F(Api, AssetsAreCreatedReadUpdatedListedAndDeleted) {
  auto created = Post("/api/v1/tenants/acme/assets", engineer_,
                      {{"id", "pump-1"},
                       {"name", "Feed pump"},
                       {"asset_type", "pump"},
                       {"site", "north"},
                       {"criticality", "high"},
                       {"installed_at", "2021-04-01"},
                       {"attributes", {{"vendor", "KSB"}}}});
  ASSERT_EQ(created.status, 201) << created.text;
  EXPECT_EQ(created.body.at("installed_at"), "2021-04-01T00:00:00Z");
  EXPECT_EQ(created.body.at("health"), 100);
  EXPECT_EQ(Post("/api/v1/tenants/acme/assets", engineer_, {{"id", "pump-1"}}).status, 409);

  auto got = Get("/api/v1/tenants/acme/assets/pump-1", viewer_);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body.at("attributes").at("vendor"), "KSB");
  EXPECT_EQ(got.body.at("status"), "active");
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/nope", viewer_).status, 404);

  auto patched = Patch("/api/v1/tenants/acme/assets/pump-1", engineer_,
                       {{"status", "maintenance"}, {"attributes", {{"vendor", nullptr}}}});
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body.at("status"), "maintenance");
  EXPECT_TRUE(patched.body.at("attributes").as_object().empty());

  MakeAsset("pump-2", {{"site", "south"}, {"asset_type", "pump"}, {"criticality", "low"}});
  MakeAsset("motor-1", {{"site", "north"}, {"asset_type", "motor"}, {"name", "Main motor"}});
  auto pumps = Get("/api/v1/tenants/acme/assets?asset_type=pump&sort=-criticality", viewer_);
  ASSERT_EQ(pumps.status, 200);
  ASSERT_EQ(pumps.body.at("total"), 2);
  EXPECT_EQ(pumps.body.at("items").at(0).at("id"), "pump-1");
  auto search = Get("/api/v1/tenants/acme/assets?q=MAIN", viewer_);
  ASSERT_EQ(search.body.at("total"), 1);
  EXPECT_EQ(search.body.at("items").at(0).at("id"), "motor-1");
  auto page = Get("/api/v1/tenants/acme/assets?site=north&limit=1&offset=1", viewer_);
  EXPECT_EQ(page.body.at("total"), 2);
  EXPECT_EQ(page.body.at("items").as_array().size(), 1u);

  EXPECT_EQ(Delete("/api/v1/tenants/acme/assets/pump-2", engineer_).status, 403);
  EXPECT_EQ(Delete("/api/v1/tenants/acme/assets/pump-2", admin_).status, 204);
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/pump-2", viewer_).status, 404);
  EXPECT_EQ(Delete("/api/v1/tenants/acme/assets/pump-2", admin_).status, 404);
}

TEST_F(Api, AssetValidationNamesTheOffendingField) {
  std::vector<std::pair<json::object, std::string>> cases = {
      {{{"name", "no id"}}, "id"},
      {{{"id", 7}}, "id"},
      {{{"id", "a"}, {"criticality", "extreme"}}, "criticality"},
      {{{"id", "a"}, {"status", "lost"}}, "status"},
      {{{"id", "a"}, {"installed_at", "yesterday"}}, "installed_at"},
      {{{"id", "a"}, {"colour", "red"}}, "colour"},
      {{{"id", "a"}, {"attributes", {{"x", 1}}}}, "attributes.x"},
      {{{"id", std::string(300, 'a')}}, "id"},
  };
  for (const auto& [body, field] : cases) {
    auto r = Post("/api/v1/tenants/acme/assets", engineer_, body);
    EXPECT_EQ(r.status, 400) << json::serialize(body);
    EXPECT_EQ(ErrorField(r), field) << r.text;
  }
  auto list = Get("/api/v1/tenants/acme/assets?limit=0", viewer_);
  EXPECT_EQ(ErrorField(list), "limit");
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/assets?sort=colour", viewer_)), "sort");
  auto not_object =
      Call(server_->port(), bhttp::verb::post, "/api/v1/tenants/acme/assets", engineer_, "[1,2]");
  EXPECT_EQ(not_object.status, 400);
  EXPECT_EQ(not_object.body.at("error").at("code"), "malformed_json");
}

// --- Maintenance ---------------------------------------------------------------------------

TEST_F(Api, MaintenanceRecordsHaveCrudAndNameBadFields) {
  MakeAsset("comp-1");
  auto created = Post("/api/v1/tenants/acme/maintenance", engineer_,
                      {{"asset_id", "comp-1"},
                       {"kind", "corrective"},
                       {"performed_at", "2026-01-05T10:00:00Z"},
                       {"cost", 1200.5},
                       {"downtime_hours", 4},
                       {"notes", "replaced seal"}});
  ASSERT_EQ(created.status, 201) << created.text;
  std::string id(created.body.at("id").as_string());
  EXPECT_EQ(Get("/api/v1/tenants/acme/maintenance/" + id, viewer_).body.at("cost"), 1200.5);
  auto patched = Patch("/api/v1/tenants/acme/maintenance/" + id, engineer_, {{"kind", "failure"}});
  EXPECT_EQ(patched.body.at("kind"), "failure");
  auto listed = Get("/api/v1/tenants/acme/maintenance?asset_id=comp-1&kind=failure", viewer_);
  EXPECT_EQ(listed.body.at("total"), 1);

  std::vector<std::pair<json::object, std::string>> bad = {
      {{{"kind", "failure"}, {"performed_at", "2026-01-01"}}, "asset_id"},
      {{{"asset_id", "ghost"}, {"kind", "failure"}, {"performed_at", "2026-01-01"}}, "asset_id"},
      {{{"asset_id", "comp-1"}, {"kind", "repair"}, {"performed_at", "2026-01-01"}}, "kind"},
      {{{"asset_id", "comp-1"}, {"kind", "failure"}, {"performed_at", "soon"}}, "performed_at"},
      {{{"asset_id", "comp-1"}, {"kind", "failure"}, {"performed_at", "2026-01-01"}, {"cost", -1}},
       "cost"},
      {{{"asset_id", "comp-1"}, {"kind", "failure"}, {"performed_at", "2026-01-01"}, {"cost", "9"}},
       "cost"},
  };
  for (const auto& [body, field] : bad) {
    auto r = Post("/api/v1/tenants/acme/maintenance", engineer_, body);
    EXPECT_EQ(r.status, 400) << json::serialize(body);
    EXPECT_EQ(ErrorField(r), field) << r.text;
  }
  EXPECT_EQ(Delete("/api/v1/tenants/acme/maintenance/" + id, engineer_).status, 204);
  EXPECT_EQ(Get("/api/v1/tenants/acme/maintenance/" + id, viewer_).status, 404);
}

Reply Import(uint16_t port, const std::string& token, const std::string& csv) {
  return Call(port, bhttp::verb::post, "/api/v1/tenants/acme/maintenance/import", token, csv,
              "text/csv");
}

TEST_F(Api, SapPmExportsImportGoodRowsAndReportBadOnesByRow) {
  MakeAsset("10004711");
  std::string csv =
      "\xEF\xBB\xBFOrder;Order Type;Equipment;Description;Actual Finish Date;Total Actual "
      "Costs;Breakdown;Breakdown Duration\r\n"
      "4000123;PM02;10004711;Quarterly lube;05.03.2026;1.234,50;;\r\n"
      "4000124;PM01;10004711;\"Seal leak; replaced\";06.03.2026;890,00;X;6,5\r\n"
      "4000125;PM09;10004711;Odd type;07.03.2026;1;;\r\n"
      "4000126;PM03;99999999;Unknown equipment;08.03.2026;1;;\r\n"
      "4000127;PM03;10004711;No date;;1;;\r\n";
  auto r = Import(server_->port(), engineer_, csv);
  ASSERT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body.at("format"), "sap_pm");
  EXPECT_EQ(r.body.at("imported"), 2);
  const json::array& rejected = r.body.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_EQ(rejected[0].at("row"), 4);
  EXPECT_EQ(rejected[1].at("row"), 5);
  EXPECT_EQ(rejected[2].at("row"), 6);

  auto lube = Get("/api/v1/tenants/acme/maintenance/sap-4000123", viewer_);
  ASSERT_EQ(lube.status, 200);
  EXPECT_EQ(lube.body.at("kind"), "preventive");
  EXPECT_EQ(lube.body.at("cost"), 1234.5);
  EXPECT_EQ(lube.body.at("performed_at"), "2026-03-05T00:00:00Z");
  auto breakdown = Get("/api/v1/tenants/acme/maintenance/sap-4000124", viewer_);
  EXPECT_EQ(breakdown.body.at("kind"), "failure");
  EXPECT_EQ(breakdown.body.at("downtime_hours"), 6.5);
  EXPECT_EQ(breakdown.body.at("notes"), "Seal leak; replaced");

  // Importing the same export again replaces, not duplicates.
  Import(server_->port(), engineer_, csv);
  EXPECT_EQ(Get("/api/v1/tenants/acme/maintenance?asset_id=10004711", viewer_).body.at("total"), 2);
}

TEST_F(Api, MaximoAndNativeExportsImportAndUnknownShapesAreRefused) {
  MakeAsset("PUMP-7");
  auto maximo = Import(server_->port(), engineer_,
                       "WONUM,DESCRIPTION,ASSETNUM,WORKTYPE,FAILURECODE,ACTFINISH,ACTTOTALCOST\n"
                       "1001,Bearing failure,PUMP-7,CM,BEARING,2026-02-01 14:30:00,5200\n"
                       "1002,PM route,PUMP-7,PM,,2/15/2026 08:00,300\n"
                       "1003,Inspection,PUMP-7,INSP,,2026-02-20,\n");
  ASSERT_EQ(maximo.status, 200) << maximo.text;
  EXPECT_EQ(maximo.body.at("format"), "maximo");
  EXPECT_EQ(maximo.body.at("imported"), 3);
  auto failure = Get("/api/v1/tenants/acme/maintenance/maximo-1001", viewer_);
  EXPECT_EQ(failure.body.at("kind"), "failure");
  EXPECT_EQ(failure.body.at("performed_at"), "2026-02-01T14:30:00Z");
  EXPECT_EQ(Get("/api/v1/tenants/acme/maintenance/maximo-1002", viewer_).body.at("performed_at"),
            "2026-02-15T08:00:00Z");

  auto native = Import(server_->port(), engineer_,
                       "asset_id,kind,performed_at,cost,downtime_hours,notes\n"
                       "PUMP-7,preventive,2026-03-01T00:00:00Z,100,0,oil\n");
  EXPECT_EQ(native.status, 200) << native.text;
  EXPECT_EQ(native.body.at("format"), "native");

  auto unknown = Import(server_->port(), engineer_, "a,b,c\n1,2,3\n");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body.at("error").at("code"), "invalid_csv");
  auto unterminated = Import(server_->port(), engineer_, "WONUM,ASSETNUM\n\"1001,PUMP-7\n");
  EXPECT_EQ(unterminated.status, 400);
  EXPECT_EQ(Import(server_->port(), engineer_, "").status, 400);
}

// --- Rules and alerts ----------------------------------------------------------------------

TEST_F(Api, AnswersWriteNumbersAsPeopleWriteThem) {
  auto rule = Post("/api/v1/tenants/acme/rules", engineer_,
                   {{"name", "Warm"},
                    {"metric", "temp"},
                    {"operator", "gt"},
                    {"threshold", 99.6},
                    {"clear_threshold", 1.0}});
  ASSERT_EQ(rule.status, 201) << rule.text;
  EXPECT_NE(rule.text.find("\"threshold\":99.6"), std::string::npos) << rule.text;
  EXPECT_NE(rule.text.find("\"clear_threshold\":1.0"), std::string::npos) << rule.text;
  EXPECT_EQ(rule.text.find("E1"), std::string::npos) << rule.text;
  auto read =
      Get("/api/v1/tenants/acme/rules/" + std::string(rule.body.at("id").as_string()), engineer_);
  EXPECT_EQ(read.body.at("threshold").as_double(), 99.6);  // and it reads back exactly
}

TEST_F(Api, RulesTakeDefaultsValidateHysteresisAndSoftDelete) {
  auto rule = Post("/api/v1/tenants/acme/rules", engineer_,
                   {{"name", "Hot bearing"},
                    {"metric", "bearing_temp"},
                    {"operator", "gt"},
                    {"threshold", 90},
                    {"clear_threshold", 85},
                    {"source", "5m"},
                    {"scope", {{"asset_type", "pump"}}},
                    {"severity", "critical"}});
  ASSERT_EQ(rule.status, 201) << rule.text;
  EXPECT_EQ(rule.body.at("enabled"), true);
  EXPECT_EQ(rule.body.at("cooldown_seconds"), 0);
  std::string id(rule.body.at("id").as_string());

  auto wrong_side = Post("/api/v1/tenants/acme/rules", engineer_,
                         {{"name", "x"},
                          {"metric", "m"},
                          {"operator", "lt"},
                          {"threshold", 10},
                          {"clear_threshold", 5}});
  EXPECT_EQ(ErrorField(wrong_side), "clear_threshold");
  EXPECT_EQ(
      ErrorField(Post("/api/v1/tenants/acme/rules", engineer_,
                      {{"name", "x"}, {"metric", "m"}, {"operator", "above"}, {"threshold", 1}})),
      "operator");
  EXPECT_EQ(ErrorField(Post("/api/v1/tenants/acme/rules", engineer_,
                            {{"name", "x"}, {"metric", "m"}, {"operator", "gt"}})),
            "threshold");
  EXPECT_EQ(ErrorField(Post("/api/v1/tenants/acme/rules", engineer_,
                            {{"name", "x"},
                             {"metric", "m"},
                             {"operator", "gt"},
                             {"threshold", 1},
                             {"scope", {{"planet", "mars"}}}})),
            "scope.planet");

  EXPECT_EQ(Get("/api/v1/tenants/acme/rules/" + id, viewer_).body.at("severity"), "critical");
  EXPECT_EQ(Get("/api/v1/tenants/acme/rules/nope", viewer_).status, 404);
  EXPECT_EQ(Patch("/api/v1/tenants/acme/rules/" + id, engineer_, {{"threshold", 95}})
                .body.at("threshold"),
            95);
  EXPECT_EQ(Delete("/api/v1/tenants/acme/rules/" + id, engineer_).status, 204);
  auto listed = Get("/api/v1/tenants/acme/rules?metric=bearing_temp", viewer_);
  EXPECT_EQ(listed.body.at("total"), 0);
  auto with_deleted =
      Get("/api/v1/tenants/acme/rules?metric=bearing_temp&include_deleted=true", viewer_);
  ASSERT_EQ(with_deleted.body.at("total"), 1);
  EXPECT_TRUE(with_deleted.body.at("items").at(0).as_object().contains("deleted_at"));
  EXPECT_EQ(Patch("/api/v1/tenants/acme/rules/" + id, engineer_, {{"threshold", 1}}).status, 404);
}

TEST_F(Api, AlertsMoveFromOpenToAcknowledgedToResolvedOnceWithHistory) {
  MakeAsset("fan-1", {{"criticality", "critical"}});
  auto alert = Post("/api/v1/tenants/acme/alerts", engineer_,
                    {{"asset_id", "fan-1"}, {"severity", "critical"}, {"message", "vibration"}});
  ASSERT_EQ(alert.status, 201) << alert.text;
  std::string id(alert.body.at("id").as_string());
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/fan-1", viewer_).body.at("health"), 70);
  EXPECT_EQ(Get("/api/v1/tenants/acme/alerts?asset_id=fan-1&status=open", viewer_).body.at("total"),
            1);
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/alerts?severity=loud", viewer_)), "severity");
  ASSERT_EQ(Post("/api/v1/tenants/acme/alerts", engineer_,
                 {{"asset_id", "fan-1"}, {"severity", "info"}, {"message", "note"}})
                .status,
            201);
  auto worst_first = Get("/api/v1/tenants/acme/alerts?asset_id=fan-1&sort=-severity", viewer_);
  ASSERT_EQ(worst_first.body.at("total"), 2);
  EXPECT_EQ(worst_first.body.at("items").at(0).at("severity"), "critical");
  EXPECT_EQ(worst_first.body.at("items").at(1).at("severity"), "info");

  std::string path = "/api/v1/tenants/acme/alerts/" + id;
  EXPECT_EQ(Patch(path, viewer_, {{"status", "acknowledged"}}).status, 403);
  EXPECT_EQ(ErrorField(Patch(path, engineer_, {{"status", "open"}})), "status");
  auto acked = Patch(path, engineer_, {{"status", "acknowledged"}, {"notes", "on it"}});
  ASSERT_EQ(acked.status, 200) << acked.text;
  EXPECT_EQ(Patch(path, engineer_, {{"status", "acknowledged"}}).status, 409);
  auto resolved = Patch(path, engineer_, {{"status", "resolved"}, {"notes", "bearing swapped"}});
  ASSERT_EQ(resolved.status, 200);
  EXPECT_EQ(Patch(path, engineer_, {{"status", "resolved"}}).status, 409);
  const json::array& history = resolved.body.at("history").as_array();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].at("notes"), "on it");
  EXPECT_FALSE(std::string(history[2].at("by").as_string()).empty());
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/fan-1", viewer_).body.at("health"), 98)
      << "the info alert is still open";
  EXPECT_EQ(Get("/api/v1/tenants/acme/alerts/nope", viewer_).status, 404);
  EXPECT_EQ(ErrorField(Post("/api/v1/tenants/acme/alerts", engineer_,
                            {{"asset_id", "ghost"}, {"severity", "info"}, {"message", "m"}})),
            "asset_id");
}

TEST_F(Api, RulesOpenAndResolveAlertsFromTheNextWrittenPoint) {
  auto rule = Post("/api/v1/tenants/acme/rules", engineer_,
                   {{"name", "Oil hot"},
                    {"metric", "oil_temp"},
                    {"operator", "gt"},
                    {"threshold", 80},
                    {"clear_threshold", 70},
                    {"scope", {{"asset_id", "chiller-1"}}}});
  ASSERT_EQ(rule.status, 201) << rule.text;
  const std::string rule_id(rule.body.at("id").as_string());
  const int64_t t0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z in ms
  auto write = [&](int i, double v) {
    json::object reading = {
        {"asset_id", "chiller-1"}, {"timestamp", t0 + i * 10'000}, {"metrics", {{"oil_temp", v}}}};
    auto r = Call(server_->port(), bhttp::verb::post, "/api/v1/tenants/acme/readings", writer_,
                  json::serialize(reading));
    ASSERT_EQ(r.status, 200) << r.text;
  };
  auto alerts = [&] {
    return Get("/api/v1/tenants/acme/alerts?rule_id=" + rule_id + "&sort=opened_at", viewer_);
  };

  write(0, 85);
  auto opened = alerts();
  ASSERT_EQ(opened.body.at("total"), 1) << opened.text;
  const json::value& a = opened.body.at("items").at(0);
  EXPECT_EQ(a.at("status"), "open");
  EXPECT_EQ(a.at("source"), "rule");
  EXPECT_EQ(a.at("asset_id"), "chiller-1");
  EXPECT_EQ(a.at("value"), 85.0);
  EXPECT_EQ(a.at("opened_at"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/chiller-1", viewer_).body.at("open_alerts"), 1);

  ASSERT_EQ(
      Patch("/api/v1/tenants/acme/rules/" + rule_id, engineer_, {{"clear_threshold", 50}}).status,
      200);
  write(1, 65);
  EXPECT_EQ(alerts().body.at("items").at(0).at("status"), "open")
      << "the changed clear threshold applies to the next point";
  write(2, 45);
  auto resolved = alerts().body.at("items").at(0);
  EXPECT_EQ(resolved.at("status"), "resolved");
  EXPECT_EQ(resolved.at("resolved_by"), "rule");
  EXPECT_EQ(resolved.at("cleared_at"), "2026-01-01T00:00:20Z");

  write(3, 95);
  auto again = alerts();
  ASSERT_EQ(again.body.at("total"), 2);
  const std::string second(again.body.at("items").at(1).at("id").as_string());
  ASSERT_EQ(Patch("/api/v1/tenants/acme/alerts/" + second, engineer_, {{"status", "acknowledged"}})
                .status,
            200);
  EXPECT_EQ(Post("/api/v1/tenants/acme/alerts", engineer_,
                 {{"asset_id", "chiller-1"},
                  {"severity", "info"},
                  {"message", "by hand"},
                  {"rule_id", rule_id}})
                .status,
            409)
      << "the rule's alert for chiller-1 is still open";
  EXPECT_EQ(Delete("/api/v1/tenants/acme/rules/" + rule_id, engineer_).status, 204);
  write(4, 10);
  EXPECT_EQ(Get("/api/v1/tenants/acme/alerts/" + second, viewer_).body.at("status"), "acknowledged")
      << "a deleted rule no longer clears its alert";
  EXPECT_EQ(Get("/api/v1/tenants/acme/alerts?rule_id=" + rule_id, other_admin_).status, 403);
  const std::string metrics = Get("/metrics", "").text;
  const size_t at = metrics.find("\nforesight_alerts_opened_total ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoi(metrics.substr(at + 31)), 2);
}

// --- Readings ------------------------------------------------------------------------------

TEST_F(Api, ReadingsWrittenWithAWriteTokenComeBackRawDownsampledAndLatest) {
  json::array readings;
  const int64_t t0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z in ms
  for (int i = 0; i < 120; ++i) {
    readings.push_back({{"asset_id", "press-1"},
                        {"timestamp", t0 + i * 1000},
                        {"metrics", {{"pressure", 10.0 + i}, {"state", "ok"}}}});
  }
  auto wrote = Call(server_->port(), bhttp::verb::post, "/api/v1/tenants/acme/readings", writer_,
                    json::serialize(readings));
  ASSERT_EQ(wrote.status, 200) << wrote.text;

  std::string base =
      "/api/v1/tenants/acme/assets/press-1/readings?metric=pressure&from=" + std::to_string(t0) +
      "&to=" + std::to_string(t0 + 120'000);
  auto raw = Get(base, viewer_);
  ASSERT_EQ(raw.status, 200) << raw.text;
  ASSERT_EQ(raw.body.at("points").as_array().size(), 120u);
  EXPECT_EQ(raw.body.at("points").at(0).at("time"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(raw.body.at("points").at(119).at("value"), 129.0);

  auto minute = Get(base + "&step=1m&aggregate=max", viewer_);
  ASSERT_EQ(minute.status, 200) << minute.text;
  ASSERT_EQ(minute.body.at("points").as_array().size(), 2u);
  EXPECT_EQ(minute.body.at("points").at(0).at("value"), 69.0);
  EXPECT_EQ(minute.body.at("points").at(1).at("count"), 60);
  auto mean = Get(base + "&step=1m", viewer_);
  EXPECT_EQ(mean.body.at("points").at(0).at("value"), 39.5);

  auto latest = Get("/api/v1/tenants/acme/readings/latest?asset_id=press-1", viewer_);
  ASSERT_EQ(latest.body.at("items").as_array().size(), 2u);
  for (const json::value& item : latest.body.at("items").as_array()) {
    if (item.at("metric") == "pressure") {
      EXPECT_EQ(item.at("value"), 129.0);
    } else {
      EXPECT_EQ(item.at("value"), "ok");
    }
  }

  // The rolling windows saw the same points on the way in; the text metric has none.
  auto windows = Get("/api/v1/tenants/acme/assets/press-1/windows", viewer_);
  ASSERT_EQ(windows.status, 200) << windows.text;
  ASSERT_EQ(windows.body.at("items").as_array().size(), 1u);
  const json::value& pressure = windows.body.at("items").at(0);
  EXPECT_EQ(pressure.at("metric"), "pressure");
  EXPECT_EQ(pressure.at("last"), 129.0);
  EXPECT_EQ(pressure.at("time"), "2026-01-01T00:01:59Z");
  for (const char* span : {"5m", "1h", "24h"}) {
    const json::value& w = pressure.at("windows").at(span);
    EXPECT_EQ(w.at("count"), 120) << span;
    EXPECT_EQ(w.at("mean"), 69.5) << span;
    EXPECT_EQ(w.at("min"), 10.0) << span;
    EXPECT_EQ(w.at("max"), 129.0) << span;
  }
  EXPECT_EQ(pressure.at("windows").at("5m").at("from"), "2025-12-31T23:57:00Z");
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/press-1/windows?metric=flow", viewer_).status, 404);
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/ghost/windows", viewer_).status, 404);
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/press-1/windows", other_admin_).status, 403);

  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/assets/press-1/readings", viewer_)), "metric");
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/press-1/readings?metric=flow", viewer_).status, 404);
  EXPECT_EQ(ErrorField(Get(base + "&step=fortnight", viewer_)), "step");
  EXPECT_EQ(ErrorField(Get(base + "&aggregate=median&step=1m", viewer_)), "aggregate");
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/assets/press-1/readings?metric=pressure&"
                           "from=tomorrow",
                           viewer_)),
            "from");
  EXPECT_EQ(
      ErrorField(Get("/api/v1/tenants/acme/assets/press-1/readings?metric=state&step=1m", viewer_)),
      "step");
}

TEST_F(Api, AChartDownsamplesEveryMetricToAboutTheAskedNumberOfPoints) {
  json::array readings;
  const int64_t t0 = 1'767'312'000'000;  // 2026-01-02T00:00:00Z in ms
  for (int i = 0; i < 3600; ++i) {       // an hour, a point a second
    readings.push_back(
        {{"asset_id", "chart-1"},
         {"timestamp", t0 + i * 1000},
         {"metrics", {{"temp", 20.0 + i % 10}, {"rpm", 1500 + i}, {"mode", "run"}}}});
  }
  ASSERT_EQ(Call(server_->port(), bhttp::verb::post, "/api/v1/tenants/acme/readings", writer_,
                 json::serialize(readings))
                .status,
            200);
  const std::string base = "/api/v1/tenants/acme/assets/chart-1/chart?from=" + std::to_string(t0) +
                           "&to=" + std::to_string(t0 + 3'600'000);
  auto chart = Get(base + "&points=60", viewer_);
  ASSERT_EQ(chart.status, 200) << chart.text;
  EXPECT_EQ(chart.body.at("step_seconds"), 60);
  const json::object& series = chart.body.at("series").as_object();
  EXPECT_TRUE(series.contains("temp") && series.contains("rpm"));
  EXPECT_FALSE(series.contains("mode")) << "string metrics are not charted";
  const json::object& temp = series.at("temp").as_object();
  ASSERT_EQ(temp.at("time").as_array().size(), 60u);
  EXPECT_EQ(temp.at("time").as_array()[0], t0);
  EXPECT_EQ(temp.at("min").as_array()[0].to_number<double>(), 20.0);
  EXPECT_EQ(temp.at("max").as_array()[0].to_number<double>(), 29.0);
  EXPECT_EQ(temp.at("mean").as_array()[0].to_number<double>(), 24.5);

  auto one = Get(base + "&metrics=rpm&points=10", viewer_);
  ASSERT_EQ(one.status, 200) << one.text;
  EXPECT_EQ(one.body.at("series").as_object().size(), 1u);
  EXPECT_EQ(one.body.at("series").at("rpm").at("time").as_array().size(), 10u);
  EXPECT_EQ(Get(base + "&metrics=flow", viewer_).status, 404);
  EXPECT_EQ(ErrorField(Get(base + "&points=3", viewer_)), "points");
  EXPECT_EQ(ErrorField(Get(base + "&points=many", viewer_)), "points");
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/assets/chart-1/chart?from=later", viewer_)),
            "from");
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets/ghost/chart", viewer_).status, 404);
  EXPECT_EQ(Get(base, other_admin_).status, 403);
}

TEST_F(Api, ListsExportEveryMatchingRowAsCsv) {
  for (int i = 0; i < 3; ++i) MakeAsset("csv-" + std::to_string(i), {{"asset_type", "fan"}});
  auto assets = Get("/api/v1/tenants/acme/assets?asset_type=fan&format=csv&limit=1", viewer_);
  ASSERT_EQ(assets.status, 200) << assets.text;
  EXPECT_EQ(assets.raw[bhttp::field::content_type], "text/csv; charset=utf-8");
  EXPECT_TRUE(
      assets.text.starts_with("id,name,asset_type,site,criticality,status,health,"
                              "open_alerts,created_at\r\n"))
      << assets.text;
  EXPECT_EQ(std::count(assets.text.begin(), assets.text.end(), '\n'), 4) << "every row, not a page";
  EXPECT_NE(assets.text.find("csv-2,csv-2,fan,,medium,active,100,0,"), std::string::npos)
      << assets.text;
  ASSERT_EQ(Post("/api/v1/tenants/acme/alerts", engineer_,
                 {{"asset_id", "csv-1"}, {"severity", "warning"}, {"message", "a, \"quoted\" one"}})
                .status,
            201);
  auto alerts = Get("/api/v1/tenants/acme/alerts?asset_id=csv-1&format=csv", viewer_);
  ASSERT_EQ(alerts.status, 200) << alerts.text;
  EXPECT_TRUE(alerts.text.starts_with("id,asset_id,severity,status,message,")) << alerts.text;
  EXPECT_NE(alerts.text.find(",csv-1,warning,open,\"a, \"\"quoted\"\" one\","), std::string::npos)
      << alerts.text;
  EXPECT_EQ(Get("/api/v1/tenants/acme/maintenance?format=csv", viewer_).status, 200);
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/assets?format=xml", viewer_)), "format");
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/alerts?format=xml", viewer_)), "format");
  EXPECT_EQ(Get("/api/v1/tenants/acme/users", admin_).body.at("total"), 0);
}

TEST_F(Api, AssetListsCarryTheKeptPredictionAndFilterAndSortByIt) {
  MakeAsset("unscored-1");
  auto latest = Get("/api/v1/tenants/acme/predictions", viewer_);
  ASSERT_EQ(latest.status, 200) << latest.text;
  EXPECT_TRUE(latest.body.at("total").is_number());
  auto list = Get("/api/v1/tenants/acme/assets?q=unscored-1", viewer_);
  ASSERT_EQ(list.status, 200) << list.text;
  EXPECT_TRUE(list.body.at("items").at(0).at("prediction").is_null()) << "not scored yet";
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets?sort=-risk", viewer_).status, 200);
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets?sort=fails_30d", viewer_).status, 200);
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets?risk=high&q=unscored-1", viewer_).body.at("total"), 0);
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/assets?risk=dire", viewer_)), "risk");
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/predictions?risk=dire", viewer_)), "risk");
  EXPECT_EQ(Get("/api/v1/tenants/acme/predictions", other_admin_).status, 403);
}

TEST_F(Api, RevokedWriteTokensAreRefusedAtOnce) {
  auto created = Post("/api/v1/tenants/acme/tokens", admin_, {{"name", "temporary"}});
  ASSERT_EQ(created.status, 201) << created.text;
  std::string token(created.body.at("token").as_string());
  std::string id(created.body.at("id").as_string());
  std::string reading = R"({"asset_id":"tmp-1","metrics":{"v":1}})";
  EXPECT_EQ(
      Call(server_->port(), bhttp::verb::post, "/api/v1/tenants/acme/readings", token, reading)
          .status,
      200);
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets", token).status, 403) << "write tokens only write";
  EXPECT_EQ(Delete("/api/v1/tenants/acme/tokens/" + id, admin_).status, 204);
  EXPECT_EQ(
      Call(server_->port(), bhttp::verb::post, "/api/v1/tenants/acme/readings", token, reading)
          .status,
      401);
  auto listed = Get("/api/v1/tenants/acme/tokens", admin_);
  bool found = false;
  for (const json::value& t : listed.body.at("items").as_array()) {
    if (t.at("id").as_string() == id) {
      found = true;
      EXPECT_FALSE(t.at("revoked_at").is_null());
      EXPECT_FALSE(t.as_object().contains("token")) << "a token is shown once";
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(Delete("/api/v1/tenants/acme/tokens/nope", admin_).status, 404);
}

TEST_F(Api, ClientsCreatedByAnAdminCanSignInUntilDeleted) {
  auto created = Post("/api/v1/tenants/acme/clients", admin_,
                      {{"client_id", "acme-dashboard"}, {"role", "viewer"}});
  ASSERT_EQ(created.status, 201) << created.text;
  std::string secret(created.body.at("client_secret").as_string());
  EXPECT_EQ(Post("/api/v1/tenants/acme/clients", admin_,
                 {{"client_id", "acme-dashboard"}, {"role", "viewer"}})
                .status,
            409);
  EXPECT_EQ(ErrorField(Post("/api/v1/tenants/acme/clients", admin_, {{"role", "root"}})), "role");
  bool listed = false;
  auto clients = Get("/api/v1/tenants/acme/clients", admin_);
  for (const json::value& c : clients.body.at("items").as_array()) {
    if (c.at("client_id") == "acme-dashboard") {
      listed = true;
      EXPECT_EQ(c.at("role"), "viewer");
      EXPECT_FALSE(c.as_object().contains("client_secret")) << "a secret is shown once";
    }
  }
  EXPECT_TRUE(listed);
  EXPECT_EQ(ErrorField(Post("/api/v1/tenants/acme/clients", admin_,
                            {{"client_id", "no spaces"}, {"role", "viewer"}})),
            "client_id");
  auto signed_in =
      Post("/auth/token", "", {{"client_id", "acme-dashboard"}, {"client_secret", secret}});
  ASSERT_EQ(signed_in.status, 200);
  std::string jwt(signed_in.body.at("access_token").as_string());
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets", jwt).status, 200);
  EXPECT_EQ(Delete("/api/v1/tenants/acme/clients/acme-dashboard", admin_).status, 204);
  EXPECT_EQ(Get("/api/v1/tenants/acme/assets", jwt).status, 401)
      << "a deleted client's tokens stop working";
}

// --- Reports and settings ------------------------------------------------------------------

TEST_F(Api, CostAvoidanceFollowsTheDocumentedArithmetic) {
  ASSERT_EQ(Call(server_->port(), bhttp::verb::put, "/api/v1/tenants/acme/settings", admin_,
                 R"({"cost_model":{"currency":"EUR","unplanned_failure_cost":{"high":80000},
                     "planned_to_unplanned_ratio":0.2,"lookback_days":14}})")
                .status,
            200);
  MakeAsset("turbine-9", {{"criticality", "high"}});
  auto alert = Post("/api/v1/tenants/acme/alerts", engineer_,
                    {{"asset_id", "turbine-9"}, {"severity", "warning"}, {"message", "trend"}});
  ASSERT_EQ(alert.status, 201);
  // Acted on within the lookback (here: at the very moment of the alert): avoided 80000,
  // planned cost given as 3000.
  ASSERT_EQ(Post("/api/v1/tenants/acme/maintenance", engineer_,
                 {{"asset_id", "turbine-9"},
                  {"kind", "corrective"},
                  {"performed_at", alert.body.at("opened_at")},
                  {"cost", 3000}})
                .status,
            201);
  EXPECT_EQ(Get("/api/v1/tenants/acme/settings", viewer_).body.at("cost_model").at("currency"),
            "EUR");
  auto report = Get("/api/v1/tenants/acme/reports/cost-avoidance?days=30", viewer_);
  ASSERT_EQ(report.status, 200) << report.text;
  EXPECT_EQ(report.body.at("currency"), "EUR");
  bool found = false;
  for (const json::value& i : report.body.at("interventions").as_array()) {
    if (i.at("asset_id") != "turbine-9") continue;
    found = true;
    EXPECT_EQ(i.at("unplanned_cost_avoided"), 80000.0);
    EXPECT_EQ(i.at("planned_cost"), 3000.0);
    EXPECT_EQ(i.at("savings"), 77000.0);
  }
  EXPECT_TRUE(found) << report.text;
  EXPECT_EQ(ErrorField(Call(server_->port(), bhttp::verb::put, "/api/v1/tenants/acme/settings",
                            admin_, R"({"cost_model":{"planned_to_unplanned_ratio":3}})")),
            "cost_model.planned_to_unplanned_ratio");
  EXPECT_EQ(
      Call(server_->port(), bhttp::verb::put, "/api/v1/tenants/acme/settings", engineer_, "{}")
          .status,
      403);
}

TEST_F(Api, ATenantsRetentionHidesOlderPointsFromEveryReadWhileItsRollupsOutliveThem) {
  // A tenant of its own: retention would hide other tests' points.
  storage::TenantId tenant = storage_->CreateTenant("retained").value();
  auto client = auth_->CreateClient(tenant, "", Role::kAdmin).value();
  const std::string admin = auth_->IssueToken(client.client.id, client.secret, Now()).value().jwt;
  const std::string writer = auth_->tokens().Create(tenant, "gateway").value().secret;
  const int64_t now = Now();
  std::string lines;
  for (auto [age, value] : {std::pair{10 * 86'400, 1}, {3 * 86'400, 2}, {3'600, 3}}) {
    lines += "readings,asset_id=r-1 temp=" + std::to_string(value) + " " +
             std::to_string(now - age) + "\n";
  }
  ASSERT_EQ(Call(server_->port(), bhttp::verb::post, "/write?db=retained&precision=s", writer,
                 lines, "text/plain")
                .status,
            204);
  ASSERT_TRUE(storage_->Flush().ok());  // into blocks and rollups

  const std::string settings = "/api/v1/tenants/retained/settings";
  auto put = Call(server_->port(), bhttp::verb::put, settings, admin,
                  R"({"retention":{"raw":"2d","minute":"120h","hour":null}})");
  ASSERT_EQ(put.status, 200) << put.text;
  EXPECT_EQ(put.body.at("retention"),
            json::parse(R"({"raw":"2d","minute":"5d","hour":null,"day":null})"));
  EXPECT_EQ(put.body.at("retention_applied"),
            json::parse(R"({"raw":"2d","minute":"5d","hour":"forever","day":"forever"})"));
  EXPECT_EQ(Get("/api/v1/tenants/retained", admin).body.at("retention").at("raw"), "2d");
  EXPECT_NE(
      Get("/metrics", "")
          .text.find("foresight_retention_seconds{tenant=\"retained\",tier=\"raw\"} 172800\n"),
      std::string::npos);

  // Raw reads: only the point of an hour ago, through REST, InfluxQL and PromQL alike.
  // r-1's temp over the last 20 days (and the next day), with `step` as given.
  auto temp = [&](const std::string& step) {
    return Get("/api/v1/tenants/retained/assets/r-1/readings?metric=temp&from=" +
                   std::to_string((now - 20 * 86'400) * 1000) +
                   "&to=" + std::to_string((now + 86'400) * 1000) + step,
               admin);
  };
  auto rest = temp("");
  ASSERT_EQ(rest.status, 200) << rest.text;
  ASSERT_EQ(rest.body.at("points").as_array().size(), 1u) << rest.text;
  EXPECT_EQ(rest.body.at("points").at(0).at("value"), 3.0);
  auto influxql = Get("/query?db=retained&q=SELECT%20count(temp)%20FROM%20readings", admin);
  ASSERT_EQ(influxql.status, 200) << influxql.text;
  EXPECT_EQ(influxql.body.at("results").at(0).at("series").at(0).at("values").at(0).at(1), 1)
      << influxql.text;
  auto promql =
      Get("/api/v1/query?query=count_over_time(readings_temp%5B30d%5D)&db=retained", admin);
  ASSERT_EQ(promql.status, 200) << promql.text;
  EXPECT_EQ(promql.body.at("data").at("result").at(0).at("value").at(1), "1") << promql.text;

  // Rollups keep what their own tiers allow: minutes five days (two points), days for ever.
  auto minutes = temp("&step=1m");
  ASSERT_EQ(minutes.status, 200) << minutes.text;
  EXPECT_EQ(minutes.body.at("points").as_array().size(), 2u) << minutes.text;
  auto days = temp("&step=1d");
  ASSERT_EQ(days.status, 200) << days.text;
  int64_t counted = 0;
  for (const json::value& p : days.body.at("points").as_array())
    counted += p.at("count").as_int64();
  EXPECT_EQ(counted, 3) << days.text;

  // A point past it is refused as it arrives, naming why; the rest of the write is stored.
  auto late = Call(server_->port(), bhttp::verb::post, "/write?db=retained&precision=s", writer,
                   "readings,asset_id=r-1 temp=9 " + std::to_string(now - 5 * 86'400) +
                       "\nreadings,asset_id=r-1 temp=4 " + std::to_string(now - 60) + "\n",
                   "text/plain");
  EXPECT_EQ(late.status, 400);
  EXPECT_NE(late.text.find("older than the tenant's raw retention (2d)"), std::string::npos)
      << late.text;
  EXPECT_EQ(Get("/query?db=retained&q=SELECT%20count(temp)%20FROM%20readings", admin)
                .body.at("results")
                .at(0)
                .at("series")
                .at(0)
                .at("values")
                .at(0)
                .at(1),
            2);

  // Bad retention is refused by field and changes nothing.
  for (auto [body, field] : {std::pair{R"({"retention":{"raw":"2 days"}})", "retention.raw"},
                             {R"({"retention":{"raw":5}})", "retention.raw"},
                             {R"({"retention":{"raw":"0d"}})", "retention.raw"},
                             {R"({"retention":{"week":"7d"}})", "retention.week"},
                             {R"({"retention":"2d"})", "retention"}}) {
    auto bad = Call(server_->port(), bhttp::verb::put, settings, admin, body);
    EXPECT_EQ(bad.status, 400) << body;
    EXPECT_EQ(ErrorField(bad), field) << body;
  }
  auto kept = Get(settings, admin);
  EXPECT_EQ(kept.body.at("retention").at("raw"), "2d");
  // What GET answers can be sent back as it is.
  EXPECT_EQ(
      Call(server_->port(), bhttp::verb::put, settings, admin, json::serialize(kept.body)).status,
      200);
  EXPECT_EQ(Call(server_->port(), bhttp::verb::put, settings, engineer_,
                 R"({"retention":{"raw":"forever"}})")
                .status,
            403);
}

TEST_F(Api, ReportsAnswerInJsonAndCsv) {
  MakeAsset("report-1", {{"criticality", "medium"}});
  auto fleet = Get("/api/v1/tenants/acme/reports/fleet", viewer_);
  ASSERT_EQ(fleet.status, 200) << fleet.text;
  EXPECT_EQ(fleet.body.at("assets").to_number<size_t>(), storage_->ListAssets(acme_).size());
  EXPECT_TRUE(fleet.body.at("open_alerts").as_object().contains("critical"));
  auto csv = Get("/api/v1/tenants/acme/reports/fleet?format=csv", viewer_);
  EXPECT_EQ(csv.raw[bhttp::field::content_type], "text/csv; charset=utf-8");
  EXPECT_TRUE(csv.text.starts_with("metric,value\r\nassets,")) << csv.text;
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/reports/fleet?format=xml", viewer_)), "format");

  auto asset = Get("/api/v1/tenants/acme/reports/assets/report-1", viewer_);
  ASSERT_EQ(asset.status, 200);
  EXPECT_EQ(asset.body.at("asset").at("id"), "report-1");
  EXPECT_TRUE(Get("/api/v1/tenants/acme/reports/assets/report-1?format=csv", viewer_)
                  .text.starts_with("section,key,value"));
  EXPECT_EQ(Get("/api/v1/tenants/acme/reports/assets/ghost", viewer_).status, 404);

  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/reports/trends", viewer_)), "metric");
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/reports/trends?metric=x&days=0", viewer_)),
            "days");
  auto trend = Get("/api/v1/tenants/acme/reports/trends?metric=pressure&days=3650", viewer_);
  ASSERT_EQ(trend.status, 200);
  EXPECT_TRUE(Get("/api/v1/tenants/acme/reports/trends?metric=pressure&format=csv", viewer_)
                  .text.starts_with("date,mean,min,max,count"));
  auto cost = Get("/api/v1/tenants/acme/reports/cost-avoidance?format=csv", viewer_);
  EXPECT_TRUE(cost.text.starts_with("maintenance_id,asset_id")) << cost.text;
}

TEST_F(Api, TheFleetHistoryCountsEachDaysAlertsFailuresAndMaintenance) {
  // Other tests of the suite write to the same tenant with dates that may fall in the last two
  // days (today's date is not fixed), so what is checked is what this test's writes add.
  struct Counts {
    int64_t critical = 0, failures = 0, maintenance = 0;
  };
  auto counts = [&] {
    // Two days whatever the hour: what happened an hour ago is in one of them.
    auto history = Get("/api/v1/tenants/acme/reports/history?days=2", viewer_);
    EXPECT_EQ(history.status, 200) << history.text;
    const json::array& days = history.body.at("days").as_array();
    EXPECT_EQ(days.size(), 2u);
    Counts c;
    for (const json::value& d : days) {
      EXPECT_EQ(d.at("date").as_string().size(), 10u);
      EXPECT_TRUE(d.at("fleet_health").is_null()) << "no model has scored the fleet";
      c.critical += d.at("alerts_opened").at("critical").as_int64();
      c.failures += d.at("failures").as_int64();
      c.maintenance += d.at("maintenance").as_int64();
    }
    return c;
  };
  const Counts before = counts();
  MakeAsset("hist-1", {{"asset_type", "press"}});
  ASSERT_EQ(Post("/api/v1/tenants/acme/alerts", engineer_,
                 {{"asset_id", "hist-1"}, {"severity", "critical"}, {"message", "noise"}})
                .status,
            201);
  const std::string an_hour_ago =
      storage::FormatRfc3339(storage::SystemClock().NowNs() - 3600 * storage::kSecondNs);
  for (const char* kind : {"failure", "inspection"}) {
    ASSERT_EQ(Post("/api/v1/tenants/acme/maintenance", engineer_,
                   {{"asset_id", "hist-1"}, {"kind", kind}, {"performed_at", an_hour_ago}})
                  .status,
              201);
  }
  const Counts after = counts();
  EXPECT_EQ(after.critical - before.critical, 1);
  EXPECT_EQ(after.failures - before.failures, 1);
  EXPECT_EQ(after.maintenance - before.maintenance, 1);
  auto csv = Get("/api/v1/tenants/acme/reports/history?days=2&format=csv", viewer_);
  EXPECT_TRUE(csv.text.starts_with("date,fleet_health,assets_scored,assets_at_risk,")) << csv.text;
  EXPECT_EQ(ErrorField(Get("/api/v1/tenants/acme/reports/history?days=-1", viewer_)), "days");
  EXPECT_EQ(Get("/api/v1/tenants/acme/reports/history", other_admin_).status, 403);

  // A trend of one asset type, and not of an asset and a type at once.
  auto typed = Get("/api/v1/tenants/acme/reports/trends?metric=temp&asset_type=press", viewer_);
  ASSERT_EQ(typed.status, 200) << typed.text;
  EXPECT_EQ(typed.body.at("asset_type"), "press");
  EXPECT_EQ(ErrorField(Get(
                "/api/v1/tenants/acme/reports/trends?metric=temp&asset_type=press&asset_id=hist-1",
                viewer_)),
            "asset_type");
}

// --- Platform: audit, limits, ids, documents, metrics --------------------------------------

TEST_F(Api, OnlyListedOriginsGetCorsAnswersAndPreflights) {
  auto with_origin = [&](bhttp::verb method, const std::string& target, const std::string& origin) {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::authorization, "Bearer " + viewer_);
    req.set(bhttp::field::origin, origin);
    if (method == bhttp::verb::options) {
      req.set(bhttp::field::access_control_request_method, "GET");
      req.set(bhttp::field::access_control_request_headers, "authorization");
    }
    return testing::Send(server_->port(), std::move(req));
  };
  const std::string assets = "/api/v1/tenants/acme/assets";
  auto listed = with_origin(bhttp::verb::get, assets, "https://ops.example.com");
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.raw[bhttp::field::access_control_allow_origin], "https://ops.example.com");
  EXPECT_EQ(listed.raw[bhttp::field::vary], "Origin");
  EXPECT_EQ(listed.raw.count(bhttp::field::access_control_allow_credentials), 0u);
  auto other = with_origin(bhttp::verb::get, assets, "https://ops.example.com.evil.test");
  EXPECT_EQ(other.raw.count(bhttp::field::access_control_allow_origin), 0u);

  auto preflight = with_origin(bhttp::verb::options, assets, "https://ops.example.com");
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.raw[bhttp::field::access_control_allow_origin], "https://ops.example.com");
  EXPECT_NE(
      std::string(preflight.raw[bhttp::field::access_control_allow_headers]).find("Authorization"),
      std::string::npos);
  EXPECT_EQ(with_origin(bhttp::verb::options, assets, "https://evil.test").status, 403);
  EXPECT_EQ(with_origin(bhttp::verb::options, "/no/such/route", "https://ops.example.com").status,
            403);
}

TEST_F(Api, EveryMutationIsAuditedAndOnlyAdminsReadTheLog) {
  MakeAsset("audited-0");
  MakeAsset("audited-1");
  auto log = Get("/api/v1/tenants/acme/audit?limit=5", admin_);
  ASSERT_EQ(log.status, 200) << log.text;
  const json::value& newest = log.body.at("items").at(0);
  EXPECT_EQ(newest.at("method"), "POST");
  EXPECT_EQ(newest.at("path"), "/api/v1/tenants/acme/assets");
  EXPECT_EQ(newest.at("status"), 201);
  EXPECT_EQ(newest.at("role"), "engineer");
  EXPECT_FALSE(std::string(newest.at("request_id").as_string()).empty());
  auto next =
      Get("/api/v1/tenants/acme/audit?limit=1&before=" + std::string(newest.at("id").as_string()),
          admin_);
  ASSERT_EQ(next.body.at("items").as_array().size(), 1u);
  EXPECT_NE(next.body.at("items").at(0).at("id"), newest.at("id"));
  EXPECT_EQ(Get("/api/v1/tenants/acme/audit", engineer_).status, 403);
  auto theirs = Get("/api/v1/tenants/other/audit?limit=1000", other_admin_);
  for (const json::value& entry : theirs.body.at("items").as_array()) {
    EXPECT_FALSE(std::string(entry.at("path").as_string()).starts_with("/api/v1/tenants/acme"))
        << "each tenant's log holds only its own mutations";
  }
}

TEST_F(Api, BodiesOverTheRouteLimitAreRefusedFromTheHeaders) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()));
  std::string head =
      "POST /api/v1/tenants/acme/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + engineer_ +
      "\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n";
  boost::asio::write(stream, boost::asio::buffer(head));  // and no body at all
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(json::parse(res.body()).at("error").at("code"), "too_large");
}

TEST_F(Api, UnknownRoutesAndMethodsAnswerInTheErrorShape) {
  auto missing = Get("/api/v1/nothing", viewer_);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body.at("error").at("code"), "not_found");
  auto method = Call(server_->port(), bhttp::verb::put, "/api/v1/tenants/acme/assets", admin_);
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(Get("/api/v1/tenants/acme//assets", viewer_).status, 404);
}

TEST_F(Api, EveryResponseCarriesARequestIdAndEchoesASaneOne) {
  auto generated = Get("/health", "");
  EXPECT_EQ(generated.raw["X-Request-Id"].size(), 16u);
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()));
  for (auto [given, echoed] : {std::pair{"trace-abc.123", true}, std::pair{"bad id!", false}}) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/health", 11};
    req.set(bhttp::field::host, "x");
    req.set("X-Request-Id", given);
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    EXPECT_EQ(res["X-Request-Id"] == given, echoed) << given;
  }
}

TEST_F(Api, OpenApiDocumentListsEveryDispatchedRouteAndValidates) {
  auto doc = Get("/openapi.json", "");
  ASSERT_EQ(doc.status, 200);
  const json::object& paths = doc.body.at("paths").as_object();
  for (const RouteInfo& r : ListRoutes()) {
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(c));
    ASSERT_TRUE(paths.contains(r.pattern)) << r.pattern;
    EXPECT_TRUE(paths.at(r.pattern).as_object().contains(method)) << r.method << " " << r.pattern;
  }
  std::string js = std::string(FORESIGHT_SOURCE_DIR) + "/tests/js";
  ASSERT_TRUE(std::filesystem::exists(js + "/node_modules/@apidevtools/swagger-parser"))
      << "run `npm ci` in tests/js (tools/test.sh does)";
  testing::CommandOutput ran = testing::RunCommand(
      "node " + js + "/validate_openapi.mjs http://127.0.0.1:" + std::to_string(server_->port()) +
      "/openapi.json");
  EXPECT_EQ(ran.code, 0) << ran.out;
}

TEST_F(Api, MetricsPassPromtoolAndCountRequestsByRouteAndStatus) {
  Get("/api/v1/tenants/acme/assets", viewer_);
  Get("/api/v1/tenants/acme/assets/ghost", viewer_);
  auto metrics = Get("/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.text.find("foresight_http_requests_total{route=\"/api/v1/tenants/{tenant}/"
                              "assets/{asset_id}\",method=\"GET\",code=\"404\"}"),
            std::string::npos);
  EXPECT_NE(metrics.text.find("foresight_http_request_duration_seconds_bucket{route=\"/api/v1/"
                              "tenants/{tenant}/assets\",method=\"GET\",code=\"200\",le=\"+Inf\"}"),
            std::string::npos);
  foresight::testing::TempDir tmp;
  std::string file = tmp.Sub("metrics.txt");
  { std::ofstream(file) << metrics.text; }
  testing::CommandOutput ran = testing::RunCommand("promtool check metrics < " + file);
  EXPECT_EQ(ran.code, 0) << "promtool (Debian's prometheus package) says:\n" << ran.out;
}

// --- Limits that need their own server -----------------------------------------------------

class Limits : public ::testing::Test {
 protected:
  void Start(ServerOptions so) {
    storage_ = storage::Storage::Open(dir_.Sub("db"), storage::Options()).value();
    AuthOptions options;
    options.jwt_secret = kSecret;
    auth_ = Auth::Open(storage_.get(), options).value();
    auto tenant = storage_->CreateTenant("acme").value();
    auto client = auth_->CreateClient(tenant, "limits-viewer", Role::kViewer).value();
    token_ = auth_->SignJwt({tenant, "acme", Role::kViewer, client.client.id}, Now(), Now() + 600);
    so.host = "127.0.0.1";
    so.port = 0;
    server_ = Server::Start(so, Services{storage_.get(), nullptr, auth_.get()}).value();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  foresight::testing::TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<Server> server_;
  std::string token_;
};

TEST_F(Limits, ATenantPastItsRateGets429WithRetryAfter) {
  ServerOptions so;
  so.rate_limit_per_s = 0.5;
  so.rate_limit_burst = 3;
  Start(so);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call(server_->port(), bhttp::verb::get, "/api/v1/tenants/acme/assets", token_).status,
              200);
  }
  auto limited = Call(server_->port(), bhttp::verb::get, "/api/v1/tenants/acme/assets", token_);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body.at("error").at("code"), "rate_limited");
  int retry = std::stoi(std::string(limited.raw[bhttp::field::retry_after]));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 2);
  EXPECT_EQ(Call(server_->port(), bhttp::verb::get, "/health", "").status, 200)
      << "operations routes are not tenant-limited";
}

TEST_F(Limits, ConnectionsPastTheCapAreAnswered503) {
  ServerOptions so;
  so.max_connections = 2;
  Start(so);
  boost::asio::io_context ioc;
  std::vector<std::unique_ptr<beast::tcp_stream>> held;
  auto open = [&] {
    auto s = std::make_unique<beast::tcp_stream>(ioc);
    s->connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()));
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/health", 11};
    req.set(bhttp::field::host, "x");
    bhttp::write(*s, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(*s, buffer, res);
    held.push_back(std::move(s));
    return res.result_int();
  };
  EXPECT_EQ(open(), 200);
  EXPECT_EQ(open(), 200);
  EXPECT_EQ(open(), 503);
  held.clear();
}

TEST_F(Limits, StopClosesIdleConnectionsAndStopsAccepting) {
  Start(ServerOptions());
  boost::asio::io_context ioc;
  beast::tcp_stream idle(ioc);
  idle.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()));
  EXPECT_EQ(Call(server_->port(), bhttp::verb::get, "/health", "").status, 200);
  server_->Stop();
  char byte;
  boost::system::error_code ec;
  idle.socket().read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec) << "an idle keep-alive connection is closed by Stop";
  boost::asio::io_context ioc2;
  beast::tcp_stream late(ioc2);
  late.socket().connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server_->port()),
                        ec);
  EXPECT_TRUE(ec) << "no longer accepting";
}

}  // namespace
}  // namespace foresight::http

namespace foresight::http {
namespace {

// --- Models, training runs, predictions --------------------------------------------------------

// A run to its end, polling its status as a client would.
json::object AwaitRun(uint16_t port, const std::string& id, const std::string& token) {
  for (int i = 0; i < 6000; ++i) {
    auto r = Call(port, bhttp::verb::get, "/api/v1/tenants/acme/training-runs/" + id, token);
    EXPECT_EQ(r.status, 200u) << r.text;
    const std::string status(r.body.at("status").as_string());
    if (status != "queued" && status != "running") return r.body.as_object();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "run " << id << " did not finish";
  return {};
}

TEST_F(Api, TrainsAModelOnGivenFeaturesAndScoresRowsWithIt) {
  // Before any model: a clear 409 for fleet predictions, 404 for a named target.
  auto none = Post("/api/v1/tenants/acme/predict", viewer_, json::object{});
  EXPECT_EQ(none.status, 409u) << none.text;
  auto unnamed = Post("/api/v1/tenants/acme/predict", viewer_,
                      json::parse(R"({"target":"wear","features":["a"],"rows":[[1]]})"));
  EXPECT_EQ(unnamed.status, 404u) << unnamed.text;

  json::array rows, labels;
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal(0, 1);
  for (int i = 0; i < 1000; ++i) {
    const double a = normal(rng), b = normal(rng);
    rows.push_back(json::array{a, b, i % 7 == 0 ? json::value(nullptr) : json::value(normal(rng))});
    labels.push_back(a + b > 1 ? 1 : 0);
  }
  json::object body{{"target", "wear"},
                    {"features", json::array{"a", "b", "c"}},
                    {"rows", rows},
                    {"labels", labels},
                    {"params", {{"max_depth", 3}, {"eta", 0.2}, {"seed", 7}}}};
  auto viewer = Post("/api/v1/tenants/acme/training-runs", viewer_, body);
  EXPECT_EQ(viewer.status, 403u);
  auto started = Post("/api/v1/tenants/acme/training-runs", engineer_, body);
  ASSERT_EQ(started.status, 202u) << started.text;
  EXPECT_EQ(started.body.at("status"), "queued");
  const std::string run_id(started.body.at("id").as_string());
  json::object run = AwaitRun(server_->port(), run_id, viewer_);
  ASSERT_EQ(run.at("status"), "succeeded") << json::serialize(run);
  EXPECT_EQ(run.at("progress").to_number<double>(), 1.0);
  const std::string model_id(run.at("models").as_array().at(0).as_string());

  auto model = Get("/api/v1/tenants/acme/models/" + model_id, viewer_);
  ASSERT_EQ(model.status, 200u) << model.text;
  EXPECT_EQ(model.body.at("status"), "champion");
  EXPECT_EQ(model.body.at("features").as_array().size(), 3u);
  const json::object& metrics = model.body.at("metrics").as_object();
  EXPECT_GT(metrics.at("auc_pr").to_number<double>(), 0.8);
  EXPECT_TRUE(metrics.contains("confusion"));
  const json::object& params = model.body.at("params").as_object();
  EXPECT_EQ(params.at("max_depth").to_number<int>(), 3);
  EXPECT_EQ(params.at("eta").to_number<double>(), 0.2);
  EXPECT_EQ(params.at("seed").to_number<int>(), 7);
  EXPECT_EQ(params.at("subsample").to_number<double>(), 0.8);  // the server's default
  auto list = Get("/api/v1/tenants/acme/models?target=wear", viewer_);
  EXPECT_EQ(list.body.at("items").as_array().size(), 1u);
  auto runs = Get("/api/v1/tenants/acme/training-runs", viewer_);
  EXPECT_EQ(runs.body.at("items").as_array().at(0).at("id").as_string(), run_id);

  // Scoring given rows: columns by name, in any order; absent ones are missing.
  auto scored = Post("/api/v1/tenants/acme/predict", viewer_,
                     json::parse(R"({"target":"wear","features":["b","a"],
                                     "rows":[[2,2],[-2,-2]]})"));
  ASSERT_EQ(scored.status, 200u) << scored.text;
  // Model outputs are floats, written in a float's shortest form (no 0.8967646956443787).
  EXPECT_FALSE(std::regex_search(scored.text, std::regex("\\.0*[1-9][0-9]{9,}"))) << scored.text;
  const json::array& p = scored.body.at("predictions").as_array();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_GT(p[0].at("value").to_number<double>(), 0.8);
  EXPECT_LT(p[1].at("value").to_number<double>(), 0.2);
  EXPECT_FALSE(p[0].at("factors").as_array().empty());

  // Bad requests name the field; nothing is queued or trained.
  for (const char* bad :
       {R"({"target":"wear","features":["a"],"rows":[[1,2]],"labels":[1]})",
        R"({"target":"wear","features":["a"],"rows":[["x"]],"labels":[1]})",
        R"({"target":"wear","features":[],"rows":[[1]],"labels":[1]})",
        R"({"target":"wear","features":["a"],"rows":[[1]]})",
        R"({"target":"fails_7d","features":["a"],"rows":[[1]],"labels":[1]})",
        R"({"target":"wear","objective":"cubic","features":["a"],"rows":[[1]],"labels":[1]})",
        R"({"targets":["fails_1y"]})", R"({"targets":"fails_7d"})", R"({"rul_cap_days":-3})",
        R"({"params":{"depth":3}})", R"({"params":{"max_depth":2.5}})", R"({"params":{"eta":0}})",
        R"({"params":{"eta":"fast"}})", R"({"params":[1]})", R"({"params":{"seed":-1}})",
        R"({"params":{"seed":1.5}})"}) {
    auto r = Post("/api/v1/tenants/acme/training-runs", engineer_, json::parse(bad));
    EXPECT_EQ(r.status, 400u) << bad << ": " << r.text;
    EXPECT_FALSE(ErrorField(r).empty()) << bad;
  }
  for (const char* bad : {R"({"target":"wear","features":["zz"],"rows":[[1]]})",
                          R"({"target":"wear","features":["a"],"rows":[[true]]})",
                          R"({"asset_id":7})", R"({"asset_ids":"x"})", R"({"as_of":"soon"})"}) {
    auto r = Post("/api/v1/tenants/acme/predict", viewer_, json::parse(bad));
    EXPECT_EQ(r.status, 400u) << bad << ": " << r.text;
  }
  EXPECT_EQ(Get("/api/v1/tenants/acme/models/mdl_nope", viewer_).status, 404u);
  EXPECT_EQ(Get("/api/v1/tenants/acme/training-runs/run_nope", viewer_).status, 404u);
  EXPECT_EQ(
      Post("/api/v1/tenants/acme/models/rollback", engineer_, json::object{{"target", "wear"}})
          .status,
      409u);
  EXPECT_EQ(Post("/api/v1/tenants/acme/models/rollback", engineer_, json::object{}).status, 400u);
  EXPECT_EQ(Get("/api/v1/tenants/acme/models", viewer_).body.at("items").as_array().size(), 1u);
}

}  // namespace
}  // namespace foresight::http
