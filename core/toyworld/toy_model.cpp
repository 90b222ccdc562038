#include "core/toyworld/toy_model.h"

#include <system_error>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/io/safetensors_torch.h"

namespace fs = std::filesystem;

namespace respo::toyworld {

ToyModelConfigs toyModelConfigs() {
  ToyModelConfigs c;
  // Two downsamplers: 64 px -> 16x16x4 latents. Narrow channels keep the decoder cheap at 64x64
  // (a training step of 16 images costs ~0.3 s on 2 cores).
  c.vae = {{"_class_name", "AutoencoderKL"},
           {"in_channels", 3},
           {"out_channels", 3},
           {"latent_channels", 4},
           {"block_out_channels", {16, 32, 64}},
           {"down_block_types", {"DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"}},
           {"up_block_types", {"UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"}},
           {"layers_per_block", 1},
           {"norm_num_groups", 8},
           {"act_fn", "silu"},
           {"sample_size", 64},
           {"scaling_factor", 1.0}};  // replaced by 1/std of the training latents
  // Text conditions the mid block only, at 8x8. RespoDiff acts on the mid block's output (the
  // bottleneck) and can steer only what passes through there. With cross-attention in the 8x8 down
  // and up blocks as well (the first shipped model), gender arrived through the 8x8 skip connection
  // and blood and knives through the 8x8 up block: replacing the whole bottleneck by that of "a photo
  // of a female firefighter" turned 4 of 32 firefighters into women, and that of "a photo of a chef"
  // removed no blood from "a photo of a bloody chef" (docs/toyworld.md). A 4x4 bottleneck as the only
  // way in for text was tried next and drew skin tones poorly (35% on skin-explicit prompts).
  c.unet = {{"_class_name", "UNet2DConditionModel"},
            {"sample_size", 16},
            {"in_channels", 4},
            {"out_channels", 4},
            {"block_out_channels", {48, 96}},
            {"down_block_types", {"DownBlock2D", "DownBlock2D"}},
            {"up_block_types", {"UpBlock2D", "UpBlock2D"}},
            {"transformer_layers_per_block", {1, 2}},
            {"mid_block_type", "UNetMidBlock2DCrossAttn"},
            {"layers_per_block", 1},
            {"attention_head_dim", 4},
            {"cross_attention_dim", 64},
            {"norm_num_groups", 16},
            {"act_fn", "silu"},
            {"flip_sin_to_cos", true},
            {"freq_shift", 0}};
  // The whole CLIP vocabulary is kept so that any prompt tokenizes as in SD; unseen words simply
  // keep their initial embeddings.
  c.textEncoder = {{"architectures", {"CLIPTextModel"}},
                   {"model_type", "clip_text_model"},
                   {"vocab_size", 49408},
                   {"hidden_size", 64},
                   {"intermediate_size", 256},
                   {"num_hidden_layers", 2},
                   {"num_attention_heads", 2},
                   {"max_position_embeddings", 77},
                   {"hidden_act", "quick_gelu"},
                   {"layer_norm_eps", 1e-5},
                   {"bos_token_id", 49406},
                   {"eos_token_id", 2},
                   {"pad_token_id", 1},
                   {"projection_dim", 64},
                   {"torch_dtype", "float32"}};
  c.scheduler = {{"_class_name", "DDIMScheduler"},
                 {"beta_start", 0.00085},
                 {"beta_end", 0.012},
                 {"beta_schedule", "scaled_linear"},
                 {"num_train_timesteps", 1000},
                 {"steps_offset", 1},
                 {"set_alpha_to_one", false},
                 {"clip_sample", false},
                 {"prediction_type", "epsilon"},
                 {"timestep_spacing", "leading"}};
  return c;
}

pipeline::StableDiffusionModel createToyModel(const ToyModelConfigs& configs,
                                              std::shared_ptr<text::ClipTokenizer> tokenizer, std::uint64_t seed) {
  torch::manual_seed(seed);
  pipeline::StableDiffusionModel model;
  model.family = "toyworld";
  model.tokenizer = std::move(tokenizer);
  auto textConfig = models::ClipTextConfig::fromJson(configs.textEncoder);
  textConfig.projectionDim = 0;  // the pooled projection is not used by SD1-style pipelines
  model.textEncoder = models::ClipTextModel(textConfig);
  model.unet = models::UNet2DConditionModel(models::UNetConfig::fromJson(configs.unet));
  model.vae = models::AutoencoderKL(models::VaeConfig::fromJson(configs.vae));
  for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(model.textEncoder.get()),
                               static_cast<torch::nn::Module*>(model.unet.get()),
                               static_cast<torch::nn::Module*>(model.vae.get())})
    models::initializeWeights(*m);
  {
    // CLIP's own initialisation of its embeddings (std 0.02), not nn.Embedding's N(0, 1).
    torch::NoGradGuard noGrad;
    for (auto& item : model.textEncoder->named_parameters())
      if (item.key().find("embedding") != std::string::npos) item.value().normal_(0, 0.02);
  }
  model.schedulerConfig = sched::SchedulerConfig::fromJson(configs.scheduler);
  return model;
}

