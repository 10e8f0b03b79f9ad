// `foresight serve --demo`: two demo tenants with fleets, clients, write tokens and rules; their
// history back-filled; then their simulators live, so the appliance has something to show.
// The credentials are kept in <data_dir>/demo.json (mode 0600) so that every start prints the
// same sign-in and reuses the data. Private to tools/.
//
// Threading: Prepare() before the server starts; Run() on its own thread after.
#pragma once

#include "http/http.h"
#include "storage/storage.h"
#include "tools/simulation.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace foresight::tools {

struct DemoOptions {
  double days = 180;             // history back-filled on first start
  int assets = 24;               // per tenant
  int64_t interval_s = 10;       // live readings per asset
  int64_t history_step_s = 300;  // back-filled readings per asset
};

class Demo {
 public:
  // Creates the demo tenants, their clients and write tokens on first start (the storage and
  // auth are borrowed for this call only); later starts read them back from demo.json.
  static Result<std::unique_ptr<Demo>> Prepare(storage::Storage* db, http::Auth* auth,
                                               const std::string& data_dir,
                                               const DemoOptions& options);

  // The sign-in of each tenant, for the start banner.
  void PrintSignIn(std::FILE* out, const std::string& url) const;

  // Registers assets and rules, back-fills history up to now (only what is missing), then
  // feeds live readings until `stop`. Talks to the server at `url` like any client.
  // Progress and errors go to `out`.
  void Run(const std::string& url, StopFlag* stop, std::FILE* out);

  struct Tenant {
    std::string name;
    uint64_t seed;
    std::vector<std::string> sites;
    std::string admin_id, admin_secret;
    std::string viewer_id, viewer_secret;
    std::string write_token;
    int64_t history_until_ns = 0;  // back-filled up to here
    // Dashboard sign-ins, one per role: (username, password), admin first.
    std::vector<std::pair<std::string, std::string>> users = {};
  };

 private:
  Demo(std::string state_file, DemoOptions options)
      : state_file_(std::move(state_file)), options_(options) {}
  Status Save() const;
  // Makes the dashboard users of tenants that have none yet (a demo from before users).
  Status EnsureUsers(storage::Storage* db, http::Auth* auth);

  std::string state_file_;
  DemoOptions options_;
  int64_t epoch_ns_ = 0;  // the start of the simulated history
  std::vector<Tenant> tenants_;
};

}  // namespace foresight::tools
