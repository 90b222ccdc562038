#pragma once
// AutoencoderKL's config.json, parsed once with diffusers' defaults and range-checked.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace respo::models {

struct VaeConfig {
  int inChannels = 3, outChannels = 3, latentChannels = 4;
  std::vector<int> blockOutChannels{128, 256, 512, 512};
  int layersPerBlock = 2;
  int normGroups = 32;
  double scalingFactor = 0.18215;
  std::optional<double> shiftFactor;
  bool useQuantConv = true, usePostQuantConv = true;
  int sampleSize = 512;
  // diffusers' force_upcast (default true): pipelines that honour it (SDXL's) decode in fp32 when
  // the model runs in fp16, where this VAE overflows.
  bool forceUpcast = true;

  // Throws FormatError naming `where` for malformed, out-of-range or unsupported configs.
  static VaeConfig fromJson(const nlohmann::json& json, const std::string& where = "vae/config.json");
  static VaeConfig fromFile(const std::filesystem::path& path);
  int downsamplingFactor() const { return 1 << (static_cast<int>(blockOutChannels.size()) - 1); }
  // A lower bound of the parameter count (see UNetConfig::minimumParameters).
  std::uint64_t minimumParameters() const;
};

}  // namespace respo::models
