#include "core/models/clip_text_config.h"

#include "core/common/error.h"
#include "core/io/read_file.h"
#include "core/models/clip_config_fields.h"
#include "core/models/config_reader.h"

namespace respo::models {

void readClipTowerFields(const ConfigReader& r, ClipTowerFields& f) {
  f.hiddenSize = r.integer("hidden_size", f.hiddenSize, 1, 16384);
  f.intermediateSize = r.integer("intermediate_size", f.intermediateSize, 1, 65536);
  f.layers = r.integer("num_hidden_layers", f.layers, 1, 128);
  f.heads = r.integer("num_attention_heads", f.heads, 1, 512);
  f.activation = r.text("hidden_act", f.activation);
  f.layerNormEps = r.real("layer_norm_eps", f.layerNormEps, 1e-12, 1.0);
  if (f.activation != "quick_gelu" && f.activation != "gelu")
    r.fail("hidden_act '" + f.activation.substr(0, 40) + "' is not supported (quick_gelu or gelu)");
  if (f.hiddenSize % f.heads != 0)
    r.fail("hidden_size " + std::to_string(f.hiddenSize) + " is not divisible into " + std::to_string(f.heads) +
           " heads");
}

ClipTextConfig ClipTextConfig::fromJson(const nlohmann::json& json, const std::string& where) {
  const ConfigReader r(json, where);
  ClipTextConfig c;
  c.vocabSize = r.integer("vocab_size", c.vocabSize, 2, 1'000'000);
  ClipTowerFields tower{c.hiddenSize, c.intermediateSize, c.layers, c.heads, c.activation, c.layerNormEps};
  readClipTowerFields(r, tower);
  c.hiddenSize = tower.hiddenSize, c.intermediateSize = tower.intermediateSize, c.layers = tower.layers;
  c.heads = tower.heads, c.activation = tower.activation, c.layerNormEps = tower.layerNormEps;
  c.maxPositions = r.integer("max_position_embeddings", c.maxPositions, 2, 4096);
  c.eosTokenId = r.integer("eos_token_id", c.eosTokenId, 0, c.vocabSize - 1);
  c.projectionDim = 0;
  for (const auto& a : r.texts("architectures", {}, 16))
    if (a == "CLIPTextModelWithProjection") c.projectionDim = r.integer("projection_dim", 768, 1, 16384);
  return c;
}

ClipTextConfig ClipTextConfig::fromFile(const std::filesystem::path& path) {
  return fromJson(io::readJsonFile(path), path.string());
}

std::uint64_t ClipTextConfig::minimumParameters() const {
  const std::uint64_t hidden = static_cast<std::uint64_t>(hiddenSize);
  return static_cast<std::uint64_t>(vocabSize) * hidden + static_cast<std::uint64_t>(layers) * 4 * hidden * hidden;
}

}  // namespace respo::models
