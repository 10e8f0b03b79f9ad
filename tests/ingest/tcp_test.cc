// The io_uring TCP listener over real loopback sockets.
#include "ingest/ingest.h"
#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <cstddef>
#include <functional>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace foresight::ingest {
namespace {

constexpr char kToken[] = "tcp-token-0123456789";

using foresight::testing::Eventually;

class TcpListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = storage::Storage::Open(dir_.path(), storage::Options()).value();
    tenant_ = *storage_->CreateTenant("acme");
    tokens_ = ApiTokens::Open(storage_.get(), std::string("acme:") + kToken).value();
    Limits limits;
    limits.max_line_bytes = 100;
    IngestOptions options;
    options.limits = limits;
    ingestor_ = std::make_unique<Ingestor>(storage_.get(), options);
  }

  void StartListener(TcpOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.buffer_count = 8;
    options.buffer_bytes = 4096;
    auto listener = TcpListener::Start(options, ingestor_.get(), tokens_.get());
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(*listener);
  }

  void TearDown() override {
    if (listener_) listener_->Stop();
  }

  int Connect() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(listener_->port());
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }

  // Sends and waits until the listener has read it, so the next send is a separate read.
  void SendAndWait(int fd, std::string_view bytes) {
    uint64_t before = listener_->GetStats().bytes_received;
    ASSERT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    ASSERT_TRUE(
        Eventually([&] { return listener_->GetStats().bytes_received >= before + bytes.size(); }));
  }

  std::vector<double> Values(const std::string& field) {
    std::vector<double> out;
    for (const auto& s : storage_->ListSeries(tenant_)) {
      if (s.key.field != field) continue;
      auto points =
          storage_->ReadRaw(tenant_, s.id, storage::kMinTimestampNs, storage::kMaxTimestampNs);
      for (size_t i = 0; i < points->size(); ++i) out.push_back(points->AsDouble(i));
    }
    return out;
  }

  bool StoredLines(uint64_t n) {
    return Eventually([&] { return listener_->GetStats().lines >= n; });
  }

  foresight::testing::TempDir dir_;
  std::unique_ptr<storage::Storage> storage_;
  storage::TenantId tenant_ = 0;
  std::unique_ptr<ApiTokens> tokens_;
  std::unique_ptr<Ingestor> ingestor_;
  std::unique_ptr<TcpListener> listener_;
};

TEST_F(TcpListenerTest, StoresLinesAfterTheTokenLine) {
  StartListener();
  int fd = Connect();
  SendAndWait(fd,
              std::string("# token ") + kToken + "\nm,asset_id=a1 f=1 1\nm,asset_id=a1 f=2 2\n");
  ASSERT_TRUE(StoredLines(2));
  EXPECT_EQ(Values("f"), (std::vector<double>{1, 2}));
  EXPECT_TRUE(storage_->GetAsset(tenant_, "a1").ok());
  close(fd);
  EXPECT_TRUE(Eventually([&] { return listener_->GetStats().connections_open == 0; }));
}

