#pragma once
// The published diffusers configs of SD1.5, SD2.1 (768-v) and SDXL base 1.0, used to build a model
// from a single-file checkpoint when the user gives no config folder.
#include <string>

#include <nlohmann/json.hpp>

namespace respo::pipeline {

struct BuiltinConfigs {
  nlohmann::json unet, vae, textEncoder, scheduler;
  nlohmann::json textEncoder2;  // SDXL only; null otherwise
};

// family: "sd1", "sd2" or "sdxl"; throws InvalidArgument otherwise.
BuiltinConfigs builtinConfigs(const std::string& family);

}  // namespace respo::pipeline
