// Safe Latent Diffusion against diffusers' StableDiffusionPipelineSafe (tests/reference/sld_reference.py)
// on the random-weight SD1- and SD2-shaped models: every preset, a custom setting with another safety
// concept, a negative prompt and a batch; final images and the latents after every step. Then what
// the guidance must and must not change.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/pipeline/text_to_image.h"
#include "tests/support/target_models.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::pipeline;

namespace {

fs::path sdDir() { return respo::testing::option("dir"); }
fs::path sldDir() { return respo::testing::option("sld"); }

using respo::testing::target;

StableDiffusionModel& model(const std::string& name) { return respo::testing::targetModel(sdDir() / name); }

double relativeError(const torch::Tensor& a, const torch::Tensor& reference) {
  return (a.to(torch::kCPU, torch::kFloat32) - reference).abs().max().item<double>() / reference.abs().max().item<double>();
}

// fp32 on the CPU: 1e-4 (max relative error); other devices and precisions: their image tolerance.
double sldTolerance() { return target().label == "cpu fp32" ? 1e-4 : target().imageTolerance; }

struct Run {
  GenerationRequest request;
  SafeLatentGuidance sld;
};

Run runFrom(const nlohmann::json& run) {
  Run out;
  out.request.prompt = run.at("prompt");
  out.request.negativePrompt = run.value("negative", "");
  out.request.steps = run.at("steps");
  out.request.guidanceScale = run.at("cfg");
  out.request.seed = run.at("seed");
  out.request.scheduler = run.at("scheduler");
  out.request.batch = run.value("batch", 1);
  const auto& s = run.at("settings");
  if (run.at("preset") != "custom") out.sld = SafeLatentGuidance::preset(run.at("preset"));
  out.sld.guidanceScale = s.at("sld_guidance_scale");
  out.sld.warmupSteps = s.at("sld_warmup_steps");
  out.sld.threshold = s.at("sld_threshold");
  out.sld.momentumScale = s.at("sld_momentum_scale");
  out.sld.momentumBeta = s.at("sld_mom_beta");
  if (run.contains("concept")) out.sld.safetyConcept = run.at("concept");
  return out;
}

// The run's final images and the latents after every step (on the CPU, in the model's precision).
std::pair<torch::Tensor, std::vector<torch::Tensor>> sample(TextToImagePipeline& pipeline, const Run& run) {
  std::vector<torch::Tensor> steps;
  SamplingEdits edits;
  edits.safety = run.sld;
  auto images = pipeline.generate(run.request, [&](const StepProgress& p) {
    steps.push_back(p.latents->to(torch::kCPU).clone());
    return true;
  }, edits).images;
  return {images, steps};
}

void checkRuns(const std::string& name) {
  const auto expected = io::loadAll(io::SafetensorsFile::open(sldDir() / (name + "_sld.safetensors")));
  std::ifstream in(sldDir() / (name + "_sld_runs.json"));
  const auto runs = nlohmann::json::parse(in);
  REQUIRE(runs.size() >= 4u);
  TextToImagePipeline pipeline(model(name));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto run = runFrom(runs[i]);
    if (runs[i].at("preset") != "custom") EXPECT_EQ(run.sld.presetName(), runs[i].at("preset").get<std::string>());
    const auto [images, steps] = sample(pipeline, run);
    const auto& reference = expected.at("sld." + std::to_string(i) + ".image");
    const auto& referenceSteps = expected.at("sld." + std::to_string(i) + ".latents");
    REQUIRE(images.sizes() == reference.sizes());
    REQUIRE(static_cast<int64_t>(steps.size()) == referenceSteps.size(0));
    const double imageError = relativeError(images, reference);
    // SLD decides per element whether d = e_p - e_s reaches the threshold: a discontinuity. Where an
    // element lies within float32 rounding of it (margin below kCloseCall) the two implementations may
    // decide differently and that element's guidance jumps; from that step on the runs may differ by
    // more than rounding, and only the steps before it are held to the tolerance. (sld_reference.py
    // records the margins; 1e-5 is ten times the float32 discrepancy of the UNet outputs here.)
    constexpr double kCloseCall = 1e-5;
    const auto& margins = expected.at("sld." + std::to_string(i) + ".margin");
    int64_t firstCloseCall = margins.size(0);
    for (int64_t k = 0; k < margins.size(0); ++k)
      if (margins[k].item<double>() < kCloseCall) {
        firstCloseCall = k;
        break;
      }
    double stepError = 0;
    for (std::size_t k = 0; k < steps.size(); ++k)
      if (static_cast<int64_t>(k) < firstCloseCall) stepError = std::max(stepError, relativeError(steps[k], referenceSteps[static_cast<int64_t>(k)]));
    // SLD must matter in the run: the plain pipeline's image is far from the safe one.
    const double fromPlain = relativeError(pipeline.generate(run.request).images, reference);
    std::cout << "  " << name << " (" << target().label << ") SLD " << runs[i].at("preset").get<std::string>() << ", "
              << run.request.scheduler << " " << run.request.steps << " steps, batch " << run.request.batch
              << ": image relative error " << imageError << ", worst step latents " << stepError
              << " (plain pipeline vs SLD reference: " << fromPlain << ")\n";
    const bool closeCall = firstCloseCall < margins.size(0);
    if (closeCall)
      std::cout << "    a threshold decision within float rounding at step " << firstCloseCall + 1 << " (margin "
                << margins[firstCloseCall].item<double>() << "): only the steps before it are compared\n";
    // After a close call the images still agree but for the element(s) decided differently.
    if (!(imageError <= (closeCall ? 10 * target().imageTolerance : sldTolerance())))
      respo::testing::recordFailure(__FILE__, __LINE__, name + " SLD run " + std::to_string(i) + ": image error " + std::to_string(imageError));
    if (!(stepError <= sldTolerance()))
      respo::testing::recordFailure(__FILE__, __LINE__, name + " SLD run " + std::to_string(i) + ": latents error " + std::to_string(stepError));
    EXPECT(fromPlain > 20 * std::max(imageError, 1e-6));
  }
}

