// Blocking clients for the commands that push data into a FORESIGHT (simulate, loadgen, the
// demo): HTTP/1.1 with keep-alive, and raw TCP line protocol. Private to tools/.
//
// Threading: each object is used by one thread at a time.
#pragma once

#include "storage/json.h"
#include "storage/storage.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace foresight::tools {

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

// "http://host:port[/…]", "host:port" or "[v6]:port"; `default_port` when none is given.
Result<Endpoint> ParseEndpoint(std::string_view text, uint16_t default_port);

class HttpClient {
 public:
  explicit HttpClient(Endpoint endpoint);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  struct Response {
    int status = 0;
    std::string body;
  };
  // One request on the kept-alive connection; reconnects once when the server had closed it.
  // `authorization` is the whole header value ("Bearer …", "Token …"), empty for none.
  Result<Response> Send(std::string_view method, std::string_view target, std::string_view body,
                        std::string_view content_type = {}, std::string_view authorization = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A tenant's REST API as one client sees it: signs in with client credentials, then makes
// calls below /api/v1/tenants/<tenant>, signing in again once when the token has expired.
class ApiSession {
 public:
  // `http` is borrowed and must outlive the session.
  ApiSession(HttpClient* http, std::string tenant, std::string client_id, std::string secret)
      : http_(http),
        tenant_(std::move(tenant)),
        client_id_(std::move(client_id)),
        secret_(std::move(secret)) {}
  Status SignIn();
  Result<HttpClient::Response> Call(std::string_view method, std::string_view path,
                                    std::string_view body,
                                    std::string_view content_type = "application/json");

 private:
  HttpClient* const http_;
  const std::string tenant_, client_id_, secret_;
  std::string bearer_;
};

// "<what>: HTTP <status> <the start of the body>", an IOError.
Status Refused(std::string_view what, const HttpClient::Response& r);

// Line protocol over the raw TCP listener; authenticates with a `# token` first line.
class TcpSender {
 public:
  static Result<std::unique_ptr<TcpSender>> Connect(const Endpoint& endpoint,
                                                    std::string_view token);
  ~TcpSender();
  TcpSender(const TcpSender&) = delete;
  TcpSender& operator=(const TcpSender&) = delete;

  Status Send(std::string_view bytes);
  // Half-closes and waits for the server to close: every byte sent has been read by then.
  Status Finish();

 private:
  struct Impl;
  explicit TcpSender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace foresight::tools
