// Alerts: rules matched to series once per rule set, checked on every batch; alert transitions
// written to storage records before they are visible.
#include "query/query.h"
#include "storage/json.h"
#include "storage/log.h"
#include "storage/sync.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

namespace foresight::query {
namespace {

namespace json = boost::json;

constexpr std::string_view kKind = "alert";
constexpr std::string_view kByRule = "rule";

template <size_t N>
std::optional<size_t> IndexOf(const std::array<std::string_view, N>& names, std::string_view v) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == v) return i;
  }
  return std::nullopt;
}

bool Holds(Op op, double v, double threshold) {
  switch (op) {
    case Op::kGt:
      return v > threshold;
    case Op::kGte:
      return v >= threshold;
    case Op::kLt:
      return v < threshold;
    case Op::kLte:
      return v <= threshold;
    case Op::kEq:
      return v == threshold;
    case Op::kNe:
      return v != threshold;
  }
  return false;
}

bool Clears(const Rule& rule, double v) {
  if (!rule.clear_threshold) return !Holds(rule.op, v, rule.threshold);
  const bool above = rule.op == Op::kGt || rule.op == Op::kGte;
  return above ? v < *rule.clear_threshold : v > *rule.clear_threshold;
}

// --- The record format: JSON, times in ns ----------------------------------------------------

std::string Encode(const Alert& a) {
  json::array history;
  for (const AlertStep& s : a.history) {
    history.push_back({{"status", kAlertStatusNames[static_cast<size_t>(s.status)]},
                       {"by", s.by},
                       {"at_ns", s.at_ns},
                       {"notes", s.notes}});
  }
  json::object o = {{"id", a.id},
                    {"rule_id", a.rule_id},
                    {"asset_id", a.asset_id},
                    {"metric", a.metric},
                    {"message", a.message},
                    {"severity", kSeverityNames[static_cast<size_t>(a.severity)]},
                    {"status", kAlertStatusNames[static_cast<size_t>(a.status)]},
                    {"opened_ns", a.opened_ns},
                    {"closed_ns", a.closed_ns},
                    {"history", std::move(history)}};
  if (a.value) o["value"] = *a.value;
  return storage::JsonText(o);
}

std::optional<Alert> Decode(std::string_view text) {
  auto parsed = storage::ParseJsonObject(text);
  if (!parsed.ok()) return std::nullopt;
  const json::object& o = *parsed;
  auto str = [&](const json::object& from, std::string_view key) -> std::optional<std::string> {
    const json::value* x = from.if_contains(key);
    if (!x || !x->is_string()) return std::nullopt;
    return std::string(x->as_string());
  };
  auto integer = [&](const json::object& from, std::string_view key) -> std::optional<int64_t> {
    const json::value* x = from.if_contains(key);
    if (!x || !x->is_int64()) return std::nullopt;
    return x->as_int64();
  };
  Alert a;
  auto id = str(o, "id"), asset = str(o, "asset_id"), severity = str(o, "severity"),
       status = str(o, "status");
  auto opened = integer(o, "opened_ns"), closed = integer(o, "closed_ns");
  const json::value* history = o.if_contains("history");
  if (!id || !asset || !severity || !status || !opened || !closed || !history ||
      !history->is_array()) {
    return std::nullopt;
  }
  auto sev = IndexOf(kSeverityNames, *severity);
  auto st = IndexOf(kAlertStatusNames, *status);
  if (!sev || !st) return std::nullopt;
  a.id = *id;
  a.asset_id = *asset;
  a.rule_id = str(o, "rule_id").value_or("");
  a.metric = str(o, "metric").value_or("");
  a.message = str(o, "message").value_or("");
  a.severity = static_cast<Severity>(*sev);
  a.status = static_cast<AlertStatus>(*st);
  a.opened_ns = *opened;
  a.closed_ns = *closed;
  if (const json::value* x = o.if_contains("value"); x && x->is_number()) {
    a.value = x->to_number<double>();
  }
  for (const json::value& step : history->as_array()) {
    if (!step.is_object()) return std::nullopt;
    auto s = IndexOf(kAlertStatusNames, str(step.as_object(), "status").value_or(""));
    auto at = integer(step.as_object(), "at_ns");
    if (!s || !at) return std::nullopt;
    a.history.push_back({static_cast<AlertStatus>(*s), str(step.as_object(), "by").value_or(""),
                         *at, str(step.as_object(), "notes").value_or("")});
  }
  return a;
}

