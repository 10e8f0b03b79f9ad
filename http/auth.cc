// Sign-in credentials. Secrets are never kept: client secrets as Argon2id hashes (storage), so a
// stolen data directory or core dump hands out nothing usable (write tokens: ingest/api_tokens.cc).
#include "http/api.h"
#include "http/auth_impl.h"
#include "storage/log.h"
#include "storage/sync.h"

#include <boost/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

namespace foresight::http {

namespace {

namespace json = boost::json;

constexpr std::string_view kClientKind = "client";
constexpr size_t kKeyBytes = 32;

std::string HmacSha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

bool IdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

Status Refused() { return Status::InvalidArgument("invalid client id or secret"); }

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kWriter:
      return "writer";
    case Role::kViewer:
      return "viewer";
    case Role::kEngineer:
      return "engineer";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

Result<Role> ParseClientRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "engineer") return Role::kEngineer;
  if (name == "admin") return Role::kAdmin;
  return Status::InvalidArgument("role must be one of viewer, engineer, admin");
}

Status Auth::Impl::LoadKey() {
  if (!options.jwt_secret.empty()) {
    if (options.jwt_secret.size() < kKeyBytes) {
      return Status::InvalidArgument("auth.jwt_secret must be at least 32 characters");
    }
    key = options.jwt_secret;
    return Status::OK();
  }
  if (options.key_file.empty()) return Status::InvalidArgument("no JWT key and no key file");
  const std::string& path = options.key_file;
  std::ifstream in(path);
  if (in) {
    std::string hex;
    in >> hex;
    key = ingest::HexDecode(hex);
    if (key.size() != kKeyBytes) {
      return Status::Corruption("JWT key file '" + path + "' does not hold 64 hex digits");
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      log::Warn("JWT key file {} is readable by others (mode {:o}); chmod 600 it", path,
                st.st_mode & 0777);
    }
    return Status::OK();
  }
  key = ingest::RandomBytes(kKeyBytes);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError("cannot create JWT key file '" + path + "': " + std::strerror(errno));
  }
  std::string hex = ingest::HexEncode(key) + "\n";
  bool ok =
      ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::IOError("cannot write JWT key file '" + path + "'");
  log::Info("generated a JWT signing key in {}", path);
  return Status::OK();
}

Status Auth::Impl::Load() {
  auto opened = ingest::ApiTokens::Open(storage, options.static_tokens);
  if (!opened.ok()) return opened.status();
  tokens = std::move(*opened);
  return LoadRecords();
}

Status Auth::Impl::LoadRecords() {
  WriterLock l(&mu);
  for (const auto& [tenant, name] : storage->ListTenants()) {
    auto client_records = storage->ScanRecords(tenant, kClientKind, {});
    if (!client_records.ok()) return client_records.status();
    for (const auto& [id, value] : *client_records) {
      auto record = storage::ParseJsonObject(value);
      const json::value* role_name = record.ok() ? record->if_contains("role") : nullptr;
      const json::value* created = record.ok() ? record->if_contains("created_ns") : nullptr;
      if (!role_name || !role_name->is_string() || !created || !created->is_number()) {
        return Status::Corruption("client '" + id + "' does not parse");
      }
      Result<Role> role = ParseClientRole(role_name->as_string());
      if (!role.ok()) return Status::Corruption("client '" + id + "' has an unknown role");
      clients.emplace(id, std::pair{tenant, Client{id, *role, created->to_number<int64_t>()}});
    }
  }
  return LoadUsers();
}

std::string Auth::Impl::TenantName(storage::TenantId tenant) const {
  for (const auto& [t, name] : storage->ListTenants()) {
    if (t == tenant) return name;
  }
  return {};
}

Auth::Auth(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Auth::~Auth() = default;

Result<std::unique_ptr<Auth>> Auth::Open(storage::Storage* storage, const AuthOptions& options) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  auto impl = std::make_unique<Impl>(storage, options);
  if (Status s = impl->LoadKey(); !s.ok()) return s;
  if (Status s = impl->Load(); !s.ok()) return s;
  return std::unique_ptr<Auth>(new Auth(std::move(impl)));
}

