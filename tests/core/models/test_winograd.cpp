// Winograd F(4x4, 3x3) convolution: equal to the direct convolution within float32 rounding for any
// size (edge tiles, chunked tile rows, odd channel counts), the same bits for an image alone or in a
// batch, taken only where it applies, and recomputed when the weight changes.
#include <thread>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/models/layers.h"
#include "core/models/vae.h"
#include "core/models/winograd.h"
#include "tests/support/testing.h"

using namespace respo::models;

namespace {

// Largest difference to the float64 direct convolution, relative to the output's largest value.
double errorAgainstFloat64(const torch::Tensor& y, const torch::Tensor& x, const torch::Tensor& w,
                           const torch::Tensor& b) {
  const auto reference = torch::conv2d(x.to(torch::kFloat64), w.to(torch::kFloat64),
                                       b.defined() ? b.to(torch::kFloat64) : torch::Tensor(), 1, 1);
  return (y.to(torch::kFloat64) - reference).abs().max().item<double>() / reference.abs().max().item<double>();
}

// Restores the mode a test changed.
struct ModeGuard {
  winograd::Mode saved = winograd::mode();
  ~ModeGuard() { winograd::setMode(saved); }
};

}  // namespace

RESPO_TEST(winograd_equals_the_direct_convolution_within_float32_rounding) {
  torch::InferenceMode guard;
  torch::manual_seed(0);
  struct Case {
    int64_t n, c, k, h, w;
    bool bias;
  };
  // Whole tiles; edge tiles in both directions; a single partial tile; channel counts that are not
  // multiples of anything; a map large enough to be cut into chunks of tile rows.
  for (const auto& s : {Case{2, 64, 64, 32, 32, true}, Case{1, 7, 5, 9, 13, true}, Case{3, 3, 11, 2, 3, false},
                        Case{1, 16, 24, 17, 31, true}, Case{1, 64, 72, 200, 256, true}}) {
    const auto x = torch::randn({s.n, s.c, s.h, s.w});
    const auto w = torch::randn({s.k, s.c, 3, 3}) / std::sqrt(9.0 * static_cast<double>(s.c));
    const auto b = s.bias ? torch::randn({s.k}) : torch::Tensor();
    const auto y = winograd::conv3x3(x, winograd::transformWeight(w), b);
    REQUIRE(y.sizes() == torch::IntArrayRef({s.n, s.k, s.h, s.w}));
    const double ours = errorAgainstFloat64(y, x, w, b);
    const double direct = errorAgainstFloat64(torch::conv2d(x, w, b, 1, 1), x, w, b);
    std::cout << "  " << s.n << "x" << s.c << "x" << s.h << "x" << s.w << " -> " << s.k << ": winograd " << ours
              << ", direct " << direct << "\n";
    // The direct float32 convolution is off by a few 1e-7 here; F(4x4, 3x3) by up to ten times that.
    EXPECT(ours < 2e-5);
  }
}

RESPO_TEST(an_image_gets_the_same_bits_alone_or_in_a_batch) {
  torch::InferenceMode guard;
  torch::manual_seed(1);
  const auto x = torch::randn({3, 64, 24, 20});
  const auto u = winograd::transformWeight(torch::randn({96, 64, 3, 3}) * 0.05);
  const auto b = torch::randn({96});
  const auto batched = winograd::conv3x3(x, u, b);
  for (int64_t i = 0; i < 3; ++i) EXPECT(torch::equal(batched[i], winograd::conv3x3(x.slice(0, i, i + 1), u, b)[0]));
}

RESPO_TEST(the_winograd_path_is_taken_only_where_it_applies) {
  ModeGuard restore;
  winograd::setMode(winograd::Mode::Auto);
  const auto w = torch::randn({256, 256, 3, 3});
  const auto x = torch::randn({1, 256, 32, 32});
  {
    torch::NoGradGuard noGrad;
    EXPECT(winograd::applies(x, w, 1, 1));
    EXPECT(!winograd::applies(x, w, 2, 1));                              // strided
    EXPECT(!winograd::applies(x, w, 1, 0));                              // unpadded
    EXPECT(!winograd::applies(x.to(torch::kFloat64), w, 1, 1));          // not float32
    EXPECT(!winograd::applies(torch::randn({1, 256, 16, 16}), w, 1, 1));  // too few tiles to pay
    EXPECT(!winograd::applies(torch::randn({1, 64, 32, 32}), torch::randn({256, 64, 3, 3}), 1, 1));  // too few channels
    EXPECT(!winograd::applies(x, torch::randn({256, 256, 1, 1}), 1, 1));  // not 3x3
    EXPECT(!winograd::applies(x, w.to(torch::kFloat16), 1, 1));  // half-precision storage saves memory
  }
  // Where a gradient is wanted the direct convolution runs (its backward pass is LibTorch's).
  EXPECT(!winograd::applies(x.clone().requires_grad_(true), w, 1, 1));
  EXPECT(!winograd::applies(x, w.clone().requires_grad_(true), 1, 1));
  EXPECT(winograd::applies(x, w, 1, 1));  // nothing requires a gradient
  winograd::setMode(winograd::Mode::Off);
  EXPECT(!winograd::applies(x, w, 1, 1));
}

