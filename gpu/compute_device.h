#pragma once
// Where and in which precision the engine runs: a CUDA GPU with half precision when one is
// present, the CPU in fp32 otherwise, or what the user asked for.
#include <string>
#include <vector>

#include <torch/types.h>

namespace respo::gpu {

enum class DevicePreference { Automatic, Cpu, Cuda };
enum class Precision { Automatic, Float32, Float16, BFloat16 };

struct ComputeDevice {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  std::string description;  // "CPU (2 threads), float32" / "CUDA 0: NVIDIA H200, float16"
};

// Throws respo::InvalidArgument when CUDA is asked for but absent, or the precision is not
// supported on the device (half precision on the CPU is refused: it is slow and inexact there).
ComputeDevice chooseDevice(DevicePreference device = DevicePreference::Automatic,
                           Precision precision = Precision::Automatic);

DevicePreference parseDevicePreference(const std::string& text);  // "auto", "cpu", "cuda"
Precision parsePrecision(const std::string& text);                // "auto", "fp32", "fp16", "bf16"

// One line per usable device, for `respodiff devices` and the app's About box.
std::vector<std::string> describeDevices();

}  // namespace respo::gpu
