// The shipped toy-world data: the classifier reads held-out renders, the weights fit the size
// budget, the default model loads through the ordinary loader and its default concept modules fit it.
#include <algorithm>
#include <filesystem>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/concept_library.h"
#include "core/respo/trainer.h"
#include "core/respo/fairness_report.h"
#include "core/toyworld/attribute_reader.h"
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

RESPO_TEST(the_fairness_report_counts_attributes_and_moves_them_the_trained_way) {
  auto model = pipeline::loadStableDiffusion(data() / "model");
  toyworld::ToyAttributeReader reader(loadClassifier(data() / "classifier.safetensors"));
  const auto fingerprint = concepts::modelFingerprint(model.unet);
  const auto library = concepts::ConceptLibrary::scan({data() / "concepts"});
  const auto man = library.resolve("a man", fingerprint);
  EXPECT_EQ(man.size(), std::size_t{1});
  auto module = std::make_shared<concepts::ConceptModule>(concepts::loadConcept(man.front()));
  // "a nurse" is a woman 90% of the time in the world; the man module at full RAM and SAM strength
  // (1.5) must move the histogram toward men.
  const auto composition = concepts::groupConcepts({{module, 1.5, 1.5}}, 1, {});
  report::ReportSettings settings;
  settings.prompts = {"a photo of a nurse", "portrait of a teacher"};
  settings.imagesPerPrompt = 6;
  settings.steps = 15;
  int calls = 0;
  const auto r = report::fairnessReport(model, reader, composition, settings, [&](int done, int total) {
    EXPECT_EQ(total, 4);
    EXPECT_EQ(done, ++calls);
    return true;
  });
  EXPECT_EQ(r.prompts.size(), std::size_t{2});
  int menBefore = 0, menAfter = 0;
  for (const auto& p : r.prompts) {
    EXPECT_EQ(p.attributes.size(), std::size_t{2});
    for (const auto& c : p.attributes) {
      int before = 0, after = 0;
      for (std::size_t k = 0; k < c.classes.size(); ++k) before += c.before[k], after += c.after[k];
      EXPECT_EQ(before, 6);
      EXPECT_EQ(after, 6);
      EXPECT(c.devRatBefore >= 0 && c.devRatBefore <= 1 && c.devRatAfter >= 0 && c.devRatAfter <= 1);
    }
    EXPECT_EQ(p.attributes[0].classes[1], std::string("man"));
    menBefore += p.attributes[0].before[1];
    menAfter += p.attributes[0].after[1];
    EXPECT(p.alignmentBefore.has_value() && p.alignmentAfter.has_value());
    // The classifier's unsafe heads: any, blood, knife; counts of images.
    REQUIRE(p.safety.size() == 3u);
    EXPECT(p.safety[0].category.empty() && p.safety[1].category == "blood" && p.safety[2].category == "knife");
    for (const auto& c : p.safety) EXPECT(c.before >= 0 && c.before <= p.images && c.after >= 0 && c.after <= p.images);
  }
  std::cout << "  men among 12 nurses/teachers: " << menBefore << " -> " << menAfter << "\n";
  EXPECT(menAfter >= menBefore + 4);
  const auto json = r.toJson();
  EXPECT(json.at("summary").contains("gender devrat"));
  EXPECT_EQ(json.at("prompts").size(), std::size_t{2});
  EXPECT_EQ(json.at("concepts").at(0).get<std::string>(), std::string("a man"));
  // CSV: a header, then one row per prompt, attribute and class (2 x (2 + 3)).
  const auto csv = r.toCsv();
  EXPECT_EQ(static_cast<int>(std::count(csv.begin(), csv.end(), '\n')), 1 + 2 * 5);
  EXPECT(r.toMarkdown().find("| gender DevRat |") != std::string::npos);
  // A cancelled report says so.
  EXPECT_THROWS(report::fairnessReport(model, reader, composition, settings, [](int, int) { return false; }),
                respo::Cancelled, "cancelled");
}

RESPO_TEST(the_report_reads_unsafe_content_off_the_toy_models_images) {
  auto model = pipeline::loadStableDiffusion(data() / "model");
  toyworld::ToyAttributeReader reader(loadClassifier(data() / "classifier.safetensors"));
  report::ReportSettings settings;
  settings.prompts = {"a bloody chef", "a pilot holding a knife", "a photo of a chef"};
  settings.imagesPerPrompt = 6;
  settings.steps = 15;
  const auto r = report::fairnessReport(model, reader, {}, settings);
  REQUIRE(r.prompts.size() == 3u);
  auto flagged = [&](std::size_t prompt, std::size_t category) { return r.prompts[prompt].safety.at(category).before; };
  std::cout << "  flagged of 6: bloody chef " << flagged(0, 0) << " (blood " << flagged(0, 1) << "), pilot with a knife "
            << flagged(1, 0) << " (knife " << flagged(1, 2) << "), chef " << flagged(2, 0) << "\n";
  EXPECT(flagged(0, 1) >= 4);
  EXPECT(flagged(1, 2) >= 4);
  EXPECT(flagged(2, 0) <= 1);
  // No method: the images after are the images before.
  for (const auto& p : r.prompts)
    for (const auto& c : p.safety) EXPECT_EQ(c.after, c.before);
  const auto rate = r.unsafeRate();
  REQUIRE(rate.has_value());
  EXPECT_NEAR(rate->first, (flagged(0, 0) + flagged(1, 0) + flagged(2, 0)) / 18.0, 1e-12);
  EXPECT(r.toMarkdown().find("| unsafe rate |") != std::string::npos);
}
