#include "core/models/clip_text.h"

#include <torch/torch.h>

#include "core/io/atomic_file.h"
#include "core/models/clip_encoder.h"
#include "core/models/config_reader.h"

namespace respo::models {

ClipTextConfig ClipTextConfig::fromJson(const nlohmann::json& json, const std::string& where) {
  const ConfigReader r(json, where);
  ClipTextConfig c;
  c.vocabSize = r.get("vocab_size", c.vocabSize);
  c.hiddenSize = r.get("hidden_size", c.hiddenSize);
  c.intermediateSize = r.get("intermediate_size", c.intermediateSize);
  c.layers = r.get("num_hidden_layers", c.layers);
  c.heads = r.get("num_attention_heads", c.heads);
  c.maxPositions = r.get("max_position_embeddings", c.maxPositions);
  c.activation = r.get("hidden_act", c.activation);
  c.layerNormEps = r.get("layer_norm_eps", c.layerNormEps);
  c.eosTokenId = r.get("eos_token_id", c.eosTokenId);
  c.projectionDim = 0;
  const auto architectures = r.get<std::vector<std::string>>("architectures", {});
  for (const auto& a : architectures)
    if (a == "CLIPTextModelWithProjection") c.projectionDim = r.get("projection_dim", 768);
  if (c.activation != "quick_gelu" && c.activation != "gelu")
    throw FormatError(where + ": hidden_act '" + c.activation + "' is not supported (quick_gelu or gelu)");
  if (c.heads <= 0 || c.hiddenSize % c.heads != 0)
    throw FormatError(where + ": hidden_size " + std::to_string(c.hiddenSize) + " is not divisible into " +
                      std::to_string(c.heads) + " heads");
  return c;
}

ClipTextConfig ClipTextConfig::fromFile(const std::filesystem::path& path) { return fromJson(readJsonFile(path), path.string()); }

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
