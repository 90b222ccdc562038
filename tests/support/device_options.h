#pragma once
// Device and precision for the parity tests, from --device (cpu, cuda) and --precision (fp32, fp16,
// bf16), with the tolerances each precision is held to. The CPU/fp32 defaults are what CI runs;
// scripts/gpu-check.sh runs the same tests on a GPU.
#include <string>

#include <ATen/Context.h>
#include <torch/types.h>

#include "tests/support/testing.h"

namespace respo::testing {

struct DeviceOptions {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  double componentTolerance = 1e-4;  // max |ours - reference| / max |reference|
  double imageTolerance = 1e-3;
  std::string label = "cpu fp32";
};

inline DeviceOptions deviceOptions() {
  DeviceOptions o;
  const std::string device = option("device"), precision = option("precision");
  if (device == "cuda") {
    o.device = torch::Device(torch::kCUDA, 0);
    // Strict fp32 on the GPU: TF32 convolutions and matmuls would cost ~1e-3 of accuracy.
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  if (precision == "fp16" || precision == "bf16") {
    o.dtype = precision == "fp16" ? torch::kFloat16 : torch::kBFloat16;
    o.componentTolerance = precision == "fp16" ? 2e-2 : 6e-2;
    o.imageTolerance = precision == "fp16" ? 3e-2 : 8e-2;
  }
  o.label = (device.empty() ? std::string("cpu") : device) + " " + (precision.empty() ? std::string("fp32") : precision);
  return o;
}

}  // namespace respo::testing
