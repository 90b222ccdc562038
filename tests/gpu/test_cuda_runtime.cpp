// gpu/cuda_runtime.h: LibTorch's CUDA half is not linked; it is loaded on the first question about
// CUDA, and loading it registers the CUDA kernels with the CPU half (checked in the dispatcher, so
// it holds on a machine without a GPU). A CPU choice does not load it.
#include <dlfcn.h>

#include <ATen/core/dispatch/Dispatcher.h>

#include "gpu/compute_device.h"
#include "gpu/cuda_runtime.h"
#include "tests/support/testing.h"

using namespace respo;

namespace {

bool inProcess() {
  void* handle = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_NOLOAD);
  if (handle) dlclose(handle);
  return handle != nullptr;
}

bool addHasCudaKernel() {
  const auto op = c10::Dispatcher::singleton().findSchema({"aten::add", "Tensor"});
  return op && op->hasKernelForDispatchKey(c10::DispatchKey::CUDA);
}

}  // namespace

// One test: the order matters (a process loads the library once).
RESPO_TEST(cuda_half_is_loaded_on_demand_and_registers_its_kernels) {
  REQUIRE(!inProcess());
  EXPECT(!addHasCudaKernel());
  const auto cpu = gpu::chooseDevice(gpu::DevicePreference::Cpu);
  EXPECT(cpu.device.is_cpu());
  EXPECT(!inProcess());  // asking for the CPU costs no CUDA load

  const auto& runtime = gpu::loadCudaRuntime();
  EXPECT(runtime.loaded);  // the build's LibTorch has it
  EXPECT(inProcess());
  EXPECT(addHasCudaKernel());
  EXPECT(&gpu::loadCudaRuntime() == &runtime);  // once per process
  const auto lines = gpu::describeDevices();
  REQUIRE(!lines.empty());
  EXPECT(lines.front().rfind("CPU", 0) == 0);
  // Without a GPU the automatic choice still lands on the CPU, in fp32.
  const auto automatic = gpu::chooseDevice();
  if (automatic.device.is_cpu()) EXPECT(automatic.dtype == torch::kFloat32);
}
