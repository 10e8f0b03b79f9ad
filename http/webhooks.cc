// Alert webhooks: the routes that keep them (JSON documents of kind "webhook"), and the Notifier
// that delivers alert transitions to them from a thread of its own, with retries.
#include "http/api.h"
#include "storage/log.h"
#include "storage/sync.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <thread>

namespace foresight::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::string_view kKind = "webhook";
constexpr std::string_view kEvents[] = {"alert.opened", "alert.acknowledged", "alert.resolved"};
constexpr std::string_view kDriftEvent = "model.drift";

struct Target {
  bool tls = false;
  std::string host, port, path;
};

std::optional<Target> ParseTarget(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return std::nullopt;
  Target t;
  if (u->scheme() == "https") {
    t.tls = true;
  } else if (u->scheme() != "http") {
    return std::nullopt;
  }
  t.host = u->host();
  if (t.host.empty()) return std::nullopt;
  t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
  t.path = u->encoded_target().empty() ? "/" : std::string(u->encoded_target());
  return t;
}

struct Answer {
  int status = 0;
  std::string error;  // empty when an answer came
};

// One POST with a deadline over the whole exchange; HTTPS trusts the system's CAs and those of
// `ca_file` (when given).
Answer Post(const Target& t, const std::string& body,
            const std::vector<std::pair<std::string, std::string>>& headers,
            std::chrono::milliseconds timeout, const std::string& ca_file) {
  asio::io_context ioc;
  beast::http::request<beast::http::string_body> req{beast::http::verb::post, t.path, 11};
  req.set(beast::http::field::host, t.host);
  req.set(beast::http::field::user_agent, "foresight-webhook");
  req.set(beast::http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  Answer answer;
  auto exchange = [&](auto& stream, auto& lowest) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(t.host, t.port, ec);
    if (ec) return answer.error = "cannot resolve " + t.host + ": " + ec.message(), void();
    lowest.expires_after(timeout);
    lowest.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return answer.error = "cannot connect: " + ec.message(), void();
      auto send = [&] {
        beast::http::async_write(stream, req, [&](beast::error_code ec, size_t) {
          if (ec) return answer.error = "cannot send: " + ec.message(), void();
          beast::http::async_read(stream, buffer, res, [&](beast::error_code ec, size_t) {
            if (ec) return answer.error = "no answer: " + ec.message(), void();
            answer.status = static_cast<int>(res.result_int());
          });
        });
      };
      if constexpr (std::is_same_v<std::decay_t<decltype(stream)>, beast::tcp_stream>) {
        send();
      } else {
        stream.async_handshake(ssl::stream_base::client, [&, send](beast::error_code ec) {
          if (ec) return answer.error = "TLS: " + ec.message(), void();
          send();
        });
      }
    });
    ioc.run();
  };
  if (!t.tls) {
    beast::tcp_stream stream(ioc);
    exchange(stream, stream);
    return answer;
  }
  ssl::context ctx(ssl::context::tls_client);
  beast::error_code ec;
  ctx.set_default_verify_paths(ec);
  if (!ec && !ca_file.empty()) ctx.load_verify_file(ca_file, ec);
  if (ec) return {0, "TLS: cannot load the trusted CAs: " + ec.message()};
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
    return {0, "TLS: cannot set the server name"};
  }
  stream.set_verify_callback(ssl::host_name_verification(t.host));
  exchange(stream, beast::get_lowest_layer(stream));
  return answer;
}

std::string Signature(std::string_view secret, std::string_view body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return "sha256=" +
         ingest::HexEncode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

}  // namespace

struct Notifier::Impl {
  explicit Impl(NotifierOptions o) : options(o) {}

  struct Delivery {
    int64_t due_ns = 0;
    uint64_t seq = 0;  // keeps equal due times in order
    storage::TenantId tenant = 0;
    std::string webhook;
    std::string body;
    std::string event;
    int attempt = 0;
    bool operator<(const Delivery& o) const {
      return due_ns != o.due_ns ? due_ns < o.due_ns : seq < o.seq;
    }
  };
  using HookKey = std::pair<storage::TenantId, std::string>;

