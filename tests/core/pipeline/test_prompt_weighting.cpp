// Weighted prompts through the text encoders (pipeline::encodePrompt): the conditioning of >= 200
// prompts with A1111's emphasis syntax, BREAK and more than 75 tokens, on SD1, SD2 and SDXL
// (both encoders; the pooled embedding from the first chunk), against transformers' encoders with
// A1111's rules (tests/reference/prompt_weights_conditioning.py). Max relative error <= 1e-5.
// Then what weighting does to a generation: plain prompts unchanged, a weight changes the image,
// a long prompt beside a short negative prompt runs.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/io/safetensors_torch.h"
#include "core/pipeline/prompt_conditioning.h"
#include "core/pipeline/stable_diffusion_model.h"
#include "core/pipeline/text_to_image.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using nlohmann::json;

namespace {

fs::path dir() { return testing::option("dir"); }

double relativeError(const torch::Tensor& got, const torch::Tensor& want) {
  const auto scale = want.abs().max().item<double>();
  return (got.to(torch::kFloat64) - want.to(torch::kFloat64)).abs().max().item<double>() / std::max(scale, 1e-30);
}

void checkModel(const std::string& name, const fs::path& folder) {
  std::ifstream in(dir() / "cases.json");
  const auto cases = json::parse(in);
  const auto expected = io::loadAll(io::SafetensorsFile::open(dir() / ("conditioning_" + name + ".safetensors")));
  auto model = pipeline::loadStableDiffusion(folder);
  int checked = 0, multiChunk = 0, weighted = 0;
  double worst = 0;
  std::string worstPrompt;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto key = "context." + std::to_string(i);
    if (!expected.count(key)) continue;
    const auto prompt = cases[i]["prompt"].get<std::string>();
    torch::InferenceMode inference;
    const auto got = pipeline::encodePrompt(model, prompt);
    const auto& want = expected.at(key);
    if (got.context.sizes() != want.sizes()) {
      testing::recordFailure(__FILE__, __LINE__, name + " " + json(prompt).dump() + ": shape " +
                                                     std::to_string(got.context.size(1)) + " tokens, expected " +
                                                     std::to_string(want.size(1)));
      continue;
    }
    double error = relativeError(got.context, want);
    if (const auto pooled = expected.find("pooled." + std::to_string(i)); pooled != expected.end()) {
      REQUIRE(got.pooled.defined());
      error = std::max(error, relativeError(got.pooled, pooled->second));
    }
    if (error > worst) worst = error, worstPrompt = prompt;
    multiChunk += want.size(1) > 77;
    weighted += prompt.find_first_of("()[]") != std::string::npos;
    ++checked;
  }
  std::cout << name << ": " << checked << " prompts (" << multiChunk << " over one chunk, " << weighted
            << " with brackets), max relative error " << worst << "\n";
  if (worst > 1e-5) testing::recordFailure(__FILE__, __LINE__, name + " worst " + json(worstPrompt).dump());
  EXPECT(checked >= 200);
  EXPECT(multiChunk >= 30);
  EXPECT(weighted >= 100);
}

pipeline::GenerationRequest request(const std::string& prompt) {
  pipeline::GenerationRequest r;
  r.prompt = prompt;
  r.negativePrompt = "blurry";
  r.steps = 3;
  r.seed = 5;
  r.width = r.height = 64;
  return r;
}

}  // namespace

RESPO_TEST(weighted_conditioning_matches_a1111_on_sd1) { checkModel("sd1", dir().parent_path() / "sd" / "sd1"); }
RESPO_TEST(weighted_conditioning_matches_a1111_on_sd2) { checkModel("sd2", dir().parent_path() / "sd" / "sd2"); }
RESPO_TEST(weighted_conditioning_matches_a1111_on_sdxl) { checkModel("sdxl", dir().parent_path() / "sdxl" / "sdxl"); }

RESPO_TEST(weighting_changes_the_image_and_long_prompts_run_beside_short_negatives) {
  auto model = pipeline::loadStableDiffusion(dir().parent_path() / "sd" / "sd1");
  pipeline::TextToImagePipeline pipe(model);
  const auto plain = pipe.generate(request("a photo of a doctor")).images;
  const auto same = pipe.generate(request("a photo of a (doctor:1)")).images;
  const auto heavier = pipe.generate(request("a photo of a (doctor:1.5)")).images;
  EXPECT(torch::allclose(plain, same, 1e-5, 1e-5));  // weight 1 is no weight
  EXPECT((plain - heavier).abs().max().item<double>() > 0);
  {
    torch::InferenceMode inference;
    const auto a = pipeline::encodePrompt(model, "a photo of a doctor").context;
    const auto b = pipeline::encodePrompt(model, "a photo of a (doctor:1.5)").context;
    std::cout << "conditioning change of (doctor:1.5): " << relativeError(b, a) << "\n";
    EXPECT(relativeError(b, a) > 1e-2);
  }
  // Three chunks of prompt against a one-chunk negative: two UNet passes per step, as A1111 runs them.
  std::string longPrompt = "a photo of a doctor";
  for (int i = 0; i < 100; ++i) longPrompt += ", detailed";
  torch::InferenceMode inference;
  EXPECT_EQ(pipeline::encodePrompt(model, longPrompt).tokens(), int64_t{3 * 77});
  const auto image = pipe.generate(request(longPrompt)).images;
  EXPECT(torch::isfinite(image).all().item<bool>());
  EXPECT((image - plain).abs().max().item<double>() > 1e-4);
}
