#include "core/models/winograd.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::models::winograd {
namespace {

// Off unless asked: the kept transforms cost memory (four times each weight they cover).
std::atomic<Mode> currentMode{Mode::Off};
// A generation's own choice (ScopedMode), on the thread that runs it; unset: the process-wide mode.
thread_local std::optional<Mode> threadMode;

// Below these the transforms cost more than the fourfold saving in products: measured with
// `respodiff benchmark --winograd-sweep` on a 2-core AVX2 machine (docs/speed.md).
constexpr int64_t kMinChannels = 256;    // input and output channels
constexpr int64_t kMinTilesPerImage = 64;  // 4x4 output tiles (a 32x32 feature map)
// The transformed input and product of one chunk of tile rows stay under this many floats each.
constexpr int64_t kChunkFloats = int64_t{6} << 20;
constexpr int64_t kWeightBlock = 256;  // filters transformed together

// Built for AVX2 as well where the compiler can (chosen when the program starts); the same
// operations in the same order, so the bits do not depend on the choice.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RESPO_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RESPO_VECTOR_CLONES
#endif

// The one-dimensional input transform B^T d (points 0, 1, -1, 2, -2 and infinity) of n columns:
// d0..d5 are the six inputs of each column, r0..r5 its six outputs.
inline void inputLines(const float* __restrict d0, const float* __restrict d1, const float* __restrict d2,
                       const float* __restrict d3, const float* __restrict d4, const float* __restrict d5,
                       float* __restrict r0, float* __restrict r1, float* __restrict r2, float* __restrict r3,
                       float* __restrict r4, float* __restrict r5, int64_t n) {
  for (int64_t x = 0; x < n; ++x) {
    const float a1 = d1[x], a2 = d2[x], a3 = d3[x], a4 = d4[x];
    r0[x] = 4.0f * d0[x] - 5.0f * a2 + a4;
    r1[x] = -4.0f * (a1 + a2) + a3 + a4;
    r2[x] = 4.0f * (a1 - a2) - a3 + a4;
    r3[x] = 2.0f * (a3 - a1) - a2 + a4;
    r4[x] = 2.0f * (a1 - a3) - a2 + a4;
    r5[x] = 4.0f * a1 - 5.0f * a3 + d5[x];
  }
}

// The one-dimensional output transform A^T m of n columns: six values to four.
inline void outputLines(const float* __restrict m0, const float* __restrict m1, const float* __restrict m2,
                        const float* __restrict m3, const float* __restrict m4, const float* __restrict m5,
                        float* __restrict o0, float* __restrict o1, float* __restrict o2, float* __restrict o3,
                        int64_t n) {
  for (int64_t x = 0; x < n; ++x) {
    const float s12 = m1[x] + m2[x], d12 = m1[x] - m2[x], s34 = m3[x] + m4[x], d34 = m3[x] - m4[x];
    o0[x] = m0[x] + s12 + s34;
    o1[x] = d12 + 2.0f * d34;
    o2[x] = s12 + 4.0f * s34;
    o3[x] = d12 + 8.0f * d34 + m5[x];
  }
}

// One input channel's tiles for tile rows [ty0, ty1) into v (its 36 planes planeStride apart, this
// channel's row of each at offset 0). scratch holds 16 * (4 * tilesWide + 2) floats.
RESPO_VECTOR_CLONES void inputChannel(const float* plane, int64_t height, int64_t width, int64_t tilesWide,
                                      int64_t ty0, int64_t ty1, int64_t planeStride, float* v, float* scratch) {
  const int64_t span = tilesWide * 4 + 2, lanes = tilesWide + 1;
  float* rows = scratch;              // 6 x span: the padded input rows
  float* cols = rows + 6 * span;      // 6 x span: transformed down the columns
  float* lane = cols + 6 * span;      // 4 x lanes: one transformed row split by column within the tile
  for (int64_t ty = ty0; ty < ty1; ++ty) {
    for (int64_t r = 0; r < 6; ++r) {
      float* row = rows + r * span;
      const int64_t y = ty * 4 - 1 + r;
      std::fill(row, row + span, 0.0f);
      if (y >= 0 && y < height) std::copy(plane + y * width, plane + y * width + width, row + 1);
    }
    inputLines(rows, rows + span, rows + 2 * span, rows + 3 * span, rows + 4 * span, rows + 5 * span, cols,
               cols + span, cols + 2 * span, cols + 3 * span, cols + 4 * span, cols + 5 * span, span);
    float* out = v + (ty - ty0) * tilesWide;
    for (int64_t i = 0; i < 6; ++i) {
      // Tile tx reads columns 4 tx .. 4 tx + 5: lanes 0..3 at tx, then lanes 0 and 1 at tx + 1.
      const float* line = cols + i * span;
      float *q0 = lane, *q1 = lane + lanes, *q2 = lane + 2 * lanes, *q3 = lane + 3 * lanes;
      for (int64_t t = 0; t < tilesWide; ++t)
        q0[t] = line[4 * t], q1[t] = line[4 * t + 1], q2[t] = line[4 * t + 2], q3[t] = line[4 * t + 3];
      q0[tilesWide] = line[4 * tilesWide], q1[tilesWide] = line[4 * tilesWide + 1];
      float* target = out + i * 6 * planeStride;
      inputLines(q0, q1, q2, q3, q0 + 1, q1 + 1, target, target + planeStride, target + 2 * planeStride,
                 target + 3 * planeStride, target + 4 * planeStride, target + 5 * planeStride, tilesWide);
    }
  }
}

// One output channel's pixels for tile rows [ty0, ty1) from the product m (36 planes planeStride
// apart, this channel's row at offset 0), plus its bias. scratch holds 40 * tilesWide floats.
RESPO_VECTOR_CLONES void outputChannel(const float* m, float bias, int64_t height, int64_t width, int64_t tilesWide,
                                       int64_t ty0, int64_t ty1, int64_t planeStride, float* plane, float* scratch) {
  float* half = scratch;                    // [i][o2][tx]: transformed along j
  float* full = scratch + 24 * tilesWide;   // [o1][o2][tx]: along i as well
  const int64_t n = tilesWide;
  for (int64_t ty = ty0; ty < ty1; ++ty) {
    const float* base = m + (ty - ty0) * tilesWide;
    for (int64_t i = 0; i < 6; ++i) {
      const float* p = base + i * 6 * planeStride;
      float* h = half + i * 4 * n;
      outputLines(p, p + planeStride, p + 2 * planeStride, p + 3 * planeStride, p + 4 * planeStride,
                  p + 5 * planeStride, h, h + n, h + 2 * n, h + 3 * n, n);
    }
    for (int64_t o2 = 0; o2 < 4; ++o2) {
      const float* h = half + o2 * n;
      float* f = full + o2 * n;
      outputLines(h, h + 4 * n, h + 8 * n, h + 12 * n, h + 16 * n, h + 20 * n, f, f + 4 * n, f + 8 * n, f + 12 * n, n);
    }
    // full[o1][o2][tx] is output row 4 ty + o1, column 4 tx + o2.
    for (int64_t o1 = 0; o1 < 4 && ty * 4 + o1 < height; ++o1) {
      float* row = plane + (ty * 4 + o1) * width;
      const float* f = full + o1 * 4 * n;
      const int64_t whole = std::min(tilesWide, width / 4);
      for (int64_t tx = 0; tx < whole; ++tx)
        row[4 * tx] = f[tx] + bias, row[4 * tx + 1] = f[n + tx] + bias, row[4 * tx + 2] = f[2 * n + tx] + bias,
                 row[4 * tx + 3] = f[3 * n + tx] + bias;
      for (int64_t x = whole * 4; x < width; ++x) row[x] = f[(x % 4) * n + x / 4] + bias;
    }
  }
}

// The one-dimensional kernel transform G g of n columns: three taps to six values.
inline void kernelLines(const float* __restrict g0, const float* __restrict g1, const float* __restrict g2,
                        float* __restrict r0, float* __restrict r1, float* __restrict r2, float* __restrict r3,
                        float* __restrict r4, float* __restrict r5, int64_t n) {
  for (int64_t x = 0; x < n; ++x) {
    const float a = g0[x], b = g1[x], c = g2[x];
    r0[x] = a * 0.25f;
    r1[x] = (a + b + c) * (-1.0f / 6.0f);
    r2[x] = (a - b + c) * (-1.0f / 6.0f);
    r3[x] = a * (1.0f / 24.0f) + b * (1.0f / 12.0f) + c * (1.0f / 6.0f);
    r4[x] = a * (1.0f / 24.0f) - b * (1.0f / 12.0f) + c * (1.0f / 6.0f);
    r5[x] = c;
  }
}

// G f G^T of `count` (at most kWeightBlock) 3x3 filters stored one after the other: into
// scratch[position][filter] for the 36 positions; scratch holds 63 * kWeightBlock floats.
RESPO_VECTOR_CLONES void weightBlock(const float* filters, int64_t count, float* scratch) {
  float* out = scratch;                        // [36][block]
  float* taps = scratch + 36 * kWeightBlock;   // [9][block]: tap e of each filter
  float* half = taps + 9 * kWeightBlock;       // [6][3][block]: transformed down the filter's columns
  for (int64_t q = 0; q < count; ++q)
    for (int64_t e = 0; e < 9; ++e) taps[e * kWeightBlock + q] = filters[q * 9 + e];
  auto at = [](float* base, int64_t row) { return base + row * kWeightBlock; };
  for (int64_t j = 0; j < 3; ++j)
    kernelLines(at(taps, j), at(taps, 3 + j), at(taps, 6 + j), at(half, j), at(half, 3 + j), at(half, 6 + j),
                at(half, 9 + j), at(half, 12 + j), at(half, 15 + j), count);
  for (int64_t a = 0; a < 6; ++a)
    kernelLines(at(half, 3 * a), at(half, 3 * a + 1), at(half, 3 * a + 2), at(out, 6 * a), at(out, 6 * a + 1),
                at(out, 6 * a + 2), at(out, 6 * a + 3), at(out, 6 * a + 4), at(out, 6 * a + 5), count);
}

// Transformed input of one image for tile rows [ty0, ty1): v [36][C][tiles of the chunk].
void transformInput(const float* image, int64_t channels, int64_t height, int64_t width, int64_t tilesWide,
                    int64_t ty0, int64_t ty1, float* v) {
  const int64_t chunkTiles = (ty1 - ty0) * tilesWide, planeStride = channels * chunkTiles;
  at::parallel_for(0, channels, 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> scratch(static_cast<std::size_t>(16 * (4 * tilesWide + 2)));
    for (int64_t c = c0; c < c1; ++c)
      inputChannel(image + c * height * width, height, width, tilesWide, ty0, ty1, planeStride, v + c * chunkTiles,
                   scratch.data());
  });
}

