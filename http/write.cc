// The write routes: InfluxDB 1.x and 2.x line protocol, /ping, and JSON readings.
//
// Each answers only after ingest has made the stored points durable. Credentials decide the
// tenant; `db`, `org` and `bucket` are accepted for compatibility and ignored.
#include "http/api.h"
#include "http/http.h"

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <sodium.h>

#include <chrono>
#include <zlib.h>

namespace foresight::http {

std::string InfluxCredential(const Request& req, const Query& query) {
  std::string_view auth = Header(req, bhttp::field::authorization);
  if (std::string_view token = SchemeToken(auth); !token.empty()) return std::string(token);
  if (auth.starts_with("Basic ")) {
    std::string_view b64 = auth.substr(6);
    std::string decoded(b64.size(), '\0');
    size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                          b64.data(), b64.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
      return {};
    }
    decoded.resize(len);
    size_t colon = decoded.find(':');
    return colon == std::string::npos ? std::string() : decoded.substr(colon + 1);
  }
  return query.Get("p");
}

namespace {

enum class Inflate { kOk, kCorrupt, kTooLarge };

// Decompresses a gzip body, including several gzip members one after another.
Inflate Gunzip(std::string_view in, size_t limit, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Inflate::kCorrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  Inflate result = Inflate::kOk;
  char chunk[64 << 10];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = sizeof chunk - zs.avail_out;
    if (out->size() + produced > limit) {
      result = Inflate::kTooLarge;
      break;
    }
    out->append(chunk, produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      if (inflateReset(&zs) != Z_OK) {
        result = Inflate::kCorrupt;
        break;
      }
      continue;
    }
    if (rc != Z_OK || (zs.avail_in == 0 && produced == 0)) {
      result = Inflate::kCorrupt;  // truncated or damaged
      break;
    }
  }
  inflateEnd(&zs);
  return result;
}

// The request body after Content-Encoding and without a leading byte-order mark, or the response
// that refuses it.
std::optional<Response> DecodeBody(
    const Request& req, const Services& services, std::string* storage, std::string_view* body,
    const std::function<std::string(std::string_view, std::string_view)>& error) {
  std::string_view encoding = Header(req, bhttp::field::content_encoding);
  *body = storage::SkipByteOrderMark(req.body());
  if (encoding.empty() || encoding == "identity") return std::nullopt;
  if (encoding != "gzip") {
    return MakeResponse(req, bhttp::status::unsupported_media_type,
                        error("unsupported", "Content-Encoding must be gzip or identity"));
  }
  size_t limit = services.ingestor->options().limits.max_decompressed_bytes;
  switch (Gunzip(req.body(), limit, storage)) {
    case Inflate::kOk:
      *body = storage::SkipByteOrderMark(*storage);
      return std::nullopt;
    case Inflate::kTooLarge:
      return MakeResponse(
          req, bhttp::status::payload_too_large,
          error("too_large", "the body inflates to more than " + std::to_string(limit) + " bytes"));
    case Inflate::kCorrupt:
      break;
  }
  return MakeResponse(req, bhttp::status::bad_request,
                      error("invalid", "the gzip body is damaged or truncated"));
}

