// The WebSocket hub: subscriptions indexed by (tenant, asset), rate-limited updates paced by one
// thread, events pushed as they happen, and one Beast WebSocket session per client with a
// bounded send queue.
#include "http/api.h"
#include "storage/log.h"
#include "storage/sync.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <thread>
#include <unordered_map>

namespace foresight::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

void ConnectionSet::Add(Closable* c) {
  MutexLock l(&mu_);
  set_.insert(c);
}
void ConnectionSet::Remove(Closable* c) {
  MutexLock l(&mu_);
  set_.erase(c);
}
void ConnectionSet::CloseAll() {
  MutexLock l(&mu_);
  for (Closable* c : set_) c->CloseNow();
}

namespace {

class WsSession;

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

enum class Topic : uint8_t { kReadings, kWindows, kAlerts, kHealth };
constexpr std::array<std::string_view, 4> kTopics = {"readings", "windows", "alerts", "health"};

struct Sub {
  std::string id;
  Topic topic = Topic::kReadings;
  storage::TenantId tenant = 0;
  std::string asset_id;              // empty: every asset (alerts, health)
  std::vector<std::string> metrics;  // empty: every metric
  bool minmax = false;
  int64_t interval_ns = 1'000'000'000;
  std::weak_ptr<WsSession> conn;
  const WsSession* owner = nullptr;

  // Guarded by Hub::Impl::mu.
  int64_t next_ns = 0;
  struct Acc {
    int64_t ts = 0;
    double last = 0, min = 0, max = 0;
    uint64_t count = 0;
  };
  std::map<std::string, Acc> pending;   // readings, by metric
  std::set<storage::SeriesId> touched;  // windows

  bool Wants(std::string_view metric) const {
    return metrics.empty() || std::find(metrics.begin(), metrics.end(), metric) != metrics.end();
  }
};

}  // namespace

struct Hub::Impl {
  Impl(storage::Storage* s, const query::Windows* w, query::Alerts* a, std::string tag,
       HubOptions o)
      : storage(s), windows(w), alerts(a), asset_tag(std::move(tag)), options(o) {}

  storage::Storage* const storage;
  const query::Windows* const windows;
  query::Alerts* const alerts;
  const std::string asset_tag;
  const HubOptions options;

  struct Names {
    std::string asset, metric;
  };

  Mutex mu;
  CondVar cv;
  bool stop FORESIGHT_GUARDED_BY(mu) = false;
  std::map<std::pair<storage::TenantId, std::string>, std::vector<std::shared_ptr<Sub>>> by_asset
      FORESIGHT_GUARDED_BY(mu);
  // Alerts and health.
  std::map<storage::TenantId, std::vector<std::shared_ptr<Sub>>> events FORESIGHT_GUARDED_BY(mu);
  // (tenant << 32 | series); numeric series only.
  std::unordered_map<uint64_t, Names> names FORESIGHT_GUARDED_BY(mu);
  std::map<std::pair<storage::TenantId, std::string>, int> last_health FORESIGHT_GUARDED_BY(mu);
  std::deque<std::pair<storage::TenantId, std::string>> health_jobs FORESIGHT_GUARDED_BY(mu);
  std::atomic<size_t> followed{0};  // readings and windows subscriptions
  std::thread pacer;
  // Threads holding sessions they found in the index: Quiesce waits for none.
  int holders FORESIGHT_GUARDED_BY(mu) = 0;
  CondVar released;

  std::atomic<uint64_t> connections{0}, subscriptions{0}, sent{0}, dropped{0}, closed_slow{0};

  const Names* NamesOf(storage::TenantId tenant, storage::SeriesId series) FORESIGHT_REQUIRES(mu) {
    const uint64_t key = uint64_t{tenant} << 32 | series;
    auto it = names.find(key);
    if (it == names.end()) {
      Names n;
      if (auto info = storage->GetSeries(tenant, series);
          info.ok() && info->type != storage::ValueType::kString) {
        for (const auto& [k, v] : info->key.tags) {
          if (k == asset_tag) n.asset = v;
        }
        n.metric = info->key.field;
      }
      it = names.emplace(key, std::move(n)).first;
    }
    return it->second.asset.empty() ? nullptr : &it->second;
  }

  void Add(const std::shared_ptr<Sub>& sub) {
    MutexLock l(&mu);
    if (sub->topic == Topic::kReadings || sub->topic == Topic::kWindows) {
      by_asset[{sub->tenant, sub->asset_id}].push_back(sub);
      followed.fetch_add(1);
    } else {
      events[sub->tenant].push_back(sub);
    }
    subscriptions.fetch_add(1);
  }

