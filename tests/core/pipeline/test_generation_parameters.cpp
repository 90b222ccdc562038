// The PNG "parameters" text: written in the format other SD front ends read, and read back.
#include "core/common/error.h"
#include "core/io/image.h"
#include "core/pipeline/generation_parameters.h"
#include "core/respo/concept_parameters.h"
#include "tests/support/testing.h"

using namespace respo::pipeline;

RESPO_TEST(round_trip_keeps_every_setting) {
  GenerationRequest r;
  r.prompt = "a photo of a doctor, 4k";
  r.negativePrompt = "blurry, low quality";
  r.steps = 30;
  r.scheduler = "euler_a";
  r.guidanceScale = 6.5;
  r.seed = 1234567890123ull;
  r.width = 640;
  r.height = 512;
  r.batch = 2;
  r.clipSkip = 1;
  const auto text = formatParameters(r, "toy", {{"RespoDiff", "gender: balanced, ram 1.0"}});
  std::map<std::string, std::string> extra;
  const auto back = parseParameters(text, &extra);
  EXPECT_EQ(back.prompt, r.prompt);
  EXPECT_EQ(back.negativePrompt, r.negativePrompt);
  EXPECT_EQ(back.steps, 30);
  EXPECT_EQ(back.scheduler, std::string("euler_a"));
  EXPECT_EQ(back.guidanceScale, 6.5);
  EXPECT_EQ(back.seed, r.seed);
  EXPECT_EQ(back.width, 640);
  EXPECT_EQ(back.height, 512);
  EXPECT_EQ(back.batch, 2);
  EXPECT_EQ(back.clipSkip, 1);
  EXPECT_EQ(extra.at("Model"), std::string("toy"));
  EXPECT_EQ(extra.at("RespoDiff"), std::string("gender: balanced, ram 1.0"));
}

RESPO_TEST(reads_text_written_by_another_front_end) {
  const auto r = parseParameters(
      "masterpiece, a castle\nNegative prompt: ugly\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 5, "
      "Size: 512x768, Model hash: abc, Model: v1-5");
  EXPECT_EQ(r.prompt, std::string("masterpiece, a castle"));
  EXPECT_EQ(r.scheduler, std::string("dpmpp_2m"));
  EXPECT_EQ(r.height, 768);
  EXPECT_THROWS(parseParameters("just a prompt"), respo::FormatError, "no 'Steps:' line");
  EXPECT_THROWS(parseParameters("p\nSteps: many"), respo::FormatError, "'Steps' has an unreadable value");
}

RESPO_TEST(concept_settings_round_trip_through_the_parameters_text) {
  using namespace respo::concepts;
  ConceptParameters c;
  c.concepts = {{"a woman", 1.0, 1.0}, {"a dark-skinned person", 0.9, 1.2}, {"blood", 1.5, 0.0}};
  c.groups["gender"] = {FairnessPolicy::BalancedBatch, "", 1.0};
  c.groups["skin tone"] = {FairnessPolicy::Fixed, "a dark-skinned person", 0.6};
  GenerationRequest r;
  r.prompt = "a photo of a firefighter";
  const auto text = formatParameters(r, "toy", formatConceptParameters(c));
  EXPECT(text.find("RespoDiff: a woman [RAM 100% SAM 100%]; a dark-skinned person [RAM 90% SAM 120%]; "
                   "blood [RAM 150% SAM 0%]") != std::string::npos);
  std::map<std::string, std::string> extra;
  parseParameters(text, &extra);
  const auto back = parseConceptParameters(extra);
  EXPECT_EQ(back.concepts.size(), std::size_t{3});
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.concepts[i].name, c.concepts[i].name);
    EXPECT_NEAR(back.concepts[i].ramStrength, c.concepts[i].ramStrength, 1e-12);
    EXPECT_NEAR(back.concepts[i].samStrength, c.concepts[i].samStrength, 1e-12);
  }
  EXPECT_EQ(back.groups.size(), std::size_t{2});
  EXPECT(back.groups.at("gender").policy == FairnessPolicy::BalancedBatch);
  EXPECT(back.groups.at("skin tone").policy == FairnessPolicy::Fixed);
  EXPECT_EQ(back.groups.at("skin tone").fixedMember, std::string("a dark-skinned person"));
  EXPECT_NEAR(back.groups.at("skin tone").weight, 0.6, 1e-12);
  // No concept: no entries, and nothing read back.
  EXPECT(formatConceptParameters({}).empty());
  EXPECT(parseConceptParameters({{"Model", "toy"}}).empty());
}

RESPO_TEST(unreadable_concept_settings_are_reported) {
  using respo::concepts::parseConceptParameters;
  EXPECT_THROWS(parseConceptParameters({{"RespoDiff", "a woman"}}), respo::FormatError, "name [RAM n% SAM n%]");
  EXPECT_THROWS(parseConceptParameters({{"RespoDiff", "a woman [RAM lots SAM 100%]"}}), respo::FormatError, "strength 'lots'");
  EXPECT_THROWS(parseConceptParameters({{"RespoDiff groups", "gender=sometimes"}}), respo::FormatError, "unknown fairness policy");
  EXPECT_THROWS(parseConceptParameters({{"RespoDiff groups", "gender=fixed"}}), respo::FormatError, "names its member");
  EXPECT_THROWS(parseConceptParameters({{"RespoDiff groups", "gender"}}), respo::FormatError, "group=policy");
}

RESPO_TEST(png_keeps_pixels_and_text) {
  respo::io::RgbImage image{3, 2, {255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9}};
  const auto path = std::filesystem::temp_directory_path() / "respodiff-png-test.png";
  respo::io::writePng(path, image, {{"parameters", "a photo\nSteps: 1"}, {"unicode", "café ✓"}});
  std::map<std::string, std::string> text;
  const auto back = respo::io::readPng(path, &text);
  EXPECT_EQ(back.width, 3);
  EXPECT(back.pixels == image.pixels);
  EXPECT_EQ(text.at("parameters"), std::string("a photo\nSteps: 1"));
  EXPECT_EQ(text.at("unicode"), std::string("café ✓"));
  EXPECT_THROWS(respo::io::readPng(std::filesystem::temp_directory_path()), respo::IoError, "cannot");
}
