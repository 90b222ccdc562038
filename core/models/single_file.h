#pragma once
// Single-file Stable Diffusion 1.x / 2.x / XL checkpoints in the original LDM (CompVis, Stability
// "generative-models") layout, converted in memory to diffusers / transformers tensor names:
//   model.diffusion_model.*      -> UNet2DConditionModel   ("down_blocks.0.resnets.0.conv1.weight", ...)
//   first_stage_model.*          -> AutoencoderKL          ("encoder.down_blocks.0.resnets.0.norm1.weight", ...)
//   cond_stage_model.transformer.* (SD1, CLIP) or cond_stage_model.model.* (SD2, OpenCLIP)
//                                -> CLIPTextModel          ("text_model.embeddings.token_embedding.weight", ...)
//   SDXL: conditioner.embedders.0.transformer.* (CLIP ViT-L) -> text_encoder (CLIPTextModel),
//         conditioner.embedders.1.model.* (OpenCLIP ViT-bigG) -> text_encoder_2
//         (CLIPTextModelWithProjection; OpenCLIP's text_projection is stored transposed),
//         model.diffusion_model.label_emb.0.{0,2} -> add_embedding.linear_{1,2} (added conditioning)
// The configs (diffusers/transformers config.json) say how many blocks and layers there are; every
// tensor they imply must be present with the implied shape. Converted tensors share storage with the
// checkpoint's tensors (reshapes and slices are views), and keep the checkpoint's dtype.
// The mapping tables live in single_file_{unet,vae,text}.cpp.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace respo::models {

enum class CheckpointFamily { SD1, SD2, SDXL };

const char* familyName(CheckpointFamily family);  // "SD 1.x", "SD 2.x", "SDXL"

struct ConvertedCheckpoint {
  CheckpointFamily family = CheckpointFamily::SD1;
  std::map<std::string, torch::Tensor> unet, vae, textEncoder;
  std::map<std::string, torch::Tensor> textEncoder2;  // SDXL only
  // Tensors of the file that are not part of the three models: EMA copies (model_ema.*), diffusion
  // schedule buffers, position_ids, OpenCLIP's text_projection / logit_scale and the text layer SD 2.x
  // does not use. Sorted.
  std::vector<std::string> ignoredKeys;
};

// SD2 when the text encoder is OpenCLIP (cond_stage_model.model.*), SD1 when it is CLIP
// (cond_stage_model.transformer.*), SDXL when the conditioner holds CLIP and OpenCLIP
// (conditioner.embedders.0.transformer.*, conditioner.embedders.1.model.*). Throws FormatError for
// anything else (the SDXL refiner, SD3, a diffusers folder's file, random tensors) with a message
// saying what the keys look like. `source` names the file in messages.
CheckpointFamily detectFamily(const std::vector<std::string>& keys,
                              const std::string& source = "single-file checkpoint");

// Throws FormatError when a tensor the configs imply is missing, has another shape, is not floating
// point, or when the file has UNet / VAE / text tensors the configs do not account for; and for
// configs this converter cannot express (unknown block types, class embeddings, ...).
struct CheckpointConfigs {
  nlohmann::json unet, vae, textEncoder;
  nlohmann::json textEncoder2;  // SDXL's second text encoder; null otherwise
};
ConvertedCheckpoint convertSingleFile(const std::map<std::string, torch::Tensor>& checkpoint,
                                      const CheckpointConfigs& configs,
                                      const std::string& source = "single-file checkpoint");
// SD 1.x / 2.x (one text encoder).
ConvertedCheckpoint convertSingleFile(const std::map<std::string, torch::Tensor>& checkpoint,
                                      const nlohmann::json& unetConfig, const nlohmann::json& vaeConfig,
                                      const nlohmann::json& textConfig,
                                      const std::string& source = "single-file checkpoint");

}  // namespace respo::models
