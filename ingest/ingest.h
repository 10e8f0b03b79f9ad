// ingest/ingest.h — getting readings into FORESIGHT.
//
// Purpose: parses InfluxDB line protocol (the grammar is in ingest/LINE_PROTOCOL.md) and JSON
// readings, maps them onto the data model (tenant from the credential, asset from the asset tag,
// one series per field), resolves series through a cache, and appends to storage. Also the raw
// TCP line-protocol listener on io_uring.
//
// Threading: LineParser is one thread at a time (it owns scratch buffers). Ingestor is
// thread-safe: any number of threads may call its Write* methods concurrently; each call blocks
// until its points are durable under the storage fsync policy. TcpListener runs one io_uring
// event-loop thread of its own; Start/Stop from one thread.
//
// Ownership: the Storage passed to Ingestor must outlive it; the Ingestor passed to
// TcpListener must outlive the listener. Points handed to a PointSink borrow the parsed text
// and the parser's scratch: they are valid only during the OnPoint call.
//
// Errors: nothing throws across this header. A bad line never stops the others: the parser
// reports it (line, column, reason) and goes on; Ingestor stores every good line and returns
// the list of rejected ones. Only a storage failure fails a whole write.
//
// Cost: parsing is one pass without heap allocation per point (escaped names are unescaped
// into a reused scratch buffer). A write whose series are all cached takes one shared lock for
// the whole body and one storage Append.
#pragma once

#include "storage/storage.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::ingest {

// Units of a line's timestamp. InfluxDB 1.x also has minutes and hours.
enum class Precision : uint8_t {
  kNanoseconds,
  kMicroseconds,
  kMilliseconds,
  kSeconds,
  kMinutes,
  kHours
};
// Accepts the InfluxDB spellings: "ns" (or "n"), "us" (or "u", "µ"), "ms", "s", "m", "h".
Result<Precision> ParsePrecision(std::string_view text);
// `units` of `precision` in ns; false when that overflows or falls outside
// [storage::kMinTimestampNs, storage::kMaxTimestampNs].
bool ScaleTimestamp(int64_t units, Precision precision, int64_t* ts_ns);

// Limits on what one client may send. Each is enforced before the bytes are buffered: the HTTP
// server checks Content-Length against max_body_bytes and stops inflating at
// max_decompressed_bytes; the TCP listener drops a partial line past max_line_bytes.
struct Limits {
  size_t max_line_bytes = 1 << 20;            // default 1 MiB
  size_t max_tags = 256;                      // per point
  size_t max_fields = 1024;                   // per point
  size_t max_body_bytes = 32 << 20;           // default 32 MiB as sent
  size_t max_decompressed_bytes = 128 << 20;  // default 128 MiB after gzip
};

struct Tag {
  std::string_view key;
  std::string_view value;
};

struct Field {
  std::string_view key;
  storage::Value value;
};

// One parsed point. Every view borrows the input or the parser's scratch (see Ownership).
struct Point {
  // The measurement and tags exactly as written, escapes included ("cpu,host=a"): the same
  // text always names the same series, so it keys caches without unescaping.
  std::string_view series_text;
  std::string_view measurement;
  std::span<const Tag> tags;
  std::span<const Field> fields;
  int64_t ts_ns = 0;
  bool has_timestamp = false;
  uint32_t line = 0;  // 1-based
};

// Why a line (or a JSON reading) was not stored.
struct Rejection {
  uint32_t line = 0;    // 1-based line number, or reading index for JSON
  uint32_t column = 0;  // 1-based byte column; 0 when it does not apply
  std::string reason;
  bool operator==(const Rejection&) const = default;
};

class PointSink {
 public:
  virtual ~PointSink() = default;
  virtual void OnPoint(const Point& point) = 0;
};

class LineParser {
 public:
  explicit LineParser(const Limits& limits = {});
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  // Parses `text`: complete lines separated by LF or CRLF; the last may lack its newline.
  // Calls sink.OnPoint for each good point and appends one Rejection per bad line to
  // `rejections`; line numbers start at `first_line`. Points without a timestamp get `now_ns`.
  // Returns the number of points delivered.
  size_t Parse(std::string_view text, Precision precision, int64_t now_ns, PointSink& sink,
               std::vector<Rejection>* rejections, uint32_t first_line = 1);