// --- Per tenant ------------------------------------------------------------------------------

// The rules a series is watched by, and its asset.
struct Match {
  std::string asset_id;
  std::vector<uint32_t> rules;  // indexes into RuleSet::rules
};

// One generation of a tenant's enabled rules, with the series matched against them so far.
struct RuleSet {
  std::vector<Rule> rules;
  Mutex mu;
  // Nodes never move, so a Match found under mu may be read after it is released.
  std::unordered_map<storage::SeriesId, Match> matches FORESIGHT_GUARDED_BY(mu);
};

// Where a (rule, asset) stands.
struct State {
  int64_t last_ts = std::numeric_limits<int64_t>::min();  // newest point seen
  std::optional<int64_t> breach_since;                    // first point of the current breach
  std::string open_id;                                    // its open or acknowledged alert
  std::optional<int64_t> closed_ns;                       // when its last alert resolved
};

struct Tenant {
  Mutex rules_mu;
  std::vector<Rule> all_rules FORESIGHT_GUARDED_BY(rules_mu);  // as last set
  std::shared_ptr<RuleSet> current FORESIGHT_GUARDED_BY(rules_mu);

  mutable SharedMutex mu;
  bool loaded FORESIGHT_GUARDED_BY(mu) = false;
  std::map<std::string, Alert, std::less<>> alerts FORESIGHT_GUARDED_BY(mu);
  // By (rule id, asset id).
  std::map<std::pair<std::string, std::string>, State> states FORESIGHT_GUARDED_BY(mu);
};

}  // namespace

Result<std::vector<Alert>> ReadAlerts(const storage::Storage& storage, storage::TenantId tenant) {
  auto records = storage.ScanRecords(tenant, kKind, {});
  if (!records.ok()) return records.status();
  std::vector<Alert> out;
  for (const auto& [id, text] : *records) {
    if (auto a = Decode(text)) {
      out.push_back(std::move(*a));
    } else {
      log::Warn("alerts: record '{}' of tenant {} is not an alert this version reads; skipped", id,
                tenant);
    }
  }
  return out;
}

struct Alerts::Impl {
  Impl(storage::Storage* s, const Windows* w, std::string tag)
      : storage(s), windows(w), asset_tag(std::move(tag)) {}

  storage::Storage* const storage;
  const Windows* const windows;
  const std::string asset_tag;
  std::vector<AlertListener> listeners;
  std::atomic<uint64_t> id_counter{0};

  mutable Mutex tenants_mu;
  mutable std::map<storage::TenantId, std::unique_ptr<Tenant>> tenants
      FORESIGHT_GUARDED_BY(tenants_mu);

  struct Counters {
    std::atomic<uint64_t> points_checked{0}, opened{0}, resolved_by_rule{0}, held_by_cooldown{0},
        write_failures{0};
  } counters;

  Tenant& TenantOf(storage::TenantId tenant) const {
    MutexLock l(&tenants_mu);
    auto& t = tenants[tenant];
    if (!t) t = std::make_unique<Tenant>();
    return *t;
  }

  // The tenant's alerts read from storage once; after that, nothing.
  Status LoadLocked(storage::TenantId tenant, Tenant& t) const FORESIGHT_REQUIRES(t.mu) {
    if (t.loaded) return Status::OK();
    auto alerts = ReadAlerts(*storage, tenant);
    if (!alerts.ok()) return alerts.status();
    for (Alert& a : *alerts) {
      if (!a.rule_id.empty()) {
        State& st = t.states[{a.rule_id, a.asset_id}];
        if (a.status == AlertStatus::kResolved) {
          st.closed_ns = std::max(st.closed_ns.value_or(a.closed_ns), a.closed_ns);
        } else {
          st.open_id = a.id;
          st.last_ts = std::max(st.last_ts, a.opened_ns);
        }
      }
      std::string id = a.id;
      t.alerts.emplace(std::move(id), std::move(a));
    }
    t.loaded = true;
    return Status::OK();
  }

  std::string NewId() {
    return fmt::format("alert_{:016x}{:04x}", storage->clock().NowNs(),
                       id_counter.fetch_add(1, std::memory_order_relaxed) & 0xffff);
  }

