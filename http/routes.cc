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
Response RemoteWrite(Ctx& ctx) { return HandleRemoteWrite(ctx.req, ctx.services); }
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
      {.method = verb::get,
       .pattern = "/health",
       .access = Access::kPublic,
       .handler = Health,
       .summary = "Liveness",
       .tag = "operations"},
      {.method = verb::get,
       .pattern = "/ready",
       .access = Access::kPublic,
       .handler = Ready,
       .summary = "Storage open and writable",
       .tag = "operations"},
      {.method = verb::get,
       .pattern = "/metrics",
       .access = Access::kPublic,
       .handler = Metrics,
       .summary = "Prometheus metrics",
       .tag = "operations"},
      {.method = verb::get,
       .pattern = "/openapi.json",
       .access = Access::kPublic,
       .handler = OpenApi,
       .summary = "This document",
       .tag = "operations"},
      {.method = verb::get,
       .pattern = "/ws",
       .access = Access::kPublic,
       .handler = WebSocketOnly,
       .summary =
           "Live feed over WebSocket (readings, windows, alerts, health; JWT in the token query "
           "parameter or a first auth message; see http/README.md)",
       .tag = "live",
       .query = {{"token", "string", "a JWT, or send {\"type\":\"auth\"} first"}}},
      {.method = verb::get,
       .pattern = "/ping",
       .access = Access::kPublic,
       .handler = Ping,
       .summary = "InfluxDB ping",
       .tag = "influxdb",
       .success = bhttp::status::no_content},
      {.method = verb::head,
       .pattern = "/ping",
       .access = Access::kPublic,
       .handler = Ping,
       .summary = "InfluxDB ping",
       .tag = "influxdb",
       .success = bhttp::status::no_content},
      {.method = verb::post,
       .pattern = "/write",
       .access = Access::kSelf,
       .handler = WriteV1,
       .summary = "InfluxDB 1.x write (line protocol)",
       .tag = "influxdb",
       .query = {{"db", "string", "Ignored; the credential decides the tenant"},
                 {"precision", "string", "ns, us, ms, s, m or h"},
                 {"u", "string", "User (ignored)"},
                 {"p", "string", "Write token"}},
       .success = bhttp::status::no_content,
       .body_limit = 0,
       .request_type = "text/plain"},
      {.method = verb::get,
       .pattern = "/query",
       .access = Access::kSelf,
       .handler = InfluxQuery,
       .summary = "InfluxDB 1.x query (InfluxQL)",
       .tag = "influxdb",
       .query = {{"q", "string", "InfluxQL: statements separated by ';'"},
                 {"db", "string", "Ignored; the credential decides the tenant"},
                 {"epoch", "string",
                  "Times as integers in ns, u, ms, s, m or h (default RFC 3339)"},
                 {"chunked", "boolean", "Accepted; the answer is one chunk"},
                 {"u", "string", "User (ignored)"},
                 {"p", "string", "A viewer's (or better) token"}},
       .success = bhttp::status::ok},
      {.method = verb::post,
       .pattern = "/query",
       .access = Access::kSelf,
       .handler = InfluxQuery,
       .summary = "InfluxDB 1.x query (InfluxQL; parameters in the URL or a form body)",
       .tag = "influxdb",
       .query = {{"q", "string", "InfluxQL: statements separated by ';'"},
                 {"db", "string", "Ignored; the credential decides the tenant"},
                 {"epoch", "string",
                  "Times as integers in ns, u, ms, s, m or h (default RFC 3339)"},
                 {"chunked", "boolean", "Accepted; the answer is one chunk"},
                 {"u", "string", "User (ignored)"},
                 {"p", "string", "A viewer's (or better) token"}},
       .success = bhttp::status::ok,
       .request_type = "application/x-www-form-urlencoded"},
      {.method = verb::get,
       .pattern = "/api/v1/query",
       .access = Access::kSelf,
       .handler = PromQuery,
       .summary = "Prometheus instant query",
       .tag = "prometheus",
       .query = {{"query", "string", "PromQL expression"},
                 {"time", "string", "RFC 3339 or Unix seconds (default now)"}},
       .success = bhttp::status::ok},
      {.method = verb::post,
       .pattern = "/api/v1/query",
       .access = Access::kSelf,
       .handler = PromQuery,
       .summary = "Prometheus instant query",
       .tag = "prometheus",
       .query = {{"query", "string", "PromQL expression"},
                 {"time", "string", "RFC 3339 or Unix seconds (default now)"}},
       .success = bhttp::status::ok,
       .request_type = "application/x-www-form-urlencoded"},
      {.method = verb::get,
       .pattern = "/api/v1/query_range",
       .access = Access::kSelf,
       .handler = PromQueryRange,
       .summary = "Prometheus range query",
       .tag = "prometheus",
       .query = {{"query", "string", "PromQL expression"},
                 {"start", "string", "RFC 3339 or Unix seconds"},
                 {"end", "string", "RFC 3339 or Unix seconds"},
                 {"step", "string", "A duration (15s) or seconds"}},
       .success = bhttp::status::ok},
      {.method = verb::post,
       .pattern = "/api/v1/query_range",
       .access = Access::kSelf,
       .handler = PromQueryRange,
       .summary = "Prometheus range query",
       .tag = "prometheus",
       .query = {{"query", "string", "PromQL expression"},
                 {"start", "string", "RFC 3339 or Unix seconds"},
                 {"end", "string", "RFC 3339 or Unix seconds"},
                 {"step", "string", "A duration (15s) or seconds"}},
       .success = bhttp::status::ok,
       .request_type = "application/x-www-form-urlencoded"},
      {.method = verb::get,
       .pattern = "/api/v1/series",
       .access = Access::kSelf,
       .handler = PromSeries,
       .summary = "Prometheus series matching selectors",
       .tag = "prometheus",
       .query = {{"match[]", "string", "Series selector (repeatable)"}},
       .success = bhttp::status::ok},
      {.method = verb::post,
       .pattern = "/api/v1/series",
       .access = Access::kSelf,
       .handler = PromSeries,
       .summary = "Prometheus series matching selectors",
       .tag = "prometheus",
       .query = {{"match[]", "string", "Series selector (repeatable)"}},
       .success = bhttp::status::ok,
       .request_type = "application/x-www-form-urlencoded"},
      {.method = verb::get,
       .pattern = "/api/v1/labels",
       .access = Access::kSelf,
       .handler = PromLabels,
       .summary = "Prometheus label names",
       .tag = "prometheus",
       .query = {{"match[]", "string", "Series selector (repeatable)"}},
       .success = bhttp::status::ok},
      {.method = verb::post,
       .pattern = "/api/v1/labels",
       .access = Access::kSelf,
       .handler = PromLabels,
       .summary = "Prometheus label names",
       .tag = "prometheus",
       .query = {{"match[]", "string", "Series selector (repeatable)"}},
       .success = bhttp::status::ok,
       .request_type = "application/x-www-form-urlencoded"},
      {.method = verb::get,
       .pattern = "/api/v1/label/{name}/values",
       .access = Access::kSelf,
       .handler = PromLabelValues,
       .summary = "Prometheus values of one label",
       .tag = "prometheus",
       .query = {{"match[]", "string", "Series selector (repeatable)"}},
       .success = bhttp::status::ok},
      {.method = verb::get,
       .pattern = "/api/v1/metadata",
       .access = Access::kSelf,
       .handler = PromMetadata,
       .summary = "Prometheus metric metadata",
       .tag = "prometheus",
       .query = {{"metric", "string", "One metric name"}},
       .success = bhttp::status::ok},
      {.method = verb::get,
       .pattern = "/api/v1/status/buildinfo",
       .access = Access::kSelf,
       .handler = PromBuildInfo,
       .summary = "Prometheus build information (what Grafana checks)",
       .tag = "prometheus",
       .query = {},
       .success = bhttp::status::ok},
      {.method = verb::post,
       .pattern = "/api/v1/write",
       .access = Access::kSelf,
       .handler = RemoteWrite,
       .summary = "Prometheus remote write (snappy-compressed protobuf WriteRequest)",
       .tag = "prometheus",
       .success = bhttp::status::no_content,
       .body_limit = 0,
       .request_type = "application/x-protobuf"},
      {.method = verb::post,
       .pattern = "/api/v2/write",
       .access = Access::kSelf,
       .handler = WriteV2,
       .summary = "InfluxDB 2.x write (line protocol)",
       .tag = "influxdb",
       .query = {{"org", "string", "Ignored"},
                 {"bucket", "string", "Ignored"},
                 {"precision", "string", "ns, us, ms or s"}},
       .success = bhttp::status::no_content,
       .body_limit = 0,
       .request_type = "text/plain"},
      {.method = verb::post,
       .pattern = "/auth/token",
       .access = Access::kSelf,
       .handler = IssueTokenRoute,
       .summary = "Exchange client credentials for a JWT",
       .tag = "auth",
       .request_schema = "TokenRequest",
       .response_schema = "TokenResponse"},
      {.method = verb::post,
       .pattern = "/auth/login",
       .access = Access::kSelf,
       .handler = LoginRoute,
       .summary = "Sign a user in: a short-lived JWT, and the session in an HttpOnly cookie",
       .tag = "auth",
       .request_schema = "LoginRequest",
       .response_schema = "SignIn"},
      {.method = verb::post,
       .pattern = "/auth/refresh",
       .access = Access::kSelf,
       .handler = RefreshRoute,
       .summary = "A fresh JWT for the session in the cookie (and the session extended)",
       .tag = "auth",
       .response_schema = "SignIn"},
      {.method = verb::post,
       .pattern = "/auth/logout",
       .access = Access::kSelf,
       .handler = LogoutRoute,
       .summary = "End the session (cookie or JWT): its tokens are refused from now on",
       .tag = "auth",
       .success = bhttp::status::no_content},
      {.method = verb::get,
       .pattern = "/auth/session",
       .access = Access::kRead,
       .handler = SessionRoute,
       .summary = "Who the credential is: tenant, role, user",
       .tag = "auth",
       .response_schema = "Session"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}",
       .access = Access::kRead,
       .handler = GetTenant,
       .summary = "The tenant",
       .tag = "tenants",
       .response_schema = "Tenant"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/readings",
       .access = Access::kWrite,
       .handler = Readings,
       .summary = "Write JSON readings",
       .tag = "readings",
       .query = {{"precision", "string", "Numeric timestamps' unit (ms)"}},
       .request_schema = "Readings",
       .response_schema = "WriteResult",
       .success = bhttp::status::ok,
       .body_limit = 0},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/readings/latest",
       .access = Access::kRead,
       .handler = LatestReadings,
       .summary = "Latest value per asset and metric",
       .tag = "readings",
       .query = {{"asset_id", "string", "Only this asset"},
                 {"metric", "string", "Only this metric"}}},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/assets",
       .access = Access::kRead,
       .handler = ListAssets,
       .summary = "List assets",
       .tag = "assets",
       .query = with_page(
           {{"status", "string", "Filter"},
            {"asset_type", "string", "Filter"},
            {"criticality", "string", "Filter"},
            {"site", "string", "Filter"},
            {"q", "string", "Text search in id and name"},
            {"risk", "string", "The latest prediction's risk: low, medium, high or critical"},
            {"sort", "string",
             "id, name, criticality, health, created_at, risk, fails_30d; '-' for descending"},
            csv}),
       .response_schema = "AssetPage"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/assets",
       .access = Access::kEngineer,
       .handler = CreateAsset,
       .summary = "Create an asset",
       .tag = "assets",
       .request_schema = "Asset",
       .response_schema = "Asset",
       .success = bhttp::status::created},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/assets/{asset_id}",
       .access = Access::kRead,
       .handler = GetAssetRoute,
       .summary = "An asset with its open alerts and health",
       .tag = "assets",
       .response_schema = "Asset"},
      {.method = verb::patch,
       .pattern = "/api/v1/tenants/{tenant}/assets/{asset_id}",
       .access = Access::kEngineer,
       .handler = UpdateAsset,
       .summary = "Update an asset's fields",
       .tag = "assets",
       .request_schema = "Asset",
       .response_schema = "Asset"},
      {.method = verb::delete_,
       .pattern = "/api/v1/tenants/{tenant}/assets/{asset_id}",
       .access = Access::kAdmin,
       .handler = DeleteAssetRoute,
       .summary = "Delete an asset (its readings stay)",
       .tag = "assets",
       .success = bhttp::status::no_content},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/assets/{asset_id}/readings",
       .access = Access::kRead,
       .handler = AssetReadings,
       .summary = "Readings of one metric: raw, or downsampled with step and aggregate",
       .tag = "readings",
       .query = {{"metric", "string", "Field name, or measurement.field (required)"},
                 {"from", "string", "RFC 3339 or epoch ms (default: 24 h ago)"},
                 {"to", "string", "RFC 3339 or epoch ms (default: now)"},
                 {"step", "string", "Bucket width: 60s, 5m, 1h, 1d ... (omit for raw points)"},
                 {"aggregate", "string", "mean, min, max, sum, count, first, last, stddev (mean)"},
                 {"limit", "integer", "Most raw points returned (10000, at most 100000)"}},
       .response_schema = "Readings"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/assets/{asset_id}/chart",
       .access = Access::kRead,
       .handler = AssetChart,
       .summary = "Several metrics of one asset downsampled to about `points` buckets each, "
                  "whatever the range (rollups where the buckets allow)",
       .tag = "readings",
       .query = {{"metrics", "string", "Comma-separated field names (default: every numeric one)"},
                 {"from", "string", "RFC 3339 or epoch ms (default: 24 h ago)"},
                 {"to", "string", "RFC 3339 or epoch ms (default: now)"},
                 {"points", "integer",
                  "Buckets per metric, 10..5000 (600: two per pixel of a "
                  "300-pixel-wide chart)"}},
       .response_schema = "Chart"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/maintenance",
       .access = Access::kRead,
       .handler = ListMaintenance,
       .summary = "List maintenance records",
       .tag = "maintenance",
       .query = with_page({{"asset_id", "string", "Filter"},
                           {"kind", "string", "preventive, corrective, inspection, failure"},
                           {"from", "string", "performed_at at or after"},
                           {"to", "string", "performed_at before"},
                           {"sort", "string", "performed_at (default -performed_at), cost, id"},
                           csv}),
       .response_schema = "MaintenancePage"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/maintenance",
       .access = Access::kEngineer,
       .handler = CreateMaintenance,
       .summary = "Create a maintenance record",
       .tag = "maintenance",
       .request_schema = "Maintenance",
       .response_schema = "Maintenance",
       .success = bhttp::status::created},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/maintenance/import",
       .access = Access::kEngineer,
       .handler = ImportMaintenance,
       .summary = "Import work orders from CSV (SAP PM, Maximo or native columns)",
       .tag = "maintenance",
       .response_schema = "ImportResult",
       .success = bhttp::status::ok,
       .body_limit = 32u << 20,
       .request_type = "text/csv"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/maintenance/{record_id}",
       .access = Access::kRead,
       .handler = GetMaintenance,
       .summary = "A maintenance record",
       .tag = "maintenance",
       .response_schema = "Maintenance"},
      {.method = verb::patch,
       .pattern = "/api/v1/tenants/{tenant}/maintenance/{record_id}",
       .access = Access::kEngineer,
       .handler = UpdateMaintenance,
       .summary = "Update a maintenance record",
       .tag = "maintenance",
       .request_schema = "Maintenance",
       .response_schema = "Maintenance"},
      {.method = verb::delete_,
       .pattern = "/api/v1/tenants/{tenant}/maintenance/{record_id}",
       .access = Access::kEngineer,
       .handler = DeleteMaintenance,
       .summary = "Delete a maintenance record",
       .tag = "maintenance",
       .success = bhttp::status::no_content},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/rules",
       .access = Access::kRead,
       .handler = ListRules,
       .summary = "List rules",
       .tag = "rules",
       .query = with_page({{"enabled", "boolean", "Filter"},
                           {"severity", "string", "Filter"},
                           {"metric", "string", "Filter"},
                           {"include_deleted", "boolean", "Include soft-deleted rules"}}),
       .response_schema = "RulePage"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/rules",
       .access = Access::kEngineer,
       .handler = CreateRule,
       .summary = "Create a rule",
       .tag = "rules",
       .request_schema = "Rule",
       .response_schema = "Rule",
       .success = bhttp::status::created},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/rules/{rule_id}",
       .access = Access::kRead,
       .handler = GetRule,
       .summary = "A rule",
       .tag = "rules",
       .response_schema = "Rule"},
      {.method = verb::patch,
       .pattern = "/api/v1/tenants/{tenant}/rules/{rule_id}",
       .access = Access::kEngineer,
       .handler = UpdateRule,
       .summary = "Update a rule",
       .tag = "rules",
       .request_schema = "Rule",
       .response_schema = "Rule"},
      {.method = verb::delete_,
       .pattern = "/api/v1/tenants/{tenant}/rules/{rule_id}",
       .access = Access::kEngineer,
       .handler = DeleteRule,
       .summary = "Soft-delete a rule",
       .tag = "rules",
       .success = bhttp::status::no_content},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/webhooks",
       .access = Access::kAdmin,
       .handler = ListWebhooks,
       .summary = "List alert webhooks with their delivery status",
       .tag = "webhooks",
       .query = with_page({}),
       .response_schema = "WebhookPage"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/webhooks",
       .access = Access::kAdmin,
       .handler = CreateWebhook,
       .summary = "Create an alert webhook (json signed with HMAC-SHA256, or slack)",
       .tag = "webhooks",
       .request_schema = "Webhook",
       .response_schema = "Webhook",
       .success = bhttp::status::created},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}",
       .access = Access::kAdmin,
       .handler = GetWebhook,
       .summary = "A webhook and its delivery status",
       .tag = "webhooks",
       .response_schema = "Webhook"},
      {.method = verb::patch,
       .pattern = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}",
       .access = Access::kAdmin,
       .handler = UpdateWebhook,
       .summary = "Update a webhook",
       .tag = "webhooks",
       .request_schema = "Webhook",
       .response_schema = "Webhook"},
      {.method = verb::delete_,
       .pattern = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}",
       .access = Access::kAdmin,
       .handler = DeleteWebhook,
       .summary = "Delete a webhook",
       .tag = "webhooks",
       .success = bhttp::status::no_content},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/alerts",
       .access = Access::kRead,
       .handler = ListAlerts,
       .summary = "List alerts",
       .tag = "alerts",
       .query = with_page({{"status", "string", "open, acknowledged, resolved"},
                           {"severity", "string", "info, warning, critical"},
                           {"asset_id", "string", "Filter"},
                           {"rule_id", "string", "Filter"},
                           {"from", "string", "opened at or after"},
                           {"to", "string", "opened before"},
                           csv}),
       .response_schema = "AlertPage"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/alerts",
       .access = Access::kEngineer,
       .handler = CreateAlert,
       .summary = "Raise an alert by hand",
       .tag = "alerts",
       .request_schema = "Alert",
       .response_schema = "Alert",
       .success = bhttp::status::created},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/alerts/{alert_id}",
       .access = Access::kRead,
       .handler = GetAlert,
       .summary = "An alert with its history",
       .tag = "alerts",
       .response_schema = "Alert"},
      {.method = verb::patch,
       .pattern = "/api/v1/tenants/{tenant}/alerts/{alert_id}",
       .access = Access::kEngineer,
       .handler = UpdateAlert,
       .summary = "Acknowledge or resolve an alert",
       .tag = "alerts",
       .request_schema = "AlertUpdate",
       .response_schema = "Alert"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/reports/fleet",
       .access = Access::kRead,
       .handler = FleetSummary,
       .summary = "Fleet summary",
       .tag = "reports",
       .query = {csv},
       .response_schema = "FleetSummary"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/reports/trends",
       .access = Access::kRead,
       .handler = Trends,
       .summary = "A metric's daily trend for an asset, an asset type or the fleet",
       .tag = "reports",
       .query = {{"metric", "string", "Field name (required)"},
                 {"asset_id", "string", "One asset (default: the fleet)"},
                 {"asset_type", "string", "The assets of one type"},
                 {"days", "integer", "Days back, 1..3650 (30)"},
                 csv},
       .response_schema = "Trend"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/reports/history",
       .access = Access::kRead,
       .handler = FleetHistory,
       .summary = "Per day: fleet health and assets at risk as that day's scoring found them, "
                  "alerts opened by severity, failures and maintenance",
       .tag = "reports",
       .query = {{"days", "integer", "Days back, 1..3650 (30)"}, csv},
       .response_schema = "FleetHistory"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/reports/cost-avoidance",
       .access = Access::kRead,
       .handler = CostAvoidance,
       .summary = "Failure costs avoided by acting on alerts",
       .tag = "reports",
       .query = {{"days", "integer", "Days back, 1..3650 (365)"}, csv},
       .response_schema = "CostAvoidance"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/reports/assets/{asset_id}",
       .access = Access::kRead,
       .handler = AssetReport,
       .summary = "Per-asset report",
       .tag = "reports",
       .query = {csv},
       .response_schema = "AssetReport"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/predict",
       .access = Access::kRead,
       .handler = Predict,
       .summary = "Predict failures and remaining life of assets, or score given features",
       .tag = "predictions",
       .request_schema = "PredictRequest",
       .response_schema = "Predictions"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/predictions",
       .access = Access::kRead,
       .handler = LatestPredictionsRoute,
       .summary = "The fleet's kept latest predictions, likeliest failures first (nothing is "
                  "re-scored; POST …/predict scores)",
       .tag = "predictions",
       .query = {{"risk", "string", "low, medium, high or critical"}},
       .response_schema = "PredictionList"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/assets/{asset_id}/windows",
       .access = Access::kRead,
       .handler = AssetWindows,
       .summary = "An asset's rolling windows (5 min, 1 h, 24 h) per metric, kept live by ingest",
       .tag = "readings",
       .query = {{"metric", "string", "Only this metric"}},
       .response_schema = "AssetWindows"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/assets/{asset_id}/predictions",
       .access = Access::kRead,
       .handler = PredictionHistory,
       .summary = "An asset's prediction history, newest first",
       .tag = "predictions",
       .query =
           with_page({{"from", "string", "scored at or after"}, {"to", "string", "scored before"}}),
       .response_schema = "PredictionHistory"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/models",
       .access = Access::kRead,
       .handler = ListModels,
       .summary = "Models in the registry, newest first",
       .tag = "models",
       .query = {{"target", "string", "fails_7d, fails_30d, rul_days or a dataset model's name"}},
       .response_schema = "ModelList"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/models/rollback",
       .access = Access::kEngineer,
       .handler = RollbackModel,
       .summary = "Restore the champion the current one replaced",
       .tag = "models",
       .request_schema = "RollbackRequest",
       .response_schema = "Model"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/models/{model_id}",
       .access = Access::kRead,
       .handler = GetModel,
       .summary = "A model: parameters, features, metrics, latest drift",
       .tag = "models",
       .response_schema = "Model"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/models/{model_id}/promote",
       .access = Access::kEngineer,
       .handler = PromoteModel,
       .summary = "Make a model its target's champion",
       .tag = "models",
       .response_schema = "Model"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/training-runs",
       .access = Access::kEngineer,
       .handler = StartTraining,
       .summary = "Start a training run (fleet targets, or a dataset of given features)",
       .tag = "models",
       .request_schema = "TrainingRequest",
       .response_schema = "TrainingRun",
       .success = bhttp::status::accepted,
       .body_limit = 32u << 20},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/training-runs",
       .access = Access::kRead,
       .handler = ListTrainingRuns,
       .summary = "Training runs, newest first",
       .tag = "models",
       .query = {{"limit", "integer", "1..1000, default 100"}},
       .response_schema = "TrainingRunList"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/training-runs/{run_id}",
       .access = Access::kRead,
       .handler = GetTrainingRun,
       .summary = "A training run: status, stage, progress, models",
       .tag = "models",
       .response_schema = "TrainingRun"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/settings",
       .access = Access::kRead,
       .handler = GetSettings,
       .summary = "Tenant settings (cost model)",
       .tag = "tenants",
       .response_schema = "Settings"},
      {.method = verb::put,
       .pattern = "/api/v1/tenants/{tenant}/settings",
       .access = Access::kAdmin,
       .handler = PutSettings,
       .summary = "Replace tenant settings",
       .tag = "tenants",
       .request_schema = "Settings",
       .response_schema = "Settings"},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/clients",
       .access = Access::kAdmin,
       .handler = ListClientsRoute,
       .summary = "List client credentials",
       .tag = "tenants",
       .response_schema = "ClientList"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/clients",
       .access = Access::kAdmin,
       .handler = CreateClientRoute,
       .summary = "Create client credentials (the secret is shown once)",
       .tag = "tenants",
       .request_schema = "ClientInput",
       .response_schema = "NewClient",
       .success = bhttp::status::created},
      {.method = verb::delete_,
       .pattern = "/api/v1/tenants/{tenant}/clients/{client_id}",
       .access = Access::kAdmin,
       .handler = DeleteClientRoute,
       .summary = "Delete client credentials",
       .tag = "tenants",
       .success = bhttp::status::no_content},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/users",
       .access = Access::kAdmin,
       .handler = ListUsersRoute,
       .summary = "List the people who sign in",
       .tag = "tenants",
       .response_schema = "UserList"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/users",
       .access = Access::kAdmin,
       .handler = CreateUserRoute,
       .summary = "Create a user (without a password, one is made and shown once)",
       .tag = "tenants",
       .request_schema = "UserInput",
       .response_schema = "User",
       .success = bhttp::status::created},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/users/{username}",
       .access = Access::kAdmin,
       .handler = GetUserRoute,
       .summary = "A user",
       .tag = "tenants",
       .response_schema = "User"},
      {.method = verb::patch,
       .pattern = "/api/v1/tenants/{tenant}/users/{username}",
       .access = Access::kAdmin,
       .handler = UpdateUserRoute,
       .summary = "Change a user (a new role or password, or disabling, signs them out)",
       .tag = "tenants",
       .request_schema = "UserInput",
       .response_schema = "User"},
      {.method = verb::delete_,
       .pattern = "/api/v1/tenants/{tenant}/users/{username}",
       .access = Access::kAdmin,
       .handler = DeleteUserRoute,
       .summary = "Delete a user (their sessions end)",
       .tag = "tenants",
       .success = bhttp::status::no_content},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/tokens",
       .access = Access::kAdmin,
       .handler = ListTokensRoute,
       .summary = "List write and read tokens",
       .tag = "tenants",
       .response_schema = "TokenList"},
      {.method = verb::post,
       .pattern = "/api/v1/tenants/{tenant}/tokens",
       .access = Access::kAdmin,
       .handler = CreateTokenRoute,
       .summary = "Create a token (shown once): write-only for sensors, or read-only for Grafana",
       .tag = "tenants",
       .request_schema = "TokenInput",
       .response_schema = "NewToken",
       .success = bhttp::status::created},
      {.method = verb::delete_,
       .pattern = "/api/v1/tenants/{tenant}/tokens/{token_id}",
       .access = Access::kAdmin,
       .handler = RevokeTokenRoute,
       .summary = "Revoke a write or read token",
       .tag = "tenants",
       .success = bhttp::status::no_content},
      {.method = verb::get,
       .pattern = "/api/v1/tenants/{tenant}/audit",
       .access = Access::kAdmin,
       .handler = ListAudit,
       .summary = "Audit log, newest first",
       .tag = "tenants",
       .query = {{"limit", "integer", "Entries, 1..1000 (100)"},
                 {"before", "string", "Cursor: the id of the last entry of the previous page"}},
       .response_schema = "AuditPage"},
      {.method = verb::get,
       .pattern = "/api/v1/admin/backups",
       .access = Access::kOperator,
       .handler = ListBackupsRoute,
       .summary = "The backups and tenant exports in the backup directory, newest first",
       .tag = "operator",
       .response_schema = "BackupList"},
      {.method = verb::post,
       .pattern = "/api/v1/admin/backups",
       .access = Access::kOperator,
       .handler = TakeBackupRoute,
       .summary = "Take a backup now (restore: foresight restore), or with {\"tenant\"} export "
                  "one tenant (foresight tenant import)",
       .tag = "operator",
       .request_schema = "BackupInput",
       .response_schema = "Backup",
       .success = bhttp::status::created}};
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
    case Access::kOperator:
      return false;  // no tenant role is the operator (Answer checks the operator token)
  }
  return false;
}

