#include "core/models/clip_text.h"

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/models/clip_encoder.h"

namespace respo::models {


ClipTextModelImpl::ClipTextModelImpl(const ClipTextConfig& c) : config_(c) {
  auto textModel = std::make_shared<torch::nn::Module>();
  auto embeddings = std::make_shared<torch::nn::Module>();
  tokenEmbedding_ = embeddings->register_module("token_embedding", Embedding(c.vocabSize, c.hiddenSize));
  positionEmbedding_ = embeddings->register_module("position_embedding", Embedding(c.maxPositions, c.hiddenSize));
  textModel->register_module("embeddings", embeddings);

  layers_ = registerClipEncoder(*textModel, c.layers, c.hiddenSize, c.intermediateSize, c.layerNormEps);
  finalNorm_ = textModel->register_module("final_layer_norm", LayerNorm(c.hiddenSize, c.layerNormEps));
  register_module("text_model", textModel);
  if (c.projectionDim > 0) projection_ = register_module("text_projection", Linear(c.hiddenSize, c.projectionDim, false));
}

ClipTextOutput ClipTextModelImpl::forward(const torch::Tensor& inputIds) {
  const int64_t batch = inputIds.size(0), length = inputIds.size(1);
  if (length > config_.maxPositions)
    throw InvalidArgument("text encoder reads at most " + std::to_string(config_.maxPositions) + " tokens, got " +
                          std::to_string(length));
  const auto ids = inputIds.to(tokenEmbedding_->weight.device(), torch::kLong);
  const auto positions = torch::arange(length, ids.options());
  auto h = tokenEmbedding_->forward(ids) + positionEmbedding_->forward(positions).unsqueeze(0);
  ClipTextOutput out;
  out.hiddenStates.push_back(h);
  for (const auto& layer : layers_) {
    h = runClipEncoderLayer(layer, h, config_.heads, /*causal=*/true, config_.activation);
    out.hiddenStates.push_back(h);
  }
  out.lastHiddenState = finalNorm_->forward(h);
  // The pooled token: legacy configs (eos id 2) take the highest id, which is the end token in CLIP's
  // vocabulary; newer ones take the first end token.
  torch::Tensor index = config_.eosTokenId == 2 ? ids.argmax(-1)
                                               : (ids == config_.eosTokenId).to(torch::kInt).argmax(-1);
  out.pooled = out.lastHiddenState.index({torch::arange(batch, ids.options()), index});
  if (projection_) out.textEmbeds = projection_->forward(out.pooled);
  return out;
}

}  // namespace respo::models

namespace respo::models {

std::map<std::string, torch::Tensor> canonicalClipTextWeights(std::map<std::string, torch::Tensor> weights) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, tensor] : weights) {
    std::string key = name;
    if (key.rfind("text_model.", 0) != 0 && key.rfind("text_projection.", 0) != 0) key = "text_model." + key;
    if (key == "text_model.embeddings.position_ids") continue;
    out.emplace(std::move(key), std::move(tensor));
  }
  return out;
}

}  // namespace respo::models
