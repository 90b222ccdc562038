#include "core/pipeline/builtin_configs.h"

#include "core/common/error.h"

namespace respo::pipeline {

BuiltinConfigs builtinConfigs(const std::string& family) {
  using nlohmann::json;
  const json vae = {{"in_channels", 3}, {"out_channels", 3}, {"latent_channels", 4},
                    {"block_out_channels", {128, 256, 512, 512}}, {"layers_per_block", 2},
                    {"norm_num_groups", 32}, {"scaling_factor", 0.18215}};
  const json downTypes = {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"};
  const json upTypes = {"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"};
  const json schedulerBase = {{"beta_start", 0.00085}, {"beta_end", 0.012}, {"beta_schedule", "scaled_linear"},
                              {"num_train_timesteps", 1000}, {"steps_offset", 1}, {"set_alpha_to_one", false},
                              {"clip_sample", false}};
  if (family == "sd1") {
    BuiltinConfigs c;
    c.unet = {{"sample_size", 64}, {"in_channels", 4}, {"out_channels", 4}, {"block_out_channels", {320, 640, 1280, 1280}},
              {"down_block_types", downTypes}, {"up_block_types", upTypes}, {"layers_per_block", 2},
              {"attention_head_dim", 8}, {"cross_attention_dim", 768}, {"norm_num_groups", 32}};
    c.vae = vae;
    c.vae["sample_size"] = 512;
    c.textEncoder = {{"vocab_size", 49408}, {"hidden_size", 768}, {"intermediate_size", 3072},
                     {"num_hidden_layers", 12}, {"num_attention_heads", 12}, {"max_position_embeddings", 77},
                     {"hidden_act", "quick_gelu"}, {"eos_token_id", 2}};
    c.scheduler = schedulerBase;
    c.scheduler["_class_name"] = "PNDMScheduler";
    c.scheduler["skip_prk_steps"] = true;
    return c;
  }
  if (family == "sd2") {
    BuiltinConfigs c;
    c.unet = {{"sample_size", 96}, {"in_channels", 4}, {"out_channels", 4}, {"block_out_channels", {320, 640, 1280, 1280}},
              {"down_block_types", downTypes}, {"up_block_types", upTypes}, {"layers_per_block", 2},
              {"attention_head_dim", {5, 10, 20, 20}}, {"cross_attention_dim", 1024}, {"norm_num_groups", 32},
              {"use_linear_projection", true}, {"upcast_attention", true}};
    c.vae = vae;
    c.vae["sample_size"] = 768;
    // OpenCLIP ViT-H's text tower, of which SD2 uses the penultimate layer: 23 of its 24 layers.
    c.textEncoder = {{"vocab_size", 49408}, {"hidden_size", 1024}, {"intermediate_size", 4096},
                     {"num_hidden_layers", 23}, {"num_attention_heads", 16}, {"max_position_embeddings", 77},
                     {"hidden_act", "gelu"}, {"eos_token_id", 2}};
    c.scheduler = schedulerBase;
    c.scheduler["_class_name"] = "DDIMScheduler";
    c.scheduler["prediction_type"] = "v_prediction";
    return c;
  }
  if (family == "sdxl") {
    BuiltinConfigs c;
    c.unet = {{"sample_size", 128}, {"in_channels", 4}, {"out_channels", 4}, {"block_out_channels", {320, 640, 1280}},
              {"down_block_types", {"DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"}},
              {"up_block_types", {"CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"}}, {"layers_per_block", 2},
              {"attention_head_dim", {5, 10, 20}}, {"transformer_layers_per_block", {1, 2, 10}},
              {"cross_attention_dim", 2048}, {"norm_num_groups", 32}, {"use_linear_projection", true},
              {"addition_embed_type", "text_time"}, {"addition_time_embed_dim", 256},
              {"projection_class_embeddings_input_dim", 2816}};
    c.vae = vae;
    c.vae["sample_size"] = 1024;
    c.vae["scaling_factor"] = 0.13025;
    c.vae["force_upcast"] = true;
    // CLIP ViT-L and OpenCLIP ViT-bigG (with its projection); SDXL reads hidden_states[-2] of both.
    c.textEncoder = {{"architectures", {"CLIPTextModel"}}, {"vocab_size", 49408}, {"hidden_size", 768},
                     {"intermediate_size", 3072}, {"num_hidden_layers", 12}, {"num_attention_heads", 12},
                     {"max_position_embeddings", 77}, {"hidden_act", "quick_gelu"}, {"eos_token_id", 2}};
    c.textEncoder2 = {{"architectures", {"CLIPTextModelWithProjection"}}, {"vocab_size", 49408}, {"hidden_size", 1280},
                      {"intermediate_size", 5120}, {"num_hidden_layers", 32}, {"num_attention_heads", 20},
                      {"max_position_embeddings", 77}, {"hidden_act", "gelu"}, {"eos_token_id", 2},
                      {"projection_dim", 1280}};
    c.scheduler = schedulerBase;
    c.scheduler["_class_name"] = "EulerDiscreteScheduler";
    c.scheduler["interpolation_type"] = "linear";
    c.scheduler["timestep_spacing"] = "leading";
    c.scheduler["use_karras_sigmas"] = false;
    c.scheduler["skip_prk_steps"] = true;  // read when PNDM is chosen instead of the model's Euler
    return c;
  }
  throw InvalidArgument("no built-in configuration for model family '" + family + "'");
}

}  // namespace respo::pipeline
