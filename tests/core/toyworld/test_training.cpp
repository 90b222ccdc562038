// The toy model's training recipe, at toy scale: the folder it writes loads through the ordinary
// SD loader and generates; training is deterministic and a resumed run equals an uninterrupted one;
// the classifier round-trips through its file.
#include <filesystem>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/pipeline/text_to_image.h"
#include "core/toyworld/classifier.h"
#include "core/toyworld/model_training.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::toyworld;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("respodiff-toyworld-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::shared_ptr<text::ClipTokenizer> tokenizer() {
  return std::make_shared<text::ClipTokenizer>(
      text::ClipTokenizer::fromOpenClipBpe(testing::option("bpe"), text::TokenizerSettings::sd1()));
}

ToyTrainingOptions tinyOptions(const fs::path& work) {
  ToyTrainingOptions o;
  o.seed = 5;
  o.workDir = work;
  o.vae.steps = 4;
  o.vae.batch = 2;
  o.denoiser.steps = 4;
  o.denoiser.batch = 4;
  o.denoiser.datasetSize = 8;
  o.checkpointEvery = 2;
  return o;
}

double maxDifference(torch::nn::Module& a, torch::nn::Module& b) {
  double worst = 0;
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  for (const auto& item : pa) worst = std::max(worst, (item.value() - pb[item.key()]).abs().max().item<double>());
  return worst;
}

}  // namespace

RESPO_TEST(the_toy_folder_loads_through_the_sd_loader_and_generates) {
  const auto dir = scratch("folder");
  auto configs = toyModelConfigs();
  auto model = createToyModel(configs, tokenizer(), 3);
  saveModelFolder(model, configs, dir / "toy");
  REQUIRE(fs::exists(dir / "toy" / "model_index.json"));
  EXPECT(!fs::exists(dir / "toy.tmp-write"));
  auto loaded = pipeline::loadStableDiffusion(dir / "toy");
  EXPECT_EQ(loaded.nativeImageSize(), kImageSize);
  EXPECT_EQ(loaded.unet->bottleneckShape(16, 16), (std::vector<int64_t>{96, 8, 8}));
  EXPECT_EQ(maxDifference(*model.unet, *loaded.unet), 0.0);
  EXPECT_EQ(maxDifference(*model.textEncoder, *loaded.textEncoder), 0.0);
  EXPECT_EQ(maxDifference(*model.vae, *loaded.vae), 0.0);
  pipeline::TextToImagePipeline pipe(loaded);
  pipeline::GenerationRequest request;
  request.prompt = "a photo of a doctor";
  request.steps = 3;
  const auto result = pipe.generate(request);
  REQUIRE(result.rgb.size() == 1);
  EXPECT_EQ(result.rgb[0].width, kImageSize);
  // Saving again replaces the folder whole.
  saveModelFolder(model, configs, dir / "toy");
  EXPECT(!fs::exists(dir / "toy.tmp-old"));
}

RESPO_TEST(vae_training_is_deterministic_and_resumes_exactly) {
  const auto a = scratch("vae-a"), b = scratch("vae-b");
  auto configs = toyModelConfigs();
  auto whole = createToyModel(configs, tokenizer(), 5);
  REQUIRE(trainVae(whole, tinyOptions(a)));

  // The same run, stopped after two steps and continued by a fresh process-like trainer.
  auto first = createToyModel(configs, tokenizer(), 5);
  int calls = 0;
  EXPECT(!trainVae(first, tinyOptions(b), [&](const TrainingProgress& p) {
    EXPECT(std::isfinite(p.loss));
    return ++calls < 2;
  }));
  auto resumed = createToyModel(configs, tokenizer(), 5);
  REQUIRE(trainVae(resumed, tinyOptions(b)));
  EXPECT_EQ(maxDifference(*whole.vae, *resumed.vae), 0.0);
  EXPECT(maxDifference(*whole.vae, *createToyModel(configs, tokenizer(), 5).vae) > 0);
}

RESPO_TEST(denoiser_training_is_deterministic_and_resumes_exactly) {
  const auto a = scratch("den-a"), b = scratch("den-b");
  auto configs = toyModelConfigs();
  auto whole = createToyModel(configs, tokenizer(), 5);
  const auto data = encodeDataset(whole, tinyOptions(a));
  EXPECT_EQ(data.latentMean.sizes().vec(), (std::vector<int64_t>{8, 4, 16, 16}));
  EXPECT_EQ(data.tokenIds.size(1), 77);
  REQUIRE(trainDenoiser(whole, data, 0.5, tinyOptions(a)));

  auto first = createToyModel(configs, tokenizer(), 5);
  int calls = 0;
  EXPECT(!trainDenoiser(first, data, 0.5, tinyOptions(b), [&](const TrainingProgress&) { return ++calls < 3; }));
  auto resumed = createToyModel(configs, tokenizer(), 5);
  REQUIRE(trainDenoiser(resumed, data, 0.5, tinyOptions(b)));
  EXPECT_EQ(maxDifference(*whole.unet, *resumed.unet), 0.0);
  EXPECT_EQ(maxDifference(*whole.textEncoder, *resumed.textEncoder), 0.0);
}

RESPO_TEST(a_checkpoint_of_another_shape_is_refused) {
  const auto dir = scratch("foreign");
  io::saveTensors(dir / "vae-checkpoint.safetensors", {{"model.nothing", torch::zeros({2})}}, {{"step", "1"}});
  auto model = createToyModel(toyModelConfigs(), tokenizer(), 1);
  EXPECT_THROWS(trainVae(model, tinyOptions(dir)), FormatError, "checkpoint lacks");
}

RESPO_TEST(the_classifier_round_trips_through_its_file) {
  const auto dir = scratch("classifier");
  ClassifierTrainingOptions o;
  o.steps = 3;
  o.batch = 8;
  auto classifier = trainClassifier(o);
  saveClassifier(classifier, dir / "c.safetensors");
  auto loaded = loadClassifier(dir / "c.safetensors");
  std::mt19937_64 rng(1);
  std::vector<io::RgbImage> images;
  for (int i = 0; i < 4; ++i) images.push_back(render(drawBalancedAttributes(rng), rng()));
  const auto x = imagesToTensor(images);
  torch::NoGradGuard noGrad;
  EXPECT_EQ((classifier->forward(x).features - loaded->forward(x).features).abs().max().item<double>(), 0.0);
  io::saveTensors(dir / "other.safetensors", {{"x", torch::zeros({1})}});
  EXPECT_THROWS(loadClassifier(dir / "other.safetensors"), FormatError, "not a toy-world classifier");
  EXPECT_THROWS(classifier->forward(torch::zeros({1, 3, 32, 32})), InvalidArgument, "64, 64");
}
