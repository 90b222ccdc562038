// Image to image against diffusers' StableDiffusionImg2ImgPipeline and StableDiffusionXLImg2ImgPipeline
// (tests/reference/img2img_reference.py) on the random SD1, SD2 and SDXL models: every sampler, a
// batch, strength 1; and the contract: validation, progress over the steps that run, parameters text.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/text_to_image.h"
#include "tests/support/pipeline_runs.h"
#include "tests/support/target_models.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::pipeline;

namespace {

fs::path modelDir(const std::string& model) {
  return model == "sdxl" ? fs::path(respo::testing::option("sdxl")) / "sdxl" : fs::path(respo::testing::option("sd")) / model;
}
StableDiffusionModel& model(const std::string& name) { return respo::testing::targetModel(modelDir(name)); }
fs::path refDir() { return respo::testing::option("img2img"); }

const std::map<std::string, torch::Tensor>& reference() {
  static const auto tensors = [] {
    const auto file = io::SafetensorsFile::open(refDir() / "img2img.safetensors");
    std::map<std::string, torch::Tensor> out;
    for (const auto& info : file.tensors()) out[info.name] = io::copyTensor(file, info);
    return out;
  }();
  return tensors;
}

std::shared_ptr<const io::RgbImage> picture(const torch::Tensor& hwc) {
  auto image = std::make_shared<io::RgbImage>();
  image->height = static_cast<int>(hwc.size(0));
  image->width = static_cast<int>(hwc.size(1));
  const auto bytes = hwc.contiguous();
  image->pixels.assign(bytes.data_ptr<std::uint8_t>(), bytes.data_ptr<std::uint8_t>() + bytes.numel());
  return image;
}

GenerationRequest requestOf(const nlohmann::json& run, std::size_t i) {
  auto r = respo::testing::requestFromRun(run);
  r.strength = run.at("strength");
  r.initImage = picture(reference().at("init." + std::to_string(i)));
  return r;
}

double tolerance() { return respo::testing::target().dtype == torch::kFloat32 ? 1e-4 : 5e-2; }

}  // namespace

