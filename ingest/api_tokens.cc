// API tokens: kept only as SHA-256 digests (in memory and in storage records), so a stolen data
// directory or core dump hands out nothing usable.
#include "ingest/ingest.h"
#include "storage/json.h"
#include "storage/sync.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace foresight::ingest {
namespace {

namespace json = boost::json;

constexpr std::string_view kTokenKind = "api_token";
constexpr size_t kMinStaticTokenBytes = 16;

// Records made before scopes existed have no "scope": they were write tokens.
ApiTokens::Scope ScopeOf(const json::object& o) {
  const json::value* scope = o.if_contains("scope");
  return scope && scope->is_string() && scope->as_string() == "read" ? ApiTokens::Scope::kRead
                                                                     : ApiTokens::Scope::kWrite;
}

std::string Sha256(std::string_view text) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return out;
}

bool StaticTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("_.~+/=-").find(c) != std::string_view::npos;
}

std::string TenantName(const storage::Storage& storage, storage::TenantId tenant) {
  for (const auto& [t, name] : storage.ListTenants()) {
    if (t == tenant) return name;
  }
  return {};
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

std::string HexDecode(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  size_t len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(),
                     hex.size(), nullptr, &len, nullptr) != 0) {
    return {};
  }
  out.resize(len);
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

struct ApiTokens::Impl {
  explicit Impl(storage::Storage* s) : storage(s) {}
  Status LoadStatic(std::string_view spec);
  Status LoadRecords();

  storage::Storage* const storage;
  mutable SharedMutex mu;
  // SHA-256 digest -> holder; revoked tokens are removed.
  std::unordered_map<std::string, Holder> by_digest FORESIGHT_GUARDED_BY(mu);
};

Status ApiTokens::Impl::LoadStatic(std::string_view spec) {
  WriterLock l(&mu);
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view entry = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (entry.empty()) continue;
    size_t colon = entry.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Status::InvalidArgument("auth.tokens: each entry must be tenant:token");
    }
    std::string tenant_name(entry.substr(0, colon));
    std::string_view token = entry.substr(colon + 1);
    if (token.size() < kMinStaticTokenBytes ||
        !std::all_of(token.begin(), token.end(), StaticTokenChar)) {
      return Status::InvalidArgument("auth.tokens: the token of tenant '" + tenant_name +
                                     "' must be at least 16 characters of [A-Za-z0-9_.~+/=-]");
    }
    Result<storage::TenantId> tenant = storage->CreateTenant(tenant_name);
    if (!tenant.ok()) return tenant.status();
    if (!by_digest.emplace(Sha256(token), Holder{*tenant, tenant_name, {}}).second) {
      return Status::InvalidArgument("auth.tokens: a token is listed twice");
    }
  }
  return Status::OK();
}

Status ApiTokens::Impl::LoadRecords() {
  WriterLock l(&mu);
  for (const auto& [tenant, name] : storage->ListTenants()) {
    auto records = storage->ScanRecords(tenant, kTokenKind, {});
    if (!records.ok()) return records.status();
    for (const auto& [id, value] : *records) {
      auto v = storage::ParseJson(value);
      const json::object* o = v.ok() ? v->if_object() : nullptr;
      const json::value* revoked = o ? o->if_contains("revoked_ns") : nullptr;
      const json::value* digest = o ? o->if_contains("digest") : nullptr;
      if (!revoked || !revoked->is_number() || !digest || !digest->is_string()) {
        // Records are written only by this file; one that does not parse means damaged storage.
        return Status::Corruption("api token '" + id + "' of tenant '" + name + "' does not parse");
      }
      if (revoked->to_number<int64_t>() != 0) continue;
      by_digest.emplace(HexDecode(digest->as_string()), Holder{tenant, name, id, ScopeOf(*o)});
    }
  }
  return Status::OK();
}

ApiTokens::ApiTokens(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiTokens::~ApiTokens() = default;

Result<std::unique_ptr<ApiTokens>> ApiTokens::Open(storage::Storage* storage,
                                                   std::string_view static_tokens) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  auto impl = std::make_unique<Impl>(storage);
  if (Status s = impl->LoadStatic(static_tokens); !s.ok()) return s;
  try {
    if (Status s = impl->LoadRecords(); !s.ok()) return s;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("api token records do not parse: ") + e.what());
  }
  return std::unique_ptr<ApiTokens>(new ApiTokens(std::move(impl)));
}

