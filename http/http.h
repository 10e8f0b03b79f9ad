// http/http.h — the FORESIGHT HTTP server (Boost.Beast on an Asio thread pool).
//
// Purpose: serves every HTTP endpoint of the appliance from one route table: operations
// (/health, /ready, /metrics, /openapi.json), the InfluxDB-compatible writes, sign-in
// (POST /auth/token) and the tenant-scoped REST API under /api/v1/tenants/{tenant}/. Routes and
// their answers are documented in http/README.md and served as OpenAPI 3 at /openapi.json.
//
// Threading: Start() and Stop() from one thread (main). Requests run on the server's own pool
// of `threads` threads, one strand per connection; a write blocks its pool thread until its
// points are durable (group commit shares the fsync between concurrent writes). Everything in
// Services is borrowed, must outlive the server, and is used from the pool threads. Stop() is
// graceful: it stops accepting, lets requests in flight finish (up to shutdown_grace_s), then
// closes every connection.
//
// Errors: Start() returns a Status naming the address when it cannot listen. Handlers never
// throw out: a failing handler answers 500 and the server keeps serving. Bad requests get a
// 4xx with a JSON body naming what was wrong.
#pragma once

#include "ingest/ingest.h"
#include "ml/ml.h"
#include "query/query.h"
#include "storage/backup.h"
#include "storage/storage.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::http {

// --- Credentials -----------------------------------------------------------------------------
// Who may do what: client credentials, JWTs, roles and write tokens.
//
// Tenants' client credentials (secrets kept only as Argon2id hashes), `POST /auth/token`
// issuing HS256 JWTs that carry tenant, role and expiry, and verification of those JWTs. The
// write-only tokens of sensors and gateways are ingest::ApiTokens, which the Auth opens and
// checks first. Records live in storage (kind "client" of each tenant; format in
// http/README.md).
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
  std::string subject;       // client id, "user:<username>", "token:<id>" or "static-token"
  int64_t expires_s = 0;     // a JWT's exp claim (Unix seconds); 0: the credential does not expire
  std::string session = {};  // a user's sign-in session id (the JWT's sid); empty for the others
};

struct AuthOptions {
  std::string jwt_secret;  // at least 32 bytes when set
  std::string key_file;    // the generated key's home when jwt_secret is empty
  std::chrono::seconds token_ttl{3600};
  std::string static_tokens;  // "tenant:token,..." (auth.tokens; ingest::ApiTokens::Open)
  // A user's sign-in lasts session_ttl from its last renewal; the JWTs it hands the page live
  // session_token_ttl and are renewed with the session cookie before they expire.
  std::chrono::seconds session_ttl{12 * 3600};
  std::chrono::seconds session_token_ttl{900};
  // Failed sign-ins: after this many in a row for one user (or 4× as many from one address),
  // that user (address) is locked out for lockout_base, doubling with each further failure up to
  // lockout_max; the lockout lifts by itself, and a success clears the user's count.
  int lockout_after = 5;
  std::chrono::seconds lockout_base{30};
  std::chrono::seconds lockout_max{900};
};

class Auth {
 public:
  static Result<std::unique_ptr<Auth>> Open(storage::Storage* storage, const AuthOptions& options);
  ~Auth();
  Auth(const Auth&) = delete;
  Auth& operator=(const Auth&) = delete;

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

  // --- Users: people who sign in with a name and a password (the dashboard) --------------------
  // Per tenant, kept as storage records of kind "user" (id: the username; password as an
  // Argon2id hash). Usernames are 1..64 of [a-z0-9_.@+-] (an e-mail address fits); passwords are
  // 10..256 bytes.
  struct User {
    std::string username = {};
    std::string display_name = {};
    Role role = Role::kViewer;
    bool disabled = false;
    int64_t created_ns = 0;
    int64_t last_login_ns = 0;  // 0: never
  };
  // AlreadyExists for a username the tenant has; InvalidArgument "<field>: <why>" for a bad one.
  Result<User> CreateUser(storage::TenantId tenant, const User& user, std::string_view password);
  struct UserChange {
    std::optional<std::string> display_name = {};
    std::optional<Role> role = {};
    std::optional<bool> disabled = {};
    std::optional<std::string> password = {};
  };
  // A new role, a new password or disabling signs the user out everywhere (their sessions end).
  Result<User> UpdateUser(storage::TenantId tenant, std::string_view username,
                          const UserChange& change);
  Status DeleteUser(storage::TenantId tenant, std::string_view username);
  std::vector<User> ListUsers(storage::TenantId tenant) const;
  Result<User> GetUser(storage::TenantId tenant, std::string_view username) const;

