// A simulated fleet pushed into a running FORESIGHT through its public interfaces, as real
// gateways would: readings as line protocol over HTTP (/api/v2/write) or the TCP listener with
// a write token; with client credentials also the assets' details (name, criticality, make,
// installation date) and maintenance records (CSV import, stable ids, so re-sending replaces).
// Used by `foresight simulate` and `serve --demo`. Private to tools/.
//
// Threading: one thread at a time.
#pragma once

#include "storage/storage.h"
#include "storage/sync.h"
#include "tools/client.h"
#include "tools/simulator.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace foresight::tools {

struct SimulationOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string tcp;    // host:port: readings over the TCP listener instead of HTTP
  std::string token;  // write token (required)
  // Optional: sign-in for the REST API. Without it only readings are sent.
  std::string tenant;
  std::string client_id;
  std::string client_secret;
  sim::FleetOptions fleet;
};

// Ends a run from another thread (a signal watcher); waits end early when stopped.
class StopFlag {
 public:
  void Stop();
  bool stopped() const { return stopped_.load(); }
  // Sleeps until `deadline_ns` on the wall clock; false when stopped first.
  bool SleepUntil(int64_t deadline_ns);

 private:
  Mutex mu_;  // pairs Stop with the sleepers' check, so no wake-up is lost
  CondVar cv_;
  std::atomic<bool> stopped_{false};
};

class Simulation {
 public:
  // Connects, and with client credentials signs in and registers the fleet's assets.
  static Result<std::unique_ptr<Simulation>> Start(const SimulationOptions& options);

  // Readings every `interval_ns` in [from_ns, to_ns) and the maintenance events of that span,
  // sent at full speed; `progress` gets the share done now and then. Returns how far it got:
  // to_ns, or less when stopped (everything before that was sent).
  Result<int64_t> Backfill(int64_t from_ns, int64_t to_ns, int64_t interval_ns,
                           const StopFlag& stop, const std::function<void(double)>& progress);

  // Readings at t_ns, and the maintenance events since the previous step.
  Status Step(int64_t t_ns);

  // A JSON call to the tenant's REST API (path below /api/v1/tenants/<tenant>), signed in;
  // signs in again once when the token has expired. Fails without client credentials.
  Result<HttpClient::Response> Api(std::string_view method, std::string_view path,
                                   std::string_view body,
                                   std::string_view content_type = "application/json");

  sim::Fleet& fleet() { return fleet_; }
  uint64_t rows() const { return rows_; }
  uint64_t values() const { return values_; }
  uint64_t events() const { return events_; }

 private:
  Simulation(const SimulationOptions& options, Endpoint http);
  Status RegisterAssets();
  Status SendLines(std::string_view lines);
  Status SendEvents(int64_t from_ns, int64_t to_ns);

  SimulationOptions options_;
  sim::Fleet fleet_;
  HttpClient http_;
  std::unique_ptr<TcpSender> tcp_;
  std::optional<ApiSession> api_;  // with client credentials
  int64_t events_until_ns_ = 0;    // events before this were sent
  uint64_t rows_ = 0, values_ = 0, events_ = 0;
};

// Steps every simulation in real time at multiples of `interval_ns` until stopped or
// `duration_ns` (0: no end) has passed. Errors are reported to `on_error` and the run goes on
// (a restarting server must not end the simulation).
void RunLive(std::span<Simulation* const> simulations, int64_t interval_ns, int64_t duration_ns,
             StopFlag* stop, const std::function<void(const Status&)>& on_error);

}  // namespace foresight::tools
