// Prompt lists the training wizard imports: one prompt a line (.txt) or CSV. The first byte picks
// the format.
#include "core/respo/prompt_list.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(respo::fuzz::view(data + 1, size - 1));
  const auto format = (data[0] & 1) ? respo::concepts::PromptListFormat::Csv : respo::concepts::PromptListFormat::Lines;
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto prompts = respo::concepts::parsePromptList(text, format);
    if (prompts.size() > respo::concepts::kMaxPrompts) std::abort();
    for (const auto& p : prompts)
      if (p.empty() || p.size() > text.size()) std::abort();
  });
  return 0;
}