namespace {

std::map<std::string, torch::Tensor> stateDict(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : module.named_parameters()) out[item.key()] = item.value().detach().to(torch::kCPU, torch::kFloat32);
  for (const auto& item : module.named_buffers()) out[item.key()] = item.value().detach().to(torch::kCPU);
  return out;
}

void writeJson(const fs::path& path, const nlohmann::json& json) { io::writeTextFileAtomically(path, json.dump(2) + "\n"); }

}  // namespace

void saveModelFolder(pipeline::StableDiffusionModel& model, const ToyModelConfigs& configs, const fs::path& folder) {
  const fs::path staging = folder.string() + ".tmp-write";
  std::error_code error;
  fs::remove_all(staging, error);
  for (const char* sub : {"unet", "vae", "text_encoder", "tokenizer", "scheduler"}) fs::create_directories(staging / sub);
  const nlohmann::json index = {{"_class_name", "StableDiffusionPipeline"},
                                {"_diffusers_version", "0.42.1"},
                                {"requires_safety_checker", false},
                                {"feature_extractor", {nullptr, nullptr}},
                                {"safety_checker", {nullptr, nullptr}},
                                {"scheduler", {"diffusers", "DDIMScheduler"}},
                                {"text_encoder", {"transformers", "CLIPTextModel"}},
                                {"tokenizer", {"transformers", "CLIPTokenizer"}},
                                {"unet", {"diffusers", "UNet2DConditionModel"}},
                                {"vae", {"diffusers", "AutoencoderKL"}}};
  writeJson(staging / "model_index.json", index);
  writeJson(staging / "unet" / "config.json", configs.unet);
  writeJson(staging / "vae" / "config.json", configs.vae);
  auto text = configs.textEncoder;
  text.erase("projection_dim");
  writeJson(staging / "text_encoder" / "config.json", text);
  writeJson(staging / "scheduler" / "scheduler_config.json", configs.scheduler);
  const io::Metadata meta = {{"format", "pt"}};
  io::saveTensors(staging / "unet" / "diffusion_pytorch_model.safetensors", stateDict(*model.unet), meta);
  io::saveTensors(staging / "vae" / "diffusion_pytorch_model.safetensors", stateDict(*model.vae), meta);
  io::saveTensors(staging / "text_encoder" / "model.safetensors", stateDict(*model.textEncoder), meta);
  model.tokenizer->saveFolder(staging / "tokenizer");

  const fs::path old = folder.string() + ".tmp-old";
  fs::remove_all(old, error);
  if (fs::exists(folder)) fs::rename(folder, old);
  fs::rename(staging, folder);
  fs::remove_all(old, error);
}

}  // namespace respo::toyworld