RESPO_TEST(images_match_diffusers_img2img_for_every_sampler_and_model) {
  std::ifstream in(refDir() / "img2img_runs.json");
  const auto runs = nlohmann::json::parse(in);
  REQUIRE(runs.size() >= 9u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& run = runs[i];
    auto& m = model(run.at("model"));
    const auto request = requestOf(run, i);
    TextToImagePipeline pipe(m);
    int calls = 0, total = 0;
    const auto ours = pipe.generate(request, [&](const StepProgress& p) {
      ++calls;
      total = p.total;
      return true;
    }).images;
    const auto& expected = reference().at("image." + std::to_string(i));
    REQUIRE(ours.sizes() == expected.sizes());
    const double err = (ours.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>() /
                       expected.abs().max().item<double>();
    // How far the output is from the input picture: img2img keeps some of it, not all.
    const auto init = reference().at("init." + std::to_string(i)).to(torch::kFloat64).permute({2, 0, 1}) / 255;
    const double moved = (ours[0].to(torch::kFloat64) - init).abs().mean().item<double>();
    std::cout << run.at("model").get<std::string>() << " " << run.at("scheduler").get<std::string>() << " strength "
              << run.at("strength").get<double>() << ": max rel. error " << err << ", " << calls << " steps run, "
              << "mean change from the input " << moved << "\n";
    EXPECT(err <= tolerance());
    const int expectedSteps = static_cast<int>(request.steps * request.strength);
    EXPECT(calls == total);
    if (run.at("scheduler") != "pndm") EXPECT_EQ(calls, expectedSteps);
    EXPECT(moved > 0.01);
  }
}

// Inpainting against StableDiffusionInpaintPipeline (tests/reference/inpaint_reference.py): the random
// SD1 model (kept region blended back every step) and an inpainting model made from it (9-channel UNet).
RESPO_TEST(inpainting_matches_diffusers_on_plain_and_inpainting_models) {
  const fs::path dir = respo::testing::option("inpaint");
  std::ifstream in(dir / "inpaint_runs.json");
  const auto runs = nlohmann::json::parse(in);
  REQUIRE(runs.size() >= 10u);
  const auto file = io::SafetensorsFile::open(dir / "inpaint.safetensors");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& run = runs[i];
    const std::string name = run.at("model");
    auto& m = respo::testing::targetModel(name == "sd1_inpaint" ? dir / name : modelDir(name));
    auto request = respo::testing::requestFromRun(run);
    request.strength = run.at("strength");
    request.initImage = picture(io::copyTensor(file, "init." + std::to_string(i)));
    request.mask = picture(io::copyTensor(file, "mask." + std::to_string(i)));
    request.maskBlur = run.value("blur", 0.0);
    TextToImagePipeline pipe(m);
    const auto ours = pipe.generate(request).images;
    const auto expected = io::copyTensor(file, "image." + std::to_string(i));
    REQUIRE(ours.sizes() == expected.sizes());
    const double err = (ours.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>() /
                       expected.abs().max().item<double>();
    // Where the mask keeps the picture, a plain model's output stays near it; repainted pixels move.
    const auto keep = (io::copyTensor(file, "mask." + std::to_string(i)).select(2, 0) < 128).to(torch::kFloat64);
    const auto init = io::copyTensor(file, "init." + std::to_string(i)).to(torch::kFloat64).permute({2, 0, 1}) / 255;
    const auto change = (ours[0].to(torch::kFloat64) - init).abs().mean(0);
    const double keptChange = (change * keep).sum().item<double>() / keep.sum().item<double>();
    const double paintedChange = (change * (1 - keep)).sum().item<double>() / (1 - keep).sum().item<double>();
    std::cout << name << " " << run.at("scheduler").get<std::string>() << " strength " << run.at("strength").get<double>()
              << ": max rel. error " << err << "; mean change kept " << keptChange << ", repainted " << paintedChange
              << "\n";
    EXPECT(err <= tolerance());
  }
  // An inpainting model without a mask says what it needs.
  GenerationRequest plain;
  plain.prompt = "a cat";
  plain.steps = 2;
  TextToImagePipeline pipe(respo::testing::targetModel(dir / "sd1_inpaint"));
  EXPECT_THROWS(pipe.generate(plain), InvalidArgument, "this is an inpainting model");
  plain.mask = picture(io::copyTensor(file, "mask.0"));
  EXPECT_THROWS(pipe.generate(plain), InvalidArgument, "a mask needs the picture");
}

RESPO_TEST(strength_is_checked_and_recorded) {
  auto& m = model("sd1");
  GenerationRequest r;
  r.prompt = "a cat";
  r.steps = 4;
  r.initImage = picture(reference().at("init.0"));
  r.strength = 0.1;  // int(4 * 0.1) = 0 steps
  TextToImagePipeline pipe(m);
  EXPECT_THROWS(pipe.generate(r), InvalidArgument, "not one of the 4 steps would run");
  r.strength = 1.5;
  EXPECT_THROWS(pipe.generate(r), InvalidArgument, "denoising strength must be above 0 and at most 1");
  auto broken = std::make_shared<io::RgbImage>(*r.initImage);
  broken->pixels.resize(10);
  r.initImage = broken;
  r.strength = 0.5;
  EXPECT_THROWS(pipe.generate(r), InvalidArgument, "input picture is empty, damaged");
  // Another size is resized to the request's.
  auto small = std::make_shared<io::RgbImage>();
  small->width = 20;
  small->height = 12;
  small->pixels.assign(20 * 12 * 3, 128);
  r.initImage = small;
  r.steps = 2;
  r.strength = 1.0;
  const auto images = pipe.generate(r).images;
  EXPECT_EQ(images.size(3), static_cast<int64_t>(m.nativeImageSize()));
  const auto text = formatParameters(r, "sd1");
  EXPECT(text.find("Denoising strength: 1") != std::string::npos);
  EXPECT_EQ(parseParameters(text).strength, 1.0);
  r.initImage.reset();
  EXPECT(formatParameters(r, "sd1").find("Denoising strength") == std::string::npos);
}
