// Pillow's GaussianBlur reproduced to the byte (core/io/gaussian_blur.h) against Pillow itself
// (tests/reference/blur_reference.py): noise of odd size, an inpainting mask, a row narrower than the box.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/io/gaussian_blur.h"
#include "core/io/safetensors.h"
#include "tests/support/testing.h"

using namespace respo;

namespace {

io::RgbImage imageOf(const io::SafetensorsFile& file, const std::string& name) {
  const auto& info = file.tensor(name);
  io::RgbImage image;
  image.height = static_cast<int>(info.shape.at(0));
  image.width = static_cast<int>(info.shape.at(1));
  const auto bytes = file.bytes(info);
  image.pixels.assign(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                      reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size());
  return image;
}

}  // namespace

RESPO_TEST(every_byte_matches_pillow) {
  const std::filesystem::path dir = respo::testing::option("dir");
  std::ifstream in(dir / "blur.json");
  const auto spec = nlohmann::json::parse(in);
  const auto file = io::SafetensorsFile::open(dir / "blur.safetensors");
  const auto radii = spec.at("radii").get<std::vector<double>>();
  int compared = 0;
  for (int i = 0; i < spec.at("pictures").get<int>(); ++i) {
    const auto image = imageOf(file, "image." + std::to_string(i));
    for (std::size_t j = 0; j < radii.size(); ++j) {
      const auto expected = imageOf(file, "blur." + std::to_string(i) + "." + std::to_string(j));
      const auto ours = io::gaussianBlurLikePillow(image, radii[j]);
      int differing = 0;
      for (std::size_t k = 0; k < ours.pixels.size(); ++k) differing += ours.pixels[k] != expected.pixels[k];
      if (differing) std::printf("picture %d radius %g: %d bytes differ\n", i, radii[j], differing);
      EXPECT_EQ(differing, 0);
      ++compared;
    }
  }
  EXPECT(compared >= 21);
}

RESPO_TEST(radius_zero_is_the_picture_and_bad_radii_are_refused) {
  io::RgbImage image{2, 1, {1, 2, 3, 4, 5, 6}};
  EXPECT(io::gaussianBlurLikePillow(image, 0).pixels == image.pixels);
  EXPECT_THROWS(io::gaussianBlurLikePillow(image, -1), InvalidArgument, "blur radius");
  EXPECT_THROWS(io::gaussianBlurLikePillow(image, 1e9), InvalidArgument, "blur radius");
}
