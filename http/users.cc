// Users and their sign-in sessions: passwords kept as Argon2id hashes, sessions as digests of
// their refresh secrets, failed sign-ins counted per user and per address with lockouts that
// lift by themselves. Why a short JWT in memory plus an HttpOnly refresh cookie: http/README.md.
#include "http/api.h"
#include "http/auth_impl.h"
#include "storage/json.h"
#include "storage/log.h"

#include <sodium.h>

#include <algorithm>

namespace foresight::http {
namespace {

namespace json = boost::json;

constexpr std::string_view kUserKind = "user";
constexpr std::string_view kSessionKind = "session";
constexpr std::string_view kUserPrefix = "user:";

Status Invalid(std::string_view field, std::string why) {
  return Status::InvalidArgument(std::string(field) + ": " + why);
}

bool UsernameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '@' ||
         c == '+' || c == '-';
}

Status CheckUsername(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), UsernameChar)) {
    return Invalid("username", "username must be 1..64 characters of [a-z0-9_.@+-]");
  }
  return Status::OK();
}

Status CheckPassword(std::string_view password) {
  if (password.size() < 10 || password.size() > 256) {
    return Invalid("password", "password must be 10..256 bytes");
  }
  return Status::OK();
}

Status CheckDisplayName(std::string_view name) {
  if (name.size() > 128) return Invalid("display_name", "display_name is longer than 128 bytes");
  return Status::OK();
}

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return ingest::HexEncode(std::string_view(reinterpret_cast<const char*>(digest), 16));
}

std::string EncodeUser(const Auth::User& u, const std::string& hash) {
  return storage::JsonText(json::object{{"display_name", u.display_name},
                                        {"role", RoleName(u.role)},
                                        {"disabled", u.disabled},
                                        {"hash", hash},
                                        {"created_ns", u.created_ns},
                                        {"last_login_ns", u.last_login_ns}});
}

Status Refused() { return Status::InvalidArgument("invalid tenant, username or password"); }

}  // namespace

