// The PNG "parameters" text (A1111 style) and the concept settings stored beside it. Whatever the
// reader accepts must survive a round trip through the writer.
#include "core/pipeline/generation_parameters.h"
#include "core/respo/selection.h"
#include "core/respo/side_methods.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(respo::fuzz::view(data, size));
  RESPO_FUZZ_EXPECT_ERRORS({
    std::map<std::string, std::string> extra;
    const auto request = respo::pipeline::parseParameters(text, &extra);
    RESPO_FUZZ_EXPECT_ERRORS({
      const auto selection = respo::concepts::Selection::fromParameters(extra);
      // A selection that reads back writes itself again and reads back the same modules.
      const auto again = respo::concepts::Selection::fromParameters(selection.toParameters());
      if (again.modules.size() != selection.modules.size()) std::abort();
      for (std::size_t i = 0; i < again.modules.size(); ++i)
        if (again.modules[i].id.name != selection.modules[i].id.name ||
            (selection.modules[i].id.hasHash() && again.modules[i].id.fileHash != selection.modules[i].id.fileHash.substr(0, 10)))
          std::abort();
      // Group options (policies, weights, target shares) read back the same (they are written with
      // the modules they govern, so only when there are modules).
      if (!selection.modules.empty())
        for (const auto& [name, options] : selection.groups)
          if (!again.groups.count(name) || !(again.groups.at(name) == options)) std::abort();
    });
    // The methods of both sides of a comparison (SLD, a concept edit, the text baselines).
    for (const char* prefix : {"", "Baseline "}) {
      RESPO_FUZZ_EXPECT_ERRORS({
        const auto side = respo::responsible::sideFromParameters(extra, prefix);
        if (side.sld) {
          // SLD settings that read back write themselves again, and so does their spec.
          if (!(respo::pipeline::SafeLatentGuidance::fromParameters(side.sld->toParameters()) == *side.sld)) std::abort();
          if (!(respo::pipeline::SafeLatentGuidance::parse(side.sld->spec()) == *side.sld)) std::abort();
        }
      });
    }
    // Written back and read again, the settings are the same.
    const auto again = respo::pipeline::parseParameters(respo::pipeline::formatParameters(request, "model"));
    if (again.prompt != request.prompt || again.negativePrompt != request.negativePrompt ||
        again.seed != request.seed || again.steps != request.steps || again.width != request.width ||
        again.height != request.height)
      std::abort();
  });
  return 0;
}
