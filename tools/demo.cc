#include "tools/demo.h"

#include <boost/json.hpp>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace foresight::tools {
namespace json = boost::json;

namespace {

struct TenantPlan {
  const char* name;
  uint64_t seed;
  std::vector<std::string> sites;
};

// A water utility and a power producer: the same kinds of machines, different fleets.
const std::vector<TenantPlan>& Plans() {
  static const std::vector<TenantPlan> kPlans = {
      {"northwind", 7, {"riverside", "hilltop", "harbor"}},
      {"helios", 11, {"plant-a", "plant-b"}},
  };
  return kPlans;
}

// The demo's alert rules (ISO 10816 vibration zones, IEEE C57.104 hydrogen levels, and the
// temperatures the simulated machines reach only when degrading).
const char* kRules[] = {
    R"({"name":"Vibration in ISO 10816 zone C","metric":"vibration_rms","operator":"gt",
        "threshold":7.1,"clear_threshold":6.0,"source":"5m","aggregate":"mean",
        "cooldown_seconds":3600,"severity":"warning"})",
    R"({"name":"Vibration in ISO 10816 zone D","metric":"vibration_rms","operator":"gt",
        "threshold":11.2,"clear_threshold":9.0,"source":"5m","aggregate":"mean",
        "severity":"critical"})",
    R"({"name":"Bearing overheating","metric":"bearing_temp","operator":"gt","threshold":90,
        "clear_threshold":85,"for_seconds":300,"severity":"critical"})",
    R"({"name":"Winding hot","metric":"winding_temp","operator":"gt","threshold":130,
        "clear_threshold":120,"source":"5m","aggregate":"mean","severity":"warning"})",
    R"({"name":"Hydrogen in transformer oil","metric":"h2_ppm","operator":"gt","threshold":100,
        "clear_threshold":90,"source":"1h","aggregate":"mean","severity":"warning",
        "scope":{"asset_type":"transformer"}})",
    R"({"name":"Pump discharge pressure low","metric":"discharge_pressure","operator":"lt",
        "threshold":2.8,"clear_threshold":3.0,"source":"1h","aggregate":"mean",
        "severity":"warning","scope":{"asset_type":"pump"}})",
};

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

Result<std::unique_ptr<Demo>> Demo::Prepare(storage::Storage* db, http::Auth* auth,
                                            const std::string& data_dir,
                                            const DemoOptions& options) {
  std::unique_ptr<Demo> demo(new Demo(data_dir + "/demo.json", options));
  std::ifstream in(demo->state_file_);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    auto v = storage::ParseJson(text.str());
    if (!v.ok() || !v->is_object() || !v->as_object().contains("tenants")) {
      return Status::Corruption(demo->state_file_ +
                                " is not the demo's state; remove it to "
                                "set the demo up again");
    }
    const json::object& o = v->as_object();
    demo->epoch_ns_ = o.at("epoch_ns").to_number<int64_t>();
    for (const json::value& t : o.at("tenants").as_array()) {
      const json::object& to = t.as_object();
      Tenant tenant{Str(to, "name"),
                    to.at("seed").to_number<uint64_t>(),
                    {},
                    Str(to, "admin_id"),
                    Str(to, "admin_secret"),
                    Str(to, "viewer_id"),
                    Str(to, "viewer_secret"),
                    Str(to, "write_token"),
                    to.at("history_until_ns").to_number<int64_t>()};
      for (const json::value& s : to.at("sites").as_array()) {
        tenant.sites.emplace_back(s.as_string());
      }
      if (const json::value* users = to.if_contains("users"); users && users->is_array()) {
        for (const json::value& u : users->as_array()) {
          if (!u.is_object()) continue;
          tenant.users.emplace_back(Str(u.as_object(), "username"), Str(u.as_object(), "password"));
        }
      }
      demo->tenants_.push_back(std::move(tenant));
    }
    if (Status s = demo->EnsureUsers(db, auth); !s.ok()) return s;
    return demo;
  }

  // First start: the history ends now and begins `days` before, at a midnight.
  const int64_t now = storage::SystemClock().NowNs();
  demo->epoch_ns_ =
      (now - static_cast<int64_t>(options.days * sim::kDayNs)) / sim::kDayNs * sim::kDayNs;
  for (const TenantPlan& plan : Plans()) {
    if (db->FindTenant(plan.name).ok()) {
      return Status::AlreadyExists("tenant '" + std::string(plan.name) + "' exists but " +
                                   demo->state_file_ +
                                   " does not: the demo needs an empty data directory");
    }
    auto tenant = db->CreateTenant(plan.name);
    if (!tenant.ok()) return tenant.status();
    auto admin = auth->CreateClient(*tenant, std::string(plan.name) + "-admin", http::Role::kAdmin);
    if (!admin.ok()) return admin.status();
    auto engineer =
        auth->CreateClient(*tenant, std::string(plan.name) + "-engineer", http::Role::kEngineer);
    if (!engineer.ok()) return engineer.status();
    auto viewer =
        auth->CreateClient(*tenant, std::string(plan.name) + "-viewer", http::Role::kViewer);
    if (!viewer.ok()) return viewer.status();
    auto token = auth->tokens().Create(*tenant, "demo simulator");
    if (!token.ok()) return token.status();
    demo->tenants_.push_back({plan.name, plan.seed, plan.sites, admin->client.id, admin->secret,
                              viewer->client.id, viewer->secret, token->secret, 0});
  }
  if (Status s = demo->EnsureUsers(db, auth); !s.ok()) return s;
  return demo;
}

