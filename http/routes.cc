// The route table: what the server dispatches and what /openapi.json describes, one list.
#include "http/api.h"
#include "storage/log.h"

#include <chrono>
#include <cmath>

namespace foresight::http {
namespace {

using bhttp::verb;

constexpr std::string_view kTenantPrefix = "/api/v1/tenants/{tenant}";

Response Health(Ctx& ctx) { return Json(ctx, {{"status", "ok"}}); }

// A plain GET of /ws: the WebSocket upgrade itself never reaches the route table.
Response WebSocketOnly(Ctx& ctx) {
  Response res =
      Error(ctx, ApiError{bhttp::status::upgrade_required,
                          "upgrade_required",
                          "/ws is a WebSocket endpoint (Connection: Upgrade, Upgrade: websocket)",
                          {}});
  res.set(bhttp::field::upgrade, "websocket");
  return res;
}

Response Ready(Ctx& ctx) {
  if (!ctx.services.storage->Health().ok()) {
    return Error(ctx, {bhttp::status::service_unavailable,
                       "storage_unavailable",
                       "storage refuses writes after an error",
                       {}});
  }
  return Json(ctx, {{"status", "ready"}});
}

Response Metrics(Ctx& ctx) { return HandleMetrics(ctx.req, ctx.services, ctx.api); }
Response Ping(Ctx& ctx) { return HandlePing(ctx.req); }
Response WriteV1(Ctx& ctx) { return HandleInfluxWrite(ctx.req, ctx.services, InfluxApi::kV1); }
Response WriteV2(Ctx& ctx) { return HandleInfluxWrite(ctx.req, ctx.services, InfluxApi::kV2); }
Response Readings(Ctx& ctx) { return HandleReadings(ctx.req, ctx.services, ctx.tenant); }
Response OpenApi(Ctx& ctx) {
  static const std::string doc = OpenApiJson();
  return MakeResponse(ctx.req, bhttp::status::ok, doc);
}

std::vector<Route> BuildTable() {
  const std::vector<QueryParam> page = {{"limit", "integer", "Items per page, 1..1000 (100)"},
                                        {"offset", "integer", "Items to skip (0)"}};
  auto with_page = [&](std::vector<QueryParam> extra) {
    extra.insert(extra.end(), page.begin(), page.end());
    return extra;
  };
  const QueryParam csv = {"format", "string", "json (default) or csv"};
  std::vector<Route> t = {
      {verb::get, "/health", Access::kPublic, Health, "Liveness", "operations"},
      {verb::get, "/ready", Access::kPublic, Ready, "Storage open and writable", "operations"},
      {verb::get, "/metrics", Access::kPublic, Metrics, "Prometheus metrics", "operations"},
      {verb::get, "/openapi.json", Access::kPublic, OpenApi, "This document", "operations"},
      {verb::get,
       "/ws",
       Access::kPublic,
       WebSocketOnly,
       "Live feed over WebSocket (readings, windows, alerts, health; JWT in the token query "
       "parameter or a first auth message; see http/README.md)",
       "live",
       {{"token", "string", "a JWT, or send {\"type\":\"auth\"} first"}}},
      {verb::get,
       "/ping",
       Access::kPublic,
       Ping,
       "InfluxDB ping",
       "influxdb",
       {},
       {},
       {},
       bhttp::status::no_content},
      {verb::head,
       "/ping",
       Access::kPublic,
       Ping,
       "InfluxDB ping",
       "influxdb",
       {},
       {},
       {},
       bhttp::status::no_content},
      {verb::post,
       "/write",
       Access::kSelf,
       WriteV1,
       "InfluxDB 1.x write (line protocol)",
       "influxdb",
       {{"db", "string", "Ignored; the credential decides the tenant"},
        {"precision", "string", "ns, us, ms, s, m or h"},
        {"u", "string", "User (ignored)"},
        {"p", "string", "Write token"}},
       {},
       {},
       bhttp::status::no_content,
       0,
       "text/plain"},
      {verb::post,
       "/api/v2/write",
       Access::kSelf,
       WriteV2,
       "InfluxDB 2.x write (line protocol)",
       "influxdb",
       {{"org", "string", "Ignored"},
        {"bucket", "string", "Ignored"},
        {"precision", "string", "ns, us, ms or s"}},
       {},
       {},
       bhttp::status::no_content,
       0,
       "text/plain"},
      {verb::post,
       "/auth/token",
       Access::kSelf,
       IssueTokenRoute,
       "Exchange client credentials for a JWT",
       "auth",
       {},
       "TokenRequest",
       "TokenResponse"},

      {verb::get,
       "/api/v1/tenants/{tenant}",
       Access::kRead,
       GetTenant,
       "The tenant",
       "tenants",
       {},
       {},
       "Tenant"},
      {verb::post,
       "/api/v1/tenants/{tenant}/readings",
       Access::kWrite,
       Readings,
       "Write JSON readings",
       "readings",
       {{"precision", "string", "Numeric timestamps' unit (ms)"}},
       "Readings",
       "WriteResult",
       bhttp::status::ok,
       0},
      {verb::get,
       "/api/v1/tenants/{tenant}/readings/latest",
       Access::kRead,
       LatestReadings,
       "Latest value per asset and metric",
       "readings",
       {{"asset_id", "string", "Only this asset"}, {"metric", "string", "Only this metric"}}},

      {verb::get,
       "/api/v1/tenants/{tenant}/assets",
       Access::kRead,
       ListAssets,
       "List assets",
       "assets",
       with_page(
           {{"status", "string", "Filter"},
            {"asset_type", "string", "Filter"},
            {"criticality", "string", "Filter"},
            {"site", "string", "Filter"},
            {"q", "string", "Text search in id and name"},
            {"sort", "string", "id, name, criticality, health, created_at; '-' for descending"}}),
       {},
       "AssetPage"},
      {verb::post,
       "/api/v1/tenants/{tenant}/assets",
       Access::kEngineer,
       CreateAsset,
       "Create an asset",
       "assets",
       {},
       "Asset",
       "Asset",
       bhttp::status::created},
      {verb::get,
       "/api/v1/tenants/{tenant}/assets/{asset_id}",
       Access::kRead,
       GetAssetRoute,
       "An asset with its open alerts and health",
       "assets",
       {},
       {},
       "Asset"},
      {verb::patch,
       "/api/v1/tenants/{tenant}/assets/{asset_id}",
       Access::kEngineer,
       UpdateAsset,
       "Update an asset's fields",
       "assets",
       {},
       "Asset",
       "Asset"},
      {verb::delete_,
       "/api/v1/tenants/{tenant}/assets/{asset_id}",
       Access::kAdmin,
       DeleteAssetRoute,
       "Delete an asset (its readings stay)",
       "assets",
       {},
       {},
       {},
       bhttp::status::no_content},
      {verb::get,
       "/api/v1/tenants/{tenant}/assets/{asset_id}/readings",
       Access::kRead,
       AssetReadings,
       "Readings of one metric: raw, or downsampled with step and aggregate",
       "readings",
       {{"metric", "string", "Field name, or measurement.field (required)"},
        {"from", "string", "RFC 3339 or epoch ms (default: 24 h ago)"},
        {"to", "string", "RFC 3339 or epoch ms (default: now)"},
        {"step", "string", "Bucket width: 60s, 5m, 1h, 1d ... (omit for raw points)"},
        {"aggregate", "string", "mean, min, max, sum, count, first, last, stddev (mean)"},
        {"limit", "integer", "Most raw points returned (10000, at most 100000)"}},
       {},
       "Readings"},

      {verb::get,
       "/api/v1/tenants/{tenant}/maintenance",
       Access::kRead,
       ListMaintenance,
       "List maintenance records",
       "maintenance",
       with_page({{"asset_id", "string", "Filter"},
                  {"kind", "string", "preventive, corrective, inspection, failure"},
                  {"from", "string", "performed_at at or after"},
                  {"to", "string", "performed_at before"},
                  {"sort", "string", "performed_at (default -performed_at), cost, id"}}),
       {},
       "MaintenancePage"},
      {verb::post,
       "/api/v1/tenants/{tenant}/maintenance",
       Access::kEngineer,
       CreateMaintenance,
       "Create a maintenance record",
       "maintenance",
       {},
       "Maintenance",
       "Maintenance",
       bhttp::status::created},
      {verb::post,
       "/api/v1/tenants/{tenant}/maintenance/import",
       Access::kEngineer,
       ImportMaintenance,
       "Import work orders from CSV (SAP PM, Maximo or native columns)",
       "maintenance",
       {},
       {},
       "ImportResult",
       bhttp::status::ok,
       32u << 20,
       "text/csv"},
      {verb::get,
       "/api/v1/tenants/{tenant}/maintenance/{record_id}",
       Access::kRead,
       GetMaintenance,
       "A maintenance record",
       "maintenance",
       {},
       {},
       "Maintenance"},
      {verb::patch,
       "/api/v1/tenants/{tenant}/maintenance/{record_id}",
       Access::kEngineer,
       UpdateMaintenance,
       "Update a maintenance record",
       "maintenance",
       {},
       "Maintenance",
       "Maintenance"},
      {verb::delete_,
       "/api/v1/tenants/{tenant}/maintenance/{record_id}",
       Access::kEngineer,
       DeleteMaintenance,
       "Delete a maintenance record",
       "maintenance",
       {},
       {},
       {},
       bhttp::status::no_content},

      {verb::get,
       "/api/v1/tenants/{tenant}/rules",
       Access::kRead,
       ListRules,
       "List rules",
       "rules",
       with_page({{"enabled", "boolean", "Filter"},
                  {"severity", "string", "Filter"},
                  {"metric", "string", "Filter"},
                  {"include_deleted", "boolean", "Include soft-deleted rules"}}),
       {},
       "RulePage"},
      {verb::post,
       "/api/v1/tenants/{tenant}/rules",
       Access::kEngineer,
       CreateRule,
       "Create a rule",
       "rules",
       {},
       "Rule",
       "Rule",
       bhttp::status::created},
      {verb::get,
       "/api/v1/tenants/{tenant}/rules/{rule_id}",
       Access::kRead,
       GetRule,
       "A rule",
       "rules",
       {},
       {},
       "Rule"},
      {verb::patch,
       "/api/v1/tenants/{tenant}/rules/{rule_id}",
       Access::kEngineer,
       UpdateRule,
       "Update a rule",
       "rules",
       {},
       "Rule",
       "Rule"},
      {verb::delete_,
       "/api/v1/tenants/{tenant}/rules/{rule_id}",
       Access::kEngineer,
       DeleteRule,
       "Soft-delete a rule",
       "rules",
       {},
       {},
       {},
       bhttp::status::no_content},

      {verb::get,
       "/api/v1/tenants/{tenant}/webhooks",
       Access::kAdmin,
       ListWebhooks,
       "List alert webhooks with their delivery status",
       "webhooks",
       with_page({}),
       {},
       "WebhookPage"},
      {verb::post,
       "/api/v1/tenants/{tenant}/webhooks",
       Access::kAdmin,
       CreateWebhook,
       "Create an alert webhook (json signed with HMAC-SHA256, or slack)",
       "webhooks",
       {},
       "Webhook",
       "Webhook",
       bhttp::status::created},
      {verb::get,
       "/api/v1/tenants/{tenant}/webhooks/{webhook_id}",
       Access::kAdmin,
       GetWebhook,
       "A webhook and its delivery status",
       "webhooks",
       {},
       {},
       "Webhook"},
      {verb::patch,
       "/api/v1/tenants/{tenant}/webhooks/{webhook_id}",
       Access::kAdmin,
       UpdateWebhook,
       "Update a webhook",
       "webhooks",
       {},
       "Webhook",
       "Webhook"},
      {verb::delete_,
       "/api/v1/tenants/{tenant}/webhooks/{webhook_id}",
       Access::kAdmin,
       DeleteWebhook,
       "Delete a webhook",
       "webhooks",
       {},
       {},
       {},
       bhttp::status::no_content},

      {verb::get,
       "/api/v1/tenants/{tenant}/alerts",
       Access::kRead,
       ListAlerts,
       "List alerts",
       "alerts",
       with_page({{"status", "string", "open, acknowledged, resolved"},
                  {"severity", "string", "info, warning, critical"},
                  {"asset_id", "string", "Filter"},
                  {"rule_id", "string", "Filter"},
                  {"from", "string", "opened at or after"},
                  {"to", "string", "opened before"}}),
       {},
       "AlertPage"},
      {verb::post,
       "/api/v1/tenants/{tenant}/alerts",
       Access::kEngineer,
       CreateAlert,
       "Raise an alert by hand",
       "alerts",
       {},
       "Alert",
       "Alert",
       bhttp::status::created},
      {verb::get,
       "/api/v1/tenants/{tenant}/alerts/{alert_id}",
       Access::kRead,
       GetAlert,
       "An alert with its history",
       "alerts",
       {},
       {},
       "Alert"},
      {verb::patch,
       "/api/v1/tenants/{tenant}/alerts/{alert_id}",
       Access::kEngineer,
       UpdateAlert,
       "Acknowledge or resolve an alert",
       "alerts",
       {},
       "AlertUpdate",
       "Alert"},

      {verb::get,
       "/api/v1/tenants/{tenant}/reports/fleet",
       Access::kRead,
       FleetSummary,
       "Fleet summary",
       "reports",
       {csv},
       {},
       "FleetSummary"},
      {verb::get,
       "/api/v1/tenants/{tenant}/reports/trends",
       Access::kRead,
       Trends,
       "A metric's daily trend for an asset or the fleet",
       "reports",
       {{"metric", "string", "Field name (required)"},
        {"asset_id", "string", "One asset (default: the fleet)"},
        {"days", "integer", "Days back, 1..3650 (30)"},
        csv},
       {},
       "Trend"},
      {verb::get,
       "/api/v1/tenants/{tenant}/reports/cost-avoidance",
       Access::kRead,
       CostAvoidance,
       "Failure costs avoided by acting on alerts",
       "reports",
       {{"days", "integer", "Days back, 1..3650 (365)"}, csv},
       {},
       "CostAvoidance"},
      {verb::get,
       "/api/v1/tenants/{tenant}/reports/assets/{asset_id}",
       Access::kRead,
       AssetReport,
       "Per-asset report",
       "reports",
       {csv},
       {},
       "AssetReport"},

      {verb::post,
       "/api/v1/tenants/{tenant}/predict",
       Access::kRead,
       Predict,
       "Predict failures and remaining life of assets, or score given features",
       "predictions",
       {},
       "PredictRequest",
       "Predictions"},
      {verb::get,
       "/api/v1/tenants/{tenant}/assets/{asset_id}/windows",
       Access::kRead,
       AssetWindows,
       "An asset's rolling windows (5 min, 1 h, 24 h) per metric, kept live by ingest",
       "readings",
       {{"metric", "string", "Only this metric"}},
       {},
       "AssetWindows"},
      {verb::get,
       "/api/v1/tenants/{tenant}/assets/{asset_id}/predictions",
       Access::kRead,
       PredictionHistory,
       "An asset's prediction history, newest first",
       "predictions",
       with_page({{"from", "string", "scored at or after"}, {"to", "string", "scored before"}}),
       {},
       "PredictionHistory"},
      {verb::get,
       "/api/v1/tenants/{tenant}/models",
       Access::kRead,
       ListModels,
       "Models in the registry, newest first",
       "models",
       {{"target", "string", "fails_7d, fails_30d, rul_days or a dataset model's name"}},
       {},
       "ModelList"},
      {verb::post,
       "/api/v1/tenants/{tenant}/models/rollback",
       Access::kEngineer,
       RollbackModel,
       "Restore the champion the current one replaced",
       "models",
       {},
       "RollbackRequest",
       "Model"},
      {verb::get,
       "/api/v1/tenants/{tenant}/models/{model_id}",
       Access::kRead,
       GetModel,
       "A model: parameters, features, metrics, latest drift",
       "models",
       {},
       {},
       "Model"},
      {verb::post,
       "/api/v1/tenants/{tenant}/models/{model_id}/promote",
       Access::kEngineer,
       PromoteModel,
       "Make a model its target's champion",
       "models",
       {},
       {},
       "Model"},
      {verb::post,
       "/api/v1/tenants/{tenant}/training-runs",
       Access::kEngineer,
       StartTraining,
       "Start a training run (fleet targets, or a dataset of given features)",
       "models",
       {},
       "TrainingRequest",
       "TrainingRun",
       bhttp::status::accepted,
       32u << 20},
      {verb::get,
       "/api/v1/tenants/{tenant}/training-runs",
       Access::kRead,
       ListTrainingRuns,
       "Training runs, newest first",
       "models",
       {{"limit", "integer", "1..1000, default 100"}},
       {},
       "TrainingRunList"},
      {verb::get,
       "/api/v1/tenants/{tenant}/training-runs/{run_id}",
       Access::kRead,
       GetTrainingRun,
       "A training run: status, stage, progress, models",
       "models",
       {},
       {},
       "TrainingRun"},
      {verb::get,
       "/api/v1/tenants/{tenant}/settings",
       Access::kRead,
       GetSettings,
       "Tenant settings (cost model)",
       "tenants",
       {},
       {},
       "Settings"},
      {verb::put,
       "/api/v1/tenants/{tenant}/settings",
       Access::kAdmin,
       PutSettings,
       "Replace tenant settings",
       "tenants",
       {},
       "Settings",
       "Settings"},
      {verb::get,
       "/api/v1/tenants/{tenant}/clients",
       Access::kAdmin,
       ListClientsRoute,
       "List client credentials",
       "tenants",
       {},
       {},
       "ClientList"},
      {verb::post,
       "/api/v1/tenants/{tenant}/clients",
       Access::kAdmin,
       CreateClientRoute,
       "Create client credentials (the secret is shown once)",
       "tenants",
       {},
       "ClientInput",
       "NewClient",
       bhttp::status::created},
      {verb::delete_,
       "/api/v1/tenants/{tenant}/clients/{client_id}",
       Access::kAdmin,
       DeleteClientRoute,
       "Delete client credentials",
       "tenants",
       {},
       {},
       {},
       bhttp::status::no_content},
      {verb::get,
       "/api/v1/tenants/{tenant}/tokens",
       Access::kAdmin,
       ListTokensRoute,
       "List write tokens",
       "tenants",
       {},
       {},
       "TokenList"},
      {verb::post,
       "/api/v1/tenants/{tenant}/tokens",
       Access::kAdmin,
       CreateTokenRoute,
       "Create a write-only token for sensors (shown once)",
       "tenants",
       {},
       "TokenInput",
       "NewToken",
       bhttp::status::created},
      {verb::delete_,
       "/api/v1/tenants/{tenant}/tokens/{token_id}",
       Access::kAdmin,
       RevokeTokenRoute,
       "Revoke a write token",
       "tenants",
       {},
       {},
       {},
       bhttp::status::no_content},
      {verb::get,
       "/api/v1/tenants/{tenant}/audit",
       Access::kAdmin,
       ListAudit,
       "Audit log, newest first",
       "tenants",
       {{"limit", "integer", "Entries, 1..1000 (100)"},
        {"before", "string", "Cursor: the id of the last entry of the previous page"}},
       {},
       "AuditPage"},
  };
  return t;
}

// Splits a path into segments; false when a segment is empty (double or trailing slash).
bool Segments(std::string_view path, std::vector<std::string_view>* out) {
  out->clear();
  if (path.empty() || path[0] != '/') return false;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out->push_back(path.substr(0, slash));
    if (out->back().empty()) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

struct CompiledRoute {
  const Route* route;
  std::vector<std::string_view> segments;
};

const std::vector<CompiledRoute>& Compiled() {
  static const std::vector<CompiledRoute> compiled = [] {
    std::vector<CompiledRoute> out;
    for (const Route& r : RouteTable()) {
      CompiledRoute c{&r, {}};
      Segments(r.pattern, &c.segments);
      out.push_back(std::move(c));
    }
    return out;
  }();
  return compiled;
}

std::string Decode(std::string_view segment) {
  std::string out;
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(segment.data() + i + 1, segment.data() + i + 3, v, 16);
      if (ec == std::errc() && p == segment.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(segment[i]);
  }
  return out;
}

bool Allowed(Access access, Role role) {
  switch (access) {
    case Access::kPublic:
    case Access::kSelf:
      return true;
    case Access::kWrite:
      return role == Role::kWriter || role >= Role::kEngineer;
    case Access::kRead:
      return role >= Role::kViewer;
    case Access::kEngineer:
      return role >= Role::kEngineer;
    case Access::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

bool Mutating(verb method) {
  return method == verb::post || method == verb::put || method == verb::patch ||
         method == verb::delete_;
}

Response Answer(Ctx& ctx, const Route& route) {
  if (route.access != Access::kPublic && route.access != Access::kSelf) {
    std::string_view credential = SchemeToken(Header(ctx.req, bhttp::field::authorization));
    Result<Principal> principal = Status::InvalidArgument("no credentials");
    if (!credential.empty()) {
      principal = ctx.services.auth->Authenticate(credential, ctx.NowNs() / storage::kSecondNs);
    }
    if (!principal.ok()) {
      Response res = Error(ctx, {bhttp::status::unauthorized,
                                 "unauthorized",
                                 credential.empty() ? "a bearer token is required"
                                                    : std::string(principal.status().message()),
                                 {}});
      res.set(bhttp::field::www_authenticate, "Bearer");
      return res;
    }
    ctx.principal = std::move(principal).value();
    // The tenant check uses only the token's claims and the path: nothing is read for another
    // tenant before it.
    if (route.pattern.starts_with(kTenantPrefix)) {
      if (ctx.principal.tenant_name != ctx.Param(0)) {
        return Error(ctx, {bhttp::status::forbidden,
                           "forbidden",
                           "the token does not grant access to tenant '" + ctx.Param(0) + "'",
                           {}});
      }
      ctx.tenant = ctx.principal.tenant;
    }
    if (!Allowed(route.access, ctx.principal.role)) {
      return Error(ctx, {bhttp::status::forbidden,
                         "forbidden",
                         "this needs the " + std::string(AccessName(route.access)) +
                             " role; the token has " + std::string(RoleName(ctx.principal.role)),
                         {}});
    }
    if (route.access != Access::kWrite) {
      if (std::optional<double> wait = ctx.api.Throttle(ctx.tenant)) {
        Response res = Error(ctx, {bhttp::status::too_many_requests,
                                   "rate_limited",
                                   "too many requests for this tenant; retry later",
                                   {}});
        res.set(bhttp::field::retry_after, std::to_string(static_cast<int>(std::ceil(*wait))));
        return res;
      }
    }
  }
  Response res = route.handler(ctx);
  unsigned code = res.result_int();
  if (Mutating(route.method) && ctx.tenant != 0 && route.access != Access::kWrite && code >= 200 &&
      code < 300) {
    if (Status s = ctx.api.Audit(ctx, code); !s.ok()) {
      log::Error("request {}: audit record failed: {}", ctx.request_id, s.ToString());
    }
  }
  return res;
}

}  // namespace

const std::vector<Route>& RouteTable() {
  static const std::vector<Route> table = BuildTable();
  return table;
}

RouteMatch MatchRoute(verb method, std::string_view target) {
  RouteMatch m;
  std::vector<std::string_view> segments;
  if (!Segments(target.substr(0, target.find('?')), &segments)) return m;
  for (const CompiledRoute& c : Compiled()) {
    if (c.segments.size() != segments.size()) continue;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      match = c.segments[i].starts_with('{') || c.segments[i] == segments[i];
    }
    if (!match) continue;
    m.path_known = true;
    if (c.route->method != method) continue;
    for (size_t i = 0; i < segments.size(); ++i) {
      if (c.segments[i].starts_with('{')) m.params.push_back(Decode(segments[i]));
    }
    m.route = c.route;
    return m;
  }
  return m;
}

size_t BodyLimit(const RouteMatch& match, const Services& services) {
  if (!match.route) return kDefaultBodyLimit;
  if (match.route->body_limit == 0 && services.ingestor) {
    return services.ingestor->options().limits.max_body_bytes;
  }
  return match.route->body_limit ? match.route->body_limit : kDefaultBodyLimit;
}

Response Dispatch(const Request& req, RouteMatch match, const Services& services, Api& api,
                  const std::string& request_id) {
  auto start = std::chrono::steady_clock::now();
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  Ctx ctx(req, services, api, request_id);
  ctx.params = std::move(match.params);
  const Route* route = match.route;
  Response res;
  if (!route) {
    res = match.path_known
              ? Error(ctx, {bhttp::status::method_not_allowed,
                            "method_not_allowed",
                            "this path does not accept " + std::string(req.method_string()),
                            {}})
              : Error(ctx, NotFound("no such route"));
  } else {
    try {
      res = Answer(ctx, *route);
    } catch (const std::exception& e) {
      log::Error("request {}: {} {}: {}", request_id, std::string(req.method_string()),
                 std::string(target), e.what());
      res = Error(ctx, {bhttp::status::internal_server_error, "internal", "internal error", {}});
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  api.metrics().Observe(route ? route->pattern : "unmatched", req.method_string(), res.result_int(),
                        seconds);
  if (res.result_int() >= 500) {
    log::Error("request {}: {} {} answered {}", request_id, std::string(req.method_string()),
               std::string(path), res.result_int());
  } else {
    log::Debug("request {}: {} {} answered {} in {:.3f} ms", request_id,
               std::string(req.method_string()), std::string(path), res.result_int(),
               seconds * 1e3);
  }
  return res;
}

}  // namespace foresight::http