 private:
  struct Impl;
  Limits limits_;
  std::vector<Tag> tags_;
  std::vector<Field> fields_;
  std::string scratch_;
};

struct IngestOptions {
  Limits limits;
  // The tag that names the asset a point belongs to. Default "asset_id".
  std::string asset_tag = "asset_id";
  // Series-id cache entries kept per tenant before the cache is cleared. Default 1 M.
  size_t max_cached_series = 1 << 20;
};

struct WriteReport {
  uint64_t lines = 0;               // points (lines or JSON readings) stored
  uint64_t values = 0;              // field values stored
  std::vector<Rejection> rejected;  // ordered by line
  // Not OK when storage failed: then nothing of this write is acknowledged.
  Status status;
};

struct IngestStats {
  uint64_t lines = 0;
  uint64_t values = 0;
  uint64_t rejected_lines = 0;
  uint64_t assets_created = 0;
};

// Sees each batch right after it became durable, on the thread that wrote it, before the write
// is answered (the live engine's rolling windows). Must be thread-safe and must not block.
using AppendObserver =
    std::function<void(storage::TenantId tenant, std::span<const storage::Sample> samples)>;

class Ingestor {
 public:
  // `storage` must outlive the Ingestor.
  Ingestor(storage::Storage* storage, IngestOptions options, AppendObserver observer = {});
  ~Ingestor();
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  // Parses a body of line protocol for `tenant` and stores every good line; returns after they
  // are durable. A line whose field has another type than its stored series is rejected whole.
  WriteReport WriteLineProtocol(storage::TenantId tenant, std::string_view body,
                                Precision precision, int64_t now_ns);

  // Stores JSON readings: one object or an array of objects of the form
  //   {"asset_id": "pump-7", "timestamp": "2026-11-22T10:00:00Z" | <number>,
  //    "measurement": "readings", "tags": {"site": "north"}, "metrics": {"temp": 71.5}}
  // where only asset_id and metrics are required; a numeric timestamp is in `precision` units.
  // A malformed document fails whole (status InvalidArgument, nothing stored); a bad reading
  // is rejected by index (1-based) and the others are stored.
  WriteReport WriteJsonReadings(storage::TenantId tenant, std::string_view body,
                                Precision precision, int64_t now_ns);

  // Stores a Prometheus remote-write request (protocol 1.0: a snappy-compressed protobuf
  // WriteRequest). Each series is the measurement named by its __name__ label, tagged with its
  // other labels, with one field, "value" (so PromQL names it as Prometheus did). Stale markers
  // are not stored. An undecodable body fails whole (InvalidArgument, nothing stored); a bad
  // series is rejected by index (1-based) and the others are stored.
  WriteReport WriteRemoteWrite(storage::TenantId tenant, std::string_view body, int64_t now_ns);

  const IngestOptions& options() const { return options_; }
  // The storage's clock: "now" for lines without a timestamp.
  const storage::Clock& clock() const;
  IngestStats GetStats() const;

 private:
  struct Impl;
  IngestOptions options_;
  std::unique_ptr<Impl> impl_;
};

struct TcpOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8094;  // 0 picks a free port (tests)
  // When set, every connection writes to this tenant without a token line (trusted networks).
  std::optional<storage::TenantId> bound_tenant;
  // Provided receive buffers: count (a power of two) and size of each.
  uint32_t buffer_count = 256;
  uint32_t buffer_bytes = 64 << 10;
  Precision precision = Precision::kNanoseconds;
  // A round of received lines is stored in appends of about this many bytes (cut at line ends),
  // so memory follows this rather than the whole buffer pool.
  size_t max_write_bytes = 1 << 20;
};

struct TcpStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;
  uint64_t bytes_received = 0;
  uint64_t lines = 0;
  uint64_t rejected_lines = 0;
  uint64_t auth_failures = 0;
  uint64_t enobufs = 0;  // receive-buffer exhaustion events (flow control)
};

// Answers a connection's `# token <token>` line with its tenant, or NotFound.
class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  virtual Result<storage::TenantId> Verify(std::string_view token) const = 0;
};

