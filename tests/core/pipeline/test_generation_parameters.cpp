// The PNG "parameters" text: written in the format other SD front ends read, and read back.
#include "core/common/error.h"
#include "core/io/image.h"
#include "core/pipeline/generation_parameters.h"
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
