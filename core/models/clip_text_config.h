#pragma once
// transformers' CLIPTextConfig (config.json of a text_encoder/), parsed once and range-checked.
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace respo::models {

struct ClipTextConfig {
  int vocabSize = 49408;
  int hiddenSize = 768;
  int intermediateSize = 3072;
  int layers = 12;
  int heads = 12;
  int maxPositions = 77;
  std::string activation = "quick_gelu";  // or "gelu"
  double layerNormEps = 1e-5;
  int eosTokenId = 2;        // 2 (legacy configs): the pooled token is the highest id (argmax)
  int projectionDim = 0;     // > 0 with a text_projection (CLIPTextModelWithProjection)

  // Throws FormatError naming `where` for malformed, out-of-range or unsupported configs.
  static ClipTextConfig fromJson(const nlohmann::json& json, const std::string& where = "text_encoder/config.json");
  static ClipTextConfig fromFile(const std::filesystem::path& path);
  // A lower bound of the parameter count: the token embedding and each layer's attention projections.
  std::uint64_t minimumParameters() const;
};

}  // namespace respo::models
