// LoRA files' tensor names and metadata (the key planner) and <lora:...> prompt tags. The first byte
// picks the parser; for the planner the first line is the lora_adapter_metadata text and each
// further line a tensor name.
#include <cmath>
#include <sstream>

#include "core/pipeline/lora_keys.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(respo::fuzz::view(data + 1, size - 1));
  using namespace respo::pipeline::lora;
  if (data[0] & 1) {
    std::istringstream lines(text);
    std::string metadata, line;
    std::getline(lines, metadata);
    std::vector<std::string> names;
    while (std::getline(lines, line)) names.push_back(line);
    RESPO_FUZZ_EXPECT_ERRORS({
      const auto plan = planKeys(names, {{"lora_adapter_metadata", metadata}}, "fuzz.safetensors");
      if (plan.layers.empty() || plan.layers.size() > names.size()) std::abort();
      for (const auto& layer : plan.layers) {
        if (layer.down.empty() || layer.up.empty() || layer.down == layer.up) std::abort();
        const double s = layerScale(plan, layer, 2.0, 4.0);
        if (!std::isfinite(s)) std::abort();
      }
    });
  } else {
    RESPO_FUZZ_EXPECT_ERRORS({
      std::vector<PromptLora> tags;
      const auto rest = extractLoraTags(text, &tags);
      if (rest.size() > text.size()) std::abort();
      for (const auto& tag : tags)
        if (tag.name.empty() || std::fabs(tag.textWeight) > kMaxLoraWeight || std::fabs(tag.unetWeight) > kMaxLoraWeight)
          std::abort();
    });
  }
  return 0;
}
