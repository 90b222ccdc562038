#include "core/models/unet_config.h"

#include "core/common/error.h"
#include "core/io/read_file.h"
#include "core/models/config_reader.h"

namespace respo::models {

// Ranges wide enough for every published SD model (SDXL: 1280 channels, 10 transformer layers,
// 20 heads per block; inpainting: 9 input channels), narrow enough that no config builds a model
// that exhausts memory before its weights are even looked at.
UNetConfig UNetConfig::fromJson(const nlohmann::json& json, const std::string& where) {
  const ConfigReader r(json, where);
  UNetConfig c;
  c.source = json;
  c.inChannels = r.integer("in_channels", c.inChannels, 1, 64);
  c.outChannels = r.integer("out_channels", c.outChannels, 1, 64);
  c.sampleSize = r.integer("sample_size", c.sampleSize, 1, 1024);
  c.blockOutChannels = r.integers("block_out_channels", c.blockOutChannels, 1, 8192, 8);
  c.downBlockTypes = r.texts("down_block_types", c.downBlockTypes, 8);
  c.upBlockTypes = r.texts("up_block_types", c.upBlockTypes, 8);
  const std::size_t blocks = c.blockOutChannels.size();
  if (blocks == 0) r.fail("'block_out_channels' is empty");
  if (c.downBlockTypes.size() != blocks || c.upBlockTypes.size() != blocks)
    r.fail("'down_block_types', 'up_block_types' and 'block_out_channels' must have the same length");
  if (json.contains("mid_block_type"))  // null means "no mid block"
    c.midBlockType = r.text("mid_block_type", "");
  c.layersPerBlock = r.perBlock("layers_per_block", 2, blocks, 1, 16);
  // diffusers reads num_attention_heads, falling back to attention_head_dim (a historical misnomer).
  c.attentionHeads = r.has("num_attention_heads") ? r.perBlock("num_attention_heads", 8, blocks, 1, 512)
                                                  : r.perBlock("attention_head_dim", 8, blocks, 1, 512);
  c.transformerLayers = r.perBlock("transformer_layers_per_block", 1, blocks, 1, 64);
  if (r.has("cross_attention_dim") && json["cross_attention_dim"].is_array())
    r.fail("per-block 'cross_attention_dim' is not supported");
  c.crossAttentionDim = r.integer("cross_attention_dim", c.crossAttentionDim, 1, 8192);
  c.useLinearProjection = r.boolean("use_linear_projection", c.useLinearProjection);
  c.upcastAttention = r.boolean("upcast_attention", c.upcastAttention);
  c.normGroups = r.integer("norm_num_groups", c.normGroups, 1, 1024);
  c.normEps = r.real("norm_eps", c.normEps, 1e-12, 1.0);
  c.flipSinToCos = r.boolean("flip_sin_to_cos", c.flipSinToCos);
  c.freqShift = r.real("freq_shift", c.freqShift, 0, 1);
  c.timeEmbeddingDim = r.integer("time_embedding_dim", 0, 0, 32768);
  c.additionEmbedType = r.text("addition_embed_type", "");
  c.additionTimeEmbedDim = r.integer("addition_time_embed_dim", 0, 0, 8192);
  c.projectionClassEmbeddingsInputDim = r.integer("projection_class_embeddings_input_dim", 0, 0, 65536);

  for (const auto& type : c.downBlockTypes)
    if (type != "CrossAttnDownBlock2D" && type != "DownBlock2D")
      r.fail("down block type '" + type.substr(0, 60) + "' is not supported");
  for (const auto& type : c.upBlockTypes)
    if (type != "CrossAttnUpBlock2D" && type != "UpBlock2D")
      r.fail("up block type '" + type.substr(0, 60) + "' is not supported");
  if (!c.midBlockType.empty() && c.midBlockType != "UNetMidBlock2DCrossAttn")
    r.fail("mid block type '" + c.midBlockType.substr(0, 60) + "' is not supported");
  if (!c.additionEmbedType.empty() && c.additionEmbedType != "text_time")
    r.fail("addition_embed_type '" + c.additionEmbedType.substr(0, 60) + "' is not supported");
  if (c.additionEmbedType == "text_time" && (c.additionTimeEmbedDim == 0 || c.projectionClassEmbeddingsInputDim == 0))
    r.fail("addition_embed_type 'text_time' needs addition_time_embed_dim and projection_class_embeddings_input_dim");
  for (const char* key : {"class_embed_type", "encoder_hid_dim", "time_cond_proj_dim"})
    if (r.has(key)) r.fail("'" + std::string(key) + "' is not supported");
  for (const char* key : {"dual_cross_attention", "only_cross_attention"})
    if (r.has(key) && (!json[key].is_boolean() || json[key].get<bool>()))
      r.fail("'" + std::string(key) + "' is not supported");
  if (r.text("resnet_time_scale_shift", "default") != "default") r.fail("only resnet_time_scale_shift 'default' is supported");
  if (r.text("act_fn", "silu") != "silu") r.fail("only act_fn 'silu' is supported");
  for (int ch : c.blockOutChannels)
    if (ch % c.normGroups != 0)
      r.fail("block_out_channels " + std::to_string(ch) + " is not divisible by norm_num_groups " +
             std::to_string(c.normGroups));
  if (c.blockOutChannels[0] % 2 != 0 || c.blockOutChannels[0] < 4)
    r.fail("block_out_channels[0] must be even and at least 4 (it is the timestep embedding's width)");
  for (std::size_t i = 0; i < blocks; ++i)
    if (c.blockOutChannels[i] % c.attentionHeads[i] != 0)
      r.fail("block " + std::to_string(i) + " has " + std::to_string(c.blockOutChannels[i]) +
             " channels, not divisible into " + std::to_string(c.attentionHeads[i]) + " attention heads");
  return c;
}

std::uint64_t UNetConfig::minimumParameters() const {
  // The second 3x3 convolution of every resnet alone: down blocks have layersPerBlock resnets, up
  // blocks one more, the mid block two. Every real UNet has at least these weights.
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < blockOutChannels.size(); ++i) {
    const std::uint64_t ch = static_cast<std::uint64_t>(blockOutChannels[i]);
    total += 9 * ch * ch * static_cast<std::uint64_t>(2 * layersPerBlock[i] + 1);
  }
  if (!midBlockType.empty()) {
    const std::uint64_t ch = static_cast<std::uint64_t>(blockOutChannels.back());
    total += 2 * 9 * ch * ch;
  }
  return total;
}

UNetConfig UNetConfig::fromFile(const std::filesystem::path& path) { return fromJson(io::readJsonFile(path), path.string()); }

}  // namespace respo::models
