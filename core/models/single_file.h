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

#include <torch/types.h>

#include "core/models/single_file_keys.h"

namespace respo::models {

struct ConvertedCheckpoint {
  CheckpointFamily family = CheckpointFamily::SD1;
  std::map<std::string, torch::Tensor> unet, vae, textEncoder;
  std::map<std::string, torch::Tensor> textEncoder2;  // SDXL only
  // Tensors of the file that are not part of the three models: EMA copies (model_ema.*), diffusion
  // schedule buffers, position_ids, OpenCLIP's text_projection / logit_scale and the text layer SD 2.x
  // does not use. Sorted.
  std::vector<std::string> ignoredKeys;
};

// mapSingleFile (single_file_keys.h), then every tensor reshaped, sliced or transposed into place.
ConvertedCheckpoint convertSingleFile(const std::map<std::string, torch::Tensor>& checkpoint,
                                      const CheckpointConfigs& configs,
                                      const std::string& source = "single-file checkpoint");
// SD 1.x / 2.x (one text encoder).
ConvertedCheckpoint convertSingleFile(const std::map<std::string, torch::Tensor>& checkpoint,
                                      const nlohmann::json& unetConfig, const nlohmann::json& vaeConfig,
                                      const nlohmann::json& textConfig,
                                      const std::string& source = "single-file checkpoint");

}  // namespace respo::models
