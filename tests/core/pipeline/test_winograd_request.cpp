// GenerationRequest::winogradConvolutions: a generation runs under its own choice of convolutions
// (on its thread, for its duration; the process-wide setting is left alone), and the choice is
// recorded in the picture's parameters and read back; unknown values are refused.
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/models/winograd.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/text_to_image.h"
#include "tests/support/option_model.h"
#include "tests/support/testing.h"

using namespace respo;
using namespace respo::pipeline;
namespace winograd = respo::models::winograd;

namespace {

GenerationRequest request(bool fast) {
  GenerationRequest r;
  r.prompt = "a photo of a chef";
  r.steps = 3;
  r.seed = 5;
  r.scheduler = "ddim";
  r.winogradConvolutions = fast;
  return r;
}

// The mode the UNet sees during a generation, read at its bottleneck on every step.
std::vector<winograd::Mode> modesDuring(const GenerationRequest& r) {
  std::vector<winograd::Mode> seen;
  TextToImagePipeline pipe(respo::testing::optionModel());
  pipe.generate(r, {}, [&](const torch::Tensor& h, const models::BottleneckContext&) {
    seen.push_back(winograd::mode());
    return h;
  });
  return seen;
}

}  // namespace

RESPO_TEST(a_generation_runs_under_its_own_choice) {
  const auto saved = winograd::mode();
  winograd::setMode(winograd::Mode::Off);
  const auto fast = modesDuring(request(true));
  REQUIRE(!fast.empty());
  for (const auto m : fast) EXPECT(m == winograd::Mode::Auto);
  EXPECT(winograd::mode() == winograd::Mode::Off);  // given back after the run
  for (const auto m : modesDuring(request(false))) EXPECT(m == winograd::Mode::Off);
  // Unasked, a request follows the process-wide setting (`generate --convolutions`).
  winograd::setMode(winograd::Mode::Auto);
  for (const auto m : modesDuring(request(false))) EXPECT(m == winograd::Mode::Auto);
  winograd::setMode(saved);
}

RESPO_TEST(the_choice_is_recorded_and_read_back) {
  const auto on = formatParameters(request(true), "toy");
  EXPECT(on.find("Convolutions: winograd") != std::string::npos);
  EXPECT(parseParameters(on).winogradConvolutions);
  const auto off = formatParameters(request(false), "toy");
  EXPECT(off.find("Convolutions") == std::string::npos);
  EXPECT(!parseParameters(off).winogradConvolutions);
  EXPECT(!parseParameters("x\nSteps: 4, Seed: 1, Convolutions: direct").winogradConvolutions);
  EXPECT_THROWS(parseParameters("x\nSteps: 4, Seed: 1, Convolutions: fast"), FormatError, "Convolutions");
}
