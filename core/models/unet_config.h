#pragma once
// UNet2DConditionModel's config.json, parsed once with diffusers' defaults. One UNet class serves
// SD1.x, SD2.x, SDXL and the toy model: the config, not code branches, tells them apart.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace respo::models {

struct UNetConfig {
  int inChannels = 4, outChannels = 4;
  int sampleSize = 64;
  std::vector<int> blockOutChannels{320, 640, 1280, 1280};
  std::vector<std::string> downBlockTypes{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                          "DownBlock2D"};
  std::vector<std::string> upBlockTypes{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                        "CrossAttnUpBlock2D"};
  std::string midBlockType = "UNetMidBlock2DCrossAttn";  // "" when the config has none
  std::vector<int> layersPerBlock{2, 2, 2, 2};
  std::vector<int> attentionHeads{8, 8, 8, 8};  // per block (diffusers' attention_head_dim means heads)
  std::vector<int> transformerLayers{1, 1, 1, 1};
  int crossAttentionDim = 768;
  bool useLinearProjection = false;
  bool upcastAttention = false;
  int normGroups = 32;
  double normEps = 1e-5;
  bool flipSinToCos = true;
  double freqShift = 0;
  int timeEmbeddingDim = 0;  // 0: 4 x blockOutChannels[0]
  // SDXL's added conditioning ("text_time"): pooled text embeds + size/crop ids.
  std::string additionEmbedType;
  int additionTimeEmbedDim = 0;
  int projectionClassEmbeddingsInputDim = 0;
  // The config.json it was read from (LoRA files name layers by Stability's UNet layout, which the
  // single-file key plan derives from it).
  nlohmann::json source;

  // Throws FormatError naming `where` for malformed or unsupported configs.
  static UNetConfig fromJson(const nlohmann::json& json, const std::string& where = "unet/config.json");
  static UNetConfig fromFile(const std::filesystem::path& path);
  // A lower bound of the parameter count such a UNet has, compared with the weights on disk before
  // anything is built: a config that describes a far larger model than its weights is refused.
  std::uint64_t minimumParameters() const;
  int timeEmbedding() const { return timeEmbeddingDim > 0 ? timeEmbeddingDim : blockOutChannels[0] * 4; }
  // Latent size divided by this is the bottleneck's spatial size.
  int downsamplingFactor() const { return 1 << (static_cast<int>(blockOutChannels.size()) - 1); }
};

}  // namespace respo::models
