#include "core/models/clip_encoder.h"

#include <torch/torch.h>

namespace respo::models {

std::vector<ClipEncoderLayer> registerClipEncoder(torch::nn::Module& parent, int layers, int hidden, int intermediate,
                                                  double layerNormEps) {
  auto encoder = std::make_shared<torch::nn::Module>();
  torch::nn::ModuleList list;
  std::vector<ClipEncoderLayer> views;
  for (int i = 0; i < layers; ++i) {
    auto layer = std::make_shared<torch::nn::Module>();
    auto attention = std::make_shared<torch::nn::Module>();
    auto mlp = std::make_shared<torch::nn::Module>();
    ClipEncoderLayer view;
    view.k = attention->register_module("k_proj", Linear(hidden, hidden)).get();
    view.v = attention->register_module("v_proj", Linear(hidden, hidden)).get();
    view.q = attention->register_module("q_proj", Linear(hidden, hidden)).get();
    view.out = attention->register_module("out_proj", Linear(hidden, hidden)).get();
    view.fc1 = mlp->register_module("fc1", Linear(hidden, intermediate)).get();
    view.fc2 = mlp->register_module("fc2", Linear(intermediate, hidden)).get();
    layer->register_module("self_attn", attention);
    view.norm1 = layer->register_module("layer_norm1", LayerNorm(hidden, layerNormEps)).get();
    layer->register_module("mlp", mlp);
    view.norm2 = layer->register_module("layer_norm2", LayerNorm(hidden, layerNormEps)).get();
    list->push_back(layer);
    views.push_back(view);
  }
  encoder->register_module("layers", list);
  parent.register_module("encoder", encoder);
  return views;
}

torch::Tensor clipActivation(const torch::Tensor& x, const std::string& activation) {
  if (activation == "quick_gelu") return x * torch::sigmoid(1.702 * x);
  return torch::gelu(x);
}

torch::Tensor runClipEncoderLayer(const ClipEncoderLayer& layer, const torch::Tensor& h, int heads, bool causal,
                                  const std::string& activation) {
  const int64_t batch = h.size(0), length = h.size(1), hidden = h.size(2), headDim = hidden / heads;
  const auto x = layer.norm1->forward(h);
  auto split = [&](const torch::Tensor& t) { return t.view({batch, length, heads, headDim}).transpose(1, 2); };
  const auto attended = at::scaled_dot_product_attention(split(layer.q->forward(x)), split(layer.k->forward(x)),
                                                         split(layer.v->forward(x)), {}, 0.0, causal);
  auto out = h + layer.out->forward(attended.transpose(1, 2).reshape({batch, length, hidden}));
  return out + layer.fc2->forward(clipActivation(layer.fc1->forward(layer.norm2->forward(out)), activation));
}

}  // namespace respo::models
