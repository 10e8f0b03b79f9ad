// Running the real `foresight` binary from tests: spawn it, read its output, talk to it.
#pragma once

#include "tests/http_request.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace foresight::testing {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = boost::asio::ip::tcp;

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;  // the child's stdout
  FILE* err = nullptr;  // the child's stderr
};

inline Child Spawn(std::vector<std::string> args) {
  int out[2], err[2];
  EXPECT_EQ(pipe(out), 0);
  EXPECT_EQ(pipe(err), 0);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]);
    close(err[0]);
    args.insert(args.begin(), FORESIGHT_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(FORESIGHT_BINARY, argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  c.out = fdopen(out[0], "r");
  c.err = fdopen(err[0], "r");
  return c;
}

inline std::string ReadAll(FILE* f) {
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

// The port in "... listening on http://127.0.0.1:PORT ...", or 0.
inline uint16_t PortFrom(const std::string& line) {
  const std::string marker = "listening on http://127.0.0.1:";
  size_t at = line.find(marker);
  if (at == std::string::npos) return 0;
  return static_cast<uint16_t>(std::atoi(line.c_str() + at + marker.size()));
}

inline int Wait(const Child& c) {
  int status = 0;
  waitpid(c.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One request to 127.0.0.1:port on a new connection.
inline bhttp::response<bhttp::string_body> Request(uint16_t port, bhttp::verb verb,
                                                   const std::string& target,
                                                   const std::string& body = {},
                                                   const std::string& authorization = {}) {
  bhttp::request<bhttp::string_body> req{verb, target, 11};
  if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
  if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  return SendRequest(port, std::move(req));
}

inline bhttp::response<bhttp::string_body> Get(uint16_t port, const std::string& target) {
  return Request(port, bhttp::verb::get, target);
}

// Runs `foresight args...` to the end: exit code, stdout, stderr.
struct Ran {
  int code;
  std::string out, err;
};
inline Ran Foresight(std::vector<std::string> args) {
  Child c = Spawn(std::move(args));
  std::string out = ReadAll(c.out), err = ReadAll(c.err);
  return {Wait(c), out, err};
}

// The value after "key:" on its own line of `text`.
inline std::string Field(const std::string& text, const std::string& key) {
  size_t at = text.find(key + ":");
  if (at == std::string::npos) return {};
  size_t start = text.find_first_not_of(' ', at + key.size() + 1);
  return text.substr(start, text.find('\n', start) - start);
}

}  // namespace foresight::testing
