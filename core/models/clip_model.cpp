#include "core/models/clip_model.h"

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/models/clip_config_fields.h"
#include "core/models/component_weights.h"
#include "core/models/config_reader.h"
#include "core/io/read_file.h"
#include <cmath>

namespace respo::models {

ClipVisionConfig ClipVisionConfig::fromJson(const nlohmann::json& json, const std::string& where) {
  const ConfigReader r(json, where);
  ClipVisionConfig c;
  ClipTowerFields tower{c.hiddenSize, c.intermediateSize, c.layers, c.heads, c.activation, c.layerNormEps};
  readClipTowerFields(r, tower);
  c.hiddenSize = tower.hiddenSize, c.intermediateSize = tower.intermediateSize, c.layers = tower.layers;
  c.heads = tower.heads, c.activation = tower.activation, c.layerNormEps = tower.layerNormEps;
  c.imageSize = r.integer("image_size", c.imageSize, 1, 4096);
  c.patchSize = r.integer("patch_size", c.patchSize, 1, 4096);
  c.channels = r.integer("num_channels", c.channels, 1, 16);
  if (c.imageSize % c.patchSize != 0)
    throw FormatError(where + ": image_size " + std::to_string(c.imageSize) + " is not a multiple of patch_size " +
                      std::to_string(c.patchSize));
  return c;
}

ClipVisionModelImpl::ClipVisionModelImpl(const ClipVisionConfig& c) : config_(c) {
  auto visionModel = std::make_shared<torch::nn::Module>();
  auto embeddings = std::make_shared<torch::nn::Module>();
  classEmbedding_ = embeddings->register_parameter("class_embedding", torch::zeros({c.hiddenSize}));
  patchEmbedding_ = embeddings->register_module(
      "patch_embedding", Conv2d(c.channels, c.hiddenSize, c.patchSize, c.patchSize, 0, /*bias=*/false));
  const int patches = (c.imageSize / c.patchSize) * (c.imageSize / c.patchSize);
  positionEmbedding_ = embeddings->register_module("position_embedding", Embedding(patches + 1, c.hiddenSize));
  visionModel->register_module("embeddings", embeddings);
  // (transformers spells it "pre_layrnorm")
  preNorm_ = visionModel->register_module("pre_layrnorm", LayerNorm(c.hiddenSize, c.layerNormEps));
  layers_ = registerClipEncoder(*visionModel, c.layers, c.hiddenSize, c.intermediateSize, c.layerNormEps);
  postNorm_ = visionModel->register_module("post_layernorm", LayerNorm(c.hiddenSize, c.layerNormEps));
  register_module("vision_model", visionModel);
  if (c.projectionDim > 0)
    projection_ = register_module("visual_projection", Linear(c.hiddenSize, c.projectionDim, false));
}

ClipVisionOutput ClipVisionModelImpl::forward(const torch::Tensor& pixels) {
  if (pixels.dim() != 4 || pixels.size(1) != config_.channels || pixels.size(2) != config_.imageSize ||
      pixels.size(3) != config_.imageSize)
    throw InvalidArgument("the CLIP image tower takes [B, " + std::to_string(config_.channels) + ", " +
                          std::to_string(config_.imageSize) + ", " + std::to_string(config_.imageSize) + "] pixels");
  const auto x = pixels.to(classEmbedding_.device(), classEmbedding_.scalar_type());
  const int64_t batch = x.size(0);
  auto patches = patchEmbedding_->forward(x).flatten(2).transpose(1, 2);  // [B, N, D]
  auto h = torch::cat({classEmbedding_.view({1, 1, -1}).expand({batch, 1, -1}), patches}, 1);
  h = h + positionEmbedding_->forward(torch::arange(h.size(1), torch::TensorOptions().device(x.device()).dtype(torch::kLong)))
              .unsqueeze(0);
  h = preNorm_->forward(h);
  for (const auto& layer : layers_) h = runClipEncoderLayer(layer, h, config_.heads, /*causal=*/false, config_.activation);
  ClipVisionOutput out;
  out.lastHiddenState = h;
  out.pooled = postNorm_->forward(h.select(1, 0));
  if (projection_) out.imageEmbeds = projection_->forward(out.pooled);
  return out;
}

torch::Tensor ClipModel::imageEmbeds(const torch::Tensor& pixels) {
  const auto e = vision->forward(pixels).imageEmbeds;
  return e / e.norm(2, -1, true);
}

torch::Tensor ClipModel::textEmbeds(const torch::Tensor& inputIds) {
  const auto e = text->forward(inputIds).textEmbeds;
  return e / e.norm(2, -1, true);
}

torch::Tensor ClipModel::logitsPerImage(const torch::Tensor& pixels, const torch::Tensor& inputIds) {
  return logitScale.exp() * imageEmbeds(pixels).matmul(textEmbeds(inputIds).t());
}

torch::Tensor ClipModel::preprocess(const torch::Tensor& images) const {
  namespace F = torch::nn::functional;
  const int size = vision->config().imageSize;
  auto x = images.to(torch::kFloat32);
  const int64_t h = x.size(2), w = x.size(3);
  // As the image processor sizes it: the short side to `size`, the long side truncated.
  const int64_t shortSide = std::min(h, w), longSide = std::max(h, w);
  const int64_t scaledLong = std::max<int64_t>(size, size * longSide / shortSide);
  const int64_t nh = h <= w ? size : scaledLong, nw = h <= w ? scaledLong : size;
  const double scale = static_cast<double>(size) / static_cast<double>(shortSide);
  x = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{nh, nw}).mode(torch::kBicubic)
                            .align_corners(false).antialias(scale < 1));
  const int64_t top = (nh - size) / 2, left = (nw - size) / 2;
  x = x.slice(2, top, top + size).slice(3, left, left + size).clamp(0, 1);
  const auto mean = torch::tensor(imageMean).view({1, 3, 1, 1}), std = torch::tensor(imageStd).view({1, 3, 1, 1});
  return (x - mean) / std;
}

