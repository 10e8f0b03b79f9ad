// The REST API's shared pieces: rendering, body parsing, record caches, rate limits, audit,
// request metrics, time and pagination.
#include "http/api.h"

#include "http/csv.h"
#include "storage/log.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

namespace foresight::http {

std::string_view Header(const Request& req, bhttp::field field) {
  auto it = req.find(field);
  return it == req.end() ? std::string_view()
                         : std::string_view(it->value().data(), it->value().size());
}

std::string_view SchemeToken(std::string_view authorization) {
  for (std::string_view scheme : {"Token ", "Bearer "}) {
    if (authorization.starts_with(scheme)) return authorization.substr(scheme.size());
  }
  return {};
}

bool Query::Has(std::string_view key) const {
  return url && url->params().find(key) != url->params().end();
}

std::string Query::Get(std::string_view key) const {
  if (!url) return {};
  auto it = url->params().find(key);
  return it == url->params().end() ? std::string() : std::string((*it).value);
}

Query ParseQuery(const Request& req) {
  Query q;
  const std::string_view target(req.target().data(), req.target().size());
  if (auto parsed = boost::urls::parse_origin_form(target)) {
    q.url = *parsed;
    return q;
  }
  // RFC 3986 does not allow these in a query, but curl and hand-written URLs send them as they
  // are (PromQL selectors, match[]); encoded, they mean what the client meant.
  std::string repaired;
  for (char c : target) {
    if (std::string_view("[]{}|\"<>\\^` ").find(c) != std::string_view::npos) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      repaired += '%';
      repaired += kHex[static_cast<unsigned char>(c) >> 4];
      repaired += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      repaired += c;
    }
  }
  q.repaired = std::make_shared<const std::string>(std::move(repaired));
  if (auto parsed = boost::urls::parse_origin_form(*q.repaired)) q.url = *parsed;
  return q;
}

ReadParams::ReadParams(const Ctx& ctx) : url_(ctx.query) {
  if (ctx.req.method() == bhttp::verb::post &&
      Header(ctx.req, bhttp::field::content_type)
          .starts_with("application/x-www-form-urlencoded")) {
    body_ = "/?" + ctx.req.body();
    auto parsed = boost::urls::parse_origin_form(body_);
    ok_ = parsed.has_value();
    if (parsed) form_.url = *parsed;
  }
  ok_ = ok_ && url_.url.has_value();
}

std::string ReadParams::Get(std::string_view key) const {
  return form_.Has(key) ? form_.Get(key) : url_.Get(key);
}

std::vector<std::string> ReadParams::All(std::string_view key) const {
  std::vector<std::string> out;
  for (const Query* q : {&form_, &url_}) {
    if (!q->url) continue;
    for (auto param : q->url->params()) {
      if (param.key == key) out.push_back(std::string(param.value));
    }
  }
  return out;
}

Result<Principal> AuthenticateReader(Ctx& ctx, const ReadParams& params, bhttp::status* refusal) {
  const std::string credential = InfluxCredential(ctx.req, params.credentials());
  *refusal = bhttp::status::unauthorized;
  if (credential.empty())
    return Status::InvalidArgument("a viewer's (or better) token is required");
  Result<Principal> principal =
      ctx.services.auth->Authenticate(credential, ctx.NowNs() / storage::kSecondNs);
  if (!principal.ok()) return principal;
  if (principal->role < Role::kViewer) {
    *refusal = bhttp::status::forbidden;
    return Status::InvalidArgument("a write token may not read: use a viewer's (or better) token");
  }
  if (ctx.api.Throttle(principal->tenant)) {
    *refusal = bhttp::status::too_many_requests;
    return Status::InvalidArgument("too many requests for this tenant; retry later");
  }
  // Not ctx.tenant: that marks a tenant route, whose POSTs are audited as changes.
  ctx.principal = *principal;
  return principal;
}

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kSelf:
      return "own credentials";
    case Access::kWrite:
      return "writer";
    case Access::kRead:
      return "viewer";
    case Access::kEngineer:
      return "engineer";
    case Access::kAdmin:
      return "admin";
    case Access::kOperator:
      return "operator";
  }
  return "?";
}

