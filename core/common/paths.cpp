#include "core/common/paths.h"

#include <cstdlib>
#include <system_error>

namespace fs = std::filesystem;

namespace respo::paths {

fs::path dataDirectory() {
  if (const char* env = std::getenv("RESPODIFF_DATA_DIR"); env && *env) return env;
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) return "share/respodiff";
  return exe.parent_path().parent_path() / "share" / "respodiff";
}

fs::path toyWorld() { return dataDirectory() / "toyworld"; }
fs::path toyModel() { return toyWorld() / "model"; }
fs::path toyClassifier() { return toyWorld() / "classifier.safetensors"; }
fs::path shippedConcepts() { return toyWorld() / "concepts"; }
fs::path clipVocabulary() { return dataDirectory() / "clip" / "bpe_simple_vocab_16e6.txt.gz"; }

fs::path userDataDirectory() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return fs::path(xdg) / "respodiff";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".local" / "share" / "respodiff";
  return fs::path(".respodiff");
}

fs::path userConcepts() { return userDataDirectory() / "concepts"; }
fs::path userLoras() { return userDataDirectory() / "loras"; }

}  // namespace respo::paths
