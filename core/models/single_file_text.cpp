// CLIPTextModel <- the LDM text encoder ("cond_stage_model.").
//
// SD 1.x holds transformers' own CLIP under cond_stage_model.transformer.[text_model.]: the names
// only gain the text_model. prefix. SD 2.x holds OpenCLIP's text tower under cond_stage_model.model.:
// fused q/k/v projections (in_proj_weight / in_proj_bias, split in three), ln_1/ln_2, mlp.c_fc /
// mlp.c_proj, and a last resblock that diffusers' SD 2.x text encoder drops (it uses the penultimate
// layer's output), as it does text_projection and logit_scale. SDXL holds both under
// conditioner.embedders.{0,1}.: CLIP ViT-L in transformers' names, OpenCLIP ViT-bigG in OpenCLIP's,
// whose text_projection ([width, projection], applied as x @ P) becomes CLIPTextModelWithProjection's
// text_projection.weight ([projection, width]).
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

constexpr Rule kOpenClipProjection[] = {
    {"text_projection", "text_projection.weight", {ProjDim, Out}, Layout::Transposed},
};

// transformers' CLIPTextModelWithProjection: the pooled output goes through text_projection.
bool hasProjection(const Config& c) {
  if (!c.has("architectures") || !c.json["architectures"].is_array()) return false;
  for (const auto& a : c.json["architectures"])
    if (a == "CLIPTextModelWithProjection") return true;
  return false;
}

}  // namespace

Plan textPlan(const TextLayout& layout, const nlohmann::json& json) {
  const Config c(json, layout.component == "text encoder 2" ? "text_encoder_2/config.json" : "text_encoder/config.json");
  Dims d;
  d.out = c.integer("hidden_size", 512);
  d.in = d.out;
  d.ff = c.integer("intermediate_size", 2048);
  d.vocab = c.integer("vocab_size", 49408);
  d.pos = c.integer("max_position_embeddings", 77);
  const std::int64_t layers = c.integer("num_hidden_layers", 12);

  const bool projection = hasProjection(c);
  d.proj = projection ? c.integer("projection_dim", 512) : 0;

  Plan plan{layout.component, layout.componentPrefix, {}, {}};
  const bool openClip = layout.openClip;
  const std::string& ldmBase = layout.ldmBase;
  addModule(plan, ldmBase, "text_model.", openClip ? std::span<const Rule>(kOpenClipTop) : kClipTop, d);
  for (std::int64_t l = 0; l < layers; ++l) {
    const std::string index = std::to_string(l) + ".";
    addModule(plan, ldmBase + (openClip ? "transformer.resblocks." : "encoder.layers.") + index,
              "text_model.encoder.layers." + index, openClip ? std::span<const Rule>(kOpenClipLayer) : kClipLayer,
              d);
  }
  if (projection && !openClip)
    c.fail("a projection is only mapped from OpenCLIP text encoders (cond_stage_model.model.*, "
           "conditioner.embedders.1.model.*)");
  if (projection) addModule(plan, ldmBase, "", kOpenClipProjection, d);
  if (openClip) {
    for (std::int64_t l = layers; l < layers + layout.droppableLayers; ++l)
      plan.ignorablePrefixes.push_back(ldmBase + "transformer.resblocks." + std::to_string(l) + ".");
    // CLIP's temperature, (in some exports) the causal mask buffer, and the projection into the joint
    // image-text space where the config has none (CLIPTextModel): not part of the text encoder.
    for (const char* key : {"logit_scale", "attn_mask"}) plan.ignorablePrefixes.push_back(ldmBase + key);
    if (!projection) plan.ignorablePrefixes.push_back(ldmBase + "text_projection");
  } else {
    plan.ignorablePrefixes.push_back(ldmBase + "embeddings.position_ids");  // a buffer, not a weight
  }
  return plan;
}

}  // namespace respo::models::single_file