json::array RejectedJson(const std::vector<ingest::Rejection>& rejected, const char* index_key) {
  json::array out;
  for (const ingest::Rejection& r : rejected) {
    json::object o;
    o[index_key] = r.line;
    if (r.column) o["column"] = r.column;
    o["reason"] = r.reason;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

Response HandlePing(const Request& req) {
  Response res = MakeResponse(req, bhttp::status::no_content, "");
  res.set("X-Influxdb-Version", "1.8-compatible (FORESIGHT)");
  res.set("X-Influxdb-Build", "OSS");
  return res;
}

Response HandleInfluxWrite(const Request& req, const Services& services, InfluxApi api) {
  // Influx clients parse these shapes: 1.x {"error": "..."}, 2.x {"code": "...", "message": "..."}.
  auto error = [api](std::string_view code, std::string_view message) {
    json::object o;
    if (api == InfluxApi::kV1) {
      o["error"] = message;
    } else {
      o["code"] = code;
      o["message"] = message;
    }
    return JsonText(o);
  };
  if (req.method() != bhttp::verb::post) {
    return MakeResponse(req, bhttp::status::method_not_allowed,
                        error("method not allowed", "use POST"));
  }
  Query query = ParseQuery(req);
  if (!query.url)
    return MakeResponse(req, bhttp::status::bad_request, error("invalid", "malformed URL"));
  Result<storage::TenantId> tenant = Status::NotFound("no credentials");
  std::string token = InfluxCredential(req, query);
  if (!token.empty() && services.auth) tenant = services.auth->tokens().Verify(token);
  if (tenant.status().code() == Status::Code::kFailedPrecondition) {
    return MakeResponse(req, bhttp::status::forbidden,
                        error("forbidden", tenant.status().message()));
  }
  if (!tenant.ok()) {
    Response res =
        MakeResponse(req, bhttp::status::unauthorized,
                     error("unauthorized", "authorization failed: a valid token is required"));
    res.set(bhttp::field::www_authenticate, "Token");
    return res;
  }
  Result<ingest::Precision> precision = ingest::ParsePrecision(query.Get("precision"));
  if (!precision.ok()) {
    return MakeResponse(req, bhttp::status::bad_request,
                        error("invalid", precision.status().message()));
  }
  std::string inflated;
  std::string_view body;
  if (auto refused = DecodeBody(req, services, &inflated, &body, error)) return *refused;

  ingest::WriteReport report = services.ingestor->WriteLineProtocol(
      *tenant, body, *precision, services.storage->clock().NowNs());
  if (!report.status.ok()) {
    return MakeResponse(req, bhttp::status::internal_server_error,
                        error("internal error", "storage: " + report.status.ToString()));
  }
  if (report.rejected.empty()) return MakeResponse(req, bhttp::status::no_content, "");
  const ingest::Rejection& first = report.rejected.front();
  std::string message = "partial write: line " + std::to_string(first.line) +
                        (first.column ? ", column " + std::to_string(first.column) : "") + ": " +
                        first.reason + " dropped=" + std::to_string(report.rejected.size());
  json::object o;
  if (api == InfluxApi::kV1) {
    o["error"] = message;
  } else {
    o["code"] = "invalid";
    o["message"] = message;
    o["line"] = first.line;
  }
  o["rejected"] = RejectedJson(report.rejected, "line");
  return MakeResponse(req, bhttp::status::bad_request, JsonText(o));
}

Response HandleRemoteWrite(const Request& req, const Services& services) {
  auto error = [&](bhttp::status status, std::string_view message) {
    storage::JsonWriter w;
    w.BeginObject().Field("error", message).EndObject();
    return MakeResponse(req, status, w.Take());
  };
  Query query = ParseQuery(req);
  Result<storage::TenantId> tenant = Status::NotFound("no credentials");
  if (std::string token = InfluxCredential(req, query); !token.empty() && services.auth) {
    tenant = services.auth->tokens().Verify(token);
  }
  if (tenant.status().code() == Status::Code::kFailedPrecondition) {
    return error(bhttp::status::forbidden, tenant.status().message());
  }
  if (!tenant.ok()) {
    Response res =
        error(bhttp::status::unauthorized, "authorization failed: a valid write token is required");
    res.set(bhttp::field::www_authenticate, "Bearer");
    return res;
  }
  // Remote write 1.0 bodies are always snappy-compressed, whether or not the header says so.
  const std::string_view encoding = Header(req, bhttp::field::content_encoding);
  if (!encoding.empty() && encoding != "snappy") {
    return error(bhttp::status::unsupported_media_type, "Content-Encoding must be snappy");
  }
  ingest::WriteReport report =
      services.ingestor->WriteRemoteWrite(*tenant, req.body(), services.storage->clock().NowNs());
  if (report.status.code() == Status::Code::kInvalidArgument) {
    return error(bhttp::status::bad_request, report.status.message());
  }
  if (!report.status.ok()) {
    return error(bhttp::status::internal_server_error, "storage: " + report.status.ToString());
  }
  if (report.rejected.empty()) return MakeResponse(req, bhttp::status::no_content, "");
  const ingest::Rejection& first = report.rejected.front();
  json::object o;
  o["error"] = "partial write: series " + std::to_string(first.line) + ": " + first.reason +
               " dropped=" + std::to_string(report.rejected.size());
  o["rejected"] = RejectedJson(report.rejected, "series");
  // 400, not 5xx: Prometheus retries 5xx, and sending these again cannot make them good.
  return MakeResponse(req, bhttp::status::bad_request, JsonText(o));
}

Response HandleReadings(const Request& req, const Services& services, storage::TenantId tenant) {
  Query query = ParseQuery(req);
  std::string precision_text = query.Get("precision");
  Result<ingest::Precision> precision =
      ingest::ParsePrecision(precision_text.empty() ? "ms" : precision_text);
  if (!precision.ok()) {
    return MakeResponse(
        req, bhttp::status::bad_request,
        ErrorJson("invalid_argument", "precision: " + std::string(precision.status().message())));
  }
  std::string inflated;
  std::string_view body;
  auto error = [](std::string_view code, std::string_view message) {
    return ErrorJson(code, message);
  };
  if (auto refused = DecodeBody(req, services, &inflated, &body, error)) return *refused;

  ingest::WriteReport report = services.ingestor->WriteJsonReadings(
      tenant, body, *precision, services.storage->clock().NowNs());
  if (report.status.code() == Status::Code::kInvalidArgument) {
    return MakeResponse(req, bhttp::status::bad_request,
                        ErrorJson("malformed_json", report.status.message()));
  }
  if (!report.status.ok()) {
    return MakeResponse(req, bhttp::status::internal_server_error,
                        ErrorJson("storage_error", report.status.ToString()));
  }
  json::object o;
  o["readings"] = report.lines;
  o["values"] = report.values;
  if (report.rejected.empty()) return MakeResponse(req, bhttp::status::ok, JsonText(o));
  const ingest::Rejection& first = report.rejected.front();
  json::object err;
  err["code"] = "partial_write";
  err["message"] = "reading " + std::to_string(first.line) + ": " + first.reason;
  o["error"] = std::move(err);
  o["rejected"] = RejectedJson(report.rejected, "index");
  return MakeResponse(req, bhttp::status::bad_request, JsonText(o));
}

}  // namespace foresight::http
