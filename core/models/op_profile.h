#pragma once
// Where the time of a model call goes, and how close it comes to what this machine can do.
//
// profileCall runs a function under LibTorch's profiler (input shapes and FLOP counting on) and sums
// each operator's self time (its time minus that of the operators it called) into categories:
// convolution, attention, linear, GroupNorm, LayerNorm, activation, elementwise, layout copies,
// other. FLOPs are counted for the matrix-class work only (convolutions, matrix products, fused
// attention), which is what a GEMM peak bounds.
//
// measurePeak times plain fp32 matrix products and a 3x3 convolution of an SD-like shape with the same
// LibTorch and thread count, so "fraction of peak" compares like with like.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace respo::models::profile {

struct Category {
  std::string name;
  double selfSeconds = 0;
  double flops = 0;  // matrix-class FLOPs of this category's operators
  int64_t calls = 0;
};

struct Op {
  std::string name;
  double selfSeconds = 0;
  int64_t calls = 0;
};

struct CallProfile {
  std::vector<Category> categories;  // by self time, largest first
  std::vector<Op> ops;               // by self time, largest first
  double profiledSeconds = 0;        // the call's wall time under the profiler
  double flops = 0;                  // matrix-class FLOPs of the call
};

// Runs `call` once under the profiler. Calls on the current thread are seen (LibTorch's intra-op
// threads work inside the operators that started them, so their time is in those operators).
CallProfile profileCall(const std::function<void()>& call);

// The category an operator's self time goes to ("aten::native_group_norm" -> "GroupNorm").
std::string categoryOf(const std::string& op);

// FLOPs of a fused attention operator from its input shapes (q [B, H, L, D], k [B, H, S, D]):
// 2*B*H*L*S*D for QK^T and the same for the product with V. 0 when the shapes do not fit.
double attentionFlops(const std::vector<std::vector<int64_t>>& shapes);

struct Peak {
  double gemmFlopsPerSecond = 0;  // best of square fp32 matrix products
  int64_t gemmSize = 0;           // the size that gave it
  double convFlopsPerSecond = 0;  // 3x3 convolution, 320 -> 320 channels, 64x64, batch 2 (SD1.5's first block)
  double best() const { return gemmFlopsPerSecond > convFlopsPerSecond ? gemmFlopsPerSecond : convFlopsPerSecond; }
};

// Each kernel is warmed up, then timed for about `secondsPerKernel`; the median rate is kept.
Peak measurePeak(double secondsPerKernel = 1.0);

// A plain-text report: the categories with their share of the time and their GFLOP/s, then the `topOps`
// slowest operators.
std::string formatProfile(const CallProfile& profile, std::size_t topOps = 12);

}  // namespace respo::models::profile
