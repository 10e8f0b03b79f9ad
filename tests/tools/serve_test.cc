// The real `foresight` binary, started as a user would, answering over a real socket.
#include "tests/test_util.h"
#include "tests/tools/process.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace foresight {
namespace {
using namespace foresight::testing;

TEST(ServeCommand, ServesHealthAndReadinessAndStopsCleanlyOnSigterm) {
  testing::TempDir dir;
  Child c = Spawn(
      {"serve", "--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0", "--fsync", "never"});
  char line[512] = {};
  ASSERT_NE(fgets(line, sizeof line, c.out), nullptr) << ReadAll(c.err);
  uint16_t port = PortFrom(line);
  ASSERT_NE(port, 0) << line;
  EXPECT_NE(std::string(line).find(dir.Sub("data")), std::string::npos) << line;

  auto health = Get(port, "/health");
  EXPECT_EQ(health.result_int(), 200);
  EXPECT_EQ(health.body(), "{\"status\":\"ok\"}");
  EXPECT_EQ(Get(port, "/ready").result_int(), 200);
  auto missing = Get(port, "/nope");
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_NE(missing.body().find("\"error\""), std::string::npos);

  kill(c.pid, SIGTERM);
  EXPECT_EQ(Wait(c), 0) << ReadAll(c.err);
}

// The lines a server prints as it starts, up to and including the first that holds `last`.
std::string StartupUntil(const Child& c, const std::string& last) {
  std::string printed;
  char line[512];
  while (fgets(line, sizeof line, c.out) != nullptr) {
    printed += line;
    if (std::string(line).find(last) != std::string::npos) break;
  }
  return printed;
}

TEST(ServeCommand, SaysHowToMakeTheFirstAdminUntilSomeoneCanSignIn) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  const std::vector<std::string> serve = {"serve",       "--data-dir", data,   "--listen",
                                          "127.0.0.1:0", "--fsync",    "never"};
  Child empty = Spawn(serve);
  std::string printed = StartupUntil(empty, "--demo");
  EXPECT_NE(
      printed.find("user create --tenant <name> --username <you> --role admin --data-dir " + data),
      std::string::npos)
      << printed;
  kill(empty.pid, SIGTERM);
  ASSERT_EQ(Wait(empty), 0) << ReadAll(empty.err);

  ASSERT_EQ(Foresight({"user", "create", "--tenant", "acme", "--username", "ana", "--role", "admin",
                       "--data-dir", data})
                .code,
            0);
  Child ready = Spawn(serve);
  printed = StartupUntil(ready, "sign in");
  const uint16_t port = PortFrom(printed);
  EXPECT_NE(
      printed.find("sign in: the dashboard at http://127.0.0.1:" + std::to_string(port) + "/"),
      std::string::npos)
      << printed;
  EXPECT_EQ(printed.find("no sign-in"), std::string::npos) << printed;
  kill(ready.pid, SIGTERM);
  EXPECT_EQ(Wait(ready), 0) << ReadAll(ready.err);
}

TEST(ServeCommand, AnswersAMalformedRequestWith400AndKeepsServing) {
  testing::TempDir dir;
  Child c = Spawn({"serve", "--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0"});
  char line[512] = {};
  ASSERT_NE(fgets(line, sizeof line, c.out), nullptr) << ReadAll(c.err);
  uint16_t port = PortFrom(line);
  ASSERT_NE(port, 0) << line;
  {
    boost::asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    std::string garbage = "THIS IS NOT HTTP\r\n\r\n";
    boost::asio::write(s, boost::asio::buffer(garbage));
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    beast::error_code ec;
    bhttp::read(s, buffer, res, ec);
    EXPECT_EQ(res.result_int(), 400);
  }
  EXPECT_EQ(Get(port, "/health").result_int(), 200);
  kill(c.pid, SIGTERM);
  EXPECT_EQ(Wait(c), 0);
}

TEST(ServeCommand, RefusesABadDataDirectoryWithAClearMessage) {
  testing::TempDir dir;
  Child c =
      Spawn({"serve", "--data-dir", dir.Sub("missing/parent/data"), "--listen", "127.0.0.1:0"});
  std::string err = ReadAll(c.err);
  EXPECT_EQ(Wait(c), 1);
  EXPECT_NE(err.find(dir.Sub("missing/parent/data")), std::string::npos) << err;
  EXPECT_NE(err.find("parent"), std::string::npos) << err;
}

