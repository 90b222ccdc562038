// The evaluation's metrics, checked against values worked out by hand.
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/toyworld/evaluation.h"
#include "tests/support/testing.h"

using namespace respo;
using namespace respo::toyworld;

RESPO_TEST(deviation_ratio_is_the_papers_formula) {
  EXPECT_NEAR(deviationRatio({5, 5}), 0.0, 1e-12);
  EXPECT_NEAR(deviationRatio({10, 0}), 1.0, 1e-12);
  EXPECT_NEAR(deviationRatio({9, 1}), 0.8, 1e-12);        // |0.9 - 0.5| / 0.5
  EXPECT_NEAR(deviationRatio({7, 2, 1}), 0.55, 1e-12);    // |0.7 - 1/3| / (2/3)
  EXPECT_NEAR(deviationRatio({0, 0, 10}), 1.0, 1e-12);
  EXPECT_NEAR(deviationRatio({0, 0}), 0.0, 1e-12);
  EXPECT_THROWS(deviationRatio({3}), InvalidArgument, "two classes");
}

RESPO_TEST(frechet_distance_of_gaussians_matches_the_closed_form) {
  auto gen = at::detail::createCPUGenerator(3);
  const auto a = torch::randn({20000, 3}, gen, torch::kFloat64);
  // Same distribution: ~0. Shifted by (1, 2, 0): |mu|^2 = 5. Scaled by 2: |mu|^2 + tr(S + 4S - 2*2S) = |mu|^2 + tr S.
  EXPECT(frechetDistance(a, torch::randn({20000, 3}, gen, torch::kFloat64)) < 0.01);
  EXPECT_NEAR(frechetDistance(a, a + torch::tensor({1.0, 2.0, 0.0}, torch::kFloat64)), 5.0, 1e-6);
  EXPECT_NEAR(frechetDistance(a, a * 2), (a.mean(0).pow(2).sum() + a.var(0).sum()).item<double>(), 1e-6);
  EXPECT_THROWS(frechetDistance(a, torch::zeros({5, 2})), InvalidArgument, "feature sets");
}

RESPO_TEST(settings_are_recorded_in_the_json) {
  const auto quick = EvaluationSettings::quick();
  const auto json = quick.toJson();
  EXPECT_EQ(json["professions"].size(), std::size_t{8});
  EXPECT_EQ(json["images_per_prompt"].get<int>(), quick.imagesPerPrompt);
  EXPECT_EQ(json["templates"].size(), quick.templates.size());
  EvaluationTable table;
  table.rows.push_back({"base", 0.5, 0.4, 95.0, 1.2, 0.9, 90.0});
  table.rows.push_back({"prompt_edit", 0.1, 0.1, 94.0, 1.5, std::nullopt, std::nullopt});
  const auto out = table.toJson();
  EXPECT_EQ(out["rows"][0]["name"].get<std::string>(), std::string("base"));
  EXPECT(out["rows"][1]["unsafe_rate"].is_null());
  EXPECT(table.toMarkdown().find("| prompt_edit | 0.100 | 0.100 | 94.0 | 1.50 | - | - |") != std::string::npos);
}
