// `foresight loadgen`: the load generator bench/ uses. The deterministic IoT workload of
// tools/workload.h (assets x 8 float metrics, tags asset_id/asset_type/site, 10 s interval),
// generated before the clock starts and pushed as fast as the server takes it: line protocol
// over HTTP (acknowledged) or raw TCP (unacknowledged: done when a counter on the server's
// /metrics has counted every value), or JSON readings. Private to tools/.
#pragma once

#include <string>

namespace foresight::tools {

struct LoadgenOptions {
  std::string mode = "http";  // http, tcp or json
  std::string url = "http://127.0.0.1:8080";
  std::string path;  // HTTP target; default per mode
  std::string tcp = "127.0.0.1:8094";
  std::string token;
  std::string tenant;  // json: /api/v1/tenants/<tenant>/readings
  int assets = 1000;
  int steps = 1000;
  int batch = 5000;  // lines (readings) per request or TCP write
  int connections = 4;
  std::string wait_metric;  // tcp: the /metrics counter (at url) that counts stored values
  bool json = false;        // summary as one JSON object
};

// Runs the load; prints a live progress line to stderr and the summary to stdout. Returns the
// exit code: 0, 1 when requests failed, 2 when it could not run.
int RunLoadgen(const LoadgenOptions& options);

}  // namespace foresight::tools
