#include "gpu/compute_device.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "gpu/cuda_runtime.h"

namespace respo::gpu {
namespace {

std::string dtypeLabel(torch::Dtype dtype) {
  if (dtype == torch::kFloat16) return "float16";
  if (dtype == torch::kBFloat16) return "bfloat16";
  return "float32";
}

std::string cpuLabel() { return "CPU (" + std::to_string(at::get_num_threads()) + " threads)"; }

std::string cudaLabel(int index) {
  return "CUDA " + std::to_string(index);
}

}  // namespace

ComputeDevice chooseDevice(DevicePreference preference, Precision precision) {
  const bool cuda = preference != DevicePreference::Cpu && loadCudaRuntime().loaded && torch::cuda::is_available();
  if (preference == DevicePreference::Cuda && !cuda)
    throw InvalidArgument(loadCudaRuntime().loaded
                              ? "a CUDA GPU was requested but none is available (LibTorch sees no CUDA device)"
                              : "a CUDA GPU was requested but LibTorch's CUDA part is " + loadCudaRuntime().detail +
                                    "; install the CUDA package");
  ComputeDevice chosen;
  const bool useCuda = preference == DevicePreference::Cuda || (preference == DevicePreference::Automatic && cuda);
  if (useCuda) {
    chosen.device = torch::Device(torch::kCUDA, 0);
    chosen.dtype = precision == Precision::Float32   ? torch::kFloat32
                   : precision == Precision::BFloat16 ? torch::kBFloat16
                                                      : torch::kFloat16;
    chosen.description = cudaLabel(0) + ", " + dtypeLabel(chosen.dtype);
    return chosen;
  }
  if (precision == Precision::Float16 || precision == Precision::BFloat16)
    throw InvalidArgument("half precision is only offered on a CUDA GPU; the CPU runs in fp32");
  chosen.description = cpuLabel() + ", float32";
  return chosen;
}

DevicePreference parseDevicePreference(const std::string& text) {
  if (text == "auto") return DevicePreference::Automatic;
  if (text == "cpu") return DevicePreference::Cpu;
  if (text == "cuda" || text == "gpu") return DevicePreference::Cuda;
  throw InvalidArgument("unknown device '" + text + "' (choose auto, cpu or cuda)");
}

Precision parsePrecision(const std::string& text) {
  if (text == "auto") return Precision::Automatic;
  if (text == "fp32") return Precision::Float32;
  if (text == "fp16") return Precision::Float16;
  if (text == "bf16") return Precision::BFloat16;
  throw InvalidArgument("unknown precision '" + text + "' (choose auto, fp32, fp16 or bf16)");
}

std::vector<std::string> describeDevices() {
  std::vector<std::string> lines{cpuLabel() + ": float32"};
  if (!loadCudaRuntime().loaded) {
    lines.push_back("CUDA: " + loadCudaRuntime().detail);
    return lines;
  }
  const auto count = torch::cuda::device_count();
  for (int i = 0; i < static_cast<int>(count); ++i) lines.push_back(cudaLabel(i) + ": float32, float16, bfloat16");
  return lines;
}

}  // namespace respo::gpu
