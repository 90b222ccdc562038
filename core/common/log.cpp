#include "core/common/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace respo::log {
namespace {

Level levelFromEnvironment() {
  const char* value = std::getenv("RESPODIFF_LOG");
  if (!value) return Level::Info;
  if (std::strcmp(value, "error") == 0) return Level::Error;
  if (std::strcmp(value, "warn") == 0) return Level::Warn;
  if (std::strcmp(value, "debug") == 0) return Level::Debug;
  return Level::Info;
}

std::atomic<int>& thresholdStorage() {
  static std::atomic<int> storage{static_cast<int>(levelFromEnvironment())};
  return storage;
}

const char* label(Level level) {
  switch (level) {
    case Level::Error: return "error";
    case Level::Warn: return "warning";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
  }
  return "?";
}

}  // namespace

Level threshold() { return static_cast<Level>(thresholdStorage().load()); }
void setThreshold(Level level) { thresholdStorage().store(static_cast<int>(level)); }

void write(Level level, std::string_view message) {
  static std::mutex mutex;  // whole lines from concurrent threads
  std::lock_guard lock(mutex);
  std::fprintf(stderr, "respodiff %s: %.*s\n", label(level), static_cast<int>(message.size()),
               message.data());
}

}  // namespace respo::log