  const NotifierOptions options;
  mutable Mutex mu;
  CondVar cv;
  bool stop FORESIGHT_GUARDED_BY(mu) = false;
  uint64_t seq FORESIGHT_GUARDED_BY(mu) = 0;
  std::set<Delivery> queue FORESIGHT_GUARDED_BY(mu);  // earliest due first
  // Webhooks with a delivery being sent: one each, in order.
  std::set<HookKey> in_flight FORESIGHT_GUARDED_BY(mu);
  std::map<storage::TenantId, std::vector<WebhookConfig>> hooks FORESIGHT_GUARDED_BY(mu);
  std::map<HookKey, WebhookStatus> status FORESIGHT_GUARDED_BY(mu);
  NotifierStats stats FORESIGHT_GUARDED_BY(mu);
  std::vector<std::thread> workers;

  // Not built over a Storage: due times and attempt times are the system clock's.
  static int64_t Now() { return storage::SystemClock().NowNs(); }

  const WebhookConfig* Find(storage::TenantId tenant, const std::string& id) const
      FORESIGHT_REQUIRES(mu) {
    auto it = hooks.find(tenant);
    if (it == hooks.end()) return nullptr;
    for (const WebhookConfig& w : it->second) {
      if (w.id == id) return &w;
    }
    return nullptr;
  }

  // One delivery per enabled webhook of `tenant` that takes an event of this severity (and,
  // for webhooks of opened alerts only, that `opens` a problem), in the webhook's format.
  // `body(slack)` makes the payload of a format; it runs only for formats a webhook takes
  // (alert transitions come from the ingest path, and most tenants have no webhooks).
  void Enqueue(storage::TenantId tenant, std::string_view event, query::Severity severity,
               bool opens, const std::function<std::string(bool slack)>& body) {
    {
      MutexLock l(&mu);
      auto it = hooks.find(tenant);
      if (it == hooks.end()) return;
      std::optional<std::string> bodies[2];  // json, slack
      for (const WebhookConfig& w : it->second) {
        if (!w.enabled || severity < w.min_severity || (w.opened_only && !opens)) continue;
        if (queue.size() >= options.max_pending) {
          ++stats.dropped;
          continue;
        }
        std::optional<std::string>& b = bodies[w.slack];
        if (!b) b = body(w.slack);
        ++status[{tenant, w.id}].pending;
        queue.insert({Now(), ++seq, tenant, w.id, *b, std::string(event), 0});
      }
    }
    cv.NotifyOne();
  }

  // One of options.workers threads. Each takes the earliest due delivery of a webhook that has
  // none in flight, so an endpoint that hangs holds up its own deliveries, not the others'.
  void Run() {
    MutexLock l(&mu);
    while (!stop) {
      // The lambda runs under mu too; the analysis does not follow locks into lambdas.
      const std::set<HookKey>* busy = &in_flight;
      auto next = std::find_if(queue.begin(), queue.end(), [&](const Delivery& d) {
        return !busy->contains({d.tenant, d.webhook});
      });
      if (next == queue.end()) {
        cv.Wait(&mu);
        continue;
      }
      const int64_t wait = next->due_ns - Now();
      if (wait > 0) {
        cv.WaitFor(&mu, std::chrono::nanoseconds(wait));
        continue;
      }
      Delivery d = std::move(queue.extract(next).value());
      const HookKey key{d.tenant, d.webhook};
      const WebhookConfig* found = Find(d.tenant, d.webhook);
      if (!found || !found->enabled) {  // deleted or disabled since
        --status[key].pending;
        continue;
      }
      const WebhookConfig hook = *found;
      in_flight.insert(key);
      l.Unlock();
      Answer answer;
      std::vector<std::pair<std::string, std::string>> headers = {
          {"X-Foresight-Event", d.event},
          {"X-Foresight-Delivery", fmt::format("{}-{}", d.webhook, d.seq)}};
      if (!hook.slack && !hook.secret.empty()) {
        headers.emplace_back("X-Foresight-Signature", Signature(hook.secret, d.body));
      }
      if (auto target = ParseTarget(hook.url)) {
        answer = Post(*target, d.body, headers, options.timeout, options.ca_file);
      } else {
        answer.error = "the url is not http or https";
      }
      const bool ok = answer.error.empty() && answer.status >= 200 && answer.status < 300;
      if (answer.error.empty() && !ok) answer.error = fmt::format("answered {}", answer.status);
      l.Lock();
      in_flight.erase(key);
      cv.NotifyAll();  // its next delivery may go now
      WebhookStatus& s = status[key];
      ++s.attempts;
      s.last_attempt_ns = Now();
      s.last_http_status = answer.status;
      if (ok) {
        s.last_error.clear();
        s.last_success_ns = s.last_attempt_ns;
        ++s.delivered;
        --s.pending;
        ++stats.delivered;
        continue;
      }
      s.last_error = answer.error;
      if (++d.attempt >= options.max_attempts) {
        log::Warn("webhook {}: gave up on {} after {} attempts: {}", d.webhook, d.event, d.attempt,
                  answer.error);
        ++s.failed;
        --s.pending;
        ++stats.failed;
        continue;
      }
      ++stats.retried;
      const auto backoff =
          std::min(options.first_backoff * (int64_t{1} << (d.attempt - 1)),
                   std::chrono::duration_cast<std::chrono::milliseconds>(options.max_backoff));
      d.due_ns = Now() + std::chrono::duration_cast<std::chrono::nanoseconds>(backoff).count();
      queue.insert(std::move(d));
    }
  }
};

