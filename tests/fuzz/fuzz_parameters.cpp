// The PNG "parameters" text (A1111 style) and the concept settings stored beside it. Whatever the
// reader accepts must survive a round trip through the writer.
#include "core/pipeline/generation_parameters.h"
#include "core/respo/concept_parameters.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(respo::fuzz::view(data, size));
  RESPO_FUZZ_EXPECT_ERRORS({
    std::map<std::string, std::string> extra;
    const auto request = respo::pipeline::parseParameters(text, &extra);
    RESPO_FUZZ_EXPECT_ERRORS((void)respo::concepts::parseConceptParameters(extra));
    // Written back and read again, the settings are the same.
    const auto again = respo::pipeline::parseParameters(respo::pipeline::formatParameters(request, "model"));
    if (again.prompt != request.prompt || again.negativePrompt != request.negativePrompt ||
        again.seed != request.seed || again.steps != request.steps || again.width != request.width ||
        again.height != request.height)
      std::abort();
  });
  return 0;
}
