#include "core/models/unet.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::models {

// One down, mid or up block: resnets, optional cross-attention transformers, optional resampler.
class UNetBlockImpl : public torch::nn::Module {
 public:
  enum class Kind { Down, Mid, Up };
  struct Options {
    Kind kind = Kind::Down;
    bool crossAttention = false;
    int64_t layers = 0;
    std::vector<std::pair<int64_t, int64_t>> resnetChannels;  // (in, out) per resnet
    int64_t channels = 0;                                       // the block's output channels
    bool resample = false;
    Transformer2DOptions transformer;
  };

  UNetBlockImpl(const Options& o, const UNetConfig& config) : options_(o) {
    for (const auto& [in, out] : o.resnetChannels)
      resnets_->push_back(ResnetBlock2D(ResnetOptions{in, out, config.timeEmbedding(), config.normGroups, config.normEps}));
    register_module("resnets", resnets_);
    if (o.crossAttention) {
      const std::size_t count = o.kind == Kind::Mid ? 1 : o.resnetChannels.size();
      for (std::size_t i = 0; i < count; ++i) attentions_->push_back(Transformer2DModel(o.transformer));
      register_module("attentions", attentions_);
    }
    if (o.resample) {
      torch::nn::ModuleList list;
      if (o.kind == Kind::Down) {
        downsample_ = Downsample2D(o.channels, 1);
        list->push_back(downsample_);
        register_module("downsamplers", list);
      } else {
        upsample_ = Upsample2D(o.channels);
        list->push_back(upsample_);
        register_module("upsamplers", list);
      }
    }
  }

  torch::Tensor resnet(std::size_t i, const torch::Tensor& x, const torch::Tensor& emb) {
    return resnets_[i]->as<ResnetBlock2DImpl>()->forward(x, emb);
  }
  torch::Tensor attention(std::size_t i, const torch::Tensor& x, const torch::Tensor& context) {
    return attentions_[i]->as<Transformer2DModelImpl>()->forward(x, context);
  }

  std::size_t layers() const { return resnets_->size(); }

  // `layers` given: only the first ones, without the downsampler (a step-cache call).
  torch::Tensor down(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context,
                     std::vector<torch::Tensor>& skips, std::size_t layers = SIZE_MAX) {
    for (std::size_t i = 0; i < std::min(layers, resnets_->size()); ++i) {
      h = resnet(i, h, emb);
      if (options_.crossAttention) h = attention(i, h, context);
      skips.push_back(h);
    }
    if (downsample_ && layers == SIZE_MAX) {
      h = downsample_->forward(h);
      skips.push_back(h);
    }
    return h;
  }

  torch::Tensor mid(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context) {
    h = resnet(0, h, emb);
    for (std::size_t i = 1; i < resnets_->size(); ++i) {
      if (options_.crossAttention) h = attention(i - 1, h, context);
      h = resnet(i, h, emb);
    }
    return h;
  }

  // From layer `from` on; `keep`, when given, receives the input of layer `keepAt`.
  torch::Tensor up(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context,
                   std::vector<torch::Tensor>& skips, std::size_t from = 0, torch::Tensor* keep = nullptr,
                   std::size_t keepAt = 0) {
    for (std::size_t i = from; i < resnets_->size(); ++i) {
      if (keep && i == keepAt) *keep = h;
      h = torch::cat({h, skips.back()}, 1);
      skips.pop_back();
      h = resnet(i, h, emb);
      if (options_.crossAttention) h = attention(i, h, context);
    }
    if (upsample_) {
      // Upsample to the next skip's size, which differs from 2x when a latent side is odd.
      std::optional<std::vector<int64_t>> size;
      if (!skips.empty()) size = std::vector<int64_t>{skips.back().size(2), skips.back().size(3)};
      h = upsample_->forward(h, size);
    }
    return h;
  }

 private:
  Options options_;
  torch::nn::ModuleList resnets_, attentions_;
  Downsample2D downsample_{nullptr};
  Upsample2D upsample_{nullptr};
};

