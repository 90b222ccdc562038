#pragma once
// transformers' CLIPVisionModel(WithProjection) and CLIPModel: the image tower (patch embedding,
// class token, pre-norm encoder, post-norm of the class token, visual_projection) and the pair of
// towers with logit_scale, read from a transformers folder (config.json with text_config and
// vision_config, model.safetensors). The fairness report reads attributes with it, zero-shot, as the
// paper does.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/models/clip_encoder.h"
#include "core/models/clip_text.h"

namespace respo::models {

struct ClipVisionConfig {
  int hiddenSize = 768;
  int intermediateSize = 3072;
  int layers = 12;
  int heads = 12;
  int imageSize = 224;
  int patchSize = 32;
  int channels = 3;
  std::string activation = "quick_gelu";
  double layerNormEps = 1e-5;
  int projectionDim = 0;  // > 0 with visual_projection

  static ClipVisionConfig fromJson(const nlohmann::json& json, const std::string& where);
};

struct ClipVisionOutput {
  torch::Tensor lastHiddenState;  // the encoder's output [B, 1 + patches, D] (no post-norm)
  torch::Tensor pooled;           // the class token after post_layernorm [B, D]
  torch::Tensor imageEmbeds;      // pooled through visual_projection, when present
};

class ClipVisionModelImpl : public torch::nn::Module {
 public:
  explicit ClipVisionModelImpl(const ClipVisionConfig& config);
  // pixels [B, C, imageSize, imageSize], already normalised as CLIP's image processor does.
  ClipVisionOutput forward(const torch::Tensor& pixels);
  const ClipVisionConfig& config() const { return config_; }

 private:
  ClipVisionConfig config_;
  torch::Tensor classEmbedding_;
  Conv2d patchEmbedding_{nullptr};
  Embedding positionEmbedding_{nullptr};
  LayerNorm preNorm_{nullptr}, postNorm_{nullptr};
  Linear projection_{nullptr};
  std::vector<ClipEncoderLayer> layers_;
};
TORCH_MODULE(ClipVisionModel);

struct ClipModel {
  ClipTextModel text{nullptr};      // with text_projection
  ClipVisionModel vision{nullptr};  // with visual_projection
  torch::Tensor logitScale;         // log of the temperature
  std::vector<float> imageMean{0.48145466f, 0.4578275f, 0.40821073f};
  std::vector<float> imageStd{0.26862954f, 0.26130258f, 0.27577711f};

  // [B, P] unit-norm projections.
  torch::Tensor imageEmbeds(const torch::Tensor& pixels);
  torch::Tensor textEmbeds(const torch::Tensor& inputIds);
  // exp(logit_scale) * cos(image, text): [B_images, B_texts], CLIPModel's logits_per_image.
  torch::Tensor logitsPerImage(const torch::Tensor& pixels, const torch::Tensor& inputIds);
  // Images [B, 3, H, W] in [0, 1] to the tower's input: bicubic resize of the short side to the image
  // size, centre crop, normalisation with imageMean / imageStd.
  torch::Tensor preprocess(const torch::Tensor& images) const;
};

// A transformers CLIPModel folder (config.json + model.safetensors, or sharded). The image
// processor's mean and std come from preprocessor_config.json when present. FormatError names the
// file at fault.
ClipModel loadClipModel(const std::filesystem::path& folder);

}  // namespace respo::models
