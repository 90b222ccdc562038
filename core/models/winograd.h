#pragma once
// 3x3 convolutions (stride 1, padding 1) on the CPU by Winograd's minimal filtering F(4x4, 3x3)
// (Lavin and Gray, CVPR 2016): each 4x4 block of output comes from a 6x6 block of input through 36
// elementwise products instead of 144, so the matrix work of such a convolution drops fourfold.
// The input and the output are transformed around one batched matrix product per image: 36
// products of [K, C] x [C, tiles], K output and C input channels.
//
// Numerics: in float32 the result differs from the direct convolution by a few 1e-6 of the output's
// scale (the direct convolution differs from a float64 one by about as much); test_winograd states
// the bound. Each image is computed on its own, so an image's result does not depend on the batch.
#include <cstdint>
#include <optional>
#include <string>

#include <torch/types.h>

namespace respo::models::winograd {

// Which 3x3 convolutions take the Winograd path. Auto: float32 CPU inference with float32 weights,
// enough input and output channels and enough 4x4 tiles per image for the transforms to pay
// (measured; see docs/speed.md); a layer keeps its transformed weight (four times the weight's
// memory). Off, the default: always the direct convolution (oneDNN).
enum class Mode { Auto, Off };
void setMode(Mode mode);
Mode mode();
// "winograd" (Auto) or "direct" (Off); anything else is an InvalidArgument.
Mode parseMode(const std::string& name);

// One generation's choice (GenerationRequest::winogradConvolutions), for the calling thread and the
// guard's lifetime: mode() and applies() on that thread see `mode` instead of the process-wide
// setting, then the previous one again. std::nullopt changes nothing. Guards nest.
class ScopedMode {
 public:
  explicit ScopedMode(std::optional<Mode> mode);
  ~ScopedMode();
  ScopedMode(const ScopedMode&) = delete;
  ScopedMode& operator=(const ScopedMode&) = delete;

 private:
  std::optional<Mode> previous_;
  bool active_;
};

// Whether conv2d(x, weight, stride, padding) goes the Winograd way under mode(): x
// [N, C, H, W] float32 on the CPU, weight [K, C, 3, 3], stride 1, padding 1, no gradient wanted.
bool applies(const torch::Tensor& x, const torch::Tensor& weight, int64_t stride, int64_t padding);

// The weight's transform G w G^T: [K, C, 3, 3] (any floating type) -> [36, K, C] float32.
torch::Tensor transformWeight(const torch::Tensor& weight);

// The convolution of x [N, C, H, W] with a transformed weight u [36, K, C], plus bias [K] when
// defined: [N, K, H, W], as conv2d(x, w, bias, stride 1, padding 1). Any H and W (edge tiles are
// zero-padded and cropped).
torch::Tensor conv3x3(const torch::Tensor& x, const torch::Tensor& u, const torch::Tensor& bias);

}  // namespace respo::models::winograd
