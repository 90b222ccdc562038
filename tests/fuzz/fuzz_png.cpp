// PNG: signature, chunk lengths and CRCs, IHDR, the inflated image data and the text chunks
// (where the generation parameters live).
#include "core/io/image.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = respo::fuzz::writeScratch("input.png", respo::fuzz::view(data, size));
  RESPO_FUZZ_EXPECT_ERRORS({
    std::map<std::string, std::string> text;
    const auto image = respo::io::readPng(path, &text);
    if (image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) std::abort();
  });
  RESPO_FUZZ_EXPECT_ERRORS({ (void)respo::io::readPngText(path); });
  return 0;
}
