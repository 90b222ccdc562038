#pragma once
// A RespoDiff concept module: two learned tensors of the UNet bottleneck's shape, RAM (the
// responsible-concept module) and SAM (the semantic module), added to h on the conditional
// branch of classifier-free guidance (paper §3; method.md). Stored as one .safetensors file with
// tensors `ram` and `sam` and every training setting in the header's metadata.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/io/safetensors.h"
#include "core/respo/concept_metadata.h"
#include "core/respo/concept_settings.h"
#include "core/respo/selection.h"

namespace respo::concepts {

struct ConceptModule {
  ConceptSettings settings;
  torch::Tensor ram, sam;  // [1, C, H, W] float32
  int stepsDone = 0;
  double lastResponsibleLoss = 0, lastSemanticLoss = 0;
  std::string modelFingerprint;  // of the UNet the module was trained on
  std::string moduleType = "constant";
  std::string fileHash;  // SHA-256 of the file it was loaded from (empty for a module not yet saved)

  ModuleIdentity identity() const { return {settings.name, modelFingerprint, fileHash}; }

  std::vector<int64_t> hShape() const { return {ram.size(1), ram.size(2), ram.size(3)}; }
  ConceptRecord record() const;  // everything but the tensors
};

// Written atomically. Throws InvalidArgument when ram/sam are missing or differ in shape.
// `extra` tensors ride along (the trainer's optimiser and RNG state in a checkpoint).
void saveConcept(const std::filesystem::path& path, const ConceptModule& module,
                 const std::map<std::string, torch::Tensor>& extra = {});
// Throws FormatError naming the file for a foreign or damaged file: metadata that does not read
// strictly, tensors of another shape or type than [1, C, H, W] float32, non-finite values.
ConceptModule loadConcept(const std::filesystem::path& path);

}  // namespace respo::concepts