torch::Tensor timestepEmbedding(const torch::Tensor& timesteps, int64_t dim, bool flipSinToCos, double freqShift) {
  const int64_t half = dim / 2;
  auto exponent = torch::arange(0, half, torch::TensorOptions().dtype(torch::kFloat32).device(timesteps.device())) *
                  static_cast<float>(-std::log(10000.0));
  exponent = exponent / (static_cast<double>(half) - freqShift);
  auto emb = timesteps.unsqueeze(1).to(torch::kFloat32) * torch::exp(exponent).unsqueeze(0);
  emb = torch::cat({torch::sin(emb), torch::cos(emb)}, -1);
  if (flipSinToCos) emb = torch::cat({emb.slice(1, half), emb.slice(1, 0, half)}, -1);
  if (dim % 2 == 1) emb = torch::constant_pad_nd(emb, {0, 1, 0, 0}, 0);
  return emb;
}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const UNetConfig& config) : config_(config) {
  const auto& ch = config.blockOutChannels;
  const std::size_t n = ch.size();
  const int64_t temb = config.timeEmbedding();
  convIn_ = register_module("conv_in", Conv2d(config.inChannels, ch[0], 3, 1, 1));

  auto time = std::make_shared<torch::nn::Module>();
  timeLinear1_ = time->register_module("linear_1", Linear(ch[0], temb));
  timeLinear2_ = time->register_module("linear_2", Linear(temb, temb));
  register_module("time_embedding", time);
  if (config.additionEmbedType == "text_time") {
    auto add = std::make_shared<torch::nn::Module>();
    addLinear1_ = add->register_module("linear_1", Linear(config.projectionClassEmbeddingsInputDim, temb));
    addLinear2_ = add->register_module("linear_2", Linear(temb, temb));
    register_module("add_embedding", add);
  }

  auto transformer = [&](std::size_t block, int64_t channels) {
    return Transformer2DOptions{channels, config.attentionHeads[block], config.transformerLayers[block],
                                config.crossAttentionDim, config.normGroups, config.useLinearProjection,
                                config.upcastAttention};
  };

  int64_t out = ch[0];
  for (std::size_t i = 0; i < n; ++i) {
    const int64_t in = out;
    out = ch[i];
    UNetBlockImpl::Options o;
    o.kind = UNetBlockImpl::Kind::Down;
    o.crossAttention = config.downBlockTypes[i] == "CrossAttnDownBlock2D";
    for (int l = 0; l < config.layersPerBlock[i]; ++l) o.resnetChannels.emplace_back(l == 0 ? in : out, out);
    o.channels = out;
    o.resample = i + 1 < n;
    o.transformer = transformer(i, out);
    down_->push_back(std::make_shared<UNetBlockImpl>(o, config));
  }
  register_module("down_blocks", down_);

  if (!config.midBlockType.empty()) {
    UNetBlockImpl::Options o;
    o.kind = UNetBlockImpl::Kind::Mid;
    o.crossAttention = true;
    o.resnetChannels = {{ch[n - 1], ch[n - 1]}, {ch[n - 1], ch[n - 1]}};
    o.channels = ch[n - 1];
    o.transformer = transformer(n - 1, ch[n - 1]);
    mid_ = register_module("mid_block", std::make_shared<UNetBlockImpl>(o, config));
  }

  // Up blocks mirror the down blocks: reversed channels, one more resnet each, skips concatenated.
  out = ch[n - 1];
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t mirror = n - 1 - i;
    const int64_t previous = out;
    out = ch[mirror];
    const int64_t skipIn = ch[mirror == 0 ? 0 : mirror - 1];
    const int layers = config.layersPerBlock[mirror] + 1;
    UNetBlockImpl::Options o;
    o.kind = UNetBlockImpl::Kind::Up;
    o.crossAttention = config.upBlockTypes[i] == "CrossAttnUpBlock2D";
    for (int l = 0; l < layers; ++l) {
      const int64_t skip = l == layers - 1 ? skipIn : out;
      o.resnetChannels.emplace_back((l == 0 ? previous : out) + skip, out);
    }
    o.channels = out;
    o.resample = i + 1 < n;
    o.transformer = transformer(mirror, out);
    up_->push_back(std::make_shared<UNetBlockImpl>(o, config));
  }
  register_module("up_blocks", up_);

  normOut_ = register_module("conv_norm_out", GroupNorm(config.normGroups, ch[0], config.normEps));
  convOut_ = register_module("conv_out", Conv2d(ch[0], config.outChannels, 3, 1, 1));
}

torch::Tensor UNet2DConditionModelImpl::timeEmbedding(const torch::Tensor& timestep, int64_t batch, torch::Dtype dtype,
                                                      const UNetExtras& extras) {
  auto t = timestep.dim() == 0 ? timestep.reshape({1}) : timestep;
  t = t.expand({batch});
  auto emb = timestepEmbedding(t, config_.blockOutChannels[0], config_.flipSinToCos, config_.freqShift).to(dtype);
  emb = timeLinear2_->forward(torch::silu(timeLinear1_->forward(emb)));
  if (addLinear1_) {
    if (!extras.textEmbeds.defined() || !extras.timeIds.defined())
      throw InvalidArgument("this UNet needs pooled text embeddings and time ids (SDXL added conditioning)");
    auto ids = timestepEmbedding(extras.timeIds.flatten(), config_.additionTimeEmbedDim, config_.flipSinToCos,
                                 config_.freqShift);
    ids = ids.reshape({extras.textEmbeds.size(0), -1});
    auto add = torch::cat({extras.textEmbeds, ids.to(extras.textEmbeds.scalar_type())}, -1).to(dtype);
    emb = emb + addLinear2_->forward(torch::silu(addLinear1_->forward(add)));
  }
  return emb;
}

