#include "core/models/attention.h"

#include <torch/torch.h>

namespace respo::models {

AttentionImpl::AttentionImpl(const AttentionOptions& options) : options_(options) {
  const int64_t inner = options.heads * options.headDim;
  const int64_t kvDim = options.crossDim.value_or(options.queryDim);
  if (options.normGroups)
    groupNorm_ = register_module("group_norm", GroupNorm(*options.normGroups, options.queryDim, options.normEps));
  toQ_ = register_module("to_q", Linear(options.queryDim, inner, options.bias));
  toK_ = register_module("to_k", Linear(kvDim, inner, options.bias));
  toV_ = register_module("to_v", Linear(kvDim, inner, options.bias));
  toOut_ = Linear(inner, options.queryDim, true);
  torch::nn::ModuleList out;
  out->push_back(toOut_);
  register_module("to_out", out);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& input, const torch::Tensor& context) {
  torch::Tensor x = input;
  const bool spatial = input.dim() == 4;
  int64_t b = 0, c = 0, h = 0, w = 0;
  if (spatial) {
    b = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
    x = groupNorm_ ? groupNorm_->forward(input) : input;
    x = x.view({b, c, h * w}).transpose(1, 2);
  } else if (groupNorm_) {
    x = groupNorm_->forward(x.transpose(1, 2)).transpose(1, 2);
  }
  const auto& kv = context.defined() ? context : x;
  const int64_t batch = x.size(0);
  auto split = [&](const torch::Tensor& t) {
    return t.view({batch, -1, options_.heads, options_.headDim}).transpose(1, 2);
  };
  auto q = split(toQ_->forward(x));
  auto k = split(toK_->forward(kv));
  auto v = split(toV_->forward(kv));
  const auto dtype = q.scalar_type();
  // Upcasting raises half precision to float32; float32 and float64 compute as they are.
  if (options_.upcast && (dtype == torch::kFloat16 || dtype == torch::kBFloat16)) {
    q = q.to(torch::kFloat32), k = k.to(torch::kFloat32), v = v.to(torch::kFloat32);
  }
  auto out = at::scaled_dot_product_attention(q, k, v).to(dtype);
  out = out.transpose(1, 2).reshape({batch, -1, options_.heads * options_.headDim});
  out = toOut_->forward(out);
  if (spatial) {
    out = out.transpose(1, 2).reshape({b, c, h, w});
    return out + input;  // the VAE's attention is residual
  }
  return options_.normGroups ? out + input : out;
}

GegluFeedForwardImpl::GegluFeedForwardImpl(int64_t dim, int64_t mult) {
  const int64_t inner = dim * mult;
  // diffusers: ff.net = [GEGLU(proj), Dropout, Linear]
  auto geglu = std::make_shared<torch::nn::Module>();
  proj_ = geglu->register_module("proj", Linear(dim, inner * 2));
  out_ = Linear(inner, dim);
  torch::nn::ModuleList net;
  net->push_back(geglu);
  net->push_back(torch::nn::Dropout(0.0));
  net->push_back(out_);
  register_module("net", net);
}

torch::Tensor GegluFeedForwardImpl::forward(const torch::Tensor& x) {
  const auto parts = proj_->forward(x).chunk(2, -1);
  return out_->forward(parts[0] * torch::gelu(parts[1]));
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(int64_t dim, int64_t heads, int64_t headDim, int64_t crossDim,
                                                     bool upcast) {
  norm1_ = register_module("norm1", LayerNorm(dim, 1e-5));
  AttentionOptions self;
  self.queryDim = dim, self.heads = heads, self.headDim = headDim, self.upcast = upcast;
  auto cross = self;
  cross.crossDim = crossDim;
  attn1_ = register_module("attn1", Attention(self));
  norm2_ = register_module("norm2", LayerNorm(dim, 1e-5));
  attn2_ = register_module("attn2", Attention(cross));
  norm3_ = register_module("norm3", LayerNorm(dim, 1e-5));
  ff_ = register_module("ff", GegluFeedForward(dim));
}

torch::Tensor BasicTransformerBlockImpl::forward(torch::Tensor x, const torch::Tensor& context) {
  x = attn1_->forward(norm1_->forward(x)) + x;
  x = attn2_->forward(norm2_->forward(x), context) + x;
  return ff_->forward(norm3_->forward(x)) + x;
}

Transformer2DModelImpl::Transformer2DModelImpl(const Transformer2DOptions& options) : options_(options) {
  const int64_t c = options.channels;
  norm_ = register_module("norm", GroupNorm(options.normGroups, c, 1e-6));
  if (options.linearProjection) {
    projIn_ = torch::nn::AnyModule(Linear(c, c));
    projOut_ = torch::nn::AnyModule(Linear(c, c));
  } else {
    projIn_ = torch::nn::AnyModule(Conv2d(c, c, 1));
    projOut_ = torch::nn::AnyModule(Conv2d(c, c, 1));
  }
  register_module("proj_in", projIn_.ptr());
  for (int64_t i = 0; i < options.layers; ++i)
    blocks_->push_back(BasicTransformerBlock(c, options.heads, c / options.heads, options.crossDim, options.upcast));
  register_module("transformer_blocks", blocks_);
  register_module("proj_out", projOut_.ptr());
}

torch::Tensor Transformer2DModelImpl::forward(const torch::Tensor& input, const torch::Tensor& context) {
  const int64_t b = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
  auto x = norm_->forward(input);
  if (options_.linearProjection) {
    x = projIn_.forward(x.permute({0, 2, 3, 1}).reshape({b, h * w, c}));
  } else {
    x = projIn_.forward(x).permute({0, 2, 3, 1}).reshape({b, h * w, c});
  }
  for (const auto& block : *blocks_) x = block->as<BasicTransformerBlockImpl>()->forward(x, context);
  if (options_.linearProjection) {
    x = projOut_.forward(x).reshape({b, h, w, c}).permute({0, 3, 1, 2});
  } else {
    x = projOut_.forward(x.reshape({b, h, w, c}).permute({0, 3, 1, 2}).contiguous());
  }
  return x + input;
}

}  // namespace respo::models
