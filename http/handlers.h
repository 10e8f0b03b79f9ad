// Private to http/: the request and response types and the route handlers.
#pragma once

#include "http/http.h"

#include <boost/beast/http.hpp>

#include <string>
#include <string_view>

namespace foresight::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// Request bodies above this are refused with 413 on routes that do not say otherwise.
inline constexpr size_t kDefaultBodyLimit = 1 << 20;

// `{"error":{"code":...,"message":...}}`, the shape every non-Influx route answers errors in.
std::string ErrorJson(std::string_view code, std::string_view message);
Response MakeResponse(const Request& req, bhttp::status status, std::string body,
                      std::string_view content_type = "application/json");

// Answers a request whose Content-Length or body exceeded the route's limit.
Response TooLarge(const Request& req, size_t limit);

// POST /write, POST /api/v2/write and GET|HEAD /ping.
enum class InfluxApi { kV1, kV2 };
Response HandleInfluxWrite(const Request& req, const Services& services, InfluxApi api);
Response HandlePing(const Request& req);
// POST /api/v1/write: Prometheus remote write, with a write token.
Response HandleRemoteWrite(const Request& req, const Services& services);
class Api;
// GET /metrics
Response HandleMetrics(const Request& req, const Services& services, const Api& api);
// POST /api/v1/tenants/{tenant}/readings, the caller already authorised for `tenant`.
Response HandleReadings(const Request& req, const Services& services, storage::TenantId tenant);

}  // namespace foresight::http
