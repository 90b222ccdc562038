#pragma once
// AutoencoderKL (encoder, decoder, quant convs), built from its config.json with diffusers' key
// names. decode() takes latents already divided by the scaling factor, as diffusers' decode does.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/modules/container/modulelist.h>

#include "core/models/attention.h"
#include "core/models/resnet.h"

namespace respo::models {

struct VaeConfig {
  int inChannels = 3, outChannels = 3, latentChannels = 4;
  std::vector<int> blockOutChannels{128, 256, 512, 512};
  int layersPerBlock = 2;
  int normGroups = 32;
  double scalingFactor = 0.18215;
  std::optional<double> shiftFactor;
  bool useQuantConv = true, usePostQuantConv = true;
  int sampleSize = 512;
  // diffusers' force_upcast (default true): pipelines that honour it (SDXL's) decode in fp32 when
  // the model runs in fp16, where this VAE overflows.
  bool forceUpcast = true;

  static VaeConfig fromJson(const nlohmann::json& json, const std::string& where = "vae/config.json");
  static VaeConfig fromFile(const std::filesystem::path& path);
  int downsamplingFactor() const { return 1 << (static_cast<int>(blockOutChannels.size()) - 1); }
};

class VaeCoderImpl;

class AutoencoderKLImpl : public torch::nn::Module {
 public:
  explicit AutoencoderKLImpl(const VaeConfig& config);
  // image in [-1, 1], [B, 3, H, W] -> mean and log-variance of the latent distribution.
  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& image);
  // latents (unscaled) -> image in roughly [-1, 1].
  torch::Tensor decode(const torch::Tensor& latents);
  const VaeConfig& config() const { return config_; }

 private:
  VaeConfig config_;
  std::shared_ptr<VaeCoderImpl> encoder_, decoder_;
  Conv2d quantConv_{nullptr}, postQuantConv_{nullptr};
};
TORCH_MODULE(AutoencoderKL);

}  // namespace respo::models
