#include "core/io/gaussian_blur.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace respo::io {
namespace {

// Pillow's _gaussian_blur_radius, in its float / double mix.
float boxRadius(float radius, int passes) {
  const float sigma2 = radius * radius / static_cast<float>(passes);
  const float length = static_cast<float>(std::sqrt(12.0 * sigma2 + 1.0));
  const float whole = static_cast<float>(std::floor((length - 1.0) / 2.0));
  float fraction = (2 * whole + 1) * (whole * (whole + 1) - 3 * sigma2);
  fraction /= 6 * (sigma2 - (whole + 1) * (whole + 1));
  return whole + fraction;
}

// One line of Pillow's ImagingLineBoxBlur8: `in` holds `count` values `stride` apart, `out` receives them
// contiguously.
void blurLine(std::uint8_t* out, const std::uint8_t* in, std::size_t stride, int count, int radius, int edgeA,
              int edgeB, std::uint32_t ww, std::uint32_t fw) {
  const int lastx = count - 1;
  auto at = [&](int x) -> std::uint32_t { return in[static_cast<std::size_t>(x) * stride]; };
  std::uint32_t acc = at(0) * static_cast<std::uint32_t>(radius + 1);
  for (int x = 0; x < edgeA - 1; ++x) acc += at(x);
  acc += at(lastx) * static_cast<std::uint32_t>(radius - edgeA + 1);
  auto step = [&](int x, int subtract, int add, int left, int right) {
    acc += at(add) - at(subtract);
    const std::uint32_t bulk = acc * ww + (at(left) + at(right)) * fw;
    out[x] = static_cast<std::uint8_t>((bulk + (1u << 23)) >> 24);
  };
  if (edgeA <= edgeB) {
    for (int x = 0; x < edgeA; ++x) step(x, 0, x + radius, 0, x + radius + 1);
    for (int x = edgeA; x < edgeB; ++x) step(x, x - radius - 1, x + radius, x - radius - 1, x + radius + 1);
    for (int x = edgeB; x <= lastx; ++x) step(x, x - radius - 1, lastx, x - radius - 1, lastx);
  } else {
    for (int x = 0; x < edgeB; ++x) step(x, 0, x + radius, 0, x + radius + 1);
    for (int x = edgeB; x < edgeA; ++x) step(x, 0, lastx, 0, lastx);
    for (int x = edgeA; x <= lastx; ++x) step(x, x - radius - 1, lastx, x - radius - 1, lastx);
  }
}

// Pillow's ImagingHorizontalBoxBlur along one axis of an interleaved 3-channel image, in place.
void boxBlurAxis(std::vector<std::uint8_t>& pixels, int width, int height, bool vertical, float floatRadius) {
  const int count = vertical ? height : width;
  const int lines = vertical ? width : height;
  const int radius = static_cast<int>(floatRadius);
  const auto ww = static_cast<std::uint32_t>(static_cast<float>(1u << 24) / (floatRadius * 2 + 1));
  const std::uint32_t fw = ((1u << 24) - static_cast<std::uint32_t>(radius * 2 + 1) * ww) / 2;
  const int edgeA = std::min(radius + 1, count);
  const int edgeB = std::max(count - radius - 1, 0);
  const std::size_t stride = vertical ? static_cast<std::size_t>(width) * 3 : 3;
  std::vector<std::uint8_t> line(static_cast<std::size_t>(count));
  for (int l = 0; l < lines; ++l)
    for (int c = 0; c < 3; ++c) {
      std::uint8_t* start = pixels.data() + (vertical ? static_cast<std::size_t>(l) * 3 : static_cast<std::size_t>(l) * width * 3) + c;
      blurLine(line.data(), start, stride, count, radius, edgeA, edgeB, ww, fw);
      for (int x = 0; x < count; ++x) start[static_cast<std::size_t>(x) * stride] = line[static_cast<std::size_t>(x)];
    }
}

}  // namespace

RgbImage gaussianBlurLikePillow(const RgbImage& image, double radius) {
  if (!std::isfinite(radius) || radius < 0 || radius > 1024)
    throw InvalidArgument("the blur radius must be between 0 and 1024 pixels, got " + std::to_string(radius));
  if (radius == 0 || image.empty()) return image;
  constexpr int kPasses = 3;
  const float box = boxRadius(static_cast<float>(radius), kPasses);
  RgbImage out = image;
  // Pillow: every horizontal pass, then (on the transposed image) every vertical pass.
  for (int i = 0; i < kPasses; ++i) boxBlurAxis(out.pixels, out.width, out.height, false, box);
  for (int i = 0; i < kPasses; ++i) boxBlurAxis(out.pixels, out.width, out.height, true, box);
  return out;
}

}  // namespace respo::io