// Output of one image from the product m [36][K][tiles of the chunk], plus the bias.
void transformOutput(const float* m, const float* bias, int64_t outChannels, int64_t height, int64_t width,
                     int64_t tilesWide, int64_t ty0, int64_t ty1, float* image) {
  const int64_t chunkTiles = (ty1 - ty0) * tilesWide, planeStride = outChannels * chunkTiles;
  at::parallel_for(0, outChannels, 1, [&](int64_t k0, int64_t k1) {
    std::vector<float> scratch(static_cast<std::size_t>(40 * tilesWide));
    for (int64_t k = k0; k < k1; ++k)
      outputChannel(m + k * chunkTiles, bias ? bias[k] : 0.0f, height, width, tilesWide, ty0, ty1, planeStride,
                    image + k * height * width, scratch.data());
  });
}

}  // namespace

void setMode(Mode m) { currentMode.store(m); }
Mode mode() { return threadMode ? *threadMode : currentMode.load(); }

ScopedMode::ScopedMode(std::optional<Mode> m) : previous_(threadMode), active_(m.has_value()) {
  if (active_) threadMode = m;
}
ScopedMode::~ScopedMode() {
  if (active_) threadMode = previous_;
}
Mode parseMode(const std::string& name) {
  if (name == "winograd") return Mode::Auto;
  if (name == "direct") return Mode::Off;
  throw InvalidArgument("convolutions: '" + name + "' is not one of winograd, direct");
}

