#pragma once
// transformers' CLIPTextModel (and CLIPTextModelWithProjection), built from its config.json with
// transformers' key names (text_model.embeddings..., text_model.encoder.layers.N..., text_model.final_layer_norm).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <torch/nn/modules/container/modulelist.h>

#include "core/models/clip_encoder.h"
#include "core/models/clip_text_config.h"
#include "core/models/layers.h"

namespace respo::models {

struct ClipTextOutput {
  torch::Tensor lastHiddenState;            // after the final layer norm [B, T, D]
  std::vector<torch::Tensor> hiddenStates;  // embeddings and each layer's output (no final norm)
  torch::Tensor pooled;                     // final-normed state at the end token [B, D]
  torch::Tensor textEmbeds;                 // pooled through text_projection, when present
};

class ClipTextModelImpl : public torch::nn::Module {
 public:
  explicit ClipTextModelImpl(const ClipTextConfig& config);
  ClipTextOutput forward(const torch::Tensor& inputIds);
  const ClipTextConfig& config() const { return config_; }
  // The final layer norm, for "clip skip" (diffusers applies it to an earlier hidden state).
  torch::Tensor finalLayerNorm(const torch::Tensor& hidden) { return finalNorm_->forward(hidden); }

 private:
  ClipTextConfig config_;
  Embedding tokenEmbedding_{nullptr}, positionEmbedding_{nullptr};
  LayerNorm finalNorm_{nullptr};
  Linear projection_{nullptr};
  std::vector<ClipEncoderLayer> layers_;
};
TORCH_MODULE(ClipTextModel);

// Canonical key names: transformers 5 saves CLIPTextModel without the "text_model." prefix that
// older checkpoints carry, and older ones may carry an "embeddings.position_ids" buffer.
std::map<std::string, torch::Tensor> canonicalClipTextWeights(std::map<std::string, torch::Tensor> weights);

}  // namespace respo::models
