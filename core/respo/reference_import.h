#pragma once
// Imports concept modules trained with the public RespoDiff reference implementation, whose
// checkpoints are torch.save files (a zip archive holding a pickle). The pickle is never executed:
// core/io/zip_reader.h reads the container and core/io/pickle_reader.h interprets only what
// torch.save writes for a dict of tensors; anything else is refused with a FormatError.
//
// The reference layout: `controlnet.fc1.weight` (RAM) and `controlnet_residual.fc2.weight` (SAM),
// each float32 [C*H*W, columns]; column i viewed as (C, H, W) is concept i's tensor.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace respo::concepts {

inline constexpr const char* kReferenceRamName = "controlnet.fc1.weight";
inline constexpr const char* kReferenceSamName = "controlnet_residual.fc2.weight";

struct ImportedConcept {
  std::string name;
  int column = 0;
  torch::Tensor ram;  // float32 [1, C, H, W]
  torch::Tensor sam;  // float32 [1, C, H, W]
};

// The reference index map: a woman 0, a man 1, young 2, 3, a black-race person 4, a Asian-race
// person 5, sexual 6, violence 7. Column 3 is "old" in the reference's age runs and "a white-race
// person" in its race runs; `ageNaming` picks "old" (and then leaves out "a white-race person").
std::vector<std::pair<std::string, int>> referenceColumns(bool ageNaming = false);

// Reads every tensor of a torch.save zip file whose pickle only rebuilds tensors (a dict or
// OrderedDict of tensors and parameters, as written by torch.save(state_dict)). Tensors come back as
// contiguous CPU tensors in their stored dtype; tensors that viewed one storage in the file share one
// copy of it here too. Throws IoError (cannot read) or FormatError (anything
// else: compressed or damaged archive, a pickle that could run code, a value that is not a tensor).
std::map<std::string, torch::Tensor> readTorchZipTensors(const std::filesystem::path& file);

// The reference RespoDiff layout: columns of controlnet.fc1.weight / controlnet_residual.fc2.weight.
// `columns` maps concept name -> column (empty: referenceColumns(false)); `hShape` = {C, H, W}, whose
// product must equal the row count (else FormatError). Floating-point weights are converted to float32.
// Throws InvalidArgument for a bad `columns` or `hShape` (duplicate or empty names, negative or
// out-of-range columns, a shape that is not three positive sizes).
std::vector<ImportedConcept> importReferenceCheckpoint(const std::filesystem::path& file,
                                                       const std::vector<std::pair<std::string, int>>& columns = {},
                                                       std::vector<int64_t> hShape = {1280, 8, 8});

}  // namespace respo::concepts
