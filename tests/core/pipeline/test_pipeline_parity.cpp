// The text-to-image pipeline against diffusers' StableDiffusionPipeline on the same random-weight
// models, prompts, seeds and schedulers; plus determinism, cancellation and the bottleneck hook.
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/pipeline/text_to_image.h"
#include "tests/support/target_models.h"
#include "tests/support/pipeline_runs.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::pipeline;

namespace {

fs::path dir() { return respo::testing::option("dir"); }

using respo::testing::target;

StableDiffusionModel& model(const std::string& name) { return respo::testing::targetModel(dir() / name); }

void checkRuns(const std::string& name) {
  const auto expected = io::loadAll(io::SafetensorsFile::open(dir() / (name + "_expect.safetensors")));
  std::ifstream in(dir() / (name + "_pipeline_runs.json"));
  const auto runs = nlohmann::json::parse(in);
  TextToImagePipeline pipeline(model(name));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto request = respo::testing::requestFromRun(runs[i]);
    const auto images = pipeline.generate(request).images;
    const auto& reference = expected.at("pipe." + std::to_string(i));
    REQUIRE(images.sizes() == reference.sizes());
    const double error = (images - reference).abs().max().item<double>() / reference.abs().max().item<double>();
    std::cout << "  " << name << " (" << target().label << ") " << request.scheduler << " " << request.steps << " steps, cfg "
              << request.guidanceScale << ": image relative error " << error << "\n";
    if (!(error <= target().imageTolerance))
      respo::testing::recordFailure(__FILE__, __LINE__, name + " run " + std::to_string(i) + ": error " + std::to_string(error));
  }
}

}  // namespace

RESPO_TEST(sd1_images_match_diffusers) { checkRuns("sd1"); }
RESPO_TEST(sd2_images_match_diffusers) { checkRuns("sd2"); }

RESPO_TEST(single_file_checkpoint_gives_the_same_image_as_the_folder) {
  LoadOptions options;
  options.configFolder = dir() / "sd1";
  options.device = target().device;
  options.dtype = target().dtype;
  auto single = loadStableDiffusion(dir() / "sd1.safetensors", options);
  EXPECT_EQ(single.family, std::string("sd1"));
  GenerationRequest request;
  request.prompt = "a photo of a doctor";
  request.steps = 3;
  request.seed = 9;
  TextToImagePipeline fromFile(single);
  TextToImagePipeline fromFolder(model("sd1"));
  EXPECT(torch::equal(fromFile.generate(request).images, fromFolder.generate(request).images));
}

RESPO_TEST(same_seed_same_image_other_seed_other_image) {
  TextToImagePipeline pipeline(model("sd1"));
  GenerationRequest request;
  request.prompt = "a photo of a doctor";
  request.steps = 3;
  request.seed = 42;
  const auto a = pipeline.generate(request).images;
  const auto b = pipeline.generate(request).images;
  EXPECT(torch::equal(a, b));
  request.seed = 43;
  EXPECT(!torch::equal(a, pipeline.generate(request).images));
}

RESPO_TEST(callback_reports_every_step_and_can_cancel) {
  TextToImagePipeline pipeline(model("sd1"));
  GenerationRequest request;
  request.prompt = "a nurse";
  request.steps = 6;
  std::vector<int> seen;
  pipeline.generate(request, [&](const StepProgress& p) {
    seen.push_back(p.step);
    EXPECT_EQ(p.total, 6);
    EXPECT(p.latents && p.latents->defined());
    return true;
  });
  EXPECT(seen == (std::vector<int>{1, 2, 3, 4, 5, 6}));
  // A live preview of the latents: one RGB pixel per latent position, varying across the image.
  const auto preview = latentPreview(torch::randn({1, 4, 16, 16}));
  EXPECT_EQ(preview.width, 16);
  EXPECT_EQ(preview.pixels.size(), 16u * 16u * 3u);
  EXPECT(*std::max_element(preview.pixels.begin(), preview.pixels.end()) >
         *std::min_element(preview.pixels.begin(), preview.pixels.end()));
  int calls = 0;
  EXPECT_THROWS(pipeline.generate(request, [&](const StepProgress&) { return ++calls < 2; }), Cancelled,
                "cancelled at step 2");
  // Usable after a cancel.
  EXPECT_EQ(pipeline.generate(request).rgb.size(), 1u);
}

RESPO_TEST(bottleneck_hook_changes_only_the_conditional_branch) {
  TextToImagePipeline pipeline(model("sd1"));
  GenerationRequest request;
  request.prompt = "a chef";
  request.steps = 3;
  request.batch = 2;
  const auto plain = pipeline.generate(request).images;
  int calls = 0;
  const auto unchanged = pipeline.generate(request, {}, [&](const torch::Tensor& h, const models::BottleneckContext& c) {
    ++calls;
    EXPECT_EQ(c.branches.size(), 4u);  // 2 unconditional, 2 conditional rows
    return h;
  }).images;
  EXPECT_EQ(calls, 3);
  EXPECT(torch::equal(plain, unchanged));
  const auto changed = pipeline.generate(request, {}, [](const torch::Tensor& h, const models::BottleneckContext& c) {
    auto out = h.clone();
    for (std::size_t i = 0; i < c.branches.size(); ++i)
      if (c.branches[i] == models::GuidanceBranch::Conditional) out[static_cast<int64_t>(i)] += 0.5;
    return out;
  }).images;
  EXPECT(!torch::equal(plain, changed));
}

RESPO_TEST(bad_requests_are_clear_errors) {
  TextToImagePipeline pipeline(model("sd1"));
  GenerationRequest request;
  request.prompt = "x";
  request.width = 31;
  EXPECT_THROWS(pipeline.generate(request), InvalidArgument, "multiple of 2");
  request.width = 0;
  request.steps = 0;
  EXPECT_THROWS(pipeline.generate(request), InvalidArgument, "steps must be between 1 and 1000");
  request.steps = 100000;
  EXPECT_THROWS(pipeline.generate(request), InvalidArgument, "steps must be between 1 and 1000");
  request.steps = 5;
  request.scheduler = "nonsense";
  EXPECT_THROWS(pipeline.generate(request), InvalidArgument, "unknown scheduler");
  request.scheduler = "";
  request.batch = 0;
  EXPECT_THROWS(pipeline.generate(request), InvalidArgument, "batch must be between");
  EXPECT_THROWS(loadStableDiffusion(dir() / "sd1" / "unet"), FormatError, "model_index.json is missing");
}
