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
  if (services.alerts) {
    query::AlertStats s = services.alerts->GetStats();
    Metric(&out, "foresight_rule_checks_total", "counter",
           "Points checked against an alert rule (one per point and rule).", s.points_checked);
    Metric(&out, "foresight_alerts_opened_total", "counter", "Alerts opened by rules.", s.opened);
    Metric(&out, "foresight_alerts_resolved_by_rule_total", "counter",
           "Alerts that resolved by themselves when their rule's clear condition held.",
           s.resolved_by_rule);
    Metric(&out, "foresight_alerts_held_by_cooldown_total", "counter",
           "Points that met a rule's condition while its cooldown ran.", s.held_by_cooldown);
    Metric(&out, "foresight_alert_write_failures_total", "counter",
           "Alert transitions that could not be written to storage (and did not happen).",
           s.write_failures);
  }
  if (services.hub) {
    HubStats s = services.hub->GetStats();
    Metric(&out, "foresight_ws_connections", "gauge", "Open WebSocket connections.", s.connections);
    Metric(&out, "foresight_ws_subscriptions", "gauge", "WebSocket subscriptions.",
           s.subscriptions);
    Metric(&out, "foresight_ws_messages_sent_total", "counter", "WebSocket messages sent.",
           s.messages_sent);
    Metric(&out, "foresight_ws_updates_dropped_total", "counter",
           "Readings or windows updates coalesced or dropped for a slow client.",
           s.updates_dropped);
    Metric(&out, "foresight_ws_closed_slow_total", "counter",
           "WebSocket clients closed (1008) for not keeping up with alert or health events.",
           s.closed_slow);
  }
  if (services.notifier) {
    NotifierStats s = services.notifier->GetStats();
    Metric(&out, "foresight_webhook_deliveries_total", "counter",
           "Alert notifications a webhook accepted (2xx).", s.delivered);
    Metric(&out, "foresight_webhook_retries_total", "counter",
           "Webhook attempts that failed and were scheduled again.", s.retried);
    Metric(&out, "foresight_webhook_failures_total", "counter",
           "Notifications given up after the last attempt.", s.failed);
    Metric(&out, "foresight_webhook_dropped_total", "counter",
           "Notifications not queued because the queue was full.", s.dropped);
  }
  if (services.ml) {
    ml::Engine::Stats m = services.ml->GetStats();
    out +=
        "# HELP foresight_ml_training_runs_total Training runs finished since start, by outcome.\n"
        "# TYPE foresight_ml_training_runs_total counter\n";
    fmt::format_to(std::back_inserter(out),
                   "foresight_ml_training_runs_total{{result=\"succeeded\"}} {}\n"
                   "foresight_ml_training_runs_total{{result=\"failed\"}} {}\n",
                   m.runs_succeeded, m.runs_failed);
    Metric(&out, "foresight_ml_training_runs_queued", "gauge", "Training runs waiting.",
           m.runs_queued);
    Metric(&out, "foresight_ml_training_runs_running", "gauge", "Training runs running (0 or 1).",
           m.runs_running);
    Metric(&out, "foresight_ml_scorings_total", "counter",
           "Fleet scorings since start (daily schedule, training runs, the predict API).",
           m.scorings);
    Metric(&out, "foresight_ml_assets_scored_total", "counter", "Asset predictions made.",
           m.assets_scored);
    fmt::format_to(std::back_inserter(out),
                   "# HELP foresight_ml_last_training_run_seconds How long the last run took.\n"
                   "# TYPE foresight_ml_last_training_run_seconds gauge\n"
                   "foresight_ml_last_training_run_seconds {:.3f}\n"
                   "# HELP foresight_ml_last_scoring_seconds How long the last scoring took.\n"
                   "# TYPE foresight_ml_last_scoring_seconds gauge\n"
                   "foresight_ml_last_scoring_seconds {:.3f}\n",
                   m.last_run_seconds, m.last_scoring_seconds);
  }
  if (services.backups) {
    storage::BackupStats b = services.backups->stats();
    Metric(&out, "foresight_backups_total", "counter", "Backups taken since start.", b.taken);
    Metric(&out, "foresight_backup_failures_total", "counter",
           "Backups that failed since start (the log says why).", b.failed);
    Metric(&out, "foresight_backups_kept", "gauge", "Backups in the backup directory.", b.kept);
    Metric(&out, "foresight_backup_last_bytes", "gauge", "Size of the newest backup.",
           b.last_bytes);
    fmt::format_to(std::back_inserter(out),
                   "# HELP foresight_backup_last_success_timestamp_seconds When the last backup "
                   "since start succeeded (0: none yet).\n"
                   "# TYPE foresight_backup_last_success_timestamp_seconds gauge\n"
                   "foresight_backup_last_success_timestamp_seconds {:.3f}\n"
                   "# HELP foresight_backup_last_duration_seconds How long it took.\n"
                   "# TYPE foresight_backup_last_duration_seconds gauge\n"
                   "foresight_backup_last_duration_seconds {:.3f}\n",
                   static_cast<double>(b.last_success_ns) / 1e9, b.last_seconds);
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
  Metric(&out, "foresight_storage_replayed_points", "gauge",
         "Unsealed points replayed from the log when storage opened.", s.replayed_points);
  Metric(&out, "foresight_storage_compactions_total", "counter",
         "RocksDB compactions finished since start.", s.compactions);
  Metric(&out, "foresight_storage_compactions_running", "gauge", "RocksDB compactions running.",
         s.compactions_running);
  Metric(
      &out, "foresight_storage_compaction_pending_bytes", "gauge",
      "Bytes RocksDB estimates compaction still has to rewrite (a steady climb: it falls behind).",
      s.compaction_pending_bytes);
  Metric(&out, "foresight_storage_memtable_flushes_total", "counter",
         "RocksDB memtables written to files since start.", s.memtable_flushes);
  Metric(&out, "foresight_storage_memtable_bytes", "gauge", "Memory of RocksDB's memtables.",
         s.memtable_bytes);
  Metric(&out, "foresight_storage_block_cache_bytes", "gauge", "Memory the block cache holds.",
         s.block_cache_bytes);
  Metric(&out, "foresight_storage_block_cache_capacity_bytes", "gauge",
         "The block cache's size (storage.block_cache_mb).", s.block_cache_capacity);
  const storage::DiskUsage disk = services.storage->GetDiskUsage();
  out +=
      "# HELP foresight_storage_disk_bytes Bytes on disk by what they hold.\n"
      "# TYPE foresight_storage_disk_bytes gauge\n";
  for (auto [kind, bytes] : {std::pair{"points", disk.points},
                             {"rollups", disk.rollups},
                             {"catalog", disk.catalog},
                             {"other", disk.other}}) {
    fmt::format_to(std::back_inserter(out), "foresight_storage_disk_bytes{{kind=\"{}\"}} {}\n",
                   kind, bytes);
  }
  out +=
      "# HELP foresight_retention_seconds How long each tenant keeps each tier (+Inf: for ever).\n"
      "# TYPE foresight_retention_seconds gauge\n";
  for (const auto& [id, name] : services.storage->ListTenants()) {
    Result<storage::TenantRetention> r = services.storage->GetRetention(id);
    if (!r.ok()) continue;  // a tenant is never removed, so this is not expected
    for (auto [tier, keep] : {std::pair{"raw", r->applied.raw},
                              {"minute", r->applied.minute},
                              {"hour", r->applied.hour},
                              {"day", r->applied.day}}) {
      fmt::format_to(std::back_inserter(out),
                     "foresight_retention_seconds{{tenant=\"{}\",tier=\"{}\"}} {}\n", name, tier,
                     keep ? std::to_string(keep->count()) : std::string("+Inf"));
    }
  }
  return MakeResponse(req, bhttp::status::ok, std::move(out), "text/plain; version=0.0.4");
}

}  // namespace foresight::http