Result<ApiTokens::NewToken> ApiTokens::Create(storage::TenantId tenant, std::string_view name,
                                              Scope scope) {
  if (name.empty() || name.size() > 128) {
    return Status::InvalidArgument("name must be 1..128 characters");
  }
  Token token{HexEncode(RandomBytes(6)), std::string(name), impl_->storage->clock().NowNs(), 0,
              scope};
  std::string secret = "fst_" + Base64UrlEncode(RandomBytes(30));
  std::string digest = Sha256(secret);
  json::object o;
  o["name"] = token.name;
  o["digest"] = HexEncode(digest);
  o["created_ns"] = token.created_ns;
  o["revoked_ns"] = 0;
  if (scope == Scope::kRead) o["scope"] = "read";
  std::string value = storage::JsonText(o);
  std::string tenant_name = TenantName(*impl_->storage, tenant);
  WriterLock l(&impl_->mu);
  storage::Storage::RecordWrite write{kTokenKind, token.id, value};
  if (Status s = impl_->storage->WriteRecords(tenant, std::span(&write, 1)); !s.ok()) return s;
  impl_->by_digest.emplace(std::move(digest),
                           Holder{tenant, std::move(tenant_name), token.id, scope});
  return NewToken{std::move(token), std::move(secret)};
}

Status ApiTokens::Revoke(storage::TenantId tenant, std::string_view id) {
  WriterLock l(&impl_->mu);
  auto record = impl_->storage->GetRecord(tenant, kTokenKind, id);
  if (!record.ok()) return record.status();
  auto parsed = storage::ParseJsonObject(*record);
  const json::value* revoked = parsed.ok() ? parsed->if_contains("revoked_ns") : nullptr;
  const json::value* digest = parsed.ok() ? parsed->if_contains("digest") : nullptr;
  if (!revoked || !revoked->is_number() || !digest || !digest->is_string()) {
    return Status::Corruption("api token '" + std::string(id) + "' does not parse");
  }
  if (revoked->to_number<int64_t>() != 0) return Status::OK();
  json::object o = std::move(*parsed);
  o["revoked_ns"] = impl_->storage->clock().NowNs();
  std::string value = storage::JsonText(o);
  storage::Storage::RecordWrite write{kTokenKind, id, value};
  if (Status s = impl_->storage->WriteRecords(tenant, std::span(&write, 1)); !s.ok()) return s;
  impl_->by_digest.erase(HexDecode(o.at("digest").as_string()));
  return Status::OK();
}

std::vector<ApiTokens::Token> ApiTokens::List(storage::TenantId tenant) const {
  std::vector<Token> out;
  auto records = impl_->storage->ScanRecords(tenant, kTokenKind, {});
  if (!records.ok()) return out;
  for (const auto& [id, value] : *records) {
    // Open() checked every record; one changed since is damaged storage, and is left out.
    auto o = storage::ParseJsonObject(value);
    const json::value* name = o.ok() ? o->if_contains("name") : nullptr;
    const json::value* created = o.ok() ? o->if_contains("created_ns") : nullptr;
    const json::value* revoked = o.ok() ? o->if_contains("revoked_ns") : nullptr;
    if (!name || !name->is_string() || !created || !created->is_number() || !revoked ||
        !revoked->is_number()) {
      continue;
    }
    out.push_back({id, std::string(name->as_string()), created->to_number<int64_t>(),
                   revoked->to_number<int64_t>(), ScopeOf(*o)});
  }
  return out;
}

std::optional<ApiTokens::Holder> ApiTokens::Find(std::string_view token) const {
  std::string digest = Sha256(token);
  ReaderLock l(&impl_->mu);
  auto it = impl_->by_digest.find(digest);
  if (it == impl_->by_digest.end()) return std::nullopt;
  return it->second;
}

Result<storage::TenantId> ApiTokens::Verify(std::string_view token) const {
  std::optional<Holder> holder = Find(token);
  if (!holder) return Status::InvalidArgument("invalid token");
  if (holder->scope != Scope::kWrite) {
    return Status::FailedPrecondition("a read token may not write: use a write token");
  }
  return holder->tenant;
}

}  // namespace foresight::ingest
