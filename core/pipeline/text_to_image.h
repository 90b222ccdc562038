#pragma once
// Text-to-image with classifier-free guidance, as diffusers' StableDiffusionPipeline and
// StableDiffusionXLPipeline do it (the model's configuration says how prompts condition the UNet), with
// a per-step callback (progress, cancel, latent preview) and an optional bottleneck hook applied to
// the UNet's mid-block output (RespoDiff plugs in there).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/io/image.h"
#include "core/pipeline/generation_request.h"
#include "core/pipeline/safe_guidance.h"
#include "core/pipeline/stable_diffusion_model.h"

namespace respo::pipeline {

struct StepProgress {
  int step = 0;  // 1-based, after the step
  int total = 0;
  double timestep = 0;
  const torch::Tensor* latents = nullptr;  // current latents (valid during the callback only)
};

// Return false to cancel; the pipeline then throws respo::Cancelled.
using StepCallback = std::function<bool(const StepProgress&)>;

struct GenerationResult {
  torch::Tensor images;  // [B, 3, H, W] float in [0, 1], CPU
  std::vector<io::RgbImage> rgb;
};

// What an intervention changes in the sampling loop (none of it set: the plain pipeline).
struct SamplingEdits {
  models::BottleneckHook bottleneck;          // sees the mid-block output of every UNet call
  std::optional<SafeLatentGuidance> safety;   // Safe Latent Diffusion guidance (safe_guidance.h)
};

class TextToImagePipeline {
 public:
  explicit TextToImagePipeline(StableDiffusionModel& model) : model_(model) {}

  // Same request and seed -> same images. `hook`, when set, sees the mid-block output of every UNet
  // call with the branch (unconditional / conditional) of each row.
  GenerationResult generate(const GenerationRequest& request, const StepCallback& onStep = {},
                            const models::BottleneckHook& hook = {});
  // The same with every kind of sampling edit. With SLD the safety concept's rows run beside the
  // unconditional and conditional ones (one batch when their token counts agree), marked
  // GuidanceBranch::SafetyConcept, so a bottleneck hook leaves them alone. On SDXL they are
  // conditioned on the concept's pooled embedding and the image's size ids.
  GenerationResult generate(const GenerationRequest& request, const StepCallback& onStep, const SamplingEdits& edits);

  // Several sides ("lanes") of one request in one batch: the same prompt, seed, noise and schedule,
  // each lane with its own bottleneck hook (empty: none). The lanes' rows sit side by side in every
  // UNet call and each lane's hook sees only its own rows, with their branches, so lane k gives the
  // images generate(request, {}, lanes[k]) gives, up to the kernels' rounding at another batch size
  // (on an x86-64 CPU: equal to the bit with guidance, within 4e-6 of [0, 1] without; see
  // test_one_batch_sides). It costs one run's text encoding and one UNet call per
  // step at the combined batch, so on a GPU it is cheaper than the runs one after the other. Each
  // lane decodes on its own (the decoder's memory peak stays that of one run). `onStep` is called for
  // every lane, in order, after each step; it returning false cancels.
  using LaneCallback = std::function<bool(std::size_t lane, const StepProgress&)>;
  std::vector<GenerationResult> generateLanes(const GenerationRequest& request,
                                              const std::vector<models::BottleneckHook>& lanes,
                                              const LaneCallback& onStep = {});

  // The conditioning of `prompt` ([B, 77, D] context, and the pooled embedding where the UNet takes
  // one) repeated `batch` times.
  PromptConditioning encodePrompt(const std::string& prompt, int batch, int clipSkip = 0);
  // The initial noise of a request, drawn on the CPU from `generator` (seeded with the request's
  // seed), so the same seed gives the same noise on every device. Stochastic samplers continue to
  // draw from the same generator, as diffusers does.
  torch::Tensor initialNoise(const GenerationRequest& request, at::Generator& generator) const;
  // Image to image and inpainting: where sampling starts at timesteps()[first], with what inpainting
  // needs on the way. Draws from `generator` in diffusers' order: the picture's latent sample, the
  // noise, the masked picture's latent sample.
  struct StartLatents {
    torch::Tensor latents;
    torch::Tensor noise;          // inpainting: to noise the kept region to each step's level
    torch::Tensor imageLatents;   // inpainting with a 4-channel UNet: the picture's latents [B, 4, h, w]
    torch::Tensor mask;           // inpainting: [B, 1, h, w] at latent size, 1 where repainted
    torch::Tensor maskedLatents;  // inpainting: the kept part's latents [B, 4, h, w]
  };
  StartLatents startLatents(const GenerationRequest& request, at::Generator& generator,
                            const sched::Scheduler& scheduler, std::size_t first);
  // Latents -> images in [0, 1]; `tiled`: in tiles (GenerationRequest::vaeTiling).
  torch::Tensor decode(const torch::Tensor& latents, bool tiled = false);

 private:
  std::vector<GenerationResult> run(const GenerationRequest& request, const std::vector<SamplingEdits>& lanes,
                                    const LaneCallback& onStep);
  StableDiffusionModel& model_;
};

std::vector<io::RgbImage> toRgb(const torch::Tensor& images);
// A cheap RGB view of SD latents for live previews (a fixed linear map of the 4 channels).
io::RgbImage latentPreview(const torch::Tensor& latents, int index = 0);

}  // namespace respo::pipeline
