#pragma once
// Models loaded once per test process on the device and precision of --device / --precision.
#include <filesystem>
#include <map>

#include "core/pipeline/stable_diffusion_model.h"
#include "tests/support/device_options.h"

namespace respo::testing {

inline const DeviceOptions& target() {
  static const auto options = deviceOptions();
  return options;
}

// The model in `folder` (a diffusers folder or a single file), loaded on the first call.
inline pipeline::StableDiffusionModel& targetModel(const std::filesystem::path& folder) {
  static std::map<std::filesystem::path, pipeline::StableDiffusionModel> cache;
  auto found = cache.find(folder);
  if (found == cache.end()) {
    pipeline::LoadOptions options;
    options.device = target().device;
    options.dtype = target().dtype;
    found = cache.emplace(folder, pipeline::loadStableDiffusion(folder, options)).first;
  }
  return found->second;
}

}  // namespace respo::testing
