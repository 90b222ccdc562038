#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <exception>
#include <map>

#include "tests/support/testing.h"

namespace respo::testing {
namespace {
std::map<std::string, std::string>& options() {
  static std::map<std::string, std::string> values;
  return values;
}
int failuresInCase = 0;
}  // namespace

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

void recordFailure(const char* file, int line, const std::string& message) {
  ++failuresInCase;
  std::cout << "  " << file << ":" << line << ": " << message << "\n";
}

std::string scratchFolder(const std::string& tag) {
  static std::map<std::string, std::string> made;
  auto& folder = made[tag];
  if (folder.empty()) {
    const auto path = std::filesystem::temp_directory_path() / (tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    folder = path.string();
  }
  return folder;
}

std::string option(const std::string& name) {
  const auto found = options().find(name);
  return found == options().end() ? std::string() : found->second;
}

}  // namespace respo::testing

int main(int argc, char** argv) {
  using namespace respo::testing;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) {
      std::cerr << "unexpected argument " << argv[i] << "\n";
      return 2;
    }
    options()[argv[i] + 2] = argv[i + 1];
  }
  const std::string filter = option("filter");
  const std::string skip = option("skip");
  int passed = 0, failed = 0;
  for (const auto& test : registry()) {
    if (!filter.empty() && test.name.find(filter) == std::string::npos) continue;
    if (!skip.empty() && test.name.find(skip) != std::string::npos) continue;  // run by another CTest entry
    failuresInCase = 0;
    try {
      test.body();
    } catch (const AbortTest&) {
    } catch (const std::exception& e) {
      recordFailure(test.name.c_str(), 0, std::string("unexpected exception: ") + e.what());
    }
    if (failuresInCase == 0) {
      ++passed;
      std::cout << "PASS " << test.name << "\n";
    } else {
      ++failed;
      std::cout << "FAIL " << test.name << "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 && passed > 0 ? 0 : 1;
}
