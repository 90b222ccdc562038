#include "gpu/cuda_runtime.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace respo::gpu {

const CudaRuntime& loadCudaRuntime() {
  static CudaRuntime runtime;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* off = std::getenv("RESPODIFF_NO_CUDA");
    if (off && *off && std::string(off) != "0") {
      runtime.detail = "not loaded (RESPODIFF_NO_CUDA is set)";
      return;
    }
    // Already part of the process (linked directly): nothing to do.
    if (void* handle = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) {
      runtime.loaded = true;
      runtime.detail = "libtorch_cuda.so (linked)";
      dlclose(handle);
      return;
    }
    // Searched along the program's RUNPATH: the build's LibTorch, or lib/respodiff when installed.
    // The handle is kept for the life of the process: the kernels it registered live in it.
    if (dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL)) {
      runtime.loaded = true;
      runtime.detail = "libtorch_cuda.so";
      return;
    }
    const char* why = dlerror();
    runtime.detail = std::string("not installed (") + (why ? why : "libtorch_cuda.so not found") + ")";
  });
  return runtime;
}

}  // namespace respo::gpu
