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

// `foresight client create|list`: client credentials for a tenant, made offline on the data
// directory (the server must be stopped: the directory is locked while it runs). This is how the
// first admin of a tenant comes to exist; admins then manage the rest over the API.
struct ClientCommand {
  std::string tenant;
  std::string role = "admin";
  std::string client_id;
};

int Client(const ConfigLoader& loader, const ClientCommand& command, bool create) {
  Result<Config> config = loader.Load();
  if (!config.ok()) return Fail("configuration", config.status());
  log::Init(log::Level::kWarn, config->log_format);
  auto db = storage::Storage::Open(config->data_dir, config->storage);
  if (!db.ok()) return Fail("storage", db.status());
  http::AuthOptions auth_options = config->auth;
  if (auth_options.key_file.empty()) auth_options.key_file = config->data_dir + "/jwt.key";
  auto auth = http::Auth::Open(db->get(), auth_options);
  if (!auth.ok()) return Fail("auth", auth.status());
  Result<storage::TenantId> tenant =
      create ? (*db)->CreateTenant(command.tenant) : (*db)->FindTenant(command.tenant);
  if (!tenant.ok()) return Fail("tenant '" + command.tenant + "'", tenant.status());
  if (!create) {
    for (const http::Auth::Client& c : (*auth)->ListClients(*tenant)) {
      std::printf("%s\t%s\n", c.id.c_str(), std::string(http::RoleName(c.role)).c_str());
    }
    return 0;
  }
  Result<http::Role> role = http::ParseClientRole(command.role);
  if (!role.ok()) return Fail("--role", role.status());
  auto created = (*auth)->CreateClient(*tenant, command.client_id, *role);
  if (!created.ok()) return Fail("client", created.status());
  std::printf("tenant:        %s\nrole:          %s\nclient_id:     %s\nclient_secret: %s\n",
              command.tenant.c_str(), command.role.c_str(), created->client.id.c_str(),
              created->secret.c_str());
  std::printf("(the secret is shown only now; sign in with POST /auth/token)\n");
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

  ClientCommand client_command;
  CLI::App* client = app.add_subcommand(
      "client", "Client credentials of a tenant, on a stopped server's data directory");
  client->require_subcommand(1);
  CLI::App* client_create = client->add_subcommand(
      "create", "Create client credentials (the tenant too if new) and print the secret once");
  client_create->add_option("--tenant", client_command.tenant, "Tenant name")->required();
  client_create->add_option("--role", client_command.role, "viewer, engineer or admin")
      ->capture_default_str();
  client_create->add_option("--client-id", client_command.client_id,
                            "Client id (default: <tenant>-<role>-<random>)");
  loader.AddFlags(client_create);
  CLI::App* client_list = client->add_subcommand("list", "List a tenant's clients");
  client_list->add_option("--tenant", client_command.tenant, "Tenant name")->required();
  loader.AddFlags(client_list);

  CLI11_PARSE(app, argc, argv);
  if (version->parsed()) {
    std::printf("foresight %s (boost %d.%d)\n", FORESIGHT_VERSION, BOOST_VERSION / 100000,
                BOOST_VERSION / 100 % 1000);
    return 0;
  }
  if (serve->parsed()) return Serve(loader);
  if (client_create->parsed()) return Client(loader, client_command, true);
  if (client_list->parsed()) return Client(loader, client_command, false);
  return 1;
}
