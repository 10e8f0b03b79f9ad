// `foresight`: the composition root. Parses the command line, wires the modules, runs them.
#include "http/http.h"
#include "ingest/ingest.h"
#include "query/query.h"
#include "storage/log.h"
#include "storage/storage.h"
#include "tools/config.h"
#include "tools/demo.h"
#include "tools/loadgen.h"
#include "tools/ml_commands.h"
#include "tools/simulation.h"

#include <CLI/CLI.hpp>
#include <boost/version.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <signal.h>
#include <string_view>
#include <thread>

#ifndef FORESIGHT_VERSION
#define FORESIGHT_VERSION "dev"
#endif

namespace foresight::tools {
namespace {

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "foresight: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

std::string DisplayHost(const std::string& host) {
  if (host == "0.0.0.0" || host == "::") return "localhost";
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// How this program was started (argv[0]), for the hints it prints.
std::string program = "foresight";

// The stop signals, blocked in every thread so that one place waits for them.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

int Serve(const ConfigLoader& loader, const std::optional<DemoOptions>& demo_options) {
  // What serve prints (the sign-in, the demo's progress and failures) reaches a pipe or the
  // journal line by line, as it happens.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Result<Config> config = loader.Load();
  if (!config.ok()) return Fail("configuration", config.status());
  log::Init(config->log_level, config->log_format);
  if (const auto& raw = config->storage.default_retention.raw;
      demo_options && raw && demo_options->days * 86'400 > static_cast<double>(raw->count())) {
    return Fail("demo", Status::InvalidArgument(fmt::format(
                            "--demo-days {} reaches past retention.raw ({}), which would refuse "
                            "the older history: raise retention.raw or lower --demo-days",
                            demo_options->days, storage::FormatRetentionPeriod(*raw))));
  }

  // Block the stop signals before any thread starts, so every thread inherits the mask and
  // sigwait below is the one place they arrive.
  sigset_t stop_signals = BlockStopSignals();

  auto db = storage::Storage::Open(config->data_dir, config->storage);
  if (!db.ok()) return Fail("storage", db.status());
  log::Info("storage open at {} (fsync {})", config->data_dir,
            storage::FsyncPolicyName(config->storage.fsync));

  http::AuthOptions auth_options = config->auth;
  if (auth_options.key_file.empty()) auth_options.key_file = config->data_dir + "/jwt.key";
  auto auth = http::Auth::Open(db->get(), auth_options);
  if (!auth.ok()) return Fail("auth", auth.status());
  storage::BackupOptions backup_options = config->backup;
  backup_options.extra_files = {auth_options.key_file};
  storage::Backups backups(db->get(), backup_options);
  if (backup_options.every.count() > 0) {
    log::Info("backups every {} into {}, the newest {} kept",
              storage::FormatRetentionPeriod(backup_options.every), backup_options.dir,
              backup_options.keep);
  }
  // Rolling windows and rules are right from the first answer: set up before the listeners open.
  query::Windows windows(db->get());
  query::Alerts alerts(db->get(), &windows, config->ingest.asset_tag);
  http::Hub hub(db->get(), &windows, &alerts, config->ingest.asset_tag);
  alerts.AddListener([&hub](const query::AlertEvent& e) { hub.OnAlert(e); });
  http::Notifier notifier(config->webhooks);
  alerts.AddListener([&notifier](const query::AlertEvent& e) { notifier.OnAlert(e); });
  {
    const auto started = std::chrono::steady_clock::now();
    for (const auto& [tenant, name] : (*db)->ListTenants()) {
      if (Status s = windows.Rebuild(tenant); !s.ok()) return Fail("rolling windows", s);
      if (Status s = alerts.LoadRules(tenant); !s.ok()) return Fail("rules", s);
      if (Status s = http::InstallWebhooks(**db, &notifier, tenant); !s.ok()) {
        return Fail("webhooks", s);
      }
    }
    log::Info("rolling windows of {} series rebuilt in {} ms", windows.tracked(),
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count());
  }
  ingest::Ingestor ingestor(db->get(), config->ingest,
                            [&windows, &alerts, &hub](storage::TenantId tenant,
                                                      std::span<const storage::Sample> samples) {
                              if (Status s = windows.Apply(tenant, samples); !s.ok()) {
                                log::Warn("rolling windows: {}", s.ToString());
                              }
                              if (Status s = alerts.Evaluate(tenant, samples); !s.ok()) {
                                log::Warn("alert rules: {}", s.ToString());
                              }
                              hub.OnAppend(tenant, samples);
                            });
  std::unique_ptr<Demo> demo;
  if (demo_options) {
    auto prepared = Demo::Prepare(db->get(), auth->get(), config->data_dir, *demo_options);
    if (!prepared.ok()) return Fail("demo", prepared.status());
    demo = std::move(*prepared);
  }

  std::unique_ptr<ingest::TcpListener> tcp;
  if (config->tcp) {
    if (!config->tcp_tenant.empty()) {
      auto tenant = (*db)->CreateTenant(config->tcp_tenant);
      if (!tenant.ok()) return Fail("ingest.tcp_tenant", tenant.status());
      config->tcp->bound_tenant = *tenant;
    }
    auto listener = ingest::TcpListener::Start(*config->tcp, &ingestor, &(*auth)->tokens());
    if (!listener.ok()) return Fail("TCP line protocol", listener.status());
    tcp = std::move(*listener);
  }

  ml::EngineOptions ml_options = config->ml;
  // The demo's Overview has trends over all of its history from the first model on.
  if (demo_options) {
    ml_options.backfill_days =
        std::max(ml_options.backfill_days, static_cast<int>(std::ceil(demo_options->days)));
  }
  ml_options.asset_tag = config->ingest.asset_tag;
  ml_options.on_drift = [&notifier](const ml::DriftAlert& a) { notifier.OnDrift(a); };
  auto engine = ml::Engine::Start(db->get(), ml_options);
  if (!engine.ok()) return Fail("ml", engine.status());
  http::Services services{db->get(), &ingestor, auth->get(), tcp.get(), engine->get(),   &windows,
                          &alerts,   &hub,      &notifier,   &backups,  config->influxql};
  auto server = http::Server::Start(config->http, services);
  if (!server.ok()) return Fail("http", server.status());
  const std::string url =
      "http://" + DisplayHost(config->http.host) + ":" + std::to_string((*server)->port());
  std::printf("FORESIGHT %s listening on %s (data directory %s)\n", FORESIGHT_VERSION, url.c_str(),
              config->data_dir.c_str());
  std::printf("  health: %s/health   ready: %s/ready   stop: Ctrl-C\n", url.c_str(), url.c_str());
  if (tcp) {
    std::printf("  line protocol over TCP: %s:%u%s\n", DisplayHost(config->tcp->host).c_str(),
                tcp->port(), config->tcp->bound_tenant ? " (bound to one tenant)" : "");
  }
  size_t sign_ins = 0;
  for (const auto& [tenant, name] : (*db)->ListTenants())
    sign_ins += (*auth)->ListUsers(tenant).size() + (*auth)->ListClients(tenant).size();
  if (demo) {
    demo->PrintSignIn(stdout, url);
  } else if (sign_ins == 0) {
    std::printf(
        "  no sign-in exists yet: stop the server and make the first admin with\n"
        "    %s user create --tenant <name> --username <you> --role admin --data-dir %s\n"
        "  (or start with --demo for demo tenants, data and sign-in)\n",
        program.c_str(), config->data_dir.c_str());
  } else {
    std::printf("  sign in: the dashboard at %s/, or API clients at POST %s/auth/token (/docs)\n",
                url.c_str(), url.c_str());
  }
  std::fflush(stdout);

  // The demo talks to this server over loopback, like any client.
  StopFlag demo_stop;
  std::thread demo_thread;
  if (demo) {
    const std::string host = config->http.host == "0.0.0.0" ? "127.0.0.1"
                             : config->http.host == "::"    ? "[::1]"
                                                            : DisplayHost(config->http.host);
    const std::string loopback = "http://" + host + ":" + std::to_string((*server)->port());
    demo_thread =
        std::thread([&demo, &demo_stop, loopback] { demo->Run(loopback, &demo_stop, stdout); });
  }

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log::Info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  if (demo) {
    demo_stop.Stop();
    demo_thread.join();
  }
  (*server)->Stop();
  if (tcp) tcp->Stop();
  engine->reset();
  Status closed = (*db)->Close();
  if (!closed.ok()) return Fail("closing storage", closed);
  log::Info("stopped cleanly");
  return 0;
}

struct SimulateArgs {
  SimulationOptions sim;
  std::string sites = "north,south,east";
  std::string start;  // YYYY-MM-DD: where the simulated history begins
  double backfill_days = 0;
  int64_t interval_s = 10;
  int64_t history_step_s = 300;
  double duration_s = 0;
  bool no_live = false;
  std::vector<std::string> shifts;  // METRIC=OFFSET[@YYYY-MM-DD]
};

// "bearing_temp=40@2026-03-01": from that day (default: now) on, every asset's sensor for the
// metric reads 40 higher.
std::optional<sim::FleetOptions::CalibrationShift> ParseShift(std::string_view text,
                                                              int64_t now_ns) {
  const size_t eq = text.find('='), at = text.find('@');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  sim::FleetOptions::CalibrationShift shift{.metric = std::string(text.substr(0, eq)),
                                            .from_ns = now_ns};
  const std::string offset(text.substr(eq + 1, at == std::string_view::npos ? at : at - eq - 1));
  char* end = nullptr;
  shift.offset = std::strtod(offset.c_str(), &end);
  if (offset.empty() || *end != '\0' || !std::isfinite(shift.offset)) return std::nullopt;
  if (at != std::string_view::npos) {
    const std::string day(text.substr(at + 1));
    std::tm tm{};
    const char* rest = strptime(day.c_str(), "%Y-%m-%d", &tm);
    if (rest == nullptr || *rest != '\0') return std::nullopt;
    shift.from_ns = static_cast<int64_t>(timegm(&tm)) * sim::kSecondNs;
  }
  return shift;
}

// `foresight simulate`: back-fill (optional), then live readings in real time until Ctrl-C or
// --duration.
int Simulate(SimulateArgs args) {
  sigset_t stop_signals = BlockStopSignals();
  const int64_t now = storage::SystemClock().NowNs();
  args.sim.fleet.sites.clear();
  for (size_t at = 0; at <= args.sites.size();) {
    size_t comma = std::min(args.sites.find(',', at), args.sites.size());
    if (comma > at) args.sim.fleet.sites.push_back(args.sites.substr(at, comma - at));
    at = comma + 1;
  }
  if (!args.start.empty()) {
    std::tm tm{};
    if (!strptime(args.start.c_str(), "%Y-%m-%d", &tm)) {
      std::fprintf(stderr, "foresight simulate: --start '%s' is not YYYY-MM-DD\n",
                   args.start.c_str());
      return 2;
    }
    args.sim.fleet.epoch_ns = static_cast<int64_t>(timegm(&tm)) * sim::kSecondNs;
  } else {
    // Deterministic within a day: the history begins at a midnight.
    args.sim.fleet.epoch_ns =
        (now - static_cast<int64_t>(args.backfill_days * sim::kDayNs)) / sim::kDayNs * sim::kDayNs;
  }
  if (args.interval_s < 1 || args.history_step_s < 1) {
    std::fprintf(stderr, "foresight simulate: --interval and --history-step must be >= 1 s\n");
    return 2;
  }
  for (const std::string& text : args.shifts) {
    auto shift = ParseShift(text, now);
    if (!shift) {
      std::fprintf(stderr, "foresight simulate: --shift '%s' is not METRIC=OFFSET[@YYYY-MM-DD]\n",
                   text.c_str());
      return 2;
    }
    args.sim.fleet.calibration_shifts.push_back(std::move(*shift));
  }
  auto simulation = Simulation::Start(args.sim);
  if (!simulation.ok()) return Fail("simulate", simulation.status());

  StopFlag stop;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec poll{0, 200'000'000};
    while (!done.load()) {
      if (sigtimedwait(&stop_signals, nullptr, &poll) > 0) stop.Stop();
    }
  });
  const auto& fleet = (*simulation)->fleet().assets();
  std::fprintf(
      stderr, "simulate: %zu assets (seed %llu) -> %s%s\n", fleet.size(),
      static_cast<unsigned long long>(args.sim.fleet.seed),
      args.sim.tcp.empty() ? args.sim.url.c_str() : ("tcp://" + args.sim.tcp).c_str(),
      args.sim.client_id.empty() ? " (readings only: no --client-id for maintenance)" : "");
  int code = 0;
  if (args.backfill_days > 0) {
    const int64_t step = args.history_step_s * sim::kSecondNs;
    const int64_t to = std::min(now, args.sim.fleet.epoch_ns +
                                         static_cast<int64_t>(args.backfill_days * sim::kDayNs)) /
                       step * step;
    int last = -1;
    auto reached =
        (*simulation)->Backfill(args.sim.fleet.epoch_ns, to, step, stop, [&](double share) {
          if (static_cast<int>(share * 100) == last) return;
          last = static_cast<int>(share * 100);
          std::fprintf(stderr, "\rsimulate: back-fill %3d%%", last);
        });
    std::fprintf(stderr, "\n");
    if (!reached.ok()) {
      code = Fail("back-fill", reached.status());
      stop.Stop();
    }
  }
  if (!args.no_live && !stop.stopped()) {
    std::fprintf(stderr, "simulate: live, a reading per asset every %lld s (%.1f rows/s)\n",
                 static_cast<long long>(args.interval_s),
                 static_cast<double>(fleet.size()) / static_cast<double>(args.interval_s));
    Simulation* live[] = {simulation->get()};
    RunLive(live, args.interval_s * sim::kSecondNs,
            static_cast<int64_t>(args.duration_s * sim::kSecondNs), &stop, [&](const Status& s) {
              std::fprintf(stderr, "simulate: %s\n", s.ToString().c_str());
              code = 1;
            });
  }
  done = true;
  watcher.join();
  std::printf("simulate: sent %llu readings, %llu field values, %llu maintenance records\n",
              static_cast<unsigned long long>((*simulation)->rows()),
              static_cast<unsigned long long>((*simulation)->values()),
              static_cast<unsigned long long>((*simulation)->events()));
  return code;
}

// The admin commands work on a stopped server's data directory (RocksDB locks it while the
// server runs): client credentials (how a tenant's first admin comes to exist), tenants, write
// tokens, backup and restore.
enum class Admin {
  kClientCreate,
  kClientList,
  kUserCreate,
  kUserList,
  kTenantCreate,
  kTenantList,
  kTenantExport,
  kTenantImport,
  kTokenCreate,
  kTokenList,
  kTokenRevoke,
  kBackup,
  kRestore
};

struct AdminArgs {
  std::string tenant;
  std::string role = "admin";
  std::string client_id;
  std::string name;
  std::string id;
  std::string dir;
  std::string username;
  std::string display_name;
  bool password_stdin = false;
};

int RunAdmin(const ConfigLoader& loader, Admin command, const AdminArgs& args) {
  Result<Config> config = loader.Load();
  if (!config.ok()) return Fail("configuration", config.status());
  log::Init(log::Level::kWarn, config->log_format);
  const std::string key_file = config->data_dir + "/jwt.key";
  if (command == Admin::kRestore) {
    Status s = storage::Storage::Restore(args.dir, config->data_dir);
    if (!s.ok()) return Fail("restore", s);
    std::printf("restored %s into %s\n", args.dir.c_str(), config->data_dir.c_str());
    return 0;
  }
  if (command == Admin::kTenantImport) {
    Result<std::string> tenant =
        storage::Storage::ImportTenant(args.dir, config->data_dir, config->storage);
    if (!tenant.ok()) return Fail("tenant import", tenant.status());
    std::printf(
        "imported tenant %s from %s into %s (its users and tokens came along; sign-ins made on "
        "the old instance end, since its signing key did not)\n",
        tenant->c_str(), args.dir.c_str(), config->data_dir.c_str());
    return 0;
  }
  auto db = storage::Storage::Open(config->data_dir, config->storage);
  if (!db.ok()) return Fail("storage", db.status());
  http::AuthOptions auth_options = config->auth;
  if (auth_options.key_file.empty()) auth_options.key_file = key_file;
  auto auth = http::Auth::Open(db->get(), auth_options);
  if (!auth.ok()) return Fail("auth", auth.status());
  auto tenant = [&](bool create) {
    return create ? (*db)->CreateTenant(args.tenant) : (*db)->FindTenant(args.tenant);
  };
  switch (command) {
    case Admin::kClientCreate:
    case Admin::kClientList: {
      Result<storage::TenantId> t = tenant(command == Admin::kClientCreate);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      if (command == Admin::kClientList) {
        for (const http::Auth::Client& c : (*auth)->ListClients(*t)) {
          std::printf("%s\t%s\n", c.id.c_str(), std::string(http::RoleName(c.role)).c_str());
        }
        break;
      }
      Result<http::Role> role = http::ParseClientRole(args.role);
      if (!role.ok()) return Fail("--role", role.status());
      auto created = (*auth)->CreateClient(*t, args.client_id, *role);
      if (!created.ok()) return Fail("client", created.status());
      std::printf("tenant:        %s\nrole:          %s\nclient_id:     %s\nclient_secret: %s\n",
                  args.tenant.c_str(), args.role.c_str(), created->client.id.c_str(),
                  created->secret.c_str());
      std::printf("(the secret is shown only now; sign in with POST /auth/token)\n");
      break;
    }
    case Admin::kUserCreate:
    case Admin::kUserList: {
      Result<storage::TenantId> t = tenant(command == Admin::kUserCreate);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      if (command == Admin::kUserList) {
        for (const http::Auth::User& u : (*auth)->ListUsers(*t)) {
          std::printf("%s\t%s\t%s%s\n", u.username.c_str(),
                      std::string(http::RoleName(u.role)).c_str(), u.display_name.c_str(),
                      u.disabled ? "\t(disabled)" : "");
        }
        break;
      }
      Result<http::Role> role = http::ParseClientRole(args.role);
      if (!role.ok()) return Fail("--role", role.status());
      std::string password;
      if (args.password_stdin) {
        if (!std::getline(std::cin, password))
          return Fail("--password-stdin", Status::InvalidArgument("no password on standard input"));
      } else {
        password = ingest::Base64UrlEncode(ingest::RandomBytes(15));
      }
      http::Auth::User user{
          .username = args.username,
          .display_name = args.display_name.empty() ? args.username : args.display_name,
          .role = *role};
      auto created = (*auth)->CreateUser(*t, user, password);
      if (!created.ok()) return Fail("user", created.status());
      std::printf("tenant:   %s\nusername: %s\nrole:     %s\n", args.tenant.c_str(),
                  created->username.c_str(), args.role.c_str());
      if (!args.password_stdin) {
        std::printf("password: %s\n(the password is shown only now)\n", password.c_str());
      }
      std::printf("sign in at the dashboard (/) with tenant, username and password\n");
      break;
    }
    case Admin::kTenantCreate: {
      Result<storage::TenantId> t = tenant(true);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      std::printf("tenant %s (id %u)\n", args.tenant.c_str(), *t);
      break;
    }
    case Admin::kTenantList:
      for (const auto& [id, name] : (*db)->ListTenants()) {
        std::printf("%s\t%zu assets\t%zu clients\n", name.c_str(), (*db)->ListAssets(id).size(),
                    (*auth)->ListClients(id).size());
      }
      break;
    case Admin::kTokenCreate: {
      Result<storage::TenantId> t = tenant(false);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      auto created = (*auth)->tokens().Create(*t, args.name);
      if (!created.ok()) return Fail("token", created.status());
      std::printf("id:    %s\nname:  %s\ntoken: %s\n(write-only; shown only now)\n",
                  created->token.id.c_str(), created->token.name.c_str(), created->secret.c_str());
      break;
    }
    case Admin::kTokenList: {
      Result<storage::TenantId> t = tenant(false);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      for (const ingest::ApiTokens::Token& token : (*auth)->tokens().List(*t)) {
        std::printf("%s\t%s\t%s\n", token.id.c_str(), token.name.c_str(),
                    token.revoked_ns ? "revoked" : "valid");
      }
      break;
    }
    case Admin::kTokenRevoke: {
      Result<storage::TenantId> t = tenant(false);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      Status s = (*auth)->tokens().Revoke(*t, args.id);
      if (!s.ok()) return Fail("token '" + args.id + "'", s);
      std::printf("revoked %s\n", args.id.c_str());
      break;
    }
    case Admin::kBackup: {
      Status s = (*db)->Checkpoint(args.dir);
      // The JWT key travels with the data, so signed-in clients survive a restore.
      std::error_code ec;
      if (s.ok() && std::filesystem::exists(key_file, ec)) {
        std::filesystem::copy_file(key_file, args.dir + "/jwt.key", ec);
        if (ec) s = Status::IOError("cannot copy " + key_file + ": " + ec.message());
      }
      if (!s.ok()) return Fail("backup", s);
      std::printf("backed up %s into %s (restore with: %s restore %s --data-dir <empty dir>)\n",
                  config->data_dir.c_str(), args.dir.c_str(), program.c_str(), args.dir.c_str());
      break;
    }
    case Admin::kTenantExport: {
      Result<storage::TenantId> t = tenant(false);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      Status s = (*db)->ExportTenant(*t, args.dir);
      if (!s.ok()) return Fail("tenant export", s);
      std::printf(
          "exported tenant %s into %s (import with: %s tenant import %s --data-dir <dir>)\n",
          args.tenant.c_str(), args.dir.c_str(), program.c_str(), args.dir.c_str());
      break;
    }
    case Admin::kRestore:
    case Admin::kTenantImport:
      break;  // done above, before the directory is opened
  }
  Status closed = (*db)->Close();
  return closed.ok() ? 0 : Fail("closing storage", closed);
}

}  // namespace
// The commands and what their flags fill in; CLI11 writes into these while it parses.
struct Commands {
  ConfigLoader loader;
  CLI::App* serve = nullptr;
  bool demo = false;
  DemoOptions demo_options;
  CLI::App* simulate = nullptr;
  SimulateArgs sim_args;
  CLI::App* train = nullptr;
  TrainArgs train_args;
  CLI::App* predict = nullptr;
  PredictArgs predict_args;
  CLI::App* loadgen = nullptr;
  LoadgenOptions load;
  AdminArgs args;
  std::vector<std::pair<CLI::App*, Admin>> admin;
};

