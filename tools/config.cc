#include "tools/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace foresight::tools {

std::string Setting::EnvName() const {
  std::string env = "FORESIGHT_";
  for (char c : key) env.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(c)));
  return env;
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"data_dir", "--data-dir", "./data", "Data directory (created if missing)"},
      {"http.listen", "--listen", "0.0.0.0:8080", "HTTP address, host:port (port 0 picks one)"},
      {"http.threads", "--http-threads", "0", "HTTP threads; 0 = one per core, at most 2"},
      {"http.max_connections", "--max-connections", "10000",
       "Open HTTP connections; more are answered 503"},
      {"http.idle_timeout_s", "--idle-timeout-s", "60",
       "Close keep-alive connections idle this long"},
      {"http.header_timeout_s", "--header-timeout-s", "10",
       "A new connection's request header must arrive within this"},
      {"http.shutdown_grace_s", "--shutdown-grace-s", "10",
       "On SIGTERM, wait this long for requests in flight"},
      {"api.rate_limit", "--rate-limit", "1000",
       "API requests per second per tenant (writes excluded); 0 = unlimited"},
      {"api.rate_burst", "--rate-burst", "2000", "API requests a tenant may burst above the rate"},
      {"api.cors_origins", "--cors-origins", "",
       "Origins (scheme://host[:port], comma-separated) whose pages may call the API; empty = "
       "CORS off"},
      {"storage.fsync", "--fsync", "always",
       "WAL fsync policy: always (survives power loss), interval, never (survive kill -9 only)"},
      {"storage.fsync_interval_ms", "--fsync-interval-ms", "100",
       "WAL sync period under fsync=interval"},
      {"storage.head_flush_mb", "--head-flush-mb", "64",
       "Seal unsealed points into blocks past this much memory"},
      {"storage.head_flush_interval_s", "--head-flush-interval-s", "600",
       "Seal unsealed points older than this"},
      {"storage.block_cache_mb", "--block-cache-mb", "64", "RocksDB block cache"},
      {"storage.max_series_per_tenant", "--max-series-per-tenant", "1000000",
       "Series a tenant may have; lines that would create more are rejected"},
      {"retention.raw", "--retention-raw", "365d",
       "Keep raw points this long (s, m, h, d or w, or forever); a tenant's settings may differ"},
      {"retention.minute", "--retention-minute", "730d", "Keep minute rollups this long"},
      {"retention.hour", "--retention-hour", "1825d", "Keep hourly rollups this long"},
      {"retention.day", "--retention-day", "forever", "Keep daily rollups this long"},
      {"backup.schedule", "--backup-schedule", "1d",
       "Take an online backup this long after the newest one (s, m, h, d or w), or off"},
      {"backup.dir", "--backup-dir", "",
       "Where backups go; empty = <data_dir>/backups (same disk: copy them elsewhere too)"},
      {"backup.keep", "--backup-keep", "7", "Backups kept; older ones are deleted"},
      {"ingest.tcp_listen", "--tcp-listen", "",
       "TCP line-protocol address, host:port (io_uring; empty = off)"},
      {"ingest.tcp_tenant", "--tcp-tenant", "",
       "Bind the TCP listener to this tenant: no token line (trusted networks only)"},
      {"ingest.asset_tag", "--asset-tag", "asset_id", "The tag that names a point's asset"},
      {"ingest.max_line_kb", "--max-line-kb", "1024", "Longest line-protocol line"},
      {"ingest.max_body_mb", "--max-body-mb", "32", "Largest write body as sent"},
      {"ingest.max_decompressed_mb", "--max-decompressed-mb", "128",
       "Largest write body after gzip"},
      {"ingest.max_tags", "--max-tags", "256", "Most tags per point"},
      {"ingest.max_fields", "--max-fields", "1024", "Most fields per point"},
      {"auth.tokens", "--tokens", "",
       "Static write tokens, tenant:token[,tenant:token...]; tenants are created"},
      {"auth.jwt_secret", "--jwt-secret", "",
       "JWT signing key, 32+ characters; empty = generated into <data_dir>/jwt.key (mode 0600)"},
      {"auth.token_ttl_s", "--token-ttl-s", "3600", "Lifetime of JWTs from POST /auth/token"},
      {"auth.operator_token_file", "--operator-token-file", "",
       "File holding the bearer token (32+ characters) of the operator routes "
       "(/api/v1/admin/...: backups); empty = those routes are off"},
      {"auth.session_ttl_s", "--session-ttl-s", "43200",
       "A dashboard sign-in lasts this long after its last use"},
      {"auth.session_token_ttl_s", "--session-token-ttl-s", "900",
       "Lifetime of the JWTs a sign-in hands the page (renewed before they expire)"},
      {"auth.lockout_after", "--lockout-after", "5",
       "Failed sign-ins of one user before a lockout (30 s, doubling to 15 min)"},
      {"ml.schedules", "--ml-schedules", "on",
       "on or off: score every fleet daily (with drift checks) and retrain weekly"},
      {"ml.train_threads", "--train-threads", "1",
       "XGBoost threads per training run (runs go one at a time)"},
      {"ml.promotion_margin_pct", "--promotion-margin-pct", "1",
       "A challenger becomes champion when its AUC-PR beats the champion's by this % (RUL: RMSE)"},
      {"ml.rul_cap_days", "--rul-cap-days", "90",
       "Remaining-useful-life target cap: rows further from failure are labelled with it"},
      {"ml.exclude_days_after_maintenance", "--exclude-days-after-maintenance", "2",
       "Days after a maintenance record whose rows are left out of training"},
      {"ml.backfill_days", "--ml-backfill-days", "30",
       "After the first daily scoring, score this many past days for the fleet history"},
      {"ml.drift_after_days", "--ml-drift-after-days", "14",
       "Days a champion must score past its training data before its drift is judged"},
      {"query.max_series", "--query-max-series", "100000",
       "Series one InfluxQL statement may read; more is refused with an error"},
      {"query.max_points", "--query-max-points", "50000000",
       "Points (and rollup buckets) one InfluxQL statement may read"},
      {"query.timeout_ms", "--query-timeout-ms", "30000",
       "An InfluxQL statement running longer is stopped with an error"},
      {"webhooks.ca_file", "--webhook-ca-file", "",
       "PEM file of CAs trusted for HTTPS webhooks besides the system's (a private CA)"},
      {"log.level", "--log-level", "info", "debug, info, warn, error or off"},
      {"log.format", "--log-format", "text", "text or json (one object per line)"},
  };
  return kSettings;
}

