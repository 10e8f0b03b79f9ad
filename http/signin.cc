// People signing in: POST /auth/login, /auth/refresh, /auth/logout, GET /auth/session, and the
// admins' users routes. The session's refresh secret travels only in an HttpOnly, SameSite=Strict
// cookie scoped to /auth; pages hold the short-lived JWT in memory (http/README.md says why).
#include "http/api.h"

#include <charconv>

namespace foresight::http {
namespace {

constexpr std::string_view kCookie = "foresight_session";

std::string SessionCookie(std::string_view value, int64_t max_age_s) {
  return std::string(kCookie) + "=" + std::string(value) +
         "; Path=/auth; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
}

// The session cookie's value, or empty.
std::string_view CookieValue(const Request& req) {
  std::string_view header = Header(req, bhttp::field::cookie);
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    while (pair.starts_with(' ')) pair.remove_prefix(1);
    if (pair.starts_with(kCookie) && pair.size() > kCookie.size() && pair[kCookie.size()] == '=') {
      return pair.substr(kCookie.size() + 1);
    }
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return {};
}

// A cookie-authenticated POST must come from this origin: SameSite=Strict already keeps other
// sites' requests from carrying the cookie; a browser's Origin header, when present, must agree.
bool SameOrigin(const Request& req) {
  std::string_view origin = Header(req, bhttp::field::origin);
  if (origin.empty()) return true;
  std::string_view host = Header(req, bhttp::field::host);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.starts_with(scheme) && origin.substr(scheme.size()) == host) return true;
  }
  return false;
}

json::object UserJson(const Auth::User& u) {
  return {{"username", u.username},
          {"display_name", u.display_name},
          {"role", RoleName(u.role)},
          {"disabled", u.disabled},
          {"created_at", storage::FormatRfc3339(u.created_ns)},
          {"last_login_at",
           u.last_login_ns ? json::value(storage::FormatRfc3339(u.last_login_ns)) : nullptr}};
}

Response SignedIn(Ctx& ctx, const Auth::SignIn& s) {
  Response res = Json(ctx, {{"access_token", s.token.jwt},
                            {"token_type", "Bearer"},
                            {"expires_in", s.token.expires_in},
                            {"tenant_id", s.token.principal.tenant_name},
                            {"role", RoleName(s.token.principal.role)},
                            {"user", UserJson(s.user)}});
  res.set(bhttp::field::set_cookie,
          SessionCookie(s.refresh, s.expires_s - ctx.NowNs() / storage::kSecondNs));
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

Response TooMany(Ctx& ctx, std::string message, int64_t retry_s) {
  Response res =
      Error(ctx, {bhttp::status::too_many_requests, "rate_limited", std::move(message), {}});
  res.set(bhttp::field::retry_after, std::to_string(std::max<int64_t>(1, retry_s)));
  return res;
}

Response Unauthorized(Ctx& ctx, std::string message) {
  return Error(ctx, {bhttp::status::unauthorized, "unauthorized", std::move(message), {}});
}

// Reads a JSON body of string fields named in `fields`.
std::optional<ApiError> StringFields(Ctx& ctx, std::initializer_list<std::string_view> fields,
                                     std::map<std::string, std::string, std::less<>>* out) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return error;
  for (const auto& [k, v] : *body) {
    if (std::find(fields.begin(), fields.end(), k) == fields.end()) {
      return BadField(k, "unknown field '" + std::string(k) + "'");
    }
    if (!v.is_string()) return BadField(k, std::string(k) + " must be a string");
    (*out)[std::string(k)] = v.as_string();
  }
  for (std::string_view f : fields) {
    if (!out->contains(f)) return BadField(f, std::string(f) + " is required");
  }
  return std::nullopt;
}

}  // namespace

Response LoginRoute(Ctx& ctx) {
  if (std::optional<double> wait = ctx.api.ThrottleSignIn()) {
    return TooMany(ctx, "too many sign-in attempts; retry later",
                   static_cast<int64_t>(std::ceil(*wait)));
  }
  std::map<std::string, std::string, std::less<>> f;
  if (auto e = StringFields(ctx, {"tenant", "username", "password"}, &f)) return Error(ctx, *e);
  auto signed_in = ctx.services.auth->Login(f["tenant"], f["username"], f["password"], ctx.peer,
                                            ctx.NowNs() / storage::kSecondNs);
  if (!signed_in.ok()) {
    const Status& s = signed_in.status();
    if (s.code() == Status::Code::kResourceExhausted) {
      // "...; retry in 30 s"
      std::string_view m = s.message();
      int64_t retry = 1;
      if (size_t at = m.rfind("retry in "); at != std::string_view::npos) {
        std::string_view n = m.substr(at + 9);
        std::from_chars(n.data(), n.data() + n.size(), retry);
      }
      return TooMany(ctx, std::string(m), retry);
    }
    if (s.code() == Status::Code::kInvalidArgument) {
      return Unauthorized(ctx, std::string(s.message()));
    }
    return Error(ctx, FromStatus(s));
  }
  return SignedIn(ctx, *signed_in);
}

Response RefreshRoute(Ctx& ctx) {
  if (!SameOrigin(ctx.req)) {
    return Error(ctx, {bhttp::status::forbidden, "forbidden", "cross-origin request", {}});
  }
  std::string_view refresh = CookieValue(ctx.req);
  if (refresh.empty()) return Unauthorized(ctx, "no session; sign in");
  auto renewed = ctx.services.auth->Refresh(refresh, ctx.NowNs() / storage::kSecondNs);
  if (!renewed.ok()) {
    if (renewed.status().code() != Status::Code::kInvalidArgument) {
      return Error(ctx, FromStatus(renewed.status()));
    }
    Response res = Unauthorized(ctx, std::string(renewed.status().message()));
    res.set(bhttp::field::set_cookie, SessionCookie("", 0));
    return res;
  }
  return SignedIn(ctx, *renewed);
}

