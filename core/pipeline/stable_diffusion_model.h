#pragma once
// A loaded Stable Diffusion model: tokenizer(s), text encoder(s), UNet, VAE and scheduler config, on
// one device in one dtype. Loaded from a diffusers folder (model_index.json) or, through key mapping,
// from a single-file SD1.x/SD2.x/SDXL .safetensors checkpoint. The same code path serves the embedded
// toy model. SDXL is the same structure with a second tokenizer and text encoder and another
// text-conditioning config; nothing downstream asks which family a model is.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/models/clip_text.h"
#include "core/models/unet.h"
#include "core/models/vae.h"
#include "core/pipeline/prompt_conditioning.h"
#include "core/schedulers/scheduler.h"
#include "core/text/clip_tokenizer.h"

namespace respo::pipeline {

struct LoadOptions {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  std::string variant;  // "" or e.g. "fp16": prefer <name>.fp16.safetensors files
  // Mapped: keep weights as views of the files (least memory, instant load, slower CPU compute).
  models::WeightStorage storage = models::WeightStorage::Copied;
  // kFloat16 or kBFloat16 with an fp32 `dtype`: the Linear and Conv2d weights are stored in half
  // precision and widened for each call (about half the memory; the same speed on the CPU; pixels
  // within about 1e-3 of fp32 storage). The weights the concept modules' model fingerprint reads stay
  // fp32, so modules trained on the model still fit. kFloat32: as loaded.
  torch::Dtype weightStorage = torch::kFloat32;
  // For single files: a diffusers folder whose configs and tokenizer describe the checkpoint
  // (by default the built-in SD1.5 / SD2.1 / SDXL-base configs and the shipped CLIP vocabulary are used).
  std::filesystem::path configFolder;
};

struct StableDiffusionModel {
  std::filesystem::path source;
  std::string family;  // "sd1", "sd2", "sdxl" (single files), or the folder's pipeline class
  std::shared_ptr<text::ClipTokenizer> tokenizer;
  models::ClipTextModel textEncoder{nullptr};
  // SDXL's second tokenizer and text encoder (OpenCLIP ViT-bigG with projection); null otherwise.
  std::shared_ptr<text::ClipTokenizer> tokenizer2;
  models::ClipTextModel textEncoder2{nullptr};
  TextConditioningConfig textConditioning;
  // StableDiffusionXLPipeline honours the VAE's force_upcast: in fp16 it decodes in fp32.
  bool vaeUpcastInFp16 = false;
  models::UNet2DConditionModel unet{nullptr};
  models::AutoencoderKL vae{nullptr};
  sched::SchedulerConfig schedulerConfig;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;

  int vaeScaleFactor() const { return vae->config().downsamplingFactor(); }
  // The image size the UNet was configured for (sample_size latents).
  int nativeImageSize() const { return unet->config().sampleSize * vaeScaleFactor(); }
  // The shape of the UNet's bottleneck h (C, H, W) for images of width x height pixels.
  std::vector<int64_t> bottleneckShape(int width, int height) const {
    return unet->bottleneckShape(height / vaeScaleFactor(), width / vaeScaleFactor());
  }
};

// Throws IoError / FormatError naming the file at fault; pickle checkpoints are refused.
StableDiffusionModel loadStableDiffusion(const std::filesystem::path& folderOrFile, const LoadOptions& options = {});

}  // namespace respo::pipeline
