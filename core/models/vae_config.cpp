#include "core/models/vae_config.h"

#include "core/common/error.h"
#include "core/io/read_file.h"
#include "core/models/config_reader.h"

namespace respo::models {

VaeConfig VaeConfig::fromJson(const nlohmann::json& json, const std::string& where) {
  const ConfigReader r(json, where);
  VaeConfig c;
  c.inChannels = r.integer("in_channels", c.inChannels, 1, 64);
  c.outChannels = r.integer("out_channels", c.outChannels, 1, 64);
  c.latentChannels = r.integer("latent_channels", c.latentChannels, 1, 64);
  c.blockOutChannels = r.integers("block_out_channels", c.blockOutChannels, 1, 8192, 8);
  if (c.blockOutChannels.empty()) r.fail("'block_out_channels' is empty");
  c.layersPerBlock = r.integer("layers_per_block", c.layersPerBlock, 1, 16);
  c.normGroups = r.integer("norm_num_groups", c.normGroups, 1, 1024);
  c.scalingFactor = r.real("scaling_factor", c.scalingFactor, 1e-6, 1e6);
  c.forceUpcast = r.boolean("force_upcast", c.forceUpcast);
  if (r.has("shift_factor")) c.shiftFactor = r.real("shift_factor", 0.0, -1e6, 1e6);
  c.useQuantConv = r.boolean("use_quant_conv", c.useQuantConv);
  c.usePostQuantConv = r.boolean("use_post_quant_conv", c.usePostQuantConv);
  c.sampleSize = r.integer("sample_size", c.sampleSize, 1, 16384);
  for (const auto& type : r.texts("down_block_types", {}, 8))
    if (type != "DownEncoderBlock2D") r.fail("down block type '" + type.substr(0, 60) + "' is not supported");
  for (const auto& type : r.texts("up_block_types", {}, 8))
    if (type != "UpDecoderBlock2D") r.fail("up block type '" + type.substr(0, 60) + "' is not supported");
  if (!r.boolean("mid_block_add_attention", true)) r.fail("mid_block_add_attention false is not supported");
  for (int ch : c.blockOutChannels)
    if (ch % c.normGroups != 0)
      r.fail("block_out_channels " + std::to_string(ch) + " is not divisible by norm_num_groups " +
             std::to_string(c.normGroups));
  return c;
}

VaeConfig VaeConfig::fromFile(const std::filesystem::path& path) {
  return fromJson(io::readJsonFile(path), path.string());
}

std::uint64_t VaeConfig::minimumParameters() const {
  // Encoder and decoder: the second 3x3 convolution of each of their resnets (layersPerBlock in the
  // encoder's blocks, one more in the decoder's).
  std::uint64_t total = 0;
  for (const int channels : blockOutChannels) {
    const std::uint64_t ch = static_cast<std::uint64_t>(channels);
    total += 9 * ch * ch * static_cast<std::uint64_t>(2 * layersPerBlock + 1);
  }
  return total;
}

}  // namespace respo::models
