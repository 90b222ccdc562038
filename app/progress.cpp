#include "app/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace respo::app {
namespace {

std::string duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

}  // namespace

Progress::Progress(bool quiet, std::FILE* out) : quiet_(quiet), terminal_(isatty(fileno(out)) != 0), out_(out) {}

void Progress::update(const std::string& label, int step, int total) {
  if (quiet_ || total <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (label != label_ || step <= 1) {
    label_ = label;
    start_ = now;
    lastTenth_ = -1;
  }
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // The first step also carries the start-up; the rate is over the steps after it.
  const double rate = step > 1 && elapsed > 0 ? (step - 1) / elapsed : 0;
  char speedText[32] = "";
  if (rate >= 1) std::snprintf(speedText, sizeof speedText, "%.1f it/s", rate);
  else if (rate > 0) std::snprintf(speedText, sizeof speedText, "%.1f s/it", 1 / rate);
  const std::string speed = speedText;
  const std::string eta = rate > 0 ? "ETA " + duration((total - step) / rate) : "";
  if (terminal_) {
    constexpr int width = 24;
    const int filled = width * step / total;
    std::fprintf(out_, "\r\033[K%s [%s%s] %d/%d  %s  %s", label.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), step, total, speed.c_str(), eta.c_str());
    if (step >= total) std::fprintf(out_, "  done in %s\n", duration(elapsed).c_str());
  } else {
    const int tenth = 10 * step / total;
    if (tenth == lastTenth_ && step < total) return;
    lastTenth_ = tenth;
    std::fprintf(out_, "%s: step %d/%d%s%s\n", label.c_str(), step, total, speed.empty() ? "" : (", " + speed).c_str(),
                 step < total && !eta.empty() ? (", " + eta).c_str() : "");
  }
  std::fflush(out_);
}

}  // namespace respo::app
