#include "core/models/unet_config.h"

#include "core/io/atomic_file.h"
#include "core/models/config_reader.h"

namespace respo::models {

UNetConfig UNetConfig::fromJson(const nlohmann::json& json, const std::string& where) {
  const ConfigReader r(json, where);
  UNetConfig c;
  c.inChannels = r.get("in_channels", c.inChannels);
  c.outChannels = r.get("out_channels", c.outChannels);
  c.sampleSize = r.get("sample_size", c.sampleSize);
  c.blockOutChannels = r.get("block_out_channels", c.blockOutChannels);
  c.downBlockTypes = r.get("down_block_types", c.downBlockTypes);
  c.upBlockTypes = r.get("up_block_types", c.upBlockTypes);
  const std::size_t blocks = c.blockOutChannels.size();
  if (blocks == 0) throw FormatError(where + ": 'block_out_channels' is empty");
  if (c.downBlockTypes.size() != blocks || c.upBlockTypes.size() != blocks)
    throw FormatError(where + ": 'down_block_types', 'up_block_types' and 'block_out_channels' must have the same length");
  if (json.contains("mid_block_type"))  // null means "no mid block"
    c.midBlockType = r.get<std::string>("mid_block_type", "");
  c.layersPerBlock = r.perBlock("layers_per_block", 2, blocks);
  // diffusers reads num_attention_heads, falling back to attention_head_dim (a historical misnomer).
  c.attentionHeads = r.has("num_attention_heads") ? r.perBlock("num_attention_heads", 8, blocks)
                                                  : r.perBlock("attention_head_dim", 8, blocks);
  c.transformerLayers = r.perBlock("transformer_layers_per_block", 1, blocks);
  if (r.has("cross_attention_dim") && json["cross_attention_dim"].is_array())
    throw FormatError(where + ": per-block 'cross_attention_dim' is not supported");
  c.crossAttentionDim = r.get("cross_attention_dim", c.crossAttentionDim);
  c.useLinearProjection = r.get("use_linear_projection", c.useLinearProjection);
  c.upcastAttention = r.get("upcast_attention", c.upcastAttention);
  c.normGroups = r.get("norm_num_groups", c.normGroups);
  c.normEps = r.get("norm_eps", c.normEps);
  c.flipSinToCos = r.get("flip_sin_to_cos", c.flipSinToCos);
  c.freqShift = r.get("freq_shift", c.freqShift);
  c.timeEmbeddingDim = r.get("time_embedding_dim", 0);
  c.additionEmbedType = r.get<std::string>("addition_embed_type", "");
  c.additionTimeEmbedDim = r.get("addition_time_embed_dim", 0);
  c.projectionClassEmbeddingsInputDim = r.get("projection_class_embeddings_input_dim", 0);

  for (const auto& type : c.downBlockTypes)
    if (type != "CrossAttnDownBlock2D" && type != "DownBlock2D")
      throw FormatError(where + ": down block type '" + type + "' is not supported");
  for (const auto& type : c.upBlockTypes)
    if (type != "CrossAttnUpBlock2D" && type != "UpBlock2D")
      throw FormatError(where + ": up block type '" + type + "' is not supported");
  if (!c.midBlockType.empty() && c.midBlockType != "UNetMidBlock2DCrossAttn")
    throw FormatError(where + ": mid block type '" + c.midBlockType + "' is not supported");
  if (!c.additionEmbedType.empty() && c.additionEmbedType != "text_time")
    throw FormatError(where + ": addition_embed_type '" + c.additionEmbedType + "' is not supported");
  for (const char* key : {"class_embed_type", "encoder_hid_dim", "time_cond_proj_dim"})
    if (r.has(key)) throw FormatError(where + ": '" + std::string(key) + "' is not supported");
  for (const char* key : {"dual_cross_attention", "only_cross_attention"})
    if (r.get(key, false)) throw FormatError(where + ": '" + std::string(key) + "' is not supported");
  if (r.get<std::string>("resnet_time_scale_shift", "default") != "default")
    throw FormatError(where + ": only resnet_time_scale_shift 'default' is supported");
  if (r.get<std::string>("act_fn", "silu") != "silu") throw FormatError(where + ": only act_fn 'silu' is supported");
  for (int ch : c.blockOutChannels)
    if (ch % c.normGroups != 0)
      throw FormatError(where + ": block_out_channels " + std::to_string(ch) + " is not divisible by norm_num_groups");
  for (std::size_t i = 0; i < blocks; ++i)
    if (c.attentionHeads[i] <= 0 || c.blockOutChannels[i] % c.attentionHeads[i] != 0)
      throw FormatError(where + ": block " + std::to_string(i) + " has " + std::to_string(c.blockOutChannels[i]) +
                        " channels, not divisible into " + std::to_string(c.attentionHeads[i]) + " attention heads");
  return c;
}

nlohmann::json readJsonFile(const std::filesystem::path& path) {
  const std::string text = io::readTextFile(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError(path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

UNetConfig UNetConfig::fromFile(const std::filesystem::path& path) { return fromJson(readJsonFile(path), path.string()); }

}  // namespace respo::models