Notifier::Notifier(NotifierOptions options) : impl_(std::make_unique<Impl>(options)) {
  for (int i = 0; i < std::max(1, impl_->options.workers); ++i) {
    impl_->workers.emplace_back([this] { impl_->Run(); });
  }
}

Notifier::~Notifier() {
  {
    MutexLock l(&impl_->mu);
    impl_->stop = true;
    if (!impl_->queue.empty()) {
      log::Warn("webhooks: {} deliveries not sent at shutdown", impl_->queue.size());
    }
  }
  impl_->cv.NotifyAll();
  for (std::thread& w : impl_->workers) w.join();
}

void Notifier::SetWebhooks(storage::TenantId tenant, std::vector<WebhookConfig> webhooks) {
  MutexLock l(&impl_->mu);
  impl_->hooks[tenant] = std::move(webhooks);
}

void Notifier::OnAlert(const query::AlertEvent& event) {
  const query::Alert& a = *event.alert;
  const std::string_view name = kEvents[static_cast<size_t>(a.status)];
  impl_->Enqueue(
      event.tenant, name, a.severity, a.status == query::AlertStatus::kOpen, [&](bool slack) {
        static constexpr std::string_view kVerbs[] = {"opened", "acknowledged", "resolved"};
        if (slack) {
          return JsonText(json::object{
              {"text",
               fmt::format("[{}] {} {}: {}", query::kSeverityNames[static_cast<size_t>(a.severity)],
                           a.asset_id, kVerbs[static_cast<size_t>(a.status)], a.message)}});
        }
        return JsonText(json::object{{"event", name},
                                     {"tenant_id", event.tenant},
                                     {"alert", AlertJson(a)},
                                     {"sent_at", storage::FormatRfc3339(Impl::Now())}});
      });
}

void Notifier::OnDrift(const ml::DriftAlert& alert) {
  impl_->Enqueue(alert.tenant, kDriftEvent, query::Severity::kWarning, true, [&](bool slack) {
    if (slack) {
      std::vector<std::string_view> names;
      for (const ml::FeatureDrift& f : alert.features) names.push_back(f.feature);
      const size_t shown = std::min<size_t>(names.size(), 5);
      return JsonText(json::object{
          {"text",
           fmt::format("[warning] model {} ({}) drifted: {} features with PSI above {}: {}{}",
                       alert.model_id, alert.target, names.size(), alert.threshold,
                       fmt::join(names.begin(), names.begin() + shown, ", "),
                       names.size() > shown ? ", ..." : "")}});
    }
    json::array features;
    for (const ml::FeatureDrift& f : alert.features) {
      features.push_back(json::object{
          {"feature", f.feature}, {"psi", f.psi}, {"ks", f.ks}, {"ks_critical", f.ks_critical}});
    }
    return JsonText(
        json::object{{"event", kDriftEvent},
                     {"tenant_id", alert.tenant},
                     {"model", json::object{{"id", alert.model_id}, {"target", alert.target}}},
                     {"psi_threshold", alert.threshold},
                     {"features", std::move(features)},
                     {"measured_at", storage::FormatRfc3339(alert.measured_ns)},
                     {"sent_at", storage::FormatRfc3339(Impl::Now())}});
  });
}