  // Removes `owner`'s subscriptions: the one named `id`, or all when `id` is empty.
  size_t Remove(const WsSession* owner, std::string_view id) {
    MutexLock l(&mu);
    size_t removed = 0;
    auto sweep = [&](auto& index) {
      for (auto it = index.begin(); it != index.end();) {
        auto& subs = it->second;
        for (auto s = subs.begin(); s != subs.end();) {
          if ((*s)->owner == owner && (id.empty() || (*s)->id == id)) {
            if ((*s)->topic == Topic::kReadings || (*s)->topic == Topic::kWindows) {
              followed.fetch_sub(1);
            }
            s = subs.erase(s);
            ++removed;
          } else {
            ++s;
          }
        }
        it = subs.empty() ? index.erase(it) : std::next(it);
      }
    };
    sweep(by_asset);
    sweep(events);
    subscriptions.fetch_sub(removed);
    return removed;
  }

  // A message for a session found under mu; the finder counted itself in `holders`.
  struct Outgoing {
    std::shared_ptr<WsSession> conn;
    std::string text;
    const Sub* key;  // nullptr for an event
  };
  // Sends `out` and lets its sessions go. Not under mu: the last reference to a session may
  // destroy it, and its destructor takes mu.
  void Deliver(std::vector<Outgoing>& out);

  void Pace();
  std::string UpdateMessage(Sub& sub) FORESIGHT_REQUIRES(mu);
  std::optional<int> Health(storage::TenantId tenant, const std::string& asset);
};

// The sessions below reach the hub's state through this friend of Hub.
struct HubAccess {
  using Impl = Hub::Impl;
  static Impl* Of(const Hub& hub) { return hub.impl_.get(); }
};
using HubImpl = HubAccess::Impl;

namespace {

// One client. Everything but Send and CloseNow runs on the connection's strand.
class WsSession : public std::enable_shared_from_this<WsSession>, public Closable {
 public:
  WsSession(tcp::socket socket, const Services& services, ConnectionSet* set)
      : ws_(std::move(socket)), services_(services), set_(set), auth_timer_(ws_.get_executor()) {
    set_->Add(this);
    if (HubImpl* hub = Impl()) hub->connections.fetch_add(1);
  }
  ~WsSession() override {
    // Out of the set first: a server stopping never reaches a session being destroyed.
    set_->Remove(this);
    if (HubImpl* hub = Impl()) {
      hub->Remove(this, {});
      hub->connections.fetch_sub(1);
    }
  }

  void Start(Request req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(64 << 10);
    std::string error;
    Query query = ParseQuery(req);
    if (query.Has("token")) error = Authenticate(query.Get("token"));
    ws_.async_accept(req, [self = shared_from_this(), error](beast::error_code ec) {
      if (ec) return;
      if (!error.empty()) return self->Refuse("unauthorized", error);
      if (self->principal_) self->SendAuthenticated();
      self->ArmTimer();
      self->Read();
    });
  }

