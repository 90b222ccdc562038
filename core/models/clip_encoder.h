#pragma once
// The transformer encoder shared by CLIP's text and vision towers (transformers' CLIPEncoder):
// pre-norm layers of self-attention and an MLP, with transformers' parameter names
// (encoder.layers.N.self_attn.{q,k,v,out}_proj, layer_norm1, mlp.fc1, mlp.fc2, layer_norm2).
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "core/models/layers.h"

namespace respo::models {

struct ClipEncoderLayer {
  LayerNormImpl* norm1 = nullptr;
  LayerNormImpl* norm2 = nullptr;
  LinearImpl *q = nullptr, *k = nullptr, *v = nullptr, *out = nullptr, *fc1 = nullptr, *fc2 = nullptr;
};

// Registers "encoder" with its layers under `parent` and returns views of them.
std::vector<ClipEncoderLayer> registerClipEncoder(torch::nn::Module& parent, int layers, int hidden, int intermediate,
                                                  double layerNormEps);
// quick_gelu or gelu.
torch::Tensor clipActivation(const torch::Tensor& x, const std::string& activation);
// One layer on h [B, T, D]; causal for the text tower.
torch::Tensor runClipEncoderLayer(const ClipEncoderLayer& layer, const torch::Tensor& h, int heads, bool causal,
                                  const std::string& activation);

}  // namespace respo::models
