// `foresight`: the composition root. Parses the command line, wires the modules, runs them.
#include "http/auth.h"
#include "http/http.h"
#include "ingest/ingest.h"
#include "storage/log.h"
#include "storage/storage.h"
#include "tools/config.h"

#include <CLI/CLI.hpp>
#include <boost/version.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <signal.h>

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

int Serve(const ConfigLoader& loader) {
  Result<Config> config = loader.Load();
  if (!config.ok()) return Fail("configuration", config.status());
  log::Init(config->log_level, config->log_format);

  // Block the stop signals before any thread starts, so every thread inherits the mask and
  // sigwait below is the one place they arrive.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto db = storage::Storage::Open(config->data_dir, config->storage);
  if (!db.ok()) return Fail("storage", db.status());
  log::Info("storage open at {} (fsync {})", config->data_dir,
            storage::FsyncPolicyName(config->storage.fsync));

  http::AuthOptions auth_options = config->auth;
  if (auth_options.key_file.empty()) auth_options.key_file = config->data_dir + "/jwt.key";
  auto auth = http::Auth::Open(db->get(), auth_options);
  if (!auth.ok()) return Fail("auth", auth.status());
  ingest::Ingestor ingestor(db->get(), config->ingest);

  std::unique_ptr<ingest::TcpListener> tcp;
  if (config->tcp) {
    if (!config->tcp_tenant.empty()) {
      auto tenant = (*db)->CreateTenant(config->tcp_tenant);
      if (!tenant.ok()) return Fail("ingest.tcp_tenant", tenant.status());
      config->tcp->bound_tenant = *tenant;
    }
    auto listener = ingest::TcpListener::Start(*config->tcp, &ingestor, auth->get());
    if (!listener.ok()) return Fail("TCP line protocol", listener.status());
    tcp = std::move(*listener);
  }

  http::Services services{db->get(), &ingestor, auth->get(), tcp.get()};
  auto server = http::Server::Start(config->http, services);
  if (!server.ok()) return Fail("http", server.status());
  std::printf("FORESIGHT %s listening on http://%s:%u (data directory %s)\n", FORESIGHT_VERSION,
              DisplayHost(config->http.host).c_str(), (*server)->port(), config->data_dir.c_str());
  std::printf("  health: http://%s:%u/health   ready: http://%s:%u/ready   stop: Ctrl-C\n",
              DisplayHost(config->http.host).c_str(), (*server)->port(),
              DisplayHost(config->http.host).c_str(), (*server)->port());
  if (tcp) {
    std::printf("  line protocol over TCP: %s:%u%s\n", DisplayHost(config->tcp->host).c_str(),
                tcp->port(), config->tcp->bound_tenant ? " (bound to one tenant)" : "");
  }
  size_t clients = 0;
  for (const auto& [tenant, name] : (*db)->ListTenants())
    clients += (*auth)->ListClients(tenant).size();
  if (clients == 0) {
    std::printf(
        "  no sign-in exists yet: stop the server and run\n"
        "    %s client create --tenant <name> --role admin --data-dir %s\n",
        program.c_str(), config->data_dir.c_str());
  } else {
    std::printf("  sign in: POST http://%s:%u/auth/token  (API: /openapi.json)\n",
                DisplayHost(config->http.host).c_str(), (*server)->port());
  }
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log::Info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Stop();
  if (tcp) tcp->Stop();
  Status closed = (*db)->Close();
  if (!closed.ok()) return Fail("closing storage", closed);
  log::Info("stopped cleanly");
  return 0;
}

// The admin commands work on a stopped server's data directory (RocksDB locks it while the
// server runs): client credentials (how a tenant's first admin comes to exist), tenants, write
// tokens, backup and restore.
enum class Admin {
  kClientCreate,
  kClientList,
  kTenantCreate,
  kTenantList,
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
      auto created = (*auth)->CreateApiToken(*t, args.name);
      if (!created.ok()) return Fail("token", created.status());
      std::printf("id:    %s\nname:  %s\ntoken: %s\n(write-only; shown only now)\n",
                  created->token.id.c_str(), created->token.name.c_str(), created->secret.c_str());
      break;
    }
    case Admin::kTokenList: {
      Result<storage::TenantId> t = tenant(false);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      for (const http::Auth::ApiToken& token : (*auth)->ListApiTokens(*t)) {
        std::printf("%s\t%s\t%s\n", token.id.c_str(), token.name.c_str(),
                    token.revoked_ns ? "revoked" : "valid");
      }
      break;
    }
    case Admin::kTokenRevoke: {
      Result<storage::TenantId> t = tenant(false);
      if (!t.ok()) return Fail("tenant '" + args.tenant + "'", t.status());
      Status s = (*auth)->RevokeApiToken(*t, args.id);
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
    case Admin::kRestore:
      break;  // done above, before the directory is opened
  }
  Status closed = (*db)->Close();
  return closed.ok() ? 0 : Fail("closing storage", closed);
}

}  // namespace
}  // namespace foresight::tools

