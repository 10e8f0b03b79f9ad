// /openapi.json: generated from the route table, so the document and the dispatcher cannot
// drift. The component schemas below describe the bodies the handlers read and write.
#include "http/api.h"

namespace foresight::http {
namespace {

constexpr std::string_view kSchemas = R"json({
  "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
    "required": ["code", "message"], "properties": {"code": {"type": "string"},
    "message": {"type": "string"}, "field": {"type": "string"}}}}},
  "TokenRequest": {"type": "object", "required": ["client_id", "client_secret"], "properties": {
    "client_id": {"type": "string"}, "client_secret": {"type": "string"},
    "grant_type": {"type": "string", "enum": ["client_credentials"]}}},
  "TokenResponse": {"type": "object", "properties": {"access_token": {"type": "string"},
    "token_type": {"type": "string"}, "expires_in": {"type": "integer"},
    "tenant_id": {"type": "string"}, "role": {"type": "string"}}},
  "Chart": {"type": "object", "properties": {"asset_id": {"type": "string"},
    "from": {"type": "string"}, "to": {"type": "string"}, "step_seconds": {"type": "integer"},
    "series": {"type": "object", "description": "per metric: time (epoch ms), mean, min, max arrays of one length"}}},
  "LoginRequest": {"type": "object", "required": ["tenant", "username", "password"],
    "properties": {"tenant": {"type": "string"}, "username": {"type": "string"},
    "password": {"type": "string"}}},
  "SignIn": {"type": "object", "properties": {"access_token": {"type": "string"},
    "token_type": {"type": "string"}, "expires_in": {"type": "integer"},
    "tenant_id": {"type": "string"}, "role": {"type": "string"},
    "user": {"$ref": "#/components/schemas/User"}}},
  "Session": {"type": "object", "properties": {"tenant_id": {"type": "string"},
    "role": {"type": "string"}, "subject": {"type": "string"},
    "expires_at": {"type": "string", "nullable": true},
    "user": {"$ref": "#/components/schemas/User"}}},
  "User": {"type": "object", "properties": {"username": {"type": "string"},
    "display_name": {"type": "string"},
    "role": {"type": "string", "enum": ["viewer", "engineer", "admin"]},
    "disabled": {"type": "boolean"}, "created_at": {"type": "string"},
    "last_login_at": {"type": "string", "nullable": true},
    "password": {"type": "string", "description": "only when the server made it"}}},
  "UserInput": {"type": "object", "properties": {"username": {"type": "string"},
    "display_name": {"type": "string"},
    "role": {"type": "string", "enum": ["viewer", "engineer", "admin"]},
    "password": {"type": "string", "minLength": 10}, "disabled": {"type": "boolean"}}},
  "UserList": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"$ref": "#/components/schemas/User"}}, "total": {"type": "integer"}}},
  "Tenant": {"type": "object", "properties": {"id": {"type": "string"},
    "assets": {"type": "integer"}, "asset_series": {"type": "integer"},
    "retention": {"$ref": "#/components/schemas/RetentionApplied"}}},
  "Retention": {"type": "object", "description": "Per tier: a period (\"90d\"; s, m, h, d or w), \"forever\", or null for the server's default (the [retention] settings)",
    "additionalProperties": false, "properties": {
    "raw": {"type": "string", "nullable": true}, "minute": {"type": "string", "nullable": true},
    "hour": {"type": "string", "nullable": true}, "day": {"type": "string", "nullable": true}}},
  "RetentionApplied": {"type": "object", "readOnly": true, "description": "What retention enforces per tier: the tenant's settings over the server's defaults",
    "properties": {"raw": {"type": "string"}, "minute": {"type": "string"},
    "hour": {"type": "string"}, "day": {"type": "string"}}},
  "Readings": {"type": "object", "description": "Readings in, or points out (see README)"},
  "WriteResult": {"type": "object", "properties": {"readings": {"type": "integer"},
    "values": {"type": "integer"}}},
  "Asset": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"},
    "asset_type": {"type": "string"}, "site": {"type": "string"},
    "criticality": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
    "status": {"type": "string", "enum": ["active", "inactive", "maintenance", "retired"]},
    "installed_at": {"type": "string", "format": "date-time"},
    "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
    "created_at": {"type": "string", "format": "date-time", "readOnly": true},
    "health": {"type": "integer", "readOnly": true},
    "open_alerts": {"type": "integer", "readOnly": true}}},
  "Maintenance": {"type": "object", "properties": {"id": {"type": "string"},
    "asset_id": {"type": "string"},
    "kind": {"type": "string", "enum": ["preventive", "corrective", "inspection", "failure"]},
    "performed_at": {"type": "string", "format": "date-time"}, "cost": {"type": "number"},
    "downtime_hours": {"type": "number"}, "notes": {"type": "string"},
    "external_id": {"type": "string"}}},
  "ImportResult": {"type": "object", "properties": {"format": {"type": "string"},
    "imported": {"type": "integer"}, "rejected": {"type": "array", "items": {"type": "object",
    "properties": {"row": {"type": "integer"}, "reason": {"type": "string"}}}}}},
  "Rule": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"},
    "metric": {"type": "string"},
    "operator": {"type": "string", "enum": ["gt", "gte", "lt", "lte", "eq", "ne"]},
    "threshold": {"type": "number"}, "clear_threshold": {"type": "number"},
    "source": {"type": "string", "enum": ["raw", "5m", "1h", "24h"]},
    "aggregate": {"type": "string", "enum": ["mean", "min", "max", "stddev", "count", "last"]},
    "scope": {"type": "object", "properties": {"asset_type": {"type": "string"},
      "site": {"type": "string"}, "asset_id": {"type": "string"}}},
    "for_seconds": {"type": "integer"}, "cooldown_seconds": {"type": "integer"},
    "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
    "enabled": {"type": "boolean"}, "deleted_at": {"type": "string", "readOnly": true}}},
  "Alert": {"type": "object", "properties": {"id": {"type": "string"},
    "rule_id": {"type": "string"}, "asset_id": {"type": "string"}, "metric": {"type": "string"},
    "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
    "status": {"type": "string", "enum": ["open", "acknowledged", "resolved"]},
    "message": {"type": "string"}, "value": {"type": "number"},
    "opened_at": {"type": "string", "format": "date-time"},
    "cleared_at": {"type": "string", "format": "date-time", "readOnly": true},
    "source": {"type": "string", "enum": ["rule", "user"], "readOnly": true},
    "notes": {"type": "string", "readOnly": true},
    "history": {"type": "array", "items": {"type": "object"}}}},
  "Webhook": {"type": "object", "required": ["name", "url"], "properties": {
    "id": {"type": "string", "readOnly": true}, "name": {"type": "string"},
    "url": {"type": "string", "format": "uri"},
    "format": {"type": "string", "enum": ["json", "slack"]},
    "secret": {"type": "string", "writeOnly": true},
    "has_secret": {"type": "boolean", "readOnly": true},
    "events": {"type": "string", "enum": ["all", "opened"]},
    "min_severity": {"type": "string", "enum": ["info", "warning", "critical"]},
    "enabled": {"type": "boolean"},
    "status": {"type": "object", "readOnly": true}}},
  "WebhookPage": {"$ref": "#/components/schemas/Page"},
  "AlertUpdate": {"type": "object", "required": ["status"], "properties": {
    "status": {"type": "string", "enum": ["acknowledged", "resolved"]},
    "notes": {"type": "string"}}},
  "FleetSummary": {"type": "object"},
  "Trend": {"type": "object"},
  "FleetHistory": {"type": "object", "properties": {"days": {"type": "array", "items": {
    "type": "object", "properties": {
      "date": {"type": "string"}, "fleet_health": {"type": "number", "nullable": true},
      "assets_scored": {"type": "integer"}, "assets_at_risk": {"type": "integer", "nullable": true},
      "backfilled": {"type": "boolean"}, "alerts_opened": {"type": "object"},
      "failures": {"type": "integer"}, "maintenance": {"type": "integer"}}}}}},
  "CostAvoidance": {"type": "object"},
  "AssetReport": {"type": "object"},
  "Settings": {"type": "object", "properties": {"cost_model": {"type": "object", "properties": {
    "currency": {"type": "string"},
    "unplanned_failure_cost": {"type": "object", "additionalProperties": {"type": "number"}},
    "planned_to_unplanned_ratio": {"type": "number"},
    "lookback_days": {"type": "integer"}}},
    "risk": {"type": "object", "properties": {"at_risk_below_health": {"type": "number"}}},
    "retention": {"$ref": "#/components/schemas/Retention"},
    "retention_applied": {"$ref": "#/components/schemas/RetentionApplied"}}},
  "ClientInput": {"type": "object", "required": ["role"], "properties": {
    "client_id": {"type": "string"},
    "role": {"type": "string", "enum": ["viewer", "engineer", "admin"]}}},
  "NewClient": {"type": "object", "properties": {"client_id": {"type": "string"},
    "client_secret": {"type": "string"}, "role": {"type": "string"}}},
  "ClientList": {"type": "object"},
  "TokenInput": {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"},
    "scope": {"type": "string", "enum": ["write", "read"], "default": "write"}}},
  "NewToken": {"type": "object", "properties": {"id": {"type": "string"},
    "name": {"type": "string"}, "scope": {"type": "string", "enum": ["write", "read"]},
    "token": {"type": "string"}}},
  "TokenList": {"type": "object"},
  "BackupInput": {"type": "object", "properties": {"tenant": {"type": "string",
    "description": "Export only this tenant; absent: the whole data directory"}}},
  "Backup": {"type": "object", "properties": {"name": {"type": "string"},
    "path": {"type": "string"}, "tenant": {"type": "string", "nullable": true},
    "taken_at": {"type": "string", "format": "date-time"}, "bytes": {"type": "integer"}}},
  "BackupList": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"$ref": "#/components/schemas/Backup"}}, "total": {"type": "integer"}}},
  "AssetPage": {"$ref": "#/components/schemas/Page"},
  "MaintenancePage": {"$ref": "#/components/schemas/Page"},
  "RulePage": {"$ref": "#/components/schemas/Page"},
  "AlertPage": {"$ref": "#/components/schemas/Page"},
  "AuditPage": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"type": "object"}}, "next": {"type": "string"}}},
  "Factor": {"type": "object", "properties": {"feature": {"type": "string"},
    "value": {"type": "number", "nullable": true},
    "contribution": {"type": "number", "nullable": true}}},
  "PredictRequest": {"type": "object", "description":
    "Fleet assets (asset_id, asset_ids or neither for all; as_of) or given features (target or model_id, features, rows)",
    "properties": {"asset_id": {"type": "string"}, "asset_ids": {"type": "array",
    "items": {"type": "string"}}, "as_of": {"type": "string", "format": "date-time"},
    "target": {"type": "string"}, "model_id": {"type": "string"},
    "features": {"type": "array", "items": {"type": "string"}},
    "rows": {"type": "array", "items": {"type": "array", "items": {"type": "number",
    "nullable": true}}}}},
  "Prediction": {"type": "object", "properties": {"asset_id": {"type": "string"},
    "as_of": {"type": "string", "format": "date-time"},
    "scored_at": {"type": "string", "format": "date-time"},
    "fails_7d": {"type": "number", "nullable": true},
    "fails_30d": {"type": "number", "nullable": true},
    "rul_days": {"type": "number", "nullable": true}, "health": {"type": "integer"},
    "risk": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
    "factors": {"type": "array", "items": {"$ref": "#/components/schemas/Factor"}},
    "models": {"type": "object", "additionalProperties": {"type": "string"}}}},
  "Predictions": {"type": "object", "properties": {"predictions": {"type": "array",
    "items": {"type": "object"}}}},
  "PredictionList": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"type": "object"}}, "total": {"type": "integer"}}},
  "AssetWindows": {"type": "object", "properties": {"asset_id": {"type": "string"},
    "items": {"type": "array", "items": {"type": "object", "properties": {
    "metric": {"type": "string"}, "measurement": {"type": "string"}, "last": {"type": "number"},
    "time": {"type": "string", "format": "date-time"}, "windows": {"type": "object",
    "description": "5m, 1h and 24h: from, count, mean, min, max, stddev"}}}}}},
  "PredictionHistory": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"$ref": "#/components/schemas/Prediction"}}}},
  "Model": {"type": "object", "properties": {"id": {"type": "string"},
    "target": {"type": "string"}, "objective": {"type": "string", "enum": ["binary", "regression"]},
    "status": {"type": "string", "enum": ["champion", "previous", "challenger"]},
    "created_at": {"type": "string", "format": "date-time"}, "run_id": {"type": "string"},
    "rounds": {"type": "integer"}, "train_rows": {"type": "integer"},
    "validation_rows": {"type": "integer"}, "metrics": {"type": "object"},
    "data": {"type": "object"}, "params": {"type": "object"},
    "features": {"type": "array", "items": {"type": "string"}},
    "drift": {"type": "array", "items": {"type": "object"}}}},
  "ModelList": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"$ref": "#/components/schemas/Model"}}}},
  "RollbackRequest": {"type": "object", "required": ["target"], "properties": {
    "target": {"type": "string"}}},
  "TrainingRequest": {"type": "object", "description":
    "Fleet targets, or a dataset of given features (target, objective, features, rows, labels)",
    "properties": {"targets": {"type": "array", "items": {"type": "string",
    "enum": ["fails_7d", "fails_30d", "rul_days"]}}, "rul_cap_days": {"type": "number"},
    "target": {"type": "string"}, "objective": {"type": "string", "enum": ["binary", "regression"]},
    "features": {"type": "array", "items": {"type": "string"}},
    "rows": {"type": "array", "items": {"type": "array", "items": {"type": "number",
    "nullable": true}}}, "labels": {"type": "array", "items": {"type": "number"}},
    "seed": {"type": "integer"}, "params": {"type": "object", "description":
    "Hyper-parameters over the server's defaults: max_rounds, early_stopping_rounds, max_depth, eta, subsample, colsample_bytree, colsample_bynode, num_parallel_tree, min_child_weight, lambda, seed (XGBoost's sampling seed, default 0)",
    "additionalProperties": {"type": "number"}}}},
  "TrainingRun": {"type": "object", "properties": {"id": {"type": "string"},
    "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
    "stage": {"type": "string"}, "progress": {"type": "number"}, "actor": {"type": "string"},
    "targets": {"type": "array", "items": {"type": "string"}},
    "models": {"type": "array", "items": {"type": "string"}},
    "notes": {"type": "array", "items": {"type": "string"}}, "error": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"},
    "started_at": {"type": "string", "format": "date-time"},
    "finished_at": {"type": "string", "format": "date-time"}}},
  "TrainingRunList": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"$ref": "#/components/schemas/TrainingRun"}}}},
  "Page": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"type": "object"}}, "total": {"type": "integer"}, "limit": {"type": "integer"},
    "offset": {"type": "integer"}}}
})json";

