#pragma once
// The embedded default model's shape: a small model of exactly the Stable Diffusion architecture
// (CLIP text encoder with the CLIP BPE tokenizer, AutoencoderKL, UNet2DConditionModel, DDIM) sized
// for 64x64 toy-world portraits and for CPU training. Its configs are diffusers' config.json
// contents, so the saved folder loads through the same loader as a real SD checkpoint.
#include <cstdint>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/pipeline/stable_diffusion_model.h"

namespace respo::toyworld {

struct ToyModelConfigs {
  nlohmann::json unet, vae, textEncoder, scheduler;
};

// 64x64 images, a 16x16x4 latent (VAE factor 4), a 96x8x8 bottleneck, the only place text enters the UNet.
ToyModelConfigs toyModelConfigs();

// A model with freshly initialised weights (PyTorch's default initialisation from `seed`), in fp32
// on the CPU, with `tokenizer` (the CLIP BPE tokenizer with SD1 padding).
pipeline::StableDiffusionModel createToyModel(const ToyModelConfigs& configs,
                                              std::shared_ptr<text::ClipTokenizer> tokenizer, std::uint64_t seed);

// Writes the model as a diffusers folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/,
// scheduler/), weights as fp32 safetensors. The folder is assembled beside `folder` and renamed
// into place, so an interrupted write never leaves a half model behind.
void saveModelFolder(pipeline::StableDiffusionModel& model, const ToyModelConfigs& configs,
                     const std::filesystem::path& folder);

}  // namespace respo::toyworld
