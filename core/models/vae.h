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
  // Tiled decoding, as diffusers' AutoencoderKL.tiled_decode (enable_vae_tiling): latents larger than
  // a tile are cut into tiles of tileLatentSize() with a quarter overlap, each decoded on its own (so
  // the decoder's memory is one tile's, whatever the image size), and neighbours blended linearly over
  // the overlap (a quarter of config().sampleSize pixels). Smaller latents decode whole.
  torch::Tensor decodeTiled(const torch::Tensor& latents);
  // The latent side of one tile: the configured sample size over the decoder's upsampling factor.
  int64_t tileLatentSize() const;
  const VaeConfig& config() const { return config_; }

 private:
  VaeConfig config_;
  std::shared_ptr<VaeCoderImpl> encoder_, decoder_;
  Conv2d quantConv_{nullptr}, postQuantConv_{nullptr};
};
TORCH_MODULE(AutoencoderKL);

}  // namespace respo::models
