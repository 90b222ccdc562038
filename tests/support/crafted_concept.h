#pragma once
// Concept modules made for tests without training: random RAM and SAM of the bottleneck shape of a
// given model at its native size, stamped with that model's fingerprint (or a foreign one). The
// header is torch-free so Qt tests can use it.
#include <cstdint>
#include <filesystem>
#include <string>

namespace respo::testing {

struct CraftedConcept {
  std::string name = "crafted";
  std::string group = "safety";
  bool safety = true;
  double scale = 1.0;          // standard deviation of the random RAM (SAM is a tenth of it)
  std::uint64_t seed = 7;
  bool foreignFingerprint = false;  // pretend it was trained on another model
};

void writeCraftedConcept(const std::filesystem::path& file, const std::filesystem::path& modelDir,
                         const CraftedConcept& settings);

}  // namespace respo::testing
