#pragma once
// Progress of a long step loop on stderr, as terminal users and logs each expect it: on a terminal one
// line redrawn in place with a bar, it/s and the time left; otherwise (a file, a pipe, CI) plain
// lines at every tenth of the way and at the end, never carriage returns.
#include <chrono>
#include <cstdio>
#include <string>

namespace respo::app {

class Progress {
 public:
  explicit Progress(bool quiet, std::FILE* out = stderr);
  // `step` of `total` of the run called `label` is done; a new label (or step 1) starts a new run.
  void update(const std::string& label, int step, int total);

 private:
  bool quiet_, terminal_;
  std::FILE* out_;
  std::string label_;
  int lastTenth_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace respo::app
