// The Prometheus HTTP API's read routes over query's PromQL engine, in Prometheus' shapes:
// {"status":"success","data":…}, or {"status":"error","errorType":"bad_data","error":…}.
// Times are RFC 3339 or Unix seconds with a fraction; steps a duration or seconds.
#include "http/api.h"
#include "query/query.h"
#include "storage/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace foresight::http {
namespace {

Response PromAnswer(const Request& req, bhttp::status status, std::string body) {
  return MakeResponse(req, status, std::move(body));
}

Response PromError(const Request& req, bhttp::status status, std::string_view type,
                   std::string_view message) {
  storage::JsonWriter w;
  w.BeginObject().Field("status", "error").Field("errorType", type).Field("error", message);
  return PromAnswer(req, status, w.EndObject().Take());
}

// "1700000000", "1700000000.123" or RFC 3339; nullopt when neither.
std::optional<int64_t> ParseTime(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size() && std::isfinite(seconds) && std::abs(seconds) < 9e9) {
    return static_cast<int64_t>(std::llround(seconds * 1e9));
  }
  auto t = storage::ParseRfc3339(text);
  return t.ok() ? std::optional<int64_t>(*t) : std::nullopt;
}

// "15s", "1m30s" or seconds ("15", "0.5").
std::optional<int64_t> ParseStep(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size()) {
    if (!std::isfinite(seconds) || seconds <= 0 || seconds > 1e9) return std::nullopt;
    return static_cast<int64_t>(std::llround(seconds * 1e9));
  }
  int64_t total = 0;
  for (size_t at = 0; at < text.size();) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data() + at, text.data() + text.size(), n);
    if (ec != std::errc()) return std::nullopt;
    at = static_cast<size_t>(p - text.data());
    int64_t unit = 0;
    for (auto [name, ns] :
         {std::pair{"ms", int64_t{1'000'000}}, std::pair{"s", int64_t{1'000'000'000}},
          std::pair{"m", int64_t{60'000'000'000}}, std::pair{"h", int64_t{3'600'000'000'000}},
          std::pair{"d", int64_t{86'400'000'000'000}}}) {
      std::string_view u = name;
      if (text.compare(at, u.size(), u) == 0 && !(u == "m" && text.compare(at, 2, "ms") == 0)) {
        unit = ns;
        at += u.size();
        break;
      }
    }
    if (unit == 0 || n > 1'000'000'000) return std::nullopt;
    total += n * unit;
  }
  return total > 0 ? std::optional<int64_t>(total) : std::nullopt;
}

void WriteLabels(storage::JsonWriter& w, const query::PromLabels& labels) {
  w.BeginObject();
  for (const auto& [k, v] : labels) w.Field(k, v);
  w.EndObject();
}

// [<seconds>, "<value>"], as Prometheus writes a sample.
void WriteSample(storage::JsonWriter& w, const query::PromSample& s) {
  char value[32];
  if (std::isnan(s.value)) {
    std::snprintf(value, sizeof value, "NaN");
  } else if (std::isinf(s.value)) {
    std::snprintf(value, sizeof value, s.value > 0 ? "+Inf" : "-Inf");
  } else {
    std::snprintf(value, sizeof value, "%.17g", s.value);
    // The shortest text that reads back as the same double, as Go's strconv does.
    for (int precision = 1; precision < 17; ++precision) {
      char shorter[32];
      std::snprintf(shorter, sizeof shorter, "%.*g", precision, s.value);
      if (std::strtod(shorter, nullptr) == s.value) {
        std::snprintf(value, sizeof value, "%s", shorter);
        break;
      }
    }
  }
  // Seconds with milliseconds, as Prometheus writes them: 1700000000 or 1700000000.5.
  const int64_t ms = s.ts_ns / 1'000'000;
  w.BeginArray();
  if (ms % 1000 == 0) {
    w.Int(ms / 1000);
  } else {
    w.Number(static_cast<double>(ms) / 1000);
  }
  w.String(value).EndArray();
}

std::string ResultJson(const query::PromResult& r) {
  storage::JsonWriter w;
  w.BeginObject().Field("status", "success").Key("data").BeginObject();
  using Type = query::PromResult::Type;
  w.Field("resultType", r.type == Type::kMatrix   ? "matrix"
                        : r.type == Type::kScalar ? "scalar"
                                                  : "vector");
  w.Key("result");
  if (r.type == Type::kScalar) {
    WriteSample(w, r.series.at(0).samples.at(0));
  } else {
    w.BeginArray();
    for (const query::PromSeries& s : r.series) {
      w.BeginObject().Key("metric");
      WriteLabels(w, s.labels);
      if (r.type == Type::kMatrix) {
        w.Key("values").BeginArray();
        for (const query::PromSample& sample : s.samples) WriteSample(w, sample);
        w.EndArray();
      } else {
        w.Key("value");
        WriteSample(w, s.samples.at(0));
      }
      w.EndObject();
    }
    w.EndArray();
  }
  return w.EndObject().EndObject().Take();
}

// Authenticates and parses; answers the request itself when it cannot go on.
struct Prepared {
  std::optional<Response> refused;
  std::optional<ReadParams> params;
  Principal principal;
};
Prepared Prepare(Ctx& ctx) {
  Prepared p;
  p.params.emplace(ctx);
  if (!p.params->ok()) {
    p.refused =
        PromError(ctx.req, bhttp::status::bad_request, "bad_data", "malformed URL or form body");
    return p;
  }
  bhttp::status refusal;
  Result<Principal> principal = AuthenticateReader(ctx, *p.params, &refusal);
  if (!principal.ok()) {
    p.refused = PromError(ctx.req, refusal, "unauthorized", principal.status().message());
    if (refusal == bhttp::status::unauthorized)
      p.refused->set(bhttp::field::www_authenticate, "Bearer");
    return p;
  }
  p.principal = *principal;
  return p;
}

query::PromOptions OptionsOf(const Ctx& ctx) {
  query::PromOptions o;
  o.max_series = ctx.services.influxql.max_series;
  o.max_points = ctx.services.influxql.max_points;
  o.timeout = ctx.services.influxql.timeout;
  return o;
}

Response Answer(const Ctx& ctx, const Result<query::PromResult>& r) {
  if (!r.ok()) {
    if (r.status().code() == Status::Code::kInvalidArgument) {
      return PromError(ctx.req, bhttp::status::bad_request, "bad_data", r.status().message());
    }
    return PromError(ctx.req, bhttp::status::internal_server_error, "internal",
                     r.status().ToString());
  }
  return PromAnswer(ctx.req, bhttp::status::ok, ResultJson(*r));
}

// The label sets `match[]` selects, or an error answer.
std::variant<std::vector<query::PromLabels>, Response> Matching(const Ctx& ctx, const Prepared& p) {
  auto series = query::PromSeriesMatching(*ctx.services.storage, p.principal.tenant,
                                          p.params->All("match[]"));
  if (!series.ok()) {
    return PromError(ctx.req, bhttp::status::bad_request, "bad_data", series.status().message());
  }
  return std::move(*series);
}

Response Strings(const Ctx& ctx, const std::set<std::string>& values) {
  storage::JsonWriter w;
  w.BeginObject().Field("status", "success").Key("data").BeginArray();
  for (const std::string& v : values) w.String(v);
  return PromAnswer(ctx.req, bhttp::status::ok, w.EndArray().EndObject().Take());
}

}  // namespace

Response PromQuery(Ctx& ctx) {
  Prepared p = Prepare(ctx);
  if (p.refused) return *p.refused;
  const std::string expr = p.params->Get("query");
  if (expr.empty())
    return PromError(ctx.req, bhttp::status::bad_request, "bad_data", "missing query");
  const std::string time_text = p.params->Get("time");
  std::optional<int64_t> t = time_text.empty() ? ctx.NowNs() : ParseTime(time_text);
  if (!t) {
    return PromError(ctx.req, bhttp::status::bad_request, "bad_data",
                     "invalid parameter \"time\": cannot parse \"" + time_text + "\"");
  }
  return Answer(ctx, query::PromInstantQuery(*ctx.services.storage, p.principal.tenant, expr, *t,
                                             OptionsOf(ctx)));
}

Response PromQueryRange(Ctx& ctx) {
  Prepared p = Prepare(ctx);
  if (p.refused) return *p.refused;
  const std::string expr = p.params->Get("query");
  if (expr.empty())
    return PromError(ctx.req, bhttp::status::bad_request, "bad_data", "missing query");
  std::optional<int64_t> start = ParseTime(p.params->Get("start")),
                         end = ParseTime(p.params->Get("end")),
                         step = ParseStep(p.params->Get("step"));
  for (auto [name, value] :
       {std::pair{"start", &start}, std::pair{"end", &end}, std::pair{"step", &step}}) {
    if (!*value) {
      return PromError(ctx.req, bhttp::status::bad_request, "bad_data",
                       std::string("invalid parameter \"") + name + "\": cannot parse \"" +
                           p.params->Get(name) + "\"");
    }
  }
  return Answer(ctx, query::PromRangeQuery(*ctx.services.storage, p.principal.tenant, expr, *start,
                                           *end, *step, OptionsOf(ctx)));
}

Response PromSeries(Ctx& ctx) {
  Prepared p = Prepare(ctx);
  if (p.refused) return *p.refused;
  if (p.params->All("match[]").empty()) {
    return PromError(ctx.req, bhttp::status::bad_request, "bad_data",
                     "no match[] parameter provided");
  }
  auto series = Matching(ctx, p);
  if (auto* refused = std::get_if<Response>(&series)) return *refused;
  storage::JsonWriter w;
  w.BeginObject().Field("status", "success").Key("data").BeginArray();
  for (const query::PromLabels& labels : std::get<0>(series)) WriteLabels(w, labels);
  return PromAnswer(ctx.req, bhttp::status::ok, w.EndArray().EndObject().Take());
}

Response PromLabels(Ctx& ctx) {
  Prepared p = Prepare(ctx);
  if (p.refused) return *p.refused;
  auto series = Matching(ctx, p);
  if (auto* refused = std::get_if<Response>(&series)) return *refused;
  std::set<std::string> names;
  for (const query::PromLabels& labels : std::get<0>(series)) {
    for (const auto& [k, v] : labels) names.insert(k);
  }
  return Strings(ctx, names);
}

Response PromLabelValues(Ctx& ctx) {
  Prepared p = Prepare(ctx);
  if (p.refused) return *p.refused;
  auto series = Matching(ctx, p);
  if (auto* refused = std::get_if<Response>(&series)) return *refused;
  std::set<std::string> values;
  for (const query::PromLabels& labels : std::get<0>(series)) {
    for (const auto& [k, v] : labels) {
      if (k == ctx.Param(0)) values.insert(v);
    }
  }
  return Strings(ctx, values);
}

// Every metric name with type "gauge": stored fields carry no Prometheus type.
Response PromMetadata(Ctx& ctx) {
  Prepared p = Prepare(ctx);
  if (p.refused) return *p.refused;
  auto series = Matching(ctx, p);
  if (auto* refused = std::get_if<Response>(&series)) return *refused;
  const std::string only = p.params->Get("metric");
  std::set<std::string> names;
  for (const query::PromLabels& labels : std::get<0>(series)) {
    for (const auto& [k, v] : labels) {
      if (k == "__name__" && (only.empty() || v == only)) names.insert(v);
    }
  }
  storage::JsonWriter w;
  w.BeginObject().Field("status", "success").Key("data").BeginObject();
  for (const std::string& name : names) {
    w.Key(name)
        .BeginArray()
        .BeginObject()
        .Field("type", "gauge")
        .Field("help", "")
        .Field("unit", "");
    w.EndObject().EndArray();
  }
  return PromAnswer(ctx.req, bhttp::status::ok, w.EndObject().EndObject().Take());
}

Response PromBuildInfo(Ctx& ctx) {
  storage::JsonWriter w;
  w.BeginObject().Field("status", "success").Key("data").BeginObject();
  // Grafana reads the version to decide which API features to use; 2.40 has every one this
  // subset answers.
  w.Field("version", "2.40.0")
      .Field("revision", "foresight")
      .Field("branch", "")
      .Field("buildUser", "")
      .Field("buildDate", "")
      .Field("goVersion", "");
  return PromAnswer(ctx.req, bhttp::status::ok, w.EndObject().EndObject().Take());
}

}  // namespace foresight::http