Status Demo::EnsureUsers(storage::Storage* db, http::Auth* auth) {
  bool made = false;
  for (Tenant& t : tenants_) {
    if (!t.users.empty()) continue;
    auto tenant = db->FindTenant(t.name);
    if (!tenant.ok()) return tenant.status();
    for (http::Role role : {http::Role::kAdmin, http::Role::kEngineer, http::Role::kViewer}) {
      const std::string name(http::RoleName(role));
      const std::string password = ingest::Base64UrlEncode(ingest::RandomBytes(12));
      std::string display = name;
      display[0] = static_cast<char>(std::toupper(display[0]));
      auto user = auth->CreateUser(
          *tenant, {.username = name, .display_name = "Demo " + display, .role = role}, password);
      if (!user.ok()) return user.status();
      t.users.emplace_back(name, password);
    }
    made = true;
  }
  return made ? Save() : Status::OK();
}

Status Demo::Save() const {
  json::array tenants;
  for (const Tenant& t : tenants_) {
    json::array sites;
    for (const std::string& s : t.sites) sites.emplace_back(s);
    json::array users;
    for (const auto& [name, password] : t.users) {
      users.push_back(json::object{{"username", name}, {"password", password}});
    }
    tenants.push_back(json::object{{"name", t.name},
                                   {"seed", t.seed},
                                   {"sites", std::move(sites)},
                                   {"admin_id", t.admin_id},
                                   {"admin_secret", t.admin_secret},
                                   {"viewer_id", t.viewer_id},
                                   {"viewer_secret", t.viewer_secret},
                                   {"write_token", t.write_token},
                                   {"history_until_ns", t.history_until_ns},
                                   {"users", std::move(users)}});
  }
  const std::string text =
      storage::JsonText(json::object{{"epoch_ns", epoch_ns_}, {"tenants", std::move(tenants)}});
  // Secrets inside: owner-only, written whole then renamed into place.
  const std::string tmp = state_file_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, state_file_, ec);
  if (!ok || ec) return Status::IOError("cannot write " + state_file_);
  return Status::OK();
}

void Demo::PrintSignIn(std::FILE* out, const std::string& url) const {
  const Tenant& first = tenants_.front();
  std::fprintf(out, "  open %s/ and sign in as tenant %s, user %s, password %s\n", url.c_str(),
               first.name.c_str(), first.users.front().first.c_str(),
               first.users.front().second.c_str());
  std::fprintf(out, "  dashboard users (also kept in %s):\n", state_file_.c_str());
  for (const Tenant& t : tenants_) {
    for (const auto& [name, password] : t.users) {
      std::fprintf(out, "    %-10s %-9s %s\n", t.name.c_str(), name.c_str(), password.c_str());
    }
  }
  std::fprintf(out, "  API clients:\n");
  for (const Tenant& t : tenants_) {
    std::fprintf(out, "    %-10s admin  %s / %s\n", t.name.c_str(), t.admin_id.c_str(),
                 t.admin_secret.c_str());
    std::fprintf(out, "    %-10s viewer %s / %s\n", "", t.viewer_id.c_str(),
                 t.viewer_secret.c_str());
  }
  std::fprintf(out,
               "  sign in: curl -s -XPOST %s/auth/token -H 'Content-Type: application/json' "
               "-d '{\"client_id\":\"%s\",\"client_secret\":\"%s\"}'\n",
               url.c_str(), first.admin_id.c_str(), first.admin_secret.c_str());
  std::fprintf(out,
               "  then: curl -s %s/api/v1/tenants/%s/reports/fleet -H 'Authorization: "
               "Bearer <access_token>'\n",
               url.c_str(), first.name.c_str());
}

