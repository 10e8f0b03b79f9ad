// storage/log.h — the one logging seam every module shares (spdlog stays behind it).
//
// Threading: every function is thread-safe. Init() is meant to be called once, early in main(),
// before other threads log; later calls replace the sink and format.
// Errors: logging never fails the caller; a sink that cannot write drops the line.
// Cost: a disabled level costs one relaxed atomic load; formatting happens only when enabled.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string_view>

namespace foresight::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class Format { kText, kJson };

// Parses "debug", "info", "warn", "error" or "off"; returns false for anything else.
bool ParseLevel(std::string_view text, Level* level);
// Parses "text" or "json"; returns false for anything else.
bool ParseFormat(std::string_view text, Format* format);

// Logs to stderr in `format`: text lines, or one JSON object per line with ts, level and msg.
void Init(Level level, Format format);

namespace detail {
extern std::atomic<int> g_level;
void Write(Level level, std::string_view message);
}  // namespace detail

inline bool Enabled(Level level) {
  return static_cast<int>(level) >= detail::g_level.load(std::memory_order_relaxed);
}

template <typename... Args>
void Write(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (!Enabled(level)) return;
  detail::Write(level, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void Debug(fmt::format_string<Args...> format, Args&&... args) {
  Write(Level::kDebug, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Info(fmt::format_string<Args...> format, Args&&... args) {
  Write(Level::kInfo, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Warn(fmt::format_string<Args...> format, Args&&... args) {
  Write(Level::kWarn, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Error(fmt::format_string<Args...> format, Args&&... args) {
  Write(Level::kError, format, std::forward<Args>(args)...);
}

}  // namespace foresight::log
