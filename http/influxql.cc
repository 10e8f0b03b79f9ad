// GET|POST /query: InfluxDB 1.x's query API over query::RunInfluxQl, for Grafana's InfluxDB data
// source and the influx CLI. Answers in InfluxDB's shapes: {"results":[{"statement_id",
// "series"|"error"}]}, {"error": "..."} for a request that cannot run, CSV on
// `Accept: application/csv`.
#include "http/api.h"
#include "query/query.h"
#include "storage/json.h"

#include <cmath>
#include <cstdio>

namespace foresight::http {
namespace {

Response InfluxError(const Request& req, bhttp::status status, std::string_view message) {
  storage::JsonWriter w;
  w.BeginObject().Field("error", message).EndObject();
  Response res = MakeResponse(req, status, w.Take());
  res.set("X-Influxdb-Version", "1.8-compatible (FORESIGHT)");
  return res;
}

// `epoch=` as the divisor of ns; 0 (RFC 3339) when absent.
std::optional<int64_t> EpochDivisor(std::string_view epoch) {
  if (epoch.empty()) return 0;
  if (epoch == "ns" || epoch == "n") return 1;
  if (epoch == "u" || epoch == "\xC2\xB5" || epoch == "us") return 1'000;
  if (epoch == "ms") return 1'000'000;
  if (epoch == "s") return 1'000'000'000;
  if (epoch == "m") return 60'000'000'000;
  if (epoch == "h") return 3'600'000'000'000;
  return std::nullopt;
}

// RFC 3339 with as many fraction digits as needed, as InfluxDB writes times.
std::string InfluxTime(int64_t ns) {
  std::string s = storage::FormatRfc3339(ns - ns % 1'000'000'000 -
                                         (ns % 1'000'000'000 < 0 ? 1'000'000'000 : 0));
  int64_t frac = ((ns % 1'000'000'000) + 1'000'000'000) % 1'000'000'000;
  if (frac == 0) return s;
  char digits[16];
  std::snprintf(digits, sizeof digits, ".%09lld", static_cast<long long>(frac));
  std::string f = digits;
  while (f.back() == '0') f.pop_back();
  s.insert(s.size() - 1, f);  // before the 'Z'
  return s;
}

void WriteCell(storage::JsonWriter& w, const query::InfluxCell& cell, bool time, int64_t divisor) {
  if (time) {
    const int64_t ns = std::get<int64_t>(cell);
    if (divisor) {
      w.Int(ns / divisor);
    } else {
      w.String(InfluxTime(ns));
    }
    return;
  }
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          w.Null();
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.Int(v);
        } else if constexpr (std::is_same_v<T, double>) {
          w.Number(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          w.Bool(v);
        } else {
          w.String(v);
        }
      },
      cell);
}

std::string ResultsJson(const std::vector<query::InfluxStatement>& statements, int64_t divisor) {
  storage::JsonWriter w;
  w.BeginObject().Key("results").BeginArray();
  for (size_t i = 0; i < statements.size(); ++i) {
    const query::InfluxStatement& st = statements[i];
    w.BeginObject().Field("statement_id", static_cast<int64_t>(i));
    if (!st.error.empty()) {
      w.Field("error", st.error);
    } else if (!st.series.empty()) {
      w.Key("series").BeginArray();
      for (const query::InfluxSeries& s : st.series) {
        w.BeginObject();
        if (!s.name.empty()) w.Field("name", s.name);
        if (!s.tags.empty()) {
          w.Key("tags").BeginObject();
          for (const auto& [k, v] : s.tags) w.Field(k, v);
          w.EndObject();
        }
        w.Key("columns").BeginArray();
        for (const std::string& c : s.columns) w.String(c);
        w.EndArray().Key("values").BeginArray();
        for (const auto& row : s.values) {
          w.BeginArray();
          for (size_t c = 0; c < row.size(); ++c) {
            WriteCell(w, row[c], s.time_first && c == 0, divisor);
          }
          w.EndArray();
        }
        w.EndArray().EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string CsvField(std::string_view v) {
  if (v.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// InfluxDB's CSV: "name,tags,<columns>" then one line per row; a blank line between series
// whose columns differ.
std::string ResultsCsv(const std::vector<query::InfluxStatement>& statements, int64_t divisor) {
  std::string out;
  const std::vector<std::string>* header = nullptr;
  for (const query::InfluxStatement& st : statements) {
    for (const query::InfluxSeries& s : st.series) {
      if (!header || *header != s.columns) {
        if (header) out += "\n";
        out += "name,tags";
        for (const std::string& c : s.columns) out += "," + CsvField(c);
        out += "\n";
        header = &s.columns;
      }
      std::string tags;
      for (const auto& [k, v] : s.tags) tags += (tags.empty() ? "" : ",") + k + "=" + v;
      for (const auto& row : s.values) {
        out += CsvField(s.name) + "," + CsvField(tags);
        for (size_t c = 0; c < row.size(); ++c) {
          storage::JsonWriter w;
          const bool time = s.time_first && c == 0;
          if (!time && std::holds_alternative<std::string>(row[c])) {
            out += "," + CsvField(std::get<std::string>(row[c]));
            continue;
          }
          if (!time && std::holds_alternative<std::monostate>(row[c])) {
            out += ",";
            continue;
          }
          WriteCell(w, row[c], time, divisor ? divisor : 1);
          out += "," + w.Take();
        }
        out += "\n";
      }
    }
  }
  return out;
}

}  // namespace

Response InfluxQuery(Ctx& ctx) {
  const Request& req = ctx.req;
  const ReadParams params(ctx);
  if (!params.ok())
    return InfluxError(req, bhttp::status::bad_request, "malformed URL or form body");
  bhttp::status refusal;
  Result<Principal> principal = AuthenticateReader(ctx, params, &refusal);
  if (!principal.ok()) {
    Response res = InfluxError(
        req, refusal, "authorization failed: " + std::string(principal.status().message()));
    if (refusal == bhttp::status::unauthorized) res.set(bhttp::field::www_authenticate, "Token");
    if (refusal == bhttp::status::too_many_requests) res.set(bhttp::field::retry_after, "1");
    return res;
  }
  auto param = [&](std::string_view key) { return params.Get(key); };
  const std::string q = param("q");
  if (q.empty())
    return InfluxError(req, bhttp::status::bad_request, "missing required parameter \"q\"");
  const std::optional<int64_t> divisor = EpochDivisor(param("epoch"));
  if (!divisor)
    return InfluxError(req, bhttp::status::bad_request, "invalid epoch: " + param("epoch"));

  query::InfluxQlOptions options = ctx.services.influxql;
  options.now_ns = ctx.NowNs();
  options.database = principal->tenant_name;
  auto statements = query::RunInfluxQl(*ctx.services.storage, principal->tenant, q, options);
  if (!statements.ok()) {
    if (statements.status().code() == Status::Code::kInvalidArgument) {
      return InfluxError(req, bhttp::status::bad_request, statements.status().message());
    }
    return InfluxError(req, bhttp::status::internal_server_error,
                       "storage: " + statements.status().ToString());
  }
  Response res;
  if (Header(req, bhttp::field::accept).find("application/csv") != std::string_view::npos) {
    res =
        MakeResponse(req, bhttp::status::ok, ResultsCsv(*statements, *divisor), "application/csv");
  } else {
    res = MakeResponse(req, bhttp::status::ok, ResultsJson(*statements, *divisor));
  }
  res.set("X-Influxdb-Version", "1.8-compatible (FORESIGHT)");
  return res;
}

}  // namespace foresight::http
