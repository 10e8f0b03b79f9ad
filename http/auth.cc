// Static write tokens from the configuration. Digests, not tokens, are kept in memory so a
// core dump or a heap read does not hand out credentials; a lookup hashes the candidate once.
#include "http/http.h"

#include <sodium.h>

#include <algorithm>

namespace foresight::http {
namespace {

constexpr size_t kMinTokenBytes = 16;

std::string Digest(std::string_view token) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return out;
}

bool TokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("_.~+/=-").find(c) != std::string_view::npos;
}

}  // namespace

Result<std::unique_ptr<TokenTable>> TokenTable::Parse(std::string_view spec,
                                                      storage::Storage* storage) {
  auto table = std::unique_ptr<TokenTable>(new TokenTable());
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
    if (token.size() < kMinTokenBytes || !std::all_of(token.begin(), token.end(), TokenChar)) {
      return Status::InvalidArgument("auth.tokens: the token of tenant '" + tenant_name +
                                     "' must be at least 16 characters of [A-Za-z0-9_.~+/=-]");
    }
    Result<storage::TenantId> tenant = storage->CreateTenant(tenant_name);
    if (!tenant.ok()) return tenant.status();
    if (!table->by_digest_.emplace(Digest(token), *tenant).second) {
      return Status::InvalidArgument("auth.tokens: a token is listed twice");
    }
  }
  return table;
}

Result<storage::TenantId> TokenTable::Verify(std::string_view token) const {
  auto it = by_digest_.find(Digest(token));
  if (it == by_digest_.end()) return Status::NotFound("unknown token");
  return it->second;
}

}  // namespace foresight::http
