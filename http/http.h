// http/http.h — the FORESIGHT HTTP server (Boost.Beast on an Asio thread pool).
//
// Purpose: serves the appliance's HTTP endpoints. Today: GET /health (liveness) and GET /ready
// (storage open and accepting writes); the REST API, Influx-compatible writes and WebSocket
// arrive with later issues on this same server.
//
// Threading: Start() and Stop() from one thread (main). Requests run on the server's own pool
// of `threads` threads, one strand per connection. The Storage passed in must outlive the
// server and is used from the pool threads (Storage is thread-safe).
//
// Errors: Start() returns a Status naming the address when it cannot listen. Handlers never
// throw out: a failing handler answers 500 and the server keeps serving.
#pragma once

#include "storage/storage.h"

#include <cstdint>
#include <memory>
#include <string>

namespace foresight::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;  // 0 picks a free port (tests)
  // Pool threads; 0 means one per core, at most 2 (the ingest path needs the rest).
  int threads = 0;
  // Connections idle longer than this are closed. Default 60 s.
  int idle_timeout_s = 60;
};

class Server {
 public:
  // Binds, listens and starts the pool. `storage` must outlive the server.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                               storage::Storage* storage);
  // Stops accepting, closes connections and joins the pool. Idempotent.
  virtual void Stop() = 0;
  // The bound port (the chosen one when options.port was 0).
  virtual uint16_t port() const = 0;
  virtual ~Server() = default;

 protected:
  Server() = default;
};

}  // namespace foresight::http
