// AutoencoderKL <- LDM AutoencoderKL ("first_stage_model.").
//
// encoder.down.i.block.j -> encoder.down_blocks.i.resnets.j; the decoder's LDM up levels are numbered
// from the lowest resolution's opposite end: decoder.up.k is diffusers' up_blocks.(n-1-k). The mid
// attention's q/k/v/proj_out are 1x1 convolutions in LDM and linear layers in diffusers.
#include "core/models/single_file_map.h"

namespace respo::models::single_file {
namespace {

constexpr Rule kResnet[] = {
    {"norm1.weight", "norm1.weight", {In}},
    {"norm1.bias", "norm1.bias", {In}},
    {"conv1.weight", "conv1.weight", {Out, In, 3, 3}},
    {"conv1.bias", "conv1.bias", {Out}},
    {"norm2.weight", "norm2.weight", {Out}},
    {"norm2.bias", "norm2.bias", {Out}},
    {"conv2.weight", "conv2.weight", {Out, Out, 3, 3}},
    {"conv2.bias", "conv2.bias", {Out}},
};
// Only when the resnet changes the channel count.
constexpr Rule kResnetShortcut[] = {
    {"nin_shortcut.weight", "conv_shortcut.weight", {Out, In, 1, 1}},
    {"nin_shortcut.bias", "conv_shortcut.bias", {Out}},
};
constexpr Rule kAttention[] = {
    {"norm.weight", "group_norm.weight", {Out}},
    {"norm.bias", "group_norm.bias", {Out}},
    {"q.weight", "to_q.weight", {Out, Out}, Layout::Proj},
    {"q.bias", "to_q.bias", {Out}},
    {"k.weight", "to_k.weight", {Out, Out}, Layout::Proj},
    {"k.bias", "to_k.bias", {Out}},
    {"v.weight", "to_v.weight", {Out, Out}, Layout::Proj},
    {"v.bias", "to_v.bias", {Out}},
    {"proj_out.weight", "to_out.0.weight", {Out, Out}, Layout::Proj},
    {"proj_out.bias", "to_out.0.bias", {Out}},
};
constexpr Rule kConv[] = {
    {"weight", "weight", {Out, In, Kernel, Kernel}},
    {"bias", "bias", {Out}},
};
constexpr Rule kNorm[] = {
    {"weight", "weight", {In}},
    {"bias", "bias", {In}},
};

}  // namespace

Plan vaePlan(const nlohmann::json& json) {
  const Config c(json, "vae/config.json");
  const auto channels = c.integers("block_out_channels");
  const std::size_t n = channels.size();
  if (n == 0) c.fail("'block_out_channels' is empty");
  for (const auto& [key, type] : {std::pair{"down_block_types", "DownEncoderBlock2D"},
                                  std::pair{"up_block_types", "UpDecoderBlock2D"}}) {
    const auto types = c.has(key) ? c.strings(key) : std::vector<std::string>(n, type);
    if (types.size() != n)
      c.fail(std::string("'").append(key).append("' must have one entry per 'block_out_channels'"));
    for (const auto& t : types)
      if (t != type) c.fail("unsupported block type '" + t + "' in '" + key + "' (expected " + type + ")");
  }
  const std::int64_t layers = c.integer("layers_per_block", 1);
  const std::int64_t latent = c.integer("latent_channels", 4);
  const bool midAttention = c.boolean("mid_block_add_attention", true);

  Plan plan{"VAE", "first_stage_model.", {}, {}};
  // Discriminator and loss weights that some training checkpoints keep next to the autoencoder.
  plan.ignorablePrefixes.push_back(plan.ldmPrefix + "loss.");
  auto add = [&](const std::string& ldm, const std::string& diffusers, std::span<const Rule> rules,
                 std::int64_t in, std::int64_t out, std::int64_t kernel = 3) {
    Dims d;
    d.in = in;
    d.out = out;
    d.kernel = kernel;
    d.linearProj = true;
    addModule(plan, plan.ldmPrefix + ldm, diffusers, rules, d);
  };
  auto resnet = [&](const std::string& ldm, const std::string& diffusers, std::int64_t in, std::int64_t out) {
    add(ldm, diffusers, kResnet, in, out);
    if (in != out) add(ldm, diffusers, kResnetShortcut, in, out);
  };
  auto mid = [&](const std::string& part, std::int64_t width) {
    resnet(part + ".mid.block_1.", part + ".mid_block.resnets.0.", width, width);
    if (midAttention) add(part + ".mid.attn_1.", part + ".mid_block.attentions.0.", kAttention, width, width);
    resnet(part + ".mid.block_2.", part + ".mid_block.resnets.1.", width, width);
  };
  const std::int64_t last = channels.back();

  add("encoder.conv_in.", "encoder.conv_in.", kConv, c.integer("in_channels", 3), channels.front());
  std::int64_t width = channels.front();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string ldm = "encoder.down." + std::to_string(i) + ".";
    const std::string diffusers = "encoder.down_blocks." + std::to_string(i) + ".";
    for (std::int64_t j = 0; j < layers; ++j) {
      resnet(ldm + "block." + std::to_string(j) + ".", diffusers + "resnets." + std::to_string(j) + ".", width,
             channels[i]);
      width = channels[i];
    }
    if (i + 1 < n) add(ldm + "downsample.conv.", diffusers + "downsamplers.0.conv.", kConv, width, width);
  }
  mid("encoder", last);
  add("encoder.norm_out.", "encoder.conv_norm_out.", kNorm, last, last);
  add("encoder.conv_out.", "encoder.conv_out.", kConv, last, 2 * latent);  // mean and log-variance
  if (c.boolean("use_quant_conv", true)) add("quant_conv.", "quant_conv.", kConv, 2 * latent, 2 * latent, 1);
  if (c.boolean("use_post_quant_conv", true)) add("post_quant_conv.", "post_quant_conv.", kConv, latent, latent, 1);

  add("decoder.conv_in.", "decoder.conv_in.", kConv, latent, last);
  mid("decoder", last);
  width = last;
  for (std::size_t u = 0; u < n; ++u) {
    const std::size_t level = n - 1 - u;
    const std::string ldm = "decoder.up." + std::to_string(level) + ".";
    const std::string diffusers = "decoder.up_blocks." + std::to_string(u) + ".";
    for (std::int64_t j = 0; j <= layers; ++j) {
      resnet(ldm + "block." + std::to_string(j) + ".", diffusers + "resnets." + std::to_string(j) + ".", width,
             channels[level]);
      width = channels[level];
    }
    if (u + 1 < n) add(ldm + "upsample.conv.", diffusers + "upsamplers.0.conv.", kConv, width, width);
  }
  add("decoder.norm_out.", "decoder.conv_norm_out.", kNorm, channels.front(), channels.front());
  add("decoder.conv_out.", "decoder.conv_out.", kConv, channels.front(), c.integer("out_channels", 3));
  return plan;
}

}  // namespace respo::models::single_file
