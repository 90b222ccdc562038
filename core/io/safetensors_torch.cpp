#include "core/io/safetensors_torch.h"

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::io {

torch::Dtype toTorchDtype(DType dtype) {
  switch (dtype) {
    case DType::F64: return torch::kFloat64;
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    case DType::F8_E4M3: return torch::kFloat8_e4m3fn;
    case DType::F8_E5M2: return torch::kFloat8_e5m2;
    case DType::I64: return torch::kInt64;
    case DType::I32: return torch::kInt32;
    case DType::I16: return torch::kInt16;
    case DType::I8: return torch::kInt8;
    case DType::U64: return torch::kUInt64;
    case DType::U32: return torch::kUInt32;
    case DType::U16: return torch::kUInt16;
    case DType::U8: return torch::kUInt8;
    case DType::BOOL: return torch::kBool;
  }
  throw InvalidArgument("unknown dtype");
}

DType fromTorchDtype(torch::Dtype dtype) {
  for (DType d : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::F8_E4M3, DType::F8_E5M2, DType::I64,
                  DType::I32, DType::I16, DType::I8, DType::U64, DType::U32, DType::U16, DType::U8, DType::BOOL})
    if (toTorchDtype(d) == dtype) return d;
  throw InvalidArgument(std::string("safetensors cannot store tensors of type ") + c10::toString(dtype));
}

torch::Tensor loadTensor(const SafetensorsFile& file, const TensorInfo& info) {
  const auto bytes = file.bytes(info);
  const auto options = torch::TensorOptions().dtype(toTorchDtype(info.dtype)).device(torch::kCPU);
  const auto address = reinterpret_cast<std::uintptr_t>(bytes.data());
  if (bytes.empty() || address % dtypeSize(info.dtype) != 0) {
    auto copy = torch::empty(info.shape, options);
    if (!bytes.empty()) file.mapping()->copyOut(copy.data_ptr(), bytes);
    return copy;
  }
  auto keepAlive = file.mapping();
  return torch::from_blob(bytes.data(), info.shape, [keepAlive](void*) mutable { keepAlive.reset(); }, options);
}

torch::Tensor copyTensor(const SafetensorsFile& file, const TensorInfo& info) {
  const auto bytes = file.bytes(info);
  auto copy = torch::empty(info.shape, torch::TensorOptions().dtype(toTorchDtype(info.dtype)).device(torch::kCPU));
  if (!bytes.empty()) file.mapping()->copyOut(copy.data_ptr(), bytes);
  return copy;
}

torch::Tensor copyTensor(const SafetensorsFile& file, const std::string& name) {
  return copyTensor(file, file.tensor(name));
}

torch::Tensor loadTensor(const SafetensorsFile& file, const std::string& name) {
  return loadTensor(file, file.tensor(name));
}

std::map<std::string, torch::Tensor> loadAll(const SafetensorsFile& file, TensorMemory memory) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& info : file.tensors()) {
    torch::Tensor tensor;
    if (memory == TensorMemory::Copies) {
      tensor = copyTensor(file, info);
      file.mapping()->releasePages(file.bytes(info));
    } else {
      tensor = loadTensor(file, info);
    }
    tensors.emplace(info.name, std::move(tensor));
  }
  return tensors;
}

void saveTensors(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors,
                 const Metadata& metadata) {
  std::vector<torch::Tensor> keep;
  std::vector<TensorBytes> entries;
  keep.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const auto cpu = tensor.detach().to(torch::kCPU).contiguous();
    keep.push_back(cpu);
    TensorBytes entry;
    entry.name = name;
    entry.dtype = fromTorchDtype(cpu.scalar_type());
    entry.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
    entry.data = std::span(static_cast<const std::byte*>(cpu.data_ptr()), cpu.nbytes());
    entries.push_back(entry);
  }
  writeSafetensors(path, entries, metadata);
}

}  // namespace respo::io