Result<Auth::NewClient> Auth::CreateClient(storage::TenantId tenant, std::string_view id,
                                           Role role) {
  if (role == Role::kWriter) return Status::InvalidArgument("clients cannot have the writer role");
  std::string client_id(id);
  if (client_id.empty()) {
    client_id = impl_->TenantName(tenant) + "-" + std::string(RoleName(role)) + "-" +
                ingest::HexEncode(ingest::RandomBytes(4));
  }
  if (client_id.size() < 3 || client_id.size() > 64 ||
      !std::all_of(client_id.begin(), client_id.end(), IdChar)) {
    return Status::InvalidArgument("client_id must be 3..64 characters of [A-Za-z0-9_.-]");
  }
  std::string secret = ingest::Base64UrlEncode(ingest::RandomBytes(24));
  std::string hash = HashSecret(secret);
  if (hash.empty()) return Status::ResourceExhausted("out of memory hashing the client secret");
  Client client{client_id, role, impl_->storage->clock().NowNs()};
  json::object o;
  o["role"] = RoleName(role);
  o["hash"] = hash;
  o["created_ns"] = client.created_ns;
  std::string value = JsonText(o);
  WriterLock l(&impl_->mu);
  if (impl_->clients.contains(client_id)) {
    return Status::AlreadyExists("client '" + client_id + "' already exists");
  }
  storage::Storage::RecordWrite write{kClientKind, client_id, value};
  if (Status s = impl_->storage->WriteRecords(tenant, std::span(&write, 1)); !s.ok()) return s;
  impl_->clients.emplace(client_id, std::pair{tenant, client});
  return NewClient{std::move(client), std::move(secret)};
}

Status Auth::DeleteClient(storage::TenantId tenant, std::string_view id) {
  WriterLock l(&impl_->mu);
  auto it = impl_->clients.find(id);
  if (it == impl_->clients.end() || it->second.first != tenant) {
    return Status::NotFound("no client '" + std::string(id) + "'");
  }
  storage::Storage::RecordWrite write{kClientKind, id, std::nullopt};
  if (Status s = impl_->storage->WriteRecords(tenant, std::span(&write, 1)); !s.ok()) return s;
  impl_->clients.erase(it);
  return Status::OK();
}

std::vector<Auth::Client> Auth::ListClients(storage::TenantId tenant) const {
  ReaderLock l(&impl_->mu);
  std::vector<Client> out;
  for (const auto& [id, entry] : impl_->clients) {
    if (entry.first == tenant) out.push_back(entry.second);
  }
  return out;
}

Result<Auth::IssuedToken> Auth::IssueToken(std::string_view client_id, std::string_view secret,
                                           int64_t now_s) const {
  storage::TenantId tenant = 0;
  Role role = Role::kViewer;
  {
    ReaderLock l(&impl_->mu);
    auto it = impl_->clients.find(client_id);
    if (it != impl_->clients.end()) {
      tenant = it->second.first;
      role = it->second.second.role;
    }
  }
  // An unknown id costs the same Argon2id verification as a known one (VerifySecret).
  std::string hash;
  if (tenant != 0) {
    auto record = impl_->storage->GetRecord(tenant, kClientKind, client_id);
    auto doc = record.ok() ? storage::ParseJsonObject(*record) : record.status();
    const json::value* stored = doc.ok() ? doc->if_contains("hash") : nullptr;
    if (stored && stored->is_string()) hash = std::string(stored->as_string());
  }
  if (!VerifySecret(hash, secret) || tenant == 0) return Refused();
  Principal principal{.tenant = tenant,
                      .tenant_name = impl_->TenantName(tenant),
                      .role = role,
                      .subject = std::string(client_id)};
  int64_t ttl = impl_->options.token_ttl.count();
  return IssuedToken{SignJwt(principal, now_s, now_s + ttl), ttl, std::move(principal)};
}

