#include "core/models/vae.h"

#include <algorithm>
#include <vector>

#include <torch/torch.h>


namespace respo::models {


// The encoder or the decoder: conv_in, blocks (down_blocks / up_blocks), mid_block, conv_norm_out, conv_out.
class VaeCoderImpl : public torch::nn::Module {
 public:
  VaeCoderImpl(const VaeConfig& c, bool isEncoder) : encoder_(isEncoder) {
    const auto& ch = c.blockOutChannels;
    const std::size_t n = ch.size();
    const int64_t g = c.normGroups;
    const double eps = 1e-6;
    const int64_t inner = ch[n - 1];
    convIn_ = register_module("conv_in", Conv2d(isEncoder ? c.inChannels : c.latentChannels,
                                                isEncoder ? ch[0] : inner, 3, 1, 1));
    int64_t out = isEncoder ? ch[0] : inner;
    for (std::size_t i = 0; i < n; ++i) {
      auto block = std::make_shared<torch::nn::Module>();
      torch::nn::ModuleList resnets;
      const int64_t in = out;
      out = isEncoder ? ch[i] : ch[n - 1 - i];
      const int layers = isEncoder ? c.layersPerBlock : c.layersPerBlock + 1;
      Stage stage;
      for (int l = 0; l < layers; ++l) {
        ResnetBlock2D resnet(ResnetOptions{l == 0 ? in : out, out, 0, g, eps});
        stage.resnets.push_back(resnet.get());
        resnets->push_back(resnet);
      }
      block->register_module("resnets", resnets);
      if (i + 1 < n) {
        torch::nn::ModuleList resample;
        if (isEncoder) {
          Downsample2D down(out, 0);
          stage.down = down.get();
          resample->push_back(down);
        } else {
          Upsample2D up(out);
          stage.up = up.get();
          resample->push_back(up);
        }
        block->register_module(isEncoder ? "downsamplers" : "upsamplers", resample);
      }
      blocks_->push_back(block);
      stages_.push_back(stage);
    }
    if (!isEncoder) register_module("up_blocks", blocks_);
    // diffusers registers the decoder's mid block before its up blocks; order does not matter for keys.
    auto mid = std::make_shared<torch::nn::Module>();
    torch::nn::ModuleList midResnets, midAttentions;
    midResnets->push_back(ResnetBlock2D(ResnetOptions{inner, inner, 0, g, eps}));
    midResnets->push_back(ResnetBlock2D(ResnetOptions{inner, inner, 0, g, eps}));
    AttentionOptions attention;
    attention.queryDim = inner, attention.heads = 1, attention.headDim = inner, attention.bias = true;
    attention.upcast = true, attention.normGroups = g, attention.normEps = eps;
    midAttentions->push_back(Attention(attention));
    mid->register_module("attentions", midAttentions);
    mid->register_module("resnets", midResnets);
    midResnet0_ = midResnets[0]->as<ResnetBlock2DImpl>();
    midResnet1_ = midResnets[1]->as<ResnetBlock2DImpl>();
    midAttention_ = midAttentions[0]->as<AttentionImpl>();
    register_module("mid_block", mid);
    if (isEncoder) register_module("down_blocks", blocks_);
    const int64_t last = isEncoder ? inner : ch[0];
    normOut_ = register_module("conv_norm_out", GroupNorm(g, last, eps));
    convOut_ = register_module("conv_out", Conv2d(last, isEncoder ? 2 * c.latentChannels : c.outChannels, 3, 1, 1));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto h = convIn_->forward(x);
    if (!encoder_) h = middle(h);
    for (const auto& stage : stages_) {
      for (auto* resnet : stage.resnets) h = resnet->forward(h);
      if (stage.down) h = stage.down->forward(h);
      if (stage.up) h = stage.up->forward(h);
    }
    if (encoder_) h = middle(h);
    return convOut_->forward(torch::silu(normOut_->forward(h)));
  }

