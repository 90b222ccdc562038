#pragma once
// ResnetBlock2D, Downsample2D and Upsample2D as diffusers names them (norm1, conv1,
// time_emb_proj, norm2, conv2, conv_shortcut; downsamplers.0.conv; upsamplers.0.conv).
#include "core/models/layers.h"

namespace respo::models {

struct ResnetOptions {
  int64_t in = 0, out = 0;
  int64_t timeEmbedding = 0;  // 0: no time embedding (the VAE)
  int64_t groups = 32;
  double eps = 1e-5;
};

class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  explicit ResnetBlock2DImpl(const ResnetOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& timeEmbedding = {});

 private:
  GroupNorm norm1_{nullptr}, norm2_{nullptr};
  Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
  Linear timeProj_{nullptr};
};
TORCH_MODULE(ResnetBlock2D);

class Downsample2DImpl : public torch::nn::Module {
 public:
  // padding 1: SD's UNet; padding 0: the VAE, which pads right/bottom by one instead.
  Downsample2DImpl(int64_t channels, int64_t padding);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  Conv2d conv_{nullptr};
  int64_t padding_;
};
TORCH_MODULE(Downsample2D);

class Upsample2DImpl : public torch::nn::Module {
 public:
  explicit Upsample2DImpl(int64_t channels);
  // size: the skip connection's spatial size when it is not exactly twice the input (odd sizes).
  torch::Tensor forward(const torch::Tensor& x, std::optional<std::vector<int64_t>> size = std::nullopt);

 private:
  Conv2d conv_{nullptr};
};
TORCH_MODULE(Upsample2D);

}  // namespace respo::models
