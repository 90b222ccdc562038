// VAE tiling (GenerationRequest::vaeTiling) on the embedded toy-world model: an image larger than a
// tile decodes in tiles, close to the whole decode and not equal to it; one that fits in a tile is
// unchanged; the setting is recorded and read back, bad values are refused; the memory estimate
// counts one tile for the decoder. (Parity with diffusers' tiled_decode: test_model_parity.)
#include <iostream>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/text_to_image.h"
#include "tests/support/option_model.h"
#include "tests/support/testing.h"

using namespace respo;
using namespace respo::pipeline;

namespace {

StableDiffusionModel& toy() { return respo::testing::optionModel(); }

GenerationRequest request(int side, bool tiled) {
  GenerationRequest r;
  r.prompt = "a photo of a chef";
  r.steps = 4;
  r.seed = 5;
  r.scheduler = "ddim";
  r.width = r.height = side;
  r.vaeTiling = tiled;
  return r;
}

}  // namespace

RESPO_TEST(a_large_image_decodes_in_tiles_close_to_the_whole_decode) {
  TextToImagePipeline pipe(toy());
  const int tile = toy().vae->config().sampleSize;
  const int side = tile * 3 / 2 + toy().vaeScaleFactor() * 2;  // tiles with a thin edge tile
  const auto whole = pipe.generate(request(side, false)).images;
  const auto tiled = pipe.generate(request(side, true)).images;
  REQUIRE(whole.sizes() == tiled.sizes());
  EXPECT_EQ(tiled.size(2), side);
  const double mean = (whole - tiled).abs().mean().item<double>();
  std::cout << "tiled against whole decode at " << side << "x" << side << ": mean difference " << mean
            << ", largest " << (whole - tiled).abs().max().item<double>() << "\n";
  EXPECT(mean > 1e-4);  // the tiles see less context than the whole
  EXPECT(mean < 0.05);  // and the blend hides the seams
  // An image that fits in one tile is decoded whole.
  EXPECT(torch::equal(pipe.generate(request(tile, true)).images, pipe.generate(request(tile, false)).images));
}

RESPO_TEST(the_setting_is_recorded_read_back_and_checked) {
  const auto on = formatParameters(request(96, true), "toy");
  EXPECT(on.find("VAE tiling: on") != std::string::npos);
  EXPECT(parseParameters(on).vaeTiling);
  const auto off = formatParameters(request(96, false), "toy");
  EXPECT(off.find("VAE tiling") == std::string::npos);
  EXPECT(!parseParameters(off).vaeTiling);
  EXPECT_THROWS(parseParameters("x\nSteps: 4, Seed: 1, VAE tiling: maybe"), FormatError, "VAE tiling");
}

RESPO_TEST(the_memory_estimate_counts_one_tile_for_the_decoder) {
  const auto whole = estimatePeakBytes(4096, 4096, 1, 128, 320, 8, 4);
  const auto tiled = estimatePeakBytes(4096, 4096, 1, 128, 320, 8, 4, 512);
  std::cout << "4096x4096 working memory: " << (whole >> 20) << " MiB whole, " << (tiled >> 20) << " MiB tiled\n";
  EXPECT(tiled * 4 < whole);
  EXPECT_EQ(estimatePeakBytes(256, 256, 1, 128, 320, 8, 4, 512), estimatePeakBytes(256, 256, 1, 128, 320, 8, 4));
}