  // From any thread. `key` is the subscription an update belongs to; nullptr for an event.
  void Send(std::string text, const Sub* key) {
    asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text), key] {
      self->Enqueue(std::move(text), key);
    });
  }

  // REQUIRES: the server's pool has stopped. Its subscriptions go, so the hub finds it no more.
  void CloseNow() override {
    if (HubImpl* hub = Impl()) hub->Remove(this, {});
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  HubImpl* Impl() const;

  // Signs the connection in, or says why not. A signed-in connection may sign in again with a
  // fresh token for the same tenant, which moves its expiry.
  std::string Authenticate(std::string_view token) {
    if (!services_.auth) return "this server has no sign-in";
    auto p =
        services_.auth->VerifyJwt(token, services_.storage->clock().NowNs() / storage::kSecondNs);
    if (!p.ok()) return "the token is not valid: " + std::string(p.status().message());
    if (principal_ && p->tenant != principal_->tenant) {
      return "the token is for another tenant than this connection's";
    }
    principal_ = *p;
    return {};
  }

  // Before sign-in the first message has 10 s to come; after it the connection lives until its
  // token expires. Then an error and a policy close.
  void ArmTimer() {
    if (principal_ && principal_->expires_s == 0) {
      auth_timer_.cancel();
      return;
    }
    if (principal_) {
      auth_timer_.expires_after(
          std::chrono::system_clock::time_point(std::chrono::seconds(principal_->expires_s)) -
          std::chrono::system_clock::now());
    } else {
      auth_timer_.expires_after(std::chrono::seconds(10));
    }
    auth_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto s = weak.lock();
      if (ec || !s) return;  // re-armed, or closed
      if (!s->principal_) return s->Refuse("unauthorized", "no auth message in 10 s");
      s->Refuse("token_expired", "the token expired: sign in again with a fresh one");
    });
  }

  void SendAuthenticated() {
    json::object o = {{"type", "authenticated"},
                      {"tenant", principal_->tenant_name},
                      {"role", RoleName(principal_->role)}};
    if (principal_->expires_s > 0)
      o["expires_at"] = storage::FormatRfc3339(principal_->expires_s * 1'000'000'000);
    Enqueue(JsonText(o), nullptr);
  }

  void SendError(std::string_view sub, std::string_view code, std::string_view message) {
    json::object o = {{"type", "error"}, {"code", code}, {"message", message}};
    if (!sub.empty()) o["sub"] = sub;
    Enqueue(JsonText(o), nullptr);
  }

  // An error, then a policy-violation close.
  void Refuse(std::string_view code, std::string_view message) {
    SendError({}, code, message);
    CloseWith(websocket::close_code::policy_error, true);
  }

  void Read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;  // closed, or a protocol error Beast has answered
      self->OnMessage();
      self->in_.consume(self->in_.size());
      if (!self->close_code_) self->Read();
    });
  }

  void OnMessage() {
    auto parsed = storage::ParseJsonObject(beast::buffers_to_string(in_.data()));
    if (!parsed.ok()) return SendError({}, "bad_request", "messages are JSON objects");
    const json::object& m = *parsed;
    const json::value* type = m.if_contains("type");
    if (!type || !type->is_string()) return SendError({}, "bad_request", "type is required");
    if (type->as_string() == "auth") {
      const json::value* token = m.if_contains("token");
      // A failed sign-in closes the connection; a failed renewal keeps the current one.
      const bool renewal = principal_.has_value();
      std::string error =
          !token || !token->is_string() ? "token is required" : Authenticate(token->as_string());
      if (!error.empty()) {
        return renewal ? SendError({}, "unauthorized", error) : Refuse("unauthorized", error);
      }
      ArmTimer();
      return SendAuthenticated();
    }
    if (!principal_) return Refuse("unauthorized", "authenticate first");
    if (type->as_string() == "subscribe") return Subscribe(m);
    if (type->as_string() == "unsubscribe") {
      const json::value* sub = m.if_contains("sub");
      if (!sub || !sub->is_string()) return SendError({}, "bad_request", "sub is required");
      const std::string id(sub->as_string());
      if (Impl()->Remove(this, id) == 0) {
        return SendError(id, "not_found", "no subscription '" + id + "'");
      }
      std::erase(sub_ids_, id);
      return Enqueue(JsonText(json::object{{"type", "unsubscribed"}, {"sub", id}}), nullptr);
    }
    SendError({}, "bad_request", "type must be auth, subscribe or unsubscribe");
  }

  void Subscribe(const json::object& m) {
    HubImpl* hub = Impl();
    auto str = [&](std::string_view key) -> std::optional<std::string> {
      const json::value* x = m.if_contains(key);
      if (!x) return std::string();
      if (!x->is_string()) return std::nullopt;
      return std::string(x->as_string());
    };
    auto id = str("sub"), topic_name = str("topic"), tenant = str("tenant"),
         asset = str("asset_id"), mode = str("mode");
    if (!id || id->empty() || id->size() > 64) {
      return SendError({}, "bad_request", "sub must be a string of 1 to 64 characters");
    }
    if (std::find(sub_ids_.begin(), sub_ids_.end(), *id) != sub_ids_.end()) {
      return SendError(*id, "bad_request", "sub '" + *id + "' is already in use");
    }
    if (sub_ids_.size() >= hub->options.max_subscriptions) {
      return SendError(*id, "too_many",
                       "at most " + std::to_string(hub->options.max_subscriptions) +
                           " subscriptions per connection");
    }
    auto sub = std::make_shared<Sub>();
    sub->id = *id;
    auto topic =
        topic_name ? std::find(kTopics.begin(), kTopics.end(), *topic_name) : kTopics.end();
    if (topic == kTopics.end()) {
      return SendError(*id, "bad_request", "topic must be readings, windows, alerts or health");
    }
    sub->topic = static_cast<Topic>(topic - kTopics.begin());
    if (!tenant) return SendError(*id, "bad_request", "tenant must be a string");
    if (!tenant->empty() && *tenant != principal_->tenant_name) {
      return SendError(*id, "forbidden", "the token is not for tenant '" + *tenant + "'");
    }
    sub->tenant = principal_->tenant;
    if (!asset) return SendError(*id, "bad_request", "asset_id must be a string");
    const bool follows = sub->topic == Topic::kReadings || sub->topic == Topic::kWindows;
    if (follows && asset->empty()) {
      return SendError(*id, "bad_request", "asset_id is required for " + *topic_name);
    }
    if (!asset->empty() && !services_.storage->GetAsset(sub->tenant, *asset).ok()) {
      return SendError(*id, "not_found", "no asset '" + *asset + "'");
    }
    sub->asset_id = *asset;
    if (const json::value* metrics = m.if_contains("metrics")) {
      if (!metrics->is_array()) return SendError(*id, "bad_request", "metrics must be an array");
      for (const json::value& x : metrics->as_array()) {
        if (!x.is_string()) return SendError(*id, "bad_request", "metrics are strings");
        sub->metrics.emplace_back(x.as_string());
      }
    }
    double rate = 1;
    if (const json::value* r = m.if_contains("max_rate_hz")) {
      if (!r->is_number() || r->to_number<double>() <= 0 ||
          r->to_number<double>() > hub->options.max_rate_hz) {
        return SendError(
            *id, "bad_request",
            fmt::format("max_rate_hz must be above 0 and at most {}", hub->options.max_rate_hz));
      }
      rate = r->to_number<double>();
    }
    sub->interval_ns = static_cast<int64_t>(1e9 / rate);
    if (!mode || (!mode->empty() && *mode != "latest" && *mode != "minmax")) {
      return SendError(*id, "bad_request", "mode must be latest or minmax");
    }
    sub->minmax = *mode == "minmax";
    sub->conn = weak_from_this();
    sub->owner = this;
    sub_ids_.push_back(*id);
    // Registered before the client hears of it, so it sees every point written after that.
    hub->Add(sub);
    Enqueue(JsonText(json::object{{"type", "subscribed"}, {"sub", *id}, {"topic", *topic}}),
            nullptr);
  }

  void Enqueue(std::string text, const Sub* key) {
    if (close_code_) return;
    HubImpl* hub = Impl();
    const size_t first = writing_ ? 1 : 0;  // the front is on the wire
    if (key) {
      for (size_t i = first; i < queue_.size(); ++i) {
        if (queue_[i].key == key) {  // coalesce: the newer update replaces the queued one
          queue_[i].text = std::move(text);
          hub->dropped.fetch_add(1, std::memory_order_relaxed);
          return;
        }
      }
    }
    if (queue_.size() >= hub->options.max_queue) {
      auto oldest_update = std::find_if(queue_.begin() + static_cast<ptrdiff_t>(first),
                                        queue_.end(), [](const Out& o) { return o.key; });
      if (oldest_update != queue_.end()) {
        queue_.erase(oldest_update);
        hub->dropped.fetch_add(1, std::memory_order_relaxed);
      } else if (key) {
        hub->dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      } else {  // events only, and no room for this one: it may not be dropped
        hub->closed_slow.fetch_add(1, std::memory_order_relaxed);
        return CloseWith(websocket::close_code::policy_error, false);
      }
    }
    queue_.push_back({std::move(text), key});
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front().text),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->writing_ = false;
                      if (ec) return;
                      self->queue_.pop_front();
                      self->Impl()->sent.fetch_add(1, std::memory_order_relaxed);
                      if (self->close_code_) return self->Finish();
                      if (!self->queue_.empty()) self->WriteNext();
                    });
  }

  // Closes with `code`: after what is queued when `flush`, else after the message on the wire.
  void CloseWith(websocket::close_code code, bool flush) {
    if (close_code_) return;
    close_code_ = code;
    flush_ = flush;
    if (!flush) queue_.erase(queue_.begin() + (writing_ ? 1 : 0), queue_.end());
    if (!writing_) Finish();
  }
  void Finish() {
    if (flush_ && !queue_.empty()) return WriteNext();
    auth_timer_.cancel();
    ws_.async_close(*close_code_, [self = shared_from_this()](beast::error_code) {});
  }

  struct Out {
    std::string text;
    const Sub* key;
  };

  websocket::stream<beast::tcp_stream> ws_;
  const Services& services_;
  ConnectionSet* const set_;
  asio::steady_timer auth_timer_;
  beast::flat_buffer in_;
  std::optional<Principal> principal_;
  std::vector<std::string> sub_ids_;
  std::deque<Out> queue_;
  bool writing_ = false;
  std::optional<websocket::close_code> close_code_;
  bool flush_ = false;
};