void ConfigLoader::AddFlags(CLI::App* app) {
  app->add_option("-c,--config", config_file_, "TOML configuration file")
      ->envname("FORESIGHT_CONFIG")
      ->check(CLI::ExistingFile);
  for (const Setting& s : Settings()) {
    std::string help = s.help + " [default: " + s.default_value + "; env " + s.EnvName() +
                       "; file key " + s.key + "]";
    app->add_option_function<std::string>(
        s.flag, [this, key = s.key](const std::string& v) { flags_[key] = v; }, help);
  }
}

namespace {

Result<int64_t> ParseInt(const std::string& key, const std::string& text, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
    return Status::InvalidArgument(key + " must be a whole number from " + std::to_string(lo) +
                                   " to " + std::to_string(hi) + ", not '" + text + "'");
  }
  return v;
}

// "host:port", "[v6]:port".
Result<std::pair<std::string, uint16_t>> ParseAddress(const std::string& key,
                                                      const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument(key + " must be host:port, not '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  Result<int64_t> port = ParseInt(key + " port", text.substr(colon + 1), 0, 65535);
  if (!port.ok()) return port.status();
  return std::make_pair(host, static_cast<uint16_t>(*port));
}

void Flatten(const std::string& path, const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>* out, Status* status) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = node.as_table()) {
      Flatten(path, *sub, key, out, status);
      continue;
    }
    auto known = std::find_if(Settings().begin(), Settings().end(),
                              [&](const Setting& s) { return s.key == key; });
    if (known == Settings().end()) {
      if (status->ok()) *status = Status::InvalidArgument(path + ": unknown setting '" + key + "'");
      continue;
    }
    if (auto s = node.value<std::string>()) {
      (*out)[key] = *s;
    } else if (auto i = node.value<int64_t>()) {
      (*out)[key] = std::to_string(*i);
    } else if (status->ok()) {
      *status = Status::InvalidArgument(path + ": '" + key + "' must be a string or an integer");
    }
  }
}