json::object ErrorResponse(std::string_view description) {
  json::object content;
  content["application/json"] = {{"schema", {{"$ref", "#/components/schemas/Error"}}}};
  return {{"description", description}, {"content", std::move(content)}};
}

}  // namespace

std::string OpenApiJson() {
  json::object paths;
  for (const Route& r : RouteTable()) {
    json::object op;
    op["summary"] = r.summary;
    op["tags"] = json::array{json::string(r.tag)};
    std::string method(bhttp::to_string(r.method));
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string op_id = method;
    json::array params;
    std::string_view pattern = r.pattern;
    for (size_t open = pattern.find('{'); open != std::string_view::npos;
         open = pattern.find('{', open + 1)) {
      size_t close = pattern.find('}', open);
      std::string name(pattern.substr(open + 1, close - open - 1));
      params.push_back(
          {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    for (const QueryParam& q : r.query) {
      params.push_back({{"name", q.name},
                        {"in", "query"},
                        {"description", q.description},
                        {"schema", {{"type", q.type}}}});
    }
    for (char c : r.pattern) {
      op_id.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    }
    op["operationId"] = op_id;
    if (!params.empty()) op["parameters"] = std::move(params);
    if (!r.request_schema.empty() || r.request_type != "application/json") {
      json::object media;
      if (!r.request_schema.empty()) {
        media["schema"] = {{"$ref", "#/components/schemas/" + std::string(r.request_schema)}};
      } else {
        media["schema"] = {{"type", "string"}};
      }
      json::object content;
      content[r.request_type] = std::move(media);
      op["requestBody"] = {{"required", true}, {"content", std::move(content)}};
    }
    json::object responses;
    json::object ok{{"description", "success"}};
    if (!r.response_schema.empty()) {
      json::object content;
      content["application/json"] = {
          {"schema", {{"$ref", "#/components/schemas/" + std::string(r.response_schema)}}}};
      ok["content"] = std::move(content);
    }
    responses[std::to_string(static_cast<unsigned>(r.success))] = std::move(ok);
    if (r.access != Access::kPublic) {
      responses["401"] = ErrorResponse("missing or invalid credentials");
      if (r.access == Access::kOperator) {
        responses["403"] = ErrorResponse("the operator routes are off (auth.operator_token_file)");
      } else if (r.access != Access::kSelf) {
        responses["403"] = ErrorResponse("another tenant's path, or a role below " +
                                         std::string(AccessName(r.access)));
        responses["429"] = ErrorResponse("the tenant's rate limit; see Retry-After");
      }
    }
    if (r.method != bhttp::verb::get && r.method != bhttp::verb::head) {
      responses["400"] = ErrorResponse("invalid input, naming the field");
    }
    if (r.pattern.find("_id}") != std::string_view::npos) {
      responses["404"] = ErrorResponse("no such resource");
    }
    if (r.request_schema.size() || r.request_type != "application/json") {
      responses["413"] = ErrorResponse("body larger than the route's limit");
    }
    op["responses"] = std::move(responses);
    if (r.access != Access::kPublic && r.access != Access::kSelf) {
      op["security"] = json::array{json::object{{"bearer", json::array{}}}};
      op["x-foresight-role"] = AccessName(r.access);
    }
    json::value& path = paths[r.pattern];
    if (!path.is_object()) path = json::object();
    path.as_object()[method] = std::move(op);
  }
  json::object doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = {{"title", "FORESIGHT API"},
                 {"version", "1"},
                 {"description",
                  "Predictive maintenance appliance. Tenant routes need a bearer JWT from "
                  "POST /auth/token (or a write token for writes)."}};
  json::object components;
  components["schemas"] = json::parse(kSchemas);
  components["securitySchemes"] = {
      {"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}};
  doc["components"] = std::move(components);
  doc["paths"] = std::move(paths);
  return JsonText(doc);
}

}  // namespace foresight::http