HubImpl* WsSession::Impl() const { return services_.hub ? HubAccess::Of(*services_.hub) : nullptr; }

}  // namespace

// What a due subscription sends now, or empty.
std::string Hub::Impl::UpdateMessage(Sub& sub) {
  json::object metrics;
  if (sub.topic == Topic::kReadings) {
    for (const auto& [metric, acc] : sub.pending) {
      if (sub.minmax) {
        metrics[metric] = {{"min", acc.min},
                           {"max", acc.max},
                           {"last", acc.last},
                           {"count", acc.count},
                           {"time", storage::FormatRfc3339(acc.ts)}};
      } else {
        metrics[metric] = {{"value", acc.last}, {"time", storage::FormatRfc3339(acc.ts)}};
      }
    }
    sub.pending.clear();
  } else {
    for (storage::SeriesId series : sub.touched) {
      const Names* n = NamesOf(sub.tenant, series);
      auto w = windows ? windows->Read(sub.tenant, series) : std::nullopt;
      if (n && w) {
        metrics[n->metric] = {{"last", w->last},
                              {"time", storage::FormatRfc3339(w->last_ts_ns)},
                              {"windows", WindowsJson(*w)}};
      }
    }
    sub.touched.clear();
  }
  if (metrics.empty()) return {};
  return JsonText(json::object{{"type", kTopics[static_cast<size_t>(sub.topic)]},
                               {"sub", sub.id},
                               {"asset_id", sub.asset_id},
                               {"metrics", std::move(metrics)}});
}

