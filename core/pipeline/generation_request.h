#pragma once
// What one text-to-image call asks for. Plain values without LibTorch, so front ends (the desktop
// app's forms, the job queue) can carry a request without tensor headers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/io/image.h"

namespace respo::pipeline {

struct StableDiffusionModel;

// Limits every front end shares.
inline constexpr int kMaxImageSide = 4096;
inline constexpr int kMaxSteps = 1000;
// Public prompt sets use scales up to 255 (I2P); past 1000 nothing but noise remains.
inline constexpr double kMaxGuidanceScale = 1000;
inline constexpr int kMaxBatch = 64;
inline constexpr int kMaxStepCache = 10;
inline constexpr std::size_t kMaxPromptBytes = 64u << 10;

struct GenerationRequest {
  std::string prompt;
  std::string negativePrompt;
  int width = 0, height = 0;  // 0: the model's native size; multiples of the VAE factor (8 for SD)
  int steps = 25;
  double guidanceScale = 7.5;
  std::uint64_t seed = 0;
  int batch = 1;
  std::string scheduler;  // "" = the model's own
  int clipSkip = 0;       // 0: last layer; 1: penultimate, ...
  // Where the prompt's <lora:name:weight> tags find their files (<folder>/<name>.safetensors), in order.
  // The tags stay in the prompt (and in the picture's parameters); the text encoders never see them.
  std::vector<std::string> loraFolders;
  // Image to image: sampling starts from this picture (resized to the request's size when it differs),
  // encoded by the VAE and noised to `strength` (0 < strength <= 1: the share of the steps that run, as
  // in diffusers' img2img pipelines; 1: every step, from the picture noised to the first step's level).
  std::shared_ptr<const io::RgbImage> initImage;
  double strength = 0.75;
  // Inpainting (with initImage): white where the picture is repainted, black where it is kept (grey
  // levels are read as PIL's luma and split at one half, as diffusers binarises masks). A model whose
  // UNet takes 9 channels (an inpainting model) sees the mask and the masked picture; any other has
  // the kept region put back after every step.
  std::shared_ptr<const io::RgbImage> mask;
  // Pillow's GaussianBlur radius applied to the mask before it is split (diffusers' mask_processor.blur;
  // A1111's "Mask blur"): softer borders for the repainted region. 0: none.
  double maskBlur = 4;
  // Speed mode, step caching (models::StepCache, DeepCache-style): the full UNet runs every
  // `stepCache` steps and the steps between reuse its deep features, recomputing only the shallow
  // branch. 0 or 1: off (every step full). Faster by about the share of work skipped, at a measured
  // cost in fidelity (docs/speed.md).
  int stepCache = 0;
  // Decode the latents in overlapping tiles (AutoencoderKL::decodeTiled, diffusers' VAE tiling): the
  // decoder's memory is one tile's whatever the image size, so large images fit; the pictures differ
  // slightly from a whole decode near the tiles' seams. Images no larger than a tile decode whole.
  bool vaeTiling = false;
  // 3x3 convolutions by Winograd's F(4x4, 3x3) where they pay (models::winograd: float32 on the CPU,
  // 256 channels or more): about 14% faster on an SD1.5-size model, for the memory of the layers'
  // kept weight transforms (about 1.4 GB there); pictures differ from direct convolutions by about
  // 1e-6 relative. false: the process-wide setting (direct convolutions unless changed).
  bool winogradConvolutions = false;

  // The checks that need no model (ranges, finite numbers, prompts of valid UTF-8 text and sensible
  // length): run before anything is loaded or allocated. Throws InvalidArgument naming the setting.
  void validateSettings() const;
  // validateSettings() and what depends on the model (size multiple of its VAE factor, clip skip)
  // and the machine: on the CPU, a request whose working memory (estimatePeakBytes) exceeds the
  // machine's physical memory is refused before anything is allocated.
  void validate(const StableDiffusionModel& model) const;
};

// A rough upper estimate of the working memory one generation needs: the VAE decoder's
// full-resolution activations for the whole batch and the UNet's activations at latent size (with
// classifier-free guidance doubling the batch). Weights are not included (they are loaded already).
// `decoderTile` > 0: the decoder works on tiles of at most that many pixels a side (VAE tiling).
std::uint64_t estimatePeakBytes(int width, int height, int batch, int vaeChannels, int unetChannels,
                                int vaeFactor, int bytesPerElement, int decoderTile = 0);

// The machine's physical memory in bytes (0 when unknown).
std::uint64_t physicalMemoryBytes();



}  // namespace respo::pipeline
