#include "storage/log.h"

#include "storage/sync.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace foresight::log {
namespace detail {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
}  // namespace detail

namespace {

// Formats a record as one JSON object; spdlog's pattern flags cannot escape the message.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto ts = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch());
    time_t secs = static_cast<time_t>(ts.count() / 1000000);
    std::tm tm;
    gmtime_r(&secs, &tm);
    fmt::format_to(std::back_inserter(dest),
                   "{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z\",\"level\":\"{}\","
                   "\"msg\":\"",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.count() % 1000000, spdlog::level::to_string_view(msg.level));
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"':
          dest.append(std::string_view("\\\""));
          break;
        case '\\':
          dest.append(std::string_view("\\\\"));
          break;
        case '\n':
          dest.append(std::string_view("\\n"));
          break;
        case '\r':
          dest.append(std::string_view("\\r"));
          break;
        case '\t':
          dest.append(std::string_view("\\t"));
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            fmt::format_to(std::back_inserter(dest), "\\u{:04x}", static_cast<int>(c));
          } else {
            dest.push_back(c);
          }
      }
    }
    dest.append(std::string_view("\"}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::shared_ptr<spdlog::logger> MakeLogger(Format format) {
  auto logger = std::make_shared<spdlog::logger>("foresight",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == Format::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::trace);  // filtering happens in Enabled()
  return logger;
}

Mutex g_mu;
std::shared_ptr<spdlog::logger> g_logger FORESIGHT_GUARDED_BY(g_mu);

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      break;
  }
  return spdlog::level::off;
}

}  // namespace

bool ParseLevel(std::string_view text, Level* level) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {{"debug", Level::kDebug},
                                                                  {"info", Level::kInfo},
                                                                  {"warn", Level::kWarn},
                                                                  {"error", Level::kError},
                                                                  {"off", Level::kOff}};
  for (const auto& [name, value] : kNames) {
    if (text == name) {
      *level = value;
      return true;
    }
  }
  return false;
}

bool ParseFormat(std::string_view text, Format* format) {
  if (text == "text") {
    *format = Format::kText;
  } else if (text == "json") {
    *format = Format::kJson;
  } else {
    return false;
  }
  return true;
}

void Init(Level level, Format format) {
  auto logger = MakeLogger(format);
  MutexLock l(&g_mu);
  g_logger = std::move(logger);
  detail::g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

namespace detail {
void Write(Level level, std::string_view message) {
  std::shared_ptr<spdlog::logger> logger;
  {
    MutexLock l(&g_mu);
    if (!g_logger) g_logger = MakeLogger(Format::kText);
    logger = g_logger;
  }
  logger->log(ToSpdlog(level), message);
}
}  // namespace detail

}  // namespace foresight::log