bool applies(const torch::Tensor& x, const torch::Tensor& weight, int64_t stride, int64_t padding) {
  if (mode() == Mode::Off || stride != 1 || padding != 1) return false;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32 || x.dim() != 4 || weight.dim() != 4) return false;
  if (weight.size(2) != 3 || weight.size(3) != 3 || weight.size(1) != x.size(1)) return false;
  // Half-precision weight storage is chosen to save memory, which kept transforms would undo.
  if (weight.scalar_type() != torch::kFloat32) return false;
  if (torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad())) return false;
  const int64_t tiles = ((x.size(2) + 3) / 4) * ((x.size(3) + 3) / 4);
  return x.size(1) >= kMinChannels && weight.size(0) >= kMinChannels && tiles >= kMinTilesPerImage;
}

torch::Tensor transformWeight(const torch::Tensor& weight) {
  if (weight.dim() != 4 || weight.size(2) != 3 || weight.size(3) != 3)
    throw InvalidArgument("Winograd convolution: the weight must be [K, C, 3, 3]");
  const auto w = weight.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t k = w.size(0), c = w.size(1), pairs = k * c;
  auto u = torch::empty({36, k, c}, torch::kFloat32);
  const float* src = w.data_ptr<float>();
  float* dst = u.data_ptr<float>();
  // Blocks of filter pairs are transformed into a local [36][block] buffer, then each of its 36 rows
  // is copied out whole (writing the 36 planes element by element would thrash the cache).
  at::parallel_for(0, (pairs + kWeightBlock - 1) / kWeightBlock, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> scratch(static_cast<std::size_t>(63 * kWeightBlock));
    for (int64_t block = b0; block < b1; ++block) {
      const int64_t first = block * kWeightBlock, count = std::min(kWeightBlock, pairs - first);
      weightBlock(src + first * 9, count, scratch.data());
      for (int64_t position = 0; position < 36; ++position)
        std::copy(scratch.data() + position * kWeightBlock, scratch.data() + position * kWeightBlock + count,
                  dst + position * pairs + first);
    }
  });
  return u;
}