  // Writes `a` and then makes it the tenant's copy.
  Status Commit(storage::TenantId tenant, Tenant& t, Alert a) FORESIGHT_REQUIRES(t.mu) {
    const std::string bytes = Encode(a);
    const storage::Storage::RecordWrite w{kKind, a.id, bytes};
    if (Status s = storage->WriteRecords(tenant, {&w, 1}); !s.ok()) {
      counters.write_failures.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    auto it = t.alerts.insert_or_assign(a.id, std::move(a)).first;
    for (const AlertListener& l : listeners) l(AlertEvent{tenant, &it->second});
    return Status::OK();
  }

  Match MatchSeries(storage::TenantId tenant, storage::SeriesId series, const RuleSet& rs) const {
    Match m;
    auto info = storage->GetSeries(tenant, series);
    if (!info.ok() || info->type == storage::ValueType::kString) return m;
    for (const auto& [k, v] : info->key.tags) {
      if (k == asset_tag) m.asset_id = v;
    }
    if (m.asset_id.empty()) return m;
    std::string type, site;
    if (auto asset = storage->GetAsset(tenant, m.asset_id); asset.ok()) {
      for (const auto& [k, v] : asset->attributes) {
        if (k == "asset_type") type = v;
        if (k == "site") site = v;
      }
    }
    for (uint32_t i = 0; i < rs.rules.size(); ++i) {
      const Rule& r = rs.rules[i];
      if (r.metric != info->key.field) continue;
      if (!r.asset_id.empty() && r.asset_id != m.asset_id) continue;
      if (!r.asset_type.empty() && r.asset_type != type) continue;
      if (!r.site.empty() && r.site != site) continue;
      m.rules.push_back(i);
    }
    return m;
  }

  // The value a rule compares for a sample, or nullopt when its window is empty.
  std::optional<double> ValueFor(const Rule& r, storage::TenantId tenant,
                                 const storage::Sample& sample) const {
    if (!r.window) return sample.value.AsDouble();
    if (!windows) return std::nullopt;
    auto w = windows->Read(tenant, sample.series);
    if (!w) return std::nullopt;
    const Window& x = (*w)[*r.window];
    if (x.count == 0) return std::nullopt;
    switch (r.aggregate) {
      case Aggregate::kMean:
        return x.mean();
      case Aggregate::kMin:
        return x.min;
      case Aggregate::kMax:
        return x.max;
      case Aggregate::kStddev:
        return x.stddev();
      case Aggregate::kCount:
        return static_cast<double>(x.count);
      case Aggregate::kLast:
        return w->last;
    }
    return std::nullopt;
  }

  // "vibration_rms 5m mean": what the rule compares.
  static std::string Watched(const Rule& r) {
    if (!r.window) return r.metric;
    return fmt::format("{} {} {}", r.metric, kSpanShapes[static_cast<size_t>(*r.window)].name,
                       kAggregateNames[static_cast<size_t>(r.aggregate)]);
  }
  static std::string Describe(const Rule& r, double v) {
    static constexpr std::string_view kSymbols[] = {">", ">=", "<", "<=", "==", "!="};
    return fmt::format("{}: {} {:g} {} {:g}", r.name, Watched(r), v,
                       kSymbols[static_cast<size_t>(r.op)], r.threshold);
  }

  // One point of a (rule, asset).
  Status Step(storage::TenantId tenant, Tenant& t, const Rule& r, const std::string& asset,
              int64_t ts, double v) FORESIGHT_REQUIRES(t.mu) {
    State& st = t.states[{r.id, asset}];
    if (ts < st.last_ts) return Status::OK();
    st.last_ts = ts;
    counters.points_checked.fetch_add(1, std::memory_order_relaxed);
    if (!st.open_id.empty()) {
      if (!Clears(r, v)) return Status::OK();
      auto it = t.alerts.find(st.open_id);
      if (it != t.alerts.end()) {
        Alert a = it->second;
        a.status = AlertStatus::kResolved;
        a.closed_ns = ts;
        a.history.push_back({AlertStatus::kResolved, std::string(kByRule), storage->clock().NowNs(),
                             fmt::format("cleared: {} {:g}", Watched(r), v)});
        if (Status s = Commit(tenant, t, std::move(a)); !s.ok()) return s;
        counters.resolved_by_rule.fetch_add(1, std::memory_order_relaxed);
      }
      st.open_id.clear();
      st.closed_ns = ts;
      st.breach_since.reset();
      return Status::OK();
    }
    if (!Holds(r.op, v, r.threshold)) {
      st.breach_since.reset();
      return Status::OK();
    }
    if (!st.breach_since) st.breach_since = ts;
    if (ts - *st.breach_since < r.for_ns) return Status::OK();
    if (st.closed_ns && ts < *st.closed_ns + r.cooldown_ns) {
      counters.held_by_cooldown.fetch_add(1, std::memory_order_relaxed);
      return Status::OK();
    }
    Alert a;
    a.id = NewId();
    a.rule_id = r.id;
    a.asset_id = asset;
    a.metric = r.metric;
    a.message = Describe(r, v);
    a.severity = r.severity;
    a.value = v;
    a.opened_ns = ts;
    a.history.push_back(
        {AlertStatus::kOpen, std::string(kByRule), storage->clock().NowNs(), a.message});
    std::string id = a.id;
    if (Status s = Commit(tenant, t, std::move(a)); !s.ok()) return s;
    counters.opened.fetch_add(1, std::memory_order_relaxed);
    st.open_id = std::move(id);
    return Status::OK();
  }
};

Alerts::Alerts(storage::Storage* storage, const Windows* windows, std::string asset_tag)
    : impl_(std::make_unique<Impl>(storage, windows, std::move(asset_tag))) {}
Alerts::~Alerts() = default;

void Alerts::SetRules(storage::TenantId tenant, std::vector<Rule> rules) {
  Tenant& t = impl_->TenantOf(tenant);
  auto set = std::make_shared<RuleSet>();
  std::copy_if(rules.begin(), rules.end(), std::back_inserter(set->rules),
               [](const Rule& r) { return r.enabled; });
  MutexLock l(&t.rules_mu);
  t.all_rules = std::move(rules);
  t.current = std::move(set);
}

Status Alerts::LoadRules(storage::TenantId tenant) {
  auto records = impl_->storage->ScanRecords(tenant, kRuleKind, {});
  if (!records.ok()) return records.status();
  std::vector<Rule> rules;
  for (const auto& [id, text] : *records) {
    auto rule = DecodeRule(text);
    if (!rule.ok()) {
      // One damaged record must not stop the tenant's other rules from running.
      log::Warn("rules: record '{}' of tenant {} skipped: {}", id, tenant,
                rule.status().ToString());
      continue;
    }
    if (*rule) rules.push_back(std::move(**rule));
  }
  SetRules(tenant, std::move(rules));
  return Status::OK();
}

void Alerts::AssetsChanged(storage::TenantId tenant) {
  Tenant& t = impl_->TenantOf(tenant);
  std::vector<Rule> rules;
  {
    MutexLock l(&t.rules_mu);
    rules = t.all_rules;
  }
  SetRules(tenant, std::move(rules));
}

void Alerts::AddListener(AlertListener listener) {
  impl_->listeners.push_back(std::move(listener));
}

Status Alerts::Evaluate(storage::TenantId tenant, std::span<const storage::Sample> samples) {
  Tenant& t = impl_->TenantOf(tenant);
  std::shared_ptr<RuleSet> rs;
  {
    MutexLock l(&t.rules_mu);
    rs = t.current;
  }
  if (!rs || rs->rules.empty()) return Status::OK();
  thread_local std::vector<std::pair<const storage::Sample*, const Match*>> hits;
  hits.clear();
  {
    MutexLock l(&rs->mu);
    for (const storage::Sample& sample : samples) {
      auto it = rs->matches.find(sample.series);
      if (it == rs->matches.end()) {
        it = rs->matches.emplace(sample.series, impl_->MatchSeries(tenant, sample.series, *rs))
                 .first;
      }
      if (!it->second.rules.empty()) hits.emplace_back(&sample, &it->second);
    }
  }
  if (hits.empty()) return Status::OK();
  WriterLock lock(&t.mu);
  if (Status s = impl_->LoadLocked(tenant, t); !s.ok()) return s;
  Status first;
  for (const auto& [sample, match] : hits) {
    for (uint32_t i : match->rules) {
      const Rule& r = rs->rules[i];
      auto v = impl_->ValueFor(r, tenant, *sample);
      if (!v || std::isnan(*v)) continue;
      if (Status s = impl_->Step(tenant, t, r, match->asset_id, sample->ts_ns, *v);
          !s.ok() && first.ok()) {
        first = s;
      }
    }
  }
  return first;
}

Result<Alert> Alerts::Raise(storage::TenantId tenant, Alert alert, std::string_view by) {
  Tenant& t = impl_->TenantOf(tenant);
  WriterLock lock(&t.mu);
  if (Status s = impl_->LoadLocked(tenant, t); !s.ok()) return s;
  State* st = nullptr;
  if (!alert.rule_id.empty()) {
    st = &t.states[{alert.rule_id, alert.asset_id}];
    if (!st->open_id.empty()) {
      return Status::AlreadyExists("alert '" + st->open_id + "' of this rule is still open for '" +
                                   alert.asset_id + "'");
    }
  }
  alert.id = impl_->NewId();
  alert.status = AlertStatus::kOpen;
  alert.opened_ns = impl_->storage->clock().NowNs();
  alert.closed_ns = 0;
  alert.history = {{AlertStatus::kOpen, std::string(by), alert.opened_ns, ""}};
  Alert copy = alert;
  if (Status s = impl_->Commit(tenant, t, std::move(alert)); !s.ok()) return s;
  if (st) st->open_id = copy.id;
  return copy;
}

Result<Alert> Alerts::Update(storage::TenantId tenant, std::string_view id, AlertStatus to,
                             std::string_view by, std::string_view notes) {
  if (to == AlertStatus::kOpen) return Status::InvalidArgument("an alert cannot be reopened");
  Tenant& t = impl_->TenantOf(tenant);
  WriterLock lock(&t.mu);
  if (Status s = impl_->LoadLocked(tenant, t); !s.ok()) return s;
  auto it = t.alerts.find(id);
  if (it == t.alerts.end()) return Status::NotFound("no alert '" + std::string(id) + "'");
  const AlertStatus from = it->second.status;
  if (from == AlertStatus::kResolved || from == to) {
    return Status::AlreadyExists("the alert is already " +
                                 std::string(kAlertStatusNames[static_cast<size_t>(from)]));
  }
  Alert a = it->second;
  a.status = to;
  a.history.push_back({to, std::string(by), impl_->storage->clock().NowNs(), std::string(notes)});
  State* st = nullptr;
  if (to == AlertStatus::kResolved) {
    auto s = t.states.find({a.rule_id, a.asset_id});
    if (s != t.states.end() && s->second.open_id == a.id) st = &s->second;
    // The cooldown counts from the newest point the rule saw, as when it clears by itself.
    a.closed_ns = st && st->last_ts > a.opened_ns ? st->last_ts : a.opened_ns;
  }
  Alert copy = a;
  if (Status s = impl_->Commit(tenant, t, std::move(a)); !s.ok()) return s;
  if (st) {
    st->open_id.clear();
    st->closed_ns = copy.closed_ns;
    st->breach_since.reset();
  }
  return copy;
}

std::optional<Alert> Alerts::Get(storage::TenantId tenant, std::string_view id) const {
  std::optional<Alert> out;
  Status s = Read(tenant, [&](std::span<const Alert* const> all) {
    auto it = std::lower_bound(all.begin(), all.end(), id,
                               [](const Alert* a, std::string_view x) { return a->id < x; });
    if (it != all.end() && (*it)->id == id) out = **it;
  });
  return s.ok() ? out : std::nullopt;
}

Status Alerts::Read(storage::TenantId tenant,
                    const std::function<void(std::span<const Alert* const>)>& fn) const {
  Tenant& t = impl_->TenantOf(tenant);
  {
    ReaderLock l(&t.mu);
    if (t.loaded) {
      std::vector<const Alert*> all;
      all.reserve(t.alerts.size());
      for (const auto& [id, a] : t.alerts) all.push_back(&a);
      fn(all);
      return Status::OK();
    }
  }
  {
    WriterLock l(&t.mu);
    if (Status s = impl_->LoadLocked(tenant, t); !s.ok()) return s;
  }
  return Read(tenant, fn);
}

AlertStats Alerts::GetStats() const {
  const auto& c = impl_->counters;
  constexpr auto relaxed = std::memory_order_relaxed;
  return {c.points_checked.load(relaxed), c.opened.load(relaxed), c.resolved_by_rule.load(relaxed),
          c.held_by_cooldown.load(relaxed), c.write_failures.load(relaxed)};
}

}  // namespace foresight::query
