// Private to http/: the route table, the per-request context, and the shared state of the REST
// API (record caches, rate limits, request metrics).
//
// One table (routes.cc) both dispatches requests and generates /openapi.json, and the dispatcher
// does every check a route needs before its handler runs: credential (401), the token's tenant
// against the path's (403, before storage is touched), role (403), rate limit (429), body limit
// (413, from the headers). Handlers validate their own input (400 naming the field).
#pragma once

#include "http/handlers.h"
#include "http/http.h"
#include "storage/json.h"
#include "storage/sync.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>

#include <atomic>
#include <charconv>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::http {

namespace json = boost::json;

std::string_view Header(const Request& req, bhttp::field field);
// The token of `Authorization: Token <t>` or `Authorization: Bearer <t>`, or empty.
std::string_view SchemeToken(std::string_view authorization);

struct Query {
  std::optional<boost::urls::url_view> url;
  // The target with the characters clients send unescaped ("match[]=", "{job=\"x\"}")
  // percent-encoded, when it took that to parse; `url` points into it.
  std::shared_ptr<const std::string> repaired;
  bool Has(std::string_view key) const;
  std::string Get(std::string_view key) const;
};
Query ParseQuery(const Request& req);
// The credential of an Influx client: `Authorization: Token|Bearer <t>`, the password of Basic
// auth, or the `p` parameter of 1.x.
std::string InfluxCredential(const Request& req, const Query& query);

// Who may call a route. kWrite admits write tokens and engineers; the rest are ordered.
// kOperator: the appliance's operator (backups and other instance-wide work), who holds the
// token of ServerOptions::operator_token rather than a tenant's credentials.
enum class Access : uint8_t { kPublic, kSelf, kWrite, kRead, kEngineer, kAdmin, kOperator };
std::string_view AccessName(Access access);

// A request error in the one shape every route answers: {"error":{"code","message"[,"field"]}}.
struct ApiError {
  bhttp::status status;
  std::string code;
  std::string message;
  std::string field;
};
ApiError BadField(std::string_view field, std::string message);
ApiError NotFound(std::string message);
ApiError Conflict(std::string message);
// A storage or auth status as an API error; InvalidArgument names `field` when one is given.
// A module's InvalidArgument "<field>: <why>" (query's rule and settings checks) as a 400
// naming the field; any other Status as FromStatus.
ApiError FieldError(const Status& s);
ApiError FromStatus(const Status& s, std::string_view field = {});

class Api;

// The WebSocket sessions a server must close when it stops (after its pool has joined).
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void CloseNow() = 0;
};
class ConnectionSet {
 public:
  void Add(Closable* c);
  void Remove(Closable* c);
  void CloseAll();

 private:
  Mutex mu_;
  std::set<Closable*> set_ FORESIGHT_GUARDED_BY(mu_);
};

// Takes over a connection whose request `req` asked to upgrade to WebSocket on /ws (http/hub.cc).
// Without a hub it answers 503.
void ServeWebSocket(boost::asio::ip::tcp::socket socket, Request req, const Services& services,
                    ConnectionSet* connections);

struct Ctx {
  Ctx(const Request& r, const Services& s, Api& a, std::string id)
      : req(r), services(s), api(a), query(ParseQuery(r)), request_id(std::move(id)) {}

  const Request& req;
  const Services& services;
  Api& api;
  Query query;
  Principal principal;              // routes other than kPublic and kSelf
  storage::TenantId tenant = 0;     // routes under /api/v1/tenants/{tenant}
  std::vector<std::string> params;  // path parameters in pattern order, {tenant} included
  std::string request_id;
  std::string peer;  // the client's address

  const std::string& Param(size_t i) const { return params[i]; }
  std::string Actor() const { return principal.subject; }
  int64_t NowNs() const { return services.storage->clock().NowNs(); }
};

// A handler answers the request or returns an error to be rendered in the API's shape.
using Handler = std::function<Response(Ctx&)>;

struct QueryParam {
  std::string_view name;
  std::string_view type;  // "string", "integer", "number", "boolean"
  std::string_view description;
};

struct Route {
  bhttp::verb method;
  std::string_view pattern;  // "/api/v1/tenants/{tenant}/assets/{id}"
  Access access;
  Handler handler;
  std::string_view summary;
  std::string_view tag;
  std::vector<QueryParam> query = {};
  std::string_view request_schema = {};   // a components/schemas name, or empty
  std::string_view response_schema = {};  // likewise
  bhttp::status success = bhttp::status::ok;
  size_t body_limit = kDefaultBodyLimit;
  std::string_view request_type = "application/json";
};