TEST(ServeCommand, RefusesABadSettingBeforeTouchingAnything) {
  Child c = Spawn({"serve", "--fsync", "sometimes"});
  std::string err = ReadAll(c.err);
  EXPECT_EQ(Wait(c), 1);
  EXPECT_NE(err.find("sometimes"), std::string::npos) << err;
}

TEST(ServeCommand, HelpListsEverySettingWithItsEnvironmentVariable) {
  Child c = Spawn({"serve", "--help"});
  std::string out = ReadAll(c.out);
  EXPECT_EQ(Wait(c), 0);
  for (const char* s : {"--data-dir", "FORESIGHT_DATA_DIR", "--fsync", "FORESIGHT_STORAGE_FSYNC",
                        "--listen", "--log-format"}) {
    EXPECT_NE(out.find(s), std::string::npos) << s << " missing from:\n" << out;
  }
}

TEST(AdminCommands, ManageTenantsClientsAndTokensThenBackUpAndRestore) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  EXPECT_EQ(Foresight({"tenant", "create", "acme", "--data-dir", data}).code, 0);
  Ran bad = Foresight({"tenant", "create", "no spaces", "--data-dir", data});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("no spaces"), std::string::npos) << bad.err;

  Ran client = Foresight({"client", "create", "--tenant", "acme", "--role", "viewer", "--client-id",
                          "acme-viewer", "--data-dir", data});
  ASSERT_EQ(client.code, 0) << client.err;
  EXPECT_EQ(Field(client.out, "client_id"), "acme-viewer");
  EXPECT_GE(Field(client.out, "client_secret").size(), 24u);
  EXPECT_EQ(Foresight({"client", "create", "--tenant", "acme", "--client-id", "acme-viewer",
                       "--data-dir", data})
                .code,
            1)
      << "client ids are unique";

  Ran token =
      Foresight({"token", "create", "--tenant", "acme", "--name", "gateway", "--data-dir", data});
  ASSERT_EQ(token.code, 0) << token.err;
  EXPECT_TRUE(Field(token.out, "token").starts_with("fst_")) << token.out;
  std::string id = Field(token.out, "id");
  EXPECT_EQ(Foresight({"token", "revoke", "--tenant", "acme", id, "--data-dir", data}).code, 0);
  EXPECT_NE(Foresight({"token", "list", "--tenant", "acme", "--data-dir", data})
                .out.find(id + "\tgateway\trevoked"),
            std::string::npos);
  EXPECT_EQ(Foresight({"token", "revoke", "--tenant", "acme", "nope", "--data-dir", data}).code, 1);

  const std::string backup = dir.Sub("backup"), restored = dir.Sub("restored");
  Ran backed = Foresight({"backup", backup, "--data-dir", data});
  ASSERT_EQ(backed.code, 0) << backed.err;
  EXPECT_EQ(Foresight({"backup", backup, "--data-dir", data}).code, 1)
      << "an existing target is refused";
  ASSERT_EQ(Foresight({"restore", backup, "--data-dir", restored}).code, 0);
  Ran tenants = Foresight({"tenant", "list", "--data-dir", restored});
  EXPECT_NE(tenants.out.find("acme\t0 assets\t1 clients"), std::string::npos) << tenants.out;
  EXPECT_NE(Foresight({"client", "list", "--tenant", "acme", "--data-dir", restored})
                .out.find("acme-viewer\tviewer"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(restored + "/jwt.key")) << "the signing key travels along";
  EXPECT_EQ(Foresight({"restore", backup, "--data-dir", restored}).code, 1) << "never over data";
}

TEST(VersionCommand, PrintsTheVersion) {
  Child c = Spawn({"version"});
  std::string out = ReadAll(c.out);
  EXPECT_EQ(Wait(c), 0);
  EXPECT_EQ(out.rfind("foresight ", 0), 0u) << out;
}

}  // namespace
}  // namespace foresight
