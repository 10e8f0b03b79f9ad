// http/auth.h — who may do what: client credentials, JWTs, roles and write tokens.
//
// Purpose: tenants' client credentials (secrets kept only as Argon2id hashes), `POST /auth/token`
// issuing HS256 JWTs that carry tenant, role and expiry, verification of those JWTs, and the
// write-only API tokens that sensors and gateways use (revocable; kept as SHA-256 digests), plus
// the static write tokens of the `auth.tokens` setting. Records live in storage (kinds "client"
// and "api_token" of each tenant; format in http/README.md).
//
// The signing key is AuthOptions::jwt_secret when set, otherwise 32 random bytes generated on
// first start and kept in `key_file` with mode 0600.
//
// Threading: every method is thread-safe. Verification takes a shared lock; creating and revoking
// take an exclusive one and write storage before changing memory, so a credential is never
// honoured before it is durable nor after its revocation is.
//
// Errors: a wrong client id or secret, a malformed, forged, expired or revoked credential is
// Status::InvalidArgument with a message safe to show the caller (it never says which of id or
// secret was wrong).
#pragma once

#include "ingest/ingest.h"
#include "storage/storage.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace foresight::http {

// kWriter is the role of API tokens: they may write readings and nothing else. The others are
// ordered: each may do everything the one before it may.
enum class Role : uint8_t { kWriter, kViewer, kEngineer, kAdmin };
std::string_view RoleName(Role role);
// "viewer", "engineer" or "admin" (client roles; "writer" is not one).
Result<Role> ParseClientRole(std::string_view name);

// The caller of a request, as its credential proves it.
struct Principal {
  storage::TenantId tenant = 0;
  std::string tenant_name;
  Role role = Role::kViewer;
  std::string subject;    // client id, "token:<id>" or "static-token"
  int64_t expires_s = 0;  // a JWT's exp claim (Unix seconds); 0: the credential does not expire
};

struct AuthOptions {
  std::string jwt_secret;  // at least 32 bytes when set
  std::string key_file;    // the generated key's home when jwt_secret is empty
  std::chrono::seconds token_ttl{3600};
  std::string static_tokens;  // "tenant:token,..." (auth.tokens); tenants are created
};

class Auth final : public ingest::TokenVerifier {
 public:
  static Result<std::unique_ptr<Auth>> Open(storage::Storage* storage, const AuthOptions& options);
  ~Auth() override;

  // --- Client credentials ----------------------------------------------------------------------
  struct Client {
    std::string id;
    Role role = Role::kViewer;
    int64_t created_ns = 0;
  };
  // Creates a client of `tenant` and returns its secret (shown once; only its hash is kept).
  // An empty id picks one ("<tenant>-<role>-<random>"). Ids are 3..64 of [A-Za-z0-9_.-] and
  // unique across tenants: AlreadyExists otherwise.
  struct NewClient {
    Client client;
    std::string secret;
  };
  Result<NewClient> CreateClient(storage::TenantId tenant, std::string_view id, Role role);
  Status DeleteClient(storage::TenantId tenant, std::string_view id);
  std::vector<Client> ListClients(storage::TenantId tenant) const;

  // --- JWTs ------------------------------------------------------------------------------------
  struct IssuedToken {
    std::string jwt;
    int64_t expires_in = 0;  // seconds
    Principal principal;
  };
  Result<IssuedToken> IssueToken(std::string_view client_id, std::string_view secret,
                                 int64_t now_s) const;
  // Signs claims for `principal` expiring at `expires_at_s` (IssueToken; tests).
  std::string SignJwt(const Principal& principal, int64_t issued_at_s, int64_t expires_at_s) const;
  // Accepts only HS256 with a valid signature, an `exp` after now, a known tenant and a client
  // role; a token of a deleted client is refused too.
  Result<Principal> VerifyJwt(std::string_view jwt, int64_t now_s) const;

  // --- Write-only API tokens -------------------------------------------------------------------
  struct ApiToken {
    std::string id;
    std::string name;
    int64_t created_ns = 0;
    int64_t revoked_ns = 0;  // 0 while valid
  };
  struct NewApiToken {
    ApiToken token;
    std::string secret;  // the token itself, shown once
  };
  Result<NewApiToken> CreateApiToken(storage::TenantId tenant, std::string_view name);
  Status RevokeApiToken(storage::TenantId tenant, std::string_view id);
  std::vector<ApiToken> ListApiTokens(storage::TenantId tenant) const;

  // TokenVerifier: a write token (API or static) to its tenant.
  Result<storage::TenantId> Verify(std::string_view token) const override;

  // A bearer credential of any kind: a JWT (by its shape) or a write token.
  Result<Principal> Authenticate(std::string_view credential, int64_t now_s) const;

 private:
  Auth(storage::Storage* storage, const AuthOptions& options);
  Status Load();
  Status LoadRecords();
  Status LoadKey();
  // Tenants are never renamed, so a name is looked up once per credential, not per request.
  std::string TenantName(storage::TenantId tenant) const;

  struct TokenEntry {
    storage::TenantId tenant;
    std::string tenant_name;
    std::string id;  // empty for static tokens
  };

  storage::Storage* const storage_;
  const AuthOptions options_;
  std::string key_;
  mutable std::shared_mutex mu_;
  // client id -> (tenant, client); SHA-256 digest -> write token (revoked ones are removed).
  std::map<std::string, std::pair<storage::TenantId, Client>, std::less<>> clients_;
  std::unordered_map<std::string, TokenEntry> tokens_;
};

}  // namespace foresight::http