const std::vector<Route>& RouteTable();
// A request's place in the table, found once from its header and used for both the body limit
// and the dispatch.
struct RouteMatch {
  const Route* route = nullptr;
  bool path_known = false;          // some route has this path (405 rather than 404)
  std::vector<std::string> params;  // path parameters in pattern order, {tenant} included
};
RouteMatch MatchRoute(bhttp::verb method, std::string_view target);
// The largest body the matched route accepts.
size_t BodyLimit(const RouteMatch& match, const Services& services);
// Dispatches one request through the table: checks, handler, audit, metrics.
// A GET or HEAD of the embedded dashboard (http/static.cc): "/" or one of its built files, with
// its caching and security headers; nullopt for any other path.
std::optional<Response> ServeWebFile(const Request& req, std::string_view path);

// `peer` is the client's address (sign-in lockouts count per address).
Response Dispatch(const Request& req, RouteMatch match, const Services& services, Api& api,
                  const std::string& request_id, std::string_view peer);
std::string OpenApiJson();

// Rendering.
Response Json(const Ctx& ctx, const json::value& body, bhttp::status status = bhttp::status::ok);
Response Error(const Ctx& ctx, const ApiError& error);
Response NoContent(const Ctx& ctx);
// A whole (unpaged) list: {"items": [...], "total": n}.
Response Items(const Ctx& ctx, json::array items);
Response Csv(const Ctx& ctx, std::string body, std::string_view filename);

// The project's one JSON writer and parser (storage/json.h).
using storage::JsonText;

// The request body as a JSON object (storage::ParseJson), or a 400.
Result<json::object> BodyObject(const Ctx& ctx, ApiError* error);

// Documents of one (tenant, kind) in memory, written through to storage records. Reads take a
// shared lock; writes hold the exclusive lock across the storage write, so memory and storage
// change in the same order.
class Collection {
 public:
  Collection(storage::Storage* storage, storage::TenantId tenant, std::string kind);
  Status Load();
  std::optional<json::object> Get(std::string_view id) const;
  // Calls `fn` once with every document in id order, all under the shared lock: filter, sort and
  // copy out what is needed inside; the pointers die when it returns.
  void Read(const std::function<void(std::span<const json::object* const>)>& fn) const;
  size_t size() const;
  Status Put(const std::string& id, const json::object& doc);
  Status PutMany(const std::vector<std::pair<std::string, json::object>>& docs);
  Status Erase(const std::string& id);

 private:
  storage::Storage* const storage_;
  const storage::TenantId tenant_;
  const std::string kind_;
  mutable SharedMutex mu_;
  std::map<std::string, json::object, std::less<>> docs_ FORESIGHT_GUARDED_BY(mu_);
};

struct ApiOptions {
  double rate_limit_per_s = 1000;  // per tenant; 0 = unlimited
  double rate_limit_burst = 2000;
  std::vector<std::string> cors_origins;  // ServerOptions::cors_origins
  std::string operator_token;             // ServerOptions::operator_token
};

// Request counts and latency histograms by route, method and status.
class RequestMetrics {
 public:
  static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};
  void Observe(std::string_view route, std::string_view method, unsigned status, double seconds);
  void Render(std::string* out) const;

 private:
  struct Histogram {
    uint64_t buckets[std::size(kBuckets)] = {};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable Mutex mu_;
  std::map<std::tuple<std::string, std::string, unsigned>, Histogram> by_key_
      FORESIGHT_GUARDED_BY(mu_);
};

class Api {
 public:
  Api(storage::Storage* storage, const ApiOptions& options);
  // The documents of one kind of a tenant, loaded on first use (assets are not documents: they
  // live in storage's asset catalog).
  Result<std::shared_ptr<Collection>> Docs(storage::TenantId tenant, std::string_view kind);
  // Takes one request from the tenant's bucket; the seconds to wait when empty.
  std::optional<double> Throttle(storage::TenantId tenant);
  // Sign-in attempts, appliance-wide: each costs an Argon2id verification (64 MiB, tens of ms)
  // and holds a pool thread, so a flood must meet 429s before it meets the pool.
  static constexpr double kSignInsPerSecond = 20;
  static constexpr double kSignInBurst = 40;
  std::optional<double> ThrottleSignIn();
  // Whether a page of `origin` may call the API (ServerOptions::cors_origins).
  bool CorsAllowed(std::string_view origin) const;
  bool CorsEnabled() const { return !options_.cors_origins.empty(); }
  // Whether the operator routes are on (an operator token is configured), and whether
  // `credential` is that token (compared in constant time).
  bool OperatorEnabled() const { return !options_.operator_token.empty(); }
  bool IsOperator(std::string_view credential) const;
  Status Audit(const Ctx& ctx, unsigned status);
  // A new id ordered by creation time: prefix + 16 hex digits of ns + 4 of a counter.
  std::string NewId(std::string_view prefix);
  // The series of each asset (by the ingest asset tag): one shared, read-only snapshot, rebuilt
  // only when the catalog has grown since.
  using SeriesIndex = std::map<std::string, std::vector<storage::SeriesInfo>, std::less<>>;
  std::shared_ptr<const SeriesIndex> SeriesByAsset(storage::TenantId tenant,
                                                   std::string_view asset_tag);
  RequestMetrics& metrics() { return metrics_; }
  const RequestMetrics& metrics() const { return metrics_; }