torch::Tensor UNet2DConditionModelImpl::forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                                                const torch::Tensor& context, const UNetExtras& extras) {
  const int64_t batch = sample.size(0);
  const auto emb = timeEmbedding(timestep.to(sample.device()), batch, sample.scalar_type(), extras);
  auto h = convIn_->forward(sample);
  std::vector<torch::Tensor> skips{h};
  StepCache* cache = extras.stepCache.get();
  auto* first = &down_->at<UNetBlockImpl>(0);
  auto* last = &up_->at<UNetBlockImpl>(up_->size() - 1);
  std::size_t shallow = 0, keepAt = 0;
  if (cache) {
    if (cache->shallowLayers < 1 || static_cast<std::size_t>(cache->shallowLayers) > first->layers())
      throw InvalidArgument("step cache: the shallow branch must have 1 to " + std::to_string(first->layers()) +
                            " layers, not " + std::to_string(cache->shallowLayers));
    shallow = static_cast<std::size_t>(cache->shallowLayers);
    keepAt = last->layers() - shallow - 1;
    // The stored features sit at the latent's own size; another batch or size computes afresh.
    if (cache->reuse && cache->deep.defined() && cache->deep.size(0) == batch && cache->deep.size(2) == h.size(2) &&
        cache->deep.size(3) == h.size(3)) {
      h = first->down(h, emb, context, skips, shallow);
      h = last->up(cache->deep, emb, context, skips, keepAt);
      ++cache->reusedCalls;
      return convOut_->forward(torch::silu(normOut_->forward(h)));
    }
  }
  h = downAndMid(h, emb, context, skips);
  if (extras.bottleneckHook) {
    BottleneckContext info{timestep.dim() == 0 ? timestep.reshape({1}).expand({batch}) : timestep, extras.branches};
    h = extras.bottleneckHook(h, info);
  }
  if (cache) ++cache->fullCalls;
  return upAndOut(h, emb, context, skips, cache, keepAt);
}

torch::Tensor UNet2DConditionModelImpl::downAndMid(torch::Tensor h, const torch::Tensor& emb,
                                                   const torch::Tensor& context, std::vector<torch::Tensor>& skips) {
  for (const auto& block : *down_) h = block->as<UNetBlockImpl>()->down(h, emb, context, skips);
  return mid_ ? mid_->mid(h, emb, context) : h;
}

torch::Tensor UNet2DConditionModelImpl::upAndOut(torch::Tensor h, const torch::Tensor& emb,
                                                 const torch::Tensor& context, std::vector<torch::Tensor>& skips,
                                                 StepCache* cache, std::size_t keepAt) {
  for (std::size_t b = 0; b < up_->size(); ++b) {
    const bool lastBlock = b + 1 == up_->size();
    h = up_->at<UNetBlockImpl>(b).up(h, emb, context, skips, 0, lastBlock && cache ? &cache->deep : nullptr, keepAt);
  }
  return convOut_->forward(torch::silu(normOut_->forward(h)));
}

UNetDownPath UNet2DConditionModelImpl::encode(const torch::Tensor& sample, const torch::Tensor& timestep,
                                              const torch::Tensor& context, const UNetExtras& extras) {
  UNetDownPath down;
  down.emb = timeEmbedding(timestep.to(sample.device()), sample.size(0), sample.scalar_type(), extras);
  down.context = context;
  const auto h = convIn_->forward(sample);
  down.skips.push_back(h);
  down.bottleneck = downAndMid(h, down.emb, context, down.skips);
  return down;
}

torch::Tensor UNet2DConditionModelImpl::decode(const UNetDownPath& down, const torch::Tensor& bottleneck) {
  if (bottleneck.dim() != 4 || !down.bottleneck.defined() || bottleneck.sizes() != down.bottleneck.sizes())
    throw InvalidArgument("UNet decode: the bottleneck must have the encoded shape");
  auto skips = down.skips;  // the up blocks consume their copy
  return upAndOut(bottleneck, down.emb, down.context, skips, nullptr, 0);
}

UNetDownPath UNetDownPath::rows(int64_t start, int64_t count) const {
  UNetDownPath part;
  part.bottleneck = bottleneck.narrow(0, start, count);
  part.emb = emb.narrow(0, start, count);
  part.context = context.narrow(0, start, count);
  for (const auto& s : skips) part.skips.push_back(s.narrow(0, start, count));
  return part;
}

std::vector<int64_t> UNet2DConditionModelImpl::bottleneckShape(int64_t latentHeight, int64_t latentWidth) const {
  // Each downsampler halves with kernel 3, stride 2, padding 1: ceil(x / 2).
  int64_t h = latentHeight, w = latentWidth;
  for (std::size_t i = 0; i + 1 < config_.blockOutChannels.size(); ++i) h = (h + 1) / 2, w = (w + 1) / 2;
  return {config_.blockOutChannels.back(), h, w};
}

}  // namespace respo::models
