// The raw TCP line-protocol listener: one io_uring event loop on its own thread.
//
// Shape: multishot accept; per connection one multishot recv that picks buffers from a
// registered provided-buffer ring (liburing 2.3 has no io_uring_setup_buf_ring, so the ring
// memory is mmap'ed and registered by hand). Each completion's bytes are split at the last
// newline: complete lines are copied into a per-tenant batch, the tail into the connection's
// carry buffer, and the buffer goes straight back to the ring. After each round of completions
// every tenant's batch is stored with one Ingestor call, so concurrent connections share one
// WAL write and one fsync. While that call blocks, unread data waits in the kernel; when the
// provided buffers run out the kernel ends the multishot recv with ENOBUFS, which we count and
// answer by re-arming once buffers are back: TCP flow control is the back-pressure.
#include "ingest/ingest.h"
#include "storage/log.h"

#include <liburing.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace foresight::ingest {
namespace {

constexpr uint16_t kBufferGroup = 0;
constexpr unsigned kRingEntries = 256;
constexpr unsigned kCqEntries = 8192;
constexpr size_t kMaxLoggedRejectionsPerConnection = 10;

enum Op : uint64_t { kAccept = 1, kRecv = 2, kWake = 3 };

uint64_t Encode(Op op, uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | (static_cast<uint64_t>(slot) << 8) | op;
}
Op DecodeOp(uint64_t data) { return static_cast<Op>(data & 0xff); }
uint32_t DecodeSlot(uint64_t data) { return static_cast<uint32_t>(data >> 8) & 0xffffff; }
uint32_t DecodeGeneration(uint64_t data) { return static_cast<uint32_t>(data >> 32); }

struct Connection {
  int fd = -1;
  uint32_t generation = 0;
  bool authenticated = false;
  bool closing = false;
  bool discarding = false;  // dropping an over-long line up to its newline
  bool needs_rearm = false;
  storage::TenantId tenant = 0;
  std::string carry;  // a partial line waiting for its newline
  std::string peer;
  uint64_t lines_seen = 0;  // complete lines handed to ingest, for line numbers in logs
  uint64_t rejected = 0;
};

// Complete lines of one tenant gathered in one round, with the connection each came from.
struct Pending {
  std::string text;
  struct Region {
    uint32_t slot;
    uint32_t generation;
    uint32_t first_line;  // 1-based within text
    uint32_t lines;
  };
  std::vector<Region> regions;
  uint32_t lines = 0;
};

class UringListener final : public TcpListener {
 public:
  UringListener(const TcpOptions& options, Ingestor* ingestor, const TokenVerifier* verifier)
      : options_(options), ingestor_(ingestor), verifier_(verifier) {}
  ~UringListener() override { Stop(); }

