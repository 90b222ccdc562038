#pragma once
// UNet2DConditionModel, built from its config, module paths equal to diffusers' state-dict keys.
// The bottleneck (the mid block's output, "h-space") is a named hook point: a caller may pass a
// hook that sees h, the timestep and which classifier-free-guidance branch each batch row belongs
// to, and returns a changed h. The UNet knows nothing about what the hook does.
#include <functional>
#include <memory>
#include <vector>

#include <torch/nn/modules/container/modulelist.h>

#include "core/models/attention.h"
#include "core/models/resnet.h"
#include "core/models/unet_config.h"

namespace respo::models {

enum class GuidanceBranch { Unconditional, Conditional, SafetyConcept };

struct BottleneckContext {
  torch::Tensor timestep;                      // [B], float
  std::vector<GuidanceBranch> branches;        // one per batch row; empty: all conditional
};

using BottleneckHook = std::function<torch::Tensor(const torch::Tensor& h, const BottleneckContext& context)>;

// Step caching, DeepCache-style (Ma et al., CVPR 2024): the deep features change slowly from one
// denoising step to the next, so a call may reuse those of an earlier call and recompute only the
// shallow branch: conv_in, the first `shallowLayers` layers (resnet + transformer) of the first down
// block, the last `shallowLayers + 1` layers of the last up block, and the output head. A full call
// stores the features entering those up layers (everything below them, the bottleneck and any hook
// on it included); a reusing call takes them as they were. One cache per batch layout: the caller
// keeps one per UNet pass and says before each call whether it may reuse.
struct StepCache {
  int shallowLayers = 1;  // 1 to the first down block's layer count (DeepCache's default is 1)
  bool reuse = false;     // this call: reuse the stored features (true) or compute and store them
  torch::Tensor deep;     // what the last full call stored
  int64_t fullCalls = 0, reusedCalls = 0;
};

struct UNetExtras {
  std::vector<GuidanceBranch> branches;
  BottleneckHook bottleneckHook;  // applied to the mid block's output when set
  torch::Tensor textEmbeds;       // SDXL: pooled text embeddings [B, D]
  torch::Tensor timeIds;          // SDXL: [B, 6] original size, crop, target size
  std::shared_ptr<StepCache> stepCache;  // set: step caching (a reusing call skips the hook: see StepCache)
};

// What a call leaves at the bottleneck: the mid block's output (before any hook), the skip
// connections, the time embedding and the context. decode() finishes the call from it with a given
// bottleneck, so several edits of one bottleneck share the down path (the concept trainer runs
// three up paths on one). No step cache and no hook take part: the caller edits the bottleneck.
struct UNetDownPath {
  torch::Tensor bottleneck, emb, context;
  std::vector<torch::Tensor> skips;
  UNetDownPath rows(int64_t start, int64_t count) const;  // the same for batch rows [start, start + count)
};

class UNetBlockImpl;

class UNet2DConditionModelImpl : public torch::nn::Module {
 public:
  explicit UNet2DConditionModelImpl(const UNetConfig& config);
  // sample [B, C, H, W]; timestep [B] or a single value; context [B, 77, crossAttentionDim].
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timestep, const torch::Tensor& context,
                        const UNetExtras& extras = {});
  // forward() in two halves: decode(encode(x, t, c, e), b) is forward(x, t, c, e) with the bottleneck
  // replaced by b (b = the encoded bottleneck: the same values as a call without hook).
  UNetDownPath encode(const torch::Tensor& sample, const torch::Tensor& timestep, const torch::Tensor& context,
                      const UNetExtras& extras = {});
  torch::Tensor decode(const UNetDownPath& down, const torch::Tensor& bottleneck);
  const UNetConfig& config() const { return config_; }
  // The bottleneck's shape [C, H, W] for a latent of the given size.
  std::vector<int64_t> bottleneckShape(int64_t latentHeight, int64_t latentWidth) const;

 private:
  torch::Tensor timeEmbedding(const torch::Tensor& timestep, int64_t batch, torch::Dtype dtype,
                              const UNetExtras& extras);
  // The down blocks and the mid block from conv_in's output h (skips holds h).
  torch::Tensor downAndMid(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context,
                           std::vector<torch::Tensor>& skips);
  // The up blocks and the output head; `cache`, when given, receives the deep features.
  torch::Tensor upAndOut(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context,
                         std::vector<torch::Tensor>& skips, StepCache* cache, std::size_t keepAt);
  UNetConfig config_;
  Conv2d convIn_{nullptr}, convOut_{nullptr};
  GroupNorm normOut_{nullptr};
  Linear timeLinear1_{nullptr}, timeLinear2_{nullptr}, addLinear1_{nullptr}, addLinear2_{nullptr};
  torch::nn::ModuleList down_, up_;
  std::shared_ptr<UNetBlockImpl> mid_;
};
TORCH_MODULE(UNet2DConditionModel);

// Sinusoidal embedding of (possibly fractional) timesteps, as diffusers' get_timestep_embedding.
torch::Tensor timestepEmbedding(const torch::Tensor& timesteps, int64_t dim, bool flipSinToCos, double freqShift);

}  // namespace respo::models
