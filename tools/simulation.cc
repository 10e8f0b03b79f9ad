#include "tools/simulation.h"

#include <boost/json.hpp>

#include <chrono>
#include <cinttypes>
#include <ctime>

namespace foresight::tools {
namespace json = boost::json;

namespace {

constexpr size_t kLinesPerRequest = 5000;

// Whole seconds: what a CMMS export carries.
std::string Rfc3339(int64_t t_ns) {
  return storage::FormatRfc3339(t_ns / sim::kSecondNs * sim::kSecondNs);
}

// A CSV field, quoted when it needs to be.
std::string CsvField(std::string_view v) {
  if (v.find_first_of(",\"\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

}  // namespace

void StopFlag::Stop() {
  MutexLock lock(&mu_);
  stopped_ = true;
  cv_.NotifyAll();
}

bool StopFlag::SleepUntil(int64_t deadline_ns) {
  MutexLock lock(&mu_);
  const auto deadline = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(deadline_ns)));
  while (!stopped_.load() && cv_.WaitUntil(&mu_, deadline)) {
  }
  return !stopped_;
}

Simulation::Simulation(const SimulationOptions& options, Endpoint http)
    : options_(options), fleet_(options.fleet), http_(std::move(http)) {}

Result<std::unique_ptr<Simulation>> Simulation::Start(const SimulationOptions& options) {
  if (options.token.empty()) return Status::InvalidArgument("a write token is needed (--token)");
  auto http = ParseEndpoint(options.url, 8080);
  if (!http.ok()) return http.status();
  std::unique_ptr<Simulation> s(new Simulation(options, *http));
  if (!options.tcp.empty()) {
    auto tcp = ParseEndpoint(options.tcp, 8094);
    if (!tcp.ok()) return tcp.status();
    auto sender = TcpSender::Connect(*tcp, options.token);
    if (!sender.ok()) return sender.status();
    s->tcp_ = std::move(*sender);
  }
  if (!options.client_id.empty()) {
    if (options.tenant.empty()) return Status::InvalidArgument("--tenant is needed to sign in");
    s->api_.emplace(&s->http_, options.tenant, options.client_id, options.client_secret);
    if (Status st = s->api_->SignIn(); !st.ok()) return st;
    if (Status st = s->RegisterAssets(); !st.ok()) return st;
  }
  return s;
}

Result<HttpClient::Response> Simulation::Api(std::string_view method, std::string_view path,
                                             std::string_view body, std::string_view content_type) {
  if (!api_) return Status::InvalidArgument("no client credentials to sign in with");
  return api_->Call(method, path, body, content_type);
}

Status Simulation::RegisterAssets() {
  for (const sim::Asset& a : fleet_.assets()) {
    std::string name = std::string(sim::KindName(a.kind)) + " " + a.id.substr(a.id.rfind('-') + 1);
    name[0] = static_cast<char>(std::toupper(name[0]));
    json::object doc{{"name", name + " (" + a.site + ")"},
                     {"asset_type", sim::KindName(a.kind)},
                     {"site", a.site},
                     {"criticality", a.criticality},
                     {"manufacturer", a.manufacturer},
                     {"model", a.model},
                     {"installed_at", Rfc3339(a.installed_ns)}};
    json::object create = doc;
    create["id"] = a.id;
    auto r = Api("POST", "/assets", storage::JsonText(create));
    if (!r.ok()) return r.status();
    if (r->status == 409) r = Api("PATCH", "/assets/" + a.id, storage::JsonText(doc));
    if (!r.ok()) return r.status();
    if (r->status != 200 && r->status != 201) return Refused("asset " + a.id, *r);
  }
  return Status::OK();
}

Status Simulation::SendLines(std::string_view lines) {
  if (lines.empty()) return Status::OK();
  if (tcp_) return tcp_->Send(lines);
  auto r = http_.Send("POST", "/api/v2/write?bucket=simulator&precision=ns", lines,
                      "text/plain; charset=utf-8", "Token " + options_.token);
  if (!r.ok()) return r.status();
  if (r->status != 204) return Refused("write", *r);
  return Status::OK();
}

Status Simulation::SendEvents(int64_t from_ns, int64_t to_ns) {
  events_until_ns_ = to_ns;
  if (!api_) return Status::OK();
  std::vector<sim::Event> events = fleet_.Events(from_ns, to_ns);
  if (events.empty()) return Status::OK();
  std::string csv = "id,asset_id,kind,performed_at,cost,downtime_hours,notes\n";
  for (const sim::Event& e : events) {
    char numbers[64];
    std::snprintf(numbers, sizeof numbers, "%.0f,%.1f", e.cost, e.downtime_hours);
    csv += e.id + "," + fleet_.assets()[e.asset].id + "," + e.kind + "," + Rfc3339(e.at_ns) + "," +
           numbers + "," + CsvField(e.notes) + "\n";
  }
  auto r = Api("POST", "/maintenance/import", csv, "text/csv");
  if (!r.ok()) return r.status();
  if (r->status != 200) return Refused("maintenance import", *r);
  events_ += events.size();
  return Status::OK();
}

Result<int64_t> Simulation::Backfill(int64_t from_ns, int64_t to_ns, int64_t interval_ns,
                                     const StopFlag& stop,
                                     const std::function<void(double)>& progress) {
  std::string batch;
  size_t in_batch = 0;
  int64_t last_report_ns = 0;
  int64_t t = from_ns;
  for (; t < to_ns && !stop.stopped(); t += interval_ns) {
    const sim::Fleet::Appended appended = fleet_.AppendLines(t, &batch);
    rows_ += appended.rows;
    values_ += appended.values;
    in_batch += appended.rows;
    if (in_batch >= kLinesPerRequest) {
      if (Status s = SendLines(batch); !s.ok()) return s;
      batch.clear();
      in_batch = 0;
      const int64_t now = storage::SystemClock().NowNs();
      if (progress && now - last_report_ns > 500'000'000) {
        progress(static_cast<double>(t - from_ns) / static_cast<double>(to_ns - from_ns));
        last_report_ns = now;
      }
    }
  }
  const int64_t reached = std::min(t, to_ns);
  if (Status s = SendLines(batch); !s.ok()) return s;
  if (Status s = SendEvents(from_ns, reached); !s.ok()) return s;
  if (progress && reached == to_ns) progress(1.0);
  return reached;
}

Status Simulation::Step(int64_t t_ns) {
  std::string lines;
  const sim::Fleet::Appended appended = fleet_.AppendLines(t_ns, &lines);
  if (Status s = SendLines(lines); !s.ok()) return s;
  rows_ += appended.rows;
  values_ += appended.values;
  const int64_t from = events_until_ns_ ? events_until_ns_ : t_ns;
  return SendEvents(from, t_ns + 1);
}

void RunLive(std::span<Simulation* const> simulations, int64_t interval_ns, int64_t duration_ns,
             StopFlag* stop, const std::function<void(const Status&)>& on_error) {
  const int64_t start = storage::SystemClock().NowNs();
  int64_t t = start / interval_ns * interval_ns;
  while (!stop->stopped() && (duration_ns == 0 || t - start < duration_ns)) {
    for (Simulation* s : simulations) {
      if (Status st = s->Step(t); !st.ok()) on_error(st);
    }
    t += interval_ns;
    if (!stop->SleepUntil(t)) break;
  }
}

}  // namespace foresight::tools
