// Applies the checked mapping of single_file_keys.h to a checkpoint's tensors: reshapes, slices and
// transposes (views wherever possible, no copies).
#include "core/models/single_file.h"

#include <torch/torch.h>

namespace respo::models {
namespace {

torch::Tensor apply(const MappedTensor& entry, const torch::Tensor& source) {
  switch (entry.layout) {
    case TensorLayout::Same: return source;
    case TensorLayout::Proj: return source.reshape(entry.shape);
    case TensorLayout::QkvPart0:
    case TensorLayout::QkvPart1:
    case TensorLayout::QkvPart2: {
      const auto part = static_cast<std::int64_t>(entry.layout) - static_cast<std::int64_t>(TensorLayout::QkvPart0);
      return source.narrow(0, part * entry.shape[0], entry.shape[0]);
    }
    case TensorLayout::Transposed: return source.t().contiguous();
  }
  return source;
}

}  // namespace

ConvertedCheckpoint convertSingleFile(const std::map<std::string, torch::Tensor>& checkpoint,
                                      const nlohmann::json& unetConfig, const nlohmann::json& vaeConfig,
                                      const nlohmann::json& textConfig, const std::string& source) {
  return convertSingleFile(checkpoint, CheckpointConfigs{unetConfig, vaeConfig, textConfig, nullptr}, source);
}

ConvertedCheckpoint convertSingleFile(const std::map<std::string, torch::Tensor>& checkpoint,
                                      const CheckpointConfigs& configs, const std::string& source) {
  CheckpointIndex index;
  for (const auto& [key, tensor] : checkpoint)
    index[key] = {tensor.defined() ? tensor.sizes().vec() : std::vector<std::int64_t>{},
                  tensor.defined() && tensor.is_floating_point()};
  const CheckpointMapping mapping = mapSingleFile(index, configs, source);
  ConvertedCheckpoint result;
  result.family = mapping.family;
  result.ignoredKeys = mapping.ignoredKeys;
  const std::pair<const std::vector<MappedTensor>*, std::map<std::string, torch::Tensor>*> parts[] = {
      {&mapping.unet, &result.unet}, {&mapping.vae, &result.vae}, {&mapping.textEncoder, &result.textEncoder},
      {&mapping.textEncoder2, &result.textEncoder2}};
  for (const auto& [mapped, out] : parts)
    for (const auto& entry : *mapped) (*out)[entry.diffusers] = apply(entry, checkpoint.at(entry.ldm));
  return result;
}

}  // namespace respo::models