// The same runs with everything in float64 on both sides: rounding is then far below the smallest
// threshold margin of the runs (the fp32 margins are >= 3e-7), so every decision is the same and every
// run, close call or not, is compared in full. The reference's images pass through float32 (diffusers
// converts decoded images to float32), so images are held to 1e-6 and latents to 1e-9.
void checkRuns64(const std::string& name) {
  const auto expected = io::loadAll(io::SafetensorsFile::open(sldDir() / (name + "_sld64.safetensors")));
  std::ifstream in(sldDir() / (name + "_sld_runs.json"));
  const auto runs = nlohmann::json::parse(in);
  LoadOptions options;
  options.dtype = torch::kFloat64;
  auto model = loadStableDiffusion(sdDir() / name, options);
  TextToImagePipeline pipeline(model);
  auto error = [](const torch::Tensor& a, const torch::Tensor& reference) {
    const auto r = reference.to(torch::kFloat64);
    return (a.to(torch::kCPU, torch::kFloat64) - r).abs().max().item<double>() / r.abs().max().item<double>();
  };
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto run = runFrom(runs[i]);
    const auto [images, steps] = sample(pipeline, run);
    const auto& reference = expected.at("sld." + std::to_string(i) + ".image");
    const auto& referenceSteps = expected.at("sld." + std::to_string(i) + ".latents");
    REQUIRE(images.sizes() == reference.sizes());
    REQUIRE(static_cast<int64_t>(steps.size()) == referenceSteps.size(0));
    REQUIRE(steps.front().scalar_type() == torch::kFloat64);
    const double imageError = error(images, reference);
    double stepError = 0;
    for (std::size_t k = 0; k < steps.size(); ++k)
      stepError = std::max(stepError, error(steps[k], referenceSteps[static_cast<int64_t>(k)]));
    std::cout << "  " << name << " (cpu fp64) SLD " << runs[i].at("preset").get<std::string>() << ", "
              << run.request.scheduler << " " << run.request.steps << " steps, batch " << run.request.batch
              << ": image relative error " << imageError << ", worst step latents " << stepError << "\n";
    if (!(imageError <= 1e-6))
      respo::testing::recordFailure(__FILE__, __LINE__, name + " fp64 SLD run " + std::to_string(i) + ": image error " + std::to_string(imageError));
    if (!(stepError <= 1e-9))
      respo::testing::recordFailure(__FILE__, __LINE__, name + " fp64 SLD run " + std::to_string(i) + ": latents error " + std::to_string(stepError));
  }
}

GenerationRequest plainRequest() {
  GenerationRequest request;
  request.prompt = "a photo of a doctor";
  request.steps = 6;
  request.seed = 5;
  request.scheduler = "ddim";
  return request;
}

}  // namespace

RESPO_TEST(sld_matches_diffusers_on_sd1) { checkRuns("sd1"); }
RESPO_TEST(sld_matches_diffusers_on_sd2) { checkRuns("sd2"); }
RESPO_TEST(sld_matches_diffusers_in_float64_on_sd1) { checkRuns64("sd1"); }
RESPO_TEST(sld_matches_diffusers_in_float64_on_sd2) { checkRuns64("sd2"); }