  Status Start() {
    Status s = Listen();
    if (!s.ok()) return s;
    wake_fd_ = eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0) return Status::IOError(std::string("eventfd: ") + std::strerror(errno));
    std::promise<Status> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, &ready] { Run(&ready); });
    s = started.get();
    if (!s.ok()) {
      thread_.join();
      CloseFds();
    }
    return s;
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    if (thread_.joinable()) {
      uint64_t one = 1;
      ssize_t n = write(wake_fd_, &one, sizeof one);
      (void)n;
      thread_.join();
    }
    CloseFds();
  }

  uint16_t port() const override { return port_; }

  TcpStats GetStats() const override {
    TcpStats s;
    s.connections_accepted = accepted_.load(std::memory_order_relaxed);
    s.connections_open = open_.load(std::memory_order_relaxed);
    s.bytes_received = bytes_.load(std::memory_order_relaxed);
    s.lines = lines_.load(std::memory_order_relaxed);
    s.rejected_lines = rejected_.load(std::memory_order_relaxed);
    s.auth_failures = auth_failures_.load(std::memory_order_relaxed);
    s.enobufs = enobufs_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  Status Listen() {
    std::string where = options_.host + ":" + std::to_string(options_.port);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options_.port);
    if (inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1) {
      return Status::InvalidArgument("bad TCP listen address '" + options_.host + "'");
    }
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (listen_fd_ < 0 || setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, SOMAXCONN) != 0) {
      return Status::IOError("cannot listen on " + where +
                             " (TCP line protocol): " + std::strerror(errno));
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    return Status::OK();
  }

  void CloseFds() {
    if (listen_fd_ >= 0) close(listen_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
    listen_fd_ = wake_fd_ = -1;
  }

  // The ring is created on the loop thread: SINGLE_ISSUER ties it to its creator.
  Status SetUpRing() {
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    params.cq_entries = kCqEntries;
    int rc = io_uring_queue_init_params(kRingEntries, &ring_, &params);
    if (rc == -EINVAL) {  // kernels before 6.1 lack DEFER_TASKRUN
      params = {};
      params.flags = IORING_SETUP_CQSIZE;
      params.cq_entries = kCqEntries;
      rc = io_uring_queue_init_params(kRingEntries, &ring_, &params);
    }
    if (rc < 0) {
      return Status::FailedPrecondition(
          std::string("io_uring is unavailable (") + std::strerror(-rc) +
          "): the TCP line-protocol listener needs it. Check /proc/sys/kernel/io_uring_disabled "
          "and the container's seccomp profile (deploy/seccomp.json allows io_uring), or leave "
          "ingest.tcp_listen empty to run without TCP ingest");
    }
    ring_ready_ = true;
    if (options_.buffer_count == 0 || (options_.buffer_count & (options_.buffer_count - 1)) != 0 ||
        options_.buffer_count > 32768) {
      return Status::InvalidArgument("TCP buffer count must be a power of two up to 32768");
    }
    size_t ring_bytes = options_.buffer_count * sizeof(io_uring_buf);
    void* mem =
        mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return Status::IOError(std::string("mmap: ") + std::strerror(errno));
    buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
    buf_ring_bytes_ = ring_bytes;
    io_uring_buf_ring_init(buf_ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(buf_ring_);
    reg.ring_entries = options_.buffer_count;
    reg.bgid = kBufferGroup;
    rc = io_uring_register_buf_ring(&ring_, &reg, 0);
    if (rc < 0) {
      return Status::FailedPrecondition(std::string("io_uring provided-buffer rings are "
                                                    "unavailable (kernel 5.19+ needed): ") +
                                        std::strerror(-rc));
    }
    buffers_.resize(size_t{options_.buffer_count} * options_.buffer_bytes);
    for (uint32_t i = 0; i < options_.buffer_count; ++i) AddBuffer(i);
    io_uring_buf_ring_advance(buf_ring_, pending_buffers_);
    pending_buffers_ = 0;
    return Status::OK();
  }

  void AddBuffer(uint32_t bid) {
    io_uring_buf_ring_add(buf_ring_, buffers_.data() + size_t{bid} * options_.buffer_bytes,
                          options_.buffer_bytes, static_cast<unsigned short>(bid),
                          io_uring_buf_ring_mask(options_.buffer_count), pending_buffers_++);
  }

  io_uring_sqe* Sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void ArmAccept() {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, Encode(kAccept, 0, 0));
  }

  void ArmWake() {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
    io_uring_sqe_set_data64(sqe, Encode(kWake, 0, 0));
  }

  void ArmRecv(uint32_t slot) {
    Connection& c = conns_[slot];
    io_uring_sqe* sqe = Sqe();
    // A positive length caps each delivery, so one fire-hose client cannot starve the rest.
    io_uring_prep_recv_multishot(sqe, c.fd, nullptr, options_.buffer_bytes, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(sqe, Encode(kRecv, slot, c.generation));
    c.needs_rearm = false;
  }

  void Run(std::promise<Status>* ready) {
    Status s = SetUpRing();
    if (!s.ok()) {
      if (buf_ring_) munmap(buf_ring_, buf_ring_bytes_);
      if (ring_ready_) io_uring_queue_exit(&ring_);
      ready->set_value(std::move(s));
      return;
    }
    ArmAccept();
    ArmWake();
    io_uring_submit(&ring_);
    ready->set_value(Status::OK());
    try {
      Loop();
    } catch (const std::exception& e) {
      log::Error("tcp ingest: event loop stopped: {}", e.what());
    }
    for (uint32_t slot = 0; slot < conns_.size(); ++slot) {
      if (conns_[slot].fd >= 0) close(conns_[slot].fd);
    }
    conns_.clear();
    open_.store(0);
    io_uring_queue_exit(&ring_);
    munmap(buf_ring_, buf_ring_bytes_);
  }

  void Loop() {
    bool running = true;
    while (running) {
      int rc = io_uring_submit_and_wait(&ring_, 1);
      if (rc < 0 && rc != -EINTR && rc != -ETIME) {
        log::Error("tcp ingest: io_uring_submit_and_wait: {}", std::strerror(-rc));
        return;
      }
      io_uring_cqe* cqe;
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        if (!Handle(cqe)) running = false;
      }
      io_uring_cq_advance(&ring_, seen);
      if (pending_buffers_ > 0) {
        io_uring_buf_ring_advance(buf_ring_, pending_buffers_);
        pending_buffers_ = 0;
      }
      Flush();
      for (uint32_t slot : rearm_) {
        if (slot < conns_.size() && conns_[slot].fd >= 0 && conns_[slot].needs_rearm) ArmRecv(slot);
      }
      rearm_.clear();
    }
  }

  // Returns false when the loop should stop.
  bool Handle(io_uring_cqe* cqe) {
    uint64_t data = io_uring_cqe_get_data64(cqe);
    switch (DecodeOp(data)) {
      case kWake:
        return false;
      case kAccept:
        if (cqe->res >= 0) {
          OnAccept(cqe->res);
        } else if (cqe->res != -ECANCELED) {
          log::Warn("tcp ingest: accept: {}", std::strerror(-cqe->res));
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) ArmAccept();
        return true;
      case kRecv:
        OnRecv(cqe, DecodeSlot(data), DecodeGeneration(data));
        return true;
    }
    return true;
  }

  void OnAccept(int fd) {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(conns_.size());
      conns_.emplace_back();
    }
    Connection& c = conns_[slot];
    uint32_t generation = c.generation + 1;
    c = Connection();
    c.fd = fd;
    c.generation = generation;
    if (options_.bound_tenant) {
      c.authenticated = true;
      c.tenant = *options_.bound_tenant;
    }
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    char text[INET_ADDRSTRLEN] = "?";
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
      inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
    }
    c.peer = std::string(text) + ":" + std::to_string(ntohs(peer.sin_port));
    accepted_.fetch_add(1, std::memory_order_relaxed);
    open_.fetch_add(1, std::memory_order_relaxed);
    ArmRecv(slot);
  }

  void Close(uint32_t slot) {
    Connection& c = conns_[slot];
    if (c.fd < 0) return;
    close(c.fd);
    c.fd = -1;
    c.carry.clear();
    c.carry.shrink_to_fit();
    free_.push_back(slot);
    open_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Shuts a connection down; its recv completes and the slot is freed there.
  void Drop(uint32_t slot) {
    conns_[slot].closing = true;
    shutdown(conns_[slot].fd, SHUT_RDWR);
  }

  void OnRecv(io_uring_cqe* cqe, uint32_t slot, uint32_t generation) {
    bool has_buffer = cqe->flags & IORING_CQE_F_BUFFER;
    uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    bool live =
        slot < conns_.size() && conns_[slot].fd >= 0 && conns_[slot].generation == generation;
    if (live && cqe->res > 0 && has_buffer && !conns_[slot].closing) {
      bytes_.fetch_add(static_cast<uint64_t>(cqe->res), std::memory_order_relaxed);
      Consume(slot, std::string_view(buffers_.data() + size_t{bid} * options_.buffer_bytes,
                                     static_cast<size_t>(cqe->res)));
    }
    if (has_buffer) AddBuffer(bid);  // the bytes were copied out above
    if (!live) return;
    if (cqe->res == -ENOBUFS) {
      enobufs_.fetch_add(1, std::memory_order_relaxed);
      conns_[slot].needs_rearm = true;
      rearm_.push_back(slot);
      return;
    }
    if (cqe->res <= 0 || conns_[slot].closing) {
      if (!(cqe->flags & IORING_CQE_F_MORE)) {
        Close(slot);
      } else if (!conns_[slot].closing) {
        Drop(slot);
      }
      return;
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
      conns_[slot].needs_rearm = true;
      rearm_.push_back(slot);
    }
  }

  // Splits received bytes into complete lines (to the tenant's pending batch) and a carry.
  void Consume(uint32_t slot, std::string_view data) {
    Connection& c = conns_[slot];
    const size_t max_line = ingestor_->options().limits.max_line_bytes;
    if (c.discarding) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) return;
      data.remove_prefix(nl + 1);
      c.discarding = false;
    }
    size_t last_nl = data.rfind('\n');
    if (last_nl == std::string_view::npos) {
      if (c.carry.size() + data.size() > max_line) return DiscardLongLine(slot);
      c.carry.append(data);
      return;
    }
    std::string_view complete = data.substr(0, last_nl + 1);
    std::string_view tail = data.substr(last_nl + 1);
    if (!c.authenticated) {
      // The first line must be "# token <token>".
      std::string first = c.carry;
      size_t nl = complete.find('\n');
      first.append(complete.substr(0, nl));
      if (!first.empty() && first.back() == '\r') first.pop_back();
      c.carry.clear();
      complete.remove_prefix(nl + 1);
      if (!Authenticate(slot, first)) return;
    }
    if (!complete.empty() || !c.carry.empty()) {
      Pending& p = pending_[c.tenant];
      uint32_t first_line = p.lines + 1;
      uint32_t n = static_cast<uint32_t>(std::count(complete.begin(), complete.end(), '\n'));
      p.text.append(c.carry);
      p.text.append(complete);
      p.lines += n;
      p.regions.push_back({slot, c.generation, first_line, n});
      c.carry.clear();
    }
    if (tail.size() > max_line) return DiscardLongLine(slot);
    c.carry.assign(tail);
  }

  void DiscardLongLine(uint32_t slot) {
    Connection& c = conns_[slot];
    c.carry.clear();
    c.discarding = true;
    ++c.rejected;
    rejected_.fetch_add(1, std::memory_order_relaxed);
    log::Warn("tcp ingest: {}: dropped a line longer than {} bytes", c.peer,
              ingestor_->options().limits.max_line_bytes);
  }

  bool Authenticate(uint32_t slot, std::string_view line) {
    Connection& c = conns_[slot];
    constexpr std::string_view kPrefix = "# token ";
    Result<storage::TenantId> tenant = Status::NotFound("no token line");
    if (line.starts_with(kPrefix)) tenant = verifier_->Verify(line.substr(kPrefix.size()));
    if (!tenant.ok()) {
      auth_failures_.fetch_add(1, std::memory_order_relaxed);
      log::Warn(
          "tcp ingest: {}: closing: the first line must be '# token <token>' with a valid write "
          "token ({})",
          c.peer, tenant.status().message());
      Drop(slot);
      return false;
    }
    c.authenticated = true;
    c.tenant = *tenant;
    return true;
  }

  void Flush() {
    for (auto& [tenant, p] : pending_) {
      if (p.text.empty()) continue;
      // In pieces of about max_write_bytes, cut at line ends: a round can hold the whole buffer
      // pool, and one append of it would hold all its parsed samples at once.
      const size_t max_write = std::max<size_t>(options_.max_write_bytes, 1);
      auto region = p.regions.begin();
      uint32_t lines_before = 0;  // in the pieces already stored
      for (size_t begin = 0; begin < p.text.size();) {
        size_t end = p.text.size();
        if (end - begin > max_write) {
          end = p.text.find('\n', begin + max_write - 1);
          end = end == std::string::npos ? p.text.size() : end + 1;
        }
        const std::string_view piece(p.text.data() + begin, end - begin);
        begin = end;
        WriteReport report = ingestor_->WriteLineProtocol(tenant, piece, options_.precision,
                                                          ingestor_->clock().NowNs());
        if (!report.status.ok()) {
          log::Error("tcp ingest: storing {} lines failed: {}", report.lines,
                     report.status.ToString());
        }
        lines_.fetch_add(report.lines, std::memory_order_relaxed);
        rejected_.fetch_add(report.rejected.size(), std::memory_order_relaxed);
        for (const Rejection& r : report.rejected) {
          const uint32_t line = lines_before + r.line;  // 1-based within p.text
          while (region != p.regions.end() && line >= region->first_line + region->lines) {
            ++region;
          }
          if (region == p.regions.end()) break;
          if (region->slot >= conns_.size() ||
              conns_[region->slot].generation != region->generation) {
            continue;
          }
          Connection& c = conns_[region->slot];
          if (c.rejected++ < kMaxLoggedRejectionsPerConnection) {
            log::Warn("tcp ingest: {}: line {}: column {}: {}", c.peer,
                      c.lines_seen + (line - region->first_line) + 1, r.column, r.reason);
          }
        }
        lines_before += static_cast<uint32_t>(std::count(piece.begin(), piece.end(), '\n'));
      }
      for (const auto& r : p.regions) {
        if (r.slot < conns_.size() && conns_[r.slot].generation == r.generation) {
          conns_[r.slot].lines_seen += r.lines;
        }
      }
      p.text.clear();
      p.regions.clear();
      p.lines = 0;
    }
  }

  TcpOptions options_;
  Ingestor* ingestor_;
  const TokenVerifier* verifier_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  uint64_t wake_value_ = 0;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopped_{false};

  // Loop-thread state.
  io_uring ring_{};
  bool ring_ready_ = false;
  io_uring_buf_ring* buf_ring_ = nullptr;
  size_t buf_ring_bytes_ = 0;
  std::vector<char> buffers_;
  int pending_buffers_ = 0;  // buffers added since the last advance
  std::vector<Connection> conns_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> rearm_;
  std::unordered_map<storage::TenantId, Pending> pending_;

  std::atomic<uint64_t> accepted_{0}, open_{0}, bytes_{0}, lines_{0}, rejected_{0},
      auth_failures_{0}, enobufs_{0};
};

}  // namespace

Result<std::unique_ptr<TcpListener>> TcpListener::Start(const TcpOptions& options,
                                                        Ingestor* ingestor,
                                                        const TokenVerifier* verifier) {
  auto listener = std::make_unique<UringListener>(options, ingestor, verifier);
  Status s = listener->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<TcpListener>(std::move(listener));
}

}  // namespace foresight::ingest