int main(int argc, char** argv) {
  using namespace foresight::tools;
  program = argv[0];
  CLI::App app{
      "FORESIGHT: predictive maintenance in one binary.\n"
      "Ingests sensor readings, stores them, watches them and learns which assets will fail."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  ConfigLoader loader;
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Run the appliance: open the data directory and serve HTTP.\n"
      "Settings come from flags, then FORESIGHT_* environment variables, then --config, then "
      "defaults.");
  loader.AddFlags(serve);
  CLI::App* version = app.add_subcommand("version", "Print the version and library versions");

  // Admin commands: each takes every setting flag too (for --data-dir, --config).
  AdminArgs args;
  std::vector<std::pair<CLI::App*, Admin>> admin;
  auto add = [&](CLI::App* parent, const char* name, const char* help, Admin command) {
    CLI::App* sub = parent->add_subcommand(name, help);
    loader.AddFlags(sub);
    admin.emplace_back(sub, command);
    return sub;
  };
  const char* kStopped = " (the server must be stopped: the data directory is locked)";
  CLI::App* client = app.add_subcommand("client", std::string("Client credentials") + kStopped);
  client->require_subcommand(1);
  CLI::App* client_create =
      add(client, "create",
          "Create client credentials (the tenant too if new) and print the secret once",
          Admin::kClientCreate);
  client_create->add_option("--tenant", args.tenant, "Tenant name")->required();
  client_create->add_option("--role", args.role, "viewer, engineer or admin")
      ->capture_default_str();
  client_create->add_option("--client-id", args.client_id,
                            "Client id (default: <tenant>-<role>-<random>)");
  add(client, "list", "List a tenant's clients", Admin::kClientList)
      ->add_option("--tenant", args.tenant, "Tenant name")
      ->required();

  CLI::App* tenant = app.add_subcommand("tenant", std::string("Tenants") + kStopped);
  tenant->require_subcommand(1);
  add(tenant, "create", "Create a tenant", Admin::kTenantCreate)
      ->add_option("name", args.tenant, "Tenant name: 1..64 of [A-Za-z0-9_.-]")
      ->required();
  add(tenant, "list", "List tenants with their asset and client counts", Admin::kTenantList);

  CLI::App* token = app.add_subcommand("token", std::string("Write-only tokens") + kStopped);
  token->require_subcommand(1);
  CLI::App* token_create = add(
      token, "create", "Create a write token for sensors and print it once", Admin::kTokenCreate);
  token_create->add_option("--tenant", args.tenant, "Tenant name")->required();
  token_create->add_option("--name", args.name, "What the token is for")->required();
  add(token, "list", "List a tenant's write tokens", Admin::kTokenList)
      ->add_option("--tenant", args.tenant, "Tenant name")
      ->required();
  CLI::App* token_revoke = add(token, "revoke", "Revoke a write token", Admin::kTokenRevoke);
  token_revoke->add_option("--tenant", args.tenant, "Tenant name")->required();
  token_revoke->add_option("id", args.id, "Token id (from token list)")->required();

  add(&app, "backup",
      (std::string("Write a consistent copy of the data directory to DIR") + kStopped).c_str(),
      Admin::kBackup)
      ->add_option("dir", args.dir, "Backup directory (must not exist)")
      ->required();
  add(&app, "restore", "Restore a backup into --data-dir, which must be empty or missing",
      Admin::kRestore)
      ->add_option("dir", args.dir, "Backup directory")
      ->required();

  CLI11_PARSE(app, argc, argv);
  if (version->parsed()) {
    std::printf("foresight %s (boost %d.%d)\n", FORESIGHT_VERSION, BOOST_VERSION / 100000,
                BOOST_VERSION / 100 % 1000);
    return 0;
  }
  if (serve->parsed()) return Serve(loader);
  for (const auto& [sub, command] : admin) {
    if (sub->parsed()) return RunAdmin(loader, command, args);
  }
  return 1;
}
