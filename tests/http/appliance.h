// The whole appliance behind one HTTP server on loopback, as `foresight serve` wires it: a real
// storage engine in `dir`, credentials, rolling windows and alert rules fed by the ingest path,
// the ml engine (schedules off) and the server on an ephemeral port. For the HTTP tests and the
// request fuzz target; gtest-free so the fuzz target can use it.
#pragma once

#include "http/http.h"

#include <memory>
#include <string>

namespace foresight::testing {

struct ApplianceOptions {
  storage::Options storage = {};
  http::AuthOptions auth;
  ingest::IngestOptions ingest = {};
  ml::EngineOptions ml = {};        // schedules are turned off whatever this says
  http::ServerOptions server = {};  // host and port are set to 127.0.0.1:0
};

class Appliance {
 public:
  Appliance(const std::string& dir, ApplianceOptions options) {
    storage = storage::Storage::Open(dir, options.storage).value();
    auth = http::Auth::Open(storage.get(), options.auth).value();
    windows = std::make_unique<query::Windows>(storage.get());
    alerts = std::make_unique<query::Alerts>(storage.get(), windows.get(), "asset_id");
    ingestor = std::make_unique<ingest::Ingestor>(
        storage.get(), options.ingest,
        [this](storage::TenantId t, std::span<const storage::Sample> s) {
          if (Status st = windows->Apply(t, s); !st.ok()) std::abort();
          if (Status st = alerts->Evaluate(t, s); !st.ok()) std::abort();
        });
    options.ml.schedules = false;
    storage::Storage* store = storage.get();
    engine =
        ml::Engine::Start(
            store, [store](storage::TenantId t) { return ml::LoadFleet(*store, t, "asset_id"); },
            options.ml)
            .value();
    options.server.host = "127.0.0.1";
    options.server.port = 0;
    server = http::Server::Start(options.server,
                                 http::Services{storage.get(), ingestor.get(), auth.get(), nullptr,
                                                engine.get(), windows.get(), alerts.get()})
                 .value();
  }
  ~Appliance() { server->Stop(); }
  Appliance(const Appliance&) = delete;
  Appliance& operator=(const Appliance&) = delete;

  uint16_t port() const { return server->port(); }

  // Declared in the order they are built; destroyed in reverse.
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<http::Auth> auth;
  std::unique_ptr<query::Windows> windows;
  std::unique_ptr<query::Alerts> alerts;
  std::unique_ptr<ingest::Ingestor> ingestor;
  std::unique_ptr<ml::Engine> engine;
  std::unique_ptr<http::Server> server;
};

}  // namespace foresight::testing