ClipModel loadClipModel(const std::filesystem::path& folder) {
  const auto configPath = folder / "config.json";
  if (!std::filesystem::exists(configPath))
    throw FormatError(folder.string() + ": not a transformers CLIP folder (config.json is missing)");
  const auto json = io::readJsonFile(configPath);
  const ConfigReader r(json, configPath.string());
  if (!json.contains("text_config") || !json.contains("vision_config"))
    throw FormatError(configPath.string() + ": a CLIPModel config needs text_config and vision_config");
  const int projection = r.integer("projection_dim", 512, 1, 16384);
  auto textConfig = ClipTextConfig::fromJson(json.at("text_config"), configPath.string() + " (text_config)");
  textConfig.projectionDim = projection;
  auto visionConfig = ClipVisionConfig::fromJson(json.at("vision_config"), configPath.string() + " (vision_config)");
  visionConfig.projectionDim = projection;

  std::map<std::string, torch::Tensor> textWeights, visionWeights;
  ClipModel model;
  for (auto& [name, tensor] : loadComponentWeights(folder, "", /*copies=*/true)) {
    if (name.find("position_ids") != std::string::npos) continue;  // a buffer older files carry
    if (name == "logit_scale") model.logitScale = tensor.to(torch::kFloat32).clone();
    else if (name.rfind("text_model.", 0) == 0 || name.rfind("text_projection.", 0) == 0) textWeights.emplace(name, tensor);
    else if (name.rfind("vision_model.", 0) == 0 || name.rfind("visual_projection.", 0) == 0) visionWeights.emplace(name, tensor);
    else throw FormatError(folder.string() + ": unexpected tensor '" + name + "' in a CLIPModel");
  }
  if (!model.logitScale.defined()) throw FormatError(folder.string() + ": the CLIPModel has no logit_scale");
  model.text = ClipTextModel(textConfig);
  loadWeights(*model.text, textWeights, folder.string() + " (text tower)", torch::kFloat32, torch::kCPU,
              WeightStorage::Mapped);
  model.vision = ClipVisionModel(visionConfig);
  loadWeights(*model.vision, visionWeights, folder.string() + " (vision tower)", torch::kFloat32, torch::kCPU,
              WeightStorage::Mapped);
  for (auto* m : {static_cast<torch::nn::Module*>(model.text.get()), static_cast<torch::nn::Module*>(model.vision.get())}) {
    m->eval();
    for (auto& p : m->parameters()) p.set_requires_grad(false);
  }
  if (const auto pre = folder / "preprocessor_config.json"; std::filesystem::exists(pre)) {
    const auto p = io::readJsonFile(pre);
    const ConfigReader pr(p, pre.string());
    auto triple = [&](const char* key, std::vector<float>& out) {
      if (!pr.has(key)) return;
      const auto& v = p.at(key);
      if (!v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() || !v[2].is_number())
        pr.fail(std::string("'") + key + "' must be three numbers");
      out = {v[0].get<float>(), v[1].get<float>(), v[2].get<float>()};
      for (const float x : out)
        if (!std::isfinite(x) || (std::string(key) == "image_std" && x <= 0)) pr.fail(std::string("'") + key + "' is out of range");
    };
    triple("image_mean", model.imageMean);
    triple("image_std", model.imageStd);
  }
  return model;
}

}  // namespace respo::models