std::string HashSecret(std::string_view secret) {
  std::string hash(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str_alg(hash.data(), secret.data(), secret.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return {};
  }
  hash.resize(std::strlen(hash.c_str()));
  return hash;
}

bool VerifySecret(const std::string& hash, std::string_view secret) {
  static const std::string kDecoy = HashSecret(ingest::RandomBytes(16));
  const std::string& h = hash.empty() ? kDecoy : hash;
  // Out of memory for the decoy: an unknown name is then refused without the cost.
  if (h.empty()) return false;
  return crypto_pwhash_str_verify(h.c_str(), secret.data(), secret.size()) == 0 && !hash.empty();
}

Status Auth::Impl::LoadUsers() {
  for (const auto& [tenant, name] : storage->ListTenants()) {
    auto records = storage->ScanRecords(tenant, kUserKind, {});
    if (!records.ok()) return records.status();
    for (const auto& [id, value] : *records) {
      auto o = storage::ParseJsonObject(value);
      const json::value* role = o.ok() ? o->if_contains("role") : nullptr;
      const json::value* hash = o.ok() ? o->if_contains("hash") : nullptr;
      Result<Role> r = role && role->is_string() ? ParseClientRole(role->as_string())
                                                 : Result<Role>(Status::InvalidArgument("none"));
      if (!r.ok() || !hash || !hash->is_string()) {
        return Status::Corruption("user '" + id + "' of tenant '" + name + "' does not parse");
      }
      User u;
      u.username = id;
      u.role = *r;
      if (const json::value* v = o->if_contains("display_name"); v && v->is_string()) {
        u.display_name = v->as_string();
      }
      if (const json::value* v = o->if_contains("disabled"); v && v->is_bool()) {
        u.disabled = v->as_bool();
      }
      if (const json::value* v = o->if_contains("created_ns"); v && v->is_int64()) {
        u.created_ns = v->as_int64();
      }
      if (const json::value* v = o->if_contains("last_login_ns"); v && v->is_int64()) {
        u.last_login_ns = v->as_int64();
      }
      users.emplace(std::pair{tenant, id},
                    StoredUser{std::move(u), std::string(hash->as_string())});
    }
    auto session_records = storage->ScanRecords(tenant, kSessionKind, {});
    if (!session_records.ok()) return session_records.status();
    for (const auto& [id, value] : *session_records) {
      auto o = storage::ParseJsonObject(value);
      const json::value* user = o.ok() ? o->if_contains("username") : nullptr;
      const json::value* expires = o.ok() ? o->if_contains("expires_s") : nullptr;
      if (!user || !user->is_string() || !expires || !expires->is_int64()) {
        return Status::Corruption("session '" + id + "' of tenant '" + name + "' does not parse");
      }
      sessions.emplace(id, Session{tenant, std::string(user->as_string()), expires->as_int64()});
    }
  }
  // Sessions that ended while the server was down are forgotten now.
  const int64_t now_s = storage->clock().NowNs() / storage::kSecondNs;
  for (auto it = sessions.begin(); it != sessions.end();) {
    if (it->second.expires_s > now_s) {
      ++it;
      continue;
    }
    const storage::Storage::RecordWrite write{kSessionKind, it->first, std::nullopt};
    if (Status s = storage->WriteRecords(it->second.tenant, std::span(&write, 1)); !s.ok()) {
      return s;
    }
    it = sessions.erase(it);
  }
  return Status::OK();
}

bool Auth::Impl::SessionLive(const Principal& principal, int64_t now_s) const {
  auto it = sessions.find(principal.session);
  if (it == sessions.end() || it->second.tenant != principal.tenant ||
      it->second.expires_s <= now_s) {
    return false;
  }
  auto user = users.find(std::pair{principal.tenant, it->second.username});
  return user != users.end() && !user->second.user.disabled &&
         principal.subject == std::string(kUserPrefix) + it->second.username;
}

Result<Auth::User> Auth::CreateUser(storage::TenantId tenant, const User& user,
                                    std::string_view password) {
  if (Status s = CheckUsername(user.username); !s.ok()) return s;
  if (Status s = CheckDisplayName(user.display_name); !s.ok()) return s;
  if (Status s = CheckPassword(password); !s.ok()) return s;
  if (user.role == Role::kWriter) return Invalid("role", "role must be viewer, engineer or admin");
  std::string hash = HashSecret(password);
  if (hash.empty()) return Status::ResourceExhausted("out of memory hashing the password");
  User u = user;
  u.created_ns = impl_->storage->clock().NowNs();
  u.last_login_ns = 0;
  const std::string value = EncodeUser(u, hash);
  WriterLock l(&impl_->mu);
  if (impl_->users.contains(std::pair{tenant, u.username})) {
    return Status::AlreadyExists("user '" + u.username + "' already exists");
  }
  const storage::Storage::RecordWrite write{kUserKind, u.username, value};
  if (Status s = impl_->storage->WriteRecords(tenant, std::span(&write, 1)); !s.ok()) return s;
  impl_->users.emplace(std::pair{tenant, u.username}, Impl::StoredUser{u, std::move(hash)});
  return u;
}

Status Auth::Impl::EndSessionsOf(storage::TenantId tenant, std::string_view username) {
  std::vector<std::string> ids;
  for (const auto& [id, s] : sessions) {
    if (s.tenant == tenant && s.username == username) ids.push_back(id);
  }
  std::vector<storage::Storage::RecordWrite> writes;
  for (const std::string& id : ids) writes.push_back({kSessionKind, id, std::nullopt});
  if (!writes.empty()) {
    if (Status s = storage->WriteRecords(tenant, writes); !s.ok()) return s;
  }
  for (const std::string& id : ids) sessions.erase(id);
  return Status::OK();
}

Result<Auth::User> Auth::UpdateUser(storage::TenantId tenant, std::string_view username,
                                    const UserChange& change) {
  if (change.display_name) {
    if (Status s = CheckDisplayName(*change.display_name); !s.ok()) return s;
  }
  if (change.role == Role::kWriter) {
    return Invalid("role", "role must be viewer, engineer or admin");
  }
  std::string new_hash;
  if (change.password) {
    if (Status s = CheckPassword(*change.password); !s.ok()) return s;
    new_hash = HashSecret(*change.password);
    if (new_hash.empty()) return Status::ResourceExhausted("out of memory hashing the password");
  }
  WriterLock l(&impl_->mu);
  auto it = impl_->users.find(std::pair{tenant, std::string(username)});
  if (it == impl_->users.end()) return Status::NotFound("no user '" + std::string(username) + "'");
  Impl::StoredUser updated = it->second;
  if (change.display_name) updated.user.display_name = *change.display_name;
  if (change.role) updated.user.role = *change.role;
  if (change.disabled) updated.user.disabled = *change.disabled;
  if (change.password) updated.hash = new_hash;
  const std::string value = EncodeUser(updated.user, updated.hash);  // a write holds a view
  const storage::Storage::RecordWrite write{kUserKind, username, value};
  if (Status s = impl_->storage->WriteRecords(tenant, std::span(&write, 1)); !s.ok()) return s;
  const bool sign_out = (change.role && *change.role != it->second.user.role) || change.password ||
                        (change.disabled && *change.disabled);
  it->second = std::move(updated);
  if (sign_out) {
    if (Status s = impl_->EndSessionsOf(tenant, username); !s.ok()) return s;
  }
  return it->second.user;
}

Status Auth::DeleteUser(storage::TenantId tenant, std::string_view username) {
  WriterLock l(&impl_->mu);
  auto it = impl_->users.find(std::pair{tenant, std::string(username)});
  if (it == impl_->users.end()) return Status::NotFound("no user '" + std::string(username) + "'");
  if (Status s = impl_->EndSessionsOf(tenant, username); !s.ok()) return s;
  const storage::Storage::RecordWrite write{kUserKind, username, std::nullopt};
  if (Status s = impl_->storage->WriteRecords(tenant, std::span(&write, 1)); !s.ok()) return s;
  impl_->users.erase(it);
  return Status::OK();
}

std::vector<Auth::User> Auth::ListUsers(storage::TenantId tenant) const {
  ReaderLock l(&impl_->mu);
  std::vector<User> out;
  for (const auto& [key, u] : impl_->users) {
    if (key.first == tenant) out.push_back(u.user);
  }
  return out;
}

Result<Auth::User> Auth::GetUser(storage::TenantId tenant, std::string_view username) const {
  ReaderLock l(&impl_->mu);
  auto it = impl_->users.find(std::pair{tenant, std::string(username)});
  if (it == impl_->users.end()) return Status::NotFound("no user '" + std::string(username) + "'");
  return it->second.user;
}

Result<Auth::SignIn> Auth::Login(std::string_view tenant_name, std::string_view username,
                                 std::string_view password, std::string_view address,
                                 int64_t now_s) {
  const std::string user_key = "u:" + std::string(tenant_name) + "/" + std::string(username);
  const std::string address_key = "a:" + std::string(address);
  {
    MutexLock l(&impl_->attempts_mu);
    int64_t until = 0;
    for (const std::string* k : {&user_key, &address_key}) {
      auto it = impl_->attempts.find(*k);
      if (it != impl_->attempts.end()) until = std::max(until, it->second.locked_until_s);
    }
    if (until > now_s) {
      return Status::ResourceExhausted("too many failed sign-ins; retry in " +
                                       std::to_string(until - now_s) + " s");
    }
  }
  Result<storage::TenantId> tenant = impl_->storage->FindTenant(tenant_name);
  std::string hash;
  User user;
  if (tenant.ok()) {
    ReaderLock l(&impl_->mu);
    auto it = impl_->users.find(std::pair{*tenant, std::string(username)});
    if (it != impl_->users.end()) {
      hash = it->second.hash;
      user = it->second.user;
    }
  }
  // The same Argon2id work whether the tenant and user exist or not.
  const bool verified = VerifySecret(hash, password) && !user.disabled;
  if (!verified) {
    MutexLock l(&impl_->attempts_mu);
    const int64_t base = impl_->options.lockout_base.count();
    const int64_t max = impl_->options.lockout_max.count();
    // A spray of names must not grow the table without bound: past 10,000 entries, those whose
    // lockout has lifted are forgotten.
    if (impl_->attempts.size() > 10000) {
      std::erase_if(impl_->attempts,
                    [&](const auto& kv) { return kv.second.locked_until_s < now_s; });
    }
    for (auto [k, limit] : {std::pair{&user_key, impl_->options.lockout_after},
                            std::pair{&address_key, 4 * impl_->options.lockout_after}}) {
      Impl::Attempts& a = impl_->attempts[*k];
      ++a.failures;
      if (a.failures >= limit) {
        const int doublings = std::min(a.failures - limit, 20);
        a.locked_until_s = now_s + std::min(max, base << doublings);
      }
    }
    return Refused();
  }
  {
    MutexLock l(&impl_->attempts_mu);
    impl_->attempts.erase(user_key);
  }
  const std::string refresh = ingest::Base64UrlEncode(ingest::RandomBytes(32));
  const std::string sid = Sha256Hex(refresh);
  const int64_t expires = now_s + impl_->options.session_ttl.count();
  user.last_login_ns = now_s * storage::kSecondNs;
  {
    WriterLock l(&impl_->mu);
    auto it = impl_->users.find(std::pair{*tenant, user.username});
    if (it == impl_->users.end()) return Refused();  // deleted meanwhile
    it->second.user.last_login_ns = user.last_login_ns;
    const std::string session =
        storage::JsonText(json::object{{"username", user.username}, {"expires_s", expires}});
    const std::string user_record = EncodeUser(it->second.user, it->second.hash);
    const storage::Storage::RecordWrite writes[] = {{kSessionKind, sid, session},
                                                    {kUserKind, user.username, user_record}};
    if (Status s = impl_->storage->WriteRecords(*tenant, writes); !s.ok()) return s;
    impl_->sessions[sid] = Impl::Session{*tenant, user.username, expires};
  }
  Principal principal{*tenant,   std::string(tenant_name),
                      user.role, std::string(kUserPrefix) + user.username,
                      0,         sid};
  const int64_t ttl = impl_->options.session_token_ttl.count();
  IssuedToken token{SignJwt(principal, now_s, now_s + ttl), ttl, principal};
  token.principal.expires_s = now_s + ttl;
  return SignIn{std::move(token), refresh, expires, std::move(user)};
}

Result<Auth::SignIn> Auth::Refresh(std::string_view refresh, int64_t now_s) {
  const std::string sid = Sha256Hex(refresh);
  const int64_t expires = now_s + impl_->options.session_ttl.count();
  User user;
  storage::TenantId tenant = 0;
  {
    WriterLock l(&impl_->mu);
    auto it = impl_->sessions.find(sid);
    if (it == impl_->sessions.end() || it->second.expires_s <= now_s) {
      return Status::InvalidArgument("the session has ended; sign in again");
    }
    auto u = impl_->users.find(std::pair{it->second.tenant, it->second.username});
    if (u == impl_->users.end() || u->second.user.disabled) {
      return Status::InvalidArgument("the session has ended; sign in again");
    }
    tenant = it->second.tenant;
    user = u->second.user;
    const std::string session =
        storage::JsonText(json::object{{"username", user.username}, {"expires_s", expires}});
    const storage::Storage::RecordWrite write{kSessionKind, sid, session};
    if (Status s = impl_->storage->WriteRecords(tenant, std::span(&write, 1)); !s.ok()) return s;
    it->second.expires_s = expires;
  }
  Principal principal{tenant,    impl_->TenantName(tenant),
                      user.role, std::string(kUserPrefix) + user.username,
                      0,         sid};
  const int64_t ttl = impl_->options.session_token_ttl.count();
  IssuedToken token{SignJwt(principal, now_s, now_s + ttl), ttl, principal};
  token.principal.expires_s = now_s + ttl;
  return SignIn{std::move(token), std::string(refresh), expires, std::move(user)};
}

Status Auth::Logout(std::string_view session_or_refresh) {
  WriterLock l(&impl_->mu);
  auto it = impl_->sessions.find(session_or_refresh);
  if (it == impl_->sessions.end()) it = impl_->sessions.find(Sha256Hex(session_or_refresh));
  if (it == impl_->sessions.end()) return Status::OK();
  const storage::Storage::RecordWrite write{kSessionKind, it->first, std::nullopt};
  if (Status s = impl_->storage->WriteRecords(it->second.tenant, std::span(&write, 1)); !s.ok()) {
    return s;
  }
  impl_->sessions.erase(it);
  return Status::OK();
}

}  // namespace foresight::http