bool Mutating(verb method) {
  return method == verb::post || method == verb::put || method == verb::patch ||
         method == verb::delete_;
}

Response Answer(Ctx& ctx, const Route& route) {
  if (route.access == Access::kOperator) {
    std::string_view credential = SchemeToken(Header(ctx.req, bhttp::field::authorization));
    if (!ctx.api.OperatorEnabled()) {
      return Error(ctx, {bhttp::status::forbidden,
                         "forbidden",
                         "the operator routes are off: set auth.operator_token_file",
                         {}});
    }
    if (!ctx.api.IsOperator(credential)) {
      Response res = Error(ctx, {bhttp::status::unauthorized,
                                 "unauthorized",
                                 credential.empty() ? "the operator token is required"
                                                    : "this is not the operator token",
                                 {}});
      res.set(bhttp::field::www_authenticate, "Bearer");
      return res;
    }
  } else if (route.access != Access::kPublic && route.access != Access::kSelf) {
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

// A browser asking whether a page of another origin may send this request. Only listed origins,
// and only paths the table has, get a yes; credentials are bearer tokens, never cookies, so
// Access-Control-Allow-Credentials is not sent.
Response CorsPreflight(Ctx& ctx, bool allowed) {
  if (!allowed) {
    return Error(ctx, {bhttp::status::forbidden,
                       "cors_refused",
                       "this origin may not call the API (api.cors_origins)",
                       {}});
  }
  Response res = MakeResponse(ctx.req, bhttp::status::no_content, "");
  res.set(bhttp::field::access_control_allow_methods, "GET, HEAD, POST, PUT, PATCH, DELETE");
  res.set(bhttp::field::access_control_allow_headers,
          "Authorization, Content-Type, Content-Encoding");
  res.set(bhttp::field::access_control_max_age, "600");
  return res;
}

// Path parameters and query values, decoded, are text like any body string (storage.h): one
// check here keeps every route from storing or looking up what is not.
std::optional<std::string> NonTextInTarget(const Ctx& ctx) {
  for (const std::string& param : ctx.params) {
    if (auto bad = storage::CheckText(param)) return "a path segment: " + bad->reason;
  }
  if (ctx.query.url) {
    for (auto param : ctx.query.url->params()) {
      for (std::string_view s : {std::string_view(param.key), std::string_view(param.value)}) {
        if (auto bad = storage::CheckText(s)) return "the query string: " + bad->reason;
      }
    }
  }
  return std::nullopt;
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
                  const std::string& request_id, std::string_view peer) {
  auto start = std::chrono::steady_clock::now();
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  Ctx ctx(req, services, api, request_id);
  ctx.peer = peer;
  ctx.params = std::move(match.params);
  const Route* route = match.route;
  Response res;
  std::optional<Response> web;
  if (!route && !match.path_known) web = ServeWebFile(req, path);
  const std::string_view origin = req[bhttp::field::origin];
  const bool cors = !origin.empty() && api.CorsAllowed(origin);
  if (req.method() == verb::options && !origin.empty() &&
      req.count(bhttp::field::access_control_request_method)) {
    res = CorsPreflight(ctx, cors && match.path_known);
  } else if (web) {
    res = std::move(*web);
  } else if (!route) {
    res = match.path_known
              ? Error(ctx, {bhttp::status::method_not_allowed,
                            "method_not_allowed",
                            "this path does not accept " + std::string(req.method_string()),
                            {}})
              : Error(ctx, NotFound("no such route"));
  } else if (auto bad = NonTextInTarget(ctx)) {
    res = Error(ctx, {bhttp::status::bad_request, "invalid_argument", *bad, {}});
  } else {
    try {
      res = Answer(ctx, *route);
    } catch (const std::exception& e) {
      log::Error("request {}: {} {}: {}", request_id, std::string(req.method_string()),
                 std::string(target), e.what());
      res = Error(ctx, {bhttp::status::internal_server_error, "internal", "internal error", {}});
    }
  }
  if (cors) {
    res.set(bhttp::field::access_control_allow_origin, origin);
    res.set(bhttp::field::access_control_expose_headers, "Retry-After, X-Request-Id");
  }
  if (api.CorsEnabled()) res.set(bhttp::field::vary, "Origin");
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
