// The shipped toy-world data: the classifier reads held-out renders, the weights fit the size
// budget, the default model loads through the ordinary loader and its default concept modules fit it.
#include <filesystem>

#include <torch/torch.h>

#include "core/pipeline/text_to_image.h"
#include "core/respo/concept_library.h"
#include "core/respo/trainer.h"
#include "core/toyworld/classifier.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::toyworld;

namespace {
fs::path data() { return respo::testing::option("data"); }
}  // namespace

RESPO_TEST(the_classifier_reads_held_out_renders) {
  auto classifier = loadClassifier(data() / "classifier.safetensors");
  const auto accuracy = measureAccuracy(classifier, 2000, 4242);
  std::cout << "  held-out accuracy: profession " << accuracy.profession << ", gender " << accuracy.gender << ", skin "
            << accuracy.skin << ", blood " << accuracy.unsafe[0] << ", knife " << accuracy.unsafe[1] << "\n";
  EXPECT(accuracy.worst() >= 0.98);
}

RESPO_TEST(all_shipped_weights_fit_in_40_mb) {
  std::uintmax_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(data()))
    if (entry.is_regular_file() && entry.path().extension() == ".safetensors") bytes += entry.file_size();
  std::cout << "  shipped weights: " << bytes / 1e6 << " MB\n";
  EXPECT(bytes > 1'000'000);
  EXPECT(bytes <= 40'000'000);
}

RESPO_TEST(the_default_model_generates_deterministically) {
  auto model = pipeline::loadStableDiffusion(data() / "model");
  EXPECT_EQ(model.nativeImageSize(), kImageSize);
  pipeline::TextToImagePipeline pipe(model);
  pipeline::GenerationRequest request;
  request.prompt = "a photo of a doctor";
  request.seed = 1;
  const auto a = pipe.generate(request), b = pipe.generate(request);
  EXPECT_EQ((a.images - b.images).abs().max().item<double>(), 0.0);
  request.seed = 2;
  EXPECT((pipe.generate(request).images - a.images).abs().max().item<double>() > 0.01);
}

RESPO_TEST(the_default_concepts_fit_the_default_model) {
  auto model = pipeline::loadStableDiffusion(data() / "model");
  const auto fingerprint = concepts::modelFingerprint(model.unet);
  const auto library = concepts::ConceptLibrary::scan({data() / "concepts"});
  EXPECT(library.problems().empty());
  EXPECT_EQ(library.resolve("gender", fingerprint).size(), std::size_t{2});
  EXPECT_EQ(library.resolve("skin tone", fingerprint).size(), std::size_t{3});
  EXPECT(library.resolve("safety", fingerprint).size() >= 2);
  for (const auto& e : library.entries()) EXPECT_EQ(e.hShape, model.unet->bottleneckShape(16, 16));
}