ApiError BadField(std::string_view field, std::string message) {
  return {bhttp::status::bad_request, "invalid_field", std::move(message), std::string(field)};
}
ApiError NotFound(std::string message) {
  return {bhttp::status::not_found, "not_found", std::move(message), {}};
}
ApiError Conflict(std::string message) {
  return {bhttp::status::conflict, "conflict", std::move(message), {}};
}
ApiError FieldError(const Status& s) {
  const std::string_view message = s.message();
  const size_t colon = message.find(": ");
  if (s.code() != Status::Code::kInvalidArgument || colon == std::string_view::npos) {
    return FromStatus(s);
  }
  return BadField(message.substr(0, colon), std::string(message.substr(colon + 2)));
}

ApiError FromStatus(const Status& s, std::string_view field) {
  if (s.code() == Status::Code::kInvalidArgument && !field.empty()) {
    return BadField(field, std::string(s.message()));
  }
  switch (s.code()) {
    case Status::Code::kNotFound:
      return NotFound(std::string(s.message()));
    case Status::Code::kAlreadyExists:
      return Conflict(std::string(s.message()));
    case Status::Code::kInvalidArgument:
      return {bhttp::status::bad_request, "invalid_argument", std::string(s.message()), {}};
    default:
      return {bhttp::status::internal_server_error, "storage_error", s.ToString(), {}};
  }
}

Response Json(const Ctx& ctx, const json::value& body, bhttp::status status) {
  return MakeResponse(ctx.req, status, JsonText(body));
}

Response Error(const Ctx& ctx, const ApiError& error) {
  json::object e;
  e["code"] = error.code;
  e["message"] = error.message;
  if (!error.field.empty()) e["field"] = error.field;
  json::object o;
  o["error"] = std::move(e);
  return MakeResponse(ctx.req, error.status, JsonText(o));
}

Response Items(const Ctx& ctx, json::array items) {
  const size_t total = items.size();
  return Json(ctx, {{"items", std::move(items)}, {"total", total}});
}

Response NoContent(const Ctx& ctx) { return MakeResponse(ctx.req, bhttp::status::no_content, {}); }

Response Csv(const Ctx& ctx, std::string body, std::string_view filename) {
  Response res =
      MakeResponse(ctx.req, bhttp::status::ok, std::move(body), "text/csv; charset=utf-8");
  res.set(bhttp::field::content_disposition,
          "attachment; filename=\"" + std::string(filename) + "\"");
  return res;
}