Response LogoutRoute(Ctx& ctx) {
  if (!SameOrigin(ctx.req)) {
    return Error(ctx, {bhttp::status::forbidden, "forbidden", "cross-origin request", {}});
  }
  if (std::string_view refresh = CookieValue(ctx.req); !refresh.empty()) {
    if (Status s = ctx.services.auth->Logout(refresh); !s.ok()) return Error(ctx, FromStatus(s));
  }
  std::string_view bearer = SchemeToken(Header(ctx.req, bhttp::field::authorization));
  if (!bearer.empty()) {
    auto principal = ctx.services.auth->VerifyJwt(bearer, ctx.NowNs() / storage::kSecondNs);
    if (principal.ok() && !principal->session.empty()) {
      if (Status s = ctx.services.auth->Logout(principal->session); !s.ok()) {
        return Error(ctx, FromStatus(s));
      }
    }
  }
  Response res = NoContent(ctx);
  res.set(bhttp::field::set_cookie, SessionCookie("", 0));
  return res;
}

Response SessionRoute(Ctx& ctx) {
  const Principal& p = ctx.principal;
  json::object o = {
      {"tenant_id", p.tenant_name},
      {"role", RoleName(p.role)},
      {"subject", p.subject},
      {"expires_at", p.expires_s
                         ? json::value(storage::FormatRfc3339(p.expires_s * storage::kSecondNs))
                         : nullptr}};
  if (p.subject.starts_with("user:")) {
    auto user = ctx.services.auth->GetUser(p.tenant, p.subject.substr(5));
    if (user.ok()) o["user"] = UserJson(*user);
  }
  return Json(ctx, o);
}

Response ListUsersRoute(Ctx& ctx) {
  json::array items;
  for (const Auth::User& u : ctx.services.auth->ListUsers(ctx.tenant)) items.push_back(UserJson(u));
  return Items(ctx, std::move(items));
}

namespace {

// The fields of a user in a request body; `creating` requires username and role.
std::optional<ApiError> ReadUser(const json::object& body, bool creating, Auth::User* user,
                                 Auth::UserChange* change) {
  for (const auto& [k, v] : body) {
    if (k == "username" && creating) {
      if (!v.is_string()) return BadField(k, "username must be a string");
      user->username = v.as_string();
    } else if (k == "display_name") {
      if (!v.is_string()) return BadField(k, "display_name must be a string");
      change->display_name = std::string(v.as_string());
    } else if (k == "role") {
      Result<Role> r = v.is_string() ? ParseClientRole(v.as_string())
                                     : Result<Role>(Status::InvalidArgument(""));
      if (!r.ok()) return BadField(k, "role must be viewer, engineer or admin");
      change->role = *r;
    } else if (k == "password") {
      if (!v.is_string()) return BadField(k, "password must be a string");
      change->password = std::string(v.as_string());
    } else if (k == "disabled") {
      if (!v.is_bool()) return BadField(k, "disabled must be true or false");
      change->disabled = v.as_bool();
    } else {
      return BadField(k, "unknown field '" + std::string(k) + "'");
    }
  }
  if (creating) {
    if (user->username.empty()) return BadField("username", "username is required");
    if (!change->role) return BadField("role", "role is required");
    user->display_name = change->display_name.value_or(user->username);
    user->role = *change->role;
    user->disabled = change->disabled.value_or(false);
  }
  return std::nullopt;
}

}  // namespace

Response CreateUserRoute(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  Auth::User user;
  Auth::UserChange given;
  if (auto e = ReadUser(*body, true, &user, &given)) return Error(ctx, *e);
  // Without a password, one is made and shown once.
  const std::string password =
      given.password ? *given.password : ingest::Base64UrlEncode(ingest::RandomBytes(15));
  auto created = ctx.services.auth->CreateUser(ctx.tenant, user, password);
  if (!created.ok()) return Error(ctx, FieldError(created.status()));
  json::object o = UserJson(*created);
  if (!given.password) o["password"] = password;
  return Json(ctx, o, bhttp::status::created);
}

Response GetUserRoute(Ctx& ctx) {
  auto user = ctx.services.auth->GetUser(ctx.tenant, ctx.Param(1));
  if (!user.ok()) return Error(ctx, FromStatus(user.status()));
  return Json(ctx, UserJson(*user));
}

Response UpdateUserRoute(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  Auth::User ignored;
  Auth::UserChange change;
  if (auto e = ReadUser(*body, false, &ignored, &change)) return Error(ctx, *e);
  auto user = ctx.services.auth->UpdateUser(ctx.tenant, ctx.Param(1), change);
  if (!user.ok()) return Error(ctx, FieldError(user.status()));
  return Json(ctx, UserJson(*user));
}

Response DeleteUserRoute(Ctx& ctx) {
  if (ctx.principal.subject == "user:" + ctx.Param(1)) {
    return Error(ctx, Conflict("you cannot delete the user you are signed in as"));
  }
  if (Status s = ctx.services.auth->DeleteUser(ctx.tenant, ctx.Param(1)); !s.ok()) {
    return Error(ctx, FromStatus(s));
  }
  return NoContent(ctx);
}

}  // namespace foresight::http
