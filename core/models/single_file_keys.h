#pragma once
// Single-file Stable Diffusion checkpoints, the part that needs no tensors: which family a file is
// (from its key names), and how every tensor the configs imply maps to a diffusers name with which
// shape, checked against the file's tensor names and shapes. single_file.h applies the result to
// LibTorch tensors. Kept free of LibTorch so the whole mapping can be tested and fuzzed on its own.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace respo::models {

enum class CheckpointFamily { SD1, SD2, SDXL };

const char* familyName(CheckpointFamily family);  // "SD 1.x", "SD 2.x", "SDXL"

// SD2 when the text encoder is OpenCLIP (cond_stage_model.model.*), SD1 when it is CLIP
// (cond_stage_model.transformer.*), SDXL when the conditioner holds CLIP and OpenCLIP
// (conditioner.embedders.0.transformer.*, conditioner.embedders.1.model.*). Throws FormatError for
// anything else (the SDXL refiner, SD3, a diffusers folder's file, random tensors) with a message
// saying what the keys look like. `source` names the file in messages.
CheckpointFamily detectFamily(const std::vector<std::string>& keys,
                              const std::string& source = "single-file checkpoint");

// The diffusers/transformers configs that describe the checkpoint.
struct CheckpointConfigs {
  nlohmann::json unet, vae, textEncoder;
  nlohmann::json textEncoder2;  // SDXL's second text encoder; null otherwise
};

// What the file holds: each tensor's shape and whether it is floating point.
struct StoredTensor {
  std::vector<std::int64_t> shape;
  bool floatingPoint = true;
};
using CheckpointIndex = std::map<std::string, StoredTensor>;

// How a stored tensor becomes a diffusers one.
enum class TensorLayout {
  Same,     // identical shape
  Proj,     // a 1x1 convolution [o,i,1,1] or a linear [o,i]: reshaped to the target
  QkvPart0, // the first, second or third equal slice (dim 0) of a fused q/k/v projection
  QkvPart1,
  QkvPart2,
  Transposed,  // a matrix stored the other way round (OpenCLIP's text_projection: x @ P)
};

struct MappedTensor {
  std::string ldm;        // the file's key
  std::string diffusers;  // the model's key
  std::vector<std::int64_t> shape;  // what the config implies for the diffusers tensor
  TensorLayout layout = TensorLayout::Same;
};

struct CheckpointMapping {
  CheckpointFamily family = CheckpointFamily::SD1;
  std::vector<MappedTensor> unet, vae, textEncoder, textEncoder2;
  // Tensors of the file that are not part of the models (EMA copies, schedule buffers, ...). Sorted.
  std::vector<std::string> ignoredKeys;
};

// Validates the configs (the same checks the models' config readers make, so nothing is built from
// absurd values), plans every tensor they imply and checks each against the file. Throws
// FormatError when a tensor is missing, has another shape, is not floating point, or when the file
// has UNet / VAE / text tensors the configs do not account for.
CheckpointMapping mapSingleFile(const CheckpointIndex& checkpoint, const CheckpointConfigs& configs,
                                const std::string& source = "single-file checkpoint");

}  // namespace respo::models