 private:
  torch::Tensor middle(torch::Tensor h) {
    h = midResnet0_->forward(h);
    h = midAttention_->forward(h);
    return midResnet1_->forward(h);
  }
  struct Stage {  // non-owning views of one block's layers (the module tree owns them)
    std::vector<ResnetBlock2DImpl*> resnets;
    Downsample2DImpl* down = nullptr;
    Upsample2DImpl* up = nullptr;
  };
  bool encoder_;
  std::vector<Stage> stages_;
  Conv2d convIn_{nullptr}, convOut_{nullptr};
  GroupNorm normOut_{nullptr};
  torch::nn::ModuleList blocks_;
  ResnetBlock2DImpl* midResnet0_ = nullptr;
  ResnetBlock2DImpl* midResnet1_ = nullptr;
  AttentionImpl* midAttention_ = nullptr;
};

AutoencoderKLImpl::AutoencoderKLImpl(const VaeConfig& config) : config_(config) {
  encoder_ = register_module("encoder", std::make_shared<VaeCoderImpl>(config, true));
  decoder_ = register_module("decoder", std::make_shared<VaeCoderImpl>(config, false));
  const int64_t z = config.latentChannels;
  if (config.useQuantConv) quantConv_ = register_module("quant_conv", Conv2d(2 * z, 2 * z, 1));
  if (config.usePostQuantConv) postQuantConv_ = register_module("post_quant_conv", Conv2d(z, z, 1));
  // The coders run once per picture: Winograd transforms are made per call rather than kept.
  for (const auto& module : modules(/*include_self=*/false))
    if (auto* conv = module->as<Conv2dImpl>()) conv->keepWinogradTransform = false;
}

std::pair<torch::Tensor, torch::Tensor> AutoencoderKLImpl::encode(const torch::Tensor& image) {
  auto moments = encoder_->forward(image);
  if (quantConv_) moments = quantConv_->forward(moments);
  auto parts = moments.chunk(2, 1);
  return {parts[0], torch::clamp(parts[1], -30.0, 20.0)};
}

torch::Tensor AutoencoderKLImpl::decode(const torch::Tensor& latents) {
  auto z = postQuantConv_ ? postQuantConv_->forward(latents) : latents;
  return decoder_->forward(z);
}

int64_t AutoencoderKLImpl::tileLatentSize() const {
  const int64_t factor = int64_t{1} << (config_.blockOutChannels.size() - 1);
  return std::max<int64_t>(1, config_.sampleSize / factor);
}

namespace {

// The first `extent` rows (axis 2) or columns (axis 3) of `tile` become a linear mix of the last ones
// of `before` and its own: weight y / extent on its own at offset y, as diffusers' blend_v / blend_h.
void blendEdge(const torch::Tensor& before, torch::Tensor& tile, int64_t axis, int64_t extent) {
  extent = std::min({before.size(axis), tile.size(axis), extent});
  if (extent <= 0) return;
  std::vector<float> own(static_cast<std::size_t>(extent)), other(static_cast<std::size_t>(extent));
  for (int64_t y = 0; y < extent; ++y) {
    const double w = static_cast<double>(y) / static_cast<double>(extent);
    own[static_cast<std::size_t>(y)] = static_cast<float>(w);
    other[static_cast<std::size_t>(y)] = static_cast<float>(1 - w);
  }
  std::vector<int64_t> shape(4, 1);
  shape[static_cast<std::size_t>(axis)] = extent;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32);
  const auto ownWeight = torch::from_blob(own.data(), shape, options).clone().to(tile.device(), tile.scalar_type());
  const auto otherWeight = torch::from_blob(other.data(), shape, options).clone().to(tile.device(), tile.scalar_type());
  auto head = tile.narrow(axis, 0, extent);
  const auto tail = before.narrow(axis, before.size(axis) - extent, extent);
  head.copy_(tail * otherWeight + head * ownWeight);
}

}  // namespace

torch::Tensor AutoencoderKLImpl::decodeTiled(const torch::Tensor& latents) {
  const int64_t tile = tileLatentSize();
  if (latents.size(2) <= tile && latents.size(3) <= tile) return decode(latents);
  // diffusers' tile_overlap_factor 0.25, with its int() truncations.
  const auto stride = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(tile) * 0.75));
  const auto extent = static_cast<int64_t>(static_cast<double>(config_.sampleSize) * 0.25);
  const int64_t keep = config_.sampleSize - extent;
  std::vector<std::vector<torch::Tensor>> rows;
  for (int64_t i = 0; i < latents.size(2); i += stride) {
    rows.emplace_back();
    for (int64_t j = 0; j < latents.size(3); j += stride) {
      const auto part = latents.slice(2, i, std::min(i + tile, latents.size(2))).slice(3, j, std::min(j + tile, latents.size(3)));
      rows.back().push_back(decode(part));
    }
  }
  // Each tile is blended in place with the one above and the one to its left as they now are, in
  // row order, then cropped to its kept part.
  std::vector<torch::Tensor> bands;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::vector<torch::Tensor> kept;
    for (std::size_t j = 0; j < rows[i].size(); ++j) {
      auto& current = rows[i][j];
      if (i > 0) blendEdge(rows[i - 1][j], current, 2, extent);
      if (j > 0) blendEdge(rows[i][j - 1], current, 3, extent);
      kept.push_back(current.slice(2, 0, std::min(keep, current.size(2))).slice(3, 0, std::min(keep, current.size(3))));
    }
    bands.push_back(torch::cat(kept, 3));
  }
  return torch::cat(bands, 2);
}

}  // namespace respo::models
