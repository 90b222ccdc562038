#include "core/models/component_weights.h"

#include <nlohmann/json.hpp>

#include "core/common/json.h"
#include "core/models/shard_index.h"
#include <set>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/io/read_file.h"
#include "core/io/safetensors_torch.h"

namespace respo::models {
namespace fs = std::filesystem;

bool isPickleFile(const fs::path& file) {
  const auto ext = file.extension().string();
  return ext == ".bin" || ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".pkl";
}

void refusePickle(const fs::path& file) {
  throw FormatError(file.string() +
                    ": is a pickle checkpoint, which RespoDiff Studio never opens: unpickling runs code stored in "
                    "the file. Convert it once to .safetensors in a trusted Python environment, e.g. "
                    "`python -c \"import torch, safetensors.torch as s; "
                    "s.save_file(torch.load('IN', weights_only=True), 'OUT.safetensors')\"` (for a full "
                    "checkpoint, save its 'state_dict' entry), or use the model's safetensors release.");
}

namespace {

void addFile(std::map<std::string, torch::Tensor>& weights, const fs::path& file, bool copies) {
  const auto st = io::SafetensorsFile::open(file);
  for (auto& [name, tensor] : io::loadAll(st, copies ? io::TensorMemory::Copies : io::TensorMemory::Views))
    if (!weights.emplace(name, tensor).second)
      throw FormatError(file.string() + ": tensor '" + name + "' also appears in another shard");
}

}  // namespace

std::map<std::string, torch::Tensor> loadComponentWeights(const fs::path& folder, const std::string& variant,
                                                          bool copies) {
  if (!fs::is_directory(folder)) throw IoError(folder.string() + ": no such folder");
  const std::string suffix = variant.empty() ? "" : "." + variant;
  std::map<std::string, torch::Tensor> weights;
  for (const std::string base : {"diffusion_pytorch_model", "model"}) {
    const fs::path single = folder / (base + suffix + ".safetensors");
    if (fs::exists(single)) {
      addFile(weights, single, copies);
      return weights;
    }
    const fs::path index = folder / (base + ".safetensors.index" + suffix + ".json");
    const fs::path indexAlt = folder / (base + suffix + ".safetensors.index.json");
    const fs::path found = fs::exists(index) ? index : indexAlt;
    if (fs::exists(found)) {
      const auto shards = shardFiles(io::readJsonFile(found, 16u << 20), found.string());
      for (const auto& shard : shards) addFile(weights, folder / shard, copies);
      return weights;
    }
  }
  for (const auto& entry : fs::directory_iterator(folder))
    if (isPickleFile(entry.path())) refusePickle(entry.path());
  throw IoError(folder.string() + ": no weights found (expected diffusion_pytorch_model" + suffix +
                ".safetensors or model" + suffix + ".safetensors)");
}

}  // namespace respo::models