// Reads a TOML file into key -> text, so every layer is handled alike.
// A browser's Origin: http or https, a host, an optional port, nothing after.
bool IsOrigin(std::string_view o) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!o.starts_with(scheme)) continue;
    std::string_view rest = o.substr(scheme.size());
    const size_t colon = rest.rfind(':');
    std::string_view host = rest.substr(0, colon), port;
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    auto host_char = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '[' ||
             c == ']';
    };
    if (host.empty() || !std::all_of(host.begin(), host.end(), host_char)) return false;
    if (colon != std::string_view::npos &&
        (port.empty() || port.size() > 5 ||
         !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))) {
      return false;
    }
    return true;
  }
  return false;
}

Status ReadFile(const std::string& path, std::map<std::string, std::string>* out) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {  // toml++ reports parse errors only by throwing
    std::ostringstream msg;
    msg << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Status::InvalidArgument(msg.str());
  }
  Status status;
  Flatten(path, table, "", out, &status);
  return status;
}

}  // namespace

Result<Config> ConfigLoader::Load(const std::function<const char*(const char*)>& getenv) const {
  std::map<std::string, std::string> values;
  for (const Setting& s : Settings()) values[s.key] = s.default_value;
  if (!config_file_.empty()) {
    Status s = ReadFile(config_file_, &values);
    if (!s.ok()) return s;
  }
  for (const Setting& s : Settings()) {
    if (const char* env = getenv(s.EnvName().c_str())) values[s.key] = env;
  }
  for (const auto& [key, value] : flags_) values[key] = value;

  Config c;
  c.data_dir = values["data_dir"];
  if (c.data_dir.empty()) return Status::InvalidArgument("data_dir must not be empty");

  Result<std::pair<std::string, uint16_t>> http =
      ParseAddress("http.listen", values["http.listen"]);
  if (!http.ok()) return http.status();
  c.http.host = http->first;
  c.http.port = http->second;
  Result<int64_t> threads = ParseInt("http.threads", values["http.threads"], 0, 256);
  if (!threads.ok()) return threads.status();
  c.http.threads = static_cast<int>(*threads);

  Result<storage::FsyncPolicy> fsync = storage::ParseFsyncPolicy(values["storage.fsync"]);
  if (!fsync.ok()) return fsync.status();
  c.storage.fsync = *fsync;
  for (auto [key, keep] : {std::pair{"retention.raw", &c.storage.default_retention.raw},
                           {"retention.minute", &c.storage.default_retention.minute},
                           {"retention.hour", &c.storage.default_retention.hour},
                           {"retention.day", &c.storage.default_retention.day}}) {
    Result<std::chrono::seconds> period = storage::ParseRetentionPeriod(values[key]);
    if (!period.ok()) {
      return Status::InvalidArgument(std::string(key) + ": " +
                                     std::string(period.status().message()));
    }
    if (*period != storage::kKeepForever) *keep = *period;
  }
  struct Numeric {
    const char* key;
    int64_t lo, hi;
  };
  constexpr int kNumeric = 30;
  int64_t n[kNumeric];
  const Numeric numeric[kNumeric] = {{"storage.fsync_interval_ms", 1, 60'000},
                                     {"storage.head_flush_mb", 1, 65'536},
                                     {"storage.head_flush_interval_s", 1, 86'400},
                                     {"storage.block_cache_mb", 1, 1'048'576},
                                     {"ingest.max_line_kb", 1, 16'384},
                                     {"ingest.max_body_mb", 1, 4'096},
                                     {"ingest.max_decompressed_mb", 1, 16'384},
                                     {"ingest.max_tags", 1, 4'096},
                                     {"ingest.max_fields", 1, 65'536},
                                     {"http.max_connections", 1, 1'000'000},
                                     {"http.idle_timeout_s", 1, 86'400},
                                     {"http.header_timeout_s", 1, 3'600},
                                     {"http.shutdown_grace_s", 0, 3'600},
                                     {"api.rate_limit", 0, 10'000'000},
                                     {"api.rate_burst", 1, 10'000'000},
                                     {"auth.token_ttl_s", 60, 30 * 86'400},
                                     {"storage.max_series_per_tenant", 1, 1'000'000'000},
                                     {"ml.train_threads", 1, 256},
                                     {"ml.promotion_margin_pct", 0, 100},
                                     {"ml.rul_cap_days", 1, 3650},
                                     {"ml.exclude_days_after_maintenance", 0, 365},
                                     {"auth.session_ttl_s", 300, 30 * 86'400},
                                     {"auth.session_token_ttl_s", 60, 3'600},
                                     {"auth.lockout_after", 1, 1'000},
                                     {"ml.backfill_days", 0, 3'650},
                                     {"ml.drift_after_days", 1, 365},
                                     {"query.max_series", 1, 100'000'000},
                                     {"query.max_points", 1'000, 10'000'000'000},
                                     {"query.timeout_ms", 100, 3'600'000},
                                     {"backup.keep", 1, 10'000}};
  for (int i = 0; i < kNumeric; ++i) {
    Result<int64_t> v =
        ParseInt(numeric[i].key, values[numeric[i].key], numeric[i].lo, numeric[i].hi);
    if (!v.ok()) return v.status();
    n[i] = *v;
  }
  c.storage.fsync_interval = std::chrono::milliseconds(n[0]);
  c.storage.head_flush_bytes = static_cast<size_t>(n[1]) << 20;
  c.storage.head_flush_interval = std::chrono::seconds(n[2]);
  c.storage.block_cache_bytes = static_cast<size_t>(n[3]) << 20;
  c.ingest.limits.max_line_bytes = static_cast<size_t>(n[4]) << 10;
  c.ingest.limits.max_body_bytes = static_cast<size_t>(n[5]) << 20;
  c.ingest.limits.max_decompressed_bytes = static_cast<size_t>(n[6]) << 20;
  c.ingest.limits.max_tags = static_cast<size_t>(n[7]);
  c.ingest.limits.max_fields = static_cast<size_t>(n[8]);
  c.http.max_connections = static_cast<size_t>(n[9]);
  c.http.idle_timeout_s = static_cast<int>(n[10]);
  c.http.header_timeout_s = static_cast<int>(n[11]);
  c.http.shutdown_grace_s = static_cast<int>(n[12]);
  c.http.rate_limit_per_s = static_cast<double>(n[13]);
  c.http.rate_limit_burst = static_cast<double>(n[14]);
  c.auth.token_ttl = std::chrono::seconds(n[15]);
  c.storage.max_series_per_tenant = static_cast<size_t>(n[16]);
  c.ml.fit.booster.threads = static_cast<int>(n[17]);
  c.ml.promotion_margin = static_cast<double>(n[18]) / 100;
  c.ml.labels.rul_cap_days = static_cast<double>(n[19]);
  c.ml.labels.exclude_days_after_maintenance = static_cast<int>(n[20]);
  c.auth.session_ttl = std::chrono::seconds(n[21]);
  c.auth.session_token_ttl = std::chrono::seconds(n[22]);
  c.auth.lockout_after = static_cast<int>(n[23]);
  c.ml.backfill_days = static_cast<int>(n[24]);
  c.ml.drift_after_days = static_cast<int>(n[25]);
  c.influxql.max_series = static_cast<size_t>(n[26]);
  c.influxql.max_points = static_cast<size_t>(n[27]);
  c.influxql.timeout = std::chrono::milliseconds(n[28]);
  c.backup.keep = static_cast<int>(n[29]);
  c.backup.dir = values["backup.dir"].empty() ? c.data_dir + "/backups" : values["backup.dir"];
  if (values["backup.schedule"] != "off") {
    Result<std::chrono::seconds> every = storage::ParseRetentionPeriod(values["backup.schedule"]);
    if (!every.ok() || *every == storage::kKeepForever) {
      return Status::InvalidArgument("backup.schedule: off or a period like 1d or 6h, not '" +
                                     values["backup.schedule"] + "'");
    }
    c.backup.every = *every;
  }
  if (c.auth.session_token_ttl > c.auth.session_ttl) {
    return Status::InvalidArgument("auth.session_token_ttl_s must not exceed auth.session_ttl_s");
  }
  const std::string& origins = values["api.cors_origins"];
  for (size_t at = 0; at < origins.size();) {
    size_t end = std::min(origins.find(',', at), origins.size());
    std::string origin = origins.substr(at, end - at);
    at = end + 1;
    origin.erase(0, origin.find_first_not_of(' '));
    origin.erase(origin.find_last_not_of(' ') + 1);
    if (origin.empty()) continue;
    if (!IsOrigin(origin)) {
      return Status::InvalidArgument("api.cors_origins: '" + origin +
                                     "' is not an origin like https://grafana.example.com:3000");
    }
    c.http.cors_origins.push_back(std::move(origin));
  }
  if (values["ml.schedules"] != "on" && values["ml.schedules"] != "off") {
    return Status::InvalidArgument("ml.schedules must be on or off, not '" +
                                   values["ml.schedules"] + "'");
  }
  c.ml.schedules = values["ml.schedules"] == "on";
  c.ingest.asset_tag = values["ingest.asset_tag"];
  if (c.ingest.asset_tag.empty()) {
    return Status::InvalidArgument("ingest.asset_tag must not be empty");
  }
  c.webhooks.ca_file = values["webhooks.ca_file"];
  if (!c.webhooks.ca_file.empty() && !std::ifstream(c.webhooks.ca_file)) {
    return Status::InvalidArgument("webhooks.ca_file: cannot read '" + c.webhooks.ca_file + "'");
  }

  if (const std::string& tcp = values["ingest.tcp_listen"]; !tcp.empty()) {
    Result<std::pair<std::string, uint16_t>> address = ParseAddress("ingest.tcp_listen", tcp);
    if (!address.ok()) return address.status();
    c.tcp.emplace();
    c.tcp->host = address->first;
    c.tcp->port = address->second;
  }
  c.tcp_tenant = values["ingest.tcp_tenant"];
  if (!c.tcp_tenant.empty() && !c.tcp) {
    return Status::InvalidArgument("ingest.tcp_tenant needs ingest.tcp_listen");
  }
  c.auth.static_tokens = values["auth.tokens"];
  c.auth.jwt_secret = values["auth.jwt_secret"];
  if (!c.auth.jwt_secret.empty() && c.auth.jwt_secret.size() < 32) {
    return Status::InvalidArgument("auth.jwt_secret must be at least 32 characters");
  }
  if (const std::string& file = values["auth.operator_token_file"]; !file.empty()) {
    std::ifstream in(file);
    if (!in) return Status::InvalidArgument("auth.operator_token_file: cannot read '" + file + "'");
    std::getline(in, c.http.operator_token);
    while (!c.http.operator_token.empty() &&
           std::isspace(static_cast<unsigned char>(c.http.operator_token.back()))) {
      c.http.operator_token.pop_back();
    }
    if (c.http.operator_token.size() < 32) {
      return Status::InvalidArgument("auth.operator_token_file: the token in '" + file +
                                     "' must be at least 32 characters on its first line");
    }
  }

  if (!log::ParseLevel(values["log.level"], &c.log_level)) {
    return Status::InvalidArgument("log.level must be debug, info, warn, error or off, not '" +
                                   values["log.level"] + "'");
  }
  if (!log::ParseFormat(values["log.format"], &c.log_format)) {
    return Status::InvalidArgument("log.format must be text or json, not '" + values["log.format"] +
                                   "'");
  }
  return c;
}

}  // namespace foresight::tools
