// Private to http/: the state behind http::Auth, shared by auth.cc (clients, JWTs, the key) and
// users.cc (users, sign-in sessions, lockouts).
#pragma once

#include "http/http.h"
#include "storage/sync.h"

#include <map>
#include <memory>
#include <string>
#include <utility>

namespace foresight::http {

// An Argon2id hash of `secret` at libsodium's interactive limits; empty when out of memory.
std::string HashSecret(std::string_view secret);
// Whether `secret` matches `hash`; a missing hash costs the same work as a wrong secret, so
// timing does not tell which names exist.
bool VerifySecret(const std::string& hash, std::string_view secret);

struct Auth::Impl {
  Impl(storage::Storage* s, const AuthOptions& o) : storage(s), options(o) {}
  Status Load();
  Status LoadRecords();
  Status LoadUsers() FORESIGHT_REQUIRES(mu);
  Status LoadKey();
  // Tenants are never renamed, so a name is looked up once per credential, not per request.
  std::string TenantName(storage::TenantId tenant) const;
  // Whether the JWT claims of a user's session still hold: the session is live and its user
  // neither disabled nor deleted.
  bool SessionLive(const Principal& principal, int64_t now_s) const FORESIGHT_REQUIRES_SHARED(mu);
  // Ends every session of one user, in storage first.
  Status EndSessionsOf(storage::TenantId tenant, std::string_view username) FORESIGHT_REQUIRES(mu);

  storage::Storage* const storage;
  const AuthOptions options;
  std::string key;
  mutable SharedMutex mu;
  // client id -> (tenant, client).
  std::map<std::string, std::pair<storage::TenantId, Client>, std::less<>> clients
      FORESIGHT_GUARDED_BY(mu);
  std::unique_ptr<ingest::ApiTokens> tokens;

  struct StoredUser {
    User user;
    std::string hash;
  };
  std::map<std::pair<storage::TenantId, std::string>, StoredUser, std::less<>> users
      FORESIGHT_GUARDED_BY(mu);
  struct Session {
    storage::TenantId tenant = 0;
    std::string username;
    int64_t expires_s = 0;
  };
  // session id (hex of the refresh secret's SHA-256, first 16 bytes) -> session.
  std::map<std::string, Session, std::less<>> sessions FORESIGHT_GUARDED_BY(mu);

  // Failed sign-ins by "u:<tenant>/<username>" and "a:<address>".
  struct Attempts {
    int failures = 0;
    int64_t locked_until_s = 0;
  };
  Mutex attempts_mu;
  std::map<std::string, Attempts, std::less<>> attempts FORESIGHT_GUARDED_BY(attempts_mu);
};

}  // namespace foresight::http
