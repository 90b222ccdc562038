// CLIPTextModel <- the LDM text encoder ("cond_stage_model.").
//
// SD 1.x holds transformers' own CLIP under cond_stage_model.transformer.[text_model.]: the names
// only gain the text_model. prefix. SD 2.x holds OpenCLIP's text tower under cond_stage_model.model.:
// fused q/k/v projections (in_proj_weight / in_proj_bias, split in three), ln_1/ln_2, mlp.c_fc /
// mlp.c_proj, and a last resblock that diffusers' SD 2.x text encoder drops (it uses the penultimate
// layer's output), as it does text_projection and logit_scale.
#include "core/models/single_file_map.h"

namespace respo::models::single_file {
namespace {

constexpr Rule kClipTop[] = {
    {"embeddings.token_embedding.weight", "embeddings.token_embedding.weight", {Vocab, Out}},
    {"embeddings.position_embedding.weight", "embeddings.position_embedding.weight", {Pos, Out}},
    {"final_layer_norm.weight", "final_layer_norm.weight", {Out}},
    {"final_layer_norm.bias", "final_layer_norm.bias", {Out}},
};
constexpr Rule kClipLayer[] = {
    {"self_attn.q_proj.weight", "self_attn.q_proj.weight", {Out, Out}},
    {"self_attn.q_proj.bias", "self_attn.q_proj.bias", {Out}},
    {"self_attn.k_proj.weight", "self_attn.k_proj.weight", {Out, Out}},
    {"self_attn.k_proj.bias", "self_attn.k_proj.bias", {Out}},
    {"self_attn.v_proj.weight", "self_attn.v_proj.weight", {Out, Out}},
    {"self_attn.v_proj.bias", "self_attn.v_proj.bias", {Out}},
    {"self_attn.out_proj.weight", "self_attn.out_proj.weight", {Out, Out}},
    {"self_attn.out_proj.bias", "self_attn.out_proj.bias", {Out}},
    {"layer_norm1.weight", "layer_norm1.weight", {Out}},
    {"layer_norm1.bias", "layer_norm1.bias", {Out}},
    {"mlp.fc1.weight", "mlp.fc1.weight", {Ff, Out}},
    {"mlp.fc1.bias", "mlp.fc1.bias", {Ff}},
    {"mlp.fc2.weight", "mlp.fc2.weight", {Out, Ff}},
    {"mlp.fc2.bias", "mlp.fc2.bias", {Out}},
    {"layer_norm2.weight", "layer_norm2.weight", {Out}},
    {"layer_norm2.bias", "layer_norm2.bias", {Out}},
};

constexpr Rule kOpenClipTop[] = {
    {"token_embedding.weight", "embeddings.token_embedding.weight", {Vocab, Out}},
    {"positional_embedding", "embeddings.position_embedding.weight", {Pos, Out}},
    {"ln_final.weight", "final_layer_norm.weight", {Out}},
    {"ln_final.bias", "final_layer_norm.bias", {Out}},
};
constexpr Rule kOpenClipLayer[] = {
    {"attn.in_proj_weight", "self_attn.q_proj.weight", {Out, Out}, Layout::QkvPart0},
    {"attn.in_proj_weight", "self_attn.k_proj.weight", {Out, Out}, Layout::QkvPart1},
    {"attn.in_proj_weight", "self_attn.v_proj.weight", {Out, Out}, Layout::QkvPart2},
    {"attn.in_proj_bias", "self_attn.q_proj.bias", {Out}, Layout::QkvPart0},
    {"attn.in_proj_bias", "self_attn.k_proj.bias", {Out}, Layout::QkvPart1},
    {"attn.in_proj_bias", "self_attn.v_proj.bias", {Out}, Layout::QkvPart2},
    {"attn.out_proj.weight", "self_attn.out_proj.weight", {Out, Out}},
    {"attn.out_proj.bias", "self_attn.out_proj.bias", {Out}},
    {"ln_1.weight", "layer_norm1.weight", {Out}},
    {"ln_1.bias", "layer_norm1.bias", {Out}},
    {"mlp.c_fc.weight", "mlp.fc1.weight", {Ff, Out}},
    {"mlp.c_fc.bias", "mlp.fc1.bias", {Ff}},
    {"mlp.c_proj.weight", "mlp.fc2.weight", {Out, Ff}},
    {"mlp.c_proj.bias", "mlp.fc2.bias", {Out}},
    {"ln_2.weight", "layer_norm2.weight", {Out}},
    {"ln_2.bias", "layer_norm2.bias", {Out}},
};

// How much of OpenCLIP's depth a config may leave out: SD 2.x keeps 23 of 24 layers.
constexpr std::int64_t kMaxDroppedOpenClipLayers = 1;

}  // namespace

Plan textPlan(CheckpointFamily family, const nlohmann::json& json, const std::string& ldmBase) {
  const Config c(json, "text_encoder/config.json");
  Dims d;
  d.out = c.integer("hidden_size", 512);
  d.in = d.out;
  d.ff = c.integer("intermediate_size", 2048);
  d.vocab = c.integer("vocab_size", 49408);
  d.pos = c.integer("max_position_embeddings", 77);
  const std::int64_t layers = c.integer("num_hidden_layers", 12);

  Plan plan{"text encoder", "cond_stage_model.", {}, {}};
  const bool openClip = family == CheckpointFamily::SD2;
  addModule(plan, ldmBase, "text_model.", openClip ? std::span<const Rule>(kOpenClipTop) : kClipTop, d);
  for (std::int64_t l = 0; l < layers; ++l) {
    const std::string index = std::to_string(l) + ".";
    addModule(plan, ldmBase + (openClip ? "transformer.resblocks." : "encoder.layers.") + index,
              "text_model.encoder.layers." + index, openClip ? std::span<const Rule>(kOpenClipLayer) : kClipLayer,
              d);
  }
  if (openClip) {
    for (std::int64_t l = layers; l < layers + kMaxDroppedOpenClipLayers; ++l)
      plan.ignorablePrefixes.push_back(ldmBase + "transformer.resblocks." + std::to_string(l) + ".");
    // The projection into the joint image-text space, CLIP's temperature and (in some exports) the
    // causal mask buffer: not part of CLIPTextModel.
    for (const char* key : {"text_projection", "logit_scale", "attn_mask"})
      plan.ignorablePrefixes.push_back(ldmBase + key);
  } else {
    plan.ignorablePrefixes.push_back(ldmBase + "embeddings.position_ids");  // a buffer, not a weight
  }
  return plan;
}

}  // namespace respo::models::single_file