void Demo::Run(const std::string& url, StopFlag* stop, std::FILE* out) {
  std::vector<std::unique_ptr<Simulation>> simulations;
  for (Tenant& t : tenants_) {
    SimulationOptions o;
    o.url = url;
    o.token = t.write_token;
    o.tenant = t.name;
    o.client_id = t.admin_id;
    o.client_secret = t.admin_secret;
    o.fleet.seed = t.seed;
    o.fleet.assets = options_.assets;
    o.fleet.epoch_ns = epoch_ns_;
    o.fleet.sites = t.sites;
    auto sim = Simulation::Start(o);
    if (!sim.ok()) {
      std::fprintf(out, "demo: %s: %s\n", t.name.c_str(), sim.status().ToString().c_str());
      return;
    }
    // Rules once: a tenant that has any keeps its own.
    auto rules = (*sim)->Api("GET", "/rules?limit=1", "");
    if (rules.ok() && rules->status == 200 && rules->body.find("\"id\"") == std::string::npos) {
      for (const char* rule : kRules) {
        auto r = (*sim)->Api("POST", "/rules", rule);
        if (!r.ok() || r->status != 201) {
          std::fprintf(out, "demo: %s: creating a rule failed: %s\n", t.name.c_str(),
                       r.ok() ? r->body.c_str() : r.status().ToString().c_str());
        }
      }
    }
    // History: whatever is missing up to now (all of it on first start; after a restart the
    // time the appliance was down, so charts have no hole).
    const int64_t step = options_.history_step_s * sim::kSecondNs;
    const int64_t from = (std::max(epoch_ns_, t.history_until_ns) + step - 1) / step * step;
    const int64_t to = storage::SystemClock().NowNs() / step * step;
    if (from < to) {
      const double hours = static_cast<double>(to - from) / (3600.0 * sim::kSecondNs);
      std::fprintf(out, "demo: back-filling %.1f %s of history for %s (%d assets)\n",
                   hours < 48 ? hours : hours / 24, hours < 48 ? "hours" : "days", t.name.c_str(),
                   options_.assets);
      std::fflush(out);
      int last_decile = -1;
      auto reached = (*sim)->Backfill(from, to, step, *stop, [&](double done) {
        int decile = static_cast<int>(done * 10);
        if (decile != last_decile) {
          last_decile = decile;
          std::fprintf(out, "demo: %s history %3d%%\n", t.name.c_str(), decile * 10);
          std::fflush(out);
        }
      });
      if (!reached.ok()) {
        std::fprintf(out, "demo: %s: %s\n", t.name.c_str(), reached.status().ToString().c_str());
        return;
      }
      t.history_until_ns = *reached;
      if (Status s = Save(); !s.ok()) {
        std::fprintf(out, "demo: %s\n", s.ToString().c_str());
      }
      if (stop->stopped()) return;
      std::fprintf(out, "demo: %s: %llu readings, %llu values, %llu maintenance records\n",
                   t.name.c_str(), (unsigned long long)(*sim)->rows(),
                   (unsigned long long)(*sim)->values(), (unsigned long long)(*sim)->events());
    }
    // The first models, trained in the background while the fleet goes live; later ones come
    // from the weekly schedule.
    auto models = (*sim)->Api("GET", "/models", "");
    if (models.ok() && models->status == 200 && models->body.find("\"id\"") == std::string::npos) {
      auto run = (*sim)->Api("POST", "/training-runs", "{}");
      if (run.ok() && run->status == 202) {
        std::fprintf(out, "demo: %s: training the first models in the background\n",
                     t.name.c_str());
      } else {
        std::fprintf(out, "demo: %s: starting training failed: %s\n", t.name.c_str(),
                     run.ok() ? run->body.c_str() : run.status().ToString().c_str());
      }
    }
    simulations.push_back(std::move(*sim));
  }
  std::fprintf(out, "demo: live: %zu tenants, %d assets each, a reading per asset every %lld s\n",
               simulations.size(), options_.assets, static_cast<long long>(options_.interval_s));
  std::fflush(out);
  std::vector<Simulation*> live;
  for (auto& s : simulations) live.push_back(s.get());
  RunLive(live, options_.interval_s * sim::kSecondNs, 0, stop, [&](const Status& s) {
    std::fprintf(out, "demo: live step failed: %s\n", s.ToString().c_str());
    std::fflush(out);
  });
  // Live readings count as history: a restart back-fills only what came after.
  for (Tenant& t : tenants_)
    t.history_until_ns = std::max(t.history_until_ns, storage::SystemClock().NowNs());
  if (Status s = Save(); !s.ok()) std::fprintf(out, "demo: %s\n", s.ToString().c_str());
}

}  // namespace foresight::tools
