// UNet2DConditionModel <- LDM openaimodel.UNetModel ("model.diffusion_model.").
//
// LDM numbers its blocks flat: input_blocks.0 is conv_in, then for each down block b its
// layers_per_block[b] (resnet [+ transformer]) pairs, then one downsampler slot unless b is last.
// middle_block is resnet, transformer, resnet. output_blocks run through the up blocks with
// layers_per_block+1 slots each: resnet [+ transformer] [+ upsampler, in the last slot of every
// block but the last; after the transformer if there is one]. SDXL's added conditioning (pooled
// text embedding + size/crop ids, "text_time") is label_emb.0.0 / label_emb.0.2, an MLP like time_embed.
#include "core/models/single_file_map.h"

namespace respo::models::single_file {
namespace {

constexpr Rule kResnet[] = {
    {"in_layers.0.weight", "norm1.weight", {In}},
    {"in_layers.0.bias", "norm1.bias", {In}},
    {"in_layers.2.weight", "conv1.weight", {Out, In, 3, 3}},
    {"in_layers.2.bias", "conv1.bias", {Out}},
    {"emb_layers.1.weight", "time_emb_proj.weight", {Out, Emb}},
    {"emb_layers.1.bias", "time_emb_proj.bias", {Out}},
    {"out_layers.0.weight", "norm2.weight", {Out}},
    {"out_layers.0.bias", "norm2.bias", {Out}},
    {"out_layers.3.weight", "conv2.weight", {Out, Out, 3, 3}},
    {"out_layers.3.bias", "conv2.bias", {Out}},
};
// Only when the resnet changes the channel count.
constexpr Rule kResnetShortcut[] = {
    {"skip_connection.weight", "conv_shortcut.weight", {Out, In, 1, 1}},
    {"skip_connection.bias", "conv_shortcut.bias", {Out}},
};

// SpatialTransformer (LDM) and Transformer2DModel (diffusers) name their parts alike.
constexpr Rule kTransformerOuter[] = {
    {"norm.weight", "norm.weight", {Out}},
    {"norm.bias", "norm.bias", {Out}},
    {"proj_in.weight", "proj_in.weight", {Out, Out}, Layout::Proj},
    {"proj_in.bias", "proj_in.bias", {Out}},
    {"proj_out.weight", "proj_out.weight", {Out, Out}, Layout::Proj},
    {"proj_out.bias", "proj_out.bias", {Out}},
};
constexpr Rule kTransformerBlock[] = {
    {"norm1.weight", "norm1.weight", {Out}},
    {"norm1.bias", "norm1.bias", {Out}},
    {"attn1.to_q.weight", "attn1.to_q.weight", {Out, Out}},
    {"attn1.to_k.weight", "attn1.to_k.weight", {Out, Out}},
    {"attn1.to_v.weight", "attn1.to_v.weight", {Out, Out}},
    {"attn1.to_out.0.weight", "attn1.to_out.0.weight", {Out, Out}},
    {"attn1.to_out.0.bias", "attn1.to_out.0.bias", {Out}},
    {"norm2.weight", "norm2.weight", {Out}},
    {"norm2.bias", "norm2.bias", {Out}},
    {"attn2.to_q.weight", "attn2.to_q.weight", {Out, Out}},
    {"attn2.to_k.weight", "attn2.to_k.weight", {Out, Ctx}},
    {"attn2.to_v.weight", "attn2.to_v.weight", {Out, Ctx}},
    {"attn2.to_out.0.weight", "attn2.to_out.0.weight", {Out, Out}},
    {"attn2.to_out.0.bias", "attn2.to_out.0.bias", {Out}},
    {"norm3.weight", "norm3.weight", {Out}},
    {"norm3.bias", "norm3.bias", {Out}},
    {"ff.net.0.proj.weight", "ff.net.0.proj.weight", {Ff2, Out}},
    {"ff.net.0.proj.bias", "ff.net.0.proj.bias", {Ff2}},
    {"ff.net.2.weight", "ff.net.2.weight", {Out, Ff}},
    {"ff.net.2.bias", "ff.net.2.bias", {Out}},
};

// Downsampler (LDM "op") and upsampler convolutions.
constexpr Rule kDownsample[] = {
    {"op.weight", "conv.weight", {Out, Out, 3, 3}},
    {"op.bias", "conv.bias", {Out}},
};
constexpr Rule kConv[] = {
    {"weight", "weight", {Out, In, Kernel, Kernel}},
    {"bias", "bias", {Out}},
};
constexpr Rule kNorm[] = {
    {"weight", "weight", {In}},
    {"bias", "bias", {In}},
};
constexpr Rule kLinear[] = {
    {"weight", "weight", {Out, In}},
    {"bias", "bias", {Out}},
};

// Config values that would add tensors (or change their shapes) this mapping does not know.
void rejectUnsupported(const Config& c) {
  for (const char* key : {"class_embed_type", "encoder_hid_dim", "time_cond_proj_dim", "num_class_embeds"})
    if (c.has(key))
      c.fail(std::string("'").append(key).append("' is set; only plain text-to-image UNets are supported"));
  if (c.string("addition_embed_type", "text_time") != "text_time")
    c.fail("only 'addition_embed_type' \"text_time\" (SDXL) is supported");
  if (c.string("time_embedding_type", "positional") != "positional")
    c.fail("only 'time_embedding_type' \"positional\" is supported");
  if (c.string("resnet_time_scale_shift", "default") != "default")
    c.fail("only 'resnet_time_scale_shift' \"default\" is supported");
  if (c.string("mid_block_type", "UNetMidBlock2DCrossAttn") != "UNetMidBlock2DCrossAttn")
    c.fail("only 'mid_block_type' \"UNetMidBlock2DCrossAttn\" is supported");
  if (c.boolean("dual_cross_attention", false)) c.fail("'dual_cross_attention' is not supported");
  if (c.has("only_cross_attention") && !c.json["only_cross_attention"].is_boolean())
    c.fail("per-block 'only_cross_attention' is not supported");
  if (c.boolean("only_cross_attention", false)) c.fail("'only_cross_attention' is not supported");
  if (c.has("cross_attention_dim") && !c.json["cross_attention_dim"].is_number_integer())
    c.fail("'cross_attention_dim' must be one integer");
}

bool isCrossAttention(const Config& c, const std::string& type, bool down) {
  const std::string plain = down ? "DownBlock2D" : "UpBlock2D";
  if (type == "CrossAttn" + plain) return true;
  if (type == plain) return false;
  c.fail("unsupported block type '" + type + "' (expected " + plain + " or CrossAttn" + plain + ")");
}

}  // namespace

Plan unetPlan(const nlohmann::json& json) {
  const Config c(json, "unet/config.json");
  rejectUnsupported(c);
  const auto channels = c.integers("block_out_channels");
  const auto downTypes = c.strings("down_block_types");
  const auto upTypes = c.strings("up_block_types");
  const std::size_t n = channels.size();
  if (n == 0) c.fail("'block_out_channels' is empty");
  if (downTypes.size() != n || upTypes.size() != n)
    c.fail("'down_block_types', 'up_block_types' and 'block_out_channels' must have the same length");
  const auto layers = c.perBlock("layers_per_block", 2, n);
  const auto depth = c.perBlock("transformer_layers_per_block", 1, n);
  if (c.has("reverse_transformer_layers_per_block"))
    c.fail("'reverse_transformer_layers_per_block' is not supported");
  const std::int64_t c0 = channels.front();
  const std::int64_t emb = c.integer("time_embedding_dim", c0 * 4);
  Dims base;
  base.emb = emb;
  base.ctx = c.integer("cross_attention_dim", 1280);
  base.linearProj = c.boolean("use_linear_projection", false);

  Plan plan{"UNet", "model.diffusion_model.", {}, {}};
  auto add = [&](const std::string& ldm, const std::string& diffusers, std::span<const Rule> rules,
                 std::int64_t in, std::int64_t out, std::int64_t kernel = 3) {
    Dims d = base;
    d.in = in;
    d.out = out;
    d.ff = 4 * out;
    d.kernel = kernel;
    addModule(plan, plan.ldmPrefix + ldm, diffusers, rules, d);
  };
  auto resnet = [&](const std::string& ldm, const std::string& diffusers, std::int64_t in, std::int64_t out) {
    add(ldm, diffusers, kResnet, in, out);
    if (in != out) add(ldm, diffusers, kResnetShortcut, in, out);
  };
  auto transformer = [&](const std::string& ldm, const std::string& diffusers, std::int64_t width,
                         std::int64_t blocks) {
    add(ldm, diffusers, kTransformerOuter, width, width);
    for (std::int64_t t = 0; t < blocks; ++t) {
      const std::string block = "transformer_blocks." + std::to_string(t) + ".";
      add(ldm + block, diffusers + block, kTransformerBlock, width, width);
    }
  };

  add("time_embed.0.", "time_embedding.linear_1.", kLinear, c0, emb);
  add("time_embed.2.", "time_embedding.linear_2.", kLinear, emb, emb);
  if (c.has("addition_embed_type")) {
    add("label_emb.0.0.", "add_embedding.linear_1.", kLinear, c.integer("projection_class_embeddings_input_dim"), emb);
    add("label_emb.0.2.", "add_embedding.linear_2.", kLinear, emb, emb);
  }
  add("input_blocks.0.0.", "conv_in.", kConv, c.integer("in_channels", 4), c0, c.integer("conv_in_kernel", 3));

  std::size_t slot = 1;  // input_blocks index
  std::int64_t width = c0;
  for (std::size_t b = 0; b < n; ++b) {
    const bool attn = isCrossAttention(c, downTypes[b], true);
    const std::string down = "down_blocks." + std::to_string(b) + ".";
    for (std::int64_t j = 0; j < layers[b]; ++j, ++slot) {
      const std::string ldm = "input_blocks." + std::to_string(slot) + ".";
      resnet(ldm + "0.", down + "resnets." + std::to_string(j) + ".", width, channels[b]);
      width = channels[b];
      if (attn) transformer(ldm + "1.", down + "attentions." + std::to_string(j) + ".", width, depth[b]);
    }
    if (b + 1 < n) {
      add("input_blocks." + std::to_string(slot) + ".0.", down + "downsamplers.0.", kDownsample, width, width);
      ++slot;
    }
  }

  const std::int64_t last = channels.back();
  resnet("middle_block.0.", "mid_block.resnets.0.", last, last);
  transformer("middle_block.1.", "mid_block.attentions.0.", last, depth.back());
  resnet("middle_block.2.", "mid_block.resnets.1.", last, last);

  // Up block u mirrors down block n-1-u; each resnet also takes the skip connection of the
  // matching down slot (the last one of a block takes the previous block's output width).
  slot = 0;
  std::int64_t prev = last;
  for (std::size_t u = 0; u < n; ++u) {
    const std::size_t mirror = n - 1 - u;
    const bool attn = isCrossAttention(c, upTypes[u], false);
    const std::int64_t out = channels[mirror];
    const std::int64_t skipIn = channels[mirror == 0 ? 0 : mirror - 1];
    const std::string up = "up_blocks." + std::to_string(u) + ".";
    const std::int64_t resnets = layers[mirror] + 1;
    for (std::int64_t j = 0; j < resnets; ++j, ++slot) {
      const std::string ldm = "output_blocks." + std::to_string(slot) + ".";
      const std::int64_t skip = j + 1 == resnets ? skipIn : out;
      const std::int64_t in = (j == 0 ? prev : out) + skip;
      resnet(ldm + "0.", up + "resnets." + std::to_string(j) + ".", in, out);
      if (attn) transformer(ldm + "1.", up + "attentions." + std::to_string(j) + ".", out, depth[mirror]);
      if (j + 1 == resnets && u + 1 < n)
        add(ldm + (attn ? "2" : "1") + ".conv.", up + "upsamplers.0.conv.", kConv, out, out);
    }
    prev = out;
  }

  add("out.0.", "conv_norm_out.", kNorm, c0, c0);
  add("out.2.", "conv_out.", kConv, c0, c.integer("out_channels", 4), c.integer("conv_out_kernel", 3));
  return plan;
}

}  // namespace respo::models::single_file
