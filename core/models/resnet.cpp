#include "core/models/resnet.h"

#include <torch/torch.h>

namespace respo::models {

ResnetBlock2DImpl::ResnetBlock2DImpl(const ResnetOptions& o) {
  norm1_ = register_module("norm1", GroupNorm(o.groups, o.in, o.eps));
  conv1_ = register_module("conv1", Conv2d(o.in, o.out, 3, 1, 1));
  if (o.timeEmbedding > 0) timeProj_ = register_module("time_emb_proj", Linear(o.timeEmbedding, o.out));
  norm2_ = register_module("norm2", GroupNorm(o.groups, o.out, o.eps));
  conv2_ = register_module("conv2", Conv2d(o.out, o.out, 3, 1, 1));
  if (o.in != o.out) shortcut_ = register_module("conv_shortcut", Conv2d(o.in, o.out, 1));
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& timeEmbedding) {
  auto h = conv1_->forward(torch::silu(norm1_->forward(x)));
  if (timeProj_ && timeEmbedding.defined())
    h = h + timeProj_->forward(torch::silu(timeEmbedding)).unsqueeze(-1).unsqueeze(-1);
  h = conv2_->forward(torch::silu(norm2_->forward(h)));
  return (shortcut_ ? shortcut_->forward(x) : x) + h;
}

Downsample2DImpl::Downsample2DImpl(int64_t channels, int64_t padding) : padding_(padding) {
  conv_ = register_module("conv", Conv2d(channels, channels, 3, 2, padding));
}

torch::Tensor Downsample2DImpl::forward(const torch::Tensor& x) {
  if (padding_ == 0) return conv_->forward(torch::constant_pad_nd(x, {0, 1, 0, 1}, 0));
  return conv_->forward(x);
}

Upsample2DImpl::Upsample2DImpl(int64_t channels) { conv_ = register_module("conv", Conv2d(channels, channels, 3, 1, 1)); }

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& x, std::optional<std::vector<int64_t>> size) {
  // Nearest-neighbour interpolation is not implemented for bfloat16 on every backend; upcast.
  const auto dtype = x.scalar_type();
  auto input = dtype == torch::kBFloat16 ? x.to(torch::kFloat32) : x;
  torch::Tensor up = size ? torch::upsample_nearest2d(input, *size)
                          : torch::upsample_nearest2d(input, std::vector<int64_t>{x.size(2) * 2, x.size(3) * 2});
  return conv_->forward(up.to(dtype));
}

}  // namespace respo::models