namespace {

// The first string in `v` (a member name or a value) that is not text, as "where: why". A body
// is checked whole before any route reads it, so no route can store a control character or
// (for JSON the parser accepted) anything else that is not text.
std::optional<std::string> FindNonText(const json::value& v, const std::string& where) {
  auto check = [](std::string_view s, const std::string& at) -> std::optional<std::string> {
    auto bad = storage::CheckText(s, storage::TextKind::kMultiline);
    if (!bad) return std::nullopt;
    return (at.empty() ? std::string("a member name") : at) + ": " + bad->reason + " at byte " +
           std::to_string(bad->offset + 1);
  };
  if (v.is_string()) return check(v.get_string(), where);
  if (v.is_array()) {
    const json::array& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      if (auto bad = FindNonText(a[i], where + "[" + std::to_string(i) + "]")) return bad;
    }
  }
  if (v.is_object()) {
    for (const auto& [key, member] : v.get_object()) {
      std::string at = where.empty() ? std::string(key) : where + "." + std::string(key);
      if (auto bad = check(key, where)) return bad;
      if (auto bad = FindNonText(member, at)) return bad;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<json::object> BodyObject(const Ctx& ctx, ApiError* error) {
  auto body = storage::ParseJson(ctx.req.body());
  if (!body.ok()) {
    *error = {bhttp::status::bad_request,
              "malformed_json",
              "the body is " + std::string(body.status().message()),
              {}};
    return body.status();
  }
  if (!body->is_object()) {
    *error = {bhttp::status::bad_request, "malformed_json", "the body must be a JSON object", {}};
    return Status::InvalidArgument("malformed");
  }
  if (auto bad = FindNonText(*body, "")) {
    *error = {bhttp::status::bad_request, "invalid_argument", *bad, {}};
    return Status::InvalidArgument("not text");
  }
  return std::move(body->as_object());
}

// --- Collection ------------------------------------------------------------------------------

Collection::Collection(storage::Storage* storage, storage::TenantId tenant, std::string kind)
    : storage_(storage), tenant_(tenant), kind_(std::move(kind)) {}

Status Collection::Load() {
  auto records = storage_->ScanRecords(tenant_, kind_, {});
  if (!records.ok()) return records.status();
  WriterLock l(&mu_);
  for (auto& [id, value] : *records) {
    auto doc = storage::ParseJsonObject(value);
    if (!doc.ok()) return Status::Corruption(kind_ + " record '" + id + "' is not a JSON object");
    docs_.emplace(id, std::move(*doc));
  }
  return Status::OK();
}

std::optional<json::object> Collection::Get(std::string_view id) const {
  ReaderLock l(&mu_);
  auto it = docs_.find(id);
  if (it == docs_.end()) return std::nullopt;
  return it->second;
}

void Collection::Read(const std::function<void(std::span<const json::object* const>)>& fn) const {
  ReaderLock l(&mu_);
  std::vector<const json::object*> all;
  all.reserve(docs_.size());
  for (const auto& [id, doc] : docs_) all.push_back(&doc);
  fn(all);
}

size_t Collection::size() const {
  ReaderLock l(&mu_);
  return docs_.size();
}

Status Collection::Put(const std::string& id, const json::object& doc) {
  return PutMany({{id, doc}});
}

Status Collection::PutMany(const std::vector<std::pair<std::string, json::object>>& docs) {
  std::vector<std::string> values;
  values.reserve(docs.size());
  std::vector<storage::Storage::RecordWrite> writes;
  for (const auto& [id, doc] : docs) values.push_back(JsonText(doc));
  for (size_t i = 0; i < docs.size(); ++i) writes.push_back({kind_, docs[i].first, values[i]});
  WriterLock l(&mu_);
  if (Status s = storage_->WriteRecords(tenant_, writes); !s.ok()) return s;
  for (const auto& [id, doc] : docs) docs_.insert_or_assign(id, doc);
  return Status::OK();
}

Status Collection::Erase(const std::string& id) {
  storage::Storage::RecordWrite write{kind_, id, std::nullopt};
  WriterLock l(&mu_);
  if (Status s = storage_->WriteRecords(tenant_, std::span(&write, 1)); !s.ok()) return s;
  docs_.erase(id);
  return Status::OK();
}

// --- Api -------------------------------------------------------------------------------------

Api::Api(storage::Storage* storage, const ApiOptions& options)
    : storage_(storage), options_(options) {}

Result<std::shared_ptr<Collection>> Api::Docs(storage::TenantId tenant, std::string_view kind) {
  MutexLock l(&mu_);
  auto key = std::pair(tenant, std::string(kind));
  auto it = docs_.find(key);
  if (it != docs_.end()) return it->second;
  auto docs = std::make_shared<Collection>(storage_, tenant, std::string(kind));
  if (Status s = docs->Load(); !s.ok()) return s;
  docs_.emplace(std::move(key), docs);
  return docs;
}

std::optional<double> Api::Take(storage::TenantId key, double rate, double burst) {
  if (rate <= 0) return std::nullopt;
  int64_t now = storage_->clock().NowNs();
  MutexLock l(&mu_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst, now});
  Bucket& b = it->second;
  b.tokens = std::min(burst, b.tokens + (now - b.last_ns) * 1e-9 * rate);
  b.last_ns = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return (1 - b.tokens) / rate;
}

std::optional<double> Api::Throttle(storage::TenantId tenant) {
  return Take(tenant, options_.rate_limit_per_s, options_.rate_limit_burst);
}

// Tenant ids start at 1, so key 0 is free for the appliance-wide sign-in bucket.
std::optional<double> Api::ThrottleSignIn() { return Take(0, kSignInsPerSecond, kSignInBurst); }

bool Api::CorsAllowed(std::string_view origin) const {
  return std::find(options_.cors_origins.begin(), options_.cors_origins.end(), origin) !=
         options_.cors_origins.end();
}

bool Api::IsOperator(std::string_view credential) const {
  const std::string& token = options_.operator_token;
  return !token.empty() && credential.size() == token.size() &&
         sodium_memcmp(credential.data(), token.data(), token.size()) == 0;
}

std::string Api::NewId(std::string_view prefix) {
  return fmt::format("{}{:016x}{:04x}", prefix, storage_->clock().NowNs(), id_counter_++ & 0xffff);
}

Status Api::Audit(const Ctx& ctx, unsigned status) {
  json::object o;
  o["time"] = storage::FormatRfc3339(storage_->clock().NowNs());
  o["actor"] = ctx.principal.subject;
  o["role"] = RoleName(ctx.principal.role);
  o["method"] = std::string(ctx.req.method_string());
  o["path"] = std::string(ctx.req.target());
  o["status"] = status;
  o["request_id"] = ctx.request_id;
  std::string id = NewId("");
  std::string value = JsonText(o);
  storage::Storage::RecordWrite write{"audit", id, value};
  return storage_->WriteRecords(ctx.tenant, std::span(&write, 1));
}

std::shared_ptr<const Api::SeriesIndex> Api::SeriesByAsset(storage::TenantId tenant,
                                                           std::string_view asset_tag) {
  uint64_t stamp = storage_->GetStats().series;
  {
    MutexLock l(&mu_);
    auto it = series_.find(tenant);
    if (it != series_.end() && it->second.stamp == stamp) return it->second.index;
  }
  auto index = std::make_shared<SeriesIndex>();
  for (storage::SeriesInfo& s : storage_->ListSeries(tenant)) {
    for (const auto& [k, v] : s.key.tags) {
      if (k == asset_tag) {
        (*index)[v].push_back(std::move(s));
        break;
      }
    }
  }
  MutexLock l(&mu_);
  series_[tenant] = {stamp, index};
  return index;
}

std::span<const storage::SeriesInfo> AssetSeries(const Api::SeriesIndex& index,
                                                 std::string_view asset) {
  auto it = index.find(asset);
  return it == index.end() ? std::span<const storage::SeriesInfo>() : it->second;
}

std::string_view AssetTag(const Services& services) {
  return services.ingestor ? std::string_view(services.ingestor->options().asset_tag)
                           : std::string_view("asset_id");
}

std::string_view AssetAttr(const storage::Asset& asset, std::string_view key,
                           std::string_view fallback) {
  for (const auto& [k, v] : asset.attributes) {
    if (k == key) return v;
  }
  return fallback;
}

std::string Join(std::span<const std::string_view> options) {
  std::string out;
  for (std::string_view o : options) out += (out.empty() ? "" : ", ") + std::string(o);
  return out;
}

// --- Metrics ---------------------------------------------------------------------------------

void RequestMetrics::Observe(std::string_view route, std::string_view method, unsigned status,
                             double seconds) {
  MutexLock l(&mu_);
  Histogram& h = by_key_[{std::string(route), std::string(method), status}];
  for (size_t i = 0; i < std::size(kBuckets); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void RequestMetrics::Render(std::string* out) const {
  auto it = std::back_inserter(*out);
  fmt::format_to(it,
                 "# HELP foresight_http_requests_total HTTP requests answered.\n"
                 "# TYPE foresight_http_requests_total counter\n");
  MutexLock l(&mu_);
  for (const auto& [key, h] : by_key_) {
    const auto& [route, method, status] = key;
    fmt::format_to(it,
                   "foresight_http_requests_total{{route=\"{}\",method=\"{}\",code=\"{}\"}} {}\n",
                   route, method, status, h.count);
  }
  fmt::format_to(it,
                 "# HELP foresight_http_request_duration_seconds Time from a request's last byte "
                 "to its answer.\n"
                 "# TYPE foresight_http_request_duration_seconds histogram\n");
  for (const auto& [key, h] : by_key_) {
    const auto& [route, method, status] = key;
    std::string labels =
        fmt::format("route=\"{}\",method=\"{}\",code=\"{}\"", route, method, status);
    for (size_t i = 0; i < std::size(kBuckets); ++i) {
      fmt::format_to(it, "foresight_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                     labels, kBuckets[i], h.buckets[i]);
    }
    fmt::format_to(it, "foresight_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                   labels, h.count);
    fmt::format_to(it, "foresight_http_request_duration_seconds_sum{{{}}} {}\n", labels, h.sum);
    fmt::format_to(it, "foresight_http_request_duration_seconds_count{{{}}} {}\n", labels, h.count);
  }
}

// --- Time and pages --------------------------------------------------------------------------

namespace {
std::optional<int64_t> MillisToNs(int64_t ms) {
  if (ms > INT64_MAX / 1'000'000 || ms < INT64_MIN / 1'000'000) return std::nullopt;
  return ms * 1'000'000;
}
}  // namespace

std::optional<int64_t> ParseTime(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool numeric = std::all_of(text.begin() + (text[0] == '-' ? 1 : 0), text.end(),
                             [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (numeric) {
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return MillisToNs(ms);
  }
  // A date alone is its midnight in UTC.
  constexpr size_t kDateLength = 10;  // YYYY-MM-DD
  Result<int64_t> t = text.size() == kDateLength
                          ? storage::ParseRfc3339(std::string(text) + "T00:00:00Z")
                          : storage::ParseRfc3339(text);
  if (!t.ok()) return std::nullopt;
  return *t;
}

std::optional<int64_t> ParseTimeValue(const json::value& v) {
  if (v.is_string()) return ParseTime(v.as_string());
  if (v.is_int64()) return MillisToNs(v.as_int64());
  return std::nullopt;
}

std::optional<ApiError> ParsePage(const Ctx& ctx, Page* page) {
  auto number = [&](std::string_view name, size_t lo, size_t hi, size_t* out) -> bool {
    if (!ctx.query.Has(name)) return true;
    std::string text = ctx.query.Get(name);
    size_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) return false;
    *out = v;
    return true;
  };
  if (!number("limit", 1, 1000, &page->limit)) {
    return BadField("limit", "limit must be an integer from 1 to 1000");
  }
  if (!number("offset", 0, SIZE_MAX, &page->offset)) {
    return BadField("offset", "offset must be a non-negative integer");
  }
  return std::nullopt;
}

std::optional<ApiError> ParseListFormat(const Ctx& ctx, Page* page, bool* csv) {
  const std::string format = ctx.query.Has("format") ? ctx.query.Get("format") : "json";
  if (format != "json" && format != "csv") return BadField("format", "format must be json or csv");
  *csv = format == "csv";
  if (*csv) *page = Page{SIZE_MAX, 0};
  return std::nullopt;
}

Response RowsCsv(const Ctx& ctx, const json::array& rows, std::span<const std::string_view> columns,
                 std::string_view filename) {
  std::string out = CsvLine({columns.begin(), columns.end()});
  for (const json::value& row : rows) {
    std::vector<std::string> fields;
    for (std::string_view c : columns) {
      const json::value* v = row.is_object() ? row.as_object().if_contains(c) : nullptr;
      if (!v || v->is_null()) {
        fields.emplace_back();
      } else if (v->is_string()) {
        fields.emplace_back(v->as_string());
      } else {
        fields.push_back(JsonText(*v));
      }
    }
    out += CsvLine(fields);
  }
  return Csv(ctx, std::move(out), filename);
}

json::object PageJson(json::array items, size_t total, const Page& page) {
  json::object o;
  o["items"] = std::move(items);
  o["total"] = total;
  o["limit"] = page.limit;
  o["offset"] = page.offset;
  return o;
}

}  // namespace foresight::http
