#pragma once
// LibTorch's CUDA half (libtorch_cuda.so with cuDNN, cuBLAS, NCCL: about 2.5 GB) is not linked
// into the programs: a CPU-only installation does without it. The first question about CUDA loads
// it when it is installed beside LibTorch's CPU half (the optional CUDA package, or the build's
// LibTorch); its static initializers register the CUDA kernels and hooks with the CPU half.
// Builds configured with RESPODIFF_WITH_CUDA=ON link it directly and this finds it loaded.
#include <string>

namespace respo::gpu {

struct CudaRuntime {
  bool loaded = false;
  std::string detail;  // the library loaded, or why not (the loader's message)
};

// Loads it once per process (thread-safe); later calls return the first answer.
// RESPODIFF_NO_CUDA=1 in the environment skips loading (CPU only, faster start).
const CudaRuntime& loadCudaRuntime();

}  // namespace respo::gpu