std::optional<WebhookStatus> Notifier::Status(storage::TenantId tenant, std::string_view id) const {
  MutexLock l(&impl_->mu);
  auto it = impl_->status.find({tenant, std::string(id)});
  if (it == impl_->status.end()) return std::nullopt;
  return it->second;
}

NotifierStats Notifier::GetStats() const {
  MutexLock l(&impl_->mu);
  return impl_->stats;
}

// --- Routes ----------------------------------------------------------------------------------

namespace {

WebhookConfig ConfigFromDoc(const json::object& d) {
  WebhookConfig w;
  auto str = [&](std::string_view k) {
    const json::value* v = d.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  w.id = str("id");
  w.url = str("url");
  w.slack = str("format") == "slack";
  w.secret = str("secret");
  w.opened_only = str("events") == "opened";
  const std::string severity = str("min_severity");
  for (size_t i = 0; i < query::kSeverityNames.size(); ++i) {
    if (query::kSeverityNames[i] == severity) w.min_severity = static_cast<query::Severity>(i);
  }
  if (const json::value* e = d.if_contains("enabled"); e && e->is_bool()) w.enabled = e->as_bool();
  return w;
}

// The stored document as the API shows it: the secret never leaves, its delivery status does.
json::object Render(const Ctx& ctx, json::object doc) {
  doc["has_secret"] = !doc.if_contains("secret") ? false : !doc.at("secret").as_string().empty();
  doc.erase("secret");
  WebhookStatus st;
  if (ctx.services.notifier) {
    st = ctx.services.notifier->Status(ctx.tenant, doc.at("id").as_string()).value_or(st);
  }
  json::object s = {{"delivered", st.delivered},
                    {"failed", st.failed},
                    {"attempts", st.attempts},
                    {"pending", st.pending}};
  if (st.last_attempt_ns) s["last_attempt_at"] = storage::FormatRfc3339(st.last_attempt_ns);
  if (st.last_success_ns) s["last_success_at"] = storage::FormatRfc3339(st.last_success_ns);
  if (st.last_http_status) s["last_http_status"] = st.last_http_status;
  if (!st.last_error.empty()) s["last_error"] = st.last_error;
  doc["status"] = std::move(s);
  return doc;
}

// The body's fields over `doc`, each checked.
std::optional<ApiError> ApplyWebhookFields(const json::object& body, json::object* doc) {
  auto one_of = [](const json::value& v, std::initializer_list<std::string_view> options) {
    return v.is_string() &&
           std::find(options.begin(), options.end(), v.as_string()) != options.end();
  };
  for (const auto& [key, v] : body) {
    if (key == "name") {
      if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 256) {
        return BadField("name", "name must be a string of 1 to 256 characters");
      }
    } else if (key == "url") {
      if (!v.is_string() || v.as_string().size() > 2048 || !ParseTarget(v.as_string())) {
        return BadField("url", "url must be an http:// or https:// URL with a host");
      }
    } else if (key == "format") {
      if (!one_of(v, {"json", "slack"})) return BadField("format", "format must be json or slack");
    } else if (key == "secret") {
      if (!v.is_string() || v.as_string().size() > 256) {
        return BadField("secret", "secret must be a string of at most 256 characters");
      }
    } else if (key == "events") {
      if (!one_of(v, {"all", "opened"})) return BadField("events", "events must be all or opened");
    } else if (key == "min_severity") {
      if (!one_of(v, {"info", "warning", "critical"})) {
        return BadField("min_severity", "min_severity must be info, warning or critical");
      }
    } else if (key == "enabled") {
      if (!v.is_bool()) return BadField("enabled", "enabled must be true or false");
    } else {
      return BadField(key, "unknown field '" + std::string(key) + "'");
    }
    (*doc)[key] = v;
  }
  for (std::string_view required : {"name", "url"}) {
    if (!doc->contains(required)) return BadField(required, std::string(required) + " is required");
  }
  return std::nullopt;
}

Result<std::shared_ptr<Collection>> Hooks(Ctx& ctx) { return ctx.api.Docs(ctx.tenant, kKind); }

// After a change: the notifier delivers to the stored webhooks from the next alert.
Response Installed(Ctx& ctx, Response res) {
  return AfterChange(ctx, std::move(res), [&] {
    return ctx.services.notifier
               ? InstallWebhooks(*ctx.services.storage, ctx.services.notifier, ctx.tenant)
               : Status::OK();
  });
}

}  // namespace