// The asset's health from its open alerts, as the REST API computes it; nullopt (and no health
// event) while the alerts cannot be read.
std::optional<int> Hub::Impl::Health(storage::TenantId tenant, const std::string& asset) {
  auto counts = query::OpenAlertsByAsset(alerts, tenant);
  if (!counts.ok()) {
    log::Warn("hub: no health for asset {} of tenant {}: {}", asset, tenant,
              counts.status().ToString());
    return std::nullopt;
  }
  return HealthScore(CountsFor(*counts, asset));
}

void Hub::Impl::Deliver(std::vector<Outgoing>& out) {
  for (Outgoing& o : out) o.conn->Send(std::move(o.text), o.key);
  out.clear();
  MutexLock l(&mu);
  --holders;
  released.NotifyAll();
}

void Hub::Impl::Pace() {
  MutexLock l(&mu);
  while (!stop) {
    cv.WaitFor(&mu, options.tick);
    const int64_t now = SteadyNs();
    std::vector<Outgoing> out;
    for (auto& [key, subs] : by_asset) {
      for (const std::shared_ptr<Sub>& sub : subs) {
        if ((sub->pending.empty() && sub->touched.empty()) || now < sub->next_ns) continue;
        std::string text = UpdateMessage(*sub);
        // On cadence: a tick late does not push every later update back.
        sub->next_ns = now - sub->next_ns < sub->interval_ns ? sub->next_ns + sub->interval_ns
                                                             : now + sub->interval_ns;
        if (auto conn = sub->conn.lock(); conn && !text.empty()) {
          out.push_back({std::move(conn), std::move(text), sub.get()});
        }
      }
    }
    auto jobs = std::move(health_jobs);
    health_jobs.clear();
    ++holders;
    l.Unlock();
    Deliver(out);
    // Health reads the alerts, whose lock OnAlert holds while it takes ours: not under mu.
    std::vector<std::optional<int>> health;
    for (const auto& [tenant, asset] : jobs) health.push_back(Health(tenant, asset));
    l.Lock();
    for (size_t i = 0; i < jobs.size(); ++i) {
      const auto& [tenant, asset] = jobs[i];
      if (!health[i]) continue;
      auto [it, fresh] = last_health.try_emplace(jobs[i], -1);
      if (it->second == *health[i]) continue;
      it->second = *health[i];
      for (const std::shared_ptr<Sub>& sub : events[tenant]) {
        if (sub->topic != Topic::kHealth || (!sub->asset_id.empty() && sub->asset_id != asset)) {
          continue;
        }
        if (auto conn = sub->conn.lock()) {
          out.push_back({std::move(conn),
                         JsonText(json::object{{"type", "health"},
                                               {"sub", sub->id},
                                               {"asset_id", asset},
                                               {"health", *health[i]}}),
                         nullptr});
        }
      }
    }
    if (out.empty()) continue;
    ++holders;
    l.Unlock();
    Deliver(out);
    l.Lock();
  }
}