RESPO_TEST(sld_without_guidance_is_the_plain_pipeline) {
  TextToImagePipeline pipeline(model("sd1"));
  const auto request = plainRequest();
  const auto plain = pipeline.generate(request).images;
  SamplingEdits edits;
  edits.safety = SafeLatentGuidance::preset("strong");
  edits.safety->guidanceScale = 1.0;  // diffusers: sld_guidance_scale <= 1 turns SLD off
  EXPECT(torch::equal(pipeline.generate(request, {}, edits).images, plain));
  auto unguided = request;
  unguided.guidanceScale = 1.0;  // and SLD needs classifier-free guidance
  edits.safety = SafeLatentGuidance::preset("max");
  EXPECT(torch::equal(pipeline.generate(unguided, {}, edits).images, pipeline.generate(unguided).images));
}

RESPO_TEST(sld_warm_up_longer_than_the_run_changes_nothing) {
  // The momentum builds up during warm-up but is applied only after it.
  TextToImagePipeline pipeline(model("sd1"));
  const auto request = plainRequest();
  SamplingEdits edits;
  edits.safety = SafeLatentGuidance::preset("medium");
  edits.safety->warmupSteps = request.steps;
  EXPECT(torch::equal(pipeline.generate(request, {}, edits).images, pipeline.generate(request).images));
  edits.safety->warmupSteps = request.steps - 1;
  EXPECT(!torch::equal(pipeline.generate(request, {}, edits).images, pipeline.generate(request).images));
}

RESPO_TEST(sld_safety_rows_are_marked_for_bottleneck_hooks) {
  TextToImagePipeline pipeline(model("sd1"));
  auto request = plainRequest();
  request.batch = 2;
  request.steps = 2;
  SamplingEdits edits;
  edits.safety = SafeLatentGuidance::preset("medium");
  std::vector<std::vector<models::GuidanceBranch>> calls;
  edits.bottleneck = [&](const torch::Tensor& h, const models::BottleneckContext& context) {
    calls.push_back(context.branches);
    return h;
  };
  pipeline.generate(request, {}, edits);
  REQUIRE(calls.size() == 2u);  // one batched call per step: [negative x2, prompt x2, concept x2]
  using B = models::GuidanceBranch;
  const std::vector<B> expected = {B::Unconditional, B::Unconditional, B::Conditional, B::Conditional,
                                   B::SafetyConcept, B::SafetyConcept};
  EXPECT(calls[0] == expected);
}

RESPO_TEST(sld_with_a_long_prompt_runs_each_length_in_its_own_pass) {
  TextToImagePipeline pipeline(model("sd1"));
  auto request = plainRequest();
  request.steps = 3;
  request.prompt = "a photo of a doctor BREAK in a hospital corridor";  // two chunks; the concept has one
  SamplingEdits edits;
  edits.safety = SafeLatentGuidance::preset("max");
  int calls = 0;
  edits.bottleneck = [&](const torch::Tensor& h, const models::BottleneckContext&) {
    ++calls;
    return h;
  };
  const auto safe = pipeline.generate(request, {}, edits).images;
  EXPECT_EQ(calls, 3 * request.steps);  // negative (1 chunk), prompt (2 chunks), concept (1 chunk): three calls
  EXPECT(!torch::equal(safe, pipeline.generate(request).images));
  EXPECT(torch::isfinite(safe).all().item<bool>());
}

RESPO_TEST(sld_settings_out_of_range_are_refused_before_sampling) {
  TextToImagePipeline pipeline(model("sd1"));
  SamplingEdits edits;
  edits.safety = SafeLatentGuidance::preset("medium");
  edits.safety->momentumBeta = 1.5;
  int steps = 0;
  EXPECT_THROWS(pipeline.generate(plainRequest(), [&](const StepProgress&) { return ++steps > 0; }, edits),
                InvalidArgument, "momentum beta");
  EXPECT_EQ(steps, 0);
}


RESPO_TEST(sld_on_sdxl_conditions_the_concept_like_a_prompt) {
  // SDXL: the concept's rows get its own context (both encoders) and pooled embedding, and the
  // image's size ids, exactly as a prompt's rows do. diffusers has no SDXL safe pipeline to compare with.
  TextToImagePipeline pipeline(respo::testing::targetModel(respo::testing::option("sdxl")));
  auto request = plainRequest();
  request.steps = 3;
  SamplingEdits edits;
  edits.safety = SafeLatentGuidance::preset("max");
  std::vector<models::GuidanceBranch> branches;
  edits.bottleneck = [&](const torch::Tensor& h, const models::BottleneckContext& context) {
    branches = context.branches;
    return h;
  };
  const auto safe = pipeline.generate(request, {}, edits).images;
  EXPECT_EQ(branches.size(), 3u);
  EXPECT(torch::isfinite(safe).all().item<bool>());
  const double change = relativeError(safe, pipeline.generate(request).images);
  std::cout << "  sdxl: SLD max vs plain, relative change " << change << "\n";
  EXPECT(change > 1e-4);
}
