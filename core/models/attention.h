#pragma once
// Attention blocks of the SD UNet and VAE, named as diffusers names them: Attention (to_q, to_k,
// to_v, to_out.0), the GEGLU feed-forward (ff.net.0.proj, ff.net.2), BasicTransformerBlock and
// Transformer2DModel (norm, proj_in, transformer_blocks.N, proj_out).
#include <optional>

#include <torch/nn/modules/container/modulelist.h>

#include "core/models/layers.h"

namespace respo::models {

struct AttentionOptions {
  int64_t queryDim = 0;
  std::optional<int64_t> crossDim;  // key/value input size for cross-attention
  int64_t heads = 1;
  int64_t headDim = 0;
  bool bias = false;           // q/k/v biases (the VAE's attention has them)
  bool upcast = false;         // compute q.k in fp32 (SD2's upcast_attention)
  std::optional<int64_t> normGroups;  // a GroupNorm before attention and a residual (the VAE)
  double normEps = 1e-6;
};

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);
  // x: [B, N, C] (or [B, C, H, W] with normGroups); context: [B, M, crossDim] or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});

 private:
  AttentionOptions options_;
  GroupNorm groupNorm_{nullptr};
  Linear toQ_{nullptr}, toK_{nullptr}, toV_{nullptr}, toOut_{nullptr};
};
TORCH_MODULE(Attention);

class GegluFeedForwardImpl : public torch::nn::Module {
 public:
  GegluFeedForwardImpl(int64_t dim, int64_t mult = 4);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  Linear proj_{nullptr}, out_{nullptr};
};
TORCH_MODULE(GegluFeedForward);

class BasicTransformerBlockImpl : public torch::nn::Module {
 public:
  BasicTransformerBlockImpl(int64_t dim, int64_t heads, int64_t headDim, int64_t crossDim, bool upcast);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& context);

 private:
  LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr};
  Attention attn1_{nullptr}, attn2_{nullptr};
  GegluFeedForward ff_{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

struct Transformer2DOptions {
  int64_t channels = 0;
  int64_t heads = 1;
  int64_t layers = 1;
  int64_t crossDim = 768;
  int64_t normGroups = 32;
  bool linearProjection = false;
  bool upcast = false;
};

class Transformer2DModelImpl : public torch::nn::Module {
 public:
  explicit Transformer2DModelImpl(const Transformer2DOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

 private:
  Transformer2DOptions options_;
  GroupNorm norm_{nullptr};
  torch::nn::AnyModule projIn_, projOut_;  // Linear or 1x1 Conv2d
  torch::nn::ModuleList blocks_;
};
TORCH_MODULE(Transformer2DModel);

}  // namespace respo::models
