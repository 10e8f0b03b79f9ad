// http/http.h — the FORESIGHT HTTP server (Boost.Beast on an Asio thread pool).
//
// Purpose: serves the appliance's HTTP endpoints: GET /health (liveness), GET /ready (storage
// open and accepting writes), the InfluxDB-compatible writes (POST /write, POST /api/v2/write,
// GET|HEAD /ping), JSON readings (POST /api/v1/tenants/{tenant}/readings) and GET /metrics
// (Prometheus text: ingest, TCP and storage counters). Routes and their
// answers are documented in http/README.md. The REST API and WebSocket arrive with later issues
// on this same server.
//
// Threading: Start() and Stop() from one thread (main). Requests run on the server's own pool
// of `threads` threads, one strand per connection; a write blocks its pool thread until its
// points are durable (group commit shares the fsync between concurrent writes). Everything in
// Services is borrowed, must outlive the server, and is used from the pool threads.
//
// Errors: Start() returns a Status naming the address when it cannot listen. Handlers never
// throw out: a failing handler answers 500 and the server keeps serving. Bad requests get a
// 4xx with a JSON body naming what was wrong.
#pragma once

#include "ingest/ingest.h"
#include "storage/storage.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace foresight::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;  // 0 picks a free port (tests)
  // Pool threads; 0 means one per core, at most 2 (the ingest path needs the rest).
  int threads = 0;
  // Connections idle longer than this are closed. Default 60 s.
  int idle_timeout_s = 60;
};

// Static write tokens, one per tenant, from the configuration ("tenant:token,tenant:token").
// Tokens are kept only as SHA-256 digests. Thread-safe (immutable after Parse).
class TokenTable final : public ingest::TokenVerifier {
 public:
  // Creates each named tenant that does not exist yet. Tokens must be at least 16 characters
  // of [A-Za-z0-9_.~+/=-]; a token may name only one tenant.
  static Result<std::unique_ptr<TokenTable>> Parse(std::string_view spec,
                                                   storage::Storage* storage);
  Result<storage::TenantId> Verify(std::string_view token) const override;
  size_t size() const { return by_digest_.size(); }

 private:
  std::unordered_map<std::string, storage::TenantId> by_digest_;
};

// What the handlers use. All borrowed; each must outlive the server.
struct Services {
  storage::Storage* storage = nullptr;
  ingest::Ingestor* ingestor = nullptr;
  const ingest::TokenVerifier* tokens = nullptr;
  const ingest::TcpListener* tcp = nullptr;  // optional
};

class Server {
 public:
  // Binds, listens and starts the pool.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                               const Services& services);
  // Stops accepting, closes connections and joins the pool. Idempotent.
  virtual void Stop() = 0;
  // The bound port (the chosen one when options.port was 0).
  virtual uint16_t port() const = 0;
  virtual ~Server() = default;

 protected:
  Server() = default;
};

}  // namespace foresight::http
