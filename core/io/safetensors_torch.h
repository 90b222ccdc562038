#pragma once
// LibTorch views of safetensors files: tensors that point into the memory map (no copy) when the
// data is suitably aligned, and a writer for torch tensors.
#include <filesystem>
#include <map>
#include <string>

#include <torch/types.h>

#include "core/io/safetensors.h"

namespace respo::io {

torch::Dtype toTorchDtype(DType dtype);
DType fromTorchDtype(torch::Dtype dtype);  // throws InvalidArgument for types safetensors lacks

// A CPU tensor over the file's bytes; it keeps the mapping alive. Copies only when the data is not
// aligned to its element size (possible in files from other writers).
torch::Tensor loadTensor(const SafetensorsFile& file, const TensorInfo& info);
torch::Tensor loadTensor(const SafetensorsFile& file, const std::string& name);
// An independent copy in ordinary memory; IoError (not a crash) when the file was truncated meanwhile.
torch::Tensor copyTensor(const SafetensorsFile& file, const TensorInfo& info);
torch::Tensor copyTensor(const SafetensorsFile& file, const std::string& name);
// Views of the mapping (default), or independent copies in ordinary memory, releasing each
// tensor's pages of the mapping as it goes (peak memory: the copies plus one tensor).
enum class TensorMemory { Views, Copies };
std::map<std::string, torch::Tensor> loadAll(const SafetensorsFile& file, TensorMemory memory = TensorMemory::Views);

// Writes CPU copies of the tensors (contiguous), atomically.
void saveTensors(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors,
                 const Metadata& metadata = {});

}  // namespace respo::io