// How secrets are made and spelled, for write tokens here and sign-in in http/ (libsodium):
// bytes from the operating system's CSPRNG, lowercase hex, and base64url without padding.
std::string RandomBytes(size_t n);
std::string HexEncode(std::string_view bytes);
std::string HexDecode(std::string_view hex);  // empty when `hex` is not hex
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);  // nullopt when malformed

// The long-lived credentials machines present: today write tokens, with which sensors and
// gateways write readings (and nothing else) over TCP and HTTP. Two kinds: revocable tokens made
// by admins (the API, `foresight token`), kept per tenant as storage records of kind
// "api_token" holding only the token's SHA-256 digest (format in http/README.md), and the static
// tokens of the `auth.tokens` setting, kept in memory only. They live in ingest/, not in the web
// layer, because the TCP listener checks them; http/'s sign-in builds on them.
//
// Threading: thread-safe. Verify and Find take a shared lock; Create and Revoke write storage
// before changing memory, so a token is never honoured before it is durable nor after its
// revocation is.
class ApiTokens final : public TokenVerifier {
 public:
  // `static_tokens` is "tenant:token,..." (each token at least 16 characters of
  // [A-Za-z0-9_.~+/=-], none listed twice); their tenants are created. InvalidArgument naming
  // the setting otherwise; Corruption when a stored token does not parse. `storage` must outlive
  // the ApiTokens.
  static Result<std::unique_ptr<ApiTokens>> Open(storage::Storage* storage,
                                                 std::string_view static_tokens);
  ~ApiTokens() override;
  ApiTokens(const ApiTokens&) = delete;
  ApiTokens& operator=(const ApiTokens&) = delete;

  // What a token may do: write points (every ingest path), or read them (the query APIs and the
  // REST routes a viewer may call; what a Grafana data source is configured with). Never both.
  enum class Scope : uint8_t { kWrite, kRead };
  struct Token {
    std::string id;
    std::string name;
    int64_t created_ns = 0;
    int64_t revoked_ns = 0;  // 0 while valid
    Scope scope = Scope::kWrite;
  };
  struct NewToken {
    Token token;
    std::string secret;  // the token itself ("fst_..."), shown once
  };
  // InvalidArgument unless `name` is 1..128 bytes.
  Result<NewToken> Create(storage::TenantId tenant, std::string_view name,
                          Scope scope = Scope::kWrite);
  // NotFound for an unknown id; revoking a revoked token changes nothing.
  Status Revoke(storage::TenantId tenant, std::string_view id);
  // Every token of the tenant, revoked ones included, in id order.
  std::vector<Token> List(storage::TenantId tenant) const;

  // Whose token this is: the tenant and the token's id (empty for a static token).
  struct Holder {
    storage::TenantId tenant = 0;
    std::string tenant_name;
    std::string id;
    Scope scope = Scope::kWrite;
  };
  std::optional<Holder> Find(std::string_view token) const;
  // TokenVerifier: the tenant of a valid write token; FailedPrecondition for a read token,
  // InvalidArgument for any other.
  Result<storage::TenantId> Verify(std::string_view token) const override;

 private:
  struct Impl;
  explicit ApiTokens(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Raw TCP line protocol on io_uring. Each connection's first line must be `# token <token>`
// unless the listener is bound to a tenant. Bad lines are counted and logged; the connection
// stays open. There is no acknowledgement: a crash loses at most the bytes received but not yet
// appended (the lines of the event-loop iteration in progress plus each connection's partial
// line); every appended batch is durable under the fsync policy before the next is read.
class TcpListener {
 public:
  // Fails with FailedPrecondition naming the reason when io_uring is unavailable (kernel older
  // than 6.1, io_uring_disabled, or a seccomp profile that blocks it), and with IOError when
  // the address cannot be bound. `ingestor` and `verifier` must outlive the listener.
  static Result<std::unique_ptr<TcpListener>> Start(const TcpOptions& options, Ingestor* ingestor,
                                                    const TokenVerifier* verifier);
  virtual ~TcpListener() = default;
  // Stops accepting, closes connections and joins the thread. Idempotent.
  virtual void Stop() = 0;
  virtual uint16_t port() const = 0;
  virtual TcpStats GetStats() const = 0;

 protected:
  TcpListener() = default;
};

}  // namespace foresight::ingest
