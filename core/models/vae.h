#pragma once
// AutoencoderKL (encoder, decoder, quant convs), built from its config.json with diffusers' key
// names. decode() takes latents already divided by the scaling factor, as diffusers' decode does.
#include <filesystem>
#include <string>
#include <vector>

#include <torch/nn/modules/container/modulelist.h>

#include "core/models/attention.h"
#include "core/models/resnet.h"
#include "core/models/vae_config.h"

namespace respo::models {

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
