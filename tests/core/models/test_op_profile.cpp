// The profiler summary behind `respodiff benchmark --profile/--peak`: FLOPs counted for convolutions,
// linear layers and fused attention equal the textbook counts, self time lands in the right category,
// nested operators are not counted twice, and the peak measurement gives sane numbers.
#include <torch/torch.h>

#include "core/models/layers.h"
#include "core/models/op_profile.h"
#include "tests/support/testing.h"

using namespace respo::models;
namespace prof = respo::models::profile;

namespace {

const prof::Category* find(const prof::CallProfile& p, const std::string& name) {
  for (const auto& c : p.categories)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

RESPO_TEST(convolution_flops_are_counted_once_in_their_category) {
  torch::InferenceMode guard;
  Conv2d conv(16, 32, 3, 1, 1);
  conv->initialize();
  const auto x = torch::randn({2, 16, 20, 24});
  const auto p = prof::profileCall([&] { (void)conv->forward(x); });
  const double expected = 2.0 * 2 * 32 * 20 * 24 * 16 * 9;  // 2 * N * Cout * H * W * Cin * k * k
  EXPECT_NEAR(p.flops, expected, 1.0);
  const auto* c = find(p, "convolution");
  REQUIRE(c != nullptr);
  EXPECT_NEAR(c->flops, expected, 1.0);
  EXPECT(c->selfSeconds > 0);
  double total = 0;
  for (const auto& category : p.categories) total += category.selfSeconds;
  EXPECT(total <= p.profiledSeconds * 1.05);  // self times do not add up to more than the call
}

RESPO_TEST(linear_and_fused_attention_flops_match_the_formulas) {
  torch::InferenceMode guard;
  Linear linear(64, 96);
  linear->initialize();
  const auto x = torch::randn({3, 10, 64});
  const auto q = torch::randn({2, 4, 50, 16}), k = torch::randn({2, 4, 77, 16}), v = torch::randn({2, 4, 77, 16});
  const auto p = prof::profileCall([&] {
    (void)linear->forward(x);
    (void)at::scaled_dot_product_attention(q, k, v);
  });
  const auto* lin = find(p, "linear");
  const auto* att = find(p, "attention");
  REQUIRE(lin != nullptr && att != nullptr);
  EXPECT_NEAR(lin->flops, 2.0 * 3 * 10 * 64 * 96, 1.0);
  EXPECT_NEAR(att->flops, 4.0 * 2 * 4 * 50 * 77 * 16, 1.0);
  EXPECT_NEAR(prof::attentionFlops({{2, 4, 50, 16}, {2, 4, 77, 16}}), 4.0 * 2 * 4 * 50 * 77 * 16, 1e-6);
  EXPECT_EQ(prof::attentionFlops({{2, 4, 50}}), 0.0);
  EXPECT(prof::formatProfile(p).find("attention") != std::string::npos);
}

RESPO_TEST(operators_fall_into_the_named_categories) {
  EXPECT_EQ(prof::categoryOf("aten::mkldnn_convolution"), std::string("convolution"));
  EXPECT_EQ(prof::categoryOf("aten::_scaled_dot_product_flash_attention_for_cpu"), std::string("attention"));
  EXPECT_EQ(prof::categoryOf("aten::addmm"), std::string("linear"));
  EXPECT_EQ(prof::categoryOf("aten::native_group_norm"), std::string("GroupNorm"));
  EXPECT_EQ(prof::categoryOf("aten::native_layer_norm"), std::string("LayerNorm"));
  EXPECT_EQ(prof::categoryOf("aten::silu"), std::string("activation"));
  EXPECT_EQ(prof::categoryOf("aten::copy_"), std::string("layout copies"));
  EXPECT_EQ(prof::categoryOf("aten::cat"), std::string("layout copies"));
  EXPECT_EQ(prof::categoryOf("aten::view"), std::string("views and dispatch"));
  EXPECT_EQ(prof::categoryOf("aten::add"), std::string("elementwise"));
  EXPECT_EQ(prof::categoryOf("aten::upsample_nearest2d"), std::string("other"));
}

RESPO_TEST(half_precision_weight_storage_computes_in_the_input_type) {
  torch::InferenceMode guard;
  Linear linear(32, 8);
  linear->initialize();
  Conv2d conv(4, 6, 3, 1, 1);
  conv->initialize();
  const auto x = torch::randn({5, 32});
  const auto image = torch::randn({1, 4, 8, 8});
  const auto full = linear->forward(x), fullConv = conv->forward(image);
  for (auto* p : {&linear->weight, &conv->weight}) p->set_data(p->to(torch::kFloat16));
  const auto half = linear->forward(x), halfConv = conv->forward(image);
  EXPECT(half.scalar_type() == torch::kFloat32 && halfConv.scalar_type() == torch::kFloat32);
  EXPECT(torch::allclose(half, full, 1e-2, 1e-2));
  EXPECT(torch::allclose(halfConv, fullConv, 1e-2, 1e-2));
  EXPECT(!torch::equal(half, full));  // the weights really were rounded
}

RESPO_TEST(the_peak_is_measured) {
  const auto peak = prof::measurePeak(0.05);
  EXPECT(peak.gemmFlopsPerSecond > 1e8);   // any x86-64 core does more than 0.1 GFLOP/s
  EXPECT(peak.convFlopsPerSecond > 1e8);
  EXPECT(peak.gemmSize == 512 || peak.gemmSize == 1024 || peak.gemmSize == 2048);
  EXPECT(peak.best() >= peak.gemmFlopsPerSecond && peak.best() >= peak.convFlopsPerSecond);
}