void AddServe(CLI::App* app, Commands* c) {
  c->serve = app->add_subcommand(
      "serve",
      "Run the appliance: open the data directory and serve HTTP.\n"
      "Settings come from flags, then FORESIGHT_* environment variables, then --config, then "
      "defaults.");
  c->loader.AddFlags(c->serve);
  c->serve->add_flag(
      "--demo", c->demo,
      "Demo mode: on an empty data directory create two demo tenants (assets, rules, "
      "sign-ins, tokens) and back-fill their history; then simulate their fleets "
      "live. Prints the sign-in; later starts reuse the data");
  c->serve->add_option("--demo-days", c->demo_options.days, "Days of history the demo back-fills")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3650.0));
  c->serve->add_option("--demo-assets", c->demo_options.assets, "Assets per demo tenant")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
}

void AddSimulate(CLI::App* app, Commands* c) {
  c->simulate = app->add_subcommand(
      "simulate",
      "Simulate a fleet (pumps, motors, compressors, turbines, transformers) that degrades and "
      "fails, and push it into a FORESIGHT: optional back-filled history at full speed, then "
      "live readings. Deterministic for a seed.");
  c->simulate->add_option("--url", c->sim_args.sim.url, "The FORESIGHT to push to")
      ->capture_default_str();
  c->simulate->add_option("--tcp", c->sim_args.sim.tcp,
                          "Send readings to this TCP line-protocol listener (host:port) instead");
  c->simulate
      ->add_option("--token", c->sim_args.sim.token, "Write token (fst_… or from auth.tokens)")
      ->required();
  c->simulate->add_option("--tenant", c->sim_args.sim.tenant,
                          "Tenant name (with --client-id: asset details and maintenance records)");
  c->simulate->add_option("--client-id", c->sim_args.sim.client_id,
                          "Client id of an engineer or admin");
  c->simulate->add_option("--client-secret", c->sim_args.sim.client_secret, "Its secret");
  c->simulate->add_option("--assets", c->sim_args.sim.fleet.assets, "Number of assets")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  c->simulate->add_option("--seed", c->sim_args.sim.fleet.seed, "Random seed")
      ->capture_default_str();
  c->simulate->add_option("--sites", c->sim_args.sites, "Site names, comma-separated")
      ->capture_default_str();
  c->simulate->add_option("--prefix", c->sim_args.sim.fleet.id_prefix, "Prefix of asset ids");
  c->simulate->add_option("--interval", c->sim_args.interval_s, "Seconds between live readings")
      ->capture_default_str();
  c->simulate
      ->add_option("--backfill-days", c->sim_args.backfill_days,
                   "Days of history to send first, at full speed (from --start, or up to now)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3650.0));
  c->simulate
      ->add_option("--history-step", c->sim_args.history_step_s,
                   "Seconds between back-filled readings")
      ->capture_default_str();
  c->simulate->add_option("--start", c->sim_args.start,
                          "Day the simulated history begins, YYYY-MM-DD (default: --backfill-days "
                          "before today)");
  c->simulate
      ->add_option("--duration", c->sim_args.duration_s,
                   "Seconds of live readings (default 0: until Ctrl-C)")
      ->capture_default_str();
  c->simulate->add_flag("--no-live", c->sim_args.no_live, "Stop after the back-fill");
  c->simulate->add_option(
      "--shift", c->sim_args.shifts,
      "METRIC=OFFSET[@YYYY-MM-DD]: from that day (default: now) every asset's METRIC sensor "
      "reads OFFSET higher, as after a wrong recalibration; what the models' drift check "
      "notices. Repeatable");
}

void AddModelCommands(CLI::App* app, Commands* c) {
  // The model commands talk to a running server as a client with engineer (train) or viewer
  // (predict) credentials.
  auto add_api = [](CLI::App* cmd, ModelClientArgs* api) {
    cmd->add_option("--url", api->url, "The FORESIGHT to talk to")->capture_default_str();
    cmd->add_option("--tenant", api->tenant, "Tenant")->required();
    cmd->add_option("--client-id", api->client_id, "Client id")->required();
    cmd->add_option("--client-secret", api->client_secret, "Its secret")->required();
  };
  c->train = app->add_subcommand(
      "train",
      "Train models now, with a progress bar: the fleet's failure-within-7/30-days and remaining-"
      "life models from its rollups and maintenance records, or (--csv) a model of given "
      "features, scored on held-out rows. Prints each model's validation metrics and whether it "
      "became champion.");
  add_api(c->train, &c->train_args.api);
  c->train
      ->add_option("--targets", c->train_args.targets,
                   "fails_7d, fails_30d, rul_days (default all)")
      ->delimiter(',');
  c->train->add_option("--rul-cap-days", c->train_args.rul_cap_days,
                       "Cap of the remaining-life target (default: the server's ml.rul_cap_days)");
  c->train->add_option("--param", c->train_args.params,
                       "A hyper-parameter over the server's defaults, name=value; repeat for more: "
                       "max_rounds, early_stopping_rounds, max_depth, eta, subsample, "
                       "colsample_bytree, colsample_bynode, num_parallel_tree, min_child_weight, "
                       "lambda, seed (XGBoost's sampling seed, default 0)");
  c->train->add_option("--csv", c->train_args.csv, "Given features: a CSV file with a header row")
      ->check(CLI::ExistingFile);
  c->train->add_option("--label", c->train_args.label, "CSV: the column to learn");
  c->train->add_option("--name", c->train_args.name, "CSV: the model's target name ([a-z0-9_-])");
  c->train->add_option("--drop", c->train_args.drop, "CSV: columns to leave out, comma-separated")
      ->delimiter(',');
  c->train->add_option("--objective", c->train_args.objective, "CSV: binary or regression")
      ->capture_default_str();
  c->train
      ->add_option("--holdout", c->train_args.holdout,
                   "CSV: share of rows held out and scored after training")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  c->train->add_option("--seed", c->train_args.seed, "CSV: seed of the hold-out draw")
      ->capture_default_str();

  c->predict = app->add_subcommand(
      "predict",
      "Score assets with the champion models: failure probabilities, remaining life, "
      "health, risk and the top factor");
  add_api(c->predict, &c->predict_args.api);
  c->predict
      ->add_option("--assets", c->predict_args.assets, "Asset ids, comma-separated (default all)")
      ->delimiter(',');
  c->predict->add_option("--as-of", c->predict_args.as_of,
                         "Features as of this time (default: each asset's latest reading)");
  c->predict->add_option("--format", c->predict_args.format, "table or csv")->capture_default_str();
}

void AddLoadgen(CLI::App* app, Commands* c) {
  c->loadgen = app->add_subcommand(
      "loadgen",
      "Load generator (what bench/ uses): a deterministic IoT workload (assets x 8 metrics, 10 s "
      "apart from 2023-11-14, so the server's retention.raw must reach back that far), generated "
      "first, then pushed as fast as the server takes it. Live progress on stderr; summary with "
      "rows/s, field values/s, errors and HTTP latency percentiles.");
  c->loadgen
      ->add_option("--mode", c->load.mode,
                   "http (line protocol, acknowledged), tcp (raw line protocol) or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"http", "tcp", "json"}));
  c->loadgen->add_option("--url", c->load.url, "HTTP base URL (tcp: where /metrics is read)")
      ->capture_default_str();
  c->loadgen->add_option("--path", c->load.path,
                         "HTTP target (default /api/v2/write?bucket=bench&precision=ns; json: "
                         "/api/v1/tenants/<tenant>/readings?precision=ns)");
  c->loadgen->add_option("--tcp", c->load.tcp, "TCP listener for --mode tcp")
      ->capture_default_str();
  c->loadgen->add_option("--token", c->load.token, "Write token");
  c->loadgen->add_option("--tenant", c->load.tenant, "Tenant (json mode)");
  c->loadgen->add_option("--assets", c->load.assets, "Assets")->capture_default_str();
  c->loadgen->add_option("--steps", c->load.steps, "Readings per asset")->capture_default_str();
  c->loadgen->add_option("--batch", c->load.batch, "Lines per request or TCP write")
      ->capture_default_str();
  c->loadgen->add_option("--connections", c->load.connections, "Concurrent connections")
      ->capture_default_str();
  c->loadgen->add_option("--wait-metric", c->load.wait_metric,
                         "tcp: the /metrics counter that counts stored values (default "
                         "foresight_ingest_values_total)");
  c->loadgen->add_flag("--json", c->load.json, "Print the summary as one JSON object");
}

void AddAdmin(CLI::App* app, Commands* c) {
  // Admin commands: each takes every setting flag too (for --data-dir, --config).
  auto add = [c](CLI::App* parent, const char* name, const char* help, Admin command) {
    CLI::App* sub = parent->add_subcommand(name, help);
    c->loader.AddFlags(sub);
    c->admin.emplace_back(sub, command);
    return sub;
  };
  const char* kStopped = " (the server must be stopped: the data directory is locked)";
  CLI::App* client = app->add_subcommand("client", std::string("Client credentials") + kStopped);
  client->require_subcommand(1);
  CLI::App* client_create =
      add(client, "create",
          "Create client credentials (the tenant too if new) and print the secret once",
          Admin::kClientCreate);
  client_create->add_option("--tenant", c->args.tenant, "Tenant name")->required();
  client_create->add_option("--role", c->args.role, "viewer, engineer or admin")
      ->capture_default_str();
  client_create->add_option("--client-id", c->args.client_id,
                            "Client id (default: <tenant>-<role>-<random>)");
  add(client, "list", "List a tenant's clients", Admin::kClientList)
      ->add_option("--tenant", c->args.tenant, "Tenant name")
      ->required();

  CLI::App* user = app->add_subcommand("user", std::string("People who sign in") + kStopped);
  user->require_subcommand(1);
  CLI::App* user_create = add(
      user, "create", "Create a user (the tenant too if new) and print a generated password once",
      Admin::kUserCreate);
  user_create->add_option("--tenant", c->args.tenant, "Tenant name")->required();
  user_create->add_option("--username", c->args.username, "1..64 of [a-z0-9_.@+-]")->required();
  user_create->add_option("--role", c->args.role, "viewer, engineer or admin")
      ->capture_default_str();
  user_create->add_option("--display-name", c->args.display_name, "Shown in the dashboard");
  user_create->add_flag("--password-stdin", c->args.password_stdin,
                        "Read the password (10..256 bytes) from the first line of standard input");
  add(user, "list", "List a tenant's users", Admin::kUserList)
      ->add_option("--tenant", c->args.tenant, "Tenant name")
      ->required();

  CLI::App* tenant = app->add_subcommand("tenant", std::string("Tenants") + kStopped);
  tenant->require_subcommand(1);
  add(tenant, "create", "Create a tenant", Admin::kTenantCreate)
      ->add_option("name", c->args.tenant, "Tenant name: 1..64 of [A-Za-z0-9_.-]")
      ->required();
  add(tenant, "list", "List tenants with their asset and client counts", Admin::kTenantList);
  CLI::App* tenant_export =
      add(tenant, "export",
          "Write one tenant (data, assets, records, users, tokens) to DIR, to move it to "
          "another instance (a running server exports with POST /api/v1/admin/backups)",
          Admin::kTenantExport);
  tenant_export->add_option("--tenant", c->args.tenant, "Tenant name")->required();
  tenant_export->add_option("dir", c->args.dir, "Export directory (must not exist)")->required();
  add(tenant, "import",
      "Recreate a tenant exported by tenant export (or the backups API) in --data-dir; the "
      "tenant must not exist there",
      Admin::kTenantImport)
      ->add_option("dir", c->args.dir, "Export directory")
      ->required();

  CLI::App* token = app->add_subcommand("token", std::string("Write-only tokens") + kStopped);
  token->require_subcommand(1);
  CLI::App* token_create = add(
      token, "create", "Create a write token for sensors and print it once", Admin::kTokenCreate);
  token_create->add_option("--tenant", c->args.tenant, "Tenant name")->required();
  token_create->add_option("--name", c->args.name, "What the token is for")->required();
  add(token, "list", "List a tenant's write tokens", Admin::kTokenList)
      ->add_option("--tenant", c->args.tenant, "Tenant name")
      ->required();
  CLI::App* token_revoke = add(token, "revoke", "Revoke a write token", Admin::kTokenRevoke);
  token_revoke->add_option("--tenant", c->args.tenant, "Tenant name")->required();
  token_revoke->add_option("id", c->args.id, "Token id (from token list)")->required();

  add(app, "backup",
      (std::string("Write a consistent copy of the data directory to DIR") + kStopped).c_str(),
      Admin::kBackup)
      ->add_option("dir", c->args.dir, "Backup directory (must not exist)")
      ->required();
  add(app, "restore", "Restore a backup into --data-dir, which must be empty or missing",
      Admin::kRestore)
      ->add_option("dir", c->args.dir, "Backup directory")
      ->required();
}

}  // namespace foresight::tools

int main(int argc, char** argv) {
  using namespace foresight::tools;
  program = argv[0];
  CLI::App app{
      "FORESIGHT: predictive maintenance in one binary.\n"
      "Ingests sensor readings, stores them, watches them and learns which assets will fail."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  Commands c;
  AddServe(&app, &c);
  AddSimulate(&app, &c);
  AddModelCommands(&app, &c);
  AddLoadgen(&app, &c);
  CLI::App* version = app.add_subcommand("version", "Print the version and library versions");
  AddAdmin(&app, &c);

  CLI11_PARSE(app, argc, argv);
  if (version->parsed()) {
    std::printf("foresight %s (boost %d.%d)\n", FORESIGHT_VERSION, BOOST_VERSION / 100000,
                BOOST_VERSION / 100 % 1000);
    return 0;
  }
  if (c.serve->parsed())
    return Serve(c.loader, c.demo ? std::optional(c.demo_options) : std::nullopt);
  if (c.simulate->parsed()) return Simulate(c.sim_args);
  if (c.loadgen->parsed()) return RunLoadgen(c.load);
  if (c.train->parsed()) return Train(c.train_args);
  if (c.predict->parsed()) return Predict(c.predict_args);
  for (const auto& [sub, command] : c.admin) {
    if (sub->parsed()) return RunAdmin(c.loader, command, c.args);
  }
  return 1;
}