RESPO_TEST(a_convolution_layer_follows_its_weight_when_it_changes) {
  ModeGuard restore;
  winograd::setMode(winograd::Mode::Auto);
  torch::manual_seed(2);
  Conv2d conv(256, 256, 3, 1, 1);
  conv->initialize();
  const auto x = torch::randn({1, 256, 32, 32});
  torch::NoGradGuard noGrad;
  const auto before = conv->forward(x);
  EXPECT(errorAgainstFloat64(before, x, conv->weight, conv->bias) < 2e-5);
  // An edit in place (a LoRA merge, a weight-editing method) moves the version, not the storage.
  conv->weight.mul_(-0.5);
  const auto after = conv->forward(x);
  EXPECT(errorAgainstFloat64(after, x, conv->weight, conv->bias) < 2e-5);
  // A replaced tensor (loading other weights) has other storage.
  conv->weight.set_data(torch::randn({256, 256, 3, 3}) * 0.01);
  const auto replaced = conv->forward(x);
  EXPECT(errorAgainstFloat64(replaced, x, conv->weight, conv->bias) < 2e-5);
  EXPECT(!torch::equal(replaced, torch::conv2d(x, conv->weight, conv->bias, 1, 1)));  // it did go the Winograd way
  winograd::setMode(winograd::Mode::Off);
  EXPECT(torch::equal(conv->forward(x), torch::conv2d(x, conv->weight, conv->bias, 1, 1)));
}

RESPO_TEST(bad_shapes_are_refused) {
  EXPECT_THROWS(winograd::transformWeight(torch::randn({4, 4, 5, 5})), respo::InvalidArgument, "[K, C, 3, 3]");
  const auto u = winograd::transformWeight(torch::randn({4, 8, 3, 3}));
  EXPECT_THROWS(winograd::conv3x3(torch::randn({1, 6, 8, 8}), u, {}), respo::InvalidArgument, "[36, K, C]");
  EXPECT_THROWS(winograd::conv3x3(torch::randn({6, 8, 8}), u, {}), respo::InvalidArgument, "[N, C, H, W]");
}

RESPO_TEST(weights_without_a_version_counter_follow_an_announced_edit) {
  ModeGuard restore;
  winograd::setMode(winograd::Mode::Auto);
  torch::InferenceMode guard;  // inference tensors: no version counter
  torch::manual_seed(3);
  Conv2d conv(256, 256, 3, 1, 1);
  conv->initialize();
  REQUIRE(conv->weight.is_inference());
  const auto x = torch::randn({1, 256, 32, 32});
  EXPECT(errorAgainstFloat64(conv->forward(x), x, conv->weight, conv->bias) < 2e-5);
  conv->weight.mul_(-0.5);
  weightsChangedInPlace();  // what LoRA merges and weight edits call
  EXPECT(errorAgainstFloat64(conv->forward(x), x, conv->weight, conv->bias) < 2e-5);
}

RESPO_TEST(a_scoped_choice_holds_for_its_thread_and_its_lifetime) {
  ModeGuard restore;
  winograd::setMode(winograd::Mode::Off);
  torch::NoGradGuard noGrad;
  const auto x = torch::randn({1, 256, 32, 32});
  const auto w = torch::randn({256, 256, 3, 3});
  EXPECT(!winograd::applies(x, w, 1, 1));
  {
    const winograd::ScopedMode fast(winograd::Mode::Auto);
    EXPECT(winograd::applies(x, w, 1, 1));
    bool elsewhere = true;
    std::thread([&] { elsewhere = winograd::applies(x, w, 1, 1); }).join();
    EXPECT(!elsewhere);  // another thread keeps the process-wide choice
    {
      const winograd::ScopedMode direct(winograd::Mode::Off);
      EXPECT(!winograd::applies(x, w, 1, 1));
      const winograd::ScopedMode unchanged(std::nullopt);
      EXPECT(winograd::mode() == winograd::Mode::Off);
    }
    EXPECT(winograd::mode() == winograd::Mode::Auto);  // guards nest
  }
  EXPECT(winograd::mode() == winograd::Mode::Off);
  winograd::setMode(winograd::Mode::Auto);
  const winograd::ScopedMode unchanged(std::nullopt);
  EXPECT(winograd::applies(x, w, 1, 1));
}

RESPO_TEST(a_layer_that_does_not_keep_its_transform_gives_the_same_bits) {
  ModeGuard restore;
  winograd::setMode(winograd::Mode::Auto);
  torch::manual_seed(4);
  Conv2d kept(256, 256, 3, 1, 1), onTheFly(256, 256, 3, 1, 1);
  kept->initialize();
  onTheFly->weight = kept->weight, onTheFly->bias = kept->bias;
  onTheFly->keepWinogradTransform = false;
  torch::NoGradGuard noGrad;
  const auto x = torch::randn({1, 256, 32, 32});
  const auto y = onTheFly->forward(x);
  EXPECT(torch::equal(y, kept->forward(x)));
  EXPECT(!torch::equal(y, torch::conv2d(x, kept->weight, kept->bias, 1, 1)));  // it did go the Winograd way
  // The VAE's coders run once per picture and keep nothing; the UNet's layers keep theirs.
  AutoencoderKL vae(VaeConfig{});
  int convolutions = 0;
  for (const auto& module : vae->modules())
    if (const auto* conv = module->as<Conv2dImpl>()) {
      ++convolutions;
      EXPECT(!conv->keepWinogradTransform);
    }
  EXPECT(convolutions > 30);
}
