// GET /metrics in the Prometheus text exposition format (version 0.0.4).
#include "http/api.h"

#include <fmt/format.h>

namespace foresight::http {
namespace {

void Metric(std::string* out, std::string_view name, std::string_view type, std::string_view help,
            uint64_t value) {
  fmt::format_to(std::back_inserter(*out), "# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help,
                 type, value);
}

}  // namespace

Response HandleMetrics(const Request& req, const Services& services, const Api& api) {
  std::string out;
  api.metrics().Render(&out);
  if (services.ingestor) {
    ingest::IngestStats s = services.ingestor->GetStats();
    Metric(&out, "foresight_ingest_lines_total", "counter",
           "Points (line-protocol lines and JSON readings) stored.", s.lines);
    Metric(&out, "foresight_ingest_values_total", "counter", "Field values stored.", s.values);
    Metric(&out, "foresight_ingest_rejected_lines_total", "counter",
           "Lines and readings rejected as invalid.", s.rejected_lines);
    Metric(&out, "foresight_ingest_assets_created_total", "counter",
           "Assets created on first sight.", s.assets_created);
  }
  if (services.tcp) {
    ingest::TcpStats s = services.tcp->GetStats();
    Metric(&out, "foresight_tcp_connections_accepted_total", "counter",
           "TCP line-protocol connections accepted.", s.connections_accepted);
    Metric(&out, "foresight_tcp_connections_open", "gauge",
           "TCP line-protocol connections open now.", s.connections_open);
    Metric(&out, "foresight_tcp_received_bytes_total", "counter", "Bytes received over TCP.",
           s.bytes_received);
    Metric(&out, "foresight_tcp_lines_total", "counter", "Lines stored from TCP.", s.lines);
    Metric(&out, "foresight_tcp_rejected_lines_total", "counter",
           "TCP lines rejected as invalid or too long.", s.rejected_lines);
    Metric(&out, "foresight_tcp_auth_failures_total", "counter",
           "TCP connections closed for a missing or wrong token line.", s.auth_failures);
    Metric(&out, "foresight_tcp_enobufs_total", "counter",
           "Times the receive buffers ran out (flow control; a steady climb means too few).",
           s.enobufs);
  }
  storage::Stats s = services.storage->GetStats();
  Metric(&out, "foresight_storage_points_appended_total", "counter", "Points appended.",
         s.points_appended);
  Metric(&out, "foresight_storage_batches_appended_total", "counter", "Batches appended.",
         s.batches_appended);
  Metric(&out, "foresight_storage_wal_writes_total", "counter",
         "RocksDB writes made by group commit.", s.wal_writes);
  Metric(&out, "foresight_storage_flushes_total", "counter", "Head seals.", s.flushes);
  Metric(&out, "foresight_storage_blocks_written_total", "counter", "Point blocks written.",
         s.blocks_written);
  Metric(&out, "foresight_storage_head_points", "gauge", "Unsealed points in memory.",
         s.head_points);
  Metric(&out, "foresight_storage_head_bytes", "gauge", "Memory of unsealed points.", s.head_bytes);
  Metric(&out, "foresight_storage_series", "gauge", "Series in the catalog.", s.series);
  return MakeResponse(req, bhttp::status::ok, std::move(out), "text/plain; version=0.0.4");
}

}  // namespace foresight::http
