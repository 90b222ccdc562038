// A concept module's safetensors metadata (name, group, prompts, training record, shape). The input
// is "key\tvalue" lines.
#include "core/respo/concept_metadata.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  respo::io::Metadata metadata;
  std::string_view rest = respo::fuzz::view(data, size);
  while (!rest.empty()) {
    auto [line, after] = respo::fuzz::splitOnce(rest, "\n");
    auto [key, value] = respo::fuzz::splitOnce(line, "\t");
    metadata[std::string(key)] = std::string(value);
    if (after.data() == nullptr) break;
    rest = after;
  }
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto record = respo::concepts::parseConceptMetadata(metadata, "concept.safetensors");
    // What was accepted is written back unchanged and reads the same.
    const auto again = respo::concepts::parseConceptMetadata(respo::concepts::conceptMetadata(record), "again");
    if (again.settings.name != record.settings.name || again.hShape != record.hShape ||
        again.stepsDone != record.stepsDone || again.modelFingerprint != record.modelFingerprint)
      std::abort();
  });
  return 0;
}
