// The embedded dashboard: GET / and the files of http/web/dist, looked up by exact name in the
// table the build embedded (http/web_assets.h), so no path — "..", "%2e%2e", "%2f", double
// encodings, overlong UTF-8 — can reach anything else: only the names in the table match.
#include "http/api.h"
#include "http/web_assets.h"

#include <fmt/format.h>

#include <map>
#include <zlib.h>

namespace foresight::http {
namespace {

// Hashed files never change under their name; index.html names the current ones.
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";
// No inline script or style, no other origin; WebSockets back to this origin only.
constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

struct Prepared {
  const WebAsset* asset;
  std::string gzip;  // empty when compressing did not make it smaller
  std::string etag;
};

std::string Gzip(std::string_view data) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END && out.size() < data.size() ? out : std::string();
}

// FNV-1a: an ETag that stays the same across restarts for the same bytes.
std::string Etag(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return fmt::format("\"{:016x}\"", h);
}

const std::map<std::string_view, Prepared>& Files() {
  static const std::map<std::string_view, Prepared> files = [] {
    std::map<std::string_view, Prepared> m;
    for (const WebAsset& a : WebAssets())
      m.emplace(a.path, Prepared{&a, Gzip(a.data), Etag(a.data)});
    return m;
  }();
  return files;
}

bool AcceptsGzip(const Request& req) {
  std::string_view accept = Header(req, bhttp::field::accept_encoding);
  return accept.find("gzip") != std::string_view::npos;
}

}  // namespace

std::optional<Response> ServeWebFile(const Request& req, std::string_view path) {
  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) return std::nullopt;
  // The API reference is a page of the app, drawn from /openapi.json.
  if (path == "/" || path == "/docs") path = "/index.html";
  auto it = Files().find(path);
  if (it == Files().end()) return std::nullopt;
  const Prepared& f = it->second;
  const bool index = path == "/index.html";
  const bool not_modified = Header(req, bhttp::field::if_none_match) == f.etag;
  const bool gzip = !f.gzip.empty() && AcceptsGzip(req);
  Response res{not_modified ? bhttp::status::not_modified : bhttp::status::ok, req.version()};
  res.set(bhttp::field::server, "foresight");
  res.set(bhttp::field::content_type, f.asset->content_type);
  res.set(bhttp::field::etag, f.etag);
  res.set(bhttp::field::cache_control, index ? kRevalidate : kImmutable);
  res.set(bhttp::field::vary, "Accept-Encoding");
  res.set("Content-Security-Policy", kCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  if (gzip) res.set(bhttp::field::content_encoding, "gzip");
  res.keep_alive(req.keep_alive());
  const std::string_view body = gzip ? std::string_view(f.gzip) : f.asset->data;
  if (!not_modified) {
    if (req.method() == bhttp::verb::head) {
      res.content_length(body.size());
      return res;
    }
    res.body() = std::string(body);
  }
  res.prepare_payload();
  return res;
}

}  // namespace foresight::http