torch::Tensor conv3x3(const torch::Tensor& xIn, const torch::Tensor& u, const torch::Tensor& biasIn) {
  if (xIn.dim() != 4 || u.dim() != 3 || u.size(0) != 36 || u.size(2) != xIn.size(1))
    throw InvalidArgument("Winograd convolution: input [N, C, H, W] and transformed weight [36, K, C] needed");
  torch::NoGradGuard noGrad;
  const auto x = xIn.to(torch::kFloat32).contiguous();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), k = u.size(1);
  const auto bias = biasIn.defined() ? biasIn.to(torch::kFloat32).contiguous() : torch::Tensor();
  auto y = torch::empty({n, k, h, w}, torch::kFloat32);
  if (y.numel() == 0) return y;
  const int64_t tilesHigh = (h + 3) / 4, tilesWide = (w + 3) / 4;
  const int64_t rowsPerChunk =
      std::clamp<int64_t>(kChunkFloats / (36 * std::max(c, k) * tilesWide), 1, tilesHigh);
  // Buffers for the longest chunk; a shorter last chunk uses their beginning, packed to its size.
  const int64_t fullTiles = rowsPerChunk * tilesWide;
  auto vBuffer = torch::empty({36 * c * fullTiles}, torch::kFloat32);
  auto mBuffer = torch::empty({36 * k * fullTiles}, torch::kFloat32);
  for (int64_t image = 0; image < n; ++image) {
    const float* in = x.data_ptr<float>() + image * c * h * w;
    float* out = y.data_ptr<float>() + image * k * h * w;
    for (int64_t ty0 = 0; ty0 < tilesHigh; ty0 += rowsPerChunk) {
      const int64_t ty1 = std::min(tilesHigh, ty0 + rowsPerChunk), tiles = (ty1 - ty0) * tilesWide;
      const auto v = vBuffer.narrow(0, 0, 36 * c * tiles).view({36, c, tiles});
      auto m = mBuffer.narrow(0, 0, 36 * k * tiles).view({36, k, tiles});
      transformInput(in, c, h, w, tilesWide, ty0, ty1, v.data_ptr<float>());
      at::bmm_out(m, u, v);
      transformOutput(m.data_ptr<float>(), bias.defined() ? bias.data_ptr<float>() : nullptr, k, h, w, tilesWide, ty0,
                      ty1, out);
    }
  }
  return y;
}

}  // namespace respo::models::winograd
