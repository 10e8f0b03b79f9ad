// Sign-in (POST /auth/token), the tenant administration routes (clients, write tokens, the
// audit log) and the operator's backups.
#include "http/api.h"

#include <cmath>
#include <filesystem>

namespace foresight::http {
namespace {

json::object ClientJson(const Auth::Client& c) {
  return {{"client_id", c.id},
          {"role", RoleName(c.role)},
          {"created_at", storage::FormatRfc3339(c.created_ns)}};
}

json::object TokenJson(const ingest::ApiTokens::Token& t) {
  json::object o = {
      {"id", t.id}, {"name", t.name}, {"created_at", storage::FormatRfc3339(t.created_ns)}};
  o["revoked_at"] =
      t.revoked_ns ? json::value(storage::FormatRfc3339(t.revoked_ns)) : json::value(nullptr);
  o["scope"] = t.scope == ingest::ApiTokens::Scope::kRead ? "read" : "write";
  return o;
}

json::object BackupJson(const storage::BackupInfo& b) {
  return {{"name", std::filesystem::path(b.path).filename().string()},
          {"path", b.path},
          {"tenant", b.tenant.empty() ? json::value(nullptr) : json::value(b.tenant)},
          {"taken_at", storage::FormatRfc3339(b.time_ns)},
          {"bytes", b.bytes}};
}

ApiError NoBackups() {
  return {
      bhttp::status::service_unavailable, "unavailable", "this server has no backup directory", {}};
}

}  // namespace

Response ListBackupsRoute(Ctx& ctx) {
  if (!ctx.services.backups) return Error(ctx, NoBackups());
  json::array items;
  for (const storage::BackupInfo& b : ctx.services.backups->List()) items.push_back(BackupJson(b));
  return Items(ctx, std::move(items));
}

Response TakeBackupRoute(Ctx& ctx) {
  if (!ctx.services.backups) return Error(ctx, NoBackups());
  std::string tenant;
  if (!ctx.req.body().empty()) {
    ApiError error;
    auto body = BodyObject(ctx, &error);
    if (!body.ok()) return Error(ctx, error);
    for (const auto& [k, v] : *body) {
      if (k != "tenant") return Error(ctx, BadField(k, "unknown field '" + std::string(k) + "'"));
      if (!v.is_string() || v.as_string().empty()) {
        return Error(ctx, BadField("tenant", "tenant must be a tenant's name"));
      }
      tenant = v.as_string();
    }
  }
  Result<storage::BackupInfo> taken =
      tenant.empty() ? ctx.services.backups->Take() : ctx.services.backups->TakeTenant(tenant);
  if (!taken.ok()) {
    if (taken.status().code() == Status::Code::kNotFound && !tenant.empty()) {
      return Error(ctx, NotFound("no tenant '" + tenant + "'"));
    }
    return Error(ctx, {bhttp::status::internal_server_error,
                       "backup_failed",
                       "the backup failed: " + taken.status().ToString(),
                       {}});
  }
  return Json(ctx, BackupJson(*taken), bhttp::status::created);
}

Response IssueTokenRoute(Ctx& ctx) {
  if (std::optional<double> wait = ctx.api.ThrottleSignIn()) {
    Response res = Error(ctx, {bhttp::status::too_many_requests,
                               "rate_limited",
                               "too many sign-in attempts; retry later",
                               {}});
    res.set(bhttp::field::retry_after, std::to_string(static_cast<int>(std::ceil(*wait))));
    return res;
  }
  std::string client_id, secret;
  std::string_view type = Header(ctx.req, bhttp::field::content_type);
  if (type.starts_with("application/x-www-form-urlencoded")) {
    auto params = boost::urls::parse_query(ctx.req.body());
    if (!params) return Error(ctx, BadField("body", "the form body is malformed"));
    for (auto p : *params) {
      if (p.key == "client_id") client_id = p.value;
      if (p.key == "client_secret") secret = p.value;
      if (p.key == "grant_type" && p.value != "client_credentials") {
        return Error(ctx, BadField("grant_type", "grant_type must be client_credentials"));
      }
    }
  } else {
    ApiError error;
    auto body = BodyObject(ctx, &error);
    if (!body.ok()) return Error(ctx, error);
    for (const auto& [k, v] : *body) {
      if (k != "client_id" && k != "client_secret" && k != "grant_type") {
        return Error(ctx, BadField(k, "unknown field '" + std::string(k) + "'"));
      }
      if (!v.is_string()) return Error(ctx, BadField(k, std::string(k) + " must be a string"));
      if (k == "client_id") client_id = v.as_string();
      if (k == "client_secret") secret = v.as_string();
      if (k == "grant_type" && v.as_string() != "client_credentials") {
        return Error(ctx, BadField("grant_type", "grant_type must be client_credentials"));
      }
    }
  }
  if (client_id.empty()) return Error(ctx, BadField("client_id", "client_id is required"));
  if (secret.empty()) return Error(ctx, BadField("client_secret", "client_secret is required"));
  auto issued = ctx.services.auth->IssueToken(client_id, secret, ctx.NowNs() / storage::kSecondNs);
  if (!issued.ok()) {
    return Error(
        ctx,
        {bhttp::status::unauthorized, "unauthorized", std::string(issued.status().message()), {}});
  }
  return Json(ctx, {{"access_token", issued->jwt},
                    {"token_type", "Bearer"},
                    {"expires_in", issued->expires_in},
                    {"tenant_id", issued->principal.tenant_name},
                    {"role", RoleName(issued->principal.role)}});
}

Response GetTenant(Ctx& ctx) {
  size_t series = 0, assets = 0;
  auto by_asset = ctx.api.SeriesByAsset(ctx.tenant, AssetTag(ctx.services));
  for (const auto& [asset, list] : *by_asset) series += list.size();
  ctx.services.storage->WithAssets(
      ctx.tenant, [&](std::span<const storage::Asset* const> all) { assets = all.size(); });
  auto retention = ctx.services.storage->GetRetention(ctx.tenant);
  if (!retention.ok()) return Error(ctx, FromStatus(retention.status()));
  return Json(
      ctx, {{"id", ctx.principal.tenant_name},
            {"assets", assets},
            {"asset_series", series},
            {"retention", RetentionJson(retention->applied, true)},
            {"you", {{"subject", ctx.principal.subject}, {"role", RoleName(ctx.principal.role)}}}});
}

Response ListClientsRoute(Ctx& ctx) {
  json::array items;
  for (const Auth::Client& c : ctx.services.auth->ListClients(ctx.tenant)) {
    items.push_back(ClientJson(c));
  }
  return Items(ctx, std::move(items));
}

Response CreateClientRoute(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  std::string id;
  std::optional<Role> role;
  for (const auto& [k, v] : *body) {
    if (k == "client_id") {
      if (!v.is_string()) return Error(ctx, BadField(k, "client_id must be a string"));
      id = v.as_string();
    } else if (k == "role") {
      Result<Role> r = v.is_string() ? ParseClientRole(v.as_string())
                                     : Result<Role>(Status::InvalidArgument(""));
      if (!r.ok()) return Error(ctx, BadField("role", "role must be viewer, engineer or admin"));
      role = *r;
    } else {
      return Error(ctx, BadField(k, "unknown field '" + std::string(k) + "'"));
    }
  }
  if (!role) return Error(ctx, BadField("role", "role is required"));
  auto created = ctx.services.auth->CreateClient(ctx.tenant, id, *role);
  if (!created.ok()) return Error(ctx, FromStatus(created.status(), "client_id"));
  json::object o = ClientJson(created->client);
  o["client_secret"] = created->secret;
  return Json(ctx, o, bhttp::status::created);
}

Response DeleteClientRoute(Ctx& ctx) {
  if (Status s = ctx.services.auth->DeleteClient(ctx.tenant, ctx.Param(1)); !s.ok()) {
    return Error(ctx, FromStatus(s));
  }
  return NoContent(ctx);
}

Response ListTokensRoute(Ctx& ctx) {
  json::array items;
  for (const ingest::ApiTokens::Token& t : ctx.services.auth->tokens().List(ctx.tenant)) {
    items.push_back(TokenJson(t));
  }
  return Items(ctx, std::move(items));
}

Response CreateTokenRoute(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  std::string name;
  auto scope = ingest::ApiTokens::Scope::kWrite;
  for (const auto& [k, v] : *body) {
    if (k == "name") {
      if (!v.is_string()) return Error(ctx, BadField("name", "name must be a string"));
      name = v.as_string();
    } else if (k == "scope") {
      if (!v.is_string() || (v.as_string() != "write" && v.as_string() != "read")) {
        return Error(ctx, BadField("scope", "scope must be \"write\" or \"read\""));
      }
      if (v.as_string() == "read") scope = ingest::ApiTokens::Scope::kRead;
    } else {
      return Error(ctx, BadField(k, "unknown field '" + std::string(k) + "'"));
    }
  }
  if (name.empty()) return Error(ctx, BadField("name", "name is required"));
  auto created = ctx.services.auth->tokens().Create(ctx.tenant, name, scope);
  if (!created.ok()) return Error(ctx, FromStatus(created.status(), "name"));
  json::object o = TokenJson(created->token);
  o["token"] = created->secret;
  return Json(ctx, o, bhttp::status::created);
}

Response RevokeTokenRoute(Ctx& ctx) {
  if (Status s = ctx.services.auth->tokens().Revoke(ctx.tenant, ctx.Param(1)); !s.ok()) {
    return Error(ctx, FromStatus(s));
  }
  return NoContent(ctx);
}

Response ListAudit(Ctx& ctx) {
  Page page;
  if (auto e = ParsePage(ctx, &page)) return Error(ctx, *e);
  std::string before = ctx.query.Get("before");
  auto records = ctx.services.storage->ScanRecords(
      ctx.tenant, "audit", {.after = before, .limit = page.limit + 1, .reverse = true});
  if (!records.ok()) return Error(ctx, FromStatus(records.status()));
  json::array items;
  std::string next;
  for (size_t i = 0; i < records->size() && i < page.limit; ++i) {
    auto& [id, value] = (*records)[i];
    auto record = storage::ParseJsonObject(value);
    if (!record.ok())
      return Error(ctx, FromStatus(Status::Corruption("audit record '" + id + "' does not parse")));
    json::object o = std::move(*record);
    o["id"] = id;
    items.push_back(std::move(o));
    next = id;
  }
  json::object o;
  o["items"] = std::move(items);
  o["next"] = records->size() > page.limit ? json::value(next) : json::value(nullptr);
  return Json(ctx, o);
}

}  // namespace foresight::http