 private:
  std::optional<double> Take(storage::TenantId key, double rate, double burst);

  storage::Storage* const storage_;
  const ApiOptions options_;
  Mutex mu_;
  std::map<std::pair<storage::TenantId, std::string>, std::shared_ptr<Collection>> docs_
      FORESIGHT_GUARDED_BY(mu_);
  struct Bucket {
    double tokens;
    int64_t last_ns;
  };
  std::map<storage::TenantId, Bucket> buckets_ FORESIGHT_GUARDED_BY(mu_);
  std::atomic<uint64_t> id_counter_{0};
  struct StampedIndex {
    uint64_t stamp = 0;  // storage's series count when built
    std::shared_ptr<const SeriesIndex> index;
  };
  std::map<storage::TenantId, StampedIndex> series_ FORESIGHT_GUARDED_BY(mu_);
  RequestMetrics metrics_;
};

// Route handlers by resource (assets.cc, records.cc, reports.cc, admin.cc).
Response ListAssets(Ctx& ctx);
Response CreateAsset(Ctx& ctx);
Response GetAssetRoute(Ctx& ctx);
Response UpdateAsset(Ctx& ctx);
Response DeleteAssetRoute(Ctx& ctx);
Response AssetReadings(Ctx& ctx);
Response LatestReadings(Ctx& ctx);
Response AssetWindows(Ctx& ctx);
Response AssetChart(Ctx& ctx);

Response ListMaintenance(Ctx& ctx);
Response CreateMaintenance(Ctx& ctx);
Response GetMaintenance(Ctx& ctx);
Response UpdateMaintenance(Ctx& ctx);
Response DeleteMaintenance(Ctx& ctx);
Response ImportMaintenance(Ctx& ctx);

Response ListRules(Ctx& ctx);
Response CreateRule(Ctx& ctx);
Response GetRule(Ctx& ctx);
Response UpdateRule(Ctx& ctx);
Response DeleteRule(Ctx& ctx);

// A successful change's answer once `install` (handing the stored documents to the engine that
// runs them) succeeded too; a 500 otherwise.
Response AfterChange(Ctx& ctx, Response res, const std::function<Status()>& install);

Response ListWebhooks(Ctx& ctx);
Response CreateWebhook(Ctx& ctx);
Response GetWebhook(Ctx& ctx);
Response UpdateWebhook(Ctx& ctx);
Response DeleteWebhook(Ctx& ctx);

Response ListAlerts(Ctx& ctx);
Response CreateAlert(Ctx& ctx);
Response GetAlert(Ctx& ctx);
Response UpdateAlert(Ctx& ctx);

// The read APIs of the tools people already run (/query, the Prometheus API).
// Their parameters: a POST's form body (application/x-www-form-urlencoded) first, then the URL's.
class ReadParams {
 public:
  explicit ReadParams(const Ctx& ctx);
  bool ok() const { return ok_; }  // false: the form body is malformed
  std::string Get(std::string_view key) const;
  std::vector<std::string> All(std::string_view key) const;  // match[]=…&match[]=…
  const Query& credentials() const { return form_.Has("p") ? form_ : url_; }

 private:
  std::string body_;
  Query form_, url_;
  bool ok_ = true;
};
// Their caller: a viewer's (or better) credential, sent as Influx and Prometheus clients send
// it (InfluxCredential). On failure `refusal` holds the status to answer: 401 without a valid
// credential, 403 for a write token, 429 past the tenant's rate limit.
Result<Principal> AuthenticateReader(Ctx& ctx, const ReadParams& params, bhttp::status* refusal);

// GET|POST /query (http/influxql.cc).
Response InfluxQuery(Ctx& ctx);
// The Prometheus HTTP API (http/prometheus.cc).
Response PromQuery(Ctx& ctx);
Response PromQueryRange(Ctx& ctx);
Response PromSeries(Ctx& ctx);
Response PromLabels(Ctx& ctx);
Response PromLabelValues(Ctx& ctx);
Response PromMetadata(Ctx& ctx);
Response PromBuildInfo(Ctx& ctx);

