// The `foresight` configuration: one table of settings, each settable from a TOML file, a
// FORESIGHT_* environment variable or a command-line flag (flag over environment over file over
// default). Private to tools/.
#pragma once

#include "http/http.h"
#include "ingest/ingest.h"
#include "query/query.h"
#include "storage/backup.h"
#include "storage/log.h"
#include "storage/storage.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace foresight::tools {

struct Config {
  std::string data_dir;
  http::ServerOptions http;
  storage::Options storage;
  ingest::IngestOptions ingest;
  // The TCP line-protocol listener; nullopt when ingest.tcp_listen is empty.
  std::optional<ingest::TcpOptions> tcp;
  std::string tcp_tenant;  // bind the TCP listener to this tenant (no token line)
  http::AuthOptions auth;  // key_file empty: <data_dir>/jwt.key
  ml::EngineOptions ml;
  http::NotifierOptions webhooks;
  query::InfluxQlOptions influxql;  // the bounds of /query
  storage::BackupOptions backup;    // extra_files is left to serve (the JWT key)
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
};

struct Setting {
  std::string key;            // TOML key, dotted: "storage.fsync"
  std::string flag;           // "--fsync"
  std::string default_value;  // as text
  std::string help;
  // The environment variable: FORESIGHT_ plus the key upper-cased, dots as underscores.
  std::string EnvName() const;
};

// Every setting, in the order --help and the docs list them.
const std::vector<Setting>& Settings();

// Collects the layers for one command line, then builds the Config.
class ConfigLoader {
 public:
  // Adds --config and a flag per setting to `app`.
  void AddFlags(CLI::App* app);
  // Resolves every setting. `getenv` is injectable for tests.
  Result<Config> Load(const std::function<const char*(const char*)>& getenv = ::getenv) const;

 private:
  std::string config_file_;
  std::map<std::string, std::string> flags_;  // key -> value given on the command line
};

}  // namespace foresight::tools