std::string Auth::SignJwt(const Principal& principal, int64_t issued_at_s,
                          int64_t expires_at_s) const {
  json::object claims;
  claims["sub"] = principal.subject;
  claims["tenant_id"] = principal.tenant_name;
  claims["role"] = RoleName(principal.role);
  claims["iat"] = issued_at_s;
  claims["exp"] = expires_at_s;
  if (!principal.session.empty()) claims["sid"] = principal.session;
  std::string signing_input = ingest::Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                              ingest::Base64UrlEncode(JsonText(claims));
  return signing_input + "." + ingest::Base64UrlEncode(HmacSha256(impl_->key, signing_input));
}

Result<Principal> Auth::VerifyJwt(std::string_view jwt, int64_t now_s) const {
  auto invalid = [](std::string_view why) {
    return Status::InvalidArgument("invalid token: " + std::string(why));
  };
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return invalid("not a JWT");
  }
  auto header = ingest::Base64UrlDecode(jwt.substr(0, dot1));
  auto payload = ingest::Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = ingest::Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!header || !payload || !signature) return invalid("bad base64url");
  auto h = storage::ParseJsonObject(*header);
  if (!h.ok()) return invalid("bad header");
  const json::value* alg = h->if_contains("alg");
  // Only HS256: "none", RS256 (key confusion) and every other algorithm are refused outright.
  if (!alg || !alg->is_string() || alg->as_string() != "HS256") {
    return invalid("only HS256 is accepted");
  }
  std::string expected = HmacSha256(impl_->key, jwt.substr(0, dot2));
  if (signature->size() != expected.size() ||
      sodium_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return invalid("bad signature");
  }
  auto parsed_claims = storage::ParseJsonObject(*payload);
  if (!parsed_claims.ok()) return invalid("bad claims");
  const json::object& claims = *parsed_claims;
  const json::value* exp = claims.if_contains("exp");
  const json::value* tenant = claims.if_contains("tenant_id");
  const json::value* role = claims.if_contains("role");
  const json::value* sub = claims.if_contains("sub");
  if (!exp || !exp->is_int64()) return invalid("no expiry");
  if (exp->as_int64() <= now_s) return invalid("expired");
  if (!tenant || !tenant->is_string()) return invalid("no tenant");
  if (!role || !role->is_string()) return invalid("no role");
  Result<Role> r = ParseClientRole(role->as_string());
  if (!r.ok()) return invalid("unknown role");
  Result<storage::TenantId> id = impl_->storage->FindTenant(tenant->as_string());
  if (!id.ok()) return invalid("unknown tenant");
  const json::value* sid = claims.if_contains("sid");
  Principal principal{*id,
                      std::string(tenant->as_string()),
                      *r,
                      sub && sub->is_string() ? std::string(sub->as_string()) : std::string(),
                      exp->as_int64(),
                      sid && sid->is_string() ? std::string(sid->as_string()) : std::string()};
  ReaderLock l(&impl_->mu);
  if (!principal.session.empty()) {
    if (!impl_->SessionLive(principal, now_s)) return invalid("the session has ended");
    return principal;
  }
  auto it = impl_->clients.find(principal.subject);
  if (it == impl_->clients.end() || it->second.first != *id)
    return invalid("the client was deleted");
  return principal;
}

Result<Principal> Auth::Authenticate(std::string_view credential, int64_t now_s) const {
  std::optional<ingest::ApiTokens::Holder> holder = impl_->tokens->Find(credential);
  if (!holder) return VerifyJwt(credential, now_s);
  const bool reads = holder->scope == ingest::ApiTokens::Scope::kRead;
  return Principal{.tenant = holder->tenant,
                   .tenant_name = std::move(holder->tenant_name),
                   .role = reads ? Role::kViewer : Role::kWriter,
                   .subject = holder->id.empty() ? "static-token" : "token:" + holder->id};
}

ingest::ApiTokens& Auth::tokens() const { return *impl_->tokens; }

}  // namespace foresight::http
