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
#include "storage/storage.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::http {

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
};

class Auth;

// What the handlers use. All borrowed; each must outlive the server.
struct Services {
  storage::Storage* storage = nullptr;
  ingest::Ingestor* ingestor = nullptr;
  Auth* auth = nullptr;
  const ingest::TcpListener* tcp = nullptr;  // optional
  ml::Engine* ml = nullptr;                  // optional: predictions, models, training
  const query::Windows* windows = nullptr;   // optional: rolling windows
};

// A tenant's fleet as ml::Engine reads it: assets with their criticality and installation time
// (the API's asset fields), their numeric series by `asset_tag` (one per field name), the
// maintenance records (failure and corrective ones are failures) and when each alert opened.
// Reads storage only; safe from any thread.
Result<ml::Fleet> LoadFleet(const storage::Storage& storage, storage::TenantId tenant,
                            std::string_view asset_tag);

// One route of the API as the dispatcher sees it (tests build their matrices from this).
struct RouteInfo {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/api/v1/tenants/{tenant}/assets/{asset_id}"
  // "public", "own credentials" (checks its own), "writer", "viewer", "engineer", "admin".
  std::string access;
};
std::vector<RouteInfo> ListRoutes();

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