Status InstallWebhooks(const storage::Storage& storage, Notifier* notifier,
                       storage::TenantId tenant) {
  auto records = storage.ScanRecords(tenant, kKind, {});
  if (!records.ok()) return records.status();
  std::vector<WebhookConfig> hooks;
  for (const auto& [id, text] : *records) {
    auto doc = storage::ParseJsonObject(text);
    if (!doc.ok()) {
      log::Warn("webhook record '{}' is not a JSON object; it is skipped", id);
      continue;
    }
    hooks.push_back(ConfigFromDoc(*doc));
  }
  notifier->SetWebhooks(tenant, std::move(hooks));
  return Status::OK();
}

Response ListWebhooks(Ctx& ctx) {
  Page page;
  if (auto e = ParsePage(ctx, &page)) return Error(ctx, *e);
  auto hooks = Hooks(ctx);
  if (!hooks.ok()) return Error(ctx, FromStatus(hooks.status()));
  json::array items;
  size_t total = 0;
  (*hooks)->Read([&](std::span<const json::object* const> all) {
    total = all.size();
    for (size_t i = page.offset; i < all.size() && items.size() < page.limit; ++i) {
      items.push_back(Render(ctx, *all[i]));
    }
  });
  return Json(ctx, PageJson(std::move(items), total, page));
}

Response CreateWebhook(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  json::object doc = {
      {"format", "json"}, {"events", "all"}, {"min_severity", "info"}, {"enabled", true}};
  if (auto e = ApplyWebhookFields(*body, &doc)) return Error(ctx, *e);
  auto hooks = Hooks(ctx);
  if (!hooks.ok()) return Error(ctx, FromStatus(hooks.status()));
  const std::string id = ctx.api.NewId("hook_");
  doc["id"] = id;
  doc["created_at"] = storage::FormatRfc3339(ctx.NowNs());
  doc["created_by"] = ctx.Actor();
  if (Status s = (*hooks)->Put(id, doc); !s.ok()) return Error(ctx, FromStatus(s));
  return Installed(ctx, Json(ctx, Render(ctx, doc), bhttp::status::created));
}

Response GetWebhook(Ctx& ctx) {
  auto hooks = Hooks(ctx);
  if (!hooks.ok()) return Error(ctx, FromStatus(hooks.status()));
  auto doc = (*hooks)->Get(ctx.Param(1));
  if (!doc) return Error(ctx, NotFound("no webhook '" + ctx.Param(1) + "'"));
  return Json(ctx, Render(ctx, *doc));
}

Response UpdateWebhook(Ctx& ctx) {
  ApiError error;
  auto body = BodyObject(ctx, &error);
  if (!body.ok()) return Error(ctx, error);
  auto hooks = Hooks(ctx);
  if (!hooks.ok()) return Error(ctx, FromStatus(hooks.status()));
  auto doc = (*hooks)->Get(ctx.Param(1));
  if (!doc) return Error(ctx, NotFound("no webhook '" + ctx.Param(1) + "'"));
  if (auto e = ApplyWebhookFields(*body, &*doc)) return Error(ctx, *e);
  (*doc)["updated_at"] = storage::FormatRfc3339(ctx.NowNs());
  (*doc)["updated_by"] = ctx.Actor();
  if (Status s = (*hooks)->Put(ctx.Param(1), *doc); !s.ok()) return Error(ctx, FromStatus(s));
  return Installed(ctx, Json(ctx, Render(ctx, *doc)));
}

Response DeleteWebhook(Ctx& ctx) {
  auto hooks = Hooks(ctx);
  if (!hooks.ok()) return Error(ctx, FromStatus(hooks.status()));
  if (!(*hooks)->Get(ctx.Param(1))) {
    return Error(ctx, NotFound("no webhook '" + ctx.Param(1) + "'"));
  }
  if (Status s = (*hooks)->Erase(ctx.Param(1)); !s.ok()) return Error(ctx, FromStatus(s));
  return Installed(ctx, NoContent(ctx));
}

}  // namespace foresight::http