  // --- Sign-in sessions -------------------------------------------------------------------------
  // Signing in makes a session (storage records of kind "session", holding the SHA-256 of its
  // refresh secret): the browser keeps the refresh secret in an HttpOnly cookie, and the page
  // keeps only short-lived JWTs (session_token_ttl) in memory, renewed with Refresh.
  struct SignIn {
    IssuedToken token;
    std::string refresh;    // the cookie's value; shown once
    int64_t expires_s = 0;  // when the session ends unless renewed
    User user;
  };
  // Every refusal (unknown tenant or user, wrong password, disabled user) is the same
  // InvalidArgument after the same Argon2id work; a locked-out user or address is
  // ResourceExhausted whose message ends in the seconds to wait ("...; retry in 30 s").
  Result<SignIn> Login(std::string_view tenant, std::string_view username,
                       std::string_view password, std::string_view address, int64_t now_s);
  // A fresh JWT for the session the refresh secret names, and the session extended.
  // InvalidArgument when it has ended.
  Result<SignIn> Refresh(std::string_view refresh, int64_t now_s);
  // Ends a session (by id, or by its refresh secret): its JWTs are refused from now on.
  Status Logout(std::string_view session_or_refresh);

  // --- Write tokens ------------------------------------------------------------------------------
  // The API tokens (AuthOptions::static_tokens among them), opened with the Auth. The TCP
  // listener verifies with them too.
  ingest::ApiTokens& tokens() const;

  // A bearer credential of any kind: a write token, or else a JWT.
  Result<Principal> Authenticate(std::string_view credential, int64_t now_s) const;

 private:
  struct Impl;
  explicit Auth(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;  // 0 picks a free port (tests)
  // Pool threads; 0 means one per core, at most 2 (the ingest path needs the rest).
  int threads = 0;
  // Connections idle longer than this between requests are closed. Default 60 s.
  int idle_timeout_s = 60;
  // A request's header (and then its body) must arrive within this. Default 10 s.
  int header_timeout_s = 10;
  // Connections beyond this are answered 503 and closed.
  size_t max_connections = 10000;
  // Stop() waits this long for requests in flight before closing their connections.
  int shutdown_grace_s = 10;
  // Per-tenant API rate limit (requests/s, burst); 0 turns it off. Writes are not limited here.
  double rate_limit_per_s = 1000;
  double rate_limit_burst = 2000;
  // Origins ("https://ops.example.com") whose pages may call the API from a browser: their
  // requests are answered with Access-Control-Allow-Origin, and their preflights with 204. Empty:
  // CORS off (the dashboard is same-origin and needs none).
  std::vector<std::string> cors_origins;
  // The bearer token of the operator routes (/api/v1/admin/...: backups); empty turns them off
  // (403). Not a tenant credential: it reaches every tenant's data.
  std::string operator_token;
};

class Hub;
class Notifier;

// What the handlers use. All borrowed; each must outlive the server.
struct Services {
  storage::Storage* storage = nullptr;
  ingest::Ingestor* ingestor = nullptr;
  Auth* auth = nullptr;
  const ingest::TcpListener* tcp = nullptr;  // optional
  ml::Engine* ml = nullptr;                  // optional: predictions, models, training
  const query::Windows* windows = nullptr;   // optional: rolling windows
  query::Alerts* alerts = nullptr;           // optional: rules and alerts
  Hub* hub = nullptr;                        // optional: the WebSocket hub behind /ws
  Notifier* notifier = nullptr;              // optional: alert webhooks
  storage::Backups* backups = nullptr;       // optional: /api/v1/admin/backups, /metrics
  query::InfluxQlOptions influxql = {};      // the bounds of /query (now and database unused)
};

// One route of the API as the dispatcher sees it (tests build their matrices from this).
struct RouteInfo {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/api/v1/tenants/{tenant}/assets/{asset_id}"
  // "public", "own credentials" (checks its own), "writer", "viewer", "engineer", "admin".
  std::string access;
};
std::vector<RouteInfo> ListRoutes();

// The live feed behind `GET /ws` (WebSocket). A client authenticates with a JWT (the `token`
// query parameter, or a first message {"type":"auth","token":...}) and subscribes:
//   {"type":"subscribe","sub":"s1","topic":"readings"|"windows"|"alerts"|"health",
//    "tenant":"acme","asset_id":"pump-7","metrics":["temp"],"max_rate_hz":1,"mode":"latest"}
// Every subscription is checked against the token's tenant. Readings and windows are sent at
// most max_rate_hz per subscription (readings: the latest value per metric, or with
// "mode":"minmax" the min, max, last and count of each metric per interval); alerts are sent on
// every transition; health when an asset's alert-based health score changes. The protocol is in
// http/README.md.
//
// Each connection has a bounded send queue: a reading or window update replaces the one of its
// subscription still queued, and when the queue is full the oldest such update is dropped. Alert
// and health events are never dropped: a client too slow for them is closed with 1008 (policy).
//
// Threading: OnAppend and OnAlert may be called from any thread and never block on a client;
// one thread of the hub's own paces the rate-limited updates. The Storage, Windows and Alerts
// must outlive the Hub, and the Hub the Server.
struct HubOptions {
  size_t max_queue = 256;              // messages waiting per connection
  size_t max_subscriptions = 100;      // per connection
  double max_rate_hz = 10;             // the most a subscription may ask for; default 1
  std::chrono::milliseconds tick{20};  // pacing granularity of rate-limited updates
};

struct HubStats {
  uint64_t connections = 0;  // open now
  uint64_t subscriptions = 0;
  uint64_t messages_sent = 0;
  uint64_t updates_dropped = 0;  // readings or windows replaced or dropped for a slow client
  uint64_t closed_slow = 0;      // clients closed for not keeping up with events
};

class Hub {
 public:
  Hub(storage::Storage* storage, const query::Windows* windows, query::Alerts* alerts,
      std::string asset_tag, HubOptions options = {});
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // The ingest path's batches, once durable. Costs one atomic load when nobody follows readings.
  void OnAppend(storage::TenantId tenant, std::span<const storage::Sample> samples);
  // Alert transitions (register with query::Alerts::AddListener).
  void OnAlert(const query::AlertEvent& event);
  HubStats GetStats() const;
  // Waits until no thread holds a session it found before. A server calls it once it has closed
  // its WebSockets (which leaves them unsubscribed), before its event loop goes away.
  void Quiesce();

