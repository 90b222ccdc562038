#pragma once
// Minimal leveled logging to stderr. Level from the RESPODIFF_LOG environment variable
// (error, warn, info, debug; default info). Logging is for diagnostics only: errors that a user
// must see travel as respo::Error, never as a log line plus a bool.
#include <sstream>
#include <string>
#include <string_view>

namespace respo::log {

enum class Level { Error = 0, Warn = 1, Info = 2, Debug = 3 };

Level threshold();
void setThreshold(Level level);
void write(Level level, std::string_view message);

template <typename... Args>
void emit(Level level, const Args&... args) {
  if (static_cast<int>(level) > static_cast<int>(threshold())) return;
  std::ostringstream out;
  (out << ... << args);
  write(level, out.str());
}

template <typename... Args> void error(const Args&... a) { emit(Level::Error, a...); }
template <typename... Args> void warn(const Args&... a) { emit(Level::Warn, a...); }
template <typename... Args> void info(const Args&... a) { emit(Level::Info, a...); }
template <typename... Args> void debug(const Args&... a) { emit(Level::Debug, a...); }

}  // namespace respo::log
