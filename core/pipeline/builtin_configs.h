#pragma once
// The published diffusers configs of SD1.5 and SD2.1 (768-v), used to build a model from a
// single-file checkpoint when the user gives no config folder.
#include <string>

#include <nlohmann/json.hpp>

namespace respo::pipeline {

struct BuiltinConfigs {
  nlohmann::json unet, vae, textEncoder, scheduler;
};

// family: "sd1" or "sd2"; throws InvalidArgument otherwise.
BuiltinConfigs builtinConfigs(const std::string& family);

}  // namespace respo::pipeline