 private:
  friend struct HubAccess;  // the WebSocket sessions' way in (http/hub.cc)
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Alert notifications to per-tenant webhooks, delivered by threads of their own, never on the
// ingest path. A webhook is {url (http or https), format, secret, events, min_severity,
// enabled}; "json" posts {"event":"alert.opened"|..., "tenant", "alert", "sent_at"} signed with
// HMAC-SHA256 of the body under the secret (header X-Foresight-Signature: sha256=<hex>), "slack"
// posts a Slack incoming-webhook {"text"}. A failed delivery (connection error, timeout, or a
// status other than 2xx) is retried with exponential backoff up to max_attempts; each webhook's
// status says how its deliveries went, and /metrics counts them. Each webhook gets one delivery
// at a time, in order; different webhooks are served in parallel by `workers` threads, so one
// that hangs until the timeout delays only its own. HTTPS checks the server's certificate
// against the system's CAs.
struct NotifierOptions {
  int max_attempts = 6;
  std::chrono::milliseconds first_backoff{1000};  // doubles per attempt
  std::chrono::milliseconds max_backoff{60000};
  std::chrono::milliseconds timeout{5000};  // per attempt: connect, send, answer
  size_t max_pending = 10000;               // deliveries queued; beyond, new ones are dropped
  int workers = 4;                          // webhooks delivered to at the same time
  // PEM file of further CAs HTTPS webhooks are checked against (a private CA); empty: the
  // system's only.
  std::string ca_file;
};

struct WebhookConfig {
  std::string id;
  std::string url;
  bool slack = false;
  std::string secret;        // json format; empty: unsigned
  bool opened_only = false;  // else opened, acknowledged and resolved
  query::Severity min_severity = query::Severity::kInfo;
  bool enabled = true;
};

struct WebhookStatus {
  uint64_t delivered = 0;
  uint64_t failed = 0;  // gave up after max_attempts
  uint64_t attempts = 0;
  size_t pending = 0;  // queued or waiting to retry
  int last_http_status = 0;
  std::string last_error;  // of the newest failed attempt; empty after a success
  int64_t last_attempt_ns = 0, last_success_ns = 0;
};

struct NotifierStats {
  uint64_t delivered = 0, retried = 0, failed = 0, dropped = 0;
};

class Notifier {
 public:
  explicit Notifier(NotifierOptions options = {});
  ~Notifier();  // stops; deliveries still queued are dropped
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void SetWebhooks(storage::TenantId tenant, std::vector<WebhookConfig> webhooks);
  // An alert transition (register with query::Alerts::AddListener): queued, never sent here.
  void OnAlert(const query::AlertEvent& event);
  // A model's drift alert (ml::EngineOptions::on_drift), event "model.drift": a warning that
  // opens a problem, so webhooks of opened alerts only get it too. Queued, never sent here.
  void OnDrift(const ml::DriftAlert& alert);
  std::optional<WebhookStatus> Status(storage::TenantId tenant, std::string_view id) const;
  NotifierStats GetStats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Hands the tenant's stored webhooks to `notifier` (the routes after each change, serve on start).
Status InstallWebhooks(const storage::Storage& storage, Notifier* notifier,
                       storage::TenantId tenant);

class Server {
 public:
  // Binds, listens and starts the pool.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                               const Services& services);
  // Stops accepting, finishes requests in flight, closes connections, joins the pool.
  // Idempotent.
  virtual void Stop() = 0;
  // The bound port (the chosen one when options.port was 0).
  virtual uint16_t port() const = 0;
  virtual ~Server() = default;

 protected:
  Server() = default;
};

}  // namespace foresight::http