void Hub::Quiesce() {
  MutexLock l(&impl_->mu);
  while (impl_->holders != 0) impl_->released.Wait(&impl_->mu);
}

Hub::Hub(storage::Storage* storage, const query::Windows* windows, query::Alerts* alerts,
         std::string asset_tag, HubOptions options)
    : impl_(std::make_unique<Impl>(storage, windows, alerts, std::move(asset_tag), options)) {
  impl_->pacer = std::thread([this] { impl_->Pace(); });
}

Hub::~Hub() {
  {
    MutexLock l(&impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.NotifyAll();
  impl_->pacer.join();
}

void Hub::OnAppend(storage::TenantId tenant, std::span<const storage::Sample> samples) {
  if (impl_->followed.load(std::memory_order_relaxed) == 0) return;
  MutexLock l(&impl_->mu);
  for (const storage::Sample& sample : samples) {
    if (sample.value.type == storage::ValueType::kString) continue;
    const Impl::Names* n = impl_->NamesOf(tenant, sample.series);
    if (!n) continue;
    auto it = impl_->by_asset.find({tenant, n->asset});
    if (it == impl_->by_asset.end()) continue;
    for (const std::shared_ptr<Sub>& sub : it->second) {
      if (!sub->Wants(n->metric)) continue;
      if (sub->topic == Topic::kWindows) {
        sub->touched.insert(sample.series);
        continue;
      }
      const double v = sample.value.AsDouble();
      auto [acc, fresh] = sub->pending.try_emplace(n->metric);
      Sub::Acc& a = acc->second;
      a.min = fresh ? v : std::min(a.min, v);
      a.max = fresh ? v : std::max(a.max, v);
      ++a.count;
      if (fresh || sample.ts_ns >= a.ts) {
        a.ts = sample.ts_ns;
        a.last = v;
      }
    }
  }
}

void Hub::OnAlert(const query::AlertEvent& event) {
  static constexpr std::string_view kEvents[] = {"opened", "acknowledged", "resolved"};
  const query::Alert& alert = *event.alert;
  std::vector<Impl::Outgoing> out;
  {
    MutexLock l(&impl_->mu);
    auto it = impl_->events.find(event.tenant);
    if (it == impl_->events.end()) return;
    bool health = false;
    for (const std::shared_ptr<Sub>& sub : it->second) {
      if (!sub->asset_id.empty() && sub->asset_id != alert.asset_id) continue;
      if (sub->topic == Topic::kHealth) {
        health = true;
        continue;
      }
      if (auto conn = sub->conn.lock()) {
        out.push_back({std::move(conn),
                       JsonText(json::object{{"type", "alert"},
                                             {"sub", sub->id},
                                             {"event", kEvents[static_cast<size_t>(alert.status)]},
                                             {"alert", AlertJson(alert)}}),
                       nullptr});
      }
    }
    if (health) impl_->health_jobs.emplace_back(event.tenant, alert.asset_id);
    if (!out.empty()) ++impl_->holders;
  }
  impl_->cv.NotifyOne();
  if (!out.empty()) impl_->Deliver(out);
}

HubStats Hub::GetStats() const {
  constexpr auto relaxed = std::memory_order_relaxed;
  return {impl_->connections.load(relaxed), impl_->subscriptions.load(relaxed),
          impl_->sent.load(relaxed), impl_->dropped.load(relaxed),
          impl_->closed_slow.load(relaxed)};
}

void ServeWebSocket(tcp::socket socket, Request req, const Services& services,
                    ConnectionSet* connections) {
  if (!services.hub) {
    auto res = std::make_shared<Response>(
        MakeResponse(req, bhttp::status::service_unavailable,
                     ErrorJson("unavailable", "this server has no WebSocket hub")));
    res->keep_alive(false);
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    bhttp::async_write(*stream, *res, [stream, res](beast::error_code, size_t) {});
    return;
  }
  std::make_shared<WsSession>(std::move(socket), services, connections)->Start(std::move(req));
}

}  // namespace foresight::http
