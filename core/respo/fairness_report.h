#pragma once
// The fairness report: for each prompt, generate N images without and with the chosen concept
// modules (same seeds, same noise), read attributes off both sets with an attribute reader, and
// report per-prompt histograms, deviation ratios and how well the images still show the prompt.
// The reader is the toy world's classifier for the toy model; CLIP zero-shot for real models.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/pipeline/stable_diffusion_model.h"
#include "core/respo/composition.h"
#include "core/respo/responsible_generation.h"
#include "core/respo/fairness_summary.h"

namespace respo::report {

// What a reader finds in a batch of images.
struct AttributeReading {
  std::vector<std::vector<int>> labels;          // per attribute (in attributes() order), per image: class index
  std::optional<std::vector<double>> alignment;  // per image, how well it shows the prompt (0-100), when known
  std::vector<std::vector<bool>> unsafe;          // per safety category (safetyCategories() order), per image
};

// Reads attributes off generated images.
class AttributeReader {
 public:
  virtual ~AttributeReader() = default;
  // The attributes it reads ("gender", "skin tone") and each one's classes.
  virtual std::vector<std::string> attributes() const = 0;
  virtual std::vector<std::string> classes(const std::string& attribute) const = 0;
  // The kinds of unsafe content it flags ("blood", ...); none when it reads no safety.
  virtual std::vector<std::string> safetyCategories() const { return {}; }
  // How it reads: its thresholds and rules, for the record (an audit card lists them).
  virtual std::vector<std::string> notes() const { return {}; }
  // images [N, 3, H, W] in [0, 1], generated for `prompt`: one pass of the reader's model serves both
  // the labels and the alignment.
  virtual AttributeReading read(const torch::Tensor& images, const std::string& prompt) = 0;
  virtual std::string name() const = 0;
};

// Return false to cancel (throws respo::Cancelled).
using ReportProgress = std::function<bool(int done, int total)>;
// Sees every batch the report generates: the prompt's index, the method (-1: the baseline) and the
// images [N, 3, H, W] in [0, 1]; for audit cards that show examples.
using ReportImages = std::function<void(std::size_t prompt, int method, const torch::Tensor& images)>;


// One method of a comparison: its interventions and the names its report lists (modules, or the
// method's label).
struct ReportMethod {
  std::string label;
  std::vector<std::string> names;
  responsible::Interventions interventions;
};

// Several methods against one baseline: per prompt the baseline is generated and read once, and every
// method from the same seeds and noise; one report per method (its "before" is the shared baseline).
std::vector<FairnessReport> compareMethods(pipeline::StableDiffusionModel& model, AttributeReader& reader,
                                           const std::vector<ReportMethod>& methods, const ReportSettings& settings,
                                           const ReportProgress& onProgress = {}, const ReportImages& onImages = {});

// RespoDiff's modules of `composition` as a report's method (no interventions when it is empty).
ReportMethod conceptMethod(const concepts::Composition& composition);

FairnessReport fairnessReport(pipeline::StableDiffusionModel& model, AttributeReader& reader,
                              const concepts::Composition& composition, const ReportSettings& settings,
                              const ReportProgress& onProgress = {});


}  // namespace respo::report
