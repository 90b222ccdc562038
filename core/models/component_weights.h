#pragma once
// Finds and memory-maps the weights of one diffusers component folder (unet/, vae/, text_encoder/):
// `<name>.safetensors`, its `variant` (e.g. `<name>.fp16.safetensors`) or a sharded
// `<name>.safetensors.index.json`. Pickle files (.bin, .ckpt, .pt) are refused: loading them
// would execute code from the file.
#include <filesystem>
#include <map>
#include <string>

#include <torch/types.h>

namespace respo::models {

// copies: read into ordinary memory (see io::TensorMemory); otherwise views of the file mapping.
std::map<std::string, torch::Tensor> loadComponentWeights(const std::filesystem::path& folder,
                                                          const std::string& variant = "", bool copies = false);

// Refuses a pickle checkpoint with a message that explains why and how to convert it.
[[noreturn]] void refusePickle(const std::filesystem::path& file);
bool isPickleFile(const std::filesystem::path& file);

}  // namespace respo::models
