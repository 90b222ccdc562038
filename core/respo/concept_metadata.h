#pragma once
// What a concept module file says about itself, in its safetensors header's metadata: the training
// settings, how far training got, and the model it belongs to. Plain values without LibTorch, so
// the library, the app and the fuzz tests read it without tensor headers. Every field is read
// strictly (numbers in range, text valid UTF-8); a file that does not hold up is a FormatError that
// names it and the field.
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "core/respo/concept_settings.h"

namespace respo::concepts {

struct ConceptRecord {
  ConceptSettings settings;
  int stepsDone = 0;
  double lastResponsibleLoss = 0, lastSemanticLoss = 0;
  std::string modelFingerprint;  // of the UNet the module was trained on
  std::string moduleType = "constant";
  std::vector<std::int64_t> hShape;  // C, H, W as recorded
};

io::Metadata conceptMetadata(const ConceptRecord& record);
// Throws FormatError naming `where` for a file that is not a concept module or whose metadata is
// damaged, and for settings that validate() refuses.
ConceptRecord parseConceptMetadata(const io::Metadata& metadata, const std::string& where);

// The largest bottleneck a module may have: SDXL at 2048 px is 1280 x 64 x 64.
inline constexpr std::int64_t kMaxConceptChannels = 8192;
inline constexpr std::int64_t kMaxConceptSide = 512;
// Throws FormatError naming `where` unless shape is [1, C, H, W] with C, H, W in range.
void checkConceptShape(const std::vector<std::int64_t>& shape, const std::string& where, const char* tensor);

}  // namespace respo::concepts