TEST_F(TcpListenerTest, ReassemblesLinesSplitAtEveryByteOffset) {
  StartListener();
  const std::string text = "m,t=x f=1.5,g=2i 100\r\nm,t=x f=2.5,g=3i 200\n";
  for (size_t split = 1; split < text.size(); ++split) {
    int fd = Connect();
    SendAndWait(fd, std::string("# token ") + kToken + "\n");
    SendAndWait(fd, std::string_view(text).substr(0, split));
    SendAndWait(fd, std::string_view(text).substr(split));
    close(fd);
  }
  uint64_t want = 2 * (text.size() - 1);
  ASSERT_TRUE(StoredLines(want));
  EXPECT_EQ(listener_->GetStats().rejected_lines, 0u);
  // Every connection wrote the same two points: last write wins, two points remain.
  EXPECT_EQ(Values("f"), (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(Values("g"), (std::vector<double>{2, 3}));
}

TEST_F(TcpListenerTest, ADroppedConnectionStoresNoPartialPoint) {
  StartListener();
  int fd = Connect();
  SendAndWait(fd, std::string("# token ") + kToken + "\nm f=1 1\nm f=2");
  ASSERT_TRUE(StoredLines(1));
  close(fd);
  EXPECT_TRUE(Eventually([&] { return listener_->GetStats().connections_open == 0; }));
  // Another connection's complete line still arrives, and the orphaned "m f=2" never does.
  int fd2 = Connect();
  SendAndWait(fd2, std::string("# token ") + kToken + "\nm f=3 3\n");
  ASSERT_TRUE(StoredLines(2));
  EXPECT_EQ(Values("f"), (std::vector<double>{1, 3}));
  close(fd2);
}

TEST_F(TcpListenerTest, ClosesAConnectionWithoutAValidTokenLine) {
  StartListener();
  for (std::string first : {std::string("m f=1 1\n"), std::string("# token wrong\n")}) {
    int fd = Connect();
    ASSERT_EQ(send(fd, first.data(), first.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(first.size()));
    char c;
    EXPECT_EQ(recv(fd, &c, 1, 0), 0) << "the server closes the connection";
    close(fd);
  }
  EXPECT_EQ(listener_->GetStats().auth_failures, 2u);
  EXPECT_TRUE(storage_->ListSeries(tenant_).empty());
}

TEST_F(TcpListenerTest, CountsBadLinesAndKeepsTheConnectionOpen) {
  StartListener();
  int fd = Connect();
  SendAndWait(fd, std::string("# token ") + kToken + "\nm f= 1\nm f=1 1\n");
  ASSERT_TRUE(StoredLines(1));
  std::string too_long = "m f=1 " + std::string(200, '1') + "\n";  // limit is 100 bytes
  SendAndWait(fd, too_long.substr(0, 150));
  SendAndWait(fd, too_long.substr(150) + "m f=2 2\n");
  ASSERT_TRUE(StoredLines(2));
  EXPECT_EQ(listener_->GetStats().rejected_lines, 2u);
  EXPECT_EQ(Values("f"), (std::vector<double>{1, 2}));
  close(fd);
}

TEST_F(TcpListenerTest, StoresARoundInPiecesAndCountsTheBadLinesOfEach) {
  TcpOptions options;
  options.max_write_bytes = 50;  // a few lines per append
  StartListener(options);
  int fd = Connect();
  std::string text = std::string("# token ") + kToken + "\n";
  std::vector<double> good;
  for (int i = 1; i <= 300; ++i) {
    if (i % 10 == 0) {
      text += "m f=oops " + std::to_string(i) + "\n";
    } else {
      text += "m f=" + std::to_string(i) + " " + std::to_string(i) + "\n";
      good.push_back(i);
    }
  }
  SendAndWait(fd, text);
  // Line 300, the last bad one, is in the round's last piece.
  ASSERT_TRUE(Eventually([&] { return listener_->GetStats().rejected_lines == 30; }));
  EXPECT_EQ(Values("f"), good);
  close(fd);
}

TEST_F(TcpListenerTest, ABoundListenerNeedsNoToken) {
  TcpOptions options;
  options.bound_tenant = tenant_;
  StartListener(options);
  int fd = Connect();
  SendAndWait(fd, "m f=7 7\n");
  ASSERT_TRUE(StoredLines(1));
  EXPECT_EQ(Values("f"), std::vector<double>{7});
  close(fd);
}

TEST_F(TcpListenerTest, SurvivesMoreDataThanItsBuffersHold) {
  StartListener();  // 8 buffers of 4 KiB: this write needs many times that
  std::vector<int> fds;
  for (int c = 0; c < 4; ++c) fds.push_back(Connect());
  std::vector<std::thread> writers;
  for (int c = 0; c < 4; ++c) {
    writers.emplace_back([&, c] {
      std::string text = std::string("# token ") + kToken + "\n";
      for (int i = 0; i < 5000; ++i) {
        text +=
            "m,c=" + std::to_string(c) + " f=" + std::to_string(i) + " " + std::to_string(i) + "\n";
      }
      size_t sent = 0;
      while (sent < text.size()) {
        ssize_t n = send(fds[c], text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
        ASSERT_GT(n, 0);
        sent += static_cast<size_t>(n);
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(StoredLines(20000));
  EXPECT_EQ(Values("f").size(), 20000u);
  for (int fd : fds) close(fd);
}

TEST_F(TcpListenerTest, RefusesAnAddressInUse) {
  StartListener();
  TcpOptions options;
  options.host = "127.0.0.1";
  options.port = listener_->port();
  auto second = TcpListener::Start(options, ingestor_.get(), tokens_.get());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
}

// Makes io_uring_setup fail with EPERM in the calling thread and the threads it starts, the way a
// container's default seccomp profile does.
bool BlockIoUringInThisThread() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

TEST_F(TcpListenerTest, SaysWhyWhenSeccompBlocksIoUring) {
  // The filter stays on the thread that installs it, so a thread of its own carries it.
  Result<std::unique_ptr<TcpListener>> listener = Status::Internal("not run");
  bool blocked = false;
  std::thread([&] {
    blocked = BlockIoUringInThisThread();
    TcpOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    listener = TcpListener::Start(options, ingestor_.get(), tokens_.get());
  }).join();
  ASSERT_TRUE(blocked) << "seccomp unavailable here";
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.status().code(), Status::Code::kFailedPrecondition);
  std::string message(listener.status().message());
  EXPECT_NE(message.find("io_uring is unavailable (Operation not permitted)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("seccomp"), std::string::npos) << message;
  EXPECT_NE(message.find("ingest.tcp_listen empty"), std::string::npos) << message;
}

}  // namespace
}  // namespace foresight::ingest