Response FleetSummary(Ctx& ctx);
Response Trends(Ctx& ctx);
Response FleetHistory(Ctx& ctx);
Response CostAvoidance(Ctx& ctx);
Response AssetReport(Ctx& ctx);
Response GetSettings(Ctx& ctx);
Response PutSettings(Ctx& ctx);

Response Predict(Ctx& ctx);
Response LatestPredictionsRoute(Ctx& ctx);
// The kept latest prediction per asset id (none without an ML engine); the asset list's summary
// of one: fails_7d, fails_30d, rul_days, risk, health, scored_at.
Result<std::map<std::string, ml::Prediction, std::less<>>> LatestPredictionsByAsset(const Ctx& ctx);
json::object PredictionSummaryJson(const ml::Prediction& p);
Response PredictionHistory(Ctx& ctx);
Response ListModels(Ctx& ctx);
Response GetModel(Ctx& ctx);
Response PromoteModel(Ctx& ctx);
Response RollbackModel(Ctx& ctx);
Response StartTraining(Ctx& ctx);
Response ListTrainingRuns(Ctx& ctx);
Response GetTrainingRun(Ctx& ctx);

Response IssueTokenRoute(Ctx& ctx);
Response LoginRoute(Ctx& ctx);
Response RefreshRoute(Ctx& ctx);
Response LogoutRoute(Ctx& ctx);
Response SessionRoute(Ctx& ctx);
Response ListUsersRoute(Ctx& ctx);
Response CreateUserRoute(Ctx& ctx);
Response GetUserRoute(Ctx& ctx);
Response UpdateUserRoute(Ctx& ctx);
Response DeleteUserRoute(Ctx& ctx);
Response GetTenant(Ctx& ctx);
Response ListClientsRoute(Ctx& ctx);
Response CreateClientRoute(Ctx& ctx);
Response DeleteClientRoute(Ctx& ctx);
Response ListTokensRoute(Ctx& ctx);
Response CreateTokenRoute(Ctx& ctx);
Response RevokeTokenRoute(Ctx& ctx);
Response ListAudit(Ctx& ctx);
Response ListBackupsRoute(Ctx& ctx);
Response TakeBackupRoute(Ctx& ctx);

// Shared by resources. Open alerts per asset and the alert-based health are query's
// (query::OpenAlertsByAsset, query::HealthScore); these read them for a request.
using query::AlertCounts;
using query::CountsFor;
using query::HealthScore;
Result<query::AlertCountsByAsset> OpenAlertsByAsset(const Ctx& ctx);
// Alerts (kept by query::Alerts) as the API shows them; every alert of the tenant, rendered.
json::object AlertJson(const query::Alert& alert);
// {"5m": {from, count, mean, min, max, stddev}, "1h": ..., "24h": ...}
json::object WindowsJson(const query::SeriesWindows& windows);
Result<std::vector<json::object>> AlertDocs(const Ctx& ctx);
json::object AssetJson(const storage::Asset& asset, const AlertCounts& alerts);
// {"raw", "minute", "hour", "day"}, each a period ("90d") or "forever"; in what is set for a
// tenant, null follows the server's default.
json::object RetentionJson(const storage::Retention& retention, bool applied);

// One asset's series in an index (empty when it has none).
std::span<const storage::SeriesInfo> AssetSeries(const Api::SeriesIndex& index,
                                                 std::string_view asset);
// The tag that names a point's asset (the ingest setting; "asset_id" without an ingestor).
std::string_view AssetTag(const Services& services);
// An asset attribute's value, or `fallback`.
std::string_view AssetAttr(const storage::Asset& asset, std::string_view key,
                           std::string_view fallback);
// "a, b, c": the allowed values in a 400 message.
std::string Join(std::span<const std::string_view> options);

// Timestamps in the API are RFC 3339 (UTC, "Z"; storage::FormatRfc3339) out; in, RFC 3339, a
// date alone (its midnight, UTC) or epoch milliseconds.
std::optional<int64_t> ParseTime(std::string_view text);
std::optional<int64_t> ParseTimeValue(const json::value& v);

// Pagination shared by every list: limit (1..1000, default 100) and offset.
struct Page {
  size_t limit = 100;
  size_t offset = 0;
};
std::optional<ApiError> ParsePage(const Ctx& ctx, Page* page);
json::object PageJson(json::array items, size_t total, const Page& page);

// format=csv on a list: every row that passes the filters, not a page (the export), as CSV with
// these columns (absent fields empty, objects and arrays as JSON). ParsePage then leaves the page
// unlimited; a format other than json or csv is a 400.
std::optional<ApiError> ParseListFormat(const Ctx& ctx, Page* page, bool* csv);
Response RowsCsv(const Ctx& ctx, const json::array& rows, std::span<const std::string_view> columns,
                 std::string_view filename);

}  // namespace foresight::http
